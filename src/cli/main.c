/*
 * owls-q4: run the Q4 split locally, submit jobs, fetch results.
 * main() only dispatches to the subcommands in src/cli/cmd_*.c.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sysexits.h>

#include "owls/cli.h"

static const char s_usage[] =
    "usage: owls-q4 split INPUT -o DIR [--run-id ID] [--threads N]\n"
    "       owls-q4 submit FILE [--run-id ID] [-c CONF] [-v]\n"
    "       owls-q4 results RUN_ID -o DIR [--wait SECONDS] [-c CONF] [-v]\n"
    "       owls-q4 --version | --help\n"
    "\n"
    "  split    run the Q4 four-quadrant split on a local CSV or Parquet file\n"
    "           and write Q_keep.csv, Q_discard.csv, Q_study.json, er.json and\n"
    "           MANIFEST.json into DIR (created if missing); --threads 1 keeps\n"
    "           the digests on the main thread too\n"
    "  submit   upload FILE to the archive bucket as run=<id>/input/<name> and\n"
    "           queue the job; prints the run id (generated when not given)\n"
    "  results  wait (--wait, default 0 = look once) for the run's MANIFEST.json,\n"
    "           download and verify its artifacts into DIR, or print the run's\n"
    "           ERROR.json; exits 75 if neither is there in time\n"
    "\n"
    "  -c CONF  configuration of submit and results (default /etc/owls-q4.conf),\n"
    "           overridden by the AWS environment variables; -v: log AWS calls\n";

int owls_cli_fail(enum owls_err rc, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    /* One line: a newline inside a message (e.g. from a CSV field) is shown escaped. */
    for (char *p = msg; *p; p++)
        if (*p == '\n' || *p == '\r')
            *p = ' ';
    fprintf(stderr, "owls-q4: %s: %s\n", owls_err_code(rc), msg);
    return owls_err_exit_status(rc);
}

int main(int argc, char **argv)
{
    if (argc < 2)
        return owls_cli_fail(OWLS_EUSAGE, "missing command (try owls-q4 --help)");
    if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
        fputs(s_usage, stdout);
        return EX_OK;
    }
    if (strcmp(argv[1], "--version") == 0) {
        printf("owls-q4 %s\n", OWLS_VERSION);
        return EX_OK;
    }
    if (strcmp(argv[1], "split") == 0)
        return owls_cli_split(argc - 1, argv + 1);
    if (strcmp(argv[1], "submit") == 0)
        return owls_cli_submit(argc - 1, argv + 1);
    if (strcmp(argv[1], "results") == 0)
        return owls_cli_results(argc - 1, argv + 1);
    return owls_cli_fail(OWLS_EUSAGE, "unknown command \"%s\" (try owls-q4 --help)", argv[1]);
}
