/* Job messages (SPEC section 2): job JSON, S3 events, validation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "owls/artifacts.h"
#include "owls/jobmsg.h"

#define ARCHIVE "owls-q4-archive"
#define MSGID   "6f1c2a9b-0d3e-4f50-8a1b-2c3d4e5f6a7b"
/* 2025-08-25 12:34:56 UTC */
#define T0 ((time_t)1756125296)

struct case_ {
    const char *name;
    const char *body;
    enum owls_err rc; /* of the whole message */
    bool ignore;
    size_t njobs;
    /* the first job */
    enum owls_err err;
    const char *key;
    const char *run_id;
    enum owls_format format;
};

static const struct case_ s_cases[] = {
    {"spec example",
     "{\"input_key\": \"run=2025-08-25-001/input/mydata.csv\", \"run_id\": \"2025-08-25-001\"}",
     OWLS_OK, false, 1, OWLS_OK, "run=2025-08-25-001/input/mydata.csv", "2025-08-25-001",
     OWLS_FORMAT_AUTO},
    {"run id from the key", "{\"input_key\": \"run=abc.1/input/x.csv\"}", OWLS_OK, false, 1,
     OWLS_OK, "run=abc.1/input/x.csv", "abc.1", OWLS_FORMAT_AUTO},
    {"run id generated", "{\"input_key\": \"data/x.csv\"}", OWLS_OK, false, 1, OWLS_OK,
     "data/x.csv", "2025-08-25-123456-6f1c2a9b", OWLS_FORMAT_AUTO},
    {"explicit run id wins over the key", "{\"input_key\": \"run=a/x.csv\", \"run_id\": \"b\"}",
     OWLS_OK, false, 1, OWLS_OK, "run=a/x.csv", "b", OWLS_FORMAT_AUTO},
    {"unknown fields ignored", "{\"input_key\": \"run=a/x\", \"extra\": [1, {\"y\": 2}]}", OWLS_OK,
     false, 1, OWLS_OK, "run=a/x", "a", OWLS_FORMAT_AUTO},
    {"format parquet", "{\"input_key\": \"run=a/x\", \"format\": \"parquet\"}", OWLS_OK, false, 1,
     OWLS_OK, "run=a/x", "a", OWLS_FORMAT_PARQUET},
    {"format csv", "{\"input_key\": \"run=a/x\", \"format\": \"csv\"}", OWLS_OK, false, 1, OWLS_OK,
     "run=a/x", "a", OWLS_FORMAT_CSV},
    {"format xlsx", "{\"input_key\": \"run=a/x\", \"format\": \"xlsx\"}", OWLS_OK, false, 1,
     OWLS_EUNSUPPORTED_FORMAT, "run=a/x", "a", OWLS_FORMAT_AUTO},
    {"same bucket ok", "{\"input_key\": \"run=a/x\", \"input_bucket\": \"" ARCHIVE "\"}", OWLS_OK,
     false, 1, OWLS_OK, "run=a/x", "a", OWLS_FORMAT_AUTO},
    {"other bucket", "{\"input_key\": \"run=a/x\", \"input_bucket\": \"evil\"}", OWLS_OK, false, 1,
     OWLS_EFORBIDDEN_BUCKET, "run=a/x", "a", OWLS_FORMAT_AUTO},
    {"invalid run id", "{\"input_key\": \"x\", \"run_id\": \"../etc\"}", OWLS_OK, false, 1,
     OWLS_EINVALID_RUN_ID, "x", NULL, OWLS_FORMAT_AUTO},
    {"invalid run id from key", "{\"input_key\": \"run=-bad/x\"}", OWLS_OK, false, 1,
     OWLS_EINVALID_RUN_ID, "run=-bad/x", NULL, OWLS_FORMAT_AUTO},
    {"run id too long",
     "{\"input_key\": \"x\", \"run_id\": "
     "\"a12345678901234567890123456789012345678901234567890123456789012345678901234567890"
     "12345678901234567890123456789012345678901234567890\"}",
     OWLS_OK, false, 1, OWLS_EINVALID_RUN_ID, "x", NULL, OWLS_FORMAT_AUTO},
    {"empty key", "{\"input_key\": \"\"}", OWLS_OK, false, 1, OWLS_EBAD_MESSAGE, NULL, NULL,
     OWLS_FORMAT_AUTO},
    {"nul in key", "{\"input_key\": \"a\\u0000b\"}", OWLS_EBAD_MESSAGE, false, 0, OWLS_OK, NULL,
     NULL, OWLS_FORMAT_AUTO},
    {"not json", "input_key=x", OWLS_EBAD_MESSAGE, false, 0, OWLS_OK, NULL, NULL, OWLS_FORMAT_AUTO},
    {"json array", "[1,2]", OWLS_EBAD_MESSAGE, false, 0, OWLS_OK, NULL, NULL, OWLS_FORMAT_AUTO},
    {"no input_key", "{\"run_id\": \"a\"}", OWLS_EBAD_MESSAGE, false, 0, OWLS_OK, NULL, NULL,
     OWLS_FORMAT_AUTO},
    {"input_key not a string", "{\"input_key\": 5}", OWLS_EBAD_MESSAGE, false, 0, OWLS_OK, NULL,
     NULL, OWLS_FORMAT_AUTO},
    {"duplicate keys", "{\"input_key\": \"a\", \"input_key\": \"b\"}", OWLS_EBAD_MESSAGE, false, 0,
     OWLS_OK, NULL, NULL, OWLS_FORMAT_AUTO},
    {"s3 test event",
     "{\"Service\":\"Amazon S3\",\"Event\":\"s3:TestEvent\",\"Time\":\"2025-08-25T12:00:00Z\","
     "\"Bucket\":\"" ARCHIVE "\",\"RequestId\":\"X\",\"HostId\":\"Y\"}",
     OWLS_OK, true, 0, OWLS_OK, NULL, NULL, OWLS_FORMAT_AUTO},
    {"s3 event, url-encoded key",
     "{\"Records\":[{\"eventVersion\":\"2.1\",\"eventSource\":\"aws:s3\",\"eventName\":"
     "\"ObjectCreated:Put\",\"s3\":{\"bucket\":{\"name\":\"" ARCHIVE "\"},\"object\":{\"key\":"
     "\"run%3D2025-08-25-001/input/my+data+%C3%A9.csv\",\"size\":10}}}]}",
     OWLS_OK, false, 1, OWLS_OK, "run=2025-08-25-001/input/my data \xC3\xA9.csv", "2025-08-25-001",
     OWLS_FORMAT_AUTO},
    {"s3 event, removal only",
     "{\"Records\":[{\"eventSource\":\"aws:s3\",\"eventName\":\"ObjectRemoved:Delete\",\"s3\":"
     "{\"bucket\":{\"name\":\"" ARCHIVE "\"},\"object\":{\"key\":\"run=a/x.csv\"}}}]}",
     OWLS_OK, true, 0, OWLS_OK, NULL, NULL, OWLS_FORMAT_AUTO},
    {"s3 event, other bucket",
     "{\"Records\":[{\"eventSource\":\"aws:s3\",\"eventName\":\"ObjectCreated:Put\",\"s3\":"
     "{\"bucket\":{\"name\":\"evil\"},\"object\":{\"key\":\"run=a/x.csv\"}}}]}",
     OWLS_OK, false, 1, OWLS_EFORBIDDEN_BUCKET, "run=a/x.csv", "a", OWLS_FORMAT_AUTO},
    {"s3 event, bad escape",
     "{\"Records\":[{\"eventSource\":\"aws:s3\",\"eventName\":\"ObjectCreated:Put\",\"s3\":"
     "{\"bucket\":{\"name\":\"" ARCHIVE "\"},\"object\":{\"key\":\"run=a/x%G1\"}}}]}",
     OWLS_OK, false, 1, OWLS_EBAD_MESSAGE, NULL, NULL, OWLS_FORMAT_AUTO},
    {"s3 event, key decodes to invalid utf-8",
     "{\"Records\":[{\"eventSource\":\"aws:s3\",\"eventName\":\"ObjectCreated:Put\",\"s3\":"
     "{\"bucket\":{\"name\":\"" ARCHIVE "\"},\"object\":{\"key\":\"run=a/%FF\"}}}]}",
     OWLS_OK, false, 1, OWLS_EBAD_MESSAGE, NULL, NULL, OWLS_FORMAT_AUTO},
    {"s3 event, records not an array", "{\"Records\": {}}", OWLS_EBAD_MESSAGE, false, 0, OWLS_OK,
     NULL, NULL, OWLS_FORMAT_AUTO},
};

