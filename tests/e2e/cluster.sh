#!/usr/bin/env bash
# End-to-end test of oak-cluster: a real mosquitto broker on the underlay (in
# the switch namespace, serving as both the cluster broker and the root
# broker), one oak-cluster, three oak-node agents in node namespaces, and
# this script standing in for the root with mosquitto_pub. Needs root.
#
#  - nodes register, get distinct /26 subnets; the cluster reports aggregates
#  - a 3-instance native service is deployed through the cluster and reached
#    through its round-robin IP from a client instance
#  - a node dies (agent and instances killed, namespace deleted): its
#    instance is reported FAILED, placed again, and the Service IP answers
#    again; the failover time is measured
#  - oak-cluster is SIGKILLed and restarted under traffic: nothing
#    redeployed or duplicated, traffic uninterrupted, the view rebuilt
#
# MODE=failover (used by tools/bench/failover.sh) stops after the failover
# and prints "FAILOVER_S=<seconds>".
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
TAG=${TAG:-okc$$}
MODE=${MODE:-full}
KILL=${KILL:-silent}
source "$HERE/topo.sh"
source "$HERE/bus.sh"
PEER=$HERE/peer.py
WORK=/tmp/$TAG
BROKER=192.168.100.254
CID=$TAG-c
declare -A AGENT
CLUSTER=

cl_cleanup() {
	[ -n "$CLUSTER" ] && kill "$CLUSTER" 2>/dev/null
	[ -n "${PROBE:-}" ] && kill "$PROBE" 2>/dev/null
	agents_stop
	bus_stop
	topo_cleanup
	oak_cgroups_remove
	pins_and_work_cleanup
}
trap cl_cleanup EXIT
trap 'exit 130' INT TERM
mkdir -p "$WORK"

topo_switch
topo_node 1
topo_node 2
topo_node 3

bus_start 'nodes/#' 'jobs/#' 'clusters/#' 'cluster/#'


start_cluster() {
	nsenter --net="/run/netns/$TAG-sw" "$OAK_BIN/oak-cluster" --cluster_id "$CID" \
		--broker_host $BROKER --state_dir "$WORK/cluster" --report_interval 2 \
		--log_level debug >>"$WORK/cluster.log" 2>&1 &
	CLUSTER=$!
}
start_agent() {
	local n=$1
	nsenter --net="/run/netns/$TAG-n$n" "$OAK_BIN/oak-node" --node_id "$TAG-n$n" --broker_host $BROKER \
		--node_ip "$(node_ip "$n")" --uplink up0 --uplink_mode tc \
		--state_dir "$WORK/n$n" --interest_idle 60 \
		--restart_backoff_ms 200 --log_level debug >>"$WORK/agent$n.log" 2>&1 &
	AGENT[$n]=$!
}
N1=$TAG-n1
N2=$TAG-n2
N3=$TAG-n3
JOB=app.test.srv.test
CJOB=app.test.cli.test
RR=10.30.30.30

start_cluster
start_agent 1
start_agent 2
start_agent 3

# --- registration: subnets, aggregates
check "oak-cluster says hello to the root" bus_has "clusters/$CID/hello" "\"cluster_id\":\"$CID\""
check "oak-cluster is online on the root broker (retained)" bus_has "clusters/$CID/status" '"online":true'
for n in 1 2 3; do
	check "n$n gets a /26 from 10.18.0.0/20" bus_has "nodes/$TAG-n$n/net/subnet" '"subnet":"10\.18\.([0-9]|1[0-5])\.[0-9]+/26"'
done
subnets=$(grep -E "^nodes/$TAG-n[123]/net/subnet " "$WORK/bus.log" | grep -oE '10\.18\.[0-9.]+/26' | sort -u | wc -l)
check "the three subnets are distinct ($subnets)" test "$subnets" = 3
for n in 1 2 3; do
	check "the cluster gets n$n's UDP heartbeats (nodes report only every 10 s)" \
		bash -c "for i in \$(seq 50); do grep -q 'node $TAG-n$n: heartbeats arrive' $WORK/cluster.log && exit 0; sleep 0.1; done; exit 1"
