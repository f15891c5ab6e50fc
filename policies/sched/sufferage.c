/* sufferage.c — batch-mode sufferage mapping (Maheswaran et al., JPDC 1999); rules in batchmap.c.
 */
#include "batchmap.h"

static int sufferage_init(struct xpu_sched *s)
{
	return bm_init(s, BM_SUFFERAGE);
}

const struct xpu_sched_ops xpu_sched_sufferage = {
    .head = {.version = XPU_SCHED_VERSION,
             .name = "sufferage",
             .description = "batch of ready tasks; largest sufferage first (Maheswaran 1999)"},
    .init = sufferage_init,
    .fini = bm_fini,
    .on_ready = bm_on_ready,
    .pick = bm_pick,
    .on_tick = bm_on_tick,
};
