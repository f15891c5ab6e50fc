/* alloc_cost.c — the memory policies' allocators against glibc malloc/free, on one
 * seeded sequence (issue: memory management).
 *
 * The sequence: N allocate+free pairs of sizes 64 B to 64 MiB, log-uniform, over a
 * working set of LIVE blocks (each pair allocates one block and frees a random live
 * one once the set is full), in one 4 GiB pool. Each allocator and glibc replay the
 * same sizes in the same run (glibc's blocks are not touched: malloc/free cost only).
 * Printed per allocator: pairs per second, the ratio to glibc (allocator time / glibc
 * time, lower is faster), the worst single operation, the refusals (the pool full:
 * glibc has no such bound), fragmentation 1 - largest free block / free bytes sampled
 * after every operation (mean and worst), and the fragmentation Masmano et al. report
 * for TLSF (2008: 15% average, 25% worst over their workloads), (H - L) / L with H the
 * highest address the allocator used and L the peak of live bytes asked. Usage:
 * alloc_cost [N] [LIVE] (default 1000000 pairs, 400 live blocks). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine_impl.h"
#include "registry.h"

static double now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static uint64_t rng(uint64_t *s)
{
	*s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
	return *s >> 11;
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 1000000;
	long live = argc > 2 ? atol(argv[2]) : 400;
	if (n < 1 || live < 1) {
		fprintf(stderr, "usage: alloc_cost [PAIRS] [LIVE]\n");
		return 2;
	}
	double *size = malloc((size_t)n * sizeof(*size));
	long *victim = malloc((size_t)n * sizeof(*victim));
	void **ptr = calloc((size_t)live, sizeof(*ptr));
	uint64_t *h = calloc((size_t)live, sizeof(*h));
	int *held = calloc((size_t)live, sizeof(*held));
	if (!size || !victim || !ptr || !h || !held)
		return 1;
	uint64_t s = 20261129;
	for (long i = 0; i < n; i++) {
		double u = (double)(rng(&s) & ((1ULL << 52) - 1)) / (double)(1ULL << 52);
		size[i] = floor(exp(log(64.0) + u * (log(64.0 * 1048576) - log(64.0))));
		victim[i] = (long)(rng(&s) % (uint64_t)live);
	}

	/* glibc: the slot's old block freed, then the new one allocated */
	double t0 = now_ns();
	for (long i = 0; i < n; i++) {
		long k = victim[i];
		free(ptr[k]);
		ptr[k] = malloc((size_t)size[i]);
	}
	for (long k = 0; k < live; k++)
		free(ptr[k]);
	double glibc = now_ns() - t0;
	printf("alloc_cost: %ld allocate+free pairs, 64 B to 64 MiB log-uniform, %ld live, "
	       "one 4 GiB pool\n",
	       n, live);
	printf("alloc_cost: glibc malloc/free: %.0f pairs/s\n", n / (glibc * 1e-9));
	printf("%-10s %14s %10s %12s %9s %10s %10s %10s\n", "allocator", "pairs/s", "vs glibc",
	       "worst op ns", "refused", "frag mean", "frag max", "(H-L)/L");

	struct xpu_mempool pool = {"bench", 4294967296.0};
	struct xpu_platform pf = {.npools = 1, .pools = &pool};
	struct xpu_engine e = {.pf = &pf};
	for (int a = 0; xpu_mem_registry[a]; a++) {
		const struct xpu_mem_ops *ops = xpu_mem_registry[a];
		if (!ops->where || !ops->free_space)
			continue;
		struct xpu_mem m = {.ops = ops, .eng = &e};
		if (ops->init(&m)) {
			fprintf(stderr, "alloc_cost: %s: init failed\n", ops->head.name);
			return 1;
		}
		memset(held, 0, (size_t)live * sizeof(*held));
		long refused = 0;
		double worst = 0;
		double t = now_ns();
		for (long i = 0; i < n; i++) {
			long k = victim[i];
			double a0 = now_ns();
			if (held[k])
				ops->free(&m, 0, h[k]);
			int rc = ops->alloc(&m, 0, size[i], &h[k]);
			double d = now_ns() - a0;
			if (d > worst)
				worst = d;
			held[k] = rc == 0;
			refused += rc != 0;
		}
		double took = now_ns() - t;
		/* fragmentation over a second pass, sampled after every operation (apart,
		 * so that sampling costs nothing in the timing above) */
		for (long k = 0; k < live; k++)
			if (held[k])
				ops->free(&m, 0, h[k]);
		memset(held, 0, (size_t)live * sizeof(*held));
		double fsum = 0, fmax = 0, top = 0, livebytes = 0, peak_live = 0;
		long fcount = 0;
		double *asked = calloc((size_t)live, sizeof(*asked));
		if (!asked)
			return 1;
		long pass = n < 200000 ? n : 200000; /* the scan in first-fit's free_space */
		for (long i = 0; i < pass; i++) {
			long k = victim[i];
			if (held[k]) {
				ops->free(&m, 0, h[k]);
				livebytes -= asked[k];
			}
			held[k] = ops->alloc(&m, 0, size[i], &h[k]) == 0;
			if (held[k]) {
				uint64_t off, len;
				ops->where(&m, 0, h[k], &off, &len);
				if ((double)(off + len) > top)
					top = (double)(off + len);
				asked[k] = size[i];
				livebytes += size[i];
				if (livebytes > peak_live)
					peak_live = livebytes;
			}
			double fb, largest;
			ops->free_space(&m, 0, &fb, &largest);
			if (fb > 0) {
				double f = 1 - largest / fb;
				fsum += f;
				fcount++;
				if (f > fmax)
					fmax = f;
			}
		}
		for (long k = 0; k < live; k++)
			if (held[k])
				ops->free(&m, 0, h[k]);
		ops->fini(&m);
		free(asked);
		printf("%-10s %14.0f %10.3f %12.0f %9ld %9.1f%% %9.1f%% %9.1f%%\n", ops->head.name,
		       n / (took * 1e-9), took / glibc, worst, refused,
		       fcount ? 100 * fsum / fcount : 0, 100 * fmax,
		       peak_live > 0 ? 100 * (top - peak_live) / peak_live : 0);
	}
	free(size);
	free(victim);
	free(ptr);
	free(h);
	free(held);
	return 0;
}
