/*
 * DESIGN: numbers are the hot path of CSV reading (8 million of them in the
 * benchmark), and strtod() costs ~100 ns each. Nearly all real fields are
 * short decimals ("-1.234567"): their significand fits in 53 bits and their
 * power of ten is exact in a double, so one IEEE multiplication or division
 * gives the correctly rounded result (Clinger 1990) — exactly what strtod()
 * returns. Anything else (long significands, big exponents, subnormals) goes
 * to strtod(), the authority. The grammar is checked twice, independently:
 * by the fast scanner and by grammar_ok() for the reference path, and the
 * fuzzer compares both paths bit for bit.
 */
#include <endian.h>
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "owls/numparse.h"
#include "owls/private/dtoa.h"
#include "owls/util.h"

static const double s_pow10[] = {
    1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
    1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
};

#define MAX_EXACT_MANT (UINT64_C(1) << 53)
#define EXP_CLAMP      100000 /* beyond any double; keeps the exponent from overflowing */

/* Where a field can end in a CSV line: the delimiter or the line end. */
static inline bool is_field_end(char c, char delim)
{
    return c == delim || c == '\n' || c == '\r';
}

static inline int is_digit(char c)
{
    return (unsigned char)(c - '0') < 10;
}

/* strtod() on s[0..n) (already known to be in the grammar, spaces trimmed). */
static bool slow_parse(const char *s, size_t n, double *out)
{
    char small[64];
    char *tmp = n < sizeof(small) ? small : owls_xmalloc(n + 1);
    char *end = NULL;
    double v;
    bool ok;

    memcpy(tmp, s, n);
    tmp[n] = '\0';
    errno = 0;
    v = strtod(tmp, &end);
    /* ERANGE with a finite result is underflow: still a number. */
    ok = end == tmp + n && isfinite(v);
    if (tmp != small)
        free(tmp);
    if (ok)
        *out = v;
    return ok;
}

/* Any number in the grammar: spaces, leading zeros, long significands. */
static bool parse_general(const char *s, size_t n, double *out)
{
    const char *p = s, *end = s + n;
    const char *num;
    uint64_t mant = 0;
    int sig = 0;       /* significant digits taken into mant */
    bool lost = false; /* significant digits beyond 19 */
    int exp10 = 0;
    bool digits = false, neg = false;

    while (p < end && *p == ' ')
        p++;
    while (end > p && end[-1] == ' ')
        end--;
    num = p;
    if (p < end && (*p == '+' || *p == '-'))
        neg = *p++ == '-';
    for (; p < end && is_digit(*p); p++) {
        digits = true;
        if (sig < 19) {
            mant = mant * 10 + (uint64_t)(*p - '0');
            sig += mant != 0;
        } else {
            exp10++;
            lost |= *p != '0';
        }
    }
    if (p < end && *p == '.') {
        for (p++; p < end && is_digit(*p); p++) {
            digits = true;
            if (sig < 19) {
                mant = mant * 10 + (uint64_t)(*p - '0');
                sig += mant != 0;
                exp10--;
            } else {
                lost |= *p != '0';
            }
        }
    }
    if (!digits)
        return false;
    if (p < end && (*p == 'e' || *p == 'E')) {
        bool eneg = false;
        int e = 0;
        p++;
        if (p < end && (*p == '+' || *p == '-'))
            eneg = *p++ == '-';
        if (p == end || !is_digit(*p))
            return false;
        for (; p < end && is_digit(*p); p++)
            if (e < EXP_CLAMP)
                e = e * 10 + (*p - '0');
        exp10 += eneg ? -e : e;
    }
    if (p != end)
        return false;
    if (!lost && mant <= MAX_EXACT_MANT && exp10 >= -22 && exp10 <= 22) {
        double v = (double)mant;
        v = exp10 < 0 ? v / s_pow10[-exp10] : v * s_pow10[exp10];
        *out = neg ? -v : v;
        return true;
    }
    if (mant == 0 && !lost) {
        *out = neg ? -0.0 : 0.0;
        return true;
    }
    return slow_parse(num, (size_t)(end - num), out);
}

static const uint64_t s_pow10_u64[9] = {1,      10,      100,      1000,     10000,
                                        100000, 1000000, 10000000, 100000000};

/* -v when neg, without a branch: signs are random in real data. */
static inline double apply_sign(double v, bool neg)
{
    uint64_t bits;
    memcpy(&bits, &v, sizeof(bits));
    bits ^= (uint64_t)neg << 63;
    memcpy(&v, &bits, sizeof(bits));
    return v;
}

static inline uint64_t load8(const char *p)
{
    uint64_t w;
    memcpy(&w, p, 8);
    return le64toh(w);
}

/* SWAR helpers on 8 bytes read little-endian (first character lowest).
 * leading_digits: how many of the first characters are '0'..'9'. Borrows
 * and carries only travel towards later characters, so everything before
 * the first non-digit is exact. */
