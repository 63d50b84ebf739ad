#!/usr/bin/env bash
# End-to-end test of the whole federated fleet: tools/oak-local (oak-root,
# 2 clusters × 2 nodes, a broker per tier) driven only through oakctl, as a
# user would. The application is an SLA shaped like Oakestra's
# examples/curl.json (tests/data/sla/clientserver_native.json: a client and
# a server with rr_ip, closest_ip and an exposed port, on the native
# runtime). Needs root.
#
#  - apply --wait: the client where its direct constraint says, the 2 server
#    instances spread over both clusters
#  - the client reaches both instances (both clusters) through the
#    round-robin IP; the exposed port answers from outside the overlay
#  - scale up to 4 (one per node), the closest IP picks the instance on the
#    client's node; scale down to 2: the removed instances end
#  - update (apply of a changed SLA): every instance replaced, one at a time
#  - an instance that keeps crashing goes DEAD and is placed again
#  - a whole cluster dies (every process of it killed, its links cut): its
#    server instance comes back in the other cluster
#  - delete: every instance gone, the Service IP answers no more; down
#    leaves nothing
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
TAG=fl$(($$ % 100000))
source "$HERE/topo.sh"
export OAK_BIN OAK_LOCAL_TAG=$TAG OAK_LOCAL_DIR=/tmp/$TAG.local
WORK=/tmp/$TAG.work
export OAKCTL_CONFIG=$WORK/oakctl.json
OL=$ROOT/tools/oak-local
HELLO=$ROOT/tools/lib/hello.py
DIR=$OAK_LOCAL_DIR
RR=10.30.30.30
CL=10.30.30.31
SVC=clientserver/server
JOB=clientserver.test.server.test
REC=

