#include "jfield.h"

#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "oak/sla.h"

void jf_err(char *err, size_t errlen, const char *path, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (!err || errlen == 0)
		return;
	n = snprintf(err, errlen, "%s%s", path && *path ? path : "", path && *path ? ": " : "");
	if (n < 0 || (size_t)n >= errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err + n, errlen - (size_t)n, fmt, ap);
	va_end(ap);
}

#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-truncation"
#endif
/* paths are diagnostics: truncating a very deep one is fine */
void jf_path_key(char *dst, size_t len, const char *base, const char *key)
{
	if (base && *base)
		snprintf(dst, len, "%s.%s", base, key);
	else
		snprintf(dst, len, "%s", key);
}

void jf_path_idx(char *dst, size_t len, const char *base, size_t idx)
{
	snprintf(dst, len, "%s[%zu]", base ? base : "", idx);
}
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic pop
#endif

#define FIELD(obj, f, T)  ((T *)((char *)(obj) + (f)->off))
#define CFIELD(obj, f, T) ((const T *)((const char *)(obj) + (f)->off))

static bool is_name(const char *s)
{
	size_t n = 0;

	for (; s[n]; n++)
		if (!isascii((unsigned char)s[n]) || !isalnum((unsigned char)s[n]))
			return false;
	return n >= 1 && n <= 30;
}

static bool is_topic_level(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (*s == '/' || *s == '+' || *s == '#' || (unsigned char)*s < 0x20)
			return false;
	return true;
}

static const char *json_type_name(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return "object";
	case JSON_ARRAY:
		return "array";
	case JSON_STRING:
		return "string";
	case JSON_INTEGER:
		return "integer";
	case JSON_REAL:
		return "number";
	case JSON_TRUE:
	case JSON_FALSE:
		return "boolean";
	default:
		return "null";
	}
}

static int want(json_t *v, json_type type, const char *tname, const char *path, char *err,
		size_t errlen)
{
	if (json_typeof(v) == type)
		return 0;
	jf_err(err, errlen, path, "expected %s, got %s", tname, json_type_name(v));
	return -1;
}

static int copy_str(char *dst, size_t size, json_t *v, const char *path, char *err, size_t errlen)
{
	size_t n;

	if (want(v, JSON_STRING, "string", path, err, errlen))
		return -1;
	n = json_string_length(v);
	if (n >= size) {
		jf_err(err, errlen, path, "longer than %zu characters", size - 1);
		return -1;
	}
	if (strlen(json_string_value(v)) != n) {
		jf_err(err, errlen, path, "contains a NUL character");
		return -1;
	}
	memcpy(dst, json_string_value(v), n + 1);
	return 0;
}

static int get_number(json_t *v, double *out, const char *path, char *err, size_t errlen)
{
	if (json_is_integer(v))
		*out = (double)json_integer_value(v);
	else if (json_is_real(v))
		*out = json_real_value(v);
	else {
		jf_err(err, errlen, path, "expected number, got %s", json_type_name(v));
		return -1;
	}
	if (!isfinite(*out)) {
		jf_err(err, errlen, path, "not a finite number");
		return -1;
	}
	return 0;
}

static int get_geo(json_t *v, struct oak_geo *g, const char *path, char *err, size_t errlen)
{
	char p[512];
	json_t *lat, *lon;

	if (want(v, JSON_OBJECT, "object", path, err, errlen))
		return -1;
	lat = json_object_get(v, "lat");
	lon = json_object_get(v, "lon");
	jf_path_key(p, sizeof(p), path, "lat");
	if (!lat) {
		jf_err(err, errlen, p, "missing required field");
		return -1;
	}
	if (get_number(lat, &g->lat, p, err, errlen))
		return -1;
	if (g->lat < -90 || g->lat > 90) {
		jf_err(err, errlen, p, "must be within -90..90");
		return -1;
	}
	jf_path_key(p, sizeof(p), path, "lon");
	if (!lon) {
		jf_err(err, errlen, p, "missing required field");
		return -1;
	}
	if (get_number(lon, &g->lon, p, err, errlen))
		return -1;
	if (g->lon < -180 || g->lon > 180) {
		jf_err(err, errlen, p, "must be within -180..180");
		return -1;
	}
	g->set = true;
	return 0;
}

