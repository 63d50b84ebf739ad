#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "oak/sla.h"

static char *slurp(const char *name, size_t *len)
{
	char path[512];
	FILE *f;
	char *buf;
	long n;

	snprintf(path, sizeof(path), "%s/sla/%s", OAK_TEST_DATA, name);
	f = fopen(path, "rb");
	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t)n + 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	*len = (size_t)n;
	return buf;
}

static int parse_file(const char *name, struct oak_sla **sla, char *err, size_t errlen)
{
	size_t len;
	char *buf = slurp(name, &len);
	int rc = oak_sla_parse(buf, len, sla, err, errlen);

	free(buf);
	return rc;
}

static void test_clientserver(void **state)
{
	struct oak_sla *sla;
	char err[512] = "";
	struct oak_service *curl, *nginx;

	(void)state;
	assert_int_equal(parse_file("clientserver.json", &sla, err, sizeof(err)), 0);
	assert_string_equal(sla->sla_version, "v2.0");
	assert_string_equal(sla->customer_id, "Admin");
	assert_int_equal(sla->n_apps, 1);
	assert_string_equal(sla->apps[0].name, "clientserver");
	assert_string_equal(sla->apps[0].ns, "test");
	assert_int_equal(sla->apps[0].n_services, 2);
	curl = &sla->apps[0].services[0];
	nginx = &sla->apps[0].services[1];
	assert_string_equal(curl->job_name, "clientserver.test.curl.test");
	assert_string_equal(nginx->job_name, "clientserver.test.nginx.test");
	assert_int_equal(curl->cmd.n, 3);
	assert_string_equal(curl->cmd.v[0], "sh");
	assert_string_equal(curl->code, "docker.io/curlimages/curl:7.82.0");
	assert_int_equal(curl->res.memory_mb, 100);
	assert_true(curl->res.vcpus == 1.0);
	assert_string_equal(nginx->port, "6080:60/tcp");
	assert_string_equal(nginx->addresses.rr_ip, "10.30.30.30");
	assert_string_equal(nginx->addresses.closest_ip, "");
	assert_string_equal(nginx->virtualization, "container");
	assert_non_null(nginx->raw);
	assert_string_equal(json_string_value(json_object_get(nginx->raw, "code")),
			    "docker.io/library/nginx:latest");
	oak_sla_free(sla);
}

static void test_full(void **state)
{
	struct oak_sla *sla;
	char err[512] = "";
	struct oak_service *s;
	size_t len;
	char *text;
	json_t *orig;

	(void)state;
	assert_int_equal(parse_file("full.json", &sla, err, sizeof(err)), 0);
	s = &sla->apps[0].services[1];
	assert_int_equal(s->environment.n, 2);
	assert_string_equal(s->environment.v[0], "MODE=prod");
	assert_int_equal(s->arch.n, 2);
	assert_string_equal(s->arch.v[1], "arm64");
	assert_int_equal(s->res.vgpus, 1);
	assert_string_equal(s->addresses.closest_ip, "10.30.30.31");
	assert_string_equal(s->addresses.rr_ip_v6, "fdff:2000::30");
	assert_int_equal(s->addresses.n_instances, 1);
	assert_string_equal(s->addresses.instances[0].instance_ip, "10.30.0.7");
	assert_int_equal(s->n_constraints, 3);
	assert_int_equal(s->constraints[0].type, OAK_CONSTRAINT_DIRECT);
	assert_string_equal(s->constraints[0].node, "n1;n2");
	assert_int_equal(s->constraints[1].type, OAK_CONSTRAINT_GEO);
	assert_true(s->constraints[1].geo.set);
	assert_true(s->constraints[1].geo.lat > 48.13 && s->constraints[1].geo.lat < 48.14);
	assert_true(s->constraints[1].geo.lon > 11.57 && s->constraints[1].geo.lon < 11.58);
	assert_true(s->constraints[1].threshold == 50);
	assert_int_equal(s->constraints[1].convergence_time, 30);
	assert_int_equal(s->constraints[2].type, OAK_CONSTRAINT_LATENCY);
	assert_int_equal(s->n_connectivity, 1);
	assert_string_equal(s->connectivity[0].target_microservice_id, "curl");
	assert_int_equal(s->connectivity[0].n_con, 1);
	assert_int_equal(s->connectivity[0].con[0].type, OAK_CON_LATENCY);

	/* the raw microservice equals the submitted one, field for field */
	text = slurp("full.json", &len);
	orig = json_loadb(text, len, 0, NULL);
	assert_non_null(orig);
	assert_true(json_equal(
	    s->raw,
	    json_array_get(json_object_get(json_array_get(json_object_get(orig, "applications"), 0),
					   "microservices"),
			   1)));
	json_decref(orig);
	free(text);
	oak_sla_free(sla);
}

