/* queue.c — the task heap, and the per-class ready queue offered to policies. */
#include <errno.h>
#include <stdlib.h>

#include "queue.h"
#include "xpu.h"

static int before(const struct xpu_hent *a, const struct xpu_hent *b)
{
	return a->key < b->key || (a->key == b->key && a->seq < b->seq);
}

static void sift_up(struct xpu_heap *h, size_t i)
{
	struct xpu_hent x = h->a[i];
	while (i > 0) {
		size_t p = (i - 1) / 2;
		if (!before(&x, &h->a[p]))
			break;
		h->a[i] = h->a[p];
		i = p;
	}
	h->a[i] = x;
}

static void sift_down(struct xpu_heap *h, size_t i)
{
	struct xpu_hent x = h->a[i];
	for (;;) {
		size_t c = 2 * i + 1;
		if (c >= h->n)
			break;
		if (c + 1 < h->n && before(&h->a[c + 1], &h->a[c]))
			c++;
		if (!before(&h->a[c], &x))
			break;
		h->a[i] = h->a[c];
		i = c;
	}
	h->a[i] = x;
}

int xpu_heap_push(struct xpu_heap *h, double key, uint64_t seq, uint32_t task)
{
	if (h->n == h->cap) {
		size_t cap = h->cap ? 2 * h->cap : 8;
		struct xpu_hent *a = realloc(h->a, cap * sizeof(*a));
		if (!a)
			return -ENOMEM;
		h->a = a;
		h->cap = cap;
	}
	h->a[h->n] = (struct xpu_hent){key, seq, task};
	sift_up(h, h->n++);
	return 0;
}

struct xpu_hent xpu_heap_remove(struct xpu_heap *h, size_t i)
{
	struct xpu_hent out = h->a[i];
	h->a[i] = h->a[--h->n];
	if (i < h->n) {
		sift_down(h, i);
		sift_up(h, i);
	}
	return out;
}

void xpu_heap_free(struct xpu_heap *h)
{
	free(h->a);
	h->a = NULL;
	h->n = h->cap = 0;
}

/* ------------------------------------------------------------------ ready queue */

struct xpu_readyq {
	struct xpu_heap cls[XPU_CLASS_COUNT];
	uint64_t seq;
	size_t len;
};

struct xpu_readyq *xpu_readyq_new(void)
{
	return calloc(1, sizeof(struct xpu_readyq));
}

void xpu_readyq_free(struct xpu_readyq *q)
{
	if (!q)
		return;
	for (int c = 0; c < XPU_CLASS_COUNT; c++)
		xpu_heap_free(&q->cls[c]);
	free(q);
}

int xpu_readyq_push(struct xpu_readyq *q, struct xpu_task *t, double key)
{
	int rc = xpu_heap_push(&q->cls[t->cls], key, q->seq++, t->index);
	if (!rc)
		q->len++;
	return rc;
}

size_t xpu_readyq_len(const struct xpu_readyq *q)
{
	return q->len;
}

/* The best entry of one class heap that u can run: the top in the common case; a scan
 * only when explicit costs exclude u for the top task. Returns the index or -1. */
static long best_runnable(const struct xpu_heap *h, const struct xpu_engine *e, int u)
{
	if (!h->n)
		return -1;
	if (xpu_can_run(e, xpu_task_at(e, h->a[0].task), u))
		return 0;
	long best = -1;
	for (size_t i = 1; i < h->n; i++)
		if ((best < 0 || before(&h->a[i], &h->a[best])) &&
		    xpu_can_run(e, xpu_task_at(e, h->a[i].task), u))
			best = (long)i;
	return best;
}

struct xpu_task *xpu_readyq_take(struct xpu_readyq *q, const struct xpu_engine *e, int u)
{
	const struct xpu_unit *un = xpu_unit_at(e, u);
	int bc = -1;
	long bi = -1;
	for (int c = 0; c < XPU_CLASS_COUNT; c++) {
		if (!q->cls[c].n || (un->has_class_props && !un->cls[c].supported))
			continue;
		long i = best_runnable(&q->cls[c], e, u);
		if (i >= 0 && (bc < 0 || before(&q->cls[c].a[i], &q->cls[bc].a[bi]))) {
			bc = c;
			bi = i;
		}
	}
	if (bc < 0)
		return NULL;
	struct xpu_hent h = xpu_heap_remove(&q->cls[bc], (size_t)bi);
	q->len--;
	return xpu_task_at(e, h.task);
}
