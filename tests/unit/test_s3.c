/*
 * test_s3.c - S3 addressing and URL building; S3 calls against a loopback
 * fault server (unsigned: no credentials provider): GetObject (buffered,
 * ranged, resumed after a stall, too large), HeadObject, error mapping,
 * PutObject integrity headers, multipart upload and its abort.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <openssl/evp.h>

#include "aws_faultsrv.h"
#include "owls/creds.h"
#include "owls/endpoint.h"
#include "owls/private/s3.h"
#include "owls/retry.h"
#include "owls/s3.h"
#include "owls/util.h"

struct addr_case {
    const char *name;
    const char *endpoint; /* NULL = AWS default for us-east-1 */
    enum owls_s3_addressing mode;
    const char *bucket, *key, *query;
    const char *url, *host, *path; /* NULL url = must fail */
};

static void test_addressing_table(void **state)
{
    static const struct addr_case cases[] = {
        {"aws auto: virtual", NULL, OWLS_S3_ADDR_AUTO, "owls-q4-archive", "run=1/input/a b.csv",
         NULL, "https://owls-q4-archive.s3.us-east-1.amazonaws.com/run%3D1/input/a%20b.csv",
         "owls-q4-archive.s3.us-east-1.amazonaws.com", "/run%3D1/input/a%20b.csv"},
        {"aws auto, dotted bucket: path (TLS wildcard)", NULL, OWLS_S3_ADDR_AUTO, "my.bucket", "k",
         NULL, "https://s3.us-east-1.amazonaws.com/my.bucket/k", "s3.us-east-1.amazonaws.com",
         "/my.bucket/k"},
        {"aws auto, uppercase legacy bucket: path", NULL, OWLS_S3_ADDR_AUTO, "MyBucket", "k", NULL,
         "https://s3.us-east-1.amazonaws.com/MyBucket/k", "s3.us-east-1.amazonaws.com",
         "/MyBucket/k"},
        {"custom endpoint auto: path", "http://127.0.0.1:4566", OWLS_S3_ADDR_AUTO,
         "owls-q4-archive", "é+%=~/x", NULL,
         "http://127.0.0.1:4566/owls-q4-archive/%C3%A9%2B%25%3D~/x", "127.0.0.1:4566",
         "/owls-q4-archive/%C3%A9%2B%25%3D~/x"},
        {"custom endpoint forced virtual", "https://s3.example.test", OWLS_S3_ADDR_VIRTUAL, "b-1",
         "k", NULL, "https://b-1.s3.example.test/k", "b-1.s3.example.test", "/k"},
        {"aws forced path", NULL, OWLS_S3_ADDR_PATH, "owls", "a//b", NULL,
         "https://s3.us-east-1.amazonaws.com/owls/a//b", "s3.us-east-1.amazonaws.com",
         "/owls/a//b"},
        {"query kept as given", "http://localhost:9000/", OWLS_S3_ADDR_AUTO, "bkt", "k",
         "partNumber=1&uploadId=a%2Fb", "http://localhost:9000/bkt/k?partNumber=1&uploadId=a%2Fb",
         "localhost:9000", "/bkt/k"},
        {"bucket-level request", "http://localhost:9000", OWLS_S3_ADDR_PATH, "bkt", NULL, NULL,
         "http://localhost:9000/bkt", "localhost:9000", "/bkt"},
        {"virtual bucket-level request", NULL, OWLS_S3_ADDR_AUTO, "bkt", "", NULL,
         "https://bkt.s3.us-east-1.amazonaws.com/", "bkt.s3.us-east-1.amazonaws.com", "/"},
        {"default port dropped from Host", "https://s3.example.test:443", OWLS_S3_ADDR_PATH, "b",
         "k", NULL, "https://s3.example.test/b/k", "s3.example.test", "/b/k"},
        {"endpoint base path kept", "http://proxy.test:8080/s3/", OWLS_S3_ADDR_PATH, "b", "k", NULL,
         "http://proxy.test:8080/s3/b/k", "proxy.test:8080", "/s3/b/k"},
        {"virtual refuses an invalid bucket", NULL, OWLS_S3_ADDR_VIRTUAL, "Bad_Bucket", "k", NULL,
         NULL, NULL, NULL},
        {"slash in bucket refused", NULL, OWLS_S3_ADDR_PATH, "a/b", "k", NULL, NULL, NULL, NULL},
    };
    (void)state;
    for (size_t i = 0; i < OWLS_ARRAY_LEN(cases); i++) {
        const struct addr_case *c = &cases[i];
        struct owls_endpoint ep;
        struct owls_s3_target t;
        struct owls_errmsg em;
        enum owls_err rc;
        print_message("  %s\n", c->name);
        if (c->endpoint)
            assert_int_equal(owls_endpoint_parse(c->endpoint, &ep, &em), OWLS_OK);
        else
            assert_int_equal(owls_endpoint_default("s3", "us-east-1", &ep, &em), OWLS_OK);
        rc = owls_s3_target_build(&ep, c->endpoint != NULL, c->mode, c->bucket, c->key, c->query,
                                  &t, &em);
        if (c->url == NULL) {
            assert_int_not_equal(rc, OWLS_OK);
            continue;
        }
        assert_int_equal(rc, OWLS_OK);
        assert_string_equal(t.url, c->url);
        assert_string_equal(t.host, c->host);
        assert_string_equal(t.path, c->path);
        owls_s3_target_cleanup(&t);
    }
}

