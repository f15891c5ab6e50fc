/* olb.c — Opportunistic Load Balancing: each ready task to the unit expected to be
 * available first, regardless of the task's run time there (Maheswaran et al., JPDC
 * 59(2), 1999; Braun et al., JPDC 61(6), 2001).
 *
 * Availability is the engine's prediction (running and queued work over the cores).
 * The papers take the task "to the next machine that is expected to be available" in
 * arbitrary order; ties here rotate from the unit after the last one chosen, so equal
 * units share the load (least-loaded breaks ties by the lowest index). */
#include <errno.h>
#include <math.h>
#include <stdlib.h>

#include "xpu.h"

struct olb {
	int next;
};

static int olb_init(struct xpu_sched *s)
{
	s->priv = calloc(1, sizeof(struct olb));
	return s->priv ? 0 : -ENOMEM;
}

static void olb_fini(struct xpu_sched *s)
{
	free(s->priv);
}

static void olb_on_ready(struct xpu_sched *s, const struct xpu_task *t)
{
	struct olb *o = s->priv;
	struct xpu_engine *e = s->eng;
	int n = xpu_nunits(e), best = -1;
	double best_avail = INFINITY;
	if (t->unit >= 0)
		return;
	for (int k = 0; k < n; k++) {
		int u = (o->next + k) % n;
		if (!xpu_can_run(e, t, u))
			continue;
		double a = xpu_unit_avail(e, u);
		if (best < 0 || a < best_avail) {
			best = u;
			best_avail = a;
		}
	}
	if (best < 0)
		return;
	o->next = (best + 1) % n;
	xpu_place(e, t, best, xpu_now(e));
}

const struct xpu_sched_ops xpu_sched_olb = {
    .head = {.version = XPU_SCHED_VERSION,
             .name = "olb",
             .description =
                 "each ready task to the unit available first, whatever its run time there"},
    .init = olb_init,
    .fini = olb_fini,
    .on_ready = olb_on_ready,
};
