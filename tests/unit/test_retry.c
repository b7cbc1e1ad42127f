/*
 * test_retry.c - AWS standard retry mode: the backoff schedule and its
 * jitter bounds, the token bucket, and the retry loop against a loopback
 * fault server (500/503/SlowDown/reset/stall/delay, clock skew, expired
 * token), with injected random and sleep functions.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "aws_faultsrv.h"
#include "owls/retry.h"
#include "owls/util.h"

/* --- injected random, sleep and clock -------------------------------------- */
struct fake {
    double rnd;
    long slept[16];
    int nslept;
    time_t now;
    int invalidated;
    int prepared;
    time_t sign_times[16];
};

static double fake_rand(void *arg)
{
    return ((struct fake *)arg)->rnd;
}

static bool fake_sleep(void *arg, long ms)
{
    struct fake *f = arg;
    if (f->nslept < 16)
        f->slept[f->nslept] = ms;
    f->nslept++;
    return true;
}

static time_t fake_clock(void *arg)
{
    return ((struct fake *)arg)->now;
}

/* --- schedule and bucket --------------------------------------------------- */
static void test_delay_schedule(void **state)
{
    /* attempt -> min(2^(attempt-1) s, 20 s), times the random fraction */
    static const long cap_ms[] = {1000, 2000, 4000, 8000, 16000, 20000, 20000, 20000};
    static const double fractions[] = {0.0, 0.25, 0.5, 0.999};
    (void)state;
    for (size_t k = 0; k < OWLS_ARRAY_LEN(fractions); k++) {
        struct fake f = {.rnd = fractions[k]};
        struct owls_retry_hooks hk = {.rand_fn = fake_rand, .arg = &f};
        struct owls_retry *r = owls_retry_new(0, &hk);
        for (int a = 1; a <= (int)OWLS_ARRAY_LEN(cap_ms); a++)
            assert_int_equal(owls_retry_delay_ms(r, a), (long)(fractions[k] * cap_ms[a - 1]));
        assert_int_equal(owls_retry_delay_ms(r, 1000), (long)(fractions[k] * 20000));
        owls_retry_free(r);
    }
}

static void test_delay_real_jitter_bounds(void **state)
{
    struct owls_retry *r = owls_retry_new(0, NULL);
    (void)state;
    for (int a = 1; a <= 6; a++) {
        long cap = a >= 6 ? 20000 : 1000L << (a - 1), lo = cap, hi = 0;
        double sum = 0;
        for (int i = 0; i < 2000; i++) {
            long d = owls_retry_delay_ms(r, a);
            assert_true(d >= 0 && d < cap);
            lo = d < lo ? d : lo;
            hi = d > hi ? d : hi;
            sum += (double)d;
        }
        /* full jitter: spread over the whole range, mean near cap/2 */
        assert_true(lo < cap / 10);
        assert_true(hi > cap - cap / 10);
        assert_true(sum / 2000 > cap * 0.4 && sum / 2000 < cap * 0.6);
    }
    owls_retry_free(r);
}

static void test_token_bucket(void **state)
{
    struct owls_retry *r = owls_retry_new(0, NULL);
    int cost, n = 0;
    (void)state;
    assert_int_equal(owls_retry_tokens(r), 500);
    while (owls_retry_acquire(r, OWLS_AWSERR_TRANSIENT, &cost)) {
        assert_int_equal(cost, 5);
        n++;
    }
    assert_int_equal(n, 100); /* 500 / 5 */
    assert_int_equal(cost, 0);
    assert_int_equal(owls_retry_tokens(r), 0);
    owls_retry_on_success(r, 0); /* a first-attempt success: +1 */
    assert_int_equal(owls_retry_tokens(r), 1);
    owls_retry_on_success(r, 10); /* success after a timeout retry: refund 10 */
    assert_int_equal(owls_retry_tokens(r), 11);
    assert_true(owls_retry_acquire(r, OWLS_AWSERR_TIMEOUT, &cost));
    assert_int_equal(cost, 10);
    assert_int_equal(owls_retry_tokens(r), 1);
    assert_false(owls_retry_acquire(r, OWLS_AWSERR_THROTTLE, &cost));
    for (int i = 0; i < 600; i++)
        owls_retry_on_success(r, 0);
    assert_int_equal(owls_retry_tokens(r), 500); /* never above the maximum */
    owls_retry_free(r);
}

