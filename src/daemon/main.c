/*
 * owls-q4d: the frozen, co-located consumer of the owls-q4 work queue.
 *
 * main() wires the modules -- args -> config -> log -> spool -> AWS clients
 * -> pool -> poller -> loop -- and the loop below owns the process's life:
 * signals (signalfd), a housekeeping tick (timerfd: WATCHDOG=1, STATUS=),
 * the poller's readiness and the workers' completions (eventfds). Worker and
 * poller threads never touch loop state; they only write to eventfds.
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sysexits.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include "owls/config.h"
#include "owls/job.h"
#include "owls/log.h"
#include "owls/poller.h"
#include "owls/pool.h"
#include "owls/services.h"
#include "owls/timefmt.h"
#include "owls/util.h"

static const char s_usage[] =
    "usage: owls-q4d [-c FILE] [--check-config] [--version] [--help]\n"
    "\n"
    "  -c, --config FILE   configuration file (default " OWLS_CONFIG_DEFAULT_PATH ")\n"
    "      --check-config  validate the configuration, print it (secrets masked), exit\n"
    "      --version       print the version and exit\n"
    "\n"
    "Long-polls the work queue and runs each job's Q4 split; see owls-q4d(8).\n";

struct daemon {
    struct owls_config *cfg;
    struct owls_services svc;
    struct owls_pool *pool;
    struct owls_poller *poller;
    struct owls_daemon_ctx ctx;
    atomic_bool stop;    /* stop receiving */
    atomic_bool abandon; /* cancel the jobs' transfers */
    char *spool;
    bool spool_is_temp;
    int sig_fd, tick_fd, ready_fd, jobs_fd;
    bool ready, watchdog;
    long tick_ms;
    char status[160];
};

static void run_job(void *arg, const struct owls_sqs_message *m, time_t received, bool *ok)
{
    *ok = owls_job_process(arg, m, received);
}

/* --- spool: where artifacts wait for their upload --------------------------- */

static void remove_tree_level(const char *dir, int depth)
{
    DIR *d = opendir(dir);
    struct dirent *e;

    if (d == NULL)
        return;
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        char *p = owls_xasprintf("%s/%s", dir, e->d_name);
        if (depth > 0 && e->d_type == DT_DIR) {
            remove_tree_level(p, depth - 1);
            rmdir(p);
        } else {
            unlink(p);
        }
        free(p);
    }
    closedir(d);
}

static bool spool_open(struct daemon *d)
{
    const char *state = getenv("STATE_DIRECTORY");

    if (state && *state) {
        /* systemd may pass several, ':'-separated: the first is ours. */
        size_t n = strcspn(state, ":");
        d->spool = owls_xasprintf("%.*s/spool", (int)n, state);
        if (mkdir(d->spool, 0700) != 0 && errno != EEXIST) {
            log_warn("spool directory %s", d->spool);
            return false;
        }
        remove_tree_level(d->spool, 1); /* what a crash left behind */
    } else {
        const char *tmp = getenv("TMPDIR");
        d->spool = owls_xasprintf("%s/owls-q4d.XXXXXX", tmp && *tmp ? tmp : "/tmp");
        if (mkdtemp(d->spool) == NULL) {
            log_warn("spool directory %s", d->spool);
            return false;
        }
        d->spool_is_temp = true;
    }
    return true;
}

static void spool_close(struct daemon *d)
{
    if (d->spool && d->spool_is_temp) {
        remove_tree_level(d->spool, 1);
        rmdir(d->spool);
    }
    free(d->spool);
}

/* --- the loop ---------------------------------------------------------------- */

static void set_status(struct daemon *d, bool stopping)
{
    struct owls_pool_stats st;
    char buf[sizeof(d->status)];

    owls_pool_stats(d->pool, &st);
    snprintf(buf, sizeof(buf), "%s: %lu jobs done, %lu failed or retried, %d in flight",
             stopping   ? "Stopping"
             : d->ready ? "Ready"
                        : "Waiting for the work queue",
             st.done, st.failed, st.busy);
    if (strcmp(buf, d->status) != 0) {
        memcpy(d->status, buf, sizeof(buf));
        sd_notifyf(0, "STATUS=%s", buf);
    }
}

