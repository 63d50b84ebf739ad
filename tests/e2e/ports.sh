#!/usr/bin/env bash
# End-to-end test of port exposure (an SLA's "port", done in BPF on the
# uplink): two nodes on a bridged underlay, an instance on node 1 whose
# container ports are exposed on node 1's underlay address with oak-dp, and a
# client on the underlay that is no part of the overlay (no oak on it, no
# route to oak's networks). Then the same through oak-node on a third node:
# the deploy message's "port" exposed, a conflicting one refused with the
# port in the instance's state reason, nothing left once deleted. Needs root.
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
TAG=${TAG:-okp$$}
source "$HERE/topo.sh"
source "$HERE/bus.sh"
PEER="python3 $HERE/peer.py"
XFER=${OAK_E2E_XFER:-8000000}
WORK=/tmp/$TAG
BROKER=192.168.100.254
declare -A AGENT
ports_cleanup() {
	agents_stop
	bus_stop
	topo_cleanup
	oak_cgroups_remove
	rm -rf "$WORK"
}
trap ports_cleanup EXIT
trap "exit 1" INT TERM
mkdir -p "$WORK"

topo_switch
for n in 1 2 3; do topo_node "$n"; done
A=$(topo_instance 1 a 1)
D=$(topo_instance 2 d 1)
IIP_A=10.30.1.1
IIP_D=10.30.2.1
N1=$(node_ip 1)
N2=$(node_ip 2)

# The outside client: a host on the underlay and nothing else.
EXT="$TAG-ext"
EXT_IP=192.168.100.200
ip netns add "$EXT"
ip link add eth0 netns "$EXT" type veth peer name pext netns "$TAG-sw"
ip -n "$TAG-sw" link set pext master br0 up
ip -n "$EXT" addr add "$EXT_IP/24" dev eth0
ip -n "$EXT" link set eth0 up
ip -n "$EXT" link set lo up
nsx "$EXT" ethtool -K eth0 tx off >/dev/null
ext() { nsx "$EXT" "$@"; }

cat >"/tmp/$TAG-fill1" <<EOF
init $N1 up0 tc
local $IIP_A ve-a $A $(inst_mac 1 a)
remote $IIP_D $N2
EOF
cat >"/tmp/$TAG-fill2" <<EOF
init $N2 up0 tc
local $IIP_D ve-d $D $(inst_mac 2 d)
remote $IIP_A $N1
EOF
declare -A FILLER
for n in 1 2; do
	topo_bg "$TAG-n$n" "$OAK_BIN/oak-dp" -n "$TAG-n$n" batch --hold "/tmp/$TAG-fill$n" >"/tmp/$TAG-fill$n.log" 2>&1
	FILLER[$n]=$TOPO_LAST_PID
done
for n in 1 2; do
	for _ in $(seq 50); do grep -q "batch done" "/tmp/$TAG-fill$n.log" && break; sleep 0.1; done
	check "node $n datapath filled ($(head -1 "/tmp/$TAG-fill$n.log"))" grep -q "batch done rc=0" "/tmp/$TAG-fill$n.log"
	rm -f "/tmp/$TAG-fill$n" "/tmp/$TAG-fill$n.log"
done

topo_bg "$(inst_ns 1 a)" $PEER serve a >/dev/null
topo_bg "$(inst_ns 2 d)" $PEER serve d >/dev/null
sleep 1

# What oak-node does for an SLA "port": "6080:8080/tcp;7090:9090/udp;5001"
check "expose 6080/tcp -> a:8080" oakdp 1 port add tcp 6080 $IIP_A 8080
check "expose 7090/udp -> a:9090" oakdp 1 port add udp 7090 $IIP_A 9090
check "expose 5001/tcp -> a:5001" oakdp 1 port add tcp 5001 $IIP_A 5001
check "adding the same mapping again is a no-op" oakdp 1 port add tcp 6080 $IIP_A 8080
list=$(oakdp 1 port list | tr '\n' ' ')
check "port list shows the three ($list)" test "$list" = "5001/tcp -> $IIP_A:5001 6080/tcp -> $IIP_A:8080 7090/udp -> $IIP_A:9090 "
conflict=$(oakdp 1 port add tcp 6080 $IIP_D 80 2>&1)
check "a host port exposed already is refused ($conflict)" grep -q "exposed already" <<<"$conflict"
check "... and keeps its instance" bash -c "$(declare -f oakdp nsx); TAG=$TAG OAK_BIN=$OAK_BIN; oakdp 1 port list | grep -qx '6080/tcp -> $IIP_A:8080'"
check "the tunnel's UDP port cannot be exposed" bash -c "$(declare -f oakdp nsx); TAG=$TAG OAK_BIN=$OAK_BIN; ! oakdp 1 port add udp 50103 $IIP_A 9090 2>/dev/null"
check "another instance cannot remove a's port" bash -c "$(declare -f oakdp nsx); TAG=$TAG OAK_BIN=$OAK_BIN; ! oakdp 1 port del tcp 6080 $IIP_D 2>/dev/null"

