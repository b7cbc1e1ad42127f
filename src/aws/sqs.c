/*
 * sqs.c - SQS over the JSON protocol.
 *
 * DESIGN: each call builds its request body with jansson, POSTs it to the
 * queue's endpoint with X-Amz-Target, signed by owls_endpoint_sign() (the
 * retry loop's per-attempt hook) and retried by owls_retry_send(); errors
 * arrive as JSON {"__type"} or, for auth failures, as XML with a 403, and
 * awserr.c reads both. Answers are untrusted: the parsers below check every
 * type and are fuzzed. A long poll's time limit is WaitTimeSeconds + 10 s,
 * exempt from the stall limit (the server is silent on purpose), and can be
 * abandoned through its cancel flag.
 *
 * Threads: struct owls_sqs is immutable after owls_sqs_new() except its
 * struct owls_retry (thread-safe).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <jansson.h>
#include <openssl/evp.h>

#include "owls/awserr.h"
#include "owls/buf.h"
#include "owls/hash.h"
#include "owls/log.h"
#include "owls/private/sqs.h"
#include "owls/retry.h"
#include "owls/sqs.h"
#include "owls/util.h"

#define CALL_TIMEOUT_MS 30000L
#define POLL_SLACK_MS   10000L

struct owls_sqs {
    char *region;
    bool custom;
    struct owls_endpoint ep; /* configured endpoint (custom only) */
    struct owls_http *http;
    struct owls_creds_provider *creds;
    struct owls_retry *retry;
};

enum owls_err owls_sqs_new(const struct owls_aws_opts *opts, struct owls_http *http,
                           struct owls_creds_provider *creds, struct owls_sqs **out,
                           struct owls_errmsg *em)
{
    enum owls_err rc = OWLS_ECONFIG;
    struct owls_sqs *q = owls_xcalloc(1, sizeof(*q));

    *out = NULL;
    if (opts->region == NULL || *opts->region == '\0') {
        owls_errmsg_set(em, rc, "no AWS region configured");
        goto out;
    }
    q->custom = opts->sqs_endpoint != NULL && *opts->sqs_endpoint != '\0';
    if (q->custom && (rc = owls_endpoint_parse(opts->sqs_endpoint, &q->ep, em)) != OWLS_OK)
        goto out;
    owls_awserr_init();
    q->region = owls_xstrdup(opts->region);
    q->http = http;
    q->creds = creds;
    q->retry = owls_retry_new(opts->max_attempts, opts->retry_hooks);
    *out = q;
    q = NULL;
    rc = OWLS_OK;
out:
    owls_sqs_free(q);
    return rc;
}

void owls_sqs_free(struct owls_sqs *q)
{
    if (q == NULL)
        return;
    owls_retry_free(q->retry);
    free(q->region);
    free(q);
}

void owls_sqs_md5_hex(const void *p, size_t n, char out[33])
{
    unsigned char d[EVP_MAX_MD_SIZE];
    unsigned int dl = 0;
    if (EVP_Digest(p, n, d, &dl, EVP_md5(), NULL) != 1 || dl != 16) {
        out[0] = '\0';
        return;
    }
    owls_hex(d, 16, out);
}

/* POST body (a JSON object, consumed) as AmazonSQS.<op>; the 2xx answer's
 * bytes into *raw / *rawlen (caller frees; raw may be NULL). */
static enum owls_err sqs_call(struct owls_sqs *q, const char *op, const char *queue_url,
                              json_t *body, long timeout_ms, bool long_poll,
                              const atomic_bool *cancel, char **raw, size_t *rawlen,
                              struct owls_errmsg *em)
{
    enum owls_err rc;
    struct owls_endpoint qep;
    const struct owls_endpoint *ep = &q->ep;
    struct owls_http_response resp;
    struct owls_retry_call call;
    struct owls_aws_signer sg;
    char target[64], hash[OWLS_SHA256_HEX];
    char *text = NULL, *url = NULL, *what = NULL, *path = NULL;

