#!/usr/bin/env bash
# The oak demo: the whole system on this one machine, in under a minute.
#
#  1. oak-local up: a root (oak-root + its MQTT broker) and 2 clusters of 2
#     nodes (a broker and oak-cluster each; oak-node per node), every host a
#     network namespace on one underlay
#  2. oakctl apply of an application in Oakestra's SLA format
#     (tests/data/sla/clientserver_native.json, shaped like Oakestra's
#     examples/curl.json): a client, and a server with 2 instances (one per
#     cluster), a round-robin IP, a closest IP and an exposed port
#  3. oakctl get instances
#  4. the client's requests through the round-robin IP reach both instances
#     (both clusters)
#  5. a request from outside the overlay to the server's exposed port
#  6. a scale-up to 4 instances (one per node), all reached through the
#     round-robin IP
#  7. the client's requests through the closest IP: the instance on its
#     own node
#  8. oakctl dp: the client node's datapath, from its pinned BPF maps
#  9. teardown: oakctl delete, oak-local down
#
# The apps run on oak-node's `native` runtime (tools/lib/hello.py), so no
# image registry is needed. Exits 0 only if every step showed what it says.
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
OAK_BIN=${OAK_BIN:-$ROOT/build/bin}
export OAK_BIN
export OAK_LOCAL_TAG=${OAK_LOCAL_TAG:-oakdemo}
export OAK_LOCAL_DIR=${OAK_LOCAL_DIR:-/run/oak-demo}
OL=$ROOT/tools/oak-local
HELLO=$ROOT/tools/lib/hello.py
WORK=$(mktemp -d /tmp/oak-demo.XXXXXX)
T0=$(date +%s.%N)
FAILS=0

[ "$(id -u)" -eq 0 ] || { echo "demo: needs root (namespaces, BPF)" >&2; exit 1; }
for b in oak-root oak-cluster oak-node oakctl; do
	[ -x "$OAK_BIN/$b" ] || { echo "demo: $OAK_BIN/$b missing: build first (make build)" >&2; exit 1; }
done