/* --- the loop against the fault server ----------------------------------- */
static enum owls_err prepare_fn(void *arg, int attempt, time_t now, struct owls_retry_extra *x,
                                struct owls_errmsg *em)
{
    struct fake *f = arg;
    char v[32];
    (void)em;
    if (f->prepared < 16)
        f->sign_times[f->prepared] = now;
    f->prepared++;
    snprintf(v, sizeof(v), "%d", attempt);
    owls_retry_extra_add(x, "X-Test-Attempt", v);
    return OWLS_OK;
}

static void invalidate_fn(void *arg)
{
    ((struct fake *)arg)->invalidated++;
}

#define SLOWDOWN                                                                                   \
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>SlowDown</Code><Message>Please "     \
    "reduce your request rate.</Message><RequestId>R1</RequestId></Error>"
#define OK200                                                                                      \
    {                                                                                              \
        .status = 200, .body = "ok"                                                                \
    }

struct loop_case {
    const char *name;
    struct fs_action script[4];
    size_t nscript;
    int max_attempts;
    enum owls_err rc;
    int attempts;
    int nslept;       /* delays taken (their values follow from rnd = 0.5) */
    int tokens_after; /* bucket after the call */
    const char *code; /* ae.code of a failure */
    int invalidated;
};

static void test_retry_loop_table(void **state)
{
    static char half[2048];
    const struct loop_case cases[] = {
        {"200 first time", {OK200}, 1, 0, OWLS_OK, 1, 0, 500, NULL, 0},
        {"500 then 200", {{.status = 500}, OK200}, 2, 0, OWLS_OK, 2, 1, 500, NULL, 0},
        {"503 SlowDown XML then 200",
         {{.status = 503, .body = SLOWDOWN}, OK200},
         2,
         0,
         OWLS_OK,
         2,
         1,
         500,
         NULL,
         0},
        {"503 three times: give up after 3 attempts",
         {{.status = 503, .body = SLOWDOWN}},
         1,
         0,
         OWLS_ETRANSIENT,
         3,
         2,
         490,
         "SlowDown",
         0},
        {"max_attempts 5", {{.status = 500}}, 1, 5, OWLS_ETRANSIENT, 5, 4, 480, "HTTP500", 0},
        {"JSON ThrottlingException then 200",
         {{.status = 400, .body = "{\"__type\":\"ThrottlingException\",\"message\":\"slow\"}"},
          OK200},
         2,
         0,
         OWLS_OK,
         2,
         1,
         500,
         NULL,
         0},
        {"connection reset then 200", {{.reset = true}, OK200}, 2, 0, OWLS_OK, 2, 1, 500, NULL, 0},
        {"stall mid-body then 200",
         {{.status = 200, .body = half, .body_len = sizeof(half), .stall_after = 100}, OK200},
         2,
         0,
         OWLS_OK,
         2,
         1,
         500,
         NULL,
         0},
        {"404 NoSuchKey: no retry",
         {{.status = 404, .body = "<Error><Code>NoSuchKey</Code></Error>"}},
         1,
         0,
         OWLS_ENOTFOUND,
         1,
         0,
         500,
         "NoSuchKey",
         0},
        {"403 AccessDenied: no retry, auth",
         {{.status = 403, .body = "<Error><Code>AccessDenied</Code></Error>"}},
         1,
         0,
         OWLS_EAUTH,
         1,
         0,
         500,
         "AccessDenied",
         0},
        {"400 InvalidArgument: no retry",
         {{.status = 400, .body = "<Error><Code>InvalidArgument</Code></Error>"}},
         1,
         0,
         OWLS_EAWS,
         1,
         0,
         500,
         "InvalidArgument",
         0},
        {"ExpiredToken: refresh credentials, retry once",
         {{.status = 400, .body = "<Error><Code>ExpiredToken</Code></Error>"}, OK200},
         2,
         0,
         OWLS_OK,
         2,
         0,
         500,
         NULL,
         1},
        {"ExpiredToken twice: only one refresh",
         {{.status = 400, .body = "<Error><Code>ExpiredToken</Code></Error>"}},
         1,
         0,
         OWLS_EAUTH,
         2,
         0,
         500,
         "ExpiredToken",
         1},
    };
    (void)state;
    memset(half, 'z', sizeof(half));
    for (size_t i = 0; i < OWLS_ARRAY_LEN(cases); i++) {
        const struct loop_case *c = &cases[i];
        struct fake f = {.rnd = 0.5, .now = 1795773809};
        struct owls_retry_hooks hk = {fake_rand, fake_sleep, fake_clock, &f};
        struct owls_aws_opts o = {.region = "us-east-1", .low_speed_time_s = 1};
        struct faultsrv s;
        struct owls_http *h;
        struct owls_retry *r = owls_retry_new(c->max_attempts, &hk);
        struct owls_http_response resp;
        struct owls_awserr ae;
        struct owls_errmsg em = {{0}};
        struct owls_retry_call call = {
            .what = "TEST Op", .prepare = prepare_fn, .invalidate = invalidate_fn, .arg = &f};
        const struct owls_http_header fixed = {"X-Test-Fixed", "same"};
        char *url;
        int attempts = 0;
        enum owls_err rc;

        print_message("  %s\n", c->name);
        fs_start(&s, c->script, c->nscript);
        assert_int_equal(owls_http_new(&o, &h, &em), OWLS_OK);
        owls_http_response_init(&resp);
        url = fs_url(&s, "/bucket/key");
        call.http.method = "GET";
        call.http.url = url;
        call.http.headers = &fixed;
        call.http.nheaders = 1;
        call.http.body_fd = -1;
        rc = owls_retry_send(r, h, &call, &resp, &ae, &attempts, &em);
        if (rc != OWLS_OK)
            print_message("    -> %s\n", em.text);
        assert_int_equal(rc, c->rc);
        assert_int_equal(attempts, c->attempts);
        assert_int_equal(fs_nreq(&s), (size_t)c->attempts);
        assert_int_equal(f.nslept, c->nslept);
        for (int k = 0; k < f.nslept && k < 16; k++) /* rnd 0.5 of 1 s, 2 s, 4 s ... */
            assert_int_equal(f.slept[k], 500L << k);
        assert_int_equal(owls_retry_tokens(r), c->tokens_after);
        assert_int_equal(f.invalidated, c->invalidated);
        for (int k = 0; k < c->attempts; k++) { /* prepare() ran before every attempt */
            char want[16];
            snprintf(want, sizeof(want), "%d", k + 1);
            assert_string_equal(fs_req_header(&s, (size_t)k, "x-test-attempt"), want);
            /* and the call's own headers went out with every attempt */
            assert_string_equal(fs_req_header(&s, (size_t)k, "x-test-fixed"), "same");
        }
        if (c->rc == OWLS_OK) {
            assert_int_equal(resp.status, 200);
            assert_string_equal(resp.body.data, "ok");
        } else {
            assert_string_equal(ae.code, c->code);
            assert_non_null(strstr(em.text, "TEST Op"));
            assert_non_null(strstr(em.text, c->code));
        }
        owls_http_response_cleanup(&resp);
        owls_http_free(h);
        owls_retry_free(r);
        fs_stop(&s);
        free(url);
    }
}

