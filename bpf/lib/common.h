/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Types, constants and helper declarations every oak BPF program uses. */
#ifndef OAK_BPF_COMMON_H
#define OAK_BPF_COMMON_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include <oak/datapath.h>

/* vmlinux.h carries types, not #defines. */
#define TC_ACT_OK	0
#define TC_ACT_SHOT	2
#define TC_ACT_REDIRECT 7

#define ETH_HLEN	  14
#define ETH_ALEN	  6
#define ETH_P_IP	  0x0800
#define IPPROTO_ICMP	  1
#define IPPROTO_TCP	  6
#define IPPROTO_UDP	  17
#define IP_DF		  0x4000
#define IP_MF		  0x2000
#define IP_OFFSET	  0x1fff
#define ICMP_ECHOREPLY	  0
#define ICMP_DEST_UNREACH 3
#define ICMP_FRAG_NEEDED  4
#define ICMP_ECHO	  8
#define AF_INET		  2

#define IP_OFF	     ETH_HLEN
#define IP_CSUM_OFF  (ETH_HLEN + offsetof(struct iphdr, check))
#define IP_SADDR_OFF (ETH_HLEN + offsetof(struct iphdr, saddr))
#define IP_DADDR_OFF (ETH_HLEN + offsetof(struct iphdr, daddr))
#define L4_OFF	     (ETH_HLEN + sizeof(struct iphdr))
#define L4_SPORT_OFF L4_OFF	  /* TCP and UDP alike */
#define L4_DPORT_OFF (L4_OFF + 2) /* TCP and UDP alike */

#ifndef likely
#define likely(x)   __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)
#endif

/* Fold a one's-complement sum (< 2^48) to 16 bits and invert it: a checksum. */
static __always_inline __u16 csum_fold(__u64 csum)
{
	csum = (csum & 0xffff) + (csum >> 16);
	csum = (csum & 0xffff) + (csum >> 16);
	csum = (csum & 0xffff) + (csum >> 16);
	return ~csum;
}

/* Negative drop reasons, positive verdicts: callers branch once. */
#define OAK_OK 0

#endif
