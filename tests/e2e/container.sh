#!/usr/bin/env bash
# End-to-end test of oak-node's container runtime: a busybox image built here
# as an OCI archive (no registry), deployed through the cluster's messages
# on two nodes, reached through its round-robin IP locally and through the
# tunnel, a crashing container's exit code, and cleanup on undeploy.
#
# It runs its own containerd (own socket, root and state; stopped at the
# end), so a containerd the machine may run is neither needed nor touched.
# Exit code 77 (skipped) when containerd, ctr, runc or a static busybox is
# missing. Needs root.
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
TAG=${TAG:-okr$$}
source "$HERE/topo.sh"
source "$HERE/bus.sh"
WORK=/tmp/$TAG
BROKER=192.168.100.254
CTD_STATE=/run/$TAG-ctd
CTD_SOCK=$CTD_STATE/containerd.sock
CTRNS=oak-$TAG
IMAGE=oak.local/test/busybox:1
declare -A AGENT

missing=""
for b in containerd ctr runc; do command -v "$b" >/dev/null || missing="$missing $b"; done
if [ -n "$missing" ]; then
	echo "SKIP: container runtime test needs$missing (Debian: apt-get install containerd runc)"
	exit 77
fi

ctrx() { ctr --address "$CTD_SOCK" --namespace "$CTRNS" "$@"; }
container_cleanup() {
	local n f pid c
	for n in 1 2; do
		[ -n "${AGENT[$n]:-}" ] && kill "${AGENT[$n]}" 2>/dev/null
	done
	sleep 0.3
	for n in 1 2; do [ -n "${AGENT[$n]:-}" ] && wait "${AGENT[$n]}" 2>/dev/null; done
	AGENT=()
	if [ -n "${CTD:-}" ]; then
		for c in $(ctrx task ls -q 2>/dev/null); do ctrx task kill -a -s SIGKILL "$c" 2>/dev/null; done
		sleep 0.3
		for c in $(ctrx container ls -q 2>/dev/null); do
			ctrx task rm -f "$c" >/dev/null 2>&1
			ctrx container rm "$c" >/dev/null 2>&1
		done
		kill "$CTD" 2>/dev/null
		wait "$CTD" 2>/dev/null
		# shims of this containerd only (their command line names its socket)
		for pid in $(pgrep -f "containerd-shim.*-address $CTD_SOCK" || true); do kill -9 "$pid" 2>/dev/null; done
		CTD=""
	fi
	for f in "$WORK"/n*/instances/*.json; do
		[ -e "$f" ] || continue
		pid=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["pid"])' "$f")
		[ "$pid" -gt 1 ] 2>/dev/null && kill -9 "$pid" 2>/dev/null
	done
	[ -n "${SUB:-}" ] && kill "$SUB" 2>/dev/null
	[ -n "${MOSQ:-}" ] && kill "$MOSQ" 2>/dev/null
	SUB="" MOSQ=""
	topo_cleanup
	for d in /sys/fs/cgroup/*/oak/"$TAG"-n* /sys/fs/cgroup/oak/"$TAG"-n*; do
		[ -d "$d" ] || continue
		find "$d" -depth -type d -exec rmdir {} + 2>/dev/null
	done
	umount -R "$CTD_STATE" 2>/dev/null
	rm -rf "$WORK" "$CTD_STATE"
}
trap container_cleanup EXIT
trap 'exit 130' INT TERM
mkdir -p "$WORK"

# --- the image: busybox-static as the only layer
BB=""
for b in /bin/busybox /usr/bin/busybox; do
	[ -x "$b" ] && file -L "$b" 2>/dev/null | grep -q 'statically linked' && BB=$b && break
done
if [ -z "$BB" ]; then
	(cd "$WORK" && apt-get download busybox-static >/dev/null 2>&1) &&
		dpkg-deb -x "$WORK"/busybox-static_*.deb "$WORK/pkg" && BB=$WORK/pkg/bin/busybox
