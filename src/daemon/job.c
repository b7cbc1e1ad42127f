/*
 * DESIGN: one function per step, each returning how the job stands:
 * DONE (artifacts and notification stored), FAILED (error record and
 * failed notification stored: permanent), or TRANSIENT (nothing settled;
 * the message must come back). The message is deleted only when every job
 * in it is DONE or FAILED -- nothing is acknowledged before its outcome is
 * durably in S3 and SQS (SPEC 6, "nothing is lost").
 *
 * Memory: the input object is held in memory for the split (bounded by
 * [worker] max_input_bytes); the artifacts go to the spool directory and are
 * uploaded from there, MANIFEST.json last, so a crash leaves no MANIFEST
 * for an incomplete run.
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "owls/artifacts.h"
#include "owls/input.h"
#include "owls/job.h"
#include "owls/jobmsg.h"
#include "owls/log.h"
#include "owls/notify.h"
#include "owls/split.h"
#include "owls/timefmt.h"
#include "owls/util.h"

#define MANIFEST_MAX_BYTES (4u << 20)

enum step { DONE, FAILED, TRANSIENT };
enum manifest_state { MANIFEST_UNKNOWN, MANIFEST_ABSENT, MANIFEST_PRESENT };

struct job {
    const struct owls_daemon_ctx *ctx;
    const struct owls_sqs_message *m;
    time_t received;
    long long start_ms;
    unsigned index; /* of the job within the message */
    struct owls_log_ctx lc;
};

int owls_job_retry_delay(int receive_count, int visibility_timeout)
{
    long long d = 10;
    for (int i = 1; i < receive_count && d < 43200; i++)
        d *= 2;
    if (d > visibility_timeout)
        d = visibility_timeout;
    return (int)d;
}

static long long elapsed_ms(const struct job *j)
{
    return owls_time_mono_ms() - j->start_ms;
}

static enum step send_note(struct job *j, const struct owls_done_note *n)
{
    struct owls_errmsg em = {{0}};
    size_t len;
    char *body = owls_notify_done_json(n, &len);
    enum owls_err rc =
        owls_sqs_send(j->ctx->svc->sqs, j->ctx->cfg->done_queue_url, body, len, NULL, &em);
    free(body);
    if (rc != OWLS_OK) {
        log_warnx("done notification not sent, the message will come back: %s", em.text);
        return TRANSIENT;
    }
    return DONE;
}

static enum manifest_state manifest_state(struct job *j, const char *run_id)
{
    struct owls_errmsg em = {{0}};
    char *key = owls_xasprintf("run=%s/MANIFEST.json", run_id);
    enum owls_err rc = owls_s3_head(j->ctx->svc->s3, j->ctx->cfg->artifacts_bucket, key, NULL, &em);
    free(key);
    if (rc == OWLS_OK)
        return MANIFEST_PRESENT;
    if (rc == OWLS_ENOTFOUND)
        return MANIFEST_ABSENT;
    log_warnx("cannot tell whether run %s is complete: %s", run_id, em.text);
    return MANIFEST_UNKNOWN;
}

/*
 * Settle a permanent failure: the error record under run=<id>/ERROR.json
 * (valid run id, no MANIFEST) or errors/<work-message-id>.json (for the
 * n-th job of a multi-record S3 event, n >= 1: errors/<id>-<n>.json), then
 * the failed notification. bad_message quotes the body back.
 */
static enum step settle_failure(struct job *j, const char *run_id, const char *input_bucket,
                                const char *input_key, enum owls_err code, const char *message,
                                enum manifest_state ms)
{
    const struct owls_config *cfg = j->ctx->cfg;
    struct owls_errmsg em = {{0}};
    const struct owls_sqs_message *m = j->m;
    char *record, *key;
    size_t len;
    enum owls_err rc;
    enum step st;

