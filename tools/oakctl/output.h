/* SPDX-License-Identifier: MIT */
/*
 * How `get` prints: a table (default), a wide table, JSON or YAML
 * (-o/--output; --json is -o json), and whether tables may use colour
 * (a terminal, NO_COLOR unset or empty, TERM not "dumb").
 */
#ifndef OAKCTL_OUTPUT_H
#define OAKCTL_OUTPUT_H

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>

enum out_format {
	OUT_TABLE,
	OUT_WIDE,
	OUT_JSON,
	OUT_YAML,
};

/* "table", "wide", "json", "yaml" -> *f; -1 for anything else. */
int out_format_parse(const char *s, enum out_format *f);

/* Colour or not, from NO_COLOR's and TERM's values (NULL: unset) and isatty. */
bool out_color(const char *no_color, const char *term, bool is_tty);

/* The ANSI colour of a status cell (RUNNING, FAILED, true...); NULL: none. */
const char *out_status_color(const char *status);

/* A JSON document as YAML 1.2 (block style; strings quoted where needed). */
void out_yaml(const json_t *v, FILE *out);

#endif
