/* fifo.c — one central queue in readiness order; a unit with room takes the first
 * task it can run (StarPU's "eager" policy, without priorities). */
#include <errno.h>

#include "xpu.h"

static int fifo_init(struct xpu_sched *s)
{
	s->priv = xpu_readyq_new();
	return s->priv ? 0 : -ENOMEM;
}

static void fifo_fini(struct xpu_sched *s)
{
	xpu_readyq_free(s->priv);
}

static void fifo_on_ready(struct xpu_sched *s, const struct xpu_task *t)
{
	if (t->unit < 0)
		xpu_readyq_push(s->priv, t, 0); /* one key: pure arrival order */
}

static const struct xpu_task *fifo_pick(struct xpu_sched *s, const struct xpu_unit *u)
{
	return xpu_readyq_take(s->priv, s->eng, u->index);
}

/* A unit failure stopped t on u: run it again wherever the policy now places it
 * (a failed unit counts as busy until its expected repair, see xpu_unit_avail). */
static int fifo_on_unit_failed(struct xpu_sched *s, const struct xpu_task *t, int u)
{
	(void)s;
	(void)t;
	(void)u;
	return 1;
}

const struct xpu_sched_ops xpu_sched_fifo = {
    .head = {.version = XPU_SCHED_VERSION,
             .name = "fifo",
             .description = "central queue in readiness order; idle units take the head (eager)"},
    .init = fifo_init,
    .fini = fifo_fini,
    .on_ready = fifo_on_ready,
    .on_unit_failed = fifo_on_unit_failed,
    .pick = fifo_pick,
};