/* Runs one GET against script with the fake hooks; returns the code. */
static enum owls_err run_one(struct fake *f, const struct fs_action *script, size_t n,
                             struct owls_retry *r, struct faultsrv *s, int *attempts,
                             bool error_in_200)
{
    struct owls_aws_opts o = {.region = "us-east-1"};
    struct owls_http *h;
    struct owls_http_response resp;
    struct owls_errmsg em = {{0}};
    struct owls_retry_call call = {
        .what = "TEST", .prepare = prepare_fn, .arg = f, .error_in_200 = error_in_200};
    char *url;
    enum owls_err rc;

    fs_start(s, script, n);
    assert_int_equal(owls_http_new(&o, &h, &em), OWLS_OK);
    owls_http_response_init(&resp);
    url = fs_url(s, "/x");
    call.http.method = "POST";
    call.http.url = url;
    call.http.body = "{}";
    call.http.body_len = 2;
    call.http.body_fd = -1;
    rc = owls_retry_send(r, h, &call, &resp, NULL, attempts, &em);
    owls_http_response_cleanup(&resp);
    owls_http_free(h);
    free(url);
    return rc;
}

static void test_timeout_costs_ten_and_is_refunded(void **state)
{
    const struct fs_action script[] = {{.status = 200, .delay_ms = 3000}, OK200};
    struct fake f = {.rnd = 0.5, .now = 1};
    struct owls_retry_hooks hk = {fake_rand, fake_sleep, fake_clock, &f};
    struct owls_retry *r = owls_retry_new(0, &hk);
    struct owls_aws_opts o = {.region = "us-east-1"};
    struct owls_http *h;
    struct owls_http_response resp;
    struct owls_errmsg em;
    struct faultsrv s;
    char *url;
    int attempts;
    struct owls_retry_call call = {.what = "T", .prepare = prepare_fn, .arg = &f};
    (void)state;
    fs_start(&s, script, 2);
    assert_int_equal(owls_http_new(&o, &h, &em), OWLS_OK);
    owls_http_response_init(&resp);
    url = fs_url(&s, "/x");
    call.http.method = "GET";
    call.http.url = url;
    call.http.body_fd = -1;
    call.http.timeout_ms = 300;
    /* take tokens away so the refund is visible below the cap */
    for (int i = 0; i < 10; i++)
        assert_true(owls_retry_acquire(r, OWLS_AWSERR_TRANSIENT, NULL));
    assert_int_equal(owls_retry_tokens(r), 450);
    assert_int_equal(owls_retry_send(r, h, &call, &resp, NULL, &attempts, &em), OWLS_OK);
    assert_int_equal(attempts, 2);
    assert_int_equal(owls_retry_tokens(r), 450); /* -10 for the timeout retry, +10 back */
    owls_http_response_cleanup(&resp);
    owls_http_free(h);
    owls_retry_free(r);
    fs_stop(&s);
    free(url);
}

