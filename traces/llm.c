/* llm.c — reader for LLM inference request logs (Azure LLM inference trace): a prefill and a decode
 * task per request. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lineio.h"

/* Azure LLM inference traces 2023 (Azure Public Dataset, github.com/Azure/
 * AzurePublicDataset, AzureLLMInferenceDataset2023.md; Patel et al., "Splitwise",
 * ISCA 2024): CSV with a header TIMESTAMP,ContextTokens,GeneratedTokens, one request
 * per row, TIMESTAMP as "YYYY-MM-DD HH:MM:SS.fffffff" (UTC).
 *
 * A request becomes two tasks, as in Splitwise's split of the two phases:
 *   R.prefill  class llm-prefill, flops = 2 x params x context tokens (a forward pass
 *              costs about 2 flop per parameter per token: Kaplan et al., "Scaling
 *              laws for neural language models", 2020, section 2.1); bytes = the
 *              weights, read once; mem = the KV cache it builds.
 *   R.decode   class llm-decode, depends on R.prefill and receives its KV cache;
 *              flops = 2 x params x generated tokens; bytes = per generated token the
 *              weights plus the KV cache so far: G x W + kv x (G x C + G (G - 1) / 2);
 *              mem = the final KV cache, kv x (C + G).
 * W = params x dtype_bytes; kv = bytes of K and V per token, 2 x layers x hidden x
 * dtype_bytes = 2 x 32 x 4096 x 2 = 524288 for Llama-2-7B in fp16 (Touvron et al.,
 * 2023, table 1). submit = seconds since the first request. */

enum { C_TIME, C_CONTEXT, C_GENERATED, NCOLS };
static const char *const col_names[NCOLS] = {"TIMESTAMP", "ContextTokens", "GeneratedTokens"};

#define MAX_COLS 64

struct llm {
	struct tr_lines l;
	double params, dtype, kv;
	int col[NCOLS];
	int ncols;
	double t0; /* first request's time; NAN before it */
	long nreq;
	/* The decode half of the request read last, returned by the next call. */
	int have_decode;
	struct xpu_trace_rec decode;
	char id[2][48];
	const char *dep_id[1];
	double dep_bytes[1];
	char *field[MAX_COLS + 1];
};

static int map_header(char *line, int *col)
{
	char *f[MAX_COLS + 1];
	int nf = tr_split(line, ',', f, MAX_COLS);
	for (int c = 0; c < NCOLS; c++) {
		col[c] = -1;
		for (int i = 0; i < nf && i < MAX_COLS; i++)
			if (!strcasecmp(f[i], col_names[c]))
				col[c] = i;
		if (col[c] < 0)
			return -1;
	}
	return nf;
}

static int azure_claims(const char *line)
{
	char buf[4096];
	int col[NCOLS];
	snprintf(buf, sizeof(buf), "%s", line);
	return map_header(buf, col) > 0;
}

/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar: count from March
 * so that the leap day ends a year (the usual era arithmetic). */
static long days_from_civil(long y, int m, int d)
{
	y -= m <= 2;
	long era = (y >= 0 ? y : y - 399) / 400;
	long yoe = y - era * 400;
	long doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

/* "YYYY-MM-DD HH:MM:SS[.frac]" (or 'T' between), or plain seconds. */
int tr_parse_time(const char *s, double *out)
{
	int y, mo, d, h, mi, n = 0;
	double sec;
	if (sscanf(s, "%4d-%2d-%2d%*1[ T]%2d:%2d:%lf%n", &y, &mo, &d, &h, &mi, &sec, &n) == 6 &&
	    !s[n]) {
		/* days in each month, February of a Gregorian leap year included */
		static const int mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
		int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
		if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] + (mo == 2 && leap) || h < 0 ||
		    h > 23 || mi < 0 || mi > 59 || sec < 0 || sec >= 61)
			return -1;
		*out = (double)days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec;
		return 0;
	}
	return tr_parse_num(s, out) == TR_OK && *out >= 0 ? 0 : -1;
}

