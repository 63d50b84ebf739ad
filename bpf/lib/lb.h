/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Backend selection for a new flow. Round-robin takes turns across all CPUs
 * (one atomic counter per Service IP); closest takes turns among the
 * backends that share the lowest latency from this node, which the agent
 * keeps first in the slot order (see struct oak_svc_backend).
 */
#ifndef OAK_BPF_LB_H
#define OAK_BPF_LB_H

#include "maps.h"

static __always_inline struct oak_svc_meta *svc_meta(__be32 addr)
{
	struct oak_svc_key key = {.addr = addr, .slot = 0};
	struct oak_svc_val *v = bpf_map_lookup_elem(&oak_svc_v1, &key);

	return v ? &v->meta : NULL;
}

/* Returns the chosen backend's Instance IP, or 0 when none is live. */
static __always_inline __be32 lb_pick(__be32 svc_addr, struct oak_svc_meta *meta)
{
	struct oak_svc_key key = {.addr = svc_addr};
	struct oak_svc_val *v;
	__u32 n = meta->count, turn;

	if (meta->policy == OAK_POLICY_CLOSEST && meta->closest_count)
		n = meta->closest_count;
	if (n == 0)
		return 0;
	turn = __sync_fetch_and_add(&meta->rr_next, 1);
	key.slot = (turn % n) + 1;
	v = bpf_map_lookup_elem(&oak_svc_v1, &key);
	return v ? v->backend.inst_ip : 0;
}

#endif