static void test_table(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(s_cases) / sizeof(s_cases[0]); i++) {
        const struct case_ *c = &s_cases[i];
        struct owls_jobmsg m;
        struct owls_errmsg em = {{0}};
        enum owls_err rc = owls_jobmsg_parse(c->body, strlen(c->body), MSGID, T0, ARCHIVE, &m, &em);
        if (rc != c->rc)
            fail_msg("%s: message rc %s (%s), want %s", c->name, owls_err_code(rc), em.text,
                     owls_err_code(c->rc));
        if (rc == OWLS_OK) {
            if (m.ignore != c->ignore || m.njobs != c->njobs)
                fail_msg("%s: ignore=%d njobs=%zu", c->name, m.ignore, m.njobs);
            if (m.njobs > 0) {
                const struct owls_job_spec *j = &m.jobs[0];
                if (j->err != c->err)
                    fail_msg("%s: job err %s (%s), want %s", c->name, owls_err_code(j->err),
                             j->errtext, owls_err_code(c->err));
                if (c->key && (j->input_key == NULL || strcmp(j->input_key, c->key) != 0))
                    fail_msg("%s: key \"%s\"", c->name, j->input_key ? j->input_key : "(null)");
                if ((c->run_id == NULL) != (j->run_id == NULL) ||
                    (c->run_id && strcmp(c->run_id, j->run_id) != 0))
                    fail_msg("%s: run id \"%s\"", c->name, j->run_id ? j->run_id : "(null)");
                if (j->format != c->format)
                    fail_msg("%s: format %d", c->name, (int)j->format);
            }
        }
        owls_jobmsg_cleanup(&m);
    }
}