static void drain(int fd)
{
    uint64_t v;
    while (read(fd, &v, sizeof(v)) > 0) {
    }
}

static int add_fd(int ep, int fd)
{
    struct epoll_event ev = {.events = EPOLLIN, .data.fd = fd};
    return epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
}

static void begin_stop(struct daemon *d, long long *deadline, const char *why)
{
    log_notice("%s: stopping; running jobs get %d s to finish", why,
               d->cfg->shutdown_grace_seconds);
    sd_notify(0, "STOPPING=1");
    atomic_store(&d->stop, true);
    owls_pool_wake(d->pool);
    *deadline = owls_time_mono_ms() + (long long)d->cfg->shutdown_grace_seconds * 1000;
}

static void reload(struct daemon *d)
{
    struct owls_errmsg em = {{0}};
    bool others = false;
    int level = log_get_level();

    if (owls_config_reload_log_level(d->cfg, NULL, &level, &others, &em) != OWLS_OK) {
        log_warnx("SIGHUP: configuration not reloaded: %s", em.text);
        return;
    }
    log_set_level(level);
    log_notice("SIGHUP: log level is %s%s", log_level_name(level),
               others ? "; other settings changed too and need a restart" : "");
}

/* Returns true for a clean stop, false when jobs had to be abandoned. */
static bool loop(struct daemon *d)
{
    int ep = epoll_create1(EPOLL_CLOEXEC);
    long long deadline = 0;
    bool stopping = false, clean = true;

    if (ep < 0 || add_fd(ep, d->sig_fd) || add_fd(ep, d->tick_fd) || add_fd(ep, d->ready_fd) ||
        add_fd(ep, d->jobs_fd))
        fatal("epoll");
    set_status(d, false);
    for (;;) {
        struct epoll_event ev[4];
        int n = epoll_wait(ep, ev, 4, -1);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            fatal("epoll_wait");
        for (int i = 0; i < n; i++) {
            int fd = ev[i].data.fd;
            if (fd == d->sig_fd) {
                struct signalfd_siginfo si;
                while (read(d->sig_fd, &si, sizeof(si)) == sizeof(si)) {
                    if (si.ssi_signo == SIGHUP) {
                        reload(d);
                    } else if (!stopping) {
                        begin_stop(d, &deadline, strsignal((int)si.ssi_signo));
                        stopping = true;
                    }
                }
            } else if (fd == d->ready_fd) {
                drain(fd);
                d->ready = true;
                sd_notify(0, "READY=1");
                log_notice("ready: polling %s with %d workers", d->cfg->work_queue_url,
                           owls_config_worker_threads(d->cfg));
            } else {
                drain(fd); /* tick or job completions */
                if (fd == d->tick_fd && d->watchdog)
                    sd_notify(0, "WATCHDOG=1");
            }
        }
        set_status(d, stopping);
        if (!stopping)
            continue;
        struct owls_pool_stats st;
        owls_pool_stats(d->pool, &st);
        if (st.busy == 0)
            break;
        if (owls_time_mono_ms() >= deadline) {
            int k = owls_pool_abandon(d->pool);
            log_warnx("shutdown grace period (%d s) over: %d job%s abandoned",
                      d->cfg->shutdown_grace_seconds, k, k == 1 ? "" : "s");
            atomic_store(&d->abandon, true);
            owls_http_cancel(d->svc.http);
            clean = false;
            break;
        }
    }
    close(ep);
    return clean;
}

