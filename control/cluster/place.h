/* oak-cluster: a service's SLA as a placement request over this cluster's
 * nodes (resources, runtime, architecture, target_node, direct, geo and
 * latency constraints), and a node's report as a placement candidate.
 * Pure: no I/O; the daemon logs the notes, the unit tests check them. */
#ifndef OAK_CLUSTER_PLACE_H
#define OAK_CLUSTER_PLACE_H

#include <stddef.h>

#include "cluster.h"
#include "sched_glue.h"
#include "oak/sla.h"

/* What an ocl_req built by ocl_build_req points into. */
struct ocl_req_buf {
	char direct[512];
	struct ocl_coord *coords; /* instances' coordinates of latency targets */
	size_t n_coords, cap_coords;
};

/*
 * Fills *r from svc (the SLA of the service being placed) for placement on
 * the nodes of c. Latency constraints:
 *  - constraints[] of type latency with a location ("lat,lon", or an area
 *    written as "lat,lon") become latency-to-area requests;
 *  - connectivity[] entries with latency con_constraints become
 *    latency-to-service requests (the smallest threshold per target) over
 *    the Vivaldi coordinates of the nodes that hold the target's placed,
 *    live instances in this cluster.
 * A constraint that cannot be checked here (a latency target with no placed
 * instance of known coordinates in this cluster, a named area with no
 * location) is left out and said in notes ("; "-separated, "" when none),
 * which the caller logs as a warning. Returns 0, or -1 when out of memory.
 * Release b with ocl_req_buf_free after ocl_place.
 */
int ocl_build_req(const struct ocl_cluster *c, const struct oak_service *svc, struct ocl_req *r,
		  struct ocl_req_buf *b, char *notes, size_t nlen);
void ocl_req_buf_free(struct ocl_req_buf *b);

/* A node as a candidate for instances of s (s may be NULL): free resources,
 * runtimes, architecture, location and Vivaldi coordinates of its latest
 * report. c->id points into n. */
void ocl_cand_from_node(const struct ocl_node *n, const struct ocl_service *s, struct ocl_cand *c);

#endif
