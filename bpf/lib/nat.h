/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Address rewrites with incremental IP and L4 checksum updates. */
#ifndef OAK_BPF_NAT_H
#define OAK_BPF_NAT_H

#include "parse.h"

/* Rewrite the address at off (IP_SADDR_OFF or IP_DADDR_OFF) from old to new. */
static __always_inline int nat_rewrite(struct __sk_buff *skb, const struct pkt *p, __u32 off,
				       __be32 old, __be32 new)
{
	if (old == new)
		return 0;
	if (p->l4_csum_off && bpf_l4_csum_replace(skb, p->l4_csum_off, old, new,
						  BPF_F_PSEUDO_HDR | sizeof(new) | p->l4_flags))
		return -1;
	if (bpf_l3_csum_replace(skb, IP_CSUM_OFF, old, new, sizeof(new)))
		return -1;
	return bpf_skb_store_bytes(skb, off, &new, sizeof(new), 0);
}

/* Rewrite the TCP/UDP port at off (L4_SPORT_OFF or L4_DPORT_OFF) from old to new. */
static __always_inline int nat_rewrite_port(struct __sk_buff *skb, const struct pkt *p, __u32 off,
					    __be16 old, __be16 new)
{
	if (old == new)
		return 0;
	if (bpf_l4_csum_replace(skb, p->l4_csum_off, old, new, sizeof(new) | p->l4_flags))
		return -1;
	return bpf_skb_store_bytes(skb, off, &new, sizeof(new), 0);
}

static __always_inline int set_macs(struct __sk_buff *skb, const __u8 *dst, const __u8 *src)
{
	if (bpf_skb_store_bytes(skb, 0, dst, ETH_ALEN, 0))
		return -1;
	return bpf_skb_store_bytes(skb, ETH_ALEN, src, ETH_ALEN, 0);
}

#endif
