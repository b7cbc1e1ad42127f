/*
 * table.h - the in-memory table every input reader produces and the Q4
 * split consumes.
 *
 * A reader (csv.h, later parquet.h) builds a struct owls_table: the column
 * names in input order, the values of the columns that may be numeric, and a
 * private representation it uses to write rows back out. Column typing
 * (SPEC section 3) is shared: readers report, per column, whether every
 * non-empty value was a number and where the first empty value was, and
 * owls_table_decide() applies the rules and their order.
 *
 * Ownership: the table owns its columns, names and values; the reader's
 * private state is freed through ops->free_impl. Not thread-safe; one job.
 */
#ifndef OWLS_TABLE_H
#define OWLS_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "owls/err.h"

enum owls_format {
    OWLS_FORMAT_AUTO = 0,
    OWLS_FORMAT_CSV,
    OWLS_FORMAT_PARQUET,
};

/* "csv", "parquet" (or "auto"). */
const char *owls_format_name(enum owls_format f);

enum owls_col_kind {
    OWLS_COL_NUMERIC, /* used by the fit */
    OWLS_COL_IGNORED, /* carried in the output rows only */
};

struct owls_column {
    char *name;              /* owned, NUL-terminated */
    enum owls_col_kind kind; /* final after owls_table_decide() */
    double *values;          /* nrows values while the column may be numeric, else NULL; an
                              * ignored column keeps them if the writer prints from them */
    /* typing evidence, filled by the reader: */
    bool all_numeric;       /* every non-empty value so far is a number */
    bool any_value;         /* at least one non-empty value */
    size_t first_empty_row; /* 1-based data row of the first empty value; 0 = none */
};

struct owls_table;

/* Where rows go: one of the two CSV artifacts. */
typedef enum owls_err (*owls_row_sink_fn)(void *sink, const void *p, size_t n);

struct owls_table_ops {
    /* Write the header line, then every row i (in input order) to keep when
     * keep[i] != 0 and to discard otherwise, each as RFC 4180 CSV with '\n'
     * line ends (the header goes to both). */
    enum owls_err (*write_split)(const struct owls_table *t, const uint8_t *keep,
                                 owls_row_sink_fn sink, void *keep_sink, void *discard_sink,
                                 struct owls_errmsg *em);
    void (*free_impl)(void *impl);
    /* write_split prints from the column values (false: it copies the
     * input's own bytes, so the values may go once the split is done). */
    bool writes_from_values;
};

struct owls_table {
    size_t nrows; /* data rows, header excluded */
    size_t ncols;
    struct owls_column *cols;
    const struct owls_table_ops *ops;
    void *impl; /* reader-private */
};

/* A table with ncols columns, all candidates for numeric (all_numeric = true,
 * values = NULL); names are filled by the reader. Caller frees. */
struct owls_table *owls_table_new(size_t ncols);
void owls_table_free(struct owls_table *t);

/*
 * Apply SPEC section 3's typing rules once the reader has seen every row:
 * a column is numeric when all its values are numbers; numbers mixed with
 * empty values fail with OWLS_EMISSING_VALUE (the first such row, then the
 * leftmost column); all-empty and text columns are ignored (their values are
 * freed). Then d >= 2 (OWLS_ENOT_ENOUGH_NUMERIC_COLUMNS) and N >= 2
 * (OWLS_ENOT_ENOUGH_ROWS), in that order. source names the input in em.
 */
enum owls_err owls_table_decide(struct owls_table *t, const char *source, struct owls_errmsg *em);

/* Free the numeric values when writing does not need them (after the
 * split, before the write pass: peak memory). */
void owls_table_drop_values(struct owls_table *t);

/* Number of numeric columns (after owls_table_decide). */
size_t owls_table_numeric_count(const struct owls_table *t);

/* Append the header line (the column names as RFC 4180 CSV, '\n') to b. */
struct owls_buf;
void owls_table_put_header(const struct owls_table *t, struct owls_buf *b);

/*
 * Append field f[0..n) to b as RFC 4180 CSV: quoted (with quotes doubled)
 * when it holds a comma, a quote, CR or LF, verbatim otherwise.
 */
void owls_csv_put_field(struct owls_buf *b, const char *f, size_t n);

#endif
