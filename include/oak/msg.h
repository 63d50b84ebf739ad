/* Every MQTT message between the tiers: one struct per message, its
 * encode/decode pair, and the topic names. Payloads are JSON objects.
 *
 * For each message NAME below:
 *   char *oak_msg_NAME_encode(const struct oak_msg_NAME *m);
 *       -> malloc'd compact JSON (free()), NULL on allocation failure
 *   int   oak_msg_NAME_decode(const char *buf, size_t len,
 *                             struct oak_msg_NAME *m, char *err, size_t errlen);
 *       -> 0, or -1 with err naming the field ("instances[2].state: ...");
 *          payloads over OAK_MSG_MAX_BYTES, malformed JSON, wrong types,
 *          missing required fields and out-of-range values are rejected.
 *          Unknown keys are ignored (a newer peer may send more).
 *   void  oak_msg_NAME_free(struct oak_msg_NAME *m);
 *       -> releases heap members (safe on a zeroed or decoded struct)
 *
 * Topics (<id> is a node id, <cid> a cluster id, <job> a job name):
 *  cluster broker (cluster <-> nodes)
 *   nodes/<id>/hello                      node -> cluster   node_hello
 *   nodes/<id>/status          (retained) node -> cluster   status (also the last will)
 *   nodes/<id>/information                node -> cluster   node_info
 *   nodes/<id>/jobs/resources             node -> cluster   job_usage
 *   nodes/<id>/job                        node -> cluster   instance_state
 *   nodes/<id>/control/deploy             cluster -> node   deploy
 *   nodes/<id>/control/delete             cluster -> node   delete
 *   nodes/<id>/net/subnet                 cluster -> node   subnet
 *   nodes/<id>/net/tablequery/request     node -> cluster   table_query
 *   nodes/<id>/net/tablequery/result      cluster -> node   service_table
 *   nodes/<id>/net/service/deployed       node -> cluster   net_service
 *   nodes/<id>/net/service/undeployed     node -> cluster   net_service
 *   nodes/<id>/net/interest/remove        node -> cluster   interest
 *   jobs/<job>/updates_available          cluster -> nodes  service_table
 *   cluster/status             (retained) cluster -> nodes  status (also the last will);
 *                                         a new boot_id makes every node re-report
 *                                         (status, hello, information, each instance)
 *  root broker (root <-> clusters)
 *   clusters/<cid>/hello                  cluster -> root   cluster_hello
 *   clusters/<cid>/status      (retained) cluster -> root   status (also the last will)
 *   clusters/<cid>/information            cluster -> root   cluster_info
 *   clusters/<cid>/jobs/state             cluster -> root   instance_state
 *   clusters/<cid>/control/deploy         root -> cluster   cluster_deploy
 *   clusters/<cid>/control/undeploy       root -> cluster   cluster_undeploy
 *   clusters/<cid>/control/scale          root -> cluster   cluster_scale
 *   clusters/<cid>/net/subnet/request     cluster -> root   subnet_request
 *   clusters/<cid>/net/subnet             root -> cluster   subnet
 *   clusters/<cid>/net/tablequery/request cluster -> root   table_query
 *   clusters/<cid>/net/tablequery/result  root -> cluster   service_table
 *   clusters/<cid>/net/interest/remove    cluster -> root   interest
 *   clusters/<cid>/jobs/updates_available root -> cluster   service_table
 */
#ifndef OAK_MSG_H
#define OAK_MSG_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "oak/sla.h"

#define OAK_MSG_MAX_BYTES     (64 * 1024)
#define OAK_MSG_MAX_INSTANCES 512 /* entries in a service table */
#define OAK_MSG_MAX_JOBS      512 /* entries in a job usage report */
#define OAK_TUNNEL_PORT	      50103

/* topic suffixes, for oak_topic_node()/oak_topic_cluster() */
#define OAK_T_HELLO		"hello"
#define OAK_T_STATUS		"status"
#define OAK_T_INFORMATION	"information"
#define OAK_T_JOBS_RESOURCES	"jobs/resources"
#define OAK_T_JOB		"job"
#define OAK_T_JOBS_STATE	"jobs/state"
#define OAK_T_DEPLOY		"control/deploy"
#define OAK_T_DELETE		"control/delete"
#define OAK_T_UNDEPLOY		"control/undeploy"
#define OAK_T_SCALE		"control/scale"
#define OAK_T_SUBNET		"net/subnet"
#define OAK_T_SUBNET_REQUEST	"net/subnet/request"
#define OAK_T_TABLEQUERY_REQ	"net/tablequery/request"
#define OAK_T_TABLEQUERY_RES	"net/tablequery/result"
#define OAK_T_SERVICE_DEPLOYED	"net/service/deployed"
#define OAK_T_SERVICE_UNDEPLOY	"net/service/undeployed"
#define OAK_T_INTEREST_REMOVE	"net/interest/remove"
#define OAK_T_UPDATES_AVAILABLE "jobs/updates_available"

