/* paged.h — the paged-KV serve policies' shared core (paged.c): vllm, sarathi and
 * splitwise differ in how a step is filled. */
#ifndef XPU_SERVE_PAGED_H
#define XPU_SERVE_PAGED_H

#include "xpu.h"

enum pg_mode { PG_VLLM, PG_SARATHI, PG_SPLIT };

int pg_init(struct xpu_serve *s, int mode);
void pg_fini(struct xpu_serve *s);
void pg_arrival(struct xpu_serve *s, const struct xpu_request *r, int rep);
void pg_form(struct xpu_serve *s, int rep);
void pg_step(struct xpu_serve *s, int rep);
void pg_prefilled(struct xpu_serve *s, const struct xpu_request *r);
void pg_finished(struct xpu_serve *s, const struct xpu_request *r);

#define PG_PREEMPT_PARAM                                                                           \
	{                                                                                          \
		"preempt", XPU_PARAM_WORD, 0, 0,                                                   \
		    "recompute|swap: what a preempted request loses: its KV cache, rebuilt "       \
		    "later, or nothing, the cache moving to host memory and back (default "        \
		    "recompute)"                                                                   \
	}

#define PG_ORDER_PARAM                                                                             \
	{                                                                                          \
		"order", XPU_PARAM_WORD, 0, 0,                                                     \
		    "arrival|deadline: which waiting request is admitted first (default "          \
		    "arrival)"                                                                     \
	}

#endif
