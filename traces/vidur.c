/* vidur.c — reader for Microsoft vidur operator profiles: one task per operator of each
 * profiled configuration, chained in header order. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "vidur.h"

/* vidur (Agrawal et al., "Vidur: A Large-Scale Simulation Framework for LLM Inference",
 * MLSys 2024; github.com/microsoft/vidur, MIT) profiles each operator of a model layer
 * on a GPU and stores one CSV per operator family (data/profiling/compute/GPU/MODEL/
 * mlp.csv, attention.csv; network/.../all_reduce.csv, send_recv.csv). Every file has,
 * per operator OP, the columns time_stats.OP.min, .max, .mean, .median and .std in
 * milliseconds, then the configuration's shape columns (num_tokens, n_embd, n_head,
 * batch_size, is_prefill, size ...), some of them not numbers (True, False,
 * AttentionBackend.FLASH_ATTENTION). pandas writes a missing value as an empty field:
 * attention profiles leave attn_prefill empty on decode rows and the other way round.
 * Some files open with pandas' unnamed index column. Nothing is quoted. */

const char *const xpu_vidur_stats[] = {"min", "max", "mean", "median", NULL};

static const char *const shape_names[XPU_VIDUR_NSHAPES] = {
    "num_tokens",
    "n_embd",
    "n_head",
    "n_kv_head",
    "n_expanded_embd",
    "use_gated_mlp",
    "num_tensor_parallel_workers",
};

#define PREFIX     "time_stats."
#define PREFIX_LEN (sizeof(PREFIX) - 1)

/* Split a time_stats.OP.STAT column name: 1 with the operator as [*op, *op + *oplen)
 * and the statistic at *stat, 0 for any other name. The operator is everything
 * between the prefix and the last dot, so it may hold dots itself. */
static int op_column(const char *name, const char **op, size_t *oplen, const char **stat)
{
	if (strncmp(name, PREFIX, PREFIX_LEN))
		return 0;
	const char *rest = name + PREFIX_LEN;
	const char *dot = strrchr(rest, '.');
	if (!dot || dot == rest || !dot[1])
		return 0;
	*op = rest;
	*oplen = (size_t)(dot - rest);
	*stat = dot + 1;
	return 1;
}

int xpu_vidur_claims(const char *line)
{
	/* Look at the names one by one without copying the line. */
	for (const char *p = line; *p;) {
		while (*p == ' ' || *p == '\t')
			p++;
		size_t n = strcspn(p, ",");
		char name[256];
		if (n < sizeof(name)) {
			memcpy(name, p, n);
			name[n] = '\0';
			const char *op, *stat;
			size_t oplen;
			if (op_column(name, &op, &oplen, &stat))
				return 1;
		}
		p += n;
		if (*p == ',')
			p++;
	}
	return 0;
}

int xpu_vidur_class(const char *op)
{
	if (strstr(op, "proj") || strstr(op, "matmul") || strstr(op, "gemm"))
		return XPU_CLASS_GEMM;
	if (!strncmp(op, "attn_", 5) && !strstr(op, "rope"))
		return XPU_CLASS_ATTENTION;
	return XPU_CLASS_GENERIC;
}

/* A linear layer multiplying a (tokens x k) activation by a (k x n) weight costs
 * 2 x tokens x k x n flop, one multiply and one add per weight per token; tensor
 * parallelism splits the weight over tp GPUs (Megatron-LM: Shoeybi et al. 2019,
 * Narayanan et al., SC 2021, section 5.1). Llama's layer (Touvron et al. 2023):
 *   attn_pre_proj   fused Q, K, V: k = n_embd, n = (n_head + 2 n_kv_head) x head_dim,
 *                   head_dim = n_embd / n_head (grouped-query attention shares K, V)
 *   attn_post_proj  output projection: k = n = n_embd
 *   mlp_up_proj     k = n_embd, n = n_expanded_embd, doubled for a gated MLP (SwiGLU's
 *                   gate and up projections are fused)
 *   mlp_down_proj   k = n_expanded_embd, n = n_embd */
