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
	return bpf_map_lookup_elem(&oak_svc_v2, &addr);
}

/*
 * The first live backend from the turn on: the slots of the group (all
 * backends for round-robin, the lowest-latency ties for closest) in turn
 * order, then, for closest, the remaining slots in latency order. A backend
 * whose oak_inst_v1 entry is gone (the agent has not rewritten the slots yet)
 * is skipped; in the steady state the first probe finds a live one.
 *
 * A global function: the verifier checks the loop once, on its own, instead of
 * once per path of the caller.
 */
__noinline __be32 lb_probe(__be32 svc_addr, __u32 turn, __u32 n, __u32 count)
{
	struct oak_backend_key key = {.addr = svc_addr};
	struct oak_svc_backend *v;
	__be32 addr;
	__u32 i;

	if (n == 0)
		return 0;
	for (i = 0; i < OAK_MAX_BACKENDS; i++) {
		__u32 slot = i < n ? ((turn + i) % n) + 1 : i + 1;

		if (i >= count)
			break;
		key.slot = slot;
		v = bpf_map_lookup_elem(&oak_backend_v1, &key);
		if (!v)
			continue;
		addr = v->inst_ip;
		if (bpf_map_lookup_elem(&oak_inst_v1, &addr))
			return addr;
	}
	return 0;
}

/* Returns the chosen backend's Instance IP, or 0 when none is live. */
static __always_inline __be32 lb_pick(__be32 svc_addr, struct oak_svc_meta *meta)
{
	__u32 count = meta->count, n = count, turn;

	if (meta->policy == OAK_POLICY_CLOSEST && meta->closest_count &&
	    meta->closest_count < count)
		n = meta->closest_count;
	if (n == 0)
		return 0;
	turn = __sync_fetch_and_add(&meta->rr_next, 1);
	return lb_probe(svc_addr, turn, n, count);
}

#endif
