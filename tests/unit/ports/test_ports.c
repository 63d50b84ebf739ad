/* The SLA "port" field parser: Oakestra's forms, defaults, and the entries
 * it must refuse with an error that quotes them. */
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "oak/ports.h"
#include "oak/sla.h"

static struct oak_port_map m[OAK_PORTS_MAX];
static char err[256];

static int parse(const char *spec)
{
	memset(m, 0xee, sizeof(m));
	err[0] = '\0';
	return oak_ports_parse(spec, m, OAK_PORTS_MAX, err, sizeof(err));
}

static void expect_map(size_t i, uint8_t proto, uint16_t host, uint16_t container)
{
	assert_int_equal(m[i].proto, proto);
	assert_int_equal(m[i].host_port, host);
	assert_int_equal(m[i].container_port, container);
}

static void expect_error(const char *spec, const char *quoted, const char *why)
{
	char want[128];

	assert_int_equal(parse(spec), -1);
	snprintf(want, sizeof(want), "port \"%s\": ", quoted);
	if (strncmp(err, want, strlen(want)) != 0)
		fail_msg("spec \"%s\": error \"%s\" does not start with '%s'", spec, err, want);
	if (!strstr(err, why))
		fail_msg("spec \"%s\": error \"%s\" does not say '%s'", spec, err, why);
}

static void test_oakestra_example(void **state)
{
	(void)state;
	assert_int_equal(parse("6080:60/tcp"), 1);
	expect_map(0, IPPROTO_TCP, 6080, 60);
}

static void test_several_forms(void **state)
{
	(void)state;
	assert_int_equal(parse("6080:60/tcp;7000/udp;80;9000:90;53:5353/udp;3868/sctp"), 6);
	expect_map(0, IPPROTO_TCP, 6080, 60);
	expect_map(1, IPPROTO_UDP, 7000, 7000);
	expect_map(2, IPPROTO_TCP, 80, 80);
	expect_map(3, IPPROTO_TCP, 9000, 90);
	expect_map(4, IPPROTO_UDP, 53, 5353);
	expect_map(5, IPPROTO_SCTP, 3868, 3868);
}

static void test_empty_is_none(void **state)
{
	(void)state;
	assert_int_equal(parse(""), 0);
	assert_int_equal(oak_ports_parse(NULL, m, OAK_PORTS_MAX, err, sizeof(err)), 0);
}

static void test_limits(void **state)
{
	(void)state;
	assert_int_equal(parse("65535:1/udp;1:65535"), 2);
	expect_map(0, IPPROTO_UDP, 65535, 1);
	expect_map(1, IPPROTO_TCP, 1, 65535);
	expect_error("65536", "65536", "host port");
	expect_error("80:65536/tcp", "80:65536/tcp", "container port");
	expect_error("0:80", "0:80", "host port");
	expect_error("80:0", "80:0", "container port");
	expect_error("99999999999999999999", "99999999999999999999", "host port");
}

static void test_same_host_port_other_protocol(void **state)
{
	(void)state;
	assert_int_equal(parse("53/udp;53/tcp"), 2);
	expect_map(0, IPPROTO_UDP, 53, 53);
	expect_map(1, IPPROTO_TCP, 53, 53);
}

static void test_refused(void **state)
{
	(void)state;
	expect_error("6080:60/icmp", "6080:60/icmp", "protocol");
	expect_error("6080:60/TCP", "6080:60/TCP", "protocol");
	expect_error("6080:60/", "6080:60/", "protocol");
	expect_error("6080:", "6080:", "container port");
	expect_error(":60", ":60", "host port");
	expect_error("6080:60:70", "6080:60:70", "host:container");
	expect_error("6080 :60", "6080 :60", "host:container");
	expect_error("http", "http", "host port");
	expect_error("-80", "-80", "host port");
	/* the entry at fault is the one quoted */
	expect_error("80;8o;90", "8o", "host:container");
	expect_error("80;;90", "", "empty");
	expect_error("80;", "", "empty");
	expect_error(";80", "", "empty");
}

