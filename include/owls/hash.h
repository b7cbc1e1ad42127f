/*
 * hash.h - SHA-256, HMAC-SHA256 and hex, over OpenSSL's EVP interface.
 * All functions are thread-safe; contexts belong to one thread at a time.
 */
#ifndef OWLS_HASH_H
#define OWLS_HASH_H

#include <stdbool.h>
#include <stddef.h>

#define OWLS_SHA256_LEN 32
#define OWLS_SHA256_HEX (2 * OWLS_SHA256_LEN + 1)

struct owls_sha256; /* opaque streaming context */

/* A new context; caller frees with owls_sha256_free(). Fatal on OOM. */
struct owls_sha256 *owls_sha256_new(void);
void owls_sha256_update(struct owls_sha256 *c, const void *p, size_t n);
/* Finish into out and reset the context for reuse. */
void owls_sha256_final(struct owls_sha256 *c, unsigned char out[OWLS_SHA256_LEN]);
void owls_sha256_free(struct owls_sha256 *c);

/* One-shot digest of p[0..n). */
void owls_sha256(const void *p, size_t n, unsigned char out[OWLS_SHA256_LEN]);
/* One-shot digest as lowercase hex into hex (OWLS_SHA256_HEX bytes). */
void owls_sha256_hex(const void *p, size_t n, char hex[OWLS_SHA256_HEX]);

/* HMAC-SHA256(key, msg) into out; false on an OpenSSL failure. */
bool owls_hmac_sha256(const void *key, size_t klen, const void *msg, size_t mlen,
                      unsigned char out[OWLS_SHA256_LEN]);

/* The value of hex digit c (either case), or -1. */
static inline int owls_hex_digit(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Lowercase hex of p[0..n) into out (2n+1 bytes, NUL-terminated). */
void owls_hex(const unsigned char *p, size_t n, char *out);

#endif
