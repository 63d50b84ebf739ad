/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Packet parsing with bounds checks. oak translates only plain IPv4 headers
 * (IHL 5, no fragments, a tot_len that covers the headers and fits the frame): anything else to a
 * Service IP is left to the kernel and counted, never rewritten on a guess.
 */
#ifndef OAK_BPF_PARSE_H
#define OAK_BPF_PARSE_H

#include "common.h"

enum {
	PARSE_OK = 0,
	PARSE_NOT_IPV4 = -1,  /* not IPv4 at all: not oak's */
	PARSE_MALFORMED = -2, /* truncated, bad version or IHL, options */
	PARSE_FRAGMENT = -3,
	PARSE_L4_OTHER = -4, /* protocol oak does not translate */
	PARSE_NOT_SVC = -5,  /* not for the service network: not oak's */
};

/* The flow a packet belongs to, as seen at the IP layer (network order). */
struct pkt {
	__be32 saddr;
	__be32 daddr;
	__be16 sport; /* ICMP echo: identifier */
	__be16 dport; /* ICMP echo: identifier */
	__u8 proto;
	__u8 tos;
	__u16 l4_csum_off; /* 0: no L4 checksum covers the addresses */
	__u16 ip_len;	   /* tot_len from the header (host order) */
	__u16 frag_off;	   /* host order */
	__u8 l4_flags;	   /* extra flags for bpf_l4_csum_replace */
	__u8 pad;
};

/* Ethernet + the fixed IPv4 header; the caller checks the destination first. */
static __always_inline int parse_l3(void *data, void *data_end, struct pkt *p)
{
	struct ethhdr *eth = data;
	struct iphdr *ip = data + ETH_HLEN;

	if ((void *)(eth + 1) > data_end)
		return PARSE_MALFORMED;
	if (eth->h_proto != bpf_htons(ETH_P_IP))
		return PARSE_NOT_IPV4;
	if ((void *)(ip + 1) > data_end)
		return PARSE_MALFORMED;
	p->saddr = ip->saddr;
	p->daddr = ip->daddr;
	p->proto = ip->protocol;
	p->tos = ip->tos;
	p->ip_len = bpf_ntohs(ip->tot_len);
	p->frag_off = bpf_ntohs(ip->frag_off);
	if (ip->version != 4 || ip->ihl != 5)
		return PARSE_MALFORMED;
	return PARSE_OK;
}

/* Whether tot_len covers the IP header and an L4 header of l4 bytes and
 * fits in the frame (frame_len: skb->len, the whole packet): a packet that
 * lies about its length is not rewritten. */
static __always_inline bool ip_len_ok(const struct pkt *p, __u32 frame_len, __u32 l4)
{
	return p->ip_len >= sizeof(struct iphdr) + l4 && (__u32)p->ip_len + ETH_HLEN <= frame_len;
}

/* Ports (or the echo identifier) of a packet parse_l3 accepted. */
static __always_inline int parse_l4(void *data, void *data_end, __u32 frame_len, struct pkt *p)
{
	void *l4 = data + L4_OFF;

	if (p->frag_off & (IP_MF | IP_OFFSET))
		return PARSE_FRAGMENT;
	if (!ip_len_ok(p, frame_len, 0))
		return PARSE_MALFORMED;
	switch (p->proto) {
	case IPPROTO_TCP: {
		struct tcphdr *th = l4;

		if ((void *)(th + 1) > data_end || !ip_len_ok(p, frame_len, sizeof(*th)))
			return PARSE_MALFORMED;
		p->sport = th->source;
		p->dport = th->dest;
		p->l4_csum_off = L4_OFF + offsetof(struct tcphdr, check);
		p->l4_flags = 0;
		return PARSE_OK;
	}
	case IPPROTO_UDP: {
		struct udphdr *uh = l4;

		if ((void *)(uh + 1) > data_end || !ip_len_ok(p, frame_len, sizeof(*uh)))
			return PARSE_MALFORMED;
		p->sport = uh->source;
		p->dport = uh->dest;
		p->l4_csum_off = L4_OFF + offsetof(struct udphdr, check);
		p->l4_flags = BPF_F_MARK_MANGLED_0;
		return PARSE_OK;
	}
	case IPPROTO_ICMP: {
		struct icmphdr *ih = l4;

		if ((void *)(ih + 1) > data_end || !ip_len_ok(p, frame_len, sizeof(*ih)))
			return PARSE_MALFORMED;
		if (ih->type != ICMP_ECHO && ih->type != ICMP_ECHOREPLY)
			return PARSE_L4_OTHER;
		p->sport = ih->un.echo.id;
		p->dport = ih->un.echo.id;
		p->l4_csum_off = 0; /* the ICMP checksum has no pseudo-header */
		return PARSE_OK;
	}
	}
	return PARSE_L4_OTHER;
}

static __always_inline bool in_svc_net(const struct oak_cfg *cfg, __be32 addr)
{
	return (addr & cfg->svc_mask) == cfg->svc_net;
}

#endif
