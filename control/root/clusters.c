/* oak-root's cluster registry: clusters/<cid>/hello, status (retained, also
 * the cluster's last will) and information (its aggregate) into memory and
 * into the "clusters" collection. A cluster is "active" when it reported
 * within 30 s (what the API shows); it is lost, and its instances go
 * elsewhere, after cluster_timeout without a message or at once when its
 * status says offline and it is not back within cluster_offline_grace. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "orch_int.h"
#include "oak/daemon.h"
#include "oak/log.h"

#define STORE_EVERY_MS 10000 /* last_seen is written at most this often */

struct root_cluster *root_cluster_find(struct root_orch *o, const char *id)
{
	for (size_t i = 0; i < o->n_cl; i++)
		if (!strcmp(o->cl[i].id, id))
			return &o->cl[i];
	return NULL;
}

static struct root_cluster *cluster_add(struct root_orch *o, const char *id)
{
	struct root_cluster *c;

	if (o->n_cl == o->cap_cl) {
		size_t cap = o->cap_cl ? o->cap_cl * 2 : 8;
		struct root_cluster *v = realloc(o->cl, cap * sizeof(*v));

		if (!v)
			return NULL;
		o->cl = v;
		o->cap_cl = cap;
	}
	c = &o->cl[o->n_cl++];
	memset(c, 0, sizeof(*c));
	snprintf(c->id, sizeof(c->id), "%s", id);
	c->seen_mono = oak_mono_ms(); /* a stored cluster gets one timeout to speak */
	return c;
}

static json_t *names_json(const struct oak_names *n)
{
	json_t *a = json_array();

	for (size_t i = 0; a && i < n->n; i++)
		json_array_append_new(a, json_string(n->v[i]));
	return a;
}

static void names_from(json_t *a, struct oak_names *n)
{
	json_t *v;
	size_t i;

	memset(n, 0, sizeof(*n));
	json_array_foreach(a, i, v) if (json_is_string(v) && n->n < OAK_NAMES_MAX)
	    snprintf(n->v[n->n++], OAK_RUNTIME_LEN, "%s", json_string_value(v));
}

static bool active_now(const struct root_cluster *c)
{
	return !c->lost && c->seen_wall && oak_wall_ms() - c->seen_wall < ROOT_ACTIVE_WINDOW_MS;
}

/* the cluster's document, as the API shows it */
void root_cluster_store(struct root_orch *o, struct root_cluster *c)
{
	const struct oak_msg_cluster_info *m = &c->info;
	char loc[64] = "";
	json_t *d;

	if (!c->doc_id[0])
		root_store_new_id(o->store, c->doc_id);
	if (c->location.set)
		snprintf(loc, sizeof(loc), "%g,%g", c->location.lat, c->location.lon);
	c->stored_active = active_now(c);
	c->stored_wall = c->seen_wall;
	d = json_pack("{s:{s:s},s:s,s:s,s:s,s:s,s:b,s:I,s:I,s:f,s:f,s:I,s:I,s:I,s:I,s:o,s:o,s:f,"
		      "s:b,s:s}",
		      "_id", "$oid", c->doc_id, "cluster_id", c->id, "cluster_name",
		      c->name[0] ? c->name : c->id, "cluster_location", loc, "operator",
		      c->operator_name, "active", c->stored_active, "last_seen",
		      (json_int_t)c->seen_wall, "active_nodes", (json_int_t)m->active_nodes,
		      "vcpus_total", m->vcpus_total, "vcpus_free", m->vcpus_free, "memory_total_mb",
		      (json_int_t)m->memory_total_mb, "memory_free_mb",
		      (json_int_t)m->memory_free_mb, "gpus_total", (json_int_t)m->gpus_total,
		      "gpus_free", (json_int_t)m->gpus_free, "virtualization",
		      names_json(&m->virtualization), "arch", names_json(&m->arch), "radius_km",
		      c->radius_km, "online", c->online && !c->lost, "boot_id", c->boot_id);
	if (d && c->interests)
		json_object_set(d, "interests", c->interests);
	if (!d || root_store_put(o->store, "clusters", c->doc_id, d))
		oak_log(ERROR, "cluster %s: its document was not stored", c->id);
	json_decref(d);
}

