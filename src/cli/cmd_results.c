/*
 * DESIGN: owls-q4 results RUN_ID -o DIR [--wait SECONDS] [-c CONF] [-v] --
 * the consumer side of SPEC sections 1, 4 and 6.
 *
 *   args -> configuration + AWS clients -> look for run=<id>/MANIFEST.json,
 *   else run=<id>/ERROR.json, in the artifacts bucket; until one is there or
 *   --wait runs out, look again after 1 s, 2 s, 4 s, then every 5 s ->
 *     MANIFEST: parse and check it (schema, run id, artifact names, keys,
 *       sizes, digests) -> download every artifact into DIR under a temporary
 *       name (".<name>.XXXXXX", fsio.h), hashing on the way -> every size and
 *       sha256 must match -> remove an older DIR/MANIFEST.json -> rename the
 *       artifacts -> MANIFEST.json (the bytes S3 gave) last -> fsync DIR.
 *       Any mismatch: the temporary files are removed and nothing in DIR
 *       changes (DIR itself is removed again if this command created it).
 *     ERROR.json (and still no MANIFEST.json: the MANIFEST wins, SPEC 6):
 *       "owls-q4: <code>: <message>" from the record, exit 65.
 *
 * Exit statuses beyond SPEC 1's list, chosen here: an artifact that does not
 * match MANIFEST.json (or a MANIFEST.json that is not one) is bad data, 65
 * with code "aws"; nothing there yet when --wait runs out is 75
 * (EX_TEMPFAIL: try again later), so that scripts can tell "not finished"
 * from "AWS failed" (69).
 *
 * The artifacts' local names come from MANIFEST.json, i.e. from the bucket:
 * they are checked to be plain file names (no '/', no leading '.', no
 * "MANIFEST.json") before anything is written.
 *
 * One command per process; nothing here is thread-safe or needs to be.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "owls/artifacts.h"
#include "owls/cli.h"
#include "owls/fsio.h"
#include "owls/hash.h"
#include "owls/log.h"
#include "owls/timefmt.h"
#include "owls/util.h"

#define RESULTS_USAGE     "usage: owls-q4 results RUN_ID -o DIR [--wait SECONDS] [-c CONF] [-v]"
#define RESULTS_WAIT_MAX  604800L       /* a week */
#define RESULTS_DOC_MAX   (1024 * 1024) /* MANIFEST.json, ERROR.json */
#define RESULTS_MAX_ITEMS 64            /* artifacts listed in a MANIFEST */
#define RESULTS_FIRST_MS  1000L         /* first pause between looks */
#define RESULTS_MAX_MS    5000L         /* longest pause */
#define MANIFEST_SCHEMA   "owls-q4.manifest/1"

/* One artifact as MANIFEST.json lists it; strings owned. */
struct results_item {
    char *name;
    char *key;
    uint64_t bytes;
    char sha256[OWLS_SHA256_HEX];
};

struct results_manifest {
    struct results_item *items;
    size_t n;
};

enum results_state {
    RESULTS_NOTHING = 0, /* neither document (yet) */
    RESULTS_MANIFEST,
    RESULTS_ERROR,
};

/* The pause after prev ms (0: the first): 1 s, 2 s, 4 s, 5 s, 5 s, ... */
static long results_next_delay_ms(long prev)
{
    if (prev <= 0)
        return RESULTS_FIRST_MS;
    return OWLS_MIN(prev * 2, RESULTS_MAX_MS);
}

/* A local file name taken from the bucket: 1..128 of [A-Za-z0-9._-], not
 * starting with '.', so never "..", never a path, never a temporary name. */
static bool results_name_ok(const char *s)
{
    size_t n = strlen(s);

    if (n == 0 || n > 128 || s[0] == '.' || s[0] == '-')
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '.' || c == '_' || c == '-'))
            return false;
    }
    return strcmp(s, "MANIFEST.json") != 0;
}

