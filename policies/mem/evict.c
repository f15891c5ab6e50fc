/* evict.c — eviction policies: lru, lru-clean and belady. Each runs one of the
 * allocators (first-fit, best-fit, buddy, tlsf, caching: parameter alloc) and, when a
 * request does not fit, names the copy to evict among the engine's candidates (copies
 * no staged or running task pins, outside the home memory; engine/data.c):
 *
 *   lru        the candidate idle longest: copies join at the tail of their memory's
 *              list when they become candidates (when the last task using them ends,
 *              or when they arrive), and the head leaves first;
 *   lru-clean  the same order, but a clean candidate (another memory holds a valid
 *              copy) leaves before any dirty one (the only valid copy, written back
 *              home first): StarPU's preference for clean victims, which saves the
 *              write-back;
 *   belady     the candidate whose next use lies furthest in the trace (Belady 1966's
 *              optimal replacement, possible in simulation because the whole trace is
 *              known); clean before dirty at equal distance. On one unit running tasks
 *              in trace order it moves the fewest bytes; elsewhere it is the bound
 *              studies compare with.
 *
 * Parameters: alloc (default first-fit), prefetch (place: inputs move when a task is
 * placed, StarPU dmda's prefetch; head: when it reaches the head of its unit's queue),
 * and the allocator's own (tlsf's sli, buddy's min). Every operation costs O(1) (lru,
 * lru-clean) or O(log n) in the candidates of one memory (belady). */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "xpu.h"

extern const struct xpu_mem_ops xpu_mem_first_fit, xpu_mem_best_fit, xpu_mem_buddy, xpu_mem_tlsf,
    xpu_mem_caching;

#define NIL UINT32_MAX

enum { LRU, LRU_CLEAN, BELADY };

struct ev {
	struct xpu_mem inner;
	int mode, prefetch, npools;
	/* per copy id */
	uint32_t *prev, *next, *pos;
	double *key;
	int32_t *pool;
	uint8_t *dirty, *in;
	uint32_t cap;
	/* per pool: list heads and tails [pool * 2 + dirty] (lru uses the clean one) */
	uint32_t *head, *tail;
	/* per pool (belady): a max-heap of ids by (next use, clean first, lower id) */
	uint32_t **heap;
	uint32_t *hn, *hcap;
};

static const struct xpu_mem_ops *allocator(const char *name)
{
	static const struct xpu_mem_ops *const all[] = {
	    &xpu_mem_first_fit, &xpu_mem_best_fit, &xpu_mem_buddy, &xpu_mem_tlsf, &xpu_mem_caching};
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		if (!strcmp(all[i]->head.name, name))
			return all[i];
	return NULL;
}

static int grow(struct ev *v, uint32_t id)
{
	if (id < v->cap)
		return 0;
	uint32_t cap = v->cap ? v->cap : 256;
	while (cap <= id)
		cap *= 2;
#define GROW(field)                                                                                \
	do {                                                                                       \
		void *p = realloc(v->field, (size_t)cap * sizeof(*v->field));                      \
		if (!p)                                                                            \
			return -ENOMEM;                                                            \
		v->field = p;                                                                      \
	} while (0)
	GROW(prev);
	GROW(next);
	GROW(pos);
	GROW(key);
	GROW(pool);
	GROW(dirty);
	GROW(in);
#undef GROW
	memset(v->in + v->cap, 0, cap - v->cap);
	v->cap = cap;
	return 0;
}

/* ------------------------------------------------------------------ lists */

static void list_append(struct ev *v, uint32_t id)
{
	uint32_t l = (uint32_t)v->pool[id] * 2 + (v->mode == LRU_CLEAN && v->dirty[id]);
	v->prev[id] = v->tail[l];
	v->next[id] = NIL;
	if (v->tail[l] != NIL)
		v->next[v->tail[l]] = id;
	else
		v->head[l] = id;
	v->tail[l] = id;
}

static void list_unlink(struct ev *v, uint32_t id)
{
	uint32_t l = (uint32_t)v->pool[id] * 2 + (v->mode == LRU_CLEAN && v->dirty[id]);
	if (v->prev[id] != NIL)
		v->next[v->prev[id]] = v->next[id];
	else
		v->head[l] = v->next[id];
	if (v->next[id] != NIL)
		v->prev[v->next[id]] = v->prev[id];
	else
		v->tail[l] = v->prev[id];
}

/* ------------------------------------------------------------------ heap (belady) */

/* 1 when a should leave before b. */
static int before(const struct ev *v, uint32_t a, uint32_t b)
{
	if (v->key[a] != v->key[b])
		return v->key[a] > v->key[b];
	if (v->dirty[a] != v->dirty[b])
		return !v->dirty[a];
	return a < b;
}

