/* Unit tests of oak-cluster's latency placement: node Vivaldi coordinates
 * from reports, SLA latency constraints (to an area, to another service
 * through connectivity[]) mapped onto the scheduler, and the failure
 * reason. A fleet of four nodes with hand-set coordinates:
 *
 *   node  Vivaldi (x, y, height) ms   location
 *   n1    (0, 0, 1)                   Munich 48.137,11.575
 *   n2    (30, 0, 1)                  Berlin 52.520,13.405
 *   n3    (0, 40, 1)                  Paris  48.857,2.352
 *   n4    unknown                     Madrid 40.417,-3.704
 *
 * Estimated RTT between coordinates is |a - b| + h_a + h_b; to an area it
 * is the great-circle distance times OAK_SCHED_GEO_RTT_MS_PER_KM
 * (0.015 ms/km). Every node has the same free resources, so the resource
 * score ties and proximity decides. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "cluster.h"
#include "place.h"
#include "sched_glue.h"

struct fleet {
	struct ocl_cluster c;
	struct ocl_cand cands[4];
	size_t n;
};

static void add_node(struct fleet *f, const char *id, double lat, double lon, bool coord, double x,
		     double y)
{
	struct oak_msg_node_info m = {0};
	struct ocl_node *n = ocl_node_get(&f->c, id, 0);

	assert_non_null(n);
	snprintf(m.node_id, sizeof(m.node_id), "%s", id);
	m.vcpus = 4;
	m.vcpus_free = 4;
	m.memory_mb = 8000;
	m.memory_free_mb = 8000;
	snprintf(m.architecture, sizeof(m.architecture), "amd64");
	m.virtualization.n = 1;
	snprintf(m.virtualization.v[0], sizeof(m.virtualization.v[0]), "container");
	m.location = (struct oak_geo){.set = true, .lat = lat, .lon = lon};
	if (coord)
		m.vivaldi =
		    (struct oak_vivaldi){.set = true, .x = x, .y = y, .height = 1, .error = 0.2};
	ocl_node_apply_info(n, &m);
}

/* candidates from the registry, as oak-cluster builds them */
static void fleet_cands(struct fleet *f, const struct ocl_service *s)
{
	f->n = f->c.n_nodes;
	for (size_t i = 0; i < f->n; i++)
		ocl_cand_from_node(&f->c.nodes[i], s, &f->cands[i]);
}

static int fleet_setup(void **state)
{
	struct fleet *f = calloc(1, sizeof(*f));

	assert_non_null(f);
	ocl_cluster_init(&f->c, "c1");
	add_node(f, "n1", 48.137, 11.575, true, 0, 0);
	add_node(f, "n2", 52.520, 13.405, true, 30, 0);
	add_node(f, "n3", 48.857, 2.352, true, 0, 40);
	add_node(f, "n4", 40.417, -3.704, false, 0, 0);
	fleet_cands(f, NULL);
	*state = f;
	return 0;
}

static int fleet_teardown(void **state)
{
	struct fleet *f = *state;

	ocl_cluster_free(&f->c);
	free(f);
	return 0;
}

/* A service "db" (service id svc-db) with one running instance per node. */
static struct ocl_service *place_db(struct fleet *f, const char *const *nodes, size_t n)
{
	struct ocl_service *s = ocl_service_get(&f->c, "shop.eu.db.prod");

	assert_non_null(s);
	snprintf(s->service_id, sizeof(s->service_id), "svc-db");
	for (size_t i = 0; i < n; i++) {
		struct ocl_instance *in = ocl_instance_add(s, (uint32_t)i);

		assert_non_null(in);
		snprintf(in->node_id, sizeof(in->node_id), "%s", nodes[i]);
		in->state = OAK_INSTANCE_RUNNING;
	}
	return s;
}

/* The microservice "web" with extra JSON fields (constraints, connectivity). */
static void web(struct oak_service *svc, const char *extra)
{
	char text[2048], err[256];
	json_error_t jerr;
	json_t *obj;

	snprintf(text, sizeof(text),
		 "{\"microservice_name\":\"web\",\"microservice_namespace\":\"prod\","
		 "\"virtualization\":\"container\",\"code\":\"nginx\",\"memory\":100,"
		 "\"vcpus\":0.5%s%s}",
		 extra[0] ? "," : "", extra);
	obj = json_loads(text, 0, &jerr);
	assert_non_null(obj);
	if (oak_service_from_json(obj, "shop", "eu", "", svc, err, sizeof(err)))
		fail_msg("%s", err);
	json_decref(obj); /* svc->raw holds its own reference */
}