static bool results_sha256_ok(const char *s)
{
    if (strlen(s) != OWLS_SHA256_HEX - 1)
        return false;
    for (; *s; s++)
        if (!((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'f')))
            return false;
    return true;
}

static void results_manifest_cleanup(struct results_manifest *m)
{
    for (size_t i = 0; i < m->n; i++) {
        free(m->items[i].name);
        free(m->items[i].key);
    }
    free(m->items);
    memset(m, 0, sizeof(*m));
}

/*
 * Parse MANIFEST.json (data[0..len)) of run_id into m (caller cleans up with
 * results_manifest_cleanup(), also on failure). OWLS_EAWS with em when it is
 * not a manifest of that run whose artifacts can be fetched safely.
 */
static enum owls_err results_manifest_parse(const char *data, size_t len, const char *run_id,
                                            struct results_manifest *m, struct owls_errmsg *em)
{
    enum owls_err rc = OWLS_EAWS;
    json_error_t jerr;
    json_t *root = NULL, *arts, *v;
    const char *s;
    char *prefix = owls_xasprintf("run=%s/", run_id);
    size_t i, j;

    memset(m, 0, sizeof(*m));
    root = json_loadb(data, len, JSON_REJECT_DUPLICATES, &jerr);
    if (root == NULL) {
        owls_errmsg_set(em, rc, "MANIFEST.json: line %d column %d: %s", jerr.line, jerr.column,
                        jerr.text);
        goto out;
    }
    if (!json_is_object(root)) {
        owls_errmsg_set(em, rc, "MANIFEST.json: not a JSON object");
        goto out;
    }
    s = json_string_value(json_object_get(root, "schema"));
    if (s == NULL || strcmp(s, MANIFEST_SCHEMA) != 0) {
        owls_errmsg_set(em, rc, "MANIFEST.json: schema is \"%.64s\", expected \"%s\"",
                        s ? s : "(none)", MANIFEST_SCHEMA);
        goto out;
    }
    s = json_string_value(json_object_get(root, "run_id"));
    if (s == NULL || strcmp(s, run_id) != 0) {
        owls_errmsg_set(em, rc, "MANIFEST.json: run_id is \"%.140s\", expected \"%s\"",
                        s ? s : "(none)", run_id);
        goto out;
    }
    arts = json_object_get(root, "artifacts");
    if (!json_is_array(arts) || json_array_size(arts) == 0 ||
        json_array_size(arts) > RESULTS_MAX_ITEMS) {
        owls_errmsg_set(em, rc, "MANIFEST.json: artifacts must be an array of 1..%d objects",
                        RESULTS_MAX_ITEMS);
        goto out;
    }
    m->items = owls_xcalloc(json_array_size(arts), sizeof(*m->items));
    json_array_foreach(arts, i, v)
    {
        struct results_item *it = &m->items[i];
        const char *name = json_string_value(json_object_get(v, "name"));
        const char *key = json_string_value(json_object_get(v, "key"));
        const char *sha = json_string_value(json_object_get(v, "sha256"));
        json_t *bytes = json_object_get(v, "bytes");

        if (name == NULL || !results_name_ok(name)) {
            owls_errmsg_set(
                em, rc, "MANIFEST.json: artifacts[%zu].name \"%.140s\" is not a plain file name", i,
                name ? name : "(none)");
            goto out;
        }
        if (key == NULL || strncmp(key, prefix, strlen(prefix)) != 0 ||
            strlen(key) == strlen(prefix)) {
            owls_errmsg_set(em, rc, "MANIFEST.json: %s: key \"%.200s\" is not under %s", name,
                            key ? key : "(none)", prefix);
            goto out;
        }
        if (!json_is_integer(bytes) || json_integer_value(bytes) < 0) {
            owls_errmsg_set(em, rc, "MANIFEST.json: %s: bytes must be an integer >= 0", name);
            goto out;
        }
        if (sha == NULL || !results_sha256_ok(sha)) {
            owls_errmsg_set(em, rc, "MANIFEST.json: %s: sha256 must be 64 lowercase hex digits",
                            name);
            goto out;
        }
        for (j = 0; j < i; j++)
            if (strcmp(m->items[j].name, name) == 0) {
                owls_errmsg_set(em, rc, "MANIFEST.json: %s is listed twice", name);
                goto out;
            }
        it->name = owls_xstrdup(name);
        it->key = owls_xstrdup(key);
        it->bytes = (uint64_t)json_integer_value(bytes);
        memcpy(it->sha256, sha, sizeof(it->sha256));
        m->n = i + 1;
    }
    rc = OWLS_OK;
out:
    json_decref(root);
    free(prefix);
    return rc;
}

