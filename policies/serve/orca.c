/* orca.c — iteration-level scheduling (Yu et al., "Orca: A Distributed Serving System
 * for Transformer-Based Generative Models", OSDI 2022): the batch is formed anew at
 * every step, so a request joins as soon as there is room and leaves as soon as it has
 * finished. Each step runs every admitted request: a newcomer's whole prompt (Orca's
 * selective batching mixes prompts and decodes in one step), one token for the rest.
 * As in Orca, a request's whole length is reserved in the KV cache when it is admitted
 * (reserve=max: the maximum sequence length, max_len, as Orca must without knowing
 * the output; reserve=exact: the request's own prompt and output), so an
 * admitted request never waits for memory and none is ever preempted. At most `batch`
 * requests are admitted at once. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lists.h"

/* Tokens reserved for r: its whole length, or max_len when that is more (the
 * reservation of a server that does not know a request's output in advance). */
static uint32_t reserve_len(uint32_t max_len, const struct xpu_request *r)
{
	uint32_t need = r->prompt + r->output;
	return max_len > need ? max_len : need;
}

struct orca {
	struct sl_rep *r;
	int n;
	uint32_t batch;
	uint32_t max_len; /* reserve=max: tokens reserved per request, at least */
};

static int orca_init(struct xpu_serve *s)
{
	struct orca *p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->n = xpu_nreplicas(s->eng);
	p->r = sl_reps_new(s->eng);
	p->batch = (uint32_t)xpu_param_num(s->param, s->nparams, "batch", 64);
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

static void orca_fini(struct xpu_serve *s)
{
	struct orca *p = s->priv;
	sl_reps_free(p->r, p->n);
	free(p);
}

static void orca_arrival(struct xpu_serve *s, const struct xpu_request *r, int rep)
{
	struct orca *p = s->priv;
	sl_fifo_push(&p->r[rep].waiting, r->index);
}

static void orca_form(struct xpu_serve *s, int rep)
{
	struct orca *p = s->priv;
	struct sl_rep *q = &p->r[rep];
	struct xpu_engine *e = s->eng;
	while (q->waiting.len > 0 && q->running.n < p->batch) {
		const struct xpu_request *r = xpu_request_at(e, sl_fifo_peek(&q->waiting));
		if (xpu_request_reserve(e, r, reserve_len(p->max_len, r)))
			break;
		sl_fifo_pop(&q->waiting);
		sl_list_add(&q->running, r->index);
	}
	for (uint32_t i = 0; i < q->running.n; i++) {
		const struct xpu_request *r = xpu_request_at(e, q->running.v[i]);
		xpu_batch_add(e, rep, r, xpu_request_pending(r));
	}
}

static void orca_finished(struct xpu_serve *s, const struct xpu_request *r)
{
	struct orca *p = s->priv;
	sl_list_remove(&p->r[r->replica].running, r->index);
}

static const struct xpu_param_spec orca_params[] = {
    {"batch", XPU_PARAM_INT, 1, 1e6, "requests admitted at once (default 64)"},
    {"reserve", XPU_PARAM_WORD, 0, 0,
     "max|exact: KV reserved on admission: max_len tokens (or the request's length "
     "when longer), as a server that cannot know the output; or the request's own "
     "length (default max)"},
    {"max_len", XPU_PARAM_INT, 1, 1e8,
     "the maximum sequence length reserve=max reserves (default 4096, Llama 2's context)"},
    {NULL, 0, 0, 0, NULL},
};

const struct xpu_serve_ops xpu_serve_orca = {
    .head = {.version = XPU_SERVE_VERSION,
             .name = "orca",
             .description = "iteration-level continuous batching (Orca), whole length "
                            "reserved on admission",
             .params = orca_params},
    .init = orca_init,
    .fini = orca_fini,
    .on_arrival = orca_arrival,
    .form_batch = orca_form,
    .on_finished = orca_finished,
};
