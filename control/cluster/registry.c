/* oak-cluster's node registry: hello, status and information reports,
 * liveness from the UDP heartbeats (or report silence), node loss, and the
 * cluster's own retained status towards the nodes. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "parts.h"
#include "oak/daemon.h"
#include "oak/log.h"

struct ocl_node *ocl_node_from_topic(struct ocl *o, const char *topic, char *id)
{
	const char *suffix;
	struct ocl_node *n;

	if (oak_topic_parse(topic, "nodes", id, OAK_ID_LEN, &suffix))
		return NULL;
	n = ocl_node_get(&o->c, id, oak_mono_ms());
	if (!n)
		return NULL;
	if (ocl_node_seen(n, oak_mono_ms())) {
		oak_log(INFO, "node %s is back", n->id);
		o->dirty = true;
		o->placements_pending = true;
	}
	return n;
}

/* A node's report, usage and loss, forwarded to the root as
 * clusters/<cid>/nodes/<nid>/<suffix> for its dashboard (the root does not
 * place on nodes; it shows them) */
static void forward_up(struct ocl *o, const char *node, const char *suffix, char *payload)
{
	char s[OAK_TOPIC_LEN];

	/* what the dashboard shows now: not queued while the root is away */
	if (!o->rbus || oak_bus_state(o->rbus) != OAK_BUS_CONNECTED ||
	    (size_t)snprintf(s, sizeof(s), "nodes/%s/%s", node, suffix) >= sizeof(s)) {
		free(payload);
		return;
	}
	ocl_pub_root(o, s, payload, false);
}

/* A node is gone: fail its instances upward, place them again elsewhere,
 * and tell every interested node. */
void ocl_node_lost(struct ocl *o, struct ocl_node *n, const char *why)
{
	char reason[300];

	n->state = OCL_NODE_LOST;
	o->dirty = true;
	oak_log(WARN, "node %s lost (%s)", n->id, why);
	ocl_metrics_node_lost(why);
	{
		struct oak_msg_status st = {.online = false};

		snprintf(st.id, sizeof(st.id), "%s", n->id);
		forward_up(o, n->id, OAK_T_STATUS, oak_msg_status_encode(&st));
	}
	snprintf(reason, sizeof(reason), "node %s lost: %s", n->id, why);
	ocl_interest_drop_node(&o->c, n->id);
	for (size_t i = 0; i < o->c.n_svcs; i++) {
		struct ocl_service *s = o->c.svcs[i];
		bool hit = false;

		for (size_t k = 0; k < s->n_inst; k++) {
			struct ocl_instance *in = &s->inst[k];

			if (strcmp(in->node_id, n->id) || !ocl_state_live(in->state))
				continue;
			ocl_set_inst_state(o, s, in, OAK_INSTANCE_FAILED, reason);
			in->node_id[0] = '\0';
			in->namespace_ip[0] = '\0';
			in->state = OAK_INSTANCE_CREATING; /* to be placed again */
			hit = true;
		}
		if (hit) {
			ocl_publish_table(o, s); /* without the lost ones, at once */
			ocl_place_pending(o, s, false);
		}
	}
}

void ocl_on_hello(struct oak_bus *bus, const char *topic, const void *p, size_t len, void *arg)
{
	struct ocl *o = arg;
	struct oak_msg_node_hello h = {0};
	struct ocl_node *n;
	char id[OAK_ID_LEN], err[256];

	if (oak_msg_node_hello_decode(p, len, &h, err, sizeof(err))) {
		oak_log(WARN, "%s: %s", topic, err);
		return;
	}
	n = ocl_node_from_topic(o, topic, id);
	if (!n || strcmp(h.node_id, id)) {
		oak_log(WARN, "%s: node_id %s does not match the topic", topic, h.node_id);
		goto out;
	}
	if (strcmp(n->boot_id, h.boot_id) || strcmp(n->underlay_ip, h.underlay_ip))
		oak_log(INFO, "node %s: hello (underlay %s, %s, boot %s, subnet %s)", n->id,
			h.underlay_ip, h.architecture, h.boot_id, h.subnet[0] ? h.subnet : "-");
	ocl_node_apply_hello(n, &h);
	ocl_subnet_for_node(o, n, h.subnet);
	o->dirty = true;
	o->placements_pending = true;
out:
	oak_msg_node_hello_free(&h);
}

