/*
 * pool.h - the worker pool: N slots, each a worker thread that runs one
 * message at a time and a heartbeat thread that keeps that message hidden
 * (ChangeMessageVisibility to the configured timeout when a third of it is
 * left, within SQS's 12-hour cap). One heartbeat per slot: a stalled call
 * delays only its own message.
 *
 * Submitting hands the message over whole; the slot owns it until the job
 * is over. Job completions are counted in the pool (atomics) and signalled
 * on an eventfd the main loop watches; workers never touch loop state.
 */
#ifndef OWLS_POOL_H
#define OWLS_POOL_H

#include <stdatomic.h>
#include <stdbool.h>
#include <time.h>

#include "owls/err.h"
#include "owls/sqs.h"

struct owls_pool;

/* Runs one message on a worker thread; m stays owned by the pool. */
typedef void (*owls_pool_job_fn)(void *arg, const struct owls_sqs_message *m, time_t received,
                                 bool *ok);

struct owls_pool_opts {
    int threads;
    owls_pool_job_fn job;
    void *job_arg;
    struct owls_sqs *sqs; /* for the heartbeat; borrowed */
    const char *queue_url;
    int visibility_timeout; /* seconds */
};

struct owls_pool_stats {
    unsigned long done;   /* messages whose jobs all settled */
    unsigned long failed; /* messages with at least one permanent failure or left for retry */
    int busy;             /* slots running a message */
};

/* Start the threads. *event_fd is an eventfd the pool writes after each
 * finished message (read it to reset). Caller frees with owls_pool_free(). */
enum owls_err owls_pool_start(const struct owls_pool_opts *opts, struct owls_pool **out,
                              int *event_fd, struct owls_errmsg *em);

/* Block until at least one slot is idle (returns how many) or *stop. */
int owls_pool_wait_idle(struct owls_pool *p, const atomic_bool *stop);

/* Hand m (ownership) to an idle slot; false (m not taken) if none is idle. */
bool owls_pool_submit(struct owls_pool *p, struct owls_sqs_message *m, time_t received);

void owls_pool_stats(struct owls_pool *p, struct owls_pool_stats *st);

/* Make the messages of every busy slot visible again at once (shutdown past
 * its grace period); returns how many. The jobs keep running until exit. */
int owls_pool_abandon(struct owls_pool *p);

/* Wake waiters of owls_pool_wait_idle (after setting their stop flag). */
void owls_pool_wake(struct owls_pool *p);

/* Stop and join every thread (slots must be idle) and free. */
void owls_pool_free(struct owls_pool *p);

#endif
