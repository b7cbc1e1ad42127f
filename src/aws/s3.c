/*
 * s3.c - S3 GetObject / HeadObject / PutObject / multipart upload.
 *
 * DESIGN: every call becomes a struct s3_ctx: the target (endpoint.c), the
 * headers that are both sent and signed (Host, x-amz-content-sha256 and
 * the call's own), and a signer description. s3_prepare() is the retry
 * loop's per-attempt hook: it adds the attempt's Range/If-Match (a download
 * resumes where a broken attempt stopped) and signs with the client's
 * skew-corrected clock. Bodies are hashed before they are sent (SHA-256 for
 * the signed payload hash and x-amz-checksum-sha256, MD5 for parts'
 * Content-MD5); bodies from an fd are read twice with pread() (hash, then
 * send), so memory stays bounded for big artifacts. A multipart upload is
 * aborted on any failure after it was created.
 *
 * Threads: struct owls_s3 is immutable after owls_s3_new() except for its
 * struct owls_retry (thread-safe); each call's state is on its stack.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <openssl/evp.h>

#include "owls/awserr.h"
#include "owls/buf.h"
#include "owls/hash.h"
#include "owls/log.h"
#include "owls/private/s3.h"
#include "owls/retry.h"
#include "owls/s3.h"
#include "owls/sigv4.h"
#include "owls/util.h"

#define EMPTY_SHA256 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define MAX_HDRS     16
#define HASH_CHUNK   (256 * 1024)

struct owls_s3 {
    char *region;
    struct owls_endpoint ep;
    bool custom; /* endpoint configured, not derived from the region */
    enum owls_s3_addressing mode;
    struct owls_http *http;
    struct owls_creds_provider *creds;
    struct owls_retry *retry;
};

enum owls_err owls_s3_new(const struct owls_aws_opts *opts, struct owls_http *http,
                          struct owls_creds_provider *creds, struct owls_s3 **out,
                          struct owls_errmsg *em)
{
    enum owls_err rc;
    struct owls_s3 *s3 = owls_xcalloc(1, sizeof(*s3));

    *out = NULL;
    s3->custom = opts->s3_endpoint != NULL && *opts->s3_endpoint != '\0';
    if (s3->custom)
        rc = owls_endpoint_parse(opts->s3_endpoint, &s3->ep, em);
    else
        rc = owls_endpoint_default("s3", opts->region, &s3->ep, em);
    if (rc != OWLS_OK)
        goto out;
    if (opts->region == NULL || *opts->region == '\0') {
        rc = owls_errmsg_set(em, OWLS_ECONFIG, "no AWS region configured");
        goto out;
    }
    owls_awserr_init();
    s3->region = owls_xstrdup(opts->region);
    s3->mode = opts->s3_addressing;
    s3->http = http;
    s3->creds = creds;
    s3->retry = owls_retry_new(opts->max_attempts, opts->retry_hooks);
    *out = s3;
    s3 = NULL;
out:
    owls_s3_free(s3);
    return rc;
}

void owls_s3_free(struct owls_s3 *s3)
{
    if (s3 == NULL)
        return;
    owls_retry_free(s3->retry);
    free(s3->region);
    free(s3);
}

/* --- one call -------------------------------------------------------------- */

/* Download state for resuming: what was delivered, where to go on. */
struct get_state {
    bool range;
    uint64_t first, last;
    char if_match[140]; /* quoted ETag, "" = none */
    uint64_t delivered;
    uint64_t max;
    owls_http_body_fn on_body;
    void *arg;
    struct owls_http_response *resp;
    bool attempt_seen;  /* the first bytes of this attempt were checked */
    bool range_ignored; /* an answer did not start where the Range asked */
};

/* Whether an attempt asks for a Range, and the byte it starts at: the same
 * from s3_prepare() to the attempt's first body byte (delivered grows only
 * after that). */
