# shellcheck shell=bash
# A real MQTT broker for an end-to-end test, and a recorder of what crosses
# it. Source after topo.sh; needs TAG, WORK and BROKER (an address for the
# switch namespace's bridge: the broker lives on the test underlay only).

# bus_start TOPIC_FILTER...: start mosquitto (or aedes) in "$TAG-sw" on $BROKER:1883 and
# record the given topics, one "topic payload" line each, in $WORK/bus.log.
# Sets MOSQ and SUB to their pids (the processes themselves: nsenter execs).
# OAK_BROKER=aedes runs aedes (tools/brokers/aedes.mjs, npm) instead: the
# same test against a second MQTT implementation; exit 77 without it.
bus_start() {
	local t filters=()
	ip -n "$TAG-sw" addr add "$BROKER/24" dev br0
	if [ "${OAK_BROKER:-mosquitto}" = aedes ]; then
		[ -f "${AEDES_DIR:-/opt/oak/aedes}/node_modules/aedes/aedes.js" ] && command -v node >/dev/null ||
			{ echo "skip: no aedes (tools/deps.sh installs it)"; exit 77; }
		nsenter --net="/run/netns/$TAG-sw" node "$ROOT/tools/brokers/aedes.mjs" "$BROKER" 1883 \
			>"$WORK/mosquitto.log" 2>&1 &
	else
		mqtt_conf "$WORK/mosquitto.conf" "$BROKER"
		nsenter --net="/run/netns/$TAG-sw" mosquitto -c "$WORK/mosquitto.conf" >"$WORK/mosquitto.log" 2>&1 &
	fi
	MOSQ=$!
	ns_wait_tcp "$TAG-sw" "$BROKER" 1883
	for t; do filters+=(-t "$t"); done
	nsenter --net="/run/netns/$TAG-sw" mosquitto_sub -h "$BROKER" -v "${filters[@]}" >"$WORK/bus.log" 2>&1 &
	SUB=$!
	sleep 0.3
}

# Publish as the test harness (QoS 1): pub -t TOPIC -m PAYLOAD [-r]
pub() { nsx "$TAG-sw" mosquitto_pub -h "$BROKER" -q 1 "$@"; }

# bus_has TOPIC REGEX [TIMEOUT_S]: wait until a recorded message matches.
bus_has() {
	local t=${3:-10} i
	for i in $(seq $((t * 10))); do
		grep "^$1 " "$WORK/bus.log" | grep -qE "$2" && return 0
		sleep 0.1
	done
	return 1
}

# bus_count TOPIC REGEX: how many recorded messages match.
bus_count() { grep "^$1 " "$WORK/bus.log" | grep -cE "$2"; }

# bus_stop: end the broker and the recorder.
bus_stop() {
	[ -n "${SUB:-}" ] && kill "$SUB" 2>/dev/null
	[ -n "${MOSQ:-}" ] && kill "$MOSQ" 2>/dev/null
	SUB="" MOSQ=""
}

# agents_stop: end the oak-node agents in AGENT[] and then the instance
# processes they leave behind on purpose (their records in $WORK/n*/ name
# them; a native instance leads its own process group).
agents_stop() {
	local p f pid
	for p in "${AGENT[@]}"; do
		[ -n "$p" ] && kill "$p" 2>/dev/null
	done
	sleep 0.3
	for f in "$WORK"/n*/instances/*.json; do
		[ -e "$f" ] || continue
		pid=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["pid"])' "$f")
		[ "$pid" -gt 1 ] 2>/dev/null && kill -9 -- "-$pid" "$pid" 2>/dev/null
	done
}

# oak_cgroups_remove: the instance cgroups of this test's nodes.
oak_cgroups_remove() {
	local d
	for d in /sys/fs/cgroup/*/oak/"$TAG"-n* /sys/fs/cgroup/oak/"$TAG"-n*; do
		[ -d "$d" ] || continue
		find "$d" -depth -type d -exec rmdir {} + 2>/dev/null
	done
}

# pins_and_work_cleanup: the end of every daemon test's cleanup: the BPF
# pins of "$TAG-*" nodes, then $WORK (its logs kept in /tmp/$TAG.logs when
# FAILED is not 0).
pins_and_work_cleanup() {
	local d
	for d in /sys/fs/bpf/oak/"$TAG"-*; do
		[ -e "$d" ] && rm -rf "$d"
	done
	if [ "${FAILED:-0}" -ne 0 ] && [ -d "$WORK" ]; then # keep the logs of a failed run
		mkdir -p "/tmp/$TAG.logs" && cp "$WORK"/*.log "/tmp/$TAG.logs/" 2>/dev/null
		echo "logs kept in /tmp/$TAG.logs"
	fi
	rm -rf "$WORK"
}
