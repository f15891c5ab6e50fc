/* gpu_csv.c — readers for GPU-cluster job lists: Alibaba cluster-trace-gpu-v2023 pods and
 * Philly/ITP jobs. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lineio.h"

/* Both formats are plain CSV with a header row and no quoting, and both use the ".csv"
 * extension of the native format: "auto" tells them apart by the header (claims).
 *
 * Alibaba clusterdata cluster-trace-gpu-v2023 (Weng et al., "Beware of Fragmentation:
 * Scheduling GPU-Sharing Workloads with Fragmentation Gradient Descent", USENIX ATC
 * 2023; github.com/alibaba/clusterdata): one pod per row, columns name, cpu_milli,
 * memory_mib, num_gpu, gpu_milli (thousandths of one GPU), gpu_spec, qos, pod_phase,
 * creation_time, deletion_time, scheduled_time, times in seconds from the trace start.
 *
 * Microsoft ITP traces of ElasticFlow (Gu et al., ASPLOS 2023; github.com/microsoft/
 * elasticflow-traces), in the Philly style (Jeon et al., USENIX ATC 2019): job_id,
 * submission_time, duration, num_gpu. */

enum flavour { ALIBABA, PHILLY };

enum acol { A_NAME, A_MEM, A_NGPU, A_MILLI, A_CREATE, A_DELETE, A_SCHED, A_NCOLS };
static const char *const alibaba_cols[A_NCOLS] = {"name",          "memory_mib",    "num_gpu",
                                                  "gpu_milli",     "creation_time", "deletion_time",
                                                  "scheduled_time"};

enum pcol { P_ID, P_SUBMIT, P_DURATION, P_NGPU, P_NCOLS };
static const char *const philly_cols[P_NCOLS] = {"job_id", "submission_time", "duration",
                                                 "num_gpu"};

#define MAX_COLS 64

struct gcsv {
	struct tr_lines l;
	enum flavour fl;
	double speed; /* flop/s of one whole GPU: work = run time x speed x GPUs */
	int cls;
	int ncols;        /* columns in the header */
	int col[A_NCOLS]; /* header position of each column we read */
	char *field[MAX_COLS + 1];
};

static const char *const *names_of(enum flavour fl, int *n)
{
	*n = fl == ALIBABA ? A_NCOLS : P_NCOLS;
	return fl == ALIBABA ? alibaba_cols : philly_cols;
}

/* Map the header's names onto col[]; returns the header's column count, or -1 when a
 * column we need is missing (*missing names it). */
static int map_header(enum flavour fl, char *line, int *col, const char **missing)
{
	char *f[MAX_COLS + 1];
	int nf = tr_split(line, ',', f, MAX_COLS);
	int n;
	const char *const *names = names_of(fl, &n);
	for (int c = 0; c < n; c++) {
		col[c] = -1;
		for (int i = 0; i < nf && i < MAX_COLS; i++)
			if (!strcasecmp(f[i], names[c]))
				col[c] = i;
		if (col[c] < 0) {
			*missing = names[c];
			return -1;
		}
	}
	return nf;
}

static int claims(enum flavour fl, const char *line)
{
	char buf[4096];
	int col[A_NCOLS];
	const char *missing;
	snprintf(buf, sizeof(buf), "%s", line);
	return map_header(fl, buf, col, &missing) > 0;
}

static int alibaba_claims(const char *line)
{
	return claims(ALIBABA, line);
}

static int philly_claims(const char *line)
{
	return claims(PHILLY, line);
}

static int num(struct gcsv *g, struct xpu_err *err, int c, const char *name, double *out)
{
	const char *v = g->field[g->col[c]];
	if (!*v)
		return tr_bad(&g->l, err, name, "a non-negative number", v, " (empty)");
	return tr_num_field(&g->l, err, name, v, 0, out);
}

