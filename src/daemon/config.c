/*
 * DESIGN: the configuration of SPEC section 7, read once at start-up (and
 * again on SIGHUP for the log level) into an immutable struct owls_config.
 *
 * Reading: libinih (Debian's build: inline comments start with ';' after
 * whitespace, indented lines continue the previous value, lines are cut at
 * 200 bytes, "key: value" and "[s] junk" are accepted). SPEC wants '#' as the
 * comment character, at the start of a line or after whitespace, and nothing
 * else, so inih is not handed the raw text: ini_parse_stream() pulls one
 * physical line at a time from reader(), which
 *   - counts lines (Debian's inih does not pass line numbers to handlers, and
 *     inih calls the handler for a line before it asks for the next one, so
 *     the reader's count is the handler's line);
 *   - removes SPEC comments: '#' at the start of the line or after a space or
 *     tab starts one ("a#b" is a value, "a #b" is "a"); a line whose first
 *     non-blank character is ';' is a comment too (INI habit; inih agrees);
 *   - trims the line, so inih never sees an indented continuation line;
 *   - rejects what inih would silently accept: control characters and NUL
 *     bytes, "key: value", text after "[section]", unknown sections and keys,
 *     values with blanks in them (no setting can contain one, and inih would
 *     cut "a ;b" to "a"), and lines longer than inih's buffer;
 *   - hands inih the normalized line "[section]" or "key=value".
 * The handler checks that inih saw the same section, key and value as the
 * reader (a cheap guard that the fuzzer exercises), refuses duplicates and
 * validates the value. The first error stops the parse; its message names
 * file, line and key.
 *
 * Then the environment (an envp array, so tests need not touch the process's
 * own) overrides region, endpoints and the CA bundle, required keys are
 * checked, and settings that only make sense together are cross-checked.
 *
 * Owns: the struct owls_config and its strings. No threads, no globals (inih's
 * Debian-only runtime knobs are left alone: they are process-wide).
 */
#include <inttypes.h>
#include <ini.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include "owls/config.h"
#include "owls/fsio.h"
#include "owls/log.h"
#include "owls/util.h"
#ifdef OWLS_UNIT_TEST
#include "owls/private/config.h"
#endif

/* A configuration file is a few hundred bytes; anything near this is a
 * wrong path (a log, a core file) and not worth parsing. */
#define MAX_CONFIG_BYTES (1u << 20)
/* Longest value quoted back in an error message. */
#define QUOTE_MAX 64
/* Column where --check-config starts the "# origin" comments. */
#define PRINT_COMMENT_COL 40

enum kind {
    KIND_REGION,
    KIND_ENDPOINT,
    KIND_FILE,
    KIND_BUCKET,
    KIND_ADDRESSING,
    KIND_QUEUE_URL,
    KIND_INT,
    KIND_SIZE,
    KIND_LOG_LEVEL,
};

struct key_def {
    const char *section; /* NULL: set only from the environment */
    const char *name;
    const char *label; /* for messages and owls_config_key_name() */
    enum kind kind;
    int min, max; /* KIND_INT */
    size_t off;   /* the field in struct owls_config */
    const char *dflt;
    bool required;
};

#define FIELD(f) offsetof(struct owls_config, f)

static const struct key_def s_keys[OWLS_CFG_KEY_COUNT] = {
    [OWLS_CFG_REGION] = {"aws", "region", "[aws] region", KIND_REGION, 0, 0, FIELD(region),
                         "us-east-1", false},
    [OWLS_CFG_ENDPOINT_URL] = {"aws", "endpoint_url", "[aws] endpoint_url", KIND_ENDPOINT, 0, 0,
                               FIELD(endpoint_url), "", false},
    [OWLS_CFG_ARCHIVE_BUCKET] = {"s3", "archive_bucket", "[s3] archive_bucket", KIND_BUCKET, 0, 0,
                                 FIELD(archive_bucket), NULL, true},
    [OWLS_CFG_ARTIFACTS_BUCKET] = {"s3", "artifacts_bucket", "[s3] artifacts_bucket", KIND_BUCKET,
                                   0, 0, FIELD(artifacts_bucket), NULL, true},
    [OWLS_CFG_ADDRESSING] = {"s3", "addressing", "[s3] addressing", KIND_ADDRESSING, 0, 0,
                             FIELD(addressing), "auto", false},
    [OWLS_CFG_WORK_QUEUE_URL] = {"sqs", "work_queue_url", "[sqs] work_queue_url", KIND_QUEUE_URL, 0,
                                 0, FIELD(work_queue_url), NULL, true},
    [OWLS_CFG_DONE_QUEUE_URL] = {"sqs", "done_queue_url", "[sqs] done_queue_url", KIND_QUEUE_URL, 0,
                                 0, FIELD(done_queue_url), NULL, true},
    [OWLS_CFG_WAIT_TIME_SECONDS] = {"sqs", "wait_time_seconds", "[sqs] wait_time_seconds", KIND_INT,
                                    0, 20, FIELD(wait_time_seconds), "20", false},
    [OWLS_CFG_MAX_MESSAGES] = {"sqs", "max_messages", "[sqs] max_messages", KIND_INT, 1, 10,
                               FIELD(max_messages), "10", false},
    [OWLS_CFG_VISIBILITY_TIMEOUT] = {"sqs", "visibility_timeout", "[sqs] visibility_timeout",
                                     KIND_INT, 1, 43200, FIELD(visibility_timeout), "300", false},
    [OWLS_CFG_THREADS] = {"worker", "threads", "[worker] threads", KIND_INT, 0,
                          OWLS_CONFIG_MAX_THREADS, FIELD(threads), "0", false},
    [OWLS_CFG_MAX_INPUT_BYTES] = {"worker", "max_input_bytes", "[worker] max_input_bytes",
                                  KIND_SIZE, 0, 0, FIELD(max_input_bytes), "0", false},
    [OWLS_CFG_SHUTDOWN_GRACE_SECONDS] = {"worker", "shutdown_grace_seconds",
                                         "[worker] shutdown_grace_seconds", KIND_INT, 0, 3600,
                                         FIELD(shutdown_grace_seconds), "60", false},
    [OWLS_CFG_LOG_LEVEL] = {"log", "level", "[log] level", KIND_LOG_LEVEL, 0, 0, FIELD(log_level),
                            "info", false},
    [OWLS_CFG_ENDPOINT_S3] = {NULL, "AWS_ENDPOINT_URL_S3", "env AWS_ENDPOINT_URL_S3", KIND_ENDPOINT,
                              0, 0, FIELD(endpoint_s3), NULL, false},
    [OWLS_CFG_ENDPOINT_SQS] = {NULL, "AWS_ENDPOINT_URL_SQS", "env AWS_ENDPOINT_URL_SQS",
                               KIND_ENDPOINT, 0, 0, FIELD(endpoint_sqs), NULL, false},
    [OWLS_CFG_CA_BUNDLE] = {NULL, "AWS_CA_BUNDLE", "env AWS_CA_BUNDLE", KIND_FILE, 0, 0,
                            FIELD(ca_bundle), NULL, false},
};

