/*
 * test_config.c - the configuration module (SPEC section 7) through named
 * case tables:
 *   1. the SPEC example and the shipped etc/owls-q4.conf parse to the
 *      documented values; defaults;
 *   2. every key's good and bad values, with the exact message (file, line,
 *      key, value);
 *   3. line syntax: unknown sections and keys, duplicates, comment rules;
 *   4. environment overrides and their precedence; credentials summary;
 *   5. required keys and cross-checks;
 *   6. owls_config_print() round trip and secret masking;
 *   7. missing file, SIGHUP reload, the validators on their own.
 *
 * Expected values are written out by hand, never computed by the module.
 * etc/owls-q4.conf is found relative to the current directory (the
 * repository root, as tests/run-unit.sh runs) or through $OWLS_CONFIG_EXAMPLE.
 */
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include <cmocka.h>

#include "owls/config.h"
#include "owls/private/config.h"
#include "owls/util.h"

#define NAME "test.conf"

/* ---- helpers ---------------------------------------------------------------- */

static char *const s_noenv[] = {NULL};

static enum owls_err load(const char *text, char *const *envp, struct owls_config **c,
                          struct owls_errmsg *em)
{
    memset(em, 0, sizeof(*em));
    return owls_config_load_string(text, strlen(text), NAME, envp, c, em);
}

/* Load text that must be valid; fails the test otherwise. */
static struct owls_config *load_ok(const char *what, const char *text, char *const *envp)
{
    struct owls_config *c = NULL;
    struct owls_errmsg em;

    if (load(text, envp, &c, &em) != OWLS_OK)
        fail_msg("%s: unexpected error: %s", what, em.text);
    assert_non_null(c);
    return c;
}

/* Load text that must fail with exactly msg. */
static void load_fails(const char *what, const char *text, char *const *envp, const char *msg)
{
    struct owls_config *c = NULL;
    struct owls_errmsg em;
    enum owls_err rc = load(text, envp, &c, &em);

    if (rc != OWLS_ECONFIG)
        fail_msg("%s: rc %d (%s), want OWLS_ECONFIG", what, rc,
                 rc == OWLS_OK ? "accepted" : em.text);
    assert_null(c);
    if (strcmp(em.text, msg) != 0)
        fail_msg("%s:\n   got  %s\n   want %s", what, em.text, msg);
}

/* The SPEC section 7 example, verbatim. */
static const char s_spec_example[] =
    "[aws]\n"
    "region = us-east-1\n"
    "endpoint_url =                  # e.g. http://127.0.0.1:4566 (LocalStack); empty = AWS\n"
    "# credentials come from the standard chain: environment, shared credentials\n"
    "# file/profile, container credentials, EC2 instance profile (IMDSv2).\n"
    "\n"
    "[s3]\n"
    "archive_bucket = owls-q4-archive\n"
    "artifacts_bucket = owls-q4-artifacts\n"
    "addressing = auto               # auto | path | virtual\n"
    "\n"
    "[sqs]\n"
    "work_queue_url = https://sqs.us-east-1.amazonaws.com/123456789012/owls-q4-work\n"
    "done_queue_url = https://sqs.us-east-1.amazonaws.com/123456789012/owls-q4-done\n"
    "wait_time_seconds = 20          # long polling, 0..20\n"
    "max_messages = 10               # per ReceiveMessage, 1..10\n"
    "visibility_timeout = 300        # seconds; extended while a job runs\n"
    "\n"
    "[worker]\n"
    "threads = 0                     # 0 = one per CPU\n"
    "max_input_bytes = 0             # 0 = no limit\n"
    "shutdown_grace_seconds = 60\n"
    "\n"
    "[log]\n"
    "level = info                    # debug | info | notice | warning | err\n";

#define WORK_URL "http://127.0.0.1:4566/000000000000/work"
#define DONE_URL "http://127.0.0.1:4566/000000000000/done"

/* Only the required keys. */
static const char s_minimal[] = "[s3]\n"
                                "archive_bucket = in-bucket\n"
                                "artifacts_bucket = out-bucket\n"
                                "[sqs]\n"
                                "work_queue_url = " WORK_URL "\n"
                                "done_queue_url = " DONE_URL "\n";

/* Every key, one per line: line numbers are fixed (see the comments). */
static const char *const s_full[] = {
    "[aws]",                         /* 1 */
    "region = us-east-1",            /* 2 */
    "endpoint_url =",                /* 3 */
    "[s3]",                          /* 4 */
    "archive_bucket = in-bucket",    /* 5 */
    "artifacts_bucket = out-bucket", /* 6 */
    "addressing = auto",             /* 7 */
    "[sqs]",                         /* 8 */
    "work_queue_url = " WORK_URL,    /* 9 */
    "done_queue_url = " DONE_URL,    /* 10 */
    "wait_time_seconds = 20",        /* 11 */
    "max_messages = 10",             /* 12 */
    "visibility_timeout = 300",      /* 13 */
    "[worker]",                      /* 14 */
    "threads = 0",                   /* 15 */
    "max_input_bytes = 0",           /* 16 */
    "shutdown_grace_seconds = 60",   /* 17 */
    "[log]",                         /* 18 */
    "level = info",                  /* 19 */
};

/* s_full with key's line replaced by "key = value" (value NULL: the line
 * left empty, so the numbering stays). Caller frees. */
static char *full_with(const char *key, const char *value)
{
    char *out = owls_xstrdup("");

    for (size_t i = 0; i < OWLS_ARRAY_LEN(s_full); i++) {
        const char *line = s_full[i];
        char *next, *mine = NULL;
        size_t klen = key ? strlen(key) : 0;
        if (key && strncmp(line, key, klen) == 0 && line[klen] == ' ')
            line = mine = value ? owls_xasprintf("%s = %s", key, value) : owls_xstrdup("");
        next = owls_xasprintf("%s%s\n", out, line);
        free(out);
        free(mine);
        out = next;
    }
    return out;
}

/* ---- 1. the SPEC example, defaults, the shipped example ---------------------- */

static void check_spec_values(const char *what, const struct owls_config *c)
{
    if (c->region == NULL || strcmp(c->region, "us-east-1") != 0)
        fail_msg("%s: region", what);
    assert_null(c->endpoint_url);
    assert_null(c->endpoint_s3);
    assert_null(c->endpoint_sqs);
    assert_null(c->ca_bundle);
    assert_string_equal(c->archive_bucket, "owls-q4-archive");
    assert_string_equal(c->artifacts_bucket, "owls-q4-artifacts");
    assert_int_equal(c->addressing, OWLS_S3_ADDR_AUTO);
    assert_string_equal(c->work_queue_url,
                        "https://sqs.us-east-1.amazonaws.com/123456789012/owls-q4-work");
    assert_string_equal(c->done_queue_url,
                        "https://sqs.us-east-1.amazonaws.com/123456789012/owls-q4-done");
    assert_int_equal(c->wait_time_seconds, 20);
    assert_int_equal(c->max_messages, 10);
    assert_int_equal(c->visibility_timeout, 300);
    assert_int_equal(c->threads, 0);
    assert_int_equal(c->max_input_bytes, 0);
    assert_int_equal(c->shutdown_grace_seconds, 60);
    assert_int_equal(c->log_level, LOG_INFO);
}

static void test_spec_example(void **state)
{
    (void)state;
    struct owls_config *c = load_ok("spec", s_spec_example, s_noenv);
    static const struct {
        enum owls_config_key key;
        int line;
    } lines[] = {
        {OWLS_CFG_REGION, 2},
        {OWLS_CFG_ENDPOINT_URL, 3},
        {OWLS_CFG_ARCHIVE_BUCKET, 8},
        {OWLS_CFG_ADDRESSING, 10},
        {OWLS_CFG_DONE_QUEUE_URL, 14},
        {OWLS_CFG_VISIBILITY_TIMEOUT, 17},
        {OWLS_CFG_SHUTDOWN_GRACE_SECONDS, 22},
        {OWLS_CFG_LOG_LEVEL, 25},
    };

    check_spec_values("spec", c);
    assert_string_equal(c->path, NAME);
    for (size_t i = 0; i < OWLS_ARRAY_LEN(lines); i++) {
        if (c->origin[lines[i].key].source != OWLS_CFG_FROM_FILE ||
            c->origin[lines[i].key].line != lines[i].line)
            fail_msg("%s: origin line %d, want %d", owls_config_key_name(lines[i].key),
                     c->origin[lines[i].key].line, lines[i].line);
    }
    /* Not in the file: only the environment sets them. */
    assert_int_equal(c->origin[OWLS_CFG_CA_BUNDLE].source, OWLS_CFG_FROM_DEFAULT);
    owls_config_free(c);
}

