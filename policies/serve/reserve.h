/* reserve.h — what static batching and Orca share (reserve.c): requests waiting in
 * arrival order per replica, a batch of admitted ones, and a reservation of each
 * admitted request's whole length (or the model's maximum) in the KV cache. */
#ifndef XPU_SERVE_RESERVE_H
#define XPU_SERVE_RESERVE_H

#include "lists.h"

struct rv {
	struct sl_rep *r;
	int n;
	uint32_t batch;
	uint32_t max_len; /* reserve=max: tokens reserved per request, at least; 0: exact */
};

/* Set up s->priv as a struct rv with `batch` defaulting to def_batch. */
int rv_init(struct xpu_serve *s, uint32_t def_batch);
void rv_fini(struct xpu_serve *s);
void rv_arrival(struct xpu_serve *s, const struct xpu_request *r, int rep);
/* Admit waiting requests of rep while the batch has room and their reservations fit. */
void rv_admit(struct xpu_serve *s, int rep);

#define RV_PARAMS(BATCH_HELP)                                                                      \
	{"batch", XPU_PARAM_INT, 1, 1e6, BATCH_HELP},                                              \
	    {"reserve", XPU_PARAM_WORD, 0, 0,                                                      \
	     "max|exact: KV reserved on admission: max_len tokens (or the request's length "       \
	     "when longer), as a server that cannot know the output; or the request's own "        \
	     "length (default max)"},                                                              \
	{                                                                                          \
		"max_len", XPU_PARAM_INT, 1, 1e8,                                                  \
		    "the maximum sequence length reserve=max reserves (default 4096, Llama 2's "   \
		    "context)"                                                                     \
	}

#endif
