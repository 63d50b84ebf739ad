#!/usr/bin/env bash
# End-to-end test of oak-node: a real mosquitto broker on the underlay (in
# the switch namespace), two agents in their own node namespaces, and this
# script acting as the cluster with mosquitto_pub. Needs root.
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
TAG=${TAG:-okn$$}
source "$HERE/topo.sh"
source "$HERE/bus.sh"
PEER=$HERE/peer.py
WORK=/tmp/$TAG
BROKER=192.168.100.254
declare -A AGENT

node_cleanup() {
	agents_stop
	[ -n "${HBL:-}" ] && kill "$HBL" 2>/dev/null
	bus_stop
	topo_cleanup
	oak_cgroups_remove
	rm -rf "$WORK"
}
trap node_cleanup EXIT
mkdir -p "$WORK"

topo_switch
topo_node 1
topo_node 2

# --- the cluster's broker, on the underlay only
bus_start 'nodes/#' 'jobs/#'
# stands in for oak-cluster's heartbeat socket (broker host, UDP 50104):
# one line per datagram, "<time> <len> <hex>"
nsenter --net="/run/netns/$TAG-sw" python3 -u -c '
import socket, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind((sys.argv[1], 50104))
while True:
    d, a = s.recvfrom(2048)
    print("%.3f %d %s" % (time.time(), len(d), d.hex()), flush=True)
' $BROKER >"$WORK/hb.log" 2>&1 &
HBL=$!
sleep 0.3

# n1 reports every 2 s (the report cadence check); n2 keeps the default
# report_interval (10 s): the idle-node MQTT message count below
start_agent() {
	local n=$1 ri=()
	[ "$n" = 1 ] && ri=(--report_interval 2)
	nsenter --net="/run/netns/$TAG-n$n" "$OAK_BIN/oak-node" --node_id "$TAG-n$n" --broker_host $BROKER \
		--node_ip "$(node_ip "$n")" --uplink up0 --uplink_mode tc \
		--state_dir "$WORK/n$n" "${ri[@]}" --interest_idle 12 \
		--restart_backoff_ms 200 --log_level debug >>"$WORK/agent$n.log" 2>&1 &
	AGENT[$n]=$!
}
N1=$TAG-n1
N2=$TAG-n2
# subnets come from the cluster, retained so the order does not matter
pub -r -t "nodes/$N1/net/subnet" -m "{\"node_id\":\"$N1\",\"subnet\":\"10.18.0.0/26\"}"
pub -r -t "nodes/$N2/net/subnet" -m "{\"node_id\":\"$N2\",\"subnet\":\"10.18.0.64/26\"}"
start_agent 1
start_agent 2

# --- registration and reports
check "n1 says hello with its underlay address" bus_has "nodes/$N1/hello" "\"underlay_ip\":\"192.168.100.1\""
check "n2 says hello" bus_has "nodes/$N2/hello" "\"node_id\":\"$N2\""
check "n1 is online (retained status)" bus_has "nodes/$N1/status" '"online":true'
bus_has "nodes/$N1/information" . >/dev/null
info=$(grep "^nodes/$N1/information " "$WORK/bus.log" | tail -1)
echo "   $info"
check "n1 reports resources from /proc (vcpus, memory, native runtime)" \
	bash -c "grep -q '\"vcpus\":$(nproc)[,}]' <<<'$info' && grep -q '\"memory\":[1-9]' <<<'$info' && grep -q '\"native\"' <<<'$info'"
