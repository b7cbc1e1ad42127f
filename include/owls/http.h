/*
 * http.h - the HTTP transport of the AWS layer, over libcurl.
 *
 * One struct owls_http is shared by every thread of the process; each
 * thread that calls owls_http_perform() gets its own curl handles (created
 * on first use, kept for connection reuse, released when the thread exits
 * or by owls_http_free()). TLS peer and host verification are always on;
 * the proxy environment (https_proxy, no_proxy, ...) is honoured as libcurl
 * does. Requests can be abandoned: per request through a cancel flag, or
 * all at once with owls_http_cancel(); either way within ~100 ms.
 *
 * Nothing here logs header values, query strings or bodies (they carry
 * signatures, tokens and presigned URLs).
 */
#ifndef OWLS_HTTP_H
#define OWLS_HTTP_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "owls/buf.h"
#include "owls/endpoint.h"
#include "owls/err.h"

struct owls_http;

/* Create the transport from opts (CA bundle, connect timeout, stall limits;
 * the rest of opts is ignored). Caller frees with owls_http_free().
 * OWLS_ECONFIG with em if the CA bundle cannot be read. Initialises libcurl
 * and libxml2 globally: call it before starting threads. */
enum owls_err owls_http_new(const struct owls_aws_opts *opts, struct owls_http **out,
                            struct owls_errmsg *em);
/* Free h and every thread's handles. Only once no thread uses h any more. */
void owls_http_free(struct owls_http *h);

/* Abandon every transfer in flight and every later one (shutdown after the
 * grace period). Thread-safe, returns at once; not async-signal-safe. */
void owls_http_cancel(struct owls_http *h);
bool owls_http_cancelled(struct owls_http *h);

/* Sleep ms milliseconds unless h or *cancel (may be NULL) is cancelled
 * first; false if it was. Thread-safe. */
bool owls_http_sleep(struct owls_http *h, long ms, const atomic_bool *cancel);

/* Release the calling thread's handles now (they are also released at
 * thread exit). */
void owls_http_thread_release(struct owls_http *h);

/* Receives a 2xx response body as it arrives; anything but OWLS_OK aborts
 * the transfer and owls_http_perform() returns that code. */
typedef enum owls_err (*owls_http_body_fn)(void *arg, const void *p, size_t n);

struct owls_http_header {
    const char *name;
    const char *value;
};

/* A request; all pointers borrowed for the call. */
struct owls_http_request {
    const char *method; /* GET HEAD PUT POST DELETE */
    const char *url;
    const struct owls_http_header *headers; /* sent as given (Host included) */
    size_t nheaders;
    /* body: body_len bytes from memory (body) or, when body_fd >= 0, read
     * with pread() from body_fd at body_off (the fd is not moved). */
    const void *body;
    size_t body_len;
    int body_fd; /* -1 = none; set it, 0 is a valid fd */
    uint64_t body_off;
    long timeout_ms;           /* whole-request limit (long polls); 0 = none */
    bool no_stall_limit;       /* long polls: the server is silent on purpose; rely
                                  on timeout_ms instead of the stall limit */
    owls_http_body_fn on_body; /* 2xx bodies go here instead of resp->body */
    void *on_body_arg;
    size_t max_body;           /* resp->body limit; 0 = none. More (or a larger
                                  Content-Length) -> OWLS_EINPUT_TOO_LARGE */
    const atomic_bool *cancel; /* abandon the request when it becomes true */
};

/* How a request ended below HTTP. */
enum owls_http_fail {
    OWLS_HTTP_OK = 0,  /* an HTTP answer arrived (any status) */
    OWLS_HTTP_CONNECT, /* refused, reset, DNS, TLS handshake, no answer */
    OWLS_HTTP_TIMEOUT, /* connect/total timeout or the stall limit */
    OWLS_HTTP_CANCELLED,
    OWLS_HTTP_BODY,  /* on_body refused, or max_body exceeded */
    OWLS_HTTP_OTHER, /* anything else (bad URL, certificate problem, ...) */
};

struct owls_http_response {
    long status;          /* 0 when no answer */
    struct owls_buf body; /* buffered body (error bodies always, capped at 64 KiB) */
    uint64_t body_bytes;  /* body bytes received (also when streamed) */
    enum owls_http_fail fail;
    char **hdr_names; /* lowercased */
    char **hdr_values;
    size_t nhdrs;
    long long elapsed_ms;
};

void owls_http_response_init(struct owls_http_response *r);
void owls_http_response_cleanup(struct owls_http_response *r);
/* Value of the last header called name (any case) or NULL; borrowed. */
const char *owls_http_response_header(const struct owls_http_response *r, const char *name);

/*
 * Perform req on the calling thread's handle. OWLS_OK when an HTTP answer
 * arrived, whatever its status (see resp->status); otherwise resp->fail says
 * what happened and em has libcurl's error text: OWLS_ETRANSIENT (connect,
 * timeout, cancelled), the on_body callback's code, OWLS_EINPUT_TOO_LARGE,
 * or OWLS_EAWS/OWLS_ECONFIG. resp must be initialised; it is reset first.
 * Thread-safe (distinct threads use distinct handles).
 */
enum owls_err owls_http_perform(struct owls_http *h, const struct owls_http_request *req,
                                struct owls_http_response *resp, struct owls_errmsg *em);

#endif
