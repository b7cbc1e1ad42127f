/*
 * test_parquet.c - the Parquet reader, through named case tables:
 *   1. fixtures written by real writers (DuckDB, hyparquet-writer for
 *      DATA_PAGE_V2; tests/parquet/gen.mjs) read to the values of their CSV
 *      twins, which DuckDB wrote; typing and SPEC errors as written here;
 *   2. the split output: rows go to keep/discard in input order;
 *   3. hostile files, made by the small Parquet writer below from a valid
 *      base file with one thing broken each: every one is bad_parquet with a
 *      message naming the problem (and a valid one reads to known values);
 *   4. the decoders on their own: RLE/bit-packed hybrid, DELTA_BINARY_PACKED
 *      (the Parquet spec's examples), decompression, date/time text;
 *   5. when tests/parquet/node_modules exists, gen.mjs regenerates every
 *      fixture into a temporary directory and section 1 runs on those too.
 *
 * Paths are relative to the repository root (tests/run-unit.sh runs there).
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <snappy-c.h>
#include <zlib.h>
#include <zstd.h>

#include "owls/buf.h"
#include "owls/fsio.h"
#include "owls/parquet.h"
#include "owls/private/parquet.h"
#include "owls/private/thrift.h"
#include "owls/table.h"
#include "owls/util.h"

#define FIXTURES "tests/data/parquet"

/* ---- a minimal RFC 4180 reader for the CSV twins and our output ---------- */

struct csv {
    size_t nrows, ncols; /* nrows includes the header */
    char **cells;        /* nrows * ncols */
};

static void csv_free(struct csv *c)
{
    for (size_t i = 0; i < c->nrows * c->ncols; i++)
        free(c->cells[i]);
    free(c->cells);
    memset(c, 0, sizeof(*c));
}

/* Parse text; every record must have the header's field count. */
static void csv_parse(const char *what, const char *s, size_t n, struct csv *c)
{
    size_t cap = 0, ncells = 0, fields = 0;
    struct owls_buf f;
    size_t i = 0;

    memset(c, 0, sizeof(*c));
    owls_buf_init(&f);
    while (i < n) {
        bool end_rec = false;
        owls_buf_reset(&f);
        owls_buf_append(&f, "", 0);
        if (s[i] == '"') {
            i++;
            for (;;) {
                if (i >= n)
                    fail_msg("%s: unterminated quote", what);
                if (s[i] == '"' && i + 1 < n && s[i + 1] == '"') {
                    owls_buf_putc(&f, '"');
                    i += 2;
                } else if (s[i] == '"') {
                    i++;
                    break;
                } else {
                    owls_buf_putc(&f, s[i++]);
                }
            }
        } else {
            while (i < n && s[i] != ',' && s[i] != '\n')
                owls_buf_putc(&f, s[i++]);
        }
        if (i < n && s[i] == ',') {
            i++;
        } else {
            if (i < n && s[i] != '\n')
                fail_msg("%s: junk after a quoted field at byte %zu", what, i);
            i++;
            end_rec = true;
        }
        if (ncells == cap) {
            cap = cap ? cap * 2 : 64;
            c->cells = owls_xreallocarray(c->cells, cap, sizeof(char *));
        }
        c->cells[ncells++] = owls_xstrdup(f.data);
        fields++;
        if (end_rec) {
            if (c->ncols == 0)
                c->ncols = fields;
            else if (fields != c->ncols)
                fail_msg("%s: record %zu has %zu fields, header %zu", what, c->nrows + 1, fields,
                         c->ncols);
            c->nrows++;
            fields = 0;
        }
    }
    if (fields != 0)
        fail_msg("%s: last record not terminated by LF", what);
    owls_buf_cleanup(&f);
}

static const char *cell(const struct csv *c, size_t row, size_t col)
{
    return c->cells[row * c->ncols + col];
}

/* Equal fields: identical text, or (when either is not an integer literal)
 * two numbers that parse to the same double. Integer literals must match
 * exactly, so a 64-bit integer rounded through a double is caught. */
static bool same_field(const char *want, const char *got)
{
    char *e1, *e2;
    double a, b;

    if (strcmp(want, got) == 0)
        return true;
    if (strpbrk(want, ".eE") == NULL && strpbrk(got, ".eE") == NULL)
        return false;
    if (*want == '\0' || *got == '\0')
        return false;
    a = strtod(want, &e1);
    b = strtod(got, &e2);
    return *e1 == '\0' && *e2 == '\0' && memcmp(&a, &b, sizeof(a)) == 0;
}

/* ---- running the reader ------------------------------------------------------ */

struct sinkbuf {
    struct owls_buf b;
    int calls;
};

static enum owls_err sink(void *s, const void *p, size_t n)
{
    struct sinkbuf *sb = s;
    owls_buf_append(&sb->b, p, n);
    sb->calls++;
    return OWLS_OK;
}

static char *slurp(const char *path, size_t *len)
{
    char *data = NULL;
    struct owls_errmsg em;

    if (owls_file_read(path, &data, len, &em) != OWLS_OK)
        fail_msg("cannot read %s: %s", path, em.text);
    return data;
}

/* The comma-separated names of the table's numeric columns. */
static void numeric_names(const struct owls_table *t, char *out, size_t cap)
{
    size_t n = 0;
    out[0] = '\0';
    for (size_t j = 0; j < t->ncols; j++)
        if (t->cols[j].kind == OWLS_COL_NUMERIC)
            n += (size_t)snprintf(out + n, cap - n, "%s%s", n ? "," : "", t->cols[j].name);
}

/* ---- 1. fixtures from real writers ------------------------------------------- */

struct fixture {
    const char *name; /* <name>.parquet */
    const char *twin; /* <twin>.csv, NULL when the read must fail */
    const char *numeric;
    enum owls_err rc;
    const char *msg; /* a substring of the message, for failures */
};

static const struct fixture s_fixtures[] = {
    {"basic_uncompressed", "basic", "id,x,y,big,price,f", OWLS_OK, NULL},
    {"basic_snappy", "basic", "id,x,y,big,price,f", OWLS_OK, NULL},
    {"basic_gzip", "basic", "id,x,y,big,price,f", OWLS_OK, NULL},
    {"basic_zstd", "basic", "id,x,y,big,price,f", OWLS_OK, NULL},
    {"basic_nodict", "basic", "id,x,y,big,price,f", OWLS_OK, NULL},
    {"basic_v2enc", "basic", "id,x,y,big,price,f", OWLS_OK, NULL},
    {"multi_rg", "multi_rg", "a,b", OWLS_OK, NULL},
    {"special", "special", "a,b", OWLS_OK, NULL},
    {"bigint", "bigint", "x,above53,extremes,ubig,uint", OWLS_OK, NULL},
    {"decimals", "decimals", "d4,d18,d30,d38,x", OWLS_OK, NULL},
    {"v2pages_snappy", "v2pages", "x,k,w", OWLS_OK, NULL},
    {"v2pages_uncompressed", "v2pages", "x,k,w", OWLS_OK, NULL},
    {"v2pages_delta", "v2pages", "x,k,w", OWLS_OK, NULL},
    {"missing", NULL, NULL, OWLS_EMISSING_VALUE, "row 23: column \"x\""},
    {"one_numeric", NULL, NULL, OWLS_ENOT_ENOUGH_NUMERIC_COLUMNS, "1 numeric column"},
    {"one_row", NULL, NULL, OWLS_ENOT_ENOUGH_ROWS, "1 data row"},
};