double xpu_vidur_flops(const char *op, const double *s)
{
	double t = s[XPU_VIDUR_TOKENS], e = s[XPU_VIDUR_EMBD], h = s[XPU_VIDUR_HEAD];
	double kv = s[XPU_VIDUR_KV_HEAD], x = s[XPU_VIDUR_EXPANDED], g = s[XPU_VIDUR_GATED];
	double tp = isnan(s[XPU_VIDUR_TP]) ? 1 : s[XPU_VIDUR_TP];
	double f = NAN; /* NAN in, NAN out: an unknown shape leaves the work unknown */
	if (!strcmp(op, "attn_pre_proj") && h > 0)
		f = 2 * t * e * (h + 2 * kv) * (e / h);
	else if (!strcmp(op, "attn_post_proj"))
		f = 2 * t * e * e;
	else if (!strcmp(op, "mlp_up_proj") && !isnan(g))
		f = 2 * t * e * x * (g ? 2 : 1);
	else if (!strcmp(op, "mlp_down_proj"))
		f = 2 * t * x * e;
	f /= tp;
	return isfinite(f) && tp > 0 ? f : NAN;
}

void xpu_vidur_close(struct xpu_vidur *v)
{
	tr_lines_close(&v->l);
	free(v->op);
	free(v->opcol);
	free(v->col);
	free(v->ms);
	free(v->field);
	free(v->names);
	free(v->colnames);
	memset(v, 0, sizeof(*v));
}

/* Operator names become task ids ("p12.mlp_up_proj") that a native CSV written by
 * `xpuopt convert` must read back: no separators, quotes or blanks. */
static int good_op_name(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '-' || c == '.'))
			return 0;
	}
	return 1;
}

static int find_op(const struct xpu_vidur *v, const char *op, size_t len)
{
	for (int i = 0; i < v->nops; i++)
		if (strlen(v->op[i]) == len && !memcmp(v->op[i], op, len))
			return i;
	return -1;
}

