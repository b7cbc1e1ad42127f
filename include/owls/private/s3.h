/*
 * private/s3.h - S3 internals for tests and tools (tests/integration/
 * awsprobe.c uses owls_s3_call() for a control-plane call that the daemon
 * never makes, to prove the IAM policy refuses it). Not for the daemon.
 */
#ifndef OWLS_PRIVATE_S3_H
#define OWLS_PRIVATE_S3_H

#include "owls/awserr.h"
#include "owls/http.h"
#include "owls/s3.h"

/* One signed S3 request with retries: method on bucket/key (key may be
 * NULL) with an encoded query (or NULL), a memory body (or NULL), extra
 * headers (borrowed). resp must be initialised; ae may be NULL. */
enum owls_err owls_s3_call(struct owls_s3 *s3, const char *op, const char *method,
                           const char *bucket, const char *key, const char *query,
                           const struct owls_http_header *headers, size_t nheaders,
                           const void *body, size_t body_len, struct owls_http_response *resp,
                           struct owls_awserr *ae, struct owls_errmsg *em);

/* The text of the first element called name in an XML document, or false. */
bool owls_s3_xml_text(const char *body, size_t len, const char *name, char *out, size_t cap);

#endif