struct bad_case {
	const char *file;
	const char *err_prefix; /* the field path the error must start with */
	const char *err_has;
};

static const struct bad_case bad_cases[] = {
    {"bad_version_key.json", "sla_versionn: unknown field", NULL},
    {"bad_version_value.json", "sla_version: ", "v1.0"},
    {"name_with_space.json",
     "applications[0].microservices[1].microservice_name: ", "1..30 alphanumeric"},
    {"name_with_punctuation.json", "applications[0].application_name: ", "1..30 alphanumeric"},
    {"missing_code.json", "applications[0].microservices[0].code: ", "missing required"},
    {"misspelled_field.json", "applications[0].microservices[1].virtualisation: ", "unknown field"},
    {"bad_rr_ip.json", "applications[0].microservices[1].addresses.rr_ip: ", "10.30.0.0/16"},
    {"wrong_type_memory.json",
     "applications[0].microservices[1].memory: ", "expected integer, got string"},
};

static void test_bad_files(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		struct oak_sla *sla = (void *)1;
		char err[512] = "";

		assert_int_equal(parse_file(bad_cases[i].file, &sla, err, sizeof(err)), -1);
		assert_null(sla);
		if (strncmp(err, bad_cases[i].err_prefix, strlen(bad_cases[i].err_prefix)) != 0)
			fail_msg("%s: error \"%s\" does not start with \"%s\"", bad_cases[i].file,
				 err, bad_cases[i].err_prefix);
		if (bad_cases[i].err_has && !strstr(err, bad_cases[i].err_has))
			fail_msg("%s: error \"%s\" lacks \"%s\"", bad_cases[i].file, err,
				 bad_cases[i].err_has);
	}
}

/* small inline mutations of a minimal descriptor */
#define MIN_HEAD                                                                                   \
	"{\"sla_version\":\"v2.0\",\"customerID\":\"c\",\"applications\":[{\"application_name\":"  \
	"\"a\",\"application_namespace\":\"b\",\"microservices\":[{\"microservice_name\":\"s\","   \
	"\"microservice_namespace\":\"n\",\"virtualization\":\"container\",\"code\":\"img\""
#define MIN_TAIL "}]}]}"

struct inline_case {
	const char *ms_extra; /* appended inside the microservice object */
	const char *err_has;  /* NULL = must parse */
};

