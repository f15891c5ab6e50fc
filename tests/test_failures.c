/* test_failures.c — simulated unit failures: lost work and re-execution by hand-checked
 * cases (state profiles), the contract under random failures for several policies (no
 * task lost, none run to completion twice), determinism, platform properties, and the
 * refusals (live backend, bad specs and profiles). */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "helpers.h"

/* A file of that name and text in dir; returns its path (static, rotating). */
static const char *put(const char *dir, const char *name, const char *text)
{
	static char paths[4][512];
	static int k;
	char *p = paths[k++ % 4];
	snprintf(p, 512, "%s/%s", dir, name);
	FILE *f = fopen(p, "w");
	cr_assert_not_null(f, "%s", p);
	fputs(text, f);
	fclose(f);
	return p;
}

/* Two identical 1-core CPUs a and b at 1 Gflop/s, without energy figures. */
static const char *two_units(const char *extra_a)
{
	static char text[2048];
	snprintf(text, sizeof(text),
	         "<?xml version='1.0'?>\n"
	         "<!DOCTYPE platform SYSTEM \"https://simgrid.org/simgrid.dtd\">\n"
	         "<platform version=\"4.1\"><zone id=\"z\" routing=\"Full\">\n"
	         "<host id=\"a\" speed=\"1Gf\"><prop id=\"xpu.kind\" value=\"cpu\"/>%s</host>\n"
	         "<host id=\"b\" speed=\"1Gf\"><prop id=\"xpu.kind\" value=\"cpu\"/></host>\n"
	         "<link id=\"l\" bandwidth=\"1GBps\" latency=\"0\"/>\n"
	         "<route src=\"a\" dst=\"b\"><link_ctn id=\"l\"/></route>\n"
	         "</zone></platform>\n",
	         extra_a);
	return text;
}

/* One run of a single 10 s task on a; unit a fails at 5 s and is repaired at 8 s. */
static void one_task(const char *sched, const char *platform_extra, const char *failures,
                     struct xpu_run_result *res)
{
	const char *dir = xt_tmpdir();
	char profile[512];
	snprintf(profile, sizeof(profile), "%s", put(dir, "a.profile", "# a fails\n5 0\n8 1\n"));
	const char *pf = put(dir, "p.xml", two_units(platform_extra));
	const char *tr = put(dir, "t.csv", "id,submit,flops\nx,0,1e10\n");
	char spec[600];
	snprintf(spec, sizeof(spec), failures, profile);
	struct xt_states states = {0};
	struct xpu_run_opts o = {.platform = pf,
	                         .trace = tr,
	                         .sched = sched,
	                         .failures = spec[0] ? spec : NULL,
	                         .observe = xt_observe,
	                         .observe_ctx = &states};
	struct xpu_err err = {{0}};
	cr_assert_eq(xpu_run(&o, res, &err), 0, "%s: %s", sched, err.msg);
	xt_check_states(&states, res->w);
}

/* heft keeps its plan: the task waits at the head of a's queue for the repair and runs
 * again from the start: 5 s lost, 3 s down, done at 8 + 10. */
Test(failures, waits_for_the_repair_and_loses_the_work_done)
{
	struct xpu_run_result r;
	one_task("heft", "", "profile=%s,unit=a", &r);
	const struct xpu_task *t = &r.w->tasks[0];
	cr_assert_eq(t->state, XPU_TASK_DONE);
	cr_assert_eq(t->unit, 0);
	cr_assert_float_eq(t->start_t, 8, 1e-9);
	cr_assert_float_eq(t->end_t, 18, 1e-9);
	cr_assert_eq(t->attempts, 2);
	cr_assert_float_eq(t->lost_s, 5, 1e-9);
	cr_assert_eq(r.us[0].failures, 1);
	cr_assert_float_eq(r.us[0].down_s, 3, 1e-9);
	cr_assert_float_eq(r.us[0].lost_s, 5, 1e-9);
	cr_assert_eq(r.us[1].failures, 0);
	cr_assert_float_eq(xpu_summary_get(&r.summary, "unit_failures"), 1, 0);
	cr_assert_float_eq(xpu_summary_get(&r.summary, "lost_work_s"), 5, 1e-9);
	cr_assert_float_eq(xpu_summary_get(&r.summary, "tasks_reexecuted"), 1, 0);
	cr_assert_float_eq(xpu_summary_get(&r.summary, "makespan_s"), 18, 1e-9);
	xpu_run_result_free(&r);
}

