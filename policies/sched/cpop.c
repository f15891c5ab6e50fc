/* cpop.c — Critical-Path-on-a-Processor list scheduling, insertion-based (Topcuoglu,
 * Hariri and Wu, IEEE TPDS 13(3), 2002, section 4.2).
 *
 * Per arrival batch (as heft.c): priority(i) = rank_u(i) + rank_d(i), with the
 * downward rank rank_d(i) = max over predecessors j of (rank_d(j) + w_j + c_ji). The
 * critical path starts at the entry task of highest priority and follows, at each
 * step, a successor whose priority equals it. The critical-path processor is the unit
 * minimising the summed durations of the path's tasks. Tasks are taken from a ready
 * list by decreasing priority: critical-path tasks go to the critical-path processor,
 * the others to the unit of earliest finish time, both using the first idle gap long
 * enough (insertion). */
#include <errno.h>
#include <math.h>
#include <stdlib.h>

#include "listsched.h"

struct cpop {
	struct ls l;
	double *down; /* downward rank */
	char *on_cp;
	uint32_t *nleft; /* predecessors in the batch not yet scheduled */
};

static int cpop_init(struct xpu_sched *s)
{
	struct cpop *c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	s->priv = c;
	uint32_t n = xpu_ntasks(s->eng);
	c->down = calloc((size_t)n + 1, sizeof(double));
	c->on_cp = calloc((size_t)n + 1, 1);
	c->nleft = calloc((size_t)n + 1, sizeof(uint32_t));
	if (!c->down || !c->on_cp || !c->nleft)
		return -ENOMEM;
	return ls_init(&c->l, s->eng);
}

static void cpop_fini(struct xpu_sched *s)
{
	struct cpop *c = s->priv;
	if (!c)
		return;
	ls_fini(&c->l, s->eng);
	free(c->down);
	free(c->on_cp);
	free(c->nleft);
	free(c);
}

static void cpop_on_submit(struct xpu_sched *s, const struct xpu_task *t)
{
	struct cpop *c = s->priv;
	ls_add(&c->l, t);
}

static int same(double a, double b)
{
	return fabs(a - b) <= 1e-9 * (1 + fabs(a));
}

/* Mark the critical path of the batch; returns its processor, or -1 when no single
 * unit can run all of it. */
static int mark_cp(struct cpop *c, struct xpu_engine *e, const uint32_t *order, size_t n)
{
	struct ls *l = &c->l;
	uint32_t cur = UINT32_MAX;
	for (size_t i = 0; i < n; i++) {
		const struct xpu_task *t = xpu_task_at(e, order[i]);
		int entry = 1;
		for (uint32_t d = 0; d < t->ndeps && entry; d++)
			entry = !l->in_batch[t->deps[d].task];
		if (entry && (cur == UINT32_MAX || l->rank[t->index] > l->rank[cur]))
			cur = t->index;
	}
	if (cur == UINT32_MAX)
		return -1;
	double cp = l->rank[cur];
	int p = xpu_nunits(e);
	double *sum = calloc((size_t)p, sizeof(double));
	if (!sum)
		return -1;
	while (cur != UINT32_MAX) {
		const struct xpu_task *t = xpu_task_at(e, cur);
		c->on_cp[cur] = 1;
		for (int u = 0; u < p; u++)
			sum[u] += xpu_predict(e, t, u); /* INFINITY where u cannot run it */
		cur = UINT32_MAX;
		for (uint32_t k = 0; k < t->nsucc; k++) {
			uint32_t j = t->succ[k];
			if (l->in_batch[j] && !c->on_cp[j] && same(l->rank[j], cp) &&
			    (cur == UINT32_MAX || l->topo[j] < l->topo[cur]))
				cur = j;
		}
	}
	int best = -1;
	for (int u = 0; u < p; u++)
		if (isfinite(sum[u]) && (best < 0 || sum[u] < sum[best]))
			best = u;
	free(sum);
	return best;
}

static void cpop_on_arrivals(struct xpu_sched *s, double now)
{
	struct cpop *c = s->priv;
	struct ls *l = &c->l;
	struct xpu_engine *e = s->eng;
	size_t n = l->npending, nready = 0;
	if (!n)
		return;
	uint32_t *order = malloc(n * sizeof(*order));
	uint32_t *ready = malloc(n * sizeof(*ready));
	if (!order || !ready || ls_begin(l, e, order, &n))
		goto out;
	ls_rank_up(l, e, order, n, l->rank);
	for (size_t i = 0; i < n; i++) {
		const struct xpu_task *t = xpu_task_at(e, order[i]);
		double best = 0;
		c->nleft[t->index] = 0;
		for (uint32_t d = 0; d < t->ndeps; d++) {
			uint32_t j = t->deps[d].task;
			if (!l->in_batch[j])
				continue;
			c->nleft[t->index]++;
			const struct xpu_task *pj = xpu_task_at(e, j);
			double r =
			    c->down[j] + ls_mean_cost(e, pj) + ls_mean_comm(l, t->deps[d].bytes);
			if (r > best)
				best = r;
		}
		c->down[t->index] = best;
	}
	for (size_t i = 0; i < n; i++)
		l->rank[order[i]] += c->down[order[i]];
	int cpu = mark_cp(c, e, order, n);
	for (size_t i = 0; i < n; i++)
		if (!c->nleft[order[i]])
			ls_heap_push(l, ready, &nready, order[i]);
	while (nready) {
		const struct xpu_task *t = xpu_task_at(e, ls_heap_pop(l, ready, &nready));
		int bu = -1;
		double best_eft = INFINITY, best_est = 0, est;
		if (c->on_cp[t->index] && cpu >= 0) {
			best_eft = ls_eft(l, e, t, cpu, now, &best_est);
			bu = cpu;
		} else {
			for (int u = 0; u < xpu_nunits(e); u++) {
				double eft = ls_eft(l, e, t, u, now, &est);
				if (eft < best_eft) {
					best_eft = eft;
					best_est = est;
					bu = u;
				}
			}
		}
		if (bu >= 0)
			ls_commit(l, e, t, bu, best_est, best_eft);
		for (uint32_t k = 0; k < t->nsucc; k++) {
			uint32_t j = t->succ[k];
			if (l->in_batch[j] && --c->nleft[j] == 0)
				ls_heap_push(l, ready, &nready, j);
		}
	}
	for (size_t i = 0; i < n; i++)
		c->on_cp[order[i]] = 0;
out:
	ls_end(l, order, n);
	free(order);
	free(ready);
}

const struct xpu_sched_ops xpu_sched_cpop = {
    .head = {.version = XPU_SCHED_VERSION,
             .name = "cpop",
             .description =
                 "CPOP: critical path on one processor, insertion (Topcuoglu et al. 2002)"},
    .init = cpop_init,
    .fini = cpop_fini,
    .on_submit = cpop_on_submit,
    .on_arrivals = cpop_on_arrivals,
};
