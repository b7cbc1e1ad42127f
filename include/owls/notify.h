/*
 * notify.h - the JSON documents the daemon writes about a job: the done
 * notification (SPEC section 5) and the error record (SPEC section 6).
 * Pure builders: no I/O, thread-safe. Results are compact JSON, malloc'd,
 * caller frees.
 */
#ifndef OWLS_NOTIFY_H
#define OWLS_NOTIFY_H

#include <stdbool.h>
#include <stddef.h>

#define OWLS_WORK_MESSAGE_MAX 65536  /* bytes of a body quoted back */
#define OWLS_SQS_MESSAGE_MAX  262144 /* SendMessage's limit */

struct owls_done_note {
    bool succeeded;
    bool duplicate;
    const char *run_id;       /* NULL: null */
    const char *input_bucket; /* input: null when input_key is NULL */
    const char *input_key;
    const char *artifacts_bucket; /* succeeded: the artifacts block */
    bool have_rows;               /* succeeded: rows and keep_energy_fraction known */
    size_t rows_keep, rows_discard;
    double keep_fraction;
    const char *work_message_id;
    long long duration_ms;
    /* failed: */
    const char *error_code;
    const char *error_message;
    const char *error_record_key; /* where the error record went, or NULL */
    const char *body;             /* bad_message: the raw work message body */
    size_t body_len;
};

/* The done notification; *len its length. Fits SendMessage's 256 KiB: a
 * quoted body is cut further (truncated: true) if escaping would overflow. */
char *owls_notify_done_json(const struct owls_done_note *n, size_t *len);

/* The error record: schema owls-q4.error/1, code, message, run_id (NULL:
 * null), work_message_id, job (the body, cut to 64 KiB at a UTF-8
 * boundary), failed_at (RFC 3339 UTC, now). */
char *owls_notify_error_record_json(const char *code, const char *message, const char *run_id,
                                    const char *work_message_id, const char *body, size_t body_len,
                                    size_t *len);

/* How many of body's first max bytes to quote: max, cut back to the start
 * of a UTF-8 character; body_len if that is smaller. */
size_t owls_notify_cut_utf8(const char *body, size_t body_len, size_t max);

#endif
