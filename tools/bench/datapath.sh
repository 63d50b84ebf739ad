#!/usr/bin/env bash
# Datapath benchmark: oak's Service-IP path against plain routing and K3s's
# shape (kernel VXLAN + kube-proxy iptables DNAT), on ONE namespace topology
# (tests/e2e/topo.sh: two nodes on a bridged underlay, instances behind
# veths with MTU 1450), measured interleaved: every round runs the five
# configurations in a shuffled order, and medians over rounds are reported.
#
#   route    client n1/croute -> server n2/sroute by namespace address; the
#            nodes route each other's /26 via the peer's underlay address.
#            No translation, no tunnel, no conntrack (raw NOTRACK): the limit.
#   k3s      client n1/ck3s -> K3s-like ClusterIP 10.43.x.y; iptables nat
#            (kube-proxy's chain-per-service shape, PREROUTING -> KUBE-SERVICES
#            -> KUBE-SVC-* -> KUBE-SEP-* DNAT) on both nodes, the server's /32
#            routed over a flannel-like VXLAN device (VNI 1, port 8472,
#            nolearning, static fdb/neigh). "k3s" = 10 services installed,
#            "k3s10k" = 10,000 (the benchmark's service in the middle of
#            KUBE-SERVICES, as kube-proxy's order is arbitrary).
#   oak      client n1/coak (oak local) dials an oak round-robin Service IP
#            whose single backend is n2/soak; oak's tc programs translate and
#            tunnel (IPv4/UDP:50103). "oak" = 10 services, "oak10k" = 10,000
#            (oak-dp svc-bulk).
#
# Per configuration and round: TCP throughput (iperf3, one stream, DUR s),
# request/response round trip (sockperf TCP ping-pong --full-rtt, median,
# DUR s) with a SCHED_IDLE busy loop on every CPU ("lat") and without it for
# LAT_IDLE_DUR s ("lat_idle"; see /work/shared/MACHINE.md), and new TCP
# connections per second (tools/bench/crr.c: connect, 1-byte request, 1-byte
# reply, server closes; DUR s). Clients run on CPU 0; iperf3 and crr servers
# on the last CPU; the sockperf server on CPU 0 too (LAT_CROSS_CPU=1: on the
# last CPU, which adds a cross-CPU wakeup to every round trip). Instances
# have MTU 1450 (topo.sh) on every path and tx offload on (TSO, as
# containers have; topo.sh turns it off for checksum tests).
#
# Then small packets (route, k3s, oak; see "small packets" below): UDP
# 64- and 512-byte datagrams per second, and each oak program's live ns per
# packet from bpf_stats against a trivial tc program's (the floor).
#
# usage: tools/bench/datapath.sh [ROUNDS]   (needs root; ~7 min by default)
#   env: ROUNDS=3  DUR=5  LAT_IDLE_DUR=3  K3S_IPT=nft|legacy (iptables backend)
#        PPS_DUR=3  UDP_SENDERS=3  PPS_ONLY=1 (only the small-packet part)
#        LAT_CROSS_CPU=0|1  ORDER="cfg ..." (fixed order, for debugging)
# Last line: RESULT name=value ... (ratios with 2 decimals, raw medians).
set -uo pipefail

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
ROUNDS=${ROUNDS:-${1:-3}}
DUR=${DUR:-5}
LAT_IDLE_DUR=${LAT_IDLE_DUR:-3}
K3S_IPT=${K3S_IPT:-nft}
PPS_DUR=${PPS_DUR:-3}
UDP_SENDERS=${UDP_SENDERS:-3}
PPS_ONLY=${PPS_ONLY:-0}
TAG=${TAG:-okb$$}
OAK_BIN=${OAK_BIN:-$ROOT/build/bin}
source "$ROOT/tests/e2e/topo.sh"

CRR_BIN=$ROOT/build/bench/crr
WORK=$(mktemp -d)
BUSY_PIDS=()
SRV_PIDS=()

