/* batchmap.h — batch-mode mapping of independent ready tasks (min-min, max-min,
 * sufferage), shared by minmin.c, maxmin.c and sufferage.c. */
#ifndef XPU_BATCHMAP_H
#define XPU_BATCHMAP_H

#include "xpu.h"

enum bm_rule { BM_MIN_MIN, BM_MAX_MIN, BM_SUFFERAGE };

int bm_init(struct xpu_sched *s, enum bm_rule rule);
void bm_fini(struct xpu_sched *s);
void bm_on_ready(struct xpu_sched *s, const struct xpu_task *t);
const struct xpu_task *bm_pick(struct xpu_sched *s, const struct xpu_unit *u);
void bm_on_tick(struct xpu_sched *s, double now);

#endif
