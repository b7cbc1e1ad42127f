/*
 * sqs.h - the SQS calls of owls-q4d over the JSON protocol (POST /,
 * X-Amz-Target: AmazonSQS.<Op>, Content-Type: application/x-amz-json-1.0):
 * ReceiveMessage (long polling), DeleteMessage(Batch),
 * ChangeMessageVisibility(Batch), SendMessage, GetQueueAttributes.
 *
 * One struct owls_sqs serves every thread (thread-safe), like struct
 * owls_s3. Requests go to the configured SQS endpoint, or else to the queue
 * URL's scheme://host; they are signed for service "sqs" in the configured
 * region and retried in AWS standard mode. Errors: OWLS_ENOTFOUND
 * (QueueDoesNotExist), OWLS_EAUTH (403, including the XML auth errors SQS
 * sends on JSON calls), OWLS_ETRANSIENT, OWLS_EAWS; em carries AWS's code
 * and message. Message bodies and receipt handles are never logged.
 */
#ifndef OWLS_SQS_H
#define OWLS_SQS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#include "owls/endpoint.h"
#include "owls/err.h"
#include "owls/http.h"

struct owls_sqs;
struct owls_creds_provider;

/* opts is copied; http and creds are borrowed and must outlive the client.
 * Caller frees with owls_sqs_free(). */
enum owls_err owls_sqs_new(const struct owls_aws_opts *opts, struct owls_http *http,
                           struct owls_creds_provider *creds, struct owls_sqs **out,
                           struct owls_errmsg *em);
void owls_sqs_free(struct owls_sqs *q);

/* A received message; every string owned (owls_sqs_messages_free()). */
struct owls_sqs_message {
    char *message_id;
    char *receipt_handle;
    char *body; /* NUL-terminated; body_len bytes (may hold NULs) */
    size_t body_len;
    long receive_count;          /* ApproximateReceiveCount; 0 = not sent */
    long long sent_timestamp_ms; /* SentTimestamp (epoch ms); 0 = not sent */
    long long first_receive_ms;  /* ApproximateFirstReceiveTimestamp; 0 = not sent */
};

struct owls_sqs_receive_opts {
    int max_messages;          /* 1..10; 0 = 1 */
    int wait_time_s;           /* 0..20 (long polling); the request's time limit is this + 10 s */
    int visibility_timeout;    /* seconds; < 0 = the queue's default */
    const atomic_bool *cancel; /* abandon the poll when it becomes true (shutdown) */
};

/* ReceiveMessage. *msgs (caller frees with owls_sqs_messages_free()) gets
 * *n messages, possibly none. The MD5OfBody of every message is checked. */
enum owls_err owls_sqs_receive(struct owls_sqs *q, const char *queue_url,
                               const struct owls_sqs_receive_opts *o,
                               struct owls_sqs_message **msgs, size_t *n, struct owls_errmsg *em);
void owls_sqs_messages_free(struct owls_sqs_message *msgs, size_t n);

enum owls_err owls_sqs_delete(struct owls_sqs *q, const char *queue_url, const char *receipt_handle,
                              struct owls_errmsg *em);
enum owls_err owls_sqs_change_visibility(struct owls_sqs *q, const char *queue_url,
                                         const char *receipt_handle, int timeout_s,
                                         struct owls_errmsg *em);

/* One entry of a batch call: inputs, then the per-entry outcome. */
struct owls_sqs_batch_entry {
    const char *receipt_handle; /* borrowed */
    int visibility_timeout;     /* ChangeMessageVisibilityBatch only */
    bool ok;
    bool sender_fault;
    char code[64]; /* e.g. "ReceiptHandleIsInvalid" */
    char message[256];
};

#define OWLS_SQS_BATCH_MAX 10

/* DeleteMessageBatch / ChangeMessageVisibilityBatch of n (1..10) entries.
 * OWLS_OK when the call itself succeeded; each entry's ok/code/message then
 * say how it went and *failed (may be NULL) counts the failed ones. */
enum owls_err owls_sqs_delete_batch(struct owls_sqs *q, const char *queue_url,
                                    struct owls_sqs_batch_entry *e, size_t n, size_t *failed,
                                    struct owls_errmsg *em);
enum owls_err owls_sqs_change_visibility_batch(struct owls_sqs *q, const char *queue_url,
                                               struct owls_sqs_batch_entry *e, size_t n,
                                               size_t *failed, struct owls_errmsg *em);

/* SendMessage of body[0..len) (valid UTF-8, SQS's character set); the
 * MessageId into message_id (may be NULL). The answer's MD5OfMessageBody is
 * checked. */
#define OWLS_SQS_ID_MAX 128
enum owls_err owls_sqs_send(struct owls_sqs *q, const char *queue_url, const char *body, size_t len,
                            char message_id[OWLS_SQS_ID_MAX], struct owls_errmsg *em);

/* GetQueueAttributes of names[0..nnames) ("All" works). *attrs (caller
 * frees with owls_sqs_attrs_free()) gets *n name/value pairs. */
struct owls_sqs_attr {
    char *name;
    char *value;
};
enum owls_err owls_sqs_get_attributes(struct owls_sqs *q, const char *queue_url,
                                      const char *const *names, size_t nnames,
                                      struct owls_sqs_attr **attrs, size_t *n,
                                      struct owls_errmsg *em);
void owls_sqs_attrs_free(struct owls_sqs_attr *attrs, size_t n);

#endif