# idle n2 (default report_interval, no instance): count its MQTT messages
# over 30 s once its start-up messages are out; liveness is the UDP
# heartbeat, not the bus
bus_has "nodes/$N2/information" . >/dev/null
sleep 2
idle0=$(grep -c "^nodes/$N2/" "$WORK/bus.log")
hb0=$(wc -l <"$WORK/hb.log")
IDLE_T0=$(date +%s.%N)
sleep 6 # three intervals and a margin for a loaded machine
reports=$(bus_count "nodes/$N1/information" .)
check "n1 reports at least every report interval (2 s): $reports reports" test "$reports" -ge 3
sleep $(python3 -c "import sys,time; print(max(0, 30 - (time.time() - float(sys.argv[1]))))" "$IDLE_T0")
idle=$(($(grep -c "^nodes/$N2/" "$WORK/bus.log") - idle0))
echo "IDLE_MQTT_MSGS_PER_30S=$idle"
grep "^nodes/$N2/" "$WORK/bus.log" | tail -n "$idle" | cut -c1-100 | sed 's/^/   /'
check "idle n2 publishes at most 5 MQTT messages in 30 s: $idle" test "$idle" -le 5
N2HEX=$(printf '%s' "$N2" | od -An -tx1 | tr -d ' \n')
hbs=$(tail -n +$((hb0 + 1)) "$WORK/hb.log" | awk -v id="$N2HEX" '$3 ~ /^a56f686201/ && substr($3, 57) == id' | wc -l)
check "n2 sent a UDP heartbeat about every second meanwhile: $hbs in 30 s" test "$hbs" -ge 27
check "heartbeats are at most 64 bytes" bash -c "awk '\$2 > 64 {exit 1}' $WORK/hb.log"

# --- deploy a native service on both nodes, and a client on n1
JOB=app.test.srv.test
deploy() { # deploy NODE JOB N INST_IP CMD_JSON [EXTRA]
	pub -t "nodes/$1/control/deploy" -m "{\"service_id\":\"s-$2\",\"job_name\":\"$2\",\"instance_number\":$3,\"instance_ip\":\"$4\",\"rr_ip\":\"${RR:-}\",\"closest_ip\":\"${CL:-}\",\"runtime\":\"native\",\"code\":\"python3\",\"cmd\":$5${6:+,$6}}"
}
RR=10.30.30.30 CL=10.30.30.31 deploy "$N1" $JOB 0 10.30.1.1 "[\"python3\",\"$PEER\",\"serve\",\"srv0\"]" '"memory":64,"vcpus":0.5'
RR=10.30.30.30 CL=10.30.30.31 deploy "$N2" $JOB 1 10.30.2.1 "[\"python3\",\"$PEER\",\"serve\",\"srv1\"]"
RR=10.30.40.40 deploy "$N1" app.test.cli.test 0 10.30.1.9 '["sleep","100000"]'
check "srv.0 CREATING then RUNNING on n1" bus_has "nodes/$N1/job" "\"job_name\":\"$JOB\".*\"state\":\"RUNNING\""
check "srv.1 RUNNING on n2" bus_has "nodes/$N2/job" "\"job_name\":\"$JOB\".*\"state\":\"RUNNING\""
check "client RUNNING on n1" bus_has "nodes/$N1/job" '"job_name":"app.test.cli.test".*"state":"RUNNING"'
check "n1 reported CREATING first" bus_has "nodes/$N1/job" "\"job_name\":\"$JOB\".*\"state\":\"CREATING\""
check "n1 asked the cluster for the service's table" bus_has "nodes/$N1/net/tablequery/request" "\"job_name\":\"$JOB\""

rec() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$WORK/n$1/instances/$2.json" "$3"; }
SRV0_NS=$(rec 1 $JOB.0 netns)
CLI_NS=$(rec 1 app.test.cli.test.0 netns)
SRV0_VETH=$(rec 1 $JOB.0 veth)
check "srv.0 runs in its own namespace $SRV0_NS with eth0 10.18.0.2, MTU 1450" \
	bash -c "ip -n $SRV0_NS -br addr show eth0 | grep -q 10.18.0.2/32 && ip -n $SRV0_NS link show eth0 | grep -q 'mtu 1450'"
