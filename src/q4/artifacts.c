/*
 * DESIGN: each artifact is an owls_outfile (temporary name, running SHA-256
 * and byte count); the two CSVs are streamed by the table's reader
 * (write_split), the JSON documents are built with jansson and dumped in
 * one piece. MANIFEST.json is built last from the other four's digests.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "owls/artifacts.h"
#include "owls/fsio.h"
#include "owls/hash.h"
#include "owls/timefmt.h"
#include "owls/util.h"

enum { A_KEEP, A_DISCARD, A_STUDY, A_ENERGY, A_MANIFEST };

static const struct {
    const char *name;
    const char *content_type;
} s_files[OWLS_ARTIFACT_COUNT] = {
    [A_KEEP] = {"Q_keep.csv", "text/csv"},
    [A_DISCARD] = {"Q_discard.csv", "text/csv"},
    [A_STUDY] = {"Q_study.json", "application/json"},
    [A_ENERGY] = {"er.json", "application/json"},
    [A_MANIFEST] = {"MANIFEST.json", "application/json"},
};

static const char *const s_quadrant_names[4] = {"Q1", "Q2", "Q3", "Q4"};

struct owls_artifacts {
    char *dir;
    unsigned flags;
    struct owls_outfile *files[OWLS_ARTIFACT_COUNT];
    struct owls_artifact items[OWLS_ARTIFACT_COUNT];
};

bool owls_run_id_valid(const char *id)
{
    size_t n = strlen(id);

    if (n == 0 || n > OWLS_RUN_ID_MAX)
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)id[i];
        bool alnum = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
        if (!alnum && (i == 0 || (c != '.' && c != '_' && c != '-')))
            return false;
    }
    return true;
}

void owls_run_id_generate(time_t t, const char *hex_source, char out[64])
{
    char hex[9] = "00000000";
    size_t k = 0;

    for (const char *p = hex_source; p && *p && k < 8; p++)
        if (owls_hex_digit(*p) >= 0)
            hex[k++] = (char)(*p >= 'A' && *p <= 'F' ? *p - 'A' + 'a' : *p);
    owls_time_runid_stamp(t, out);
    snprintf(out + strlen(out), 64 - strlen(out), "-%s", hex);
}

double owls_q4_keep_fraction(const struct owls_q4_result *r)
{
    double keep = r->energy[OWLS_Q1] + r->energy[OWLS_Q4];
    return r->total_energy > 0 ? keep / r->total_energy : 0;
}

/* jansson helpers: new references, NULL-safe strings. */
static json_t *str_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}

static json_t *reals(const double *v, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(a, json_real(v[i]));
    return a;
}

static json_t *part(size_t rows, double energy, double total)
{
    return json_pack("{s:I, s:f, s:f}", "rows", (json_int_t)rows, "energy", energy, "fraction",
                     total > 0 ? energy / total : 0.0);
}

static json_t *build_study(const struct owls_table *t, const struct owls_q4_result *r,
                           const struct owls_run_info *info)
{
    json_t *cols = json_array(), *num = json_array(), *ign = json_array();
    json_t *quad = json_object();

    for (size_t j = 0; j < t->ncols; j++) {
        json_array_append_new(cols, json_string(t->cols[j].name));
        json_array_append_new(t->cols[j].kind == OWLS_COL_NUMERIC ? num : ign,
                              json_string(t->cols[j].name));
    }
    for (int q = 0; q < 4; q++)
        json_object_set_new(quad, s_quadrant_names[q], json_integer((json_int_t)r->rows[q]));
    return json_pack(
        "{s:s, s:s, s:{s:s, s:s, s:I, s:s}, s:I, s:o, s:o, s:o, s:{s:o, s:o}, s:[o, o],"
        " s:[f, f], s:[f, f], s:o, s:[s, s]}",
        "schema", "owls-q4.study/1", "run_id", info->run_id, "input", "key", info->input_key,
        "format", owls_format_name(info->format), "bytes", (json_int_t)info->input_bytes, "sha256",
        info->input_sha256, "rows", (json_int_t)r->nrows, "columns", cols, "numeric_columns", num,
        "ignored_columns", ign, "scaler", "mean", reals(r->mean, r->d), "scale",
        reals(r->scale, r->d), "projectors", reals(r->v[0], r->d), reals(r->v[1], r->d),
        "singular_values", r->sv[0], r->sv[1], "explained_variance_ratio", r->evr[0], r->evr[1],
        "quadrant_rows", quad, "keep_quadrants", "Q1", "Q4");
}