static void test_endpoint_parse_table(void **state)
{
    static const struct {
        const char *url;
        enum owls_err rc;
        const char *authority, *base;
        int port;
    } cases[] = {
        {"http://127.0.0.1:4566", OWLS_OK, "127.0.0.1:4566", "", 4566},
        {"HTTPS://S3.Example.TEST", OWLS_OK, "s3.example.test", "", 443},
        {"http://[::1]:9000/", OWLS_OK, "[::1]:9000", "", 9000},
        {"http://h:80/a/b/", OWLS_OK, "h", "/a/b", 80},
        {"ftp://h", OWLS_ECONFIG, NULL, NULL, 0},
        {"http://", OWLS_ECONFIG, NULL, NULL, 0},
        {"http://h:0", OWLS_ECONFIG, NULL, NULL, 0},
        {"http://h:99999", OWLS_ECONFIG, NULL, NULL, 0},
        {"http://h:12x", OWLS_ECONFIG, NULL, NULL, 0},
        {"http://user:pw@h", OWLS_ECONFIG, NULL, NULL, 0},
        {"http://h/?q=1", OWLS_ECONFIG, NULL, NULL, 0},
        {"http://h?q=1", OWLS_ECONFIG, NULL, NULL, 0},
        {"http://h:80#frag", OWLS_ECONFIG, NULL, NULL, 0},
        {"http://h/base#frag", OWLS_ECONFIG, NULL, NULL, 0},
        {"http://h h", OWLS_ECONFIG, NULL, NULL, 0},
        {"", OWLS_ECONFIG, NULL, NULL, 0},
    };
    (void)state;
    for (size_t i = 0; i < OWLS_ARRAY_LEN(cases); i++) {
        struct owls_endpoint ep;
        struct owls_errmsg em;
        print_message("  '%s'\n", cases[i].url);
        assert_int_equal(owls_endpoint_parse(cases[i].url, &ep, &em), cases[i].rc);
        if (cases[i].rc != OWLS_OK)
            continue;
        assert_string_equal(ep.authority, cases[i].authority);
        assert_string_equal(ep.base, cases[i].base);
        assert_int_equal(ep.port, cases[i].port);
    }
}

static void test_bucket_dns(void **state)
{
    static const struct {
        const char *b;
        bool ok;
    } cases[] = {
        {"owls-q4-archive", true},
        {"a.b.c", true},
        {"ab", false},
        {"-ab", false},
        {"ab-", false},
        {"a..b", false},
        {"A-b", false},
        {"a_b", false},
        {"192.168.1.1", false},
        {"a.-b", false},
        {"a-.b", false},
        {"", false},
    };
    (void)state;
    for (size_t i = 0; i < OWLS_ARRAY_LEN(cases); i++)
        assert_int_equal(owls_s3_bucket_dns_ok(cases[i].b), cases[i].ok);
    assert_int_equal(owls_s3_bucket_dns_ok(NULL), false);
}

/* --- calls against the fault server ---------------------------------------- */

static bool no_sleep(void *arg, long ms)
{
    (void)arg, (void)ms;
    return true;
}

struct s3fx {
    struct faultsrv srv;
    struct owls_http *h;
    struct owls_s3 *s3;
    struct owls_errmsg em;
};

