/* oak-cluster's addresses: the node subnet block handed out as /26s and
 * the Instance IPs of 10.30.0.0/16 it allocates; see cluster.h. Pure. */
#include "cluster.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static uint32_t ip4h(const char *s)
{
	struct in_addr a;

	if (!s || !*s || inet_pton(AF_INET, s, &a) != 1)
		return 0;
	return ntohl(a.s_addr);
}

static void ip4str(uint32_t h, char *out)
{
	struct in_addr a = {.s_addr = htonl(h)};

	inet_ntop(AF_INET, &a, out, OAK_IP4_LEN);
}

/* ------------------------------------------------------------ subnets */

static int parse_cidr(const char *cidr, uint32_t *base, unsigned *prefix)
{
	char a[OAK_CIDR_LEN], *slash, *end;
	unsigned long p;

	if (!cidr || strlen(cidr) >= sizeof(a))
		return -1;
	strcpy(a, cidr);
	slash = strchr(a, '/');
	if (!slash)
		return -1;
	*slash = '\0';
	p = strtoul(slash + 1, &end, 10);
	if (*end || p > 32 || !slash[1])
		return -1;
	*base = ip4h(a);
	*prefix = (unsigned)p;
	return *base ? 0 : -1;
}

int ocl_subnets_init(struct ocl_subnets *s, const char *block)
{
	uint32_t base;
	unsigned prefix;

	memset(s, 0, sizeof(*s));
	if (parse_cidr(block, &base, &prefix) || prefix < 16 || prefix > 26)
		return -1;
	if ((base & 0xffff0000u) != 0x0a120000u) /* 10.18.0.0/16 */
		return -1;
	if (base & ((1u << (32 - prefix)) - 1))
		return -1; /* host bits set */
	s->base = base;
	s->prefix = prefix;
	s->count = (size_t)1 << (26 - prefix);
	s->owner = calloc(s->count, sizeof(*s->owner));
	return s->owner ? 0 : -1;
}

void ocl_subnets_free(struct ocl_subnets *s)
{
	free(s->owner);
	memset(s, 0, sizeof(*s));
}

static void slot_str(const struct ocl_subnets *s, size_t i, char *out)
{
	char a[OAK_IP4_LEN];

	ip4str(s->base + (uint32_t)(i * 64), a);
	snprintf(out, OAK_CIDR_LEN, "%s/26", a);
}

/* slot index of a "x/26" inside the block, or -1 */
static long slot_of(const struct ocl_subnets *s, const char *cidr)
{
	uint32_t b;
	unsigned p;

	if (!cidr || !*cidr || parse_cidr(cidr, &b, &p) || p != 26 || (b & 63))
		return -1;
	if (b < s->base || b - s->base >= s->count * 64)
		return -1;
	return (long)((b - s->base) / 64);
}

int ocl_subnet_assign(struct ocl_subnets *s, const char *node_id, const char *wanted, char *out)
{
	long w;

	if (!s->owner || !node_id || !*node_id)
		return -1;
	for (size_t i = 0; i < s->count; i++)
		if (!strcmp(s->owner[i], node_id)) {
			slot_str(s, i, out);
			return 0;
		}
	w = slot_of(s, wanted);
	if (w >= 0 && !s->owner[w][0]) {
		snprintf(s->owner[w], OAK_ID_LEN, "%s", node_id);
		slot_str(s, (size_t)w, out);
		return 0;
	}
	for (size_t i = 0; i < s->count; i++)
		if (!s->owner[i][0]) {
			snprintf(s->owner[i], OAK_ID_LEN, "%s", node_id);
			slot_str(s, i, out);
			return 0;
		}
	return -1;
}

int ocl_subnet_claim(struct ocl_subnets *s, const char *node_id, const char *cidr)
{
	long w = slot_of(s, cidr);

	if (w < 0 || !node_id || !*node_id)
		return -1;
	if (s->owner[w][0] && strcmp(s->owner[w], node_id))
		return -1;
	for (size_t i = 0; i < s->count; i++)
		if (!strcmp(s->owner[i], node_id))
			s->owner[i][0] = '\0';
	snprintf(s->owner[w], OAK_ID_LEN, "%s", node_id);
	return 0;
}

