/* Oakestra SLA v2.0 parser and validator. The accepted shape is the
 * field tables below; anything else (unknown key, wrong type, bad name,
 * address outside the service range) is rejected with the field's path. */
#include "oak/sla.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "jfield.h"

#define I64_MAX 9007199254740991.0 /* 2^53-1: exact in a double and in JSON */

static const char *const constraint_names[] = {"direct", "geo", "latency", "clusters", "addons"};
static const char *const con_names[] = {"latency", "bandwidth"};

const char *oak_constraint_type_name(enum oak_constraint_type t)
{
	if ((size_t)t >= JF_COUNT(constraint_names))
		return "?";
	return constraint_names[t];
}

bool oak_sla_name_valid(const char *name)
{
	size_t n = 0;

	if (!name)
		return false;
	for (; name[n]; n++)
		if (!isascii((unsigned char)name[n]) || !isalnum((unsigned char)name[n]))
			return false;
	return n >= 1 && n <= 30;
}

bool oak_service_ip_valid(const char *ip)
{
	struct in_addr a;

	if (!ip || inet_pton(AF_INET, ip, &a) != 1)
		return false;
	return (ntohl(a.s_addr) & 0xffff0000u) == 0x0a1e0000u; /* 10.30.0.0/16 */
}

bool oak_service_ip6_valid(const char *ip)
{
	struct in6_addr a;

	if (!ip || inet_pton(AF_INET6, ip, &a) != 1)
		return false;
	return a.s6_addr[0] == 0xfd && a.s6_addr[1] == 0xff; /* fdff::/16 */
}

int oak_job_name(char *buf, size_t len, const char *app, const char *appns, const char *svc,
		 const char *svcns)
{
	int n;

	if (!buf || len == 0)
		return -1;
	buf[0] = '\0';
	if (!oak_sla_name_valid(app) || !oak_sla_name_valid(appns) || !oak_sla_name_valid(svc) ||
	    !oak_sla_name_valid(svcns))
		return -1;
	n = snprintf(buf, len, "%s.%s.%s.%s", app, appns, svc, svcns);
	if (n < 0 || (size_t)n >= len) {
		buf[0] = '\0';
		return -1;
	}
	return 0;
}

int oak_job_name_split(const char *job, char app[OAK_NAME_LEN], char appns[OAK_NAME_LEN],
		       char svc[OAK_NAME_LEN], char svcns[OAK_NAME_LEN])
{
	char *out[4] = {app, appns, svc, svcns};
	const char *p = job;

	if (!job)
		return -1;
	for (int i = 0; i < 4; i++) {
		size_t n = strcspn(p, ".");

		if (n == 0 || n >= OAK_NAME_LEN)
			return -1;
		memcpy(out[i], p, n);
		out[i][n] = '\0';
		if (!oak_sla_name_valid(out[i]))
			return -1;
		p += n;
		if (i < 3) {
			if (*p != '.')
				return -1;
			p++;
		}
	}
	return *p ? -1 : 0;
}

/* "lat,lon" */
static int parse_location(const char *s, struct oak_geo *g)
{
	char *end;
	double lat, lon;

	errno = 0;
	lat = strtod(s, &end);
	if (end == s || errno)
		return -1;
	while (*end == ' ')
		end++;
	if (*end != ',')
		return -1;
	s = end + 1;
	lon = strtod(s, &end);
	if (end == s || errno)
		return -1;
	while (*end == ' ')
		end++;
	if (*end || !(lat >= -90 && lat <= 90) || !(lon >= -180 && lon <= 180))
		return -1;
	g->lat = lat;
	g->lon = lon;
	g->set = true;
	return 0;
}

