/* The Q4 split: scaler, projectors (sign convention, both R-factor methods),
 * quadrants at their boundaries, energies. Expected values are analytic. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "owls/csv.h"
#include "owls/private/split.h"
#include "owls/split.h"

static void near(double got, double want, double rel, const char *what)
{
    double tol = rel * fmax(1.0, fabs(want));
    if (!(fabs(got - want) <= tol))
        fail_msg("%s: got %.17g, want %.17g (tolerance %g)", what, got, want, tol);
}

struct sign_case {
    const char *name;
    double in[3];
    double out[3];
};

static const struct sign_case s_sign[] = {
    {"largest positive stays", {0.1, 0.9, -0.2}, {0.1, 0.9, -0.2}},
    {"largest negative flips", {0.1, -0.9, 0.2}, {-0.1, 0.9, -0.2}},
    {"exact tie, first positive", {0.5, -0.5, 0.1}, {0.5, -0.5, 0.1}},
    {"exact tie, first negative", {-0.5, 0.5, 0.1}, {0.5, -0.5, -0.1}},
    {"tie within 1e-12: lowest index decides", {-0.5, 0.5 + 5e-13, 0}, {0.5, -0.5 - 5e-13, -0}},
    {"not a tie beyond 1e-12", {-0.5, 0.5 + 5e-12, 0}, {-0.5, 0.5 + 5e-12, 0}},
};

static void test_sign_convention(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof(s_sign) / sizeof(s_sign[0]); i++) {
        double v[3];
        memcpy(v, s_sign[i].in, sizeof(v));
        owls_projector_fix_sign(v, 3);
        for (int j = 0; j < 3; j++)
            if (v[j] != s_sign[i].out[j])
                fail_msg("%s: entry %d is %g, want %g", s_sign[i].name, j, v[j], s_sign[i].out[j]);
    }
}

static void test_top_two(void **state)
{
    static const struct {
        double v[4];
        size_t n, a, b;
    } cases[] = {
        {{3, 2, 1}, 3, 0, 1},    {{1, 3, 2}, 3, 1, 2}, {{1, 2, 3}, 3, 2, 1},
        {{2, 1, 3}, 3, 2, 0},    {{5, 5}, 2, 0, 1},    {{1, 4, 4, 4}, 4, 1, 2},
        {{0, 0, 0, 9}, 4, 3, 0},
    };
    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        gsl_vector_const_view v = gsl_vector_const_view_array(cases[i].v, cases[i].n);
        size_t idx[2];
        owls_top_two(&v.vector, idx);
        if (idx[0] != cases[i].a || idx[1] != cases[i].b)
            fail_msg("case %zu: got %zu, %zu; want %zu, %zu", i, idx[0], idx[1], cases[i].a,
                     cases[i].b);
    }
}

static void test_quadrant_boundaries(void **state)
{
    const double p1[] = {0.0, -0.0, -1e-300, 0.0, 1, -1, -1, 1, 0.0};
    const double p2[] = {0.0, 0.0, 0.0, -1e-300, 1, 1, -1, -1, -0.0};
    const uint8_t want[] = {OWLS_Q1, OWLS_Q1, OWLS_Q2, OWLS_Q4, OWLS_Q1,
                            OWLS_Q2, OWLS_Q3, OWLS_Q4, OWLS_Q1};
    uint8_t q[9];
    (void)state;
    owls_four_quadrants(p1, p2, 9, q);
    assert_memory_equal(q, want, sizeof(want));
}

static void test_energy_split(void **state)
{
    const double e[] = {1, 2, 3, 4, 5, 6};
    const uint8_t q[] = {OWLS_Q1, OWLS_Q4, OWLS_Q4, OWLS_Q2, OWLS_Q3, OWLS_Q1};
    struct owls_energy_acc acc;
    (void)state;
    memset(&acc, 0, sizeof(acc));
    owls_energy_split(e, q, 6, &acc);
    assert_int_equal(acc.rows[OWLS_Q1], 2);
    assert_int_equal(acc.rows[OWLS_Q2], 1);
    assert_int_equal(acc.rows[OWLS_Q3], 1);
    assert_int_equal(acc.rows[OWLS_Q4], 2);
    assert_true(owls_energy_total(&acc, OWLS_Q1) == 7);
    assert_true(owls_energy_total(&acc, OWLS_Q4) == 5);
    assert_true(owls_energy_total(&acc, OWLS_Q2) == 4);
    assert_true(owls_energy_total(&acc, OWLS_Q3) == 5);
}

static void test_scaler(void **state)
{
    /* Population sigma; a constant column gets sigma 1 and its exact mean. */
    const double a[] = {1, 2, 3, 4};
    const double c[] = {0.1, 0.1, 0.1, 0.1};
    const double big[] = {1e300, 2e300, 3e300, 4e300};
    const double tiny[] = {1e-300, 2e-300, 3e-300, 4e-300};
    const double *x[] = {a, c, big, tiny};
    double mean[4], scale[4];
    (void)state;
    owls_scaler_fit(x, 4, 4, mean, scale);
    near(mean[0], 2.5, 1e-15, "mean a");
    near(scale[0], sqrt(1.25), 1e-15, "scale a");
    assert_true(mean[1] == 0.1 && scale[1] == 1);
    near(mean[2] / 1e300, 2.5, 1e-15, "mean big");
    near(scale[2] / 1e300, sqrt(1.25), 1e-15, "scale big");
    near(mean[3] / 1e-300, 2.5, 1e-15, "mean tiny");
    near(scale[3] / 1e-300, sqrt(1.25), 1e-15, "scale tiny");
}

