/*
 * oak-cluster: the cluster orchestrator. One thread, one poll loop over two
 * MQTT buses (the cluster's broker towards its nodes, the root broker
 * towards oak-root) and a timerfd. It keeps the node registry and node
 * health, places service instances on nodes with the scheduler library,
 * hands out node subnets, holds the service tables and the nodes' interests
 * in them, and reports aggregated resources and instance states upward.
 *
 * Durable: <state_dir>/state.json keeps the services it was given, the
 * placements, the node subnets and the nodes it knew, so that a restart
 * neither redeploys nor duplicates anything. The actual state is then
 * confirmed from node reports: on every connect to the cluster broker it
 * publishes a retained cluster/status with a fresh boot_id, which makes
 * every node re-announce itself and re-report its instances.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include <oak/fsutil.h>
#include "cluster.h"
#include "place.h"
#include "sched_glue.h"
#include "oak/bus.h"
#include "oak/config.h"
#include "oak/log.h"
#include "oak/msg.h"
#include "oak/sla.h"

#define OAK_CLUSTER_VERSION "0.1.0"
/* retained on the cluster broker: nodes re-report when its boot_id changes */
#define OCL_T_CLUSTER_STATUS OAK_TOPIC_CLUSTER_STATUS
#define MAX_PENDING_Q	     64

static const struct oak_cfg_key keys[] = {
    {"cluster_id", OAK_CFG_STR, NULL, "cluster id, unique at the root (default: hostname)"},
    {"cluster_name", OAK_CFG_STR, NULL, "human-readable cluster name (default: the id)"},
    {"operator", OAK_CFG_STR, NULL, "operator name reported to the root"},
    {"broker_host", OAK_CFG_STR, "127.0.0.1", "cluster MQTT broker (towards the nodes)"},
    {"broker_port", OAK_CFG_INT, "1883", "cluster broker port"},
    {"broker_username", OAK_CFG_STR, NULL, "cluster broker user (optional)"},
    {"broker_password", OAK_CFG_STR, NULL, "cluster broker password (optional)"},
    {"broker_cafile", OAK_CFG_STR, NULL, "cluster broker CA certificate: TLS on when set"},
    {"root_broker_host", OAK_CFG_STR, NULL,
     "root MQTT broker (towards oak-root); default: the cluster broker"},
    {"root_broker_port", OAK_CFG_INT, "0", "root broker port (0: the cluster broker's)"},
    {"root_broker_username", OAK_CFG_STR, NULL, "root broker user (optional)"},
    {"root_broker_password", OAK_CFG_STR, NULL, "root broker password (optional)"},
    {"root_broker_cafile", OAK_CFG_STR, NULL, "root broker CA certificate: TLS on when set"},
    {"keepalive", OAK_CFG_INT, "5", "MQTT keepalive in seconds (libmosquitto minimum 5)"},
    {"node_timeout", OAK_CFG_DOUBLE, "3",
     "seconds without a heartbeat after which a node is lost (its instances are placed again)"},
    {"heartbeat_addr", OAK_CFG_STR, "0.0.0.0", "address the node heartbeats (UDP) arrive on"},
    {"heartbeat_port", OAK_CFG_INT, "50104", "UDP port of the node heartbeats (0: off)"},
    {"node_report_interval", OAK_CFG_DOUBLE, "1",
     "report interval of nodes that send no heartbeat (older agents): such a node is lost "
     "after node_timeout + this without a report"},
    {"report_interval", OAK_CFG_DOUBLE, "5",
     "seconds between aggregate reports to the root at the latest (sooner on change)"},
    {"subnet_block", OAK_CFG_STR, "10.18.0.0/20",
     "node subnet block the root gave this cluster, handed out as /26s"},
    {"latitude", OAK_CFG_DOUBLE, "0", "cluster location: latitude"},
    {"longitude", OAK_CFG_DOUBLE, "0", "cluster location: longitude"},
    {"location_set", OAK_CFG_BOOL, "false", "report latitude/longitude"},
    {"radius_km", OAK_CFG_DOUBLE, "0", "radius around the location its nodes cover"},
    {"state_dir", OAK_CFG_STR, NULL, "durable state (default /var/lib/oak/cluster-<id>)"},
    {"log_level", OAK_CFG_STR, "info", "debug, info, warn or error"},
};

struct pending_query {
	char node_id[OAK_ID_LEN];
	char job_name[OAK_JOB_NAME_LEN];
	char ip[OAK_IP6_LEN];
	int64_t at_ms;
};

struct ocl {
	struct oak_config *cfg;
	struct ocl_cluster c;
	struct oak_bus *nbus; /* cluster broker: nodes */
	struct oak_bus *rbus; /* root broker */
	char name[OAK_ID_LEN];
	char boot_id[OAK_ID_LEN];
	char state_path[600];
	int timer_fd, sig_fd, hb_fd;
	bool stop, dirty, placements_pending;
	int64_t timeout_ms;
	int64_t nbus_up_ms; /* when the cluster bus (re)connected */
	int64_t last_info_ms, last_place_ms;
	struct oak_msg_cluster_info last_info;
	struct pending_query pq[MAX_PENDING_Q];
};

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ------------------------------------------------------------ publishing */

static void pub(struct oak_bus *bus, const char *topic, char *payload, bool retain)
{
	if (!payload) {
		oak_log(ERROR, "encode for %s: out of memory", topic);
		return;
	}
	if (oak_bus_publish_str(bus, topic, payload, retain))
		oak_log(WARN, "publish %s: not queued", topic);
	free(payload);
}

static void pub_node(struct ocl *o, const char *node, const char *suffix, char *payload,
		     bool retain)
{
	char t[OAK_TOPIC_LEN];

	if (oak_topic_node(t, sizeof(t), node, suffix)) {
		free(payload);
		return;
	}
	pub(o->nbus, t, payload, retain);
}

static void pub_root(struct ocl *o, const char *suffix, char *payload, bool retain)
{
	char t[OAK_TOPIC_LEN];

	if (oak_topic_cluster(t, sizeof(t), o->c.id, suffix)) {
		free(payload);
		return;
	}
	pub(o->rbus, t, payload, retain);
}

static void report_up(struct ocl *o, const struct ocl_service *s, const struct ocl_instance *in,
		      const char *node_id, const char *reason)
{
	struct oak_msg_instance_state m = {0};

	snprintf(m.node_id, sizeof(m.node_id), "%s", node_id ? node_id : in->node_id);
	snprintf(m.cluster_id, sizeof(m.cluster_id), "%s", o->c.id);
	snprintf(m.job_name, sizeof(m.job_name), "%s", s->job_name);
	snprintf(m.service_id, sizeof(m.service_id), "%.64s",
		 s->service_id[0] ? s->service_id : s->job_name);
	m.instance_number = in->number;
	m.state = in->state;
	snprintf(m.instance_ip, sizeof(m.instance_ip), "%s", in->instance_ip);
	snprintf(m.namespace_ip, sizeof(m.namespace_ip), "%s", in->namespace_ip);
	snprintf(m.reason, sizeof(m.reason), "%s", reason ? reason : "");
	m.timestamp_ms = wall_ms();
	pub_root(o, OAK_T_JOBS_STATE, oak_msg_instance_state_encode(&m), false);
}

static void set_inst_state(struct ocl *o, struct ocl_service *s, struct ocl_instance *in,
			   enum oak_instance_state st, const char *reason)
{
	if (in->state != st)
		oak_log_write(st == OAK_INSTANCE_FAILED || st == OAK_INSTANCE_DEAD ? OAK_LOG_WARN
										   : OAK_LOG_INFO,
			      "instance %s.%u on %s: %s -> %s%s%s", s->job_name, in->number,
			      in->node_id[0] ? in->node_id : "-",
			      oak_instance_state_name(in->state), oak_instance_state_name(st),
			      reason && *reason ? ": " : "", reason ? reason : "");
	in->state = st;
	in->changed_ms = now_ms();
	o->dirty = true;
	report_up(o, s, in, NULL, reason);
}

