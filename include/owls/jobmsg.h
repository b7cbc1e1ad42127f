/*
 * jobmsg.h - what a work-queue message asks for (SPEC section 2).
 *
 * A body is either a job JSON object ({"input_key": ..., "run_id": ...}) or
 * an S3 event notification (Records[] of ObjectCreated:* events, keys
 * URL-encoded). One message may carry several jobs (one per S3 record);
 * each job carries its own validation outcome, so that one bad record does
 * not hide the good ones. A message with no usable record (the
 * s3:TestEvent, or only non-ObjectCreated records) is to be acknowledged and
 * ignored. Pure: no I/O, thread-safe.
 */
#ifndef OWLS_JOBMSG_H
#define OWLS_JOBMSG_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "owls/err.h"
#include "owls/table.h"

#define OWLS_KEY_MAX 1024 /* bytes of UTF-8, the S3 limit */

struct owls_job_spec {
    char *input_key;    /* decoded; NULL when the job is unusable */
    char *input_bucket; /* as given (job JSON) or the event's bucket; NULL: the archive bucket */
    char *run_id;       /* valid when err == OWLS_OK; NULL when unknown */
    enum owls_format format; /* OWLS_FORMAT_AUTO: decide from key/content */
    enum owls_err err;       /* OWLS_OK or the permanent error of this job */
    char errtext[256];
};

struct owls_jobmsg {
    size_t njobs;
    struct owls_job_spec *jobs;
    bool ignore; /* nothing to do: acknowledge, log, no notification */
    char ignore_reason[128];
};

/*
 * Parse body[0..len) of the message whose id is message_id, received at
 * received (UTC seconds, for generated run ids). archive_bucket: the only
 * input bucket allowed. Returns OWLS_EBAD_MESSAGE (em says why) when the body
 * as a whole is unusable; otherwise OWLS_OK with out filled (possibly
 * out->ignore, or jobs with their own err). Caller cleans up out with
 * owls_jobmsg_cleanup() in every case.
 */
enum owls_err owls_jobmsg_parse(const char *body, size_t len, const char *message_id,
                                time_t received, const char *archive_bucket,
                                struct owls_jobmsg *out, struct owls_errmsg *em);
void owls_jobmsg_cleanup(struct owls_jobmsg *m);

/* True when s[0..n) is valid UTF-8 (no overlongs, no surrogates, <= U+10FFFF). */
bool owls_utf8_valid(const char *s, size_t n);

/* Decode an S3 event key: '+' is a space, %XX a byte. Caller frees; NULL on
 * a malformed escape. *outlen gets the decoded length (it may hold NUL). */
char *owls_s3_event_key_decode(const char *s, size_t n, size_t *outlen);

#endif
