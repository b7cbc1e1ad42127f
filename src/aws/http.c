/*
 * http.c - HTTP transport over libcurl.
 *
 * DESIGN: struct owls_http holds the settings (CA bundle, timeouts), a
 * cancel flag, and a registry of per-thread handles. A thread's first
 * request creates its handle (a curl multi handle with one easy handle:
 * the multi owns the connection cache, so connections are reused across
 * the thread's requests) and stores it under a pthread key whose destructor
 * releases it when the thread exits. A request is driven with
 * curl_multi_perform()/curl_multi_poll() in slices of at most 100 ms, so a
 * per-request cancel flag is noticed quickly; owls_http_cancel() also calls
 * curl_multi_wakeup() on every registered handle for an immediate stop.
 *
 * Threads: the registry and the sleep condition variable are guarded by
 * h->mu; a handle is only ever used by the thread that owns it.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>

#include "owls/awserr.h"
#include "owls/http.h"
#include "owls/log.h"
#include "owls/timefmt.h"
#include "owls/util.h"

#ifndef OWLS_VERSION
#define OWLS_VERSION "0.0.0"
#endif

#define POLL_SLICE_MS    100
#define ERROR_BODY_LIMIT (64 * 1024)

struct thread_handle {
    struct owls_http *owner;
    CURLM *multi;
    CURL *easy;
    struct thread_handle *next;
};

struct owls_http {
    char *ca_bundle; /* NULL = system default */
    long connect_timeout_ms;
    long low_speed_limit;
    long low_speed_time_s;
    atomic_bool cancelled;
    pthread_key_t key;
    pthread_mutex_t mu;
    pthread_cond_t cv; /* signalled on cancel (wakes owls_http_sleep) */
    struct thread_handle *handles;
};

static pthread_once_t s_curl_once = PTHREAD_ONCE_INIT;
static CURLcode s_curl_init_rc;

static void curl_init_once(void)
{
    s_curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT);
}

static void handle_free(struct thread_handle *th)
{
    if (th->multi && th->easy)
        curl_multi_remove_handle(th->multi, th->easy);
    if (th->easy)
        curl_easy_cleanup(th->easy);
    if (th->multi)
        curl_multi_cleanup(th->multi);
    free(th);
}

/* Unlink th from its owner's registry; caller holds owner->mu. */
static void handle_unlink(struct thread_handle *th)
{
    struct thread_handle **pp = &th->owner->handles;
    while (*pp && *pp != th)
        pp = &(*pp)->next;
    if (*pp)
        *pp = th->next;
}

static void thread_exit_destructor(void *p)
{
    struct thread_handle *th = p;
    pthread_mutex_lock(&th->owner->mu);
    handle_unlink(th);
    pthread_mutex_unlock(&th->owner->mu);
    handle_free(th);
}

enum owls_err owls_http_new(const struct owls_aws_opts *opts, struct owls_http **out,
                            struct owls_errmsg *em)
{
    enum owls_err rc = OWLS_ECONFIG;
    struct owls_http *h = NULL;
    const char *ca = opts ? opts->ca_bundle : NULL;
    pthread_condattr_t ca_attr;

    *out = NULL;
    pthread_once(&s_curl_once, curl_init_once);
    if (s_curl_init_rc != CURLE_OK) {
        rc = owls_errmsg_set(em, OWLS_EINTERNAL, "curl_global_init: %s",
                             curl_easy_strerror(s_curl_init_rc));
        goto out;
    }
    owls_awserr_init();
    if (ca == NULL || *ca == '\0')
        ca = getenv("AWS_CA_BUNDLE");
    if (ca != NULL && *ca != '\0' && access(ca, R_OK) != 0) {
        owls_errmsg_set(em, rc, "CA bundle %s: %s", ca, strerror(errno));
        goto out;
    }
    h = owls_xcalloc(1, sizeof(*h));
    h->ca_bundle = (ca && *ca) ? owls_xstrdup(ca) : NULL;
    h->connect_timeout_ms = opts && opts->connect_timeout_ms > 0 ? opts->connect_timeout_ms
                                                                 : OWLS_DEFAULT_CONNECT_TIMEOUT_MS;
    h->low_speed_limit =
        opts && opts->low_speed_limit > 0 ? opts->low_speed_limit : OWLS_DEFAULT_LOW_SPEED_LIMIT;
    h->low_speed_time_s =
        opts && opts->low_speed_time_s > 0 ? opts->low_speed_time_s : OWLS_DEFAULT_LOW_SPEED_TIME_S;
    atomic_init(&h->cancelled, false);
    if (pthread_key_create(&h->key, thread_exit_destructor) != 0) {
        rc = owls_errmsg_set(em, OWLS_EINTERNAL, "pthread_key_create failed");
        free(h->ca_bundle);
        free(h);
        h = NULL;
        goto out;
    }
    pthread_mutex_init(&h->mu, NULL);
    pthread_condattr_init(&ca_attr);
    pthread_condattr_setclock(&ca_attr, CLOCK_MONOTONIC);
    pthread_cond_init(&h->cv, &ca_attr);
    pthread_condattr_destroy(&ca_attr);
    *out = h;
    rc = OWLS_OK;
out:
    return rc;
}