/* the table to every interested node */
static void publish_table(struct ocl *o, const struct ocl_service *s)
{
	struct oak_msg_service_table t;
	char topic[OAK_TOPIC_LEN];

	if (!ocl_interested_any(&o->c, s) ||
	    oak_topic_job_updates(topic, sizeof(topic), s->job_name))
		return;
	if (ocl_service_table(&o->c, s, NULL, &t))
		return;
	oak_log(DEBUG, "table %s: %zu instances to interested nodes", s->job_name, t.n_instances);
	pub(o->nbus, topic, oak_msg_service_table_encode(&t), false);
	oak_msg_service_table_free(&t);
}

static void send_delete(struct ocl *o, const struct ocl_service *s, uint32_t number,
			const char *node)
{
	struct oak_msg_delete d = {0};

	snprintf(d.service_id, sizeof(d.service_id), "%s", s->service_id);
	snprintf(d.job_name, sizeof(d.job_name), "%s", s->job_name);
	d.instance_number = number;
	oak_log(INFO, "delete %s.%u on %s", s->job_name, number, node);
	pub_node(o, node, OAK_T_DELETE, oak_msg_delete_encode(&d), false);
}

/* ------------------------------------------------------------ placement */

static int service_of(const struct ocl_service *s, struct oak_service *svc, char *err,
		      size_t errlen)
{
	struct oak_msg_cluster_deploy m = {0};

	if (!s->spec) {
		snprintf(err, errlen, "no service description known (adopted from node reports)");
		return -1;
	}
	snprintf(m.job_name, sizeof(m.job_name), "%s", s->job_name);
	m.service = s->spec;
	return oak_msg_cluster_deploy_service(&m, svc, err, errlen);
}

static void send_deploy(struct ocl *o, const struct ocl_service *s, const struct oak_service *svc,
			const struct ocl_instance *in)
{
	struct oak_msg_deploy d = {0};
	struct ocl_node *n;

	snprintf(d.service_id, sizeof(d.service_id), "%.64s",
		 s->service_id[0] ? s->service_id : s->job_name);
	snprintf(d.job_name, sizeof(d.job_name), "%s", s->job_name);
	d.instance_number = in->number;
	snprintf(d.instance_ip, sizeof(d.instance_ip), "%s", in->instance_ip);
	snprintf(d.rr_ip, sizeof(d.rr_ip), "%s", s->rr_ip);
	snprintf(d.closest_ip, sizeof(d.closest_ip), "%s", s->closest_ip);
	snprintf(d.rr_ip_v6, sizeof(d.rr_ip_v6), "%s", s->rr_ip_v6);
	snprintf(d.closest_ip_v6, sizeof(d.closest_ip_v6), "%s", s->closest_ip_v6);
	snprintf(d.runtime, sizeof(d.runtime), "%s", svc->virtualization);
	snprintf(d.code, sizeof(d.code), "%s", svc->code);
	d.cmd = svc->cmd; /* borrowed: d is not freed */
	d.args = svc->args;
	d.env = svc->environment;
	d.added_files = svc->added_files;
	snprintf(d.port, sizeof(d.port), "%s", svc->port);
	d.memory_mb = svc->res.memory_mb;
	d.vcpus = svc->res.vcpus;
	d.vgpus = svc->res.vgpus > 0 ? (uint32_t)svc->res.vgpus : 0;
	d.one_shot = svc->one_shot;
	d.privileged = svc->privileged;
	oak_log(INFO, "deploy %s.%u (%s) on %s", s->job_name, in->number, in->instance_ip,
		in->node_id);
	pub_node(o, in->node_id, OAK_T_DEPLOY, oak_msg_deploy_encode(&d), false);
	n = ocl_node_find(&o->c, in->node_id);
	if (n)
		n->busy_until_ms = now_ms() + o->timeout_ms;
}

static bool node_usable(const struct ocl_node *n)
{
	return n->state == OCL_NODE_ACTIVE && n->have_info && n->underlay_ip[0] && n->subnet[0];
}

/* Place every instance of s that has no node. from_root: instances the root
 * just asked for are given back (FAILED upward, removed) when nothing fits,
 * so the root can try another cluster; instances being re-placed after a
 * node loss wait here for a node instead. */
static void place_pending(struct ocl *o, struct ocl_service *s, bool from_root)
{
	struct oak_service svc;
	struct ocl_req req;
	struct ocl_req_buf rb = {0};
	struct ocl_cand *cands = NULL;
	size_t nc = 0, *idx = NULL, want = 0;
	uint32_t placed;
	char err[512], notes[1024], why[512];

	for (size_t i = 0; i < s->n_inst; i++)
		want += !s->inst[i].node_id[0] && ocl_state_live(s->inst[i].state);
	if (!want)
		return;
	if (service_of(s, &svc, err, sizeof(err))) {
		oak_log(WARN, "place %s: %s", s->job_name, err);
		return;
	}
	if (ocl_build_req(&o->c, &svc, &req, &rb, notes, sizeof(notes)))
		goto out;
	if (notes[0])
		oak_log(WARN, "place %s: %s", s->job_name, notes);
	cands = calloc(o->c.n_nodes ? o->c.n_nodes : 1, sizeof(*cands));
	idx = calloc(want, sizeof(*idx));
	if (!cands || !idx)
		goto out;
	for (size_t i = 0; i < o->c.n_nodes; i++) {
		const struct ocl_node *n = &o->c.nodes[i];

		if (!node_usable(n))
			continue;
		ocl_cand_from_node(n, s, &cands[nc++]);
	}
	placed =
	    ocl_place(&req, cands, nc, (uint32_t)want, (uint64_t)now_ms(), idx, why, sizeof(why));
	for (size_t i = 0, k = 0; i < s->n_inst; i++) {
		struct ocl_instance *in = &s->inst[i];

		if (in->node_id[0] || !ocl_state_live(in->state))
			continue;
		if (k < placed) {
			snprintf(in->node_id, sizeof(in->node_id), "%s", cands[idx[k]].id);
			in->namespace_ip[0] = '\0';
			in->state = OAK_INSTANCE_CREATING;
			in->changed_ms = now_ms();
			send_deploy(o, s, &svc, in);
			o->dirty = true;
		} else if (from_root) {
			char reason[600];

			snprintf(reason, sizeof(reason), "no node fits: %s", why);
			in->state = OAK_INSTANCE_FAILED;
			oak_log(WARN, "instance %s.%u: %s", s->job_name, in->number, reason);
			report_up(o, s, in, "", reason);
			ocl_instance_remove(s, in->number);
			i--;
			o->dirty = true;
		} else {
			o->placements_pending = true;
			oak_log(WARN, "instance %s.%u waits for a node: %s", s->job_name,
				in->number, why);
		}
		k++;
	}
out:
	free(cands);
	free(idx);
	ocl_req_buf_free(&rb);
	oak_service_free(&svc);
}

/* A node is gone: fail its instances upward, place them again elsewhere,
 * and tell every interested node. */
static void node_lost(struct ocl *o, struct ocl_node *n, const char *why)
{
	char reason[300];

	n->state = OCL_NODE_LOST;
	o->dirty = true;
	oak_log(WARN, "node %s lost (%s)", n->id, why);
	snprintf(reason, sizeof(reason), "node %s lost: %s", n->id, why);
	ocl_interest_drop_node(&o->c, n->id);
	for (size_t i = 0; i < o->c.n_svcs; i++) {
		struct ocl_service *s = o->c.svcs[i];
		bool hit = false;

		for (size_t k = 0; k < s->n_inst; k++) {
			struct ocl_instance *in = &s->inst[k];

			if (strcmp(in->node_id, n->id) || !ocl_state_live(in->state))
				continue;
			set_inst_state(o, s, in, OAK_INSTANCE_FAILED, reason);
			in->node_id[0] = '\0';
			in->namespace_ip[0] = '\0';
			in->state = OAK_INSTANCE_CREATING; /* to be placed again */
			hit = true;
		}
		if (hit) {
			publish_table(o, s); /* without the lost ones, at once */
			place_pending(o, s, false);
		}
	}
}

/* ------------------------------------------------------------ node messages */

