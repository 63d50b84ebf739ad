// SPDX-License-Identifier: MIT
/* The SLA apply sends: oak's "replicas" checked, read and taken out. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "slafile.h"

static const char clientserver[] =
    "{\"sla_version\": \"v2.0\", \"customerID\": \"Admin\", \"applications\": [{"
    "  \"applicationID\": \"\", \"application_name\": \"clientserver\","
    "  \"application_namespace\": \"test\", \"application_desc\": \"\","
    "  \"microservices\": ["
    "    {\"microservice_name\": \"curl\", \"microservice_namespace\": \"test\","
    "     \"virtualization\": \"container\", \"code\": \"docker.io/curlimages/curl:7.82.0\"},"
    "    {\"microservice_name\": \"server\", \"microservice_namespace\": \"test\","
    "     \"virtualization\": \"container\", \"code\": \"docker.io/library/nginx:latest\","
    "     \"replicas\": 2, \"addresses\": {\"rr_ip\": \"10.30.30.30\"}, \"port\": \"6080:60/tcp\"}"
    "  ]}]}";

static json_t *load(const char *text)
{
	json_t *v = json_loads(text, 0, NULL);

	assert_non_null(v);
	return v;
}

static void test_prepare_strips_replicas(void **state)
{
	json_t *sla = load(clientserver), *send = NULL, *ms;
	char err[256] = "";
	unsigned int n = 99;

	(void)state;
	assert_int_equal(sla_prepare(sla, &send, err, sizeof(err)), 0);
	ms =
	    json_array_get(json_object_get(json_array_get(json_object_get(send, "applications"), 0),
					   "microservices"),
			   1);
	assert_null(json_object_get(ms, "replicas"));
	assert_string_equal(json_string_value(json_object_get(ms, "port")), "6080:60/tcp");
	/* the original still says 2 */
	assert_int_equal(sla_replicas(sla, "clientserver", "server", &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(sla_replicas(sla, "clientserver", "curl", &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(sla_replicas(sla, "clientserver", "nope", &n), -1);
	assert_int_equal(sla_replicas(sla, "other", "server", &n), -1);
	json_decref(send);
	json_decref(sla);
}

static void expect_error(const char *text, const char *field)
{
	json_t *sla = load(text), *send = (json_t *)1;
	char err[256] = "";

	assert_int_equal(sla_prepare(sla, &send, err, sizeof(err)), -1);
	assert_null(send);
	if (!strstr(err, field))
		fail_msg("error '%s' does not name '%s'", err, field);
	json_decref(sla);
}

static void test_errors_name_the_field(void **state)
{
	(void)state;
	expect_error("[]", "JSON object");
	expect_error("{\"sla_version\": \"v2.0\"}", "applications");
	expect_error("{\"applications\": {}}", "applications");
	expect_error("{\"applications\": [{\"microservices\": []}]}",
		     "applications[0].application_name");
	expect_error("{\"applications\": [{\"application_name\": \"a\", \"microservices\": 3}]}",
		     "applications[0].microservices");
	expect_error("{\"applications\": [{\"application_name\": \"a\","
		     " \"microservices\": [{\"microservice_name\": \"s\"}, {\"code\": \"x\"}]}]}",
		     "applications[0].microservices[1].microservice_name");
	expect_error("{\"applications\": [{\"application_name\": \"a\","
		     " \"microservices\": [{\"microservice_name\": \"s\", \"replicas\": -1}]}]}",
		     "applications[0].microservices[0].replicas");
	expect_error("{\"applications\": [{\"application_name\": \"a\","
		     " \"microservices\": [{\"microservice_name\": \"s\", \"replicas\": \"2\"}]}]}",
		     "replicas");
	expect_error("{\"applications\": [{\"application_name\": \"a\","
		     " \"microservices\": [{\"microservice_name\": \"s\", \"replicas\": 1001}]}]}",
		     "replicas");
}

static void test_zero_replicas_and_no_services(void **state)
{
	json_t *sla = load("{\"applications\": [{\"application_name\": \"a\", \"microservices\":"
			   " [{\"microservice_name\": \"s\", \"replicas\": 0}]},"
			   " {\"application_name\": \"empty\"}]}"),
	       *send;
	char err[256];
	unsigned int n = 5;

	(void)state;
	assert_int_equal(sla_prepare(sla, &send, err, sizeof(err)), 0);
	assert_int_equal(sla_replicas(sla, "a", "s", &n), 0);
	assert_int_equal(n, 0);
	json_decref(send);
	json_decref(sla);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_prepare_strips_replicas),
	    cmocka_unit_test(test_errors_name_the_field),
	    cmocka_unit_test(test_zero_replicas_and_no_services),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