static const char *const s_sections[] = {"aws", "s3", "sqs", "worker", "log"};

static const char *const s_addressing[] = {
    [OWLS_S3_ADDR_AUTO] = "auto",
    [OWLS_S3_ADDR_PATH] = "path",
    [OWLS_S3_ADDR_VIRTUAL] = "virtual",
};

/* ---- small helpers --------------------------------------------------------- */

static bool is_blank(char ch)
{
    return ch == ' ' || ch == '\t';
}

static bool is_digit(char ch)
{
    return ch >= '0' && ch <= '9';
}

static bool is_lower_alnum(char ch)
{
    return (ch >= 'a' && ch <= 'z') || is_digit(ch);
}

static bool is_alnum(char ch)
{
    return is_lower_alnum(ch) || (ch >= 'A' && ch <= 'Z');
}

static bool starts_with(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && memcmp(s + n - m, suffix, m) == 0;
}

/* Strings that may both be NULL. */
static bool str_eq(const char *a, const char *b)
{
    if (a == NULL || b == NULL)
        return a == b;
    return strcmp(a, b) == 0;
}

/* A URL's user information ("user:password@") as "****@": error messages
 * go to the journal, and a password in an endpoint must not follow. */
static const char *mask_userinfo(const char *s, char *buf, size_t n)
{
    const char *p = strstr(s, "://"), *at;

    if (p == NULL)
        return s;
    p += 3;
    at = memrchr(p, '@', strcspn(p, "/?#"));
    if (at == NULL)
        return s;
    snprintf(buf, n, "%.*s****%s", (int)(p - s), s, at);
    return buf;
}

/* s between double quotes for a message: a URL's user information masked,
 * non-printable bytes as \xNN, cut after QUOTE_MAX bytes with "...". dst
 * holds at least QUOTE_MAX * 4 + 8. */
static void quote(char *dst, size_t n, const char *s)
{
    char masked[QUOTE_MAX + 16];
    size_t o = 0, i;

    s = mask_userinfo(s, masked, sizeof(masked));

    dst[o++] = '"';
    for (i = 0; s[i] != '\0' && i < QUOTE_MAX && o + 6 < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch < 0x20 || ch >= 0x7f || ch == '"' || ch == '\\')
            o += (size_t)snprintf(dst + o, n - o, "\\x%02x", ch);
        else
            dst[o++] = (char)ch;
    }
    if (s[i] != '\0' && o + 5 < n) {
        memcpy(dst + o, "...", 3);
        o += 3;
    }
    dst[o++] = '"';
    dst[o] = '\0';
}

#define QUOTE_BUF (QUOTE_MAX * 4 + 8)

/* Write s to out for use inside a comment: a newline in an environment
 * variable must not start a line of its own. */
static void put_comment_text(FILE *out, const char *s)
{
    for (; *s != '\0'; s++) {
        unsigned char ch = (unsigned char)*s;
        fputc(ch < 0x20 || ch == 0x7f ? '?' : ch, out);
    }
}

OWLS_TESTABLE const char *owls_config_getenv(char *const *envp, const char *name)
{
    size_t n = strlen(name);

    if (envp == NULL)
        envp = environ;
    for (; envp != NULL && *envp != NULL; envp++) {
        if (strncmp(*envp, name, n) == 0 && (*envp)[n] == '=')
            return (*envp)[n + 1] != '\0' ? *envp + n + 1 : NULL;
    }
    return NULL;
}

/* ---- value grammar --------------------------------------------------------- */

OWLS_TESTABLE bool owls_config_parse_uint(const char *s, uint64_t max, uint64_t *out)
{
    uint64_t v = 0;

    if (*s == '\0')
        return false;
    for (; *s != '\0'; s++) {
        if (!is_digit(*s))
            return false;
        if (v > (UINT64_MAX - (uint64_t)(*s - '0')) / 10)
            return false;
        v = v * 10 + (uint64_t)(*s - '0');
    }
    if (v > max)
        return false;
    *out = v;
    return true;
}

OWLS_TESTABLE bool owls_config_parse_size(const char *s, uint64_t *out)
{
    static const struct {
        const char *suffix;
        unsigned shift;
    } units[] = {
        {"", 0},     {"K", 10},   {"M", 20},   {"G", 30},   {"T", 40},
        {"KiB", 10}, {"MiB", 20}, {"GiB", 30}, {"TiB", 40},
    };
    char digits[24];
    size_t n = strspn(s, "0123456789");
    uint64_t v;

    if (n == 0 || n >= sizeof(digits))
        return false;
    memcpy(digits, s, n);
    digits[n] = '\0';
    for (size_t i = 0; i < OWLS_ARRAY_LEN(units); i++) {
        if (strcmp(s + n, units[i].suffix) != 0)
            continue;
        if (!owls_config_parse_uint(digits, (uint64_t)INT64_MAX >> units[i].shift, &v))
            return false;
        *out = v << units[i].shift;
        return true;
    }
    return false;
}

OWLS_TESTABLE bool owls_config_check_region(const char *s, const char **why)
{
    size_t n = strlen(s);

    *why = "must be 1 to 63 lowercase letters, digits and '-', starting and ending with a "
           "letter or digit";
    if (n == 0 || n > 63 || !is_lower_alnum(s[0]) || !is_lower_alnum(s[n - 1]))
        return false;
    for (size_t i = 0; i < n; i++)
        if (!is_lower_alnum(s[i]) && s[i] != '-')
            return false;
    return true;
}

/* Four dot-separated groups of digits, like 192.168.5.4. */
static bool looks_like_ipv4(const char *s)
{
    int groups = 0;

    while (*s != '\0') {
        size_t n = strspn(s, "0123456789");
        if (n == 0 || n > 3)
            return false;
        groups++;
        s += n;
        if (*s == '.')
            s++;
        else if (*s != '\0')
            return false;
    }
    return groups == 4;
}

