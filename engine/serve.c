/* serve.c — the serving loop (serve.h; xpu.h, "LLM serving"): requests arrive and are
 * routed, each idle replica asks the serve policy for a step, a step is launched stage
 * by stage on the replica's units, and its end advances every request in it by the
 * tokens it processed. KV caches live in paged memory (pages.c), one per replica; moving
 * a cache (swapping, disaggregation) is a copy on the backend.
 *
 * The model of one step (documented in policies/README.md, "Serving"): a batch of T
 * tokens whose attention covers `pairs` (token, earlier token) pairs and reads `ctx`
 * cached tokens does
 *   flops = flops_per_token x T + attn_flops_per_pair x pairs
 *   bytes = the weights it reads + kv_bytes_per_token x (ctx + T)
 * where a dense model reads every weight once per step and a mixture of experts reads
 * the shared weights plus the experts its T tokens touch: E (1 - (1 - k/E)^T) of E
 * when each token picks k at random. A replica of tp x pp units splits both evenly; a
 * stage's launch adds its units' launch latency, two all-reduces per layer when tp > 1
 * (ring: 2 (tp - 1) latencies and 2 (tp - 1) / tp of the activations over the slowest
 * link), and the activations' hop from the previous stage. The backend turns each
 * launch into time by its roofline: max(flops / rate of the class, bytes / memory
 * bandwidth) at the unit's P-state, plus the delay. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "engine_impl.h"
#include "serve.h"

enum move_kind { MOVE_NONE, MOVE_SWAP_OUT, MOVE_SWAP_IN, MOVE_MIGRATE };

struct rep_rt {
	struct xpu_pages *kv;
	int busy;       /* a step is in flight */
	int stage;      /* its stage running now */
	int parts_left; /* launches of that stage not yet done */
	uint32_t *item; /* the step's requests and tokens */
	uint32_t *ntok;
	uint32_t nitem, cap;
	double flops, bytes; /* the step's work, whole replica */
	int cls;
	double tokens; /* the step's tokens */
	double step_start;
	uint32_t outstanding;
	double remaining; /* tokens its requests still have to process */
	int dirty;        /* on the dirty stack */
	double stage_start;
};

struct xpu_serve_rt {
	const struct xpu_serve_cfg *c;
	struct rep_rt *r;
	int *dirty;
	int ndirty;
	uint32_t ndone;
	uint8_t *move; /* per request: enum move_kind in flight */
	int32_t *move_dst;
	uint64_t *tbt_hist;
	uint64_t ntbt;
	double tbt_sum;
	struct xpu_serve_out *out;
	size_t kv_cap;
	struct xpu_serve sv;
	struct xpu_router rt;
	int rc;
};

#define COPY_BIT (1ULL << 63)

/* ------------------------------------------------------------------ step model */

void xpu_step_work(const struct xpu_llm *m, double tokens, double pairs, double ctx_read,
                   double *flops, double *bytes)
{
	double w = m->weight_bytes;
	if (m->experts > 1 && m->expert_bytes > 0) {
		double e = m->experts, k = m->active_experts;
		double touched = e * (1 - pow(1 - k / e, tokens));
		w = (m->weight_bytes - m->expert_bytes) + m->expert_bytes * touched / e;
	}
	*flops = m->flops_per_token * tokens + m->attn_flops_per_pair * pairs;
	*bytes = w + m->kv_bytes_per_token * (ctx_read + tokens);
}

/* Communication of stage s of a step of `tokens` tokens: the tp all-reduces of its
 * layers and the hop from stage s - 1. */
static double stage_comm(const struct xpu_engine *e, const struct xpu_replica *rp, int s,
                         double tokens)
{
	const struct xpu_llm *m = e->sv->c->model;
	double act = tokens * m->act_bytes_per_token, t = 0, lat, bw;
	if (rp->tp > 1) {
		/* the slowest link of the ring bounds it */
		double lmax = 0, bmin = INFINITY;
		for (int k = 0; k < rp->tp; k++) {
			int a = rp->units[s * rp->tp + k],
			    b = rp->units[s * rp->tp + (k + 1) % rp->tp];
			if (xpu_platform_route(e->pf, a, b, &lat, &bw)) {
				if (lat > lmax)
					lmax = lat;
				if (bw < bmin)
					bmin = bw;
			}
		}
		double layers = (double)m->layers / rp->pp;
		double one =
		    2.0 * (rp->tp - 1) * lmax +
		    (isfinite(bmin) && bmin > 0 ? 2.0 * (rp->tp - 1) / rp->tp * act / bmin : 0);
		t += 2 * layers * one;
	}
	if (s > 0 && xpu_platform_route(e->pf, rp->units[(s - 1) * rp->tp], rp->units[s * rp->tp],
	                                &lat, &bw))
		t += lat + (isfinite(bw) && bw > 0 ? act / bw : 0);
	return t;
}

