/*
 * private/config.h - internals of src/daemon/config.c that the unit tests
 * reach (OWLS_TESTABLE: static unless built with -DOWLS_UNIT_TEST).
 */
#ifndef OWLS_PRIVATE_CONFIG_H
#define OWLS_PRIVATE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Each validator returns true when s is acceptable; otherwise false and
 * *why (static storage) says what is wrong. */

/* S3 general purpose bucket naming rules. */
bool owls_config_check_bucket(const char *s, const char **why);
/* An AWS region as it goes into host names and the SigV4 scope. */
bool owls_config_check_region(const char *s, const char **why);
/* http(s)://host[:port] with an optional single trailing '/'. */
bool owls_config_check_endpoint(const char *s, const char **why);
/* http(s)://host[:port]/ACCOUNT/QUEUE-NAME. */
bool owls_config_check_queue_url(const char *s, const char **why);

/* Decimal digits only (no sign, no spaces), value <= max. */
bool owls_config_parse_uint(const char *s, uint64_t max, uint64_t *out);
/* A byte count: digits, optionally followed by K, M, G, T or KiB, MiB, GiB,
 * TiB (powers of 1024); at most INT64_MAX. */
bool owls_config_parse_size(const char *s, uint64_t *out);

/* The value of NAME in envp (NULL = environ); NULL when absent or empty. */
const char *owls_config_getenv(char *const *envp, const char *name);

#endif