static void test_duplicate_host_port(void **state)
{
	(void)state;
	expect_error("6080:60;6080:61", "6080:61", "6080/tcp is already exposed");
	expect_error("7000/udp;7000:7001/udp", "7000:7001/udp", "7000/udp is already exposed");
	expect_error("80;80/tcp", "80/tcp", "80/tcp is already exposed");
}

static void test_room(void **state)
{
	struct oak_port_map two[2];

	(void)state;
	assert_int_equal(oak_ports_parse("1;2", two, 2, err, sizeof(err)), 2);
	assert_int_equal(oak_ports_parse("1;2;3", two, 2, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "port \"3\": more than 2 entries"));
	/* no room for the error: still refused */
	assert_int_equal(oak_ports_parse("x", two, 2, NULL, 0), -1);
}

static void test_proto_names(void **state)
{
	(void)state;
	assert_string_equal(oak_port_proto_name(IPPROTO_TCP), "tcp");
	assert_string_equal(oak_port_proto_name(IPPROTO_UDP), "udp");
	assert_string_equal(oak_port_proto_name(IPPROTO_SCTP), "sctp");
	assert_string_equal(oak_port_proto_name(1), "?");
}

/* Does the SLA validator take a microservice with this "port"? */
static int sla_takes(const char *port)
{
	static const char fmt[] =
	    "{\"sla_version\": \"v2.0\", \"customerID\": \"Admin\", \"applications\": [{"
	    "\"applicationID\": \"\", \"application_name\": \"app\", "
	    "\"application_namespace\": \"test\", \"application_desc\": \"\", "
	    "\"microservices\": [{\"microservice_name\": \"web\", "
	    "\"microservice_namespace\": \"test\", \"virtualization\": \"container\", "
	    "\"code\": \"web\", \"port\": \"%s\"}]}]}";
	struct oak_sla *sla = NULL;
	char json[1024], e[256];
	int rc;

	snprintf(json, sizeof(json), fmt, port);
	rc = oak_sla_parse(json, strlen(json), &sla, e, sizeof(e));
	oak_sla_free(sla);
	return rc == 0;
}

/* The parser takes exactly what the SLA validator takes (duplicates aside). */
static void test_agrees_with_sla_validator(void **state)
{
	static const char *const specs[] = {
	    "6080:60/tcp",
	    "7000/udp",
	    "80",
	    "65535:1/udp;1:65535",
	    "3868/sctp",
	    "53/udp;53/tcp",
	    "",
	    "0:80",
	    "80:0",
	    "65536",
	    "6080:60/icmp",
	    "6080:60/TCP",
	    "6080:",
	    ":60",
	    "6080:60:70",
	    "80;",
	    ";80",
	    "80;;90",
	    "http",
	    "6080:60/",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(specs) / sizeof(specs[0]); i++) {
		int ours = parse(specs[i]) >= 0, sla = sla_takes(specs[i]);

		if (ours != sla)
			fail_msg("\"%s\": the parser %s it, the SLA validator %s it", specs[i],
				 ours ? "takes" : "refuses", sla ? "takes" : "refuses");
	}
	assert_true(sla_takes("6080:60/tcp"));
	assert_false(sla_takes("6080:60/icmp"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_oakestra_example),
	    cmocka_unit_test(test_several_forms),
	    cmocka_unit_test(test_empty_is_none),
	    cmocka_unit_test(test_limits),
	    cmocka_unit_test(test_same_host_port_other_protocol),
	    cmocka_unit_test(test_refused),
	    cmocka_unit_test(test_duplicate_host_port),
	    cmocka_unit_test(test_room),
	    cmocka_unit_test(test_proto_names),
	    cmocka_unit_test(test_agrees_with_sla_validator),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
