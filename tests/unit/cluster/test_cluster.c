/* Unit tests of oak-cluster's pure logic: node registry and timeouts, the
 * node subnet allocator, the Instance IP allocator, resource aggregation,
 * interests, service tables and placement. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cluster.h"
#include "sched_glue.h"

/* ------------------------------------------------------------ registry */

static void test_registry_timeout(void **state)
{
	struct ocl_cluster c;
	char lost[4][OAK_ID_LEN];
	struct ocl_node *a, *b;

	(void)state;
	ocl_cluster_init(&c, "c1");
	a = ocl_node_get(&c, "a", 1000);
	b = ocl_node_get(&c, "b", 1000);
	assert_non_null(a);
	assert_non_null(b);
	assert_ptr_equal(ocl_node_get(&c, "a", 5000), ocl_node_find(&c, "a"));
	assert_int_equal(ocl_nodes_active(&c), 2);
	/* exactly at the timeout: still alive */
	assert_int_equal(ocl_nodes_expire(&c, 4000, 3000, lost, 4), 0);
	/* b speaks, a stays silent */
	b = ocl_node_find(&c, "b");
	assert_false(ocl_node_seen(b, 3500));
	assert_int_equal(ocl_nodes_expire(&c, 4001, 3000, lost, 4), 1);
	assert_string_equal(lost[0], "a");
	a = ocl_node_find(&c, "a");
	assert_int_equal(a->state, OCL_NODE_LOST);
	assert_int_equal(ocl_nodes_active(&c), 1);
	/* busy with a deploy: not lost by silence until that ends */
	b->busy_until_ms = 9500;
	assert_int_equal(ocl_nodes_expire(&c, 9000, 3000, lost, 4), 0);
	b->busy_until_ms = 0;
	/* a lost node is reported once only */
	assert_int_equal(ocl_nodes_expire(&c, 9000, 3000, lost, 4), 1);
	assert_string_equal(lost[0], "b");
	assert_int_equal(ocl_nodes_expire(&c, 20000, 3000, lost, 4), 0);
	/* it comes back */
	assert_true(ocl_node_seen(a, 21000));
	assert_int_equal(a->state, OCL_NODE_ACTIVE);
	assert_false(ocl_node_seen(a, 21500));
	/* time never goes backwards for last_seen */
	ocl_node_seen(a, 100);
	assert_int_equal(a->last_seen_ms, 21500);
	ocl_cluster_free(&c);
}

static void test_registry_expire_max(void **state)
{
	struct ocl_cluster c;
	char lost[2][OAK_ID_LEN], id[8];

	(void)state;
	ocl_cluster_init(&c, "c1");
	for (int i = 0; i < 5; i++) {
		snprintf(id, sizeof(id), "n%d", i);
		assert_non_null(ocl_node_get(&c, id, 0));
	}
	assert_int_equal(ocl_nodes_expire(&c, 10000, 3000, lost, 2), 2);
	assert_int_equal(ocl_nodes_expire(&c, 10000, 3000, lost, 2), 2);
	assert_int_equal(ocl_nodes_expire(&c, 10000, 3000, lost, 2), 1);
	assert_int_equal(ocl_nodes_active(&c), 0);
	assert_null(ocl_node_get(&c, "", 0));
	ocl_cluster_free(&c);
}

static void test_registry_hello_info(void **state)
{
	struct ocl_cluster c;
	struct oak_msg_node_hello h = {0};
	struct oak_msg_node_info m = {0};
	struct ocl_node *n;

	(void)state;
	ocl_cluster_init(&c, "c1");
	n = ocl_node_get(&c, "n1", 0);
	strcpy(h.node_id, "n1");
	strcpy(h.underlay_ip, "192.168.1.1");
	strcpy(h.architecture, "amd64");
	h.virtualization.n = 1;
	strcpy(h.virtualization.v[0], "native");
	h.vcpus = 4;
	h.memory_mb = 8000;
	ocl_node_apply_hello(n, &h);
	assert_true(n->have_info);
	assert_int_equal(n->memory_free_mb, 8000); /* until the first report */
	m.vcpus = 4;
	m.vcpus_free = 1.5;
	m.memory_mb = 8000;
	m.memory_free_mb = 2000;
	ocl_node_apply_info(n, &m);
	assert_int_equal(n->memory_free_mb, 2000);
	assert_string_equal(n->arch, "amd64"); /* kept when the report has none */
	assert_int_equal(n->runtimes.n, 1);
	ocl_node_apply_hello(n, &h); /* re-hello does not reset measured resources */
	assert_int_equal(n->memory_free_mb, 2000);
	ocl_cluster_free(&c);
}

