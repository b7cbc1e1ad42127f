/*
 * DESIGN: the AWS credentials chain and its cache.
 *
 * The chain, in the SDKs' order (first source that is configured wins):
 *   1. environment: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN;
 *   2. shared files: [<profile>] in the credentials file, [profile <profile>]
 *      (or [default]) in the config file, read with libinih;
 *   3. container credentials: AWS_CONTAINER_CREDENTIALS_RELATIVE_URI (against
 *      http://169.254.170.2) or _FULL_URI, Authorization from
 *      AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE or _TOKEN;
 *   4. EC2 instance metadata, IMDSv2 only (token PUT, role name, role JSON),
 *      unless AWS_EC2_METADATA_DISABLED=true.
 * A source that is configured but broken (a named profile that does not
 * exist, a container endpoint that fails) is an error, not a reason to fall
 * through to the next: silently using other credentials is worse.
 *
 * The provider owns one cached copy of the credentials, behind a mutex.
 * owls_creds_get() hands out copies. Credentials that expire are refreshed
 * from refresh_window (15 min) before expiry: the first caller to notice runs
 * the chain (outside the lock), every other caller keeps getting the cached,
 * still-valid copy without waiting. A failed (or fruitless: IMDS still serving
 * the old credentials) early refresh is retried after retry_interval. Only
 * when nothing valid is cached do callers wait, for the one refresh in flight.
 *
 * libinih and long lines: Debian's libinih reads lines of at most 200 bytes
 * and silently splits longer ones, and STS session tokens are longer. The
 * files are therefore read whole and handed to inih with every section
 * header replaced by a short "[sN]" and every over-long "name = value" by
 * "name = \x01N", N indexing a side table (same line numbers).
 *
 * Metadata calls use their own libcurl easy handle each (no proxy, short
 * timeouts, no redirects, http/https only). Secrets (keys, tokens, the
 * container authorization token, response bodies) are cleansed after use and
 * never logged or put into error messages.
 */
#include <arpa/inet.h>
#include <curl/curl.h>
#include <ini.h>
#include <jansson.h>
#include <openssl/crypto.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "owls/buf.h"
#include "owls/creds.h"
#include "owls/fsio.h"
#include "owls/log.h"
#include "owls/util.h"
#include "owls/private/creds.h"

#define REFRESH_WINDOW  900 /* s before expiry: the SDKs' advisory refresh */
#define MIN_VALIDITY    60  /* s: never hand out credentials about to expire */
#define RETRY_INTERVAL  60  /* s between early refresh attempts */
#define MAX_BODY        (64 * 1024)
#define LONG_LINE       150 /* well under libinih's 200-byte line buffer */
#define ECS_HOST        "http://169.254.170.2"
#define IMDS_HOST       "http://169.254.169.254"
#define IMDS_TTL_HEADER "X-aws-ec2-metadata-token-ttl-seconds: 21600"
#define IMDS_CREDS_PATH "/latest/meta-data/iam/security-credentials/"

struct owls_creds_provider {
    char *profile;       /* opts->profile, or NULL */
    char *imds_endpoint; /* opts->imds_endpoint, or NULL */
    long timeout_ms;
    struct owls_creds_tuning tune;

    pthread_mutex_t lock; /* protects everything below */
    pthread_cond_t done;  /* a refresh finished */
    struct owls_creds cur;
    bool have;
    bool refreshing;
    unsigned long generation; /* refreshes finished */
    time_t next_try;          /* no early refresh before this */
    enum owls_err last_rc;    /* of the last refresh */
    struct owls_errmsg last_em;
    const char *source;
    unsigned long resolutions, failures;
    unsigned waiting;
};

/* ---- small helpers ------------------------------------------------------- */

/* getenv, with "" meaning unset. */
static const char *env(const char *name)
{
    const char *v = getenv(name);
    return (v != NULL && v[0] != '\0') ? v : NULL;
}

