#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sysexits.h>

#include "owls/err.h"

static const struct {
    const char *code;
    const char *text;
    int exit_status;
} s_errs[OWLS_ERR_COUNT] = {
    [OWLS_OK] = {"ok", "success", EX_OK},
    [OWLS_ENOMEM] = {"io", "out of memory", EX_OSERR},
    [OWLS_EIO] = {"io", "input/output error", EX_IOERR},
    [OWLS_EUSAGE] = {"usage", "bad usage", EX_USAGE},
    [OWLS_ECONFIG] = {"config", "configuration error", EX_CONFIG},
    [OWLS_ECRYPTO] = {"io", "cryptographic library error", EX_SOFTWARE},
    [OWLS_EAWS] = {"aws", "AWS request failed", EX_UNAVAILABLE},
    [OWLS_ETRANSIENT] = {"aws", "AWS temporarily unavailable", EX_UNAVAILABLE},
    [OWLS_EAUTH] = {"aws", "AWS authorization failed", EX_UNAVAILABLE},
    [OWLS_ENOTFOUND] = {"aws", "not found", EX_UNAVAILABLE},
    [OWLS_ETIMEOUT] = {"aws", "timed out", EX_UNAVAILABLE},
    [OWLS_EINTERNAL] = {"io", "internal error", EX_SOFTWARE},
    [OWLS_EBAD_MESSAGE] = {"bad_message", "bad job message", EX_DATAERR},
    [OWLS_EINVALID_RUN_ID] = {"invalid_run_id", "invalid run id", EX_DATAERR},
    [OWLS_EFORBIDDEN_BUCKET] = {"forbidden_bucket", "input bucket not allowed", EX_DATAERR},
    [OWLS_EINPUT_NOT_FOUND] = {"input_not_found", "input not found", EX_NOINPUT},
    [OWLS_EINPUT_TOO_LARGE] = {"input_too_large", "input too large", EX_DATAERR},
    [OWLS_EUNSUPPORTED_FORMAT] = {"unsupported_format", "unsupported input format", EX_DATAERR},
    [OWLS_EBAD_CSV] = {"bad_csv", "bad CSV input", EX_DATAERR},
    [OWLS_EBAD_PARQUET] = {"bad_parquet", "bad Parquet input", EX_DATAERR},
    [OWLS_EMISSING_VALUE] = {"missing_value", "missing value in a numeric column", EX_DATAERR},
    [OWLS_ENOT_ENOUGH_NUMERIC_COLUMNS] = {"not_enough_numeric_columns",
                                          "fewer than 2 numeric columns", EX_DATAERR},
    [OWLS_ENOT_ENOUGH_ROWS] = {"not_enough_rows", "fewer than 2 data rows", EX_DATAERR},
    [OWLS_ERUN_CONFLICT] = {"run_conflict", "run already completed for another input", EX_DATAERR},
};

const char *owls_strerror(enum owls_err rc)
{
    if ((unsigned)rc >= OWLS_ERR_COUNT)
        return "unknown error";
    return s_errs[rc].text;
}

const char *owls_err_code(enum owls_err rc)
{
    if ((unsigned)rc >= OWLS_ERR_COUNT)
        return "io";
    return s_errs[rc].code;
}

enum owls_err owls_err_from_code(const char *name)
{
    for (int i = OWLS_EBAD_MESSAGE; i < OWLS_ERR_COUNT; i++)
        if (strcmp(s_errs[i].code, name) == 0)
            return (enum owls_err)i;
    return OWLS_ERR_COUNT;
}

int owls_err_exit_status(enum owls_err rc)
{
    if ((unsigned)rc >= OWLS_ERR_COUNT)
        return EX_SOFTWARE;
    return s_errs[rc].exit_status;
}

bool owls_err_is_permanent(enum owls_err rc)
{
    return rc >= OWLS_EBAD_MESSAGE && rc < OWLS_ERR_COUNT;
}

enum owls_err owls_errmsg_set(struct owls_errmsg *em, enum owls_err rc, const char *fmt, ...)
{
    va_list ap;

    if (em == NULL)
        return rc;
    va_start(ap, fmt);
    vsnprintf(em->text, sizeof(em->text), fmt, ap);
    va_end(ap);
    return rc;
}