dpstat() { oakdp 1 stats | awk -v k="$1" '$1==k {print $2}'; }
snmp() { # snmp NS PROTO FIELD
	nsx "$1" cat /proc/net/snmp | awk -v p="$2:" -v f="$3" '$1==p && !h {for (i=2;i<=NF;i++) col[$i]=i; h=1; next} $1==p && h {print $col[f]}'
}
dnat0=$(dpstat port_dnat)
reply0=$(dpstat port_reply)

# --- from outside the overlay to node 1's underlay address
got=$(for _ in 1 2 3; do ext $PEER ask-tcp "$N1" 6080; done | tr -d '\n')
check "TCP from outside to $N1:6080 reaches a, 3 times: $got" test "$got" = aaa
got=$(for _ in 1 2 3; do ext $PEER ask-udp "$N1" 7090; done | tr -d '\n')
check "UDP from outside to $N1:7090 reaches a, 3 times: $got" test "$got" = aaa
xfer_ok=0
for _ in 1 2 3; do ext $PEER send "$N1" "$XFER" >/dev/null && xfer_ok=$((xfer_ok + 1)); done
check "3 x $XFER bytes from outside to $N1:5001 arrive intact ($xfer_ok/3)" test $xfer_ok -eq 3
errs=$(($(snmp "$(inst_ns 1 a)" Tcp InCsumErrors) + $(snmp "$EXT" Tcp InCsumErrors) + $(snmp "$(inst_ns 1 a)" Udp InCsumErrors) + $(snmp "$EXT" Udp InCsumErrors)))
check "no TCP/UDP checksum errors in a or in the client ($errs)" test "$errs" -eq 0

# the instance sees the client's own address (DNAT only, no SNAT on the way in)
ext $PEER send "$N1" 20000000 4 >"/tmp/$TAG-long.log" 2>&1 &
long=$!
sleep 1.5
peer=$(nsx "$(inst_ns 1 a)" ss -tnH state established '( sport = :5001 )' | awk '{print $4}' | sort -u | tr '\n' ' ')
check "a's end of the connection has the client $EXT_IP as its peer ($peer)" grep -q "^$EXT_IP:" <<<"$peer"

# --- the kernel keeps the exposure when the process that filled the maps dies
kill -9 "${FILLER[1]}"
wait "$long"
check "a 4 s transfer from outside survives SIGKILL of node 1's map filler: $(cat "/tmp/$TAG-long.log")" grep -q ok "/tmp/$TAG-long.log"
rm -f "/tmp/$TAG-long.log"

dnat1=$(dpstat port_dnat)
reply1=$(dpstat port_reply)
check "node 1 counted port_dnat ($dnat0 -> $dnat1)" test "$dnat1" -gt "$dnat0"
check "node 1 counted port_reply ($reply0 -> $reply1)" test "$reply1" -gt "$reply0"
check "node 1 counted no port_no_inst" test "$(dpstat port_no_inst)" -eq 0

# --- what is not exposed stays the node's own
check "TCP to $N1:6081 (not exposed) is refused by node 1 itself" bash -c "! nsenter --net=/run/netns/$EXT $PEER ask-tcp $N1 6081 2>/dev/null"
check "TCP to $N2:6080 (exposed on node 1 only) is refused" bash -c "! nsenter --net=/run/netns/$EXT $PEER ask-tcp $N2 6080 2>/dev/null"
check "UDP to $N1:6080 (exposed for TCP only) gets no answer" bash -c "! nsenter --net=/run/netns/$EXT $PEER ask-udp $N1 6080 2>/dev/null"
check "the overlay still works: a reaches d by its Instance IP" test "$(nsx "$(inst_ns 1 a)" $PEER ask-tcp $IIP_D)" = d

# --- the uplink re-initialised, or switched to XDP decap: the ports stay
mode=$(oakdp 1 init "$N1" up0 xdp)
check "node 1 uplink switched to XDP decap ($mode)" grep -q "decap at xdp" <<<"$mode"
check "TCP from outside to $N1:6080 still reaches a under XDP" test "$(ext $PEER ask-tcp "$N1" 6080)" = a
mode=$(oakdp 1 init "$N1" up0 tc)
check "UDP from outside to $N1:7090 still reaches a after re-init ($mode)" test "$(ext $PEER ask-udp "$N1" 7090)" = a

# --- removed mappings expose nothing
check "remove 6080/tcp" oakdp 1 port del tcp 6080 $IIP_A
check "TCP to $N1:6080 no longer reaches a (refused by node 1)" bash -c "! nsenter --net=/run/netns/$EXT $PEER ask-tcp $N1 6080 2>/dev/null"
check "UDP to $N1:7090 still reaches a" test "$(ext $PEER ask-udp "$N1" 7090)" = a
check "remove 7090/udp and 5001/tcp" bash -c "$(declare -f oakdp nsx); TAG=$TAG OAK_BIN=$OAK_BIN; oakdp 1 port del udp 7090 && oakdp 1 port del tcp 5001"
check "UDP to $N1:7090 no longer reaches a" bash -c "! nsenter --net=/run/netns/$EXT $PEER ask-udp $N1 7090 2>/dev/null"
check "port list is empty" test -z "$(oakdp 1 port list)"
check "removing a port not exposed is no error" oakdp 1 port del tcp 6080

