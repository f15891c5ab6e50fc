/* heft.c — Heterogeneous Earliest Finish Time, insertion-based (Topcuoglu, Hariri and
 * Wu, "Performance-effective and low-complexity task scheduling for heterogeneous
 * computing", IEEE TPDS 13(3), 2002).
 *
 * Tasks are planned in batches: every task submitted at one instant is ranked by its
 * upward rank, rank_u(i) = w_i + max over successors j of (c_ij + rank_u(j)), where w_i
 * is i's mean predicted duration over the units that can run it and c_ij the mean
 * transfer time of the edge over distinct unit pairs. In decreasing rank order each task
 * goes to the unit giving the earliest finish time, using the earliest idle gap on that
 * unit's plan that is long enough (insertion). The plan is handed to the engine with
 * xpu_place and the planned start as queue order, so the engine runs it as planned. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "xpu.h"

struct slot {
	double start, end;
};

struct uplan {
	struct slot *s; /* sorted by start */
	size_t n, cap;
};

struct heft {
	uint32_t *pending; /* submitted, not yet planned */
	size_t npending, cap;
	double *aft;       /* planned finish per task */
	double *rank;
	uint32_t *topo;    /* position in a topological order of the batch */
	char *in_batch;
	struct uplan *plan;
	double mean_lat, mean_inv_bw; /* over distinct unit pairs with a copy */
	double pair_frac;             /* fraction of distinct pairs that copy */
};

static int heft_init(struct xpu_sched *s)
{
	struct heft *h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	s->priv = h;
	uint32_t n = xpu_ntasks(s->eng);
	int p = xpu_nunits(s->eng);
	h->aft = calloc((size_t)n + 1, sizeof(double));
	h->rank = calloc((size_t)n + 1, sizeof(double));
	h->topo = calloc((size_t)n + 1, sizeof(uint32_t));
	h->in_batch = calloc((size_t)n + 1, 1);
	h->plan = calloc((size_t)p, sizeof(struct uplan));
	if (!h->aft || !h->rank || !h->topo || !h->in_batch || !h->plan)
		return -ENOMEM;
	/* Mean transfer cost terms over ordered pairs of distinct units; pairs that
	 * share memory cost nothing and count as zero. */
	const struct xpu_platform *pf = xpu_platform_of(s->eng);
	double lat = 0, inv = 0;
	long pairs = 0, copying = 0;
	for (int a = 0; a < p; a++)
		for (int b = 0; b < p; b++) {
			if (a == b)
				continue;
			pairs++;
			if (pf->units[a].mem_pool == pf->units[b].mem_pool)
				continue;
			size_t k = (size_t)a * (size_t)p + (size_t)b;
			if (pf->bw[k] <= 0)
				continue;
			copying++;
			lat += pf->lat[k];
			inv += 1.0 / pf->bw[k];
		}
	if (pairs) {
		h->mean_lat = lat / pairs;
		h->mean_inv_bw = inv / pairs;
		h->pair_frac = (double)copying / pairs;
	}
	return 0;
}

static void heft_fini(struct xpu_sched *s)
{
	struct heft *h = s->priv;
	if (!h)
		return;
	for (int u = 0; h->plan && u < xpu_nunits(s->eng); u++)
		free(h->plan[u].s);
	free(h->plan);
	free(h->pending);
	free(h->aft);
	free(h->rank);
	free(h->topo);
	free(h->in_batch);
	free(h);
}

static void heft_on_submit(struct xpu_sched *s, struct xpu_task *t)
{
	struct heft *h = s->priv;
	if (h->npending == h->cap) {
		size_t cap = h->cap ? 2 * h->cap : 64;
		uint32_t *p = realloc(h->pending, cap * sizeof(*p));
		if (!p)
			return; /* left unplanned: the engine's stall check fails it */
		h->pending = p;
		h->cap = cap;
	}
	h->pending[h->npending++] = t->index;
}

static double mean_cost(const struct xpu_sched *s, const struct xpu_task *t)
{
	double sum = 0;
	int n = 0;
	for (int u = 0; u < xpu_nunits(s->eng); u++)
		if (xpu_can_run(s->eng, t, u)) {
			sum += xpu_predict(s->eng, t, u);
			n++;
		}
	return n ? sum / n : 0;
}

static double mean_comm(const struct heft *h, double bytes)
{
	if (bytes <= 0)
		return 0;
	return h->mean_lat + bytes * h->mean_inv_bw;
}

static struct heft *cmp_ctx;

static int by_rank(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	double rx = cmp_ctx->rank[x], ry = cmp_ctx->rank[y];
	if (rx != ry)
		return rx > ry ? -1 : 1;
	/* equal ranks (zero costs): keep a topological order */
	return cmp_ctx->topo[x] < cmp_ctx->topo[y] ? -1 : cmp_ctx->topo[x] > cmp_ctx->topo[y];
}

/* Earliest start >= ready of a gap of length dur in u's plan (insertion policy). */
static double find_gap(const struct uplan *pl, double ready, double dur)
{
	double t = ready;
	for (size_t i = 0; i < pl->n; i++) {
		if (pl->s[i].end <= t)
			continue;
		if (pl->s[i].start >= t + dur)
			return t;
		t = pl->s[i].end;
	}
	return t;
}

