/* maxmin.c — batch-mode max-min mapping (Maheswaran et al., JPDC 1999); rules in batchmap.c. */
#include "batchmap.h"

static int maxmin_init(struct xpu_sched *s)
{
	return bm_init(s, BM_MAX_MIN);
}

const struct xpu_sched_ops xpu_sched_maxmin = {
    .head = {.version = XPU_SCHED_VERSION,
             .name = "max-min",
             .description =
                 "batch of ready tasks; largest min completion time first (Maheswaran 1999)"},
    .init = maxmin_init,
    .fini = bm_fini,
    .on_ready = bm_on_ready,
    .pick = bm_pick,
    .on_tick = bm_on_tick,
};
