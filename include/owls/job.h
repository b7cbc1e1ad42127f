/*
 * job.h - one work message, from receipt to acknowledgement (SPEC 2-6):
 *
 *   parse -> for each job: HEAD input -> MANIFEST check (idempotency) ->
 *   download -> read table -> Q4 split -> artifacts in the spool ->
 *   upload (MANIFEST.json last) -> done notification
 *   -> delete the message once every job is settled.
 *
 * A permanent failure is settled by an error record (ERROR.json, or
 * errors/<work-message-id>.json) and a failed notification; a transient one
 * leaves the message for redelivery (its visibility shortened to a backoff).
 * Runs on a worker thread; uses only the clients in ctx (thread-safe) and
 * its own spool directory. Logs carry the job's structured fields.
 */
#ifndef OWLS_JOB_H
#define OWLS_JOB_H

#include <stdatomic.h>
#include <stdbool.h>
#include <time.h>

#include "owls/config.h"
#include "owls/services.h"
#include "owls/sqs.h"

struct owls_daemon_ctx {
    const struct owls_config *cfg;
    struct owls_services *svc;
    const char *spool;         /* directory for artifacts under construction */
    const atomic_bool *cancel; /* set: abandon transfers (shutdown past its grace) */
};

/* Process m (borrowed), received at received (UTC seconds). True when every
 * job it carried succeeded (duplicates included) or there was none (an
 * s3:TestEvent); false if one failed for good or was left for redelivery. */
bool owls_job_process(const struct owls_daemon_ctx *ctx, const struct owls_sqs_message *m,
                      time_t received);

/* Seconds to hide a message after a transient failure on its n-th receipt:
 * 10 s doubling, at most the configured visibility timeout. */
int owls_job_retry_delay(int receive_count, int visibility_timeout);

#endif
