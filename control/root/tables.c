/* oak-root's service tables across clusters: a cluster asks for a service
 * it does not run (clusters/<cid>/net/tablequery/request, by Service IP or
 * job name), the root answers from the store
 * (clusters/<cid>/net/tablequery/result) and remembers the interest in the
 * cluster's document ("interests": job names, durable), pushes the table on
 * every change of the service's running instances
 * (clusters/<cid>/jobs/updates_available) until the cluster drops it
 * (clusters/<cid>/net/interest/remove). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "orch_int.h"
#include "oak/daemon.h"
#include "oak/log.h"

int root_table_build(json_t *doc, const char *query_ip, struct oak_msg_service_table *t)
{
	json_t *list = json_object_get(doc, "instance_list"), *e;
	size_t i, n = 0;

	memset(t, 0, sizeof(*t));
	snprintf(t->job_name, sizeof(t->job_name), "%s", root_str(doc, "job_name"));
	snprintf(t->service_id, sizeof(t->service_id), "%s", root_str(doc, "microserviceID"));
	snprintf(t->query_ip, sizeof(t->query_ip), "%s", query_ip ? query_ip : "");
	snprintf(t->rr_ip, sizeof(t->rr_ip), "%s", root_str(doc, "rr_ip"));
	snprintf(t->closest_ip, sizeof(t->closest_ip), "%s", root_str(doc, "closest_ip"));
	t->found = true;
	t->instances = calloc(json_array_size(list) + 1, sizeof(*t->instances));
	if (!t->instances)
		return -1;
	json_array_foreach(list, i, e)
	{
		struct oak_table_instance *ti = &t->instances[n];

		if (strcmp(root_str(e, "status"), "RUNNING") || !*root_str(e, "host_ip") ||
		    !*root_str(e, "worker_id") || n >= OAK_MSG_MAX_INSTANCES)
			continue;
		ti->instance_number = (uint32_t)root_int(e, "instance_number");
		snprintf(ti->instance_ip, sizeof(ti->instance_ip), "%s",
			 root_str(e, "instance_ip"));
		snprintf(ti->node_id, sizeof(ti->node_id), "%s", root_str(e, "worker_id"));
		snprintf(ti->node_ip, sizeof(ti->node_ip), "%s", root_str(e, "host_ip"));
		ti->node_port = (uint32_t)root_int(e, "host_tunnel_port");
		snprintf(ti->cluster_id, sizeof(ti->cluster_id), "%s", root_str(e, "cluster_id"));
		snprintf(ti->namespace_ip, sizeof(ti->namespace_ip), "%s",
			 root_str(e, "namespace_ip"));
		ti->state = OAK_INSTANCE_RUNNING;
		n++;
	}
	t->n_instances = n;
	return 0;
}

static bool interested(const struct root_cluster *c, const char *job)
{
	json_t *v;
	size_t i;

	json_array_foreach(c->interests, i, v) if (json_is_string(v) &&
						   !strcmp(json_string_value(v), job)) return true;
	return false;
}

static struct root_table_sent *sent_of(struct root_orch *o, const char *job)
{
	struct root_table_sent *v;

	for (size_t i = 0; i < o->n_tsent; i++)
		if (!strcmp(o->tsent[i].job, job))
			return &o->tsent[i];
	if (o->n_tsent == o->cap_tsent) {
		size_t cap = o->cap_tsent ? 2 * o->cap_tsent : 16;

		v = realloc(o->tsent, cap * sizeof(*v));
		if (!v)
			return NULL;
		o->tsent = v;
		o->cap_tsent = cap;
	}
	v = &o->tsent[o->n_tsent++];
	memset(v, 0, sizeof(*v));
	snprintf(v->job, sizeof(v->job), "%s", job);
	v->at_ms = INT64_MIN / 2;
	return v;
}

static void tables_send(struct root_orch *o, json_t *doc)
{
	const char *job = root_str(doc, "job_name");
	struct oak_msg_service_table t;
	bool built = false;

	for (size_t i = 0; i < o->n_cl; i++) {
		struct root_cluster *c = &o->cl[i];

		if (!interested(c, job))
			continue;
		if (!built && root_table_build(doc, NULL, &t))
			return;
		built = true;
		oak_log(DEBUG, "table %s: %zu instances to cluster %s", job, t.n_instances, c->id);
		root_pub(o, c->id, OAK_T_UPDATES_AVAILABLE, oak_msg_service_table_encode(&t));
	}
	if (built)
		oak_msg_service_table_free(&t);
}

void root_tables_push(struct root_orch *o, json_t *doc)
{
	struct root_table_sent *s = sent_of(o, root_str(doc, "job_name"));
	int64_t now = oak_mono_ms();

	if (s && now - s->at_ms < ROOT_TABLE_GAP_MS) {
		s->due = true;
		return;
	}
	if (s) {
		s->at_ms = now;
		s->due = false;
	}
	tables_send(o, doc);
}

/* the tables that changed within their gap, from the store */
void root_tables_tick(struct root_orch *o)
{
	int64_t now = oak_mono_ms();

	for (size_t i = 0; i < o->n_tsent; i++) {
		struct root_table_sent *s = &o->tsent[i];
		json_t *all = NULL, *doc;

		if (!s->due || now - s->at_ms < ROOT_TABLE_GAP_MS)
			continue;
		s->due = false;
		s->at_ms = now;
		if (root_store_list(o->store, "services", "job_name", s->job, &all))
			continue;
		doc = json_array_get(all, 0);
		if (doc)
			tables_send(o, doc);
		json_decref(all);
	}
}