static int check_constraint(void *obj, const char *path, char *err, size_t errlen)
{
	struct oak_constraint *c = obj;
	char p[512];

	if (c->location[0]) {
		jf_path_key(p, sizeof(p), path, "location");
		if (parse_location(c->location, &c->geo)) {
			jf_err(err, errlen, p,
			       "must be \"lat,lon\" with lat -90..90, lon -180..180");
			return -1;
		}
	}
	switch (c->type) {
	case OAK_CONSTRAINT_DIRECT:
		if (!c->cluster[0] && !c->node[0]) {
			jf_path_key(p, sizeof(p), path, "cluster");
			jf_err(err, errlen, p, "a direct constraint needs \"cluster\" or \"node\"");
			return -1;
		}
		break;
	case OAK_CONSTRAINT_GEO:
		if (!c->geo.set) {
			jf_path_key(p, sizeof(p), path, "location");
			jf_err(err, errlen, p, "a geo constraint needs \"location\"");
			return -1;
		}
		break;
	case OAK_CONSTRAINT_LATENCY:
		if (c->threshold <= 0) {
			jf_path_key(p, sizeof(p), path, "threshold");
			jf_err(err, errlen, p, "a latency constraint needs a threshold > 0 (ms)");
			return -1;
		}
		break;
	case OAK_CONSTRAINT_CLUSTERS:
		if (!c->cluster[0]) {
			jf_path_key(p, sizeof(p), path, "cluster");
			jf_err(err, errlen, p, "a clusters constraint needs \"cluster\"");
			return -1;
		}
		break;
	case OAK_CONSTRAINT_ADDONS:
		break;
	}
	return 0;
}

#define F(key, ty, st, m, fl)                                                                      \
	{                                                                                          \
		.name = key, .type = ty, .off = offsetof(st, m), .size = sizeof(((st *)0)->m),     \
		.flags = fl                                                                        \
	}
#define FN(key, ty, st, m, fl, lo, hi)                                                             \
	{                                                                                          \
		.name = key, .type = ty, .off = offsetof(st, m), .flags = fl, .min = lo, .max = hi \
	}

static const struct jf_field constraint_fields[] = {
    {"type", JF_ENUM, offsetof(struct oak_constraint, type), 0, JF_REQ, 0, 0, NULL, 0,
     constraint_names, JF_COUNT(constraint_names)},
    F("cluster", JF_STR, struct oak_constraint, cluster, 0),
    F("node", JF_STR, struct oak_constraint, node, 0),
    F("location", JF_STR, struct oak_constraint, location, 0),
    F("area", JF_STR, struct oak_constraint, area, 0),
    FN("threshold", JF_DBL, struct oak_constraint, threshold, 0, 0, 1e12),
    FN("rigidness", JF_DBL, struct oak_constraint, rigidness, 0, 0, 1e12),
    FN("convergence_time", JF_I64, struct oak_constraint, convergence_time, 0, 0, I64_MAX),
};
static const struct jf_table constraint_table = {
    "constraint", constraint_fields, JF_COUNT(constraint_fields), sizeof(struct oak_constraint),
    true,	  check_constraint};

static const struct jf_field con_fields[] = {
    {"type", JF_ENUM, offsetof(struct oak_con_constraint, type), 0, JF_REQ, 0, 0, NULL, 0,
     con_names, JF_COUNT(con_names)},
    FN("threshold", JF_DBL, struct oak_con_constraint, threshold, JF_REQ, 0, 1e12),
    FN("rigidness", JF_DBL, struct oak_con_constraint, rigidness, JF_REQ, 0, 1e12),
    FN("convergence_time", JF_I64, struct oak_con_constraint, convergence_time, JF_REQ, 0, I64_MAX),
};
static const struct jf_table con_table = {"con_constraint",
					  con_fields,
					  JF_COUNT(con_fields),
					  sizeof(struct oak_con_constraint),
					  true,
					  NULL};

