/* arena.c — the block table shared by the address-range allocators (arena.h). */
#include <errno.h>
#include <math.h>
#include <stdlib.h>

#include "arena.h"

int arena_init(struct arena *a, const struct xpu_engine *e)
{
	const struct xpu_platform *pf = xpu_platform_of(e);
	a->npools = pf->npools;
	a->capacity = calloc((size_t)pf->npools + 1, sizeof(*a->capacity));
	a->used = calloc((size_t)pf->npools + 1, sizeof(*a->used));
	if (!a->capacity || !a->used)
		return -ENOMEM;
	for (int i = 0; i < pf->npools; i++) {
		double c = pf->pools[i].capacity;
		a->capacity[i] =
		    c > 0 && c < (double)ARENA_UNLIMITED ? (uint64_t)c : ARENA_UNLIMITED;
	}
	return 0;
}

void arena_fini(struct arena *a)
{
	free(a->capacity);
	free(a->used);
	free(a->b);
	free(a->spare);
}

int arena_add(struct arena *a, int pool, uint64_t off, uint64_t len, uint32_t aux, uint64_t *h)
{
	if (!a->nspare && a->nb == a->cap) {
		uint64_t cap = a->cap ? 2 * a->cap : 256;
		struct arena_block *b = realloc(a->b, cap * sizeof(*b));
		if (!b)
			return -ENOMEM;
		a->b = b;
		a->cap = cap;
		/* room for every handle to come back to the spare list */
		uint64_t *s = realloc(a->spare, cap * sizeof(*s));
		if (!s)
			return -ENOMEM;
		a->spare = s;
		a->spare_cap = cap;
	}
	*h = a->nspare ? a->spare[--a->nspare] : ++a->nb;
	a->b[*h - 1] = (struct arena_block){off, len, (uint32_t)pool, aux};
	a->used[pool] += len;
	return 0;
}

struct arena_block *arena_get(struct arena *a, int pool, uint64_t h)
{
	if (h == 0 || h > a->nb)
		return NULL;
	struct arena_block *b = &a->b[h - 1];
	return b->len && b->pool == (uint32_t)pool ? b : NULL;
}

void arena_remove(struct arena *a, uint64_t h)
{
	struct arena_block *b = &a->b[h - 1];
	a->used[b->pool] -= b->len;
	b->len = 0;
	a->spare[a->nspare++] = h; /* spare_cap >= every handle ever given */
}

uint64_t arena_bytes(double bytes)
{
	if (!(bytes > 0) || !(bytes < 0x1p62))
		return bytes == 0 ? 1 : 0;
	return (uint64_t)ceil(bytes);
}

double arena_used_op(struct xpu_mem *m, int pool)
{
	struct arena *a = m->priv;
	return (double)a->used[pool];
}

int arena_where_op(struct xpu_mem *m, int pool, uint64_t h, uint64_t *off, uint64_t *len)
{
	struct arena_block *b = arena_get(m->priv, pool, h);
	if (!b)
		return -ENOENT;
	*off = b->off;
	*len = b->len;
	return 0;
}