static bool get_ranged(const struct get_state *g)
{
    return g->range || g->delivered > 0;
}

static uint64_t get_from(const struct get_state *g)
{
    return (g->range ? g->first : 0) + g->delivered;
}

struct s3_ctx {
    struct owls_s3_target tgt;
    struct owls_http_header hdrs[MAX_HDRS];
    size_t nh;
    struct owls_aws_signer sg;
    struct get_state *get;
};

static void ctx_header(struct s3_ctx *c, const char *name, const char *value)
{
    if (c->nh >= MAX_HDRS - 2)
        fatalx("s3: too many headers");
    c->hdrs[c->nh].name = name;
    c->hdrs[c->nh].value = value;
    c->nh++;
}

static enum owls_err s3_prepare(void *arg, int attempt, time_t now, struct owls_retry_extra *x,
                                struct owls_errmsg *em)
{
    struct s3_ctx *c = arg;
    struct get_state *g = c->get;
    struct owls_http_header hdrs[MAX_HDRS];
    struct owls_aws_signer sg = c->sg;
    char range[64];
    size_t n = c->nh;
    enum owls_err rc;

    memcpy(hdrs, c->hdrs, c->nh * sizeof(hdrs[0]));
    if (g != NULL) {
        uint64_t from = get_from(g);
        g->attempt_seen = false;
        if (get_ranged(g)) {
            if (g->range && g->last != UINT64_MAX)
                snprintf(range, sizeof(range), "bytes=%" PRIu64 "-%" PRIu64, from, g->last);
            else
                snprintf(range, sizeof(range), "bytes=%" PRIu64 "-", from);
            hdrs[n].name = "Range";
            hdrs[n++].value = range;
        }
        if (g->if_match[0] != '\0') {
            hdrs[n].name = "If-Match";
            hdrs[n++].value = g->if_match;
        }
        if (attempt > 1 && g->delivered > 0)
            log_info("s3: resuming %s at byte %" PRIu64, c->tgt.path, from);
    }
    sg.headers = hdrs;
    sg.nheaders = n;
    rc = owls_endpoint_sign(&sg, attempt, now, x, em);
    if (rc != OWLS_OK)
        return rc;
    for (size_t i = c->nh; i < n; i++)
        owls_retry_extra_add(x, hdrs[i].name, hdrs[i].value);
    return OWLS_OK;
}

/* The retry loop's arg is the s3_ctx, not the signer inside it. */
static void s3_invalidate(void *arg)
{
    struct s3_ctx *c = arg;
    owls_endpoint_invalidate(&c->sg);
}

struct call_spec {
    const char *op;
    const char *method;
    const char *bucket;
    const char *key;
    const char *query;
    const struct owls_http_header *headers;
    size_t nheaders;
    const char *payload_hash; /* NULL = hash of the memory body */
    const void *body;
    size_t body_len;
    int body_fd;
    uint64_t body_off;
    struct get_state *get;
    bool error_in_200;
    const atomic_bool *cancel;
};

static enum owls_err get_body_fn(void *arg, const void *p, size_t n);

static enum owls_err s3_do(struct owls_s3 *s3, const struct call_spec *cs,
                           struct owls_http_response *resp, struct owls_awserr *ae,
                           struct owls_errmsg *em)
{
    enum owls_err rc;
    struct s3_ctx c;
    struct owls_retry_call rcall;
    char hash[OWLS_SHA256_HEX];
    char *what = NULL;

