/*
 * test_sqs.c - SQS JSON parsers (ReceiveMessage, batch results) and the
 * SQS calls against a loopback fault server (unsigned): request shape,
 * long-poll limits and cancellation, per-entry batch failures, JSON and XML
 * (auth) errors.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "aws_faultsrv.h"
#include "owls/private/sqs.h"
#include "owls/retry.h"
#include "owls/sqs.h"
#include "owls/util.h"

#define HELLO_MD5 "5d41402abc4b2a76b9719d911017c592"

struct recv_case {
    const char *name;
    const char *json;
    enum owls_err rc;
    size_t n;
    const char *body0;
    long count0;
    long long sent0;
};

static void test_parse_receive_table(void **state)
{
    static const struct recv_case cases[] = {
        {"empty answer", "{}", OWLS_OK, 0, NULL, 0, 0},
        {"Messages null", "{\"Messages\":null}", OWLS_OK, 0, NULL, 0, 0},
        {"one message with attributes",
         "{\"Messages\":[{\"MessageId\":\"m1\",\"ReceiptHandle\":\"rh1\",\"MD5OfBody\":\"" HELLO_MD5
         "\",\"Body\":\"hello\",\"Attributes\":{\"ApproximateReceiveCount\":\"3\","
         "\"SentTimestamp\":\"1700000000123\"}}]}",
         OWLS_OK, 1, "hello", 3, 1700000000123LL},
        {"two messages, no attributes",
         "{\"Messages\":[{\"MessageId\":\"a\",\"ReceiptHandle\":\"r\",\"Body\":\"x\"},"
         "{\"MessageId\":\"b\",\"ReceiptHandle\":\"s\",\"Body\":\"\"}]}",
         OWLS_OK, 2, "x", 0, 0},
        {"bad attribute values ignored",
         "{\"Messages\":[{\"MessageId\":\"a\",\"ReceiptHandle\":\"r\",\"Body\":\"x\","
         "\"Attributes\":{\"ApproximateReceiveCount\":\"-4\",\"SentTimestamp\":7}}]}",
         OWLS_OK, 1, "x", 0, 0},
        {"MD5 mismatch",
         "{\"Messages\":[{\"MessageId\":\"a\",\"ReceiptHandle\":\"r\",\"MD5OfBody\":"
         "\"00000000000000000000000000000000\",\"Body\":\"hello\"}]}",
         OWLS_EAWS, 0, NULL, 0, 0},
        {"missing receipt handle", "{\"Messages\":[{\"MessageId\":\"a\",\"Body\":\"x\"}]}",
         OWLS_EAWS, 0, NULL, 0, 0},
        {"body not a string",
         "{\"Messages\":[{\"MessageId\":\"a\",\"ReceiptHandle\":\"r\",\"Body\":{}}]}", OWLS_EAWS, 0,
         NULL, 0, 0},
        {"Messages not an array", "{\"Messages\":{}}", OWLS_EAWS, 0, NULL, 0, 0},
        {"message not an object", "{\"Messages\":[1]}", OWLS_EAWS, 0, NULL, 0, 0},
        {"not JSON", "<html>", OWLS_EAWS, 0, NULL, 0, 0},
        {"array root", "[]", OWLS_EAWS, 0, NULL, 0, 0},
        {"empty", "", OWLS_EAWS, 0, NULL, 0, 0},
    };
    (void)state;
    for (size_t i = 0; i < OWLS_ARRAY_LEN(cases); i++) {
        struct owls_sqs_message *m;
        size_t n;
        struct owls_errmsg em;
        const struct recv_case *c = &cases[i];
        print_message("  %s\n", c->name);
        assert_int_equal(owls_sqs_parse_receive(c->json, strlen(c->json), &m, &n, &em), c->rc);
        assert_int_equal(n, c->n);
        if (c->rc != OWLS_OK)
            assert_null(m);
        if (c->n > 0) {
            assert_string_equal(m[0].body, c->body0);
            assert_int_equal(m[0].body_len, strlen(c->body0));
            assert_int_equal(m[0].receive_count, c->count0);
            assert_int_equal(m[0].sent_timestamp_ms, c->sent0);
            assert_non_null(m[0].receipt_handle);
        }
        owls_sqs_messages_free(m, n);
    }
}

static void test_parse_receive_nul_in_body(void **state)
{
    const char json[] = "{\"Messages\":[{\"MessageId\":\"a\",\"ReceiptHandle\":\"r\","
                        "\"Body\":\"a\\u0000b\"}]}";
    struct owls_sqs_message *m;
    size_t n;
    struct owls_errmsg em;
    (void)state;
    assert_int_equal(owls_sqs_parse_receive(json, sizeof(json) - 1, &m, &n, &em), OWLS_OK);
    assert_int_equal(n, 1);
    assert_int_equal(m[0].body_len, 3);
    assert_memory_equal(m[0].body, "a\0b", 3);
    owls_sqs_messages_free(m, n);
}

static void test_parse_batch_table(void **state)
{
    static const struct {
        const char *name;
        const char *json;
        enum owls_err rc;
        size_t failed;
        bool ok[3];
        const char *code1;
    } cases[] = {
        {"all ok",
         "{\"Successful\":[{\"Id\":\"0\"},{\"Id\":\"1\"},{\"Id\":\"2\"}]}",
         OWLS_OK,
         0,
         {true, true, true},
         ""},
        {"one expired receipt handle",
         "{\"Successful\":[{\"Id\":\"0\"},{\"Id\":\"2\"}],\"Failed\":[{\"Id\":\"1\","
         "\"SenderFault\":true,\"Code\":\"ReceiptHandleIsInvalid\",\"Message\":\"expired\"}]}",
         OWLS_OK,
         1,
         {true, false, true},
         "ReceiptHandleIsInvalid"},
        {"entry missing from the answer",
         "{\"Successful\":[{\"Id\":\"0\"},{\"Id\":\"2\"}]}",
         OWLS_OK,
         1,
         {true, false, true},
         "MissingFromAnswer"},
        {"unknown and duplicate ids ignored",
         "{\"Successful\":[{\"Id\":\"0\"},{\"Id\":\"0\"},{\"Id\":\"7\"},{\"Id\":\"x\"},{\"Id\":1},"
         "{\"Id\":\"1\"},{\"Id\":\"2\"}],\"Failed\":[{\"Id\":\"1\",\"Code\":\"X\"}]}",
         OWLS_OK,
         0,
         {true, true, true},
         ""},
        {"Failed not an array", "{\"Failed\":{}}", OWLS_EAWS, 3, {false, false, false}, ""},
        {"junk", "{{", OWLS_EAWS, 3, {false, false, false}, ""},
    };
    (void)state;
    for (size_t i = 0; i < OWLS_ARRAY_LEN(cases); i++) {
        struct owls_sqs_batch_entry e[3] = {
            {.receipt_handle = "a"}, {.receipt_handle = "b"}, {.receipt_handle = "c"}};
        size_t failed = 99;
        struct owls_errmsg em;
        print_message("  %s\n", cases[i].name);
        assert_int_equal(
            owls_sqs_parse_batch(cases[i].json, strlen(cases[i].json), e, 3, &failed, &em),
            cases[i].rc);
        assert_int_equal(failed, cases[i].failed);
        if (cases[i].rc != OWLS_OK)
            continue;
        for (int k = 0; k < 3; k++)
            assert_int_equal(e[k].ok, cases[i].ok[k]);
        assert_string_equal(e[1].code, cases[i].code1);
    }
}

/* --- calls against the fault server ---------------------------------------- */

