/*
 * test_http.c - the libcurl transport against a loopback fault server:
 * bodies in and out (memory, fd, streamed), limits, timeouts, stalls,
 * resets, cancellation, connection reuse.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "aws_faultsrv.h"
#include "owls/http.h"
#include "owls/util.h"

struct fixture {
    struct faultsrv srv;
    struct owls_http *h;
    struct owls_http_response resp;
    struct owls_errmsg em;
};

static void start(struct fixture *f, const struct fs_action *script, size_t n, long stall_s)
{
    struct owls_aws_opts o = {.region = "us-east-1", .low_speed_time_s = stall_s};
    memset(f, 0, sizeof(*f));
    fs_start(&f->srv, script, n);
    assert_int_equal(owls_http_new(&o, &f->h, &f->em), OWLS_OK);
    owls_http_response_init(&f->resp);
}

static void stop(struct fixture *f)
{
    owls_http_response_cleanup(&f->resp);
    owls_http_free(f->h);
    fs_stop(&f->srv);
}

static enum owls_err get(struct fixture *f, const char *method, const char *path,
                         struct owls_http_request *proto)
{
    struct owls_http_request r = {0};
    enum owls_err rc;
    char *url = fs_url(&f->srv, path);
    if (proto != NULL)
        r = *proto;
    else
        r.body_fd = -1;
    r.method = method;
    r.url = url;
    rc = owls_http_perform(f->h, &r, &f->resp, &f->em);
    free(url);
    return rc;
}

static void test_get_buffered_and_headers(void **state)
{
    static const struct fs_action script[] = {
        {.status = 200,
         .headers = "ETag: \"abc\"\r\nX-Amz-Request-Id: RID1\r\n",
         .body = "hello world"},
    };
    struct fixture f;
    (void)state;
    start(&f, script, 1, 0);
    assert_int_equal(get(&f, "GET", "/b/k", NULL), OWLS_OK);
    assert_int_equal(f.resp.status, 200);
    assert_int_equal(f.resp.body.len, 11);
    assert_string_equal(f.resp.body.data, "hello world");
    assert_string_equal(owls_http_response_header(&f.resp, "etag"), "\"abc\"");
    assert_string_equal(owls_http_response_header(&f.resp, "X-AMZ-REQUEST-ID"), "RID1");
    assert_null(owls_http_response_header(&f.resp, "x-missing"));
    assert_string_equal(f.srv.req[0].method, "GET");
    assert_string_equal(f.srv.req[0].target, "/b/k");
    stop(&f);
}

static void test_connection_reuse(void **state)
{
    static const struct fs_action script[] = {{.status = 200, .body = "x"}};
    struct fixture f;
    (void)state;
    start(&f, script, 1, 0);
    for (int i = 0; i < 3; i++)
        assert_int_equal(get(&f, "GET", "/r", NULL), OWLS_OK);
    assert_int_equal(fs_nreq(&f.srv), 3);
    assert_int_equal(f.srv.nconn, 1); /* one TCP connection for the three */
    stop(&f);
}

static void test_host_header_is_ours(void **state)
{
    static const struct fs_action script[] = {{.status = 200}};
    const struct owls_http_header hdrs[] = {{"Host", "bucket.example.test"},
                                            {"X-Amz-Date", "20260101T000000Z"}};
    struct owls_http_request r = {.headers = hdrs, .nheaders = 2, .body_fd = -1};
    struct fixture f;
    (void)state;
    start(&f, script, 1, 0);
    assert_int_equal(get(&f, "GET", "/k", &r), OWLS_OK);
    assert_string_equal(fs_req_header(&f.srv, 0, "host"), "bucket.example.test");
    assert_string_equal(fs_req_header(&f.srv, 0, "x-amz-date"), "20260101T000000Z");
    assert_null(fs_req_header(&f.srv, 0, "expect"));
    stop(&f);
}

struct sink {
    struct owls_sha256 *sha;
    size_t n;
    int calls;
    enum owls_err fail_with;
};