check "host side $SRV0_VETH holds the gateway 10.18.0.1 in n1" bash -c "ip -n $N1 -br addr show $SRV0_VETH | grep -q 10.18.0.1/32"
cg=/sys/fs/cgroup/memory/oak/$N1/$SRV0_VETH
if [ -d /sys/fs/cgroup/memory/oak ]; then
	check "srv.0 cgroup has the SLA memory limit (64 MB)" test "$(cat $cg/memory.limit_in_bytes)" = $((64 * 1024 * 1024))
	check "srv.0 process is in its cgroup" grep -qx "$(rec 1 $JOB.0 pid)" $cg/cgroup.procs
	check "srv.0 cpu quota 0.5 vcpus" test "$(cat /sys/fs/cgroup/cpu/oak/$N1/$SRV0_VETH/cpu.cfs_quota_us)" = 50000
fi

# --- the cluster's table: both instances (every interested node gets it)
TABLE="{\"job_name\":\"$JOB\",\"service_id\":\"s-$JOB\",\"found\":true,\"rr_ip\":\"10.30.30.30\",\"closest_ip\":\"10.30.30.31\",\"instances\":[{\"instance_number\":0,\"instance_ip\":\"10.30.1.1\",\"node_id\":\"$N1\",\"node_ip\":\"192.168.100.1\",\"state\":\"RUNNING\"},{\"instance_number\":1,\"instance_ip\":\"10.30.2.1\",\"node_id\":\"$N2\",\"node_ip\":\"192.168.100.2\",\"state\":\"RUNNING\"}]}"
pub -t "jobs/$JOB/updates_available" -m "$TABLE"
# replies from n2 go to the client's Instance IP: n2 asks for it (a miss on
# an Instance IP) and the cluster answers with the client's table
CLI_TABLE="{\"job_name\":\"app.test.cli.test\",\"service_id\":\"s-c\",\"query_ip\":\"10.30.1.9\",\"found\":true,\"rr_ip\":\"10.30.40.40\",\"instances\":[{\"instance_number\":0,\"instance_ip\":\"10.30.1.9\",\"node_id\":\"$N1\",\"node_ip\":\"192.168.100.1\",\"state\":\"RUNNING\"}]}"
pub -t "nodes/$N2/net/tablequery/result" -m "$CLI_TABLE"
sleep 1
inc() { nsx "$CLI_NS" "$@"; }
seen=$(for _ in 1 2 3 4; do inc python3 "$PEER" ask-tcp 10.30.30.30; done | sort | uniq -c | awk '{print $2 $1}' | tr -d '\n')
check "client reaches both instances through the round-robin IP: $seen" test "$seen" = srv02srv12
check "8 MB through the round-robin IP arrive intact" bash -c "for i in 1 2; do nsenter --net=/run/netns/$CLI_NS python3 $PEER send 10.30.30.30 8000000 >/dev/null || exit 1; done"

# --- miss: an unknown Service IP makes n1 ask, the answer programs it
OJOB=app.test.oth.test
RR=10.30.50.50 deploy "$N2" $OJOB 0 10.30.2.5 "[\"python3\",\"$PEER\",\"serve\",\"oth\"]"
bus_has "nodes/$N2/job" "\"job_name\":\"$OJOB\".*RUNNING" >/dev/null
inc python3 "$PEER" ask-tcp 10.30.50.50 >/dev/null 2>&1 &
check "a flow to unknown 10.30.50.50 makes n1 send a table query" bus_has "nodes/$N1/net/tablequery/request" '"service_ip":"10.30.50.50"'
pub -t "nodes/$N1/net/tablequery/result" -m "{\"job_name\":\"$OJOB\",\"service_id\":\"s-o\",\"query_ip\":\"10.30.50.50\",\"found\":true,\"rr_ip\":\"10.30.50.50\",\"instances\":[{\"instance_number\":0,\"instance_ip\":\"10.30.2.5\",\"node_id\":\"$N2\",\"node_ip\":\"192.168.100.2\",\"state\":\"RUNNING\"}]}"
sleep 0.5
got=$(inc python3 "$PEER" ask-tcp 10.30.50.50 2>&1)
check "after the answer, 10.30.50.50 reaches its instance on n2: $got" test "$got" = oth

