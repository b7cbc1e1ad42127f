/*
 * owls-q4 results' pure parts: MANIFEST.json checks (a name from the bucket
 * becomes a local file name: no paths, no hidden or temporary names), the
 * ERROR.json record, the polling backoff and the command line.
 *
 * The CLI's sources are compiled into the test (cli_cases.h says why).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../src/cli/clicfg.c"
#include "../../src/cli/cmd_results.c"
#include "cli_cases.h"
#include "aws_faultsrv.h"
#include "owls/retry.h"

#define SHA_A "bb7ef6421a2d146a598c08d340feee75ba1bf76a0275b53743d279b7648ff7a6"
#define SHA_B "89c014394e8d74c678f3c2aebe430d03d31691615b1ea9259a6ff9cfe09a711c"

/* A MANIFEST of run "rt-1" as the daemon writes it, with ITEMS spliced in. */
#define MANIFEST(ITEMS)                                                                            \
    "{\"schema\": \"owls-q4.manifest/1\", \"run_id\": \"rt-1\", \"input\": {\"bucket\": "          \
    "\"owls-q4-archive\", \"key\": \"run=rt-1/input/x.csv\", \"etag\": \"abc\", \"bytes\": 24, "   \
    "\"sha256\": \"" SHA_A "\"}, \"artifacts\": [" ITEMS "], \"producer\": {\"name\": "            \
    "\"owls-q4d\", \"version\": \"0.1.0\", \"host\": \"h\"}, \"started_at\": "                     \
    "\"2025-08-25T10:00:00.000Z\", \"finished_at\": \"2025-08-25T10:00:01.000Z\"}"
#define ITEM(NAME, KEY, BYTES, SHA)                                                                \
    "{\"name\": \"" NAME "\", \"key\": \"" KEY "\", \"bytes\": " BYTES ", \"sha256\": \"" SHA      \
    "\", \"content_type\": \"text/csv\"}"
#define GOOD_A ITEM("Q_keep.csv", "run=rt-1/Q_keep.csv", "12", SHA_A)
#define GOOD_B ITEM("er.json", "run=rt-1/er.json", "0", SHA_B)

static void test_manifest_ok(void **state)
{
    static const char doc[] = MANIFEST(GOOD_A ", " GOOD_B);
    struct results_manifest m;
    struct owls_errmsg em = {{0}};
    (void)state;

    assert_int_equal(results_manifest_parse(doc, strlen(doc), "rt-1", &m, &em), OWLS_OK);
    assert_int_equal(m.n, 2);
    assert_string_equal(m.items[0].name, "Q_keep.csv");
    assert_string_equal(m.items[0].key, "run=rt-1/Q_keep.csv");
    assert_int_equal(m.items[0].bytes, 12);
    assert_string_equal(m.items[0].sha256, SHA_A);
    assert_string_equal(m.items[1].name, "er.json");
    assert_int_equal(m.items[1].bytes, 0);
    assert_string_equal(m.items[1].sha256, SHA_B);
    results_manifest_cleanup(&m);
}