OWLS_TESTABLE bool owls_config_check_bucket(const char *s, const char **why)
{
    static const char *const bad_prefix[] = {"xn--", "sthree-", "amzn-s3-demo-"};
    static const char *const bad_suffix[] = {"-s3alias", "--ol-s3", ".mrap", "--x-s3",
                                             "--table-s3"};
    size_t n = strlen(s);

    *why = NULL;
    if (n < 3 || n > 63)
        *why = "must be 3 to 63 characters long";
    else if (strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789.-") != n)
        *why = "may contain only lowercase letters, digits, '.' and '-'";
    else if (!is_lower_alnum(s[0]) || !is_lower_alnum(s[n - 1]))
        *why = "must begin and end with a letter or digit";
    else if (strstr(s, "..") != NULL)
        *why = "must not contain \"..\"";
    else if (looks_like_ipv4(s))
        *why = "must not look like an IP address";
    for (size_t i = 0; *why == NULL && i < OWLS_ARRAY_LEN(bad_prefix); i++)
        if (starts_with(s, bad_prefix[i]))
            *why = "starts with a prefix that S3 reserves";
    for (size_t i = 0; *why == NULL && i < OWLS_ARRAY_LEN(bad_suffix); i++)
        if (ends_with(s, bad_suffix[i]))
            *why = "ends with a suffix that S3 reserves";
    if (*why != NULL)
        return false;
    return true;
}

/* host[:port] of an http(s) URL: a DNS name or IPv4 address, or an IPv6
 * address in brackets; port 1..65535. */
static bool check_authority(const char *a, size_t n, const char **why)
{
    const char *colon = NULL;
    size_t hostlen;

    *why = "has no host";
    if (n == 0)
        return false;
    *why = "must not contain user information ('@')";
    if (memchr(a, '@', n) != NULL)
        return false;
    if (a[0] == '[') {
        const char *close = memchr(a, ']', n);
        *why = "has a bad IPv6 address";
        if (close == NULL || close == a + 1)
            return false;
        for (const char *p = a + 1; p < close; p++)
            if (strchr("0123456789abcdefABCDEF:.", *p) == NULL)
                return false;
        hostlen = (size_t)(close - a) + 1;
        if (hostlen < n && a[hostlen] != ':') {
            *why = "has junk after the IPv6 address";
            return false;
        }
        colon = hostlen < n ? a + hostlen : NULL;
    } else {
        size_t label = 0;
        colon = memchr(a, ':', n);
        hostlen = colon != NULL ? (size_t)(colon - a) : n;
        *why = "has a bad host name";
        if (hostlen == 0 || hostlen > 253)
            return false;
        for (size_t i = 0; i < hostlen; i++) {
            if (a[i] == '.') {
                if (label == 0)
                    return false;
                label = 0;
            } else if (is_alnum(a[i]) || a[i] == '-') {
                if (++label > 63)
                    return false;
            } else {
                return false;
            }
        }
        if (label == 0)
            return false;
    }
    if (colon != NULL) {
        char port[8];
        size_t plen = n - (size_t)(colon - a) - 1;
        uint64_t v;
        *why = "has a bad port (must be 1..65535)";
        if (plen == 0 || plen >= sizeof(port))
            return false;
        memcpy(port, colon + 1, plen);
        port[plen] = '\0';
        if (!owls_config_parse_uint(port, 65535, &v) || v == 0)
            return false;
    }
    return true;
}

/* Split an http(s) URL into its authority (checked) and the rest. */
static bool check_url_head(const char *s, const char **path, const char **why)
{
    const char *a, *end;

    if (starts_with(s, "https://"))
        a = s + 8;
    else if (starts_with(s, "http://"))
        a = s + 7;
    else {
        *why = "must start with http:// or https://";
        return false;
    }
    for (const char *p = s; *p != '\0'; p++) {
        unsigned char ch = (unsigned char)*p;
        if (ch <= 0x20 || ch >= 0x7f) {
            *why = "contains a character that a URL cannot";
            return false;
        }
    }
    if (strpbrk(s, "?#") != NULL) {
        *why = "must not have a query or a fragment";
        return false;
    }
    end = a + strcspn(a, "/");
    if (!check_authority(a, (size_t)(end - a), why))
        return false;
    *path = end;
    return true;
}

OWLS_TESTABLE bool owls_config_check_endpoint(const char *s, const char **why)
{
    const char *path;

    if (!check_url_head(s, &path, why))
        return false;
    if (path[0] != '\0' && strcmp(path, "/") != 0) {
        *why = "must be http(s)://host[:port], without a path";
        return false;
    }
    return true;
}

OWLS_TESTABLE bool owls_config_check_queue_url(const char *s, const char **why)
{
    const char *path, *name;
    size_t acct, namelen, base;

    if (!check_url_head(s, &path, why))
        return false;
    *why = "must be http(s)://host[:port]/ACCOUNT-ID/QUEUE-NAME";
    if (path[0] != '/')
        return false;
    path++;
    acct = strcspn(path, "/");
    if (acct == 0 || acct > 64 || path[acct] != '/')
        return false;
    for (size_t i = 0; i < acct; i++)
        if (!is_alnum(path[i]))
            return false;
    name = path + acct + 1;
    namelen = strlen(name);
    base = ends_with(name, ".fifo") ? namelen - 5 : namelen;
    if (base == 0 || namelen > 80) {
        *why = "queue name must be 1 to 80 characters";
        return false;
    }
    for (size_t i = 0; i < base; i++) {
        if (!is_alnum(name[i]) && name[i] != '-' && name[i] != '_') {
            *why = "queue name may contain only letters, digits, '-' and '_' (and end in .fifo)";
            return false;
        }
    }
    return true;
}

/* The region of an AWS SQS host name (sqs.<region>.amazonaws.com[.cn]) in a
 * queue URL, into buf; false for other hosts (emulators, VPC endpoints). */
static bool queue_url_region(const char *url, char *buf, size_t n)
{
    const char *host = strstr(url, "://"), *end, *dot;
    size_t len;

    if (host == NULL)
        return false;
    host += 3;
    end = host + strcspn(host, ":/");
    if (strncmp(host, "sqs.", 4) != 0)
        return false;
    host += 4;
    dot = memchr(host, '.', (size_t)(end - host));
    if (dot == NULL)
        return false;
    len = (size_t)(end - dot);
    if (!((len == 14 && strncmp(dot, ".amazonaws.com", 14) == 0) ||
          (len == 17 && strncmp(dot, ".amazonaws.com.cn", 17) == 0)))
        return false;
    if ((size_t)(dot - host) >= n)
        return false;
    memcpy(buf, host, (size_t)(dot - host));
    buf[dot - host] = '\0';
    return true;
}

/* ---- setting values -------------------------------------------------------- */

static char **str_field(struct owls_config *c, const struct key_def *k)
{
    return (char **)((char *)c + k->off);
}

static const char *str_value(const struct owls_config *c, const struct key_def *k)
{
    return *(char *const *)(const void *)((const char *)c + k->off);
}

static const int *int_value(const struct owls_config *c, const struct key_def *k)
{
    return (const int *)(const void *)((const char *)c + k->off);
}

static bool is_str_kind(enum kind kind)
{
    return kind != KIND_ADDRESSING && kind != KIND_INT && kind != KIND_SIZE &&
           kind != KIND_LOG_LEVEL;
}

static void set_str(struct owls_config *c, const struct key_def *k, const char *v)
{
    char **f = str_field(c, k);

    free(*f);
    *f = v != NULL ? owls_xstrdup(v) : NULL;
}

/* Set k in c from the text v. On a bad value: false, and why (n bytes) says
 * what the value must be. */
static bool apply(struct owls_config *c, const struct key_def *k, const char *v, char *why,
                  size_t n)
{
    const char *w = NULL;
    uint64_t u;
    int level;

    switch (k->kind) {
    case KIND_REGION:
        if (!owls_config_check_region(v, &w))
            break;
        set_str(c, k, v);
        return true;
    case KIND_ENDPOINT:
        if (v[0] == '\0') {
            set_str(c, k, NULL);
            return true;
        }
        if (!owls_config_check_endpoint(v, &w))
            break;
        set_str(c, k, v);
        if (ends_with(v, "/")) /* one spelling, so that clients can append paths */
            (*str_field(c, k))[strlen(v) - 1] = '\0';
        return true;
    case KIND_FILE: {
        struct stat st;
        if (stat(v, &st) != 0 || !S_ISREG(st.st_mode) || access(v, R_OK) != 0) {
            w = "must name a readable file";
            break;
        }
        set_str(c, k, v);
        return true;
    }
    case KIND_BUCKET:
        if (!owls_config_check_bucket(v, &w)) {
            snprintf(why, n, "not a valid S3 bucket name: %s", w);
            return false;
        }
        set_str(c, k, v);
        return true;
    case KIND_ADDRESSING:
        for (size_t i = 0; i < OWLS_ARRAY_LEN(s_addressing); i++) {
            if (strcmp(v, s_addressing[i]) == 0) {
                c->addressing = (enum owls_s3_addressing)i;
                return true;
            }
        }
        w = "must be auto, path or virtual";
        break;
    case KIND_QUEUE_URL:
        if (!owls_config_check_queue_url(v, &w)) {
            snprintf(why, n, "not an SQS queue URL: %s", w);
            return false;
        }
        set_str(c, k, v);
        return true;
    case KIND_INT:
        if (!owls_config_parse_uint(v, (uint64_t)k->max, &u) || u < (uint64_t)k->min) {
            snprintf(why, n, "must be an integer %d..%d", k->min, k->max);
            return false;
        }
        *(int *)(void *)((char *)c + k->off) = (int)u;
        return true;
    case KIND_SIZE:
        if (!owls_config_parse_size(v, &u)) {
            w = "must be a byte count: an integer, optionally followed by K, M, G or T "
                "(or KiB, MiB, GiB, TiB: powers of 1024); 0 = no limit";
            break;
        }
        c->max_input_bytes = u;
        return true;
    case KIND_LOG_LEVEL:
        level = log_level_from_name(v);
        if (level < LOG_ERR || level > LOG_DEBUG) {
            w = "must be debug, info, notice, warning or err";
            break;
        }
        c->log_level = level;
        return true;
    }
    snprintf(why, n, "%s", w != NULL ? w : "bad value");
    return false;
}

/* "file:line" for a value set in the file, else "file". */
static void where(const struct owls_config *c, enum owls_config_key key, char *buf, size_t n)
{
    if (c->origin[key].source == OWLS_CFG_FROM_FILE)
        snprintf(buf, n, "%s:%d", c->path, c->origin[key].line);
    else
        snprintf(buf, n, "%s", c->path);
}

/* "[sqs] wait_time_seconds" or, for a value from the environment,
 * "env AWS_REGION (overrides [aws] region)". */
static void who(const struct owls_config *c, enum owls_config_key key, char *buf, size_t n)
{
    const struct owls_config_origin *o = &c->origin[key];

    if (o->source == OWLS_CFG_FROM_ENV && s_keys[key].section != NULL)
        snprintf(buf, n, "env %s (overrides %s)", o->env, s_keys[key].label);
    else if (o->source == OWLS_CFG_FROM_ENV)
        snprintf(buf, n, "env %s", o->env);
    else
        snprintf(buf, n, "%s", s_keys[key].label);
}

static struct owls_config *config_new(const char *name)
{
    struct owls_config *c = owls_xcalloc(1, sizeof(*c));
    char why[256];

    c->path = owls_xstrdup(name);
    for (int key = 0; key < OWLS_CFG_KEY_COUNT; key++) {
        if (s_keys[key].dflt != NULL && !apply(c, &s_keys[key], s_keys[key].dflt, why, sizeof(why)))
            fatalx("config: default of %s: %s", s_keys[key].label, why); /* a bug */
    }
    return c;
}

/* ---- reading the file through inih ----------------------------------------- */

struct parse {
    struct owls_config *c;
    struct owls_errmsg *em;
    const char *p, *end; /* the rest of the input */
    char *line;          /* scratch for the current line */
    int lineno;
    bool failed;
    const char *section;       /* current section (s_sections), NULL before one */
    const struct key_def *key; /* key of the current line, NULL on other lines */
    const char *value;         /* its value (in line) */
};

static void parse_fail(struct parse *ps, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void parse_fail(struct parse *ps, const char *fmt, ...)
{
    char msg[sizeof(ps->em->text)];
    va_list ap;

    if (ps->failed)
        return;
    ps->failed = true;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    owls_errmsg_set(ps->em, OWLS_ECONFIG, "%s:%d: %s", ps->c->path, ps->lineno, msg);
}

static const struct key_def *find_key(const char *section, const char *name)
{
    for (int key = 0; key < OWLS_CFG_KEY_COUNT; key++) {
        const struct key_def *k = &s_keys[key];
        if (k->section != NULL && strcmp(k->section, section) == 0 && strcmp(k->name, name) == 0)
            return k;
    }
    return NULL;
}

/* "region, endpoint_url" for the message about an unknown key. */
static void known_keys(const char *section, char *buf, size_t n)
{
    size_t o = 0;

    buf[0] = '\0';
    for (int key = 0; key < OWLS_CFG_KEY_COUNT && o < n; key++) {
        const struct key_def *k = &s_keys[key];
        if (k->section != NULL && strcmp(k->section, section) == 0)
            o += (size_t)snprintf(buf + o, n - o, "%s%s", o ? ", " : "", k->name);
    }
}

static char *rtrim(char *s)
{
    size_t n = strlen(s);

    while (n > 0 && is_blank(s[n - 1]))
        s[--n] = '\0';
    return s;
}

static char *ltrim(char *s)
{
    while (is_blank(*s))
        s++;
    return s;
}

/* A section line "[name]" (s trimmed, starting with '['): into str. */
static char *reader_section(struct parse *ps, char *s, char *str, int num)
{
    char q[QUOTE_BUF];
    size_t n = strlen(s);

    if (n < 2 || s[n - 1] != ']') {
        quote(q, sizeof(q), s);
        parse_fail(ps, "expected \"[section]\", got %s", q);
        return NULL;
    }
    s[n - 1] = '\0';
    ps->section = NULL;
    for (size_t i = 0; i < OWLS_ARRAY_LEN(s_sections); i++)
        if (strcmp(s + 1, s_sections[i]) == 0)
            ps->section = s_sections[i];
    if (ps->section == NULL) {
        quote(q, sizeof(q), s + 1);
        parse_fail(ps, "unknown section %s (known: [aws], [s3], [sqs], [worker], [log])", q);
        return NULL;
    }
    snprintf(str, (size_t)num, "[%s]", ps->section);
    return str;
}

/* A "key = value" line (s trimmed): into str as "key=value". */
static char *reader_key(struct parse *ps, char *s, char *str, int num)
{
    char q[QUOTE_BUF], known[256];
    char *eq = strchr(s, '='), *name, *value;
    const struct key_def *k;
    int n;

    if (eq == NULL) {
        quote(q, sizeof(q), s);
        parse_fail(ps, "expected \"key = value\", \"[section]\" or a comment, got %s", q);
        return NULL;
    }
    *eq = '\0';
    name = rtrim(s);
    value = ltrim(eq + 1);
    if (name[0] == '\0') {
        parse_fail(ps, "missing key name before '='");
        return NULL;
    }
    if (ps->section == NULL) {
        quote(q, sizeof(q), name);
        parse_fail(ps, "key %s is outside of any [section]", q);
        return NULL;
    }
    k = find_key(ps->section, name);
    if (k == NULL) {
        quote(q, sizeof(q), name);
        known_keys(ps->section, known, sizeof(known));
        parse_fail(ps, "[%s] %s: unknown key (known in [%s]: %s)", ps->section, q, ps->section,
                   known);
        return NULL;
    }
    if (strpbrk(value, " \t") != NULL) {
        quote(q, sizeof(q), value);
        parse_fail(ps, "%s: must be a single word without blanks, got %s", k->label, q);
        return NULL;
    }
    n = snprintf(str, (size_t)num, "%s=%s", k->name, value);
    if (n < 0 || n >= num) {
        quote(q, sizeof(q), value);
        parse_fail(ps, "%s: value too long (at most %d bytes), got %s", k->label,
                   num - 2 - (int)strlen(k->name), q);
        return NULL;
    }
    ps->key = k;
    ps->value = value;
    return str;
}

/* inih's ini_reader: one physical line per call, normalized (see DESIGN). */
static char *reader(char *str, int num, void *stream)
{
    struct parse *ps = stream;
    const char *nl;
    char *s;
    size_t len;

    ps->key = NULL;
    ps->value = NULL;
    if (ps->failed || ps->p >= ps->end || num < 8)
        return NULL;
    ps->lineno++;
    nl = memchr(ps->p, '\n', (size_t)(ps->end - ps->p));
    len = nl != NULL ? (size_t)(nl - ps->p) : (size_t)(ps->end - ps->p);
    memcpy(ps->line, ps->p, len);
    ps->line[len] = '\0';
    ps->p += len + (nl != NULL);
    s = ps->line;
    if (len > 0 && s[len - 1] == '\r')
        s[--len] = '\0';
    if (ps->lineno == 1 && len >= 3 && memcmp(s, "\xef\xbb\xbf", 3) == 0) {
        s += 3;
        len -= 3;
    }
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)s[i];
        if ((ch < 0x20 && ch != '\t') || ch == 0x7f) {
            parse_fail(ps, "control character 0x%02x in the line", ch);
            return NULL;
        }
        /* SPEC: '#' at the start of a line or after whitespace. */
        if (ch == '#' && (i == 0 || is_blank(s[i - 1]))) {
            s[i] = '\0';
            break;
        }
    }
    s = rtrim(ltrim(s));
    if (s[0] == '\0' || s[0] == ';') {
        str[0] = '\0';
        return str;
    }
    if (s[0] == '[')
        return reader_section(ps, s, str, num);
    return reader_key(ps, s, str, num);
}

