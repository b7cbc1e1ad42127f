/*
 * config.h - the daemon's configuration (SPEC section 7): /etc/owls-q4.conf
 * plus the standard AWS environment variables that override it.
 *
 * A loaded configuration is a plain, immutable record: read its fields, share
 * it read-only between threads, free it with owls_config_free(). It holds no
 * secrets: the credentials chain (creds.h) reads AWS_ACCESS_KEY_ID & co.
 * itself; the record only remembers, for --check-config, which credential
 * variables are set (never their secret values).
 *
 * Every effective value records where it came from (default, file:line or an
 * environment variable), so that --check-config can say it.
 *
 * Errors are OWLS_ECONFIG (sysexits 78) with a message naming the file, the
 * line and the key, e.g.
 *   /etc/owls-q4.conf:12: [sqs] wait_time_seconds: must be an integer 0..20, got "25"
 */
#ifndef OWLS_CONFIG_H
#define OWLS_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "owls/endpoint.h"
#include "owls/err.h"

#define OWLS_CONFIG_DEFAULT_PATH "/etc/owls-q4.conf"
#define OWLS_CONFIG_MAX_THREADS  256

/* [s3] addressing is endpoint.h's enum owls_s3_addressing: AUTO leaves the
 * choice to the S3 client (virtual-hosted style where the endpoint and the
 * bucket name allow it, path style otherwise, e.g. on moto or LocalStack). */

/* Every effective setting, in the order --check-config prints them. */
enum owls_config_key {
    OWLS_CFG_REGION = 0,
    OWLS_CFG_ENDPOINT_URL,
    OWLS_CFG_ARCHIVE_BUCKET,
    OWLS_CFG_ARTIFACTS_BUCKET,
    OWLS_CFG_ADDRESSING,
    OWLS_CFG_WORK_QUEUE_URL,
    OWLS_CFG_DONE_QUEUE_URL,
    OWLS_CFG_WAIT_TIME_SECONDS,
    OWLS_CFG_MAX_MESSAGES,
    OWLS_CFG_VISIBILITY_TIMEOUT,
    OWLS_CFG_THREADS,
    OWLS_CFG_MAX_INPUT_BYTES,
    OWLS_CFG_SHUTDOWN_GRACE_SECONDS,
    OWLS_CFG_LOG_LEVEL,
    /* set only by the environment (no key in the file) */
    OWLS_CFG_ENDPOINT_S3,
    OWLS_CFG_ENDPOINT_SQS,
    OWLS_CFG_CA_BUNDLE,
    OWLS_CFG_KEY_COUNT
};

enum owls_config_source {
    OWLS_CFG_FROM_DEFAULT = 0,
    OWLS_CFG_FROM_FILE,
    OWLS_CFG_FROM_ENV,
};

struct owls_config_origin {
    enum owls_config_source source;
    int line;        /* FROM_FILE: 1-based line of the owning config's path */
    const char *env; /* FROM_ENV: the variable's name (static storage) */
};

/* What the environment says about credentials, for --check-config only.
 * Never a secret: the access key id is kept as its last 4 characters (as
 * `aws configure list` shows it), the secret key and tokens as "set or not". */
struct owls_config_creds_env {
    bool access_key_id;            /* AWS_ACCESS_KEY_ID set (non-empty) */
    char access_key_tail[5];       /* its last 4 characters, "" if shorter than 16 */
    bool secret_access_key;        /* AWS_SECRET_ACCESS_KEY set */
    bool session_token;            /* AWS_SESSION_TOKEN set */
    bool container;                /* AWS_CONTAINER_CREDENTIALS_{RELATIVE,FULL}_URI set */
    char *profile;                 /* AWS_PROFILE, or NULL; owned */
    char *shared_credentials_file; /* AWS_SHARED_CREDENTIALS_FILE, or NULL; owned */
    char *config_file;             /* AWS_CONFIG_FILE, or NULL; owned */
    char *ec2_metadata_disabled;   /* AWS_EC2_METADATA_DISABLED, or NULL; owned */
};

/* All strings are owned by the record (free them only through
 * owls_config_free()). Required strings are never NULL. */
struct owls_config {
    char *path; /* the file (or the name given to owls_config_load_string) */

