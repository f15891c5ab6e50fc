/* test_wide.c — the second edition's engine: a wide job is one launch of width cores,
 * logs keep their run times on any platform, and failure of the head of a long chain
 * ends cleanly. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"

static void run_ok(const char *platform, const char *trace, const char *fmt, const char *sched,
                   struct xpu_run_result *res)
{
	struct xpu_run_opts o = {.platform = xt_src(platform),
	                         .trace = trace,
	                         .trace_format = fmt,
	                         .sched = sched,
	                         .quiet = 1};
	struct xpu_err err = {{0}};
	cr_assert_eq(xpu_run(&o, res, &err), 0, "%s", err.msg);
}

/* Five jobs of width 4 and 10 s each on a 16-core unit: four run at once from 0 to
 * 10 s, the fifth waits for a free set of 4 cores and runs from 10 to 20 s. */
static void five_wide_jobs(const char *sched)
{
	char trace[512];
	snprintf(trace, sizeof(trace), "%s/wide.csv", xt_tmpdir());
	FILE *f = fopen(trace, "w");
	cr_assert_not_null(f);
	fprintf(f, "id,submit,flops,width\n");
	for (int i = 0; i < 5; i++)
		fprintf(f, "j%d,0,4e10,4\n", i); /* 10 s x 1 Gf x 4 cores */
	fclose(f);
	struct xpu_run_result res;
	run_ok("tests/data/engine/pool16.xml", trace, NULL, sched, &res);
	xt_check_contract(&res);
	int early = 0, late = 0;
	for (uint32_t i = 0; i < 5; i++) {
		const struct xpu_task *t = &res.w->tasks[i];
		cr_expect(fabs(t->end_t - t->start_t - 10) < 1e-9, "%s: %s ran %.12g s", sched,
		          t->id, t->end_t - t->start_t);
		early += fabs(t->start_t) < 1e-9;
		late += fabs(t->start_t - 10) < 1e-9;
	}
	cr_expect_eq(early, 4, "%s: %d jobs started at 0", sched, early);
	cr_expect_eq(late, 1, "%s: %d jobs started at 10 s", sched, late);
	cr_expect(fabs(xpu_summary_get(&res.summary, "makespan_s") - 20) < 1e-9);
	/* the unit draws 32 W while all 16 cores are busy, then 16 + 16 x 4/16 = 20 W */
	cr_expect(fabs(res.us[0].energy_j - (10 * 32 + 10 * 20)) < 1e-6, "%s: %.9g J", sched,
	          res.us[0].energy_j);
	xpu_run_result_free(&res);
}

Test(wide, four_width_4_jobs_share_a_16_core_unit_and_the_fifth_waits)
{
	five_wide_jobs("fifo");
}

Test(wide, easy_and_fcfs_place_wide_jobs_the_same_way)
{
	five_wide_jobs("fcfs");
}

Test(wide, easy_backfilling_keeps_the_shape)
{
	five_wide_jobs("easy");
}

/* The swf reader's work figures assume 1e9 flop/s per processor; without a speed the
 * replay keeps each job's logged run time on the 266.7 Mf SP2, and with an explicit
 * reference it stretches them by reference / platform speed. */
Test(wide, swf_logs_keep_their_run_times_on_any_platform)
{
	static const double logged[] = {100, 250, 7};
	const char *log = xt_src("tests/data/engine/three_jobs.swf");
	struct xpu_run_result res;
	run_ok("platforms/kth-sp2.xml", log, NULL, "fcfs", &res);
	for (uint32_t i = 0; i < 3; i++) {
		const struct xpu_task *t = &res.w->tasks[i];
		cr_expect(fabs(t->end_t - t->start_t - logged[i]) < 1e-6 * logged[i],
		          "job %s ran %.9g s, logged %g", t->id, t->end_t - t->start_t, logged[i]);
	}
	cr_expect_str_neq(res.w->ref_note, "");
	xpu_run_result_free(&res);

	char buf[8192];
	cr_assert_eq(xt_cmd(buf, sizeof(buf),
	                    "run --platform %s --trace %s --sched fcfs --output - 2>&1",
	                    xt_src("platforms/kth-sp2.xml"), log),
	             0, "%s", buf);
	cr_expect_not_null(strstr(buf, "logged run times kept: reference speed 2.667e+08"), "%s",
	                   buf);
}

Test(wide, swf_logs_stretch_when_given_a_reference_speed)
{
	static const double logged[] = {100, 250, 7};
	const char *log = xt_src("tests/data/engine/three_jobs.swf");
	struct xpu_run_result res;
	run_ok("platforms/kth-sp2.xml", log, "swf:speed=1e9", "fcfs", &res);
	for (uint32_t i = 0; i < 3; i++) {
		const struct xpu_task *t = &res.w->tasks[i];
		double want = logged[i] * 1e9 / 266.7e6;
		cr_expect(fabs(t->end_t - t->start_t - want) < 1e-6 * want, "job %s ran %.9g s",
		          t->id, t->end_t - t->start_t);
	}
	cr_expect_str_eq(res.w->ref_note, "");
	xpu_run_result_free(&res);
}

/* A million-task chain whose head fails: the failure reaches every task without
 * recursion, the run exits 1 and records every task as failed. */
