/*
 * awserr.h - AWS error answers: parsing (S3's XML, SQS's JSON, and the XML
 * that auth failures bring on JSON calls), classification for the retry
 * policy, and the mapping onto enum owls_err.
 *
 * Bodies are untrusted: the parsers never crash on junk and never read past
 * len (fuzzed: tests/fuzz/fuzz_s3_error.c). Thread-safe (libxml2 is
 * initialised once, see owls_awserr_init()).
 */
#ifndef OWLS_AWSERR_H
#define OWLS_AWSERR_H

#include <stdbool.h>
#include <stddef.h>

#include "owls/err.h"

/* One AWS error answer; caller storage, no heap. */
struct owls_awserr {
    long status;          /* HTTP status; 0 = no answer (transport error) */
    char code[128];       /* "NoSuchKey", "QueueDoesNotExist" (SQS prefix stripped) */
    char message[512];    /* AWS's message, control characters replaced */
    char request_id[128]; /* x-amz-request-id / RequestId, if any */
};

/* Call once before threads start (the clients' *_new() call it too);
 * idempotent and thread-safe (pthread_once). */
void owls_awserr_init(void);

/* Parse an XML error document: <Error><Code>..</Code><Message>..</Message>
 * <RequestId>..</RequestId></Error>, also wrapped in <ErrorResponse> (the
 * query protocol, SQS auth errors). Fills code/message/request_id, leaves
 * status alone. Returns false when body holds no error code. */
bool owls_awserr_parse_xml(const char *body, size_t len, struct owls_awserr *out);

/* Parse a JSON-protocol error: {"__type": "com.amazonaws.sqs#X", "message": ..}
 * ("Message" too); the namespace before '#' is stripped. Returns false when
 * body holds no __type/code. */
bool owls_awserr_parse_json(const char *body, size_t len, struct owls_awserr *out);

/* Fill out from an error answer: status, then the body as XML or JSON
 * (whichever it looks like), else a code derived from the status
 * ("NotFound", "Forbidden", "HTTP503"...). request_id: the value of the
 * x-amz-request-id / x-amzn-requestid header, or NULL. */
void owls_awserr_from_response(long status, const char *body, size_t len, const char *request_id,
                               struct owls_awserr *out);

/* What the retry policy makes of an outcome. */
enum owls_awserr_class {
    OWLS_AWSERR_OK = 0,
    OWLS_AWSERR_CLIENT,        /* 4xx: never retried */
    OWLS_AWSERR_THROTTLE,      /* SlowDown, Throttling, 429, ...: retried */
    OWLS_AWSERR_TRANSIENT,     /* 5xx, InternalError, RequestTimeout: retried */
    OWLS_AWSERR_CONNECT,       /* connection refused/reset, no answer: retried */
    OWLS_AWSERR_TIMEOUT,       /* transfer timed out or stalled: retried, costs more */
    OWLS_AWSERR_CLOCK_SKEW,    /* signature time too far from AWS's: fix clock, once */
    OWLS_AWSERR_EXPIRED_TOKEN, /* ExpiredToken: refresh credentials, once */
};

/* True for the throttling error codes of the AWS SDKs' standard mode. */
bool owls_awserr_is_throttle_code(const char *code);

/* Classify an HTTP answer with error e. skew_s is |server Date - local
 * clock| in seconds, or -1 when the answer had no usable Date header; a
 * signature mismatch with a skew over 4 minutes counts as clock skew. */
enum owls_awserr_class owls_awserr_classify(const struct owls_awserr *e, long skew_s);

/* The owls_err for a final (no longer retried) failure: 404 / NoSuchKey /
 * NoSuchBucket / QueueDoesNotExist -> OWLS_ENOTFOUND; 401, 403 and
 * ExpiredToken -> OWLS_EAUTH (a 403 is never "not found", see SPEC 1);
 * throttling, 5xx, connect and timeout -> OWLS_ETRANSIENT; other 4xx ->
 * OWLS_EAWS. */
enum owls_err owls_awserr_to_err(const struct owls_awserr *e, enum owls_awserr_class cls);

const char *owls_awserr_class_name(enum owls_awserr_class cls);

/* Parse an HTTP Date header (RFC 7231 IMF-fixdate, also RFC 850 and asctime
 * forms) into UTC seconds; -1 when unparsable. */
long long owls_awserr_parse_http_date(const char *s);

#endif
