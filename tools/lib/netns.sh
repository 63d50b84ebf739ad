# shellcheck shell=bash
# Hosts made of network namespaces on one machine, and MQTT brokers on them:
# the one copy that tools/oak-local and the end-to-end test topology
# (tests/e2e/topo.sh, bus.sh) share. Nothing here touches the machine's own
# namespace: every address lives inside the namespaces made here.

# nsx NS CMD...: run in a namespace without 'ip netns exec', which remounts
# /sys and so hides bpffs (the pinned maps). nsenter execs CMD, so $! of
# "nsx NS CMD &" is CMD's own pid.
nsx() {
	local ns=$1
	shift
	nsenter --net="/run/netns/$ns" "$@"
}

# ns_switch NS: a namespace holding bridge br0, the underlay. br0 gets a
# fixed MAC: a bridge otherwise takes its lowest port's, so deleting a host
# could change the MAC of the addresses on br0 and cut every other host off
# them until their ARP entries expire.
ns_switch() {
	ip netns add "$1"
	ip -n "$1" link add br0 address 02:00:5e:00:53:01 type bridge
	ip -n "$1" link set br0 up
	ip -n "$1" link set lo up
}

# ns_host NS SWITCH PORT ADDR/PREFIX: namespace NS whose uplink up0 (a veth,
# its peer PORT on SWITCH's br0) has ADDR.
ns_host() {
	local ns=$1 sw=$2 port=$3 addr=$4
	ip netns add "$ns"
	ip link add up0 netns "$ns" type veth peer name "$port" netns "$sw"
	ip -n "$sw" link set "$port" master br0 up
	ip -n "$ns" addr add "$addr" dev up0
	ip -n "$ns" link set up0 up
	ip -n "$ns" link set lo up
}

# ns_has_netem SCRATCH_NS: can this kernel delay packets (sch_netem)? Makes
# and deletes a scratch namespace of that name.
ns_has_netem() {
	local ok=1
	ip netns add "$1"
	ip -n "$1" link add q0 type veth peer name q1
	tc -n "$1" qdisc add dev q0 root netem delay 1ms 2>/dev/null && ok=0
	ip netns del "$1"
	return $ok
}

# ns_wait_tcp NS ADDR PORT [TENTHS]: wait until something listens there
# (default up to 5 s).
ns_wait_tcp() {
	local i
	for i in $(seq "${4:-50}"); do
		nsx "$1" bash -c "</dev/tcp/$2/$3" 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# mqtt_conf FILE ADDR... : a mosquitto configuration listening on port 1883
# of each ADDR, anonymous, without persistence (a local test broker).
mqtt_conf() {
	local f=$1 a
	shift
	: >"$f"
	for a; do echo "listener 1883 $a" >>"$f"; done
	printf 'allow_anonymous true\npersistence false\n' >>"$f"
}