static void test_defaults(void **state)
{
    (void)state;
    struct owls_config *c = load_ok("minimal", s_minimal, s_noenv);

    assert_string_equal(c->region, "us-east-1");
    assert_null(c->endpoint_url);
    assert_int_equal(c->addressing, OWLS_S3_ADDR_AUTO);
    assert_int_equal(c->wait_time_seconds, 20);
    assert_int_equal(c->max_messages, 10);
    assert_int_equal(c->visibility_timeout, 300);
    assert_int_equal(c->threads, 0);
    assert_int_equal(c->max_input_bytes, 0);
    assert_int_equal(c->shutdown_grace_seconds, 60);
    assert_int_equal(c->log_level, LOG_INFO);
    assert_int_equal(c->origin[OWLS_CFG_REGION].source, OWLS_CFG_FROM_DEFAULT);
    assert_int_equal(c->origin[OWLS_CFG_LOG_LEVEL].source, OWLS_CFG_FROM_DEFAULT);
    assert_int_equal(c->origin[OWLS_CFG_ARCHIVE_BUCKET].source, OWLS_CFG_FROM_FILE);
    assert_int_equal(c->origin[OWLS_CFG_ARCHIVE_BUCKET].line, 2);
    owls_config_free(c);
}

static void test_shipped_example(void **state)
{
    (void)state;
    const char *path = getenv("OWLS_CONFIG_EXAMPLE");
    struct owls_config *c = NULL;
    struct owls_errmsg em = {{0}};

    if (path == NULL || *path == '\0')
        path = "etc/owls-q4.conf";
    if (owls_config_load(path, s_noenv, &c, &em) != OWLS_OK)
        fail_msg("%s", em.text);
    check_spec_values(path, c);
    /* It documents every key: each one is set in the file. */
    for (int key = OWLS_CFG_REGION; key <= OWLS_CFG_LOG_LEVEL; key++)
        if (c->origin[key].source != OWLS_CFG_FROM_FILE)
            fail_msg("%s: %s is not set in the file", path,
                     owls_config_key_name((enum owls_config_key)key));
    owls_config_free(c);
}

/* ---- 2. values --------------------------------------------------------------- */

static void test_bad_values(void **state)
{
    (void)state;
    static const struct {
        const char *name, *key, *value, *msg;
    } cases[] = {
        {"region upper", "region", "US-EAST-1",
         NAME ":2: [aws] region: must be 1 to 63 lowercase letters, digits and '-', starting "
              "and ending with a letter or digit, got \"US-EAST-1\""},
        {"region underscore", "region", "us_east_1",
         NAME ":2: [aws] region: must be 1 to 63 lowercase letters, digits and '-', starting "
              "and ending with a letter or digit, got \"us_east_1\""},
        {"region empty", "region", "",
         NAME ":2: [aws] region: must be 1 to 63 lowercase letters, digits and '-', starting "
              "and ending with a letter or digit, got \"\""},
        {"region dash", "region", "-us",
         NAME ":2: [aws] region: must be 1 to 63 lowercase letters, digits and '-', starting "
              "and ending with a letter or digit, got \"-us\""},
        {"endpoint scheme", "endpoint_url", "ftp://127.0.0.1",
         NAME ":3: [aws] endpoint_url: must start with http:// or https://, got "
              "\"ftp://127.0.0.1\""},
        {"endpoint no scheme", "endpoint_url", "localhost:4566",
         NAME ":3: [aws] endpoint_url: must start with http:// or https://, got "
              "\"localhost:4566\""},
        {"endpoint no host", "endpoint_url", "http://",
         NAME ":3: [aws] endpoint_url: has no host, got \"http://\""},
        {"endpoint path", "endpoint_url", "http://h:1/x",
         NAME ":3: [aws] endpoint_url: must be http(s)://host[:port], without a path, got "
              "\"http://h:1/x\""},
        {"endpoint port 0", "endpoint_url", "http://h:0",
         NAME ":3: [aws] endpoint_url: has a bad port (must be 1..65535), got \"http://h:0\""},
        {"endpoint port big", "endpoint_url", "http://h:65536",
         NAME ":3: [aws] endpoint_url: has a bad port (must be 1..65535), got "
              "\"http://h:65536\""},
        {"endpoint port empty", "endpoint_url", "http://h:",
         NAME ":3: [aws] endpoint_url: has a bad port (must be 1..65535), got \"http://h:\""},
        {"endpoint userinfo (password masked)", "endpoint_url", "http://u:p@h",
         NAME ":3: [aws] endpoint_url: must not contain user information ('@'), got "
              "\"http://****@h\""},
        {"queue url userinfo (password masked)", "work_queue_url",
         "https://user:secret@sqs.us-east-1.amazonaws.com/1/q",
         NAME ":9: [sqs] work_queue_url: not an SQS queue URL: must not contain user "
              "information ('@'), got \"https://****@sqs.us-east-1.amazonaws.com/1/q\""},
        {"endpoint query", "endpoint_url", "http://h?x=1",
         NAME ":3: [aws] endpoint_url: must not have a query or a fragment, got "
              "\"http://h?x=1\""},
        {"endpoint double dot", "endpoint_url", "http://a..b",
         NAME ":3: [aws] endpoint_url: has a bad host name, got \"http://a..b\""},
        {"endpoint bad ipv6", "endpoint_url", "http://[::1",
         NAME ":3: [aws] endpoint_url: has a bad IPv6 address, got \"http://[::1\""},
        {"bucket short", "archive_bucket", "ab",
         NAME ":5: [s3] archive_bucket: not a valid S3 bucket name: must be 3 to 63 characters "
              "long, got \"ab\""},
        {"bucket empty", "archive_bucket", "",
         NAME ":5: [s3] archive_bucket: not a valid S3 bucket name: must be 3 to 63 characters "
              "long, got \"\""},
        {"bucket upper", "archive_bucket", "Owls",
         NAME ":5: [s3] archive_bucket: not a valid S3 bucket name: may contain only lowercase "
              "letters, digits, '.' and '-', got \"Owls\""},
        {"bucket underscore", "artifacts_bucket", "owls_q4",
         NAME ":6: [s3] artifacts_bucket: not a valid S3 bucket name: may contain only lowercase "
              "letters, digits, '.' and '-', got \"owls_q4\""},
        {"bucket dash start", "archive_bucket", "-owls",
         NAME ":5: [s3] archive_bucket: not a valid S3 bucket name: must begin and end with a "
              "letter or digit, got \"-owls\""},
        {"bucket dots", "archive_bucket", "owls..q4",
         NAME ":5: [s3] archive_bucket: not a valid S3 bucket name: must not contain \"..\", got "
              "\"owls..q4\""},
        {"bucket ip", "archive_bucket", "192.168.5.4",
         NAME ":5: [s3] archive_bucket: not a valid S3 bucket name: must not look like an IP "
              "address, got \"192.168.5.4\""},
        {"bucket xn--", "archive_bucket", "xn--owls",
         NAME ":5: [s3] archive_bucket: not a valid S3 bucket name: starts with a prefix that S3 "
              "reserves, got \"xn--owls\""},
        {"bucket -s3alias", "archive_bucket", "owls-s3alias",
         NAME ":5: [s3] archive_bucket: not a valid S3 bucket name: ends with a suffix that S3 "
              "reserves, got \"owls-s3alias\""},
        {"addressing case", "addressing", "Auto",
         NAME ":7: [s3] addressing: must be auto, path or virtual, got \"Auto\""},
        {"addressing other", "addressing", "vhost",
         NAME ":7: [s3] addressing: must be auto, path or virtual, got \"vhost\""},
        {"queue no account", "work_queue_url", "https://sqs.us-east-1.amazonaws.com/owls",
         NAME ":9: [sqs] work_queue_url: not an SQS queue URL: must be "
              "http(s)://host[:port]/ACCOUNT-ID/QUEUE-NAME, got "
              "\"https://sqs.us-east-1.amazonaws.com/owls\""},
        {"queue extra segment", "work_queue_url", "http://h/1/q/x",
         NAME ":9: [sqs] work_queue_url: not an SQS queue URL: queue name may contain only "
              "letters, digits, '-' and '_' (and end in .fifo), got \"http://h/1/q/x\""},
        {"queue empty name", "done_queue_url", "http://h/1/",
         NAME ":10: [sqs] done_queue_url: not an SQS queue URL: queue name must be 1 to 80 "
              "characters, got \"http://h/1/\""},
        {"queue scheme", "work_queue_url", "sqs://h/1/q",
         NAME ":9: [sqs] work_queue_url: not an SQS queue URL: must start with http:// or "
              "https://, got \"sqs://h/1/q\""},
        {"queue empty", "done_queue_url", "",
         NAME ":10: [sqs] done_queue_url: not an SQS queue URL: must start with http:// or "
              "https://, got \"\""},
        {"wait too big", "wait_time_seconds", "25",
         NAME ":11: [sqs] wait_time_seconds: must be an integer 0..20, got \"25\""},
        {"wait negative", "wait_time_seconds", "-1",
         NAME ":11: [sqs] wait_time_seconds: must be an integer 0..20, got \"-1\""},
        {"wait plus", "wait_time_seconds", "+5",
         NAME ":11: [sqs] wait_time_seconds: must be an integer 0..20, got \"+5\""},
        {"wait junk", "wait_time_seconds", "20s",
         NAME ":11: [sqs] wait_time_seconds: must be an integer 0..20, got \"20s\""},
        {"wait word", "wait_time_seconds", "abc",
         NAME ":11: [sqs] wait_time_seconds: must be an integer 0..20, got \"abc\""},
        {"wait empty", "wait_time_seconds", "",
         NAME ":11: [sqs] wait_time_seconds: must be an integer 0..20, got \"\""},
        {"wait fraction", "wait_time_seconds", "1.5",
         NAME ":11: [sqs] wait_time_seconds: must be an integer 0..20, got \"1.5\""},
        {"wait hex", "wait_time_seconds", "0x10",
         NAME ":11: [sqs] wait_time_seconds: must be an integer 0..20, got \"0x10\""},
        {"wait overflow", "wait_time_seconds", "99999999999999999999999",
         NAME ":11: [sqs] wait_time_seconds: must be an integer 0..20, got "
              "\"99999999999999999999999\""},
        {"max_messages 0", "max_messages", "0",
         NAME ":12: [sqs] max_messages: must be an integer 1..10, got \"0\""},
        {"max_messages 11", "max_messages", "11",
         NAME ":12: [sqs] max_messages: must be an integer 1..10, got \"11\""},
        {"visibility big", "visibility_timeout", "43201",
         NAME ":13: [sqs] visibility_timeout: must be an integer 1..43200, got \"43201\""},
        {"visibility zero", "visibility_timeout", "0",
         NAME ":13: [sqs] visibility_timeout: must be an integer 1..43200, got \"0\""},
        {"threads big", "threads", "257",
         NAME ":15: [worker] threads: must be an integer 0..256, got \"257\""},
        {"threads negative", "threads", "-1",
         NAME ":15: [worker] threads: must be an integer 0..256, got \"-1\""},
        {"size unit", "max_input_bytes", "12X",
         NAME ":16: [worker] max_input_bytes: must be a byte count: an integer, optionally "
              "followed by K, M, G or T (or KiB, MiB, GiB, TiB: powers of 1024); 0 = no limit, "
              "got \"12X\""},
        {"size fraction", "max_input_bytes", "1.5G",
         NAME ":16: [worker] max_input_bytes: must be a byte count: an integer, optionally "
              "followed by K, M, G or T (or KiB, MiB, GiB, TiB: powers of 1024); 0 = no limit, "
              "got \"1.5G\""},
        {"size KB", "max_input_bytes", "1KB",
         NAME ":16: [worker] max_input_bytes: must be a byte count: an integer, optionally "
              "followed by K, M, G or T (or KiB, MiB, GiB, TiB: powers of 1024); 0 = no limit, "
              "got \"1KB\""},
        {"size overflow", "max_input_bytes", "9999999T",
         NAME ":16: [worker] max_input_bytes: must be a byte count: an integer, optionally "
              "followed by K, M, G or T (or KiB, MiB, GiB, TiB: powers of 1024); 0 = no limit, "
              "got \"9999999T\""},
        {"grace big", "shutdown_grace_seconds", "3601",
         NAME ":17: [worker] shutdown_grace_seconds: must be an integer 0..3600, got \"3601\""},
        {"level unknown", "level", "verbose",
         NAME ":19: [log] level: must be debug, info, notice, warning or err, got \"verbose\""},
        {"level case", "level", "INFO",
         NAME ":19: [log] level: must be debug, info, notice, warning or err, got \"INFO\""},
        {"level crit", "level", "crit",
         NAME ":19: [log] level: must be debug, info, notice, warning or err, got \"crit\""},
        {"blank inside", "region", "us east",
         NAME ":2: [aws] region: must be a single word without blanks, got \"us east\""},
        {"long value quoted short", "archive_bucket",
         "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
         NAME ":5: [s3] archive_bucket: not a valid S3 bucket name: must be 3 to 63 characters "
              "long, got \"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...\""},
    };

    for (size_t i = 0; i < OWLS_ARRAY_LEN(cases); i++) {
        char *text = full_with(cases[i].key, cases[i].value);
        load_fails(cases[i].name, text, s_noenv, cases[i].msg);
        free(text);
    }
}

