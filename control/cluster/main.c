/*
 * oak-cluster: the cluster orchestrator. One thread on the daemon skeleton's
 * event loop (include/oak/daemon.h) with two MQTT buses (the cluster's
 * broker towards its nodes, the root broker towards oak-root), the nodes'
 * UDP heartbeats and a 200 ms tick. It keeps the node registry and node
 * health, places service instances on nodes with the scheduler library,
 * hands out node subnets, holds the service tables and the nodes' interests
 * in them, and reports aggregated resources and instance states upward.
 * This file reads the config and wires the parts (parts.h) together.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "parts.h"
#include "oak/daemon.h"
#include "oak/fsutil.h"
#include "oak/log.h"

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
     "node subnets (/26s) while no root answers; set explicitly, the only source of node "
     "subnets (standalone clusters, tests)"},
    {"subnet_timeout", OAK_CFG_DOUBLE, "2",
     "seconds a new node waits for its subnet from the root before it gets one of "
     "subnet_block"},
    {"latitude", OAK_CFG_DOUBLE, "0", "cluster location: latitude"},
    {"longitude", OAK_CFG_DOUBLE, "0", "cluster location: longitude"},
    {"location_set", OAK_CFG_BOOL, "false", "report latitude/longitude"},
    {"radius_km", OAK_CFG_DOUBLE, "0", "radius around the location its nodes cover"},
    {"state_dir", OAK_CFG_STR, NULL, "durable state (default /var/lib/oak/cluster-<id>)"},
    {"metrics_listen", OAK_CFG_STR, "127.0.0.1:9465",
     "address:port of the Prometheus /metrics endpoint (off: none)"},
    {"log_level", OAK_CFG_STR, "info", "debug, info, warn or error"},
};

/* what the parts subscribe to, on each bus */
struct sub {
	const char *suffix;
	oak_bus_msg_cb cb;
};

static const struct sub node_subs[] = {
    {OAK_T_HELLO, ocl_on_hello},
    {OAK_T_STATUS, ocl_on_status},
    {OAK_T_INFORMATION, ocl_on_info},
    {OAK_T_JOBS_RESOURCES, ocl_on_usage},
    {OAK_T_JOB, ocl_on_job},
    {OAK_T_TABLEQUERY_REQ, ocl_on_query},
    {OAK_T_SERVICE_DEPLOYED, ocl_on_net_service},
    {OAK_T_SERVICE_UNDEPLOY, ocl_on_net_service},
    {OAK_T_INTEREST_REMOVE, ocl_on_interest_remove},
};

static const struct sub root_subs[] = {
    {OAK_T_DEPLOY, ocl_on_deploy},
    {OAK_T_UNDEPLOY, ocl_on_undeploy},
    {OAK_T_SCALE, ocl_on_scale},
    {OAK_T_TABLEQUERY_RES, ocl_on_root_table},
    {OAK_T_UPDATES_AVAILABLE, ocl_on_root_table},
    {OAK_T_SUBNET, ocl_on_root_subnet},
};

static int subscribe(struct ocl *o)
{
	char t[OAK_TOPIC_LEN];

	for (size_t i = 0; i < sizeof(node_subs) / sizeof(node_subs[0]); i++) {
		snprintf(t, sizeof(t), "nodes/+/%s", node_subs[i].suffix);
		if (oak_bus_subscribe(o->nbus, t, node_subs[i].cb, o))
			return -1;
	}
	for (size_t i = 0; i < sizeof(root_subs) / sizeof(root_subs[0]); i++)
		if (oak_topic_cluster(t, sizeof(t), o->c.id, root_subs[i].suffix) ||
		    oak_bus_subscribe(o->rbus, t, root_subs[i].cb, o))
			return -1;
	return 0;
}

static int64_t tick(struct oak_loop *l, void *arg)
{
	struct ocl *o = arg;
	int64_t now = oak_mono_ms();

	if (oak_bus_state(o->nbus) == OAK_BUS_CONNECTED) {
		ocl_registry_tick(o, now);
		ocl_subnets_tick(o, now);
		ocl_placement_tick(o, now);
		ocl_tables_tick(o, now);
	}
	ocl_send_info(o, false);
	if (o->dirty)
		ocl_state_save(o);
	return OCL_TICK_MS;
}

