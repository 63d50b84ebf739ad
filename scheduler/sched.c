// SPDX-License-Identifier: Apache-2.0
/*
 * ROM and LDP placement (Oakestra paper, Algorithms 1 and 2). The scoring
 * and tie-breaking rules are documented in include/oak/scheduler.h.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "oak/scheduler.h"

#define W_MIN  0.75 /* weight of the scarcest dimension's headroom */
#define W_MEAN 0.25 /* weight of the mean headroom */

/* Everything a decision derives once from its inputs. */
struct decision {
	const struct oak_sched_request *req;
	bool ldp;
	bool pack;
	uint64_t seed;
	double w_res, w_prox;
	double rtt_per_km;
	double inv_max_cpu, inv_max_mem, inv_max_gpu;
};

struct pick {
	long index;
	double score, res, prox;
	uint64_t hash;
	bool hashed;
};

static const char *const reject_names[OAK_SCHED_REJ_MAX] = {
    [OAK_SCHED_REJ_TARGET] = "target_node",
    [OAK_SCHED_REJ_DIRECT] = "direct",
    [OAK_SCHED_REJ_NO_NODES] = "no_nodes",
    [OAK_SCHED_REJ_RUNTIME] = "runtime",
    [OAK_SCHED_REJ_ARCH] = "arch",
    [OAK_SCHED_REJ_CPU] = "cpu",
    [OAK_SCHED_REJ_MEMORY] = "memory",
    [OAK_SCHED_REJ_GPU] = "gpu",
    [OAK_SCHED_REJ_GEO] = "geo",
    [OAK_SCHED_REJ_LATENCY] = "latency",
};

const char *oak_sched_reject_str(enum oak_sched_reject r)
{
	if ((unsigned)r >= OAK_SCHED_REJ_MAX)
		return "?";
	return reject_names[r];
}

struct name_bit {
	const char *name;
	uint32_t bit;
};

static const struct name_bit runtime_names[] = {
    {"container", OAK_SCHED_RT_CONTAINER}, {"docker", OAK_SCHED_RT_CONTAINER},
    {"unikernel", OAK_SCHED_RT_UNIKERNEL}, {"native", OAK_SCHED_RT_NATIVE},
    {"wasm", OAK_SCHED_RT_WASM},
};

static const struct name_bit arch_names[] = {
    {"amd64", OAK_SCHED_ARCH_AMD64}, {"x86_64", OAK_SCHED_ARCH_AMD64},
    {"arm64", OAK_SCHED_ARCH_ARM64}, {"aarch64", OAK_SCHED_ARCH_ARM64},
    {"arm", OAK_SCHED_ARCH_ARM},     {"armv7", OAK_SCHED_ARCH_ARM},
    {"armv7l", OAK_SCHED_ARCH_ARM},  {"riscv64", OAK_SCHED_ARCH_RISCV64},
};

static uint32_t lookup(const struct name_bit *t, size_t n, const char *s)
{
	if (!s)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (strcasecmp(t[i].name, s) == 0)
			return t[i].bit;
	return 0;
}

uint32_t oak_sched_runtime_from_str(const char *s)
{
	return lookup(runtime_names, sizeof(runtime_names) / sizeof(runtime_names[0]), s);
}

uint32_t oak_sched_arch_from_str(const char *s)
{
	return lookup(arch_names, sizeof(arch_names) / sizeof(arch_names[0]), s);
}

static uint64_t mix64(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ull;
	return x ^ (x >> 33);
}

static uint64_t id_hash(uint64_t seed, const char *id)
{
	uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a */

	for (size_t i = 0; i < OAK_SCHED_ID_LEN && id[i]; i++) {
		h ^= (unsigned char)id[i];
		h *= 0x100000001b3ull;
	}
	return mix64(h ^ mix64(seed));
}

static bool is_space(char c)
{
	return c == ' ' || c == '\t';
}

/* Is id one of the ';'-separated names of list (surrounding blanks ignored)? */
static bool list_has(const char *list, const char *id)
{
	size_t id_len = strnlen(id, OAK_SCHED_ID_LEN);
	const char *p = list;

	while (*p) {
		const char *start, *end;

		while (is_space(*p))
			p++;
		start = p;
		while (*p && *p != ';')
			p++;
		end = p;
		while (end > start && is_space(end[-1]))
			end--;
		if ((size_t)(end - start) == id_len && memcmp(start, id, id_len) == 0)
			return true;
		if (*p == ';')
			p++;
	}
	return false;
}