static bool has_ctl(const char *s)
{
    for (; *s != '\0'; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return true;
    return false;
}

static char *trim_dup(const char *s, size_t n)
{
    while (n > 0 && (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')) {
        s++;
        n--;
    }
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n'))
        n--;
    return owls_xstrndup(s, n);
}

static time_t now_of(const struct owls_creds_provider *p)
{
    return p->tune.now ? p->tune.now(p->tune.now_arg) : time(NULL);
}

/* ---- RFC 3339 ---------------------------------------------------------------- */

static bool digits(const char *s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return true;
}

bool owls_creds_parse_rfc3339(const char *s, time_t *out)
{
    struct tm tm = {0};
    int y, mo, d, h, mi, sec, oh = 0, om = 0;
    long off = 0;
    time_t t;

    if (strlen(s) < 20 || !digits(s, 4, &y) || s[4] != '-' || !digits(s + 5, 2, &mo) ||
        s[7] != '-' || !digits(s + 8, 2, &d) || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
        !digits(s + 11, 2, &h) || s[13] != ':' || !digits(s + 14, 2, &mi) || s[16] != ':' ||
        !digits(s + 17, 2, &sec))
        return false;
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
        return false;
    s += 19;
    if (*s == '.') {
        s++;
        if (*s < '0' || *s > '9')
            return false;
        while (*s >= '0' && *s <= '9')
            s++;
    }
    if ((*s == 'Z' || *s == 'z') && s[1] == '\0') {
        off = 0;
    } else if ((*s == '+' || *s == '-') && digits(s + 1, 2, &oh) && s[3] == ':' &&
               digits(s + 4, 2, &om) && s[6] == '\0' && oh <= 23 && om <= 59) {
        off = (oh * 60L + om) * 60L * (*s == '-' ? -1 : 1);
    } else {
        return false;
    }
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = sec == 60 ? 59 : sec;
    t = timegm(&tm);
    if (t == (time_t)-1 || tm.tm_mday != d) /* rejects Feb 30 and the like */
        return false;
    *out = t - off;
    return true;
}

/* ---- the JSON document of container and IMDS credentials ------------------ */

static const char *jstr(json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

enum owls_err owls_creds_from_json(const char *json, size_t len, struct owls_creds *out,
                                   struct owls_errmsg *em)
{
    enum owls_err rc = OWLS_EAWS;
    json_error_t jerr;
    json_t *root = NULL;
    const char *code, *id, *secret, *token, *exp;
    time_t expiration = 0;

    memset(out, 0, sizeof(*out));
    root = json_loadb(json, len, 0, &jerr);
    if (root == NULL || !json_is_object(root)) {
        /* jerr.text may quote the input: give only the position. */
        owls_errmsg_set(em, rc, "credentials document is not a JSON object (line %d column %d)",
                        root ? 1 : jerr.line, root ? 1 : jerr.column);
        goto out;
    }
    code = jstr(root, "Code");
    if (json_object_get(root, "Code") != NULL && (code == NULL || strcmp(code, "Success") != 0)) {
        owls_errmsg_set(em, rc, "credentials document has Code \"%.64s\"",
                        code ? code : "(not a string)");
        goto out;
    }
    id = jstr(root, "AccessKeyId");
    secret = jstr(root, "SecretAccessKey");
    token = jstr(root, "Token");
    exp = jstr(root, "Expiration");
    if (id == NULL || id[0] == '\0' || secret == NULL || secret[0] == '\0') {
        owls_errmsg_set(em, rc, "credentials document lacks AccessKeyId or SecretAccessKey");
        goto out;
    }
    if (has_ctl(id) || has_ctl(secret) || (token != NULL && has_ctl(token))) {
        owls_errmsg_set(em, rc, "credentials document has control characters in a key");
        goto out;
    }
    if (json_object_get(root, "Token") != NULL && !json_is_string(json_object_get(root, "Token"))) {
        owls_errmsg_set(em, rc, "credentials document: Token is not a string");
        goto out;
    }
    if (json_object_get(root, "Expiration") != NULL &&
        (exp == NULL || !owls_creds_parse_rfc3339(exp, &expiration))) {
        owls_errmsg_set(em, rc, "credentials document: Expiration \"%.40s\" is not RFC 3339",
                        exp ? exp : "(not a string)");
        goto out;
    }
    out->access_key_id = owls_xstrdup(id);
    out->secret_access_key = owls_xstrdup(secret);
    out->session_token = (token != NULL && token[0] != '\0') ? owls_xstrdup(token) : NULL;
    out->expiration = expiration;
    rc = OWLS_OK;
out:
    /* jansson frees its strings without cleansing them; nothing to do about
     * that short of global allocator hooks. */
    json_decref(root);
    return rc;
}

/* ---- 1. environment ---------------------------------------------------------- */

static enum owls_err from_env(struct owls_creds *out, struct owls_errmsg *em)
{
    const char *id = env("AWS_ACCESS_KEY_ID");
    const char *secret = env("AWS_SECRET_ACCESS_KEY");
    const char *token = env("AWS_SESSION_TOKEN");

    if (id == NULL && secret == NULL)
        return OWLS_ENOTFOUND;
    if (id == NULL || secret == NULL)
        return owls_errmsg_set(em, OWLS_ECONFIG, "%s is set but %s is not",
                               id ? "AWS_ACCESS_KEY_ID" : "AWS_SECRET_ACCESS_KEY",
                               id ? "AWS_SECRET_ACCESS_KEY" : "AWS_ACCESS_KEY_ID");
    out->access_key_id = owls_xstrdup(id);
    out->secret_access_key = owls_xstrdup(secret);
    out->session_token = token ? owls_xstrdup(token) : NULL;
    out->expiration = 0;
    return OWLS_OK;
}

/* ---- 2. shared credentials and config files ------------------------------- */

struct profile_keys {
    bool found; /* the section exists */
    char *id, *secret, *token;
};

struct ini_job {
    const char *profile;
    bool config_file; /* sections are "profile <name>" (or "default") */
    char **sections;  /* real names of "[sN]" */
    size_t nsections;
    char **values; /* over-long values of "\x01N" */
    size_t nvalues;
    struct profile_keys *keys;
};

static void profile_keys_cleanup(struct profile_keys *k)
{
    free(k->id);
    owls_free_secret(k->secret);
    owls_free_secret(k->token);
    memset(k, 0, sizeof(*k));
}

static bool section_matches(const struct ini_job *j, const char *sect)
{
    if (!j->config_file)
        return strcmp(sect, j->profile) == 0;
    if (strcmp(j->profile, "default") == 0 && strcmp(sect, "default") == 0)
        return true;
    if (strncmp(sect, "profile", 7) != 0 || (sect[7] != ' ' && sect[7] != '\t'))
        return false;
    sect += 7;
    while (*sect == ' ' || *sect == '\t')
        sect++;
    return strcmp(sect, j->profile) == 0;
}

/* Index N of a placeholder "<c>N", or -1. */
static long placeholder(const char *s, char c, size_t n)
{
    char *end;
    long v;
    if (s[0] != c || s[1] < '0' || s[1] > '9')
        return -1;
    v = strtol(s + 1, &end, 10);
    return (*end == '\0' && v >= 0 && (size_t)v < n) ? v : -1;
}

static int on_ini_pair(void *user, const char *section, const char *name, const char *value)
{
    struct ini_job *j = user;
    long si = placeholder(section, 's', j->nsections);
    long vi = placeholder(value, '\x01', j->nvalues);
    char **slot = NULL;

    if (si < 0 || !section_matches(j, j->sections[si]))
        return 1;
    if (vi >= 0)
        value = j->values[vi];
    if (strcmp(name, "aws_access_key_id") == 0)
        slot = &j->keys->id;
    else if (strcmp(name, "aws_secret_access_key") == 0)
        slot = &j->keys->secret;
    else if (strcmp(name, "aws_session_token") == 0)
        slot = &j->keys->token;
    if (slot != NULL) {
        owls_free_secret(*slot);
        *slot = owls_xstrdup(value);
    }
    return 1;
}

/* inih's value rules for one over-long line: after the first '=' or ':',
 * cut an inline ";" comment (one preceded by whitespace), trim. */
static char *long_value(const char *v, size_t n)
{
    for (size_t i = 1; i < n; i++)
        if (v[i] == ';' && (v[i - 1] == ' ' || v[i - 1] == '\t')) {
            n = i;
            break;
        }
    return trim_dup(v, n);
}

/* Rewrite text (see DESIGN) into out, filling j's side tables. */
static void ini_rewrite(const char *text, size_t len, struct ini_job *j, struct owls_buf *out)
{
    const char *p = text, *end = text + len;

    while (p < end) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));
        size_t n = eol ? (size_t)(eol - p) : (size_t)(end - p);
        size_t lead = 0;

        if (n > 0 && p[n - 1] == '\r')
            n--;
        while (lead < n && (p[lead] == ' ' || p[lead] == '\t'))
            lead++;
        if (lead < n && p[lead] == '[' && memchr(p + lead, ']', n - lead) != NULL) {
            const char *close = memchr(p + lead, ']', n - lead);
            j->sections = owls_xreallocarray(j->sections, j->nsections + 1, sizeof(char *));
            j->sections[j->nsections] = trim_dup(p + lead + 1, (size_t)(close - (p + lead + 1)));
            if (section_matches(j, j->sections[j->nsections]))
                j->keys->found = true;
            owls_buf_printf(out, "[s%zu]\n", j->nsections++);
        } else if (n > LONG_LINE && (p[lead] == ';' || p[lead] == '#')) {
            owls_buf_puts(out, "#\n");
        } else if (n > LONG_LINE) {
            const char *eq = p + lead;
            while (eq < p + n && *eq != '=' && *eq != ':')
                eq++;
            j->values = owls_xreallocarray(j->values, j->nvalues + 1, sizeof(char *));
            if (eq < p + n && (size_t)(eq - p) < LONG_LINE) {
                j->values[j->nvalues] = long_value(eq + 1, (size_t)(p + n - eq - 1));
                owls_buf_append(out, p, (size_t)(eq - p));
                owls_buf_printf(out, "=\x01%zu\n", j->nvalues++);
            } else { /* a long continuation line or garbage: keep it one line */
                j->values[j->nvalues] = long_value(p + lead, n - lead);
                owls_buf_printf(out, "%.*s\x01%zu\n", (int)lead, p, j->nvalues++);
            }
        } else {
            owls_buf_append(out, p, n);
            owls_buf_putc(out, '\n');
        }
        p = eol ? eol + 1 : end;
    }
}

