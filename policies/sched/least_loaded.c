/* least_loaded.c — each ready task goes to the unit predicted to be free first
 * (queued and running work by the time model), lowest index on ties. */
#include <math.h>

#include "xpu.h"

static void ll_on_ready(struct xpu_sched *s, const struct xpu_task *t)
{
	int best = -1;
	double best_avail = INFINITY;
	if (t->unit >= 0)
		return;
	for (int u = 0; u < xpu_nunits(s->eng); u++) {
		if (!xpu_can_run(s->eng, t, u))
			continue;
		double a = xpu_unit_avail(s->eng, u);
		if (best < 0 || a < best_avail) {
			best = u;
			best_avail = a;
		}
	}
	if (best >= 0)
		xpu_place(s->eng, t, best, xpu_now(s->eng));
}

/* A unit failure stopped t on u: run it again wherever the policy now places it
 * (a failed unit counts as busy until its expected repair, see xpu_unit_avail). */
static int ll_on_unit_failed(struct xpu_sched *s, const struct xpu_task *t, int u)
{
	(void)s;
	(void)t;
	(void)u;
	return 1;
}

const struct xpu_sched_ops xpu_sched_least_loaded = {
    .head = {.version = XPU_SCHED_VERSION,
             .name = "least-loaded",
             .description = "ready tasks to the unit predicted free first (queued + running work)"},
    .on_ready = ll_on_ready,
    .on_unit_failed = ll_on_unit_failed,
};