static enum owls_err sink_fn(void *arg, const void *p, size_t n)
{
    struct sink *s = arg;
    s->calls++;
    if (s->fail_with != OWLS_OK)
        return s->fail_with;
    owls_sha256_update(s->sha, p, n);
    s->n += n;
    return OWLS_OK;
}

static char *pattern(size_t n)
{
    char *p = malloc(n);
    for (size_t i = 0; i < n; i++)
        p[i] = (char)('a' + (i * 7 + i / 251) % 26);
    return p;
}

static void test_streamed_download(void **state)
{
    size_t n = 3 * 1024 * 1024 + 17;
    char *big = pattern(n);
    struct fs_action script[] = {{.status = 200, .body = big, .body_len = n}};
    struct sink s = {.sha = owls_sha256_new()};
    struct owls_http_request r = {.on_body = sink_fn, .on_body_arg = &s, .body_fd = -1};
    char want[OWLS_SHA256_HEX], got[OWLS_SHA256_HEX];
    unsigned char d[OWLS_SHA256_LEN];
    struct fixture f;
    (void)state;
    start(&f, script, 1, 0);
    assert_int_equal(get(&f, "GET", "/big", &r), OWLS_OK);
    owls_sha256_final(s.sha, d);
    owls_hex(d, sizeof(d), got);
    owls_sha256_hex(big, n, want);
    assert_int_equal(s.n, n);
    assert_string_equal(got, want);
    assert_int_equal(f.resp.body.len, 0); /* streamed, not buffered */
    assert_int_equal(f.resp.body_bytes, n);
    owls_sha256_free(s.sha);
    stop(&f);
    free(big);
}

static void test_consumer_error_stops(void **state)
{
    static const struct fs_action script[] = {{.status = 200, .body = "data"}};
    struct sink s = {.fail_with = OWLS_EBAD_CSV};
    struct owls_http_request r = {.on_body = sink_fn, .on_body_arg = &s, .body_fd = -1};
    struct fixture f;
    (void)state;
    start(&f, script, 1, 0);
    assert_int_equal(get(&f, "GET", "/x", &r), OWLS_EBAD_CSV);
    assert_int_equal(f.resp.fail, OWLS_HTTP_BODY);
    stop(&f);
}

static void test_error_body_not_streamed(void **state)
{
    static const struct fs_action script[] = {
        {.status = 404, .body = "<Error><Code>NoSuchKey</Code></Error>"}};
    struct sink s = {.fail_with = OWLS_EINTERNAL};
    struct owls_http_request r = {.on_body = sink_fn, .on_body_arg = &s, .body_fd = -1};
    struct fixture f;
    (void)state;
    start(&f, script, 1, 0);
    assert_int_equal(get(&f, "GET", "/x", &r), OWLS_OK);
    assert_int_equal(f.resp.status, 404);
    assert_int_equal(s.calls, 0);
    assert_non_null(strstr(f.resp.body.data, "NoSuchKey"));
    stop(&f);
}

/* An error body is buffered (never streamed) and only its first 64 KiB kept,
 * however many pieces it arrives in; the transfer itself completes. */
static void test_error_body_capped(void **state)
{
    size_t n = 200 * 1024;
    char *big = pattern(n);
    struct fs_action script[] = {{.status = 500, .body = big, .body_len = n}};
    struct sink s = {.fail_with = OWLS_EINTERNAL};
    struct owls_http_request r = {.on_body = sink_fn, .on_body_arg = &s, .body_fd = -1};
    struct fixture f;
    (void)state;
    start(&f, script, 1, 0);
    assert_int_equal(get(&f, "GET", "/x", &r), OWLS_OK);
    assert_int_equal(f.resp.status, 500);
    assert_int_equal(s.calls, 0);
    assert_int_equal(f.resp.body_bytes, n);
    assert_int_equal(f.resp.body.len, 64 * 1024);
    assert_memory_equal(f.resp.body.data, big, 64 * 1024);
    stop(&f);
    free(big);
}

