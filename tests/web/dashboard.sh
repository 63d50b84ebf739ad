#!/usr/bin/env bash
# The web dashboard in headless Chromium against a real fleet: oak-local up
# (a root, 2 clusters x 2 nodes in namespaces, REST on a loopback port),
# then tests/web/test_dashboard.py drives the browser, then oak-local down.
# Needs root; run under the e2e lock (flock /tmp/oak-e2e.lock ...).
#
#   dashboard.sh [OUT_DIR]    screenshots go to OUT_DIR (default: build/)
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
OUT=${1:-$ROOT/build}
TAG=ow$(($$ % 100000))
export OAK_BIN=${OAK_BIN:-$ROOT/build/bin} OAK_LOCAL_TAG=$TAG OAK_LOCAL_DIR=/tmp/$TAG.local
PORT=$((19000 + $$ % 1000))
OL="$ROOT/tools/oak-local"

# the fleet's daemons must not keep the e2e lock (flock holds it for us)
for fd in /proc/$$/fd/*; do
	[ "$(readlink "$fd")" = /tmp/oak-e2e.lock ] && eval "exec ${fd##*/}>&-"
done

for p in /usr/bin/chromium /usr/bin/chromedriver; do
	[ -x $p ] || { echo "SKIP: $p missing (tools/deps.sh installs it)"; exit 77; }
done
/usr/bin/python3 -c 'import selenium' 2>/dev/null || { echo "SKIP: python3-selenium missing"; exit 77; }

trap '"$OL" down >/dev/null 2>&1' EXIT
trap 'exit 130' INT TERM

mkdir -p "$OUT"
t0=$(date +%s.%N)
if ! "$OL" up --port "$PORT" >"/tmp/$TAG.up" 2>&1; then
	sed 's/^/   /' "/tmp/$TAG.up"
	echo "FAIL - oak-local up"
	rm -f "/tmp/$TAG.up"
	exit 1
fi
rm -f "/tmp/$TAG.up"
echo "   fleet up in $(echo "$(date +%s.%N) - $t0" | bc) s"
pw=$("$OL" status --json | /usr/bin/python3 -c 'import json,sys; print(json.load(sys.stdin)["admin_password"])')
/usr/bin/python3 "$HERE/test_dashboard.py" "http://127.0.0.1:$PORT" Admin "$pw" "$OUT"
rc=$?
[ $rc = 0 ] || tail -20 "$OAK_LOCAL_DIR/logs/oak-root.log" | sed 's/^/   oak-root: /'
exit $rc
