/*
 * owls-q4 submit's pure parts: Content-Type, input key, job JSON (checked
 * against literal strings and parsed back with the daemon's own job-message
 * parser), generated run ids, the file digest, --wait parsing.
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
#include "../../src/cli/cmd_submit.c"
#include "cli_cases.h"
#include "owls/fsio.h"

static void test_content_type(void **state)
{
    static const struct {
        const char *name, *want;
    } cases[] = {
        {"data.csv", "text/csv"},
        {"dir/DATA.CSV", "text/csv"},
        {"x.parquet", "application/vnd.apache.parquet"},
        {"x.Parquet", "application/vnd.apache.parquet"},
        {"x.csv.gz", "application/octet-stream"},
        {"csv", "application/octet-stream"},
        {"x.parq", "application/octet-stream"},
        {"noext", "application/octet-stream"},
        {"", "application/octet-stream"},
    };
    (void)state;
    for (size_t i = 0; i < OWLS_ARRAY_LEN(cases); i++) {
        print_message("case %s\n", cases[i].name);
        assert_string_equal(submit_content_type(cases[i].name), cases[i].want);
    }
}

static void test_key(void **state)
{
    char longname[1100], at_limit[1100], over_limit[1100];
    /* "run=r1/input/" is 13 bytes: a 1011-byte name makes a 1024-byte key */
    memset(longname, 'n', sizeof(longname) - 1);
    longname[sizeof(longname) - 1] = '\0';
    snprintf(at_limit, sizeof(at_limit), "/tmp/%.1011s", longname);
    snprintf(over_limit, sizeof(over_limit), "/tmp/%.1012s", longname);
    const struct {
        const char *name, *run_id, *path;
        enum owls_err rc;
        const char *want; /* the key, or a part of the error message */
    } cases[] = {
        {"plain name", "r1", "data.csv", OWLS_OK, "run=r1/input/data.csv"},
        {"directories dropped", "2025-08-25-001", "/srv/in/sub/my data.csv", OWLS_OK,
         "run=2025-08-25-001/input/my data.csv"},
        {"relative path", "a.b_c-d", "./x/y.parquet", OWLS_OK, "run=a.b_c-d/input/y.parquet"},
        {"utf-8 name", "r1", "d/\xc3\xa9t\xc3\xa9.csv", OWLS_OK,
         "run=r1/input/\xc3\xa9t\xc3\xa9.csv"},
        {"key of exactly 1024 bytes", "r1", at_limit, OWLS_OK, NULL},
        {"key of 1025 bytes", "r1", over_limit, OWLS_EBAD_MESSAGE, "would be 1025 bytes"},
        {"latin-1 name", "r1", "d/\xe9t\xe9.csv", OWLS_EBAD_MESSAGE, "not valid UTF-8"},
        {"trailing slash", "r1", "dir/", OWLS_EBAD_MESSAGE, "no file name"},
    };
    (void)state;
    for (size_t i = 0; i < OWLS_ARRAY_LEN(cases); i++) {
        struct owls_errmsg em = {{0}};
        char *key = (char *)"untouched";
        print_message("case %s\n", cases[i].name);
        assert_int_equal(submit_key(cases[i].run_id, cases[i].path, &key, &em), cases[i].rc);
        if (cases[i].rc != OWLS_OK) {
            assert_null(key);
            if (strstr(em.text, cases[i].want) == NULL)
                fail_msg("message \"%s\" lacks \"%s\"", em.text, cases[i].want);
            /* and names the file (its start, if long) */
            assert_non_null(
                strstr(em.text, strlen(cases[i].path) > 300 ? "/tmp/nnnn" : cases[i].path));
            continue;
        }
        if (cases[i].want != NULL)
            assert_string_equal(key, cases[i].want);
        else
            assert_int_equal(strlen(key), OWLS_KEY_MAX);
        free(key);
    }
}

static void test_job_json(void **state)
{
    static const struct {
        const char *name, *key, *run_id, *want;
    } cases[] = {
        {"SPEC 2 example", "run=2025-08-25-001/input/mydata.csv", "2025-08-25-001",
         "{\"input_key\": \"run=2025-08-25-001/input/mydata.csv\", \"run_id\": "
         "\"2025-08-25-001\"}"},
        {"quotes, backslash, tab escaped; slash and UTF-8 kept",
         "run=r/input/a\"b\\c\td/\xc3\xa9.csv", "r",
         "{\"input_key\": \"run=r/input/a\\\"b\\\\c\\td/\xc3\xa9.csv\", \"run_id\": \"r\"}"},
    };
    (void)state;
    for (size_t i = 0; i < OWLS_ARRAY_LEN(cases); i++) {
        struct owls_jobmsg m = {0};
        struct owls_errmsg em = {{0}};
        char *body = submit_job_json(cases[i].key, cases[i].run_id);

        print_message("case %s\n", cases[i].name);
        assert_string_equal(body, cases[i].want);
        /* and the daemon reads back exactly what was meant */
        assert_int_equal(
            owls_jobmsg_parse(body, strlen(body), "msg-1", 0, "owls-q4-archive", &m, &em), OWLS_OK);
        assert_int_equal(m.njobs, 1);
        assert_int_equal(m.jobs[0].err, OWLS_OK);
        assert_string_equal(m.jobs[0].input_key, cases[i].key);
        assert_string_equal(m.jobs[0].run_id, cases[i].run_id);
        owls_jobmsg_cleanup(&m);
        free(body);
    }
}

