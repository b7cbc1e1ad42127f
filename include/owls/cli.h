/*
 * cli.h - the owls-q4 command-line tool's subcommands. Each returns the
 * process exit status (sysexits.h) and prints failures as one stderr line
 * "owls-q4: <code>: <message>" (SPEC section 1).
 */
#ifndef OWLS_CLI_H
#define OWLS_CLI_H

#include "owls/err.h"

int owls_cli_split(int argc, char **argv);

/* Print "owls-q4: <code>: <message>" and return the exit status for rc. */
int owls_cli_fail(enum owls_err rc, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
