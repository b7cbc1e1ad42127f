/*
 * csv.h - the CSV reader: RFC 4180 input to a struct owls_table.
 *
 * libcsv (strict mode) is the authority for quoting: every record that holds
 * a '"' or a bare CR goes through it. Records that are plain lines take a
 * fast path (split at commas, numbers through owls_num_parse()), which the
 * differential tests and tests/fuzz/fuzz_csv.c prove equivalent to sending
 * every record through libcsv (opts.force_libcsv).
 *
 * Records end at LF or CR outside quotes (CRLF counts once); a blank line is
 * a record of one empty field; a UTF-8 BOM before the header is dropped;
 * fields are never trimmed. Errors name the source and the 1-based line.
 */
#ifndef OWLS_CSV_H
#define OWLS_CSV_H

#include <stdbool.h>
#include <stddef.h>

#include "owls/err.h"
#include "owls/table.h"

/* Told, every few MiB, that data[0..upto) will not be read again until the
 * write pass (and then once more, front to back): a file mapping may drop
 * those pages to keep the resident set small. */
typedef void (*owls_csv_release_fn)(void *arg, const char *data, size_t upto);

struct owls_csv_opts {
    bool force_libcsv;           /* every record through libcsv (differential testing) */
    owls_csv_release_fn release; /* optional, kept for the write pass */
    void *release_arg;
};

/*
 * Read data[0..len) (borrowed: it must stay valid and unchanged until the
 * table is freed; nothing past data[len - 1] is read). source names the input in messages. On
 * success *out is a table whose typing is decided (owls_table_decide()); caller frees with
 * owls_table_free(). On failure *out is NULL and em says what: OWLS_EBAD_CSV, OWLS_EMISSING_VALUE,
 * OWLS_ENOT_ENOUGH_NUMERIC_COLUMNS or OWLS_ENOT_ENOUGH_ROWS, in that order of precedence. opts may
 * be NULL.
 */
enum owls_err owls_csv_read(const char *data, size_t len, const char *source,
                            const struct owls_csv_opts *opts, struct owls_table **out,
                            struct owls_errmsg *em);

#endif