static void test_empty_bucket_stops_retrying(void **state)
{
    const struct fs_action script[] = {{.status = 500}};
    struct fake f = {.rnd = 0.5, .now = 1};
    struct owls_retry_hooks hk = {fake_rand, fake_sleep, fake_clock, &f};
    struct owls_retry *r = owls_retry_new(0, &hk);
    struct faultsrv s;
    int attempts;
    (void)state;
    while (owls_retry_acquire(r, OWLS_AWSERR_TRANSIENT, NULL))
        ;
    assert_int_equal(run_one(&f, script, 1, r, &s, &attempts, false), OWLS_ETRANSIENT);
    assert_int_equal(attempts, 1);
    assert_int_equal(f.nslept, 0);
    fs_stop(&s);
    owls_retry_free(r);
}

static void test_error_in_200(void **state)
{
    const struct fs_action script[] = {
        {.status = 200,
         .body = "<?xml version=\"1.0\"?>\n<Error><Code>InternalError</Code><Message>We "
                 "encountered an internal error.</Message></Error>"},
        {.status = 200, .body = "<CompleteMultipartUploadResult/>"}};
    struct fake f = {.rnd = 0.5, .now = 1};
    struct owls_retry_hooks hk = {fake_rand, fake_sleep, fake_clock, &f};
    struct owls_retry *r = owls_retry_new(0, &hk);
    struct faultsrv s;
    int attempts;
    (void)state;
    assert_int_equal(run_one(&f, script, 2, r, &s, &attempts, true), OWLS_OK);
    assert_int_equal(attempts, 2);
    fs_stop(&s);
    /* without the flag the first 200 is taken as it is */
    assert_int_equal(run_one(&f, script, 2, r, &s, &attempts, false), OWLS_OK);
    assert_int_equal(attempts, 1);
    fs_stop(&s);
    owls_retry_free(r);
}

struct skew_case {
    const char *name;
    const char *headers; /* Date of the error answer */
    const char *body;
    long long offset; /* expected clock offset afterwards */
    enum owls_err rc;
    int attempts;
};

