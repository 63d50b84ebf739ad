// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * The floor of tools/bench/datapath.sh: a tc program that does nothing, run
 * on the same packets as oak's, so its bpf_stats ns per packet is what any
 * tc program costs here (the hook, the stats accounting itself).
 */
#include <linux/bpf.h>
#include <linux/pkt_cls.h>

__attribute__((section("tc"), used)) int oak_floor(struct __sk_buff *skb)
{
	return TC_ACT_OK;
}

char LICENSE[] __attribute__((section("license"), used)) = "Dual BSD/GPL";
