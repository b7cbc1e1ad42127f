/*
 * DESIGN: the parts of SPEC section 3 that do not depend on the input format:
 * the column typing decision and its error order, and RFC 4180 field output.
 * Readers collect evidence per column while they read (all_numeric,
 * any_value, first_empty_row); owls_table_decide() turns it into kinds.
 */
#include <stdlib.h>
#include <string.h>

#include "owls/buf.h"
#include "owls/table.h"
#include "owls/util.h"

const char *owls_format_name(enum owls_format f)
{
    switch (f) {
    case OWLS_FORMAT_CSV:
        return "csv";
    case OWLS_FORMAT_PARQUET:
        return "parquet";
    case OWLS_FORMAT_AUTO:
        break;
    }
    return "auto";
}

struct owls_table *owls_table_new(size_t ncols)
{
    struct owls_table *t = owls_xcalloc(1, sizeof(*t));

    t->ncols = ncols;
    t->cols = owls_xcalloc(ncols ? ncols : 1, sizeof(*t->cols));
    for (size_t j = 0; j < ncols; j++) {
        t->cols[j].kind = OWLS_COL_IGNORED;
        t->cols[j].all_numeric = true;
    }
    return t;
}

void owls_table_free(struct owls_table *t)
{
    if (t == NULL)
        return;
    for (size_t j = 0; j < t->ncols; j++) {
        free(t->cols[j].name);
        free(t->cols[j].values);
    }
    free(t->cols);
    if (t->ops && t->ops->free_impl)
        t->ops->free_impl(t->impl);
    free(t);
}

enum owls_err owls_table_decide(struct owls_table *t, const char *source, struct owls_errmsg *em)
{
    const struct owls_column *missing = NULL;
    size_t d = 0;

    /* A header without data rows: every column would be vacuously numeric
     * and vacuously empty; SPEC names this case not_enough_rows. */
    if (t->nrows == 0)
        return owls_errmsg_set(em, OWLS_ENOT_ENOUGH_ROWS, "%s: header only, no data rows", source);
    for (size_t j = 0; j < t->ncols; j++) {
        struct owls_column *c = &t->cols[j];
        bool numeric = c->all_numeric && c->any_value;

        if (numeric && c->first_empty_row != 0) {
            /* The first such row; on a tie the leftmost column. */
            if (missing == NULL || c->first_empty_row < missing->first_empty_row)
                missing = c;
            numeric = false;
        }
        c->kind = numeric ? OWLS_COL_NUMERIC : OWLS_COL_IGNORED;
        if (numeric) {
            d++;
        } else if (!(t->ops && t->ops->writes_from_values)) {
            /* the writer copies the input's bytes: no use for these */
            free(c->values);
            c->values = NULL;
        }
    }
    if (missing)
        return owls_errmsg_set(em, OWLS_EMISSING_VALUE,
                               "%s: row %zu: column \"%s\": empty value in a numeric column",
                               source, missing->first_empty_row, missing->name);
    if (d < 2)
        return owls_errmsg_set(em, OWLS_ENOT_ENOUGH_NUMERIC_COLUMNS,
                               "%s: %zu numeric column%s, at least 2 needed", source, d,
                               d == 1 ? "" : "s");
    if (t->nrows < 2)
        return owls_errmsg_set(em, OWLS_ENOT_ENOUGH_ROWS, "%s: %zu data row, at least 2 needed",
                               source, t->nrows);
    return OWLS_OK;
}

void owls_table_drop_values(struct owls_table *t)
{
    if (t->ops && t->ops->writes_from_values)
        return;
    for (size_t j = 0; j < t->ncols; j++) {
        free(t->cols[j].values);
        t->cols[j].values = NULL;
    }
}

size_t owls_table_numeric_count(const struct owls_table *t)
{
    size_t d = 0;
    for (size_t j = 0; j < t->ncols; j++)
        d += t->cols[j].kind == OWLS_COL_NUMERIC;
    return d;
}

void owls_table_put_header(const struct owls_table *t, struct owls_buf *b)
{
    for (size_t j = 0; j < t->ncols; j++) {
        if (j)
            owls_buf_putc(b, ',');
        owls_csv_put_field(b, t->cols[j].name, strlen(t->cols[j].name));
    }
    owls_buf_putc(b, '\n');
}

void owls_csv_put_field(struct owls_buf *b, const char *f, size_t n)
{
    bool quote = false;

    for (size_t i = 0; i < n && !quote; i++)
        quote = f[i] == ',' || f[i] == '"' || f[i] == '\r' || f[i] == '\n';
    if (!quote) {
        owls_buf_append(b, f, n);
        return;
    }
    owls_buf_reserve(b, n + 2);
    owls_buf_putc(b, '"');
    for (size_t i = 0; i < n; i++) {
        const char *q = memchr(f + i, '"', n - i);
        size_t run = q ? (size_t)(q - (f + i)) + 1 : n - i;
        owls_buf_append(b, f + i, run);
        if (q)
            owls_buf_putc(b, '"');
        i += run - 1;
    }
    owls_buf_putc(b, '"');
}