/* The test's own view of a field, as text. */
static void field_text(const struct owls_config *c, enum owls_config_key key, char *buf, size_t n)
{
    const char *s = NULL;
    long long v = 0;
    bool str = true;

    switch (key) {
    case OWLS_CFG_REGION:
        s = c->region;
        break;
    case OWLS_CFG_ENDPOINT_URL:
        s = c->endpoint_url;
        break;
    case OWLS_CFG_ENDPOINT_S3:
        s = c->endpoint_s3;
        break;
    case OWLS_CFG_ENDPOINT_SQS:
        s = c->endpoint_sqs;
        break;
    case OWLS_CFG_CA_BUNDLE:
        s = c->ca_bundle;
        break;
    case OWLS_CFG_ARCHIVE_BUCKET:
        s = c->archive_bucket;
        break;
    case OWLS_CFG_ARTIFACTS_BUCKET:
        s = c->artifacts_bucket;
        break;
    case OWLS_CFG_WORK_QUEUE_URL:
        s = c->work_queue_url;
        break;
    case OWLS_CFG_DONE_QUEUE_URL:
        s = c->done_queue_url;
        break;
    case OWLS_CFG_ADDRESSING:
        v = c->addressing;
        str = false;
        break;
    case OWLS_CFG_WAIT_TIME_SECONDS:
        v = c->wait_time_seconds;
        str = false;
        break;
    case OWLS_CFG_MAX_MESSAGES:
        v = c->max_messages;
        str = false;
        break;
    case OWLS_CFG_VISIBILITY_TIMEOUT:
        v = c->visibility_timeout;
        str = false;
        break;
    case OWLS_CFG_THREADS:
        v = c->threads;
        str = false;
        break;
    case OWLS_CFG_MAX_INPUT_BYTES:
        v = (long long)c->max_input_bytes;
        str = false;
        break;
    case OWLS_CFG_SHUTDOWN_GRACE_SECONDS:
        v = c->shutdown_grace_seconds;
        str = false;
        break;
    case OWLS_CFG_LOG_LEVEL:
        v = c->log_level;
        str = false;
        break;
    case OWLS_CFG_KEY_COUNT:
        break;
    }
    if (str)
        snprintf(buf, n, "%s", s ? s : "(null)");
    else
        snprintf(buf, n, "%lld", v);
}

