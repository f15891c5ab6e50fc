/* static.c — static batching, as FasterTransformer serves: a batch of up to `batch`
 * waiting requests is formed when the replica is idle, each request's whole length
 * (prompt and output) reserved in the KV cache at once, and the batch runs, prompts
 * first and then one token per request per step, until its last request has finished;
 * only then does the next batch form. A request that finishes early leaves its slot
 * empty (Yu et al., "Orca", OSDI 2022, section 2.2, describe the cost). */
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

struct st {
	struct sl_rep *r;
	int n;
	uint32_t batch;
	uint32_t max_len; /* reserve=max: tokens reserved per request, at least */
};

static int st_init(struct xpu_serve *s)
{
	struct st *p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->n = xpu_nreplicas(s->eng);
	p->r = sl_reps_new(s->eng);
	p->batch = (uint32_t)xpu_param_num(s->param, s->nparams, "batch", 8);
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

static void st_fini(struct xpu_serve *s)
{
	struct st *p = s->priv;
	sl_reps_free(p->r, p->n);
	free(p);
}

static void st_arrival(struct xpu_serve *s, const struct xpu_request *r, int rep)
{
	struct st *p = s->priv;
	sl_fifo_push(&p->r[rep].waiting, r->index);
}

static void st_form(struct xpu_serve *s, int rep)
{
	struct st *p = s->priv;
	struct sl_rep *q = &p->r[rep];
	struct xpu_engine *e = s->eng;
	if (q->running.n == 0) {
		while (q->waiting.len > 0 && q->running.n < p->batch) {
			const struct xpu_request *r = xpu_request_at(e, sl_fifo_peek(&q->waiting));
			if (xpu_request_reserve(e, r, reserve_len(p->max_len, r)))
				break;
			sl_fifo_pop(&q->waiting);
			sl_list_add(&q->running, r->index);
		}
	}
	for (uint32_t i = 0; i < q->running.n; i++) {
		const struct xpu_request *r = xpu_request_at(e, q->running.v[i]);
		if (r->state == XPU_REQ_RUNNING && xpu_request_pending(r) > 0)
			xpu_batch_add(e, rep, r, xpu_request_pending(r));
	}
}

static void st_finished(struct xpu_serve *s, const struct xpu_request *r)
{
	struct st *p = s->priv;
	struct sl_rep *q = &p->r[r->replica];
	/* the batch stays closed until every member is done */
	for (uint32_t i = 0; i < q->running.n; i++)
		if (xpu_request_at(s->eng, q->running.v[i])->state != XPU_REQ_DONE)
			return;
	q->running.n = 0;
}

static const struct xpu_param_spec st_params[] = {
    {"batch", XPU_PARAM_INT, 1, 1e6, "requests per batch (default 8)"},
    {"reserve", XPU_PARAM_WORD, 0, 0,
     "max|exact: KV reserved on admission: max_len tokens (or the request's length "
     "when longer), as a server that cannot know the output; or the request's own "
     "length (default max)"},
    {"max_len", XPU_PARAM_INT, 1, 1e8,
     "the maximum sequence length reserve=max reserves (default 4096, Llama 2's context)"},
    {NULL, 0, 0, 0, NULL},
};

const struct xpu_serve_ops xpu_serve_static = {
    .head = {.version = XPU_SERVE_VERSION,
             .name = "static",
             .description = "static batching (FasterTransformer): a batch runs until its "
                            "last request ends",
             .params = st_params},
    .init = st_init,
    .fini = st_fini,
    .on_arrival = st_arrival,
    .form_batch = st_form,
    .on_finished = st_finished,
};
