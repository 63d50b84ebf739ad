#!/usr/bin/env bash
# End-to-end test of the Prometheus metrics: a fleet from tools/oak-local (a
# root, one cluster of two nodes) runs the client/server application of
# tests/data/sla/clientserver_native.json. Then the /metrics of every daemon
# (oak-root on its REST port, oak-cluster and both oak-nodes on their
# metrics_listen) passes `promtool check metrics` and shows what happened:
# REST requests by route and status, placements and their time, instances
# RUNNING, nodes active, every datapath verdict of the shared enum (the names
# `oak-dp stats` prints) with translations counted on the client's node, map
# entries, MQTT messages. One node's agent is stopped (SIGSTOP) past the
# node timeout: the cluster counts a heartbeat loss. A real Prometheus
# (Debian's, local storage in a temp dir, inside the root host's namespace)
# scrapes all four and its HTTP API answers queries for their samples.
# Needs root; run under flock /tmp/oak-e2e.lock.
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
TAG=om$(($$ % 100000))
source "$HERE/topo.sh"
export OAK_BIN OAK_LOCAL_TAG=$TAG OAK_LOCAL_DIR=/tmp/$TAG.local
OL="$ROOT/tools/oak-local"
DIR=$OAK_LOCAL_DIR
WORK=$(mktemp -d "/tmp/$TAG.XXXXXX")
PROM=
STOPPED=
U=172.30 # oak-local's underlay
PROM_ADDR=127.0.0.1:9090

# the processes started here must not keep the e2e lock (see root.sh)
for fd in /proc/$$/fd/*; do
	[ "$(readlink "$fd")" = /tmp/oak-e2e.lock ] && eval "exec ${fd##*/}>&-"
done

for t in promtool prometheus curl; do
	command -v $t >/dev/null || { echo "skip: $t missing (tools/deps.sh installs it)"; exit 77; }
done

mt_cleanup() {
	[ -n "$STOPPED" ] && kill -CONT "$STOPPED" 2>/dev/null
	[ -n "$PROM" ] && kill "$PROM" 2>/dev/null && wait "$PROM" 2>/dev/null
	"$OL" down >/dev/null 2>&1
	rm -rf "$WORK" "/tmp/$TAG".*
}
trap mt_cleanup EXIT
trap 'exit 130' INT TERM

rootx() { nsx "$TAG-root" "$@"; }
# scrape NAME URL: the exposition into $WORK/NAME.prom, from the root host
scrape() { rootx curl -sf --max-time 5 -o "$WORK/$1.prom" "$2"; }
# val NAME SERIES: the value of one series (exact name{labels} as printed)
val() { awk -v s="$2" '$1 == s {print $2; f=1} END {if (!f) print "none"}' "$WORK/$1.prom"; }
ge() { awk -v a="$1" -v b="$2" 'BEGIN {exit !(a != "none" && a + 0 >= b + 0)}'; }
promtool_ok() { promtool check metrics <"$WORK/$1.prom" >"$WORK/$1.lint" 2>&1; }
pid_of() { awk -v n="$1" '$1 == n {print $2}' "$DIR/pids"; }

PORT=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
T0=$(date +%s)
"$OL" up --clusters 1 --nodes 2 --port "$PORT" >"$WORK/up.log" 2>&1
check "oak-local up (1 cluster, 2 nodes)" test $? = 0 || { sed 's/^/   /' "$WORK/up.log"; finish; exit 1; }
"$OL" status --json >"$WORK/fleet.json"
fleet() { /usr/bin/python3 -c "import json,sys; f=json.load(open('$WORK/fleet.json')); print($1)"; }
export OAK_ROOT_URL OAK_USER OAK_PASSWORD OAKCTL_CONFIG=$WORK/oakctl.json
OAK_ROOT_URL=$(fleet 'f["root_url"]')
OAK_USER=$(fleet 'f["admin_user"]')
OAK_PASSWORD=$(fleet 'f["admin_password"]')
oakctl() { "$OAK_BIN/oakctl" "$@"; }
echo "$OAK_PASSWORD" | oakctl login --password-stdin >/dev/null 2>&1
check "oakctl login" test $? = 0
# a request that fails, to be counted with its status
curl -s -o /dev/null "$OAK_ROOT_URL/api/application/000000000000000000000000" -H "Authorization: Bearer nope"
sed -e "s|@HELLO@|$ROOT/tools/lib/hello.py|g" -e "s|@TAG@|$TAG|g" \
	"$ROOT/tests/data/sla/clientserver_native.json" >"$WORK/cs.json"
oakctl apply -f "$WORK/cs.json" --wait --timeout 30 >"$WORK/apply.log" 2>&1
check "the client and 2 servers RUNNING (oakctl apply --wait)" test $? = 0
# the client sends through both Service IPs about once a second
sleep 3

