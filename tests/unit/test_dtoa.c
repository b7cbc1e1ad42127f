/*
 * Shortest round-trip formatting (src/q4/dtoa.c), held to references that do
 * not share its code: strtod() for the value, the %.{1..17}e loop of printf
 * for the fewest digits and their choice, printf's %.17g for the length, a
 * small big-integer check of every table row, and texts written by hand.
 */
#include <float.h>
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
#include "owls/private/dtoa.h"

/* --- helpers ------------------------------------------------------------------------ */

static uint64_t s_rng = UINT64_C(0x9E3779B97F4A7C15);

/* xorshift64*: a fixed sequence, so a failure repeats. */
static uint64_t rnd(void)
{
    s_rng ^= s_rng >> 12;
    s_rng ^= s_rng << 25;
    s_rng ^= s_rng >> 27;
    return s_rng * UINT64_C(2685821657736338717);
}

static double from_bits(uint64_t b)
{
    double v;
    memcpy(&v, &b, sizeof(v));
    return v;
}

static uint64_t to_bits(double v)
{
    uint64_t b;
    memcpy(&b, &v, sizeof(b));
    return b;
}

/*
 * The text owls_dtoa_format() must produce, from printf alone: the fewest
 * digits p (1..17) for which %.{p-1}e reads back as v (printf rounds
 * correctly, so these are the digits closest to v), then plain for decimal
 * exponents -4..16, plain for -6..-5 when no longer than %.17g, exponent form
 * ("d.ddde-X", no '+', no leading zeros) otherwise. Finite non-zero v only.
 */
static void ref_format(double v, char out[64])
{
    char e_text[40], digits[24], g17[40];
    int p, nd = 0, e;
    const char *s;
    char *o = out;

    for (p = 1; p <= 17; p++) {
        snprintf(e_text, sizeof(e_text), "%.*e", p - 1, v);
        if (strtod(e_text, NULL) == v)
            break;
    }
    s = e_text + (e_text[0] == '-');
    for (; *s != 'e'; s++)
        if (*s != '.')
            digits[nd++] = *s;
    e = (int)strtol(s + 1, NULL, 10);
    while (nd > 1 && digits[nd - 1] == '0')
        nd--;
    if (v < 0)
        *o++ = '-';
    bool plain = e >= -4 && e <= 16;
    if (e == -5 || e == -6) {
        snprintf(g17, sizeof(g17), "%.17g", fabs(v));
        plain = 1 - e + nd <= (int)strlen(g17);
    }
    if (!plain) {
        *o++ = digits[0];
        if (nd > 1) {
            *o++ = '.';
            memcpy(o, digits + 1, (size_t)nd - 1);
            o += nd - 1;
        }
        snprintf(o, 16, "e%d", e);
        return;
    }
    if (e < 0) {
        *o++ = '0';
        *o++ = '.';
        for (int i = 0; i < -e - 1; i++)
            *o++ = '0';
        memcpy(o, digits, (size_t)nd);
        o += nd;
    } else {
        for (int i = 0; i < nd || i <= e; i++) {
            if (i == e + 1)
                *o++ = '.';
            *o++ = i < nd ? digits[i] : '0';
        }
    }
    *o = '\0';
}

/* The contract on one value: length, NUL, grammar, the exact double back, no
 * longer than %.17g, and (when full) the reference text. A shorter text than
 * the reference is allowed only for a power of two, whose lower neighbour is
 * closer than its upper one: there the digits closest to v may miss the
 * interval while other digits of that length hit it; counted in *shorter. */
static void check_value(double v, bool full, unsigned *shorter)
{
    char out[OWLS_DTOA_BUFSZ], g17[40], ref[64];
    double back = 0;
    size_t n = owls_dtoa_format(v, out);
    uint64_t vb = to_bits(v);

    if (n != strlen(out) || n > 24)
        fail_msg("%a: length %zu, strlen %zu, \"%s\"", v, n, strlen(out), out);
    if (!owls_num_parse_ref(out, n, &back) || to_bits(back) != vb)
        fail_msg("%a (%.17g): \"%s\" reads back as %a", v, v, out, back);
    if (n > (size_t)snprintf(g17, sizeof(g17), "%.17g", v))
        fail_msg("%a: \"%s\" is longer than %%.17g's \"%s\"", v, out, g17);
    if (!full || v == 0)
        return;
    ref_format(v, ref);
    if (strcmp(out, ref) == 0)
        return;
    char *e1 = strchr(out, 'e'), *e2 = strchr(ref, 'e');
    if ((vb & ((UINT64_C(1) << 52) - 1)) == 0 && shorter && n < strlen(ref)) {
        (*shorter)++; /* digits count checked: shorter, and exact by the read-back above */
        return;
    }
    fail_msg("%a: \"%s\", expected \"%s\"%s", v, out, ref,
             (e1 == NULL) != (e2 == NULL) ? " (form differs)" : "");
}