#define OAK_TOPIC_LEN 256
/* the cluster's own retained status on the cluster broker (not per node) */
#define OAK_TOPIC_CLUSTER_STATUS "cluster/status"

/* "nodes/<node_id>/<suffix>"; -1 if it does not fit or the id is not a
 * valid topic level (empty, or contains '/', '+', '#') */
int oak_topic_node(char *buf, size_t len, const char *node_id, const char *suffix);
int oak_topic_cluster(char *buf, size_t len, const char *cluster_id, const char *suffix);
/* "jobs/<job_name>/updates_available" */
int oak_topic_job_updates(char *buf, size_t len, const char *job_name);
/* Split "nodes/<id>/<suffix>" (prefix "nodes") or "clusters/<id>/<suffix>":
 * copies the id, points *suffix into topic; -1 if it does not match. */
int oak_topic_parse(const char *topic, const char *prefix, char *id, size_t idlen,
		    const char **suffix);
/* usable as one topic level */
bool oak_topic_id_valid(const char *id);

enum oak_instance_state {
	OAK_INSTANCE_CREATING,
	OAK_INSTANCE_CREATED,
	OAK_INSTANCE_RUNNING,
	OAK_INSTANCE_FAILED,
	OAK_INSTANCE_DEAD,
	OAK_INSTANCE_COMPLETED,
	OAK_INSTANCE_UNDEPLOYED,
	/* cluster to root only: placed on a node, the deploy sent, the node
	 * has not reported yet (Oakestra's NODE_SCHEDULED) */
	OAK_INSTANCE_NODE_SCHEDULED,
};
#define OAK_INSTANCE_STATE_COUNT 8
const char *oak_instance_state_name(enum oak_instance_state s);
int oak_instance_state_parse(const char *s, enum oak_instance_state *out);

/* nodes/<id>/hello: sent on every (re)connect of the node agent */
struct oak_msg_node_hello {
	char node_id[OAK_ID_LEN]; /* required */
	char hostname[256];
	char underlay_ip[OAK_IP4_LEN]; /* required: tunnel endpoint */
	char underlay_ip6[OAK_IP6_LEN];
	uint32_t tunnel_port;		    /* 0 = OAK_TUNNEL_PORT */
	char architecture[OAK_RUNTIME_LEN]; /* required: "amd64", "arm64" */
	struct oak_names virtualization;    /* runtimes offered */
	uint32_t vcpus;
	int64_t memory_mb;
	uint32_t gpus;
	struct oak_geo location;
	char version[32];
	char boot_id[OAK_ID_LEN];  /* new on every agent start */
	char subnet[OAK_CIDR_LEN]; /* the subnet the node still holds, if any */
	char subnet_v6[OAK_CIDR_LEN];
};

/* nodes/<id>/status, clusters/<cid>/status: retained; the last will
 * publishes online=false */
struct oak_msg_status {
	char id[OAK_ID_LEN]; /* required */
	bool online;	     /* required */
	char boot_id[OAK_ID_LEN];
};

/* nodes/<id>/information, every report interval */
struct oak_msg_node_info {
	char node_id[OAK_ID_LEN]; /* required */
	int64_t timestamp_ms;	  /* sender's wall clock */
	double cpu_percent;	  /* 0..100 of all cores */
	uint32_t vcpus;
	double vcpus_free;
	int64_t memory_mb; /* total */
	int64_t memory_free_mb;
	double memory_percent; /* used, 0..100 */
	char architecture[OAK_RUNTIME_LEN];
	struct oak_names virtualization;
	uint32_t gpus;
	uint32_t gpus_free;
	int64_t gpu_memory_mb;
	double gpu_percent;
	int64_t disk_free_mb;
	uint32_t instances; /* instances running */
	struct oak_geo location;
	struct oak_vivaldi vivaldi;
};

struct oak_job_usage_entry {
	char job_name[OAK_JOB_NAME_LEN]; /* required */
	char service_id[OAK_ID_LEN];
	uint32_t instance_number;
	double cpu_percent; /* of one core, as docker stats: may exceed 100 */
	int64_t memory_mb;
	int64_t disk_mb;
	int64_t rx_bytes;
	int64_t tx_bytes;
	/* the last lines of its log, sent when the log grew (and now and then
	 * unchanged, for a root that restarted); none: unchanged */
	struct oak_strv logs;
};