    j->lc.error_code = owls_err_code(code);
    if (run_id && !owls_run_id_valid(run_id))
        run_id = NULL;
    if (run_id && ms == MANIFEST_UNKNOWN && (ms = manifest_state(j, run_id)) == MANIFEST_UNKNOWN)
        return TRANSIENT;
    if (run_id && ms == MANIFEST_ABSENT)
        key = owls_xasprintf("run=%s/ERROR.json", run_id);
    else if (j->index == 0)
        key = owls_xasprintf("errors/%s.json", m->message_id);
    else /* the n-th record of an S3 event must not overwrite the first's */
        key = owls_xasprintf("errors/%s-%u.json", m->message_id, j->index);
    record = owls_notify_error_record_json(owls_err_code(code), message, run_id, m->message_id,
                                           m->body, m->body_len, &len);
    const struct owls_s3_put_opts po = {.content_type = "application/json",
                                        .cancel = j->ctx->cancel};
    rc = owls_s3_put(j->ctx->svc->s3, cfg->artifacts_bucket, key, record, len, &po, NULL, &em);
    free(record);
    if (rc != OWLS_OK) {
        log_warnx("error record s3://%s/%s not stored, the message will come back: %s",
                  cfg->artifacts_bucket, key, em.text);
        free(key);
        return TRANSIENT;
    }
    const struct owls_done_note note = {
        .succeeded = false,
        .run_id = run_id,
        .input_bucket = input_key ? (input_bucket ? input_bucket : cfg->archive_bucket) : NULL,
        .input_key = input_key,
        .work_message_id = m->message_id,
        .duration_ms = elapsed_ms(j),
        .error_code = owls_err_code(code),
        .error_message = message,
        .error_record_key = key,
        .body = code == OWLS_EBAD_MESSAGE ? m->body : NULL,
        .body_len = m->body_len,
    };
    st = send_note(j, &note);
    if (st == DONE) {
        log_warnx("job failed: %s: %s (error record s3://%s/%s)", owls_err_code(code), message,
                  cfg->artifacts_bucket, key);
        st = FAILED;
    }
    free(key);
    return st;
}

/* What an existing MANIFEST.json says about the run. */
enum manifest_match { SAME_INPUT, OTHER_INPUT };

static enum manifest_match manifest_matches(const char *text, size_t len, const char *bucket,
                                            const char *key, const char *etag, char *what,
                                            size_t what_len)
{
    json_t *doc = json_loadb(text, len, 0, NULL);
    json_t *in = json_object_get(doc, "input");
    const char *b = json_string_value(json_object_get(in, "bucket"));
    const char *k = json_string_value(json_object_get(in, "key"));
    const char *e = json_string_value(json_object_get(in, "etag"));
    enum manifest_match r = OTHER_INPUT;

    if (b && k && e && strcmp(b, bucket) == 0 && strcmp(k, key) == 0 && strcmp(e, etag) == 0)
        r = SAME_INPUT;
    else
        snprintf(what, what_len, "s3://%.64s/%.256s (etag %.64s)", b ? b : "?", k ? k : "?",
                 e ? e : "?");
    json_decref(doc);
    return r;
}

/* The run is complete for this very input: report it, don't recompute. */
static enum step report_duplicate(struct job *j, const struct owls_job_spec *s)
{
    const struct owls_config *cfg = j->ctx->cfg;
    struct owls_errmsg em = {{0}};
    struct owls_done_note note = {
        .succeeded = true,
        .duplicate = true,
        .run_id = s->run_id,
        .input_bucket = cfg->archive_bucket,
        .input_key = s->input_key,
        .artifacts_bucket = cfg->artifacts_bucket,
        .work_message_id = j->m->message_id,
    };
    char *key = owls_xasprintf("run=%s/er.json", s->run_id);
    char *data = NULL;
    size_t len = 0;
    const struct owls_s3_get_opts go = {.max_bytes = MANIFEST_MAX_BYTES, .cancel = j->ctx->cancel};

    /* The row counts as far as the run's er.json tells them. */
    if (owls_s3_get_buf(j->ctx->svc->s3, cfg->artifacts_bucket, key, &go, &data, &len, NULL, &em) ==
        OWLS_OK) {
        json_t *doc = json_loadb(data, len, 0, NULL);
        json_t *keep = json_object_get(doc, "keep"), *discard = json_object_get(doc, "discard");
        if (json_is_integer(json_object_get(keep, "rows")) &&
            json_is_integer(json_object_get(discard, "rows")) &&
            json_is_number(json_object_get(keep, "fraction"))) {
            note.have_rows = true;
            note.rows_keep = (size_t)json_integer_value(json_object_get(keep, "rows"));
            note.rows_discard = (size_t)json_integer_value(json_object_get(discard, "rows"));
            note.keep_fraction = json_number_value(json_object_get(keep, "fraction"));
        }
        json_decref(doc);
    }
    free(data);
    free(key);
    note.duration_ms = elapsed_ms(j);
    if (send_note(j, &note) != DONE)
        return TRANSIENT;
    log_info("duplicate: run %s is already complete for this input; not recomputed", s->run_id);
    return DONE;
}

