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

#include "listsched.h"

static int heft_init(struct xpu_sched *s)
{
	struct ls *l = calloc(1, sizeof(*l));
	if (!l)
		return -ENOMEM;
	s->priv = l;
	return ls_init(l, s->eng);
}

static void heft_fini(struct xpu_sched *s)
{
	if (!s->priv)
		return;
	ls_fini(s->priv, s->eng);
	free(s->priv);
}

static void heft_on_submit(struct xpu_sched *s, const struct xpu_task *t)
{
	ls_add(s->priv, t);
}

static const struct ls *cmp_ctx;

static int by_rank(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	double rx = cmp_ctx->rank[x], ry = cmp_ctx->rank[y];
	if (rx != ry)
		return rx > ry ? -1 : 1;
	/* equal ranks (zero costs): keep a topological order */
	return cmp_ctx->topo[x] < cmp_ctx->topo[y] ? -1 : cmp_ctx->topo[x] > cmp_ctx->topo[y];
}

static void heft_on_arrivals(struct xpu_sched *s, double now)
{
	struct ls *l = s->priv;
	struct xpu_engine *e = s->eng;
	size_t n = l->npending;
	if (!n)
		return;
	uint32_t *order = malloc(n * sizeof(*order));
	if (!order || ls_begin(l, e, order, &n))
		goto out;
	ls_rank_up(l, e, order, n, l->rank);
	cmp_ctx = l;
	qsort(order, n, sizeof(*order), by_rank);
	for (size_t i = 0; i < n; i++) {
		const struct xpu_task *t = xpu_task_at(e, order[i]);
		int bu = -1;
		double best_eft = INFINITY, best_est = 0, est;
		for (int u = 0; u < xpu_nunits(e); u++) {
			double eft = ls_eft(l, e, t, u, now, &est);
			if (eft < best_eft) {
				best_eft = eft;
				best_est = est;
				bu = u;
			}
		}
		if (bu >= 0) /* else no unit: the engine refuses such traces before the run */
			ls_commit(l, e, t, bu, best_est, best_eft);
	}
out:
	ls_end(l, order, n);
	free(order);
}

const struct xpu_sched_ops xpu_sched_heft = {
    .head = {.version = XPU_SCHED_VERSION,
             .name = "heft",
             .description = "HEFT list scheduling with insertion (Topcuoglu et al. 2002)"},
    .init = heft_init,
    .fini = heft_fini,
    .on_submit = heft_on_submit,
    .on_arrivals = heft_on_arrivals,
};
