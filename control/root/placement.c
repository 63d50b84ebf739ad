/* oak-root: a cluster for an instance, with the scheduler library over
 * cluster aggregates (resources, runtime, architecture, geo and latency
 * against the cluster's location and radius), after the direct
 * constraint's cluster names have picked the candidates. */
#include "placement.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"
#include "oak/daemon.h"
#include "oak/metrics.h"
#include "oak/scheduler.h"

uint32_t root_runtime_mask(const char *name)
{
	return name ? oak_sched_runtime_from_str(name) : 0;
}

uint32_t root_arch_mask(const char *name)
{
	return name ? oak_sched_arch_from_str(name) : 0;
}

/* name is one of the ';'-separated entries of list (spaces trimmed) */
static bool listed(const char *list, const char *name)
{
	size_t len = name ? strlen(name) : 0;
	const char *p = list;

	if (!len)
		return false;
	while (*p) {
		const char *end = strchr(p, ';'), *a = p, *b;

		if (!end)
			end = p + strlen(p);
		b = end;
		while (a < b && *a == ' ')
			a++;
		while (b > a && b[-1] == ' ')
			b--;
		if ((size_t)(b - a) == len && !strncmp(a, name, len))
			return true;
		p = *end ? end + 1 : end;
	}
	return false;
}

static void to_sched(const struct root_cand *in, struct oak_sched_candidate *c)
{
	double cpu = in->vcpus_free * 1000.0;

	memset(c, 0, sizeof(*c));
	c->cpu_milli = cpu > 0 ? (cpu > 4e9 ? 4000000000u : (uint32_t)cpu) : 0;
	c->mem_mb = in->memory_free_mb > 0 ? (uint64_t)in->memory_free_mb : 0;
	c->gpus = in->gpus_free;
	c->runtimes = in->runtimes;
	c->archs = in->archs;
	c->instances = in->instances;
	c->is_cluster = true;
	c->active_nodes = in->active_nodes;
	c->loc.known = in->loc_known;
	c->loc.lat = in->lat;
	c->loc.lon = in->lon;
	c->loc_radius_km = in->radius_km > 0 ? in->radius_km : 0;
	snprintf(c->id, sizeof(c->id), "%s", in->id);
}

static long place(const struct root_req *req, const struct root_cand *cands, size_t n,
		  uint64_t seed, char status[ROOT_STATUS_LEN], char *detail, size_t dlen)
{
	struct oak_sched_candidate *c;
	size_t *map, nc = 0, named = 0, named_active = 0;
	struct oak_sched_geo geo[ROOT_MAX_GEO];
	struct oak_sched_latency lat[ROOT_MAX_LAT];
	struct oak_sched_request r = {0};
	struct oak_sched_options o = {.seed = seed};
	struct oak_sched_result res = {0};
	bool direct = req->direct[0] != '\0';
	long pick = -1;
	int err;

	status[0] = '\0';
	if (detail && dlen)
		detail[0] = '\0';
	c = calloc(n ? n : 1, sizeof(*c));
	map = calloc(n ? n : 1, sizeof(*map));
	if (!c || !map) {
		snprintf(status, ROOT_STATUS_LEN, "NoActiveClusterWithCapacity");
		snprintf(detail, dlen, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		const struct root_cand *k = &cands[i];

		if (direct && !listed(req->direct, k->id) && !listed(req->direct, k->name))
			continue;
		named++;
		if (!k->active)
			continue;
		named_active++;
		if (k->excluded)
			continue;
		to_sched(k, &c[nc]);
		map[nc++] = i;
	}
	if (direct && !named) {
		snprintf(status, ROOT_STATUS_LEN, "TargetClusterNotFound");
		snprintf(detail, dlen, "no cluster named %s is registered", req->direct);
		goto out;
	}
	if (direct && !named_active) {
		snprintf(status, ROOT_STATUS_LEN, "TargetClusterNotActive");
		snprintf(detail, dlen, "cluster %s is not active", req->direct);
		goto out;
	}
	snprintf(status, ROOT_STATUS_LEN, "%s",
		 direct ? "TargetClusterNoCapacity" : "NoActiveClusterWithCapacity");
	if (!nc) {
		snprintf(detail, dlen, "%s",
			 named_active ? "every active cluster was tried and could not place it"
				      : "no active cluster");
		goto out;
	}
	r.cpu_milli = req->vcpus > 0 ? (uint32_t)(req->vcpus * 1000.0 + 0.5) : 0;
	r.mem_mb = req->memory_mb > 0 ? (uint64_t)req->memory_mb : 0;
	r.gpus = req->gpus;
	r.runtime = req->runtime;
	r.archs = req->archs;
	for (size_t i = 0; i < req->n_geo && i < ROOT_MAX_GEO; i++) {
		memset(&geo[i], 0, sizeof(geo[i]));
		geo[i].loc.lat = req->geo[i].lat;
		geo[i].loc.lon = req->geo[i].lon;
		geo[i].loc.known = true;
		geo[i].threshold_km = req->geo[i].threshold_km;
		r.n_geo++;
	}
	r.geo = r.n_geo ? geo : NULL;
	for (size_t i = 0; i < req->n_lat && i < ROOT_MAX_LAT; i++) {
		memset(&lat[i], 0, sizeof(lat[i]));
		lat[i].target = OAK_SCHED_LAT_AREA;
		lat[i].area.lat = req->lat[i].lat;
		lat[i].area.lon = req->lat[i].lon;
		lat[i].area.known = true;
		lat[i].threshold_ms = req->lat[i].threshold_ms;
		r.n_latency++;
	}
	r.latency = r.n_latency ? lat : NULL;
	err = oak_sched_place(&r, c, nc, &o, &res);
	if (err == 0 && res.index >= 0 && (size_t)res.index < nc) {
		pick = (long)map[res.index];
		status[0] = '\0';
	} else if (err == -ENOSPC) {
		char why[400];

		oak_sched_explain(&res, c, why, sizeof(why));
		snprintf(detail, dlen, "%s", why);
	} else {
		snprintf(detail, dlen, "invalid request (%s)", strerror(-err));
	}
out:
	free(c);
	free(map);
	return pick;
}

static struct oak_metric *m_placements, *m_place_s;

int root_place_metrics_register(struct oak_metrics *m)
{
	m_placements = oak_metrics_counter(
	    m, "oak_placements_total", "Instances the root placed in a cluster, or found none for",
	    "result");
	m_place_s = oak_metrics_histogram(
	    m, "oak_placement_duration_seconds", "Time the root scheduler took for one instance",
	    NULL, oak_metrics_seconds_buckets, oak_metrics_seconds_buckets_n);
	if (!m_placements || !m_place_s)
		return -1;
	oak_metric_add(m_placements, OAK_LV("placed"), 0);
	oak_metric_add(m_placements, OAK_LV("unschedulable"), 0);
	return 0;
}

long root_place(const struct root_req *req, const struct root_cand *cands, size_t n, uint64_t seed,
		char status[ROOT_STATUS_LEN], char *detail, size_t dlen)
{
	int64_t t0 = oak_mono_ns();
	long pick = place(req, cands, n, seed, status, detail, dlen);

	oak_metric_observe(m_place_s, NULL, (double)(oak_mono_ns() - t0) / 1e9);
	oak_metric_inc(m_placements, OAK_LV(pick >= 0 ? "placed" : "unschedulable"));
	return pick;
}
