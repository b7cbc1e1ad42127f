/*
 * retry.h - AWS "standard" retry mode, and the loop that sends one AWS
 * request with it.
 *
 * Policy (the AWS SDKs' standard mode): at most max_attempts attempts
 * (default 3); before retry n (n = attempts made so far) sleep a uniformly
 * random fraction of min(2^(n-1) s, 20 s) ("full jitter"); a retry-token
 * bucket per client (500 tokens; a retry costs 5, a retry after a timeout
 * 10; a success returns the cost of the retry that led to it, or 1 token
 * when no retry was needed, never above 500; an empty bucket stops
 * retrying). Throttling, 5xx, connection errors and timeouts are retried,
 * 4xx never. A clock-skew answer sets the client's clock offset from the
 * answer's Date header and is retried once at once; ExpiredToken invalidates
 * the credentials and is retried once at once (neither takes tokens).
 *
 * A struct owls_retry is shared by all threads of a client: thread-safe.
 */
#ifndef OWLS_RETRY_H
#define OWLS_RETRY_H

#include <stdatomic.h>
#include <stdbool.h>
#include <time.h>

#include "owls/awserr.h"
#include "owls/err.h"
#include "owls/http.h"

#define OWLS_RETRY_BUCKET_MAX    500
#define OWLS_RETRY_COST          5
#define OWLS_RETRY_TIMEOUT_COST  10
#define OWLS_RETRY_SUCCESS_BONUS 1
#define OWLS_RETRY_BASE_MS       1000L
#define OWLS_RETRY_MAX_BACKOFF   20000L

/* Injectable for tests; any member may be NULL (= the real thing). */
typedef double (*owls_retry_rand_fn)(void *arg); /* uniform in [0, 1) */
/* Sleep ms; return false to stop retrying (cancelled). */
typedef bool (*owls_retry_sleep_fn)(void *arg, long ms);
typedef time_t (*owls_retry_clock_fn)(void *arg); /* local wall clock, UTC seconds */

struct owls_retry_hooks {
    owls_retry_rand_fn rand_fn;
    owls_retry_sleep_fn sleep_fn;
    owls_retry_clock_fn clock_fn;
    void *arg;
};

struct owls_retry;

/* max_attempts <= 0 means 3; hooks may be NULL (copied). Caller frees. */
struct owls_retry *owls_retry_new(int max_attempts, const struct owls_retry_hooks *hooks);
void owls_retry_free(struct owls_retry *r);

int owls_retry_max_attempts(const struct owls_retry *r);
/* Take the tokens a retry after cls costs; false (nothing taken) when the
 * bucket holds too few. *cost gets what was taken. */
bool owls_retry_acquire(struct owls_retry *r, enum owls_awserr_class cls, int *cost);
/* A request succeeded: refund cost (the tokens of the retry that led to it)
 * or, when cost is 0, add OWLS_RETRY_SUCCESS_BONUS; capped at the maximum. */
void owls_retry_on_success(struct owls_retry *r, int cost);
int owls_retry_tokens(struct owls_retry *r);
/* Delay before the retry that follows failed attempt number attempt (1-based). */
long owls_retry_delay_ms(struct owls_retry *r, int attempt);
/* The signing clock: local clock + the offset learnt from clock-skew answers. */
time_t owls_retry_now(struct owls_retry *r);
long long owls_retry_clock_offset(struct owls_retry *r);
void owls_retry_set_clock_offset(struct owls_retry *r, long long seconds);

/* Extra headers one attempt adds (signature, date, token, Range...). The
 * retry loop owns the strings (it cleanses and frees them after the attempt). */
#define OWLS_RETRY_MAX_EXTRA 8
struct owls_retry_extra {
    char *name[OWLS_RETRY_MAX_EXTRA];
    char *value[OWLS_RETRY_MAX_EXTRA];
    size_t n;
};
/* Add a header (both strings copied). */
void owls_retry_extra_add(struct owls_retry_extra *x, const char *name, const char *value);

/* Called before every attempt with its number (1-based) and the signing
 * time; adds headers to x (e.g. sign). An error stops the loop. */
typedef enum owls_err (*owls_retry_prepare_fn)(void *arg, int attempt, time_t now,
                                               struct owls_retry_extra *x, struct owls_errmsg *em);
/* Called on an ExpiredToken answer before the one retry it gets. */
typedef void (*owls_retry_invalidate_fn)(void *arg);

struct owls_retry_call {
    const char *what;              /* for messages: "S3 GetObject owls-q4-archive/k" */
    struct owls_http_request http; /* the request; prepare() adds headers per attempt */
    owls_retry_prepare_fn prepare; /* may be NULL (unsigned requests: tests) */
    owls_retry_invalidate_fn invalidate;
    void *arg;
    bool error_in_200; /* a 200 whose body is <Error> is an error
                          (S3 CompleteMultipartUpload) */
};

/*
 * Send call->http with retries. OWLS_OK when a 2xx answer arrived (resp
 * holds it). Otherwise ae (may be NULL) holds the last AWS error (status 0
 * for transport failures), em says what/where, and the code is
 * owls_awserr_to_err() of the last failure (OWLS_ENOTFOUND, OWLS_EAUTH,
 * OWLS_ETRANSIENT, OWLS_EAWS), or the body callback's code,
 * OWLS_EINPUT_TOO_LARGE, or OWLS_ETRANSIENT when cancelled. *attempts (may
 * be NULL) gets the number of attempts made. Thread-safe.
 */
enum owls_err owls_retry_send(struct owls_retry *r, struct owls_http *h,
                              const struct owls_retry_call *call, struct owls_http_response *resp,
                              struct owls_awserr *ae, int *attempts, struct owls_errmsg *em);

#endif