static double unit_seconds(const struct xpu_unit *un, int cls, double flops, double bytes)
{
	double rate = xpu_unit_rate(un, cls, un->pstate) * (un->cores > 0 ? un->cores : 1);
	double t = rate > 0 ? flops / rate : INFINITY;
	if (un->mem_bw > 0 && bytes / un->mem_bw > t)
		t = bytes / un->mem_bw;
	return t + xpu_unit_launch(un, cls);
}

double xpu_step_predict(const struct xpu_engine *e, int rep, double prefill_tokens,
                        double prefill_pairs, double ndecode, double decode_ctx)
{
	if (!e->sv || rep < 0 || rep >= e->sv->c->nrep)
		return INFINITY;
	const struct xpu_replica *rp = &e->sv->c->rep[rep];
	double tokens = prefill_tokens + ndecode, flops, bytes;
	if (!(tokens > 0))
		return 0;
	xpu_step_work(e->sv->c->model, tokens, prefill_pairs + decode_ctx + ndecode, decode_ctx,
	              &flops, &bytes);
	int cls = prefill_tokens > 0 ? XPU_CLASS_LLM_PREFILL : XPU_CLASS_LLM_DECODE;
	double n = (double)rp->tp * rp->pp, t = 0;
	for (int s = 0; s < rp->pp; s++) {
		double worst = 0;
		for (int k = 0; k < rp->tp; k++) {
			double x = unit_seconds(&e->pf->units[rp->units[s * rp->tp + k]], cls,
			                        flops / n, bytes / n);
			if (x > worst)
				worst = x;
		}
		t += worst + stage_comm(e, rp, s, tokens);
	}
	return t;
}

/* ------------------------------------------------------------------ bookkeeping */

static double remaining_of(const struct xpu_request *r)
{
	/* every prompt token and every output token but the last is processed once */
	return (double)r->prompt + r->output - 1 - r->computed;
}

static void mark_dirty(struct xpu_serve_rt *sv, int rep)
{
	if (!sv->r[rep].dirty) {
		sv->r[rep].dirty = 1;
		sv->dirty[sv->ndirty++] = rep;
	}
}

static uint32_t blocks_for(const struct xpu_serve_rt *sv, int rep, double tokens)
{
	double bt = sv->c->rep[rep].block_tokens;
	return (uint32_t)ceil(tokens / bt);
}

static struct xpu_request *req_of(struct xpu_engine *e, const struct xpu_request *r)
{
	struct xpu_serve_rt *sv = e->sv;
	if (!sv || !r || r->index >= sv->c->nreq || &sv->c->req[r->index] != r)
		return NULL;
	return &sv->c->req[r->index];
}

static void kv_row(struct xpu_serve_rt *sv, int rep, double now)
{
	struct xpu_serve_out *o = sv->out;
	uint32_t total = xpu_pages_total(sv->r[rep].kv),
	         used = total - xpu_pages_free_blocks(sv->r[rep].kv);
	if (sv->c->observe)
		sv->c->observe(sv->c->observe_ctx, rep, used, total, now);
	if (o->nkv == sv->kv_cap) {
		size_t cap = sv->kv_cap ? sv->kv_cap * 2 : 1024;
		double *t = realloc(o->kv_t, cap * sizeof(*t));
		if (t)
			o->kv_t = t;
		int32_t *rr = realloc(o->kv_rep, cap * sizeof(*rr));
		if (rr)
			o->kv_rep = rr;
		double *u = realloc(o->kv_used, cap * sizeof(*u));
		if (u)
			o->kv_used = u;
		if (!t || !rr || !u) {
			sv->rc = -ENOMEM;
			return;
		}
		sv->kv_cap = cap;
	}
	o->kv_t[o->nkv] = now;
	o->kv_rep[o->nkv] = rep;
	o->kv_used[o->nkv] = total ? (double)used / total : 0;
	o->nkv++;
}

/* ------------------------------------------------------------------ services */

const struct xpu_llm *xpu_serve_model(const struct xpu_engine *e)
{
	return e->sv ? e->sv->c->model : NULL;
}

int xpu_nreplicas(const struct xpu_engine *e)
{
	return e->sv ? e->sv->c->nrep : 0;
}

const struct xpu_replica *xpu_replica_at(const struct xpu_engine *e, int rep)
{
	return e->sv && rep >= 0 && rep < e->sv->c->nrep ? &e->sv->c->rep[rep] : NULL;
}

uint32_t xpu_nrequests(const struct xpu_engine *e)
{
	return e->sv ? e->sv->c->nreq : 0;
}

