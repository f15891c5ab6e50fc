/* tlsf.c — Two-Level Segregated Fit (Masmano, Ripoll, Crespo and Real, "TLSF: a new
 * dynamic memory allocator for real-time systems", ECRTS 2004; and 2008): free blocks
 * sit in lists indexed by a first level (the power of two of their size) and a second
 * level (2^SLI linear subdivisions of that power), found through two bitmaps with
 * find-first-set, so allocation and free take constant time whatever the number of
 * blocks. A request is rounded up to the next list boundary, so that any block of the
 * list found holds it (good fit, not exact best fit); a freed block merges at once with
 * its free physical neighbours. Sizes count in granules of 64 bytes. Parameter: sli,
 * the second-level index bits (default 5, 32 lists per power of two, as the paper). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "arena.h"

#define GRAIN_SHIFT 6 /* 64-byte granules */
#define FL_COUNT    64

/* A block of the address range, free or used, linked to its physical neighbours. */
struct tnode {
	uint64_t off, len;             /* in granules */
	uint32_t phys_prev, phys_next; /* 0 = none */
	uint32_t prev, next;           /* free list links */
	int32_t pool;
	uint8_t free;
};

struct tlsf {
	struct arena a;
	int sli;
	uint32_t slc;    /* 1 << sli */
	struct tnode *n; /* n[0] unused */
	uint32_t nn, cap, spare;
	uint64_t *fl_map; /* per pool */
	uint64_t *sl_map; /* [pool][FL_COUNT]: second-level bitmaps (slc <= 64) */
	uint32_t *head;   /* [pool][FL_COUNT][slc] */
};

static uint32_t *list(struct tlsf *t, int pool, int fl, int sl)
{
	return &t->head[((size_t)pool * FL_COUNT + (size_t)fl) * t->slc + (size_t)sl];
}

/* The list of a block of s granules. */
static void mapping(const struct tlsf *t, uint64_t s, int *fl, int *sl)
{
	if (s < t->slc) {
		*fl = 0;
		*sl = (int)s;
		return;
	}
	int f = 63 - __builtin_clzll(s);
	*fl = f - t->sli + 1;
	*sl = (int)((s >> (f - t->sli)) ^ t->slc);
}

static uint32_t new_node(struct tlsf *t)
{
	if (t->spare) {
		uint32_t i = t->spare;
		t->spare = t->n[i].next;
		return i;
	}
	if (t->nn + 1 >= t->cap) {
		uint32_t cap = t->cap ? 2 * t->cap : 256;
		struct tnode *n = realloc(t->n, (size_t)cap * sizeof(*n));
		if (!n)
			return 0;
		t->n = n;
		t->cap = cap;
	}
	return ++t->nn;
}

static void drop_node(struct tlsf *t, uint32_t i)
{
	t->n[i].pool = -1;
	t->n[i].next = t->spare;
	t->spare = i;
}

static void insert_free(struct tlsf *t, uint32_t i)
{
	struct tnode *b = &t->n[i];
	int fl, sl;
	mapping(t, b->len, &fl, &sl);
	uint32_t *h = list(t, b->pool, fl, sl);
	b->free = 1;
	b->prev = 0;
	b->next = *h;
	if (*h)
		t->n[*h].prev = i;
	*h = i;
	t->fl_map[b->pool] |= UINT64_C(1) << fl;
	t->sl_map[(size_t)b->pool * FL_COUNT + fl] |= UINT64_C(1) << sl;
}

static void remove_free(struct tlsf *t, uint32_t i)
{
	struct tnode *b = &t->n[i];
	int fl, sl;
	mapping(t, b->len, &fl, &sl);
	uint32_t *h = list(t, b->pool, fl, sl);
	if (b->prev)
		t->n[b->prev].next = b->next;
	else
		*h = b->next;
	if (b->next)
		t->n[b->next].prev = b->prev;
	if (!*h) {
		uint64_t *sm = &t->sl_map[(size_t)b->pool * FL_COUNT + fl];
		*sm &= ~(UINT64_C(1) << sl);
		if (!*sm)
			t->fl_map[b->pool] &= ~(UINT64_C(1) << fl);
	}
	b->free = 0;
}

static int tl_init(struct xpu_mem *m)
{
	struct tlsf *t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	m->priv = t;
	t->sli = 5;
	for (int i = 0; i < m->nparams; i++)
		if (!strcmp(m->param[i].key, "sli"))
			t->sli = atoi(m->param[i].value);
	t->slc = 1u << t->sli;
	int rc = arena_init(&t->a, m->eng);
	if (rc)
		return rc;
	size_t np = (size_t)t->a.npools + 1;
	t->fl_map = calloc(np, sizeof(*t->fl_map));
	t->sl_map = calloc(np * FL_COUNT, sizeof(*t->sl_map));
	t->head = calloc(np * FL_COUNT * t->slc, sizeof(*t->head));
	if (!t->fl_map || !t->sl_map || !t->head)
		return -ENOMEM;
	for (int p = 0; p < t->a.npools; p++) {
		uint64_t g = t->a.capacity[p] >> GRAIN_SHIFT;
		if (!g)
			continue;
		uint32_t i = new_node(t);
		if (!i)
			return -ENOMEM;
		t->n[i] = (struct tnode){.off = 0, .len = g, .pool = p};
		insert_free(t, i);
	}
	return 0;
}

static void tl_fini(struct xpu_mem *m)
{
	struct tlsf *t = m->priv;
	if (!t)
		return;
	arena_fini(&t->a);
	free(t->n);
	free(t->fl_map);
	free(t->sl_map);
	free(t->head);
	free(t);
	m->priv = NULL;
}

