// SPDX-License-Identifier: MIT
/* JSON helpers: double-encoded answers, error messages, JWT expiry, table text. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "jsonx.h"

static json_t *parse(const char *s)
{
	return jx_parse_body(s, strlen(s));
}

static void test_parse_body(void **state)
{
	json_t *v;

	(void)state;
	v = parse("[{\"applicationID\": \"a1\"}]");
	assert_true(json_is_array(v));
	assert_string_equal(jx_str(json_array_get(v, 0), "applicationID", ""), "a1");
	json_decref(v);
	/* Oakestra: json.dumps() of a JSON text */
	v = parse("\"[{\\\"applicationID\\\": \\\"a2\\\"}]\"");
	assert_true(json_is_array(v));
	assert_string_equal(jx_str(json_array_get(v, 0), "applicationID", ""), "a2");
	json_decref(v);
	v = parse("\"{\\\"message\\\": \\\"ok\\\"}\"");
	assert_string_equal(jx_str(v, "message", ""), "ok");
	json_decref(v);
	/* a plain string stays a string */
	v = parse("\"ok\"");
	assert_string_equal(json_string_value(v), "ok");
	json_decref(v);
	v = parse("  \n");
	assert_true(json_is_null(v));
	json_decref(v);
	v = parse("<html>Bad Gateway</html>");
	assert_string_equal(json_string_value(v), "<html>Bad Gateway</html>");
	json_decref(v);
}

static void test_error_message(void **state)
{
	char msg[64];
	json_t *v;

	(void)state;
	v = parse("{\"message\": \"microservices[0].code: missing\"}");
	jx_error_message(v, msg, sizeof(msg));
	assert_string_equal(msg, "microservices[0].code: missing");
	json_decref(v);
	v = parse("{\"error\": \"wrong password\"}");
	jx_error_message(v, msg, sizeof(msg));
	assert_string_equal(msg, "wrong password");
	json_decref(v);
	v = parse("{\"message\": [\"a: bad\", \"b: bad\"]}");
	jx_error_message(v, msg, sizeof(msg));
	assert_string_equal(msg, "a: bad; b: bad");
	json_decref(v);
	v = parse("{\"error\": {\"message\": \"nested\"}}");
	jx_error_message(v, msg, sizeof(msg));
	assert_string_equal(msg, "nested");
	json_decref(v);
	v = parse("\"{\\\"message\\\": \\\"double\\\"}\"");
	jx_error_message(v, msg, sizeof(msg));
	assert_string_equal(msg, "double");
	json_decref(v);
	v = parse("<h1>Not\nFound</h1>\n");
	jx_error_message(v, msg, sizeof(msg));
	assert_string_equal(msg, "<h1>Not Found</h1>");
	json_decref(v);
	v = parse("{\"status\": 500}");
	jx_error_message(v, msg, sizeof(msg));
	assert_string_equal(msg, "");
	json_decref(v);
	v = parse("{\"message\": "
		  "\"0123456789012345678901234567890123456789012345678901234567890123456789\"}");
	jx_error_message(v, msg, sizeof(msg));
	assert_int_equal(strlen(msg), sizeof(msg) - 1);
	json_decref(v);
}

static void test_fields(void **state)
{
	json_t *v = parse("{\"_id\": {\"$oid\": \"64f0\"}, \"n\": 3, \"r\": 2.5, \"s\": \"7\","
			  " \"bad\": \"7x\", \"b\": true, \"list\": [\"container\", \"unikernel\"],"
			  " \"z\": null}");
	char buf[32];

	(void)state;
	assert_string_equal(jx_oid(v, ""), "64f0");
	assert_int_equal(jx_int(v, "n", -1), 3);
	assert_int_equal(jx_int(v, "r", -1), 2);
	assert_int_equal(jx_int(v, "s", -1), 7);
	assert_int_equal(jx_int(v, "bad", -1), -1);
	assert_int_equal(jx_int(v, "missing", -1), -1);
	assert_string_equal(jx_text(v, "n", buf, sizeof(buf)), "3");
	assert_string_equal(jx_text(v, "r", buf, sizeof(buf)), "2.5");
	assert_string_equal(jx_text(v, "b", buf, sizeof(buf)), "yes");
	assert_string_equal(jx_text(v, "list", buf, sizeof(buf)), "container,unikernel");
	assert_string_equal(jx_text(v, "z", buf, sizeof(buf)), "");
	assert_string_equal(jx_text(v, "missing", buf, sizeof(buf)), "");
	assert_string_equal(jx_text(v, "list", buf, 12), "container,u");
	json_decref(v);
	v = parse("{\"_id\": \"plain\"}");
	assert_string_equal(jx_oid(v, ""), "plain");
	json_decref(v);
}

static void test_jwt_exp(void **state)
{
	int64_t exp = 0;

	(void)state;
	/* header {"alg":"HS256","typ":"JWT"}, payload {"sub":"Admin","exp":1700000000} */
	assert_int_equal(jx_jwt_exp("eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9."
				    "eyJzdWIiOiJBZG1pbiIsImV4cCI6MTcwMDAwMDAwMH0.sig",
				    &exp),
			 0);
	assert_int_equal(exp, 1700000000);
	/* base64url with '-' and '_' and no padding: {"exp":1,"x":"??>"} */
	assert_int_equal(jx_jwt_exp("h.eyJleHAiOjEsIngiOiI_Pz4ifQ.s", &exp), 0);
	assert_int_equal(exp, 1);
	assert_int_equal(jx_jwt_exp("not-a-jwt", &exp), -1);
	assert_int_equal(jx_jwt_exp("a.!!!.c", &exp), -1);
	/* {"sub":"x"}: no exp */
	assert_int_equal(jx_jwt_exp("h.eyJzdWIiOiJ4In0.s", &exp), -1);
	assert_int_equal(jx_jwt_exp(NULL, &exp), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_body),
	    cmocka_unit_test(test_error_message),
	    cmocka_unit_test(test_fields),
	    cmocka_unit_test(test_jwt_exp),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
