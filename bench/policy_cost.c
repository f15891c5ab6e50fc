/* policy_cost.c — decision cost per task of every registered scheduling policy, timed
 * in-process (no simulation) at 8, 64 and 1,024 units.
 *
 * For each policy and platform size, a fresh engine state holds N independent tasks of
 * mixed classes on units of mixed kinds (a quarter GPUs, 4-core CPUs otherwise). The
 * timed loop is what the engine does around a decision, without running anything: all
 * tasks are submitted at one instant (on_submit, on_arrivals), reported ready
 * (on_ready), every unit is offered work (pick, placing what it returns) until none
 * takes more, then every placed task is reported done (on_done). Cost = wall time of
 * the loop / N, in nanoseconds. Usage: policy_cost [N] (default 2000). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine_impl.h"
#include "platform.h"
#include "registry.h"

static double now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static int route(void *ctx, int src, int dst, double *latency, double *bandwidth)
{
	(void)ctx;
	(void)src;
	(void)dst;
	*latency = 1e-6;
	*bandwidth = 16e9;
	return 1;
}

static void make_platform(struct xpu_platform *pf, int n)
{
	memset(pf, 0, sizeof(*pf));
	pf->nunits = n;
	pf->units = calloc((size_t)n, sizeof(*pf->units));
	pf->npools = n;
	pf->pools = calloc((size_t)n, sizeof(*pf->pools));
	pf->route_fn = route; /* every pair: 1 us, 16 GB/s */
	for (int u = 0; u < n; u++) {
		struct xpu_unit *x = &pf->units[u];
		int gpu = u % 4 == 3;
		x->index = u;
		x->name = "u";
		x->kind = gpu ? XPU_KIND_GPU : XPU_KIND_CPU;
		x->cores = gpu ? 1 : 4;
		x->npstates = 1;
		x->pstates = calloc(1, sizeof(*x->pstates));
		x->pstates[0] = (struct xpu_pstate){gpu ? 1e12 : 5e10, 10, 10, gpu ? 250 : 80};
		x->mem_pool = u;
		x->loaded_bitstream = -1;
		for (int c = 0; c < XPU_CLASS_COUNT; c++)
			x->bitstream[c] = -1;
		pf->pools[u].name = "p";
	}
}

/* A governor's decision: select() for a unit of three P-states at random loads, the
 * state it keeps between calls included. ns per call. */
static double governor_ns(const struct xpu_power_ops *ops, long calls)
{
	struct xpu_platform pf;
	make_platform(&pf, 8);
	struct xpu_pstate ps[3] = {{3e9, 5, 5, 40}, {2e9, 4, 4, 25}, {1e9, 3, 3, 12}};
	for (int u = 0; u < 8; u++) {
		free(pf.units[u].pstates);
		pf.units[u].pstates = malloc(sizeof(ps));
		memcpy(pf.units[u].pstates, ps, sizeof(ps));
		pf.units[u].npstates = 3;
	}
	struct xpu_workload w = {0};
	struct xpu_engine e = {.pf = &pf, .w = &w};
	double ns = NAN;
	if (xpu_engine_setup(&e))
		return NAN;
	e.power = (struct xpu_power){ops, &e, NULL, 0, NULL};
	if (!ops->init || !ops->init(&e.power)) {
		srand(2);
		double t0 = now_ns();
		for (long i = 0; i < calls; i++) {
			struct xpu_unit *u = &pf.units[i & 7];
			u->pstate = ops->select(&e.power, u, (double)(rand() % 1001) / 1000);
			e.now += 1e-3;
		}
		ns = (now_ns() - t0) / calls;
		if (ops->fini)
			ops->fini(&e.power);
	}
	xpu_engine_teardown(&e);
	for (int u = 0; u < 8; u++)
		free(pf.units[u].pstates);
	free(pf.units);
	free(pf.pools);
	xpu_platform_detach_routes(&pf);
	return ns;
}

