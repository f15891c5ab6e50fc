/* services.c — the engine services policies call (engine/xpu.h): the model's
 * predictions (run time, transfers, data readiness, unit availability), the views of
 * units and tasks, and the run's seeded generator. Read-only: nothing here changes the
 * run. */
#include <math.h>
#include <stdint.h>

#include "engine_impl.h"

/* ------------------------------------------------------------------ services */

double xpu_now(const struct xpu_engine *e)
{
	return e->now;
}

const struct xpu_platform *xpu_platform_of(const struct xpu_engine *e)
{
	return e->pf;
}

int xpu_nunits(const struct xpu_engine *e)
{
	return e->pf->nunits;
}

const struct xpu_unit *xpu_unit_at(const struct xpu_engine *e, int i)
{
	return &e->pf->units[i];
}

uint32_t xpu_ntasks(const struct xpu_engine *e)
{
	return e->w->ntasks;
}

const struct xpu_task *xpu_task_at(const struct xpu_engine *e, uint32_t i)
{
	return &e->w->tasks[i];
}

/* The explicit cost of t on u: unit-specific first, then kind-wide; -1 if none. */
double eng_explicit_cost(const struct xpu_task *t, const struct xpu_unit *u)
{
	double by_kind = -1;
	for (uint32_t i = 0; i < t->ncosts; i++) {
		if (t->costs[i].unit == u->index)
			return t->costs[i].seconds;
		if (t->costs[i].unit == -1 && t->costs[i].kind == u->kind)
			by_kind = t->costs[i].seconds;
	}
	return by_kind;
}

int xpu_can_run(const struct xpu_engine *e, const struct xpu_task *t, int u)
{
	const struct xpu_unit *un = &e->pf->units[u];
	if (un->has_class_props && !un->cls[t->cls].supported)
		return 0;
	if ((int)t->width > un->cores)
		return 0;
	if (t->ncosts && eng_explicit_cost(t, un) < 0)
		return 0;
	double cap = e->pf->pools[un->mem_pool].capacity;
	if (cap > 0 &&
	    t->mem + (un->mem_pool != e->home_pool && e->task_data ? e->task_data[t->index] : 0) >
	        cap)
		return 0; /* could never be granted its memory (and its data) there */
	return 1;
}

/* An FPGA whose loaded bitstream lacks t's class loads another one first. */
double eng_reconfig(const struct xpu_task *t, const struct xpu_unit *un)
{
	int b = un->bitstream[t->cls];
	return (b >= 0 && b != un->loaded_bitstream) ? un->reconfig_time : 0;
}

/* Time model (DESIGN.md section 4): the explicit duration when the trace gives one,
 * else the roofline max(flop / (peak x efficiency), bytes / memory bandwidth) at the
 * current P-state, plus the unit's launch latency. A class peak is stated at P-state 0
 * and scales with the P-state's speed. The sim backend computes the same terms from the
 * launch (sim/simgrid.c), so a prediction equals the simulated time when nothing
 * shares the unit. */
static double predict_at(const struct xpu_engine *e, const struct xpu_task *t, int u, int ps)
{
	const struct xpu_unit *un = &e->pf->units[u];
	if (!xpu_can_run(e, t, u))
		return INFINITY;
	double c = eng_explicit_cost(t, un);
	if (c >= 0)
		return c + eng_reconfig(t, un);
	double rate = xpu_unit_rate(un, t->cls, ps);
	double compute = t->flops > 0 ? t->flops / t->width / rate : 0; /* work shared */
	double memory = (t->bytes > 0 && un->mem_bw > 0) ? t->bytes / un->mem_bw : 0;
	if (memory > 0 && eng_shares_bw(e, t, u)) {
		/* unified memory: its bandwidth is shared with the tasks streaming through
		 * it now (t itself counted once: already when it runs) */
		int pool = un->mem_pool;
		uint32_t k = e->pool_mem_tasks[pool] + (t->state == XPU_TASK_RUNNING ? 0 : 1);
		memory *= k > 1 ? k : 1;
	}
	return (compute > memory ? compute : memory) + xpu_unit_launch(un, t->cls) +
	       eng_reconfig(t, un);
}

