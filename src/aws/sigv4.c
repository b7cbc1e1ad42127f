/*
 * DESIGN: AWS Signature Version 4, as a pure function of its input.
 *
 * owls_sigv4_sign() builds the canonical request (method, canonical URI,
 * canonical query, canonical headers, signed headers, payload hash), hashes
 * it into the string to sign, and HMACs that with the signing key derived
 * from the secret key, the day, the region and the service. Every stage is
 * returned so that the AWS test suite can check each one.
 *
 * URI rules depend on the service, never on the host: S3 signs the path as
 * sent (encoded once by the caller, see owls_uri_encode(); no dot-segment
 * normalization, since "a/../b" is a legal key); every other service signs
 * the path normalized and encoded a second time.
 *
 * The only shared state is the derived-key cache: CACHE_SLOTS entries keyed
 * by (access key id, fingerprint of the secret, day, region, service),
 * least recently used evicted, behind one mutex. Deriving a key takes four
 * HMACs, looking one up a fifth (the fingerprint) and a copy; the mutex is
 * never held across a derivation. Keys are cleansed on eviction and by
 * owls_sigv4_cache_clear(); so are all intermediate keys on the stack.
 *
 * Never logs: canonical requests can hold a session token.
 */
#include <openssl/crypto.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "owls/buf.h"
#include "owls/hash.h"
#include "owls/sigv4.h"
#include "owls/util.h"
#ifdef OWLS_UNIT_TEST
#include "owls/private/sigv4.h"
#endif

#define ALGORITHM       "AWS4-HMAC-SHA256"
#define CACHE_SLOTS     16
#define MAX_EXPIRES     604800 /* 7 days: the SigV4 limit for presigned URLs */
#define FINGERPRINT_MSG "owls-q4d sigv4 key cache"

/* ---- credentials ---------------------------------------------------------- */

void owls_creds_cleanup(struct owls_creds *c)
{
    if (c == NULL)
        return;
    free(c->access_key_id);
    owls_free_secret(c->secret_access_key);
    owls_free_secret(c->session_token);
    c->access_key_id = NULL;
    c->secret_access_key = NULL;
    c->session_token = NULL;
    c->expiration = 0;
}

void owls_creds_copy(struct owls_creds *dst, const struct owls_creds *src)
{
    dst->access_key_id = src->access_key_id ? owls_xstrdup(src->access_key_id) : NULL;
    dst->secret_access_key = src->secret_access_key ? owls_xstrdup(src->secret_access_key) : NULL;
    dst->session_token = src->session_token ? owls_xstrdup(src->session_token) : NULL;
    dst->expiration = src->expiration;
}

/* ---- encoding --------------------------------------------------------------- */

static bool is_unreserved(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_' || c == '~';
}

static void encode_into(struct owls_buf *b, const char *s, size_t n, bool keep_slash)
{
    static const char hex[] = "0123456789ABCDEF";

    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (is_unreserved(c) || (keep_slash && c == '/')) {
            owls_buf_putc(b, (char)c);
        } else {
            char e[3] = {'%', hex[c >> 4], hex[c & 0xf]};
            owls_buf_append(b, e, sizeof(e));
        }
    }
}

char *owls_uri_encode(const char *s, size_t n, bool keep_slash)
{
    struct owls_buf b;

    owls_buf_init(&b);
    encode_into(&b, s, n, keep_slash);
    return owls_buf_steal(&b, NULL);
}

/* Percent-decode s[0..n) into b; a '%' not followed by two hex digits stays
 * literal ('+' is not a space: SigV4 and S3 keep it as '+'). */
static void decode_into(struct owls_buf *b, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        int hi, lo;
        if (s[i] == '%' && i + 2 < n && (hi = owls_hex_digit(s[i + 1])) >= 0 &&
            (lo = owls_hex_digit(s[i + 2])) >= 0) {
            owls_buf_putc(b, (char)(hi << 4 | lo));
            i += 2;
        } else {
            owls_buf_putc(b, s[i]);
        }
    }
}

