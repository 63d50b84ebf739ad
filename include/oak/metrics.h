/* Prometheus metrics of an oak daemon: a registry of metric families
 * (counters, gauges, histograms, each with fixed label names) and the text
 * exposition format 0.0.4 it renders to. Single-threaded, like the loop.
 *
 *   struct oak_metrics *m = oak_metrics_new();
 *   struct oak_metric *req = oak_metrics_counter(m, "oak_http_requests_total",
 *                                                "REST requests", "route,status");
 *   oak_metric_inc(req, OAK_LV("/api/application", "200"));
 *   oak_metrics_on_collect(m, refresh_gauges, arg);   run before each render
 *   char *text = oak_metrics_render(m, &len);
 *
 * Every oak_metric_* call takes a NULL family and does nothing, so a hook
 * at a counting site needs no check whether metrics are on. Label values
 * are given in the order of the family's label names. The HTTP side
 * (a /metrics listener on the loop) is in include/oak/metrics_http.h. */
#ifndef OAK_METRICS_H
#define OAK_METRICS_H

#include <stddef.h>

struct oak_metrics;
struct oak_metric;

/* label values, in the family's order: OAK_LV("GET", "200") */
#define OAK_LV(...) ((const char *const[]){__VA_ARGS__})

#define OAK_METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"
#define OAK_METRICS_MAX_LABELS	 4

enum oak_metric_type {
	OAK_METRIC_COUNTER,
	OAK_METRIC_GAUGE,
	OAK_METRIC_HISTOGRAM,
};

struct oak_metrics *oak_metrics_new(void);
void oak_metrics_free(struct oak_metrics *m);

/*
 * A family: name as Prometheus wants it ([a-zA-Z_:][a-zA-Z0-9_:]*; a
 * counter's ends in _total), labels comma-separated ("route,status", NULL
 * or "" for none; "le" is reserved). Registering a name again with the same
 * type and labels returns the family already there. NULL on a bad or
 * conflicting name (logged: a programming error) or without memory. A
 * family without labels has its one series from the start (value 0).
 */
struct oak_metric *oak_metrics_counter(struct oak_metrics *m, const char *name, const char *help,
				       const char *labels);
struct oak_metric *oak_metrics_gauge(struct oak_metrics *m, const char *name, const char *help,
				     const char *labels);
/* bounds: the buckets' upper bounds, ascending (+Inf is added). */
struct oak_metric *oak_metrics_histogram(struct oak_metrics *m, const char *name, const char *help,
					 const char *labels, const double *bounds, size_t n_bounds);

/* Buckets in seconds from 1 µs to 10 s (1 and 5 per decade). */
extern const double oak_metrics_seconds_buckets[];
extern const size_t oak_metrics_seconds_buckets_n;

/* Counter or gauge: add v (a counter takes only v >= 0). */
void oak_metric_add(struct oak_metric *f, const char *const *lv, double v);
static inline void oak_metric_inc(struct oak_metric *f, const char *const *lv)
{
	oak_metric_add(f, lv, 1.0);
}
/* Gauge, or a counter mirrored from a counter kept elsewhere (a BPF map). */
void oak_metric_set(struct oak_metric *f, const char *const *lv, double v);
/* Histogram: one observation. */
void oak_metric_observe(struct oak_metric *f, const char *const *lv, double v);
/* Forget every series of a labelled family (collectors that rebuild it). */
void oak_metric_clear(struct oak_metric *f);
/* The value of a counter or gauge series (its count for a histogram), 0
 * when it does not exist: for tests. */
double oak_metric_value(const struct oak_metric *f, const char *const *lv);

/* cb runs before every render, in the order added, to refresh what is read
 * from elsewhere (maps, tables, a bus's counters). */
typedef void (*oak_metrics_collect_cb)(struct oak_metrics *m, void *arg);
int oak_metrics_on_collect(struct oak_metrics *m, oak_metrics_collect_cb cb, void *arg);

/* Runs the collectors and renders every family in registration order
 * (HELP, TYPE, then its series in creation order). A malloc'd,
 * NUL-terminated text, its length in *len; NULL without memory. */
char *oak_metrics_render(struct oak_metrics *m, size_t *len);

#endif
