#include <stdio.h>
#include <string.h>

#include "owls/timefmt.h"

void owls_time_rfc3339(const struct timespec *ts, char out[OWLS_RFC3339_LEN])
{
    struct tm tm;
    char sec[24];
    unsigned ms = (unsigned)(ts->tv_nsec / 1000000) % 1000u;

    gmtime_r(&ts->tv_sec, &tm);
    if (strftime(sec, sizeof(sec), "%Y-%m-%dT%H:%M:%S", &tm) == 0)
        sec[0] = '\0';
    snprintf(out, OWLS_RFC3339_LEN, "%.23s.%03uZ", sec, ms);
}

void owls_time_now_rfc3339(char out[OWLS_RFC3339_LEN])
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    owls_time_rfc3339(&ts, out);
}

void owls_time_runid_stamp(time_t t, char out[OWLS_RFC3339_LEN])
{
    struct tm tm;
    gmtime_r(&t, &tm);
    if (strftime(out, OWLS_RFC3339_LEN, "%Y-%m-%d-%H%M%S", &tm) == 0)
        out[0] = '\0';
}

long long owls_time_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
