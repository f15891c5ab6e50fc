/* static.c — static batching, as FasterTransformer serves: a batch of up to `batch`
 * waiting requests is formed when the replica is idle, each request's whole length
 * (prompt and output, or the maximum length with reserve=max) reserved in the KV cache
 * at once, and the batch runs, prompts first and then one token per request per step,
 * until its last request has finished; only then does the next batch form. A request
 * that finishes early leaves its slot empty (Yu et al., "Orca", OSDI 2022, section 2.2,
 * describe the cost). The shared part with Orca is reserve.c. */
#include "reserve.h"

static int st_init(struct xpu_serve *s)
{
	return rv_init(s, 8);
}

static void st_form(struct xpu_serve *s, int rep)
{
	struct rv *p = s->priv;
	struct sl_rep *q = &p->r[rep];
	if (q->running.n == 0)
		rv_admit(s, rep);
	for (uint32_t i = 0; i < q->running.n; i++) {
		const struct xpu_request *r = xpu_request_at(s->eng, q->running.v[i]);
		if (r->state == XPU_REQ_RUNNING && xpu_request_pending(r) > 0)
			xpu_batch_add(s->eng, rep, r, xpu_request_pending(r));
	}
}

static void st_finished(struct xpu_serve *s, const struct xpu_request *r)
{
	struct rv *p = s->priv;
	struct sl_rep *q = &p->r[r->replica];
	/* the batch stays closed until every member is done */
	for (uint32_t i = 0; i < q->running.n; i++)
		if (xpu_request_at(s->eng, q->running.v[i])->state != XPU_REQ_DONE)
			return;
	q->running.n = 0;
}

static const struct xpu_param_spec st_params[] = {
    RV_PARAMS("requests per batch (default 8)"),
    {NULL, 0, 0, 0, NULL},
};

const struct xpu_serve_ops xpu_serve_static = {
    .head = {.version = XPU_SERVE_VERSION,
             .name = "static",
             .description = "static batching (FasterTransformer): a batch runs until its "
                            "last request ends",
             .params = st_params},
    .init = st_init,
    .fini = rv_fini,
    .on_arrival = rv_arrival,
    .form_batch = st_form,
    .on_finished = st_finished,
};