const struct xpu_request *xpu_request_at(const struct xpu_engine *e, uint32_t i)
{
	return e->sv && i < e->sv->c->nreq ? &e->sv->c->req[i] : NULL;
}

int xpu_replica_accepts(const struct xpu_engine *e, int rep)
{
	const struct xpu_replica *rp = xpu_replica_at(e, rep);
	return rp && rp->role != XPU_ROLE_DECODE;
}

uint32_t xpu_replica_outstanding(const struct xpu_engine *e, int rep)
{
	return xpu_replica_at(e, rep) ? e->sv->r[rep].outstanding : 0;
}

double xpu_replica_tokens(const struct xpu_engine *e, int rep)
{
	return xpu_replica_at(e, rep) ? e->sv->r[rep].remaining : 0;
}

uint32_t xpu_replica_free_blocks(const struct xpu_engine *e, int rep)
{
	return xpu_replica_at(e, rep) ? xpu_pages_free_blocks(e->sv->r[rep].kv) : 0;
}

uint32_t xpu_request_blocks_for(const struct xpu_engine *e, const struct xpu_request *r,
                                uint32_t ntokens)
{
	if (!e->sv || !r || r->replica < 0)
		return 0;
	uint32_t need = blocks_for(e->sv, r->replica, (double)r->computed + ntokens);
	return need > r->blocks ? need - r->blocks : 0;
}

int xpu_replica_busy(const struct xpu_engine *e, int rep)
{
	return xpu_replica_at(e, rep) ? e->sv->r[rep].busy : 0;
}

/* Give r blocks for `tokens` tokens in all on its replica: admitting a QUEUED one. */
static int take_blocks(struct xpu_serve_rt *sv, struct xpu_request *r, double tokens)
{
	struct rep_rt *rr = &sv->r[r->replica];
	uint32_t need = blocks_for(sv, r->replica, tokens);
	if (need <= r->blocks && r->state == XPU_REQ_RUNNING)
		return 0;
	uint32_t more = need > r->blocks ? need - r->blocks : 0;
	int rc;
	if (r->state == XPU_REQ_QUEUED || r->state == XPU_REQ_SWAPPED) {
		rc = xpu_pages_admit(rr->kv, r->index, more ? more : 1);
		if (rc == 0)
			r->blocks = more ? more : 1;
	} else {
		rc = xpu_pages_grow(rr->kv, r->index, more);
		if (rc == 0)
			r->blocks += more;
	}
	return rc == -E2BIG ? -ENOSPC : rc;
}

int xpu_batch_add(struct xpu_engine *e, int rep, const struct xpu_request *cr, uint32_t n)
{
	struct xpu_request *r = req_of(e, cr);
	struct xpu_serve_rt *sv = e->sv;
	if (!r || rep < 0 || rep >= sv->c->nrep || r->replica != rep || r->in_batch || n == 0 ||
	    n > xpu_request_pending(r) || sv->r[rep].busy ||
	    (r->state != XPU_REQ_QUEUED && r->state != XPU_REQ_RUNNING))
		return -EINVAL;
	struct rep_rt *rr = &sv->r[rep];
	int rc = take_blocks(sv, r, (double)r->computed + n);
	if (rc)
		return rc;
	if (rr->nitem == rr->cap) {
		uint32_t cap = rr->cap ? rr->cap * 2 : 64;
		uint32_t *a = realloc(rr->item, cap * sizeof(*a));
		if (a)
			rr->item = a;
		uint32_t *b = realloc(rr->ntok, cap * sizeof(*b));
		if (b)
			rr->ntok = b;
		if (!a || !b)
			return -ENOMEM;
		rr->cap = cap;
	}
	r->state = XPU_REQ_RUNNING;
	r->in_batch = 1;
	rr->item[rr->nitem] = r->index;
	rr->ntok[rr->nitem++] = n;
	return 0;
}

int xpu_request_reserve(struct xpu_engine *e, const struct xpu_request *cr, uint32_t total)
{
	struct xpu_request *r = req_of(e, cr);
	if (!r || r->in_batch || total < r->computed ||
	    (r->state != XPU_REQ_QUEUED && r->state != XPU_REQ_RUNNING))
		return -EINVAL;
	int rc = take_blocks(e->sv, r, total);
	if (rc)
		return rc;
	r->state = XPU_REQ_RUNNING;
	return 0;
}

static int start_copy(struct xpu_engine *e, struct xpu_request *r, int src, int dst, double bytes,
                      int kind, int dst_rep)
{
	struct xpu_serve_rt *sv = e->sv;
	struct xpu_copy c = {.cookie = COPY_BIT | r->index,
	                     .datum = 0,
	                     .bytes = bytes,
	                     .src_unit = src,
	                     .dst_unit = dst,
	                     .src_pool = e->pf->units[src].mem_pool,
	                     .dst_pool = e->pf->units[dst].mem_pool};
	int rc = e->be->ops->copy(e->be, &c);
	if (rc)
		return rc;
	sv->move[r->index] = (uint8_t)kind;
	sv->move_dst[r->index] = dst_rep;
	r->state = XPU_REQ_MOVING;
	e->in_flight++;
	return 0;
}