/* ------------------------------------------------------------ subnets */

static void test_subnets(void **state)
{
	struct ocl_subnets s;
	char a[OAK_CIDR_LEN], b[OAK_CIDR_LEN], x[OAK_CIDR_LEN];

	(void)state;
	assert_int_equal(ocl_subnets_init(&s, "10.19.0.0/20"), -1); /* outside 10.18/16 */
	assert_int_equal(ocl_subnets_init(&s, "10.18.0.1/20"), -1); /* host bits */
	assert_int_equal(ocl_subnets_init(&s, "10.18.0.0/27"), -1); /* smaller than a /26 */
	assert_int_equal(ocl_subnets_init(&s, "nonsense"), -1);
	assert_int_equal(ocl_subnets_init(&s, "10.18.16.0/20"), 0);
	assert_int_equal(s.count, 64);

	assert_int_equal(ocl_subnet_assign(&s, "n1", NULL, a), 0);
	assert_string_equal(a, "10.18.16.0/26");
	assert_int_equal(ocl_subnet_assign(&s, "n2", "", b), 0);
	assert_string_equal(b, "10.18.16.64/26");
	/* stable: a re-registration gets the same one, whatever it asks */
	assert_int_equal(ocl_subnet_assign(&s, "n1", "10.18.17.0/26", x), 0);
	assert_string_equal(x, a);
	/* a new node keeps the subnet it says it holds, if free and ours */
	assert_int_equal(ocl_subnet_assign(&s, "n3", "10.18.20.128/26", x), 0);
	assert_string_equal(x, "10.18.20.128/26");
	/* taken by another node, or outside the block, or not a /26: next free */
	assert_int_equal(ocl_subnet_assign(&s, "n4", "10.18.16.64/26", x), 0);
	assert_string_equal(x, "10.18.16.128/26");
	assert_int_equal(ocl_subnet_assign(&s, "n5", "10.18.0.0/26", x), 0);
	assert_string_equal(x, "10.18.16.192/26");
	assert_int_equal(ocl_subnet_assign(&s, "n6", "10.18.17.32/26", x), 0);
	assert_string_equal(x, "10.18.17.0/26");
	/* release and claim (restoring state) */
	assert_int_equal(ocl_subnet_release(&s, "n2"), 0);
	assert_int_equal(ocl_subnet_release(&s, "n2"), -1);
	assert_int_equal(ocl_subnet_claim(&s, "n9", "10.18.16.64/26"), 0);
	assert_int_equal(ocl_subnet_claim(&s, "n8", "10.18.16.64/26"), -1);
	assert_int_equal(ocl_subnet_assign(&s, "n9", NULL, x), 0);
	assert_string_equal(x, "10.18.16.64/26");
	/* claiming moves a node's slot */
	assert_int_equal(ocl_subnet_claim(&s, "n9", "10.18.31.192/26"), 0);
	assert_int_equal(ocl_subnet_assign(&s, "n9", NULL, x), 0);
	assert_string_equal(x, "10.18.31.192/26");
	assert_int_equal(ocl_subnet_claim(&s, "n9", "10.18.32.0/26"), -1); /* outside */
	ocl_subnets_free(&s);
}

