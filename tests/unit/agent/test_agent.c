// SPDX-License-Identifier: MIT
/* oak-node's pure parts: /proc parsing, restart backoff, instance records. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "instance.h"
#include "probe.h"
#include "resources.h"

static const char stat1[] = "cpu  100 0 50 800 50 0 0 0 0 0\n"
			    "cpu0 50 0 25 400 25 0 0 0 0 0\n"
			    "intr 12345\n";
static const char stat2[] = "cpu  160 0 90 900 50 0 0 0 0 0\n"
			    "cpu0 80 0 45 450 25 0 0 0 0 0\n";

static void test_stat(void **state)
{
	struct oak_cpu_times a, b;

	assert_int_equal(oak_res_parse_stat(stat1, &a), 0);
	assert_int_equal(a.total, 1000);
	assert_int_equal(a.busy, 150);
	assert_int_equal(oak_res_parse_stat(stat2, &b), 0);
	/* busy +100 of total +200 */
	assert_true(oak_res_cpu_percent(&a, &b) > 49.9 && oak_res_cpu_percent(&a, &b) < 50.1);
	assert_true(oak_res_cpu_percent(&b, &a) == 0.0); /* counters went back */
	assert_true(oak_res_cpu_percent(&a, &a) == 0.0); /* no time passed */
	assert_int_equal(oak_res_parse_stat("intr 1\ncpu0 1 2 3 4\n", &a), -1);
	assert_int_equal(oak_res_parse_stat("cpu  x y\n", &a), -1);
	assert_int_equal(oak_res_parse_stat("", &a), -1);
}

static void test_meminfo(void **state)
{
	struct oak_meminfo m;

	assert_int_equal(oak_res_parse_meminfo("MemTotal:       16384000 kB\n"
					       "MemFree:         1000000 kB\n"
					       "MemAvailable:    8192000 kB\n",
					       &m),
			 0);
	assert_int_equal(m.total_mb, 16000);
	assert_int_equal(m.available_mb, 8000);
	/* old kernels: no MemAvailable */
	assert_int_equal(oak_res_parse_meminfo("MemTotal: 2048000 kB\nMemFree: 1024000 kB\n"
					       "Buffers: 102400 kB\nCached: 204800 kB\n",
					       &m),
			 0);
	assert_int_equal(m.available_mb, 1300);
	assert_int_equal(oak_res_parse_meminfo("MemFree: 1 kB\n", &m), -1);
	assert_int_equal(oak_res_parse_meminfo("MemTotalx: 1 kB\n", &m), -1);
}

static void test_arch_gpu(void **state)
{
	assert_string_equal(oak_res_arch_name("x86_64"), "amd64");
	assert_string_equal(oak_res_arch_name("aarch64"), "arm64");
	assert_string_equal(oak_res_arch_name("armv7l"), "arm");
	assert_string_equal(oak_res_arch_name("s390x"), "s390x");
	assert_true(oak_res_is_drm_card("card0"));
	assert_true(oak_res_is_drm_card("card12"));
	assert_false(oak_res_is_drm_card("card0-HDMI-A-1"));
	assert_false(oak_res_is_drm_card("renderD128"));
	assert_false(oak_res_is_drm_card("card"));
}

static void test_backoff(void **state)
{
	assert_int_equal(oak_restart_backoff_ms(0, 1000, 60000), 1000);
	assert_int_equal(oak_restart_backoff_ms(1, 1000, 60000), 2000);
	assert_int_equal(oak_restart_backoff_ms(2, 1000, 60000), 4000);
	assert_int_equal(oak_restart_backoff_ms(10, 1000, 60000), 60000);
	assert_int_equal(oak_restart_backoff_ms(4000000000u, 1000, 60000), 60000);
}

