#!/usr/bin/env bash
# Checks the dashboard: valid JSON, and every panel's PromQL parses
# (promtool check rules on the queries as recording rules, with Grafana's
# variables replaced by values). ctest: grafana_dashboard.
set -euo pipefail
dash=${1:-$(dirname "$0")/oak.json}
rules=$(mktemp /tmp/oak-grafana.XXXXXX.yml)
trap 'rm -f "$rules"' EXIT
/usr/bin/python3 - "$dash" >"$rules" <<'EOP'
import json, sys
d = json.load(open(sys.argv[1]))
print("groups:\n  - name: dashboard\n    rules:")
n = 0
for p in d["panels"]:
    for t in p["targets"]:
        e = (t["expr"].replace("$__rate_interval", "1m").replace("$root_job", ".*")
             .replace("$node", ".*"))
        assert "$" not in e, e
        n += 1
        print("      - record: oak:dashboard:%d\n        expr: %s" % (n, json.dumps(e)))
assert n > 0
EOP
promtool check rules "$rules"