static struct ocl_node *from_node(struct ocl *o, const char *topic, char *id)
{
	const char *suffix;
	struct ocl_node *n;

	if (oak_topic_parse(topic, "nodes", id, OAK_ID_LEN, &suffix))
		return NULL;
	n = ocl_node_get(&o->c, id, now_ms());
	if (!n)
		return NULL;
	if (ocl_node_seen(n, now_ms())) {
		oak_log(INFO, "node %s is back", n->id);
		o->dirty = true;
		o->placements_pending = true;
	}
	return n;
}

static void send_subnet(struct ocl *o, struct ocl_node *n)
{
	struct oak_msg_subnet m = {0};

	snprintf(m.node_id, sizeof(m.node_id), "%s", n->id);
	snprintf(m.cluster_id, sizeof(m.cluster_id), "%s", o->c.id);
	snprintf(m.subnet, sizeof(m.subnet), "%s", n->subnet);
	pub_node(o, n->id, OAK_T_SUBNET, oak_msg_subnet_encode(&m), true);
}

static void on_hello(struct oak_bus *bus, const char *topic, const void *p, size_t len, void *arg)
{
	struct ocl *o = arg;
	struct oak_msg_node_hello h = {0};
	struct ocl_node *n;
	char id[OAK_ID_LEN], err[256], sub[OAK_CIDR_LEN];

	if (oak_msg_node_hello_decode(p, len, &h, err, sizeof(err))) {
		oak_log(WARN, "%s: %s", topic, err);
		return;
	}
	n = from_node(o, topic, id);
	if (!n || strcmp(h.node_id, id)) {
		oak_log(WARN, "%s: node_id %s does not match the topic", topic, h.node_id);
		goto out;
	}
	if (strcmp(n->boot_id, h.boot_id) || strcmp(n->underlay_ip, h.underlay_ip))
		oak_log(INFO, "node %s: hello (underlay %s, %s, boot %s, subnet %s)", n->id,
			h.underlay_ip, h.architecture, h.boot_id, h.subnet[0] ? h.subnet : "-");
	ocl_node_apply_hello(n, &h);
	if (ocl_subnet_assign(&o->c.subnets, n->id, h.subnet, sub)) {
		oak_log(ERROR, "node %s: subnet block %s is full", n->id,
			oak_config_str(o->cfg, "subnet_block"));
	} else {
		if (strcmp(sub, n->subnet))
			oak_log(INFO, "node %s: subnet %s", n->id, sub);
		snprintf(n->subnet, sizeof(n->subnet), "%s", sub);
		send_subnet(o, n);
	}
	o->dirty = true;
	o->placements_pending = true;
out:
	oak_msg_node_hello_free(&h);
}

static void on_status(struct oak_bus *bus, const char *topic, const void *p, size_t len, void *arg)
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
		from_node(o, topic, id);
	} else if (!oak_topic_parse(topic, "nodes", id, sizeof(id), &suffix) &&
		   (n = ocl_node_find(&o->c, id)) && n->state == OCL_NODE_ACTIVE &&
		   (!m.boot_id[0] || !n->boot_id[0] || !strcmp(m.boot_id, n->boot_id))) {
		node_lost(o, n, "offline (last will or clean stop)");
	}
	oak_msg_status_free(&m);
}

static void on_info(struct oak_bus *bus, const char *topic, const void *p, size_t len, void *arg)
{
	struct ocl *o = arg;
	struct oak_msg_node_info m = {0};
	struct ocl_node *n;
	char id[OAK_ID_LEN], err[256];

	if (oak_msg_node_info_decode(p, len, &m, err, sizeof(err))) {
		oak_log(WARN, "%s: %s", topic, err);
		return;
	}
	n = from_node(o, topic, id);
	if (n)
		ocl_node_apply_info(n, &m);
	oak_msg_node_info_free(&m);
}

static void on_any(struct oak_bus *bus, const char *topic, const void *p, size_t len, void *arg)
{
	char id[OAK_ID_LEN];

	from_node(arg, topic, id); /* jobs/resources: only a sign of life here */
}

static void on_job(struct oak_bus *bus, const char *topic, const void *p, size_t len, void *arg)
{
	struct ocl *o = arg;
	struct oak_msg_instance_state m = {0};
	struct ocl_service *s;
	struct ocl_instance *in;
	struct ocl_node *n, *owner;
	char id[OAK_ID_LEN], err[256];
	bool live, was_running;

	if (oak_msg_instance_state_decode(p, len, &m, err, sizeof(err))) {
		oak_log(WARN, "%s: %s", topic, err);
		return;
	}
	n = from_node(o, topic, id);
	if (!n)
		goto out;
	live = ocl_state_live(m.state);
	s = ocl_service_find(&o->c, m.job_name);
	if (!s && live) { /* unknown to us (state lost): adopt it */
		s = ocl_service_get(&o->c, m.job_name);
		if (!s)
			goto out;
		snprintf(s->service_id, sizeof(s->service_id), "%s", m.service_id);
		oak_log(INFO, "service %s adopted from %s's report", m.job_name, n->id);
	}
	in = s ? ocl_instance_find(s, m.instance_number) : NULL;
	if (!in) {
		if (!live || !s) { /* e.g. UNDEPLOYED after an undeploy: pass it on */
			struct ocl_instance tmp = {.number = m.instance_number, .state = m.state};
			struct ocl_service ts = {0};

			snprintf(tmp.instance_ip, sizeof(tmp.instance_ip), "%s", m.instance_ip);
			snprintf(tmp.namespace_ip, sizeof(tmp.namespace_ip), "%s", m.namespace_ip);
			snprintf(ts.job_name, sizeof(ts.job_name), "%s", m.job_name);
			snprintf(ts.service_id, sizeof(ts.service_id), "%s", m.service_id);
			report_up(o, s ? s : &ts, &tmp, n->id, m.reason);
			goto out;
		}
		in = ocl_instance_add(s, m.instance_number);
		if (!in)
			goto out;
		snprintf(in->instance_ip, sizeof(in->instance_ip), "%s", m.instance_ip);
		snprintf(in->node_id, sizeof(in->node_id), "%s", n->id);
		oak_log(INFO, "instance %s.%u on %s adopted from its report", s->job_name,
			in->number, n->id);
	}
	if (strcmp(in->node_id, n->id)) {
		owner = in->node_id[0] ? ocl_node_find(&o->c, in->node_id) : NULL;
		if (!live)
			goto out; /* a copy we no longer count on ended */
		if (owner && owner->state == OCL_NODE_ACTIVE && ocl_state_live(in->state)) {
			/* placed elsewhere meanwhile (this node was lost): one copy only */
			oak_log(WARN,
				"instance %s.%u also runs on %s (owner %s): removing it there",
				s->job_name, in->number, n->id, owner->id);
			send_delete(o, s, in->number, n->id);
			goto out;
		}
		if (in->node_id[0] && owner && owner->state == OCL_NODE_ACTIVE)
			send_delete(o, s, in->number, owner->id); /* a pending copy */
		oak_log(INFO, "instance %s.%u is on %s", s->job_name, in->number, n->id);
		snprintf(in->node_id, sizeof(in->node_id), "%s", n->id);
		o->dirty = true;
	}
	was_running = in->state == OAK_INSTANCE_RUNNING;
	if (m.namespace_ip[0] && strcmp(in->namespace_ip, m.namespace_ip)) {
		snprintf(in->namespace_ip, sizeof(in->namespace_ip), "%s", m.namespace_ip);
		o->dirty = true;
	}
	if (!in->instance_ip[0] && m.instance_ip[0])
		snprintf(in->instance_ip, sizeof(in->instance_ip), "%s", m.instance_ip);
	if (in->state != m.state || m.reason[0])
		set_inst_state(o, s, in, m.state, m.reason);
	else
		report_up(o, s, in, NULL, NULL); /* re-report: the root rebuilds too */
	if (was_running != (in->state == OAK_INSTANCE_RUNNING))
		publish_table(o, s);
out:
	oak_msg_instance_state_free(&m);
}

