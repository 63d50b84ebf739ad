/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Every map of the datapath, each pinned by name under the node's directory
 * (the loader sets pin_root_path to /sys/fs/bpf/oak/<node-id>), so the tc and
 * XDP objects share them and a restarted agent adopts them.
 */
#ifndef OAK_BPF_MAPS_H
#define OAK_BPF_MAPS_H

#include "common.h"

/* Service IP -> its policy, backend count and round-robin turn. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, OAK_SVC_ENTRIES);
	__type(key, __be32);
	__type(value, struct oak_svc_meta);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} oak_svc_v2 SEC(".maps");

/* (Service IP, slot 1..count) -> backend, sorted by latency from this node. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, OAK_BACKEND_ENTRIES);
	__type(key, struct oak_backend_key);
	__type(value, struct oak_svc_backend);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} oak_backend_v1 SEC(".maps");

/* Instance IP -> where it runs. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, OAK_INST_ENTRIES);
	__type(key, __be32);
	__type(value, struct oak_inst);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} oak_inst_v1 SEC(".maps");

/* host-side veth ifindex -> the local instance behind it. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, OAK_LOCAL_ENTRIES);
	__type(key, __u32);
	__type(value, struct oak_local);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} oak_local_v1 SEC(".maps");

/* Translated flows: forward pins the backend, reverse restores the Service IP. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, OAK_CT_ENTRIES);
	__type(key, struct oak_ct_key);
	__type(value, struct oak_ct_val);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} oak_ct_v1 SEC(".maps");

/* (protocol, host port) on the node's underlay address -> instance, container port. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, OAK_PORT_ENTRIES);
	__type(key, struct oak_port_key);
	__type(value, struct oak_port_val);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} oak_port_v1 SEC(".maps");

/* The node's settings; entry 0. */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct oak_cfg);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} oak_cfg_v1 SEC(".maps");

/* One per-CPU counter per verdict (enum oak_stat); spare slots after them. */
_Static_assert(OAK_STAT_MAX <= OAK_STAT_SLOTS, "oak_stats_v2 has OAK_STAT_SLOTS slots");
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, OAK_STAT_SLOTS);
	__type(key, __u32);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} oak_stats_v2 SEC(".maps");

/* Unknown Service IPs, for the agent's table queries. */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, OAK_EVENTS_BYTES);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} oak_events_v1 SEC(".maps");

/* Last time a miss was reported per address: at most one event a second. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, __be32);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} oak_miss_v1 SEC(".maps");

static __always_inline void stat_inc(__u32 idx)
{
	__u64 *v = bpf_map_lookup_elem(&oak_stats_v2, &idx);

	if (v)
		*v += 1;
}

static __always_inline struct oak_cfg *cfg_get(void)
{
	__u32 zero = 0;

	return bpf_map_lookup_elem(&oak_cfg_v1, &zero);
}

#endif
