/* SPDX-License-Identifier: Apache-2.0 */
/*
 * oak scheduler: placement as a pure library.
 *
 * No I/O, no globals, no allocation: every function works on the caller's
 * memory and returns the same answer for the same input and seed. The root
 * orchestrator places a service on a cluster (candidates describe cluster
 * aggregates); the cluster orchestrator places it on a node (candidates are
 * worker nodes). Both use the same calls.
 *
 * Two algorithms, after the Oakestra paper (USENIX ATC 2023):
 *
 *  ROM (Algorithm 1, resource-only match) filters by target_node, direct,
 *  active nodes, runtime, architecture, CPU, memory and GPUs, then picks the
 *  candidate with the best resource score. Geo and latency constraints are
 *  ignored by ROM.
 *
 *  LDP (Algorithm 2, latency & distance placement) applies the ROM filter and
 *  in addition every geo and latency constraint, then picks the candidate
 *  with the best weighted sum of resource score and proximity score.
 *
 * Choosing among feasible candidates, in this order:
 *  1. fewest instances of the same service already on the candidate
 *     (`instances`), so replicas spread before they stack;
 *  2. highest score;
 *  3. lowest hash of (seed, id), so equal candidates are chosen by the seed;
 *  4. lowest id (strcmp), for hash collisions.
 * The result does not depend on the order of the candidate array as long as
 * ids are unique.
 *
 * Resource score (in [0, 1]). For each dimension the request uses (CPU and
 * memory always, GPUs when the request asks for any) the headroom after
 * placement is normalised by the largest free amount of that dimension in
 * the candidate array: h_d = (free_d - req_d) / max_free_d. Then
 *     res = 0.75 * min_d(h_d) + 0.25 * mean_d(h_d)
 * which prefers the candidate whose scarcest dimension keeps the most room
 * (balanced, largest headroom). That is OAK_SCHED_SPREAD (worst fit), the
 * default: it keeps load even and leaves room on every node for growth.
 * OAK_SCHED_PACK (best fit) uses 1 - res instead, filling the tightest
 * candidate first and keeping big candidates free.
 *
 * Proximity score (LDP, in [0, 1]): the mean over geo and latency
 * constraints of 1 - value / threshold, where value is the distance (km) or
 * estimated RTT (ms) that was checked. LDP score = w_resources * res +
 * w_proximity * prox (defaults 0.5 / 0.5).
 *
 * Clusters (is_cluster): the root only knows aggregates, so checks are
 * optimistic where the cluster spreads over an area: a geo check passes when
 * distance - loc_radius_km <= threshold, a latency check when
 * rtt - coord_radius_ms <= threshold; the cluster orchestrator then enforces
 * the constraint exactly over its nodes. A cluster with no active node is
 * rejected; when max_node_* is known, a request larger than the largest
 * single node's free amount is rejected even if the sum would fit.
 *
 * Every constraint is enforced as hard. rigidness and convergence_time are
 * carried for the caller (migration policy), not interpreted here.
 */
#ifndef OAK_SCHEDULER_H
#define OAK_SCHEDULER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define OAK_SCHED_ID_LEN 64 /* including the terminating NUL */

/* Runtimes (SLA `virtualization`), a bitmask on candidates. */
enum oak_sched_runtime {
	OAK_SCHED_RT_CONTAINER = 1u << 0,
	OAK_SCHED_RT_UNIKERNEL = 1u << 1,
	OAK_SCHED_RT_NATIVE = 1u << 2,
	OAK_SCHED_RT_WASM = 1u << 3,
};

/* Architectures (SLA `arch[]`), a bitmask on candidates and requests. */
enum oak_sched_arch {
	OAK_SCHED_ARCH_AMD64 = 1u << 0,
	OAK_SCHED_ARCH_ARM64 = 1u << 1,
	OAK_SCHED_ARCH_ARM = 1u << 2,
	OAK_SCHED_ARCH_RISCV64 = 1u << 3,
};

/* "container", "unikernel", "native", "wasm" -> bit; 0 when unknown. */
uint32_t oak_sched_runtime_from_str(const char *s);
/* "amd64"/"x86_64", "arm64"/"aarch64", "arm"/"armv7", "riscv64" -> bit; 0 when unknown. */
uint32_t oak_sched_arch_from_str(const char *s);

/* ---- geography ---- */

struct oak_geo_point {
	double lat; /* degrees, -90..90 */
	double lon; /* degrees, -180..180 */
	bool known;
};

#define OAK_GEO_EARTH_RADIUS_KM 6371.0088 /* IUGG mean radius */

/* Great-circle (haversine) distance in km between two points (known ignored). */
double oak_geo_distance_km(const struct oak_geo_point *a, const struct oak_geo_point *b);

/* ---- Vivaldi network coordinates (Dabek et al., SIGCOMM 2004) ---- */