static void on_heartbeats(struct oak_loop *l, int fd, unsigned events, void *arg)
{
	ocl_heartbeat_recv(arg);
}

static void on_signal(struct oak_loop *l, int signo, void *arg)
{
	oak_log(INFO, "signal %d: stopping (instances keep running)", signo);
	oak_loop_stop(l);
}

#define OPT(k) (*oak_config_str(o->cfg, k) ? oak_config_str(o->cfg, k) : NULL)

/* Config into o: ids, node timeouts, the subnet block, location and the
 * state directory. 0, or the exit code. */
static int configure(struct ocl *o)
{
	char host[256] = "", id[OAK_ID_LEN], dir[560];

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
	o->subnets_local = strcmp(oak_config_origin(o->cfg, "subnet_block"), "default") != 0;
	o->subnet_timeout_ms = (int64_t)(oak_config_double(o->cfg, "subnet_timeout") * 1000.0);
	o->timeout_ms = (int64_t)(oak_config_double(o->cfg, "node_timeout") * 1000.0);
	if (o->timeout_ms < 500) {
		oak_log(ERROR, "node_timeout: at least 0.5 s");
		return 2;
	}
	o->c.report_timeout_ms =
	    o->timeout_ms + (int64_t)(oak_config_double(o->cfg, "node_report_interval") * 1000.0);
	if (oak_config_bool(o->cfg, "location_set")) {
		o->c.location.set = true;
		o->c.location.lat = oak_config_double(o->cfg, "latitude");
		o->c.location.lon = oak_config_double(o->cfg, "longitude");
	}
	o->c.radius_km = oak_config_double(o->cfg, "radius_km");
	if (OPT("state_dir"))
		snprintf(dir, sizeof(dir), "%.500s", OPT("state_dir"));
	else
		snprintf(dir, sizeof(dir), "/var/lib/oak/cluster-%s", id);
	if (oak_mkdir_p(dir, 0750, 0750)) {
		oak_log(ERROR, "state_dir %s: %s", dir, strerror(errno));
		return 1;
	}
	snprintf(o->state_path, sizeof(o->state_path), "%s/state.json", dir);
	return 0;
}

/* A fresh id for this run of the process. */
static void new_boot_id(char *out, size_t len)
{
	FILE *f = fopen("/proc/sys/kernel/random/uuid", "re");

	if (!f || !fgets(out, (int)len, f))
		snprintf(out, len, "%lld", (long long)oak_wall_ms());
	if (f)
		fclose(f);
	out[strcspn(out, "\n")] = '\0';
}

/* Both buses, each with the cluster's last will (online=false: retained
 * cluster/status for the nodes, clusters/<cid>/status for the root). The
 * root broker defaults to the cluster broker; its credentials too unless
 * root_broker_host or root_broker_username is set. */
struct wills {
	char *node, *root;
	char node_topic[OAK_TOPIC_LEN], root_topic[OAK_TOPIC_LEN], client_id[OAK_ID_LEN + 8];
};

