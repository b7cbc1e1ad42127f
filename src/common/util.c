#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "owls/util.h"

static void oom(size_t n)
{
    /* No allocation, no stdio buffering: just say it and stop. */
    char msg[96];
    int len = snprintf(msg, sizeof(msg), "owls: out of memory (%zu bytes)\n", n);
    if (len > 0)
        fwrite(msg, 1, (size_t)len, stderr);
    abort();
}

void *owls_xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (p == NULL)
        oom(n);
    return p;
}

void *owls_xcalloc(size_t nmemb, size_t size)
{
    void *p = calloc(nmemb ? nmemb : 1, size ? size : 1);
    if (p == NULL)
        oom(nmemb * size);
    return p;
}

void *owls_xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n ? n : 1);
    if (q == NULL)
        oom(n);
    return q;
}

void *owls_xreallocarray(void *p, size_t nmemb, size_t size)
{
    if (size != 0 && nmemb > (size_t)-1 / size)
        oom((size_t)-1);
    return owls_xrealloc(p, nmemb * size);
}

char *owls_xstrdup(const char *s)
{
    return owls_xstrndup(s, strlen(s));
}

char *owls_xstrndup(const char *s, size_t n)
{
    char *p = owls_xmalloc(n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

char *owls_xasprintf(const char *fmt, ...)
{
    va_list ap;
    char *s = NULL;

    va_start(ap, fmt);
    if (vasprintf(&s, fmt, ap) < 0)
        oom(0);
    va_end(ap);
    return s;
}

void owls_free_secret(char *s)
{
    if (s == NULL)
        return;
    OPENSSL_cleanse(s, strlen(s));
    free(s);
}
