/*
 * private/creds.h - credentials-chain internals reachable from
 * tests/unit/test_creds.c (built with -DOWLS_UNIT_TEST). Not part of the API.
 */
#ifndef OWLS_PRIVATE_CREDS_H
#define OWLS_PRIVATE_CREDS_H

#include <stdbool.h>
#include <time.h>

#include "owls/creds.h"

/* The refresh policy, in seconds (defaults in parentheses). */
struct owls_creds_tuning {
    long refresh_window;      /* refresh this long before expiry (900, as the SDKs) */
    long min_validity;        /* never hand out credentials closer to expiry (60) */
    long retry_interval;      /* wait after a failed or fruitless early refresh (60) */
    time_t (*now)(void *arg); /* the clock; NULL = time() */
    void *now_arg;
};
/* Tests only (defined under OWLS_UNIT_TEST). */
void owls_creds_provider_tune(struct owls_creds_provider *p, const struct owls_creds_tuning *t);

struct owls_creds_stats {
    unsigned long resolutions; /* runs of the chain (initial and refreshes) */
    unsigned long failures;    /* of which failed */
    unsigned waiting;          /* callers blocked on a refresh in flight now */
    const char *source;        /* "environment", "profile", "container", "imds" or NULL */
};
void owls_creds_provider_stats(struct owls_creds_provider *p, struct owls_creds_stats *st);

/* Internal helpers, exported so that tests can reach them. */

/* "2025-08-25T12:00:00Z", with optional fraction and +hh:mm / -hh:mm offset. */
bool owls_creds_parse_rfc3339(const char *s, time_t *out);

/* Whether url may serve container credentials: https anywhere; http only to
 * loopback or the ECS/EKS container hosts. */
bool owls_creds_container_url_ok(const char *url);

#endif
