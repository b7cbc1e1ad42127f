/*
 * DESIGN: each slot has a mutex and a condition variable shared by its two
 * threads. The worker sleeps until a message is put in the slot, runs the
 * job without the lock, then empties the slot. The heartbeat sleeps until
 * the slot's message is due for an extension (a third of the visibility
 * timeout left), copies the receipt handle, and calls SQS without the lock;
 * if the slot has moved on meanwhile, the answer is ignored. The pool-wide
 * mutex guards only the idle count the poller waits on.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "owls/log.h"
#include "owls/pool.h"
#include "owls/timefmt.h"
#include "owls/util.h"

#define SQS_VISIBILITY_CAP_S (12 * 3600)

struct slot {
    struct owls_pool *pool;
    pthread_t worker, beat;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct owls_sqs_message *msg; /* owned while busy */
    time_t received;
    long long received_ms;    /* monotonic */
    long long visible_until;  /* monotonic ms */
    unsigned long generation; /* bumps with each message */
    bool stop_beating;        /* receipt handle no longer valid */
    bool quit;
};

struct owls_pool {
    struct owls_pool_opts o;
    int nslots;
    struct slot *slots;
    int event_fd;
    pthread_mutex_t mu;
    pthread_cond_t idle_cv;
    int idle;
    atomic_ulong done, failed;
};

static void timespec_at_ms(long long mono_ms, struct timespec *ts)
{
    ts->tv_sec = (time_t)(mono_ms / 1000);
    ts->tv_nsec = (long)(mono_ms % 1000) * 1000000L;
}