/* Map the header in v->l.line: operators, their chosen statistic's column, shapes. */
static int map_header(struct xpu_vidur *v, struct xpu_err *err)
{
	const char *stat = xpu_vidur_stats[v->stat];
	int n = 1;
	for (const char *p = v->l.line; *p; p++)
		n += *p == ',';
	/* Two copies of the names: whole for messages, cut at the last dot for operators. */
	v->names = strdup(v->l.line);
	v->colnames = strdup(v->l.line);
	char **col = calloc((size_t)n + 1, sizeof(*col));
	char **cut = calloc((size_t)n + 1, sizeof(*cut));
	v->field = calloc((size_t)n + 1, sizeof(*v->field));
	/* At most one operator per column. */
	v->op = calloc((size_t)n, sizeof(*v->op));
	v->opcol = calloc((size_t)n, sizeof(*v->opcol));
	v->col = calloc((size_t)n, sizeof(*v->col));
	v->ms = calloc((size_t)n, sizeof(*v->ms));
	int rc = 0;
	if (!v->names || !v->colnames || !col || !cut || !v->field || !v->op || !v->opcol ||
	    !v->col || !v->ms)
		rc = -ENOMEM;
	if (rc == 0) {
		v->ncols = tr_split(v->colnames, ',', col, n);
		tr_split(v->names, ',', cut, n);
	}
	for (int s = 0; s < XPU_VIDUR_NSHAPES; s++)
		v->shape_col[s] = -1;

	for (int j = 0; j < v->ncols && rc == 0; j++) {
		const char *name = col[j], *op, *st;
		size_t oplen;
		if (op_column(name, &op, &oplen, &st)) {
			if (!good_op_name(op, oplen)) {
				rc = xpu_errf(err, v->path, v->l.lineno,
				              "header: column %d, \"%.*s\": an operator name holds "
				              "letters, digits, '_', '-' and '.' only",
				              j + 1, TR_QUOTE_MAX, name);
				break;
			}
			int i = find_op(v, op, oplen);
			if (i < 0) {
				i = v->nops++;
				cut[j][PREFIX_LEN + oplen] = '\0';
				v->op[i] = cut[j] + PREFIX_LEN;
				v->col[i] = -1;
			}
			if (strcmp(st, stat))
				continue;
			if (v->col[i] >= 0)
				rc = xpu_errf(err, v->path, v->l.lineno,
				              "header: duplicate column '%.*s' (columns %d and %d)",
				              TR_QUOTE_MAX, name, v->col[i] + 1, j + 1);
			v->col[i] = j;
			v->opcol[i] = name;
			continue;
		}
		for (int s = 0; s < XPU_VIDUR_NSHAPES; s++) {
			if (strcmp(name, shape_names[s]) &&
			    !(s == XPU_VIDUR_HEAD && !strcmp(name, "n_q_head")))
				continue;
			if (v->shape_col[s] >= 0)
				rc = xpu_errf(err, v->path, v->l.lineno,
				              "header: duplicate column '%s' (columns %d and %d)",
				              name, v->shape_col[s] + 1, j + 1);
			v->shape_col[s] = j;
			v->shape_name[s] = name;
		}
	}
	free(col);
	free(cut);
	if (rc < 0)
		return rc;
	if (v->nops == 0)
		return xpu_errf(err, v->path, v->l.lineno,
		                "expected a vidur profile header with time_stats.OP.STAT columns "
		                "(such as time_stats.mlp_up_proj.median), found none");
	for (int i = 0; i < v->nops; i++)
		if (v->col[i] < 0)
			return xpu_errf(err, v->path, v->l.lineno,
			                "header: no column '" PREFIX "%.*s.%s' for operator '%.*s' "
			                "(the statistic replayed is %s)",
			                TR_QUOTE_MAX, v->op[i], stat, TR_QUOTE_MAX, v->op[i], stat);
	return 0;
}

int xpu_vidur_open(struct xpu_vidur *v, const char *path, int stat, struct xpu_err *err)
{
	memset(v, 0, sizeof(*v));
	v->path = path;
	v->stat = stat;
	int rc = tr_lines_open(&v->l, path, err);
	if (rc < 0)
		return rc;
	do
		rc = tr_lines_next(&v->l, err);
	while (rc > 0 && tr_blank(v->l.line));
	if (rc == 0)
		rc = xpu_errf(err, path, 0, "empty file, expected a header row");
	if (rc > 0)
		rc = map_header(v, err);
	if (rc < 0)
		xpu_vidur_close(v);
	return rc < 0 ? rc : 0;
}

int xpu_vidur_next(struct xpu_vidur *v, struct xpu_err *err)
{
	int rc;
	do {
		rc = tr_lines_next(&v->l, err);
		if (rc <= 0)
			return rc;
	} while (tr_blank(v->l.line));
	int nf = tr_split(v->l.line, ',', v->field, v->ncols);
	if (nf != v->ncols)
		return xpu_errf(err, v->path, v->l.lineno, "%s%d fields, but the header names %d",
		                nf > v->ncols ? "more than " : "", nf > v->ncols ? v->ncols : nf,
		                v->ncols);
	v->row++;
	for (int i = 0; i < v->nops; i++) {
		const char *s = v->field[v->col[i]];
		/* Empty: the operator was not measured in this configuration. */
		v->ms[i] = NAN;
		if (*s && tr_num_field(&v->l, err, v->opcol[i], s, 0, &v->ms[i]) < 0)
			return -EINVAL;
	}
	return 1;
}

