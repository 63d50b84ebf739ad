/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/* Connection tracking of translated flows (LRU: idle flows age out). */
#ifndef OAK_BPF_CT_H
#define OAK_BPF_CT_H

#include "maps.h"
#include "parse.h"

static __always_inline void ct_key(struct oak_ct_key *k, __be32 saddr, __be32 daddr, __be16 sport,
				   __be16 dport, __u8 proto, __u8 dir)
{
	k->saddr = saddr;
	k->daddr = daddr;
	k->sport = sport;
	k->dport = dport;
	k->proto = proto;
	k->dir = dir;
	k->pad = 0;
}

/* Record a new flow client:sport -> svc:dport that goes to backend. */
static __always_inline void ct_create(__be32 client, __be32 svc, __be32 backend,
				      const struct pkt *p)
{
	struct oak_ct_key k;
	struct oak_ct_val v = {.last_seen_ns = bpf_ktime_get_ns()};

	ct_key(&k, client, svc, p->sport, p->dport, p->proto, OAK_CT_FORWARD);
	v.addr = backend;
	bpf_map_update_elem(&oak_ct_v1, &k, &v, BPF_ANY);

	ct_key(&k, backend, client, p->dport, p->sport, p->proto, OAK_CT_REVERSE);
	v.addr = svc;
	bpf_map_update_elem(&oak_ct_v1, &k, &v, BPF_ANY);
}

static __always_inline struct oak_ct_val *ct_lookup(__be32 saddr, __be32 daddr, const struct pkt *p,
						    __u8 dir)
{
	struct oak_ct_key k;

	ct_key(&k, saddr, daddr, p->sport, p->dport, p->proto, dir);
	return bpf_map_lookup_elem(&oak_ct_v1, &k);
}

#endif
