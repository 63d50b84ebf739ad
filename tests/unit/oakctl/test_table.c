// SPDX-License-Identifier: MIT
/* oakctl's aligned tables. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "table.h"

static char *render(const struct table *t)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	table_print(t, f);
	fclose(f);
	return buf;
}

static void test_aligned(void **state)
{
	struct table *t = table_new("NAME", "STATUS", "IP", NULL);
	char *out;

	(void)state;
	assert_non_null(t);
	assert_int_equal(table_add(t, "clientserver/server/0", "RUNNING", "10.30.0.2"), 0);
	assert_int_equal(table_add(t, "a/b/1", "NoActiveClusterWithCapacity", ""), 0);
	assert_int_equal(table_rows(t), 2);
	out = render(t);
	assert_string_equal(out, "NAME                   STATUS                       IP\n"
				 "clientserver/server/0  RUNNING                      10.30.0.2\n"
				 "a/b/1                  NoActiveClusterWithCapacity  -\n");
	free(out);
	table_free(t);
}

static void test_no_trailing_blanks_and_empty(void **state)
{
	struct table *t = table_new("A", "LONGER_HEADER", NULL);
	char *out, *line, *save = NULL;

	(void)state;
	table_add(t, "x", NULL);
	table_add(t, "a much longer cell", "y");
	out = render(t);
	for (line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		assert_true(strlen(line) > 0);
		assert_true(line[strlen(line) - 1] != ' ');
		/* the second column starts at the same place on every line */
		assert_true(line[18] == ' ' && line[19] == ' ' && line[20] != ' ');
	}
	free(out);
	table_free(t);
}

static void test_header_only_and_growth(void **state)
{
	struct table *t = table_new("ONLY", NULL);
	char cell[16], *out;
	int i;

	(void)state;
	out = render(t);
	assert_string_equal(out, "ONLY\n");
	free(out);
	for (i = 0; i < 100; i++) {
		snprintf(cell, sizeof(cell), "row%d", i);
		assert_int_equal(table_add(t, cell), 0);
	}
	assert_int_equal(table_rows(t), 100);
	out = render(t);
	assert_non_null(strstr(out, "\nrow99\n"));
	assert_non_null(strstr(out, "ONLY\nrow0\n"));
	free(out);
	table_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_aligned),
	    cmocka_unit_test(test_no_trailing_blanks_and_empty),
	    cmocka_unit_test(test_header_only_and_growth),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
