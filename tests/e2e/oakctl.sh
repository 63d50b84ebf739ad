#!/usr/bin/env bash
# End-to-end test of oakctl against a real oak-root: the root on a loopback
# port with a fresh state directory and no broker (its REST API answers
# without one), oakctl with a temporary HOME. Without clusters no instance
# can run, so this covers what the root alone answers: login and tokens
# (wrong password, refresh after expiry, a rejected token renewed), apply
# (registration and replicas), get as tables and --json, -o json|yaml|wide,
# stdout/stderr, colour (NO_COLOR, TERM, a pty from script(1)), the bash
# and zsh completions, scale, logs, delete, and the exit codes (1 refused,
# 2 usage, 3 unreachable, 4 a wait that fails: instances stay REQUESTED
# or NoActiveClusterWithCapacity).
# Last, 'oakctl dp' reads a node datapath that oak-dp pinned. Needs root
# for the dp part (run under the e2e lock: it pins BPF maps); NO_DP=1 skips it.
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
OAK_BIN=${OAK_BIN:-$HERE/../../build/bin}
TAG=${TAG:-okctl$$}
WORK=$(mktemp -d "/tmp/$TAG.XXXXXX")
PW=e2e-admin-pass-$$
NODE=$TAG-n
ROOTPID=

PASSED=0
FAILED=0
check() {
	local desc=$1
	shift
	if "$@"; then
		PASSED=$((PASSED + 1))
		echo "ok   - $desc"
	else
		FAILED=$((FAILED + 1))
		echo "FAIL - $desc"
		sed 's/^/       out: /' "$WORK/out" | head -20
		sed 's/^/       err: /' "$WORK/err" | head -20
	fi
}

