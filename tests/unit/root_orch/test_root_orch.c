/* oak-root's orchestration decisions: which cluster an instance goes to
 * (and the Oakestra status when none), and what one reconcile step does to
 * a service document (entries, placements, moves, re-placements, scaling,
 * rolling replacement), without store or bus. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "orch_int.h"
#include "placement.h"

/* ------------------------------------------------------------ fixtures */

#define MS 1000000000000LL /* a wall clock, ms */

struct fake {
	unsigned next; /* next Instance IP host part */
	char released[16][64];
	size_t n_released;
};

static int fake_alloc(void *arg, const char *owner, const char *wanted, char out[16])
{
	struct fake *f = arg;

	(void)owner;
	if (wanted && *wanted) {
		snprintf(out, 16, "%s", wanted);
		return 0;
	}
	snprintf(out, 16, "10.30.0.%u", ++f->next);
	return 0;
}

static void fake_release(void *arg, const char *owner)
{
	struct fake *f = arg;

	if (f->n_released < 16)
		snprintf(f->released[f->n_released++], 64, "%s", owner);
}

static struct root_cand cluster(const char *id, const char *name, double lat, double lon)
{
	struct root_cand c = {
	    .id = id,
	    .name = name,
	    .active = true,
	    .active_nodes = 2,
	    .vcpus_free = 4,
	    .memory_free_mb = 4000,
	    .runtimes = 0,
	    .archs = 0,
	    .loc_known = true,
	    .lat = lat,
	    .lon = lon,
	    .radius_km = 10,
	};

	c.runtimes = root_runtime_mask("container") | root_runtime_mask("native");
	c.archs = root_arch_mask("amd64");
	return c;
}

static json_t *service(int replicas, const char *extra)
{
	char text[2048];
	json_error_t je;
	json_t *d;

	snprintf(text, sizeof(text),
		 "{\"microserviceID\":\"aaaaaaaaaaaaaaaaaaaaaaaa\",\"applicationID\":\"b\","
		 "\"job_name\":\"clientserver.test.nginx.test\",\"app_name\":\"clientserver\","
		 "\"app_ns\":\"test\",\"microservice_name\":\"nginx\","
		 "\"microservice_namespace\":\"test\",\"virtualization\":\"container\","
		 "\"code\":\"docker.io/library/nginx:latest\",\"memory\":100,\"vcpus\":1,"
		 "\"port\":\"6080:60/tcp\",\"rr_ip\":\"10.30.30.30\",\"RR_ip\":\"10.30.30.30\","
		 "\"replicas\":%d,\"generation\":1,\"status\":\"REQUESTED\","
		 "\"instance_list\":[]%s%s}",
		 replicas, extra ? "," : "", extra ? extra : "");
	d = json_loads(text, 0, &je);
	if (!d)
		fail_msg("fixture: %s", je.text);
	return d;
}

struct world {
	struct root_cand c[3];
	struct fake f;
	struct root_rec_ctx ctx;
	struct root_acts acts;
};

static void world_init(struct world *w, size_t n)
{
	memset(w, 0, sizeof(*w));
	w->c[0] = cluster("c1", "munich", 48.14, 11.58);
	w->c[1] = cluster("c2", "berlin", 52.52, 13.40);
	w->c[2] = cluster("c3", "rome", 41.90, 12.50);
	w->ctx.cands = w->c;
	w->ctx.n = n;
	w->ctx.now_ms = MS;
	w->ctx.grace_ms = 10000;
	w->ctx.resend_ms = 5000;
	w->ctx.retry_ms = 3000;
	w->ctx.alloc_ip = fake_alloc;
	w->ctx.release_ip = fake_release;
	w->ctx.arg = &w->f;
}

static bool rec(struct world *w, json_t *doc)
{
	bool changed;
	char err[256];

	root_acts_free(&w->acts);
	if (root_reconcile(doc, &w->ctx, &w->acts, &changed, err, sizeof(err)))
		fail_msg("reconcile: %s", err);
	return changed;
}

