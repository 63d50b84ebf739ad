#!/usr/bin/env bash
# End-to-end test of the closest policy with measured latencies: three
# oak-node agents probe each other on the tunnel port, write each backend's
# latency into their closest IPs' tables, and a client's flows to the closest
# IP go to the nearest instance. A real mosquitto on the underlay; this
# script plays the cluster. The "farther node" part needs sch_netem (skipped
# with a message where the kernel lacks it; the VM suite has it). Needs root.
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
TAG=${TAG:-okc$$}
source "$HERE/topo.sh"
source "$HERE/bus.sh"
PEER=$HERE/peer.py
WORK=/tmp/$TAG
BROKER=192.168.100.254
declare -A AGENT

closest_cleanup() {
	agents_stop
	bus_stop
	topo_cleanup
	oak_cgroups_remove
	rm -rf "$WORK"
}
trap closest_cleanup EXIT
trap 'exit 130' INT TERM
mkdir -p "$WORK"

topo_switch
topo_node 1
topo_node 2
topo_node 3
bus_start 'nodes/#' 'jobs/#'

start_agent() {
	local n=$1
	nsenter --net="/run/netns/$TAG-n$n" "$OAK_BIN/oak-node" --node_id "$TAG-n$n" --broker_host $BROKER \
		--node_ip "$(node_ip "$n")" --uplink up0 --uplink_mode tc \
		--state_dir "$WORK/n$n" --report_interval 2 --interest_idle 30 --probe_interval 1 \
		--log_level debug >>"$WORK/agent$n.log" 2>&1 &
	AGENT[$n]=$!
}
for n in 1 2 3; do
	pub -r -t "nodes/$TAG-n$n/net/subnet" -m "{\"node_id\":\"$TAG-n$n\",\"subnet\":\"10.18.0.$((64 * (n - 1)))/26\"}"
	start_agent "$n"
done
N1=$TAG-n1 N2=$TAG-n2 N3=$TAG-n3
for n in 1 2 3; do
	check "n$n registers" bus_has "nodes/$TAG-n$n/hello" "\"node_id\":\"$TAG-n$n\""
done
sleep 0.5 # subscriptions follow the hello
RR=10.30.60.60
CL=10.30.60.61
JOB=app.test.near.test
CJOB=app.test.cli.test
deploy() { # deploy NODE JOB N INST_IP CMD_JSON [RR] [CL]
	pub -t "nodes/$1/control/deploy" -m "{\"service_id\":\"s-$2\",\"job_name\":\"$2\",\"instance_number\":$3,\"instance_ip\":\"$4\",\"rr_ip\":\"${6:-}\",\"closest_ip\":\"${7:-}\",\"runtime\":\"native\",\"code\":\"python3\",\"cmd\":$5}"
}
deploy "$N2" $JOB 2 10.30.2.1 "[\"python3\",\"$PEER\",\"serve\",\"srv2\"]" $RR $CL
deploy "$N3" $JOB 3 10.30.3.1 "[\"python3\",\"$PEER\",\"serve\",\"srv3\"]" $RR $CL
deploy "$N1" $CJOB 1 10.30.1.9 '["sleep","100000"]' 10.30.61.60
deploy "$N2" $CJOB 2 10.30.2.9 '["sleep","100000"]' 10.30.61.60
check "srv.2 RUNNING on n2" bus_has "nodes/$N2/job" "\"job_name\":\"$JOB\".*RUNNING"
check "srv.3 RUNNING on n3" bus_has "nodes/$N3/job" "\"job_name\":\"$JOB\".*RUNNING"
check "client RUNNING on n1" bus_has "nodes/$N1/job" "\"job_name\":\"$CJOB\".*RUNNING"
check "client RUNNING on n2" bus_has "nodes/$N2/job" "\"job_name\":\"$CJOB\".*RUNNING"

