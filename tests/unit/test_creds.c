/*
 * test_creds.c - the credentials chain: environment, shared files and
 * profiles, container credentials and IMDSv2 against a loopback HTTP server
 * that this test runs in a thread (plain sockets on 127.0.0.1, a kernel-
 * chosen port), refresh near expiry, retries after a failed refresh, and
 * concurrent getters.
 *
 * Time: providers run on a test clock (private tuning hook) that only moves
 * when a test says so; the server's Expiration is computed from the same
 * clock. Synchronization is on real events (the server reports a request it
 * holds; the provider reports callers waiting); timeouts only guard failures.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "owls/creds.h"
#include "owls/fsio.h"
#include "owls/log.h"
#include "owls/private/creds.h"
#include "owls/util.h"

#define IMDS_TOKEN "AQAEAtest-imds-token=="
#define ROLE       "owls-q4d-role"

/* ---- test clock --------------------------------------------------------------- */

static _Atomic long long s_clock;

static time_t test_now(void *arg)
{
    (void)arg;
    return (time_t)atomic_load(&s_clock);
}

static void clock_advance(long long s)
{
    atomic_fetch_add(&s_clock, s);
}

static void tune(struct owls_creds_provider *p)
{
    struct owls_creds_tuning t = {900, 60, 60, test_now, NULL};
    owls_creds_provider_tune(p, &t);
}

/* ---- the loopback metadata server ------------------------------------------------ */

struct srv {
    int lfd;
    int port;
    pthread_t th;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    /* what to serve (under mu) */
    char akid[64], secret[64], token[64];
    long long expiration; /* 0: no Expiration field */
    int fail_status;      /* answer the role credentials with this, if non-zero */
    int role_list_status; /* answer the role list with this, if non-zero */
    bool hold;            /* hold the role-credentials answer until released */
    bool in_hold;
    char container_auth[128]; /* expected Authorization, "" = none */
    /* what happened (under mu) */
    int token_put, role_list, role_creds, container, bad_token, missing_ttl, bad_auth, other;
};

static struct srv s_srv;

/* Value of header name in the request head req, into out; false if absent. */
static bool get_header(const char *req, const char *name, char *out, size_t cap)
{
    size_t nl = strlen(name);
    const char *p = strstr(req, "\r\n");

    while (p != NULL && p[2] != '\r') {
        const char *line = p + 2, *end = strstr(line, "\r\n");
        if (end == NULL)
            break;
        if ((size_t)(end - line) > nl && strncasecmp(line, name, nl) == 0 && line[nl] == ':') {
            const char *v = line + nl + 1;
            while (*v == ' ')
                v++;
            snprintf(out, cap, "%.*s", (int)(end - v), v);
            return true;
        }
        p = end;
    }
    return false;
}

static void reply(int fd, int status, const char *body)
{
    char head[256];
    int n = snprintf(head, sizeof(head),
                     "HTTP/1.1 %d X\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n", status,
                     strlen(body));
    /* MSG_NOSIGNAL: a client that gave up must not kill the test. */
    if (send(fd, head, (size_t)n, MSG_NOSIGNAL) != n ||
        send(fd, body, strlen(body), MSG_NOSIGNAL) != (ssize_t)strlen(body))
        fprintf(stderr, "test server: short write\n");
}

static char *creds_json(struct srv *s)
{
    char exp[64] = "";
    if (s->expiration != 0) {
        time_t t = (time_t)s->expiration;
        struct tm tm;
        gmtime_r(&t, &tm);
        strftime(exp, sizeof(exp), ",\"Expiration\":\"%Y-%m-%dT%H:%M:%SZ\"", &tm);
    }
    return owls_xasprintf("{\"Code\":\"Success\",\"Type\":\"AWS-HMAC\",\"AccessKeyId\":\"%s\","
                          "\"SecretAccessKey\":\"%s\",\"Token\":\"%s\"%s}",
                          s->akid, s->secret, s->token, exp);
}

static void serve(struct srv *s, int fd)
{
    char req[8192], method[16], path[512], hv[256];
    size_t len = 0;
    char *body = NULL;
    int status = 404;

    while (len + 1 < sizeof(req)) {
        ssize_t n = read(fd, req + len, sizeof(req) - 1 - len);
        if (n <= 0)
            return;
        len += (size_t)n;
        req[len] = '\0';
        if (strstr(req, "\r\n\r\n"))
            break;
    }
    if (sscanf(req, "%15s %511s", method, path) != 2)
        return;
    pthread_mutex_lock(&s->mu);
    if (strcmp(path, "/latest/api/token") == 0 && strcmp(method, "PUT") == 0) {
        if (!get_header(req, "X-aws-ec2-metadata-token-ttl-seconds", hv, sizeof(hv)) ||
            strcmp(hv, "21600") != 0) {
            s->missing_ttl++;
            status = 400;
        } else {
            s->token_put++;
            status = 200;
            body = owls_xstrdup(IMDS_TOKEN);
        }
    } else if (strncmp(path, "/latest/meta-data/iam/security-credentials/", 43) == 0 &&
               strcmp(method, "GET") == 0) {
        if (!get_header(req, "X-aws-ec2-metadata-token", hv, sizeof(hv)) ||
            strcmp(hv, IMDS_TOKEN) != 0) {
            s->bad_token++;
            status = 401;
        } else if (path[43] == '\0') {
            s->role_list++;
            status = s->role_list_status ? s->role_list_status : 200;
            body = owls_xstrdup(status == 200 ? ROLE "\n" : "");
        } else if (strcmp(path + 43, ROLE) == 0) {
            s->role_creds++;
            if (s->hold) {
                s->in_hold = true;
                pthread_cond_broadcast(&s->cv);
                while (s->hold)
                    pthread_cond_wait(&s->cv, &s->mu);
                s->in_hold = false;
            }
            status = s->fail_status ? s->fail_status : 200;
            body = status == 200 ? creds_json(s) : owls_xstrdup("");
        }
    } else if (strcmp(path, "/container/creds") == 0 && strcmp(method, "GET") == 0) {
        s->container++;
        if (s->container_auth[0] != '\0' && (!get_header(req, "Authorization", hv, sizeof(hv)) ||
                                             strcmp(hv, s->container_auth) != 0)) {
            s->bad_auth++;
            status = 401;
        } else {
            status = 200;
            body = creds_json(s);
        }
    } else {
        s->other++;
    }
    pthread_mutex_unlock(&s->mu);
    reply(fd, status, body ? body : "");
    free(body);
}

