// SPDX-License-Identifier: MIT
/*
 * oak-node: the node agent. One thread on the shared event loop: the
 * cluster bus, the datapath's miss ring buffer, the probe socket, a pidfd
 * per instance and a 1 s tick. This file only reads the config, creates
 * the parts (node.h lists them) and runs the loop; instances and the
 * kernel keep running when it stops.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <oak/fsutil.h>
#include <oak/log.h>

#include "node.h"

static const struct oak_cfg_key keys[] = {
    {"node_id", OAK_CFG_STR, NULL, "node id, unique in the cluster (default: hostname)"},
    {"broker_host", OAK_CFG_STR, "127.0.0.1", "cluster MQTT broker host"},
    {"broker_port", OAK_CFG_INT, "1883", "cluster MQTT broker port (8883 usual with TLS)"},
    {"broker_username", OAK_CFG_STR, NULL, "MQTT user name (optional)"},
    {"broker_password", OAK_CFG_STR, NULL, "MQTT password (optional)"},
    {"broker_cafile", OAK_CFG_STR, NULL, "CA certificate: TLS on when set"},
    {"broker_certfile", OAK_CFG_STR, NULL, "client certificate for TLS (optional)"},
    {"broker_keyfile", OAK_CFG_STR, NULL, "client key for TLS (optional)"},
    {"keepalive", OAK_CFG_INT, "30",
     "MQTT keepalive in seconds (min 5); liveness is the UDP heartbeat, so above "
     "report_interval an idle node sends no pings"},
    {"report_interval", OAK_CFG_INT, "10",
     "seconds between resource reports at the latest (sooner on significant change)"},
    {"heartbeat_interval", OAK_CFG_INT, "1",
     "seconds between UDP heartbeats to the cluster (its liveness signal; 0: off)"},
    {"cluster_heartbeat", OAK_CFG_STR, NULL,
     "host:port of oak-cluster's heartbeat socket (default: broker_host:50104)"},
    {"node_ip", OAK_CFG_STR, NULL, "underlay IPv4 address: tunnel endpoint (required)"},
    {"uplink", OAK_CFG_STR, NULL, "underlay interface (required)"},
    {"uplink_mode", OAK_CFG_STR, "auto", "decapsulation hook: auto, tc or xdp"},
    {"subnet", OAK_CFG_STR, NULL,
     "instance subnet, a /26 of 10.18.0.0/16; normally assigned by the cluster"},
    {"latitude", OAK_CFG_DOUBLE, "0", "node location: latitude"},
    {"longitude", OAK_CFG_DOUBLE, "0", "node location: longitude"},
    {"location_set", OAK_CFG_BOOL, "false", "report latitude/longitude"},
    {"runtimes", OAK_CFG_STR, "native,container",
     "runtimes to offer, comma-separated; offered only when available"},
    {"state_dir", OAK_CFG_STR, NULL, "instance records and logs (default /var/lib/oak/<node_id>)"},
    {"restart_tries", OAK_CFG_INT, "3", "local restarts of a crashed instance before DEAD"},
    {"restart_backoff_ms", OAK_CFG_INT, "1000", "first restart delay, doubled each try"},
    {"stop_timeout_ms", OAK_CFG_INT, "3000", "SIGTERM to SIGKILL on undeploy"},
    {"interest_idle", OAK_CFG_INT, "10", "seconds an unused service interest is kept"},
    {"probe_interval", OAK_CFG_INT, "3",
     "seconds between latency probes to each peer node hosting a service in use (0: off)"},
    {"probe_resolution_us", OAK_CFG_INT, "1000",
     "latencies are ranked in steps of this many µs: nearer peers tie and share flows"},
    {"instance_tx_offload", OAK_CFG_BOOL, "false", "leave tx checksum offload on inside instances"},
    {"containerd_address", OAK_CFG_STR, "/run/containerd/containerd.sock",
     "containerd's socket, for the container runtime"},
    {"containerd_namespace", OAK_CFG_STR, "oak", "containerd namespace of oak's containers"},
    {"sim", OAK_CFG_BOOL, "false",
     "simulate: run no process and make no namespace, cgroup or BPF program; every "
     "control-plane step is the real one (scale tests; uplink not needed)"},
    {"metrics_listen", OAK_CFG_STR, "127.0.0.1:9464",
     "address:port of the Prometheus /metrics endpoint (off: none)"},
    {"log_level", OAK_CFG_STR, "info", "debug, info, warn or error"},
};

/* the parts that work on time, in this order every second */
static int64_t tick(struct oak_loop *l, void *arg)
{
	struct oak_node *n = arg;

	heartbeat_tick(n);
	restarts_tick(n);
	reports_tick(n);
	interests_tick(n);
	probe_tick(n);
	return 1000;
}

