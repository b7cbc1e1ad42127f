#include <string.h>

#include "owls/services.h"

enum owls_err owls_services_open(const struct owls_config *cfg, struct owls_services *out,
                                 struct owls_errmsg *em)
{
    enum owls_err rc;
    const struct owls_aws_opts opts = {
        .region = cfg->region,
        .s3_endpoint = cfg->endpoint_s3,
        .sqs_endpoint = cfg->endpoint_sqs,
        .s3_addressing = cfg->addressing,
        .ca_bundle = cfg->ca_bundle,
    };

    memset(out, 0, sizeof(*out));
    if ((rc = owls_http_new(&opts, &out->http, em)) != OWLS_OK ||
        (rc = owls_creds_provider_new(NULL, &out->creds)) != OWLS_OK ||
        (rc = owls_s3_new(&opts, out->http, out->creds, &out->s3, em)) != OWLS_OK ||
        (rc = owls_sqs_new(&opts, out->http, out->creds, &out->sqs, em)) != OWLS_OK) {
        if (rc == OWLS_ENOMEM)
            owls_errmsg_set(em, rc, "out of memory opening the AWS clients");
        owls_services_close(out);
        return rc;
    }
    return OWLS_OK;
}

void owls_services_close(struct owls_services *s)
{
    owls_sqs_free(s->sqs);
    owls_s3_free(s->s3);
    owls_creds_provider_free(s->creds);
    owls_http_free(s->http);
    memset(s, 0, sizeof(*s));
}