void ocl_on_status(struct oak_bus *bus, const char *topic, const void *p, size_t len, void *arg)
{
	struct ocl *o = arg;
	struct oak_msg_status m = {0};
	struct ocl_node *n;
	char id[OAK_ID_LEN], err[256];
	const char *suffix;

	if (oak_msg_status_decode(p, len, &m, err, sizeof(err))) {
		oak_log(WARN, "%s: %s", topic, err);
		return;
	}
	if (m.online) {
		ocl_node_from_topic(o, topic, id);
	} else if (!oak_topic_parse(topic, "nodes", id, sizeof(id), &suffix) &&
		   (n = ocl_node_find(&o->c, id)) && n->state == OCL_NODE_ACTIVE &&
		   (!m.boot_id[0] || !n->boot_id[0] || !strcmp(m.boot_id, n->boot_id))) {
		ocl_node_lost(o, n, "offline (last will or clean stop)");
	}
	oak_msg_status_free(&m);
}

void ocl_on_info(struct oak_bus *bus, const char *topic, const void *p, size_t len, void *arg)
{
	struct ocl *o = arg;
	struct oak_msg_node_info m = {0};
	struct ocl_node *n;
	char id[OAK_ID_LEN], err[256];

	if (oak_msg_node_info_decode(p, len, &m, err, sizeof(err))) {
		oak_log(WARN, "%s: %s", topic, err);
		return;
	}
	n = ocl_node_from_topic(o, topic, id);
	if (n) {
		ocl_node_apply_info(n, &m);
		forward_up(o, id, OAK_T_INFORMATION, oak_msg_node_info_encode(&m));
	}
	oak_msg_node_info_free(&m);
}

/* jobs/resources: a sign of life, and the instances' usage and log tails
 * for the root (clusters/<cid>/nodes/<nid>/jobs/resources), checked */
void ocl_on_usage(struct oak_bus *bus, const char *topic, const void *p, size_t len, void *arg)
{
	struct ocl *o = arg;
	struct oak_msg_job_usage m = {0};
	char id[OAK_ID_LEN], err[256];

	if (!ocl_node_from_topic(o, topic, id))
		return;
	if (oak_msg_job_usage_decode(p, len, &m, err, sizeof(err))) {
		oak_log(WARN, "%s: %s", topic, err);
		return;
	}
	snprintf(m.node_id, sizeof(m.node_id), "%s", id);
	if (m.n_jobs)
		forward_up(o, id, OAK_T_JOBS_RESOURCES, oak_msg_job_usage_encode(&m));
	oak_msg_job_usage_free(&m);
}

void ocl_on_node_bus_state(struct oak_bus *bus, enum oak_bus_state st, void *arg)
{
	struct ocl *o = arg;
	struct oak_msg_status s = {0};
	int64_t now = oak_mono_ms();

	if (st != OAK_BUS_CONNECTED)
		return;
	/* we were deaf, not the nodes: their silence starts counting now */
	o->nbus_up_ms = now;
	for (size_t i = 0; i < o->c.n_nodes; i++) {
		if (o->c.nodes[i].last_seen_ms < now)
			o->c.nodes[i].last_seen_ms = now;
		if (o->c.nodes[i].last_hb_ms && o->c.nodes[i].last_hb_ms < now)
			o->c.nodes[i].last_hb_ms = now;
	}
	/* a fresh boot_id on every connect makes every node re-report */
	snprintf(s.id, sizeof(s.id), "%s", o->c.id);
	s.online = true;
	snprintf(s.boot_id, sizeof(s.boot_id), "%.40s-%u", o->boot_id, oak_bus_connects(bus));
	ocl_pub(o->nbus, OAK_TOPIC_CLUSTER_STATUS, oak_msg_status_encode(&s), true);
}