static int tl_alloc(struct xpu_mem *m, int pool, double bytes, uint64_t *handle)
{
	struct tlsf *t = m->priv;
	uint64_t len = arena_bytes(bytes);
	if (!len || len > (t->a.capacity[pool] >> GRAIN_SHIFT << GRAIN_SHIFT))
		return -E2BIG;
	uint64_t s = (len + (UINT64_C(1) << GRAIN_SHIFT) - 1) >> GRAIN_SHIFT;
	/* round up to the next list boundary: every block of that list holds s */
	uint64_t r = s;
	if (s >= t->slc) {
		int f = 63 - __builtin_clzll(s);
		r = s + (UINT64_C(1) << (f - t->sli)) - 1;
	}
	int fl, sl;
	mapping(t, r, &fl, &sl);
	uint32_t i = 0;
	if (fl < FL_COUNT) {
		uint64_t sm = t->sl_map[(size_t)pool * FL_COUNT + fl] & (~UINT64_C(0) << sl);
		if (!sm) {
			uint64_t fm =
			    fl + 1 < FL_COUNT ? t->fl_map[pool] & (~UINT64_C(0) << (fl + 1)) : 0;
			if (fm) {
				fl = __builtin_ctzll(fm);
				sm = t->sl_map[(size_t)pool * FL_COUNT + fl];
			}
		}
		if (sm) {
			sl = __builtin_ctzll(sm);
			i = *list(t, pool, fl, sl);
		}
	}
	if (!i) {
		/* rounding up skipped the list of s itself: a block there may still hold s
		 * exactly (a request of the whole pool would otherwise never fit) */
		mapping(t, s, &fl, &sl);
		for (uint32_t k = fl < FL_COUNT ? *list(t, pool, fl, sl) : 0; k && !i;
		     k = t->n[k].next)
			if (t->n[k].len >= s)
				i = k;
	}
	if (!i)
		return -ENOSPC;
	remove_free(t, i);
	struct tnode *b = &t->n[i];
	if (b->len > s) { /* split: the rest stays free, right after */
		uint32_t j = new_node(t);
		if (!j) {
			insert_free(t, i);
			return -ENOMEM;
		}
		b = &t->n[i]; /* the array may have moved */
		t->n[j] = (struct tnode){.off = b->off + s,
		                         .len = b->len - s,
		                         .phys_prev = i,
		                         .phys_next = b->phys_next,
		                         .pool = pool};
		if (b->phys_next)
			t->n[b->phys_next].phys_prev = j;
		b->phys_next = j;
		b->len = s;
		insert_free(t, j);
	}
	if (arena_add(&t->a, pool, b->off << GRAIN_SHIFT, s << GRAIN_SHIFT, i, handle)) {
		insert_free(t, i);
		return -ENOMEM;
	}
	return 0;
}

static void tl_free(struct xpu_mem *m, int pool, uint64_t handle)
{
	struct tlsf *t = m->priv;
	struct arena_block *blk = arena_get(&t->a, pool, handle);
	if (!blk)
		return;
	uint32_t i = blk->aux;
	arena_remove(&t->a, handle);
	struct tnode *b = &t->n[i];
	uint32_t p = b->phys_prev, q = b->phys_next;
	if (q && t->n[q].free) { /* absorb the next block */
		remove_free(t, q);
		b->len += t->n[q].len;
		b->phys_next = t->n[q].phys_next;
		if (b->phys_next)
			t->n[b->phys_next].phys_prev = i;
		drop_node(t, q);
	}
	if (p && t->n[p].free) { /* the previous block absorbs this one */
		remove_free(t, p);
		t->n[p].len += b->len;
		t->n[p].phys_next = b->phys_next;
		if (b->phys_next)
			t->n[b->phys_next].phys_prev = p;
		drop_node(t, i);
		i = p;
	}
	insert_free(t, i);
}

static void tl_free_space(struct xpu_mem *m, int pool, double *free_bytes, double *largest)
{
	struct tlsf *t = m->priv;
	*free_bytes = (double)(t->a.capacity[pool] - t->a.used[pool]);
	*largest = 0;
	uint64_t fm = t->fl_map[pool];
	if (!fm)
		return;
	int fl = 63 - __builtin_clzll(fm);
	uint64_t sm = t->sl_map[(size_t)pool * FL_COUNT + fl];
	int sl = 63 - __builtin_clzll(sm);
	uint64_t best = 0; /* the largest block of the highest list */
	for (uint32_t i = *list(t, pool, fl, sl); i; i = t->n[i].next)
		if (t->n[i].len > best)
			best = t->n[i].len;
	*largest = (double)(best << GRAIN_SHIFT);
}

static const struct xpu_param_spec tl_params[] = {
    {"sli", XPU_PARAM_INT, 1, 6,
     "second-level index bits: 2^sli lists per power of two "
     "(default 5)"},
    {NULL, 0, 0, 0, NULL},
};

const struct xpu_mem_ops xpu_mem_tlsf = {
    .head = {.version = XPU_MEM_VERSION,
             .name = "tlsf",
             .description = "two-level segregated fit per memory pool (O(1) allocate and "
                            "free); tasks wait when memory is full",
             .params = tl_params},
    .init = tl_init,
    .fini = tl_fini,
    .alloc = tl_alloc,
    .free = tl_free,
    .used = arena_used_op,
    .where = arena_where_op,
    .free_space = tl_free_space,
};