    owls_http_response_init(&resp);
    if (raw != NULL) {
        *raw = NULL;
        *rawlen = 0;
    }
    if (!q->custom) {
        rc = owls_endpoint_parse(queue_url, &qep, em);
        if (rc != OWLS_OK) {
            rc = owls_errmsg_set(em, OWLS_ECONFIG, "bad SQS queue URL '%s'", queue_url);
            goto out;
        }
        ep = &qep;
    }
    text = json_dumps(body, JSON_COMPACT);
    if (text == NULL)
        fatalx("sqs: out of memory (json_dumps)");
    /* the queue URL's path is in the body, not in the request line */
    path = owls_xasprintf("%s/", q->custom ? ep->base : "");
    url = owls_xasprintf("%s://%s%s", ep->https ? "https" : "http", ep->authority, path);
    snprintf(target, sizeof(target), "AmazonSQS.%s", op);
    owls_sha256_hex(text, strlen(text), hash);
    {
        const struct owls_http_header hdrs[] = {
            {"Host", ep->authority},
            {"Content-Type", "application/x-amz-json-1.0"},
            {"X-Amz-Target", target},
        };
        memset(&sg, 0, sizeof(sg));
        sg.creds = q->creds;
        sg.service = "sqs";
        sg.region = q->region;
        sg.method = "POST";
        sg.path = path;
        sg.headers = hdrs;
        sg.nheaders = OWLS_ARRAY_LEN(hdrs);
        sg.payload_hash = hash;

        what = owls_xasprintf("SQS %s %s", op, queue_url);
        memset(&call, 0, sizeof(call));
        call.what = what;
        call.http.method = "POST";
        call.http.url = url;
        call.http.headers = hdrs;
        call.http.nheaders = OWLS_ARRAY_LEN(hdrs);
        call.http.body = text;
        call.http.body_len = strlen(text);
        call.http.body_fd = -1;
        call.http.timeout_ms = timeout_ms;
        call.http.no_stall_limit = long_poll;
        call.http.cancel = cancel;
        call.http.max_body = 64 * 1024 * 1024;
        call.prepare = owls_endpoint_sign;
        call.invalidate = owls_endpoint_invalidate;
        call.arg = &sg;
        rc = owls_retry_send(q->retry, q->http, &call, &resp, NULL, NULL, em);
    }
    if (rc == OWLS_OK && raw != NULL) {
        *raw = owls_buf_steal(&resp.body, rawlen);
    }
out:
    json_decref(body);
    free(text);
    free(url);
    free(path);
    free(what);
    owls_http_response_cleanup(&resp);
    return rc;
}

/* Parse an answer's bytes into a JSON object; NULL with em on junk. */
static json_t *parse_answer(const char *what, const char *raw, size_t len, struct owls_errmsg *em)
{
    json_error_t jerr;
    json_t *j = json_loadb(raw ? raw : "", len, 0, &jerr);
    if (j == NULL || !json_is_object(j)) {
        json_decref(j);
        owls_errmsg_set(em, OWLS_EAWS, "SQS %s: malformed answer (line %d column %d: %s)", what,
                        jerr.line, jerr.column, jerr.text);
        return NULL;
    }
    return j;
}

static json_t *new_call(const char *queue_url)
{
    json_t *o = json_object();
    if (o == NULL || json_object_set_new(o, "QueueUrl", json_string(queue_url)) != 0)
        fatalx("sqs: out of memory (json)");
    return o;
}

static void set_new(json_t *o, const char *k, json_t *v)
{
    if (v == NULL || json_object_set_new(o, k, v) != 0)
        fatalx("sqs: out of memory (json)");
}

