/* requests.h — LLM request streams for serving runs (traces/FORMAT.md, "Request
 * streams"): read from the public request logs, or generated. */
#ifndef XPU_REQUESTS_H
#define XPU_REQUESTS_H

#include <stdint.h>

#include "xpu.h"

struct xpu_requests {
	uint32_t n;
	struct xpu_request *v; /* sorted by arrival (ties in file order), arrival of the
	                        * first at 0 for logs of absolute times */
	char *ids;             /* storage for v[].id */
	const char *format;    /* "azure", "vidur", "splitwise" or "native" */
};

/* Read a request file: CSV whose header names an arrival, a prompt and an output
 * column (the Azure LLM trace's TIMESTAMP, ContextTokens, GeneratedTokens; Vidur's
 * arrived_at, num_prefill_tokens, num_decode_tokens; Splitwise's arrival_timestamp,
 * prompt_size, token_size; or xpuopt's own arrival, prompt, output with an optional
 * id). 0, or -EINVAL/-ENOMEM with err naming file, line and field. */
int xpu_requests_read(const char *path, struct xpu_requests *out, struct xpu_err *err);

/* 1 when the file's header names the columns of a request stream (so `xpuopt run
 * --serve` can tell a request file from a task trace). */
int xpu_requests_claims(const char *path);

/* Generate n requests: arrivals a Poisson process of rate per second (cv 1) or a gamma
 * process with coefficient of variation cv; prompt and output lengths lognormal with
 * the given medians and log-standard deviations (sigma 0: always the median), rounded,
 * at least 1. Deterministic in seed. 0 or -EINVAL/-ENOMEM with err. */
struct xpu_req_gen {
	uint32_t n;
	double rate, cv;
	double prompt_median, prompt_sigma, output_median, output_sigma;
	uint32_t max_tokens; /* lengths are capped here (0: no cap) */
	double deadline;     /* seconds after arrival each is due (0: none) */
	uint64_t seed;
};
int xpu_requests_generate(const struct xpu_req_gen *g, struct xpu_requests *out,
                          struct xpu_err *err);

/* Write requests as xpuopt's own request CSV (id,arrival,prompt,output). 0 or -errno. */
int xpu_requests_write(const char *path, const struct xpu_requests *r, struct xpu_err *err);

void xpu_requests_free(struct xpu_requests *r);

#endif