static const struct jf_field connectivity_fields[] = {
    F("target_microservice_id", JF_STR, struct oak_connectivity, target_microservice_id, JF_REQ),
    {"con_constraints", JF_ARR, offsetof(struct oak_connectivity, con),
     sizeof(struct oak_con_constraint), JF_REQ, 0, OAK_SLA_MAX_CONSTRAINTS, &con_table,
     offsetof(struct oak_connectivity, n_con), NULL, 0},
};
static const struct jf_table connectivity_table = {"connectivity",
						   connectivity_fields,
						   JF_COUNT(connectivity_fields),
						   sizeof(struct oak_connectivity),
						   true,
						   NULL};

static int check_addr_instance(void *obj, const char *path, char *err, size_t errlen)
{
	struct oak_addr_instance *in = obj;
	char p[512];

	if (in->instance_ip[0] && !oak_service_ip_valid(in->instance_ip)) {
		jf_path_key(p, sizeof(p), path, "instance_ip");
		jf_err(err, errlen, p, "must be an IPv4 address inside 10.30.0.0/16");
		return -1;
	}
	if (in->instance_ip_v6[0] && !oak_service_ip6_valid(in->instance_ip_v6)) {
		jf_path_key(p, sizeof(p), path, "instance_ip_v6");
		jf_err(err, errlen, p, "must be an IPv6 address inside fdff::/16");
		return -1;
	}
	return 0;
}

static const struct jf_field addr_instance_fields[] = {
    FN("instance_number", JF_I32, struct oak_addr_instance, instance_number, 0, 0, 1000000),
    F("instance_ip", JF_STR, struct oak_addr_instance, instance_ip, 0),
    F("instance_ip_v6", JF_STR, struct oak_addr_instance, instance_ip_v6, 0),
    F("from", JF_STR, struct oak_addr_instance, from, 0),
    F("to", JF_STR, struct oak_addr_instance, to, 0),
    F("start", JF_STR, struct oak_addr_instance, start, 0),
};
static const struct jf_table addr_instance_table = {"instance",
						    addr_instance_fields,
						    JF_COUNT(addr_instance_fields),
						    sizeof(struct oak_addr_instance),
						    true,
						    check_addr_instance};

static int check_addresses(void *obj, const char *path, char *err, size_t errlen)
{
	struct oak_addresses *a = obj;
	const struct {
		const char *key;
		const char *val;
		bool v6;
	} ips[] = {
	    {"rr_ip", a->rr_ip, false},
	    {"closest_ip", a->closest_ip, false},
	    {"rr_ip_v6", a->rr_ip_v6, true},
	    {"closest_ip_v6", a->closest_ip_v6, true},
	};
	char p[512];

	for (size_t i = 0; i < JF_COUNT(ips); i++) {
		if (!ips[i].val[0])
			continue;
		if (ips[i].v6 ? oak_service_ip6_valid(ips[i].val)
			      : oak_service_ip_valid(ips[i].val))
			continue;
		jf_path_key(p, sizeof(p), path, ips[i].key);
		jf_err(err, errlen, p, "\"%s\" is not an %s", ips[i].val,
		       ips[i].v6 ? "IPv6 address inside fdff::/16"
				 : "IPv4 address inside 10.30.0.0/16");
		return -1;
	}
	if (a->rr_ip[0] && strcmp(a->rr_ip, a->closest_ip) == 0) {
		jf_path_key(p, sizeof(p), path, "closest_ip");
		jf_err(err, errlen, p, "must differ from rr_ip");
		return -1;
	}
	return 0;
}

static const struct jf_field addresses_fields[] = {
    F("rr_ip", JF_STR, struct oak_addresses, rr_ip, 0),
    F("closest_ip", JF_STR, struct oak_addresses, closest_ip, 0),
    F("rr_ip_v6", JF_STR, struct oak_addresses, rr_ip_v6, 0),
    F("closest_ip_v6", JF_STR, struct oak_addresses, closest_ip_v6, 0),
    {"instances", JF_ARR, offsetof(struct oak_addresses, instances),
     sizeof(struct oak_addr_instance), 0, 0, OAK_SLA_MAX_INSTANCES, &addr_instance_table,
     offsetof(struct oak_addresses, n_instances), NULL, 0},
};
static const struct jf_table addresses_table = {
    "addresses", addresses_fields, JF_COUNT(addresses_fields), sizeof(struct oak_addresses),
    true,	 check_addresses};