void owls_http_free(struct owls_http *h)
{
    struct thread_handle *th, *next;

    if (h == NULL)
        return;
    pthread_key_delete(h->key); /* no destructor runs after this */
    for (th = h->handles; th; th = next) {
        next = th->next;
        handle_free(th);
    }
    pthread_cond_destroy(&h->cv);
    pthread_mutex_destroy(&h->mu);
    free(h->ca_bundle);
    free(h);
}

void owls_http_cancel(struct owls_http *h)
{
    atomic_store(&h->cancelled, true);
    pthread_mutex_lock(&h->mu);
    for (struct thread_handle *th = h->handles; th; th = th->next)
        curl_multi_wakeup(th->multi);
    pthread_cond_broadcast(&h->cv);
    pthread_mutex_unlock(&h->mu);
}

bool owls_http_cancelled(struct owls_http *h)
{
    return atomic_load(&h->cancelled);
}

static bool is_cancelled(struct owls_http *h, const atomic_bool *cancel)
{
    return atomic_load(&h->cancelled) || (cancel != NULL && atomic_load(cancel));
}

bool owls_http_sleep(struct owls_http *h, long ms, const atomic_bool *cancel)
{
    long long deadline = owls_time_mono_ms() + ms;
    bool ok = true;

    pthread_mutex_lock(&h->mu);
    for (;;) {
        long long now = owls_time_mono_ms(), left;
        struct timespec ts;
        if (is_cancelled(h, cancel)) {
            ok = false;
            break;
        }
        if (now >= deadline)
            break;
        left = OWLS_MIN(deadline - now, POLL_SLICE_MS);
        clock_gettime(CLOCK_MONOTONIC, &ts);
        ts.tv_sec += left / 1000;
        ts.tv_nsec += (left % 1000) * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&h->cv, &h->mu, &ts);
    }
    pthread_mutex_unlock(&h->mu);
    return ok;
}

static struct thread_handle *thread_handle_get(struct owls_http *h)
{
    struct thread_handle *th = pthread_getspecific(h->key);

    if (th != NULL)
        return th;
    th = owls_xcalloc(1, sizeof(*th));
    th->owner = h;
    th->multi = curl_multi_init();
    th->easy = curl_easy_init();
    if (th->multi == NULL || th->easy == NULL) {
        handle_free(th);
        return NULL;
    }
    pthread_mutex_lock(&h->mu);
    th->next = h->handles;
    h->handles = th;
    pthread_mutex_unlock(&h->mu);
    pthread_setspecific(h->key, th);
    return th;
}

void owls_http_thread_release(struct owls_http *h)
{
    struct thread_handle *th = pthread_getspecific(h->key);

    if (th == NULL)
        return;
    pthread_setspecific(h->key, NULL);
    thread_exit_destructor(th);
}

void owls_http_response_init(struct owls_http_response *r)
{
    memset(r, 0, sizeof(*r));
    owls_buf_init(&r->body);
}

static void headers_clear(struct owls_http_response *r)
{
    for (size_t i = 0; i < r->nhdrs; i++) {
        free(r->hdr_names[i]);
        free(r->hdr_values[i]);
    }
    free(r->hdr_names);
    free(r->hdr_values);
    r->hdr_names = NULL;
    r->hdr_values = NULL;
    r->nhdrs = 0;
}

void owls_http_response_cleanup(struct owls_http_response *r)
{
    headers_clear(r);
    owls_buf_cleanup(&r->body);
    owls_http_response_init(r);
}

const char *owls_http_response_header(const struct owls_http_response *r, const char *name)
{
    for (size_t i = r->nhdrs; i > 0; i--)
        if (strcasecmp(r->hdr_names[i - 1], name) == 0)
            return r->hdr_values[i - 1];
    return NULL;
}