/* ---- canonical URI -------------------------------------------------------- */

/* Remove "." and ".." segments and empty segments (AWS wants "//" collapsed
 * too); keep a trailing slash. Caller frees. */
static char *normalize_path(const char *p)
{
    size_t n = strlen(p);
    size_t *marks = owls_xcalloc(n / 2 + 2, sizeof(*marks));
    size_t depth = 0, i = 0;
    struct owls_buf out;

    owls_buf_init(&out);
    while (i < n) {
        size_t j;
        while (i < n && p[i] == '/')
            i++;
        j = i;
        while (j < n && p[j] != '/')
            j++;
        if (j - i == 0 || (j - i == 1 && p[i] == '.')) {
            /* nothing */
        } else if (j - i == 2 && p[i] == '.' && p[i + 1] == '.') {
            if (depth > 0) {
                out.len = marks[--depth];
                out.data[out.len] = '\0';
            }
        } else {
            marks[depth++] = out.len;
            owls_buf_putc(&out, '/');
            owls_buf_append(&out, p + i, j - i);
        }
        i = j;
    }
    if (out.len == 0)
        owls_buf_putc(&out, '/');
    else if (n > 0 && p[n - 1] == '/')
        owls_buf_putc(&out, '/');
    free(marks);
    return owls_buf_steal(&out, NULL);
}

OWLS_TESTABLE char *owls_sigv4_canonical_uri(const char *path, bool double_encode, bool normalize)
{
    const char *p = (path != NULL && path[0] != '\0') ? path : "/";
    char *norm = NULL;
    char *r;

    if (normalize) {
        norm = normalize_path(p);
        p = norm;
    }
    r = double_encode ? owls_uri_encode(p, strlen(p), true) : owls_xstrdup(p);
    free(norm);
    return r;
}

/* ---- canonical query ---------------------------------------------------------- */

struct qparam {
    char *name; /* RFC 3986-encoded */
    char *value;
};

struct qlist {
    struct qparam *v;
    size_t n, cap;
};

static void qlist_add_encoded(struct qlist *l, char *name, char *value)
{
    if (l->n == l->cap) {
        l->cap = l->cap ? 2 * l->cap : 8;
        l->v = owls_xreallocarray(l->v, l->cap, sizeof(*l->v));
    }
    l->v[l->n].name = name;
    l->v[l->n].value = value;
    l->n++;
}

static void qlist_add(struct qlist *l, const char *name, const char *value)
{
    qlist_add_encoded(l, owls_uri_encode(name, strlen(name), false),
                      owls_uri_encode(value, strlen(value), false));
}

static void qlist_free(struct qlist *l)
{
    for (size_t i = 0; i < l->n; i++) {
        free(l->v[i].name);
        owls_free_secret(l->v[i].value); /* may be a session token */
    }
    free(l->v);
    l->v = NULL;
    l->n = l->cap = 0;
}

/* Split a wire query into decoded-then-encoded pairs; empty pieces ("a&&b")
 * are skipped, a piece without '=' has an empty value. */
static void qlist_parse(struct qlist *l, const char *query)
{
    const char *p = query;
    struct owls_buf tmp;

    if (p == NULL)
        return;
    owls_buf_init(&tmp);
    while (*p != '\0') {
        const char *end = strchr(p, '&');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len > 0) {
            const char *eq = memchr(p, '=', len);
            size_t nlen = eq ? (size_t)(eq - p) : len;
            char *name, *value;

            owls_buf_reset(&tmp);
            decode_into(&tmp, p, nlen);
            name = owls_uri_encode(tmp.data ? tmp.data : "", tmp.len, false);
            owls_buf_reset(&tmp);
            if (eq)
                decode_into(&tmp, eq + 1, len - nlen - 1);
            value = owls_uri_encode(tmp.data ? tmp.data : "", tmp.len, false);
            qlist_add_encoded(l, name, value);
        }
        p += len;
        if (*p == '&')
            p++;
    }
    owls_buf_cleanse(&tmp);
}