static const struct inline_case inline_cases[] = {
    {"", NULL},
    {",\"port\":\"80\"", NULL},
    {",\"port\":\"6080:60/tcp;53:53/udp\"", NULL},
    {",\"port\":\"http\"", "microservices[0].port: "},
    {",\"port\":\"70000:1\"", "microservices[0].port: "},
    {",\"vcpus\":0.5", NULL},
    {",\"memory\":-1", "microservices[0].memory: must be within"},
    {",\"one_shot\":\"yes\"", "microservices[0].one_shot: expected boolean"},
    {",\"cmd\":\"ls\"", "microservices[0].cmd: expected array"},
    {",\"cmd\":[1]", "microservices[0].cmd[0]: expected string"},
    {",\"environment\":[\"NOEQUALS\"]", "microservices[0].environment[0]: must be"},
    {",\"addresses\":{\"closest_ip\":\"192.168.1.1\"}", "addresses.closest_ip: "},
    {",\"addresses\":{\"rr_ip\":\"10.30.1.1\",\"closest_ip\":\"10.30.1.1\"}",
     "addresses.closest_ip: must differ"},
    {",\"addresses\":{\"rr_ip_v6\":\"fd00::1\"}", "addresses.rr_ip_v6: "},
    {",\"addresses\":{\"rr_ip\":\"10.30.1\"}", "addresses.rr_ip: "},
    {",\"addresses\":{\"bogus\":1}", "addresses.bogus: unknown field"},
    {",\"constraints\":[{\"type\":\"teleport\"}]", "constraints[0].type: unknown value"},
    {",\"constraints\":[{\"cluster\":\"x\"}]", "constraints[0].type: missing required"},
    {",\"constraints\":[{\"type\":\"direct\"}]", "constraints[0].cluster: "},
    {",\"constraints\":[{\"type\":\"geo\",\"location\":\"91,0\"}]", "constraints[0].location: "},
    {",\"constraints\":[{\"type\":\"geo\",\"location\":\"1.5,2.5\",\"threshold\":10}]", NULL},
    {",\"constraints\":[{\"type\":\"latency\",\"threshold\":0}]", "constraints[0].threshold: "},
    {",\"connectivity\":[{\"target_microservice_id\":\"x\",\"con_constraints\":[{\"type\":"
     "\"latency\",\"threshold\":1,\"rigidness\":1}]}]",
     "connectivity[0].con_constraints[0].convergence_time: missing"},
    {",\"microserviceID\":\"abc\"", "microservices[0].microserviceID: must be empty"},
    {",\"target_node\":5", "microservices[0].target_node: expected string, got integer"},
    {",\"arch\":[\"amd64\",\"arm64\",\"a\",\"b\",\"c\",\"d\",\"e\",\"f\",\"g\",\"h\",\"i\","
     "\"j\",\"k\",\"l\",\"m\",\"n\",\"o\"]",
     "microservices[0].arch: more than 16"},
    {",\"microservice_name\":\"s\"", "payload: invalid JSON"}, /* duplicate key */
    /* state and code: URLs, any length (Oakestra's schema sets none) */
    {",\"state\":\"https://storage.example.org/checkpoints/team-a/nginx/state-2024-05-1.tar.gz\"",
     NULL},
    {",\"state\":5", "microservices[0].state: expected string, got integer"},
    {",\"target_node\":\"node-with-a-long-name-0123456789012345678901234567890123456789012345\","
     "\"sla_violation_strategy\":\"a strategy of more than sixty-four characters, as free "
     "text......\"",
     NULL},
    {",\"state\":null", "microservices[0].state: expected string, got null"},
    {",\"colour\":\"red\"", "microservices[0].colour: unknown field"},
};

static void test_inline_cases(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(inline_cases) / sizeof(inline_cases[0]); i++) {
		char doc[4096], err[512] = "";
		struct oak_sla *sla = NULL;
		int rc;

		snprintf(doc, sizeof(doc), "%s%s%s", MIN_HEAD, inline_cases[i].ms_extra, MIN_TAIL);
		rc = oak_sla_parse(doc, strlen(doc), &sla, err, sizeof(err));
		if (!inline_cases[i].err_has) {
			if (rc != 0)
				fail_msg("case %zu (%s): unexpected error %s", i,
					 inline_cases[i].ms_extra, err);
			assert_string_equal(sla->apps[0].services[0].job_name, "a.b.s.n");
			oak_sla_free(sla);
			continue;
		}
		if (rc == 0)
			fail_msg("case %zu (%s) was accepted", i, inline_cases[i].ms_extra);
		assert_null(sla);
		if (!strstr(err, inline_cases[i].err_has))
			fail_msg("case %zu: error \"%s\" lacks \"%s\"", i, err,
				 inline_cases[i].err_has);
	}
}