/* --- named cases ------------------------------------------------------------------- */

struct fmt_case {
    const char *name;
    double v;
    const char *text;
};

static const struct fmt_case s_cases[] = {
    {"zero", 0.0, "0"},
    {"negative zero", -0.0, "-0"},
    {"one", 1.0, "1"},
    {"hundred", 100.0, "100"},
    {"half negative", -1.5, "-1.5"},
    {"tenth", 0.1, "0.1"},
    {"three tenths", 0.3, "0.3"},
    {"0.1 + 0.2", 0.1 + 0.2, "0.30000000000000004"},
    {"third", 1.0 / 3.0, "0.3333333333333333"},
    {"two thirds", 2.0 / 3.0, "0.6666666666666666"},
    {"pi", 3.141592653589793, "3.141592653589793"},
    {"integer", 123456.0, "123456"},
    {"binary fraction", 123456789.125, "123456789.125"},
    {"small plain", 0.000123, "0.000123"},
    {"1e-4 plain", 1e-4, "0.0001"},
    {"1e-5 plain (%.17g has 17 digits)", 1e-5, "0.00001"},
    {"5e-5 plain", 5e-5, "0.00005"},
    {"1e-6 plain", 1e-6, "0.000001"},
    {"-1e-6 plain", -0.000001, "-0.000001"},
    {"1.5e-5 exponent (%.17g is 1.5e-05)", 1.5e-5, "1.5e-5"},
    {"2^-17 exponent (exact)", 0x1p-17, "7.62939453125e-6"},
    {"2^-20", 0x1p-20, "9.5367431640625e-7"},
    {"1e-7 exponent", 1e-7, "1e-7"},
    {"2.5e-7", 2.5e-7, "2.5e-7"},
    {"2^53 - 1", 9007199254740991.0, "9007199254740991"},
    {"2^53", 9007199254740992.0, "9007199254740992"},
    {"2^53 + 2", 9007199254740994.0, "9007199254740994"},
    {"1e16 plain", 1e16, "10000000000000000"},
    {"1e17 exponent", 1e17, "1e17"},
    {"2^63", 0x1p63, "9.223372036854776e18"},
    {"long integer", 123456789012345678.0, "1.2345678901234568e17"},
    {"1e22", 1e22, "1e22"},
    {"1e23 (closest double below)", 1e23, "1e23"},
    {"1e300", 1e300, "1e300"},
    {"1e-300", 1e-300, "1e-300"},
    {"-1e-300", -1e-300, "-1e-300"},
    {"DBL_MAX", DBL_MAX, "1.7976931348623157e308"},
    {"-DBL_MAX", -DBL_MAX, "-1.7976931348623157e308"},
    {"DBL_MIN", DBL_MIN, "2.2250738585072014e-308"},
    {"largest subnormal", 0x0.fffffffffffffp-1022, "2.225073858507201e-308"},
    {"smallest subnormal", 0x1p-1074, "5e-324"},
    {"three smallest", 0x3p-1074, "1.5e-323"},
    {"negative smallest", -0x1p-1074, "-5e-324"},
};

static void test_named_cases(void **state)
{
    char out[OWLS_DTOA_BUFSZ];
    (void)state;
    for (size_t i = 0; i < sizeof(s_cases) / sizeof(s_cases[0]); i++) {
        size_t n = owls_dtoa_format(s_cases[i].v, out);
        if (strcmp(out, s_cases[i].text) != 0 || n != strlen(s_cases[i].text))
            fail_msg("%s: got \"%s\" (%zu), expected \"%s\"", s_cases[i].name, out, n,
                     s_cases[i].text);
        /* owls_num_format is the public door to the same text */
        char out2[32];
        owls_num_format(s_cases[i].v, out2);
        assert_string_equal(out2, s_cases[i].text);
        check_value(s_cases[i].v, true, NULL);
    }
}

