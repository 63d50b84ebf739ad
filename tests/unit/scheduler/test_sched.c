// SPDX-License-Identifier: Apache-2.0
/*
 * ROM and LDP on a hand-checked fleet of five nodes (Munich, Berlin, Paris,
 * Madrid, Hamburg). Expected picks are worked out in the comments from the
 * score formulas in include/oak/scheduler.h.
 */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "oak/scheduler.h"

enum { MUC, BER, PAR, MAD, HAM, N_FLEET };

#define CT OAK_SCHED_RT_CONTAINER
#define UK OAK_SCHED_RT_UNIKERNEL
#define NA OAK_SCHED_RT_NATIVE

static struct oak_sched_candidate node(const char *id, uint32_t cpu, uint64_t mem, uint32_t gpus,
				       uint32_t rt, uint32_t arch, double lat, double lon, double x,
				       double y)
{
	struct oak_sched_candidate c = {0};

	snprintf(c.id, sizeof(c.id), "%s", id);
	c.cpu_milli = cpu;
	c.mem_mb = mem;
	c.gpus = gpus;
	c.runtimes = rt;
	c.archs = arch;
	c.loc = (struct oak_geo_point){lat, lon, true};
	oak_vivaldi_init(&c.coord, 0);
	c.coord.x = x;
	c.coord.y = y;
	c.coord.h = 0.5;
	c.coord_known = true;
	return c;
}

/*
 * Vivaldi coordinates chosen for round numbers: to a service instance at
 * (0,0,h 0.5) the RTTs are muc 1, ber 11, par 14, mad 30, ham 6 ms.
 */
static void fleet(struct oak_sched_candidate *f)
{
	const uint32_t amd = OAK_SCHED_ARCH_AMD64, arm = OAK_SCHED_ARCH_ARM64;

	f[MUC] = node("muc", 4000, 8192, 0, CT, amd, 48.1351, 11.5820, 0, 0);
	f[BER] = node("ber", 2000, 4096, 1, CT | UK, arm, 52.5200, 13.4050, 6, 8);
	f[PAR] = node("par", 8000, 16384, 2, CT, amd, 48.8566, 2.3522, -12, -5);
	f[MAD] = node("mad", 1000, 2048, 0, CT | NA, amd, 40.4168, -3.7038, -20, -21);
	f[HAM] = node("ham", 6000, 8192, 0, UK, amd, 53.5511, 9.9937, 3, 4);
}

static struct oak_sched_request small_container(void)
{
	return (struct oak_sched_request){.cpu_milli = 1000, .mem_mb = 1024, .runtime = CT};
}

static long place_rom(const struct oak_sched_request *req, const struct oak_sched_candidate *f,
		      const struct oak_sched_options *o, struct oak_sched_result *res)
{
	int err = oak_sched_rom(req, f, N_FLEET, o, res);

	return err ? err : res->index;
}

static long place_ldp(const struct oak_sched_request *req, const struct oak_sched_candidate *f,
		      struct oak_sched_result *res)
{
	int err = oak_sched_ldp(req, f, N_FLEET, NULL, res);

	return err ? err : res->index;
}

/*
 * Feasible: muc, ber, par, mad (ham offers no container runtime). Headroom
 * normalised by the fleet max (8000 m, 16384 MB): par 0.875/0.9375 -> 0.883,
 * muc 0.375/0.4375 -> 0.383, so SPREAD picks par; PACK picks mad
 * (0/0.0625 -> res 0.0078, the least room).
 */
static void test_rom_spread_and_pack(void **state)
{
	struct oak_sched_candidate f[N_FLEET];
	struct oak_sched_request req = small_container();
	struct oak_sched_options pack = {.policy = OAK_SCHED_PACK};
	struct oak_sched_result res;

	(void)state;
	fleet(f);
	assert_int_equal(place_rom(&req, f, NULL, &res), PAR);
	assert_int_equal(res.feasible, 4);
	assert_int_equal(res.rejected[OAK_SCHED_REJ_RUNTIME], 1);
	assert_true(fabs(res.resources - (0.75 * 0.875 + 0.25 * (0.875 + 0.9375) / 2)) < 1e-9);
	assert_int_equal(place_rom(&req, f, &pack, &res), MAD);
}

