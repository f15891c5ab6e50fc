/* peft.c — Predict Earliest Finish Time, insertion-based (Arabnejad and Barbosa, "List
 * scheduling algorithm for heterogeneous systems by an optimistic cost table", IEEE
 * TPDS 25(3), 2014).
 *
 * Per arrival batch (as heft.c), the optimistic cost table is
 *   OCT(i, p) = max over successors j of min over units w of
 *               (OCT(j, w) + w(j, w) + [w != p] c_ij),   OCT(exit, p) = 0,
 * computed in O(edges x units) as min(OCT(j,p) + w(j,p), min_w(OCT(j,w) + w(j,w)) + c_ij).
 * rank_oct(i) is the mean of OCT(i, .) over the units that can run i. Tasks leave a
 * ready list by decreasing rank_oct and go to the unit minimising the optimistic
 * finish O_EFT(i, p) = EFT(i, p) + OCT(i, p), with insertion. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>

#include "listsched.h"

struct peft {
	struct ls l;
	uint32_t *nleft; /* predecessors in the batch not yet scheduled */
};

static int peft_init(struct xpu_sched *s)
{
	struct peft *p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	s->priv = p;
	p->nleft = calloc((size_t)xpu_ntasks(s->eng) + 1, sizeof(uint32_t));
	if (!p->nleft)
		return -ENOMEM;
	return ls_init(&p->l, s->eng);
}

static void peft_fini(struct xpu_sched *s)
{
	struct peft *p = s->priv;
	if (!p)
		return;
	ls_fini(&p->l, s->eng);
	free(p->nleft);
	free(p);
}

static void peft_on_submit(struct xpu_sched *s, const struct xpu_task *t)
{
	struct peft *p = s->priv;
	ls_add(&p->l, t);
}

static void peft_on_arrivals(struct xpu_sched *s, double now)
{
	struct peft *pf = s->priv;
	struct ls *l = &pf->l;
	struct xpu_engine *e = s->eng;
	size_t n = l->npending, nready = 0;
	int np = xpu_nunits(e);
	if (!n)
		return;
	uint32_t *order = malloc(n * sizeof(*order));
	uint32_t *ready = malloc(n * sizeof(*ready));
	double *oct = malloc(n * (size_t)np * sizeof(double)); /* row = topological slot */
	double *dur = malloc((size_t)np * sizeof(double));
	if (!order || !ready || !oct || !dur || ls_begin(l, e, order, &n))
		goto out;
	for (size_t i = n; i-- > 0;) {
		const struct xpu_task *t = xpu_task_at(e, order[i]);
		double *row = &oct[i * (size_t)np];
		for (int p = 0; p < np; p++)
			row[p] = 0;
		for (uint32_t k = 0; k < t->nsucc; k++) {
			uint32_t j = t->succ[k];
			if (!l->in_batch[j])
				continue;
			const struct xpu_task *tj = xpu_task_at(e, j);
			const double *rj = &oct[(size_t)l->topo[j] * (size_t)np];
			double best_any = INFINITY;
			for (int w = 0; w < np; w++) {
				dur[w] = rj[w] + xpu_predict(e, tj, w);
				if (dur[w] < best_any)
					best_any = dur[w];
			}
			double moved = best_any + ls_mean_comm(l, ls_edge_bytes(t, tj));
			for (int p = 0; p < np; p++) {
				double v = dur[p] < moved ? dur[p] : moved;
				if (v > row[p])
					row[p] = v;
			}
		}
		double sum = 0;
		int cnt = 0;
		for (int p = 0; p < np; p++)
			if (xpu_can_run(e, t, p)) {
				sum += row[p];
				cnt++;
			}
		l->rank[t->index] = cnt ? sum / cnt : 0;
		pf->nleft[t->index] = 0;
		for (uint32_t d = 0; d < t->ndeps; d++)
			pf->nleft[t->index] += l->in_batch[t->deps[d].task] != 0;
	}
	for (size_t i = 0; i < n; i++)
		if (!pf->nleft[order[i]])
			ls_heap_push(l, ready, &nready, order[i]);
	while (nready) {
		const struct xpu_task *t = xpu_task_at(e, ls_heap_pop(l, ready, &nready));
		const double *row = &oct[(size_t)l->topo[t->index] * (size_t)np];
		int bu = -1;
		double best = INFINITY, best_est = 0, best_eft = 0, est;
		for (int u = 0; u < np; u++) {
			double eft = ls_eft(l, e, t, u, now, &est);
			if (eft + row[u] < best) {
				best = eft + row[u];
				best_est = est;
				best_eft = eft;
				bu = u;
			}
		}
		if (bu >= 0)
			ls_commit(l, e, t, bu, best_est, best_eft);
		for (uint32_t k = 0; k < t->nsucc; k++) {
			uint32_t j = t->succ[k];
			if (l->in_batch[j] && --pf->nleft[j] == 0)
				ls_heap_push(l, ready, &nready, j);
		}
	}
out:
	ls_end(l, order, n);
	free(order);
	free(ready);
	free(oct);
	free(dur);
}

const struct xpu_sched_ops xpu_sched_peft = {
    .head = {.version = XPU_SCHED_VERSION,
             .name = "peft",
             .description = "PEFT: optimistic cost table, insertion (Arabnejad and Barbosa 2014)"},
    .init = peft_init,
    .fini = peft_fini,
    .on_submit = peft_on_submit,
    .on_arrivals = peft_on_arrivals,
};