static int get_vivaldi(json_t *v, struct oak_vivaldi *c, const char *path, char *err, size_t errlen)
{
	static const char *const keys[] = {"x", "y", "height", "error"};
	double *dst[] = {&c->x, &c->y, &c->height, &c->error};
	char p[512];

	if (want(v, JSON_OBJECT, "object", path, err, errlen))
		return -1;
	for (size_t i = 0; i < 4; i++) {
		json_t *e = json_object_get(v, keys[i]);

		jf_path_key(p, sizeof(p), path, keys[i]);
		if (!e) {
			jf_err(err, errlen, p, "missing required field");
			return -1;
		}
		if (get_number(e, dst[i], p, err, errlen))
			return -1;
		if (fabs(*dst[i]) > 1e9) {
			jf_err(err, errlen, p, "out of range");
			return -1;
		}
	}
	c->set = true;
	return 0;
}

static int decode_field(const struct jf_field *f, json_t *v, void *out, const char *path, char *err,
			size_t errlen)
{
	char p[512];
	double d;

	switch (f->type) {
	case JF_STR:
	case JF_NAME: {
		char *dst = FIELD(out, f, char);

		if (copy_str(dst, f->size, v, path, err, errlen))
			return -1;
		if (f->type == JF_NAME && !is_name(dst)) {
			jf_err(err, errlen, path, "must be 1..30 alphanumeric characters");
			return -1;
		}
		if ((f->flags & JF_NONEMPTY) && !*dst) {
			jf_err(err, errlen, path, "must not be empty");
			return -1;
		}
		if ((f->flags & JF_ID) && !is_topic_level(dst)) {
			jf_err(
			    err, errlen, path,
			    "must be non-empty and contain no '/', '+', '#' or control characters");
			return -1;
		}
		return 0;
	}
	case JF_I64:
	case JF_I32:
	case JF_U32: {
		json_int_t iv;

		if (want(v, JSON_INTEGER, "integer", path, err, errlen))
			return -1;
		iv = json_integer_value(v);
		if ((double)iv < f->min || (double)iv > f->max) {
			jf_err(err, errlen, path, "must be within %.0f..%.0f", f->min, f->max);
			return -1;
		}
		if (f->type == JF_I64)
			*FIELD(out, f, int64_t) = iv;
		else if (f->type == JF_I32)
			*FIELD(out, f, int32_t) = (int32_t)iv;
		else
			*FIELD(out, f, uint32_t) = (uint32_t)iv;
		return 0;
	}
	case JF_DBL:
		if (get_number(v, &d, path, err, errlen))
			return -1;
		if (d < f->min || d > f->max) {
			jf_err(err, errlen, path, "must be within %g..%g", f->min, f->max);
			return -1;
		}
		*FIELD(out, f, double) = d;
		return 0;
	case JF_BOOL:
		if (!json_is_boolean(v)) {
			jf_err(err, errlen, path, "expected boolean, got %s", json_type_name(v));
			return -1;
		}
		*FIELD(out, f, bool) = json_is_true(v);
		return 0;
	case JF_ENUM: {
		const char *s;

		if (want(v, JSON_STRING, "string", path, err, errlen))
			return -1;
		s = json_string_value(v);
		for (size_t i = 0; i < f->enum_n; i++) {
			if (strcmp(s, f->enum_names[i]) == 0) {
				*FIELD(out, f, int) = (int)i;
				return 0;
			}
		}
		char list[256] = "";
		for (size_t i = 0; i < f->enum_n; i++) {
			size_t l = strlen(list);

			snprintf(list + l, sizeof(list) - l, "%s%s", i ? ", " : "",
				 f->enum_names[i]);
		}
		jf_err(err, errlen, path, "unknown value \"%.40s\" (one of %s)", s, list);
		return -1;
	}
	case JF_STRV: {
		struct oak_strv *sv = FIELD(out, f, struct oak_strv);
		size_t n;

		if (want(v, JSON_ARRAY, "array", path, err, errlen))
			return -1;
		n = json_array_size(v);
		if ((double)n > f->max) {
			jf_err(err, errlen, path, "more than %.0f entries", f->max);
			return -1;
		}
		if (n == 0)
			return 0;
		sv->v = calloc(n, sizeof(char *));
		if (!sv->v) {
			jf_err(err, errlen, path, "out of memory");
			return -1;
		}
		for (size_t i = 0; i < n; i++) {
			json_t *e = json_array_get(v, i);

			jf_path_idx(p, sizeof(p), path, i);
			if (want(e, JSON_STRING, "string", p, err, errlen))
				return -1;
			if (json_string_length(e) > OAK_STR_MAX) {
				jf_err(err, errlen, p, "longer than %d characters", OAK_STR_MAX);
				return -1;
			}
			if (strlen(json_string_value(e)) != json_string_length(e)) {
				jf_err(err, errlen, p, "contains a NUL character");
				return -1;
			}
			sv->v[i] = strdup(json_string_value(e));
			if (!sv->v[i]) {
				jf_err(err, errlen, p, "out of memory");
				return -1;
			}
			sv->n = i + 1;
		}
		return 0;
	}
	case JF_NAMES: {
		struct oak_names *nm = FIELD(out, f, struct oak_names);

		if (want(v, JSON_ARRAY, "array", path, err, errlen))
			return -1;
		if (json_array_size(v) > OAK_NAMES_MAX) {
			jf_err(err, errlen, path, "more than %d entries", OAK_NAMES_MAX);
			return -1;
		}
		for (size_t i = 0; i < json_array_size(v); i++) {
			jf_path_idx(p, sizeof(p), path, i);
			if (copy_str(nm->v[i], sizeof(nm->v[i]), json_array_get(v, i), p, err,
				     errlen))
				return -1;
			nm->n = i + 1;
		}
		return 0;
	}
	case JF_ARR: {
		void **arr = FIELD(out, f, void *);
		size_t *count = (size_t *)((char *)out + f->count_off);
		size_t n;

		if (want(v, JSON_ARRAY, "array", path, err, errlen))
			return -1;
		n = json_array_size(v);
		if ((double)n > f->max) {
			jf_err(err, errlen, path, "more than %.0f entries", f->max);
			return -1;
		}
		if (n == 0)
			return 0;
		*arr = calloc(n, f->size);
		if (!*arr) {
			jf_err(err, errlen, path, "out of memory");
			return -1;
		}
		for (size_t i = 0; i < n; i++) {
			jf_path_idx(p, sizeof(p), path, i);
			if (jf_decode(f->sub, json_array_get(v, i), (char *)*arr + i * f->size, p,
				      err, errlen))
				return -1;
			*count = i + 1;
		}
		return 0;
	}
	case JF_OBJ:
		return jf_decode(f->sub, v, FIELD(out, f, char), path, err, errlen);
	case JF_JSON:
		if (want(v, JSON_OBJECT, "object", path, err, errlen))
			return -1;
		*FIELD(out, f, json_t *) = json_incref(v);
		return 0;
	case JF_SELF:
		return 0;
	case JF_GEO:
		return get_geo(v, FIELD(out, f, struct oak_geo), path, err, errlen);
	case JF_VIVALDI:
		return get_vivaldi(v, FIELD(out, f, struct oak_vivaldi), path, err, errlen);
	}
	jf_err(err, errlen, path, "internal: bad field type");
	return -1;
}

