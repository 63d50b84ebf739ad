#!/usr/bin/env bash
# End-to-end test of tools/oak-local: a fleet of 2 clusters × 2 nodes comes
# up and registers (every node online at its cluster's broker with its own
# subnet and datapath, every cluster online at the root broker with its
# nodes counted, oak-root answering when it is built); status --json has the
# documented shape; down leaves nothing (namespaces, pins, cgroups,
# processes, files), also after kill -9 of parts of the fleet with an
# instance running, and after the state dir lost its records. Needs root.
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
TAG=ol$(($$ % 100000))
source "$HERE/topo.sh"
export OAK_BIN OAK_LOCAL_TAG=$TAG OAK_LOCAL_DIR=/tmp/$TAG.local
PORT=$((18000 + $$ % 1000))
OL="$ROOT/tools/oak-local"
PEER=$HERE/peer.py
DIR=$OAK_LOCAL_DIR
SUB=

lc_cleanup() {
	[ -n "$SUB" ] && kill "$SUB" 2>/dev/null
	"$OL" down >/dev/null 2>&1
	rm -f "/tmp/$TAG".*
}
trap lc_cleanup EXIT
trap 'exit 130' INT TERM

rootx() { nsx "$TAG-root" "$@"; }
# the json of status --json, queried with a python expression over f
fq() { /usr/bin/python3 -c "import json,sys; f=json.load(open(sys.argv[1])); print($1)" "/tmp/$TAG.status"; }
nothing_left() { # after down: namespaces, pins, cgroups, files, the given pids
	local p
	ip netns list | grep -q "^$TAG-" && { echo "   left: namespaces $(ip netns list | grep "^$TAG-" | tr '\n' ' ')"; return 1; }
	ls -d /sys/fs/bpf/oak/"$TAG"-* >/dev/null 2>&1 && { echo "   left: pins"; return 1; }
	ls -d /sys/fs/cgroup/*/oak/"$TAG"-* /sys/fs/cgroup/oak/"$TAG"-* >/dev/null 2>&1 && { echo "   left: cgroups"; return 1; }
	[ -e "$DIR" ] && { echo "   left: $DIR"; return 1; }
	for p; do
		# a zombie is gone (it waits for init to reap it)
		[ -e "/proc/$p" ] && ! grep -q '^[0-9]* (.*) Z' "/proc/$p/stat" 2>/dev/null &&
			{ echo "   left: pid $p ($(tr '\0' ' ' <"/proc/$p/cmdline"))"; return 1; }
	done
	return 0
}
recorded_pids() { awk '{print $2}' "$DIR/pids"; }

# --- up
out=$("$OL" up --port $PORT 2>&1)
rc=$?
echo "$out" | sed 's/^/   /'
check "oak-local up exits 0" test $rc = 0
check "up prints the fleet (clusters, nodes)" bash -c "grep -q 'cluster   c2' <<<'$out' && grep -q '$TAG-c2n2' <<<'$out'"
"$OL" status --json >"/tmp/$TAG.status"
check "status --json is JSON with root_url, admin_user, admin_password, clusters" \
	test "$(fq '",".join(k for k in ("root_url","admin_user","admin_password","clusters") if k in f)')" = "root_url,admin_user,admin_password,clusters"
check "2 clusters named c1, c2, each with a broker and 2 nodes" \
	test "$(fq '" ".join("%s:%s:%d" % (c["name"], bool(c["broker"]), len(c["nodes"])) for c in f["clusters"])')" = "c1:True:2 c2:True:2"
check "every node has id, netns and node_ip; ids and IPs distinct" \
	test "$(fq 'len({(n["id"], n["node_ip"]) for c in f["clusters"] for n in c["nodes"] if n["netns"]})')" = 4
pw=$(fq 'f["admin_password"]')
check "the admin password is generated (16 characters), not a default" test "${#pw}" = 16 -a "$pw" != Admin
for ns in $(fq '" ".join(n["netns"] for c in f["clusters"] for n in c["nodes"])'); do
	check "node namespace $ns exists" test -e "/run/netns/$ns"
done
check "status (human) exits 0 with every process running" bash -c "'$OL' status | grep -q 'processes .* running'"

# --- registration
for c in 1 2; do
	b=172.30.$c.254
	for m in 1 2; do
		id=$TAG-c${c}n$m
		check "$id online at c$c's broker (retained status)" \
			bash -c "nsx() { nsenter --net=/run/netns/\$1 \"\${@:2}\"; }; nsx $TAG-c$c mosquitto_sub -h $b -t nodes/$id/status --retained-only -C 1 -W 2 | grep -q '\"online\":true'"
		check "$id has its datapath pinned" test -e "/sys/fs/bpf/oak/$id"
	done
	check "c$c online at the root broker (retained status)" \
		bash -c "nsenter --net=/run/netns/$TAG-root mosquitto_sub -h 127.0.0.1 -t clusters/c$c/status --retained-only -C 1 -W 2 | grep -q '\"online\":true'"
	check "c$c reports its 2 active nodes to the root" \
		bash -c "nsenter --net=/run/netns/$TAG-root mosquitto_sub -h 127.0.0.1 -t clusters/c$c/information -C 1 -W 8 | grep -q '\"active_nodes\":2'"
done
subnets=$(cat "$DIR"/nodes/*/subnet 2>/dev/null | sort -u | tr '\n' ' ')
check "the 4 nodes got 4 distinct /26 subnets ($subnets)" test "$(wc -w <<<"$subnets")" = 4
if [ -n "$(fq 'f["root_url"]')" ]; then
	check "oak-root answers on $(fq 'f["root_url"]') (login with the printed credentials)" \
		bash -c "curl -sf -m 5 -X POST -H 'Content-Type: application/json' -d '{\"username\":\"$(fq 'f["admin_user"]')\",\"password\":\"$(fq 'f["admin_password"]')\"}' $(fq 'f["root_url"]')/api/auth/login | grep -q token"
	check "the REST port is on 127.0.0.1 only, reached through the forward" \
		bash -c "ss -ltnH | awk '{print \$4}' | grep -qx '127.0.0.1:$PORT'"