static void test_non_finite(void **state)
{
    char out[OWLS_DTOA_BUFSZ];
    (void)state;
    assert_int_equal(owls_dtoa_format(HUGE_VAL, out), 3);
    assert_string_equal(out, "inf");
    assert_int_equal(owls_dtoa_format(-HUGE_VAL, out), 4);
    assert_string_equal(out, "-inf");
    owls_dtoa_format(from_bits(UINT64_C(0xfff8000000000000)), out);
    assert_string_equal(out, "nan");
}

/* --- the table and the logarithms, with exact big integers ------------------------------ */

#define BIG_LIMBS 96 /* 3072 bits */

struct big {
    uint32_t w[BIG_LIMBS]; /* little endian */
};

static void big_set(struct big *a, uint64_t x)
{
    memset(a, 0, sizeof(*a));
    a->w[0] = (uint32_t)x;
    a->w[1] = (uint32_t)(x >> 32);
}

static void big_mul_small(struct big *a, uint32_t m)
{
    uint64_t carry = 0;
    for (int i = 0; i < BIG_LIMBS; i++) {
        uint64_t t = (uint64_t)a->w[i] * m + carry;
        a->w[i] = (uint32_t)t;
        carry = t >> 32;
    }
    assert_int_equal(carry, 0);
}

static void big_shl(struct big *a, int bits)
{
    for (; bits >= 32; bits -= 32) {
        assert_int_equal(a->w[BIG_LIMBS - 1], 0);
        memmove(a->w + 1, a->w, sizeof(a->w) - sizeof(a->w[0]));
        a->w[0] = 0;
    }
    for (; bits > 0; bits--)
        big_mul_small(a, 2);
}

static void big_pow(struct big *a, uint32_t base, int n)
{
    big_set(a, 1);
    while (n-- > 0)
        big_mul_small(a, base);
}

/* a *= x (x < 2^128 as hi:lo). */
static void big_mul_u128(struct big *a, uint64_t hi, uint64_t lo)
{
    struct big acc, part;
    const uint32_t m[4] = {(uint32_t)lo, (uint32_t)(lo >> 32), (uint32_t)hi, (uint32_t)(hi >> 32)};
    big_set(&acc, 0);
    for (int j = 0; j < 4; j++) {
        uint64_t carry = 0;
        part = *a;
        big_mul_small(&part, m[j]);
        big_shl(&part, 32 * j);
        for (int i = 0; i < BIG_LIMBS; i++) {
            uint64_t t = (uint64_t)acc.w[i] + part.w[i] + carry;
            acc.w[i] = (uint32_t)t;
            carry = t >> 32;
        }
        assert_int_equal(carry, 0);
    }
    *a = acc;
}

static int big_cmp(const struct big *a, const struct big *b)
{
    for (int i = BIG_LIMBS - 1; i >= 0; i--)
        if (a->w[i] != b->w[i])
            return a->w[i] < b->w[i] ? -1 : 1;
    return 0;
}

static int big_bitlen(const struct big *a)
{
    for (int i = BIG_LIMBS - 1; i >= 0; i--)
        if (a->w[i])
            return 32 * i + 32 - __builtin_clz(a->w[i]);
    return 0;
}

/* Compare m1 * 2^a2 * 10^a10 with m2 * 2^b2 * 10^b10 exactly. */
static int cmp_scaled(uint32_t m1, int a2, int a10, uint32_t m2, int b2, int b10)
{
    struct big l, r;
    int d2 = a2 - b2, d10 = a10 - b10;

    big_pow(&l, 10, d10 > 0 ? d10 : 0);
    big_pow(&r, 10, d10 < 0 ? -d10 : 0);
    big_mul_small(&l, m1);
    big_mul_small(&r, m2);
    big_shl(d2 > 0 ? &l : &r, d2 > 0 ? d2 : -d2);
    return big_cmp(&l, &r);
}

