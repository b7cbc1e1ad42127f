/*
 * Shortest round-trip formatting (src/q4/dtoa.c) against strtod(): the input
 * is read as little-endian 8-byte double bit patterns (a short tail is padded
 * with zero bytes). For every finite one the text must be in the number
 * grammar and read back as the very same bits, be no longer than %.17g (and
 * than 24 characters), and be shortest as far as printf can tell: one digit
 * fewer, correctly rounded, must not read back. Non-finite values print as
 * "nan", "inf", "-inf".
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "owls/numparse.h"
#include "owls/private/dtoa.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Significant digits of a text in the grammar ("-0.00120" has 2, "100" 1). */
static int sig_digits(const char *s)
{
    int n = 0, lead = 1, zeros = 0;
    for (; *s && *s != 'e'; s++) {
        if (*s < '0' || *s > '9')
            continue;
        if (*s == '0' && lead)
            continue;
        lead = 0;
        if (*s == '0') {
            zeros++;
        } else {
            n += zeros + 1;
            zeros = 0;
        }
    }
    return n;
}

static void check(double v)
{
    char out[OWLS_DTOA_BUFSZ], ref[40];
    size_t n = owls_dtoa_format(v, out);
    double back = 0;

    if (n != strlen(out))
        abort();
    if (!isfinite(v)) {
        const char *want = isnan(v) ? "nan" : v < 0 ? "-inf" : "inf";
        if (strcmp(out, want) != 0)
            abort();
        return;
    }
    if (n > 24 || !owls_num_parse_ref(out, n, &back) || memcmp(&back, &v, sizeof(v)) != 0)
        abort();
    if (n > (size_t)snprintf(ref, sizeof(ref), "%.17g", v))
        abort();
    int nd = sig_digits(out);
    if (v != 0 && nd > 1) {
        snprintf(ref, sizeof(ref), "%.*e", nd - 2, v); /* nd - 1 digits */
        if (strtod(ref, NULL) == v)
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    for (size_t i = 0; i < size; i += 8) {
        uint8_t b[8] = {0};
        uint64_t bits = 0;
        double v;
        memcpy(b, data + i, size - i < 8 ? size - i : 8);
        for (int j = 7; j >= 0; j--)
            bits = bits << 8 | b[j];
        memcpy(&v, &bits, sizeof(v));
        check(v);
    }
    return 0;
}