/* inih's ini_handler: called for the line the reader has just returned. */
static int handler(void *user, const char *section, const char *name, const char *value)
{
    struct parse *ps = user;
    const struct key_def *k = ps->key;
    char why[256], q[QUOTE_BUF];
    enum owls_config_key key;

    if (ps->failed)
        return 0;
    if (k == NULL || strcmp(section, k->section) != 0 || strcmp(name, k->name) != 0 ||
        strcmp(value, ps->value) != 0) {
        parse_fail(ps, "internal error: inih read [%s] %s = %s differently", section, name, value);
        return 0;
    }
    key = (enum owls_config_key)(k - s_keys);
    if (ps->c->origin[key].source == OWLS_CFG_FROM_FILE) {
        parse_fail(ps, "%s: duplicate key (first set at line %d)", k->label,
                   ps->c->origin[key].line);
        return 0;
    }
    if (!apply(ps->c, k, value, why, sizeof(why))) {
        quote(q, sizeof(q), value);
        parse_fail(ps, "%s: %s, got %s", k->label, why, q);
        return 0;
    }
    ps->c->origin[key] = (struct owls_config_origin){OWLS_CFG_FROM_FILE, ps->lineno, NULL};
    return 1;
}

static enum owls_err parse_text(struct owls_config *c, const char *text, size_t len,
                                struct owls_errmsg *em)
{
    struct parse ps = {.c = c, .em = em, .p = text, .end = text + len};
    enum owls_err rc = OWLS_ECONFIG;
    const char *nul = memchr(text, '\0', len);
    int r;

