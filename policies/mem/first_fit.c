/* first_fit.c — a first-fit allocator over each memory pool's address range: blocks
 * go to the lowest free extent large enough, so fragmentation is modelled, and a
 * request that does not fit waits (-ENOSPC) rather than overcommitting. */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "xpu.h"

struct extent {
	uint64_t off, len;
};

struct pool {
	uint64_t capacity;
	uint64_t used;
	struct extent *free; /* sorted by offset, never adjacent */
	size_t nfree, cap;
};

struct block {
	uint64_t off, len; /* len 0: slot unused */
};

struct ff {
	int npools;
	struct pool *pools;
	struct block *blocks; /* handle - 1 indexes this */
	size_t nblocks, cap;
	uint64_t *spare; /* released handles */
	size_t nspare, spare_cap;
};

static int ff_init(struct xpu_mem *m)
{
	const struct xpu_platform *pf = xpu_platform_of(m->eng);
	struct ff *f = calloc(1, sizeof(*f));
	if (!f)
		return -ENOMEM;
	m->priv = f;
	f->npools = pf->npools;
	f->pools = calloc((size_t)pf->npools + 1, sizeof(*f->pools));
	if (!f->pools)
		return -ENOMEM; /* fini frees what exists */
	for (int i = 0; i < pf->npools; i++) {
		struct pool *p = &f->pools[i];
		/* capacity 0 in the platform means unlimited */
		p->capacity =
		    pf->pools[i].capacity > 0 ? (uint64_t)pf->pools[i].capacity : UINT64_MAX / 2;
		p->free = malloc(sizeof(*p->free));
		if (!p->free)
			return -ENOMEM; /* fini frees what exists */
		p->free[0] = (struct extent){0, p->capacity};
		p->nfree = p->cap = 1;
	}
	return 0;
}

static void ff_fini(struct xpu_mem *m)
{
	struct ff *f = m->priv;
	if (!f)
		return;
	for (int i = 0; i < f->npools; i++)
		free(f->pools[i].free);
	free(f->pools);
	free(f->blocks);
	free(f->spare);
	free(f);
}

static int new_handle(struct ff *f, uint64_t *h)
{
	if (f->nspare) {
		*h = f->spare[--f->nspare];
		return 0;
	}
	if (f->nblocks == f->cap) {
		size_t cap = f->cap ? 2 * f->cap : 64;
		struct block *b = realloc(f->blocks, cap * sizeof(*b));
		if (!b)
			return -ENOMEM;
		f->blocks = b;
		f->cap = cap;
	}
	*h = ++f->nblocks;
	return 0;
}

static int ff_alloc(struct xpu_mem *m, int pool, double bytes, uint64_t *handle)
{
	struct ff *f = m->priv;
	struct pool *p = &f->pools[pool];
	uint64_t len = (uint64_t)ceil(bytes);
	if (len == 0)
		len = 1;
	if (len > p->capacity)
		return -E2BIG;
	for (size_t i = 0; i < p->nfree; i++) {
		struct extent *x = &p->free[i];
		if (x->len < len)
			continue;
		uint64_t h;
		if (new_handle(f, &h))
			return -ENOMEM;
		f->blocks[h - 1] = (struct block){x->off, len};
		x->off += len;
		x->len -= len;
		if (!x->len) {
			for (size_t k = i + 1; k < p->nfree; k++)
				p->free[k - 1] = p->free[k];
			p->nfree--;
		}
		p->used += len;
		*handle = h;
		return 0;
	}
	return -ENOSPC;
}

static void ff_free(struct xpu_mem *m, int pool, uint64_t handle)
{
	struct ff *f = m->priv;
	struct pool *p = &f->pools[pool];
	if (handle == 0 || handle > f->nblocks || !f->blocks[handle - 1].len)
		return;
	struct block b = f->blocks[handle - 1];
	f->blocks[handle - 1].len = 0;
	if (f->nspare == f->spare_cap) {
		size_t cap = f->spare_cap ? 2 * f->spare_cap : 64;
		uint64_t *s = realloc(f->spare, cap * sizeof(*s));
		if (s) {
			f->spare = s;
			f->spare_cap = cap;
		}
	}
	if (f->nspare < f->spare_cap)
		f->spare[f->nspare++] = handle;
	p->used -= b.len;
	/* insert keeping offset order, merging with the neighbours it touches */
	size_t i = 0;
	while (i < p->nfree && p->free[i].off < b.off)
		i++;
	int merge_prev = i > 0 && p->free[i - 1].off + p->free[i - 1].len == b.off;
	int merge_next = i < p->nfree && b.off + b.len == p->free[i].off;
	if (merge_prev && merge_next) {
		p->free[i - 1].len += b.len + p->free[i].len;
		for (size_t k = i + 1; k < p->nfree; k++)
			p->free[k - 1] = p->free[k];
		p->nfree--;
	} else if (merge_prev) {
		p->free[i - 1].len += b.len;
	} else if (merge_next) {
		p->free[i].off = b.off;
		p->free[i].len += b.len;
	} else {
		if (p->nfree == p->cap) {
			size_t cap = 2 * p->cap;
			struct extent *x = realloc(p->free, cap * sizeof(*x));
			if (!x)
				return; /* the extent is lost to fragmentation, never overcommitted
				         */
			p->free = x;
			p->cap = cap;
		}
		for (size_t k = p->nfree; k > i; k--)
			p->free[k] = p->free[k - 1];
		p->free[i] = (struct extent){b.off, b.len};
		p->nfree++;
	}
}

static double ff_used(struct xpu_mem *m, int pool)
{
	return (double)((struct ff *)m->priv)->pools[pool].used;
}

static int ff_where(struct xpu_mem *m, int pool, uint64_t handle, uint64_t *off, uint64_t *len)
{
	struct ff *f = m->priv;
	(void)pool;
	if (handle == 0 || handle > f->nblocks || !f->blocks[handle - 1].len)
		return -ENOENT;
	*off = f->blocks[handle - 1].off;
	*len = f->blocks[handle - 1].len;
	return 0;
}

static void ff_free_space(struct xpu_mem *m, int pool, double *free_bytes, double *largest)
{
	struct pool *p = &((struct ff *)m->priv)->pools[pool];
	uint64_t big = 0;
	for (size_t i = 0; i < p->nfree; i++)
		if (p->free[i].len > big)
			big = p->free[i].len;
	*free_bytes = (double)(p->capacity - p->used);
	*largest = (double)big;
}

const struct xpu_mem_ops xpu_mem_first_fit = {
    .head = {.version = XPU_MEM_VERSION,
             .name = "first-fit",
             .description = "first-fit allocator per memory pool; tasks wait when memory is full"},
    .init = ff_init,
    .fini = ff_fini,
    .alloc = ff_alloc,
    .free = ff_free,
    .used = ff_used,
    .where = ff_where,
    .free_space = ff_free_space,
};
