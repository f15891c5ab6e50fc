/* swf.c — reader for the Standard Workload Format of the Parallel Workloads Archive, plain or gzip.
 */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lineio.h"

/* The 18 fields of a job line, as defined by Chapin, Cirne, Feitelson et al., "Benchmarks
 * and standards for the evaluation of parallel job schedulers" (JSSPP 1999) and the
 * archive's page https://www.cs.huji.ac.il/labs/parallel/workload/swf.html. -1 means
 * unknown in every field. */
enum {
	F_JOB,
	F_SUBMIT,
	F_WAIT,
	F_RUN,
	F_ALLOC,
	F_CPU,
	F_USED_MEM,
	F_REQ_PROCS,
	F_REQ_TIME,
	F_REQ_MEM,
	F_STATUS,
	F_USER,
	F_GROUP,
	F_APP,
	F_QUEUE,
	F_PARTITION,
	F_PRECEDING,
	F_THINK,
	NFIELDS
};

static const char *const field_names[NFIELDS] = {
    "job",
    "submit",
    "wait",
    "run_time",
    "allocated_procs",
    "avg_cpu_time",
    "used_memory",
    "requested_procs",
    "requested_time",
    "requested_memory",
    "status",
    "user",
    "group",
    "application",
    "queue",
    "partition",
    "preceding_job",
    "think_time",
};

/* Header lines "; Key: value" kept for `xpuopt trace`; the archive's headers have
 * about 30 keys. */
#define MAX_HEADER 48

enum keep { KEEP, DROP };

struct swf {
	struct tr_lines l;
	double speed;       /* flop/s of one processor: work = run time x speed x width */
	int drop_failed;    /* status 0 */
	int drop_cancelled; /* status 5 */
	int think_deps;     /* preceding job -> dependency */
	int nheader;
	char *hkey[MAX_HEADER], *hval[MAX_HEADER];
	int pending; /* l.line holds a job line read by open */
	char dep_buf[32];
	const char *dep_id[1];
	double dep_bytes[1];
};

static void keep_header(struct swf *s, const char *line)
{
	/* "; Key: value" with a one-word key; other comment lines are prose. */
	const char *p = line + 1;
	while (*p == ' ' || *p == '\t')
		p++;
	const char *k = p;
	while (*p && *p != ':' && *p != ' ' && *p != '\t')
		p++;
	if (*p != ':' || p == k || s->nheader == MAX_HEADER)
		return;
	const char *v = p + 1;
	while (*v == ' ' || *v == '\t')
		v++;
	size_t vl = strlen(v);
	while (vl && (v[vl - 1] == ' ' || v[vl - 1] == '\t'))
		vl--;
	char *key = strndup(k, (size_t)(p - k));
	char *val = strndup(v, vl);
	if (!key || !val) {
		free(key);
		free(val);
		return;
	}
	s->hkey[s->nheader] = key;
	s->hval[s->nheader++] = val;
}

/* The next job line: skips blank lines (HPC2N's subset ends with one) and ';'
 * comments, which are header lines when they come before the first job. */
static int next_job_line(struct swf *s, int in_header, struct xpu_err *err)
{
	for (;;) {
		int rc = tr_lines_next(&s->l, err);
		if (rc <= 0)
			return rc;
		const char *p = s->l.line;
		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p || tr_blank(p))
			continue;
		if (*p == ';') {
			if (in_header)
				keep_header(s, p);
			continue;
		}
		return 1;
	}
}

