/*
 * aws_faultsrv.h - a loopback HTTP/1.1 server for the AWS layer's tests,
 * run on a thread of the test itself (header-only; include once per test).
 *
 * It listens on 127.0.0.1 on a free port chosen by the kernel and answers
 * request n with script[n] (the last entry repeats): a status, headers and
 * a body, after a delay, or a connection reset, or a body that stalls
 * half-way. Every request is recorded (method, target, headers, body size
 * and SHA-256, arrival time); fs_wait_requests() blocks on a condition
 * variable until n requests have arrived, so tests synchronise on real
 * events. Connections are kept alive unless an entry says close.
 */
#ifndef AWS_FAULTSRV_H
#define AWS_FAULTSRV_H

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "owls/hash.h"
#include "owls/timefmt.h"

#define FS_UNUSED __attribute__((unused))

struct fs_action {
    int status;          /* HTTP status */
    const char *headers; /* extra header lines, each ending in \r\n */
    const char *body;    /* NULL = empty */
    size_t body_len;     /* 0 = strlen(body) */
    long delay_ms;       /* wait this long before answering (or resetting) */
    bool reset;          /* answer with a TCP reset instead */
    long stall_after;    /* > 0: send that many body bytes, then nothing */
    bool close;          /* close the connection after answering */
};

#define FS_MAX_REQ 128

struct fs_request {
    char method[16];
    char target[2048];
    char headers[8192]; /* raw header block */
    size_t body_len;
    char body_sha[OWLS_SHA256_HEX];
    char body_head[512]; /* first bytes of the body, NUL-terminated */
    long long t_ms;      /* arrival, CLOCK_MONOTONIC */
};

struct faultsrv {
    int lfd;
    int port;
    int wake[2];
    pthread_t thr;
    atomic_bool stop;
    const struct fs_action *script;
    size_t nscript;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    size_t nreq;
    int nconn;
    struct fs_request req[FS_MAX_REQ];
};

/* Wait up to ms for fd to be readable or the server to stop; 1 readable,
 * 0 timeout, -1 stop. */
static FS_UNUSED int fs_wait_fd(struct faultsrv *s, int fd, long ms)
{
    struct pollfd p[2] = {{fd, POLLIN, 0}, {s->wake[0], POLLIN, 0}};
    int n = poll(p, 2, (int)ms);
    if (n > 0 && (p[1].revents & POLLIN))
        return -1;
    if (n > 0)
        return 1;
    return 0;
}

static FS_UNUSED bool fs_write_all(int fd, const void *p, size_t n)
{
    const char *c = p;
    while (n > 0) {
        ssize_t w = send(fd, c, n, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return false;
        c += w;
        n -= (size_t)w;
    }
    return true;
}

/* Delay while watching for the client going away; false if it did or stop. */
static FS_UNUSED bool fs_delay(struct faultsrv *s, int fd, long ms)
{
    long long end = owls_time_mono_ms() + ms;
    while (owls_time_mono_ms() < end) {
        char c;
        int r = fs_wait_fd(s, fd, (long)(end - owls_time_mono_ms()));
        if (r < 0)
            return false;
        if (r > 0 && recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT) <= 0)
            return false;
        if (r > 0) /* pipelined data: not expected, stop watching */
            break;
    }
    return true;
}

/* Serve one connection until it closes; one request at a time. */
static FS_UNUSED void fs_serve_conn(struct faultsrv *s, int fd)
{
    char *buf = calloc(1, (1 << 16) + 1); /* +1: always NUL-terminated for sscanf */
    size_t have = 0;

    for (;;) {
        char *eoh = NULL;
        size_t hlen, clen = 0, need;
        const char *cl;
        struct fs_request *rq;
        const struct fs_action *a;
        size_t idx;
        struct owls_sha256 *sha;
        char hdr[1024];
        size_t blen;

        while ((eoh = memmem(buf, have, "\r\n\r\n", 4)) == NULL) {
            ssize_t n;
            if (have == (1 << 16) || fs_wait_fd(s, fd, 30000) <= 0)
                goto done;
            n = recv(fd, buf + have, (1 << 16) - have, 0);
            if (n <= 0)
                goto done;
            have += (size_t)n;
            buf[have] = '\0';
        }
        hlen = (size_t)(eoh - buf) + 4;
        pthread_mutex_lock(&s->mu);
        idx = s->nreq < FS_MAX_REQ ? s->nreq : FS_MAX_REQ - 1;
        pthread_mutex_unlock(&s->mu);
        rq = &s->req[idx];
        memset(rq, 0, sizeof(*rq));
        sscanf(buf, "%15s %2047s", rq->method, rq->target);
        memcpy(rq->headers, buf, hlen < sizeof(rq->headers) - 1 ? hlen : sizeof(rq->headers) - 1);
        cl = strcasestr(rq->headers, "\ncontent-length:");
        if (cl != NULL)
            clen = strtoul(cl + 16, NULL, 10);
        /* body: count and hash it as it streams in */
        sha = owls_sha256_new();
        memmove(buf, buf + hlen, have - hlen);
        have -= hlen;
        buf[have] = '\0';
        need = clen;
        while (need > 0) {
            size_t take;
            if (have == 0) {
                ssize_t n;
                if (fs_wait_fd(s, fd, 30000) <= 0) {
                    owls_sha256_free(sha);
                    goto done;
                }
                n = recv(fd, buf, 1 << 16, 0);
                if (n <= 0) {
                    owls_sha256_free(sha);
                    goto done;
                }
                have = (size_t)n;
                buf[have] = '\0';
            }
            take = have < need ? have : need;
            owls_sha256_update(sha, buf, take);
            if (rq->body_len < sizeof(rq->body_head) - 1) {
                size_t room = sizeof(rq->body_head) - 1 - rq->body_len;
                memcpy(rq->body_head + rq->body_len, buf, take < room ? take : room);
            }
            rq->body_len += take;
            memmove(buf, buf + take, have - take);
            have -= take;
            buf[have] = '\0';
            need -= take;
        }
        {
            unsigned char d[OWLS_SHA256_LEN];
            owls_sha256_final(sha, d);
            owls_hex(d, sizeof(d), rq->body_sha);
            owls_sha256_free(sha);
        }
        rq->t_ms = owls_time_mono_ms();
        pthread_mutex_lock(&s->mu);
        s->nreq++;
        pthread_cond_broadcast(&s->cv);
        pthread_mutex_unlock(&s->mu);

        a = &s->script[idx < s->nscript ? idx : s->nscript - 1];
        if (a->delay_ms > 0 && !fs_delay(s, fd, a->delay_ms))
            goto done;
        if (a->reset) {
            struct linger lg = {1, 0};
            setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
            goto done;
        }
        blen = a->body ? (a->body_len ? a->body_len : strlen(a->body)) : 0;
        snprintf(hdr, sizeof(hdr), "HTTP/1.1 %d Fault\r\nContent-Length: %zu\r\n%s%s\r\n",
                 a->status, strcmp(rq->method, "HEAD") == 0 && a->body == NULL ? (size_t)0 : blen,
                 a->headers ? a->headers : "", a->close ? "Connection: close\r\n" : "");
        if (!fs_write_all(fd, hdr, strlen(hdr)))
            goto done;
        if (strcmp(rq->method, "HEAD") != 0 && blen > 0) {
            size_t send_n = a->stall_after > 0 ? (size_t)a->stall_after : blen;
            if (!fs_write_all(fd, a->body, send_n))
                goto done;
            if (a->stall_after > 0) { /* hold the connection until the client gives up */
                while (fs_wait_fd(s, fd, 60000) > 0) {
                    char c[512];
                    if (recv(fd, c, sizeof(c), 0) <= 0)
                        break;
                }
                goto done;
            }
        }
        if (a->close)
            goto done;
    }
done:
    free(buf);
    close(fd);
}

