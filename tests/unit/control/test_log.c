#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "oak/log.h"

static void test_levels_and_format(void **state)
{
	enum oak_log_level l;
	char path[] = "/tmp/oak-log-XXXXXX", buf[4096];
	int fd = mkstemp(path), saved = dup(2);
	FILE *f;
	size_t n;

	(void)state;
	assert_int_equal(oak_log_level_parse("WARNING", &l), 0);
	assert_int_equal(l, OAK_LOG_WARN);
	assert_int_equal(oak_log_level_parse("debug", &l), 0);
	assert_int_equal(l, OAK_LOG_DEBUG);
	assert_int_equal(oak_log_level_parse("loud", &l), -1);
	assert_string_equal(oak_log_level_name(OAK_LOG_ERROR), "ERROR");

	assert_true(fd >= 0);
	dup2(fd, 2);
	oak_log_init("oak-test", OAK_LOG_INFO);
	oak_log(DEBUG, "hidden %d", 1);
	oak_log(INFO, "shown %d", 2);
	oak_log(ERROR, "trailing newline\n");
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	f = fdopen(fd, "r");
	rewind(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	unlink(path);
	assert_null(strstr(buf, "hidden"));
	assert_non_null(strstr(buf, " oak-test["));
	assert_non_null(strstr(buf, "] INFO shown 2\n"));
	assert_non_null(strstr(buf, "] ERROR trailing newline\n"));
	assert_null(strstr(buf, "newline\n\n"));
	/* ISO-8601 UTC timestamp with milliseconds */
	assert_true(buf[4] == '-' && buf[10] == 'T' && buf[19] == '.' && buf[23] == 'Z');
}

int main(void)
{
	const struct CMUnitTest tests[] = {cmocka_unit_test(test_levels_and_format)};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