static void test_subnets_full(void **state)
{
	struct ocl_subnets s;
	char x[OAK_CIDR_LEN], id[8];

	(void)state;
	assert_int_equal(ocl_subnets_init(&s, "10.18.0.0/24"), 0);
	assert_int_equal(s.count, 4);
	for (int i = 0; i < 4; i++) {
		snprintf(id, sizeof(id), "n%d", i);
		assert_int_equal(ocl_subnet_assign(&s, id, NULL, x), 0);
	}
	assert_int_equal(ocl_subnet_assign(&s, "n4", NULL, x), -1);
	assert_int_equal(ocl_subnet_assign(&s, "n2", NULL, x), 0); /* its own still */
	assert_string_equal(x, "10.18.0.128/26");
	assert_int_equal(ocl_subnet_assign(&s, "", NULL, x), -1);
	ocl_subnets_free(&s);
}

/* a subnet the root hands out: checked, and claimed in the local block so
 * that the block never gives it to another node */
static void test_subnet_from_root(void **state)
{
	struct ocl_subnets s;
	char x[OAK_CIDR_LEN];

	(void)state;
	assert_true(ocl_subnet_valid("10.18.200.0/26"));
	assert_true(ocl_subnet_valid("10.18.0.192/26"));
	assert_false(ocl_subnet_valid("10.18.200.0/25"));  /* not a /26 */
	assert_false(ocl_subnet_valid("10.18.200.32/26")); /* host bits */
	assert_false(ocl_subnet_valid("10.19.0.0/26"));	   /* outside 10.18.0.0/16 */
	assert_false(ocl_subnet_valid(""));
	assert_false(ocl_subnet_valid(NULL));
	assert_false(ocl_subnet_valid("10.18.0.0"));

	assert_int_equal(ocl_subnets_init(&s, "10.18.0.0/24"), 0);
	assert_null(ocl_subnet_owner(&s, "10.18.0.64/26"));
	assert_int_equal(ocl_subnet_assign(&s, "a", NULL, x), 0); /* 10.18.0.0/26 */
	assert_string_equal(ocl_subnet_owner(&s, "10.18.0.0/26"), "a");
	assert_null(ocl_subnet_owner(&s, "10.18.200.0/26")); /* outside the block */
	/* the root gives b 10.18.0.64/26: claimed, the block skips it */
	assert_int_equal(ocl_subnet_claim(&s, "b", "10.18.0.64/26"), 0);
	assert_int_equal(ocl_subnet_assign(&s, "c", NULL, x), 0);
	assert_string_equal(x, "10.18.0.128/26");
	/* a's block subnet replaced by the root's: its slot is free again */
	assert_int_equal(ocl_subnet_release(&s, "a"), 0);
	assert_null(ocl_subnet_owner(&s, "10.18.0.0/26"));
	ocl_subnets_free(&s);
	/* an empty table (not initialised) owns nothing */
	memset(&s, 0, sizeof(s));
	assert_null(ocl_subnet_owner(&s, "10.18.0.0/26"));
}

/* ------------------------------------------------------------ Instance IPs */

static void test_ip_alloc(void **state)
{
	uint32_t used[] = {0x0a1e0001u, 0x0a1e0002u, 0x0a1e0004u};
	uint32_t cur = 0x0a1e0000u, a;

	(void)state;
	assert_int_equal(ocl_ip_alloc(used, 3, &cur, &a), 0);
	assert_int_equal(a, 0x0a1e0003u);
	assert_int_equal(ocl_ip_alloc(used, 3, &cur, &a), 0);
	assert_int_equal(a, 0x0a1e0005u); /* next-fit, skips used */
	/* .255 and .0 are skipped */
	cur = 0x0a1e00feu;
	assert_int_equal(ocl_ip_alloc(NULL, 0, &cur, &a), 0);
	assert_int_equal(a, 0x0a1e0101u);
	/* wraps at the end of the /16 */
	cur = 0x0a1efffeu;
	assert_int_equal(ocl_ip_alloc(used, 3, &cur, &a), 0);
	assert_int_equal(a, 0x0a1e0003u);
	/* a cursor outside the range starts at its beginning */
	cur = 0;
	assert_int_equal(ocl_ip_alloc(used, 3, &cur, &a), 0);
	assert_int_equal(a, 0x0a1e0003u);
}

