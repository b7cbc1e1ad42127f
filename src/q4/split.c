/*
 * DESIGN: the Q4 split works on the numeric columns in place (one double
 * array per column, as the readers produce them) and never materializes the
 * N x d matrix Z: each pass standardizes a block of BLOCK rows into a small
 * row-major tile and consumes it.
 *
 *   1. scaler: per column, a compensated sum (mean) and a compensated sum of
 *      squared deviations scaled by a power of two (sigma) -- exact scaling,
 *      so columns at 1e-300 or 1e300 neither underflow nor overflow;
 *   2. projectors: R of Z = QR is accumulated block by block (GSL's
 *      triangle-on-rectangle QR, a streamed TSQR), then GSL's one-sided
 *      Jacobi SVD of the d x d R gives the singular values and right singular
 *      vectors of Z with the accuracy of a direct SVD, without squaring the
 *      condition number as Z^T Z would;
 *   3. per row: p1, p2, quadrant, energy, accumulated per quadrant in input
 *      order (compensated).
 * Everything runs in a fixed order on one thread: results are bit-identical
 * from run to run.
 */
#include <gsl/gsl_eigen.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_linalg.h>
#include <gsl/gsl_matrix.h>
#include <gsl/gsl_vector.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "owls/private/split.h"
#include "owls/split.h"
#include "owls/util.h"

#define BLOCK    256
#define SIGN_TIE 1e-12

static inline void neumaier_add(double *sum, double *comp, double x)
{
    double t = *sum + x;
    if (fabs(*sum) >= fabs(x))
        *comp += (*sum - t) + x;
    else
        *comp += (x - t) + *sum;
    *sum = t;
}

/* e such that 2^(e-1) <= m < 2^e (m > 0 finite), else 0. */
static int exponent_of(double m)
{
    int e = 0;
    if (m > 0 && isfinite(m))
        frexp(m, &e);
    return e;
}

/*
 * Sums for the scaler: blocks of BLOCK values summed with four independent
 * accumulators (branch-free, pipelined; error ~BLOCK/4 ulps of the block's
 * magnitude), the block sums added with Neumaier's compensation (error
 * independent of the number of blocks). scale multiplies every value first
 * (a power of two: exact) and shift is subtracted; squares when square.
 */
static double block_sum(const double *c, size_t n, double shift, double scale, bool square)
{
    double sum = 0, comp = 0;

    for (size_t i0 = 0; i0 < n; i0 += BLOCK) {
        size_t b = OWLS_MIN((size_t)BLOCK, n - i0), i = 0;
        const double *x = c + i0;
        double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        if (square) {
            for (; i + 4 <= b; i += 4) {
                double d0 = (x[i] - shift) * scale, d1 = (x[i + 1] - shift) * scale;
                double d2 = (x[i + 2] - shift) * scale, d3 = (x[i + 3] - shift) * scale;
                s0 += d0 * d0, s1 += d1 * d1, s2 += d2 * d2, s3 += d3 * d3;
            }
            for (; i < b; i++) {
                double d = (x[i] - shift) * scale;
                s0 += d * d;
            }
        } else {
            for (; i + 4 <= b; i += 4) {
                s0 += x[i] * scale, s1 += x[i + 1] * scale;
                s2 += x[i + 2] * scale, s3 += x[i + 3] * scale;
            }
            for (; i < b; i++)
                s0 += x[i] * scale;
        }
        neumaier_add(&sum, &comp, (s0 + s1) + (s2 + s3));
    }
    return sum + comp;
}