done
check "aggregate report counts 3 active nodes with the native runtime" \
	bus_has "clusters/$CID/information" '"active_nodes":3.*native|native.*"active_nodes":3'
info=$(grep "^clusters/$CID/information " "$WORK/bus.log" | grep '"active_nodes":3' | tail -1)
echo "   ${info:0:300}"
check "aggregate sums CPU of 3 nodes ($(nproc) each)" \
	bash -c "grep -qE '\"vcpus_total\":$((3 * $(nproc)))(\.0)?[,}]' <<<'$info'"

# --- the root deploys: 3 instances of srv, and a client pinned to n1
svc_json() { # NAME CMD_JSON [EXTRA_JSON_OBJECT]
	python3 -c 'import json,sys
d={"microservice_name":sys.argv[1],"microservice_namespace":"test","virtualization":"native","code":"python3","cmd":json.loads(sys.argv[2])}
d.update(json.loads(sys.argv[3]))
print(json.dumps(d))' "$1" "$2" "${3:-{\}}"
}
cdeploy() { # JOB N INST_IP RR_IP SERVICE_JSON
	pub -t "clusters/$CID/control/deploy" -m "{\"service_id\":\"s-$1\",\"job_name\":\"$1\",\"instance_number\":$2,\"instance_ip\":\"$3\",\"rr_ip\":\"$4\",\"service\":$5}"
}
SRV=$(svc_json srv "[\"sh\",\"-c\",\"exec python3 $PEER serve srv@\$(hostname -I | cut -d' ' -f1)\"]")
CLI=$(svc_json cli '["sleep","100000"]' "{\"target_node\":\"$N1\"}")
for i in 0 1 2; do cdeploy $JOB $i 10.30.1.$((i + 1)) $RR "$SRV"; done
cdeploy $CJOB 0 10.30.1.9 10.30.40.40 "$CLI"
for i in 0 1 2; do
	check "srv.$i RUNNING (reported upward)" bus_has "clusters/$CID/jobs/state" "\"job_name\":\"$JOB\",.*\"instance_number\":$i,\"state\":\"RUNNING\"" 15
done
check "client RUNNING on n1 (target_node)" bus_has "clusters/$CID/jobs/state" "\"node_id\":\"$N1\".*\"job_name\":\"$CJOB\".*\"state\":\"RUNNING\"" 15
where() { # node of srv instance i as last reported RUNNING
	grep "^clusters/$CID/jobs/state " "$WORK/bus.log" | grep "\"job_name\":\"$JOB\"" |
		grep "\"instance_number\":$1,\"state\":\"RUNNING\"" | tail -1 | grep -oE "\"node_id\":\"[^\"]*\"" | cut -d'"' -f4
}
spread=$(for i in 0 1 2; do where $i; done | sort -u | wc -l)
check "the 3 replicas are spread over the 3 nodes ($(for i in 0 1 2; do where $i; done | tr '\n' ' '))" test "$spread" = 3
check "deploys carry the Instance IPs and the rr IP" bus_has "nodes/$TAG-n[123]/control/deploy" "\"instance_ip\":\"10.30.1.2\".*\"rr_ip\":\"$RR\""

rec() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$WORK/n$1/instances/$2.json" "$3"; }
CLI_NS=$(rec 1 $CJOB.0 netns)
inc() { nsx "$CLI_NS" "$@"; }
seen=""
for _ in $(seq 30); do
	seen=$(for _ in 1 2 3 4 5 6; do inc timeout 3 python3 "$PEER" ask-tcp $RR 2>/dev/null; done | sort -u | wc -l)
	[ "$seen" = 3 ] && break
	sleep 0.3
done
check "the client reaches all 3 instances through the round-robin IP ($seen distinct)" test "$seen" = 3
check "n1 asked the cluster for the table and got it" bus_has "nodes/$N1/net/tablequery/result" "\"job_name\":\"$JOB\".*\"found\":true"