inst() { # inst JOB N INST_IP NODE
	echo "{\"instance_number\":$2,\"instance_ip\":\"$3\",\"node_id\":\"$TAG-n$4\",\"node_ip\":\"$(node_ip "$4")\",\"state\":\"RUNNING\"}"
}
table() { # table QUERY_IP INSTANCES...
	local q=$1 list
	shift
	list=$(IFS=,; echo "$*")
	echo "{\"job_name\":\"$JOB\",\"service_id\":\"s-$JOB\",\"query_ip\":\"$q\",\"found\":true,\"rr_ip\":\"$RR\",\"closest_ip\":\"$CL\",\"instances\":[$list]}"
}
SRV2=$(inst $JOB 2 10.30.2.1 2)
SRV3=$(inst $JOB 3 10.30.3.1 3)
# n1 learns the table as the answer to a query for the closest IP (its
# client's first flow); the nodes running it through the job's topic; the
# client's table goes to the nodes that answer it (reply path)
pub -t "nodes/$N1/net/tablequery/result" -m "$(table $CL "$SRV2" "$SRV3")"
pub -t "jobs/$JOB/updates_available" -m "$(table "" "$SRV2" "$SRV3")"
CLI_TABLE="{\"job_name\":\"$CJOB\",\"service_id\":\"s-c\",\"query_ip\":\"10.30.1.9\",\"found\":true,\"rr_ip\":\"10.30.61.60\",\"instances\":[$(inst $CJOB 1 10.30.1.9 1),$(inst $CJOB 2 10.30.2.9 2)]}"
for n in 2 3; do pub -t "nodes/$TAG-n$n/net/tablequery/result" -m "$CLI_TABLE"; done

show() { oakdp "$1" show $CL 2>/dev/null; }
lat() { show "$1" | awk -v ip="$2" '$2 == ip { sub("latency_us=", "", $3); print $3 }'; }
wait_lat() { # wait_lat NODE IP TEST [SECS]: until the latency satisfies "test $lat TEST"
	local i v
	for i in $(seq $((${4:-10} * 10))); do
		v=$(lat "$1" "$2")
		[ -n "$v" ] && eval "[ $v $3 ]" && return 0
		sleep 0.1
	done
	return 1
}
check "n1 measured its RTT to n2 and wrote it for 10.30.2.1" wait_lat 1 10.30.2.1 "-gt 0"
check "n1 measured its RTT to n3 and wrote it for 10.30.3.1" wait_lat 1 10.30.3.1 "-gt 0"
echo "   n1: $(show 1 | tr '\n' ' ')"
first_is() { # first_is NODE IP: the backend in slot 1 (lowest latency)
	show "$1" | sed -n 2p | grep -q " $2 latency_us="
}
local_first() { wait_lat "$1" "$2" "-eq 1" && first_is "$1" "$2"; }
check "n2 ranks its local backend first with latency 1" local_first 2 10.30.2.1
check "n2 measured n3 for 10.30.3.1" wait_lat 2 10.30.3.1 "-gt 1"
echo "   n2: $(show 2 | tr '\n' ' ')"
check "n1 logs its latency writes" grep -q "closest $CL: latencies" "$WORK/agent1.log"
check "n1 reports its Vivaldi coordinate" bus_has "nodes/$N1/information" '"vivaldi":\{"x":' 10
ic() { nsx "$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["netns"])' "$WORK/n$1/instances/$2.json")" python3 "$PEER" ask-tcp "$3"; }
got=$(for _ in 1 2 3 4; do ic 2 $CJOB.2 $CL; done | sort | uniq -c | awk '{print $2 $1}' | tr -d '\n')
check "n2's client reaches its local instance through the closest IP every time: $got" test "$got" = srv24
got=$(for _ in 1 2 3 4; do ic 1 $CJOB.1 $CL; done | sort -u | tr -d '\n')
# sub-millisecond peers tie at the probe resolution (1 ms): round-robin among them
check "n1's client reaches the remote instances through the closest IP: $got" bash -c "[[ '$got' =~ ^(srv2|srv3|srv2srv3)$ ]]"
got=$(for _ in 1 2 3 4; do ic 1 $CJOB.1 $RR; done | sort -u | tr -d '\n')
check "the round-robin IP still reaches both: $got" test "$got" = srv2srv3

