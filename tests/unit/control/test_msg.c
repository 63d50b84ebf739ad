#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "oak/msg.h"

/* encode m, decode into *out, re-encode: both texts must be equal; returns
 * the first text (caller frees) */
#define ROUNDTRIP(name, m, out)                                                                    \
	({                                                                                         \
		char *t1_ = oak_msg_##name##_encode(m), *t2_, err_[512] = "";                      \
		assert_non_null(t1_);                                                              \
		if (oak_msg_##name##_decode(t1_, strlen(t1_), out, err_, sizeof(err_)))            \
			fail_msg(#name ": decode of own encoding failed: %s (%s)", err_, t1_);     \
		t2_ = oak_msg_##name##_encode(out);                                                \
		assert_non_null(t2_);                                                              \
		assert_string_equal(t1_, t2_);                                                     \
		free(t2_);                                                                         \
		t1_;                                                                               \
	})

/* decode must fail and the error must contain `has` */
#define REJECT(name, text, has)                                                                    \
	do {                                                                                       \
		struct oak_msg_##name m_;                                                          \
		char err_[512] = "";                                                               \
		const char *t_ = (text);                                                           \
		if (oak_msg_##name##_decode(t_, strlen(t_), &m_, err_, sizeof(err_)) == 0) {       \
			oak_msg_##name##_free(&m_);                                                \
			fail_msg(#name ": accepted %s", t_);                                       \
		}                                                                                  \
		if (!strstr(err_, has))                                                            \
			fail_msg(#name ": error \"%s\" lacks \"%s\"", err_, has);                  \
	} while (0)

/* malformed payloads every decoder must reject */
#define REJECT_GARBAGE(name)                                                                       \
	do {                                                                                       \
		char *big_ = malloc(OAK_MSG_MAX_BYTES + 2);                                        \
		struct oak_msg_##name gm_;                                                         \
		char gerr_[256];                                                                   \
		memset(big_, ' ', OAK_MSG_MAX_BYTES + 1);                                          \
		big_[OAK_MSG_MAX_BYTES + 1] = '\0';                                                \
		REJECT(name, big_, "exceeds the limit");                                           \
		free(big_);                                                                        \
		REJECT(name, "", "payload: invalid JSON");                                         \
		REJECT(name, "{", "payload: invalid JSON");                                        \
		REJECT(name, "[1,2]", "expected object, got array");                               \
		REJECT(name, "\"x\"", "invalid JSON");                                             \
		REJECT(name, "{}", "missing required field");                                      \
		assert_int_equal(oak_msg_##name##_decode(NULL, 0, &gm_, gerr_, sizeof(gerr_)),     \
				 -1);                                                              \
	} while (0)

static void test_topics(void **state)
{
	char t[OAK_TOPIC_LEN], id[OAK_ID_LEN];
	const char *suffix;

	(void)state;
	assert_int_equal(oak_topic_node(t, sizeof(t), "n1", OAK_T_INFORMATION), 0);
	assert_string_equal(t, "nodes/n1/information");
	assert_int_equal(oak_topic_node(t, sizeof(t), "n1", OAK_T_TABLEQUERY_REQ), 0);
	assert_string_equal(t, "nodes/n1/net/tablequery/request");
	assert_int_equal(oak_topic_cluster(t, sizeof(t), "c7", OAK_T_DEPLOY), 0);
	assert_string_equal(t, "clusters/c7/control/deploy");
	assert_int_equal(oak_topic_job_updates(t, sizeof(t), "a.b.c.d"), 0);
	assert_string_equal(t, "jobs/a.b.c.d/updates_available");
	assert_int_equal(oak_topic_node(t, sizeof(t), "n/1", "job"), -1);
	assert_int_equal(oak_topic_node(t, sizeof(t), "n+", "job"), -1);
	assert_int_equal(oak_topic_node(t, sizeof(t), "#", "job"), -1);
	assert_int_equal(oak_topic_node(t, sizeof(t), "", "job"), -1);
	assert_int_equal(oak_topic_node(t, 10, "node1", "information"), -1);
	assert_string_equal(t, "");
	assert_int_equal(oak_topic_parse("nodes/n1/net/subnet", "nodes", id, sizeof(id), &suffix),
			 0);
	assert_string_equal(id, "n1");
	assert_string_equal(suffix, "net/subnet");
	assert_int_equal(oak_topic_parse("nodes/n1", "nodes", id, sizeof(id), &suffix), -1);
	assert_int_equal(oak_topic_parse("clusters/c/x", "nodes", id, sizeof(id), &suffix), -1);
	assert_int_equal(oak_topic_parse("nodes//x", "nodes", id, sizeof(id), &suffix), -1);
}

static void test_states(void **state)
{
	enum oak_instance_state s;

	(void)state;
	for (int i = 0; i < OAK_INSTANCE_STATE_COUNT; i++) {
		assert_int_equal(oak_instance_state_parse(oak_instance_state_name(i), &s), 0);
		assert_int_equal(s, i);
	}
	assert_string_equal(oak_instance_state_name(OAK_INSTANCE_UNDEPLOYED), "UNDEPLOYED");
	assert_int_equal(oak_instance_state_parse("running", &s), -1);
	assert_string_equal(oak_instance_state_name(99), "?");
}

static void test_node_hello(void **state)
{
	struct oak_msg_node_hello m = {0}, d;
	char *t;

	(void)state;
	strcpy(m.node_id, "node-1");
	strcpy(m.hostname, "edge1");
	strcpy(m.underlay_ip, "192.0.2.10");
	m.tunnel_port = 50103;
	strcpy(m.architecture, "amd64");
	m.virtualization.n = 2;
	strcpy(m.virtualization.v[0], "container");
	strcpy(m.virtualization.v[1], "unikernel");
	m.vcpus = 4;
	m.memory_mb = 8192;
	m.location = (struct oak_geo){true, 48.1, 11.5};
	strcpy(m.boot_id, "b1");
	strcpy(m.subnet, "10.18.0.64/26");
	t = ROUNDTRIP(node_hello, &m, &d);
	assert_string_equal(d.node_id, "node-1");
	assert_string_equal(d.virtualization.v[1], "unikernel");
	assert_true(d.location.set && d.location.lat == 48.1);
	assert_int_equal(d.memory_mb, 8192);
	free(t);
	oak_msg_node_hello_free(&d);
	REJECT_GARBAGE(node_hello);
	REJECT(node_hello,
	       "{\"node_id\":\"n/1\",\"underlay_ip\":\"1.2.3.4\",\"architecture\":\"amd64\"}",
	       "node_id: must be non-empty");
	REJECT(node_hello, "{\"node_id\":\"n\",\"underlay_ip\":\"1.2.3\",\"architecture\":\"x\"}",
	       "underlay_ip: ");
	REJECT(node_hello,
	       "{\"node_id\":\"n\",\"underlay_ip\":\"1.2.3.4\",\"architecture\":\"x\","
	       "\"location\":{\"lat\":91,\"lon\":0}}",
	       "location.lat: must be within");
	REJECT(node_hello,
	       "{\"node_id\":\"n\",\"underlay_ip\":\"1.2.3.4\",\"architecture\":\"x\","
	       "\"tunnel_port\":70000}",
	       "tunnel_port: must be within");
}

static void test_status(void **state)
{
	struct oak_msg_status m = {.online = true}, d;
	char *t;

	(void)state;
	strcpy(m.id, "n1");
	t = ROUNDTRIP(status, &m, &d);
	assert_true(d.online);
	free(t);
	REJECT_GARBAGE(status);
	REJECT(status, "{\"id\":\"n1\",\"online\":1}", "online: expected boolean, got integer");
}

static void test_node_info(void **state)
{
	struct oak_msg_node_info m = {0}, d;
	char *t;

	(void)state;
	strcpy(m.node_id, "n1");
	m.timestamp_ms = 1700000000123;
	m.cpu_percent = 12.5;
	m.vcpus = 2;
	m.vcpus_free = 1.75;
	m.memory_mb = 24000;
	m.memory_free_mb = 20000;
	m.memory_percent = 16.6;
	strcpy(m.architecture, "amd64");
	m.virtualization.n = 1;
	strcpy(m.virtualization.v[0], "container");
	m.gpus = 1;
	m.gpus_free = 1;
	m.location = (struct oak_geo){true, -33.9, 151.2};
	m.vivaldi = (struct oak_vivaldi){true, 1.5, -2.25, 0.5, 0.1};
	t = ROUNDTRIP(node_info, &m, &d);
	assert_non_null(strstr(t, "\"cpu_percent\":12.5"));
	assert_non_null(strstr(t, "\"memory\":24000"));
	assert_true(d.vivaldi.set && d.vivaldi.y == -2.25);
	assert_int_equal(d.timestamp_ms, 1700000000123);
	free(t);
	REJECT_GARBAGE(node_info);
	REJECT(node_info, "{\"node_id\":\"n\",\"cpu_percent\":101}", "cpu_percent: must be within");
	REJECT(node_info, "{\"node_id\":\"n\",\"cpu_percent\":\"5\"}",
	       "cpu_percent: expected number");
	REJECT(node_info, "{\"node_id\":\"n\",\"memory\":10,\"memory_free\":11}",
	       "memory_free: exceeds");
	REJECT(node_info, "{\"node_id\":\"n\",\"vivaldi\":{\"x\":1,\"y\":2,\"height\":0}}",
	       "vivaldi.error: missing");
	REJECT(node_info, "{\"node_id\":\"n\",\"virtualization\":[\"container\",3]}",
	       "virtualization[1]: expected string");
	REJECT(node_info, "{\"node_id\":\"n\",\"vcpus\":-1}", "vcpus: must be within");
	REJECT(node_info, "{\"node_id\":\"n\",\"vcpus\":1.5}", "vcpus: expected integer");
	REJECT(node_info, "{\"node_id\":\"n\",\"node_id\":\"m\"}", "invalid JSON");
}

static void test_job_usage(void **state)
{
	struct oak_job_usage_entry jobs[2] = {{.instance_number = 0, .cpu_percent = 3.5},
					      {.instance_number = 4, .memory_mb = 12}};
	struct oak_msg_job_usage m = {.jobs = jobs, .n_jobs = 2}, d;
	char *t, big[OAK_MSG_MAX_BYTES + 1024], *lines[] = {"GET / 200", "GET /x 404"};
	size_t n;

	(void)state;
	strcpy(m.node_id, "n1");
	strcpy(jobs[0].job_name, "a.b.c.d");
	strcpy(jobs[1].job_name, "a.b.e.f");
	jobs[0].logs = (struct oak_strv){lines, 2}; /* the log's tail, as lines */
	t = ROUNDTRIP(job_usage, &m, &d);
	assert_int_equal(d.n_jobs, 2);
	assert_string_equal(d.jobs[1].job_name, "a.b.e.f");
	assert_int_equal(d.jobs[1].instance_number, 4);
	assert_int_equal(d.jobs[0].logs.n, 2);
	assert_string_equal(d.jobs[0].logs.v[1], "GET /x 404");
	assert_int_equal(d.jobs[1].logs.n, 0);
	free(t);
	oak_msg_job_usage_free(&d);
	assert_null(d.jobs);
	REJECT_GARBAGE(job_usage);
	REJECT(job_usage, "{\"node_id\":\"n\",\"jobs\":[{\"job_name\":\"x\"}]}",
	       "jobs[0].job_name: \"x\" is not app.appns.service.servicens");
	REJECT(job_usage, "{\"node_id\":\"n\",\"jobs\":{}}", "jobs: expected array");
	/* more entries than allowed (but under the byte limit) */
	n = (size_t)snprintf(big, sizeof(big), "{\"node_id\":\"n\",\"jobs\":[");
	for (int i = 0; i <= OAK_MSG_MAX_JOBS; i++)
		n += (size_t)snprintf(big + n, sizeof(big) - n, "%s{}", i ? "," : "");
	snprintf(big + n, sizeof(big) - n, "]}");
	REJECT(job_usage, big, "jobs: more than 512 entries");
}

static void test_instance_state(void **state)
{
	struct oak_msg_instance_state m = {.instance_number = 3, .state = OAK_INSTANCE_RUNNING}, d;
	char *t;

	(void)state;
	strcpy(m.node_id, "n1");
	strcpy(m.job_name, "clientserver.test.nginx.test");
	strcpy(m.service_id, "65a1");
	strcpy(m.instance_ip, "10.30.0.9");
	strcpy(m.namespace_ip, "10.18.0.66");
	strcpy(m.namespace_ip_v6, "fc00::42");
	m.exit_code = -9;
	strcpy(m.node_ip, "192.168.50.11");
	m.node_port = 50103;
	t = ROUNDTRIP(instance_state, &m, &d);
	assert_non_null(strstr(t, "\"state\":\"RUNNING\""));
	assert_int_equal(d.state, OAK_INSTANCE_RUNNING);
	assert_int_equal(d.exit_code, -9);
	assert_string_equal(d.node_ip, "192.168.50.11");
	assert_int_equal(d.node_port, 50103);
	free(t);
	REJECT(instance_state,
	       "{\"job_name\":\"a.b.c.d\",\"service_id\":\"s\",\"instance_number\":0,"
	       "\"state\":\"RUNNING\",\"node_ip\":\"node-1\"}",
	       "node_ip: \"node-1\" is not an IPv4 address");
	REJECT(instance_state,
	       "{\"job_name\":\"a.b.c.d\",\"service_id\":\"s\",\"instance_number\":0,"
	       "\"state\":\"RUNNING\",\"node_port\":70000}",
	       "node_port:");
	REJECT_GARBAGE(instance_state);
	REJECT(instance_state,
	       "{\"job_name\":\"a.b.c.d\",\"service_id\":\"s\",\"instance_number\":0,"
	       "\"state\":\"SLEEPING\"}",
	       "state: unknown value \"SLEEPING\"");
	REJECT(instance_state,
	       "{\"job_name\":\"a.b.c.d\",\"service_id\":\"s\",\"instance_number\":0,"
	       "\"state\":\"RUNNING\",\"namespace_ip\":\"10.30.0.1\"}",
	       "namespace_ip: \"10.30.0.1\" is not an IPv4 address inside 10.18.0.0/16");
	REJECT(instance_state,
	       "{\"job_name\":\"a.b.c.d\",\"service_id\":\"s\",\"instance_number\":-1,"
	       "\"state\":\"RUNNING\"}",
	       "instance_number: must be within");
	REJECT(instance_state,
	       "{\"job_name\":\"a.b.c.d\",\"service_id\":\"s\",\"instance_number\":0,"
	       "\"state\":1}",
	       "state: expected string");
}

static void test_deploy(void **state)
{
	char *cmd[] = {"nginx", "-g", "daemon off;"}, *env[] = {"A=1"};
	struct oak_msg_deploy m = {.instance_number = 1,
				   .cmd = {cmd, 3},
				   .env = {env, 1},
				   .memory_mb = 100,
				   .vcpus = 0.5,
				   .one_shot = true},
			      d;
	char *t;

	(void)state;
	strcpy(m.service_id, "svc1");
	strcpy(m.job_name, "clientserver.test.nginx.test");
	strcpy(m.instance_ip, "10.30.0.2");
	strcpy(m.rr_ip, "10.30.30.30");
	strcpy(m.closest_ip, "10.30.30.31");
	strcpy(m.runtime, "container");
	strcpy(m.code, "docker.io/library/nginx:latest");
	strcpy(m.port, "6080:60/tcp");
	t = ROUNDTRIP(deploy, &m, &d);
	assert_int_equal(d.cmd.n, 3);
	assert_string_equal(d.cmd.v[2], "daemon off;");
	assert_string_equal(d.env.v[0], "A=1");
	assert_true(d.one_shot);
	assert_true(d.vcpus == 0.5);
	free(t);
	oak_msg_deploy_free(&d);
	REJECT_GARBAGE(deploy);
	REJECT(deploy,
	       "{\"service_id\":\"s\",\"job_name\":\"a.b.c.d\",\"instance_number\":0,"
	       "\"instance_ip\":\"10.30.0.2\",\"runtime\":\"container\",\"code\":\"x\","
	       "\"rr_ip\":\"10.0.0.1\"}",
	       "rr_ip: \"10.0.0.1\" is not an IPv4 address inside 10.30.0.0/16");
	REJECT(deploy,
	       "{\"service_id\":\"s\",\"job_name\":\"a.b.c.d\",\"instance_number\":0,"
	       "\"instance_ip\":\"10.30.0.2\",\"runtime\":\"container\",\"code\":\"\"}",
	       "code: must not be empty");
	REJECT(deploy,
	       "{\"service_id\":\"s\",\"job_name\":\"a.b.c.d\",\"instance_number\":0,"
	       "\"instance_ip\":\"10.30.0.2\",\"runtime\":\"container\",\"code\":\"x\","
	       "\"cmd\":[\"a\",null]}",
	       "cmd[1]: expected string, got null");
	REJECT(deploy,
	       "{\"service_id\":\"s\",\"job_name\":\"a.b.c.d\",\"instance_number\":0,"
	       "\"instance_ip\":\"10.30.0.2\",\"runtime\":\"container\",\"code\":\"x\","
	       "\"one_shot\":\"no\"}",
	       "one_shot: expected boolean, got string");
	/* unknown keys from a newer peer are ignored */
	{
		const char *ok = "{\"service_id\":\"s\",\"job_name\":\"a.b.c.d\","
				 "\"instance_number\":0,\"instance_ip\":\"10.30.0.2\","
				 "\"runtime\":\"container\",\"code\":\"x\",\"future\":[1]}";
		char err[256];

		assert_int_equal(oak_msg_deploy_decode(ok, strlen(ok), &d, err, sizeof(err)), 0);
		oak_msg_deploy_free(&d);
	}
}

static void test_delete_subnet_interest(void **state)
{
	struct oak_msg_delete del = {.instance_number = 2}, dd;
	struct oak_msg_subnet sn = {0}, sd;
	struct oak_msg_subnet_request sr = {0}, srd;
	struct oak_msg_interest in = {0}, ind;
	struct oak_msg_net_service ns = {.instance_number = 1}, nsd;
	char *t;

	(void)state;
	strcpy(del.job_name, "a.b.c.d");
	t = ROUNDTRIP(delete, &del, &dd);
	assert_int_equal(dd.instance_number, 2);
	free(t);
	REJECT_GARBAGE(delete);

	strcpy(sn.node_id, "n1");
	strcpy(sn.subnet, "10.18.0.64/26");
	strcpy(sn.subnet_v6, "fc00::100/120");
	t = ROUNDTRIP(subnet, &sn, &sd);
	assert_string_equal(sd.subnet, "10.18.0.64/26");
	free(t);
	REJECT_GARBAGE(subnet);
	REJECT(subnet, "{\"node_id\":\"n\",\"subnet\":\"10.19.0.0/26\"}", "subnet: ");
	REJECT(subnet, "{\"node_id\":\"n\",\"subnet\":\"10.18.0.65/26\"}", "subnet: ");
	REJECT(subnet, "{\"node_id\":\"n\",\"subnet\":\"10.18.0.64\"}", "subnet: ");
	REJECT(subnet, "{\"node_id\":\"n\",\"subnet\":\"10.18.0.64/26\",\"subnet_v6\":\"x/1\"}",
	       "subnet_v6: ");

	strcpy(sr.cluster_id, "c1");
	strcpy(sr.node_id, "n1");
	t = ROUNDTRIP(subnet_request, &sr, &srd);
	free(t);
	REJECT_GARBAGE(subnet_request);

	strcpy(in.node_id, "n1");
	strcpy(in.job_name, "a.b.c.d");
	t = ROUNDTRIP(interest, &in, &ind);
	free(t);
	REJECT_GARBAGE(interest);

	strcpy(ns.node_id, "n1");
	strcpy(ns.job_name, "a.b.c.d");
	strcpy(ns.instance_ip, "10.30.0.5");
	strcpy(ns.namespace_ip, "10.18.0.70");
	t = ROUNDTRIP(net_service, &ns, &nsd);
	free(t);
	REJECT_GARBAGE(net_service);
}

static void test_table(void **state)
{
	struct oak_msg_table_query q = {0}, qd;
	struct oak_table_instance inst[2] = {
	    {.instance_number = 0, .state = OAK_INSTANCE_RUNNING},
	    {.instance_number = 1, .state = OAK_INSTANCE_CREATING, .node_port = 50103},
	};
	struct oak_msg_service_table st = {.found = true, .instances = inst, .n_instances = 2}, sd;
	char *t;

	(void)state;
	strcpy(q.node_id, "n1");
	strcpy(q.service_ip, "10.30.30.30");
	t = ROUNDTRIP(table_query, &q, &qd);
	free(t);
	REJECT_GARBAGE(table_query);
	REJECT(table_query, "{\"node_id\":\"n\"}", "service_ip: a query needs");
	REJECT(table_query, "{\"node_id\":\"n\",\"service_ip\":\"8.8.8.8\"}",
	       "service_ip: \"8.8.8.8\" is not a Service IP");

	strcpy(st.job_name, "clientserver.test.nginx.test");
	strcpy(st.rr_ip, "10.30.30.30");
	strcpy(inst[0].instance_ip, "10.30.0.2");
	strcpy(inst[0].node_id, "n1");
	strcpy(inst[0].node_ip, "192.0.2.1");
	strcpy(inst[0].namespace_ip, "10.18.0.66");
	strcpy(inst[1].instance_ip, "10.30.0.3");
	strcpy(inst[1].node_id, "n2");
	strcpy(inst[1].node_ip, "192.0.2.2");
	t = ROUNDTRIP(service_table, &st, &sd);
	assert_int_equal(sd.n_instances, 2);
	assert_string_equal(sd.instances[1].node_ip, "192.0.2.2");
	assert_int_equal(sd.instances[1].state, OAK_INSTANCE_CREATING);
	assert_int_equal(sd.instances[1].node_port, 50103);
	free(t);
	oak_msg_service_table_free(&sd);
	REJECT_GARBAGE(service_table);
	REJECT(service_table,
	       "{\"job_name\":\"a.b.c.d\",\"found\":true,\"instances\":[{\"instance_ip\":"
	       "\"10.30.0.1\",\"node_id\":\"n\",\"node_ip\":\"1.2.3.4\",\"state\":\"RUNNING\"},"
	       "{\"instance_ip\":\"10.30.0.2\",\"node_id\":\"n\",\"node_ip\":\"1.2.3.4\"}]}",
	       "instances[1].state: missing required field");
	REJECT(service_table,
	       "{\"job_name\":\"a.b.c.d\",\"found\":true,\"instances\":[{\"instance_ip\":"
	       "\"10.30.0.1\",\"node_id\":\"n\",\"node_ip\":\"1.2.3.4.5\",\"state\":\"DEAD\"}]}",
	       "instances[0].node_ip: ");
	REJECT(service_table,
	       "{\"job_name\":\"a.b.c.d\",\"found\":false,\"instances\":[{\"instance_ip\":"
	       "\"10.30.0.1\",\"node_id\":\"n\",\"node_ip\":\"1.2.3.4\",\"state\":\"DEAD\"}]}",
	       "instances: must be empty");
	/* not found by address: no job name to give (a node must take it) */
	{
		const char *nf = "{\"job_name\":\"\",\"query_ip\":\"10.30.200.1\",\"found\":false,"
				 "\"instances\":[]}";

		assert_int_equal(oak_msg_service_table_decode(nf, strlen(nf), &sd, NULL, 0), 0);
		assert_false(sd.found);
		oak_msg_service_table_free(&sd);
	}
	REJECT(service_table, "{\"job_name\":\"\",\"found\":false,\"instances\":[]}",
	       "job_name: job_name or query_ip required");
	REJECT(service_table, "{\"job_name\":\"\",\"query_ip\":\"10.30.0.1\",\"found\":true,\"instances\":[]}",
	       "job_name");
}

static void test_cluster_msgs(void **state)
{
	struct oak_msg_cluster_hello h = {.location = {true, 1, 2}, .radius_km = 30}, hd;
	struct oak_msg_cluster_info ci = {.active_nodes = 3,
					  .vcpus_total = 6,
					  .vcpus_free = 2.5,
					  .memory_total_mb = 3000,
					  .memory_free_mb = 1000},
				    cid;
	struct oak_msg_cluster_undeploy u = {.instance_number = -1}, ud;
	struct oak_msg_cluster_scale sc = {.replicas = 3}, scd;
	char *t;

	(void)state;
	strcpy(h.cluster_id, "c1");
	strcpy(h.name, "munich");
	t = ROUNDTRIP(cluster_hello, &h, &hd);
	free(t);
	REJECT_GARBAGE(cluster_hello);

	strcpy(ci.cluster_id, "c1");
	ci.virtualization.n = 1;
	strcpy(ci.virtualization.v[0], "container");
	ci.arch.n = 2;
	strcpy(ci.arch.v[0], "amd64");
	strcpy(ci.arch.v[1], "arm64");
	t = ROUNDTRIP(cluster_info, &ci, &cid);
	assert_int_equal(cid.arch.n, 2);
	assert_true(cid.vcpus_free == 2.5);
	free(t);
	REJECT_GARBAGE(cluster_info);
	REJECT(cluster_info, "{\"cluster_id\":\"c\",\"vcpus_total\":1,\"vcpus_free\":2}",
	       "vcpus_free: exceeds");

	strcpy(u.service_id, "s1");
	strcpy(u.job_name, "a.b.c.d");
	t = ROUNDTRIP(cluster_undeploy, &u, &ud);
	assert_int_equal(ud.instance_number, -1);
	free(t);
	REJECT_GARBAGE(cluster_undeploy);

	strcpy(sc.service_id, "s1");
	strcpy(sc.job_name, "a.b.c.d");
	t = ROUNDTRIP(cluster_scale, &sc, &scd);
	free(t);
	REJECT_GARBAGE(cluster_scale);
}

static void test_cluster_deploy(void **state)
{
	struct oak_msg_cluster_deploy m = {.instance_number = 0}, d;
	struct oak_service svc;
	char *t, err[256];

	(void)state;
	strcpy(m.service_id, "s1");
	strcpy(m.job_name, "clientserver.test.nginx.test");
	strcpy(m.instance_ip, "10.30.0.2");
	strcpy(m.rr_ip, "10.30.30.30");
	m.service = json_pack("{s:s,s:s,s:s,s:s,s:i,s:s,s:{s:s}}", "microservice_name", "nginx",
			      "microservice_namespace", "test", "virtualization", "container",
			      "code", "nginx", "memory", 100, "port", "6080:60/tcp", "addresses",
			      "rr_ip", "10.30.30.30");
	t = ROUNDTRIP(cluster_deploy, &m, &d);
	assert_true(json_equal(m.service, d.service));
	assert_int_equal(oak_msg_cluster_deploy_service(&d, &svc, err, sizeof(err)), 0);
	assert_string_equal(svc.job_name, "clientserver.test.nginx.test");
	assert_int_equal(svc.res.memory_mb, 100);
	oak_service_free(&svc);
	oak_msg_cluster_deploy_free(&d);
	oak_msg_cluster_deploy_free(&m);
	assert_null(m.service);
	free(t);
	REJECT_GARBAGE(cluster_deploy);
	REJECT(cluster_deploy,
	       "{\"service_id\":\"s\",\"job_name\":\"a.b.c.d\",\"instance_number\":0,"
	       "\"instance_ip\":\"10.30.0.2\",\"service\":{\"microservice_name\":\"c\","
	       "\"microservice_namespace\":\"d\",\"virtualization\":\"container\","
	       "\"code\":\"x\",\"memroy\":1}}",
	       "service.memroy: unknown field");
	REJECT(cluster_deploy,
	       "{\"service_id\":\"s\",\"job_name\":\"a.b.c.d\",\"instance_number\":0,"
	       "\"instance_ip\":\"10.30.0.2\",\"service\":{\"microservice_name\":\"x\","
	       "\"microservice_namespace\":\"d\",\"virtualization\":\"container\","
	       "\"code\":\"x\"}}",
	       "service: names a.b.x.d, but job_name is a.b.c.d");
	REJECT(cluster_deploy,
	       "{\"service_id\":\"s\",\"job_name\":\"a.b.c.d\",\"instance_number\":0,"
	       "\"instance_ip\":\"10.30.0.2\",\"service\":[]}",
	       "service: expected object");
}

static void test_long_strings(void **state)
{
	char buf[2048];

	(void)state;
	snprintf(buf, sizeof(buf),
		 "{\"node_id\":\"%0100d\",\"underlay_ip\":\"1.2.3.4\",\"architecture\":\"x\"}", 0);
	REJECT(node_hello, buf, "node_id: longer than 64 characters");
	REJECT(node_hello,
	       "{\"node_id\":\"a\\u0000b\",\"underlay_ip\":\"1.2.3.4\",\"architecture\":\"x\"}",
	       "is not allowed without JSON_ALLOW_NUL");
}

/* every fuzz seed under tests/data/msg decodes: the fuzzers start from
 * valid messages, not from rejected ones */
static char *read_seed(const char *name, size_t *len)
{
	char path[512];
	FILE *f;
	char *buf = malloc(OAK_MSG_MAX_BYTES + 1);

	snprintf(path, sizeof(path), "%s/msg/%s/seed.json", OAK_TEST_DATA, name);
	f = fopen(path, "rb");
	if (!f)
		fail_msg("cannot open %s", path);
	*len = fread(buf, 1, OAK_MSG_MAX_BYTES, f);
	buf[*len] = '\0';
	fclose(f);
	return buf;
}

#define SEED_OK(name)                                                                              \
	do {                                                                                       \
		struct oak_msg_##name sm_;                                                         \
		char serr_[512] = "";                                                              \
		size_t slen_;                                                                      \
		char *sbuf_ = read_seed(#name, &slen_);                                            \
		if (oak_msg_##name##_decode(sbuf_, slen_, &sm_, serr_, sizeof(serr_)))             \
			fail_msg("seed %s: %s", #name, serr_);                                     \
		oak_msg_##name##_free(&sm_);                                                       \
		free(sbuf_);                                                                       \
	} while (0)

static void test_seeds(void **state)
{
	(void)state;
	SEED_OK(node_hello);
	SEED_OK(status);
	SEED_OK(node_info);
	SEED_OK(job_usage);
	SEED_OK(instance_state);
	SEED_OK(deploy);
	SEED_OK(delete);
	SEED_OK(subnet);
	SEED_OK(subnet_request);
	SEED_OK(table_query);
	SEED_OK(service_table);
	SEED_OK(net_service);
	SEED_OK(interest);
	SEED_OK(cluster_hello);
	SEED_OK(cluster_info);
	SEED_OK(cluster_deploy);
	SEED_OK(cluster_undeploy);
	SEED_OK(cluster_scale);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_topics),
	    cmocka_unit_test(test_states),
	    cmocka_unit_test(test_node_hello),
	    cmocka_unit_test(test_status),
	    cmocka_unit_test(test_node_info),
	    cmocka_unit_test(test_job_usage),
	    cmocka_unit_test(test_instance_state),
	    cmocka_unit_test(test_deploy),
	    cmocka_unit_test(test_delete_subnet_interest),
	    cmocka_unit_test(test_table),
	    cmocka_unit_test(test_cluster_msgs),
	    cmocka_unit_test(test_cluster_deploy),
	    cmocka_unit_test(test_long_strings),
	    cmocka_unit_test(test_seeds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
