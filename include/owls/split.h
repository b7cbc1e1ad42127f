/*
 * split.h - the Q4 four-quadrant split (SPEC section 3).
 *
 * The steps keep the names of the original Python design:
 *   owls_scaler_fit               StandardScaler: mean, population sigma
 *   owls_learn_projectors_linear  the two principal axes of Z (GSL SVD)
 *   owls_four_quadrants           p1, p2 -> Q1..Q4 per row
 *   owls_energy_split             ||z_i||^2 summed per quadrant
 * owls_q4_split() runs them in order on a decided table. Single-threaded and
 * deterministic: the same table gives bit-identical results on any machine
 * with IEEE doubles. Thread-safe on distinct tables.
 */
#ifndef OWLS_SPLIT_H
#define OWLS_SPLIT_H

#include <stddef.h>
#include <stdint.h>

#include "owls/err.h"
#include "owls/table.h"

enum owls_quadrant { OWLS_Q1, OWLS_Q2, OWLS_Q3, OWLS_Q4 };

struct owls_q4_result {
    size_t nrows;
    size_t d;         /* numeric columns */
    size_t *cols;     /* d indices into the table's columns, input order */
    double *mean;     /* d */
    double *scale;    /* d; sigma, or 1 where sigma == 0 */
    double *v[2];     /* the projectors v1, v2 (d each), SPEC sign convention */
    double sv[2];     /* s1 >= s2 */
    double evr[2];    /* s_k^2 / sum of all s^2 */
    uint8_t *keep;    /* nrows: 1 for Q1 and Q4 rows, 0 for Q2 and Q3 */
    size_t rows[4];   /* per quadrant */
    double energy[4]; /* per quadrant */
    double total_energy;
};

/* Run the split on t (decided, >= 2 numeric columns, >= 2 rows). Fills r;
 * caller releases it with owls_q4_result_cleanup() in every case.
 * OWLS_EINTERNAL with em if GSL fails (it should not on finite input). */
enum owls_err owls_q4_split(const struct owls_table *t, struct owls_q4_result *r,
                            struct owls_errmsg *em);
void owls_q4_result_cleanup(struct owls_q4_result *r);

/* The steps, for tests. x[j] is column j (n values). */
void owls_scaler_fit(const double *const *x, size_t n, size_t d, double *mean, double *scale);
enum owls_err owls_learn_projectors_linear(const double *const *x, size_t n, size_t d,
                                           const double *mean, const double *scale, double *v1,
                                           double *v2, double sv[2], double evr[2],
                                           struct owls_errmsg *em);
void owls_four_quadrants(const double *p1, const double *p2, size_t n, uint8_t *quadrant);

/* Per-quadrant row counts and compensated (Neumaier) energy sums; zero it,
 * feed it rows in input order, read it with owls_energy_total(). */
struct owls_energy_acc {
    size_t rows[4];
    double sum[4];
    double comp[4];
};
void owls_energy_split(const double *e, const uint8_t *quadrant, size_t n,
                       struct owls_energy_acc *acc);
double owls_energy_total(const struct owls_energy_acc *acc, enum owls_quadrant q);

/* The sign convention alone: flip v (d entries) so that its largest |entry|
 * (ties within 1e-12: the lowest index) is positive. */
void owls_projector_fix_sign(double *v, size_t d);

#endif
