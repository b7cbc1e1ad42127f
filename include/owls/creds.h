/*
 * creds.h - the AWS credentials chain, in the SDKs' order:
 *   1. environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN)
 *   2. shared credentials / config files (AWS_SHARED_CREDENTIALS_FILE,
 *      AWS_CONFIG_FILE, AWS_PROFILE; defaults ~/.aws/credentials, ~/.aws/config)
 *   3. container credentials (AWS_CONTAINER_CREDENTIALS_RELATIVE_URI or
 *      _FULL_URI, with AWS_CONTAINER_AUTHORIZATION_TOKEN[_FILE])
 *   4. EC2 instance profile over IMDSv2 (unless AWS_EC2_METADATA_DISABLED=true)
 *
 * Temporary credentials are refreshed well before they expire. Thread-safe:
 * any number of threads may call owls_creds_get() at once; one refreshes,
 * the others keep using the still-valid copy. Secrets are never logged and
 * are cleansed when dropped.
 */
#ifndef OWLS_CREDS_H
#define OWLS_CREDS_H

#include "owls/err.h"
#include "owls/sigv4.h"

struct owls_creds_provider;

struct owls_creds_opts {
    const char *profile;       /* NULL: $AWS_PROFILE, else "default" */
    const char *imds_endpoint; /* NULL: $AWS_EC2_METADATA_SERVICE_ENDPOINT, else
                                  http://169.254.169.254 */
    long timeout_ms;           /* per metadata request; 0 = 1000 */
};

/* Build the chain (reads nothing yet). opts may be NULL; its strings are
 * copied. Caller frees with owls_creds_provider_free(). */
enum owls_err owls_creds_provider_new(const struct owls_creds_opts *opts,
                                      struct owls_creds_provider **out);
/* A copy of the current credentials into *out (caller cleans up with
 * owls_creds_cleanup()). OWLS_EAUTH with em when no source has any;
 * OWLS_ETRANSIENT when a source that should answer (IMDS, container) fails;
 * OWLS_ECONFIG when the configuration is wrong: a profile named by
 * opts->profile or $AWS_PROFILE that does not exist or has no static keys,
 * a malformed credentials/config file (em names file and line), only one of
 * AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY set, a container URI that is
 * not allowed. em never holds a secret. Thread-safe; blocks only while no
 * valid credentials are cached (at most ~3 metadata requests of timeout_ms). */
enum owls_err owls_creds_get(struct owls_creds_provider *p, struct owls_creds *out,
                             struct owls_errmsg *em);
/* Drop cached credentials so the next get re-resolves (e.g. after an
 * ExpiredToken answer). Thread-safe. */
void owls_creds_invalidate(struct owls_creds_provider *p);
/* Cleanses and frees p (NULL is fine); no other thread may still use it. */
void owls_creds_provider_free(struct owls_creds_provider *p);

/* Parse a container / EC2 instance-metadata credentials document
 * ({"AccessKeyId", "SecretAccessKey", "Token", "Expiration": RFC 3339, and
 * for IMDS "Code": "Success"}) of len bytes into *out (caller cleans up).
 * OWLS_EAWS with em (never quoting a secret) when it is not one. Thread-safe. */
enum owls_err owls_creds_from_json(const char *json, size_t len, struct owls_creds *out,
                                   struct owls_errmsg *em);

#endif
