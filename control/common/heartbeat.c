/* The node heartbeat datagram; see include/oak/heartbeat.h. */
#include "oak/heartbeat.h"

#include <string.h>

static const uint8_t hb_magic[4] = {0xa5, 'o', 'h', 'b'};

uint64_t oak_hb_hash(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (; s && *s; s++) {
		h ^= (uint8_t)*s;
		h *= 0x100000001b3ull;
	}
	return h;
}

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (24 - 8 * i));
}

static void put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (56 - 8 * i));
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint64_t get64(const uint8_t *p)
{
	return (uint64_t)get32(p) << 32 | get32(p + 4);
}

int oak_hb_encode(uint8_t *buf, size_t cap, const char *node_id, const char *boot_id, uint32_t seq)
{
	size_t idl = node_id ? strlen(node_id) : 0, n = idl;

	if (!idl || cap < OAK_HB_MAX)
		return -1;
	if (n > OAK_HB_ID_MAX)
		n = OAK_HB_ID_MAX;
	memcpy(buf, hb_magic, 4);
	buf[4] = OAK_HB_VERSION;
	buf[5] = n < idl ? OAK_HB_TRUNCATED : 0;
	buf[6] = (uint8_t)n;
	buf[7] = 0;
	put32(buf + 8, seq);
	put64(buf + 12, oak_hb_hash(boot_id));
	put64(buf + 20, oak_hb_hash(node_id));
	memcpy(buf + OAK_HB_HDR, node_id, n);
	return (int)(OAK_HB_HDR + n);
}

int oak_hb_decode(const uint8_t *buf, size_t len, struct oak_hb *out)
{
	size_t n;

	if (len < OAK_HB_HDR || len > OAK_HB_MAX || memcmp(buf, hb_magic, 4) ||
	    buf[4] != OAK_HB_VERSION)
		return -1;
	n = buf[6];
	if (!n || n > OAK_HB_ID_MAX || len != OAK_HB_HDR + n)
		return -1;
	memset(out, 0, sizeof(*out));
	out->seq = get32(buf + 8);
	out->boot_hash = get64(buf + 12);
	out->id_hash = get64(buf + 20);
	memcpy(out->id, buf + OAK_HB_HDR, n);
	if (memchr(out->id, '\0', n))
		return -1;
	out->truncated = (buf[5] & OAK_HB_TRUNCATED) != 0;
	return 0;
}
