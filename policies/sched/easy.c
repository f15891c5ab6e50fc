/* easy.c — EASY backfilling (Lifka 1995; Mu'alem and Feitelson 2001); see backfill.c. */
#include "backfill.h"

static int easy_init(struct xpu_sched *s)
{
	return bf_init(s, BF_EASY);
}

const struct xpu_sched_ops xpu_sched_easy = {
    .head = {.version = XPU_SCHED_VERSION,
             .name = "easy",
             .description = "EASY backfilling: later jobs never delay the head job (Lifka 1995)"},
    .init = easy_init,
    .fini = bf_fini,
    .on_ready = bf_on_ready,
    .pick = bf_pick,
    .on_done = bf_on_done,
    .on_tick = bf_on_tick,
};
