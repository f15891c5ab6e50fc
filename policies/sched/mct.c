/* mct.c — Minimum Completion Time, online: each ready task to the unit where it would
 * finish first (Maheswaran et al., JPDC 59(2), 1999; Braun et al., JPDC 61(6), 2001).
 *
 * Completion time = max(now, avail(u)) + predicted duration on u, the unit's
 * availability from its running and queued work, as the paper's machine ready time;
 * data movement is left to dmda. Lowest unit index on ties. */
#include <math.h>

#include "xpu.h"

static void mct_on_ready(struct xpu_sched *s, const struct xpu_task *t)
{
	struct xpu_engine *e = s->eng;
	int best = -1;
	double best_ct = INFINITY;
	if (t->unit >= 0)
		return;
	for (int u = 0; u < xpu_nunits(e); u++) {
		if (!xpu_can_run(e, t, u))
			continue;
		double ct = xpu_unit_avail(e, u) + xpu_predict(e, t, u);
		if (best < 0 || ct < best_ct) {
			best = u;
			best_ct = ct;
		}
	}
	if (best >= 0)
		xpu_place(e, t, best, xpu_now(e));
}

/* A unit failure stopped t on u: run it again wherever the policy now places it
 * (a failed unit counts as busy until its expected repair, see xpu_unit_avail). */
static int mct_on_unit_failed(struct xpu_sched *s, const struct xpu_task *t, int u)
{
	(void)s;
	(void)t;
	(void)u;
	return 1;
}

const struct xpu_sched_ops xpu_sched_mct = {
    .head = {.version = XPU_SCHED_VERSION,
             .name = "mct",
             .description =
                 "each ready task to the unit of minimum completion time (Maheswaran 1999)"},
    .on_ready = mct_on_ready,
    .on_unit_failed = mct_on_unit_failed,
};