static json_t *build_energy(const struct owls_q4_result *r)
{
    json_t *quads = json_object();
    double E = r->total_energy;
    double keep = r->energy[OWLS_Q1] + r->energy[OWLS_Q4];
    double discard = r->energy[OWLS_Q2] + r->energy[OWLS_Q3];

    for (int q = 0; q < 4; q++)
        json_object_set_new(quads, s_quadrant_names[q], part(r->rows[q], r->energy[q], E));
    return json_pack("{s:s, s:f, s:o, s:o, s:o}", "schema", "owls-q4.energy/1", "total_energy", E,
                     "quadrants", quads, "keep", part(r->rows[OWLS_Q1] + r->rows[OWLS_Q4], keep, E),
                     "discard", part(r->rows[OWLS_Q2] + r->rows[OWLS_Q3], discard, E));
}

static json_t *build_manifest(const struct owls_artifacts *a, const struct owls_run_info *info)
{
    json_t *arts = json_array();
    char host[256] = "unknown", now[OWLS_RFC3339_LEN];

    for (int i = 0; i < A_MANIFEST; i++) {
        const struct owls_artifact *it = &a->items[i];
        json_array_append_new(arts, json_pack("{s:s, s:s, s:I, s:s, s:s}", "name", it->name, "key",
                                              it->key, "bytes", (json_int_t)it->bytes, "sha256",
                                              it->sha256, "content_type", it->content_type));
    }
    if (gethostname(host, sizeof(host) - 1) != 0)
        memcpy(host, "unknown", sizeof("unknown"));
    host[sizeof(host) - 1] = '\0';
    owls_time_now_rfc3339(now);
    return json_pack("{s:s, s:s, s:{s:o, s:s, s:o, s:I, s:s}, s:o, s:{s:s, s:s, s:s}, s:s, s:s}",
                     "schema", "owls-q4.manifest/1", "run_id", info->run_id, "input", "bucket",
                     str_or_null(info->input_bucket), "key", info->input_key, "etag",
                     str_or_null(info->input_etag), "bytes", (json_int_t)info->input_bytes,
                     "sha256", info->input_sha256, "artifacts", arts, "producer", "name",
                     info->producer, "version", OWLS_VERSION, "host", host, "started_at",
                     info->started_at, "finished_at", now);
}

static enum owls_err sink_write(void *sink, const void *p, size_t n)
{
    return owls_outfile_write(sink, p, n);
}

static enum owls_err open_file(struct owls_artifacts *a, int i, const struct owls_run_info *info,
                               struct owls_errmsg *em)
{
    /* Only the two big CSVs are worth a writer thread. */
    unsigned flags = i <= A_DISCARD ? a->flags : a->flags & ~OWLS_OUTFILE_BACKGROUND;
    enum owls_err rc = owls_outfile_open(a->dir, s_files[i].name, flags, &a->files[i], em);
    a->items[i].name = s_files[i].name;
    a->items[i].content_type = s_files[i].content_type;
    a->items[i].key = owls_xasprintf("run=%s/%s", info->run_id, s_files[i].name);
    if (rc == OWLS_OK)
        a->items[i].path = owls_outfile_tmp_path(a->files[i]);
    return rc;
}