static void on_net_service(struct oak_bus *bus, const char *topic, const void *p, size_t len,
			   void *arg)
{
	struct ocl *o = arg;
	struct oak_msg_net_service m = {0};
	struct ocl_service *s;
	struct ocl_instance *in;
	char id[OAK_ID_LEN], err[256];

	if (oak_msg_net_service_decode(p, len, &m, err, sizeof(err))) {
		oak_log(WARN, "%s: %s", topic, err);
		return;
	}
	from_node(o, topic, id);
	s = ocl_service_find(&o->c, m.job_name);
	in = s ? ocl_instance_find(s, m.instance_number) : NULL;
	if (in && !strcmp(in->node_id, id) && strstr(topic, "/deployed") && m.namespace_ip[0] &&
	    strcmp(in->namespace_ip, m.namespace_ip)) {
		snprintf(in->namespace_ip, sizeof(in->namespace_ip), "%s", m.namespace_ip);
		o->dirty = true;
	}
	oak_msg_net_service_free(&m);
}

static void answer(struct ocl *o, const char *node, struct ocl_service *s, const char *qip,
		   const char *qjob)
{
	struct oak_msg_service_table t = {0};

	if (s) {
		ocl_interest_add(s, node);
		if (ocl_service_table(&o->c, s, qip, &t))
			return;
		o->dirty = true;
	} else {
		snprintf(t.job_name, sizeof(t.job_name), "%s", qjob && *qjob ? qjob : "unknown");
		snprintf(t.query_ip, sizeof(t.query_ip), "%s", qip ? qip : "");
		t.found = false;
	}
	oak_log(DEBUG, "table query from %s for %s%s: %s, %zu instances", node, qjob ? qjob : "",
		qip ? qip : "", t.found ? "found" : "not found", t.n_instances);
	pub_node(o, node, OAK_T_TABLEQUERY_RES, oak_msg_service_table_encode(&t), false);
	oak_msg_service_table_free(&t);
}

static void on_query(struct oak_bus *bus, const char *topic, const void *p, size_t len, void *arg)
{
	struct ocl *o = arg;
	struct oak_msg_table_query q = {0};
	struct ocl_service *s = NULL;
	char id[OAK_ID_LEN], err[256];

	if (oak_msg_table_query_decode(p, len, &q, err, sizeof(err))) {
		oak_log(WARN, "%s: %s", topic, err);
		return;
	}
	if (!from_node(o, topic, id))
		goto out;
	if (q.job_name[0])
		s = ocl_service_find(&o->c, q.job_name);
	if (!s && q.service_ip[0])
		s = ocl_service_by_ip(&o->c, q.service_ip, NULL);
	if (s && (!s->remote || s->remote_table.found)) {
		answer(o, id, s, q.service_ip, q.job_name);
		goto out;
	}
	/* another cluster's service? ask the root, answer when it replies */
	if (oak_bus_state(o->rbus) == OAK_BUS_CONNECTED) {
		struct oak_msg_table_query rq = q;
		size_t slot = 0;

		for (size_t k = 0; k < MAX_PENDING_Q; k++)
			if (o->pq[k].at_ms < o->pq[slot].at_ms)
				slot = k;
		snprintf(o->pq[slot].node_id, OAK_ID_LEN, "%s", id);
		snprintf(o->pq[slot].job_name, OAK_JOB_NAME_LEN, "%s", q.job_name);
		snprintf(o->pq[slot].ip, OAK_IP6_LEN, "%s", q.service_ip);
		o->pq[slot].at_ms = now_ms();
		snprintf(rq.node_id, sizeof(rq.node_id), "%s", o->c.id);
		snprintf(rq.cluster_id, sizeof(rq.cluster_id), "%s", o->c.id);
		pub_root(o, OAK_T_TABLEQUERY_REQ, oak_msg_table_query_encode(&rq), false);
		goto out;
	}
	answer(o, id, NULL, q.service_ip, q.job_name);
out:
	oak_msg_table_query_free(&q);
}

static void on_interest_remove(struct oak_bus *bus, const char *topic, const void *p, size_t len,
			       void *arg)
{
	struct ocl *o = arg;
	struct oak_msg_interest m = {0};
	struct ocl_service *s;
	char id[OAK_ID_LEN], err[256];

	if (oak_msg_interest_decode(p, len, &m, err, sizeof(err))) {
		oak_log(WARN, "%s: %s", topic, err);
		return;
	}
	from_node(o, topic, id);
	s = ocl_service_find(&o->c, m.job_name);
	if (s && ocl_interest_remove(s, id)) {
		oak_log(DEBUG, "interest: %s dropped %s", id, s->job_name);
		o->dirty = true;
		if (s->remote && !s->n_interest) { /* nobody here needs it any more */
			struct oak_msg_interest r = {0};

			snprintf(r.node_id, sizeof(r.node_id), "%s", o->c.id);
			snprintf(r.job_name, sizeof(r.job_name), "%s", s->job_name);
			pub_root(o, OAK_T_INTEREST_REMOVE, oak_msg_interest_encode(&r), false);
			ocl_service_remove(&o->c, s);
		}
	}
	oak_msg_interest_free(&m);
}

/* ------------------------------------------------------------ root messages */

static void on_deploy(struct oak_bus *bus, const char *topic, const void *p, size_t len, void *arg)
{
	struct ocl *o = arg;
	struct oak_msg_cluster_deploy m = {0};
	struct ocl_service *s;
	struct ocl_instance *in;
	char err[512];

	if (oak_msg_cluster_deploy_decode(p, len, &m, err, sizeof(err))) {
		oak_log(WARN, "%s: rejected: %s", topic, err);
		return;
	}
	s = ocl_service_get(&o->c, m.job_name);
	if (!s)
		goto out;
	if (s->remote) { /* it is ours now */
		oak_msg_service_table_free(&s->remote_table);
		memset(&s->remote_table, 0, sizeof(s->remote_table));
		s->remote = false;
	}
	snprintf(s->service_id, sizeof(s->service_id), "%s", m.service_id);
	snprintf(s->rr_ip, sizeof(s->rr_ip), "%s", m.rr_ip);
	snprintf(s->closest_ip, sizeof(s->closest_ip), "%s", m.closest_ip);
	snprintf(s->rr_ip_v6, sizeof(s->rr_ip_v6), "%s", m.rr_ip_v6);
	snprintf(s->closest_ip_v6, sizeof(s->closest_ip_v6), "%s", m.closest_ip_v6);
	json_decref(s->spec);
	s->spec = json_incref(m.service);
	o->dirty = true;
	in = ocl_instance_find(s, m.instance_number);
	if (in && ocl_state_live(in->state)) {
		oak_log(INFO, "deploy %s.%u: already %s on %s", s->job_name, in->number,
			oak_instance_state_name(in->state), in->node_id[0] ? in->node_id : "-");
		report_up(o, s, in, NULL, NULL);
		goto out;
	}
	in = ocl_instance_add(s, m.instance_number);
	if (!in)
		goto out;
	in->node_id[0] = '\0';
	in->state = OAK_INSTANCE_CREATING;
	snprintf(in->instance_ip, sizeof(in->instance_ip), "%s", m.instance_ip);
	if (!in->instance_ip[0] && ocl_alloc_instance_ip(&o->c, in->instance_ip)) {
		oak_log(ERROR, "deploy %s.%u: no free Instance IP", s->job_name, in->number);
		ocl_instance_remove(s, m.instance_number);
		goto out;
	}
	place_pending(o, s, true);
out:
	oak_msg_cluster_deploy_free(&m);
}

static void undeploy_instance(struct ocl *o, struct ocl_service *s, uint32_t number)
{
	struct ocl_instance *in = ocl_instance_find(s, number);

	if (!in)
		return;
	if (in->node_id[0]) {
		send_delete(o, s, number, in->node_id);
	} else {
		in->state = OAK_INSTANCE_UNDEPLOYED;
		report_up(o, s, in, "", NULL);
	}
	ocl_instance_remove(s, number);
	o->dirty = true;
}

