/* oak-cluster's service tables: the table of a service to every node
 * interested in it, table queries from nodes (another cluster's service
 * is asked of the root, the node answered when the root replies or after
 * 2 s), interests dropped by nodes, tables and updates from the root. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parts.h"
#include "oak/daemon.h"
#include "oak/log.h"

/* A service of ours that nodes here need may also run in other clusters:
 * ask the root for its table once, so the root pushes the other clusters'
 * instances from then on (asked again whenever the root link comes back). */
void ocl_root_interest(struct ocl *o, struct ocl_service *s)
{
	struct oak_msg_table_query q = {0};

	if (s->remote || s->root_interest || !s->spec ||
	    oak_bus_state(o->rbus) != OAK_BUS_CONNECTED)
		return;
	snprintf(q.node_id, sizeof(q.node_id), "%s", o->c.id);
	snprintf(q.cluster_id, sizeof(q.cluster_id), "%s", o->c.id);
	snprintf(q.job_name, sizeof(q.job_name), "%s", s->job_name);
	s->root_interest = true;
	oak_log(DEBUG, "table %s: asking the root for other clusters' instances", s->job_name);
	ocl_pub_root(o, OAK_T_TABLEQUERY_REQ, oak_msg_table_query_encode(&q), false);
}

/* the table to every interested node, now */
static void table_send(struct ocl *o, struct ocl_service *s, int64_t now)
{
	struct oak_msg_service_table t;
	char topic[OAK_TOPIC_LEN];

	s->table_due = false;
	s->table_sent_ms = now;
	if (!ocl_interested_any(&o->c, s) ||
	    oak_topic_job_updates(topic, sizeof(topic), s->job_name))
		return;
	ocl_root_interest(o, s);
	if (ocl_service_table(&o->c, s, NULL, &t))
		return;
	oak_log(DEBUG, "table %s: %zu instances to interested nodes", s->job_name, t.n_instances);
	ocl_pub(o->nbus, topic, oak_msg_service_table_encode(&t), false);
	oak_msg_service_table_free(&t);
}

/* s changed: its table goes out now, or on the tick that ends its gap */
void ocl_publish_table(struct ocl *o, struct ocl_service *s)
{
	int64_t now = oak_mono_ms();

	if (now - s->table_sent_ms < OCL_TABLE_GAP_MS) {
		s->table_due = true;
		return;
	}
	table_send(o, s, now);
}

static void answer(struct ocl *o, const char *node, struct ocl_service *s, const char *qip,
		   const char *qjob)
{
	struct oak_msg_service_table t = {0};

	if (s) {
		ocl_interest_add(s, node);
		ocl_root_interest(o, s);
		if (ocl_service_table(&o->c, s, qip, &t))
			return;
		o->dirty = true;
	} else {
		snprintf(t.job_name, sizeof(t.job_name), "%s", qjob ? qjob : "");
		snprintf(t.query_ip, sizeof(t.query_ip), "%s", qip ? qip : "");
		t.found = false;
	}
	oak_log(DEBUG, "table query from %s for %s%s: %s, %zu instances", node, qjob ? qjob : "",
		qip ? qip : "", t.found ? "found" : "not found", t.n_instances);
	ocl_pub_node(o, node, OAK_T_TABLEQUERY_RES, oak_msg_service_table_encode(&t), false);
	oak_msg_service_table_free(&t);
}

void ocl_on_query(struct oak_bus *bus, const char *topic, const void *p, size_t len, void *arg)
{
	struct ocl *o = arg;
	struct oak_msg_table_query q = {0};
	struct ocl_service *s = NULL;
	char id[OAK_ID_LEN], err[256];

	if (oak_msg_table_query_decode(p, len, &q, err, sizeof(err))) {
		oak_log(WARN, "%s: %s", topic, err);
		return;
	}
	if (!ocl_node_from_topic(o, topic, id))
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

		for (size_t k = 0; k < OCL_MAX_PENDING_Q; k++)
			if (o->pq[k].at_ms < o->pq[slot].at_ms)
				slot = k;
		snprintf(o->pq[slot].node_id, OAK_ID_LEN, "%s", id);
		snprintf(o->pq[slot].job_name, OAK_JOB_NAME_LEN, "%s", q.job_name);
		snprintf(o->pq[slot].ip, OAK_IP6_LEN, "%s", q.service_ip);
		o->pq[slot].at_ms = oak_mono_ms();
		snprintf(rq.node_id, sizeof(rq.node_id), "%s", o->c.id);
		snprintf(rq.cluster_id, sizeof(rq.cluster_id), "%s", o->c.id);
		ocl_pub_root(o, OAK_T_TABLEQUERY_REQ, oak_msg_table_query_encode(&rq), false);
		goto out;
	}
	answer(o, id, NULL, q.service_ip, q.job_name);
