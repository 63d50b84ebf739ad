/* MQTT message codecs: each message's field table sits beside its
 * encode/decode functions; the struct itself is in oak/msg.h. */
#include "oak/msg.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jfield.h"

#define SZ(st, m) sizeof(((st *)0)->m)
#define STR(st, key, m, fl)                                                                        \
	{                                                                                          \
		.name = key, .type = JF_STR, .off = offsetof(st, m), .size = SZ(st, m),            \
		.flags = fl                                                                        \
	}
#define NUM(st, key, ty, m, fl, lo, hi)                                                            \
	{                                                                                          \
		.name = key, .type = ty, .off = offsetof(st, m), .flags = fl, .min = lo, .max = hi \
	}
#define BOOL(st, key, m, fl)                                                                       \
	{                                                                                          \
		.name = key, .type = JF_BOOL, .off = offsetof(st, m), .flags = fl                  \
	}
#define TYPED(st, key, ty, m, fl)                                                                  \
	{                                                                                          \
		.name = key, .type = ty, .off = offsetof(st, m), .flags = fl                       \
	}
#define STRV(st, key, m)                                                                           \
	{                                                                                          \
		.name = key, .type = JF_STRV, .off = offsetof(st, m), .max = OAK_SLA_MAX_STRV      \
	}
#define STATE(st, key, m, fl)                                                                      \
	{                                                                                          \
		.name = key, .type = JF_ENUM, .off = offsetof(st, m), .flags = fl,                 \
		.enum_names = state_names, .enum_n = OAK_INSTANCE_STATE_COUNT                      \
	}
#define ARR(st, key, m, cnt, elem, tbl, fl, mx)                                                    \
	{                                                                                          \
		.name = key, .type = JF_ARR, .off = offsetof(st, m), .size = sizeof(elem),         \
		.flags = fl, .max = mx, .sub = &tbl, .count_off = offsetof(st, cnt)                \
	}
#define TABLE(var, what, st, fields, chk)                                                          \
	static const struct jf_table var = {what, fields, JF_COUNT(fields), sizeof(st), false, chk}

#define U32MAX	 4294967295.0
#define I64MAX	 9007199254740991.0
#define ID	 (JF_REQ | JF_ID)
#define REQ	 JF_REQ
#define NONEMPTY (JF_REQ | JF_NONEMPTY)

/* ---- enums and topics ---- */

static const char *const state_names[OAK_INSTANCE_STATE_COUNT] = {
    "CREATING", "CREATED", "RUNNING", "FAILED", "DEAD", "COMPLETED", "UNDEPLOYED",
    "NODE_SCHEDULED",
};

const char *oak_instance_state_name(enum oak_instance_state s)
{
	if ((unsigned)s >= OAK_INSTANCE_STATE_COUNT)
		return "?";
	return state_names[s];
}

int oak_instance_state_parse(const char *s, enum oak_instance_state *out)
{
	for (int i = 0; s && i < OAK_INSTANCE_STATE_COUNT; i++) {
		if (strcmp(s, state_names[i]) == 0) {
			*out = (enum oak_instance_state)i;
			return 0;
		}
	}
	return -1;
}

bool oak_topic_id_valid(const char *id)
{
	size_t n = 0;

	if (!id || !*id)
		return false;
	for (; id[n]; n++)
		if (id[n] == '/' || id[n] == '+' || id[n] == '#' || (unsigned char)id[n] < 0x20)
			return false;
	return n < OAK_ID_LEN || n < OAK_JOB_NAME_LEN;
}

static int topic3(char *buf, size_t len, const char *a, const char *id, const char *suffix)
{
	int n;

	if (!buf || len == 0)
		return -1;
	buf[0] = '\0';
	if (!oak_topic_id_valid(id) || !suffix || !*suffix)
		return -1;
	n = snprintf(buf, len, "%s/%s/%s", a, id, suffix);
	if (n < 0 || (size_t)n >= len) {
		buf[0] = '\0';
		return -1;
	}
	return 0;
}

int oak_topic_node(char *buf, size_t len, const char *node_id, const char *suffix)
{
	return topic3(buf, len, "nodes", node_id, suffix);
}

int oak_topic_cluster(char *buf, size_t len, const char *cluster_id, const char *suffix)
{
	return topic3(buf, len, "clusters", cluster_id, suffix);
}

int oak_topic_job_updates(char *buf, size_t len, const char *job_name)
{
	return topic3(buf, len, "jobs", job_name, "updates_available");
}