static int buses_new(struct ocl *o, const struct oak_msg_status *will, struct wills *w)
{
	struct oak_bus_opts nb = {0}, rb;

	w->node = oak_msg_status_encode(will);
	w->root = oak_msg_status_encode(will);
	snprintf(w->node_topic, sizeof(w->node_topic), "%s", OAK_TOPIC_CLUSTER_STATUS);
	oak_topic_cluster(w->root_topic, sizeof(w->root_topic), o->c.id, OAK_T_STATUS);
	snprintf(w->client_id, sizeof(w->client_id), "cluster-%.56s", o->c.id);
	oak_bus_opts_from_config(&nb, o->cfg, "broker_");
	nb.client_id = w->client_id;
	nb.keepalive_s = (int)oak_config_int(o->cfg, "keepalive");
	nb.clean_session = true;
	nb.will_topic = w->node_topic;
	nb.will_payload = w->node;
	nb.will_retain = true;
	rb = nb;
	rb.client_id = o->c.id;
	if (OPT("root_broker_host") || OPT("root_broker_username"))
		rb.username = rb.password = rb.cafile = NULL;
	oak_bus_opts_from_config(&rb, o->cfg, "root_broker_");
	rb.will_topic = w->root_topic;
	rb.will_payload = w->root;
	oak_log(INFO,
		"cluster %s (%s): nodes on %s:%d, heartbeats on %s:%lld/udp, root on %s:%d, node "
		"timeout %.1f s, subnets %s%s, state %s",
		o->c.id, o->name, nb.host, nb.port, oak_config_str(o->cfg, "heartbeat_addr"),
		(long long)oak_config_int(o->cfg, "heartbeat_port"), rb.host, rb.port,
		(double)o->timeout_ms / 1000.0, o->subnets_local ? "" : "from the root, meanwhile ",
		oak_config_str(o->cfg, "subnet_block"), o->state_path);
	o->nbus = oak_bus_new(&nb);
	o->rbus = oak_bus_new(&rb);
	if (!o->nbus || !o->rbus) {
		oak_log(ERROR, "bus: cannot create");
		return -1;
	}
	oak_bus_on_state(o->nbus, ocl_on_node_bus_state, o);
	oak_bus_on_state(o->rbus, ocl_on_root_state, o);
	if (subscribe(o)) {
		oak_log(ERROR, "bus: cannot subscribe");
		return -1;
	}
	return 0;
}

static struct oak_loop *loop_new(struct ocl *o)
{
	struct oak_loop *l = oak_loop_new();

	if (!l)
		return NULL;
	oak_loop_on_signal(l, on_signal, o);
	if (oak_loop_add_bus(l, o->nbus) || oak_loop_add_bus(l, o->rbus) ||
	    (o->hb_fd >= 0 && oak_loop_add_fd(l, o->hb_fd, OAK_EV_READ, on_heartbeats, o)) ||
	    oak_loop_add_timer(l, OCL_TICK_MS, tick, o) < 0) {
		oak_log(ERROR, "event loop: cannot register the buses, heartbeats and tick");
		oak_loop_free(l);
		return NULL;
	}
	return l;
}

int main(int argc, char **argv)
{
	static struct ocl inst;
	struct ocl *o = &inst;
	struct oak_msg_status will = {0};
	struct wills w = {0};
	struct oak_loop *l = NULL;
	int rc;

	o->hb_fd = -1;
	o->cfg =
	    oak_daemon_config("oak-cluster", keys, sizeof(keys) / sizeof(keys[0]), argc, argv, &rc);
	if (!o->cfg)
		return rc;
	rc = configure(o);
	if (rc)
		return rc;
	if (ocl_heartbeat_open(o))
		return 1;
	new_boot_id(o->boot_id, sizeof(o->boot_id));
	ocl_state_load(o);

	memcpy(will.id, o->c.id, sizeof(will.id)); /* both OAK_ID_LEN, NUL-terminated */
	will.online = false;
	snprintf(will.boot_id, sizeof(will.boot_id), "%.*s", (int)sizeof(will.boot_id) - 1,
		 o->boot_id);
	if (buses_new(o, &will, &w) || !(l = loop_new(o)) || ocl_metrics_start(o, l))
		return 1;

	rc = oak_loop_run(l);

	ocl_state_save(o);
	/* clean stop: say so on both sides (the will is for crashes) */
	if (oak_bus_state(o->nbus) == OAK_BUS_CONNECTED)
		ocl_pub(o->nbus, OAK_TOPIC_CLUSTER_STATUS, oak_msg_status_encode(&will), true);
	if (oak_bus_state(o->rbus) == OAK_BUS_CONNECTED)
		ocl_pub_root(o, OAK_T_STATUS, oak_msg_status_encode(&will), true);
	oak_bus_flush((struct oak_bus *[]){o->nbus, o->rbus}, 2, 500);
	ocl_metrics_stop();
	oak_loop_free(l);
	oak_bus_free(o->nbus);
	oak_bus_free(o->rbus);
	if (o->hb_fd >= 0)
		close(o->hb_fd);
	free(w.node);
	free(w.root);
	ocl_cluster_free(&o->c);
	oak_config_free(o->cfg);
	oak_log(INFO, "stopped");
	return rc ? 1 : 0;
}
