/*
 * private/sqs.h - the SQS response parsers, exposed (non-static) for the
 * unit tests and the fuzzers (tests/fuzz/fuzz_sqs_response.c). Inputs are
 * untrusted bytes: never crash, never read past len.
 */
#ifndef OWLS_PRIVATE_SQS_H
#define OWLS_PRIVATE_SQS_H

#include "owls/sqs.h"

/* A ReceiveMessage answer -> messages (MD5OfBody checked when present).
 * OWLS_EAWS with em on a malformed answer; *msgs NULL and *n 0 then. */
enum owls_err owls_sqs_parse_receive(const char *json, size_t len, struct owls_sqs_message **msgs,
                                     size_t *n, struct owls_errmsg *em);

/* A *Batch answer -> e[i].ok/code/message for entries with Id "<i>";
 * entries in neither list count as failed. */
enum owls_err owls_sqs_parse_batch(const char *json, size_t len, struct owls_sqs_batch_entry *e,
                                   size_t n, size_t *failed, struct owls_errmsg *em);

/* Lowercase hex MD5 of p[0..n) into out (33 bytes). */
void owls_sqs_md5_hex(const void *p, size_t n, char out[33]);

#endif
