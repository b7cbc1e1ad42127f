/*
 * buf.h - a growable byte buffer, always NUL-terminated after len bytes.
 * Caller storage: owls_buf_init/owls_buf_cleanup. Not thread-safe.
 */
#ifndef OWLS_BUF_H
#define OWLS_BUF_H

#include <stddef.h>

struct owls_buf {
    char *data; /* owned; NULL until the first append */
    size_t len;
    size_t cap;
};

void owls_buf_init(struct owls_buf *b);
void owls_buf_cleanup(struct owls_buf *b);
/* owls_buf_cleanup() after wiping all of the storage (OPENSSL_cleanse): for
 * buffers that held a secret. */
void owls_buf_cleanse(struct owls_buf *b);
/* Make room for n more bytes (plus the NUL). */
void owls_buf_reserve(struct owls_buf *b, size_t n);
void owls_buf_append(struct owls_buf *b, const void *p, size_t n);
void owls_buf_putc(struct owls_buf *b, char c);
void owls_buf_puts(struct owls_buf *b, const char *s);
void owls_buf_printf(struct owls_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void owls_buf_reset(struct owls_buf *b);
/* Hand the bytes over to the caller (free()); b is left empty. */
char *owls_buf_steal(struct owls_buf *b, size_t *len);

#endif