static void *srv_main(void *arg)
{
    struct srv *s = arg;
    for (;;) {
        int c = accept(s->lfd, NULL, NULL);
        if (c < 0) {
            if (errno == EINTR)
                continue;
            break; /* shutdown() by srv_stop */
        }
        {
            struct timeval tv = {5, 0}; /* a failure guard, not a timing */
            setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
        }
        serve(s, c);
        close(c);
    }
    return NULL;
}

static void srv_start(struct srv *s)
{
    struct sockaddr_in a = {0};
    socklen_t al = sizeof(a);

    memset(s, 0, sizeof(*s));
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cv, NULL);
    snprintf(s->akid, sizeof(s->akid), "ASIAFIRST");
    snprintf(s->secret, sizeof(s->secret), "secret-first");
    snprintf(s->token, sizeof(s->token), "token-first");
    s->lfd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(s->lfd >= 0);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = 0;
    assert_int_equal(bind(s->lfd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(listen(s->lfd, 64), 0);
    assert_int_equal(getsockname(s->lfd, (struct sockaddr *)&a, &al), 0);
    s->port = ntohs(a.sin_port);
    assert_int_equal(pthread_create(&s->th, NULL, srv_main, s), 0);
}

static void srv_stop(struct srv *s)
{
    pthread_mutex_lock(&s->mu);
    s->hold = false;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
    shutdown(s->lfd, SHUT_RDWR);
    pthread_join(s->th, NULL);
    close(s->lfd);
    pthread_cond_destroy(&s->cv);
    pthread_mutex_destroy(&s->mu);
}

/* Serve credentials (akid/secret/token derived from tag) expiring at exp. */
static void srv_serve(struct srv *s, const char *tag, long long exp)
{
    pthread_mutex_lock(&s->mu);
    snprintf(s->akid, sizeof(s->akid), "ASIA%s", tag);
    snprintf(s->secret, sizeof(s->secret), "secret-%s", tag);
    snprintf(s->token, sizeof(s->token), "token-%s", tag);
    s->expiration = exp;
    s->fail_status = 0;
    pthread_mutex_unlock(&s->mu);
}

static void srv_set_auth(struct srv *s, const char *auth)
{
    pthread_mutex_lock(&s->mu);
    snprintf(s->container_auth, sizeof(s->container_auth), "%s", auth);
    pthread_mutex_unlock(&s->mu);
}

static int srv_count(struct srv *s, const int *field)
{
    int v;
    pthread_mutex_lock(&s->mu);
    v = *field;
    pthread_mutex_unlock(&s->mu);
    return v;
}

/* Wait (5 s failure guard) until the server holds a role-credentials request. */
static void srv_wait_hold(struct srv *s)
{
    struct timespec dl;
    bool held;
    clock_gettime(CLOCK_REALTIME, &dl);
    dl.tv_sec += 5;
    pthread_mutex_lock(&s->mu);
    while (!s->in_hold)
        if (pthread_cond_timedwait(&s->cv, &s->mu, &dl) == ETIMEDOUT)
            break;
    held = s->in_hold;
    pthread_mutex_unlock(&s->mu); /* before asserting: a failure longjmps */
    assert_true(held);
}

static void srv_set_hold(struct srv *s, bool on)
{
    pthread_mutex_lock(&s->mu);
    s->hold = on;
    pthread_cond_broadcast(&s->cv);
    pthread_mutex_unlock(&s->mu);
}

/* ---- environment and fixtures ------------------------------------------------------ */

static const char *const s_aws_vars[] = {
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
    "AWS_PROFILE",
    "AWS_SHARED_CREDENTIALS_FILE",
    "AWS_CONFIG_FILE",
    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN",
    "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
    "AWS_EC2_METADATA_DISABLED",
    "AWS_EC2_METADATA_SERVICE_ENDPOINT",
};

static char s_home[64];

static char *home_file(const char *name)
{
    return owls_xasprintf("%s/%s", s_home, name);
}

static void write_file(const char *name, const char *text)
{
    char *p = home_file(name);
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    free(p);
}

static void rm_home_file(const char *name)
{
    char *p = home_file(name);
    unlink(p);
    free(p);
}

/* A clean AWS environment: nothing set, HOME an empty temp directory, IMDS
 * off (tests that want it point it at the loopback server). */
static int setup(void **state)
{
    (void)state;
    for (size_t i = 0; i < OWLS_ARRAY_LEN(s_aws_vars); i++)
        unsetenv(s_aws_vars[i]);
    snprintf(s_home, sizeof(s_home), "/tmp/owls-creds-XXXXXX");
    if (mkdtemp(s_home) == NULL)
        return -1;
    setenv("HOME", s_home, 1);
    setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
    atomic_store(&s_clock, 1756125296); /* 2025-08-25T12:34:56Z */
    return 0;
}

static int teardown(void **state)
{
    static const char *const files[] = {"credentials", "config", "token", "log",
                                        ".aws/credentials"};
    char *aws = home_file(".aws");
    (void)state;
    for (size_t i = 0; i < OWLS_ARRAY_LEN(files); i++)
        rm_home_file(files[i]); /* also after a failed test */
    rmdir(aws);
    free(aws);
    rmdir(s_home);
    return 0;
}

static int setup_srv(void **state)
{
    if (setup(state) != 0)
        return -1;
    srv_start(&s_srv);
    return 0;
}

static int teardown_srv(void **state)
{
    srv_stop(&s_srv);
    return teardown(state);
}

static struct owls_creds_provider *provider(const char *profile, const char *imds)
{
    struct owls_creds_opts o = {profile, imds, 2000};
    struct owls_creds_provider *p = NULL;
    assert_int_equal(owls_creds_provider_new(&o, &p), OWLS_OK);
    tune(p);
    return p;
}

static char *srv_url(const char *path)
{
    return owls_xasprintf("http://127.0.0.1:%d%s", s_srv.port, path);
}

/* ---- parsing -------------------------------------------------------------------------- */

static void test_rfc3339(void **state)
{
    static const struct {
        const char *name, *in;
        bool ok;
        long long want;
    } t[] = {
        {"Z", "2025-08-25T12:34:56Z", true, 1756125296},
        {"fraction", "2025-08-25T12:34:56.789Z", true, 1756125296},
        {"plus offset", "2025-08-25T14:34:56+02:00", true, 1756125296},
        {"minus offset", "2025-08-25T07:34:56-05:00", true, 1756125296},
        {"lowercase t z", "2025-08-25t12:34:56z", true, 1756125296},
        {"epoch", "1970-01-01T00:00:00Z", true, 0},
        {"no zone", "2025-08-25T12:34:56", false, 0},
        {"bad month", "2025-13-25T12:34:56Z", false, 0},
        {"feb 30", "2025-02-30T12:34:56Z", false, 0},
        {"junk after", "2025-08-25T12:34:56Zx", false, 0},
        {"short", "2025-08-25", false, 0},
        {"empty fraction", "2025-08-25T12:34:56.Z", false, 0},
    };
    (void)state;
    for (size_t i = 0; i < OWLS_ARRAY_LEN(t); i++) {
        time_t got = -1;
        bool ok = owls_creds_parse_rfc3339(t[i].in, &got);
        if (ok != t[i].ok || (ok && (long long)got != t[i].want))
            fail_msg("%s: ok=%d got %lld", t[i].name, ok, (long long)got);
    }
}

static void test_from_json(void **state)
{
    static const struct {
        const char *name, *json;
        enum owls_err rc;
        const char *akid, *token;
        long long exp;
    } t[] = {
        {"imds document",
         "{\"Code\":\"Success\",\"LastUpdated\":\"2025-08-25T12:00:00Z\",\"Type\":\"AWS-HMAC\","
         "\"AccessKeyId\":\"ASIA1\",\"SecretAccessKey\":\"s\",\"Token\":\"t\","
         "\"Expiration\":\"2025-08-25T12:34:56Z\"}",
         OWLS_OK, "ASIA1", "t", 1756125296},
        {"container document, no Code",
         "{\"AccessKeyId\":\"ASIA2\",\"SecretAccessKey\":\"s\",\"Token\":\"t2\","
         "\"Expiration\":\"2025-08-25T12:34:56Z\",\"RoleArn\":\"arn:aws:iam::1:role/x\"}",
         OWLS_OK, "ASIA2", "t2", 1756125296},
        {"no token, no expiration", "{\"AccessKeyId\":\"AKIA3\",\"SecretAccessKey\":\"s\"}",
         OWLS_OK, "AKIA3", NULL, 0},
        {"code not success",
         "{\"Code\":\"AssumeRoleUnauthorizedAccess\",\"AccessKeyId\":\"A\","
         "\"SecretAccessKey\":\"s\"}",
         OWLS_EAWS, NULL, NULL, 0},
        {"missing secret", "{\"AccessKeyId\":\"A\"}", OWLS_EAWS, NULL, NULL, 0},
        {"empty key id", "{\"AccessKeyId\":\"\",\"SecretAccessKey\":\"s\"}", OWLS_EAWS, NULL, NULL,
         0},
        {"bad expiration",
         "{\"AccessKeyId\":\"A\",\"SecretAccessKey\":\"s\",\"Expiration\":\"tomorrow\"}", OWLS_EAWS,
         NULL, NULL, 0},
        {"token not a string", "{\"AccessKeyId\":\"A\",\"SecretAccessKey\":\"s\",\"Token\":5}",
         OWLS_EAWS, NULL, NULL, 0},
        {"header injection",
         "{\"AccessKeyId\":\"A\",\"SecretAccessKey\":\"s\",\"Token\":\"a\\r\\nX: y\"}", OWLS_EAWS,
         NULL, NULL, 0},
        {"not json", "<html>", OWLS_EAWS, NULL, NULL, 0},
        {"array", "[1]", OWLS_EAWS, NULL, NULL, 0},
    };
    (void)state;
    for (size_t i = 0; i < OWLS_ARRAY_LEN(t); i++) {
        struct owls_creds c;
        struct owls_errmsg em = {{0}};
        enum owls_err rc = owls_creds_from_json(t[i].json, strlen(t[i].json), &c, &em);
        if (rc != t[i].rc)
            fail_msg("%s: rc %d (%s)", t[i].name, (int)rc, em.text);
        if (rc == OWLS_OK) {
            assert_string_equal(c.access_key_id, t[i].akid);
            assert_string_equal(c.secret_access_key, "s");
            if (t[i].token)
                assert_string_equal(c.session_token, t[i].token);
            else
                assert_null(c.session_token);
            assert_int_equal((long long)c.expiration, t[i].exp);
        } else {
            assert_null(c.access_key_id);
            assert_true(em.text[0] != '\0');
        }
        owls_creds_cleanup(&c);
    }
}

static void test_container_url_rules(void **state)
{
    static const struct {
        const char *url;
        bool ok;
    } t[] = {
        {"http://127.0.0.1:8080/creds", true},
        {"http://127.9.8.7/creds", true},
        {"http://localhost/creds", true},
        {"http://[::1]:80/creds", true},
        {"https://creds.example.com/x", true},
        {"http://169.254.170.2/v2/credentials/x", true},
        {"http://169.254.170.23/v1/credentials", true},
        {"http://[fd00:ec2::23]/v1/credentials", true},
        {"http://10.0.0.1/creds", false},
        {"http://example.com/creds", false},
        {"http://127.0.0.1.nip.io/creds", false},
        {"http://169.254.169.254/latest", false},
        {"ftp://127.0.0.1/creds", false},
        {"file:///etc/passwd", false},
        {"not a url", false},
    };
    (void)state;
    for (size_t i = 0; i < OWLS_ARRAY_LEN(t); i++)
        if (owls_creds_container_url_ok(t[i].url) != t[i].ok)
            fail_msg("%s: want %s", t[i].url, t[i].ok ? "allowed" : "refused");
}

/* ---- 1. environment -------------------------------------------------------------------- */

static void test_env(void **state)
{
    static const struct {
        const char *name, *id, *secret, *token;
        enum owls_err rc;
        const char *msg;
    } t[] = {
        {"keys", "AKIAENV", "env-secret", NULL, OWLS_OK, NULL},
        {"keys and token", "ASIAENV", "env-secret", "env-token", OWLS_OK, NULL},
        {"empty token is none", "AKIAENV", "env-secret", "", OWLS_OK, NULL},
        {"id only", "AKIAENV", NULL, NULL, OWLS_ECONFIG, "AWS_SECRET_ACCESS_KEY"},
        {"secret only", NULL, "env-secret", NULL, OWLS_ECONFIG, "AWS_ACCESS_KEY_ID"},
        {"nothing, IMDS off", NULL, NULL, NULL, OWLS_EAUTH, "no AWS credentials"},
    };
    (void)state;
    for (size_t i = 0; i < OWLS_ARRAY_LEN(t); i++) {
        struct owls_creds_provider *p;
        struct owls_creds c;
        struct owls_errmsg em = {{0}};
        enum owls_err rc;

        t[i].id ? setenv("AWS_ACCESS_KEY_ID", t[i].id, 1) : unsetenv("AWS_ACCESS_KEY_ID");
        t[i].secret ? setenv("AWS_SECRET_ACCESS_KEY", t[i].secret, 1)
                    : unsetenv("AWS_SECRET_ACCESS_KEY");
        t[i].token ? setenv("AWS_SESSION_TOKEN", t[i].token, 1) : unsetenv("AWS_SESSION_TOKEN");
        p = provider(NULL, NULL);
        rc = owls_creds_get(p, &c, &em);
        if (rc != t[i].rc)
            fail_msg("%s: rc %d (%s)", t[i].name, (int)rc, em.text);
        if (rc == OWLS_OK) {
            assert_string_equal(c.access_key_id, t[i].id);
            assert_string_equal(c.secret_access_key, t[i].secret);
            if (t[i].token && t[i].token[0])
                assert_string_equal(c.session_token, t[i].token);
            else
                assert_null(c.session_token);
            assert_int_equal(c.expiration, 0);
        } else {
            if (strstr(em.text, t[i].msg) == NULL)
                fail_msg("%s: message \"%s\" lacks \"%s\"", t[i].name, em.text, t[i].msg);
            assert_null(strstr(em.text, "env-secret"));
        }
        owls_creds_cleanup(&c);
        owls_creds_provider_free(p);
    }
}

/* ---- 2. shared files ---------------------------------------------------------------------- */

static char s_long_token[1301];

static void test_profiles(void **state)
{
    struct {
        const char *name;
        const char *credentials; /* file content, NULL = no file */
        const char *config;
        const char *env_profile;  /* AWS_PROFILE */
        const char *opts_profile; /* opts->profile */
        enum owls_err rc;
        const char *akid;  /* on success */
        const char *token; /* on success; "LONG" = s_long_token */
        const char *msg;   /* on failure, a part of the message */
    } t[] = {
        {"default from credentials",
         "[default]\naws_access_key_id = AKIADEF\n"
         "aws_secret_access_key = sec-def\n",
         NULL, NULL, NULL, OWLS_OK, "AKIADEF", NULL, NULL},
        {"named by AWS_PROFILE",
         "[default]\naws_access_key_id=AKIADEF\naws_secret_access_key=sec-def\n"
         "[ci]\naws_access_key_id=AKIACI\naws_secret_access_key=sec-ci\n",
         NULL, "ci", NULL, OWLS_OK, "AKIACI", NULL, NULL},
        {"opts beat AWS_PROFILE",
         "[ci]\naws_access_key_id=AKIACI\naws_secret_access_key=sec-ci\n"
         "[prod]\naws_access_key_id=AKIAPROD\naws_secret_access_key=sec-prod\n",
         NULL, "ci", "prod", OWLS_OK, "AKIAPROD", NULL, NULL},
        {"session token",
         "[tmp]\naws_access_key_id = ASIATMP\naws_secret_access_key = sec-tmp\n"
         "aws_session_token = short-token\n",
         NULL, "tmp", NULL, OWLS_OK, "ASIATMP", "short-token", NULL},
        {"long session token (1300 bytes) and comments", NULL, NULL, "tmp", NULL, OWLS_OK,
         "ASIALONG", "LONG", NULL},
        {"config [profile x]", NULL,
         "[default]\nregion = us-east-1\n[profile cfg]\nregion = eu-west-1\n"
         "aws_access_key_id = AKIACFG\naws_secret_access_key = sec-cfg\n",
         "cfg", NULL, OWLS_OK, "AKIACFG", NULL, NULL},
        {"config [default]", NULL,
         "[default]\naws_access_key_id = AKIACFGDEF\naws_secret_access_key = sec\n", NULL, NULL,
         OWLS_OK, "AKIACFGDEF", NULL, NULL},
        {"credentials file beats config",
         "[both]\naws_access_key_id = AKIACRED\naws_secret_access_key = sec-cred\n",
         "[profile both]\naws_access_key_id = AKIACONF\naws_secret_access_key = sec-conf\n", "both",
         NULL, OWLS_OK, "AKIACRED", NULL, NULL},
        {"CRLF and spaces",
         "[default]\r\n  aws_access_key_id   =   AKIACRLF  \r\n"
         "aws_secret_access_key=sec-crlf\r\n",
         NULL, NULL, NULL, OWLS_OK, "AKIACRLF", NULL, NULL},
        {"[profile x] in the credentials file is not x",
         "[profile px]\naws_access_key_id = AKIAPX\naws_secret_access_key = sec\n", NULL, "px",
         NULL, OWLS_ECONFIG, NULL, NULL, "\"px\" not found"},
        {"missing named profile", "[default]\naws_access_key_id=A\naws_secret_access_key=s\n",
         "[profile other]\nregion=us-east-1\n", "nosuch", NULL, OWLS_ECONFIG, NULL, NULL,
         "AWS profile \"nosuch\" not found"},
        {"missing named profile, no files", NULL, NULL, "ghost", NULL, OWLS_ECONFIG, NULL, NULL,
         "\"ghost\" not found"},
        {"named profile without keys", NULL,
         "[profile role]\nrole_arn = arn:aws:iam::1:role/r\nsource_profile = default\n", "role",
         NULL, OWLS_ECONFIG, NULL, NULL, "\"role\" has no aws_access_key_id"},
        {"key id without secret", "[default]\naws_access_key_id = AKIAHALF\n", NULL, NULL, NULL,
         OWLS_ECONFIG, NULL, NULL, "not aws_secret_access_key"},
        {"malformed file", "[default]\naws_access_key_id = A\nthis line is not ini\n", NULL, NULL,
         NULL, OWLS_ECONFIG, NULL, NULL, "credentials:3:"},
        {"default absent: falls through (IMDS off)",
         "[other]\naws_access_key_id = A\naws_secret_access_key = s\n", NULL, NULL, NULL,
         OWLS_EAUTH, NULL, NULL, "no AWS credentials"},
    };
    char *long_creds;
    (void)state;

    memset(s_long_token, 'T', sizeof(s_long_token) - 1);
    memcpy(s_long_token + sizeof(s_long_token) - 4, "x==", 3);
    long_creds = owls_xasprintf("# a comment\n; another\n[tmp] \naws_access_key_id = ASIALONG\n"
                                "aws_session_token = %s ; an inline comment\n"
                                "aws_secret_access_key = sec-long\n",
                                s_long_token);
    t[4].credentials = long_creds;

    for (size_t i = 0; i < OWLS_ARRAY_LEN(t); i++) {
        struct owls_creds_provider *p;
        struct owls_creds c;
        struct owls_errmsg em = {{0}};
        enum owls_err rc;
        char *cp = home_file("credentials"), *fp = home_file("config");

        rm_home_file("credentials");
        rm_home_file("config");
        if (t[i].credentials)
            write_file("credentials", t[i].credentials);
        if (t[i].config)
            write_file("config", t[i].config);
        setenv("AWS_SHARED_CREDENTIALS_FILE", cp, 1);
        setenv("AWS_CONFIG_FILE", fp, 1);
        t[i].env_profile ? setenv("AWS_PROFILE", t[i].env_profile, 1) : unsetenv("AWS_PROFILE");
        p = provider(t[i].opts_profile, NULL);
        rc = owls_creds_get(p, &c, &em);
        if (rc != t[i].rc)
            fail_msg("%s: rc %d (%s)", t[i].name, (int)rc, em.text);
        if (rc == OWLS_OK) {
            const char *want_tok =
                t[i].token && strcmp(t[i].token, "LONG") == 0 ? s_long_token : t[i].token;
            assert_string_equal(c.access_key_id, t[i].akid);
            if (want_tok)
                assert_string_equal(c.session_token, want_tok);
            else
                assert_null(c.session_token);
            assert_int_equal(c.expiration, 0);
        } else {
            if (strstr(em.text, t[i].msg) == NULL)
                fail_msg("%s: message \"%s\" lacks \"%s\"", t[i].name, em.text, t[i].msg);
            assert_null(strstr(em.text, "sec-"));
        }
        owls_creds_cleanup(&c);
        owls_creds_provider_free(p);
        free(cp);
        free(fp);
    }
    free(long_creds);
}

/* $HOME/.aws/credentials is the default path. */
static void test_profile_default_path(void **state)
{
    struct owls_creds_provider *p;
    struct owls_creds c;
    char *dir = home_file(".aws");
    (void)state;

    assert_int_equal(mkdir(dir, 0700), 0);
    write_file(".aws/credentials", "[default]\naws_access_key_id = AKIAHOME\n"
                                   "aws_secret_access_key = sec-home\n");
    p = provider(NULL, NULL);
    assert_int_equal(owls_creds_get(p, &c, NULL), OWLS_OK);
    assert_string_equal(c.access_key_id, "AKIAHOME");
    owls_creds_cleanup(&c);
    owls_creds_provider_free(p);
    rm_home_file(".aws/credentials");
    rmdir(dir);
    free(dir);
}

/* Environment beats files, files beat container and IMDS. */
static void test_precedence(void **state)
{
    struct owls_creds_provider *p;
    struct owls_creds c;
    struct owls_creds_stats st;
    char *cp = home_file("credentials"), *imds = srv_url("");
    char *full = srv_url("/container/creds");
    (void)state;

    srv_serve(&s_srv, "IMDS", atomic_load(&s_clock) + 7200);
    write_file("credentials", "[default]\naws_access_key_id = AKIAFILE\n"
                              "aws_secret_access_key = sec-file\n");
    setenv("AWS_SHARED_CREDENTIALS_FILE", cp, 1);
    setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", full, 1);
    unsetenv("AWS_EC2_METADATA_DISABLED");
    setenv("AWS_ACCESS_KEY_ID", "AKIAENV", 1);
    setenv("AWS_SECRET_ACCESS_KEY", "sec-env", 1);

    p = provider(NULL, imds);
    assert_int_equal(owls_creds_get(p, &c, NULL), OWLS_OK);
    assert_string_equal(c.access_key_id, "AKIAENV");
    owls_creds_provider_stats(p, &st);
    assert_string_equal(st.source, "environment");
    owls_creds_cleanup(&c);
    owls_creds_provider_free(p);

    unsetenv("AWS_ACCESS_KEY_ID");
    unsetenv("AWS_SECRET_ACCESS_KEY");
    p = provider(NULL, imds);
    assert_int_equal(owls_creds_get(p, &c, NULL), OWLS_OK);
    assert_string_equal(c.access_key_id, "AKIAFILE");
    owls_creds_cleanup(&c);
    owls_creds_provider_free(p);

    rm_home_file("credentials");
    p = provider(NULL, imds);
    assert_int_equal(owls_creds_get(p, &c, NULL), OWLS_OK);
    assert_string_equal(c.access_key_id, "ASIAIMDS");
    owls_creds_provider_stats(p, &st);
    assert_string_equal(st.source, "container");
    owls_creds_cleanup(&c);
    owls_creds_provider_free(p);

    unsetenv("AWS_CONTAINER_CREDENTIALS_FULL_URI");
    p = provider(NULL, imds);
    assert_int_equal(owls_creds_get(p, &c, NULL), OWLS_OK);
    owls_creds_provider_stats(p, &st);
    assert_string_equal(st.source, "imds");
    owls_creds_cleanup(&c);
    owls_creds_provider_free(p);

    assert_int_equal(srv_count(&s_srv, &s_srv.container), 1);
    assert_int_equal(srv_count(&s_srv, &s_srv.token_put), 1);
    free(cp);
    free(imds);
    free(full);
}

/* ---- 3. container credentials ----------------------------------------------------------- */

static void test_container(void **state)
{
    struct owls_creds_provider *p;
    struct owls_creds c;
    struct owls_errmsg em = {{0}};
    char *full = srv_url("/container/creds"), *tokfile = home_file("token");
    long long exp = atomic_load(&s_clock) + 3600;
    (void)state;

    srv_serve(&s_srv, "CTR", exp);
    srv_set_auth(&s_srv, "Bearer env-token");
    setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", full, 1);

    /* Token from the environment. */
    setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN", "Bearer env-token", 1);
    p = provider(NULL, NULL);
    assert_int_equal(owls_creds_get(p, &c, &em), OWLS_OK);
    assert_string_equal(c.access_key_id, "ASIACTR");
    assert_string_equal(c.secret_access_key, "secret-CTR");
    assert_string_equal(c.session_token, "token-CTR");
    assert_int_equal((long long)c.expiration, exp);
    owls_creds_cleanup(&c);
    owls_creds_provider_free(p);

    /* The token file wins over the variable (and its newline is dropped). */
    write_file("token", "Bearer file-token\n");
    setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", tokfile, 1);
    srv_set_auth(&s_srv, "Bearer file-token");
    p = provider(NULL, NULL);
    assert_int_equal(owls_creds_get(p, &c, &em), OWLS_OK);
    owls_creds_cleanup(&c);
    owls_creds_provider_free(p);

    /* A wrong token: 401 is an authorization error, no fall-through. */
    srv_set_auth(&s_srv, "Bearer other");
    p = provider(NULL, NULL);
    assert_int_equal(owls_creds_get(p, &c, &em), OWLS_EAUTH);
    assert_non_null(strstr(em.text, "HTTP 401"));
    assert_null(strstr(em.text, "file-token"));
    owls_creds_provider_free(p);
    assert_int_equal(srv_count(&s_srv, &s_srv.container), 3);
    assert_int_equal(srv_count(&s_srv, &s_srv.bad_auth), 1);

    /* http to a host that is not loopback: refused before any request. */
    setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://192.0.2.1/creds", 1);
    p = provider(NULL, NULL);
    assert_int_equal(owls_creds_get(p, &c, &em), OWLS_ECONFIG);
    assert_non_null(strstr(em.text, "AWS_CONTAINER_CREDENTIALS_FULL_URI"));
    owls_creds_provider_free(p);

    /* A relative URI must start with '/'. */
    unsetenv("AWS_CONTAINER_CREDENTIALS_FULL_URI");
    setenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "v2/credentials", 1);
    p = provider(NULL, NULL);
    assert_int_equal(owls_creds_get(p, &c, &em), OWLS_ECONFIG);
    owls_creds_provider_free(p);
    assert_int_equal(srv_count(&s_srv, &s_srv.container), 3);

    free(full);
    free(tokfile);
}