/* Read the keys of j->profile from path into *keys. OWLS_ENOTFOUND if the
 * file does not exist; OWLS_ECONFIG naming file and line if inih rejects it. */
static enum owls_err read_profile(const char *path, const char *profile, bool config_file,
                                  struct profile_keys *keys, struct owls_errmsg *em)
{
    enum owls_err rc;
    char *text = NULL;
    size_t len = 0;
    struct owls_buf rewritten;
    struct ini_job j = {profile, config_file, NULL, 0, NULL, 0, keys};
    int line;

    owls_buf_init(&rewritten);
    rc = owls_file_read(path, &text, &len, em);
    if (rc != OWLS_OK) {
        if (rc != OWLS_ENOTFOUND)
            rc = OWLS_ECONFIG;
        goto out;
    }
    ini_rewrite(text, len, &j, &rewritten);
    line = ini_parse_string(rewritten.data ? rewritten.data : "", on_ini_pair, &j);
    if (line != 0) {
        rc = owls_errmsg_set(em, OWLS_ECONFIG, "%s:%d: not a valid INI line", path, line);
        goto out;
    }
    rc = OWLS_OK;
out:
    if (text != NULL) {
        OPENSSL_cleanse(text, len);
        free(text);
    }
    owls_buf_cleanse(&rewritten);
    for (size_t i = 0; i < j.nsections; i++)
        free(j.sections[i]);
    free(j.sections);
    for (size_t i = 0; i < j.nvalues; i++)
        owls_free_secret(j.values[i]);
    free(j.values);
    return rc;
}

