/* test_gen.c — `xpuopt gen`: every generator's output loads, has the textbook shape, is acyclic and
 * seeded. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../traces/gen.h"
#include "helpers.h"
#include "requests.h"
#include "trace.h"

/* Generate into a file; returns its path (static, rotating). */
static const char *gen(const char *kind, uint64_t seed, int n, const struct xpu_param *p)
{
	static char path[4][512];
	static int k;
	k = (k + 1) % 4;
	/* lublin writes an SWF log, read by its extension */
	snprintf(path[k], sizeof(path[k]), "%s/%s-%d.%s", xt_tmpdir(), kind, k,
	         strcmp(kind, "lublin") ? "csv" : "swf");
	FILE *f = fopen(path[k], "w");
	cr_assert_not_null(f);
	struct xpu_err err = {{0}};
	cr_assert_eq(xpu_gen_write(kind, n, p, seed, f, &err), 0, "%s: %s", kind, err.msg);
	fclose(f);
	return path[k];
}

/* Load it: xpu_workload_load also refuses unknown ids and cycles. */
static struct xpu_workload *load(const char *path)
{
	struct xpu_workload *w = NULL;
	struct xpu_err err = {{0}};
	cr_assert_eq(xpu_workload_load(path, NULL, NULL, &w, &err), 0, "%s", err.msg);
	return w;
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	cr_assert_not_null(f);
	char *s = calloc(1, 1 << 20);
	size_t n = fread(s, 1, (1 << 20) - 1, f);
	s[n] = '\0';
	fclose(f);
	return s;
}

/* Same seed, same file; another seed, another file (the header line names the seed,
 * so compare from the column row on). */
static void seeded(const char *kind, int n, const struct xpu_param *p)
{
	char *a = slurp(gen(kind, 7, n, p)), *b = slurp(gen(kind, 7, n, p));
	char *c = slurp(gen(kind, 8, n, p));
	cr_expect_str_eq(a, b, "%s", kind);
	cr_expect_str_neq(strchr(a, '\n'), strchr(c, '\n'), "%s", kind);
	free(a);
	free(b);
	free(c);
}

struct shape {
	const char *kind;
	struct xpu_param p[3];
	int np;
	uint32_t tasks;
	uint64_t deps;
};

static const struct shape shapes[] = {
    {"poisson", {{"count", "50"}}, 1, 50, 0},
    {"bursty", {{"count", "40"}}, 1, 40, 0},
    /* edge_prob 1: every task of a layer feeds every task of the next. */
    {"layered", {{"layers", "3"}, {"width", "4"}, {"edge_prob", "1"}}, 3, 12, 2 * 16},
    {"forkjoin", {{"stages", "2"}, {"width", "3"}}, 2, 1 + 2 * 4, 2 * 2 * 3},
    /* n = 4: pivots P1..P3 and updates 3 + 2 + 1: 9 tasks; edges P(k)->U(k,j): 6,
     * U(k,k+1)->P(k+1): 2, U(k,j)->U(k+1,j): 2 + 1: 11 = n^2 - n - 1. */
    {"gauss", {{"n", "4"}}, 1, 9, 11},
    /* The HEFT paper's 14-task graph for n = 5. */
    {"gauss", {{"n", "5"}}, 1, 14, 19},
    /* 4 points: 7 recursive calls (6 edges) + 2 butterfly levels of 4 (8 edges each). */
    {"fft", {{"points", "4"}}, 1, 15, 22},
    /* 2 x 2 images: 4 projections, 4 diffs (2 each), concat (4), bgmodel (1),
     * 4 backgrounds (2 each), imgtbl (4), add, shrink, jpeg (1 each). */
    {"montage", {{"images", "4"}}, 1, 18, 8 + 4 + 1 + 8 + 4 + 3},
    {"llm", {{"count", "10"}}, 1, 20, 10},
    {"lublin", {{"count", "30"}, {"procs", "64"}}, 2, 30, 0},
};

Test(gen, each_kind_loads_with_its_textbook_shape_and_is_seeded)
{
	for (size_t i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++) {
		const struct shape *s = &shapes[i];
		struct xpu_workload *w = load(gen(s->kind, 1, s->np, s->p));
		cr_expect_eq(w->ntasks, s->tasks, "%s: %u tasks", s->kind, w->ntasks);
		cr_expect_eq(w->ndeps, s->deps, "%s: %llu deps", s->kind,
		             (unsigned long long)w->ndeps);
		xpu_workload_free(w);
		seeded(s->kind, s->np, s->p);
	}
	for (const char *const *k = xpu_gen_kinds; *k; k++) { /* defaults */
		if (!strcmp(*k, "requests")) { /* a request stream, not a task trace */
			struct xpu_requests rq;
			struct xpu_err err = {{0}};
			cr_expect_eq(xpu_requests_read(gen(*k, 3, 0, NULL), &rq, &err), 0, "%s",
			             err.msg);
			cr_expect_eq(rq.n, 100);
			xpu_requests_free(&rq);
			continue;
		}
		struct xpu_workload *w = load(gen(*k, 3, 0, NULL));
		cr_expect_gt(w->ntasks, 0, "%s", *k);
		xpu_workload_free(w);
	}
}

