/* conservative.c — conservative backfilling (Mu'alem and Feitelson 2001); see backfill.c. */
#include "backfill.h"

static int conservative_init(struct xpu_sched *s)
{
	return bf_init(s, BF_CONSERVATIVE);
}

const struct xpu_sched_ops xpu_sched_conservative = {
    .head = {.version = XPU_SCHED_VERSION,
             .name = "conservative",
             .description =
                 "conservative backfilling: no reservation is delayed (Mualem, Feitelson)"},
    .init = conservative_init,
    .fini = bf_fini,
    .on_ready = bf_on_ready,
    .pick = bf_pick,
    .on_done = bf_on_done,
    .on_tick = bf_on_tick,
};