/* ---- 4. IMDSv2 -------------------------------------------------------------------------- */

static void test_imds_basic(void **state)
{
    struct owls_creds_provider *p;
    struct owls_creds c;
    struct owls_errmsg em = {{0}};
    char *imds = srv_url("/");
    long long exp = atomic_load(&s_clock) + 6 * 3600;
    (void)state;

    srv_serve(&s_srv, "ONE", exp);
    unsetenv("AWS_EC2_METADATA_DISABLED");
    setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", imds, 1); /* the variable, not opts */
    p = provider(NULL, NULL);
    assert_int_equal(owls_creds_get(p, &c, &em), OWLS_OK);
    assert_string_equal(c.access_key_id, "ASIAONE");
    assert_string_equal(c.secret_access_key, "secret-ONE");
    assert_string_equal(c.session_token, "token-ONE");
    assert_int_equal((long long)c.expiration, exp);
    owls_creds_cleanup(&c);
    /* token PUT with the TTL header, role list and role credentials with the
     * token; nothing else. */
    assert_int_equal(srv_count(&s_srv, &s_srv.token_put), 1);
    assert_int_equal(srv_count(&s_srv, &s_srv.role_list), 1);
    assert_int_equal(srv_count(&s_srv, &s_srv.role_creds), 1);
    assert_int_equal(srv_count(&s_srv, &s_srv.missing_ttl), 0);
    assert_int_equal(srv_count(&s_srv, &s_srv.bad_token), 0);
    assert_int_equal(srv_count(&s_srv, &s_srv.other), 0);

    /* Invalidate: the next get asks again. */
    owls_creds_invalidate(p);
    assert_int_equal(owls_creds_get(p, &c, &em), OWLS_OK);
    owls_creds_cleanup(&c);
    assert_int_equal(srv_count(&s_srv, &s_srv.token_put), 2);
    assert_int_equal(srv_count(&s_srv, &s_srv.role_creds), 2);
    owls_creds_provider_free(p);

    /* AWS_EC2_METADATA_DISABLED=true: not asked at all. */
    setenv("AWS_EC2_METADATA_DISABLED", "TRUE", 1);
    p = provider(NULL, NULL);
    assert_int_equal(owls_creds_get(p, &c, &em), OWLS_EAUTH);
    assert_non_null(strstr(em.text, "disabled"));
    owls_creds_provider_free(p);
    assert_int_equal(srv_count(&s_srv, &s_srv.token_put), 2);
    free(imds);
}