static const struct owls_retry_hooks s_hooks = {.sleep_fn = no_sleep};

static void s3_start(struct s3fx *f, const struct fs_action *script, size_t n)
{
    char *ep;
    struct owls_aws_opts o = {
        .region = "us-east-1", .low_speed_time_s = 1, .retry_hooks = &s_hooks};
    memset(f, 0, sizeof(*f));
    fs_start(&f->srv, script, n);
    ep = fs_url(&f->srv, "");
    o.s3_endpoint = ep;
    assert_int_equal(owls_http_new(&o, &f->h, &f->em), OWLS_OK);
    assert_int_equal(owls_s3_new(&o, f->h, NULL, &f->s3, &f->em), OWLS_OK);
    free(ep);
}

static void s3_stop(struct s3fx *f)
{
    owls_s3_free(f->s3);
    owls_http_free(f->h);
    fs_stop(&f->srv);
}

static void test_get_head_and_errors(void **state)
{
    static const struct fs_action script[] = {
        {.status = 200,
         .headers = "ETag: \"0123abcd\"\r\nContent-Type: text/csv\r\n",
         .body = "a,b\n1,2\n"},
        {.status = 404,
         .body = "<Error><Code>NoSuchKey</Code><Message>The specified key does not "
                 "exist.</Message></Error>"},
        {.status = 403,
         .body = "<Error><Code>AccessDenied</Code><Message>Access "
                 "Denied</Message></Error>"},
        {.status = 200, .headers = "ETag: \"feed\"\r\nContent-Length: 1234\r\n"},
        {.status = 404},
        {.status = 403},
    };
    struct s3fx f;
    char *data;
    size_t len;
    struct owls_s3_object info;
    (void)state;
    s3_start(&f, script, OWLS_ARRAY_LEN(script));
    assert_int_equal(owls_s3_get_buf(f.s3, "owls-q4-archive", "run=1/in put.csv", NULL, &data, &len,
                                     &info, &f.em),
                     OWLS_OK);
    assert_int_equal(len, 8);
    assert_string_equal(data, "a,b\n1,2\n");
    assert_string_equal(info.etag, "0123abcd");
    assert_string_equal(info.content_type, "text/csv");
    assert_int_equal(info.size, 8);
    free(data);
    assert_string_equal(f.srv.req[0].target, "/owls-q4-archive/run%3D1/in%20put.csv");
    assert_non_null(fs_req_header(&f.srv, 0, "x-amz-content-sha256"));

    assert_int_equal(owls_s3_get_buf(f.s3, "b", "k", NULL, &data, &len, NULL, &f.em),
                     OWLS_ENOTFOUND);
    assert_null(data);
    assert_non_null(strstr(f.em.text, "NoSuchKey"));
    assert_int_equal(owls_s3_get_buf(f.s3, "b", "k", NULL, &data, &len, NULL, &f.em), OWLS_EAUTH);
    assert_non_null(strstr(f.em.text, "AccessDenied"));

    assert_int_equal(owls_s3_head(f.s3, "b", "k", &info, &f.em), OWLS_OK);
    assert_string_equal(f.srv.req[3].method, "HEAD");
    assert_int_equal(info.size, 1234);
    assert_string_equal(info.etag, "feed");
    assert_int_equal(owls_s3_head(f.s3, "b", "k", &info, &f.em), OWLS_ENOTFOUND);
    assert_int_equal(owls_s3_head(f.s3, "b", "k", &info, &f.em), OWLS_EAUTH);
    s3_stop(&f);
}

static void test_get_range_and_too_large(void **state)
{
    static const struct fs_action script[] = {
        {.status = 206,
         .headers = "Content-Range: bytes 5-9/100\r\nETag: \"e\"\r\n",
         .body = "56789"},
        {.status = 200, .body = "0123456789"},
    };
    struct s3fx f;
    struct owls_s3_get_opts o = {.range = true, .range_first = 5, .range_last = 9};
    struct owls_s3_object info;
    char *data;
    size_t len;
    (void)state;
    s3_start(&f, script, OWLS_ARRAY_LEN(script));
    assert_int_equal(owls_s3_get_buf(f.s3, "b", "k", &o, &data, &len, &info, &f.em), OWLS_OK);
    assert_string_equal(fs_req_header(&f.srv, 0, "range"), "bytes=5-9");
    assert_string_equal(data, "56789");
    assert_int_equal(info.size, 100);
    assert_int_equal(info.length, 5);
    free(data);
    memset(&o, 0, sizeof(o));
    o.max_bytes = 9;
    assert_int_equal(owls_s3_get_buf(f.s3, "b", "k", &o, &data, &len, NULL, &f.em),
                     OWLS_EINPUT_TOO_LARGE);
    assert_non_null(strstr(f.em.text, "larger than the limit of 9 bytes"));
    assert_int_equal(fs_nreq(&f.srv), 2); /* not retried */
    s3_stop(&f);
}

