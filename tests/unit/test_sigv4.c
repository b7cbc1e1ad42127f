/*
 * test_sigv4.c - the SigV4 signer against:
 *   1. the AWS SigV4 test suite (tests/data/sigv4/, from aws-c-auth): every
 *      case directory, header and query variants, checked stage by stage
 *      (canonical request, string to sign, signature) and then as the whole
 *      signed request;
 *   2. S3 cases signed by botocore (tests/data/sigv4-s3/cases.json, written
 *      once by gen.py): keys with spaces, '=', '+', '%', unicode, specials,
 *      dot segments, UNSIGNED-PAYLOAD, session tokens, presigned URLs;
 *   3. named tables for owls_uri_encode(), canonical URIs and queries;
 *   4. the derived-key cache (hit/miss counters).
 *
 * Data directories: $OWLS_SIGV4_DATA / $OWLS_SIGV4_S3_DATA, else
 * tests/data/sigv4 and tests/data/sigv4-s3 relative to the current directory
 * (tests/run-unit.sh runs from the repository root).
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <jansson.h>

#include "owls/buf.h"
#include "owls/fsio.h"
#include "owls/hash.h"
#include "owls/private/sigv4.h"
#include "owls/sigv4.h"
#include "owls/util.h"

#define SUITE_CASES 38 /* case directories in the AWS suite we ship */

static const char *suite_dir(void)
{
    const char *d = getenv("OWLS_SIGV4_DATA");
    return d && *d ? d : "tests/data/sigv4";
}

static const char *s3_dir(void)
{
    const char *d = getenv("OWLS_SIGV4_S3_DATA");
    return d && *d ? d : "tests/data/sigv4-s3";
}

/* Whole file, NUL-terminated; fails the test if unreadable. */
static char *slurp(const char *dir, const char *name, const char *file, size_t *len)
{
    char *path = owls_xasprintf("%s/%s/%s", dir, name, file);
    char *data = NULL;
    size_t n = 0;
    struct owls_errmsg em = {{0}};

    if (owls_file_read(path, &data, &n, &em) != OWLS_OK)
        fail_msg("cannot read %s: %s", path, em.text);
    free(path);
    if (len)
        *len = n;
    return data;
}

/* A copy of a JSON string member, or NULL. */
static char *jdup(json_t *obj, const char *key)
{
    const char *s = json_string_value(json_object_get(obj, key));
    return s ? owls_xstrdup(s) : NULL;
}

/* ---- the AWS suite ------------------------------------------------------------ */

struct parsed_request {
    char *method;
    char *path;
    char *query; /* NULL when none */
    char *request_line;
    char *header_lines; /* the header block as in the file, each line + "\n" */
    struct owls_sigv4_header hdr[16];
    char *names[16];
    char *values[16];
    size_t nhdr;
    char *body;
    size_t body_len;
};

static void parsed_request_free(struct parsed_request *r)
{
    free(r->method);
    free(r->path);
    free(r->query);
    free(r->request_line);
    free(r->header_lines);
    for (size_t i = 0; i < r->nhdr; i++) {
        free(r->names[i]);
        free(r->values[i]);
    }
    free(r->body);
}

/* request.txt: "METHOD target HTTP/1.1", header lines ("Name:value"; a line
 * starting with whitespace continues the previous value, kept with its
 * newline as an obs-fold), an empty line, the body. The target may contain
 * spaces (get-space-*), so the version is taken from the end. */
