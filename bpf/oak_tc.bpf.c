// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * tc programs of a node.
 *
 * oak_from_inst  - tc ingress on the host side of every instance veth: what
 *                  an instance sends to the service network is translated
 *                  and delivered locally or through the tunnel.
 * oak_from_uplink - tc ingress on the node's uplink: tunnel datagrams lose
 *                  their outer headers and go straight into the instance;
 *                  packets to an exposed port of the node go to its instance
 *                  (lib/port.h), whose replies oak_from_inst sends back.
 *
 * Invariants:
 *  - On the wire and between nodes, oak packets carry Instance IPs only:
 *    source the sender's, destination the backend's.
 *  - All translation state lives on the node where the flow started.
 *  - A packet oak cannot parse safely is never rewritten: it is counted and
 *    left to the kernel.
 */
#include "lib/common.h"
#include "lib/maps.h"
#include "lib/parse.h"
#include "lib/nat.h"
#include "lib/lb.h"
#include "lib/ct.h"
#include "lib/encap.h"
#include "lib/icmp.h"
#include "lib/port.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

static __always_inline struct oak_inst *inst_lookup(__be32 addr)
{
	return bpf_map_lookup_elem(&oak_inst_v1, &addr);
}

/* Tell the agent about an address it has no table for; once a second at most. */
static __always_inline void report_miss(__be32 addr, __be32 src)
{
	__u64 now = bpf_ktime_get_ns();
	__u64 *last = bpf_map_lookup_elem(&oak_miss_v1, &addr);
	struct oak_event_miss *e;

	if (last && now - *last < 1000000000ULL)
		return;
	bpf_map_update_elem(&oak_miss_v1, &addr, &now, BPF_ANY);
	e = bpf_ringbuf_reserve(&oak_events_v1, sizeof(*e), 0);
	if (!e)
		return;
	e->addr = addr;
	e->src_inst = src;
	bpf_ringbuf_submit(e, 0);
}

static __always_inline int drop(__u32 reason)
{
	stat_inc(reason);
	return TC_ACT_SHOT;
}

static __always_inline int pass(__u32 reason)
{
	stat_inc(reason);
	return TC_ACT_OK;
}

/* Parse a packet for the service network; PARSE_OK only if oak may rewrite it. */
static __always_inline int parse_for_svc(void *data, void *data_end, __u32 frame_len,
					 const struct oak_cfg *cfg, struct pkt *p)
{
	int rc = parse_l3(data, data_end, p);

	if (rc == PARSE_NOT_IPV4 || !in_svc_net(cfg, p->daddr))
		return PARSE_NOT_SVC;
	if (rc)
		return rc;
	return parse_l4(data, data_end, frame_len, p);
}

/* What to do with a packet parse_for_svc() refused: always leave it be. */
static __always_inline int parse_verdict(int rc)
{
	switch (rc) {
	case PARSE_NOT_SVC:
		return pass(OAK_STAT_PASS);
	case PARSE_FRAGMENT:
		return pass(OAK_STAT_FRAGMENT);
	case PARSE_L4_OTHER:
		return pass(OAK_STAT_UNSUPPORTED);
	default:
		return pass(OAK_STAT_MALFORMED);
	}
}

/*
 * The destination is an Instance IP running here: restore the Service IP on
 * a reply, give the packet the instance's namespace address, hand it over.
 */
static __always_inline int deliver_local(struct __sk_buff *skb, struct pkt *p,
					 const struct oak_inst *dst)
{
	struct oak_ct_val *rev = ct_lookup(p->saddr, p->daddr, p, OAK_CT_REVERSE);
	__u32 ifindex = dst->ifindex;
	__be32 ns_ip = dst->ns_ip;
	__be32 saddr = p->saddr;
	__u8 mac[ETH_ALEN], host_mac[ETH_ALEN];

	__builtin_memcpy(mac, dst->mac, ETH_ALEN);
	__builtin_memcpy(host_mac, dst->host_mac, ETH_ALEN);
	if (rev) {
		saddr = rev->addr;
		stat_inc(OAK_STAT_REV_TRANSLATED);
	}
	if (nat_rewrite_addrs(skb, p, saddr, ns_ip) || set_macs(skb, mac, host_mac))
		return drop(OAK_STAT_DROP);
	stat_inc(OAK_STAT_LOCAL);
	return bpf_redirect_peer(ifindex, 0);
}

