/*
 * util.h - memory helpers. Out of memory is fatal (the daemon cannot do
 * anything useful without memory); bad input never is.
 */
#ifndef OWLS_UTIL_H
#define OWLS_UTIL_H

#include <stddef.h>

/* Like malloc/calloc/realloc/strdup but abort with a message on failure. */
void *owls_xmalloc(size_t n);
void *owls_xcalloc(size_t nmemb, size_t size);
void *owls_xrealloc(void *p, size_t n);
/* realloc(p, nmemb * size) with an overflow check. */
void *owls_xreallocarray(void *p, size_t nmemb, size_t size);
char *owls_xstrdup(const char *s);
char *owls_xstrndup(const char *s, size_t n);
/* asprintf that cannot fail; caller frees. */
char *owls_xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Wipe a NUL-terminated secret (OPENSSL_cleanse) and free it; NULL is fine. */
void owls_free_secret(char *s);

#define OWLS_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define OWLS_MIN(a, b)    ((a) < (b) ? (a) : (b))
#define OWLS_MAX(a, b)    ((a) > (b) ? (a) : (b))

/* Internals reachable from unit tests: static unless built for them. */
#ifdef OWLS_UNIT_TEST
#define OWLS_TESTABLE
#else
#define OWLS_TESTABLE static
#endif

#endif
