/* best_fit.c — best fit over each memory pool's address range: a request takes the
 * smallest free extent that holds it (the lowest address among equals), and a freed
 * block merges with the free extents it touches. Free extents sit in two treaps, one
 * by (length, offset) for the search and one by offset for the merge: O(log n) per
 * operation in the free extents n. */
#include <errno.h>
#include <stdlib.h>

#include "arena.h"

/* One free extent, a node of both treaps (t = 0: by offset; t = 1: by length). */
struct node {
	uint64_t off, len;
	uint32_t pri;
	uint32_t kid[2][2]; /* kid[t][0] left, kid[t][1] right; 0 = none */
};

struct bf {
	struct arena a; /* first: the arena operations cast priv to it */
	struct node *n; /* n[0] unused: index 0 is "none" */
	uint32_t nn, cap, freelist;
	uint32_t *root; /* per pool: [2 * pool + t] */
	uint64_t seed;
};

static int less(const struct node *x, const struct node *y, int t)
{
	if (t == 1 && x->len != y->len)
		return x->len < y->len;
	return x->off < y->off;
}

/* Split tree r by key x: *lo holds the keys below x, *hi the others. */
static void split(struct bf *b, uint32_t r, const struct node *x, int t, uint32_t *lo, uint32_t *hi)
{
	if (!r) {
		*lo = *hi = 0;
		return;
	}
	struct node *n = &b->n[r];
	if (less(n, x, t)) {
		split(b, n->kid[t][1], x, t, &n->kid[t][1], hi);
		*lo = r;
	} else {
		split(b, n->kid[t][0], x, t, lo, &n->kid[t][0]);
		*hi = r;
	}
}

static uint32_t merge(struct bf *b, uint32_t l, uint32_t r, int t)
{
	if (!l || !r)
		return l ? l : r;
	if (b->n[l].pri > b->n[r].pri) {
		b->n[l].kid[t][1] = merge(b, b->n[l].kid[t][1], r, t);
		return l;
	}
	b->n[r].kid[t][0] = merge(b, l, b->n[r].kid[t][0], t);
	return r;
}

static void insert(struct bf *b, uint32_t *root, uint32_t i, int t)
{
	uint32_t lo, hi;
	b->n[i].kid[t][0] = b->n[i].kid[t][1] = 0;
	split(b, *root, &b->n[i], t, &lo, &hi);
	*root = merge(b, merge(b, lo, i, t), hi, t);
}

static void erase(struct bf *b, uint32_t *root, uint32_t i, int t)
{
	uint32_t *p = root;
	while (*p && *p != i)
		p = &b->n[*p].kid[t][less(&b->n[*p], &b->n[i], t) ? 1 : 0];
	if (*p)
		*p = merge(b, b->n[i].kid[t][0], b->n[i].kid[t][1], t);
}

static uint32_t new_node(struct bf *b, uint64_t off, uint64_t len)
{
	uint32_t i;
	if (b->freelist) {
		i = b->freelist;
		b->freelist = b->n[i].kid[0][0];
	} else {
		if (b->nn + 1 >= b->cap) {
			uint32_t cap = b->cap ? 2 * b->cap : 256;
			struct node *n = realloc(b->n, (size_t)cap * sizeof(*n));
			if (!n)
				return 0;
			b->n = n;
			b->cap = cap;
		}
		i = ++b->nn;
	}
	b->seed = b->seed * 6364136223846793005ULL + 1442695040888963407ULL;
	b->n[i] = (struct node){.off = off, .len = len, .pri = (uint32_t)(b->seed >> 33)};
	return i;
}

static void drop_node(struct bf *b, uint32_t i)
{
	b->n[i].kid[0][0] = b->freelist;
	b->freelist = i;
}

static int bf_init(struct xpu_mem *m)
{
	struct bf *b = calloc(1, sizeof(*b));
	if (!b)
		return -ENOMEM;
	m->priv = b;
	b->seed = 0x9e3779b97f4a7c15ULL;
	int rc = arena_init(&b->a, m->eng);
	if (rc)
		return rc;
	b->root = calloc(2 * (size_t)b->a.npools + 2, sizeof(*b->root));
	if (!b->root)
		return -ENOMEM;
	for (int p = 0; p < b->a.npools; p++) {
		uint32_t i = new_node(b, 0, b->a.capacity[p]);
		if (!i)
			return -ENOMEM;
		insert(b, &b->root[2 * p], i, 0);
		insert(b, &b->root[2 * p + 1], i, 1);
	}
	return 0;
}