int root_clusters_load(struct root_orch *o)
{
	json_t *all = NULL, *d;
	size_t i;

	if (root_store_list(o->store, "clusters", NULL, NULL, &all))
		return -1;
	json_array_foreach(all, i, d)
	{
		const char *id = root_str(d, "cluster_id"), *loc = root_str(d, "cluster_location");
		struct root_cluster *c;
		double lat, lon;

		if (!oak_topic_id_valid(id) || root_cluster_find(o, id) ||
		    !(c = cluster_add(o, id)))
			continue;
		snprintf(c->doc_id, sizeof(c->doc_id), "%s",
			 root_str(json_object_get(d, "_id"), "$oid"));
		snprintf(c->name, sizeof(c->name), "%s", root_str(d, "cluster_name"));
		snprintf(c->operator_name, sizeof(c->operator_name), "%s", root_str(d, "operator"));
		if (sscanf(loc, "%lf,%lf", &lat, &lon) == 2) {
			c->location.set = true;
			c->location.lat = lat;
			c->location.lon = lon;
		}
		c->radius_km = json_number_value(json_object_get(d, "radius_km"));
		c->seen_wall = root_int(d, "last_seen");
		c->stored_wall = c->seen_wall;
		c->stored_active = json_is_true(json_object_get(d, "active"));
		c->online = true; /* until its retained status says otherwise */
		/* the aggregate is stale: none is placed here before a fresh one */
		c->info.active_nodes = (uint32_t)root_int(d, "active_nodes");
		names_from(json_object_get(d, "virtualization"), &c->info.virtualization);
		names_from(json_object_get(d, "arch"), &c->info.arch);
		if (json_is_array(json_object_get(d, "interests")))
			c->interests = json_incref(json_object_get(d, "interests"));
	}
	json_decref(all);
	oak_log(INFO, "%zu clusters known from the store", o->n_cl);
	return 0;
}

struct root_cluster *root_cluster_seen(struct root_orch *o, const char *id)
{
	struct root_cluster *c;

	if (!oak_topic_id_valid(id))
		return NULL;
	c = root_cluster_find(o, id);
	if (!c) {
		c = cluster_add(o, id);
		if (!c)
			return NULL;
		oak_log(INFO, "cluster %s: new", id);
	}
	c->seen_mono = oak_mono_ms();
	c->seen_wall = oak_wall_ms();
	c->heard = true;
	if (c->lost && c->online) {
		oak_log(INFO, "cluster %s is back", id);
		c->lost = false;
		c->synced = false;
		root_cluster_store(o, c);
	}
	return c;
}

static const char *cluster_of(const char *topic, char *id)
{
	const char *suffix;

	if (oak_topic_parse(topic, "clusters", id, OAK_ID_LEN, &suffix))
		return NULL;
	return suffix;
}

void root_on_hello(struct oak_bus *bus, const char *topic, const void *p, size_t len, void *arg)
{
	struct root_orch *o = arg;
	struct oak_msg_cluster_hello h = {0};
	struct root_cluster *c;
	char id[OAK_ID_LEN], err[256];

	(void)bus;
	if (!cluster_of(topic, id))
		return;
	if (oak_msg_cluster_hello_decode(p, len, &h, err, sizeof(err))) {
		oak_log(WARN, "%s: %s", topic, err);
		return;
	}
	if (strcmp(h.cluster_id, id)) {
		oak_log(WARN, "%s: cluster_id %s does not match the topic", topic, h.cluster_id);
		goto out;
	}
	c = root_cluster_seen(o, id);
	if (!c)
		goto out;
	if (strcmp(c->boot_id, h.boot_id))
		oak_log(INFO, "cluster %s (%s, operator %s): hello, boot %s", id,
			h.name[0] ? h.name : id, h.operator_name[0] ? h.operator_name : "-",
			h.boot_id[0] ? h.boot_id : "-");
	snprintf(c->name, sizeof(c->name), "%s", h.name);
	snprintf(c->operator_name, sizeof(c->operator_name), "%s", h.operator_name);
	snprintf(c->boot_id, sizeof(c->boot_id), "%s", h.boot_id);
	c->location = h.location;
	c->radius_km = h.radius_km;
	c->online = true;
	root_cluster_store(o, c);
out:
	oak_msg_cluster_hello_free(&h);
}

static void cluster_lost(struct root_orch *o, struct root_cluster *c, const char *why)
{
	c->lost = true;
	c->have_info = false;
	oak_log(WARN, "cluster %s lost (%s): its instances go to other clusters", c->id, why);
	root_cluster_store(o, c);
	root_orch_sweep(o, c->id);
}