static void test_imds_errors(void **state)
{
    struct owls_creds_provider *p;
    struct owls_creds c;
    struct owls_errmsg em = {{0}};
    char *imds = srv_url("");
    char *dead;
    int fd;
    struct sockaddr_in a = {0};
    socklen_t al = sizeof(a);
    (void)state;

    unsetenv("AWS_EC2_METADATA_DISABLED");
    srv_serve(&s_srv, "E", atomic_load(&s_clock) + 3600);

    /* No role attached: 404 on the list. */
    pthread_mutex_lock(&s_srv.mu);
    s_srv.role_list_status = 404;
    pthread_mutex_unlock(&s_srv.mu);
    p = provider(NULL, imds);
    assert_int_equal(owls_creds_get(p, &c, &em), OWLS_EAUTH);
    assert_non_null(strstr(em.text, "no IAM role"));
    owls_creds_provider_free(p);
    pthread_mutex_lock(&s_srv.mu);
    s_srv.role_list_status = 0;
    pthread_mutex_unlock(&s_srv.mu);

    /* 500 on the credentials: transient. */
    pthread_mutex_lock(&s_srv.mu);
    s_srv.fail_status = 500;
    pthread_mutex_unlock(&s_srv.mu);
    p = provider(NULL, imds);
    assert_int_equal(owls_creds_get(p, &c, &em), OWLS_ETRANSIENT);
    assert_non_null(strstr(em.text, "HTTP 500"));
    owls_creds_provider_free(p);

    /* Credentials that are already expired are not handed out. */
    srv_serve(&s_srv, "OLD", atomic_load(&s_clock) - 10);
    p = provider(NULL, imds);
    assert_int_equal(owls_creds_get(p, &c, &em), OWLS_ETRANSIENT);
    assert_non_null(strstr(em.text, "expired"));
    owls_creds_provider_free(p);

    /* Nothing listening: no credentials anywhere. */
    fd = socket(AF_INET, SOCK_STREAM, 0);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &al), 0);
    close(fd); /* the port is now (very likely) closed */
    dead = owls_xasprintf("http://127.0.0.1:%d", ntohs(a.sin_port));
    p = provider(NULL, dead);
    assert_int_equal(owls_creds_get(p, &c, &em), OWLS_EAUTH);
    assert_non_null(strstr(em.text, "no AWS credentials"));
    owls_creds_provider_free(p);
    free(dead);
    free(imds);
}

