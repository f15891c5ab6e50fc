/* energy.c — energy-aware placement: each ready task to the unit minimising
 *   alpha * time + beta * transfer + gamma * energy
 * (the weighted fitness of StarPU's dmda family: Augonnet et al., CCPE 23(2), 2011),
 * with time = expected completion - now, completion = max(avail, data ready) +
 * predicted duration (seconds); transfer = predicted time to move the inputs the unit
 * lacks (seconds); energy = the unit's full-load wattage at its current P-state, times
 * the task's share of the unit's cores, times the predicted duration (joules).
 * Parameters: alpha (default 1), beta (default 1), gamma (default 1), each >= 0:
 * --sched 'energy:gamma=1000'. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>

#include "xpu.h"

struct energy {
	double alpha, beta, gamma;
};

static int energy_init(struct xpu_sched *s)
{
	struct energy *w = malloc(sizeof(*w));
	if (!w)
		return -ENOMEM;
	s->priv = w;
	w->alpha = xpu_param_num(s->param, s->nparams, "alpha", 1);
	w->beta = xpu_param_num(s->param, s->nparams, "beta", 1);
	w->gamma = xpu_param_num(s->param, s->nparams, "gamma", 1);
	/* the values were checked against energy_params when the spec was parsed */
	return 0;
}

static void energy_fini(struct xpu_sched *s)
{
	free(s->priv);
}

static double transfer(struct xpu_engine *e, const struct xpu_task *t, int u)
{
	double sec = 0;
	for (uint32_t d = 0; d < t->ndeps; d++) {
		const struct xpu_task *p = xpu_task_at(e, t->deps[d].task);
		if (p->unit >= 0)
			sec += xpu_comm_time(e, p->unit, u, t->deps[d].bytes);
	}
	return sec;
}

static void energy_on_ready(struct xpu_sched *s, const struct xpu_task *t)
{
	struct energy *w = s->priv;
	struct xpu_engine *e = s->eng;
	double now = xpu_now(e), best_cost = INFINITY;
	int best = -1;
	if (t->unit >= 0)
		return;
	for (int u = 0; u < xpu_nunits(e); u++) {
		if (!xpu_can_run(e, t, u))
			continue;
		const struct xpu_unit *un = xpu_unit_at(e, u);
		double a = xpu_unit_avail(e, u), r = xpu_data_ready(e, t, u);
		double d = xpu_predict(e, t, u);
		double joules = un->pstates[un->pstate].full_w * t->width / un->cores * d;
		double cost = w->alpha * ((a > r ? a : r) + d - now) + w->beta * transfer(e, t, u) +
		              w->gamma * joules;
		if (best < 0 || cost < best_cost) {
			best = u;
			best_cost = cost;
		}
	}
	if (best >= 0)
		xpu_place(e, t, best, now);
}

static const struct xpu_param_spec energy_params[] = {
    {"alpha", XPU_PARAM_NUMBER, 0, 1e300, "weight of the predicted completion time (default 1)"},
    {"beta", XPU_PARAM_NUMBER, 0, 1e300, "weight of the transfer time (default 1)"},
    {"gamma", XPU_PARAM_NUMBER, 0, 1e300, "weight of the predicted energy (default 1)"},
    {NULL, 0, 0, 0, NULL},
};

const struct xpu_sched_ops xpu_sched_energy = {
    .head = {.version = XPU_SCHED_VERSION,
             .name = "energy",
             .description = "unit minimising alpha*time + beta*transfer + gamma*energy",
             .params = energy_params},
    .init = energy_init,
    .fini = energy_fini,
    .on_ready = energy_on_ready,
};