static bool id_equals(const char *id, const char *name)
{
	return strncmp(id, name, OAK_SCHED_ID_LEN) == 0;
}

static bool point_valid(const struct oak_geo_point *p)
{
	return p->known && isfinite(p->lat) && isfinite(p->lon) && fabs(p->lat) <= 90.0 &&
	       fabs(p->lon) <= 180.0;
}

static bool threshold_valid(double t)
{
	return isfinite(t) && t >= 0.0;
}

static bool coord_valid(const struct oak_vivaldi *c)
{
	return isfinite(c->x) && isfinite(c->y) && isfinite(c->h);
}

static int validate(const struct oak_sched_request *req, const struct oak_sched_candidate *cands,
		    size_t n, bool ldp)
{
	if (!req || (n && !cands))
		return -EINVAL;
	if (!ldp)
		return 0;
	if (req->n_geo && !req->geo)
		return -EINVAL;
	if (req->n_latency && !req->latency)
		return -EINVAL;
	for (size_t i = 0; i < req->n_geo; i++)
		if (!point_valid(&req->geo[i].loc) || !threshold_valid(req->geo[i].threshold_km))
			return -EINVAL;
	for (size_t i = 0; i < req->n_latency; i++) {
		const struct oak_sched_latency *l = &req->latency[i];

		if (!threshold_valid(l->threshold_ms))
			return -EINVAL;
		switch (l->target) {
		case OAK_SCHED_LAT_AREA:
			if (l->area_coord_known && !coord_valid(&l->area_coord))
				return -EINVAL;
			if (l->area.known && !point_valid(&l->area))
				return -EINVAL;
			if (!l->area.known && !l->area_coord_known)
				return -EINVAL;
			break;
		case OAK_SCHED_LAT_SERVICE:
			if (l->n_instances && !l->instances)
				return -EINVAL;
			break;
		default:
			return -EINVAL;
		}
	}
	return 0;
}

static void decision_init(struct decision *d, const struct oak_sched_request *req,
			  const struct oak_sched_candidate *cands, size_t n,
			  const struct oak_sched_options *opts, bool ldp)
{
	uint32_t max_cpu = 0, max_gpu = 0;
	uint64_t max_mem = 0;

	d->req = req;
	d->ldp = ldp;
	d->pack = opts && opts->policy == OAK_SCHED_PACK;
	d->seed = opts ? opts->seed : 0;
	d->w_res = opts && opts->w_resources > 0.0 ? opts->w_resources : 0.5;
	d->w_prox = opts && opts->w_proximity > 0.0 ? opts->w_proximity : 0.5;
	d->rtt_per_km = opts && opts->geo_rtt_ms_per_km > 0.0 ? opts->geo_rtt_ms_per_km
							      : OAK_SCHED_GEO_RTT_MS_PER_KM;
	for (size_t i = 0; i < n; i++) {
		if (cands[i].cpu_milli > max_cpu)
			max_cpu = cands[i].cpu_milli;
		if (cands[i].mem_mb > max_mem)
			max_mem = cands[i].mem_mb;
		if (cands[i].gpus > max_gpu)
			max_gpu = cands[i].gpus;
	}
	d->inv_max_cpu = max_cpu ? 1.0 / max_cpu : 0.0;
	d->inv_max_mem = max_mem ? 1.0 / (double)max_mem : 0.0;
	d->inv_max_gpu = max_gpu ? 1.0 / max_gpu : 0.0;
}

/* Algorithm 1's filter. Returns the reject reason, or -1 when c fits. */
static int rom_filter(const struct oak_sched_request *req, const struct oak_sched_candidate *c)
{
	if (req->target_node && req->target_node[0] && !id_equals(c->id, req->target_node))
		return OAK_SCHED_REJ_TARGET;
	if (req->direct && req->direct[0] && !list_has(req->direct, c->id))
		return OAK_SCHED_REJ_DIRECT;
	if (c->is_cluster && c->active_nodes == 0)
		return OAK_SCHED_REJ_NO_NODES;
	if (req->runtime && !(c->runtimes & req->runtime))
		return OAK_SCHED_REJ_RUNTIME;
	if (req->archs && !(c->archs & req->archs))
		return OAK_SCHED_REJ_ARCH;
	if (c->cpu_milli < req->cpu_milli ||
	    (c->is_cluster && c->max_node_cpu_milli && c->max_node_cpu_milli < req->cpu_milli))
		return OAK_SCHED_REJ_CPU;
	if (c->mem_mb < req->mem_mb ||
	    (c->is_cluster && c->max_node_mem_mb && c->max_node_mem_mb < req->mem_mb))
		return OAK_SCHED_REJ_MEMORY;
	if (c->gpus < req->gpus)
		return OAK_SCHED_REJ_GPU;
	return -1;
}

