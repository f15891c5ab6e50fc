/* dmdar.c — dmda with ready-data-first queues, in the manner of StarPU's dmdar.
 *
 * The unit is chosen as in dmda.c. StarPU's dmdar then lets a worker pop, among its
 * queued tasks, one whose data is already on it. Our unit queues run strictly in
 * order, so the same preference is expressed in the order key: a task is queued by
 * the predicted time its inputs are on the unit (xpu_data_ready). A task whose data
 * is there now goes ahead of tasks still waiting for transfers; among those with data
 * present, readiness order is kept. */
#include "dmda.h"

static void dmdar_on_ready(struct xpu_sched *s, const struct xpu_task *t)
{
	double r;
	if (t->unit >= 0)
		return;
	int u = dmda_best_unit(s->eng, t, &r);
	if (u >= 0)
		xpu_place(s->eng, t, u, r);
}

const struct xpu_sched_ops xpu_sched_dmdar = {
    .head = {.version = XPU_SCHED_VERSION,
             .name = "dmdar",
             .description = "dmda whose unit queues put tasks with their data present first"},
    .on_ready = dmdar_on_ready,
};
