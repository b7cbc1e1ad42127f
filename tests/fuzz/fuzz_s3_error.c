/*
 * fuzz_s3_error.c - the AWS error parsers (S3's XML, the query protocol's
 * <ErrorResponse>, JSON __type) and the S3 XML text extractor on untrusted
 * bytes: no crash, no read past the input, no leak; whatever they return
 * is NUL-terminated and free of control characters.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "owls/awserr.h"
#include "owls/private/s3.h"

static void check_clean(const char *s, size_t cap)
{
    size_t n = strnlen(s, cap);
    if (n == cap)
        abort(); /* not terminated */
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20)
            abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct owls_awserr e;
    char text[256];
    /* a copy without a terminator, so ASan sees any overread */
    char *p = malloc(size ? size : 1);

    if (size)
        memcpy(p, data, size);
    owls_awserr_from_response(size ? 400 + (long)(data[0] % 200) : 500, p, size, NULL, &e);
    check_clean(e.code, sizeof(e.code));
    check_clean(e.message, sizeof(e.message));
    check_clean(e.request_id, sizeof(e.request_id));
    (void)owls_awserr_classify(&e, size > 1 ? (long)data[1] * 10 : -1);
    (void)owls_awserr_to_err(&e, owls_awserr_classify(&e, -1));
    memset(&e, 0, sizeof(e));
    (void)owls_awserr_parse_xml(p, size, &e);
    check_clean(e.code, sizeof(e.code));
    (void)owls_s3_xml_text(p, size, "UploadId", text, sizeof(text));
    if (strnlen(text, sizeof(text)) == sizeof(text))
        abort();
    free(p);
    return 0;
}