fl_cleanup() {
	[ -n "$REC" ] && kill "$REC" 2>/dev/null
	if [ "${FAILED:-0}" -ne 0 ] && [ -d "$DIR/logs" ]; then # keep the logs of a failed run
		mkdir -p "/tmp/$TAG.logs" && cp -r "$DIR/logs" "$DIR"/nodes "/tmp/$TAG.logs/" 2>/dev/null
		cp "$WORK"/*.log "/tmp/$TAG.logs/" 2>/dev/null
		echo "logs kept in /tmp/$TAG.logs"
	fi
	"$OL" down >/dev/null 2>&1
	rm -rf "$WORK"
}
trap fl_cleanup EXIT
trap 'exit 130' INT TERM
mkdir -p "$WORK"

oakctl() { "$OAK_BIN/oakctl" "$@"; }
PORT=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

# --- the fleet
T0=$(date +%s.%N)
"$OL" up --port "$PORT" >"$WORK/up.log" 2>&1
check "oak-local up (2 clusters × 2 nodes, oak-root)" test $? = 0
"$OL" status --json >"$WORK/fleet.json"
fleet() { /usr/bin/python3 -c "import json; f=json.load(open('$WORK/fleet.json')); print($1)"; }
export OAK_ROOT_URL OAK_USER OAK_PASSWORD
OAK_ROOT_URL=$(fleet 'f["root_url"]')
OAK_USER=$(fleet 'f["admin_user"]')
OAK_PASSWORD=$(fleet 'f["admin_password"]')
[ -n "$OAK_ROOT_URL" ] || { echo "oak-root is not built: nothing to test"; exit 1; }
echo "$OAK_PASSWORD" | oakctl login --password-stdin >/dev/null 2>&1
check "oakctl login with the credentials status --json printed" test $? = 0
oakctl get clusters --json >"$WORK/clusters.json" 2>/dev/null
check "the root sees 2 active clusters of 2 nodes" /usr/bin/python3 -c "import json,sys
c = json.load(open('$WORK/clusters.json'))
sys.exit(0 if sorted((x['cluster_name'], x['active'], x['active_nodes']) for x in c) == [('c1', True, 2), ('c2', True, 2)] else 1)"

# every job state the clusters send the root, recorded
nsenter --net="/run/netns/$TAG-root" mosquitto_sub -h 127.0.0.1 -v -t 'clusters/+/jobs/state' >"$WORK/states.log" 2>&1 &
REC=$!

# --- apply
sed -e "s|@HELLO@|$HELLO|g" -e "s|@TAG@|$TAG|g" "$ROOT/tests/data/sla/clientserver_native.json" >"$WORK/sla.json"
oakctl apply -f "$WORK/sla.json" --wait --timeout 60 >"$WORK/apply.log" 2>&1
check "oakctl apply --wait: every instance RUNNING" test $? = 0
sed 's/^/   /' "$WORK/apply.log"

# J: `oakctl get instances --json`, refreshed by inst_get; ij EXPR over I
inst_get() { oakctl get instances --json >"$WORK/inst.json" 2>/dev/null; }
ij() { /usr/bin/python3 -c "import json,sys; I=json.load(open('$WORK/inst.json')); S=[i for i in I if i['service'] == '$SVC']; print($1)"; }
ijq() { [ "$(ij "$1")" = True ]; }
# wait_inst EXPR [SECONDS]: until EXPR holds over a fresh instance list
wait_inst() {
	local i
	for i in $(seq $((${2:-30} * 4))); do
		inst_get
		ijq "$1" && return 0
		sleep 0.25
	done
	return 1
}
inst_get
check "the client runs on $TAG-c1n1, as its direct constraint says" \
	ijq "[i['worker_id'] for i in I if i['service'] == 'clientserver/client'] == ['$TAG-c1n1']"
check "2 server instances RUNNING, one in each cluster" \
	ijq "sorted(i['cluster_id'] for i in S if i['status'] == 'RUNNING') == ['c1', 'c2']"
check "Instance IPs distinct, in 10.30.0.0/16" \
	ijq "len({i['instance_ip'] for i in I}) == len(I) == 3 and all(i['instance_ip'].startswith('10.30.') for i in I)"
CLI_NS=$(/usr/bin/python3 -c "import json,glob; print([json.load(open(p))['netns'] for p in glob.glob('$DIR/nodes/$TAG-c1n1/instances/clientserver.test.client.test.*.json')][0])")
incli() { nsenter --net="/run/netns/$CLI_NS" "$@"; }
# answers N URL: the distinct answers of N requests from the client
answers() { incli /usr/bin/python3 "$HELLO" ask "$2" "$1" 2>/dev/null | grep -v '^-$' | sort -u; }
# sees N IP COUNT [SECONDS]: until N requests to IP show COUNT distinct answers
sees() {
	local i
	for i in $(seq $((${4:-10} * 3))); do
		[ "$(answers "$1" "http://$2:60/" | wc -l)" = "$3" ] && return 0
		sleep 0.3
	done
	return 1
}
# the namespace address of an answer ("hello from 10.18.16.2")
nsip_cluster() { # cluster of the instance with namespace address $1
	ij "[i['cluster_id'] for i in S if i.get('namespace_ip') == '$1'][0] if [i for i in S if i.get('namespace_ip') == '$1'] else '?'"
}

# --- Service IPs across clusters
check "the client reaches both instances through the round-robin IP" sees 6 $RR 2
clusters_seen=$(for a in $(answers 6 "http://$RR:60/" | awk '{print $NF}'); do nsip_cluster "$a"; done | sort -u | tr '\n' ' ')
check "... one answer from each cluster ($clusters_seen)" test "$clusters_seen" = "c1 c2 "
# (every site is as near as the next on this host: a tie may answer from both)
closest_ok() { local a; a=$(answers 3 "http://$CL:60/"); [ -n "$a" ] && ! grep -qv '^hello from ' <<<"$a"; }
check "the closest IP answers from a server instance" bash -c "$(declare -f closest_ok answers incli); HELLO=$HELLO CLI_NS=$CLI_NS CL=$CL; for i in \$(seq 15); do closest_ok && exit 0; sleep 0.3; done; exit 1"
logs_ok() { oakctl logs clientserver/client 2>/dev/null | grep -q "$RR:60/ -> hello from"; }
check "the client's own requests get answers (oakctl logs)" \
	bash -c "for i in \$(seq 60); do $(declare -f oakctl logs_ok); RR=$RR; logs_ok && exit 0; sleep 0.5; done; exit 1"

# --- the exposed port, from outside the overlay (the root host is on the
# underlay but no node: it has no route into 10.30/16)
expose_ok() {
	local w nip want a
	for w in $(ij "' '.join('%s=%s' % (i['worker_id'], i['namespace_ip']) for i in S)"); do
		nip=$(fleet "[n['node_ip'] for c in f['clusters'] for n in c['nodes'] if n['id'] == '${w%=*}'][0]")
		a=$(nsenter --net="/run/netns/$TAG-root" curl -s -m 3 "http://$nip:6080/")
		[ "$a" = "hello from ${w#*=}" ] || { echo "   $nip:6080 answered '$a'"; return 1; }
	done
}
check "port 6080 of each server's node answers from that node's instance" expose_ok
check "the root host has no route into the overlay" bash -c "! nsenter --net=/run/netns/$TAG-root ip route get $RR >/dev/null 2>&1 || ! nsenter --net=/run/netns/$TAG-root curl -s -m 1 http://$RR:60/ >/dev/null"

# --- scale
oakctl scale $SVC 4 --wait --timeout 40 >/dev/null 2>&1
check "scale to 4 --wait: exit 0" test $? = 0
inst_get
check "4 server instances RUNNING, one per node" \
	ijq "len(S) == 4 and len({i['worker_id'] for i in S if i['status'] == 'RUNNING'}) == 4"
check "the round-robin IP reaches all 4" sees 12 $RR 4
cl_local() { # every closest answer is the instance on the client's node
	local mine
	mine=$(ij "[i['namespace_ip'] for i in S if i['worker_id'] == '$TAG-c1n1'][0]")
	[ "$(answers 6 "http://$CL:60/")" = "hello from $mine" ]
}
check "the closest IP picks the instance on the client's node" \
	bash -c "$(declare -f cl_local answers incli ij); SVC=$SVC WORK=$WORK TAG=$TAG HELLO=$HELLO CLI_NS=$CLI_NS CL=$CL; for i in \$(seq 20); do cl_local && exit 0; sleep 0.5; done; exit 1"
pids_of() { # pids of the server instances, from the nodes' records
	/usr/bin/python3 -c 'import glob, json, sys
print(" ".join(str(json.load(open(p))["pid"]) for p in glob.glob(sys.argv[1])))' "$DIR/nodes/*/instances/$JOB.*.json"
}
before=$(pids_of)
oakctl scale $SVC 2 >/dev/null 2>&1
check "scale down to 2: exit 0" test $? = 0
check "2 server instances left" wait_inst "len(S) == 2 and all(i['status'] == 'RUNNING' for i in S)" 20
gone_ok() {
	local p n=0
	for p in $before; do kill -0 "$p" 2>/dev/null || n=$((n + 1)); done
	[ $n = 2 ]
}
check "the 2 removed instances' processes ended" bash -c "$(declare -f gone_ok); before='$before'; for i in \$(seq 40); do gone_ok && exit 0; sleep 0.25; done; exit 1"
check "the round-robin IP reaches exactly the 2 left" bash -c "$(declare -f answers incli); HELLO=$HELLO CLI_NS=$CLI_NS; for i in \$(seq 30); do [ \"\$(answers 8 http://$RR:60/ | wc -l)\" = 2 ] && exit 0; sleep 0.3; done; exit 1"