out:
	oak_msg_table_query_free(&q);
}

void ocl_on_net_service(struct oak_bus *bus, const char *topic, const void *p, size_t len,
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
	ocl_node_from_topic(o, topic, id);
	s = ocl_service_find(&o->c, m.job_name);
	in = s ? ocl_instance_find(s, m.instance_number) : NULL;
	if (in && !strcmp(in->node_id, id) && strstr(topic, "/deployed") && m.namespace_ip[0] &&
	    strcmp(in->namespace_ip, m.namespace_ip)) {
		snprintf(in->namespace_ip, sizeof(in->namespace_ip), "%s", m.namespace_ip);
		o->dirty = true;
	}
	oak_msg_net_service_free(&m);
}

void ocl_on_interest_remove(struct oak_bus *bus, const char *topic, const void *p, size_t len,
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
	ocl_node_from_topic(o, topic, id);
	s = ocl_service_find(&o->c, m.job_name);
	if (s && ocl_interest_remove(s, id)) {
		oak_log(DEBUG, "interest: %s dropped %s", id, s->job_name);
		o->dirty = true;
		if ((s->remote && !s->n_interest) ||
		    (s->root_interest && !ocl_interested_any(&o->c, s))) {
			/* nobody here needs it any more */
			struct oak_msg_interest r = {0};

			snprintf(r.node_id, sizeof(r.node_id), "%s", o->c.id);
			snprintf(r.job_name, sizeof(r.job_name), "%s", s->job_name);
			ocl_pub_root(o, OAK_T_INTEREST_REMOVE, oak_msg_interest_encode(&r), false);
			if (s->remote) {
				ocl_service_remove(&o->c, s);
			} else {
				oak_msg_service_table_free(&s->remote_table);
				memset(&s->remote_table, 0, sizeof(s->remote_table));
				s->root_interest = false;
			}
		}
	}
	oak_msg_interest_free(&m);
}

/* the entries of other clusters than own in a and b are the same */
static bool others_same(const struct oak_msg_service_table *a,
			const struct oak_msg_service_table *b, const char *own)
{
	size_t i = 0, j = 0;

	for (;;) {
		while (i < a->n_instances && !strcmp(a->instances[i].cluster_id, own))
			i++;
		while (j < b->n_instances && !strcmp(b->instances[j].cluster_id, own))
			j++;
		if (i == a->n_instances || j == b->n_instances)
			return i == a->n_instances && j == b->n_instances;
		if (memcmp(&a->instances[i], &b->instances[j], sizeof(a->instances[i])))
			return false;
		i++;
		j++;
	}
}

/* the root answers a table query for another cluster's service */
void ocl_on_root_table(struct oak_bus *bus, const char *topic, const void *p, size_t len, void *arg)
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
			/* ours: only the other clusters' instances are read from it */
			bool same = others_same(&s->remote_table, &t, o->c.id);

			oak_msg_service_table_free(&s->remote_table);
			s->remote_table = t; /* moved */
			memset(&t, 0, sizeof(t));
			s->root_interest = true;
			if (!same)
				ocl_publish_table(o, s);
			goto answer;
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
				ocl_publish_table(o, s);
		}
	}
answer:
	for (size_t k = 0; !update && k < OCL_MAX_PENDING_Q; k++) {
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

/* table queries the root did not answer */
void ocl_tables_tick(struct ocl *o, int64_t now)
{
	for (size_t i = 0; i < o->c.n_svcs; i++) {
		struct ocl_service *s = o->c.svcs[i];

		if (s->table_due && now - s->table_sent_ms >= OCL_TABLE_GAP_MS)
			table_send(o, s, now);
	}
	for (size_t i = 0; i < OCL_MAX_PENDING_Q; i++)
		if (o->pq[i].at_ms && now - o->pq[i].at_ms > 2000) {
			answer(o, o->pq[i].node_id, NULL, o->pq[i].ip, o->pq[i].job_name);
			o->pq[i].at_ms = 0;
		}
}