    memset(&c, 0, sizeof(c));
    memset(&rcall, 0, sizeof(rcall));
    rc = owls_s3_target_build(&s3->ep, s3->custom, s3->mode, cs->bucket, cs->key, cs->query, &c.tgt,
                              em);
    if (rc != OWLS_OK)
        goto out;
    if (cs->payload_hash != NULL)
        snprintf(hash, sizeof(hash), "%s", cs->payload_hash);
    else if (cs->body_len > 0)
        owls_sha256_hex(cs->body, cs->body_len, hash);
    else
        snprintf(hash, sizeof(hash), "%s", EMPTY_SHA256);
    ctx_header(&c, "Host", c.tgt.host);
    ctx_header(&c, "x-amz-content-sha256", hash);
    for (size_t i = 0; i < cs->nheaders; i++)
        ctx_header(&c, cs->headers[i].name, cs->headers[i].value);
    c.get = cs->get;
    c.sg.creds = s3->creds;
    c.sg.service = "s3";
    c.sg.region = s3->region;
    c.sg.method = cs->method;
    c.sg.path = c.tgt.path;
    c.sg.query = cs->query;
    c.sg.payload_hash = hash;

    what = owls_xasprintf("S3 %s s3://%s/%s", cs->op, cs->bucket, cs->key ? cs->key : "");
    rcall.what = what;
    rcall.http.method = cs->method;
    rcall.http.url = c.tgt.url;
    rcall.http.headers = c.hdrs;
    rcall.http.nheaders = c.nh;
    rcall.http.body = cs->body;
    rcall.http.body_len = cs->body_len;
    rcall.http.body_fd = cs->body_fd;
    rcall.http.body_off = cs->body_off;
    rcall.http.cancel = cs->cancel;
    if (cs->get != NULL) {
        cs->get->resp = resp;
        rcall.http.on_body = get_body_fn;
        rcall.http.on_body_arg = cs->get;
    }
    rcall.prepare = s3_prepare;
    rcall.invalidate = s3_invalidate;
    rcall.arg = &c;
    rcall.error_in_200 = cs->error_in_200;
    rc = owls_retry_send(s3->retry, s3->http, &rcall, resp, ae, NULL, em);
out:
    free(what);
    owls_s3_target_cleanup(&c.tgt);
    return rc;
}

enum owls_err owls_s3_call(struct owls_s3 *s3, const char *op, const char *method,
                           const char *bucket, const char *key, const char *query,
                           const struct owls_http_header *headers, size_t nheaders,
                           const void *body, size_t body_len, struct owls_http_response *resp,
                           struct owls_awserr *ae, struct owls_errmsg *em)
{
    struct call_spec cs = {.op = op,
                           .method = method,
                           .bucket = bucket,
                           .key = key,
                           .query = query,
                           .headers = headers,
                           .nheaders = nheaders,
                           .body = body,
                           .body_len = body_len,
                           .body_fd = -1};
    return s3_do(s3, &cs, resp, ae, em);
}

/* --- metadata -------------------------------------------------------------- */

static void copy_unquoted(char *dst, size_t cap, const char *v)
{
    size_t n;
    if (v == NULL) {
        dst[0] = '\0';
        return;
    }
    n = strlen(v);
    if (n >= 2 && v[0] == '"' && v[n - 1] == '"') {
        v++;
        n -= 2;
    }
    if (n >= cap)
        n = cap - 1;
    memcpy(dst, v, n);
    dst[n] = '\0';
}

static void copy_header(char *dst, size_t cap, const char *v)
{
    snprintf(dst, cap, "%s", v ? v : "");
}

static void fill_object(const struct owls_http_response *resp, struct owls_s3_object *info)
{
    const char *cl = owls_http_response_header(resp, "content-length");
    const char *cr = owls_http_response_header(resp, "content-range");
    const char *slash;

    memset(info, 0, sizeof(*info));
    copy_unquoted(info->etag, sizeof(info->etag), owls_http_response_header(resp, "etag"));
    copy_header(info->content_type, sizeof(info->content_type),
                owls_http_response_header(resp, "content-type"));
    copy_header(info->last_modified, sizeof(info->last_modified),
                owls_http_response_header(resp, "last-modified"));
    if (cl != NULL)
        info->size = info->length = strtoull(cl, NULL, 10);
    /* "bytes 0-9/1234" */
    if (cr != NULL && (slash = strchr(cr, '/')) != NULL && slash[1] != '*')
        info->size = strtoull(slash + 1, NULL, 10);
}