static void test_manifest_refused(void **state)
{
    static const struct {
        const char *name, *doc, *why;
    } cases[] = {
        {"not JSON", "MANIFEST", "line 1"},
        {"truncated", "{\"schema\": \"owls-q4.manifest/1\", \"run_id\": ", "line 1"},
        {"an array", "[1]", "not a JSON object"},
        {"other schema",
         "{\"schema\": \"owls-q4.study/1\", \"run_id\": \"rt-1\", \"artifacts\": [" GOOD_A "]}",
         "schema"},
        {"no schema", "{\"run_id\": \"rt-1\", \"artifacts\": [" GOOD_A "]}", "schema"},
        {"another run",
         "{\"schema\": \"owls-q4.manifest/1\", \"run_id\": \"rt-2\", \"artifacts\": [" GOOD_A "]}",
         "run_id is \"rt-2\""},
        {"no artifacts", MANIFEST(""), "artifacts"},
        {"artifacts not an array",
         "{\"schema\": \"owls-q4.manifest/1\", \"run_id\": \"rt-1\", \"artifacts\": {}}",
         "artifacts"},
        {"artifact not an object", MANIFEST("\"Q_keep.csv\""), "name"},
        {"name with a path", MANIFEST(ITEM("../Q_keep.csv", "run=rt-1/Q_keep.csv", "1", SHA_A)),
         "not a plain file name"},
        {"name with a slash", MANIFEST(ITEM("a/b", "run=rt-1/a/b", "1", SHA_A)),
         "not a plain file name"},
        {"absolute name", MANIFEST(ITEM("/etc/passwd", "run=rt-1/x", "1", SHA_A)),
         "not a plain file name"},
        {"hidden name", MANIFEST(ITEM(".Q_keep.csv.XXXXXX", "run=rt-1/x", "1", SHA_A)),
         "not a plain file name"},
        {"dot-dot", MANIFEST(ITEM("..", "run=rt-1/x", "1", SHA_A)), "not a plain file name"},
        {"empty name", MANIFEST(ITEM("", "run=rt-1/x", "1", SHA_A)), "not a plain file name"},
        {"MANIFEST.json listed",
         MANIFEST(ITEM("MANIFEST.json", "run=rt-1/MANIFEST.json", "1", SHA_A)),
         "not a plain file name"},
        {"option-like name", MANIFEST(ITEM("-rf", "run=rt-1/-rf", "1", SHA_A)),
         "not a plain file name"},
        {"key of another run", MANIFEST(ITEM("Q_keep.csv", "run=rt-2/Q_keep.csv", "1", SHA_A)),
         "not under run=rt-1/"},
        {"key of a longer run id", MANIFEST(ITEM("Q_keep.csv", "run=rt-10/Q_keep.csv", "1", SHA_A)),
         "not under run=rt-1/"},
        {"key is the prefix", MANIFEST(ITEM("Q_keep.csv", "run=rt-1/", "1", SHA_A)),
         "not under run=rt-1/"},
        {"negative size", MANIFEST(ITEM("Q_keep.csv", "run=rt-1/Q_keep.csv", "-1", SHA_A)),
         "bytes"},
        {"size as a string", MANIFEST(ITEM("Q_keep.csv", "run=rt-1/Q_keep.csv", "\"12\"", SHA_A)),
         "bytes"},
        {"size as a real", MANIFEST(ITEM("Q_keep.csv", "run=rt-1/Q_keep.csv", "12.0", SHA_A)),
         "bytes"},
        {"uppercase digest",
         MANIFEST(ITEM("Q_keep.csv", "run=rt-1/Q_keep.csv", "1",
                       "BB7EF6421A2D146A598C08D340FEEE75BA1BF76A0275B53743D279B7648FF7A6")),
         "sha256"},
        {"short digest", MANIFEST(ITEM("Q_keep.csv", "run=rt-1/Q_keep.csv", "1", "bb7ef642")),
         "sha256"},
        {"listed twice", MANIFEST(GOOD_A ", " GOOD_A), "listed twice"},
        {"duplicate JSON key",
         "{\"schema\": \"owls-q4.manifest/1\", \"run_id\": \"rt-1\", \"run_id\": \"rt-1\", "
         "\"artifacts\": [" GOOD_A "]}",
         "duplicate"},
    };
    (void)state;
    for (size_t i = 0; i < OWLS_ARRAY_LEN(cases); i++) {
        struct results_manifest m;
        struct owls_errmsg em = {{0}};

        print_message("case %s\n", cases[i].name);
        assert_int_equal(
            results_manifest_parse(cases[i].doc, strlen(cases[i].doc), "rt-1", &m, &em), OWLS_EAWS);
        if (strstr(em.text, cases[i].why) == NULL)
            fail_msg("message \"%s\" lacks \"%s\"", em.text, cases[i].why);
        assert_true(strncmp(em.text, "MANIFEST.json: ", 15) == 0);
        results_manifest_cleanup(&m);
        assert_int_equal(m.n, 0);
        assert_null(m.items);
    }
}