int ocl_heartbeat_open(struct ocl *o)
{
	struct sockaddr_in a = {.sin_family = AF_INET};
	const char *addr = oak_config_str(o->cfg, "heartbeat_addr");
	int64_t port = oak_config_int(o->cfg, "heartbeat_port");
	int fd;

	o->hb_fd = -1;
	if (port == 0) {
		oak_log(WARN, "heartbeat_port 0: node liveness from reports only");
		return 0;
	}
	if (port < 0 || port > 65535 || inet_pton(AF_INET, addr, &a.sin_addr) != 1) {
		oak_log(ERROR,
			"heartbeat_addr/heartbeat_port: '%s:%lld' is not an IPv4 address "
			"and port",
			addr, (long long)port);
		return -1;
	}
	a.sin_port = htons((uint16_t)port);
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a))) {
		oak_log(ERROR, "heartbeats: cannot bind %s:%lld/udp: %s", addr, (long long)port,
			strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	o->hb_fd = fd;
	return 0;
}

void ocl_heartbeat_recv(struct ocl *o)
{
	uint8_t buf[OAK_HB_MAX + 1];
	int64_t now = oak_mono_ms();

	for (int i = 0; i < 1024; i++) { /* then back to the loop: the bus too */
		struct sockaddr_in from;
		socklen_t fl = sizeof(from);
		ssize_t r = recvfrom(o->hb_fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &fl);
		struct oak_hb hb;
		struct ocl_node *n;

		if (r < 0)
			return;
		if (oak_hb_decode(buf, (size_t)r, &hb))
			continue; /* not a heartbeat */
		n = ocl_node_by_hb(&o->c, &hb);
		if (!n) {
			oak_log(DEBUG, "heartbeat from %s (unknown node or boot)", hb.id);
			continue;
		}
		if (!n->last_hb_ms && n->state == OCL_NODE_ACTIVE)
			oak_log(INFO, "node %s: heartbeats arrive, liveness from them", n->id);
		if (n->state == OCL_NODE_ACTIVE) /* gaps in the sequence: heartbeats lost */
			ocl_metrics_heartbeat(n->last_hb_ms && hb.seq - n->hb_seq - 1 < 3600
						  ? hb.seq - n->hb_seq - 1
						  : 0);
		ocl_node_heartbeat(n, now, hb.seq);
	}
}

void ocl_registry_tick(struct ocl *o, int64_t now)
{
	char lost[32][OAK_ID_LEN];
	size_t k;

	/* no heartbeat yet (this incarnation), long after its hello: an old
	 * agent, or heartbeats that cannot reach us; say so once */
	for (size_t i = 0; i < o->c.n_nodes; i++) {
		struct ocl_node *n = &o->c.nodes[i];

		if (n->state == OCL_NODE_ACTIVE && n->confirmed && !n->last_hb_ms &&
		    !n->hb_warned && now - n->last_seen_ms < 1000 && now - o->nbus_up_ms > 10000 &&
		    o->hb_fd >= 0) {
			n->hb_warned = true;
			oak_log(WARN,
				"node %s: no heartbeat on UDP port %d; its liveness "
				"comes from its reports (lost after %.1f s without one)",
				n->id, (int)oak_config_int(o->cfg, "heartbeat_port"),
				(double)o->c.report_timeout_ms / 1000.0);
		}
	}
	/* lost nodes whose instances sit on a lost node too are handled by
	 * ocl_node_lost; expire at most 32 per tick */
	k = ocl_nodes_expire(&o->c, now, o->timeout_ms, lost, 32);
	for (size_t i = 0; i < k; i++) {
		struct ocl_node *n = ocl_node_find(&o->c, lost[i]);

		n->state = OCL_NODE_ACTIVE; /* ocl_node_lost marks it */
		ocl_node_lost(o, n, "silent");
	}
}