static enum step upload_artifacts(struct job *j, const struct owls_artifacts *arts)
{
    const struct owls_config *cfg = j->ctx->cfg;

    for (int i = 0; i < OWLS_ARTIFACT_COUNT; i++) {
        const struct owls_artifact *a = owls_artifacts_get(arts, i);
        struct owls_errmsg em = {{0}};
        const struct owls_s3_put_opts po = {
            .content_type = a->content_type, .cancel = j->ctx->cancel, .sha256_hex = a->sha256};
        enum owls_err rc;
        int fd = open(a->path, O_RDONLY | O_CLOEXEC);

        if (fd < 0) {
            log_warn("spool file %s", a->path);
            return TRANSIENT;
        }
        rc = owls_s3_put_fd(j->ctx->svc->s3, cfg->artifacts_bucket, a->key, fd, 0, a->bytes, &po,
                            NULL, &em);
        close(fd);
        if (rc != OWLS_OK) {
            if (rc == OWLS_EAUTH)
                log_err("access denied writing s3://%s/%s: the IAM policy needs s3:PutObject "
                        "there: %s",
                        cfg->artifacts_bucket, a->key, em.text);
            else
                log_warnx("upload of s3://%s/%s failed, the message will come back: %s",
                          cfg->artifacts_bucket, a->key, em.text);
            return TRANSIENT;
        }
    }
    return DONE;
}

