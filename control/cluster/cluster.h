/* oak-cluster: the cluster orchestrator's state and its pure logic (node
 * registry and health, node subnet and Instance IP allocation, resource
 * aggregation, service tables and interests). No I/O here: the daemon's
 * parts (parts.h) feed it messages and publish what it decides; the unit
 * tests in tests/unit/cluster/ drive it directly. cluster.c holds the
 * registry, services and tables, addresses.c the allocators.
 *
 * The placement glue (sched_glue.h, place.h) is separate because
 * scheduler.h and sla.h both define a struct oak_vivaldi. */
#ifndef OAK_CLUSTER_H
#define OAK_CLUSTER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "oak/heartbeat.h"
#include "oak/msg.h"

/* ------------------------------------------------------------ nodes */

enum ocl_node_state {
	OCL_NODE_ACTIVE,
	OCL_NODE_LOST,
};

struct ocl_node {
	char id[OAK_ID_LEN];
	char underlay_ip[OAK_IP4_LEN];
	uint32_t tunnel_port;
	char subnet[OAK_CIDR_LEN];	/* the /26 handed to it */
	bool subnet_from_root;		/* the root gave it (else the local block) */
	int64_t subnet_asked_ms;	/* a subnet/request waits for the root (0: none) */
	char subnet_held[OAK_CIDR_LEN]; /* the one its hello said it holds */
	char boot_id[OAK_ID_LEN];
	char arch[OAK_RUNTIME_LEN];
	struct oak_names runtimes;
	uint32_t vcpus;
	double vcpus_free;
	int64_t memory_mb;
	int64_t memory_free_mb;
	uint32_t gpus;
	uint32_t gpus_free;
	struct oak_geo location;
	/* network coordinates from the latest information report (set false:
	 * unknown, e.g. the node has not probed any peer yet) */
	struct oak_vivaldi vivaldi;
	bool have_info; /* resources known (hello or information seen) */
	bool confirmed; /* reported since this cluster process started */
	enum ocl_node_state state;
	int64_t last_seen_ms; /* monotonic, last MQTT message */
	/* liveness: the last UDP heartbeat (0: none from this incarnation yet,
	 * then report silence decides, see ocl_nodes_expire) */
	int64_t last_hb_ms;
	uint32_t hb_seq;
	bool hb_warned;	    /* "no heartbeat" logged */
	uint64_t boot_hash; /* oak_hb_hash(boot_id) */
	uint64_t id_hash;   /* oak_hb_hash(id) */
	/* a deploy was just sent: the agent may be busy creating the instance
	 * (namespaces, cgroups, maps) and silent for a while; not lost by
	 * silence before this time */
	int64_t busy_until_ms;
};

/* ------------------------------------------------------------ services */

struct ocl_instance {
	uint32_t number;
	char instance_ip[OAK_IP4_LEN];
	char node_id[OAK_ID_LEN]; /* "" = not placed (waiting for a node) */
	char namespace_ip[OAK_IP4_LEN];
	enum oak_instance_state state;
	int64_t changed_ms; /* monotonic, last state change */
};

struct ocl_service {
	char job_name[OAK_JOB_NAME_LEN];
	char service_id[OAK_ID_LEN];
	char rr_ip[OAK_IP4_LEN];
	char closest_ip[OAK_IP4_LEN];
	char rr_ip_v6[OAK_IP6_LEN];
	char closest_ip_v6[OAK_IP6_LEN];
	json_t *spec; /* the SLA microservice object; NULL when only known from
			 node reports (adopted after a restart) or remote */
	bool remote;  /* a service of another cluster, table from the root */
	/* the root's table of this service: all of it when remote; when ours,
	 * read only for the instances other clusters run (a Service IP spans
	 * clusters), asked of the root once a node here needs the table */
	struct oak_msg_service_table remote_table;
	bool root_interest; /* ours: the root was asked for its table */
	struct ocl_instance *inst;
	size_t n_inst, cap_inst;
	/* nodes that asked for this service's table (explicit interests) */
	char (*interest)[OAK_ID_LEN];
	size_t n_interest, cap_interest;
	int64_t remote_asked_ms; /* remote: when the root was asked */
	int64_t table_sent_ms;	 /* the table last went to the interested nodes */
	bool table_due;		 /* changed since: goes out on a tick */
};

