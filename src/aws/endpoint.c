/*
 * endpoint.c - endpoint URLs and S3 addressing.
 *
 * DESIGN: the only place that knows how an AWS URL is put together. A
 * configured endpoint is parsed once into struct owls_endpoint (scheme,
 * host, the Host header, a base path); S3 targets are then built from it:
 * path-style "/<bucket>/<key>" or virtual-hosted "<bucket>.<host>" +
 * "/<key>". The key is percent-encoded exactly once (S3 signs the path as
 * sent). The Host header is computed here, set explicitly on the request
 * and signed, so what is signed is what is sent whatever libcurl would do
 * with default ports. No state: thread-safe.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "owls/buf.h"
#include "owls/creds.h"
#include "owls/endpoint.h"
#include "owls/http.h"
#include "owls/retry.h"
#include "owls/sigv4.h"
#include "owls/util.h"

enum owls_err owls_endpoint_parse(const char *url, struct owls_endpoint *out,
                                  struct owls_errmsg *em)
{
    enum owls_err rc = OWLS_ECONFIG;
    const char *p, *hend, *auth_end;
    size_t hlen;
    long port = 0;

    memset(out, 0, sizeof(*out));
    if (url == NULL || *url == '\0') {
        owls_errmsg_set(em, rc, "empty endpoint URL");
        goto out;
    }
    if (strncasecmp(url, "https://", 8) == 0) {
        out->https = true;
        p = url + 8;
    } else if (strncasecmp(url, "http://", 7) == 0) {
        p = url + 7;
    } else {
        owls_errmsg_set(em, rc, "endpoint URL '%s' is not http:// or https://", url);
        goto out;
    }
    auth_end = p + strcspn(p, "/?#");
    if (strpbrk(auth_end, "?#") != NULL) {
        owls_errmsg_set(em, rc, "endpoint URL '%s' must not have a query or fragment", url);
        goto out;
    }
    if (memchr(p, '@', (size_t)(auth_end - p)) != NULL) {
        owls_errmsg_set(em, rc, "endpoint URL must not carry user information");
        goto out;
    }
    if (*p == '[') { /* IPv6 literal */
        const char *rb = memchr(p, ']', (size_t)(auth_end - p));
        if (rb == NULL) {
            owls_errmsg_set(em, rc, "endpoint URL '%s': unterminated IPv6 address", url);
            goto out;
        }
        hend = rb + 1;
        p++;
        hlen = (size_t)(rb - p);
    } else {
        hend = p;
        while (hend < auth_end && *hend != ':')
            hend++;
        hlen = (size_t)(hend - p);
    }
    if (hlen == 0 || hlen >= sizeof(out->host)) {
        owls_errmsg_set(em, rc, "endpoint URL '%s': bad host", url);
        goto out;
    }
    for (size_t i = 0; i < hlen; i++) {
        unsigned char c = (unsigned char)p[i];
        if (!(isalnum(c) || c == '-' || c == '.' || c == '_' || c == ':')) {
            owls_errmsg_set(em, rc, "endpoint URL '%s': bad character in host", url);
            goto out;
        }
        out->host[i] = (char)tolower(c);
    }
    if (hend < auth_end) {
        char *end;
        if (*hend != ':' || hend + 1 == auth_end) {
            owls_errmsg_set(em, rc, "endpoint URL '%s': bad port", url);
            goto out;
        }
        port = strtol(hend + 1, &end, 10);
        if (end != auth_end || port < 1 || port > 65535) {
            owls_errmsg_set(em, rc, "endpoint URL '%s': bad port", url);
            goto out;
        }
    }
    out->port = port ? (int)port : (out->https ? 443 : 80);
    {
        bool v6 = strchr(out->host, ':') != NULL;
        bool dflt = out->port == (out->https ? 443 : 80);
        int n;
        if (dflt)
            n = snprintf(out->authority, sizeof(out->authority), v6 ? "[%s]" : "%s", out->host);
        else
            n = snprintf(out->authority, sizeof(out->authority), v6 ? "[%s]:%d" : "%s:%d",
                         out->host, out->port);
        if (n < 0 || (size_t)n >= sizeof(out->authority)) {
            owls_errmsg_set(em, rc, "endpoint URL '%s': host too long", url);
            goto out;
        }
    }
    {
        size_t blen = strlen(auth_end);
        while (blen > 0 && auth_end[blen - 1] == '/')
            blen--;
        if (blen >= sizeof(out->base)) {
            owls_errmsg_set(em, rc, "endpoint URL '%s': path too long", url);
            goto out;
        }
        memcpy(out->base, auth_end, blen);
        out->base[blen] = '\0';
    }
    rc = OWLS_OK;
