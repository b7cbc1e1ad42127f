/*
 * endpoint.h - where AWS requests go: the AWS layer's options and the URLs,
 * Host headers and signed paths of S3 and SQS requests.
 *
 * The AWS layer knows nothing about the daemon's configuration file: the
 * config module (and the CLI) fill a struct owls_aws_opts, applying the
 * AWS_ENDPOINT_URL* / AWS_REGION environment precedence themselves.
 *
 * Everything here is a pure function of its arguments: thread-safe.
 */
#ifndef OWLS_ENDPOINT_H
#define OWLS_ENDPOINT_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "owls/err.h"

enum owls_s3_addressing {
    OWLS_S3_ADDR_AUTO = 0, /* virtual-hosted on real AWS for DNS-safe names without
                              dots; path-style for custom endpoints and dotted names */
    OWLS_S3_ADDR_PATH,     /* https://host/bucket/key */
    OWLS_S3_ADDR_VIRTUAL,  /* https://bucket.host/key */
};

struct owls_retry_hooks; /* retry.h: injectable random/sleep for tests */

/* Options of the AWS layer. Caller-filled; every pointer is borrowed only for
 * the duration of the *_new() call that takes it (the clients copy it). */
struct owls_aws_opts {
    const char *region;       /* required, e.g. "us-east-1" */
    const char *s3_endpoint;  /* NULL or "" = https://s3.<region>.amazonaws.com */
    const char *sqs_endpoint; /* NULL or "" = the queue URL's scheme://host */
    enum owls_s3_addressing s3_addressing;
    const char *ca_bundle;   /* PEM file; NULL or "" = $AWS_CA_BUNDLE, else the system's */
    long connect_timeout_ms; /* 0 = 3000 */
    long low_speed_limit;    /* bytes/s below which a transfer is stalled; 0 = 1 */
    long low_speed_time_s;   /* ... for this long: abandon it; 0 = 8. libcurl averages
                                the speed over ~5 s, so a stall is detected after
                                8..13 s (SPEC: well under 25) */
    int max_attempts;        /* 0 = 3 (AWS "standard" retry mode) */
    const struct owls_retry_hooks *retry_hooks; /* NULL = real random and sleep */
};

#define OWLS_DEFAULT_CONNECT_TIMEOUT_MS 3000L
#define OWLS_DEFAULT_LOW_SPEED_LIMIT    1L
#define OWLS_DEFAULT_LOW_SPEED_TIME_S   8L
#define OWLS_DEFAULT_MAX_ATTEMPTS       3

/* A parsed endpoint URL "scheme://host[:port][/base]". */
struct owls_endpoint {
    bool https;
    char host[256];      /* lowercased host, without port, IPv6 without brackets */
    char authority[272]; /* the Host header: host[:port], port only when not default */
    int port;            /* explicit or default (80/443) */
    char base[256];      /* path prefix without trailing '/', "" for none */
};

/* Parse an http(s) endpoint URL. OWLS_ECONFIG with em on anything else
 * (other schemes, user info, query, fragment, empty host). */
enum owls_err owls_endpoint_parse(const char *url, struct owls_endpoint *out,
                                  struct owls_errmsg *em);

/* The default endpoint of service ("s3", "sqs") in region into out. */
enum owls_err owls_endpoint_default(const char *service, const char *region,
                                    struct owls_endpoint *out, struct owls_errmsg *em);

/* True when bucket may be used as a DNS label for virtual-hosted addressing
 * (3..63 of [a-z0-9.-], alnum first and last, no "..", not an IPv4 address).
 * Dotted names are DNS-compatible but break TLS wildcards: see
 * owls_s3_use_virtual(). */
bool owls_s3_bucket_dns_ok(const char *bucket);

/* Whether a request to bucket uses virtual-hosted addressing under the given
 * mode; custom says the endpoint was configured (not the AWS default). */
bool owls_s3_use_virtual(enum owls_s3_addressing mode, bool custom, bool https, const char *bucket);

/* An S3 request target. All strings owned; owls_s3_target_cleanup() frees. */
struct owls_s3_target {
    char *url;  /* full URL including the query */
    char *host; /* Host header value (signed) */
    char *path; /* wire path, percent-encoded once (what is signed for S3) */
};

/* Build the target of an S3 request for bucket and key (key may be NULL or ""
 * for a bucket-level request), with query (already encoded, without '?',
 * NULL for none). The key is URI-encoded once with owls_uri_encode(), '/'
 * kept. OWLS_ECONFIG with em for an invalid bucket name under virtual mode. */
enum owls_err owls_s3_target_build(const struct owls_endpoint *ep, bool custom,
                                   enum owls_s3_addressing mode, const char *bucket,
                                   const char *key, const char *query, struct owls_s3_target *out,
                                   struct owls_errmsg *em);
void owls_s3_target_cleanup(struct owls_s3_target *t);

/*
 * Signing glue between the retry loop and the signer: a struct
 * owls_aws_signer describes one request; owls_endpoint_sign() is an
 * owls_retry_prepare_fn (retry.h) that fetches the current credentials,
 * signs the request for the attempt's time (the client's skew-corrected
 * clock) and hands X-Amz-Date, Authorization and X-Amz-Security-Token to the
 * attempt; owls_endpoint_invalidate() is the matching owls_retry_invalidate_fn.
 * Both take a struct owls_aws_signer *; with creds NULL (tests against a
 * fault server) requests go out unsigned and there is nothing to invalidate.
 * Everything in the struct is borrowed. The secret never leaves this call.
 */
struct owls_creds_provider;
struct owls_http_header;
struct owls_retry_extra;

struct owls_aws_signer {
    struct owls_creds_provider *creds;
    const char *service; /* "s3", "sqs" */
    const char *region;
    const char *method;
    const char *path;                       /* as sent */
    const char *query;                      /* as sent, NULL = none */
    const struct owls_http_header *headers; /* sent and signed; Host included */
    size_t nheaders;
    const char *payload_hash; /* lowercase hex SHA-256 of the body */
};

enum owls_err owls_endpoint_sign(void *signer, int attempt, time_t now, struct owls_retry_extra *x,
                                 struct owls_errmsg *em);
void owls_endpoint_invalidate(void *signer);

#endif
