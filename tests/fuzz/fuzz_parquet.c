/*
 * fuzz_parquet.c - libFuzzer harness for the Parquet reader: any bytes must
 * give OWLS_OK or a clean error (bad_parquet or a SPEC typing error), never a
 * crash, a leak, undefined behaviour or more memory than the decoding limit
 * allows (run with -rss_limit_mb=2048). A table that reads is also written
 * out through write_split, alternating keep and discard rows.
 *
 * Seeds: tests/fuzz/corpus/parquet/ (small fixtures from real writers);
 * tests/fuzz/parquet.dict holds the magic and common Thrift field bytes.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "owls/parquet.h"
#include "owls/table.h"
#include "owls/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static enum owls_err sink(void *s, const void *p, size_t n)
{
    size_t *total = s;
    (void)p;
    *total += n;
    return OWLS_OK;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct owls_table *t = NULL;
    struct owls_errmsg em;
    enum owls_err rc;
    char *copy = owls_xmalloc(size ? size : 1); /* exact-size buffer: ASan sees overreads */

    memcpy(copy, data, size);
    rc = owls_parquet_read(copy, size, "fuzz.parquet", &t, &em);
    if (rc == OWLS_OK) {
        size_t keep = 0, discard = 0;
        uint8_t *mask = owls_xmalloc(t->nrows ? t->nrows : 1);
        for (size_t i = 0; i < t->nrows; i++)
            mask[i] = (uint8_t)(i & 1);
        if (t->ops->write_split(t, mask, sink, &keep, &discard, &em) != OWLS_OK || keep == 0)
            abort();
        free(mask);
        owls_table_free(t);
    } else if (t != NULL || em.text[0] == '\0' ||
               (rc != OWLS_EBAD_PARQUET && rc != OWLS_EMISSING_VALUE &&
                rc != OWLS_ENOT_ENOUGH_NUMERIC_COLUMNS && rc != OWLS_ENOT_ENOUGH_ROWS)) {
        abort();
    }
    free(copy);
    return 0;
}