static void test_get_resumes_after_stall(void **state)
{
    static char body[4000];
    struct fs_action script[] = {
        {.status = 200,
         .headers = "ETag: \"v1\"\r\n",
         .body = body,
         .body_len = sizeof(body),
         .stall_after = 1000},
        {.status = 206,
         .headers = "ETag: \"v1\"\r\nContent-Range: bytes 1000-3999/4000\r\n",
         .body = body + 1000,
         .body_len = sizeof(body) - 1000},
    };
    struct s3fx f;
    char *data;
    size_t len;
    (void)state;
    for (size_t i = 0; i < sizeof(body); i++)
        body[i] = (char)('A' + i % 23);
    s3_start(&f, script, OWLS_ARRAY_LEN(script));
    assert_int_equal(owls_s3_get_buf(f.s3, "b", "k", NULL, &data, &len, NULL, &f.em), OWLS_OK);
    assert_int_equal(len, sizeof(body));
    assert_memory_equal(data, body, sizeof(body)); /* every byte once, in order */
    assert_null(fs_req_header(&f.srv, 0, "range"));
    assert_string_equal(fs_req_header(&f.srv, 1, "range"), "bytes=1000-");
    assert_string_equal(fs_req_header(&f.srv, 1, "if-match"), "\"v1\"");
    free(data);
    s3_stop(&f);
}

/* A server may ignore Range (RFC 9110 14.2) and send the whole object with a
 * 200: GetObject must then fail, not hand on_body the bytes again (a resumed
 * download) or bytes outside the range asked for. */
static void test_get_refuses_an_ignored_range(void **state)
{
    static char body[4000];
    const struct fs_action resumed[] = {
        {.status = 200,
         .headers = "ETag: \"v1\"\r\n",
         .body = body,
         .body_len = sizeof(body),
         .stall_after = 1000},
        {.status = 200, .headers = "ETag: \"v1\"\r\n", .body = body, .body_len = sizeof(body)},
    };
    const struct fs_action ranged[] = {{.status = 200, .body = body, .body_len = sizeof(body)}};
    const struct fs_action shifted[] = {{.status = 206,
                                         .headers = "Content-Range: bytes 0-4/4000\r\n",
                                         .body = body,
                                         .body_len = 5}};
    static const struct owls_s3_get_opts first5 = {
        .range = true, .range_first = 5, .range_last = 9};
    const struct {
        const char *name;
        const struct fs_action *script;
        size_t nscript;
        const struct owls_s3_get_opts *o;
        const char *why;
    } cases[] = {
        {"resume answered with the whole object", resumed, OWLS_ARRAY_LEN(resumed), NULL,
         "byte 1000"},
        {"range answered with the whole object", ranged, 1, &first5, "byte 5"},
        {"range answered with other bytes", shifted, 1, &first5, "byte 5"},
    };
    (void)state;
    for (size_t i = 0; i < sizeof(body); i++)
        body[i] = (char)('A' + i % 23);
    for (size_t i = 0; i < OWLS_ARRAY_LEN(cases); i++) {
        struct s3fx f;
        char *data = NULL;
        size_t len = 0;

        print_message("  %s\n", cases[i].name);
        s3_start(&f, cases[i].script, cases[i].nscript);
        assert_int_equal(owls_s3_get_buf(f.s3, "b", "k", cases[i].o, &data, &len, NULL, &f.em),
                         OWLS_EAWS);
        assert_null(data);
        if (strstr(f.em.text, cases[i].why) == NULL)
            fail_msg("message \"%s\" lacks \"%s\"", f.em.text, cases[i].why);
        assert_int_equal(fs_nreq(&f.srv), cases[i].nscript); /* not retried */
        s3_stop(&f);
    }
}