/* Each filter alone decides the pick. */
static void test_rom_filters(void **state)
{
	struct oak_sched_candidate f[N_FLEET];
	struct oak_sched_request req;
	struct oak_sched_result res;

	(void)state;
	fleet(f);

	req = small_container();
	req.runtime = UK; /* ber, ham: ham has more room */
	assert_int_equal(place_rom(&req, f, NULL, &res), HAM);
	req.runtime = NA; /* mad only */
	assert_int_equal(place_rom(&req, f, NULL, &res), MAD);

	req = small_container();
	req.archs = OAK_SCHED_ARCH_ARM64 | OAK_SCHED_ARCH_RISCV64;
	assert_int_equal(place_rom(&req, f, NULL, &res), BER);
	assert_int_equal(res.rejected[OAK_SCHED_REJ_ARCH], 3);

	req = small_container();
	req.gpus = 1; /* ber and par; par has more room */
	assert_int_equal(place_rom(&req, f, NULL, &res), PAR);
	req.gpus = 2;
	req.archs = OAK_SCHED_ARCH_ARM64; /* ber is the only arm64 and has 1 GPU */
	assert_int_equal(place_rom(&req, f, NULL, &res), -ENOSPC);
	assert_int_equal(res.rejected[OAK_SCHED_REJ_GPU], 1);

	req = small_container();
	req.cpu_milli = 4000; /* muc (exactly) and par */
	req.mem_mb = 8192;
	req.direct = "muc"; /* a single name */
	assert_int_equal(place_rom(&req, f, NULL, &res), MUC);
	assert_int_equal(res.feasible, 1);

	req = small_container();
	req.direct = " mad ;ber;; "; /* blanks and empty names are ignored */
	assert_int_equal(place_rom(&req, f, NULL, &res), BER);
	assert_int_equal(res.rejected[OAK_SCHED_REJ_DIRECT], 3);
	req.direct = "mu;muc2;par-1"; /* prefixes and extensions do not match */
	assert_int_equal(place_rom(&req, f, NULL, &res), -ENOSPC);
	assert_int_equal(res.rejected[OAK_SCHED_REJ_DIRECT], N_FLEET);

	req = small_container();
	req.target_node = "mad";
	assert_int_equal(place_rom(&req, f, NULL, &res), MAD);
	assert_int_equal(res.rejected[OAK_SCHED_REJ_TARGET], 4);
	req.target_node = "";
	assert_int_equal(place_rom(&req, f, NULL, &res), PAR);
}

static void test_rom_failure_reasons(void **state)
{
	struct oak_sched_candidate f[N_FLEET];
	struct oak_sched_request req = small_container();
	struct oak_sched_result res;
	char msg[256];
	uint32_t sum = 0;

	(void)state;
	fleet(f);
	req.cpu_milli = 3000;					   /* muc, par fit cpu */
	req.mem_mb = 9000;					   /* only par fits memory */
	req.archs = OAK_SCHED_ARCH_ARM64 | OAK_SCHED_ARCH_RISCV64; /* but par is amd64 */
	assert_int_equal(oak_sched_rom(&req, f, N_FLEET, NULL, &res), -ENOSPC);
	assert_int_equal(res.index, -1);
	assert_int_equal(res.considered, N_FLEET);
	assert_int_equal(res.feasible, 0);
	/* first failing check per node: ham runtime; muc, par, mad arch; ber cpu */
	assert_int_equal(res.rejected[OAK_SCHED_REJ_RUNTIME], 1);
	assert_int_equal(res.rejected[OAK_SCHED_REJ_ARCH], 3);
	assert_int_equal(res.rejected[OAK_SCHED_REJ_CPU], 1);
	for (int r = 0; r < OAK_SCHED_REJ_MAX; r++)
		sum += res.rejected[r];
	assert_int_equal(sum, N_FLEET);

	oak_sched_explain(&res, f, msg, sizeof(msg));
	assert_string_equal(msg, "no candidate fits (0 of 5): 1 runtime, 3 arch, 1 cpu");

	req.archs = 0; /* now memory is what stops muc */
	assert_int_equal(place_rom(&req, f, NULL, &res), PAR);
	assert_int_equal(res.rejected[OAK_SCHED_REJ_CPU], 2);	 /* ber, mad */
	assert_int_equal(res.rejected[OAK_SCHED_REJ_MEMORY], 1); /* muc */
	oak_sched_explain(&res, f, msg, sizeof(msg));
	assert_string_equal(msg, "placed on par (1 of 5 candidates fit)");

	/* truncation never overruns and reports the full length */
	req.archs = OAK_SCHED_ARCH_RISCV64;
	oak_sched_rom(&req, f, N_FLEET, NULL, &res);
	assert_int_equal(oak_sched_explain(&res, f, msg, 10),
			 (int)strlen("no candidate fits (0 of 5): 1 runtime, 4 arch"));
	assert_int_equal(strlen(msg), 9);

	assert_string_equal(oak_sched_reject_str(OAK_SCHED_REJ_MEMORY), "memory");
	assert_string_equal(oak_sched_reject_str(OAK_SCHED_REJ_MAX), "?");
	assert_int_equal(oak_sched_rom(&req, f, 0, NULL, &res), -ENOSPC);
	assert_int_equal(res.considered, 0);
}

