/* vllm.c — vLLM's scheduler (Kwon et al., SOSP 2023): paged KV blocks, admission under
 * a watermark, prompt steps before decode steps, preemption of the newest request by
 * recompute or swap when the cache is full. The shared core is paged.c. */
#include "paged.h"

static int vllm_init(struct xpu_serve *s)
{
	return pg_init(s, PG_VLLM);
}

static const struct xpu_param_spec vllm_params[] = {
    {"batch", XPU_PARAM_INT, 1, 1e6, "requests running at once (vLLM max_num_seqs, default 256)"},
    {"max_tokens", XPU_PARAM_INT, 1, 1e9,
     "prompt tokens in one step (vLLM max_num_batched_tokens, default 4096)"},
    PG_PREEMPT_PARAM,
    PG_ORDER_PARAM,
    {NULL, 0, 0, 0, NULL},
};

const struct xpu_serve_ops xpu_serve_vllm = {
    .head = {.version = XPU_SERVE_VERSION,
             .name = "vllm",
             .description = "vLLM: paged KV cache, watermark, prompts first, preemption "
                            "by recompute or swap",
             .params = vllm_params},
    .init = vllm_init,
    .fini = pg_fini,
    .on_arrival = pg_arrival,
    .form_batch = pg_form,
    .on_step = pg_step,
    .on_prefilled = pg_prefilled,
    .on_finished = pg_finished,
};
