/* sarathi.c — Sarathi-Serve (Agrawal et al., "Taming Throughput-Latency Tradeoff in LLM
 * Inference with Sarathi-Serve", OSDI 2024): chunked prefills and stall-free batches.
 * Each step carries every running decode and fills the rest of a token budget (`chunk`,
 * 512 by default as in Vidur's Sarathi scheduler) with chunks of prompts, so a long
 * prompt never stalls the decodes. Paged KV as vllm (paged.c). */
#include "paged.h"

static int sarathi_init(struct xpu_serve *s)
{
	return pg_init(s, PG_SARATHI);
}

static const struct xpu_param_spec sarathi_params[] = {
    {"batch", XPU_PARAM_INT, 1, 1e6, "requests running at once (default 256)"},
    {"chunk", XPU_PARAM_INT, 1, 1e9, "token budget of a step (default 512)"},
    PG_PREEMPT_PARAM,
    PG_ORDER_PARAM,
    {NULL, 0, 0, 0, NULL},
};

const struct xpu_serve_ops xpu_serve_sarathi = {
    .head = {.version = XPU_SERVE_VERSION,
             .name = "sarathi",
             .description = "Sarathi-Serve: chunked prefill within a token budget, "
                            "stall-free decodes",
             .params = sarathi_params},
    .init = sarathi_init,
    .fini = pg_fini,
    .on_arrival = pg_arrival,
    .form_batch = pg_form,
    .on_step = pg_step,
    .on_prefilled = pg_prefilled,
    .on_finished = pg_finished,
};
