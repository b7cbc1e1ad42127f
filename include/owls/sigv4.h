/*
 * sigv4.h - AWS Signature Version 4 (header and presigned-query signing).
 *
 * The signer is a pure function of its input: no clock, no I/O, no globals
 * except the derived-key cache (per access key, day, region and service;
 * mutex-protected, cleansed on owls_sigv4_cache_clear()). Stage-by-stage
 * results (canonical request, string to sign, signature) are exposed so the
 * AWS test suite can check each one.
 *
 * Thread-safe.
 */
#ifndef OWLS_SIGV4_H
#define OWLS_SIGV4_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "owls/err.h"

#define OWLS_UNSIGNED_PAYLOAD "UNSIGNED-PAYLOAD"

/* Secrets: live only here; owls_creds_cleanup() cleanses them. */
struct owls_creds {
    char *access_key_id;
    char *secret_access_key;
    char *session_token; /* NULL when none */
    time_t expiration;   /* 0 = does not expire */
};

/* Cleanse and free the strings of c (c itself is the caller's); NULL is fine. */
void owls_creds_cleanup(struct owls_creds *c);
/* Deep copy; dst is overwritten (not cleaned up first). Fatal on OOM. */
void owls_creds_copy(struct owls_creds *dst, const struct owls_creds *src);

struct owls_sigv4_header {
    const char *name; /* any case; lowercased for signing */
    const char *value;
};

enum owls_sigv4_where {
    OWLS_SIGV4_IN_HEADER, /* Authorization header */
    OWLS_SIGV4_IN_QUERY,  /* presigned URL: X-Amz-* query parameters */
};

struct owls_sigv4_opts {
    const char *method; /* "GET", "PUT", "POST", ... */
    const char *path;   /* as it goes on the wire (already percent-encoded) */
    const char *query;  /* as it goes on the wire, without '?'; NULL or "" = none */
    const struct owls_sigv4_header *headers; /* to sign; must include host */
    size_t nheaders;
    const char *payload_hash; /* lowercase hex SHA-256 of the body, or
                                 OWLS_UNSIGNED_PAYLOAD */
    const char *region;
    const char *service; /* "s3", "sqs", ... */
    time_t now;          /* signing time (UTC seconds) */
    enum owls_sigv4_where where;
    long expires; /* IN_QUERY: X-Amz-Expires seconds */
    /* S3 (service "s3") uses the path as sent, encoded once and never
     * normalized; every other service encodes it a second time and removes
     * dot segments. Chosen from the service, never from the host name;
     * set force_uri_rules to override for tests. */
    bool force_uri_rules;
    bool double_encode;  /* with force_uri_rules */
    bool normalize_path; /* with force_uri_rules */
    /* Sign without the session token, to be added after signing (a few
     * services, e.g. IoT, want that). Normally false: the token is signed
     * (header x-amz-security-token, or X-Amz-Security-Token in the query). */
    bool omit_session_token;
};

/*
 * What to add to the request. Caller frees with owls_sigv4_result_cleanup().
 *
 * Header mode: send "X-Amz-Date: <amz_date>", "Authorization: <authorization>"
 * and, when creds->session_token != NULL, "X-Amz-Security-Token: <token>"
 * (signed unless omit_session_token). The signer adds x-amz-date and
 * x-amz-security-token to the signed headers itself and ignores those names,
 * and authorization, in opts->headers. Sign x-amz-content-sha256 yourself by
 * listing it in opts->headers: S3 requires it, so for service "s3" in header
 * mode the signer refuses a request without it.
 *
 * Query mode: send the path with "?" and <query>: the caller's query as given,
 * then X-Amz-Algorithm, -Credential, -Date, -SignedHeaders, -Expires,
 * [-Security-Token,] -Signature. authorization is NULL.
 *
 * canonical_request (header mode) and query (query mode) hold the session
 * token when there is one: log neither; the cleanup cleanses them.
 */
struct owls_sigv4_result {
    char amz_date[17];       /* "20150830T123600Z": send as X-Amz-Date (header mode) */
    char *authorization;     /* header mode: the Authorization header value */
    char *query;             /* query mode: the full query string to send (with X-Amz-*) */
    char *canonical_request; /* for tests and debug logs (no secrets in it) */
    char *string_to_sign;
    char signature[65];
};

/* Sign; OWLS_EINVAL-like failures (missing host header, bad input) return
 * OWLS_EINTERNAL with em filled; an OpenSSL failure OWLS_ECRYPTO. creds, opts
 * and the strings they point to are borrowed. Never logs; the result holds
 * neither the secret key nor the signing key. On error *out is left empty
 * (safe to clean up). Thread-safe. */
enum owls_err owls_sigv4_sign(const struct owls_creds *creds, const struct owls_sigv4_opts *opts,
                              struct owls_sigv4_result *out, struct owls_errmsg *em);
void owls_sigv4_result_cleanup(struct owls_sigv4_result *r);

/* RFC 3986 percent-encoding of s[0..n) (unreserved A-Z a-z 0-9 - . _ ~ kept,
 * every other byte %XX with uppercase hex, so space is %20 and '+' is %2B);
 * '/' kept when keep_slash. Caller frees with free(). Thread-safe. Used for
 * S3 keys ("/" + owls_uri_encode(key, len, true) is the path to send and
 * sign) and query values. */
char *owls_uri_encode(const char *s, size_t n, bool keep_slash);

/* Forget every cached signing key (cleansed). Thread-safe. */
void owls_sigv4_cache_clear(void);

#endif
