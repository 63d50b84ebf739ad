#!/usr/bin/env bash
# End-to-end test of oak-root with the whole fleet: a root mosquitto broker
# and one broker per cluster (all on the test underlay), oak-root, two
# oak-clusters (A with nodes n1 and n4, B with nodes n2 and n3) and four
# oak-node agents in node namespaces. Everything is driven through oak-root's REST
# API (Python urllib inside the switch namespace), with an SLA shaped like
# Oakestra's examples/curl.json: a "curl" client and an "nginx" server whose
# addresses ask for the round-robin IP 10.30.30.30 and port 6080:60/tcp
# (native runtime here: the server is tests/e2e/peer.py). Needs root.
#
#  - both clusters register; nginx placed in B, curl (direct: A) in A; time
#    to RUNNING from the REST call
#  - curl in A reaches nginx in B through the Service IP (A asks the root)
#  - scale up and down with a replica count; PUT with a new command replaces
#    the instance one at a time, the Service IP stays and answers the new one
#  - cluster B is killed whole (oak-cluster, its agents, their instances,
#    its broker): its instances RUNNING in A (time printed)
#  - an instance that goes DEAD on its node is placed again (time printed)
#  - SIGKILL of oak-root: no duplicate deploy after the restart; a replica
#    count acknowledged just before a SIGKILL is not lost
#  - delete: every instance undeployed
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
TAG=${TAG:-okr$$}
source "$HERE/topo.sh"
source "$HERE/bus.sh"
PEER=$HERE/peer.py
WORK=/tmp/$TAG
RB=192.168.100.254 # root broker, oak-root
BA=192.168.100.251 # cluster A's broker
BB=192.168.100.252 # cluster B's broker
CA=$TAG-ca
CB=$TAG-cb
PW=oak-e2e-admin-pw
RR=10.30.30.30
declare -A AGENT
declare -A PIDS

# Run under flock(1): the processes started here must not keep the e2e lock
# if one outlives the test, so the lock's descriptor is closed here (flock
# itself holds the lock until this script ends).
for fd in /proc/$$/fd/*; do
	[ "$(readlink "$fd")" = /tmp/oak-e2e.lock ] && eval "exec ${fd##*/}>&-"
done

rt_cleanup() {
	local p d
	for p in "${PIDS[@]}"; do [ -n "$p" ] && kill "$p" 2>/dev/null; done
	agents_stop
	for p in "${PIDS[@]}"; do [ -n "$p" ] && wait "$p" 2>/dev/null; done
	# whatever still runs in this test's namespaces (instances of killed agents)
	for d in $(ip netns list | awk '{print $1}' | grep "^$TAG-" || true); do
		p=$(ip netns pids "$d" 2>/dev/null | tr '\n' ' ')
		[ -n "$p" ] && kill -9 $p 2>/dev/null
	done
	topo_cleanup
	oak_cgroups_remove
	pins_and_work_cleanup
}
trap rt_cleanup EXIT
trap 'exit 130' INT TERM
mkdir -p "$WORK"

sw() { nsx "$TAG-sw" "$@"; }

# --- the REST client (urllib), run inside the switch namespace
cat >"$WORK/api.py" <<'EOP'
import json, sys, time, urllib.request, urllib.error
BASE = "http://127.0.0.1:10000"
TOK = "/tmp/%s/token" % sys.argv[1]

def call(method, path, body=None, auth=True):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(BASE + path, data=data, method=method)
    req.add_header("Content-Type", "application/json")
    if auth:
        req.add_header("Authorization", "Bearer " + open(TOK).read().strip())
    try:
        with urllib.request.urlopen(req, timeout=10) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")

cmd, args = sys.argv[2], sys.argv[3:]
if cmd == "login":
    code, d = call("POST", "/api/auth/login", {"username": "Admin", "password": args[0]}, False)
    open(TOK, "w").write(d["token"])
    sys.exit(0 if code == 200 else 1)
if cmd in ("get", "delete", "post", "put"):
    body = json.loads(args[1]) if len(args) > 1 else None
    code, d = call(cmd.upper(), args[0], body)
    print(json.dumps(d))
    sys.exit(0 if 200 <= code < 300 else 1)
