/* oak-root's Prometheus metrics (include/oak/metrics.h), served on the
 * REST port at /metrics (http.c): REST requests by route and status,
 * root placements and their time, instances by status, services,
 * clusters by state, the root bus and the process. */
#ifndef OAK_ROOT_METRICS_H
#define OAK_ROOT_METRICS_H

struct oak_bus;
struct oak_metrics;
struct root_orch;
struct root_store;

/* The registry with every family of the root; NULL when it cannot be
 * made (logged). The collectors read store and orch: free the registry
 * (oak_metrics_free) after the HTTP server and before them. */
struct oak_metrics *root_metrics_new(struct root_store *store, struct root_orch *orch,
				     struct oak_bus *bus);

/* Each part registers its own families (rest.c, placement.c); until then
 * their hooks count nothing. */
int rest_metrics_register(struct oak_metrics *m);
int root_place_metrics_register(struct oak_metrics *m);

#endif
