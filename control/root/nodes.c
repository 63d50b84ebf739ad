/* nodes.h: what the clusters forward of their nodes, in memory. */
#include "nodes.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "oak/bus.h"
#include "oak/daemon.h"
#include "oak/log.h"
#include "oak/msg.h"

struct node {
	char cluster[OAK_ID_LEN];
	struct oak_msg_node_info info;
	int64_t seen_ms; /* wall clock of the last report */
	bool online;
};

struct usage {
	char service_id[OAK_ID_LEN];
	uint32_t number;
	char node[OAK_ID_LEN];
	double cpu_percent;
	int64_t memory_mb;
	int64_t seen_ms;
	char *logs; /* the last lines of its log the node sent, or NULL */
};

struct root_nodes {
	struct node *nodes;
	size_t n_nodes, cap_nodes;
	struct usage *usage;
	size_t n_usage, cap_usage;
};

/* "clusters/<cid>/nodes/<nid>/..." into cid and nid */
static bool ids_of(const char *topic, char cid[OAK_ID_LEN], char nid[OAK_ID_LEN])
{
	const char *c = topic + strlen("clusters/"), *n;
	size_t lc, ln;

	if (strncmp(topic, "clusters/", 9))
		return false;
	lc = strcspn(c, "/");
	if (!lc || lc >= OAK_ID_LEN || strncmp(c + lc, "/nodes/", 7))
		return false;
	n = c + lc + 7;
	ln = strcspn(n, "/");
	if (!ln || ln >= OAK_ID_LEN || !n[ln])
		return false;
	memcpy(cid, c, lc);
	cid[lc] = '\0';
	memcpy(nid, n, ln);
	nid[ln] = '\0';
	return true;
}

static struct node *node_get(struct root_nodes *t, const char *cid, const char *nid, bool add)
{
	for (size_t i = 0; i < t->n_nodes; i++)
		if (!strcmp(t->nodes[i].info.node_id, nid))
			return &t->nodes[i];
	if (!add || t->n_nodes >= ROOT_NODES_MAX)
		return NULL;
	if (t->n_nodes == t->cap_nodes) {
		size_t cap = t->cap_nodes ? 2 * t->cap_nodes : 16;
		struct node *v = realloc(t->nodes, cap * sizeof(*v));

		if (!v)
			return NULL;
		t->nodes = v;
		t->cap_nodes = cap;
	}
	memset(&t->nodes[t->n_nodes], 0, sizeof(t->nodes[0]));
	snprintf(t->nodes[t->n_nodes].info.node_id, OAK_ID_LEN, "%s", nid);
	snprintf(t->nodes[t->n_nodes].cluster, OAK_ID_LEN, "%s", cid);
	return &t->nodes[t->n_nodes++];
}

static void on_info(struct oak_bus *bus, const char *topic, const void *p, size_t len, void *arg)
{
	struct root_nodes *t = arg;
	struct oak_msg_node_info m = {0};
	char cid[OAK_ID_LEN], nid[OAK_ID_LEN], err[256];
	struct node *n;

	if (!ids_of(topic, cid, nid))
		return;
	if (oak_msg_node_info_decode(p, len, &m, err, sizeof(err))) {
		oak_log(WARN, "%s: %s", topic, err);
		return;
	}
	n = node_get(t, cid, nid, true);
	if (n) {
		snprintf(m.node_id, sizeof(m.node_id), "%s", nid); /* the topic names it */
		oak_msg_node_info_free(&n->info);
		n->info = m;
		snprintf(n->cluster, sizeof(n->cluster), "%s", cid); /* it may have moved */
		n->seen_ms = oak_wall_ms();
		n->online = true;
		return;
	}
	oak_msg_node_info_free(&m);
}

static void on_status(struct oak_bus *bus, const char *topic, const void *p, size_t len, void *arg)
{
	struct oak_msg_status m = {0};
	char cid[OAK_ID_LEN], nid[OAK_ID_LEN], err[256];
	struct node *n;

	if (!ids_of(topic, cid, nid))
		return;
	if (oak_msg_status_decode(p, len, &m, err, sizeof(err))) {
		oak_log(WARN, "%s: %s", topic, err);
		return;
	}
	n = node_get(arg, cid, nid, false);
	if (n && !strcmp(n->cluster, cid))
		n->online = m.online;
	oak_msg_status_free(&m);
}

static struct usage *usage_get(struct root_nodes *t, const char *sid, uint32_t num)
{
	for (size_t i = 0; i < t->n_usage; i++)
		if (t->usage[i].number == num && !strcmp(t->usage[i].service_id, sid))
			return &t->usage[i];
	if (t->n_usage >= ROOT_USAGE_MAX)
		return NULL;
	if (t->n_usage == t->cap_usage) {
		size_t cap = t->cap_usage ? 2 * t->cap_usage : 64;
		struct usage *v = realloc(t->usage, cap * sizeof(*v));

		if (!v)
			return NULL;
		t->usage = v;
		t->cap_usage = cap;
	}
	memset(&t->usage[t->n_usage], 0, sizeof(t->usage[0]));
	snprintf(t->usage[t->n_usage].service_id, OAK_ID_LEN, "%s", sid);
	t->usage[t->n_usage].number = num;
	return &t->usage[t->n_usage++];
}

