/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Address and port rewrites with incremental IP and L4 checksum updates.
 *
 * Both addresses change in one step: they and the IP checksum are written
 * by direct packet access (the verifier's tc prologue unclones the skb
 * first), and the L4 checksum, which may be CHECKSUM_PARTIAL, takes one
 * bpf_l4_csum_replace of the combined difference. The live cost of the
 * six helper calls this replaced is in the commit that made it.
 */
#ifndef OAK_BPF_NAT_H
#define OAK_BPF_NAT_H

#include "parse.h"

/* The one's-complement difference of both addresses' change, 32 bits. */
static __always_inline __u32 csum_diff_addrs(const struct pkt *p, __be32 saddr, __be32 daddr)
{
	__u64 s = (__u64)(__u32)~p->saddr + saddr + (__u32)~p->daddr + daddr;

	s = (s & 0xffffffff) + (s >> 32);
	s = (s & 0xffffffff) + (s >> 32);
	return s;
}

/* Give the packet the addresses saddr -> daddr (p holds the current ones). */
static __always_inline int nat_rewrite_addrs(struct __sk_buff *skb, const struct pkt *p,
					     __be32 saddr, __be32 daddr)
{
	void *data = (void *)(long)skb->data, *data_end = (void *)(long)skb->data_end;
	struct iphdr *ip = data + ETH_HLEN;
	__u32 diff;

	if (saddr == p->saddr && daddr == p->daddr)
		return 0;
	if ((void *)(ip + 1) > data_end)
		return -1;
	diff = csum_diff_addrs(p, saddr, daddr);
	ip->saddr = saddr;
	ip->daddr = daddr;
	ip->check = csum_fold((__u16)~ip->check + (__u64)diff);
	if (p->l4_csum_off && bpf_l4_csum_replace(skb, p->l4_csum_off, 0, diff,
						  BPF_F_PSEUDO_HDR | p->l4_flags))
		return -1;
	return 0;
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

/* Ethernet addresses, by direct packet access. */
static __always_inline int set_macs(struct __sk_buff *skb, const __u8 *dst, const __u8 *src)
{
	void *data = (void *)(long)skb->data, *data_end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;

	if ((void *)(eth + 1) > data_end)
		return -1;
	__builtin_memcpy(eth->h_dest, dst, ETH_ALEN);
	__builtin_memcpy(eth->h_source, src, ETH_ALEN);
	return 0;
}

#endif