/* Two columns with correlation rho: Z^T Z = N [[1, rho], [rho, 1]], whose
 * eigenvectors are (1, 1)/sqrt2 and (1, -1)/sqrt2 -- an exact tie in |entry|
 * that the sign convention settles by the lowest index. */
static void test_two_columns_analytic(void **state)
{
    enum { N = 1000 };
    static double a[N], b[N];
    const double *x[] = {a, b};
    double mean[2], scale[2], v1[2], v2[2], sv[2], evr[2];
    struct owls_errmsg em = {{0}};
    double za[N], zb[N], rho = 0;
    (void)state;
    for (int i = 0; i < N; i++) {
        a[i] = sin(i * 0.37) * 3 + 7;
        b[i] = 0.5 * a[i] + cos(i * 1.3);
    }
    owls_scaler_fit(x, N, 2, mean, scale);
    for (int i = 0; i < N; i++) {
        za[i] = (a[i] - mean[0]) / scale[0];
        zb[i] = (b[i] - mean[1]) / scale[1];
        rho += za[i] * zb[i];
    }
    rho /= N;
    for (int m = OWLS_RFACTOR_TSQR; m <= OWLS_RFACTOR_CHOLQR2; m++) {
        assert_int_equal(owls_learn_projectors_with(x, N, 2, mean, scale, (enum owls_rfactor)m,
                                                    NULL, v1, v2, sv, evr, &em),
                         OWLS_OK);
        near(v1[0], M_SQRT1_2, 1e-12, "v1[0]");
        near(v1[1], M_SQRT1_2, 1e-12, "v1[1]");
        near(v2[0], M_SQRT1_2, 1e-12, "v2[0]");
        near(v2[1], -M_SQRT1_2, 1e-12, "v2[1]");
        near(sv[0], sqrt(N * (1 + rho)), 1e-12, "s1");
        near(sv[1], sqrt(N * (1 - rho)), 1e-12, "s2");
        near(evr[0], (1 + rho) / 2, 1e-12, "r1");
        near(evr[1], (1 - rho) / 2, 1e-12, "r2");
    }
}

/* xorshift64: reproducible uniform doubles in [0, 1). */
static double uniform(uint64_t *s)
{
    *s ^= *s << 13, *s ^= *s >> 7, *s ^= *s << 17;
    return (double)(*s >> 11) / 9007199254740992.0;
}

/* method against GSL's TSQR (the reference): singular values and explained
 * variance within tol_s, axes within tol_v; the R factor used must be want. */
static void check_vs_tsqr(const double *const *x, size_t n, size_t d, enum owls_rfactor method,
                          enum owls_rfactor want, double tol_s, double tol_v)
{
    double mean[8], scale[8], a1[8], a2[8], b1[8], b2[8], sa[2], sb[2], ea[2], eb[2];
    struct owls_errmsg em = {{0}};
    enum owls_rfactor used;

    assert_true(d <= 8);
    owls_scaler_fit(x, n, d, mean, scale);
    assert_int_equal(owls_learn_projectors_with(x, n, d, mean, scale, OWLS_RFACTOR_TSQR, NULL, a1,
                                                a2, sa, ea, &em),
                     OWLS_OK);
    assert_int_equal(
        owls_learn_projectors_with(x, n, d, mean, scale, method, &used, b1, b2, sb, eb, &em),
        OWLS_OK);
    assert_int_equal(used, want);
    for (int k = 0; k < 2; k++) {
        near(sb[k], sa[k], tol_s, "singular value");
        near(eb[k], ea[k], tol_s, "explained variance");
    }
    for (size_t j = 0; j < d; j++) {
        near(b1[j], a1[j], tol_v, "v1");
        near(b2[j], a2[j], tol_v, "v2");
    }
}

/* CholeskyQR2 (the fast path) against GSL's TSQR (the reference). */
static void test_cholqr2_matches_tsqr(void **state)
{
    enum { N = 5000, D = 7 };
    static double cols[D][N];
    const double *x[D];
    uint64_t s = 42;
    (void)state;
    for (int j = 0; j < D; j++)
        x[j] = cols[j];
    for (int i = 0; i < N; i++) {
        for (int j = 0; j < D; j++)
            cols[j][i] = uniform(&s) - 0.5;
        cols[1][i] += 2 * cols[0][i];                       /* correlated */
        cols[3][i] = cols[3][i] * 1e6 + 1e9;                /* large offset */
        cols[5][i] = cols[4][i] * 1e-3 + cols[5][i] * 1e-7; /* nearly collinear */
    }
    check_vs_tsqr(x, N, D, OWLS_RFACTOR_CHOLQR2, OWLS_RFACTOR_CHOLQR2, 1e-13, 1e-11);
}