/* Copy s into out (size cap) for one stderr line: control characters
 * become spaces. */
static void results_one_line(const char *s, char *out, size_t cap)
{
    size_t i;

    for (i = 0; s[i] != '\0' && i + 1 < cap; i++)
        out[i] = ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) ? ' ' : s[i];
    out[i] = '\0';
}

/*
 * The code and message of an ERROR.json record (SPEC 6). The code must look
 * like one ([a-z0-9_], 1..63); the message is made one line. OWLS_EAWS with
 * em when data is not such a record.
 */
static enum owls_err results_error_parse(const char *data, size_t len, char code[64], char *msg,
                                         size_t msgcap, struct owls_errmsg *em)
{
    enum owls_err rc = OWLS_EAWS;
    json_error_t jerr;
    json_t *root = json_loadb(data, len, 0, &jerr);
    const char *c, *m;

    if (root == NULL) {
        owls_errmsg_set(em, rc, "ERROR.json: line %d column %d: %s", jerr.line, jerr.column,
                        jerr.text);
        goto out;
    }
    c = json_string_value(json_object_get(root, "code"));
    m = json_string_value(json_object_get(root, "message"));
    if (c == NULL || *c == '\0' || strlen(c) > 63 ||
        strspn(c, "abcdefghijklmnopqrstuvwxyz0123456789_") != strlen(c)) {
        owls_errmsg_set(em, rc, "ERROR.json: no usable \"code\"");
        goto out;
    }
    snprintf(code, 64, "%s", c);
    results_one_line(m != NULL ? m : "(no message)", msg, msgcap);
    rc = OWLS_OK;
out:
    json_decref(root);
    return rc;
}

/* GET bucket/key into *data (caller frees). OWLS_ENOTFOUND only for a
 * missing key; a missing bucket is OWLS_EAWS (it will not appear by waiting). */
static enum owls_err results_get_doc(struct owls_cli_aws *aws, const char *key, char **data,
                                     size_t *len, struct owls_errmsg *em)
{
    struct owls_awserr ae = {0};
    const struct owls_s3_get_opts o = {.max_bytes = RESULTS_DOC_MAX, .error = &ae};
    enum owls_err rc;

    rc = owls_s3_get_buf(aws->svc.s3, aws->cfg->artifacts_bucket, key, &o, data, len, NULL, em);
    if (rc == OWLS_ENOTFOUND && strcmp(ae.code, "NoSuchBucket") == 0)
        rc = OWLS_EAWS;
    return rc;
}

/*
 * Look once: MANIFEST.json, else ERROR.json (then MANIFEST.json again, in
 * case the run was completed after it failed: the MANIFEST wins). *state
 * and, unless RESULTS_NOTHING, *data and *len (caller frees) say what is there.
 */
static enum owls_err results_look(struct owls_cli_aws *aws, const char *run_id,
                                  enum results_state *state, char **data, size_t *len,
                                  struct owls_errmsg *em)
{
    char *mkey = owls_xasprintf("run=%s/MANIFEST.json", run_id);
    char *ekey = owls_xasprintf("run=%s/ERROR.json", run_id);
    char *edata = NULL;
    size_t elen = 0;
    enum owls_err rc;