static void test_good_values(void **state)
{
    (void)state;
    static const struct {
        const char *name, *key, *value;
        enum owls_config_key field;
        const char *want;
    } cases[] = {
        {"region other", "region", "eu-west-3", OWLS_CFG_REGION, "eu-west-3"},
        {"region gov", "region", "us-gov-west-1", OWLS_CFG_REGION, "us-gov-west-1"},
        {"endpoint", "endpoint_url", "http://127.0.0.1:4566", OWLS_CFG_ENDPOINT_URL,
         "http://127.0.0.1:4566"},
        {"endpoint slash dropped", "endpoint_url", "http://127.0.0.1:4566/", OWLS_CFG_ENDPOINT_URL,
         "http://127.0.0.1:4566"},
        {"endpoint https name", "endpoint_url", "https://s3.example.com", OWLS_CFG_ENDPOINT_URL,
         "https://s3.example.com"},
        {"endpoint ipv6", "endpoint_url", "http://[::1]:5000", OWLS_CFG_ENDPOINT_URL,
         "http://[::1]:5000"},
        {"endpoint to s3", "endpoint_url", "http://h:1", OWLS_CFG_ENDPOINT_S3, "http://h:1"},
        {"endpoint to sqs", "endpoint_url", "http://h:1", OWLS_CFG_ENDPOINT_SQS, "http://h:1"},
        {"endpoint empty", "endpoint_url", "", OWLS_CFG_ENDPOINT_URL, "(null)"},
        {"bucket dotted", "archive_bucket", "my.bucket.1", OWLS_CFG_ARCHIVE_BUCKET, "my.bucket.1"},
        {"bucket 63", "archive_bucket",
         "a23456789012345678901234567890123456789012345678901234567890123", OWLS_CFG_ARCHIVE_BUCKET,
         "a23456789012345678901234567890123456789012345678901234567890123"},
        {"addressing path", "addressing", "path", OWLS_CFG_ADDRESSING, "1"},
        {"addressing virtual", "addressing", "virtual", OWLS_CFG_ADDRESSING, "2"},
        {"queue fifo", "done_queue_url", "http://h:1/000000000000/done.fifo",
         OWLS_CFG_DONE_QUEUE_URL, "http://h:1/000000000000/done.fifo"},
        {"wait 0", "wait_time_seconds", "0", OWLS_CFG_WAIT_TIME_SECONDS, "0"},
        {"wait leading zero", "wait_time_seconds", "07", OWLS_CFG_WAIT_TIME_SECONDS, "7"},
        {"max_messages 1", "max_messages", "1", OWLS_CFG_MAX_MESSAGES, "1"},
        {"visibility max", "visibility_timeout", "43200", OWLS_CFG_VISIBILITY_TIMEOUT, "43200"},
        {"threads max", "threads", "256", OWLS_CFG_THREADS, "256"},
        {"size plain", "max_input_bytes", "12345", OWLS_CFG_MAX_INPUT_BYTES, "12345"},
        {"size K", "max_input_bytes", "4K", OWLS_CFG_MAX_INPUT_BYTES, "4096"},
        {"size M", "max_input_bytes", "512M", OWLS_CFG_MAX_INPUT_BYTES, "536870912"},
        {"size GiB", "max_input_bytes", "2GiB", OWLS_CFG_MAX_INPUT_BYTES, "2147483648"},
        {"size T", "max_input_bytes", "5T", OWLS_CFG_MAX_INPUT_BYTES, "5497558138880"},
        {"grace 0", "shutdown_grace_seconds", "0", OWLS_CFG_SHUTDOWN_GRACE_SECONDS, "0"},
        {"level debug", "level", "debug", OWLS_CFG_LOG_LEVEL, "7"},
        {"level notice", "level", "notice", OWLS_CFG_LOG_LEVEL, "5"},
        {"level warning", "level", "warning", OWLS_CFG_LOG_LEVEL, "4"},
        {"level err", "level", "err", OWLS_CFG_LOG_LEVEL, "3"},
    };
    char got[256];

    for (size_t i = 0; i < OWLS_ARRAY_LEN(cases); i++) {
        char *text = full_with(cases[i].key, cases[i].value);
        struct owls_config *c = load_ok(cases[i].name, text, s_noenv);
        field_text(c, cases[i].field, got, sizeof(got));
        if (strcmp(got, cases[i].want) != 0)
            fail_msg("%s: got %s, want %s", cases[i].name, got, cases[i].want);
        owls_config_free(c);
        free(text);
    }
}

/* ---- 3. syntax: sections, keys, duplicates, comments ------------------------ */

static void test_syntax_errors(void **state)
{
    (void)state;
    static const struct {
        const char *name, *text, *msg;
    } cases[] = {
        {"unknown section", "[aws]\nregion = us-east-1\n[sqs2]\n",
         NAME ":3: unknown section \"sqs2\" (known: [aws], [s3], [sqs], [worker], [log])"},
        {"empty section", "[]\n",
         NAME ":1: unknown section \"\" (known: [aws], [s3], [sqs], [worker], [log])"},
        {"section with blanks", "[ aws ]\n",
         NAME ":1: unknown section \" aws \" (known: [aws], [s3], [sqs], [worker], [log])"},
        {"section junk", "\n[aws] junk\n", NAME ":2: expected \"[section]\", got \"[aws] junk\""},
        {"section unclosed", "[aws\n", NAME ":1: expected \"[section]\", got \"[aws\""},
        {"section then hash", "[aws]#x\n", NAME ":1: expected \"[section]\", got \"[aws]#x\""},
        {"unknown key", "[aws]\nregoin = us-east-1\n",
         NAME ":2: [aws] \"regoin\": unknown key (known in [aws]: region, endpoint_url)"},
        {"key in wrong section", "[s3]\nregion = us-east-1\n",
         NAME ":2: [s3] \"region\": unknown key (known in [s3]: archive_bucket, "
              "artifacts_bucket, addressing)"},
        {"key case", "[log]\nLevel = info\n",
         NAME ":2: [log] \"Level\": unknown key (known in [log]: level)"},
        {"key outside section", "region = us-east-1\n",
         NAME ":1: key \"region\" is outside of any [section]"},
        {"duplicate key", "[aws]\nregion = us-east-1\n\n[s3]\n[aws]\nregion = eu-west-1\n",
         NAME ":6: [aws] region: duplicate key (first set at line 2)"},
        {"duplicate same value", "[log]\nlevel = info\nlevel = info\n",
         NAME ":3: [log] level: duplicate key (first set at line 2)"},
        {"colon separator", "[aws]\nregion: us-east-1\n",
         NAME ":2: expected \"key = value\", \"[section]\" or a comment, got \"region: "
              "us-east-1\""},
        {"bare word", "[aws]\nregion\n",
         NAME ":2: expected \"key = value\", \"[section]\" or a comment, got \"region\""},
        {"no key name", "[aws]\n = us-east-1\n", NAME ":2: missing key name before '='"},
        {"continuation line", "[aws]\nregion = us-east-1\n  eu-west-1\n",
         NAME ":3: expected \"key = value\", \"[section]\" or a comment, got \"eu-west-1\""},
        {"control char", "[aws]\nregion = us\x01-east-1\n",
         NAME ":2: control character 0x01 in the line"},
        {"semicolon inline", "[aws]\nregion = us-east-1 ;comment\n",
         NAME ":2: [aws] region: must be a single word without blanks, got \"us-east-1 "
              ";comment\""},
        {"too long",
         "[s3]\narchive_bucket = "
         "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
         "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
         "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n",
         NAME ":2: [s3] archive_bucket: value too long (at most 184 bytes), got "
              "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...\""},
        {"first error wins", "[aws]\nregion = BAD\n[nope]\n",
         NAME ":2: [aws] region: must be 1 to 63 lowercase letters, digits and '-', starting "
              "and ending with a letter or digit, got \"BAD\""},
    };

    for (size_t i = 0; i < OWLS_ARRAY_LEN(cases); i++)
        load_fails(cases[i].name, cases[i].text, s_noenv, cases[i].msg);
}

static void test_nul_byte(void **state)
{
    (void)state;
    static const char text[] = "[aws]\nregion = us-east-1\n\0\n";
    struct owls_config *c = NULL;
    struct owls_errmsg em = {{0}};

    assert_int_equal(owls_config_load_string(text, sizeof(text) - 1, NAME, s_noenv, &c, &em),
                     OWLS_ECONFIG);
    assert_null(c);
    assert_string_equal(em.text, NAME ":3: NUL byte in the file");
}