enum owls_err owls_s3_head(struct owls_s3 *s3, const char *bucket, const char *key,
                           struct owls_s3_object *info, struct owls_errmsg *em)
{
    enum owls_err rc;
    struct owls_http_response resp;
    struct call_spec cs = {
        .op = "HeadObject", .method = "HEAD", .bucket = bucket, .key = key, .body_fd = -1};

    owls_http_response_init(&resp);
    rc = s3_do(s3, &cs, &resp, NULL, em);
    if (rc == OWLS_OK && info != NULL)
        fill_object(&resp, info);
    owls_http_response_cleanup(&resp);
    return rc;
}

/* --- GetObject ------------------------------------------------------------- */

/* Does the answer's Content-Range ("bytes 1000-3999/4000") start at from? */
static bool content_range_starts_at(const struct owls_http_response *resp, uint64_t from)
{
    const char *cr = owls_http_response_header(resp, "content-range");
    char *end;

    if (cr == NULL || strncmp(cr, "bytes ", 6) != 0 || cr[6] < '0' || cr[6] > '9')
        return false;
    return strtoull(cr + 6, &end, 10) == from && *end == '-';
}

static enum owls_err get_body_fn(void *arg, const void *p, size_t n)
{
    struct get_state *g = arg;

    if (!g->attempt_seen) {
        const char *cl = owls_http_response_header(g->resp, "content-length");
        g->attempt_seen = true;
        /* A server may ignore Range and send the whole object (200): its
         * bytes are not the ones asked for, and some were delivered already. */
        if (get_ranged(g) && !content_range_starts_at(g->resp, get_from(g))) {
            g->range_ignored = true;
            return OWLS_EAWS;
        }
        if (g->if_match[0] == '\0') { /* pin the object for resumes */
            const char *et = owls_http_response_header(g->resp, "etag");
            if (et != NULL && strlen(et) < sizeof(g->if_match))
                snprintf(g->if_match, sizeof(g->if_match), "%s", et);
        }
        if (g->max > 0 && cl != NULL && g->delivered + strtoull(cl, NULL, 10) > g->max)
            return OWLS_EINPUT_TOO_LARGE;
    }
    if (g->max > 0 && g->delivered + n > g->max)
        return OWLS_EINPUT_TOO_LARGE;
    g->delivered += n;
    return g->on_body(g->arg, p, n);
}

enum owls_err owls_s3_get(struct owls_s3 *s3, const char *bucket, const char *key,
                          const struct owls_s3_get_opts *o, owls_http_body_fn on_body, void *arg,
                          struct owls_s3_object *info, struct owls_errmsg *em)
{
    enum owls_err rc;
    struct owls_http_response resp;
    struct get_state g;
    struct call_spec cs = {
        .op = "GetObject", .method = "GET", .bucket = bucket, .key = key, .body_fd = -1};

    memset(&g, 0, sizeof(g));
    owls_http_response_init(&resp);
    g.on_body = on_body;
    g.arg = arg;
    g.last = UINT64_MAX;
    if (o != NULL) {
        g.range = o->range;
        g.first = o->range_first;
        g.last = o->range_last;
        g.max = o->max_bytes;
        if (o->if_match != NULL && *o->if_match != '\0')
            snprintf(g.if_match, sizeof(g.if_match), "\"%s\"", o->if_match);
        cs.cancel = o->cancel;
    }
    cs.get = &g;
    rc = s3_do(s3, &cs, &resp, o != NULL ? o->error : NULL, em);
    if (g.range_ignored) {
        const char *cr = owls_http_response_header(&resp, "content-range");
        owls_errmsg_set(em, rc,
                        "s3://%s/%s: the answer to a ranged GET does not start at byte %" PRIu64
                        " (Content-Range: %.64s)",
                        bucket, key, get_from(&g), cr ? cr : "none");
    }
    if (rc == OWLS_EINPUT_TOO_LARGE) {
        const char *cl = owls_http_response_header(&resp, "content-length");
        owls_errmsg_set(em, rc, "s3://%s/%s is larger than the limit of %" PRIu64 " bytes%s%s%s",
                        bucket, key, g.max, cl ? " (" : "", cl ? cl : "", cl ? " bytes)" : "");
    }
    if (rc == OWLS_OK && info != NULL) {
        fill_object(&resp, info);
        info->length = g.delivered;
        if (!g.range && g.delivered > info->size)
            info->size = g.delivered;
    }
    owls_http_response_cleanup(&resp);
    return rc;
}

