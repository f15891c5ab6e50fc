/* test_alloc.c — the address-range allocators (first-fit, best-fit, buddy, tlsf) under
 * seeded random allocate/free sequences of 64 B to 64 MiB: blocks never overlap and stay
 * inside their pool, every byte is accounted for, freed space is reused, a refusal
 * means no free block is large enough, and everything freed coalesces back. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <errno.h>
#include <hdf5.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine_impl.h"
#include "helpers.h"
#include "registry.h"

struct live {
	uint64_t h, off, len;
	int pool;
};

static int by_off(const void *a, const void *b)
{
	const struct live *x = a, *y = b;
	if (x->pool != y->pool)
		return x->pool - y->pool;
	return x->off < y->off ? -1 : x->off > y->off;
}

static uint64_t rng_next(uint64_t *s)
{
	*s = *s * 6364136223846793005ULL + 1442695040888963407ULL;
	return *s >> 11;
}

/* 64 B .. 64 MiB, log-uniform. */
static double rand_size(uint64_t *s)
{
	double u = (double)(rng_next(s) & ((1ULL << 52) - 1)) / (double)(1ULL << 52);
	return floor(exp(log(64.0) + u * (log(64.0 * 1048576) - log(64.0))));
}

static void check_disjoint(const struct xpu_mem *m, struct live *v, size_t n,
                           const struct xpu_platform *pf)
{
	struct live *c = malloc((n ? n : 1) * sizeof(*c));
	memcpy(c, v, n * sizeof(*c));
	qsort(c, n, sizeof(*c), by_off);
	double used[2] = {0, 0};
	for (size_t i = 0; i < n; i++) {
		uint64_t off, len;
		cr_assert_eq(m->ops->where((struct xpu_mem *)m, c[i].pool, c[i].h, &off, &len), 0);
		cr_assert_eq(off, c[i].off, "a block moved");
		cr_assert_leq(off + len, (uint64_t)pf->pools[c[i].pool].capacity,
		              "past the pool's end");
		if (i > 0 && c[i - 1].pool == c[i].pool)
			cr_assert_leq(c[i - 1].off + c[i - 1].len, c[i].off,
			              "blocks [%llu, +%llu) and [%llu, +%llu) overlap",
			              (unsigned long long)c[i - 1].off,
			              (unsigned long long)c[i - 1].len,
			              (unsigned long long)c[i].off, (unsigned long long)c[i].len);
		used[c[i].pool] += (double)len;
	}
	for (int p = 0; p < pf->npools; p++)
		cr_assert_eq(m->ops->used((struct xpu_mem *)m, p), used[p], "pool %d: used", p);
	free(c);
}

struct acase {
	char name[16];
};

ParameterizedTestParameters(alloc, random_sequences)
{
	static struct acase c[] = {{"first-fit"}, {"best-fit"}, {"buddy"}, {"tlsf"}, {"caching"}};
	return cr_make_param_array(struct acase, c, sizeof(c) / sizeof(c[0]));
}