static void test_ip_alloc_full(void **state)
{
	uint32_t *used = malloc(65536 * sizeof(*used)), cur = 0, a;

	(void)state;
	for (uint32_t i = 0; i < 65536; i++)
		used[i] = 0x0a1e0000u | i;
	assert_int_equal(ocl_ip_alloc(used, 65536, &cur, &a), -1);
	used[1234] = 0; /* 10.30.4.210 free */
	assert_int_equal(ocl_ip_alloc(used, 65536, &cur, &a), 0);
	assert_int_equal(a, 0x0a1e0000u | 1234);
	free(used);
}

static void test_instance_ip_no_collision(void **state)
{
	struct ocl_cluster c;
	struct ocl_service *s;
	struct ocl_instance *in;
	char ip[OAK_IP4_LEN];

	(void)state;
	ocl_cluster_init(&c, "c1");
	s = ocl_service_get(&c, "a.b.c.d");
	strcpy(s->rr_ip, "10.30.0.1");
	strcpy(s->closest_ip, "10.30.0.2");
	in = ocl_instance_add(s, 0);
	strcpy(in->instance_ip, "10.30.0.3");
	s->spec =
	    json_pack("{s:{s:[{s:s}]}}", "addresses", "instances", "instance_ip", "10.30.0.4");
	assert_int_equal(ocl_alloc_instance_ip(&c, ip), 0);
	assert_string_equal(ip, "10.30.0.5");
	in = ocl_instance_add(s, ocl_instance_next_number(s));
	assert_int_equal(in->number, 1);
	strcpy(in->instance_ip, ip);
	assert_int_equal(ocl_alloc_instance_ip(&c, ip), 0);
	assert_string_equal(ip, "10.30.0.6");
	/* service IP lookups, by Service IP and by Instance IP */
	bool by_inst;
	assert_ptr_equal(ocl_service_by_ip(&c, "10.30.0.2", &by_inst), s);
	assert_false(by_inst);
	assert_ptr_equal(ocl_service_by_ip(&c, "10.30.0.5", &by_inst), s);
	assert_true(by_inst);
	assert_null(ocl_service_by_ip(&c, "10.30.9.9", &by_inst));
	ocl_cluster_free(&c);
}

/* ------------------------------------------------------------ aggregation */

static struct ocl_node *mknode(struct ocl_cluster *c, const char *id, double cpu, double cpu_free,
			       int64_t mem, int64_t mem_free, const char *arch, const char *rt)
{
	struct ocl_node *n = ocl_node_get(c, id, 0);

	n->vcpus = (uint32_t)cpu;
	n->vcpus_free = cpu_free;
	n->memory_mb = mem;
	n->memory_free_mb = mem_free;
	strcpy(n->arch, arch);
	n->runtimes.n = 1;
	strcpy(n->runtimes.v[0], rt);
	n->have_info = true;
	snprintf(n->underlay_ip, sizeof(n->underlay_ip), "192.168.0.%zu", c->n_nodes);
	strcpy(n->subnet, "10.18.0.0/26");
	return n;
}