static void on_undeploy(struct oak_bus *bus, const char *topic, const void *p, size_t len,
			void *arg)
{
	struct ocl *o = arg;
	struct oak_msg_cluster_undeploy m = {0};
	struct ocl_service *s;
	char err[256];

	if (oak_msg_cluster_undeploy_decode(p, len, &m, err, sizeof(err))) {
		oak_log(WARN, "%s: rejected: %s", topic, err);
		return;
	}
	s = ocl_service_find(&o->c, m.job_name);
	if (!s || s->remote) {
		oak_log(INFO, "undeploy %s: not here", m.job_name);
		goto out;
	}
	if (m.instance_number < 0)
		oak_log(INFO, "undeploy %s: every instance", s->job_name);
	else
		oak_log(INFO, "undeploy %s.%d", s->job_name, m.instance_number);
	if (m.instance_number < 0) {
		while (s->n_inst)
			undeploy_instance(o, s, s->inst[s->n_inst - 1].number);
	} else {
		undeploy_instance(o, s, (uint32_t)m.instance_number);
	}
	publish_table(o, s);
	if (!s->n_inst && m.instance_number < 0)
		ocl_service_remove(&o->c, s);
out:
	oak_msg_cluster_undeploy_free(&m);
}

static void on_scale(struct oak_bus *bus, const char *topic, const void *p, size_t len, void *arg)
{
	struct ocl *o = arg;
	struct oak_msg_cluster_scale m = {0};
	struct ocl_service *s;
	uint32_t live = 0;
	char err[256];

	if (oak_msg_cluster_scale_decode(p, len, &m, err, sizeof(err))) {
		oak_log(WARN, "%s: rejected: %s", topic, err);
		return;
	}
	s = ocl_service_find(&o->c, m.job_name);
	if (!s || !s->spec) {
		oak_log(WARN, "scale %s: no such service here (deploy one instance first)",
			m.job_name);
		goto out;
	}
	for (size_t i = 0; i < s->n_inst; i++)
		live += ocl_state_live(s->inst[i].state);
	oak_log(INFO, "scale %s: %u -> %u", s->job_name, live, m.replicas);
	while (live < m.replicas) {
		struct ocl_instance *in = ocl_instance_add(s, ocl_instance_next_number(s));

		if (!in)
			break;
		if (ocl_alloc_instance_ip(&o->c, in->instance_ip)) {
			oak_log(ERROR, "scale %s: no free Instance IP", s->job_name);
			ocl_instance_remove(s, in->number);
			break;
		}
		live++;
	}
	place_pending(o, s, true);
	while (live > m.replicas && s->n_inst) {
		/* the highest-numbered live instance goes first */
		size_t hi = SIZE_MAX;

		for (size_t i = 0; i < s->n_inst; i++)
			if (ocl_state_live(s->inst[i].state) &&
			    (hi == SIZE_MAX || s->inst[i].number > s->inst[hi].number))
				hi = i;
		if (hi == SIZE_MAX)
			break;
		undeploy_instance(o, s, s->inst[hi].number);
		live--;
	}
	publish_table(o, s);
	o->dirty = true;
out:
	oak_msg_cluster_scale_free(&m);
}

/* the root answers a table query for another cluster's service */
static void on_root_table(struct oak_bus *bus, const char *topic, const void *p, size_t len,
			  void *arg)
{
	struct ocl *o = arg;
	struct oak_msg_service_table t = {0};
	struct ocl_service *s = NULL;
	bool update = strstr(topic, OAK_T_UPDATES_AVAILABLE) != NULL;
	char err[256];

	if (oak_msg_service_table_decode(p, len, &t, err, sizeof(err))) {
		oak_log(WARN, "%s: %s", topic, err);
		return;
	}
	if (t.found) {
		s = ocl_service_find(&o->c, t.job_name);
		if (s && !s->remote) {
			s = NULL; /* ours: our own table is the truth */
		} else if (!s && !update) {
			s = ocl_service_get(&o->c, t.job_name);
			if (s)
				s->remote = true;
		}
		if (s) {
			snprintf(s->service_id, sizeof(s->service_id), "%s", t.service_id);
			snprintf(s->rr_ip, sizeof(s->rr_ip), "%s", t.rr_ip);
			snprintf(s->closest_ip, sizeof(s->closest_ip), "%s", t.closest_ip);
			snprintf(s->rr_ip_v6, sizeof(s->rr_ip_v6), "%s", t.rr_ip_v6);
			snprintf(s->closest_ip_v6, sizeof(s->closest_ip_v6), "%s", t.closest_ip_v6);
			oak_msg_service_table_free(&s->remote_table);
			s->remote_table = t; /* moved */
			memset(&t, 0, sizeof(t));
			if (update)
				publish_table(o, s);
		}
	}
	for (size_t k = 0; !update && k < MAX_PENDING_Q; k++) {
		struct pending_query *q = &o->pq[k];
		const char *job = s ? s->job_name : t.job_name;
		const char *qip = s ? s->remote_table.query_ip : t.query_ip;

		if (!q->at_ms || !((q->job_name[0] && !strcmp(q->job_name, job)) ||
				   (q->ip[0] && !strcmp(q->ip, qip))))
			continue;
		answer(o, q->node_id, s, q->ip, q->job_name);
		q->at_ms = 0;
	}
	oak_msg_service_table_free(&t);
}

static void on_root_subnet(struct oak_bus *bus, const char *topic, const void *p, size_t len,
			   void *arg)
{
	oak_log(INFO, "%s: the node subnet block is configured (subnet_block); ignored", topic);
}

/* ------------------------------------------------------------ reports */

static void send_info(struct ocl *o, bool force)
{
	struct oak_msg_cluster_info m;
	int64_t now = now_ms();
	double iv = oak_config_double(o->cfg, "report_interval") * 1000.0;

	if (oak_bus_state(o->rbus) != OAK_BUS_CONNECTED)
		return;
	ocl_aggregate(&o->c, &m);
	if (!force && now - o->last_info_ms < (int64_t)iv &&
	    !ocl_info_significant(&o->last_info, &m))
		return;
	m.timestamp_ms = wall_ms();
	o->last_info = m;
	o->last_info_ms = now;
	oak_log(DEBUG, "report: %u nodes, %.1f/%.1f vcpus, %lld/%lld MB free", m.active_nodes,
		m.vcpus_free, m.vcpus_total, (long long)m.memory_free_mb,
		(long long)m.memory_total_mb);
	pub_root(o, OAK_T_INFORMATION, oak_msg_cluster_info_encode(&m), false);
}

static void on_root_state(struct oak_bus *bus, enum oak_bus_state st, void *arg)
{
	struct ocl *o = arg;
	struct oak_msg_status s = {0};
	struct oak_msg_cluster_hello h = {0};

	if (st != OAK_BUS_CONNECTED)
		return;
	snprintf(s.id, sizeof(s.id), "%s", o->c.id);
	s.online = true;
	snprintf(s.boot_id, sizeof(s.boot_id), "%s", o->boot_id);
	pub_root(o, OAK_T_STATUS, oak_msg_status_encode(&s), true);
	snprintf(h.cluster_id, sizeof(h.cluster_id), "%s", o->c.id);
	snprintf(h.name, sizeof(h.name), "%s", o->name);
	snprintf(h.operator_name, sizeof(h.operator_name), "%s",
		 oak_config_str(o->cfg, "operator"));
	h.location = o->c.location;
	h.radius_km = o->c.radius_km;
	snprintf(h.version, sizeof(h.version), "%s", OAK_CLUSTER_VERSION);
	snprintf(h.boot_id, sizeof(h.boot_id), "%s", o->boot_id);
	pub_root(o, OAK_T_HELLO, oak_msg_cluster_hello_encode(&h), false);
	send_info(o, true);
	/* the root rebuilds its view of this cluster from reports too */
	for (size_t i = 0; i < o->c.n_svcs; i++)
		for (size_t k = 0; !o->c.svcs[i]->remote && k < o->c.svcs[i]->n_inst; k++)
			report_up(o, o->c.svcs[i], &o->c.svcs[i]->inst[k], NULL, NULL);
}

static void on_node_bus_state(struct oak_bus *bus, enum oak_bus_state st, void *arg)
{
	struct ocl *o = arg;
	struct oak_msg_status s = {0};
	int64_t now = now_ms();

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
	pub(o->nbus, OCL_T_CLUSTER_STATUS, oak_msg_status_encode(&s), true);
}