static enum owls_err append_fn(void *arg, const void *p, size_t n)
{
    owls_buf_append(arg, p, n);
    return OWLS_OK;
}

enum owls_err owls_s3_get_buf(struct owls_s3 *s3, const char *bucket, const char *key,
                              const struct owls_s3_get_opts *o, char **data, size_t *len,
                              struct owls_s3_object *info, struct owls_errmsg *em)
{
    enum owls_err rc;
    struct owls_buf b;

    owls_buf_init(&b);
    *data = NULL;
    *len = 0;
    rc = owls_s3_get(s3, bucket, key, o, append_fn, &b, info, em);
    if (rc == OWLS_OK) {
        *data = owls_buf_steal(&b, len);
    }
    owls_buf_cleanup(&b);
    return rc;
}

/* --- PutObject and multipart ----------------------------------------------- */

struct source {
    const char *data; /* memory, or NULL */
    int fd;
    uint64_t off;
    uint64_t len;
};

static void base64(const unsigned char *p, size_t n, char *out)
{
    EVP_EncodeBlock((unsigned char *)out, p, (int)n);
}

/* SHA-256 (and MD5 when md5 != NULL) of src[at..at+n). */
static enum owls_err hash_slice(const struct source *src, uint64_t at, uint64_t n,
                                unsigned char sha[OWLS_SHA256_LEN], unsigned char md5[16],
                                struct owls_errmsg *em)
{
    enum owls_err rc = OWLS_ECRYPTO;
    struct owls_sha256 *sc = owls_sha256_new();
    EVP_MD_CTX *mc = NULL;
    char *buf = NULL;
    unsigned int mlen = 0;

    if (md5 != NULL) {
        mc = EVP_MD_CTX_new();
        if (mc == NULL || EVP_DigestInit_ex(mc, EVP_md5(), NULL) != 1) {
            owls_errmsg_set(em, rc, "MD5 unavailable");
            goto out;
        }
    }
    if (src->data == NULL)
        buf = owls_xmalloc(HASH_CHUNK);
    while (n > 0) {
        size_t take = n > HASH_CHUNK ? HASH_CHUNK : (size_t)n;
        const char *p;
        if (src->data != NULL) {
            p = src->data + at;
        } else {
            ssize_t got;
            do
                got = pread(src->fd, buf, take, (off_t)(src->off + at));
            while (got < 0 && errno == EINTR);
            if (got <= 0) {
                rc = owls_errmsg_set(em, OWLS_EIO, "reading the upload source: %s",
                                     got < 0 ? strerror(errno) : "unexpected end of file");
                goto out;
            }
            take = (size_t)got;
            p = buf;
        }
        owls_sha256_update(sc, p, take);
        if (mc != NULL && EVP_DigestUpdate(mc, p, take) != 1) {
            owls_errmsg_set(em, rc, "MD5 failed");
            goto out;
        }
        at += take;
        n -= take;
    }
    owls_sha256_final(sc, sha);
    if (mc != NULL && EVP_DigestFinal_ex(mc, md5, &mlen) != 1) {
        owls_errmsg_set(em, rc, "MD5 failed");
        goto out;
    }
    rc = OWLS_OK;
out:
    free(buf);
    EVP_MD_CTX_free(mc);
    owls_sha256_free(sc);
    return rc;
}

