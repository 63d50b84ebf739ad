/* addresses.h: the address plan as claims in the store. Service IPs and
 * Instance IPs are claims in namespace "ip" (key: the dotted address),
 * node-subnet blocks claims in namespace "subnet" (key: "10.18.x.y/26"). */
#include "addresses.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "store.h"
#include "oak/log.h"

#define SERVICE_NET	 0x0a1e0000u /* 10.30.0.0/16 */
#define SUBNET_NET	 0x0a120000u /* 10.18.0.0/16 */
#define SUBNET_BLOCKS	 1024u	     /* /26 blocks in a /16 */
#define SUBNET_BLOCK_LEN 64u

static void ip_text(uint32_t a, char out[16])
{
	snprintf(out, 16, "%u.%u.%u.%u", a >> 24, (a >> 16) & 0xff, (a >> 8) & 0xff, a & 0xff);
}

static void block_text(uint32_t i, char out[20])
{
	uint32_t a = SUBNET_NET + i * SUBNET_BLOCK_LEN;

	snprintf(out, 20, "%u.%u.%u.%u/26", a >> 24, (a >> 16) & 0xff, (a >> 8) & 0xff, a & 0xff);
}

bool root_addr_is_service_range(const char *ip)
{
	struct in_addr a;

	if (!ip || inet_pton(AF_INET, ip, &a) != 1)
		return false;
	return (ntohl(a.s_addr) & 0xffff0000u) == SERVICE_NET;
}

int root_addr_claim_ip(struct root_store *s, const char *ip, const char *owner)
{
	if (!root_addr_is_service_range(ip))
		return -1;
	return root_store_claim(s, "ip", ip, owner);
}

/* Next fit: the search starts after the address handed out last (in this
 * process), so the k-th allocation does not query the k-1 taken before it
 * (10,000 instances cost 50 million claim lookups lowest-first); freed
 * addresses come back once the search wraps. */
int root_addr_alloc_ip(struct root_store *s, const char *owner, char out[16])
{
	static uint32_t next = 1;

	for (uint32_t i = 0; i < 0xffffu; i++) {
		uint32_t h = 1 + (next - 1 + i) % 0xffffu; /* 1 .. 0xffff */
		char ip[16];
		int rc;

		if ((h & 0xff) == 0 || (h & 0xff) == 0xff)
			continue;
		ip_text(SERVICE_NET | h, ip);
		rc = root_store_claim_owner(s, "ip", ip, NULL, 0);
		if (rc == 0)
			continue;
		if (rc != ROOT_STORE_NOTFOUND)
			return -1;
		if (root_store_claim(s, "ip", ip, owner))
			return -1;
		memcpy(out, ip, 16);
		next = h + 1;
		return 0;
	}
	oak_log(ERROR, "address plan: 10.30.0.0/16 is full");
	return -1;
}

/* block index of "10.18.x.y/26", or -1 */
static long block_index(const char *cidr)
{
	char ip[16];
	const char *slash;
	struct in_addr a;
	uint32_t v;

	if (!cidr || !(slash = strchr(cidr, '/')) || strcmp(slash, "/26") ||
	    (size_t)(slash - cidr) >= sizeof(ip))
		return -1;
	memcpy(ip, cidr, (size_t)(slash - cidr));
	ip[slash - cidr] = '\0';
	if (inet_pton(AF_INET, ip, &a) != 1)
		return -1;
	v = ntohl(a.s_addr);
	if ((v & 0xffff0000u) != SUBNET_NET || (v & (SUBNET_BLOCK_LEN - 1)))
		return -1;
	return (long)((v - SUBNET_NET) / SUBNET_BLOCK_LEN);
}

int root_addr_alloc_subnet(struct root_store *s, const char *owner, const char *prefer,
			   char out[20])
{
	char key[20], held[512];
	long first_free = -1;
	long p = block_index(prefer);

	if (p >= 0) {
		int rc;

		block_text((uint32_t)p, key);
		rc = root_store_claim(s, "subnet", key, owner);

		if (rc == 0) {
			memcpy(out, key, 20);
			return 0;
		}
		if (rc < 0)
			return -1;
	}
	/* the block owner already holds, else the first free one */
	for (uint32_t i = 0; i < SUBNET_BLOCKS; i++) {
		int rc;

		block_text(i, key);
		rc = root_store_claim_owner(s, "subnet", key, held, sizeof(held));
		if (rc == ROOT_STORE_NOTFOUND) {
			if (first_free < 0)
				first_free = (long)i;
			continue;
		}
		if (rc)
			return -1;
		if (!strcmp(held, owner)) {
			memcpy(out, key, 20);
			return 0;
		}
	}
	if (first_free < 0) {
		oak_log(ERROR, "address plan: no free /26 left in 10.18.0.0/16");
		return -1;
	}
	block_text((uint32_t)first_free, key);
	if (root_store_claim(s, "subnet", key, owner))
		return -1;
	memcpy(out, key, 20);
	return 0;
}