static void test_clusters(void **state)
{
	struct oak_sched_candidate f[2];
	struct oak_sched_request req = small_container();
	struct oak_sched_result res;

	(void)state;
	f[0] = node("cluster-a", 16000, 32768, 0, CT, OAK_SCHED_ARCH_AMD64, 0, 0, 0, 0);
	f[1] = node("cluster-b", 4000, 8192, 0, CT, OAK_SCHED_ARCH_AMD64, 0, 0, 0, 0);
	f[0].is_cluster = f[1].is_cluster = true;
	f[0].active_nodes = 8;
	f[1].active_nodes = 2;
	assert_int_equal(oak_sched_rom(&req, f, 2, NULL, &res), 0);
	assert_int_equal(res.index, 0);

	f[0].active_nodes = 0; /* a cluster with no live node cannot run anything */
	assert_int_equal(oak_sched_rom(&req, f, 2, NULL, &res), 0);
	assert_int_equal(res.index, 1);
	assert_int_equal(res.rejected[OAK_SCHED_REJ_NO_NODES], 1);

	/* 16 vCPUs in sum, but no single node has 3 free */
	f[0].active_nodes = 8;
	f[0].max_node_cpu_milli = 2000;
	f[1].max_node_mem_mb = 1000;
	req.cpu_milli = 3000;
	req.mem_mb = 2000;
	assert_int_equal(oak_sched_rom(&req, f, 2, NULL, &res), -ENOSPC);
	assert_int_equal(res.rejected[OAK_SCHED_REJ_CPU], 1);
	assert_int_equal(res.rejected[OAK_SCHED_REJ_MEMORY], 1);
}

/* Same input and seed: same answer, whatever the order of the candidates. */
static void test_determinism_and_seed(void **state)
{
	struct oak_sched_candidate f[8], rev[8];
	struct oak_sched_request req = small_container();
	struct oak_sched_options o = {0};
	struct oak_sched_result res;
	unsigned seen = 0;

	(void)state;
	for (int i = 0; i < 8; i++) {
		char id[24];

		snprintf(id, sizeof(id), "node-%d", i);
		f[i] = node(id, 4000, 4096, 0, CT, OAK_SCHED_ARCH_AMD64, 48, 11, 0, 0);
		rev[7 - i] = f[i];
	}
	for (uint64_t seed = 0; seed < 32; seed++) {
		long a, b, c;

		o.seed = seed;
		assert_int_equal(oak_sched_rom(&req, f, 8, &o, &res), 0);
		a = res.index;
		assert_int_equal(oak_sched_rom(&req, f, 8, &o, &res), 0);
		b = res.index;
		assert_int_equal(oak_sched_rom(&req, rev, 8, &o, &res), 0);
		c = res.index;
		assert_int_equal(a, b);
		assert_string_equal(f[a].id, rev[c].id);
		seen |= 1u << a;
	}
	/* the seed spreads ties over the equal candidates */
	assert_true(__builtin_popcount(seen) >= 4);

	/* a real score difference beats any seed */
	f[5].cpu_milli = 5000;
	for (uint64_t seed = 0; seed < 32; seed++) {
		o.seed = seed;
		assert_int_equal(oak_sched_rom(&req, f, 8, &o, &res), 0);
		assert_int_equal(res.index, 5);
	}
}