/* ---- refresh ------------------------------------------------------------------------------ */

static struct owls_creds_provider *imds_provider(void)
{
    char *imds = srv_url("");
    struct owls_creds_provider *p;
    unsetenv("AWS_EC2_METADATA_DISABLED");
    p = provider(NULL, imds);
    free(imds);
    return p;
}

static void expect_akid(struct owls_creds_provider *p, const char *akid)
{
    struct owls_creds c;
    struct owls_errmsg em = {{0}};
    enum owls_err rc = owls_creds_get(p, &c, &em);
    if (rc != OWLS_OK)
        fail_msg("get: rc %d (%s)", (int)rc, em.text);
    assert_string_equal(c.access_key_id, akid);
    owls_creds_cleanup(&c);
}

static void test_no_refresh_when_far(void **state)
{
    struct owls_creds_provider *p = imds_provider();
    (void)state;

    srv_serve(&s_srv, "FAR", atomic_load(&s_clock) + 3600);
    for (int i = 0; i < 5; i++) {
        expect_akid(p, "ASIAFAR");
        clock_advance(600); /* up to 40 min later: still 20 min left */
    }
    assert_int_equal(srv_count(&s_srv, &s_srv.role_creds), 1);
    owls_creds_provider_free(p);
}

static void test_refresh_when_near(void **state)
{
    struct owls_creds_provider *p = imds_provider();
    long long t0 = atomic_load(&s_clock);
    (void)state;

    /* 10 minutes left: inside the 15-minute window, so a get refreshes
     * (once the retry interval after the fetch has passed: right after it,
     * IMDS would only answer the same); the new ones have 2 hours. */
    srv_serve(&s_srv, "NEAR", t0 + 600);
    expect_akid(p, "ASIANEAR");
    assert_int_equal(srv_count(&s_srv, &s_srv.role_creds), 1);
    srv_serve(&s_srv, "NEW", t0 + 7200);
    clock_advance(61);
    expect_akid(p, "ASIANEW");
    assert_int_equal(srv_count(&s_srv, &s_srv.role_creds), 2);
    expect_akid(p, "ASIANEW");
    assert_int_equal(srv_count(&s_srv, &s_srv.role_creds), 2);

    /* Time passes to 14 minutes before the new expiry: refresh again. */
    atomic_store(&s_clock, t0 + 7200 - 14 * 60);
    srv_serve(&s_srv, "NEWER", t0 + 4 * 3600);
    expect_akid(p, "ASIANEWER");
    assert_int_equal(srv_count(&s_srv, &s_srv.role_creds), 3);
    owls_creds_provider_free(p);
}