fi
if [ -z "$BB" ] || [ ! -x "$BB" ]; then
	echo "SKIP: no static busybox to build the test image (Debian: busybox-static)"
	exit 77
fi
mkdir -p "$WORK/rootfs/bin" "$WORK/rootfs/tmp" "$WORK/rootfs/www"
cp "$BB" "$WORK/rootfs/bin/busybox"
for a in sh httpd echo sleep cat ls mkdir; do ln -s busybox "$WORK/rootfs/bin/$a"; done
python3 "$HERE/oci_image.py" "$WORK/rootfs" "$WORK/busybox.tar" "$IMAGE"
check "an OCI archive of busybox was built ($(stat -c %s "$WORK/busybox.tar") bytes)" test -s "$WORK/busybox.tar"

# --- our own containerd
mkdir -p "$WORK/ctd" "$CTD_STATE"
cat >"$WORK/ctd/config.toml" <<EOC
version = 2
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "$CTD_SOCK"
[ttrpc]
  address = "$CTD_STATE/containerd.sock.ttrpc"
EOC
containerd --config "$WORK/ctd/config.toml" --root "$WORK/ctd/root" --state "$CTD_STATE" \
	--address "$CTD_SOCK" >"$WORK/ctd/log" 2>&1 &
CTD=$!
CTD_PID=$CTD
for _ in $(seq 100); do ctr --address "$CTD_SOCK" version >/dev/null 2>&1 && break; sleep 0.1; done
if ! ctr --address "$CTD_SOCK" version >/dev/null 2>&1; then
	echo "SKIP: containerd did not start here:"
	tail -5 "$WORK/ctd/log"
	exit 77
fi
check "our containerd answers on $CTD_SOCK" ctr --address "$CTD_SOCK" version

# --- hosts, broker, agents (as node.sh)
topo_switch
topo_node 1
topo_node 2
bus_start 'nodes/#' 'jobs/#'
start_agent() {
	local n=$1
	nsenter --net="/run/netns/$TAG-n$n" "$OAK_BIN/oak-node" --node_id "$TAG-n$n" --broker_host $BROKER \
		--node_ip "$(node_ip "$n")" --uplink up0 --uplink_mode tc \
		--state_dir "$WORK/n$n" --report_interval 2 --restart_tries 1 --restart_backoff_ms 200 \
		--containerd_address "$CTD_SOCK" --containerd_namespace "$CTRNS" \
		--log_level debug >>"$WORK/agent$n.log" 2>&1 &
	AGENT[$n]=$!
}
N1=$TAG-n1 N2=$TAG-n2
pub -r -t "nodes/$N1/net/subnet" -m "{\"node_id\":\"$N1\",\"subnet\":\"10.18.0.0/26\"}"
pub -r -t "nodes/$N2/net/subnet" -m "{\"node_id\":\"$N2\",\"subnet\":\"10.18.0.64/26\"}"
start_agent 1
start_agent 2
check "n1 offers the container runtime" bus_has "nodes/$N1/hello" '"virtualization":\[[^]]*"container"'
check "n2 offers the container runtime" bus_has "nodes/$N2/hello" '"virtualization":\[[^]]*"container"'
sleep 0.5

