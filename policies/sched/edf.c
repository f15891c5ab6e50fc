/* edf.c — Earliest Deadline First (Liu and Layland, JACM 20(1), 1973): one central
 * queue by absolute deadline, tasks without one last (in readiness order); a unit with
 * room takes the first task it can run. Non-preemptive: a running task is never
 * interrupted. */
#include <errno.h>

#include "xpu.h"

static int edf_init(struct xpu_sched *s)
{
	s->priv = xpu_readyq_new();
	return s->priv ? 0 : -ENOMEM;
}

static void edf_fini(struct xpu_sched *s)
{
	xpu_readyq_free(s->priv);
}

static void edf_on_ready(struct xpu_sched *s, const struct xpu_task *t)
{
	if (t->unit < 0)
		xpu_readyq_push(s->priv, t, t->deadline); /* INFINITY sorts last */
}

static const struct xpu_task *edf_pick(struct xpu_sched *s, const struct xpu_unit *u)
{
	return xpu_readyq_take(s->priv, s->eng, u->index);
}

const struct xpu_sched_ops xpu_sched_edf = {
    .head = {.version = XPU_SCHED_VERSION,
             .name = "edf",
             .description = "central queue by earliest deadline (Liu and Layland 1973)"},
    .init = edf_init,
    .fini = edf_fini,
    .on_ready = edf_on_ready,
    .pick = edf_pick,
};