/* Download, split, spool, upload, notify: the job proper. */
static enum step compute(struct job *j, const struct owls_job_spec *s,
                         const struct owls_s3_object *obj)
{
    const struct owls_config *cfg = j->ctx->cfg;
    struct owls_errmsg em = {{0}};
    struct owls_input in = {0};
    struct owls_table *t = NULL;
    struct owls_q4_result r = {0};
    struct owls_artifacts *arts = NULL;
    char started[OWLS_RFC3339_LEN];
    char *data = NULL, *dir = NULL;
    size_t len = 0;
    enum owls_format fmt;
    enum owls_err rc;
    enum step st = TRANSIENT;

    owls_time_now_rfc3339(started);
    const struct owls_s3_get_opts go = {
        .max_bytes = cfg->max_input_bytes,
        .if_match = obj->etag, /* the object we looked at, not a newer one */
        .cancel = j->ctx->cancel,
    };
    rc = owls_s3_get_buf(j->ctx->svc->s3, cfg->archive_bucket, s->input_key, &go, &data, &len, NULL,
                         &em);
    if (rc == OWLS_ENOTFOUND || rc == OWLS_EINPUT_TOO_LARGE) {
        char msg[600];
        snprintf(msg, sizeof(msg), "s3://%s/%s: %s", cfg->archive_bucket, s->input_key, em.text);
        return settle_failure(j, s->run_id, NULL, s->input_key,
                              rc == OWLS_ENOTFOUND ? OWLS_EINPUT_NOT_FOUND : rc, msg,
                              MANIFEST_ABSENT);
    }
    if (rc != OWLS_OK) {
        log_warnx("download of s3://%s/%s failed, the message will come back: %s",
                  cfg->archive_bucket, s->input_key, em.text);
        return TRANSIENT;
    }
    owls_input_adopt(&in, data, len);
    fmt = owls_format_detect(s->format, s->input_key, in.data, in.len);
    rc = owls_input_read_table(&in, fmt, s->input_key, &t, &em);
    if (rc == OWLS_OK)
        rc = owls_q4_split(t, &r, &em);
    if (owls_err_is_permanent(rc)) {
        st = settle_failure(j, s->run_id, NULL, s->input_key, rc, em.text, MANIFEST_ABSENT);
        goto out;
    }
    if (rc != OWLS_OK) {
        log_err("split failed (%s): %s", owls_strerror(rc), em.text);
        goto out;
    }

    owls_table_drop_values(t);
    /* A directory of its own even for two copies of one message at once. */
    dir = owls_xasprintf("%s/job.XXXXXX", j->ctx->spool);
    if (mkdtemp(dir) == NULL) {
        log_warn("spool directory %s", dir);
        free(dir);
        dir = NULL;
        goto out;
    }
    const struct owls_run_info info = {
        .run_id = s->run_id,
        .input_bucket = cfg->archive_bucket,
        .input_key = s->input_key,
        .input_etag = obj->etag,
        .format = fmt,
        .input_bytes = in.len,
        .input_sha256 = in.sha256,
        .producer = "owls-q4d",
        .started_at = started,
    };
    rc = owls_artifacts_write(dir, 0, t, &r, &info, &arts, &em);
    if (rc != OWLS_OK) {
        log_err("writing the artifacts to the spool failed: %s", em.text);
        goto out;
    }
    /* The input and its values are no longer needed while uploading. */
    owls_table_free(t);
    t = NULL;
    owls_input_cleanup(&in);

    /* A duplicate delivery may have completed the run meanwhile: never
     * overwrite a MANIFEST.json (its timestamps would differ). */
    if (manifest_state(j, s->run_id) != MANIFEST_ABSENT) {
        log_notice("run %s completed elsewhere while this job ran", s->run_id);
        st = TRANSIENT; /* the redelivery reports it as a duplicate or a conflict */
        goto out;
    }
    st = upload_artifacts(j, arts);
    if (st != DONE)
        goto out;
    const struct owls_done_note note = {
        .succeeded = true,
        .run_id = s->run_id,
        .input_bucket = cfg->archive_bucket,
        .input_key = s->input_key,
        .artifacts_bucket = cfg->artifacts_bucket,
        .have_rows = true,
        .rows_keep = r.rows[OWLS_Q1] + r.rows[OWLS_Q4],
        .rows_discard = r.rows[OWLS_Q2] + r.rows[OWLS_Q3],
        .keep_fraction = owls_q4_keep_fraction(&r),
        .work_message_id = j->m->message_id,
        .duration_ms = elapsed_ms(j),
    };
    st = send_note(j, &note);
    if (st == DONE)
        log_info("run complete: %zu rows kept, %zu discarded, keep energy fraction %.6f, %lld ms",
                 note.rows_keep, note.rows_discard, note.keep_fraction, note.duration_ms);
out:
    owls_artifacts_free(arts);
    if (dir)
        rmdir(dir);
    free(dir);
    owls_q4_result_cleanup(&r);
    owls_table_free(t);
    owls_input_cleanup(&in);
    return st;
}

static enum step run_spec(struct job *j, const struct owls_job_spec *s)
{
    const struct owls_config *cfg = j->ctx->cfg;
    struct owls_errmsg em = {{0}};
    struct owls_s3_object obj;
    char *mkey, *mdata = NULL;
    size_t mlen = 0;
    enum owls_err rc;
    enum step st;

    j->lc.run_id = s->run_id;
    j->lc.input_key = s->input_key;
    j->lc.error_code = NULL;
    if (s->err != OWLS_OK)
        return settle_failure(j, s->run_id, s->input_bucket, s->input_key, s->err, s->errtext,
                              MANIFEST_UNKNOWN);
    log_info("job started: s3://%s/%s", cfg->archive_bucket, s->input_key);

    rc = owls_s3_head(j->ctx->svc->s3, cfg->archive_bucket, s->input_key, &obj, &em);
    if (rc == OWLS_ENOTFOUND) {
        char msg[600];
        snprintf(msg, sizeof(msg), "s3://%s/%s: no such object", cfg->archive_bucket, s->input_key);
        return settle_failure(j, s->run_id, NULL, s->input_key, OWLS_EINPUT_NOT_FOUND, msg,
                              MANIFEST_UNKNOWN);
    }
    if (rc == OWLS_EAUTH) {
        log_err("access denied reading s3://%s/%s (the IAM policy needs s3:GetObject and "
                "s3:ListBucket); the message will come back: %s",
                cfg->archive_bucket, s->input_key, em.text);
        return TRANSIENT;
    }
    if (rc != OWLS_OK) {
        log_warnx("HEAD s3://%s/%s failed, the message will come back: %s", cfg->archive_bucket,
                  s->input_key, em.text);
        return TRANSIENT;
    }
    if (cfg->max_input_bytes && obj.size > cfg->max_input_bytes) {
        char msg[600];
        snprintf(msg, sizeof(msg),
                 "s3://%s/%s: %llu bytes, more than [worker] max_input_bytes "
                 "(%llu)",
                 cfg->archive_bucket, s->input_key, (unsigned long long)obj.size,
                 (unsigned long long)cfg->max_input_bytes);
        return settle_failure(j, s->run_id, NULL, s->input_key, OWLS_EINPUT_TOO_LARGE, msg,
                              MANIFEST_UNKNOWN);
    }

