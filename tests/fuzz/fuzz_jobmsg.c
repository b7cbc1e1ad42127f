/* Job messages from the work queue are untrusted: parse anything. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "owls/artifacts.h"
#include "owls/jobmsg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct owls_jobmsg m;
    struct owls_errmsg em;
    enum owls_err rc = owls_jobmsg_parse((const char *)data, size, "0123abcd-x", 1756125296,
                                         "owls-q4-archive", &m, &em);
    if (rc == OWLS_OK) {
        for (size_t i = 0; i < m.njobs; i++) {
            const struct owls_job_spec *j = &m.jobs[i];
            /* Invariants the job module relies on. */
            if (j->err == OWLS_OK &&
                (j->input_key == NULL || j->run_id == NULL || !owls_run_id_valid(j->run_id) ||
                 !owls_utf8_valid(j->input_key, strlen(j->input_key))))
                abort();
        }
    } else if (rc != OWLS_EBAD_MESSAGE) {
        abort();
    }
    owls_jobmsg_cleanup(&m);
    return 0;
}
