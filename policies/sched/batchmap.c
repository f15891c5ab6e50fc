/* batchmap.c — batch-mode mapping heuristics for independent tasks (Maheswaran, Ali,
 * Siegel, Hensgen and Freund, "Dynamic mapping of a class of independent tasks onto
 * heterogeneous computing systems", JPDC 59(2), 1999; Braun et al., JPDC 61(6), 2001).
 *
 * Ready tasks are collected as they become ready (on_ready). The batch is mapped at
 * the next scheduling point: the first pick after new tasks became ready (the engine
 * asks idle units right after every arrival and completion), or a tick. The
 * completion time of task t on unit u is
 *   CT(t, u) = max(avail(u), data ready on u) + predicted duration of t on u,
 * with avail and data readiness from the engine's time model. Repeatedly, until the
 * batch is empty, one task is chosen and placed (queue order = now) on its unit of
 * least CT, which raises that unit's availability:
 *   min-min: the task whose least CT is smallest;
 *   max-min: the task whose least CT is largest;
 *   sufferage: the task that would suffer most from not getting its best unit, i.e.
 *   the largest difference between its second-least and least CT (a task that only
 *   one unit can run suffers infinitely). This is the one-task-per-step form of the
 *   heuristic; the paper's form may map several non-conflicting tasks per pass.
 * Placing a task only delays its unit, so only tasks whose best (or, for sufferage,
 * second best) unit was that unit need their CTs computed again. Ties go to the
 * lower task index and the lower unit index. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>

#include "batchmap.h"

struct bm {
	enum bm_rule rule;
	uint32_t *q; /* collected ready tasks */
	size_t n, cap;
	struct cand *c;
	size_t ccap;
};

struct cand {
	uint32_t task;
	int best, second;
	double best_ct, second_ct;
};

int bm_init(struct xpu_sched *s, enum bm_rule rule)
{
	struct bm *b = calloc(1, sizeof(*b));
	if (!b)
		return -ENOMEM;
	b->rule = rule;
	s->priv = b;
	return 0;
}

void bm_fini(struct xpu_sched *s)
{
	struct bm *b = s->priv;
	if (!b)
		return;
	free(b->q);
	free(b->c);
	free(b);
}

void bm_on_ready(struct xpu_sched *s, const struct xpu_task *t)
{
	struct bm *b = s->priv;
	if (t->unit >= 0)
		return;
	if (b->n == b->cap) {
		size_t cap = b->cap ? 2 * b->cap : 64;
		uint32_t *q = realloc(b->q, cap * sizeof(*q));
		if (!q)
			return; /* left unplaced: the engine's stall check fails it */
		b->q = q;
		b->cap = cap;
	}
	b->q[b->n++] = t->index;
}

static double ct(struct xpu_engine *e, const struct xpu_task *t, int u)
{
	double a = xpu_unit_avail(e, u), r = xpu_data_ready(e, t, u);
	return (a > r ? a : r) + xpu_predict(e, t, u);
}

static void evaluate(struct xpu_engine *e, struct cand *c)
{
	const struct xpu_task *t = xpu_task_at(e, c->task);
	c->best = c->second = -1;
	c->best_ct = c->second_ct = INFINITY;
	for (int u = 0; u < xpu_nunits(e); u++) {
		if (!xpu_can_run(e, t, u))
			continue;
		double x = ct(e, t, u);
		if (c->best < 0 || x < c->best_ct) {
			c->second = c->best;
			c->second_ct = c->best_ct;
			c->best = u;
			c->best_ct = x;
		} else if (c->second < 0 || x < c->second_ct) {
			c->second = u;
			c->second_ct = x;
		}
	}
}

/* 1 when candidate a should be mapped before b under the rule. */
static int better(enum bm_rule rule, const struct cand *a, const struct cand *b)
{
	double ka, kb;
	switch (rule) {
	case BM_MIN_MIN:
		ka = -a->best_ct;
		kb = -b->best_ct;
		break;
	case BM_MAX_MIN:
		ka = a->best_ct;
		kb = b->best_ct;
		break;
	default:
		ka = a->second_ct - a->best_ct;
		kb = b->second_ct - b->best_ct;
		if (isnan(ka))
			ka = INFINITY;
		if (isnan(kb))
			kb = INFINITY;
		break;
	}
	if (ka != kb)
		return ka > kb;
	return a->task < b->task;
}

static void map_batch(struct xpu_sched *s)
{
	struct bm *b = s->priv;
	struct xpu_engine *e = s->eng;
	if (!b->n)
		return;
	if (b->ccap < b->n) {
		struct cand *c = realloc(b->c, b->n * sizeof(*c));
		if (!c)
			return; /* kept for the next scheduling point */
		b->c = c;
		b->ccap = b->n;
	}
	size_t n = 0;
	for (size_t i = 0; i < b->n; i++) {
		const struct xpu_task *t = xpu_task_at(e, b->q[i]);
		if (t->state != XPU_TASK_READY || t->unit >= 0)
			continue; /* failed meanwhile */
		b->c[n].task = t->index;
		evaluate(e, &b->c[n]);
		if (b->c[n].best >= 0)
			n++;
	}
	b->n = 0;
	while (n) {
		size_t k = 0;
		for (size_t i = 1; i < n; i++)
			if (better(b->rule, &b->c[i], &b->c[k]))
				k = i;
		struct cand chosen = b->c[k];
		b->c[k] = b->c[--n];
		xpu_place(e, xpu_task_at(e, chosen.task), chosen.best, xpu_now(e));
		for (size_t i = 0; i < n; i++)
			if (b->c[i].best == chosen.best ||
			    (b->rule == BM_SUFFERAGE && b->c[i].second == chosen.best))
				evaluate(e, &b->c[i]);
	}
}

const struct xpu_task *bm_pick(struct xpu_sched *s, const struct xpu_unit *u)
{
	(void)u;
	map_batch(s);
	return NULL; /* the batch went straight to the units' queues */
}

void bm_on_tick(struct xpu_sched *s, double now)
{
	(void)now;
	map_batch(s);
}