/* Fewer instances of the service wins over a better score. */
static void test_instances_spread(void **state)
{
	struct oak_sched_candidate f[N_FLEET];
	struct oak_sched_request req = small_container();
	struct oak_sched_result res;

	(void)state;
	fleet(f);
	f[PAR].instances = 1;
	assert_int_equal(place_rom(&req, f, NULL, &res), MUC);
	f[MUC].instances = 1;
	f[BER].instances = 1;
	f[MAD].instances = 2;
	assert_int_equal(place_rom(&req, f, NULL, &res), PAR);
}

/*
 * Geo: within 600 km of Munich are muc (0) and ber (504); par 684,
 * ham 612, mad 1485 are out. LDP score: muc 0.5*0.383 + 0.5*1 wins.
 */
static void test_ldp_geo(void **state)
{
	struct oak_sched_candidate f[N_FLEET];
	struct oak_sched_geo geo = {.loc = {48.1351, 11.5820, true}, .threshold_km = 600};
	struct oak_sched_request req = small_container();
	struct oak_sched_result res;

	(void)state;
	fleet(f);
	req.runtime = 0;
	req.geo = &geo;
	req.n_geo = 1;
	assert_int_equal(place_ldp(&req, f, &res), MUC);
	assert_int_equal(res.feasible, 2);
	assert_int_equal(res.rejected[OAK_SCHED_REJ_GEO], 3);
	assert_true(fabs(res.proximity - 1.0) < 1e-9);

	/* ROM ignores geo and takes the biggest node; place() picks LDP itself */
	assert_int_equal(place_rom(&req, f, NULL, &res), PAR);
	assert_int_equal(oak_sched_place(&req, f, N_FLEET, NULL, &res), 0);
	assert_int_equal(res.index, MUC);

	/*
	 * around Berlin, 700 km: ber (0 km, res .133 -> .566), ham (255 km,
	 * res .461, prox .635 -> .548), muc (504 km, res .383, prox .28 -> .33):
	 * being there beats ham's room; with proximity weighted down ham wins
	 */
	geo.loc = (struct oak_geo_point){52.5200, 13.4050, true};
	geo.threshold_km = 700;
	assert_int_equal(place_ldp(&req, f, &res), BER);
	assert_int_equal(res.feasible, 3);
	{
		struct oak_sched_options o = {.w_resources = 1.0, .w_proximity = 0.2};

		assert_int_equal(oak_sched_ldp(&req, f, N_FLEET, &o, &res), 0);
		assert_int_equal(res.index, HAM);
	}

	/* 500 km around Munich leaves Berlin (504 km) out */
	geo.loc = (struct oak_geo_point){48.1351, 11.5820, true};
	geo.threshold_km = 500;
	f[MUC].cpu_milli = 500;
	assert_int_equal(place_ldp(&req, f, &res), -ENOSPC);
	assert_int_equal(res.rejected[OAK_SCHED_REJ_CPU], 1); /* muc */
	assert_int_equal(res.rejected[OAK_SCHED_REJ_GEO], 4);
	geo.threshold_km = 510;
	assert_int_equal(place_ldp(&req, f, &res), BER);

	/* an unknown location cannot be shown to be inside */
	f[BER].loc.known = false;
	assert_int_equal(place_ldp(&req, f, &res), -ENOSPC);
}

/* A cluster spread over 300 km around Paris may hold a node within 500 km of Munich. */
static void test_ldp_geo_cluster_radius(void **state)
{
	struct oak_sched_candidate c =
	    node("eu-west", 8000, 8192, 0, CT, OAK_SCHED_ARCH_AMD64, 48.8566, 2.3522, 0, 0);
	struct oak_sched_geo geo = {.loc = {48.1351, 11.5820, true}, .threshold_km = 500};
	struct oak_sched_request req = small_container();
	struct oak_sched_result res;

	(void)state;
	c.is_cluster = true;
	c.active_nodes = 3;
	req.geo = &geo;
	req.n_geo = 1;
	assert_int_equal(oak_sched_ldp(&req, &c, 1, NULL, &res), -ENOSPC);
	c.loc_radius_km = 300; /* 684 - 300 = 384 <= 500 */
	assert_int_equal(oak_sched_ldp(&req, &c, 1, NULL, &res), 0);
	assert_true(fabs(res.proximity - (1.0 - (684.4 - 300) / 500)) < 0.01);
}