int oak_topic_parse(const char *topic, const char *prefix, char *id, size_t idlen,
		    const char **suffix)
{
	size_t pl, n;
	const char *p;

	if (!topic || !prefix || !id || idlen == 0)
		return -1;
	pl = strlen(prefix);
	if (strncmp(topic, prefix, pl) != 0 || topic[pl] != '/')
		return -1;
	p = topic + pl + 1;
	n = strcspn(p, "/");
	if (n == 0 || n >= idlen || p[n] != '/' || !p[n + 1])
		return -1;
	memcpy(id, p, n);
	id[n] = '\0';
	if (suffix)
		*suffix = p + n + 1;
	return 0;
}

/* ---- shared checks ---- */

static bool ip4_in(const char *s, uint32_t net, uint32_t mask)
{
	struct in_addr a;

	if (inet_pton(AF_INET, s, &a) != 1)
		return false;
	return (ntohl(a.s_addr) & mask) == net;
}

static bool ip4_any(const char *s)
{
	struct in_addr a;

	return inet_pton(AF_INET, s, &a) == 1;
}

static bool ip6_any(const char *s)
{
	struct in6_addr a;

	return inet_pton(AF_INET6, s, &a) == 1;
}

enum ipkind { IP_SERVICE, IP_SERVICE6, IP_NS, IP_ANY4, IP_ANY6 };

/* one check entry: empty strings pass (required-ness is the table's job) */
static int check_ip(const char *path, const char *key, const char *val, enum ipkind kind, char *err,
		    size_t errlen)
{
	char p[512];
	bool ok;
	const char *what;

	if (!val[0])
		return 0;
	switch (kind) {
	case IP_SERVICE:
		ok = oak_service_ip_valid(val);
		what = "an IPv4 address inside 10.30.0.0/16";
		break;
	case IP_SERVICE6:
		ok = oak_service_ip6_valid(val);
		what = "an IPv6 address inside fdff::/16";
		break;
	case IP_NS:
		ok = ip4_in(val, 0x0a120000u, 0xffff0000u);
		what = "an IPv4 address inside 10.18.0.0/16";
		break;
	case IP_ANY4:
		ok = ip4_any(val);
		what = "an IPv4 address";
		break;
	default:
		ok = ip6_any(val);
		what = "an IPv6 address";
		break;
	}
	if (ok)
		return 0;
	jf_path_key(p, sizeof(p), path, key);
	jf_err(err, errlen, p, "\"%s\" is not %s", val, what);
	return -1;
}

static int check_job(const char *path, const char *job, char *err, size_t errlen)
{
	char a[OAK_NAME_LEN], b[OAK_NAME_LEN], c[OAK_NAME_LEN], d[OAK_NAME_LEN];
	char p[512];

	if (!job[0] || oak_job_name_split(job, a, b, c, d) == 0)
		return 0;
	jf_path_key(p, sizeof(p), path, "job_name");
	jf_err(err, errlen, p, "\"%s\" is not app.appns.service.servicens", job);
	return -1;
}

#define CHK(x)                                                                                     \
	do {                                                                                       \
		if (x)                                                                             \
			return -1;                                                                 \
	} while (0)

#define DEFINE_CODEC(name, table)                                                                  \
	char *oak_msg_##name##_encode(const struct oak_msg_##name *m)                              \
	{                                                                                          \
		return jf_encode_text(&table, m);                                                  \
	}                                                                                          \
	int oak_msg_##name##_decode(const char *buf, size_t len, struct oak_msg_##name *m,         \
				    char *err, size_t errlen)                                      \
	{                                                                                          \
		return jf_decode_text(&table, buf, len, OAK_MSG_MAX_BYTES, m, err, errlen);        \
	}                                                                                          \
	void oak_msg_##name##_free(struct oak_msg_##name *m)                                       \
	{                                                                                          \
		if (m)                                                                             \
			jf_free(&table, m);                                                        \
	}

/* ---- node_hello ---- */

static int check_node_hello(void *obj, const char *path, char *err, size_t errlen)
{
	struct oak_msg_node_hello *m = obj;

	CHK(check_ip(path, "underlay_ip", m->underlay_ip, IP_ANY4, err, errlen));
	CHK(check_ip(path, "underlay_ip6", m->underlay_ip6, IP_ANY6, err, errlen));
	return 0;
}

