/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The map contract: every key and value that crosses between the BPF
 * programs and userspace. Included by both sides; nothing else defines them.
 *
 * Map names carry a layout version (oak_<name>_vN). Whenever a struct below
 * changes, bump the version of every map that holds it, so an agent never
 * adopts a pinned map of the old layout. Padding that was always written as
 * zero may become a field whose zero means what the old layout meant: the
 * bytes are the same, an old pin reads right (oak_cfg.ports, oak_ct_val.port).
 *
 * All addresses and ports are in network byte order.
 */
#ifndef OAK_DATAPATH_H
#define OAK_DATAPATH_H

#ifndef __bpf__
#include <linux/types.h>
#endif

#define OAK_TUNNEL_PORT 50103
/* outer IPv4 (20) + UDP (8); the payload is the bare inner IP packet */
#define OAK_TUNNEL_OVERHEAD 28
/* MTU the agent gives instance veths so an encapsulated frame fits 1500 */
#define OAK_INSTANCE_MTU 1450

#define OAK_MAX_BACKENDS    64	   /* instances one Service IP balances over */
#define OAK_SVC_ENTRIES	    131072 /* Service IPs */
#define OAK_BACKEND_ENTRIES 524288 /* backend slots over all Service IPs */
#define OAK_INST_ENTRIES    65536  /* Instance IPs known to a node */
#define OAK_LOCAL_ENTRIES   4096   /* instance veths on one node */
#define OAK_CT_ENTRIES	    262144 /* tracked flows (LRU) */
#define OAK_PORT_ENTRIES    4096   /* host ports exposed on one node */
#define OAK_EVENTS_BYTES    (256 * 1024)

/* Map names (pinned under /sys/fs/bpf/oak/<node-id>/<name>). */
#define OAK_MAP_SVC	"oak_svc_v2"
#define OAK_MAP_BACKEND "oak_backend_v1"
#define OAK_MAP_INST	"oak_inst_v1"
#define OAK_MAP_LOCAL	"oak_local_v1"
#define OAK_MAP_CT	"oak_ct_v1"
#define OAK_MAP_CFG	"oak_cfg_v1"
#define OAK_MAP_STATS	"oak_stats_v2"
#define OAK_MAP_EVENTS	"oak_events_v1"
#define OAK_MAP_MISS	"oak_miss_v1"
#define OAK_MAP_PORT	"oak_port_v1"

enum oak_policy {
	OAK_POLICY_ROUND_ROBIN = 1,
	OAK_POLICY_CLOSEST = 2,
};

/*
 * A Service IP is one oak_svc_v2 entry (its policy and turn) and count
 * oak_backend_v1 entries, slots 1..count.
 */
struct oak_svc_meta {
	__u16 count;	     /* backends in slots 1..count */
	__u16 closest_count; /* slots 1..closest_count share the lowest latency */
	__u8 policy;	     /* enum oak_policy */
	__u8 pad[3];
	__u32 rr_next; /* next turn; advanced atomically per new flow */
	__u32 svc_id;  /* the cluster's id of the service, for logs */
};

struct oak_backend_key {
	__be32 addr; /* Service IP */
	__u16 slot;  /* 1..count */
	__u16 pad;
};

/*
 * Backends are kept sorted by latency_us (unknown, 0, last): the agent writes
 * latencies and the library re-sorts, so the datapath picks the closest in
 * O(1) without a loop over the backends.
 */
struct oak_svc_backend {
	__be32 inst_ip;	  /* Instance IP of the backend */
	__u32 latency_us; /* RTT from this node to the backend's node; 0 = unknown */
};

/*
 * oak_inst_v1: where every Instance IP this node knows of runs. Remote
 * instances are reached through the tunnel to node_ip; local ones through
 * their veth.
 */
#define OAK_INST_F_LOCAL 0x1

struct oak_inst {
	__be32 node_ip;	  /* underlay address of the node that runs it */
	__be32 ns_ip;	  /* address inside its namespace (local only) */
	__u32 ifindex;	  /* host-side veth (local only) */
	__u32 flags;	  /* OAK_INST_F_* */
	__u8 mac[6];	  /* instance-side MAC (local only) */
	__u8 host_mac[6]; /* host-side veth MAC (local only) */
};

/* oak_local_v1: host-side veth ifindex -> the instance behind it. */
struct oak_local {
	__be32 inst_ip;
	__be32 ns_ip;
};

/*
 * oak_ct_v1 (LRU): flows this node translated. A new flow to a Service IP
 * creates two entries: the forward one (client Instance IP -> Service IP)
 * that pins the backend, and the reverse one (backend -> client Instance IP)
 * that restores the Service IP on replies.
 *
 * A flow from outside to an exposed port (oak_port_v1) creates one entry,
 * OAK_CT_PORT: (instance's Instance IP, client, container port, client port)
 * -> the node's address and host port its replies leave from.
 */
#define OAK_CT_FORWARD 0
#define OAK_CT_REVERSE 1
#define OAK_CT_PORT    2