cleanup() {
	[ -n "$ROOTPID" ] && kill "$ROOTPID" 2>/dev/null && wait "$ROOTPID" 2>/dev/null
	[ -d "/sys/fs/bpf/oak/$NODE" ] && "$OAK_BIN/oak-dp" -n "$NODE" purge >/dev/null 2>&1
	if [ "$FAILED" -ne 0 ]; then
		mkdir -p "/tmp/$TAG.logs" && cp "$WORK"/*.log "/tmp/$TAG.logs/" 2>/dev/null
		echo "logs kept in /tmp/$TAG.logs"
	fi
	rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
	/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
PORT=$(free_port)
DEAD_PORT=$(free_port) # nothing listens there
BROKER_PORT=$(free_port) # nor there: the root runs without its broker
URL=http://127.0.0.1:$PORT

# oakctl sees only this HOME and no OAK_* from the caller
export HOME=$WORK/home
unset OAK_ROOT_URL OAK_USER OAK_PASSWORD OAKCTL_CONFIG XDG_CONFIG_HOME
CONF=$HOME/.config/oak/oakctl.json

# oakctl ARGS...: run it, stdout in $WORK/out, stderr in $WORK/err, status in RC
oakctl() {
	"$OAK_BIN/oakctl" "$@" >"$WORK/out" 2>"$WORK/err"
	RC=$?
	return 0
}
rc_is() { [ "$RC" -eq "$1" ]; }
out_has() { grep -q -- "$1" "$WORK/out"; }
err_has() { grep -q -- "$1" "$WORK/err"; }
# py EXPR: a Python expression over J (stdout parsed as JSON) must hold
py() { /usr/bin/python3 -c "import json,sys; J=json.load(open('$WORK/out')); sys.exit(0 if ($1) else 1)"; }
conf_py() { /usr/bin/python3 -c "import json,sys; C=json.load(open('$CONF')); sys.exit(0 if ($1) else 1)"; }

start_root() {
	"$OAK_BIN/oak-root" --state_dir="$WORK/state" --http_addr=127.0.0.1 --http_port="$PORT" \
		--root_broker_host=127.0.0.1 --root_broker_port="$BROKER_PORT" "$@" \
		>>"$WORK/root.log" 2>&1 &
	ROOTPID=$!
	for _ in $(seq 100); do
		"$OAK_BIN/oakctl" --root "$URL" get clusters >/dev/null 2>&1
		[ $? -ne 3 ] && return 0
		sleep 0.1
	done
	echo "oak-root did not answer on $URL"
	return 1
}

# the access token lives 4 s, so expiry and refresh can be seen
"$OAK_BIN/oak-root" --state_dir="$WORK/state" --init-admin --admin-password "$PW" >"$WORK/init.log" 2>&1 ||
	{ cat "$WORK/init.log"; exit 1; }
start_root --access_token_ttl=4 || exit 1

cat >"$WORK/sla.json" <<'EOF'
{
  "sla_version": "v2.0",
  "customerID": "Admin",
  "applications": [{
    "applicationID": "",
    "application_name": "clientserver",
    "application_namespace": "test",
    "application_desc": "curl client and nginx server",
    "microservices": [
      {"microserviceID": "", "microservice_name": "curl", "microservice_namespace": "test",
       "virtualization": "container", "cmd": ["sh", "-c", "curl 10.30.30.30 ; sleep 5"],
       "memory": 100, "vcpus": 1, "vgpus": 0, "vtpus": 0, "bandwidth_in": 0,
       "bandwidth_out": 0, "storage": 0, "code": "docker.io/curlimages/curl:7.82.0",
       "state": "", "port": "", "added_files": []},
      {"microserviceID": "", "microservice_name": "server", "microservice_namespace": "test",
       "virtualization": "container", "cmd": [], "memory": 100, "vcpus": 1, "vgpus": 0,
       "vtpus": 0, "bandwidth_in": 0, "bandwidth_out": 0, "storage": 0,
       "code": "docker.io/library/nginx:latest", "state": "", "port": "6080:60/tcp",
       "addresses": {"rr_ip": "10.30.30.30"}, "added_files": [], "replicas": 2}
    ]
  }]
}
EOF
sed 's/"clientserver"/"other"/; s/10\.30\.30\.30/10.30.30.31/g; s/"replicas": 2/"replicas": 1/' \
	"$WORK/sla.json" >"$WORK/other.json"

echo "# usage errors (2), an unreachable root (3)"
oakctl frobnicate
check "unknown command: exit 2 and says so" eval 'rc_is 2 && err_has "unknown command .frobnicate."'
oakctl get apps --wait
check "an option of another command: exit 2" eval 'rc_is 2 && err_has "does not apply to .get."'
oakctl scale clientserver/server many
check "scale to a non-number: exit 2" eval 'rc_is 2 && err_has "replicas .many."'
oakctl apply
check "apply without a file: exit 2" eval 'rc_is 2 && err_has "usage: oakctl apply"'
echo '{"applications": [{"application_name": "x", "microservices": [{"microservice_name": "s", "replicas": -1}]}]}' >"$WORK/bad.json"
oakctl --root "$URL" apply -f "$WORK/bad.json"
check "a bad replicas in the SLA: exit 2 naming the field" \
	eval 'rc_is 2 && err_has "applications\[0\].microservices\[0\].replicas"'
echo '{"applications": [' >"$WORK/broken.json"
oakctl --root "$URL" apply -f "$WORK/broken.json"
check "an SLA that is not JSON: exit 2 with the line" eval 'rc_is 2 && err_has "broken.json: line"'
oakctl --root "http://127.0.0.1:$DEAD_PORT" get apps
check "unreachable root: exit 3 naming it" eval 'rc_is 3 && err_has "cannot reach the root at http://127.0.0.1:'"$DEAD_PORT"'"'
oakctl --root "ftp://127.0.0.1:$PORT" get apps
check "a root URL that is not http: exit 2" eval 'rc_is 2 && err_has "must start with http"'

echo "# login"
oakctl --root "$URL" get apps
check "not logged in: exit 1 with the root's message and a hint" \
	eval 'rc_is 1 && err_has "401" && err_has "oakctl login"'
OAK_PASSWORD=wrong-password oakctl --root "$URL" --user Admin login
check "wrong password: exit 1 with the root's message" \
	eval 'rc_is 1 && err_has "401" && err_has "Admin"'
check "wrong password: no config file written" test ! -e "$CONF"
echo "$PW" >"$WORK/pw"
oakctl --root "$URL" --user Admin login --password-stdin <"$WORK/pw"
check "login: exit 0" eval 'rc_is 0 && out_has "logged in as Admin"'
check "config file mode 0600 in a 0700 directory" \
	eval '[ "$(stat -c %a "$CONF")" = 600 ] && [ "$(stat -c %a "$(dirname "$CONF")")" = 700 ]'
check "config file holds root, user and tokens, not the password" \
	eval "conf_py \"C['root_url'] == '$URL' and C['username'] == 'Admin' and C['token'].count('.') == 2 and C['refresh_token']\" && ! grep -q -- \"$PW\" \"$CONF\""
TOKEN1=$(/usr/bin/python3 -c "import json; print(json.load(open('$CONF'))['token'])")
chmod 644 "$CONF"
oakctl get clusters
check "a config file others can read: a warning with the fix" eval 'rc_is 0 && err_has "mode 0644: chmod 600"'
chmod 600 "$CONF"

echo "# the config file's root and token, overridden by the environment and flags"
oakctl get apps --json
check "get apps with no flags (root and token from the file): []" eval 'rc_is 0 && py "J == []"'
check "a fresh token is not renewed" conf_py "C['token'] == '$TOKEN1'"
OAK_ROOT_URL=http://127.0.0.1:$DEAD_PORT oakctl get apps
check "OAK_ROOT_URL overrides the file: exit 3" eval 'rc_is 3 && err_has "OAK_ROOT_URL"'
OAK_ROOT_URL=http://127.0.0.1:$DEAD_PORT oakctl --root "$URL" get apps --json
check "--root overrides OAK_ROOT_URL: exit 0" eval 'rc_is 0 && py "J == []"'
OAK_USER=nobody oakctl get apps
check "another user (OAK_USER) does not get the file's token: exit 1" eval 'rc_is 1 && err_has "401"'

echo "# apply: register, then replicas"
oakctl apply -f "$WORK/sla.json"
check "apply: exit 0, both services registered with their replicas" \
	eval 'rc_is 0 && out_has "clientserver/curl: registered as [0-9a-f]\{24\}, replicas 1" && out_has "clientserver/server: registered as [0-9a-f]\{24\}, replicas 2"'
oakctl get apps --json
check "get apps --json: clientserver with 2 services" \
	eval "rc_is 0 && py \"len(J) == 1 and J[0]['application_name'] == 'clientserver' and len(J[0]['microservices']) == 2\""
APPID=$(/usr/bin/python3 -c "import json; print(json.load(open('$WORK/out'))[0]['applicationID'])")
oakctl get apps
check "get apps: an aligned table" \
	eval 'rc_is 0 && head -1 "$WORK/out" | grep -q "^NAME  *NAMESPACE  *ID  *SERVICES  *DESCRIPTION$" && grep -q "^clientserver  *test  *$APPID  *2  *curl client" "$WORK/out"'
check "get apps: columns line up" \
	eval '[ "$(awk "{print index(\$0, \"ID\")}" <(head -1 "$WORK/out"))" = "$(awk "{print index(\$0, \"$APPID\")}" <(sed -n 2p "$WORK/out"))" ]'
oakctl get services --json
check "get services --json: replicas as the SLA said (server 2, curl 1), rr_ip as asked" \
	eval "rc_is 0 && py \"sorted((s['microservice_name'], s['replicas']) for s in J) == [('curl', 1), ('server', 2)] and [s['RR_ip'] for s in J if s['microservice_name'] == 'server'] == ['10.30.30.30']\""
SID=$(/usr/bin/python3 -c "import json; print([s['microserviceID'] for s in json.load(open('$WORK/out')) if s['microservice_name'] == 'server'][0])")
oakctl get services clientserver
check "get services APP: a table with the replicas" \
	eval 'rc_is 0 && grep -q "^clientserver/server  *$SID  *2  *0 " "$WORK/out" && grep -q "^clientserver/curl  .* 1  *0 " "$WORK/out"'
oakctl get services nosuchapp
check "get services of an unknown application: exit 1" eval 'rc_is 1 && err_has "no application .nosuchapp."'

# the orchestrator creates the instance entries asynchronously
for _ in $(seq 50); do
	oakctl get instances clientserver/server --json
	rc_is 0 && py "len(J) == 2" && break
	sleep 0.1
done
check "get instances --json: 2 entries of clientserver/server, REQUESTED or unplaceable" \
	eval "rc_is 0 && py \"len(J) == 2 and all(i['service'] == 'clientserver/server' and i['microserviceID'] == '$SID' and i['status'] in ('REQUESTED', 'NoActiveClusterWithCapacity') for i in J)\""
oakctl get instances
check "get instances: a table naming SERVICE/N" \
	eval 'rc_is 0 && head -1 "$WORK/out" | grep -q "^INSTANCE  *STATUS  *CLUSTER  *NODE  *INSTANCE_IP  *DETAIL$" && grep -q "^clientserver/server/0 " "$WORK/out" && grep -q "^clientserver/server/1 " "$WORK/out" && grep -q "^clientserver/curl/0 " "$WORK/out"'
oakctl get instances server --json
check "a service by its bare name" eval 'rc_is 0 && py "len(J) == 2"'
oakctl get instances "$SID" --json
check "a service by its id" eval 'rc_is 0 && py "len(J) == 2"'

echo "# -o/--output, stdout and stderr, colour, completion"
oakctl get services --json
cp "$WORK/out" "$WORK/svc.json"
oakctl get services -o json
check "get services -o json is --json" eval 'rc_is 0 && cmp -s "$WORK/out" "$WORK/svc.json"'
# yq EXPR: stdout parsed as YAML (Debian's python3-yaml) compared in Python with J
yq() { /usr/bin/python3 -c "import json,sys,yaml; Y=yaml.safe_load(open('$WORK/out')); J=json.load(open('$WORK/svc.json')); sys.exit(0 if ($1) else 1)"; }
oakctl get services -o yaml
check "get services -o yaml: YAML of the same document" eval 'rc_is 0 && yq "Y == J"'
oakctl get apps --json
cp "$WORK/out" "$WORK/svc.json"
oakctl get apps --output yaml
check "get apps --output yaml: YAML of the same document" eval 'rc_is 0 && yq "Y == J"'
oakctl get instances -o json
cp "$WORK/out" "$WORK/svc.json"
oakctl get instances -o yaml
check "get instances -o yaml: the same entries" \
	eval "rc_is 0 && yq \"[(i['service'], i['instance_number']) for i in Y] == [(i['service'], i['instance_number']) for i in J] and len(Y) == 3\""
oakctl get clusters -o yaml
check "get clusters -o yaml: an empty list" eval 'rc_is 0 && [ "$(cat "$WORK/out")" = "[]" ]'
oakctl get services -o wide
check "get services -o wide: more columns" \
	eval 'rc_is 0 && head -1 "$WORK/out" | grep -q "^SERVICE .* CLOSEST_IP  *VIRTUALIZATION  *CODE  *VCPUS  *MEMORY_MB$" && grep -q "^clientserver/server  *$SID .* docker.io/library/nginx" "$WORK/out"'
oakctl get instances -o wide
check "get instances -o wide: NODE_IP and GENERATION" \
	eval 'rc_is 0 && head -1 "$WORK/out" | grep -q " DETAIL  *NODE_IP  *GENERATION$"'
oakctl get apps -o wide
check "get apps -o wide: the owner" eval 'rc_is 0 && head -1 "$WORK/out" | grep -q " DESCRIPTION  *USER$"'
oakctl get nodes -o wide
check "get nodes -o wide: the totals" eval 'rc_is 0 && head -1 "$WORK/out" | grep -q " VCPUS_TOTAL  *MEMORY_TOTAL_MB$"'
oakctl get apps -o xml
check "-o xml: exit 2, the error on stderr, nothing on stdout" \
	eval 'rc_is 2 && err_has "table, wide, json or yaml" && [ ! -s "$WORK/out" ]'
oakctl logs nosuch/0 -o json
check "-o on a command without output formats: exit 2" eval 'rc_is 2 && err_has "does not apply"'
oakctl get services nosuchapp -o yaml
check "an error: on stderr only, stdout empty" eval 'rc_is 1 && [ ! -s "$WORK/out" ] && [ -s "$WORK/err" ]'
oakctl get nodes
check "a note (get nodes) goes to stderr, the table to stdout" \
	eval 'rc_is 0 && err_has "aggregates" && ! out_has "aggregates" && out_has "^CLUSTER"'
oakctl get instances
check "into a pipe or file: no colour" eval 'rc_is 0 && ! grep -q $'"'"'\033'"'"' "$WORK/out"'
# on a terminal (script(1) gives a pty): STATUS coloured, unless NO_COLOR or TERM=dumb
on_tty() { env "$@" script -qec "'$OAK_BIN/oakctl' get instances" /dev/null >"$WORK/out" 2>&1; }
check "on a terminal: the STATUS cells coloured" \
	eval 'on_tty TERM=xterm && grep -q $'"'"'\033\[33m'"'"' "$WORK/out" && grep -q $'"'"'\033\[0m'"'"' "$WORK/out"'
check "on a terminal with NO_COLOR=1: no colour" \
	eval 'on_tty TERM=xterm NO_COLOR=1 && grep -q "^clientserver/server/0" "$WORK/out" && ! grep -q $'"'"'\033'"'"' "$WORK/out"'
check "on a terminal with TERM=dumb: no colour" \
	eval 'on_tty TERM=dumb && grep -q "^clientserver/server/0" "$WORK/out" && ! grep -q $'"'"'\033'"'"' "$WORK/out"'

oakctl completion bash
cp "$WORK/out" "$WORK/oakctl.bash"
check "completion bash: a valid bash script" eval 'rc_is 0 && bash -n "$WORK/oakctl.bash"'
# complete WORDS...: what bash's completion of oakctl offers for the last word
complete_bash() {
	PATH="$OAK_BIN:$PATH" bash -c 'source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1));
		_oakctl; printf "%s\n" "${COMPREPLY[@]}"' _ "$WORK/oakctl.bash" "$@" >"$WORK/out" 2>"$WORK/err"
}
check "bash completes the commands" eval 'complete_bash oakctl "" && out_has "^apply$" && out_has "^completion$" && [ "$(wc -l <"$WORK/out")" = 8 ]'
check "bash completes get's resources" eval 'complete_bash oakctl get in && [ "$(cat "$WORK/out")" = instances ]'
check "bash completes -o's formats" eval 'complete_bash oakctl get apps -o "" && [ "$(sort "$WORK/out" | tr "\n" " ")" = "json table wide yaml " ]'
check "bash completes options" eval 'complete_bash oakctl --ou && [ "$(cat "$WORK/out")" = --output ]'
check "bash completes scale's SERVICE from the root" \
	eval 'complete_bash oakctl scale client && out_has "^clientserver/server$" && out_has "^clientserver/curl$"'
check "bash completes -f with files" eval 'complete_bash oakctl apply -f "$WORK/sl" && out_has "sla.json$"'
oakctl completion zsh
cp "$WORK/out" "$WORK/_oakctl"
check "completion zsh: starts with #compdef" eval 'rc_is 0 && head -1 "$WORK/_oakctl" | grep -q "^#compdef oakctl$"'
if command -v zsh >/dev/null; then
	check "completion zsh: a valid zsh script" zsh -n "$WORK/_oakctl"
	check "completion zsh: sourced after compinit, it registers _oakctl for oakctl" \
		eval 'zsh -fc "autoload -U compinit && compinit -u -d $WORK/zcompdump && source $WORK/_oakctl && print \${_comps[oakctl]}" >"$WORK/out" 2>"$WORK/err" && [ "$(cat "$WORK/out")" = _oakctl ]'
else
	echo "skip - zsh checks (no zsh; tools/deps.sh installs it)"
fi
oakctl completion fish
check "completion fish: exit 2" eval 'rc_is 2 && err_has "bash|zsh"'

echo "# apply again: an update"
sed 's/"replicas": 2/"replicas": 3/; s|nginx:latest|nginx:1.25|' "$WORK/sla.json" >"$WORK/sla3.json"
oakctl apply -f "$WORK/sla3.json"
check "apply of a registered application: its services updated, exit 0" \
	eval 'rc_is 0 && out_has "^clientserver/server: updated (generation 2), replicas 3$" && out_has "^clientserver/curl: updated (generation 1), replicas 1$"'
oakctl get services clientserver --json
check "the update is in the service: code, replicas, same id" \
	eval "rc_is 0 && py \"[(s['microserviceID'], s['code'], s['replicas']) for s in J if s['microservice_name'] == 'server'] == [('$SID', 'docker.io/library/nginx:1.25', 3)]\""
sed 's/"clientserver"/"thief"/' "$WORK/sla.json" >"$WORK/thief.json"
oakctl apply -f "$WORK/thief.json"
check "apply of a new application asking for a taken rr_ip: exit 1 with the root's message" \
	eval 'rc_is 1 && err_has "409" && err_has "10.30.30.30"'
/usr/bin/python3 -c "
import json; s = json.load(open('$WORK/sla.json'))
s['applications'][0]['microservices'].append(dict(s['applications'][0]['microservices'][0], microservice_name='extra'))
json.dump(s, open('$WORK/extra.json', 'w'))"
oakctl apply -f "$WORK/extra.json"
check "apply adding a service to a registered application: exit 1, says how" \
	eval 'rc_is 1 && err_has "clientserver/extra: not a service of the registered application"'
check "... and changes nothing" eval '! out_has "updated"'

echo "# --wait with no cluster: exit 4 with the status"
oakctl apply -f "$WORK/other.json" --wait --timeout 5
check "apply --wait --timeout 5: exit 4" eval 'rc_is 4'
check "apply --wait: a progress line per service" \
	eval 'out_has "^other/curl: 0/1 RUNNING (1 \(REQUESTED\|NoActiveClusterWithCapacity\))$" && out_has "^other/server: 0/1 RUNNING (1 \(REQUESTED\|NoActiveClusterWithCapacity\))$"'
check "apply --wait: the failing status is printed" \
	eval 'err_has "NoActiveClusterWithCapacity" || err_has "timed out after 5s"'
oakctl get services other --json
check "the waited-for application stays registered" eval 'rc_is 0 && py "len(J) == 2"'
s=$(date +%s.%N)
oakctl scale other/server 2 --wait --grace 1.5 --timeout 20
el=$(echo "$(date +%s.%N) - $s" | bc)
check "scale --wait --grace 1.5: exit 4 after the grace, not the timeout (${el}s)" \
	eval 'rc_is 4 && [ "$(echo "$el >= 1.4 && $el < 10" | bc)" = 1 ] && out_has "other/server: replicas 2"'

echo "# scale, logs"
oakctl scale clientserver/server 3
check "scale to 3: exit 0" eval 'rc_is 0 && out_has "clientserver/server: replicas 3"'
for _ in $(seq 50); do
	oakctl get instances clientserver/server --json
	py "len(J) == 3" && break
	sleep 0.1
done
check "scale to 3: three instance entries" py "len(J) == 3"
oakctl get services clientserver --json
check "scale to 3: replicas 3 in the service" py "[s['replicas'] for s in J if s['microservice_name'] == 'server'] == [3]"
oakctl scale server 1
check "scale an ambiguous name (server is in two apps): exit 2" eval 'rc_is 2 && err_has "names 2 services"'
oakctl scale clientserver/server 1
for _ in $(seq 50); do
	oakctl get instances clientserver/server --json
	py "len(J) == 1" && break
	sleep 0.1
done
check "scale down to 1: one instance entry" py "len(J) == 1"
oakctl scale clientserver/nosuch 1
check "scale an unknown service: exit 1" eval 'rc_is 1 && err_has "no service .clientserver/nosuch."'
oakctl logs clientserver/curl/0
check "logs of an instance (none yet): exit 0" rc_is 0
oakctl logs clientserver/curl
check "logs SERVICE with one instance: exit 0" rc_is 0
oakctl logs clientserver/curl/7
check "logs of a missing instance: exit 1" eval 'rc_is 1 && err_has "no instance 7"'

echo "# clusters and nodes (none)"
oakctl get clusters
check "get clusters: the table header" eval 'rc_is 0 && grep -q "^NAME  *ID  *LOCATION  *ACTIVE  *NODES" "$WORK/out"'
oakctl get clusters --json
check "get clusters --json: []" eval 'rc_is 0 && py "J == []"'
oakctl get nodes
check "get nodes: per-cluster active nodes, and says why" \
	eval 'rc_is 0 && grep -q "^CLUSTER  *ACTIVE  *ACTIVE_NODES" "$WORK/out" && err_has "aggregates"'
"$OAK_BIN/oakctl" --help | grep -q "aggregates" && "$OAK_BIN/oakctl" --help | grep -q "^  4  a wait failed"
check "--help documents get nodes and the exit codes" test $? -eq 0

echo "# tokens: expiry and rejection"
TOKEN2=$(/usr/bin/python3 -c "import json; print(json.load(open('$CONF'))['token'])")
sleep 3 # the 4 s access token is now within oakctl's 2 s margin
oakctl -v get apps --json
check "an expired access token is refreshed first: exit 0" \
	eval 'rc_is 0 && py "len(J) == 2" && grep -q "^> POST /api/auth/refresh" "$WORK/err"'
check "the refreshed token is saved" eval "! conf_py \"C['token'] == '$TOKEN2'\""
/usr/bin/python3 - "$CONF" <<'EOF'
import base64, json, sys, time
b = lambda x: base64.urlsafe_b64encode(json.dumps(x).encode()).decode().rstrip("=")
c = json.load(open(sys.argv[1]))
c["token"] = b({"alg": "HS256", "typ": "JWT"}) + "." + b({"sub": "Admin", "exp": int(time.time()) + 3600}) + ".forged"
json.dump(c, open(sys.argv[1], "w"))
EOF
oakctl get apps --json
check "a token the root rejects (401) is renewed once: exit 0" eval 'rc_is 0 && py "len(J) == 2"'
check "the forged token is replaced" eval "! conf_py \"C['token'].endswith('.forged')\""
/usr/bin/python3 -c "import json; c = json.load(open('$CONF')); c['token'] = 'a.b.c'; c['refresh_token'] = 'x.y.z'; json.dump(c, open('$CONF', 'w'))"
oakctl get apps
check "a rejected token and refresh token: exit 1, 'run oakctl login'" \
	eval 'rc_is 1 && err_has "oakctl login"'
OAK_USER=Admin OAK_PASSWORD=$PW oakctl get apps --json
check "with OAK_PASSWORD oakctl logs in again by itself" eval 'rc_is 0 && py "len(J) == 2"'

echo "# delete"
oakctl delete instance clientserver/server/0
check "delete instance SERVICE/N: exit 0" eval 'rc_is 0 && out_has "instance clientserver/server/0: deleted"'
oakctl delete service clientserver/curl
check "delete service: exit 0" eval 'rc_is 0 && out_has "service clientserver/curl: deleted"'
oakctl get services clientserver --json
check "the deleted service is gone" eval "rc_is 0 && py \"[s['microservice_name'] for s in J] == ['server']\""
oakctl delete app clientserver
check "delete app: exit 0" eval 'rc_is 0 && out_has "application clientserver: deleted"'
oakctl delete app clientserver
check "delete a deleted app: exit 1" eval 'rc_is 1 && err_has "no application .clientserver."'
oakctl delete -f "$WORK/other.json"
check "delete -f SLA: exit 0" eval 'rc_is 0 && out_has "application other: deleted"'
oakctl get apps --json
check "no application left" eval 'rc_is 0 && py "J == []"'
oakctl delete thing
check "delete what? exit 2" eval 'rc_is 2 && err_has "usage: oakctl delete"'

echo "# dp: a node's pinned datapath, read-only"
if [ "$(id -u)" -ne 0 ] || [ -n "${NO_DP:-}" ]; then
	echo "skip - dp (needs root; NO_DP set?)"
else
	{
		echo "svc 10.30.7.1 rr 10.30.0.5 10.30.0.6@100"
		echo "svc 10.30.7.2 closest 10.30.0.7@50 10.30.0.8@50 10.30.0.9@90"
		echo "remote 10.30.0.5 192.168.100.2"
		echo "port add tcp 6080 10.30.0.5 60"
	} | "$OAK_BIN/oak-dp" -n "$NODE" batch >"$WORK/dp.log" 2>&1
	oakctl dp --node "$NODE" --json
	check "dp --json: both services, their backends in latency order, the instance, the port, the counters" \
		eval "rc_is 0 && py \"(lambda S: S['10.30.7.1']['policy'] == 'round-robin' and [b['instance_ip'] for b in S['10.30.7.1']['backends']] == ['10.30.0.6', '10.30.0.5'] and [b['closest'] for b in S['10.30.7.2']['backends']] == [True, True, False] and J['instances'] == [{'instance_ip': '10.30.0.5', 'where': 'remote', 'node_ip': '192.168.100.2'}] and J['ports'] == [{'proto': 'tcp', 'host_port': 6080, 'instance_ip': '10.30.0.5', 'container_port': 60}] and 'translated' in J['counters'])({s['service_ip']: s for s in J['services']})\""
	oakctl dp --node "$NODE"
	check "dp: services, backends, counters as text" \
		eval 'rc_is 0 && out_has "^  10.30.7.2 closest backends=3" && out_has "^    10.30.0.9 latency_us=90$" && out_has "^  tcp 6080 -> 10.30.0.5:60$" && out_has "^  translated  *0$"'
	before=$(ls "/sys/fs/bpf/oak/$NODE" | sort | tr '\n' ' ')
	oakctl dp --node "$TAG-none"
	check "dp of a node with no pins: exit 1, and nothing is created" \
		eval 'rc_is 1 && err_has "not pinned" && [ ! -e "/sys/fs/bpf/oak/$TAG-none" ]'
	check "dp changes no pin" test "$before" = "$(ls "/sys/fs/bpf/oak/$NODE" | sort | tr '\n' ' ')"
	"$OAK_BIN/oak-dp" -n "$NODE" purge >/dev/null 2>&1
fi

kill "$ROOTPID" && wait "$ROOTPID" 2>/dev/null
ROOTPID=
echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