static void test_log_helpers(void **state)
{
    (void)state;
    for (int q = -1100; q <= 1100; q++) {
        int k = owls_dtoa_flog10_pow2(q);
        if (!(cmp_scaled(1, 0, k, 1, q, 0) <= 0 && cmp_scaled(1, q, 0, 1, 0, k + 1) < 0))
            fail_msg("flog10_pow2(%d) = %d", q, k);
        k = owls_dtoa_flog10_3q_pow2(q); /* 10^k <= 3 * 2^(q-2) < 10^(k+1) */
        if (!(cmp_scaled(1, 0, k, 3, q - 2, 0) <= 0 && cmp_scaled(3, q - 2, 0, 1, 0, k + 1) < 0))
            fail_msg("flog10_3q_pow2(%d) = %d", q, k);
    }
    for (int e = -350; e <= 350; e++) {
        int f = owls_dtoa_flog2_pow10(e); /* 2^f <= 10^e < 2^(f+1) */
        if (!(cmp_scaled(1, f, 0, 1, 0, e) <= 0 && cmp_scaled(1, 0, e, 1, f + 1, 0) < 0))
            fail_msg("flog2_pow10(%d) = %d", e, f);
    }
}

/* Row e + 292 holds g = floor(10^e * 2^b) + 1, b = 125 - floor(log2 10^e):
 * (g - 1) <= 10^e * 2^b < g, with both sides made integers. */
static void test_table_rows(void **state)
{
    (void)state;
    for (int e = -292; e <= 324; e++) {
        const uint64_t *row = owls_dtoa_pow10_g[e + 292];
        struct big p10, lo, hi, rhs;
        int n = e < 0 ? -e : e, f, b;
        uint64_t g_hi = row[0] >> 1, g_lo = (row[0] << 63) | row[1]; /* g = row0 * 2^63 + row1 */

        assert_true(row[1] < (UINT64_C(1) << 63));
        big_pow(&p10, 10, n);
        f = e >= 0 ? big_bitlen(&p10) - 1 : -big_bitlen(&p10); /* floor(log2 10^e) */
        b = 125 - f;
        /* lo = (g - 1) * X, hi = g * X, compared with rhs, where
         *   e >= 0, b >= 0: X = 1, rhs = 10^e * 2^b (then g - 1 == rhs)
         *   e >= 0, b < 0:  X = 2^-b, rhs = 10^e
         *   e < 0:          X = 10^-e, rhs = 2^b */
        if (e >= 0) {
            big_set(&lo, 1);
            if (b < 0)
                big_shl(&lo, -b);
            rhs = p10;
            if (b > 0)
                big_shl(&rhs, b);
        } else {
            lo = p10;
            big_set(&rhs, 1);
            big_shl(&rhs, b);
        }
        hi = lo;
        big_mul_u128(&hi, g_hi, g_lo);
        if (g_lo == 0)
            big_mul_u128(&lo, g_hi - 1, UINT64_MAX);
        else
            big_mul_u128(&lo, g_hi, g_lo - 1);
        if (!(big_cmp(&lo, &rhs) <= 0 && big_cmp(&rhs, &hi) < 0))
            fail_msg("table row for 10^%d is wrong", e);
    }
}

/* --- value families ----------------------------------------------------------------- */

static void test_powers(void **state)
{
    unsigned shorter = 0;
    char text[16];
    (void)state;
    for (int q = -1074; q <= 1023; q++) {
        check_value(ldexp(1.0, q), true, &shorter);
        check_value(-ldexp(1.0, q), true, &shorter);
    }
    for (int e = -323; e <= 308; e++) {
        char out[OWLS_DTOA_BUFSZ], want[32];
        snprintf(text, sizeof(text), "1e%d", e);
        double v = strtod(text, NULL);
        check_value(v, true, NULL);
        /* one digit: plain 0.000001 .. 10000000000000000 (1e-5 and 1e-6 are
         * inexact: %.17g needs 17 digits for them), "1e<e>" elsewhere */
        if (e >= -6 && e < 0)
            snprintf(want, sizeof(want), "0.%.*s1", -e - 1, "00000");
        else if (e >= 0 && e <= 16)
            snprintf(want, sizeof(want), "1%.*s", e, "0000000000000000");
        else
            snprintf(want, sizeof(want), "%s", text);
        owls_dtoa_format(v, out);
        assert_string_equal(out, want);
    }
    /* How many powers of two beat the printf loop (informational; each is exact). */
    print_message("powers of two shorter than the %%.{p}e loop: %u\n", shorter);
}

