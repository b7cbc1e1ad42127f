/*
 * DESIGN: owls-q4 submit FILE [--run-id ID] [-c CONF] [-v] -- the producer
 * side of SPEC sections 1 and 2.
 *
 *   args -> FILE (must be a readable regular file) -> configuration + AWS
 *   clients -> run id (given, or generated) -> key run=<id>/input/<basename>
 *   -> PutObject into the archive bucket (multipart above 8 MiB, inside the
 *   S3 client) -> SendMessage of the job JSON to the work queue -> the run id
 *   on stdout.
 *
 * The upload comes first, so that a job never names an object that is not
 * there yet. When SendMessage fails after the upload, the error says so and
 * how to finish (submit again with the same --run-id: the same key is
 * overwritten with the same bytes).
 *
 * Generated run ids are the UTC "YYYY-MM-DD-HHMMSS-" of the submission plus
 * the first 8 hex digits of FILE's sha256 -- the same rule as `owls-q4
 * split`, so the suffix identifies the content and a local split and a
 * submitted job of the same file in the same second get the same id.
 *
 * Nothing here is thread-safe or needs to be: one command per process.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include "owls/artifacts.h"
#include "owls/cli.h"
#include "owls/hash.h"
#include "owls/jobmsg.h"
#include "owls/log.h"
#include "owls/timefmt.h"
#include "owls/util.h"

#define SUBMIT_USAGE "usage: owls-q4 submit FILE [--run-id ID] [-c CONF] [-v]"

/* Content-Type of the uploaded input, from its name's extension (any case). */
static const char *submit_content_type(const char *name)
{
    size_t n = strlen(name);

    if (n >= 4 && strcasecmp(name + n - 4, ".csv") == 0)
        return "text/csv";
    if (n >= 8 && strcasecmp(name + n - 8, ".parquet") == 0)
        return "application/vnd.apache.parquet";
    return "application/octet-stream";
}

/* The last path component of path (borrowed from path). */
static const char *submit_basename(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash != NULL ? slash + 1 : path;
}

/* "run=<id>/input/<basename>" into *key (caller frees). OWLS_EBAD_MESSAGE
 * when the daemon would refuse the key (SPEC 2: at most 1024 bytes of
 * valid UTF-8) or the name is empty. */
static enum owls_err submit_key(const char *run_id, const char *path, char **key,
                                struct owls_errmsg *em)
{
    const char *base = submit_basename(path);
    enum owls_err rc = OWLS_EBAD_MESSAGE;
    char *k = NULL;

    *key = NULL;
    if (*base == '\0') {
        owls_errmsg_set(em, rc, "%.300s: no file name to use in the input key", path);
        goto out;
    }
    if (!owls_utf8_valid(base, strlen(base))) {
        owls_errmsg_set(em, rc, "%.300s: the file name is not valid UTF-8 (S3 keys must be)", path);
        goto out;
    }
    k = owls_xasprintf("run=%s/input/%s", run_id, base);
    if (strlen(k) > OWLS_KEY_MAX) {
        /* the reason first: a long name would push it out of em */
        owls_errmsg_set(em, rc, "the input key would be %zu bytes, more than S3's %d: %.300s",
                        strlen(k), OWLS_KEY_MAX, path);
        goto out;
    }
    *key = k;
    k = NULL;
    rc = OWLS_OK;
out:
    free(k);
    return rc;
}

/* The SPEC 2 job JSON, {"input_key": "...", "run_id": "..."} (keys in that
 * order, jansson's ", " and ": " separators); caller frees. Both strings
 * must be valid UTF-8 (submit_key() and owls_run_id_valid() see to it). */
static char *submit_job_json(const char *key, const char *run_id)
{
    json_t *o = json_object();
    char *s = NULL;

    if (o == NULL || json_object_set_new(o, "input_key", json_string(key)) != 0 ||
        json_object_set_new(o, "run_id", json_string(run_id)) != 0 ||
        (s = json_dumps(o, JSON_PRESERVE_ORDER)) == NULL) {
        fprintf(stderr, "owls-q4: out of memory building the job message\n");
        abort();
    }
    json_decref(o);
    return s;
}

/* sha256 of len bytes of fd from offset 0 (pread: the position is unused). */
static enum owls_err submit_file_sha256(int fd, uint64_t len, const char *path,
                                        char hex[OWLS_SHA256_HEX], struct owls_errmsg *em)
{
    enum owls_err rc = OWLS_EIO;
    struct owls_sha256 *c = owls_sha256_new();
    unsigned char md[OWLS_SHA256_LEN];
    size_t cap = 1 << 20;
    char *buf = owls_xmalloc(cap);
    uint64_t off = 0;

    while (off < len) {
        ssize_t n = pread(fd, buf, (size_t)OWLS_MIN((uint64_t)cap, len - off), (off_t)off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            owls_errmsg_set(em, rc, "%s: %s", path,
                            n < 0 ? strerror(errno) : "file shrank while being read");
            goto out;
        }
        owls_sha256_update(c, buf, (size_t)n);
        off += (uint64_t)n;
    }
    owls_sha256_final(c, md);
    owls_hex(md, sizeof(md), hex);
    rc = OWLS_OK;
out:
    free(buf);
    owls_sha256_free(c);
    return rc;
}