/* least-loaded re-executes elsewhere: b is free, so the task restarts there at 5 s. */
Test(failures, runs_elsewhere_when_the_policy_says_so)
{
	struct xpu_run_result r;
	one_task("least-loaded", "", "profile=%s,unit=a", &r);
	const struct xpu_task *t = &r.w->tasks[0];
	cr_assert_eq(t->state, XPU_TASK_DONE);
	cr_assert_eq(t->unit, 1, "ran again on unit %d, not b", t->unit);
	cr_assert_float_eq(t->start_t, 5, 1e-9);
	cr_assert_float_eq(t->end_t, 15, 1e-9);
	cr_assert_eq(t->attempts, 2);
	cr_assert_float_eq(t->lost_s, 5, 1e-9);
	/* the run ends at 15 s; a was down from 5 to 8 */
	cr_assert_float_eq(r.us[0].down_s, 3, 1e-9);
	xpu_run_result_free(&r);
}

/* The platform's xpu.availability profile, beside the platform file (one_task writes
 * a.profile there); --failures none turns it off. */
Test(failures, platform_profile)
{
	struct xpu_run_result r;
	one_task("heft", "<prop id=\"xpu.availability\" value=\"a.profile\"/>", "", &r);
	cr_assert_float_eq(r.w->tasks[0].end_t, 18, 1e-9);
	cr_assert_eq(r.us[0].failures, 1);
	xpu_run_result_free(&r);
}

Test(failures, none_turns_the_platform_s_off)
{
	struct xpu_run_result r;
	one_task("heft", "<prop id=\"xpu.availability\" value=\"a.profile\"/>", "none", &r);
	cr_assert_float_eq(r.w->tasks[0].end_t, 10, 1e-9);
	cr_assert_eq(r.us[0].failures, 0);
	cr_assert_eq(r.w->tasks[0].attempts, 1);
	xpu_run_result_free(&r);
}

/* The platform's rates: a unit with xpu.mtbf and xpu.mttr fails, the other not. */
Test(failures, platform_rates)
{
	const char *dir = xt_tmpdir();
	const char *pf = put(dir, "p.xml",
	                     two_units("<prop id=\"xpu.mtbf\" value=\"2s\"/>"
	                               "<prop id=\"xpu.mttr\" value=\"500ms\"/>"));
	char text[4096] = "id,submit,flops\n";
	for (int i = 0; i < 40; i++)
		snprintf(text + strlen(text), sizeof(text) - strlen(text), "t%d,%d,1e9\n", i,
		         i / 2);
	const char *tr = put(dir, "t.csv", text);
	struct xpu_run_opts o = {.platform = pf, .trace = tr, .sched = "mct", .seed = 1};
	struct xpu_run_result r;
	struct xpu_err err = {{0}};
	cr_assert_eq(xpu_run(&o, &r, &err), 0, "%s", err.msg);
	cr_assert_gt(r.us[0].failures, 0);
	cr_assert_eq(r.us[1].failures, 0);
	xt_check_contract(&r);
	xpu_run_result_free(&r);
}

/* A profile that repeats: a is down in [2, 3) of every 4 s. A 3 s task started at 0 is
 * stopped at 2, starts again at 3 and ends at 6, the instant a fails again: work that
 * ends in the instant of a failure is done, not lost. */
