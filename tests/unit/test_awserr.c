/*
 * test_awserr.c - AWS error bodies (S3 XML, SQS JSON, XML auth errors on
 * JSON calls), classification and the mapping onto owls_err.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "owls/awserr.h"
#include "owls/util.h"

struct parse_case {
    const char *name;
    long status;
    const char *body;
    const char *code, *message, *request_id;
};

static void test_parse_table(void **state)
{
    static const struct parse_case cases[] = {
        {"s3 NoSuchKey", 404,
         "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>NoSuchKey</Code><Message>The "
         "specified key does not exist.</Message><Key>a/b</Key><RequestId>4442587FB7D0A2F9</"
         "RequestId></Error>",
         "NoSuchKey", "The specified key does not exist.", "4442587FB7D0A2F9"},
        {"s3 SlowDown with whitespace", 503,
         "  <Error>\n  <Code>SlowDown</Code>\n  <Message>Please reduce your request "
         "rate.</Message>\n"
         "</Error>",
         "SlowDown", "Please reduce your request rate.", ""},
        {"query-protocol ErrorResponse (SQS auth on a JSON call)", 403,
         "<ErrorResponse xmlns=\"http://queue.amazonaws.com/doc/2012-11-05/\"><Error><Type>Sender"
         "</Type><Code>SignatureDoesNotMatch</Code><Message>The request signature we calculated "
         "does not match</Message></Error><RequestId>RID-9</RequestId></ErrorResponse>",
         "SignatureDoesNotMatch", "The request signature we calculated does not match", "RID-9"},
        {"moto SQS auth error: ErrorResponse/Errors/Error", 403,
         "<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<ErrorResponse><Errors><Error><Code>"
         "SignatureDoesNotMatch</Code><Message>The request signature we calculated does not "
         "match</Message><Type>Sender</Type></Error></Errors></ErrorResponse>",
         "SignatureDoesNotMatch", "The request signature we calculated does not match", ""},
        {"EC2-style Response/Errors/Error", 400,
         "<Response><Errors><Error><Code>AuthFailure</Code><Message>m</Message></Error></Errors>"
         "<RequestID>R2</RequestID></Response>",
         "AuthFailure", "m", "R2"},
        {"sqs json with namespace", 400,
         "{\"__type\":\"com.amazonaws.sqs#QueueDoesNotExist\",\"message\":\"The specified queue "
         "does not exist.\"}",
         "QueueDoesNotExist", "The specified queue does not exist.", ""},
        {"json Message capitalised, no namespace", 400,
         "{\"__type\":\"ThrottlingException\",\"Message\":\"Rate exceeded\"}",
         "ThrottlingException", "Rate exceeded", ""},
        {"json type with a colon suffix", 400,
         "{\"__type\":\"InvalidParameterValue:http://internal.amazon.com/\",\"message\":\"x\"}",
         "InvalidParameterValue", "x", ""},
        {"control characters cleaned", 400,
         "{\"__type\":\"X\",\"message\":\"line1\\nline2\\u0007\"}", "X", "line1 line2", ""},
        {"empty body 404 (HEAD)", 404, "", "NotFound", "", ""},
        {"empty body 403 (HEAD)", 403, "", "Forbidden", "", ""},
        {"html from a proxy", 502, "<html><body>Bad gateway</body></html>", "HTTP502", "", ""},
        {"truncated xml", 500, "<Error><Code>Internal", "HTTP500", "", ""},
        {"json without type", 400, "{\"message\":\"no type\"}", "BadRequest", "", ""},
        {"json array", 400, "[1,2]", "BadRequest", "", ""},
        {"xml external entity is not fetched", 400,
         "<?xml version=\"1.0\"?><!DOCTYPE e [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>"
         "<Error><Code>C</Code><Message>&x;</Message></Error>",
         "C", "", ""},
    };
    (void)state;
    for (size_t i = 0; i < OWLS_ARRAY_LEN(cases); i++) {
        struct owls_awserr e;
        const struct parse_case *c = &cases[i];
        print_message("  %s\n", c->name);
        owls_awserr_from_response(c->status, c->body, strlen(c->body), NULL, &e);
        assert_int_equal(e.status, c->status);
        assert_string_equal(e.code, c->code);
        assert_string_equal(e.message, c->message);
        assert_string_equal(e.request_id, c->request_id);
    }
}

static void test_header_request_id_and_long_message(void **state)
{
    char body[2000];
    struct owls_awserr e;
    size_t n;
    (void)state;
    n = (size_t)snprintf(body, sizeof(body), "<Error><Code>X</Code><Message>");
    memset(body + n, 'm', 900);
    n += 900;
    n += (size_t)snprintf(body + n, sizeof(body) - n, "</Message></Error>");
    owls_awserr_from_response(400, body, n, "HDR-RID", &e);
    assert_string_equal(e.code, "X");
    assert_int_equal(strlen(e.message), sizeof(e.message) - 1);
    assert_string_equal(e.request_id, "HDR-RID");
    /* a body without NUL termination is never read past len */
    owls_awserr_from_response(400, "<Error><Code>AB</Code></Error>GARBAGE", 30, NULL, &e);
    assert_string_equal(e.code, "AB");
}

