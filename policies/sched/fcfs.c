/* fcfs.c — first come first served for wide jobs: start in order, never skip; see backfill.c. */
#include "backfill.h"

static int fcfs_init(struct xpu_sched *s)
{
	return bf_init(s, BF_FCFS);
}

const struct xpu_sched_ops xpu_sched_fcfs = {
    .head = {.version = XPU_SCHED_VERSION,
             .name = "fcfs",
             .description = "wide jobs start in queue order, never skipped (FCFS)"},
    .init = fcfs_init,
    .fini = bf_fini,
    .on_ready = bf_on_ready,
    .pick = bf_pick,
    .on_done = bf_on_done,
    .on_tick = bf_on_tick,
};