static size_t count_acts(const struct world *w, enum root_act_kind k, const char *cid)
{
	size_t n = 0;

	for (size_t i = 0; i < w->acts.n; i++)
		n += w->acts.v[i].kind == k && (!cid || !strcmp(w->acts.v[i].cluster_id, cid));
	return n;
}

static const char *entry_str(json_t *doc, uint32_t n, const char *key)
{
	json_t *e = root_entry_find(doc, n);

	assert_non_null(e);
	return root_str(e, key);
}

static void report(struct world *w, json_t *doc, const char *cid, uint32_t n,
		   enum oak_instance_state st, const char *node, bool *table)
{
	struct oak_msg_instance_state m = {.instance_number = n, .state = st};
	bool changed, t;

	snprintf(m.job_name, sizeof(m.job_name), "clientserver.test.nginx.test");
	snprintf(m.service_id, sizeof(m.service_id), "aaaaaaaaaaaaaaaaaaaaaaaa");
	snprintf(m.node_id, sizeof(m.node_id), "%s", node);
	if (*node)
		snprintf(m.node_ip, sizeof(m.node_ip), "192.168.7.%u",
			 (unsigned)(strlen(node) % 200));
	if (st == OAK_INSTANCE_FAILED || st == OAK_INSTANCE_DEAD)
		snprintf(m.reason, sizeof(m.reason), "%s",
			 *node ? "exited with code 1" : "no node fits: 2 memory");
	root_acts_free(&w->acts);
	root_apply_state(doc, cid, &m, w->ctx.now_ms, &w->acts, &changed, &t);
	if (table)
		*table = t;
}

/* ------------------------------------------------------------ placement */

static void test_place_resources_and_spread(void **state)
{
	struct root_cand c[2] = {cluster("c1", "a", 0, 0), cluster("c2", "b", 0, 0)};
	struct root_req r = {.vcpus = 1, .memory_mb = 3000};
	char st[ROOT_STATUS_LEN], why[ROOT_DETAIL_LEN];

	(void)state;
	r.runtime = root_runtime_mask("container");
	c[0].memory_free_mb = 1000; /* too small */
	assert_int_equal(root_place(&r, c, 2, 1, st, why, sizeof(why)), 1);
	assert_string_equal(st, "");
	c[0].memory_free_mb = 4000;
	c[1].instances = 1; /* replicas spread before they stack */
	assert_int_equal(root_place(&r, c, 2, 1, st, why, sizeof(why)), 0);
	c[0].runtimes = root_runtime_mask("unikernel");
	assert_int_equal(root_place(&r, c, 2, 1, st, why, sizeof(why)), 1);
	c[1].excluded = true; /* it said it cannot */
	assert_int_equal(root_place(&r, c, 2, 1, st, why, sizeof(why)), -1);
	assert_string_equal(st, "NoActiveClusterWithCapacity");
	assert_non_null(strstr(why, "runtime"));
	c[1].excluded = false;
	c[1].active = false;
	assert_int_equal(root_place(&r, c, 2, 1, st, why, sizeof(why)), -1);
	assert_string_equal(st, "NoActiveClusterWithCapacity");
}

static void test_place_arch_and_gpu(void **state)
{
	struct root_cand c[2] = {cluster("c1", "a", 0, 0), cluster("c2", "b", 0, 0)};
	struct root_req r = {.vcpus = 0.5, .memory_mb = 10};
	char st[ROOT_STATUS_LEN], why[ROOT_DETAIL_LEN];

	(void)state;
	c[1].archs = root_arch_mask("arm64");
	r.archs = root_arch_mask("arm64");
	assert_int_equal(root_place(&r, c, 2, 7, st, why, sizeof(why)), 1);
	r.archs = 0;
	r.gpus = 1;
	c[0].gpus_free = 1;
	assert_int_equal(root_place(&r, c, 2, 7, st, why, sizeof(why)), 0);
	c[0].gpus_free = 0;
	assert_int_equal(root_place(&r, c, 2, 7, st, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "gpu"));
}