struct class_case {
    const char *name;
    long status;
    const char *code;
    long skew;
    enum owls_awserr_class cls;
    enum owls_err err;
};

static void test_classify_table(void **state)
{
    static const struct class_case cases[] = {
        {"500 InternalError", 500, "InternalError", -1, OWLS_AWSERR_TRANSIENT, OWLS_ETRANSIENT},
        {"503 SlowDown", 503, "SlowDown", -1, OWLS_AWSERR_THROTTLE, OWLS_ETRANSIENT},
        {"502 html", 502, "HTTP502", -1, OWLS_AWSERR_TRANSIENT, OWLS_ETRANSIENT},
        {"504", 504, "HTTP504", -1, OWLS_AWSERR_TRANSIENT, OWLS_ETRANSIENT},
        {"400 ThrottlingException", 400, "ThrottlingException", -1, OWLS_AWSERR_THROTTLE,
         OWLS_ETRANSIENT},
        {"400 Throttling", 400, "Throttling", -1, OWLS_AWSERR_THROTTLE, OWLS_ETRANSIENT},
        {"400 RequestThrottled", 400, "RequestThrottled", -1, OWLS_AWSERR_THROTTLE,
         OWLS_ETRANSIENT},
        {"400 TooManyRequestsException", 400, "TooManyRequestsException", -1, OWLS_AWSERR_THROTTLE,
         OWLS_ETRANSIENT},
        {"400 ProvisionedThroughputExceededException", 400,
         "ProvisionedThroughputExceededException", -1, OWLS_AWSERR_THROTTLE, OWLS_ETRANSIENT},
        {"503 RequestLimitExceeded", 503, "RequestLimitExceeded", -1, OWLS_AWSERR_THROTTLE,
         OWLS_ETRANSIENT},
        {"429 without code", 429, "HTTP429", -1, OWLS_AWSERR_THROTTLE, OWLS_ETRANSIENT},
        {"400 RequestTimeout (S3 idle upload)", 400, "RequestTimeout", -1, OWLS_AWSERR_TRANSIENT,
         OWLS_ETRANSIENT},
        {"404 NoSuchKey", 404, "NoSuchKey", -1, OWLS_AWSERR_CLIENT, OWLS_ENOTFOUND},
        {"404 HEAD", 404, "NotFound", -1, OWLS_AWSERR_CLIENT, OWLS_ENOTFOUND},
        {"404 NoSuchBucket", 404, "NoSuchBucket", -1, OWLS_AWSERR_CLIENT, OWLS_ENOTFOUND},
        {"400 QueueDoesNotExist", 400, "QueueDoesNotExist", -1, OWLS_AWSERR_CLIENT, OWLS_ENOTFOUND},
        {"403 AccessDenied is auth, not not-found", 403, "AccessDenied", -1, OWLS_AWSERR_CLIENT,
         OWLS_EAUTH},
        {"403 HEAD", 403, "Forbidden", -1, OWLS_AWSERR_CLIENT, OWLS_EAUTH},
        {"403 SignatureDoesNotMatch, clocks agree", 403, "SignatureDoesNotMatch", 3,
         OWLS_AWSERR_CLIENT, OWLS_EAUTH},
        {"403 SignatureDoesNotMatch, no Date", 403, "SignatureDoesNotMatch", -1, OWLS_AWSERR_CLIENT,
         OWLS_EAUTH},
        {"403 SignatureDoesNotMatch, clock 10 min off", 403, "SignatureDoesNotMatch", 600,
         OWLS_AWSERR_CLOCK_SKEW, OWLS_EAUTH},
        {"400 InvalidSignatureException, clock off", 400, "InvalidSignatureException", 3600,
         OWLS_AWSERR_CLOCK_SKEW, OWLS_EAUTH},
        {"403 RequestTimeTooSkewed", 403, "RequestTimeTooSkewed", 900, OWLS_AWSERR_CLOCK_SKEW,
         OWLS_EAUTH},
        {"400 RequestExpired", 400, "RequestExpired", -1, OWLS_AWSERR_CLOCK_SKEW, OWLS_EAUTH},
        {"400 ExpiredToken", 400, "ExpiredToken", -1, OWLS_AWSERR_EXPIRED_TOKEN, OWLS_EAUTH},
        {"403 ExpiredTokenException", 403, "ExpiredTokenException", -1, OWLS_AWSERR_EXPIRED_TOKEN,
         OWLS_EAUTH},
        {"400 InvalidArgument", 400, "InvalidArgument", -1, OWLS_AWSERR_CLIENT, OWLS_EAWS},
        {"416 InvalidRange", 416, "InvalidRange", -1, OWLS_AWSERR_CLIENT, OWLS_EAWS},
        {"400 ReceiptHandleIsInvalid", 400, "ReceiptHandleIsInvalid", -1, OWLS_AWSERR_CLIENT,
         OWLS_EAWS},
        {"200 ok", 200, "", -1, OWLS_AWSERR_OK, OWLS_OK},
    };
    (void)state;
    for (size_t i = 0; i < OWLS_ARRAY_LEN(cases); i++) {
        struct owls_awserr e = {.status = cases[i].status};
        enum owls_awserr_class cls;
        snprintf(e.code, sizeof(e.code), "%s", cases[i].code);
        cls = owls_awserr_classify(&e, cases[i].skew);
        print_message("  %s -> %s\n", cases[i].name, owls_awserr_class_name(cls));
        assert_int_equal(cls, cases[i].cls);
        assert_int_equal(owls_awserr_to_err(&e, cls), cases[i].err);
    }
}

static void test_http_date(void **state)
{
    static const struct {
        const char *s;
        long long t;
    } cases[] = {
        {"Sun, 06 Nov 1994 08:49:37 GMT", 784111777LL},
        {"Sunday, 06-Nov-94 08:49:37 GMT", 784111777LL},
        {"Sun Nov  6 08:49:37 1994", 784111777LL},
        {"Fri, 27 Nov 2026 10:03:29 GMT", 1795773809LL},
        {"Fri, 27 Nov 2026 10:03:29 PST", -1},
        {"yesterday", -1},
        {"", -1},
        {"Fri, 32 Nov 2026 10:03:29 GMT", -1},
    };
    (void)state;
    for (size_t i = 0; i < OWLS_ARRAY_LEN(cases); i++) {
        print_message("  '%s'\n", cases[i].s);
        assert_int_equal(owls_awserr_parse_http_date(cases[i].s), cases[i].t);
    }
    assert_int_equal(owls_awserr_parse_http_date(NULL), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_table),
        cmocka_unit_test(test_header_request_id_and_long_message),
        cmocka_unit_test(test_classify_table),
        cmocka_unit_test(test_http_date),
    };
    owls_awserr_init();
    return cmocka_run_group_tests(tests, NULL, NULL);
}
