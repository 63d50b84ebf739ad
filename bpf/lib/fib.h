/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Leaving through the uplink: the next hop's MAC from the FIB, and
 * bpf_redirect_neigh while the kernel has no neighbour entry for it yet (the
 * first packet to a peer). Redirecting skips the IP forward path: TTLs stay as
 * they are.
 */
#ifndef OAK_BPF_FIB_H
#define OAK_BPF_FIB_H

#include "maps.h"
#include "nat.h"

/*
 * Send the packet (its IP header already final) from the node's address to
 * dst out of the uplink. Returns a TC action; counts sent, and neigh or
 * fib_fail.
 */
static __always_inline int fib_send(struct __sk_buff *skb, const struct oak_cfg *cfg, __be32 dst,
				    __u32 sent)
{
	struct bpf_fib_lookup fib = {};
	int rc;

	fib.family = AF_INET;
	fib.ipv4_src = cfg->node_ip;
	fib.ipv4_dst = dst;
	fib.ifindex = cfg->uplink_ifindex;
	/* tot_len stays 0: a GSO packet's length is not what goes on the wire */
	rc = bpf_fib_lookup(skb, &fib, sizeof(fib), BPF_FIB_LOOKUP_OUTPUT);
	if (rc == BPF_FIB_LKUP_RET_SUCCESS) {
		if (set_macs(skb, fib.dmac, fib.smac)) {
			stat_inc(OAK_STAT_DROP);
			return TC_ACT_SHOT;
		}
		stat_inc(sent);
		return bpf_redirect(fib.ifindex, 0);
	}
	if (rc == BPF_FIB_LKUP_RET_NO_NEIGH) {
		/* first packet to this next hop: let the kernel resolve it */
		stat_inc(sent);
		stat_inc(OAK_STAT_NEIGH);
		return bpf_redirect_neigh(fib.ifindex, NULL, 0, 0);
	}
	stat_inc(OAK_STAT_FIB_FAIL);
	return TC_ACT_SHOT;
}

#endif
