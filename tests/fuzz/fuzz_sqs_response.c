/*
 * fuzz_sqs_response.c - the SQS answer parsers (ReceiveMessage, the batch
 * results) on untrusted bytes: no crash, no overread, no leak; on success
 * every message has its strings and a body of the length it claims.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "owls/private/sqs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct owls_sqs_message *m = NULL;
    struct owls_sqs_batch_entry e[OWLS_SQS_BATCH_MAX];
    struct owls_errmsg em;
    size_t n = 0, failed = 0;
    char *p = malloc(size ? size : 1);

    if (size)
        memcpy(p, data, size);
    if (owls_sqs_parse_receive(p, size, &m, &n, &em) == OWLS_OK) {
        for (size_t i = 0; i < n; i++) {
            if (m[i].message_id == NULL || m[i].receipt_handle == NULL || m[i].body == NULL ||
                m[i].body[m[i].body_len] != '\0' || m[i].receive_count < 0)
                abort();
        }
    } else if (m != NULL || n != 0) {
        abort();
    }
    owls_sqs_messages_free(m, n);
    memset(e, 0, sizeof(e));
    for (size_t i = 0; i < OWLS_SQS_BATCH_MAX; i++)
        e[i].receipt_handle = "rh";
    if (owls_sqs_parse_batch(p, size, e, OWLS_SQS_BATCH_MAX, &failed, &em) == OWLS_OK) {
        size_t nf = 0;
        for (size_t i = 0; i < OWLS_SQS_BATCH_MAX; i++) {
            if (strnlen(e[i].code, sizeof(e[i].code)) == sizeof(e[i].code))
                abort();
            nf += !e[i].ok;
        }
        if (nf != failed)
            abort();
    }
    free(p);
    return 0;
}
