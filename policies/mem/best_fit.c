/* best_fit.c — best fit over each memory pool's address range: a request takes the
 * smallest free extent that holds it (the lowest address among equals), and a freed
 * block merges with the free extents it touches. Free extents sit in two treaps, one
 * by (length, offset) for the search and one by offset for the merge (extset.h):
 * O(log n) per operation in the free extents n. */
#include <errno.h>
#include <stdlib.h>

#include "arena.h"
#include "extset.h"

struct bf {
	struct arena a; /* first: the arena operations cast priv to it */
	struct extset x;
	uint32_t *root; /* per pool: [2 * pool + tree] */
};

static int bf_init(struct xpu_mem *m)
{
	struct bf *b = calloc(1, sizeof(*b));
	if (!b)
		return -ENOMEM;
	m->priv = b;
	int rc = arena_init(&b->a, m->eng);
	if (rc)
		return rc;
	b->root = calloc(2 * (size_t)b->a.npools + 2, sizeof(*b->root));
	if (!b->root)
		return -ENOMEM;
	for (int p = 0; p < b->a.npools; p++) {
		uint32_t i = ext_new(&b->x, 0, b->a.capacity[p]);
		if (!i)
			return -ENOMEM;
		ext_insert(&b->x, &b->root[2 * p], i, 0);
		ext_insert(&b->x, &b->root[2 * p + 1], i, 1);
	}
	return 0;
}

static void bf_fini(struct xpu_mem *m)
{
	struct bf *b = m->priv;
	if (!b)
		return;
	arena_fini(&b->a);
	ext_free(&b->x);
	free(b->root);
	free(b);
	m->priv = NULL;
}

static int bf_alloc(struct xpu_mem *m, int pool, double bytes, uint64_t *handle)
{
	struct bf *b = m->priv;
	struct extset *x = &b->x;
	uint64_t len = arena_bytes(bytes);
	if (!len || len > b->a.capacity[pool])
		return -E2BIG;
	uint32_t best = ext_fit(x, b->root[2 * pool + 1], len);
	if (!best)
		return -ENOSPC;
	if (arena_add(&b->a, pool, x->n[best].off, len, 0, handle))
		return -ENOMEM;
	ext_erase(x, &b->root[2 * pool + 1], best, 1);
	if (x->n[best].len == len) {
		ext_erase(x, &b->root[2 * pool], best, 0);
		ext_drop(x, best);
	} else {
		/* the rest keeps its place in offset order */
		x->n[best].off += len;
		x->n[best].len -= len;
		ext_insert(x, &b->root[2 * pool + 1], best, 1);
	}
	return 0;
}

static void bf_free(struct xpu_mem *m, int pool, uint64_t handle)
{
	struct bf *b = m->priv;
	struct extset *x = &b->x;
	struct arena_block *blk = arena_get(&b->a, pool, handle);
	if (!blk)
		return;
	uint64_t off = blk->off, len = blk->len;
	arena_remove(&b->a, handle);
	uint32_t prev, next;
	ext_around(x, b->root[2 * pool], off, &prev, &next);
	int with_prev = prev && x->n[prev].off + x->n[prev].len == off;
	int with_next = next && off + len == x->n[next].off;
	if (with_prev) {
		ext_erase(x, &b->root[2 * pool + 1], prev, 1);
		x->n[prev].len += len;
		if (with_next) {
			x->n[prev].len += x->n[next].len;
			ext_erase(x, &b->root[2 * pool + 1], next, 1);
			ext_erase(x, &b->root[2 * pool], next, 0);
			ext_drop(x, next);
		}
		ext_insert(x, &b->root[2 * pool + 1], prev, 1);
	} else if (with_next) {
		ext_erase(x, &b->root[2 * pool + 1], next, 1);
		x->n[next].off = off; /* still between the same neighbours */
		x->n[next].len += len;
		ext_insert(x, &b->root[2 * pool + 1], next, 1);
	} else {
		uint32_t i = ext_new(x, off, len);
		if (!i)
			return; /* out of memory: the extent is lost, never overcommitted */
		ext_insert(x, &b->root[2 * pool], i, 0);
		ext_insert(x, &b->root[2 * pool + 1], i, 1);
	}
}

static void bf_free_space(struct xpu_mem *m, int pool, double *free_bytes, double *largest)
{
	struct bf *b = m->priv;
	uint32_t r = ext_largest(&b->x, b->root[2 * pool + 1]);
	*free_bytes = (double)(b->a.capacity[pool] - b->a.used[pool]);
	*largest = r ? (double)b->x.n[r].len : 0;
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