static void test_error_record(void **state)
{
    static const struct {
        const char *name, *doc;
        enum owls_err rc;
        const char *code, *msg;
    } cases[] = {
        {"SPEC 6 record",
         "{\"schema\": \"owls-q4.error/1\", \"code\": \"missing_value\", \"message\": \"x.csv: row "
         "3, column \\\"beta\\\": empty\", \"run_id\": \"r\", \"work_message_id\": \"m\", "
         "\"job\": \"{}\", \"failed_at\": \"2025-08-25T10:00:00Z\"}",
         OWLS_OK, "missing_value", "x.csv: row 3, column \"beta\": empty"},
        {"newlines and escapes made one line",
         "{\"code\": \"bad_csv\", \"message\": \"line 2:\\nfield\\r\\u001b[31m\\u007f ok\"}",
         OWLS_OK, "bad_csv", "line 2: field  [31m  ok"},
        {"UTF-8 kept", "{\"code\": \"bad_csv\", \"message\": \"caf\xc3\xa9\"}", OWLS_OK, "bad_csv",
         "caf\xc3\xa9"},
        {"no message", "{\"code\": \"run_conflict\"}", OWLS_OK, "run_conflict", "(no message)"},
        {"no code", "{\"message\": \"m\"}", OWLS_EAWS, NULL, NULL},
        {"empty code", "{\"code\": \"\", \"message\": \"m\"}", OWLS_EAWS, NULL, NULL},
        {"code with a blank", "{\"code\": \"bad csv\", \"message\": \"m\"}", OWLS_EAWS, NULL, NULL},
        {"code with a newline", "{\"code\": \"a\\nowls-q4: ok\", \"message\": \"m\"}", OWLS_EAWS,
         NULL, NULL},
        {"code not a string", "{\"code\": 65, \"message\": \"m\"}", OWLS_EAWS, NULL, NULL},
        {"not JSON", "ERROR", OWLS_EAWS, NULL, NULL},
        {"an array", "[\"bad_csv\"]", OWLS_EAWS, NULL, NULL},
    };
    (void)state;
    for (size_t i = 0; i < OWLS_ARRAY_LEN(cases); i++) {
        char code[64] = "", msg[256] = "";
        struct owls_errmsg em = {{0}};

        print_message("case %s\n", cases[i].name);
        assert_int_equal(
            results_error_parse(cases[i].doc, strlen(cases[i].doc), code, msg, sizeof(msg), &em),
            cases[i].rc);
        if (cases[i].rc == OWLS_OK) {
            assert_string_equal(code, cases[i].code);
            assert_string_equal(msg, cases[i].msg);
        } else {
            assert_true(strncmp(em.text, "ERROR.json: ", 12) == 0);
        }
    }
}

static void test_one_line_truncates(void **state)
{
    char out[8];
    (void)state;
    results_one_line("abc\ndefghijk", out, sizeof(out));
    assert_string_equal(out, "abc def");
}

static void test_backoff(void **state)
{
    static const long want[] = {1000, 2000, 4000, 5000, 5000, 5000};
    long d = 0;
    (void)state;
    for (size_t i = 0; i < OWLS_ARRAY_LEN(want); i++) {
        d = results_next_delay_ms(d);
        assert_int_equal(d, want[i]);
    }
}

static void test_name_ok(void **state)
{
    static const struct {
        const char *name;
        bool ok;
    } cases[] = {
        {"Q_keep.csv", true},
        {"er.json", true},
        {"a", true},
        {"A-b_c.d", true},
        {"", false},
        {".", false},
        {"..", false},
        {".hidden", false},
        {"-n", false},
        {"a/b", false},
        {"a\\b", false},
        {"a b", false},
        {"MANIFEST.json", false},
        {"manifest.json", true},
        {"caf\xc3\xa9", false},
    };
    (void)state;
    for (size_t i = 0; i < OWLS_ARRAY_LEN(cases); i++) {
        print_message("case \"%s\"\n", cases[i].name);
        assert_int_equal(results_name_ok(cases[i].name), cases[i].ok);
    }
}

static bool no_sleep(void *arg, long ms)
{
    (void)arg, (void)ms;
    return true;
}

#define NO_SUCH_KEY                                                                                \
    "<Error><Code>NoSuchKey</Code><Message>The specified key does not exist.</Message></Error>"
#define NO_SUCH_BUCKET                                                                             \
    "<Error><Code>NoSuchBucket</Code><Message>The specified bucket does not "                      \
    "exist</Message></Error>"

/* One look at a run against a loopback S3 whose every answer is a 404:
 * a missing key means "not there yet" (look again), a missing bucket is an
 * AWS failure (waiting will not help) -- whatever the run id spells. */