static void check_fixture(const char *dir, const struct fixture *fx)
{
    char path[512], got_numeric[512];
    size_t len = 0, tlen = 0;
    char *data, *twin_text;
    struct owls_table *t = NULL;
    struct owls_errmsg em = {{0}};
    struct sinkbuf keep = {{0}, 0}, discard = {{0}, 0};
    struct csv want, got;
    uint8_t *all;
    enum owls_err rc;

    snprintf(path, sizeof(path), "%s/%s.parquet", dir, fx->name);
    data = slurp(path, &len);
    rc = owls_parquet_read(data, len, path, &t, &em);
    if (rc != fx->rc)
        fail_msg("%s: rc %s, want %s (%s)", path, owls_err_code(rc), owls_err_code(fx->rc),
                 em.text);
    if (rc != OWLS_OK) {
        assert_null(t);
        if (strstr(em.text, fx->msg) == NULL)
            fail_msg("%s: message \"%s\" lacks \"%s\"", path, em.text, fx->msg);
        free(data);
        return;
    }
    numeric_names(t, got_numeric, sizeof(got_numeric));
    if (strcmp(got_numeric, fx->numeric) != 0)
        fail_msg("%s: numeric columns \"%s\", want \"%s\"", path, got_numeric, fx->numeric);

    /* The twin's values, every row kept. */
    snprintf(path, sizeof(path), "%s/%s.csv", dir, fx->twin);
    twin_text = slurp(path, &tlen);
    csv_parse(path, twin_text, tlen, &want);
    all = owls_xmalloc(t->nrows);
    memset(all, 1, t->nrows);
    owls_buf_init(&keep.b);
    owls_buf_init(&discard.b);
    assert_int_equal(t->ops->write_split(t, all, sink, &keep, &discard, &em), OWLS_OK);
    csv_parse(fx->name, keep.b.data, keep.b.len, &got);
    assert_int_equal(got.ncols, want.ncols);
    if (got.nrows != want.nrows || t->nrows + 1 != want.nrows)
        fail_msg("%s: %zu rows written, table %zu, twin %zu", fx->name, got.nrows - 1, t->nrows,
                 want.nrows - 1);
    for (size_t i = 0; i < want.nrows; i++)
        for (size_t j = 0; j < want.ncols; j++)
            if (!same_field(cell(&want, i, j), cell(&got, i, j)))
                fail_msg("%s: row %zu column %s: \"%s\", want \"%s\"", fx->name, i,
                         cell(&want, 0, j), cell(&got, i, j), cell(&want, i, j));
    /* The discard side got the header only. */
    assert_int_equal(discard.b.len, strchr(keep.b.data, '\n') - keep.b.data + 1);
    csv_free(&want);
    csv_free(&got);
    free(all);
    owls_buf_cleanup(&keep.b);
    owls_buf_cleanup(&discard.b);
    free(twin_text);
    owls_table_free(t);
    free(data);
}

static void test_fixtures(void **state)
{
    (void)state;
    for (size_t i = 0; i < OWLS_ARRAY_LEN(s_fixtures); i++)
        check_fixture(FIXTURES, &s_fixtures[i]);
}

/* Numeric values land in the table's arrays exactly (not only in print). */
static void test_values_in_table(void **state)
{
    size_t len;
    char *data = slurp(FIXTURES "/multi_rg.parquet", &len);
    struct owls_table *t = NULL;
    struct owls_errmsg em;

    (void)state;
    assert_int_equal(owls_parquet_read(data, len, "multi_rg", &t, &em), OWLS_OK);
    assert_int_equal(t->nrows, 4200);
    /* a = i % 101, b = (i % 7) * 0.5, as gen.mjs wrote them */
    for (size_t i = 0; i < t->nrows; i += 97) {
        assert_true(t->cols[0].values[i] == (double)(i % 101));
        assert_true(t->cols[1].values[i] == (double)(i % 7) * 0.5);
    }
    assert_true(t->cols[0].values[4199] == (double)(4199 % 101));
    owls_table_free(t);
    free(data);
}

/* ---- 2. the split -------------------------------------------------------------- */

static void test_split_rows(void **state)
{
    size_t len, tlen;
    char *data = slurp(FIXTURES "/v2pages_snappy.parquet", &len);
    char *twin_text = slurp(FIXTURES "/v2pages.csv", &tlen);
    struct owls_table *t = NULL;
    struct owls_errmsg em;
    struct sinkbuf keep = {{0}, 0}, discard = {{0}, 0};
    struct csv want, k, d;
    uint8_t *mask;

    (void)state;
    assert_int_equal(owls_parquet_read(data, len, "v2", &t, &em), OWLS_OK);
    csv_parse("twin", twin_text, tlen, &want);
    mask = owls_xmalloc(t->nrows);
    for (size_t i = 0; i < t->nrows; i++)
        mask[i] = (i % 3) == 1; /* rows 1, 4, 7, ... kept */
    owls_buf_init(&keep.b);
    owls_buf_init(&discard.b);
    assert_int_equal(t->ops->write_split(t, mask, sink, &keep, &discard, &em), OWLS_OK);
    csv_parse("keep", keep.b.data, keep.b.len, &k);
    csv_parse("discard", discard.b.data, discard.b.len, &d);
    assert_int_equal(k.nrows - 1, 100);
    assert_int_equal(d.nrows - 1, 200);
    for (size_t j = 0; j < want.ncols; j++) {
        assert_string_equal(cell(&k, 0, j), cell(&want, 0, j));
        assert_string_equal(cell(&d, 0, j), cell(&want, 0, j));
    }
    for (size_t i = 0, ki = 1, di = 1; i < t->nrows; i++) {
        const struct csv *o = mask[i] ? &k : &d;
        size_t r = mask[i] ? ki++ : di++;
        for (size_t j = 0; j < want.ncols; j++)
            if (!same_field(cell(&want, i + 1, j), cell(o, r, j)))
                fail_msg("row %zu col %zu: %s vs %s", i, j, cell(o, r, j), cell(&want, i + 1, j));
    }
    csv_free(&want);
    csv_free(&k);
    csv_free(&d);
    free(mask);
    owls_buf_cleanup(&keep.b);
    owls_buf_cleanup(&discard.b);
    owls_table_free(t);
    free(twin_text);
    free(data);
}

