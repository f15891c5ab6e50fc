/* orca.c — iteration-level scheduling (Yu et al., "Orca: A Distributed Serving System
 * for Transformer-Based Generative Models", OSDI 2022): the batch is formed anew at
 * every step, so a request joins as soon as there is room and leaves as soon as it has
 * finished. Each step runs every admitted request: a newcomer's whole prompt (Orca's
 * selective batching mixes prompts and decodes in one step), one token for the rest.
 * As in Orca, a request's whole length is reserved in the KV cache when it is admitted
 * (reserve=max: the maximum sequence length, max_len, as Orca must without knowing the
 * output; reserve=exact: the request's own prompt and output), so an admitted request
 * never waits for memory and none is ever preempted. At most `batch` requests are
 * admitted at once. The shared part with static batching is reserve.c. */
#include "reserve.h"

static int orca_init(struct xpu_serve *s)
{
	return rv_init(s, 64);
}

static void orca_form(struct xpu_serve *s, int rep)
{
	struct rv *p = s->priv;
	struct sl_rep *q = &p->r[rep];
	rv_admit(s, rep);
	for (uint32_t i = 0; i < q->running.n; i++) {
		const struct xpu_request *r = xpu_request_at(s->eng, q->running.v[i]);
		xpu_batch_add(s->eng, rep, r, xpu_request_pending(r));
	}
}

static void orca_finished(struct xpu_serve *s, const struct xpu_request *r)
{
	struct rv *p = s->priv;
	sl_list_remove(&p->r[r->replica].running, r->index);
}

static const struct xpu_param_spec orca_params[] = {
    RV_PARAMS("requests admitted at once (default 64)"),
    {NULL, 0, 0, 0, NULL},
};

const struct xpu_serve_ops xpu_serve_orca = {
    .head = {.version = XPU_SERVE_VERSION,
             .name = "orca",
             .description = "iteration-level continuous batching (Orca), whole length "
                            "reserved on admission",
             .params = orca_params},
    .init = orca_init,
    .fini = rv_fini,
    .on_arrival = rv_arrival,
    .form_batch = orca_form,
    .on_finished = orca_finished,
};
