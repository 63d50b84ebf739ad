// SPDX-License-Identifier: MIT
/*
 * oakctl dp [--node NODE] [--json]: a node's datapath as its pinned maps
 * hold it (services and their backends, where each Instance IP runs, the
 * exposed ports, the per-verdict counters). Read-only: it adopts existing pins through the
 * datapath library and never creates or changes one.
 */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <oak/dp.h>

#include "oakctl.h"

/* Maps the library would create when missing: all must be there. */
static const char *const needed_pins[] = {OAK_MAP_SVC, OAK_MAP_BACKEND, OAK_MAP_INST, OAK_MAP_CFG,
					  OAK_MAP_STATS};

static int pick_node(const char *given, char *node, size_t len)
{
	struct dirent *d;
	unsigned int n = 0;
	DIR *dir;

	if (given) {
		snprintf(node, len, "%s", given);
		return EXIT_OK;
	}
	dir = opendir(OAK_BPF_ROOT);
	if (!dir)
		return fail(EXIT_REFUSED, "%s: %s (no datapath on this machine?)", OAK_BPF_ROOT,
			    strerror(errno));
	while ((d = readdir(dir)))
		if (d->d_name[0] != '.' && d->d_type == DT_DIR && n++ == 0)
			snprintf(node, len, "%s", d->d_name);
	closedir(dir);
	if (n == 1)
		return EXIT_OK;
	if (!n)
		return fail(EXIT_REFUSED, "no node datapath pinned under %s", OAK_BPF_ROOT);
	fprintf(stderr, "oakctl: %u node datapaths under %s; pick one with --node:\n", n,
		OAK_BPF_ROOT);
	dir = opendir(OAK_BPF_ROOT);
	while (dir && (d = readdir(dir)))
		if (d->d_name[0] != '.' && d->d_type == DT_DIR)
			fprintf(stderr, "  %s\n", d->d_name);
	if (dir)
		closedir(dir);
	return EXIT_USAGE;
}