static void on_signal(struct oak_loop *l, int signo, void *arg)
{
	oak_log(INFO, "signal %d: stopping (instances keep running)", signo);
	oak_loop_stop(l);
}

static int subscribe_all(struct oak_node *n)
{
	static const struct {
		const char *suffix;
		oak_bus_msg_cb cb;
	} subs[] = {
	    {OAK_T_DEPLOY, on_deploy},
	    {OAK_T_DELETE, on_delete},
	    {OAK_T_SUBNET, on_subnet},
	    {OAK_T_TABLEQUERY_RES, on_table},
	};
	char topic[OAK_TOPIC_LEN];

	for (size_t i = 0; i < sizeof(subs) / sizeof(subs[0]); i++) {
		if (oak_topic_node(topic, sizeof(topic), n->id, subs[i].suffix) ||
		    oak_bus_subscribe(n->bus, topic, subs[i].cb, n))
			return -1;
	}
	return oak_bus_subscribe(n->bus, OAK_TOPIC_CLUSTER_STATUS, on_cluster_status, n);
}

/* Who and where this node is: id, underlay address, state dir, subnet,
 * architecture, location. 0, or the exit status. */
static int node_identity(struct oak_node *n, char *id_buf, size_t id_len)
{
	const char *s = oak_config_str(n->cfg, "node_id");
	char path[600];
	struct utsname un;

	gethostname(n->hostname, sizeof(n->hostname) - 1);
	snprintf(id_buf, id_len, "%.64s", *s ? s : n->hostname);
	n->id = id_buf;
	if (!oak_topic_id_valid(n->id)) {
		oak_log(ERROR, "node_id: '%s' is not usable as an MQTT topic level", n->id);
		return 2;
	}
	snprintf(n->node_ip, sizeof(n->node_ip), "%s", oak_config_str(n->cfg, "node_ip"));
	n->node_ip_n = ip4(n->node_ip);
	if (!n->node_ip_n) {
		oak_log(ERROR, "node_ip: required, an IPv4 address (got '%s')", n->node_ip);
		return 2;
	}
	n->sim = oak_config_bool(n->cfg, "sim");
	if (!n->sim && !*oak_config_str(n->cfg, "uplink")) {
		oak_log(ERROR, "uplink: required, the underlay interface");
		return 2;
	}
	s = oak_config_str(n->cfg, "state_dir");
	if (*s)
		snprintf(n->state_dir, sizeof(n->state_dir), "%s", s);
	else
		snprintf(n->state_dir, sizeof(n->state_dir), "/var/lib/oak/%s", n->id);
	snprintf(path, sizeof(path), "%.512s/instances", n->state_dir);
	if (oak_mkdir_p(path, 0755, 0750)) {
		oak_log(ERROR, "state_dir: %s: %s", path, strerror(errno));
		return 1;
	}
	n->env.state_dir = n->state_dir;
	n->env.containerd_address = oak_config_str(n->cfg, "containerd_address");
	n->env.containerd_namespace = oak_config_str(n->cfg, "containerd_namespace");
	if (subnet_init(n))
		return 2;
	uname(&un);
	snprintf(n->arch, sizeof(n->arch), "%s", oak_res_arch_name(un.machine));
	n->location.set = oak_config_bool(n->cfg, "location_set");
	n->location.lat = oak_config_double(n->cfg, "latitude");
	n->location.lon = oak_config_double(n->cfg, "longitude");
	return 0;
}

