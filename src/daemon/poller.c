#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "owls/log.h"
#include "owls/poller.h"
#include "owls/util.h"

#define BACKOFF_MIN_MS 1000
#define BACKOFF_MAX_MS 30000

struct owls_poller {
    struct owls_poller_opts o;
    pthread_t thread;
};

/* Full jitter: a random delay in [0, ceiling), and at least 100 ms. */
static long jitter(long ceiling_ms)
{
    uint32_t r = 0;
    if (getrandom(&r, sizeof(r), 0) != sizeof(r))
        r = (uint32_t)time(NULL);
    return 100 + (long)(r % (uint32_t)ceiling_ms);
}

/* Sleep after the n-th consecutive failure; false if stopped meanwhile. */
static bool back_off(struct owls_poller *p, int failures)
{
    long ceiling = BACKOFF_MIN_MS;
    for (int i = 1; i < failures && ceiling < BACKOFF_MAX_MS; i++)
        ceiling *= 2;
    return owls_http_sleep(p->o.svc->http, jitter(OWLS_MIN(ceiling, BACKOFF_MAX_MS)), p->o.stop);
}

static void signal_ready(struct owls_poller *p)
{
    uint64_t one = 1;
    if (write(p->o.ready_fd, &one, sizeof(one)) < 0)
        log_warn("ready eventfd");
}

/* true: the queue answered (ready now); false: let the first successful
 * ReceiveMessage say so (GetQueueAttributes is optional in the IAM policy). */
static bool wait_ready(struct owls_poller *p)
{
    static const char *const names[] = {"VisibilityTimeout"};
    const struct owls_config *cfg = p->o.cfg;
    int failures = 0;

    while (!atomic_load(p->o.stop)) {
        struct owls_errmsg em = {{0}};
        struct owls_sqs_attr *attrs = NULL;
        size_t n = 0;
        enum owls_err rc =
            owls_sqs_get_attributes(p->o.svc->sqs, cfg->work_queue_url, names, 1, &attrs, &n, &em);
        if (rc == OWLS_OK) {
            for (size_t i = 0; i < n; i++)
                if (strcmp(attrs[i].name, "VisibilityTimeout") == 0 &&
                    strtol(attrs[i].value, NULL, 10) < cfg->visibility_timeout / 3)
                    log_notice("the work queue's own VisibilityTimeout is %s s; the daemon "
                               "asks for %d s on each receive and extends it while jobs run",
                               attrs[i].value, cfg->visibility_timeout);
            owls_sqs_attrs_free(attrs, n);
            signal_ready(p);
            return true;
        }
        if (rc == OWLS_EAUTH && strstr(em.text, "AccessDenied") != NULL) {
            log_notice("GetQueueAttributes is not allowed (%s); readiness comes with the first "
                       "ReceiveMessage instead",
                       em.text);
            return false;
        }
        if (failures++ == 0 || failures % 10 == 0)
            log_warnx("work queue not reachable yet (%s); retrying", em.text);
        if (rc == OWLS_ENOTFOUND || rc == OWLS_EAUTH)
            log_err("work queue %s: %s", cfg->work_queue_url, em.text);
        back_off(p, failures);
    }
    return true;
}

/* Stopping with messages in hand (at most one receive's worth): make them
 * visible again at once, in one ChangeMessageVisibilityBatch. */
static void give_back(struct owls_poller *p, struct owls_sqs_message *msgs, size_t n)
{
    struct owls_sqs_batch_entry e[OWLS_SQS_BATCH_MAX];
    struct owls_errmsg em = {{0}};

    n = OWLS_MIN(n, (size_t)OWLS_SQS_BATCH_MAX);
    if (n == 0)
        return;
    memset(e, 0, sizeof(e));
    for (size_t i = 0; i < n; i++)
        e[i].receipt_handle = msgs[i].receipt_handle; /* visibility_timeout 0 */
    if (owls_sqs_change_visibility_batch(p->o.svc->sqs, p->o.cfg->work_queue_url, e, n, NULL,
                                         &em) != OWLS_OK) {
        log_warnx("could not give %zu message%s back (they reappear after their visibility "
                  "timeout): %s",
                  n, n == 1 ? "" : "s", em.text);
        return;
    }
    for (size_t i = 0; i < n; i++)
        if (!e[i].ok)
            log_warnx("could not give message %s back (it reappears after its visibility "
                      "timeout): %s: %s",
                      msgs[i].message_id, e[i].code, e[i].message);
}

static void *poller_main(void *arg)
{
    struct owls_poller *p = arg;
    const struct owls_config *cfg = p->o.cfg;
    int failures = 0;
    bool ready = wait_ready(p);

    while (!atomic_load(p->o.stop)) {
        int idle = owls_pool_wait_idle(p->o.pool, p->o.stop);
        struct owls_sqs_message *msgs = NULL;
        struct owls_errmsg em = {{0}};
        size_t n = 0;

        if (atomic_load(p->o.stop))
            break;
        const struct owls_sqs_receive_opts ro = {
            .max_messages = OWLS_MIN(idle, cfg->max_messages),
            .wait_time_s = cfg->wait_time_seconds,
            .visibility_timeout = cfg->visibility_timeout,
            .cancel = p->o.stop,
        };
        enum owls_err rc =
            owls_sqs_receive(p->o.svc->sqs, cfg->work_queue_url, &ro, &msgs, &n, &em);
        time_t received = time(NULL);
        if (atomic_load(p->o.stop)) {
            give_back(p, msgs, n);
            owls_sqs_messages_free(msgs, n);
            break;
        }
        if (rc != OWLS_OK) {
            if (failures++ == 0 || failures % 10 == 0)
                log_warnx("receiving from the work queue failed (%s); backing off", em.text);
            back_off(p, failures);
            continue;
        }
        if (failures > 0)
            log_notice("work queue reachable again after %d failed attempts", failures);
        failures = 0;
        if (!ready) {
            signal_ready(p);
            ready = true;
        }
        /* Short polling (wait_time_seconds = 0) on an empty queue: one
         * request a second, not a busy loop. */
        if (n == 0 && cfg->wait_time_seconds == 0)
            owls_http_sleep(p->o.svc->http, 1000, p->o.stop);
        for (size_t i = 0; i < n; i++) {
            /* The slot takes the message and its strings; only the array is ours. */
            struct owls_sqs_message *one = owls_xmalloc(sizeof(*one));
            *one = msgs[i];
            memset(&msgs[i], 0, sizeof(msgs[i]));
            if (!owls_pool_submit(p->o.pool, one, received)) {
                log_err("no idle worker for a received message (a bug); giving it back");
                give_back(p, one, 1);
                owls_sqs_messages_free(one, 1);
            }
        }
        owls_sqs_messages_free(msgs, n);
    }
    return NULL;
}

enum owls_err owls_poller_start(const struct owls_poller_opts *o, struct owls_poller **out,
                                struct owls_errmsg *em)
{
    struct owls_poller *p = owls_xcalloc(1, sizeof(*p));
    p->o = *o;
    if (pthread_create(&p->thread, NULL, poller_main, p) != 0) {
        free(p);
        return owls_errmsg_set(em, OWLS_EIO, "cannot start the poller thread");
    }
    *out = p;
    return OWLS_OK;
}

void owls_poller_free(struct owls_poller *p)
{
    if (p == NULL)
        return;
    pthread_join(p->thread, NULL);
    free(p);
}