static void fit_column(const double *c, size_t n, double *mean, double *scale)
{
    double lo = c[0], hi = c[0], mu, dmax, k;
    int e;

    for (size_t i = 0; i < n; i++) {
        lo = c[i] < lo ? c[i] : lo;
        hi = c[i] > hi ? c[i] : hi;
    }
    if (lo == hi) {
        /* Constant: sigma is exactly 0 (SPEC: then 1), the mean exactly the value. */
        *mean = lo;
        *scale = 1;
        return;
    }
    /* Values scaled by a power of two near their magnitude: 1e300s cannot
     * overflow the sum, 1e-300s cannot underflow it. */
    e = exponent_of(fmax(fabs(lo), fabs(hi)));
    k = e > -1000 && e < 1000 ? ldexp(1.0, -e) : 0;
    if (k != 0) {
        mu = ldexp(block_sum(c, n, 0, k, false) / (double)n, e);
    } else {
        double sum = 0, comp = 0;
        for (size_t i = 0; i < n; i++)
            neumaier_add(&sum, &comp, ldexp(c[i], -e));
        mu = ldexp((sum + comp) / (double)n, e);
    }
    mu = fmin(fmax(mu, lo), hi); /* rounding cannot put the mean outside the data */
    dmax = fmax(hi - mu, mu - lo);
    e = exponent_of(dmax);
    if (e >= -1000) {
        *scale = ldexp(sqrt(block_sum(c, n, mu, ldexp(1.0, -e), true) / (double)n), e);
    } else {
        double ss = 0, sc = 0;
        for (size_t i = 0; i < n; i++) {
            double dev = ldexp(c[i] - mu, -e);
            neumaier_add(&ss, &sc, dev * dev);
        }
        *scale = ldexp(sqrt((ss + sc) / (double)n), e);
    }
    *mean = mu;
    if (*scale == 0)
        *scale = 1;
}

void owls_scaler_fit(const double *const *x, size_t n, size_t d, double *mean, double *scale)
{
    for (size_t j = 0; j < d; j++)
        fit_column(x[j], n, &mean[j], &scale[j]);
}

/* Standardized rows i0..i0+b-1 into the row-major tile z (b x d), for GSL. */
static void standardize_rows(const double *const *x, size_t i0, size_t b, size_t d,
                             const double *mean, const double *scale, double *z)
{
    for (size_t j = 0; j < d; j++) {
        const double *c = x[j] + i0;
        const double mu = mean[j], inv = 1 / scale[j];
        for (size_t i = 0; i < b; i++)
            z[i * d + j] = (c[i] - mu) * inv;
    }
}

/* The same into a column-major tile (column j at zc + j * BLOCK), rows past b
 * zeroed: fixed-length loops over contiguous rows, and zero rows add nothing
 * to a Gram matrix. */
static void standardize_tile(const double *const *x, size_t i0, size_t b, size_t d,
                             const double *mean, const double *scale, double *zc)
{
    for (size_t j = 0; j < d; j++) {
        const double *c = x[j] + i0;
        const double mu = mean[j], inv = 1 / scale[j];
        double *zj = zc + j * BLOCK;
        for (size_t i = 0; i < b; i++)
            zj[i] = (c[i] - mu) * inv;
        for (size_t i = b; i < BLOCK; i++)
            zj[i] = 0;
    }
}

static inline double dot_block(const double *a, const double *b)
{
    double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    for (size_t i = 0; i < BLOCK; i += 4) {
        s0 += a[i] * b[i];
        s1 += a[i + 1] * b[i + 1];
        s2 += a[i + 2] * b[i + 2];
        s3 += a[i + 3] * b[i + 3];
    }
    return (s0 + s1) + (s2 + s3);
}

void owls_projector_fix_sign(double *v, size_t d)
{
    double amax = 0;
    size_t pick = 0;

    for (size_t j = 0; j < d; j++)
        amax = fmax(amax, fabs(v[j]));
    /* The lowest index among the entries tied (within 1e-12) for largest. */
    for (size_t j = 0; j < d; j++) {
        if (fabs(v[j]) >= amax - SIGN_TIE) {
            pick = j;
            break;
        }
    }
    if (v[pick] < 0)
        for (size_t j = 0; j < d; j++)
            v[j] = -v[j];
}

static pthread_once_t s_gsl_once = PTHREAD_ONCE_INIT;

