/*
 * poller.h - the thread that long-polls the work queue. It first waits for
 * the queue to answer (GetQueueAttributes: readiness), then receives only as
 * many messages as there are idle workers and hands each to the pool. On
 * errors it backs off (exponential, full jitter, up to 30 s) without
 * spinning. Setting *stop abandons a long poll in flight within ~0.1 s;
 * messages received while stopping are made visible again at once.
 */
#ifndef OWLS_POLLER_H
#define OWLS_POLLER_H

#include <stdatomic.h>

#include "owls/config.h"
#include "owls/err.h"
#include "owls/pool.h"
#include "owls/services.h"

struct owls_poller;

struct owls_poller_opts {
    const struct owls_config *cfg;
    struct owls_services *svc;
    struct owls_pool *pool;
    atomic_bool *stop; /* borrowed; set by the main loop */
    int ready_fd;      /* eventfd written once the work queue has answered */
};

enum owls_err owls_poller_start(const struct owls_poller_opts *o, struct owls_poller **out,
                                struct owls_errmsg *em);
/* Join (after *stop was set and the pool woken) and free. */
void owls_poller_free(struct owls_poller *p);

#endif
