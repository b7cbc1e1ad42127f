/*
 * cli.h - the owls-q4 command-line tool's subcommands. Each returns the
 * process exit status (sysexits.h) and prints failures as one stderr line
 * "owls-q4: <code>: <message>" (SPEC section 1).
 */
#ifndef OWLS_CLI_H
#define OWLS_CLI_H

#include <stdbool.h>
#include <sysexits.h>

#include "owls/artifacts.h"
#include "owls/config.h"
#include "owls/err.h"
#include "owls/services.h"

int owls_cli_split(int argc, char **argv);

/*
 * owls-q4 submit FILE [--run-id ID] [-c CONF] [-v]: upload FILE to the archive
 * bucket at run=<id>/input/<basename> (Content-Type from the extension),
 * then send {"input_key": ..., "run_id": ...} to the work queue; prints the
 * run id on stdout. A generated run id is the UTC "YYYY-MM-DD-HHMMSS-" and
 * the first 8 hex digits of FILE's sha256 (as `owls-q4 split` makes it).
 * Exit: 0, 64 usage, 65 invalid_run_id / unusable file name, 66 FILE
 * missing or unreadable, 69 aws, 78 config.
 */
int owls_cli_submit(int argc, char **argv);

/*
 * owls-q4 results RUN_ID -o DIR [--wait SECONDS] [-c CONF] [-v]: poll
 * (1 s, 2 s, 4 s, then every 5 s) until run=<id>/MANIFEST.json or
 * run=<id>/ERROR.json exists in the artifacts bucket (MANIFEST wins), or
 * --wait (default 0: look once) runs out. MANIFEST: every listed artifact is
 * downloaded under a temporary name in DIR and checked against its sha256
 * and size; only when all match are they renamed, MANIFEST.json last (an
 * older DIR/MANIFEST.json is removed first). ERROR.json: its code and
 * message printed as "owls-q4: <code>: <message>".
 * Exit: 0, 64 usage, 65 invalid_run_id / the run failed (ERROR.json) / an
 * artifact does not match MANIFEST.json, 69 aws, 73 DIR not writable,
 * 75 (EX_TEMPFAIL) nothing there yet after --wait, 78 config.
 */
int owls_cli_results(int argc, char **argv);

/* The AWS side of submit and results (src/cli/clicfg.c): the daemon's
 * configuration and the clients opened from it. Owned by the command. */
struct owls_cli_aws {
    struct owls_config *cfg;
    struct owls_services svc;
};

/*
 * Set up logging (stderr, warnings only; verbose: debug), load path (NULL:
 * /etc/owls-q4.conf) with the process environment and open the AWS clients.
 * Returns EX_OK, or prints the error line and returns its exit status (78
 * for the configuration, naming file, line and key); nothing is left open
 * then. Call before starting threads.
 */
int owls_cli_aws_open(const char *path, bool verbose, struct owls_cli_aws *out);
/* Close what owls_cli_aws_open() opened; a zeroed struct is fine. */
void owls_cli_aws_close(struct owls_cli_aws *a);

/* Parse a decimal number of seconds 0..max (digits only); false otherwise. */
bool owls_cli_parse_seconds(const char *s, long max, long *out);

/* Print "owls-q4: <code>: <message>" and return the exit status for rc. */
int owls_cli_fail(enum owls_err rc, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* getopt_long's answer ':' (an option without its value) or anything else
 * (an unknown option) as the one usage line for subcommand cmd; arg is
 * argv[optind - 1], the offending word. Returns the exit status (64). */
static inline int owls_cli_option_error(const char *cmd, int opt, const char *arg)
{
    if (opt == ':')
        return owls_cli_fail(OWLS_EUSAGE, "%s: option %s needs a value", cmd, arg);
    return owls_cli_fail(OWLS_EUSAGE, "%s: unknown option %s (try owls-q4 %s --help)", cmd, arg,
                         cmd);
}

/* EX_OK when run_id matches OWLS_RUN_ID_PATTERN (SPEC section 2); otherwise
 * the invalid_run_id line, and its exit status (65). */
static inline int owls_cli_check_run_id(const char *run_id)
{
    if (owls_run_id_valid(run_id))
        return EX_OK;
    return owls_cli_fail(OWLS_EINVALID_RUN_ID, "run id \"%.200s\" must match " OWLS_RUN_ID_PATTERN,
                         run_id);
}

#endif
