/* extset.h — extents (offset, length) in treaps, for the allocators that search free
 * space by size or by address: tree 0 orders by offset, tree 1 by (length, offset).
 * A node may sit in either tree or both. Nodes live in one growing array and are named
 * by index (0 = none), so callers keep parallel arrays of their own per node. */
#ifndef XPU_EXTSET_H
#define XPU_EXTSET_H

#include <stdint.h>

struct ext_node {
	uint64_t off, len;
	uint32_t pri;
	uint32_t kid[2][2]; /* kid[tree][0] left, kid[tree][1] right */
};

struct extset {
	struct ext_node *n; /* n[0] unused */
	uint32_t nn, cap, freelist;
	uint64_t seed;
};

/* A new node for [off, off + len), in no tree: its index, 0 when out of memory. */
uint32_t ext_new(struct extset *s, uint64_t off, uint64_t len);
/* Give node i back (it must be in no tree). */
void ext_drop(struct extset *s, uint32_t i);
void ext_insert(struct extset *s, uint32_t *root, uint32_t i, int tree);
void ext_erase(struct extset *s, uint32_t *root, uint32_t i, int tree);
/* Tree 1: the smallest extent of at least len bytes (lowest offset among equals), 0
 * when none. */
uint32_t ext_fit(const struct extset *s, uint32_t root, uint64_t len);
/* Tree 1: the largest extent, 0 when the tree is empty. */
uint32_t ext_largest(const struct extset *s, uint32_t root);
/* Tree 0: the last extent below off and the first at or after it (0 when none). */
void ext_around(const struct extset *s, uint32_t root, uint64_t off, uint32_t *prev,
                uint32_t *next);
void ext_free(struct extset *s);

#endif
