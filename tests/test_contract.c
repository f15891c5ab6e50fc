/* test_contract.c — every registered scheduling policy, on the same cases: each task
 * runs exactly once, dependencies and transfers are respected, no unit runs more than
 * its cores, no memory is overcommitted, and one seed gives identical results. */
#include <criterion/criterion.h>
#include <criterion/parameterized.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"
#include "registry.h"

struct pcase {
	char policy[32];
	char platform[64];
};

static struct pcase *make_cases(size_t *n)
{
	static const char *const platforms[] = {"tests/data/contract/hetero.xml",
	                                        "tests/data/cases/heft_platform.xml"};
	size_t np = 0;
	while (xpu_sched_registry[np])
		np++;
	*n = np * 2;
	struct pcase *c = cr_malloc(*n * sizeof(*c));
	for (size_t i = 0; i < np; i++)
		for (size_t k = 0; k < 2; k++) {
			memset(&c[i * 2 + k], 0, sizeof(*c));
			strncpy(c[i * 2 + k].policy, xpu_sched_registry[i]->head.name, 31);
			strncpy(c[i * 2 + k].platform, platforms[k], 63);
		}
	return c;
}

ParameterizedTestParameters(contract, every_policy)
{
	size_t n;
	struct pcase *c = make_cases(&n);
	return cr_make_param_array(struct pcase, c, n);
}

ParameterizedTest(struct pcase *pc, contract, every_policy)
{
	const char *dir = xt_tmpdir();
	char trace[256];
	snprintf(trace, sizeof(trace), "%s/dag.csv", dir);
	xt_write_dag_trace(trace, 400, 7);
	struct xt_states states = {0};
	struct xpu_run_opts o = {
	    .platform = xt_src(pc->platform),
	    .trace = trace,
	    .sched = pc->policy,
	    .seed = 42,
	    .observe = xt_observe,
	    .observe_ctx = &states,
	    .check_coherence = 1,
	};
	struct xpu_run_result res;
	struct xpu_err err = {{0}};
	int rc = xpu_run(&o, &res, &err);
	cr_assert_eq(rc, 0, "%s on %s: %s", pc->policy, pc->platform, err.msg);
	xt_check_contract(&res);
	cr_assert_eq(xpu_summary_get(&res.summary, "tasks_done"), 400);
	cr_assert_geq(states.changes, 400 * 4, "each task: submitted, placed, running, done");
	xt_check_states(&states, res.w);
	xpu_run_result_free(&res);
}

ParameterizedTestParameters(contract, deterministic)
{
	size_t n;
	struct pcase *c = make_cases(&n);
	return cr_make_param_array(struct pcase, c, n);
}

ParameterizedTest(struct pcase *pc, contract, deterministic)
{
	const char *dir = xt_tmpdir();
	char trace[256], a[256], b[256];
	snprintf(trace, sizeof(trace), "%s/dag.csv", dir);
	snprintf(a, sizeof(a), "%s/a.h5", dir);
	snprintf(b, sizeof(b), "%s/b.h5", dir);
	xt_write_dag_trace(trace, 300, 11);
	struct xpu_run_opts o = {
	    .platform = xt_src(pc->platform),
	    .trace = trace,
	    .sched = pc->policy,
	    .seed = 5,
	};
	cr_assert_eq(xt_run_forked(&o, a), 0);
	cr_assert_eq(xt_run_forked(&o, b), 0);
	static const char *const cols[] = {"start", "end", "unit", "energy", "bytes_in"};
	for (size_t c = 0; c < sizeof(cols) / sizeof(cols[0]); c++) {
		double *x, *y;
		size_t nx = xt_read_column(a, cols[c], &x);
		size_t ny = xt_read_column(b, cols[c], &y);
		cr_assert_eq(nx, ny);
		cr_assert_eq(memcmp(x, y, nx * sizeof(double)), 0, "%s: column %s differs",
		             pc->policy, cols[c]);
		free(x);
		free(y);
	}
}

/* A policy that sets only its name runs on the engine's defaults. */
static const struct xpu_sched_ops name_only = {.head = {.name = "name-only"}};

Test(contract, name_only_policy_runs_on_defaults)
{
	const char *dir = xt_tmpdir();
	char trace[256];
	snprintf(trace, sizeof(trace), "%s/dag.csv", dir);
	xt_write_dag_trace(trace, 200, 3);
	struct xpu_run_opts o = {
	    .platform = xt_src("tests/data/contract/hetero.xml"),
	    .trace = trace,
	    .sched_ops = &name_only,
	};
	struct xpu_run_result res;
	struct xpu_err err = {{0}};
	cr_assert_eq(xpu_run(&o, &res, &err), 0, "%s", err.msg);
	xt_check_contract(&res);
	xpu_run_result_free(&res);
}

