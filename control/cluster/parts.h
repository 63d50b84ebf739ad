/* oak-cluster's daemon: the state its parts share and what each part offers
 * the others. main.c reads the config, creates the parts and runs the loop
 * (include/oak/daemon.h); the pure logic they drive is in cluster.h.
 *
 *   publish.c    every message leaves through here (cluster and root bus)
 *   registry.c   nodes: hello, status, information, UDP heartbeats,
 *                liveness and node loss, the cluster's own status
 *   placement.c  placing instances, deploy/delete to nodes, instance
 *                reports, re-placement and repeated deploys
 *   subnets.c    node subnets: from the root (subnet/request), else the
 *                local block
 *   tables.c     service tables, interests, table queries (the root's for
 *                other clusters' services)
 *   root_link.c  the root: hello, status, aggregates, instance states up;
 *                deploy, undeploy, scale down
 *   persist.c    <state_dir>/state.json
 *   metrics.c    Prometheus metrics on metrics_listen
 *
 * Durable: state.json keeps the services it was given, the placements, the
 * node subnets and the nodes it knew, so that a restart neither redeploys
 * nor duplicates anything. The actual state is then confirmed from node
 * reports: on every connect to the cluster broker it publishes a retained
 * cluster/status with a fresh boot_id, which makes every node re-announce
 * itself and re-report its instances.
 */
#ifndef OAK_CLUSTER_PARTS_H
#define OAK_CLUSTER_PARTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cluster.h"
#include "oak/bus.h"
#include "oak/config.h"
#include "oak/msg.h"

#define OAK_CLUSTER_VERSION "0.1.0"
#define OCL_MAX_PENDING_Q   64 /* table queries waiting for the root */
#define OCL_TICK_MS	    200
/* a service's table goes to its nodes at once, then at most once per this
 * while it keeps changing (a burst of deploys: one table per gap, not one
 * per instance to every interested node) */
#define OCL_TABLE_GAP_MS 200

struct pending_query {
	char node_id[OAK_ID_LEN];
	char job_name[OAK_JOB_NAME_LEN];
	char ip[OAK_IP6_LEN];
	int64_t at_ms; /* 0: free */
};

struct ocl {
	struct oak_config *cfg;
	struct ocl_cluster c;
	struct oak_bus *nbus; /* cluster broker: nodes */
	struct oak_bus *rbus; /* root broker */
	char name[OAK_ID_LEN];
	char boot_id[OAK_ID_LEN];
	char state_path[600];
	int hb_fd;		 /* UDP heartbeats; -1: off */
	bool dirty;		 /* state.json is behind */
	bool placements_pending; /* instances on lost nodes may wait */
	int64_t timeout_ms;	 /* node_timeout */
	bool subnets_local;	 /* subnet_block set: never ask the root */
	int64_t subnet_timeout_ms;
	int64_t nbus_up_ms; /* when the cluster bus (re)connected */
	int64_t last_info_ms, last_place_ms;
	struct oak_msg_cluster_info last_info;
	struct pending_query pq[OCL_MAX_PENDING_Q];
};

/* publish.c: payload is a malloc'd encoding (NULL: out of memory, logged),
 * always freed */
void ocl_pub(struct oak_bus *bus, const char *topic, char *payload, bool retain);
void ocl_pub_node(struct ocl *o, const char *node, const char *suffix, char *payload, bool retain);
void ocl_pub_root(struct ocl *o, const char *suffix, char *payload, bool retain);

/* registry.c */
int ocl_heartbeat_open(struct ocl *o);
void ocl_heartbeat_recv(struct ocl *o);
/* the sender of a node message, marked alive (NULL: not a node topic);
 * id receives its id (OAK_ID_LEN) */