/* IMDS keeps serving the same soon-to-expire credentials: don't ask at every
 * call, ask again after the retry interval. */
static void test_fruitless_refresh_backs_off(void **state)
{
    struct owls_creds_provider *p = imds_provider();
    long long t0 = atomic_load(&s_clock);
    (void)state;

    srv_serve(&s_srv, "SAME", t0 + 600);
    expect_akid(p, "ASIASAME");
    expect_akid(p, "ASIASAME"); /* right after the fetch: no request */
    assert_int_equal(srv_count(&s_srv, &s_srv.role_creds), 1);
    clock_advance(61);
    expect_akid(p, "ASIASAME"); /* early refresh: the same answer */
    assert_int_equal(srv_count(&s_srv, &s_srv.role_creds), 2);
    for (int i = 0; i < 5; i++)
        expect_akid(p, "ASIASAME");
    assert_int_equal(srv_count(&s_srv, &s_srv.role_creds), 2);
    clock_advance(61);
    expect_akid(p, "ASIASAME");
    assert_int_equal(srv_count(&s_srv, &s_srv.role_creds), 3);
    owls_creds_provider_free(p);
}

static void test_failed_refresh_keeps_old(void **state)
{
    struct owls_creds_provider *p = imds_provider();
    long long t0 = atomic_load(&s_clock);
    struct owls_creds_stats st;
    struct owls_creds c;
    struct owls_errmsg em = {{0}};
    (void)state;

    srv_serve(&s_srv, "OLD", t0 + 600);
    expect_akid(p, "ASIAOLD");
    clock_advance(61);
    pthread_mutex_lock(&s_srv.mu);
    s_srv.fail_status = 503;
    pthread_mutex_unlock(&s_srv.mu);

    /* The refresh fails; the old ones are still valid and handed out. */
    expect_akid(p, "ASIAOLD");
    assert_int_equal(srv_count(&s_srv, &s_srv.role_creds), 2);
    owls_creds_provider_stats(p, &st);
    assert_int_equal(st.failures, 1);
    /* Not retried at every call... */
    expect_akid(p, "ASIAOLD");
    assert_int_equal(srv_count(&s_srv, &s_srv.role_creds), 2);
    /* ...but after the retry interval. */
    clock_advance(61);
    expect_akid(p, "ASIAOLD");
    assert_int_equal(srv_count(&s_srv, &s_srv.role_creds), 3);
    /* The service recovers. */
    srv_serve(&s_srv, "RECOVERED", t0 + 7200);
    clock_advance(61);
    expect_akid(p, "ASIARECOVERED");
    assert_int_equal(srv_count(&s_srv, &s_srv.role_creds), 4);

    /* Past expiry with the service down: an error, not stale credentials. */
    pthread_mutex_lock(&s_srv.mu);
    s_srv.fail_status = 500;
    pthread_mutex_unlock(&s_srv.mu);
    atomic_store(&s_clock, t0 + 7200 - 30);
    assert_int_equal(owls_creds_get(p, &c, &em), OWLS_ETRANSIENT);
    assert_null(c.access_key_id);
    owls_creds_provider_free(p);
}