/* ---- 3. hostile files ------------------------------------------------------------- */

/* A Thrift compact-protocol writer. */
struct tw {
    struct owls_buf *b;
    int16_t last[32];
    int depth;
};

static void tw_varint(struct tw *w, uint64_t v)
{
    while (v >= 0x80) {
        owls_buf_putc(w->b, (char)(0x80 | (v & 0x7f)));
        v >>= 7;
    }
    owls_buf_putc(w->b, (char)v);
}

static uint64_t zz(int64_t v)
{
    return ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
}

static void tw_field(struct tw *w, int16_t id, uint8_t type)
{
    int d = id - w->last[w->depth];
    if (d > 0 && d <= 15) {
        owls_buf_putc(w->b, (char)(d << 4 | type));
    } else {
        owls_buf_putc(w->b, (char)type);
        tw_varint(w, zz(id));
    }
    w->last[w->depth] = id;
}

static void tw_i32(struct tw *w, int16_t id, int64_t v)
{
    tw_field(w, id, OWLS_THRIFT_I32);
    tw_varint(w, zz(v));
}

static void tw_i64(struct tw *w, int16_t id, int64_t v)
{
    tw_field(w, id, OWLS_THRIFT_I64);
    tw_varint(w, zz(v));
}

static void tw_bool(struct tw *w, int16_t id, bool v)
{
    tw_field(w, id, v ? OWLS_THRIFT_TRUE : OWLS_THRIFT_FALSE);
}

static void tw_str(struct tw *w, int16_t id, const char *s)
{
    tw_field(w, id, OWLS_THRIFT_BINARY);
    tw_varint(w, strlen(s));
    owls_buf_puts(w->b, s);
}

static void tw_begin(struct tw *w) /* a struct as a list element */
{
    w->last[++w->depth] = 0;
}

static void tw_struct(struct tw *w, int16_t id)
{
    tw_field(w, id, OWLS_THRIFT_STRUCT);
    tw_begin(w);
}

static void tw_end(struct tw *w)
{
    owls_buf_putc(w->b, 0);
    w->depth--;
}

static void tw_list(struct tw *w, int16_t id, uint8_t etype, size_t n)
{
    tw_field(w, id, OWLS_THRIFT_LIST);
    if (n < 15) {
        owls_buf_putc(w->b, (char)(n << 4 | etype));
    } else {
        owls_buf_putc(w->b, (char)(0xf0 | etype));
        tw_varint(w, n);
    }
}

/* What to break in the base file: two DOUBLE columns a = {1.5, -2, 3.25}
 * (PLAIN) and b = {10, 20, 10} (dictionary {10, 20}), three rows. */
struct knobs {
    bool a_optional;       /* a gets definition levels */
    const char *a_levels;  /* their bytes (hex), default "0601": three 1s */
    int a_page_version;    /* 1 (default) or 2 */
    int32_t a_rep_len;     /* v2 repetition level bytes */
    int a_codec;           /* column a's codec (-1: UNCOMPRESSED) */
    int64_t a_usize;       /* declared uncompressed size (0: true size) */
    int64_t a_csize_extra; /* added to compressed_page_size */
    int32_t a_page_values; /* 0: 3 */
    int32_t a_encoding;    /* -1: PLAIN */
    int32_t a_type;        /* a's type in its chunk metadata (-1: DOUBLE, as the schema) */
    const char *b_indices; /* hex of b's index data, default "010302" */
    bool nested;           /* schema: a group between root and a leaf */
    bool unnamed_group;    /* that group has no name (a required field) */
    bool repeated;         /* a is REPEATED */
    int64_t num_rows;      /* -1: 3 */
    int64_t rg_rows;       /* -1: 3 */
    int64_t a_chunk_extra; /* added to a's total_compressed_size */
    int64_t a_data_off;    /* -1: the true one */
    bool name_len_lie;     /* a's name claims 5000 bytes */
    bool deep;             /* an unknown field nesting structs 40 deep */
    size_t cut_footer;     /* bytes removed from the end of the footer */
    bool text_bomb;        /* adds column s: BYTE_ARRAY, ZSTD page of 300 MB */
    int32_t a_schema_type; /* a's type in the schema (0: DOUBLE) */
    int32_t a_converted;   /* a's converted_type + 1 (0: none) */
    const char *a_values;  /* hex of a's encoded values (default: PLAIN doubles) */
};

static const struct knobs s_base; /* all defaults */

static void hex_append(struct owls_buf *b, const char *hex)
{
    for (size_t i = 0; hex[i] && hex[i + 1]; i += 2) {
        char t[3] = {hex[i], hex[i + 1], 0};
        owls_buf_putc(b, (char)strtoul(t, NULL, 16));
    }
}

static void page_header(struct owls_buf *b, int type, size_t usize, size_t csize, int32_t nvals,
                        int32_t enc, int v2_def_len, int v2_rep_len)
{
    struct tw w = {.b = b};
    tw_begin(&w);
    tw_i32(&w, 1, type);
    tw_i32(&w, 2, (int64_t)usize);
    tw_i32(&w, 3, (int64_t)csize);
    if (type == 0) {
        tw_struct(&w, 5);
        tw_i32(&w, 1, nvals);
        tw_i32(&w, 2, enc);
        tw_i32(&w, 3, 3);
        tw_i32(&w, 4, 3);
        tw_end(&w);
    } else if (type == 2) {
        tw_struct(&w, 7);
        tw_i32(&w, 1, nvals);
        tw_i32(&w, 2, 0);
        tw_end(&w);
    } else {
        tw_struct(&w, 8);
        tw_i32(&w, 1, nvals);
        tw_i32(&w, 2, 0);
        tw_i32(&w, 3, nvals);
        tw_i32(&w, 4, enc);
        tw_i32(&w, 5, v2_def_len);
        tw_i32(&w, 6, v2_rep_len);
        tw_bool(&w, 7, false);
        tw_end(&w);
    }
    tw_end(&w);
}

