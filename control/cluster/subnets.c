/* oak-cluster's node subnets: /26 blocks of 10.18.0.0/16, handed out by
 * the root so that they are unique across the federation. For a node that
 * needs one the cluster publishes clusters/<cid>/net/subnet/request (with
 * the subnet the node holds, which the root keeps when it can) and hands the
 * root's clusters/<cid>/net/subnet to the node (nodes/<id>/net/subnet,
 * retained). A subnet the root gave is kept across re-registrations and
 * restarts without asking again.
 *
 * While no root is connected, or when none answers within subnet_timeout,
 * the node gets a /26 of subnet_block instead (the local block, as a
 * standalone cluster has it), and the root is asked to confirm that one as
 * soon as it is there: a later answer replaces it. With subnet_block set
 * explicitly (a standalone cluster, tests) only the local block is used. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parts.h"
#include "oak/daemon.h"
#include "oak/log.h"

static void send_subnet(struct ocl *o, struct ocl_node *n)
{
	struct oak_msg_subnet m = {0};

	snprintf(m.node_id, sizeof(m.node_id), "%s", n->id);
	snprintf(m.cluster_id, sizeof(m.cluster_id), "%s", o->c.id);
	snprintf(m.subnet, sizeof(m.subnet), "%s", n->subnet);
	ocl_pub_node(o, n->id, OAK_T_SUBNET, oak_msg_subnet_encode(&m), true);
}

/* A /26 of the local block: the node's own slot, else the one it holds
 * when free, else the lowest free one. */
static void local_assign(struct ocl *o, struct ocl_node *n)
{
	char sub[OAK_CIDR_LEN];

	if (ocl_subnet_assign(&o->c.subnets, n->id, n->subnet_held, sub)) {
		oak_log(ERROR, "node %s: subnet block %s is full", n->id,
			oak_config_str(o->cfg, "subnet_block"));
		return;
	}
	if (strcmp(sub, n->subnet))
		oak_log(INFO, "node %s: subnet %s", n->id, sub);
	snprintf(n->subnet, sizeof(n->subnet), "%s", sub);
	n->subnet_from_root = false;
	send_subnet(o, n);
}

static void ask_root(struct ocl *o, struct ocl_node *n, const char *previous)
{
	struct oak_msg_subnet_request r = {0};

	snprintf(r.cluster_id, sizeof(r.cluster_id), "%s", o->c.id);
	snprintf(r.node_id, sizeof(r.node_id), "%s", n->id);
	if (ocl_subnet_valid(previous))
		snprintf(r.previous, sizeof(r.previous), "%s", previous);
	oak_log(INFO, "node %s: subnet asked of the root (previous %s)", n->id,
		r.previous[0] ? r.previous : "-");
	ocl_pub_root(o, OAK_T_SUBNET_REQUEST, oak_msg_subnet_request_encode(&r), false);
	n->subnet_asked_ms = oak_mono_ms();
}

static bool root_up(const struct ocl *o)
{
	return oak_bus_state(o->rbus) == OAK_BUS_CONNECTED;
}

void ocl_subnet_for_node(struct ocl *o, struct ocl_node *n, const char *held)
{
	int64_t now = oak_mono_ms();

	snprintf(n->subnet_held, sizeof(n->subnet_held), "%s", held ? held : "");
	if (o->subnets_local) {
		local_assign(o, n);
		return;
	}
	if (n->subnet[0] && n->subnet_from_root) {
		send_subnet(o, n);
		return;
	}
	if (root_up(o) && (!n->subnet_asked_ms || now - n->subnet_asked_ms >= o->subnet_timeout_ms))
		ask_root(o, n, n->subnet[0] ? n->subnet : held);
	/* a subnet of the block meanwhile: the one it had, or at once when
	 * there is no root to ask; else it waits (ocl_subnets_tick) */
	if (n->subnet[0] || !root_up(o))
		local_assign(o, n);
}

void ocl_subnets_tick(struct ocl *o, int64_t now)
{
	if (o->subnets_local)
		return;
	for (size_t i = 0; i < o->c.n_nodes; i++) {
		struct ocl_node *n = &o->c.nodes[i];

		if (!n->subnet_asked_ms || n->subnet[0] || n->state != OCL_NODE_ACTIVE ||
		    now - n->subnet_asked_ms < o->subnet_timeout_ms)
			continue;
		oak_log(WARN, "node %s: no subnet from the root within %.1f s: one of %s meanwhile",
			n->id, (double)o->subnet_timeout_ms / 1000.0,
			oak_config_str(o->cfg, "subnet_block"));
		local_assign(o, n);
		o->dirty = true;
		o->placements_pending = true;
	}
}

void ocl_subnets_root_up(struct ocl *o)
{
	if (o->subnets_local)
		return;
	for (size_t i = 0; i < o->c.n_nodes; i++) {
		struct ocl_node *n = &o->c.nodes[i];

		if (n->state != OCL_NODE_ACTIVE || (n->subnet[0] && n->subnet_from_root))
			continue;
		if (n->subnet[0] || n->subnet_asked_ms) /* to confirm, or asked while away */
			ask_root(o, n, n->subnet[0] ? n->subnet : n->subnet_held);
	}
}

/* the root's answer to a subnet/request (or its own decision) */
void ocl_on_root_subnet(struct oak_bus *bus, const char *topic, const void *p, size_t len,
			void *arg)
{
	struct ocl *o = arg;
	struct oak_msg_subnet m = {0};
	struct ocl_node *n;
	const char *owner;
	char err[256];

	if (o->subnets_local) {
		oak_log(INFO, "%s: the node subnet block is configured (subnet_block); ignored",
			topic);
		return;
	}
	if (oak_msg_subnet_decode(p, len, &m, err, sizeof(err))) {
		oak_log(WARN, "%s: rejected: %s", topic, err);
		return;
	}
	n = ocl_node_find(&o->c, m.node_id);
	if (!ocl_subnet_valid(m.subnet)) {
		oak_log(WARN, "%s: subnet: '%s' is not a /26 of 10.18.0.0/16; ignored", topic,
			m.subnet);
	} else if (m.cluster_id[0] && strcmp(m.cluster_id, o->c.id)) {
		oak_log(WARN, "%s: cluster_id: '%s' is not this cluster; ignored", topic,
			m.cluster_id);
	} else if (!n) {
		oak_log(WARN, "%s: node_id: no node '%s' here; ignored", topic, m.node_id);
	} else {
		if (strcmp(n->subnet, m.subnet))
			oak_log(INFO, "node %s: subnet %s (from the root)", n->id, m.subnet);
		/* the block's slot follows, so that it is never handed out twice */
		ocl_subnet_release(&o->c.subnets, n->id);
		owner = ocl_subnet_owner(&o->c.subnets, m.subnet);
		if (owner) { /* that node's block subnet is n's: it needs another */
			struct ocl_node *y = ocl_node_find(&o->c, owner);

			oak_log(WARN,
				"node %s: the root's subnet %s is held here by node %s (from %s)",
				n->id, m.subnet, owner, oak_config_str(o->cfg, "subnet_block"));
			if (y && !y->subnet_from_root)
				ask_root(o, y, NULL);
		} else {
			ocl_subnet_claim(&o->c.subnets, n->id, m.subnet); /* no-op outside */
		}
		snprintf(n->subnet, sizeof(n->subnet), "%s", m.subnet);
		n->subnet_from_root = true;
		n->subnet_asked_ms = 0;
		o->dirty = true;
		o->placements_pending = true;
		send_subnet(o, n);
	}
	oak_msg_subnet_free(&m);
}