/* The 32 bytes of a 64-hex-digit SHA-256; false if hex is not one. */
static bool sha256_from_hex(const char *hex, unsigned char sha[OWLS_SHA256_LEN])
{
    for (size_t i = 0; i < OWLS_SHA256_LEN; i++) {
        int hi = owls_hex_digit(hex[2 * i]), lo = hi < 0 ? -1 : owls_hex_digit(hex[2 * i + 1]);
        if (lo < 0)
            return false;
        sha[i] = (unsigned char)(hi << 4 | lo);
    }
    return hex[2 * OWLS_SHA256_LEN] == '\0';
}

static enum owls_err put_single(struct owls_s3 *s3, const char *bucket, const char *key,
                                const struct source *src, const char *ctype, const char *known_sha,
                                const atomic_bool *cancel, struct owls_s3_put_result *res,
                                struct owls_errmsg *em)
{
    enum owls_err rc;
    unsigned char sha[OWLS_SHA256_LEN];
    char hex[OWLS_SHA256_HEX], b64[48];
    struct owls_http_response resp;
    struct owls_http_header h[2] = {{"Content-Type", ctype}, {"x-amz-checksum-sha256", b64}};
    struct call_spec cs = {.op = "PutObject",
                           .method = "PUT",
                           .bucket = bucket,
                           .key = key,
                           .headers = h,
                           .nheaders = 2,
                           .payload_hash = hex,
                           .body = src->data,
                           .body_len = (size_t)src->len,
                           .body_fd = src->data ? -1 : src->fd,
                           .body_off = src->off,
                           .cancel = cancel};

    owls_http_response_init(&resp);
    if (known_sha == NULL)
        rc = hash_slice(src, 0, src->len, sha, NULL, em);
    else if (!sha256_from_hex(known_sha, sha))
        rc = owls_errmsg_set(em, OWLS_EINTERNAL, "PutObject %s: sha256_hex is not 64 hex digits",
                             key);
    else
        rc = OWLS_OK;
    if (rc != OWLS_OK)
        goto out;
    owls_hex(sha, sizeof(sha), hex);
    base64(sha, sizeof(sha), b64);
    rc = s3_do(s3, &cs, &resp, NULL, em);
    if (rc == OWLS_OK) {
        copy_unquoted(res->etag, sizeof(res->etag), owls_http_response_header(&resp, "etag"));
        res->parts = 0;
    }
out:
    owls_http_response_cleanup(&resp);
    return rc;
}

static xmlNode *xml_find(xmlNode *n, const char *name, int depth)
{
    for (; n != NULL && depth < 8; n = n->next) {
        xmlNode *f;
        if (n->type == XML_ELEMENT_NODE && strcmp((const char *)n->name, name) == 0)
            return n;
        if ((f = xml_find(n->children, name, depth + 1)) != NULL)
            return f;
    }
    return NULL;
}