busy_stop() {
	local p
	for p in "${BUSY_PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${BUSY_PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
	BUSY_PIDS=()
}
BPF_STATS_OLD=
cleanup() {
	local p
	busy_stop
	[ -n "$BPF_STATS_OLD" ] && sysctl -qw kernel.bpf_stats_enabled="$BPF_STATS_OLD"
	for p in "${SRV_PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${SRV_PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
	topo_cleanup
	rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

die() {
	echo "datapath.sh: $*" >&2
	exit 1
}

[ "$(id -u)" = 0 ] || die "needs root"
for t in iperf3 sockperf chrt iptables-$K3S_IPT-restore; do
	command -v "$t" >/dev/null || die "missing $t"
done
[ -x "$OAK_BIN/oak-dp" ] || die "no $OAK_BIN/oak-dp: build first (make build)"
mkdir -p "$(dirname "$CRR_BIN")"
${CC:-cc} -O2 -Wall -Wextra -Werror "$HERE/crr.c" -o "$CRR_BIN" || die "cannot build crr.c"

# ---------------------------------------------------------------- topology
topo_switch
topo_node 1
topo_node 2
C_OAK=$(topo_instance 1 coak 1)
C_ROUTE=$(topo_instance 1 croute 2)
C_K3S=$(topo_instance 1 ck3s 3)
S_OAK=$(topo_instance 2 soak 1)
S_ROUTE=$(topo_instance 2 sroute 2)
S_K3S=$(topo_instance 2 sk3s 3)
# topo_instance turns tx checksum offload off (so tests catch checksum bugs),
# which also turns off TSO: a benchmark measures the offloaded path that
# containers really have, the same for all three paths.
for n in 1 2; do
	for i in coak croute ck3s soak sroute sk3s; do
		[ -e "/run/netns/$(inst_ns $n $i)" ] && nsx "$(inst_ns $n $i)" ethtool -K eth0 tx on >/dev/null
	done
done 2>/dev/null
N1=$(node_ip 1)
N2=$(node_ip 2)
for n in 1 2; do
	nsx "$TAG-n$n" sysctl -qw net.ipv4.ip_forward=1
done

PORT_TPUT=5201
PORT_LAT=11111
PORT_CRR=7000
PORT_UDP=5301 # .. PORT_UDP + UDP_SENDERS - 1: one iperf3 server each

# --- (a) route: each node routes the other's instance /26 over the underlay
ip -n "$TAG-n1" route add 10.18.0.64/26 via "$N2" dev up0
ip -n "$TAG-n2" route add 10.18.0.0/26 via "$N1" dev up0

# --- (b) k3s: flannel-like VXLAN, /32 routes for the k3s pair over it
vx_mac() { ip -n "$TAG-n$1" -br link show flannel.1 | awk '{print $3}'; }
for n in 1 2; do
	ip -n "$TAG-n$n" link add flannel.1 type vxlan id 1 local "$(node_ip "$n")" dev up0 \
		dstport 8472 nolearning
	ip -n "$TAG-n$n" link set flannel.1 mtu 1450 up
	ip -n "$TAG-n$n" addr add "10.42.$n.0/32" dev flannel.1
done
VXMAC1=$(vx_mac 1)
VXMAC2=$(vx_mac 2)
k3s_peer() { # k3s_peer N PEER PEER_MAC PEER_INSTANCE
	local ns="$TAG-n$1"
	ip -n "$ns" neigh add "10.42.$2.0" lladdr "$3" dev flannel.1 nud permanent
	bridge -n "$ns" fdb append "$3" dev flannel.1 dst "$(node_ip "$2")"
	ip -n "$ns" route add "$4/32" via "10.42.$2.0" dev flannel.1 onlink
}
k3s_peer 1 2 "$VXMAC2" "$S_K3S"
k3s_peer 2 1 "$VXMAC1" "$C_K3S"

SVC_K3S=10.43.20.1 # the benchmark's ClusterIP (ports 5201, 11111, 7000)

# kube-proxy's nat table for COUNT service ports: the benchmark's three in
# the middle of KUBE-SERVICES, every other service one port to a dummy pod.
k3s_rules() {
	local count=$1 i mid=$(($1 / 2)) svc ep port
	echo "*raw"
	echo ":PREROUTING ACCEPT [0:0]"
	echo ":OUTPUT ACCEPT [0:0]"
	# route is the untracked limit (kube-proxy's conntrack is K3s's cost only)
	echo "-A PREROUTING -s $C_ROUTE/32 -j CT --notrack"
	echo "-A PREROUTING -s $S_ROUTE/32 -j CT --notrack"
	echo "COMMIT"
	echo "*nat"
	echo ":PREROUTING ACCEPT [0:0]"
	echo ":INPUT ACCEPT [0:0]"
	echo ":OUTPUT ACCEPT [0:0]"
	echo ":POSTROUTING ACCEPT [0:0]"
	echo ":KUBE-SERVICES - [0:0]"
	echo ":KUBE-POSTROUTING - [0:0]"
	echo ":KUBE-MARK-MASQ - [0:0]"
	echo ":KUBE-NODEPORTS - [0:0]"
	for ((i = 0; i < count; i++)); do
		echo ":KUBE-SVC-$i - [0:0]"
		echo ":KUBE-SEP-$i - [0:0]"
	done
	echo '-A PREROUTING -m comment --comment "kubernetes service portals" -j KUBE-SERVICES'
	echo '-A OUTPUT -m comment --comment "kubernetes service portals" -j KUBE-SERVICES'
	echo '-A POSTROUTING -m comment --comment "kubernetes postrouting rules" -j KUBE-POSTROUTING'
	echo '-A KUBE-POSTROUTING -m mark ! --mark 0x4000/0x4000 -j RETURN'
	echo '-A KUBE-POSTROUTING -j MARK --xor-mark 0x4000'
	echo '-A KUBE-POSTROUTING -m comment --comment "kubernetes service traffic requiring SNAT" -j MASQUERADE --random-fully'
	echo '-A KUBE-MARK-MASQ -j MARK --or-mark 0x4000'
	for ((i = 0; i < count; i++)); do
		if [ "$i" -ge "$mid" ] && [ "$i" -lt $((mid + 3)) ]; then
			svc=$SVC_K3S
			ep=$S_K3S
			port=$(((i - mid) == 0 ? PORT_TPUT : (i - mid) == 1 ? PORT_LAT : PORT_CRR))
		else
			svc=10.43.$((100 + i / 250)).$((1 + i % 250))
			ep=10.18.1.$((1 + i % 250))
			port=80
		fi
		echo "-A KUBE-SERVICES -d $svc/32 -p tcp -m comment --comment \"default/svc-$i:p cluster IP\" -m tcp --dport $port -j KUBE-SVC-$i"
		echo "-A KUBE-SVC-$i ! -s 10.18.0.0/16 -d $svc/32 -p tcp -m comment --comment \"default/svc-$i:p cluster IP\" -m tcp --dport $port -j KUBE-MARK-MASQ"
		echo "-A KUBE-SVC-$i -m comment --comment \"default/svc-$i:p -> $ep:$port\" -j KUBE-SEP-$i"
		echo "-A KUBE-SEP-$i -s $ep/32 -m comment --comment \"default/svc-$i:p\" -j KUBE-MARK-MASQ"
		if [ "$svc" = "$SVC_K3S" ] && [ "$port" = "$PORT_TPUT" ]; then
			# the small-packet ports (iperf3: UDP data, TCP control), one
			# chain for the range
			for proto in udp tcp; do
				echo "-A KUBE-SERVICES -d $svc/32 -p $proto -m comment --comment \"default/svc-$i:$proto cluster IP\" -m $proto --dport $PORT_UDP:$((PORT_UDP + UDP_SENDERS - 1)) -j KUBE-SVC-$i"
			done
			echo "-A KUBE-SEP-$i -p udp -m comment --comment \"default/svc-$i:udp\" -m udp -j DNAT --to-destination $ep"
			echo "-A KUBE-SEP-$i -p tcp -m comment --comment \"default/svc-$i:tcp\" -m tcp --dport $PORT_UDP:$((PORT_UDP + UDP_SENDERS - 1)) -j DNAT --to-destination $ep"
		fi
		echo "-A KUBE-SEP-$i -p tcp -m comment --comment \"default/svc-$i:p\" -m tcp -j DNAT --to-destination $ep:$port"
	done
	echo '-A KUBE-SERVICES -m comment --comment "kubernetes service nodeports" -m addrtype --dst-type LOCAL -j KUBE-NODEPORTS'
	echo "COMMIT"
}
k3s_rules 10 >"$WORK/k3s10.rules"
k3s_rules 10000 >"$WORK/k3s10k.rules"
K3S_STATE=
k3s_set() { # k3s_set 10|10k: what kube-proxy on every node would have written
	[ "$K3S_STATE" = "$1" ] && return 0
	local t0=$SECONDS n
	for n in 1 2; do
		nsx "$TAG-n$n" "iptables-$K3S_IPT-restore" <"$WORK/k3s$1.rules" ||
			die "iptables-restore of $1 services failed on n$n"
		# keep conntrack (global nf_conntrack_max) from filling with the CRR
		# runs' TIME_WAIT entries: the only change to K3s's defaults
		nsx "$TAG-n$n" sysctl -qw net.netfilter.nf_conntrack_tcp_timeout_time_wait=5 ||
			die "cannot shorten conntrack TIME_WAIT on n$n"
	done
	K3S_STATE=$1
	echo "# k3s: $1 services installed on both nodes ($((SECONDS - t0)) s)"
}

# --- (c) oak: Instance IPs 10.30.N.1, service 10.30.100.5 -> soak
I_COAK=10.30.1.1
I_SOAK=10.30.2.1
SVC_OAK=10.30.100.5
{
	echo "init $N1 up0 tc"
	echo "local $I_COAK ve-coak $C_OAK $(inst_mac 1 coak)"
	echo "remote $I_SOAK $N2"
} >"$WORK/oak1"
{
	echo "init $N2 up0 tc"
	echo "local $I_SOAK ve-soak $S_OAK $(inst_mac 2 soak)"
	echo "remote $I_COAK $N1"
} >"$WORK/oak2"
for n in 1 2; do
	oakdp "$n" batch <"$WORK/oak$n" >"$WORK/oak$n.log" 2>&1 || {
		cat "$WORK/oak$n.log" >&2
		die "oak-dp batch failed on n$n"
	}
done
DECAP_HOOK=$(sed -n 's/.*decap at \([a-z]*\).*/\1/p' "$WORK/oak2.log" | head -1)
echo "# oak n1: $(grep -m1 'decap at' "$WORK/oak1.log"); n2: $(grep -m1 'decap at' "$WORK/oak2.log")"
OAK_STATE=
oak_set() { # oak_set 10|10k
	[ "$OAK_STATE" = "$1" ] && return 0
	local t0=$SECONDS
	if [ "$1" = 10k ]; then
		oakdp 1 svc-bulk 10000 10.30.100.1 "$I_SOAK" || die "svc-bulk 10000 failed"
	elif [ -z "$OAK_STATE" ]; then
		oakdp 1 svc-bulk 10 10.30.100.1 "$I_SOAK" || die "svc-bulk 10 failed"
	else # from 10,000 back to 10: drop the 9,990 others
		awk 'BEGIN { for (i = 10; i < 10000; i++) {
			v = 1 + i; printf "svc-del 10.30.%d.%d\n", 100 + int(v / 256), v % 256 } }' |
			oakdp 1 batch >"$WORK/oakdel.log" 2>&1 || die "svc-del batch failed"
	fi
	OAK_STATE=$1
	echo "# oak: $1 services on n1 ($((SECONDS - t0)) s)"
}