/* The state of one transfer, shared with the curl callbacks. */
struct xfer {
    struct owls_http *h;
    const struct owls_http_request *req;
    struct owls_http_response *resp;
    CURL *easy;
    uint64_t up_pos;
    enum owls_err cb_rc; /* why a callback stopped the transfer */
    bool too_large;
    bool decided;   /* the two below are set at the first body byte */
    bool ok;        /* a 2xx answer */
    bool streaming; /* a 2xx answer and req->on_body */
};

static size_t on_header(char *p, size_t size, size_t n, void *arg)
{
    struct xfer *x = arg;
    struct owls_http_response *r = x->resp;
    size_t len = size * n, nlen;
    const char *colon, *v, *end = p + len;

    if (len >= 5 && strncmp(p, "HTTP/", 5) == 0) {
        headers_clear(r); /* a new status line: 100 Continue or a redirect */
        return len;
    }
    colon = memchr(p, ':', len);
    if (colon == NULL)
        return len;
    nlen = (size_t)(colon - p);
    v = colon + 1;
    while (v < end && (*v == ' ' || *v == '\t'))
        v++;
    while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' ' || end[-1] == '\t'))
        end--;
    if (r->nhdrs >= 200) /* a hostile server cannot make us hoard headers */
        return len;
    r->hdr_names = owls_xreallocarray(r->hdr_names, r->nhdrs + 1, sizeof(char *));
    r->hdr_values = owls_xreallocarray(r->hdr_values, r->nhdrs + 1, sizeof(char *));
    r->hdr_names[r->nhdrs] = owls_xstrndup(p, nlen);
    for (char *c = r->hdr_names[r->nhdrs]; *c; c++)
        *c = (char)((*c >= 'A' && *c <= 'Z') ? *c - 'A' + 'a' : *c);
    r->hdr_values[r->nhdrs] = owls_xstrndup(v, (size_t)(end - v));
    r->nhdrs++;
    return len;
}

static size_t on_write(char *p, size_t size, size_t n, void *arg)
{
    struct xfer *x = arg;
    const struct owls_http_request *req = x->req;
    size_t len = size * n;

    /* No redirects are followed: one answer, one status per transfer. */
    if (!x->decided) {
        long status = 0;
        curl_off_t clen = -1;
        curl_easy_getinfo(x->easy, CURLINFO_RESPONSE_CODE, &status);
        x->decided = true;
        x->ok = status >= 200 && status < 300;
        x->streaming = x->ok && req->on_body != NULL;
        if (!x->streaming && x->ok && req->max_body > 0 &&
            curl_easy_getinfo(x->easy, CURLINFO_CONTENT_LENGTH_DOWNLOAD_T, &clen) == CURLE_OK &&
            clen > (curl_off_t)req->max_body) {
            x->too_large = true;
            return 0;
        }
    }
    x->resp->body_bytes += len;
    if (x->streaming) {
        enum owls_err rc = req->on_body(req->on_body_arg, p, len);
        if (rc != OWLS_OK) {
            x->cb_rc = rc;
            return 0;
        }
        return len;
    }
    if (x->ok) {
        if (req->max_body > 0 && x->resp->body.len + len > req->max_body) {
            x->too_large = true;
            return 0;
        }
    } else if (x->resp->body.len + len > ERROR_BODY_LIMIT) {
        /* keep the head of an error body; drop the rest */
        len = ERROR_BODY_LIMIT > x->resp->body.len ? ERROR_BODY_LIMIT - x->resp->body.len : 0;
        owls_buf_append(&x->resp->body, p, len);
        return size * n;
    }
    owls_buf_append(&x->resp->body, p, len);
    return len;
}

static size_t on_read(char *buf, size_t size, size_t n, void *arg)
{
    struct xfer *x = arg;
    const struct owls_http_request *req = x->req;
    size_t want = size * n;
    uint64_t left = req->body_len - x->up_pos;

    if (want > left)
        want = (size_t)left;
    if (want == 0)
        return 0;
    if (req->body_fd >= 0) {
        ssize_t got;
        do
            got = pread(req->body_fd, buf, want, (off_t)(req->body_off + x->up_pos));
        while (got < 0 && errno == EINTR);
        if (got <= 0) {
            x->cb_rc = OWLS_EIO;
            return CURL_READFUNC_ABORT;
        }
        want = (size_t)got;
    } else {
        memcpy(buf, (const char *)req->body + x->up_pos, want);
    }
    x->up_pos += want;
    return want;
}