static bool no_sleep(void *arg, long ms)
{
    (void)arg, (void)ms;
    return true;
}
static const struct owls_retry_hooks s_hooks = {.sleep_fn = no_sleep};

struct sqsfx {
    struct faultsrv srv;
    struct owls_http *h;
    struct owls_sqs *q;
    char *qurl;
    struct owls_errmsg em;
};

static void sqs_start(struct sqsfx *f, const struct fs_action *script, size_t n)
{
    struct owls_aws_opts o = {.region = "us-east-1", .retry_hooks = &s_hooks};
    memset(f, 0, sizeof(*f));
    fs_start(&f->srv, script, n);
    f->qurl = fs_url(&f->srv, "/123456789012/owls-q4-work");
    assert_int_equal(owls_http_new(&o, &f->h, &f->em), OWLS_OK);
    assert_int_equal(owls_sqs_new(&o, f->h, NULL, &f->q, &f->em), OWLS_OK);
}

static void sqs_stop(struct sqsfx *f)
{
    owls_sqs_free(f->q);
    owls_http_free(f->h);
    fs_stop(&f->srv);
    free(f->qurl);
}

static void test_receive_request_shape(void **state)
{
    static const struct fs_action script[] = {
        {.status = 200,
         .body = "{\"Messages\":[{\"MessageId\":\"m1\",\"ReceiptHandle\":\"rh1\",\"MD5OfBody\":"
                 "\"" HELLO_MD5 "\",\"Body\":\"hello\",\"Attributes\":{"
                 "\"ApproximateReceiveCount\":\"2\"}}]}"}};
    struct sqsfx f;
    struct owls_sqs_receive_opts o = {
        .max_messages = 10, .wait_time_s = 20, .visibility_timeout = 300};
    struct owls_sqs_message *m;
    size_t n;
    const char *b;
    (void)state;
    sqs_start(&f, script, 1);
    assert_int_equal(owls_sqs_receive(f.q, f.qurl, &o, &m, &n, &f.em), OWLS_OK);
    assert_int_equal(n, 1);
    assert_string_equal(m[0].message_id, "m1");
    assert_int_equal(m[0].receive_count, 2);
    owls_sqs_messages_free(m, n);
    assert_string_equal(f.srv.req[0].method, "POST");
    assert_string_equal(f.srv.req[0].target, "/");
    assert_string_equal(fs_req_header(&f.srv, 0, "x-amz-target"), "AmazonSQS.ReceiveMessage");
    assert_string_equal(fs_req_header(&f.srv, 0, "content-type"), "application/x-amz-json-1.0");
    b = f.srv.req[0].body_head;
    assert_non_null(strstr(b, "\"QueueUrl\":\"http://127.0.0.1:"));
    assert_non_null(strstr(b, "\"MaxNumberOfMessages\":10"));
    assert_non_null(strstr(b, "\"WaitTimeSeconds\":20"));
    assert_non_null(strstr(b, "\"VisibilityTimeout\":300"));
    assert_non_null(strstr(b, "\"MessageSystemAttributeNames\":[\"ApproximateReceiveCount\","
                              "\"SentTimestamp\""));
    sqs_stop(&f);
}

