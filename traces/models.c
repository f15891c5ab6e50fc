/* models.c — the LLM model catalogue (models.h). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lineio.h"
#include "models.h"

#define NCOL 15
static const char *const cols[NCOL] = {
    "name", "layers",     "hidden",          "heads",  "kv_heads",
    "ffn",  "experts",    "active_experts",  "vocab",  "tied",
    "mlp",  "enc_layers", "bytes_per_param", "params", "source"};

/* A whole number field in [lo, hi]. */
static int int_field(const struct tr_lines *l, struct xpu_err *err, const char *field,
                     const char *v, int lo, int hi, int *out)
{
	double d;
	if (tr_parse_num(v, &d) != TR_OK || d != floor(d) || d < lo || d > hi) {
		char want[96];
		snprintf(want, sizeof(want), "a whole number from %d to %d", lo, hi);
		return tr_bad(l, err, field, want, v, "");
	}
	*out = (int)d;
	return 0;
}

static int read_row(struct tr_lines *l, char **f, struct xpu_model *m, struct xpu_err *err)
{
	memset(m, 0, sizeof(*m));
	m->line = l->lineno;
	if (!f[0][0] || strlen(f[0]) >= sizeof(m->name))
		return tr_bad(l, err, "name", "a name of 1 to 63 characters", f[0], "");
	snprintf(m->name, sizeof(m->name), "%s", f[0]);
	int *ints[] = {&m->layers,  &m->hidden,         &m->heads, &m->kv_heads, &m->ffn,
	               &m->experts, &m->active_experts, &m->vocab, &m->tied};
	static const int lo[] = {1, 1, 1, 1, 1, 1, 1, 1, 0};
	static const int hi[] = {1000, 1 << 20, 4096, 4096, 1 << 22, 4096, 4096, 1 << 24, 1};
	for (int i = 0; i < 9; i++) {
		int rc = int_field(l, err, cols[1 + i], f[1 + i], lo[i], hi[i], ints[i]);
		if (rc)
			return rc;
	}
	if (!strcmp(f[10], "gelu"))
		m->gelu = 1;
	else if (strcmp(f[10], "swiglu"))
		return tr_bad(l, err, "mlp", "swiglu or gelu", f[10], "");
	int rc = int_field(l, err, "enc_layers", f[11], 0, 1000, &m->enc_layers);
	if (rc)
		return rc;
	if ((rc = tr_num_field(l, err, "bytes_per_param", f[12], 0, &m->bytes_per_param)) ||
	    (rc = tr_num_field(l, err, "params", f[13], 0, &m->published)))
		return rc;
	if (!(m->bytes_per_param > 0) || m->bytes_per_param > 16)
		return tr_bad(l, err, "bytes_per_param", "a size from 0 to 16 bytes (2 for FP16)",
		              f[12], "");
	if (m->hidden % m->heads)
		return tr_bad(l, err, "heads", "a divisor of hidden", f[3], "");
	if (m->heads % m->kv_heads)
		return tr_bad(l, err, "kv_heads", "a divisor of heads", f[4], "");
	if (m->active_experts > m->experts)
		return tr_bad(l, err, "active_experts", "at most experts", f[7], "");
	snprintf(m->source, sizeof(m->source), "%s", f[14]);
	return 0;
}

int xpu_models_read(const char *path, struct xpu_model **out, size_t *n, struct xpu_err *err)
{
	struct tr_lines l;
	*out = NULL;
	*n = 0;
	int rc = tr_lines_open(&l, path, err);
	if (rc)
		return rc;
	size_t cap = 0;
	int header = 0;
	while ((rc = tr_lines_next(&l, err)) == 1) {
		if (tr_blank(l.line) || l.line[0] == '#')
			continue;
		char *f[NCOL + 1];
		int nf = tr_split(l.line, ',', f, NCOL);
		if (!header) {
			for (int i = 0; i < NCOL; i++)
				if (nf != NCOL || strcmp(f[i], cols[i])) {
					rc = tr_bad(&l, err, "header",
					            "name,layers,hidden,heads,kv_heads,ffn,experts,"
					            "active_experts,vocab,tied,mlp,enc_layers,"
					            "bytes_per_param,params,source",
					            i < nf ? f[i] : "",
					            " (a column is missing, extra or "
					            "misnamed)");
					goto out;
				}
			header = 1;
			continue;
		}
		if (nf != NCOL) {
			char got[32];
			snprintf(got, sizeof(got), "%d fields", nf > NCOL ? NCOL + 1 : nf);
			rc = tr_bad(&l, err, "row", "15 comma-separated fields", got, "");
			goto out;
		}
		if (*n == cap) {
			size_t c = cap ? 2 * cap : 16;
			struct xpu_model *m = realloc(*out, c * sizeof(*m));
			if (!m) {
				rc = -ENOMEM;
				goto out;
			}
			*out = m;
			cap = c;
		}
		if ((rc = read_row(&l, f, &(*out)[*n], err)))
			goto out;
		for (size_t k = 0; k < *n; k++)
			if (!strcmp((*out)[k].name, (*out)[*n].name)) {
				rc = tr_bad(&l, err, "name", "a name not used before",
				            (*out)[*n].name, "");
				goto out;
			}
		(*n)++;
	}
	if (rc == 0 && !header)
		rc = xpu_errf(err, path, 0, "no header: expected a catalogue (traces/models.csv)");
out:
	tr_lines_close(&l);
	if (rc < 0) {
		free(*out);
		*out = NULL;
		*n = 0;
	}
	return rc < 0 ? rc : 0;
}

