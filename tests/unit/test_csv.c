/* The CSV reader: RFC 4180 through libcsv, the fast path, typing, errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "owls/buf.h"
#include "owls/csv.h"

/* Read text both ways (fast path and every record through libcsv); the
 * results must agree; return the fast one (or NULL with *rc, em). */
static struct owls_table *read_both(const char *text, size_t len, enum owls_err *rc,
                                    struct owls_errmsg *em)
{
    struct owls_table *fast = NULL, *slow = NULL;
    struct owls_errmsg em2 = {{0}};
    struct owls_csv_opts force = {.force_libcsv = true};
    enum owls_err rc2;

    *rc = owls_csv_read(text, len, "t.csv", NULL, &fast, em);
    rc2 = owls_csv_read(text, len, "t.csv", &force, &slow, &em2);
    assert_int_equal(*rc, rc2);
    if (*rc != OWLS_OK) {
        assert_string_equal(em->text, em2.text);
        return NULL;
    }
    assert_int_equal(fast->nrows, slow->nrows);
    assert_int_equal(fast->ncols, slow->ncols);
    for (size_t j = 0; j < fast->ncols; j++) {
        assert_string_equal(fast->cols[j].name, slow->cols[j].name);
        assert_int_equal(fast->cols[j].kind, slow->cols[j].kind);
        if (fast->cols[j].values)
            assert_memory_equal(fast->cols[j].values, slow->cols[j].values,
                                fast->nrows * sizeof(double));
    }
    owls_table_free(slow);
    return fast;
}

static enum owls_err sink(void *s, const void *p, size_t n)
{
    owls_buf_append(s, p, n);
    return OWLS_OK;
}

/* keep every row whose index is in keep_bits (bit i = row i). */
static void split_out(const struct owls_table *t, uint32_t keep_bits, struct owls_buf *k,
                      struct owls_buf *d)
{
    uint8_t keep[32] = {0};
    struct owls_errmsg em = {{0}};
    for (size_t i = 0; i < t->nrows && i < 32; i++)
        keep[i] = (keep_bits >> i) & 1;
    owls_buf_init(k);
    owls_buf_init(d);
    assert_int_equal(t->ops->write_split(t, keep, sink, k, d, &em), OWLS_OK);
}

struct ok_case {
    const char *name;
    const char *text;
    size_t rows;
    const char *numeric; /* names of numeric columns, comma separated */
    const char *all_out; /* header + all rows as written back (keep everything) */
};

static const struct ok_case s_ok[] = {
    {"plain", "a,b\n1,2\n3,4\n", 2, "a,b", "a,b\n1,2\n3,4\n"},
    {"no final newline", "a,b\n1,2\n3,4", 2, "a,b", "a,b\n1,2\n3,4\n"},
    {"crlf", "a,b\r\n1,2\r\n3,4\r\n", 2, "a,b", "a,b\n1,2\n3,4\n"},
    {"bom",
     "\xEF\xBB\xBF"
     "a,b\n1,2\n3,4\n",
     2, "a,b", "a,b\n1,2\n3,4\n"},
    {"bom crlf quoted header", "\xEF\xBB\xBF\"a\",\"b\"\r\n1,2\r\n3,4\r\n", 2, "a,b",
     "a,b\n1,2\n3,4\n"},
    {"text column", "a,name,b\n1,x,2\n3,y,4\n", 2, "a,b", "a,name,b\n1,x,2\n3,y,4\n"},
    {"quoted comma", "a,b,c\n1,\"x, y\",2\n3,z,4\n", 2, "a,c", "a,b,c\n1,\"x, y\",2\n3,z,4\n"},
    {"doubled quotes", "a,b,c\n1,\"say \"\"hi\"\"\",2\n3,z,4\n", 2, "a,c",
     "a,b,c\n1,\"say \"\"hi\"\"\",2\n3,z,4\n"},
    {"embedded newline", "a,b,c\n1,\"two\nlines\",2\n3,z,4\n", 2, "a,c",
     "a,b,c\n1,\"two\nlines\",2\n3,z,4\n"},
    {"embedded crlf", "a,b,c\r\n1,\"two\r\nlines\",2\r\n3,z,4\r\n", 2, "a,c",
     "a,b,c\n1,\"two\r\nlines\",2\n3,z,4\n"},
    {"quoted number", "a,b\n\"1.5\",2\n3,\"4\"\n", 2, "a,b", "a,b\n1.5,2\n3,4\n"},
    {"needless quotes dropped", "a,b,c\n\"x\",2,1\n\"y\",4,0\n", 2, "b,c", "a,b,c\nx,2,1\ny,4,0\n"},
    {"spaces kept", "a,b\n 1 ,2\n3, 4\n", 2, "a,b", "a,b\n 1 ,2\n3, 4\n"},
    {"all-empty column ignored", "a,b,c\n1,,2\n3,,4\n", 2, "a,c", "a,b,c\n1,,2\n3,,4\n"},
    {"nan makes text", "a,b,c\n1,nan,2\n3,1,4\n", 2, "a,c", "a,b,c\n1,nan,2\n3,1,4\n"},
    {"inf makes text", "a,b,c\n1,inf,2\n3,1,4\n", 2, "a,c", "a,b,c\n1,inf,2\n3,1,4\n"},
    {"hex makes text", "a,b,c\n1,0x1p3,2\n3,1,4\n", 2, "a,c", "a,b,c\n1,0x1p3,2\n3,1,4\n"},
    {"overflow makes text", "a,b,c\n1,1e999,2\n3,1,4\n", 2, "a,c", "a,b,c\n1,1e999,2\n3,1,4\n"},
    {"text and empty ignored", "a,b,c\n1,,2\n3,x,4\n", 2, "a,c", "a,b,c\n1,,2\n3,x,4\n"},
    {"number forms", "a,b\n1.,.5\n+1e3,-0\n 7 ,1E-5\n", 3, "a,b",
     "a,b\n1.,.5\n+1e3,-0\n 7 ,1E-5\n"},
    {"empty header names", ",\n1,2\n3,4\n", 2, ",", ",\n1,2\n3,4\n"},
    {"bare cr ends a record", "a,b\r1,2\r3,4\r", 2, "a,b", "a,b\n1,2\n3,4\n"},
    {"quoted field then crlf mid-file", "a,b\n\"1\",2\r\n3,4\n", 2, "a,b", "a,b\n1,2\n3,4\n"},
};