else
	skip "oak-root not built: no REST check"
fi
check "a second up refuses while the fleet runs, and leaves it running" \
	bash -c "! '$OL' up --port $PORT >/dev/null 2>&1 && '$OL' status >/dev/null"
check "nothing was added to the machine's own namespace (no 172.30 address or route)" \
	bash -c "! ip addr | grep -q '172\.30\.' && ! ip route | grep -q '172\.30\.'"

# --- down
pids=$(recorded_pids)
"$OL" down >/dev/null 2>&1
check "down exits 0" test $? = 0
check "down leaves nothing: namespaces, pins, cgroups, files, processes" nothing_left $pids
"$OL" down >/dev/null 2>&1
check "down again (nothing up) exits 0" test $? = 0

# --- a crash: an instance running, then kill -9 of an agent, a cluster and
# the root broker; down cleans up all the same
"$OL" up --port $PORT >/dev/null 2>&1
check "up again" test $? = 0
nsenter --net="/run/netns/$TAG-root" mosquitto_sub -h 127.0.0.1 -v -t 'clusters/+/jobs/state' >"/tmp/$TAG.jobs" 2>&1 &
SUB=$!
sleep 0.3
if [ -n "$(fq 'f["root_url"]')" ]; then
	# through the REST API: the root owns desired state, and undeploys an
	# instance it never asked for (a deploy injected on its broker)
	"$OL" status --json >"/tmp/$TAG.status"
	url=$(fq 'f["root_url"]')
	tok=$(curl -sf -m 5 -X POST -H 'Content-Type: application/json' \
		-d "{\"username\":\"$(fq 'f["admin_user"]')\",\"password\":\"$(fq 'f["admin_password"]')\"}" \
		"$url/api/auth/login" | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
	sla="{\"sla_version\":\"v2.0\",\"customerID\":\"Admin\",\"applications\":[{\"application_name\":\"app\",\"application_namespace\":\"test\",\"application_desc\":\"\",\"microservices\":[{\"microservice_name\":\"srv\",\"microservice_namespace\":\"test\",\"virtualization\":\"native\",\"code\":\"python3\",\"cmd\":[\"python3\",\"$PEER\",\"serve\",\"srv\"],\"memory\":20,\"vcpus\":0.05,\"constraints\":[{\"type\":\"direct\",\"cluster\":\"c1\"}]}]}]}"
	sid=$(curl -sf -m 5 -H "Authorization: Bearer $tok" -H 'Content-Type: application/json' -d "$sla" \
		"$url/api/application/" | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["microservices"][0])')
	curl -sf -m 5 -X POST -H "Authorization: Bearer $tok" "$url/api/service/$sid/instance" >/dev/null
else
	nsenter --net="/run/netns/$TAG-root" mosquitto_pub -h 127.0.0.1 -q 1 -t clusters/c1/control/deploy -m \
		"{\"service_id\":\"s1\",\"job_name\":\"app.test.srv.test\",\"instance_number\":0,\"instance_ip\":\"10.30.1.1\",\"rr_ip\":\"10.30.30.30\",\"service\":{\"microservice_name\":\"srv\",\"microservice_namespace\":\"test\",\"virtualization\":\"native\",\"code\":\"python3\",\"cmd\":[\"python3\",\"$PEER\",\"serve\",\"srv\"]}}"
fi
check "an instance deployed through c1 runs" \
	bash -c "for i in \$(seq 100); do grep -q '\"state\":\"RUNNING\"' /tmp/$TAG.jobs && exit 0; sleep 0.1; done; exit 1"
kill "$SUB" 2>/dev/null
SUB=
ipid=$(cat "$DIR"/nodes/*/instances/*.json 2>/dev/null | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["pid"])')
check "its process lives ($ipid)" kill -0 "${ipid:-0}"
if [ "$FAILED" -ne 0 ]; then
	echo "   --- instance record and log"
	cat "$DIR"/nodes/*/instances/*.json "$DIR"/nodes/*/logs/*.log 2>/dev/null | head -30
fi
pids="$(recorded_pids) $ipid"
for t in "oak-node-$TAG-c1n1" oak-cluster-c2 broker-root; do
	kill -9 "$(awk -v n="$t" '$1 == n {print $2}' "$DIR/pids")"
done
sleep 0.3
check "status reports the killed parts down" bash -c "! '$OL' status >/tmp/$TAG.st; grep -c '^DOWN' /tmp/$TAG.st | grep -qx 3"
"$OL" down >/dev/null 2>&1
check "down after kill -9 of an agent, a cluster and the root broker exits 0" test $? = 0
check "nothing left, the orphaned instance included" nothing_left $pids

# --- up crashed before writing its records: down finds everything by the
# name prefix (processes inside the namespaces, pins, cgroups)
"$OL" up --clusters 1 --nodes 2 --port $PORT >/dev/null 2>&1
check "up --clusters 1 --nodes 2" test "$("$OL" status --json | /usr/bin/python3 -c 'import json,sys; f=json.load(sys.stdin); print(len(f["clusters"]), len(f["clusters"][0]["nodes"]))')" = "1 2"
pids=$(recorded_pids)
rm -f "$DIR/pids" "$DIR/fleet.json"
"$OL" down >/dev/null 2>&1
check "down without the process records exits 0" test $? = 0
check "nothing left (found by the $TAG- prefix)" nothing_left $pids
check "up rejects a bad --clusters with a message naming it" \
	bash -c "'$OL' up --clusters x 2>&1 | grep -q -- '--clusters'"
check "nothing left after the rejected up" nothing_left

trap - EXIT
lc_cleanup
finish
