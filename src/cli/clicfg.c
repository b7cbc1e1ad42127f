/*
 * clicfg.c - what `owls-q4 submit` and `owls-q4 results` share: the daemon's
 * configuration file (plus the AWS environment) and the AWS clients opened
 * from it, with the CLI's exit statuses (78 config, 69 aws) and its
 * one-line error messages. Single-threaded: the commands call this once,
 * before anything else touches libcurl.
 */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>

#include "owls/cli.h"
#include "owls/log.h"

int owls_cli_aws_open(const char *path, bool verbose, struct owls_cli_aws *out)
{
    struct owls_errmsg em = {{0}};
    enum owls_err rc;
    int status = EX_SOFTWARE;

    memset(out, 0, sizeof(*out));
    /* The AWS layer logs retries and credential sources at info/debug; a
     * command-line tool keeps stderr for its one error line unless asked. */
    log_init("owls-q4", verbose ? LOG_DEBUG : LOG_WARNING, 0);
    rc = owls_config_load(path, NULL, &out->cfg, &em);
    if (rc != OWLS_OK) {
        status = owls_cli_fail(OWLS_ECONFIG, "%s", em.text);
        goto out;
    }
    rc = owls_services_open(out->cfg, &out->svc, &em);
    if (rc != OWLS_OK) {
        /* ECONFIG: an option the clients refuse (region, endpoint) -> 78 */
        status = owls_cli_fail(rc, "%s", em.text);
        goto out;
    }
    status = EX_OK;
out:
    if (status != EX_OK)
        owls_cli_aws_close(out);
    return status;
}

void owls_cli_aws_close(struct owls_cli_aws *a)
{
    if (a->cfg != NULL)
        owls_services_close(&a->svc);
    owls_config_free(a->cfg);
    memset(a, 0, sizeof(*a));
}

bool owls_cli_parse_seconds(const char *s, long max, long *out)
{
    char *end = NULL;
    long v;

    /* digits only: no sign, no blanks, no "1e3", no "0x10" */
    for (const char *p = s; *p; p++)
        if (!isdigit((unsigned char)*p))
            return false;
    if (*s == '\0')
        return false;
    errno = 0;
    v = strtol(s, &end, 10);
    if (errno != 0 || *end != '\0' || v > max)
        return false;
    *out = v;
    return true;
}
