/*
 * The CSV reader on hostile bytes, two ways at once: the fast path and every
 * record through libcsv must agree on the outcome, the error message, the
 * table (names, kinds, values bit for bit) and the bytes written back. Also
 * exercises the typing rules. ASan/UBSan catch the rest.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "owls/buf.h"
#include "owls/csv.h"

static enum owls_err sink(void *s, const void *p, size_t n)
{
    owls_buf_append(s, p, n);
    return OWLS_OK;
}

static void write_all(const struct owls_table *t, struct owls_buf *k, struct owls_buf *d)
{
    uint8_t *keep = malloc(t->nrows + 1);
    struct owls_errmsg em;
    for (size_t i = 0; i < t->nrows; i++)
        keep[i] = (uint8_t)(i % 3 == 0);
    owls_buf_init(k);
    owls_buf_init(d);
    if (t->ops->write_split(t, keep, sink, k, d, &em) != OWLS_OK)
        abort();
    free(keep);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* An exact-size copy: reading past the end is an ASan error. */
    char *buf = malloc(size ? size : 1);
    struct owls_table *a = NULL, *b = NULL;
    struct owls_errmsg ea = {{0}}, eb = {{0}};
    struct owls_csv_opts force = {.force_libcsv = true};
    enum owls_err ra, rb;

    memcpy(buf, data, size);
    ra = owls_csv_read(buf, size, "f.csv", NULL, &a, &ea);
    rb = owls_csv_read(buf, size, "f.csv", &force, &b, &eb);
    if (ra != rb || strcmp(ea.text, eb.text) != 0)
        abort();
    if (ra == OWLS_OK) {
        struct owls_buf ka, da, kb, db;
        if (a->nrows != b->nrows || a->ncols != b->ncols)
            abort();
        for (size_t j = 0; j < a->ncols; j++) {
            if (strcmp(a->cols[j].name, b->cols[j].name) != 0 || a->cols[j].kind != b->cols[j].kind)
                abort();
            if (a->cols[j].values &&
                memcmp(a->cols[j].values, b->cols[j].values, a->nrows * sizeof(double)) != 0)
                abort();
        }
        write_all(a, &ka, &da);
        write_all(b, &kb, &db);
        if (ka.len != kb.len || da.len != db.len || memcmp(ka.data, kb.data, ka.len) != 0 ||
            memcmp(da.data, db.data, da.len) != 0)
            abort();
        owls_buf_cleanup(&ka);
        owls_buf_cleanup(&da);
        owls_buf_cleanup(&kb);
        owls_buf_cleanup(&db);
    }
    owls_table_free(a);
    owls_table_free(b);
    free(buf);
    return 0;
}