static void parse_request(const char *text, size_t len, struct parsed_request *r)
{
    const char *p = text, *end = text + len;
    const char *eol = memchr(p, '\n', (size_t)(end - p));
    const char *sp1, *sp2, *target, *q;
    struct owls_buf hl;

    memset(r, 0, sizeof(*r));
    assert_non_null(eol);
    r->request_line = owls_xstrndup(p, (size_t)(eol - p));
    sp1 = strchr(r->request_line, ' ');
    sp2 = strrchr(r->request_line, ' ');
    assert_true(sp1 != NULL && sp2 != NULL && sp2 > sp1);
    r->method = owls_xstrndup(r->request_line, (size_t)(sp1 - r->request_line));
    target = sp1 + 1;
    q = memchr(target, '?', (size_t)(sp2 - target));
    if (q) {
        r->path = owls_xstrndup(target, (size_t)(q - target));
        r->query = owls_xstrndup(q + 1, (size_t)(sp2 - q - 1));
    } else {
        r->path = owls_xstrndup(target, (size_t)(sp2 - target));
    }
    p = eol + 1;
    owls_buf_init(&hl);
    while (p < end) {
        size_t ll;
        eol = memchr(p, '\n', (size_t)(end - p));
        ll = eol ? (size_t)(eol - p) : (size_t)(end - p);
        if (ll == 0) { /* the empty line: the body follows */
            p = eol ? eol + 1 : end;
            break;
        }
        owls_buf_append(&hl, p, ll);
        owls_buf_putc(&hl, '\n');
        if (p[0] == ' ' || p[0] == '\t') {
            char *v;
            assert_true(r->nhdr > 0);
            v = owls_xasprintf("%s\n%.*s", r->values[r->nhdr - 1], (int)ll, p);
            free(r->values[r->nhdr - 1]);
            r->values[r->nhdr - 1] = v;
        } else {
            const char *colon = memchr(p, ':', ll);
            assert_non_null(colon);
            assert_true(r->nhdr < OWLS_ARRAY_LEN(r->hdr));
            r->names[r->nhdr] = owls_xstrndup(p, (size_t)(colon - p));
            r->values[r->nhdr] = owls_xstrndup(colon + 1, ll - (size_t)(colon - p) - 1);
            r->nhdr++;
        }
        p = eol ? eol + 1 : end;
    }
    for (size_t i = 0; i < r->nhdr; i++) {
        r->hdr[i].name = r->names[i];
        r->hdr[i].value = r->values[i];
    }
    r->header_lines = owls_buf_steal(&hl, NULL);
    r->body_len = (size_t)(end - p);
    r->body = owls_xstrndup(p, r->body_len);
}

static time_t parse_stamp(const char *s)
{
    struct tm tm = {0};
    assert_int_equal(sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2dZ", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
                            &tm.tm_hour, &tm.tm_min, &tm.tm_sec),
                     6);
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    return timegm(&tm);
}

/* Expected text of a stage file; one trailing newline (if any) dropped. */
static char *expected(const char *name, const char *mode, const char *stage)
{
    char *file = owls_xasprintf("%s-%s.txt", mode, stage);
    size_t n;
    char *s = slurp(suite_dir(), name, file, &n);
    free(file);
    if (n > 0 && s[n - 1] == '\n')
        s[n - 1] = '\0';
    return s;
}

/* A query string split at '&' and sorted, for order-insensitive checks. */
static char *sorted_params(const char *query)
{
    char *dup = owls_xstrdup(query), *save = NULL, *tok;
    char *parts[64];
    size_t n = 0;
    struct owls_buf b;

    for (tok = strtok_r(dup, "&", &save); tok && n < OWLS_ARRAY_LEN(parts);
         tok = strtok_r(NULL, "&", &save))
        parts[n++] = tok;
    for (size_t i = 1; i < n; i++) /* insertion sort: tiny lists */
        for (size_t j = i; j > 0 && strcmp(parts[j - 1], parts[j]) > 0; j--) {
            char *t = parts[j];
            parts[j] = parts[j - 1];
            parts[j - 1] = t;
        }
    owls_buf_init(&b);
    for (size_t i = 0; i < n; i++) {
        if (i)
            owls_buf_putc(&b, '&');
        owls_buf_puts(&b, parts[i]);
    }
    free(dup);
    return owls_buf_steal(&b, NULL);
}

struct suite_case {
    char name[256];
    bool query_mode;
};