static int gpus(struct gcsv *g, struct xpu_err *err, int c, double *out)
{
	if (num(g, err, c, "num_gpu", out) < 0)
		return -EINVAL;
	/* The largest machines of these clusters hold 8 GPUs and the largest ITP job 64;
	 * a million is a corrupt field. */
	if (*out != floor(*out) || *out > 1e6)
		return tr_bad(&g->l, err, "num_gpu", "a whole number of GPUs", g->field[g->col[c]],
		              *out > 1e6 ? " (too large)" : "");
	return 0;
}

static int alibaba_rec(struct gcsv *g, struct xpu_trace_rec *rec, struct xpu_err *err)
{
	double mem = 0, ngpu, milli, create, del, sched = -1;
	rec->id = g->field[g->col[A_NAME]];
	if (!*rec->id)
		return xpu_errf(err, g->l.path, g->l.lineno, "field 'name': empty pod name");
	if (*g->field[g->col[A_MEM]] && num(g, err, A_MEM, "memory_mib", &mem) < 0)
		return -EINVAL;
	if (gpus(g, err, A_NGPU, &ngpu) < 0 || num(g, err, A_MILLI, "gpu_milli", &milli) < 0 ||
	    num(g, err, A_CREATE, "creation_time", &create) < 0 ||
	    num(g, err, A_DELETE, "deletion_time", &del) < 0)
		return -EINVAL;
	/* A pending pod was never scheduled: its scheduled_time is empty and it did no
	 * work. */
	if (*g->field[g->col[A_SCHED]] && num(g, err, A_SCHED, "scheduled_time", &sched) < 0)
		return -EINVAL;
	if (milli > 1000)
		return tr_bad(&g->l, err, "gpu_milli", "thousandths of one GPU (0 to 1000)",
		              g->field[g->col[A_MILLI]], "");
	if (sched >= 0 && del < sched)
		return xpu_errf(err, g->l.path, g->l.lineno,
		                "field 'deletion_time': %.15g is earlier than scheduled_time %.15g",
		                del, sched);
	double run = sched >= 0 ? del - sched : 0;
	/* A pod holding a fraction of one GPU does that fraction of a GPU's work; a pod
	 * without GPUs is counted as one unit's worth. */
	double share = ngpu == 0 ? 1 : ngpu == 1 ? milli / 1000 : ngpu;
	rec->submit = create;
	rec->width = ngpu > 1 ? (int)ngpu : 1;
	rec->flops = run * g->speed * share;
	rec->mem = mem * 1048576.0;
	return 0;
}

static int philly_rec(struct gcsv *g, struct xpu_trace_rec *rec, struct xpu_err *err)
{
	double submit, dur, ngpu;
	rec->id = g->field[g->col[P_ID]];
	if (!*rec->id)
		return xpu_errf(err, g->l.path, g->l.lineno, "field 'job_id': empty job id");
	if (num(g, err, P_SUBMIT, "submission_time", &submit) < 0 ||
	    num(g, err, P_DURATION, "duration", &dur) < 0 || gpus(g, err, P_NGPU, &ngpu) < 0)
		return -EINVAL;
	rec->submit = submit;
	rec->width = ngpu > 1 ? (int)ngpu : 1;
	rec->flops = dur * g->speed * (ngpu > 1 ? ngpu : 1);
	return 0;
}

static int gcsv_next(struct xpu_trace_reader *r, struct xpu_trace_rec *rec, struct xpu_err *err)
{
	struct gcsv *g = r->priv;
	int rc;
	do {
		rc = tr_lines_next(&g->l, err);
		if (rc <= 0)
			return rc;
	} while (tr_blank(g->l.line));
	int nf = tr_split(g->l.line, ',', g->field, MAX_COLS);
	if (nf != g->ncols)
		return xpu_errf(err, r->path, g->l.lineno, "%s%d fields, but the header names %d",
		                nf > MAX_COLS ? "more than " : "", nf > MAX_COLS ? MAX_COLS : nf,
		                g->ncols);
	memset(rec, 0, sizeof(*rec));
	rec->line = g->l.lineno;
	rec->cls = g->cls;
	rec->deadline = INFINITY;
	rec->user = "";
	rec->estimate = NAN;
	rc = g->fl == ALIBABA ? alibaba_rec(g, rec, err) : philly_rec(g, rec, err);
	if (rc < 0)
		return rc;
	/* Ids go into native deps lists where ':' and ';' are separators. */
	if (strpbrk(rec->id, ":;"))
		return tr_bad(&g->l, err, g->fl == ALIBABA ? "name" : "job_id",
		              "an id without ':' or ';'", rec->id, "");
	return 1;
}

