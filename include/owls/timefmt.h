/*
 * timefmt.h - the timestamps of the SPEC: RFC 3339 UTC and run-id stamps.
 */
#ifndef OWLS_TIMEFMT_H
#define OWLS_TIMEFMT_H

#include <time.h>

#define OWLS_RFC3339_LEN 32

/* "2026-11-27T10:03:29.123Z" for ts (CLOCK_REALTIME); thread-safe. */
void owls_time_rfc3339(const struct timespec *ts, char out[OWLS_RFC3339_LEN]);
/* The same for now. */
void owls_time_now_rfc3339(char out[OWLS_RFC3339_LEN]);
/* "YYYY-MM-DD-HHMMSS" in UTC, the stem of a generated run id. */
void owls_time_runid_stamp(time_t t, char out[OWLS_RFC3339_LEN]);
/* Milliseconds on CLOCK_MONOTONIC, for durations and deadlines. */
long long owls_time_mono_ms(void);

#endif
