/* mypolicy.c — an out-of-tree scheduling policy: shortest job first, with an optional
 * cap on how many tasks it may keep waiting before falling back to arrival order.
 *
 * Build and run it against an installed xpuopt:
 *   cc -shared -fPIC mypolicy.c $(pkg-config --cflags --libs xpuopt) -o mypolicy.so
 *   xpuopt run --sched ./mypolicy.so            (or './mypolicy.so:fifo_above=100')
 *
 * It includes only xpu.h, like every policy, and exports its table with
 * XPU_EXPORT_POLICY so that xpuopt can check the ABI and table versions it was built
 * against. */
#include <errno.h>
#include <stdlib.h>

#include <xpu.h>

struct sjf {
	struct xpu_readyq *q;
	double fifo_above; /* queue length above which work is ignored (0: never) */
};

static int sjf_init(struct xpu_sched *s)
{
	struct sjf *p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->q = xpu_readyq_new();
	p->fifo_above = xpu_param_num(s->param, s->nparams, "fifo_above", 0);
	s->priv = p;
	return p->q ? 0 : -ENOMEM;
}

static void sjf_fini(struct xpu_sched *s)
{
	struct sjf *p = s->priv;
	if (!p)
		return;
	xpu_readyq_free(p->q);
	free(p);
}

static void sjf_on_ready(struct xpu_sched *s, const struct xpu_task *t)
{
	struct sjf *p = s->priv;
	if (t->unit >= 0)
		return;
	/* smaller work first; past the cap, arrival order keeps long jobs from starving */
	int fifo = p->fifo_above > 0 && xpu_readyq_len(p->q) > p->fifo_above;
	xpu_readyq_push(p->q, t, fifo ? 0 : t->flops);
}

static const struct xpu_task *sjf_pick(struct xpu_sched *s, const struct xpu_unit *u)
{
	struct sjf *p = s->priv;
	return xpu_readyq_take(p->q, s->eng, u->index);
}

/* Parameters with their types and ranges: xpuopt checks a value before the run. */
static const struct xpu_param_spec sjf_params[] = {
    {"fifo_above", XPU_PARAM_INT, 0, 1e9,
     "queue length above which work is ignored (default 0: never)"},
    {NULL, 0, 0, 0, NULL},
};

static const struct xpu_sched_ops sjf_ops = {
    .head = {.version = XPU_SCHED_VERSION,
             .name = "sjf",
             .description = "shortest job first (example out-of-tree policy)",
             .params = sjf_params},
    .init = sjf_init,
    .fini = sjf_fini,
    .on_ready = sjf_on_ready,
    .pick = sjf_pick,
};

XPU_EXPORT_POLICY(XPU_POLICY_SCHED, sjf_ops);
