/* round_robin.c — each ready task goes to the next unit in turn that can run it. */
#include <errno.h>
#include <stdlib.h>

#include "xpu.h"

struct rr {
	int next;
};

static int rr_init(struct xpu_sched *s)
{
	s->priv = calloc(1, sizeof(struct rr));
	return s->priv ? 0 : -ENOMEM;
}

static void rr_fini(struct xpu_sched *s)
{
	free(s->priv);
}

static void rr_on_ready(struct xpu_sched *s, const struct xpu_task *t)
{
	struct rr *rr = s->priv;
	int n = xpu_nunits(s->eng);
	if (t->unit >= 0)
		return;
	for (int k = 0; k < n; k++) {
		int u = (rr->next + k) % n;
		if (xpu_can_run(s->eng, t, u)) {
			rr->next = (u + 1) % n;
			xpu_place(s->eng, t, u, xpu_now(s->eng));
			return;
		}
	}
}

const struct xpu_sched_ops xpu_sched_round_robin = {
    .head = {.version = XPU_SCHED_VERSION,
             .name = "round-robin",
             .description =
                 "ready tasks dealt to units in turn, skipping units that cannot run them"},
    .init = rr_init,
    .fini = rr_fini,
    .on_ready = rr_on_ready,
};
