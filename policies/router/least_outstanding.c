/* least_outstanding.c — the replica with the fewest requests not yet done (Vidur's
 * "lor" global scheduler); ties go to the lowest index. */
#include "xpu.h"

static int lor_route(struct xpu_router *rt, const struct xpu_request *r)
{
	(void)r;
	int best = -1;
	for (int i = 0; i < xpu_nreplicas(rt->eng); i++)
		if (xpu_replica_accepts(rt->eng, i) &&
		    (best < 0 ||
		     xpu_replica_outstanding(rt->eng, i) < xpu_replica_outstanding(rt->eng, best)))
			best = i;
	return best < 0 ? 0 : best;
}

const struct xpu_router_ops xpu_router_least_outstanding = {
    .head = {.version = XPU_ROUTER_VERSION,
             .name = "least-outstanding",
             .description = "the replica with the fewest outstanding requests"},
    .route = lor_route,
};