SEC("tc")
int oak_from_inst(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data, *data_end = (void *)(long)skb->data_end;
	struct oak_cfg *cfg = cfg_get();
	struct oak_svc_meta *meta;
	struct oak_ct_val *fwd;
	struct oak_local *self;
	struct oak_inst *dst = NULL;
	struct pkt p = {};
	__be32 self_ip, target;
	__u32 ifindex = skb->ifindex;
	int rc;

	if (!cfg)
		return TC_ACT_OK;
	rc = parse_for_svc(data, data_end, skb->len, cfg, &p);
	if (rc == PARSE_NOT_SVC && cfg->ports)
		return port_reply(skb, cfg);
	if (rc)
		return parse_verdict(rc);

	self = bpf_map_lookup_elem(&oak_local_v1, &ifindex);
	if (!self || self->ns_ip != p.saddr)
		return drop(OAK_STAT_SPOOFED);
	self_ip = self->inst_ip;

	/* Which instance does it go to? An established flow keeps its own. */
	target = p.daddr;
	fwd = ct_lookup(self_ip, p.daddr, &p, OAK_CT_FORWARD);
	if (fwd) {
		target = fwd->addr;
		dst = inst_lookup(target);
	}
	if (!dst) {
		meta = svc_meta(p.daddr);
		if (meta) {
			target = lb_pick(p.daddr, meta);
			dst = target ? inst_lookup(target) : NULL;
			if (!dst) {
				report_miss(p.daddr, self_ip);
				return drop(OAK_STAT_NO_BACKEND);
			}
			ct_create(self_ip, p.daddr, target, &p);
			stat_inc(fwd ? OAK_STAT_REPICK : OAK_STAT_NEW_FLOW);
		} else {
			/* an Instance IP, dialled directly or answered to */
			dst = inst_lookup(p.daddr);
			if (!dst) {
				report_miss(p.daddr, self_ip);
				return drop(OAK_STAT_NO_SERVICE);
			}
		}
	}

	if (!(dst->flags & OAK_INST_F_LOCAL) && skb->gso_size == 0 &&
	    skb->len - ETH_HLEN + OAK_TUNNEL_OVERHEAD > cfg->uplink_mtu) {
		if (p.frag_off & IP_DF)
			return icmp_send_frag_needed(skb, cfg->uplink_mtu - OAK_TUNNEL_OVERHEAD);
		return drop(OAK_STAT_TOO_BIG_NODF);
	}

	if (nat_rewrite_addrs(skb, &p, self_ip, target))
		return drop(OAK_STAT_DROP);
	if (target != p.daddr)
		stat_inc(OAK_STAT_TRANSLATED);
	p.saddr = self_ip;
	p.daddr = target;

	if (dst->flags & OAK_INST_F_LOCAL)
		return deliver_local(skb, &p, dst);
	return encap_and_send(skb, cfg, dst->node_ip, p.tos);
}

SEC("tc")
int oak_from_uplink(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data, *data_end = (void *)(long)skb->data_end;
	struct oak_cfg *cfg = cfg_get();
	struct oak_inst *dst;
	struct pkt p = {};
	int rc;

	if (!cfg)
		return TC_ACT_OK;
	if (is_tunnel(data, data_end, skb->len, cfg)) {
		if (bpf_skb_adjust_room(skb, -OAK_TUNNEL_OVERHEAD, BPF_ADJ_ROOM_MAC,
					oak_decap_flags))
			return drop(OAK_STAT_DROP);
		stat_inc(OAK_STAT_DECAP_TC);
		data = (void *)(long)skb->data;
		data_end = (void *)(long)skb->data_end;
	}

	rc = parse_for_svc(data, data_end, skb->len, cfg, &p);
	if (rc == PARSE_NOT_SVC && cfg->ports)
		return port_dnat(skb, cfg);
	if (rc)
		return parse_verdict(rc);

	dst = inst_lookup(p.daddr);
	if (!dst || !(dst->flags & OAK_INST_F_LOCAL))
		return drop(OAK_STAT_NO_SERVICE);
	return deliver_local(skb, &p, dst);
}
