/* oak-root's cluster placement: plain structs in, a cluster (or an
 * Oakestra status saying why none) out. Pure: no I/O, no globals.
 *
 * Kept apart from orch_int.h because scheduler.h and sla.h both define a
 * struct oak_vivaldi: placement.c includes only scheduler.h, request.c only
 * sla.h, and they meet here in types of their own. */
#ifndef OAK_ROOT_PLACEMENT_H
#define OAK_ROOT_PLACEMENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ROOT_MAX_GEO	16
#define ROOT_MAX_LAT	16
#define ROOT_DIRECT_LEN 512
#define ROOT_STATUS_LEN 40
#define ROOT_DETAIL_LEN 512

/* A cluster as the root sees it: its aggregate, never its nodes. */
struct root_cand {
	const char *id;	  /* cluster_id */
	const char *name; /* cluster_name ("" = the id) */
	bool active;	  /* reporting, with an aggregate: may be given instances */
	bool lost;	  /* declared lost: its instances go elsewhere */
	uint32_t active_nodes;
	double vcpus_free;
	int64_t memory_free_mb;
	uint32_t gpus_free;
	uint32_t runtimes; /* root_runtime_mask() bits, union over its nodes */
	uint32_t archs;	   /* root_arch_mask() bits, union over its nodes */
	bool loc_known;
	double lat, lon;
	double radius_km;
	uint32_t instances; /* of the service being placed, already there */
	bool excluded;	    /* said it cannot place this instance, or is being left */
};

/* What a service asks of a cluster (from its SLA: request.c). */
struct root_req {
	double vcpus;
	int64_t memory_mb;
	uint32_t gpus;
	uint32_t runtime;
	uint32_t archs;
	char direct[ROOT_DIRECT_LEN]; /* "c1;c2": clusters named by direct/clusters constraints */
	size_t n_geo;
	struct {
		double lat, lon, threshold_km;
	} geo[ROOT_MAX_GEO];
	size_t n_lat; /* latency to an area, estimated from the great-circle distance */
	struct {
		double lat, lon, threshold_ms;
	} lat[ROOT_MAX_LAT];
};

uint32_t root_runtime_mask(const char *name);
uint32_t root_arch_mask(const char *name);

/* Picks a cluster for one instance. Returns the index into cands, or -1
 * with status set to the Oakestra status that says why
 * (TargetClusterNotFound, TargetClusterNotActive, TargetClusterNoCapacity
 * when direct names clusters; NoActiveClusterWithCapacity otherwise) and
 * detail to the reasons per check ("1 of 2 clusters ...: 1 memory"). */
long root_place(const struct root_req *req, const struct root_cand *cands, size_t n, uint64_t seed,
		char status[ROOT_STATUS_LEN], char *detail, size_t dlen);

#endif
