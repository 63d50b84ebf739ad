// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * A trivial XDP program that passes every packet: the "other" program that
 * oak's XDP program must share an interface with through libxdp's
 * multi-program dispatcher (vmtest/xdp_multiprog.sh).
 */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

SEC("xdp")
int vmtest_xdp_pass(struct xdp_md *ctx)
{
	return XDP_PASS;
}