/*
 * A 2D Euclidean coordinate plus height, all in milliseconds of RTT.
 * err is the node's relative error estimate (starts at 1.0); seed and
 * updates only pick a direction when two coordinates coincide, so that
 * nodes starting together at the origin move apart deterministically.
 */
struct oak_vivaldi {
	double x, y;
	double h; /* height: access-link latency, >= OAK_VIVALDI_MIN_HEIGHT */
	double err;
	uint64_t seed;
	uint64_t updates;
};

#define OAK_VIVALDI_CC	       0.25
#define OAK_VIVALDI_CE	       0.25
#define OAK_VIVALDI_MIN_HEIGHT 0.01 /* ms */
#define OAK_VIVALDI_MAX_ERR    1.5

/*
 * A fresh coordinate: 0.1 ms from the origin in a direction derived from
 * seed (nodes all starting at one point would be pushed along one line and
 * never leave it), minimal height, error 1.0. seed should differ per node,
 * e.g. a hash of its id.
 */
void oak_vivaldi_init(struct oak_vivaldi *c, uint64_t seed);

/* Estimated RTT in ms: |x_a - x_b| + h_a + h_b. */
double oak_vivaldi_distance(const struct oak_vivaldi *a, const struct oak_vivaldi *b);

/*
 * One Vivaldi step of self towards/away from peer after measuring rtt_ms,
 * with the adaptive timestep delta = cc * err_self / (err_self + err_peer).
 * Returns 0, or -EINVAL (rtt not finite or <= 0) leaving self unchanged.
 */
int oak_vivaldi_update(struct oak_vivaldi *self, const struct oak_vivaldi *peer, double rtt_ms);

/* ---- inputs ---- */

struct oak_sched_candidate {
	/* what every decision reads comes first (one cache line) */
	uint32_t cpu_milli; /* free CPU in millicores (1 vCPU = 1000) */
	uint32_t gpus;	    /* free GPUs */
	uint64_t mem_mb;    /* free memory, MB */
	uint32_t runtimes;  /* OAK_SCHED_RT_* offered (clusters: union over nodes) */
	uint32_t archs;	    /* OAK_SCHED_ARCH_* (node: one bit; clusters: union) */
	uint32_t instances; /* instances of the service being placed already here */
	bool is_cluster;
	bool coord_known;
	uint32_t active_nodes;	     /* clusters: nodes alive; 0 rejects the cluster */
	uint32_t max_node_cpu_milli; /* clusters: largest single-node free CPU; 0 = unknown */
	uint64_t max_node_mem_mb;    /* clusters: largest single-node free memory; 0 = unknown */
	struct oak_geo_point loc;
	double loc_radius_km; /* clusters: radius around loc their nodes cover; nodes: 0 */
	struct oak_vivaldi coord;
	double coord_radius_ms;	   /* clusters: spread of node coordinates around coord; nodes: 0 */
	char id[OAK_SCHED_ID_LEN]; /* cluster or node name: what direct and target_node name */
};

struct oak_sched_geo {
	struct oak_geo_point loc; /* SLA `location` "lat,lon" */
	double threshold_km;	  /* candidate must be within this great-circle distance */
	double rigidness;	  /* carried, not interpreted */
	uint32_t convergence_s;	  /* carried, not interpreted */
};

enum oak_sched_latency_target {
	/* users in an area given by lat,lon: RTT estimated from Vivaldi coordinates
	 * when area_coord_known and the candidate has coordinates, else from the
	 * great-circle distance times geo_rtt_ms_per_km */
	OAK_SCHED_LAT_AREA = 0,
	/* another service: RTT to its instances' Vivaldi coordinates */
	OAK_SCHED_LAT_SERVICE = 1,
};

struct oak_sched_latency {
	enum oak_sched_latency_target target;
	double threshold_ms;
	/* OAK_SCHED_LAT_AREA */
	struct oak_geo_point area;
	struct oak_vivaldi area_coord;
	bool area_coord_known;
	/* OAK_SCHED_LAT_SERVICE: coordinates of the peer service's instances
	 * (caller-owned). The constraint holds when the closest instance is
	 * within threshold, or every instance when all_instances is set. With no
	 * instances it cannot be checked and rejects every candidate: place the
	 * peer first or drop the constraint. */
	const struct oak_vivaldi *instances;
	size_t n_instances;
	bool all_instances;
	double rigidness;
	uint32_t convergence_s;
};

struct oak_sched_request {
	uint32_t cpu_milli;
	uint32_t gpus;
	uint64_t mem_mb;
	uint32_t runtime; /* OAK_SCHED_RT_* wanted (a candidate offering any bit fits); 0 = any */
	uint32_t archs;	  /* OAK_SCHED_ARCH_* allowed; 0 = any */
	/* NULL or "" = none; else must equal the candidate id. The root sees no
	 * nodes, so it passes NULL here and the cluster enforces target_node. */
	const char *target_node;
	const char *direct; /* NULL or "" = none; "a;b;c" allowed ids (spaces trimmed) */
	const struct oak_sched_geo *geo;
	size_t n_geo;
	const struct oak_sched_latency *latency;
	size_t n_latency;
};