static const struct jf_field *find_field(const struct jf_table *t, const char *key)
{
	for (size_t i = 0; i < t->n; i++)
		if (t->fields[i].name && strcmp(t->fields[i].name, key) == 0)
			return &t->fields[i];
	return NULL;
}

int jf_decode(const struct jf_table *t, json_t *obj, void *out, const char *path, char *err,
	      size_t errlen)
{
	char p[512];
	const char *key;
	json_t *v;

	memset(out, 0, t->size);
	if (!obj || !json_is_object(obj)) {
		jf_err(err, errlen, path && *path ? path : "payload", "expected object, got %s",
		       obj ? json_type_name(obj) : "nothing");
		return -1;
	}
	if (t->strict) {
		json_object_foreach(obj, key, v)
		{
			if (!find_field(t, key)) {
				jf_path_key(p, sizeof(p), path, key);
				jf_err(err, errlen, p, "unknown field");
				return -1;
			}
		}
	}
	for (size_t i = 0; i < t->n; i++) {
		const struct jf_field *f = &t->fields[i];

		if (f->type == JF_SELF) {
			*FIELD(out, f, json_t *) = json_incref(obj);
			continue;
		}
		jf_path_key(p, sizeof(p), path, f->name);
		v = json_object_get(obj, f->name);
		if (!v) {
			if (f->flags & JF_REQ) {
				jf_err(err, errlen, p, "missing required field");
				goto fail;
			}
			continue;
		}
		if (decode_field(f, v, out, p, err, errlen))
			goto fail;
	}
	if (t->check && t->check(out, path, err, errlen))
		goto fail;
	return 0;
fail:
	jf_free(t, out);
	return -1;
}

int jf_decode_text(const struct jf_table *t, const char *buf, size_t len, size_t max_bytes,
		   void *out, char *err, size_t errlen)
{
	json_error_t jerr;
	json_t *root;
	int rc;

	memset(out, 0, t->size);
	if (!buf) {
		jf_err(err, errlen, "payload", "missing");
		return -1;
	}
	if (len > max_bytes) {
		jf_err(err, errlen, "payload", "%zu bytes exceeds the limit of %zu", len,
		       max_bytes);
		return -1;
	}
	root = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!root) {
		jf_err(err, errlen, "payload", "invalid JSON at line %d column %d: %s", jerr.line,
		       jerr.column, jerr.text);
		return -1;
	}
	rc = jf_decode(t, root, out, "", err, errlen);
	json_decref(root);
	return rc;
}

