// SPDX-License-Identifier: Apache-2.0
/*
 * Scheduler micro-benchmark: ROM and LDP decisions over seeded synthetic
 * fleets of 10 .. 10,000 candidates. Every decision is timed on its own with
 * CLOCK_MONOTONIC; decisions per second count the whole loop (timer calls
 * included). Last line: RESULT name=value ...
 *
 * usage: sched_bench [seed]
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "oak/scheduler.h"

struct city {
	const char *name;
	double lat, lon;
};

static const struct city cities[] = {
    {"munich", 48.1351, 11.5820}, {"berlin", 52.5200, 13.4050}, {"paris", 48.8566, 2.3522},
    {"madrid", 40.4168, -3.7038}, {"rome", 41.9028, 12.4964},	{"warsaw", 52.2297, 21.0122},
    {"london", 51.5074, -0.1278}, {"vienna", 48.2082, 16.3738},
};
#define N_CITIES (sizeof(cities) / sizeof(cities[0]))

static const size_t sizes[] = {10, 100, 1000, 10000};
#define N_SIZES (sizeof(sizes) / sizeof(sizes[0]))

static uint64_t rng_next(uint64_t *s)
{
	uint64_t x = (*s += 0x9e3779b97f4a7c15ull);

	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

static double rng_unit(uint64_t *s)
{
	return (double)(rng_next(s) >> 11) * 0x1.0p-53;
}

static uint32_t rng_range(uint64_t *s, uint32_t lo, uint32_t hi)
{
	return lo + (uint32_t)(rng_next(s) % (hi - lo + 1));
}

/* Vivaldi coordinates that roughly follow geography (~1 ms RTT per 70 km). */
static void coord_of(struct oak_vivaldi *c, double lat, double lon, uint64_t *s)
{
	oak_vivaldi_init(c, rng_next(s));
	c->x = lon * 1.1 + (rng_unit(s) - 0.5) * 2.0;
	c->y = lat * 1.6 + (rng_unit(s) - 0.5) * 2.0;
	c->h = 0.2 + rng_unit(s) * 2.0;
}

static void make_fleet(struct oak_sched_candidate *f, size_t n, uint64_t seed)
{
	uint64_t s = seed;

	for (size_t i = 0; i < n; i++) {
		struct oak_sched_candidate *c = &f[i];
		const struct city *home = &cities[rng_next(&s) % N_CITIES];

		memset(c, 0, sizeof(*c));
		snprintf(c->id, sizeof(c->id), "node-%05zu", i);
		c->cpu_milli = rng_range(&s, 2, 64) * 250;
		c->mem_mb = rng_range(&s, 1, 64) * 512;
		c->gpus = rng_unit(&s) < 0.2 ? rng_range(&s, 1, 2) : 0;
		c->runtimes = OAK_SCHED_RT_CONTAINER;
		if (rng_unit(&s) < 0.3)
			c->runtimes |= OAK_SCHED_RT_UNIKERNEL;
		if (rng_unit(&s) < 0.1)
			c->runtimes = OAK_SCHED_RT_NATIVE;
		c->archs = rng_unit(&s) < 0.7 ? OAK_SCHED_ARCH_AMD64 : OAK_SCHED_ARCH_ARM64;
		c->loc.lat = home->lat + (rng_unit(&s) - 0.5) * 4.0;
		c->loc.lon = home->lon + (rng_unit(&s) - 0.5) * 6.0;
		c->loc.known = rng_unit(&s) < 0.98;
		coord_of(&c->coord, c->loc.lat, c->loc.lon, &s);
		c->coord_known = rng_unit(&s) < 0.98;
		c->instances = rng_unit(&s) < 0.05 ? 1 : 0;
	}
}

struct run {
	double dps, p50_us, p99_us, max_us, fit_pct;
	size_t decisions;
};

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/*
 * One algorithm on one fleet: each decision gets a different request (resources,
 * LDP target city, peer instances) and a different seed.
 */