static void test_place_direct_statuses(void **state)
{
	struct root_cand c[2] = {cluster("c1", "munich", 0, 0), cluster("c2", "berlin", 0, 0)};
	struct root_req r = {.vcpus = 1, .memory_mb = 100};
	char st[ROOT_STATUS_LEN], why[ROOT_DETAIL_LEN];

	(void)state;
	snprintf(r.direct, sizeof(r.direct), "berlin");
	assert_int_equal(root_place(&r, c, 2, 3, st, why, sizeof(why)), 1);
	snprintf(r.direct, sizeof(r.direct), " c1 ; nowhere");
	assert_int_equal(root_place(&r, c, 2, 3, st, why, sizeof(why)), 0);
	snprintf(r.direct, sizeof(r.direct), "paris");
	assert_int_equal(root_place(&r, c, 2, 3, st, why, sizeof(why)), -1);
	assert_string_equal(st, "TargetClusterNotFound");
	assert_non_null(strstr(why, "paris"));
	snprintf(r.direct, sizeof(r.direct), "berlin");
	c[1].active = false;
	assert_int_equal(root_place(&r, c, 2, 3, st, why, sizeof(why)), -1);
	assert_string_equal(st, "TargetClusterNotActive");
	c[1].active = true;
	c[1].memory_free_mb = 10;
	assert_int_equal(root_place(&r, c, 2, 3, st, why, sizeof(why)), -1);
	assert_string_equal(st, "TargetClusterNoCapacity");
	assert_non_null(strstr(why, "memory"));
}

static void test_place_geo_and_latency(void **state)
{
	struct root_cand c[3] = {cluster("c1", "munich", 48.14, 11.58),
				 cluster("c2", "berlin", 52.52, 13.40),
				 cluster("c3", "rome", 41.90, 12.50)};
	struct root_req r = {.vcpus = 1, .memory_mb = 100};
	char st[ROOT_STATUS_LEN], why[ROOT_DETAIL_LEN];

	(void)state;
	/* within 100 km of Berlin */
	r.n_geo = 1;
	r.geo[0].lat = 52.4;
	r.geo[0].lon = 13.1;
	r.geo[0].threshold_km = 100;
	for (uint64_t seed = 0; seed < 8; seed++)
		assert_int_equal(root_place(&r, c, 3, seed, st, why, sizeof(why)), 1);
	/* nothing within 5 km of Paris */
	r.geo[0].lat = 48.85;
	r.geo[0].lon = 2.35;
	r.geo[0].threshold_km = 5;
	assert_int_equal(root_place(&r, c, 3, 0, st, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "geo"));
	/* users in Rome within 3 ms (about 200 km of fibre) */
	r.n_geo = 0;
	r.n_lat = 1;
	r.lat[0].lat = 41.89;
	r.lat[0].lon = 12.49;
	r.lat[0].threshold_ms = 3;
	assert_int_equal(root_place(&r, c, 3, 0, st, why, sizeof(why)), 2);
}

static void test_request_from_sla(void **state)
{
	json_t *doc =
	    service(1, "\"constraints\":[{\"type\":\"direct\",\"cluster\":\"berlin\"},"
		       "{\"type\":\"geo\",\"location\":\"52.5,13.4\",\"threshold\":50},"
		       "{\"type\":\"latency\",\"area\":\"munich\",\"threshold\":10},"
		       "{\"type\":\"latency\",\"location\":\"48.1,11.6\",\"threshold\":5}],"
		       "\"arch\":[\"arm64\"]");
	struct oak_service svc;
	struct root_req r;
	json_t *sla;
	char err[256], notes[512];

	(void)state;
	sla = root_sla_object(doc);
	assert_null(json_object_get(sla, "instance_list"));
	assert_null(json_object_get(sla, "replicas"));
	assert_null(json_object_get(sla, "rr_ip")); /* top-level: the root's */
	assert_non_null(json_object_get(sla, "constraints"));
	json_decref(sla);
	assert_int_equal(root_service_parse(doc, &svc, err, sizeof(err)), 0);
	root_req_from_service(&svc, &r, notes, sizeof(notes));
	assert_string_equal(r.direct, "berlin");
	assert_int_equal(r.n_geo, 1);
	assert_int_equal(r.n_lat, 1); /* the named area cannot be placed on a map */
	assert_non_null(strstr(notes, "munich"));
	assert_int_equal(r.memory_mb, 100);
	assert_true(r.archs == root_arch_mask("arm64"));
	assert_true(r.runtime == root_runtime_mask("container"));
	oak_service_free(&svc);
	json_decref(doc);
}