struct cancel_arg {
    struct faultsrv *s;
    atomic_bool *flag;
    long long t;
};

static void *set_flag_after_request(void *p)
{
    struct cancel_arg *c = p;
    if (fs_wait_requests(c->s, 1, 10000) >= 1) {
        c->t = owls_time_mono_ms();
        atomic_store(c->flag, true);
    }
    return NULL;
}

/* Shutdown with a 20 s long poll in flight: the poll returns at once. */
static void test_long_poll_cancel(void **state)
{
    static const struct fs_action script[] = {{.status = 200, .body = "{}", .delay_ms = 20000}};
    struct sqsfx f;
    atomic_bool flag = false;
    struct owls_sqs_receive_opts o = {.wait_time_s = 20, .visibility_timeout = -1, .cancel = &flag};
    struct cancel_arg c = {.flag = &flag};
    struct owls_sqs_message *m;
    size_t n;
    pthread_t t;
    long long done;
    (void)state;
    sqs_start(&f, script, 1);
    c.s = &f.srv;
    pthread_create(&t, NULL, set_flag_after_request, &c);
    assert_int_equal(owls_sqs_receive(f.q, f.qurl, &o, &m, &n, &f.em), OWLS_ETRANSIENT);
    done = owls_time_mono_ms();
    pthread_join(t, NULL);
    print_message("  long poll abandoned %lld ms after the flag\n", done - c.t);
    assert_true(done - c.t < 500);
    assert_int_equal(n, 0);
    assert_int_equal(fs_nreq(&f.srv), 1); /* not retried */
    sqs_stop(&f);
}

static void test_errors(void **state)
{
    static const struct fs_action script[] = {
        {.status = 400,
         .body = "{\"__type\":\"com.amazonaws.sqs#QueueDoesNotExist\",\"message\":\"The specified "
                 "queue does not exist.\"}"},
        {.status = 403,
         .body = "<?xml version=\"1.0\"?><ErrorResponse><Error><Type>Sender</Type><Code>"
                 "SignatureDoesNotMatch</Code><Message>The request signature we calculated "
                 "does not match the signature you provided.</Message></Error><RequestId>r"
                 "</RequestId></ErrorResponse>"},
        {.status = 400,
         .body = "{\"__type\":\"com.amazonaws.sqs#ReceiptHandleIsInvalid\",\"message\":\"bad\"}"},
        {.status = 500, .body = "{\"__type\":\"InternalFailure\"}"},
        {.status = 200, .body = "{}"},
    };
    struct sqsfx f;
    (void)state;
    sqs_start(&f, script, OWLS_ARRAY_LEN(script));
    assert_int_equal(owls_sqs_delete(f.q, f.qurl, "rh", &f.em), OWLS_ENOTFOUND);
    assert_non_null(strstr(f.em.text, "QueueDoesNotExist"));
    assert_int_equal(owls_sqs_delete(f.q, f.qurl, "rh", &f.em), OWLS_EAUTH);
    assert_non_null(strstr(f.em.text, "SignatureDoesNotMatch"));
    assert_int_equal(owls_sqs_change_visibility(f.q, f.qurl, "rh", 60, &f.em), OWLS_EAWS);
    assert_non_null(strstr(f.em.text, "ReceiptHandleIsInvalid"));
    assert_int_equal(owls_sqs_change_visibility(f.q, f.qurl, "rh", 60, &f.em), OWLS_OK);
    assert_int_equal(fs_nreq(&f.srv), 5); /* the 500 was retried */
    assert_non_null(strstr(f.srv.req[4].body_head, "\"VisibilityTimeout\":60"));
    assert_string_equal(fs_req_header(&f.srv, 4, "x-amz-target"),
                        "AmazonSQS.ChangeMessageVisibility");
    sqs_stop(&f);
}

