/* serving.h — the driver's serving run (xpuopt run --serve): a platform, a model from
 * the catalogue, a deployment, a request stream and the serve and router policies,
 * composed and run on the core's serving loop (engine/serve.h); results to HDF5. */
#ifndef XPU_SERVING_H
#define XPU_SERVING_H

#include "requests.h"
#include "results.h"
#include "serve.h"
#include "xpu.h"

struct xpu_serving_opts {
	const char *platform;
	const char *requests;            /* request file; ignored when reqs is given */
	const struct xpu_requests *reqs; /* requests given directly (tests, capacity) */
	const char *catalogue;           /* model catalogue (traces/models.csv) */
	const char *model;               /* "name" or "name:bytes=1" (bytes per weight) */
	const char *deploy;              /* NULL: the default (see xpu_deploy_parse) */
	const char *serve;               /* policy spec; NULL: vllm */
	const char *router;              /* NULL: round-robin */
	const char *backend;             /* NULL or "sim" */
	uint64_t seed;
	uint32_t block_tokens;    /* 0: 16 (vLLM's and Vidur's default) */
	double watermark;         /* < 0: 0.01 (Vidur's default) */
	double slo_ttft, slo_tbt; /* 0 or INFINITY: none */
	const char *output;       /* NULL: none */
	void (*observe)(void *ctx, int rep, uint32_t used, uint32_t total, double now);
	void *observe_ctx;
};

struct xpu_serving_result {
	struct xpu_platform pf;
	struct xpu_llm model;
	int nrep;
	struct xpu_replica *rep;
	struct xpu_requests req;
	struct xpu_serve_out out;
};

/* 0; -EINVAL with err for bad input (exit 2: an unknown model, a deployment that does
 * not fit, a request longer than any KV cache ...); another negative errno for a run
 * failure. res may be NULL; else free it with xpu_serving_result_free. */
int xpu_serving_run(const struct xpu_serving_opts *o, struct xpu_serving_result *res,
                    struct xpu_err *err);
void xpu_serving_result_free(struct xpu_serving_result *res);

/* The model named by spec ("llama-2-7b" or "llama-2-7b:bytes=1") from catalogue. */
int xpu_serving_model(const char *catalogue, const char *spec, struct xpu_llm *out,
                      struct xpu_err *err);

/* Build the replicas of a deployment spec on pf for model m (documented in
 * policies/README.md, "Serving"): 0 with *rep (free each units array and the array with
 * xpu_replicas_free) and *n, or -EINVAL with err naming the sizes that do not fit. */
int xpu_deploy_build(const char *spec, const struct xpu_platform *pf, const struct xpu_llm *m,
                     uint32_t block_tokens, struct xpu_replica **rep, int *n, struct xpu_err *err);
void xpu_replicas_free(struct xpu_replica *rep, int n);

#endif
