/* The metrics registry and its text exposition (format 0.0.4, see
 * include/oak/metrics.h). A family holds its series in an array searched
 * linearly by label values: a daemon has tens of series per family (routes
 * x statuses, verdicts, states), never thousands. */
#include "oak/metrics.h"

#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "oak/log.h"

const double oak_metrics_seconds_buckets[] = {
    1e-6, 5e-6, 1e-5, 5e-5, 1e-4, 5e-4, 1e-3, 5e-3, 1e-2, 5e-2, 0.1, 0.5, 1, 5, 10,
};
const size_t oak_metrics_seconds_buckets_n =
    sizeof(oak_metrics_seconds_buckets) / sizeof(oak_metrics_seconds_buckets[0]);

struct series {
	char **lv;		     /* label values, one per label name */
	double value;		     /* counter, gauge; a histogram's sum */
	unsigned long long *buckets; /* histogram: n_bounds + 1 (the last +Inf) */
	unsigned long long count;
};

struct oak_metric {
	char *name, *help;
	enum oak_metric_type type;
	char *labels[OAK_METRICS_MAX_LABELS];
	size_t n_labels;
	double *bounds;
	size_t n_bounds;
	struct series *s;
	size_t n, cap;
};

struct collector {
	oak_metrics_collect_cb cb;
	void *arg;
};

struct oak_metrics {
	struct oak_metric **f;
	size_t n, cap;
	struct collector *c;
	size_t n_c, cap_c;
};

static int grow(void **p, size_t *cap, size_t need, size_t size)
{
	size_t c = *cap ? *cap : 8;
	void *q;

	if (need <= *cap)
		return 0;
	while (c < need)
		c *= 2;
	q = realloc(*p, c * size);
	if (!q)
		return -1;
	*p = q;
	*cap = c;
	return 0;
}

struct oak_metrics *oak_metrics_new(void)
{
	return calloc(1, sizeof(struct oak_metrics));
}

static void series_free(struct oak_metric *f, struct series *s)
{
	for (size_t i = 0; i < f->n_labels; i++)
		free(s->lv[i]);
	free(s->lv);
	free(s->buckets);
}

static void family_free(struct oak_metric *f)
{
	for (size_t i = 0; i < f->n; i++)
		series_free(f, &f->s[i]);
	for (size_t i = 0; i < f->n_labels; i++)
		free(f->labels[i]);
	free(f->s);
	free(f->bounds);
	free(f->name);
	free(f->help);
	free(f);
}

void oak_metrics_free(struct oak_metrics *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->n; i++)
		family_free(m->f[i]);
	free(m->f);
	free(m->c);
	free(m);
}

static bool name_ok(const char *s, bool colon)
{
	if (!s || !*s || (*s >= '0' && *s <= '9'))
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '_' || (colon && *s == ':')))
			return false;
	return true;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);

	return a >= b && !strcmp(s + a - b, suffix);
}

/* "a,b" into f->labels; false on a bad or reserved name */
static bool parse_labels(struct oak_metric *f, const char *labels)
{
	const char *p = labels;

	while (p && *p) {
		size_t len = strcspn(p, ",");
		char *l;

		if (f->n_labels == OAK_METRICS_MAX_LABELS || !(l = strndup(p, len)))
			return false;
		f->labels[f->n_labels++] = l;
		if (!name_ok(l, false) || !strncmp(l, "__", 2) ||
		    (f->type == OAK_METRIC_HISTOGRAM && !strcmp(l, "le")))
			return false;
		for (size_t i = 0; i + 1 < f->n_labels; i++)
			if (!strcmp(f->labels[i], l))
				return false;
		p += len;
		if (*p == ',')
			p++;
	}
	return true;
}

static bool same_shape(const struct oak_metric *a, const struct oak_metric *b)
{
	if (a->type != b->type || a->n_labels != b->n_labels || a->n_bounds != b->n_bounds)
		return false;
	for (size_t i = 0; i < a->n_labels; i++)
		if (strcmp(a->labels[i], b->labels[i]))
			return false;
	for (size_t i = 0; i < a->n_bounds; i++)
		if (a->bounds[i] != b->bounds[i])
			return false;
	return true;
}

static struct series *series_get(struct oak_metric *f, const char *const *lv);