/* RTTs to an instance at (0,0): muc 1, ber 11, par 14, mad 30, ham 6 ms. */
static void test_ldp_latency_to_service(void **state)
{
	struct oak_sched_candidate f[N_FLEET];
	struct oak_vivaldi inst[2];
	struct oak_sched_latency lat = {.target = OAK_SCHED_LAT_SERVICE, .threshold_ms = 10};
	struct oak_sched_request req = small_container();
	struct oak_sched_result res;

	(void)state;
	fleet(f);
	for (int i = 0; i < N_FLEET; i++)
		f[i].runtimes |= CT;
	oak_vivaldi_init(&inst[0], 0);
	inst[0].x = inst[0].y = 0;
	inst[0].h = 0.5;
	inst[1] = inst[0];
	inst[1].x = -12; /* on top of par */
	inst[1].y = -5;
	lat.instances = inst;
	lat.n_instances = 1;
	req.latency = &lat;
	req.n_latency = 1;

	/* muc (1 ms) and ham (6 ms); muc: .5*.383+.5*.9 = .64, ham: .5*.461+.5*.4 = .43 */
	assert_int_equal(place_ldp(&req, f, &res), MUC);
	assert_int_equal(res.feasible, 2);
	assert_int_equal(res.rejected[OAK_SCHED_REJ_LATENCY], 3);
	assert_true(fabs(res.proximity - 0.9) < 1e-9);
	/* weighting proximity down lets ham's resources win */
	{
		struct oak_sched_options o = {.w_resources = 1.0, .w_proximity = 0.1};

		assert_int_equal(oak_sched_ldp(&req, f, N_FLEET, &o, &res), 0);
		assert_int_equal(res.index, HAM);
	}

	/* closest of two instances, 2 ms: muc (to #0) and par (to #1) */
	lat.n_instances = 2;
	lat.threshold_ms = 2;
	assert_int_equal(place_ldp(&req, f, &res), PAR);
	assert_int_equal(res.feasible, 2);
	/* every instance within 15 ms: muc max(1,14), par max(14,1); ham 18.5, ber 23.2 out */
	lat.all_instances = true;
	lat.threshold_ms = 15;
	assert_int_equal(place_ldp(&req, f, &res), PAR);
	assert_int_equal(res.feasible, 2);
	lat.threshold_ms = 13.9;
	assert_int_equal(place_ldp(&req, f, &res), -ENOSPC);
	assert_int_equal(res.rejected[OAK_SCHED_REJ_LATENCY], N_FLEET);

	/* no coordinates on the candidate, or no placed peer: cannot be checked */
	lat.all_instances = false;
	lat.n_instances = 1;
	lat.threshold_ms = 10;
	f[MUC].coord_known = false;
	assert_int_equal(place_ldp(&req, f, &res), HAM);
	lat.n_instances = 0;
	assert_int_equal(place_ldp(&req, f, &res), -ENOSPC);
	assert_int_equal(res.rejected[OAK_SCHED_REJ_LATENCY], N_FLEET);
}

/* 10 ms to users around Munich at 0.015 ms/km: muc 0, ber 7.6, ham 9.2; par 10.3 out. */
static void test_ldp_latency_to_area(void **state)
{
	struct oak_sched_candidate f[N_FLEET];
	struct oak_sched_latency lat = {
	    .target = OAK_SCHED_LAT_AREA, .threshold_ms = 10, .area = {48.1351, 11.5820, true}};
	struct oak_sched_request req = {.cpu_milli = 1500, .mem_mb = 1024};
	struct oak_sched_result res;

	(void)state;
	fleet(f);
	for (int i = 0; i < N_FLEET; i++)
		f[i].coord_known = false; /* geographic model only */
	req.latency = &lat;
	req.n_latency = 1;
	assert_int_equal(place_ldp(&req, f, &res), MUC);
	assert_int_equal(res.feasible, 3);
	assert_int_equal(res.rejected[OAK_SCHED_REJ_LATENCY], 1); /* par */
	assert_int_equal(res.rejected[OAK_SCHED_REJ_CPU], 1);	  /* mad */
	f[MUC].cpu_milli = 1000;
	assert_int_equal(place_ldp(&req, f, &res), HAM);
	/* a slower network model (0.02 ms/km) leaves only ber (10.1 > 10 for ham) out too */
	{
		struct oak_sched_options o = {.geo_rtt_ms_per_km = 0.02};

		assert_int_equal(oak_sched_ldp(&req, f, N_FLEET, &o, &res), -ENOSPC);
		assert_int_equal(res.rejected[OAK_SCHED_REJ_LATENCY], 3);
	}

	/* with area coordinates, Vivaldi decides: area at (0,0), 5 ms: only muc (1 ms) */
	for (int i = 0; i < N_FLEET; i++)
		f[i].coord_known = true;
	f[MUC].cpu_milli = 4000;
	oak_vivaldi_init(&lat.area_coord, 0);
	lat.area_coord.x = lat.area_coord.y = 0;
	lat.area_coord.h = 0.5;
	lat.area_coord_known = true;
	lat.threshold_ms = 5;
	assert_int_equal(place_ldp(&req, f, &res), MUC);
	assert_int_equal(res.feasible, 1);
}