/* ------------------------------------------------------------------ derived */

static double head_dim(const struct xpu_model *m)
{
	return (double)m->hidden / m->heads;
}

/* One decoder layer's weights with `experts` MLPs (norms included). */
static double layer_params(const struct xpu_model *m, int experts)
{
	double h = m->hidden, q = m->heads * head_dim(m), kv = m->kv_heads * head_dim(m);
	double attn = h * q + 2 * h * kv + q * h;
	double mlp = (m->gelu ? 2.0 : 3.0) * h * m->ffn;
	if (m->gelu) { /* Whisper: biases on q, v, o (k has none), the MLP's two */
		attn += 3 * h;
		mlp += m->ffn + h;
	}
	double router = m->experts > 1 ? h * m->experts : 0;
	double norms = m->gelu ? 2 * 2 * h : 2 * h; /* LayerNorm: weight and bias */
	return attn + experts * mlp + router + norms;
}

static double params_with(const struct xpu_model *m, int experts)
{
	double h = m->hidden;
	double emb = (double)m->vocab * h * (m->tied ? 1 : 2);
	if (m->enc_layers == 0)
		return emb + m->layers * layer_params(m, experts) + h;
	/* encoder-decoder (Whisper): each decoder layer adds cross-attention (and its
	 * norm); learned decoder positions (448); a 2-layer conv stem over 80 mel bins */
	double attn = 4 * h * h + 3 * h, cross = attn + 2 * h;
	double conv = 80 * h * 3 + h + h * h * 3 + h;
	return emb + 448 * h + conv + m->enc_layers * layer_params(m, 1) +
	       m->layers * (layer_params(m, 1) + cross) + 2 * 2 * h;
}

double xpu_model_params(const struct xpu_model *m)
{
	return params_with(m, m->experts);
}

double xpu_model_active_params(const struct xpu_model *m)
{
	return params_with(m, m->active_experts);
}

double xpu_model_weight_bytes(const struct xpu_model *m)
{
	return xpu_model_params(m) * m->bytes_per_param;
}

double xpu_model_kv_bytes_per_token(const struct xpu_model *m)
{
	return 2.0 * m->layers * m->kv_heads * head_dim(m) * m->bytes_per_param;
}

/* Weights one decode token multiplies: the active ones less the input embedding (a
 * lookup, no flops; with tied embeddings the output head still multiplies it). */
static double matmul_params(const struct xpu_model *m)
{
	return xpu_model_active_params(m) - (m->tied ? 0 : (double)m->vocab * m->hidden);
}

double xpu_model_decode_flops(const struct xpu_model *m, double ctx)
{
	/* scores q.k and the weighted sum of values: 2 flops per element each */
	double attn = 4.0 * m->layers * m->heads * head_dim(m) * ctx;
	return 2 * matmul_params(m) + attn;
}

double xpu_model_decode_bytes(const struct xpu_model *m, double ctx)
{
	return xpu_model_active_params(m) * m->bytes_per_param +
	       xpu_model_kv_bytes_per_token(m) * ctx;
}

double xpu_model_prefill_flops(const struct xpu_model *m, double n)
{
	double attn = 4.0 * m->layers * m->heads * head_dim(m) * n * n / 2;
	return 2 * matmul_params(m) * n + attn;
}

void xpu_model_llm(const struct xpu_model *m, struct xpu_llm *out)
{
	memset(out, 0, sizeof(*out));
	snprintf(out->name, sizeof(out->name), "%s", m->name);
	out->layers = m->layers;
	out->hidden = m->hidden;
	out->experts = m->experts;
	out->active_experts = m->active_experts;
	out->weight_bytes = xpu_model_weight_bytes(m);
	out->expert_bytes =
	    m->experts > 1 ? (params_with(m, m->experts) - params_with(m, 0)) * m->bytes_per_param
	                   : 0;
	out->flops_per_token = 2 * matmul_params(m);
	out->attn_flops_per_pair = 4.0 * m->layers * m->heads * head_dim(m);
	out->kv_bytes_per_token = xpu_model_kv_bytes_per_token(m);
	out->act_bytes_per_token = (double)m->hidden * m->bytes_per_param;
}
