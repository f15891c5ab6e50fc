/* random.c — each ready task to a unit drawn at random, weighted by the unit's speed
 * for that task (1 / predicted duration), from the run's seeded generator: one seed,
 * one schedule. */
#include <math.h>

#include "xpu.h"

static void rnd_on_ready(struct xpu_sched *s, const struct xpu_task *t)
{
	struct xpu_engine *e = s->eng;
	double total = 0;
	int last = -1;
	if (t->unit >= 0)
		return;
	for (int u = 0; u < xpu_nunits(e); u++)
		if (xpu_can_run(e, t, u)) {
			double d = xpu_predict(e, t, u);
			total += d > 0 ? 1 / d : 1e12;
			last = u;
		}
	if (last < 0)
		return;
	/* 53 random bits give a uniform double in [0, 1) */
	double x = (double)(xpu_random(e) >> 11) * 0x1p-53 * total;
	int pick = last;
	for (int u = 0; u < xpu_nunits(e); u++)
		if (xpu_can_run(e, t, u)) {
			double d = xpu_predict(e, t, u);
			x -= d > 0 ? 1 / d : 1e12;
			if (x < 0) {
				pick = u;
				break;
			}
		}
	xpu_place(e, t, pick, xpu_now(e));
}

/* A unit failure stopped t on u: run it again wherever the policy now places it
 * (a failed unit counts as busy until its expected repair, see xpu_unit_avail). */
static int rnd_on_unit_failed(struct xpu_sched *s, const struct xpu_task *t, int u)
{
	(void)s;
	(void)t;
	(void)u;
	return 1;
}

const struct xpu_sched_ops xpu_sched_random = {
    .head = {.version = XPU_SCHED_VERSION,
             .name = "random",
             .description =
                 "ready tasks to a random unit weighted by its speed for the task (seeded)"},
    .on_ready = rnd_on_ready,
    .on_unit_failed = rnd_on_unit_failed,
};
