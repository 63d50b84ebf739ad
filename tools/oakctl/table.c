// SPDX-License-Identifier: MIT
/* Aligned text tables (see table.h). */
#include "table.h"

#include "output.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

struct table {
	unsigned int ncols, nrows, cap;
	char **cells; /* (nrows + 1) * ncols; row 0 is the header */
};

static char *cell_dup(const char *s)
{
	return strdup(s && *s ? s : "-");
}

struct table *table_new(const char *header, ...)
{
	const char *names[TABLE_MAX_COLS];
	struct table *t;
	unsigned int n = 0, i;
	va_list ap;

	va_start(ap, header);
	for (const char *h = header; h && n < TABLE_MAX_COLS; h = va_arg(ap, const char *))
		names[n++] = h;
	va_end(ap);
	t = calloc(1, sizeof(*t));
	if (!t || !n)
		goto fail;
	t->ncols = n;
	t->cap = 8;
	t->cells = calloc((size_t)t->cap * n, sizeof(char *));
	if (!t->cells)
		goto fail;
	for (i = 0; i < n; i++)
		if (!(t->cells[i] = strdup(names[i])))
			goto fail;
	return t;
fail:
	table_free(t);
	return NULL;
}

int table_add_row(struct table *t, const char *const *cells)
{
	unsigned int i, row = t->nrows + 1;

	if (row + 1 > t->cap) {
		char **grown = realloc(t->cells, (size_t)t->cap * 2 * t->ncols * sizeof(char *));

		if (!grown)
			return -1;
		t->cells = grown;
		t->cap *= 2;
	}
	for (i = 0; i < t->ncols; i++) {
		t->cells[row * t->ncols + i] = cell_dup(cells[i]);
		if (!t->cells[row * t->ncols + i]) {
			while (i--)
				free(t->cells[row * t->ncols + i]);
			return -1;
		}
	}
	t->nrows++;
	return 0;
}

int table_add(struct table *t, ...)
{
	const char *cells[TABLE_MAX_COLS];
	unsigned int i;
	va_list ap;

	va_start(ap, t);
	for (i = 0; i < t->ncols; i++)
		cells[i] = va_arg(ap, const char *);
	va_end(ap);
	return table_add_row(t, cells);
}

unsigned int table_rows(const struct table *t)
{
	return t->nrows;
}

void table_print(const struct table *t, FILE *out)
{
	table_print_color(t, out, false);
}

static bool status_column(const char *header)
{
	return !strcmp(header, "STATUS") || !strcmp(header, "ACTIVE");
}

void table_print_color(const struct table *t, FILE *out, bool color)
{
	size_t width[TABLE_MAX_COLS] = {0};
	unsigned int r, c;

	for (r = 0; r <= t->nrows; r++)
		for (c = 0; c < t->ncols; c++) {
			size_t w = strlen(t->cells[r * t->ncols + c]);

			if (w > width[c])
				width[c] = w;
		}
	for (r = 0; r <= t->nrows; r++) {
		for (c = 0; c < t->ncols; c++) {
			const char *s = t->cells[r * t->ncols + c];
			const char *esc =
			    color && r && status_column(t->cells[c]) ? out_status_color(s) : NULL;
			int pad = (int)(width[c] - strlen(s));

			fprintf(out, "%s%s%s", esc ? esc : "", s, esc ? "\033[0m" : "");
			if (c + 1 == t->ncols)
				fputc('\n', out);
			else
				fprintf(out, "%*s  ", pad, "");
		}
	}
}

void table_free(struct table *t)
{
	unsigned int i;

	if (!t)
		return;
	if (t->cells)
		for (i = 0; i < (t->nrows + 1) * t->ncols; i++)
			free(t->cells[i]);
	free(t->cells);
	free(t);
}
