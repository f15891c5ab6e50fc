/* dmda.c — deque model, data aware, in the manner of StarPU's dmda policy (Augonnet,
 * Thibault, Namyst and Wacrenier, "StarPU: a unified platform for task scheduling on
 * heterogeneous multicore architectures", CCPE 23(2), 2011).
 *
 * Each ready task goes to the unit minimising its expected completion
 *   max(avail(u), data ready on u) + predicted duration on u,
 * where data readiness counts the transfer of every input the unit lacks (producers'
 * ends plus route latency and bytes over bandwidth; nothing on shared memory). The
 * task joins the unit's queue in readiness order. Lowest unit index on ties. */
#include <math.h>

#include "dmda.h"

int dmda_best_unit(struct xpu_engine *e, const struct xpu_task *t, double *data_at)
{
	int best = -1;
	double best_ect = INFINITY;
	for (int u = 0; u < xpu_nunits(e); u++) {
		if (!xpu_can_run(e, t, u))
			continue;
		double a = xpu_unit_avail(e, u), r = xpu_data_ready(e, t, u);
		double ect = (a > r ? a : r) + xpu_predict(e, t, u);
		if (best < 0 || ect < best_ect) {
			best = u;
			best_ect = ect;
			*data_at = r;
		}
	}
	return best;
}

static void dmda_on_ready(struct xpu_sched *s, const struct xpu_task *t)
{
	double r;
	if (t->unit >= 0)
		return;
	int u = dmda_best_unit(s->eng, t, &r);
	if (u >= 0)
		xpu_place(s->eng, t, u, xpu_now(s->eng));
}

const struct xpu_sched_ops xpu_sched_dmda = {
    .head = {.version = XPU_SCHED_VERSION,
             .name = "dmda",
             .description = "unit of least expected completion incl. data transfers (StarPU dmda)"},
    .on_ready = dmda_on_ready,
};
