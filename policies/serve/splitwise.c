/* splitwise.c — disaggregated serving (Patel et al., "Splitwise: Efficient Generative
 * LLM Inference Using Phase Splitting", ISCA 2024; Zhong et al., "DistServe", OSDI
 * 2024): prompts run on the replicas of role prefill, decodes on those of role decode,
 * and each request's KV cache crosses the platform's links between the two when its
 * first token is out. Needs a deployment with both roles (--deploy
 * 'prefill=gpu;decode=lpu'). Steps on each side as vllm (paged.c). */
#include <errno.h>

#include "paged.h"

static int split_init(struct xpu_serve *s)
{
	int pre = 0, dec = 0;
	for (int i = 0; i < xpu_nreplicas(s->eng); i++) {
		pre += xpu_replica_at(s->eng, i)->role == XPU_ROLE_PREFILL;
		dec += xpu_replica_at(s->eng, i)->role == XPU_ROLE_DECODE;
	}
	if (!pre || !dec)
		return -EINVAL;
	return pg_init(s, PG_SPLIT);
}

static const struct xpu_param_spec split_params[] = {
    {"batch", XPU_PARAM_INT, 1, 1e6, "requests running at once per replica (default 256)"},
    {"max_tokens", XPU_PARAM_INT, 1, 1e9, "prompt tokens in one step (default 4096)"},
    PG_PREEMPT_PARAM,
    PG_ORDER_PARAM,
    {NULL, 0, 0, 0, NULL},
};

const struct xpu_serve_ops xpu_serve_splitwise = {
    .head = {.version = XPU_SERVE_VERSION,
             .name = "splitwise",
             .description = "disaggregated prefill and decode on separate replicas, the "
                            "KV cache moved between them",
             .params = split_params},
    .init = split_init,
    .fini = pg_fini,
    .on_arrival = pg_arrival,
    .form_batch = pg_form,
    .on_step = pg_step,
    .on_prefilled = pg_prefilled,
    .on_finished = pg_finished,
};