/* the service a query names: by job name, else by any of its addresses
 * (every Service and Instance IP is a claim whose owner starts with the
 * service id) */
static json_t *service_for(struct root_orch *o, const struct oak_msg_table_query *q)
{
	json_t *all = NULL, *doc = NULL;
	char owner[256], *slash;

	if (q->job_name[0] &&
	    !root_store_list(o->store, "services", "job_name", q->job_name, &all)) {
		doc = json_incref(json_array_get(all, 0));
		json_decref(all);
		if (doc)
			return doc;
	}
	if (!q->service_ip[0] ||
	    root_store_claim_owner(o->store, "ip", q->service_ip, owner, sizeof(owner)))
		return NULL;
	slash = strchr(owner, '/');
	if (slash)
		*slash = '\0';
	if (root_store_get(o->store, "services", owner, &doc))
		return NULL;
	return doc;
}

/* the interest of cluster c in job on or off; stored when it changed */
static void interest_set(struct root_orch *o, struct root_cluster *c, const char *job, bool on)
{
	json_t *v;
	size_t i;

	if (!c || !*job || interested(c, job) == on)
		return;
	if (!on) {
		json_array_foreach(c->interests, i,
				   v) if (json_is_string(v) && !strcmp(json_string_value(v), job))
		{
			json_array_remove(c->interests, i);
			break;
		}
	} else {
		if (!c->interests)
			c->interests = json_array();
		json_array_append_new(c->interests, json_string(job));
	}
	oak_log(INFO, "cluster %s %s interest in %s", c->id, on ? "holds an" : "dropped its", job);
	root_cluster_store(o, c);
}

void root_on_tablequery(struct oak_bus *bus, const char *topic, const void *p, size_t len,
			void *arg)
{
	struct root_orch *o = arg;
	struct oak_msg_table_query q = {0};
	struct oak_msg_service_table t = {0};
	struct root_cluster *c;
	char id[OAK_ID_LEN], err[256];
	const char *suffix;
	json_t *doc;

	(void)bus;
	if (oak_topic_parse(topic, "clusters", id, sizeof(id), &suffix))
		return;
	if (oak_msg_table_query_decode(p, len, &q, err, sizeof(err))) {
		oak_log(WARN, "%s: %s", topic, err);
		return;
	}
	c = root_cluster_seen(o, id);
	doc = service_for(o, &q);
	if (doc) {
		interest_set(o, c, root_str(doc, "job_name"), true);
		root_table_build(doc, q.service_ip, &t);
	} else {
		snprintf(t.job_name, sizeof(t.job_name), "%s", q.job_name);
		snprintf(t.query_ip, sizeof(t.query_ip), "%s", q.service_ip);
	}
	oak_log(INFO, "table query from cluster %s for %s%s: %s, %zu instances", id, q.job_name,
		q.service_ip, t.found ? "found" : "not found", t.n_instances);
	root_pub(o, id, OAK_T_TABLEQUERY_RES, oak_msg_service_table_encode(&t));
	oak_msg_service_table_free(&t);
	json_decref(doc);
	oak_msg_table_query_free(&q);
}

void root_on_interest_remove(struct oak_bus *bus, const char *topic, const void *p, size_t len,
			     void *arg)
{
	struct root_orch *o = arg;
	struct oak_msg_interest m = {0};
	char id[OAK_ID_LEN], err[256];
	const char *suffix;

	(void)bus;
	if (oak_topic_parse(topic, "clusters", id, sizeof(id), &suffix))
		return;
	if (oak_msg_interest_decode(p, len, &m, err, sizeof(err))) {
		oak_log(WARN, "%s: %s", topic, err);
		return;
	}
	interest_set(o, root_cluster_seen(o, id), m.job_name, false);
	oak_msg_interest_free(&m);
}