JOB=app.test.web.test
RR=10.30.70.70
deploy_ctr() { # deploy_ctr NODE JOB N INST_IP CMD_JSON [EXTRA]
	pub -t "nodes/$1/control/deploy" -m "{\"service_id\":\"s-$2\",\"job_name\":\"$2\",\"instance_number\":$3,\"instance_ip\":\"$4\",\"rr_ip\":\"${RRIP:-}\",\"runtime\":\"container\",\"code\":\"$WORK/busybox.tar\",\"cmd\":$5${6:+,$6}}"
}
web() { echo "[\"sh\",\"-c\",\"echo \$NAME > /www/index.html && exec httpd -f -p 8080 -h /www\"]"; }
RRIP=$RR deploy_ctr "$N1" $JOB 1 10.30.1.1 "$(web)" '"environment":["NAME=web1"],"memory":64,"vcpus":0.5'
RRIP=$RR deploy_ctr "$N2" $JOB 2 10.30.2.1 "$(web)" '"environment":["NAME=web2"]'
pub -t "nodes/$N1/control/deploy" -m "{\"service_id\":\"s-c\",\"job_name\":\"app.test.cli.test\",\"instance_number\":0,\"instance_ip\":\"10.30.1.9\",\"rr_ip\":\"10.30.71.71\",\"runtime\":\"native\",\"code\":\"sleep\",\"cmd\":[\"sleep\",\"100000\"]}"
check "web.1 RUNNING on n1 (container)" bus_has "nodes/$N1/job" "\"job_name\":\"$JOB\".*\"state\":\"RUNNING\"" 30
check "web.2 RUNNING on n2 (container)" bus_has "nodes/$N2/job" "\"job_name\":\"$JOB\".*\"state\":\"RUNNING\"" 30
check "client RUNNING on n1 (native)" bus_has "nodes/$N1/job" '"job_name":"app.test.cli.test".*"state":"RUNNING"'
rec() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])' "$WORK/n$1/instances/$2.json" "$3"; }
W1_NS=$(rec 1 $JOB.1 netns)
W1_PID=$(rec 1 $JOB.1 pid)
check "containerd runs web.1 as task $W1_NS (pid $W1_PID)" bash -c "ctr --address $CTD_SOCK -n $CTRNS task ls | grep -qE '^$W1_NS +$W1_PID +RUNNING'"
check "the image was imported under its annotated name" bash -c "ctr --address $CTD_SOCK -n $CTRNS image ls -q | grep -qx $IMAGE"
check "web.1 runs in the instance namespace the agent made" test "$(readlink /proc/"$W1_PID"/ns/net)" = "$(nsx "$W1_NS" readlink /proc/self/ns/net)"
check "web.1 has its own pid namespace (a container)" test "$(readlink /proc/"$W1_PID"/ns/pid)" != "$(readlink /proc/self/ns/pid)"
mcg=$(awk -F: '$2 == "memory" { print $3 }' /proc/"$W1_PID"/cgroup)
check "web.1 is in the agent's cgroup ($mcg)" bash -c "[[ '$mcg' == /oak/$N1/* ]]"
if [ -f "/sys/fs/cgroup/memory$mcg/memory.limit_in_bytes" ]; then
	check "web.1 memory limit 64 MB" test "$(cat "/sys/fs/cgroup/memory$mcg/memory.limit_in_bytes")" = $((64 * 1024 * 1024))
fi

TABLE="{\"job_name\":\"$JOB\",\"service_id\":\"s-$JOB\",\"found\":true,\"rr_ip\":\"$RR\",\"instances\":[{\"instance_number\":1,\"instance_ip\":\"10.30.1.1\",\"node_id\":\"$N1\",\"node_ip\":\"192.168.100.1\",\"state\":\"RUNNING\"},{\"instance_number\":2,\"instance_ip\":\"10.30.2.1\",\"node_id\":\"$N2\",\"node_ip\":\"192.168.100.2\",\"state\":\"RUNNING\"}]}"
pub -t "jobs/$JOB/updates_available" -m "$TABLE"
pub -t "nodes/$N2/net/tablequery/result" -m "{\"job_name\":\"app.test.cli.test\",\"service_id\":\"s-c\",\"query_ip\":\"10.30.1.9\",\"found\":true,\"rr_ip\":\"10.30.71.71\",\"instances\":[{\"instance_number\":0,\"instance_ip\":\"10.30.1.9\",\"node_id\":\"$N1\",\"node_ip\":\"192.168.100.1\",\"state\":\"RUNNING\"}]}"
sleep 1
CLI_NS=$(rec 1 app.test.cli.test.0 netns)
get() { nsx "$CLI_NS" python3 -c "import urllib.request,sys; print(urllib.request.urlopen('http://$1:8080/', timeout=5).read().decode().strip())"; }
seen=$(for _ in 1 2 3 4; do get $RR; done 2>/dev/null | sort | uniq -c | awk '{print $2 $1}' | tr -d '\n')
check "the client reaches both containers through the round-robin IP (local and tunnelled): $seen" test "$seen" = web12web22
check "the container's output goes to its log" bash -c "ls $WORK/n1/logs/$JOB.1.log"

