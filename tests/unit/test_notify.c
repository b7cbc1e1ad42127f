/* Done notifications and error records (SPEC sections 5 and 6). */
#include <jansson.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "owls/hash.h"
#include "owls/notify.h"

static json_t *parse(const char *s, size_t len)
{
    json_error_t e;
    json_t *doc = json_loadb(s, len, 0, &e);
    if (doc == NULL)
        fail_msg("not JSON: %s", e.text);
    return doc;
}

static void test_succeeded(void **state)
{
    const struct owls_done_note n = {
        .succeeded = true,
        .run_id = "2025-08-25-001",
        .input_bucket = "owls-q4-archive",
        .input_key = "run=2025-08-25-001/input/mydata.csv",
        .artifacts_bucket = "owls-q4-artifacts",
        .have_rows = true,
        .rows_keep = 51,
        .rows_discard = 49,
        .keep_fraction = 0.1 + 0.2, /* full precision must survive */
        .work_message_id = "m-1",
        .duration_ms = 41,
    };
    size_t len;
    char *s = owls_notify_done_json(&n, &len);
    json_t *doc = parse(s, len);
    (void)state;
    assert_string_equal(json_string_value(json_object_get(doc, "schema")), "owls-q4.done/1");
    assert_string_equal(json_string_value(json_object_get(doc, "status")), "succeeded");
    assert_null(json_object_get(doc, "duplicate"));
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(doc, "artifacts"), "manifest")),
        "run=2025-08-25-001/MANIFEST.json");
    assert_string_equal(
        json_string_value(json_object_get(json_object_get(doc, "artifacts"), "prefix")),
        "run=2025-08-25-001/");
    assert_int_equal(json_integer_value(json_object_get(json_object_get(doc, "rows"), "keep")), 51);
    assert_true(json_real_value(json_object_get(doc, "keep_energy_fraction")) == 0.1 + 0.2);
    assert_int_equal(json_integer_value(json_object_get(doc, "duration_ms")), 41);
    assert_null(json_object_get(doc, "error"));
    json_decref(doc);
    free(s);
}

static void test_failed_bad_message(void **state)
{
    const char body[] = "not json {\n";
    char hex[OWLS_SHA256_HEX];
    const struct owls_done_note n = {
        .succeeded = false,
        .work_message_id = "m-2",
        .error_code = "bad_message",
        .error_message = "not valid JSON",
        .body = body,
        .body_len = sizeof(body) - 1,
    };
    size_t len;
    char *s = owls_notify_done_json(&n, &len);
    json_t *doc = parse(s, len), *wm = json_object_get(doc, "work_message");
    (void)state;
    owls_sha256_hex(body, sizeof(body) - 1, hex);
    assert_string_equal(json_string_value(json_object_get(doc, "status")), "failed");
    assert_true(json_is_null(json_object_get(doc, "run_id")));
    assert_true(json_is_null(json_object_get(doc, "input")));
    assert_string_equal(json_string_value(json_object_get(json_object_get(doc, "error"), "code")),
                        "bad_message");
    assert_string_equal(json_string_value(json_object_get(wm, "body")), body);
    assert_int_equal(json_integer_value(json_object_get(wm, "bytes")), sizeof(body) - 1);
    assert_string_equal(json_string_value(json_object_get(wm, "sha256")), hex);
    assert_true(json_is_false(json_object_get(wm, "truncated")));
    json_decref(doc);
    free(s);
}

/* A 100 KB body of two-byte characters: cut to 64 KiB at a character
 * boundary; bytes and sha256 describe the whole body. */
static void test_truncation_at_utf8_boundary(void **state)
{
    size_t n = 100001;
    char *body = malloc(n);
    body[0] = 'x'; /* shifts every "é" by one byte: 65536 falls inside one */
    for (size_t i = 1; i + 1 < n; i += 2)
        body[i] = '\xC3', body[i + 1] = '\xA9';
    const struct owls_done_note note = {
        .error_code = "bad_message", .error_message = "x", .body = body, .body_len = n};
    size_t len;
    char *s = owls_notify_done_json(&note, &len);
    json_t *doc = parse(s, len), *wm = json_object_get(doc, "work_message");
    (void)state;
    assert_true(json_is_true(json_object_get(wm, "truncated")));
    assert_int_equal(json_integer_value(json_object_get(wm, "bytes")), n);
    assert_int_equal(json_string_length(json_object_get(wm, "body")), 65535);
    assert_int_equal(owls_notify_cut_utf8(body, n, 65536), 65535);
    assert_int_equal(owls_notify_cut_utf8(body, 10, 65536), 10);
    json_decref(doc);
    free(s);
    free(body);
}

/* Control characters escape to six bytes each: the notification must still
 * fit in one SQS message. */
static void test_fits_sqs(void **state)
{
    size_t n = 200000;
    char *body = calloc(1, n);
    memset(body, '\x01', n);
    const struct owls_done_note note = {
        .error_code = "bad_message", .error_message = "x", .body = body, .body_len = n};
    size_t len;
    char *s = owls_notify_done_json(&note, &len);
    json_t *doc = parse(s, len);
    (void)state;
    assert_true(len <= OWLS_SQS_MESSAGE_MAX);
    assert_true(json_is_true(json_object_get(json_object_get(doc, "work_message"), "truncated")));
    json_decref(doc);
    free(s);
    free(body);
}

static void test_error_record(void **state)
{
    size_t len;
    char *s = owls_notify_error_record_json("bad_csv", "x.csv: line 3: 3 fields", "r1", "m-3",
                                            "{\"input_key\":\"x.csv\"}", 21, &len);
    json_t *doc = parse(s, len);
    (void)state;
    assert_string_equal(json_string_value(json_object_get(doc, "schema")), "owls-q4.error/1");
    assert_string_equal(json_string_value(json_object_get(doc, "code")), "bad_csv");
    assert_string_equal(json_string_value(json_object_get(doc, "run_id")), "r1");
    assert_string_equal(json_string_value(json_object_get(doc, "work_message_id")), "m-3");
    assert_string_equal(json_string_value(json_object_get(doc, "job")),
                        "{\"input_key\":\"x.csv\"}");
    const char *at = json_string_value(json_object_get(doc, "failed_at"));
    assert_non_null(at);
    assert_int_equal(strlen(at), 24);
    assert_true(at[10] == 'T' && at[23] == 'Z');
    json_decref(doc);
    free(s);
    s = owls_notify_error_record_json("bad_message", "x", NULL, "m-4", "\xFF\xFEok", 4, &len);
    doc = parse(s, len);
    assert_true(json_is_null(json_object_get(doc, "run_id")));
    assert_string_equal(json_string_value(json_object_get(doc, "job")),
                        "\xEF\xBF\xBD\xEF\xBF\xBDok");
    json_decref(doc);
    free(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_succeeded),
        cmocka_unit_test(test_failed_bad_message),
        cmocka_unit_test(test_truncation_at_utf8_boundary),
        cmocka_unit_test(test_fits_sqs),
        cmocka_unit_test(test_error_record),
    };
    return cmocka_run_group_tests_name("notify", tests, NULL, NULL);
}
