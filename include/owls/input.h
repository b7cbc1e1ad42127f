/*
 * input.h - one job's input object in memory: its bytes, their SHA-256, and
 * the format to read them with (SPEC section 2: the job's "format", else the
 * key's extension, else the content's PAR1 magic).
 */
#ifndef OWLS_INPUT_H
#define OWLS_INPUT_H

#include <stddef.h>

#include "owls/err.h"
#include "owls/hash.h"
#include "owls/table.h"

struct owls_input {
    char *data; /* owned: malloc'd, or a read-only private file mapping */
    size_t len;
    size_t map_len; /* nonzero: data is mmap'ed */
    char sha256[OWLS_SHA256_HEX];
};

/* Load a local file (OWLS_ENOTFOUND / OWLS_EIO with em naming it); regular
 * files are mapped, not copied. Readers must not read past data[len - 1]. */
enum owls_err owls_input_load_file(const char *path, struct owls_input *in, struct owls_errmsg *em);
/* The same without the digest (in->sha256 is empty): the caller computes
 * it, e.g. on another thread, with owls_input_hash(). */
enum owls_err owls_input_map_file(const char *path, struct owls_input *in, struct owls_errmsg *em);
/* Fill in->sha256. Reads in->data only: may run on another thread while the
 * table is read. */
void owls_input_hash(struct owls_input *in);

/* Take ownership of data[0..len) (malloc'd). */
void owls_input_adopt(struct owls_input *in, char *data, size_t len);
void owls_input_cleanup(struct owls_input *in);

/* requested if not AUTO; else by key's extension (.csv, .parquet, any case);
 * else PAR1 magic means Parquet, anything else CSV. */
enum owls_format owls_format_detect(enum owls_format requested, const char *key, const char *data,
                                    size_t len);

/* Read the table from in with the reader for fmt (not AUTO). The table
 * borrows in itself (and in->data): keep in alive, at the same address,
 * until the table is freed. A mapped input's pages are released as they are
 * read and fault back in for the write pass. */
enum owls_err owls_input_read_table(const struct owls_input *in, enum owls_format fmt,
                                    const char *source, struct owls_table **out,
                                    struct owls_errmsg *em);

#endif
