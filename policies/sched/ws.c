/* ws.c — work stealing over per-unit deques (Blumofe and Leiserson, "Scheduling
 * multithreaded computations by work stealing", JACM 46(5), 1999; StarPU's "ws").
 *
 * A ready task is pushed on the deque of the unit that produced its largest input,
 * when that unit can run it (locality), else on the next unit in turn that can. An
 * idle unit (pick) pops the newest task of its own deque; with nothing of its own it
 * steals the oldest task it can run from the most loaded deque (most tasks; lowest
 * index on ties). */
#include <errno.h>
#include <stdlib.h>

#include "xpu.h"

struct deque {
	uint32_t *a; /* oldest first */
	size_t n, cap;
};

struct ws {
	struct deque *d;
	int next;
};

static int ws_init(struct xpu_sched *s)
{
	struct ws *w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	s->priv = w;
	w->d = calloc((size_t)xpu_nunits(s->eng), sizeof(*w->d));
	return w->d ? 0 : -ENOMEM;
}

static void ws_fini(struct xpu_sched *s)
{
	struct ws *w = s->priv;
	if (!w)
		return;
	for (int u = 0; w->d && u < xpu_nunits(s->eng); u++)
		free(w->d[u].a);
	free(w->d);
	free(w);
}

static int owner_of(struct xpu_sched *s, const struct xpu_task *t)
{
	struct ws *w = s->priv;
	struct xpu_engine *e = s->eng;
	int n = xpu_nunits(e), best = -1;
	double most = -1;
	for (uint32_t d = 0; d < t->ndeps; d++) {
		const struct xpu_task *p = xpu_task_at(e, t->deps[d].task);
		if (p->unit >= 0 && t->deps[d].bytes > most && xpu_can_run(e, t, p->unit)) {
			most = t->deps[d].bytes;
			best = p->unit;
		}
	}
	if (best >= 0)
		return best;
	for (int k = 0; k < n; k++) {
		int u = (w->next + k) % n;
		if (xpu_can_run(e, t, u)) {
			w->next = (u + 1) % n;
			return u;
		}
	}
	return -1;
}

static void ws_on_ready(struct xpu_sched *s, const struct xpu_task *t)
{
	struct ws *w = s->priv;
	if (t->unit >= 0)
		return;
	int u = owner_of(s, t);
	if (u < 0)
		return;
	struct deque *q = &w->d[u];
	if (q->n == q->cap) {
		size_t cap = q->cap ? 2 * q->cap : 16;
		uint32_t *a = realloc(q->a, cap * sizeof(*a));
		if (!a)
			return; /* left unplaced: the engine's stall check fails it */
		q->a = a;
		q->cap = cap;
	}
	q->a[q->n++] = t->index;
}

/* Remove entry i of q and return its task. */
static uint32_t take(struct deque *q, size_t i)
{
	uint32_t x = q->a[i];
	for (size_t k = i + 1; k < q->n; k++)
		q->a[k - 1] = q->a[k];
	q->n--;
	return x;
}

static const struct xpu_task *ws_pick(struct xpu_sched *s, const struct xpu_unit *un)
{
	struct ws *w = s->priv;
	struct xpu_engine *e = s->eng;
	struct deque *own = &w->d[un->index];
	while (own->n) {
		const struct xpu_task *t = xpu_task_at(e, own->a[--own->n]);
		if (t->state == XPU_TASK_READY && t->unit < 0)
			return t; /* (a failed task is dropped) */
	}
	/* Steal from the most loaded deque holding a task this unit can run. */
	int victim = -1;
	size_t at = 0;
	for (int v = 0; v < xpu_nunits(e); v++) {
		struct deque *q = &w->d[v];
		if (v == un->index || !q->n || (victim >= 0 && q->n <= w->d[victim].n))
			continue;
		for (size_t i = 0; i < q->n; i++) {
			const struct xpu_task *t = xpu_task_at(e, q->a[i]);
			if (t->state != XPU_TASK_READY || t->unit >= 0) {
				take(q, i--); /* failed meanwhile */
				continue;
			}
			if (xpu_can_run(e, t, un->index)) {
				victim = v;
				at = i;
				break;
			}
		}
	}
	return victim < 0 ? NULL : xpu_task_at(e, take(&w->d[victim], at));
}

const struct xpu_sched_ops xpu_sched_ws = {
    .head = {.version = XPU_SCHED_VERSION,
             .name = "ws",
             .description =
                 "work stealing: per-unit deques, idle units steal from the most loaded"},
    .init = ws_init,
    .fini = ws_fini,
    .on_ready = ws_on_ready,
    .pick = ws_pick,
};