/* ------------------------------------------------------------ state file */

static void state_save(struct ocl *o)
{
	json_t *root = json_object(), *nodes = json_array(), *svcs = json_array();
	char tmp[620];

	if (!root || !nodes || !svcs)
		goto out;
	for (size_t i = 0; i < o->c.n_nodes; i++) {
		const struct ocl_node *n = &o->c.nodes[i];
		json_t *rt = json_array();

		for (size_t k = 0; k < n->runtimes.n; k++)
			json_array_append_new(rt, json_string(n->runtimes.v[k]));
		json_array_append_new(nodes,
				      json_pack("{s:s,s:s,s:I,s:s,s:s,s:s,s:o,s:b}", "id", n->id,
						"underlay_ip", n->underlay_ip, "tunnel_port",
						(json_int_t)n->tunnel_port, "subnet", n->subnet,
						"boot_id", n->boot_id, "arch", n->arch, "runtimes",
						rt, "lost", n->state == OCL_NODE_LOST));
	}
	for (size_t i = 0; i < o->c.n_svcs; i++) {
		const struct ocl_service *s = o->c.svcs[i];
		json_t *insts = json_array(), *ints = json_array();

		if (s->remote) {
			json_decref(insts);
			json_decref(ints);
			continue;
		}
		for (size_t k = 0; k < s->n_inst; k++)
			json_array_append_new(
			    insts, json_pack("{s:I,s:s,s:s,s:s,s:s}", "number",
					     (json_int_t)s->inst[k].number, "instance_ip",
					     s->inst[k].instance_ip, "node_id", s->inst[k].node_id,
					     "namespace_ip", s->inst[k].namespace_ip, "state",
					     oak_instance_state_name(s->inst[k].state)));
		for (size_t k = 0; k < s->n_interest; k++)
			json_array_append_new(ints, json_string(s->interest[k]));
		json_array_append_new(
		    svcs, json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:O?,s:o,s:o}", "job_name",
				    s->job_name, "service_id", s->service_id, "rr_ip", s->rr_ip,
				    "closest_ip", s->closest_ip, "rr_ip_v6", s->rr_ip_v6,
				    "closest_ip_v6", s->closest_ip_v6, "spec", s->spec, "instances",
				    insts, "interests", ints));
	}
	json_object_set_new(root, "cluster_id", json_string(o->c.id));
	json_object_set_new(root, "ip_cursor", json_integer(o->c.ip_cursor));
	json_object_set_new(root, "nodes", nodes);
	json_object_set_new(root, "services", svcs);
	nodes = svcs = NULL;
	snprintf(tmp, sizeof(tmp), "%s.tmp", o->state_path);
	if (json_dump_file(root, tmp, JSON_COMPACT) || rename(tmp, o->state_path))
		oak_log(WARN, "state: cannot write %s: %s", o->state_path, strerror(errno));
	else
		o->dirty = false;
out:
	json_decref(nodes);
	json_decref(svcs);
	json_decref(root);
}

static const char *jstr(json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));

	return s ? s : "";
}

static void state_load(struct ocl *o)
{
	json_error_t je;
	json_t *root = json_load_file(o->state_path, 0, &je), *e, *f;
	size_t i, k;
	int64_t now = now_ms();

	if (!root) {
		oak_log(INFO, "state: none at %s (fresh start)", o->state_path);
		return;
	}
	if (strcmp(jstr(root, "cluster_id"), o->c.id)) {
		oak_log(WARN, "state: %s belongs to cluster '%s', not '%s': ignored", o->state_path,
			jstr(root, "cluster_id"), o->c.id);
		json_decref(root);
		return;
	}
	o->c.ip_cursor = (uint32_t)json_integer_value(json_object_get(root, "ip_cursor"));
	json_array_foreach(json_object_get(root, "nodes"), i, e)
	{
		struct ocl_node *n = ocl_node_get(&o->c, jstr(e, "id"), now);

		if (!n)
			continue;
		snprintf(n->underlay_ip, sizeof(n->underlay_ip), "%s", jstr(e, "underlay_ip"));
		n->tunnel_port = (uint32_t)json_integer_value(json_object_get(e, "tunnel_port"));
		snprintf(n->boot_id, sizeof(n->boot_id), "%s", jstr(e, "boot_id"));
		n->boot_hash = oak_hb_hash(n->boot_id);
		snprintf(n->arch, sizeof(n->arch), "%s", jstr(e, "arch"));
		json_array_foreach(json_object_get(e, "runtimes"), k,
				   f) if (n->runtimes.n < OAK_NAMES_MAX)
		    snprintf(n->runtimes.v[n->runtimes.n++], OAK_RUNTIME_LEN, "%s",
			     json_string_value(f) ?: "");
		if (!ocl_subnet_claim(&o->c.subnets, n->id, jstr(e, "subnet")))
			snprintf(n->subnet, sizeof(n->subnet), "%s", jstr(e, "subnet"));
		/* lost before: stays lost until it speaks; else it has
		 * node_timeout to confirm it is alive */
		n->state =
		    json_is_true(json_object_get(e, "lost")) ? OCL_NODE_LOST : OCL_NODE_ACTIVE;
		n->confirmed = false;
	}
	json_array_foreach(json_object_get(root, "services"), i, e)
	{
		struct ocl_service *s = ocl_service_get(&o->c, jstr(e, "job_name"));

		if (!s)
			continue;
		snprintf(s->service_id, sizeof(s->service_id), "%s", jstr(e, "service_id"));
		snprintf(s->rr_ip, sizeof(s->rr_ip), "%s", jstr(e, "rr_ip"));
		snprintf(s->closest_ip, sizeof(s->closest_ip), "%s", jstr(e, "closest_ip"));
		snprintf(s->rr_ip_v6, sizeof(s->rr_ip_v6), "%s", jstr(e, "rr_ip_v6"));
		snprintf(s->closest_ip_v6, sizeof(s->closest_ip_v6), "%s",
			 jstr(e, "closest_ip_v6"));
		f = json_object_get(e, "spec");
		s->spec = json_is_object(f) ? json_incref(f) : NULL;
		json_array_foreach(json_object_get(e, "instances"), k, f)
		{
			struct ocl_instance *in = ocl_instance_add(
			    s, (uint32_t)json_integer_value(json_object_get(f, "number")));

			if (!in)
				continue;
			snprintf(in->instance_ip, sizeof(in->instance_ip), "%s",
				 jstr(f, "instance_ip"));
			snprintf(in->node_id, sizeof(in->node_id), "%s", jstr(f, "node_id"));
			snprintf(in->namespace_ip, sizeof(in->namespace_ip), "%s",
				 jstr(f, "namespace_ip"));
			if (oak_instance_state_parse(jstr(f, "state"), &in->state))
				in->state = OAK_INSTANCE_CREATING;
			in->changed_ms = now;
		}
		json_array_foreach(json_object_get(e, "interests"), k, f)
		    ocl_interest_add(s, json_string_value(f) ?: "");
	}
	oak_log(INFO, "state: %zu nodes, %zu services from %s; confirming from node reports",
		o->c.n_nodes, o->c.n_svcs, o->state_path);
	json_decref(root);
	o->placements_pending = true;
}

/* ------------------------------------------------------------ timer */

