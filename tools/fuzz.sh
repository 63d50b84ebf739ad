#!/usr/bin/env bash
# Runs oak's libFuzzer targets (tests/fuzz/: SLA, every MQTT message, the
# heartbeat datagram, the SLA port field, the bearer token, the REST API)
# for longer than `make test` does, all built with ASan and UBSan
# (-fsanitize=fuzzer,address,undefined, UB fatal; LeakSanitizer on).
#
#   tools/fuzz.sh [-t SECONDS] [-j JOBS] [TARGET...]
#
#   -t  seconds per target (default 300)
#   -j  targets run at once (default 1; keep to the cores you may use)
#   TARGET: sla, heartbeat, ports, jwt, rest, msg_<message>, or "msg" for
#           all 18 message targets; default: every target
#
# The fuzzers come from the build tree (BUILD, default build/; built here
# with `cmake --build $BUILD --target oak_fuzzers`). Seeds: the committed
# corpus tests/fuzz/corpus/<target>/ (and tests/data for sla and msg_*);
# what the fuzzer learns goes to $BUILD/tests/fuzz/corpus/<target>/, never
# the source tree. A crash, leak or UB report leaves its input in
# $BUILD/fuzz-artifacts/<target>/; reproduce with
#   $BUILD/bin/fuzz/fuzz_<target> <input>
# and once fixed, commit the input as tests/fuzz/corpus/<target>/regress-*.
# Ends with "RESULT targets=N failed=M execs=E".
set -uo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$ROOT/build}
SECONDS_EACH=300
JOBS=1
while getopts "t:j:h" o; do
	case $o in
	t) SECONDS_EACH=$OPTARG ;;
	j) JOBS=$OPTARG ;;
	*)
		sed -n 2,22p "$0"
		exit 2
		;;
	esac
done
shift $((OPTIND - 1))

MSGS="node_hello status node_info job_usage instance_state deploy delete subnet subnet_request
table_query service_table net_service interest cluster_hello cluster_info cluster_deploy
cluster_undeploy cluster_scale"
targets=()
for t in "${@:-all}"; do
	case $t in
	all) targets+=(sla heartbeat ports jwt rest) && for m in $MSGS; do targets+=("msg_$m"); done ;;
	msg) for m in $MSGS; do targets+=("msg_$m"); done ;;
	*) targets+=("$t") ;;
	esac
done

nice cmake --build "$BUILD" --target oak_fuzzers -j2 >/dev/null || {
	echo "fuzz.sh: building the fuzzers in $BUILD failed" >&2
	exit 1
}

run_one() {
	local t=$1 bin="$BUILD/bin/fuzz/fuzz_$1" seeds=() log
	local corpus="$BUILD/tests/fuzz/corpus/$t" art="$BUILD/fuzz-artifacts/$t"
	[ -x "$bin" ] || {
		echo "fuzz.sh: no fuzzer $bin" >&2
		return 1
	}
	mkdir -p "$corpus" "$art"
	[ -d "$ROOT/tests/fuzz/corpus/$t" ] && seeds+=("$ROOT/tests/fuzz/corpus/$t")
	[ "$t" = sla ] && seeds+=("$ROOT/tests/data/sla")
	case $t in msg_*) seeds+=("$ROOT/tests/data/msg/${t#msg_}") ;; esac
	log="$art/fuzz.log"
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
		nice "$bin" -max_total_time="$SECONDS_EACH" -timeout=10 -rss_limit_mb=2048 \
		-max_len=70000 -print_final_stats=1 -artifact_prefix="$art/" \
		"$corpus" "${seeds[@]}" >"$log" 2>&1
	local rc=$? execs
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
	if [ $rc -eq 0 ]; then
		echo "ok   $t: ${execs:-?} runs in ${SECONDS_EACH}s, corpus $(ls "$corpus" | wc -l)"
	else
		echo "FAIL $t (exit $rc): $(grep -m1 -E 'ERROR|runtime error|SUMMARY' "$log")"
		echo "     input: $(ls -t "$art" | grep -v fuzz.log | head -1), log $log"
	fi
	echo "EXECS ${execs:-0} RC $rc" >>"$art/summary"
	return $rc
}

export -f run_one
export ROOT BUILD SECONDS_EACH
rm -f "$BUILD"/fuzz-artifacts/*/summary
printf '%s\n' "${targets[@]}" | xargs -P "$JOBS" -I{} bash -c 'run_one {}'
failed=0 execs=0
for t in "${targets[@]}"; do
	s="$BUILD/fuzz-artifacts/$t/summary"
	[ -f "$s" ] || {
		failed=$((failed + 1))
		continue
	}
	read -r _ e _ rc <"$s"
	execs=$((execs + e))
	[ "$rc" -eq 0 ] || failed=$((failed + 1))
done
echo "RESULT targets=${#targets[@]} failed=$failed execs=$execs"
[ $failed -eq 0 ]