static void test_clock_skew(void **state)
{
    /* local fake clock: Fri, 27 Nov 2026 10:03:29 GMT */
    static const struct skew_case cases[] = {
        {"RequestTimeTooSkewed, AWS 1 h ahead", "Date: Fri, 27 Nov 2026 11:03:29 GMT\r\n",
         "<Error><Code>RequestTimeTooSkewed</Code></Error>", 3600, OWLS_OK, 2},
        {"SignatureDoesNotMatch with AWS 20 min behind", "Date: Fri, 27 Nov 2026 09:43:29 GMT\r\n",
         "<Error><Code>SignatureDoesNotMatch</Code></Error>", -1200, OWLS_OK, 2},
        {"InvalidSignatureException (JSON), 10 min ahead",
         "Date: Fri, 27 Nov 2026 10:13:29 GMT\r\n",
         "{\"__type\":\"com.amazon.coral.service#InvalidSignatureException\"}", 600, OWLS_OK, 2},
        {"SignatureDoesNotMatch, clocks agree: a real bad key",
         "Date: Fri, 27 Nov 2026 10:03:31 GMT\r\n",
         "<Error><Code>SignatureDoesNotMatch</Code></Error>", 0, OWLS_EAUTH, 1},
        {"RequestTimeTooSkewed without a Date: cannot fix", "",
         "<Error><Code>RequestTimeTooSkewed</Code></Error>", 0, OWLS_EAUTH, 1},
    };
    (void)state;
    for (size_t i = 0; i < OWLS_ARRAY_LEN(cases); i++) {
        const struct fs_action script[] = {
            {.status = 403, .headers = cases[i].headers, .body = cases[i].body}, OK200};
        struct fake f = {.rnd = 0.5, .now = 1795773809};
        struct owls_retry_hooks hk = {fake_rand, fake_sleep, fake_clock, &f};
        struct owls_retry *r = owls_retry_new(0, &hk);
        struct faultsrv s;
        int attempts;
        print_message("  %s\n", cases[i].name);
        assert_int_equal(run_one(&f, script, 2, r, &s, &attempts, false), cases[i].rc);
        assert_int_equal(attempts, cases[i].attempts);
        assert_int_equal(owls_retry_clock_offset(r), cases[i].offset);
        assert_int_equal(f.nslept, 0); /* skew retries go at once */
        /* the retry was signed with the corrected clock */
        assert_int_equal(f.sign_times[attempts - 1],
                         (time_t)(1795773809 + (attempts > 1 ? cases[i].offset : 0)));
        fs_stop(&s);
        owls_retry_free(r);
    }
}

struct cancel_arg {
    struct faultsrv *s;
    struct owls_http *h;
    long long t;
};

static void *cancel_after_first(void *p)
{
    struct cancel_arg *c = p;
    if (fs_wait_requests(c->s, 1, 10000) >= 1) {
        c->t = owls_time_mono_ms();
        owls_http_cancel(c->h);
    }
    return NULL;
}

/* The real sleep wakes up when the transport is cancelled (shutdown). */
static void test_backoff_sleep_is_cancellable(void **state)
{
    const struct fs_action script[] = {{.status = 503, .body = SLOWDOWN}};
    struct fake f = {.rnd = 0.999, .now = 1};
    struct owls_retry_hooks hk = {.rand_fn = fake_rand, .arg = &f}; /* real sleep */
    struct owls_retry *r = owls_retry_new(0, &hk);
    struct owls_aws_opts o = {.region = "us-east-1"};
    struct owls_http *h;
    struct owls_http_response resp;
    struct owls_errmsg em;
    struct faultsrv s;
    struct cancel_arg c = {0};
    pthread_t t;
    char *url;
    long long done;
    struct owls_retry_call call = {.what = "T"};
    (void)state;
    fs_start(&s, script, 1);
    assert_int_equal(owls_http_new(&o, &h, &em), OWLS_OK);
    owls_http_response_init(&resp);
    url = fs_url(&s, "/x");
    call.http.method = "GET";
    call.http.url = url;
    call.http.body_fd = -1;
    c.s = &s;
    c.h = h;
    pthread_create(&t, NULL, cancel_after_first, &c);
    assert_int_equal(owls_retry_send(r, h, &call, &resp, NULL, NULL, &em), OWLS_ETRANSIENT);
    done = owls_time_mono_ms();
    pthread_join(t, NULL);
    assert_true(c.t > 0);
    assert_true(done - c.t < 300); /* the backoff was ~999 ms */
    assert_non_null(strstr(em.text, "cancelled"));
    owls_http_response_cleanup(&resp);
    owls_http_free(h);
    owls_retry_free(r);
    fs_stop(&s);
    free(url);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_delay_schedule),
        cmocka_unit_test(test_delay_real_jitter_bounds),
        cmocka_unit_test(test_token_bucket),
        cmocka_unit_test(test_retry_loop_table),
        cmocka_unit_test(test_timeout_costs_ten_and_is_refunded),
        cmocka_unit_test(test_empty_bucket_stops_retrying),
        cmocka_unit_test(test_error_in_200),
        cmocka_unit_test(test_clock_skew),
        cmocka_unit_test(test_backoff_sleep_is_cancellable),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