static void test_multi_record_event(void **state)
{
    const char *body =
        "{\"Records\":["
        "{\"eventSource\":\"aws:s3\",\"eventName\":\"ObjectCreated:Put\",\"s3\":{\"bucket\":"
        "{\"name\":\"" ARCHIVE "\"},\"object\":{\"key\":\"run=a/x.csv\"}}},"
        "{\"eventSource\":\"aws:s3\",\"eventName\":\"ObjectRemoved:Delete\",\"s3\":{\"bucket\":"
        "{\"name\":\"" ARCHIVE "\"},\"object\":{\"key\":\"run=b/x.csv\"}}},"
        "{\"eventSource\":\"aws:s3\",\"eventName\":\"ObjectCreated:CompleteMultipartUpload\","
        "\"s3\":{\"bucket\":{\"name\":\"" ARCHIVE "\"},\"object\":{\"key\":\"run=c/y.parquet\"}}},"
        "{\"eventSource\":\"aws:sqs\",\"eventName\":\"ObjectCreated:Put\"}]}";
    struct owls_jobmsg m;
    struct owls_errmsg em = {{0}};
    (void)state;
    assert_int_equal(owls_jobmsg_parse(body, strlen(body), MSGID, T0, ARCHIVE, &m, &em), OWLS_OK);
    assert_int_equal(m.njobs, 2);
    assert_string_equal(m.jobs[0].run_id, "a");
    assert_string_equal(m.jobs[1].run_id, "c");
    assert_string_equal(m.jobs[1].input_key, "run=c/y.parquet");
    owls_jobmsg_cleanup(&m);
}

static void test_helpers(void **state)
{
    char id[64];
    size_t n;
    char *k;
    (void)state;
    owls_run_id_generate(T0, "AB-CD", id);
    assert_string_equal(id, "2025-08-25-123456-abcd0000");
    assert_true(owls_utf8_valid("caf\xC3\xA9", 5));
    assert_false(owls_utf8_valid("\xC0\xAF", 2));         /* overlong */
    assert_false(owls_utf8_valid("\xED\xA0\x80", 3));     /* surrogate */
    assert_false(owls_utf8_valid("\xF4\x90\x80\x80", 4)); /* > U+10FFFF */
    assert_false(owls_utf8_valid("\xE2\x82", 2));         /* truncated */
    k = owls_s3_event_key_decode("a+b%2Bc%25", 10, &n);
    assert_string_equal(k, "a b+c%");
    free(k);
    assert_null(owls_s3_event_key_decode("%2", 2, &n));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_table),
        cmocka_unit_test(test_multi_record_event),
        cmocka_unit_test(test_helpers),
    };
    return cmocka_run_group_tests_name("jobmsg", tests, NULL, NULL);
}