/* ------------------------------------------------------------ reconcile */

static void test_reconcile_places_replicas_once(void **state)
{
	struct world w;
	json_t *doc = service(2, NULL);

	(void)state;
	world_init(&w, 2);
	assert_true(rec(&w, doc));
	assert_int_equal(json_array_size(json_object_get(doc, "instance_list")), 2);
	assert_int_equal(count_acts(&w, ROOT_ACT_DEPLOY, NULL), 2);
	/* spread: one in each cluster */
	assert_int_equal(count_acts(&w, ROOT_ACT_DEPLOY, "c1"), 1);
	assert_int_equal(count_acts(&w, ROOT_ACT_DEPLOY, "c2"), 1);
	assert_string_equal(entry_str(doc, 0, "status"), "CLUSTER_SCHEDULED");
	assert_string_equal(entry_str(doc, 0, "instance_ip"), "10.30.0.1");
	assert_string_equal(entry_str(doc, 1, "instance_ip"), "10.30.0.2");
	/* again at once: nothing to do, nothing sent twice */
	assert_false(rec(&w, doc));
	assert_int_equal(w.acts.n, 0);
	/* no report for resend_ms: the deploys again, to the same clusters */
	w.ctx.now_ms += 5000;
	rec(&w, doc);
	assert_int_equal(count_acts(&w, ROOT_ACT_DEPLOY, NULL), 2);
	assert_int_equal(json_array_size(json_object_get(doc, "instance_list")), 2);
	root_acts_free(&w.acts);
	json_decref(doc);
}

static void test_reconcile_reports_and_strays(void **state)
{
	struct world w;
	json_t *doc = service(1, NULL);
	const char *cid;
	bool table;

	(void)state;
	world_init(&w, 2);
	rec(&w, doc);
	cid = entry_str(doc, 0, "cluster_id");
	char other[8];
	snprintf(other, sizeof(other), "%s", strcmp(cid, "c1") ? "c1" : "c2");
	report(&w, doc, cid, 0, OAK_INSTANCE_CREATING, "n1", &table);
	assert_false(table);
	report(&w, doc, cid, 0, OAK_INSTANCE_RUNNING, "n1", &table);
	assert_true(table);
	assert_string_equal(entry_str(doc, 0, "status"), "RUNNING");
	assert_string_equal(entry_str(doc, 0, "worker_id"), "n1");
	assert_string_equal(entry_str(doc, 0, "host_ip"), "192.168.7.2");
	/* the same instance reported by another cluster: one copy only */
	report(&w, doc, other, 0, OAK_INSTANCE_RUNNING, "n9", &table);
	assert_int_equal(count_acts(&w, ROOT_ACT_UNDEPLOY, other), 1);
	assert_string_equal(entry_str(doc, 0, "cluster_id"), cid);
	/* an instance number the root does not count */
	report(&w, doc, cid, 5, OAK_INSTANCE_RUNNING, "n1", &table);
	assert_int_equal(count_acts(&w, ROOT_ACT_UNDEPLOY, cid), 1);
	assert_int_equal(w.acts.v[0].number, 5);
	/* a service the root does not have at all */
	report(&w, NULL, cid, 0, OAK_INSTANCE_RUNNING, "n1", &table);
	assert_int_equal(count_acts(&w, ROOT_ACT_UNDEPLOY, cid), 1);
	root_acts_free(&w.acts);
	json_decref(doc);
}