static void test_batch_and_send(void **state)
{
    static const struct fs_action script[] = {
        {.status = 200,
         .body = "{\"Successful\":[{\"Id\":\"0\"}],\"Failed\":[{\"Id\":\"1\",\"SenderFault\":true,"
                 "\"Code\":\"ReceiptHandleIsInvalid\",\"Message\":\"The receipt handle has "
                 "expired\"}]}"},
        {.status = 200, .body = "{\"Successful\":[{\"Id\":\"0\"},{\"Id\":\"1\"}]}"},
        {.status = 200, .body = "{\"MessageId\":\"id-1\",\"MD5OfMessageBody\":\"" HELLO_MD5 "\"}"},
        {.status = 200,
         .body =
             "{\"MessageId\":\"id-2\",\"MD5OfMessageBody\":\"ffffffffffffffffffffffffffffffff\"}"},
        {.status = 200, .body = "{\"Attributes\":{\"ApproximateNumberOfMessages\":\"4\"}}"},
    };
    struct sqsfx f;
    struct owls_sqs_batch_entry e[2] = {{.receipt_handle = "r0", .visibility_timeout = 30},
                                        {.receipt_handle = "r1", .visibility_timeout = 30}};
    size_t failed;
    char id[OWLS_SQS_ID_MAX];
    const char *names[] = {"ApproximateNumberOfMessages"};
    struct owls_sqs_attr *attrs;
    size_t na;
    (void)state;
    sqs_start(&f, script, OWLS_ARRAY_LEN(script));
    assert_int_equal(owls_sqs_delete_batch(f.q, f.qurl, e, 2, &failed, &f.em), OWLS_OK);
    assert_int_equal(failed, 1);
    assert_true(e[0].ok);
    assert_false(e[1].ok);
    assert_true(e[1].sender_fault);
    assert_string_equal(e[1].code, "ReceiptHandleIsInvalid");
    assert_non_null(
        strstr(f.srv.req[0].body_head, "\"Entries\":[{\"Id\":\"0\",\"ReceiptHandle\":\"r0\"},"));
    assert_int_equal(owls_sqs_change_visibility_batch(f.q, f.qurl, e, 2, &failed, &f.em), OWLS_OK);
    assert_int_equal(failed, 0);
    assert_non_null(strstr(f.srv.req[1].body_head, "\"VisibilityTimeout\":30"));
    assert_string_equal(fs_req_header(&f.srv, 1, "x-amz-target"),
                        "AmazonSQS.ChangeMessageVisibilityBatch");
    assert_int_equal(owls_sqs_send(f.q, f.qurl, "hello", 5, id, &f.em), OWLS_OK);
    assert_string_equal(id, "id-1");
    assert_non_null(strstr(f.srv.req[2].body_head, "\"MessageBody\":\"hello\""));
    assert_int_equal(owls_sqs_send(f.q, f.qurl, "hello", 5, id, &f.em), OWLS_ETRANSIENT);
    assert_non_null(strstr(f.em.text, "MD5"));
    assert_int_equal(owls_sqs_send(f.q, f.qurl, "\xff\xfe", 2, id, &f.em), OWLS_EINTERNAL);
    assert_int_equal(owls_sqs_get_attributes(f.q, f.qurl, names, 1, &attrs, &na, &f.em), OWLS_OK);
    assert_int_equal(na, 1);
    assert_string_equal(attrs[0].name, "ApproximateNumberOfMessages");
    assert_string_equal(attrs[0].value, "4");
    owls_sqs_attrs_free(attrs, na);
    assert_int_equal(owls_sqs_delete_batch(f.q, f.qurl, e, 0, &failed, &f.em), OWLS_EINTERNAL);
    sqs_stop(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse_receive_table),
        cmocka_unit_test(test_parse_receive_nul_in_body),
        cmocka_unit_test(test_parse_batch_table),
        cmocka_unit_test(test_receive_request_shape),
        cmocka_unit_test(test_long_poll_cancel),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_batch_and_send),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