static const char deploy[] =
    "{\"service_id\":\"s1\",\"job_name\":\"app.ns.srv.ns\",\"instance_number\":2,"
    "\"instance_ip\":\"10.30.1.1\",\"rr_ip\":\"10.30.30.30\",\"runtime\":\"native\","
    "\"code\":\"python3\",\"cmd\":[\"python3\",\"-c\",\"print(1)\"],\"environment\":[\"A=1\"],"
    "\"memory\":64,\"vcpus\":0.5,\"one_shot\":true}";

static void test_record_roundtrip(void **state)
{
	struct oak_instance in = {0}, out;
	char err[256], key[200], *js;

	assert_int_equal(oak_msg_deploy_decode(deploy, strlen(deploy), &in.d, err, sizeof(err)), 0);
	in.state = OAK_INSTANCE_RUNNING;
	strcpy(in.netns, "n1-iabcdef01");
	strcpy(in.veth, "oakabcdef01");
	strcpy(in.ns_ip, "10.18.0.2");
	strcpy(in.cgroup, "oak/n1/oakabcdef01");
	in.pid = 4242;
	in.pid_start = 123456789012ull;
	in.restarts = 2;
	in.exit_code = 3;
	strcpy(in.reason, "exited with code 3");
	js = oak_record_encode(&in);
	assert_non_null(js);
	assert_int_equal(oak_record_decode(js, strlen(js), &out, err, sizeof(err)), 0);
	assert_int_equal(out.state, OAK_INSTANCE_RUNNING);
	assert_string_equal(out.netns, in.netns);
	assert_string_equal(out.veth, in.veth);
	assert_string_equal(out.ns_ip, in.ns_ip);
	assert_string_equal(out.cgroup, in.cgroup);
	assert_int_equal(out.pid, 4242);
	assert_true(out.pid_start == 123456789012ull);
	assert_int_equal(out.restarts, 2);
	assert_int_equal(out.exit_code, 3);
	assert_int_equal(out.pidfd, -1);
	assert_string_equal(out.d.job_name, "app.ns.srv.ns");
	assert_int_equal(out.d.instance_number, 2);
	assert_int_equal(out.d.cmd.n, 3);
	assert_string_equal(out.d.cmd.v[2], "print(1)");
	assert_int_equal(out.d.memory_mb, 64);
	assert_true(out.d.one_shot);
	oak_instance_key(&out, key, sizeof(key));
	assert_string_equal(key, "app.ns.srv.ns.2");
	free(js);
	oak_msg_deploy_free(&in.d);
	oak_msg_deploy_free(&out.d);
}

static void test_record_errors(void **state)
{
	struct oak_instance out;
	char err[256];
	const char *bad[][2] = {
	    {"[]", "not a JSON object"},
	    {"{\"state\":\"RUNNING\"}", "deploy"},
	    {"{\"deploy\":{\"job_name\":\"x\"},\"state\":\"RUNNING\"}", "deploy."},
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(
		    oak_record_decode(bad[i][0], strlen(bad[i][0]), &out, err, sizeof(err)), -1);
		assert_non_null(strstr(err, bad[i][1]));
	}
	char buf[1024];

	snprintf(buf, sizeof(buf),
		 "{\"deploy\":%s,\"state\":\"SLEEPING\",\"netns\":\"a\",\"veth\":\"b\"}", deploy);
	assert_int_equal(oak_record_decode(buf, strlen(buf), &out, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "state"));
	snprintf(buf, sizeof(buf),
		 "{\"deploy\":%s,\"state\":\"RUNNING\",\"netns\":\"a\",\"veth\":\"b\",\"pid\":-4}",
		 deploy);
	assert_int_equal(oak_record_decode(buf, strlen(buf), &out, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "pid"));
}

static void test_hash(void **state)
{
	uint32_t a = oak_instance_hash("app.ns.srv.ns", 0),
		 b = oak_instance_hash("app.ns.srv.ns", 1);

	assert_int_equal(a, oak_instance_hash("app.ns.srv.ns", 0)); /* stable */
	assert_int_not_equal(a, b);
}

