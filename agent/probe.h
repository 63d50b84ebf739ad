/* SPDX-License-Identifier: MIT */
/*
 * Peer-node latency probes: small UDP datagrams between the nodes' underlay
 * addresses on the tunnel port. The uplink's tc/XDP program only consumes
 * UDP:50103 datagrams whose payload starts like an IPv4 header (high nibble
 * 4); a probe starts with 0xA5, so the program passes it to the stack and
 * the agent's socket, bound to node_ip:50103, gets it.
 *
 * Per peer the agent keeps the last few RTT samples and uses their median
 * (robust to a sample that waited for an idle CPU to wake), and moves its
 * own Vivaldi coordinate towards each replying peer's (replies carry the
 * responder's coordinate). No I/O beyond the socket; nothing is logged.
 *
 * Not including msg.h: its struct oak_vivaldi (sla.h) and the scheduler's
 * differ, and only this file's .c sees the scheduler's.
 */
#ifndef OAK_AGENT_PROBE_H
#define OAK_AGENT_PROBE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define OAK_PROBE_PORT	  50103 /* OAK_TUNNEL_PORT */
#define OAK_PROBE_LEN	  40	/* bytes on the wire */
#define OAK_PROBE_SAMPLES 7	/* samples per peer the median is taken over */
#define OAK_PROBE_LOST	  3	/* unanswered probes in a row: the peer's RTT is unknown */

enum oak_probe_type {
	OAK_PROBE_REQUEST = 1,
	OAK_PROBE_REPLY = 2,
};

/* A Vivaldi coordinate as it travels and as the node reports it (ms). */
struct oak_probe_coord {
	double x, y, h, err;
};

struct oak_probe_msg {
	uint8_t type; /* enum oak_probe_type */
	uint32_t seq;
	uint64_t sent_ns;	      /* the requester's clock, echoed in the reply */
	struct oak_probe_coord coord; /* the sender's coordinate */
};

/* Wire codec: big-endian, magic 0xA5 'o' 'a' 'k', version 1. Decode returns
 * 0, or -1 for anything that is not a probe of this version. */
void oak_probe_encode(const struct oak_probe_msg *m, uint8_t out[OAK_PROBE_LEN]);
int oak_probe_decode(const uint8_t *buf, size_t len, struct oak_probe_msg *m);

/*
 * The latency to write for a remote backend (µs): rtt rounded up to a
 * multiple of res, so that peers closer together than res tie (and share
 * flows round-robin); cur, the value written before, is kept while rtt stays
 * within its step widened by max(res/4, cur/8), so jitter at a step's edge
 * does not rewrite maps. 0 (unknown) when rtt is 0.
 */
uint32_t oak_probe_latency_next(uint32_t cur, uint32_t rtt, uint32_t res);

/* Median of a peer's samples (µs): pure, for tests. 0 when n == 0. */
uint32_t oak_probe_median(const uint32_t *samples, size_t n);

enum oak_peer_state {
	OAK_PEER_UNKNOWN = 0, /* not measured since this agent started */
	OAK_PEER_OK,
	OAK_PEER_LOST, /* measured before, OAK_PROBE_LOST probes unanswered since */
};

struct oak_probe;

/* Socket bound to self_ip:OAK_PROBE_PORT (network order). seed: for the
 * Vivaldi start point, different per node. Returns NULL with errno. */
struct oak_probe *oak_probe_new(uint32_t self_ip, uint64_t seed);
void oak_probe_free(struct oak_probe *p);
int oak_probe_fd(const struct oak_probe *p);

/* Mark and sweep the peers to probe: begin, want() each, end drops the
 * rest. A new peer is probed at the next oak_probe_send_due(). */
void oak_probe_want_begin(struct oak_probe *p);
void oak_probe_want(struct oak_probe *p, uint32_t ip);
void oak_probe_want_end(struct oak_probe *p);

/* Probe every peer whose last probe is interval_ms old. */
void oak_probe_send_due(struct oak_probe *p, int64_t now_ms, int64_t interval_ms);
/* Read every pending datagram: answer requests, take samples from
 * replies. Returns how many samples were taken. */
int oak_probe_recv(struct oak_probe *p);

/* The peer's RTT estimate in µs (>= 1) and its state; 0 if not OK. */
uint32_t oak_probe_rtt_us(const struct oak_probe *p, uint32_t ip, enum oak_peer_state *state);
/* Own coordinate; false while no peer has answered yet. */
bool oak_probe_coord(const struct oak_probe *p, struct oak_probe_coord *out);

/* Iterate peers for logs: index i from 0 while it returns true. */
bool oak_probe_peer_at(const struct oak_probe *p, size_t i, uint32_t *ip, uint32_t *rtt_us,
		       enum oak_peer_state *state);

#endif