void root_on_status(struct oak_bus *bus, const char *topic, const void *p, size_t len, void *arg)
{
	struct root_orch *o = arg;
	struct oak_msg_status m = {0};
	struct root_cluster *c;
	char id[OAK_ID_LEN], err[256];

	(void)bus;
	if (!cluster_of(topic, id) || !len) /* an empty retained message clears it */
		return;
	if (oak_msg_status_decode(p, len, &m, err, sizeof(err))) {
		oak_log(WARN, "%s: %s", topic, err);
		return;
	}
	if (m.online) {
		c = root_cluster_seen(o, id);
		if (c && !c->online) {
			c->online = true;
			c->lost = false;
			c->synced = false;
			root_cluster_store(o, c);
		}
		goto out;
	}
	c = root_cluster_find(o, id);
	if (!c)
		goto out;
	/* a will of an earlier boot must not take down the current one */
	if (m.boot_id[0] && c->boot_id[0] && strcmp(m.boot_id, c->boot_id) && c->heard &&
	    c->online) {
		oak_log(INFO, "cluster %s: offline status of an earlier boot (%s) ignored", id,
			m.boot_id);
		goto out;
	}
	if (c->online && !c->lost)
		oak_log(WARN,
			"cluster %s offline (its last will or a clean stop): lost unless it "
			"is back within %.1f s",
			id, (double)o->offline_grace_ms / 1000.0);
	c->online = false;
	c->offline_mono = oak_mono_ms();
out:
	oak_msg_status_free(&m);
}

void root_on_info(struct oak_bus *bus, const char *topic, const void *p, size_t len, void *arg)
{
	struct root_orch *o = arg;
	struct oak_msg_cluster_info m = {0};
	struct root_cluster *c;
	char id[OAK_ID_LEN], err[256];
	bool first;

	(void)bus;
	if (!cluster_of(topic, id))
		return;
	if (oak_msg_cluster_info_decode(p, len, &m, err, sizeof(err))) {
		oak_log(WARN, "%s: %s", topic, err);
		return;
	}
	c = root_cluster_seen(o, id);
	if (!c)
		goto out;
	if (!c->online) { /* reporting again after an offline status */
		c->online = true;
		c->lost = false;
		c->synced = false;
	}
	first = !c->have_info;
	c->info = m;
	c->have_info = true;
	if (m.location.set)
		c->location = m.location;
	if (m.radius_km > 0)
		c->radius_km = m.radius_km;
	if (first || c->stored_active != active_now(c) ||
	    c->seen_wall - c->stored_wall >= STORE_EVERY_MS)
		root_cluster_store(o, c);
	if (first) {
		oak_log(INFO, "cluster %s: %u nodes, %.1f vcpus and %lld MB free", id,
			m.active_nodes, m.vcpus_free, (long long)m.memory_free_mb);
		root_orch_sweep(o, NULL); /* instances waiting for a cluster */
	} else {
		/* aggregates changed: the negative ones may fit now (timers decide) */
	}
	if (!c->synced) {
		c->synced = true;
		root_orch_sync_cluster(o, id);
	}
out:
	oak_msg_cluster_info_free(&m);
}

size_t root_clusters_tick(struct root_orch *o)
{
	int64_t now = oak_mono_ms();
	size_t lost = 0;

	for (size_t i = 0; i < o->n_cl; i++) {
		struct root_cluster *c = &o->cl[i];

		if (!c->lost && !c->online && now - c->offline_mono >= o->offline_grace_ms) {
			cluster_lost(o, c, "offline");
			lost++;
			continue;
		}
		if (!c->lost && now - c->seen_mono > o->cluster_timeout_ms) {
			char why[80];

			snprintf(why, sizeof(why), "silent for %.1f s",
				 (double)(now - c->seen_mono) / 1000.0);
			cluster_lost(o, c, why);
			lost++;
			continue;
		}
		if (c->stored_active != active_now(c))
			root_cluster_store(o, c);
	}
	return lost;
}

void root_clusters_cands(struct root_orch *o, struct root_cand *out)
{
	for (size_t i = 0; i < o->n_cl; i++) {
		const struct root_cluster *c = &o->cl[i];
		struct root_cand *k = &out[i];
		uint32_t rt = 0, ar = 0;

		for (size_t j = 0; j < c->info.virtualization.n; j++)
			rt |= root_runtime_mask(c->info.virtualization.v[j]);
		for (size_t j = 0; j < c->info.arch.n; j++)
			ar |= root_arch_mask(c->info.arch.v[j]);
		memset(k, 0, sizeof(*k));
		k->id = c->id;
		k->name = c->name;
		k->lost = c->lost;
		k->active = !c->lost && c->online && c->have_info;
		k->active_nodes = c->info.active_nodes;
		k->vcpus_free = c->info.vcpus_free;
		k->memory_free_mb = c->info.memory_free_mb;
		k->gpus_free = c->info.gpus_free;
		k->runtimes = rt;
		k->archs = ar;
		k->loc_known = c->location.set;
		k->lat = c->location.lat;
		k->lon = c->location.lon;
		k->radius_km = c->radius_km;
	}
}