static int bench(const struct oak_sched_candidate *f, size_t n, bool ldp, size_t decisions,
		 uint64_t seed, double *lat_ns, struct run *out)
{
	uint64_t s = seed ^ 0x5eedull;
	struct oak_vivaldi peers[3];
	struct oak_sched_geo geo = {.threshold_km = 800};
	struct oak_sched_latency lat = {.target = OAK_SCHED_LAT_SERVICE,
					.threshold_ms = 25,
					.instances = peers,
					.n_instances = 3};
	size_t fits = 0;
	double start = 0.0, end;

	for (size_t i = 0; i < decisions + decisions / 10; i++) {
		bool warm = i >= decisions / 10;
		const struct city *target = &cities[rng_next(&s) % N_CITIES];
		struct oak_sched_request req = {
		    .cpu_milli = rng_range(&s, 1, 8) * 250,
		    .mem_mb = rng_range(&s, 1, 8) * 256,
		    .gpus = rng_unit(&s) < 0.05 ? 1 : 0,
		    .runtime = rng_unit(&s) < 0.8 ? OAK_SCHED_RT_CONTAINER : OAK_SCHED_RT_UNIKERNEL,
		    .archs = rng_unit(&s) < 0.5 ? 0 : OAK_SCHED_ARCH_AMD64,
		};
		struct oak_sched_options o = {.seed = rng_next(&s)};
		struct oak_sched_result res;
		double t0, t1;
		int err;

		if (ldp) {
			geo.loc = (struct oak_geo_point){target->lat, target->lon, true};
			for (int k = 0; k < 3; k++) {
				const struct city *p = &cities[rng_next(&s) % N_CITIES];

				coord_of(&peers[k], p->lat, p->lon, &s);
			}
			req.geo = &geo;
			req.n_geo = 1;
			req.latency = &lat;
			req.n_latency = 1;
		}
		if (i == decisions / 10)
			start = now_ns();
		t0 = now_ns();
		err =
		    ldp ? oak_sched_ldp(&req, f, n, &o, &res) : oak_sched_rom(&req, f, n, &o, &res);
		t1 = now_ns();
		if (err && err != -ENOSPC) {
			fprintf(stderr, "decision failed: %s\n", strerror(-err));
			return -1;
		}
		if (warm) {
			lat_ns[i - decisions / 10] = t1 - t0;
			fits += err == 0;
		}
	}
	end = now_ns();
	qsort(lat_ns, decisions, sizeof(*lat_ns), cmp_double);
	out->decisions = decisions;
	out->dps = (double)decisions / ((end - start) / 1e9);
	out->p50_us = lat_ns[decisions / 2] / 1e3;
	out->p99_us = lat_ns[(decisions * 99) / 100] / 1e3;
	out->max_us = lat_ns[decisions - 1] / 1e3;
	out->fit_pct = 100.0 * (double)fits / (double)decisions;
	return 0;
}

int main(int argc, char **argv)
{
	uint64_t seed = argc > 1 ? strtoull(argv[1], NULL, 0) : 42;
	struct run runs[2][N_SIZES];
	struct oak_sched_candidate *f;
	double *lat_ns;
	size_t max_dec = 20000;

	f = calloc(sizes[N_SIZES - 1], sizeof(*f));
	lat_ns = calloc(max_dec, sizeof(*lat_ns));
	if (!f || !lat_ns) {
		fprintf(stderr, "out of memory\n");
		return 1;
	}
	printf("# oak scheduler micro-benchmark, seed %" PRIu64 "\n", seed);
	printf("# %-4s %6s %9s %12s %9s %9s %9s %6s\n", "alg", "n", "decisions", "dec/s", "p50_us",
	       "p99_us", "max_us", "fit%");
	for (size_t k = 0; k < N_SIZES; k++) {
		size_t n = sizes[k];
		size_t dec = 5000000 / n;

		if (dec > max_dec)
			dec = max_dec;
		if (dec < 1000)
			dec = 1000;
		make_fleet(f, n, seed + n);
		for (int a = 0; a < 2; a++) {
			struct run *r = &runs[a][k];

			if (bench(f, n, a == 1, dec, seed + n + (uint64_t)a, lat_ns, r))
				return 1;
			printf("  %-4s %6zu %9zu %12.0f %9.2f %9.2f %9.2f %6.1f\n",
			       a ? "ldp" : "rom", n, r->decisions, r->dps, r->p50_us, r->p99_us,
			       r->max_us, r->fit_pct);
		}
	}
	printf("RESULT");
	for (int a = 0; a < 2; a++)
		for (size_t k = 0; k < N_SIZES; k++) {
			const char *alg = a ? "ldp" : "rom";
			const struct run *r = &runs[a][k];

			printf(" %s_%zu_dps=%.0f %s_%zu_p50_us=%.2f %s_%zu_p99_us=%.2f", alg,
			       sizes[k], r->dps, alg, sizes[k], r->p50_us, alg, sizes[k],
			       r->p99_us);
		}
	printf("\n");
	free(f);
	free(lat_ns);
	return 0;
}