static void test_ldp_constraints_combine(void **state)
{
	struct oak_sched_candidate f[N_FLEET];
	struct oak_vivaldi inst;
	struct oak_sched_geo geo = {.loc = {52.5200, 13.4050, true}, .threshold_km = 700};
	struct oak_sched_latency lat = {.target = OAK_SCHED_LAT_SERVICE,
					.threshold_ms = 10,
					.instances = &inst,
					.n_instances = 1};
	struct oak_sched_request req = {.cpu_milli = 500, .mem_mb = 512};
	struct oak_sched_result res;

	(void)state;
	fleet(f);
	oak_vivaldi_init(&inst, 0);
	inst.x = inst.y = 0;
	inst.h = 0.5;
	req.geo = &geo;
	req.n_geo = 1;
	req.latency = &lat;
	req.n_latency = 1;
	/* geo keeps ber, ham, muc; latency keeps muc, ham */
	assert_int_equal(oak_sched_place(&req, f, N_FLEET, NULL, &res), 0);
	assert_int_equal(res.feasible, 2);
	assert_int_equal(res.rejected[OAK_SCHED_REJ_GEO], 2);
	assert_int_equal(res.rejected[OAK_SCHED_REJ_LATENCY], 1);
	req.direct = "ber;par;mad";
	assert_int_equal(oak_sched_place(&req, f, N_FLEET, NULL, &res), -ENOSPC);
	assert_int_equal(res.rejected[OAK_SCHED_REJ_DIRECT], 2);
	assert_int_equal(res.rejected[OAK_SCHED_REJ_GEO], 2);
	assert_int_equal(res.rejected[OAK_SCHED_REJ_LATENCY], 1);
}

static void test_invalid_requests(void **state)
{
	struct oak_sched_candidate f[N_FLEET];
	struct oak_sched_geo geo = {.loc = {48, 11, true}, .threshold_km = 100};
	struct oak_sched_latency lat = {.target = OAK_SCHED_LAT_AREA, .threshold_ms = 5};
	struct oak_sched_request req = small_container();
	struct oak_sched_result res;

	(void)state;
	fleet(f);
	assert_int_equal(oak_sched_rom(NULL, f, N_FLEET, NULL, &res), -EINVAL);
	assert_int_equal(oak_sched_rom(&req, NULL, N_FLEET, NULL, &res), -EINVAL);
	assert_int_equal(oak_sched_rom(&req, f, N_FLEET, NULL, NULL), -EINVAL);

	req.n_geo = 1; /* count without array */
	assert_int_equal(oak_sched_ldp(&req, f, N_FLEET, NULL, &res), -EINVAL);
	req.geo = &geo;
	geo.threshold_km = NAN;
	assert_int_equal(oak_sched_ldp(&req, f, N_FLEET, NULL, &res), -EINVAL);
	geo.threshold_km = -1;
	assert_int_equal(oak_sched_ldp(&req, f, N_FLEET, NULL, &res), -EINVAL);
	geo.threshold_km = 100;
	geo.loc.lat = 91;
	assert_int_equal(oak_sched_ldp(&req, f, N_FLEET, NULL, &res), -EINVAL);
	geo.loc.lat = 48;
	geo.loc.known = false;
	assert_int_equal(oak_sched_ldp(&req, f, N_FLEET, NULL, &res), -EINVAL);
	geo.loc.known = true;
	assert_int_equal(oak_sched_ldp(&req, f, N_FLEET, NULL, &res), 0);

	req.latency = &lat;
	req.n_latency = 1; /* an area with neither location nor coordinates */
	assert_int_equal(oak_sched_ldp(&req, f, N_FLEET, NULL, &res), -EINVAL);
	lat.target = OAK_SCHED_LAT_SERVICE;
	lat.n_instances = 2; /* count without array */
	assert_int_equal(oak_sched_ldp(&req, f, N_FLEET, NULL, &res), -EINVAL);
	lat.target = (enum oak_sched_latency_target)7;
	assert_int_equal(oak_sched_ldp(&req, f, N_FLEET, NULL, &res), -EINVAL);
	assert_int_equal(res.index, -1);
}

