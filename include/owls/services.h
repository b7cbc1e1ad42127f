/*
 * services.h - the AWS clients one process needs, opened from its
 * configuration: the HTTP transport, the credentials chain, S3 and SQS.
 * Shared by owls-q4d and the owls-q4 submit/results commands.
 *
 * Open once before starting threads (libcurl's global init happens here);
 * the clients are thread-safe; close after every thread has stopped.
 */
#ifndef OWLS_SERVICES_H
#define OWLS_SERVICES_H

#include "owls/config.h"
#include "owls/creds.h"
#include "owls/err.h"
#include "owls/http.h"
#include "owls/s3.h"
#include "owls/sqs.h"

struct owls_services {
    struct owls_http *http;
    struct owls_creds_provider *creds;
    struct owls_s3 *s3;
    struct owls_sqs *sqs;
};

/* Map cfg onto the AWS clients' options and open them. OWLS_ECONFIG with em
 * for options the clients refuse. On failure nothing is left open. */
enum owls_err owls_services_open(const struct owls_config *cfg, struct owls_services *out,
                                 struct owls_errmsg *em);
void owls_services_close(struct owls_services *s);

#endif