enum oak_sched_policy {
	OAK_SCHED_SPREAD = 0, /* worst fit: most balanced headroom (default) */
	OAK_SCHED_PACK = 1,   /* best fit: least headroom */
};

struct oak_sched_options {
	uint64_t seed;
	enum oak_sched_policy policy;
	double w_resources;	  /* LDP weight of the resource score; <= 0 -> 0.5 */
	double w_proximity;	  /* LDP weight of the proximity score; <= 0 -> 0.5 */
	double geo_rtt_ms_per_km; /* area RTT model; <= 0 -> OAK_SCHED_GEO_RTT_MS_PER_KM */
};

/* Round trip through fibre (200 km/ms one way) with a 1.5x route inflation. */
#define OAK_SCHED_GEO_RTT_MS_PER_KM (2.0 * 1.5 / 200.0)

/* ---- result ---- */

/* Why a candidate was rejected: the first failing check, in this order. */
enum oak_sched_reject {
	OAK_SCHED_REJ_TARGET = 0, /* not the target_node */
	OAK_SCHED_REJ_DIRECT,	  /* not in the direct list */
	OAK_SCHED_REJ_NO_NODES,	  /* cluster with no active node */
	OAK_SCHED_REJ_RUNTIME,
	OAK_SCHED_REJ_ARCH,
	OAK_SCHED_REJ_CPU,
	OAK_SCHED_REJ_MEMORY,
	OAK_SCHED_REJ_GPU,
	OAK_SCHED_REJ_GEO,
	OAK_SCHED_REJ_LATENCY,
	OAK_SCHED_REJ_MAX,
};

struct oak_sched_result {
	long index;	  /* chosen candidate index, -1 when none */
	double score;	  /* score of the chosen candidate */
	double resources; /* its resource score */
	double proximity; /* its proximity score (LDP; 1 when no constraint) */
	uint32_t considered;
	uint32_t feasible;
	uint32_t rejected[OAK_SCHED_REJ_MAX]; /* sums to considered - feasible */
};

/* Short reason name ("cpu", "memory", ...) for logs; "?" when out of range. */
const char *oak_sched_reject_str(enum oak_sched_reject r);

/*
 * Human-readable summary of a result into buf, e.g.
 *   "placed on node-3 (2 of 5 candidates fit)" or
 *   "no candidate fits (0 of 5): 2 arch, 3 memory".
 * Returns what snprintf returns.
 */
int oak_sched_explain(const struct oak_sched_result *res, const struct oak_sched_candidate *cands,
		      char *buf, size_t len);

/* ---- placement ---- */

/*
 * Each returns 0 with res->index set, -ENOSPC when no candidate fits (the
 * rejected[] counts say why), or -EINVAL for a malformed request (NULL
 * pointers with nonzero counts, negative/NaN thresholds, coordinates out of
 * range). opts may be NULL (seed 0, defaults). Inputs are never modified.
 */
int oak_sched_rom(const struct oak_sched_request *req, const struct oak_sched_candidate *cands,
		  size_t n, const struct oak_sched_options *opts, struct oak_sched_result *res);
int oak_sched_ldp(const struct oak_sched_request *req, const struct oak_sched_candidate *cands,
		  size_t n, const struct oak_sched_options *opts, struct oak_sched_result *res);
/* LDP when the request has a geo or latency constraint, else ROM. */
int oak_sched_place(const struct oak_sched_request *req, const struct oak_sched_candidate *cands,
		    size_t n, const struct oak_sched_options *opts, struct oak_sched_result *res);

/*
 * Places `replicas` instances one after the other with oak_sched_place,
 * each on a working copy of the candidates in `scratch` (n entries, caller
 * memory; cands itself is not modified): after each placement the request's
 * CPU, memory and GPUs are deducted from the chosen copy and its instances
 * count grows, so the next replica prefers another candidate that fits and
 * only stacks when none does. out_idx[i] receives the i-th replica's
 * candidate index; *placed how many were placed. Returns 0 when all were
 * placed, -ENOSPC when only *placed fitted (res describes the first replica
 * that did not), -EINVAL as above. The seed of replica i is opts->seed + i.
 */
int oak_sched_place_replicas(const struct oak_sched_request *req,
			     const struct oak_sched_candidate *cands, size_t n, uint32_t replicas,
			     const struct oak_sched_options *opts,
			     struct oak_sched_candidate *scratch, size_t *out_idx, uint32_t *placed,
			     struct oak_sched_result *res);

#ifdef __cplusplus
}
#endif

#endif /* OAK_SCHEDULER_H */