/* nodes/<id>/jobs/resources, forwarded as clusters/<cid>/jobs/resources */
struct oak_msg_job_usage {
	char node_id[OAK_ID_LEN]; /* required */
	int64_t timestamp_ms;
	struct oak_job_usage_entry *jobs;
	size_t n_jobs;
};

/* nodes/<id>/job (node -> cluster), clusters/<cid>/jobs/state (-> root) */
struct oak_msg_instance_state {
	char node_id[OAK_ID_LEN];
	char cluster_id[OAK_ID_LEN];
	char job_name[OAK_JOB_NAME_LEN]; /* required */
	char service_id[OAK_ID_LEN];	 /* required */
	uint32_t instance_number;	 /* required */
	enum oak_instance_state state;	 /* required */
	char instance_ip[OAK_IP4_LEN];
	char instance_ip_v6[OAK_IP6_LEN];
	char namespace_ip[OAK_IP4_LEN];
	char namespace_ip_v6[OAK_IP6_LEN];
	char reason[256];
	int32_t exit_code;
	int64_t timestamp_ms;
	/* towards the root: the node's underlay address and tunnel port (0 =
	 * OAK_TUNNEL_PORT), so the root can answer other clusters' table
	 * queries for this instance; "" when the sender does not know it */
	char node_ip[OAK_IP4_LEN];
	uint32_t node_port;
};

/* nodes/<id>/control/deploy */
struct oak_msg_deploy {
	char service_id[OAK_ID_LEN];	 /* required */
	char job_name[OAK_JOB_NAME_LEN]; /* required */
	uint32_t instance_number;	 /* required */
	char instance_ip[OAK_IP4_LEN];	 /* required */
	char instance_ip_v6[OAK_IP6_LEN];
	char rr_ip[OAK_IP4_LEN];
	char closest_ip[OAK_IP4_LEN];
	char rr_ip_v6[OAK_IP6_LEN];
	char closest_ip_v6[OAK_IP6_LEN];
	char runtime[OAK_RUNTIME_LEN]; /* required: SLA virtualization */
	char code[OAK_CODE_LEN];       /* required */
	struct oak_strv cmd;
	struct oak_strv args;
	struct oak_strv env;
	struct oak_strv added_files;
	char port[256];
	int64_t memory_mb; /* limit, 0 = none */
	double vcpus;	   /* limit, 0 = none */
	uint32_t vgpus;
	bool one_shot;
	bool privileged;
};

/* nodes/<id>/control/delete */
struct oak_msg_delete {
	char service_id[OAK_ID_LEN];
	char job_name[OAK_JOB_NAME_LEN]; /* required */
	uint32_t instance_number;	 /* required */
};

/* nodes/<id>/net/subnet, clusters/<cid>/net/subnet */
struct oak_msg_subnet {
	char node_id[OAK_ID_LEN]; /* required */
	char cluster_id[OAK_ID_LEN];
	char subnet[OAK_CIDR_LEN]; /* required: a /26 inside 10.18.0.0/16 */
	char subnet_v6[OAK_CIDR_LEN];
};

/* clusters/<cid>/net/subnet/request */
struct oak_msg_subnet_request {
	char cluster_id[OAK_ID_LEN]; /* required */
	char node_id[OAK_ID_LEN];    /* required */
	char previous[OAK_CIDR_LEN]; /* the node's current subnet, to keep it */
};

/* nodes/<id>/net/tablequery/request: by service IP, by job name, or both */
struct oak_msg_table_query {
	char node_id[OAK_ID_LEN]; /* required: who asks */
	char cluster_id[OAK_ID_LEN];
	char service_ip[OAK_IP6_LEN]; /* a Service IP (v4 or v6) */
	char job_name[OAK_JOB_NAME_LEN];
};

struct oak_table_instance {
	uint32_t instance_number;
	char instance_ip[OAK_IP4_LEN]; /* required */
	char instance_ip_v6[OAK_IP6_LEN];
	char node_id[OAK_ID_LEN];  /* required */
	char node_ip[OAK_IP4_LEN]; /* required: underlay, tunnel endpoint */
	uint32_t node_port;	   /* 0 = OAK_TUNNEL_PORT */
	char cluster_id[OAK_ID_LEN];
	char namespace_ip[OAK_IP4_LEN];
	char namespace_ip_v6[OAK_IP6_LEN];
	enum oak_instance_state state;
};

/* nodes/<id>/net/tablequery/result and jobs/<job>/updates_available */
struct oak_msg_service_table {
	char job_name[OAK_JOB_NAME_LEN]; /* required */
	char service_id[OAK_ID_LEN];
	char query_ip[OAK_IP6_LEN]; /* echo of the query's service_ip */
	bool found;		    /* false: no such service (then no instances) */
	char rr_ip[OAK_IP4_LEN];
	char closest_ip[OAK_IP4_LEN];
	char rr_ip_v6[OAK_IP6_LEN];
	char closest_ip_v6[OAK_IP6_LEN];
	struct oak_table_instance *instances;
	size_t n_instances;
};