static void column_meta(struct tw *w, const char *name, int type, int codec, int64_t nvals,
                        int64_t total, int64_t data_off, int64_t dict_off)
{
    tw_begin(w); /* ColumnChunk */
    tw_i64(w, 2, data_off);
    tw_struct(w, 3);
    tw_i32(w, 1, type);
    tw_list(w, 2, OWLS_THRIFT_I32, 1);
    tw_varint(w, zz(0));
    tw_list(w, 3, OWLS_THRIFT_BINARY, 1);
    tw_varint(w, strlen(name));
    owls_buf_puts(w->b, name);
    tw_i32(w, 4, codec);
    tw_i64(w, 5, nvals);
    tw_i64(w, 6, total);
    tw_i64(w, 7, total);
    tw_i64(w, 9, data_off);
    if (dict_off >= 0)
        tw_i64(w, 11, dict_off);
    tw_end(w);
    tw_end(w);
}

static void schema_leaf(struct tw *w, const char *name, int type, int rep, bool lie,
                        int32_t converted)
{
    tw_begin(w);
    tw_i32(w, 1, type);
    if (type == 7)
        tw_i32(w, 2, 16);
    tw_i32(w, 3, rep);
    if (lie) {
        tw_field(w, 4, OWLS_THRIFT_BINARY);
        tw_varint(w, 5000);
        owls_buf_puts(w->b, name);
    } else {
        tw_str(w, 4, name);
    }
    if (converted > 0)
        tw_i32(w, 6, converted - 1);
    tw_end(w);
}

/* Build the file described by k into out. */
static void build(const struct knobs *k, struct owls_buf *out)
{
    struct owls_buf body, hdr, foot;
    struct tw w = {.b = &foot};
    const double a[3] = {1.5, -2, 3.25}, dict[2] = {10, 20};
    size_t a_off, a_total, b_off, b_dict_off, b_total, s_off = 0, s_total = 0;
    int a_codec = k->a_codec;
    int32_t a_type = k->a_type ? k->a_type : 5;
    int version = k->a_page_version ? k->a_page_version : 1;
    int ncols = k->text_bomb ? 3 : 2;

    owls_buf_init(&body);
    owls_buf_init(&hdr);
    owls_buf_init(&foot);
    owls_buf_init(out);
    owls_buf_append(out, "PAR1", 4);

    /* column a: one data page */
    owls_buf_reset(&body);
    struct owls_buf lev;
    owls_buf_init(&lev);
    if (k->a_optional)
        hex_append(&lev, k->a_levels ? k->a_levels : "0601");
    if (version == 1 && k->a_optional) {
        uint32_t n = (uint32_t)lev.len;
        owls_buf_append(&body, &n, 4);
        owls_buf_append(&body, lev.data ? lev.data : "", lev.len);
    }
    if (version == 2) {
        for (int32_t i = 0; i < k->a_rep_len; i++)
            owls_buf_putc(&body, 0);
        owls_buf_append(&body, lev.data ? lev.data : "", lev.len);
    }
    if (k->a_values)
        hex_append(&body, k->a_values);
    else
        owls_buf_append(&body, a, sizeof(a));
    page_header(&hdr, version == 2 ? 3 : 0, k->a_usize ? (size_t)k->a_usize : body.len,
                body.len + (size_t)k->a_csize_extra, k->a_page_values ? k->a_page_values : 3,
                k->a_encoding, (int)lev.len, k->a_rep_len);
    a_off = out->len;
    owls_buf_append(out, hdr.data, hdr.len);
    owls_buf_append(out, body.data, body.len);
    a_total = out->len - a_off;
    owls_buf_cleanup(&lev);

    /* column b: dictionary page + one data page of indices */
    owls_buf_reset(&hdr);
    page_header(&hdr, 2, sizeof(dict), sizeof(dict), 2, 0, 0, 0);
    b_dict_off = out->len;
    owls_buf_append(out, hdr.data, hdr.len);
    owls_buf_append(out, dict, sizeof(dict));
    owls_buf_reset(&body);
    hex_append(&body, k->b_indices ? k->b_indices : "010302");
    owls_buf_reset(&hdr);
    page_header(&hdr, 0, body.len, body.len, 3, 8, 0, 0);
    b_off = out->len;
    owls_buf_append(out, hdr.data, hdr.len);
    owls_buf_append(out, body.data, body.len);
    b_total = out->len - b_dict_off;

    if (k->text_bomb) {
        /* 300 MB of zeros compress to a few KB. */
        size_t big = (size_t)300 << 20, cap = ZSTD_compressBound(big);
        char *zeros = calloc(1, big), *z = owls_xmalloc(cap);
        size_t zn = ZSTD_compress(z, cap, zeros, big, 1);
        assert_false(ZSTD_isError(zn));
        owls_buf_reset(&hdr);
        page_header(&hdr, 0, big, zn, 3, 0, 0, 0);
        s_off = out->len;
        owls_buf_append(out, hdr.data, hdr.len);
        owls_buf_append(out, z, zn);
        s_total = out->len - s_off;
        free(zeros);
        free(z);
    }

    /* FileMetaData */
    tw_begin(&w);
    tw_i32(&w, 1, 2);
    tw_list(&w, 2, OWLS_THRIFT_STRUCT, (size_t)ncols + 1 + (k->nested ? 1 : 0));
    tw_begin(&w); /* root */
    tw_str(&w, 4, "schema");
    tw_i32(&w, 5, ncols);
    tw_end(&w);
    if (k->nested) {
        tw_begin(&w);
        tw_i32(&w, 3, 1);
        if (!k->unnamed_group)
            tw_str(&w, 4, "grp");
        tw_i32(&w, 5, 1);
        tw_end(&w);
    }
    schema_leaf(&w, "a", k->a_schema_type ? k->a_schema_type : 5,
                k->repeated     ? 2
                : k->a_optional ? 1
                                : 0,
                k->name_len_lie, k->a_converted);
    schema_leaf(&w, "b", 5, 0, false, 0);
    if (k->text_bomb)
        schema_leaf(&w, "s", 6, 0, false, 0);
    tw_i64(&w, 3, k->num_rows ? k->num_rows : 3);
    tw_list(&w, 4, OWLS_THRIFT_STRUCT, 1);
    tw_begin(&w); /* RowGroup */
    tw_list(&w, 1, OWLS_THRIFT_STRUCT, (size_t)ncols);
    column_meta(&w, "a", a_type, a_codec, 3, (int64_t)a_total + k->a_chunk_extra,
                k->a_data_off ? k->a_data_off : (int64_t)a_off, -1);
    column_meta(&w, "b", 5, 0, 3, (int64_t)b_total, (int64_t)b_off, (int64_t)b_dict_off);
    if (k->text_bomb)
        column_meta(&w, "s", 6, 6, 3, (int64_t)s_total, (int64_t)s_off, -1);
    tw_i64(&w, 2, 100);
    tw_i64(&w, 3, k->rg_rows ? k->rg_rows : 3);
    tw_end(&w);
    if (k->deep) {
        tw_field(&w, 99, OWLS_THRIFT_STRUCT);
        for (int i = 0; i < 40; i++)
            owls_buf_putc(&foot, 0x1c); /* field 1, struct */
        for (int i = 0; i < 41; i++)
            owls_buf_putc(&foot, 0);
    }
    tw_end(&w);

    size_t flen = foot.len - OWLS_MIN(k->cut_footer, foot.len);
    owls_buf_append(out, foot.data, flen);
    uint32_t fl = (uint32_t)flen;
    owls_buf_append(out, &fl, 4);
    owls_buf_append(out, "PAR1", 4);
    owls_buf_cleanup(&body);
    owls_buf_cleanup(&hdr);
    owls_buf_cleanup(&foot);
}