static void test_limits(void **state)
{
	struct oak_sla *sla = NULL;
	char err[512];
	size_t big = OAK_SLA_MAX_BYTES + 1;
	char *buf = malloc(big);
	char doc[8192];
	size_t n;

	(void)state;
	memset(buf, ' ', big);
	assert_int_equal(oak_sla_parse(buf, big, &sla, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "payload: "));
	assert_non_null(strstr(err, "exceeds"));
	free(buf);

	assert_int_equal(oak_sla_parse("", 0, &sla, err, sizeof(err)), -1);
	assert_int_equal(oak_sla_parse("[]", 2, &sla, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "expected object"));
	assert_int_equal(oak_sla_parse("{\"sla_version\":\"v2.0\"}", 22, &sla, err, sizeof(err)),
			 -1);
	assert_string_equal(err, "customerID: missing required field");
	assert_int_equal(oak_sla_parse(NULL, 0, &sla, err, sizeof(err)), -1);

	/* 65 services in one application */
	n = (size_t)snprintf(doc, sizeof(doc),
			     "{\"sla_version\":\"v2.0\",\"customerID\":\"c\",\"applications\":[{"
			     "\"application_name\":\"a\",\"application_namespace\":\"b\","
			     "\"microservices\":[");
	for (int i = 0; i <= OAK_SLA_MAX_SERVICES; i++)
		n += (size_t)snprintf(doc + n, sizeof(doc) - n, "%s{}", i ? "," : "");
	n += (size_t)snprintf(doc + n, sizeof(doc) - n, "]}]}");
	assert_int_equal(oak_sla_parse(doc, n, &sla, err, sizeof(err)), -1);
	assert_string_equal(err, "applications[0].microservices: more than 64 entries");

	/* 31-character name */
	snprintf(doc, sizeof(doc), "%s%s%s", MIN_HEAD,
		 ",\"microservice_namespace\":\"abcdefghijabcdefghijabcdefghijk\"", MIN_TAIL);
	/* the duplicate key makes this invalid JSON; build it without duplicates */
	snprintf(doc, sizeof(doc),
		 "{\"sla_version\":\"v2.0\",\"customerID\":\"c\",\"applications\":[{"
		 "\"application_name\":\"abcdefghijabcdefghijabcdefghijk\","
		 "\"application_namespace\":\"b\",\"microservices\":[]}]}");
	assert_int_equal(oak_sla_parse(doc, strlen(doc), &sla, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "applications[0].application_name: "));
	/* 30 characters is fine, and an app may have no services */
	snprintf(doc, sizeof(doc),
		 "{\"sla_version\":\"v2.0\",\"customerID\":\"c\",\"applications\":[{"
		 "\"application_name\":\"abcdefghijabcdefghijabcdefghij\","
		 "\"application_namespace\":\"b\",\"microservices\":[]}]}");
	assert_int_equal(oak_sla_parse(doc, strlen(doc), &sla, err, sizeof(err)), 0);
	assert_int_equal(sla->apps[0].n_services, 0);
	oak_sla_free(sla);

	/* tiny error buffer truncates without overflow */
	assert_int_equal(oak_sla_parse("[]", 2, &sla, err, 4), -1);
	assert_int_equal(strlen(err), 3);
}

/* What Oakestra accepts: strings of any length in code, state, cmd[],
 * added_files[] (its schema has no maxLength); the descriptor's size is the
 * only bound. */
static void test_long_strings(void **state)
{
	static const char head[] =
	    "{\"sla_version\":\"v2.0\",\"customerID\":\"c\",\"applications\":[{"
	    "\"application_name\":\"a\",\"application_namespace\":\"b\",\"application_desc\":"
	    "\"%s\",\"microservices\":[{\"microservice_name\":\"s\",\"microservice_namespace\":"
	    "\"n\",\"virtualization\":\"container\",\"code\":\"https://r.example.org/%s\","
	    "\"state\":\"https://s.example.org/%s\",\"cmd\":[\"%s\"],\"added_files\":[\"%s\"]}]}]}";
	size_t n = 100 * 1000;
	char *a = malloc(n + 1), *doc = malloc(6 * n + sizeof(head)), err[512];
	const struct oak_service *svc;
	struct oak_sla *sla = NULL;

	(void)state;
	memset(a, 'x', n);
	a[n] = '\0';
	snprintf(doc, 6 * n + sizeof(head), head, "d", a, a, a, a);
	if (oak_sla_parse(doc, strlen(doc), &sla, err, sizeof(err)))
		fail_msg("long strings refused: %s", err);
	svc = &sla->apps[0].services[0];
	assert_int_equal(strlen(svc->code), n + strlen("https://r.example.org/"));
	assert_int_equal(strlen(svc->state), n + strlen("https://s.example.org/"));
	assert_int_equal(strlen(svc->cmd.v[0]), n);
	assert_int_equal(strlen(svc->added_files.v[0]), n);
	oak_sla_free(sla);
	/* an absent state is "", never NULL */
	snprintf(doc, 6 * n + sizeof(head), "%s%s", MIN_HEAD, MIN_TAIL);
	assert_int_equal(oak_sla_parse(doc, strlen(doc), &sla, err, sizeof(err)), 0);
	assert_string_equal(sla->apps[0].services[0].state, "");
	oak_sla_free(sla);
	free(a);
	free(doc);
}