static void gsl_quiet(void)
{
    /* GSL aborts on errors by default; we check status codes instead. */
    gsl_set_error_handler_off();
}

/* R of Z by GSL's triangle-on-rectangle QR, block by block: the reference
 * method, and the one for badly conditioned Z. */
static enum owls_err r_factor_tsqr(const double *const *x, size_t n, size_t d, const double *mean,
                                   const double *scale, gsl_matrix *R, struct owls_errmsg *em)
{
    enum owls_err rc = OWLS_EINTERNAL;
    gsl_matrix *tile = gsl_matrix_alloc(BLOCK, d);
    gsl_matrix *T = gsl_matrix_alloc(d, d);
    int status;

    gsl_matrix_set_zero(R);
    for (size_t i0 = 0; i0 < n; i0 += BLOCK) {
        size_t b = OWLS_MIN((size_t)BLOCK, n - i0);
        gsl_matrix_view A = gsl_matrix_submatrix(tile, 0, 0, b, d);
        standardize_rows(x, i0, b, d, mean, scale, tile->data);
        /* [R; A] = Q [R'; 0]: R is replaced by R', A by Householder vectors. */
        status = gsl_linalg_QR_UR_decomp(R, &A.matrix, T);
        if (status != GSL_SUCCESS) {
            owls_errmsg_set(em, rc, "GSL QR update failed: %s", gsl_strerror(status));
            goto out;
        }
    }
    for (size_t i = 1; i < d; i++)
        for (size_t j = 0; j < i; j++)
            gsl_matrix_set(R, i, j, 0);
    rc = OWLS_OK;
out:
    gsl_matrix_free(tile);
    gsl_matrix_free(T);
    return rc;
}

/* G = Q^T Q over all rows, where Q = Z L^-T (L lower triangular), or Z
 * itself when L is NULL. Per tile: a forward substitution along contiguous
 * rows, then the upper triangle's dot products; per-tile partial sums keep
 * the rounding error near (BLOCK + n / BLOCK) ulps. */
static void gram_pass(const double *const *x, size_t n, size_t d, const double *mean,
                      const double *scale, const gsl_matrix *L, double *G)
{
    double *zc = owls_xmalloc((size_t)BLOCK * d * sizeof(double));

    memset(G, 0, d * d * sizeof(double));
    for (size_t i0 = 0; i0 < n; i0 += BLOCK) {
        standardize_tile(x, i0, OWLS_MIN((size_t)BLOCK, n - i0), d, mean, scale, zc);
        if (L) {
            for (size_t j = 0; j < d; j++) {
                double *qj = zc + j * BLOCK;
                for (size_t k = 0; k < j; k++) {
                    const double ljk = gsl_matrix_get(L, j, k);
                    const double *qk = zc + k * BLOCK;
                    for (size_t i = 0; i < BLOCK; i++)
                        qj[i] -= ljk * qk[i];
                }
                const double inv = 1 / gsl_matrix_get(L, j, j);
                for (size_t i = 0; i < BLOCK; i++)
                    qj[i] *= inv;
            }
        }
        for (size_t a = 0; a < d; a++)
            for (size_t c = a; c < d; c++)
                G[a * d + c] += dot_block(zc + a * BLOCK, zc + c * BLOCK);
    }
    for (size_t a = 0; a < d; a++)
        for (size_t c = 0; c < a; c++)
            G[a * d + c] = G[c * d + a];
    free(zc);
}

/* Cholesky of the d x d matrix G (row-major) into L (lower); false when G
 * is not numerically positive definite or too badly conditioned for
 * CholeskyQR2 (kappa(Z) above ~1e6). */
