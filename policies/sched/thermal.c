/* thermal.c — thermal-aware placement: each ready task to the unit where it would finish
 * first (as dmda: the unit's availability, its inputs' arrival, the predicted
 * duration), among the units under their trip point; a unit at or above it (its
 * xpu.thermal.warning, else `margin` degrees under xpu.thermal.limit) takes work only
 * when no cooler unit can run the task. So load moves from a hot NPU to the iGPU, as
 * AMD's Ryzen AI guidance describes, and back once the NPU has cooled. Temperatures come
 * from the engine's online node (xpu_unit_temp); units without one are never hot. */
#include <math.h>

#include "xpu.h"

static int hot(struct xpu_sched *s, int u)
{
	const struct xpu_unit *un = xpu_unit_at(s->eng, u);
	double T = xpu_unit_temp(s->eng, u);
	if (isnan(T))
		return 0;
	double trip = !isnan(un->th_warning)
	                  ? un->th_warning
	                  : un->th_limit - xpu_param_num(s->param, s->nparams, "margin", 5);
	return !isnan(trip) && T >= trip;
}

static void th_on_ready(struct xpu_sched *s, const struct xpu_task *t)
{
	struct xpu_engine *e = s->eng;
	if (t->unit >= 0)
		return;
	int best = -1, best_hot = 1;
	double best_ct = INFINITY;
	for (int u = 0; u < xpu_nunits(e); u++) {
		if (!xpu_can_run(e, t, u) || !xpu_unit_up(e, u))
			continue;
		double a = xpu_unit_avail(e, u), r = xpu_data_ready(e, t, u);
		double ct = (a > r ? a : r) + xpu_predict(e, t, u);
		int h = hot(s, u);
		if (best < 0 || h < best_hot || (h == best_hot && ct < best_ct)) {
			best = u;
			best_ct = ct;
			best_hot = h;
		}
	}
	if (best < 0) /* every unit that can run it is down: the first that can */
		for (int u = 0; u < xpu_nunits(e) && best < 0; u++)
			if (xpu_can_run(e, t, u))
				best = u;
	if (best >= 0)
		xpu_place(e, t, best, xpu_now(e));
}

static int th_on_unit_failed(struct xpu_sched *s, const struct xpu_task *t, int u)
{
	(void)s;
	(void)t;
	(void)u;
	return 1;
}

static const struct xpu_param_spec th_params[] = {
    {"margin", XPU_PARAM_NUMBER, 0, 1000,
     "degrees under xpu.thermal.limit where a unit counts as hot when it gives no "
     "xpu.thermal.warning (default 5)"},
    {NULL, 0, 0, 0, NULL},
};

const struct xpu_sched_ops xpu_sched_thermal = {
    .head = {.version = XPU_SCHED_VERSION,
             .name = "thermal",
             .description = "minimum completion time among units under their thermal trip "
                            "point; hot units only when no cooler one can run the task",
             .params = th_params},
    .on_ready = th_on_ready,
    .on_unit_failed = th_on_unit_failed,
};
