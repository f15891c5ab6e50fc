/* dmdas.c — dmda with sorted queues, in the manner of StarPU's dmdas: the unit is
 * chosen as in dmda.c (least expected completion, data transfers included), and each
 * unit's queue is sorted by priority, highest first (StarPU's dmdas keeps its worker
 * queues sorted by task priority); among tasks of one priority, those whose data is on
 * the unit sooner go first, as in dmdar.c. */
#include "dmda.h"

/* Priorities are ints and data-ready times seconds: one step of priority outweighs
 * any time a run can reach (2^40 s), and the sum stays exact in a double. */
#define PRIORITY_STEP 1099511627776.0

static void dmdas_on_ready(struct xpu_sched *s, const struct xpu_task *t)
{
	double r;
	if (t->unit >= 0)
		return;
	int u = dmda_best_unit(s->eng, t, &r);
	if (u >= 0)
		xpu_place(s->eng, t, u, -(double)t->priority * PRIORITY_STEP + r);
}

const struct xpu_sched_ops xpu_sched_dmdas = {
    .head = {.version = XPU_SCHED_VERSION,
             .name = "dmdas",
             .description = "dmda whose unit queues are sorted by priority, then by data "
                            "readiness (StarPU dmdas)"},
    .on_ready = dmdas_on_ready,
};