/* ------------------------------------------------------------ subnets */

/* The cluster's block (e.g. 10.18.0.0/20) handed out as /26s, one per node
 * id, stable across re-registrations of that node. */
struct ocl_subnets {
	uint32_t base; /* host order */
	unsigned prefix;
	size_t count;		   /* number of /26 slots */
	char (*owner)[OAK_ID_LEN]; /* "" = free */
};

/* "a.b.c.d/p" with p in 16..26 inside 10.18.0.0/16; -1 otherwise */
int ocl_subnets_init(struct ocl_subnets *s, const char *block);
void ocl_subnets_free(struct ocl_subnets *s);
/* The node's /26: the one it owns already, else `wanted` (the subnet the
 * node says it holds) when inside the block and free, else the lowest free
 * one. Writes "a.b.c.d/26" into out (OAK_CIDR_LEN). -1 when full. */
int ocl_subnet_assign(struct ocl_subnets *s, const char *node_id, const char *wanted, char *out);
/* Take a specific slot for node_id (restoring state); -1 if outside/taken */
int ocl_subnet_claim(struct ocl_subnets *s, const char *node_id, const char *cidr);
/* Free the node's slot (a node removed by the operator); 0 if it had one */
int ocl_subnet_release(struct ocl_subnets *s, const char *node_id);
/* The node holding cidr's slot of the block; NULL when free or outside. */
const char *ocl_subnet_owner(const struct ocl_subnets *s, const char *cidr);
/* A node subnet: "a.b.c.d/26" inside 10.18.0.0/16 without host bits. */
bool ocl_subnet_valid(const char *cidr);

/* ------------------------------------------------------------ Instance IPs */

/* Lowest free address of 10.30.0.0/16 after *cursor (next-fit, wraps),
 * skipping .0 and .255 of each /24 and every address in used[] (host
 * order). Advances *cursor. -1 when none is free. */
int ocl_ip_alloc(const uint32_t *used, size_t n_used, uint32_t *cursor, uint32_t *out);

/* ------------------------------------------------------------ the cluster */

struct ocl_cluster {
	char id[OAK_ID_LEN];
	struct oak_geo location;
	double radius_km;
	struct ocl_node *nodes;
	size_t n_nodes, cap_nodes;
	struct ocl_service **svcs;
	size_t n_svcs, cap_svcs;
	struct ocl_subnets subnets;
	uint32_t ip_cursor;
	/* report silence that loses a node without heartbeats (0: the
	 * node timeout) */
	int64_t report_timeout_ms;
};

void ocl_cluster_init(struct ocl_cluster *c, const char *id);
void ocl_cluster_free(struct ocl_cluster *c);

struct ocl_node *ocl_node_find(struct ocl_cluster *c, const char *id);
/* find or add (state ACTIVE, last_seen now); NULL on allocation failure */
struct ocl_node *ocl_node_get(struct ocl_cluster *c, const char *id, int64_t now_ms);
void ocl_node_apply_hello(struct ocl_node *n, const struct oak_msg_node_hello *h);
void ocl_node_apply_info(struct ocl_node *n, const struct oak_msg_node_info *m);
/* Any MQTT message from the node: it is alive. Returns true if it was LOST
 * (it came back); a node that comes back starts without heartbeat (report
 * silence decides until its next heartbeat). */
bool ocl_node_seen(struct ocl_node *n, int64_t now_ms);
/* The node that sent heartbeat hb (matched by id hash, id prefix and boot
 * hash; a node whose boot_id is unknown accepts any), or NULL. */