static void run_suite_case(void **state)
{
    const struct suite_case *c = *state;
    const char *mode = c->query_mode ? "query" : "header";
    size_t rlen;
    char *req_text = slurp(suite_dir(), c->name, "request.txt", &rlen);
    char *ctx_path = owls_xasprintf("%s/%s/context.json", suite_dir(), c->name);
    json_error_t jerr;
    json_t *ctx = json_load_file(ctx_path, 0, &jerr);
    struct parsed_request r;
    struct owls_creds creds = {0};
    struct owls_sigv4_opts o = {0};
    struct owls_sigv4_result res = {0};
    struct owls_errmsg em = {{0}};
    struct owls_sigv4_header hdrs[20];
    char body_hash[OWLS_SHA256_HEX];
    char *exp_cr, *exp_sts, *exp_sig, *exp_signed, *got_signed;
    struct owls_buf sreq;
    json_t *jc;
    bool sign_body, normalize;
    size_t nh;

    if (ctx == NULL)
        fail_msg("%s: %s line %d", ctx_path, jerr.text, jerr.line);
    parse_request(req_text, rlen, &r);

    jc = json_object_get(ctx, "credentials");
    creds.access_key_id = jdup(jc, "access_key_id");
    creds.secret_access_key = jdup(jc, "secret_access_key");
    creds.session_token = jdup(jc, "token");
    sign_body = json_is_true(json_object_get(ctx, "sign_body"));
    normalize = json_is_true(json_object_get(ctx, "normalize"));
    assert_non_null(creds.access_key_id);
    assert_non_null(creds.secret_access_key);

    owls_sha256_hex(r.body, r.body_len, body_hash);
    nh = r.nhdr;
    memcpy(hdrs, r.hdr, nh * sizeof(hdrs[0]));
    if (sign_body && !c->query_mode) /* aws-c-auth's signed body header */
        hdrs[nh++] = (struct owls_sigv4_header){"x-amz-content-sha256", body_hash};

    o.method = r.method;
    o.path = r.path;
    o.query = r.query;
    o.headers = hdrs;
    o.nheaders = nh;
    o.payload_hash = body_hash;
    o.region = json_string_value(json_object_get(ctx, "region"));
    o.service = json_string_value(json_object_get(ctx, "service"));
    o.now = parse_stamp(json_string_value(json_object_get(ctx, "timestamp")));
    o.where = c->query_mode ? OWLS_SIGV4_IN_QUERY : OWLS_SIGV4_IN_HEADER;
    o.expires = (long)json_integer_value(json_object_get(ctx, "expiration_in_seconds"));
    o.omit_session_token = json_is_true(json_object_get(ctx, "omit_session_token"));
    /* Every suite case is service "service", whose default rules are
     * normalize + double-encode: the "normalize": true cases run on the
     * defaults. The "normalize": false cases (the *-unnormalized ones) ask
     * for double-encoding without normalization, which no real service
     * but S3-style signing does: force exactly those rules. */
    assert_string_equal(o.service, "service");
    if (!normalize) {
        o.force_uri_rules = true;
        o.double_encode = true;
        o.normalize_path = false;
    }

    if (owls_sigv4_sign(&creds, &o, &res, &em) != OWLS_OK)
        fail_msg("%s/%s: sign failed: %s", c->name, mode, em.text);

    exp_cr = expected(c->name, mode, "canonical-request");
    exp_sts = expected(c->name, mode, "string-to-sign");
    exp_sig = expected(c->name, mode, "signature");
    assert_string_equal(res.canonical_request, exp_cr);
    assert_string_equal(res.string_to_sign, exp_sts);
    assert_string_equal(res.signature, exp_sig);

    /* The whole signed request, rebuilt as aws-c-auth writes it. */
    owls_buf_init(&sreq);
    if (c->query_mode) {
        owls_buf_printf(&sreq, "%s %s?%s HTTP/1.1\n", r.method, r.path, res.query);
        owls_buf_puts(&sreq, r.header_lines);
        assert_null(res.authorization);
    } else {
        owls_buf_printf(&sreq, "%s\n", r.request_line);
        owls_buf_puts(&sreq, r.header_lines);
        if (creds.session_token)
            owls_buf_printf(&sreq, "X-Amz-Security-Token:%s\n", creds.session_token);
        owls_buf_printf(&sreq, "X-Amz-Date:%s\n", res.amz_date);
        if (sign_body)
            owls_buf_printf(&sreq, "x-amz-content-sha256:%s\n", body_hash);
        owls_buf_printf(&sreq, "Authorization:%s\n", res.authorization);
        assert_null(res.query);
    }
    owls_buf_putc(&sreq, '\n');
    owls_buf_append(&sreq, r.body, r.body_len);
    got_signed = owls_buf_steal(&sreq, NULL);
    {
        char *file = owls_xasprintf("%s-signed-request.txt", mode);
        exp_signed = slurp(suite_dir(), c->name, file, NULL);
        free(file);
    }
    /* The Authorization line / query first, for a readable failure. */
    if (!c->query_mode) {
        char *line = strstr(exp_signed, "\nAuthorization:");
        assert_non_null(line);
        line += strlen("\nAuthorization:");
        assert_int_equal(strncmp(line, res.authorization, strlen(res.authorization)), 0);
        assert_int_equal(line[strlen(res.authorization)], '\n');
    } else {
        const char *qs = strchr(exp_signed, '?');
        const char *qe = strstr(exp_signed, " HTTP/1.1\n");
        assert_true(qs && qe && qe > qs);
        assert_int_equal((size_t)(qe - qs - 1), strlen(res.query));
        assert_int_equal(memcmp(qs + 1, res.query, strlen(res.query)), 0);
    }
    assert_string_equal(got_signed, exp_signed);

    free(got_signed);
    free(exp_signed);
    free(exp_cr);
    free(exp_sts);
    free(exp_sig);
    owls_sigv4_result_cleanup(&res);
    owls_creds_cleanup(&creds);
    parsed_request_free(&r);
    json_decref(ctx);
    free(ctx_path);
    free(req_text);
}

