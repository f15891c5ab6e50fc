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

/* Per kernel class: entries pushed in order (a key no smaller than the last one's,
 * as with one key or rising keys) go to a ring and leave it in O(1); the others to a
 * heap. The first entry is the smaller of the ring's head and the heap's top. */
struct rclass {
	struct xpu_heap h;
	struct xpu_hent *ring;
	size_t rh, rn, rcap;
};

struct xpu_readyq {
	struct rclass cls[XPU_CLASS_COUNT];
	uint64_t seq;
	size_t len;
};

static struct xpu_hent *ring_at(const struct rclass *c, size_t i)
{
	return &c->ring[(c->rh + i) % c->rcap];
}

static int ring_push(struct rclass *c, struct xpu_hent x)
{
	if (c->rn == c->rcap) {
		size_t cap = c->rcap ? 2 * c->rcap : 64;
		struct xpu_hent *r = malloc(cap * sizeof(*r));
		if (!r)
			return -ENOMEM;
		for (size_t i = 0; i < c->rn; i++)
			r[i] = *ring_at(c, i);
		free(c->ring);
		c->ring = r;
		c->rh = 0;
		c->rcap = cap;
	}
	c->ring[(c->rh + c->rn++) % c->rcap] = x;
	return 0;
}

static struct xpu_hent ring_remove(struct rclass *c, size_t i)
{
	struct xpu_hent out = *ring_at(c, i);
	if (i == 0) {
		c->rh = (c->rh + 1) % c->rcap;
	} else { /* rare: a head that u cannot run was skipped */
		for (size_t k = i; k + 1 < c->rn; k++)
			*ring_at(c, k) = *ring_at(c, k + 1);
	}
	c->rn--;
	return out;
}

struct xpu_readyq *xpu_readyq_new(void)
{
	return calloc(1, sizeof(struct xpu_readyq));
}

void xpu_readyq_free(struct xpu_readyq *q)
{
	if (!q)
		return;
	for (int c = 0; c < XPU_CLASS_COUNT; c++) {
		xpu_heap_free(&q->cls[c].h);
		free(q->cls[c].ring);
	}
	free(q);
}

int xpu_readyq_push(struct xpu_readyq *q, const struct xpu_task *t, double key)
{
	struct rclass *c = &q->cls[t->cls];
	struct xpu_hent x = {key, q->seq++, t->index};
	int rc = (c->rn == 0 || !before(&x, ring_at(c, c->rn - 1)))
	             ? ring_push(c, x)
	             : xpu_heap_push(&c->h, key, x.seq, t->index);
	if (!rc)
		q->len++;
	return rc;
}

size_t xpu_readyq_len(const struct xpu_readyq *q)
{
	return q->len;
}

/* Where an entry of a class sits: in the ring (ring = 1) or the heap, at index i. */
struct where {
	int ring;
	long i;
};

static const struct xpu_hent *entry(const struct rclass *c, struct where w)
{
	return w.ring ? ring_at(c, (size_t)w.i) : &c->h.a[w.i];
}

/* The first entry of one class that u can run: the ring's head or the heap's top in
 * the common case; a scan only when explicit costs exclude u for that task. i = -1 when
 * none. */
static struct where best_runnable(const struct rclass *c, const struct xpu_engine *e, int u)
{
	struct where best = {0, -1};
	struct where cand[2] = {{1, c->rn ? 0 : -1}, {0, c->h.n ? 0 : -1}};
	for (int k = 0; k < 2; k++)
		if (cand[k].i >= 0 && (best.i < 0 || before(entry(c, cand[k]), entry(c, best))))
			best = cand[k];
	if (best.i < 0 || xpu_can_run(e, xpu_task_at(e, entry(c, best)->task), u))
		return best;
	best.i = -1;
	for (size_t i = 0; i < c->rn; i++) {
		struct where w = {1, (long)i};
		if ((best.i < 0 || before(entry(c, w), entry(c, best))) &&
		    xpu_can_run(e, xpu_task_at(e, entry(c, w)->task), u))
			best = w;
	}
	for (size_t i = 0; i < c->h.n; i++) {
		struct where w = {0, (long)i};
		if ((best.i < 0 || before(entry(c, w), entry(c, best))) &&
		    xpu_can_run(e, xpu_task_at(e, entry(c, w)->task), u))
			best = w;
	}
	return best;
}

const struct xpu_task *xpu_readyq_take(struct xpu_readyq *q, const struct xpu_engine *e, int u)
{
	const struct xpu_unit *un = xpu_unit_at(e, u);
	int bc = -1;
	struct where bw = {0, -1};
	for (int c = 0; c < XPU_CLASS_COUNT; c++) {
		const struct rclass *rc = &q->cls[c];
		if ((!rc->h.n && !rc->rn) || (un->has_class_props && !un->cls[c].supported))
			continue;
		struct where w = best_runnable(rc, e, u);
		if (w.i >= 0 && (bc < 0 || before(entry(rc, w), entry(&q->cls[bc], bw)))) {
			bc = c;
			bw = w;
		}
	}
	if (bc < 0)
		return NULL;
	struct rclass *c = &q->cls[bc];
	struct xpu_hent h =
	    bw.ring ? ring_remove(c, (size_t)bw.i) : xpu_heap_remove(&c->h, (size_t)bw.i);
	q->len--;
	return xpu_task_at(e, h.task);
}
