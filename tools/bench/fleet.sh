#!/usr/bin/env bash
# Scale of the control plane: 1 oak-root, 10 oak-clusters and N simulated
# oak-nodes (sim = true: every control-plane step is real, no process,
# namespace or BPF program), each tier with its real mosquitto broker,
# deploying INSTANCES instances through the REST API (oakctl apply). Needs
# root (one network namespace; everything runs on its loopback).
#
#   tools/bench/fleet.sh [NODES] [INSTANCES] [IDLE_S]    (default 100 1000 30)
#   tools/bench/fleet.sh 1000 10000                       the issue's full run
#
# Phases, each timed:
#   up        brokers, oak-root, clusters, then the N nodes (N/10 per
#             cluster) until the root counts them all active (registered_s)
#   idle      IDLE_S s without instances: CPU and RSS of every daemon, the
#             MQTT messages the nodes of cluster c1 publish (per node per
#             minute) and every packet its broker receives (pings included)
#   deploy    services of 100 replicas (10 per application), all applied
#             at once: time until the root broker has seen every instance
#             RUNNING (all_running_s), deploys reaching nodes per second
#             (placed_per_s), the decision times the root and the clusters
#             log (p50/p99), CPU and peak RSS under load
#   table     3 times: one more replica of a service; from its RUNNING at
#             its node to the table update carrying it on every cluster's
#             broker (where the interested nodes get it)
#   idle      again, with the instances: CPU, RSS, MQTT per node
#
# The baseline beside each figure is the paper's (Oakestra, ATC '23) or the
# goal of issue 11. Last line: RESULT nodes=... instances=... ...
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
NODES=${1:-100}
INSTANCES=${2:-1000}
IDLE_S=${3:-30}
CL=10
export OAK_BIN=${OAK_BIN:-$ROOT/build/bin}
TAG=bf$(($$ % 100000))
NS=$TAG
W=/tmp/$TAG
PW=oak-bench-admin-pw
for b in oak-root oak-cluster oak-node oakctl; do
	[ -x "$OAK_BIN/$b" ] || { echo "no $OAK_BIN/$b (set OAK_BIN)" >&2; exit 2; }
done
[ "$(id -u)" -eq 0 ] || { echo "needs root" >&2; exit 2; }
[[ $NODES =~ ^[0-9]+$ ]] && [ "$NODES" -ge $CL ] && [ "$NODES" -le 10000 ] || { echo "NODES: $CL..10000" >&2; exit 2; }
[[ $INSTANCES =~ ^[0-9]+$ ]] && [ "$INSTANCES" -ge 100 ] || { echo "INSTANCES: at least 100" >&2; exit 2; }
[ $((NODES * 60)) -ge "$INSTANCES" ] || { echo "at most 60 instances per node (a /26 each)" >&2; exit 2; }
# under flock(1): no daemon keeps the e2e lock's descriptor
for fd in /proc/$$/fd/*; do
	[ "$(readlink "$fd")" = /tmp/oak-e2e.lock ] && eval "exec ${fd##*/}>&-"
done

