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

/* issue 13, hybrid execution and faults: with fallback on (--fallback, and always with
 * the fallback backend) a task whose launch fails moves on to the next unit that can
 * run it, on every backend: simulation, this machine's CPU threads, and the fallback
 * chain (XRT devices, absent here and skipped; OpenCL devices; CPU threads). No task is
 * lost, and every failure is counted on its unit. */
static void run_fb(const char *backend, const char *faults, struct xpu_run_result *res)
{
	const char *dir = xt_tmpdir();
	char trace[256];
	snprintf(trace, sizeof(trace), "%s/fb.csv", dir);
	FILE *f = fopen(trace, "w");
	cr_assert_not_null(f);
	fprintf(f, "id,class,flops,deps\n");
	for (int i = 0; i < 60; i++) { /* short tasks, a few chains */
		fprintf(f, "t%d,%s,%d,", i, i % 2 ? "gemm" : "generic", 1000000 + 20000 * i);
		if (i % 5 == 0 && i > 0)
			fprintf(f, "t%d", i - 1);
		fprintf(f, "\n");
	}
	fclose(f);
	struct xpu_run_opts o = {
	    .trace = trace, .sched = "fifo", .faults = faults, .fallback = 1, .quiet = 1};
	if (backend)
		o.backend = backend;
	else
		o.platform = xt_src("tests/data/contract/hetero.xml");
	struct xpu_err err = {{0}};
	cr_assert_eq(xpu_run(&o, res, &err), 0, "%s: %s", backend ? backend : "sim", err.msg);
	xt_check_contract(res);
	cr_assert_eq(xpu_summary_get(&res->summary, "tasks_done"), 60, "no task is lost");
}

static void expect_moved_off_unit0(const struct xpu_run_result *res)
{
	cr_expect_gt(res->us[0].launch_failures, 0, "unit 0's launches all fail");
	cr_expect_eq(res->us[0].moved_on, res->us[0].launch_failures);
	cr_expect_eq(res->us[0].tasks, 0, "no task ended on the failing unit");
	cr_expect_eq(xpu_summary_get(&res->summary, "launch_failures"),
	             (double)res->us[0].launch_failures);
	cr_expect_eq(xpu_summary_get(&res->summary, "tasks_moved"), (double)res->us[0].moved_on);
}

Test(faults, fallback_moves_failed_launches_on_in_simulation)
{
	struct xpu_run_result res;
	run_fb(NULL, "unit=0", &res);
	expect_moved_off_unit0(&res);
	xpu_run_result_free(&res);
}

Test(faults, fallback_moves_failed_launches_on_live_cpu_threads)
{
	struct xpu_run_result res;
	run_fb("cpu:threads=2", "unit=0", &res);
	expect_moved_off_unit0(&res);
	xpu_run_result_free(&res);
}

Test(faults, fallback_backend_chains_opencl_and_cpu_and_survives_failures)
{
	struct xpu_run_result res;
	run_fb("fallback:cpu.threads=2", NULL, &res);
	int cpus = 0;
	for (int u = 0; u < res.pf.nunits; u++)
		cpus +=
		    !strcmp(res.pf.units[u].name, "cpu0") || !strcmp(res.pf.units[u].name, "cpu1");
	cr_expect_eq(cpus, 2, "the chain ends with this machine's CPU threads");
	cr_expect_str_eq(res.pf.units[res.pf.nunits - 1].name, "cpu1");
	xpu_run_result_free(&res);

	/* the chain's first unit (an OpenCL device where one is found) fails every launch */
	run_fb("fallback:cpu.threads=2", "unit=0", &res);
	expect_moved_off_unit0(&res);
	xpu_run_result_free(&res);

	/* the first unit's device goes after three launches: it is taken out */
	run_fb("fallback:cpu.threads=2", "unit=0,after=3,status=enodev", &res);
	cr_expect_eq(res.us[0].taken_out, 1);
	/* those in flight when it went fail too; none is launched there afterwards */
	int held = res.pf.units[0].slots > res.pf.units[0].cores ? res.pf.units[0].slots
	                                                         : res.pf.units[0].cores;
	cr_expect(res.us[0].launch_failures >= 1 && res.us[0].launch_failures <= (uint64_t)held,
	          "%llu launches failed on a unit that holds %d at once",
	          (unsigned long long)res.us[0].launch_failures, held);
	xpu_run_result_free(&res);
}

Test(faults, fallback_bad_specs_are_bad_usage)
{
	char buf[4096];
	cr_expect_eq(xt_cmd(buf, sizeof(buf), "run --backend fallback:order=gpu -q 2>&1"), 2);
	cr_expect_not_null(strstr(buf, "parameter 'order'"), "%s", buf);
	cr_expect_eq(xt_cmd(buf, sizeof(buf), "run --backend fallback:order=cpu+cpu -q 2>&1"), 2);
	cr_expect_eq(xt_cmd(buf, sizeof(buf), "run --backend fallback:threads=2 -q 2>&1"), 2);
	cr_expect_eq(xt_cmd(buf, sizeof(buf), "run --faults status=boom --output - 2>&1"), 2);
	cr_expect_eq(xt_cmd(buf, sizeof(buf), "run --faults after=x --output - 2>&1"), 2);
}

/* The fallback chain places data in its members' memories (the OpenCL devices' cl_mem
 * buffers, this machine's host memory) and moves them between members: a DAG with data
 * edges runs to completion with every copy coherent. */
Test(faults, fallback_backend_places_data_in_its_members_memories)
{
	const char *dir = xt_tmpdir();
	char trace[256];
	snprintf(trace, sizeof(trace), "%s/fbd.csv", dir);
	FILE *f = fopen(trace, "w");
	cr_assert_not_null(f);
	fprintf(f, "id,class,flops,deps\n");
	for (int i = 0; i < 40; i++) {
		fprintf(f, "t%d,%s,%d,", i, i % 2 ? "gemm" : "generic", 2000000 + 30000 * i);
		if (i >= 3)
			fprintf(f, "t%d:%d;t%d:%d", i - 3, 65536 * (1 + i % 4), i - 2,
			        4096 * (1 + i % 3));
		fprintf(f, "\n");
	}
	fclose(f);
	struct xpu_run_opts o = {.trace = trace,
	                         .sched = "round-robin",
	                         .backend = "fallback:cpu.threads=2",
	                         .fallback = 1,
	                         .check_coherence = 1,
	                         .quiet = 1};
	struct xpu_run_result res;
	struct xpu_err err = {{0}};
	cr_assert_eq(xpu_run(&o, &res, &err), 0, "%s", err.msg);
	xt_check_contract(&res);
	cr_expect_eq(xpu_summary_get(&res.summary, "tasks_done"), 40);
	xpu_run_result_free(&res);
}