    *state = RESULTS_NOTHING;
    *data = NULL;
    *len = 0;
    rc = results_get_doc(aws, mkey, data, len, em);
    if (rc == OWLS_OK)
        *state = RESULTS_MANIFEST;
    if (rc != OWLS_ENOTFOUND)
        goto out;
    rc = results_get_doc(aws, ekey, &edata, &elen, em);
    if (rc == OWLS_ENOTFOUND) {
        rc = OWLS_OK;
        goto out;
    }
    if (rc != OWLS_OK)
        goto out;
    rc = results_get_doc(aws, mkey, data, len, em);
    if (rc == OWLS_OK) {
        *state = RESULTS_MANIFEST;
    } else if (rc == OWLS_ENOTFOUND) {
        *state = RESULTS_ERROR;
        *data = edata;
        *len = elen;
        edata = NULL;
        rc = OWLS_OK;
    }
out:
    free(edata);
    free(ekey);
    free(mkey);
    return rc;
}

struct results_sink {
    struct owls_outfile *f;
    int err; /* errno of a failed write */
};

static enum owls_err results_sink_fn(void *arg, const void *p, size_t n)
{
    struct results_sink *s = arg;
    enum owls_err rc = owls_outfile_write(s->f, p, n);

    if (rc != OWLS_OK)
        s->err = errno;
    return rc;
}

/*
 * Download every artifact of m into dir under temporary names, verify, then
 * commit (MANIFEST.json, the bytes mdata[0..mlen), last). Returns the exit
 * status, having printed the error line on failure; on failure no file of
 * this run is left under its final name.
 */