static enum owls_err close_file(struct owls_artifacts *a, int i, struct owls_errmsg *em)
{
    enum owls_err rc = owls_outfile_close(a->files[i], em);
    if (rc == OWLS_OK) {
        a->items[i].bytes = owls_outfile_bytes(a->files[i]);
        memcpy(a->items[i].sha256, owls_outfile_sha256(a->files[i]), OWLS_SHA256_HEX);
    }
    return rc;
}

static enum owls_err write_json(struct owls_artifacts *a, int i, json_t *doc,
                                const struct owls_run_info *info, struct owls_errmsg *em)
{
    enum owls_err rc;
    char *text;

    if (doc == NULL)
        return owls_errmsg_set(em, OWLS_EINTERNAL, "%s: could not build the JSON document",
                               s_files[i].name);
    text = json_dumps(doc, JSON_INDENT(2) | JSON_REAL_PRECISION(17));
    json_decref(doc);
    if (text == NULL)
        return owls_errmsg_set(em, OWLS_ENOMEM, "%s: could not serialize", s_files[i].name);
    rc = open_file(a, i, info, em);
    if (rc == OWLS_OK && (rc = owls_outfile_write(a->files[i], text, strlen(text))) == OWLS_OK &&
        (rc = owls_outfile_write(a->files[i], "\n", 1)) == OWLS_OK)
        rc = close_file(a, i, em);
    else if (rc == OWLS_EIO)
        owls_errmsg_set(em, rc, "%s/%s: write failed", a->dir, s_files[i].name);
    free(text);
    return rc;
}

enum owls_err owls_artifacts_write(const char *dir, unsigned flags, const struct owls_table *t,
                                   const struct owls_q4_result *r, const struct owls_run_info *info,
                                   struct owls_artifacts **out, struct owls_errmsg *em)
{
    enum owls_err rc;
    struct owls_artifacts *a = owls_xcalloc(1, sizeof(*a));

    *out = NULL;
    a->dir = owls_xstrdup(dir);
    a->flags = flags;
    if ((rc = open_file(a, A_KEEP, info, em)) != OWLS_OK ||
        (rc = open_file(a, A_DISCARD, info, em)) != OWLS_OK)
        goto out;
    rc = t->ops->write_split(t, r->keep, sink_write, a->files[A_KEEP], a->files[A_DISCARD], em);
    if (rc != OWLS_OK)
        goto out;
    if ((rc = close_file(a, A_KEEP, em)) != OWLS_OK ||
        (rc = close_file(a, A_DISCARD, em)) != OWLS_OK)
        goto out;
    if ((rc = write_json(a, A_STUDY, build_study(t, r, info), info, em)) != OWLS_OK ||
        (rc = write_json(a, A_ENERGY, build_energy(r), info, em)) != OWLS_OK ||
        (rc = write_json(a, A_MANIFEST, build_manifest(a, info), info, em)) != OWLS_OK)
        goto out;
    *out = a;
    a = NULL;
out:
    owls_artifacts_free(a);
    return rc;
}

const struct owls_artifact *owls_artifacts_get(const struct owls_artifacts *a, int i)
{
    if (i < 0 || i >= OWLS_ARTIFACT_COUNT)
        return NULL;
    return &a->items[i];
}

enum owls_err owls_artifacts_commit(struct owls_artifacts *a, struct owls_errmsg *em)
{
    for (int i = 0; i < OWLS_ARTIFACT_COUNT; i++) {
        enum owls_err rc;
        /* MANIFEST.json last: its presence means the run is complete. */
        rc = owls_outfile_commit(a->files[i], em);
        if (rc != OWLS_OK)
            return rc;
    }
    return OWLS_OK;
}

void owls_artifacts_free(struct owls_artifacts *a)
{
    if (a == NULL)
        return;
    for (int i = 0; i < OWLS_ARTIFACT_COUNT; i++) {
        owls_outfile_free(a->files[i]);
        free(a->items[i].key);
    }
    free(a->dir);
    free(a);
}