    if (len > MAX_CONFIG_BYTES) {
        owls_errmsg_set(em, rc, "%s: too large for a configuration file (%zu bytes)", c->path, len);
        goto out;
    }
    if (nul != NULL) {
        /* Say where: count the lines before it. */
        int line = 1;
        for (const char *p = text; p < nul; p++)
            line += *p == '\n';
        owls_errmsg_set(em, rc, "%s:%d: NUL byte in the file", c->path, line);
        goto out;
    }
    ps.line = owls_xmalloc(len + 1);
    r = ini_parse_stream(reader, &ps, handler, &ps);
    if (ps.failed)
        goto out;
    if (r != 0) {
        owls_errmsg_set(em, rc, "%s:%d: syntax error", c->path, r);
        goto out;
    }
    rc = OWLS_OK;
out:
    free(ps.line);
    return rc;
}

/* ---- environment, required keys, consistency ------------------------------- */

/* Set key from the environment variable var if it is set. */
static enum owls_err apply_env(struct owls_config *c, char *const *envp, enum owls_config_key key,
                               const char *var, struct owls_errmsg *em)
{
    const char *v = owls_config_getenv(envp, var);
    char why[256], q[QUOTE_BUF], label[128];

    if (v == NULL)
        return OWLS_OK;
    c->origin[key] = (struct owls_config_origin){OWLS_CFG_FROM_ENV, 0, var};
    if (!apply(c, &s_keys[key], v, why, sizeof(why))) {
        who(c, key, label, sizeof(label)); /* names the variable: the origin is set */
        quote(q, sizeof(q), v);
        return owls_errmsg_set(em, OWLS_ECONFIG, "%s: %s: %s, got %s", c->path, label, why, q);
    }
    return OWLS_OK;
}