# ---------------------------------------------------------------- servers
# Servers on the last CPU, clients on CPU 0: two "nodes" on one machine get
# a CPU each, and a run does not flip between same-CPU and cross-CPU wakeups
# (sockperf's round trip differs by ~15 us between the two).
# The latency server shares the client's CPU by default (LAT_CROSS_CPU=1:
# the last CPU): a round trip then costs the path's work, not a cross-CPU
# wakeup (an IPI, expensive in this VM) that dilutes the difference.
SRV_CPU=$(($(nproc) - 1))
CLI_CPU=0
if [ "${LAT_CROSS_CPU:-0}" = 1 ]; then LAT_SRV_CPU=$SRV_CPU; else LAT_SRV_CPU=$CLI_CPU; fi
# bg NS CPU CMD...: a server, started so that $! is the server itself
# (nsenter and taskset exec it). topo_bg runs nsx in a background subshell,
# so its recorded pid is that subshell's and the server outlives the kill.
bg() {
	nsenter --net="/run/netns/$1" taskset -c "$2" "${@:3}" &
	SRV_PIDS+=($!)
}
for s in soak sroute sk3s; do
	bg "$(inst_ns 2 "$s")" "$SRV_CPU" iperf3 -s -p $PORT_TPUT
	bg "$(inst_ns 2 "$s")" "$LAT_SRV_CPU" sockperf server --tcp -i 0.0.0.0 -p $PORT_LAT
	bg "$(inst_ns 2 "$s")" "$SRV_CPU" "$CRR_BIN" server $PORT_CRR
	for ((u = 0; u < UDP_SENDERS; u++)); do
		bg "$(inst_ns 2 "$s")" "$SRV_CPU" iperf3 -s -p $((PORT_UDP + u))
	done
