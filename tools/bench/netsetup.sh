#!/usr/bin/env bash
# Time per instance network set-up on a node, before and after: the ten
# `ip` runs (and the forked ethtool child) oak-node made per instance until
# now, against agent/netlink.c (rtnetlink and setns in the agent's own
# process) through oak-netsetup-bench. Both make the same thing: a named
# network namespace, a veth pair with eth0 inside (MAC, MTU 1450), the
# gateway /32 and a /32 route on the host side, the instance /32 and the
# routes inside, links up, tx checksum offload off. Everything happens
# inside one scratch namespace (the node's), removed at the end. Needs root.
#
#   tools/bench/netsetup.sh [N]      (default 50 instances each way, at most 61)
#
# Last line: RESULT ip_create_ms=... netlink_create_ms=... speedup=...
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
N=${1:-50}
BIN=${OAK_BIN:-$ROOT/build/bin}/oak-netsetup-bench
TAG=ns$(($$ % 100000))
[ -x "$BIN" ] || { echo "no $BIN (make build)" >&2; exit 2; }
[ "$(id -u)" -eq 0 ] || { echo "needs root" >&2; exit 2; }
cleanup() {
	local n
	for n in $(ip netns list | awk '{print $1}' | grep "^$TAG-"); do ip netns del "$n"; done
}
trap cleanup EXIT
ip netns add "$TAG-node" || exit 1
node() { nsenter --net="/run/netns/$TAG-node" "$@"; }

# before: the ip sequence of the old agent/sys.c, one instance at a time
ip_create() { # ip_create I
	local ns=$TAG-i$1 ve=oakb$1 ip=10.18.0.$((2 + $1))
	ip netns add "$ns" &&
		node ip link add "$ve" address 02:fe:00:00:00:$(printf %02x "$1") type veth peer name eth0 \
			address 02:0a:00:00:00:$(printf %02x "$1") netns "$ns" &&
		node ip addr add 10.18.0.1/32 dev "$ve" &&
		node ip link set "$ve" up &&
		node ip route replace "$ip/32" dev "$ve" &&
		ip -n "$ns" link set lo up &&
		ip -n "$ns" link set eth0 mtu 1450 up &&
		ip -n "$ns" addr add "$ip/32" dev eth0 &&
		ip -n "$ns" route add 10.18.0.1 dev eth0 scope link &&
		ip -n "$ns" route add default via 10.18.0.1 dev eth0 &&
		nsenter --net="/run/netns/$ns" ethtool -K eth0 tx off >/dev/null 2>&1
}
ip_destroy() {
	node ip link del "oakb$1" && ip netns del "$TAG-i$1"
}
t0=$(date +%s%N)
for i in $(seq 0 $((N - 1))); do ip_create "$i" || { echo "ip set-up $i failed" >&2; exit 1; }; done
t1=$(date +%s%N)
for i in $(seq 0 $((N - 1))); do ip_destroy "$i"; done
t2=$(date +%s%N)
ipc=$(echo "scale=2; ($t1 - $t0) / $N / 1000000" | bc)
ipd=$(echo "scale=2; ($t2 - $t1) / $N / 1000000" | bc)
echo "ip (10 runs of ip + ethtool per instance): create ${ipc} ms, destroy ${ipd} ms per instance ($N)"

out=$(node "$BIN" "$TAG" "$N") || { echo "oak-netsetup-bench failed" >&2; exit 1; }
echo "$out" | sed 's/^/netlink: /'
nlc=$(echo "$out" | awk '/^create/ {for (i = 1; i <= NF; i++) if ($i ~ /^mean_us=/) print substr($i, 9) / 1000}')
nld=$(echo "$out" | awk '/^destroy/ {for (i = 1; i <= NF; i++) if ($i ~ /^mean_us=/) print substr($i, 9) / 1000}')
echo "RESULT ip_create_ms=$ipc netlink_create_ms=$nlc ip_destroy_ms=$ipd netlink_destroy_ms=$nld speedup=$(echo "scale=1; $ipc / $nlc" | bc) n=$N"