/* A per-service endpoint: its own variable, else the general endpoint. */
static enum owls_err service_endpoint(struct owls_config *c, char *const *envp,
                                      enum owls_config_key key, const char *var,
                                      struct owls_errmsg *em)
{
    if (owls_config_getenv(envp, var) != NULL)
        return apply_env(c, envp, key, var, em);
    set_str(c, &s_keys[key], c->endpoint_url);
    c->origin[key] = c->origin[OWLS_CFG_ENDPOINT_URL];
    return OWLS_OK;
}

static enum owls_err apply_environment(struct owls_config *c, char *const *envp,
                                       struct owls_errmsg *em)
{
    enum owls_err rc;
    const char *region_var =
        owls_config_getenv(envp, "AWS_REGION") != NULL ? "AWS_REGION" : "AWS_DEFAULT_REGION";

    if ((rc = apply_env(c, envp, OWLS_CFG_REGION, region_var, em)) != OWLS_OK)
        goto out;
    if ((rc = apply_env(c, envp, OWLS_CFG_ENDPOINT_URL, "AWS_ENDPOINT_URL", em)) != OWLS_OK)
        goto out;
    if ((rc = service_endpoint(c, envp, OWLS_CFG_ENDPOINT_S3, "AWS_ENDPOINT_URL_S3", em)) !=
        OWLS_OK)
        goto out;
    if ((rc = service_endpoint(c, envp, OWLS_CFG_ENDPOINT_SQS, "AWS_ENDPOINT_URL_SQS", em)) !=
        OWLS_OK)
        goto out;
    rc = apply_env(c, envp, OWLS_CFG_CA_BUNDLE, "AWS_CA_BUNDLE", em);
out:
    return rc;
}

static enum owls_err check_required(struct owls_config *c, struct owls_errmsg *em)
{
    char list[256];
    size_t o = 0;
    int missing = 0;

    list[0] = '\0';
    for (int key = 0; key < OWLS_CFG_KEY_COUNT; key++) {
        if (!s_keys[key].required || str_value(c, &s_keys[key]) != NULL)
            continue;
        missing++;
        o += (size_t)snprintf(list + o, sizeof(list) - o, "%s%s", o ? ", " : "", s_keys[key].label);
    }
    if (missing == 0)
        return OWLS_OK;
    return owls_errmsg_set(em, OWLS_ECONFIG, "%s: missing required key%s: %s", c->path,
                           missing > 1 ? "s" : "", list);
}

static enum owls_err check_consistency(struct owls_config *c, struct owls_errmsg *em)
{
    char at[300], label[128], qregion[32];

    if (strcmp(c->archive_bucket, c->artifacts_bucket) == 0) {
        where(c, OWLS_CFG_ARTIFACTS_BUCKET, at, sizeof(at));
        return owls_errmsg_set(em, OWLS_ECONFIG,
                               "%s: [s3] artifacts_bucket: must differ from [s3] archive_bucket "
                               "(artifacts under run=<id>/ would be taken for new inputs), got "
                               "\"%s\" for both",
                               at, c->artifacts_bucket);
    }
    if (strcmp(c->work_queue_url, c->done_queue_url) == 0) {
        where(c, OWLS_CFG_DONE_QUEUE_URL, at, sizeof(at));
        return owls_errmsg_set(em, OWLS_ECONFIG,
                               "%s: [sqs] done_queue_url: must differ from [sqs] work_queue_url "
                               "(done notifications would come back as jobs)",
                               at);
    }
    /* On AWS's own SQS endpoints a queue is signed for its own region. */
    for (int key = OWLS_CFG_WORK_QUEUE_URL; key <= OWLS_CFG_DONE_QUEUE_URL && !c->endpoint_sqs;
         key++) {
        const char *url = str_value(c, &s_keys[key]);
        if (queue_url_region(url, qregion, sizeof(qregion)) && strcmp(qregion, c->region) != 0) {
            where(c, (enum owls_config_key)key, at, sizeof(at));
            who(c, OWLS_CFG_REGION, label, sizeof(label));
            return owls_errmsg_set(em, OWLS_ECONFIG,
                                   "%s: %s: the queue is in region %s but %s is %s", at,
                                   s_keys[key].label, qregion, label, c->region);
        }
    }
    return OWLS_OK;
}