static void *worker_main(void *arg)
{
    struct slot *s = arg;
    struct owls_pool *p = s->pool;
    uint64_t one = 1;

    pthread_mutex_lock(&s->mu);
    for (;;) {
        while (s->msg == NULL && !s->quit)
            pthread_cond_wait(&s->cv, &s->mu);
        if (s->quit)
            break;
        struct owls_sqs_message *m = s->msg;
        time_t received = s->received;
        bool ok = false;
        pthread_mutex_unlock(&s->mu);

        p->o.job(p->o.job_arg, m, received, &ok);
        atomic_fetch_add(ok ? &p->done : &p->failed, 1);

        pthread_mutex_lock(&s->mu);
        s->msg = NULL;
        pthread_cond_broadcast(&s->cv); /* the heartbeat: nothing to extend */
        pthread_mutex_unlock(&s->mu);
        owls_sqs_messages_free(m, 1);

        pthread_mutex_lock(&p->mu);
        p->idle++;
        pthread_cond_broadcast(&p->idle_cv);
        pthread_mutex_unlock(&p->mu);
        if (write(p->event_fd, &one, sizeof(one)) < 0) {
            /* the counter saturated: the main loop will read it anyway */
        }
        pthread_mutex_lock(&s->mu);
    }
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

static void *beat_main(void *arg)
{
    struct slot *s = arg;
    struct owls_pool *p = s->pool;
    const long long timeout_ms = (long long)p->o.visibility_timeout * 1000;

    pthread_mutex_lock(&s->mu);
    while (!s->quit) {
        if (s->msg == NULL || s->stop_beating || timeout_ms <= 0) {
            pthread_cond_wait(&s->cv, &s->mu);
            continue;
        }
        long long due = s->visible_until - timeout_ms / 3;
        if (owls_time_mono_ms() < due) {
            struct timespec ts;
            timespec_at_ms(due, &ts);
            pthread_cond_timedwait(&s->cv, &s->mu, &ts);
            continue;
        }
        /* SQS hides a message at most 12 h from its receipt. */
        long long left_s = SQS_VISIBILITY_CAP_S - (owls_time_mono_ms() - s->received_ms) / 1000;
        int extend = (int)OWLS_MIN((long long)p->o.visibility_timeout, left_s - 5);
        struct owls_log_ctx lc = {.work_message_id = s->msg->message_id,
                                  .receive_count = s->msg->receive_count};
        if (extend <= 0) {
            log_emit(LOG_WARNING, 0, &lc,
                     "job running for nearly 12 h: SQS cannot hide its message longer, it may "
                     "be delivered again");
            s->stop_beating = true;
            continue;
        }
        char *handle = owls_xstrdup(s->msg->receipt_handle);
        unsigned long gen = s->generation;
        char idbuf[128];
        snprintf(idbuf, sizeof(idbuf), "%s", s->msg->message_id);
        lc.work_message_id = idbuf;
        pthread_mutex_unlock(&s->mu);

        struct owls_errmsg em = {{0}};
        long long t0 = owls_time_mono_ms();
        enum owls_err rc =
            owls_sqs_change_visibility(p->o.sqs, p->o.queue_url, handle, extend, &em);
        free(handle);

        pthread_mutex_lock(&s->mu);
        if (s->generation != gen || s->msg == NULL)
            continue; /* the job ended meanwhile: whatever SQS said no longer matters */
        if (rc == OWLS_OK) {
            s->visible_until = t0 + (long long)extend * 1000;
            log_emit(LOG_DEBUG, 0, &lc, "visibility extended by %d s", extend);
        } else if (rc == OWLS_ETRANSIENT || rc == OWLS_EAUTH) {
            /* Try again soon, while some of the timeout is left. */
            s->visible_until = owls_time_mono_ms() + timeout_ms / 3 + 2000;
            log_emit(LOG_WARNING, 0, &lc, "visibility extension failed, retrying: %s", em.text);
        } else {
            s->stop_beating = true;
            log_emit(LOG_WARNING, 0, &lc,
                     "visibility extension refused (the message may be delivered again and the "
                     "job run twice): %s",
                     em.text);
        }
    }
    pthread_mutex_unlock(&s->mu);
    return NULL;
}

enum owls_err owls_pool_start(const struct owls_pool_opts *opts, struct owls_pool **out,
                              int *event_fd, struct owls_errmsg *em)
{
    struct owls_pool *p = owls_xcalloc(1, sizeof(*p));
    pthread_condattr_t ca;

    *out = NULL;
    p->o = *opts;
    p->nslots = opts->threads;
    p->slots = owls_xcalloc((size_t)p->nslots, sizeof(*p->slots));
    p->event_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (p->event_fd < 0) {
        free(p->slots);
        free(p);
        return owls_errmsg_set(em, OWLS_EIO, "eventfd: %s", strerror(errno));
    }
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->idle_cv, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    for (int i = 0; i < p->nslots; i++) {
        struct slot *s = &p->slots[i];
        s->pool = p;
        pthread_mutex_init(&s->mu, NULL);
        pthread_cond_init(&s->cv, &ca);
        if (pthread_create(&s->worker, NULL, worker_main, s) != 0 ||
            pthread_create(&s->beat, NULL, beat_main, s) != 0)
            fatalx("cannot start worker threads");
    }
    pthread_condattr_destroy(&ca);
    p->idle = p->nslots;
    *event_fd = p->event_fd;
    *out = p;
    return OWLS_OK;
}

int owls_pool_wait_idle(struct owls_pool *p, const atomic_bool *stop)
{
    int n;
    pthread_mutex_lock(&p->mu);
    while (p->idle == 0 && !atomic_load(stop))
        pthread_cond_wait(&p->idle_cv, &p->mu);
    n = p->idle;
    pthread_mutex_unlock(&p->mu);
    return n;
}

void owls_pool_wake(struct owls_pool *p)
{
    pthread_mutex_lock(&p->mu);
    pthread_cond_broadcast(&p->idle_cv);
    pthread_mutex_unlock(&p->mu);
}

bool owls_pool_submit(struct owls_pool *p, struct owls_sqs_message *m, time_t received)
{
    for (int i = 0; i < p->nslots; i++) {
        struct slot *s = &p->slots[i];
        pthread_mutex_lock(&s->mu);
        if (s->msg == NULL && !s->quit) {
            s->msg = m;
            s->received = received;
            s->received_ms = owls_time_mono_ms();
            s->visible_until = s->received_ms + (long long)p->o.visibility_timeout * 1000;
            s->generation++;
            s->stop_beating = false;
            pthread_cond_broadcast(&s->cv);
            pthread_mutex_unlock(&s->mu);
            pthread_mutex_lock(&p->mu);
            p->idle--;
            pthread_mutex_unlock(&p->mu);
            return true;
        }
        pthread_mutex_unlock(&s->mu);
    }
    return false;
}

void owls_pool_stats(struct owls_pool *p, struct owls_pool_stats *st)
{
    st->done = atomic_load(&p->done);
    st->failed = atomic_load(&p->failed);
    pthread_mutex_lock(&p->mu);
    st->busy = p->nslots - p->idle;
    pthread_mutex_unlock(&p->mu);
}

int owls_pool_abandon(struct owls_pool *p)
{
    int n = 0;
    for (int i = 0; i < p->nslots; i++) {
        struct slot *s = &p->slots[i];
        char *handle = NULL, *id = NULL;
        pthread_mutex_lock(&s->mu);
        if (s->msg) {
            handle = owls_xstrdup(s->msg->receipt_handle);
            id = owls_xstrdup(s->msg->message_id);
            s->stop_beating = true;
        }
        pthread_mutex_unlock(&s->mu);
        if (handle == NULL)
            continue;
        struct owls_errmsg em = {{0}};
        struct owls_log_ctx lc = {.work_message_id = id};
        if (owls_sqs_change_visibility(p->o.sqs, p->o.queue_url, handle, 0, &em) == OWLS_OK)
            log_emit(LOG_WARNING, 0, &lc,
                     "shutdown grace period over: job abandoned, its message is visible again");
        else
            log_emit(LOG_WARNING, 0, &lc,
                     "shutdown grace period over: job abandoned; its message reappears after "
                     "its visibility timeout (%s)",
                     em.text);
        n++;
        free(handle);
        free(id);
    }
    return n;
}

void owls_pool_free(struct owls_pool *p)
{
    if (p == NULL)
        return;
    for (int i = 0; i < p->nslots; i++) {
        struct slot *s = &p->slots[i];
        pthread_mutex_lock(&s->mu);
        s->quit = true;
        pthread_cond_broadcast(&s->cv);
        pthread_mutex_unlock(&s->mu);
    }
    for (int i = 0; i < p->nslots; i++) {
        pthread_join(p->slots[i].worker, NULL);
        pthread_join(p->slots[i].beat, NULL);
        pthread_mutex_destroy(&p->slots[i].mu);
        pthread_cond_destroy(&p->slots[i].cv);
    }
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->idle_cv);
    close(p->event_fd);
    free(p->slots);
    free(p);
}