Test(contract, memory_waits_rather_than_overcommits)
{
	/* Four tasks of 600 MiB on a 1 GiB GPU pool: at most one at a time fits. */
	const char *dir = xt_tmpdir();
	char trace[256], plat[256];
	snprintf(trace, sizeof(trace), "%s/mem.csv", dir);
	snprintf(plat, sizeof(plat), "%s/p.xml", dir);
	FILE *f = fopen(plat, "w");
	fprintf(f, "<?xml version='1.0'?>\n<!DOCTYPE platform SYSTEM "
	           "\"https://simgrid.org/simgrid.dtd\">\n<platform version=\"4.1\">"
	           "<zone id=\"z\" routing=\"Full\">"
	           "<host id=\"g\" speed=\"1Gf\" core=\"4\"><prop id=\"xpu.kind\" value=\"gpu\"/>"
	           "<prop id=\"xpu.mem\" value=\"1GiB\"/></host></zone></platform>\n");
	fclose(f);
	f = fopen(trace, "w");
	fprintf(f, "id,flops,mem\n");
	for (int i = 0; i < 4; i++)
		fprintf(f, "m%d,1e9,629145600\n", i);
	fclose(f);
	struct xpu_run_opts o = {.platform = plat, .trace = trace, .sched = "fifo"};
	struct xpu_run_result res;
	struct xpu_err err = {{0}};
	cr_assert_eq(xpu_run(&o, &res, &err), 0, "%s", err.msg);
	xt_check_contract(&res);
	/* 4 cores but memory for one: serial, 4 x 1 s */
	cr_assert(fabs(xpu_summary_get(&res.summary, "makespan_s") - 4.0) < 1e-6);
	xpu_run_result_free(&res);
}

Test(contract, wide_tasks_take_several_cores_at_once)
{
	/* An 8-core unit: a 6-wide job and a 4-wide job cannot overlap, two 4-wide can. */
	const char *dir = xt_tmpdir();
	char trace[256], plat[256];
	snprintf(trace, sizeof(trace), "%s/w.csv", dir);
	snprintf(plat, sizeof(plat), "%s/p.xml", dir);
	FILE *f = fopen(plat, "w");
	fprintf(f,
	        "<?xml version='1.0'?>\n<!DOCTYPE platform SYSTEM "
	        "\"https://simgrid.org/simgrid.dtd\">\n<platform version=\"4.1\">"
	        "<zone id=\"z\" routing=\"Full\">"
	        "<host id=\"c\" speed=\"1Gf\" core=\"8\"><prop id=\"xpu.kind\" value=\"cpu\"/>"
	        "<prop id=\"wattage_per_state\" value=\"10:20:90\"/></host></zone></platform>\n");
	fclose(f);
	f = fopen(trace, "w");
	/* a: 6 cores x 1 s; b, c: 4 cores x 2 s (8e9 flop over 4 cores) */
	fprintf(f, "id,flops,width\na,6e9,6\nb,8e9,4\nc,8e9,4\n");
	fclose(f);
	struct xpu_run_opts o = {.platform = plat, .trace = trace, .sched = "fifo"};
	struct xpu_run_result res;
	struct xpu_err err = {{0}};
	cr_assert_eq(xpu_run(&o, &res, &err), 0, "%s", err.msg);
	xt_check_contract(&res);
	cr_assert(fabs(res.w->tasks[1].start_t - 1) < 1e-9);
	cr_assert(fabs(res.w->tasks[2].start_t - 1) < 1e-9);
	cr_assert(fabs(xpu_summary_get(&res.summary, "makespan_s") - 3) < 1e-9);
	/* busy core-seconds: 6 x 1 + 2 x 4 x 2 */
	cr_assert(fabs(res.us[0].busy_s - 22) < 1e-9);
	xpu_run_result_free(&res);
}

Test(contract, task_wider_than_every_unit_is_refused_before_the_run)
{
	const char *dir = xt_tmpdir();
	char trace[256];
	snprintf(trace, sizeof(trace), "%s/w.csv", dir);
	FILE *f = fopen(trace, "w");
	fprintf(f, "id,flops,width\nx,1e9,9\n");
	fclose(f);
	struct xpu_run_opts o = {.platform = xt_src("tests/data/contract/hetero.xml"),
	                         .trace = trace};
	struct xpu_err err = {{0}};
	cr_assert_eq(xpu_run(&o, NULL, &err), -EINVAL);
	cr_assert_not_null(strstr(err.msg, "w.csv:2"), "%s", err.msg);
}

/* A trace may submit a consumer before its producer: no policy may deadlock on it. */
ParameterizedTestParameters(contract, consumer_submitted_before_producer)
{
	size_t n;
	struct pcase *c = make_cases(&n);
	return cr_make_param_array(struct pcase, c, n);
}

ParameterizedTest(struct pcase *pc, contract, consumer_submitted_before_producer)
{
	const char *dir = xt_tmpdir();
	char trace[256];
	snprintf(trace, sizeof(trace), "%s/early.csv", dir);
	FILE *f = fopen(trace, "w");
	fprintf(f, "id,submit,class,flops,deps\n");
	/* consumers c_i arrive at 0, their producers p_i at 0.5 (then c_i waits) */
	for (int i = 0; i < 12; i++)
		fprintf(f, "c%d,0,gemm,%d000000000,p%d:1000000\n", i, 1 + i % 3, i);
	for (int i = 0; i < 12; i++)
		fprintf(f, "p%d,0.5,gemm,%d000000000,\n", i, 2 + i % 2);
	fclose(f);
	struct xpu_run_opts o = {
	    .platform = xt_src(pc->platform), .trace = trace, .sched = pc->policy};
	struct xpu_run_result res;
	struct xpu_err err = {{0}};
	cr_assert_eq(xpu_run(&o, &res, &err), 0, "%s: %s", pc->policy, err.msg);
	xt_check_contract(&res);
	xpu_run_result_free(&res);
}
