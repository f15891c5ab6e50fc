/* stats.h — paired-comparison statistics for policy studies: bootstrap CI, Wilcoxon test. */
#ifndef XPU_STATS_H
#define XPU_STATS_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A small seeded generator (splitmix64) so that every study's statistics are
 * reproducible from its seed, whatever libc's rand() does. */
struct xpu_rng {
	uint64_t s;
};
void xpu_rng_seed(struct xpu_rng *r, uint64_t seed);
uint64_t xpu_rng_next(struct xpu_rng *r);
/* Uniform integer in [0, n). */
uint64_t xpu_rng_below(struct xpu_rng *r, uint64_t n);

double xpu_mean(const double *x, int n);

/* Percentile bootstrap confidence interval of the mean of x (n >= 1): resamples
 * resamples of n values drawn with replacement, their means sorted, and the
 * (1-level)/2 and (1+level)/2 quantiles taken. Returns 0, or -EINVAL / -ENOMEM. */
int xpu_bootstrap_mean_ci(const double *x, int n, int resamples, uint64_t seed, double level,
                          double *lo, double *hi);

/* Two-sided Wilcoxon signed-rank test of the paired differences d against zero.
 * Zero differences are dropped (Wilcoxon's original treatment); ties among |d| get
 * mid-ranks. *w_plus receives the sum of ranks of the positive differences and *n_used
 * the number of non-zero differences. Returns the p-value, 1 when no difference is
 * non-zero, NAN on bad input. Exact for n_used <= XPU_WILCOXON_EXACT_MAX, else normal
 * approximation with tie and continuity corrections. */
#define XPU_WILCOXON_EXACT_MAX 25
double xpu_wilcoxon(const double *d, int n, double *w_plus, int *n_used);

#ifdef __cplusplus
}
#endif
#endif