# --- a node dies: not n1 (the client's)
VICTIM=$(where 2)
[ "$VICTIM" = "$N1" ] && VICTIM=$(where 1)
[ "$VICTIM" = "$N1" ] && VICTIM=$(where 0)
VN=${VICTIM##*-n}
VI=$(for i in 0 1 2; do [ "$(where $i)" = "$VICTIM" ] && echo $i; done | head -1)
echo "   victim: $VICTIM (srv.$VI), kill mode $KILL"

# a probe in the client: one TCP request to the rr IP every ~50 ms
cat >"$WORK/probe.py" <<'EOP'
import socket, sys, time
ip, secs = sys.argv[1], float(sys.argv[2])
end = time.time() + secs
while time.time() < end:
    t = time.time()
    try:
        with socket.create_connection((ip, 8080), timeout=0.3) as s:
            s.settimeout(0.5)
            name = s.makefile().readline().strip()
            print("%.3f %s %s" % (t, "ok" if name else "fail", name or "empty"), flush=True)
    except Exception as e:
        print("%.3f fail %s" % (t, type(e).__name__), flush=True)
    time.sleep(0.05)
EOP
nsenter --net="/run/netns/$CLI_NS" python3 "$WORK/probe.py" $RR 14 >"$WORK/probe1.log" 2>&1 &
PROBE=$!
sleep 1.5
# KILL=silent (default): the node vanishes from the network first (its
# underlay link is cut), so nothing tells the cluster: it must notice that
# its UDP heartbeats stopped (node_timeout). KILL=crash: the agent dies first; the broker sees
# its connection close and publishes its last will at once.

kill_node() {
	local n=$1 f pid
	[ "$KILL" = silent ] && ip -n "$TAG-sw" link del "p$n"
	kill -9 "${AGENT[$n]}"
	wait "${AGENT[$n]}" 2>/dev/null
	AGENT[$n]=
	for f in "$WORK/n$n"/instances/*.json; do
		[ -e "$f" ] || continue
		pid=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["pid"])' "$f")
		[ "$pid" -gt 1 ] 2>/dev/null && kill -9 -- "-$pid" "$pid" 2>/dev/null
	done
	oakdp "$n" purge >/dev/null 2>&1
	for ns in $(ip netns list | awk '{print $1}' | grep "^$TAG-n$n-" || true); do ip netns del "$ns"; done
	ip netns del "$TAG-n$n"
}
T0=$(date +%s.%N)
kill_node "$VN"
wait $PROBE
PROBE=
failover=$(python3 - "$WORK/probe1.log" "$T0" <<'EOP'
import sys
t0 = float(sys.argv[2])
rows = [l.split() for l in open(sys.argv[1]) if l.strip()]
rows = [(float(r[0]), r[1]) for r in rows if len(r) >= 2]
after = [r for r in rows if r[0] >= t0]
fails = [r[0] for r in after if r[1] != "ok"]
if not fails:
    print("0.00")
else:
    last = max(fails)
    oks = [r[0] for r in after if r[1] == "ok" and r[0] > last]
    print("%.2f" % (min(oks) - t0) if len(oks) >= 10 else "inf")
EOP
)
fails=$(awk -v t="$T0" '$1 >= t && $2 != "ok"' "$WORK/probe1.log" | wc -l)
oks=$(awk -v t="$T0" '$1 >= t && $2 == "ok"' "$WORK/probe1.log" | wc -l)
echo "   after the kill: $fails failed, $oks answered; failover ${failover} s"
echo "FAILOVER_S=$failover"
check "the cluster marked srv.$VI FAILED (node lost)" bus_has "clusters/$CID/jobs/state" "\"job_name\":\"$JOB\",.*\"instance_number\":$VI,\"state\":\"FAILED\".*lost" 10
check "srv.$VI RUNNING again on another node" bash -c "for i in \$(seq 100); do n=\$(grep '^clusters/$CID/jobs/state ' $WORK/bus.log | grep '\"job_name\":\"$JOB\"' | grep '\"instance_number\":$VI,\"state\":\"RUNNING\"' | tail -1 | grep -oE '\"node_id\":\"[^\"]*\"' | cut -d'\"' -f4); [ -n \"\$n\" ] && [ \"\$n\" != '$VICTIM' ] && exit 0; sleep 0.1; done; exit 1"
check "it kept its Instance IP 10.30.1.$((VI + 1))" bus_has "nodes/$TAG-n[123]/control/deploy" "\"instance_number\":$VI,\"instance_ip\":\"10.30.1.$((VI + 1))\"" 1
check "the Service IP answers again within 5 s of the node's death (${failover} s)" \
	python3 -c "import sys; sys.exit(0 if float('$failover') < 5 else 1)"
seen=$(for _ in 1 2 3 4 5 6; do inc timeout 3 python3 "$PEER" ask-tcp $RR 2>/dev/null; done | sort -u | wc -l)
check "the client reaches 3 instances again ($seen distinct)" test "$seen" = 3
check "the aggregate drops to 2 active nodes" bus_has "clusters/$CID/information" '"active_nodes":2'

if [ "$MODE" = failover ]; then
	[ "$FAILED" -ne 0 ] && tail -20 "$WORK/cluster.log"
	cl_cleanup
	trap - EXIT
	finish
	exit $?
fi

# --- restart oak-cluster (SIGKILL) under traffic
live_nodes=$(for n in 1 2 3; do [ "$n" != "$VN" ] && echo $n; done)
pids_before=$(for n in $live_nodes; do for f in "$WORK/n$n"/instances/*.json; do python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["pid"])' "$f"; done; done | sort | tr '\n' ' ')
deploys_before=$(grep -cE "^nodes/[^ ]*/control/deploy " "$WORK/bus.log")
creating_before=$(bus_count "clusters/$CID/jobs/state" '"state":"CREATING"')
nsenter --net="/run/netns/$CLI_NS" python3 "$WORK/probe.py" $RR 9 >"$WORK/probe2.log" 2>&1 &
PROBE=$!
sleep 1.5
kill -9 "$CLUSTER"
wait "$CLUSTER" 2>/dev/null
sleep 1
start_cluster
check "the restarted cluster loaded its state" bash -c "for i in \$(seq 50); do grep -q 'state: 3 nodes, 2 services' $WORK/cluster.log && exit 0; sleep 0.1; done; exit 1"
check "nodes re-report on the new cluster boot" bash -c "for i in \$(seq 50); do grep -q 'reporting everything' $WORK/agent$(echo $live_nodes | cut -d' ' -f1).log && exit 0; sleep 0.1; done; exit 1"
wait $PROBE
PROBE=
pfail=$(grep -vc ' ok ' "$WORK/probe2.log")
pok=$(grep -c ' ok ' "$WORK/probe2.log")
check "traffic through the rr IP uninterrupted across the restart ($pok ok, $pfail failed)" test "$pfail" = 0 -a "$pok" -gt 50
sleep 1
pids_after=$(for n in $live_nodes; do for f in "$WORK/n$n"/instances/*.json; do python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["pid"])' "$f"; done; done | sort | tr '\n' ' ')
check "no instance restarted (pids $pids_before)" test "$pids_before" = "$pids_after"
check "nothing redeployed ($deploys_before deploys before, $(grep -cE "^nodes/[^ ]*/control/deploy " "$WORK/bus.log") after)" \
	test "$deploys_before" = "$(grep -cE "^nodes/[^ ]*/control/deploy " "$WORK/bus.log")"
check "no instance CREATING again" test "$creating_before" = "$(bus_count "clusters/$CID/jobs/state" '"state":"CREATING"')"
nsrv=$(for n in $live_nodes; do ls "$WORK/n$n"/instances/ | grep -c "^$JOB\."; done | awk "{s+=\$1} END {print s}")
check "exactly 3 srv instances exist ($nsrv)" test "$nsrv" = 3
check "the restarted cluster reports 2 active nodes" bash -c "for i in \$(seq 60); do grep '^clusters/$CID/information ' $WORK/bus.log | tail -1 | grep -q '\"active_nodes\":2' && exit 0; sleep 0.1; done; exit 1"
QN=$TAG-n$(echo $live_nodes | cut -d' ' -f2)
pub -t "nodes/$QN/net/tablequery/request" -m "{\"node_id\":\"$QN\",\"job_name\":\"$JOB\"}"
check "after the restart a table query answers 3 running instances" \
	bash -c "for i in \$(seq 30); do grep '^nodes/$QN/net/tablequery/result ' $WORK/bus.log | tail -1 | grep -o '\"state\":\"RUNNING\"' | wc -l | grep -qx 3 && exit 0; sleep 0.1; done; exit 1"
check "subnets unchanged across the restart" test "$(grep -E "^nodes/$TAG-n[123]/net/subnet " "$WORK/bus.log" | grep -oE '"node_id":"[^"]*","cluster_id":"[^"]*","subnet":"[^"]*"' | sort -u | wc -l)" = 3

# --- a service of another cluster: the query goes to the root
pub -t "nodes/$QN/net/tablequery/request" -m "{\"node_id\":\"$QN\",\"service_ip\":\"10.30.77.77\"}"
check "an unknown Service IP is asked of the root" bus_has "clusters/$CID/net/tablequery/request" '"service_ip":"10.30.77.77"'
RT="{\"job_name\":\"app.test.far.test\",\"service_id\":\"s-far\",\"query_ip\":\"10.30.77.77\",\"found\":true,\"rr_ip\":\"10.30.77.77\",\"instances\":[{\"instance_number\":0,\"instance_ip\":\"10.30.7.1\",\"node_id\":\"far1\",\"node_ip\":\"192.168.100.77\",\"cluster_id\":\"other\",\"state\":\"RUNNING\"}]}"
pub -t "clusters/$CID/net/tablequery/result" -m "$RT"
check "the root's answer reaches the node" bus_has "nodes/$QN/net/tablequery/result" '"job_name":"app.test.far.test".*"found":true.*"10.30.7.1"'
pub -t "clusters/$CID/jobs/updates_available" -m "${RT/10.30.7.1/10.30.7.2}"
check "the root's update reaches the interested nodes" bus_has "jobs/app.test.far.test/updates_available" '"10.30.7.2"'
pub -t "nodes/$QN/net/interest/remove" -m "{\"node_id\":\"$QN\",\"job_name\":\"app.test.far.test\"}"
check "when no node needs it, the cluster drops its interest at the root" bus_has "clusters/$CID/net/interest/remove" '"job_name":"app.test.far.test"'

# --- scale and undeploy through the root topics
pub -t "clusters/$CID/control/scale" -m "{\"service_id\":\"s-$JOB\",\"job_name\":\"$JOB\",\"replicas\":4}"
check "scale to 4: srv.3 RUNNING with a cluster-allocated Instance IP" bus_has "clusters/$CID/jobs/state" "\"job_name\":\"$JOB\",.*\"instance_number\":3,\"state\":\"RUNNING\",\"instance_ip\":\"10\.30\." 15
pub -t "clusters/$CID/control/undeploy" -m "{\"service_id\":\"s-$JOB\",\"job_name\":\"$JOB\",\"instance_number\":-1}"
for i in 0 1 2 3; do
	check "srv.$i UNDEPLOYED" bus_has "clusters/$CID/jobs/state" "\"job_name\":\"$JOB\",.*\"instance_number\":$i,\"state\":\"UNDEPLOYED\"" 10
done

kill "$CLUSTER"
wait "$CLUSTER" 2>/dev/null
CLUSTER=
# the broker may pass the last messages on after the process is gone
# (aedes did, by a few hundred ms): up to 5 s
last_offline() {
	local i
	for i in $(seq 50); do
		grep '^cluster/status ' "$WORK/bus.log" | tail -1 | grep -q '"online":false' &&
			grep "^clusters/$CID/status " "$WORK/bus.log" | tail -1 | grep -q '"online":false' &&
			return 0
		sleep 0.1
	done
	return 1
}
check "a clean stop says offline to the nodes and the root" last_offline
if [ "$FAILED" -ne 0 ]; then
	echo "--- cluster.log (tail)"
	tail -40 "$WORK/cluster.log"
	for n in 1 2 3; do echo "--- agent$n.log (tail)"; tail -15 "$WORK/agent$n.log"; done
fi
cl_cleanup
check "no namespace left behind" bash -c "! ip netns list | grep -q '^$TAG-'"
check "no BPF pins left behind" bash -c "! ls /sys/fs/bpf/oak/ 2>/dev/null | grep -q '^$TAG-'"
trap - EXIT
finish