Test(failures, looping_profile)
{
	const char *dir = xt_tmpdir();
	const char *pf = put(dir, "p.xml", two_units(""));
	const char *tr = put(dir, "t.csv", "id,submit,flops\nx,0,3e9\n");
	const char *prof = put(dir, "loop.profile", "2 0\n3 1\nLOOPAFTER 1\n");
	char spec[512];
	snprintf(spec, sizeof(spec), "profile=%s,unit=a", prof);
	struct xpu_run_opts o = {.platform = pf, .trace = tr, .sched = "heft", .failures = spec};
	struct xpu_run_result r;
	struct xpu_err err = {{0}};
	cr_assert_eq(xpu_run(&o, &r, &err), 0, "%s", err.msg);
	const struct xpu_task *t = &r.w->tasks[0];
	cr_assert_float_eq(t->end_t, 6, 1e-9, "end %g", t->end_t);
	cr_assert_eq(t->attempts, 2);
	cr_assert_float_eq(t->lost_s, 2, 1e-9);
	xpu_run_result_free(&r);
}

/* ---------------------------------------------------------- random failures, contract */

static struct xpu_run_result random_run(const char *sched, const char *failures, uint64_t seed,
                                        struct xt_states *states)
{
	char trace[256];
	snprintf(trace, sizeof(trace), "%s/dag.csv", xt_tmpdir());
	xt_write_dag_trace(trace, 300, 11);
	struct xpu_run_opts o = {.platform = xt_src("tests/data/contract/hetero.xml"),
	                         .trace = trace,
	                         .sched = sched,
	                         .seed = seed,
	                         .failures = failures,
	                         .observe = states ? xt_observe : NULL,
	                         .observe_ctx = states};
	struct xpu_run_result r;
	struct xpu_err err = {{0}};
	cr_assert_eq(xpu_run(&o, &r, &err), 0, "%s: %s", sched, err.msg);
	return r;
}

struct fcase {
	char sched[32];
};

ParameterizedTestParameters(failures, contract_under_random_failures)
{
	static struct fcase c[] = {{"fifo"}, {"least-loaded"}, {"mct"}, {"random"},
	                           {"heft"}, {"dmda"},         {"ws"},  {"min-min"}};
	return cr_make_param_array(struct fcase, c, sizeof(c) / sizeof(c[0]));
}

/* Every task done exactly once, through legal states, whatever fails: failures every
 * few seconds on every unit, repairs within a second or two. */
ParameterizedTest(struct fcase *fc, failures, contract_under_random_failures)
{
	const char *sched = fc->sched;
	struct xt_states states = {0};
	struct xpu_run_result r = random_run(sched, "mtbf=0.5s,mttr=0.2s", 3, &states);
	xt_check_contract(&r);
	xt_check_states(&states, r.w);
	cr_assert_eq(xpu_summary_get(&r.summary, "tasks_done"), 300);
	double failures = xpu_summary_get(&r.summary, "unit_failures");
	cr_assert_gt(failures, 0, "%s: no failure happened", sched);
	uint64_t sum = 0;
	double lost = 0;
	int again = 0;
	for (uint32_t i = 0; i < r.w->ntasks; i++) {
		const struct xpu_task *t = &r.w->tasks[i];
		cr_assert_geq(t->attempts, 1);
		cr_assert_eq(t->attempts > 1, t->lost_s > 0 || t->attempts > 1);
		if (t->attempts == 1)
			cr_assert_eq(t->lost_s, 0, "%s: lost time without a re-execution", t->id);
		sum += t->attempts;
		lost += t->lost_s * t->width;
		again += t->attempts > 1;
	}
	cr_assert_gt(again, 0, "%s: failures every 0.5 s stopped no task", sched);
	cr_assert_float_eq(lost, xpu_summary_get(&r.summary, "lost_work_s"), 1e-6);
	cr_assert_eq(again, (int)xpu_summary_get(&r.summary, "tasks_reexecuted"));
	xpu_run_result_free(&r);
}

/* The same seed gives the same failures and the same results, bit for bit; another
 * seed other failures (runs in child processes: one SimGrid per process). */