int eng_shares_bw(const struct xpu_engine *e, const struct xpu_task *t, int u)
{
	const struct xpu_unit *un = &e->pf->units[u];
	int p = un->mem_pool;
	return e->pool_mem_tasks && t->bytes > 0 && un->mem_bw > 0 &&
	       e->pool_first[p + 1] - e->pool_first[p] > 1 && eng_explicit_cost(t, un) < 0;
}

double xpu_predict(const struct xpu_engine *e, const struct xpu_task *t, int u)
{
	return predict_at(e, t, u, e->pf->units[u].pstate);
}

double xpu_comm_time(const struct xpu_engine *e, int src, int dst, double bytes)
{
	const struct xpu_platform *pf = e->pf;
	if (src == dst || bytes <= 0 || pf->units[src].mem_pool == pf->units[dst].mem_pool)
		return 0;
	double lat, bw;
	if (!xpu_platform_route(pf, src, dst, &lat, &bw))
		return INFINITY;
	return lat + bytes / bw;
}

double xpu_unit_avail(const struct xpu_engine *e, int u)
{
	const struct unit_rt *r = &e->u[u];
	int cores = e->pf->units[u].cores;
	double left = r->running_end - r->running * e->now;
	if (left < 0)
		left = 0;
	double from = e->now;
	if (r->down) {
		/* from its expected repair: the mean repair time under the rate model,
		 * the profile's next change, or never */
		const struct xpu_avail *a = &e->avail[u];
		from = a->n == 0 && a->mttr > 0 ? fmax(e->now, r->down_since + a->mttr)
		                                : r->next_change;
	}
	const struct xpu_unit *un = &e->pf->units[u];
	if (un->idle_state >= 0) /* asleep: its next task waits for it to wake */
		from += un->idle[un->idle_state].exit_latency;
	return from + (left + r->queued_pred) / cores;
}

int xpu_unit_up(const struct xpu_engine *e, int u)
{
	return u >= 0 && u < e->pf->nunits && !e->u[u].down;
}

int xpu_unit_queued(const struct xpu_engine *e, int u)
{
	return (int)e->u[u].queue.n;
}

int xpu_unit_running(const struct xpu_engine *e, int u)
{
	return e->u[u].running;
}

/* Predicted end of a task that is not done: running, queued, or not placed. */
static double predicted_end(const struct xpu_engine *e, const struct xpu_task *p)
{
	if (p->state == XPU_TASK_DONE || p->state == XPU_TASK_FAILED)
		return p->end_t;
	if (p->state == XPU_TASK_RUNNING)
		return p->start_t + p->predicted;
	if (p->unit >= 0)
		return xpu_unit_avail(e, p->unit);
	return INFINITY;
}

double xpu_data_ready(const struct xpu_engine *e, const struct xpu_task *t, int u)
{
	double r = e->now;
	for (uint32_t i = 0; i < t->ndeps; i++) { /* every dependency ends first */
		double end = predicted_end(e, &e->w->tasks[t->deps[i].task]);
		if (end > r)
			r = end;
	}
	for (uint32_t i = 0; i < t->naccess; i++) { /* then each input reaches u's memory */
		const struct xpu_access *a = &t->access[i];
		if (!(a->mode & XPU_ACCESS_READ))
			continue;
		uint32_t p = e->w->data[a->datum].producer;
		double at = p == UINT32_MAX ? xpu_data_arrival(e, a->datum, u, e->now, -1)
		                            : xpu_data_arrival(e, a->datum, u,
		                                               predicted_end(e, &e->w->tasks[p]),
		                                               e->w->tasks[p].unit);
		if (at > r)
			r = at;
	}
	return r;
}

uint64_t xpu_random(struct xpu_engine *e)
{
	return eng_xoshiro(e->rng);
}