int xpu_request_preempt(struct xpu_engine *e, const struct xpu_request *cr, int swap)
{
	struct xpu_request *r = req_of(e, cr);
	if (!r || r->in_batch || r->state != XPU_REQ_RUNNING)
		return -EINVAL;
	struct xpu_serve_rt *sv = e->sv;
	int rep = r->replica;
	if (swap && sv->c->host_unit < 0)
		return -EINVAL;
	sv->r[rep].remaining -= remaining_of(r);
	xpu_pages_release(sv->r[rep].kv, r->index);
	r->blocks = 0;
	r->preemptions++;
	sv->out->preemptions++;
	if (swap && r->computed > 0) {
		int rc =
		    start_copy(e, r, sv->c->rep[rep].units[0], sv->c->host_unit,
		               r->computed * sv->c->model->kv_bytes_per_token, MOVE_SWAP_OUT, rep);
		if (rc) {
			sv->rc = rc;
			return rc;
		}
		sv->out->swaps++;
	} else {
		r->computed = 0;
		r->state = XPU_REQ_QUEUED;
	}
	sv->r[rep].remaining += remaining_of(r);
	mark_dirty(sv, rep);
	return 0;
}

int xpu_request_swap_in(struct xpu_engine *e, const struct xpu_request *cr)
{
	struct xpu_request *r = req_of(e, cr);
	if (!r || r->state != XPU_REQ_SWAPPED)
		return -EINVAL;
	struct xpu_serve_rt *sv = e->sv;
	int rc = take_blocks(sv, r, r->computed);
	if (rc)
		return rc;
	rc = start_copy(e, r, sv->c->host_unit, sv->c->rep[r->replica].units[0],
	                r->computed * sv->c->model->kv_bytes_per_token, MOVE_SWAP_IN, r->replica);
	if (rc)
		sv->rc = rc;
	return rc;
}

int xpu_request_migrate(struct xpu_engine *e, const struct xpu_request *cr, int dst)
{
	struct xpu_request *r = req_of(e, cr);
	struct xpu_serve_rt *sv = e->sv;
	if (!r || r->in_batch || r->state != XPU_REQ_RUNNING || dst < 0 || dst >= sv->c->nrep ||
	    dst == r->replica || r->computed < r->prompt)
		return -EINVAL;
	/* dst's blocks now: the cache lands in memory that is already its own */
	uint32_t need = blocks_for(sv, dst, r->computed + 1);
	int rc = xpu_pages_admit(sv->r[dst].kv, r->index, need);
	if (rc)
		return rc == -E2BIG ? -ENOSPC : rc;
	rc = start_copy(e, r, sv->c->rep[r->replica].units[0], sv->c->rep[dst].units[0],
	                r->computed * sv->c->model->kv_bytes_per_token, MOVE_MIGRATE, dst);
	if (rc) {
		xpu_pages_release(sv->r[dst].kv, r->index);
		sv->rc = rc;
		return rc;
	}
	sv->out->migrations++;
	return 0;
}

/* ------------------------------------------------------------------ steps */

static int launch_stage(struct xpu_engine *e, int rep)
{
	struct xpu_serve_rt *sv = e->sv;
	const struct xpu_replica *rp = &sv->c->rep[rep];
	struct rep_rt *rr = &sv->r[rep];
	double n = (double)rp->tp * rp->pp;
	double comm = stage_comm(e, rp, rr->stage, rr->tokens);
	rr->parts_left = rp->tp;
	rr->stage_start = e->now;
	for (int k = 0; k < rp->tp; k++) {
		int u = rp->units[rr->stage * rp->tp + k];
		const struct xpu_unit *un = &e->pf->units[u];
		struct xpu_launch l = {.unit = u,
		                       .cookie = ((uint64_t)rep << 20) | (uint64_t)k,
		                       .cls = rr->cls,
		                       .flops = rr->flops / n,
		                       .bytes = rr->bytes / n,
		                       .width = (uint32_t)(un->cores > 0 ? un->cores : 1),
		                       .delay = xpu_unit_launch(un, rr->cls) + comm};
		int rc = e->be->ops->launch(e->be, &l);
		if (rc)
			return rc;
		e->in_flight++;
	}
	return 0;
}