static int name_cmp(const void *a, const void *b)
{
    return strcmp(((const struct suite_case *)a)->name, ((const struct suite_case *)b)->name);
}

/* Every directory of the suite, sorted; fails if the data is missing. */
static size_t list_suite(struct suite_case *out, size_t cap)
{
    DIR *d = opendir(suite_dir());
    struct dirent *e;
    size_t n = 0;

    if (d == NULL) {
        fprintf(stderr,
                "test_sigv4: cannot open %s (run from the repo root or set "
                "OWLS_SIGV4_DATA)\n",
                suite_dir());
        return 0;
    }
    while ((e = readdir(d)) != NULL && n < cap) {
        char *p;
        FILE *f;
        if (e->d_name[0] == '.')
            continue;
        p = owls_xasprintf("%s/%s/context.json", suite_dir(), e->d_name);
        f = fopen(p, "r");
        free(p);
        if (f == NULL)
            continue; /* LICENSE, NOTICE */
        fclose(f);
        snprintf(out[n].name, sizeof(out[n].name), "%s", e->d_name);
        n++;
    }
    closedir(d);
    qsort(out, n, sizeof(*out), name_cmp);
    return n;
}

/* ---- botocore's S3 cases ------------------------------------------------------- */

static void test_s3_botocore(void **state)
{
    char *path = owls_xasprintf("%s/cases.json", s3_dir());
    json_error_t jerr;
    json_t *root = json_load_file(path, 0, &jerr), *cases, *c;
    size_t i, ran = 0;
    (void)state;

    if (root == NULL)
        fail_msg("%s: %s", path, jerr.text);
    cases = json_object_get(root, "cases");
    assert_true(json_array_size(cases) >= 10);
    json_array_foreach(cases, i, c)
    {
        const char *name = json_string_value(json_object_get(c, "name"));
        const char *key = json_string_value(json_object_get(c, "key"));
        const char *bpath = json_string_value(json_object_get(c, "path"));
        json_t *jh = json_object_get(c, "headers");
        struct owls_sigv4_header h[16];
        struct owls_creds creds = {0};
        struct owls_sigv4_opts o = {0};
        struct owls_sigv4_result res = {0};
        struct owls_errmsg em = {{0}};
        char *enc_key, *our_path;
        const char *prefix_end;
        long expires = (long)json_integer_value(json_object_get(c, "presign_expires"));

        /* The path: botocore's encoding of the key must equal ours. */
        enc_key = owls_uri_encode(key, strlen(key), true);
        prefix_end = strstr(bpath, "/run%3D");
        assert_non_null(prefix_end);
        our_path = owls_xasprintf("%.*s/%s", (int)(prefix_end - bpath), bpath, enc_key);
        if (strcmp(our_path, bpath) != 0)
            fail_msg("%s: path %s, botocore %s", name, our_path, bpath);

        assert_true(json_array_size(jh) <= OWLS_ARRAY_LEN(h));
        for (size_t k = 0; k < json_array_size(jh); k++) {
            h[k].name = json_string_value(json_array_get(json_array_get(jh, k), 0));
            h[k].value = json_string_value(json_array_get(json_array_get(jh, k), 1));
        }
        creds.access_key_id = jdup(c, "access_key_id");
        creds.secret_access_key = jdup(c, "secret_access_key");
        creds.session_token = jdup(c, "session_token");
        o.method = json_string_value(json_object_get(c, "method"));
        o.path = our_path;
        o.query = json_string_value(json_object_get(c, "query"));
        o.headers = h;
        o.nheaders = json_array_size(jh);
        o.payload_hash = json_string_value(json_object_get(c, "payload_hash"));
        o.region = json_string_value(json_object_get(c, "region"));
        o.service = json_string_value(json_object_get(c, "service"));
        o.now = (time_t)json_integer_value(json_object_get(c, "timestamp"));
        o.where = expires ? OWLS_SIGV4_IN_QUERY : OWLS_SIGV4_IN_HEADER;
        o.expires = expires;
        if (owls_sigv4_sign(&creds, &o, &res, &em) != OWLS_OK)
            fail_msg("%s: sign failed: %s", name, em.text);
        if (strcmp(res.canonical_request,
                   json_string_value(json_object_get(c, "canonical_request"))) != 0)
            fail_msg("%s: canonical request\n--- ours\n%s\n--- botocore\n%s", name,
                     res.canonical_request,
                     json_string_value(json_object_get(c, "canonical_request")));
        assert_string_equal(res.string_to_sign,
                            json_string_value(json_object_get(c, "string_to_sign")));
        assert_string_equal(res.signature, json_string_value(json_object_get(c, "signature")));
        if (expires) {
            /* botocore puts X-Amz-Expires before X-Amz-SignedHeaders; the
             * order is free, the set is not. */
            char *a = sorted_params(res.query);
            char *b = sorted_params(json_string_value(json_object_get(c, "signed_query")));
            assert_string_equal(a, b);
            free(a);
            free(b);
        } else {
            assert_string_equal(res.authorization,
                                json_string_value(json_object_get(c, "authorization")));
        }
        owls_sigv4_result_cleanup(&res);
        owls_creds_cleanup(&creds);
        free(enc_key);
        free(our_path);
        ran++;
    }
    assert_int_equal(ran, json_array_size(cases));
    json_decref(root);
    free(path);
}