/* "6080:60/tcp;53:53/udp" or "80" */
static bool port_spec_valid(const char *s)
{
	if (!*s)
		return true;
	for (;;) {
		const char *end = s + strcspn(s, ";");
		unsigned long p;
		char *e;
		int ports = 0;

		while (s < end) {
			if (!isdigit((unsigned char)*s))
				return false;
			p = strtoul(s, &e, 10);
			if (p == 0 || p > 65535 || e > end)
				return false;
			ports++;
			s = e;
			if (*s == ':' && ports == 1 && s + 1 < end) {
				s++;
				continue;
			}
			if (*s == '/') {
				size_t n = (size_t)(end - s - 1);

				if (!((n == 3 && (strncmp(s + 1, "tcp", 3) == 0 ||
						  strncmp(s + 1, "udp", 3) == 0)) ||
				      (n == 4 && strncmp(s + 1, "sctp", 4) == 0)))
					return false;
				s = end;
			}
			if (s != end)
				return false;
		}
		if (ports == 0)
			return false;
		if (!*end)
			return true;
		s = end + 1;
	}
}

/* microservice strings without a length limit (URLs): key, offset, required */
static const struct {
	const char *key;
	size_t off;
	bool required;
} service_long_strings[] = {
    {"code", offsetof(struct oak_service, code), true},
    {"state", offsetof(struct oak_service, state), false},
    {"target_node", offsetof(struct oak_service, target_node), false},
    {"sla_violation_strategy", offsetof(struct oak_service, sla_violation_strategy), false},
};

static const char *type_name(const json_t *v)
{
	static const char *const names[] = {
	    [JSON_OBJECT] = "object",	[JSON_ARRAY] = "array", [JSON_STRING] = "string",
	    [JSON_INTEGER] = "integer", [JSON_REAL] = "number", [JSON_TRUE] = "boolean",
	    [JSON_FALSE] = "boolean",	[JSON_NULL] = "null"};

	return names[json_typeof(v)];
}

static bool service_key_known(const char *key);

/* The long strings point into raw (held by the service); unknown keys are
 * refused here since the table is not strict (and before any field is
 * decoded, by unknown_keys(), so a misspelled field is named as such). */
static int service_strings(struct oak_service *svc, const char *path, char *err, size_t errlen)
{
	const char *key;
	json_t *v;
	char p[512];

	json_object_foreach(svc->raw, key, v)
	{
		if (!service_key_known(key)) {
			jf_path_key(p, sizeof(p), path, key);
			jf_err(err, errlen, p, "unknown field");
			return -1;
		}
	}
	for (size_t i = 0; i < JF_COUNT(service_long_strings); i++) {
		const char **dst = (const char **)((char *)svc + service_long_strings[i].off);

		*dst = "";
		v = json_object_get(svc->raw, service_long_strings[i].key);
		jf_path_key(p, sizeof(p), path, service_long_strings[i].key);
		if (!v) {
			if (service_long_strings[i].required) {
				jf_err(err, errlen, p, "missing required field");
				return -1;
			}
			continue;
		}
		if (!json_is_string(v)) {
			jf_err(err, errlen, p, "expected string, got %s", type_name(v));
			return -1;
		}
		if (strlen(json_string_value(v)) != json_string_length(v)) {
			jf_err(err, errlen, p, "contains a NUL character");
			return -1;
		}
		*dst = json_string_value(v);
	}
	return 0;
}