static int setup_fds(struct daemon *d)
{
    sigset_t set;
    uint64_t usec = 0;

    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    /* Blocked in every thread (they inherit it): only the signalfd sees them. */
    if (pthread_sigmask(SIG_BLOCK, &set, NULL) != 0)
        return -1;
    signal(SIGPIPE, SIG_IGN);
    d->sig_fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
    d->ready_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    d->tick_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
    if (d->sig_fd < 0 || d->ready_fd < 0 || d->tick_fd < 0)
        return -1;
    /* One housekeeping tick: a second, or faster for a tight watchdog. */
    d->tick_ms = 1000;
    if (sd_watchdog_enabled(0, &usec) > 0 && usec > 0) {
        d->watchdog = true;
        d->tick_ms = OWLS_MIN(1000L, (long)(usec / 1000 / 3));
        if (d->tick_ms < 10)
            d->tick_ms = 10;
    }
    struct itimerspec its = {
        .it_interval = {.tv_sec = d->tick_ms / 1000, .tv_nsec = (d->tick_ms % 1000) * 1000000L},
        .it_value = {.tv_sec = d->tick_ms / 1000, .tv_nsec = (d->tick_ms % 1000) * 1000000L},
    };
    return timerfd_settime(d->tick_fd, 0, &its, NULL);
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"config", required_argument, NULL, 'c'},
        {"check-config", no_argument, NULL, 'C'},
        {"version", no_argument, NULL, 'V'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *path = NULL;
    bool check = false, clean;
    struct daemon d = {0};
    struct owls_errmsg em = {{0}};
    int opt;

    log_init("owls-q4d", LOG_INFO, -1);
    opterr = 0;
    while ((opt = getopt_long(argc, argv, ":c:h", longopts, NULL)) != -1) {
        switch (opt) {
        case 'c':
            path = optarg;
            break;
        case 'C':
            check = true;
            break;
        case 'V':
            printf("owls-q4d %s\n", OWLS_VERSION);
            return EX_OK;
        case 'h':
            fputs(s_usage, stdout);
            return EX_OK;
        case ':':
            fprintf(stderr, "owls-q4d: usage: option %s needs a value\n%s", argv[optind - 1],
                    s_usage);
            return EX_USAGE;
        default:
            fprintf(stderr, "owls-q4d: usage: unknown option %s\n%s", argv[optind - 1], s_usage);
            return EX_USAGE;
        }
    }
    if (optind != argc) {
        fprintf(stderr, "owls-q4d: usage: unexpected argument %s\n%s", argv[optind], s_usage);
        return EX_USAGE;
    }
    if (owls_config_load(path, NULL, &d.cfg, &em) != OWLS_OK) {
        log_err("config: %s", em.text);
        return EX_CONFIG;
    }
    if (check) {
        owls_config_print(d.cfg, stdout);
        owls_config_free(d.cfg);
        return EX_OK;
    }
    log_set_level(d.cfg->log_level);

    if (setup_fds(&d) != 0)
        fatal("signal and timer set-up");
    if (!spool_open(&d))
        return EX_CANTCREAT;
    if (owls_services_open(d.cfg, &d.svc, &em) != OWLS_OK) {
        log_err("config: %s", em.text);
        return EX_CONFIG;
    }
    d.ctx = (struct owls_daemon_ctx){
        .cfg = d.cfg, .svc = &d.svc, .spool = d.spool, .cancel = &d.abandon};
    const struct owls_pool_opts po = {
        .threads = owls_config_worker_threads(d.cfg),
        .job = run_job,
        .job_arg = &d.ctx,
        .sqs = d.svc.sqs,
        .queue_url = d.cfg->work_queue_url,
        .visibility_timeout = d.cfg->visibility_timeout,
    };
    if (owls_pool_start(&po, &d.pool, &d.jobs_fd, &em) != OWLS_OK)
        fatalx("%s", em.text);
    const struct owls_poller_opts pl = {
        .cfg = d.cfg, .svc = &d.svc, .pool = d.pool, .stop = &d.stop, .ready_fd = d.ready_fd};
    if (owls_poller_start(&pl, &d.poller, &em) != OWLS_OK)
        fatalx("%s", em.text);
    log_info("owls-q4d %s starting: %d workers, spool %s", OWLS_VERSION, po.threads, d.spool);

    clean = loop(&d);

    owls_poller_free(d.poller);
    if (!clean) {
        /* Abandoned workers still hold their jobs: leave without joining
         * (their half-written spool files go with a temporary spool). */
        spool_close(&d);
        log_notice("stopped (jobs abandoned)");
        _exit(EX_OK);
    }
    owls_pool_free(d.pool);
    owls_services_close(&d.svc);
    spool_close(&d);
    close(d.sig_fd);
    close(d.tick_fd);
    close(d.ready_fd);
    log_notice("stopped");
    owls_config_free(d.cfg);
    return EX_OK;
}