done >"$WORK/servers.log" 2>&1
sleep 1

declare -A CLIENT=([route]=croute [k3s]=ck3s [k3s10k]=ck3s [oak]=coak [oak10k]=coak)
declare -A DEST=([route]=$S_ROUTE [k3s]=$SVC_K3S [k3s10k]=$SVC_K3S [oak]=$SVC_OAK [oak10k]=$SVC_OAK)
cx() { nsx "$(inst_ns 1 "${CLIENT[$1]}")" taskset -c "$CLI_CPU" "${@:2}"; }

prepare() {
	case $1 in
	k3s) k3s_set 10 ;;
	k3s10k) k3s_set 10k ;;
	oak) oak_set 10 ;;
	oak10k) oak_set 10k ;;
	esac
}

busy_start() {
	local c
	for ((c = 0; c < $(nproc); c++)); do
		taskset -c "$c" chrt -i 0 sh -c 'while :; do :; done' &
		BUSY_PIDS+=($!)
	done
}

m_tput() { # Gbit/s received
	cx "$1" iperf3 -c "${DEST[$1]}" -p $PORT_TPUT -t "$DUR" -J 2>/dev/null |
		python3 -c 'import json,sys; print("%.2f" % (json.load(sys.stdin)["end"]["sum_received"]["bits_per_second"] / 1e9))' 2>/dev/null
}
m_lat() { # median round trip, us
	cx "$1" sockperf ping-pong --tcp --full-rtt -i "${DEST[$1]}" -p $PORT_LAT -t "$2" 2>&1 |
		awk '/percentile 50.000 =/ {printf "%.1f", $NF}'
}
m_crr() { # connections per second
	cx "$1" "$CRR_BIN" client "${DEST[$1]}" $PORT_CRR "$DUR" >"$WORK/crr.out"
	sed -n 's/.*rate=\([0-9]*\).*/\1/p' "$WORK/crr.out"
}

