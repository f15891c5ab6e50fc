/* p2c.c — the power of two choices (Mitzenmacher, "The Power of Two Choices in
 * Randomized Load Balancing", IEEE TPDS 2001): two replicas drawn at random from the
 * run's seeded generator among those that take new requests, the one with fewer tokens
 * left wins. O(1) per request. */
#include <errno.h>
#include <stdlib.h>

#include "xpu.h"

struct p2c {
	int n;
	int *acc; /* the replicas that take new requests */
};

static int p2c_init(struct xpu_router *rt)
{
	struct p2c *p = calloc(1, sizeof(*p));
	int n = xpu_nreplicas(rt->eng);
	if (!p || !(p->acc = malloc(((size_t)n + 1) * sizeof(int)))) {
		free(p);
		return -ENOMEM;
	}
	for (int i = 0; i < n; i++)
		if (xpu_replica_accepts(rt->eng, i))
			p->acc[p->n++] = i;
	rt->priv = p;
	return 0;
}

static void p2c_fini(struct xpu_router *rt)
{
	struct p2c *p = rt->priv;
	if (p)
		free(p->acc);
	free(p);
}

static int p2c_route(struct xpu_router *rt, const struct xpu_request *r)
{
	(void)r;
	struct p2c *p = rt->priv;
	struct xpu_engine *e = rt->eng;
	if (p->n == 0)
		return 0;
	int a = p->acc[xpu_random(e) % (uint64_t)p->n], b = p->acc[xpu_random(e) % (uint64_t)p->n];
	return xpu_replica_tokens(e, b) < xpu_replica_tokens(e, a) ? b : a;
}

const struct xpu_router_ops xpu_router_p2c = {
    .head = {.version = XPU_ROUTER_VERSION,
             .name = "p2c",
             .description = "power of two choices: the less loaded of two random replicas"},
    .init = p2c_init,
    .fini = p2c_fini,
    .route = p2c_route,
};