/* $VAR, else $HOME/<rel>; "~/" expanded. NULL if neither. Caller frees. */
static char *file_path(const char *var, const char *rel)
{
    const char *v = env(var), *home = env("HOME");

    if (v != NULL && strncmp(v, "~/", 2) == 0 && home != NULL)
        return owls_xasprintf("%s/%s", home, v + 2);
    if (v != NULL)
        return owls_xstrdup(v);
    return home ? owls_xasprintf("%s/%s", home, rel) : NULL;
}

static enum owls_err from_profile(const struct owls_creds_provider *p, struct owls_creds *out,
                                  struct owls_errmsg *em)
{
    enum owls_err rc = OWLS_ENOTFOUND;
    const char *profile = p->profile ? p->profile : env("AWS_PROFILE");
    bool named = profile != NULL;
    char *cred_path = file_path("AWS_SHARED_CREDENTIALS_FILE", ".aws/credentials");
    char *conf_path = file_path("AWS_CONFIG_FILE", ".aws/config");
    struct profile_keys k[2] = {{0}};
    const char *paths[2] = {cred_path, conf_path};
    bool found = false;

    if (profile == NULL)
        profile = "default";
    for (int i = 0; i < 2; i++) {
        enum owls_err r;
        if (paths[i] == NULL)
            continue;
        r = read_profile(paths[i], profile, i == 1, &k[i], em);
        if (r == OWLS_ENOTFOUND)
            continue;
        if (r != OWLS_OK) {
            rc = r;
            goto out;
        }
        found |= k[i].found;
        if ((k[i].id != NULL) != (k[i].secret != NULL)) {
            rc = owls_errmsg_set(em, OWLS_ECONFIG, "%s: profile \"%s\" has %s but not %s", paths[i],
                                 profile, k[i].id ? "aws_access_key_id" : "aws_secret_access_key",
                                 k[i].id ? "aws_secret_access_key" : "aws_access_key_id");
            goto out;
        }
        if (k[i].id != NULL) { /* the credentials file wins over config */
            if (k[i].id[0] == '\0' || k[i].secret[0] == '\0' || has_ctl(k[i].id) ||
                has_ctl(k[i].secret) || (k[i].token && has_ctl(k[i].token))) {
                rc = owls_errmsg_set(em, OWLS_ECONFIG,
                                     "%s: profile \"%s\" has an empty or "
                                     "malformed key",
                                     paths[i], profile);
                goto out;
            }
            out->access_key_id = k[i].id;
            out->secret_access_key = k[i].secret;
            out->session_token = (k[i].token && k[i].token[0]) ? k[i].token : NULL;
            if (out->session_token == NULL)
                owls_free_secret(k[i].token);
            out->expiration = 0;
            k[i].id = k[i].secret = k[i].token = NULL;
            rc = OWLS_OK;
            goto out;
        }
    }
    if (named && !found)
        rc = owls_errmsg_set(em, OWLS_ECONFIG, "AWS profile \"%s\" not found in %s or %s", profile,
                             cred_path ? cred_path : "(no credentials file)",
                             conf_path ? conf_path : "(no config file)");
    else if (named)
        rc = owls_errmsg_set(em, OWLS_ECONFIG,
                             "AWS profile \"%s\" has no aws_access_key_id/aws_secret_access_key "
                             "(role_arn, credential_process and SSO profiles are not supported)",
                             profile);
out:
    profile_keys_cleanup(&k[0]);
    profile_keys_cleanup(&k[1]);
    free(cred_path);
    free(conf_path);
    return rc;
}