static bool cholesky(const double *G, size_t d, gsl_matrix *L)
{
    gsl_vector *work = gsl_vector_alloc(3 * d);
    double rcond = 0;
    bool ok;

    for (size_t i = 0; i < d; i++)
        for (size_t j = 0; j < d; j++)
            gsl_matrix_set(L, i, j, G[i * d + j]);
    ok = gsl_linalg_cholesky_decomp1(L) == GSL_SUCCESS &&
         gsl_linalg_cholesky_rcond(L, &rcond, work) == GSL_SUCCESS && rcond > 1e-12;
    gsl_vector_free(work);
    return ok;
}

/* Indices of the two largest entries of v (size >= 2), the lower index
 * first among equals. */
OWLS_TESTABLE void owls_top_two(const gsl_vector *v, size_t idx[2])
{
    size_t a = 0, b = SIZE_MAX;

    for (size_t k = 1; k < v->size; k++) {
        double x = gsl_vector_get(v, k);
        if (x > gsl_vector_get(v, a)) {
            b = a;
            a = k;
        } else if (b == SIZE_MAX || x > gsl_vector_get(v, b)) {
            b = k;
        }
    }
    idx[0] = a;
    idx[1] = b;
}

/* lambda_1 / lambda_2 of the symmetric d x d G (row-major), by GSL. */
static double top_eigen_ratio(const double *G, size_t d)
{
    gsl_matrix *A = gsl_matrix_alloc(d, d);
    gsl_vector *ev = gsl_vector_alloc(d);
    gsl_eigen_symm_workspace *w = gsl_eigen_symm_alloc(d);
    double ratio = INFINITY;
    size_t top[2];

    for (size_t i = 0; i < d * d; i++)
        A->data[(i / d) * A->tda + i % d] = G[i];
    if (gsl_eigen_symm(A, ev, w) == GSL_SUCCESS) {
        owls_top_two(ev, top);
        if (gsl_vector_get(ev, top[1]) > 0)
            ratio = gsl_vector_get(ev, top[0]) / gsl_vector_get(ev, top[1]);
    }
    gsl_eigen_symm_free(w);
    gsl_vector_free(ev);
    gsl_matrix_free(A);
    return ratio;
}

/*
 * R of Z by CholeskyQR (Fukaya et al. 2014): R1 = chol(Z^T Z); when allowed
 * and lambda_1/lambda_2 <= 100, R1 already gives s1, s2, v1, v2 to ~1e-10
 * relative (the Gram's rounding, ~(BLOCK + n/BLOCK) ulps of lambda_1, costs
 * at most lambda_1/lambda_2 in s2's relative accuracy); otherwise CholeskyQR2:
 * Q1 = Z R1^-1, R2 = chol(Q1^T Q1), R = R2 R1, as accurate as Householder QR
 * while kappa(Z) < ~1e6. Streaming passes of pipelined arithmetic; the
 * Cholesky factorizations and eigenvalues are GSL's. False: use
 * r_factor_tsqr(). *passes tells how many Gram passes were made.
 */
#define SINGLE_PASS_MAX_RATIO 100.0

static bool r_factor_cholqr(const double *const *x, size_t n, size_t d, const double *mean,
                            const double *scale, bool allow_single, gsl_matrix *R, int *passes)
{
    double *G = owls_xmalloc(d * d * sizeof(double));
    gsl_matrix *L1 = gsl_matrix_alloc(d, d), *L2 = gsl_matrix_alloc(d, d);
    bool ok = false;

    *passes = 1;
    gram_pass(x, n, d, mean, scale, NULL, G);
    if (!cholesky(G, d, L1))
        goto out;
    if (allow_single && top_eigen_ratio(G, d) <= SINGLE_PASS_MAX_RATIO) {
        gsl_matrix_set_identity(L2);
    } else {
        *passes = 2;
        gram_pass(x, n, d, mean, scale, L1, G);
        if (!cholesky(G, d, L2))
            goto out;
    }
    /* R = R2 R1 = L2^T L1^T, both upper triangular. */
    for (size_t i = 0; i < d; i++) {
        for (size_t j = 0; j < d; j++) {
            double acc = 0;
            for (size_t k = i; k <= j; k++)
                acc += gsl_matrix_get(L2, k, i) * gsl_matrix_get(L1, j, k);
            gsl_matrix_set(R, i, j, j >= i ? acc : 0);
        }
    }
    ok = true;
out:
    free(G);
    gsl_matrix_free(L1);
    gsl_matrix_free(L2);
    return ok;
}