static void test_replicas(void **state)
{
	struct oak_sched_candidate f[3], copy[3], scratch[3];
	struct oak_sched_request req = {.cpu_milli = 1000, .mem_mb = 1000, .runtime = CT};
	struct oak_sched_result res;
	size_t idx[8];
	uint32_t placed, per[3] = {0};

	(void)state;
	f[0] = node("a", 2000, 4000, 0, CT, OAK_SCHED_ARCH_AMD64, 0, 0, 0, 0);
	f[1] = node("b", 2500, 4000, 0, CT, OAK_SCHED_ARCH_AMD64, 0, 0, 0, 0);
	f[2] = node("c", 2000, 4000, 0, CT, OAK_SCHED_ARCH_AMD64, 0, 0, 0, 0);
	memcpy(copy, f, sizeof(f));

	/* three replicas land on three different nodes, the biggest first */
	assert_int_equal(oak_sched_place_replicas(&req, f, 3, 3, NULL, scratch, idx, &placed, &res),
			 0);
	assert_int_equal(placed, 3);
	assert_int_equal(idx[0], 1);
	assert_true(idx[0] != idx[1] && idx[1] != idx[2] && idx[0] != idx[2]);
	assert_memory_equal(f, copy, sizeof(f));
	assert_int_equal(scratch[1].cpu_milli, 1500);
	assert_int_equal(scratch[1].instances, 1);

	/* six fit (2 per node); then stacking is allowed */
	assert_int_equal(oak_sched_place_replicas(&req, f, 3, 6, NULL, scratch, idx, &placed, &res),
			 0);
	for (int i = 0; i < 6; i++)
		per[idx[i]]++;
	assert_int_equal(per[0], 2);
	assert_int_equal(per[1], 2);
	assert_int_equal(per[2], 2);

	/* a seventh does not fit: 6 placed, and the result says why */
	assert_int_equal(oak_sched_place_replicas(&req, f, 3, 7, NULL, scratch, idx, &placed, &res),
			 -ENOSPC);
	assert_int_equal(placed, 6);
	assert_int_equal(res.rejected[OAK_SCHED_REJ_CPU], 3);
	assert_memory_equal(f, copy, sizeof(f));

	/* replicas on one node only stack when it is the only fit */
	req.target_node = "c";
	assert_int_equal(oak_sched_place_replicas(&req, f, 3, 2, NULL, scratch, idx, &placed, &res),
			 0);
	assert_int_equal(idx[0], 2);
	assert_int_equal(idx[1], 2);
	assert_int_equal(scratch[2].instances, 2);

	assert_int_equal(oak_sched_place_replicas(&req, f, 3, 1, NULL, NULL, idx, &placed, &res),
			 -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_rom_spread_and_pack),
	    cmocka_unit_test(test_rom_filters),
	    cmocka_unit_test(test_rom_failure_reasons),
	    cmocka_unit_test(test_clusters),
	    cmocka_unit_test(test_determinism_and_seed),
	    cmocka_unit_test(test_instances_spread),
	    cmocka_unit_test(test_ldp_geo),
	    cmocka_unit_test(test_ldp_geo_cluster_radius),
	    cmocka_unit_test(test_ldp_latency_to_service),
	    cmocka_unit_test(test_ldp_latency_to_area),
	    cmocka_unit_test(test_ldp_constraints_combine),
	    cmocka_unit_test(test_invalid_requests),
	    cmocka_unit_test(test_replicas),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
