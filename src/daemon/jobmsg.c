/*
 * DESIGN: turn a message body into job specs, strictly by SPEC section 2,
 * with jansson as the JSON authority (it also rejects invalid UTF-8 and
 * duplicate keys are last-wins). Everything a job needs to fail well -- its
 * run id when known, its key, the reason -- is decided here, so the job
 * module only acts.
 */
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "owls/artifacts.h"
#include "owls/hash.h"
#include "owls/jobmsg.h"
#include "owls/timefmt.h"
#include "owls/util.h"

bool owls_utf8_valid(const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s, *end = p + n;

    while (p < end) {
        unsigned c = *p++;
        unsigned need, min;
        unsigned long cp;
        if (c < 0x80)
            continue;
        if (c >= 0xC2 && c <= 0xDF)
            need = 1, min = 0x80, cp = c & 0x1F;
        else if (c >= 0xE0 && c <= 0xEF)
            need = 2, min = 0x800, cp = c & 0x0F;
        else if (c >= 0xF0 && c <= 0xF4)
            need = 3, min = 0x10000, cp = c & 0x07;
        else
            return false;
        if ((size_t)(end - p) < need)
            return false;
        for (unsigned i = 0; i < need; i++) {
            if ((p[i] & 0xC0) != 0x80)
                return false;
            cp = (cp << 6) | (p[i] & 0x3F);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return false;
        p += need;
    }
    return true;
}

char *owls_s3_event_key_decode(const char *s, size_t n, size_t *outlen)
{
    char *out = owls_xmalloc(n + 1);
    size_t o = 0;

    for (size_t i = 0; i < n; i++) {
        if (s[i] == '+') {
            out[o++] = ' ';
        } else if (s[i] == '%') {
            int hi, lo;
            if (n - i < 3 || (hi = owls_hex_digit(s[i + 1])) < 0 ||
                (lo = owls_hex_digit(s[i + 2])) < 0) {
                free(out);
                return NULL;
            }
            out[o++] = (char)(hi * 16 + lo);
            i += 2;
        } else {
            out[o++] = s[i];
        }
    }
    out[o] = '\0';
    *outlen = o;
    return out;
}

/* "run=<id>/..." -> <id> (caller frees), or NULL. */
static char *run_id_from_key(const char *key)
{
    const char *slash;
    if (strncmp(key, "run=", 4) != 0 || (slash = strchr(key + 4, '/')) == NULL)
        return NULL;
    return owls_xstrndup(key + 4, (size_t)(slash - (key + 4)));
}

static void job_fail(struct owls_job_spec *j, enum owls_err rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void job_fail(struct owls_job_spec *j, enum owls_err rc, const char *fmt, ...)
{
    va_list ap;
    j->err = rc;
    va_start(ap, fmt);
    vsnprintf(j->errtext, sizeof(j->errtext), fmt, ap);
    va_end(ap);
}

/* Check the key, then settle the run id: explicit, from the key, generated. */
static void finish_job(struct owls_job_spec *j, const char *key, size_t keylen, const char *run_id,
                       const char *message_id, time_t received, const char *archive_bucket)
{
    if (keylen == 0 || keylen > OWLS_KEY_MAX || memchr(key, '\0', keylen) != NULL ||
        !owls_utf8_valid(key, keylen)) {
        job_fail(j, OWLS_EBAD_MESSAGE,
                 keylen == 0             ? "input_key is empty"
                 : keylen > OWLS_KEY_MAX ? "input_key is longer than 1024 bytes"
                                         : "input_key is not valid UTF-8 text");
        return;
    }
    j->input_key = owls_xstrndup(key, keylen);
    if (run_id) {
        j->run_id = owls_xstrdup(run_id);
    } else if ((j->run_id = run_id_from_key(j->input_key)) == NULL) {
        char gen[64];
        owls_run_id_generate(received, message_id, gen);
        j->run_id = owls_xstrdup(gen);
    }
    if (!owls_run_id_valid(j->run_id)) {
        job_fail(j, OWLS_EINVALID_RUN_ID, "run id \"%.64s%s\" must match " OWLS_RUN_ID_PATTERN,
                 j->run_id, strlen(j->run_id) > 64 ? "..." : "");
        free(j->run_id);
        j->run_id = NULL;
        return;
    }
    if (j->input_bucket && strcmp(j->input_bucket, archive_bucket) != 0)
        job_fail(j, OWLS_EFORBIDDEN_BUCKET, "input bucket \"%.64s\" is not the archive bucket",
                 j->input_bucket);
}

static struct owls_job_spec *add_job(struct owls_jobmsg *m)
{
    m->jobs = owls_xreallocarray(m->jobs, m->njobs + 1, sizeof(*m->jobs));
    memset(&m->jobs[m->njobs], 0, sizeof(m->jobs[0]));
    return &m->jobs[m->njobs++];
}

static enum owls_err parse_job_json(json_t *root, const char *message_id, time_t received,
                                    const char *archive_bucket, struct owls_jobmsg *m,
                                    struct owls_errmsg *em)
{
    json_t *key = json_object_get(root, "input_key");
    json_t *run = json_object_get(root, "run_id");
    json_t *bucket = json_object_get(root, "input_bucket");
    json_t *format = json_object_get(root, "format");
    struct owls_job_spec *j;

    if (!json_is_string(key))
        return owls_errmsg_set(em, OWLS_EBAD_MESSAGE, "%s",
                               key ? "input_key must be a string" : "no input_key in the job");
    if (run && !json_is_null(run) && !json_is_string(run))
        return owls_errmsg_set(em, OWLS_EBAD_MESSAGE, "run_id must be a string");
    if (bucket && !json_is_null(bucket) && !json_is_string(bucket))
        return owls_errmsg_set(em, OWLS_EBAD_MESSAGE, "input_bucket must be a string");
    if (format && !json_is_null(format) && !json_is_string(format))
        return owls_errmsg_set(em, OWLS_EBAD_MESSAGE, "format must be a string");
    j = add_job(m);
    if (json_is_string(bucket))
        j->input_bucket = owls_xstrdup(json_string_value(bucket));
    finish_job(j, json_string_value(key), json_string_length(key),
               json_is_string(run) ? json_string_value(run) : NULL, message_id, received,
               archive_bucket);
    if (j->err == OWLS_OK && json_is_string(format)) {
        const char *f = json_string_value(format);
        if (strcmp(f, "csv") == 0)
            j->format = OWLS_FORMAT_CSV;
        else if (strcmp(f, "parquet") == 0)
            j->format = OWLS_FORMAT_PARQUET;
        else
            job_fail(j, OWLS_EUNSUPPORTED_FORMAT, "format \"%.32s\" is neither csv nor parquet", f);
    }
    return OWLS_OK;
}

static enum owls_err parse_s3_event(json_t *records, const char *message_id, time_t received,
                                    const char *archive_bucket, struct owls_jobmsg *m,
                                    struct owls_errmsg *em)
{
    size_t i, skipped = 0;
    json_t *rec;

    if (!json_is_array(records))
        return owls_errmsg_set(em, OWLS_EBAD_MESSAGE, "Records must be an array");
    json_array_foreach(records, i, rec)
    {
        const char *source = json_string_value(json_object_get(rec, "eventSource"));
        const char *name = json_string_value(json_object_get(rec, "eventName"));
        json_t *s3 = json_object_get(rec, "s3");
        json_t *key = json_object_get(json_object_get(s3, "object"), "key");
        const char *bucket =
            json_string_value(json_object_get(json_object_get(s3, "bucket"), "name"));
        struct owls_job_spec *j;
        char *decoded;
        size_t dlen;

        if (source == NULL || strcmp(source, "aws:s3") != 0 || name == NULL ||
            strncmp(name, "ObjectCreated:", 14) != 0) {
            skipped++;
            continue;
        }
        j = add_job(m);
        if (!json_is_string(key)) {
            job_fail(j, OWLS_EBAD_MESSAGE, "record %zu: no s3.object.key", i);
            continue;
        }
        decoded = owls_s3_event_key_decode(json_string_value(key), json_string_length(key), &dlen);
        if (decoded == NULL) {
            job_fail(j, OWLS_EBAD_MESSAGE, "record %zu: malformed %%-escape in the key", i);
            continue;
        }
        j->input_bucket = owls_xstrdup(bucket ? bucket : "");
        finish_job(j, decoded, dlen, NULL, message_id, received, archive_bucket);
        free(decoded);
    }
    if (m->njobs == 0) {
        m->ignore = true;
        snprintf(m->ignore_reason, sizeof(m->ignore_reason),
                 "S3 event with no ObjectCreated record (%zu skipped)", skipped);
    }
    return OWLS_OK;
}

enum owls_err owls_jobmsg_parse(const char *body, size_t len, const char *message_id,
                                time_t received, const char *archive_bucket,
                                struct owls_jobmsg *out, struct owls_errmsg *em)
{
    enum owls_err rc;
    json_error_t jerr;
    json_t *root;
    const char *event;

    memset(out, 0, sizeof(*out));
    root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
    if (root == NULL)
        return owls_errmsg_set(em, OWLS_EBAD_MESSAGE, "not valid JSON: line %d, column %d: %s",
                               jerr.line, jerr.column, jerr.text);
    if (!json_is_object(root)) {
        rc = owls_errmsg_set(em, OWLS_EBAD_MESSAGE, "the body is not a JSON object");
        goto out;
    }
    event = json_string_value(json_object_get(root, "Event"));
    if (event && strcmp(event, "s3:TestEvent") == 0) {
        out->ignore = true;
        snprintf(out->ignore_reason, sizeof(out->ignore_reason), "s3:TestEvent");
        rc = OWLS_OK;
    } else if (json_object_get(root, "Records") != NULL) {
        rc = parse_s3_event(json_object_get(root, "Records"), message_id, received, archive_bucket,
                            out, em);
    } else {
        rc = parse_job_json(root, message_id, received, archive_bucket, out, em);
    }
out:
    json_decref(root);
    return rc;
}

void owls_jobmsg_cleanup(struct owls_jobmsg *m)
{
    for (size_t i = 0; i < m->njobs; i++) {
        free(m->jobs[i].input_key);
        free(m->jobs[i].input_bucket);
        free(m->jobs[i].run_id);
    }
    free(m->jobs);
    memset(m, 0, sizeof(*m));
}