static void gcsv_close(struct xpu_trace_reader *r)
{
	struct gcsv *g = r->priv;
	if (!g)
		return;
	tr_lines_close(&g->l);
	free(g);
	r->priv = NULL;
}

static int gcsv_open(struct xpu_trace_reader *r, enum flavour fl, struct xpu_err *err)
{
	struct gcsv *g = calloc(1, sizeof(*g));
	if (!g)
		return -ENOMEM;
	r->priv = g;
	g->fl = fl;
	static const char *const classes[] = {"generic", "gemm", NULL};
	int rc = tr_param_num(r, "speed", 1e12, &g->speed, err);
	if (rc == 0 && !tr_param_given(r, "speed")) {
		r->ref_auto = g->speed; /* keep the logged run times on any platform */
		r->ref_kind = XPU_KIND_GPU;
	}
	if (rc == 0 && (rc = tr_param_choice(r, "class", classes, 0, err)) >= 0) {
		g->cls = rc ? XPU_CLASS_GEMM : XPU_CLASS_GENERIC;
		rc = tr_lines_open(&g->l, r->path, err);
	}
	if (rc == 0) {
		do
			rc = tr_lines_next(&g->l, err);
		while (rc > 0 && tr_blank(g->l.line));
		if (rc == 0)
			rc = xpu_errf(err, r->path, 0, "empty file, expected a header row");
	}
	if (rc > 0) {
		const char *missing = NULL;
		int n;
		const char *const *names = names_of(fl, &n);
		char list[256];
		size_t len = 0;
		for (int i = 0; i < n; i++)
			len += (size_t)snprintf(list + len, sizeof(list) - len, "%s%s",
			                        i ? "," : "", names[i]);
		rc = map_header(fl, g->l.line, g->col, &missing);
		if (rc > MAX_COLS)
			rc = xpu_errf(err, r->path, g->l.lineno, "more than %d columns", MAX_COLS);
		else if (rc < 0)
			rc = xpu_errf(err, r->path, g->l.lineno,
			              "header: no column '%s' (a %s header names %s)", missing,
			              r->ops->name, list);
		else
			g->ncols = rc, rc = 0;
	}
	if (rc < 0) {
		gcsv_close(r);
		return rc;
	}
	return 0;
}

static int alibaba_open(struct xpu_trace_reader *r, struct xpu_err *err)
{
	return gcsv_open(r, ALIBABA, err);
}

static int philly_open(struct xpu_trace_reader *r, struct xpu_err *err)
{
	return gcsv_open(r, PHILLY, err);
}

static const char *const csv_extensions[] = {".csv", NULL};
static const char *const gpu_params[] = {"speed", "class", NULL};

const struct xpu_trace_reader_ops xpu_trace_alibaba_gpu = {
    .name = "alibaba-gpu",
    .description = "Alibaba cluster-trace-gpu-v2023 pod list (CSV)",
    .extensions = csv_extensions,
    .open = alibaba_open,
    .next = gcsv_next,
    .close = gcsv_close,
    .params = gpu_params,
    .claims = alibaba_claims,
};

const struct xpu_trace_reader_ops xpu_trace_philly = {
    .name = "philly",
    .description = "Philly-style GPU job list: job_id, submission_time, duration, num_gpu "
                   "(Microsoft ITP traces)",
    .extensions = csv_extensions,
    .open = philly_open,
    .next = gcsv_next,
    .close = gcsv_close,
    .params = gpu_params,
    .claims = philly_claims,
};
