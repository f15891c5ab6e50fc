/* caching.c — a caching allocator after the pattern of PyTorch's CUDA caching allocator
 * (c10/cuda/CUDACachingAllocator.cpp): memory is taken from the device in segments and
 * never given back on free; freed blocks stay cached in the segment for reuse, merged
 * with their free neighbours, and a request takes the smallest cached block that holds
 * it (best fit), split when the rest is worth keeping. Only when no segment can be
 * had does the cache empty: every segment wholly free goes back, and the request is
 * tried again. The constants are PyTorch's:
 *
 *   sizes round up to a multiple of 512 B (kMinBlockSize);
 *   requests up to 1 MiB (kSmallSize) are "small" and share 2 MiB segments
 *   (kSmallBuffer); larger ones below 10 MiB (kMinLargeAlloc) share 20 MiB segments
 *   (kLargeBuffer); from 10 MiB on a request gets a segment of its own, rounded up to
 *   2 MiB (kRoundLarge);
 *   small and large blocks are cached apart; a cached block is split when the rest is
 *   at least 512 B (small) or more than 1 MiB (large).
 *
 * The device here is the pool's address range, under a TLSF allocator (tlsf.c).
 * `used` counts the blocks handed out; the segments held (used plus the cache) are the
 * device's view. */
#include <errno.h>
#include <stdlib.h>

#include "arena.h"
#include "extset.h"

#define MIN_BLOCK   512ULL
#define SMALL_SIZE  (1ULL << 20)
#define SMALL_SEG   (2ULL << 20)
#define LARGE_SEG   (20ULL << 20)
#define MIN_LARGE   (10ULL << 20)
#define ROUND_LARGE (2ULL << 20)

extern const struct xpu_mem_ops xpu_mem_tlsf;

/* Per block (an extset node): its segment's device handle, its address neighbours in
 * that segment, whether it is free (cached), and whether it is small. */
struct binfo {
	uint64_t seg;
	uint32_t prev, next;
	int32_t pool;
	uint8_t free, small; /* free: cached (a live node in its pool's cache) */
};

struct caching {
	struct arena a;
	struct xpu_mem dev; /* the device: TLSF over the pool */
	struct extset x;
	struct binfo *bi; /* parallel to x.n */
	uint32_t bicap;
	uint32_t *cache; /* [2 * pool + small]: cached blocks by (length, offset) */
	uint64_t *held;  /* per pool: bytes of segments taken from the device */
};

static uint64_t round_size(uint64_t n)
{
	return n < MIN_BLOCK ? MIN_BLOCK : (n + MIN_BLOCK - 1) / MIN_BLOCK * MIN_BLOCK;
}

static uint64_t segment_size(uint64_t n)
{
	if (n <= SMALL_SIZE)
		return SMALL_SEG;
	if (n < MIN_LARGE)
		return LARGE_SEG;
	return (n + ROUND_LARGE - 1) / ROUND_LARGE * ROUND_LARGE;
}

/* A node for a block, with room in the side array. */
static uint32_t new_block(struct caching *c, uint64_t off, uint64_t len)
{
	uint32_t i = ext_new(&c->x, off, len);
	if (!i)
		return 0;
	if (i >= c->bicap) {
		uint32_t cap = c->bicap ? 2 * c->bicap : 256;
		while (cap <= i)
			cap *= 2;
		struct binfo *b = realloc(c->bi, (size_t)cap * sizeof(*b));
		if (!b) {
			ext_drop(&c->x, i);
			return 0;
		}
		c->bi = b;
		c->bicap = cap;
	}
	c->bi[i] = (struct binfo){0};
	return i;
}

static uint32_t *cache_of(struct caching *c, int pool, int small)
{
	return &c->cache[2 * pool + small];
}

static void cache_put(struct caching *c, int pool, uint32_t i)
{
	c->bi[i].free = 1;
	ext_insert(&c->x, cache_of(c, pool, c->bi[i].small), i, 1);
}

static void cache_take(struct caching *c, int pool, uint32_t i)
{
	ext_erase(&c->x, cache_of(c, pool, c->bi[i].small), i, 1);
	c->bi[i].free = 0;
}

static int ca_init(struct xpu_mem *m)
{
	struct caching *c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	m->priv = c;
	int rc = arena_init(&c->a, m->eng);
	if (rc)
		return rc;
	c->cache = calloc(2 * (size_t)c->a.npools + 2, sizeof(*c->cache));
	c->held = calloc((size_t)c->a.npools + 1, sizeof(*c->held));
	if (!c->cache || !c->held)
		return -ENOMEM;
	c->dev = (struct xpu_mem){.ops = &xpu_mem_tlsf, .eng = m->eng};
	return xpu_mem_tlsf.init(&c->dev);
}

static void ca_fini(struct xpu_mem *m)
{
	struct caching *c = m->priv;
	if (!c)
		return;
	if (c->dev.ops)
		c->dev.ops->fini(&c->dev);
	arena_fini(&c->a);
	ext_free(&c->x);
	free(c->bi);
	free(c->cache);
	free(c->held);
	free(c);
	m->priv = NULL;
}

/* Give every wholly free segment of pool back to the device: PyTorch's empty_cache,
 * done when the device is full. One pass over the blocks (a dropped node is never
 * marked free). Returns the bytes released. */