static void test_helpers(void **state)
{
	char job[OAK_JOB_NAME_LEN], a[OAK_NAME_LEN], b[OAK_NAME_LEN], c[OAK_NAME_LEN],
	    d[OAK_NAME_LEN];

	(void)state;
	assert_true(oak_sla_name_valid("nginx"));
	assert_true(oak_sla_name_valid("A1"));
	assert_false(oak_sla_name_valid(""));
	assert_false(oak_sla_name_valid("a b"));
	assert_false(oak_sla_name_valid("a.b"));
	assert_false(oak_sla_name_valid("abcdefghijabcdefghijabcdefghijk"));
	assert_true(oak_service_ip_valid("10.30.255.1"));
	assert_false(oak_service_ip_valid("10.31.0.1"));
	assert_false(oak_service_ip_valid("10.30.0.1 "));
	assert_true(oak_service_ip6_valid("fdff::1"));
	assert_false(oak_service_ip6_valid("fdfe::1"));
	assert_int_equal(oak_job_name(job, sizeof(job), "app", "ns", "svc", "sns"), 0);
	assert_string_equal(job, "app.ns.svc.sns");
	assert_int_equal(oak_job_name(job, 5, "app", "ns", "svc", "sns"), -1);
	assert_int_equal(oak_job_name(job, sizeof(job), "ap p", "ns", "svc", "sns"), -1);
	assert_int_equal(oak_job_name_split("app.ns.svc.sns", a, b, c, d), 0);
	assert_string_equal(a, "app");
	assert_string_equal(d, "sns");
	assert_int_equal(oak_job_name_split("app.ns.svc", a, b, c, d), -1);
	assert_int_equal(oak_job_name_split("app.ns.svc.sns.x", a, b, c, d), -1);
	assert_int_equal(oak_job_name_split("app..svc.sns", a, b, c, d), -1);
	assert_string_equal(oak_constraint_type_name(OAK_CONSTRAINT_GEO), "geo");
}

static void test_service_from_json(void **state)
{
	json_t *obj =
	    json_pack("{s:s,s:s,s:s,s:s,s:i}", "microservice_name", "web", "microservice_namespace",
		      "prod", "virtualization", "container", "code", "nginx", "memory", 256);
	struct oak_service svc;
	char err[256];

	(void)state;
	assert_int_equal(oak_service_from_json(obj, "shop", "eu", "", &svc, err, sizeof(err)), 0);
	assert_string_equal(svc.job_name, "shop.eu.web.prod");
	assert_int_equal(svc.res.memory_mb, 256);
	assert_ptr_equal(svc.raw, obj);
	oak_service_free(&svc);
	assert_int_equal(oak_service_from_json(obj, "sh op", "eu", "svc", &svc, err, sizeof(err)),
			 -1);
	assert_non_null(strstr(err, "job name"));
	json_object_set_new(obj, "memroy", json_integer(1));
	assert_int_equal(oak_service_from_json(obj, "shop", "eu", "svc", &svc, err, sizeof(err)),
			 -1);
	assert_string_equal(err, "svc.memroy: unknown field");
	json_decref(obj);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_clientserver), cmocka_unit_test(test_full),
	    cmocka_unit_test(test_bad_files),	 cmocka_unit_test(test_inline_cases),
	    cmocka_unit_test(test_limits),	 cmocka_unit_test(test_long_strings),
	    cmocka_unit_test(test_helpers),	 cmocka_unit_test(test_service_from_json),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