static int check_service(void *obj, const char *path, char *err, size_t errlen)
{
	struct oak_service *svc = obj;
	char p[512];

	if (service_strings(svc, path, err, errlen))
		return -1;

	if (!svc->virtualization[0]) {
		jf_path_key(p, sizeof(p), path, "virtualization");
		jf_err(err, errlen, p, "must not be empty");
		return -1;
	}
	if (!svc->code[0]) {
		jf_path_key(p, sizeof(p), path, "code");
		jf_err(err, errlen, p, "must not be empty");
		return -1;
	}
	if (!port_spec_valid(svc->port)) {
		jf_path_key(p, sizeof(p), path, "port");
		jf_err(err, errlen, p,
		       "\"%s\" is not \"host:container[/tcp|udp|sctp]\" separated by ';'",
		       svc->port);
		return -1;
	}
	for (size_t i = 0; i < svc->environment.n; i++) {
		const char *e = svc->environment.v[i];
		char q[512];

		if (!strchr(e, '=') || e[0] == '=') {
			jf_path_key(q, sizeof(q), path, "environment");
			jf_path_idx(p, sizeof(p), q, i);
			jf_err(err, errlen, p, "must be \"KEY=VALUE\"");
			return -1;
		}
	}
	return 0;
}

#define MS(name, type, member, fl)	    F(name, type, struct oak_service, member, fl)
#define MSN(name, type, member, fl, lo, hi) FN(name, type, struct oak_service, member, fl, lo, hi)
#define MS_STRV(name, member)                                                                      \
	{                                                                                          \
		name, JF_STRV, offsetof(struct oak_service, member), 0, 0, 0, OAK_SLA_MAX_STRV,    \
		    NULL, 0, NULL, 0                                                               \
	}

static const struct jf_field service_fields[] = {
    MS("microserviceID", JF_STR, microservice_id, 0),
    MS("microservice_name", JF_NAME, name, JF_REQ),
    MS("microservice_namespace", JF_NAME, ns, JF_REQ),
    MS("virtualization", JF_STR, virtualization, JF_REQ),
    MSN("memory", JF_I64, res.memory_mb, 0, 0, 1 << 30),
    MSN("vcpus", JF_DBL, res.vcpus, 0, 0, 4096),
    MSN("vgpus", JF_I64, res.vgpus, 0, 0, 1024),
    MSN("vtpus", JF_I64, res.vtpus, 0, 0, 1024),
    MSN("storage", JF_I64, res.storage_mb, 0, 0, I64_MAX),
    MSN("bandwidth_in", JF_I64, res.bandwidth_in_kbps, 0, 0, I64_MAX),
    MSN("bandwidth_out", JF_I64, res.bandwidth_out_kbps, 0, 0, I64_MAX),
    MS_STRV("cmd", cmd),
    MS_STRV("environment", environment),
    MS_STRV("args", args),
    MS_STRV("added_files", added_files),
    MS("port", JF_STR, port, 0),
    MS("one_shot", JF_BOOL, one_shot, 0),
    MS("privileged", JF_BOOL, privileged, 0),
    MS("arch", JF_NAMES, arch, 0),
    {"addresses", JF_OBJ, offsetof(struct oak_service, addresses), 0, 0, 0, 0, &addresses_table, 0,
     NULL, 0},
    {"constraints", JF_ARR, offsetof(struct oak_service, constraints),
     sizeof(struct oak_constraint), 0, 0, OAK_SLA_MAX_CONSTRAINTS, &constraint_table,
     offsetof(struct oak_service, n_constraints), NULL, 0},
    {"connectivity", JF_ARR, offsetof(struct oak_service, connectivity),
     sizeof(struct oak_connectivity), 0, 0, OAK_SLA_MAX_CONNECTIVITY, &connectivity_table,
     offsetof(struct oak_service, n_connectivity), NULL, 0},
    {NULL, JF_SELF, offsetof(struct oak_service, raw), 0, 0, 0, 0, NULL, 0, NULL, 0},
};
/* Not strict in jf_decode: the string fields of any length below are read
 * from raw by check_service, which refuses unknown keys itself. */
