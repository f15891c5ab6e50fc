/* reserve.c — the shared part of static batching and Orca (reserve.h). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "reserve.h"

int rv_init(struct xpu_serve *s, uint32_t def_batch)
{
	struct rv *p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->n = xpu_nreplicas(s->eng);
	p->r = sl_reps_new(s->eng);
	p->batch = (uint32_t)xpu_param_num(s->param, s->nparams, "batch", def_batch);
	p->max_len = strcmp(xpu_param_str(s->param, s->nparams, "reserve", "max"), "max")
	                 ? 0
	                 : (uint32_t)xpu_param_num(s->param, s->nparams, "max_len", 4096);
	if (!p->r) {
		free(p);
		return -ENOMEM;
	}
	s->priv = p;
	return 0;
}

void rv_fini(struct xpu_serve *s)
{
	struct rv *p = s->priv;
	sl_reps_free(p->r, p->n);
	free(p);
}

void rv_arrival(struct xpu_serve *s, const struct xpu_request *r, int rep)
{
	struct rv *p = s->priv;
	sl_fifo_push(&p->r[rep].waiting, r->index);
}

void rv_admit(struct xpu_serve *s, int rep)
{
	struct rv *p = s->priv;
	struct sl_rep *q = &p->r[rep];
	while (q->waiting.len > 0 && q->running.n < p->batch) {
		const struct xpu_request *r = xpu_request_at(s->eng, sl_fifo_peek(&q->waiting));
		/* its whole length, or max_len when that is more */
		uint32_t need = r->prompt + r->output;
		if (xpu_request_reserve(s->eng, r, p->max_len > need ? p->max_len : need))
			break;
		sl_fifo_pop(&q->waiting);
		sl_list_add(&q->running, r->index);
	}
}
