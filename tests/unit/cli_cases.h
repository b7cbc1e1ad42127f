/*
 * cli_cases.h - what the owls-q4 subcommands' unit tests share (header-only;
 * include once, after the command's source).
 *
 * The CLI's sources are not in libowls (they link only into owls-q4), so
 * those tests compile them into themselves; owls_cli_fail() lives in main.c,
 * next to main(), and is replaced here by a stub that records the code.
 * run_cli_cases() runs a table of command lines and checks each one's exit
 * status and the error code it reported.
 */
#ifndef CLI_CASES_H
#define CLI_CASES_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "owls/cli.h"
#include "owls/err.h"

static enum owls_err s_last_fail = OWLS_OK;

int owls_cli_fail(enum owls_err rc, const char *fmt, ...)
{
    (void)fmt;
    s_last_fail = rc;
    return owls_err_exit_status(rc);
}

struct cli_case {
    const char *name;
    const char *argv[8]; /* NULL-terminated */
    int status;
    enum owls_err code;
};

static void run_cli_cases(int (*cmd)(int, char **), const struct cli_case *cases, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        int argc = 0;
        char *argv[8];
        while (cases[i].argv[argc] != NULL) {
            argv[argc] = (char *)(uintptr_t)cases[i].argv[argc];
            argc++;
        }
        argv[argc] = NULL;
        print_message("case %s\n", cases[i].name);
        s_last_fail = OWLS_OK;
        assert_int_equal(cmd(argc, argv), cases[i].status);
        assert_int_equal(s_last_fail, cases[i].code);
    }
}

#endif
