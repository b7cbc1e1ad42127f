/*
 * numparse.h - the number grammar of SPEC section 3 and a fast parser for it.
 *
 * A number is: optional U+0020 spaces, optional sign, digits with an optional
 * fraction ("1.", "1.5", ".5"), optional exponent ([eE][+-]?digits), optional
 * U+0020 spaces; its value must be finite (1e999 is not a number; values that
 * underflow to zero or a subnormal are). nan, inf and hex floats are not
 * numbers.
 *
 * strtod() is the authority for the value: owls_num_parse() takes an exact
 * shortcut when the decimal significand and power of ten are both exactly
 * representable (Clinger's fast path) and asks strtod() otherwise;
 * owls_num_parse_ref() always asks strtod(). tests/fuzz/fuzz_numparse.c
 * proves the two agree bit for bit. Thread-safe; the C locale's decimal
 * point is assumed (the programs never call setlocale()).
 */
#ifndef OWLS_NUMPARSE_H
#define OWLS_NUMPARSE_H

#include <stdbool.h>
#include <stddef.h>

/* Parse s[0..n) (need not be NUL-terminated); true and *out on a number. */
bool owls_num_parse(const char *s, size_t n, double *out);

/* The CSV reader's fused fast path: if the field starting at p (ending at
 * the first delim, LF or CR, or at end) is a plain "[+-]digits[.digits]" of
 * at most 19 digits, store its value and return a pointer to that
 * delimiter, LF or CR (or end); otherwise return NULL and let the caller use
 * owls_num_parse().
 * Bytes up to limit (>= end) may be read, 8 at a time; the byte at end, if
 * below limit, must not be a digit or '.'. */
const char *owls_num_scan_field(const char *p, const char *end, const char *limit, char delim,
                                double *out);

/* The same answer, computed by grammar check plus strtod() only. */
bool owls_num_parse_ref(const char *s, size_t n, double *out);

/* Shortest decimal text that strtod() reads back as exactly v ("nan", "inf"
 * and "-inf" for the others); out must hold 32 bytes; returns the length. */
size_t owls_num_format(double v, char out[32]);

#endif