static int swf_next(struct xpu_trace_reader *r, struct xpu_trace_rec *rec, struct xpu_err *err)
{
	struct swf *s = r->priv;
	for (;;) {
		int rc = 1;
		if (s->pending)
			s->pending = 0;
		else
			rc = next_job_line(s, 0, err);
		if (rc <= 0)
			return rc;

		char *f[NFIELDS];
		int nf = tr_split(s->l.line, ' ', f, NFIELDS);
		if (nf != NFIELDS)
			return xpu_errf(err, r->path, s->l.lineno,
			                "expected %d whitespace-separated fields, got %s%d",
			                NFIELDS, nf > NFIELDS ? "more than " : "",
			                nf > NFIELDS ? NFIELDS : nf);
		double v[NFIELDS];
		for (int i = 0; i < NFIELDS; i++)
			if (tr_num_field(&s->l, err, field_names[i], f[i], -1, &v[i]) < 0)
				return -EINVAL;
		/* Job ids, processor counts, status and user are integers in SWF. */
		static const int ints[] = {F_JOB,    F_ALLOC, F_REQ_PROCS,
		                           F_STATUS, F_USER,  F_PRECEDING};
		for (size_t i = 0; i < sizeof(ints) / sizeof(ints[0]); i++) {
			double x = v[ints[i]];
			if (x != floor(x))
				return tr_bad(&s->l, err, field_names[ints[i]], "an integer",
				              f[ints[i]], "");
			if (x > INT_MAX)
				return tr_bad(&s->l, err, field_names[ints[i]], "an integer",
				              f[ints[i]], " (too large)");
		}
		if (v[F_JOB] < 1)
			return tr_bad(&s->l, err, "job", "a positive job number", f[F_JOB], "");
		if (v[F_SUBMIT] < 0)
			return tr_bad(&s->l, err, "submit", "a non-negative number of seconds",
			              f[F_SUBMIT], "");

		int status = (int)v[F_STATUS];
		if ((status == 0 && s->drop_failed) || (status == 5 && s->drop_cancelled))
			continue;

		memset(rec, 0, sizeof(*rec));
		rec->line = s->l.lineno;
		rec->id = f[F_JOB];
		rec->submit = v[F_SUBMIT];
		rec->cls = XPU_CLASS_GENERIC;
		rec->deadline = INFINITY;
		/* Width: the processors the job held; logs that lack them give only the
		 * request. */
		double width = v[F_ALLOC] > 0       ? v[F_ALLOC]
		               : v[F_REQ_PROCS] > 0 ? v[F_REQ_PROCS]
		                                    : 1;
		rec->width = (int)width;
		/* flops is the whole job's work, shared over its width (engine/xpu.h), so a job
		 * that ran T seconds on P processors of speed S did T x S x P. */
		double run = v[F_RUN] > 0 ? v[F_RUN] : 0;
		rec->flops = run * s->speed * width;
		rec->estimate = v[F_REQ_TIME] >= 0 ? v[F_REQ_TIME] : NAN;
		/* Used memory is per processor, in KB (the archive's KB are 1024 bytes). */
		if (v[F_USED_MEM] > 0)
			rec->mem = v[F_USED_MEM] * 1024.0 * width;
		if (v[F_USER] >= 0) {
			rec->user = f[F_USER]; /* the log's user number */
		} else {
			rec->user = "";
		}
		if (s->think_deps && v[F_PRECEDING] > 0) {
			snprintf(s->dep_buf, sizeof(s->dep_buf), "%d", (int)v[F_PRECEDING]);
			s->dep_id[0] = s->dep_buf;
			s->dep_bytes[0] = 0;
			rec->ndeps = 1;
			rec->dep_ids = s->dep_id;
			rec->dep_bytes = s->dep_bytes;
		}
		return 1;
	}
}

static void swf_close(struct xpu_trace_reader *r)
{
	struct swf *s = r->priv;
	if (!s)
		return;
	tr_lines_close(&s->l);
	for (int i = 0; i < s->nheader; i++) {
		free(s->hkey[i]);
		free(s->hval[i]);
	}
	free(s);
	r->priv = NULL;
}

static const char *const keep_drop[] = {"keep", "drop", NULL};
static const char *const deps_choices[] = {"none", "preceding", NULL};

static int swf_open(struct xpu_trace_reader *r, struct xpu_err *err)
{
	struct swf *s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	r->priv = s;
	int rc = tr_param_num(r, "speed", 1e9, &s->speed, err);
	if (rc == 0 && !tr_param_given(r, "speed")) {
		r->ref_auto = s->speed; /* keep the logged run times on any platform */
		r->ref_kind = XPU_KIND_CPU;
	}
	if (rc == 0 && (rc = tr_param_choice(r, "failed", keep_drop, KEEP, err)) >= 0)
		s->drop_failed = rc, rc = 0;
	if (rc == 0 && (rc = tr_param_choice(r, "cancelled", keep_drop, KEEP, err)) >= 0)
		s->drop_cancelled = rc, rc = 0;
	if (rc == 0 && (rc = tr_param_choice(r, "deps", deps_choices, 0, err)) >= 0)
		s->think_deps = rc, rc = 0;
	if (rc == 0)
		rc = tr_lines_open(&s->l, r->path, err);
	/* Read the header comments up to the first job, which is kept for next. */
	if (rc == 0 && (rc = next_job_line(s, 1, err)) >= 0) {
		s->pending = rc;
		/* A log without even a header is more likely a failed download. */
		rc = s->l.lineno == 0 ? xpu_errf(err, r->path, 0,
		                                 "empty file, expected SWF "
		                                 "header comments or job lines")
		                      : 0;
	}
	if (rc < 0) {
		swf_close(r);
		return rc;
	}
	return 0;
}

static int swf_header(struct xpu_trace_reader *r, int i, const char **key, const char **value)
{
	struct swf *s = r->priv;
	if (i < 0 || i >= s->nheader)
		return 0;
	*key = s->hkey[i];
	*value = s->hval[i];
	return 1;
}

static const char *const swf_extensions[] = {".swf", ".swf.gz", NULL};
static const char *const swf_params[] = {"speed", "failed", "cancelled", "deps", NULL};

const struct xpu_trace_reader_ops xpu_trace_swf = {
    .name = "swf",
    .description = "Standard Workload Format (Parallel Workloads Archive), plain or gzip",
    .extensions = swf_extensions,
    .open = swf_open,
    .next = swf_next,
    .close = swf_close,
    .params = swf_params,
    .header = swf_header,
};