#define T struct oak_msg_node_hello
static const struct jf_field node_hello_fields[] = {
    STR(T, "node_id", node_id, ID),
    STR(T, "hostname", hostname, 0),
    STR(T, "underlay_ip", underlay_ip, NONEMPTY),
    STR(T, "underlay_ip6", underlay_ip6, 0),
    NUM(T, "tunnel_port", JF_U32, tunnel_port, 0, 0, 65535),
    STR(T, "architecture", architecture, NONEMPTY),
    TYPED(T, "virtualization", JF_NAMES, virtualization, 0),
    NUM(T, "vcpus", JF_U32, vcpus, 0, 0, 65536),
    NUM(T, "memory_mb", JF_I64, memory_mb, 0, 0, I64MAX),
    NUM(T, "gpus", JF_U32, gpus, 0, 0, 1024),
    TYPED(T, "location", JF_GEO, location, 0),
    STR(T, "version", version, 0),
    STR(T, "boot_id", boot_id, 0),
    STR(T, "subnet", subnet, 0),
    STR(T, "subnet_v6", subnet_v6, 0),
};
#undef T
TABLE(node_hello_table, "node hello", struct oak_msg_node_hello, node_hello_fields,
      check_node_hello);
DEFINE_CODEC(node_hello, node_hello_table)

/* ---- status ---- */

#define T struct oak_msg_status
static const struct jf_field status_fields[] = {
    STR(T, "id", id, ID),
    BOOL(T, "online", online, REQ),
    STR(T, "boot_id", boot_id, 0),
};
#undef T
TABLE(status_table, "status", struct oak_msg_status, status_fields, NULL);
DEFINE_CODEC(status, status_table)

/* ---- node_info ---- */

#define T struct oak_msg_node_info
static const struct jf_field node_info_fields[] = {
    STR(T, "node_id", node_id, ID),
    NUM(T, "timestamp_ms", JF_I64, timestamp_ms, 0, 0, I64MAX),
    NUM(T, "cpu_percent", JF_DBL, cpu_percent, 0, 0, 100),
    NUM(T, "vcpus", JF_U32, vcpus, 0, 0, 65536),
    NUM(T, "vcpus_free", JF_DBL, vcpus_free, 0, 0, 65536),
    NUM(T, "memory", JF_I64, memory_mb, 0, 0, I64MAX),
    NUM(T, "memory_free", JF_I64, memory_free_mb, 0, 0, I64MAX),
    NUM(T, "memory_percent", JF_DBL, memory_percent, 0, 0, 100),
    STR(T, "architecture", architecture, 0),
    TYPED(T, "virtualization", JF_NAMES, virtualization, 0),
    NUM(T, "gpus", JF_U32, gpus, 0, 0, 1024),
    NUM(T, "gpus_free", JF_U32, gpus_free, 0, 0, 1024),
    NUM(T, "gpu_memory", JF_I64, gpu_memory_mb, 0, 0, I64MAX),
    NUM(T, "gpu_percent", JF_DBL, gpu_percent, 0, 0, 100),
    NUM(T, "disk_free", JF_I64, disk_free_mb, 0, 0, I64MAX),
    NUM(T, "instances", JF_U32, instances, 0, 0, U32MAX),
    TYPED(T, "location", JF_GEO, location, 0),
    TYPED(T, "vivaldi", JF_VIVALDI, vivaldi, 0),
};
#undef T
static int check_node_info(void *obj, const char *path, char *err, size_t errlen)
{
	struct oak_msg_node_info *m = obj;
	char p[512];

	if (m->memory_free_mb > m->memory_mb) {
		jf_path_key(p, sizeof(p), path, "memory_free");
		jf_err(err, errlen, p, "exceeds memory");
		return -1;
	}
	if (m->gpus_free > m->gpus) {
		jf_path_key(p, sizeof(p), path, "gpus_free");
		jf_err(err, errlen, p, "exceeds gpus");
		return -1;
	}
	return 0;
}
TABLE(node_info_table, "node report", struct oak_msg_node_info, node_info_fields, check_node_info);
DEFINE_CODEC(node_info, node_info_table)

/* ---- job_usage ---- */

static int check_usage_entry(void *obj, const char *path, char *err, size_t errlen)
{
	return check_job(path, ((struct oak_job_usage_entry *)obj)->job_name, err, errlen);
}

#define T struct oak_job_usage_entry
static const struct jf_field usage_entry_fields[] = {
    STR(T, "job_name", job_name, NONEMPTY),
    STR(T, "service_id", service_id, 0),
    NUM(T, "instance_number", JF_U32, instance_number, 0, 0, U32MAX),
    NUM(T, "cpu_percent", JF_DBL, cpu_percent, 0, 0, 100000),
    NUM(T, "memory", JF_I64, memory_mb, 0, 0, I64MAX),
    NUM(T, "disk", JF_I64, disk_mb, 0, 0, I64MAX),
    NUM(T, "rx_bytes", JF_I64, rx_bytes, 0, 0, I64MAX),
    NUM(T, "tx_bytes", JF_I64, tx_bytes, 0, 0, I64MAX),
    STRV(T, "logs", logs),
};
#undef T
TABLE(usage_entry_table, "job usage", struct oak_job_usage_entry, usage_entry_fields,
      check_usage_entry);

