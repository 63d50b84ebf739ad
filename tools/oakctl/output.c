// SPDX-License-Identifier: MIT
/* Output formats and colour (see output.h). */
#include "output.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

int out_format_parse(const char *s, enum out_format *f)
{
	static const struct {
		const char *name;
		enum out_format f;
	} names[] = {
	    {"table", OUT_TABLE},
	    {"wide", OUT_WIDE},
	    {"json", OUT_JSON},
	    {"yaml", OUT_YAML},
	};
	size_t i;

	for (i = 0; s && i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(s, names[i].name)) {
			*f = names[i].f;
			return 0;
		}
	return -1;
}

bool out_color(const char *no_color, const char *term, bool is_tty)
{
	/* https://no-color.org: set to anything but empty, no colour */
	if (no_color && *no_color)
		return false;
	if (term && !strcmp(term, "dumb"))
		return false;
	return is_tty;
}

const char *out_status_color(const char *status)
{
	static const char *const green[] = {"RUNNING", "true", NULL};
	static const char *const red[] = {"FAILED", "DEAD", "false", NULL};
	const char *const *p;

	if (!status || !*status || !strcmp(status, "-"))
		return NULL;
	for (p = green; *p; p++)
		if (!strcmp(status, *p))
			return "\033[32m";
	for (p = red; *p; p++)
		if (!strcmp(status, *p))
			return "\033[31m";
	return "\033[33m"; /* on its way: REQUESTED, SCHEDULED, CREATING... */
}

/* Whether a string can stand unquoted in YAML 1.1 and 1.2 alike. */
static bool yaml_plain(const char *s)
{
	static const char *const reserved[] = {"true", "false", "null", "yes", "no", "on",
					       "off",  "y",	"n",	"~",   NULL};
	const char *const *r;
	const char *p;
	char *end;

	if (!*s)
		return false;
	for (r = reserved; *r; r++)
		if (!strcasecmp(s, *r))
			return false;
	strtod(s, &end);
	if (!*end)
		return false; /* it would read as a number */
	if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_/", *s))
		return false;
	for (p = s; *p; p++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_./-",
			    *p))
			return false;
	return true;
}

static void yaml_string(const char *s, FILE *out)
{
	json_t *j;

	if (yaml_plain(s)) {
		fputs(s, out);
		return;
	}
	/* a JSON string is a YAML double-quoted scalar */
	j = json_string(s);
	if (j)
		json_dumpf(j, out, JSON_ENCODE_ANY);
	else
		fputs("\"\"", out);
	json_decref(j);
}

static bool yaml_is_block(const json_t *v)
{
	return (json_is_object(v) && json_object_size(v)) ||
	       (json_is_array(v) && json_array_size(v));
}

static void yaml_scalar(const json_t *v, FILE *out)
{
	switch (json_typeof(v)) {
	case JSON_STRING:
		yaml_string(json_string_value(v), out);
		break;
	case JSON_INTEGER:
		fprintf(out, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		break;
	case JSON_REAL:
		fprintf(out, "%.17g", json_real_value(v));
		break;
	case JSON_TRUE:
		fputs("true", out);
		break;
	case JSON_FALSE:
		fputs("false", out);
		break;
	case JSON_OBJECT:
		fputs("{}", out);
		break;
	case JSON_ARRAY:
		fputs("[]", out);
		break;
	default:
		fputs("null", out);
		break;
	}
}

/*
 * A block node at indent; first_inline: its first line continues a "- "
 * already printed (an object's first key, or an array's first "- ").
 */
static void yaml_block(const json_t *v, int indent, bool first_inline, FILE *out)
{
	bool first = true;
	const char *key;
	json_t *e;
	size_t i;

	if (json_is_object(v)) {
		json_object_foreach((json_t *)v, key, e)
		{
			if (!(first && first_inline))
				fprintf(out, "%*s", indent, "");
			first = false;
			yaml_string(key, out);
			fputc(':', out);
			if (yaml_is_block(e)) {
				fputc('\n', out);
				/* a list under a key stays at the key's indent */
				yaml_block(e, json_is_array(e) ? indent : indent + 2, false, out);
			} else {
				fputc(' ', out);
				yaml_scalar(e, out);
				fputc('\n', out);
			}
		}
		return;
	}
	json_array_foreach(v, i, e)
	{
		if (!(first && first_inline))
			fprintf(out, "%*s", indent, "");
		first = false;
		fputs("- ", out);
		if (yaml_is_block(e)) {
			yaml_block(e, indent + 2, true, out);
		} else {
			yaml_scalar(e, out);
			fputc('\n', out);
		}
	}
}

void out_yaml(const json_t *v, FILE *out)
{
	if (yaml_is_block(v)) {
		yaml_block(v, 0, false, out);
	} else {
		yaml_scalar(v, out);
		fputc('\n', out);
	}
}
