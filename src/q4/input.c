#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "owls/csv.h"
#include "owls/fsio.h"
#include "owls/input.h"
#include "owls/parquet.h"

enum owls_err owls_input_map_file(const char *path, struct owls_input *in, struct owls_errmsg *em)
{
    char *data;
    size_t len;
    struct stat st;
    enum owls_err rc;
    int fd;

    memset(in, 0, sizeof(*in));
    /* A regular, non-empty file is mapped: no copy, no zeroed pages. */
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd >= 0 && fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0 &&
        (uint64_t)st.st_size <= SIZE_MAX) {
        void *p = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
        if (p != MAP_FAILED) {
            close(fd);
            in->data = p;
            in->len = in->map_len = (size_t)st.st_size;
            return OWLS_OK;
        }
    }
    if (fd >= 0)
        close(fd);
    rc = owls_file_read(path, &data, &len, em);
    if (rc != OWLS_OK)
        return rc;
    in->data = data;
    in->len = len;
    return OWLS_OK;
}

void owls_input_hash(struct owls_input *in)
{
    owls_sha256_hex(in->data, in->len, in->sha256);
}

enum owls_err owls_input_load_file(const char *path, struct owls_input *in, struct owls_errmsg *em)
{
    enum owls_err rc = owls_input_map_file(path, in, em);
    if (rc == OWLS_OK)
        owls_input_hash(in);
    return rc;
}

void owls_input_adopt(struct owls_input *in, char *data, size_t len)
{
    in->data = data;
    in->len = len;
    owls_sha256_hex(data, len, in->sha256);
}

void owls_input_cleanup(struct owls_input *in)
{
    if (in->map_len)
        munmap(in->data, in->map_len);
    else
        free(in->data);
    memset(in, 0, sizeof(*in));
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcasecmp(s + n - m, suffix) == 0;
}

enum owls_format owls_format_detect(enum owls_format requested, const char *key, const char *data,
                                    size_t len)
{
    if (requested != OWLS_FORMAT_AUTO)
        return requested;
    if (key && ends_with(key, ".csv"))
        return OWLS_FORMAT_CSV;
    if (key && ends_with(key, ".parquet"))
        return OWLS_FORMAT_PARQUET;
    if (len >= 4 && memcmp(data, "PAR1", 4) == 0)
        return OWLS_FORMAT_PARQUET;
    return OWLS_FORMAT_CSV;
}

/* For the CSV reader: drop the pages of a file mapping it has read; they
 * come back from the page cache when the write pass reads them again. */
static void release_mapped(void *arg, const char *data, size_t upto)
{
    const struct owls_input *in = arg;
    const uintptr_t page = (uintptr_t)sysconf(_SC_PAGESIZE);
    uintptr_t b = (uintptr_t)data & ~(page - 1), e = ((uintptr_t)data + upto) & ~(page - 1);

    if (in->map_len && e > b)
        (void)madvise((void *)b, e - b, MADV_DONTNEED);
}

enum owls_err owls_input_read_table(const struct owls_input *in, enum owls_format fmt,
                                    const char *source, struct owls_table **out,
                                    struct owls_errmsg *em)
{
    *out = NULL;
    switch (fmt) {
    case OWLS_FORMAT_CSV:
        if (in->map_len) {
            const struct owls_csv_opts o = {.release = release_mapped,
                                            .release_arg = (void *)(uintptr_t)in};
            return owls_csv_read(in->data, in->len, source, &o, out, em);
        }
        return owls_csv_read(in->data, in->len, source, NULL, out, em);
    case OWLS_FORMAT_PARQUET:
        return owls_parquet_read(in->data, in->len, source, out, em);
    case OWLS_FORMAT_AUTO:
        break;
    }
    return owls_errmsg_set(em, OWLS_EINTERNAL, "%s: no format chosen", source);
}