static void test_probe_codec(void **state)
{
	struct oak_probe_msg m = {.type = OAK_PROBE_REPLY,
				  .seq = 0xdeadbeef,
				  .sent_ns = 0x0123456789abcdefull,
				  .coord = {.x = -12.5, .y = 3.25, .h = 0.01, .err = 0.75}};
	struct oak_probe_msg d;
	uint8_t buf[OAK_PROBE_LEN];

	oak_probe_encode(&m, buf);
	/* never mistaken for a tunnelled IPv4 packet by the uplink program */
	assert_int_not_equal(buf[0] >> 4, 4);
	assert_int_equal(oak_probe_decode(buf, sizeof(buf), &d), 0);
	assert_int_equal(d.type, OAK_PROBE_REPLY);
	assert_int_equal(d.seq, 0xdeadbeef);
	assert_true(d.sent_ns == 0x0123456789abcdefull);
	assert_true(d.coord.x == -12.5 && d.coord.y == 3.25 && d.coord.h == 0.01);
	assert_true(d.coord.err > 0.7499 && d.coord.err < 0.7501);
	assert_int_equal(oak_probe_decode(buf, sizeof(buf) - 1, &d), -1);
	buf[4] = 2; /* another version */
	assert_int_equal(oak_probe_decode(buf, sizeof(buf), &d), -1);
	buf[4] = 1;
	buf[5] = 9; /* no such type */
	assert_int_equal(oak_probe_decode(buf, sizeof(buf), &d), -1);
	buf[5] = 1;
	buf[0] = 0x45; /* an IPv4 header */
	assert_int_equal(oak_probe_decode(buf, sizeof(buf), &d), -1);
}

static void test_probe_latency_next(void **state)
{
	assert_int_equal(oak_probe_latency_next(0, 0, 1000), 0);	  /* unknown */
	assert_int_equal(oak_probe_latency_next(1000, 0, 1000), 0);	  /* lost */
	assert_int_equal(oak_probe_latency_next(0, 110, 1000), 1000);	  /* rounded up */
	assert_int_equal(oak_probe_latency_next(0, 451, 1000), 1000);	  /* ties with 110 */
	assert_int_equal(oak_probe_latency_next(1000, 1200, 1000), 1000); /* jitter at the edge */
	assert_int_equal(oak_probe_latency_next(1000, 1300, 1000), 2000);
	assert_int_equal(oak_probe_latency_next(2000, 800, 1000), 2000);
	assert_int_equal(oak_probe_latency_next(2000, 700, 1000), 1000);
	assert_int_equal(oak_probe_latency_next(21000, 22500, 1000), 21000); /* within 1/8 */
	assert_int_equal(oak_probe_latency_next(21000, 24000, 1000), 24000);
	assert_int_equal(oak_probe_latency_next(21000, 200, 1000), 1000);
	assert_int_equal(oak_probe_latency_next(1, 300, 1000), 1000); /* was local */
	assert_int_equal(oak_probe_latency_next(0, 37, 1), 37);	      /* no rounding */
}

static void test_probe_median(void **state)
{
	const uint32_t one[] = {70}, spike[] = {60, 62, 3000, 61, 59, 63, 58},
		       even[] = {100, 50, 80, 2000};

	assert_int_equal(oak_probe_median(NULL, 0), 0);
	assert_int_equal(oak_probe_median(one, 1), 70);
	assert_int_equal(oak_probe_median(spike, 7), 61); /* a late sample does not move it */
	assert_int_equal(oak_probe_median(even, 4), 80);  /* lower median */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_stat),
	    cmocka_unit_test(test_meminfo),
	    cmocka_unit_test(test_arch_gpu),
	    cmocka_unit_test(test_backoff),
	    cmocka_unit_test(test_record_roundtrip),
	    cmocka_unit_test(test_record_errors),
	    cmocka_unit_test(test_hash),
	    cmocka_unit_test(test_probe_codec),
	    cmocka_unit_test(test_probe_median),
	    cmocka_unit_test(test_probe_latency_next),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
