#!/usr/bin/env bash
# End-to-end test of where oak-cluster's node subnets come from: a real
# mosquitto on the underlay (cluster and root broker in one), oak-cluster,
# one oak-node, and this script standing in for the root (and for further
# nodes, by publishing their hello) with mosquitto_pub. Needs root.
#
#  - a new node: the cluster asks clusters/<cid>/net/subnet/request and waits;
#    the root's answer reaches the node, which takes it
#  - the root does not answer: after subnet_timeout a /26 of subnet_block
#  - restart: the root's subnet is handed out again without asking; a block
#    subnet is asked of the root to confirm it (as "previous"), and the
#    root's later answer replaces it
#  - answers for unknown nodes or outside 10.18.0.0/16 are refused
#  - subnet_block set explicitly, or no root broker: the block at once, no
#    request
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
TAG=${TAG:-oks$$}
source "$HERE/topo.sh"
source "$HERE/bus.sh"
WORK=/tmp/$TAG
BROKER=192.168.100.254
CID=$TAG-c
declare -A AGENT
CLUSTER=

cs_cleanup() {
	[ -n "$CLUSTER" ] && kill "$CLUSTER" 2>/dev/null
	agents_stop
	bus_stop
	topo_cleanup
	oak_cgroups_remove
	pins_and_work_cleanup
}
trap cs_cleanup EXIT
trap 'exit 130' INT TERM
mkdir -p "$WORK"

topo_switch
topo_node 1
bus_start 'nodes/#' 'clusters/#'

# start_cluster CLUSTER_ID [OPTION...]: node_timeout 10 s keeps the nodes
# this script plays (they only say hello) alive for the whole test
start_cluster() {
	local cid=$1
	shift
	nsenter --net="/run/netns/$TAG-sw" "$OAK_BIN/oak-cluster" --cluster_id "$cid" \
		--broker_host $BROKER --state_dir "$WORK/$cid" --node_timeout 10 \
		--subnet_timeout 3 --log_level debug "$@" >>"$WORK/cluster-$cid.log" 2>&1 &
	CLUSTER=$!
}
cluster_up() { # CLUSTER_ID: connected to the cluster broker (and subscribed)
	in_log "$WORK/cluster-$1.log" "bus cluster-$1: connected" 5 && sleep 0.5
}
stop_cluster() {
	kill "$CLUSTER"
	wait "$CLUSTER" 2>/dev/null
	CLUSTER=
}
start_agent() {
	local n=$1
	nsenter --net="/run/netns/$TAG-n$n" "$OAK_BIN/oak-node" --node_id "$TAG-n$n" --broker_host $BROKER \
		--node_ip "$(node_ip "$n")" --uplink up0 --uplink_mode tc \
		--state_dir "$WORK/n$n" --log_level debug >>"$WORK/agent$n.log" 2>&1 &
	AGENT[$n]=$!
}
hello() { # NODE_ID: a node's hello as an agent sends it
	pub -t "nodes/$1/hello" -m "{\"node_id\":\"$1\",\"underlay_ip\":\"192.168.100.${2:-50}\",\"architecture\":\"amd64\",\"virtualization\":[\"native\"],\"vcpus\":2,\"memory_mb\":1024,\"boot_id\":\"b-$1\"}"
}
root_subnet() { # CLUSTER_ID NODE_ID SUBNET: the root's answer
	pub -t "clusters/$1/net/subnet" -m "{\"node_id\":\"$2\",\"cluster_id\":\"$1\",\"subnet\":\"$3\"}"
}
requests() { bus_count "clusters/$1/net/subnet/request" "\"node_id\":\"$2\""; }
subnets_of() { grep "^nodes/$1/net/subnet " "$WORK/bus.log" | grep -oE '"subnet":"[^"]*"' | cut -d'"' -f4; }
in_log() { # FILE REGEX [TIMEOUT_S]
	local i
	for i in $(seq $((${3:-5} * 10))); do
		grep -qE "$2" "$1" && return 0
		sleep 0.1
	done
	return 1
}
N1=$TAG-n1
F2=$TAG-f2
BLOCK='10\.18\.([0-9]|1[0-5])\.[0-9]+/26' # the default subnet_block, 10.18.0.0/20

# --- a new node: asked of the root, handed to the node
start_cluster "$CID"
start_agent 1
check "the cluster asks the root for n1's subnet" bus_has "clusters/$CID/net/subnet/request" "\"cluster_id\":\"$CID\",\"node_id\":\"$N1\""
check "the request names no previous subnet (n1 is new)" \
	bash -c "! grep '^clusters/$CID/net/subnet/request ' $WORK/bus.log | grep -q '\"previous\":\"10'"