cleanup() {
	local p
	[ -n "${PEAK:-}" ] && kill "$PEAK" 2>/dev/null
	if [ -s "$W/pids" ]; then
		while read -r _ p; do kill "$p" 2>/dev/null; done <"$W/pids"
		sleep 1
		while read -r _ p; do kill -9 "$p" 2>/dev/null; done <"$W/pids"
	fi
	ip netns pids "$NS" 2>/dev/null | xargs -r kill -9 2>/dev/null
	ip netns del "$NS" 2>/dev/null
	if [ "${KEEP:-0}" = 1 ]; then echo "logs kept in $W"; else rm -rf "$W"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM
mkdir -p "$W/logs" "$W/nodes"
: >"$W/pids"
ulimit -n "$(ulimit -Hn)" 2>/dev/null
ip netns add "$NS" && ip -n "$NS" link set lo up || exit 1
x() { nsenter --net="/run/netns/$NS" "$@"; }
# spawn NAME CMD...: in the namespace, its own session, logged; pid recorded
spawn() {
	local name=$1
	shift
	setsid nsenter --net="/run/netns/$NS" "$@" >"$W/logs/$name.log" 2>&1 </dev/null &
	echo "$name $!" >>"$W/pids"
}
now() { date +%s.%N; }
since() { printf '%.2f' "$(echo "$(now) - $1" | bc)"; }
wait_tcp() { # wait_tcp ADDR
	local i
	for i in $(seq 100); do
		x bash -c "exec 3<>/dev/tcp/$1/1883" 2>/dev/null && return 0
		sleep 0.05
	done
	return 1
}
broker_addr() { echo "127.0.0.$((10 + $1))"; } # cluster C's broker; the root's is 127.0.0.1
mqtt_conf() {
	printf 'listener 1883 %s\nallow_anonymous true\npersistence false\nsys_interval 1\nmax_queued_messages 1000000\n' "$2" >"$1"
}
# sub NAME ADDR FORMAT TOPIC...: record what a broker carries
sub() {
	local name=$1 addr=$2 fmt=$3 t=()
	shift 3
	for a; do t+=(-t "$a"); done
	spawn "$name" mosquitto_sub -h "$addr" -F "$fmt" "${t[@]}"
}
stop() { # stop NAME: end a recorded process (a recorder)
	local p
	p=$(awk -v n="$1" '$1 == n {print $2}' "$W/pids")
	[ -n "$p" ] && kill "$p" 2>/dev/null
	sed -i "/^$1 /d" "$W/pids"
}

# snap FILE: utime+stime (ticks) and RSS (kB) of every daemon
snap() {
	/usr/bin/python3 - "$W/pids" "$1" <<'EOP'
import sys, time
out = open(sys.argv[2], "w")
out.write("%f\n" % time.monotonic())
for line in open(sys.argv[1]):
    name, pid = line.split()
    if not name.startswith(("oak-", "broker")):
        continue
    try:
        st = open("/proc/%s/stat" % pid).read().rsplit(")", 1)[1].split()
        rss = [l for l in open("/proc/%s/status" % pid) if l.startswith("VmRSS")][0].split()[1]
        syscw = [l for l in open("/proc/%s/io" % pid) if l.startswith("syscw")][0].split()[1]
    except OSError:
        continue
    out.write("%s %d %s %s\n" % (name, int(st[11]) + int(st[12]), rss, syscw))
EOP
}

# --- up
T_UP=$(now)
mqtt_conf "$W/root.conf" 127.0.0.1
spawn broker-root mosquitto -c "$W/root.conf"
for c in $(seq $CL); do
	mqtt_conf "$W/c$c.conf" "$(broker_addr "$c")"
	spawn "broker-c$c" mosquitto -c "$W/c$c.conf"
done
wait_tcp 127.0.0.1 || { echo "root broker down" >&2; exit 1; }
for c in $(seq $CL); do wait_tcp "$(broker_addr "$c")" || { echo "broker c$c down" >&2; exit 1; }; done
mkdir -p "$W/root"
cat >"$W/root/oak-root.conf" <<EOC
http_addr = 127.0.0.1
http_port = 10000
state_dir = $W/root
root_broker_host = 127.0.0.1
EOC
x "$OAK_BIN/oak-root" --config "$W/root/oak-root.conf" --init-admin --admin-password "$PW" >"$W/logs/init.log" 2>&1 ||
	{ cat "$W/logs/init.log" >&2; exit 1; }
spawn oak-root "$OAK_BIN/oak-root" --config "$W/root/oak-root.conf"
for c in $(seq $CL); do
	mkdir -p "$W/c$c"
	cat >"$W/c$c/oak-cluster.conf" <<EOC
cluster_id = c$c
cluster_name = c$c
operator = fleet-bench
broker_host = $(broker_addr "$c")
root_broker_host = 127.0.0.1
root_broker_port = 1883
heartbeat_addr = $(broker_addr "$c")
state_dir = $W/c$c
EOC
	spawn "oak-cluster-c$c" "$OAK_BIN/oak-cluster" --config "$W/c$c/oak-cluster.conf"
done
sub states 127.0.0.1 '%U %p' 'clusters/+/jobs/state'
for c in $(seq $CL); do sub "deploys-c$c" "$(broker_addr "$c")" '%U %t' 'nodes/+/control/deploy'; done
T_NODES=$(now)
for k in $(seq 0 $((NODES - 1))); do
	c=$((k % CL + 1))
	m=$((k / CL + 1))
	id=c${c}n$m
	mkdir -p "$W/nodes/$id"
	spawn "oak-node-$id" "$OAK_BIN/oak-node" --sim true --node_id "$id" --broker_host "$(broker_addr "$c")" \
		--node_ip "127.$c.$((m / 250)).$((m % 250 + 1))" --runtimes native \
		--state_dir "$W/nodes/$id" --log_level warn
done
echo "up: brokers, oak-root, $CL clusters, $NODES sim nodes started in $(since "$T_UP") s"

oakctl() { x env OAKCTL_CONFIG="$W/oakctl.json" OAK_ROOT_URL=http://127.0.0.1:10000 "$OAK_BIN/oakctl" "$@"; }
for i in $(seq 100); do echo "$PW" | oakctl login --user Admin --password-stdin >/dev/null 2>&1 && break; sleep 0.2; done
active_nodes() {
	oakctl get clusters --json 2>/dev/null | /usr/bin/python3 -c 'import json,sys
print(sum(c.get("active_nodes", 0) for c in json.load(sys.stdin) if c.get("active")))' 2>/dev/null
}
REG=
for i in $(seq 600); do
	a=$(active_nodes)
	[ "${a:-0}" -ge "$NODES" ] && { REG=$(since "$T_NODES"); break; }
	sleep 0.5
done
[ -n "$REG" ] || { echo "only ${a:-0} of $NODES nodes active at the root after 300 s" >&2; KEEP=1; exit 1; }
echo "registered: $NODES nodes active at the root $REG s after the first node started (goal: 1000 in < 60 s)"

# idle WINDOW TAGNAME: CPU/RSS snapshots and c1's MQTT traffic over WINDOW s
sys_received() {
	x mosquitto_sub -h "$(broker_addr 1)" -t '$SYS/broker/messages/received' -C 1 -W 3 2>/dev/null
}
idle() {
	local r0 r1
	sleep 3 # start-up reports out
	spawn "idle-$2" mosquitto_sub -h "$(broker_addr 1)" -R -F '%U %t' -t 'nodes/#' # -R: no retained
	r0=$(sys_received)
	snap "$W/snap-$2-0"
	sleep "$1"
	snap "$W/snap-$2-1"
	r1=$(sys_received)
	stop "idle-$2"
	echo "$r0 $r1" >"$W/sysrecv-$2"
}
idle "$IDLE_S" idle0

# --- deploy: services of 100 replicas, 10 per application. They ask for no
# CPU or memory: every sim node reports this one machine's /proc, which a
# deploy of thousands keeps busy (nodes would refuse on CPU)
SVCS=$(((INSTANCES + 99) / 100))
/usr/bin/python3 - "$W" "$SVCS" "$INSTANCES" <<'EOP'
import json, sys
w, svcs, total = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
apps, left = [], total
for s in range(svcs):
    if s % 10 == 0:
        apps.append([])
    n = min(100, left)
    left -= n
    apps[-1].append({"microserviceID": "", "microservice_name": "s%d" % s,
        "microservice_namespace": "bench", "virtualization": "native", "code": "sleep",
        "cmd": ["sleep", "infinity"], "memory": 0, "vcpus": 0, "vgpus": 0, "vtpus": 0,
        "bandwidth_in": 0, "bandwidth_out": 0, "storage": 0, "state": "", "port": "",
        "added_files": [], "replicas": n})
for a, ms in enumerate(apps):
    json.dump({"sla_version": "v2.0", "customerID": "Admin", "applications": [
        {"applicationID": "", "application_name": "fleet%d" % a, "application_namespace": "bench",
         "application_desc": "tools/bench/fleet.sh", "microservices": ms}]},
        open("%s/app%d.json" % (w, a), "w"))
EOP
running() {
	/usr/bin/python3 - "$W/logs/states.log" <<'EOP'
import json, sys
seen = set()
for line in open(sys.argv[1], errors="replace"):
    t, _, p = line.partition(" ")
    if '"RUNNING"' not in p:
        continue
    try:
        m = json.loads(p)
    except ValueError:
        continue
    seen.add((m["job_name"], m["instance_number"]))
print(len(seen))
EOP
}
# peak RSS of the root and the clusters while the load runs
/usr/bin/python3 - "$W/pids" "$W/peak" "$W/peak.stop" <<'EOP' &
import os, sys, time
pids = [l.split() for l in open(sys.argv[1]) if l.startswith(("oak-root", "oak-cluster"))]
peak = {}
# until told, or the run is gone (its directory removed)
while not os.path.exists(sys.argv[3]) and os.path.exists(sys.argv[1]):
    for name, pid in pids:
        try:
            rss = int([l for l in open("/proc/%s/status" % pid) if l.startswith("VmRSS")][0].split()[1])
        except (OSError, IndexError):
            continue
        peak[name] = max(peak.get(name, 0), rss)
    time.sleep(0.25)
with open(sys.argv[2], "w") as f:
    for k, v in sorted(peak.items()):
        f.write("%s %d\n" % (k, v))
EOP
PEAK=$!
snap "$W/snap-load-0"
T0=$(now)
for f in "$W"/app*.json; do
	oakctl apply -f "$f" >>"$W/logs/apply.log" 2>&1 || echo "apply $f failed" >&2
done
T_APPLIED=$(since "$T0")
ALL=
for i in $(seq 1200); do
	r=$(running)
	[ "$r" -ge "$INSTANCES" ] && { ALL=1; break; }
	sleep 0.25
done
snap "$W/snap-load-1"
touch "$W/peak.stop"
wait $PEAK
[ -n "$ALL" ] || echo "only $r of $INSTANCES RUNNING after 300 s" >&2
echo "deploy: $INSTANCES instances in $SVCS services applied in $T_APPLIED s; $r RUNNING"
root_running=$(oakctl get instances --json 2>/dev/null | /usr/bin/python3 -c 'import json,sys; print(sum(1 for i in json.load(sys.stdin) if i["status"] == "RUNNING"))' 2>/dev/null)
echo "the root's REST API lists ${root_running:-?} instances RUNNING"

# --- table propagation: one more replica; its RUNNING at its node, then
# the update that lists it on every cluster's broker
for c in $(seq $CL); do
	sub "tables-c$c" "$(broker_addr "$c")" '%U %t %p' 'jobs/+/updates_available' 'nodes/+/job'
done
sleep 1
for k in 1 2 3; do
	oakctl scale "fleet0/s$k" 101 >>"$W/logs/scale.log" 2>&1
	sleep 2
done
sleep 1
for c in $(seq $CL); do stop "tables-c$c"; done

idle "$IDLE_S" idle1

# --- figures
T_NODES=$T_NODES /usr/bin/python3 - "$W" "$NODES" "$INSTANCES" "$IDLE_S" "$T0" "$REG" "$CL" "${root_running:-0}" <<'EOP'
import glob, json, os, re, statistics, sys
w, nodes, insts, idle_s, t0, reg, ncl, root_running = sys.argv[1:9]
nodes, insts, idle_s, t0, ncl = int(nodes), int(insts), float(idle_s), float(t0), int(ncl)
HZ = os.sysconf("SC_CLK_TCK")

def pct(v, q):
    v = sorted(v)
    return v[min(len(v) - 1, int(q * len(v)))] if v else float("nan")

def snap(name):
    lines = open("%s/%s" % (w, name)).read().split("\n")
    t, d = float(lines[0]), {}
    for l in lines[1:]:
        if l:
            n, ticks, rss, syscw = l.split()
            d[n] = (int(ticks), int(rss), int(syscw))
    return t, d

def usage(tag):
    (ta, a), (tb, b) = snap("snap-%s-0" % tag), snap("snap-%s-1" % tag)
    dt = tb - ta
    cpu = {n: 100.0 * (b[n][0] - a[n][0]) / HZ / dt for n in b if n in a}
    rss = {n: b[n][1] for n in b}
    # write(2) calls of an idle sim node: two per MQTT packet it sends (the
    # packet, and a byte to libmosquitto's wake-up socketpair; checked with
    # strace), nothing else (no log at warn, no record written; the
    # heartbeat is sendto)
    writes = {n: (b[n][2] - a[n][2]) / 2.0 / (dt / 60.0) for n in b if n in a}
    return cpu, rss, dt, writes

def group(d, prefix):
    return [v for n, v in d.items() if n.startswith(prefix)]

def mqtt(tag):
    pubs = 0
    for l in open("%s/logs/idle-%s.log" % (w, tag), errors="replace"):
        parts = l.split()
        if len(parts) >= 2 and re.match(r"nodes/c1n\d+/", parts[1]) and "/control/" not in parts[1] \
                and not parts[1].endswith(("/net/subnet", "/net/tablequery/result")):
            pubs += 1
    per = nodes // ncl + (1 if nodes % ncl else 0)
    try:
        r0, r1 = open("%s/sysrecv-%s" % (w, tag)).read().split()
        pk = (int(r1) - int(r0)) / per / (idle_s / 60.0)
    except ValueError:
        pk = float("nan")
    return pubs / per / (idle_s / 60.0), pk

print()
print("== %d sim nodes, %d clusters, %d instances (machine: %d cores, %s)" % (nodes, ncl, insts, os.cpu_count(), os.uname().release))
# the last node subnet a cluster got from the root: every node registered there
import datetime
last, t_nodes = "", float(os.environ["T_NODES"])
for f in glob.glob("%s/logs/oak-cluster-c*.log" % w):
    for l in open(f, errors="replace"):
        if "(from the root)" in l and ": subnet " in l:
            last = max(last, l.split()[0])
reg_cl = (datetime.datetime.fromisoformat(last.rstrip("Z")).replace(tzinfo=datetime.timezone.utc).timestamp() - t_nodes) if last else float("nan")
print("registered: every node had said hello and got its subnet from the root %.2f s after the first node started; the root counted all active after %s s (clusters aggregate every 5 s)"
      % (reg_cl, reg))

# deploy
states = {}
for l in open("%s/logs/states.log" % w, errors="replace"):
    t, _, p = l.partition(" ")
    if '"RUNNING"' in p:
        try:
            m = json.loads(p)
        except ValueError:
            continue
        states.setdefault((m["job_name"], m["instance_number"]), float(t))
runs = sorted(v for v in states.values())[:insts]
all_running = (runs[-1] - t0) if len(runs) >= insts else float("nan")
deploys = []
for f in glob.glob("%s/logs/deploys-c*.log" % w):
    deploys += [float(l.split()[0]) for l in open(f, errors="replace") if l.strip()]
deploys.sort()
deploys = deploys[:insts]
placed_s = (deploys[-1] - t0) if deploys else float("nan")
placed_per_s = len(deploys) / placed_s if deploys else 0
print("deploy: all %d RUNNING at the root %.2f s after the first apply; %d deploys reached the nodes in %.2f s: %.0f placed/s"
      % (insts, all_running, len(deploys), placed_s, placed_per_s))
print("        (KubeEdge: pod start-up p99 4.1 s at 100,000 nodes; Nomad: ~1,500 containers/s; goal: 10,000 in < 60 s)")
print("        the root's REST API listed %s RUNNING" % root_running)

# decision times
rd, cd = [], []
for l in open("%s/logs/oak-root.log" % w, errors="replace"):
    m = re.search(r"service \S+: (\d+) placed on \d+ clusters in (\d+) us", l)
    if m:
        rd.append((int(m.group(1)), int(m.group(2))))
for f in glob.glob("%s/logs/oak-cluster-c*.log" % w):
    for l in open(f, errors="replace"):
        m = re.search(r"place \S+: (\d+) of \d+ on \d+ candidates in (\d+) us", l)
        if m:
            cd.append((int(m.group(1)), int(m.group(2))))
rdu = [u for _, u in rd]
rdp = [u / max(1, k) for k, u in rd]
cdu = [u for _, u in cd]
print("decisions: root %d reconciles (%d placements): p50 %.0f us, p99 %.0f us per reconcile, p50 %.1f us per instance"
      % (len(rd), sum(k for k, _ in rd), pct(rdu, .5), pct(rdu, .99), pct(rdp, .5)))
print("           clusters %d placements: p50 %.0f us, p99 %.0f us (on %d candidates each)"
      % (len(cd), pct(cdu, .5), pct(cdu, .99), nodes // ncl))
print("           (paper: 0-3.2 ms with 45 workers; goal: p99 < 1 ms at 1000 nodes)")

# table propagation
running_at, tables = {}, []
for f in sorted(glob.glob("%s/logs/tables-c*.log" % w)):
    c = f.rsplit("-", 1)[1].split(".")[0]
    for l in open(f, errors="replace"):
        parts = l.split(" ", 2)
        if len(parts) < 3:
            continue
        t, topic, p = float(parts[0]), parts[1], parts[2]
        if topic.endswith("/job") and '"RUNNING"' in p:
            try:
                m = json.loads(p)
            except ValueError:
                continue
            if m["instance_number"] >= 100:
                running_at.setdefault(m["instance_ip"], (t, m["job_name"]))
        elif topic.endswith("/updates_available"):
            tables.append((c, t, p))
props = []
for ip, (t, job) in sorted(running_at.items()):
    first = {}
    for c, tt, p in tables:
        if tt >= t - 0.001 and ('"%s"' % ip) in p:
            first.setdefault(c, tt)
    if first:
        props.append((max(first.values()) - t, len(first)))
if props:
    print("tables: %d new instances; their table update on every interested cluster's broker after p50 %.1f ms, max %.1f ms (%s clusters each)"
          % (len(props), 1000 * pct([p for p, _ in props], .5), 1000 * max(p for p, _ in props), "/".join(str(k) for _, k in props)))
else:
    print("tables: no propagation measured (no new instance seen RUNNING)")
prop_ms = 1000 * max(p for p, _ in props) if props else float("nan")

# usage
out = {}
for tag, what in (("idle0", "idle, no instances"), ("load", "under deploy load"), ("idle1", "idle, %d instances" % insts)):
    cpu, rss, dt, writes = usage(tag)
    peak = {}
    if tag == "load" and os.path.exists("%s/peak" % w):
        peak = dict((l.split()[0], int(l.split()[1])) for l in open("%s/peak" % w))
    nc, nr = group(cpu, "oak-node-"), group(rss, "oak-node-")
    cc, cr = group(cpu, "oak-cluster-"), group(rss, "oak-cluster-")
    bc = group(cpu, "broker-c")
    print("%s (%.0f s): oak-root %.2f%% CPU %d kB; oak-cluster mean %.2f%% max %d kB; oak-node mean %.3f%% (all %d: %.1f%%) mean %d kB max %d kB; cluster brokers mean %.2f%%"
          % (what, dt, cpu.get("oak-root", 0), rss.get("oak-root", 0), statistics.mean(cc), max(cr),
             statistics.mean(nc), len(nc), sum(nc), statistics.mean(nr), max(nr), statistics.mean(bc)))
    if peak:
        print("    peak RSS while loading: oak-root %d kB, oak-cluster max %d kB"
              % (peak.get("oak-root", 0), max(group(peak, "oak-cluster-") or [0])))
    out[tag] = (cpu, rss, peak, writes)
for tag in ("idle0", "idle1"):
    pubs, pk = mqtt(tag)
    sent = statistics.mean(group(out[tag][3], "oak-node-"))
    print("MQTT at %s: %.1f MQTT packets/min sent per node (half its write calls: publishes, pings, acks; goal <= 12), %.1f publishes/min per node of c1 seen on its broker (all packets the broker got, the cluster's too: %.1f per node)"
          % (tag, sent, pubs, pk))
print("       (paper: Oakestra worker ~0.15% CPU idle; goals: node 0.03%, 5 MB; cluster and root < 16 MB at 1000 nodes)")
cpu1, rss1, _, writes1 = out["idle1"]
_, _, peak, _ = out["load"]
root_rss = max(rss1.get("oak-root", 0), peak.get("oak-root", 0))
cl_rss = max(group(rss1, "oak-cluster-") + group(peak, "oak-cluster-"))
print("RESULT nodes=%d instances=%d registered_s=%.2f all_running_s=%.2f placed_per_s=%.0f root_decision_p99_us=%.0f cluster_decision_p99_us=%.0f table_prop_max_ms=%.1f mqtt_idle_per_node_min=%.1f root_rss_kb=%d cluster_rss_kb=%d node_rss_kb=%d"
      % (nodes, insts, reg_cl, all_running, placed_per_s, pct(rdu, .99), pct(cdu, .99), prop_ms,
         statistics.mean(group(writes1, "oak-node-")), root_rss, cl_rss, statistics.mean(group(rss1, "oak-node-"))))
EOP
