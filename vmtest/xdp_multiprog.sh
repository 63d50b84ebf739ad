#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# vmtest/xdp_multiprog.sh [BUILD_DIR]
#
# Does oak's XDP program (build/bpf/oak_xdp.bpf.o, oak_xdp_decap) share an
# interface with another XDP program through libxdp's multi-program
# dispatcher? Loads both with `xdp-loader load -m native` on a veth in a
# namespace of its own and checks that `xdp-loader status` lists both under
# an xdp_dispatcher.
#
# Exit: 0 both run under the dispatcher; 1 they do not (the output says
# what libxdp did instead); 77 cannot test here (no root, no xdp-loader or
# clang, oak_xdp.bpf.o not built). Leaves no namespace, link or pin behind.
set -uo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${1:-${OAK_BUILD_DIR:-$repo/build}}
obj=$build/bpf/oak_xdp.bpf.o
skip() { echo "xdp_multiprog: SKIP: $*"; exit 77; }

[ "$(id -u)" -eq 0 ] || skip "needs root"
command -v xdp-loader >/dev/null || skip "no xdp-loader (package xdp-tools)"
command -v clang >/dev/null || skip "no clang"
[ -f "$obj" ] || skip "$obj not built (make build, or cmake --build build --target oak_xdp_skel)"

tmp=$(mktemp -d /tmp/oak-xdp-multiprog.XXXXXX)
ns=oak-vmt-xdp-$$
pins=/sys/fs/bpf/oak-vmtest-xdp-$$
dev=oakvx0
cleanup() {
	if ip netns list 2>/dev/null | grep -q "^$ns\b"; then
		nsenter --net=/run/netns/$ns xdp-loader unload --all $dev >/dev/null 2>&1
		ip netns del "$ns"
	fi
	rm -rf "$pins" "$tmp"
}
trap cleanup EXIT

clang -O2 -g -target bpf -I/usr/include/x86_64-linux-gnu \
	-c "$repo/vmtest/xdp_pass.bpf.c" -o "$tmp/xdp_pass.bpf.o" || { echo "xdp_multiprog: FAIL: cannot compile xdp_pass.bpf.c"; exit 1; }

ip netns add "$ns" || skip "cannot create a network namespace"
# nsenter (not ip netns exec): keep this mount namespace, where bpffs is
in_ns() { nsenter --net=/run/netns/$ns "$@"; }
in_ns ip link add $dev type veth peer name oakvx1 || skip "cannot create a veth pair"
in_ns ip link set $dev up
in_ns ip link set oakvx1 up
mkdir -p "$pins"
mountpoint -q /sys/fs/bpf || mount -t bpf bpffs /sys/fs/bpf

echo "xdp_multiprog: kernel $(uname -r), $(xdp-loader load --version 2>&1 | head -n 1)"
rc=0
echo "+ xdp-loader load -m native -p $pins $dev oak_xdp.bpf.o -n oak_xdp_decap"
in_ns xdp-loader load -m native -p "$pins" -n oak_xdp_decap $dev "$obj" 2>&1 || rc=1
echo "+ xdp-loader load -m native $dev xdp_pass.bpf.o"
in_ns xdp-loader load -m native $dev "$tmp/xdp_pass.bpf.o" 2>&1 || rc=1
echo "+ xdp-loader status $dev"
status=$(in_ns xdp-loader status $dev 2>&1)
echo "$status"

echo "+ ls $pins"
ls "$pins" | tr '\n' ' '
echo
[ -e "$pins/oak_cfg_v1" ] || { echo "xdp_multiprog: oak's maps are not pinned under $pins"; rc=1; }

if [ $rc -eq 0 ] && echo "$status" | grep -q xdp_dispatcher &&
	echo "$status" | grep -q oak_xdp_decap && echo "$status" | grep -q vmtest_xdp_pass; then
	echo "xdp_multiprog: PASS: oak_xdp_decap and vmtest_xdp_pass run under libxdp's dispatcher"
	exit 0
fi
echo "xdp_multiprog: FAIL: the two programs do not share $dev through the dispatcher"
exit 1