/* Comment rules: the [aws] region line (line 2 of the text) in many forms. */
static void test_comments(void **state)
{
    (void)state;
    static const struct {
        const char *name, *aws; /* [aws] section body */
        const char *region;     /* expected region, or NULL: expect msg */
        const char *msg;
    } cases[] = {
        {"hash at line start", "#region = eu-west-1\n", "us-east-1", NULL},
        {"hash indented", "   # region = eu-west-1\n", "us-east-1", NULL},
        {"semicolon line", "; region = eu-west-1\n", "us-east-1", NULL},
        {"after space", "region = eu-west-1 # comment\n", "eu-west-1", NULL},
        {"after tab", "region = eu-west-1\t#comment\n", "eu-west-1", NULL},
        {"after blanks no space after hash", "region = eu-west-1    #x\n", "eu-west-1", NULL},
        {"no spaces around =", "region=eu-west-1\n", "eu-west-1", NULL},
        {"indented key", "    region = eu-west-1\n", "eu-west-1", NULL},
        {"crlf", "region = eu-west-1\r\n", "eu-west-1", NULL},
        {"hash inside value kept", "region = eu-west-1#x\n", NULL,
         NAME ":2: [aws] region: must be 1 to 63 lowercase letters, digits and '-', starting "
              "and ending with a letter or digit, got \"eu-west-1#x\""},
        {"hash inside then comment", "region = a#b # c\n", NULL,
         NAME ":2: [aws] region: must be 1 to 63 lowercase letters, digits and '-', starting "
              "and ending with a letter or digit, got \"a#b\""},
        {"hash right after =", "region =#x\n", NULL,
         NAME ":2: [aws] region: must be 1 to 63 lowercase letters, digits and '-', starting "
              "and ending with a letter or digit, got \"#x\""},
        {"comment makes value empty", "region = # eu-west-1\n", NULL,
         NAME ":2: [aws] region: must be 1 to 63 lowercase letters, digits and '-', starting "
              "and ending with a letter or digit, got \"\""},
        {"hash glued to key", "region#x = eu-west-1\n", NULL,
         NAME ":2: [aws] \"region#x\": unknown key (known in [aws]: region, endpoint_url)"},
    };
    char *text;

    for (size_t i = 0; i < OWLS_ARRAY_LEN(cases); i++) {
        text = owls_xasprintf("[aws] # the section\n%s\n[s3]\narchive_bucket = in-bucket\n"
                              "artifacts_bucket = out-bucket\n[sqs]\nwork_queue_url = " WORK_URL
                              "\ndone_queue_url = " DONE_URL "\n",
                              cases[i].aws);
        if (cases[i].region != NULL) {
            struct owls_config *c = load_ok(cases[i].name, text, s_noenv);
            if (strcmp(c->region, cases[i].region) != 0)
                fail_msg("%s: region %s, want %s", cases[i].name, c->region, cases[i].region);
            owls_config_free(c);
        } else {
            load_fails(cases[i].name, text, s_noenv, cases[i].msg);
        }
        free(text);
    }
    /* No newline at the end of the last line. */
    text = owls_xasprintf("%s[log]\nlevel = debug", s_minimal);
    {
        struct owls_config *c = load_ok("no final newline", text, s_noenv);
        assert_int_equal(c->log_level, LOG_DEBUG);
        owls_config_free(c);
    }
    free(text);
    /* A UTF-8 byte order mark before the first line. */
    text = owls_xasprintf("\xef\xbb\xbf%s", s_minimal);
    owls_config_free(load_ok("bom", text, s_noenv));
    free(text);
}

/* ---- 4. environment ---------------------------------------------------------- */

static void test_env_overrides(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        const char *endpoint; /* [aws] endpoint_url in the file */
        char *env[4];
        const char *region, *endpoint_url, *s3, *sqs;
        const char *region_from, *s3_from, *sqs_from; /* env var, or NULL = not env */
    } cases[] = {
        {"none", "", {NULL}, "eu-north-1", NULL, NULL, NULL, NULL, NULL, NULL},
        {"AWS_REGION",
         "",
         {"AWS_REGION=ap-south-1"},
         "ap-south-1",
         NULL,
         NULL,
         NULL,
         "AWS_REGION",
         NULL,
         NULL},
        {"AWS_DEFAULT_REGION",
         "",
         {"AWS_DEFAULT_REGION=ca-central-1"},
         "ca-central-1",
         NULL,
         NULL,
         NULL,
         "AWS_DEFAULT_REGION",
         NULL,
         NULL},
        {"AWS_REGION beats AWS_DEFAULT_REGION",
         "",
         {"AWS_DEFAULT_REGION=ca-central-1", "AWS_REGION=ap-south-1"},
         "ap-south-1",
         NULL,
         NULL,
         NULL,
         "AWS_REGION",
         NULL,
         NULL},
        {"empty AWS_REGION is unset",
         "",
         {"AWS_REGION=", "AWS_DEFAULT_REGION=ca-central-1"},
         "ca-central-1",
         NULL,
         NULL,
         NULL,
         "AWS_DEFAULT_REGION",
         NULL,
         NULL},
        {"similar names ignored",
         "",
         {"AWS_REGIONX=us-west-2", "XAWS_REGION=us-west-2"},
         "eu-north-1",
         NULL,
         NULL,
         NULL,
         NULL,
         NULL,
         NULL},
        {"file endpoint to both",
         "http://file:1",
         {NULL},
         "eu-north-1",
         "http://file:1",
         "http://file:1",
         "http://file:1",
         NULL,
         NULL,
         NULL},
        {"AWS_ENDPOINT_URL beats file",
         "http://file:1",
         {"AWS_ENDPOINT_URL=http://env:2"},
         "eu-north-1",
         "http://env:2",
         "http://env:2",
         "http://env:2",
         NULL,
         "AWS_ENDPOINT_URL",
         "AWS_ENDPOINT_URL"},
        {"AWS_ENDPOINT_URL_S3 only",
         "http://file:1",
         {"AWS_ENDPOINT_URL_S3=http://s3:3/"},
         "eu-north-1",
         "http://file:1",
         "http://s3:3",
         "http://file:1",
         NULL,
         "AWS_ENDPOINT_URL_S3",
         NULL},
        {"service-specific beats general",
         "",
         {"AWS_ENDPOINT_URL_SQS=http://sqs:4", "AWS_ENDPOINT_URL=http://env:2"},
         "eu-north-1",
         "http://env:2",
         "http://env:2",
         "http://sqs:4",
         NULL,
         "AWS_ENDPOINT_URL",
         "AWS_ENDPOINT_URL_SQS"},
        {"both services",
         "http://file:1",
         {"AWS_ENDPOINT_URL_SQS=http://sqs:4", "AWS_ENDPOINT_URL_S3=http://s3:3"},
         "eu-north-1",
         "http://file:1",
         "http://s3:3",
         "http://sqs:4",
         NULL,
         "AWS_ENDPOINT_URL_S3",
         "AWS_ENDPOINT_URL_SQS"},
    };

    for (size_t i = 0; i < OWLS_ARRAY_LEN(cases); i++) {
        char *text = owls_xasprintf("[aws]\nregion = eu-north-1\nendpoint_url = %s\n%s",
                                    cases[i].endpoint, s_minimal);
        struct owls_config *c = load_ok(cases[i].name, text, cases[i].env);
        const struct {
            const char *what, *got, *want;
        } checks[] = {
            {"region", c->region, cases[i].region},
            {"endpoint_url", c->endpoint_url, cases[i].endpoint_url},
            {"endpoint_s3", c->endpoint_s3, cases[i].s3},
            {"endpoint_sqs", c->endpoint_sqs, cases[i].sqs},
        };
        const struct {
            enum owls_config_key key;
            const char *want;
        } origins[] = {
            {OWLS_CFG_REGION, cases[i].region_from},
            {OWLS_CFG_ENDPOINT_S3, cases[i].s3_from},
            {OWLS_CFG_ENDPOINT_SQS, cases[i].sqs_from},
        };
        for (size_t j = 0; j < OWLS_ARRAY_LEN(checks); j++) {
            const char *g = checks[j].got, *w = checks[j].want;
            if ((g == NULL) != (w == NULL) || (g && strcmp(g, w) != 0))
                fail_msg("%s: %s = %s, want %s", cases[i].name, checks[j].what, g ? g : "(null)",
                         w ? w : "(null)");
        }
        for (size_t j = 0; j < OWLS_ARRAY_LEN(origins); j++) {
            const struct owls_config_origin *o = &c->origin[origins[j].key];
            if (origins[j].want == NULL
                    ? o->source == OWLS_CFG_FROM_ENV
                    : o->source != OWLS_CFG_FROM_ENV || strcmp(o->env, origins[j].want) != 0)
                fail_msg("%s: origin of %s is %s, want %s", cases[i].name,
                         owls_config_key_name(origins[j].key),
                         o->source == OWLS_CFG_FROM_ENV ? o->env : "not env",
                         origins[j].want ? origins[j].want : "not env");
        }
        owls_config_free(c);
        free(text);
    }
}

