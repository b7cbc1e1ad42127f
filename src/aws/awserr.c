/*
 * awserr.c - AWS error answers: parse, classify, map.
 *
 * DESIGN: every AWS answer that is not a 2xx passes through here once. S3
 * speaks XML (<Error><Code>), SQS's JSON protocol speaks {"__type"}, and
 * auth failures come back as XML with a 403 even on JSON calls (moto and
 * AWS alike), so owls_awserr_from_response() sniffs the body rather than
 * trusting the protocol. libxml2 runs with network access and entity
 * substitution off (no XXE) and its error output silenced; inputs are
 * capped at 1 MiB. The classification table is the AWS SDKs' "standard"
 * retry mode. No state beyond libxml2's one-time init: thread-safe.
 */
#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <jansson.h>
#include <libxml/parser.h>
#include <libxml/tree.h>

#include "owls/awserr.h"
#include "owls/util.h"

#define MAX_ERROR_BODY (1024 * 1024)

static pthread_once_t s_xml_once = PTHREAD_ONCE_INIT;

static void xml_init_once(void)
{
    xmlInitParser();
}

void owls_awserr_init(void)
{
    pthread_once(&s_xml_once, xml_init_once);
}

/* Copy s[0..n) into dst (cap bytes), replacing control characters and
 * cutting back to a UTF-8 boundary when truncating. */
static void copy_clean(char *dst, size_t cap, const char *s, size_t n)
{
    size_t i;

    if (cap == 0)
        return;
    if (n > cap - 1) {
        n = cap - 1;
        while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
            n--;
    }
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        dst[i] = (c < 0x20 || c == 0x7f) ? ' ' : (char)c;
    }
    dst[i] = '\0';
}

static void trim_copy(char *dst, size_t cap, const char *s)
{
    size_t n;

    while (*s && isspace((unsigned char)*s))
        s++;
    n = strlen(s);
    while (n > 0 && isspace((unsigned char)s[n - 1]))
        n--;
    copy_clean(dst, cap, s, n);
    n = strlen(dst); /* control characters became spaces: trim those too */
    while (n > 0 && dst[n - 1] == ' ')
        dst[--n] = '\0';
}

static bool name_is(const xmlNode *n, const char *name)
{
    return n->type == XML_ELEMENT_NODE && n->name && strcmp((const char *)n->name, name) == 0;
}

static void xml_text(const xmlNode *n, char *dst, size_t cap)
{
    xmlChar *t = xmlNodeGetContent(n);
    if (t != NULL) {
        trim_copy(dst, cap, (const char *)t);
        xmlFree(t);
    }
}

bool owls_awserr_parse_xml(const char *body, size_t len, struct owls_awserr *out)
{
    bool ok = false;
    xmlDoc *doc = NULL;
    xmlNode *root, *err = NULL;

    owls_awserr_init();
    if (body == NULL || len == 0)
        goto out;
    if (len > MAX_ERROR_BODY)
        len = MAX_ERROR_BODY;
    doc = xmlReadMemory(body, (int)len, "error.xml", NULL,
                        XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING |
                            XML_PARSE_NOCDATA);
    if (doc == NULL)
        goto out;
    root = xmlDocGetRootElement(doc);
    if (root == NULL)
        goto out;
    if (name_is(root, "Error")) {
        err = root;
    } else if (name_is(root, "ErrorResponse") || name_is(root, "Response")) {
        /* <ErrorResponse><Error> (query protocol), <ErrorResponse><Errors><Error>
         * (moto's SQS auth errors), <Response><Errors><Error> (EC2 style) */
        for (xmlNode *c = root->children; c; c = c->next) {
            if (name_is(c, "Error") && err == NULL)
                err = c;
            else if (name_is(c, "Errors"))
                for (xmlNode *g = c->children; g && err == NULL; g = g->next)
                    if (name_is(g, "Error"))
                        err = g;
            if (name_is(c, "RequestId") || name_is(c, "RequestID"))
                xml_text(c, out->request_id, sizeof(out->request_id));
        }
    }
    if (err == NULL)
        goto out;
    for (xmlNode *c = err->children; c; c = c->next) {
        if (name_is(c, "Code"))
            xml_text(c, out->code, sizeof(out->code));
        else if (name_is(c, "Message"))
            xml_text(c, out->message, sizeof(out->message));
        else if (name_is(c, "RequestId"))
            xml_text(c, out->request_id, sizeof(out->request_id));
    }
    ok = out->code[0] != '\0';
out:
    if (doc != NULL)
        xmlFreeDoc(doc);
    return ok;
}

