/* gen.c — seeded synthetic workloads (arrival streams, textbook DAGs, LLM requests) as native CSV.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gen.h"
#include "requests.h"

/* ------------------------------------------------------------------ random numbers */

/* xoshiro256** (Blackman and Vigna, "Scrambled linear pseudorandom number generators",
 * ACM TOMS 47(4), 2021), seeded through splitmix64 as its authors recommend: the same
 * seed gives the same stream on every platform. */
struct rng {
	uint64_t s[4];
};

static uint64_t splitmix(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

static uint64_t next64(struct rng *g)
{
	uint64_t *s = g->s, r = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return r;
}

/* Uniform in [0, 1), 53 bits. */
static double unif(struct rng *g)
{
	return (double)(next64(g) >> 11) * 0x1.0p-53;
}

static double expo(struct rng *g, double mean)
{
	return -mean * log1p(-unif(g));
}

/* Standard normal by Box-Muller (one of the pair; simplicity over speed). */
static double normal(struct rng *g)
{
	double u = unif(g), v = unif(g);
	return sqrt(-2 * log1p(-u)) * cos(2 * M_PI * v);
}

/* A value around mean, uniform in [mean/2, 3 mean/2]: jitter that keeps the mean. */
static double around(struct rng *g, double mean)
{
	return mean * (0.5 + unif(g));
}

/* ------------------------------------------------------------------ parameters */

enum ptype { P_INT, P_NUM, P_POS, P_PROB, P_CLASSES };

struct pdef {
	const char *key;
	enum ptype type;
	const char *def;
	const char *help;
};

#define MAXP 10

struct gen;

struct kind {
	const char *name, *description;
	struct pdef p[MAXP];
	int (*gen)(struct gen *g);
	int swf; /* 1: writes an SWF log rather than native CSV; 2: a request stream */
};

struct gen {
	const struct kind *k;
	struct rng rng;
	FILE *out;
	double v[MAXP];              /* numeric parameter values */
	double mix[XPU_CLASS_COUNT]; /* class weights, summing to 1 */
	char *deps;                  /* the row's deps field being built */
	size_t dlen, dcap;
};

static double par(const struct gen *g, const char *key)
{
	for (int i = 0; i < MAXP && g->k->p[i].key; i++)
		if (!strcmp(g->k->p[i].key, key))
			return g->v[i];
	return 0;
}

static int ipar(const struct gen *g, const char *key)
{
	return (int)par(g, key);
}

static int parse_classes(const char *v, double *mix, struct xpu_err *err)
{
	char buf[512];
	double sum = 0;
	memset(mix, 0, XPU_CLASS_COUNT * sizeof(*mix));
	if (strlen(v) >= sizeof(buf))
		return xpu_errf(err, NULL, 0, "parameter 'classes': too long");
	strcpy(buf, v);
	for (char *save, *e = strtok_r(buf, "/", &save); e; e = strtok_r(NULL, "/", &save)) {
		char *colon = strchr(e, ':'), *end;
		if (colon)
			*colon = '\0';
		int c = xpu_class_parse(e);
		double w = colon ? strtod(colon + 1, &end) : 1;
		if (c < 0 || (colon && (end == colon + 1 || *end)) || !(w >= 0) || !isfinite(w))
			return xpu_errf(err, NULL, 0,
			                "parameter 'classes': expected CLASS:WEIGHT/... (such as "
			                "gemm:0.5/conv:0.5), got \"%s\"",
			                v);
		mix[c] += w;
		sum += w;
	}
	if (!(sum > 0))
		return xpu_errf(err, NULL, 0, "parameter 'classes': the weights sum to 0 in \"%s\"",
		                v);
	for (int c = 0; c < XPU_CLASS_COUNT; c++)
		mix[c] /= sum;
	return 0;
}

static int set_param(struct gen *g, const struct pdef *d, int i, const char *v, struct xpu_err *err)
{
	if (d->type == P_CLASSES)
		return parse_classes(v, g->mix, err);
	char *end;
	double x = strtod(v, &end);
	const char *want = d->type == P_INT    ? "a positive integer"
	                   : d->type == P_PROB ? "a probability in [0, 1]"
	                   : d->type == P_POS  ? "a positive number"
	                                       : "a non-negative number";
	if (end == v || *end || !isfinite(x) || x < 0 || (d->type == P_PROB && x > 1) ||
	    (d->type == P_POS && !(x > 0)) ||
	    (d->type == P_INT && (x != floor(x) || x < 1 || x > 1e7)))
		return xpu_errf(err, NULL, 0, "%s: parameter '%s': expected %s, got \"%.80s\"",
		                g->k->name, d->key, want, v);
	g->v[i] = x;
	return 0;
}

/* ------------------------------------------------------------------ output */

static int dep(struct gen *g, const char *fmt_id, unsigned idx, double bytes)
{
	char e[96], id[64];
	snprintf(id, sizeof(id), fmt_id, idx);
	int n = snprintf(e, sizeof(e), "%s%s:%.0f", g->dlen ? ";" : "", id, bytes);
	if (g->dlen + (size_t)n + 1 > g->dcap) {
		size_t cap = g->dcap ? 2 * g->dcap : 256;
		while (cap < g->dlen + (size_t)n + 1)
			cap *= 2;
		char *nd = realloc(g->deps, cap);
		if (!nd)
			return -ENOMEM;
		g->deps = nd;
		g->dcap = cap;
	}
	memcpy(g->deps + g->dlen, e, (size_t)n + 1);
	g->dlen += (size_t)n;
	return 0;
}

/* One row; consumes the deps built so far. */
static void row(struct gen *g, const char *id, double submit, int cls, double flops, double bytes,
                double mem)
{
	fprintf(g->out, "%s,%.17g,%s,%.17g,%.17g,%.17g,%s\n", id, submit, xpu_class_name(cls),
	        flops, bytes, mem, g->dlen ? g->deps : "");
	g->dlen = 0;
}

static int pick_class(struct gen *g)
{
	double u = unif(&g->rng), acc = 0;
	int last = XPU_CLASS_GENERIC;
	for (int c = 0; c < XPU_CLASS_COUNT; c++) {
		if (g->mix[c] <= 0)
			continue;
		last = c;
		acc += g->mix[c];
		if (u < acc)
			return c;
	}
	return last;
}

/* A DAG task "tN" of the generator's flops, bytes and mem means. */
static void dag_row(struct gen *g, unsigned i, int cls)
{
	char id[32];
	snprintf(id, sizeof(id), "t%u", i);
	row(g, id, 0, cls, around(&g->rng, par(g, "flops")), around(&g->rng, par(g, "bytes")),
	    around(&g->rng, par(g, "mem")));
}

/* ------------------------------------------------------------------ arrival streams */

static void independent(struct gen *g, unsigned i, double t)
{
	char id[32];
	snprintf(id, sizeof(id), "t%u", i);
	int cls = pick_class(g);
	row(g, id, t, cls, around(&g->rng, par(g, "flops")), around(&g->rng, par(g, "bytes")),
	    around(&g->rng, par(g, "mem")));
}

/* Poisson arrivals: exponential gaps of mean 1/rate. */
static int gen_poisson(struct gen *g)
{
	double t = 0;
	for (int i = 0; i < ipar(g, "count"); i++) {
		t += expo(&g->rng, 1 / par(g, "rate"));
		independent(g, (unsigned)i, t);
	}
	return 0;
}

/* A two-state Markov-modulated Poisson process (on/off): arrivals at rate_on during
 * bursts and rate_off between them, each period exponential with its mean length
 * (Fischer and Meier-Hellstern, "The Markov-modulated Poisson process cookbook",
 * Performance Evaluation 18(2), 1993). */
static int gen_bursty(struct gen *g)
{
	double t = 0, end = expo(&g->rng, par(g, "on"));
	int on = 1;
	if ((!(par(g, "rate_on") > 0) || !(par(g, "on") > 0)) &&
	    (!(par(g, "rate_off") > 0) || !(par(g, "off") > 0)))
		return -ERANGE;
	for (int i = 0; i < ipar(g, "count");) {
		double rate = par(g, on ? "rate_on" : "rate_off");
		double next = rate > 0 ? t + expo(&g->rng, 1 / rate) : INFINITY;
		if (next >= end) { /* the state changes first: memorylessness lets us redraw */
			t = end;
			on = !on;
			end = t + expo(&g->rng, par(g, on ? "on" : "off"));
			continue;
		}
		t = next;
		independent(g, (unsigned)i++, t);
	}
	return 0;
}

/* ------------------------------------------------------------------ DAGs */

/* Random layered DAG: `layers` layers of `width` tasks; each task links to each task of
 * the previous layer with probability edge_prob, and to one chosen at random when none
 * was drawn, so every layer waits on the one before. */
static int gen_layered(struct gen *g)
{
	int L = ipar(g, "layers"), W = ipar(g, "width");
	if ((double)L * W > 1e7)
		return -E2BIG;
	for (int l = 0; l < L; l++)
		for (int j = 0; j < W; j++) {
			int any = 0;
			for (int k = 0; l && k < W; k++)
				if (unif(&g->rng) < par(g, "edge_prob")) {
					any = 1;
					if (dep(g, "t%u", (unsigned)((l - 1) * W + k),
					        around(&g->rng, par(g, "data"))) < 0)
						return -ENOMEM;
				}
			if (l && !any &&
			    dep(g, "t%u", (unsigned)((l - 1) * W + (int)(unif(&g->rng) * W)),
			        around(&g->rng, par(g, "data"))) < 0)
				return -ENOMEM;
			dag_row(g, (unsigned)(l * W + j), pick_class(g));
		}
	return 0;
}

/* Fork-join: t0 forks `width` tasks, a join task gathers them and forks the next
 * stage; 1 + stages x (width + 1) tasks, 2 x stages x width edges. */
static int gen_forkjoin(struct gen *g)
{
	int S = ipar(g, "stages"), W = ipar(g, "width");
	if ((double)S * (W + 1) > 1e7)
		return -E2BIG;
	unsigned fork = 0, n = 1;
	dag_row(g, 0, XPU_CLASS_GENERIC);
	for (int s = 0; s < S; s++) {
		for (int j = 0; j < W; j++) {
			if (dep(g, "t%u", fork, around(&g->rng, par(g, "data"))) < 0)
				return -ENOMEM;
			dag_row(g, n + (unsigned)j, pick_class(g));
		}
		for (int j = 0; j < W; j++)
			if (dep(g, "t%u", n + (unsigned)j, around(&g->rng, par(g, "data"))) < 0)
				return -ENOMEM;
		fork = n + (unsigned)W;
		dag_row(g, fork, XPU_CLASS_GENERIC);
		n = fork + 1;
	}
	return 0;
}

/* Gaussian elimination of an n x n matrix, as in Topcuoglu, Hariri and Wu, "Performance-
 * effective and low-complexity task scheduling for heterogeneous computing", IEEE TPDS
 * 13(3), 2002, fig. 7: for each step k = 1..n-1 a pivot task P(k), then one update task
 * U(k,j) per remaining column j = k+1..n. P(k) -> U(k,j); U(k,k+1) -> P(k+1);
 * U(k,j) -> U(k+1,j). (n^2 + n - 2)/2 tasks and n^2 - n - 1 edges. Ids: tasks in that
 * order, t0 = P(1). */
static int gen_gauss(struct gen *g)
{
	int n = ipar(g, "n");
	if (n < 2 || (double)n * n > 2e7)
		return -E2BIG;
	unsigned id = 0, prev_pivot = 0, prev_upd = 0; /* prev_upd: U(k-1,k) */
	for (int k = 1; k < n; k++) {
		unsigned pivot = id;
		if (k > 1 && dep(g, "t%u", prev_upd, around(&g->rng, par(g, "data"))) < 0)
			return -ENOMEM;
		dag_row(g, id++, XPU_CLASS_GENERIC);
		for (int j = k + 1; j <= n; j++) {
			if (dep(g, "t%u", pivot, around(&g->rng, par(g, "data"))) < 0)
				return -ENOMEM;
			/* U(k-1,j) was the (j-k)th update of the previous step. */
			if (k > 1 && dep(g, "t%u", prev_pivot + 1 + (unsigned)(j - k),
			                 around(&g->rng, par(g, "data"))) < 0)
				return -ENOMEM;
			dag_row(g, id++, XPU_CLASS_GEMM);
		}
		prev_pivot = pivot;
		prev_upd = pivot + 1;
	}
	return 0;
}

/* FFT of n points (n a power of two), as in Topcuoglu et al. 2002, fig. 8: a binary
 * tree of 2n - 1 recursive-call tasks (root first, each call -> its two halves), then
 * log2 n butterfly levels of n tasks; butterfly task i of level s reads tasks i and
 * i xor 2^(s-1) of the level before (level 0: the tree's n leaves). 2n - 1 + n log2 n
 * tasks, 2n - 2 + 2 n log2 n edges. */
static int gen_fft(struct gen *g)
{
	int n = ipar(g, "points"), lg = 0;
	while ((1 << lg) < n && lg < 30)
		lg++;
	if ((1 << lg) != n || n < 2 || n > (1 << 20))
		return -EDOM;
	unsigned tree = 2 * (unsigned)n - 1;
	for (unsigned i = 0; i < tree; i++) { /* heap order: parent of i is (i-1)/2 */
		if (i && dep(g, "t%u", (i - 1) / 2, around(&g->rng, par(g, "data"))) < 0)
			return -ENOMEM;
		dag_row(g, i, XPU_CLASS_FFT);
	}
	unsigned leaves = (unsigned)n - 1; /* first leaf in heap order */
	for (int s = 1; s <= lg; s++) {
		unsigned base = s == 1 ? leaves : tree + (unsigned)(s - 2) * (unsigned)n;
		for (unsigned i = 0; i < (unsigned)n; i++) {
			unsigned partner = i ^ (1u << (s - 1));
			if (dep(g, "t%u", base + i, around(&g->rng, par(g, "data"))) < 0 ||
			    dep(g, "t%u", base + partner, around(&g->rng, par(g, "data"))) < 0)
				return -ENOMEM;
			dag_row(g, tree + (unsigned)(s - 1) * (unsigned)n + i, XPU_CLASS_FFT);
		}
	}
	return 0;
}

/* Montage-like mosaic (after Bharathi et al., "Characterization of scientific
 * workflows", WORKS 2008): `images` mProject tasks on a grid of ceil(sqrt(images))
 * columns; one mDiffFit per pair of horizontal or vertical neighbours, reading both;
 * mConcatFit reads every diff; mBgModel reads it; one mBackground per image reads
 * mBgModel and its projection; mImgtbl reads every background; then the chain mAdd,
 * mShrink, mJPEG. Ids name the stage: mProject_0 ... */
static int gen_montage(struct gen *g)
{
	int n = ipar(g, "images"), cols = (int)ceil(sqrt(n)), ndiff = 0;
	char id[48];
	if (n > 1000000)
		return -E2BIG;
	double data = par(g, "data");
	for (int i = 0; i < n; i++) {
		snprintf(id, sizeof(id), "mProject_%d", i);
		row(g, id, 0, XPU_CLASS_STENCIL, around(&g->rng, par(g, "flops")),
		    around(&g->rng, par(g, "bytes")), around(&g->rng, par(g, "mem")));
	}
	for (int i = 0; i < n; i++)
		for (int d = 0; d < 2; d++) { /* right, then below */
			int j = d ? i + cols : i + 1;
			if (j >= n || (!d && j % cols == 0))
				continue;
			if (dep(g, "mProject_%u", (unsigned)i, around(&g->rng, data)) < 0 ||
			    dep(g, "mProject_%u", (unsigned)j, around(&g->rng, data)) < 0)
				return -ENOMEM;
			snprintf(id, sizeof(id), "mDiffFit_%d", ndiff++);
			row(g, id, 0, XPU_CLASS_STENCIL, around(&g->rng, par(g, "flops") / 4),
			    around(&g->rng, par(g, "bytes")), around(&g->rng, par(g, "mem")));
		}
	for (int i = 0; i < ndiff; i++)
		if (dep(g, "mDiffFit_%u", (unsigned)i, around(&g->rng, data / 100)) < 0)
			return -ENOMEM;
	row(g, "mConcatFit", 0, XPU_CLASS_GENERIC, around(&g->rng, par(g, "flops") / 10), 0, 0);
	if (dep(g, "mConcatFit%.0u", 0, around(&g->rng, data / 100)) < 0)
		return -ENOMEM;
	row(g, "mBgModel", 0, XPU_CLASS_GENERIC, around(&g->rng, par(g, "flops")), 0, 0);
	for (int i = 0; i < n; i++) {
		if (dep(g, "mBgModel%.0u", 0, around(&g->rng, data / 100)) < 0 ||
		    dep(g, "mProject_%u", (unsigned)i, around(&g->rng, data)) < 0)
			return -ENOMEM;
		snprintf(id, sizeof(id), "mBackground_%d", i);
		row(g, id, 0, XPU_CLASS_STENCIL, around(&g->rng, par(g, "flops") / 2),
		    around(&g->rng, par(g, "bytes")), around(&g->rng, par(g, "mem")));
	}
	for (int i = 0; i < n; i++)
		if (dep(g, "mBackground_%u", (unsigned)i, around(&g->rng, data)) < 0)
			return -ENOMEM;
	row(g, "mImgtbl", 0, XPU_CLASS_GENERIC, around(&g->rng, par(g, "flops") / 10), 0, 0);
	static const char *const chain[] = {"mImgtbl", "mAdd", "mShrink", "mJPEG"};
	for (int s = 1; s < 4; s++) {
		char fmt[32];
		snprintf(fmt, sizeof(fmt), "%s%%.0u", chain[s - 1]);
		if (dep(g, fmt, 0, around(&g->rng, data * (s == 1 ? n : 1))) < 0)
			return -ENOMEM;
		row(g, chain[s], 0, XPU_CLASS_GENERIC, around(&g->rng, par(g, "flops")), 0, 0);
	}
	return 0;
}

/* LLM serving: Poisson requests, each a prefill then a decode task, prompt and output
 * token counts log-normal with the given means and sigma (log-normal fits the token
 * counts of the Azure LLM inference traces; Patel et al., "Splitwise", ISCA 2024). Work
 * and bytes as the azure-llm reader maps them (traces/FORMAT.md). */
static int gen_llm(struct gen *g)
{
	double t = 0, sig = par(g, "sigma"), P = par(g, "params");
	double W = P * par(g, "dtype_bytes"), kv = par(g, "kv_bytes");
	char id[48];
	for (int i = 0; i < ipar(g, "count"); i++) {
		t += expo(&g->rng, 1 / par(g, "rate"));
		double C = 0, G = 0;
		for (int k = 0; k < 2; k++) {
			double m = par(g, k ? "generated" : "prompt");
			double x = round(exp(log(m) - sig * sig / 2 + sig * normal(&g->rng)));
			x = fmin(fmax(x, 1), 1e7);
			*(k ? &G : &C) = x;
		}
		snprintf(id, sizeof(id), "r%d.prefill", i);
		row(g, id, t, XPU_CLASS_LLM_PREFILL, 2 * P * C, W, kv * C);
		if (dep(g, "r%u.prefill", (unsigned)i, kv * C) < 0)
			return -ENOMEM;
		snprintf(id, sizeof(id), "r%d.decode", i);
		row(g, id, t, XPU_CLASS_LLM_DECODE, 2 * P * G,
		    G * W + kv * (G * C + G * (G - 1) / 2), kv * (C + G));
	}
	return 0;
}

/* ------------------------------------------------------------------ rigid parallel jobs */

/* Gamma(shape, scale) by Marsaglia and Tsang, "A simple method for generating gamma
 * variables", ACM TOMS 26(3), 2000; shapes below 1 through the boost
 * Gamma(a) = Gamma(a + 1) x U^(1/a). */
static double gamma_draw(struct rng *g, double shape, double scale)
{
	if (shape < 1) {
		double u = unif(g);
		return gamma_draw(g, shape + 1, scale) * pow(u > 0 ? u : 0x1.0p-53, 1 / shape);
	}
	double d = shape - 1.0 / 3, c = 1 / sqrt(9 * d);
	for (;;) {
		double x = normal(g), v = 1 + c * x;
		if (v <= 0)
			continue;
		v = v * v * v;
		double u = unif(g);
		if (log1p(-u) < 0.5 * x * x + d - d * v + d * log(v))
			return d * v * scale;
	}
}

/* Density of Gamma(shape, scale) up to its constant factor, which cancels below. */
static double gamma_shape_density(double x, double shape, double scale)
{
	return x > 0 ? exp((shape - 1) * log(x) - x / scale) : 0;
}

/* Lublin and Feitelson, "The workload on parallel supercomputers: modeling the
 * characteristics of rigid jobs", JPDC 63(11), 2003: the model's published parameters,
 * for its two job types (interactive, batch), fitted to the SDSC Paragon, CTC SP2,
 * KTH SP2 and LANL CM-5 logs for a 128-node machine. */
struct lublin_type {
	double serial, pow2;      /* P(serial job), P(power-of-two size) */
	double ulow, uprob;       /* two-stage uniform on log2(size): [ulow, umed] with
	                           * probability uprob, else [umed, uhi] ... */
	double uhi_off, umed_off; /* ... uhi and umed given as distances below
	                           * log2(machine size), see gen_lublin */
	double a1, b1, a2, b2;    /* log run time: hyper-gamma of Gamma(a1, b1) and
	                           * Gamma(a2, b2) ... */
	double pa, pb;            /* ... the first with probability pa x size + pb */
	double aarr, barr;        /* log inter-arrival at rush hours: Gamma(aarr, barr) */
	double anum, bnum;        /* arrivals over the day's half hours: Gamma(anum, bnum) */
};

static const struct lublin_type lublin_types[2] = {
    /* interactive: largest job 2^5.5 = 45 of 128 nodes, so uhi sits 1.5 below */
    {0.1541, 0.625, 1, 0.705, 1.5, 4, 3.8351, 0.6605, 7.073, 0.6856, -0.0118, 0.9156,
     6.5510 * 0.9797, 0.6621, 8.9186, 3.6680},
    /* batch: the whole machine, umed 2 below */
    {0.2927, 0.6686, 1.2, 0.875, 0, 2, 6.57, 0.823, 639.1, 0.0156, -0.003, 0.6986, 6.0415 * 1.0519,
     0.8531, 6.1271, 5.2740},
};

#define LUBLIN_BUCKETS    48 /* half hours of a day */
#define LUBLIN_BUCKET_S   1800.0
#define LUBLIN_DAY_SHIFT  11   /* the fitted day runs from bucket 11, cyclically */
#define LUBLIN_MAX_LOGRUN 12.0 /* run times above e^12 s (about 2 days) are redrawn */
#define LUBLIN_MAX_LOGARR 13.0 /* gaps above e^13 s (about 5 days) are redrawn */

struct lublin_clock {
	double w[LUBLIN_BUCKETS]; /* relative arrival intensity of each half hour */
	double next;              /* this type's next arrival, seconds */
	double points, rem;       /* unspent intensity and the fraction into `bucket` */
	int bucket;
};

/* Arrivals follow a day: an inter-arrival drawn for rush hours, e^Gamma(aarr, barr)
 * seconds, is spent across the half hours, each costing its relative intensity, so
 * quiet hours stretch the gaps. */
static void lublin_clock_init(struct lublin_clock *c, const struct lublin_type *ty)
{
	double mean = 0;
	for (int i = LUBLIN_DAY_SHIFT; i < LUBLIN_BUCKETS + LUBLIN_DAY_SHIFT; i++) {
		/* mass of Gamma(anum, bnum) on [i - 0.5, i + 0.5], Simpson's rule */
		double a = i - 0.5, h = 1.0 / 64, m = 0;
		for (int k = 0; k <= 64; k++)
			m += (k == 0 || k == 64 ? 1
			      : k % 2           ? 4
			                        : 2) *
			     gamma_shape_density(a + k * h, ty->anum, ty->bnum);
		c->w[(i - 1) % LUBLIN_BUCKETS] = m;
		mean += m;
	}
	mean /= LUBLIN_BUCKETS;
	for (int i = 0; i < LUBLIN_BUCKETS; i++)
		c->w[i] /= mean;
	c->next = 0;
	c->points = c->rem = 0;
	c->bucket = 0;
}

static void lublin_clock_advance(struct lublin_clock *c, const struct lublin_type *ty,
                                 struct rng *g)
{
	double lg;
	do
		lg = gamma_draw(g, ty->aarr, ty->barr);
	while (lg > LUBLIN_MAX_LOGARR);
	c->points += exp(lg) / LUBLIN_BUCKET_S;
	double gap = 0;
	while (c->points > c->w[c->bucket]) {
		c->points -= c->w[c->bucket];
		c->bucket = (c->bucket + 1) % LUBLIN_BUCKETS;
		gap += LUBLIN_BUCKET_S;
	}
	double rem = c->points / c->w[c->bucket];
	gap += LUBLIN_BUCKET_S * (rem - c->rem);
	c->rem = rem;
	c->next += gap;
}

static unsigned lublin_size(const struct lublin_type *ty, double uhi, struct rng *g)
{
	double u = unif(g);
	if (u <= ty->serial)
		return 1;
	double hi = uhi - ty->uhi_off, med = uhi - ty->umed_off, lo = ty->ulow;
	if (med > hi)
		med = hi;
	if (lo > med)
		lo = med;
	double x = unif(g) < ty->uprob ? lo + unif(g) * (med - lo) : med + unif(g) * (hi - med);
	if (u <= ty->serial + ty->pow2)
		x = floor(x + 0.5);
	double n = floor(pow(2, x) + 0.5);
	return n < 1 ? 1 : (unsigned)n;
}

static double lublin_runtime(const struct lublin_type *ty, unsigned size, struct rng *g)
{
	double p = fmin(fmax(ty->pa * size + ty->pb, 0), 1), lg;
	do {
		int first = unif(g) <= p;
		lg = gamma_draw(g, first ? ty->a1 : ty->a2, first ? ty->b1 : ty->b2);
	} while (lg > LUBLIN_MAX_LOGRUN);
	return floor(exp(lg));
}

/* Rigid parallel jobs of the Lublin-Feitelson model for a machine of `procs`
 * processors, written as an SWF log (the model's own output form): submit time, run
 * time and processors per job, interactive jobs in queue 0 and batch jobs in queue 1.
 * Sizes scale with the machine: log2(procs) replaces the fitted 7 (128 nodes) as the
 * top of the size distribution, the other size parameters keep their distance to it. */
static int gen_lublin(struct gen *g)
{
	int n = ipar(g, "count"), procs = ipar(g, "procs");
	double uhi = log2((double)procs);
	struct lublin_clock clk[2];
	for (int t = 0; t < 2; t++)
		lublin_clock_init(&clk[t], &lublin_types[t]);
	fprintf(g->out,
	        "; Version: 2.2\n; Computer: Lublin-Feitelson 2003 model (xpuopt gen "
	        "lublin)\n; MaxJobs: %d\n; MaxRecords: %d\n; MaxProcs: %d\n"
	        "; Queues: 0 interactive, 1 batch\n",
	        n, n, procs);
	for (int i = 0; i < n; i++) {
		int t = clk[1].next < clk[0].next; /* the type whose job comes first */
		double submit = floor(clk[t].next);
		lublin_clock_advance(&clk[t], &lublin_types[t], &g->rng);
		unsigned size = lublin_size(&lublin_types[t], uhi, &g->rng);
		if (size > (unsigned)procs)
			size = (unsigned)procs;
		double run = lublin_runtime(&lublin_types[t], size, &g->rng);
		fprintf(g->out, "%d %.0f -1 %.0f %u -1 -1 %u -1 -1 1 -1 -1 -1 %d -1 -1 -1\n", i + 1,
		        submit, run, size, size, t);
	}
	return 0;
}

static void req_draw(struct rng *g, const struct xpu_req_gen *q, struct xpu_request *v);
static int req_check(const struct xpu_req_gen *q, struct xpu_err *err);

/* An LLM request stream for serving runs (xpuopt's request CSV). */
static int gen_requests(struct gen *g)
{
	struct xpu_req_gen q = {.n = (uint32_t)ipar(g, "count"),
	                        .rate = par(g, "rate"),
	                        .cv = par(g, "cv"),
	                        .prompt_median = par(g, "prompt_tokens"),
	                        .prompt_sigma = par(g, "prompt_sigma"),
	                        .output_median = par(g, "output_tokens"),
	                        .output_sigma = par(g, "output_sigma"),
	                        .max_tokens = (uint32_t)ipar(g, "max_tokens"),
	                        .deadline = par(g, "deadline")};
	if (req_check(&q, NULL))
		return -ENOTSUP;
	struct xpu_request *v = calloc(q.n, sizeof(*v));
	if (!v)
		return -ENOMEM;
	req_draw(&g->rng, &q, v);
	for (uint32_t i = 0; i < q.n; i++) {
		fprintf(g->out, "g%u,%.9g,%u,%u,", i, v[i].arrival, v[i].prompt, v[i].output);
		if (q.deadline > 0)
			fprintf(g->out, "%.9g", q.deadline);
		fprintf(g->out, "\n");
	}
	free(v);
	return 0;
}

/* Real-time speech: `streams` speakers, each sending a chunk of `chunk_s` seconds of
 * audio every chunk_s seconds for `duration` seconds, from a random offset in the
 * first chunk. A chunk is a request: prompt = its audio frames (Whisper's encoder
 * takes 1,500 frames per 30 s: 50 per second, Radford et al. 2022), output = the words
 * said in it (`words_per_s`, 2.5 by default: 150 words a minute, a usual conversational
 * rate; estimate) x 1.3 tokens per word (estimate for English BPE), jittered +-50%;
 * its transcription is due before the next chunk arrives (deadline chunk_s). */
static int gen_speech(struct gen *g)
{
	int streams = ipar(g, "streams");
	double dur = par(g, "duration"), c = par(g, "chunk_s"), wps = par(g, "words_per_s");
	if (!(c > 0) || !(dur >= c) || dur / c * streams > 1e7)
		return -ENOTSUP;
	long chunks = (long)(dur / c);
	double *off = malloc((size_t)streams * sizeof(*off));
	if (!off)
		return -ENOMEM;
	for (int s = 0; s < streams; s++)
		off[s] = unif(&g->rng) * c;
	uint32_t prompt = (uint32_t)fmax(1, round(50 * c));
	/* chunk-major: rows come out in arrival order within each round */
	for (long k = 0; k < chunks; k++)
		for (int s = 0; s < streams; s++) {
			double words = wps * c * (0.5 + unif(&g->rng));
			uint32_t out = (uint32_t)fmax(1, round(words * 1.3));
			fprintf(g->out, "s%d.c%ld,%.9g,%u,%u,%.9g\n", s, k, off[s] + k * c, prompt,
			        out, c);
		}
	free(off);
	return 0;
}

/* ------------------------------------------------------------------ the kinds */

#define MIX                                                                                        \
	{                                                                                          \
		"classes", P_CLASSES, "gemm:0.4/conv:0.3/fft:0.2/generic:0.1",                     \
		    "kernel classes and weights, CLASS:W/CLASS:W..."                               \
	}
#define WORK                                                                                       \
	{"flops", P_NUM, "1e10", "mean work per task (uniform within +-50%)"},                     \
	    {"bytes", P_NUM, "1e8", "mean memory traffic per task"},                               \
	{                                                                                          \
		"mem", P_NUM, "6.4e7", "mean memory footprint per task"                            \
	}
#define DATA                                                                                       \
	{                                                                                          \
		"data", P_NUM, "1e6", "mean bytes on each edge"                                    \
	}

static const struct kind kinds[] = {
    {"poisson",
     "independent tasks, Poisson arrivals",
     {{"count", P_INT, "100", "tasks"}, {"rate", P_POS, "10", "arrivals per second"}, MIX, WORK},
     gen_poisson,
     0},
    {"bursty",
     "independent tasks, on/off (two-state MMPP) arrivals",
     {{"count", P_INT, "100", "tasks"},
      {"rate_on", P_NUM, "50", "arrivals per second in a burst"},
      {"rate_off", P_NUM, "1", "arrivals per second between bursts"},
      {"on", P_NUM, "2", "mean burst length, seconds"},
      {"off", P_NUM, "8", "mean gap length, seconds"},
      MIX,
      WORK},
     gen_bursty,
     0},
    {"layered",
     "random layered DAG",
     {{"layers", P_INT, "5", "layers"},
      {"width", P_INT, "4", "tasks per layer"},
      {"edge_prob", P_PROB, "0.5", "probability of each edge between adjacent layers"},
      DATA,
      MIX,
      WORK},
     gen_layered,
     0},
    {"forkjoin",
     "fork-join stages",
     {{"stages", P_INT, "3", "fork-join stages"},
      {"width", P_INT, "4", "tasks per stage"},
      DATA,
      MIX,
      WORK},
     gen_forkjoin,
     0},
    {"gauss",
     "Gaussian elimination DAG (Topcuoglu et al. 2002)",
     {{"n", P_INT, "5", "matrix size (>= 2)"}, DATA, WORK},
     gen_gauss,
     0},
    {"fft",
     "FFT DAG: recursive calls and butterflies (Topcuoglu et al. 2002)",
     {{"points", P_INT, "4", "points, a power of two >= 2"}, DATA, WORK},
     gen_fft,
     0},
    {"montage",
     "Montage-like mosaic workflow",
     {{"images", P_INT, "16", "input images"}, {"data", P_NUM, "4e6", "mean image bytes"}, WORK},
     gen_montage,
     0},
    {"llm",
     "LLM request stream: prefill + decode per request",
     {{"count", P_INT, "100", "requests"},
      {"rate", P_POS, "2", "requests per second (Poisson)"},
      {"prompt", P_NUM, "1024", "mean prompt tokens"},
      {"generated", P_NUM, "128", "mean generated tokens"},
      {"sigma", P_NUM, "1", "log-normal sigma of both token counts"},
      {"params", P_NUM, "7e9", "model parameters"},
      {"dtype_bytes", P_NUM, "2", "bytes per weight"},
      {"kv_bytes", P_NUM, "524288", "KV-cache bytes per token"}},
     gen_llm,
     0},
    {"requests",
     "LLM request stream for serving runs (--serve): arrival, prompt and output "
     "tokens; defaults fitted to the Azure LLM inference trace 2023, code",
     {{"count", P_INT, "100", "requests"},
      {"rate", P_POS, "2", "requests per second"},
      {"cv", P_POS, "1", "coefficient of variation of the gaps (1: Poisson; else gamma)"},
      {"prompt_tokens", P_POS, "1094", "median prompt tokens (log-normal)"},
      {"prompt_sigma", P_NUM, "1.36", "log-standard deviation of prompt tokens"},
      {"output_tokens", P_POS, "16", "median output tokens (log-normal)"},
      {"output_sigma", P_NUM, "0.85", "log-standard deviation of output tokens"},
      {"max_tokens", P_INT, "4096", "cap on either count (0: none)"},
      {"deadline", P_NUM, "0", "seconds after arrival a request is due (0: none)"}},
     gen_requests,
     2},
    {"speech",
     "real-time speech streams for serving runs: audio chunks whose transcription is "
     "due before the next chunk (a Whisper-class model)",
     {{"streams", P_INT, "4", "speakers"},
      {"duration", P_POS, "60", "seconds each speaks"},
      {"chunk_s", P_POS, "2", "seconds of audio per chunk (and its deadline)"},
      {"words_per_s", P_POS, "2.5", "words spoken per second"}},
     gen_speech,
     2},
    {"lublin",
     "rigid parallel jobs, Lublin-Feitelson 2003 model, written as SWF",
     {{"count", P_INT, "1000", "jobs"}, {"procs", P_INT, "128", "processors of the machine"}},
     gen_lublin,
     1},
};

#define NKINDS (sizeof(kinds) / sizeof(kinds[0]))

const char *const xpu_gen_kinds[] = {"poisson", "bursty", "layered",  "forkjoin", "gauss", "fft",
                                     "montage", "llm",    "requests", "lublin",   NULL};

void xpu_gen_describe(FILE *out)
{
	for (size_t i = 0; i < NKINDS; i++) {
		fprintf(out, "  %s: %s\n", kinds[i].name, kinds[i].description);
		for (const struct pdef *d = kinds[i].p; d < kinds[i].p + MAXP && d->key; d++)
			fprintf(out, "      --%-12s %s (default %s)\n", d->key, d->help, d->def);
	}
}

int xpu_gen_write(const char *kind, int n, const struct xpu_param *p, uint64_t seed, FILE *out,
                  struct xpu_err *err)
{
	const struct kind *k = NULL;
	for (size_t i = 0; i < NKINDS; i++)
		if (!strcmp(kinds[i].name, kind))
			k = &kinds[i];
	if (!k)
		return xpu_errf(err, NULL, 0,
		                "unknown generator \"%s\" (kinds: poisson, bursty, layered, "
		                "forkjoin, gauss, fft, montage, llm, requests, speech, lublin)",
		                kind);
	struct gen g = {.k = k, .out = out};
	for (int i = 0; i < MAXP && k->p[i].key; i++)
		if (set_param(&g, &k->p[i], i, k->p[i].def, err) < 0)
			return -EINVAL;
	for (int j = 0; j < n; j++) {
		int i = 0;
		while (i < MAXP && k->p[i].key && strcmp(k->p[i].key, p[j].key))
			i++;
		if (i == MAXP || !k->p[i].key) {
			char list[256];
			size_t len = 0;
			for (int q = 0; q < MAXP && k->p[q].key && len < sizeof(list); q++)
				len += (size_t)snprintf(list + len, sizeof(list) - len, "%s%s",
				                        q ? ", " : "", k->p[q].key);
			return xpu_errf(err, NULL, 0, "%s: unknown parameter '%s' (parameters: %s)",
			                kind, p[j].key, list);
		}
		if (set_param(&g, &k->p[i], i, p[j].value, err) < 0)
			return -EINVAL;
	}
	uint64_t x = seed;
	for (int i = 0; i < 4; i++)
		g.rng.s[i] = splitmix(&x);
	if (k->swf == 1) {
		fprintf(out, "; xpuopt gen %s, seed %llu\n", kind, (unsigned long long)seed);
	} else if (k->swf == 2) {
		fprintf(out, "id,arrival,prompt,output,deadline\n");
	} else {
		fprintf(out, "# xpuopt gen %s, seed %llu\n", kind, (unsigned long long)seed);
		fprintf(out, "id,submit,class,flops,bytes,mem,deps\n");
	}
	int rc = k->gen(&g);
	free(g.deps);
	if (rc == -E2BIG)
		return xpu_errf(err, NULL, 0, "%s: too many tasks (at most 10 million)", kind);
	if (rc == -EDOM)
		return xpu_errf(err, NULL, 0,
		                "%s: parameter 'points': expected a power of two "
		                "from 2 to 1048576",
		                kind);
	if (rc == -ENOTSUP && k->gen == gen_speech)
		return xpu_errf(err, NULL, 0,
		                "speech: expected chunk_s > 0, duration >= chunk_s and at most 1e7 "
		                "chunks in all");
	if (rc == -ENOTSUP)
		return xpu_errf(err, NULL, 0,
		                "requests: expected count 1..1e8, rate > 0, cv > 0, medians of "
		                "1 to 1e8 tokens and sigmas of 0 to 10");
	if (rc == -ERANGE)
		return xpu_errf(err, NULL, 0,
		                "%s: no arrivals possible: give rate_on and on, or "
		                "rate_off and off, above 0",
		                kind);
	if (rc == 0 && ferror(out))
		rc = -EIO;
	return rc;
}

/* ------------------------------------------------------------------ LLM request streams */

static uint32_t req_length(struct rng *g, double median, double sigma, uint32_t cap)
{
	double x = median * exp(sigma * normal(g));
	double r = floor(x + 0.5);
	if (r < 1)
		r = 1;
	if (cap && r > cap)
		r = cap;
	if (r > 1e8)
		r = 1e8;
	return (uint32_t)r;
}

/* Draw q->n requests into v from g. */
static void req_draw(struct rng *g, const struct xpu_req_gen *q, struct xpu_request *v)
{
	/* gamma inter-arrival times of mean 1/rate: shape 1/cv^2 (cv 1: exponential) */
	double shape = 1 / (q->cv * q->cv), scale = 1 / (q->rate * shape), t = 0;
	for (uint32_t i = 0; i < q->n; i++) {
		struct xpu_request *r = &v[i];
		if (i > 0)
			t += q->cv == 1 ? expo(g, 1 / q->rate) : gamma_draw(g, shape, scale);
		r->index = i;
		r->arrival = t;
		r->prompt = req_length(g, q->prompt_median, q->prompt_sigma, q->max_tokens);
		r->output = req_length(g, q->output_median, q->output_sigma, q->max_tokens);
		r->deadline = q->deadline > 0 ? t + q->deadline : INFINITY;
	}
}

static int req_check(const struct xpu_req_gen *q, struct xpu_err *err)
{
	if (q->n == 0 || q->n > 100000000u || !(q->rate > 0) || !isfinite(q->rate) ||
	    !(q->cv > 0) || !isfinite(q->cv) || !(q->prompt_median >= 1) ||
	    !(q->output_median >= 1) || !(q->prompt_sigma >= 0) || !(q->output_sigma >= 0) ||
	    q->prompt_median > 1e8 || q->output_median > 1e8 || q->prompt_sigma > 10 ||
	    q->output_sigma > 10)
		return xpu_errf(err, NULL, 0,
		                "requests: expected count 1..1e8, rate > 0, cv > 0, medians of "
		                "1 to 1e8 tokens and sigmas of 0 to 10");
	return 0;
}

int xpu_requests_generate(const struct xpu_req_gen *q, struct xpu_requests *out,
                          struct xpu_err *err)
{
	memset(out, 0, sizeof(*out));
	if (req_check(q, err))
		return -EINVAL;
	out->v = calloc(q->n, sizeof(*out->v));
	out->ids = malloc((size_t)q->n * 12);
	if (!out->v || !out->ids) {
		xpu_requests_free(out);
		return -ENOMEM;
	}
	out->n = q->n;
	out->format = "generated";
	struct rng g;
	uint64_t x = q->seed;
	for (int i = 0; i < 4; i++)
		g.s[i] = splitmix(&x);
	req_draw(&g, q, out->v);
	for (uint32_t i = 0; i < q->n; i++) {
		char *id = out->ids + (size_t)i * 12;
		snprintf(id, 12, "g%u", i);
		out->v[i].id = id;
	}
	return 0;
}