static const struct jf_table service_table = {
    "microservice", service_fields, JF_COUNT(service_fields), sizeof(struct oak_service),
    false,	    check_service};

static int check_app(void *obj, const char *path, char *err, size_t errlen)
{
	struct oak_app *app = obj;
	char p[512], q[512];

	for (size_t i = 0; i < app->n_services; i++) {
		struct oak_service *svc = &app->services[i];

		if (oak_job_name(svc->job_name, sizeof(svc->job_name), app->name, app->ns,
				 svc->name, svc->ns)) {
			jf_path_key(q, sizeof(q), path, "microservices");
			jf_path_idx(p, sizeof(p), q, i);
			jf_err(err, errlen, p, "cannot form a job name");
			return -1;
		}
		if (svc->microservice_id[0]) {
			jf_path_key(q, sizeof(q), path, "microservices");
			jf_path_idx(p, sizeof(p), q, i);
			jf_path_key(q, sizeof(q), p, "microserviceID");
			jf_err(err, errlen, q, "must be empty: the root assigns service ids");
			return -1;
		}
		for (size_t k = 0; k < i; k++) {
			if (strcmp(app->services[k].job_name, svc->job_name) == 0) {
				jf_path_key(q, sizeof(q), path, "microservices");
				jf_path_idx(p, sizeof(p), q, i);
				jf_err(err, errlen, p, "duplicate service %s.%s (also at [%zu])",
				       svc->name, svc->ns, k);
				return -1;
			}
		}
	}
	return 0;
}

static const struct jf_field app_fields[] = {
    F("applicationID", JF_STR, struct oak_app, application_id, 0),
    F("application_name", JF_NAME, struct oak_app, name, JF_REQ),
    F("application_namespace", JF_NAME, struct oak_app, ns, JF_REQ),
    F("application_desc", JF_STR, struct oak_app, desc, 0),
    {"microservices", JF_ARR, offsetof(struct oak_app, services), sizeof(struct oak_service),
     JF_REQ, 0, OAK_SLA_MAX_SERVICES, &service_table, offsetof(struct oak_app, n_services), NULL,
     0},
};
static const struct jf_table app_table = {"application",	  app_fields, JF_COUNT(app_fields),
					  sizeof(struct oak_app), true,	      check_app};

static int check_sla(void *obj, const char *path, char *err, size_t errlen)
{
	struct oak_sla *sla = obj;

	if (strcmp(sla->sla_version, "v2.0") != 0) {
		jf_err(err, errlen, "sla_version", "\"%s\" is not supported (expected \"v2.0\")",
		       sla->sla_version);
		return -1;
	}
	for (size_t i = 0; i < sla->n_apps; i++) {
		for (size_t k = 0; k < i; k++) {
			if (strcmp(sla->apps[i].name, sla->apps[k].name) == 0 &&
			    strcmp(sla->apps[i].ns, sla->apps[k].ns) == 0) {
				char p[64];

				snprintf(p, sizeof(p), "applications[%zu]", i);
				jf_err(err, errlen, p, "duplicate application %s.%s",
				       sla->apps[i].name, sla->apps[i].ns);
				return -1;
			}
		}
	}
	return 0;
}

static const struct jf_field sla_fields[] = {
    F("sla_version", JF_STR, struct oak_sla, sla_version, JF_REQ),
    F("customerID", JF_STR, struct oak_sla, customer_id, JF_REQ),
    {"applications", JF_ARR, offsetof(struct oak_sla, apps), sizeof(struct oak_app), JF_REQ, 0,
     OAK_SLA_MAX_APPS, &app_table, offsetof(struct oak_sla, n_apps), NULL, 0},
    {"args", JF_STRV, offsetof(struct oak_sla, args), 0, 0, 0, OAK_SLA_MAX_STRV, NULL, 0, NULL, 0},
};
static const struct jf_table sla_table = {
    "sla", sla_fields, JF_COUNT(sla_fields), sizeof(struct oak_sla), true, check_sla};