static void test_max_body(void **state)
{
    static const struct fs_action script[] = {{.status = 200, .body = "0123456789"}};
    struct owls_http_request r = {.max_body = 9, .body_fd = -1};
    struct fixture f;
    (void)state;
    start(&f, script, 1, 0);
    assert_int_equal(get(&f, "GET", "/x", &r), OWLS_EINPUT_TOO_LARGE);
    r.max_body = 10;
    assert_int_equal(get(&f, "GET", "/x", &r), OWLS_OK);
    assert_int_equal(f.resp.body.len, 10);
    stop(&f);
}

static void test_put_from_memory_and_fd(void **state)
{
    static const struct fs_action script[] = {{.status = 200}};
    size_t n = 1024 * 1024 + 3;
    char *data = pattern(n);
    char want[OWLS_SHA256_HEX];
    char tmpl[] = "/tmp/owls-http-XXXXXX";
    int fd = mkstemp(tmpl);
    struct owls_http_request r = {.body = data, .body_len = n, .body_fd = -1};
    struct fixture f;
    (void)state;
    assert_true(fd >= 0);
    unlink(tmpl);
    assert_true(write(fd, data, n) == (ssize_t)n);
    start(&f, script, 1, 0);
    /* memory */
    assert_int_equal(get(&f, "PUT", "/m", &r), OWLS_OK);
    owls_sha256_hex(data, n, want);
    assert_int_equal(f.srv.req[0].body_len, n);
    assert_string_equal(f.srv.req[0].body_sha, want);
    /* a slice of a file; the fd's offset is not used */
    memset(&r, 0, sizeof(r));
    r.body_fd = fd;
    r.body_off = 1000;
    r.body_len = 5000;
    assert_int_equal(get(&f, "PUT", "/f", &r), OWLS_OK);
    owls_sha256_hex(data + 1000, 5000, want);
    assert_int_equal(f.srv.req[1].body_len, 5000);
    assert_string_equal(f.srv.req[1].body_sha, want);
    /* POST with a memory body */
    memset(&r, 0, sizeof(r));
    r.body = "{\"a\":1}";
    r.body_len = 7;
    r.body_fd = -1;
    assert_int_equal(get(&f, "POST", "/", &r), OWLS_OK);
    assert_string_equal(f.srv.req[2].method, "POST");
    assert_string_equal(f.srv.req[2].body_head, "{\"a\":1}");
    /* an empty PUT still says Content-Length: 0 */
    memset(&r, 0, sizeof(r));
    r.body_fd = -1;
    assert_int_equal(get(&f, "PUT", "/e", &r), OWLS_OK);
    assert_string_equal(fs_req_header(&f.srv, 3, "content-length"), "0");
    stop(&f);
    close(fd);
    free(data);
}

static void test_head_and_delete(void **state)
{
    static const struct fs_action script[] = {{.status = 200, .headers = "Content-Length: 42\r\n"},
                                              {.status = 204}};
    struct fixture f;
    (void)state;
    start(&f, script, 2, 0);
    assert_int_equal(get(&f, "HEAD", "/h", NULL), OWLS_OK);
    assert_int_equal(f.resp.status, 200);
    assert_int_equal(get(&f, "DELETE", "/d", NULL), OWLS_OK);
    assert_int_equal(f.resp.status, 204);
    assert_string_equal(f.srv.req[1].method, "DELETE");
    stop(&f);
}

/* Transport failures, each with the failure kind it must report and a bound
 * on how long it may take. */
struct fail_case {
    const char *name;
    struct fs_action action;
    long timeout_ms;
    long stall_s;
    enum owls_http_fail fail;
    long min_ms, max_ms;
};

