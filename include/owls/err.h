/*
 * err.h - the one error enum of owls-q4d.
 *
 * Every fallible function returns enum owls_err. Codes from OWLS_EBAD_MESSAGE
 * on are the permanent job errors of SPEC section 6; their owls_err_code()
 * string is the one written to ERROR.json, done notifications and the CLI's
 * stderr line. Details (which file, line, row, column, key) travel next to
 * the code in a caller-owned struct owls_errmsg.
 */
#ifndef OWLS_ERR_H
#define OWLS_ERR_H

#include <stdbool.h>
#include <stddef.h>

enum owls_err {
    OWLS_OK = 0,
    /* environment and transport: never the job's fault */
    OWLS_ENOMEM,     /* allocation failed (normally fatal, see owls_xmalloc) */
    OWLS_EIO,        /* local file or socket I/O */
    OWLS_EUSAGE,     /* bad command line */
    OWLS_ECONFIG,    /* bad configuration */
    OWLS_ECRYPTO,    /* OpenSSL failure */
    OWLS_EAWS,       /* AWS answered with an error that is not transient */
    OWLS_ETRANSIENT, /* network error, 5xx, throttling: retry later */
    OWLS_EAUTH,      /* 403 or missing credentials: transient for a job */
    OWLS_ENOTFOUND,  /* 404 on an object or queue */
    OWLS_ETIMEOUT,   /* a wait ran out (e.g. results --wait) */
    OWLS_EINTERNAL,  /* a bug: an invariant did not hold */
    /* permanent job errors (SPEC section 6), in SPEC order */
    OWLS_EBAD_MESSAGE,
    OWLS_EINVALID_RUN_ID,
    OWLS_EFORBIDDEN_BUCKET,
    OWLS_EINPUT_NOT_FOUND,
    OWLS_EINPUT_TOO_LARGE,
    OWLS_EUNSUPPORTED_FORMAT,
    OWLS_EBAD_CSV,
    OWLS_EBAD_PARQUET,
    OWLS_EMISSING_VALUE,
    OWLS_ENOT_ENOUGH_NUMERIC_COLUMNS,
    OWLS_ENOT_ENOUGH_ROWS,
    OWLS_ERUN_CONFLICT,
    OWLS_ERR_COUNT
};

/* Human text for rc ("bad CSV input"); static storage, thread-safe. */
const char *owls_strerror(enum owls_err rc);

/* Machine code for rc as SPEC writes it ("bad_csv", "io", "config", "aws");
 * static storage, thread-safe. */
const char *owls_err_code(enum owls_err rc);

/* The code whose owls_err_code() is name, or OWLS_ERR_COUNT if none. */
enum owls_err owls_err_from_code(const char *name);

/* sysexits.h status for a command-line tool that fails with rc. */
int owls_err_exit_status(enum owls_err rc);

/* True for the permanent job errors of SPEC section 6. */
bool owls_err_is_permanent(enum owls_err rc);

/* The details of an error, filled by the function that detects it. */
struct owls_errmsg {
    char text[512];
};

/* Format into em (may be NULL: then nothing happens); returns rc so that
 * callers can write `return owls_errmsg_set(em, OWLS_EBAD_CSV, "...")`. */
enum owls_err owls_errmsg_set(struct owls_errmsg *em, enum owls_err rc, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