#define T struct oak_msg_job_usage
static const struct jf_field job_usage_fields[] = {
    STR(T, "node_id", node_id, ID),
    NUM(T, "timestamp_ms", JF_I64, timestamp_ms, 0, 0, I64MAX),
    ARR(T, "jobs", jobs, n_jobs, struct oak_job_usage_entry, usage_entry_table, REQ,
	OAK_MSG_MAX_JOBS),
};
#undef T
TABLE(job_usage_table, "job usage report", struct oak_msg_job_usage, job_usage_fields, NULL);
DEFINE_CODEC(job_usage, job_usage_table)

/* ---- instance_state ---- */

static int check_instance_state(void *obj, const char *path, char *err, size_t errlen)
{
	struct oak_msg_instance_state *m = obj;

	CHK(check_job(path, m->job_name, err, errlen));
	CHK(check_ip(path, "instance_ip", m->instance_ip, IP_SERVICE, err, errlen));
	CHK(check_ip(path, "instance_ip_v6", m->instance_ip_v6, IP_SERVICE6, err, errlen));
	CHK(check_ip(path, "namespace_ip", m->namespace_ip, IP_NS, err, errlen));
	CHK(check_ip(path, "namespace_ip_v6", m->namespace_ip_v6, IP_ANY6, err, errlen));
	CHK(check_ip(path, "node_ip", m->node_ip, IP_ANY4, err, errlen));
	return 0;
}

#define T struct oak_msg_instance_state
static const struct jf_field instance_state_fields[] = {
    STR(T, "node_id", node_id, 0),
    STR(T, "cluster_id", cluster_id, 0),
    STR(T, "job_name", job_name, NONEMPTY),
    STR(T, "service_id", service_id, NONEMPTY),
    NUM(T, "instance_number", JF_U32, instance_number, REQ, 0, U32MAX),
    STATE(T, "state", state, REQ),
    STR(T, "instance_ip", instance_ip, 0),
    STR(T, "instance_ip_v6", instance_ip_v6, 0),
    STR(T, "namespace_ip", namespace_ip, 0),
    STR(T, "namespace_ip_v6", namespace_ip_v6, 0),
    STR(T, "reason", reason, 0),
    NUM(T, "exit_code", JF_I32, exit_code, 0, -2147483648.0, 2147483647.0),
    NUM(T, "timestamp_ms", JF_I64, timestamp_ms, 0, 0, I64MAX),
    STR(T, "node_ip", node_ip, 0),
    NUM(T, "node_port", JF_U32, node_port, 0, 0, 65535),
};
#undef T
TABLE(instance_state_table, "instance state", struct oak_msg_instance_state, instance_state_fields,
      check_instance_state);
DEFINE_CODEC(instance_state, instance_state_table)

/* ---- deploy (cluster -> node) ---- */

static int check_service_addrs(const char *path, const char *iip, const char *iip6, const char *rr,
			       const char *cl, const char *rr6, const char *cl6, char *err,
			       size_t errlen)
{
	CHK(check_ip(path, "instance_ip", iip, IP_SERVICE, err, errlen));
	CHK(check_ip(path, "instance_ip_v6", iip6, IP_SERVICE6, err, errlen));
	CHK(check_ip(path, "rr_ip", rr, IP_SERVICE, err, errlen));
	CHK(check_ip(path, "closest_ip", cl, IP_SERVICE, err, errlen));
	CHK(check_ip(path, "rr_ip_v6", rr6, IP_SERVICE6, err, errlen));
	CHK(check_ip(path, "closest_ip_v6", cl6, IP_SERVICE6, err, errlen));
	return 0;
}

static int check_deploy(void *obj, const char *path, char *err, size_t errlen)
{
	struct oak_msg_deploy *m = obj;

	CHK(check_job(path, m->job_name, err, errlen));
	return check_service_addrs(path, m->instance_ip, m->instance_ip_v6, m->rr_ip, m->closest_ip,
				   m->rr_ip_v6, m->closest_ip_v6, err, errlen);
}

