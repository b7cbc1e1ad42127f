#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "owls/hash.h"
#include "owls/util.h"

struct owls_sha256 {
    EVP_MD_CTX *ctx;
};

static void crypto_fatal(const char *what)
{
    /* EVP digest calls fail only on allocation or a broken library. */
    fprintf(stderr, "owls: OpenSSL %s failed\n", what);
    abort();
}

struct owls_sha256 *owls_sha256_new(void)
{
    struct owls_sha256 *c = owls_xmalloc(sizeof(*c));
    c->ctx = EVP_MD_CTX_new();
    if (c->ctx == NULL || EVP_DigestInit_ex(c->ctx, EVP_sha256(), NULL) != 1)
        crypto_fatal("EVP_DigestInit_ex");
    return c;
}

void owls_sha256_update(struct owls_sha256 *c, const void *p, size_t n)
{
    if (n && EVP_DigestUpdate(c->ctx, p, n) != 1)
        crypto_fatal("EVP_DigestUpdate");
}

void owls_sha256_final(struct owls_sha256 *c, unsigned char out[OWLS_SHA256_LEN])
{
    unsigned int len = 0;
    if (EVP_DigestFinal_ex(c->ctx, out, &len) != 1 || len != OWLS_SHA256_LEN)
        crypto_fatal("EVP_DigestFinal_ex");
    if (EVP_DigestInit_ex(c->ctx, EVP_sha256(), NULL) != 1)
        crypto_fatal("EVP_DigestInit_ex");
}

void owls_sha256_free(struct owls_sha256 *c)
{
    if (c == NULL)
        return;
    EVP_MD_CTX_free(c->ctx);
    free(c);
}

void owls_sha256(const void *p, size_t n, unsigned char out[OWLS_SHA256_LEN])
{
    unsigned int len = 0;
    if (EVP_Digest(p, n, out, &len, EVP_sha256(), NULL) != 1 || len != OWLS_SHA256_LEN)
        crypto_fatal("EVP_Digest");
}

void owls_sha256_hex(const void *p, size_t n, char hex[OWLS_SHA256_HEX])
{
    unsigned char md[OWLS_SHA256_LEN];
    owls_sha256(p, n, md);
    owls_hex(md, sizeof(md), hex);
}

bool owls_hmac_sha256(const void *key, size_t klen, const void *msg, size_t mlen,
                      unsigned char out[OWLS_SHA256_LEN])
{
    unsigned int len = 0;
    if (klen > (size_t)INT32_MAX)
        return false;
    if (HMAC(EVP_sha256(), key, (int)klen, msg, mlen, out, &len) == NULL)
        return false;
    return len == OWLS_SHA256_LEN;
}

void owls_hex(const unsigned char *p, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[p[i] >> 4];
        out[2 * i + 1] = digits[p[i] & 0xf];
    }
    out[2 * n] = '\0';
}