/* ---- metadata over HTTP ---------------------------------------------------- */

struct sink {
    struct owls_buf *b;
    bool too_big;
};

static size_t on_body(char *data, size_t size, size_t nmemb, void *arg)
{
    struct sink *s = arg;
    size_t n = size * nmemb;
    if (s->b->len + n > MAX_BODY) {
        s->too_big = true;
        return 0;
    }
    owls_buf_append(s->b, data, n);
    return n;
}

/* One metadata request. *status gets the HTTP status (0 if none came);
 * *unreachable is set when no connection could be made at all. The body is
 * appended to body. OWLS_ETRANSIENT on transport errors. */
static enum owls_err http_call(const char *method, const char *url, const char *header,
                               long timeout_ms, long *status, bool *unreachable,
                               struct owls_buf *body, struct owls_errmsg *em)
{
    enum owls_err rc = OWLS_ETRANSIENT;
    CURL *h = curl_easy_init();
    struct curl_slist *hl = NULL;
    char errbuf[CURL_ERROR_SIZE] = "";
    struct sink sink = {body, false};
    CURLcode cc;

    *status = 0;
    *unreachable = false;
    if (h == NULL) {
        owls_errmsg_set(em, rc, "curl_easy_init failed");
        goto out;
    }
    if (header != NULL)
        hl = curl_slist_append(hl, header);
    hl = curl_slist_append(hl, "Expect:");
    if (strcmp(method, "PUT") == 0) {
        hl = curl_slist_append(hl, "Content-Type:");
        curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, "PUT");
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, "");
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, 0L);
    }
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_HTTPHEADER, hl);
    curl_easy_setopt(h, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &sink);
    curl_easy_setopt(h, CURLOPT_USERAGENT, "owls-q4d/" OWLS_VERSION);
    if (env("AWS_CA_BUNDLE") != NULL) /* for an https container endpoint */
        curl_easy_setopt(h, CURLOPT_CAINFO, env("AWS_CA_BUNDLE"));
    cc = curl_easy_perform(h);
    if (cc != CURLE_OK) {
        *unreachable = cc == CURLE_COULDNT_CONNECT || cc == CURLE_COULDNT_RESOLVE_HOST ||
                       (cc == CURLE_OPERATION_TIMEDOUT && body->len == 0);
        owls_errmsg_set(em, rc, "%s %s: %s", method, url,
                        sink.too_big ? "response too large"
                                     : (errbuf[0] ? errbuf : curl_easy_strerror(cc)));
        goto out;
    }
    curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, status);
    rc = OWLS_OK;
out:
    for (struct curl_slist *l = hl; l != NULL; l = l->next)
        OPENSSL_cleanse(l->data, strlen(l->data)); /* may hold a token */
    curl_slist_free_all(hl);
    if (h != NULL)
        curl_easy_cleanup(h);
    return rc;
}

/* ---- 3. container credentials ---------------------------------------------- */

static bool host_is_loopback(const char *host)
{
    struct in_addr a4;
    struct in6_addr a6;
    char buf[64];
    size_t n = strlen(host);

    if (strcasecmp(host, "localhost") == 0)
        return true;
    if (inet_pton(AF_INET, host, &a4) == 1)
        return (ntohl(a4.s_addr) >> 24) == 127;
    if (n >= 2 && n < sizeof(buf) && host[0] == '[' && host[n - 1] == ']') {
        memcpy(buf, host + 1, n - 2);
        buf[n - 2] = '\0';
        host = buf;
    }
    return inet_pton(AF_INET6, host, &a6) == 1 && IN6_IS_ADDR_LOOPBACK(&a6);
}

bool owls_creds_container_url_ok(const char *url)
{
    bool ok = false;
    CURLU *u = curl_url();
    char *scheme = NULL, *host = NULL;

    if (u == NULL || curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK)
        goto out;
    if (strcmp(scheme, "https") == 0)
        ok = true;
    else if (strcmp(scheme, "http") == 0)
        /* Loopback, plus the hosts ECS (169.254.170.2) and EKS Pod Identity
         * (169.254.170.23, fd00:ec2::23) serve container credentials on. */
        ok = host_is_loopback(host) || strcmp(host, "169.254.170.2") == 0 ||
             strcmp(host, "169.254.170.23") == 0 || strcasecmp(host, "[fd00:ec2::23]") == 0;
out:
    curl_free(scheme);
    curl_free(host);
    curl_url_cleanup(u);
    return ok;
}

/* Authorization token for the container endpoint: the file wins. NULL and
 * OWLS_OK when none is configured. */