static void test_transport_failures(void **state)
{
    static char half[4096];
    const struct fail_case cases[] = {
        {"reset", {.reset = true}, 0, 0, OWLS_HTTP_CONNECT, 0, 2000},
        {"reset after delay", {.reset = true, .delay_ms = 200}, 0, 0, OWLS_HTTP_CONNECT, 150, 2000},
        {"total timeout", {.status = 200, .delay_ms = 3000}, 300, 0, OWLS_HTTP_TIMEOUT, 250, 1500},
        {"stall mid-body trips the low-speed limit",
         {.status = 200, .body = half, .body_len = sizeof(half), .stall_after = 1000},
         0,
         1,
         OWLS_HTTP_TIMEOUT,
         900,
         10000}, /* curl averages speed over ~5 s: stall limit + up to 5 s */
        {"no answer at all trips the low-speed limit",
         {.status = 200, .delay_ms = 10000},
         0,
         1,
         OWLS_HTTP_TIMEOUT,
         900,
         4000},
    };
    (void)state;
    memset(half, 'h', sizeof(half));
    for (size_t i = 0; i < OWLS_ARRAY_LEN(cases); i++) {
        struct fixture f;
        struct owls_http_request r = {.timeout_ms = cases[i].timeout_ms, .body_fd = -1};
        long long t0, ms;
        enum owls_err rc;
        start(&f, &cases[i].action, 1, cases[i].stall_s);
        t0 = owls_time_mono_ms();
        rc = get(&f, "GET", "/x", &r);
        ms = owls_time_mono_ms() - t0;
        print_message("  %s: %s, %lld ms: %s\n", cases[i].name, owls_strerror(rc), ms, f.em.text);
        assert_int_equal(rc, OWLS_ETRANSIENT);
        assert_int_equal(f.resp.fail, cases[i].fail);
        assert_int_equal(f.resp.status, 0);
        assert_true(ms >= cases[i].min_ms);
        assert_true(ms <= cases[i].max_ms);
        assert_true(strstr(f.em.text, "GET 127.0.0.1:") != NULL);
        stop(&f);
    }
}

/* A long poll is silent on purpose: the stall limit must not kill it. */
static void test_long_poll_exempt_from_stall_limit(void **state)
{
    static const struct fs_action script[] = {{.status = 200, .body = "{}", .delay_ms = 2500}};
    struct owls_http_request r = {.timeout_ms = 10000, .no_stall_limit = true, .body_fd = -1};
    struct fixture f;
    (void)state;
    start(&f, script, 1, 1);
    assert_int_equal(get(&f, "POST", "/", &r), OWLS_OK);
    assert_int_equal(f.resp.status, 200);
    assert_true(f.resp.elapsed_ms >= 2400);
    stop(&f);
}

static void test_connection_refused(void **state)
{
    struct owls_aws_opts o = {.region = "us-east-1"};
    struct owls_http *h;
    struct owls_http_response resp;
    struct owls_errmsg em;
    struct faultsrv s;
    static const struct fs_action script[] = {{.status = 200}};
    char *url;
    struct owls_http_request r = {.method = "GET", .body_fd = -1};
    (void)state;
    /* a port that was free a moment ago: bind, note, close */
    fs_start(&s, script, 1);
    url = fs_url(&s, "/");
    fs_stop(&s);
    r.url = url;
    assert_int_equal(owls_http_new(&o, &h, &em), OWLS_OK);
    owls_http_response_init(&resp);
    assert_int_equal(owls_http_perform(h, &r, &resp, &em), OWLS_ETRANSIENT);
    assert_int_equal(resp.fail, OWLS_HTTP_CONNECT);
    owls_http_response_cleanup(&resp);
    owls_http_free(h);
    free(url);
}

struct canceller {
    struct faultsrv *srv;
    struct owls_http *h;
    atomic_bool *flag; /* NULL: cancel the whole transport */
    long long t_cancel;
};

static void *cancel_thread(void *arg)
{
    struct canceller *c = arg;
    /* wait for the real event: the request reached the server */
    if (fs_wait_requests(c->srv, 1, 10000) < 1)
        return NULL;
    c->t_cancel = owls_time_mono_ms();
    if (c->flag)
        atomic_store(c->flag, true);
    else
        owls_http_cancel(c->h);
    return NULL;
}

