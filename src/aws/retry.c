/*
 * retry.c - AWS "standard" retries: token bucket, full-jitter backoff,
 * clock-skew correction, expired-token refresh; and owls_retry_send(), the
 * loop every S3 and SQS call goes through.
 *
 * DESIGN: struct owls_retry is per client and shared by its threads; the
 * token bucket sits under a mutex, the clock offset is an atomic. The loop
 * itself is stateless: per attempt it asks the caller's prepare() hook for
 * the headers that depend on the attempt (signature, X-Amz-Date, a Range
 * for resuming a download), performs the request, classifies the outcome
 * (awserr.h) and decides: done, retry after a delay, retry at once (clock
 * skew, expired token: once each), or give up. Signing stays with the
 * callers (s3.c, sqs.c), so this module does not depend on the signer.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "owls/log.h"
#include "owls/retry.h"
#include "owls/util.h"

struct owls_retry {
    int max_attempts;
    struct owls_retry_hooks hooks;
    pthread_mutex_t mu;
    int tokens;
    atomic_llong clock_offset;
};

struct owls_retry *owls_retry_new(int max_attempts, const struct owls_retry_hooks *hooks)
{
    struct owls_retry *r = owls_xcalloc(1, sizeof(*r));

    r->max_attempts = max_attempts > 0 ? max_attempts : 3;
    if (hooks != NULL)
        r->hooks = *hooks;
    pthread_mutex_init(&r->mu, NULL);
    r->tokens = OWLS_RETRY_BUCKET_MAX;
    atomic_init(&r->clock_offset, 0);
    return r;
}

void owls_retry_free(struct owls_retry *r)
{
    if (r == NULL)
        return;
    pthread_mutex_destroy(&r->mu);
    free(r);
}

int owls_retry_max_attempts(const struct owls_retry *r)
{
    return r->max_attempts;
}

bool owls_retry_acquire(struct owls_retry *r, enum owls_awserr_class cls, int *cost)
{
    int c = cls == OWLS_AWSERR_TIMEOUT ? OWLS_RETRY_TIMEOUT_COST : OWLS_RETRY_COST;
    bool ok = false;

    pthread_mutex_lock(&r->mu);
    if (r->tokens >= c) {
        r->tokens -= c;
        ok = true;
    }
    pthread_mutex_unlock(&r->mu);
    if (cost != NULL)
        *cost = ok ? c : 0;
    return ok;
}

void owls_retry_on_success(struct owls_retry *r, int cost)
{
    pthread_mutex_lock(&r->mu);
    r->tokens += cost > 0 ? cost : OWLS_RETRY_SUCCESS_BONUS;
    if (r->tokens > OWLS_RETRY_BUCKET_MAX)
        r->tokens = OWLS_RETRY_BUCKET_MAX;
    pthread_mutex_unlock(&r->mu);
}

int owls_retry_tokens(struct owls_retry *r)
{
    int t;
    pthread_mutex_lock(&r->mu);
    t = r->tokens;
    pthread_mutex_unlock(&r->mu);
    return t;
}

static double rand01(struct owls_retry *r)
{
    double d;
    if (r->hooks.rand_fn != NULL)
        d = r->hooks.rand_fn(r->hooks.arg);
    else
        d = (double)arc4random() / 4294967296.0; /* thread-safe, [0, 1) */
    if (!(d >= 0.0))
        d = 0.0;
    if (d >= 1.0)
        d = 0.999999;
    return d;
}

long owls_retry_delay_ms(struct owls_retry *r, int attempt)
{
    long cap = OWLS_RETRY_MAX_BACKOFF;

    if (attempt < 1)
        attempt = 1;
    if (attempt <= 15) { /* 2^14 s is already far above the cap */
        long exp = OWLS_RETRY_BASE_MS << (attempt - 1);
        cap = OWLS_MIN(exp, OWLS_RETRY_MAX_BACKOFF);
    }
    return (long)(rand01(r) * (double)cap);
}