/* ---- tables ----------------------------------------------------------------------- */

static void test_uri_encode(void **state)
{
    static const struct {
        const char *name, *in;
        bool keep_slash;
        const char *want;
    } t[] = {
        {"unreserved kept", "AZaz09-._~", false, "AZaz09-._~"},
        {"space is %20, not +", "a b", true, "a%20b"},
        {"equals and plus", "run=a+b", true, "run%3Da%2Bb"},
        {"percent encoded again", "100%25", true, "100%2525"},
        {"slash kept", "a/b/c", true, "a/b/c"},
        {"slash encoded", "a/b", false, "a%2Fb"},
        {"utf-8 bytes, uppercase hex", "\xc3\xa9\xe6\x97\xa5", true, "%C3%A9%E6%97%A5"},
        {"specials", "()!*'@:;,&$[]", true, "%28%29%21%2A%27%40%3A%3B%2C%26%24%5B%5D"},
        {"empty", "", true, ""},
    };
    (void)state;
    for (size_t i = 0; i < OWLS_ARRAY_LEN(t); i++) {
        char *got = owls_uri_encode(t[i].in, strlen(t[i].in), t[i].keep_slash);
        if (strcmp(got, t[i].want) != 0)
            fail_msg("%s: got %s want %s", t[i].name, got, t[i].want);
        free(got);
    }
    {
        char *got = owls_uri_encode("a\0b", 3, false); /* length, not NUL, ends it */
        assert_string_equal(got, "a%00b");
        free(got);
    }
}

static void test_canonical_uri(void **state)
{
    static const struct {
        const char *name, *in;
        bool dbl, norm;
        const char *want;
    } t[] = {
        {"empty is root", "", true, true, "/"},
        {"s3 keeps dots", "/b/./a/../c", false, false, "/b/./a/../c"},
        {"s3 keeps double slash", "/b//c", false, false, "/b//c"},
        {"s3 keeps %", "/b/100%25", false, false, "/b/100%25"},
        {"dot segments", "/a/./b/../c", true, true, "/a/c"},
        {"dotdot above root", "/../a", true, true, "/a"},
        {"trailing dotdot", "/a/b/..", true, true, "/a"},
        {"trailing slash kept", "/a/b/", true, true, "/a/b/"},
        {"collapse slashes", "//a//b//", true, true, "/a/b/"},
        {"double encode", "/a%20b", true, true, "/a%2520b"},
        {"dot-ish names kept", "/.a/..b/...", true, true, "/.a/..b/..."},
    };
    (void)state;
    for (size_t i = 0; i < OWLS_ARRAY_LEN(t); i++) {
        char *got = owls_sigv4_canonical_uri(t[i].in, t[i].dbl, t[i].norm);
        if (strcmp(got, t[i].want) != 0)
            fail_msg("%s: got %s want %s", t[i].name, got, t[i].want);
        free(got);
    }
}