static void heap_set(struct ev *v, uint32_t *h, uint32_t i, uint32_t id)
{
	h[i] = id;
	v->pos[id] = i;
}

static void sift_up(struct ev *v, uint32_t *h, uint32_t i)
{
	uint32_t id = h[i];
	while (i > 0) {
		uint32_t p = (i - 1) / 2;
		if (!before(v, id, h[p]))
			break;
		heap_set(v, h, i, h[p]);
		i = p;
	}
	heap_set(v, h, i, id);
}

static void sift_down(struct ev *v, uint32_t *h, uint32_t n, uint32_t i)
{
	uint32_t id = h[i];
	for (;;) {
		uint32_t c = 2 * i + 1;
		if (c >= n)
			break;
		if (c + 1 < n && before(v, h[c + 1], h[c]))
			c++;
		if (!before(v, h[c], id))
			break;
		heap_set(v, h, i, h[c]);
		i = c;
	}
	heap_set(v, h, i, id);
}

static int heap_push(struct ev *v, uint32_t id)
{
	int p = v->pool[id];
	if (v->hn[p] == v->hcap[p]) {
		uint32_t cap = v->hcap[p] ? 2 * v->hcap[p] : 64;
		uint32_t *h = realloc(v->heap[p], (size_t)cap * sizeof(*h));
		if (!h)
			return -ENOMEM;
		v->heap[p] = h;
		v->hcap[p] = cap;
	}
	uint32_t i = v->hn[p]++;
	v->heap[p][i] = id;
	sift_up(v, v->heap[p], i);
	return 0;
}

static void heap_remove(struct ev *v, uint32_t id)
{
	int p = v->pool[id];
	uint32_t *h = v->heap[p], i = v->pos[id], last = h[--v->hn[p]];
	if (i == v->hn[p])
		return;
	heap_set(v, h, i, last);
	sift_up(v, h, i);
	sift_down(v, h, v->hn[p], v->pos[last]);
}

/* ------------------------------------------------------------------ ops */

static void ev_note(struct xpu_mem *m, const struct xpu_candidate *c, int event)
{
	struct ev *v = m->priv;
	if (c->pool < 0 || c->pool >= v->npools || grow(v, c->id))
		return; /* out of memory: the copy is simply never chosen */
	uint32_t id = c->id;
	if (event == XPU_CAND_DEL || event == XPU_CAND_UPDATE) {
		if (!v->in[id])
			return;
		if (v->mode == BELADY)
			heap_remove(v, id);
		else if (event == XPU_CAND_DEL ||
		         (v->mode == LRU_CLEAN && v->dirty[id] != c->dirty))
			list_unlink(v, id);
		else
			return; /* lru: an update leaves its place in the order */
		v->in[id] = 0;
		if (event == XPU_CAND_DEL)
			return;
	}
	v->pool[id] = c->pool;
	v->dirty[id] = c->dirty;
	v->key[id] = c->next_use;
	if (v->mode == BELADY) {
		if (heap_push(v, id))
			return;
	} else {
		list_append(v, id);
	}
	v->in[id] = 1;
}

static int ev_victim(struct xpu_mem *m, int pool, uint32_t *id)
{
	struct ev *v = m->priv;
	if (pool < 0 || pool >= v->npools)
		return -ENOENT;
	uint32_t x = NIL;
	if (v->mode == BELADY)
		x = v->hn[pool] ? v->heap[pool][0] : NIL;
	else
		x = v->head[pool * 2] != NIL ? v->head[pool * 2] : v->head[pool * 2 + 1];
	if (x == NIL)
		return -ENOENT;
	*id = x;
	return 0;
}