struct ocl_node *ocl_node_by_hb(struct ocl_cluster *c, const struct oak_hb *hb);
/* A heartbeat from n: refreshes its liveness. It does not bring a LOST
 * node back (that takes an MQTT message: a node lost by its last will has
 * no broker session, however alive its heartbeats say it is); returns
 * false then. */
bool ocl_node_heartbeat(struct ocl_node *n, int64_t now_ms, uint32_t seq);
/* Liveness: a node that sent a heartbeat (this incarnation) is LOST when
 * none came for more than timeout_ms; its reports no longer count. A node
 * that never sent one (an agent without heartbeats) is LOST after
 * c->report_timeout_ms (0: timeout_ms) without any MQTT message. Neither
 * before n->busy_until_ms. Marks them LOST; their ids go to lost[] (up to
 * max). Returns how many were marked. */
size_t ocl_nodes_expire(struct ocl_cluster *c, int64_t now_ms, int64_t timeout_ms,
			char (*lost)[OAK_ID_LEN], size_t max);
size_t ocl_nodes_active(const struct ocl_cluster *c);

/* Sums over ACTIVE nodes with resources known; unions of runtimes and
 * architectures. */
void ocl_aggregate(const struct ocl_cluster *c, struct oak_msg_cluster_info *out);
/* Worth reporting now: active node count, GPUs or the runtime/arch sets
 * changed, or free CPU / memory moved by >= 10 % of the total. */
bool ocl_info_significant(const struct oak_msg_cluster_info *prev,
			  const struct oak_msg_cluster_info *now);

struct ocl_service *ocl_service_find(struct ocl_cluster *c, const char *job_name);
struct ocl_service *ocl_service_get(struct ocl_cluster *c, const char *job_name);
void ocl_service_remove(struct ocl_cluster *c, struct ocl_service *s);
/* by rr_ip / closest_ip (v4 or v6) or any of its Instance IPs */
struct ocl_service *ocl_service_by_ip(struct ocl_cluster *c, const char *ip, bool *by_instance);

struct ocl_instance *ocl_instance_find(struct ocl_service *s, uint32_t number);
struct ocl_instance *ocl_instance_add(struct ocl_service *s, uint32_t number);
void ocl_instance_remove(struct ocl_service *s, uint32_t number);
/* lowest instance number not in use */
uint32_t ocl_instance_next_number(const struct ocl_service *s);
bool ocl_state_live(enum oak_instance_state st);
/* live instances of s placed on node */
uint32_t ocl_instances_on(const struct ocl_service *s, const char *node_id);

/* Every Service and Instance IP the cluster knows (host order), malloc'd
 * into *out; returns the count (0 with *out NULL on allocation failure). */
size_t ocl_used_ips(const struct ocl_cluster *c, uint32_t **out);
/* A fresh Instance IP (dotted, OAK_IP4_LEN) never colliding with a known
 * Service or Instance IP; -1 when the range is full. */
int ocl_alloc_instance_ip(struct ocl_cluster *c, char *out);

/* ---- interests: which nodes get jobs/<job>/updates_available */
void ocl_interest_add(struct ocl_service *s, const char *node_id);
bool ocl_interest_remove(struct ocl_service *s, const char *node_id);
bool ocl_interest_has(const struct ocl_service *s, const char *node_id);
/* Drop every explicit interest of a node (it was lost). */
void ocl_interest_drop_node(struct ocl_cluster *c, const char *node_id);
/* Anyone to tell about s: an explicit interest, a node running one of its
 * instances, or a node running an instance of a service whose SLA lists s
 * in its connectivity (it talks to s). */
bool ocl_interested_any(const struct ocl_cluster *c, const struct ocl_service *s);

/* The table of s as sent to nodes: every RUNNING instance with its node's
 * underlay address. *t must be freed with oak_msg_service_table_free. */
int ocl_service_table(const struct ocl_cluster *c, const struct ocl_service *s,
		      const char *query_ip, struct oak_msg_service_table *t);

#endif