static uint64_t empty_cache(struct caching *c, int pool)
{
	uint64_t released = 0;
	for (uint32_t i = 1; i <= c->x.nn; i++) {
		struct binfo *b = &c->bi[i];
		if (!b->free || b->pool != pool || b->prev || b->next)
			continue;
		cache_take(c, pool, i);
		released += c->x.n[i].len;
		c->held[pool] -= c->x.n[i].len;
		c->dev.ops->free(&c->dev, pool, b->seg);
		ext_drop(&c->x, i);
	}
	return released;
}

static int ca_alloc(struct xpu_mem *m, int pool, double bytes, uint64_t *handle)
{
	struct caching *c = m->priv;
	uint64_t asked = arena_bytes(bytes);
	if (!asked || asked > c->a.capacity[pool])
		return -E2BIG;
	uint64_t len = round_size(asked);
	int small = len <= SMALL_SIZE;
	uint32_t i = ext_fit(&c->x, *cache_of(c, pool, small), len);
	if (i) {
		cache_take(c, pool, i);
	} else {
		uint64_t seg = segment_size(len);
		if (seg > c->a.capacity[pool])
			seg = len; /* a pool smaller than a segment: the block alone */
		uint64_t sh, off, slen;
		int rc = c->dev.ops->alloc(&c->dev, pool, (double)seg, &sh);
		if (rc == -ENOSPC && empty_cache(c, pool))
			rc = c->dev.ops->alloc(&c->dev, pool, (double)seg, &sh);
		if (rc == -ENOSPC && seg > len) /* the block alone may still fit */
			rc = c->dev.ops->alloc(&c->dev, pool, (double)(seg = len), &sh);
		if (rc)
			return rc;
		c->dev.ops->where(&c->dev, pool, sh, &off, &slen);
		i = new_block(c, off, slen);
		if (!i) {
			c->dev.ops->free(&c->dev, pool, sh);
			return -ENOMEM;
		}
		c->bi[i].seg = sh;
		c->bi[i].pool = pool;
		c->bi[i].small = (uint8_t)small;
		c->held[pool] += slen;
	}
	/* split off the rest when it is worth keeping */
	uint64_t rest = c->x.n[i].len - len;
	if (small ? rest >= MIN_BLOCK : rest > SMALL_SIZE) {
		uint32_t j = new_block(c, c->x.n[i].off + len, rest);
		if (j) {
			c->bi[j] = (struct binfo){.seg = c->bi[i].seg,
			                          .prev = i,
			                          .next = c->bi[i].next,
			                          .pool = pool,
			                          .small = c->bi[i].small};
			if (c->bi[i].next)
				c->bi[c->bi[i].next].prev = j;
			c->bi[i].next = j;
			c->x.n[i].len = len;
			cache_put(c, pool, j);
		}
	}
	if (arena_add(&c->a, pool, c->x.n[i].off, c->x.n[i].len, i, handle)) {
		cache_put(c, pool, i);
		return -ENOMEM;
	}
	return 0;
}

static void ca_free(struct xpu_mem *m, int pool, uint64_t handle)
{
	struct caching *c = m->priv;
	struct arena_block *blk = arena_get(&c->a, pool, handle);
	if (!blk)
		return;
	uint32_t i = blk->aux;
	arena_remove(&c->a, handle);
	/* merge with the free neighbours of its segment */
	uint32_t q = c->bi[i].next, p = c->bi[i].prev;
	if (q && c->bi[q].free) {
		cache_take(c, pool, q);
		c->x.n[i].len += c->x.n[q].len;
		c->bi[i].next = c->bi[q].next;
		if (c->bi[i].next)
			c->bi[c->bi[i].next].prev = i;
		ext_drop(&c->x, q);
	}
	if (p && c->bi[p].free) {
		cache_take(c, pool, p);
		c->x.n[p].len += c->x.n[i].len;
		c->bi[p].next = c->bi[i].next;
		if (c->bi[i].next)
			c->bi[c->bi[i].next].prev = p;
		ext_drop(&c->x, i);
		i = p;
	}
	cache_put(c, pool, i); /* cached, not given back */
}

static void ca_free_space(struct xpu_mem *m, int pool, double *free_bytes, double *largest)
{
	struct caching *c = m->priv;
	double dfree, dlarge;
	c->dev.ops->free_space(&c->dev, pool, &dfree, &dlarge);
	*free_bytes = (double)(c->a.capacity[pool] - c->a.used[pool]);
	/* the largest request that fits now: a new segment's worth of the device, a
	 * cached large block, or a cached small block for a small request */
	*largest = dlarge;
	for (int small = 0; small < 2; small++) {
		uint32_t r = ext_largest(&c->x, *cache_of(c, pool, small));
		double len = r ? (double)c->x.n[r].len : 0;
		if (small && len > (double)SMALL_SIZE)
			len = (double)SMALL_SIZE;
		if (len > *largest)
			*largest = len;
	}
}

const struct xpu_mem_ops xpu_mem_caching = {
    .head = {.version = XPU_MEM_VERSION,
             .name = "caching",
             .description = "caching allocator after PyTorch's CUDA one: segments of 2 or "
                            "20 MiB, freed blocks cached per size class, emptied when "
                            "the memory is full"},
    .init = ca_init,
    .fini = ca_fini,
    .alloc = ca_alloc,
    .free = ca_free,
    .used = arena_used_op,
    .where = arena_where_op,
    .free_space = ca_free_space,
};