static int add_slot(struct uplan *pl, double start, double end)
{
	if (pl->n == pl->cap) {
		size_t cap = pl->cap ? 2 * pl->cap : 16;
		struct slot *x = realloc(pl->s, cap * sizeof(*x));
		if (!x)
			return -ENOMEM;
		pl->s = x;
		pl->cap = cap;
	}
	size_t i = pl->n;
	while (i > 0 && pl->s[i - 1].start > start) {
		pl->s[i] = pl->s[i - 1];
		i--;
	}
	pl->s[i] = (struct slot){start, end};
	pl->n++;
	return 0;
}

/* Drop slots that ended before now: no new task can use a gap in the past. */
static void prune(struct uplan *pl, double now)
{
	size_t k = 0;
	for (size_t i = 0; i < pl->n; i++)
		if (pl->s[i].end > now || i + 1 == pl->n)
			pl->s[k++] = pl->s[i];
	pl->n = k;
}

/* Finish time of a producer as the plan knows it. */
static double producer_end(const struct heft *h, const struct xpu_task *p)
{
	if (p->state == XPU_TASK_DONE || p->state == XPU_TASK_FAILED)
		return p->end_t;
	return h->aft[p->index];
}

static void plan_batch(struct xpu_sched *s)
{
	struct heft *h = s->priv;
	struct xpu_engine *e = s->eng;
	size_t n = h->npending;
	if (!n)
		return;
	double now = xpu_now(e);
	for (size_t i = 0; i < n; i++)
		h->in_batch[h->pending[i]] = 1;

	/* Topological order of the batch (Kahn), then upward ranks from the sinks. */
	uint32_t *order = malloc(n * sizeof(*order));
	uint32_t *indeg = calloc(n, sizeof(*indeg));
	if (!order || !indeg)
		goto out;
	/* map task -> batch slot through topo[] temporarily */
	for (size_t i = 0; i < n; i++)
		h->topo[h->pending[i]] = (uint32_t)i;
	for (size_t i = 0; i < n; i++) {
		const struct xpu_task *t = xpu_task_at(e, h->pending[i]);
		for (uint32_t d = 0; d < t->ndeps; d++)
			if (h->in_batch[t->deps[d].task])
				indeg[i]++;
	}
	size_t head = 0, tail = 0;
	for (size_t i = 0; i < n; i++)
		if (!indeg[i])
			order[tail++] = h->pending[i];
	while (head < tail) {
		const struct xpu_task *t = xpu_task_at(e, order[head++]);
		for (uint32_t k = 0; k < t->nsucc; k++) {
			uint32_t j = t->succ[k];
			if (h->in_batch[j] && --indeg[h->topo[j]] == 0)
				order[tail++] = j;
		}
	}
	for (size_t i = 0; i < n; i++)
		h->topo[order[i]] = (uint32_t)i;
	for (size_t i = n; i-- > 0;) {
		const struct xpu_task *t = xpu_task_at(e, order[i]);
		double best = 0;
		for (uint32_t k = 0; k < t->nsucc; k++) {
			uint32_t j = t->succ[k];
			if (!h->in_batch[j])
				continue;
			const struct xpu_task *sj = xpu_task_at(e, j);
			double bytes = 0;
			for (uint32_t d = 0; d < sj->ndeps; d++)
				if (sj->deps[d].task == t->index)
					bytes += sj->deps[d].bytes;
			double r = mean_comm(h, bytes) + h->rank[j];
			if (r > best)
				best = r;
		}
		h->rank[t->index] = mean_cost(s, t) + best;
	}
	cmp_ctx = h;
	qsort(order, n, sizeof(*order), by_rank);

	int p = xpu_nunits(e);
	for (int u = 0; u < p; u++)
		prune(&h->plan[u], now);
	for (size_t i = 0; i < n; i++) {
		struct xpu_task *t = xpu_task_at(e, order[i]);
		int bu = -1;
		double best_eft = INFINITY, best_est = 0;
		for (int u = 0; u < p; u++) {
			if (!xpu_can_run(e, t, u))
				continue;
			double ready = now;
			for (uint32_t d = 0; d < t->ndeps; d++) {
				const struct xpu_task *pr = xpu_task_at(e, t->deps[d].task);
				int src = pr->unit >= 0 ? pr->unit : u;
				double at = producer_end(h, pr) +
					    xpu_comm_time(e, src, u, t->deps[d].bytes);
				if (at > ready)
					ready = at;
			}
			double w = xpu_predict(e, t, u);
			double est = find_gap(&h->plan[u], ready, w);
			if (est + w < best_eft) {
				best_eft = est + w;
				best_est = est;
				bu = u;
			}
		}
		if (bu < 0)
			continue; /* no unit: the engine refuses such traces before the run */
		h->aft[t->index] = best_eft;
		add_slot(&h->plan[bu], best_est, best_eft);
		xpu_place(e, t, bu, best_est);
	}
out:
	for (size_t i = 0; i < n; i++)
		h->in_batch[h->pending[i]] = 0;
	h->npending = 0;
	free(order);
	free(indeg);
}

static void heft_on_arrivals(struct xpu_sched *s, double now)
{
	(void)now;
	plan_batch(s);
}

const struct xpu_sched_ops xpu_sched_heft = {
	.name = "heft",
	.description = "HEFT list scheduling with insertion (Topcuoglu et al. 2002)",
	.init = heft_init,
	.fini = heft_fini,
	.on_submit = heft_on_submit,
	.on_arrivals = heft_on_arrivals,
	.on_ready = NULL,
};