samples=$(grep -c "closest $CL: latencies" "$WORK/agent1.log")
sleep 3
check "steady latencies are not rewritten every probe ($samples -> $(grep -c "closest $CL: latencies" "$WORK/agent1.log") writes in 3 s)" \
	test "$(grep -c "closest $CL: latencies" "$WORK/agent1.log")" -le $((samples + 1))

# --- distance: make n3 20 ms farther (needs sch_netem)
if topo_has_netem; then
	topo_delay 3 20
	check "n1 sees n3 ~20 ms away" wait_lat 1 10.30.3.1 "-gt 15000" 15
	check "n1 still sees n2 near" wait_lat 1 10.30.2.1 "-lt 10000"
	echo "   n1: $(show 1 | tr '\n' ' ')"
	check "n1 ranks n2's backend first" first_is 1 10.30.2.1
	got=$(for _ in 1 2 3 4; do ic 1 $CJOB.1 $CL; done | sort | uniq -c | awk '{print $2 $1}' | tr -d '\n')
	check "n1's client reaches the nearer n2 every time: $got" test "$got" = srv24
	topo_delay 3 0
	check "n3 comes near again once the delay goes" wait_lat 1 10.30.3.1 "-lt 10000" 15
else
	skip "distance part: this kernel has no sch_netem (tc qdisc netem); runs in the VM suite"
fi

# --- a local instance appears on n1: the closest IP picks it
deploy "$N1" $JOB 1 10.30.1.1 "[\"python3\",\"$PEER\",\"serve\",\"srv1\"]" $RR $CL
check "srv.1 RUNNING on n1" bus_has "nodes/$N1/job" "\"job_name\":\"$JOB\".*RUNNING"
SRV1=$(inst $JOB 1 10.30.1.1 1)
pub -t "jobs/$JOB/updates_available" -m "$(table "" "$SRV1" "$SRV2" "$SRV3")"
check "n1 ranks the local backend first with latency 1" local_first 1 10.30.1.1
check "the remote backends keep their measured latencies" wait_lat 1 10.30.2.1 "-gt 1" 1
check "... n3's too" wait_lat 1 10.30.3.1 "-gt 1" 1
echo "   n1: $(show 1 | tr '\n' ' ')"
got=$(for _ in 1 2 3 4; do ic 1 $CJOB.1 $CL; done | sort | uniq -c | awk '{print $2 $1}' | tr -d '\n')
check "n1's client reaches the local instance through the closest IP every time: $got" test "$got" = srv14

# --- a silent peer: its backends lose their latency (ranked last)
kill -STOP "${AGENT[3]}"
ip -n "$N3" link set up0 down
check "n1 marks n3 unknown (latency 0) after unanswered probes" wait_lat 1 10.30.3.1 "-eq 0" 10
ip -n "$N3" link set up0 up
kill -CONT "${AGENT[3]}"
check "n1 measures n3 again once it answers" wait_lat 1 10.30.3.1 "-gt 1" 10

# --- undeploy
del() { pub -t "nodes/$1/control/delete" -m "{\"job_name\":\"$2\",\"instance_number\":$3}"; }
del "$N1" $JOB 1
del "$N2" $JOB 2
del "$N3" $JOB 3
del "$N1" $CJOB 1
del "$N2" $CJOB 2
check "srv.3 UNDEPLOYED" bus_has "nodes/$N3/job" "\"job_name\":\"$JOB\".*UNDEPLOYED"
check "srv.1 UNDEPLOYED" bus_has "nodes/$N1/job" "\"job_name\":\"$JOB\".*UNDEPLOYED"
for n in 1 2 3; do kill "${AGENT[$n]}"; done
for n in 1 2 3; do wait "${AGENT[$n]}" 2>/dev/null; done
AGENT=()
if [ "$FAILED" -ne 0 ]; then
	for n in 1 2 3; do echo "--- agent$n.log (tail)"; tail -25 "$WORK/agent$n.log"; done
fi
closest_cleanup
check "no namespace left behind" bash -c "! ip netns list | grep -q '^$TAG-'"
check "no BPF pins left behind" bash -c "! ls /sys/fs/bpf/oak/ 2>/dev/null | grep -q '^$TAG-'"
trap - EXIT
finish
