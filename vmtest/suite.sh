#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# vmtest/suite.sh [TEST...]
#
# The kernel-facing tests, meant to run inside the VM (vmtest/run --kernel
# 6.1 -- vmtest/suite.sh) but runnable on the host too:
#   bpf_datapath   build/bin/test_bpf_datapath (BPF_PROG_TEST_RUN packet tests)
#   e2e_datapath   tests/e2e/datapath.sh (namespaces end to end)
#   xdp_multiprog  vmtest/xdp_multiprog.sh (oak's XDP program and another one
#                  under libxdp's dispatcher)
# A test that is not there (not built yet) is skipped with a message.
#
# Exit: 0 nothing failed (and something ran); 1 a test failed; 77 all skipped.
# OAK_BUILD_DIR overrides the build directory (default: build/).
set -uo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${OAK_BUILD_DIR:-$repo/build}
export OAK_BUILD_DIR=$build
export OAK_BIN=${OAK_BIN:-$build/bin} # tests/e2e finds oak-dp there
in_vm=0
[ -n "${OAK_VMTEST_KERNEL_RUN:-}" ] && [ "$OAK_VMTEST_KERNEL_RUN" != host ] && in_vm=1

all=(bpf_datapath e2e_datapath xdp_multiprog)
[ $# -gt 0 ] && all=("$@")

# modules the datapath tests use; autoloading would find most of them too
modprobe -q -a veth bridge sch_ingress sch_netem cls_bpf act_bpf 2>/dev/null || true
mountpoint -q /sys/fs/bpf 2>/dev/null || mount -t bpf bpffs /sys/fs/bpf 2>/dev/null || true

echo "vmtest suite: kernel $(uname -r)$([ $in_vm = 1 ] && echo ' (VM)'), build dir $build"
declare -A result dur
npass=0 nfail=0 nskip=0 ms=0

run_test() { # run_test NAME COMMAND...
	local name=$1 t0 rc
	shift
	echo
	echo "=== $name: $*"
	t0=$(date +%s%N)
	"$@"
	rc=$?
	ms=$((($(date +%s%N) - t0) / 1000000))
	dur[$name]=$((ms / 1000)).$((ms % 1000 / 100))
	case $rc in
	0) result[$name]=PASS; npass=$((npass + 1)) ;;
	77) result[$name]=SKIP; nskip=$((nskip + 1)) ;;
	*) result[$name]="FAIL ($rc)"; nfail=$((nfail + 1)) ;;
	esac
}

skip_test() { # skip_test NAME REASON
	echo
	echo "=== $1: SKIP: $2"
	result[$1]="SKIP ($2)"
	dur[$1]=0.0
	nskip=$((nskip + 1))
}

for t in "${all[@]}"; do
	case $t in
	bpf_datapath)
		if [ -x "$build/bin/test_bpf_datapath" ]; then
			run_test $t "$build/bin/test_bpf_datapath"
		else
			skip_test $t "$build/bin/test_bpf_datapath not built (cmake --build build --target test_bpf_datapath)"
		fi
		;;
	e2e_datapath)
		if [ -f "$repo/tests/e2e/datapath.sh" ]; then
			if [ $in_vm = 1 ]; then
				# same checks, smaller transfers: the VM's CPUs are emulated
				OAK_E2E_XFER=${OAK_E2E_XFER:-400000} OAK_E2E_LONG=${OAK_E2E_LONG:-3000000} \
					run_test $t bash "$repo/tests/e2e/datapath.sh"
			else
				run_test $t bash "$repo/tests/e2e/datapath.sh"
			fi
		else
			skip_test $t "tests/e2e/datapath.sh not there yet"
		fi
		;;
	xdp_multiprog)
		run_test $t "$repo/vmtest/xdp_multiprog.sh" "$build"
		if [ $in_vm = 0 ] && [ "${result[$t]}" != PASS ] && [ "${result[$t]}" != SKIP ]; then
			# the host kernel may refuse the dispatcher (EPERM on this
			# project's 6.18 hosts); that is what the VM run is for
			result[$t]="${result[$t]}, not counted on the host kernel"
			nfail=$((nfail - 1))
		fi
		;;
	*)
		echo "vmtest suite: unknown test $t (known: bpf_datapath e2e_datapath xdp_multiprog)" >&2
		result[$t]="FAIL (unknown test)"
		dur[$t]=0.0
		nfail=$((nfail + 1))
		;;
	esac
done

echo
echo "=== summary, kernel $(uname -r)"
for t in "${all[@]}"; do
	printf '  %-14s %6ss  %s\n' "$t" "${dur[$t]}" "${result[$t]}"
done
[ $nfail -gt 0 ] && exit 1
[ $npass -eq 0 ] && exit 77
exit 0