declare -A VALS
record() { # record CONFIG METRIC VALUE
	VALS[$1.$2]="${VALS[$1.$2]:-} ${3:-nan}"
}

# connectivity check before measuring
for c in route k3s oak; do
	prepare "$c"
	out=$(cx "$c" "$CRR_BIN" client "${DEST[$c]}" $PORT_CRR 0.2) || die "$c: no connection to ${DEST[$c]}: $out"
done

CONFIGS=(route k3s k3s10k oak oak10k)
# ORDER="oak oak10k ..." (debugging): run exactly these, in this order, per round
echo "# load average before: $(cut -d' ' -f1-3 /proc/loadavg) (other work on the machine makes throughput and crr noisy)"
echo "# $ROUNDS rounds x ${CONFIGS[*]}; tput/lat/crr ${DUR} s, lat_idle ${LAT_IDLE_DUR} s; iptables $K3S_IPT; $(nproc) cpus"
for ((r = 1; r <= ROUNDS && PPS_ONLY == 0; r++)); do
	for c in ${ORDER:-$(printf '%s\n' "${CONFIGS[@]}" | shuf)}; do
		prepare "$c"
		t=$(m_tput "$c")
		busy_start
		l=$(m_lat "$c" "$DUR")
		busy_stop
		li=$(m_lat "$c" "$LAT_IDLE_DUR")
		k=$(m_crr "$c")
		record "$c" tput "$t"
		record "$c" lat "$l"
		record "$c" lat_idle "$li"
		record "$c" crr "$k"
		printf 'round %d %-7s tput_gbps=%s lat_us=%s lat_idle_us=%s crr=%s crr_fails=%s\n' "$r" "$c" \
			"${t:-nan}" "${l:-nan}" "${li:-nan}" "${k:-nan}" \
			"$(sed -n 's/.*fails=\([0-9]*\).*/\1/p' "$WORK/crr.out")"
	done
done

median() { tr ' ' '\n' | grep -E '^[0-9.]+$' | sort -g | awk '{a[NR]=$1} END {if (!NR) print "nan"; else if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2}'; }
M() { echo "${VALS[$1.$2]:-}" | median; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "nan" || b == "nan" || b == 0) print "nan"; else printf "%.2f", a / b }'; }

