/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Port exposure: an SLA's "port" ("6080:60/tcp") makes an instance reachable
 * on its node's underlay address, as Oakestra does with iptables, here on the
 * uplink. A TCP or UDP packet from the uplink to node_ip:host_port goes into
 * the instance with its namespace address and container port as destination;
 * the instance's replies get node_ip:host_port back as their source and leave
 * through the uplink.
 *
 * Invariants:
 *  - The forward direction is stateless (oak_port_v1 is looked up for every
 *    packet): once a mapping is removed, nothing more comes in through it.
 *  - Only a reply that matches an OAK_CT_PORT entry the forward direction
 *    made is rewritten; everything else an instance sends outside the
 *    service network is the kernel's, as before.
 *  - With no port exposed (cfg->ports == 0) the programs never get here.
 */
#ifndef OAK_BPF_PORT_H
#define OAK_BPF_PORT_H

#include "maps.h"
#include "parse.h"
#include "nat.h"
#include "ct.h"
#include "fib.h"

/* A plain IPv4 TCP or UDP packet, or not ours (never rewritten on a guess). */
static __always_inline int port_parse(void *data, void *data_end, __u32 frame_len, struct pkt *p)
{
	int rc = parse_l3(data, data_end, p);

	if (rc)
		return rc;
	if (p->proto != IPPROTO_TCP && p->proto != IPPROTO_UDP)
		return PARSE_L4_OTHER;
	return parse_l4(data, data_end, frame_len, p);
}

static __always_inline int port_pass(void)
{
	stat_inc(OAK_STAT_PASS);
	return TC_ACT_OK;
}

static __always_inline int port_drop(__u32 reason)
{
	stat_inc(reason);
	return TC_ACT_SHOT;
}

/* The reply entry of a flow to an exposed port; written once per flow. */
static __always_inline void port_ct_ensure(__be32 inst_ip, const struct pkt *p, __be16 cport)
{
	struct oak_ct_key k;
	struct oak_ct_val v = {};

	ct_key(&k, inst_ip, p->saddr, cport, p->sport, p->proto, OAK_CT_PORT);
	if (bpf_map_lookup_elem(&oak_ct_v1, &k))
		return;
	v.addr = p->daddr;
	v.port = p->dport;
	v.last_seen_ns = bpf_ktime_get_ns();
	bpf_map_update_elem(&oak_ct_v1, &k, &v, BPF_ANY);
}

/* oak_from_uplink: a packet to the node's own address, maybe to an exposed port. */
static __always_inline int port_dnat(struct __sk_buff *skb, const struct oak_cfg *cfg)
{
	void *data = (void *)(long)skb->data, *data_end = (void *)(long)skb->data_end;
	struct oak_port_key key = {};
	struct oak_port_val *pv;
	struct oak_inst *dst;
	struct pkt p = {};
	__u8 mac[ETH_ALEN], host_mac[ETH_ALEN];
	__be32 inst_ip, ns_ip;
	__be16 cport;
	__u32 ifindex;

	if (port_parse(data, data_end, skb->len, &p) || p.daddr != cfg->node_ip)
		return port_pass();
	key.port = p.dport;
	key.proto = p.proto;
	pv = bpf_map_lookup_elem(&oak_port_v1, &key);
	if (!pv)
		return port_pass();
	inst_ip = pv->inst_ip;
	cport = pv->port;
	dst = bpf_map_lookup_elem(&oak_inst_v1, &inst_ip);
	if (!dst || !(dst->flags & OAK_INST_F_LOCAL))
		return port_drop(OAK_STAT_PORT_NO_INST);
	ifindex = dst->ifindex;
	ns_ip = dst->ns_ip;
	__builtin_memcpy(mac, dst->mac, ETH_ALEN);
	__builtin_memcpy(host_mac, dst->host_mac, ETH_ALEN);

	port_ct_ensure(inst_ip, &p, cport);
	if (nat_rewrite_addrs(skb, &p, p.saddr, ns_ip) ||
	    nat_rewrite_port(skb, &p, L4_DPORT_OFF, p.dport, cport) || set_macs(skb, mac, host_mac))
		return port_drop(OAK_STAT_DROP);
	stat_inc(OAK_STAT_PORT_DNAT);
	return bpf_redirect_peer(ifindex, 0);
}

/* oak_from_inst: a packet to outside the service network, maybe a reply. */
static __always_inline int port_reply(struct __sk_buff *skb, const struct oak_cfg *cfg)
{
	void *data = (void *)(long)skb->data, *data_end = (void *)(long)skb->data_end;
	struct oak_local *self;
	struct oak_ct_val *v;
	struct oak_ct_key k;
	struct pkt p = {};
	__u32 ifindex = skb->ifindex;
	__be32 node_ip;
	__be16 hport;

	if (port_parse(data, data_end, skb->len, &p))
		return port_pass();
	self = bpf_map_lookup_elem(&oak_local_v1, &ifindex);
	if (!self || self->ns_ip != p.saddr)
		return port_pass();
	ct_key(&k, self->inst_ip, p.daddr, p.sport, p.dport, p.proto, OAK_CT_PORT);
	v = bpf_map_lookup_elem(&oak_ct_v1, &k);
	if (!v)
		return port_pass();
	node_ip = v->addr;
	hport = v->port;
	if (nat_rewrite_addrs(skb, &p, node_ip, p.daddr) ||
	    nat_rewrite_port(skb, &p, L4_SPORT_OFF, p.sport, hport))
		return port_drop(OAK_STAT_DROP);
	return fib_send(skb, cfg, p.daddr, OAK_STAT_PORT_REPLY);
}

#endif