/* The base file reads to its values, in both page versions. */
static void test_built_ok(void **state)
{
    struct knobs variants[3] = {s_base, s_base, s_base};
    (void)state;
    variants[1].a_optional = true;
    variants[2].a_optional = true;
    variants[2].a_page_version = 2;
    for (size_t v = 0; v < 3; v++) {
        struct owls_buf f;
        struct owls_table *t = NULL;
        struct owls_errmsg em = {{0}};
        build(&variants[v], &f);
        if (owls_parquet_read(f.data, f.len, "built", &t, &em) != OWLS_OK)
            fail_msg("variant %zu: %s", v, em.text);
        assert_int_equal(t->nrows, 3);
        assert_string_equal(t->cols[0].name, "a");
        assert_true(t->cols[0].values[0] == 1.5 && t->cols[0].values[1] == -2 &&
                    t->cols[0].values[2] == 3.25);
        assert_true(t->cols[1].values[0] == 10 && t->cols[1].values[1] == 20 &&
                    t->cols[1].values[2] == 10);
        owls_table_free(t);
        owls_buf_cleanup(&f);
    }
}

/* DELTA_BINARY_PACKED INT32 whose deltas wrap at 32 bits, as a writer using
 * 32-bit arithmetic produces: INT32_MAX, then +1 twice. */
static void test_built_int32_delta(void **state)
{
    struct knobs k = s_base;
    struct owls_buf f;
    struct owls_table *t = NULL;
    struct owls_errmsg em = {{0}};

    (void)state;
    k.a_schema_type = k.a_type = 1;
    k.a_encoding = 5;
    k.a_values = "80010403"
                 "feffffff0f"
                 "0200000000";
    build(&k, &f);
    if (owls_parquet_read(f.data, f.len, "built", &t, &em) != OWLS_OK)
        fail_msg("%s", em.text);
    assert_true(t->cols[0].values[0] == 2147483647.0);
    assert_true(t->cols[0].values[1] == -2147483648.0);
    assert_true(t->cols[0].values[2] == -2147483647.0);
    owls_table_free(t);
    owls_buf_cleanup(&f);
}

struct hostile {
    const char *name;
    struct knobs k;
    const char *msg;
};

#define K(...)                                                                                     \
    {                                                                                              \
        __VA_ARGS__                                                                                \
    }

static const struct hostile s_hostile[] = {
    {"bad RLE: bit-packed run beyond the data", K(.a_optional = true, .a_levels = "07"),
     "column \"a\", row group 1, page 1: definition levels: bit-packed run beyond the end"},
    {"bad RLE: empty run", K(.a_optional = true, .a_levels = "0001"),
     "definition levels: empty RLE run"},
    {"bad RLE: too few levels", K(.a_optional = true, .a_levels = "0401"),
     "definition levels: RLE data ends before the last value"},
    {"bad RLE: varint overflow", K(.a_optional = true, .a_levels = "ffffffffffffffffffff01"),
     "bad RLE run header"},
    {"bad RLE: value wider than the bit width", K(.a_optional = true, .a_levels = "0602"),
     "wider than its bit width"},
    {"dictionary index out of range", K(.b_indices = "020324"),
     "column \"b\", row group 1, page 2: dictionary index 2 out of range (2 entries)"},
    {"dictionary bit width above 32", K(.b_indices = "210302"), "bad dictionary index bit width"},
    {"repetition levels", K(.a_optional = true, .a_page_version = 2, .a_rep_len = 2),
     "repetition levels in a flat schema"},
    {"nested schema", K(.nested = true), "nested schema not supported: column \"grp\""},
    {"nested schema, unnamed group", K(.nested = true, .unnamed_group = true),
     "nested schema not supported: column \"\""},
    {"repeated column", K(.repeated = true), "nested schema not supported: column \"a\""},
    {"unknown codec", K(.a_codec = 42), "unknown compression codec 42"},
    {"unsupported codec", K(.a_codec = 5), "unsupported compression codec LZ4"},
    {"oversized page", K(.a_codec = 1, .a_usize = 1000000000),
     "page declares 1000000000 uncompressed bytes for 3 values"},
    {"lying compressed size", K(.a_csize_extra = 1000), "beyond the column chunk"},
    {"lying chunk size", K(.a_chunk_extra = 100000), "outside the data"},
    {"lying data offset", K(.a_data_off = 1), "outside the data"},
    {"lying page value count", K(.a_page_values = 1000), "page of 1000 values overruns"},
    {"lying file row count", K(.num_rows = 7), "the row groups hold 3 rows, the file announces 7"},
    {"huge row count", K(.num_rows = (int64_t)1 << 40, .rg_rows = (int64_t)1 << 40),
     "exceed the decoding limit"},
    {"chunk shorter than its rows", K(.num_rows = 5, .rg_rows = 5),
     "column chunk holds 3 values, its row group 5 rows"},
    {"lying name length", K(.name_len_lie = true), "bad Thrift in the file footer at byte"},
    {"deep nesting", K(.deep = true), "nested too deeply"},
    {"truncated footer", K(.cut_footer = 9), "bad Thrift in the file footer"},
    {"type mismatch", K(.a_type = 1), "differs from the schema"},
    {"unsupported encoding", K(.a_encoding = 1), "unsupported encoding GROUP_VAR_INT"},
    {"encoding for the wrong type", K(.a_encoding = 5),
     "encoding DELTA_BINARY_PACKED is not defined for DOUBLE"},
    {"uncompressed page with two sizes", K(.a_usize = 20),
     "uncompressed page of 24 bytes declares 20"},
    {"DATE on INT64", K(.a_schema_type = 2, .a_type = 2, .a_converted = 6 + 1),
     "column \"a\": DATE annotation on INT64 is not valid"},
    {"TIMESTAMP on INT32", K(.a_schema_type = 1, .a_type = 1, .a_converted = 10 + 1),
     "TIMESTAMP annotation on INT32 is not valid"},
    {"FIXED_LEN_BYTE_ARRAY without DECIMAL", K(.a_schema_type = 7, .a_type = 7),
     "FIXED_LEN_BYTE_ARRAY is supported only as DECIMAL"},
    {"unknown physical type", K(.a_schema_type = 9, .a_type = 9), "unknown physical type 9"},
    {"decompression bomb (strings)", K(.text_bomb = true),
     "column \"s\", row group 1, page 1: a decompressed page would exceed the decoding limit"},
};

