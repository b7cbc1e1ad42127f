/*
 * log.h - logging in the manner of OpenSMTPD's log.c.
 *
 * Under journald (stderr is the journal stream named by $JOURNAL_STREAM) each
 * event is sent with sd_journal_send(), carrying PRIORITY and the structured
 * fields RUN_ID, INPUT_KEY, WORK_MESSAGE_ID, ERROR_CODE and RECEIVE_COUNT of
 * the calling thread's job context; otherwise one line per event on stderr:
 * "<prog>: <level>: <message> [run_id=... ...]".
 *
 * The level is tested before any formatting. Thread-safe: the job context is
 * thread-local; lines are written with one write(2) each. Never pass secrets.
 */
#ifndef OWLS_LOG_H
#define OWLS_LOG_H

#include <stdbool.h>
#include <syslog.h>

/* Structured fields of the job a thread is working on; all borrowed and
 * optional (NULL / 0 = absent). */
struct owls_log_ctx {
    const char *run_id;
    const char *input_key;
    const char *work_message_id;
    const char *error_code;
    long receive_count;
};

/* Set up logging for prog at level (LOG_ERR..LOG_DEBUG). journal: -1 detects
 * journald from $JOURNAL_STREAM, 0 forces stderr, 1 forces the journal. */
void log_init(const char *prog, int level, int journal);
void log_set_level(int level);
int log_get_level(void);
/* Parse "debug|info|notice|warning|err" (and "error", "warn"); -1 if unknown. */
int log_level_from_name(const char *name);
const char *log_level_name(int level);

/* Install ctx (borrowed, may be NULL) as the calling thread's job context. */
void log_set_ctx(const struct owls_log_ctx *ctx);
const struct owls_log_ctx *log_get_ctx(void);

bool log_enabled(int prio);
void log_emit(int prio, int errnum, const struct owls_log_ctx *ctx, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* The *x variants do not append strerror(errno). */
#define log_at(prio, ...)                                                                          \
    do {                                                                                           \
        if (log_enabled(prio))                                                                     \
            log_emit((prio), 0, NULL, __VA_ARGS__);                                                \
    } while (0)
#define log_warn(...)                                                                              \
    do {                                                                                           \
        int log_errno_ = errno;                                                                    \
        if (log_enabled(LOG_WARNING))                                                              \
            log_emit(LOG_WARNING, log_errno_, NULL, __VA_ARGS__);                                  \
    } while (0)
#define log_err(...)    log_at(LOG_ERR, __VA_ARGS__)
#define log_warnx(...)  log_at(LOG_WARNING, __VA_ARGS__)
#define log_notice(...) log_at(LOG_NOTICE, __VA_ARGS__)
#define log_info(...)   log_at(LOG_INFO, __VA_ARGS__)
#define log_debug(...)  log_at(LOG_DEBUG, __VA_ARGS__)

/* Log at LOG_CRIT and exit(1); fatal appends strerror(errno). */
void fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
void fatalx(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));

#endif
