# shellcheck shell=bash
# Test hosts made of network namespaces, for end-to-end tests, the demo and
# benchmarks. Source it, set TAG (a short unique prefix), call topo_* and
# finally topo_cleanup (trap it). Nothing is added to the root namespace:
# every address lives inside the namespaces made here.
#
# Layout: a switch namespace "$TAG-sw" with bridge br0 is the underlay; node
# N is namespace "$TAG-nN" with uplink up0 = 192.168.100.N/24; its instance
# subnet is the /26 at 10.18.0.(64*(N-1)), gateway .1 on every host-side veth.

ROOT=${ROOT:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}
OAK_BIN=${OAK_BIN:-$ROOT/build/bin}
TAG=${TAG:-oak$$}
TOPO_PIDS=()
TOPO_NODES=()

# nsx, ns_switch, ns_host, ns_has_netem: shared with tools/oak-local.
source "$(cd "$(dirname "${BASH_SOURCE[0]}")/../../tools/lib" && pwd)/netns.sh"

topo_switch() { ns_switch "$TAG-sw"; }

node_ip() { echo "192.168.100.$1"; }
node_gw() { echo "10.18.0.$((64 * ($1 - 1) + 1))"; }

# topo_node N [DELAY_MS]: a node on the underlay.
topo_node() {
	local n=$1 ns="$TAG-n$1"
	ns_host "$ns" "$TAG-sw" "p$n" "$(node_ip "$n")/24"
	if [ -n "${2:-}" ]; then
		tc -n "$ns" qdisc add dev up0 root netem delay "${2}ms"
	fi
	TOPO_NODES+=("$n")
}

# Can this kernel delay packets (sch_netem)?
topo_has_netem() { ns_has_netem "$TAG-nq"; }

# topo_delay N MS: set (or clear with 0) the delay of node N's uplink.
topo_delay() {
	local ns="$TAG-n$1"
	tc -n "$ns" qdisc del dev up0 root 2>/dev/null || true
	if [ "$2" != 0 ]; then
		tc -n "$ns" qdisc add dev up0 root netem delay "${2}ms"
	fi
}

# topo_instance N NAME K: instance namespace "$TAG-n$N-$NAME" with eth0 at
# address K of node N's block, MTU for the tunnel, tx checksum offload off
# (so a wrong checksum is caught, not hidden by offload).
topo_instance() {
	local n=$1 name=$2 k=$3 nns="$TAG-n$1" ins="$TAG-n$1-$2"
	local gw ip
	gw=$(node_gw "$n")
	ip="10.18.0.$((64 * (n - 1) + 1 + k))"
	ip netns add "$ins"
	ip link add "ve-$name" netns "$nns" type veth peer name eth0 netns "$ins"
	ip -n "$nns" addr add "$gw/32" dev "ve-$name"
	ip -n "$nns" link set "ve-$name" up
	ip -n "$nns" route add "$ip/32" dev "ve-$name"
	ip -n "$ins" link set lo up
	ip -n "$ins" link set eth0 mtu 1450 up
	ip -n "$ins" addr add "$ip/32" dev eth0
	ip -n "$ins" route add "$gw" dev eth0 scope link
	ip -n "$ins" route add default via "$gw" dev eth0
	nsx "$ins" ethtool -K eth0 tx off >/dev/null
	echo "$ip"
}

inst_ns() { echo "$TAG-n$1-$2"; }
inst_mac() { ip -n "$(inst_ns "$1" "$2")" -br link show eth0 | awk '{print $3}'; }

# Start a background process in a namespace; it is killed by topo_cleanup.
# nsenter execs the command, so the recorded pid is the process itself.
# Call it directly (not in a pipeline or $(...)) so the pid is recorded here;
# TOPO_LAST_PID is the pid.
topo_bg() {
	local ns=$1
	shift
	nsenter --net="/run/netns/$ns" "$@" &
	TOPO_LAST_PID=$!
	TOPO_PIDS+=($!)
}

oakdp() {
	local n=$1
	shift
	nsx "$TAG-n$n" "$OAK_BIN/oak-dp" -n "$TAG-n$n" "$@"
}

topo_cleanup() {
	local p n ns
	for p in "${TOPO_PIDS[@]}"; do
		kill "$p" 2>/dev/null || true
	done
	for p in "${TOPO_PIDS[@]}"; do
		wait "$p" 2>/dev/null || true
	done
	TOPO_PIDS=()
	for n in "${TOPO_NODES[@]}"; do
		[ -e "/run/netns/$TAG-n$n" ] && oakdp "$n" purge 2>/dev/null || true
	done
	for ns in $(ip netns list | awk '{print $1}' | grep "^$TAG-" || true); do
		ip netns del "$ns" 2>/dev/null || true
	done
	TOPO_NODES=()
}

# A tiny assertion framework: check DESC CMD... ; finish prints the totals.
PASSED=0
FAILED=0
SKIPPED=0
skip() {
	SKIPPED=$((SKIPPED + 1))
	echo "skip - $1"
}
check() {
	local desc=$1
	shift
	if "$@"; then
		PASSED=$((PASSED + 1))
		echo "ok   - $desc"
	else
		FAILED=$((FAILED + 1))
		echo "FAIL - $desc"
	fi
}
finish() {
	echo "$PASSED passed, $FAILED failed, $SKIPPED skipped"
	[ "$FAILED" -eq 0 ]
}