# --- update: a changed command (the answer's wording); replaced one at a time
sed 's|"serve", "60"\]|"serve", "60", "v2 from {ip}"]|' "$WORK/sla.json" >"$WORK/sla2.json"
cat >"$WORK/probe.py" <<'EOP'
import socket, sys, time
end = time.time() + float(sys.argv[2])
while time.time() < end:
    t = time.time()
    try:
        with socket.create_connection((sys.argv[1], 60), timeout=0.5) as s:
            s.sendall(b"GET / HTTP/1.0\r\n\r\n")
            s.settimeout(1)
            ans = s.recv(4096).decode(errors="replace").split("\r\n\r\n", 1)[-1].strip()
            print("%.3f %s" % (t, ans or "-"), flush=True)
    except OSError:
        print("%.3f -" % t, flush=True)
    time.sleep(0.05)
EOP
incli /usr/bin/python3 "$WORK/probe.py" $RR 25 >"$WORK/probe.log" 2>&1 &
PROBE=$!
sleep 0.5
oakctl apply -f "$WORK/sla2.json" >"$WORK/apply2.log" 2>&1
check "apply of the changed SLA: the server updated (generation 2)" grep -q "clientserver/server: updated (generation 2)" "$WORK/apply2.log"
check "both instances replaced: generation 2, RUNNING" \
	wait_inst "len(S) == 2 and all(i['status'] == 'RUNNING' and i.get('generation') == 2 for i in S)" 40
check "the round-robin IP answers only with the new version" bash -c "$(declare -f answers incli); HELLO=$HELLO CLI_NS=$CLI_NS; for i in \$(seq 30); do a=\$(answers 8 http://$RR:60/); [ \"\$(grep -c '^v2 from' <<<\"\$a\")\" = 2 ] && [ \"\$(wc -l <<<\"\$a\")\" = 2 ] && exit 0; sleep 0.3; done; exit 1"
kill $PROBE 2>/dev/null
wait $PROBE 2>/dev/null
gap=$(/usr/bin/python3 - "$WORK/probe.log" <<'EOP'
import sys
rows = [l.split(None, 1) for l in open(sys.argv[1]) if l.strip()]
ok = [float(t) for t, a in rows if a.strip() != "-"]
print("%.2f" % max(b - a for a, b in zip(ok, ok[1:])) if len(ok) > 1 else "inf")
EOP
)
echo "   during the update: $(grep -vc ' -$' "$WORK/probe.log") answered, $(grep -c ' -$' "$WORK/probe.log") failed; longest gap ${gap} s"
check "the rr IP kept answering through the rolling update (longest gap ${gap} s < 2 s)" \
	/usr/bin/python3 -c "import sys; sys.exit(0 if float('$gap') < 2 else 1)"