ParameterizedTest(struct acase *ac, alloc, random_sequences)
{
	const struct xpu_mem_ops *ops = NULL;
	for (int i = 0; xpu_mem_registry[i]; i++)
		if (!strcmp(xpu_mem_registry[i]->head.name, ac->name))
			ops = xpu_mem_registry[i];
	cr_assert_not_null(ops, "%s is not registered", ac->name);
	cr_assert_not_null(ops->where);
	cr_assert_not_null(ops->free_space);
	/* two pools: 1 GiB, and 3 GiB + 5 KiB (no power of two) */
	struct xpu_mempool pools[2] = {{"a", 1073741824.0}, {"b", 3221225472.0 + 5120}};
	struct xpu_platform pf = {.npools = 2, .pools = pools};
	struct xpu_engine e = {.pf = &pf};
	struct xpu_mem m = {.ops = ops, .eng = &e};
	cr_assert_eq(ops->init(&m), 0);

	size_t cap = 100000, n = 0;
	struct live *v = malloc(cap * sizeof(*v));
	uint64_t seed = 12345;
	long refused = 0;
	double granted = 0;
	for (int step = 0; step < 60000; step++) {
		int pool = (int)(rng_next(&seed) % 2);
		if (n > 0 && rng_next(&seed) % 100 < 45) {
			size_t k = rng_next(&seed) % n;
			ops->free(&m, v[k].pool, v[k].h);
			uint64_t off, len;
			cr_assert_eq(ops->where(&m, v[k].pool, v[k].h, &off, &len), -ENOENT,
			             "freed handle still allocated");
			v[k] = v[--n];
			continue;
		}
		double sz = rand_size(&seed);
		uint64_t h;
		int rc = ops->alloc(&m, pool, sz, &h);
		if (rc == -ENOSPC) {
			double fb, largest;
			ops->free_space(&m, pool, &fb, &largest);
			/* caching keeps small and large blocks apart (PyTorch's design): a
			 * small request may be refused while a large cached block is free */
			if (strcmp(ac->name, "caching") || sz > 1048576)
				cr_assert_lt(largest, sz,
				             "%s refused %.0f B with a free block of %.0f B",
				             ac->name, sz, largest);
			refused++;
			continue;
		}
		cr_assert_eq(rc, 0, "alloc: %d", rc);
		uint64_t off, len;
		cr_assert_eq(ops->where(&m, pool, h, &off, &len), 0);
		cr_assert_geq(len, (uint64_t)sz, "a block smaller than asked");
		granted += (double)len;
		v[n++] = (struct live){h, off, len, pool};
		if (step % 2000 == 0)
			check_disjoint(&m, v, n, &pf);
	}
	check_disjoint(&m, v, n, &pf);
	cr_assert_gt(refused, 0, "the pools never filled: the test proves little");
	/* the blocks granted add up to many times the 4 GiB of the pools: freed space
	 * was reused */
	cr_assert_gt(granted, 10 * 4294967296.0, "%.3g bytes granted in all", granted);
	/* free everything: the pools coalesce back */
	for (size_t i = 0; i < n; i++)
		ops->free(&m, v[i].pool, v[i].h);
	for (int p = 0; p < 2; p++) {
		double fb, largest;
		ops->free_space(&m, p, &fb, &largest);
		cr_assert_eq(ops->used(&m, p), 0);
		cr_assert_eq(fb, (double)(uint64_t)pools[p].capacity);
		/* the largest power of two, 64-byte grain, or the whole pool (caching keeps
		 * its segments until the memory runs out: the request below checks it) */
		if (strcmp(ac->name, "caching"))
			cr_assert_geq(largest, p == 0 ? 1073741824.0 : 2147483648.0,
			              "%s: pool %d: %.0f", ac->name, p, largest);
	}
	/* a request of the whole pool a fits again; one larger never fits */
	uint64_t h;
	cr_assert_eq(ops->alloc(&m, 0, 1073741824.0, &h), 0);
	cr_assert_eq(ops->alloc(&m, 1, 4e9, &h), -E2BIG);
	free(v);
	ops->fini(&m);
}

/* A run records each memory's fragmentation over time: tasks with footprints of mixed
 * sizes on a small memory leave holes under first-fit. */
Test(alloc, fragmentation_in_results)
{
	char pf[512], h5[512];
	snprintf(pf, sizeof(pf), "%s",
	         xt_write_file(
	             "p.xml",
	             "<?xml version='1.0'?>\n"
	             "<!DOCTYPE platform SYSTEM \"https://simgrid.org/simgrid.dtd\">\n"
	             "<platform version=\"4.1\"><zone id=\"z\" routing=\"Full\">\n"
	             "<host id=\"a\" speed=\"1Gf\" core=\"8\"><prop id=\"xpu.kind\" value=\"cpu\"/>"
	             "<prop id=\"xpu.mem\" value=\"1GiB\"/></host>\n"
	             "</zone></platform>\n"));
	snprintf(h5, sizeof(h5), "%s/r.h5", xt_tmpdir());
	/* short and long tasks of mixed footprints: the short ones leave holes */
	char text[4096] = "id,submit,flops,mem\n";
	for (int i = 0; i < 64; i++)
		snprintf(text + strlen(text), sizeof(text) - strlen(text), "t%d,%d,%s,%dMiB\n", i,
		         i / 8, i % 2 ? "1e9" : "5e9", 50 + 37 * (i % 7));
	const char *tr = xt_write_file("t.csv", text);
	struct xpu_run_opts o = {.platform = pf, .trace = tr, .sched = "fifo", .mem = "first-fit"};
	cr_assert_eq(xt_run_forked(&o, h5), 0);
	double *frag = NULL;
	hid_t file = H5Fopen(h5, H5F_ACC_RDONLY, H5P_DEFAULT);
	cr_assert_geq(file, 0);
	hid_t d = H5Dopen2(file, "/timeline/frag", H5P_DEFAULT);
	cr_assert_geq(d, 0, "no /timeline/frag");
	hid_t sp = H5Dget_space(d);
	hssize_t n = H5Sget_simple_extent_npoints(sp);
	frag = malloc((size_t)n * sizeof(double));
	cr_assert_geq(H5Dread(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, frag), 0);
	double peak = 0;
	for (hssize_t i = 0; i < n; i++) {
		cr_assert(frag[i] >= 0 && frag[i] <= 1, "frag %g", frag[i]);
		if (frag[i] > peak)
			peak = frag[i];
	}
	cr_assert_gt(peak, 0, "first-fit with holes never fragmented");
	H5Sclose(sp);
	H5Dclose(d);
	d = H5Dopen2(file, "/summary/peak_fragmentation", H5P_DEFAULT);
	double s = -1;
	cr_assert_geq(H5Dread(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, &s), 0);
	cr_assert_float_eq(s, peak, 1e-12);
	H5Dclose(d);
	H5Fclose(file);
	free(frag);
}

