/* The worker pool: hand-over, idle accounting, completion events, stop.
 * (Heartbeats against SQS are covered by the daemon's integration tests.) */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "owls/pool.h"
#include "owls/util.h"

struct gate {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int running; /* jobs inside the job function */
    bool open;   /* let them finish */
    int finished;
    char seen[16][32];
};

static void job(void *arg, const struct owls_sqs_message *m, time_t received, bool *ok)
{
    struct gate *g = arg;
    (void)received;
    pthread_mutex_lock(&g->mu);
    g->running++;
    pthread_cond_broadcast(&g->cv);
    while (!g->open)
        pthread_cond_wait(&g->cv, &g->mu);
    snprintf(g->seen[g->finished % 16], sizeof(g->seen[0]), "%s", m->body);
    g->finished++;
    g->running--;
    pthread_cond_broadcast(&g->cv);
    pthread_mutex_unlock(&g->mu);
    *ok = strcmp(m->body, "bad") != 0;
}

static struct owls_sqs_message *msg(const char *body)
{
    struct owls_sqs_message *m = owls_xcalloc(1, sizeof(*m));
    m->message_id = owls_xstrdup("id");
    m->receipt_handle = owls_xstrdup("rh");
    m->body = owls_xstrdup(body);
    m->body_len = strlen(body);
    return m;
}

static void wait_running(struct gate *g, int n)
{
    pthread_mutex_lock(&g->mu);
    while (g->running < n)
        pthread_cond_wait(&g->cv, &g->mu);
    pthread_mutex_unlock(&g->mu);
}

static void test_handover_and_idle(void **state)
{
    struct gate g = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};
    struct owls_pool *p;
    struct owls_pool_stats st;
    struct owls_errmsg em;
    atomic_bool stop = false;
    int efd;
    uint64_t events = 0, v;
    const struct owls_pool_opts o = {.threads = 3, .job = job, .job_arg = &g};
    (void)state;

    assert_int_equal(owls_pool_start(&o, &p, &efd, &em), OWLS_OK);
    assert_int_equal(owls_pool_wait_idle(p, &stop), 3);
    assert_true(owls_pool_submit(p, msg("a"), 0));
    assert_true(owls_pool_submit(p, msg("bad"), 0));
    assert_true(owls_pool_submit(p, msg("c"), 0));
    wait_running(&g, 3);
    /* Every slot busy: a fourth message is refused, not queued. */
    struct owls_sqs_message *d = msg("d");
    assert_false(owls_pool_submit(p, d, 0));
    owls_sqs_messages_free(d, 1);
    owls_pool_stats(p, &st);
    assert_int_equal(st.busy, 3);

    /* A stopped waiter returns at once even with no idle slot. */
    atomic_store(&stop, true);
    owls_pool_wake(p);
    assert_int_equal(owls_pool_wait_idle(p, &stop), 0);
    atomic_store(&stop, false);

    pthread_mutex_lock(&g.mu);
    g.open = true;
    pthread_cond_broadcast(&g.cv);
    pthread_mutex_unlock(&g.mu);
    /* Completions are signalled on the eventfd, one per message. */
    while (events < 3) {
        if (read(efd, &v, sizeof(v)) == sizeof(v))
            events += v;
        else
            usleep(1000); /* a failure guard loop, not a timing assumption */
    }
    assert_int_equal(owls_pool_wait_idle(p, &stop), 3);
    owls_pool_stats(p, &st);
    assert_int_equal(st.busy, 0);
    assert_int_equal(st.done, 2);
    assert_int_equal(st.failed, 1);
    owls_pool_free(p);
}

/* Many messages through few slots: each runs exactly once. */
static void test_throughput(void **state)
{
    struct gate g = {.mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER, .open = true};
    struct owls_pool *p;
    struct owls_pool_stats st;
    struct owls_errmsg em;
    atomic_bool stop = false;
    int efd, sent = 0;
    const struct owls_pool_opts o = {.threads = 2, .job = job, .job_arg = &g};
    (void)state;

    assert_int_equal(owls_pool_start(&o, &p, &efd, &em), OWLS_OK);
    while (sent < 200) {
        int idle = owls_pool_wait_idle(p, &stop);
        for (int i = 0; i < idle && sent < 200; i++, sent++)
            assert_true(owls_pool_submit(p, msg("x"), 0));
    }
    pthread_mutex_lock(&g.mu);
    while (g.finished < 200)
        pthread_cond_wait(&g.cv, &g.mu);
    pthread_mutex_unlock(&g.mu);
    while (owls_pool_wait_idle(p, &stop) != 2)
        usleep(1000);
    owls_pool_stats(p, &st);
    assert_int_equal(st.done, 200);
    owls_pool_free(p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_handover_and_idle),
        cmocka_unit_test(test_throughput),
    };
    return cmocka_run_group_tests_name("pool", tests, NULL, NULL);
}
