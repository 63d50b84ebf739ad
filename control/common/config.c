#include "oak/config.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/types.h>

#define CFG_MAX_FILE (1024 * 1024)

struct cfg_value {
	char *text;
	char origin[128];
	int64_t i;
	double d;
	bool b;
};

struct oak_config {
	char prog[64];
	const struct oak_cfg_key *keys;
	size_t n;
	struct cfg_value *vals;
};

static void errf(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void errf(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

static const char *type_name(enum oak_cfg_type t)
{
	switch (t) {
	case OAK_CFG_STR:
		return "string";
	case OAK_CFG_INT:
		return "integer";
	case OAK_CFG_BOOL:
		return "boolean";
	default:
		return "number";
	}
}

static int parse_value(const struct oak_cfg_key *k, const char *s, struct cfg_value *v)
{
	char *end;

	switch (k->type) {
	case OAK_CFG_STR:
		return 0;
	case OAK_CFG_INT: {
		long long x;

		errno = 0;
		x = strtoll(s, &end, 10);
		if (end == s || *end || errno)
			return -1;
		v->i = x;
		return 0;
	}
	case OAK_CFG_DOUBLE:
		errno = 0;
		v->d = strtod(s, &end);
		if (end == s || *end || errno || !isfinite(v->d))
			return -1;
		return 0;
	case OAK_CFG_BOOL:
		if (!strcasecmp(s, "true") || !strcasecmp(s, "yes") || !strcasecmp(s, "on") ||
		    !strcmp(s, "1"))
			v->b = true;
		else if (!strcasecmp(s, "false") || !strcasecmp(s, "no") || !strcasecmp(s, "off") ||
			 !strcmp(s, "0"))
			v->b = false;
		else
			return -1;
		return 0;
	}
	return -1;
}

static ssize_t find_key(const struct oak_config *cfg, const char *name, size_t len)
{
	for (size_t i = 0; i < cfg->n; i++)
		if (strlen(cfg->keys[i].name) == len && !strncmp(cfg->keys[i].name, name, len))
			return (ssize_t)i;
	return -1;
}

static int set_value(struct oak_config *cfg, size_t idx, const char *value, const char *origin,
		     char *err, size_t errlen)
{
	const struct oak_cfg_key *k = &cfg->keys[idx];
	struct cfg_value nv = {0};
	char *copy;

	if (parse_value(k, value, &nv)) {
		errf(err, errlen, "%s: key '%s': expected %s, got \"%s\"", origin, k->name,
		     type_name(k->type), value);
		return -1;
	}
	copy = strdup(value);
	if (!copy) {
		errf(err, errlen, "out of memory");
		return -1;
	}
	free(cfg->vals[idx].text);
	nv.text = copy;
	snprintf(nv.origin, sizeof(nv.origin), "%s", origin);
	cfg->vals[idx] = nv;
	return 0;
}

struct oak_config *oak_config_new(const char *prog, const struct oak_cfg_key *keys, size_t n)
{
	struct oak_config *cfg;

	cfg = calloc(1, sizeof(*cfg));
	if (!cfg)
		return NULL;
	snprintf(cfg->prog, sizeof(cfg->prog), "%s", prog ? prog : "oak");
	cfg->keys = keys;
	cfg->n = n;
	cfg->vals = calloc(n ? n : 1, sizeof(*cfg->vals));
	if (!cfg->vals)
		goto fail;
	for (size_t i = 0; i < n; i++) {
		char err[256];

		if (!keys[i].name || !*keys[i].name ||
		    find_key(cfg, keys[i].name, strlen(keys[i].name)) != (ssize_t)i ||
		    !strcmp(keys[i].name, "config") || !strcmp(keys[i].name, "help")) {
			fprintf(stderr, "%s: bad config table entry %zu\n", cfg->prog, i);
			goto fail;
		}
		if (set_value(cfg, i, keys[i].def ? keys[i].def : "", "default", err,
			      sizeof(err))) {
			fprintf(stderr, "%s: bad default: %s\n", cfg->prog, err);
			goto fail;
		}
	}
	return cfg;
fail:
	oak_config_free(cfg);
	return NULL;
}

void oak_config_free(struct oak_config *cfg)
{
	if (!cfg)
		return;
	if (cfg->vals)
		for (size_t i = 0; i < cfg->n; i++)
			free(cfg->vals[i].text);
	free(cfg->vals);
	free(cfg);
}

int oak_config_set(struct oak_config *cfg, const char *key, const char *value, char *err,
		   size_t errlen)
{
	ssize_t i = find_key(cfg, key, strlen(key));

	if (i < 0) {
		errf(err, errlen, "unknown key '%s'", key);
		return -1;
	}
	return set_value(cfg, (size_t)i, value, "command line", err, errlen);
}

static char *trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
		*--e = '\0';
	return s;
}

static int load_line(struct oak_config *cfg, char *line, const char *where, int lineno, char *err,
		     size_t errlen)
{
	char origin[128], *eq, *key, *val;
	ssize_t idx;

	snprintf(origin, sizeof(origin), "%s:%d", where, lineno);
	key = trim(line);
	if (!*key || *key == '#')
		return 0;
	eq = strchr(key, '=');
	if (!eq) {
		errf(err, errlen, "%s: expected 'key = value'", origin);
		return -1;
	}
	*eq = '\0';
	val = eq + 1;
	key = trim(key);
	while (*val == ' ' || *val == '\t')
		val++;
	if (*val == '"') {
		char *close = strchr(val + 1, '"');
		char *rest;

		if (!close) {
			errf(err, errlen, "%s: key '%s': unterminated quote", origin, key);
			return -1;
		}
		*close = '\0';
		rest = trim(close + 1);
		if (*rest && *rest != '#') {
			errf(err, errlen, "%s: key '%s': text after closing quote", origin, key);
			return -1;
		}
		val++;
	} else {
		/* a '#' preceded by whitespace starts a comment */
		for (char *p = val; *p; p++) {
			if (*p == '#' && (p == val || p[-1] == ' ' || p[-1] == '\t')) {
				*p = '\0';
				break;
			}
		}
		val = trim(val);
	}
	idx = find_key(cfg, key, strlen(key));
	if (idx < 0) {
		errf(err, errlen, "%s: unknown key '%s'", origin, key);
		return -1;
	}
	return set_value(cfg, (size_t)idx, val, origin, err, errlen);
}

int oak_config_load_string(struct oak_config *cfg, const char *text, const char *where, char *err,
			   size_t errlen)
{
	char *copy, *line;
	int lineno = 0, rc = 0;
	const char *p;

	copy = strdup(text);
	if (!copy) {
		errf(err, errlen, "out of memory");
		return -1;
	}
	/* strtok_r would skip empty lines and miscount: split by hand */
	line = copy;
	for (p = text;; p++) {
		if (*p == '\n' || *p == '\0') {
			size_t off = (size_t)(p - text);
			bool last = *p == '\0';

			copy[off] = '\0';
			lineno++;
			rc = load_line(cfg, line, where, lineno, err, errlen);
			if (rc || last)
				break;
			line = copy + off + 1;
		}
	}
	free(copy);
	return rc;
}

int oak_config_load_file(struct oak_config *cfg, const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	char *buf;
	size_t n;
	int rc;

	if (!f) {
		errf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	buf = malloc(CFG_MAX_FILE + 1);
	if (!buf) {
		fclose(f);
		errf(err, errlen, "out of memory");
		return -1;
	}
	n = fread(buf, 1, CFG_MAX_FILE + 1, f);
	if (ferror(f) || n > CFG_MAX_FILE) {
		errf(err, errlen, "%s: %s", path, ferror(f) ? "read error" : "larger than 1 MiB");
		fclose(f);
		free(buf);
		return -1;
	}
	fclose(f);
	buf[n] = '\0';
	if (strlen(buf) != n) {
		errf(err, errlen, "%s: contains a NUL byte", path);
		free(buf);
		return -1;
	}
	rc = oak_config_load_string(cfg, buf, path, err, errlen);
	free(buf);
	return rc;
}

void oak_config_print_help(const struct oak_config *cfg, FILE *out)
{
	fprintf(out, "usage: %s [--config FILE] [--KEY=VALUE ...]\n\n", cfg->prog);
	fprintf(out, "Every key may be set in the config file as 'KEY = VALUE' or on the\n"
		     "command line as --KEY=VALUE (the command line wins).\n\n");
	fprintf(out, "  %-22s %-8s %-20s %s\n", "KEY", "TYPE", "DEFAULT", "");
	for (size_t i = 0; i < cfg->n; i++) {
		const struct oak_cfg_key *k = &cfg->keys[i];
		const char *def = k->def && *k->def ? k->def : "\"\"";

		fprintf(out, "  %-22s %-8s %-20s %s\n", k->name, type_name(k->type), def,
			k->help ? k->help : "");
	}
	fprintf(out, "  %-22s %-8s %-20s %s\n", "config", "path", "\"\"",
		"read settings from this file first");
	fprintf(out, "  %-22s %-8s %-20s %s\n", "help", "", "", "print this list and exit");
}

int oak_config_parse_args(struct oak_config *cfg, int argc, char **argv, FILE *out, char *err,
			  size_t errlen)
{
	const char *file = NULL;

	/* pass 1: --help and --config, so the file is loaded before overrides */
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			oak_config_print_help(cfg, out ? out : stdout);
			return 1;
		}
		if (!strcmp(a, "--config")) {
			if (i + 1 >= argc) {
				errf(err, errlen, "--config needs a file");
				return -1;
			}
			file = argv[++i];
		} else if (!strncmp(a, "--config=", 9)) {
			file = a + 9;
		}
	}
	if (file && oak_config_load_file(cfg, file, err, errlen))
		return -1;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *name, *eq, *val;
		ssize_t idx;
		size_t len;

		if (!strcmp(a, "--config")) {
			i++;
			continue;
		}
		if (!strncmp(a, "--config=", 9))
			continue;
		if (strncmp(a, "--", 2) != 0 || !a[2]) {
			errf(err, errlen, "unexpected argument '%s' (options are --key=value)", a);
			return -1;
		}
		name = a + 2;
		eq = strchr(name, '=');
		len = eq ? (size_t)(eq - name) : strlen(name);
		idx = find_key(cfg, name, len);
		if (idx < 0) {
			errf(err, errlen, "unknown option '--%.*s' (see --help)", (int)len, name);
			return -1;
		}
		if (eq) {
			val = eq + 1;
		} else if (cfg->keys[idx].type == OAK_CFG_BOOL &&
			   (i + 1 >= argc || !strncmp(argv[i + 1], "--", 2))) {
			val = "true";
		} else if (i + 1 < argc) {
			val = argv[++i];
		} else {
			errf(err, errlen, "option '--%s' needs a value", name);
			return -1;
		}
		if (set_value(cfg, (size_t)idx, val, "command line", err, errlen))
			return -1;
	}
	return 0;
}