ROOT_URL=http://$U.0.254:10000/metrics
CL_URL=http://$U.1.254:9465/metrics
N1_URL=http://$U.1.1:9464/metrics
N2_URL=http://$U.1.2:9464/metrics
for t in root:$ROOT_URL cluster:$CL_URL n1:$N1_URL n2:$N2_URL; do
	check "${t%%:*}: GET /metrics answers" scrape "${t%%:*}" "${t#*:}"
done
for t in root cluster n1 n2; do
	check "$t: promtool check metrics finds no problem" promtool_ok $t ||
		sed 's/^/   /' "$WORK/$t.lint"
done
check "root: the answer is exposition format 0.0.4" \
	bash -c "nsenter --net=/run/netns/$TAG-root curl -sI $ROOT_URL | grep -qi '^Content-Type: text/plain; version=0.0.4'"

check "root: oak_http_requests_total counts the login (POST /api/auth/login 200)" \
	ge "$(val root 'oak_http_requests_total{method="POST",route="/api/auth/login",status="200"}')" 1
check "root: ... and the refused token by route pattern (GET /api/application/:id 401)" \
	ge "$(val root 'oak_http_requests_total{method="GET",route="/api/application/:id",status="401"}')" 1
check "root: oak_instances{state=RUNNING} = 3" test "$(val root 'oak_instances{state="RUNNING"}')" = 3
check "root: oak_placements_total{result=placed} >= 3, with their durations" \
	bash -c "[ \"\$(awk '\$1==\"oak_placements_total{result=\\\"placed\\\"}\" {print \$2}' $WORK/root.prom)\" -ge 3 ] &&
		[ \"\$(awk '\$1==\"oak_placement_duration_seconds_count\" {print \$2}' $WORK/root.prom)\" -ge 3 ]"
check "root: oak_clusters{state=active} = 1" test "$(val root 'oak_clusters{state="active"}')" = 1
check "root: the root bus connected and messages received" \
	bash -c "[ '$(val root 'oak_mqtt_connected{bus="root"}')' = 1 ] && [ '$(val root 'oak_mqtt_messages_received_total{bus="root"}')' -gt 0 ]"

check "cluster: oak_placements_total{result=placed} = 3 (one round per service)" \
	test "$(val cluster 'oak_placements_total{result="placed"}')" = 3
check "cluster: oak_placement_duration_seconds observed 2 rounds, under 1 s" \
	bash -c "[ '$(val cluster 'oak_placement_duration_seconds_count')' -ge 2 ] && [ '$(val cluster 'oak_placement_duration_seconds_bucket{le="1"}')' = '$(val cluster 'oak_placement_duration_seconds_count')' ]"
check "cluster: oak_nodes{state=active} = 2" test "$(val cluster 'oak_nodes{state="active"}')" = 2
check "cluster: oak_instances{state=RUNNING} = 3" test "$(val cluster 'oak_instances{state="RUNNING"}')" = 3
check "cluster: heartbeats received from the nodes" ge "$(val cluster oak_heartbeats_received_total)" 4
check "cluster: both buses counted (cluster, root)" \
	bash -c "[ '$(val cluster 'oak_mqtt_messages_received_total{bus="cluster"}')' -gt 0 ] && [ '$(val cluster 'oak_mqtt_messages_received_total{bus="root"}')' -gt 0 ]"

# the verdict names of the shared enum, as oak-dp prints them
nsx "$TAG-c1n1" "$OAK_BIN/oak-dp" -n "$TAG-c1n1" stats >"$WORK/dpstats" 2>&1
awk 'NF >= 2 && $NF ~ /^[0-9]+$/ {print $1}' "$WORK/dpstats" | sed 's/:$//' | sort >"$WORK/verdicts.dp"
grep '^oak_dp_packets_total{' "$WORK/n1.prom" | sed 's/.*verdict="\([^"]*\)".*/\1/' | sort >"$WORK/verdicts.prom"
check "n1: oak_dp_packets_total has every verdict oak-dp stats has ($(wc -l <"$WORK/verdicts.prom"))" \
	bash -c "[ -s $WORK/verdicts.prom ] && diff -q $WORK/verdicts.dp $WORK/verdicts.prom >/dev/null" ||
	diff "$WORK/verdicts.dp" "$WORK/verdicts.prom" | sed 's/^/   /' | head
check "n1 (the client's node): translations counted" \
	ge "$(val n1 'oak_dp_packets_total{verdict="translated"}')" 1
check "n1: oak_instances{state=RUNNING} >= 1 (the client)" ge "$(val n1 'oak_instances{state="RUNNING"}')" 1
check "n1: oak_dp_map_entries of oak_svc_v2 >= 2 (both Service IPs) and of the conntrack" \
	bash -c "[ '$(val n1 'oak_dp_map_entries{map="oak_svc_v2"}')' -ge 2 ] && [ '$(val n1 'oak_dp_map_entries{map="oak_ct_v1"}')' -ge 1 ]"
check "n2: the cluster bus connected, messages in and out" \
	bash -c "[ '$(val n2 'oak_mqtt_connected{bus="cluster"}')' = 1 ] && [ '$(val n2 'oak_mqtt_messages_sent_total{bus="cluster"}')' -gt 0 ] && [ '$(val n2 'oak_mqtt_messages_received_total{bus="cluster"}')' -gt 0 ]"

# a real Prometheus in the root host: scrapes all four every second
cat >"$WORK/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  scrape_timeout: 1s
scrape_configs:
  - job_name: oak-root
    static_configs: [{targets: ["$U.0.254:10000"]}]
  - job_name: oak-cluster
    static_configs: [{targets: ["$U.1.254:9465"]}]
  - job_name: oak-node
    static_configs: [{targets: ["$U.1.1:9464", "$U.1.2:9464"]}]
EOF
check "promtool check config accepts the generated config" \
	bash -c "promtool check config $WORK/prometheus.yml >/dev/null 2>&1"
setsid nsenter --net="/run/netns/$TAG-root" prometheus --config.file="$WORK/prometheus.yml" \
	--storage.tsdb.path="$WORK/tsdb" --web.listen-address="$PROM_ADDR" \
	>"$WORK/prometheus.log" 2>&1 </dev/null &
PROM=$!
# query EXPR: the API's answer, as "value value ..." of the result vector
query() {
	rootx curl -sf --max-time 3 "http://$PROM_ADDR/api/v1/query" --data-urlencode "query=$1" |
		/usr/bin/python3 -c 'import json,sys; r=json.load(sys.stdin)
assert r["status"] == "success"
print(" ".join(v["value"][1] for v in r["data"]["result"]))' 2>/dev/null
}
up_all() { [ "$(query 'sum(up)')" = 4 ]; }
for _ in $(seq 60); do up_all && break; sleep 0.5; done
check "prometheus: all 4 targets up (sum(up) = 4)" up_all ||
	{ tail -5 "$WORK/prometheus.log" | sed 's/^/   /'; query 'up' | sed 's/^/   up: /'; }
check "prometheus: oak_build_info from each daemon (3 daemons, 4 series)" \
	test "$(query 'count(oak_build_info)')" = 4
check "prometheus: the client's node's translations, a sample > 0" \
	bash -c "v=\$(nsenter --net=/run/netns/$TAG-root curl -sf 'http://$PROM_ADDR/api/v1/query' --data-urlencode 'query=sum(oak_dp_packets_total{verdict=\"translated\"})' | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)[\"data\"][\"result\"][0][\"value\"][1])'); [ \"\${v%.*}\" -ge 1 ]"
check "prometheus: the cluster's placements in a histogram quantile" \
	bash -c "[ -n \"\$(nsenter --net=/run/netns/$TAG-root curl -sf 'http://$PROM_ADDR/api/v1/query' --data-urlencode 'query=histogram_quantile(0.99, oak_placement_duration_seconds_bucket{job=\"oak-cluster\"})' | /usr/bin/python3 -c 'import json,sys; r=json.load(sys.stdin)[\"data\"][\"result\"]; print(r[0][\"value\"][1] if r and r[0][\"value\"][1] not in (\"NaN\",) else \"\")')\" ]"

# heartbeats of one node dropped for 1.6 s (under the 3 s node timeout):
# the cluster sees the gap in their sequence, and loses no node
N2=$TAG-c1n2
nsx "$N2" iptables -I OUTPUT -p udp --dport 50104 -j DROP
sleep 1.6
nsx "$N2" iptables -D OUTPUT -p udp --dport 50104 -j DROP
missed() { scrape cluster "$CL_URL" && ge "$(val cluster oak_heartbeats_missed_total)" 1; }
for _ in $(seq 10); do missed && break; sleep 0.5; done
check "cluster: heartbeats dropped for 1.6 s count in oak_heartbeats_missed_total ($(val cluster oak_heartbeats_missed_total))" missed
check "cluster: ... and no node is lost for it" test "$(val cluster 'oak_nodes_lost_total{reason="heartbeat"}')" = 0

# a node's agent goes silent past node_timeout: a node lost by heartbeat
STOPPED=$(pid_of "oak-node-$N2")
kill -STOP "$STOPPED"
lost_hb() { scrape cluster "$CL_URL" && [ "$(val cluster 'oak_nodes_lost_total{reason="heartbeat"}')" = 1 ]; }
for _ in $(seq 20); do lost_hb && break; sleep 0.5; done
check "cluster: a silent node counts in oak_nodes_lost_total{reason=heartbeat}" lost_hb
kill -CONT "$STOPPED"
STOPPED=
prom_lost() { [ "$(query 'oak_nodes_lost_total{reason="heartbeat"}')" = 1 ]; }
for _ in $(seq 10); do prom_lost && break; sleep 0.5; done
check "prometheus: the loss is in its store too" prom_lost

echo "   ($(($(date +%s) - T0)) s)"
trap - EXIT
mt_cleanup
finish
