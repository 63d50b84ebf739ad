/* SPDX-License-Identifier: MIT */
/*
 * Aligned text tables: a header row and cells, printed with every column
 * as wide as its widest cell, two spaces between columns, no trailing
 * blanks. Cells are copied; an empty or NULL cell prints as "-".
 */
#ifndef OAKCTL_TABLE_H
#define OAKCTL_TABLE_H

#include <stdbool.h>
#include <stdio.h>

#define TABLE_MAX_COLS 12

struct table;

/* ncols header names, NULL-terminated; NULL when out of memory. */
struct table *table_new(const char *header, ...);
/* One row: exactly as many cells as the header has columns. 0 or -1. */
int table_add(struct table *t, ...);
/* The same, cells from an array. */
int table_add_row(struct table *t, const char *const *cells);
unsigned int table_rows(const struct table *t);
void table_print(const struct table *t, FILE *out);
/*
 * The same; with color, the cells of the STATUS and ACTIVE columns are
 * coloured by out_status_color() (the padding counts only the text).
 */
void table_print_color(const struct table *t, FILE *out, bool color);
void table_free(struct table *t);

#endif