static int on_seek(void *arg, curl_off_t off, int origin)
{
    struct xfer *x = arg;
    if (origin != SEEK_SET || off < 0 || (uint64_t)off > x->req->body_len)
        return CURL_SEEKFUNC_CANTSEEK;
    x->up_pos = (uint64_t)off;
    return CURL_SEEKFUNC_OK;
}

static int on_progress(void *arg, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
    struct xfer *x = arg;
    (void)dt, (void)dn, (void)ut, (void)un;
    return is_cancelled(x->h, x->req->cancel) ? 1 : 0;
}

/* "https://host/path?query" -> "host/path" for logs and messages: the query
 * may be a presigned signature. */
static void url_for_log(const char *url, char *out, size_t cap)
{
    const char *p = strstr(url, "://");
    size_t n;
    p = p ? p + 3 : url;
    n = strcspn(p, "?#");
    if (n >= cap)
        n = cap - 1;
    memcpy(out, p, n);
    out[n] = '\0';
}

static enum owls_http_fail classify_curl(CURLcode cc)
{
    switch (cc) {
    case CURLE_OK:
        return OWLS_HTTP_OK;
    case CURLE_OPERATION_TIMEDOUT:
        return OWLS_HTTP_TIMEOUT;
    case CURLE_ABORTED_BY_CALLBACK:
        return OWLS_HTTP_CANCELLED;
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_CONNECT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    case CURLE_WEIRD_SERVER_REPLY:
    case CURLE_PROXY:
        return OWLS_HTTP_CONNECT;
    default:
        return OWLS_HTTP_OTHER;
    }
}

static void setup_easy(struct owls_http *h, CURL *e, struct xfer *x, struct curl_slist *hdrs,
                       char *errbuf)
{
    const struct owls_http_request *req = x->req;
    const char *m = req->method;

    curl_easy_reset(e);
    curl_easy_setopt(e, CURLOPT_URL, req->url);
    curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(e, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, 2L);
    if (h->ca_bundle)
        curl_easy_setopt(e, CURLOPT_CAINFO, h->ca_bundle);
    curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, h->connect_timeout_ms);
    if (!req->no_stall_limit) {
        curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, h->low_speed_limit);
        curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME, h->low_speed_time_s);
    }
    if (req->timeout_ms > 0)
        curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, req->timeout_ms);
    curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
    curl_easy_setopt(e, CURLOPT_USERAGENT, "owls-q4d/" OWLS_VERSION);
    curl_easy_setopt(e, CURLOPT_HTTPHEADER, hdrs);
    curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(e, CURLOPT_HEADERDATA, x);
    curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_write);
    curl_easy_setopt(e, CURLOPT_WRITEDATA, x);
    curl_easy_setopt(e, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(e, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(e, CURLOPT_XFERINFODATA, x);
    if (strcmp(m, "HEAD") == 0) {
        curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
    } else if (strcmp(m, "PUT") == 0 || strcmp(m, "POST") == 0) {
        curl_easy_setopt(e, CURLOPT_READFUNCTION, on_read);
        curl_easy_setopt(e, CURLOPT_READDATA, x);
        curl_easy_setopt(e, CURLOPT_SEEKFUNCTION, on_seek);
        curl_easy_setopt(e, CURLOPT_SEEKDATA, x);
        if (m[1] == 'U') {
            curl_easy_setopt(e, CURLOPT_UPLOAD, 1L);
            curl_easy_setopt(e, CURLOPT_INFILESIZE_LARGE, (curl_off_t)req->body_len);
        } else {
            curl_easy_setopt(e, CURLOPT_POST, 1L);
            curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
        }
    } else if (strcmp(m, "GET") != 0) {
        curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, m);
    }
}

enum owls_err owls_http_perform(struct owls_http *h, const struct owls_http_request *req,
                                struct owls_http_response *resp, struct owls_errmsg *em)
{
    enum owls_err rc = OWLS_EINTERNAL;
    struct thread_handle *th = NULL;
    struct curl_slist *hdrs = NULL;
    char errbuf[CURL_ERROR_SIZE] = {0};
    char where[200];
    struct xfer x;
    CURLcode cc = CURLE_OK;
    CURLMcode mc;
    int running = 1;
    bool added = false;
    long long t0 = owls_time_mono_ms();