#define T struct oak_msg_deploy
static const struct jf_field deploy_fields[] = {
    STR(T, "service_id", service_id, NONEMPTY),
    STR(T, "job_name", job_name, NONEMPTY),
    NUM(T, "instance_number", JF_U32, instance_number, REQ, 0, U32MAX),
    STR(T, "instance_ip", instance_ip, NONEMPTY),
    STR(T, "instance_ip_v6", instance_ip_v6, 0),
    STR(T, "rr_ip", rr_ip, 0),
    STR(T, "closest_ip", closest_ip, 0),
    STR(T, "rr_ip_v6", rr_ip_v6, 0),
    STR(T, "closest_ip_v6", closest_ip_v6, 0),
    STR(T, "runtime", runtime, NONEMPTY),
    STR(T, "code", code, NONEMPTY),
    STRV(T, "cmd", cmd),
    STRV(T, "args", args),
    STRV(T, "environment", env),
    STRV(T, "added_files", added_files),
    STR(T, "port", port, 0),
    NUM(T, "memory", JF_I64, memory_mb, 0, 0, I64MAX),
    NUM(T, "vcpus", JF_DBL, vcpus, 0, 0, 4096),
    NUM(T, "vgpus", JF_U32, vgpus, 0, 0, 1024),
    BOOL(T, "one_shot", one_shot, 0),
    BOOL(T, "privileged", privileged, 0),
};
#undef T
TABLE(deploy_table, "deploy", struct oak_msg_deploy, deploy_fields, check_deploy);
DEFINE_CODEC(deploy, deploy_table)

/* ---- delete ---- */

static int check_delete(void *obj, const char *path, char *err, size_t errlen)
{
	return check_job(path, ((struct oak_msg_delete *)obj)->job_name, err, errlen);
}

#define T struct oak_msg_delete
static const struct jf_field delete_fields[] = {
    STR(T, "service_id", service_id, 0),
    STR(T, "job_name", job_name, NONEMPTY),
    NUM(T, "instance_number", JF_U32, instance_number, REQ, 0, U32MAX),
};
#undef T
TABLE(delete_table, "delete", struct oak_msg_delete, delete_fields, check_delete);
DEFINE_CODEC(delete, delete_table)

/* ---- subnet ---- */

static int check_cidr4(const char *path, const char *key, const char *val, char *err, size_t errlen)
{
	char ip[OAK_CIDR_LEN], p[512];
	const char *slash = strchr(val, '/');
	char *end;
	long bits;
	struct in_addr a;

	if (!val[0])
		return 0;
	if (slash && (size_t)(slash - val) < sizeof(ip)) {
		memcpy(ip, val, (size_t)(slash - val));
		ip[slash - val] = '\0';
		bits = strtol(slash + 1, &end, 10);
		if (*end == '\0' && end != slash + 1 && bits >= 16 && bits <= 32 &&
		    inet_pton(AF_INET, ip, &a) == 1 &&
		    (ntohl(a.s_addr) & 0xffff0000u) == 0x0a120000u &&
		    (ntohl(a.s_addr) & ((1u << (32 - bits)) - 1u)) == 0)
			return 0;
	}
	jf_path_key(p, sizeof(p), path, key);
	jf_err(err, errlen, p, "\"%s\" is not a network prefix inside 10.18.0.0/16", val);
	return -1;
}

static int check_cidr6(const char *path, const char *key, const char *val, char *err, size_t errlen)
{
	char ip[OAK_CIDR_LEN], p[512];
	const char *slash = strchr(val, '/');
	char *end;
	long bits;
	struct in6_addr a;

	if (!val[0])
		return 0;
	if (slash && (size_t)(slash - val) < sizeof(ip)) {
		memcpy(ip, val, (size_t)(slash - val));
		ip[slash - val] = '\0';
		bits = strtol(slash + 1, &end, 10);
		if (*end == '\0' && end != slash + 1 && bits >= 7 && bits <= 128 &&
		    inet_pton(AF_INET6, ip, &a) == 1)
			return 0;
	}
	jf_path_key(p, sizeof(p), path, key);
	jf_err(err, errlen, p, "\"%s\" is not an IPv6 prefix", val);
	return -1;
}

static int check_subnet(void *obj, const char *path, char *err, size_t errlen)
{
	struct oak_msg_subnet *m = obj;

	CHK(check_cidr4(path, "subnet", m->subnet, err, errlen));
	return check_cidr6(path, "subnet_v6", m->subnet_v6, err, errlen);
}

#define T struct oak_msg_subnet
static const struct jf_field subnet_fields[] = {
    STR(T, "node_id", node_id, ID),
    STR(T, "cluster_id", cluster_id, 0),
    STR(T, "subnet", subnet, NONEMPTY),
    STR(T, "subnet_v6", subnet_v6, 0),
};
#undef T
TABLE(subnet_table, "subnet", struct oak_msg_subnet, subnet_fields, check_subnet);
DEFINE_CODEC(subnet, subnet_table)

static int check_subnet_request(void *obj, const char *path, char *err, size_t errlen)
{
	return check_cidr4(path, "previous", ((struct oak_msg_subnet_request *)obj)->previous, err,
			   errlen);
}

