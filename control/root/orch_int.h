/* oak-root's orchestration, inside: the cluster registry, the decisions on
 * a service document (pure: reconcile.c) and the handlers of the root
 * broker's messages, one file per concern:
 *   orch.c      wiring, the timer, the REST hooks, sending deploy/undeploy
 *   clusters.c  clusters/<cid>/hello|status|information -> registry, "clusters"
 *   reconcile.c desired (replicas, generation) vs instance_list[]; state reports
 *   request.c   a service document as SLA object and placement request
 *   placement.c root_place() over cluster aggregates (placement.h)
 *   tables.c    table queries, interests, updates_available
 *   subnets.c   node-subnet blocks for the clusters' nodes */
#ifndef OAK_ROOT_ORCH_INT_H
#define OAK_ROOT_ORCH_INT_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "orch.h"
#include "placement.h"
#include "store.h"
#include "oak/msg.h"

/* defaults of the config keys the orchestrator reads when main.c has them */
#define ROOT_CLUSTER_TIMEOUT_S 8.0   /* silence after which a cluster is lost */
#define ROOT_OFFLINE_GRACE_S   2.0   /* offline (its will) and not back: lost */
#define ROOT_ACTIVE_WINDOW_MS  30000 /* "active": reported within this */
#define ROOT_GRACE_S	       10.0  /* a FAILED instance its cluster does not place again */
#define ROOT_RESEND_S	       5.0   /* a deploy with no report: sent again */
#define ROOT_RETRY_S	       3.0   /* an instance no cluster could take: tried again */

/* ---- the registry (clusters.c) */

struct root_cluster {
	char id[OAK_ID_LEN];
	char name[OAK_ID_LEN];
	char operator_name[OAK_ID_LEN];
	char boot_id[OAK_ID_LEN];
	char doc_id[ROOT_ID_LEN]; /* its document in "clusters" */
	struct oak_geo location;
	double radius_km;
	struct oak_msg_cluster_info info;
	bool have_info;	      /* an aggregate arrived since this root started */
	bool online;	      /* its retained status (false: the last will, a clean stop) */
	bool lost;	      /* silent or offline: its instances go elsewhere */
	bool synced;	      /* its instances were asked to re-report since we started */
	bool heard;	      /* any message since this root started */
	int64_t seen_mono;    /* last message (monotonic ms) */
	int64_t seen_wall;    /* the same, wall clock (the document's last_seen) */
	int64_t offline_mono; /* when its status said offline */
	int64_t stored_wall;
	bool stored_active;
	json_t *interests; /* job names whose tables it wants (stored with it) */
};

/* when a service's table last went to the clusters; due: changed since */
struct root_table_sent {
	char job[OAK_JOB_NAME_LEN];
	int64_t at_ms; /* monotonic */
	bool due;
};

struct root_orch {
	struct root_store *store;
	struct oak_bus *bus;
	struct oak_loop *loop;
	const struct oak_config *cfg;
	struct root_cluster *cl;
	size_t n_cl, cap_cl;
	int64_t cluster_timeout_ms, offline_grace_ms, grace_ms, resend_ms, retry_ms;
	int64_t started_mono, last_sweep_mono;
	long timer;
	uint64_t seq;
	struct root_table_sent *tsent;
	size_t n_tsent, cap_tsent;
};

struct root_cluster *root_cluster_find(struct root_orch *o, const char *id);
/* Writes the cluster's document ("clusters" collection). */
void root_cluster_store(struct root_orch *o, struct root_cluster *c);
/* Loads the "clusters" collection (all start silent, not lost). */
int root_clusters_load(struct root_orch *o);
/* A message from cluster id (topic level): alive. NULL when the id is bad. */
struct root_cluster *root_cluster_seen(struct root_orch *o, const char *id);
/* Liveness and the documents' "active"/"last_seen"; returns how many
 * clusters were declared lost by this call. */
size_t root_clusters_tick(struct root_orch *o);
/* The registry as placement candidates (ids point into o->cl). */
void root_clusters_cands(struct root_orch *o, struct root_cand *out);
void root_on_hello(struct oak_bus *bus, const char *topic, const void *p, size_t len, void *arg);
void root_on_status(struct oak_bus *bus, const char *topic, const void *p, size_t len, void *arg);
void root_on_info(struct oak_bus *bus, const char *topic, const void *p, size_t len, void *arg);

