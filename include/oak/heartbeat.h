/* The node heartbeat: a small UDP datagram oak-node sends to oak-cluster
 * every heartbeat_interval (default 1 s), so that the cluster learns of a
 * dead or cut-off node within node_timeout (default 3 s) without the node
 * publishing an MQTT message every second. Liveness only: the resource
 * reports, instance states and the last will stay on MQTT.
 *
 * Wire format (all integers big-endian), at most OAK_HB_MAX bytes:
 *   0  magic      0xA5 'o' 'h' 'b'
 *   4  version    1
 *   5  flags      bit 0: the id below is truncated
 *   6  id_len     bytes of id that follow (<= OAK_HB_ID_MAX)
 *   7  reserved   0
 *   8  seq        u32, +1 per datagram, per agent start
 *  12  boot_hash  u64, FNV-1a of the agent's boot_id
 *  20  id_hash    u64, FNV-1a of the full node id (the id itself may be
 *                 truncated to fit: it is there for people reading tcpdump)
 *  28  id         id_len bytes, no NUL
 *
 * Not authenticated: anyone who can reach the cluster's heartbeat port and
 * knows a node's id and boot_id can keep that node "alive". The boot_id is
 * not secret but changes on every agent start. */
#ifndef OAK_HEARTBEAT_H
#define OAK_HEARTBEAT_H

#include <stddef.h>
#include <stdint.h>

#define OAK_HB_PORT	 50104
#define OAK_HB_MAX	 64
#define OAK_HB_HDR	 28
#define OAK_HB_ID_MAX	 (OAK_HB_MAX - OAK_HB_HDR)
#define OAK_HB_VERSION	 1
#define OAK_HB_TRUNCATED 0x01

struct oak_hb {
	uint32_t seq;
	uint64_t boot_hash;
	uint64_t id_hash;
	char id[OAK_HB_ID_MAX + 1]; /* NUL-terminated, maybe a prefix */
	int truncated;
};

/* 64-bit FNV-1a of a NUL-terminated string */
uint64_t oak_hb_hash(const char *s);
/* Writes the datagram for node_id/boot_id/seq into buf (>= OAK_HB_MAX);
 * returns its length, or -1 for an empty id. */
int oak_hb_encode(uint8_t *buf, size_t cap, const char *node_id, const char *boot_id, uint32_t seq);
/* 0 and *out filled, or -1 when buf is not a heartbeat (wrong magic,
 * version, length). */
int oak_hb_decode(const uint8_t *buf, size_t len, struct oak_hb *out);

#endif