static void test_aggregate(void **state)
{
	struct ocl_cluster c;
	struct oak_msg_cluster_info a, b;

	(void)state;
	ocl_cluster_init(&c, "c1");
	c.location.set = true;
	c.location.lat = 48.1;
	mknode(&c, "n1", 4, 2.5, 8000, 6000, "amd64", "native");
	mknode(&c, "n2", 2, 1.0, 4000, 1000, "arm64", "container");
	mknode(&c, "n3", 8, 8.0, 16000, 16000, "amd64", "native")->state = OCL_NODE_LOST;
	ocl_node_get(&c, "n4", 0); /* no resources known yet: not counted */
	ocl_aggregate(&c, &a);
	assert_string_equal(a.cluster_id, "c1");
	assert_int_equal(a.active_nodes, 2);
	assert_true(a.vcpus_total == 6.0);
	assert_true(a.vcpus_free == 3.5);
	assert_int_equal(a.memory_total_mb, 12000);
	assert_int_equal(a.memory_free_mb, 7000);
	assert_int_equal(a.virtualization.n, 2);
	assert_int_equal(a.arch.n, 2);
	assert_true(a.location.set && a.location.lat == 48.1);

	/* significance */
	b = a;
	assert_false(ocl_info_significant(&a, &b));
	b.vcpus_free = a.vcpus_free + 0.5; /* < 10 % of 6 */
	assert_false(ocl_info_significant(&a, &b));
	b.vcpus_free = a.vcpus_free + 0.7;
	assert_true(ocl_info_significant(&a, &b));
	b = a;
	b.memory_free_mb -= 1300;
	assert_true(ocl_info_significant(&a, &b));
	b = a;
	b.active_nodes = 1;
	assert_true(ocl_info_significant(&a, &b));
	b = a;
	strcpy(b.arch.v[1], "riscv64");
	assert_true(ocl_info_significant(&a, &b));
	/* the node comes back: significant */
	ocl_node_find(&c, "n3")->state = OCL_NODE_ACTIVE;
	ocl_aggregate(&c, &b);
	assert_int_equal(b.active_nodes, 3);
	assert_true(ocl_info_significant(&a, &b));
	/* free never above total, even when a report says so */
	ocl_node_find(&c, "n2")->memory_free_mb = 99999;
	ocl_aggregate(&c, &b);
	assert_int_equal(b.memory_free_mb, 6000 + 4000 + 16000);
	ocl_cluster_free(&c);
}

/* ------------------------------------------------------------ interests, tables */

static void test_interests(void **state)
{
	struct ocl_cluster c;
	struct ocl_service *srv, *cli;
	struct ocl_instance *in;

	(void)state;
	ocl_cluster_init(&c, "c1");
	mknode(&c, "n1", 2, 2, 1000, 1000, "amd64", "native");
	srv = ocl_service_get(&c, "app.ns.srv.ns");
	cli = ocl_service_get(&c, "app.ns.cli.ns");
	assert_false(ocl_interested_any(&c, srv));
	ocl_interest_add(srv, "n1");
	ocl_interest_add(srv, "n1");
	assert_int_equal(srv->n_interest, 1);
	ocl_interest_add(srv, "n2");
	assert_true(ocl_interest_has(srv, "n2"));
	assert_true(ocl_interested_any(&c, srv));
	assert_true(ocl_interest_remove(srv, "n1"));
	assert_false(ocl_interest_remove(srv, "n1"));
	ocl_interest_add(cli, "n2");
	ocl_interest_drop_node(&c, "n2"); /* lost */
	assert_int_equal(srv->n_interest, 0);
	assert_int_equal(cli->n_interest, 0);
	assert_false(ocl_interested_any(&c, srv));

	/* a client instance whose SLA talks to srv makes srv interesting */
	cli->spec = json_pack("{s:[{s:s}]}", "connectivity", "target_microservice_id", "srv.ns");
	in = ocl_instance_add(cli, 0);
	strcpy(in->node_id, "n1");
	in->state = OAK_INSTANCE_RUNNING;
	assert_true(ocl_interested_any(&c, srv));
	in->state = OAK_INSTANCE_DEAD;
	assert_false(ocl_interested_any(&c, srv));
	/* so does an instance of srv itself */
	in = ocl_instance_add(srv, 0);
	strcpy(in->node_id, "n1");
	in->state = OAK_INSTANCE_CREATING;
	assert_true(ocl_interested_any(&c, srv));
	ocl_cluster_free(&c);
}