cleanup() {
	"$OL" down >/dev/null 2>&1
	rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

elapsed() { printf '%5.1f s' "$(echo "$(date +%s.%N) - $T0" | bc)"; }
say() { printf '\n\033[1m[%s] == %s\033[0m\n' "$(elapsed)" "$*"; }
indent() { sed 's/^/    /'; }
fail() {
	echo "    FAILED: $*"
	FAILS=$((FAILS + 1))
}
# oakctl sees only this demo's root: its own config file, the fleet's URL
# and credentials in the environment
export OAKCTL_CONFIG=$WORK/oakctl.json
oakctl() { "$OAK_BIN/oakctl" "$@"; }

# the REST port: 10000 unless something listens there already
PORT=10000
if (exec 3<>/dev/tcp/127.0.0.1/$PORT) 2>/dev/null; then
	PORT=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
fi

# ---------------------------------------------------------------------------
say "1. oak-local up: a root and 2 clusters × 2 nodes on this machine"
"$OL" down >/dev/null 2>&1
"$OL" up --clusters 2 --nodes 2 --port "$PORT" 2>&1 | indent
"$OL" status --json >"$WORK/fleet.json" || { echo "demo: oak-local up failed" >&2; exit 1; }
fleet() { /usr/bin/python3 -c "import json,sys; f=json.load(open('$WORK/fleet.json')); print($1)"; }
export OAK_ROOT_URL OAK_USER OAK_PASSWORD
OAK_ROOT_URL=$(fleet 'f["root_url"]')
OAK_USER=$(fleet 'f["admin_user"]')
OAK_PASSWORD=$(fleet 'f["admin_password"]')
echo "$OAK_PASSWORD" | oakctl login --password-stdin 2>&1 | indent
oakctl get clusters 2>&1 | indent

# ---------------------------------------------------------------------------
say "2. oakctl apply -f clientserver.json (Oakestra's SLA v2.0)"
sed -e "s|@HELLO@|$HELLO|g" -e "s|@TAG@|$OAK_LOCAL_TAG|g" \
	"$ROOT/tests/data/sla/clientserver_native.json" >"$WORK/clientserver.json"
/usr/bin/python3 - "$WORK/clientserver.json" <<'EOP' | indent
import json, sys
a = json.load(open(sys.argv[1]))["applications"][0]
print("application %s/%s:" % (a["application_name"], a["application_namespace"]))
for s in a["microservices"]:
    ad = s.get("addresses", {})
    print("  %-7s %s %s  replicas %d%s%s%s" % (
        s["microservice_name"], s["virtualization"], " ".join(s["cmd"][1:3]),
        s.get("replicas", 1),
        "  rr_ip %s" % ad["rr_ip"] if "rr_ip" in ad else "",
        "  closest_ip %s" % ad["closest_ip"] if "closest_ip" in ad else "",
        "  port %s" % s["port"] if s.get("port") else ""))
EOP
ta=$(date +%s.%N)
oakctl apply -f "$WORK/clientserver.json" --wait --timeout 30 2>&1 | indent
rc=${PIPESTATUS[0]}
[ "$rc" = 0 ] || fail "oakctl apply --wait exited $rc"
echo "    every instance RUNNING $(printf '%.1f' "$(echo "$(date +%s.%N) - $ta" | bc)") s after the apply"

# ---------------------------------------------------------------------------
say "3. oakctl get instances"
oakctl get instances 2>&1 | indent
oakctl get instances --json >"$WORK/inst.json" 2>/dev/null
# inst EXPR: over the instance entries I (list), the fleet F
inst() {
	/usr/bin/python3 -c "import json,sys; I=json.load(open('$WORK/inst.json')); F=json.load(open('$WORK/fleet.json')); print($1)"
}
# which cluster/node an answer "hello from <namespace ip>" came from
who() {
	local a
	while read -r a; do
		/usr/bin/python3 - "$WORK/inst.json" "$a" <<'EOP'
import json, sys
I = json.load(open(sys.argv[1]))
ip = sys.argv[2].rsplit(" ", 1)[-1]
hit = [i for i in I if i.get("namespace_ip") == ip]
print("%-28s <- %s" % (sys.argv[2], "%s on %s (cluster %s)" % (i["service"] + "/" + str(i["instance_number"]), i.get("worker_id"), i.get("cluster_id")) if hit and (i := hit[0]) else "?"))
EOP
	done
}
CLI_NODE=$(inst '[i["worker_id"] for i in I if i["service"].endswith("/client")][0]')
CLI_NS=$(/usr/bin/python3 -c "import json,glob; print([json.load(open(p))['netns'] for p in glob.glob('$OAK_LOCAL_DIR/nodes/$CLI_NODE/instances/clientserver.test.client.test.*.json')][0])")
incli() { nsenter --net="/run/netns/$CLI_NS" "$@"; }
echo "    the client runs on $CLI_NODE, in namespace $CLI_NS"

# ---------------------------------------------------------------------------
say "4. client -> round-robin IP 10.30.30.30:60: each new connection takes the next instance"
incli /usr/bin/python3 "$HELLO" ask http://10.30.30.30:60/ 4 >"$WORK/rr" 2>&1
who <"$WORK/rr" | indent
n=$(sort -u "$WORK/rr" | grep -vc '^-$')
w=$(who <"$WORK/rr")
c=$(grep -o 'cluster [^)]*' <<<"$w" | sort -u | wc -l)
if [ "$n" = 2 ] && [ "$c" = 2 ]; then
	echo "    -> both instances answered, one in each cluster"
else
	fail "the round-robin IP reached $n instances in $c clusters (want 2 in 2)"
fi
echo "    the client's own requests (oakctl logs clientserver/client), last lines:"
oakctl logs clientserver/client 2>&1 | tail -4 | indent

# ---------------------------------------------------------------------------
say "5. from outside the overlay: the server's exposed port 6080 on its nodes' underlay addresses"
expose_check() {
	local i node nip a
	for i in $(inst '" ".join("%s=%s" % (i["instance_number"], i["worker_id"]) for i in I if i["service"].endswith("/server"))'); do
		node=${i#*=}
		nip=$(fleet "[n['node_ip'] for c in f['clusters'] for n in c['nodes'] if n['id'] == '$node'][0]")
		a=$(nsenter --net="/run/netns/$OAK_LOCAL_TAG-root" curl -s -m 3 "http://$nip:6080/")
		printf '    curl http://%s:6080/ from the root host (on the underlay, not in the overlay): %s\n' "$nip" "${a:-no answer}"
		[ -n "$a" ] || fail "port 6080 on $nip did not answer"
	done
}
expose_check

# ---------------------------------------------------------------------------
say "6. scale up: oakctl scale clientserver/server 4 --wait (one instance per node)"
oakctl scale clientserver/server 4 --wait --timeout 30 2>&1 | indent
[ "${PIPESTATUS[0]}" = 0 ] || fail "scale --wait failed"
oakctl get instances clientserver/server 2>&1 | indent
oakctl get instances --json >"$WORK/inst.json" 2>/dev/null
seen=0
for _ in $(seq 20); do
	incli /usr/bin/python3 "$HELLO" ask http://10.30.30.30:60/ 8 >"$WORK/rr4" 2>&1
	seen=$(sort -u "$WORK/rr4" | grep -vc '^-$')
	[ "$seen" = 4 ] && break
	sleep 0.3
done
sort -u "$WORK/rr4" | who | indent
if [ "$seen" = 4 ]; then
	echo "    -> the round-robin IP now spreads over 4 instances"
else
	fail "the round-robin IP reached $seen instances after the scale-up (want 4)"
fi

# ---------------------------------------------------------------------------
say "7. client -> closest IP 10.30.30.31:60: the instance nearest to the client's node"
ok=0
for _ in $(seq 10); do
	incli /usr/bin/python3 "$HELLO" ask http://10.30.30.31:60/ 4 >"$WORK/cl" 2>&1
	w=$(who <"$WORK/cl")
	[ "$(sort -u "$WORK/cl" | wc -l)" = 1 ] && grep -q "on $CLI_NODE " <<<"$w" && ok=1 && break
	sleep 0.5
done
who <"$WORK/cl" | indent
if [ $ok = 1 ]; then
	echo "    -> every request to the instance on the client's own node $CLI_NODE"
else
	fail "the closest IP did not stay with the instance on $CLI_NODE"
fi
[ "$(fleet 'f["site_delay_ms"]')" = 0 ] &&
	echo "    (this kernel has no sch_netem: sites are not delayed, so the nearest is the same node)"

# ---------------------------------------------------------------------------
say "8. oakctl dp --node $CLI_NODE: the client node's datapath, from its pinned BPF maps"
oakctl dp --node "$CLI_NODE" 2>&1 | head -40 | indent

# ---------------------------------------------------------------------------
say "9. teardown: oakctl delete app clientserver; oak-local down"
oakctl delete app clientserver 2>&1 | indent
"$OL" down 2>&1 | indent
trap - EXIT
rm -rf "$WORK"
left=$(ip netns list | grep -c "^$OAK_LOCAL_TAG-")
[ "$left" = 0 ] || fail "$left namespaces left"

T=$(echo "$(date +%s.%N) - $T0" | bc)
if [ "$FAILS" = 0 ]; then
	printf '\n\033[1mdemo: done in %.1f s, every step as shown\033[0m\n' "$T"
	exit 0
fi
printf '\n\033[1mdemo: %d step(s) FAILED (%.1f s)\033[0m\n' "$FAILS" "$T"
exit 1