# ---------------------------------------------------------------- small packets
# UDP datagrams of PSIZE bytes of payload, UDP_SENDERS iperf3 clients at full
# speed (-b 0) on the client CPU, one server each on the last CPU. The rate
# is what reaches the server instance's eth0 (its rx_packets), per second.
# With kernel.bpf_stats_enabled=1 (restored at exit), the 64-byte oak run
# also gives oak_from_inst's (n1, ve-coak) and oak_from_uplink's (n2, up0)
# run_time_ns / run_cnt, and the 64-byte route run that of a trivial
# `return TC_ACT_OK` program (floor.bpf.c) on ve-croute: the floor.
clang -O2 -target bpf -I/usr/include/x86_64-linux-gnu -c "$HERE/floor.bpf.c" \
	-o "$WORK/floor.o" || die "cannot build floor.bpf.c"
tc -n "$TAG-n1" qdisc add dev ve-croute clsact
tc -n "$TAG-n1" filter add dev ve-croute ingress bpf da obj "$WORK/floor.o" sec tc ||
	die "cannot attach the floor program"
prog_id() { # prog_id NODE DEV: the tc ingress program's id
	tc -n "$TAG-n$1" filter show dev "$2" ingress | sed -n 's/.* id \([0-9]*\) .*/\1/p' | head -1
}
ID_INST=$(prog_id 1 ve-coak)
ID_UPLINK=$(prog_id 2 up0)
ID_FLOOR=$(prog_id 1 ve-croute)
[ -n "$ID_INST" ] && [ -n "$ID_UPLINK" ] && [ -n "$ID_FLOOR" ] ||
	die "no program ids (inst=$ID_INST uplink=$ID_UPLINK floor=$ID_FLOOR)"
BPF_STATS_OLD=$(sysctl -n kernel.bpf_stats_enabled)
sysctl -qw kernel.bpf_stats_enabled=1
prog_stats() { # "run_time_ns run_cnt" of program ID
	bpftool prog show id "$1" -j | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d.get("run_time_ns",0), d.get("run_cnt",0))'
}
ns_per_pkt() { # ns_per_pkt "BEFORE" "AFTER"
	awk -v b="$1" -v a="$2" 'BEGIN { split(b, x); split(a, y); n = y[2] - x[2];
		if (n <= 0) print "nan"; else printf "%.0f", (y[1] - x[1]) / n }'
}
rx_packets() { ip -n "$1" -s link show eth0 | awk 'f { print $2; exit } /RX:/ { f = 1 }'; }
declare -A SERVER=([route]=sroute [k3s]=sk3s [oak]=soak)
m_pps() { # m_pps CONFIG PSIZE: packets per second at the server's eth0
	local c=$1 ns before after u pids=()
	ns=$(inst_ns 2 "${SERVER[$c]}")
	before=$(rx_packets "$ns")
	for ((u = 0; u < UDP_SENDERS; u++)); do
		cx "$c" iperf3 -c "${DEST[$c]}" -p $((PORT_UDP + u)) -u -b 0 -l "$2" -t "$PPS_DUR" \
			>/dev/null 2>&1 &
		pids+=($!)
	done
	for u in "${pids[@]}"; do wait "$u"; done
	after=$(rx_packets "$ns")
	awk -v a="$after" -v b="$before" -v d="$PPS_DUR" 'BEGIN { printf "%.0f", (a - b) / d }'
}
PPS_CONFIGS=(route k3s oak)
echo "# small packets: $ROUNDS rounds x ${PPS_CONFIGS[*]} x 64/512-byte UDP, $UDP_SENDERS senders, ${PPS_DUR} s"
for ((r = 1; r <= ROUNDS; r++)); do
	for c in $(printf '%s\n' "${PPS_CONFIGS[@]}" | shuf); do
		prepare "$c"
		for size in 64 512; do
			if [ "$size" = 64 ] && [ "$c" != k3s ]; then
				s0i=$(prog_stats "$ID_INST") s0u=$(prog_stats "$ID_UPLINK") s0f=$(prog_stats "$ID_FLOOR")
			fi
			pps=$(m_pps "$c" "$size")
			record "$c" "pps$size" "$pps"
			extra=
			if [ "$size" = 64 ] && [ "$c" = oak ]; then
				ni=$(ns_per_pkt "$s0i" "$(prog_stats "$ID_INST")")
				nu=$(ns_per_pkt "$s0u" "$(prog_stats "$ID_UPLINK")")
				record oak inst_ns "$ni"
				record oak uplink_ns "$nu"
				extra=" oak_from_inst_ns=$ni oak_from_uplink_ns=$nu"
			elif [ "$size" = 64 ] && [ "$c" = route ]; then
				nf=$(ns_per_pkt "$s0f" "$(prog_stats "$ID_FLOOR")")
				record route floor_ns "$nf"
				extra=" floor_ns=$nf"
			fi
			printf 'round %d %-7s udp%d_pps=%s%s\n' "$r" "$c" "$size" "$pps" "$extra"
		done
	done