static void run_everything(struct world *w, json_t *doc)
{
	json_t *e;
	size_t i;

	json_array_foreach(json_object_get(doc, "instance_list"), i,
			   e) if (!strcmp(root_str(e, "status"), "CLUSTER_SCHEDULED"))
	    report(w, doc, root_str(e, "cluster_id"), (uint32_t)root_int(e, "instance_number"),
		   OAK_INSTANCE_RUNNING, "n1", NULL);
}

static void test_reconcile_cluster_lost_moves_with_ip(void **state)
{
	struct world w;
	json_t *doc = service(1, "\"constraints\":[{\"type\":\"direct\",\"cluster\":\"c1;c2\"}]");
	char ip[16], from[8];

	(void)state;
	world_init(&w, 3);
	rec(&w, doc);
	run_everything(&w, doc);
	snprintf(ip, sizeof(ip), "%s", entry_str(doc, 0, "instance_ip"));
	snprintf(from, sizeof(from), "%s", entry_str(doc, 0, "cluster_id"));
	for (size_t i = 0; i < 3; i++)
		if (!strcmp(w.c[i].id, from)) {
			w.c[i].lost = true;
			w.c[i].active = false;
		}
	assert_true(rec(&w, doc));
	assert_int_equal(count_acts(&w, ROOT_ACT_UNDEPLOY, from), 1);
	assert_int_equal(count_acts(&w, ROOT_ACT_DEPLOY, NULL), 1);
	/* the other cluster the direct constraint allows, not c3 */
	assert_string_equal(entry_str(doc, 0, "cluster_id"), strcmp(from, "c1") ? "c1" : "c2");
	assert_string_equal(entry_str(doc, 0, "instance_ip"), ip);
	assert_string_equal(entry_str(doc, 0, "status"), "CLUSTER_SCHEDULED");
	assert_non_null(strstr(entry_str(doc, 0, "status_detail"), "lost"));
	/* both lost: a negative status that says why */
	for (size_t i = 0; i < 2; i++) {
		w.c[i].lost = true;
		w.c[i].active = false;
	}
	rec(&w, doc);
	assert_string_equal(entry_str(doc, 0, "status"), "TargetClusterNotActive");
	assert_string_equal(entry_str(doc, 0, "instance_ip"), ip);
	/* not tried again before retry_ms, then placed when one is back */
	w.c[0].lost = false;
	w.c[0].active = true;
	w.ctx.now_ms += 1000;
	rec(&w, doc);
	assert_string_equal(entry_str(doc, 0, "status"), "TargetClusterNotActive");
	w.ctx.now_ms += 3000;
	rec(&w, doc);
	assert_string_equal(entry_str(doc, 0, "status"), "CLUSTER_SCHEDULED");
	assert_string_equal(entry_str(doc, 0, "cluster_id"), "c1");
	root_acts_free(&w.acts);
	json_decref(doc);
}

static void test_reconcile_cluster_without_node(void **state)
{
	struct world w;
	json_t *doc = service(1, NULL);
	char first[8];

	(void)state;
	world_init(&w, 2);
	rec(&w, doc);
	snprintf(first, sizeof(first), "%s", entry_str(doc, 0, "cluster_id"));
	/* the cluster has no node that fits: it gives the instance back */
	report(&w, doc, first, 0, OAK_INSTANCE_FAILED, "", NULL);
	assert_string_equal(entry_str(doc, 0, "status"), "NO_WORKER_CAPACITY");
	assert_non_null(strstr(entry_str(doc, 0, "status_detail"), "no node fits"));
	rec(&w, doc);
	assert_int_equal(count_acts(&w, ROOT_ACT_DEPLOY, NULL), 1);
	assert_string_not_equal(entry_str(doc, 0, "cluster_id"), first);
	/* and the second cannot either: no cluster left */
	report(&w, doc, entry_str(doc, 0, "cluster_id"), 0, OAK_INSTANCE_FAILED, "", NULL);
	rec(&w, doc);
	assert_string_equal(entry_str(doc, 0, "status"), "NoActiveClusterWithCapacity");
	assert_int_equal(count_acts(&w, ROOT_ACT_DEPLOY, NULL), 0);
	root_acts_free(&w.acts);
	json_decref(doc);
}

