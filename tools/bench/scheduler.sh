#!/usr/bin/env bash
# Scheduler micro-benchmark: builds scheduler/ and tools/bench/sched_bench.c
# with cc -O2 into a temporary directory, runs ROM and LDP over synthetic
# fleets of 10, 100, 1,000 and 10,000 candidates, and prints a table and a
# last line "RESULT name=value ..." (rom_1000_p99_us, ldp_1000_p99_us, ...).
# usage: tools/bench/scheduler.sh [seed]        (~10 s)
set -euo pipefail

root=$(cd "$(dirname "$0")/../.." && pwd)
cc=${CC:-cc}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

"$cc" -std=gnu11 -O2 -D_GNU_SOURCE -Wall -Wextra -Werror -I"$root/include" \
	"$root"/scheduler/*.c "$root/tools/bench/sched_bench.c" -lm -o "$work/sched_bench"

echo "# host: $(nproc) cpus, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')"
echo "# goals at 1,000 candidates: ROM p99 < 100 us, LDP p99 < 1 ms (Oakestra: median ~270 us, p99 ~1 ms)"
"$work/sched_bench" "$@"