check "n1 gets no subnet before the root answers" test -z "$(subnets_of "$N1")"
root_subnet "$CID" "$N1" 10.18.200.0/26
check "the root's subnet reaches n1" bus_has "nodes/$N1/net/subnet" '"subnet":"10\.18\.200\.0/26"'
check "n1 takes it" in_log "$WORK/agent1.log" 'subnet: 10\.18\.200\.0/26'
sleep 3.5 # past subnet_timeout
check "n1 never got another subnet ($(subnets_of "$N1" | sort -u | tr '\n' ' '))" test "$(subnets_of "$N1" | sort -u)" = 10.18.200.0/26

# --- the root does not answer: a subnet of the block after subnet_timeout
t0=$(date +%s.%N)
hello "$F2"
check "f2's subnet is asked of the root" bus_has "clusters/$CID/net/subnet/request" "\"node_id\":\"$F2\""
check "without an answer f2 gets a /26 of subnet_block" bus_has "nodes/$F2/net/subnet" "\"subnet\":\"$BLOCK\"" 10
t1=$(date +%s.%N)
check "only after subnet_timeout (3 s; $(printf %.1f "$(echo "$t1 - $t0" | bc)") s)" \
	test "$(echo "$t1 - $t0 >= 2.5" | bc)" = 1
check "the cluster says why" in_log "$WORK/cluster-$CID.log" "node $F2: no subnet from the root within 3\.0 s"
F2SUB=$(subnets_of "$F2" | tail -1)

# --- restart: the root's subnet is kept, the block's is asked to be confirmed
stop_cluster
start_cluster "$CID"
check "n1 gets the root's subnet again" \
	bash -c "for i in \$(seq 50); do [ \$(grep '^nodes/$N1/net/subnet ' $WORK/bus.log | grep -c '10\.18\.200\.0/26') -ge 2 ] && exit 0; sleep 0.1; done; exit 1"
check "without asking the root again ($(requests "$CID" "$N1") requests)" test "$(requests "$CID" "$N1")" = 1
check "f2's block subnet is asked of the root to confirm it" \
	bus_has "clusters/$CID/net/subnet/request" "\"node_id\":\"$F2\",\"previous\":\"$F2SUB\""
root_subnet "$CID" "$F2" 10.18.201.0/26
check "the root's later answer replaces f2's block subnet" bus_has "nodes/$F2/net/subnet" '"subnet":"10\.18\.201\.0/26"'

# --- answers that are not for a node of this cluster
root_subnet "$CID" "$TAG-nosuch" 10.18.202.0/26
root_subnet "$CID" "$N1" 10.19.0.0/26
root_subnet "$CID" "$N1" 10.18.5.0/24
check "an answer for an unknown node is refused" in_log "$WORK/cluster-$CID.log" "node_id: no node '$TAG-nosuch' here; ignored"
check "a subnet outside 10.18.0.0/16 is refused" in_log "$WORK/cluster-$CID.log" 'rejected: subnet: "10\.19\.0\.0/26" is not a network prefix inside 10\.18\.0\.0/16'
check "a subnet that is not a /26 is refused" in_log "$WORK/cluster-$CID.log" "'10\.18\.5\.0/24' is not a /26 of 10\.18\.0\.0/16"
check "n1 keeps the root's subnet" test "$(subnets_of "$N1" | sort -u)" = 10.18.200.0/26
check "nothing reaches the unknown node" test -z "$(subnets_of "$TAG-nosuch")"
stop_cluster
agents_stop
AGENT=()

# --- subnet_block set explicitly: only the block, never the root
C2=$TAG-c2
start_cluster "$C2" --subnet_block 10.18.64.0/20
cluster_up "$C2"
hello "$TAG-f3"
check "with subnet_block set, f3 gets a /26 of it at once" bus_has "nodes/$TAG-f3/net/subnet" '"subnet":"10\.18\.(6[4-9]|7[0-9])\.[0-9]+/26"' 2
check "and the root is not asked" test "$(bus_count "clusters/$C2/net/subnet/request" .)" = 0
root_subnet "$C2" "$TAG-f3" 10.18.203.0/26
check "an answer of the root is ignored then" in_log "$WORK/cluster-$C2.log" "the node subnet block is configured \(subnet_block\); ignored"
check "f3 keeps its block subnet" bash -c "! grep '^nodes/$TAG-f3/net/subnet ' $WORK/bus.log | grep -q 10.18.203"
stop_cluster

# --- no root broker: the block at once
C3=$TAG-c3
start_cluster "$C3" --root_broker_port 1884 # nothing listens there
cluster_up "$C3"
hello "$TAG-f4"
check "without a root, f4 gets a /26 of the block at once" bus_has "nodes/$TAG-f4/net/subnet" "\"subnet\":\"$BLOCK\"" 2
stop_cluster

if [ "$FAILED" -ne 0 ]; then
	for f in "$WORK"/cluster-*.log; do echo "--- $f (tail)"; tail -25 "$f"; done
	echo "--- agent1.log (tail)"
	tail -15 "$WORK/agent1.log"
fi
cs_cleanup
check "no namespace left behind" bash -c "! ip netns list | grep -q '^$TAG-'"
trap - EXIT
finish