static int llm_next(struct xpu_trace_reader *r, struct xpu_trace_rec *rec, struct xpu_err *err)
{
	struct llm *m = r->priv;
	if (m->have_decode) {
		m->have_decode = 0;
		*rec = m->decode;
		return 1;
	}
	int rc;
	do {
		rc = tr_lines_next(&m->l, err);
		if (rc <= 0)
			return rc;
	} while (tr_blank(m->l.line));
	r->records++;
	int nf = tr_split(m->l.line, ',', m->field, MAX_COLS);
	if (nf != m->ncols)
		return xpu_errf(err, r->path, m->l.lineno, "%s%d fields, but the header names %d",
		                nf > MAX_COLS ? "more than " : "", nf > MAX_COLS ? MAX_COLS : nf,
		                m->ncols);
	const char *ts = m->field[m->col[C_TIME]];
	double t, ctx, gen;
	if (tr_parse_time(ts, &t) < 0)
		return tr_bad(&m->l, err, "TIMESTAMP", "a time as YYYY-MM-DD HH:MM:SS.fff", ts, "");
	if (tr_num_field(&m->l, err, "ContextTokens", m->field[m->col[C_CONTEXT]], 0, &ctx) < 0 ||
	    tr_num_field(&m->l, err, "GeneratedTokens", m->field[m->col[C_GENERATED]], 0, &gen) < 0)
		return -EINVAL;
	if (ctx != floor(ctx) || ctx > 1e9)
		return tr_bad(&m->l, err, "ContextTokens", "a whole number of tokens",
		              m->field[m->col[C_CONTEXT]], ctx > 1e9 ? " (too large)" : "");
	if (gen != floor(gen) || gen > 1e9)
		return tr_bad(&m->l, err, "GeneratedTokens", "a whole number of tokens",
		              m->field[m->col[C_GENERATED]], gen > 1e9 ? " (too large)" : "");
	if (isnan(m->t0))
		m->t0 = t;
	if (t < m->t0)
		return tr_bad(&m->l, err, "TIMESTAMP", "a time no earlier than the first request's",
		              ts, "");
	m->nreq++;
	double w = m->params * m->dtype;

	memset(rec, 0, sizeof(*rec));
	rec->line = m->l.lineno;
	snprintf(m->id[0], sizeof(m->id[0]), "r%ld.prefill", m->nreq);
	snprintf(m->id[1], sizeof(m->id[1]), "r%ld.decode", m->nreq);
	rec->id = m->id[0];
	rec->submit = t - m->t0;
	rec->cls = XPU_CLASS_LLM_PREFILL;
	rec->flops = 2 * m->params * ctx;
	rec->bytes = w;
	rec->mem = m->kv * ctx;
	rec->deadline = INFINITY;
	rec->user = "";
	rec->width = 1;
	rec->estimate = NAN;

	m->decode = *rec;
	m->decode.id = m->id[1];
	m->decode.cls = XPU_CLASS_LLM_DECODE;
	m->decode.flops = 2 * m->params * gen;
	m->decode.bytes = gen * w + m->kv * (gen * ctx + gen * (gen - 1) / 2);
	m->decode.mem = m->kv * (ctx + gen);
	m->dep_id[0] = m->id[0];
	m->dep_bytes[0] = m->kv * ctx;
	m->decode.ndeps = 1;
	m->decode.dep_ids = m->dep_id;
	m->decode.dep_bytes = m->dep_bytes;
	m->have_decode = 1;
	return 1;
}

static void llm_close(struct xpu_trace_reader *r)
{
	struct llm *m = r->priv;
	if (!m)
		return;
	tr_lines_close(&m->l);
	free(m);
	r->priv = NULL;
}

static int llm_open(struct xpu_trace_reader *r, struct xpu_err *err)
{
	struct llm *m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	r->priv = m;
	m->t0 = NAN;
	int rc = tr_param_num(r, "params", 7e9, &m->params, err);
	if (rc == 0)
		rc = tr_param_num(r, "dtype_bytes", 2, &m->dtype, err);
	if (rc == 0)
		rc = tr_param_num(r, "kv_bytes", 524288, &m->kv, err);
	if (rc == 0)
		rc = tr_lines_open(&m->l, r->path, err);
	if (rc == 0) {
		do
			rc = tr_lines_next(&m->l, err);
		while (rc > 0 && tr_blank(m->l.line));
		if (rc == 0)
			rc = xpu_errf(err, r->path, 0, "empty file, expected a header row");
	}
	if (rc > 0) {
		rc = map_header(m->l.line, m->col);
		if (rc > MAX_COLS)
			rc = xpu_errf(err, r->path, m->l.lineno, "more than %d columns", MAX_COLS);
		else if (rc < 0)
			rc = xpu_errf(err, r->path, m->l.lineno,
			              "expected a header naming TIMESTAMP, ContextTokens and "
			              "GeneratedTokens");
		else
			m->ncols = rc, rc = 0;
	}
	if (rc < 0) {
		llm_close(r);
		return rc;
	}
	return 0;
}

static const char *const csv_extensions[] = {".csv", NULL};
static const char *const llm_params[] = {"params", "dtype_bytes", "kv_bytes", NULL};

const struct xpu_trace_reader_ops xpu_trace_azure_llm = {
    .name = "azure-llm",
    .description = "Azure LLM inference trace (TIMESTAMP, ContextTokens, GeneratedTokens): "
                   "a prefill and a decode task per request",
    .extensions = csv_extensions,
    .open = llm_open,
    .next = llm_next,
    .close = llm_close,
    .params = llm_params,
    .claims = azure_claims,
};