int owls_cli_submit(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"run-id", required_argument, NULL, 'r'},
        {"config", required_argument, NULL, 'c'},
        {"verbose", no_argument, NULL, 'v'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *path, *run_id = NULL, *conf = NULL;
    char gen_id[64], sha[OWLS_SHA256_HEX], msg_id[OWLS_SQS_ID_MAX] = "";
    char *key = NULL, *body = NULL;
    struct owls_cli_aws aws = {0};
    struct owls_errmsg em = {{0}};
    struct owls_s3_put_result put = {.parts = 0};
    struct stat st;
    bool verbose = false;
    enum owls_err rc;
    int opt, status = EX_SOFTWARE, fd = -1;

    optind = 1;
    opterr = 0; /* our one-line message, not getopt's */
    while ((opt = getopt_long(argc, argv, ":r:c:vh", longopts, NULL)) != -1) {
        switch (opt) {
        case 'r':
            run_id = optarg;
            break;
        case 'c':
            conf = optarg;
            break;
        case 'v':
            verbose = true;
            break;
        case 'h':
            puts(SUBMIT_USAGE);
            return EX_OK;
        default:
            return owls_cli_option_error("submit", opt, argv[optind - 1]);
        }
    }
    if (optind != argc - 1)
        return owls_cli_fail(OWLS_EUSAGE, "submit: exactly one FILE expected");
    path = argv[optind];
    if (run_id != NULL && (status = owls_cli_check_run_id(run_id)) != EX_OK)
        return status;

    /* FILE first: a typo in its name should not wait for the configuration. */
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        int e = errno;
        owls_cli_fail(e == ENOENT ? OWLS_EINPUT_NOT_FOUND : OWLS_EIO, "%s: %s", path, strerror(e));
        status = EX_NOINPUT; /* SPEC 1: input missing or unreadable */
        goto out;
    }
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        owls_cli_fail(OWLS_EIO, "%s: not a regular file", path);
        status = EX_NOINPUT;
        goto out;
    }

    if ((status = owls_cli_aws_open(conf, verbose, &aws)) != EX_OK)
        goto out;
    status = EX_SOFTWARE;
    if (aws.cfg->max_input_bytes > 0 && (uint64_t)st.st_size > aws.cfg->max_input_bytes) {
        /* the daemon would only fail the job with the same code */
        status = owls_cli_fail(OWLS_EINPUT_TOO_LARGE,
                               "%s: %" PRIu64
                               " bytes, more than [worker] max_input_bytes = %" PRIu64 " of %s",
                               path, (uint64_t)st.st_size, aws.cfg->max_input_bytes, aws.cfg->path);
        goto out;
    }
    if (run_id == NULL) {
        if (submit_file_sha256(fd, (uint64_t)st.st_size, path, sha, &em) != OWLS_OK) {
            owls_cli_fail(OWLS_EIO, "%s", em.text);
            status = EX_NOINPUT;
            goto out;
        }
        owls_run_id_generate(time(NULL), sha, gen_id);
        run_id = gen_id;
    }
    if ((rc = submit_key(run_id, path, &key, &em)) != OWLS_OK) {
        status = owls_cli_fail(rc, "%s", em.text);
        goto out;
    }

    /* the file's digest, when the run id needed it, is not computed twice */
    const struct owls_s3_put_opts po = {.content_type = submit_content_type(path),
                                        .sha256_hex = run_id == gen_id ? sha : NULL};
    rc = owls_s3_put_fd(aws.svc.s3, aws.cfg->archive_bucket, key, fd, 0, (uint64_t)st.st_size, &po,
                        &put, &em);
    if (rc != OWLS_OK) {
        status = owls_cli_fail(rc, "uploading %s to s3://%s/%s: %s", path, aws.cfg->archive_bucket,
                               key, em.text);
        goto out;
    }
    log_info("submit: s3://%s/%s: %" PRIu64 " bytes, %s, etag %s (%u parts)",
             aws.cfg->archive_bucket, key, (uint64_t)st.st_size, po.content_type, put.etag,
             put.parts);

    body = submit_job_json(key, run_id);
    rc = owls_sqs_send(aws.svc.sqs, aws.cfg->work_queue_url, body, strlen(body), msg_id, &em);
    if (rc != OWLS_OK) {
        status = owls_cli_fail(rc,
                               "s3://%s/%s was uploaded but the job message was not sent (%s); "
                               "to retry: owls-q4 submit %s --run-id %s",
                               aws.cfg->archive_bucket, key, em.text, path, run_id);
        goto out;
    }
    log_info("submit: job message %s sent to %s", msg_id, aws.cfg->work_queue_url);
    printf("%s\n", run_id);
    status = fflush(stdout) == 0 ? EX_OK : EX_IOERR;
out:
    free(body);
    free(key);
    owls_cli_aws_close(&aws);
    if (fd >= 0)
        close(fd);
    return status;
}