enum owls_err owls_learn_projectors_with(const double *const *x, size_t n, size_t d,
                                         const double *mean, const double *scale,
                                         enum owls_rfactor method, enum owls_rfactor *used_out,
                                         double *v1, double *v2, double sv[2], double evr[2],
                                         struct owls_errmsg *em)
{
    enum owls_err rc = OWLS_EINTERNAL;
    enum owls_rfactor used = method;
    int passes = 0;
    gsl_matrix *R = gsl_matrix_calloc(d, d);
    gsl_matrix *V = gsl_matrix_alloc(d, d);
    gsl_vector *S = gsl_vector_alloc(d);
    size_t order[2];
    double total = 0;
    int status;

    pthread_once(&s_gsl_once, gsl_quiet);
    switch (method) {
    case OWLS_RFACTOR_AUTO:
    case OWLS_RFACTOR_CHOLQR:
    case OWLS_RFACTOR_CHOLQR2:
        if (r_factor_cholqr(x, n, d, mean, scale, method != OWLS_RFACTOR_CHOLQR2, R, &passes)) {
            used = passes == 1 ? OWLS_RFACTOR_CHOLQR : OWLS_RFACTOR_CHOLQR2;
            break;
        }
        if (method != OWLS_RFACTOR_AUTO) {
            rc = owls_errmsg_set(em, OWLS_EINTERNAL, "CholeskyQR refused this matrix");
            goto out;
        }
        /* badly conditioned: Householder it is */
        __attribute__((fallthrough));
    case OWLS_RFACTOR_TSQR:
        used = OWLS_RFACTOR_TSQR;
        rc = r_factor_tsqr(x, n, d, mean, scale, R, em);
        if (rc != OWLS_OK)
            goto out;
        break;
    }
    if (used_out)
        *used_out = used;
    /* Z = Q R, so Z's singular values and right singular vectors are R's. */
    status = gsl_linalg_SV_decomp_jacobi(R, V, S);
    if (status != GSL_SUCCESS) {
        rc = owls_errmsg_set(em, OWLS_EINTERNAL, "GSL SVD failed: %s", gsl_strerror(status));
        goto out;
    }
    /* The two largest singular values, first index on ties. */
    for (size_t k = 0; k < d; k++)
        total += gsl_vector_get(S, k) * gsl_vector_get(S, k);
    owls_top_two(S, order);
    for (size_t j = 0; j < d; j++) {
        v1[j] = gsl_matrix_get(V, j, order[0]);
        v2[j] = gsl_matrix_get(V, j, order[1]);
    }
    owls_projector_fix_sign(v1, d);
    owls_projector_fix_sign(v2, d);
    for (int k = 0; k < 2; k++) {
        sv[k] = gsl_vector_get(S, order[k]);
        evr[k] = total > 0 ? sv[k] * sv[k] / total : 0;
    }
    rc = OWLS_OK;
out:
    gsl_matrix_free(R);
    gsl_matrix_free(V);
    gsl_vector_free(S);
    return rc;
}

enum owls_err owls_learn_projectors_linear(const double *const *x, size_t n, size_t d,
                                           const double *mean, const double *scale, double *v1,
                                           double *v2, double sv[2], double evr[2],
                                           struct owls_errmsg *em)
{
    return owls_learn_projectors_with(x, n, d, mean, scale, OWLS_RFACTOR_AUTO, NULL, v1, v2, sv,
                                      evr, em);
}

void owls_four_quadrants(const double *p1, const double *p2, size_t n, uint8_t *quadrant)
{
    for (size_t i = 0; i < n; i++) {
        bool right = p1[i] >= 0, up = p2[i] >= 0;
        quadrant[i] = right ? (up ? OWLS_Q1 : OWLS_Q4) : (up ? OWLS_Q2 : OWLS_Q3);
    }
}

