/* The metrics registry and its exposition text (format 0.0.4), byte for
 * byte. `test_control_metrics --sample` prints a registry with every kind
 * of family for promtool (ctest control_metrics_promtool). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "oak/log.h"
#include "oak/metrics.h"

static char *render(struct oak_metrics *m)
{
	size_t len = 0;
	char *t = oak_metrics_render(m, &len);

	assert_non_null(t);
	assert_int_equal(strlen(t), len);
	return t;
}

static void counter_and_gauge(void **state)
{
	struct oak_metrics *m = oak_metrics_new();
	struct oak_metric *c = oak_metrics_counter(m, "oak_http_requests_total",
						   "REST requests by route", "route,status");
	struct oak_metric *g = oak_metrics_gauge(m, "oak_nodes", "Nodes", NULL);
	char *t;

	assert_non_null(c);
	assert_non_null(g);
	oak_metric_inc(c, OAK_LV("/api/application", "200"));
	oak_metric_inc(c, OAK_LV("/api/application", "200"));
	oak_metric_add(c, OAK_LV("/api/service/:sid", "404"), 3);
	oak_metric_add(c, OAK_LV("/api/application", "200"), -5); /* a counter never falls */
	oak_metric_set(g, NULL, 2.5);
	t = render(m);
	assert_string_equal(
	    t, "# HELP oak_http_requests_total REST requests by route\n"
	       "# TYPE oak_http_requests_total counter\n"
	       "oak_http_requests_total{route=\"/api/application\",status=\"200\"} 2\n"
	       "oak_http_requests_total{route=\"/api/service/:sid\",status=\"404\"} 3\n"
	       "# HELP oak_nodes Nodes\n"
	       "# TYPE oak_nodes gauge\n"
	       "oak_nodes 2.5\n");
	assert_true(oak_metric_value(c, OAK_LV("/api/application", "200")) == 2);
	assert_true(oak_metric_value(c, OAK_LV("/nope", "200")) == 0);
	free(t);
	oak_metrics_free(m);
}

static void unlabelled_start_at_zero(void **state)
{
	struct oak_metrics *m = oak_metrics_new();
	char *t;

	oak_metrics_counter(m, "oak_lost_total", "Lost", "");
	oak_metrics_gauge(m, "oak_by_state", "By state", "state");
	t = render(m);
	assert_string_equal(t, "# HELP oak_lost_total Lost\n"
			       "# TYPE oak_lost_total counter\n"
			       "oak_lost_total 0\n"
			       "# HELP oak_by_state By state\n"
			       "# TYPE oak_by_state gauge\n");
	free(t);
	oak_metrics_free(m);
}

static void histogram_cumulative(void **state)
{
	static const double b[] = {0.001, 0.01, 0.5};
	struct oak_metrics *m = oak_metrics_new();
	struct oak_metric *h = oak_metrics_histogram(m, "oak_placement_duration_seconds",
						     "Placement time", "result", b, 3);
	char *t;

	assert_non_null(h);
	oak_metric_observe(h, OAK_LV("placed"), 0.0005);
	oak_metric_observe(h, OAK_LV("placed"), 0.001); /* le is inclusive */
	oak_metric_observe(h, OAK_LV("placed"), 0.25);
	oak_metric_observe(h, OAK_LV("placed"), 7);
	oak_metric_observe(h, OAK_LV("placed"), NAN); /* ignored */
	t = render(m);
	assert_string_equal(
	    t, "# HELP oak_placement_duration_seconds Placement time\n"
	       "# TYPE oak_placement_duration_seconds histogram\n"
	       "oak_placement_duration_seconds_bucket{result=\"placed\",le=\"0.001\"} 2\n"
	       "oak_placement_duration_seconds_bucket{result=\"placed\",le=\"0.01\"} 2\n"
	       "oak_placement_duration_seconds_bucket{result=\"placed\",le=\"0.5\"} 3\n"
	       "oak_placement_duration_seconds_bucket{result=\"placed\",le=\"+Inf\"} 4\n"
	       "oak_placement_duration_seconds_sum{result=\"placed\"} 7.2515\n"
	       "oak_placement_duration_seconds_count{result=\"placed\"} 4\n");
	assert_true(oak_metric_value(h, OAK_LV("placed")) == 4);
	free(t);
	oak_metrics_free(m);
}

static void escaping_and_values(void **state)
{
	struct oak_metrics *m = oak_metrics_new();
	struct oak_metric *g = oak_metrics_gauge(m, "oak_x", "a \\ and\na \"quote\"", "v");
	char *t;

	oak_metric_set(g, OAK_LV("q\"b\\n\nx"), 0.1);
	oak_metric_set(g, OAK_LV("inf"), INFINITY);
	oak_metric_set(g, OAK_LV("-inf"), -INFINITY);
	oak_metric_set(g, OAK_LV("nan"), NAN);
	oak_metric_set(g, OAK_LV("big"), 18446744073709551615.0);
	oak_metric_set(g, OAK_LV("neg"), -42);
	oak_metric_set(g, OAK_LV(NULL), 1e-6);
	t = render(m);
	assert_string_equal(t, "# HELP oak_x a \\\\ and\\na \"quote\"\n"
			       "# TYPE oak_x gauge\n"
			       "oak_x{v=\"q\\\"b\\\\n\\nx\"} 0.1\n"
			       "oak_x{v=\"inf\"} +Inf\n"
			       "oak_x{v=\"-inf\"} -Inf\n"
			       "oak_x{v=\"nan\"} NaN\n"
			       "oak_x{v=\"big\"} 1.8446744073709552e+19\n"
			       "oak_x{v=\"neg\"} -42\n"
			       "oak_x{v=\"\"} 1e-06\n");
	free(t);
	oak_metrics_free(m);
}

