/* The number grammar of SPEC section 3, and the fast paths against strtod(). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "owls/numparse.h"

struct num_case {
    const char *text;
    bool ok;
    double value; /* written as a C literal: the compiler's conversion is the reference */
};

static const struct num_case s_cases[] = {
    {"0", true, 0.0},
    {"-0", true, -0.0},
    {"1", true, 1.0},
    {"+1e3", true, 1e3},
    {"1.", true, 1.0},
    {".5", true, 0.5},
    {"-.5", true, -0.5},
    {"1.5", true, 1.5},
    {"  7 ", true, 7.0},
    {" -1.25e-2", true, -1.25e-2},
    {"1E-5", true, 1e-5},
    {"1e+5", true, 1e5},
    {"0.1", true, 0.1},
    {"-1.234567", true, -1.234567},
    {"123456789012345678", true, 123456789012345678.0},
    {"1234567890123456789012345", true, 1234567890123456789012345.0},
    {"0.000000000000000000000000001", true, 1e-27},
    {"9007199254740993", true, 9007199254740993.0}, /* 2^53 + 1: needs strtod */
    {"1e308", true, 1e308},
    {"1e-320", true, 1e-320}, /* subnormal: a finite number */
    {"1e-400", true, 0.0},    /* underflows to zero: still a number */
    {"1e999", false, 0},      /* overflows a double */
    {"-1e999", false, 0},
    {"nan", false, 0},
    {"NaN", false, 0},
    {"inf", false, 0},
    {"-Infinity", false, 0},
    {"0x1p3", false, 0},
    {"0x10", false, 0},
    {"", false, 0},
    {" ", false, 0},
    {".", false, 0},
    {"-", false, 0},
    {"+", false, 0},
    {"e5", false, 0},
    {"1e", false, 0},
    {"1e+", false, 0},
    {"1.2.3", false, 0},
    {"1,5", false, 0},
    {"\t1", false, 0}, /* only U+0020 counts as a space */
    {"1\t", false, 0},
    {"1 2", false, 0},
    {"--1", false, 0},
    {"+-1", false, 0},
    {"1_000", false, 0},
    {"١", false, 0}, /* Arabic-Indic digit one */
};

static void same_double(double a, double b)
{
    /* Bit for bit: -0.0 and 0.0 differ. */
    assert_memory_equal(&a, &b, sizeof(double));
}

static void test_grammar_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(s_cases) / sizeof(s_cases[0]); i++) {
        const struct num_case *c = &s_cases[i];
        double fast = 12345, ref = 12345;
        bool ok_fast = owls_num_parse(c->text, strlen(c->text), &fast);
        bool ok_ref = owls_num_parse_ref(c->text, strlen(c->text), &ref);
        if (ok_fast != c->ok || ok_ref != c->ok)
            fail_msg("\"%s\": expected %s, fast says %d, reference says %d", c->text,
                     c->ok ? "a number" : "not a number", ok_fast, ok_ref);
        if (c->ok) {
            same_double(fast, c->value);
            same_double(ref, c->value);
        }
    }
}

static void test_not_nul_terminated(void **state)
{
    /* The parser must stop at n, never read the digits that follow. */
    const char buf[] = "12345";
    double v = 0;
    (void)state;
    assert_true(owls_num_parse(buf, 2, &v));
    same_double(v, 12.0);
}

/* owls_num_scan_field: the CSV fast path, against the reference. */
static void test_scan_field(void **state)
{
    static const char *const lines[] = {
        "-1.234567,2.5,x",
        "1,2,3",
        "12345678.1234567,1",
        "123456789,1",
        "1.12345678,2",
        "-0,+0",
        ".5,5.",
        "1e5,2",
        " 1,2",
        "1 ,2",
        ",",
        "-,+",
        "0.0000001,0.5",
        "99999999999,1",
        "1.2.3,4",
        "7",
        "12345678901234567890,1",
    };
    (void)state;
    for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
        /* Padded, so the 8-byte reads have room; the pad is not digits. */
        char buf[64];
        size_t n = strlen(lines[i]);
        memset(buf, '\n', sizeof(buf));
        memcpy(buf, lines[i], n);
        const char *end = buf + n, *p = buf;
        for (;;) {
            const char *comma = memchr(p, ',', (size_t)(end - p));
            const char *fe = comma ? comma : end;
            double a = 0, b = 0;
            const char *q = owls_num_scan_field(p, end, buf + sizeof(buf), ',', &a);
            bool ref = owls_num_parse_ref(p, (size_t)(fe - p), &b);
            if (q != NULL) {
                if (!ref || q != fe)
                    fail_msg("\"%s\" field %zu: fast path accepted what the reference rejects",
                             lines[i], (size_t)(p - buf));
                same_double(a, b);
            }
            if (comma == NULL)
                break;
            p = comma + 1;
        }
    }
}

static void test_format_round_trip(void **state)
{
    static const double values[] = {0.0,
                                    -0.0,
                                    1.0,
                                    -1.5,
                                    0.1,
                                    1.234567,
                                    -0.000001,
                                    1e-300,
                                    1e300,
                                    5e-324,
                                    1.7976931348623157e308,
                                    123456789012345678.0,
                                    3.141592653589793,
                                    2.5e-7};
    char out[32];
    (void)state;
    for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++) {
        size_t n = owls_num_format(values[i], out);
        double back = 0;
        assert_int_equal(n, strlen(out));
        assert_true(owls_num_parse_ref(out, n, &back));
        same_double(back, values[i]);
    }
    owls_num_format(1.5, out);
    assert_string_equal(out, "1.5");
    owls_num_format(-0.000001, out);
    assert_string_equal(out, "-0.000001");
    owls_num_format(100.0, out);
    assert_string_equal(out, "100");
}

/* Random decimal strings: fast and reference agree bit for bit. */
static void test_random_agreement(void **state)
{
    uint64_t x = 0x9E3779B97F4A7C15u;
    (void)state;
    for (int iter = 0; iter < 200000; iter++) {
        char s[40];
        size_t n = 0;
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        if (x & 1)
            s[n++] = (x & 2) ? '-' : '+';
        int nd = (int)((x >> 2) % 22), dot = (int)((x >> 8) % 24);
        for (int k = 0; k < nd; k++) {
            if (k == dot)
                s[n++] = '.';
            s[n++] = (char)('0' + (int)((x >> (12 + (k % 40))) % 10));
        }
        if ((x >> 60) == 0xF)
            n += (size_t)snprintf(s + n, sizeof(s) - n, "e%d", (int)((x >> 20) % 700) - 350);
        double a = 0, b = 0;
        bool fa = owls_num_parse(s, n, &a), fb = owls_num_parse_ref(s, n, &b);
        if (fa != fb)
            fail_msg("\"%.*s\": fast %d, reference %d", (int)n, s, fa, fb);
        if (fa)
            same_double(a, b);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_grammar_table),    cmocka_unit_test(test_not_nul_terminated),
        cmocka_unit_test(test_scan_field),       cmocka_unit_test(test_format_round_trip),
        cmocka_unit_test(test_random_agreement),
    };
    return cmocka_run_group_tests_name("numparse", tests, NULL, NULL);
}
