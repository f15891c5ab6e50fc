/* test_faults.c — fault injection: launches that fail are retried elsewhere by the
 * fallback chain and fail cleanly under other policies. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "helpers.h"

static void run_faulty(const char *sched, const char *faults, struct xpu_run_result *res)
{
	const char *dir = xt_tmpdir();
	char trace[256];
	snprintf(trace, sizeof(trace), "%s/f.csv", dir);
	FILE *f = fopen(trace, "w");
	fprintf(f, "id,submit,class,flops\n");
	for (int i = 0; i < 30; i++)
		fprintf(f, "t%d,%g,%s,%d000000000\n", i, 0.01 * i, i % 2 ? "gemm" : "conv",
		        1 + i % 4);
	fclose(f);
	struct xpu_run_opts o = {.platform = xt_src("tests/data/contract/hetero.xml"),
	                         .trace = trace,
	                         .sched = sched,
	                         .faults = faults};
	struct xpu_err err = {{0}};
	cr_assert_eq(xpu_run(&o, res, &err), 0, "%s: %s", sched, err.msg);
}

Test(faults, fallback_chain_loses_no_task_when_the_npu_fails_every_launch)
{
	struct xpu_run_result res;
	run_faulty("fallback:order=npu/gpu/cpu", "kind=npu", &res);
	xt_check_contract(&res); /* every task done exactly once */
	for (uint32_t i = 0; i < res.w->ntasks; i++)
		cr_assert_neq(res.pf.units[res.w->tasks[i].unit].kind, XPU_KIND_NPU,
		              "task %s ended on the failing NPU", res.w->tasks[i].id);
	xpu_run_result_free(&res);
}

Test(faults, other_policies_record_failed_tasks_without_crashing)
{
	struct xpu_run_result res;
	run_faulty("fifo", "every=4", &res);
	double failed = xpu_summary_get(&res.summary, "tasks_failed");
	double done = xpu_summary_get(&res.summary, "tasks_done");
	cr_assert(failed > 0, "every fourth launch fails, yet nothing failed");
	cr_assert_eq(failed + done, 30);
	xpu_run_result_free(&res);
}

Test(faults, bad_fault_spec_is_bad_usage)
{
	char buf[4096];
	cr_assert_eq(xt_cmd(buf, sizeof(buf), "run --faults kind=quantum --output - 2>&1"), 2);
	cr_assert_eq(xt_cmd(buf, sizeof(buf), "run --faults every=0 --output - 2>&1"), 2);
	cr_assert_eq(xt_cmd(buf, sizeof(buf), "run --faults bogus --output - 2>&1"), 2);
	/* a fault the platform could never see would silently inject nothing */
	cr_assert_eq(xt_cmd(buf, sizeof(buf), "run --faults unit=999 --output - 2>&1"), 2);
	cr_assert_not_null(strstr(buf, "unit=999: the platform has 4 units (0 to 3)"), "%s", buf);
	cr_assert_eq(xt_cmd(buf, sizeof(buf), "run --faults kind=lpu --output - 2>&1"), 2);
	cr_assert_not_null(strstr(buf, "no unit of that kind"), "%s", buf);
}
