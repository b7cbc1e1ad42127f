/*
 * awsprobe.c - a small command-line driver of the AWS layer (s3.h, sqs.h)
 * for tests/integration/test_aws_client.sh. Test tool only: not installed.
 *
 *   awsprobe [--region R] [--endpoint URL] [--sqs-endpoint URL]
 *            [--addressing auto|path|virtual] COMMAND ARGS...
 *
 *   s3-put BUCKET KEY FILE [CONTENT-TYPE]   -> "etag=<etag> parts=<n>"
 *   s3-get BUCKET KEY OUTFILE [FIRST-LAST] [MAX]
 *                                           -> "size=<n> length=<n> etag=<etag>"
 *   s3-head BUCKET KEY                      -> "size=<n> etag=<etag>"
 *   s3-create-bucket BUCKET                 (control plane: the daemon never does it)
 *   sqs-send URL BODY                       -> the MessageId
 *   sqs-receive URL WAIT MAX [VISIBILITY]   -> one JSON object per message, then
 *                                              "elapsed_ms=<n>" on stderr
 *   sqs-delete URL HANDLE
 *   sqs-delete-batch URL HANDLE...          -> "ok" or "fail <code>" per entry
 *   sqs-chvis URL HANDLE SECONDS
 *   sqs-chvis-batch URL SECONDS HANDLE...   -> "ok" or "fail <code>" per entry
 *   sqs-attrs URL NAME...                   -> "name=value" lines
 *
 * Credentials come from the standard chain (creds.h). Errors: one line
 * "awsprobe: <code>: <message>" on stderr, exit status from sysexits.h.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "owls/creds.h"
#include "owls/fsio.h"
#include "owls/http.h"
#include "owls/log.h"
#include "owls/private/s3.h"
#include "owls/s3.h"
#include "owls/sqs.h"
#include "owls/timefmt.h"

static int usage(void)
{
    fprintf(stderr, "usage: awsprobe [--region R] [--endpoint URL] [--sqs-endpoint URL] "
                    "[--addressing auto|path|virtual] COMMAND ARGS...\n");
    return 64;
}

static enum owls_err write_fn(void *arg, const void *p, size_t n)
{
    return owls_write_all(*(int *)arg, p, n);
}

static enum owls_err cmd_s3(struct owls_s3 *s3, const char *cmd, int argc, char **argv,
                            struct owls_errmsg *em)
{
    enum owls_err rc = OWLS_EUSAGE;

    if (strcmp(cmd, "s3-put") == 0 && (argc == 3 || argc == 4)) {
        struct owls_s3_put_opts o = {.content_type = argc == 4 ? argv[3] : NULL};
        struct owls_s3_put_result res;
        struct stat st;
        int fd = open(argv[2], O_RDONLY);
        if (fd < 0 || fstat(fd, &st) != 0) {
            rc = owls_errmsg_set(em, OWLS_EIO, "%s: cannot open", argv[2]);
        } else {
            rc = owls_s3_put_fd(s3, argv[0], argv[1], fd, 0, (uint64_t)st.st_size, &o, &res, em);
            if (rc == OWLS_OK)
                printf("etag=%s parts=%u\n", res.etag, res.parts);
        }
        if (fd >= 0)
            close(fd);
    } else if (strcmp(cmd, "s3-get") == 0 && argc >= 3 && argc <= 5) {
        struct owls_s3_get_opts o = {0};
        struct owls_s3_object info;
        int fd;
        if (argc >= 4 && strcmp(argv[3], "-") != 0) {
            unsigned long long a, b;
            if (sscanf(argv[3], "%llu-%llu", &a, &b) != 2)
                return owls_errmsg_set(em, OWLS_EUSAGE, "bad range '%s'", argv[3]);
            o.range = true;
            o.range_first = a;
            o.range_last = b;
        }
        if (argc == 5)
            o.max_bytes = strtoull(argv[4], NULL, 10);
        fd = open(argv[2], O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd < 0)
            return owls_errmsg_set(em, OWLS_EIO, "%s: cannot create", argv[2]);
        rc = owls_s3_get(s3, argv[0], argv[1], &o, write_fn, &fd, &info, em);
        if (rc == OWLS_OK)
            printf("size=%llu length=%llu etag=%s\n", (unsigned long long)info.size,
                   (unsigned long long)info.length, info.etag);
        close(fd);
    } else if (strcmp(cmd, "s3-head") == 0 && argc == 2) {
        struct owls_s3_object info;
        rc = owls_s3_head(s3, argv[0], argv[1], &info, em);
        if (rc == OWLS_OK)
            printf("size=%llu etag=%s\n", (unsigned long long)info.size, info.etag);
    } else if (strcmp(cmd, "s3-create-bucket") == 0 && argc == 1) {
        struct owls_http_response resp;
        owls_http_response_init(&resp);
        rc = owls_s3_call(s3, "CreateBucket", "PUT", argv[0], NULL, NULL, NULL, 0, NULL, 0, &resp,
                          NULL, em);
        owls_http_response_cleanup(&resp);
    }
    return rc;
}

static void print_batch(const struct owls_sqs_batch_entry *e, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (e[i].ok)
            printf("ok\n");
        else
            printf("fail %s\n", e[i].code);
    }
}

static enum owls_err cmd_sqs(struct owls_sqs *q, const char *cmd, int argc, char **argv,
                             struct owls_errmsg *em)
{
    enum owls_err rc = OWLS_EUSAGE;
    struct owls_sqs_batch_entry e[OWLS_SQS_BATCH_MAX];

    memset(e, 0, sizeof(e));
    if (strcmp(cmd, "sqs-send") == 0 && argc == 2) {
        char id[OWLS_SQS_ID_MAX];
        rc = owls_sqs_send(q, argv[0], argv[1], strlen(argv[1]), id, em);
        if (rc == OWLS_OK)
            printf("%s\n", id);
    } else if (strcmp(cmd, "sqs-receive") == 0 && (argc == 3 || argc == 4)) {
        struct owls_sqs_receive_opts o = {.wait_time_s = (int)strtol(argv[1], NULL, 10),
                                          .max_messages = (int)strtol(argv[2], NULL, 10),
                                          .visibility_timeout =
                                              argc == 4 ? (int)strtol(argv[3], NULL, 10) : -1};
        struct owls_sqs_message *m = NULL;
        size_t n = 0;
        long long t0 = owls_time_mono_ms();
        rc = owls_sqs_receive(q, argv[0], &o, &m, &n, em);
        fprintf(stderr, "elapsed_ms=%lld\n", owls_time_mono_ms() - t0);
        for (size_t i = 0; rc == OWLS_OK && i < n; i++) {
            json_t *j = json_pack("{s:s,s:s,s:s%,s:I,s:I}", "id", m[i].message_id, "handle",
                                  m[i].receipt_handle, "body", m[i].body, m[i].body_len,
                                  "receive_count", (json_int_t)m[i].receive_count, "sent_ms",
                                  (json_int_t)m[i].sent_timestamp_ms);
            char *s = j ? json_dumps(j, JSON_COMPACT) : NULL;
            printf("%s\n", s ? s : "{}");
            free(s);
            json_decref(j);
        }
        owls_sqs_messages_free(m, n);
    } else if (strcmp(cmd, "sqs-delete") == 0 && argc == 2) {
        rc = owls_sqs_delete(q, argv[0], argv[1], em);
    } else if (strcmp(cmd, "sqs-chvis") == 0 && argc == 3) {
        rc = owls_sqs_change_visibility(q, argv[0], argv[1], (int)strtol(argv[2], NULL, 10), em);
    } else if (strcmp(cmd, "sqs-delete-batch") == 0 && argc >= 2 && argc <= 11) {
        size_t n = (size_t)argc - 1, failed;
        for (size_t i = 0; i < n; i++)
            e[i].receipt_handle = argv[i + 1];
        rc = owls_sqs_delete_batch(q, argv[0], e, n, &failed, em);
        if (rc == OWLS_OK)
            print_batch(e, n);
    } else if (strcmp(cmd, "sqs-chvis-batch") == 0 && argc >= 3 && argc <= 12) {
        size_t n = (size_t)argc - 2, failed;
        for (size_t i = 0; i < n; i++) {
            e[i].receipt_handle = argv[i + 2];
            e[i].visibility_timeout = (int)strtol(argv[1], NULL, 10);
        }
        rc = owls_sqs_change_visibility_batch(q, argv[0], e, n, &failed, em);
        if (rc == OWLS_OK)
            print_batch(e, n);
    } else if (strcmp(cmd, "sqs-attrs") == 0 && argc >= 2) {
        struct owls_sqs_attr *a = NULL;
        size_t n = 0;
        rc = owls_sqs_get_attributes(q, argv[0], (const char *const *)argv + 1, (size_t)argc - 1,
                                     &a, &n, em);
        for (size_t i = 0; rc == OWLS_OK && i < n; i++)
            printf("%s=%s\n", a[i].name, a[i].value);
        owls_sqs_attrs_free(a, n);
    }
    return rc;
}

int main(int argc, char **argv)
{
    struct owls_aws_opts opts = {.region = getenv("AWS_REGION"),
                                 .s3_addressing = OWLS_S3_ADDR_AUTO};
    struct owls_errmsg em = {{0}};
    struct owls_http *http = NULL;
    struct owls_creds_provider *creds = NULL;
    struct owls_s3 *s3 = NULL;
    struct owls_sqs *q = NULL;
    enum owls_err rc;
    int i = 1;

    log_init("awsprobe", getenv("AWSPROBE_DEBUG") ? LOG_DEBUG : LOG_WARNING, 0);
    for (; i + 1 < argc && strncmp(argv[i], "--", 2) == 0; i += 2) {
        if (strcmp(argv[i], "--region") == 0)
            opts.region = argv[i + 1];
        else if (strcmp(argv[i], "--endpoint") == 0)
            opts.s3_endpoint = argv[i + 1];
        else if (strcmp(argv[i], "--sqs-endpoint") == 0)
            opts.sqs_endpoint = argv[i + 1];
        else if (strcmp(argv[i], "--addressing") == 0)
            opts.s3_addressing = strcmp(argv[i + 1], "path") == 0      ? OWLS_S3_ADDR_PATH
                                 : strcmp(argv[i + 1], "virtual") == 0 ? OWLS_S3_ADDR_VIRTUAL
                                                                       : OWLS_S3_ADDR_AUTO;
        else
            return usage();
    }
    if (i >= argc)
        return usage();
    if (opts.region == NULL)
        opts.region = "us-east-1";
    rc = owls_http_new(&opts, &http, &em);
    if (rc == OWLS_OK)
        rc = owls_creds_provider_new(NULL, &creds);
    if (rc == OWLS_OK && strncmp(argv[i], "s3-", 3) == 0) {
        rc = owls_s3_new(&opts, http, creds, &s3, &em);
        if (rc == OWLS_OK)
            rc = cmd_s3(s3, argv[i], argc - i - 1, argv + i + 1, &em);
    } else if (rc == OWLS_OK && strncmp(argv[i], "sqs-", 4) == 0) {
        rc = owls_sqs_new(&opts, http, creds, &q, &em);
        if (rc == OWLS_OK)
            rc = cmd_sqs(q, argv[i], argc - i - 1, argv + i + 1, &em);
    } else if (rc == OWLS_OK) {
        rc = OWLS_EUSAGE;
    }
    if (rc == OWLS_EUSAGE && em.text[0] == '\0') {
        usage();
    } else if (rc != OWLS_OK) {
        fprintf(stderr, "awsprobe: %s: %s\n", owls_err_code(rc), em.text);
    }
    owls_s3_free(s3);
    owls_sqs_free(q);
    owls_creds_provider_free(creds);
    owls_http_free(http);
    return owls_err_exit_status(rc);
}