static void tick(struct ocl *o)
{
	char lost[32][OAK_ID_LEN], err[512];
	int64_t now = now_ms();
	size_t k;

	if (oak_bus_state(o->nbus) == OAK_BUS_CONNECTED) {
		/* no heartbeat yet (this incarnation), long after its hello: an
		 * old agent, or heartbeats that cannot reach us; say so once */
		for (size_t i = 0; i < o->c.n_nodes; i++) {
			struct ocl_node *n = &o->c.nodes[i];

			if (n->state == OCL_NODE_ACTIVE && n->confirmed && !n->last_hb_ms &&
			    !n->hb_warned && now - n->last_seen_ms < 1000 &&
			    now - o->nbus_up_ms > 10000 && o->hb_fd >= 0) {
				n->hb_warned = true;
				oak_log(WARN,
					"node %s: no heartbeat on UDP port %d; its liveness "
					"comes from its reports (lost after %.1f s without one)",
					n->id, (int)oak_config_int(o->cfg, "heartbeat_port"),
					(double)o->c.report_timeout_ms / 1000.0);
			}
		}
		/* lost nodes whose instances sit on a lost node too are handled
		 * by node_lost; expire at most 32 per tick */
		k = ocl_nodes_expire(&o->c, now, o->timeout_ms, lost, 32);
		for (size_t i = 0; i < k; i++) {
			struct ocl_node *n = ocl_node_find(&o->c, lost[i]);

			n->state = OCL_NODE_ACTIVE; /* node_lost marks it */
			node_lost(o, n, "silent");
		}
		/* instances whose node is lost (e.g. after a restart) */
		if (o->placements_pending && now - o->last_place_ms >= 1000) {
			o->placements_pending = false;
			o->last_place_ms = now;
			for (size_t i = 0; i < o->c.n_svcs; i++) {
				struct ocl_service *s = o->c.svcs[i];
				bool hit = false;

				for (size_t j = 0; j < s->n_inst; j++) {
					struct ocl_instance *in = &s->inst[j];
					struct ocl_node *n = ocl_node_find(&o->c, in->node_id);

					if (!in->node_id[0] || !ocl_state_live(in->state) ||
					    (n && n->state == OCL_NODE_ACTIVE))
						continue;
					set_inst_state(o, s, in, OAK_INSTANCE_FAILED,
						       "its node is lost");
					in->node_id[0] = '\0';
					in->state = OAK_INSTANCE_CREATING;
					hit = true;
				}
				if (hit)
					publish_table(o, s);
				place_pending(o, s, false);
			}
		}
		/* a deploy that got no answer (lost message, node busy): again;
		 * the node treats a repeated deploy as a request to report */
		for (size_t i = 0; i < o->c.n_svcs; i++) {
			struct ocl_service *s = o->c.svcs[i];

			for (size_t j = 0; j < s->n_inst; j++) {
				struct ocl_instance *in = &s->inst[j];
				struct oak_service svc;

				if (in->state != OAK_INSTANCE_CREATING || !in->node_id[0] ||
				    now - in->changed_ms < 10000)
					continue;
				in->changed_ms = now;
				if (service_of(s, &svc, err, sizeof(err)))
					continue;
				oak_log(
				    WARN,
				    "instance %s.%u: no report from %s for 10 s, deploying again",
				    s->job_name, in->number, in->node_id);
				send_deploy(o, s, &svc, in);
				oak_service_free(&svc);
			}
		}
		/* table queries the root did not answer */
		for (size_t i = 0; i < MAX_PENDING_Q; i++)
			if (o->pq[i].at_ms && now - o->pq[i].at_ms > 2000) {
				answer(o, o->pq[i].node_id, NULL, o->pq[i].ip, o->pq[i].job_name);
				o->pq[i].at_ms = 0;
			}
	}
	send_info(o, false);
	if (o->dirty)
		state_save(o);
}

/* ------------------------------------------------------------ heartbeats */

static int hb_open(struct ocl *o)
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

static void hb_recv(struct ocl *o)
{
	uint8_t buf[OAK_HB_MAX + 1];
	int64_t now = now_ms();

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
		ocl_node_heartbeat(n, now, hb.seq);
	}
}

/* ------------------------------------------------------------ main */

static int subscribe(struct ocl *o)
{
	static const struct {
		const char *suffix;
		oak_bus_msg_cb cb;
	} nsubs[] = {
	    {OAK_T_HELLO, on_hello},
	    {OAK_T_STATUS, on_status},
	    {OAK_T_INFORMATION, on_info},
	    {OAK_T_JOBS_RESOURCES, on_any},
	    {OAK_T_JOB, on_job},
	    {OAK_T_TABLEQUERY_REQ, on_query},
	    {OAK_T_SERVICE_DEPLOYED, on_net_service},
	    {OAK_T_SERVICE_UNDEPLOY, on_net_service},
	    {OAK_T_INTEREST_REMOVE, on_interest_remove},
	};
	static const struct {
		const char *suffix;
		oak_bus_msg_cb cb;
	} rsubs[] = {
	    {OAK_T_DEPLOY, on_deploy},
	    {OAK_T_UNDEPLOY, on_undeploy},
	    {OAK_T_SCALE, on_scale},
	    {OAK_T_TABLEQUERY_RES, on_root_table},
	    {OAK_T_UPDATES_AVAILABLE, on_root_table},
	    {OAK_T_SUBNET, on_root_subnet},
	};
	char t[OAK_TOPIC_LEN];

	for (size_t i = 0; i < sizeof(nsubs) / sizeof(nsubs[0]); i++) {
		snprintf(t, sizeof(t), "nodes/+/%s", nsubs[i].suffix);
		if (oak_bus_subscribe(o->nbus, t, nsubs[i].cb, o))
			return -1;
	}
	for (size_t i = 0; i < sizeof(rsubs) / sizeof(rsubs[0]); i++)
		if (oak_topic_cluster(t, sizeof(t), o->c.id, rsubs[i].suffix) ||
		    oak_bus_subscribe(o->rbus, t, rsubs[i].cb, o))
			return -1;
	return 0;
}

static int loop(struct ocl *o)
{
	while (!o->stop) {
		struct pollfd pf[5];
		int np = 0, inb = -1, irb = -1, ihb = -1, fdn = oak_bus_fd(o->nbus),
		    fdr = oak_bus_fd(o->rbus);
		int to = oak_bus_timeout_ms(o->nbus), tr = oak_bus_timeout_ms(o->rbus), rc;
		bool rd, wr;

		pf[np++] = (struct pollfd){.fd = o->timer_fd, .events = POLLIN};
		pf[np++] = (struct pollfd){.fd = o->sig_fd, .events = POLLIN};
		if (fdn >= 0) {
			inb = np;
			pf[np++] = (struct pollfd){
			    .fd = fdn,
			    .events = POLLIN | (oak_bus_want_write(o->nbus) ? POLLOUT : 0)};
		}
		if (fdr >= 0) {
			irb = np;
			pf[np++] = (struct pollfd){
			    .fd = fdr,
			    .events = POLLIN | (oak_bus_want_write(o->rbus) ? POLLOUT : 0)};
		}
		if (o->hb_fd >= 0) {
			ihb = np;
			pf[np++] = (struct pollfd){.fd = o->hb_fd, .events = POLLIN};
		}
		rc = poll(pf, (nfds_t)np, tr < to ? tr : to);
		if (rc < 0 && errno != EINTR) {
			oak_log(ERROR, "poll: %s", strerror(errno));
			return -1;
		}
		if (rc > 0 && ihb >= 0 && pf[ihb].revents)
			hb_recv(o);
		rd = rc > 0 && inb >= 0 && (pf[inb].revents & (POLLIN | POLLHUP | POLLERR));
		wr = rc > 0 && inb >= 0 && (pf[inb].revents & POLLOUT);
		oak_bus_process(o->nbus, rd, wr);
		rd = rc > 0 && irb >= 0 && (pf[irb].revents & (POLLIN | POLLHUP | POLLERR));
		wr = rc > 0 && irb >= 0 && (pf[irb].revents & POLLOUT);
		oak_bus_process(o->rbus, rd, wr);
		if (rc > 0 && pf[1].revents) {
			struct signalfd_siginfo si;

			if (read(o->sig_fd, &si, sizeof(si)) == sizeof(si)) {
				oak_log(INFO, "signal %u: stopping (instances keep running)",
					si.ssi_signo);
				o->stop = true;
			}
		}
		if (rc > 0 && pf[0].revents) {
			uint64_t ticks;

			if (read(o->timer_fd, &ticks, sizeof(ticks)) < 0 && errno != EAGAIN)
				oak_log(WARN, "timerfd: %s", strerror(errno));
			tick(o);
		}
	}
	return 0;
}

#define OPT(k) (*oak_config_str(o->cfg, k) ? oak_config_str(o->cfg, k) : NULL)