static char *env_dup(char *const *envp, const char *name)
{
    const char *v = owls_config_getenv(envp, name);
    return v != NULL ? owls_xstrdup(v) : NULL;
}

static void read_creds_env(struct owls_config *c, char *const *envp)
{
    struct owls_config_creds_env *ce = &c->creds_env;
    const char *id = owls_config_getenv(envp, "AWS_ACCESS_KEY_ID");

    ce->access_key_id = id != NULL;
    if (id != NULL && strlen(id) >= 16)
        memcpy(ce->access_key_tail, id + strlen(id) - 4, 5);
    ce->secret_access_key = owls_config_getenv(envp, "AWS_SECRET_ACCESS_KEY") != NULL;
    ce->session_token = owls_config_getenv(envp, "AWS_SESSION_TOKEN") != NULL;
    ce->container = owls_config_getenv(envp, "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI") != NULL ||
                    owls_config_getenv(envp, "AWS_CONTAINER_CREDENTIALS_FULL_URI") != NULL;
    ce->profile = env_dup(envp, "AWS_PROFILE");
    ce->shared_credentials_file = env_dup(envp, "AWS_SHARED_CREDENTIALS_FILE");
    ce->config_file = env_dup(envp, "AWS_CONFIG_FILE");
    ce->ec2_metadata_disabled = env_dup(envp, "AWS_EC2_METADATA_DISABLED");
}

/* ---- public API ------------------------------------------------------------ */

enum owls_err owls_config_load_string(const char *text, size_t len, const char *name,
                                      char *const *envp, struct owls_config **out,
                                      struct owls_errmsg *em)
{
    struct owls_config *c = config_new(name != NULL ? name : "<config>");
    enum owls_err rc;

    *out = NULL;
    if ((rc = parse_text(c, text, len, em)) != OWLS_OK)
        goto out;
    if ((rc = apply_environment(c, envp, em)) != OWLS_OK)
        goto out;
    if ((rc = check_required(c, em)) != OWLS_OK)
        goto out;
    if ((rc = check_consistency(c, em)) != OWLS_OK)
        goto out;
    read_creds_env(c, envp);
    *out = c;
    c = NULL;
out:
    owls_config_free(c);
    return rc;
}

enum owls_err owls_config_load(const char *path, char *const *envp, struct owls_config **out,
                               struct owls_errmsg *em)
{
    struct owls_errmsg ferr = {{0}};
    enum owls_err rc = OWLS_ECONFIG;
    char *text = NULL;
    size_t len = 0;

    *out = NULL;
    if (path == NULL)
        path = OWLS_CONFIG_DEFAULT_PATH;
    if (owls_file_read(path, &text, &len, &ferr) != OWLS_OK) {
        /* ferr reads "<path>: <strerror>". */
        owls_errmsg_set(em, rc, "cannot read the configuration: %s", ferr.text);
        goto out;
    }
    rc = owls_config_load_string(text, len, path, envp, out, em);
out:
    free(text);
    return rc;
}

/* Whether a and b hold the same value for k (its field, by its kind). */
static bool same_value(const struct owls_config *a, const struct owls_config *b,
                       const struct key_def *k)
{
    switch (k->kind) {
    case KIND_ADDRESSING:
        return a->addressing == b->addressing;
    case KIND_INT:
        return *int_value(a, k) == *int_value(b, k);
    case KIND_SIZE:
        return a->max_input_bytes == b->max_input_bytes;
    case KIND_LOG_LEVEL:
        return a->log_level == b->log_level;
    default:
        return str_eq(str_value(a, k), str_value(b, k));
    }
}

/* Every key of s_keys, so that a new key cannot be left out. */
static bool config_equal(const struct owls_config *a, const struct owls_config *b, bool with_level)
{
    for (int key = 0; key < OWLS_CFG_KEY_COUNT; key++)
        if ((with_level || key != OWLS_CFG_LOG_LEVEL) && !same_value(a, b, &s_keys[key]))
            return false;
    return true;
}

bool owls_config_equal(const struct owls_config *a, const struct owls_config *b)
{
    return config_equal(a, b, true);
}

enum owls_err owls_config_reload_log_level(const struct owls_config *cur, char *const *envp,
                                           int *level, bool *others_changed, struct owls_errmsg *em)
{
    struct owls_config *fresh = NULL;
    enum owls_err rc;

    if ((rc = owls_config_load(cur->path, envp, &fresh, em)) != OWLS_OK)
        goto out;
    *level = fresh->log_level;
    *others_changed = !config_equal(cur, fresh, false);
out:
    owls_config_free(fresh);
    return rc;
}

int owls_config_worker_threads(const struct owls_config *c)
{
    cpu_set_t set;
    long n;

    if (c->threads > 0)
        return c->threads;
    if (sched_getaffinity(0, sizeof(set), &set) == 0)
        n = CPU_COUNT(&set);
    else
        n = sysconf(_SC_NPROCESSORS_ONLN);
    return (int)OWLS_MIN(OWLS_MAX(n, 1L), (long)OWLS_CONFIG_MAX_THREADS);
}

const char *owls_config_key_name(enum owls_config_key key)
{
    if ((unsigned)key >= OWLS_CFG_KEY_COUNT)
        return "?";
    return s_keys[key].label;
}

const char *owls_s3_addressing_name(enum owls_s3_addressing a)
{
    if ((unsigned)a >= OWLS_ARRAY_LEN(s_addressing))
        return "?";
    return s_addressing[a];
}

/* ---- --check-config output ------------------------------------------------- */

static void print_origin(const struct owls_config *c, enum owls_config_key key, FILE *out)
{
    const struct owls_config_origin *o = &c->origin[key];

    switch (o->source) {
    case OWLS_CFG_FROM_DEFAULT:
        fputs("default", out);
        break;
    case OWLS_CFG_FROM_FILE:
        put_comment_text(out, c->path);
        fprintf(out, ":%d", o->line);
        break;
    case OWLS_CFG_FROM_ENV:
        fprintf(out, "env %s", o->env);
        break;
    }
}

/* "key = value" padded to the comment column, then "# origin[ (note)]". */
static void print_key(const struct owls_config *c, enum owls_config_key key, const char *value,
                      const char *note, FILE *out)
{
    int n = fprintf(out, "%s = %s", s_keys[key].name, value);

    fprintf(out, "%*s# ", n < PRINT_COMMENT_COL - 2 ? PRINT_COMMENT_COL - n : 2, "");
    print_origin(c, key, out);
    if (note != NULL)
        fprintf(out, " (%s)", note);
    fputc('\n', out);
}