static const char *jstr(const json_t *o, const char *k)
{
    const json_t *v = json_object_get(o, k);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

static long long jnum_str(const json_t *o, const char *k)
{
    const char *s = jstr(o, k);
    char *end;
    long long v;
    if (s == NULL || *s == '\0')
        return 0;
    v = strtoll(s, &end, 10);
    return *end == '\0' && v > 0 ? v : 0;
}

void owls_sqs_messages_free(struct owls_sqs_message *msgs, size_t n)
{
    if (msgs == NULL)
        return;
    for (size_t i = 0; i < n; i++) {
        free(msgs[i].message_id);
        free(msgs[i].receipt_handle);
        free(msgs[i].body);
    }
    free(msgs);
}

enum owls_err owls_sqs_parse_receive(const char *json, size_t len, struct owls_sqs_message **msgs,
                                     size_t *n, struct owls_errmsg *em)
{
    enum owls_err rc = OWLS_EAWS;
    json_t *root = NULL, *arr;
    json_error_t jerr;
    struct owls_sqs_message *m = NULL;
    size_t cnt = 0, i;

    *msgs = NULL;
    *n = 0;
    root = json_loadb(json, len, JSON_ALLOW_NUL, &jerr);
    if (root == NULL || !json_is_object(root)) {
        owls_errmsg_set(em, rc, "ReceiveMessage: malformed answer");
        goto out;
    }
    arr = json_object_get(root, "Messages");
    if (arr == NULL || json_is_null(arr)) {
        rc = OWLS_OK; /* no messages */
        goto out;
    }
    if (!json_is_array(arr) || json_array_size(arr) > 100) {
        owls_errmsg_set(em, rc, "ReceiveMessage: Messages is not a (short) array");
        goto out;
    }
    m = owls_xcalloc(json_array_size(arr) + 1, sizeof(*m));
    for (i = 0; i < json_array_size(arr); i++) {
        const json_t *jm = json_array_get(arr, i), *attrs, *bv;
        const char *id, *rh, *md5;
        char got[33];
        if (!json_is_object(jm)) {
            owls_errmsg_set(em, rc, "ReceiveMessage: message %zu is not an object", i);
            goto out;
        }
        id = jstr(jm, "MessageId");
        rh = jstr(jm, "ReceiptHandle");
        bv = json_object_get(jm, "Body");
        if (id == NULL || rh == NULL || *rh == '\0' || !json_is_string(bv)) {
            owls_errmsg_set(em, rc,
                            "ReceiveMessage: message %zu lacks MessageId, ReceiptHandle "
                            "or Body",
                            i);
            goto out;
        }
        m[cnt].message_id = owls_xstrdup(id);
        m[cnt].receipt_handle = owls_xstrdup(rh);
        m[cnt].body_len = json_string_length(bv);
        m[cnt].body = owls_xmalloc(m[cnt].body_len + 1);
        memcpy(m[cnt].body, json_string_value(bv), m[cnt].body_len);
        m[cnt].body[m[cnt].body_len] = '\0';
        cnt++;
        md5 = jstr(jm, "MD5OfBody");
        if (md5 != NULL) {
            owls_sqs_md5_hex(m[cnt - 1].body, m[cnt - 1].body_len, got);
            if (strcasecmp(md5, got) != 0) {
                owls_errmsg_set(em, rc, "ReceiveMessage: message %s: MD5OfBody mismatch", id);
                goto out;
            }
        }
        attrs = json_object_get(jm, "Attributes");
        if (json_is_object(attrs)) {
            long long rcnt = jnum_str(attrs, "ApproximateReceiveCount");
            m[cnt - 1].receive_count = rcnt > 0 && rcnt < 1000000000 ? (long)rcnt : 0;
            m[cnt - 1].sent_timestamp_ms = jnum_str(attrs, "SentTimestamp");
            m[cnt - 1].first_receive_ms = jnum_str(attrs, "ApproximateFirstReceiveTimestamp");
        }
    }
    *msgs = m;
    *n = cnt;
    m = NULL;
    rc = OWLS_OK;
out:
    owls_sqs_messages_free(m, cnt);
    json_decref(root);
    return rc;
}

enum owls_err owls_sqs_receive(struct owls_sqs *q, const char *queue_url,
                               const struct owls_sqs_receive_opts *o,
                               struct owls_sqs_message **msgs, size_t *n, struct owls_errmsg *em)
{
    enum owls_err rc;
    json_t *req = new_call(queue_url), *names;
    size_t rawlen = 0;
    int maxm = o && o->max_messages > 0 ? OWLS_MIN(o->max_messages, 10) : 1;
    int wait = o && o->wait_time_s > 0 ? OWLS_MIN(o->wait_time_s, 20) : 0;
    char *text = NULL;

    *msgs = NULL;
    *n = 0;
    set_new(req, "MaxNumberOfMessages", json_integer(maxm));
    set_new(req, "WaitTimeSeconds", json_integer(wait));
    if (o && o->visibility_timeout >= 0)
        set_new(req, "VisibilityTimeout", json_integer(o->visibility_timeout));
    names = json_pack("[sss]", "ApproximateReceiveCount", "SentTimestamp",
                      "ApproximateFirstReceiveTimestamp");
    set_new(req, "MessageSystemAttributeNames", json_deep_copy(names));
    set_new(req, "AttributeNames", names); /* the older name of the same list */
    rc = sqs_call(q, "ReceiveMessage", queue_url, req, wait * 1000L + POLL_SLACK_MS, wait > 0,
                  o ? o->cancel : NULL, &text, &rawlen, em);
    if (rc == OWLS_OK)
        rc = owls_sqs_parse_receive(text, rawlen, msgs, n, em);
    free(text);
    return rc;
}

enum owls_err owls_sqs_delete(struct owls_sqs *q, const char *queue_url, const char *receipt_handle,
                              struct owls_errmsg *em)
{
    json_t *req = new_call(queue_url);
    set_new(req, "ReceiptHandle", json_string(receipt_handle));
    return sqs_call(q, "DeleteMessage", queue_url, req, CALL_TIMEOUT_MS, false, NULL, NULL, NULL,
                    em);
}

enum owls_err owls_sqs_change_visibility(struct owls_sqs *q, const char *queue_url,
                                         const char *receipt_handle, int timeout_s,
                                         struct owls_errmsg *em)
{
    json_t *req = new_call(queue_url);
    set_new(req, "ReceiptHandle", json_string(receipt_handle));
    set_new(req, "VisibilityTimeout", json_integer(timeout_s));
    return sqs_call(q, "ChangeMessageVisibility", queue_url, req, CALL_TIMEOUT_MS, false, NULL,
                    NULL, NULL, em);
}

static long entry_index(const char *id, size_t n)
{
    char *end;
    long v;
    if (id == NULL || *id < '0' || *id > '9')
        return -1;
    v = strtol(id, &end, 10);
    return *end == '\0' && v >= 0 && (size_t)v < n ? v : -1;
}

enum owls_err owls_sqs_parse_batch(const char *json, size_t len, struct owls_sqs_batch_entry *e,
                                   size_t n, size_t *failed, struct owls_errmsg *em)
{
    enum owls_err rc = OWLS_EAWS;
    json_t *root = NULL, *succ, *fail;
    json_error_t jerr;
    bool *seen = owls_xcalloc(n + 1, sizeof(bool));
    size_t nf = 0, i;

    for (i = 0; i < n; i++) {
        e[i].ok = false;
        e[i].sender_fault = false;
        e[i].code[0] = e[i].message[0] = '\0';
    }
    root = json_loadb(json, len, 0, &jerr);
    if (root == NULL || !json_is_object(root)) {
        owls_errmsg_set(em, rc, "batch: malformed answer");
        goto out;
    }
    succ = json_object_get(root, "Successful");
    fail = json_object_get(root, "Failed");
    if ((succ != NULL && !json_is_array(succ)) || (fail != NULL && !json_is_array(fail))) {
        owls_errmsg_set(em, rc, "batch: Successful/Failed are not arrays");
        goto out;
    }
    for (i = 0; succ && i < json_array_size(succ); i++) {
        long k = entry_index(jstr(json_array_get(succ, i), "Id"), n);
        if (k >= 0 && !seen[k]) {
            seen[k] = true;
            e[k].ok = true;
        }
    }
    for (i = 0; fail && i < json_array_size(fail); i++) {
        const json_t *f = json_array_get(fail, i);
        long k = entry_index(jstr(f, "Id"), n);
        const char *c = jstr(f, "Code"), *m = jstr(f, "Message");
        if (k < 0 || seen[k])
            continue;
        seen[k] = true;
        e[k].sender_fault = json_is_true(json_object_get(f, "SenderFault"));
        snprintf(e[k].code, sizeof(e[k].code), "%s", c ? c : "Unknown");
        snprintf(e[k].message, sizeof(e[k].message), "%s", m ? m : "");
    }
    for (i = 0; i < n; i++) {
        if (!seen[i])
            snprintf(e[i].code, sizeof(e[i].code), "%s", "MissingFromAnswer");
        if (!e[i].ok)
            nf++;
    }
    rc = OWLS_OK;
out:
    if (failed != NULL)
        *failed = rc == OWLS_OK ? nf : n;
    free(seen);
    json_decref(root);
    return rc;
}

static enum owls_err batch_call(struct owls_sqs *q, const char *op, const char *queue_url,
                                struct owls_sqs_batch_entry *e, size_t n, bool vis, size_t *failed,
                                struct owls_errmsg *em)
{
    enum owls_err rc;
    json_t *req, *entries;
    char *text = NULL;
    size_t rawlen = 0;

    if (failed != NULL)
        *failed = n;
    if (n == 0 || n > OWLS_SQS_BATCH_MAX)
        return owls_errmsg_set(em, OWLS_EINTERNAL, "SQS %s: %zu entries (1..10 allowed)", op, n);
    req = new_call(queue_url);
    entries = json_array();
    for (size_t i = 0; i < n; i++) {
        char id[8];
        json_t *en = json_object();
        snprintf(id, sizeof(id), "%zu", i);
        set_new(en, "Id", json_string(id));
        set_new(en, "ReceiptHandle", json_string(e[i].receipt_handle));
        if (vis)
            set_new(en, "VisibilityTimeout", json_integer(e[i].visibility_timeout));
        if (json_array_append_new(entries, en) != 0)
            fatalx("sqs: out of memory (json)");
    }
    set_new(req, "Entries", entries);
    rc = sqs_call(q, op, queue_url, req, CALL_TIMEOUT_MS, false, NULL, &text, &rawlen, em);
    if (rc == OWLS_OK)
        rc = owls_sqs_parse_batch(text, rawlen, e, n, failed, em);
    free(text);
    return rc;
}

enum owls_err owls_sqs_delete_batch(struct owls_sqs *q, const char *queue_url,
                                    struct owls_sqs_batch_entry *e, size_t n, size_t *failed,
                                    struct owls_errmsg *em)
{
    return batch_call(q, "DeleteMessageBatch", queue_url, e, n, false, failed, em);
}

enum owls_err owls_sqs_change_visibility_batch(struct owls_sqs *q, const char *queue_url,
                                               struct owls_sqs_batch_entry *e, size_t n,
                                               size_t *failed, struct owls_errmsg *em)
{
    return batch_call(q, "ChangeMessageVisibilityBatch", queue_url, e, n, true, failed, em);
}

enum owls_err owls_sqs_send(struct owls_sqs *q, const char *queue_url, const char *body, size_t len,
                            char message_id[OWLS_SQS_ID_MAX], struct owls_errmsg *em)
{
    enum owls_err rc;
    json_t *req, *ans = NULL, *jb = json_stringn(body, len);
    const char *id, *md5;
    char want[33], *raw = NULL;
    size_t rawlen = 0;

    if (message_id != NULL)
        message_id[0] = '\0';
    if (jb == NULL)
        return owls_errmsg_set(em, OWLS_EINTERNAL, "SQS SendMessage: body is not valid UTF-8");
    req = new_call(queue_url);
    set_new(req, "MessageBody", jb);
    rc =
        sqs_call(q, "SendMessage", queue_url, req, CALL_TIMEOUT_MS, false, NULL, &raw, &rawlen, em);
    if (rc != OWLS_OK)
        goto out;
    if ((ans = parse_answer("SendMessage", raw, rawlen, em)) == NULL) {
        rc = OWLS_EAWS;
        goto out;
    }
    id = jstr(ans, "MessageId");
    md5 = jstr(ans, "MD5OfMessageBody");
    owls_sqs_md5_hex(body, len, want);
    if (id == NULL || strlen(id) >= OWLS_SQS_ID_MAX) {
        rc = owls_errmsg_set(em, OWLS_EAWS, "SQS SendMessage %s: no MessageId in the answer",
                             queue_url);
        goto out;
    }
    if (md5 != NULL && strcasecmp(md5, want) != 0) {
        rc = owls_errmsg_set(em, OWLS_ETRANSIENT, "SQS SendMessage %s: MD5OfMessageBody mismatch",
                             queue_url);
        goto out;
    }
    if (message_id != NULL)
        snprintf(message_id, OWLS_SQS_ID_MAX, "%s", id);
out:
    free(raw);
    json_decref(ans);
    return rc;
}

void owls_sqs_attrs_free(struct owls_sqs_attr *attrs, size_t n)
{
    if (attrs == NULL)
        return;
    for (size_t i = 0; i < n; i++) {
        free(attrs[i].name);
        free(attrs[i].value);
    }
    free(attrs);
}

enum owls_err owls_sqs_get_attributes(struct owls_sqs *q, const char *queue_url,
                                      const char *const *names, size_t nnames,
                                      struct owls_sqs_attr **attrs, size_t *n,
                                      struct owls_errmsg *em)
{
    enum owls_err rc;
    json_t *req = new_call(queue_url), *arr = json_array(), *ans = NULL, *a;
    const char *k;
    json_t *v;
    size_t i = 0, rawlen = 0;
    char *raw = NULL;

    *attrs = NULL;
    *n = 0;
    for (size_t j = 0; j < nnames; j++)
        if (json_array_append_new(arr, json_string(names[j])) != 0)
            fatalx("sqs: out of memory (json)");
    set_new(req, "AttributeNames", arr);
    rc = sqs_call(q, "GetQueueAttributes", queue_url, req, CALL_TIMEOUT_MS, false, NULL, &raw,
                  &rawlen, em);
    if (rc != OWLS_OK)
        goto out;
    if ((ans = parse_answer("GetQueueAttributes", raw, rawlen, em)) == NULL) {
        rc = OWLS_EAWS;
        goto out;
    }
    a = json_object_get(ans, "Attributes");
    if (a == NULL) /* no such attributes */
        goto out;
    if (!json_is_object(a)) {
        rc = owls_errmsg_set(em, OWLS_EAWS, "SQS GetQueueAttributes: Attributes not an object");
        goto out;
    }
    *attrs = owls_xcalloc(json_object_size(a) + 1, sizeof(**attrs));
    json_object_foreach(a, k, v)
    {
        if (!json_is_string(v))
            continue;
        (*attrs)[i].name = owls_xstrdup(k);
        (*attrs)[i].value = owls_xstrdup(json_string_value(v));
        i++;
    }
    *n = i;
out:
    free(raw);
    json_decref(ans);
    return rc;
}
