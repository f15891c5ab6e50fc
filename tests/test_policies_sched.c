/* test_policies_sched.c — behaviour of the scheduling policy library beyond the
 * contract: lower bounds and quality on layered DAGs, deadlines, the fallback chain,
 * and the reservation guarantees of EASY and conservative backfilling. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../policies/sched/backfill.h"
#include "helpers.h"

/* ------------------------------------------------------------ layered DAGs */

#define LD_MAX 200

/* A seeded layered DAG on the HEFT paper's three processors (explicit costs, data
 * edges of 1 B/s): writes the trace and returns its critical-path lower bound, the
 * longest path with each task at its fastest processor and free communication. */
static double write_layered(const char *path, int ntasks, unsigned seed)
{
	double best[LD_MAX], lb[LD_MAX], bound = 0;
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f);
	fprintf(f, "id,cost,deps\n");
	srand(seed);
	int width = 2 + rand() % 5;
	for (int i = 0; i < ntasks; i++) {
		int layer = i / width;
		double c[3];
		best[i] = INFINITY;
		for (int p = 0; p < 3; p++) {
			c[p] = 1 + rand() % 30;
			if (c[p] < best[i])
				best[i] = c[p];
		}
		fprintf(f, "t%d,P1=%g;P2=%g;P3=%g,", i, c[0], c[1], c[2]);
		double start = 0;
		int first = 1;
		if (layer > 0)
			for (int p = (layer - 1) * width; p < layer * width; p++)
				if (rand() % 3 == 0 || p == (layer - 1) * width + i % width) {
					fprintf(f, "%st%d:%d", first ? "" : ";", p, rand() % 20);
					first = 0;
					if (lb[p] > start)
						start = lb[p];
				}
		fprintf(f, "\n");
		lb[i] = start + best[i];
		if (lb[i] > bound)
			bound = lb[i];
	}
	fclose(f);
	return bound;
}

static double makespan_of(const char *policy, const char *trace, const char *dir)
{
	char h5[256];
	snprintf(h5, sizeof(h5), "%s/%s.h5", dir, policy);
	struct xpu_run_opts o = {.platform = xt_src("tests/data/cases/heft_platform.xml"),
	                         .trace = trace,
	                         .sched = policy};
	cr_assert_eq(xt_run_forked(&o, h5), 0, "%s on %s", policy, trace);
	double *end, ms = 0;
	size_t n = xt_read_column(h5, "end", &end);
	for (size_t i = 0; i < n; i++)
		ms = end[i] > ms ? end[i] : ms;
	free(end);
	return ms;
}

Test(dag_policies, respect_the_critical_path_bound_and_heft_beats_fifo)
{
	static const char *const dag[] = {"heft", "cpop", "peft"};
	const char *dir = xt_tmpdir();
	double sum_heft = 0, sum_fifo = 0;
	for (unsigned k = 0; k < 6; k++) {
		char trace[256];
		snprintf(trace, sizeof(trace), "%s/layered%u.csv", dir, k);
		double lb = write_layered(trace, 40 + 20 * (int)k, 100 + k);
		for (int p = 0; p < 3; p++) {
			double ms = makespan_of(dag[p], trace, dir);
			cr_assert(ms >= lb - 1e-6, "%s makespan %g below the bound %g", dag[p], ms,
			          lb);
			if (p == 0)
				sum_heft += ms;
		}
		sum_fifo += makespan_of("fifo", trace, dir);
	}
	cr_assert(sum_heft <= sum_fifo, "HEFT mean %g worse than fifo's %g", sum_heft / 6,
	          sum_fifo / 6);
}

/* ------------------------------------------------------------ deadlines */

static const char *one_core(const char *dir)
{
	static char plat[256];
	snprintf(plat, sizeof(plat), "%s/one.xml", dir);
	FILE *f = fopen(plat, "w");
	fprintf(f, "<?xml version='1.0'?>\n<!DOCTYPE platform SYSTEM "
	           "\"https://simgrid.org/simgrid.dtd\">\n<platform version=\"4.1\">"
	           "<zone id=\"z\" routing=\"Full\"><host id=\"c\" speed=\"1Gf\">"
	           "<prop id=\"xpu.kind\" value=\"cpu\"/></host></zone></platform>\n");
	fclose(f);
	return plat;
}

static int misses_of(const char *policy, const char *plat, const char *trace, const char *dir,
                     const double *deadline)
{
	char h5[256];
	snprintf(h5, sizeof(h5), "%s/%s.h5", dir, policy);
	struct xpu_run_opts o = {.platform = plat, .trace = trace, .sched = policy};
	cr_assert_eq(xt_run_forked(&o, h5), 0);
	double *end;
	size_t n = xt_read_column(h5, "end", &end);
	int miss = 0;
	for (size_t i = 0; i < n; i++)
		miss += end[i] > deadline[i] + 1e-9;
	free(end);
	return miss;
}

/* dmdas runs a unit's queue by priority: behind a 5 s task, low-priority tasks readied
 * first wait for a high-priority one readied after them; dmda keeps readiness order. */