int xpu_vidur_shape(struct xpu_vidur *v, int s, double *out, struct xpu_err *err)
{
	*out = NAN;
	int c = v->shape_col[s];
	if (c < 0 || !*v->field[c])
		return 0;
	const char *f = v->field[c], *name = v->shape_name[s];
	if (s == XPU_VIDUR_GATED) {
		if (!strcasecmp(f, "true") || !strcmp(f, "1"))
			*out = 1;
		else if (!strcasecmp(f, "false") || !strcmp(f, "0"))
			*out = 0;
		else
			return tr_bad(&v->l, err, name, "True or False", f, "");
		return 0;
	}
	if (tr_num_field(&v->l, err, name, f, 0, out) < 0)
		return -EINVAL;
	/* Counts of tokens, heads and workers; a billion of any is a corrupt field. */
	if (*out != floor(*out) || *out > 1e9)
		return tr_bad(&v->l, err, name, "a whole number", f,
		              *out > 1e9 ? " (too large)" : "");
	return 0;
}

/* ------------------------------------------------------------------ the trace reader */

/* One configuration (row) becomes one task per measured operator, in header order, each
 * after the one before it (a layer's operators run in sequence) and receiving its
 * activation, num_tokens x n_embd x dtype_bytes, when the row gives both shapes. */
struct vreader {
	struct xpu_vidur v;
	double speed, dtype;
	/* The tasks of the row read last: task k of ntask is operator top[k]. */
	int ntask, next;
	int *top;
	char **id;    /* each task's id, in idbuf */
	char *idbuf;  /* room for every operator's id */
	size_t idcap; /* per operator */
	double act;   /* this row's activation bytes */
	const char *dep_id[1];
	double dep_bytes[1];
	/* Header facts for `xpuopt trace`. */
	int nfacts;
	char *ops;
	char stat_s[16], speed_s[32], nops_s[16], rows_s[24];
};

static int vr_row(struct vreader *m, struct xpu_err *err)
{
	struct xpu_vidur *v = &m->v;
	double tokens, embd;
	if (xpu_vidur_shape(v, XPU_VIDUR_TOKENS, &tokens, err) < 0 ||
	    xpu_vidur_shape(v, XPU_VIDUR_EMBD, &embd, err) < 0)
		return -EINVAL;
	m->act = isnan(tokens) || isnan(embd) ? 0 : tokens * embd * m->dtype;
	m->ntask = m->next = 0;
	for (int i = 0; i < v->nops; i++) {
		if (isnan(v->ms[i]))
			continue;
		char *id = m->idbuf + (size_t)i * m->idcap;
		snprintf(id, m->idcap, "p%ld.%s", v->row, v->op[i]);
		m->id[m->ntask] = id;
		m->top[m->ntask++] = i;
	}
	return 0;
}

static int vr_next(struct xpu_trace_reader *r, struct xpu_trace_rec *rec, struct xpu_err *err)
{
	struct vreader *m = r->priv;
	/* A row whose operators are all empty gives no task: read on. */
	while (m->next == m->ntask) {
		int rc = xpu_vidur_next(&m->v, err);
		if (rc <= 0)
			return rc;
		r->records++;
		if (vr_row(m, err) < 0)
			return -EINVAL;
	}
	int k = m->next++, op = m->top[k];
	memset(rec, 0, sizeof(*rec));
	rec->line = m->v.l.lineno;
	rec->id = m->id[k];
	rec->cls = xpu_vidur_class(m->v.op[op]);
	/* ms -> s; a unit of `speed` flop/s replays the measured time. */
	rec->flops = m->v.ms[op] / 1e3 * m->speed;
	rec->deadline = INFINITY;
	rec->user = "";
	rec->width = 1;
	rec->estimate = NAN;
	if (k > 0) {
		m->dep_id[0] = m->id[k - 1];
		m->dep_bytes[0] = m->act;
		rec->ndeps = 1;
		rec->dep_ids = m->dep_id;
		rec->dep_bytes = m->dep_bytes;
	}
	return 1;
}

static void vr_close(struct xpu_trace_reader *r)
{
	struct vreader *m = r->priv;
	if (!m)
		return;
	xpu_vidur_close(&m->v);
	free(m->top);
	free(m->id);
	free(m->idbuf);
	free(m->ops);
	free(m);
	r->priv = NULL;
}