static const struct cfg_value *get(const struct oak_config *cfg, const char *key,
				   enum oak_cfg_type type)
{
	ssize_t i = find_key(cfg, key, strlen(key));

	if (i < 0 || cfg->keys[i].type != type) {
		fprintf(stderr, "%s: config key '%s' %s\n", cfg->prog, key,
			i < 0 ? "is not in the table" : "read with the wrong type");
		abort();
	}
	return &cfg->vals[i];
}

bool oak_config_has(const struct oak_config *cfg, const char *key)
{
	return find_key(cfg, key, strlen(key)) >= 0;
}

const char *oak_config_str(const struct oak_config *cfg, const char *key)
{
	return get(cfg, key, OAK_CFG_STR)->text;
}

int64_t oak_config_int(const struct oak_config *cfg, const char *key)
{
	return get(cfg, key, OAK_CFG_INT)->i;
}

bool oak_config_bool(const struct oak_config *cfg, const char *key)
{
	return get(cfg, key, OAK_CFG_BOOL)->b;
}

double oak_config_double(const struct oak_config *cfg, const char *key)
{
	return get(cfg, key, OAK_CFG_DOUBLE)->d;
}

const char *oak_config_origin(const struct oak_config *cfg, const char *key)
{
	ssize_t i = find_key(cfg, key, strlen(key));

	return i < 0 ? NULL : cfg->vals[i].origin;
}
