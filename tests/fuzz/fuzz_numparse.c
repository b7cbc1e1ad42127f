/*
 * The number parser's fast paths against the reference (grammar + strtod):
 * the same accept/reject decision and the same double, bit for bit.
 * owls_num_scan_field is checked on the input read as one CSV line.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "owls/numparse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *buf = malloc(size + 16);
    double a = 0, b = 0;
    bool fa, fb;

    memcpy(buf, data, size);
    fa = owls_num_parse(buf, size, &a);
    fb = owls_num_parse_ref(buf, size, &b);
    if (fa != fb || (fa && memcmp(&a, &b, sizeof(a)) != 0))
        abort();
    if (fa) {
        char out[32];
        double c = 0;
        size_t n = owls_num_format(a, out);
        if (!owls_num_parse_ref(out, n, &c) || memcmp(&a, &c, sizeof(a)) != 0)
            abort();
    }
    /* As fields of a line ending in '\n' (the reader's contract), with the
     * 8-byte reads allowed up to the end of the allocation. */
    buf[size] = '\n';
    const char *end = buf + size, *p = buf;
    for (;;) {
        const char *comma = memchr(p, ',', (size_t)(end - p));
        const char *fe = comma ? comma : end;
        /* The scanner also stops at a line end. */
        for (const char *c = p; c < fe; c++)
            if (*c == '\n' || *c == '\r') {
                fe = c;
                break;
            }
        const char *q = owls_num_scan_field(p, end, buf + size + 1, ',', &a);
        if (q != NULL) {
            if (q != fe || !owls_num_parse_ref(p, (size_t)(fe - p), &b) ||
                memcmp(&a, &b, sizeof(a)) != 0)
                abort();
        }
        if (comma == NULL)
            break;
        p = comma + 1;
    }
    free(buf);
    return 0;
}