bool owls_awserr_parse_json(const char *body, size_t len, struct owls_awserr *out)
{
    bool ok = false;
    json_t *root = NULL;
    json_error_t jerr;
    const char *type = NULL, *msg = NULL, *hash;
    json_t *v;

    if (body == NULL || len == 0)
        goto out;
    if (len > MAX_ERROR_BODY)
        len = MAX_ERROR_BODY;
    root = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr);
    if (root == NULL || !json_is_object(root))
        goto out;
    if ((v = json_object_get(root, "__type")) != NULL && json_is_string(v))
        type = json_string_value(v);
    else if ((v = json_object_get(root, "code")) != NULL && json_is_string(v))
        type = json_string_value(v);
    if ((v = json_object_get(root, "message")) != NULL && json_is_string(v))
        msg = json_string_value(v);
    else if ((v = json_object_get(root, "Message")) != NULL && json_is_string(v))
        msg = json_string_value(v);
    if (type == NULL || *type == '\0')
        goto out;
    /* "com.amazonaws.sqs#QueueDoesNotExist" and "X:http://..." forms */
    if ((hash = strrchr(type, '#')) != NULL)
        type = hash + 1;
    copy_clean(out->code, sizeof(out->code), type, strcspn(type, ":"));
    if (msg != NULL)
        trim_copy(out->message, sizeof(out->message), msg);
    ok = out->code[0] != '\0';
out:
    json_decref(root);
    return ok;
}

void owls_awserr_from_response(long status, const char *body, size_t len, const char *request_id,
                               struct owls_awserr *out)
{
    size_t i = 0;

    memset(out, 0, sizeof(*out));
    out->status = status;
    if (request_id != NULL)
        trim_copy(out->request_id, sizeof(out->request_id), request_id);
    while (body != NULL && i < len && isspace((unsigned char)body[i]))
        i++;
    if (body != NULL && i < len) {
        bool parsed = false;
        if (body[i] == '<')
            parsed = owls_awserr_parse_xml(body + i, len - i, out);
        else if (body[i] == '{')
            parsed = owls_awserr_parse_json(body + i, len - i, out);
        if (!parsed) {
            out->code[0] = '\0';
            out->message[0] = '\0';
        }
    }
    if (out->code[0] == '\0') {
        const char *c = status == 404   ? "NotFound"
                        : status == 403 ? "Forbidden"
                        : status == 401 ? "Unauthorized"
                        : status == 400 ? "BadRequest"
                                        : NULL;
        if (c != NULL)
            snprintf(out->code, sizeof(out->code), "%s", c);
        else
            snprintf(out->code, sizeof(out->code), "HTTP%ld", status);
    }
}

static const char *const s_throttle_codes[] = {
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestThrottledException",
    "RequestThrottled",
    "TooManyRequestsException",
    "ProvisionedThroughputExceededException",
    "ProvisionedThroughputExceeded",
    "TransactionInProgressException",
    "RequestLimitExceeded",
    "BandwidthLimitExceeded",
    "LimitExceededException",
    "SlowDown",
    "PriorRequestNotComplete",
    "EC2ThrottledException",
    "AWS.SimpleQueueService.RequestThrottled",
};

static const char *const s_transient_codes[] = {
    "RequestTimeout",
    "RequestTimeoutException",
    "InternalError",
    "InternalFailure",
    "ServiceUnavailable",
    "InternalServerError",
    "KMS.InternalFailureException",
};

static bool in_list(const char *code, const char *const *list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(code, list[i]) == 0)
            return true;
    return false;
}

bool owls_awserr_is_throttle_code(const char *code)
{
    return code != NULL && in_list(code, s_throttle_codes, OWLS_ARRAY_LEN(s_throttle_codes));
}

#define SKEW_LIMIT_S (4 * 60)

enum owls_awserr_class owls_awserr_classify(const struct owls_awserr *e, long skew_s)
{
    const char *c = e->code;

    if (e->status >= 200 && e->status < 300 && c[0] == '\0')
        return OWLS_AWSERR_OK;
    if (strcmp(c, "RequestTimeTooSkewed") == 0 || strcmp(c, "RequestExpired") == 0 ||
        strcmp(c, "RequestInTheFuture") == 0)
        return OWLS_AWSERR_CLOCK_SKEW;
    if ((strcmp(c, "InvalidSignatureException") == 0 || strcmp(c, "SignatureDoesNotMatch") == 0 ||
         strcmp(c, "AuthFailure") == 0) &&
        skew_s > SKEW_LIMIT_S)
        return OWLS_AWSERR_CLOCK_SKEW;
    if (strcmp(c, "ExpiredToken") == 0 || strcmp(c, "ExpiredTokenException") == 0 ||
        strcmp(c, "TokenRefreshRequired") == 0)
        return OWLS_AWSERR_EXPIRED_TOKEN;
    if (e->status == 429 || owls_awserr_is_throttle_code(c))
        return OWLS_AWSERR_THROTTLE;
    if (e->status >= 500 || in_list(c, s_transient_codes, OWLS_ARRAY_LEN(s_transient_codes)))
        return OWLS_AWSERR_TRANSIENT;
    return OWLS_AWSERR_CLIENT;
}