# --- SIGKILL the agent during a transfer; restart; nothing restarted or duplicated
pids_before="$(rec 1 $JOB.0 pid) $(rec 1 app.test.cli.test.0 pid)"
ns_before=$(ip netns list | grep -c "^$N1-i")
inc python3 "$PEER" send 10.30.30.30 30000000 6 >"$WORK/long.log" 2>&1 &
long=$!
sleep 1.5
kill -9 "${AGENT[1]}"
wait "${AGENT[1]}" 2>/dev/null
check "the cluster learns of the crash from n1's last will" bus_has "nodes/$N1/status" '"online":false' 15
wait $long
check "a 6 s transfer survives SIGKILL of the agent: $(cat "$WORK/long.log")" grep -q ok "$WORK/long.log"
jobs_before=$(bus_count "nodes/$N1/job" '"state":"CREATING"')
hello_before=$(bus_count "nodes/$N1/hello" .)
start_agent 1
check "restarted n1 says hello again" bash -c "for i in \$(seq 100); do [ \$(grep -c '^nodes/$N1/hello ' $WORK/bus.log) -gt $hello_before ] && exit 0; sleep 0.1; done; exit 1"
sleep 1
pids_after="$(rec 1 $JOB.0 pid) $(rec 1 app.test.cli.test.0 pid)"
check "instances adopted, not restarted (pids $pids_before -> $pids_after)" test "$pids_before" = "$pids_after"
check "the processes still run" bash -c "kill -0 ${pids_after% *} && kill -0 ${pids_after#* }"
check "no namespace duplicated ($ns_before -> $(ip netns list | grep -c "^$N1-i"))" test "$ns_before" = "$(ip netns list | grep -c "^$N1-i")"
check "no instance created again (CREATING reports: $jobs_before -> $(bus_count "nodes/$N1/job" '"state":"CREATING"'))" \
	test "$jobs_before" = "$(bus_count "nodes/$N1/job" '"state":"CREATING"')"
check "n1 re-reported srv.0 RUNNING after restart" bash -c "[ \$(grep '^nodes/$N1/job ' $WORK/bus.log | grep '\"job_name\":\"$JOB\"' | grep -c RUNNING) -ge 2 ]"
check "n1 logged the adoption" grep -q "adopted (pid" "$WORK/agent1.log"
pub -t "jobs/$JOB/updates_available" -m "$TABLE"
seen=$(for _ in 1 2 3 4; do inc python3 "$PEER" ask-tcp 10.30.30.30; done | sort -u | tr -d '\n')
check "the round-robin IP still reaches both after the restart: $seen" test "$seen" = srv0srv1

# --- crash handling: restarts with backoff, then DEAD; one_shot -> COMPLETED
deploy "$N2" app.test.bad.test 0 10.30.2.7 '["sh","-c","exit 3"]'
check "a crashing instance is reported FAILED (exit code 3)" bus_has "nodes/$N2/job" '"job_name":"app.test.bad.test".*"state":"FAILED".*exit(ed)? with code 3|"job_name":"app.test.bad.test".*"state":"FAILED"' 10
check "after 3 restarts it is DEAD" bus_has "nodes/$N2/job" '"job_name":"app.test.bad.test".*"state":"DEAD"' 15
check "restarted exactly 3 times ($(grep -c 'app.test.bad.test.0: restart' "$WORK/agent2.log"))" test "$(grep -c 'app.test.bad.test.0: restart' "$WORK/agent2.log")" = 3
deploy "$N2" app.test.one.test 0 10.30.2.8 '["true"]' '"one_shot":true'
check "a one_shot instance exiting 0 is COMPLETED" bus_has "nodes/$N2/job" '"job_name":"app.test.one.test".*"state":"COMPLETED"'
check "DEAD and COMPLETED instances leave no namespace on n2" bash -c "[ \$(ip netns list | grep -c '^$N2-i') = 2 ]"