struct ocl_node *ocl_node_from_topic(struct ocl *o, const char *topic, char *id);
void ocl_node_lost(struct ocl *o, struct ocl_node *n, const char *why);
void ocl_registry_tick(struct ocl *o, int64_t now);
void ocl_on_node_bus_state(struct oak_bus *bus, enum oak_bus_state st, void *arg);
void ocl_on_hello(struct oak_bus *bus, const char *topic, const void *p, size_t len, void *arg);
void ocl_on_status(struct oak_bus *bus, const char *topic, const void *p, size_t len, void *arg);
void ocl_on_info(struct oak_bus *bus, const char *topic, const void *p, size_t len, void *arg);
void ocl_on_usage(struct oak_bus *bus, const char *topic, const void *p, size_t len, void *arg);

/* placement.c */
/* Places every instance of s that has no node; from_root: see placement.c */
void ocl_place_pending(struct ocl *o, struct ocl_service *s, bool from_root);
void ocl_send_delete(struct ocl *o, const struct ocl_service *s, uint32_t number, const char *node);
void ocl_placement_tick(struct ocl *o, int64_t now);
void ocl_on_job(struct oak_bus *bus, const char *topic, const void *p, size_t len, void *arg);

/* tables.c */
/* s's table to every interested node */
void ocl_publish_table(struct ocl *o, struct ocl_service *s);
/* Ours and needed here: the root is asked once for the other clusters' part. */
void ocl_root_interest(struct ocl *o, struct ocl_service *s);
void ocl_tables_tick(struct ocl *o, int64_t now);
void ocl_on_query(struct oak_bus *bus, const char *topic, const void *p, size_t len, void *arg);
void ocl_on_net_service(struct oak_bus *bus, const char *topic, const void *p, size_t len,
			void *arg);
void ocl_on_interest_remove(struct oak_bus *bus, const char *topic, const void *p, size_t len,
			    void *arg);
void ocl_on_root_table(struct oak_bus *bus, const char *topic, const void *p, size_t len,
		       void *arg);

/* root_link.c */
/* in's state to the root (node_id: instead of in's node; reason: optional) */
void ocl_report_up(struct ocl *o, const struct ocl_service *s, const struct ocl_instance *in,
		   const char *node_id, const char *reason);
/* the same with another state than in's own (NODE_SCHEDULED) */
void ocl_report_as(struct ocl *o, const struct ocl_service *s, const struct ocl_instance *in,
		   enum oak_instance_state st, const char *node_id, const char *reason);
/* in's state changes (logged, saved, reported up) */
void ocl_set_inst_state(struct ocl *o, struct ocl_service *s, struct ocl_instance *in,
			enum oak_instance_state st, const char *reason);
/* the aggregate, when it is due or changed significantly (or force) */
void ocl_send_info(struct ocl *o, bool force);
void ocl_on_root_state(struct oak_bus *bus, enum oak_bus_state st, void *arg);
void ocl_on_deploy(struct oak_bus *bus, const char *topic, const void *p, size_t len, void *arg);
void ocl_on_undeploy(struct oak_bus *bus, const char *topic, const void *p, size_t len, void *arg);
void ocl_on_scale(struct oak_bus *bus, const char *topic, const void *p, size_t len, void *arg);

/* subnets.c */
/* n (said hello, holding subnet held) gets its subnet: see subnets.c */
void ocl_subnet_for_node(struct ocl *o, struct ocl_node *n, const char *held);
void ocl_subnets_tick(struct ocl *o, int64_t now);
/* the root is there: ask it for what the local block stands in for */
void ocl_subnets_root_up(struct ocl *o);
void ocl_on_root_subnet(struct oak_bus *bus, const char *topic, const void *p, size_t len,
			void *arg);

/* persist.c */
void ocl_state_save(struct ocl *o);
void ocl_state_load(struct ocl *o);

/* metrics.c: start once the buses exist, stop before they go; the hooks
 * do nothing while metrics are off */
struct oak_loop;
int ocl_metrics_start(struct ocl *o, struct oak_loop *l);
void ocl_metrics_stop(void);
void ocl_metrics_placement(double seconds, uint32_t placed, uint32_t unplaced);
void ocl_metrics_node_lost(const char *why);
void ocl_metrics_heartbeat(uint32_t missed);

#endif
