/* paged.c — the core of the paged-KV serve policies (Kwon et al., "Efficient Memory
 * Management for Large Language Model Serving with PagedAttention", SOSP 2023): KV
 * blocks are taken as tokens come; a request is admitted only while the replica's
 * watermark stays free (xpu_batch_add); when a running request needs a block and none
 * is free, the most recently admitted running request is preempted (by recompute or
 * by swapping), as vLLM's scheduler does, so the oldest requests always progress and a
 * full cache cannot livelock. Swapped requests come back, oldest first, before any new
 * request is admitted.
 *
 * vllm:      a step is either prompts only (waiting requests, whole prompts, up to
 *            max_tokens tokens) or decodes only (every running request), prompts first.
 * sarathi:   Sarathi-Serve's stall-free batches (Agrawal et al., OSDI 2024): every
 *            running decode, then prompt chunks filling a token budget of `chunk`.
 * order=deadline (any of them): waiting requests are admitted earliest deadline first
 *            (requests without one last), for streams with deadlines such as speech.
 * splitwise: disaggregated (Patel et al., "Splitwise", ISCA 2024): replicas of role
 *            prefill run prompts as vllm does; a request whose prompt is done moves,
 *            with its KV cache, to the decode replica with the fewest outstanding
 *            requests that has room, which decodes it. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lists.h"
#include "paged.h"

struct pg {
	struct sl_rep *r;
	int n;
	int mode;
	uint32_t batch, max_tokens, chunk;
	int swap;
	int by_deadline; /* order=deadline: waiting requests by deadline, not arrival */
	int preempted;   /* during one form: a preemption happened */
};

int pg_init(struct xpu_serve *s, int mode)
{
	struct pg *p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->n = xpu_nreplicas(s->eng);
	p->r = sl_reps_new(s->eng);
	p->mode = mode;
	p->batch = (uint32_t)xpu_param_num(s->param, s->nparams, "batch", 256);
	p->max_tokens = (uint32_t)xpu_param_num(s->param, s->nparams, "max_tokens", 4096);
	p->chunk = (uint32_t)xpu_param_num(s->param, s->nparams, "chunk", 512);
	p->swap = !strcmp(xpu_param_str(s->param, s->nparams, "preempt", "recompute"), "swap");
	p->by_deadline =
	    !strcmp(xpu_param_str(s->param, s->nparams, "order", "arrival"), "deadline");
	if (!p->r) {
		free(p);
		return -ENOMEM;
	}
	s->priv = p;
	return 0;
}

void pg_fini(struct xpu_serve *s)
{
	struct pg *p = s->priv;
	sl_reps_free(p->r, p->n);
	free(p);
}

/* Earliest deadline first (no deadline last), ties in arrival order. */
static int deadline_before(uint32_t a, uint32_t b, const struct xpu_engine *e)
{
	const struct xpu_request *x = xpu_request_at(e, a), *y = xpu_request_at(e, b);
	if (x->deadline != y->deadline)
		return x->deadline < y->deadline;
	return a < b;
}

void pg_arrival(struct xpu_serve *s, const struct xpu_request *r, int rep)
{
	struct pg *p = s->priv;
	if (r->state == XPU_REQ_RUNNING) /* its cache came in: a move or a swap-in */
		sl_list_add(&p->r[rep].running, r->index);
	else if (p->by_deadline)
		sl_fifo_insert_by(&p->r[rep].waiting, r->index, deadline_before, s->eng);
	else
		sl_fifo_push(&p->r[rep].waiting, r->index);
}

/* Preempt the newest running request not in the step (possibly r itself): 1 when r
 * was the one, 0 when another was, -1 when none could be. */
static int make_room(struct xpu_serve *s, int rep, const struct xpu_request *r)
{
	struct pg *p = s->priv;
	struct sl_rep *q = &p->r[rep];
	for (uint32_t i = q->running.n; i-- > 0;) {
		const struct xpu_request *v = xpu_request_at(s->eng, q->running.v[i]);
		if (v->in_batch || v->state != XPU_REQ_RUNNING)
			continue;
		if (xpu_request_preempt(s->eng, v, p->swap) &&
		    (!p->swap || xpu_request_preempt(s->eng, v, 0)))
			return -1;
		sl_list_remove(&q->running, v->index);
		if (v->state == XPU_REQ_QUEUED)
			sl_fifo_push_front(&q->waiting, v->index);
		else
			sl_fifo_push(&q->swapped, v->index);
		p->preempted = 1;
		return v == r;
	}
	return -1;
}

/* One token for every running request that decodes; their count. */
static uint32_t decode_all(struct xpu_serve *s, int rep)
{
	struct pg *p = s->priv;
	struct sl_rep *q = &p->r[rep];
	uint32_t i = 0, n = 0;
	while (i < q->running.n) {
		const struct xpu_request *r = xpu_request_at(s->eng, q->running.v[i]);
		if (r->in_batch || r->state != XPU_REQ_RUNNING || r->generated == 0 ||
		    xpu_request_pending(r) != 1) {
			i++;
			continue;
		}
		int rc, gone = 0;
		while ((rc = xpu_batch_add(s->eng, rep, r, 1)) == -ENOSPC) {
			int m = make_room(s, rep, r);
			if (m != 0) {
				gone = m == 1;
				break;
			}
		}
		if (rc == 0)
			n++;
		if (!gone)
			i++;
	}
	return n;
}