static json_t *encode_field(const struct jf_field *f, const void *in)
{
	switch (f->type) {
	case JF_STR:
	case JF_NAME:
		return json_string(CFIELD(in, f, char));
	case JF_I64:
		return json_integer(*CFIELD(in, f, int64_t));
	case JF_I32:
		return json_integer(*CFIELD(in, f, int32_t));
	case JF_U32:
		return json_integer(*CFIELD(in, f, uint32_t));
	case JF_DBL:
		return json_real(*CFIELD(in, f, double));
	case JF_BOOL:
		return json_boolean(*CFIELD(in, f, bool));
	case JF_ENUM: {
		int e = *CFIELD(in, f, int);

		if (e < 0 || (size_t)e >= f->enum_n)
			return NULL;
		return json_string(f->enum_names[e]);
	}
	case JF_STRV: {
		const struct oak_strv *sv = CFIELD(in, f, struct oak_strv);
		json_t *a = json_array();

		for (size_t i = 0; a && i < sv->n; i++)
			json_array_append_new(a, json_string(sv->v[i] ? sv->v[i] : ""));
		return a;
	}
	case JF_NAMES: {
		const struct oak_names *nm = CFIELD(in, f, struct oak_names);
		json_t *a = json_array();

		for (size_t i = 0; a && i < nm->n && i < OAK_NAMES_MAX; i++)
			json_array_append_new(a, json_string(nm->v[i]));
		return a;
	}
	case JF_ARR: {
		const void *arr = *CFIELD(in, f, void *const);
		size_t n = *(const size_t *)((const char *)in + f->count_off);
		json_t *a = json_array();

		for (size_t i = 0; a && arr && i < n; i++)
			json_array_append_new(a,
					      jf_encode(f->sub, (const char *)arr + i * f->size));
		return a;
	}
	case JF_OBJ:
		return jf_encode(f->sub, CFIELD(in, f, char));
	case JF_JSON: {
		json_t *j = *(json_t *const *)((const char *)in + f->off);

		return j ? json_incref(j) : NULL;
	}
	case JF_SELF:
		return NULL;
	case JF_GEO: {
		const struct oak_geo *g = CFIELD(in, f, struct oak_geo);

		if (!g->set)
			return NULL;
		return json_pack("{s:f,s:f}", "lat", g->lat, "lon", g->lon);
	}
	case JF_VIVALDI: {
		const struct oak_vivaldi *c = CFIELD(in, f, struct oak_vivaldi);

		if (!c->set)
			return NULL;
		return json_pack("{s:f,s:f,s:f,s:f}", "x", c->x, "y", c->y, "height", c->height,
				 "error", c->error);
	}
	}
	return NULL;
}

json_t *jf_encode(const struct jf_table *t, const void *in)
{
	json_t *obj = json_object();

	if (!obj)
		return NULL;
	for (size_t i = 0; i < t->n; i++) {
		json_t *v = encode_field(&t->fields[i], in);

		if (v)
			json_object_set_new(obj, t->fields[i].name, v);
	}
	return obj;
}

char *jf_encode_text(const struct jf_table *t, const void *in)
{
	json_t *obj = jf_encode(t, in);
	char *s;

	if (!obj)
		return NULL;
	s = json_dumps(obj, JSON_COMPACT | JSON_REAL_PRECISION(10));
	json_decref(obj);
	return s;
}

void oak_strv_free(struct oak_strv *sv)
{
	if (!sv)
		return;
	for (size_t i = 0; i < sv->n; i++)
		free(sv->v[i]);
	free(sv->v);
	sv->v = NULL;
	sv->n = 0;
}

void jf_free(const struct jf_table *t, void *obj)
{
	if (!obj)
		return;
	for (size_t i = 0; i < t->n; i++) {
		const struct jf_field *f = &t->fields[i];

		switch (f->type) {
		case JF_STRV:
			oak_strv_free(FIELD(obj, f, struct oak_strv));
			break;
		case JF_ARR: {
			void **arr = FIELD(obj, f, void *);
			size_t *count = (size_t *)((char *)obj + f->count_off);

			if (*arr)
				for (size_t k = 0; k < *count; k++)
					jf_free(f->sub, (char *)*arr + k * f->size);
			free(*arr);
			*arr = NULL;
			*count = 0;
			break;
		}
		case JF_OBJ:
			jf_free(f->sub, FIELD(obj, f, char));
			break;
		case JF_JSON:
		case JF_SELF:
			json_decref(*FIELD(obj, f, json_t *));
			*FIELD(obj, f, json_t *) = NULL;
			break;
		default:
			break;
		}
	}
}
