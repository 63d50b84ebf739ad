/* SPDX-License-Identifier: MIT */
/*
 * The node datapath library: opens (or adopts) a node's pinned BPF maps,
 * attaches the programs, and offers the operations the node agent needs.
 *
 * Kernel state outlives the process: maps are pinned under
 * /sys/fs/bpf/oak/<node-id>/ and programs stay attached after oak_dp_close(),
 * so forwarding goes on while the agent is stopped or upgraded. Only
 * oak_dp_purge() removes a node's datapath.
 *
 * Every function returns 0 or a negative errno, and logs nothing: the caller
 * decides what an error means.
 */
#ifndef OAK_DP_H
#define OAK_DP_H

#include <stdbool.h>
#include <stdint.h>
#include <oak/datapath.h>

#define OAK_BPF_ROOT "/sys/fs/bpf/oak"

struct oak_dp;

enum oak_uplink_mode {
	OAK_UPLINK_AUTO = 0, /* XDP decap on a NIC with native XDP, tc on veth */
	OAK_UPLINK_TC,	     /* decap at tc ingress */
	OAK_UPLINK_XDP,	     /* decap at native XDP (through libxdp), deliver at tc */
};

/* Open the node's datapath: create or adopt its pinned maps. */
int oak_dp_open(const char *node_id, struct oak_dp **out);
/* Free userspace state only; the kernel keeps forwarding. */
void oak_dp_close(struct oak_dp *dp);
/* Detach the node's uplink programs and unpin all of its maps. */
int oak_dp_purge(const char *node_id);

/*
 * Does the running kernel take BPF_F_ADJ_ROOM_DECAP_L3_IPV4 (Linux 6.3)?
 * Loaders clear oak_decap_flags in the programs' rodata where it does not.
 */
bool oak_dp_kernel_has_decap_flags(void);

/* Was this datapath adopted from pins a previous process left? */
bool oak_dp_adopted(const struct oak_dp *dp);

int oak_dp_configure(struct oak_dp *dp, const struct oak_cfg *cfg);
int oak_dp_get_config(struct oak_dp *dp, struct oak_cfg *cfg);

/* Attach to the uplink; *chosen says which decap hook now runs there. */
int oak_dp_attach_uplink(struct oak_dp *dp, int ifindex, enum oak_uplink_mode mode,
			 enum oak_uplink_mode *chosen);
int oak_dp_detach_uplink(struct oak_dp *dp, int ifindex);

/*
 * A local instance: attaches the translation program to its host-side veth
 * and records the Instance IP and namespace address behind it.
 */
int oak_dp_attach_instance(struct oak_dp *dp, int ifindex, uint32_t inst_ip, uint32_t ns_ip);
int oak_dp_detach_instance(struct oak_dp *dp, int ifindex);

/* Where an Instance IP runs (local or on another node). */
int oak_dp_instance_set(struct oak_dp *dp, uint32_t inst_ip, const struct oak_inst *inst);
int oak_dp_instance_get(struct oak_dp *dp, uint32_t inst_ip, struct oak_inst *inst);
int oak_dp_instance_del(struct oak_dp *dp, uint32_t inst_ip);

/*
 * Replace a Service IP's backends. They are stored sorted by latency so the
 * closest policy is O(1) in the kernel; the round-robin turn is kept.
 */
int oak_dp_service_set(struct oak_dp *dp, uint32_t svc_ip, enum oak_policy policy, uint32_t svc_id,
		       const struct oak_svc_backend *backends, unsigned int n);
int oak_dp_service_get(struct oak_dp *dp, uint32_t svc_ip, struct oak_svc_meta *meta,
		       struct oak_svc_backend *backends, unsigned int max);
int oak_dp_service_del(struct oak_dp *dp, uint32_t svc_ip);
/* Set the measured latency from this node to one backend of every service. */
int oak_dp_set_latency(struct oak_dp *dp, uint32_t svc_ip, uint32_t inst_ip, uint32_t latency_us);

/*
 * Expose a container port of a local instance on the node's underlay address
 * (one entry of an SLA "port", see include/oak/ports.h): TCP or UDP packets
 * from the uplink to host_port go to the instance's container_port, and its
 * replies leave from host_port. Ports in host order; proto IPPROTO_TCP or
 * IPPROTO_UDP (else -EPROTONOSUPPORT). Adding the same mapping again is a
 * no-op; a host port already mapped elsewhere, or the tunnel's UDP port, is
 * -EADDRINUSE. The instance need not be set yet: until it is local, packets to
 * the port are dropped and counted (port_no_inst).
 */
int oak_dp_port_add(struct oak_dp *dp, uint8_t proto, uint16_t host_port, uint32_t inst_ip,
		    uint16_t container_port);
/*
 * Stop exposing host_port, and forget its flows' reply entries. inst_ip 0
 * removes whoever has it; otherwise a port mapped to another instance is
 * -EADDRINUSE and stays. A port not exposed is not an error.
 */
int oak_dp_port_del(struct oak_dp *dp, uint8_t proto, uint16_t host_port, uint32_t inst_ip);

struct oak_dp_port {
	uint8_t proto;
	uint16_t host_port;	 /* host order */
	uint32_t inst_ip;	 /* network order */
	uint16_t container_port; /* host order */
};
/* The exposed ports (up to max, by protocol and host port); returns how many there are. */
int oak_dp_port_list(struct oak_dp *dp, struct oak_dp_port *out, unsigned int max);

/* Per-verdict counters summed over CPUs; out has OAK_STAT_MAX entries. */
int oak_dp_stats(struct oak_dp *dp, uint64_t *out);
const char *oak_dp_stat_name(unsigned int stat);

/* Misses (unknown Service IPs) reported by the datapath. */
typedef void (*oak_dp_miss_cb)(void *ctx, uint32_t addr, uint32_t src_inst);
int oak_dp_events_fd(struct oak_dp *dp, oak_dp_miss_cb cb, void *ctx);
int oak_dp_events_poll(struct oak_dp *dp, int timeout_ms);

/* Fds of the pinned maps, by name (OAK_MAP_*), for tools and tests. */
int oak_dp_map_fd(struct oak_dp *dp, const char *name);

#endif
