#!/usr/bin/env bash
# End-to-end test of the datapath over network namespaces: three nodes on a
# bridged underlay, instances behind veths, maps filled through oak-dp (the
# datapath library's tool). Needs root.
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
TAG=${TAG:-oke$$}
source "$HERE/topo.sh"
PEER="python3 $HERE/peer.py"
# transfer sizes; vmtest shrinks them (software-emulated CPUs are slow)
XFER=${OAK_E2E_XFER:-8000000}
LONG=${OAK_E2E_LONG:-60000000}
trap topo_cleanup EXIT
trap "exit 1" INT TERM

topo_switch
for n in 1 2 3; do topo_node "$n"; done
A=$(topo_instance 1 a 1)
B=$(topo_instance 1 b 2)
C=$(topo_instance 1 c 3)
D=$(topo_instance 2 d 1)
F=$(topo_instance 2 f 2)
E=$(topo_instance 3 e 1)

RR=10.30.30.30
CLOSEST=10.30.30.31
ONE=10.30.30.32
declare -A IIP=([a]=10.30.1.1 [b]=10.30.1.2 [c]=10.30.1.3 [d]=10.30.2.1 [f]=10.30.2.2 [e]=10.30.3.1)
declare -A NSIP=([a]=$A [b]=$B [c]=$C [d]=$D [f]=$F [e]=$E)
declare -A NODE=([a]=1 [b]=1 [c]=1 [d]=2 [f]=2 [e]=3)

# What the node agent would write: its instances, every other node's, and
# the services its instances talk to.
node_cmds() {
	local n=$1 mode=${2:-tc} i
	echo "init $(node_ip "$n") up0 $mode"
	for i in a b c d f e; do
		if [ "${NODE[$i]}" = "$n" ]; then
			echo "local ${IIP[$i]} ve-$i ${NSIP[$i]} $(inst_mac "$n" "$i")"
		else
			echo "remote ${IIP[$i]} $(node_ip "${NODE[$i]}")"
		fi
	done
	echo "svc $RR rr ${IIP[a]} ${IIP[b]} ${IIP[d]}"
	echo "svc $CLOSEST closest ${IIP[d]} ${IIP[e]}"
	echo "svc $ONE rr ${IIP[d]}"
}

declare -A FILLER
for n in 1 2 3; do
	node_cmds "$n" >"/tmp/$TAG-fill$n"
	topo_bg "$TAG-n$n" "$OAK_BIN/oak-dp" -n "$TAG-n$n" batch --hold "/tmp/$TAG-fill$n" >"/tmp/$TAG-fill$n.log" 2>&1
	FILLER[$n]=$TOPO_LAST_PID
done
for n in 1 2 3; do
	for _ in $(seq 50); do grep -q "batch done" "/tmp/$TAG-fill$n.log" && break; sleep 0.1; done
	check "node $n datapath filled ($(head -1 "/tmp/$TAG-fill$n.log"))" grep -q "batch done rc=0" "/tmp/$TAG-fill$n.log"
	rm -f "/tmp/$TAG-fill$n"
done

for i in a b d f e; do
	topo_bg "$(inst_ns "${NODE[$i]}" "$i")" $PEER serve "$i" >/dev/null
done
sleep 1

inc() { nsx "$(inst_ns "${NODE[$1]}" "$1")" "${@:2}"; }
snmp() { # snmp INST PROTO FIELD
	inc "$1" cat /proc/net/snmp | awk -v p="$2:" -v f="$3" '$1==p && !h {for (i=2;i<=NF;i++) col[$i]=i; h=1; next} $1==p && h {print $col[f]}'
}

