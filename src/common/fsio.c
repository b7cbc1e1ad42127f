#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "owls/fsio.h"
#include "owls/util.h"

#define OUT_BUF_SIZE (1u << 20)

enum owls_err owls_file_read(const char *path, char **data, size_t *len, struct owls_errmsg *em)
{
    enum owls_err rc = OWLS_EIO;
    struct stat st;
    char *buf = NULL;
    size_t cap, n = 0;
    int fd;

    *data = NULL;
    *len = 0;
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return owls_errmsg_set(em, errno == ENOENT ? OWLS_ENOTFOUND : OWLS_EIO, "%s: %s", path,
                               strerror(errno));
    }
    if (fstat(fd, &st) != 0) {
        owls_errmsg_set(em, rc, "%s: %s", path, strerror(errno));
        goto out;
    }
    if (S_ISDIR(st.st_mode)) {
        owls_errmsg_set(em, rc, "%s: is a directory", path);
        goto out;
    }
    /* Regular files come in one allocation; pipes grow as they go. */
    cap = S_ISREG(st.st_mode) ? (size_t)st.st_size + 1 : 65536;
    buf = owls_xmalloc(cap);
    for (;;) {
        ssize_t r;
        if (n + 1 >= cap) {
            cap *= 2;
            buf = owls_xrealloc(buf, cap);
        }
        r = read(fd, buf + n, cap - 1 - n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            owls_errmsg_set(em, rc, "%s: %s", path, strerror(errno));
            goto out;
        }
        if (r == 0)
            break;
        n += (size_t)r;
    }
    buf[n] = '\0';
    *data = buf;
    *len = n;
    buf = NULL;
    rc = OWLS_OK;
out:
    free(buf);
    close(fd);
    return rc;
}

enum owls_err owls_write_all(int fd, const void *p, size_t n)
{
    const char *c = p;
    while (n > 0) {
        ssize_t w = write(fd, c, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return OWLS_EIO;
        c += w;
        n -= (size_t)w;
    }
    return OWLS_OK;
}

enum owls_err owls_mkdirs(const char *path, struct owls_errmsg *em)
{
    char *p = owls_xstrdup(path);
    enum owls_err rc = OWLS_OK;

    for (char *s = p + 1;; s++) {
        char c = *s;
        if (c != '/' && c != '\0')
            continue;
        *s = '\0';
        if (mkdir(p, 0755) != 0 && errno != EEXIST) {
            rc = owls_errmsg_set(em, OWLS_EIO, "%s: %s", p, strerror(errno));
            break;
        }
        *s = c;
        if (c == '\0')
            break;
    }
    free(p);
    return rc;
}

struct owls_outfile {
    int fd;
    bool committed;
    bool durable;
    /* OWLS_OUTFILE_BACKGROUND: full buffers go to a writer thread, which
     * hashes and writes them while the caller fills the other buffer. */
    bool bg;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    char *spare; /* the buffer not being filled */
    size_t spare_len;
    bool busy; /* the writer owns spare */
    bool quit;
    enum owls_err bg_rc;
    int err; /* errno of the first failed write, whichever thread made it */
    char *dir;
    char *name;
    char *tmp;
    char *buf;
    size_t len;
    uint64_t bytes;
    struct owls_sha256 *sha;
    char hex[OWLS_SHA256_HEX];
};

static void *writer_main(void *arg)
{
    struct owls_outfile *f = arg;

    pthread_mutex_lock(&f->mu);
    for (;;) {
        while (!f->busy && !f->quit)
            pthread_cond_wait(&f->cv, &f->mu);
        if (!f->busy)
            break;
        pthread_mutex_unlock(&f->mu);
        owls_sha256_update(f->sha, f->spare, f->spare_len);
        enum owls_err rc = owls_write_all(f->fd, f->spare, f->spare_len);
        int e = errno;
        pthread_mutex_lock(&f->mu);
        if (rc != OWLS_OK && f->bg_rc == OWLS_OK) {
            f->bg_rc = rc;
            f->err = e;
        }
        f->busy = false;
        pthread_cond_broadcast(&f->cv);
    }
    pthread_mutex_unlock(&f->mu);
    return NULL;
}

enum owls_err owls_outfile_open(const char *dir, const char *name, unsigned flags,
                                struct owls_outfile **out, struct owls_errmsg *em)
{
    struct owls_outfile *f = owls_xcalloc(1, sizeof(*f));