static void test_table(void **state)
{
	struct ocl_cluster c;
	struct ocl_service *s;
	struct ocl_instance *in;
	struct oak_msg_service_table t;

	(void)state;
	ocl_cluster_init(&c, "c1");
	mknode(&c, "n1", 2, 2, 1000, 1000, "amd64", "native");
	mknode(&c, "n2", 2, 2, 1000, 1000, "amd64", "native")->state = OCL_NODE_LOST;
	s = ocl_service_get(&c, "a.b.c.d");
	strcpy(s->rr_ip, "10.30.30.30");
	const char *nodes[] = {"n1", "n2", "n1", ""};
	enum oak_instance_state st[] = {OAK_INSTANCE_RUNNING, OAK_INSTANCE_RUNNING,
					OAK_INSTANCE_CREATING, OAK_INSTANCE_RUNNING};
	for (uint32_t i = 0; i < 4; i++) {
		in = ocl_instance_add(s, i);
		snprintf(in->instance_ip, sizeof(in->instance_ip), "10.30.1.%u", i + 1);
		strcpy(in->node_id, nodes[i]);
		in->state = st[i];
	}
	assert_int_equal(ocl_service_table(&c, s, "10.30.30.30", &t), 0);
	assert_true(t.found);
	assert_string_equal(t.query_ip, "10.30.30.30");
	assert_string_equal(t.rr_ip, "10.30.30.30");
	assert_int_equal(t.n_instances, 1); /* running, placed, on an active node */
	assert_string_equal(t.instances[0].instance_ip, "10.30.1.1");
	assert_string_equal(t.instances[0].node_ip, "192.168.0.1");
	assert_string_equal(t.instances[0].cluster_id, "c1");
	oak_msg_service_table_free(&t);
	ocl_instance_remove(s, 0);
	assert_null(ocl_instance_find(s, 0));
	assert_int_equal(ocl_instance_next_number(s), 0);
	assert_int_equal(ocl_instances_on(s, "n1"), 1);
	ocl_service_remove(&c, s);
	assert_null(ocl_service_find(&c, "a.b.c.d"));
	ocl_cluster_free(&c);
}

/* ------------------------------------------------------------ placement */

static void test_place_spread(void **state)
{
	struct ocl_cand c[3] = {
	    {.id = "n1", .vcpus_free = 2, .memory_free_mb = 4000, .runtimes = 0, .archs = 0},
	    {.id = "n2", .vcpus_free = 2, .memory_free_mb = 4000},
	    {.id = "n3", .vcpus_free = 2, .memory_free_mb = 4000},
	};
	struct ocl_req r = {.vcpus = 0.1, .memory_mb = 100};
	size_t idx[3];
	char why[256];

	(void)state;
	for (int i = 0; i < 3; i++) {
		c[i].runtimes = ocl_runtime_mask("native");
		c[i].archs = ocl_arch_mask("amd64");
	}
	r.runtime = ocl_runtime_mask("native");
	assert_int_equal(ocl_place(&r, c, 3, 3, 7, idx, why, sizeof(why)), 3);
	assert_true(idx[0] != idx[1] && idx[1] != idx[2] && idx[0] != idx[2]);
	/* one already holds an instance: the new one goes elsewhere */
	c[1].instances = 1;
	assert_int_equal(ocl_place(&r, c, 3, 1, 7, idx, why, sizeof(why)), 1);
	assert_true(idx[0] != 1);
	/* target_node */
	r.target_node = "n2";
	assert_int_equal(ocl_place(&r, c, 3, 1, 7, idx, why, sizeof(why)), 1);
	assert_int_equal(idx[0], 1);
	r.target_node = NULL;
	/* runtime nobody offers */
	r.runtime = ocl_runtime_mask("wasm");
	assert_int_equal(ocl_place(&r, c, 3, 1, 7, idx, why, sizeof(why)), 0);
	assert_non_null(strstr(why, "runtime"));
	/* no node at all */
	r.runtime = 0;
	assert_int_equal(ocl_place(&r, c, 0, 1, 7, idx, why, sizeof(why)), 0);
	/* too big for any single node */
	r.memory_mb = 5000;
	assert_int_equal(ocl_place(&r, c, 3, 1, 7, idx, why, sizeof(why)), 0);
	assert_non_null(strstr(why, "memory"));
}

/* ------------------------------------------------------------ heartbeats */

