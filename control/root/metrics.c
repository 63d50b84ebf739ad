/* oak-root's registry (metrics.h): the families of the parts, and the
 * gauges read from the store and the cluster registry when scraped. */
#include "metrics.h"

#include <jansson.h>
#include <string.h>

#include "orch_int.h"
#include "store.h"
#include "oak/bus.h"
#include "oak/log.h"
#include "oak/metrics.h"
#include "oak/metrics_http.h"
#include "oak/msg.h"

struct root_metrics {
	struct root_store *store;
	struct root_orch *orch;
	struct oak_metric *instances, *services, *clusters;
};

/* instances by the status of their instance_list entry; the states every
 * instance passes through are there at 0 when none is in them */
static void count_instances(struct root_metrics *rm)
{
	static const char *const root_states[] = {"REQUESTED", "CLUSTER_SCHEDULED"};
	json_t *svcs = NULL, *doc, *e;
	size_t i, k;

	if (root_store_list(rm->store, "services", NULL, NULL, &svcs))
		return;
	oak_metric_clear(rm->instances);
	for (i = 0; i < sizeof(root_states) / sizeof(root_states[0]); i++)
		oak_metric_set(rm->instances, OAK_LV(root_states[i]), 0);
	for (unsigned s = 0; s < OAK_INSTANCE_STATE_COUNT; s++)
		oak_metric_set(rm->instances, OAK_LV(oak_instance_state_name(s)), 0);
	json_array_foreach(svcs, i, doc)
	{
		json_array_foreach(json_object_get(doc, "instance_list"), k, e)
		{
			const char *st = json_string_value(json_object_get(e, "status"));

			oak_metric_inc(rm->instances, OAK_LV(st && *st ? st : "REQUESTED"));
		}
	}
	oak_metric_set(rm->services, NULL, (double)json_array_size(svcs));
	json_decref(svcs);
}

static void collect(struct oak_metrics *m, void *arg)
{
	struct root_metrics *rm = arg;
	double active = 0, lost = 0;

	count_instances(rm);
	for (size_t i = 0; rm->orch && i < rm->orch->n_cl; i++) {
		if (rm->orch->cl[i].lost)
			lost++;
		else
			active++;
	}
	oak_metric_set(rm->clusters, OAK_LV("active"), active);
	oak_metric_set(rm->clusters, OAK_LV("lost"), lost);
}

struct oak_metrics *root_metrics_new(struct root_store *store, struct root_orch *orch,
				     struct oak_bus *bus)
{
	static struct root_metrics rm; /* one root per process */
	struct oak_metrics *m = oak_metrics_new();

	if (!m)
		return NULL;
	rm.store = store;
	rm.orch = orch;
	rm.instances = oak_metrics_gauge(m, "oak_instances",
					 "Service instances by status (the root's view)", "state");
	rm.services = oak_metrics_gauge(m, "oak_services", "Services in the store", NULL);
	rm.clusters = oak_metrics_gauge(
	    m, "oak_clusters", "Registered clusters: active, or lost (silent or offline)", "state");
	if (!rm.instances || !rm.services || !rm.clusters || rest_metrics_register(m) ||
	    root_place_metrics_register(m) || oak_metrics_on_collect(m, collect, &rm) ||
	    oak_metrics_process(m, "oak-root") || oak_bus_metrics(bus, m, "root")) {
		oak_log(ERROR, "metrics: cannot register");
		oak_metrics_free(m);
		return NULL;
	}
	return m;
}
