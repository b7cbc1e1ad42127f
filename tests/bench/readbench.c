/*
 * readbench - time the phases of `owls-q4 split` in one process, for
 * tests/bench/bench_parquet.sh (never installed).
 *
 *   readbench [-n RUNS] [-o DIR] FILE
 *
 * Each run: load (owls_input_load_file: read the file and hash it), read
 * (owls_input_read_table: parse and type the columns), split (owls_q4_split),
 * write (owls_artifacts_write + commit into DIR, not fsync'ed). "read" in the
 * issue's sense is load + read; "total" is all four, what `owls-q4 split`
 * does minus process start. Prints one line of key=value pairs, seconds as
 * the median (and min) over RUNS (default 5), and the peak RSS of this
 * process in KiB. Without -o the artifacts go to a temporary directory that
 * is removed. Exit 0, or 1 with a message when a phase fails.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "owls/artifacts.h"
#include "owls/input.h"
#include "owls/split.h"
#include "owls/timefmt.h"

enum { PH_LOAD, PH_READ, PH_SPLIT, PH_WRITE, PH_COUNT };

static const char *const s_phase_names[PH_COUNT] = {"load", "read_table", "split", "write"};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int cmp_double(const void *a, const void *b)
{
    const double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Median of t[0..n) (sorts t). */
static double median(double *t, int n)
{
    qsort(t, (size_t)n, sizeof(*t), cmp_double);
    return n % 2 ? t[n / 2] : (t[n / 2 - 1] + t[n / 2]) / 2;
}

static double min_of(const double *t, int n)
{
    double m = t[0];
    for (int i = 1; i < n; i++)
        m = t[i] < m ? t[i] : m;
    return m;
}

/* One run; fills t[PH_*] in seconds. 0, or 1 after printing the error. */
static int run_once(const char *path, const char *dir, double t[PH_COUNT])
{
    struct owls_input in = {0};
    struct owls_table *tab = NULL;
    struct owls_q4_result r = {0};
    struct owls_artifacts *arts = NULL;
    struct owls_errmsg em = {{0}};
    char started[OWLS_RFC3339_LEN];
    enum owls_format fmt;
    enum owls_err rc;
    int status = 1;
    double t0;

    owls_time_now_rfc3339(started);
    t0 = now_s();
    if ((rc = owls_input_load_file(path, &in, &em)) != OWLS_OK)
        goto out;
    t[PH_LOAD] = now_s() - t0;
    fmt = owls_format_detect(OWLS_FORMAT_AUTO, path, in.data, in.len);
    t0 = now_s();
    if ((rc = owls_input_read_table(&in, fmt, path, &tab, &em)) != OWLS_OK)
        goto out;
    t[PH_READ] = now_s() - t0;
    t0 = now_s();
    if ((rc = owls_q4_split(tab, &r, &em)) != OWLS_OK)
        goto out;
    t[PH_SPLIT] = now_s() - t0;
    const struct owls_run_info info = {
        .run_id = "readbench",
        .input_key = path,
        .format = fmt,
        .input_bytes = in.len,
        .input_sha256 = in.sha256,
        .producer = "readbench",
        .started_at = started,
    };
    t0 = now_s();
    if ((rc = owls_artifacts_write(dir, 0, tab, &r, &info, &arts, &em)) != OWLS_OK ||
        (rc = owls_artifacts_commit(arts, &em)) != OWLS_OK)
        goto out;
    t[PH_WRITE] = now_s() - t0;
    status = 0;
out:
    if (status)
        fprintf(stderr, "readbench: %s: %s: %s\n", path, owls_err_code(rc), em.text);
    owls_artifacts_free(arts);
    owls_q4_result_cleanup(&r);
    owls_table_free(tab);
    owls_input_cleanup(&in);
    return status;
}

/* Remove the five artifacts from dir, then dir itself. */
static void remove_outputs(const char *dir)
{
    static const char *const names[] = {"Q_keep.csv", "Q_discard.csv", "Q_study.json", "er.json",
                                        "MANIFEST.json"};
    char path[4096];
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
        unlink(path);
    }
    rmdir(dir);
}

int main(int argc, char **argv)
{
    int runs = 5, opt, status = 1;
    const char *outdir = NULL;
    char tmpl[] = "/tmp/owls-readbench.XXXXXX";
    double *t[PH_COUNT + 1] = {NULL};
    struct rusage ru;

    while ((opt = getopt(argc, argv, "n:o:")) != -1) {
        switch (opt) {
        case 'n':
            runs = (int)strtol(optarg, NULL, 10);
            break;
        case 'o':
            outdir = optarg;
            break;
        default:
            goto usage;
        }
    }
    if (optind != argc - 1 || runs < 1 || runs > 1000)
        goto usage;
    if (outdir == NULL) {
        if (mkdtemp(tmpl) == NULL) {
            fprintf(stderr, "readbench: mkdtemp: %s\n", strerror(errno));
            return 1;
        }
    } else if (mkdir(outdir, 0777) != 0 && errno != EEXIST) {
        fprintf(stderr, "readbench: %s: %s\n", outdir, strerror(errno));
        return 1;
    }
    for (int p = 0; p <= PH_COUNT; p++)
        t[p] = calloc((size_t)runs, sizeof(double));
    for (int i = 0; i < runs; i++) {
        double one[PH_COUNT] = {0};
        if (run_once(argv[optind], outdir ? outdir : tmpl, one) != 0)
            goto out;
        for (int p = 0; p < PH_COUNT; p++) {
            t[p][i] = one[p];
            t[PH_COUNT][i] += one[p];
        }
    }
    /* read = load + read_table, per run */
    double *rd = calloc((size_t)runs, sizeof(double));
    for (int i = 0; i < runs; i++)
        rd[i] = t[PH_LOAD][i] + t[PH_READ][i];
    printf("file=%s runs=%d", argv[optind], runs);
    printf(" read=%.4f read_min=%.4f", median(rd, runs), min_of(rd, runs));
    for (int p = 0; p < PH_COUNT; p++)
        printf(" %s=%.4f", s_phase_names[p], median(t[p], runs));
    printf(" total=%.4f total_min=%.4f", median(t[PH_COUNT], runs), min_of(t[PH_COUNT], runs));
    getrusage(RUSAGE_SELF, &ru);
    printf(" peak_rss_kb=%ld\n", ru.ru_maxrss);
    free(rd);
    status = 0;
out:
    for (int p = 0; p <= PH_COUNT; p++)
        free(t[p]);
    if (outdir == NULL)
        remove_outputs(tmpl);
    return status;
usage:
    fprintf(stderr, "usage: readbench [-n RUNS] [-o DIR] FILE\n");
    return 64;
}