static size_t forked_ends(uint64_t seed, double **end, double **attempts)
{
	const char *dir = xt_tmpdir();
	char trace[512], h5[512];
	snprintf(trace, sizeof(trace), "%s/dag.csv", dir);
	snprintf(h5, sizeof(h5), "%s/r.h5", dir);
	xt_write_dag_trace(trace, 300, 11);
	struct xpu_run_opts o = {.platform = xt_src("tests/data/contract/hetero.xml"),
	                         .trace = trace,
	                         .sched = "mct",
	                         .seed = seed,
	                         .failures = "mtbf=1s,mttr=0.3s"};
	cr_assert_eq(xt_run_forked(&o, h5), 0);
	size_t n = xt_read_column(h5, "end", end);
	cr_assert_eq(xt_read_column(h5, "attempts", attempts), n);
	return n;
}

Test(failures, deterministic_per_seed)
{
	double *ea, *eb, *ec, *aa, *ab, *ac;
	size_t n = forked_ends(5, &ea, &aa);
	cr_assert_eq(forked_ends(5, &eb, &ab), n);
	cr_assert_eq(forked_ends(6, &ec, &ac), n);
	int differ = 0, again = 0;
	for (size_t i = 0; i < n; i++) {
		cr_assert(memcmp(&ea[i], &eb[i], sizeof(double)) == 0, "task %zu: %.17g then %.17g",
		          i, ea[i], eb[i]);
		cr_assert_eq(aa[i], ab[i]);
		differ |= ea[i] != ec[i];
		again |= aa[i] > 1;
	}
	cr_assert(again, "no task ran twice");
	cr_assert(differ, "seeds 5 and 6 gave the same run");
	free(ea), free(eb), free(ec), free(aa), free(ab), free(ac);
}

/* Failures of one kind only: the other units never fail. */
Test(failures, kind_selects_units)
{
	struct xpu_run_result r = random_run("mct", "mtbf=0.5s,mttr=0.2s,kind=gpu", 3, NULL);
	for (int u = 0; u < r.pf.nunits; u++)
		if (r.pf.units[u].kind != XPU_KIND_GPU)
			cr_assert_eq(r.us[u].failures, 0, "%s failed", r.pf.units[u].name);
	cr_assert_gt(xpu_summary_get(&r.summary, "unit_failures"), 0);
	xpu_run_result_free(&r);
}

/* The command line: results columns, and the refusals. */
Test(failures, command_line)
{
	char buf[8192];
	const char *dir = xt_tmpdir();
	int rc =
	    xt_cmd(buf, sizeof(buf), "run -q --failures mtbf=20s,mttr=5s -o %s/f.h5 2>&1", dir);
	cr_assert_eq(rc, 0, "%s", buf);
	char h5[512];
	snprintf(h5, sizeof(h5), "%s/f.h5", dir);
	double *att = NULL;
	size_t n = xt_read_column(h5, "attempts", &att);
	cr_assert_gt(n, 0);
	free(att);
	/* the live backend cannot stop work in progress */
	rc = xt_cmd(buf, sizeof(buf), "run -q --live --failures mtbf=1h,mttr=1min -o - 2>&1");
	cr_assert_eq(rc, 2, "%s", buf);
	cr_assert_not_null(strstr(buf, "cannot stop work in progress"), "%s", buf);
	rc = xt_cmd(buf, sizeof(buf),
	            "run -q --faults every=3 --failures mtbf=1h,mttr=1min -o - 2>&1");
	cr_assert_eq(rc, 2, "%s", buf);
	cr_assert_not_null(strstr(buf, "does not combine"), "%s", buf);
	rc = xt_cmd(buf, sizeof(buf), "run -q --failures mtbf=1h -o - 2>&1");
	cr_assert_eq(rc, 2, "%s", buf);
	cr_assert_not_null(strstr(buf, "mtbf given without mttr"), "%s", buf);
}