static void test_reconcile_failed_waits_for_its_cluster(void **state)
{
	struct world w;
	json_t *doc = service(1, NULL);
	char first[8];

	(void)state;
	world_init(&w, 2);
	rec(&w, doc);
	run_everything(&w, doc);
	snprintf(first, sizeof(first), "%s", entry_str(doc, 0, "cluster_id"));
	report(&w, doc, first, 0, OAK_INSTANCE_FAILED, "n1", NULL);
	w.ctx.now_ms += 9000; /* its node restarts it, its cluster re-places it */
	assert_false(rec(&w, doc));
	assert_int_equal(w.acts.n, 0);
	w.ctx.now_ms += 1000; /* silent for grace_ms: another cluster */
	rec(&w, doc);
	assert_int_equal(count_acts(&w, ROOT_ACT_UNDEPLOY, first), 1);
	assert_int_equal(count_acts(&w, ROOT_ACT_DEPLOY, NULL), 1);
	assert_string_not_equal(entry_str(doc, 0, "cluster_id"), first);
	root_acts_free(&w.acts);
	json_decref(doc);
}

static void test_reconcile_dead_cluster_first(void **state)
{
	struct world w;
	json_t *doc = service(1, NULL);
	char first[8];

	(void)state;
	world_init(&w, 2);
	rec(&w, doc);
	run_everything(&w, doc);
	snprintf(first, sizeof(first), "%s", entry_str(doc, 0, "cluster_id"));
	report(&w, doc, first, 0, OAK_INSTANCE_DEAD, "n1", NULL);
	assert_string_equal(entry_str(doc, 0, "status"), "DEAD");
	rec(&w, doc);
	/* placed again by its own cluster */
	assert_int_equal(count_acts(&w, ROOT_ACT_DEPLOY, first), 1);
	assert_int_equal(count_acts(&w, ROOT_ACT_UNDEPLOY, NULL), 0);
	assert_string_equal(entry_str(doc, 0, "status"), "CLUSTER_SCHEDULED");
	assert_non_null(strstr(entry_str(doc, 0, "status_detail"), "DEAD"));
	/* dead again at once: after a backoff, in the other cluster */
	report(&w, doc, first, 0, OAK_INSTANCE_DEAD, "n2", NULL);
	rec(&w, doc);
	assert_int_equal(count_acts(&w, ROOT_ACT_DEPLOY, NULL), 0);
	w.ctx.now_ms += 1000;
	rec(&w, doc);
	assert_int_equal(count_acts(&w, ROOT_ACT_DEPLOY, NULL), 1);
	assert_string_not_equal(entry_str(doc, 0, "cluster_id"), first);
	root_acts_free(&w.acts);
	json_decref(doc);
}

static void test_reconcile_scale(void **state)
{
	struct world w;
	json_t *doc = service(3, NULL);

	(void)state;
	world_init(&w, 2);
	rec(&w, doc);
	run_everything(&w, doc);
	assert_int_equal(json_array_size(json_object_get(doc, "instance_list")), 3);
	assert_string_equal(root_str(doc, "status"), "RUNNING");
	json_object_set_new(doc, "replicas", json_integer(1));
	rec(&w, doc);
	assert_int_equal(json_array_size(json_object_get(doc, "instance_list")), 1);
	assert_int_equal(count_acts(&w, ROOT_ACT_UNDEPLOY, NULL), 2);
	assert_non_null(root_entry_find(doc, 0)); /* the highest numbers go */
	assert_int_equal(w.f.n_released, 2);
	assert_string_equal(w.f.released[0], "aaaaaaaaaaaaaaaaaaaaaaaa/2");
	json_object_set_new(doc, "replicas", json_integer(2));
	rec(&w, doc);
	assert_int_equal(json_array_size(json_object_get(doc, "instance_list")), 2);
	assert_non_null(root_entry_find(doc, 1)); /* the lowest free number */
	json_object_set_new(doc, "replicas", json_integer(0));
	rec(&w, doc);
	assert_int_equal(json_array_size(json_object_get(doc, "instance_list")), 0);
	assert_int_equal(count_acts(&w, ROOT_ACT_UNDEPLOY, NULL), 2);
	assert_string_equal(root_str(doc, "status"), "UNDEPLOYED");
	root_acts_free(&w.acts);
	json_decref(doc);
}