    f->durable = flags & OWLS_OUTFILE_DURABLE;
    f->dir = owls_xstrdup(dir);
    f->name = owls_xstrdup(name);
    f->tmp = owls_xasprintf("%s/.%s.XXXXXX", dir, name);
    f->fd = mkostemp(f->tmp, O_CLOEXEC);
    if (f->fd < 0) {
        enum owls_err rc = owls_errmsg_set(em, OWLS_EIO, "%s: %s", f->tmp, strerror(errno));
        free(f->tmp);
        f->tmp = NULL;
        owls_outfile_free(f);
        *out = NULL;
        return rc;
    }
    fchmod(f->fd, 0644);
    f->buf = owls_xmalloc(OUT_BUF_SIZE);
    f->sha = owls_sha256_new();
    if (flags & OWLS_OUTFILE_BACKGROUND) {
        f->spare = owls_xmalloc(OUT_BUF_SIZE);
        pthread_mutex_init(&f->mu, NULL);
        pthread_cond_init(&f->cv, NULL);
        /* No thread, no harm: the file is then written synchronously. */
        f->bg = pthread_create(&f->thread, NULL, writer_main, f) == 0;
    }
    *out = f;
    return OWLS_OK;
}

/* Background mode: wait until the writer is idle; its first error, if any. */
static enum owls_err writer_idle(struct owls_outfile *f)
{
    enum owls_err rc;
    pthread_mutex_lock(&f->mu);
    while (f->busy)
        pthread_cond_wait(&f->cv, &f->mu);
    rc = f->bg_rc;
    pthread_mutex_unlock(&f->mu);
    return rc;
}

static void writer_stop(struct owls_outfile *f)
{
    if (!f->bg)
        return;
    pthread_mutex_lock(&f->mu);
    f->quit = true;
    pthread_cond_broadcast(&f->cv);
    pthread_mutex_unlock(&f->mu);
    pthread_join(f->thread, NULL);
    pthread_mutex_destroy(&f->mu);
    pthread_cond_destroy(&f->cv);
    f->bg = false;
}

static enum owls_err flush_buf(struct owls_outfile *f)
{
    enum owls_err rc;
    char *full;

    if (f->len == 0)
        return OWLS_OK;
    if (!f->bg) {
        owls_sha256_update(f->sha, f->buf, f->len);
        if ((rc = owls_write_all(f->fd, f->buf, f->len)) != OWLS_OK && f->err == 0)
            f->err = errno;
        f->len = 0;
        return rc;
    }
    /* Hand the full buffer over and go on filling the spare one. */
    if ((rc = writer_idle(f)) != OWLS_OK)
        return rc;
    full = f->buf;
    pthread_mutex_lock(&f->mu);
    f->buf = f->spare;
    f->spare = full;
    f->spare_len = f->len;
    f->busy = true;
    pthread_cond_broadcast(&f->cv);
    pthread_mutex_unlock(&f->mu);
    f->len = 0;
    return OWLS_OK;
}

enum owls_err owls_outfile_write(struct owls_outfile *f, const void *p, size_t n)
{
    const char *c = p;

    f->bytes += n;
    while (f->len + n > OUT_BUF_SIZE) {
        enum owls_err rc;
        size_t room = OUT_BUF_SIZE - f->len;
        if (f->len == 0 && !f->bg) {
            /* Big and synchronous: straight from the caller's memory. */
            owls_sha256_update(f->sha, c, n);
            if ((rc = owls_write_all(f->fd, c, n)) != OWLS_OK && f->err == 0)
                f->err = errno;
            return rc;
        }
        memcpy(f->buf + f->len, c, room);
        f->len += room;
        c += room;
        n -= room;
        if ((rc = flush_buf(f)) != OWLS_OK)
            return rc;
    }
    memcpy(f->buf + f->len, c, n);
    f->len += n;
    return OWLS_OK;
}

enum owls_err owls_outfile_close(struct owls_outfile *f, struct owls_errmsg *em)
{
    unsigned char md[OWLS_SHA256_LEN];
    enum owls_err rc = flush_buf(f);

    if (rc == OWLS_OK && f->bg)
        rc = writer_idle(f);
    writer_stop(f);                   /* f->err is ours alone from here */
    if (rc == OWLS_OK && f->err != 0) /* a write failed before: sticky */
        rc = OWLS_EIO;
    if (rc == OWLS_OK && f->durable && fsync(f->fd) != 0) {
        f->err = errno;
        rc = OWLS_EIO;
    }
    /* Closed whatever happened before: a failed write must not leak it. */
    if (close(f->fd) != 0 && rc == OWLS_OK) {
        f->err = errno;
        rc = OWLS_EIO;
    }
    f->fd = -1;
    if (rc != OWLS_OK)
        return owls_errmsg_set(em, OWLS_EIO, "%s: %s", f->tmp, strerror(f->err ? f->err : EIO));
    owls_sha256_final(f->sha, md);
    owls_hex(md, sizeof(md), f->hex);
    return OWLS_OK;
}

enum owls_err owls_outfile_commit(struct owls_outfile *f, struct owls_errmsg *em)
{
    char *final = owls_xasprintf("%s/%s", f->dir, f->name);
    enum owls_err rc = OWLS_OK;

    if (rename(f->tmp, final) != 0)
        rc = owls_errmsg_set(em, OWLS_EIO, "%s: %s", final, strerror(errno));
    else
        f->committed = true;
    free(final);
    return rc;
}

void owls_outfile_free(struct owls_outfile *f)
{
    if (f == NULL)
        return;
    writer_stop(f);
    if (f->fd >= 0)
        close(f->fd);
    if (f->tmp && !f->committed)
        unlink(f->tmp);
    owls_sha256_free(f->sha);
    free(f->buf);
    free(f->spare);
    free(f->tmp);
    free(f->name);
    free(f->dir);
    free(f);
}

uint64_t owls_outfile_bytes(const struct owls_outfile *f)
{
    return f->bytes;
}

const char *owls_outfile_sha256(const struct owls_outfile *f)
{
    return f->hex;
}

const char *owls_outfile_tmp_path(const struct owls_outfile *f)
{
    return f->tmp;
}

const char *owls_outfile_name(const struct owls_outfile *f)
{
    return f->name;
}

enum owls_err owls_fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    enum owls_err rc = OWLS_OK;
    if (fd < 0)
        return OWLS_EIO;
    if (fsync(fd) != 0)
        rc = OWLS_EIO;
    close(fd);
    return rc;
}