static void test_env_errors(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        char *env[3];
        const char *msg;
    } cases[] = {
        {"bad AWS_REGION",
         {"AWS_REGION=Bad!"},
         NAME ": env AWS_REGION (overrides [aws] region): must be 1 to 63 lowercase letters, "
              "digits and '-', starting and ending with a letter or digit, got \"Bad!\""},
        {"bad AWS_DEFAULT_REGION",
         {"AWS_DEFAULT_REGION=us east"},
         NAME ": env AWS_DEFAULT_REGION (overrides [aws] region): must be 1 to 63 lowercase "
              "letters, digits and '-', starting and ending with a letter or digit, got \"us "
              "east\""},
        {"bad AWS_ENDPOINT_URL",
         {"AWS_ENDPOINT_URL=127.0.0.1:4566"},
         NAME ": env AWS_ENDPOINT_URL (overrides [aws] endpoint_url): must start with http:// "
              "or https://, got \"127.0.0.1:4566\""},
        {"bad AWS_ENDPOINT_URL_SQS",
         {"AWS_ENDPOINT_URL_SQS=http://h:99999"},
         NAME ": env AWS_ENDPOINT_URL_SQS: has a bad port (must be 1..65535), got "
              "\"http://h:99999\""},
        {"missing AWS_CA_BUNDLE",
         {"AWS_CA_BUNDLE=/nonexistent/ca.pem"},
         NAME ": env AWS_CA_BUNDLE: must name a readable file, got \"/nonexistent/ca.pem\""},
        {"directory AWS_CA_BUNDLE",
         {"AWS_CA_BUNDLE=/"},
         NAME ": env AWS_CA_BUNDLE: must name a readable file, got \"/\""},
    };

    for (size_t i = 0; i < OWLS_ARRAY_LEN(cases); i++)
        load_fails(cases[i].name, s_minimal, cases[i].env, cases[i].msg);
}

static void test_env_ca_bundle(void **state)
{
    (void)state;
    char path[] = "/tmp/owls-test-ca-XXXXXX";
    int fd = mkstemp(path);
    char *var = owls_xasprintf("AWS_CA_BUNDLE=%s", path);
    char *env[] = {var, NULL};
    struct owls_config *c;

    assert_true(fd >= 0);
    close(fd);
    c = load_ok("ca bundle", s_minimal, env);
    assert_string_equal(c->ca_bundle, path);
    assert_int_equal(c->origin[OWLS_CFG_CA_BUNDLE].source, OWLS_CFG_FROM_ENV);
    owls_config_free(c);
    unlink(path);
    free(var);
}

/* envp == NULL reads the process environment. */
static void test_env_process(void **state)
{
    (void)state;
    char *saved_region = getenv("AWS_REGION") ? owls_xstrdup(getenv("AWS_REGION")) : NULL;
    struct owls_config *c;

    setenv("AWS_REGION", "sa-east-1", 1);
    c = load_ok("environ", s_minimal, NULL);
    assert_string_equal(c->region, "sa-east-1");
    owls_config_free(c);
    if (saved_region != NULL)
        setenv("AWS_REGION", saved_region, 1);
    else
        unsetenv("AWS_REGION");
    free(saved_region);
}

static void test_creds_summary(void **state)
{
    (void)state;
    char *const env[] = {"AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE",
                         "AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
                         "AWS_SESSION_TOKEN=FwoGZXIvYXdzEXAMPLETOKEN", "AWS_PROFILE=ops", NULL};
    struct owls_config *c = load_ok("creds", s_minimal, env);

    assert_true(c->creds_env.access_key_id);
    assert_string_equal(c->creds_env.access_key_tail, "MPLE");
    assert_true(c->creds_env.secret_access_key);
    assert_true(c->creds_env.session_token);
    assert_string_equal(c->creds_env.profile, "ops");
    assert_null(c->creds_env.config_file);
    owls_config_free(c);

    c = load_ok("no creds", s_minimal, s_noenv);
    assert_false(c->creds_env.access_key_id);
    assert_false(c->creds_env.secret_access_key);
    assert_null(c->creds_env.profile);
    owls_config_free(c);
}

/* ---- 5. required keys and cross-checks --------------------------------------- */

static void test_required(void **state)
{
    (void)state;
    static const struct {
        const char *name, *drop, *msg;
    } cases[] = {
        {"archive_bucket", "archive_bucket", NAME ": missing required key: [s3] archive_bucket"},
        {"artifacts_bucket", "artifacts_bucket",
         NAME ": missing required key: [s3] artifacts_bucket"},
        {"work_queue_url", "work_queue_url", NAME ": missing required key: [sqs] work_queue_url"},
        {"done_queue_url", "done_queue_url", NAME ": missing required key: [sqs] done_queue_url"},
    };

    for (size_t i = 0; i < OWLS_ARRAY_LEN(cases); i++) {
        char *text = full_with(cases[i].drop, NULL);
        load_fails(cases[i].name, text, s_noenv, cases[i].msg);
        free(text);
    }
    load_fails("empty file", "", s_noenv,
               NAME ": missing required keys: [s3] archive_bucket, [s3] artifacts_bucket, [sqs] "
                    "work_queue_url, [sqs] done_queue_url");
    load_fails("only comments", "# nothing\n\n; here\n", s_noenv,
               NAME ": missing required keys: [s3] archive_bucket, [s3] artifacts_bucket, [sqs] "
                    "work_queue_url, [sqs] done_queue_url");
}

static void test_cross_checks(void **state)
{
    (void)state;
    char *const eu[] = {"AWS_REGION=eu-west-1", NULL};
    char *const sqs_ep[] = {"AWS_ENDPOINT_URL_SQS=http://127.0.0.1:9324", NULL};
    static const char aws_queues[] =
        "[s3]\narchive_bucket = in-bucket\nartifacts_bucket = out-bucket\n[sqs]\n"
        "work_queue_url = https://sqs.eu-west-1.amazonaws.com/123456789012/w\n"
        "done_queue_url = https://sqs.eu-west-1.amazonaws.com/123456789012/d\n";
    char *text;

    text = full_with("artifacts_bucket", "in-bucket");
    load_fails("same buckets", text, s_noenv,
               NAME ":6: [s3] artifacts_bucket: must differ from [s3] archive_bucket (artifacts "
                    "under run=<id>/ would be taken for new inputs), got \"in-bucket\" for both");
    free(text);
    text = full_with("done_queue_url", WORK_URL);
    load_fails("same queues", text, s_noenv,
               NAME ":10: [sqs] done_queue_url: must differ from [sqs] work_queue_url (done "
                    "notifications would come back as jobs)");
    free(text);
    load_fails("queue region mismatch", aws_queues, s_noenv,
               NAME ":5: [sqs] work_queue_url: the queue is in region eu-west-1 but [aws] region "
                    "is us-east-1");
    owls_config_free(load_ok("queue region from env", aws_queues, eu));
    owls_config_free(load_ok("queue behind a custom endpoint", aws_queues, sqs_ep));
}

/* ---- 6. print: round trip, masking ------------------------------------------- */

static char *print_to_string(const struct owls_config *c)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);

    assert_non_null(f);
    owls_config_print(c, f);
    assert_int_equal(fclose(f), 0);
    return buf;
}

static void test_print_round_trip(void **state)
{
    (void)state;
    char ca[] = "/tmp/owls-test-ca-XXXXXX";
    int fd = mkstemp(ca);
    char *ca_var = owls_xasprintf("AWS_CA_BUNDLE=%s", ca);
    char *const env_all[] = {"AWS_REGION=eu-central-1",
                             "AWS_ENDPOINT_URL_S3=http://127.0.0.1:5000",
                             "AWS_ENDPOINT_URL_SQS=http://127.0.0.1:5001",
                             ca_var,
                             "AWS_PROFILE=evil\n[aws]\nregion = xx-bad-9",
                             NULL};
    static const char non_default[] = "[log]\nlevel = debug\n"
                                      "[worker]\nthreads = 12\nmax_input_bytes = 3G\n"
                                      "shutdown_grace_seconds = 5\n"
                                      "[sqs]\nwait_time_seconds = 0\nmax_messages = 1\n"
                                      "visibility_timeout = 43200\n"
                                      "work_queue_url = https://q.example/1/w.fifo\n"
                                      "done_queue_url = https://q.example/1/d\n"
                                      "[aws]\nendpoint_url = http://[::1]:4566/\n"
                                      "region = us-west-2\n"
                                      "[s3]\naddressing = virtual\n"
                                      "archive_bucket = a.b.c\nartifacts_bucket = abc\n";
    const struct {
        const char *name, *text;
        char *const *env;
    } cases[] = {
        {"spec example", s_spec_example, s_noenv},
        {"minimal", s_minimal, s_noenv},
        {"non-default", non_default, s_noenv},
        {"environment", non_default, env_all},
        {"spec with environment", s_spec_example, env_all},
    };

    assert_true(fd >= 0);
    close(fd);
    for (size_t i = 0; i < OWLS_ARRAY_LEN(cases); i++) {
        struct owls_config *a = load_ok(cases[i].name, cases[i].text, cases[i].env);
        char *printed = print_to_string(a);
        struct owls_config *b = NULL;
        struct owls_errmsg em = {{0}};
        if (owls_config_load_string(printed, strlen(printed), "printed", cases[i].env, &b, &em) !=
            OWLS_OK)
            fail_msg("%s: printed config does not load: %s\n%s", cases[i].name, em.text, printed);
        if (!owls_config_equal(a, b))
            fail_msg("%s: printed config loads differently:\n%s", cases[i].name, printed);
        owls_config_free(a);
        owls_config_free(b);
        free(printed);
    }
    unlink(ca);
    free(ca_var);
}