static void test_subnormals(void **state)
{
    (void)state;
    for (int i = 0; i < 52; i++)
        check_value(from_bits(UINT64_C(1) << i), true, NULL);
    check_value(from_bits((UINT64_C(1) << 52) - 1), true, NULL);
    for (int i = 0; i < 200000; i++) {
        uint64_t b = rnd() & ((UINT64_C(1) << 52) - 1);
        if (b == 0)
            continue;
        check_value(from_bits(b | (rnd() & (UINT64_C(1) << 63))), i % 16 == 0, NULL);
    }
}

static void test_integers(void **state)
{
    char out[OWLS_DTOA_BUFSZ], want[32];
    (void)state;
    for (int64_t i = -100000; i <= 100000; i++) {
        snprintf(want, sizeof(want), "%lld", (long long)i);
        owls_dtoa_format((double)i, out);
        assert_string_equal(out, i == 0 ? "0" : want);
    }
    /* every integer below 2^53 is exact and prints as itself */
    for (int i = 0; i < 1000000; i++) {
        uint64_t m = rnd() >> (11 + rnd() % 53);
        double v = (double)m;
        snprintf(want, sizeof(want), "%llu", (unsigned long long)m);
        owls_dtoa_format(v, out);
        if (m != 0 && strcmp(out, want) != 0)
            fail_msg("%llu printed as \"%s\"", (unsigned long long)m, out);
    }
}

/* Decimals of at most 15 significant digits in the normal range survive the
 * trip through a double (DBL_DIG), so their own digits are the shortest. */
static void test_short_decimals(void **state)
{
    char text[48];
    (void)state;
    for (int i = 0; i < 1000000; i++) {
        int nd = 1 + (int)(rnd() % 15), x = (int)(rnd() % 630) - 322;
        uint64_t d = 1 + rnd() % 9;
        for (int j = 1; j < nd; j++)
            d = d * 10 + rnd() % 10;
        while (d % 10 == 0)
            d /= 10;
        snprintf(text, sizeof(text), "%llue%d", (unsigned long long)d, x);
        double v = strtod(text, NULL);
        if (!(v >= DBL_MIN && v <= DBL_MAX))
            continue;
        struct owls_dtoa_dec got = owls_dtoa_shortest(v);
        if (got.sig != d || got.exp != x)
            fail_msg("%s: got %llue%d", text, (unsigned long long)got.sig, got.exp);
        check_value(v, i % 8 == 0, NULL);
    }
}

/* Around the plain / exponent border at 1e-5 and 1e-6, where the choice
 * depends on %.17g's length. */
static void test_small_border(void **state)
{
    const uint64_t lo = to_bits(0.9e-7), hi = to_bits(1.1e-4);
    char text[40];
    (void)state;
    for (int i = 0; i < 300000; i++) {
        double v = from_bits(lo + rnd() % (hi - lo));
        if (i & 1) { /* a short decimal near it */
            snprintf(text, sizeof(text), "%.*e", (int)(rnd() % 17), v);
            v = strtod(text, NULL);
        }
        check_value(i & 2 ? -v : v, true, NULL);
    }
}

/* Millions of random bit patterns: every finite one must read back exactly
 * and be no longer than %.17g; one in 32 against the full printf reference. */
static void test_random_bits(void **state)
{
    unsigned shorter = 0;
    long n = 0;
    (void)state;
    for (long i = 0; i < 4000000; i++) {
        double v = from_bits(rnd());
        if (!isfinite(v))
            continue;
        check_value(v, i % 32 == 0, &shorter);
        n++;
    }
    assert_true(n > 3900000);
    assert_int_equal(shorter, 0); /* powers of two are 1 in 2^52 of random bits */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_named_cases),  cmocka_unit_test(test_non_finite),
        cmocka_unit_test(test_log_helpers),  cmocka_unit_test(test_table_rows),
        cmocka_unit_test(test_powers),       cmocka_unit_test(test_subnormals),
        cmocka_unit_test(test_integers),     cmocka_unit_test(test_short_decimals),
        cmocka_unit_test(test_small_border), cmocka_unit_test(test_random_bits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