# --- an instance that keeps crashing: DEAD, then placed again
inst_get
VN=$(ij "[i['instance_number'] for i in S if i['cluster_id'] == 'c2'][0]")
VW=$(ij "[i['worker_id'] for i in S if i['cluster_id'] == 'c2'][0]")
rec_pid() { /usr/bin/python3 -c "import json; print(json.load(open('$DIR/nodes/$VW/instances/$JOB.$VN.json'))['pid'])" 2>/dev/null; }
for _ in $(seq 100); do
	grep "\"job_name\":\"$JOB\"" "$WORK/states.log" | grep "\"instance_number\":$VN," | grep -q '"state":"DEAD"' && break
	p=$(rec_pid)
	# pid 0 (no process between restarts) would be kill -9 0: our own group
	[ "${p:-0}" -gt 1 ] 2>/dev/null && kill -9 "$p" 2>/dev/null
	sleep 0.1
done
check "server/$VN on $VW killed at every restart: reported DEAD" \
	bash -c "grep '\"job_name\":\"$JOB\"' '$WORK/states.log' | grep '\"instance_number\":$VN,' | grep -q '\"state\":\"DEAD\"'"
check "the DEAD instance is placed again and RUNNING" \
	wait_inst "len(S) == 2 and all(i['status'] == 'RUNNING' for i in S) and any(i['instance_number'] == $VN for i in S)" 40
check "the round-robin IP reaches 2 instances again" sees 8 $RR 2 15

# --- a whole cluster dies: c2 (the client is in c1)
inst_get
check "before the kill a server instance runs in c2" ijq "'c2' in [i['cluster_id'] for i in S]"
TK=$(date +%s.%N)
for ns in $(ip netns list | awk '{print $1}' | grep "^$TAG-c2"); do
	for p in $(ip netns pids "$ns"); do kill -9 "$p" 2>/dev/null; done
done
for l in c2 c2n1 c2n2; do ip -n "$TAG-ul" link del "$l" 2>/dev/null; done
check "the root marks c2 inactive" bash -c "for i in \$(seq 120); do '$OAK_BIN/oakctl' get clusters --json 2>/dev/null | /usr/bin/python3 -c 'import json,sys; c=[x for x in json.load(sys.stdin) if x[\"cluster_name\"] == \"c2\"]; sys.exit(0 if c and not c[0][\"active\"] else 1)' && exit 0; sleep 0.25; done; exit 1"
check "c2's server instance comes back in c1: 2 RUNNING, both in c1" \
	wait_inst "len([i for i in S if i['status'] == 'RUNNING' and i['cluster_id'] == 'c1']) == 2" 60
check "the round-robin IP reaches both (in c1)" sees 8 $RR 2 15
back=$(echo "$(date +%s.%N) - $TK" | bc)
echo "   the service was whole again in c1 $(printf '%.1f' "$back") s after c2 died"

# --- delete
oakctl delete app clientserver >/dev/null 2>&1
check "oakctl delete app: exit 0" test $? = 0
# (c2's nodes are dead with their records: only c1's live nodes count)
check "no instance record left on any live node (c1's)" \
	bash -c "for i in \$(seq 60); do ls $DIR/nodes/$TAG-c1n*/instances/*.json >/dev/null 2>&1 || exit 0; sleep 0.25; done; ls $DIR/nodes/$TAG-c1n*/instances/; exit 1"
check "the Service IP answers no more" bash -c "! nsenter --net=/run/netns/$TAG-c1n1 curl -s -m 1 http://$RR:60/ >/dev/null"
echo "   whole run: $(printf '%.1f' "$(echo "$(date +%s.%N) - $T0" | bc)") s"

kill "$REC" 2>/dev/null
REC=
[ "$FAILED" -ne 0 ] && { tail -30 "$DIR/logs/oak-root.log"; rm -rf "/tmp/$TAG.logs"; cp -r "$DIR/logs" "/tmp/$TAG.logs"; }
"$OL" down >/dev/null 2>&1
check "oak-local down: nothing named $TAG- left (namespaces, pins)" \
	bash -c "! ip netns list | grep -q '^$TAG-' && ! ls -d /sys/fs/bpf/oak/$TAG-* >/dev/null 2>&1 && [ ! -e $DIR ]"
trap - EXIT
[ "$FAILED" -ne 0 ] && echo "(the daemons' logs are kept in /tmp/$TAG.logs)"
rm -rf "$WORK"
finish
