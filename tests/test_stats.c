/* test_stats.c — the bootstrap interval and the Wilcoxon test against published values. */
#include <criterion/criterion.h>
#include <errno.h>
#include <math.h>

#include "stats.h"

/* Darwin's Zea mays data as differences (Fisher 1935), the example of SciPy's
 * scipy.stats.wilcoxon documentation: W- = 24, W+ = 96, exact two-sided
 * p = 0.041259765625 (1352 of the 2^15 sign patterns are as extreme). */
Test(wilcoxon, darwin_exact)
{
	const double d[] = {6, 8, 14, 16, 23, 24, 28, 29, 41, -48, 49, 56, 60, -67, 75};
	double wp;
	int m;
	double p = xpu_wilcoxon(d, 15, &wp, &m);
	cr_assert_eq(m, 15);
	cr_assert_float_eq(wp, 96, 1e-12);
	cr_assert_float_eq(p, 0.041259765625, 1e-12);
}

/* R's ?wilcox.test example (Hollander and Wolfe, depression scale x - y): V = 40,
 * one-sided p = 0.01953 = 10/512, so two-sided 20/512. */
Test(wilcoxon, hollander_wolfe_depression)
{
	const double x[] = {1.83, 0.50, 1.62, 2.48, 1.68, 1.88, 1.55, 3.06, 1.30};
	const double y[] = {0.878, 0.647, 0.598, 2.05, 1.06, 1.29, 1.06, 3.14, 1.29};
	double d[9], wp;
	for (int i = 0; i < 9; i++)
		d[i] = x[i] - y[i];
	double p = xpu_wilcoxon(d, 9, &wp, NULL);
	cr_assert_float_eq(wp, 40, 1e-12);
	cr_assert_float_eq(p, 20.0 / 512, 1e-12);
}

Test(wilcoxon, zeros_dropped_and_all_zero_is_one)
{
	const double z[] = {0, 0, 0};
	int m = -1;
	cr_assert_float_eq(xpu_wilcoxon(z, 3, NULL, &m), 1, 0);
	cr_assert_eq(m, 0);
	/* One positive difference among zeros: n = 1, both tails 1/2, p = 1. */
	const double one[] = {0, 3, 0};
	cr_assert_float_eq(xpu_wilcoxon(one, 3, NULL, &m), 1, 0);
	cr_assert_eq(m, 1);
	/* Six positive differences: the most extreme of 2^6 patterns, two-sided 2/64. */
	const double six[] = {1, 2, 3, 4, 5, 6};
	cr_assert_float_eq(xpu_wilcoxon(six, 6, NULL, NULL), 2.0 / 64, 1e-15);
}

/* Mid-ranks: |d| = 1, 1, 2 gives ranks 1.5, 1.5, 3. With signs +, -, +, W+ = 4.5;
 * the 8 sign patterns give W+ in {0, 1.5, 1.5, 3, 3, 4.5, 4.5, 6}, so P(W+ >= 4.5)
 * = 3/8, P(W+ <= 4.5) = 7/8 and p = 6/8. */
Test(wilcoxon, ties_exact_conditional)
{
	const double d[] = {1, -1, 2};
	double wp;
	double p = xpu_wilcoxon(d, 3, &wp, NULL);
	cr_assert_float_eq(wp, 4.5, 1e-12);
	cr_assert_float_eq(p, 0.75, 1e-12);
}

/* 30 differences 1..30, all positive: W+ = 465, mean 232.5, variance
 * 30*31*61/24 = 2363.75, z = (465 - 232.5 - 0.5) / sqrt(2363.75) = 4.77186...,
 * p = erfc(z / sqrt 2) = 1.82537e-6 (computed by hand from the normal tail). */
Test(wilcoxon, normal_approximation_above_25)
{
	double d[30];
	for (int i = 0; i < 30; i++)
		d[i] = i + 1;
	double p = xpu_wilcoxon(d, 30, NULL, NULL);
	cr_assert(fabs(p - 1.82537e-6) < 0.0001e-6, "p = %g", p);
	/* Alternating signs: W+ = 2+4+...+30 = 240, close to the mean; p large. */
	for (int i = 0; i < 30; i++)
		d[i] = (i % 2 ? 1 : -1) * (i + 1.0);
	p = xpu_wilcoxon(d, 30, NULL, NULL);
	cr_assert(p > 0.8, "p = %g", p);
}

/* Ties above 25: 26 differences all equal to 1. Ranks all 13.5, W+ = 351, mean 175.5,
 * variance 26*27*53/24 - (26^3 - 26)/48 = 1550.25 - 365.625 = 1184.625;
 * z = (351 - 175.5 - 0.5)/sqrt(1184.625) = 5.08455, p = 3.686e-7. */
Test(wilcoxon, tie_corrected_variance)
{
	double d[26];
	for (int i = 0; i < 26; i++)
		d[i] = 1;
	double p = xpu_wilcoxon(d, 26, NULL, NULL);
	cr_assert(fabs(p - 3.686e-7) < 0.005e-7, "p = %g", p);
}

Test(bootstrap, constant_differences_give_a_point)
{
	const double d[] = {2.5, 2.5, 2.5, 2.5};
	double lo, hi;
	cr_assert_eq(xpu_bootstrap_mean_ci(d, 4, 1000, 1, 0.95, &lo, &hi), 0);
	cr_assert_float_eq(lo, 2.5, 1e-12);
	cr_assert_float_eq(hi, 2.5, 1e-12);
}

/* A planted shift of 1 with noise of +-0.5 around it: the interval excludes 0 and
 * contains 1; noise alone centred on 0 gives an interval containing 0. Seeded, so the
 * result is the same on every run. */
Test(bootstrap, planted_shift_found_and_none_reported_without)
{
	struct xpu_rng r;
	xpu_rng_seed(&r, 7);
	double shift[40], none[40], lo, hi;
	for (int i = 0; i < 40; i++) {
		double u = (double)(xpu_rng_next(&r) >> 11) / 9007199254740992.0;
		shift[i] = 1 + (u - 0.5);
		none[i] = u - 0.5;
	}
	cr_assert_eq(xpu_bootstrap_mean_ci(shift, 40, 10000, 42, 0.95, &lo, &hi), 0);
	cr_assert(lo > 0 && lo < 1 && hi > 1, "[%g, %g]", lo, hi);
	cr_assert(xpu_wilcoxon(shift, 40, NULL, NULL) < 0.001);
	cr_assert_eq(xpu_bootstrap_mean_ci(none, 40, 10000, 42, 0.95, &lo, &hi), 0);
	cr_assert(lo < 0 && hi > 0, "[%g, %g]", lo, hi);
	cr_assert(xpu_wilcoxon(none, 40, NULL, NULL) > 0.05);
	/* The same seed gives the same interval. */
	double lo2, hi2;
	xpu_bootstrap_mean_ci(none, 40, 10000, 42, 0.95, &lo2, &hi2);
	cr_assert(lo == lo2 && hi == hi2);
}

Test(bootstrap, bad_input)
{
	double lo, hi, x = 1;
	cr_assert_eq(xpu_bootstrap_mean_ci(&x, 0, 100, 1, 0.95, &lo, &hi), -EINVAL);
	cr_assert_eq(xpu_bootstrap_mean_ci(&x, 1, 100, 1, 1.5, &lo, &hi), -EINVAL);
}