static void test_heartbeat_codec(void **state)
{
	uint8_t buf[OAK_HB_MAX], bad[OAK_HB_MAX];
	char longid[OAK_ID_LEN];
	struct oak_hb hb;
	int len;

	(void)state;
	len = oak_hb_encode(buf, sizeof(buf), "edge-1", "boot-a", 7);
	assert_int_equal(len, OAK_HB_HDR + 6);
	assert_int_equal(buf[0], 0xa5);
	assert_int_equal(oak_hb_decode(buf, (size_t)len, &hb), 0);
	assert_int_equal(hb.seq, 7);
	assert_string_equal(hb.id, "edge-1");
	assert_false(hb.truncated);
	assert_true(hb.id_hash == oak_hb_hash("edge-1"));
	assert_true(hb.boot_hash == oak_hb_hash("boot-a"));
	assert_true(oak_hb_hash("boot-a") != oak_hb_hash("boot-b"));
	/* sequence numbers big-endian, the full 32 bits */
	len = oak_hb_encode(buf, sizeof(buf), "edge-1", "boot-a", 0xfffffffeu);
	assert_int_equal(oak_hb_decode(buf, (size_t)len, &hb), 0);
	assert_int_equal(hb.seq, 0xfffffffeu);
	/* a long id is truncated to fit 64 bytes, its hash is of the whole */
	memset(longid, 'x', sizeof(longid) - 1);
	longid[sizeof(longid) - 1] = '\0';
	len = oak_hb_encode(buf, sizeof(buf), longid, "b", 1);
	assert_int_equal(len, OAK_HB_MAX);
	assert_int_equal(oak_hb_decode(buf, (size_t)len, &hb), 0);
	assert_true(hb.truncated);
	assert_int_equal(strlen(hb.id), OAK_HB_ID_MAX);
	assert_true(hb.id_hash == oak_hb_hash(longid));
	/* not heartbeats: empty id, short, wrong magic (a probe), version,
	 * length not matching id_len, NUL in the id */
	assert_int_equal(oak_hb_encode(buf, sizeof(buf), "", "b", 1), -1);
	assert_int_equal(oak_hb_encode(buf, 10, "a", "b", 1), -1);
	len = oak_hb_encode(buf, sizeof(buf), "edge-1", "boot-a", 1);
	assert_int_equal(oak_hb_decode(buf, OAK_HB_HDR - 1, &hb), -1);
	assert_int_equal(oak_hb_decode(buf, (size_t)len - 1, &hb), -1);
	memcpy(bad, buf, (size_t)len);
	bad[3] = 'k';
	assert_int_equal(oak_hb_decode(bad, (size_t)len, &hb), -1);
	memcpy(bad, buf, (size_t)len);
	bad[4] = 2;
	assert_int_equal(oak_hb_decode(bad, (size_t)len, &hb), -1);
	memcpy(bad, buf, (size_t)len);
	bad[OAK_HB_HDR + 2] = '\0';
	assert_int_equal(oak_hb_decode(bad, (size_t)len, &hb), -1);
}