oakdp 1 stats | awk '$2 > 0' | sed 's/^/   n1 /'

# --- oak-node on node 3: the deploy message's "port"
N3=$(node_ip 3)
N3ID=$TAG-n3
bus_start 'nodes/#'
pub -r -t "nodes/$N3ID/net/subnet" -m "{\"node_id\":\"$N3ID\",\"subnet\":\"10.18.0.128/26\"}"
nsenter --net="/run/netns/$N3ID" "$OAK_BIN/oak-node" --node_id "$N3ID" --broker_host $BROKER \
	--node_ip "$N3" --uplink up0 --uplink_mode tc --state_dir "$WORK/n3" --log_level debug \
	>>"$WORK/agent3.log" 2>&1 &
AGENT[3]=$!
check "oak-node on n3 says hello" bus_has "nodes/$N3ID/hello" "\"node_id\":\"$N3ID\""
deploy() { # deploy JOB INST_IP NAME PORT
	pub -t "nodes/$N3ID/control/deploy" -m "{\"service_id\":\"s-$1\",\"job_name\":\"$1\",\"instance_number\":0,\"instance_ip\":\"$2\",\"runtime\":\"native\",\"code\":\"python3\",\"cmd\":[\"python3\",\"$HERE/peer.py\",\"serve\",\"$3\"],\"port\":\"$4\"}"
}
SRV=app.test.web.test
deploy $SRV 10.30.3.1 web "6280:8080/tcp;6290:9090/udp"
check "web (port \"6280:8080/tcp;6290:9090/udp\") RUNNING on n3" bus_has "nodes/$N3ID/job" "\"job_name\":\"$SRV\".*\"state\":\"RUNNING\""
list=$(nsx "$N3ID" "$OAK_BIN/oak-dp" -n "$N3ID" port list | tr '\n' ' ')
check "oak-node exposed both ($list)" test "$list" = "6280/tcp -> 10.30.3.1:8080 6290/udp -> 10.30.3.1:9090 "
got=""
for _ in $(seq 20); do got=$(ext $PEER ask-tcp "$N3" 6280 2>/dev/null) && break; sleep 0.2; done
check "TCP from outside to $N3:6280 reaches web: $got" test "$got" = web
check "UDP from outside to $N3:6290 reaches web" test "$(ext $PEER ask-udp "$N3" 6290)" = web

TAKEN=app.test.taken.test
deploy $TAKEN 10.30.3.2 taken "6290/tcp;6280:8080"
check "a second instance asking for 6280/tcp is FAILED with the port in its reason" \
	bus_has "nodes/$N3ID/job" "\"job_name\":\"$TAKEN\".*FAILED.*port 6280/tcp: host port already exposed on this node|\"job_name\":\"$TAKEN\".*port 6280/tcp: host port already exposed on this node.*FAILED"
grep "^nodes/$N3ID/job .*$TAKEN.*FAILED" "$WORK/bus.log" | tail -1 | cut -c1-300 | sed 's/^/   /'
list=$(nsx "$N3ID" "$OAK_BIN/oak-dp" -n "$N3ID" port list | tr '\n' ' ')
check "its cleanup left web's ports alone and took back its own 6290/tcp ($list)" test "$list" = "6280/tcp -> 10.30.3.1:8080 6290/udp -> 10.30.3.1:9090 "
check "TCP from outside to $N3:6280 still reaches web" test "$(ext $PEER ask-tcp "$N3" 6280)" = web
SCTP=app.test.sctp.test
deploy $SCTP 10.30.3.3 sctp "3868/sctp"
check "an sctp port is FAILED: only tcp and udp can be exposed" bus_has "nodes/$N3ID/job" "\"job_name\":\"$SCTP\".*only tcp and udp"

pub -t "nodes/$N3ID/control/delete" -m "{\"job_name\":\"$SRV\",\"instance_number\":0}"
check "web UNDEPLOYED" bus_has "nodes/$N3ID/job" "\"job_name\":\"$SRV\".*UNDEPLOYED"
check "no port exposed on n3 after the delete" test -z "$(nsx "$N3ID" "$OAK_BIN/oak-dp" -n "$N3ID" port list)"
check "TCP to $N3:6280 no longer reaches web (refused by n3)" bash -c "! nsenter --net=/run/netns/$EXT $PEER ask-tcp $N3 6280 2>/dev/null"

ports_cleanup
check "no namespace left behind" bash -c "! ip netns list | grep -q '^$TAG-'"
check "no BPF pins left behind" bash -c "! ls /sys/fs/bpf/oak/ 2>/dev/null | grep -q '^$TAG-'"
finish