#define LAT_AREA(loc, ms)                                                                          \
	"\"constraints\":[{\"type\":\"latency\",\"location\":\"" loc "\",\"threshold\":" #ms "}]"
#define CON_LAT(target, ms)                                                                        \
	"\"connectivity\":[{\"target_microservice_id\":\"" target "\",\"con_constraints\":"        \
	"[{\"type\":\"latency\",\"threshold\":" #ms ",\"rigidness\":0.5,"                          \
	"\"convergence_time\":60}]}]"

static uint32_t place(struct fleet *f, const char *extra, size_t *idx, char *why, size_t wlen,
		      char *notes, size_t nlen)
{
	struct oak_service svc;
	struct ocl_req r;
	struct ocl_req_buf b = {0};
	uint32_t placed;

	web(&svc, extra);
	assert_int_equal(ocl_build_req(&f->c, &svc, &r, &b, notes, nlen), 0);
	placed = ocl_place(&r, f->cands, f->n, 1, 7, idx, why, wlen);
	ocl_req_buf_free(&b);
	oak_service_free(&svc);
	return placed;
}

static void test_cand_coords(void **state)
{
	struct fleet *f = *state;
	struct oak_msg_node_info m = {0};

	assert_int_equal(f->n, 4);
	assert_true(f->cands[1].coord_known);
	assert_true(f->cands[1].coord.x == 30 && f->cands[1].coord.y == 0);
	assert_true(f->cands[1].coord.h == 1 && f->cands[1].coord.err == 0.2);
	assert_false(f->cands[3].coord_known);
	/* the latest report counts: a report without coordinates (the agent
	 * restarted and has not probed yet) makes them unknown */
	m.vcpus = 4;
	m.vcpus_free = 4;
	m.memory_mb = 8000;
	m.memory_free_mb = 8000;
	ocl_node_apply_info(ocl_node_find(&f->c, "n2"), &m);
	ocl_cand_from_node(ocl_node_find(&f->c, "n2"), NULL, &f->cands[1]);
	assert_false(f->cands[1].coord_known);
	assert_true(f->cands[1].loc_known); /* location is kept */
	m.vivaldi = (struct oak_vivaldi){.set = true, .x = 31, .y = 2, .height = 0.5};
	ocl_node_apply_info(ocl_node_find(&f->c, "n2"), &m);
	ocl_cand_from_node(ocl_node_find(&f->c, "n2"), NULL, &f->cands[1]);
	assert_true(f->cands[1].coord_known);
	assert_true(f->cands[1].coord.x == 31 && f->cands[1].coord.h == 0.5);
}

static void test_latency_area(void **state)
{
	struct fleet *f = *state;
	char why[256], notes[512];
	size_t idx[1];
	struct oak_service svc;
	struct ocl_req r;
	struct ocl_req_buf b = {0};

	/* the mapping: one latency-to-area request, threshold in ms */
	web(&svc, LAT_AREA("52.52,13.405", 10));
	assert_int_equal(ocl_build_req(&f->c, &svc, &r, &b, notes, sizeof(notes)), 0);
	assert_int_equal(r.n_lat, 1);
	assert_false(r.lat[0].to_service);
	assert_true(r.lat[0].threshold_ms == 10);
	assert_true(r.lat[0].lat == 52.52 && r.lat[0].lon == 13.405);
	assert_string_equal(notes, "");
	ocl_req_buf_free(&b);
	oak_service_free(&svc);

	/* users in Berlin within 5 ms: n2 (0 km) only; Munich is ~504 km
	 * (7.6 ms), Paris ~878 km (13 ms), Madrid farther */
	assert_int_equal(
	    place(f, LAT_AREA("52.52,13.405", 5), idx, why, sizeof(why), notes, sizeof(notes)), 1);
	assert_string_equal(f->cands[idx[0]].id, "n2");
	/* within 10 ms: n1 and n2 fit, n2 is closer */
	assert_int_equal(
	    place(f, LAT_AREA("52.52,13.405", 10), idx, why, sizeof(why), notes, sizeof(notes)), 1);
	assert_string_equal(f->cands[idx[0]].id, "n2");
	/* users in Munich within 10 ms: n1 (0 ms) beats n2 (7.6 ms) */
	assert_int_equal(
	    place(f, LAT_AREA("48.137,11.575", 10), idx, why, sizeof(why), notes, sizeof(notes)),
	    1);
	assert_string_equal(f->cands[idx[0]].id, "n1");
	/* an area written as "lat,lon" in `area` counts too */
	assert_int_equal(place(f,
			       "\"constraints\":[{\"type\":\"latency\",\"area\":\"48.857,2.352\","
			       "\"threshold\":3}]",
			       idx, why, sizeof(why), notes, sizeof(notes)),
			 1);
	assert_string_equal(f->cands[idx[0]].id, "n3");
	/* a named area cannot be located: placed without it, and said so */
	assert_int_equal(place(f,
			       "\"constraints\":[{\"type\":\"latency\",\"area\":\"munich\","
			       "\"threshold\":3}]",
			       idx, why, sizeof(why), notes, sizeof(notes)),
			 1);
	assert_non_null(strstr(notes, "munich"));
}