static int results_fetch(struct owls_cli_aws *aws, const char *run_id, const char *dir,
                         const struct results_manifest *m, const char *mdata, size_t mlen)
{
    struct owls_outfile **f = owls_xcalloc(m->n + 1, sizeof(*f));
    struct owls_errmsg em = {{0}};
    const char *bucket = aws->cfg->artifacts_bucket;
    char *old = owls_xasprintf("%s/MANIFEST.json", dir);
    uint64_t total = 0;
    enum owls_err rc;
    size_t i;
    int status = EX_SOFTWARE;

    for (i = 0; i < m->n; i++) {
        const struct results_item *it = &m->items[i];
        struct results_sink sink = {0};
        /* a larger object fails as soon as its Content-Length says so */
        struct owls_s3_get_opts o = {.max_bytes = it->bytes};

        if (owls_outfile_open(dir, it->name, OWLS_OUTFILE_DURABLE, &f[i], &em) != OWLS_OK) {
            owls_cli_fail(OWLS_EIO, "%s", em.text);
            status = EX_CANTCREAT;
            goto out;
        }
        sink.f = f[i];
        rc = owls_s3_get(aws->svc.s3, bucket, it->key, it->bytes > 0 ? &o : NULL, results_sink_fn,
                         &sink, NULL, &em);
        if (rc == OWLS_OK)
            rc = owls_outfile_close(f[i], &em);
        else if (sink.err != 0)
            owls_errmsg_set(&em, OWLS_EIO, "%s: %s", owls_outfile_tmp_path(f[i]),
                            strerror(sink.err));
        if (rc == OWLS_EINPUT_TOO_LARGE) {
            owls_cli_fail(OWLS_EAWS,
                          "s3://%s/%s is larger than the %" PRIu64
                          " bytes MANIFEST.json lists; nothing written to %s",
                          bucket, it->key, it->bytes, dir);
            status = EX_DATAERR;
            goto out;
        }
        if (rc == OWLS_ENOTFOUND) {
            owls_cli_fail(OWLS_EAWS,
                          "s3://%s/%s is listed in MANIFEST.json but missing (%s); "
                          "nothing written to %s",
                          bucket, it->key, em.text, dir);
            status = EX_DATAERR;
            goto out;
        }
        if (rc != OWLS_OK) {
            status = owls_cli_fail(rc, "%s", em.text);
            goto out;
        }
        if (owls_outfile_bytes(f[i]) != it->bytes ||
            strcmp(owls_outfile_sha256(f[i]), it->sha256) != 0) {
            owls_cli_fail(OWLS_EAWS,
                          "s3://%s/%s does not match MANIFEST.json: %" PRIu64
                          " bytes, sha256 %s; expected %" PRIu64
                          " bytes, sha256 %s; nothing written to %s",
                          bucket, it->key, owls_outfile_bytes(f[i]), owls_outfile_sha256(f[i]),
                          it->bytes, it->sha256, dir);
            status = EX_DATAERR;
            goto out;
        }
        total += it->bytes;
        log_info("results: %s: %" PRIu64 " bytes, sha256 ok", it->key, it->bytes);
    }
    if (owls_outfile_open(dir, "MANIFEST.json", OWLS_OUTFILE_DURABLE, &f[m->n], &em) != OWLS_OK ||
        owls_outfile_write(f[m->n], mdata, mlen) != OWLS_OK ||
        owls_outfile_close(f[m->n], &em) != OWLS_OK) {
        status = owls_cli_fail(OWLS_EIO, "%s", em.text[0] ? em.text : "writing MANIFEST.json");
        goto out;
    }
    /* From here on the directory changes: first make it look incomplete. */
    if (unlink(old) != 0 && errno != ENOENT) {
        status = owls_cli_fail(OWLS_EIO, "%s: %s", old, strerror(errno));
        goto out;
    }
    for (i = 0; i <= m->n; i++)
        if (owls_outfile_commit(f[i], &em) != OWLS_OK) {
            status = owls_cli_fail(OWLS_EIO, "%s", em.text);
            goto out;
        }
    if (owls_fsync_dir(dir) != OWLS_OK) {
        status = owls_cli_fail(OWLS_EIO, "%s: fsync: %s", dir, strerror(errno));
        goto out;
    }
    printf("run=%s: MANIFEST.json and %zu artifacts (%" PRIu64
           " bytes) verified (size, sha256) -> %s\n",
           run_id, m->n, total, dir);
    status = fflush(stdout) == 0 ? EX_OK : EX_IOERR;
out:
    for (i = 0; i <= m->n; i++)
        owls_outfile_free(f[i]); /* removes what was not committed */
    free(f);
    free(old);
    return status;
}