static struct oak_metric *family_new(struct oak_metrics *m, enum oak_metric_type type,
				     const char *name, const char *help, const char *labels,
				     const double *bounds, size_t n_bounds)
{
	struct oak_metric *f;
	const char *why = NULL;

	if (!m)
		return NULL;
	f = calloc(1, sizeof(*f));
	if (!f)
		return NULL;
	f->type = type;
	f->name = strdup(name ? name : "");
	f->help = strdup(help ? help : "");
	if (!f->name || !f->help)
		goto nomem;
	if (!name_ok(name, true))
		why = "not a Prometheus metric name";
	else if (type == OAK_METRIC_COUNTER && !ends_with(name, "_total"))
		why = "a counter's name ends in _total";
	else if (!parse_labels(f, labels))
		why = "bad, repeated or reserved label names";
	if (!why && n_bounds) {
		f->bounds = malloc(n_bounds * sizeof(*bounds));
		if (!f->bounds)
			goto nomem;
		for (size_t i = 0; i < n_bounds; i++) {
			if (!isfinite(bounds[i]) || (i && bounds[i] <= bounds[i - 1]))
				why = "bucket bounds must be finite and ascending";
			f->bounds[i] = bounds[i];
		}
		f->n_bounds = n_bounds;
	}
	if (why) {
		oak_log(ERROR, "metrics: %s: %s", f->name, why);
		family_free(f);
		return NULL;
	}
	for (size_t i = 0; i < m->n; i++) {
		if (strcmp(m->f[i]->name, name))
			continue;
		if (same_shape(m->f[i], f)) {
			family_free(f);
			return m->f[i];
		}
		oak_log(ERROR, "metrics: %s: registered already with another type or labels", name);
		family_free(f);
		return NULL;
	}
	if (grow((void **)&m->f, &m->cap, m->n + 1, sizeof(*m->f)))
		goto nomem;
	m->f[m->n++] = f;
	if (!f->n_labels)
		series_get(f, NULL);
	return f;
nomem:
	family_free(f);
	return NULL;
}

struct oak_metric *oak_metrics_counter(struct oak_metrics *m, const char *name, const char *help,
				       const char *labels)
{
	return family_new(m, OAK_METRIC_COUNTER, name, help, labels, NULL, 0);
}

struct oak_metric *oak_metrics_gauge(struct oak_metrics *m, const char *name, const char *help,
				     const char *labels)
{
	return family_new(m, OAK_METRIC_GAUGE, name, help, labels, NULL, 0);
}

struct oak_metric *oak_metrics_histogram(struct oak_metrics *m, const char *name, const char *help,
					 const char *labels, const double *bounds, size_t n_bounds)
{
	if (name && (ends_with(name, "_bucket") || ends_with(name, "_sum") ||
		     ends_with(name, "_count") || ends_with(name, "_total"))) {
		oak_log(ERROR, "metrics: %s: a histogram's name takes no _bucket/_sum/_count",
			name);
		return NULL;
	}
	return family_new(m, OAK_METRIC_HISTOGRAM, name, help, labels, bounds, n_bounds);
}

/* The series of these label values, created on first use (NULL without
 * memory). A NULL label value counts as "". */
static struct series *series_get(struct oak_metric *f, const char *const *lv)
{
	struct series *s;

	for (size_t i = 0; i < f->n; i++) {
		size_t j = 0;

		while (j < f->n_labels && !strcmp(f->s[i].lv[j], lv && lv[j] ? lv[j] : ""))
			j++;
		if (j == f->n_labels)
			return &f->s[i];
	}
	if (grow((void **)&f->s, &f->cap, f->n + 1, sizeof(*f->s)))
		return NULL;
	s = &f->s[f->n];
	memset(s, 0, sizeof(*s));
	if (f->n_labels && !(s->lv = calloc(f->n_labels, sizeof(*s->lv))))
		return NULL;
	if (f->type == OAK_METRIC_HISTOGRAM &&
	    !(s->buckets = calloc(f->n_bounds + 1, sizeof(*s->buckets)))) {
		free(s->lv);
		return NULL;
	}
	for (size_t j = 0; j < f->n_labels; j++) {
		s->lv[j] = strdup(lv && lv[j] ? lv[j] : "");
		if (!s->lv[j]) {
			series_free(f, s);
			return NULL;
		}
	}
	f->n++;
	return s;
}

void oak_metric_add(struct oak_metric *f, const char *const *lv, double v)
{
	struct series *s;

	if (!f || f->type == OAK_METRIC_HISTOGRAM || (f->type == OAK_METRIC_COUNTER && !(v >= 0)))
		return;
	s = series_get(f, lv);
	if (s)
		s->value += v;
}

void oak_metric_set(struct oak_metric *f, const char *const *lv, double v)
{
	struct series *s;

	if (!f || f->type == OAK_METRIC_HISTOGRAM)
		return;
	s = series_get(f, lv);
	if (s)
		s->value = v;
}

void oak_metric_observe(struct oak_metric *f, const char *const *lv, double v)
{
	struct series *s;
	size_t i = 0;

	if (!f || f->type != OAK_METRIC_HISTOGRAM || isnan(v))
		return;
	s = series_get(f, lv);
	if (!s)
		return;
	while (i < f->n_bounds && v > f->bounds[i])
		i++;
	s->buckets[i]++;
	s->count++;
	s->value += v;
}

void oak_metric_clear(struct oak_metric *f)
{
	if (!f || !f->n_labels)
		return;
	for (size_t i = 0; i < f->n; i++)
		series_free(f, &f->s[i]);
	f->n = 0;
}