static void test_print_content(void **state)
{
    (void)state;
    char *const env[] = {"AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE",
                         "AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
                         "AWS_SESSION_TOKEN=FwoGZXIvYXdzEXAMPLETOKEN",
                         "AWS_REGION=eu-west-1",
                         "AWS_PROFILE=two\nlines",
                         NULL};
    static const char text[] =
        "[aws]\nregion = us-east-1\n[worker]\nmax_input_bytes = 512M\n"
        "[s3]\narchive_bucket = in-bucket\nartifacts_bucket = out-bucket\n"
        "[sqs]\nwork_queue_url = " WORK_URL "\ndone_queue_url = " DONE_URL "\n";
    static const char *const must[] = {
        "\nregion = eu-west-1                      # env AWS_REGION\n",
        "\narchive_bucket = in-bucket              # " NAME ":6\n",
        "\nmax_input_bytes = 536870912             # " NAME ":4 (512.0 MiB)\n",
        "\nwait_time_seconds = 20                  # default\n",
        "\nlevel = info                            # default\n",
        "#   AWS_ACCESS_KEY_ID = ****MPLE\n",
        "#   AWS_SECRET_ACCESS_KEY = ****\n",
        "#   AWS_SESSION_TOKEN = ****\n",
        "#   AWS_PROFILE = two?lines\n",
        "# Here: from the environment (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY).\n",
        "\n[aws]\n",
        "\n[s3]\n",
        "\n[sqs]\n",
        "\n[worker]\n",
        "\n[log]\n",
    };
    static const char *const must_not[] = {
        "AKIAIOSFODNN7EXAMPLE",     "wJalrXUtnFEMI", "EXAMPLEKEY",
        "FwoGZXIvYXdzEXAMPLETOKEN", "\nlines",
    };
    struct owls_config *c = load_ok("print", text, env);
    char *printed = print_to_string(c);

    for (size_t i = 0; i < OWLS_ARRAY_LEN(must); i++)
        if (strstr(printed, must[i]) == NULL)
            fail_msg("print lacks \"%s\":\n%s", must[i], printed);
    for (size_t i = 0; i < OWLS_ARRAY_LEN(must_not); i++)
        if (strstr(printed, must_not[i]) != NULL)
            fail_msg("print shows \"%s\":\n%s", must_not[i], printed);
    free(printed);
    owls_config_free(c);
}

/* owls_config_equal must be able to say no, or the round trip proves nothing. */
static void test_equal(void **state)
{
    (void)state;
    static const struct {
        const char *name, *key, *value;
    } cases[] = {
        {"region", "region", "eu-west-1"},
        {"endpoint", "endpoint_url", "http://h:1"},
        {"bucket", "artifacts_bucket", "other-bucket"},
        {"addressing", "addressing", "path"},
        {"queue", "done_queue_url", "http://h/1/x"},
        {"wait", "wait_time_seconds", "19"},
        {"max", "max_messages", "9"},
        {"visibility", "visibility_timeout", "301"},
        {"threads", "threads", "1"},
        {"bytes", "max_input_bytes", "1"},
        {"grace", "shutdown_grace_seconds", "61"},
        {"level", "level", "debug"},
    };
    char *base_text = full_with(NULL, NULL);
    struct owls_config *base = load_ok("base", base_text, s_noenv);

    for (size_t i = 0; i < OWLS_ARRAY_LEN(cases); i++) {
        char *text = full_with(cases[i].key, cases[i].value);
        struct owls_config *c = load_ok(cases[i].name, text, s_noenv);
        if (owls_config_equal(base, c))
            fail_msg("%s: a different config compares equal", cases[i].name);
        owls_config_free(c);
        free(text);
    }
    /* The settings that only the environment makes count too. */
    char ca[] = "/tmp/owls-test-ca-XXXXXX";
    int fd = mkstemp(ca);
    assert_true(fd >= 0);
    close(fd);
    char *ca_var = owls_xasprintf("AWS_CA_BUNDLE=%s", ca);
    char *const env_cases[][2] = {
        {"AWS_ENDPOINT_URL_S3=http://h:2", NULL},
        {"AWS_ENDPOINT_URL_SQS=http://h:3", NULL},
        {ca_var, NULL},
    };
    for (size_t i = 0; i < OWLS_ARRAY_LEN(env_cases); i++) {
        struct owls_config *c = load_ok(env_cases[i][0], base_text, env_cases[i]);
        if (owls_config_equal(base, c))
            fail_msg("%s: a different config compares equal", env_cases[i][0]);
        owls_config_free(c);
    }
    unlink(ca);
    free(ca_var);
    assert_true(owls_config_equal(base, base));
    owls_config_free(base);
    free(base_text);
}

/* ---- 7. files, reload, helpers --------------------------------------------------- */

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");

    assert_non_null(f);
    assert_int_equal(fputs(text, f) >= 0, 1);
    assert_int_equal(fclose(f), 0);
}

static void test_missing_file(void **state)
{
    (void)state;
    struct owls_config *c = (struct owls_config *)1;
    struct owls_errmsg em = {{0}};
    enum owls_err rc = owls_config_load("/nonexistent/owls-q4.conf", s_noenv, &c, &em);

    assert_int_equal(rc, OWLS_ECONFIG);
    assert_int_equal(owls_err_exit_status(rc), 78);
    assert_null(c);
    assert_string_equal(em.text, "cannot read the configuration: /nonexistent/owls-q4.conf: No "
                                 "such file or directory");
    rc = owls_config_load("/", s_noenv, &c, &em);
    assert_int_equal(rc, OWLS_ECONFIG);
    assert_string_equal(em.text, "cannot read the configuration: /: is a directory");
}

static void test_file_and_reload(void **state)
{
    (void)state;
    char path[] = "/tmp/owls-test-conf-XXXXXX";
    int fd = mkstemp(path);
    struct owls_config *c = NULL;
    struct owls_errmsg em = {{0}};
    char *text, *expect;
    int level = -1;
    bool changed = true;

    assert_true(fd >= 0);
    close(fd);
    text = owls_xasprintf("%s[log]\nlevel = info\n", s_minimal);
    write_file(path, text);
    free(text);
    if (owls_config_load(path, s_noenv, &c, &em) != OWLS_OK)
        fail_msg("%s", em.text);
    assert_string_equal(c->path, path);
    assert_int_equal(c->log_level, LOG_INFO);

    /* Only the level changes. */
    text = owls_xasprintf("%s[log]\nlevel = debug\n", s_minimal);
    write_file(path, text);
    free(text);
    assert_int_equal(owls_config_reload_log_level(c, s_noenv, &level, &changed, &em), OWLS_OK);
    assert_int_equal(level, LOG_DEBUG);
    assert_false(changed);

    /* The level and something that needs a restart. */
    text = owls_xasprintf("%s[log]\nlevel = warning\n[worker]\nthreads = 3\n", s_minimal);
    write_file(path, text);
    free(text);
    assert_int_equal(owls_config_reload_log_level(c, s_noenv, &level, &changed, &em), OWLS_OK);
    assert_int_equal(level, LOG_WARNING);
    assert_true(changed);

    /* Broken now: an error, and the outputs stay as they were. */
    text = owls_xasprintf("%s[log]\nlevel = loud\n", s_minimal);
    write_file(path, text);
    free(text);
    level = -1;
    changed = false;
    assert_int_equal(owls_config_reload_log_level(c, s_noenv, &level, &changed, &em), OWLS_ECONFIG);
    expect = owls_xasprintf(
        "%s:8: [log] level: must be debug, info, notice, warning or err, got \"loud\"", path);
    assert_string_equal(em.text, expect);
    assert_int_equal(level, -1);
    assert_false(changed);
    free(expect);

    owls_config_free(c);
    unlink(path);
}