static enum owls_err container_token(char **tok, struct owls_errmsg *em)
{
    const char *file = env("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
    const char *val = env("AWS_CONTAINER_AUTHORIZATION_TOKEN");
    char *data = NULL;
    size_t len = 0;

    *tok = NULL;
    if (file != NULL) {
        if (owls_file_read(file, &data, &len, em) != OWLS_OK)
            return owls_errmsg_set(em, OWLS_ECONFIG,
                                   "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE %s is not readable",
                                   file);
        *tok = trim_dup(data, len);
        OPENSSL_cleanse(data, len);
        free(data);
    } else if (val != NULL) {
        *tok = trim_dup(val, strlen(val));
    }
    if (*tok != NULL && has_ctl(*tok)) {
        owls_free_secret(*tok);
        *tok = NULL;
        return owls_errmsg_set(em, OWLS_ECONFIG,
                               "the container authorization token has control characters");
    }
    return OWLS_OK;
}

static enum owls_err from_container(const struct owls_creds_provider *p, struct owls_creds *out,
                                    struct owls_errmsg *em)
{
    enum owls_err rc = OWLS_ENOTFOUND;
    const char *rel = env("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
    const char *full = env("AWS_CONTAINER_CREDENTIALS_FULL_URI");
    char *url = NULL, *tok = NULL, *hdr = NULL;
    struct owls_buf body;
    long status = 0;
    bool unreachable;

    owls_buf_init(&body);
    if (rel != NULL) {
        if (rel[0] != '/' || has_ctl(rel)) {
            rc = owls_errmsg_set(em, OWLS_ECONFIG,
                                 "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI must start with /");
            goto out;
        }
        url = owls_xasprintf("%s%s", ECS_HOST, rel);
    } else if (full != NULL) {
        if (!owls_creds_container_url_ok(full)) {
            rc = owls_errmsg_set(em, OWLS_ECONFIG,
                                 "AWS_CONTAINER_CREDENTIALS_FULL_URI %s: http is allowed only "
                                 "to loopback and the ECS/EKS container hosts",
                                 full);
            goto out;
        }
        url = owls_xstrdup(full);
    } else {
        goto out;
    }
    rc = container_token(&tok, em);
    if (rc != OWLS_OK)
        goto out;
    if (tok != NULL)
        hdr = owls_xasprintf("Authorization: %s", tok);
    rc = http_call("GET", url, hdr, p->timeout_ms, &status, &unreachable, &body, em);
    if (rc != OWLS_OK)
        goto out;
    if (status != 200) {
        rc = owls_errmsg_set(em, status >= 400 && status < 500 ? OWLS_EAUTH : OWLS_ETRANSIENT,
                             "container credentials %s: HTTP %ld", url, status);
        goto out;
    }
    rc = owls_creds_from_json(body.data ? body.data : "", body.len, out, em);
    if (rc != OWLS_OK)
        rc = OWLS_ETRANSIENT;
out:
    owls_buf_cleanse(&body);
    owls_free_secret(tok);
    owls_free_secret(hdr);
    free(url);
    return rc;
}

/* ---- 4. EC2 instance metadata, IMDSv2 ---------------------------------------- */

static bool role_name_ok(const char *s)
{
    if (s[0] == '\0' || strlen(s) > 128)
        return false;
    for (; *s != '\0'; s++)
        if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
              strchr("+=,.@_-", *s) != NULL))
            return false;
    return true;
}

static enum owls_err from_imds(const struct owls_creds_provider *p, struct owls_creds *out,
                               struct owls_errmsg *em)
{
    enum owls_err rc = OWLS_ENOTFOUND;
    const char *dis = env("AWS_EC2_METADATA_DISABLED");
    const char *base0 =
        p->imds_endpoint ? p->imds_endpoint : env("AWS_EC2_METADATA_SERVICE_ENDPOINT");
    char *base = NULL, *url = NULL, *token = NULL, *hdr = NULL, *role = NULL;
    struct owls_buf body;
    long status = 0;
    bool unreachable = false;
    size_t n;

    owls_buf_init(&body);
    if (dis != NULL && strcasecmp(dis, "true") == 0) {
        owls_errmsg_set(em, rc, "EC2 metadata disabled by AWS_EC2_METADATA_DISABLED");
        goto out;
    }
    base = owls_xstrdup(base0 ? base0 : IMDS_HOST);
    n = strlen(base);
    while (n > 0 && base[n - 1] == '/')
        base[--n] = '\0';

    /* The session token. */
    url = owls_xasprintf("%s/latest/api/token", base);
    rc = http_call("PUT", url, IMDS_TTL_HEADER, p->timeout_ms, &status, &unreachable, &body, em);
    if (rc != OWLS_OK) {
        if (unreachable) /* not on EC2, most likely */
            rc = OWLS_ENOTFOUND;
        goto out;
    }
    if (status != 200) {
        rc = owls_errmsg_set(em, OWLS_EAUTH, "IMDSv2 token: %s answered HTTP %ld", url, status);
        goto out;
    }
    token = trim_dup(body.data ? body.data : "", body.len);
    owls_buf_cleanse(&body);
    if (token[0] == '\0' || has_ctl(token) || strlen(token) > 1024) {
        rc = owls_errmsg_set(em, OWLS_ETRANSIENT, "IMDSv2 token: malformed answer");
        goto out;
    }
    hdr = owls_xasprintf("X-aws-ec2-metadata-token: %s", token);

