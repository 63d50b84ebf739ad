/* oak-root's orchestration: the cluster registry over the root broker,
 * root scheduling over cluster aggregates, and the reconciliation that
 * turns a service's desired state (its document in the store: spec,
 * "replicas", "generation") into instances placed in clusters.
 *
 * The REST routes change desired state in the store and then tell the
 * orchestrator; the orchestrator owns instance_list[] (numbers, Instance
 * IPs, cluster, node, status) and the "clusters" collection. */
#ifndef OAK_ROOT_ORCH_H
#define OAK_ROOT_ORCH_H

#include <stdint.h>

#include <jansson.h>

struct oak_bus;
struct oak_config;
struct oak_loop;
struct root_store;
struct root_orch;

/* Subscribes to clusters/+/... on the root broker and registers its timers
 * with the loop. cfg keys it reads are listed in control/root/README.md. */
struct root_orch *root_orch_new(struct root_store *store, struct oak_bus *bus,
				struct oak_loop *loop, const struct oak_config *cfg);
void root_orch_free(struct root_orch *o);

/* The service's desired state changed (created with replicas, scaled,
 * spec updated: a new "generation"): place, scale or replace its instances,
 * asynchronously. */
void root_orch_service_changed(struct root_orch *o, const char *service_id);
/* Undeploys one instance (by number) and lowers "replicas" by one;
 * ROOT_STORE_NOTFOUND when there is no such instance. */
int root_orch_instance_remove(struct root_orch *o, const char *service_id, uint32_t number);
/* The service document was deleted from the store (doc is its last
 * version): undeploy every instance and release its claims. */
void root_orch_service_deleted(struct root_orch *o, json_t *doc);

#endif