static void test_latency_service(void **state)
{
	struct fleet *f = *state;
	const char *on_n3[] = {"n3"};
	char why[256], notes[512];
	size_t idx[1];
	struct oak_service svc;
	struct ocl_req r;
	struct ocl_req_buf b = {0};

	place_db(f, on_n3, 1);
	/* the mapping: the target's instance coordinates (n3's) */
	web(&svc, CON_LAT("svc-db", 45));
	assert_int_equal(ocl_build_req(&f->c, &svc, &r, &b, notes, sizeof(notes)), 0);
	assert_int_equal(r.n_lat, 1);
	assert_true(r.lat[0].to_service);
	assert_true(r.lat[0].threshold_ms == 45);
	assert_int_equal(r.lat[0].n_inst, 1);
	assert_true(r.lat[0].inst[0].x == 0 && r.lat[0].inst[0].y == 40);
	assert_string_equal(notes, "");
	ocl_req_buf_free(&b);
	oak_service_free(&svc);

	/* RTT to db on n3: n1 40 + 2 = 42, n2 50 + 2 = 52, n3 2, n4 unknown.
	 * Within 45 ms: n1 and n3 fit, n3 is closest */
	assert_int_equal(
	    place(f, CON_LAT("svc-db", 45), idx, why, sizeof(why), notes, sizeof(notes)), 1);
	assert_string_equal(f->cands[idx[0]].id, "n3");
	/* the target named by its job name; n3 without room leaves n1 (42 ms) */
	f->cands[2].memory_free_mb = 50;
	assert_int_equal(
	    place(f, CON_LAT("shop.eu.db.prod", 45), idx, why, sizeof(why), notes, sizeof(notes)),
	    1);
	assert_string_equal(f->cands[idx[0]].id, "n1");
	f->cands[2].memory_free_mb = 8000;
	/* the smallest threshold of several con_constraints counts */
	assert_int_equal(
	    place(
		f,
		"\"connectivity\":[{\"target_microservice_id\":\"svc-db\",\"con_constraints\":"
		"[{\"type\":\"bandwidth\",\"threshold\":1,\"rigidness\":0,\"convergence_time\":0},"
		"{\"type\":\"latency\",\"threshold\":100,\"rigidness\":0,\"convergence_time\":0},"
		"{\"type\":\"latency\",\"threshold\":3,\"rigidness\":0,\"convergence_time\":0}]}]",
		idx, why, sizeof(why), notes, sizeof(notes)),
	    1);
	assert_string_equal(f->cands[idx[0]].id, "n3");
	/* the closest instance counts: a second db instance on n2 lets n2 in */
	assert_non_null(ocl_instance_add(ocl_service_find(&f->c, "shop.eu.db.prod"), 1));
	snprintf(ocl_instance_find(ocl_service_find(&f->c, "shop.eu.db.prod"), 1)->node_id,
		 OAK_ID_LEN, "n2");
	ocl_instance_find(ocl_service_find(&f->c, "shop.eu.db.prod"), 1)->state =
	    OAK_INSTANCE_RUNNING;
	f->cands[2].memory_free_mb = 50;
	assert_int_equal(
	    place(f, CON_LAT("svc-db", 3), idx, why, sizeof(why), notes, sizeof(notes)), 1);
	assert_string_equal(f->cands[idx[0]].id, "n2");
}