static void test_canonical_query(void **state)
{
    static const struct {
        const char *name, *in, *want;
    } t[] = {
        {"none", NULL, ""},
        {"empty", "", ""},
        {"sorted by name", "b=1&a=2", "a=2&b=1"},
        {"then by value", "a=2&a=10&a=1", "a=1&a=10&a=2"},
        {"name without =", "uploads", "uploads="},
        {"decoded then encoded", "k=a%2fb%20c&x=%7e", "k=a%2Fb%20c&x=~"},
        {"plus is not space", "k=a+b", "k=a%2Bb"},
        {"raw bytes encoded", "k=\xe1\x88\xb4 x", "k=%E1%88%B4%20x"},
        {"bad escape kept", "k=%zz&l=%4", "k=%25zz&l=%254"},
        {"empty pieces skipped", "&a=1&&b=2&", "a=1&b=2"},
        {"sort by encoded name", "Z=1&%E1%88%B4=2&a=3", "%E1%88%B4=2&Z=1&a=3"},
    };
    (void)state;
    for (size_t i = 0; i < OWLS_ARRAY_LEN(t); i++) {
        char *got = owls_sigv4_canonical_query(t[i].in);
        if (strcmp(got, t[i].want) != 0)
            fail_msg("%s: got %s want %s", t[i].name, got, t[i].want);
        free(got);
    }
}

static void test_bad_input(void **state)
{
    struct owls_creds creds = {"AKID", "secret", NULL, 0};
    struct owls_sigv4_header host = {"Host", "h"}, bad = {"Bad Name", "v"};
    struct owls_sigv4_header s3h[] = {{"Host", "h"}};
    static const char *empty_hash =
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    struct owls_sigv4_opts base = {.method = "GET",
                                   .path = "/",
                                   .headers = &host,
                                   .nheaders = 1,
                                   .payload_hash = empty_hash,
                                   .region = "us-east-1",
                                   .service = "sqs",
                                   .now = 1440938160};
    struct {
        const char *name;
        struct owls_sigv4_opts o;
        const char *why;
    } t[8];
    size_t n = 0;
    (void)state;

    t[n].name = "no host";
    t[n].o = base;
    t[n].o.nheaders = 0;
    t[n++].why = "host";
    t[n].name = "bad header name";
    t[n].o = base;
    t[n].o.headers = &bad;
    t[n++].why = "header name";
    t[n].name = "region with slash";
    t[n].o = base;
    t[n].o.region = "us/east";
    t[n++].why = "region";
    t[n].name = "presign expires too long";
    t[n].o = base;
    t[n].o.where = OWLS_SIGV4_IN_QUERY;
    t[n].o.expires = 604801;
    t[n++].why = "Expires";
    t[n].name = "s3 without x-amz-content-sha256";
    t[n].o = base;
    t[n].o.service = "s3";
    t[n].o.headers = s3h;
    t[n++].why = "x-amz-content-sha256";
    t[n].name = "method with space";
    t[n].o = base;
    t[n].o.method = "GET X";
    t[n++].why = "method";
    for (size_t i = 0; i < n; i++) {
        struct owls_sigv4_result res;
        struct owls_errmsg em = {{0}};
        enum owls_err rc = owls_sigv4_sign(&creds, &t[i].o, &res, &em);
        if (rc != OWLS_EINTERNAL || strstr(em.text, t[i].why) == NULL)
            fail_msg("%s: rc %d, message \"%s\"", t[i].name, (int)rc, em.text);
        assert_null(res.authorization);
        assert_null(res.canonical_request);
        owls_sigv4_result_cleanup(&res);
    }
    {
        struct owls_creds nokey = {"", "secret", NULL, 0};
        struct owls_sigv4_result res;
        assert_int_equal(owls_sigv4_sign(&nokey, &base, &res, NULL), OWLS_EINTERNAL);
    }
}

