/* oak-root's view of what its instances use: the clusters forward their
 * nodes' usage reports (clusters/<cid>/jobs/resources: CPU, memory, the
 * tail of each instance's log); the root keeps the last of each in memory
 * (telemetry, not desired state: nothing of it is stored) and adds it to
 * the instance entries the REST API answers with (cpu_percent,
 * memory_percent, memory, logs, as Oakestra's instance entries have). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "orch_int.h"
#include "oak/daemon.h"
#include "oak/log.h"

#define USAGE_STALE_MS 60000 /* older than this: not shown */

static void usage_key(char *buf, size_t len, const char *job, uint32_t n)
{
	snprintf(buf, len, "%s/%u", job, n);
}

static char *join_lines(const struct oak_strv *sv)
{
	size_t len = 1;
	char *s, *p;

	for (size_t i = 0; i < sv->n; i++)
		len += strlen(sv->v[i]) + 1;
	s = p = malloc(len);
	if (!s)
		return NULL;
	for (size_t i = 0; i < sv->n; i++)
		p += sprintf(p, "%s\n", sv->v[i]);
	*p = '\0';
	return s;
}

void root_on_usage(struct oak_bus *bus, const char *topic, const void *p, size_t len, void *arg)
{
	struct root_orch *o = arg;
	struct oak_msg_job_usage m = {0};
	char id[OAK_ID_LEN], err[256], key[OAK_JOB_NAME_LEN + 16];
	const char *suffix;
	int64_t now = oak_mono_ms();

	(void)bus;
	if (oak_topic_parse(topic, "clusters", id, sizeof(id), &suffix) ||
	    !root_cluster_seen(o, id))
		return;
	if (oak_msg_job_usage_decode(p, len, &m, err, sizeof(err))) {
		oak_log(WARN, "%s: %s", topic, err);
		return;
	}
	if (!o->usage)
		o->usage = json_object();
	for (size_t i = 0; o->usage && i < m.n_jobs; i++) {
		const struct oak_job_usage_entry *e = &m.jobs[i];
		json_t *u;

		usage_key(key, sizeof(key), e->job_name, e->instance_number);
		u = json_object_get(o->usage, key);
		if (!u || strcmp(root_str(u, "cluster_id"), id) ||
		    strcmp(root_str(u, "worker_id"), m.node_id)) {
			u = json_pack("{s:s,s:s}", "cluster_id", id, "worker_id", m.node_id);
			if (!u || json_object_set_new(o->usage, key, u))
				continue;
		}
		json_object_set_new(u, "cpu_percent", json_real(e->cpu_percent));
		json_object_set_new(u, "memory", json_integer(e->memory_mb));
		json_object_set_new(u, "at", json_integer(now));
		if (e->logs.n) {
			char *s = join_lines(&e->logs);

			if (s)
				json_object_set_new(u, "logs", json_string(s));
			free(s);
		}
	}
	oak_msg_job_usage_free(&m);
}

/* drops what no instance reported for long (instances gone or moved) */
void root_usage_sweep(struct root_orch *o)
{
	int64_t now = oak_mono_ms();
	const char *k;
	json_t *u, *tmp;

	json_object_foreach_safe(o->usage, tmp, k, u)
	{
		if (now - root_int(u, "at") > USAGE_STALE_MS)
			json_object_del(o->usage, k);
	}
}

static void decorate_service(struct root_orch *o, json_t *doc, int64_t now)
{
	json_t *list = json_object_get(doc, "instance_list"), *e, *u;
	const char *job = root_str(doc, "job_name");
	double want_mb = json_number_value(json_object_get(doc, "memory"));
	char key[OAK_JOB_NAME_LEN + 16];
	size_t i;

	json_array_foreach(list, i, e)
	{
		usage_key(key, sizeof(key), job, (uint32_t)root_int(e, "instance_number"));
		u = json_object_get(o->usage, key);
		/* only what the instance's current placement reported, lately */
		if (!u || now - root_int(u, "at") > USAGE_STALE_MS ||
		    strcmp(root_str(u, "cluster_id"), root_str(e, "cluster_id")) ||
		    strcmp(root_str(u, "worker_id"), root_str(e, "worker_id")))
			continue;
		json_object_set(e, "cpu_percent", json_object_get(u, "cpu_percent"));
		json_object_set(e, "memory", json_object_get(u, "memory"));
		if (want_mb > 0)
			json_object_set_new(
			    e, "memory_percent",
			    json_real((double)root_int(u, "memory") * 100.0 / want_mb));
		if (json_object_get(u, "logs"))
			json_object_set(e, "logs", json_object_get(u, "logs"));
	}
}

void root_orch_decorate(struct root_orch *o, json_t *docs)
{
	int64_t now = oak_mono_ms();
	json_t *d;
	size_t i;

	if (!o || !o->usage || !docs)
		return;
	if (json_is_array(docs)) {
		json_array_foreach(docs, i, d) decorate_service(o, d, now);
	} else {
		decorate_service(o, docs, now);
	}
}