# --- round-robin: every instance in turn, TCP, UDP, ICMP echo
seq_tcp=$(for _ in 1 2 3 4 5 6; do inc c $PEER ask-tcp $RR; done | tr '\n' ' ')
rr_cycles() {
	local s=($seq_tcp)
	[ ${#s[@]} -eq 6 ] && [ "${s[0]}" = "${s[3]}" ] && [ "${s[1]}" = "${s[4]}" ] &&
		[ "${s[2]}" = "${s[5]}" ] && [ "$(printf '%s\n' "${s[@]:0:3}" | sort | tr -d '\n')" = abd ]
}
check "TCP to the round-robin IP cycles over a, b, d in turn: $seq_tcp" rr_cycles

seq_udp=$(for _ in 1 2 3; do inc c $PEER ask-udp $RR; done | sort | tr -d '\n')
check "UDP to the round-robin IP reaches a, b and d: $seq_udp" test "$seq_udp" = abd

before=$(for i in a b d; do snmp $i Icmp InEchos; done | tr '\n' ' ')
ping_ok=0
for _ in 1 2 3; do inc c ping -c 1 -W 2 $RR >/dev/null && ping_ok=$((ping_ok + 1)); done
after=$(for i in a b d; do snmp $i Icmp InEchos; done | tr '\n' ' ')
one_each() {
	local b=($before) a=($after) k
	for k in 0 1 2; do [ $((a[k] - b[k])) -eq 1 ] || return 1; done
}
check "3 pings to the round-robin IP all answered ($ping_ok/3)" test $ping_ok -eq 3
check "each of a, b, d answered one echo (InEchos $before-> $after)" one_each

# --- data integrity: real transfers, checksums computed in software
xfer_ok=0
for _ in 1 2 3; do inc c $PEER send $RR $XFER >/dev/null && xfer_ok=$((xfer_ok + 1)); done
check "3 x $XFER bytes from n1 through the round-robin IP arrive intact ($xfer_ok/3)" test $xfer_ok -eq 3
xfer_ok=0
for _ in 1 2 3; do inc f $PEER send $RR $XFER >/dev/null && xfer_ok=$((xfer_ok + 1)); done
check "3 x $XFER bytes from n2 through the round-robin IP arrive intact ($xfer_ok/3)" test $xfer_ok -eq 3
csum_errs=$(for i in a b c d f; do snmp $i Tcp InCsumErrors; done | paste -sd+ | bc)
check "no TCP checksum errors in any instance ($csum_errs)" test "$csum_errs" -eq 0

# --- closest: the harness measures node RTTs (as the agent's probes will)
rtt_us() { nsx "$TAG-n1" ping -c 3 -i 0.2 -q "$(node_ip "$1")" | awk -F/ '/rtt/ {printf "%d", $5 * 1000}'; }
set_latencies() {
	local d e
	d=$(rtt_us 2)
	e=$(rtt_us 3)
	echo "   measured from n1: n2 ${d}us, n3 ${e}us"
	oakdp 1 latency $CLOSEST "${IIP[d]}" "$d" && oakdp 1 latency $CLOSEST "${IIP[e]}" "$e"
}
# closest by the latencies the agent writes, whatever their source
oakdp 1 latency $CLOSEST "${IIP[d]}" 5000 && oakdp 1 latency $CLOSEST "${IIP[e]}" 300
near=$(for _ in 1 2 3 4; do inc c $PEER ask-tcp $CLOSEST; done | sort -u | tr -d '\n')
check "closest IP follows the written latencies (d 5 ms, e 0.3 ms): $near" test "$near" = e
oakdp 1 latency $CLOSEST "${IIP[d]}" 300 && oakdp 1 latency $CLOSEST "${IIP[e]}" 300
near=$(for _ in 1 2 3 4; do inc c $PEER ask-tcp $CLOSEST; done | sort | uniq -c | awk '{print $2 $1}' | tr -d '\n')
check "closest IP takes turns between equally near d and e: $near" test "$near" = d2e2

if topo_has_netem; then
	topo_delay 3 20
	set_latencies
	near=$(for _ in 1 2 3 4; do inc c $PEER ask-tcp $CLOSEST; done | sort -u | tr -d '\n')
	check "closest IP reaches d while n3 is 20 ms away: $near" test "$near" = d
	topo_delay 3 0
	topo_delay 2 20
	set_latencies
	near=$(for _ in 1 2 3 4; do inc c $PEER ask-tcp $CLOSEST; done | sort -u | tr -d '\n')
	check "closest IP reaches e once n2 is the far one: $near" test "$near" = e
	topo_delay 2 0
else
	skip "closest IP follows tc netem distance: this kernel has no sch_netem (vmtest/run runs it on 6.1)"
fi

# --- too big for the tunnel: ICMP fragmentation needed, never a silent drop
ip -n "$(inst_ns 1 c)" link set eth0 mtu 1500
fragmsg=$(inc c ping -M do -s 1472 -c 1 -W 2 $ONE 2>&1)
check "a 1500-byte DF packet to a remote backend gets 'frag needed, mtu 1472'" grep -q "mtu = 1472" <<<"$fragmsg"
check "a 1450-byte DF packet fits the tunnel both ways" inc c ping -M do -s 1422 -c 1 -W 2 $ONE
ip -n "$(inst_ns 1 c)" link set eth0 mtu 1450
check "n1 counted too_big" bash -c "$(declare -f oakdp nsx); TAG=$TAG OAK_BIN=$OAK_BIN; oakdp 1 stats | awk '\$1==\"too_big\" && \$2>0 {f=1} END {exit !f}'"

# --- the kernel keeps forwarding when the process that filled the maps dies
inc c $PEER send $ONE $LONG 6 >"/tmp/$TAG-long.log" 2>&1 &
long=$!
sleep 2
kill -9 "${FILLER[1]}" "${FILLER[2]}" "${FILLER[3]}"
wait "$long"
check "a 6 s transfer survives SIGKILL of every map filler: $(cat "/tmp/$TAG-long.log")" grep -q ok "/tmp/$TAG-long.log"
rm -f "/tmp/$TAG-long.log"

# --- decap at XDP on n2's uplink (the physical-NIC path), then back to tc
mode=$(oakdp 2 init "$(node_ip 2)" up0 xdp)
check "n2 uplink switched to XDP decap ($mode)" grep -q "decap at xdp" <<<"$mode"
xdp_before=$(oakdp 2 stats | awk '$1=="decap_xdp" {print $2}')
check "$XFER bytes through XDP decap arrive intact" inc c $PEER send $ONE $XFER
xdp_after=$(oakdp 2 stats | awk '$1=="decap_xdp" {print $2}')
check "n2 counted XDP decaps ($xdp_before -> $xdp_after)" test "$xdp_after" -gt "$xdp_before"
check "xdp-loader shows oak_xdp_decap on n2's uplink" bash -c "nsenter --net=/run/netns/$TAG-n2 xdp-loader status up0 | grep -q oak_xdp_decap"
mode=$(oakdp 2 init "$(node_ip 2)" up0 tc)
check "n2 uplink back to tc decap ($mode)" grep -q "decap at tc" <<<"$mode"
check "$XFER bytes through tc decap arrive intact" inc c $PEER send $ONE $XFER

# --- removal: the next flows pick among the remaining instances
for n in 1 2 3; do
	oakdp "$n" svc $RR rr "${IIP[a]}" "${IIP[b]}"
	[ "$n" = 2 ] || oakdp "$n" del "${IIP[d]}"
done
left=$(for _ in 1 2 3 4; do inc c $PEER ask-tcp $RR; done | sort -u | tr -d '\n')
check "after d is removed, the round-robin IP reaches only a and b: $left" test "$left" = ab

oakdp 1 stats | sed 's/^/   n1 /'
topo_cleanup
check "no namespace left behind" bash -c "! ip netns list | grep -q '^$TAG-'"
check "no BPF pins left behind" bash -c "! ls /sys/fs/bpf/oak/ 2>/dev/null | grep -q '^$TAG-'"
finish