    owls_http_response_cleanup(resp);
    url_for_log(req->url, where, sizeof(where));
    memset(&x, 0, sizeof(x));
    x.h = h;
    x.req = req;
    x.resp = resp;
    if (is_cancelled(h, req->cancel)) {
        resp->fail = OWLS_HTTP_CANCELLED;
        rc = owls_errmsg_set(em, OWLS_ETRANSIENT, "%s %s: cancelled", req->method, where);
        goto out;
    }
    th = thread_handle_get(h);
    if (th == NULL) {
        resp->fail = OWLS_HTTP_OTHER;
        rc = owls_errmsg_set(em, OWLS_EINTERNAL, "curl handle creation failed");
        goto out;
    }
    x.easy = th->easy;
    for (size_t i = 0; i < req->nheaders; i++) {
        char *line = owls_xasprintf("%s: %s", req->headers[i].name, req->headers[i].value);
        struct curl_slist *n = curl_slist_append(hdrs, line);
        free(line);
        if (n == NULL)
            fatalx("out of memory (curl_slist_append)");
        hdrs = n;
    }
    /* no 100-continue round trip: S3 and SQS answer errors after the body anyway */
    hdrs = curl_slist_append(hdrs, "Expect:");
    if (hdrs == NULL)
        fatalx("out of memory (curl_slist_append)");
    setup_easy(h, th->easy, &x, hdrs, errbuf);

    if (curl_multi_add_handle(th->multi, th->easy) != CURLM_OK) {
        resp->fail = OWLS_HTTP_OTHER;
        rc = owls_errmsg_set(em, OWLS_EINTERNAL, "curl_multi_add_handle failed");
        goto out;
    }
    added = true;
    while (running) {
        mc = curl_multi_perform(th->multi, &running);
        if (mc != CURLM_OK)
            break;
        if (!running)
            break;
        if (is_cancelled(h, req->cancel)) {
            cc = CURLE_ABORTED_BY_CALLBACK;
            break;
        }
        mc = curl_multi_poll(th->multi, NULL, 0, POLL_SLICE_MS, NULL);
        if (mc != CURLM_OK)
            break;
    }
    if (cc == CURLE_OK) {
        int left;
        CURLMsg *msg;
        cc = CURLE_FAILED_INIT;
        while ((msg = curl_multi_info_read(th->multi, &left)) != NULL)
            if (msg->msg == CURLMSG_DONE && msg->easy_handle == th->easy)
                cc = msg->data.result;
    }
    curl_easy_getinfo(th->easy, CURLINFO_RESPONSE_CODE, &resp->status);
    resp->fail = classify_curl(cc);
    if (x.too_large || x.cb_rc != OWLS_OK)
        resp->fail = OWLS_HTTP_BODY;
    if (cc == CURLE_OK) {
        rc = OWLS_OK;
    } else if (x.too_large) {
        rc = owls_errmsg_set(em, OWLS_EINPUT_TOO_LARGE, "%s %s: body larger than %zu bytes",
                             req->method, where, req->max_body);
    } else if (x.cb_rc != OWLS_OK) {
        rc = owls_errmsg_set(em, x.cb_rc, "%s %s: %s", req->method, where,
                             x.cb_rc == OWLS_EIO ? "reading the upload body failed"
                                                 : "body consumer stopped the transfer");
    } else if (resp->fail == OWLS_HTTP_CANCELLED) {
        resp->status = 0;
        rc = owls_errmsg_set(em, OWLS_ETRANSIENT, "%s %s: cancelled", req->method, where);
    } else {
        resp->status = resp->fail == OWLS_HTTP_OTHER ? resp->status : 0;
        rc = owls_errmsg_set(em, resp->fail == OWLS_HTTP_OTHER ? OWLS_EAWS : OWLS_ETRANSIENT,
                             "%s %s: %s (curl %d)", req->method, where,
                             errbuf[0] ? errbuf : curl_easy_strerror(cc), (int)cc);
    }
out:
    if (added)
        curl_multi_remove_handle(th->multi, th->easy);
    /* the easy handle must not keep pointers to this frame or the header
     * list; a reset keeps its connections */
    if (th != NULL && th->easy != NULL)
        curl_easy_reset(th->easy);
    curl_slist_free_all(hdrs);
    resp->elapsed_ms = owls_time_mono_ms() - t0;
    log_debug("http: %s %s: status %ld, %llu bytes in, %lld ms%s", req->method, where, resp->status,
              (unsigned long long)resp->body_bytes, resp->elapsed_ms,
              rc == OWLS_OK ? "" : " (failed)");
    return rc;
}
