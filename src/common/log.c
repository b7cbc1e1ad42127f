/*
 * DESIGN: a process-wide level and sink chosen once by log_init(), plus a
 * thread-local job context so that every line a worker logs while it runs a
 * job carries that job's RUN_ID, INPUT_KEY, ... without the call sites having
 * to pass them. The level is an atomic so SIGHUP can change it while workers
 * log.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
/* sd_journal_send() would add CODE_FILE/CODE_LINE/CODE_FUNC of its own call
 * below, the same for every entry: misleading, so left out. */
#define SD_JOURNAL_SUPPRESS_LOCATION
#include <systemd/sd-journal.h>
#include <unistd.h>

#include "owls/log.h"

static const char *s_prog = "owls";
static atomic_int s_level = LOG_INFO;
static bool s_journal;
static _Thread_local const struct owls_log_ctx *s_ctx;

static const char *const s_names[] = {
    [LOG_EMERG] = "emerg",     [LOG_ALERT] = "alert",   [LOG_CRIT] = "crit", [LOG_ERR] = "err",
    [LOG_WARNING] = "warning", [LOG_NOTICE] = "notice", [LOG_INFO] = "info", [LOG_DEBUG] = "debug",
};

/* True when stderr is the journal stream systemd handed us. */
static bool stderr_is_journal(void)
{
    const char *e = getenv("JOURNAL_STREAM");
    unsigned long long dev, ino;
    struct stat st;

    if (e == NULL || sscanf(e, "%llu:%llu", &dev, &ino) != 2)
        return false;
    if (fstat(STDERR_FILENO, &st) != 0)
        return false;
    return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

void log_init(const char *prog, int level, int journal)
{
    s_prog = prog;
    atomic_store(&s_level, level);
    s_journal = journal < 0 ? stderr_is_journal() : journal > 0;
}

void log_set_level(int level)
{
    atomic_store(&s_level, level);
}

int log_get_level(void)
{
    return atomic_load(&s_level);
}

int log_level_from_name(const char *name)
{
    if (strcmp(name, "error") == 0)
        return LOG_ERR;
    if (strcmp(name, "warn") == 0)
        return LOG_WARNING;
    for (int i = LOG_ERR; i <= LOG_DEBUG; i++)
        if (strcmp(name, s_names[i]) == 0)
            return i;
    return -1;
}

const char *log_level_name(int level)
{
    if (level < LOG_EMERG || level > LOG_DEBUG)
        return "?";
    return s_names[level];
}

void log_set_ctx(const struct owls_log_ctx *ctx)
{
    s_ctx = ctx;
}

const struct owls_log_ctx *log_get_ctx(void)
{
    return s_ctx;
}

bool log_enabled(int prio)
{
    return prio <= atomic_load_explicit(&s_level, memory_order_relaxed);
}

static void emit_journal(int prio, const struct owls_log_ctx *c, const char *msg)
{
    /* sd_journal_send() takes a NULL-terminated list: present fields are
     * packed at the front, the first NULL ends it. */
    char f[5][1100];
    const char *v[6] = {NULL};
    int n = 0;

    if (c && c->run_id)
        snprintf(f[n++], sizeof(f[0]), "RUN_ID=%s", c->run_id);
    if (c && c->input_key)
        snprintf(f[n++], sizeof(f[0]), "INPUT_KEY=%s", c->input_key);
    if (c && c->work_message_id)
        snprintf(f[n++], sizeof(f[0]), "WORK_MESSAGE_ID=%s", c->work_message_id);
    if (c && c->error_code)
        snprintf(f[n++], sizeof(f[0]), "ERROR_CODE=%s", c->error_code);
    if (c && c->receive_count > 0)
        snprintf(f[n++], sizeof(f[0]), "RECEIVE_COUNT=%ld", c->receive_count);
    for (int i = 0; i < n; i++)
        v[i] = f[i];
    sd_journal_send("MESSAGE=%s", msg, "PRIORITY=%d", prio, "SYSLOG_IDENTIFIER=%s", s_prog, v[0],
                    v[1], v[2], v[3], v[4], NULL);
}

static void emit_stderr(int prio, const struct owls_log_ctx *c, const char *msg)
{
    char line[4096];
    int n = snprintf(line, sizeof(line), "%s: %s: %s", s_prog, log_level_name(prio), msg);

#define FIELD(fmt, val)                                                                            \
    if (n > 0 && (size_t)n < sizeof(line))                                                         \
    n += snprintf(line + n, sizeof(line) - (size_t)n, fmt, val)
    if (c && c->run_id)
        FIELD(" run_id=%s", c->run_id);
    if (c && c->work_message_id)
        FIELD(" work_message_id=%s", c->work_message_id);
    if (c && c->input_key)
        FIELD(" input_key=%s", c->input_key);
    if (c && c->error_code)
        FIELD(" error_code=%s", c->error_code);
    if (c && c->receive_count > 0)
        FIELD(" receive_count=%ld", c->receive_count);
#undef FIELD
    if (n < 0)
        return;
    if ((size_t)n >= sizeof(line) - 1)
        n = (int)sizeof(line) - 2;
    line[n++] = '\n';
    /* One write per line keeps concurrent workers' lines whole. */
    if (write(STDERR_FILENO, line, (size_t)n) < 0) {
        /* nowhere left to report it */
    }
}

void log_emit(int prio, int errnum, const struct owls_log_ctx *ctx, const char *fmt, ...)
{
    char msg[2048];
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (n >= 0 && errnum != 0 && (size_t)n < sizeof(msg))
        snprintf(msg + n, sizeof(msg) - (size_t)n, ": %s", strerror(errnum));
    if (ctx == NULL)
        ctx = s_ctx;
    if (s_journal)
        emit_journal(prio, ctx, msg);
    else
        emit_stderr(prio, ctx, msg);
}

__attribute__((format(printf, 2, 0))) static _Noreturn void vfatal(int errnum, const char *fmt,
                                                                   va_list ap)
{
    char msg[2048];
    vsnprintf(msg, sizeof(msg), fmt, ap);
    if (errnum)
        log_emit(LOG_CRIT, errnum, NULL, "fatal: %s", msg);
    else
        log_emit(LOG_CRIT, 0, NULL, "fatal: %s", msg);
    exit(1);
}

void fatal(const char *fmt, ...)
{
    int errnum = errno;
    va_list ap;
    va_start(ap, fmt);
    vfatal(errnum, fmt, ap);
    va_end(ap);
}

void fatalx(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfatal(0, fmt, ap);
    va_end(ap);
}
