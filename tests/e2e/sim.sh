#!/usr/bin/env bash
# End-to-end test of oak-node's sim mode (sim = true), what
# tools/bench/fleet.sh runs a thousand of: a real mosquitto on this
# machine's loopback (a free port), this script as the cluster. The node
# must go through every control-plane step and make nothing on the
# machine: no network namespace, veth, cgroup or BPF pin.
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
source "$HERE/topo.sh"
TAG=oks$$
W=/tmp/$TAG
N=$TAG-n
PORT=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
MOSQ= SUB= NODE=
sim_cleanup() {
	for p in $NODE $SUB $MOSQ; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	rm -rf "$W"
}
trap sim_cleanup EXIT
mkdir -p "$W"
printf 'listener %s 127.0.0.1\nallow_anonymous true\npersistence false\n' "$PORT" >"$W/m.conf"
mosquitto -c "$W/m.conf" >"$W/mosq.log" 2>&1 &
MOSQ=$!
for _ in $(seq 50); do (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null && break; sleep 0.1; done
mosquitto_sub -p "$PORT" -v -t 'nodes/#' >"$W/bus.log" 2>&1 &
SUB=$!
sleep 0.2
pub() { mosquitto_pub -p "$PORT" -q 1 "$@"; }
has() { # has TOPIC REGEX: a recorded message matches within 5 s
	local i
	for i in $(seq 50); do
		grep "^$1 " "$W/bus.log" | grep -qE "$2" && return 0
		sleep 0.1
	done
	return 1
}
start() {
	"$OAK_BIN/oak-node" --sim true --node_id "$N" --broker_port "$PORT" --node_ip 127.0.9.1 \
		--cluster_heartbeat "127.0.0.1:$PORT" --state_dir "$W/state" --runtimes native,container \
		>>"$W/node.log" 2>&1 &
	NODE=$!
}
pins0=$(ls /sys/fs/bpf/oak 2>/dev/null | wc -l)
pub -r -t "nodes/$N/net/subnet" -m "{\"node_id\":\"$N\",\"subnet\":\"10.18.0.0/26\"}"
start
check "hello: underlay address, both runtimes offered, no tunnel port" \
	has "nodes/$N/hello" '"underlay_ip":"127.0.9.1","underlay_ip6":"","tunnel_port":0,.*"virtualization":\["native","container"\]'
check "online (retained status)" has "nodes/$N/status" '"online":true'
check "a resource report" has "nodes/$N/information" '"instances":0'
pub -t "nodes/$N/control/deploy" -m '{"service_id":"s-a","job_name":"a.t.s.t","instance_number":0,"instance_ip":"10.30.1.1","rr_ip":"10.30.30.30","runtime":"container","code":"docker.io/library/nginx:latest"}'
check "deploy: CREATING" has "nodes/$N/job" '"instance_number":0,"state":"CREATING"'
check "then RUNNING, with a namespace address of its subnet" has "nodes/$N/job" '"state":"RUNNING".*"namespace_ip":"10.18.0.2"'
check "its service deployed at the cluster" has "nodes/$N/net/service/deployed" '"instance_ip":"10.30.1.1"'
check "a table query for its service" has "nodes/$N/net/tablequery/request" '"job_name":"a.t.s.t"'
check "the record says RUNNING, with no pid, namespace or cgroup" /usr/bin/python3 -c "import json,sys
r = json.load(open('$W/state/instances/a.t.s.t.0.json'))
sys.exit(0 if (r['state'], r['pid'], r['netns'], r['veth'], r['cgroup']) == ('RUNNING', 0, '', '', '') else 1)"
check "nothing made on the machine: no namespace, cgroup or pin" \
	bash -c "! ip netns list | grep -q '^$N' && ! find /sys/fs/cgroup -maxdepth 4 -name '$N' | grep -q . && [ \$(ls /sys/fs/bpf/oak 2>/dev/null | wc -l) = $pins0 ]"
check "usage report lists the instance (memory unknown: 0)" has "nodes/$N/jobs/resources" '"job_name":"a.t.s.t".*"memory":0'
kill "$NODE"
wait "$NODE" 2>/dev/null
start
check "restarted: adopts the instance (no second CREATING)" \
	bash -c "for i in \$(seq 50); do grep -q 'a.t.s.t.0: adopted (simulated)' '$W/node.log' && exit 0; sleep 0.1; done; exit 1"
check "... and reports it RUNNING again" bash -c "[ \$(grep -c '\"instance_number\":0,\"state\":\"RUNNING\"' '$W/bus.log') -ge 2 ] || sleep 2; [ \$(grep -c '\"instance_number\":0,\"state\":\"RUNNING\"' '$W/bus.log') -ge 2 ] && [ \$(grep -c '\"state\":\"CREATING\"' '$W/bus.log') = 1 ]"
pub -t "nodes/$N/control/delete" -m '{"job_name":"a.t.s.t","instance_number":0}'
check "delete: UNDEPLOYED" has "nodes/$N/job" '"state":"UNDEPLOYED"'
check "its record removed" bash -c "sleep 0.3; [ ! -e '$W/state/instances/a.t.s.t.0.json' ]"
finish
