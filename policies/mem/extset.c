/* extset.c — treaps of extents (extset.h). Priorities come from a fixed-seed
 * generator: the same operations build the same trees, run after run. */
#include <stdlib.h>

#include "extset.h"

static int less(const struct ext_node *x, const struct ext_node *y, int t)
{
	if (t == 1 && x->len != y->len)
		return x->len < y->len;
	return x->off < y->off;
}

/* Split tree r by key x: *lo holds the keys below x, *hi the others. */
static void split(struct extset *s, uint32_t r, const struct ext_node *x, int t, uint32_t *lo,
                  uint32_t *hi)
{
	if (!r) {
		*lo = *hi = 0;
		return;
	}
	struct ext_node *n = &s->n[r];
	if (less(n, x, t)) {
		split(s, n->kid[t][1], x, t, &n->kid[t][1], hi);
		*lo = r;
	} else {
		split(s, n->kid[t][0], x, t, lo, &n->kid[t][0]);
		*hi = r;
	}
}

static uint32_t merge(struct extset *s, uint32_t l, uint32_t r, int t)
{
	if (!l || !r)
		return l ? l : r;
	if (s->n[l].pri > s->n[r].pri) {
		s->n[l].kid[t][1] = merge(s, s->n[l].kid[t][1], r, t);
		return l;
	}
	s->n[r].kid[t][0] = merge(s, l, s->n[r].kid[t][0], t);
	return r;
}

uint32_t ext_new(struct extset *s, uint64_t off, uint64_t len)
{
	uint32_t i;
	if (s->freelist) {
		i = s->freelist;
		s->freelist = s->n[i].kid[0][0];
	} else {
		if (s->nn + 1 >= s->cap) {
			uint32_t cap = s->cap ? 2 * s->cap : 256;
			struct ext_node *n = realloc(s->n, (size_t)cap * sizeof(*n));
			if (!n)
				return 0;
			s->n = n;
			s->cap = cap;
		}
		i = ++s->nn;
	}
	if (!s->seed)
		s->seed = 0x9e3779b97f4a7c15ULL;
	s->seed = s->seed * 6364136223846793005ULL + 1442695040888963407ULL;
	s->n[i] = (struct ext_node){.off = off, .len = len, .pri = (uint32_t)(s->seed >> 33)};
	return i;
}

void ext_drop(struct extset *s, uint32_t i)
{
	s->n[i].kid[0][0] = s->freelist;
	s->freelist = i;
}

void ext_insert(struct extset *s, uint32_t *root, uint32_t i, int t)
{
	uint32_t lo, hi;
	s->n[i].kid[t][0] = s->n[i].kid[t][1] = 0;
	split(s, *root, &s->n[i], t, &lo, &hi);
	*root = merge(s, merge(s, lo, i, t), hi, t);
}

void ext_erase(struct extset *s, uint32_t *root, uint32_t i, int t)
{
	uint32_t *p = root;
	while (*p && *p != i)
		p = &s->n[*p].kid[t][less(&s->n[*p], &s->n[i], t) ? 1 : 0];
	if (*p)
		*p = merge(s, s->n[i].kid[t][0], s->n[i].kid[t][1], t);
}

uint32_t ext_fit(const struct extset *s, uint32_t r, uint64_t len)
{
	uint32_t best = 0;
	while (r) {
		if (s->n[r].len >= len) {
			best = r;
			r = s->n[r].kid[1][0];
		} else {
			r = s->n[r].kid[1][1];
		}
	}
	return best;
}

uint32_t ext_largest(const struct extset *s, uint32_t r)
{
	while (r && s->n[r].kid[1][1])
		r = s->n[r].kid[1][1];
	return r;
}

void ext_around(const struct extset *s, uint32_t r, uint64_t off, uint32_t *prev, uint32_t *next)
{
	*prev = *next = 0;
	while (r) {
		if (s->n[r].off < off) {
			*prev = r;
			r = s->n[r].kid[0][1];
		} else {
			*next = r;
			r = s->n[r].kid[0][0];
		}
	}
}

void ext_free(struct extset *s)
{
	free(s->n);
	s->n = NULL;
	s->nn = s->cap = s->freelist = 0;
}
