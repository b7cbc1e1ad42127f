/*
 * owls_outfile: bytes and digest, synchronous and with a writer thread, and
 * a failing write (RLIMIT_FSIZE makes write(2) fail with EFBIG) reported
 * with its own errno and without leaking the file descriptor.
 */
#include <dirent.h>
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cmocka.h>

#include "owls/fsio.h"
#include "owls/hash.h"
#include "owls/util.h"

#define BODY_LEN (3 * 1024 * 1024 + 17) /* several buffers, and a tail */

static char s_dir[] = "/tmp/owls-fsio-XXXXXX";
static char *s_body;

static int setup(void **state)
{
    (void)state;
    if (mkdtemp(s_dir) == NULL)
        return -1;
    s_body = owls_xmalloc(BODY_LEN);
    for (size_t i = 0; i < BODY_LEN; i++)
        s_body[i] = (char)(i * 131 + i / 7919);
    return 0;
}

static int teardown(void **state)
{
    char *cmd = owls_xasprintf("rm -rf '%s'", s_dir);
    (void)state;
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", s_dir);
    free(cmd);
    free(s_body);
    return 0;
}

static int open_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    int n = 0;
    assert_non_null(d);
    while (readdir(d) != NULL)
        n++;
    closedir(d);
    return n;
}

/* Written in pieces of step bytes (0: at once). */
static enum owls_err write_body(struct owls_outfile *f, size_t step)
{
    enum owls_err rc = OWLS_OK;
    for (size_t at = 0; at < BODY_LEN && rc == OWLS_OK; at += step ? step : BODY_LEN) {
        size_t n = step && BODY_LEN - at > step ? step : BODY_LEN - at;
        rc = owls_outfile_write(f, s_body + at, n);
    }
    return rc;
}

static const struct {
    const char *name;
    unsigned flags;
    size_t step;
} s_modes[] = {
    {"synchronous, small writes", 0, 1000},
    {"synchronous, one big write", 0, 0},
    {"background, small writes", OWLS_OUTFILE_BACKGROUND, 1000},
    {"background, one big write", OWLS_OUTFILE_BACKGROUND, 0},
};

static void test_bytes_and_digest(void **state)
{
    unsigned char md[OWLS_SHA256_LEN];
    char want[OWLS_SHA256_HEX];
    (void)state;
    owls_sha256(s_body, BODY_LEN, md);
    owls_hex(md, sizeof(md), want);
    for (size_t i = 0; i < OWLS_ARRAY_LEN(s_modes); i++) {
        struct owls_outfile *f;
        struct owls_errmsg em = {{0}};
        char *path = owls_xasprintf("%s/out%zu", s_dir, i), *data = NULL;
        size_t len = 0;
        print_message("mode %s\n", s_modes[i].name);
        assert_int_equal(
            owls_outfile_open(s_dir, strrchr(path, '/') + 1, s_modes[i].flags, &f, &em), OWLS_OK);
        assert_int_equal(write_body(f, s_modes[i].step), OWLS_OK);
        assert_int_equal(owls_outfile_close(f, &em), OWLS_OK);
        assert_string_equal(owls_outfile_sha256(f), want);
        assert_int_equal(owls_outfile_bytes(f), BODY_LEN);
        assert_int_equal(access(path, F_OK), -1); /* not under its name before commit */
        assert_int_equal(owls_outfile_commit(f, &em), OWLS_OK);
        assert_int_equal(owls_file_read(path, &data, &len, &em), OWLS_OK);
        assert_int_equal(len, BODY_LEN);
        assert_memory_equal(data, s_body, BODY_LEN);
        owls_outfile_free(f);
        free(data);
        free(path);
    }
}

/* A write that fails (EFBIG past RLIMIT_FSIZE): close reports the write's
 * own error, whichever thread wrote, and the descriptor is closed. */
static void test_failed_write(void **state)
{
    struct rlimit old, small = {.rlim_cur = 64 * 1024};
    (void)state;
    signal(SIGXFSZ, SIG_IGN);
    assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
    small.rlim_max = old.rlim_max;
    for (size_t i = 0; i < OWLS_ARRAY_LEN(s_modes); i++) {
        struct owls_outfile *f;
        struct owls_errmsg em = {{0}};
        int fds = open_fds();
        enum owls_err rc;
        print_message("mode %s\n", s_modes[i].name);
        assert_int_equal(owls_outfile_open(s_dir, "big", s_modes[i].flags, &f, &em), OWLS_OK);
        assert_int_equal(setrlimit(RLIMIT_FSIZE, &small), 0);
        rc = write_body(f, s_modes[i].step);
        errno = EINTR; /* whatever errno the caller has by now must not be the message */
        if (rc == OWLS_OK)
            rc = owls_outfile_close(f, &em);
        else
            assert_int_equal(owls_outfile_close(f, &em), OWLS_EIO);
        assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
        assert_int_equal(rc, OWLS_EIO);
        if (strstr(em.text, strerror(EFBIG)) == NULL)
            fail_msg("%s: \"%s\" does not name EFBIG", s_modes[i].name, em.text);
        owls_outfile_free(f);
        assert_int_equal(open_fds(), fds);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bytes_and_digest),
        cmocka_unit_test(test_failed_write),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
