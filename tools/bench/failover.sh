#!/usr/bin/env bash
# Failover time of oak-cluster: how long after a node dies its service's
# round-robin IP answers every request again, seen from a client instance
# on another node. Each run builds fresh namespace hosts (tests/e2e/cluster.sh
# in MODE=failover: broker, oak-cluster, 3 oak-node, a 3-instance service),
# kills one node and measures. Needs root.
#
#   tools/bench/failover.sh [RUNS]      (default 5)
#   KILL=silent  the node vanishes from the network first: the cluster must
#                notice its silence (node_timeout, default 3 s) - default
#   KILL=crash   only the agent and instances die: the broker publishes the
#                node's last will at once
#
# Last line: RESULT failover_s_p50=... failover_s_max=... (runs=N kill=MODE)
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
RUNS=${1:-5}
export OAK_BIN=${OAK_BIN:-$ROOT/build/bin}
export KILL=${KILL:-silent}
[ -x "$OAK_BIN/oak-cluster" ] || { echo "no $OAK_BIN/oak-cluster (set OAK_BIN)" >&2; exit 2; }
vals=()
for r in $(seq "$RUNS"); do
	out=$(MODE=failover TAG="okf$$-$r" bash "$ROOT/tests/e2e/cluster.sh" 2>&1)
	v=$(grep -oE '^FAILOVER_S=[0-9.]+|^FAILOVER_S=inf' <<<"$out" | tail -1 | cut -d= -f2)
	if [ -z "$v" ] || ! grep -q ' 0 failed' <<<"$out"; then
		echo "run $r: failed" >&2
		grep -E '^FAIL' <<<"$out" >&2
		v=${v:-inf}
	fi
	echo "run $r: failover ${v} s"
	vals+=("$v")
done
python3 - "$KILL" "${vals[@]}" <<'EOP'
import statistics, sys
kill, v = sys.argv[1], [float(x) for x in sys.argv[2:]]
print("RESULT failover_s_p50=%.2f failover_s_max=%.2f (runs=%d kill=%s)" % (statistics.median(v), max(v), len(v), kill))
EOP