static void bad_names_refused(void **state)
{
	static const double up[] = {1, 0.5};
	struct oak_metrics *m = oak_metrics_new();
	struct oak_metric *a;

	assert_null(oak_metrics_counter(m, "oak_requests", "no _total", NULL));
	assert_null(oak_metrics_gauge(m, "9oak", "digit first", NULL));
	assert_null(oak_metrics_gauge(m, "oak-x", "dash", NULL));
	assert_null(oak_metrics_gauge(m, "oak_x", "reserved label", "__name"));
	assert_null(oak_metrics_gauge(m, "oak_x", "repeated label", "a,a"));
	assert_null(oak_metrics_gauge(m, "oak_x", "bad label", "a:b"));
	assert_null(oak_metrics_gauge(m, "oak_x", "too many", "a,b,c,d,e"));
	assert_null(oak_metrics_histogram(m, "oak_h", "le", "le", up + 1, 1));
	assert_null(oak_metrics_histogram(m, "oak_h", "descending", NULL, up, 2));
	assert_null(oak_metrics_histogram(m, "oak_h_count", "suffix", NULL, up + 1, 1));
	a = oak_metrics_gauge(m, "oak_y", "first", "a");
	assert_non_null(a);
	assert_ptr_equal(oak_metrics_gauge(m, "oak_y", "again", "a"), a);
	assert_null(oak_metrics_gauge(m, "oak_y", "other labels", "b"));
	assert_null(oak_metrics_counter(m, "oak_y", "other type", "a"));
	/* NULL families are no-ops */
	oak_metric_inc(NULL, NULL);
	oak_metric_set(NULL, NULL, 1);
	oak_metric_observe(NULL, NULL, 1);
	oak_metric_clear(NULL);
	oak_metrics_free(m);
}

struct coll {
	struct oak_metric *g;
	int runs;
};

static void refresh(struct oak_metrics *m, void *arg)
{
	struct coll *c = arg;

	c->runs++;
	oak_metric_clear(c->g);
	if (c->runs == 1)
		oak_metric_set(c->g, OAK_LV("RUNNING"), 3);
	oak_metric_set(c->g, OAK_LV("FAILED"), c->runs);
}

static void collectors_and_clear(void **state)
{
	struct oak_metrics *m = oak_metrics_new();
	struct coll c = {.g = oak_metrics_gauge(m, "oak_instances", "By state", "state")};
	char *t;

	assert_int_equal(oak_metrics_on_collect(m, refresh, &c), 0);
	t = render(m);
	assert_string_equal(t, "# HELP oak_instances By state\n"
			       "# TYPE oak_instances gauge\n"
			       "oak_instances{state=\"RUNNING\"} 3\n"
			       "oak_instances{state=\"FAILED\"} 1\n");
	free(t);
	t = render(m);
	assert_string_equal(t, "# HELP oak_instances By state\n"
			       "# TYPE oak_instances gauge\n"
			       "oak_instances{state=\"FAILED\"} 2\n");
	free(t);
	assert_int_equal(c.runs, 2);
	oak_metrics_free(m);
}

/* every kind of family, as a daemon's registry holds them */
static int print_sample(void)
{
	struct oak_metrics *m = oak_metrics_new();
	struct oak_metric *c = oak_metrics_counter(m, "oak_http_requests_total", "REST requests",
						   "method,route,status");
	struct oak_metric *g =
	    oak_metrics_gauge(m, "oak_instances", "Instances by state \\ \"s\"\nnext", "state");
	struct oak_metric *h = oak_metrics_histogram(
	    m, "oak_placement_duration_seconds", "Scheduling time of one placement", "result",
	    oak_metrics_seconds_buckets, oak_metrics_seconds_buckets_n);
	struct oak_metric *u = oak_metrics_gauge(m, "oak_up_seconds", "Unlabelled", NULL);
	size_t len;
	char *t;

	oak_metric_inc(c, OAK_LV("GET", "/api/application/:id", "200"));
	oak_metric_inc(c, OAK_LV("POST", "/api/auth/login", "401"));
	oak_metric_set(g, OAK_LV("RUNNING"), 4);
	oak_metric_set(g, OAK_LV("odd \"value\"\\\n"), 1);
	oak_metric_observe(h, OAK_LV("placed"), 3e-6);
	oak_metric_observe(h, OAK_LV("placed"), 0.02);
	oak_metric_observe(h, OAK_LV("unschedulable"), 11);
	oak_metric_set(u, NULL, 0.125);
	t = oak_metrics_render(m, &len);
	if (!t)
		return 1;
	fwrite(t, 1, len, stdout);
	free(t);
	oak_metrics_free(m);
	return 0;
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(counter_and_gauge),    cmocka_unit_test(unlabelled_start_at_zero),
	    cmocka_unit_test(histogram_cumulative), cmocka_unit_test(escaping_and_values),
	    cmocka_unit_test(bad_names_refused),    cmocka_unit_test(collectors_and_clear),
	};

	if (argc > 1 && !strcmp(argv[1], "--sample"))
		return print_sample();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
