/* queue.h — a binary min-heap of tasks keyed by (key, sequence), used for unit queues
 * and ready queues. */
#ifndef XPU_QUEUE_H
#define XPU_QUEUE_H

#include <stddef.h>
#include <stdint.h>

struct xpu_hent {
	double key;
	uint64_t seq;
	uint32_t task;
};

struct xpu_heap {
	struct xpu_hent *a;
	size_t n, cap;
};

int xpu_heap_push(struct xpu_heap *h, double key, uint64_t seq, uint32_t task);
/* Remove entry i (0 = the top) and return it. */
struct xpu_hent xpu_heap_remove(struct xpu_heap *h, size_t i);
static inline const struct xpu_hent *xpu_heap_top(const struct xpu_heap *h)
{
	return h->n ? &h->a[0] : NULL;
}
void xpu_heap_free(struct xpu_heap *h);

#endif
