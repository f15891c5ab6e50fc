/* local.c — the offload policy that keeps every task on the local platform. */
#include "xpu.h"

static int local_decide(struct xpu_offload *o, const struct xpu_task *t)
{
	(void)o;
	(void)t;
	return -1;
}

const struct xpu_offload_ops xpu_offload_local = {
    .head = {.version = XPU_OFFLOAD_VERSION,
             .name = "local",
             .description = "run every task locally"},
    .decide = local_decide,
};