double oak_metric_value(const struct oak_metric *f, const char *const *lv)
{
	if (!f)
		return 0;
	for (size_t i = 0; i < f->n; i++) {
		size_t j = 0;

		while (j < f->n_labels && !strcmp(f->s[i].lv[j], lv && lv[j] ? lv[j] : ""))
			j++;
		if (j == f->n_labels)
			return f->type == OAK_METRIC_HISTOGRAM ? (double)f->s[i].count
							       : f->s[i].value;
	}
	return 0;
}

int oak_metrics_on_collect(struct oak_metrics *m, oak_metrics_collect_cb cb, void *arg)
{
	if (!m || !cb || grow((void **)&m->c, &m->cap_c, m->n_c + 1, sizeof(*m->c)))
		return -1;
	m->c[m->n_c++] = (struct collector){cb, arg};
	return 0;
}

/* the text being built; a failed allocation sticks and fails the render */
struct buf {
	char *p;
	size_t len, cap;
	bool failed;
};

static void put(struct buf *b, const char *s, size_t n)
{
	if (b->failed)
		return;
	if (grow((void **)&b->p, &b->cap, b->len + n + 1, 1)) {
		b->failed = true;
		return;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void puts_(struct buf *b, const char *s)
{
	put(b, s, strlen(s));
}

/* HELP escapes \ and newline; a label value also " */
static void put_escaped(struct buf *b, const char *s, bool quote)
{
	for (; *s; s++) {
		if (*s == '\\')
			puts_(b, "\\\\");
		else if (*s == '\n')
			puts_(b, "\\n");
		else if (quote && *s == '"')
			puts_(b, "\\\"");
		else
			put(b, s, 1);
	}
}

/* Go's float formatting as Prometheus parses it: NaN, +Inf, -Inf,
 * integers without a point, else the shortest text that reads back the same. */
static void fmt_value(char *out, size_t len, double v)
{
	if (isnan(v))
		snprintf(out, len, "NaN");
	else if (isinf(v))
		snprintf(out, len, v > 0 ? "+Inf" : "-Inf");
	else if (v == floor(v) && fabs(v) < 1e15)
		snprintf(out, len, "%.0f", v);
	else {
		snprintf(out, len, "%.15g", v);
		if (strtod(out, NULL) != v)
			snprintf(out, len, "%.17g", v);
	}
}

/* name{l="v",...,extra} value */
static void put_sample(struct buf *b, const struct oak_metric *f, const struct series *s,
		       const char *suffix, const char *le, double v)
{
	char num[40];

	puts_(b, f->name);
	puts_(b, suffix);
	if (f->n_labels || le) {
		put(b, "{", 1);
		for (size_t i = 0; i < f->n_labels; i++) {
			if (i)
				put(b, ",", 1);
			puts_(b, f->labels[i]);
			puts_(b, "=\"");
			put_escaped(b, s->lv[i], true);
			put(b, "\"", 1);
		}
		if (le) {
			if (f->n_labels)
				put(b, ",", 1);
			puts_(b, "le=\"");
			puts_(b, le);
			put(b, "\"", 1);
		}
		put(b, "}", 1);
	}
	fmt_value(num, sizeof(num), v);
	put(b, " ", 1);
	puts_(b, num);
	put(b, "\n", 1);
}

static void put_family(struct buf *b, const struct oak_metric *f)
{
	static const char *const types[] = {"counter", "gauge", "histogram"};

	puts_(b, "# HELP ");
	puts_(b, f->name);
	put(b, " ", 1);
	put_escaped(b, f->help, false);
	puts_(b, "\n# TYPE ");
	puts_(b, f->name);
	put(b, " ", 1);
	puts_(b, types[f->type]);
	put(b, "\n", 1);
	for (size_t i = 0; i < f->n; i++) {
		const struct series *s = &f->s[i];
		unsigned long long cum = 0;
		char le[40];

		if (f->type != OAK_METRIC_HISTOGRAM) {
			put_sample(b, f, s, "", NULL, s->value);
			continue;
		}
		for (size_t j = 0; j <= f->n_bounds; j++) {
			cum += s->buckets[j];
			if (j < f->n_bounds)
				fmt_value(le, sizeof(le), f->bounds[j]);
			else
				snprintf(le, sizeof(le), "+Inf");
			put_sample(b, f, s, "_bucket", le, (double)cum);
		}
		put_sample(b, f, s, "_sum", NULL, s->value);
		put_sample(b, f, s, "_count", NULL, (double)s->count);
	}
}

char *oak_metrics_render(struct oak_metrics *m, size_t *len)
{
	struct buf b = {0};

	if (!m)
		return NULL;
	for (size_t i = 0; i < m->n_c; i++)
		m->c[i].cb(m, m->c[i].arg);
	put(&b, "", 0);
	for (size_t i = 0; i < m->n; i++)
		put_family(&b, m->f[i]);
	if (b.failed) {
		free(b.p);
		return NULL;
	}
	if (len)
		*len = b.len;
	return b.p;
}