static void test_heartbeat_liveness(void **state)
{
	struct ocl_cluster c;
	struct oak_msg_node_hello h = {0};
	char lost[4][OAK_ID_LEN];
	uint8_t buf[OAK_HB_MAX];
	struct oak_hb hb;
	struct ocl_node *a, *old;
	int len;

	(void)state;
	ocl_cluster_init(&c, "c1");
	c.report_timeout_ms = 4000; /* node_timeout 3 s + old nodes' 1 s reports */
	a = ocl_node_get(&c, "a", 1000);
	snprintf(h.boot_id, sizeof(h.boot_id), "boot-1");
	ocl_node_apply_hello(a, &h);
	ocl_node_seen(a, 1000);
	old = ocl_node_get(&c, "old", 1000);
	ocl_node_seen(old, 1000);
	a = ocl_node_find(&c, "a");
	/* heartbeats are matched by id and boot */
	len = oak_hb_encode(buf, sizeof(buf), "a", "boot-1", 1);
	assert_int_equal(oak_hb_decode(buf, (size_t)len, &hb), 0);
	assert_ptr_equal(ocl_node_by_hb(&c, &hb), a);
	len = oak_hb_encode(buf, sizeof(buf), "a", "boot-0", 1); /* earlier agent */
	assert_int_equal(oak_hb_decode(buf, (size_t)len, &hb), 0);
	assert_null(ocl_node_by_hb(&c, &hb));
	len = oak_hb_encode(buf, sizeof(buf), "ab", "boot-1", 1);
	assert_int_equal(oak_hb_decode(buf, (size_t)len, &hb), 0);
	assert_null(ocl_node_by_hb(&c, &hb));
	/* a: heartbeats every second, no report for 30 s: alive */
	for (int64_t t = 2000; t <= 31000; t += 1000) {
		assert_true(ocl_node_heartbeat(a, t, (uint32_t)t));
		if (t <= 4000)
			ocl_node_seen(old, t); /* old reports until 4 s */
		/* old (no heartbeat): lost after more than 4 s of report
		 * silence, not after node_timeout */
		assert_int_equal(ocl_nodes_expire(&c, t, 3000, lost, 4), t == 9000);
		if (t == 9000)
			assert_string_equal(lost[0], "old");
	}
	assert_int_equal(old->state, OCL_NODE_LOST);
	assert_int_equal(a->state, OCL_NODE_ACTIVE);
	/* reports alone no longer keep a node with heartbeats alive */
	ocl_node_seen(a, 34000);
	assert_int_equal(ocl_nodes_expire(&c, 34000, 3000, lost, 4), 0);
	assert_int_equal(ocl_nodes_expire(&c, 34001, 3000, lost, 4), 1);
	assert_string_equal(lost[0], "a");
	/* a heartbeat does not bring a LOST node back; an MQTT message does,
	 * and report silence rules until the next heartbeat */
	assert_false(ocl_node_heartbeat(a, 35000, 99));
	assert_int_equal(a->state, OCL_NODE_LOST);
	assert_true(ocl_node_seen(a, 36000));
	assert_int_equal(a->last_hb_ms, 0);
	assert_int_equal(ocl_nodes_expire(&c, 39500, 3000, lost, 4), 0);
	assert_true(ocl_node_heartbeat(a, 39600, 100));
	assert_int_equal(ocl_nodes_expire(&c, 42000, 3000, lost, 4), 0);
	/* a new agent (new boot_id in its hello) starts without heartbeat */
	snprintf(h.boot_id, sizeof(h.boot_id), "boot-2");
	ocl_node_apply_hello(a, &h);
	assert_int_equal(a->last_hb_ms, 0);
	len = oak_hb_encode(buf, sizeof(buf), "a", "boot-2", 1);
	assert_int_equal(oak_hb_decode(buf, (size_t)len, &hb), 0);
	assert_ptr_equal(ocl_node_by_hb(&c, &hb), a);
	/* busy (a deploy in progress) defers heartbeat silence too */
	assert_true(ocl_node_heartbeat(a, 43000, 2));
	a->busy_until_ms = 48000;
	assert_int_equal(ocl_nodes_expire(&c, 47000, 3000, lost, 4), 0);
	assert_int_equal(ocl_nodes_expire(&c, 48000, 3000, lost, 4), 1);
	ocl_cluster_free(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_registry_timeout),
	    cmocka_unit_test(test_registry_expire_max),
	    cmocka_unit_test(test_heartbeat_codec),
	    cmocka_unit_test(test_heartbeat_liveness),
	    cmocka_unit_test(test_registry_hello_info),
	    cmocka_unit_test(test_subnets),
	    cmocka_unit_test(test_subnets_full),
	    cmocka_unit_test(test_subnet_from_root),
	    cmocka_unit_test(test_ip_alloc),
	    cmocka_unit_test(test_ip_alloc_full),
	    cmocka_unit_test(test_instance_ip_no_collision),
	    cmocka_unit_test(test_aggregate),
	    cmocka_unit_test(test_interests),
	    cmocka_unit_test(test_table),
	    cmocka_unit_test(test_place_spread),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