out:
    return rc;
}

enum owls_err owls_endpoint_default(const char *service, const char *region,
                                    struct owls_endpoint *out, struct owls_errmsg *em)
{
    enum owls_err rc = OWLS_ECONFIG;
    char url[300];
    int n;

    if (region == NULL || *region == '\0') {
        owls_errmsg_set(em, rc, "no AWS region configured");
        goto out;
    }
    for (const char *r = region; *r; r++) {
        if (!(islower((unsigned char)*r) || isdigit((unsigned char)*r) || *r == '-')) {
            owls_errmsg_set(em, rc, "bad AWS region '%s'", region);
            goto out;
        }
    }
    /* China regions live under amazonaws.com.cn */
    n = snprintf(url, sizeof(url), "https://%s.%s.amazonaws.com%s", service, region,
                 strncmp(region, "cn-", 3) == 0 ? ".cn" : "");
    if (n < 0 || (size_t)n >= sizeof(url)) {
        owls_errmsg_set(em, rc, "AWS region name too long");
        goto out;
    }
    rc = owls_endpoint_parse(url, out, em);
out:
    return rc;
}

static bool looks_like_ipv4(const char *s)
{
    int dots = 0;
    for (; *s; s++) {
        if (*s == '.')
            dots++;
        else if (!isdigit((unsigned char)*s))
            return false;
    }
    return dots == 3;
}

bool owls_s3_bucket_dns_ok(const char *bucket)
{
    size_t n = bucket ? strlen(bucket) : 0;

    if (n < 3 || n > 63)
        return false;
    if (!isalnum((unsigned char)bucket[0]) || !isalnum((unsigned char)bucket[n - 1]))
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = bucket[i];
        if (!(islower((unsigned char)c) || isdigit((unsigned char)c) || c == '-' || c == '.'))
            return false;
        if (c == '.' && (bucket[i + 1] == '.' || bucket[i + 1] == '-' || bucket[i - 1] == '-'))
            return false;
    }
    return !looks_like_ipv4(bucket);
}

bool owls_s3_use_virtual(enum owls_s3_addressing mode, bool custom, bool https, const char *bucket)
{
    switch (mode) {
    case OWLS_S3_ADDR_PATH:
        return false;
    case OWLS_S3_ADDR_VIRTUAL:
        return true;
    case OWLS_S3_ADDR_AUTO:
    default:
        /* a dotted name does not match the *.s3 wildcard certificate */
        return !custom && owls_s3_bucket_dns_ok(bucket) && (!https || strchr(bucket, '.') == NULL);
    }
}

enum owls_err owls_s3_target_build(const struct owls_endpoint *ep, bool custom,
                                   enum owls_s3_addressing mode, const char *bucket,
                                   const char *key, const char *query, struct owls_s3_target *out,
                                   struct owls_errmsg *em)
{
    enum owls_err rc = OWLS_ECONFIG;
    struct owls_buf path;
    char *ekey = NULL;
    bool virt;

