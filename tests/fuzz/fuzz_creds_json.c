/*
 * fuzz_creds_json.c - the credentials documents that container endpoints and
 * EC2 instance metadata send (untrusted network bytes): owls_creds_from_json()
 * and its RFC 3339 parser must never crash, leak or accept a key with a
 * control character in it (it would end up in an HTTP header).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "owls/creds.h"
#include "owls/private/creds.h"
#include "owls/util.h"

static int has_ctl(const char *s)
{
    for (; s && *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return 1;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct owls_creds c;
    struct owls_errmsg em;
    char *s = owls_xstrndup((const char *)data, size);
    time_t t;

    if (owls_creds_from_json((const char *)data, size, &c, &em) == OWLS_OK) {
        if (c.access_key_id == NULL || c.secret_access_key == NULL || has_ctl(c.access_key_id) ||
            has_ctl(c.secret_access_key) || has_ctl(c.session_token))
            abort();
        owls_creds_cleanup(&c);
    }
    (void)owls_creds_parse_rfc3339(s, &t);
    free(s);
    return 0;
}