/* The automatic choice: one Gram pass for well-separated top singular
 * values, two when lambda1/lambda2 is large; both against GSL's TSQR. */
static void test_auto_method(void **state)
{
    enum { N = 20000, D = 6 };
    static double cols[D][N];
    const double *x[D];
    uint64_t s = 7;
    (void)state;
    for (int j = 0; j < D; j++)
        x[j] = cols[j];
    for (int i = 0; i < N; i++) {
        for (int j = 0; j < D; j++)
            cols[j][i] = uniform(&s);
        cols[2][i] += 0.5 * cols[0][i];
    }
    /* lambda1/lambda2 ~ 1.5 */
    check_vs_tsqr(x, N, D, OWLS_RFACTOR_AUTO, OWLS_RFACTOR_CHOLQR, 1e-12, 1e-10);
    for (int i = 0; i < N; i++)
        for (int j = 1; j < D; j++)
            cols[j][i] = cols[0][i] + 1e-2 * cols[j][i]; /* one dominant direction */
    check_vs_tsqr(x, N, D, OWLS_RFACTOR_AUTO, OWLS_RFACTOR_CHOLQR2, 1e-12, 1e-10);
}

/* A duplicated column makes Z rank-deficient: CholeskyQR2 refuses, the
 * automatic choice falls back to TSQR and still finds the axes. */
static void test_rank_deficient_falls_back(void **state)
{
    enum { N = 300 };
    static double a[N], b[N], c[N];
    const double *x[] = {a, b, c};
    double mean[3], scale[3], v1[3], v2[3], sv[2], evr[2];
    struct owls_errmsg em = {{0}};
    (void)state;
    for (int i = 0; i < N; i++) {
        a[i] = sin(i * 0.1);
        b[i] = a[i];
        c[i] = cos(i * 0.7);
    }
    owls_scaler_fit(x, N, 3, mean, scale);
    assert_int_equal(owls_learn_projectors_with(x, N, 3, mean, scale, OWLS_RFACTOR_CHOLQR2, NULL,
                                                v1, v2, sv, evr, &em),
                     OWLS_EINTERNAL);
    assert_int_equal(owls_learn_projectors_linear(x, N, 3, mean, scale, v1, v2, sv, evr, &em),
                     OWLS_OK);
    /* The duplicated pair shares the first axis equally. */
    near(v1[0], v1[1], 1e-12, "v1 symmetric");
    assert_true(v1[0] > 0);
    near(evr[0] + evr[1], 1.0, 1e-9, "all variance in two axes");
}

static void test_split_end_to_end(void **state)
{
    /* Rows placed in known quadrants: p1 ~ a + b, p2 ~ a - b for this data. */
    const char *text = "a,b,label\n"
                       "2,1,q1\n"
                       "-1,-2,q3\n"
                       "1,2,q4\n"
                       "-2,-1,q2\n";
    struct owls_table *t = NULL;
    struct owls_q4_result r, r2;
    struct owls_errmsg em = {{0}};
    (void)state;
    assert_int_equal(owls_csv_read(text, strlen(text), "t", NULL, &t, &em), OWLS_OK);
    assert_int_equal(owls_q4_split(t, &r, &em), OWLS_OK);
    assert_int_equal(r.d, 2);
    assert_int_equal(r.rows[OWLS_Q1] + r.rows[OWLS_Q2] + r.rows[OWLS_Q3] + r.rows[OWLS_Q4], 4);
    assert_int_equal(r.keep[0], 1);
    assert_int_equal(r.keep[1], 0);
    assert_int_equal(r.keep[2], 1);
    assert_int_equal(r.keep[3], 0);
    /* Energy of standardized rows sums to N * d. */
    near(r.total_energy, 8.0, 1e-14, "total energy");
    /* Deterministic: bit-identical on a second run. */
    assert_int_equal(owls_q4_split(t, &r2, &em), OWLS_OK);
    assert_memory_equal(r.v[0], r2.v[0], 2 * sizeof(double));
    assert_memory_equal(r.energy, r2.energy, sizeof(r.energy));
    owls_q4_result_cleanup(&r);
    owls_q4_result_cleanup(&r2);
    owls_table_free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sign_convention),
        cmocka_unit_test(test_top_two),
        cmocka_unit_test(test_quadrant_boundaries),
        cmocka_unit_test(test_energy_split),
        cmocka_unit_test(test_scaler),
        cmocka_unit_test(test_two_columns_analytic),
        cmocka_unit_test(test_cholqr2_matches_tsqr),
        cmocka_unit_test(test_auto_method),
        cmocka_unit_test(test_rank_deficient_falls_back),
        cmocka_unit_test(test_split_end_to_end),
    };
    return cmocka_run_group_tests_name("split", tests, NULL, NULL);
}