static bool has_name(const char *list, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = list; *p;) {
        const char *c = strchr(p, ',');
        size_t len = c ? (size_t)(c - p) : strlen(p);
        if (len == n && strncmp(p, name, n) == 0)
            return true;
        if (c == NULL)
            break;
        p = c + 1;
    }
    return n == 0 && strchr(list, ',') != NULL;
}

static void test_ok_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(s_ok) / sizeof(s_ok[0]); i++) {
        const struct ok_case *c = &s_ok[i];
        struct owls_errmsg em = {{0}};
        enum owls_err rc;
        struct owls_buf k, d;
        struct owls_table *t = read_both(c->text, strlen(c->text), &rc, &em);
        if (rc != OWLS_OK)
            fail_msg("%s: %s", c->name, em.text);
        if (t->nrows != c->rows)
            fail_msg("%s: %zu rows, expected %zu", c->name, t->nrows, c->rows);
        for (size_t j = 0; j < t->ncols; j++) {
            bool want = has_name(c->numeric, t->cols[j].name);
            if ((t->cols[j].kind == OWLS_COL_NUMERIC) != want)
                fail_msg("%s: column \"%s\" numeric=%d", c->name, t->cols[j].name,
                         t->cols[j].kind == OWLS_COL_NUMERIC);
        }
        split_out(t, ~0u, &k, &d);
        if (strcmp(k.data, c->all_out) != 0)
            fail_msg("%s: wrote\n%s\nexpected\n%s", c->name, k.data, c->all_out);
        owls_buf_cleanup(&k);
        owls_buf_cleanup(&d);
        owls_table_free(t);
    }
}

struct err_case {
    const char *name;
    const char *text;
    enum owls_err rc;
    const char *msg; /* a substring of the message */
};