static void test_reconcile_rolling_generation(void **state)
{
	struct world w;
	json_t *doc = service(2, NULL), *e;
	size_t i, steps = 0;

	(void)state;
	world_init(&w, 2);
	rec(&w, doc);
	run_everything(&w, doc);
	json_object_set_new(doc, "generation", json_integer(2));
	json_object_set_new(doc, "cmd", json_pack("[s,s]", "sleep", "100"));
	/* one new instance at a time; an old one goes when it runs */
	for (;;) {
		size_t old = 0, fresh = 0, running = 0;

		rec(&w, doc);
		json_array_foreach(json_object_get(doc, "instance_list"), i, e)
		{
			if (root_int(e, "generation") == 2)
				fresh++;
			else
				old++;
			running += !strcmp(root_str(e, "status"), "RUNNING");
		}
		assert_true(running >= 1); /* never without a running instance */
		assert_true(old + fresh <= 3);
		if (!old)
			break;
		assert_true(count_acts(&w, ROOT_ACT_DEPLOY, NULL) <= 1);
		run_everything(&w, doc);
		assert_true(++steps < 10);
	}
	assert_int_equal(json_array_size(json_object_get(doc, "instance_list")), 2);
	json_array_foreach(json_object_get(doc, "instance_list"), i, e)
	    assert_int_equal(root_int(e, "generation"), 2);
	root_acts_free(&w.acts);
	json_decref(doc);
}

static void test_reconcile_sla_instance_ip_and_bad_spec(void **state)
{
	struct world w;
	json_t *doc = service(1, "\"addresses\":{\"rr_ip\":\"10.30.30.30\",\"instances\":["
				 "{\"instance_number\":0,\"instance_ip\":\"10.30.9.9\"}]}");
	struct root_acts acts = {0};
	bool changed;
	char err[256];

	(void)state;
	world_init(&w, 1);
	rec(&w, doc);
	assert_string_equal(entry_str(doc, 0, "instance_ip"), "10.30.9.9");
	json_object_set_new(doc, "code", json_integer(3));
	assert_int_equal(root_reconcile(doc, &w.ctx, &acts, &changed, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "code"));
	root_acts_free(&acts);
	root_acts_free(&w.acts);
	json_decref(doc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_place_resources_and_spread),
	    cmocka_unit_test(test_place_arch_and_gpu),
	    cmocka_unit_test(test_place_direct_statuses),
	    cmocka_unit_test(test_place_geo_and_latency),
	    cmocka_unit_test(test_request_from_sla),
	    cmocka_unit_test(test_reconcile_places_replicas_once),
	    cmocka_unit_test(test_reconcile_reports_and_strays),
	    cmocka_unit_test(test_reconcile_cluster_lost_moves_with_ip),
	    cmocka_unit_test(test_reconcile_cluster_without_node),
	    cmocka_unit_test(test_reconcile_failed_waits_for_its_cluster),
	    cmocka_unit_test(test_reconcile_dead_cluster_first),
	    cmocka_unit_test(test_reconcile_scale),
	    cmocka_unit_test(test_reconcile_rolling_generation),
	    cmocka_unit_test(test_reconcile_sla_instance_ip_and_bad_spec),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