static int qparam_cmp(const void *a, const void *b)
{
    const struct qparam *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    return c != 0 ? c : strcmp(x->value, y->value);
}

static char *qlist_join_sorted(struct qlist *l)
{
    struct owls_buf b;

    owls_buf_init(&b);
    if (l->n > 1)
        qsort(l->v, l->n, sizeof(*l->v), qparam_cmp);
    for (size_t i = 0; i < l->n; i++) {
        if (i > 0)
            owls_buf_putc(&b, '&');
        owls_buf_puts(&b, l->v[i].name);
        owls_buf_putc(&b, '=');
        owls_buf_puts(&b, l->v[i].value);
    }
    return owls_buf_steal(&b, NULL);
}

/* ---- canonical headers ------------------------------------------------------- */

struct chdr {
    char *name;  /* lowercase */
    char *value; /* trimmed, runs of whitespace collapsed */
    size_t order;
};

static bool is_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* A token character of RFC 9110 (header field names). */
static bool is_tchar(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
           (c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

static char *trimall(const char *v)
{
    struct owls_buf b;
    bool pending_space = false;

    owls_buf_init(&b);
    while (is_ws(*v))
        v++;
    for (; *v != '\0'; v++) {
        if (is_ws(*v)) {
            pending_space = true;
            continue;
        }
        if (pending_space)
            owls_buf_putc(&b, ' ');
        pending_space = false;
        owls_buf_putc(&b, *v);
    }
    return owls_buf_steal(&b, NULL);
}

static int chdr_cmp(const void *a, const void *b)
{
    const struct chdr *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    if (c != 0)
        return c;
    return x->order < y->order ? -1 : x->order > y->order;
}

static void free_chdrs(struct chdr *h, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(h[i].name);
        owls_free_secret(h[i].value);
    }
    free(h);
}

/* ---- the signing key and its cache ------------------------------------------ */

struct cache_entry {
    bool used;
    unsigned long long tick;
    char akid[129];
    char date[9];
    char region[64];
    char service[64];
    unsigned char secret_fp[OWLS_SHA256_LEN];
    unsigned char key[OWLS_SHA256_LEN];
};

static pthread_mutex_t s_cache_lock = PTHREAD_MUTEX_INITIALIZER;
static struct cache_entry s_cache[CACHE_SLOTS];
static unsigned long long s_cache_tick;
static unsigned long s_cache_hits, s_cache_misses;

static bool derive_key(const char *secret, const char *date, const char *region,
                       const char *service, unsigned char out[OWLS_SHA256_LEN])
{
    bool ok = false;
    size_t slen = strlen(secret);
    char *ksecret = owls_xmalloc(slen + 5);
    unsigned char kdate[OWLS_SHA256_LEN] = {0};
    unsigned char kregion[OWLS_SHA256_LEN] = {0};
    unsigned char kservice[OWLS_SHA256_LEN] = {0};

    memcpy(ksecret, "AWS4", 4);
    memcpy(ksecret + 4, secret, slen + 1);
    if (!owls_hmac_sha256(ksecret, slen + 4, date, strlen(date), kdate))
        goto out;
    if (!owls_hmac_sha256(kdate, sizeof(kdate), region, strlen(region), kregion))
        goto out;
    if (!owls_hmac_sha256(kregion, sizeof(kregion), service, strlen(service), kservice))
        goto out;
    if (!owls_hmac_sha256(kservice, sizeof(kservice), "aws4_request", 12, out))
        goto out;
    ok = true;
out:
    OPENSSL_cleanse(ksecret, slen + 5);
    free(ksecret);
    OPENSSL_cleanse(kdate, sizeof(kdate));
    OPENSSL_cleanse(kregion, sizeof(kregion));
    OPENSSL_cleanse(kservice, sizeof(kservice));
    return ok;
}

static bool fits(const char *s, size_t cap)
{
    return strlen(s) < cap;
}

static struct cache_entry *cache_find(const char *akid, const unsigned char *fp, const char *date,
                                      const char *region, const char *service)
{
    for (size_t i = 0; i < CACHE_SLOTS; i++) {
        struct cache_entry *e = &s_cache[i];
        if (e->used && strcmp(e->akid, akid) == 0 && strcmp(e->date, date) == 0 &&
            strcmp(e->region, region) == 0 && strcmp(e->service, service) == 0 &&
            CRYPTO_memcmp(e->secret_fp, fp, OWLS_SHA256_LEN) == 0)
            return e;
    }
    return NULL;
}

/* The signing key for (creds, date, region, service), from the cache or
 * derived and cached. false on an OpenSSL failure. */
static bool signing_key(const struct owls_creds *c, const char *date, const char *region,
                        const char *service, unsigned char out[OWLS_SHA256_LEN])
{
    bool ok = false;
    bool cacheable = fits(c->access_key_id, sizeof(s_cache[0].akid)) &&
                     fits(region, sizeof(s_cache[0].region)) &&
                     fits(service, sizeof(s_cache[0].service)) && strlen(date) == 8;
    unsigned char fp[OWLS_SHA256_LEN] = {0};
    struct cache_entry *e;

    if (cacheable) {
        /* A fingerprint, not the secret, tells two secrets of one key id
         * apart (rotation, tests). */
        if (!owls_hmac_sha256(c->secret_access_key, strlen(c->secret_access_key), FINGERPRINT_MSG,
                              strlen(FINGERPRINT_MSG), fp))
            goto out;
        pthread_mutex_lock(&s_cache_lock);
        e = cache_find(c->access_key_id, fp, date, region, service);
        if (e != NULL) {
            memcpy(out, e->key, OWLS_SHA256_LEN);
            e->tick = ++s_cache_tick;
            s_cache_hits++;
        }
        pthread_mutex_unlock(&s_cache_lock);
        if (e != NULL) {
            ok = true;
            goto out;
        }
    }
    if (!derive_key(c->secret_access_key, date, region, service, out))
        goto out;
    pthread_mutex_lock(&s_cache_lock);
    s_cache_misses++;
    if (cacheable && cache_find(c->access_key_id, fp, date, region, service) == NULL) {
        struct cache_entry *victim = &s_cache[0];
        for (size_t i = 0; i < CACHE_SLOTS; i++) {
            if (!s_cache[i].used) {
                victim = &s_cache[i];
                break;
            }
            if (s_cache[i].tick < victim->tick)
                victim = &s_cache[i];
        }
        OPENSSL_cleanse(victim, sizeof(*victim));
        victim->used = true;
        victim->tick = ++s_cache_tick;
        snprintf(victim->akid, sizeof(victim->akid), "%s", c->access_key_id);
        memcpy(victim->date, date, 9);
        snprintf(victim->region, sizeof(victim->region), "%s", region);
        snprintf(victim->service, sizeof(victim->service), "%s", service);
        memcpy(victim->secret_fp, fp, sizeof(fp));
        memcpy(victim->key, out, OWLS_SHA256_LEN);
    }
    pthread_mutex_unlock(&s_cache_lock);
    ok = true;
out:
    OPENSSL_cleanse(fp, sizeof(fp));
    return ok;
}

void owls_sigv4_cache_clear(void)
{
    pthread_mutex_lock(&s_cache_lock);
    OPENSSL_cleanse(s_cache, sizeof(s_cache));
    s_cache_tick = 0;
    s_cache_hits = 0;
    s_cache_misses = 0;
    pthread_mutex_unlock(&s_cache_lock);
}

#ifdef OWLS_UNIT_TEST
char *owls_sigv4_canonical_query(const char *query)
{
    struct qlist l = {0};
    char *r;

    qlist_parse(&l, query);
    r = qlist_join_sorted(&l);
    qlist_free(&l);
    return r;
}

void owls_sigv4_cache_stats(struct owls_sigv4_cache_stats *st)
{
    pthread_mutex_lock(&s_cache_lock);
    st->hits = s_cache_hits;
    st->misses = s_cache_misses;
    st->entries = 0;
    for (size_t i = 0; i < CACHE_SLOTS; i++)
        st->entries += s_cache[i].used;
    pthread_mutex_unlock(&s_cache_lock);
}

bool owls_sigv4_derive_key_hex(const char *secret, const char *date, const char *region,
                               const char *service, char hex[65])
{
    unsigned char k[OWLS_SHA256_LEN];
    bool ok = derive_key(secret, date, region, service, k);
    if (ok)
        owls_hex(k, sizeof(k), hex);
    OPENSSL_cleanse(k, sizeof(k));
    return ok;
}
#endif

/* ---- signing --------------------------------------------------------------------- */

/* Non-empty, printable, no '/', no whitespace: safe inside a credential scope. */
static bool scope_part_ok(const char *s)
{
    if (s == NULL || s[0] == '\0')
        return false;
    for (; *s != '\0'; s++) {
        unsigned char c = (unsigned char)*s;
        if (c <= 0x20 || c >= 0x7f || c == '/')
            return false;
    }
    return true;
}

static bool method_ok(const char *m)
{
    if (m == NULL || m[0] == '\0')
        return false;
    for (; *m != '\0'; m++)
        if (!is_tchar((unsigned char)*m))
            return false;
    return true;
}

/* Build the canonical headers block ("name:value\n" each) and the signed
 * header list. Header mode adds x-amz-date and x-amz-security-token and drops
 * the caller's copies of those and of authorization. */
static enum owls_err canon_headers(const struct owls_creds *creds, const struct owls_sigv4_opts *o,
                                   const char *amz_date, struct owls_buf *block,
                                   struct owls_buf *signed_list, struct owls_errmsg *em)
{
    enum owls_err rc = OWLS_EINTERNAL;
    bool header_mode = o->where == OWLS_SIGV4_IN_HEADER;
    bool add_token = header_mode && creds->session_token != NULL && !o->omit_session_token;
    struct chdr *h = owls_xcalloc(o->nheaders + 2, sizeof(*h));
    size_t n = 0;
    bool have_host = false, have_sha = false;

    for (size_t i = 0; i < o->nheaders; i++) {
        const struct owls_sigv4_header *in = &o->headers[i];
        char *name;
        size_t len;

        if (in->name == NULL || in->value == NULL || in->name[0] == '\0') {
            owls_errmsg_set(em, rc, "sigv4: header %zu has no name or value", i);
            goto out;
        }
        len = strlen(in->name);
        name = owls_xstrndup(in->name, len);
        for (size_t k = 0; k < len; k++) {
            if (!is_tchar((unsigned char)name[k])) {
                owls_errmsg_set(em, rc, "sigv4: bad header name \"%.64s\"", in->name);
                free(name);
                goto out;
            }
            if (name[k] >= 'A' && name[k] <= 'Z')
                name[k] = (char)(name[k] - 'A' + 'a');
        }
        if (header_mode && (strcmp(name, "authorization") == 0 || strcmp(name, "x-amz-date") == 0 ||
                            strcmp(name, "x-amz-security-token") == 0)) {
            free(name);
            continue;
        }
        have_host |= strcmp(name, "host") == 0;
        have_sha |= strcmp(name, "x-amz-content-sha256") == 0;
        h[n].name = name;
        h[n].value = trimall(in->value);
        h[n].order = n;
        n++;
    }
    if (!have_host) {
        owls_errmsg_set(em, rc, "sigv4: the host header must be signed");
        goto out;
    }
    if (header_mode && !have_sha && strcmp(o->service, "s3") == 0) {
        owls_errmsg_set(em, rc, "sigv4: S3 requests must sign x-amz-content-sha256");
        goto out;
    }
    if (header_mode) {
        h[n].name = owls_xstrdup("x-amz-date");
        h[n].value = owls_xstrdup(amz_date);
        h[n].order = n;
        n++;
    }
    if (add_token) {
        h[n].name = owls_xstrdup("x-amz-security-token");
        h[n].value = trimall(creds->session_token);
        h[n].order = n;
        n++;
    }
    qsort(h, n, sizeof(*h), chdr_cmp);
    for (size_t i = 0; i < n; i++) {
        bool first = i == 0 || strcmp(h[i].name, h[i - 1].name) != 0;
        bool last = i + 1 == n || strcmp(h[i].name, h[i + 1].name) != 0;
        if (first) {
            if (signed_list->len > 0)
                owls_buf_putc(signed_list, ';');
            owls_buf_puts(signed_list, h[i].name);
            owls_buf_puts(block, h[i].name);
            owls_buf_putc(block, ':');
        } else {
            owls_buf_putc(block, ',');
        }
        owls_buf_puts(block, h[i].value);
        if (last)
            owls_buf_putc(block, '\n');
    }
    rc = OWLS_OK;
out:
    free_chdrs(h, n);
    return rc;
}

enum owls_err owls_sigv4_sign(const struct owls_creds *creds, const struct owls_sigv4_opts *o,
                              struct owls_sigv4_result *out, struct owls_errmsg *em)
{
    enum owls_err rc = OWLS_EINTERNAL;
    bool header_mode, s3, dbl, norm;
    struct owls_buf hblock, slist, cr, sts, q;
    struct qlist params = {0};
    char date[9] = {0}, expires[24] = {0};
    char *scope = NULL, *uri = NULL, *cquery = NULL, *credential = NULL;
    char cr_hash[OWLS_SHA256_HEX] = {0};
    unsigned char key[OWLS_SHA256_LEN] = {0}, sig[OWLS_SHA256_LEN] = {0};
    struct tm tm;

    owls_buf_init(&hblock);
    owls_buf_init(&slist);
    owls_buf_init(&cr);
    owls_buf_init(&sts);
    owls_buf_init(&q);
    memset(out, 0, sizeof(*out));

    if (creds == NULL || o == NULL || !scope_part_ok(creds->access_key_id) ||
        creds->secret_access_key == NULL || creds->secret_access_key[0] == '\0') {
        owls_errmsg_set(em, rc, "sigv4: missing or malformed credentials");
        goto out;
    }
    if (!method_ok(o->method) || !scope_part_ok(o->region) || !scope_part_ok(o->service) ||
        o->payload_hash == NULL || o->payload_hash[0] == '\0' ||
        (o->nheaders > 0 && o->headers == NULL)) {
        owls_errmsg_set(em, rc, "sigv4: bad method, region, service, payload hash or headers");
        goto out;
    }
    header_mode = o->where == OWLS_SIGV4_IN_HEADER;
    if (!header_mode && (o->expires < 1 || o->expires > MAX_EXPIRES)) {
        owls_errmsg_set(em, rc, "sigv4: X-Amz-Expires %ld not in 1..%d", o->expires, MAX_EXPIRES);
        goto out;
    }
    if (o->now < 0 || gmtime_r(&o->now, &tm) == NULL ||
        strftime(out->amz_date, sizeof(out->amz_date), "%Y%m%dT%H%M%SZ", &tm) != 16 ||
        strftime(date, sizeof(date), "%Y%m%d", &tm) != 8) {
        owls_errmsg_set(em, rc, "sigv4: signing time out of range");
        goto out;
    }
    scope = owls_xasprintf("%s/%s/%s/aws4_request", date, o->region, o->service);

    /* 1. canonical URI: by service, never by host. */
    s3 = strcmp(o->service, "s3") == 0;
    dbl = o->force_uri_rules ? o->double_encode : !s3;
    norm = o->force_uri_rules ? o->normalize_path : !s3;
    uri = owls_sigv4_canonical_uri(o->path, dbl, norm);

    /* 2. canonical headers and the signed-header list. */
    rc = canon_headers(creds, o, out->amz_date, &hblock, &slist, em);
    if (rc != OWLS_OK)
        goto out;
    rc = OWLS_EINTERNAL;

    /* 3. canonical query, with the X-Amz-* parameters of a presigned URL. */
    qlist_parse(&params, o->query);
    if (!header_mode) {
        credential = owls_xasprintf("%s/%s", creds->access_key_id, scope);
        snprintf(expires, sizeof(expires), "%ld", o->expires);
        qlist_add(&params, "X-Amz-Algorithm", ALGORITHM);
        qlist_add(&params, "X-Amz-Credential", credential);
        qlist_add(&params, "X-Amz-Date", out->amz_date);
        qlist_add(&params, "X-Amz-Expires", expires);
        if (creds->session_token != NULL && !o->omit_session_token)
            qlist_add(&params, "X-Amz-Security-Token", creds->session_token);
        qlist_add(&params, "X-Amz-SignedHeaders", slist.data);
    }
    cquery = qlist_join_sorted(&params);

    /* 4. the canonical request and the string to sign. */
    owls_buf_printf(&cr, "%s\n%s\n%s\n", o->method, uri, cquery);
    owls_buf_append(&cr, hblock.data, hblock.len);
    owls_buf_printf(&cr, "\n%s\n%s", slist.data, o->payload_hash);
    owls_sha256_hex(cr.data, cr.len, cr_hash);
    owls_buf_printf(&sts, "%s\n%s\n%s\n%s", ALGORITHM, out->amz_date, scope, cr_hash);

    /* 5. the signature. */
    if (!signing_key(creds, date, o->region, o->service, key) ||
        !owls_hmac_sha256(key, sizeof(key), sts.data, sts.len, sig)) {
        rc = owls_errmsg_set(em, OWLS_ECRYPTO, "sigv4: HMAC-SHA256 failed");
        goto out;
    }
    owls_hex(sig, sizeof(sig), out->signature);

    /* 6. what goes on the wire. */
    if (header_mode) {
        out->authorization =
            owls_xasprintf("%s Credential=%s/%s, SignedHeaders=%s, Signature=%s", ALGORITHM,
                           creds->access_key_id, scope, slist.data, out->signature);
    } else {
        if (o->query != NULL && o->query[0] != '\0') {
            owls_buf_puts(&q, o->query);
            owls_buf_putc(&q, '&');
        }
        owls_buf_puts(&q, "X-Amz-Algorithm=" ALGORITHM "&X-Amz-Credential=");
        encode_into(&q, credential, strlen(credential), false);
        owls_buf_printf(&q, "&X-Amz-Date=%s&X-Amz-SignedHeaders=", out->amz_date);
        encode_into(&q, slist.data, slist.len, false);
        owls_buf_printf(&q, "&X-Amz-Expires=%s", expires);
        if (creds->session_token != NULL) {
            owls_buf_puts(&q, "&X-Amz-Security-Token=");
            encode_into(&q, creds->session_token, strlen(creds->session_token), false);
        }
        owls_buf_printf(&q, "&X-Amz-Signature=%s", out->signature);
        out->query = owls_buf_steal(&q, NULL);
    }
    out->canonical_request = owls_buf_steal(&cr, NULL);
    out->string_to_sign = owls_buf_steal(&sts, NULL);
    rc = OWLS_OK;
out:
    OPENSSL_cleanse(key, sizeof(key));
    OPENSSL_cleanse(sig, sizeof(sig));
    owls_buf_cleanse(&hblock);
    owls_buf_cleanup(&slist);
    owls_buf_cleanse(&cr);
    owls_buf_cleanup(&sts);
    owls_buf_cleanse(&q);
    qlist_free(&params);
    free(scope);
    free(uri);
    owls_free_secret(cquery);
    free(credential);
    if (rc != OWLS_OK)
        owls_sigv4_result_cleanup(out);
    return rc;
}

void owls_sigv4_result_cleanup(struct owls_sigv4_result *r)
{
    if (r == NULL)
        return;
    free(r->authorization);
    owls_free_secret(r->query);
    owls_free_secret(r->canonical_request);
    free(r->string_to_sign);
    memset(r, 0, sizeof(*r));
}
