/*
 * s3.h - the S3 data-plane calls of owls-q4d: GetObject (streamed or into
 * memory, optional Range), HeadObject, PutObject with integrity headers,
 * and multipart upload for bodies above 8 MiB.
 *
 * One struct owls_s3 serves every thread (thread-safe): it holds the
 * options, the retry state (token bucket, clock offset) and borrows the
 * transport and the credentials provider. Every call is signed (SigV4,
 * service "s3", x-amz-content-sha256 = the payload's hash) and retried in
 * AWS standard mode. Errors: OWLS_ENOTFOUND (404 NoSuchKey/NoSuchBucket),
 * OWLS_EAUTH (401/403: never "not found", see SPEC 1), OWLS_ETRANSIENT
 * (5xx, throttling, network, after the retries), OWLS_EAWS (other 4xx),
 * OWLS_EINPUT_TOO_LARGE (max_bytes); em carries S3's code and message.
 */
#ifndef OWLS_S3_H
#define OWLS_S3_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "owls/awserr.h"
#include "owls/endpoint.h"
#include "owls/err.h"
#include "owls/http.h"

struct owls_s3;
struct owls_creds_provider;

/* opts is copied; http and creds are borrowed and must outlive the client.
 * OWLS_ECONFIG with em for a bad region or endpoint URL. Caller frees. */
enum owls_err owls_s3_new(const struct owls_aws_opts *opts, struct owls_http *http,
                          struct owls_creds_provider *creds, struct owls_s3 **out,
                          struct owls_errmsg *em);
void owls_s3_free(struct owls_s3 *s3);

/* Object metadata from HeadObject / GetObject. */
struct owls_s3_object {
    uint64_t size;   /* whole object (from Content-Range on ranged GETs) */
    uint64_t length; /* bytes in this answer (GET) */
    char etag[128];  /* without the quotes */
    char content_type[128];
    char last_modified[64]; /* as S3 sent it */
};

struct owls_s3_get_opts {
    bool range; /* bytes range_first..range_last (inclusive) */
    uint64_t range_first;
    uint64_t range_last;  /* UINT64_MAX = to the end */
    uint64_t max_bytes;   /* 0 = no limit; a larger answer -> OWLS_EINPUT_TOO_LARGE */
    const char *if_match; /* ETag (without quotes) the object must still have, or NULL */
    const atomic_bool *cancel;
    struct owls_awserr *error; /* NULL, or caller storage for the last AWS error answer
                                  (e.g. to tell NoSuchKey from NoSuchBucket) */
};

/*
 * GetObject, the body handed to on_body(arg, ...) as it arrives. A transfer
 * that breaks after some bytes is resumed on the retry with a Range from
 * the first missing byte and If-Match on the ETag, so on_body sees every
 * byte exactly once. An answer to a Range that does not start at the byte
 * asked for (a server may ignore Range) fails with OWLS_EAWS. o and info
 * may be NULL.
 */
enum owls_err owls_s3_get(struct owls_s3 *s3, const char *bucket, const char *key,
                          const struct owls_s3_get_opts *o, owls_http_body_fn on_body, void *arg,
                          struct owls_s3_object *info, struct owls_errmsg *em);

/* GetObject into memory: *data (malloc'd, NUL-terminated, caller frees) and
 * *len. o->max_bytes bounds the memory taken. */
enum owls_err owls_s3_get_buf(struct owls_s3 *s3, const char *bucket, const char *key,
                              const struct owls_s3_get_opts *o, char **data, size_t *len,
                              struct owls_s3_object *info, struct owls_errmsg *em);

/* HeadObject. 404 -> OWLS_ENOTFOUND, 403 -> OWLS_EAUTH. */
enum owls_err owls_s3_head(struct owls_s3 *s3, const char *bucket, const char *key,
                           struct owls_s3_object *info, struct owls_errmsg *em);

#define OWLS_S3_MULTIPART_THRESHOLD (8u * 1024 * 1024)
#define OWLS_S3_PART_SIZE           (8u * 1024 * 1024)
#define OWLS_S3_MIN_PART_SIZE       (5u * 1024 * 1024)

struct owls_s3_put_opts {
    const char *content_type; /* NULL = application/octet-stream */
    uint64_t part_size;       /* 0 = 8 MiB; at least 5 MiB */
    uint64_t threshold;       /* multipart above this; 0 = 8 MiB */
    const atomic_bool *cancel;
    /* The whole body's SHA-256 as 64 hex digits when the caller already has
     * it (e.g. from writing the file): a single PutObject sends it instead of
     * reading and hashing the body again, and S3 checks the body against it.
     * NULL = hash here. Multipart uploads hash every part regardless. */
    const char *sha256_hex;
};

struct owls_s3_put_result {
    char etag[128]; /* without quotes; "<hex>-<parts>" after a multipart upload */
    unsigned parts; /* 0 = single PutObject */
};

/*
 * PutObject of len bytes from memory. Sent with x-amz-content-sha256 (the
 * signed payload hash, which S3 verifies) and x-amz-checksum-sha256; above
 * the threshold a multipart upload (parts with Content-MD5), aborted on any
 * failure. o and res may be NULL.
 */
enum owls_err owls_s3_put(struct owls_s3 *s3, const char *bucket, const char *key, const void *data,
                          size_t len, const struct owls_s3_put_opts *o,
                          struct owls_s3_put_result *res, struct owls_errmsg *em);

/* The same from len bytes of fd at offset off (read with pread; the fd's
 * position is not used). Memory use is bounded by the hashing buffer. */
enum owls_err owls_s3_put_fd(struct owls_s3 *s3, const char *bucket, const char *key, int fd,
                             uint64_t off, uint64_t len, const struct owls_s3_put_opts *o,
                             struct owls_s3_put_result *res, struct owls_errmsg *em);

#endif