static void test_hostile(void **state)
{
    (void)state;
    for (size_t i = 0; i < OWLS_ARRAY_LEN(s_hostile); i++) {
        const struct hostile *h = &s_hostile[i];
        struct owls_buf f;
        struct owls_table *t = NULL;
        struct owls_errmsg em = {{0}};
        enum owls_err rc;
        build(&h->k, &f);
        rc = owls_parquet_read(f.data, f.len, "hostile.parquet", &t, &em);
        if (rc != OWLS_EBAD_PARQUET)
            fail_msg("%s: rc %s (%s)", h->name, owls_err_code(rc), em.text);
        assert_null(t);
        if (strstr(em.text, h->msg) == NULL || strncmp(em.text, "hostile.parquet: ", 17) != 0)
            fail_msg("%s: message \"%s\" lacks \"%s\"", h->name, em.text, h->msg);
        owls_buf_cleanup(&f);
    }
}

/* Broken framing of a real file. */
static void test_framing(void **state)
{
    size_t len;
    char *data = slurp(FIXTURES "/basic_snappy.parquet", &len);
    char *copy = owls_xmalloc(len);
    struct owls_table *t = NULL;
    struct owls_errmsg em;
    uint32_t flen;
    struct {
        const char *name;
        size_t cut;     /* bytes cut from the end */
        int patch;      /* 0 none, 1 start magic, 2 end magic, 3 footer length, 4 PARE */
        uint32_t value; /* for 3 */
        const char *msg;
    } cases[] = {
        {"empty", SIZE_MAX, 0, 0, "not a Parquet file"},
        {"truncated at half", 0, 0, 0, "no PAR1 magic at the end"},
        {"bad start magic", 0, 1, 0, "no PAR1 magic at the start"},
        {"bad end magic", 0, 2, 0, "no PAR1 magic at the end"},
        {"footer length too long", 0, 3, 0x7fffffff, "footer length 2147483647 does not fit"},
        {"footer length zero", 0, 3, 0, "footer length 0 does not fit"},
        {"footer length short", 0, 3, 7, "f: "},
        {"encrypted footer", 0, 4, 0, "encrypted Parquet files are not supported"},
    };

    (void)state;
    memcpy(&flen, data + len - 8, 4);
    for (size_t i = 0; i < OWLS_ARRAY_LEN(cases); i++) {
        size_t n = len;
        memcpy(copy, data, len);
        if (cases[i].cut == SIZE_MAX)
            n = 0;
        if (i == 1)
            n = len / 2;
        if (cases[i].patch == 1)
            copy[0] = 'X';
        if (cases[i].patch == 2)
            copy[len - 1] = 'X';
        if (cases[i].patch == 3)
            memcpy(copy + len - 8, &cases[i].value, 4);
        if (cases[i].patch == 4)
            memcpy(copy + len - 4, "PARE", 4);
        assert_int_equal(owls_parquet_read(copy, n, "f", &t, &em), OWLS_EBAD_PARQUET);
        assert_null(t);
        if (strstr(em.text, cases[i].msg) == NULL)
            fail_msg("%s: \"%s\" lacks \"%s\"", cases[i].name, em.text, cases[i].msg);
    }
    /* Every truncation of a real file fails cleanly. */
    for (size_t n = 0; n < len; n += 7) {
        assert_int_equal(owls_parquet_read(data, n, "f", &t, &em), OWLS_EBAD_PARQUET);
        assert_null(t);
    }
    free(copy);
    free(data);
}

/* ---- 4. decoders ---------------------------------------------------------------- */

static size_t unhex(const char *hex, uint8_t *out)
{
    size_t n = 0;
    for (size_t i = 0; hex[i] && hex[i + 1]; i += 2) {
        char t[3] = {hex[i], hex[i + 1], 0};
        out[n++] = (uint8_t)strtoul(t, NULL, 16);
    }
    return n;
}

/* The outcome of a decoder table case that wants the error want_why (NULL:
 * success). True when there are values to compare. */
static bool decoded(const char *name, bool ok, const char *why, const char *want_why)
{
    if (want_why) {
        if (ok || strstr(why, want_why) == NULL)
            fail_msg("%s: ok=%d why=%s", name, ok, why ? why : "-");
        return false;
    }
    if (!ok)
        fail_msg("%s: %s", name, why);
    return true;
}

static void test_rle(void **state)
{
    static const struct {
        const char *name, *hex;
        unsigned bw;
        size_t n;
        uint32_t want[12];
        const char *why; /* NULL: success */
    } cases[] = {
        {"RLE run", "0805", 3, 4, {5, 5, 5, 5}, NULL},
        /* the Parquet spec's example: 0..7 bit-packed with width 3 */
        {"bit-packed", "0388c6fa", 3, 8, {0, 1, 2, 3, 4, 5, 6, 7}, NULL},
        {"RLE then bit-packed", "040103ff", 1, 10, {1, 1, 1, 1, 1, 1, 1, 1, 1, 1}, NULL},
        {"width 0", "0a", 0, 5, {0, 0, 0, 0, 0}, NULL},
        {"width 32", "0478563412", 32, 2, {0x12345678, 0x12345678}, NULL},
        {"truncated last run, values present", "0388c6", 3, 5, {0, 1, 2, 3, 4}, NULL},
        {"truncated last run, values missing", "0388c6", 3, 6, {0}, "ends before the last value"},
        {"ends early", "0805", 3, 5, {0}, "ends before the last value"},
        {"empty RLE run", "0005", 3, 1, {0}, "empty RLE run"},
        {"empty bit-packed run", "01", 3, 1, {0}, "empty bit-packed run"},
        {"value too wide", "0209", 3, 1, {0}, "wider than its bit width"},
        {"value bytes missing", "08", 9, 1, {0}, "beyond the end"},
        {"header overflow", "ffffffffff7f", 3, 1, {0}, "bad RLE run header"},
    };
    (void)state;
    for (size_t i = 0; i < OWLS_ARRAY_LEN(cases); i++) {
        uint8_t buf[64];
        uint32_t got[16] = {0};
        size_t n = unhex(cases[i].hex, buf);
        struct owls_pq_rle r;
        const char *why = NULL;
        bool ok;
        owls_pq_rle_init(&r, buf, n, cases[i].bw);
        ok = owls_pq_rle_get(&r, got, cases[i].n, &why);
        if (!decoded(cases[i].name, ok, why, cases[i].why))
            continue;
        for (size_t k = 0; k < cases[i].n; k++)
            if (got[k] != cases[i].want[k])
                fail_msg("%s: value %zu is %u, want %u", cases[i].name, k, got[k],
                         cases[i].want[k]);
    }
}

