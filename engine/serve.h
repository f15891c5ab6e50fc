/* serve.h — a serving run of the core engine (engine/serve.c): what the driver hands
 * it, and what it hands back. Requests arrive, a router gives each to a replica, the
 * serve policy forms each replica's steps, and every step is launched on the
 * backend's units (xpu.h, "LLM serving"). */
#ifndef XPU_SERVE_H
#define XPU_SERVE_H

#include "backend.h"
#include "results.h"
#include "xpu.h"

/* Gaps between tokens are counted in a histogram of logarithmic buckets: each bucket
 * 0.1% wider than the one before, from 100 ns up, so that a percentile read from it
 * is within 0.05% of the exact one whatever the number of tokens. */
#define XPU_TBT_MIN     1e-7
#define XPU_TBT_GROWTH  1.001
#define XPU_TBT_BUCKETS 32768

struct xpu_serve_cfg {
	const struct xpu_platform *pf;
	struct xpu_backend *be;
	const struct xpu_llm *model;
	int nrep;
	struct xpu_replica *rep; /* units and roles; kv_blocks filled by the driver */
	uint32_t nreq;
	struct xpu_request *req; /* sorted by arrival; run-time fields reset by the run */
	double watermark;        /* share of a replica's blocks kept for growth */
	int host_unit;           /* where swapped KV caches go: the home memory's unit, -1 */
	uint64_t seed;
	const struct xpu_serve_ops *serve;
	int nserve_params;
	const struct xpu_param *serve_params;
	const struct xpu_router_ops *router;
	int nrouter_params;
	const struct xpu_param *router_params;
	/* Service-level objectives for goodput: a request meets them when its TTFT and
	 * its longest gap between tokens are within these (INFINITY: none). */
	double slo_ttft, slo_tbt;
	/* Called after every step with each replica's blocks in use (tests). */
	void (*observe)(void *ctx, int rep, uint32_t used, uint32_t total, double now);
	void *observe_ctx;
	struct xpu_err *err;
};

struct xpu_serve_out {
	struct xpu_unit_stats *us; /* per unit: busy seconds, energy, steps */
	struct xpu_summary summary;
	/* KV-cache occupancy over time: one row per step started. */
	size_t nkv;
	double *kv_t;
	int32_t *kv_rep;
	double *kv_used; /* blocks in use / blocks of the replica */
	uint64_t steps, preemptions, swaps, migrations;
	double link_energy_j;
};

/* Run the requests. Returns 0, or a negative errno with err (-EIO: a run failure such
 * as a policy that leaves requests waiting forever). */
int xpu_serve_run(const struct xpu_serve_cfg *c, struct xpu_serve_out *out);
void xpu_serve_out_free(struct xpu_serve_out *o, int nunits);

/* The step a batch makes: flops and bytes of the whole step (every unit of the
 * replica together), from the model. Shared with the driver's pre-run checks and
 * `xpuopt llm bench`. */
void xpu_step_work(const struct xpu_llm *m, double tokens, double pairs, double ctx_read,
                   double *flops, double *bytes);

#endif
