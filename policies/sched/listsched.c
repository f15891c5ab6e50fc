/* listsched.c — shared machinery of the DAG list schedulers: batches of arrivals,
 * topological order, mean costs (Topcuoglu et al. 2002, section 3) and insertion-based
 * processor plans. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "listsched.h"

int ls_init(struct ls *l, struct xpu_engine *e)
{
	uint32_t n = xpu_ntasks(e);
	int p = xpu_nunits(e);
	memset(l, 0, sizeof(*l));
	l->aft = calloc((size_t)n + 1, sizeof(double));
	l->rank = calloc((size_t)n + 1, sizeof(double));
	l->topo = calloc((size_t)n + 1, sizeof(uint32_t));
	l->in_batch = calloc((size_t)n + 1, 1);
	l->plan = calloc((size_t)p, sizeof(struct ls_plan));
	if (!l->aft || !l->rank || !l->topo || !l->in_batch || !l->plan)
		return -ENOMEM;
	/* Mean transfer terms over ordered pairs of distinct units; pairs that share
	 * memory cost nothing and count as zero. Up to 64 units every pair counts; above,
	 * each unit is paired with 64 others spread evenly over the index range, so the
	 * mean costs O(units) route lookups rather than O(units^2). */
	const struct xpu_platform *pf = xpu_platform_of(e);
	double lat = 0, inv = 0;
	long pairs = 0;
	int others = p - 1 < 64 ? p - 1 : 64;
	for (int a = 0; a < p; a++)
		for (int k = 1; k <= others; k++) {
			int b = (int)((a + (long)k * (p - 1) / others) % p);
			if (b == a)
				continue;
			pairs++;
			double l, bw;
			if (pf->units[a].mem_pool == pf->units[b].mem_pool ||
			    !xpu_platform_route(pf, a, b, &l, &bw))
				continue;
			lat += l;
			inv += 1.0 / bw;
		}
	if (pairs) {
		l->mean_lat = lat / pairs;
		l->mean_inv_bw = inv / pairs;
	}
	return 0;
}

void ls_fini(struct ls *l, struct xpu_engine *e)
{
	for (int u = 0; l->plan && u < xpu_nunits(e); u++)
		free(l->plan[u].s);
	free(l->plan);
	free(l->pending);
	free(l->aft);
	free(l->rank);
	free(l->topo);
	free(l->in_batch);
	memset(l, 0, sizeof(*l));
}

void ls_add(struct ls *l, const struct xpu_task *t)
{
	if (l->npending == l->cap) {
		size_t cap = l->cap ? 2 * l->cap : 64;
		uint32_t *p = realloc(l->pending, cap * sizeof(*p));
		if (!p)
			return; /* left unplanned: the engine's stall check fails it */
		l->pending = p;
		l->cap = cap;
	}
	l->pending[l->npending++] = t->index;
}

double ls_mean_cost(struct xpu_engine *e, const struct xpu_task *t)
{
	double sum = 0;
	int n = 0;
	for (int u = 0; u < xpu_nunits(e); u++)
		if (xpu_can_run(e, t, u)) {
			sum += xpu_predict(e, t, u);
			n++;
		}
	return n ? sum / n : 0;
}

double ls_mean_comm(const struct ls *l, double bytes)
{
	return bytes > 0 ? l->mean_lat + bytes * l->mean_inv_bw : 0;
}

double ls_edge_bytes(const struct xpu_task *p, const struct xpu_task *c)
{
	double bytes = 0;
	for (uint32_t d = 0; d < c->ndeps; d++)
		if (c->deps[d].task == p->index)
			bytes += c->deps[d].bytes;
	return bytes;
}

/* Drop slots that ended before now: no new task can use a gap in the past. */
static void prune(struct ls_plan *pl, double now)
{
	size_t k = 0;
	for (size_t i = 0; i < pl->n; i++)
		if (pl->s[i].end > now || i + 1 == pl->n)
			pl->s[k++] = pl->s[i];
	pl->n = k;
}

int ls_begin(struct ls *l, struct xpu_engine *e, uint32_t *order, size_t *nout)
{
	size_t n = l->npending;
	for (size_t i = 0; i < n; i++)
		l->in_batch[l->pending[i]] = 1;
	for (int u = 0; u < xpu_nunits(e); u++)
		prune(&l->plan[u], xpu_now(e));
	uint32_t *indeg = calloc(n + 1, sizeof(*indeg));
	if (!indeg) {
		for (size_t i = 0; i < n; i++)
			l->in_batch[l->pending[i]] = 0;
		*nout = 0; /* the batch stays pending for the next call */
		return -ENOMEM;
	}
	/* Kahn's algorithm; topo[] maps a task to its batch slot meanwhile. */
	for (size_t i = 0; i < n; i++)
		l->topo[l->pending[i]] = (uint32_t)i;
	for (size_t i = 0; i < n; i++) {
		const struct xpu_task *t = xpu_task_at(e, l->pending[i]);
		for (uint32_t d = 0; d < t->ndeps; d++)
			if (l->in_batch[t->deps[d].task])
				indeg[i]++;
	}
	size_t head = 0, tail = 0;
	for (size_t i = 0; i < n; i++)
		if (!indeg[i])
			order[tail++] = l->pending[i];
	while (head < tail) {
		const struct xpu_task *t = xpu_task_at(e, order[head++]);
		for (uint32_t k = 0; k < t->nsucc; k++) {
			uint32_t j = t->succ[k];
			if (l->in_batch[j] && --indeg[l->topo[j]] == 0)
				order[tail++] = j;
		}
	}
	free(indeg);
	/* A task whose producer has not arrived yet (a trace may submit a consumer
	 * before its producer) cannot be planned: its data-ready time is unknown, and
	 * queueing it ahead of a producer on the same unit would deadlock the unit's
	 * strict queue. Defer it, and everything in the batch that needs it, to the
	 * batch in which the producer arrives. In-batch marks: 1 plannable, 2 deferred. */
	size_t keep = 0, ndef = 0;
	for (size_t i = 0; i < n; i++) {
		uint32_t x = order[i];
		const struct xpu_task *t = xpu_task_at(e, x);
		int blocked = 0;
		for (uint32_t d = 0; d < t->ndeps && !blocked; d++) {
			const struct xpu_task *p = xpu_task_at(e, t->deps[d].task);
			if (l->in_batch[p->index])
				blocked = l->in_batch[p->index] == 2;
			else
				blocked = p->unit < 0 && p->state != XPU_TASK_DONE &&
				          p->state != XPU_TASK_FAILED;
		}
		if (blocked) {
			l->in_batch[x] = 2;
			l->pending[ndef++] = x;
		} else {
			order[keep++] = x;
		}
	}
	for (size_t i = 0; i < ndef; i++)
		l->in_batch[l->pending[i]] = 0;
	l->npending = ndef;
	for (size_t i = 0; i < keep; i++)
		l->topo[order[i]] = (uint32_t)i;
	*nout = keep;
	return 0;
}

