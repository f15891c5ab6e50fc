/* minmin.c — batch-mode min-min mapping (Maheswaran et al., JPDC 1999); rules in batchmap.c. */
#include "batchmap.h"

static int minmin_init(struct xpu_sched *s)
{
	return bm_init(s, BM_MIN_MIN);
}

const struct xpu_sched_ops xpu_sched_minmin = {
    .head = {.version = XPU_SCHED_VERSION,
             .name = "min-min",
             .description =
                 "batch of ready tasks; least min completion time first (Maheswaran 1999)"},
    .init = minmin_init,
    .fini = bm_fini,
    .on_ready = bm_on_ready,
    .pick = bm_pick,
    .on_tick = bm_on_tick,
};
