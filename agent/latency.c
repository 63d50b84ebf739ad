// SPDX-License-Identifier: MIT
/*
 * Latency preferences from probes: this node probes the peer nodes that
 * host instances of the services it uses (probe.c) and writes, per closest
 * IP, each backend's latency from here: local ones first, remote ones by
 * probed RTT in steps of probe_resolution_us with hysteresis, so that
 * jitter does not churn the maps.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <oak/log.h>

#include "node.h"

#define LOCAL_LATENCY_US 1 /* a local backend ranks before any remote one */

/* This node's latency to one backend of it: LOCAL_LATENCY_US for a local
 * instance, the probed RTT to a remote one's node, 0 when unknown. *keep is
 * set when there is nothing to say yet (the peer not probed since this agent
 * started, or probing off): what the kernel holds then stays. */
static uint32_t backend_latency(struct oak_node *n, const struct oak_interest *it, uint32_t ip,
				bool *keep)
{
	enum oak_peer_state st = OAK_PEER_UNKNOWN;
	uint32_t node_ip = 0, rtt;

	*keep = false;
	if (instance_by_ip(n, ip))
		return LOCAL_LATENCY_US;
	for (size_t k = 0; k < it->n_inst && !node_ip; k++)
		if (it->inst[k].inst_ip == ip)
			node_ip = it->inst[k].node_ip;
	if (!n->probe) {
		*keep = true;
		return 0;
	}
	if (!node_ip)
		return 0;
	rtt = oak_probe_rtt_us(n->probe, node_ip, &st);
	*keep = st == OAK_PEER_UNKNOWN;
	return rtt;
}

/* The latency to write for one backend given what the kernel holds (cur,
 * 0 = none): local 1, remote the probed RTT rounded up to the resolution
 * with hysteresis (oak_probe_latency_next), cur while not measured yet. */
static uint32_t next_latency(struct oak_node *n, const struct oak_interest *it, uint32_t ip,
			     uint32_t cur)
{
	bool keep;
	uint32_t raw = backend_latency(n, it, ip, &keep);

	if (instance_by_ip(n, ip))
		return LOCAL_LATENCY_US;
	if (keep)
		return cur;
	return oak_probe_latency_next(cur, raw,
				      (uint32_t)oak_config_int(n->cfg, "probe_resolution_us"));
}

/* Fill the latencies of a closest IP's backends from the kernel's table. */
void fill_latencies(struct oak_node *n, const struct oak_interest *it, struct oak_svc_backend *b,
		    unsigned nb)
{
	struct oak_svc_backend cur[OAK_MAX_BACKENDS];
	struct oak_svc_meta meta;
	unsigned nc = 0;

	if (oak_dp_service_get(n->dp, it->closest_ip, &meta, cur, OAK_MAX_BACKENDS) == 0)
		nc = meta.count < OAK_MAX_BACKENDS ? meta.count : OAK_MAX_BACKENDS;
	for (unsigned j = 0; j < nb; j++) {
		uint32_t old = 0;

		for (unsigned c = 0; c < nc; c++)
			if (cur[c].inst_ip == b[j].inst_ip)
				old = cur[c].latency_us;
		b[j].latency_us = next_latency(n, it, b[j].inst_ip, old);
	}
}

/* After new probe samples: rewrite a closest IP's backends (one table
 * write, sorted again by the library) only when a written latency changes;
 * the resolution and hysteresis keep jitter from churning the maps. */
static void update_latencies(struct oak_node *n)
{
	if (!n->dp || !n->probe)
		return;
	for (struct oak_interest *it = n->interests; it; it = it->next) {
		struct oak_svc_backend cur[OAK_MAX_BACKENDS], nw[OAK_MAX_BACKENDS];
		struct oak_svc_meta meta;
		char a[INET_ADDRSTRLEN], list[512];
		bool change = false;
		size_t off = 0;
		unsigned nb;
		int err;

		if (!it->closest_ip ||
		    oak_dp_service_get(n->dp, it->closest_ip, &meta, cur, OAK_MAX_BACKENDS))
			continue;
		nb = meta.count < OAK_MAX_BACKENDS ? meta.count : OAK_MAX_BACKENDS;
		memcpy(nw, cur, nb * sizeof(*nw));
		for (unsigned i = 0; i < nb; i++) {
			nw[i].latency_us = next_latency(n, it, nw[i].inst_ip, cur[i].latency_us);
			change |= nw[i].latency_us != cur[i].latency_us;
		}
		if (!change)
			continue;
		err = oak_dp_service_set(n->dp, it->closest_ip, (enum oak_policy)meta.policy,
					 meta.svc_id, nw, nb);
		for (unsigned i = 0; i < nb && off < sizeof(list); i++)
			off += (size_t)snprintf(list + off, sizeof(list) - off, " %s=%uus",
						ipstr(nw[i].inst_ip, a), nw[i].latency_us);
		if (err)
			oak_log(WARN, "datapath: closest %s: latencies: %s",
				ipstr(it->closest_ip, a), strerror(-err));
		else
			oak_log(INFO, "closest %s: latencies%s", ipstr(it->closest_ip, a),
				nb ? list : " (no backends)");
	}
}

/* every second: probe the nodes that host instances of the services this
 * node uses */
void probe_tick(struct oak_node *n)
{
	int64_t now = oak_mono_ms();
	char a[INET_ADDRSTRLEN];
	enum oak_peer_state st;
	uint32_t ip, rtt;

	if (!n->probe)
		return;
	oak_probe_want_begin(n->probe);
	for (struct oak_interest *it = n->interests; it; it = it->next)
		for (size_t k = 0; k < it->n_inst; k++)
			if (instance_state_live(it->inst[k].state) &&
			    strcmp(it->inst[k].node_id, n->id))
				oak_probe_want(n->probe, it->inst[k].node_ip);
	oak_probe_want_end(n->probe);
	oak_probe_send_due(n->probe, now, oak_config_int(n->cfg, "probe_interval") * 1000);
	update_latencies(n); /* a peer may have gone silent */
	if (now - n->last_peer_log_ms < 10000)
		return;
	n->last_peer_log_ms = now;
	for (size_t i = 0; oak_probe_peer_at(n->probe, i, &ip, &rtt, &st); i++)
		oak_log(DEBUG, "probe: peer %s rtt %u us%s", ipstr(ip, a), rtt,
			st == OAK_PEER_LOST	 ? " (lost)"
			: st == OAK_PEER_UNKNOWN ? " (not yet measured)"
						 : "");
}

/* replies and requests from peers */
static void on_probe(struct oak_loop *l, int fd, unsigned events, void *arg)
{
	struct oak_node *n = arg;

	if (oak_probe_recv(n->probe) > 0)
		update_latencies(n);
}

/* the probe socket on node_ip:OAK_PROBE_PORT, when probe_interval is on */
void latency_start(struct oak_node *n)
{
	if (oak_config_int(n->cfg, "probe_interval") <= 0)
		return;
	n->probe = oak_probe_new(n->node_ip_n, oak_instance_hash(n->id, 0));
	if (!n->probe) {
		oak_log(WARN,
			"probes: cannot bind %s:%d: %s; closest IPs rank local "
			"backends first, remote ones unmeasured",
			n->node_ip, OAK_PROBE_PORT, strerror(errno));
		return;
	}
	if (oak_loop_add_fd(n->loop, oak_probe_fd(n->probe), OAK_EV_READ, on_probe, n))
		oak_log(WARN, "probes: cannot watch the probe socket");
}