Test(gen, arrivals_and_class_mix)
{
	struct xpu_param p[] = {{"count", "2000"}, {"rate", "100"}, {"classes", "gemm:3/fft:1"}};
	struct xpu_workload *w = load(gen("poisson", 5, 3, p));
	/* 2000 gaps of mean 10 ms: about 20 s (a 10% band is over 4 sigma). */
	cr_expect(w->last_submit > 18 && w->last_submit < 22, "%g", w->last_submit);
	cr_expect_eq(w->class_count[XPU_CLASS_GEMM] + w->class_count[XPU_CLASS_FFT], 2000);
	cr_expect(w->class_count[XPU_CLASS_GEMM] > 1400 && w->class_count[XPU_CLASS_GEMM] < 1600);
	xpu_workload_free(w);

	struct xpu_param q[] = {{"count", "20"}, {"prompt", "100"}, {"params", "1e9"}};
	w = load(gen("llm", 5, 3, q));
	const struct xpu_task *pre = &w->tasks[0], *dec = &w->tasks[1];
	cr_expect_eq(pre->cls, XPU_CLASS_LLM_PREFILL);
	cr_expect_eq(dec->cls, XPU_CLASS_LLM_DECODE);
	cr_assert_eq(dec->ndeps, 1);
	/* KV cache of the prompt: kv_bytes per token, flops 2 x params per token. */
	cr_expect_float_eq(dec->deps[0].bytes / 524288.0, pre->flops / 2e9, 1e-6);
	xpu_workload_free(w);
}

Test(gen, cli_writes_a_file_and_refuses_bad_parameters)
{
	char buf[16384], out[512];
	snprintf(out, sizeof(out), "%s/fft.csv", xt_tmpdir());
	cr_assert_eq(xt_cmd(buf, sizeof(buf), "gen fft --points=8 --seed 2 -o %s", out), 0, "%s",
	             buf);
	struct xpu_workload *w = load(out);
	cr_expect_eq(w->ntasks, 15 + 8 * 3); /* 2n - 1 calls, n log2 n butterflies */
	xpu_workload_free(w);
	cr_expect_eq(xt_cmd(buf, sizeof(buf), "gen fft --points 6 -o %s", out), 2);
	cr_expect_eq(xt_cmd(buf, sizeof(buf), "gen gauss --size 4 -o %s", out), 2);
	cr_expect_eq(xt_cmd(buf, sizeof(buf), "gen poisson --classes gemm:x -o %s", out), 2);
	cr_expect_eq(xt_cmd(buf, sizeof(buf), "gen nosuch -o %s", out), 2);
	cr_expect_eq(xt_cmd(buf, sizeof(buf), "gen poisson --rate 0 -o %s", out), 2,
	             "no arrival ever comes at rate 0");
	cr_expect_eq(xt_cmd(buf, sizeof(buf), "gen poisson"), 2);
	cr_expect_eq(xt_cmd(buf, sizeof(buf), "gen --help"), 0);
	cr_expect_not_null(strstr(buf, "montage"));
}

/* Lublin and Feitelson 2003: serial jobs are 15% (interactive) to 29% (batch) of the
 * jobs, most parallel sizes are powers of two, run times stay below e^12 s and sizes
 * within the machine; arrivals are in order and follow a daily cycle. */
Test(gen, lublin_jobs_have_the_model_shape)
{
	struct xpu_param p[] = {{"count", "6000"}, {"procs", "9216"}};
	struct xpu_workload *w = load(gen("lublin", 11, 2, p));
	cr_assert_eq(w->ntasks, 6000);
	uint32_t serial = 0, pow2 = 0, wide = 0;
	double prev = 0, run_max = 0;
	for (uint32_t i = 0; i < w->ntasks; i++) {
		const struct xpu_task *t = &w->tasks[i];
		cr_assert(t->width >= 1 && t->width <= 9216, "width %u", t->width);
		serial += t->width == 1;
		pow2 += t->width > 1 && (t->width & (t->width - 1)) == 0;
		wide += t->width > 1024;
		cr_assert_geq(t->submit, prev);
		prev = t->submit;
		/* no platform given: the reader's default reference, 1e9 flop/s */
		double run = t->flops / 1e9 / t->width;
		if (run > run_max)
			run_max = run;
	}
	double fs = serial / 6000.0, fp = pow2 / (6000.0 - serial);
	cr_expect(fs > 0.15 && fs < 0.30, "serial fraction %g", fs);
	cr_expect(fp > 0.6, "power-of-two fraction of parallel jobs %g", fp);
	cr_expect_gt(wide, 0, "sizes scale with the machine");
	cr_expect_leq(run_max, exp(12) + 1);
	xpu_workload_free(w);
}