static void *fs_main(void *arg)
{
    struct faultsrv *s = arg;
    while (!atomic_load(&s->stop)) {
        int fd;
        if (fs_wait_fd(s, s->lfd, 1000) <= 0)
            continue;
        fd = accept(s->lfd, NULL, NULL);
        if (fd < 0)
            continue;
        pthread_mutex_lock(&s->mu);
        s->nconn++;
        pthread_mutex_unlock(&s->mu);
        fs_serve_conn(s, fd);
    }
    return NULL;
}

/* Start s serving script (nscript >= 1 entries, borrowed). */
static FS_UNUSED void fs_start(struct faultsrv *s, const struct fs_action *script, size_t nscript)
{
    struct sockaddr_in a;
    socklen_t alen = sizeof(a);
    int one = 1;

    memset(s, 0, sizeof(*s));
    s->script = script;
    s->nscript = nscript;
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cv, NULL);
    if (pipe(s->wake) != 0)
        abort();
    s->lfd = socket(AF_INET, SOCK_STREAM, 0);
    setsockopt(s->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = 0;
    if (bind(s->lfd, (struct sockaddr *)&a, sizeof(a)) != 0 || listen(s->lfd, 16) != 0)
        abort();
    getsockname(s->lfd, (struct sockaddr *)&a, &alen);
    s->port = ntohs(a.sin_port);
    pthread_create(&s->thr, NULL, fs_main, s);
}

static FS_UNUSED void fs_stop(struct faultsrv *s)
{
    atomic_store(&s->stop, true);
    if (write(s->wake[1], "x", 1) != 1)
        abort();
    pthread_join(s->thr, NULL);
    close(s->lfd);
    close(s->wake[0]);
    close(s->wake[1]);
    pthread_cond_destroy(&s->cv);
    pthread_mutex_destroy(&s->mu);
}

/* Block until at least n requests arrived (or ms passed); the count seen. */
static FS_UNUSED size_t fs_wait_requests(struct faultsrv *s, size_t n, long ms)
{
    long long end = owls_time_mono_ms() + ms;
    size_t got;
    pthread_mutex_lock(&s->mu);
    while (s->nreq < n && owls_time_mono_ms() < end) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 20 * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&s->cv, &s->mu, &ts);
    }
    got = s->nreq;
    pthread_mutex_unlock(&s->mu);
    return got;
}

static FS_UNUSED size_t fs_nreq(struct faultsrv *s)
{
    size_t n;
    pthread_mutex_lock(&s->mu);
    n = s->nreq;
    pthread_mutex_unlock(&s->mu);
    return n;
}

static FS_UNUSED char *fs_url(struct faultsrv *s, const char *path)
{
    char *u = NULL;
    if (asprintf(&u, "http://127.0.0.1:%d%s", s->port, path) < 0)
        abort();
    return u;
}

/* Value of header name in recorded request i (static buffer), or NULL. */
static FS_UNUSED const char *fs_req_header(struct faultsrv *s, size_t i, const char *name)
{
    static char val[1024];
    char pat[128];
    const char *p, *e;
    snprintf(pat, sizeof(pat), "\n%s:", name);
    p = strcasestr(s->req[i].headers, pat);
    if (p == NULL)
        return NULL;
    p += strlen(pat);
    while (*p == ' ')
        p++;
    e = strstr(p, "\r\n");
    snprintf(val, sizeof(val), "%.*s", (int)(e ? e - p : (long)strlen(p)), p);
    return val;
}

#endif