void ls_end(struct ls *l, const uint32_t *order, size_t n)
{
	if (!order)
		return;
	for (size_t i = 0; i < n; i++)
		l->in_batch[order[i]] = 0;
}

void ls_rank_up(struct ls *l, struct xpu_engine *e, const uint32_t *order, size_t n, double *out)
{
	for (size_t i = n; i-- > 0;) {
		const struct xpu_task *t = xpu_task_at(e, order[i]);
		double best = 0;
		for (uint32_t k = 0; k < t->nsucc; k++) {
			uint32_t j = t->succ[k];
			if (!l->in_batch[j])
				continue;
			double r = ls_mean_comm(l, ls_edge_bytes(t, xpu_task_at(e, j))) + out[j];
			if (r > best)
				best = r;
		}
		out[t->index] = ls_mean_cost(e, t) + best;
	}
}

/* Earliest start >= ready of a gap of length dur in the plan (insertion policy). */
static double find_gap(const struct ls_plan *pl, double ready, double dur)
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

/* 1 when the output of producer pr that t reads (its datum of that size) has a valid
 * copy in unit u's memory. */
static int valid_on(struct xpu_engine *e, const struct xpu_task *t, const struct xpu_task *pr,
                    double bytes, int u)
{
	for (uint32_t k = 0; k < t->naccess; k++) {
		const struct xpu_datum *d = xpu_datum_at(e, t->access[k].datum);
		if (d && d->producer == pr->index && d->size == bytes)
			return xpu_datum_valid_on(e, t->access[k].datum, u);
	}
	return 0;
}

/* Finish time of a producer as the plan knows it. */
static double producer_end(const struct ls *l, const struct xpu_task *p)
{
	if (p->state == XPU_TASK_DONE || p->state == XPU_TASK_FAILED)
		return p->end_t;
	return l->aft[p->index];
}

double ls_eft(const struct ls *l, struct xpu_engine *e, const struct xpu_task *t, int u, double now,
              double *est)
{
	if (!xpu_can_run(e, t, u))
		return INFINITY;
	double ready = now;
	for (uint32_t d = 0; d < t->ndeps; d++) {
		const struct xpu_task *pr = xpu_task_at(e, t->deps[d].task);
		int src = pr->unit >= 0 ? pr->unit : u;
		double bytes = t->deps[d].bytes;
		if (bytes > 0 && pr->state == XPU_TASK_DONE && valid_on(e, t, pr, bytes, u))
			bytes = 0; /* a copy of that output is already in u's memory */
		double at = producer_end(l, pr) + xpu_comm_time(e, src, u, bytes);
		if (at > ready)
			ready = at;
	}
	double w = xpu_predict(e, t, u);
	*est = find_gap(&l->plan[u], ready, w);
	return *est + w;
}

static int add_slot(struct ls_plan *pl, double start, double end)
{
	if (pl->n == pl->cap) {
		size_t cap = pl->cap ? 2 * pl->cap : 16;
		struct ls_slot *x = realloc(pl->s, cap * sizeof(*x));
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
	pl->s[i] = (struct ls_slot){start, end};
	pl->n++;
	return 0;
}

void ls_commit(struct ls *l, struct xpu_engine *e, const struct xpu_task *t, int u, double est,
               double eft)
{
	l->aft[t->index] = eft;
	add_slot(&l->plan[u], est, eft);
	xpu_place(e, t, u, est);
}

/* The ready list: a binary max-heap on (rank, then earlier topological position). */
static int heap_before(const struct ls *l, uint32_t a, uint32_t b)
{
	if (l->rank[a] != l->rank[b])
		return l->rank[a] > l->rank[b];
	return l->topo[a] < l->topo[b];
}

void ls_heap_push(const struct ls *l, uint32_t *h, size_t *n, uint32_t x)
{
	size_t i = (*n)++;
	while (i > 0 && heap_before(l, x, h[(i - 1) / 2])) {
		h[i] = h[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	h[i] = x;
}

uint32_t ls_heap_pop(const struct ls *l, uint32_t *h, size_t *n)
{
	uint32_t top = h[0], x = h[--(*n)];
	size_t i = 0;
	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= *n)
			break;
		if (c + 1 < *n && heap_before(l, h[c + 1], h[c]))
			c++;
		if (!heap_before(l, h[c], x))
			break;
		h[i] = h[c];
		i = c;
	}
	if (*n)
		h[i] = x;
	return top;
}