enum owls_err owls_awserr_to_err(const struct owls_awserr *e, enum owls_awserr_class cls)
{
    const char *c = e->code;

    switch (cls) {
    case OWLS_AWSERR_OK:
        return OWLS_OK;
    case OWLS_AWSERR_THROTTLE:
    case OWLS_AWSERR_TRANSIENT:
    case OWLS_AWSERR_CONNECT:
    case OWLS_AWSERR_TIMEOUT:
        return OWLS_ETRANSIENT;
    case OWLS_AWSERR_CLOCK_SKEW:
    case OWLS_AWSERR_EXPIRED_TOKEN:
        return OWLS_EAUTH;
    case OWLS_AWSERR_CLIENT:
    default:
        break;
    }
    if (e->status == 401 || e->status == 403)
        return OWLS_EAUTH;
    if (e->status == 404 || strcmp(c, "NoSuchKey") == 0 || strcmp(c, "NoSuchBucket") == 0 ||
        strcmp(c, "NoSuchUpload") == 0 || strcmp(c, "QueueDoesNotExist") == 0 ||
        strcmp(c, "AWS.SimpleQueueService.NonExistentQueue") == 0)
        return OWLS_ENOTFOUND;
    if (strcmp(c, "AccessDenied") == 0 || strcmp(c, "AccessDeniedException") == 0 ||
        strcmp(c, "InvalidClientTokenId") == 0 || strcmp(c, "UnrecognizedClientException") == 0 ||
        strcmp(c, "MissingAuthenticationToken") == 0 || strcmp(c, "SignatureDoesNotMatch") == 0 ||
        strcmp(c, "InvalidSignatureException") == 0 || strcmp(c, "InvalidAccessKeyId") == 0)
        return OWLS_EAUTH;
    return OWLS_EAWS;
}

const char *owls_awserr_class_name(enum owls_awserr_class cls)
{
    static const char *const names[] = {
        [OWLS_AWSERR_OK] = "ok",
        [OWLS_AWSERR_CLIENT] = "client error",
        [OWLS_AWSERR_THROTTLE] = "throttled",
        [OWLS_AWSERR_TRANSIENT] = "server error",
        [OWLS_AWSERR_CONNECT] = "connection error",
        [OWLS_AWSERR_TIMEOUT] = "timeout",
        [OWLS_AWSERR_CLOCK_SKEW] = "clock skew",
        [OWLS_AWSERR_EXPIRED_TOKEN] = "expired token",
    };
    if ((unsigned)cls >= OWLS_ARRAY_LEN(names))
        return "unknown";
    return names[cls];
}

static int month_index(const char *m)
{
    static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
    for (int i = 0; i < 12; i++)
        if (strncmp(m, months + 3 * i, 3) == 0)
            return i;
    return -1;
}

long long owls_awserr_parse_http_date(const char *s)
{
    struct tm tm;
    char mon[4] = {0}, wday[16] = {0}, zone[8] = {0};
    int d, y, H, M, S, n = 0;
    time_t t;

    if (s == NULL)
        return -1;
    memset(&tm, 0, sizeof(tm));
    /* IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT" */
    if (sscanf(s, "%15[A-Za-z], %d %3s %d %d:%d:%d %7s%n", wday, &d, mon, &y, &H, &M, &S, zone,
               &n) == 8 &&
        y > 1900) {
        /* ok */
    } else if (sscanf(s, "%15[A-Za-z], %d-%3s-%d %d:%d:%d %7s%n", wday, &d, mon, &y, &H, &M, &S,
                      zone, &n) == 8) { /* RFC 850: "Sunday, 06-Nov-94 08:49:37 GMT" */
        y += y < 70 ? 2000 : 1900;
    } else if (sscanf(s, "%15s %3s %d %d:%d:%d %d%n", wday, mon, &d, &H, &M, &S, &y, &n) == 7) {
        snprintf(zone, sizeof(zone), "GMT"); /* asctime */
    } else {
        return -1;
    }
    if (strcmp(zone, "GMT") != 0 && strcmp(zone, "UTC") != 0)
        return -1;
    tm.tm_mon = month_index(mon);
    if (tm.tm_mon < 0 || d < 1 || d > 31 || H < 0 || H > 23 || M < 0 || M > 59 || S < 0 || S > 60 ||
        y < 1970 || y > 9999)
        return -1;
    tm.tm_mday = d;
    tm.tm_year = y - 1900;
    tm.tm_hour = H;
    tm.tm_min = M;
    tm.tm_sec = S;
    t = timegm(&tm);
    return t == (time_t)-1 ? -1 : (long long)t;
}