/* An unknown key of a microservice object into err (-1), else 0. */
static int unknown_key(json_t *obj, const char *path, char *err, size_t errlen)
{
	const char *key;
	json_t *v;
	char p[512];

	json_object_foreach(obj, key, v)
	{
		if (!service_key_known(key)) {
			jf_path_key(p, sizeof(p), path, key);
			jf_err(err, errlen, p, "unknown field");
			return -1;
		}
	}
	return 0;
}

static int unknown_keys(json_t *root, char *err, size_t errlen)
{
	size_t i, k;
	json_t *app, *ms;
	char p[128];

	json_array_foreach(json_object_get(root, "applications"), i, app)
	{
		json_array_foreach(json_object_get(app, "microservices"), k, ms)
		{
			snprintf(p, sizeof(p), "applications[%zu].microservices[%zu]", i, k);
			if (json_is_object(ms) && unknown_key(ms, p, err, errlen))
				return -1;
		}
	}
	return 0;
}

int oak_sla_from_json(json_t *root, struct oak_sla **out, char *err, size_t errlen)
{
	struct oak_sla *sla;

	if (err && errlen)
		err[0] = '\0';
	*out = NULL;
	sla = calloc(1, sizeof(*sla));
	if (!sla) {
		jf_err(err, errlen, "", "out of memory");
		return -1;
	}
	if (unknown_keys(root, err, errlen) || jf_decode(&sla_table, root, sla, "", err, errlen)) {
		free(sla);
		return -1;
	}
	*out = sla;
	return 0;
}

int oak_sla_parse(const char *json, size_t len, struct oak_sla **out, char *err, size_t errlen)
{
	json_error_t jerr;
	json_t *root;
	int rc;

	*out = NULL;
	if (!json) {
		jf_err(err, errlen, "payload", "missing");
		return -1;
	}
	if (len > OAK_SLA_MAX_BYTES) {
		jf_err(err, errlen, "payload", "%zu bytes exceeds the limit of %d", len,
		       OAK_SLA_MAX_BYTES);
		return -1;
	}
	root = json_loadb(json, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root) {
		jf_err(err, errlen, "payload", "invalid JSON at line %d column %d: %s", jerr.line,
		       jerr.column, jerr.text);
		return -1;
	}
	rc = oak_sla_from_json(root, out, err, errlen);
	json_decref(root);
	return rc;
}

void oak_sla_free(struct oak_sla *sla)
{
	if (!sla)
		return;
	jf_free(&sla_table, sla);
	free(sla);
}

int oak_service_from_json(json_t *obj, const char *app, const char *appns, const char *path,
			  struct oak_service *out, char *err, size_t errlen)
{
	memset(out, 0, sizeof(*out));
	if ((json_is_object(obj) && unknown_key(obj, path ? path : "", err, errlen)) ||
	    jf_decode(&service_table, obj, out, path ? path : "", err, errlen))
		return -1;
	if (oak_job_name(out->job_name, sizeof(out->job_name), app, appns, out->name, out->ns)) {
		jf_err(err, errlen, path, "cannot form a job name from application %s.%s",
		       app ? app : "(null)", appns ? appns : "(null)");
		oak_service_free(out);
		return -1;
	}
	return 0;
}

static bool service_key_known(const char *key)
{
	for (size_t i = 0; key && i < JF_COUNT(service_fields); i++)
		if (service_fields[i].name && !strcmp(service_fields[i].name, key))
			return true;
	for (size_t i = 0; key && i < JF_COUNT(service_long_strings); i++)
		if (!strcmp(service_long_strings[i].key, key))
			return true;
	return false;
}

bool oak_sla_service_key(const char *key)
{
	return service_key_known(key);
}

void oak_service_free(struct oak_service *svc)
{
	if (svc)
		jf_free(&service_table, svc);
}
