/* jsq_tokens.c — join the shortest queue counted in tokens: the replica whose requests
 * have the fewest tokens left to process (prompts not yet cached and outputs not yet
 * produced), the new request's own counted. */
#include "xpu.h"

static int jsq_route(struct xpu_router *rt, const struct xpu_request *r)
{
	(void)r;
	int best = -1;
	for (int i = 0; i < xpu_nreplicas(rt->eng); i++)
		if (xpu_replica_accepts(rt->eng, i) &&
		    (best < 0 ||
		     xpu_replica_tokens(rt->eng, i) < xpu_replica_tokens(rt->eng, best)))
			best = i;
	return best < 0 ? 0 : best;
}

const struct xpu_router_ops xpu_router_jsq_tokens = {
    .head = {.version = XPU_ROUTER_VERSION,
             .name = "jsq-tokens",
             .description = "the replica with the fewest tokens left to process"},
    .route = jsq_route,
};