static void test_delta(void **state)
{
    static const struct {
        const char *name, *hex;
        size_t n, consumed; /* consumed: bytes up to the end of the data */
        int64_t want[10];
        const char *why;
    } cases[] = {
        /* Parquet spec example 1: 1 2 3 4 5 (deltas all 1, widths 0) */
        {"spec 1",
         "8001040502"
         "0200000000",
         5,
         10,
         {1, 2, 3, 4, 5},
         NULL},
        /* spec example 2: 7 5 3 1 2 3 4 5; min delta -2, width 2 */
        {"spec 2",
         "800104080e"
         "0302000000"
         "c03f000000000000",
         8,
         18,
         {7, 5, 3, 1, 2, 3, 4, 5},
         NULL},
        {"one value", "8001040101", 1, 5, {-1}, NULL},
        {"wrapping int64",
         "80010402feffffffffffffffff01" /* first = INT64_MAX */ "0200000000",
         2,
         19,
         {INT64_MAX, INT64_MIN},
         NULL},
        {"bad block size", "6404050200", 1, 0, {0}, "block layout"},
        {"width above 64",
         "8001040502"
         "0241000000",
         2,
         0,
         {0},
         "bit width above 64"},
        {"truncated miniblock",
         "800104080e"
         "0302000000"
         "c0",
         8,
         0,
         {0},
         "beyond the end"},
        {"more values than encoded", "8001040101", 2, 0, {0}, "more DELTA_BINARY_PACKED"},
        {"truncated header", "8001", 0, 0, {0}, "truncated DELTA_BINARY_PACKED header"},
    };
    (void)state;
    for (size_t i = 0; i < OWLS_ARRAY_LEN(cases); i++) {
        uint8_t buf[64];
        int64_t got[16] = {0};
        size_t n = unhex(cases[i].hex, buf);
        struct owls_pq_dbp d;
        const char *why = NULL;
        bool ok = owls_pq_dbp_init(&d, buf, n, &why) && owls_pq_dbp_get(&d, got, cases[i].n, &why);
        if (!decoded(cases[i].name, ok, why, cases[i].why))
            continue;
        for (size_t k = 0; k < cases[i].n; k++)
            if (got[k] != cases[i].want[k])
                fail_msg("%s: value %zu is %lld, want %lld", cases[i].name, k, (long long)got[k],
                         (long long)cases[i].want[k]);
        assert_int_equal(owls_pq_dbp_end(&d) - buf, cases[i].consumed);
    }
}

static void test_decompress(void **state)
{
    char plain[4000];
    uint8_t comp[8000], out[4100];
    size_t clen;

    (void)state;
    for (size_t i = 0; i < sizeof(plain); i++)
        plain[i] = "parquet pages "[i % 14] + (char)(i / 500);
    for (int codec = 0; codec <= 7; codec++) {
        switch (codec) {
        case OWLS_PQ_UNCOMPRESSED:
            memcpy(comp, plain, sizeof(plain));
            clen = sizeof(plain);
            break;
        case OWLS_PQ_SNAPPY:
            clen = sizeof(comp);
            assert_int_equal(snappy_compress(plain, sizeof(plain), (char *)comp, &clen), SNAPPY_OK);
            break;
        case OWLS_PQ_GZIP: {
            z_stream z;
            memset(&z, 0, sizeof(z));
            assert_int_equal(deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY), Z_OK);
            z.next_in = (Bytef *)plain;
            z.avail_in = sizeof(plain);
            z.next_out = comp;
            z.avail_out = sizeof(comp);
            assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
            clen = z.total_out;
            deflateEnd(&z);
            break;
        }
        case OWLS_PQ_ZSTD:
            clen = ZSTD_compress(comp, sizeof(comp), plain, sizeof(plain), 3);
            assert_false(ZSTD_isError(clen));
            break;
        default: /* LZO, BROTLI, LZ4, LZ4_RAW: refused */
            assert_non_null(owls_pq_decompress(codec, comp, 10, out, 10));
            continue;
        }
        memset(out, 0, sizeof(out));
        if (owls_pq_decompress(codec, comp, clen, out, sizeof(plain)) != NULL)
            fail_msg("codec %d: %s", codec,
                     owls_pq_decompress(codec, comp, clen, out, sizeof(plain)));
        assert_memory_equal(out, plain, sizeof(plain));
        /* a lying declared size, either way, and corrupt data */
        assert_non_null(owls_pq_decompress(codec, comp, clen, out, sizeof(plain) - 1));
        assert_non_null(owls_pq_decompress(codec, comp, clen, out, sizeof(plain) + 1));
        if (codec != OWLS_PQ_UNCOMPRESSED) {
            uint8_t bad[8000];
            memcpy(bad, comp, clen);
            for (size_t k = 0; k < clen; k += 3)
                bad[k] ^= 0x5a;
            assert_non_null(owls_pq_decompress(codec, bad, clen, out, sizeof(plain)));
            assert_non_null(owls_pq_decompress(codec, comp, clen / 2, out, sizeof(plain)));
        }
    }
}

static void test_datetime(void **state)
{
    static const struct {
        int kind; /* 0 date, 1 time, 2 timestamp, 3 timestamp utc */
        int64_t v, unit;
        const char *want;
    } cases[] = {
        {0, 0, 0, "1970-01-01"},
        {0, -1, 0, "1969-12-31"},
        {0, 19723, 0, "2024-01-01"},
        {0, 11016, 0, "2000-02-29"},
        {0, -719162, 0, "0001-01-01"},
        {0, 2932896, 0, "9999-12-31"},
        {1, 0, 1000, "00:00:00"},
        {1, 45296789, 1000, "12:34:56.789"},
        {1, 86399999999, 1000000, "23:59:59.999999"},
        {1, 3600000000001, 1000000000, "01:00:00.000000001"},
        {2, 1704067200000000, 1000000, "2024-01-01T00:00:00"},
        {2, 1704067200250000, 1000000, "2024-01-01T00:00:00.250000"},
        {2, -1, 1000, "1969-12-31T23:59:59.999"},
        {3, 951782400123, 1000, "2000-02-29T00:00:00.123Z"},
    };
    char out[64];
    (void)state;
    for (size_t i = 0; i < OWLS_ARRAY_LEN(cases); i++) {
        size_t n = cases[i].kind == 0 ? owls_pq_fmt_date(cases[i].v, out)
                   : cases[i].kind == 1
                       ? owls_pq_fmt_time(cases[i].v, cases[i].unit, out)
                       : owls_pq_fmt_timestamp(cases[i].v, cases[i].unit, cases[i].kind == 3, out);
        assert_int_equal(n, strlen(cases[i].want));
        assert_string_equal(out, cases[i].want);
    }
    /* INT96: 2000-01-01 (Julian day 2451545) 12:00:00.5 */
    uint8_t v96[12];
    int64_t nanos = 43200500000000;
    int32_t jd = 2451545;
    memcpy(v96, &nanos, 8);
    memcpy(v96 + 8, &jd, 4);
    owls_pq_fmt_int96(v96, out);
    assert_string_equal(out, "2000-01-01T12:00:00.500000000");
}

