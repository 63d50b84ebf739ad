/* oak-cluster: node placement through the scheduler library. */
#include "sched_glue.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "oak/scheduler.h"

uint32_t ocl_runtime_mask(const char *name)
{
	return name ? oak_sched_runtime_from_str(name) : 0;
}

uint32_t ocl_arch_mask(const char *name)
{
	return name ? oak_sched_arch_from_str(name) : 0;
}

static void to_vivaldi(const struct ocl_coord *in, struct oak_vivaldi *out)
{
	memset(out, 0, sizeof(*out));
	out->x = in->x;
	out->y = in->y;
	out->h = in->h;
	out->err = in->err;
}

uint32_t ocl_place(const struct ocl_req *req, const struct ocl_cand *cands, size_t n,
		   uint32_t replicas, uint64_t seed, size_t *out_idx, char *why, size_t whylen)
{
	struct oak_sched_candidate *c, *scratch;
	struct oak_sched_geo geo[OCL_MAX_GEO];
	struct oak_sched_latency lat[OCL_MAX_LAT];
	struct oak_vivaldi *coords = NULL;
	size_t n_lat = req->n_lat < OCL_MAX_LAT ? req->n_lat : OCL_MAX_LAT, n_coords = 0, k = 0;
	struct oak_sched_request r = {0};
	struct oak_sched_options o = {.seed = seed};
	struct oak_sched_result res = {0};
	uint32_t placed = 0;
	int err;

	if (why && whylen)
		why[0] = '\0';
	if (!n || !replicas) {
		if (why)
			snprintf(why, whylen, "no active node");
		return 0;
	}
	for (size_t i = 0; i < n_lat; i++)
		n_coords += req->lat[i].to_service ? req->lat[i].n_inst : 0;
	c = calloc(n, sizeof(*c));
	scratch = calloc(n, sizeof(*scratch));
	coords = calloc(n_coords ? n_coords : 1, sizeof(*coords));
	if (!c || !scratch || !coords) {
		free(c);
		free(scratch);
		free(coords);
		if (why)
			snprintf(why, whylen, "out of memory");
		return 0;
	}
	for (size_t i = 0; i < n; i++) {
		double cpu = cands[i].vcpus_free * 1000.0;

		c[i].cpu_milli = cpu > 0 ? (cpu > 4e9 ? 4000000000u : (uint32_t)cpu) : 0;
		c[i].mem_mb = cands[i].memory_free_mb > 0 ? (uint64_t)cands[i].memory_free_mb : 0;
		c[i].gpus = cands[i].gpus_free;
		c[i].runtimes = cands[i].runtimes;
		c[i].archs = cands[i].archs;
		c[i].instances = cands[i].instances;
		c[i].loc.known = cands[i].loc_known;
		c[i].loc.lat = cands[i].lat;
		c[i].loc.lon = cands[i].lon;
		c[i].coord_known = cands[i].coord_known;
		to_vivaldi(&cands[i].coord, &c[i].coord);
		snprintf(c[i].id, sizeof(c[i].id), "%s", cands[i].id);
	}
	r.cpu_milli = req->vcpus > 0 ? (uint32_t)(req->vcpus * 1000.0 + 0.5) : 0;
	r.mem_mb = req->memory_mb > 0 ? (uint64_t)req->memory_mb : 0;
	r.gpus = req->gpus;
	r.runtime = req->runtime;
	r.archs = req->archs;
	r.target_node = req->target_node;
	r.direct = req->direct;
	for (size_t i = 0; i < req->n_geo && i < OCL_MAX_GEO; i++) {
		memset(&geo[i], 0, sizeof(geo[i]));
		geo[i].loc.lat = req->geo[i].lat;
		geo[i].loc.lon = req->geo[i].lon;
		geo[i].loc.known = true;
		geo[i].threshold_km = req->geo[i].threshold_km;
	}
	r.geo = req->n_geo ? geo : NULL;
	r.n_geo = req->n_geo < OCL_MAX_GEO ? req->n_geo : OCL_MAX_GEO;
	for (size_t i = 0; i < n_lat; i++) {
		const struct ocl_lat *l = &req->lat[i];

		memset(&lat[i], 0, sizeof(lat[i]));
		lat[i].threshold_ms = l->threshold_ms;
		if (!l->to_service) {
			lat[i].target = OAK_SCHED_LAT_AREA;
			lat[i].area.lat = l->lat;
			lat[i].area.lon = l->lon;
			lat[i].area.known = true;
			continue;
		}
		lat[i].target = OAK_SCHED_LAT_SERVICE;
		lat[i].instances = coords + k;
		lat[i].n_instances = l->n_inst;
		for (size_t j = 0; j < l->n_inst; j++)
			to_vivaldi(&l->inst[j], &coords[k++]);
	}
	r.latency = n_lat ? lat : NULL;
	r.n_latency = n_lat;
	err = oak_sched_place_replicas(&r, c, n, replicas, &o, scratch, out_idx, &placed, &res);
	if (err && why) {
		if (err == -ENOSPC)
			oak_sched_explain(&res, c, why, whylen);
		else
			snprintf(why, whylen, "invalid request (%s)", strerror(-err));
	}
	free(c);
	free(scratch);
	free(coords);
	return placed;
}
