/* models.h — the LLM model catalogue (traces/models.csv; traces/FORMAT.md, "Model
 * catalogue"): each model's architecture, and what follows from it: parameters,
 * weight and KV-cache bytes, flops and bytes per prefill token and per decode step. */
#ifndef XPU_MODELS_H
#define XPU_MODELS_H

#include <stddef.h>

#include "xpu.h"

struct xpu_model {
	char name[64];
	int layers, hidden, heads, kv_heads, ffn, experts, active_experts, vocab, tied;
	int gelu;       /* 1: a GELU MLP (2 matrices, biases); 0: SwiGLU (3 matrices) */
	int enc_layers; /* > 0: an encoder-decoder (Whisper) */
	double bytes_per_param;
	double published; /* the published parameter count */
	char source[256];
	int line;
};

/* Read a catalogue. 0 with *out (free it) and *n, or -EINVAL/-ENOMEM with err naming
 * the file, line and field. */
int xpu_models_read(const char *path, struct xpu_model **out, size_t *n, struct xpu_err *err);

/* Parameters: all of them, and those one token uses (a mixture of experts: the active
 * experts only). */
double xpu_model_params(const struct xpu_model *m);
double xpu_model_active_params(const struct xpu_model *m);
/* Bytes: the weights, and one token's keys and values over every layer. */
double xpu_model_weight_bytes(const struct xpu_model *m);
double xpu_model_kv_bytes_per_token(const struct xpu_model *m);
/* One decode step at context ctx (tokens already cached): flops (2 per weight the token
 * uses, plus attention over ctx) and bytes read (the weights it uses, plus the KV cache
 * of ctx tokens). */
double xpu_model_decode_flops(const struct xpu_model *m, double ctx);
double xpu_model_decode_bytes(const struct xpu_model *m, double ctx);
/* A prefill of n tokens from an empty cache: flops (causal attention, n^2 / 2 pairs). */
double xpu_model_prefill_flops(const struct xpu_model *m, double n);

/* What the serving engine needs of m (xpu.h, struct xpu_llm). */
void xpu_model_llm(const struct xpu_model *m, struct xpu_llm *out);

#endif