static int check_pins(const char *node)
{
	char path[512];
	size_t i;

	if (!*node || strchr(node, '/') || !strcmp(node, ".") || !strcmp(node, ".."))
		return fail(EXIT_USAGE, "--node '%s': not a node id", node);
	for (i = 0; i < sizeof(needed_pins) / sizeof(needed_pins[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s/%s", OAK_BPF_ROOT, node, needed_pins[i]);
		if (access(path, F_OK))
			return fail(EXIT_REFUSED, "node %s: %s: %s", node, path,
				    errno == ENOENT ? "not pinned (no datapath for this node, or "
						      "one of another layout version)"
						    : strerror(errno));
	}
	return EXIT_OK;
}

static const char *ip(uint32_t a, char *buf)
{
	return inet_ntop(AF_INET, &a, buf, INET_ADDRSTRLEN);
}

static json_t *services_json(struct oak_dp *dp)
{
	struct oak_svc_backend b[OAK_MAX_BACKENDS];
	int fd = oak_dp_map_fd(dp, OAK_MAP_SVC);
	json_t *out = json_array();
	struct oak_svc_meta meta;
	uint32_t key, next, *prev = NULL;
	char s[INET_ADDRSTRLEN];
	unsigned int i;

	while (fd >= 0 && bpf_map_get_next_key(fd, prev, &next) == 0) {
		json_t *svc, *backends = json_array();

		key = next;
		prev = &key;
		if (oak_dp_service_get(dp, key, &meta, b, OAK_MAX_BACKENDS))
			continue; /* removed while we walked */
		for (i = 0; i < meta.count && i < OAK_MAX_BACKENDS; i++)
			json_array_append_new(
			    backends,
			    json_pack("{s:s, s:i, s:b}", "instance_ip", ip(b[i].inst_ip, s),
				      "latency_us", (json_int_t)b[i].latency_us, "closest",
				      meta.policy == OAK_POLICY_CLOSEST && i < meta.closest_count));
		svc = json_pack("{s:s, s:s, s:i, s:i, s:o}", "service_ip", ip(key, s), "policy",
				meta.policy == OAK_POLICY_CLOSEST ? "closest" : "round-robin",
				"svc_id", (json_int_t)meta.svc_id, "next_turn",
				(json_int_t)meta.rr_next, "backends", backends);
		json_array_append_new(out, svc);
	}
	return out;
}

static json_t *instances_json(struct oak_dp *dp)
{
	int fd = oak_dp_map_fd(dp, OAK_MAP_INST);
	char s[INET_ADDRSTRLEN], n[INET_ADDRSTRLEN];
	json_t *out = json_array();
	uint32_t key, next, *prev = NULL;
	struct oak_inst inst;

	while (fd >= 0 && bpf_map_get_next_key(fd, prev, &next) == 0) {
		key = next;
		prev = &key;
		if (oak_dp_instance_get(dp, key, &inst))
			continue;
		if (inst.flags & OAK_INST_F_LOCAL)
			json_array_append_new(out, json_pack("{s:s, s:s, s:s, s:i}", "instance_ip",
							     ip(key, s), "where", "local", "ns_ip",
							     ip(inst.ns_ip, n), "ifindex",
							     (json_int_t)inst.ifindex));
		else
			json_array_append_new(out, json_pack("{s:s, s:s, s:s}", "instance_ip",
							     ip(key, s), "where", "remote",
							     "node_ip", ip(inst.node_ip, n)));
	}
	return out;
}

/* Container ports exposed on the node's address (an SLA "port"). */
static json_t *ports_json(struct oak_dp *dp)
{
	struct oak_dp_port ports[256];
	json_t *out = json_array();
	char s[INET_ADDRSTRLEN];
	int n = oak_dp_port_list(dp, ports, 256), i;

	for (i = 0; i < n && i < 256; i++)
		json_array_append_new(out, json_pack("{s:s, s:i, s:s, s:i}", "proto",
						     ports[i].proto == IPPROTO_UDP ? "udp" : "tcp",
						     "host_port", (json_int_t)ports[i].host_port,
						     "instance_ip", ip(ports[i].inst_ip, s),
						     "container_port",
						     (json_int_t)ports[i].container_port));
	return out;
}

static json_t *datapath_json(struct oak_dp *dp, const char *node)
{
	uint64_t stats[OAK_STAT_MAX];
	json_t *counters = json_object();
	char s[INET_ADDRSTRLEN];
	struct oak_cfg cfg = {0};
	unsigned int i;

	oak_dp_get_config(dp, &cfg);
	if (oak_dp_stats(dp, stats) == 0)
		for (i = 0; i < OAK_STAT_MAX; i++)
			json_object_set_new(counters, oak_dp_stat_name(i),
					    json_integer((json_int_t)stats[i]));
	return json_pack("{s:s, s:s, s:i, s:i, s:o, s:o, s:o, s:o}", "node", node, "node_ip",
			 ip(cfg.node_ip, s), "uplink_ifindex", (json_int_t)cfg.uplink_ifindex,
			 "uplink_mtu", (json_int_t)cfg.uplink_mtu, "services", services_json(dp),
			 "instances", instances_json(dp), "ports", ports_json(dp), "counters",
			 counters);
}

static void print_text(const json_t *d)
{
	const json_t *svc, *b, *inst, *v;
	const char *name;
	size_t i, j;

	if (json_integer_value(json_object_get(d, "uplink_ifindex")))
		printf("node %s  node_ip %s  uplink ifindex %lld  mtu %lld\n",
		       json_string_value(json_object_get(d, "node")),
		       json_string_value(json_object_get(d, "node_ip")),
		       json_integer_value(json_object_get(d, "uplink_ifindex")),
		       json_integer_value(json_object_get(d, "uplink_mtu")));
	else
		printf("node %s  (no uplink configured)\n",
		       json_string_value(json_object_get(d, "node")));
	printf("\nservices (%zu)\n", json_array_size(json_object_get(d, "services")));
	json_array_foreach(json_object_get(d, "services"), i, svc)
	{
		printf("  %s %s backends=%zu next_turn=%lld\n",
		       json_string_value(json_object_get(svc, "service_ip")),
		       json_string_value(json_object_get(svc, "policy")),
		       json_array_size(json_object_get(svc, "backends")),
		       json_integer_value(json_object_get(svc, "next_turn")));
		json_array_foreach(json_object_get(svc, "backends"), j, b)
		    printf("    %s latency_us=%lld%s\n",
			   json_string_value(json_object_get(b, "instance_ip")),
			   json_integer_value(json_object_get(b, "latency_us")),
			   json_is_true(json_object_get(b, "closest")) ? " closest" : "");
	}
	printf("\ninstances (%zu)\n", json_array_size(json_object_get(d, "instances")));
	json_array_foreach(json_object_get(d, "instances"), i, inst)
	{
		if (json_object_get(inst, "ns_ip"))
			printf("  %s local ns_ip=%s ifindex=%lld\n",
			       json_string_value(json_object_get(inst, "instance_ip")),
			       json_string_value(json_object_get(inst, "ns_ip")),
			       json_integer_value(json_object_get(inst, "ifindex")));
		else
			printf("  %s remote node_ip=%s\n",
			       json_string_value(json_object_get(inst, "instance_ip")),
			       json_string_value(json_object_get(inst, "node_ip")));
	}
	printf("\nports (%zu)\n", json_array_size(json_object_get(d, "ports")));
	json_array_foreach(json_object_get(d, "ports"), i, inst)
	    printf("  %s %lld -> %s:%lld\n", json_string_value(json_object_get(inst, "proto")),
		   json_integer_value(json_object_get(inst, "host_port")),
		   json_string_value(json_object_get(inst, "instance_ip")),
		   json_integer_value(json_object_get(inst, "container_port")));
	printf("\ncounters\n");
	json_object_foreach((json_t *)json_object_get(d, "counters"), name, v)
	    printf("  %-16s %lld\n", name, json_integer_value(v));
}

int cmd_dp(struct oakctl *k, int argc, char **argv)
{
	char node[256];
	struct oak_dp *dp;
	json_t *d;
	int rc, err;

	(void)argv;
	if (argc)
		return fail(EXIT_USAGE, "usage: oakctl dp [--node NODE] [--json]");
	rc = pick_node(k->o.node, node, sizeof(node));
	if (rc || (rc = check_pins(node)))
		return rc;
	err = oak_dp_open(node, &dp);
	if (err)
		return fail(EXIT_REFUSED, "node %s: cannot open its pinned maps: %s%s", node,
			    strerror(-err), err == -EPERM ? " (needs root)" : "");
	d = datapath_json(dp, node);
	oak_dp_close(dp);
	if (!d)
		return fail(EXIT_REFUSED, "out of memory");
	if (k->o.json)
		print_json(d);
	else
		print_text(d);
	json_decref(d);
	return EXIT_OK;
}
