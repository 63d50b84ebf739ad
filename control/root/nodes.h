/* The nodes of every cluster as their clusters forward them
 * (clusters/<cid>/nodes/<nid>/information, .../status, .../jobs/resources):
 * each node's report (location, CPU, memory, runtimes) and liveness, and
 * the instances' CPU and memory usage. In memory only, for the dashboard
 * and the API (GET /api/cluster/<id>/nodes, the usage fields of the
 * instance entries): the root never places on nodes, and after a restart
 * the next reports (every report_interval) fill it again. */
#ifndef OAK_ROOT_NODES_H
#define OAK_ROOT_NODES_H

#include <jansson.h>
#include <stdint.h>

#define ROOT_NODES_MAX	   100000
#define ROOT_USAGE_MAX	   1000000
#define ROOT_USAGE_TTL_MS  60000 /* usage not reported again for this long is dropped */
#define ROOT_NODE_STALE_MS 30000 /* a node not reported for this long is not active */

struct oak_bus;
struct root_nodes;

struct root_nodes *root_nodes_new(struct oak_bus *bus);
void root_nodes_free(struct root_nodes *t);

/* The nodes of cluster cid as a JSON list (a new reference). */
json_t *root_nodes_of_cluster(const struct root_nodes *t, const char *cid, int64_t now_ms);

/* Sets cpu_percent, memory_mb, memory_percent (of the SLA's memory) and
 * usage_at on the entries of a service document's instance_list that have
 * a usage report. */
void root_nodes_fill_usage(const struct root_nodes *t, json_t *svc);

#endif