/* The caller's Authorization / X-Amz-Date are replaced, not signed twice. */
static void test_header_mode_replaces_own_headers(void **state)
{
    struct owls_creds creds = {"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", NULL, 0};
    struct owls_sigv4_header h[] = {
        {"Host", "example.amazonaws.com"},
        {"X-Amz-Date", "19990101T000000Z"},
        {"Authorization", "stale"},
    };
    struct owls_sigv4_opts o = {
        .method = "GET",
        .path = "/",
        .headers = h,
        .nheaders = 3,
        .payload_hash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        .region = "us-east-1",
        .service = "service",
        .now = 1440938160, /* 2015-08-30T12:36:00Z */
    };
    struct owls_sigv4_result res;
    (void)state;
    assert_int_equal(owls_sigv4_sign(&creds, &o, &res, NULL), OWLS_OK);
    /* get-vanilla's signature from the AWS suite. */
    assert_string_equal(res.signature,
                        "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31");
    owls_sigv4_result_cleanup(&res);
}

/* ---- the key cache ---------------------------------------------------------------- */

static void sign_at(const struct owls_creds *creds, time_t now, const char *region,
                    const char *service, char sig[65])
{
    struct owls_sigv4_header h[] = {
        {"Host", "example.amazonaws.com"},
        {"x-amz-content-sha256", OWLS_UNSIGNED_PAYLOAD},
    };
    struct owls_sigv4_opts o = {
        .method = "GET",
        .path = "/k",
        .headers = h,
        .nheaders = 2,
        .payload_hash = OWLS_UNSIGNED_PAYLOAD,
        .region = region,
        .service = service,
        .now = now,
    };
    struct owls_sigv4_result res;
    assert_int_equal(owls_sigv4_sign(creds, &o, &res, NULL), OWLS_OK);
    memcpy(sig, res.signature, 65);
    owls_sigv4_result_cleanup(&res);
}

static void test_key_cache(void **state)
{
    struct owls_creds a = {"AKIDEXAMPLE", "secret-a", NULL, 0};
    struct owls_creds a2 = {"AKIDEXAMPLE", "secret-b", NULL, 0}; /* same id, other secret */
    struct owls_sigv4_cache_stats st;
    char s1[65], s2[65], s3[65], s4[65], s5[65];
    const time_t day1 = 1756125296; /* 2025-08-25T12:34:56Z */
    (void)state;

    owls_sigv4_cache_clear();
    owls_sigv4_cache_stats(&st);
    assert_int_equal(st.hits, 0);
    assert_int_equal(st.misses, 0);
    assert_int_equal(st.entries, 0);

    sign_at(&a, day1, "us-east-1", "s3", s1);
    owls_sigv4_cache_stats(&st);
    assert_int_equal(st.misses, 1);
    assert_int_equal(st.hits, 0);

    /* Same day (an hour later), region, service: the cached key. */
    sign_at(&a, day1 + 3600, "us-east-1", "s3", s2);
    owls_sigv4_cache_stats(&st);
    assert_int_equal(st.misses, 1);
    assert_int_equal(st.hits, 1);
    assert_int_equal(st.entries, 1);
    assert_string_not_equal(s1, s2); /* different time, different signature */

    /* The next day: a new key. */
    sign_at(&a, day1 + 86400, "us-east-1", "s3", s3);
    owls_sigv4_cache_stats(&st);
    assert_int_equal(st.misses, 2);
    assert_int_equal(st.entries, 2);

    /* Other region, other service, other secret: each a new key. */
    sign_at(&a, day1, "eu-west-1", "s3", s4);
    sign_at(&a, day1, "us-east-1", "sqs", s4);
    sign_at(&a2, day1, "us-east-1", "s3", s5);
    owls_sigv4_cache_stats(&st);
    assert_int_equal(st.misses, 5);
    assert_int_equal(st.hits, 1);
    assert_string_not_equal(s1, s5);

    /* A cached key signs exactly like a fresh one. */
    sign_at(&a, day1, "us-east-1", "s3", s2);
    assert_string_equal(s1, s2);
    owls_sigv4_cache_stats(&st);
    assert_int_equal(st.hits, 2);

    /* Clearing forgets (and cleanses) everything. */
    owls_sigv4_cache_clear();
    owls_sigv4_cache_stats(&st);
    assert_int_equal(st.entries, 0);
    sign_at(&a, day1, "us-east-1", "s3", s2);
    owls_sigv4_cache_stats(&st);
    assert_int_equal(st.misses, 1);
    assert_string_equal(s1, s2);
}