static void test_worker_threads(void **state)
{
    (void)state;
    char *text = full_with("threads", "5");
    struct owls_config *c = load_ok("threads 5", text, s_noenv);
    cpu_set_t set;
    int cpus;

    assert_int_equal(owls_config_worker_threads(c), 5);
    owls_config_free(c);
    free(text);

    assert_int_equal(sched_getaffinity(0, sizeof(set), &set), 0);
    cpus = CPU_COUNT(&set);
    c = load_ok("threads 0", s_minimal, s_noenv);
    assert_int_equal(owls_config_worker_threads(c), cpus > 256 ? 256 : cpus);
    owls_config_free(c);
}

static void test_validators(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        bool (*fn)(const char *, const char **);
        const char *s;
        bool ok;
    } cases[] = {
        {"bucket 3", owls_config_check_bucket, "abc", true},
        {"bucket digits", owls_config_check_bucket, "123", true},
        {"bucket 64", owls_config_check_bucket,
         "a234567890123456789012345678901234567890123456789012345678901234", false},
        {"bucket dot end", owls_config_check_bucket, "abc.", false},
        {"bucket near ip", owls_config_check_bucket, "192.168.5.4a", true},
        {"bucket 3 groups", owls_config_check_bucket, "1.2.3", true},
        {"bucket sthree", owls_config_check_bucket, "sthree-x", false},
        {"bucket demo", owls_config_check_bucket, "amzn-s3-demo-bucket", false},
        {"bucket ol", owls_config_check_bucket, "abc--ol-s3", false},
        {"bucket mrap", owls_config_check_bucket, "abc.mrap", false},
        {"bucket express", owls_config_check_bucket, "abc--x-s3", false},
        {"region short", owls_config_check_region, "x", true},
        {"region 64", owls_config_check_region,
         "a234567890123456789012345678901234567890123456789012345678901234", false},
        {"region trailing dash", owls_config_check_region, "us-", false},
        {"endpoint plain", owls_config_check_endpoint, "http://localhost", true},
        {"endpoint https port", owls_config_check_endpoint, "https://h.example:443", true},
        {"endpoint HTTP upper", owls_config_check_endpoint, "HTTP://h", false},
        {"endpoint space", owls_config_check_endpoint, "http://h x", false},
        {"endpoint non-ascii", owls_config_check_endpoint, "http://h\xc3\xa9", false},
        {"endpoint fragment", owls_config_check_endpoint, "http://h/#x", false},
        {"endpoint ipv6 junk", owls_config_check_endpoint, "http://[::1]x", false},
        {"endpoint ipv6 letters", owls_config_check_endpoint, "http://[::g]", false},
        {"endpoint label 63", owls_config_check_endpoint,
         "http://a23456789012345678901234567890123456789012345678901234567890123.x", true},
        {"endpoint label 64", owls_config_check_endpoint,
         "http://a234567890123456789012345678901234567890123456789012345678901234.x", false},
        {"endpoint trailing dot", owls_config_check_endpoint, "http://h.", false},
        {"queue aws", owls_config_check_queue_url,
         "https://sqs.us-east-1.amazonaws.com/123456789012/owls-q4-work", true},
        {"queue moto", owls_config_check_queue_url, "http://127.0.0.1:5000/123456789012/q_1", true},
        {"queue trailing slash", owls_config_check_queue_url, "http://h/1/q/", false},
        {"queue name 80", owls_config_check_queue_url,
         "http://h/1/a2345678901234567890123456789012345678901234567890123456789012345678901234567"
         "890",
         true},
        {"queue name 81", owls_config_check_queue_url,
         "http://h/1/a2345678901234567890123456789012345678901234567890123456789012345678901234567"
         "8901",
         false},
        {"queue only fifo", owls_config_check_queue_url, "http://h/1/.fifo", false},
        {"queue dot name", owls_config_check_queue_url, "http://h/1/a.b", false},
        {"queue account symbol", owls_config_check_queue_url, "http://h/1-2/q", false},
    };

    for (size_t i = 0; i < OWLS_ARRAY_LEN(cases); i++) {
        const char *why = NULL;
        bool ok = cases[i].fn(cases[i].s, &why);
        if (ok != cases[i].ok)
            fail_msg("%s: %s, want %s", cases[i].name, ok ? "accepted" : why,
                     cases[i].ok ? "accepted" : "refused");
        if (!ok && why == NULL)
            fail_msg("%s: refused without a reason", cases[i].name);
    }
}

static void test_numbers(void **state)
{
    (void)state;
    static const struct {
        const char *name, *s;
        bool size; /* parse_size, else parse_uint with max 1000 */
        bool ok;
        uint64_t want;
    } cases[] = {
        {"uint 0", "0", false, true, 0},
        {"uint max", "1000", false, true, 1000},
        {"uint over", "1001", false, false, 0},
        {"uint empty", "", false, false, 0},
        {"uint space", " 1", false, false, 0},
        {"uint 2^64", "18446744073709551616", false, false, 0},
        {"size bytes", "1", true, true, 1},
        {"size K", "1K", true, true, 1024},
        {"size KiB", "3KiB", true, true, 3072},
        {"size MiB", "1MiB", true, true, 1048576},
        {"size G", "1G", true, true, 1073741824},
        {"size TiB", "2TiB", true, true, 2199023255552},
        {"size int64 max", "9223372036854775807", true, true, 9223372036854775807},
        {"size over int64", "9223372036854775808", true, false, 0},
        {"size T max", "8388607T", true, true, 9223370937343148032},
        {"size T over", "8388608T", true, false, 0},
        {"size lower k", "1k", true, false, 0},
        {"size suffix only", "K", true, false, 0},
        {"size space", "1 K", true, false, 0},
        {"size B", "1B", true, false, 0},
        {"size P", "1P", true, false, 0},
        {"size long digits", "000000000000000000000001", true, false, 0},
    };

    for (size_t i = 0; i < OWLS_ARRAY_LEN(cases); i++) {
        uint64_t v = 12345;
        bool ok = cases[i].size ? owls_config_parse_size(cases[i].s, &v)
                                : owls_config_parse_uint(cases[i].s, 1000, &v);
        if (ok != cases[i].ok)
            fail_msg("%s: %s", cases[i].name, ok ? "accepted" : "refused");
        if (ok && v != cases[i].want)
            fail_msg("%s: %llu, want %llu", cases[i].name, (unsigned long long)v,
                     (unsigned long long)cases[i].want);
    }
}

static void test_getenv(void **state)
{
    (void)state;
    char *const env[] = {"A=1", "AB=2", "EMPTY=", "NOEQ", "B==x", NULL};

    assert_string_equal(owls_config_getenv(env, "A"), "1");
    assert_string_equal(owls_config_getenv(env, "AB"), "2");
    assert_string_equal(owls_config_getenv(env, "B"), "=x");
    assert_null(owls_config_getenv(env, "EMPTY"));
    assert_null(owls_config_getenv(env, "NOEQ"));
    assert_null(owls_config_getenv(env, "C"));
    assert_string_equal(owls_config_key_name(OWLS_CFG_MAX_MESSAGES), "[sqs] max_messages");
    assert_string_equal(owls_s3_addressing_name(OWLS_S3_ADDR_VIRTUAL), "virtual");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_spec_example),    cmocka_unit_test(test_defaults),
        cmocka_unit_test(test_shipped_example), cmocka_unit_test(test_bad_values),
        cmocka_unit_test(test_good_values),     cmocka_unit_test(test_syntax_errors),
        cmocka_unit_test(test_nul_byte),        cmocka_unit_test(test_comments),
        cmocka_unit_test(test_env_overrides),   cmocka_unit_test(test_env_errors),
        cmocka_unit_test(test_env_ca_bundle),   cmocka_unit_test(test_env_process),
        cmocka_unit_test(test_creds_summary),   cmocka_unit_test(test_required),
        cmocka_unit_test(test_cross_checks),    cmocka_unit_test(test_print_round_trip),
        cmocka_unit_test(test_print_content),   cmocka_unit_test(test_equal),
        cmocka_unit_test(test_missing_file),    cmocka_unit_test(test_file_and_reload),
        cmocka_unit_test(test_worker_threads),  cmocka_unit_test(test_validators),
        cmocka_unit_test(test_numbers),         cmocka_unit_test(test_getenv),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
