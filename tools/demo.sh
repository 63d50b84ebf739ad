#!/usr/bin/env bash
# The oak demo: the whole datapath on this one machine. Two nodes (network
# namespaces on a bridged underlay), three instances, a service with a
# round-robin IP and a closest IP; traffic through both, the counters, the
# service map as bpftool prints it. Everything is torn down at the end.
#
# Until the orchestrator tiers land, the maps are filled with oak-dp, the
# datapath library's tool, exactly as oak-node will fill them.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
TAG=${TAG:-oakdemo}
source "$ROOT/tests/e2e/topo.sh"
PEER="python3 $ROOT/tests/e2e/peer.py"
[ "$(id -u)" -eq 0 ] || { echo "demo: needs root (namespaces, BPF)" >&2; exit 1; }
[ -x "$OAK_BIN/oak-dp" ] || { echo "demo: build first (make build)" >&2; exit 1; }
trap topo_cleanup EXIT
trap "exit 1" INT TERM
topo_cleanup 2>/dev/null || true

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

say "Two nodes on an underlay (192.168.100.0/24), three instances"
topo_switch
topo_node 1
topo_node 2
WEB=$(topo_instance 1 web 1)
API1=$(topo_instance 1 api1 2)
API2=$(topo_instance 2 api2 1)
RR=10.30.30.30
CLOSEST=10.30.30.31
printf '  node 1: web  %s  Instance IP 10.30.1.1\n' "$WEB"
printf '  node 1: api1 %s  Instance IP 10.30.1.2\n' "$API1"
printf '  node 2: api2 %s  Instance IP 10.30.2.1\n' "$API2"
printf '  service api: round-robin IP %s, closest IP %s\n' "$RR" "$CLOSEST"

say "Programming both nodes' datapaths"
for n in 1 2; do
	oakdp "$n" init "$(node_ip "$n")" up0 | sed "s/^/  node $n: /"
done
oakdp 1 local 10.30.1.1 ve-web "$WEB" "$(inst_mac 1 web)"
oakdp 1 local 10.30.1.2 ve-api1 "$API1" "$(inst_mac 1 api1)"
oakdp 1 remote 10.30.2.1 "$(node_ip 2)"
oakdp 2 local 10.30.2.1 ve-api2 "$API2" "$(inst_mac 2 api2)"
oakdp 2 remote 10.30.1.1 "$(node_ip 1)"
oakdp 2 remote 10.30.1.2 "$(node_ip 1)"
rtt=$(nsx "$TAG-n1" ping -c 3 -i 0.2 -q "$(node_ip 2)" | awk -F/ '/rtt/ {printf "%d", $5 * 1000}')
echo "  measured RTT node 1 -> node 2: ${rtt} us (a local backend counts 1 us)"
for n in 1 2; do
	oakdp "$n" svc $RR rr 10.30.1.2 10.30.2.1
done
oakdp 1 svc $CLOSEST closest 10.30.1.2@1 "10.30.2.1@$((rtt > 1 ? rtt : 2))"
oakdp 2 svc $CLOSEST closest "10.30.1.2@$((rtt > 1 ? rtt : 2))" 10.30.2.1@1

say "Starting the api instances (they answer with their name)"
topo_bg "$(inst_ns 1 api1)" $PEER serve api1 >/dev/null
topo_bg "$(inst_ns 2 api2)" $PEER serve api2 >/dev/null
sleep 1

say "web -> round-robin IP $RR: each new connection takes the next instance"
for i in 1 2 3 4; do
	printf '  TCP request %d answered by %s\n' "$i" "$(nsx "$(inst_ns 1 web)" $PEER ask-tcp $RR)"
done
for i in 1 2; do
	printf '  UDP request %d answered by %s\n' "$i" "$(nsx "$(inst_ns 1 web)" $PEER ask-udp $RR)"
done
nsx "$(inst_ns 1 web)" ping -c 2 -i 0.2 $RR | sed -n 's/^/  /; /bytes from/p'

say "web -> closest IP $CLOSEST: the instance nearest to node 1"
for i in 1 2 3; do
	printf '  TCP request %d answered by %s\n' "$i" "$(nsx "$(inst_ns 1 web)" $PEER ask-tcp $CLOSEST)"
done

say "A checksummed 20 MB transfer through the tunnel (web -> api2)"
oakdp 1 svc 10.30.30.32 rr 10.30.2.1
nsx "$(inst_ns 1 web)" $PEER send 10.30.30.32 20000000 | sed 's/^/  /'

say "Node 1 counters (oak-dp stats; bpftool map dump pinned /sys/fs/bpf/oak/$TAG-n1/oak_stats_v1)"
oakdp 1 stats | awk '$2 > 0 {printf "  %-16s %s\n", $1, $2}'

say "Node 1 service tables (oak-dp show)"
for s in $RR $CLOSEST; do oakdp 1 show $s | sed 's/^/  /'; done

say "The same maps as bpftool prints them (BTF gives the field names; addresses are __be32)"
for m in oak_svc_v2 oak_backend_v1; do
	echo "  bpftool map dump pinned /sys/fs/bpf/oak/$TAG-n1/$m"
	bpftool map dump pinned "/sys/fs/bpf/oak/$TAG-n1/$m" >"/tmp/$TAG-dump"
	sed 's/^/    /' "/tmp/$TAG-dump"
done
rm -f "/tmp/$TAG-dump"

say "Tearing down"
topo_cleanup
trap - EXIT
echo "  namespaces and pins removed"
