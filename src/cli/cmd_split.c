/*
 * owls-q4 split INPUT -o DIR [--run-id ID] [--threads N]: the daemon's job,
 * on local files. input -> table -> split -> artifacts (temporary names) ->
 * commit.
 *
 * Threads: the split itself always runs on the calling thread (its results
 * do not depend on threads). With --threads 2 or more (2 is the default on a
 * machine with several CPUs) the SHA-256 digests -- the input's, and the two
 * CSVs' -- are computed on helper threads while the main thread parses and
 * writes; more than 2 gains nothing further. --threads 1 does everything on
 * one thread.
 */
#include <getopt.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "owls/artifacts.h"
#include "owls/cli.h"
#include "owls/fsio.h"
#include "owls/input.h"
#include "owls/split.h"
#include "owls/timefmt.h"

static void *hash_input(void *arg)
{
    owls_input_hash(arg);
    return NULL;
}

int owls_cli_split(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"output", required_argument, NULL, 'o'},
        {"run-id", required_argument, NULL, 'r'},
        {"threads", required_argument, NULL, 't'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *outdir = NULL, *run_id = NULL, *path;
    char gen_id[64], started[OWLS_RFC3339_LEN];
    struct owls_input in = {0};
    struct owls_table *t = NULL;
    struct owls_q4_result r = {0};
    struct owls_artifacts *arts = NULL;
    struct owls_errmsg em = {{0}};
    enum owls_format fmt;
    enum owls_err rc;
    int opt, status, threads = sysconf(_SC_NPROCESSORS_ONLN) > 1 ? 2 : 1;
    pthread_t hasher;
    bool hashing = false;
    char *end;

    owls_time_now_rfc3339(started);
    optind = 1;
    opterr = 0; /* our one-line message, not getopt's */
    while ((opt = getopt_long(argc, argv, ":o:r:t:h", longopts, NULL)) != -1) {
        switch (opt) {
        case 'o':
            outdir = optarg;
            break;
        case 'r':
            run_id = optarg;
            break;
        case 't':
            threads = (int)strtol(optarg, &end, 10);
            if (*optarg == '\0' || *end != '\0' || threads < 1 || threads > 1024)
                return owls_cli_fail(OWLS_EUSAGE,
                                     "split: --threads takes a whole number 1..1024, not \"%.32s\"",
                                     optarg);
            break;
        case 'h':
            puts("usage: owls-q4 split INPUT -o DIR [--run-id ID] [--threads N]");
            return EX_OK;
        default:
            return owls_cli_option_error("split", opt, argv[optind - 1]);
        }
    }
    if (optind != argc - 1)
        return owls_cli_fail(OWLS_EUSAGE, "split: exactly one INPUT file expected");
    if (outdir == NULL)
        return owls_cli_fail(OWLS_EUSAGE, "split: -o DIR is required");
    path = argv[optind];
    if (run_id != NULL && (status = owls_cli_check_run_id(run_id)) != EX_OK)
        return status;

    rc = owls_input_map_file(path, &in, &em);
    if (rc != OWLS_OK) {
        status =
            owls_cli_fail(rc == OWLS_ENOTFOUND ? OWLS_EINPUT_NOT_FOUND : OWLS_EIO, "%s", em.text);
        if (rc != OWLS_ENOTFOUND)
            status = EX_NOINPUT; /* unreadable input, SPEC: 66 */
        goto out;
    }
    if (threads > 1 && pthread_create(&hasher, NULL, hash_input, &in) == 0)
        hashing = true;
    else
        owls_input_hash(&in);
    fmt = owls_format_detect(OWLS_FORMAT_AUTO, path, in.data, in.len);
    rc = owls_input_read_table(&in, fmt, path, &t, &em);
    if (rc == OWLS_OK)
        rc = owls_q4_split(t, &r, &em);
    if (hashing)
        pthread_join(hasher, NULL);
    hashing = false;
    if (rc != OWLS_OK) {
        status = owls_cli_fail(rc, "%s", em.text);
        goto out;
    }
    if (run_id == NULL) {
        /* Like the daemon's generated ids, with the input's digest for the suffix. */
        owls_run_id_generate(time(NULL), in.sha256, gen_id);
        run_id = gen_id;
    }
    owls_table_drop_values(t); /* the CSV writer copies input bytes: memory back now */
    if (owls_mkdirs(outdir, &em) != OWLS_OK) {
        owls_cli_fail(OWLS_EIO, "%s", em.text);
        status = EX_CANTCREAT;
        goto out;
    }
    const struct owls_run_info info = {
        .run_id = run_id,
        .input_key = path,
        .format = fmt,
        .input_bytes = in.len,
        .input_sha256 = in.sha256,
        .producer = "owls-q4",
        .started_at = started,
    };
    if ((rc = owls_artifacts_write(outdir, threads > 1 ? OWLS_OUTFILE_BACKGROUND : 0, t, &r, &info,
                                   &arts, &em)) != OWLS_OK ||
        (rc = owls_artifacts_commit(arts, &em)) != OWLS_OK) {
        status = owls_cli_fail(rc, "%s", em.text);
        if (rc == OWLS_EIO)
            status = EX_CANTCREAT;
        goto out;
    }
    printf("run=%s: %zu rows kept, %zu discarded, keep energy fraction %.6f -> %s\n", run_id,
           r.rows[OWLS_Q1] + r.rows[OWLS_Q4], r.rows[OWLS_Q2] + r.rows[OWLS_Q3],
           owls_q4_keep_fraction(&r), outdir);
    status = EX_OK;
out:
    owls_artifacts_free(arts);
    owls_q4_result_cleanup(&r);
    owls_table_free(t);
    owls_input_cleanup(&in);
    return status;
}
