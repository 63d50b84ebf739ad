/* oak-cluster's Prometheus metrics on metrics_listen (include/oak/metrics.h):
 * placements and the scheduler's time per placement, node losses by
 * cause, heartbeats and the ones that never came, instances of its own
 * services by state, nodes by state, both buses and the process. The
 * counting sites call the ocl_metrics_* hooks; the gauges are read from
 * the registry when scraped. One cluster per process: the state is here. */
#include <string.h>

#include "parts.h"
#include "oak/daemon.h"
#include "oak/log.h"
#include "oak/metrics.h"
#include "oak/metrics_http.h"

static struct {
	struct oak_metrics *m;
	struct oak_metrics_http *http;
	struct oak_metric *placements, *place_s, *lost, *hb, *hb_missed, *instances, *nodes,
	    *services;
} cm;

void ocl_metrics_placement(double seconds, uint32_t placed, uint32_t unplaced)
{
	oak_metric_observe(cm.place_s, NULL, seconds);
	oak_metric_add(cm.placements, OAK_LV("placed"), placed);
	oak_metric_add(cm.placements, OAK_LV("unschedulable"), unplaced);
}

void ocl_metrics_node_lost(const char *why)
{
	oak_metric_inc(cm.lost, OAK_LV(!strcmp(why, "silent") ? "heartbeat" : "offline"));
}

void ocl_metrics_heartbeat(uint32_t missed)
{
	oak_metric_inc(cm.hb, NULL);
	oak_metric_add(cm.hb_missed, NULL, missed);
}

static void collect(struct oak_metrics *m, void *arg)
{
	const struct ocl *o = arg;
	double by_state[OAK_INSTANCE_STATE_COUNT] = {0}, active = 0, lost = 0, services = 0;

	for (size_t i = 0; i < o->c.n_svcs; i++) {
		const struct ocl_service *s = o->c.svcs[i];

		if (s->remote)
			continue;
		services++;
		for (size_t k = 0; k < s->n_inst; k++)
			if ((unsigned)s->inst[k].state < OAK_INSTANCE_STATE_COUNT)
				by_state[s->inst[k].state]++;
	}
	for (unsigned st = 0; st < OAK_INSTANCE_STATE_COUNT; st++)
		oak_metric_set(cm.instances, OAK_LV(oak_instance_state_name(st)), by_state[st]);
	for (size_t i = 0; i < o->c.n_nodes; i++) {
		if (o->c.nodes[i].state == OCL_NODE_ACTIVE)
			active++;
		else
			lost++;
	}
	oak_metric_set(cm.nodes, OAK_LV("active"), active);
	oak_metric_set(cm.nodes, OAK_LV("lost"), lost);
	oak_metric_set(cm.services, NULL, services);
}

int ocl_metrics_start(struct ocl *o, struct oak_loop *l)
{
	cm.m = oak_metrics_new();
	if (!cm.m)
		return -1;
	cm.placements = oak_metrics_counter(
	    cm.m, "oak_placements_total",
	    "Instances the scheduler placed on a node, or found no node for", "result");
	cm.place_s =
	    oak_metrics_histogram(cm.m, "oak_placement_duration_seconds",
				  "Time the scheduler took for one placement round of a service",
				  NULL, oak_metrics_seconds_buckets, oak_metrics_seconds_buckets_n);
	cm.lost = oak_metrics_counter(cm.m, "oak_nodes_lost_total",
				      "Nodes declared lost: heartbeats stopped (node_timeout), "
				      "or offline (last will, clean stop)",
				      "reason");
	cm.hb = oak_metrics_counter(cm.m, "oak_heartbeats_received_total",
				    "UDP heartbeats received from known nodes", NULL);
	cm.hb_missed =
	    oak_metrics_counter(cm.m, "oak_heartbeats_missed_total",
				"Heartbeats that never arrived (gaps in their sequence)", NULL);
	cm.instances = oak_metrics_gauge(cm.m, "oak_instances",
					 "Instances of this cluster's services by state", "state");
	cm.nodes =
	    oak_metrics_gauge(cm.m, "oak_nodes", "Nodes known to the cluster by state", "state");
	cm.services =
	    oak_metrics_gauge(cm.m, "oak_services", "Services this cluster was given to run", NULL);
	if (!cm.placements || !cm.place_s || !cm.lost || !cm.hb || !cm.hb_missed || !cm.instances ||
	    !cm.nodes || !cm.services || oak_metrics_on_collect(cm.m, collect, o) ||
	    oak_metrics_process(cm.m, "oak-cluster") || oak_bus_metrics(o->nbus, cm.m, "cluster") ||
	    oak_bus_metrics(o->rbus, cm.m, "root")) {
		oak_log(ERROR, "metrics: cannot register");
		return -1;
	}
	oak_metric_add(cm.lost, OAK_LV("heartbeat"), 0); /* both causes from the start */
	oak_metric_add(cm.lost, OAK_LV("offline"), 0);
	oak_metric_add(cm.placements, OAK_LV("placed"), 0);
	oak_metric_add(cm.placements, OAK_LV("unschedulable"), 0);
	return oak_metrics_http_from_config(l, cm.m, o->cfg, "metrics_listen", &cm.http);
}

void ocl_metrics_stop(void)
{
	oak_metrics_http_free(cm.http);
	oak_metrics_free(cm.m);
	memset(&cm, 0, sizeof(cm));
}
