/* stats.c — bootstrap confidence intervals and the Wilcoxon signed-rank test, in C so
 * that `xpuopt compare` needs no statistics package. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "stats.h"

/* splitmix64 (Steele, Lea and Flood, "Fast splittable pseudorandom number
 * generators", OOPSLA 2014): one addition and a 64-bit mix per draw, every seed
 * (zero included) gives a full-period sequence. */
void xpu_rng_seed(struct xpu_rng *r, uint64_t seed)
{
	r->s = seed;
}

uint64_t xpu_rng_next(struct xpu_rng *r)
{
	uint64_t z = (r->s += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* Lemire's rejection keeps the draw unbiased when n does not divide 2^64. */
uint64_t xpu_rng_below(struct xpu_rng *r, uint64_t n)
{
	uint64_t limit = -n % n, x;
	do
		x = xpu_rng_next(r);
	while (x < limit);
	return x % n;
}

double xpu_mean(const double *x, int n)
{
	double s = 0;
	for (int i = 0; i < n; i++)
		s += x[i];
	return n > 0 ? s / n : NAN;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* Quantile q of sorted v[0..n-1] by linear interpolation between order statistics
 * (Hyndman and Fan 1996, definition 7, the default of R and NumPy). */
static double quantile(const double *v, int n, double q)
{
	double h = (n - 1) * q;
	int i = (int)floor(h);
	if (i >= n - 1)
		return v[n - 1];
	return v[i] + (h - i) * (v[i + 1] - v[i]);
}

/* Efron and Tibshirani, "An Introduction to the Bootstrap" (1993), ch. 13: the
 * percentile interval. For paired policy comparisons x holds the per-pair
 * differences, so the pairing is kept by resampling pairs, not values of each side. */
int xpu_bootstrap_mean_ci(const double *x, int n, int resamples, uint64_t seed, double level,
                          double *lo, double *hi)
{
	if (n < 1 || resamples < 1 || !(level > 0 && level < 1))
		return -EINVAL;
	double *means = malloc(sizeof(*means) * resamples);
	if (!means)
		return -ENOMEM;
	struct xpu_rng r;
	xpu_rng_seed(&r, seed);
	for (int b = 0; b < resamples; b++) {
		double s = 0;
		for (int i = 0; i < n; i++)
			s += x[xpu_rng_below(&r, (uint64_t)n)];
		means[b] = s / n;
	}
	qsort(means, resamples, sizeof(*means), cmp_double);
	*lo = quantile(means, resamples, (1 - level) / 2);
	*hi = quantile(means, resamples, (1 + level) / 2);
	free(means);
	return 0;
}

struct ranked {
	double a; /* |d| */
	int pos;  /* d > 0 */
};

static int cmp_ranked(const void *a, const void *b)
{
	return cmp_double(&((const struct ranked *)a)->a, &((const struct ranked *)b)->a);
}

/* Exact null distribution of W+ given the (mid-)ranks: under H0 each rank carries a
 * + or - sign with probability 1/2 independently, so the number of sign patterns
 * giving each sum is a subset-sum count. Ranks are doubled to make mid-ranks
 * integers; with ties this is the exact conditional (permutation) test, which is what
 * Hollander, Wolfe and Chicken, "Nonparametric Statistical Methods" (3rd ed., 2014),
 * sec. 3.1, recommend over the normal approximation for small samples. Returns
 * P(W2 <= w2) and P(W2 >= w2) for the doubled statistic w2. */
static int exact_tails(const int *r2, int n, int w2, double *le, double *ge)
{
	int max = 0;
	for (int i = 0; i < n; i++)
		max += r2[i];
	double *cnt = calloc((size_t)max + 1, sizeof(*cnt));
	if (!cnt)
		return -ENOMEM;
	cnt[0] = 1;
	int top = 0;
	for (int i = 0; i < n; i++) {
		for (int s = top; s >= 0; s--)
			if (cnt[s] != 0)
				cnt[s + r2[i]] += cnt[s];
		top += r2[i];
	}
	double total = ldexp(1.0, n), a = 0, b = 0;
	for (int s = 0; s <= max; s++) {
		if (s <= w2)
			a += cnt[s];
		if (s >= w2)
			b += cnt[s];
	}
	*le = a / total;
	*ge = b / total;
	free(cnt);
	return 0;
}

double xpu_wilcoxon(const double *d, int n, double *w_plus, int *n_used)
{
	if (n < 0)
		return NAN;
	struct ranked *v = malloc(sizeof(*v) * (n > 0 ? n : 1));
	double *rank = malloc(sizeof(*rank) * (n > 0 ? n : 1));
	if (!v || !rank) {
		free(v);
		free(rank);
		return NAN;
	}
	int m = 0;
	for (int i = 0; i < n; i++) {
		if (isnan(d[i])) {
			free(v);
			free(rank);
			return NAN;
		}
		if (d[i] != 0)
			v[m++] = (struct ranked){fabs(d[i]), d[i] > 0};
	}
	qsort(v, m, sizeof(*v), cmp_ranked);

	/* Mid-ranks, and the tie term sum(t^3 - t) over groups of t equal |d|. */
	double wp = 0, ties = 0;
	for (int i = 0; i < m;) {
		int j = i;
		while (j + 1 < m && v[j + 1].a == v[i].a)
			j++;
		double t = j - i + 1;
		ties += t * t * t - t;
		for (int k = i; k <= j; k++) {
			rank[k] = (i + j) / 2.0 + 1;
			if (v[k].pos)
				wp += rank[k];
		}
		i = j + 1;
	}
	if (w_plus)
		*w_plus = wp;
	if (n_used)
		*n_used = m;

	double p;
	if (m == 0) {
		p = 1;
	} else if (m <= XPU_WILCOXON_EXACT_MAX) {
		int r2[XPU_WILCOXON_EXACT_MAX];
		for (int k = 0; k < m; k++)
			r2[k] = (int)lround(2 * rank[k]);
		double le, ge;
		if (exact_tails(r2, m, (int)lround(2 * wp), &le, &ge))
			p = NAN;
		else
			p = fmin(1, 2 * fmin(le, ge));
	} else {
		/* Large samples: W+ is approximately normal with mean n(n+1)/4 and variance
		 * n(n+1)(2n+1)/24 - sum(t^3 - t)/48 (Hollander, Wolfe and Chicken 2014,
		 * eq. 3.13 and the tie correction of sec. 3.1), with the continuity
		 * correction of 1/2 toward the mean (as in R's wilcox.test and SciPy). */
		double mu = m * (m + 1.0) / 4;
		double var = m * (m + 1.0) * (2.0 * m + 1) / 24 - ties / 48;
		double dev = fabs(wp - mu) - 0.5;
		if (var <= 0)
			p = 1;
		else
			p = dev <= 0 ? 1 : erfc(dev / sqrt(var) / M_SQRT2);
	}
	free(v);
	free(rank);
	return p;
}
