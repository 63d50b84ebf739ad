/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * ICMP "fragmentation needed" for a packet too large for the tunnel, sent back
 * into the instance it came from, so the sender's path MTU discovery learns
 * the inner MTU instead of losing packets silently.
 */
#ifndef OAK_BPF_ICMP_H
#define OAK_BPF_ICMP_H

#include "encap.h"

struct icmp_frag {
	struct iphdr ip;
	struct icmphdr icmp;
	__u8 quote[sizeof(struct iphdr) + 8]; /* the original header and 8 bytes */
} __attribute__((aligned(4)));

/*
 * The packet is still untranslated (it carries the Service IP it was sent
 * to), so the sender's stack finds its socket from the quoted header.
 */
static __always_inline int icmp_send_frag_needed(struct __sk_buff *skb, __u16 mtu)
{
	struct icmp_frag f = {};
	__u8 macs[2 * ETH_ALEN];
	__u64 csum;

	if (bpf_skb_load_bytes(skb, 0, macs, sizeof(macs)) ||
	    bpf_skb_load_bytes(skb, ETH_HLEN, f.quote, sizeof(f.quote)))
		goto drop;
	if (bpf_skb_change_tail(skb, ETH_HLEN + sizeof(f.quote), 0) ||
	    bpf_skb_adjust_room(skb, sizeof(struct iphdr) + sizeof(struct icmphdr),
				BPF_ADJ_ROOM_MAC, 0))
		goto drop;

	f.ip.version = 4;
	f.ip.ihl = 5;
	f.ip.tot_len = bpf_htons(sizeof(f));
	f.ip.ttl = 64;
	f.ip.protocol = IPPROTO_ICMP;
	/* from the address the sender dialled, back to the sender */
	f.ip.saddr = ((struct iphdr *)f.quote)->daddr;
	f.ip.daddr = ((struct iphdr *)f.quote)->saddr;
	f.ip.check = csum_fold(bpf_csum_diff(0, 0, (__be32 *)&f.ip, sizeof(f.ip), 0));
	f.icmp.type = ICMP_DEST_UNREACH;
	f.icmp.code = ICMP_FRAG_NEEDED;
	f.icmp.un.frag.mtu = bpf_htons(mtu);
	csum = bpf_csum_diff(0, 0, (__be32 *)&f.icmp, sizeof(f.icmp) + sizeof(f.quote), 0);
	f.icmp.checksum = csum_fold(csum);

	if (bpf_skb_store_bytes(skb, ETH_HLEN, &f, sizeof(f), 0))
		goto drop;
	/* swap the MACs: back the way it came */
	if (bpf_skb_store_bytes(skb, 0, macs + ETH_ALEN, ETH_ALEN, 0) ||
	    bpf_skb_store_bytes(skb, ETH_ALEN, macs, ETH_ALEN, 0))
		goto drop;
	stat_inc(OAK_STAT_TOO_BIG);
	return bpf_redirect(skb->ifindex, 0);
drop:
	stat_inc(OAK_STAT_DROP);
	return TC_ACT_SHOT;
}

#endif
