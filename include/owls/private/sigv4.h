/*
 * private/sigv4.h - signer internals reachable from tests/unit/test_sigv4.c
 * (built with -DOWLS_UNIT_TEST). Not part of the API.
 */
#ifndef OWLS_PRIVATE_SIGV4_H
#define OWLS_PRIVATE_SIGV4_H

#include <stdbool.h>
#include <stddef.h>

/* Derived-key cache counters since the last owls_sigv4_cache_clear(). */
struct owls_sigv4_cache_stats {
    unsigned long hits;   /* a signing key was reused */
    unsigned long misses; /* a signing key was derived */
    size_t entries;       /* keys held now */
};
void owls_sigv4_cache_stats(struct owls_sigv4_cache_stats *st);

/* The canonical URI of path: dot segments removed and empty segments
 * collapsed when normalize; every byte but unreserved and '/' percent-encoded
 * (so an existing "%" becomes "%25") when double_encode; else path as is.
 * Caller frees. */
char *owls_sigv4_canonical_uri(const char *path, bool double_encode, bool normalize);

/* The canonical query of query ("a=1&b=2", NULL or "" = none): each name
 * and value percent-decoded then RFC 3986-encoded, sorted by name then value,
 * joined with '&'. Caller frees. */
char *owls_sigv4_canonical_query(const char *query);

/* Lowercase hex signing key derived from secret, date ("YYYYMMDD"), region
 * and service, bypassing the cache (for tests that check the cache against
 * it). false on an OpenSSL failure. */
bool owls_sigv4_derive_key_hex(const char *secret, const char *date, const char *region,
                               const char *service, char hex[65]);

#endif