static int start_step(struct xpu_engine *e, int rep)
{
	struct xpu_serve_rt *sv = e->sv;
	struct rep_rt *rr = &sv->r[rep];
	const struct xpu_request *req = sv->c->req;
	double tokens = 0, pairs = 0, ctx = 0;
	int prefill = 0;
	for (uint32_t i = 0; i < rr->nitem; i++) {
		const struct xpu_request *r = &req[rr->item[i]];
		double c0 = r->computed, nt = rr->ntok[i];
		tokens += nt;
		ctx += c0;
		pairs += nt * c0 + nt * (nt + 1) / 2;
		if (!(r->generated > 0 && xpu_request_pending(r) == 1))
			prefill = 1;
	}
	xpu_step_work(sv->c->model, tokens, pairs, ctx, &rr->flops, &rr->bytes);
	rr->tokens = tokens;
	rr->cls = prefill ? XPU_CLASS_LLM_PREFILL : XPU_CLASS_LLM_DECODE;
	rr->stage = 0;
	rr->busy = 1;
	rr->step_start = e->now;
	sv->out->steps++;
	kv_row(sv, rep, e->now);
	return launch_stage(e, rep);
}

static void tbt_add(struct xpu_serve_rt *sv, double gap)
{
	double x = gap / XPU_TBT_MIN;
	long b = x > 1 ? (long)(log(x) / log(XPU_TBT_GROWTH)) : 0;
	if (b >= XPU_TBT_BUCKETS)
		b = XPU_TBT_BUCKETS - 1;
	sv->tbt_hist[b]++;
	sv->ntbt++;
	sv->tbt_sum += gap;
}

static void end_step(struct xpu_engine *e, int rep)
{
	struct xpu_serve_rt *sv = e->sv;
	struct rep_rt *rr = &sv->r[rep];
	const struct xpu_replica *rp = &sv->c->rep[rep];
	double now = e->now;
	for (int i = 0; i < rp->tp * rp->pp; i++)
		e->us[rp->units[i]].tasks++;
	rr->busy = 0;
	uint32_t nitem = rr->nitem;
	rr->nitem = 0;
	for (uint32_t i = 0; i < nitem; i++) {
		struct xpu_request *r = &sv->c->req[rr->item[i]];
		r->in_batch = 0;
		rr->remaining -= rr->ntok[i];
		r->computed += rr->ntok[i];
		if (r->computed < r->prompt + r->generated)
			continue; /* a prefill chunk: no token yet */
		r->generated++;
		if (isnan(r->first_token_t)) {
			r->first_token_t = now;
		} else {
			double gap = now - r->last_token_t;
			if (gap > r->tbt_max)
				r->tbt_max = gap;
			tbt_add(sv, gap);
		}
		r->last_token_t = now;
		if (r->generated >= r->output) {
			r->end_t = now;
			r->state = XPU_REQ_DONE;
			xpu_pages_release(rr->kv, r->index);
			r->blocks = 0;
			rr->outstanding--;
			sv->ndone++;
		}
	}
	/* the policy hears of every change once the step's bookkeeping is whole */
	for (uint32_t i = 0; i < nitem; i++) {
		const struct xpu_request *r = &sv->c->req[rr->item[i]];
		if (r->state == XPU_REQ_DONE) {
			if (sv->sv.ops->on_finished)
				sv->sv.ops->on_finished(&sv->sv, r);
		} else if (r->generated == 1 && r->first_token_t == now &&
		           sv->sv.ops->on_prefilled) {
			sv->sv.ops->on_prefilled(&sv->sv, r);
		}
	}
	if (sv->sv.ops->on_step)
		sv->sv.ops->on_step(&sv->sv, rep);
	mark_dirty(sv, rep);
}

static void on_copy_done(struct xpu_engine *e, uint32_t i)
{
	struct xpu_serve_rt *sv = e->sv;
	struct xpu_request *r = &sv->c->req[i];
	int kind = sv->move[i], dst = sv->move_dst[i];
	sv->move[i] = MOVE_NONE;
	switch (kind) {
	case MOVE_SWAP_OUT:
		r->state = XPU_REQ_SWAPPED;
		mark_dirty(sv, r->replica);
		break;
	case MOVE_SWAP_IN:
		r->state = XPU_REQ_RUNNING;
		mark_dirty(sv, r->replica);
		if (sv->sv.ops->on_arrival)
			sv->sv.ops->on_arrival(&sv->sv, r, r->replica);
		break;
	case MOVE_MIGRATE: {
		int src = r->replica;
		struct rep_rt *a = &sv->r[src], *b = &sv->r[dst];
		a->remaining -= remaining_of(r);
		a->outstanding--;
		xpu_pages_release(a->kv, r->index);
		/* the blocks dst gave when the move began are r's own there */
		r->blocks = xpu_pages_held(b->kv, r->index, NULL);
		r->replica = dst;
		r->state = XPU_REQ_RUNNING;
		b->remaining += remaining_of(r);
		b->outstanding++;
		mark_dirty(sv, src);
		mark_dirty(sv, dst);
		if (sv->sv.ops->on_arrival)
			sv->sv.ops->on_arrival(&sv->sv, r, dst);
		break;
	}
	default:
		break;
	}
}

