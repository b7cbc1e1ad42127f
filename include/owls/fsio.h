/*
 * fsio.h - local file I/O: whole-file reads and output files that appear
 * under their final name only when complete (temporary name + rename).
 */
#ifndef OWLS_FSIO_H
#define OWLS_FSIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "owls/err.h"
#include "owls/hash.h"

/* Read all of path into *data (malloc'd, caller frees, one NUL byte after
 * the last one so parsers may rely on a terminator) and its size into *len.
 * OWLS_ENOTFOUND if it does not exist, OWLS_EIO otherwise; em names path. */
enum owls_err owls_file_read(const char *path, char **data, size_t *len, struct owls_errmsg *em);

/* Write n bytes to fd, riding out EINTR and short writes. */
enum owls_err owls_write_all(int fd, const void *p, size_t n);

/* mkdir -p path (mode 0755). */
enum owls_err owls_mkdirs(const char *path, struct owls_errmsg *em);

/*
 * An output file under construction: bytes go to "<dir>/.<name>.XXXXXX"
 * through a buffer, counted and hashed on the way; owls_outfile_close()
 * flushes (and fsyncs when opened durable); owls_outfile_commit() renames it
 * to "<dir>/<name>". With OWLS_OUTFILE_BACKGROUND a writer thread of the
 * file's own hashes and writes each full buffer while the caller fills the
 * next one (same bytes, same digest).
 * owls_outfile_free() removes the temporary file unless it was committed.
 * One thread at a time.
 */
struct owls_outfile;

#define OWLS_OUTFILE_DURABLE    1u /* fsync the file on close */
#define OWLS_OUTFILE_BACKGROUND 2u /* hash and write on a thread of its own */

enum owls_err owls_outfile_open(const char *dir, const char *name, unsigned flags,
                                struct owls_outfile **out, struct owls_errmsg *em);
enum owls_err owls_outfile_write(struct owls_outfile *f, const void *p, size_t n);
enum owls_err owls_outfile_close(struct owls_outfile *f, struct owls_errmsg *em);
enum owls_err owls_outfile_commit(struct owls_outfile *f, struct owls_errmsg *em);
void owls_outfile_free(struct owls_outfile *f);

/* After owls_outfile_close(): size, lowercase hex SHA-256, paths (borrowed). */
uint64_t owls_outfile_bytes(const struct owls_outfile *f);
const char *owls_outfile_sha256(const struct owls_outfile *f);
const char *owls_outfile_tmp_path(const struct owls_outfile *f);
const char *owls_outfile_name(const struct owls_outfile *f);

/* fsync the directory itself, so renames inside it are durable. */
enum owls_err owls_fsync_dir(const char *dir);

#endif