    /* Idempotency: a MANIFEST for this run means it is complete. */
    mkey = owls_xasprintf("run=%s/MANIFEST.json", s->run_id);
    const struct owls_s3_get_opts go = {.max_bytes = MANIFEST_MAX_BYTES, .cancel = j->ctx->cancel};
    rc = owls_s3_get_buf(j->ctx->svc->s3, cfg->artifacts_bucket, mkey, &go, &mdata, &mlen, NULL,
                         &em);
    free(mkey);
    if (rc == OWLS_OK) {
        char other[512] = "";
        if (manifest_matches(mdata, mlen, cfg->archive_bucket, s->input_key, obj.etag, other,
                             sizeof(other)) == SAME_INPUT) {
            st = report_duplicate(j, s);
        } else {
            char msg[800];
            snprintf(msg, sizeof(msg), "run %s is already complete for another input: %s",
                     s->run_id, other);
            st = settle_failure(j, s->run_id, NULL, s->input_key, OWLS_ERUN_CONFLICT, msg,
                                MANIFEST_PRESENT);
        }
        free(mdata);
        return st;
    }
    if (rc != OWLS_ENOTFOUND) {
        log_warnx("cannot read run=%s/MANIFEST.json, the message will come back: %s", s->run_id,
                  em.text);
        return TRANSIENT;
    }
    return compute(j, s, &obj);
}

bool owls_job_process(const struct owls_daemon_ctx *ctx, const struct owls_sqs_message *m,
                      time_t received)
{
    struct job j = {.ctx = ctx, .m = m, .received = received, .start_ms = owls_time_mono_ms()};
    struct owls_jobmsg msg;
    struct owls_errmsg em = {{0}};
    bool settled = true, ok = true;

    j.lc.work_message_id = m->message_id;
    j.lc.receive_count = m->receive_count;
    log_set_ctx(&j.lc);
    if (m->receive_count > 1)
        log_info("message received again (receive count %ld)", m->receive_count);

    if (owls_jobmsg_parse(m->body, m->body_len, m->message_id, received, ctx->cfg->archive_bucket,
                          &msg, &em) != OWLS_OK) {
        enum step st =
            settle_failure(&j, NULL, NULL, NULL, OWLS_EBAD_MESSAGE, em.text, MANIFEST_UNKNOWN);
        settled = st != TRANSIENT;
        ok = false;
    } else if (msg.ignore) {
        log_notice("message ignored: %s", msg.ignore_reason);
    }
    for (size_t i = 0; i < msg.njobs; i++) {
        j.index = (unsigned)i;
        enum step st = run_spec(&j, &msg.jobs[i]);
        j.lc.run_id = j.lc.input_key = j.lc.error_code = NULL;
        ok &= st == DONE;
        settled &= st != TRANSIENT;
    }
    owls_jobmsg_cleanup(&msg);

    if (settled) {
        if (owls_sqs_delete(ctx->svc->sqs, ctx->cfg->work_queue_url, m->receipt_handle, &em) !=
            OWLS_OK)
            log_warnx("delete failed (the message will come back and be reported as a "
                      "duplicate): %s",
                      em.text);
    } else {
        int delay = owls_job_retry_delay((int)m->receive_count, ctx->cfg->visibility_timeout);
        if (owls_sqs_change_visibility(ctx->svc->sqs, ctx->cfg->work_queue_url, m->receipt_handle,
                                       delay, &em) == OWLS_OK)
            log_notice("left for redelivery in %d s", delay);
        else
            log_notice("left for redelivery after its visibility timeout: %s", em.text);
    }
    log_set_ctx(NULL);
    return ok;
}
