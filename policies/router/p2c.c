/* p2c.c — the power of two choices (Mitzenmacher, "The Power of Two Choices in
 * Randomized Load Balancing", IEEE TPDS 2001): two replicas drawn at random from the
 * run's seeded generator, the one with fewer tokens left wins. */
#include "xpu.h"

static int p2c_route(struct xpu_router *rt, const struct xpu_request *r)
{
	(void)r;
	struct xpu_engine *e = rt->eng;
	int n = xpu_nreplicas(e), acc = 0;
	for (int i = 0; i < n; i++)
		acc += xpu_replica_accepts(e, i);
	if (acc == 0)
		return 0;
	int pick[2];
	for (int k = 0; k < 2; k++) {
		/* the draw-th replica among those that take new requests */
		int draw = (int)(xpu_random(e) % (uint64_t)acc);
		for (int i = 0; i < n; i++)
			if (xpu_replica_accepts(e, i) && draw-- == 0) {
				pick[k] = i;
				break;
			}
	}
	return xpu_replica_tokens(e, pick[1]) < xpu_replica_tokens(e, pick[0]) ? pick[1] : pick[0];
}

const struct xpu_router_ops xpu_router_p2c = {
    .head = {.version = XPU_ROUTER_VERSION,
             .name = "p2c",
             .description = "power of two choices: the less loaded of two random replicas"},
    .route = p2c_route,
};