static time_t local_now(struct owls_retry *r)
{
    return r->hooks.clock_fn ? r->hooks.clock_fn(r->hooks.arg) : time(NULL);
}

time_t owls_retry_now(struct owls_retry *r)
{
    return local_now(r) + (time_t)atomic_load(&r->clock_offset);
}

long long owls_retry_clock_offset(struct owls_retry *r)
{
    return atomic_load(&r->clock_offset);
}

void owls_retry_set_clock_offset(struct owls_retry *r, long long seconds)
{
    atomic_store(&r->clock_offset, seconds);
}

void owls_retry_extra_add(struct owls_retry_extra *x, const char *name, const char *value)
{
    if (x->n >= OWLS_RETRY_MAX_EXTRA)
        fatalx("retry: too many per-attempt headers");
    x->name[x->n] = owls_xstrdup(name);
    x->value[x->n] = owls_xstrdup(value);
    x->n++;
}

static void extra_clear(struct owls_retry_extra *x)
{
    for (size_t i = 0; i < x->n; i++) {
        free(x->name[i]);
        owls_free_secret(x->value[i]); /* Authorization, X-Amz-Security-Token */
    }
    memset(x, 0, sizeof(*x));
}

static bool do_sleep(struct owls_retry *r, struct owls_http *h, long ms, const atomic_bool *cancel)
{
    if (r->hooks.sleep_fn != NULL)
        return r->hooks.sleep_fn(r->hooks.arg, ms);
    return owls_http_sleep(h, ms, cancel);
}