int ocl_subnet_release(struct ocl_subnets *s, const char *node_id)
{
	for (size_t i = 0; i < s->count; i++)
		if (!strcmp(s->owner[i], node_id)) {
			s->owner[i][0] = '\0';
			return 0;
		}
	return -1;
}

const char *ocl_subnet_owner(const struct ocl_subnets *s, const char *cidr)
{
	long w = s->owner ? slot_of(s, cidr) : -1;

	return w >= 0 && s->owner[w][0] ? s->owner[w] : NULL;
}

bool ocl_subnet_valid(const char *cidr)
{
	uint32_t b;
	unsigned p;

	return cidr && !parse_cidr(cidr, &b, &p) && p == 26 && !(b & 63) &&
	       (b & 0xffff0000u) == 0x0a120000u;
}

/* ------------------------------------------------------------ Instance IPs */

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

int ocl_ip_alloc(const uint32_t *used, size_t n_used, uint32_t *cursor, uint32_t *out)
{
	const uint32_t base = 0x0a1e0000u; /* 10.30.0.0/16 */
	uint32_t *sorted = NULL;
	uint32_t start = *cursor;

	if (n_used) {
		sorted = malloc(n_used * sizeof(*sorted));
		if (!sorted)
			return -1;
		memcpy(sorted, used, n_used * sizeof(*sorted));
		qsort(sorted, n_used, sizeof(*sorted), cmp_u32);
	}
	if ((start & 0xffff0000u) != base)
		start = base;
	for (uint32_t k = 1; k <= 0x10000u; k++) {
		uint32_t a = base | ((start - base + k) & 0xffffu), lo = a & 0xff;

		if (lo == 0 || lo == 255)
			continue;
		if (sorted && bsearch(&a, sorted, n_used, sizeof(a), cmp_u32))
			continue;
		*cursor = a;
		*out = a;
		free(sorted);
		return 0;
	}
	free(sorted);
	return -1;
}

size_t ocl_used_ips(const struct ocl_cluster *c, uint32_t **out)
{
	size_t n = 0, cap = 64;
	uint32_t *v = malloc(cap * sizeof(*v));

#define PUSH(str)                                                                                  \
	do {                                                                                       \
		uint32_t a_ = ip4h(str);                                                           \
		if (!a_)                                                                           \
			break;                                                                     \
		if (n == cap) {                                                                    \
			uint32_t *nv_ = realloc(v, cap * 2 * sizeof(*v));                          \
			if (!nv_) {                                                                \
				free(v);                                                           \
				*out = NULL;                                                       \
				return 0;                                                          \
			}                                                                          \
			v = nv_;                                                                   \
			cap *= 2;                                                                  \
		}                                                                                  \
		v[n++] = a_;                                                                       \
	} while (0)

	if (!v) {
		*out = NULL;
		return 0;
	}
	for (size_t i = 0; i < c->n_svcs; i++) {
		const struct ocl_service *s = c->svcs[i];

		PUSH(s->rr_ip);
		PUSH(s->closest_ip);
		for (size_t k = 0; k < s->n_inst; k++)
			PUSH(s->inst[k].instance_ip);
		for (size_t k = 0; k < s->remote_table.n_instances; k++)
			PUSH(s->remote_table.instances[k].instance_ip);
		if (s->spec) { /* Instance IPs the SLA asked for */
			json_t *insts = json_object_get(json_object_get(s->spec, "addresses"),
							"instances"),
			       *e;
			size_t idx;

			json_array_foreach(insts, idx, e)
			    PUSH(json_string_value(json_object_get(e, "instance_ip")));
		}
	}
#undef PUSH
	*out = v;
	return n;
}

int ocl_alloc_instance_ip(struct ocl_cluster *c, char *out)
{
	uint32_t *used, a;
	size_t n = ocl_used_ips(c, &used);
	int r = ocl_ip_alloc(used, n, &c->ip_cursor, &a);

	free(used);
	if (r)
		return -1;
	ip4str(a, out);
	return 0;
}