done
sysctl -qw kernel.bpf_stats_enabled="$BPF_STATS_OLD"
BPF_STATS_OLD=

echo "# load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "# oak counters (non-zero):"
oakdp 1 stats | awk '$2 != 0 {print "#   n1 " $0}'
oakdp 2 stats | awk '$2 != 0 {print "#   n2 " $0}'

declare -A NAME=([route]=route [k3s]=k3s [k3s10k]=k3s_10k [oak]=oak [oak10k]=oak_10k)
res=()
for c in "${CONFIGS[@]}"; do
	echo "median $c tput_gbps=$(M "$c" tput) lat_us=$(M "$c" lat) lat_idle_us=$(M "$c" lat_idle) crr=$(M "$c" crr)"
done
res+=("oak_vs_route_tput=$(ratio "$(M oak tput)" "$(M route tput)")")
res+=("oak_vs_k3s_tput=$(ratio "$(M oak tput)" "$(M k3s tput)")")
res+=("oak_vs_route_lat=$(ratio "$(M oak lat)" "$(M route lat)")")
res+=("oak_vs_route_lat_idle=$(ratio "$(M oak lat_idle)" "$(M route lat_idle)")")
res+=("oak_10k_vs_10_tput=$(ratio "$(M oak10k tput)" "$(M oak tput)")")
res+=("oak_vs_route_crr=$(ratio "$(M oak crr)" "$(M route crr)")")
res+=("oak_vs_route_crr_10k=$(ratio "$(M oak10k crr)" "$(M route crr)")")
res+=("k3s_vs_route_tput=$(ratio "$(M k3s tput)" "$(M route tput)")")
res+=("k3s_vs_route_lat=$(ratio "$(M k3s lat)" "$(M route lat)")")
res+=("k3s_vs_route_crr=$(ratio "$(M k3s crr)" "$(M route crr)")")
res+=("k3s_vs_route_crr_10k=$(ratio "$(M k3s10k crr)" "$(M route crr)")")
for c in "${CONFIGS[@]}"; do
	res+=("${NAME[$c]}_tput_gbps=$(M "$c" tput)" "${NAME[$c]}_lat_us=$(M "$c" lat)"
		"${NAME[$c]}_lat_idle_us=$(M "$c" lat_idle)")
done
res+=("route_crr=$(M route crr)" "k3s_crr=$(M k3s crr)" "k3s_crr_10k=$(M k3s10k crr)"
	"oak_crr=$(M oak crr)" "oak_crr_10k=$(M oak10k crr)")
for c in "${PPS_CONFIGS[@]}"; do
	echo "median $c udp64_pps=$(M "$c" pps64) udp512_pps=$(M "$c" pps512)"
done
echo "median oak_from_inst_ns=$(M oak inst_ns) oak_from_uplink_ns=$(M oak uplink_ns) floor_ns=$(M route floor_ns) (bpf_stats, 64-byte UDP)"
res+=("oak_inst_ns_per_pkt=$(M oak inst_ns)" "oak_uplink_ns_per_pkt=$(M oak uplink_ns)"
	"floor_ns_per_pkt=$(M route floor_ns)")
res+=("oak_vs_route_pps=$(ratio "$(M oak pps64)" "$(M route pps64)")"
	"oak_vs_k3s_pps=$(ratio "$(M oak pps64)" "$(M k3s pps64)")"
	"oak_vs_route_pps512=$(ratio "$(M oak pps512)" "$(M route pps512)")"
	"oak_vs_k3s_pps512=$(ratio "$(M oak pps512)" "$(M k3s pps512)")")
for c in "${PPS_CONFIGS[@]}"; do
	res+=("${c}_udp64_pps=$(M "$c" pps64)" "${c}_udp512_pps=$(M "$c" pps512)")
done
res+=("oak_decap_hook=${DECAP_HOOK:-unknown}" "rounds=$ROUNDS" "lat=sockperf_tcp_rtt_p50_busy")
echo "RESULT ${res[*]}"