Test(dmdas, sorts_a_unit_queue_by_priority)
{
	const char *dir = xt_tmpdir(), *plat = one_core(dir);
	char trace[256], h5[256];
	snprintf(trace, sizeof(trace), "%s/p.csv", dir);
	FILE *f = fopen(trace, "w");
	fprintf(f, "id,submit,flops,priority\nfirst,0,5e9,0\nlow1,1,1e9,0\nlow2,1.5,1e9,0\n"
	           "high,2,1e9,7\n");
	fclose(f);
	double *start;
	const char *pol[] = {"dmdas", "dmda"};
	for (int k = 0; k < 2; k++) {
		snprintf(h5, sizeof(h5), "%s/%s.h5", dir, pol[k]);
		struct xpu_run_opts o = {.platform = plat, .trace = trace, .sched = pol[k]};
		cr_assert_eq(xt_run_forked(&o, h5), 0);
		cr_assert_eq(xt_read_column(h5, "start", &start), 4);
		if (k == 0) {
			cr_assert_float_eq(start[3], 5, 1e-9, "dmdas: high starts at %g", start[3]);
			cr_assert_float_eq(start[1], 6, 1e-9);
			cr_assert_float_eq(start[2], 7, 1e-9);
		} else {
			cr_assert_float_eq(start[1], 5, 1e-9, "dmda: low1 starts at %g", start[1]);
			cr_assert_float_eq(start[3], 7, 1e-9);
		}
		free(start);
	}
}

Test(edf, meets_every_deadline_of_a_feasible_set)
{
	/* 10 tasks of 1 s at time 0 on one core, listed in reverse deadline order: task i
	 * is due at 10 - i. EDF runs them due-first and meets all; fifo would not. */
	const char *dir = xt_tmpdir(), *plat = one_core(dir);
	char trace[256];
	double due[10];
	snprintf(trace, sizeof(trace), "%s/d.csv", dir);
	FILE *f = fopen(trace, "w");
	fprintf(f, "id,flops,deadline\n");
	for (int i = 0; i < 10; i++) {
		due[i] = 10 - i;
		fprintf(f, "d%d,1e9,%g\n", i, due[i]);
	}
	fclose(f);
	cr_assert_eq(misses_of("edf", plat, trace, dir, due), 0);
	cr_assert(misses_of("fifo", plat, trace, dir, due) > 0);
}

Test(edf, misses_fewer_than_fifo_when_overloaded)
{
	const char *dir = xt_tmpdir(), *plat = one_core(dir);
	char trace[256];
	double due[60];
	snprintf(trace, sizeof(trace), "%s/o.csv", dir);
	FILE *f = fopen(trace, "w");
	fprintf(f, "id,submit,flops,deadline\n");
	srand(9);
	for (int i = 0; i < 60; i++) {
		double submit = i * 0.5, work = 0.1 + (rand() % 10) * 0.1; /* ~1.1x load */
		due[i] = submit + work + (rand() % 20) * 0.5;
		fprintf(f, "o%d,%g,%g,%g\n", i, submit, work * 1e9, due[i]);
	}
	fclose(f);
	int e = misses_of("edf", plat, trace, dir, due);
	int q = misses_of("fifo", plat, trace, dir, due);
	cr_assert(e < q, "edf misses %d, fifo %d", e, q);
}

/* ------------------------------------------------------------ fallback chain */

Test(fallback, loses_no_task_when_a_kind_cannot_run_its_class)
{
	/* The contract NPU runs only gemm, conv and attention: the other classes must
	 * move on to the GPUs, then the CPU. */
	const char *dir = xt_tmpdir();
	char trace[256];
	snprintf(trace, sizeof(trace), "%s/dag.csv", dir);
	xt_write_dag_trace(trace, 300, 21);
	struct xpu_run_opts o = {.platform = xt_src("tests/data/contract/hetero.xml"),
	                         .trace = trace,
	                         .sched = "fallback:order=npu/gpu/cpu"};
	struct xpu_run_result res;
	struct xpu_err err = {{0}};
	cr_assert_eq(xpu_run(&o, &res, &err), 0, "%s", err.msg);
	xt_check_contract(&res);
	cr_assert_eq(xpu_summary_get(&res.summary, "tasks_done"), 300);
	int on_npu = 0;
	for (uint32_t i = 0; i < res.w->ntasks; i++) {
		const struct xpu_task *t = &res.w->tasks[i];
		int kind = res.pf.units[t->unit].kind;
		on_npu += kind == XPU_KIND_NPU;
		if (t->cls == XPU_CLASS_GEMM || t->cls == XPU_CLASS_CONV ||
		    t->cls == XPU_CLASS_ATTENTION)
			cr_assert_eq(kind, XPU_KIND_NPU, "task %s left the first kind", t->id);
		else
			cr_assert_eq(kind, XPU_KIND_GPU, "task %s skipped the GPUs", t->id);
	}
	cr_assert(on_npu > 0);
	xpu_run_result_free(&res);
}