#define T struct oak_msg_subnet_request
static const struct jf_field subnet_request_fields[] = {
    STR(T, "cluster_id", cluster_id, ID),
    STR(T, "node_id", node_id, ID),
    STR(T, "previous", previous, 0),
};
#undef T
TABLE(subnet_request_table, "subnet request", struct oak_msg_subnet_request, subnet_request_fields,
      check_subnet_request);
DEFINE_CODEC(subnet_request, subnet_request_table)

/* ---- table query / service table ---- */

static int check_table_query(void *obj, const char *path, char *err, size_t errlen)
{
	struct oak_msg_table_query *m = obj;
	char p[512];

	if (!m->service_ip[0] && !m->job_name[0]) {
		jf_path_key(p, sizeof(p), path, "service_ip");
		jf_err(err, errlen, p, "a query needs service_ip or job_name");
		return -1;
	}
	if (m->service_ip[0] && !oak_service_ip_valid(m->service_ip) &&
	    !oak_service_ip6_valid(m->service_ip)) {
		jf_path_key(p, sizeof(p), path, "service_ip");
		jf_err(err, errlen, p, "\"%s\" is not a Service IP (10.30.0.0/16, fdff::/16)",
		       m->service_ip);
		return -1;
	}
	return check_job(path, m->job_name, err, errlen);
}

#define T struct oak_msg_table_query
static const struct jf_field table_query_fields[] = {
    STR(T, "node_id", node_id, ID),
    STR(T, "cluster_id", cluster_id, 0),
    STR(T, "service_ip", service_ip, 0),
    STR(T, "job_name", job_name, 0),
};
#undef T
TABLE(table_query_table, "table query", struct oak_msg_table_query, table_query_fields,
      check_table_query);
DEFINE_CODEC(table_query, table_query_table)

static int check_table_instance(void *obj, const char *path, char *err, size_t errlen)
{
	struct oak_table_instance *m = obj;

	CHK(check_ip(path, "instance_ip", m->instance_ip, IP_SERVICE, err, errlen));
	CHK(check_ip(path, "instance_ip_v6", m->instance_ip_v6, IP_SERVICE6, err, errlen));
	CHK(check_ip(path, "node_ip", m->node_ip, IP_ANY4, err, errlen));
	CHK(check_ip(path, "namespace_ip", m->namespace_ip, IP_NS, err, errlen));
	CHK(check_ip(path, "namespace_ip_v6", m->namespace_ip_v6, IP_ANY6, err, errlen));
	return 0;
}

#define T struct oak_table_instance
static const struct jf_field table_instance_fields[] = {
    NUM(T, "instance_number", JF_U32, instance_number, 0, 0, U32MAX),
    STR(T, "instance_ip", instance_ip, NONEMPTY),
    STR(T, "instance_ip_v6", instance_ip_v6, 0),
    STR(T, "node_id", node_id, ID),
    STR(T, "node_ip", node_ip, NONEMPTY),
    NUM(T, "node_port", JF_U32, node_port, 0, 0, 65535),
    STR(T, "cluster_id", cluster_id, 0),
    STR(T, "namespace_ip", namespace_ip, 0),
    STR(T, "namespace_ip_v6", namespace_ip_v6, 0),
    STATE(T, "state", state, REQ),
};
#undef T
TABLE(table_instance_table, "table instance", struct oak_table_instance, table_instance_fields,
      check_table_instance);

static int check_service_table(void *obj, const char *path, char *err, size_t errlen)
{
	struct oak_msg_service_table *m = obj;
	char p[512];

	/* not found: the job name or the address asked for, as asked */
	if (m->found && !m->job_name[0]) {
		jf_path_key(p, sizeof(p), path, "job_name");
		jf_err(err, errlen, p, "required when found is true");
		return -1;
	}
	if (m->job_name[0]) {
		CHK(check_job(path, m->job_name, err, errlen));
	} else if (!m->query_ip[0]) {
		jf_path_key(p, sizeof(p), path, "job_name");
		jf_err(err, errlen, p, "job_name or query_ip required");
		return -1;
	}
	CHK(check_service_addrs(path, "", "", m->rr_ip, m->closest_ip, m->rr_ip_v6,
				m->closest_ip_v6, err, errlen));
	if (!m->found && m->n_instances) {
		jf_path_key(p, sizeof(p), path, "instances");
		jf_err(err, errlen, p, "must be empty when found is false");
		return -1;
	}
	return 0;
}

