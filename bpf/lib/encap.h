/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The site-to-site tunnel: the inner IPv4 packet as the payload of a UDP
 * datagram to port 50103 of the peer node (Oakestra's wire format, no extra
 * header). GSO packets stay whole: bpf_skb_adjust_room marks them as UDP
 * tunnel GSO and the kernel segments them at the last moment, if at all.
 */
#ifndef OAK_BPF_ENCAP_H
#define OAK_BPF_ENCAP_H

#include "maps.h"
#include "fib.h"

/*
 * BPF_F_ADJ_ROOM_DECAP_L3_IPV4 (Linux 6.3) clears the tunnel GSO state on
 * decapsulation. The loader clears it on kernels that refuse the flag.
 */
const volatile __u64 oak_decap_flags = BPF_F_ADJ_ROOM_DECAP_L3_IPV4;

_Static_assert(sizeof(struct iphdr) == 20, "iphdr");

struct outer_hdr {
	struct iphdr ip;
	struct udphdr udp;
} __attribute__((aligned(4)));

/* The checksum of a 20-byte IPv4 header whose check field is 0. */
static __always_inline __u16 ip_csum(const struct iphdr *ip)
{
	const __u16 *w = (const __u16 *)ip;
	__u64 s = 0;
	int i;

#pragma unroll
	for (i = 0; i < 10; i++)
		s += w[i];
	return csum_fold(s);
}

/*
 * Wrap the packet for node_ip and hand it to the uplink. Returns a TC action;
 * counters are bumped here.
 */
static __always_inline int encap_and_send(struct __sk_buff *skb, const struct oak_cfg *cfg,
					  __be32 node_ip, __u8 tos)
{
	struct outer_hdr h = {}, *o;
	__u32 inner_len, hash;
	__u64 flags = BPF_F_ADJ_ROOM_ENCAP_L3_IPV4 | BPF_F_ADJ_ROOM_ENCAP_L4_UDP;
	void *data, *data_end;

	inner_len = skb->len - ETH_HLEN;
	/* the socket's flow hash travels with the skb; recomputed only if absent */
	hash = skb->hash;
	if (!hash)
		hash = bpf_get_hash_recalc(skb);

	if (bpf_skb_adjust_room(skb, OAK_TUNNEL_OVERHEAD, BPF_ADJ_ROOM_MAC, flags)) {
		stat_inc(OAK_STAT_DROP);
		return TC_ACT_SHOT;
	}

	h.ip.version = 4;
	h.ip.ihl = 5;
	h.ip.tos = tos;
	h.ip.tot_len = bpf_htons(inner_len + OAK_TUNNEL_OVERHEAD);
	h.ip.frag_off = bpf_htons(IP_DF);
	h.ip.ttl = 64;
	h.ip.protocol = IPPROTO_UDP;
	h.ip.saddr = cfg->node_ip;
	h.ip.daddr = node_ip;
	h.ip.check = ip_csum(&h.ip);
	/* source port from the flow hash, so the underlay spreads flows (RSS/ECMP) */
	h.udp.source = bpf_htons(49152 | (hash & 0x3fff));
	h.udp.dest = bpf_htons(OAK_TUNNEL_PORT);
	h.udp.len = bpf_htons(inner_len + sizeof(struct udphdr));
	h.udp.check = 0; /* allowed for IPv4; the inner packet carries its own */

	/* the room made is linear: written by direct packet access */
	data = (void *)(long)skb->data;
	data_end = (void *)(long)skb->data_end;
	o = data + ETH_HLEN;
	if ((void *)(o + 1) > data_end) {
		stat_inc(OAK_STAT_DROP);
		return TC_ACT_SHOT;
	}
	__builtin_memcpy(o, &h, sizeof(h));

	return fib_send(skb, cfg, node_ip, OAK_STAT_ENCAP);
}

/* Is this an oak tunnel datagram for this node? (checked on the uplink) */
static __always_inline bool is_tunnel(void *data, void *data_end, __u32 frame_len,
				      const struct oak_cfg *cfg)
{
	struct ethhdr *eth = data;
	struct iphdr *ip = data + ETH_HLEN;
	struct udphdr *uh = data + L4_OFF;
	__u8 *inner = data + L4_OFF + sizeof(struct udphdr);
	__u32 tot;

	if ((void *)(inner + 1) > data_end)
		return false;
	if (eth->h_proto != bpf_htons(ETH_P_IP) || ip->version != 4 || ip->ihl != 5 ||
	    ip->protocol != IPPROTO_UDP || ip->daddr != cfg->node_ip ||
	    (ip->frag_off & bpf_htons(IP_MF | IP_OFFSET)))
		return false;
	if (uh->dest != bpf_htons(OAK_TUNNEL_PORT))
		return false;
	/* lengths as encap_and_send() writes them, within the frame */
	tot = bpf_ntohs(ip->tot_len);
	if (tot < OAK_TUNNEL_OVERHEAD + sizeof(struct iphdr) || tot + ETH_HLEN > frame_len ||
	    bpf_ntohs(uh->len) != tot - sizeof(struct iphdr))
		return false;
	return (*inner >> 4) == 4;
}

#endif