static void run_cancel(bool per_request)
{
    static const struct fs_action script[] = {{.status = 200, .delay_ms = 20000}};
    struct fixture f;
    atomic_bool flag = false;
    struct owls_http_request r = {.timeout_ms = 30000, .body_fd = -1};
    struct canceller c;
    pthread_t t;
    long long done;

    start(&f, script, 1, 25);
    c.srv = &f.srv;
    c.h = f.h;
    c.flag = per_request ? &flag : NULL;
    c.t_cancel = 0;
    r.cancel = &flag;
    pthread_create(&t, NULL, cancel_thread, &c);
    assert_int_equal(get(&f, "GET", "/poll", &r), OWLS_ETRANSIENT);
    done = owls_time_mono_ms();
    pthread_join(t, NULL);
    assert_int_equal(f.resp.fail, OWLS_HTTP_CANCELLED);
    assert_true(c.t_cancel > 0);
    print_message("  cancel (%s) took %lld ms\n", per_request ? "flag" : "transport",
                  done - c.t_cancel);
    assert_true(done - c.t_cancel < 500);
    if (!per_request) { /* sticky: later requests fail at once */
        assert_int_equal(get(&f, "GET", "/again", NULL), OWLS_ETRANSIENT);
        assert_int_equal(f.resp.fail, OWLS_HTTP_CANCELLED);
        assert_false(owls_http_sleep(f.h, 5000, NULL));
    }
    stop(&f);
}

static void test_cancel_flag(void **state)
{
    (void)state;
    run_cancel(true);
}

static void test_cancel_transport(void **state)
{
    (void)state;
    run_cancel(false);
}

static void *worker_get(void *arg)
{
    struct fixture *f = arg;
    struct owls_http_response resp;
    struct owls_errmsg em;
    char *url = fs_url(&f->srv, "/t");
    struct owls_http_request r = {.method = "GET", .url = url, .body_fd = -1};
    enum owls_err rc;
    owls_http_response_init(&resp);
    rc = owls_http_perform(f->h, &r, &resp, &em);
    owls_http_response_cleanup(&resp);
    free(url);
    return (void *)(intptr_t)rc;
}

static void test_threads_release_handles(void **state)
{
    static const struct fs_action script[] = {{.status = 200, .body = "ok", .close = true}};
    struct fixture f;
    (void)state;
    start(&f, script, 1, 0);
    for (int i = 0; i < 4; i++) {
        pthread_t t;
        void *ret;
        pthread_create(&t, NULL, worker_get, &f);
        pthread_join(t, &ret);
        assert_int_equal((intptr_t)ret, OWLS_OK);
    }
    assert_int_equal(fs_nreq(&f.srv), 4);
    stop(&f); /* ASan's leak check proves the exited threads' handles were freed */
}

static void test_bad_ca_bundle(void **state)
{
    struct owls_aws_opts o = {.region = "us-east-1", .ca_bundle = "/nonexistent/ca.pem"};
    struct owls_http *h = NULL;
    struct owls_errmsg em;
    (void)state;
    assert_int_equal(owls_http_new(&o, &h, &em), OWLS_ECONFIG);
    assert_null(h);
    assert_non_null(strstr(em.text, "/nonexistent/ca.pem"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_get_buffered_and_headers),
        cmocka_unit_test(test_connection_reuse),
        cmocka_unit_test(test_host_header_is_ours),
        cmocka_unit_test(test_streamed_download),
        cmocka_unit_test(test_consumer_error_stops),
        cmocka_unit_test(test_error_body_not_streamed),
        cmocka_unit_test(test_error_body_capped),
        cmocka_unit_test(test_max_body),
        cmocka_unit_test(test_put_from_memory_and_fd),
        cmocka_unit_test(test_head_and_delete),
        cmocka_unit_test(test_transport_failures),
        cmocka_unit_test(test_long_poll_exempt_from_stall_limit),
        cmocka_unit_test(test_connection_refused),
        cmocka_unit_test(test_cancel_flag),
        cmocka_unit_test(test_cancel_transport),
        cmocka_unit_test(test_threads_release_handles),
        cmocka_unit_test(test_bad_ca_bundle),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
