/* buddy.c — the binary buddy allocator (Knowlton 1965) over each memory pool: blocks of
 * min x 2^k bytes at offsets aligned to their size; a request takes the smallest order
 * that holds it, splitting a larger block in halves, and a freed block merges with its
 * buddy (offset XOR size) while that is free. A pool whose capacity is not a power of
 * two starts as its binary decomposition into aligned blocks. Requests are rounded up
 * to a power of two: internal fragmentation shows in `used`. O(log capacity) per
 * operation. Parameter: min, the smallest block (default 256 bytes; rounded up to a power
 * of two). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"

#define MAX_ORDER 62

/* A free block: on its order's list and in the hash of free blocks. */
struct fnode {
	uint64_t off;
	int32_t pool;               /* -1: node unused */
	uint32_t order, prev, next; /* list links; 0 = none */
	uint32_t hnext;             /* hash chain */
};

struct buddy {
	struct arena a;
	int shift;       /* log2 of the smallest block */
	struct fnode *n; /* n[0] unused */
	uint32_t nn, cap, freelist;
	uint32_t *head;     /* [pool * (MAX_ORDER + 1) + order] */
	uint64_t *nonempty; /* per pool: bit k set when order k has a free block */
	uint32_t *hash;     /* chains of free blocks by (pool, order, off) */
	uint64_t hmask, nlive;
};

static uint64_t hkey(int pool, uint32_t order, uint64_t off)
{
	uint64_t x = off ^ ((uint64_t)order << 56) ^ ((uint64_t)(pool + 1) * 0x9e3779b97f4a7c15ULL);
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	return x;
}

static uint32_t *heads(struct buddy *b, int pool)
{
	return &b->head[(size_t)pool * (MAX_ORDER + 1)];
}

static int rehash(struct buddy *b)
{
	uint64_t size = b->hmask ? 2 * (b->hmask + 1) : 1024;
	uint32_t *h = calloc(size, sizeof(*h));
	if (!h)
		return -ENOMEM;
	free(b->hash);
	b->hash = h;
	b->hmask = size - 1;
	for (uint32_t i = 1; i <= b->nn; i++)
		if (b->n[i].pool >= 0) {
			uint64_t k = hkey(b->n[i].pool, b->n[i].order, b->n[i].off) & b->hmask;
			b->n[i].hnext = h[k];
			h[k] = i;
		}
	return 0;
}

/* Add a free block of order k at off. */
static int add_free(struct buddy *b, int pool, uint32_t k, uint64_t off)
{
	uint32_t i;
	if (b->freelist) {
		i = b->freelist;
		b->freelist = b->n[i].next;
	} else {
		if (b->nn + 1 >= b->cap) {
			uint32_t cap = b->cap ? 2 * b->cap : 256;
			struct fnode *n = realloc(b->n, (size_t)cap * sizeof(*n));
			if (!n)
				return -ENOMEM;
			b->n = n;
			b->cap = cap;
		}
		i = ++b->nn;
	}
	uint32_t *hd = heads(b, pool);
	b->n[i] = (struct fnode){.off = off, .pool = pool, .order = k, .next = hd[k]};
	if (hd[k])
		b->n[hd[k]].prev = i;
	hd[k] = i;
	b->nonempty[pool] |= UINT64_C(1) << k;
	if (++b->nlive > b->hmask / 2 + 1 && rehash(b))
		return -ENOMEM;
	uint64_t h = hkey(pool, k, off) & b->hmask;
	b->n[i].hnext = b->hash[h];
	b->hash[h] = i;
	return 0;
}

static void remove_free(struct buddy *b, uint32_t i)
{
	struct fnode *f = &b->n[i];
	uint32_t *hd = heads(b, f->pool);
	if (f->prev)
		b->n[f->prev].next = f->next;
	else
		hd[f->order] = f->next;
	if (f->next)
		b->n[f->next].prev = f->prev;
	if (!hd[f->order])
		b->nonempty[f->pool] &= ~(UINT64_C(1) << f->order);
	uint32_t *p = &b->hash[hkey(f->pool, f->order, f->off) & b->hmask];
	while (*p != i)
		p = &b->n[*p].hnext;
	*p = f->hnext;
	f->pool = -1;
	f->next = b->freelist;
	b->freelist = i;
	b->nlive--;
}

static uint32_t find_free(struct buddy *b, int pool, uint32_t k, uint64_t off)
{
	for (uint32_t i = b->hash[hkey(pool, k, off) & b->hmask]; i; i = b->n[i].hnext)
		if (b->n[i].pool == pool && b->n[i].order == k && b->n[i].off == off)
			return i;
	return 0;
}

