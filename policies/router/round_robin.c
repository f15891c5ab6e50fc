/* round_robin.c — requests go to the replicas that take new requests in turn. */
#include <errno.h>
#include <stdlib.h>

#include "xpu.h"

static int rr_init(struct xpu_router *rt)
{
	int *next = calloc(1, sizeof(*next));
	if (!next)
		return -ENOMEM;
	rt->priv = next;
	return 0;
}

static void rr_fini(struct xpu_router *rt)
{
	free(rt->priv);
}

static int rr_route(struct xpu_router *rt, const struct xpu_request *r)
{
	(void)r;
	int *next = rt->priv, n = xpu_nreplicas(rt->eng);
	for (int k = 0; k < n; k++) {
		int rep = (*next + k) % n;
		if (xpu_replica_accepts(rt->eng, rep)) {
			*next = (rep + 1) % n;
			return rep;
		}
	}
	return 0;
}

const struct xpu_router_ops xpu_router_round_robin = {
    .head = {.version = XPU_ROUTER_VERSION,
             .name = "round-robin",
             .description = "each replica in turn"},
    .init = rr_init,
    .fini = rr_fini,
    .route = rr_route,
};