static void print_int(const struct owls_config *c, enum owls_config_key key, int v,
                      const char *note, FILE *out)
{
    char buf[16];

    snprintf(buf, sizeof(buf), "%d", v);
    print_key(c, key, buf, note, out);
}

/* An environment-only setting, as a comment line. */
static void print_env_setting(const struct owls_config *c, enum owls_config_key key,
                              const char *what, const char *unset, FILE *out)
{
    const char *v = str_value(c, &s_keys[key]);

    fprintf(out, "#   %-13s ", what);
    if (v == NULL) {
        fprintf(out, "%s\n", unset);
        return;
    }
    put_comment_text(out, v);
    fputs("  (", out);
    print_origin(c, key, out);
    fputs(")\n", out);
}

static void print_env_var(const char *name, const char *v, const char *unset, FILE *out)
{
    fprintf(out, "#   %s = ", name);
    put_comment_text(out, v != NULL ? v : unset);
    fputc('\n', out);
}

static void print_credentials(const struct owls_config *c, FILE *out)
{
    const struct owls_config_creds_env *ce = &c->creds_env;
    char masked[16];
    bool env_creds = ce->access_key_id && ce->secret_access_key;

    snprintf(masked, sizeof(masked), "****%s", ce->access_key_tail);
    fputs("# Credentials are not read from this file. At start-up the credentials chain\n"
          "# tries, in order: environment, shared credentials/config files (profile),\n"
          "# container credentials, EC2 instance profile (IMDSv2).\n",
          out);
    if (env_creds)
        fputs("# Here: from the environment (AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY).\n", out);
    else if (ce->access_key_id || ce->secret_access_key)
        fputs("# Here: the environment holds only one of AWS_ACCESS_KEY_ID and\n"
              "# AWS_SECRET_ACCESS_KEY: the chain will not use it.\n",
              out);
    else if (ce->container)
        fputs("# Here: not in the environment; container credentials are configured.\n", out);
    else
        fputs("# Here: not in the environment; shared files, then the instance profile.\n", out);
    print_env_var("AWS_ACCESS_KEY_ID", ce->access_key_id ? masked : NULL, "(not set)", out);
    print_env_var("AWS_SECRET_ACCESS_KEY", ce->secret_access_key ? "****" : NULL, "(not set)", out);
    print_env_var("AWS_SESSION_TOKEN", ce->session_token ? "****" : NULL, "(not set)", out);
    print_env_var("AWS_PROFILE", ce->profile, "(not set: default)", out);
    print_env_var("AWS_SHARED_CREDENTIALS_FILE", ce->shared_credentials_file,
                  "(not set: ~/.aws/credentials)", out);
    print_env_var("AWS_CONFIG_FILE", ce->config_file, "(not set: ~/.aws/config)", out);
    print_env_var("AWS_EC2_METADATA_DISABLED", ce->ec2_metadata_disabled, "(not set)", out);
}

void owls_config_print(const struct owls_config *c, FILE *out)
{
    char note[64], num[32];

    fputs("# owls-q4d effective configuration, read from ", out);
    put_comment_text(out, c->path);
    fputs("\n# and the environment; the comment after each value says where it came from.\n\n",
          out);

    fputs("[aws]\n", out);
    print_key(c, OWLS_CFG_REGION, c->region, NULL, out);
    print_key(c, OWLS_CFG_ENDPOINT_URL, c->endpoint_url != NULL ? c->endpoint_url : "",
              c->endpoint_url != NULL ? NULL : "empty: AWS's own endpoints", out);
    fputs("# from the environment only:\n", out);
    print_env_setting(c, OWLS_CFG_ENDPOINT_S3, "S3 endpoint:", "AWS's own", out);
    print_env_setting(c, OWLS_CFG_ENDPOINT_SQS, "SQS endpoint:", "AWS's own", out);
    print_env_setting(c, OWLS_CFG_CA_BUNDLE, "CA bundle:", "the system's trust store", out);
    print_credentials(c, out);

    fputs("\n[s3]\n", out);
    print_key(c, OWLS_CFG_ARCHIVE_BUCKET, c->archive_bucket, NULL, out);
    print_key(c, OWLS_CFG_ARTIFACTS_BUCKET, c->artifacts_bucket, NULL, out);
    print_key(c, OWLS_CFG_ADDRESSING, owls_s3_addressing_name(c->addressing), NULL, out);

    fputs("\n[sqs]\n", out);
    print_key(c, OWLS_CFG_WORK_QUEUE_URL, c->work_queue_url, NULL, out);
    print_key(c, OWLS_CFG_DONE_QUEUE_URL, c->done_queue_url, NULL, out);
    print_int(c, OWLS_CFG_WAIT_TIME_SECONDS, c->wait_time_seconds, NULL, out);
    print_int(c, OWLS_CFG_MAX_MESSAGES, c->max_messages, NULL, out);
    print_int(c, OWLS_CFG_VISIBILITY_TIMEOUT, c->visibility_timeout, NULL, out);

    fputs("\n[worker]\n", out);
    snprintf(note, sizeof(note), "one per CPU: %d", owls_config_worker_threads(c));
    print_int(c, OWLS_CFG_THREADS, c->threads, c->threads == 0 ? note : NULL, out);
    snprintf(num, sizeof(num), "%" PRIu64, c->max_input_bytes);
    if (c->max_input_bytes == 0)
        snprintf(note, sizeof(note), "no limit");
    else
        snprintf(note, sizeof(note), "%.1f MiB", (double)c->max_input_bytes / (1024.0 * 1024.0));
    print_key(c, OWLS_CFG_MAX_INPUT_BYTES, num, note, out);
    print_int(c, OWLS_CFG_SHUTDOWN_GRACE_SECONDS, c->shutdown_grace_seconds, NULL, out);

    fputs("\n[log]\n", out);
    print_key(c, OWLS_CFG_LOG_LEVEL, log_level_name(c->log_level), NULL, out);
}

void owls_config_free(struct owls_config *c)
{
    if (c == NULL)
        return;
    for (int key = 0; key < OWLS_CFG_KEY_COUNT; key++)
        if (is_str_kind(s_keys[key].kind))
            free(*str_field(c, &s_keys[key]));
    free(c->creds_env.profile);
    free(c->creds_env.shared_credentials_file);
    free(c->creds_env.config_file);
    free(c->creds_env.ec2_metadata_disabled);
    free(c->path);
    free(c);
}
