/* test_stg_policies.c — every scheduling policy on real task graphs (the Kasahara STG
 * robot and sparse graphs, and the five WfCommons workflows) on three identical
 * processors: no makespan below the lower bound max(critical path, total work /
 * processors), and HEFT no worse than fifo on mean. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "helpers.h"
#include "registry.h"

#define STG_DIR XPU_SRCDIR "/../shared/traces/workflow/stg"
#define WF_DIR  XPU_SRCDIR "/../shared/traces/workflow/wfcommons"

/* Three 1 flop/s processors joined by 1 GB/s links: a task of F flop takes F seconds. */
static const char *three_units(void)
{
	static char path[256];
	snprintf(path, sizeof(path), "%s/three.xml", xt_tmpdir());
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f);
	fprintf(f, "<?xml version='1.0'?>\n<!DOCTYPE platform SYSTEM "
	           "\"https://simgrid.org/simgrid.dtd\">\n<platform version=\"4.1\">\n"
	           "<zone id=\"z\" routing=\"Full\">\n");
	for (int i = 0; i < 3; i++)
		fprintf(f,
		        "<host id=\"p%d\" speed=\"1f\"><prop id=\"xpu.kind\" value=\"cpu\"/>"
		        "</host>\n",
		        i);
	for (int i = 0; i < 3; i++) /* the DTD wants every link before any route */
		for (int j = i + 1; j < 3; j++)
			fprintf(f, "<link id=\"l%d%d\" bandwidth=\"1GBps\" latency=\"0s\"/>\n", i,
			        j);
	for (int i = 0; i < 3; i++)
		for (int j = i + 1; j < 3; j++)
			fprintf(f,
			        "<route src=\"p%d\" dst=\"p%d\"><link_ctn id=\"l%d%d\"/></route>\n",
			        i, j, i, j);
	fprintf(f, "</zone></platform>\n");
	fclose(f);
	return path;
}

/* Lower bound in seconds on the 1 flop/s processors of the HEFT case platform (the
 * reader turns processing time into flops at speed=1). No data edges: no transfers. */
static double lower_bound(const char *path, const char *format)
{
	struct xpu_workload *w;
	struct xpu_err err = {{0}};
	cr_assert_eq(xpu_workload_load(path, format, NULL, &w, &err), 0, "%s", err.msg);
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

static double makespan_of(const char *policy, const char *graph, const char *format,
                          const char *platform)
{
	char h5[256];
	snprintf(h5, sizeof(h5), "%s/r.h5", xt_tmpdir());
	struct xpu_run_opts o = {
	    .platform = platform, .trace = graph, .trace_format = format, .sched = policy};
	cr_assert_eq(xt_run_forked(&o, h5), 0, "%s on %s", policy, graph);
	struct xpu_summary s;
	struct xpu_err err = {{0}};
	cr_assert_eq(xpu_results_read_summary(h5, &s, &err), 0, "%s", err.msg);
	double m = xpu_summary_get(&s, "makespan_s");
	cr_assert_eq(xpu_summary_get(&s, "tasks_done"), xpu_summary_get(&s, "tasks_total"));
	xpu_summary_clear(&s);
	return m;
}

static void check_graphs(const char *const *graphs, int n, const char *format)
{
	const char *platform = three_units();
	double heft = 0, fifo = 0;
	for (int g = 0; g < n; g++) {
		double lb = lower_bound(graphs[g], format);
		for (int i = 0; xpu_sched_registry[i]; i++) {
			const char *p = xpu_sched_registry[i]->head.name;
			double m = makespan_of(p, graphs[g], format, platform);
			cr_assert(m >= lb - 1e-6 * lb, "%s on %s: makespan %g below the bound %g",
			          p, graphs[g], m, lb);
			if (!strcmp(p, "heft"))
				heft += m / n;
			if (!strcmp(p, "fifo"))
				fifo += m / n;
		}
	}
	cr_assert(heft <= fifo * (1 + 1e-9), "HEFT mean makespan %g worse than fifo's %g", heft,
	          fifo);
}

Test(stg_policies, no_policy_beats_the_lower_bound_and_heft_beats_fifo)
{
	if (access(STG_DIR "/robot.stg", R_OK))
		cr_skip_test("../shared/traces/workflow/stg is absent (real STG graphs)");
	static const char *const graphs[] = {STG_DIR "/robot.stg", STG_DIR "/sparse.stg"};
	check_graphs(graphs, 2, "stg:speed=1");
}

Test(stg_policies, wfcommons_workflows_respect_the_bound_and_heft_beats_fifo)
{
	if (access(WF_DIR "/montage-chameleon-2mass-01d-001.json", R_OK))
		cr_skip_test("../shared/traces/workflow/wfcommons is absent (real workflows)");
	static const char *const graphs[] = {
	    WF_DIR "/1000genome-chameleon-2ch-100k-001.json",
	    WF_DIR "/blast-chameleon-small-001.json",
	    WF_DIR "/epigenomics-chameleon-hep-1seq-100k-001.json",
	    WF_DIR "/montage-chameleon-2mass-01d-001.json",
	    WF_DIR "/seismology-chameleon-100p-001.json",
	};
	check_graphs(graphs, 5, "wfcommons:speed=1");
}