/* the cluster bus, with a retained offline status as its last will */
static int connect_bus(struct oak_node *n, const char *will_topic, const char *will_payload)
{
	struct oak_bus_opts bo = {0};

	oak_bus_opts_from_config(&bo, n->cfg, "broker_");
	bo.client_id = n->id;
	bo.keepalive_s = (int)oak_config_int(n->cfg, "keepalive");
	bo.clean_session = true;
	bo.will_topic = will_topic;
	bo.will_payload = will_payload;
	bo.will_retain = true;
	oak_log(INFO, "node %s: underlay %s, state %s, subnet %s, broker %s:%d", n->id, n->node_ip,
		n->state_dir, n->subnet[0] ? n->subnet : "(none yet)", bo.host, bo.port);
	n->bus = oak_bus_new(&bo);
	if (!n->bus) {
		oak_log(ERROR, "bus: cannot create");
		return -1;
	}
	oak_bus_on_state(n->bus, on_bus_state, n);
	if (subscribe_all(n)) {
		oak_log(ERROR, "bus: cannot subscribe");
		return -1;
	}
	if (oak_loop_add_bus(n->loop, n->bus)) {
		oak_log(ERROR, "bus: cannot watch its socket");
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static struct oak_node node = {.dp_fd = -1, .hb_fd = -1};
	struct oak_node *n = &node;
	struct oak_msg_status will = {0};
	char will_topic[OAK_TOPIC_LEN], node_id_buf[OAK_ID_LEN];
	char *will_payload = NULL;
	int rc;

	n->cfg =
	    oak_daemon_config("oak-node", keys, sizeof(keys) / sizeof(keys[0]), argc, argv, &rc);
	if (!n->cfg)
		return rc;
	rc = node_identity(n, node_id_buf, sizeof(node_id_buf));
	if (rc)
		return rc;
	pick_runtimes(n);
	read_boot_id(n);
	sample_resources(n);
	n->cpu_prev_ms = oak_mono_ms();

	n->loop = oak_loop_new();
	if (!n->loop)
		return 1;
	oak_loop_on_signal(n->loop, on_signal, n);
	if (n->sim)
		oak_log(INFO, "sim: no datapath; instances are simulated (no process, namespace, "
			      "cgroup or BPF)");
	else if (setup_datapath(n))
		return 1;
	latency_start(n);
	heartbeat_start(n);

	snprintf(will.id, sizeof(will.id), "%s", n->id);
	will.online = false;
	snprintf(will.boot_id, sizeof(will.boot_id), "%.39s", n->boot_id);
	will_payload = oak_msg_status_encode(&will);
	oak_topic_node(will_topic, sizeof(will_topic), n->id, OAK_T_STATUS);
	if (connect_bus(n, will_topic, will_payload) || node_metrics_start(n))
		return 1;
	interests_restore(n);
	adopt_records(n);
	if (oak_loop_add_timer(n->loop, 1000, tick, n) < 0) {
		oak_log(ERROR, "event loop: cannot add the tick");
		return 1;
	}

	rc = oak_loop_run(n->loop);

	/* clean stop: say so (the will is only for crashes); instances keep
	 * running and the kernel keeps forwarding */
	if (node_connected(n)) {
		publish_node(n, OAK_T_STATUS, oak_msg_status_encode(&will), true);
		oak_bus_flush(&n->bus, 1, 500);
	}
	node_metrics_stop(n);
	oak_bus_free(n->bus);
	free(will_payload);
	if (n->dp)
		oak_dp_close(n->dp);
	oak_probe_free(n->probe);
	heartbeat_stop(n);
	instances_free(n);
	interests_free(n);
	oak_loop_free(n->loop);
	oak_config_free(n->cfg);
	oak_log(INFO, "stopped");
	return rc ? 1 : 0;
}
