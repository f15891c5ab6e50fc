/* test_models.c — the LLM model catalogue (traces/models.csv): derived parameter counts
 * against the published sizes, the KV cache and decode figures by hand, bad catalogues. */
#include <criterion/criterion.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"
#include "models.h"

static struct xpu_model *load(size_t *n)
{
	struct xpu_model *m;
	struct xpu_err err = {{0}};
	cr_assert_eq(xpu_models_read(xt_src("traces/models.csv"), &m, n, &err), 0, "%s", err.msg);
	return m;
}

static const struct xpu_model *find(const struct xpu_model *m, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(m[i].name, name))
			return &m[i];
	cr_assert_fail("model %s is not in the catalogue", name);
	return NULL;
}

Test(models, parameter_counts_match_the_published_sizes_within_2_percent)
{
	size_t n;
	struct xpu_model *m = load(&n);
	cr_assert_geq(n, 8);
	static const char *const need[] = {"llama-2-7b",   "llama-2-13b",     "llama-2-70b",
	                                   "llama-3-8b",   "llama-3-70b",     "mixtral-8x7b",
	                                   "llama-3.2-1b", "whisper-large-v2"};
	for (size_t k = 0; k < sizeof(need) / sizeof(need[0]); k++)
		(void)find(m, n, need[k]);
	for (size_t i = 0; i < n; i++) {
		double p = xpu_model_params(&m[i]);
		cr_assert_lt(fabs(p - m[i].published) / m[i].published, 0.02,
		             "%s: %.4g derived, %.4g published", m[i].name, p, m[i].published);
	}
	/* Mixtral: 12.9B parameters per token (two of eight experts) */
	const struct xpu_model *mx = find(m, n, "mixtral-8x7b");
	cr_assert_lt(fabs(xpu_model_active_params(mx) - 12.9e9) / 12.9e9, 0.02);
	free(m);
}

/* Llama-2-7B in FP16: K and V of 32 layers x 32 heads x 128 = 2 x 32 x 4096 x 2 bytes =
 * 512 KiB per token; Llama-2-70B's 8 KV heads (GQA) cut it to 2 x 80 x 1024 x 2 = 320 KiB.
 * A decode step at context c reads the weights and c tokens of cache; its flops are 2
 * per multiplied weight (the 7B model's 6.74e9 less the 131M-weight input embedding, a
 * lookup) plus 4 x layers x hidden x c for attention. */
Test(models, kv_cache_and_decode_figures_by_hand)
{
	size_t n;
	struct xpu_model *m = load(&n);
	const struct xpu_model *a = find(m, n, "llama-2-7b"), *b = find(m, n, "llama-2-70b");
	cr_assert_eq(xpu_model_kv_bytes_per_token(a), 524288.0);
	cr_assert_eq(xpu_model_kv_bytes_per_token(b), 327680.0);
	double p = xpu_model_params(a), emb = 32000.0 * 4096;
	cr_assert_float_eq(xpu_model_decode_flops(a, 1000), 2 * (p - emb) + 4.0 * 32 * 4096 * 1000,
	                   1e-6);
	cr_assert_float_eq(xpu_model_decode_bytes(a, 1000), 2 * p + 524288.0 * 1000, 1e-6);
	cr_assert_float_eq(xpu_model_weight_bytes(a), 2 * p, 1e-6);
	/* prefill of n tokens: n times the matmul flops plus causal attention */
	cr_assert_float_eq(xpu_model_prefill_flops(a, 512),
	                   2 * (p - emb) * 512 + 4.0 * 32 * 4096 * 512.0 * 512 / 2, 1e-3);
	free(m);
}

Test(models, a_bad_catalogue_names_the_line_and_field)
{
	static const char *const cases[][2] = {
	    {"name,layers\nx,1\n", "field 'header'"},
	    {"name,layers,hidden,heads,kv_heads,ffn,experts,active_experts,vocab,tied,mlp,"
	     "enc_layers,bytes_per_param,params,source\n"
	     "m,32,4096,30,8,11008,1,1,32000,0,swiglu,0,2,7e9,x\n",
	     ":2: field 'heads': expected a divisor of hidden"},
	    {"name,layers,hidden,heads,kv_heads,ffn,experts,active_experts,vocab,tied,mlp,"
	     "enc_layers,bytes_per_param,params,source\n"
	     "m,32,4096,32,8,11008,1,1,32000,0,relu,0,2,7e9,x\n",
	     ":2: field 'mlp': expected swiglu or gelu"},
	    {"name,layers,hidden,heads,kv_heads,ffn,experts,active_experts,vocab,tied,mlp,"
	     "enc_layers,bytes_per_param,params,source\n"
	     "m,32,4096,32,8,11008,1,1,32000,0,swiglu,0,2,7e9,x\n"
	     "m,32,4096,32,8,11008,1,1,32000,0,swiglu,0,2,7e9,x\n",
	     ":3: field 'name': expected a name not used before"},
	    {"name,layers,hidden,heads,kv_heads,ffn,experts,active_experts,vocab,tied,mlp,"
	     "enc_layers,bytes_per_param,params,source\n"
	     "m,-3,4096,32,8,11008,1,1,32000,0,swiglu,0,2,7e9,x\n",
	     ":2: field 'layers': expected a whole number from 1 to 1000"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *path = xt_write_file("bad.csv", cases[i][0]);
		struct xpu_model *m = NULL;
		size_t n = 0;
		struct xpu_err err = {{0}};
		cr_assert_eq(xpu_models_read(path, &m, &n, &err), -EINVAL, "case %zu", i);
		cr_assert_not_null(strstr(err.msg, cases[i][1]), "case %zu: %s", i, err.msg);
		cr_assert_null(m);
	}
}

Test(models, the_llm_command_lists_the_catalogue)
{
	char buf[8192];
	cr_assert_eq(xt_cmd(buf, sizeof(buf), "llm models 2>&1"), 0, "%s", buf);
	cr_assert_not_null(strstr(buf, "llama-2-70b"), "%s", buf);
	cr_assert_not_null(strstr(buf, "mixtral-8x7b"), "%s", buf);
	cr_assert_eq(xt_cmd(buf, sizeof(buf), "llm models --context -1 2>&1"), 2, "%s", buf);
	cr_assert_eq(xt_cmd(buf, sizeof(buf), "llm serve 2>&1"), 2, "%s", buf);
}