static void swap_in(struct xpu_serve *s, int rep)
{
	struct pg *p = s->priv;
	struct sl_rep *q = &p->r[rep];
	while (!p->preempted && q->swapped.len > 0) {
		const struct xpu_request *r = xpu_request_at(s->eng, sl_fifo_peek(&q->swapped));
		if (r->state == XPU_REQ_MOVING)
			break; /* still on its way out */
		if (xpu_request_swap_in(s->eng, r))
			break;
		sl_fifo_pop(&q->swapped);
	}
}

/* New requests' prompts (or chunks of them) within budget tokens: the tokens used. */
static uint32_t admit(struct xpu_serve *s, int rep, uint32_t budget, int chunked)
{
	struct pg *p = s->priv;
	struct sl_rep *q = &p->r[rep];
	uint32_t used = 0;
	if (q->swapped.len > 0)
		return 0; /* the swapped come back first */
	while (q->waiting.len > 0 && q->running.n < p->batch && used < budget) {
		const struct xpu_request *r = xpu_request_at(s->eng, sl_fifo_peek(&q->waiting));
		uint32_t n = xpu_request_pending(r);
		if (chunked && n > budget - used)
			n = budget - used;
		else if (!chunked && used > 0 && n > budget - used)
			break; /* whole prompts; one alone may exceed the budget */
		if (xpu_batch_add(s->eng, rep, r, n))
			break;
		sl_fifo_pop(&q->waiting);
		sl_list_add(&q->running, r->index);
		used += n;
	}
	return used;
}

void pg_form(struct xpu_serve *s, int rep)
{
	struct pg *p = s->priv;
	struct sl_rep *q = &p->r[rep];
	p->preempted = 0;
	if (p->mode == PG_SARATHI) {
		uint32_t used = decode_all(s, rep);
		/* prompts already under way, then new ones, chunk by chunk */
		for (uint32_t i = 0; i < q->running.n && used < p->chunk; i++) {
			const struct xpu_request *r = xpu_request_at(s->eng, q->running.v[i]);
			uint32_t n = xpu_request_pending(r);
			if (r->in_batch || r->state != XPU_REQ_RUNNING || n == 0)
				continue;
			if (n > p->chunk - used)
				n = p->chunk - used;
			if (xpu_batch_add(s->eng, rep, r, n) == 0)
				used += n;
		}
		if (used < p->chunk)
			admit(s, rep, p->chunk - used, 1);
		swap_in(s, rep);
		return;
	}
	/* vllm, and splitwise's replicas: prompts first, alone in their step */
	if (admit(s, rep, p->max_tokens, 0) > 0)
		return;
	decode_all(s, rep);
	swap_in(s, rep);
}

/* Move prefilled requests of prefill replica rep to decode replicas with room. */
static void try_moves(struct xpu_serve *s, int rep)
{
	struct pg *p = s->priv;
	struct sl_rep *q = &p->r[rep];
	struct xpu_engine *e = s->eng;
	uint32_t i = 0;
	while (i < q->moving.n) {
		const struct xpu_request *r = xpu_request_at(e, q->moving.v[i]);
		int best = -1;
		for (int d = 0; d < p->n; d++) {
			if (xpu_replica_at(e, d)->role != XPU_ROLE_DECODE)
				continue;
			if (best < 0 ||
			    xpu_replica_outstanding(e, d) < xpu_replica_outstanding(e, best))
				best = d;
		}
		if (best >= 0 && xpu_request_migrate(e, r, best) == 0) {
			sl_list_remove(&q->moving, r->index);
			continue;
		}
		/* the least loaded is full: any other with room */
		int moved = 0;
		for (int d = 0; d < p->n && !moved; d++)
			if (d != best && xpu_replica_at(e, d)->role == XPU_ROLE_DECODE &&
			    xpu_request_migrate(e, r, d) == 0)
				moved = 1;
		if (moved)
			sl_list_remove(&q->moving, r->index);
		else
			i++;
	}
}

void pg_prefilled(struct xpu_serve *s, const struct xpu_request *r)
{
	struct pg *p = s->priv;
	if (p->mode != PG_SPLIT || xpu_replica_at(s->eng, r->replica)->role != XPU_ROLE_PREFILL)
		return;
	sl_list_remove(&p->r[r->replica].running, r->index);
	sl_list_add(&p->r[r->replica].moving, r->index);
}

void pg_step(struct xpu_serve *s, int rep)
{
	struct pg *p = s->priv;
	(void)rep;
	if (p->mode != PG_SPLIT)
		return;
	for (int i = 0; i < p->n; i++)
		if (p->r[i].moving.n > 0)
			try_moves(s, i);
}

void pg_finished(struct xpu_serve *s, const struct xpu_request *r)
{
	struct pg *p = s->priv;
	sl_list_remove(&p->r[r->replica].running, r->index);
}