/* 1 - value/threshold for a value already known to be within threshold. */
static double slack(double value, double threshold)
{
	return threshold > 0.0 ? 1.0 - value / threshold : 1.0;
}

/*
 * Algorithm 2's constraints. Returns the reject reason or -1, and the
 * proximity score (mean slack over constraints, 1 when there are none).
 */
static int ldp_filter(const struct decision *d, const struct oak_sched_candidate *c, double *prox)
{
	const struct oak_sched_request *req = d->req;
	double sum = 0.0;

	for (size_t i = 0; i < req->n_geo; i++) {
		const struct oak_sched_geo *g = &req->geo[i];
		double km;

		if (!c->loc.known)
			return OAK_SCHED_REJ_GEO;
		km = oak_geo_distance_km(&c->loc, &g->loc) - c->loc_radius_km;
		if (km < 0.0)
			km = 0.0;
		if (!(km <= g->threshold_km))
			return OAK_SCHED_REJ_GEO;
		sum += slack(km, g->threshold_km);
	}
	for (size_t i = 0; i < req->n_latency; i++) {
		const struct oak_sched_latency *l = &req->latency[i];
		double rtt;

		if (l->target == OAK_SCHED_LAT_AREA) {
			if (l->area_coord_known && c->coord_known)
				rtt = oak_vivaldi_distance(&c->coord, &l->area_coord) -
				      c->coord_radius_ms;
			else if (l->area.known && c->loc.known)
				rtt = (oak_geo_distance_km(&c->loc, &l->area) - c->loc_radius_km) *
				      d->rtt_per_km;
			else
				return OAK_SCHED_REJ_LATENCY;
		} else {
			if (!c->coord_known || l->n_instances == 0)
				return OAK_SCHED_REJ_LATENCY;
			rtt = oak_vivaldi_distance(&c->coord, &l->instances[0]);
			for (size_t k = 1; k < l->n_instances; k++) {
				double r = oak_vivaldi_distance(&c->coord, &l->instances[k]);

				if (l->all_instances ? r > rtt : r < rtt)
					rtt = r;
			}
			rtt -= c->coord_radius_ms;
		}
		if (rtt < 0.0)
			rtt = 0.0;
		if (!(rtt <= l->threshold_ms))
			return OAK_SCHED_REJ_LATENCY;
		sum += slack(rtt, l->threshold_ms);
	}
	*prox = req->n_geo + req->n_latency ? sum / (double)(req->n_geo + req->n_latency) : 1.0;
	return -1;
}

static double resource_score(const struct decision *d, const struct oak_sched_candidate *c)
{
	const struct oak_sched_request *req = d->req;
	double h_cpu = (double)(c->cpu_milli - req->cpu_milli) * d->inv_max_cpu;
	double h_mem = (double)(c->mem_mb - req->mem_mb) * d->inv_max_mem;
	double lo = h_cpu < h_mem ? h_cpu : h_mem;
	double sum = h_cpu + h_mem;
	double dims = 2.0;
	double res;

	if (req->gpus) {
		double h_gpu = (double)(c->gpus - req->gpus) * d->inv_max_gpu;

		if (h_gpu < lo)
			lo = h_gpu;
		sum += h_gpu;
		dims = 3.0;
	}
	res = W_MIN * lo + W_MEAN * sum / dims;
	return d->pack ? 1.0 - res : res;
}

/* Does candidate i (score s) beat the current pick? See the header for the order. */
static bool better(const struct decision *d, const struct oak_sched_candidate *cands,
		   struct pick *best, size_t i, double s)
{
	const struct oak_sched_candidate *c = &cands[i], *b;
	uint64_t h;
	int cmp;

	if (best->index < 0)
		return true;
	b = &cands[best->index];
	if (c->instances != b->instances)
		return c->instances < b->instances;
	if (s != best->score)
		return s > best->score;
	if (!best->hashed) {
		best->hash = id_hash(d->seed, b->id);
		best->hashed = true;
	}
	h = id_hash(d->seed, c->id);
	if (h != best->hash)
		return h < best->hash;
	cmp = strncmp(c->id, b->id, OAK_SCHED_ID_LEN);
	return cmp < 0;
}