    /* The role name. */
    free(url);
    url = owls_xasprintf("%s%s", base, IMDS_CREDS_PATH);
    rc = http_call("GET", url, hdr, p->timeout_ms, &status, &unreachable, &body, em);
    if (rc != OWLS_OK)
        goto out;
    if (status != 200) {
        rc = owls_errmsg_set(em, status == 404 ? OWLS_EAUTH : OWLS_ETRANSIENT,
                             status == 404 ? "EC2 metadata: no IAM role attached to the instance"
                                           : "EC2 metadata %s: HTTP %ld",
                             url, status);
        goto out;
    }
    {
        const char *b = body.data ? body.data : "";
        const char *nl = memchr(b, '\n', body.len);
        role = trim_dup(b, nl ? (size_t)(nl - b) : body.len);
    }
    owls_buf_reset(&body);
    if (!role_name_ok(role)) {
        rc = owls_errmsg_set(em, OWLS_ETRANSIENT, "EC2 metadata: bad role name");
        goto out;
    }

    /* The credentials of the role. */
    free(url);
    url = owls_xasprintf("%s%s%s", base, IMDS_CREDS_PATH, role);
    rc = http_call("GET", url, hdr, p->timeout_ms, &status, &unreachable, &body, em);
    if (rc != OWLS_OK)
        goto out;
    if (status != 200) {
        rc = owls_errmsg_set(em, OWLS_ETRANSIENT, "EC2 metadata %s: HTTP %ld", url, status);
        goto out;
    }
    rc = owls_creds_from_json(body.data ? body.data : "", body.len, out, em);
    if (rc != OWLS_OK)
        rc = OWLS_ETRANSIENT;
out:
    owls_buf_cleanse(&body);
    owls_free_secret(token);
    owls_free_secret(hdr);
    free(role);
    free(url);
    free(base);
    return rc;
}

/* ---- the chain ----------------------------------------------------------------- */

static enum owls_err resolve(const struct owls_creds_provider *p, struct owls_creds *out,
                             const char **source, struct owls_errmsg *em)
{
    enum owls_err rc;
    struct owls_errmsg imds_em = {{0}};

    memset(out, 0, sizeof(*out));
    *source = "environment";
    rc = from_env(out, em);
    if (rc != OWLS_ENOTFOUND)
        return rc;
    *source = "profile";
    rc = from_profile(p, out, em);
    if (rc != OWLS_ENOTFOUND)
        return rc;
    *source = "container";
    rc = from_container(p, out, em);
    if (rc != OWLS_ENOTFOUND)
        return rc;
    *source = "imds";
    rc = from_imds(p, out, &imds_em);
    if (rc != OWLS_ENOTFOUND) {
        if (em != NULL)
            *em = imds_em;
        return rc;
    }
    *source = NULL;
    return owls_errmsg_set(em, OWLS_EAUTH,
                           "no AWS credentials: none in the environment, in the shared files "
                           "for profile \"%s\", from a container endpoint, or from EC2 metadata "
                           "(%s)",
                           p->profile ? p->profile
                                      : (env("AWS_PROFILE") ? env("AWS_PROFILE") : "default"),
                           imds_em.text);
}

enum owls_err owls_creds_provider_new(const struct owls_creds_opts *opts,
                                      struct owls_creds_provider **out)
{
    struct owls_creds_provider *p = owls_xcalloc(1, sizeof(*p));

    if (opts != NULL && opts->profile != NULL && opts->profile[0] != '\0')
        p->profile = owls_xstrdup(opts->profile);
    if (opts != NULL && opts->imds_endpoint != NULL && opts->imds_endpoint[0] != '\0')
        p->imds_endpoint = owls_xstrdup(opts->imds_endpoint);
    p->timeout_ms = (opts != NULL && opts->timeout_ms > 0) ? opts->timeout_ms : 1000;
    p->tune.refresh_window = REFRESH_WINDOW;
    p->tune.min_validity = MIN_VALIDITY;
    p->tune.retry_interval = RETRY_INTERVAL;
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->done, NULL);
    curl_global_init(CURL_GLOBAL_DEFAULT); /* reference-counted; thread-safe since 7.84 */
    *out = p;
    return OWLS_OK;
}

void owls_creds_provider_free(struct owls_creds_provider *p)
{
    if (p == NULL)
        return;
    owls_creds_cleanup(&p->cur);
    pthread_cond_destroy(&p->done);
    pthread_mutex_destroy(&p->lock);
    free(p->profile);
    free(p->imds_endpoint);
    free(p);
    curl_global_cleanup();
}