#define T struct oak_msg_service_table
static const struct jf_field service_table_fields[] = {
    STR(T, "job_name", job_name, 0),
    STR(T, "service_id", service_id, 0),
    STR(T, "query_ip", query_ip, 0),
    BOOL(T, "found", found, REQ),
    STR(T, "rr_ip", rr_ip, 0),
    STR(T, "closest_ip", closest_ip, 0),
    STR(T, "rr_ip_v6", rr_ip_v6, 0),
    STR(T, "closest_ip_v6", closest_ip_v6, 0),
    ARR(T, "instances", instances, n_instances, struct oak_table_instance, table_instance_table,
	REQ, OAK_MSG_MAX_INSTANCES),
};
#undef T
TABLE(service_table_table, "service table", struct oak_msg_service_table, service_table_fields,
      check_service_table);
DEFINE_CODEC(service_table, service_table_table)

/* ---- net_service, interest ---- */

static int check_net_service(void *obj, const char *path, char *err, size_t errlen)
{
	struct oak_msg_net_service *m = obj;

	CHK(check_job(path, m->job_name, err, errlen));
	CHK(check_ip(path, "instance_ip", m->instance_ip, IP_SERVICE, err, errlen));
	CHK(check_ip(path, "namespace_ip", m->namespace_ip, IP_NS, err, errlen));
	return check_ip(path, "namespace_ip_v6", m->namespace_ip_v6, IP_ANY6, err, errlen);
}

#define T struct oak_msg_net_service
static const struct jf_field net_service_fields[] = {
    STR(T, "node_id", node_id, ID),
    STR(T, "job_name", job_name, NONEMPTY),
    STR(T, "service_id", service_id, 0),
    NUM(T, "instance_number", JF_U32, instance_number, 0, 0, U32MAX),
    STR(T, "instance_ip", instance_ip, 0),
    STR(T, "namespace_ip", namespace_ip, 0),
    STR(T, "namespace_ip_v6", namespace_ip_v6, 0),
};
#undef T
TABLE(net_service_table, "net service", struct oak_msg_net_service, net_service_fields,
      check_net_service);
DEFINE_CODEC(net_service, net_service_table)

static int check_interest(void *obj, const char *path, char *err, size_t errlen)
{
	return check_job(path, ((struct oak_msg_interest *)obj)->job_name, err, errlen);
}

#define T struct oak_msg_interest
static const struct jf_field interest_fields[] = {
    STR(T, "node_id", node_id, ID),
    STR(T, "job_name", job_name, NONEMPTY),
};
#undef T
TABLE(interest_table, "interest", struct oak_msg_interest, interest_fields, check_interest);
DEFINE_CODEC(interest, interest_table)

/* ---- cluster <-> root ---- */

#define T struct oak_msg_cluster_hello
static const struct jf_field cluster_hello_fields[] = {
    STR(T, "cluster_id", cluster_id, ID),
    STR(T, "name", name, 0),
    STR(T, "operator", operator_name, 0),
    TYPED(T, "location", JF_GEO, location, 0),
    NUM(T, "radius_km", JF_DBL, radius_km, 0, 0, 40075),
    STR(T, "version", version, 0),
    STR(T, "boot_id", boot_id, 0),
};
#undef T
TABLE(cluster_hello_table, "cluster hello", struct oak_msg_cluster_hello, cluster_hello_fields,
      NULL);
DEFINE_CODEC(cluster_hello, cluster_hello_table)

static int check_cluster_info(void *obj, const char *path, char *err, size_t errlen)
{
	struct oak_msg_cluster_info *m = obj;
	char p[512];
	const char *bad = NULL;

	if (m->vcpus_free > m->vcpus_total)
		bad = "vcpus_free";
	else if (m->memory_free_mb > m->memory_total_mb)
		bad = "memory_free";
	else if (m->gpus_free > m->gpus_total)
		bad = "gpus_free";
	if (!bad)
		return 0;
	jf_path_key(p, sizeof(p), path, bad);
	jf_err(err, errlen, p, "exceeds the total");
	return -1;
}

#define T struct oak_msg_cluster_info
static const struct jf_field cluster_info_fields[] = {
    STR(T, "cluster_id", cluster_id, ID),
    NUM(T, "timestamp_ms", JF_I64, timestamp_ms, 0, 0, I64MAX),
    NUM(T, "active_nodes", JF_U32, active_nodes, 0, 0, U32MAX),
    NUM(T, "vcpus_total", JF_DBL, vcpus_total, 0, 0, 1e9),
    NUM(T, "vcpus_free", JF_DBL, vcpus_free, 0, 0, 1e9),
    NUM(T, "memory_total", JF_I64, memory_total_mb, 0, 0, I64MAX),
    NUM(T, "memory_free", JF_I64, memory_free_mb, 0, 0, I64MAX),
    NUM(T, "gpus_total", JF_U32, gpus_total, 0, 0, U32MAX),
    NUM(T, "gpus_free", JF_U32, gpus_free, 0, 0, U32MAX),
    TYPED(T, "virtualization", JF_NAMES, virtualization, 0),
    TYPED(T, "arch", JF_NAMES, arch, 0),
    TYPED(T, "location", JF_GEO, location, 0),
    NUM(T, "radius_km", JF_DBL, radius_km, 0, 0, 40075),
};
#undef T
TABLE(cluster_info_table, "cluster report", struct oak_msg_cluster_info, cluster_info_fields,
      check_cluster_info);
