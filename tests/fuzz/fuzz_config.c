/*
 * fuzz_config.c - owls_config_load_string() over arbitrary bytes.
 *
 * Input: the configuration text, optionally preceded by one byte 0x01..0x07
 * that picks an environment preset (a real configuration can never start
 * with such a byte: it would be an error anyway). Checks, beyond the
 * sanitizers:
 *   - a failure is OWLS_ECONFIG, leaves *out NULL and names the file;
 *   - a success prints (owls_config_print) to text that loads again, with
 *     the same environment, to an equal configuration (the round trip that
 *     --check-config promises), and never shows the secret variables.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "owls/config.h"

#define NAME   "fuzz.conf"
#define SECRET "SECRETfuzzVALUE"

static char *s_env0[] = {NULL};
static char *s_env1[] = {"AWS_REGION=eu-west-1", "AWS_ENDPOINT_URL=http://127.0.0.1:4566", NULL};
static char *s_env2[] = {"AWS_DEFAULT_REGION=ap-south-1",
                         "AWS_ENDPOINT_URL_SQS=http://[::1]:9324/",
                         "AWS_ENDPOINT_URL_S3=https://s3.example.com",
                         "AWS_ACCESS_KEY_ID=AKIA0123456789ABCDEF",
                         "AWS_SECRET_ACCESS_KEY=" SECRET,
                         "AWS_SESSION_TOKEN=" SECRET,
                         "AWS_PROFILE=x\n[aws]\nregion = zz-top-1 # injected",
                         NULL};
static char *s_env3[] = {"AWS_REGION=Bad Region", NULL};
static char *s_env4[] = {"AWS_CA_BUNDLE=/nonexistent/ca.pem", NULL};
static char *s_env5[] = {"AWS_REGION=", "AWS_ENDPOINT_URL=", "AWS_DEFAULT_REGION=us-west-2", NULL};
static char *s_env6[] = {"AWS_ENDPOINT_URL_SQS=ftp://x", NULL};
static char *s_env7[] = {"AWS_ENDPOINT_URL=http://h:1", "AWS_REGION=eu-north-1", NULL};

static char *const *const s_envs[] = {s_env0, s_env1, s_env2, s_env3,
                                      s_env4, s_env5, s_env6, s_env7};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *const *env = s_envs[0];
    struct owls_config *c = NULL, *again = NULL;
    struct owls_errmsg em = {{0}};
    enum owls_err rc;
    char *printed = NULL;
    size_t plen = 0;
    FILE *f;

    if (size > 0 && data[0] >= 1 && data[0] <= 7) {
        env = s_envs[data[0]];
        data++;
        size--;
    }
    rc = owls_config_load_string((const char *)data, size, NAME, env, &c, &em);
    if (rc != OWLS_OK) {
        if (rc != OWLS_ECONFIG || c != NULL || strncmp(em.text, NAME, strlen(NAME)) != 0)
            abort();
        return 0;
    }
    f = open_memstream(&printed, &plen);
    if (f == NULL)
        abort();
    owls_config_print(c, f);
    if (fclose(f) != 0)
        abort();
    /* Secrets from the environment never show (unless the file itself
     * carries the same bytes, which is no leak). */
    if (memmem(data, size, SECRET, strlen(SECRET)) == NULL && strstr(printed, SECRET) != NULL)
        abort();
    if (memmem(data, size, "AKIA0123", 8) == NULL && strstr(printed, "AKIA0123") != NULL)
        abort();
    rc = owls_config_load_string(printed, plen, "printed", env, &again, &em);
    if (rc != OWLS_OK) {
        fprintf(stderr, "round trip: %s\n%s\n", em.text, printed);
        abort();
    }
    if (!owls_config_equal(c, again)) {
        fprintf(stderr, "round trip changed the configuration:\n%s\n", printed);
        abort();
    }
    owls_config_free(again);
    owls_config_free(c);
    free(printed);
    return 0;
}