static void test_latency_fail(void **state)
{
	struct fleet *f = *state;
	const char *on_n3[] = {"n3"};
	char why[256], notes[512];
	size_t idx[1];

	place_db(f, on_n3, 1);
	/* every RTT includes two heights (2 ms): nothing is within 1 ms */
	assert_int_equal(
	    place(f, CON_LAT("svc-db", 1), idx, why, sizeof(why), notes, sizeof(notes)), 0);
	assert_non_null(strstr(why, "latency"));
	assert_non_null(strstr(why, "4 latency"));
	/* users in the mid-Atlantic within 5 ms: no node */
	assert_int_equal(
	    place(f, LAT_AREA("40,-40", 5), idx, why, sizeof(why), notes, sizeof(notes)), 0);
	assert_non_null(strstr(why, "latency"));
	/* reasons add up: memory for one node, latency for the rest */
	f->cands[0].memory_free_mb = 10;
	assert_int_equal(
	    place(f, LAT_AREA("40,-40", 5), idx, why, sizeof(why), notes, sizeof(notes)), 0);
	assert_non_null(strstr(why, "1 memory"));
	assert_non_null(strstr(why, "3 latency"));
}

static void test_latency_target_unplaced(void **state)
{
	struct fleet *f = *state;
	const char *on_n4[] = {"n4"};
	char why[256], notes[512];
	size_t idx[1];
	struct oak_service svc;
	struct ocl_req r;
	struct ocl_req_buf b = {0};

	/* no such service yet: placed without the constraint, named in notes */
	web(&svc, CON_LAT("svc-cache", 1));
	assert_int_equal(ocl_build_req(&f->c, &svc, &r, &b, notes, sizeof(notes)), 0);
	assert_int_equal(r.n_lat, 0);
	assert_non_null(strstr(notes, "svc-cache"));
	assert_non_null(strstr(notes, "not enforced"));
	ocl_req_buf_free(&b);
	oak_service_free(&svc);
	assert_int_equal(
	    place(f, CON_LAT("svc-cache", 1), idx, why, sizeof(why), notes, sizeof(notes)), 1);
	/* placed only on a node without coordinates: the same */
	place_db(f, on_n4, 1);
	assert_int_equal(
	    place(f, CON_LAT("svc-db", 1), idx, why, sizeof(why), notes, sizeof(notes)), 1);
	assert_non_null(strstr(notes, "svc-db"));
	/* an instance not placed yet (no node) or failed does not count */
	ocl_instance_find(ocl_service_find(&f->c, "shop.eu.db.prod"), 0)->node_id[0] = '\0';
	assert_non_null(ocl_instance_add(ocl_service_find(&f->c, "shop.eu.db.prod"), 1));
	snprintf(ocl_instance_find(ocl_service_find(&f->c, "shop.eu.db.prod"), 1)->node_id,
		 OAK_ID_LEN, "n1");
	ocl_instance_find(ocl_service_find(&f->c, "shop.eu.db.prod"), 1)->state =
	    OAK_INSTANCE_FAILED;
	assert_int_equal(
	    place(f, CON_LAT("svc-db", 1), idx, why, sizeof(why), notes, sizeof(notes)), 1);
	assert_non_null(strstr(notes, "svc-db"));
	/* once it runs on a node with coordinates the constraint is enforced:
	 * nothing is within 1 ms of n1 */
	ocl_instance_find(ocl_service_find(&f->c, "shop.eu.db.prod"), 1)->state =
	    OAK_INSTANCE_RUNNING;
	assert_int_equal(
	    place(f, CON_LAT("svc-db", 1), idx, why, sizeof(why), notes, sizeof(notes)), 0);
	assert_string_equal(notes, "");
	assert_non_null(strstr(why, "latency"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_cand_coords, fleet_setup, fleet_teardown),
	    cmocka_unit_test_setup_teardown(test_latency_area, fleet_setup, fleet_teardown),
	    cmocka_unit_test_setup_teardown(test_latency_service, fleet_setup, fleet_teardown),
	    cmocka_unit_test_setup_teardown(test_latency_fail, fleet_setup, fleet_teardown),
	    cmocka_unit_test_setup_teardown(test_latency_target_unplaced, fleet_setup,
					    fleet_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