if cmd == "wait":  # SID EXPR TIMEOUT: until EXPR over d (doc), L (instance_list) holds
    sid, expr, t = args[0], args[1], float(args[2])
    t0 = time.time()
    while True:
        code, d = call("GET", "/api/service/" + sid)
        L = d.get("instance_list", []) if code == 200 else []
        if code == 200 and eval(expr, {"d": d, "L": L}):
            print("%.2f" % (time.time() - t0))
            sys.exit(0)
        if time.time() - t0 > t:
            print("timeout; last: " + json.dumps([(e.get("instance_number"), e.get("status"),
                  e.get("cluster_id"), e.get("status_detail")) for e in L]))
            sys.exit(1)
        time.sleep(0.1)
if cmd == "clusters_active":  # N TIMEOUT
    t0 = time.time()
    while time.time() - t0 < float(args[1]):
        code, d = call("GET", "/api/clusters/active")
        if code == 200 and len(d) >= int(args[0]):
            sys.exit(0)
        time.sleep(0.2)
    sys.exit(1)
sys.exit(2)
EOP
api() { sw /usr/bin/python3 "$WORK/api.py" "$TAG" "$@"; }
# jq-like: print a python expression over d (the JSON on stdin)
jx() { /usr/bin/python3 -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
svc() { api get "/api/service/$1"; }

# --- hosts and brokers
topo_switch
topo_node 1
topo_node 2
topo_node 3
topo_node 4
for a in $RB $BA $BB; do ip -n "$TAG-sw" addr add "$a/24" dev br0; done
broker() { # NAME ADDR
	mqtt_conf "$WORK/$1.conf" "$2"
	nsenter --net="/run/netns/$TAG-sw" mosquitto -c "$WORK/$1.conf" >"$WORK/$1-mosquitto.log" 2>&1 &
	PIDS[$1]=$!
	ns_wait_tcp "$TAG-sw" "$2" 1883
}
broker broot $RB
broker ba $BA
broker bb $BB
# recorders: what crosses the root broker (with time stamps) and what the
# clusters send their nodes
nsenter --net="/run/netns/$TAG-sw" mosquitto_sub -h $RB -F '%U %t %p' -t 'clusters/#' >"$WORK/root-bus.log" 2>&1 &
PIDS[rsub]=$!
nsenter --net="/run/netns/$TAG-sw" mosquitto_sub -h $BA -v -t 'nodes/+/control/#' >"$WORK/a-bus.log" 2>&1 &
PIDS[asub]=$!
nsenter --net="/run/netns/$TAG-sw" mosquitto_sub -h $BB -v -t 'nodes/+/control/#' >"$WORK/b-bus.log" 2>&1 &
PIDS[bsub]=$!

start_root() {
	nsenter --net="/run/netns/$TAG-sw" "$OAK_BIN/oak-root" --state_dir "$WORK/root" --root_broker_host $RB \
		--http_addr 127.0.0.1 --http_port 10000 --log_level debug >>"$WORK/root.log" 2>&1 &
	PIDS[root]=$!
	ns_wait_tcp "$TAG-sw" 127.0.0.1 10000 100
}
start_cluster() { # ID NAME BROKER LAT LON
	nsenter --net="/run/netns/$TAG-sw" "$OAK_BIN/oak-cluster" --cluster_id "$1" --cluster_name "$2" --broker_host "$3" \
		--root_broker_host $RB --root_broker_port 1883 --heartbeat_addr "$3" \
		--latitude "$4" --longitude "$5" --location_set --report_interval 1 \
		--state_dir "$WORK/$1" --log_level debug >>"$WORK/cluster-$2.log" 2>&1 &
	PIDS[$2]=$!
}
start_agent() { # N BROKER
	nsenter --net="/run/netns/$TAG-n$1" "$OAK_BIN/oak-node" --node_id "$TAG-n$1" --broker_host "$2" \
		--node_ip "$(node_ip "$1")" --uplink up0 --uplink_mode tc --state_dir "$WORK/n$1" \
		--interest_idle 60 --restart_backoff_ms 200 --log_level debug >>"$WORK/agent$1.log" 2>&1 &
	AGENT[$1]=$!
}

"$OAK_BIN/oak-root" --state_dir "$WORK/root" --init-admin --admin-password "$PW" >/dev/null
start_root
check "oak-root answers its REST API" api login "$PW"
start_cluster "$CB" cb $BB 52.52 13.40
start_agent 2 $BB
start_agent 3 $BB
check "cluster B registers and is active (GET /api/clusters/active)" api clusters_active 1 20

# --- the SLA (shape of Oakestra's examples/curl.json), plus a crashing service
cat >"$WORK/sla.json" <<EOS
{"sla_version": "v2.0", "customerID": "Admin", "applications": [{
  "applicationID": "", "application_name": "clientserver", "application_namespace": "test",
  "application_desc": "a curl client and a server",
  "microservices": [
    {"microserviceID": "", "microservice_name": "curl", "microservice_namespace": "test",
     "virtualization": "native", "code": "sleep", "cmd": ["sleep", "100000"],
     "memory": 50, "vcpus": 0.1, "vgpus": 0, "vtpus": 0, "bandwidth_in": 0, "bandwidth_out": 0,
     "storage": 0, "port": "", "state": "", "added_files": [],
     "constraints": [{"type": "direct", "cluster": "ca"}]},
    {"microserviceID": "", "microservice_name": "nginx", "microservice_namespace": "test",
     "virtualization": "native", "code": "python3",
     "cmd": ["sh", "-c", "exec python3 $PEER serve v1@\$(hostname -I | cut -d' ' -f1)"],
     "memory": 50, "vcpus": 0.1, "vgpus": 0, "vtpus": 0, "bandwidth_in": 0, "bandwidth_out": 0,
     "storage": 0, "port": "6080:60/tcp", "state": "", "added_files": [],
     "addresses": {"rr_ip": "$RR"}},
    {"microserviceID": "", "microservice_name": "crash", "microservice_namespace": "test",
     "virtualization": "native", "code": "sh",
     "cmd": ["sh", "-c", "n=\$(cat $WORK/crash.count 2>/dev/null || echo 0); echo \$((n + 1)) >$WORK/crash.count; [ \$n -ge 4 ] && exec sleep 100000; exit 1"],
     "memory": 10, "vcpus": 0.05}
  ]}]}
EOS
apps=$(api post /api/application/ "$(cat "$WORK/sla.json")")
check "POST /api/application/ registers clientserver with 3 services" \
	test "$(jx 'len(d[0]["microservices"])' <<<"$apps" 2>/dev/null)" = 3
APP=$(jx 'd[0]["applicationID"]' <<<"$apps")
sid_of() { api get "/api/services/$APP" | jx "[s['microserviceID'] for s in d if s['microservice_name'] == '$1'][0]"; }
CURL=$(sid_of curl)
NGINX=$(sid_of nginx)
CRASH=$(sid_of crash)
echo "   services: curl $CURL, nginx $NGINX, crash $CRASH"
check "registering deploys nothing (no instance, no deploy)" \
	test "$(svc "$NGINX" | jx 'len(d["instance_list"])')" = 0 -a "$(grep -c ' clusters/[^ ]*/control/deploy ' "$WORK/root-bus.log")" = 0

# --- deploy: nginx in B (the only cluster yet)
api post "/api/service/$NGINX/instance" '{"replicas": 1}' >/dev/null
t_run=$(api wait "$NGINX" "len(L) == 1 and L[0]['status'] == 'RUNNING'" 30)
check "nginx.0 RUNNING in cluster B, ${t_run} s after the REST call" \
	bash -c "[ '$(svc "$NGINX" | jx 'L[0]["cluster_id"] if (L := d["instance_list"]) else ""')' = '$CB' ]"
echo "TIME_TO_RUNNING_S=$t_run"
check "statuses went REQUESTED/CLUSTER_SCHEDULED -> CREATING -> RUNNING (root log)" \
	bash -c "grep -q 'deploy clientserver.test.nginx.test.0 .* to cluster $CB' $WORK/root.log && grep -q 'nginx.test.0 in cluster $CB: RUNNING' $WORK/root.log"
check "cluster B reported NODE_SCHEDULED (with the node) before the node's RUNNING" \
	bash -c "grep ' clusters/$CB/jobs/state .*nginx.test' $WORK/root-bus.log | grep -o '\"state\":\"[A-Z_]*\"' | uniq | head -2 | tr -d '\n' | grep -q 'NODE_SCHEDULED.*\(CREATING\|RUNNING\)'"
NIP0=$(svc "$NGINX" | jx 'd["instance_list"][0]["instance_ip"]')
check "nginx.0 has an Instance IP from 10.30.0.0/16 ($NIP0), rr_ip $RR" \
	bash -c "[[ '$NIP0' == 10.30.* ]] && [ '$(svc "$NGINX" | jx 'd["rr_ip"]')' = '$RR' ]"

# --- cluster A, and curl in it (direct constraint)
start_cluster "$CA" ca $BA 48.14 11.58
start_agent 1 $BA
start_agent 4 $BA
check "cluster A registers too" api clusters_active 2 20
api post "/api/service/$CURL/instance" '{"replicas": 1}' >/dev/null
t_curl=$(api wait "$CURL" "len(L) == 1 and L[0]['status'] == 'RUNNING'" 30)
check "curl.0 RUNNING in cluster A (direct) ($t_curl s)" \
	test "$(svc "$CURL" | jx 'd["instance_list"][0]["cluster_id"]')" = "$CA"
rec() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$WORK/n$1/instances/$2.json" "$3"; }
CLI_N=$(svc "$CURL" | jx 'd["instance_list"][0]["worker_id"]')
CLI_NS=$(rec "${CLI_N##*-n}" clientserver.test.curl.test.0 netns)
inc() { nsx "$CLI_NS" "$@"; }
ask() { inc timeout 2 python3 "$PEER" ask-tcp $RR 2>/dev/null; }
until_answer() { # REGEX TRIES: the rr IP answers matching
	local i a
	for i in $(seq "$2"); do
		a=$(ask)
		[[ "$a" =~ $1 ]] && return 0
		sleep 0.3
	done
	echo "   last answer: '${a:-}'"
	return 1
}

# --- across clusters: curl in A, nginx in B
check "B's jobs/state reports name the node's tunnel endpoint (node_ip)" \
	bash -c "grep ' clusters/$CB/jobs/state ' $WORK/root-bus.log | grep -q '\"node_ip\":\"192.168.100.[23]\"'"
check "curl in A reaches nginx in B through the Service IP $RR" until_answer '^v1@' 20
check "A asked the root for the table, which named the node in B" \
	bash -c "grep -qE ' clusters/$CA/net/tablequery/result .*\"found\":true.*\"node_ip\":\"192.168.100.[23]\"' $WORK/root-bus.log"

# --- scale up and down with a replica count
api post "/api/service/$NGINX/instance" '{"replicas": 3}' >/dev/null
t_scale=$(api wait "$NGINX" "len(L) == 3 and all(e['status'] == 'RUNNING' for e in L)" 40)
check "scale to 3: 3 RUNNING ($t_scale s), in both clusters" \
	test "$(svc "$NGINX" | jx 'len({e["cluster_id"] for e in d["instance_list"]})')" = 2
check "3 distinct Instance IPs" test "$(svc "$NGINX" | jx 'len({e["instance_ip"] for e in d["instance_list"]})')" = 3
both_clusters() { # the rr IP from A answers from instances of both clusters
	local want got='' i
	want=$(svc "$NGINX" | jx '" ".join(sorted({e["cluster_id"] + "=" + e["namespace_ip"] for e in d["instance_list"]}))')
	for i in $(seq 60); do
		got="$got $(ask)"
		python3 - "$want" "$got" "$CA" "$CB" <<'EOP' && return 0
import sys
want, got, ca, cb = sys.argv[1].split(), set(sys.argv[2].split()), sys.argv[3], sys.argv[4]
seen = {w.split("=")[0] for w in want if "v1@" + w.split("=")[1] in got}
sys.exit(0 if {ca, cb} <= seen else 1)
EOP
		sleep 0.1
	done
	echo "   instances: $want; answers:$(tr ' ' '\n' <<<"$got" | sort | uniq -c | tr '\n' ' ')"
	return 1
}
check "A's Service IP $RR answers from instances in both clusters (round robin across clusters)" both_clusters
api post "/api/service/$NGINX/instance" '{"replicas": 1}' >/dev/null
check "scale to 1: instance 0 remains" \
	api wait "$NGINX" "len(L) == 1 and L[0]['instance_number'] == 0 and L[0]['instance_ip'] == '$NIP0'" 20
check "the nodes run 1 nginx instance after the scale down" \
	bash -c "for i in \$(seq 100); do [ \$(ls $WORK/n[123]/instances/ | grep -c '^clientserver.test.nginx.test\.') = 1 ] && exit 0; sleep 0.1; done; exit 1"

# --- PUT: a new command replaces the instance, the Service IP stays
spec=$(svc "$NGINX" | jx 'json.dumps({k: v for k, v in d.items() if k not in ("instance_list",)})' |
	sed 's/serve v1@/serve v2@/')
cat >"$WORK/watch.py" <<'EOP'
import json, subprocess, sys, time
# SID GEN SECS LOG API...: writes the instance list to LOG every 0.1 s until
# every instance is of generation GEN and RUNNING
log = open(sys.argv[4], "w")
end = time.time() + float(sys.argv[3])
worst = None
while time.time() < end:
    out = subprocess.run(sys.argv[5:] + ["get", "/api/service/" + sys.argv[1]], capture_output=True, text=True).stdout
    d = json.loads(out)
    L = d["instance_list"]
    running = [e for e in L if e["status"] == "RUNNING"]
    print("%.2f %s" % (time.time(), [(e["instance_number"], e["generation"], e["status"]) for e in L]), file=log, flush=True)
    if L and all(e["generation"] == int(sys.argv[2]) and e["status"] == "RUNNING" for e in L):
        sys.exit(0)
    time.sleep(0.1)
sys.exit(1)
EOP
gen_before=$(svc "$NGINX" | jx 'd["generation"]')
api put "/api/service/$NGINX" "$spec" >/dev/null
check "PUT bumps the generation ($gen_before -> $((gen_before + 1)))" test "$(svc "$NGINX" | jx 'd["generation"]')" = $((gen_before + 1))
check "the instance is replaced by a generation-$((gen_before + 1)) one (watched every 0.1 s)" \
	/usr/bin/python3 "$WORK/watch.py" "$NGINX" $((gen_before + 1)) 40 "$WORK/put-watch.log" nsenter --net="/run/netns/$TAG-sw" /usr/bin/python3 "$WORK/api.py" "$TAG"
check "one at a time: never more than 2 instances, never none RUNNING while replacing" \
	/usr/bin/python3 -c "
import ast, sys
for l in open('$WORK/put-watch.log'):
    L = ast.literal_eval(l.split(' ', 1)[1])
    if len(L) > 2 or not any(s == 'RUNNING' for _, _, s in L):
        sys.exit(1)
" && echo "   $(wc -l <"$WORK/put-watch.log") samples, at most 2 instances, one RUNNING in each"
check "the Service IP stays $RR" test "$(svc "$NGINX" | jx 'd["rr_ip"]')" = "$RR"
check "$RR answers the new command (v2)" until_answer '^v2@' 20

# --- a whole cluster dies: B's instances come back in A
api post "/api/service/$NGINX/instance" '{"replicas": 2}' >/dev/null
api wait "$NGINX" "len(L) == 2 and all(e['status'] == 'RUNNING' for e in L)" 40 >/dev/null
inB=$(svc "$NGINX" | jx "[e['instance_number'] for e in d['instance_list'] if e['cluster_id'] == '$CB']")
echo "   nginx in B before the kill: $inB"
check "nginx has an instance in B to lose" test "$inB" != "[]"
ipsB=$(svc "$NGINX" | jx "sorted(e['instance_ip'] for e in d['instance_list'])")
T0=$(date +%s.%N)
kill -9 "${PIDS[cb]}" "${AGENT[2]}" "${AGENT[3]}"
for n in 2 3; do
	for f in "$WORK/n$n"/instances/*.json; do
		[ -e "$f" ] || continue
		pid=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["pid"])' "$f")
		[ "$pid" -gt 1 ] 2>/dev/null && kill -9 -- "-$pid" "$pid" 2>/dev/null
	done
done
kill -9 "${PIDS[bb]}"
PIDS[cb]="" PIDS[bb]="" AGENT[2]="" AGENT[3]=""
api wait "$NGINX" "len(L) == 2 and all(e['status'] == 'RUNNING' and e['cluster_id'] == '$CA' for e in L)" 30 >"$WORK/failover.out"
rc=$?
failover=$(python3 -c "import time; print('%.2f' % (time.time() - $T0))")
echo "CLUSTER_FAILOVER_S=$failover"
check "cluster B killed: nginx RUNNING again in A within 10 s (${failover} s)" \
	bash -c "[ $rc = 0 ] && python3 -c 'import sys; sys.exit(0 if $failover < 10 else 1)'"
check "the moved instances kept their Instance IPs" \
	test "$(svc "$NGINX" | jx "sorted(e['instance_ip'] for e in d['instance_list'])")" = "$ipsB"
check "the root says why (status_detail names B lost) in its log" grep -q "cluster $CB lost" "$WORK/root.log"
check "curl reaches nginx through $RR after the failover" until_answer '^v2@' 20
check "GET /api/clusters/active lists A only" \
	test "$(api get /api/clusters/active | jx '",".join(c["cluster_id"] for c in d)')" = "$CA"

# --- an instance DEAD on its node is placed again
api post "/api/service/$CRASH/instance" '{"replicas": 1}' >/dev/null
check "crash.0 goes DEAD on its node (4 runs: the start and 3 restarts)" \
	bash -c "for i in \$(seq 200); do grep -q ' clusters/$CA/jobs/state .*crash.test\",.*\"state\":\"DEAD\"' $WORK/root-bus.log && exit 0; sleep 0.1; done; exit 1"
check "crash.0 RUNNING again after the root placed it again" \
	api wait "$CRASH" "len(L) == 1 and L[0]['status'] == 'RUNNING'" 30
dead=$(python3 - "$WORK/root-bus.log" <<'EOP'
import sys
dead = run = None
for l in open(sys.argv[1]):
    t, topic, p = l.split(" ", 2)
    if "/jobs/state" not in topic or "crash.test" not in p:
        continue
    if '"state":"DEAD"' in p and dead is None:
        dead = float(t)
    elif '"state":"RUNNING"' in p and dead is not None and run is None:
        run = float(t)
print("%.2f" % (run - dead) if dead and run else "inf")
EOP
)
echo "DEAD_REPLACEMENT_S=$dead"
check "DEAD to RUNNING again in ${dead} s" python3 -c "import sys; sys.exit(0 if float('$dead') < 10 else 1)"
check "the root placed it again with a new deploy to its cluster" \
	test "$(grep -c " clusters/$CA/control/deploy .*\"job_name\":\"clientserver.test.crash.test\"" "$WORK/root-bus.log")" -ge 2

# --- SIGKILL of oak-root: nothing deployed twice
sleep 1
deploys_before=$(grep -c '/control/deploy ' "$WORK/a-bus.log")
list_before=$(for s in $CURL $NGINX $CRASH; do svc "$s" | jx '[(e["instance_number"], e["instance_ip"], e["cluster_id"]) for e in d["instance_list"]]'; done)
kill -9 "${PIDS[root]}"
wait "${PIDS[root]}" 2>/dev/null
start_root
sleep 4
check "after the restart the instance lists are unchanged" \
	test "$(for s in $CURL $NGINX $CRASH; do svc "$s" | jx '[(e["instance_number"], e["instance_ip"], e["cluster_id"]) for e in d["instance_list"]]'; done)" = "$list_before"
check "no node got a deploy ($deploys_before before, $(grep -c '/control/deploy ' "$WORK/a-bus.log") after)" \
	test "$deploys_before" = "$(grep -c '/control/deploy ' "$WORK/a-bus.log")"
check "every instance still RUNNING" \
	api wait "$NGINX" "len(L) == 2 and all(e['status'] == 'RUNNING' for e in L)" 10
api post "/api/service/$CURL/instance" '{"replicas": 2}' >"$WORK/ack.json" && kill -9 "${PIDS[root]}"
wait "${PIDS[root]}" 2>/dev/null
start_root
check "a replica count acknowledged just before a SIGKILL is kept: 2 curl RUNNING" \
	api wait "$CURL" "d['replicas'] == 2 and len(L) == 2 and all(e['status'] == 'RUNNING' for e in L)" 30
check "2 curl instances on A's nodes, none twice" \
	bash -c "for i in \$(seq 50); do [ \$(ls $WORK/n[14]/instances/ | grep -c '^clientserver.test.curl.test\.') = 2 ] && exit 0; sleep 0.1; done; exit 1"

# --- delete
api delete "/api/service/$NGINX" >/dev/null
check "DELETE /api/service: its instances leave the nodes" \
	bash -c "for i in \$(seq 100); do [ \$(ls $WORK/n[14]/instances/ | grep -c '^clientserver.test.nginx.test\.') = 0 ] && exit 0; sleep 0.1; done; exit 1"
gone() { ! api get "/api/service/$1" >/dev/null; }
check "DELETE /api/service: the service is gone" gone "$NGINX"
check "the other services keep running" api wait "$CURL" "len(L) == 2 and all(e['status'] == 'RUNNING' for e in L)" 5

if [ "$FAILED" -ne 0 ]; then
	echo "--- root.log (tail)"
	tail -40 "$WORK/root.log"
fi
rt_cleanup
check "no namespace left behind" bash -c "! ip netns list | grep -q '^$TAG-'"
trap - EXIT
finish