static void test_generated_run_id(void **state)
{
    char id[64];
    (void)state;
    /* 2025-08-25 10:04:05 UTC */
    owls_run_id_generate((time_t)1756116245,
                         "c550b5b80220015b62d989e021524defc9e3113cec4bbb5d4f128ff21719c5f8", id);
    assert_string_equal(id, "2025-08-25-100405-c550b5b8");
    assert_true(owls_run_id_valid(id));
}

static void test_file_sha256(void **state)
{
    static const struct {
        const char *name;
        size_t len;
        char fill;
        const char *want;
    } cases[] = {
        {"empty", 0, 0, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"},
        {"abc", 3, 0, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
        /* more than two 1 MiB reads */
        {"3 MB of 'a'", 3000000, 'a',
         "2a152c894398719c0570f83fac34ac03a0f6e8e474b995c2403aa5434f7b9dd4"},
    };
    (void)state;
    for (size_t i = 0; i < OWLS_ARRAY_LEN(cases); i++) {
        char path[] = "/tmp/owls-test-cli-submit.XXXXXX", hex[OWLS_SHA256_HEX];
        struct owls_errmsg em = {{0}};
        int fd = mkstemp(path);
        char *buf = owls_xmalloc(cases[i].len + 1);

        print_message("case %s\n", cases[i].name);
        assert_true(fd >= 0);
        unlink(path);
        if (cases[i].fill)
            memset(buf, cases[i].fill, cases[i].len);
        else
            memcpy(buf, "abc", cases[i].len);
        assert_int_equal(owls_write_all(fd, buf, cases[i].len), OWLS_OK);
        assert_int_equal(submit_file_sha256(fd, cases[i].len, path, hex, &em), OWLS_OK);
        assert_string_equal(hex, cases[i].want);
        /* a file that is shorter than its stat said: an error, not a digest */
        assert_int_equal(submit_file_sha256(fd, cases[i].len + 1, path, hex, &em), OWLS_EIO);
        assert_non_null(strstr(em.text, "shrank"));
        close(fd);
        free(buf);
    }
}

static void test_parse_seconds(void **state)
{
    static const struct {
        const char *in;
        bool ok;
        long want;
    } cases[] = {
        {"0", true, 0},     {"10", true, 10},  {"007", true, 7},
        {"600", true, 600}, {"601", false, 0}, {"", false, 0},
        {"-1", false, 0},   {"+1", false, 0},  {" 1", false, 0},
        {"1 ", false, 0},   {"1.5", false, 0}, {"1e3", false, 0},
        {"0x10", false, 0}, {"ten", false, 0}, {"99999999999999999999999", false, 0},
    };
    (void)state;
    for (size_t i = 0; i < OWLS_ARRAY_LEN(cases); i++) {
        long v = -42;
        print_message("case \"%s\"\n", cases[i].in);
        assert_int_equal(owls_cli_parse_seconds(cases[i].in, 600, &v), cases[i].ok);
        assert_int_equal(v, cases[i].ok ? cases[i].want : -42);
    }
}

/* Command-line checks that happen before any configuration or AWS. */
static void test_usage_and_local_errors(void **state)
{
    static const struct cli_case cases[] = {
        {"no FILE", {"submit", NULL}, 64, OWLS_EUSAGE},
        {"two FILEs", {"submit", "a", "b", NULL}, 64, OWLS_EUSAGE},
        {"unknown option", {"submit", "--bogus", "a", NULL}, 64, OWLS_EUSAGE},
        {"--run-id without value", {"submit", "a", "--run-id", NULL}, 64, OWLS_EUSAGE},
        {"invalid run id", {"submit", "a", "--run-id", "../x", NULL}, 65, OWLS_EINVALID_RUN_ID},
        {"missing FILE", {"submit", "/nonexistent/owls/x.csv", NULL}, 66, OWLS_EINPUT_NOT_FOUND},
        {"FILE is a directory", {"submit", "/tmp", NULL}, 66, OWLS_EIO},
        {"FILE (a device) checked before the config",
         {"submit", "-c", "/nonexistent/owls.conf", "/dev/null", NULL},
         66,
         OWLS_EIO},
    };
    (void)state;
    run_cli_cases(owls_cli_submit, cases, OWLS_ARRAY_LEN(cases));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_content_type),
        cmocka_unit_test(test_key),
        cmocka_unit_test(test_job_json),
        cmocka_unit_test(test_generated_run_id),
        cmocka_unit_test(test_file_sha256),
        cmocka_unit_test(test_parse_seconds),
        cmocka_unit_test(test_usage_and_local_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
