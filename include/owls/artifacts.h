/*
 * artifacts.h - the five files of a run (SPEC section 4), written to a local
 * directory under temporary names, then renamed into place with
 * MANIFEST.json last. The CLI commits them where the user asked; the daemon
 * uploads them from their temporary names (MANIFEST.json last) and frees.
 */
#ifndef OWLS_ARTIFACTS_H
#define OWLS_ARTIFACTS_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "owls/err.h"
#include "owls/hash.h"
#include "owls/split.h"
#include "owls/table.h"

#define OWLS_ARTIFACT_COUNT 5 /* Q_keep.csv Q_discard.csv Q_study.json er.json MANIFEST.json */
#define OWLS_RUN_ID_MAX     128

#define OWLS_RUN_ID_PATTERN "^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$"

/* True when id matches OWLS_RUN_ID_PATTERN (SPEC section 2). */
bool owls_run_id_valid(const char *id);

/* A generated run id (SPEC section 2): "YYYY-MM-DD-HHMMSS-" for t (UTC) and
 * the first 8 hex digits of hex_source, lowercased, other characters
 * skipped ('0's when it has fewer): a work message id for the daemon, the
 * input's SHA-256 for the CLI. */
void owls_run_id_generate(time_t t, const char *hex_source, char out[64]);

struct owls_run_info {
    const char *run_id;
    const char *input_bucket; /* NULL: null in MANIFEST.json (CLI) */
    const char *input_key;
    const char *input_etag; /* without quotes; NULL: null */
    enum owls_format format;
    uint64_t input_bytes;
    const char *input_sha256;
    const char *producer;   /* "owls-q4" or "owls-q4d" */
    const char *started_at; /* RFC 3339 UTC */
};

struct owls_artifact {
    const char *name;         /* "Q_keep.csv", ... (static) */
    const char *content_type; /* static */
    char *key;                /* "run=<id>/<name>" (owned by the set) */
    const char *path;         /* the local (temporary until commit) file */
    uint64_t bytes;
    char sha256[OWLS_SHA256_HEX];
};

struct owls_artifacts;

/* Write all five into dir (which must exist). Caller frees with
 * owls_artifacts_free(); nothing is visible under the final names until
 * owls_artifacts_commit(). flags (fsio.h): 0, or OWLS_OUTFILE_BACKGROUND to
 * hash and write the two CSVs on threads of their own. Nothing is fsynced:
 * the daemon's spool is uploaded (S3 holds the durable copy) and a local
 * split is an ordinary output, like cp's. OWLS_EIO with em naming the file. */
enum owls_err owls_artifacts_write(const char *dir, unsigned flags, const struct owls_table *t,
                                   const struct owls_q4_result *r, const struct owls_run_info *info,
                                   struct owls_artifacts **out, struct owls_errmsg *em);

/* The i-th artifact, i < OWLS_ARTIFACT_COUNT; MANIFEST.json is the last. */
const struct owls_artifact *owls_artifacts_get(const struct owls_artifacts *a, int i);

/* Rename every file to its final name, MANIFEST.json last. */
enum owls_err owls_artifacts_commit(struct owls_artifacts *a, struct owls_errmsg *em);

/* Remove uncommitted files and free. */
void owls_artifacts_free(struct owls_artifacts *a);

/* er.json's keep.fraction (E_Q1 + E_Q4) / E, 0 when E == 0. */
double owls_q4_keep_fraction(const struct owls_q4_result *r);

#endif