Test(fallback, refuses_an_unknown_kind)
{
	const char *dir = xt_tmpdir();
	char trace[256];
	snprintf(trace, sizeof(trace), "%s/dag.csv", dir);
	xt_write_dag_trace(trace, 20, 1);
	struct xpu_run_opts o = {.platform = xt_src("tests/data/contract/hetero.xml"),
	                         .trace = trace,
	                         .sched = "fallback:order=npu/abacus"};
	struct xpu_err err = {{0}};
	cr_assert_neq(xpu_run(&o, NULL, &err), 0);
}

/* ------------------------------------------------------------ backfilling */

/* One 64-core cluster unit at 1 Gflop/s per core. */
static const char *cluster(const char *dir)
{
	static char plat[256];
	snprintf(plat, sizeof(plat), "%s/cluster.xml", dir);
	FILE *f = fopen(plat, "w");
	fprintf(f, "<?xml version='1.0'?>\n<!DOCTYPE platform SYSTEM "
	           "\"https://simgrid.org/simgrid.dtd\">\n<platform version=\"4.1\">"
	           "<zone id=\"z\" routing=\"Full\"><host id=\"cl\" speed=\"1Gf\" core=\"64\">"
	           "<prop id=\"xpu.kind\" value=\"cpu\"/></host></zone></platform>\n");
	fclose(f);
	return plat;
}

/* Jobs with estimates at or above their run times. swf_like: power-of-two widths,
 * heavy-tailed run times and estimates rounded up to a quarter hour, as in SWF logs;
 * else uniform widths and run times. */
static void write_jobs(const char *path, int n, unsigned seed, int swf_like)
{
	FILE *f = fopen(path, "w");
	fprintf(f, "id,submit,flops,width,estimate\n");
	srand(seed);
	double submit = 0;
	for (int i = 0; i < n; i++) {
		int w;
		double run, est;
		if (swf_like) {
			w = 1 << (rand() % 7);
			run = 60 * pow(2, (rand() % 1000) / 100.0);
			est = ceil(run * (1 + (rand() % 300) / 100.0) / 900) * 900;
			submit += rand() % 600;
		} else {
			w = 1 + rand() % 64;
			run = 1 + rand() % 100;
			est = run * (1 + (rand() % 100) / 50.0);
			submit += rand() % 20;
		}
		fprintf(f, "j%d,%g,%.17g,%d,%.17g\n", i, submit, run * w * 1e9, w, est);
	}
	fclose(f);
}

static void check_reservations(const char *policy, int swf_like, unsigned seed)
{
	const char *dir = xt_tmpdir(), *plat = cluster(dir);
	char trace[256];
	snprintf(trace, sizeof(trace), "%s/jobs.csv", dir);
	write_jobs(trace, 150, seed, swf_like);
	struct xpu_run_opts o = {.platform = plat, .trace = trace, .sched = policy};
	struct xpu_run_result res;
	struct xpu_err err = {{0}};
	cr_assert_eq(xpu_run(&o, &res, &err), 0, "%s", err.msg);
	xt_check_contract(&res);
	int reserved = 0;
	for (uint32_t i = 0; i < res.w->ntasks; i++) {
		const struct xpu_task *t = &res.w->tasks[i];
		double r = xpu_backfill_first_reservation(t);
		if (isnan(r))
			continue;
		reserved++;
		cr_assert(t->start_t <= r + 1e-6 * (1 + r),
		          "%s: job %s starts at %g after its reservation %g", policy, t->id,
		          t->start_t, r);
	}
	cr_assert(reserved > 0, "no job ever waited: the case tests nothing");
	xpu_run_result_free(&res);
}

Test(easy, never_delays_the_head_reservation_generated)
{
	check_reservations("easy", 0, 3);
}

Test(easy, never_delays_the_head_reservation_swf_like)
{
	check_reservations("easy", 1, 4);
}

Test(conservative, delays_no_reservation_generated)
{
	check_reservations("conservative", 0, 5);
}

Test(conservative, delays_no_reservation_swf_like)
{
	check_reservations("conservative", 1, 6);
}

Test(easy, backfills_where_fcfs_waits)
{
	/* 64 cores: a 60-core job runs 10 s; a 64-core job waits for it; a 4-core 5 s job
	 * arriving next fits in the 4 spare cores and ends before the head could start. */
	const char *dir = xt_tmpdir(), *plat = cluster(dir);
	char trace[256];
	snprintf(trace, sizeof(trace), "%s/b.csv", dir);
	FILE *f = fopen(trace, "w");
	fprintf(f, "id,submit,flops,width,estimate\na,0,600e9,60,10\nb,1,640e9,64,10\n"
	           "c,2,20e9,4,5\n");
	fclose(f);
	struct xpu_run_opts o = {.platform = plat, .trace = trace, .sched = "easy"};
	struct xpu_run_result res;
	struct xpu_err err = {{0}};
	cr_assert_eq(xpu_run(&o, &res, &err), 0, "%s", err.msg);
	cr_assert(fabs(res.w->tasks[2].start_t - 2) < 1e-9, "c starts at %g",
	          res.w->tasks[2].start_t);
	cr_assert(fabs(res.w->tasks[1].start_t - 10) < 1e-9);
	xpu_run_result_free(&res);
}
