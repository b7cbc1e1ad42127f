/*
 * private/dtoa.h - shortest round-trip double -> decimal text (Schubfach),
 * for the q4 layer's number output (owls_num_format() in numparse.h is the
 * public door; Parquet values printed into the CSV artifacts go through it).
 *
 * owls_dtoa_shortest() finds the decimal sig * 10^exp with the fewest
 * significant digits that strtod() reads back as exactly v (the closest to v
 * of those, ties to an even last digit). owls_dtoa_format() prints it in the
 * SPEC section 3 number grammar: plain ("0.1", "-1.5", "123456", "0.000123")
 * for decimal exponents -4..16 (like %.17g), also -6..-5 when that is no
 * longer than %.17g would be ("0.00001"), exponent form otherwise
 * ("1e-300", "1.7976931348623157e308"); never longer than %.17g, at most 24
 * characters. Pure functions of v over constant tables: thread-safe and
 * deterministic on every machine (integer arithmetic only).
 */
#ifndef OWLS_PRIVATE_DTOA_H
#define OWLS_PRIVATE_DTOA_H

#include <stddef.h>
#include <stdint.h>

/* Output buffer size of owls_dtoa_format() (text and its NUL). */
#define OWLS_DTOA_BUFSZ 32

/* |v| = sig * 10^exp with sig > 0 and no trailing zero digits in sig. */
struct owls_dtoa_dec {
    uint64_t sig;
    int exp;
};

/* The shortest decimal of |v|; v must be finite and non-zero (else the
 * result is meaningless, but nothing is read out of bounds). */
struct owls_dtoa_dec owls_dtoa_shortest(double v);

/* Write v's text and a NUL into out; returns the length (<= 24). Zero prints
 * as "0" or "-0". Non-finite v (outside the contract of the callers) prints
 * "nan", "inf" or "-inf", which are not in the number grammar. */
size_t owls_dtoa_format(double v, char out[OWLS_DTOA_BUFSZ]);

#ifdef OWLS_UNIT_TEST
/* Table of 10^e (e = -292..324) scaled into [2^125, 2^126) and rounded up,
 * as {high 63 bits, low 63 bits}; row e + 292. */
extern const uint64_t owls_dtoa_pow10_g[617][2];
/* floor(log10(2^q)), floor(log10(3/4 * 2^q)), floor(log2(10^e)) for the
 * exponents of doubles (|q| <= 1100, |e| <= 350). */
int owls_dtoa_flog10_pow2(int q);
int owls_dtoa_flog10_3q_pow2(int q);
int owls_dtoa_flog2_pow10(int e);
#endif

#endif