int main(int argc, char **argv)
{
	static struct ocl inst;
	struct ocl *o = &inst;
	struct oak_bus_opts nb = {0}, rb = {0};
	struct oak_msg_status will = {0};
	char err[512], id[OAK_ID_LEN], host[256] = "", dir[560], nwill_t[OAK_TOPIC_LEN],
				       rwill_t[OAK_TOPIC_LEN], ncid[OAK_ID_LEN + 8];
	char *nwill = NULL, *rwill = NULL;
	struct itimerspec its = {{0, 200 * 1000000}, {0, 200 * 1000000}};
	enum oak_log_level lvl;
	sigset_t mask;
	int rc;

	oak_log_init("oak-cluster", OAK_LOG_INFO);
	o->cfg = oak_config_new("oak-cluster", keys, sizeof(keys) / sizeof(keys[0]));
	if (!o->cfg)
		return 1;
	rc = oak_config_parse_args(o->cfg, argc, argv, stdout, err, sizeof(err));
	if (rc == 1)
		return 0;
	if (rc < 0) {
		fprintf(stderr, "oak-cluster: %s\n", err);
		return 2;
	}
	if (oak_log_level_parse(oak_config_str(o->cfg, "log_level"), &lvl) == 0)
		oak_log_set_level(lvl);
	gethostname(host, sizeof(host) - 1);
	snprintf(id, sizeof(id), "%.64s", OPT("cluster_id") ? OPT("cluster_id") : host);
	if (!oak_topic_id_valid(id)) {
		oak_log(ERROR, "cluster_id: '%s' is not usable as an MQTT topic level", id);
		return 2;
	}
	ocl_cluster_init(&o->c, id);
	snprintf(o->name, sizeof(o->name), "%.64s", OPT("cluster_name") ? OPT("cluster_name") : id);
	if (ocl_subnets_init(&o->c.subnets, oak_config_str(o->cfg, "subnet_block"))) {
		oak_log(ERROR,
			"subnet_block: '%s' is not a block of 10.18.0.0/16 between /16 and /26",
			oak_config_str(o->cfg, "subnet_block"));
		return 2;
	}
	o->timeout_ms = (int64_t)(oak_config_double(o->cfg, "node_timeout") * 1000.0);
	if (o->timeout_ms < 500) {
		oak_log(ERROR, "node_timeout: at least 0.5 s");
		return 2;
	}
	o->c.report_timeout_ms =
	    o->timeout_ms + (int64_t)(oak_config_double(o->cfg, "node_report_interval") * 1000.0);
	if (hb_open(o))
		return 1;
	if (oak_config_bool(o->cfg, "location_set")) {
		o->c.location.set = true;
		o->c.location.lat = oak_config_double(o->cfg, "latitude");
		o->c.location.lon = oak_config_double(o->cfg, "longitude");
	}
	o->c.radius_km = oak_config_double(o->cfg, "radius_km");
	snprintf(dir, sizeof(dir), "%.500s",
		 OPT("state_dir") ? OPT("state_dir") : "/var/lib/oak/cluster-");
	if (!OPT("state_dir"))
		snprintf(dir, sizeof(dir), "/var/lib/oak/cluster-%s", id);
	if (oak_mkdir_p(dir, 0750, 0750)) {
		oak_log(ERROR, "state_dir %s: %s", dir, strerror(errno));
		return 1;
	}
	snprintf(o->state_path, sizeof(o->state_path), "%s/state.json", dir);
	{
		FILE *f = fopen("/proc/sys/kernel/random/uuid", "re");

		if (!f || !fgets(o->boot_id, sizeof(o->boot_id), f))
			snprintf(o->boot_id, sizeof(o->boot_id), "%lld", (long long)wall_ms());
		if (f)
			fclose(f);
		o->boot_id[strcspn(o->boot_id, "\n")] = '\0';
	}
	state_load(o);

	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);
	o->sig_fd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	o->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (o->sig_fd < 0 || o->timer_fd < 0 || timerfd_settime(o->timer_fd, 0, &its, NULL)) {
		oak_log(ERROR, "signalfd/timerfd: %s", strerror(errno));
		return 1;
	}

	/* cluster broker: the nodes' side; our will tells them we are gone */
	memcpy(will.id, id, sizeof(will.id)); /* both OAK_ID_LEN, NUL-terminated */
	will.online = false;
	snprintf(will.boot_id, sizeof(will.boot_id), "%.*s", (int)sizeof(will.boot_id) - 1,
		 o->boot_id);
	nwill = oak_msg_status_encode(&will);
	snprintf(nwill_t, sizeof(nwill_t), "%s", OCL_T_CLUSTER_STATUS);
	snprintf(ncid, sizeof(ncid), "cluster-%.56s", id);
	nb.host = oak_config_str(o->cfg, "broker_host");
	nb.port = (int)oak_config_int(o->cfg, "broker_port");
	nb.client_id = ncid;
	nb.username = OPT("broker_username");
	nb.password = OPT("broker_password");
	nb.cafile = OPT("broker_cafile");
	nb.keepalive_s = (int)oak_config_int(o->cfg, "keepalive");
	nb.clean_session = true;
	nb.will_topic = nwill_t;
	nb.will_payload = nwill;
	nb.will_retain = true;
	/* root broker */
	rwill = oak_msg_status_encode(&will);
	oak_topic_cluster(rwill_t, sizeof(rwill_t), id, OAK_T_STATUS);
	rb = nb;
	rb.client_id = id;
	rb.host = OPT("root_broker_host") ? OPT("root_broker_host") : nb.host;
	rb.port = oak_config_int(o->cfg, "root_broker_port")
		      ? (int)oak_config_int(o->cfg, "root_broker_port")
		      : nb.port;
	if (OPT("root_broker_host") || OPT("root_broker_username")) {
		rb.username = OPT("root_broker_username");
		rb.password = OPT("root_broker_password");
		rb.cafile = OPT("root_broker_cafile");
	}
	rb.will_topic = rwill_t;
	rb.will_payload = rwill;
	oak_log(INFO,
		"cluster %s (%s): nodes on %s:%d, heartbeats on %s:%lld/udp, root on %s:%d, node "
		"timeout %.1f s, subnets %s, state %s",
		id, o->name, nb.host, nb.port, oak_config_str(o->cfg, "heartbeat_addr"),
		(long long)oak_config_int(o->cfg, "heartbeat_port"), rb.host, rb.port,
		(double)o->timeout_ms / 1000.0, oak_config_str(o->cfg, "subnet_block"),
		o->state_path);
	o->nbus = oak_bus_new(&nb);
	o->rbus = oak_bus_new(&rb);
	if (!o->nbus || !o->rbus) {
		oak_log(ERROR, "bus: cannot create");
		return 1;
	}
	oak_bus_on_state(o->nbus, on_node_bus_state, o);
	oak_bus_on_state(o->rbus, on_root_state, o);
	if (subscribe(o)) {
		oak_log(ERROR, "bus: cannot subscribe");
		return 1;
	}

	rc = loop(o);

	state_save(o);
	/* clean stop: say so on both sides (the will is for crashes) */
	if (oak_bus_state(o->nbus) == OAK_BUS_CONNECTED)
		pub(o->nbus, OCL_T_CLUSTER_STATUS, oak_msg_status_encode(&will), true);
	if (oak_bus_state(o->rbus) == OAK_BUS_CONNECTED)
		pub_root(o, OAK_T_STATUS, oak_msg_status_encode(&will), true);
	for (int i = 0; i < 5 && (oak_bus_want_write(o->nbus) || oak_bus_want_write(o->rbus));
	     i++) {
		oak_bus_loop(o->nbus, 50);
		oak_bus_loop(o->rbus, 50);
	}
	oak_bus_free(o->nbus);
	oak_bus_free(o->rbus);
	if (o->hb_fd >= 0)
		close(o->hb_fd);
	free(nwill);
	free(rwill);
	ocl_cluster_free(&o->c);
	oak_config_free(o->cfg);
	oak_log(INFO, "stopped");
	return rc ? 1 : 0;
}