struct oak_ct_key {
	__be32 saddr;
	__be32 daddr;
	__be16 sport; /* ICMP echo: the identifier, in both ports */
	__be16 dport;
	__u8 proto;
	__u8 dir; /* OAK_CT_FORWARD or OAK_CT_REVERSE */
	__u16 pad;
};

struct oak_ct_val {
	__be32 addr; /* forward: backend Instance IP; reverse: the Service IP;
			port: the node's underlay address */
	__be16 port; /* port: the host port; 0 otherwise */
	__u16 pad;
	__u64 last_seen_ns;
};

/* oak_cfg_v1 (array, one entry): this node's datapath settings. */
struct oak_cfg {
	__be32 node_ip;	      /* underlay address, outer source of the tunnel */
	__be32 svc_net;	      /* Service/Instance IP network, 10.30.0.0 */
	__be32 svc_mask;      /* its mask, 255.255.0.0 */
	__u32 uplink_ifindex; /* where tunnelled packets leave */
	__u32 uplink_mtu;
	/*
	 * Entries in oak_port_v1, kept by the library (oak_dp_configure keeps
	 * it too). 0: oak_from_inst and oak_from_uplink skip the port checks.
	 */
	__u32 ports;
};

/*
 * oak_stats_v2 (per-CPU array of OAK_STAT_SLOTS): one counter per verdict.
 * Slots beyond OAK_STAT_MAX are spare, so a new verdict keeps the layout.
 */
#define OAK_STAT_SLOTS 64

enum oak_stat {
	OAK_STAT_TRANSLATED,	 /* forward: Service IP -> backend */
	OAK_STAT_REV_TRANSLATED, /* reply: backend -> Service IP */
	OAK_STAT_NEW_FLOW,	 /* backend picked for a new flow */
	OAK_STAT_REPICK,	 /* pinned backend gone, picked again */
	OAK_STAT_LOCAL,		 /* delivered into a local instance */
	OAK_STAT_ENCAP,		 /* sent through the tunnel */
	OAK_STAT_DECAP_TC,	 /* tunnel header removed at tc ingress */
	OAK_STAT_DECAP_XDP,	 /* tunnel header removed at XDP */
	OAK_STAT_NO_SERVICE,	 /* unknown Service/Instance IP (agent told) */
	OAK_STAT_NO_BACKEND,	 /* service with no live backend */
	OAK_STAT_MALFORMED,	 /* could not be parsed safely: passed untouched */
	OAK_STAT_FRAGMENT,	 /* IP fragment to a Service IP: left to the kernel */
	OAK_STAT_UNSUPPORTED,	 /* protocol oak does not translate: left to the kernel */
	OAK_STAT_SPOOFED,	 /* source is not the instance's own address: dropped */
	OAK_STAT_TOO_BIG,	 /* too large for the tunnel: ICMP frag needed sent */
	OAK_STAT_TOO_BIG_NODF,	 /* too large, DF clear: dropped */
	OAK_STAT_FIB_FAIL,	 /* no route to the peer node */
	OAK_STAT_NEIGH,		 /* next hop unresolved: bpf_redirect_neigh */
	OAK_STAT_PASS,		 /* not oak's traffic */
	OAK_STAT_DROP,		 /* other drops (helper failures) */
	OAK_STAT_PORT_DNAT,	 /* to an exposed host port: DNATed into the instance */
	OAK_STAT_PORT_REPLY,	 /* an exposed port's reply: out of the uplink from the node */
	OAK_STAT_PORT_NO_INST,	 /* exposed port whose instance is not here: dropped */
	OAK_STAT_MAX,
};

#define OAK_STAT_NAMES                                                                             \
	"translated", "rev_translated", "new_flow", "repick", "local", "encap", "decap_tc",        \
	    "decap_xdp", "no_service", "no_backend", "malformed", "fragment", "unsupported",       \
	    "spoofed", "too_big", "too_big_nodf", "fib_fail", "neigh", "pass", "drop",             \
	    "port_dnat", "port_reply", "port_no_inst"

/*
 * oak_port_v1: host ports exposed on this node's underlay address
 * (oak_cfg.node_ip), from an SLA's "port" ("6080:60/tcp"). A TCP or UDP
 * packet from the uplink to node_ip:port goes to the instance's namespace
 * address and container port; its replies leave from node_ip:port.
 */
struct oak_port_key {
	__be16 port; /* host port */
	__u8 proto;  /* IPPROTO_TCP or IPPROTO_UDP */
	__u8 pad;
};

struct oak_port_val {
	__be32 inst_ip; /* a local instance (oak_inst_v1 says where it is) */
	__be16 port;	/* container port */
	__u16 pad;
};

/*
 * oak_events_v1 (ring buffer): the first packet to an unknown address in the
 * service network. The agent answers with a table query to its cluster.
 * oak_miss_v1 (LRU) rate-limits these to one per address per second.
 */
struct oak_event_miss {
	__be32 addr;
	__be32 src_inst;
};

#endif /* OAK_DATAPATH_H */
