// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * XDP on a node's uplink when it is a physical NIC with native XDP: tunnel
 * datagrams lose their outer headers before any skb exists. The inner packet
 * then reaches oak_from_uplink at tc ingress, which delivers it.
 *
 * Not used on veth uplinks: native XDP on a veth turns off GSO on its peer
 * (13.3 -> 3.6 Gbit/s measured here), so there tc ingress decapsulates.
 */
#include "lib/common.h"
#include "lib/maps.h"
#include "lib/encap.h"
#include <xdp/xdp_helpers.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

struct {
	__uint(priority, 20);
	__uint(XDP_PASS, 1);
} XDP_RUN_CONFIG(oak_xdp_decap);

SEC("xdp")
int oak_xdp_decap(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data, *data_end = (void *)(long)ctx->data_end;
	struct oak_cfg *cfg = cfg_get();
	struct ethhdr eth;

	if (!cfg || !is_tunnel(data, data_end, (__u32)(data_end - data), cfg))
		return XDP_PASS;
	__builtin_memcpy(&eth, data, sizeof(eth));
	if (bpf_xdp_adjust_head(ctx, OAK_TUNNEL_OVERHEAD)) {
		stat_inc(OAK_STAT_DROP);
		return XDP_DROP;
	}
	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	if (data + sizeof(eth) > data_end) {
		stat_inc(OAK_STAT_DROP);
		return XDP_DROP;
	}
	__builtin_memcpy(data, &eth, sizeof(eth));
	stat_inc(OAK_STAT_DECAP_XDP);
	return XDP_PASS;
}