static void on_usage(struct oak_bus *bus, const char *topic, const void *p, size_t len, void *arg)
{
	struct root_nodes *t = arg;
	struct oak_msg_job_usage m = {0};
	char cid[OAK_ID_LEN], nid[OAK_ID_LEN], err[256];
	int64_t now = oak_wall_ms();

	if (!ids_of(topic, cid, nid))
		return;
	if (oak_msg_job_usage_decode(p, len, &m, err, sizeof(err))) {
		oak_log(WARN, "%s: %s", topic, err);
		return;
	}
	for (size_t i = 0; i < m.n_jobs; i++) {
		const struct oak_job_usage_entry *e = &m.jobs[i];
		struct usage *u =
		    e->service_id[0] ? usage_get(t, e->service_id, e->instance_number) : NULL;

		if (!u)
			continue;
		if (strcmp(u->node, nid)) { /* moved: the old node's log is not its */
			free(u->logs);
			u->logs = NULL;
		}
		if (e->logs.n) { /* sent when the log grew */
			size_t sz = 1;
			char *s;

			for (size_t k = 0; k < e->logs.n; k++)
				sz += strlen(e->logs.v[k]) + 1;
			s = malloc(sz);
			if (s) {
				char *q = s;

				for (size_t k = 0; k < e->logs.n; k++)
					q += sprintf(q, "%s\n", e->logs.v[k]);
				*q = '\0';
				free(u->logs);
				u->logs = s;
			}
		}
		snprintf(u->node, sizeof(u->node), "%s", nid);
		u->cpu_percent = e->cpu_percent;
		u->memory_mb = e->memory_mb;
		u->seen_ms = now;
	}
	oak_msg_job_usage_free(&m);
	/* usage of instances that are gone ages out */
	for (size_t i = t->n_usage; i-- > 0;)
		if (now - t->usage[i].seen_ms > ROOT_USAGE_TTL_MS) {
			free(t->usage[i].logs);
			t->usage[i] = t->usage[--t->n_usage];
		}
}

struct root_nodes *root_nodes_new(struct oak_bus *bus)
{
	static const struct {
		const char *suffix;
		oak_bus_msg_cb cb;
	} subs[] = {
	    {OAK_T_INFORMATION, on_info},
	    {OAK_T_STATUS, on_status},
	    {OAK_T_JOBS_RESOURCES, on_usage},
	};
	struct root_nodes *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	for (size_t i = 0; i < sizeof(subs) / sizeof(subs[0]); i++) {
		char filter[OAK_TOPIC_LEN];

		snprintf(filter, sizeof(filter), "clusters/+/nodes/+/%s", subs[i].suffix);
		if (oak_bus_subscribe(bus, filter, subs[i].cb, t)) {
			oak_log(ERROR, "subscribe %s failed", filter);
			root_nodes_free(t);
			return NULL;
		}
	}
	return t;
}

void root_nodes_free(struct root_nodes *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->n_nodes; i++)
		oak_msg_node_info_free(&t->nodes[i].info);
	free(t->nodes);
	for (size_t i = 0; i < t->n_usage; i++)
		free(t->usage[i].logs);
	free(t->usage);
	free(t);
}

json_t *root_nodes_of_cluster(const struct root_nodes *t, const char *cid, int64_t now_ms)
{
	json_t *out = json_array();

	for (size_t i = 0; t && out && i < t->n_nodes; i++) {
		const struct node *n = &t->nodes[i];
		const struct oak_msg_node_info *m = &n->info;
		json_t *virt = json_array(), *d;

		if (strcmp(n->cluster, cid))
			continue;
		for (size_t k = 0; k < m->virtualization.n; k++)
			json_array_append_new(virt, json_string(m->virtualization.v[k]));
		d = json_pack("{s:s,s:s,s:b,s:I,s:f,s:I,s:f,s:I,s:I,s:f,s:s,s:o,s:I}", "node_id",
			      m->node_id, "cluster_id", n->cluster, "active",
			      n->online && now_ms - n->seen_ms < ROOT_NODE_STALE_MS, "last_seen",
			      (json_int_t)n->seen_ms, "cpu_percent", m->cpu_percent, "vcpus",
			      (json_int_t)m->vcpus, "vcpus_free", m->vcpus_free, "memory_mb",
			      (json_int_t)m->memory_mb, "memory_free_mb",
			      (json_int_t)m->memory_free_mb, "memory_percent", m->memory_percent,
			      "architecture", m->architecture, "virtualization", virt, "instances",
			      (json_int_t)m->instances);
		if (d && m->location.set)
			json_object_set_new(
			    d, "location",
			    json_pack("{s:f,s:f}", "lat", m->location.lat, "lon", m->location.lon));
		if (d)
			json_array_append_new(out, d);
	}
	return out;
}

void root_nodes_fill_usage(const struct root_nodes *t, json_t *svc)
{
	const char *sid = json_string_value(json_object_get(svc, "microserviceID"));
	double mem = json_number_value(json_object_get(svc, "memory"));
	json_t *list = json_object_get(svc, "instance_list"), *e;
	size_t i;

	if (!t || !sid)
		return;
	json_array_foreach(list, i, e)
	{
		json_int_t num = json_integer_value(json_object_get(e, "instance_number"));
		const struct usage *u = NULL;

		for (size_t k = 0; k < t->n_usage && !u; k++)
			if (t->usage[k].number == (uint32_t)num &&
			    !strcmp(t->usage[k].service_id, sid))
				u = &t->usage[k];
		if (!u)
			continue;
		json_object_set_new(e, "cpu_percent", json_real(u->cpu_percent));
		json_object_set_new(e, "memory_mb", json_integer((json_int_t)u->memory_mb));
		/* of what the SLA grants the instance */
		json_object_set_new(e, "memory_percent",
				    json_real(mem > 0 ? 100.0 * (double)u->memory_mb / mem : 0.0));
		json_object_set_new(e, "usage_at", json_integer((json_int_t)u->seen_ms));
		if (u->logs) /* Oakestra's instance entries carry their logs */
			json_object_set_new(e, "logs", json_string(u->logs));
	}
}
