/* oak-cluster's placement glue: plain structs in, oak_sched_place_replicas
 * out. Kept apart from cluster.h because scheduler.h and sla.h both define
 * a struct oak_vivaldi. */
#ifndef OAK_CLUSTER_SCHED_H
#define OAK_CLUSTER_SCHED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Vivaldi coordinate (2-D plus height, ms), as the nodes report it. */
struct ocl_coord {
	double x, y, h, err;
};

struct ocl_cand {
	const char *id;
	double vcpus_free;
	int64_t memory_free_mb;
	uint32_t gpus_free;
	uint32_t runtimes;  /* ocl_runtime_mask() bits */
	uint32_t archs;	    /* ocl_arch_mask() bits */
	uint32_t instances; /* of the service being placed, already there */
	bool loc_known;
	double lat, lon;
	bool coord_known; /* the node reported Vivaldi coordinates */
	struct ocl_coord coord;
};

#define OCL_MAX_GEO 16
#define OCL_MAX_LAT 32 /* latency constraints plus connectivity targets */

/* A latency constraint: to an area (users near lat,lon; RTT estimated from
 * the great-circle distance) or to another service (RTT from the Vivaldi
 * coordinates of its placed instances; the closest must be within). */
struct ocl_lat {
	bool to_service;
	double threshold_ms;
	double lat, lon;	      /* area */
	const struct ocl_coord *inst; /* service: its instances' node coordinates */
	size_t n_inst;
};

struct ocl_req {
	double vcpus;
	int64_t memory_mb;
	uint32_t gpus;
	uint32_t runtime;
	uint32_t archs;
	const char *target_node;
	const char *direct; /* "n1;n2" */
	size_t n_geo;
	struct {
		double lat, lon, threshold_km;
	} geo[OCL_MAX_GEO];
	size_t n_lat;
	struct ocl_lat lat[OCL_MAX_LAT];
};

uint32_t ocl_runtime_mask(const char *name);
uint32_t ocl_arch_mask(const char *name);

/* Places `replicas` instances over cands; out_idx[i] the candidate of
 * replica i. Returns how many were placed; why (if not NULL) explains the
 * first one that did not fit. */
uint32_t ocl_place(const struct ocl_req *req, const struct ocl_cand *cands, size_t n,
		   uint32_t replicas, uint64_t seed, size_t *out_idx, char *why, size_t whylen);

#endif
