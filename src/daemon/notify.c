/*
 * DESIGN: jansson builds every document, so escaping and UTF-8 are its
 * business; we only decide what goes in. A quoted message body is cut at a
 * character boundary; bodies that are not valid UTF-8 (SQS forbids them,
 * but a JSON body may still hold lone surrogates escaped) are quoted with
 * invalid bytes replaced, never dropped silently: "bytes" and "sha256"
 * always describe the whole original body.
 */
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "owls/buf.h"
#include "owls/hash.h"
#include "owls/jobmsg.h"
#include "owls/notify.h"
#include "owls/timefmt.h"
#include "owls/util.h"

size_t owls_notify_cut_utf8(const char *body, size_t body_len, size_t max)
{
    size_t n = body_len < max ? body_len : max;
    if (n < body_len)
        while (n > 0 && ((unsigned char)body[n] & 0xC0) == 0x80)
            n--;
    return n;
}

/* body[0..n) as a JSON string; invalid UTF-8 bytes become U+FFFD. */
static json_t *text_value(const char *body, size_t n)
{
    struct owls_buf b;
    json_t *s;

    if (owls_utf8_valid(body, n))
        return json_stringn(body, n);
    owls_buf_init(&b);
    for (size_t i = 0; i < n;) {
        size_t k = 1;
        while (k <= 4 && i + k <= n && !owls_utf8_valid(body + i, k))
            k++;
        if (k <= 4 && i + k <= n) {
            owls_buf_append(&b, body + i, k);
            i += k;
        } else {
            owls_buf_puts(&b, "\xEF\xBF\xBD");
            i++;
        }
    }
    s = json_stringn(b.data ? b.data : "", b.len);
    owls_buf_cleanup(&b);
    return s;
}

static json_t *str_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}

static json_t *work_message(const char *body, size_t body_len, size_t max)
{
    char hex[OWLS_SHA256_HEX];
    size_t n = owls_notify_cut_utf8(body, body_len, max);

    owls_sha256_hex(body, body_len, hex);
    return json_pack("{s:o, s:I, s:s, s:b}", "body", text_value(body, n), "bytes",
                     (json_int_t)body_len, "sha256", hex, "truncated", n < body_len);
}

static char *dump(json_t *doc, size_t *len)
{
    char *s = json_dumps(doc, JSON_COMPACT | JSON_REAL_PRECISION(17));
    json_decref(doc);
    if (s == NULL) {
        /* Only allocation can fail here. */
        s = owls_xstrdup("{}");
    }
    *len = strlen(s);
    return s;
}

static char *done_json(const struct owls_done_note *n, size_t quote_max, size_t *len)
{
    json_t *doc = json_object();

    json_object_set_new(doc, "schema", json_string("owls-q4.done/1"));
    json_object_set_new(doc, "status", json_string(n->succeeded ? "succeeded" : "failed"));
    if (n->duplicate)
        json_object_set_new(doc, "duplicate", json_true());
    json_object_set_new(doc, "run_id", str_or_null(n->run_id));
    json_object_set_new(doc, "input",
                        n->input_key ? json_pack("{s:o, s:s}", "bucket",
                                                 str_or_null(n->input_bucket), "key", n->input_key)
                                     : json_null());
    if (n->succeeded && n->run_id) {
        char *prefix = owls_xasprintf("run=%s/", n->run_id);
        char *manifest = owls_xasprintf("run=%s/MANIFEST.json", n->run_id);
        json_object_set_new(doc, "artifacts",
                            json_pack("{s:s, s:s, s:s}", "bucket", n->artifacts_bucket, "prefix",
                                      prefix, "manifest", manifest));
        free(prefix);
        free(manifest);
    }
    if (n->succeeded && n->have_rows) {
        json_object_set_new(doc, "rows",
                            json_pack("{s:I, s:I}", "keep", (json_int_t)n->rows_keep, "discard",
                                      (json_int_t)n->rows_discard));
        json_object_set_new(doc, "keep_energy_fraction", json_real(n->keep_fraction));
    }
    if (!n->succeeded) {
        json_object_set_new(doc, "error",
                            json_pack("{s:s, s:s}", "code", n->error_code ? n->error_code : "",
                                      "message", n->error_message ? n->error_message : ""));
        if (n->error_record_key)
            json_object_set_new(doc, "error_record", json_string(n->error_record_key));
        if (n->body)
            json_object_set_new(doc, "work_message", work_message(n->body, n->body_len, quote_max));
    }
    json_object_set_new(doc, "work_message_id", str_or_null(n->work_message_id));
    json_object_set_new(doc, "duration_ms", json_integer(n->duration_ms));
    return dump(doc, len);
}

char *owls_notify_done_json(const struct owls_done_note *n, size_t *len)
{
    size_t quote = OWLS_WORK_MESSAGE_MAX;
    char *s = done_json(n, quote, len);

    /* Escaping can grow a quoted body up to six-fold (\u00XX): halve the
     * quote until the notification fits in one SQS message. */
    while (*len > OWLS_SQS_MESSAGE_MAX - 1024 && quote > 0) {
        free(s);
        quote /= 2;
        s = done_json(n, quote, len);
    }
    return s;
}

char *owls_notify_error_record_json(const char *code, const char *message, const char *run_id,
                                    const char *work_message_id, const char *body, size_t body_len,
                                    size_t *len)
{
    char now[OWLS_RFC3339_LEN];
    size_t n = owls_notify_cut_utf8(body ? body : "", body ? body_len : 0, OWLS_WORK_MESSAGE_MAX);

    owls_time_now_rfc3339(now);
    return dump(json_pack("{s:s, s:s, s:s, s:o, s:o, s:o, s:s}", "schema", "owls-q4.error/1",
                          "code", code, "message", message, "run_id", str_or_null(run_id),
                          "work_message_id", str_or_null(work_message_id), "job",
                          text_value(body ? body : "", n), "failed_at", now),
                len);
}
