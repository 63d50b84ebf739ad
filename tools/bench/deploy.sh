#!/usr/bin/env bash
# Deployment time on the whole fleet: from `oakctl apply` of a two-instance
# service to the first request answered through its round-robin IP, seen
# from a client instance that is already running. One tools/oak-local fleet
# (2 clusters × 2 nodes, oak-root) for all runs; each run applies a new
# application (its own rr_ip, native runtime: tools/lib/hello.py) and
# deletes it afterwards. Needs root.
#
#   tools/bench/deploy.sh [RUNS]      (default 5)
#   VCPUS=0.1 tools/bench/deploy.sh   the server's SLA vcpus (default 1): its
#                                     cgroup's CPU limit, which also slows
#                                     the Python server's start (0.1: ~10x)
#
# The clock starts just before oakctl apply (which registers the SLA and
# sets the replicas: the REST POSTs); a probe in the client's namespace
# tries a new TCP connection every 10 ms (each with a 50 ms timeout) and
# stops the clock at the first HTTP answer. Per run it also prints when
# both instances were RUNNING as the root saw them.
#
# Last line: RESULT deploy_ms_p50=... deploy_ms_max=... (runs=N)
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
RUNS=${1:-5}
export OAK_BIN=${OAK_BIN:-$ROOT/build/bin}
TAG=bd$(($$ % 100000))
export OAK_LOCAL_TAG=$TAG OAK_LOCAL_DIR=/tmp/$TAG.local
WORK=/tmp/$TAG.work
export OAKCTL_CONFIG=$WORK/oakctl.json
OL=$ROOT/tools/oak-local
HELLO=$ROOT/tools/lib/hello.py
for b in oak-root oak-cluster oak-node oakctl; do
	[ -x "$OAK_BIN/$b" ] || { echo "no $OAK_BIN/$b (set OAK_BIN)" >&2; exit 2; }
done
[ "$(id -u)" -eq 0 ] || { echo "needs root" >&2; exit 2; }
cleanup() {
	"$OL" down >/dev/null 2>&1
	rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
mkdir -p "$WORK"
oakctl() { "$OAK_BIN/oakctl" "$@"; }

PORT=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
"$OL" up --port "$PORT" >"$WORK/up.log" 2>&1 || { cat "$WORK/up.log" >&2; exit 1; }
"$OL" status --json >"$WORK/fleet.json"
fleet() { /usr/bin/python3 -c "import json; f=json.load(open('$WORK/fleet.json')); print($1)"; }
export OAK_ROOT_URL OAK_USER OAK_PASSWORD
OAK_ROOT_URL=$(fleet 'f["root_url"]')
OAK_USER=$(fleet 'f["admin_user"]')
OAK_PASSWORD=$(fleet 'f["admin_password"]')
echo "$OAK_PASSWORD" | oakctl login --password-stdin >/dev/null || exit 1

# sla APP RR_IP REPLICAS CMD_JSON [CONSTRAINTS_JSON]
sla() {
	/usr/bin/python3 - "$@" <<'EOP'
import json, sys
app, rr, n, cmd = sys.argv[1:5]
ms = {"microserviceID": "", "microservice_name": "srv", "microservice_namespace": "bench",
      "virtualization": "native", "code": "python3", "cmd": json.loads(cmd),
      "memory": 20, "vcpus": float(__import__("os").environ.get("SLA_VCPUS", "0.1")), "vgpus": 0, "vtpus": 0, "bandwidth_in": 0,
      "bandwidth_out": 0, "storage": 0, "state": "", "port": "", "added_files": [],
      "addresses": {"rr_ip": rr}, "replicas": int(n)}
if len(sys.argv) > 5:
    ms["constraints"] = json.loads(sys.argv[5])
print(json.dumps({"sla_version": "v2.0", "customerID": "Admin", "applications": [
    {"applicationID": "", "application_name": app, "application_namespace": "bench",
     "application_desc": "tools/bench/deploy.sh", "microservices": [ms]}]}, indent=1))
EOP
}

# the client: already running before any clock starts
sla benchcli 10.30.199.1 1 '["sleep", "100000"]' \
	"[{\"type\": \"direct\", \"cluster\": \"c1\", \"node\": \"$TAG-c1n1\"}]" >"$WORK/cli.json"
oakctl apply -f "$WORK/cli.json" --wait --timeout 30 >/dev/null || { echo "client did not start" >&2; exit 1; }
CLI_NS=$(/usr/bin/python3 -c "import json,glob; print([json.load(open(p))['netns'] for p in glob.glob('$OAK_LOCAL_DIR/nodes/$TAG-c1n1/instances/benchcli.bench.srv.bench.*.json')][0])")

cat >"$WORK/probe.py" <<'EOP'
import socket, sys, time
ip, limit = sys.argv[1], float(sys.argv[2])
end = time.time() + limit
while time.time() < end:
    try:
        with socket.create_connection((ip, 60), timeout=0.05) as s:
            s.settimeout(1)
            s.sendall(b"GET / HTTP/1.0\r\n\r\n")
            if b"200" in s.recv(4096):
                print("%.6f" % time.time(), flush=True)
                sys.exit(0)
    except OSError:
        pass
    time.sleep(0.01)
sys.exit(1)
EOP

vals=()
for r in $(seq "$RUNS"); do
	rr=10.30.200.$r
	SLA_VCPUS=${VCPUS:-1} sla "bench$r" "$rr" 2 "[\"python3\", \"$HELLO\", \"serve\", \"60\"]" >"$WORK/run$r.json"
	nsenter --net="/run/netns/$CLI_NS" /usr/bin/python3 "$WORK/probe.py" "$rr" 30 >"$WORK/probe$r" &
	probe=$!
	sleep 0.2 # the probe is looping before the clock starts
	t0=$(date +%s.%N)
	oakctl apply -f "$WORK/run$r.json" >/dev/null 2>&1 || echo "run $r: apply failed" >&2
	# both instances RUNNING at the root (polled every 50 ms)
	t_run=
	for _ in $(seq 400); do
		if oakctl get instances "bench$r/srv" --json 2>/dev/null |
			/usr/bin/python3 -c 'import json,sys; I=json.load(sys.stdin); sys.exit(0 if len(I) == 2 and all(i["status"] == "RUNNING" for i in I) else 1)'; then
			t_run=$(date +%s.%N)
			break
		fi
		sleep 0.05
	done
	wait $probe
	rc=$?
	if [ $rc = 0 ]; then
		ms=$(echo "($(cat "$WORK/probe$r") - $t0) * 1000" | bc)
		ms=$(printf '%.0f' "$ms")
	else
		ms=inf
	fi
	run_ms=inf
	[ -n "$t_run" ] && run_ms=$(printf '%.0f' "$(echo "($t_run - $t0) * 1000" | bc)")
	echo "run $r: first answer through $rr after ${ms} ms (both instances RUNNING at the root after ~${run_ms} ms)"
	vals+=("$ms")
	oakctl delete app "bench$r" >/dev/null 2>&1
	sleep 1
done
/usr/bin/python3 - "${vals[@]}" <<'EOP'
import statistics, sys
v = [float(x) for x in sys.argv[1:]]
print("RESULT deploy_ms_p50=%.0f deploy_ms_max=%.0f (runs=%d, 2 instances, oak-local 2x2, vcpus=%s)" % (statistics.median(v), max(v), len(v), __import__("os").environ.get("VCPUS", "1")))
EOP