void owls_creds_invalidate(struct owls_creds_provider *p)
{
    pthread_mutex_lock(&p->lock);
    owls_creds_cleanup(&p->cur);
    p->have = false;
    p->next_try = 0;
    pthread_mutex_unlock(&p->lock);
}

/* Locked: credentials that may still be handed out at t. */
static bool usable(const struct owls_creds_provider *p, time_t t)
{
    return p->have && (p->cur.expiration == 0 || t < p->cur.expiration - p->tune.min_validity);
}

/* Locked: credentials that need no refresh yet at t. */
static bool fresh(const struct owls_creds_provider *p, time_t t)
{
    return p->have && (p->cur.expiration == 0 || t < p->cur.expiration - p->tune.refresh_window);
}

/* Run the chain with the lock released, then publish the outcome. Called
 * and returns with the lock held, p->refreshing set by the caller. */
static enum owls_err refresh_locked(struct owls_creds_provider *p, struct owls_errmsg *em)
{
    struct owls_creds c;
    struct owls_errmsg rem = {{0}};
    const char *source = NULL;
    enum owls_err rc;
    time_t t;

    pthread_mutex_unlock(&p->lock);
    rc = resolve(p, &c, &source, &rem);
    pthread_mutex_lock(&p->lock);
    t = now_of(p);
    p->resolutions++;
    if (rc == OWLS_OK && c.expiration != 0 && t >= c.expiration - p->tune.min_validity) {
        owls_creds_cleanup(&c);
        rc = owls_errmsg_set(&rem, OWLS_ETRANSIENT, "credentials from %s are already expired",
                             source);
    }
    if (rc == OWLS_OK) {
        if (p->source != source || !p->have)
            log_info("creds: using AWS credentials from %s", source);
        owls_creds_cleanup(&p->cur);
        p->cur = c;
        p->have = true;
        p->source = source;
        /* IMDS hands out the old credentials until shortly before they
         * expire: don't ask again at every call meanwhile. */
        p->next_try = fresh(p, t) ? 0 : t + p->tune.retry_interval;
    } else {
        p->failures++;
        p->next_try = t + p->tune.retry_interval;
        if (usable(p, t))
            log_warnx("creds: refreshing AWS credentials failed, still using the current "
                      "ones: %s",
                      rem.text);
    }
    p->last_rc = rc;
    p->last_em = rem;
    p->refreshing = false;
    p->generation++;
    pthread_cond_broadcast(&p->done);
    if (rc != OWLS_OK && em != NULL)
        *em = rem;
    return rc;
}

enum owls_err owls_creds_get(struct owls_creds_provider *p, struct owls_creds *out,
                             struct owls_errmsg *em)
{
    enum owls_err rc = OWLS_EAUTH;
    unsigned long waited_for = 0;
    bool waited = false;

    memset(out, 0, sizeof(*out));
    pthread_mutex_lock(&p->lock);
    for (;;) {
        time_t t = now_of(p);

        if (usable(p, t)) {
            if (!fresh(p, t) && !p->refreshing && t >= p->next_try) {
                /* Early refresh by this caller; others keep using cur. */
                p->refreshing = true;
                (void)refresh_locked(p, NULL);
                t = now_of(p);
                if (!usable(p, t))
                    continue;
            }
            owls_creds_copy(out, &p->cur);
            rc = OWLS_OK;
            break;
        }
        if (p->refreshing) {
            /* Nothing valid to hand out: wait for the refresh in flight. */
            waited_for = p->generation;
            waited = true;
            p->waiting++;
            while (p->refreshing && p->generation == waited_for)
                pthread_cond_wait(&p->done, &p->lock);
            p->waiting--;
            continue;
        }
        if (waited && p->generation == waited_for + 1 && p->last_rc != OWLS_OK) {
            /* The refresh we waited for failed: report that, don't pile on. */
            rc = p->last_rc;
            if (em != NULL)
                *em = p->last_em;
            break;
        }
        p->refreshing = true;
        rc = refresh_locked(p, em);
        if (rc != OWLS_OK)
            break;
    }
    pthread_mutex_unlock(&p->lock);
    return rc;
}

#ifdef OWLS_UNIT_TEST
void owls_creds_provider_tune(struct owls_creds_provider *p, const struct owls_creds_tuning *t)
{
    pthread_mutex_lock(&p->lock);
    p->tune = *t;
    pthread_mutex_unlock(&p->lock);
}

void owls_creds_provider_stats(struct owls_creds_provider *p, struct owls_creds_stats *st)
{
    pthread_mutex_lock(&p->lock);
    st->resolutions = p->resolutions;
    st->failures = p->failures;
    st->waiting = p->waiting;
    st->source = p->have ? p->source : NULL;
    pthread_mutex_unlock(&p->lock);
}
#endif