# --- a crashing container: FAILED with its exit code, restarted, then DEAD
deploy_ctr "$N2" app.test.bad.test 0 10.30.2.7 '["sh","-c","sleep 1; exit 3"]'
check "a crashing container is reported FAILED with exit code 3" bus_has "nodes/$N2/job" '"job_name":"app.test.bad.test".*"state":"FAILED".*exited with code 3' 20
check "after its restart it is DEAD" bus_has "nodes/$N2/job" '"job_name":"app.test.bad.test".*"state":"DEAD"' 20
pub -t "nodes/$N2/control/deploy" -m "{\"service_id\":\"s-x\",\"job_name\":\"app.test.nix.test\",\"instance_number\":0,\"instance_ip\":\"10.30.2.8\",\"runtime\":\"container\",\"code\":\"$WORK/nonexistent.tar\"}"
check "... deploying a missing archive fails and names it" bus_has "nodes/$N2/job" '"job_name":"app.test.nix.test".*"state":"FAILED".*nonexistent.tar: No such file' 20

# --- SIGKILL the agent: the container is adopted, not restarted
kill -9 "${AGENT[1]}"
wait "${AGENT[1]}" 2>/dev/null
start_agent 1
sleep 2
check "after an agent restart web.1 is adopted (pid $W1_PID kept)" bash -c "[ $(rec 1 $JOB.1 pid) = $W1_PID ] && grep -q 'app.test.web.test.1: adopted' $WORK/agent1.log"
check "and still serves" bash -c "$(declare -f get nsx); CLI_NS=$CLI_NS; for i in 1 2 3 4; do get $RR; done 2>/dev/null | grep -q web1"

# --- undeploy: the containers go with everything else
del() { pub -t "nodes/$1/control/delete" -m "{\"job_name\":\"$2\",\"instance_number\":$3}"; }
del "$N1" $JOB 1
del "$N2" $JOB 2
del "$N1" app.test.cli.test 0
check "web.1 UNDEPLOYED" bus_has "nodes/$N1/job" "\"job_name\":\"$JOB\".*UNDEPLOYED" 15
check "web.2 UNDEPLOYED" bus_has "nodes/$N2/job" "\"job_name\":\"$JOB\".*UNDEPLOYED" 15
sleep 0.5
check "no task left in containerd ($(ctrx task ls -q | tr '\n' ' '))" test -z "$(ctrx task ls -q)"
check "no container left in containerd ($(ctrx container ls -q | tr '\n' ' '))" test -z "$(ctrx container ls -q)"
check "web.1's process is gone" bash -c "! kill -0 $W1_PID 2>/dev/null"
check "no instance namespace left" bash -c "! ip netns list | grep -q '^$TAG-n[12]-i'"
check "no instance cgroups left" bash -c "! ls -d /sys/fs/cgroup/*/oak/$N1/oak* /sys/fs/cgroup/*/oak/$N2/oak* 2>/dev/null"
check "no records left" bash -c "! ls $WORK/n1/instances/*.json $WORK/n2/instances/*.json 2>/dev/null"

if [ "$FAILED" -ne 0 ]; then
	for n in 1 2; do echo "--- agent$n.log (tail)"; tail -30 "$WORK/agent$n.log"; done
fi
container_cleanup
check "our containerd is stopped" bash -c "! kill -0 $CTD_PID 2>/dev/null"
check "no namespace left behind" bash -c "! ip netns list | grep -q '^$TAG-'"
check "no BPF pins left behind" bash -c "! ls /sys/fs/bpf/oak/ 2>/dev/null | grep -q '^$TAG-'"
trap - EXIT
finish
