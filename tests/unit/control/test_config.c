#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "oak/config.h"

static const struct oak_cfg_key keys[] = {
    {"broker_host", OAK_CFG_STR, "127.0.0.1", "MQTT broker host"},
    {"broker_port", OAK_CFG_INT, "1883", "MQTT broker port"},
    {"tls", OAK_CFG_BOOL, "false", "use TLS"},
    {"report_interval", OAK_CFG_DOUBLE, "2.0", "seconds between reports"},
    {"name", OAK_CFG_STR, NULL, "node name"},
};
#define NKEYS (sizeof(keys) / sizeof(keys[0]))

static void test_defaults(void **state)
{
	struct oak_config *c = oak_config_new("t", keys, NKEYS);

	(void)state;
	assert_non_null(c);
	assert_string_equal(oak_config_str(c, "broker_host"), "127.0.0.1");
	assert_int_equal(oak_config_int(c, "broker_port"), 1883);
	assert_false(oak_config_bool(c, "tls"));
	assert_true(oak_config_double(c, "report_interval") == 2.0);
	assert_string_equal(oak_config_str(c, "name"), "");
	assert_string_equal(oak_config_origin(c, "tls"), "default");
	oak_config_free(c);
}

static void test_load_string(void **state)
{
	struct oak_config *c = oak_config_new("t", keys, NKEYS);
	char err[256] = "";
	const char *text = "# oak node\n"
			   "\n"
			   "broker_host = mqtt.example   # trailing comment\n"
			   "  broker_port=8883\n"
			   "tls = yes\r\n"
			   "name = \"with # hash \"\n"
			   "report_interval = 0.5";

	(void)state;
	assert_int_equal(oak_config_load_string(c, text, "oak.conf", err, sizeof(err)), 0);
	assert_string_equal(oak_config_str(c, "broker_host"), "mqtt.example");
	assert_int_equal(oak_config_int(c, "broker_port"), 8883);
	assert_true(oak_config_bool(c, "tls"));
	assert_string_equal(oak_config_str(c, "name"), "with # hash ");
	assert_true(oak_config_double(c, "report_interval") == 0.5);
	assert_string_equal(oak_config_origin(c, "broker_port"), "oak.conf:4");

	assert_int_equal(oak_config_load_string(c, "\n\nbroker_hots = x\n", "f", err, sizeof(err)),
			 -1);
	assert_string_equal(err, "f:3: unknown key 'broker_hots'");
	assert_int_equal(oak_config_load_string(c, "broker_port = 12ab\n", "f", err, sizeof(err)),
			 -1);
	assert_string_equal(err, "f:1: key 'broker_port': expected integer, got \"12ab\"");
	assert_int_equal(oak_config_load_string(c, "tls = maybe", "f", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "expected boolean"));
	assert_int_equal(oak_config_load_string(c, "just words", "f", err, sizeof(err)), -1);
	assert_string_equal(err, "f:1: expected 'key = value'");
	assert_int_equal(oak_config_load_string(c, "name = \"open", "f", err, sizeof(err)), -1);
	assert_non_null(strstr(err, "unterminated"));
	/* failed loads keep the old values */
	assert_int_equal(oak_config_int(c, "broker_port"), 8883);
	oak_config_free(c);
}

static void test_args(void **state)
{
	struct oak_config *c = oak_config_new("oak-node", keys, NKEYS);
	char path[] = "/tmp/oak-cfg-XXXXXX", err[256] = "", *out = NULL;
	int fd = mkstemp(path);
	const char *file = "broker_host = fromfile\nbroker_port = 1\n";
	size_t outlen = 0;
	FILE *mem;

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(write(fd, file, strlen(file)), (ssize_t)strlen(file));
	close(fd);
	{
		/* the command line wins over the file whatever the order */
		char *argv[] = {"oak-node", "--broker_port=2", "--config", path,
				"--tls",    "--name",	       "n1",	   NULL};

		assert_int_equal(oak_config_parse_args(c, 7, argv, NULL, err, sizeof(err)), 0);
	}
	assert_string_equal(oak_config_str(c, "broker_host"), "fromfile");
	assert_int_equal(oak_config_int(c, "broker_port"), 2);
	assert_true(oak_config_bool(c, "tls"));
	assert_string_equal(oak_config_str(c, "name"), "n1");
	assert_string_equal(oak_config_origin(c, "broker_port"), "command line");
	{
		char *argv[] = {"x", "--nope=1", NULL};

		assert_int_equal(oak_config_parse_args(c, 2, argv, NULL, err, sizeof(err)), -1);
		assert_string_equal(err, "unknown option '--nope' (see --help)");
	}
	{
		char *argv[] = {"x", "positional", NULL};

		assert_int_equal(oak_config_parse_args(c, 2, argv, NULL, err, sizeof(err)), -1);
	}
	{
		char *argv[] = {"x", "--broker_port", NULL};

		assert_int_equal(oak_config_parse_args(c, 2, argv, NULL, err, sizeof(err)), -1);
		assert_non_null(strstr(err, "needs a value"));
	}
	{
		char *argv[] = {"x", "--config", "/nonexistent/oak.conf", NULL};

		assert_int_equal(oak_config_parse_args(c, 3, argv, NULL, err, sizeof(err)), -1);
		assert_non_null(strstr(err, "/nonexistent/oak.conf"));
	}
	{
		char *argv[] = {"x", "--tls", "--help", NULL};

		mem = open_memstream(&out, &outlen);
		assert_int_equal(oak_config_parse_args(c, 3, argv, mem, err, sizeof(err)), 1);
		fclose(mem);
		assert_non_null(strstr(out, "usage: oak-node"));
		assert_non_null(strstr(out, "broker_port"));
		assert_non_null(strstr(out, "1883"));
		assert_non_null(strstr(out, "MQTT broker port"));
		assert_non_null(strstr(out, "report_interval"));
		free(out);
	}
	unlink(path);
	oak_config_free(c);
}

static void test_bad_table(void **state)
{
	static const struct oak_cfg_key dup[] = {
	    {"a", OAK_CFG_INT, "1", ""},
	    {"a", OAK_CFG_INT, "1", ""},
	};
	static const struct oak_cfg_key bad_default[] = {{"a", OAK_CFG_INT, "one", ""}};

	(void)state;
	assert_null(oak_config_new("t", dup, 2));
	assert_null(oak_config_new("t", bad_default, 1));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_defaults),
	    cmocka_unit_test(test_load_string),
	    cmocka_unit_test(test_args),
	    cmocka_unit_test(test_bad_table),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