/* Everything the provider logs, at debug level, through a refresh that fails
 * and one that succeeds, and a profile error: no key, secret or token. */
static void test_no_secrets_in_logs(void **state)
{
    struct owls_creds_provider *p = imds_provider();
    char *logpath = home_file("log"), *text = NULL;
    size_t len = 0;
    int saved = dup(2), fd;
    long long t0 = atomic_load(&s_clock);
    static const char *const secrets[] = {"ASIA", "secret-", "token-", IMDS_TOKEN};
    (void)state;

    fd = open(logpath, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_true(fd >= 0 && saved >= 0);
    fflush(stderr);
    dup2(fd, 2);
    log_init("owls", LOG_DEBUG, 0);
    srv_serve(&s_srv, "LOG", t0 + 600);
    expect_akid(p, "ASIALOG");
    pthread_mutex_lock(&s_srv.mu);
    s_srv.fail_status = 500;
    pthread_mutex_unlock(&s_srv.mu);
    clock_advance(61);
    expect_akid(p, "ASIALOG"); /* refresh fails: a warning */
    srv_serve(&s_srv, "LOG2", t0 + 7200);
    clock_advance(61);
    expect_akid(p, "ASIALOG2");
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    close(fd);
    log_init("owls", LOG_INFO, 0);

    assert_int_equal(owls_file_read(logpath, &text, &len, NULL), OWLS_OK);
    assert_non_null(strstr(text, "refreshing AWS credentials failed")); /* it did log */
    for (size_t i = 0; i < OWLS_ARRAY_LEN(secrets); i++)
        if (strstr(text, secrets[i]) != NULL)
            fail_msg("the log shows \"%s\":\n%s", secrets[i], text);
    free(text);
    unlink(logpath);
    free(logpath);
    owls_creds_provider_free(p);
}

/* ---- concurrency --------------------------------------------------------------------------- */

#define NTHREADS 8

struct getter {
    struct owls_creds_provider *p;
    pthread_barrier_t *start;
    enum owls_err rc;
    char akid[64];
    /* completion, for a guarded wait */
    pthread_mutex_t *mu;
    pthread_cond_t *cv;
    int *finished;
};

static void *getter_main(void *arg)
{
    struct getter *g = arg;
    struct owls_creds c;

    if (g->start)
        pthread_barrier_wait(g->start);
    g->rc = owls_creds_get(g->p, &c, NULL);
    if (g->rc == OWLS_OK)
        snprintf(g->akid, sizeof(g->akid), "%s", c.access_key_id);
    owls_creds_cleanup(&c);
    if (g->mu) {
        pthread_mutex_lock(g->mu);
        (*g->finished)++;
        pthread_cond_broadcast(g->cv);
        pthread_mutex_unlock(g->mu);
    }
    return NULL;
}

/* Wait (5 s failure guard) until n callers block inside owls_creds_get(). */
static void wait_waiting(struct owls_creds_provider *p, unsigned n)
{
    struct owls_creds_stats st;
    long long deadline = 0;
    struct timespec ts, nap = {0, 1000000};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    deadline = ts.tv_sec + 5;
    for (;;) {
        owls_creds_provider_stats(p, &st);
        clock_gettime(CLOCK_MONOTONIC, &ts);
        if (st.waiting >= n || ts.tv_sec > deadline)
            break;
        nanosleep(&nap, NULL); /* polling a real condition; the deadline guards */
    }
    assert_int_equal(st.waiting, n);
}

/* N threads at once on an empty provider: one resolution, all served. */
static void test_concurrent_first_get(void **state)
{
    struct owls_creds_provider *p = imds_provider();
    pthread_t th[NTHREADS];
    struct getter g[NTHREADS];
    struct owls_creds_stats st;
    (void)state;

    srv_serve(&s_srv, "SHARED", atomic_load(&s_clock) + 3600);
    srv_set_hold(&s_srv, true);
    for (int i = 0; i < NTHREADS; i++) {
        g[i] = (struct getter){.p = p};
        assert_int_equal(pthread_create(&th[i], NULL, getter_main, &g[i]), 0);
    }
    srv_wait_hold(&s_srv);         /* one thread is refreshing... */
    wait_waiting(p, NTHREADS - 1); /* ...and all the others wait for it */
    srv_set_hold(&s_srv, false);
    for (int i = 0; i < NTHREADS; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(g[i].rc, OWLS_OK);
        assert_string_equal(g[i].akid, "ASIASHARED");
    }
    owls_creds_provider_stats(p, &st);
    assert_int_equal(st.resolutions, 1);
    assert_int_equal(srv_count(&s_srv, &s_srv.token_put), 1);
    assert_int_equal(srv_count(&s_srv, &s_srv.role_creds), 1);
    owls_creds_provider_free(p);
}

/* An early refresh in flight blocks nobody who can use the current ones. */
static void test_refresh_does_not_block_others(void **state)
{
    struct owls_creds_provider *p = imds_provider();
    long long t0 = atomic_load(&s_clock);
    pthread_t refresher, th[NTHREADS];
    struct getter gr, g[NTHREADS];
    pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
    pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
    pthread_barrier_t start;
    int finished = 0;
    struct timespec dl;
    struct owls_creds_stats st;
    (void)state;

    srv_serve(&s_srv, "CUR", t0 + 600); /* inside the refresh window */
    expect_akid(p, "ASIACUR");
    srv_serve(&s_srv, "NEXT", t0 + 7200);
    srv_set_hold(&s_srv, true);
    clock_advance(61);

    gr = (struct getter){.p = p};
    assert_int_equal(pthread_create(&refresher, NULL, getter_main, &gr), 0);
    srv_wait_hold(&s_srv); /* the refresh is in flight, held by the server */

    pthread_barrier_init(&start, NULL, NTHREADS);
    for (int i = 0; i < NTHREADS; i++) {
        g[i] =
            (struct getter){.p = p, .start = &start, .mu = &mu, .cv = &cv, .finished = &finished};
        assert_int_equal(pthread_create(&th[i], NULL, getter_main, &g[i]), 0);
    }
    /* All of them finish while the refresh is still held. */
    clock_gettime(CLOCK_REALTIME, &dl);
    dl.tv_sec += 5;
    pthread_mutex_lock(&mu);
    while (finished < NTHREADS)
        if (pthread_cond_timedwait(&cv, &mu, &dl) == ETIMEDOUT)
            break;
    pthread_mutex_unlock(&mu);
    assert_int_equal(finished, NTHREADS);
    for (int i = 0; i < NTHREADS; i++) {
        pthread_join(th[i], NULL);
        assert_int_equal(g[i].rc, OWLS_OK);
        assert_string_equal(g[i].akid, "ASIACUR");
    }
    srv_set_hold(&s_srv, false);
    pthread_join(refresher, NULL);
    assert_int_equal(gr.rc, OWLS_OK);
    assert_string_equal(gr.akid, "ASIANEXT");
    expect_akid(p, "ASIANEXT");
    owls_creds_provider_stats(p, &st);
    assert_int_equal(st.resolutions, 2);
    assert_int_equal(srv_count(&s_srv, &s_srv.role_creds), 2);
    pthread_barrier_destroy(&start);
    owls_creds_provider_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rfc3339),
        cmocka_unit_test(test_from_json),
        cmocka_unit_test(test_container_url_rules),
        cmocka_unit_test_setup_teardown(test_env, setup, teardown),
        cmocka_unit_test_setup_teardown(test_profiles, setup, teardown),
        cmocka_unit_test_setup_teardown(test_profile_default_path, setup, teardown),
        cmocka_unit_test_setup_teardown(test_precedence, setup_srv, teardown_srv),
        cmocka_unit_test_setup_teardown(test_container, setup_srv, teardown_srv),
        cmocka_unit_test_setup_teardown(test_imds_basic, setup_srv, teardown_srv),
        cmocka_unit_test_setup_teardown(test_imds_errors, setup_srv, teardown_srv),
        cmocka_unit_test_setup_teardown(test_no_refresh_when_far, setup_srv, teardown_srv),
        cmocka_unit_test_setup_teardown(test_refresh_when_near, setup_srv, teardown_srv),
        cmocka_unit_test_setup_teardown(test_fruitless_refresh_backs_off, setup_srv, teardown_srv),
        cmocka_unit_test_setup_teardown(test_failed_refresh_keeps_old, setup_srv, teardown_srv),
        cmocka_unit_test_setup_teardown(test_no_secrets_in_logs, setup_srv, teardown_srv),
        cmocka_unit_test_setup_teardown(test_concurrent_first_get, setup_srv, teardown_srv),
        cmocka_unit_test_setup_teardown(test_refresh_does_not_block_others, setup_srv,
                                        teardown_srv),
    };
    return cmocka_run_group_tests_name("creds", tests, NULL, NULL);
}