/* Does a 200 answer carry an <Error> document (CompleteMultipartUpload)? */
static bool body_is_error_doc(const struct owls_buf *b)
{
    const char *p = b->data, *end = b->data + b->len;
    if (p == NULL)
        return false;
    while (p < end) {
        while (p < end && (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n'))
            p++;
        if (end - p >= 2 && p[0] == '<' && p[1] == '?') { /* XML declaration */
            const char *q = memchr(p, '>', (size_t)(end - p));
            if (q == NULL)
                return false;
            p = q + 1;
            continue;
        }
        return end - p >= 7 && memcmp(p, "<Error>", 7) == 0;
    }
    return false;
}

enum owls_err owls_retry_send(struct owls_retry *r, struct owls_http *h,
                              const struct owls_retry_call *call, struct owls_http_response *resp,
                              struct owls_awserr *ae, int *attempts, struct owls_errmsg *em)
{
    enum owls_err rc = OWLS_EINTERNAL;
    struct owls_retry_extra x;
    struct owls_http_header *hdrs = NULL;
    struct owls_http_request req = call->http;
    struct owls_awserr e;
    enum owls_awserr_class cls = OWLS_AWSERR_OK;
    struct owls_errmsg hem = {{0}};
    int attempt = 0, counted = 0, cost = 0;

    bool skew_done = false, token_done = false;

    memset(&x, 0, sizeof(x));
    memset(&e, 0, sizeof(e));
    /* the call's own headers first, the attempt's extra ones after them */
    hdrs = owls_xcalloc(call->http.nheaders + OWLS_RETRY_MAX_EXTRA, sizeof(*hdrs));
    if (call->http.nheaders > 0)
        memcpy(hdrs, call->http.headers, call->http.nheaders * sizeof(*hdrs));
    req.headers = hdrs;
    for (;;) {
        long long diff = 0;
        bool has_date = false, retryable;
        const char *date;

        attempt++;
        counted++;
        extra_clear(&x);
        if (call->prepare != NULL) {
            rc = call->prepare(call->arg, attempt, owls_retry_now(r), &x, em);
            if (rc != OWLS_OK)
                goto out;
        }
        for (size_t i = 0; i < x.n; i++) {
            hdrs[call->http.nheaders + i].name = x.name[i];
            hdrs[call->http.nheaders + i].value = x.value[i];
        }
        req.nheaders = call->http.nheaders + x.n;

        memset(&e, 0, sizeof(e));
        rc = owls_http_perform(h, &req, resp, &hem);
        if (rc != OWLS_OK) {
            switch (resp->fail) {
            case OWLS_HTTP_CONNECT:
                cls = OWLS_AWSERR_CONNECT;
                break;
            case OWLS_HTTP_TIMEOUT:
                cls = OWLS_AWSERR_TIMEOUT;
                break;
            default: /* cancelled, body consumer, bad request: no retry */
                owls_errmsg_set(em, rc, "%s: %s", call->what, hem.text);
                goto out;
            }
            snprintf(e.code, sizeof(e.code), "%s",
                     cls == OWLS_AWSERR_TIMEOUT ? "Timeout" : "ConnectionError");
            snprintf(e.message, sizeof(e.message), "%s", hem.text);
        } else {
            const char *rid = owls_http_response_header(resp, "x-amz-request-id");
            if (rid == NULL)
                rid = owls_http_response_header(resp, "x-amzn-requestid");
            if (resp->status >= 200 && resp->status < 300 &&
                !(call->error_in_200 && body_is_error_doc(&resp->body))) {
                owls_retry_on_success(r, cost);
                rc = OWLS_OK;
                goto out;
            }
            owls_awserr_from_response(resp->status, resp->body.data, resp->body.len, rid, &e);
            if (resp->status >= 200 && resp->status < 300)
                e.status = 500; /* an <Error> in a 200: the server error it is */
            date = owls_http_response_header(resp, "date");
            if (date != NULL) {
                long long server = owls_awserr_parse_http_date(date);
                if (server >= 0) {
                    has_date = true;
                    diff = server - (long long)local_now(r);
                }
            }
            cls = owls_awserr_classify(&e, has_date ? (long)llabs(diff) : -1);
        }

        if (cls == OWLS_AWSERR_CLOCK_SKEW && !skew_done && has_date) {
            skew_done = true;
            counted--; /* a free retry, at once */
            owls_retry_set_clock_offset(r, diff);
            log_notice("%s: %s: AWS's clock is %+lld s from ours; corrected, retrying", call->what,
                       e.code, diff);
            continue;
        }
        if (cls == OWLS_AWSERR_EXPIRED_TOKEN && !token_done && call->invalidate != NULL) {
            token_done = true;
            counted--;
            call->invalidate(call->arg);
            log_notice("%s: %s: refreshing credentials, retrying", call->what, e.code);
            continue;
        }
        retryable = cls == OWLS_AWSERR_THROTTLE || cls == OWLS_AWSERR_TRANSIENT ||
                    cls == OWLS_AWSERR_CONNECT || cls == OWLS_AWSERR_TIMEOUT;
        if (retryable && counted < r->max_attempts) {
            if (owls_retry_acquire(r, cls, &cost)) {
                long ms = owls_retry_delay_ms(r, counted);
                log_debug("%s: attempt %d: %s (%s); retrying in %ld ms", call->what, attempt,
                          e.code, owls_awserr_class_name(cls), ms);
                if (!do_sleep(r, h, ms, call->http.cancel)) {
                    rc = owls_errmsg_set(em, OWLS_ETRANSIENT, "%s: cancelled while retrying %s",
                                         call->what, e.code);
                    goto out;
                }
                continue;
            }
            log_debug("%s: retry quota exhausted", call->what);
        }
        rc = owls_awserr_to_err(&e, cls);
        owls_errmsg_set(em, rc, "%s: %s%s%s (%s%ld, %d attempt%s%s%s)", call->what, e.code,
                        e.message[0] ? ": " : "", e.message, e.status ? "HTTP " : "status ",
                        e.status, attempt, attempt == 1 ? "" : "s",
                        e.request_id[0] ? ", request id " : "", e.request_id);
        goto out;
    }
out:
    extra_clear(&x);
    free(hdrs);
    if (attempts != NULL)
        *attempts = attempt;
    if (ae != NULL)
        *ae = e;
    return rc;
}