Test(wide, failure_of_the_head_of_a_million_task_chain_fails_them_all, .timeout = 300)
{
	const char *dir = xt_tmpdir();
	char trace[512], out[512];
	snprintf(trace, sizeof(trace), "%s/chain.csv", dir);
	snprintf(out, sizeof(out), "%s/chain.h5", dir);
	FILE *f = fopen(trace, "w");
	cr_assert_not_null(f);
	fprintf(f, "id,flops,deps\nt0,1e9,\n");
	for (int i = 1; i < 1000000; i++)
		fprintf(f, "t%d,1e9,t%d\n", i, i - 1);
	fclose(f);
	char buf[8192];
	int rc = xt_cmd(buf, sizeof(buf),
	                "run --platform %s --trace %s --faults unit=0 --output %s 2>&1",
	                xt_src("tests/data/engine/pool16.xml"), trace, out);
	cr_assert_eq(rc, 1, "%s", buf);
	cr_expect_not_null(strstr(buf, "tasks_failed 1000000"), "%s", buf);
	double *end = NULL;
	size_t n = xt_read_column(out, "end", &end);
	cr_assert_eq(n, 1000000, "the result records every task");
	free(end);
}

/* The lifecycle table: every documented step allowed, and a sample of others refused. */
Test(states, transition_table_allows_the_lifecycle_and_refuses_the_rest)
{
	static const struct {
		int from, to, ok;
	} cases[] = {
	    {XPU_TASK_PENDING, XPU_TASK_SUBMITTED, 1},
	    {XPU_TASK_SUBMITTED, XPU_TASK_READY, 1},
	    {XPU_TASK_SUBMITTED, XPU_TASK_PLACED, 1},
	    {XPU_TASK_READY, XPU_TASK_PLACED, 1},
	    {XPU_TASK_PLACED, XPU_TASK_STAGING, 1},
	    {XPU_TASK_STAGING, XPU_TASK_PLACED, 1},
	    {XPU_TASK_PLACED, XPU_TASK_WAITING_MEM, 1},
	    {XPU_TASK_WAITING_MEM, XPU_TASK_RUNNING, 1},
	    {XPU_TASK_PLACED, XPU_TASK_RUNNING, 1},
	    {XPU_TASK_RUNNING, XPU_TASK_DONE, 1},
	    {XPU_TASK_RUNNING, XPU_TASK_READY, 1},
	    {XPU_TASK_STAGING, XPU_TASK_FAILED, 1},
	    {XPU_TASK_PENDING, XPU_TASK_FAILED, 1},
	    {XPU_TASK_PENDING, XPU_TASK_RUNNING, 0},
	    {XPU_TASK_SUBMITTED, XPU_TASK_RUNNING, 0},
	    {XPU_TASK_READY, XPU_TASK_RUNNING, 0},
	    {XPU_TASK_STAGING, XPU_TASK_RUNNING, 0},
	    {XPU_TASK_DONE, XPU_TASK_FAILED, 0},
	    {XPU_TASK_FAILED, XPU_TASK_DONE, 0},
	    {XPU_TASK_DONE, XPU_TASK_READY, 0},
	    {XPU_TASK_RUNNING, XPU_TASK_PLACED, 1}, /* a unit failure: wait for repair */
	    {XPU_TASK_WAITING_MEM, XPU_TASK_PLACED, 0},
	    {XPU_TASK_READY, XPU_TASK_SUBMITTED, 0},
	    {XPU_TASK_PLACED, XPU_TASK_DONE, 0},
	    {-1, XPU_TASK_DONE, 0},
	    {XPU_TASK_DONE, XPU_TASK_NSTATES, 0},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		cr_expect_eq(xpu_task_transition_ok(cases[i].from, cases[i].to), cases[i].ok,
		             "%s -> %s", xpu_task_state_name(cases[i].from),
		             xpu_task_state_name(cases[i].to));
	/* done and failed are final */
	for (int to = 0; to < XPU_TASK_NSTATES; to++) {
		cr_expect_not(xpu_task_transition_ok(XPU_TASK_DONE, to));
		cr_expect_not(xpu_task_transition_ok(XPU_TASK_FAILED, to));
	}
}

/* A task no unit can take is refused before the run, naming the field that rules
 * every unit out. */
Test(wide, a_task_wider_than_every_unit_names_its_width)
{
	char buf[4096];
	const char *t = xt_write_file("wide.csv", "id,flops,width\na,1e9,999\n");
	cr_assert_eq(xt_cmd(buf, sizeof(buf), "run --platform %s --trace %s -q --output - 2>&1",
	                    xt_src("platforms/kth-sp2.xml"), t),
	             2, "%s", buf);
	cr_expect_not_null(strstr(buf, "wide.csv:2: field 'width': task \"a\" needs 999 cores"),
	                   "%s", buf);
	t = xt_write_file("mem.csv", "id,flops,mem\na,1e9,1e15\n");
	cr_assert_eq(xt_cmd(buf, sizeof(buf), "run --trace %s -q --output - 2>&1", t), 2, "%s",
	             buf);
	cr_expect_not_null(strstr(buf, "mem.csv:2: field 'mem'"), "%s", buf);
}