/* The varints the Thrift reader and the RLE/DELTA decoders share. */
static void test_uleb128(void **state)
{
    static const struct {
        const char *name, *hex;
        uint64_t want;
        size_t used;     /* bytes the cursor moved */
        const char *why; /* NULL: success */
    } cases[] = {
        {"zero", "00", 0, 1, NULL},
        {"one byte", "7f", 127, 1, NULL},
        {"two bytes", "8001", 128, 2, NULL},
        {"stops at its last byte", "ac0299", 300, 2, NULL},
        {"UINT64_MAX in 10 bytes", "ffffffffffffffffff01", UINT64_MAX, 10, NULL},
        {"padded to 10 bytes", "81808080808080808000", 1, 10, NULL},
        {"empty", "", 0, 0, "truncated varint"},
        {"truncated", "ff", 0, 1, "truncated varint"},
        {"65 bits", "ffffffffffffffffff02", 0, 10, "overflows 64 bits"},
        {"11 bytes", "8080808080808080808000", 0, 10, "longer than 10 bytes"},
    };
    (void)state;
    for (size_t i = 0; i < OWLS_ARRAY_LEN(cases); i++) {
        uint8_t buf[16];
        size_t n = unhex(cases[i].hex, buf);
        const uint8_t *p = buf;
        uint64_t v = 42;
        const char *why = owls_thrift_uleb128(&p, buf + n, &v);
        if (cases[i].why == NULL) {
            if (why != NULL || v != cases[i].want)
                fail_msg("%s: why=%s v=%llu", cases[i].name, why ? why : "-",
                         (unsigned long long)v);
        } else if (why == NULL || strstr(why, cases[i].why) == NULL || v != 42) {
            fail_msg("%s: why=%s v=%llu", cases[i].name, why ? why : "-", (unsigned long long)v);
        }
        if ((size_t)(p - buf) != cases[i].used)
            fail_msg("%s: moved %zu bytes, want %zu", cases[i].name, (size_t)(p - buf),
                     cases[i].used);
    }
    assert_int_equal(owls_thrift_unzigzag(0), 0);
    assert_int_equal(owls_thrift_unzigzag(1), -1);
    assert_int_equal(owls_thrift_unzigzag(2), 1);
    assert_true(owls_thrift_unzigzag(UINT64_MAX - 1) == INT64_MAX);
    assert_true(owls_thrift_unzigzag(UINT64_MAX) == INT64_MIN);
}

/* The Thrift reader on its own: limits and sticky failure. */
static void test_thrift(void **state)
{
    static const struct {
        const char *name, *hex, *why;
    } cases[] = {
        {"bad field type", "0d", "bad field type"},
        {"list count beyond data", "19f5ff01", "list count beyond"},
        {"binary beyond data", "18ff01", "binary length beyond"},
        {"varint too long", "15ffffffffffffffffffffff", "varint"},
        {"i32 out of range", "15ffffffff7f", "out of range"},
        {"truncated struct", "15 02", "truncated struct"},
        {"map count beyond data", "1bff7f", "map count beyond"},
    };
    (void)state;
    for (size_t i = 0; i < OWLS_ARRAY_LEN(cases); i++) {
        uint8_t buf[64];
        char hex[64];
        size_t k = 0;
        for (const char *p = cases[i].hex; *p; p++)
            if (*p != ' ')
                hex[k++] = *p;
        hex[k] = '\0';
        size_t n = unhex(hex, buf);
        struct owls_thrift t;
        int16_t id;
        uint8_t ft;
        owls_thrift_init(&t, buf, n);
        assert_true(owls_thrift_struct_begin(&t, OWLS_THRIFT_STRUCT));
        while (owls_thrift_field(&t, &id, &ft)) {
            int32_t v;
            if (!(ft == OWLS_THRIFT_I32 ? owls_thrift_i32(&t, ft, &v) : owls_thrift_skip(&t, ft)))
                break;
        }
        if (t.why == NULL || strstr(t.why, cases[i].why) == NULL)
            fail_msg("%s: why=%s", cases[i].name, t.why ? t.why : "-");
        /* sticky */
        assert_false(owls_thrift_field(&t, &id, &ft));
    }
}

/* ---- 5. regenerated fixtures ------------------------------------------------------ */

static void test_regenerated(void **state)
{
    char dir[] = "/tmp/owls-parquet-XXXXXX", cmd[1024];
    struct stat st;

    (void)state;
    if (stat("tests/parquet/node_modules/@duckdb/node-api", &st) != 0 ||
        stat("tests/parquet/node_modules/hyparquet-writer", &st) != 0) {
        printf("# skipped: tests/parquet/node_modules missing (cd tests/parquet && npm ci)\n");
        skip();
    }
    assert_non_null(mkdtemp(dir));
    snprintf(cmd, sizeof(cmd), "node tests/parquet/gen.mjs %s >/dev/null", dir);
    assert_int_equal(system(cmd), 0);
    for (size_t i = 0; i < OWLS_ARRAY_LEN(s_fixtures); i++)
        check_fixture(dir, &s_fixtures[i]);
    snprintf(cmd, sizeof(cmd), "rm -rf -- %s", dir);
    assert_int_equal(system(cmd), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fixtures),
        cmocka_unit_test(test_values_in_table),
        cmocka_unit_test(test_split_rows),
        cmocka_unit_test(test_built_ok),
        cmocka_unit_test(test_built_int32_delta),
        cmocka_unit_test(test_hostile),
        cmocka_unit_test(test_framing),
        cmocka_unit_test(test_rle),
        cmocka_unit_test(test_delta),
        cmocka_unit_test(test_decompress),
        cmocka_unit_test(test_datetime),
        cmocka_unit_test(test_uleb128),
        cmocka_unit_test(test_thrift),
        cmocka_unit_test(test_regenerated),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