static const struct err_case s_err[] = {
    {"empty file", "", OWLS_EBAD_CSV, "t.csv: line 1: empty file"},
    {"bom only", "\xEF\xBB\xBF", OWLS_EBAD_CSV, "empty file"},
    {"unterminated quote", "a,b\n1,2\n3,\"4\n5,6\n", OWLS_EBAD_CSV,
     "line 3: unterminated quoted field"},
    {"ragged long", "a,b\n1,2\n3,4,5\n", OWLS_EBAD_CSV, "line 3: 3 fields, the header has 2"},
    {"ragged short", "a,b\n1,2\n3\n", OWLS_EBAD_CSV, "line 3: 1 field, the header has 2"},
    {"blank line", "a,b\n1,2\n\n3,4\n", OWLS_EBAD_CSV, "line 3: 1 field"},
    {"blank crlf line", "a,b\r\n1,2\r\n\r\n3,4\r\n", OWLS_EBAD_CSV, "line 3: 1 field"},
    {"quote inside unquoted field", "a,b\n1,x\"y\n", OWLS_EBAD_CSV, "line 2: malformed"},
    {"text after closing quote", "a,b\n1,\"x\"y\n", OWLS_EBAD_CSV, "line 2: malformed"},
    {"ragged after multi-line field", "a,b\n1,\"x\ny\"\n3,4,5\n", OWLS_EBAD_CSV,
     "line 4: 3 fields"},
    {"header only", "a,b\n", OWLS_ENOT_ENOUGH_ROWS, "header only"},
    {"one data row", "a,b\n1,2\n", OWLS_ENOT_ENOUGH_ROWS, "1 data row"},
    {"one numeric column", "a,b\n1,x\n2,y\n", OWLS_ENOT_ENOUGH_NUMERIC_COLUMNS, "1 numeric column"},
    {"no numeric column", "a,b\nx,y\nz,w\n", OWLS_ENOT_ENOUGH_NUMERIC_COLUMNS, "0 numeric columns"},
    {"missing value", "a,b,c\n1,2,3\n4,,6\n7,8,9\n", OWLS_EMISSING_VALUE, "row 2: column \"b\""},
    {"first missing row wins", "a,b,c\n1,2,3\n4,5,\n7,,9\n", OWLS_EMISSING_VALUE,
     "row 2: column \"c\""},
    {"leftmost column on a tie", "a,b,c\n1,2,3\n4,,\n7,8,9\n", OWLS_EMISSING_VALUE,
     "row 2: column \"b\""},
    {"bad_csv before missing_value", "a,b\n1,\n2,3,4\n", OWLS_EBAD_CSV, "line 3"},
    {"missing_value before numeric count", "a,b\n1,x\n,y\n", OWLS_EMISSING_VALUE,
     "row 2: column \"a\""},
    {"numeric count before rows", "a,b\n1,x\n", OWLS_ENOT_ENOUGH_NUMERIC_COLUMNS, "numeric"},
};

static void test_error_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(s_err) / sizeof(s_err[0]); i++) {
        const struct err_case *c = &s_err[i];
        struct owls_errmsg em = {{0}};
        enum owls_err rc;
        struct owls_table *t = read_both(c->text, strlen(c->text), &rc, &em);
        if (rc != c->rc)
            fail_msg("%s: got %s (%s), expected %s", c->name, owls_err_code(rc), em.text,
                     owls_err_code(c->rc));
        if (strstr(em.text, c->msg) == NULL)
            fail_msg("%s: message \"%s\" lacks \"%s\"", c->name, em.text, c->msg);
        assert_null(t);
    }
}

static void test_values_and_split(void **state)
{
    const char *text = "id,x,y\n"
                       "a,1.5,-2\n"
                       "\"b,\",2.5,1e2\n"
                       "c,-0.125,3\n";
    struct owls_errmsg em = {{0}};
    enum owls_err rc;
    struct owls_buf k, d;
    struct owls_table *t = read_both(text, strlen(text), &rc, &em);

    (void)state;
    assert_int_equal(rc, OWLS_OK);
    assert_int_equal(t->cols[0].kind, OWLS_COL_IGNORED);
    assert_null(t->cols[0].values);
    assert_true(t->cols[1].values[0] == 1.5 && t->cols[1].values[1] == 2.5 &&
                t->cols[1].values[2] == -0.125);
    assert_true(t->cols[2].values[0] == -2 && t->cols[2].values[1] == 100 &&
                t->cols[2].values[2] == 3);
    split_out(t, 0x5, &k, &d); /* rows 0 and 2 kept */
    assert_string_equal(k.data, "id,x,y\na,1.5,-2\nc,-0.125,3\n");
    assert_string_equal(d.data, "id,x,y\n\"b,\",2.5,1e2\n");
    owls_buf_cleanup(&k);
    owls_buf_cleanup(&d);
    owls_table_free(t);
}

/* Many rows, with the value arrays growing past the estimate. */
static void test_growth(void **state)
{
    struct owls_buf b;
    struct owls_errmsg em = {{0}};
    enum owls_err rc;
    struct owls_table *t;

    (void)state;
    owls_buf_init(&b);
    owls_buf_puts(&b, "a,b\n1,2\n");
    for (int i = 0; i < 100000; i++)
        owls_buf_printf(&b, "%d,%d.5\n", i, i % 7);
    t = read_both(b.data, b.len, &rc, &em);
    assert_int_equal(rc, OWLS_OK);
    assert_int_equal(t->nrows, 100001);
    assert_true(t->cols[0].values[100000] == 99999);
    assert_true(t->cols[1].values[100000] == 99999 % 7 + 0.5);
    owls_table_free(t);
    owls_buf_cleanup(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ok_table),
        cmocka_unit_test(test_error_table),
        cmocka_unit_test(test_values_and_split),
        cmocka_unit_test(test_growth),
    };
    return cmocka_run_group_tests_name("csv", tests, NULL, NULL);
}