bool owls_s3_xml_text(const char *body, size_t len, const char *name, char *out, size_t cap)
{
    bool ok = false;
    xmlDoc *doc = NULL;
    xmlNode *n;
    xmlChar *t = NULL;

    out[0] = '\0';
    if (body == NULL || len == 0 || len > 16 * 1024 * 1024)
        goto out;
    doc = xmlReadMemory(body, (int)len, "s3.xml", NULL,
                        XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    if (doc == NULL)
        goto out;
    n = xml_find(xmlDocGetRootElement(doc), name, 0);
    if (n == NULL || (t = xmlNodeGetContent(n)) == NULL)
        goto out;
    if (strlen((const char *)t) >= cap)
        goto out;
    snprintf(out, cap, "%s", (const char *)t);
    ok = true;
out:
    if (t != NULL)
        xmlFree(t);
    if (doc != NULL)
        xmlFreeDoc(doc);
    return ok;
}

static void abort_upload(struct owls_s3 *s3, const char *bucket, const char *key, const char *query)
{
    struct owls_http_response resp;
    struct owls_errmsg em;
    struct call_spec cs = {.op = "AbortMultipartUpload",
                           .method = "DELETE",
                           .bucket = bucket,
                           .key = key,
                           .query = query,
                           .body_fd = -1};

    owls_http_response_init(&resp);
    if (s3_do(s3, &cs, &resp, NULL, &em) != OWLS_OK)
        log_warnx("s3: %s (the parts stay until a lifecycle rule removes them)", em.text);
    owls_http_response_cleanup(&resp);
}

static enum owls_err put_multipart(struct owls_s3 *s3, const char *bucket, const char *key,
                                   const struct source *src, const char *ctype, uint64_t part,
                                   const atomic_bool *cancel, struct owls_s3_put_result *res,
                                   struct owls_errmsg *em)
{
    enum owls_err rc;
    struct owls_http_response resp;
    char upload_id[1024];
    char *eid = NULL, *idq = NULL, *query = NULL;
    struct owls_buf done;
    uint64_t nparts = (src->len + part - 1) / part;
    struct owls_http_header ct = {"Content-Type", ctype};
    struct call_spec cs = {.op = "CreateMultipartUpload",
                           .method = "POST",
                           .bucket = bucket,
                           .key = key,
                           .query = "uploads",
                           .headers = &ct,
                           .nheaders = 1,
                           .body_fd = -1,
                           .cancel = cancel};

    owls_buf_init(&done);
    owls_http_response_init(&resp);
    rc = s3_do(s3, &cs, &resp, NULL, em);
    if (rc != OWLS_OK)
        goto out;
    if (!owls_s3_xml_text(resp.body.data, resp.body.len, "UploadId", upload_id,
                          sizeof(upload_id)) ||
        upload_id[0] == '\0') {
        rc = owls_errmsg_set(em, OWLS_EAWS, "S3 CreateMultipartUpload s3://%s/%s: no UploadId",
                             bucket, key);
        goto out;
    }
    eid = owls_uri_encode(upload_id, strlen(upload_id), false);
    idq = owls_xasprintf("uploadId=%s", eid);
    owls_buf_puts(&done,
                  "<CompleteMultipartUpload xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">");
    for (uint64_t i = 0; i < nparts; i++) {
        uint64_t at = i * part, n = OWLS_MIN(part, src->len - at);
        unsigned char sha[OWLS_SHA256_LEN], md5[16];
        char hex[OWLS_SHA256_HEX], b64[32];
        struct owls_http_header h = {"Content-MD5", b64};
        struct call_spec ps = {.op = "UploadPart",
                               .method = "PUT",
                               .bucket = bucket,
                               .key = key,
                               .headers = &h,
                               .nheaders = 1,
                               .payload_hash = hex,
                               .body = src->data ? src->data + at : NULL,
                               .body_len = (size_t)n,
                               .body_fd = src->data ? -1 : src->fd,
                               .body_off = src->off + at,
                               .cancel = cancel};
        const char *etag;

        rc = hash_slice(src, at, n, sha, md5, em);
        if (rc != OWLS_OK)
            goto out;
        owls_hex(sha, sizeof(sha), hex);
        base64(md5, sizeof(md5), b64);
        free(query);
        query = owls_xasprintf("partNumber=%" PRIu64 "&%s", i + 1, idq);
        ps.query = query;
        rc = s3_do(s3, &ps, &resp, NULL, em);
        if (rc != OWLS_OK)
            goto out;
        etag = owls_http_response_header(&resp, "etag");
        if (etag == NULL || strpbrk(etag, "<>&") != NULL) {
            rc = owls_errmsg_set(em, OWLS_EAWS, "S3 UploadPart %" PRIu64 " of s3://%s/%s: no ETag",
                                 i + 1, bucket, key);
            goto out;
        }
        owls_buf_printf(&done, "<Part><PartNumber>%" PRIu64 "</PartNumber><ETag>%s</ETag></Part>",
                        i + 1, etag);
    }
    owls_buf_puts(&done, "</CompleteMultipartUpload>");
    {
        struct owls_http_header h = {"Content-Type", "application/xml"};
        struct call_spec fs = {.op = "CompleteMultipartUpload",
                               .method = "POST",
                               .bucket = bucket,
                               .key = key,
                               .query = idq,
                               .headers = &h,
                               .nheaders = 1,
                               .body = done.data,
                               .body_len = done.len,
                               .body_fd = -1,
                               .error_in_200 = true,
                               .cancel = cancel};
        char etag[200];
        rc = s3_do(s3, &fs, &resp, NULL, em);
        if (rc != OWLS_OK)
            goto out;
        if (!owls_s3_xml_text(resp.body.data, resp.body.len, "ETag", etag, sizeof(etag))) {
            rc = owls_errmsg_set(em, OWLS_EAWS,
                                 "S3 CompleteMultipartUpload s3://%s/%s: no ETag in the answer",
                                 bucket, key);
            goto out;
        }
        copy_unquoted(res->etag, sizeof(res->etag), etag);
        res->parts = (unsigned)nparts;
    }
out:
    if (rc != OWLS_OK && idq != NULL)
        abort_upload(s3, bucket, key, idq);
    free(query);
    free(idq);
    free(eid);
    owls_buf_cleanup(&done);
    owls_http_response_cleanup(&resp);
    return rc;
}

static enum owls_err put_source(struct owls_s3 *s3, const char *bucket, const char *key,
                                const struct source *src, const struct owls_s3_put_opts *o,
                                struct owls_s3_put_result *res, struct owls_errmsg *em)
{
    struct owls_s3_put_result dummy;
    const char *ctype = o && o->content_type ? o->content_type : "application/octet-stream";
    uint64_t threshold = o && o->threshold ? o->threshold : OWLS_S3_MULTIPART_THRESHOLD;
    uint64_t part = o && o->part_size ? o->part_size : OWLS_S3_PART_SIZE;
    const atomic_bool *cancel = o ? o->cancel : NULL;

    if (res == NULL)
        res = &dummy;
    memset(res, 0, sizeof(*res));
    if (part < OWLS_S3_MIN_PART_SIZE)
        part = OWLS_S3_MIN_PART_SIZE;
    /* S3 allows 10000 parts: grow the part size for huge bodies (MiB-aligned) */
    if (src->len / part >= 10000)
        part = ((src->len / 9999) | (1024 * 1024 - 1)) + 1;
    if (src->len <= threshold)
        return put_single(s3, bucket, key, src, ctype, o ? o->sha256_hex : NULL, cancel, res, em);
    return put_multipart(s3, bucket, key, src, ctype, part, cancel, res, em);
}

enum owls_err owls_s3_put(struct owls_s3 *s3, const char *bucket, const char *key, const void *data,
                          size_t len, const struct owls_s3_put_opts *o,
                          struct owls_s3_put_result *res, struct owls_errmsg *em)
{
    struct source src = {.data = data ? data : "", .fd = -1, .off = 0, .len = len};
    return put_source(s3, bucket, key, &src, o, res, em);
}

enum owls_err owls_s3_put_fd(struct owls_s3 *s3, const char *bucket, const char *key, int fd,
                             uint64_t off, uint64_t len, const struct owls_s3_put_opts *o,
                             struct owls_s3_put_result *res, struct owls_errmsg *em)
{
    struct source src = {.data = NULL, .fd = fd, .off = off, .len = len};
    return put_source(s3, bucket, key, &src, o, res, em);
}