    owls_buf_init(&path);
    memset(out, 0, sizeof(*out));
    if (bucket == NULL || *bucket == '\0' || strchr(bucket, '/') != NULL) {
        owls_errmsg_set(em, rc, "bad S3 bucket name '%s'", bucket ? bucket : "");
        goto out;
    }
    virt = owls_s3_use_virtual(mode, custom, ep->https, bucket);
    if (virt && !owls_s3_bucket_dns_ok(bucket)) {
        owls_errmsg_set(em, rc, "bucket '%s' cannot be addressed virtual-hosted", bucket);
        goto out;
    }
    owls_buf_puts(&path, ep->base);
    if (!virt) {
        ekey = owls_uri_encode(bucket, strlen(bucket), false);
        owls_buf_putc(&path, '/');
        owls_buf_puts(&path, ekey);
        free(ekey);
        ekey = NULL;
    }
    if (key != NULL && *key != '\0') {
        ekey = owls_uri_encode(key, strlen(key), true);
        owls_buf_putc(&path, '/');
        owls_buf_puts(&path, ekey);
    } else if (virt || path.len == 0) {
        owls_buf_putc(&path, '/');
    }
    if (virt)
        out->host = owls_xasprintf("%s.%s", bucket, ep->authority);
    else
        out->host = owls_xstrdup(ep->authority);
    out->path = owls_buf_steal(&path, NULL);
    out->url = owls_xasprintf("%s://%s%s%s%s", ep->https ? "https" : "http", out->host, out->path,
                              query && *query ? "?" : "", query && *query ? query : "");
    rc = OWLS_OK;
out:
    free(ekey);
    owls_buf_cleanup(&path);
    return rc;
}

void owls_s3_target_cleanup(struct owls_s3_target *t)
{
    free(t->url);
    free(t->host);
    free(t->path);
    memset(t, 0, sizeof(*t));
}

enum owls_err owls_endpoint_sign(void *arg, int attempt, time_t now, struct owls_retry_extra *x,
                                 struct owls_errmsg *em)
{
    const struct owls_aws_signer *sg = arg;
    enum owls_err rc;
    struct owls_creds c;
    struct owls_sigv4_result res;
    struct owls_sigv4_header *sh = NULL;
    struct owls_sigv4_opts so;

    (void)attempt;
    if (sg->creds == NULL) /* no credentials (tests against a fault server): unsigned */
        return OWLS_OK;
    memset(&c, 0, sizeof(c));
    memset(&res, 0, sizeof(res));
    rc = owls_creds_get(sg->creds, &c, em);
    if (rc != OWLS_OK)
        goto out;
    sh = owls_xcalloc(sg->nheaders ? sg->nheaders : 1, sizeof(*sh));
    for (size_t i = 0; i < sg->nheaders; i++) {
        sh[i].name = sg->headers[i].name;
        sh[i].value = sg->headers[i].value;
    }
    memset(&so, 0, sizeof(so));
    so.method = sg->method;
    so.path = sg->path;
    so.query = sg->query;
    so.headers = sh;
    so.nheaders = sg->nheaders;
    so.payload_hash = sg->payload_hash;
    so.region = sg->region;
    so.service = sg->service;
    so.now = now;
    so.where = OWLS_SIGV4_IN_HEADER;
    rc = owls_sigv4_sign(&c, &so, &res, em);
    if (rc != OWLS_OK)
        goto out;
    owls_retry_extra_add(x, "X-Amz-Date", res.amz_date);
    owls_retry_extra_add(x, "Authorization", res.authorization);
    if (c.session_token != NULL)
        owls_retry_extra_add(x, "X-Amz-Security-Token", c.session_token);
out:
    free(sh);
    owls_sigv4_result_cleanup(&res);
    owls_creds_cleanup(&c);
    return rc;
}

void owls_endpoint_invalidate(void *arg)
{
    const struct owls_aws_signer *sg = arg;
    if (sg->creds != NULL)
        owls_creds_invalidate(sg->creds);
}