static void b64(const unsigned char *p, size_t n, char *out)
{
    EVP_EncodeBlock((unsigned char *)out, p, (int)n);
}

static void test_put_integrity_headers(void **state)
{
    static const struct fs_action script[] = {{.status = 200, .headers = "ETag: \"abc\"\r\n"}};
    struct s3fx f;
    struct owls_s3_put_result res;
    struct owls_s3_put_opts o = {.content_type = "application/json"};
    const char *body = "{\"schema\":\"owls-q4.manifest/1\"}";
    unsigned char sha[32];
    char hex[65], want64[48];
    (void)state;
    s3_start(&f, script, 1);
    assert_int_equal(
        owls_s3_put(f.s3, "art", "run=1/MANIFEST.json", body, strlen(body), &o, &res, &f.em),
        OWLS_OK);
    owls_sha256(body, strlen(body), sha);
    owls_hex(sha, 32, hex);
    b64(sha, 32, want64);
    assert_string_equal(f.srv.req[0].method, "PUT");
    assert_string_equal(f.srv.req[0].target, "/art/run%3D1/MANIFEST.json");
    assert_string_equal(fs_req_header(&f.srv, 0, "x-amz-content-sha256"), hex);
    assert_string_equal(fs_req_header(&f.srv, 0, "x-amz-checksum-sha256"), want64);
    assert_string_equal(fs_req_header(&f.srv, 0, "content-type"), "application/json");
    assert_string_equal(f.srv.req[0].body_sha, hex);
    assert_string_equal(res.etag, "abc");
    assert_int_equal(res.parts, 0);
    s3_stop(&f);
}

/* A digest the caller already has is sent as it is (not recomputed from the
 * body: a digest of other bytes goes out unchanged, for S3 to refuse); one
 * that is not 64 hex digits is refused before any request. */
static void test_put_known_digest(void **state)
{
    static const struct fs_action script[] = {{.status = 200, .headers = "ETag: \"abc\"\r\n"}};
    static const char *const malformed[] = {
        "", "bb7ef6421a2d146a598c08d340feee75ba1bf76a0275b53743d279b7648ff7a",
        "bb7ef6421a2d146a598c08d340feee75ba1bf76a0275b53743d279b7648ff7a6f",
        "xb7ef6421a2d146a598c08d340feee75ba1bf76a0275b53743d279b7648ff7a6"};
    const char *body = "a,b\n1,2\n";
    unsigned char sha[32];
    char hex[65], other[65], want64[48];
    struct s3fx f;
    (void)state;
    owls_sha256(body, strlen(body), sha);
    owls_hex(sha, 32, hex);
    b64(sha, 32, want64);
    owls_sha256("other bytes", 11, sha);
    owls_hex(sha, 32, other);
    s3_start(&f, script, 1);

    struct owls_s3_put_opts o = {.sha256_hex = hex};
    assert_int_equal(owls_s3_put(f.s3, "b", "k1", body, strlen(body), &o, NULL, &f.em), OWLS_OK);
    assert_string_equal(fs_req_header(&f.srv, 0, "x-amz-content-sha256"), hex);
    assert_string_equal(fs_req_header(&f.srv, 0, "x-amz-checksum-sha256"), want64);
    assert_string_equal(f.srv.req[0].body_sha, hex);

    o.sha256_hex = other;
    assert_int_equal(owls_s3_put(f.s3, "b", "k2", body, strlen(body), &o, NULL, &f.em), OWLS_OK);
    assert_string_equal(fs_req_header(&f.srv, 1, "x-amz-content-sha256"), other);
    assert_string_equal(f.srv.req[1].body_sha, hex);

    for (size_t i = 0; i < OWLS_ARRAY_LEN(malformed); i++) {
        o.sha256_hex = malformed[i];
        assert_int_equal(owls_s3_put(f.s3, "b", "k3", body, strlen(body), &o, NULL, &f.em),
                         OWLS_EINTERNAL);
        assert_non_null(strstr(f.em.text, "sha256_hex"));
    }
    assert_int_equal(fs_nreq(&f.srv), 2);
    s3_stop(&f);
}

/* ExpiredToken from S3 drops the cached credentials (one retry, signed
 * afresh): the invalidate hook must reach the credentials provider. */