/* The eviction keeps the cache bounded and the keys right. */
static void test_key_cache_eviction(void **state)
{
    struct owls_creds a = {"AKIDEXAMPLE", "secret-a", NULL, 0};
    struct owls_sigv4_cache_stats st;
    char first[65], again[65], tmp[65];
    const time_t day1 = 1756125296;
    (void)state;

    owls_sigv4_cache_clear();
    sign_at(&a, day1, "us-east-1", "s3", first);
    for (int d = 1; d <= 40; d++)
        sign_at(&a, day1 + (time_t)d * 86400, "us-east-1", "s3", tmp);
    owls_sigv4_cache_stats(&st);
    assert_int_equal(st.misses, 41);
    assert_true(st.entries > 0 && st.entries <= 16);
    sign_at(&a, day1, "us-east-1", "s3", again); /* evicted long ago: derived again */
    owls_sigv4_cache_stats(&st);
    assert_int_equal(st.misses, 42);
    assert_string_equal(first, again);

    /* Least recently used goes first: a key used between every insertion
     * survives 40 of them. */
    owls_sigv4_cache_clear();
    sign_at(&a, day1, "us-east-1", "s3", tmp);
    for (int d = 1; d <= 40; d++) {
        sign_at(&a, day1 + (time_t)d * 86400, "us-east-1", "sqs", tmp);
        sign_at(&a, day1, "us-east-1", "s3", tmp);
    }
    owls_sigv4_cache_stats(&st);
    assert_int_equal(st.hits, 40);
    assert_int_equal(st.misses, 41);
}

/* The AWS example key derivation (docs: "Examples of how to derive a signing
 * key"): secret wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY, 20120215,
 * us-east-1, iam. */
static void test_derive_key_doc_example(void **state)
{
    char hex[65];
    (void)state;
    assert_true(owls_sigv4_derive_key_hex("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "20120215",
                                          "us-east-1", "iam", hex));
    assert_string_equal(hex, "f4780e2d9f65fa895f9c67b32ce1baf0b0d8a43505a000a1a9e090d414db404d");
}

int main(void)
{
    static struct suite_case cases[64];
    size_t ncases = list_suite(cases, OWLS_ARRAY_LEN(cases));
    struct suite_case *variants = owls_xcalloc(2 * ncases + 1, sizeof(*variants));
    struct CMUnitTest *suite = owls_xcalloc(2 * ncases + 1, sizeof(*suite));
    char **names = owls_xcalloc(2 * ncases + 1, sizeof(*names));
    int failed = 0;
    const struct CMUnitTest unit[] = {
        cmocka_unit_test(test_uri_encode),
        cmocka_unit_test(test_canonical_uri),
        cmocka_unit_test(test_canonical_query),
        cmocka_unit_test(test_bad_input),
        cmocka_unit_test(test_header_mode_replaces_own_headers),
        cmocka_unit_test(test_s3_botocore),
        cmocka_unit_test(test_key_cache),
        cmocka_unit_test(test_key_cache_eviction),
        cmocka_unit_test(test_derive_key_doc_example),
    };

    if (ncases != SUITE_CASES) {
        fprintf(stderr, "test_sigv4: found %zu AWS suite cases in %s, expected %d\n", ncases,
                suite_dir(), SUITE_CASES);
        failed = 1;
    }
    for (size_t i = 0; i < ncases; i++) {
        for (int q = 0; q < 2; q++) {
            size_t k = 2 * i + (size_t)q;
            variants[k] = cases[i];
            variants[k].query_mode = q;
            names[k] = owls_xasprintf("%s/%s", cases[i].name, q ? "query" : "header");
            suite[k].name = names[k];
            suite[k].test_func = run_suite_case;
            suite[k].initial_state = &variants[k];
        }
    }
    failed += _cmocka_run_group_tests("sigv4_aws_suite", suite, 2 * ncases, NULL, NULL);
    failed += cmocka_run_group_tests_name("sigv4", unit, NULL, NULL);
    for (size_t i = 0; i < 2 * ncases; i++)
        free(names[i]);
    free(names);
    free(suite);
    free(variants);
    return failed ? 1 : 0;
}