int owls_cli_results(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"output", required_argument, NULL, 'o'}, {"wait", required_argument, NULL, 'w'},
        {"config", required_argument, NULL, 'c'}, {"verbose", no_argument, NULL, 'v'},
        {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0},
    };
    const char *run_id, *dir = NULL, *conf = NULL;
    struct owls_cli_aws aws = {0};
    struct owls_errmsg em = {{0}};
    struct results_manifest m = {0};
    enum results_state state = RESULTS_NOTHING;
    char *data = NULL, code[64], msg[2048];
    size_t len = 0;
    long wait_s = 0, delay = 0, now, deadline;
    bool verbose = false, made_dir = false;
    struct stat st;
    enum owls_err rc;
    int opt, status = EX_SOFTWARE;

    optind = 1;
    opterr = 0; /* our one-line message, not getopt's */
    while ((opt = getopt_long(argc, argv, ":o:w:c:vh", longopts, NULL)) != -1) {
        switch (opt) {
        case 'o':
            dir = optarg;
            break;
        case 'w':
            if (!owls_cli_parse_seconds(optarg, RESULTS_WAIT_MAX, &wait_s))
                return owls_cli_fail(OWLS_EUSAGE,
                                     "results: --wait wants whole seconds 0..%ld, got \"%.40s\"",
                                     RESULTS_WAIT_MAX, optarg);
            break;
        case 'c':
            conf = optarg;
            break;
        case 'v':
            verbose = true;
            break;
        case 'h':
            puts(RESULTS_USAGE);
            return EX_OK;
        default:
            return owls_cli_option_error("results", opt, argv[optind - 1]);
        }
    }
    if (optind != argc - 1)
        return owls_cli_fail(OWLS_EUSAGE, "results: exactly one RUN_ID expected");
    if (dir == NULL || *dir == '\0')
        return owls_cli_fail(OWLS_EUSAGE, "results: -o DIR is required");
    run_id = argv[optind];
    if ((status = owls_cli_check_run_id(run_id)) != EX_OK)
        return status;

    if ((status = owls_cli_aws_open(conf, verbose, &aws)) != EX_OK)
        goto out;
    status = EX_SOFTWARE;

    deadline = (long)owls_time_mono_ms() + wait_s * 1000;
    for (;;) {
        rc = results_look(&aws, run_id, &state, &data, &len, &em);
        if (rc == OWLS_OK && state != RESULTS_NOTHING)
            break;
        if (rc != OWLS_OK && rc != OWLS_ETRANSIENT) {
            status = owls_cli_fail(rc, "%s", em.text);
            goto out;
        }
        now = (long)owls_time_mono_ms();
        if (now >= deadline) {
            if (rc != OWLS_OK) { /* the last look failed: that is the news */
                status = owls_cli_fail(rc, "%s", em.text);
                goto out;
            }
            if (wait_s > 0)
                owls_cli_fail(OWLS_ETIMEOUT,
                              "run=%s is not finished: no MANIFEST.json or ERROR.json in "
                              "s3://%s/run=%s/ after waiting %ld s",
                              run_id, aws.cfg->artifacts_bucket, run_id, wait_s);
            else
                owls_cli_fail(OWLS_ETIMEOUT,
                              "run=%s is not finished: no MANIFEST.json or ERROR.json in "
                              "s3://%s/run=%s/ yet (--wait SECONDS waits for them)",
                              run_id, aws.cfg->artifacts_bucket, run_id);
            status = EX_TEMPFAIL; /* not an AWS failure (69): try again later */
            goto out;
        }
        delay = results_next_delay_ms(delay);
        long pause = OWLS_MIN(delay, deadline - now);
        log_info("results: run=%s: %s; looking again in %ld ms", run_id,
                 rc == OWLS_OK ? "not there yet" : em.text, pause);
        struct timespec ts = {.tv_sec = pause / 1000, .tv_nsec = (pause % 1000) * 1000000L};
        while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
            ;
    }

    if (state == RESULTS_ERROR) {
        /* Failed either way: 65, whether or not the record can be read. */
        if (results_error_parse(data, len, code, msg, sizeof(msg), &em) != OWLS_OK)
            owls_cli_fail(OWLS_EAWS, "run=%s failed, but its %s", run_id, em.text);
        else
            fprintf(stderr, "owls-q4: %s: %s\n", code, msg);
        status = EX_DATAERR;
        goto out;
    }
    if (results_manifest_parse(data, len, run_id, &m, &em) != OWLS_OK) {
        owls_cli_fail(OWLS_EAWS, "s3://%s/run=%s/%s", aws.cfg->artifacts_bucket, run_id, em.text);
        status = EX_DATAERR;
        goto out;
    }
    made_dir = stat(dir, &st) != 0;
    if (owls_mkdirs(dir, &em) != OWLS_OK) {
        owls_cli_fail(OWLS_EIO, "%s", em.text);
        status = EX_CANTCREAT;
        goto out;
    }
    status = results_fetch(&aws, run_id, dir, &m, data, len);
    if (status != EX_OK && made_dir)
        rmdir(dir); /* only if empty: never more than this command made */
out:
    results_manifest_cleanup(&m);
    free(data);
    owls_cli_aws_close(&aws);
    return status;
}