/* Paged memory: admission keeps the watermark, growth may use the reserve, blocks are
 * never given twice, release returns them; a seeded random run checks the counts. */
Test(pages, watermark_growth_and_release)
{
	/* 100 blocks of 16 KiB, 10% kept for growth */
	struct xpu_pages *p = xpu_pages_new(100 * 16384.0, 16384, 0.1);
	cr_assert_not_null(p);
	cr_assert_eq(xpu_pages_total(p), 100);
	cr_assert_eq(xpu_pages_admit(p, 1, 50), 0);
	cr_assert_eq(xpu_pages_admit(p, 1, 1), -EEXIST);
	cr_assert_eq(xpu_pages_admit(p, 2, 41), -ENOSPC, "9 left < the 10 reserved");
	cr_assert_eq(xpu_pages_admit(p, 2, 40), 0);
	cr_assert_eq(xpu_pages_admit(p, 3, 1), -ENOSPC);
	cr_assert_eq(xpu_pages_grow(p, 1, 10), 0, "growth may use the reserve");
	cr_assert_eq(xpu_pages_free_blocks(p), 0);
	cr_assert_eq(xpu_pages_grow(p, 2, 1), -ENOSPC);
	cr_assert_eq(xpu_pages_grow(p, 9, 1), -ENOENT);
	cr_assert_eq(xpu_pages_admit(p, 3, 91), -E2BIG);
	/* every block held once */
	int seen[100] = {0};
	for (uint64_t o = 1; o <= 2; o++) {
		const uint32_t *b;
		uint32_t n = xpu_pages_held(p, o, &b);
		cr_assert_eq(n, o == 1 ? 60 : 40);
		for (uint32_t i = 0; i < n; i++) {
			cr_assert_lt(b[i], 100);
			cr_assert_eq(seen[b[i]]++, 0, "block %u given twice", b[i]);
		}
	}
	xpu_pages_release(p, 1);
	cr_assert_eq(xpu_pages_free_blocks(p), 60);
	cr_assert_eq(xpu_pages_held(p, 1, NULL), 0);
	cr_assert_eq(xpu_pages_admit(p, 1, 50), 0, "an owner id comes back after release");
	xpu_pages_free(p);
	cr_assert_null(xpu_pages_new(100, 0, 0.1));
	cr_assert_null(xpu_pages_new(10, 16, 0.1));
	cr_assert_null(xpu_pages_new(1e6, 16, 1));

	/* many owners coming and going */
	p = xpu_pages_new(4096 * 64.0, 64, 0.05);
	uint64_t s = 7, live[512];
	uint32_t held = 0, nlive = 0;
	for (int step = 0; step < 200000; step++) {
		uint64_t r = (s = s * 6364136223846793005ULL + 1442695040888963407ULL) >> 33;
		if (nlive && r % 3 == 0) {
			uint32_t k = (uint32_t)(r % nlive);
			held -= xpu_pages_held(p, live[k], NULL);
			xpu_pages_release(p, live[k]);
			live[k] = live[--nlive];
		} else if (nlive && r % 3 == 1) {
			uint64_t o = live[r % nlive];
			if (xpu_pages_grow(p, o, 1 + (uint32_t)(r % 4)) == 0)
				held += 1 + (uint32_t)(r % 4);
		} else if (nlive < 512) {
			uint64_t o = r << 8 | (uint64_t)step;
			if (xpu_pages_admit(p, o, 1 + (uint32_t)(r % 16)) == 0) {
				live[nlive++] = o;
				held += 1 + (uint32_t)(r % 16);
			}
		}
		cr_assert_eq(held + xpu_pages_free_blocks(p), 4096, "step %d", step);
	}
	xpu_pages_free(p);
}