static inline unsigned leading_digits(uint64_t w)
{
    const uint64_t t = w - UINT64_C(0x3030303030303030);
    const uint64_t m = ((t + UINT64_C(0x7676767676767676)) | t) & UINT64_C(0x8080808080808080);
    return m ? (unsigned)__builtin_ctzll(m) / 8 : 8;
}

/* The value of the first k (1..7) digit characters of w. */
static inline uint64_t digits_value(uint64_t w, unsigned k)
{
    /* Move the k digits to the top bytes: the bytes shifted in are the
     * leading zeros of an eight-digit number. */
    uint64_t v = (w - UINT64_C(0x3030303030303030)) << (8 * (8 - k));
    v = v * 10 + (v >> 8); /* pairs: 10 * d[i] + d[i + 1] in every even byte */
    v = ((v & UINT64_C(0x000000FF000000FF)) * (100 + (UINT64_C(1000000) << 32)) +
         ((v >> 16) & UINT64_C(0x000000FF000000FF)) * (1 + (UINT64_C(10000) << 32))) >>
        32;
    return v;
}

const char *owls_num_scan_field(const char *p, const char *end, const char *limit, char delim,
                                double *out)
{
    const char *digits;
    uint64_t mant = 0;
    size_t nint, nfrac = 0;
    bool neg;

    /* Exactly the shape owls_num_parse() takes without help: the fuzzer
     * holds both to owls_num_parse_ref(). */
    if (p == end)
        return NULL;
    neg = *p == '-';
    p += *p == '-' || *p == '+';
    digits = p;
    if (p + 9 <= limit) {
        /* Up to 7 integer and 7 fraction digits, eight characters at a time. */
        unsigned k1 = leading_digits(load8(p)), k2 = 0;
        if (k1 < 8) {
            const char *q = p + k1;
            if (k1)
                mant = digits_value(load8(p), k1);
            if (q < end && *q == '.' && q + 9 <= limit) {
                k2 = leading_digits(load8(q + 1));
                if (k2 < 8) {
                    if (k2)
                        mant = mant * s_pow10_u64[k2] + digits_value(load8(q + 1), k2);
                    q += 1 + k2;
                }
            }
            if (k2 < 8 && q <= end && (q == end || *q != '.')) {
                if ((q != end && !is_field_end(*q, delim)) || k1 + k2 == 0)
                    return NULL;
                *out = apply_sign((double)mant / s_pow10[k2], neg);
                return q;
            }
        }
        mant = 0; /* longer than that: digit by digit */
    }
    while (p < end && is_digit(*p))
        mant = mant * 10 + (uint64_t)(*p++ - '0');
    nint = (size_t)(p - digits);
    if (p < end && *p == '.') {
        const char *f = ++p;
        while (p < end && is_digit(*p))
            mant = mant * 10 + (uint64_t)(*p++ - '0');
        nfrac = (size_t)(p - f);
    }
    if ((p != end && !is_field_end(*p, delim)) || nint + nfrac == 0 || nint + nfrac > 19 ||
        nfrac > 22 || mant > MAX_EXACT_MANT)
        return NULL;
    *out = apply_sign((double)mant / s_pow10[nfrac], neg);
    return p;
}

bool owls_num_parse(const char *s, size_t n, double *out)
{
    /* No owls_num_scan_field() first: the CSV reader calls this for the
     * fields that scanner has just refused, and parse_general() has the same
     * exact path for the short ones. */
    return parse_general(s, n, out);
}

/* The grammar alone, written as plainly as possible (the reference). */
static bool grammar_ok(const char *s, size_t n, size_t *b, size_t *e)
{
    size_t i = 0, j = n, k;
    size_t int_digits = 0, frac_digits = 0;

    while (i < j && s[i] == ' ')
        i++;
    while (j > i && s[j - 1] == ' ')
        j--;
    *b = i;
    *e = j;
    k = i;
    if (k < j && (s[k] == '+' || s[k] == '-'))
        k++;
    while (k < j && s[k] >= '0' && s[k] <= '9')
        k++, int_digits++;
    if (k < j && s[k] == '.') {
        k++;
        while (k < j && s[k] >= '0' && s[k] <= '9')
            k++, frac_digits++;
    }
    if (int_digits + frac_digits == 0)
        return false;
    if (k < j && (s[k] == 'e' || s[k] == 'E')) {
        size_t exp_digits = 0;
        k++;
        if (k < j && (s[k] == '+' || s[k] == '-'))
            k++;
        while (k < j && s[k] >= '0' && s[k] <= '9')
            k++, exp_digits++;
        if (exp_digits == 0)
            return false;
    }
    return k == j;
}

bool owls_num_parse_ref(const char *s, size_t n, double *out)
{
    size_t b, e;
    if (!grammar_ok(s, n, &b, &e))
        return false;
    return slow_parse(s + b, e - b, out);
}

size_t owls_num_format(double v, char out[32])
{
    /* Shortest round-trip digits (Schubfach, see dtoa.c): exact for every
     * finite double, no strtod() check needed; plain text for ordinary
     * magnitudes, exponent form for tiny and huge ones. */
    return owls_dtoa_format(v, out);
}