static void test_expired_token_invalidates(void **state)
{
    static const struct fs_action script[] = {
        {.status = 400, .body = "<Error><Code>ExpiredToken</Code></Error>"},
        {.status = 200, .body = "x"}};
    struct owls_aws_opts o = {
        .region = "us-east-1", .low_speed_time_s = 1, .retry_hooks = &s_hooks};
    struct owls_creds_provider *cp;
    struct s3fx f;
    char *ep, *data = NULL;
    size_t len = 0;
    (void)state;
    setenv("AWS_ACCESS_KEY_ID", "AKIDS3TEST", 1);
    setenv("AWS_SECRET_ACCESS_KEY", "s3-test-secret", 1);
    unsetenv("AWS_SESSION_TOKEN");
    setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
    assert_int_equal(owls_creds_provider_new(NULL, &cp), OWLS_OK);
    memset(&f, 0, sizeof(f));
    fs_start(&f.srv, script, OWLS_ARRAY_LEN(script));
    ep = fs_url(&f.srv, "");
    o.s3_endpoint = ep;
    assert_int_equal(owls_http_new(&o, &f.h, &f.em), OWLS_OK);
    assert_int_equal(owls_s3_new(&o, f.h, cp, &f.s3, &f.em), OWLS_OK);
    free(ep);

    if (owls_s3_get_buf(f.s3, "b", "k", NULL, &data, &len, NULL, &f.em) != OWLS_OK)
        fail_msg("get: %s", f.em.text);
    assert_int_equal(len, 1);
    assert_int_equal(fs_nreq(&f.srv), 2);
    for (size_t i = 0; i < 2; i++)
        assert_non_null(
            strstr(fs_req_header(&f.srv, i, "authorization"), "Credential=AKIDS3TEST/"));
    free(data);
    s3_stop(&f);
    owls_creds_provider_free(cp);
    unsetenv("AWS_ACCESS_KEY_ID");
    unsetenv("AWS_SECRET_ACCESS_KEY");
}

#define MIB (1024 * 1024)

static void test_multipart_upload(void **state)
{
    static const struct fs_action script[] = {
        {.status = 200,
         .body = "<InitiateMultipartUploadResult><Bucket>b</Bucket><Key>k</Key><UploadId>up/"
                 "ID+1</UploadId></InitiateMultipartUploadResult>"},
        {.status = 200, .headers = "ETag: \"p1\"\r\n"},
        {.status = 200, .headers = "ETag: \"p2\"\r\n"},
        {.status = 200,
         .body = "<?xml version=\"1.0\"?>\n<CompleteMultipartUploadResult><ETag>\"final-2\"</"
                 "ETag></CompleteMultipartUploadResult>"},
    };
    size_t n = 11 * MIB + 5;
    char *data = malloc(n);
    struct s3fx f;
    struct owls_s3_put_result res;
    unsigned char d[EVP_MAX_MD_SIZE];
    unsigned int dl;
    char md5_1[32], sha_2[65];
    char tmpl[] = "/tmp/owls-s3-XXXXXX";
    int fd = mkstemp(tmpl);
    (void)state;
    for (size_t i = 0; i < n; i++)
        data[i] = (char)(i * 31 + i / 4096);
    assert_true(fd >= 0);
    unlink(tmpl);
    assert_true(write(fd, "HEAD", 4) == 4 && write(fd, data, n) == (ssize_t)n);
    for (int round = 0; round < 2; round++) { /* from memory, then from an fd */
        size_t base = (size_t)round * 4;
        s3_start(&f, script, OWLS_ARRAY_LEN(script));
        if (round == 0)
            assert_int_equal(owls_s3_put(f.s3, "b", "big/file", data, n, NULL, &res, &f.em),
                             OWLS_OK);
        else
            assert_int_equal(owls_s3_put_fd(f.s3, "b", "big/file", fd, 4, n, NULL, &res, &f.em),
                             OWLS_OK);
        (void)base;
        assert_int_equal(fs_nreq(&f.srv), 4);
        assert_string_equal(f.srv.req[0].method, "POST");
        assert_string_equal(f.srv.req[0].target, "/b/big/file?uploads");
        assert_string_equal(f.srv.req[1].target, "/b/big/file?partNumber=1&uploadId=up%2FID%2B1");
        assert_string_equal(f.srv.req[2].target, "/b/big/file?partNumber=2&uploadId=up%2FID%2B1");
        assert_int_equal(f.srv.req[1].body_len, 8 * MIB);
        assert_int_equal(f.srv.req[2].body_len, n - 8 * MIB);
        EVP_Digest(data, 8 * MIB, d, &dl, EVP_md5(), NULL);
        b64(d, 16, md5_1);
        assert_string_equal(fs_req_header(&f.srv, 1, "content-md5"), md5_1);
        owls_sha256_hex(data + 8 * MIB, n - 8 * MIB, sha_2);
        assert_string_equal(fs_req_header(&f.srv, 2, "x-amz-content-sha256"), sha_2);
        assert_string_equal(f.srv.req[2].body_sha, sha_2);
        assert_string_equal(f.srv.req[3].target, "/b/big/file?uploadId=up%2FID%2B1");
        assert_non_null(strstr(f.srv.req[3].body_head,
                               "<Part><PartNumber>1</PartNumber><ETag>\"p1\"</ETag></Part>"
                               "<Part><PartNumber>2</PartNumber><ETag>\"p2\"</ETag></Part>"));
        assert_string_equal(res.etag, "final-2");
        assert_int_equal(res.parts, 2);
        s3_stop(&f);
    }
    close(fd);
    free(data);
}

