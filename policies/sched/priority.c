/* priority.c — strict priority: one central queue, highest task priority first, then
 * arrival order (submit time, then trace order); a unit with room takes the first task
 * it can run. Unlike the engine's default, equal priorities keep arrival order rather
 * than readiness order. */
#include <errno.h>
#include <stdlib.h>

#include "xpu.h"

struct prio {
	struct xpu_readyq *q;
	double *arrival; /* rank of each task in arrival order, scaled into [0, 1) */
};

static struct xpu_engine *sort_eng;

static int by_arrival(const void *a, const void *b)
{
	const struct xpu_task *x = xpu_task_at(sort_eng, *(const uint32_t *)a);
	const struct xpu_task *y = xpu_task_at(sort_eng, *(const uint32_t *)b);
	if (x->submit != y->submit)
		return x->submit < y->submit ? -1 : 1;
	return x->index < y->index ? -1 : x->index > y->index;
}

static int prio_init(struct xpu_sched *s)
{
	struct prio *p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	s->priv = p;
	uint32_t n = xpu_ntasks(s->eng);
	uint32_t *idx = malloc(((size_t)n + 1) * sizeof(*idx));
	p->arrival = malloc(((size_t)n + 1) * sizeof(double));
	p->q = xpu_readyq_new();
	if (!idx || !p->arrival || !p->q) {
		free(idx);
		return -ENOMEM;
	}
	for (uint32_t i = 0; i < n; i++)
		idx[i] = i;
	sort_eng = s->eng;
	qsort(idx, n, sizeof(*idx), by_arrival);
	/* key = -priority + rank / (n + 1): priorities are integers, so the arrival
	 * rank only orders tasks of one priority. */
	for (uint32_t i = 0; i < n; i++)
		p->arrival[idx[i]] = (double)i / ((double)n + 1);
	free(idx);
	return 0;
}

static void prio_fini(struct xpu_sched *s)
{
	struct prio *p = s->priv;
	if (!p)
		return;
	xpu_readyq_free(p->q);
	free(p->arrival);
	free(p);
}

static void prio_on_ready(struct xpu_sched *s, const struct xpu_task *t)
{
	struct prio *p = s->priv;
	if (t->unit < 0)
		xpu_readyq_push(p->q, t, -(double)t->priority + p->arrival[t->index]);
}

static const struct xpu_task *prio_pick(struct xpu_sched *s, const struct xpu_unit *u)
{
	struct prio *p = s->priv;
	return xpu_readyq_take(p->q, s->eng, u->index);
}

const struct xpu_sched_ops xpu_sched_priority = {
    .head = {.version = XPU_SCHED_VERSION,
             .name = "priority",
             .description = "central queue by priority, then arrival; idle units take the head"},
    .init = prio_init,
    .fini = prio_fini,
    .on_ready = prio_on_ready,
    .pick = prio_pick,
};