DEFINE_CODEC(cluster_info, cluster_info_table)

int oak_msg_cluster_deploy_service(const struct oak_msg_cluster_deploy *m, struct oak_service *out,
				   char *err, size_t errlen)
{
	char app[OAK_NAME_LEN], appns[OAK_NAME_LEN], svc[OAK_NAME_LEN], svcns[OAK_NAME_LEN];

	memset(out, 0, sizeof(*out));
	if (oak_job_name_split(m->job_name, app, appns, svc, svcns)) {
		jf_err(err, errlen, "job_name", "\"%s\" is not app.appns.service.servicens",
		       m->job_name);
		return -1;
	}
	if (oak_service_from_json(m->service, app, appns, "service", out, err, errlen))
		return -1;
	if (strcmp(out->job_name, m->job_name) != 0) {
		jf_err(err, errlen, "service", "names %s, but job_name is %s", out->job_name,
		       m->job_name);
		oak_service_free(out);
		return -1;
	}
	return 0;
}

static int check_cluster_deploy(void *obj, const char *path, char *err, size_t errlen)
{
	struct oak_msg_cluster_deploy *m = obj;
	struct oak_service svc;

	CHK(check_job(path, m->job_name, err, errlen));
	CHK(check_service_addrs(path, m->instance_ip, m->instance_ip_v6, m->rr_ip, m->closest_ip,
				m->rr_ip_v6, m->closest_ip_v6, err, errlen));
	CHK(oak_msg_cluster_deploy_service(m, &svc, err, errlen));
	oak_service_free(&svc);
	return 0;
}

#define T struct oak_msg_cluster_deploy
static const struct jf_field cluster_deploy_fields[] = {
    STR(T, "service_id", service_id, NONEMPTY),
    STR(T, "job_name", job_name, NONEMPTY),
    NUM(T, "instance_number", JF_U32, instance_number, REQ, 0, U32MAX),
    STR(T, "instance_ip", instance_ip, NONEMPTY),
    STR(T, "instance_ip_v6", instance_ip_v6, 0),
    STR(T, "rr_ip", rr_ip, 0),
    STR(T, "closest_ip", closest_ip, 0),
    STR(T, "rr_ip_v6", rr_ip_v6, 0),
    STR(T, "closest_ip_v6", closest_ip_v6, 0),
    TYPED(T, "service", JF_JSON, service, REQ),
};
#undef T
TABLE(cluster_deploy_table, "cluster deploy", struct oak_msg_cluster_deploy, cluster_deploy_fields,
      check_cluster_deploy);
DEFINE_CODEC(cluster_deploy, cluster_deploy_table)

static int check_undeploy(void *obj, const char *path, char *err, size_t errlen)
{
	return check_job(path, ((struct oak_msg_cluster_undeploy *)obj)->job_name, err, errlen);
}

#define T struct oak_msg_cluster_undeploy
static const struct jf_field cluster_undeploy_fields[] = {
    STR(T, "service_id", service_id, NONEMPTY),
    STR(T, "job_name", job_name, NONEMPTY),
    NUM(T, "instance_number", JF_I32, instance_number, REQ, -1, 2147483647.0),
};
#undef T
TABLE(cluster_undeploy_table, "cluster undeploy", struct oak_msg_cluster_undeploy,
      cluster_undeploy_fields, check_undeploy);
DEFINE_CODEC(cluster_undeploy, cluster_undeploy_table)

static int check_scale(void *obj, const char *path, char *err, size_t errlen)
{
	return check_job(path, ((struct oak_msg_cluster_scale *)obj)->job_name, err, errlen);
}

#define T struct oak_msg_cluster_scale
static const struct jf_field cluster_scale_fields[] = {
    STR(T, "service_id", service_id, NONEMPTY),
    STR(T, "job_name", job_name, NONEMPTY),
    NUM(T, "replicas", JF_U32, replicas, REQ, 0, 100000),
};
#undef T
TABLE(cluster_scale_table, "cluster scale", struct oak_msg_cluster_scale, cluster_scale_fields,
      check_scale);
DEFINE_CODEC(cluster_scale, cluster_scale_table)