# --- undeploy everything
del() { pub -t "nodes/$1/control/delete" -m "{\"job_name\":\"$2\",\"instance_number\":$3}"; }
del "$N1" $JOB 0
del "$N1" app.test.cli.test 0
del "$N2" $JOB 1
del "$N2" $OJOB 0
check "srv.0 UNDEPLOYED" bus_has "nodes/$N1/job" "\"job_name\":\"$JOB\".*UNDEPLOYED"
check "srv.1 UNDEPLOYED" bus_has "nodes/$N2/job" "\"job_name\":\"$JOB\".*UNDEPLOYED"
check "oth UNDEPLOYED" bus_has "nodes/$N2/job" "\"job_name\":\"$OJOB\".*UNDEPLOYED"
sleep 1
check "no instance namespace left" bash -c "! ip netns list | grep -q '^$TAG-n[12]-i'"
check "no instance veth left" bash -c "! ip -n $N1 link | grep -q ' oak' && ! ip -n $N2 link | grep -q ' oak'"
alive() { [ -e "/proc/$1/stat" ] && ! awk '{exit !($3=="Z")}' "/proc/$1/stat"; }
check "instance processes gone" bash -c "$(declare -f alive); ! alive ${pids_after% *} && ! alive ${pids_after#* }"
check "no records left" bash -c "! ls $WORK/n1/instances/*.json $WORK/n2/instances/*.json 2>/dev/null"
check "no instance cgroups left" bash -c "! ls -d /sys/fs/cgroup/*/oak/$N1/oak* /sys/fs/cgroup/*/oak/$N2/oak* 2>/dev/null"
# interests idle for interest_idle (12 s) are dropped with their map entries
check "n1 drops its idle interest in srv" bus_has "nodes/$N1/net/interest/remove" "\"job_name\":\"$JOB\"" 20
check "n1 drops its idle interest in oth" bus_has "nodes/$N1/net/interest/remove" "\"job_name\":\"$OJOB\"" 20
sleep 1
entries() { bpftool map dump pinned "/sys/fs/bpf/oak/$1/$2" 2>/dev/null | grep -c '"key"'; }
check "n1's instance map is empty ($(entries "$N1" oak_inst_v1))" test "$(entries "$N1" oak_inst_v1)" = 0
SVC_MAP=$(sed -n 's/^#define OAK_MAP_SVC[[:space:]]*"\(.*\)"/\1/p' "$HERE/../../include/oak/datapath.h")
check "n1's service map $SVC_MAP is empty ($(entries "$N1" "$SVC_MAP"))" bash -c "[ -e /sys/fs/bpf/oak/$N1/$SVC_MAP ] && [ $(entries "$N1" "$SVC_MAP") = 0 ]"
check "n1's local map is empty ($(entries "$N1" oak_local_v1))" test "$(entries "$N1" oak_local_v1)" = 0

kill "${AGENT[1]}" "${AGENT[2]}"
wait "${AGENT[1]}" "${AGENT[2]}" 2>/dev/null
check "a clean stop says offline" bus_has "nodes/$N2/status" '"online":false'
AGENT=()
if [ "$FAILED" -ne 0 ]; then
	for n in 1 2; do echo "--- agent$n.log (tail)"; tail -30 "$WORK/agent$n.log"; done
fi
node_cleanup
check "no namespace left behind" bash -c "! ip netns list | grep -q '^$TAG-'"
check "no BPF pins left behind" bash -c "! ls /sys/fs/bpf/oak/ 2>/dev/null | grep -q '^$TAG-'"
trap - EXIT
finish