/* ------------------------------------------------------------------ the loop */

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static double nearest_rank(const double *sorted, size_t n, double p)
{
	if (!n)
		return NAN;
	size_t rank = (size_t)ceil(p / 100.0 * (double)n);
	if (rank < 1)
		rank = 1;
	if (rank > n)
		rank = n;
	return sorted[rank - 1];
}

static double tbt_percentile(const struct xpu_serve_rt *sv, double p)
{
	if (!sv->ntbt)
		return NAN;
	uint64_t rank = (uint64_t)ceil(p / 100.0 * (double)sv->ntbt), seen = 0;
	if (rank < 1)
		rank = 1;
	for (long b = 0; b < XPU_TBT_BUCKETS; b++) {
		seen += sv->tbt_hist[b];
		if (seen >= rank) /* the bucket's geometric middle */
			return XPU_TBT_MIN * pow(XPU_TBT_GROWTH, b + 0.5);
	}
	return NAN;
}

static void put(struct xpu_summary *s, const char *key, double v)
{
	if (s->n < XPU_MAX_METRICS)
		s->m[s->n++] = (struct xpu_metric){key, v};
}

static void summarize(struct xpu_engine *e)
{
	struct xpu_serve_rt *sv = e->sv;
	const struct xpu_serve_cfg *c = sv->c;
	struct xpu_summary *s = &sv->out->summary;
	uint32_t n = c->nreq;
	double *ttft = malloc((n + 1) * sizeof(double)), *e2e = malloc((n + 1) * sizeof(double)),
	       *tpot = malloc((n + 1) * sizeof(double));
	double first = INFINITY, last = 0, tokens = 0, prompt = 0, energy = 0;
	uint32_t done = 0, ntpot = 0, good = 0, misses = 0;
	for (uint32_t i = 0; i < n; i++) {
		const struct xpu_request *r = &c->req[i];
		if (r->arrival < first)
			first = r->arrival;
		if (isfinite(r->deadline) && !(r->state == XPU_REQ_DONE && r->end_t <= r->deadline))
			misses++;
		if (r->state != XPU_REQ_DONE)
			continue;
		if (ttft && e2e) {
			ttft[done] = r->first_token_t - r->arrival;
			e2e[done] = r->end_t - r->arrival;
		}
		done++;
		if (r->end_t > last)
			last = r->end_t;
		tokens += r->generated;
		prompt += r->prompt;
		if (r->generated > 1 && tpot)
			tpot[ntpot++] = (r->end_t - r->first_token_t) / (r->generated - 1);
		if (r->first_token_t - r->arrival <= c->slo_ttft &&
		    (r->generated < 2 || r->tbt_max <= c->slo_tbt))
			good++;
	}
	double deployed = 0;
	for (int u = 0; u < c->pf->nunits; u++)
		energy += sv->out->us[u].energy_j;
	for (int i = 0; i < c->nrep; i++)
		for (int k = 0; k < c->rep[i].tp * c->rep[i].pp; k++)
			deployed += sv->out->us[c->rep[i].units[k]].energy_j;
	double span = done ? last - (isfinite(first) ? first : 0) : 0;
	if (ttft && e2e && tpot) {
		qsort(ttft, done, sizeof(double), cmp_double);
		qsort(e2e, done, sizeof(double), cmp_double);
		qsort(tpot, ntpot, sizeof(double), cmp_double);
	}
	put(s, "requests_done", done);
	put(s, "requests_failed", n - done);
	put(s, "makespan_s", span);
	put(s, "energy_j", energy);
	put(s, "tokens_generated", tokens);
	put(s, "prompt_tokens", prompt);
	put(s, "tokens_per_s", span > 0 ? tokens / span : 0);
	put(s, "requests_per_s", span > 0 ? done / span : 0);
	put(s, "deploy_energy_j", deployed);
	put(s, "joules_per_token", tokens > 0 ? deployed / tokens : NAN);
	static const double pc[3] = {50, 90, 99};
	static const char *const kt[3] = {"ttft_p50_s", "ttft_p90_s", "ttft_p99_s"};
	static const char *const kb[3] = {"tbt_p50_s", "tbt_p90_s", "tbt_p99_s"};
	static const char *const kp[3] = {"tpot_p50_s", "tpot_p90_s", "tpot_p99_s"};
	static const char *const ke[3] = {"e2e_p50_s", "e2e_p90_s", "e2e_p99_s"};
	for (int i = 0; i < 3; i++) {
		put(s, kt[i], ttft ? nearest_rank(ttft, done, pc[i]) : NAN);
		put(s, kb[i], tbt_percentile(sv, pc[i]));
		put(s, kp[i], tpot ? nearest_rank(tpot, ntpot, pc[i]) : NAN);
		put(s, ke[i], e2e ? nearest_rank(e2e, done, pc[i]) : NAN);
	}
	put(s, "tbt_mean_s", sv->ntbt ? sv->tbt_sum / sv->ntbt : NAN);
	put(s, "preemptions", (double)sv->out->preemptions);
	put(s, "deadline_misses", misses);
	put(s, "steps", (double)sv->out->steps);
	double peak = 0;
	for (size_t i = 0; i < sv->out->nkv; i++)
		if (sv->out->kv_used[i] > peak)
			peak = sv->out->kv_used[i];
	put(s, "kv_peak_frac", peak);
	put(s, "slo_attained", n ? (double)good / n : 0);
	put(s, "goodput_rps", span > 0 ? good / span : 0);
	free(ttft);
	free(e2e);
	free(tpot);
}

