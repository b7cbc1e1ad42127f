/* Internals of split.c for the unit tests: choose how R of Z = QR is found. */
#ifndef OWLS_PRIVATE_SPLIT_H
#define OWLS_PRIVATE_SPLIT_H

#include <gsl/gsl_vector.h>

#include "owls/split.h"

enum owls_rfactor {
    OWLS_RFACTOR_AUTO,    /* CholeskyQR (one pass when lambda1/lambda2 <= 100, else two);
                             TSQR when Z is badly conditioned */
    OWLS_RFACTOR_TSQR,    /* GSL's QR only (the reference) */
    OWLS_RFACTOR_CHOLQR,  /* CholeskyQR with the one-pass shortcut; fails when refused */
    OWLS_RFACTOR_CHOLQR2, /* CholeskyQR2 always (two passes); fails when refused */
};

/* used (may be NULL) tells which method ran: TSQR, CHOLQR (one pass) or
 * CHOLQR2. */
enum owls_err owls_learn_projectors_with(const double *const *x, size_t n, size_t d,
                                         const double *mean, const double *scale,
                                         enum owls_rfactor method, enum owls_rfactor *used,
                                         double *v1, double *v2, double sv[2], double evr[2],
                                         struct owls_errmsg *em);

#ifdef OWLS_UNIT_TEST
/* Indices of the two largest entries of v (size >= 2), the lower index
 * first among equals (OWLS_TESTABLE: static outside the unit tests). */
void owls_top_two(const gsl_vector *v, size_t idx[2]);
#endif

#endif
