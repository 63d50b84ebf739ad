// SPDX-License-Identifier: MIT
/* oakctl's output formats (-o), YAML, and when tables use colour. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "output.h"
#include "table.h"

static void test_format_parse(void **state)
{
	enum out_format f = OUT_TABLE;

	(void)state;
	assert_int_equal(out_format_parse("json", &f), 0);
	assert_int_equal(f, OUT_JSON);
	assert_int_equal(out_format_parse("yaml", &f), 0);
	assert_int_equal(f, OUT_YAML);
	assert_int_equal(out_format_parse("wide", &f), 0);
	assert_int_equal(f, OUT_WIDE);
	assert_int_equal(out_format_parse("table", &f), 0);
	assert_int_equal(f, OUT_TABLE);
	assert_int_equal(out_format_parse("xml", &f), -1);
	assert_int_equal(out_format_parse("JSON", &f), -1);
	assert_int_equal(out_format_parse("", &f), -1);
	assert_int_equal(out_format_parse(NULL, &f), -1);
	assert_int_equal(f, OUT_TABLE); /* untouched on error */
}

static void test_color(void **state)
{
	(void)state;
	assert_true(out_color(NULL, "xterm", true));
	assert_false(out_color(NULL, "xterm", false)); /* a pipe or a file */
	assert_false(out_color("1", "xterm", true));
	assert_false(out_color("0", "xterm", true)); /* any value but empty */
	assert_true(out_color("", "xterm", true));   /* empty: as if unset */
	assert_false(out_color(NULL, "dumb", true));
	assert_true(out_color(NULL, NULL, true));
}

static void test_status_color(void **state)
{
	(void)state;
	assert_string_equal(out_status_color("RUNNING"), "\033[32m");
	assert_string_equal(out_status_color("FAILED"), "\033[31m");
	assert_string_equal(out_status_color("false"), "\033[31m");
	assert_string_equal(out_status_color("REQUESTED"), "\033[33m");
	assert_null(out_status_color("-"));
	assert_null(out_status_color(""));
}

static char *yaml_of(const char *json)
{
	json_error_t err;
	json_t *v = json_loads(json, JSON_DECODE_ANY, &err);
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(v);
	out_yaml(v, f);
	fclose(f);
	json_decref(v);
	return buf;
}

static void expect_yaml(const char *json, const char *yaml)
{
	char *out = yaml_of(json);

	assert_string_equal(out, yaml);
	free(out);
}

static void test_yaml_shapes(void **state)
{
	(void)state;
	expect_yaml("[]", "[]\n");
	expect_yaml("{}", "{}\n");
	expect_yaml("3", "3\n");
	expect_yaml("{\"a\": 1, \"b\": \"x\"}", "a: 1\nb: x\n");
	expect_yaml("[1, 2]", "- 1\n- 2\n");
	expect_yaml("[{\"a\": 1, \"b\": 2}, {\"a\": 3}]", "- a: 1\n  b: 2\n- a: 3\n");
	expect_yaml("{\"l\": [1, {\"k\": true}], \"o\": {\"p\": null}, \"e\": [], \"f\": {}}",
		    "l:\n- 1\n- k: true\no:\n  p: null\ne: []\nf: {}\n");
	expect_yaml("[[1, 2], [3]]", "- - 1\n  - 2\n- - 3\n");
	expect_yaml("{\"r\": 0.5}", "r: 0.5\n");
}

static void test_yaml_quoting(void **state)
{
	(void)state;
	/* plain where safe; quoted where YAML would read something else */
	expect_yaml("[\"clientserver/server\", \"10.30.0.2\", \"a.b-c_d\"]",
		    "- clientserver/server\n- \"10.30.0.2\"\n- a.b-c_d\n");
	expect_yaml("[\"true\", \"no\", \"null\", \"~\", \"\", \"42\", \"1e3\"]",
		    "- \"true\"\n- \"no\"\n- \"null\"\n- \"~\"\n- \"\"\n- \"42\"\n- \"1e3\"\n");
	expect_yaml("[\"a: b\", \"x #y\", \"-dash\", \" lead\", \"*ref\", \"{x}\"]",
		    "- \"a: b\"\n- \"x #y\"\n- \"-dash\"\n- \" lead\"\n- \"*ref\"\n- \"{x}\"\n");
	expect_yaml("[\"line\\nnext\", \"tab\\there\", \"q\\\"uote\"]",
		    "- \"line\\nnext\"\n- \"tab\\there\"\n- \"q\\\"uote\"\n");
	expect_yaml("{\"key with space\": 1, \"RR_ip\": \"10.30.30.30\"}",
		    "\"key with space\": 1\nRR_ip: \"10.30.30.30\"\n");
}

static void test_table_color(void **state)
{
	struct table *t = table_new("NAME", "STATUS", "IP", NULL);
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	(void)state;
	assert_non_null(t);
	table_add(t, "a/0", "RUNNING", "10.30.0.2");
	table_add(t, "b/10", "FAILED", "-");
	f = open_memstream(&buf, &len);
	table_print_color(t, f, true);
	fclose(f);
	/* the header is plain; the padding counts only the text */
	assert_string_equal(buf, "NAME  STATUS   IP\n"
				 "a/0   \033[32mRUNNING\033[0m  10.30.0.2\n"
				 "b/10  \033[31mFAILED\033[0m   -\n");
	free(buf);
	buf = NULL;
	f = open_memstream(&buf, &len);
	table_print_color(t, f, false);
	fclose(f);
	assert_null(strchr(buf, '\033'));
	free(buf);
	table_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_format_parse), cmocka_unit_test(test_color),
	    cmocka_unit_test(test_status_color), cmocka_unit_test(test_yaml_shapes),
	    cmocka_unit_test(test_yaml_quoting), cmocka_unit_test(test_table_color),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
