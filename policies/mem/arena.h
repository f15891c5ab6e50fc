/* arena.h — what every address-range allocator shares: each memory pool's capacity
 * from the platform, the table of blocks by handle (pool, offset, length), and the
 * generic used/where operations. An allocator keeps its own free structure per pool and
 * calls arena_add / arena_remove as blocks come and go. */
#ifndef XPU_ARENA_H
#define XPU_ARENA_H

#include <stdint.h>

#include "xpu.h"

/* Capacity used for a pool the platform leaves unlimited (0): large enough for any
 * run, small enough that offsets and sums stay exact in 64 bits. */
#define ARENA_UNLIMITED (UINT64_C(1) << 60)

struct arena_block {
	uint64_t off, len; /* len 0: free slot */
	uint32_t pool;
	uint32_t aux; /* the allocator's own (a buddy order, a node index) */
};

struct arena {
	int npools;
	uint64_t *capacity, *used;
	struct arena_block *b; /* handle h is b[h - 1] */
	uint64_t nb, cap;
	uint64_t *spare; /* handles free for reuse */
	uint64_t nspare, spare_cap;
};

/* Capacities from the engine's platform. 0 or -ENOMEM. */
int arena_init(struct arena *a, const struct xpu_engine *e);
void arena_fini(struct arena *a);
/* A new handle for [off, off + len) of pool: 0 or -ENOMEM. */
int arena_add(struct arena *a, int pool, uint64_t off, uint64_t len, uint32_t aux, uint64_t *h);
/* The block of handle h, NULL when h is not allocated in pool. */
struct arena_block *arena_get(struct arena *a, int pool, uint64_t h);
/* Forget handle h (the caller has taken its block back). */
void arena_remove(struct arena *a, uint64_t h);
/* The request size in bytes: at least 1, rounded up to whole bytes; 0 when not a
 * finite positive number of bytes below 2^62. */
uint64_t arena_bytes(double bytes);

/* Generic operations for an allocator whose priv starts with a struct arena. */
double arena_used_op(struct xpu_mem *m, int pool);
int arena_where_op(struct xpu_mem *m, int pool, uint64_t h, uint64_t *off, uint64_t *len);

#endif