static void bf_fini(struct xpu_mem *m)
{
	struct bf *b = m->priv;
	if (!b)
		return;
	arena_fini(&b->a);
	free(b->n);
	free(b->root);
	free(b);
	m->priv = NULL;
}

static int bf_alloc(struct xpu_mem *m, int pool, double bytes, uint64_t *handle)
{
	struct bf *b = m->priv;
	uint64_t len = arena_bytes(bytes);
	if (!len || len > b->a.capacity[pool])
		return -E2BIG;
	/* the smallest extent of at least len bytes */
	uint32_t best = 0;
	for (uint32_t r = b->root[2 * pool + 1]; r;) {
		if (b->n[r].len >= len) {
			best = r;
			r = b->n[r].kid[1][0];
		} else {
			r = b->n[r].kid[1][1];
		}
	}
	if (!best)
		return -ENOSPC;
	uint64_t off = b->n[best].off;
	if (arena_add(&b->a, pool, off, len, 0, handle))
		return -ENOMEM;
	erase(b, &b->root[2 * pool + 1], best, 1);
	if (b->n[best].len == len) {
		erase(b, &b->root[2 * pool], best, 0);
		drop_node(b, best);
	} else {
		/* the rest keeps its place in offset order */
		b->n[best].off += len;
		b->n[best].len -= len;
		insert(b, &b->root[2 * pool + 1], best, 1);
	}
	return 0;
}

static void bf_free(struct xpu_mem *m, int pool, uint64_t handle)
{
	struct bf *b = m->priv;
	struct arena_block *blk = arena_get(&b->a, pool, handle);
	if (!blk)
		return;
	uint64_t off = blk->off, len = blk->len;
	arena_remove(&b->a, handle);
	/* the free neighbours: the last extent before off and the first after it */
	uint32_t prev = 0, next = 0;
	for (uint32_t r = b->root[2 * pool]; r;) {
		if (b->n[r].off < off) {
			prev = r;
			r = b->n[r].kid[0][1];
		} else {
			next = r;
			r = b->n[r].kid[0][0];
		}
	}
	int with_prev = prev && b->n[prev].off + b->n[prev].len == off;
	int with_next = next && off + len == b->n[next].off;
	if (with_prev) {
		erase(b, &b->root[2 * pool + 1], prev, 1);
		b->n[prev].len += len;
		if (with_next) {
			b->n[prev].len += b->n[next].len;
			erase(b, &b->root[2 * pool + 1], next, 1);
			erase(b, &b->root[2 * pool], next, 0);
			drop_node(b, next);
		}
		insert(b, &b->root[2 * pool + 1], prev, 1);
	} else if (with_next) {
		erase(b, &b->root[2 * pool + 1], next, 1);
		b->n[next].off = off; /* still between the same neighbours */
		b->n[next].len += len;
		insert(b, &b->root[2 * pool + 1], next, 1);
	} else {
		uint32_t i = new_node(b, off, len);
		if (!i)
			return; /* out of memory: the extent is lost, never overcommitted */
		insert(b, &b->root[2 * pool], i, 0);
		insert(b, &b->root[2 * pool + 1], i, 1);
	}
}

static void bf_free_space(struct xpu_mem *m, int pool, double *free_bytes, double *largest)
{
	struct bf *b = m->priv;
	uint32_t r = b->root[2 * pool + 1];
	while (r && b->n[r].kid[1][1])
		r = b->n[r].kid[1][1];
	*free_bytes = (double)(b->a.capacity[pool] - b->a.used[pool]);
	*largest = r ? (double)b->n[r].len : 0;
}

const struct xpu_mem_ops xpu_mem_best_fit = {
    .head = {.version = XPU_MEM_VERSION,
             .name = "best-fit",
             .description = "best-fit allocator per memory pool (smallest free extent that "
                            "fits; O(log n) treaps); tasks wait when memory is full"},
    .init = bf_init,
    .fini = bf_fini,
    .alloc = bf_alloc,
    .free = bf_free,
    .used = arena_used_op,
    .where = arena_where_op,
    .free_space = bf_free_space,
};