static int bd_init(struct xpu_mem *m)
{
	struct buddy *b = calloc(1, sizeof(*b));
	if (!b)
		return -ENOMEM;
	m->priv = b;
	double min = 256;
	for (int i = 0; i < m->nparams; i++)
		if (!strcmp(m->param[i].key, "min"))
			min = strtod(m->param[i].value, NULL);
	b->shift = 0;
	while ((UINT64_C(1) << b->shift) < (uint64_t)min)
		b->shift++;
	int rc = arena_init(&b->a, m->eng);
	if (rc)
		return rc;
	b->head = calloc((size_t)(b->a.npools + 1) * (MAX_ORDER + 1), sizeof(*b->head));
	b->nonempty = calloc((size_t)b->a.npools + 1, sizeof(*b->nonempty));
	if (!b->head || !b->nonempty || rehash(b))
		return -ENOMEM;
	for (int p = 0; p < b->a.npools; p++) {
		/* the capacity's binary decomposition, largest block first */
		uint64_t units = b->a.capacity[p] >> b->shift, off = 0;
		for (int k = 63 - b->shift; k >= 0; k--)
			if (k <= MAX_ORDER && (units >> k) & 1) {
				if (add_free(b, p, (uint32_t)k, off))
					return -ENOMEM;
				off += UINT64_C(1) << (k + b->shift);
			}
	}
	return 0;
}

static void bd_fini(struct xpu_mem *m)
{
	struct buddy *b = m->priv;
	if (!b)
		return;
	arena_fini(&b->a);
	free(b->n);
	free(b->head);
	free(b->nonempty);
	free(b->hash);
	free(b);
	m->priv = NULL;
}

static int bd_alloc(struct xpu_mem *m, int pool, double bytes, uint64_t *handle)
{
	struct buddy *b = m->priv;
	uint64_t len = arena_bytes(bytes);
	if (!len || len > b->a.capacity[pool])
		return -E2BIG;
	uint32_t k = 0;
	while (k < MAX_ORDER && (UINT64_C(1) << (k + b->shift)) < len)
		k++;
	uint64_t avail = b->nonempty[pool] & (~UINT64_C(0) << k);
	if (!avail) {
		/* larger than any block the pool can ever form: never fits */
		uint64_t top = 0;
		for (int j = MAX_ORDER; j >= 0 && !top; j--)
			if ((b->a.capacity[pool] >> b->shift) >> j)
				top = UINT64_C(1) << (j + b->shift);
		return len > top ? -E2BIG : -ENOSPC;
	}
	uint32_t j = (uint32_t)__builtin_ctzll(avail);
	uint32_t i = heads(b, pool)[j];
	uint64_t off = b->n[i].off;
	remove_free(b, i);
	while (j > k) { /* split: keep the lower half, free the upper */
		j--;
		if (add_free(b, pool, j, off + (UINT64_C(1) << (j + b->shift))))
			return -ENOMEM;
	}
	return arena_add(&b->a, pool, off, UINT64_C(1) << (k + b->shift), k, handle) ? -ENOMEM : 0;
}

static void bd_free(struct xpu_mem *m, int pool, uint64_t handle)
{
	struct buddy *b = m->priv;
	struct arena_block *blk = arena_get(&b->a, pool, handle);
	if (!blk)
		return;
	uint64_t off = blk->off;
	uint32_t k = blk->aux;
	arena_remove(&b->a, handle);
	while (k < MAX_ORDER) {
		uint32_t bud = find_free(b, pool, k, off ^ (UINT64_C(1) << (k + b->shift)));
		if (!bud)
			break;
		remove_free(b, bud);
		off &= ~(UINT64_C(1) << (k + b->shift));
		k++;
	}
	(void)add_free(b, pool, k, off); /* out of memory: the block is lost, not reused */
}

static void bd_free_space(struct xpu_mem *m, int pool, double *free_bytes, double *largest)
{
	struct buddy *b = m->priv;
	uint64_t ne = b->nonempty[pool];
	*free_bytes = (double)(b->a.capacity[pool] - b->a.used[pool]);
	*largest = ne ? (double)(UINT64_C(1) << (63 - __builtin_clzll(ne) + b->shift)) : 0;
}

static const struct xpu_param_spec bd_params[] = {
    {"min", XPU_PARAM_INT, 1, 1 << 30,
     "smallest block in bytes, rounded up to a power of two (default 256)"},
    {NULL, 0, 0, 0, NULL},
};

const struct xpu_mem_ops xpu_mem_buddy = {
    .head = {.version = XPU_MEM_VERSION,
             .name = "buddy",
             .description = "binary buddy allocator per memory pool (power-of-two blocks, "
                            "split and merge); tasks wait when memory is full",
             .params = bd_params},
    .init = bd_init,
    .fini = bd_fini,
    .alloc = bd_alloc,
    .free = bd_free,
    .used = arena_used_op,
    .where = arena_where_op,
    .free_space = bd_free_space,
};
