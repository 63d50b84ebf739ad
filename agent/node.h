/* SPDX-License-Identifier: MIT */
/*
 * oak-node's daemon state and what its files share. Each file owns one
 * concern and runs on the shared event loop (oak/daemon.h):
 *
 *   main.c       config, the parts, the loop: wiring only
 *   reports.c    registration (status, hello) and reports to the cluster
 *   heartbeat.c  the UDP heartbeat to the cluster (its liveness signal)
 *   lifecycle.c  deploy, delete, exit, restart backoff, records, adoption
 *   tables.c     service tables and interests -> datapath calls, misses
 *   latency.c    peer probes -> the latencies of closest IPs
 *   uplink.c     the node's datapath on its uplink
 *   subnet.c     the node's instance subnet
 *   metrics.c    Prometheus metrics on metrics_listen
 */
#ifndef OAK_AGENT_NODE_H
#define OAK_AGENT_NODE_H

#include <arpa/inet.h>
#include <stdbool.h>
#include <stdint.h>

#include <netinet/in.h>

#include <oak/bus.h>
#include <oak/config.h>
#include <oak/daemon.h>
#include <oak/dp.h>
#include <oak/msg.h>

#include "instance.h"
#include "probe.h"
#include "resources.h"
#include "runtime.h"

/* A service this node talks to or runs: its Service IPs and the instances
 * the cluster's table lists. Held while local instances of it run, or
 * while flows use it; dropped after interest_idle seconds unused. */
struct oak_remote {
	uint32_t inst_ip; /* network order */
	uint32_t node_ip;
	char node_id[OAK_ID_LEN];
	enum oak_instance_state state;
};

struct oak_interest {
	char job[OAK_JOB_NAME_LEN];
	char service_id[OAK_ID_LEN];
	uint32_t rr_ip, closest_ip; /* network order, 0 = none */
	struct oak_remote *inst;
	size_t n_inst;
	bool have_table;
	bool by_instance; /* learned for an Instance IP (a reply path): no CT
			   * entry shows its use, so it is kept while its table has instances */
	int64_t last_used_ms;
	struct oak_interest *next;
};

struct oak_node {
	struct oak_config *cfg;
	const char *id;
	char state_dir[512];
	char hostname[256];
	char boot_id[40];
	char node_ip[OAK_IP4_LEN];
	uint32_t node_ip_n;
	char subnet[OAK_CIDR_LEN];
	uint32_t subnet_base; /* host order; 0 = no subnet */
	char gw[OAK_IP4_LEN];
	char arch[OAK_RUNTIME_LEN];
	struct oak_names runtimes;
	struct oak_geo location;
	struct oak_runtime_env env;
	bool sim; /* no process, namespace, cgroup or BPF: the control plane only */

	struct oak_loop *loop;
	struct oak_bus *bus;
	struct oak_dp *dp;
	int dp_fd; /* the datapath's miss ring buffer; -1 = none */

	/* peer-node latency probes; NULL when probe_interval is 0 */
	struct oak_probe *probe;
	int64_t last_probe_ms, last_peer_log_ms;

	struct oak_instance *insts;
	struct oak_interest *interests;

	/* recent table queries by address, to ask once per few seconds */
	struct {
		uint32_t addr;
		int64_t at_ms;
	} asked[64];

	/* resources */
	struct oak_cpu_times cpu_prev;
	int64_t cpu_prev_ms;
	double cpu_percent;
	unsigned cpu_moved; /* samples in a row >= 20 points off rep_cpu */
	struct oak_meminfo mem;
	unsigned gpus;
	int64_t last_report_ms, last_usage_ms, last_idle_check_ms;
	double rep_cpu, rep_mem;
	unsigned rep_insts, rep_gpus;
	bool usage_nonempty; /* the last usage report listed instances */

	/* UDP heartbeat to the cluster (its liveness signal) */
	int hb_fd;
	bool hb_ok; /* hb_to resolved */
	struct sockaddr_in hb_to;
	uint32_t hb_seq;
	int64_t last_hb_ms, hb_resolve_ms, hb_err_ms;
};

/* IPv4 text <-> network order; 0 for anything that is not an address */
static inline uint32_t ip4(const char *s)
{
	struct in_addr a;

	if (!s || !*s || inet_pton(AF_INET, s, &a) != 1)
		return 0;
	return a.s_addr;
}

static inline const char *ipstr(uint32_t a, char *buf)
{
	struct in_addr x = {.s_addr = a};

	return inet_ntop(AF_INET, &x, buf, INET_ADDRSTRLEN);
}

/* reports.c */
void publish_node(struct oak_node *n, const char *suffix, char *payload, bool retain);
bool node_connected(const struct oak_node *n);
void report_state(struct oak_node *n, struct oak_instance *in);
void set_state(struct oak_node *n, struct oak_instance *in, enum oak_instance_state s,
	       const char *reason);
void publish_net_service(struct oak_node *n, struct oak_instance *in, bool deployed);
void pick_runtimes(struct oak_node *n);
void sample_resources(struct oak_node *n);
void read_boot_id(struct oak_node *n);
void reports_tick(struct oak_node *n);
void on_bus_state(struct oak_bus *bus, enum oak_bus_state s, void *arg);
void on_cluster_status(struct oak_bus *bus, const char *topic, const void *p, size_t len,
		       void *arg);

/* heartbeat.c */
void heartbeat_start(struct oak_node *n);
void heartbeat_tick(struct oak_node *n);
void heartbeat_stop(struct oak_node *n);

/* lifecycle.c */
struct oak_instance *instance_by_ip(struct oak_node *n, uint32_t ip);
bool instance_state_live(enum oak_instance_state s);
const struct oak_runtime *node_runtime(const struct oak_node *n, const char *name);
void instance_finish(struct oak_node *n, struct oak_instance *in, enum oak_instance_state s,
		     const char *reason);
void on_deploy(struct oak_bus *bus, const char *topic, const void *p, size_t len, void *arg);
void on_delete(struct oak_bus *bus, const char *topic, const void *p, size_t len, void *arg);
void restarts_tick(struct oak_node *n);
void adopt_records(struct oak_node *n);
void instances_free(struct oak_node *n); /* on stop: forget, leave running */

/* tables.c */
struct oak_interest *interest_get(struct oak_node *n, const char *job);
void program_service(struct oak_node *n, struct oak_interest *it);
void reprogram_job(struct oak_node *n, const char *job);
void send_query(struct oak_node *n, const char *job, uint32_t addr);
void on_table(struct oak_bus *bus, const char *topic, const void *p, size_t len, void *arg);
void on_miss(void *ctx, uint32_t addr, uint32_t src_inst);
void interests_restore(struct oak_node *n);
void interests_tick(struct oak_node *n);
void interests_free(struct oak_node *n);

/* latency.c */
void latency_start(struct oak_node *n);
void fill_latencies(struct oak_node *n, const struct oak_interest *it, struct oak_svc_backend *b,
		    unsigned nb);
void probe_tick(struct oak_node *n);

/* uplink.c */
int setup_datapath(struct oak_node *n);

/* subnet.c */
int set_subnet(struct oak_node *n, const char *cidr);
int subnet_init(struct oak_node *n);
void on_subnet(struct oak_bus *bus, const char *topic, const void *p, size_t len, void *arg);

/* metrics.c: after the bus exists; stop before the bus and datapath go */
int node_metrics_start(struct oak_node *n);
void node_metrics_stop(struct oak_node *n);

#endif