static const char *const vr_params[] = {"stat", "speed", "dtype_bytes", NULL};

static int vr_open(struct xpu_trace_reader *r, struct xpu_err *err)
{
	struct vreader *m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	r->priv = m;
	int stat = tr_param_choice(r, "stat", xpu_vidur_stats, XPU_VIDUR_MEDIAN, err);
	int rc = stat < 0 ? stat : 0;
	if (rc == 0)
		rc = tr_param_num(r, "speed", 1e12, &m->speed, err);
	if (rc == 0)
		rc = tr_param_num(r, "dtype_bytes", 2, &m->dtype, err);
	if (rc == 0)
		rc = xpu_vidur_open(&m->v, r->path, stat, err);
	if (rc < 0) {
		free(m);
		r->priv = NULL;
		return rc;
	}
	/* Ids are "p" ROW "." OP: a row number has at most 20 digits. open found at
	 * least one operator. */
	size_t nops = m->v.nops > 0 ? (size_t)m->v.nops : 1, longest = 0, total = 1;
	for (int i = 0; i < m->v.nops; i++) {
		size_t len = strlen(m->v.op[i]);
		longest = len > longest ? len : longest;
		total += len + 1;
	}
	m->idcap = longest + 24;
	m->top = calloc(nops, sizeof(*m->top));
	m->id = calloc(nops, sizeof(*m->id));
	m->idbuf = calloc(nops, m->idcap);
	m->ops = calloc(1, total);
	if (!m->top || !m->id || !m->idbuf || !m->ops) {
		vr_close(r);
		return -ENOMEM;
	}
	char *p = m->ops;
	for (int i = 0; i < m->v.nops; i++)
		p += sprintf(p, "%s%s", i ? "," : "", m->v.op[i]);
	return 0;
}

/* Data rows of the file, counted on a second handle so that the reader's own stream
 * is left where it is; -1 when the file cannot be read through. */
static long count_rows(const char *path)
{
	struct tr_lines l;
	struct xpu_err err = {{0}};
	long rows = -1;
	int rc;
	if (tr_lines_open(&l, path, &err) < 0)
		return -1;
	while ((rc = tr_lines_next(&l, &err)) > 0)
		if (!tr_blank(l.line))
			rows++;
	tr_lines_close(&l);
	return rc < 0 ? -1 : rows;
}

static int vr_header(struct xpu_trace_reader *r, int i, const char **key, const char **value)
{
	struct vreader *m = r->priv;
	if (!m->nfacts) {
		long rows = count_rows(r->path);
		snprintf(m->stat_s, sizeof(m->stat_s), "%s", xpu_vidur_stats[m->v.stat]);
		snprintf(m->speed_s, sizeof(m->speed_s), "%.15g", m->speed);
		snprintf(m->nops_s, sizeof(m->nops_s), "%d", m->v.nops);
		snprintf(m->rows_s, sizeof(m->rows_s), "%ld", rows < 0 ? 0 : rows);
		m->nfacts = rows < 0 ? 4 : 5;
	}
	static const char *const keys[] = {"ops", "ops_per_configuration", "stat", "speed",
	                                   "configurations"};
	const char *values[] = {m->ops, m->nops_s, m->stat_s, m->speed_s, m->rows_s};
	if (i < 0 || i >= m->nfacts)
		return 0;
	*key = keys[i];
	*value = values[i];
	return 1;
}

static const char *const csv_extensions[] = {".csv", NULL};

const struct xpu_trace_reader_ops xpu_trace_vidur = {
    .name = "vidur",
    .description = "Microsoft vidur operator profile (time_stats.OP.STAT columns): one task "
                   "per operator of each profiled configuration",
    .extensions = csv_extensions,
    .open = vr_open,
    .next = vr_next,
    .close = vr_close,
    .params = vr_params,
    .claims = xpu_vidur_claims,
    .header = vr_header,
};