void owls_energy_split(const double *e, const uint8_t *quadrant, size_t n,
                       struct owls_energy_acc *acc)
{
    for (size_t i = 0; i < n; i++) {
        unsigned q = quadrant[i] & 3u;
        acc->rows[q]++;
        neumaier_add(&acc->sum[q], &acc->comp[q], e[i]);
    }
}

double owls_energy_total(const struct owls_energy_acc *acc, enum owls_quadrant q)
{
    return acc->sum[q] + acc->comp[q];
}

enum owls_err owls_q4_split(const struct owls_table *t, struct owls_q4_result *r,
                            struct owls_errmsg *em)
{
    enum owls_err rc;
    const double **x = NULL;
    double *z = NULL;
    struct owls_energy_acc acc;
    size_t d = owls_table_numeric_count(t), n = t->nrows, k = 0;

    memset(r, 0, sizeof(*r));
    memset(&acc, 0, sizeof(acc));
    if (d < 2 || n < 2)
        return owls_errmsg_set(em, OWLS_EINTERNAL, "split needs a decided table");
    r->nrows = n;
    r->d = d;
    r->cols = owls_xcalloc(d, sizeof(*r->cols));
    r->mean = owls_xcalloc(d, sizeof(double));
    r->scale = owls_xcalloc(d, sizeof(double));
    r->v[0] = owls_xcalloc(d, sizeof(double));
    r->v[1] = owls_xcalloc(d, sizeof(double));
    r->keep = owls_xmalloc(n);
    x = owls_xcalloc(d, sizeof(*x));
    for (size_t j = 0; j < t->ncols; j++) {
        if (t->cols[j].kind == OWLS_COL_NUMERIC) {
            r->cols[k] = j;
            x[k++] = t->cols[j].values;
        }
    }

    owls_scaler_fit(x, n, d, r->mean, r->scale);
    rc = owls_learn_projectors_linear(x, n, d, r->mean, r->scale, r->v[0], r->v[1], r->sv, r->evr,
                                      em);
    if (rc != OWLS_OK)
        goto out;

    z = owls_xmalloc((size_t)BLOCK * d * sizeof(double));
    for (size_t i0 = 0; i0 < n; i0 += BLOCK) {
        size_t b = OWLS_MIN((size_t)BLOCK, n - i0);
        double p1[BLOCK] = {0}, p2[BLOCK] = {0}, e[BLOCK] = {0};
        uint8_t q[BLOCK];

        standardize_tile(x, i0, b, d, r->mean, r->scale, z);
        for (size_t j = 0; j < d; j++) {
            const double *zj = z + j * BLOCK, a = r->v[0][j], c = r->v[1][j];
            for (size_t i = 0; i < BLOCK; i++) {
                p1[i] += zj[i] * a;
                p2[i] += zj[i] * c;
                e[i] += zj[i] * zj[i];
            }
        }
        owls_four_quadrants(p1, p2, b, q);
        owls_energy_split(e, q, b, &acc);
        for (size_t i = 0; i < b; i++)
            r->keep[i0 + i] = q[i] == OWLS_Q1 || q[i] == OWLS_Q4;
    }
    r->total_energy = 0;
    for (int qd = 0; qd < 4; qd++) {
        r->rows[qd] = acc.rows[qd];
        r->energy[qd] = owls_energy_total(&acc, (enum owls_quadrant)qd);
        r->total_energy += r->energy[qd];
    }
out:
    free(z);
    free(x);
    return rc;
}

void owls_q4_result_cleanup(struct owls_q4_result *r)
{
    free(r->cols);
    free(r->mean);
    free(r->scale);
    free(r->v[0]);
    free(r->v[1]);
    free(r->keep);
    memset(r, 0, sizeof(*r));
}