static int decide(const struct oak_sched_request *req, const struct oak_sched_candidate *cands,
		  size_t n, const struct oak_sched_options *opts, struct oak_sched_result *res,
		  bool ldp)
{
	struct decision d;
	struct pick best = {.index = -1};
	int err;

	if (!res)
		return -EINVAL;
	memset(res, 0, sizeof(*res));
	res->index = -1;
	err = validate(req, cands, n, ldp);
	if (err)
		return err;
	decision_init(&d, req, cands, n, opts, ldp);
	res->considered = (uint32_t)n;

	for (size_t i = 0; i < n; i++) {
		const struct oak_sched_candidate *c = &cands[i];
		double prox = 1.0, r, s;
		int why = rom_filter(req, c);

		if (why < 0 && ldp)
			why = ldp_filter(&d, c, &prox);
		if (why >= 0) {
			res->rejected[why]++;
			continue;
		}
		res->feasible++;
		r = resource_score(&d, c);
		s = ldp ? d.w_res * r + d.w_prox * prox : r;
		if (better(&d, cands, &best, i, s)) {
			best.index = (long)i;
			best.score = s;
			best.res = r;
			best.prox = prox;
			best.hashed = false;
		}
	}
	if (best.index < 0)
		return -ENOSPC;
	res->index = best.index;
	res->score = best.score;
	res->resources = best.res;
	res->proximity = best.prox;
	return 0;
}

int oak_sched_rom(const struct oak_sched_request *req, const struct oak_sched_candidate *cands,
		  size_t n, const struct oak_sched_options *opts, struct oak_sched_result *res)
{
	return decide(req, cands, n, opts, res, false);
}

int oak_sched_ldp(const struct oak_sched_request *req, const struct oak_sched_candidate *cands,
		  size_t n, const struct oak_sched_options *opts, struct oak_sched_result *res)
{
	return decide(req, cands, n, opts, res, true);
}

int oak_sched_place(const struct oak_sched_request *req, const struct oak_sched_candidate *cands,
		    size_t n, const struct oak_sched_options *opts, struct oak_sched_result *res)
{
	bool ldp = req && (req->n_geo || req->n_latency);

	return decide(req, cands, n, opts, res, ldp);
}

int oak_sched_place_replicas(const struct oak_sched_request *req,
			     const struct oak_sched_candidate *cands, size_t n, uint32_t replicas,
			     const struct oak_sched_options *opts,
			     struct oak_sched_candidate *scratch, size_t *out_idx, uint32_t *placed,
			     struct oak_sched_result *res)
{
	struct oak_sched_options o = {0};
	uint32_t done = 0;
	int err = 0;

	if (placed)
		*placed = 0;
	if (!req || !res || !placed || (n && (!cands || !scratch)) || (replicas && !out_idx))
		return -EINVAL;
	if (opts)
		o = *opts;
	if (n)
		memcpy(scratch, cands, n * sizeof(*scratch));
	memset(res, 0, sizeof(*res));
	res->index = -1;

	for (; done < replicas; done++) {
		struct oak_sched_candidate *c;

		o.seed = (opts ? opts->seed : 0) + done;
		err = oak_sched_place(req, scratch, n, &o, res);
		if (err)
			break;
		c = &scratch[res->index];
		c->cpu_milli -= req->cpu_milli;
		c->mem_mb -= req->mem_mb;
		c->gpus -= req->gpus;
		c->instances++;
		out_idx[done] = (size_t)res->index;
	}
	*placed = done;
	return err;
}

int oak_sched_explain(const struct oak_sched_result *res, const struct oak_sched_candidate *cands,
		      char *buf, size_t len)
{
	bool first = true;
	int off, w;

	if (res->index >= 0)
		return snprintf(buf, len, "placed on %.*s (%u of %u candidates fit)",
				OAK_SCHED_ID_LEN, cands ? cands[res->index].id : "?", res->feasible,
				res->considered);
	off = snprintf(buf, len, "no candidate fits (0 of %u)", res->considered);
	for (int r = 0; r < OAK_SCHED_REJ_MAX && off >= 0; r++) {
		if (!res->rejected[r])
			continue;
		w = snprintf((size_t)off < len ? buf + off : NULL,
			     (size_t)off < len ? len - (size_t)off : 0, "%s %u %s",
			     first ? ":" : ",", res->rejected[r],
			     oak_sched_reject_str((enum oak_sched_reject)r));
		if (w < 0)
			return w;
		off += w;
		first = false;
	}
	return off;
}