    char *region;       /* [aws] region; AWS_REGION > AWS_DEFAULT_REGION > file */
    char *endpoint_url; /* [aws] endpoint_url or AWS_ENDPOINT_URL; NULL = AWS's
                           own endpoints. http(s)://host[:port], no trailing '/' */
    char *endpoint_s3;  /* effective S3 endpoint: AWS_ENDPOINT_URL_S3, else
                           endpoint_url; NULL = AWS */
    char *endpoint_sqs; /* the same with AWS_ENDPOINT_URL_SQS */
    char *ca_bundle;    /* AWS_CA_BUNDLE (a readable file); NULL = system store */

    char *archive_bucket;   /* [s3], required, S3 bucket naming rules */
    char *artifacts_bucket; /* [s3], required, differs from archive_bucket */
    enum owls_s3_addressing addressing;

    char *work_queue_url;   /* [sqs], required, http(s)://host[:port]/ACCOUNT/NAME */
    char *done_queue_url;   /* [sqs], required, differs from work_queue_url */
    int wait_time_seconds;  /* 0..20, default 20 */
    int max_messages;       /* 1..10, default 10 */
    int visibility_timeout; /* 1..43200 seconds, default 300 */

    int threads;                /* 0..OWLS_CONFIG_MAX_THREADS, 0 = one per CPU */
    uint64_t max_input_bytes;   /* 0 = no limit */
    int shutdown_grace_seconds; /* 0..3600, default 60 */

    int log_level; /* syslog.h LOG_ERR..LOG_DEBUG, default LOG_INFO */

    struct owls_config_origin origin[OWLS_CFG_KEY_COUNT];
    struct owls_config_creds_env creds_env;
};

/*
 * Read path (NULL: OWLS_CONFIG_DEFAULT_PATH), apply the environment envp
 * (a NULL-terminated "NAME=value" array, borrowed; NULL means the process's
 * environ) and validate everything. On success *out is a new record (caller
 * frees with owls_config_free()); on failure *out is NULL, the return is
 * OWLS_ECONFIG and em (may be NULL) names the file, line and key. A missing
 * or unreadable file is OWLS_ECONFIG too (the tools exit 78 for it).
 * Reentrant; with envp == NULL it must not race setenv().
 */
enum owls_err owls_config_load(const char *path, char *const *envp, struct owls_config **out,
                               struct owls_errmsg *em);

/* The same from len bytes of text in memory (need not be NUL-terminated;
 * a NUL byte inside is an error). name (may be NULL) stands for the file in
 * messages and becomes the record's path. */
enum owls_err owls_config_load_string(const char *text, size_t len, const char *name,
                                      char *const *envp, struct owls_config **out,
                                      struct owls_errmsg *em);

/*
 * For SIGHUP: re-read cur->path with envp and validate it whole. On success
 * *level is the new [log] level and *others_changed tells whether any other
 * effective setting differs from cur (those need a restart; the caller
 * should say so). On failure (OWLS_ECONFIG, em says why) *level and
 * *others_changed are untouched and the caller keeps running as it is.
 */
enum owls_err owls_config_reload_log_level(const struct owls_config *cur, char *const *envp,
                                           int *level, bool *others_changed,
                                           struct owls_errmsg *em);

/*
 * Write the effective configuration to out as INI that owls_config_load()
 * reads back to an equal record (given the same environment): every key,
 * each with a comment saying where its value came from, the environment-only
 * settings (per-service endpoints, CA bundle) and the credential variables
 * as comments, secrets masked as ****. Not thread-safe on the same FILE.
 */
void owls_config_print(const struct owls_config *c, FILE *out);

/* True when a and b have the same effective values (origins, path and the
 * credentials summary are not compared). */
bool owls_config_equal(const struct owls_config *a, const struct owls_config *b);

/* The number of worker threads to start: c->threads, or when it is 0 the
 * CPUs this process may run on (sched_getaffinity), within
 * 1..OWLS_CONFIG_MAX_THREADS. */
int owls_config_worker_threads(const struct owls_config *c);

/* "[sqs] wait_time_seconds", "env AWS_ENDPOINT_URL_S3", ...; static storage. */
const char *owls_config_key_name(enum owls_config_key key);

/* "auto", "path", "virtual"; static storage. */
const char *owls_s3_addressing_name(enum owls_s3_addressing a);

/* Free c and everything it owns; NULL is fine. */
void owls_config_free(struct owls_config *c);

#endif