static int ev_init_mode(struct xpu_mem *m, int mode)
{
	struct ev *v = calloc(1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	m->priv = v;
	v->mode = mode;
	const char *pf = xpu_param_str(m->param, m->nparams, "prefetch", "place");
	v->prefetch = !strcmp(pf, "head")   ? XPU_PREFETCH_HEAD
	              : !strcmp(pf, "idle") ? XPU_PREFETCH_IDLE
	                                    : XPU_PREFETCH_PLACE;
	const struct xpu_mem_ops *a =
	    allocator(xpu_param_str(m->param, m->nparams, "alloc", "first-fit"));
	if (!a || (strcmp(pf, "head") && strcmp(pf, "place") && strcmp(pf, "idle")))
		return -EINVAL; /* checked when the spec was read */
	v->npools = xpu_platform_of(m->eng)->npools;
	size_t np = (size_t)v->npools + 1;
	v->head = malloc(2 * np * sizeof(*v->head));
	v->tail = malloc(2 * np * sizeof(*v->tail));
	v->heap = calloc(np, sizeof(*v->heap));
	v->hn = calloc(np, sizeof(*v->hn));
	v->hcap = calloc(np, sizeof(*v->hcap));
	if (!v->head || !v->tail || !v->heap || !v->hn || !v->hcap)
		return -ENOMEM;
	for (size_t i = 0; i < 2 * np; i++)
		v->head[i] = v->tail[i] = NIL;
	/* the allocator reads its own parameters among these */
	v->inner =
	    (struct xpu_mem){.ops = a, .eng = m->eng, .nparams = m->nparams, .param = m->param};
	return a->init ? a->init(&v->inner) : 0;
}

static int lru_init(struct xpu_mem *m)
{
	return ev_init_mode(m, LRU);
}

static int lru_clean_init(struct xpu_mem *m)
{
	return ev_init_mode(m, LRU_CLEAN);
}

static int belady_init(struct xpu_mem *m)
{
	return ev_init_mode(m, BELADY);
}

static void ev_fini(struct xpu_mem *m)
{
	struct ev *v = m->priv;
	if (!v)
		return;
	if (v->inner.ops && v->inner.ops->fini)
		v->inner.ops->fini(&v->inner);
	for (int p = 0; v->heap && p < v->npools; p++)
		free(v->heap[p]);
	free(v->heap);
	free(v->hn);
	free(v->hcap);
	free(v->head);
	free(v->tail);
	free(v->prev);
	free(v->next);
	free(v->pos);
	free(v->key);
	free(v->pool);
	free(v->dirty);
	free(v->in);
	free(v);
	m->priv = NULL;
}

/* The allocator's operations, on the inner table. */
static int ev_alloc(struct xpu_mem *m, int pool, double bytes, uint64_t *handle)
{
	struct ev *v = m->priv;
	return v->inner.ops->alloc(&v->inner, pool, bytes, handle);
}

static void ev_free(struct xpu_mem *m, int pool, uint64_t handle)
{
	struct ev *v = m->priv;
	v->inner.ops->free(&v->inner, pool, handle);
}

static double ev_used(struct xpu_mem *m, int pool)
{
	struct ev *v = m->priv;
	return v->inner.ops->used(&v->inner, pool);
}

static int ev_where(struct xpu_mem *m, int pool, uint64_t h, uint64_t *off, uint64_t *len)
{
	struct ev *v = m->priv;
	return v->inner.ops->where ? v->inner.ops->where(&v->inner, pool, h, off, len) : -ENOENT;
}

static void ev_free_space(struct xpu_mem *m, int pool, double *free_bytes, double *largest)
{
	struct ev *v = m->priv;
	v->inner.ops->free_space(&v->inner, pool, free_bytes, largest);
}

static int ev_prefetch(struct xpu_mem *m)
{
	return ((struct ev *)m->priv)->prefetch;
}

static const struct xpu_param_spec ev_params[] = {
    {"alloc", XPU_PARAM_WORD, 0, 0,
     "first-fit|best-fit|buddy|tlsf|caching: the allocator (default first-fit)"},
    {"prefetch", XPU_PARAM_WORD, 0, 0,
     "place|head|idle: inputs move when the task is placed, when it reaches the head of "
     "its unit's queue, or when placed but only while the link carries no demand copy "
     "(default place)"},
    {"sli", XPU_PARAM_INT, 1, 6, "with alloc=tlsf or caching: TLSF second-level bits (default 5)"},
    {"min", XPU_PARAM_INT, 1, 1 << 30, "with alloc=buddy: smallest block in bytes (default 256)"},
    {NULL, 0, 0, 0, NULL},
};

#define EVICT_TABLE(SYM, NAME, INIT, DESC)                                                         \
	const struct xpu_mem_ops SYM = {                                                           \
	    .head = {.version = XPU_MEM_VERSION,                                                   \
	             .name = NAME,                                                                 \
	             .description = DESC,                                                          \
	             .params = ev_params},                                                         \
	    .init = INIT,                                                                          \
	    .fini = ev_fini,                                                                       \
	    .alloc = ev_alloc,                                                                     \
	    .free = ev_free,                                                                       \
	    .used = ev_used,                                                                       \
	    .where = ev_where,                                                                     \
	    .free_space = ev_free_space,                                                           \
	    .note = ev_note,                                                                       \
	    .victim = ev_victim,                                                                   \
	    .prefetch = ev_prefetch,                                                               \
	}

EVICT_TABLE(xpu_mem_lru, "lru", lru_init,
            "an allocator (alloc=) that evicts the copy idle longest when memory is full; "
            "the only valid copy is written back home first");
EVICT_TABLE(xpu_mem_lru_clean, "lru-clean", lru_clean_init,
            "as lru, but clean copies (valid elsewhere too) leave before dirty ones, "
            "saving write-backs (StarPU's preference)");
EVICT_TABLE(xpu_mem_belady, "belady", belady_init,
            "evicts the copy whose next use lies furthest in the trace (Belady's offline "
            "optimum, simulation only): a lower bound on transfers for studies");
