/* pages.c — paged memory for caches that grow a block at a time (xpu.h, "Paged
 * memory"): a memory's capacity cut into fixed-size blocks handed out one by one, each
 * owner (an LLM request's KV cache, say) holding a table of its blocks, in the manner of
 * vLLM's block manager (Kwon et al., "Efficient Memory Management for Large Language
 * Model Serving with PagedAttention", SOSP 2023). A watermark keeps a share of the
 * blocks for the growth of owners already admitted: a new owner gets in only when the
 * blocks left after its first ones stay above it, so that admitting work does not
 * immediately force the preemption of running work. Free blocks form a stack; owners
 * are found through an open-addressing hash: every operation is O(1) amortised in the
 * blocks it moves. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>

#include "xpu.h"

struct owner {
	uint64_t id; /* UINT64_MAX: empty slot */
	uint32_t *b; /* its blocks, in the order it got them */
	uint32_t n, cap;
	uint8_t gone; /* released: a tombstone for the probe sequence */
};

struct xpu_pages {
	uint32_t total, nfree;
	uint32_t *free;   /* stack of free block numbers */
	uint32_t reserve; /* blocks the watermark keeps for growth */
	double block;
	struct owner *o;
	size_t ocap, oused; /* slots, and slots ever used (live + tombstones) */
};

#define EMPTY UINT64_MAX

struct xpu_pages *xpu_pages_new(double capacity, double block_bytes, double watermark)
{
	if (!(block_bytes > 0) || !(capacity >= block_bytes) || !(watermark >= 0) ||
	    !(watermark < 1) || capacity / block_bytes > 4e9)
		return NULL;
	struct xpu_pages *p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->total = (uint32_t)floor(capacity / block_bytes);
	p->block = block_bytes;
	p->reserve = (uint32_t)ceil(watermark * p->total);
	p->free = malloc((size_t)p->total * sizeof(*p->free));
	p->ocap = 64;
	p->o = malloc(p->ocap * sizeof(*p->o));
	if (!p->free || !p->o) {
		xpu_pages_free(p);
		return NULL;
	}
	for (size_t i = 0; i < p->ocap; i++)
		p->o[i] = (struct owner){.id = EMPTY};
	/* block 0 on top: owners get low numbers first */
	for (uint32_t i = 0; i < p->total; i++)
		p->free[i] = p->total - 1 - i;
	p->nfree = p->total;
	return p;
}

void xpu_pages_free(struct xpu_pages *p)
{
	if (!p)
		return;
	for (size_t i = 0; p->o && i < p->ocap; i++)
		free(p->o[i].b);
	free(p->o);
	free(p->free);
	free(p);
}

static size_t slot_of(uint64_t id, size_t cap)
{
	uint64_t h = id * 0x9e3779b97f4a7c15ULL;
	return (size_t)(h ^ (h >> 29)) & (cap - 1);
}

/* The owner id's entry, or NULL; with add, a new entry when it has none. */
static struct owner *find(struct xpu_pages *p, uint64_t id, int add)
{
	if (add && (p->oused + 1) * 2 > p->ocap) {
		/* grow (and drop tombstones) */
		size_t cap = p->ocap * 2;
		struct owner *o = malloc(cap * sizeof(*o));
		if (!o)
			return NULL;
		for (size_t i = 0; i < cap; i++)
			o[i] = (struct owner){.id = EMPTY};
		size_t used = 0;
		for (size_t i = 0; i < p->ocap; i++) {
			if (p->o[i].id == EMPTY || p->o[i].gone)
				continue;
			size_t k = slot_of(p->o[i].id, cap);
			while (o[k].id != EMPTY)
				k = (k + 1) & (cap - 1);
			o[k] = p->o[i];
			used++;
		}
		free(p->o);
		p->o = o;
		p->ocap = cap;
		p->oused = used;
	}
	size_t k = slot_of(id, p->ocap), tomb = SIZE_MAX;
	while (p->o[k].id != EMPTY) {
		if (p->o[k].id == id && !p->o[k].gone)
			return &p->o[k];
		if (p->o[k].gone && tomb == SIZE_MAX)
			tomb = k;
		k = (k + 1) & (p->ocap - 1);
	}
	if (!add)
		return NULL;
	if (tomb != SIZE_MAX)
		k = tomb;
	else
		p->oused++;
	free(p->o[k].b);
	p->o[k] = (struct owner){.id = id};
	return &p->o[k];
}

static int take(struct xpu_pages *p, struct owner *o, uint32_t n)
{
	if (o->n + n > o->cap) {
		uint32_t cap = o->cap ? o->cap : 4;
		while (cap < o->n + n)
			cap *= 2;
		uint32_t *b = realloc(o->b, (size_t)cap * sizeof(*b));
		if (!b)
			return -ENOMEM;
		o->b = b;
		o->cap = cap;
	}
	for (uint32_t i = 0; i < n; i++)
		o->b[o->n++] = p->free[--p->nfree];
	return 0;
}

int xpu_pages_admit(struct xpu_pages *p, uint64_t owner, uint32_t nblocks)
{
	if (owner == EMPTY)
		return -EINVAL;
	if (nblocks > p->total - p->reserve)
		return -E2BIG; /* never, even with the memory to itself */
	if (find(p, owner, 0))
		return -EEXIST;
	if (p->nfree < nblocks || p->nfree - nblocks < p->reserve)
		return -ENOSPC;
	struct owner *o = find(p, owner, 1);
	if (!o)
		return -ENOMEM;
	return take(p, o, nblocks);
}

int xpu_pages_grow(struct xpu_pages *p, uint64_t owner, uint32_t nblocks)
{
	struct owner *o = find(p, owner, 0);
	if (!o)
		return -ENOENT;
	if (nblocks > p->nfree)
		return -ENOSPC; /* growth may use the reserve, not more */
	return take(p, o, nblocks);
}

void xpu_pages_release(struct xpu_pages *p, uint64_t owner)
{
	struct owner *o = find(p, owner, 0);
	if (!o)
		return;
	for (uint32_t i = 0; i < o->n; i++)
		p->free[p->nfree++] = o->b[i];
	free(o->b);
	o->b = NULL;
	o->n = o->cap = 0;
	o->gone = 1;
}

uint32_t xpu_pages_held(const struct xpu_pages *p, uint64_t owner, const uint32_t **blocks)
{
	struct owner *o = find((struct xpu_pages *)p, owner, 0);
	if (blocks)
		*blocks = o ? o->b : NULL;
	return o ? o->n : 0;
}

uint32_t xpu_pages_free_blocks(const struct xpu_pages *p)
{
	return p->nfree;
}

uint32_t xpu_pages_total(const struct xpu_pages *p)
{
	return p->total;
}