static void test_look_missing_key_or_bucket(void **state)
{
    static const struct {
        const char *name, *run_id, *body;
        enum owls_err rc;
        size_t requests; /* MANIFEST.json, then ERROR.json */
    } cases[] = {
        {"no such key", "rt-1", NO_SUCH_KEY, OWLS_OK, 2},
        {"no such key, run id spelling the other code", "NoSuchBucket-1", NO_SUCH_KEY, OWLS_OK, 2},
        {"no such bucket", "rt-1", NO_SUCH_BUCKET, OWLS_EAWS, 1},
        {"no such bucket, run id spelling the other code", "NoSuchKey-1", NO_SUCH_BUCKET, OWLS_EAWS,
         1},
    };
    static const struct owls_retry_hooks hooks = {.sleep_fn = no_sleep};
    char bucket[] = "art";
    (void)state;
    for (size_t i = 0; i < OWLS_ARRAY_LEN(cases); i++) {
        const struct fs_action script[] = {{.status = 404, .body = cases[i].body}};
        struct owls_config cfg = {.artifacts_bucket = bucket};
        struct owls_cli_aws aws = {.cfg = &cfg};
        struct owls_errmsg em = {{0}};
        struct faultsrv srv;
        enum results_state st = RESULTS_MANIFEST;
        char *data = NULL, *ep;
        size_t len = 0;

        print_message("case %s\n", cases[i].name);
        fs_start(&srv, script, 1);
        ep = fs_url(&srv, "");
        const struct owls_aws_opts o = {
            .region = "us-east-1", .s3_endpoint = ep, .retry_hooks = &hooks};
        assert_int_equal(owls_http_new(&o, &aws.svc.http, &em), OWLS_OK);
        assert_int_equal(owls_s3_new(&o, aws.svc.http, NULL, &aws.svc.s3, &em), OWLS_OK);
        assert_int_equal(results_look(&aws, cases[i].run_id, &st, &data, &len, &em), cases[i].rc);
        assert_int_equal(st, RESULTS_NOTHING);
        assert_null(data);
        assert_int_equal(fs_nreq(&srv), cases[i].requests);
        owls_s3_free(aws.svc.s3);
        owls_http_free(aws.svc.http);
        fs_stop(&srv);
        free(ep);
    }
}

/* Command-line checks that happen before any configuration or AWS. */
static void test_usage(void **state)
{
    static const struct cli_case cases[] = {
        {"no RUN_ID", {"results", "-o", "d", NULL}, 64, OWLS_EUSAGE},
        {"no -o", {"results", "r1", NULL}, 64, OWLS_EUSAGE},
        {"empty -o", {"results", "r1", "-o", "", NULL}, 64, OWLS_EUSAGE},
        {"two run ids", {"results", "r1", "r2", "-o", "d", NULL}, 64, OWLS_EUSAGE},
        {"--wait not a number",
         {"results", "r1", "-o", "d", "--wait", "soon", NULL},
         64,
         OWLS_EUSAGE},
        {"--wait negative", {"results", "r1", "-o", "d", "--wait", "-1", NULL}, 64, OWLS_EUSAGE},
        {"--wait over a week",
         {"results", "r1", "-o", "d", "--wait", "604801", NULL},
         64,
         OWLS_EUSAGE},
        {"unknown option", {"results", "r1", "-o", "d", "--bogus", NULL}, 64, OWLS_EUSAGE},
        {"invalid run id", {"results", "run=1/x", "-o", "d", NULL}, 65, OWLS_EINVALID_RUN_ID},
        {"missing config",
         {"results", "r1", "-o", "d", "-c", "/nonexistent/owls.conf", NULL},
         78,
         OWLS_ECONFIG},
    };
    (void)state;
    run_cli_cases(owls_cli_results, cases, OWLS_ARRAY_LEN(cases));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_manifest_ok),  cmocka_unit_test(test_manifest_refused),
        cmocka_unit_test(test_error_record), cmocka_unit_test(test_one_line_truncates),
        cmocka_unit_test(test_backoff),      cmocka_unit_test(test_name_ok),
        cmocka_unit_test(test_usage),        cmocka_unit_test(test_look_missing_key_or_bucket),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
