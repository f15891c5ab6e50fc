/* test_heft.c — the HEFT paper's example (Topcuoglu, Hariri, Wu 2002, figure 2 and
 * table 1): 10 tasks on 3 processors, HEFT's makespan is 80. */
#include <criterion/criterion.h>
#include <math.h>

#include "helpers.h"

static void heft_run(struct xpu_run_result *res)
{
	struct xpu_run_opts o = {
	    .platform = xt_src("tests/data/cases/heft_platform.xml"),
	    .trace = xt_src("tests/data/cases/heft_paper.csv"),
	    .sched = "heft",
	};
	struct xpu_err err = {{0}};
	int rc = xpu_run(&o, res, &err);
	cr_assert_eq(rc, 0, "run failed: %s", err.msg);
}

Test(heft, reproduces_paper_example)
{
	struct xpu_run_result res;
	heft_run(&res);
	double makespan = xpu_summary_get(&res.summary, "makespan_s");
	cr_assert(fabs(makespan - 80.0) < 1e-6, "HEFT makespan %.9g, paper says 80", makespan);
	xt_check_contract(&res);
	xpu_run_result_free(&res);
}

Test(heft, paper_example_places_entry_on_p3)
{
	/* rank order starts with task 1, whose earliest finish is on P3 (cost 9) */
	struct xpu_run_result res;
	heft_run(&res);
	const struct xpu_task *t1 = &res.w->tasks[0];
	cr_assert_str_eq(res.pf.units[t1->unit].name, "P3");
	cr_assert(fabs(t1->end_t - 9.0) < 1e-9);
	/* the exit task ends the schedule */
	cr_assert(fabs(res.w->tasks[9].end_t - 80.0) < 1e-6);
	xpu_run_result_free(&res);
}

Test(heft, paper_example_transfers_cost_their_bytes)
{
	/* each edge between different processors moved its bytes over the 1 B/s links */
	struct xpu_run_result res;
	heft_run(&res);
	double moved = 0;
	for (uint32_t i = 0; i < res.w->ntasks; i++)
		moved += res.w->tasks[i].bytes_in;
	cr_assert(moved > 0);
	cr_assert(fabs(xpu_summary_get(&res.summary, "bytes_transferred") - moved) < 1e-9);
	xpu_run_result_free(&res);
}

/* The same paper gives CPOP's schedule of the example a makespan of 86 (figure 4b):
 * critical path 1-2-9-10 on P2, the other tasks by earliest finish with insertion. */
Test(cpop, reproduces_paper_example)
{
	struct xpu_run_opts o = {
	    .platform = xt_src("tests/data/cases/heft_platform.xml"),
	    .trace = xt_src("tests/data/cases/heft_paper.csv"),
	    .sched = "cpop",
	};
	struct xpu_run_result res;
	struct xpu_err err = {{0}};
	cr_assert_eq(xpu_run(&o, &res, &err), 0, "run failed: %s", err.msg);
	double makespan = xpu_summary_get(&res.summary, "makespan_s");
	cr_assert(fabs(makespan - 86.0) < 1e-6, "CPOP makespan %.9g, paper says 86", makespan);
	static const int cp[] = {0, 1, 8, 9};
	for (int i = 0; i < 4; i++)
		cr_assert_str_eq(res.pf.units[res.w->tasks[cp[i]].unit].name, "P2");
	xt_check_contract(&res);
	xpu_run_result_free(&res);
}