static void make_tasks(struct xpu_workload *w, uint32_t n)
{
	memset(w, 0, sizeof(*w));
	w->ntasks = n;
	w->tasks = calloc(n, sizeof(*w->tasks));
	srand(1);
	for (uint32_t i = 0; i < n; i++) {
		struct xpu_task *t = &w->tasks[i];
		t->index = i;
		t->id = "t";
		t->cls = rand() % XPU_CLASS_COUNT;
		t->flops = 1e9 * (1 + rand() % 50);
		t->priority = rand() % 3;
		t->deadline = 1 + rand() % 100;
		t->width = 1;
		t->estimate = NAN;
	}
}

static void reset_tasks(struct xpu_workload *w)
{
	for (uint32_t i = 0; i < w->ntasks; i++) {
		struct xpu_task *t = &w->tasks[i];
		t->state = XPU_TASK_PENDING;
		t->unit = -1;
		t->sched_data = NULL;
	}
}

static double cost_ns(const struct xpu_sched_ops *ops, int nunits, uint32_t ntasks)
{
	struct xpu_platform pf;
	struct xpu_workload w;
	make_platform(&pf, nunits);
	make_tasks(&w, ntasks);
	reset_tasks(&w);
	struct xpu_engine e = {.pf = &pf, .w = &w};
	if (xpu_engine_setup(&e))
		return NAN;
	e.sched = (struct xpu_sched){ops, &e, NULL, 0, NULL};
	double ns = NAN;
	if (ops->init && ops->init(&e.sched))
		goto out;
	double t0 = now_ns();
	for (uint32_t i = 0; i < ntasks; i++) {
		w.tasks[i].state = XPU_TASK_SUBMITTED;
		if (ops->on_submit)
			ops->on_submit(&e.sched, &w.tasks[i]);
	}
	if (ops->on_arrivals)
		ops->on_arrivals(&e.sched, 0);
	for (uint32_t i = 0; i < ntasks; i++) {
		w.tasks[i].state = XPU_TASK_READY;
		if (ops->on_ready)
			ops->on_ready(&e.sched, &w.tasks[i]);
	}
	for (int more = 1; more && ops->pick;) {
		more = 0;
		for (int u = 0; u < nunits; u++) {
			const struct xpu_task *t = ops->pick(&e.sched, &pf.units[u]);
			if (t && !xpu_place(&e, t, u, 0))
				more = 1;
		}
	}
	for (uint32_t i = 0; i < ntasks; i++)
		if (w.tasks[i].unit >= 0 && ops->on_done) {
			w.tasks[i].state = XPU_TASK_DONE;
			ops->on_done(&e.sched, &w.tasks[i]);
		}
	ns = (now_ns() - t0) / ntasks;
out:
	if (ops->fini)
		ops->fini(&e.sched);
	xpu_engine_teardown(&e);
	for (int u = 0; u < nunits; u++)
		free(pf.units[u].pstates);
	free(pf.units);
	free(pf.pools);
	xpu_platform_detach_routes(&pf);
	free(w.tasks);
	return ns;
}

int main(int argc, char **argv)
{
	uint32_t n = argc > 1 ? (uint32_t)strtoul(argv[1], NULL, 10) : 2000;
	static const int sizes[] = {8, 64, 1024};
	printf("== scheduling decision cost per task, ns (%u independent tasks) ==\n", n);
	printf("%-14s %12s %12s %12s\n", "policy", "8 units", "64 units", "1024 units");
	for (int i = 0; xpu_sched_registry[i]; i++) {
		/* conservative recompresses every reservation at each decision (cubic in
		 * the queue length): timed on a tenth of the tasks, and says so */
		int cons = !strcmp(xpu_sched_registry[i]->head.name, "conservative");
		uint32_t m = cons && n >= 10 ? n / 10 : n;
		printf("%-14s", xpu_sched_registry[i]->head.name);
		for (int k = 0; k < 3; k++)
			printf(" %12.0f", cost_ns(xpu_sched_registry[i], sizes[k], m));
		if (m != n)
			printf("   (%u tasks)", m);
		printf("\n");
		fflush(stdout);
	}
	printf("\n== power governor decision cost per call, ns (1,000,000 calls, 3 P-states; "
	       "the timing loop's rand() included) ==\n");
	for (int i = 0; xpu_power_registry[i]; i++)
		if (xpu_power_registry[i]->select)
			printf("%-14s %12.1f\n", xpu_power_registry[i]->head.name,
			       governor_ns(xpu_power_registry[i], 1000000));
	return 0;
}