static void route(struct xpu_engine *e, struct xpu_request *r)
{
	struct xpu_serve_rt *sv = e->sv;
	int rep = sv->rt.ops->route ? sv->rt.ops->route(&sv->rt, r) : -1;
	if (!xpu_replica_accepts(e, rep)) {
		/* a router's mistake is not the run's end: the first replica that takes
		 * new requests serves it */
		for (rep = 0; rep < sv->c->nrep && !xpu_replica_accepts(e, rep); rep++)
			;
	}
	r->replica = rep;
	r->state = XPU_REQ_QUEUED;
	sv->r[rep].outstanding++;
	sv->r[rep].remaining += remaining_of(r);
	if (sv->sv.ops->on_arrival)
		sv->sv.ops->on_arrival(&sv->sv, r, rep);
	mark_dirty(sv, rep);
}

static void on_event(struct xpu_engine *e, const struct xpu_event *ev)
{
	struct xpu_serve_rt *sv = e->sv;
	e->in_flight--;
	if (ev->status) {
		sv->rc = ev->status;
		xpu_errf(sv->c->err, NULL, 0, "a serving step or copy failed on the backend: %s",
		         strerror(-ev->status));
		return;
	}
	if (ev->cookie & COPY_BIT) {
		on_copy_done(e, (uint32_t)(ev->cookie & 0xffffffffu));
		return;
	}
	int rep = (int)(ev->cookie >> 20);
	struct rep_rt *rr = &sv->r[rep];
	const struct xpu_replica *rp = &sv->c->rep[rep];
	int u = rp->units[rr->stage * rp->tp + (int)(ev->cookie & 0xfffff)];
	e->us[u].busy_s += e->now - rr->stage_start;
	if (--rr->parts_left > 0)
		return;
	if (rr->stage + 1 < rp->pp) {
		rr->stage++;
		int rc = launch_stage(e, rep);
		if (rc)
			sv->rc = rc;
		return;
	}
	end_step(e, rep);
}

static void serve_body(void *arg)
{
	struct xpu_engine *e = arg;
	struct xpu_serve_rt *sv = e->sv;
	const struct xpu_serve_cfg *c = sv->c;
	struct xpu_event ev[64];
	uint32_t next = 0;
	e->now = e->be->ops->now(e->be);
	for (;;) {
		while (next < c->nreq && c->req[next].arrival <= e->now)
			route(e, &c->req[next++]);
		while (sv->ndirty > 0 && !sv->rc) {
			int rep = sv->dirty[--sv->ndirty];
			sv->r[rep].dirty = 0;
			if (sv->r[rep].busy)
				continue;
			if (sv->sv.ops->form_batch)
				sv->sv.ops->form_batch(&sv->sv, rep);
			if (sv->r[rep].nitem > 0 && !sv->rc) {
				int rc = start_step(e, rep);
				if (rc)
					sv->rc = rc;
			}
		}
		if (sv->rc || sv->ndone == c->nreq)
			break;
		double until = next < c->nreq ? c->req[next].arrival : INFINITY;
		if (e->in_flight == 0 && until == INFINITY) {
			sv->rc = -EDEADLK;
			xpu_errf(c->err, NULL, 0,
			         "serve policy '%s' started no step while %u request(s) wait: "
			         "nothing would ever finish them",
			         c->serve->head.name, c->nreq - sv->ndone);
			break;
		}
		int n = e->be->ops->wait(e->be, until, ev, 64);
		e->now = e->be->ops->now(e->be);
		if (n < 0) {
			sv->rc = n;
			break;
		}
		for (int i = 0; i < n && !sv->rc; i++)
			on_event(e, &ev[i]);
	}
}

