#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "owls/buf.h"
#include "owls/util.h"

void owls_buf_init(struct owls_buf *b)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
}

void owls_buf_cleanup(struct owls_buf *b)
{
    free(b->data);
    owls_buf_init(b);
}

void owls_buf_cleanse(struct owls_buf *b)
{
    if (b->data != NULL)
        OPENSSL_cleanse(b->data, b->cap);
    owls_buf_cleanup(b);
}

void owls_buf_reserve(struct owls_buf *b, size_t n)
{
    size_t need = b->len + n + 1;
    size_t cap;

    if (need <= b->cap)
        return;
    cap = b->cap ? b->cap : 64;
    while (cap < need)
        cap = cap > ((size_t)-1) / 2 ? need : cap * 2;
    b->data = owls_xrealloc(b->data, cap);
    b->cap = cap;
}

void owls_buf_append(struct owls_buf *b, const void *p, size_t n)
{
    owls_buf_reserve(b, n);
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = '\0';
}

void owls_buf_putc(struct owls_buf *b, char c)
{
    owls_buf_append(b, &c, 1);
}

void owls_buf_puts(struct owls_buf *b, const char *s)
{
    owls_buf_append(b, s, strlen(s));
}

void owls_buf_printf(struct owls_buf *b, const char *fmt, ...)
{
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    owls_buf_reserve(b, (size_t)n);
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

void owls_buf_reset(struct owls_buf *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}

char *owls_buf_steal(struct owls_buf *b, size_t *len)
{
    char *p = b->data ? b->data : owls_xstrdup("");
    if (len)
        *len = b->len;
    owls_buf_init(b);
    return p;
}
