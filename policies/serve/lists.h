/* lists.h — request lists the serve policies keep per replica: a FIFO of waiting
 * requests (with a front for requests that go back first) and an ordered list of
 * admitted ones. Request indexes only; every operation is O(1) amortised except
 * removal from the middle of an ordered list, O(its length), a batch's size at most. */
#ifndef XPU_SERVE_LISTS_H
#define XPU_SERVE_LISTS_H

#include <stdint.h>

#include "xpu.h"

struct sl_fifo {
	uint32_t *v;
	uint32_t head, len, cap;
};

struct sl_list {
	uint32_t *v;
	uint32_t n, cap;
};

int sl_fifo_push(struct sl_fifo *q, uint32_t x);
int sl_fifo_push_front(struct sl_fifo *q, uint32_t x);
/* The first element (the queue must not be empty). */
uint32_t sl_fifo_peek(const struct sl_fifo *q);
/* Insert x before the first element y with before(x, y, ctx): O(length). */
int sl_fifo_insert_by(struct sl_fifo *q, uint32_t x,
                      int (*before)(uint32_t, uint32_t, const struct xpu_engine *),
                      const struct xpu_engine *ctx);
uint32_t sl_fifo_pop(struct sl_fifo *q);
void sl_fifo_free(struct sl_fifo *q);

int sl_list_add(struct sl_list *l, uint32_t x);
/* Remove x, keeping the order: 1 when it was there. */
int sl_list_remove(struct sl_list *l, uint32_t x);
void sl_list_free(struct sl_list *l);

/* Per-replica state every serve policy here keeps. */
struct sl_rep {
	struct sl_fifo waiting; /* routed, not admitted (or preempted by recompute) */
	struct sl_fifo swapped; /* preempted by swapping */
	struct sl_list running; /* admitted, in admission order */
	struct sl_list moving;  /* prefilled on a prefill replica, waiting to move */
};

/* One sl_rep per replica of the run, or NULL. */
struct sl_rep *sl_reps_new(const struct xpu_engine *e);
void sl_reps_free(struct sl_rep *r, int n);

#endif
