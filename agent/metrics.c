// SPDX-License-Identifier: MIT
/*
 * oak-node's Prometheus metrics (include/oak/metrics.h) on metrics_listen:
 * its instances by state, every datapath verdict counter summed over CPUs
 * from the per-CPU stats map, the entries of each pinned map, its service
 * interests, the cluster bus and the process. Everything is read when
 * scraped; nothing counts on the packet path but the BPF programs.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <bpf/bpf.h>

#include <oak/log.h>
#include <oak/metrics.h>
#include <oak/metrics_http.h>

#include "node.h"

/* hash maps whose entries are worth a gauge (arrays are always full) */
static const char *const counted_maps[] = {
    OAK_MAP_SVC, OAK_MAP_BACKEND, OAK_MAP_INST, OAK_MAP_LOCAL,
    OAK_MAP_CT,	 OAK_MAP_PORT,	  OAK_MAP_MISS,
};

#define MAP_KEY_MAX  64		/* bytes; every oak key is smaller */
#define MAP_WALK_MAX (1u << 20) /* keys walked per map and scrape at most */

static struct {
	struct oak_metrics *m;
	struct oak_metrics_http *http;
	struct oak_metric *instances, *verdicts, *entries, *capacity, *interests;
} nm;

/* keys by bpf_map_get_next_key: one syscall per entry (~1 µs), so a full
 * 64k-entry conntrack map costs a scrape ~60 ms */
static long count_entries(int fd, unsigned key_size)
{
	unsigned char a[MAP_KEY_MAX], b[MAP_KEY_MAX];
	unsigned char *cur = NULL, *next = a;
	long n = 0;

	if (key_size > MAP_KEY_MAX)
		return -1;
	while (n < (long)MAP_WALK_MAX && !bpf_map_get_next_key(fd, cur, next)) {
		n++;
		cur = next;
		next = next == a ? b : a;
	}
	return n;
}

static void collect(struct oak_metrics *m, void *arg)
{
	struct oak_node *n = arg;
	double by_state[OAK_INSTANCE_STATE_COUNT] = {0};
	uint64_t stats[OAK_STAT_MAX];
	const struct oak_interest *it;
	double interests = 0;

	for (const struct oak_instance *in = n->insts; in; in = in->next)
		if ((unsigned)in->state < OAK_INSTANCE_STATE_COUNT)
			by_state[in->state]++;
	for (unsigned s = 0; s < OAK_INSTANCE_STATE_COUNT; s++)
		oak_metric_set(nm.instances, OAK_LV(oak_instance_state_name(s)), by_state[s]);
	for (it = n->interests; it; it = it->next)
		interests++;
	oak_metric_set(nm.interests, NULL, interests);
	if (!n->dp)
		return;
	if (!oak_dp_stats(n->dp, stats))
		for (unsigned s = 0; s < OAK_STAT_MAX; s++)
			oak_metric_set(nm.verdicts, OAK_LV(oak_dp_stat_name(s)), (double)stats[s]);
	for (size_t i = 0; i < sizeof(counted_maps) / sizeof(counted_maps[0]); i++) {
		struct bpf_map_info info = {0};
		__u32 len = sizeof(info);
		int fd = oak_dp_map_fd(n->dp, counted_maps[i]);
		long c;

		if (fd < 0 || bpf_obj_get_info_by_fd(fd, &info, &len))
			continue;
		c = count_entries(fd, info.key_size);
		if (c >= 0)
			oak_metric_set(nm.entries, OAK_LV(counted_maps[i]), (double)c);
		oak_metric_set(nm.capacity, OAK_LV(counted_maps[i]), info.max_entries);
	}
}

int node_metrics_start(struct oak_node *n)
{
	nm.m = oak_metrics_new();
	if (!nm.m)
		return -1;
	nm.instances = oak_metrics_gauge(nm.m, "oak_instances",
					 "Service instances on this node by state", "state");
	nm.verdicts = oak_metrics_counter(
	    nm.m, "oak_dp_packets_total",
	    "Packets by datapath verdict (the BPF programs' per-CPU counters, summed)", "verdict");
	nm.entries = oak_metrics_gauge(nm.m, "oak_dp_map_entries",
				       "Entries in a pinned BPF map of the datapath", "map");
	nm.capacity = oak_metrics_gauge(nm.m, "oak_dp_map_capacity_entries",
					"Largest number of entries a pinned BPF map takes", "map");
	nm.interests = oak_metrics_gauge(nm.m, "oak_service_interests",
					 "Services whose tables this node holds", NULL);
	if (!nm.instances || !nm.verdicts || !nm.entries || !nm.capacity || !nm.interests ||
	    oak_metrics_on_collect(nm.m, collect, n) || oak_metrics_process(nm.m, "oak-node") ||
	    oak_bus_metrics(n->bus, nm.m, "cluster")) {
		oak_log(ERROR, "metrics: cannot register");
		return -1;
	}
	return oak_metrics_http_from_config(n->loop, nm.m, n->cfg, "metrics_listen", &nm.http);
}

void node_metrics_stop(struct oak_node *n)
{
	oak_metrics_http_free(nm.http);
	oak_metrics_free(nm.m);
	memset(&nm, 0, sizeof(nm));
}