/* nodes/<id>/net/service/deployed|undeployed: the instance's namespace
 * exists (or is gone) on the node */
struct oak_msg_net_service {
	char node_id[OAK_ID_LEN];	 /* required */
	char job_name[OAK_JOB_NAME_LEN]; /* required */
	char service_id[OAK_ID_LEN];
	uint32_t instance_number;
	char instance_ip[OAK_IP4_LEN];
	char namespace_ip[OAK_IP4_LEN];
	char namespace_ip_v6[OAK_IP6_LEN];
};

/* nodes/<id>/net/interest/remove */
struct oak_msg_interest {
	char node_id[OAK_ID_LEN];	 /* required (a cluster id between tiers) */
	char job_name[OAK_JOB_NAME_LEN]; /* required */
};

/* clusters/<cid>/hello */
struct oak_msg_cluster_hello {
	char cluster_id[OAK_ID_LEN]; /* required */
	char name[OAK_ID_LEN];
	char operator_name[OAK_ID_LEN];
	struct oak_geo location;
	double radius_km;
	char version[32];
	char boot_id[OAK_ID_LEN];
};

/* clusters/<cid>/information: the aggregate the root schedules on */
struct oak_msg_cluster_info {
	char cluster_id[OAK_ID_LEN]; /* required */
	int64_t timestamp_ms;
	uint32_t active_nodes;
	double vcpus_total;
	double vcpus_free;
	int64_t memory_total_mb;
	int64_t memory_free_mb;
	uint32_t gpus_total;
	uint32_t gpus_free;
	struct oak_names virtualization; /* union over active nodes */
	struct oak_names arch;		 /* union over active nodes */
	struct oak_geo location;
	double radius_km;
};

/* clusters/<cid>/control/deploy: one instance of a service */
struct oak_msg_cluster_deploy {
	char service_id[OAK_ID_LEN];	 /* required */
	char job_name[OAK_JOB_NAME_LEN]; /* required */
	uint32_t instance_number;	 /* required */
	char instance_ip[OAK_IP4_LEN];	 /* required */
	char instance_ip_v6[OAK_IP6_LEN];
	char rr_ip[OAK_IP4_LEN];
	char closest_ip[OAK_IP4_LEN];
	char rr_ip_v6[OAK_IP6_LEN];
	char closest_ip_v6[OAK_IP6_LEN];
	json_t *service; /* required: the SLA microservice object, validated */
};
/* Decode m->service into a struct oak_service (job name from m->job_name). */
int oak_msg_cluster_deploy_service(const struct oak_msg_cluster_deploy *m, struct oak_service *out,
				   char *err, size_t errlen);

/* clusters/<cid>/control/undeploy */
struct oak_msg_cluster_undeploy {
	char service_id[OAK_ID_LEN];	 /* required */
	char job_name[OAK_JOB_NAME_LEN]; /* required */
	int32_t instance_number;	 /* -1 = every instance */
};

/* clusters/<cid>/control/scale: desired instance count in that cluster */
struct oak_msg_cluster_scale {
	char service_id[OAK_ID_LEN];	 /* required */
	char job_name[OAK_JOB_NAME_LEN]; /* required */
	uint32_t replicas;		 /* required */
};

#define OAK_MSG_DECLARE(name)                                                                      \
	char *oak_msg_##name##_encode(const struct oak_msg_##name *m);                             \
	int oak_msg_##name##_decode(const char *buf, size_t len, struct oak_msg_##name *m,         \
				    char *err, size_t errlen);                                     \
	void oak_msg_##name##_free(struct oak_msg_##name *m)

OAK_MSG_DECLARE(node_hello);
OAK_MSG_DECLARE(status);
OAK_MSG_DECLARE(node_info);
OAK_MSG_DECLARE(job_usage);
OAK_MSG_DECLARE(instance_state);
OAK_MSG_DECLARE(deploy);
OAK_MSG_DECLARE(delete);
OAK_MSG_DECLARE(subnet);
OAK_MSG_DECLARE(subnet_request);
OAK_MSG_DECLARE(table_query);
OAK_MSG_DECLARE(service_table);
OAK_MSG_DECLARE(net_service);
OAK_MSG_DECLARE(interest);
OAK_MSG_DECLARE(cluster_hello);
OAK_MSG_DECLARE(cluster_info);
OAK_MSG_DECLARE(cluster_deploy);
OAK_MSG_DECLARE(cluster_undeploy);
OAK_MSG_DECLARE(cluster_scale);

#endif