static void test_multipart_aborts_on_failure(void **state)
{
    static const struct fs_action script[] = {
        {.status = 200,
         .body = "<InitiateMultipartUploadResult><UploadId>U1</UploadId>"
                 "</InitiateMultipartUploadResult>"},
        {.status = 400, .body = "<Error><Code>InvalidDigest</Code></Error>"},
        {.status = 204},
    };
    size_t n = 9 * MIB;
    char *data = calloc(1, n);
    struct s3fx f;
    (void)state;
    s3_start(&f, script, OWLS_ARRAY_LEN(script));
    assert_int_equal(owls_s3_put(f.s3, "b", "k", data, n, NULL, NULL, &f.em), OWLS_EAWS);
    assert_non_null(strstr(f.em.text, "InvalidDigest"));
    assert_int_equal(fs_nreq(&f.srv), 3);
    assert_string_equal(f.srv.req[2].method, "DELETE");
    assert_string_equal(f.srv.req[2].target, "/b/k?uploadId=U1");
    s3_stop(&f);
    free(data);
}

static void test_complete_error_in_200_is_retried(void **state)
{
    static const struct fs_action script[] = {
        {.status = 200,
         .body = "<InitiateMultipartUploadResult><UploadId>U</UploadId>"
                 "</InitiateMultipartUploadResult>"},
        {.status = 200, .headers = "ETag: \"p1\"\r\n"},
        {.status = 200, .headers = "ETag: \"p2\"\r\n"},
        {.status = 200, .body = "<Error><Code>InternalError</Code></Error>"},
        {.status = 200,
         .body = "<CompleteMultipartUploadResult><ETag>\"x-2\"</ETag>"
                 "</CompleteMultipartUploadResult>"},
    };
    size_t n = 9 * MIB;
    char *data = calloc(1, n);
    struct owls_s3_put_result res;
    struct s3fx f;
    (void)state;
    s3_start(&f, script, OWLS_ARRAY_LEN(script));
    assert_int_equal(owls_s3_put(f.s3, "b", "k", data, n, NULL, &res, &f.em), OWLS_OK);
    assert_int_equal(fs_nreq(&f.srv), 5);
    assert_string_equal(res.etag, "x-2");
    s3_stop(&f);
    free(data);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_addressing_table),
        cmocka_unit_test(test_endpoint_parse_table),
        cmocka_unit_test(test_bucket_dns),
        cmocka_unit_test(test_get_head_and_errors),
        cmocka_unit_test(test_get_range_and_too_large),
        cmocka_unit_test(test_get_resumes_after_stall),
        cmocka_unit_test(test_get_refuses_an_ignored_range),
        cmocka_unit_test(test_put_integrity_headers),
        cmocka_unit_test(test_put_known_digest),
        cmocka_unit_test(test_expired_token_invalidates),
        cmocka_unit_test(test_multipart_upload),
        cmocka_unit_test(test_multipart_aborts_on_failure),
        cmocka_unit_test(test_complete_error_in_200_is_retried),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
