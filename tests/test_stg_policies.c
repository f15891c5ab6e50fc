/* test_stg_policies.c — every scheduling policy on the real Kasahara STG graphs
 * (robot, sparse) on three identical processors: no makespan below the lower bound
 * max(critical path, total work / processors), and HEFT no worse than fifo on mean. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "helpers.h"
#include "registry.h"

#define STG_DIR XPU_SRCDIR "/../shared/traces/workflow/stg"

/* Lower bound in seconds on the 1 flop/s processors of the HEFT case platform (the
 * reader turns processing time into flops at speed=1). No data edges: no transfers. */
static double lower_bound(const char *path)
{
	struct xpu_workload *w;
	struct xpu_err err = {{0}};
	cr_assert_eq(xpu_workload_load(path, "stg:speed=1", NULL, &w, &err), 0, "%s", err.msg);
	double *finish = calloc(w->ntasks, sizeof(double));
	uint32_t *indeg = calloc(w->ntasks, sizeof(uint32_t)), *q = malloc(w->ntasks * 4);
	double cp = 0, total = 0;
	size_t h = 0, t = 0;
	for (uint32_t i = 0; i < w->ntasks; i++)
		if (!(indeg[i] = w->tasks[i].ndeps))
			q[t++] = i;
	while (h < t) {
		const struct xpu_task *x = &w->tasks[q[h++]];
		double start = 0;
		for (uint32_t d = 0; d < x->ndeps; d++)
			start = fmax(start, finish[x->deps[d].task]);
		finish[x->index] = start + x->flops;
		cp = fmax(cp, finish[x->index]);
		total += x->flops;
		for (uint32_t k = 0; k < x->nsucc; k++)
			if (--indeg[x->succ[k]] == 0)
				q[t++] = x->succ[k];
	}
	cr_assert_eq(t, w->ntasks);
	free(finish);
	free(indeg);
	free(q);
	xpu_workload_free(w);
	return fmax(cp, total / 3);
}

static double makespan_of(const char *policy, const char *graph)
{
	char h5[256];
	snprintf(h5, sizeof(h5), "%s/r.h5", xt_tmpdir());
	struct xpu_run_opts o = {.platform = xt_src("tests/data/cases/heft_platform.xml"),
				 .trace = graph,
				 .trace_format = "stg:speed=1",
				 .sched = policy};
	cr_assert_eq(xt_run_forked(&o, h5), 0, "%s on %s", policy, graph);
	struct xpu_summary s;
	struct xpu_err err = {{0}};
	cr_assert_eq(xpu_results_read_summary(h5, &s, &err), 0, "%s", err.msg);
	double m = xpu_summary_get(&s, "makespan_s");
	cr_assert_eq(xpu_summary_get(&s, "tasks_done"), xpu_summary_get(&s, "tasks_total"));
	xpu_summary_clear(&s);
	return m;
}

Test(stg_policies, no_policy_beats_the_lower_bound_and_heft_beats_fifo)
{
	if (access(STG_DIR "/robot.stg", R_OK))
		cr_skip_test("../shared/traces/workflow/stg is absent (real STG graphs)");
	static const char *const graphs[] = {STG_DIR "/robot.stg", STG_DIR "/sparse.stg"};
	double heft = 0, fifo = 0;
	for (int g = 0; g < 2; g++) {
		double lb = lower_bound(graphs[g]);
		for (int i = 0; xpu_sched_registry[i]; i++) {
			const char *p = xpu_sched_registry[i]->name;
			double m = makespan_of(p, graphs[g]);
			cr_assert(m >= lb - 1e-6, "%s on %s: makespan %g below the bound %g", p,
				  graphs[g], m, lb);
			if (!strcmp(p, "heft"))
				heft += m / 2;
			if (!strcmp(p, "fifo"))
				fifo += m / 2;
		}
	}
	cr_assert(heft <= fifo + 1e-9, "HEFT mean makespan %g worse than fifo's %g", heft, fifo);
}