/* ---- decisions on one service document (reconcile.c, pure) */

enum root_act_kind {
	ROOT_ACT_DEPLOY,
	ROOT_ACT_UNDEPLOY,
};

struct root_act {
	enum root_act_kind kind;
	char cluster_id[OAK_ID_LEN];
	uint32_t number;
};

struct root_acts {
	struct root_act *v;
	size_t n, cap;
};

void root_acts_free(struct root_acts *a);

struct root_rec_ctx {
	const struct root_cand *cands; /* the registry */
	size_t n;
	int64_t now_ms; /* wall clock */
	int64_t grace_ms, resend_ms, retry_ms;
	uint64_t seed;
	/* an Instance IP for owner ("<sid>/<n>"): wanted ("" = any) claimed,
	 * into out; 0 or -1 */
	int (*alloc_ip)(void *arg, const char *owner, const char *wanted, char out[16]);
	void (*release_ip)(void *arg, const char *owner);
	void *arg;
};

/* Brings doc's instance_list[] towards "replicas" and "generation":
 * creates entries (REQUESTED, an Instance IP), places them, re-places what
 * its cluster lost or could not keep, removes surplus and replaced ones.
 * What must be sent goes to acts (deploys after the document is stored).
 * *changed: doc was modified. -1 when the service cannot be read (err). */
int root_reconcile(json_t *doc, const struct root_rec_ctx *c, struct root_acts *acts, bool *changed,
		   char *err, size_t errlen);
/* A cluster's report of one instance into doc (NULL: no such service).
 * Copies of an instance that the root counts elsewhere, or does not count
 * at all, get an undeploy. *table: the set of running instances changed. */
void root_apply_state(json_t *doc, const char *cid, const struct oak_msg_instance_state *m,
		      int64_t now_ms, struct root_acts *acts, bool *changed, bool *table);

/* instance_list[] entry by number, or NULL */
json_t *root_entry_find(json_t *doc, uint32_t number);
bool root_status_live(const char *status); /* CREATING, CREATED, RUNNING */

/* ---- a service document as SLA and request (request.c) */

struct oak_service;
/* The SLA microservice object of doc (a new reference). */
json_t *root_sla_object(json_t *doc);
int root_service_parse(json_t *doc, struct oak_service *out, char *err, size_t errlen);
void root_req_from_service(const struct oak_service *svc, struct root_req *r, char *notes,
			   size_t nlen);

/* ---- tables.c */

/* The table of doc as sent to clusters: its RUNNING instances whose node
 * address is known. Free with oak_msg_service_table_free. */
int root_table_build(json_t *doc, const char *query_ip, struct oak_msg_service_table *t);
/* To every cluster that holds an interest in doc's service. */
/* the table to the interested clusters: at once, then at most once per
 * ROOT_TABLE_GAP_MS while it keeps changing (root_tables_tick sends it) */
#define ROOT_TABLE_GAP_MS 200
void root_tables_push(struct root_orch *o, json_t *doc);
void root_tables_tick(struct root_orch *o);
void root_on_tablequery(struct oak_bus *bus, const char *topic, const void *p, size_t len,
			void *arg);
void root_on_interest_remove(struct oak_bus *bus, const char *topic, const void *p, size_t len,
			     void *arg);

/* ---- subnets.c */
void root_on_subnet_request(struct oak_bus *bus, const char *topic, const void *p, size_t len,
			    void *arg);

/* ---- orch.c */

/* Publishes payload (malloc'd, freed here) on clusters/<cid>/<suffix>. */
void root_pub(struct root_orch *o, const char *cid, const char *suffix, char *payload);
/* Reconciles one service now (its document by id), in one transaction. */
void root_orch_reconcile_id(struct root_orch *o, const char *sid);
/* Every service (the sweep), or those with an instance in cluster cid. */
void root_orch_sweep(struct root_orch *o, const char *cid);
/* Asks cluster cid to re-report every instance the root places there. */
void root_orch_sync_cluster(struct root_orch *o, const char *cid);

/* JSON helpers: "" / 0 when missing or of another type */
const char *root_str(json_t *o, const char *key);
int64_t root_int(json_t *o, const char *key);
/* Sets key to a string/integer when it differs; true when it changed. */
bool root_set_str(json_t *o, const char *key, const char *v);
bool root_set_int(json_t *o, const char *key, int64_t v);

#endif