void xpu_serve_out_free(struct xpu_serve_out *o, int nunits)
{
	if (!o)
		return;
	for (int u = 0; o->us && u < nunits; u++)
		free(o->us[u].residency_s);
	free(o->us);
	free(o->kv_t);
	free(o->kv_rep);
	free(o->kv_used);
	memset(o, 0, sizeof(*o));
}

int xpu_serve_run(const struct xpu_serve_cfg *c, struct xpu_serve_out *out)
{
	struct xpu_serve_rt sv = {.c = c, .out = out};
	struct xpu_engine e = {0};
	int nunits = c->pf->nunits, rc = 0;
	memset(out, 0, sizeof(*out));
	e.pf = c->pf;
	e.be = c->be;
	e.err = c->err;
	e.sv = &sv;
	eng_seed(e.rng, c->seed);
	out->us = calloc((size_t)nunits + 1, sizeof(*out->us));
	sv.r = calloc((size_t)c->nrep + 1, sizeof(*sv.r));
	sv.dirty = calloc((size_t)c->nrep + 1, sizeof(*sv.dirty));
	sv.move = calloc((size_t)c->nreq + 1, 1);
	sv.move_dst = calloc((size_t)c->nreq + 1, sizeof(*sv.move_dst));
	sv.tbt_hist = calloc(XPU_TBT_BUCKETS, sizeof(*sv.tbt_hist));
	e.us = out->us;
	if (!out->us || !sv.r || !sv.dirty || !sv.move || !sv.move_dst || !sv.tbt_hist) {
		rc = -ENOMEM;
		goto out;
	}
	for (int u = 0; u < nunits; u++) {
		out->us[u].residency_s =
		    calloc((size_t)c->pf->units[u].npstates + 1, sizeof(double));
		out->us[u].max_temp_c = NAN;
		if (!out->us[u].residency_s) {
			rc = -ENOMEM;
			goto out;
		}
	}
	for (int i = 0; i < c->nrep; i++) {
		const struct xpu_replica *rp = &c->rep[i];
		double block = (double)rp->block_tokens;
		sv.r[i].kv = xpu_pages_new((double)rp->kv_blocks * block, block, c->watermark);
		if (!sv.r[i].kv) {
			rc = -ENOMEM;
			goto out;
		}
	}
	for (uint32_t i = 0; i < c->nreq; i++) {
		struct xpu_request *r = &c->req[i];
		r->index = i;
		r->state = XPU_REQ_PENDING;
		r->replica = -1;
		r->computed = r->generated = r->blocks = r->preemptions = 0;
		r->in_batch = 0;
		r->first_token_t = r->last_token_t = r->end_t = NAN;
		r->tbt_max = 0;
		r->serve_data = NULL;
		if (!(r->deadline > 0))
			r->deadline = INFINITY;
	}
	sv.sv = (struct xpu_serve){c->serve, &e, NULL, c->nserve_params, c->serve_params};
	sv.rt = (struct xpu_router){c->router, &e, NULL, c->nrouter_params, c->router_params};
	if (c->serve->init && (rc = c->serve->init(&sv.sv)))
		goto out;
	if (c->router->init && (rc = c->router->init(&sv.rt))) {
		if (c->serve->fini)
			c->serve->fini(&sv.sv);
		goto out;
	}
	rc = c->be->ops->run(c->be, serve_body, &e);
	if (!rc)
		rc = sv.rc;
	if (c->router->fini)
		c->router->fini(&sv.rt);
	if (c->serve->fini)
		c->serve->fini(&sv.sv);
	if (rc) {
		if (!c->err->msg[0])
			xpu_errf(c->err, NULL, 0, "serving run failed: %s", strerror(-rc));
		goto out;
	}
	for (int u = 0; u < nunits; u++) {
		int modeled = 0;
		double j = 0;
		if (c->be->ops->read_energy && c->be->ops->read_energy(c->be, u, &j, &modeled) == 0)
			out->us[u].energy_j = j;
		/* P-states do not change in a serving run: all the time is in the current */
		out->us[u].residency_s[c->pf->units[u].pstate] = e.now;
	}
	if (c->be->ops->read_link_energy)
		c->be->ops->read_link_energy(c->be, &out->link_energy_j);
	summarize(&e);
out:
	for (int i = 0; sv.r && i < c->nrep; i++) {
		xpu_pages_free(sv.r[i].kv);
		free(sv.r[i].item);
		free(sv.r[i].ntok);
	}
	free(sv.r);
	free(sv.dirty);
	free(sv.move);
	free(sv.move_dst);
	free(sv.tbt_hist);
	if (rc)
		xpu_serve_out_free(out, nunits);
	return rc;
}
