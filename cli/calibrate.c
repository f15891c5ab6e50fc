/* calibrate.c — the live replays of `xpuopt calibrate` and the measurements made of
 * them (calibrate.h). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "calibrate.h"
#include "cli.h"
#include "outfile.h"
#include "run.h"

int xpu_cal_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* Count one measurement, its replays sorted. */
void xpu_cal_steadiness_add(struct steadiness *st, const double *sorted, const char *what)
{
	double mid = sorted[ROUNDS / 2];
	double spread = mid > 0 ? (sorted[ROUNDS - 1] - sorted[0]) / mid : 0;
	if (spread > st->spread || !st->what) {
		st->spread = spread;
		st->what = what;
	}
}

/* A fifo over the units of one memory (calib.pool) only: each device, or the CPU
 * threads, is measured alone, with the others idle. calibrate runs one replay at a
 * time, so the memory is the file's own. */
static int pin_pool = -1;

static int pin_init(struct xpu_sched *s)
{
	s->priv = xpu_readyq_new();
	return s->priv ? 0 : -ENOMEM;
}

static void pin_fini(struct xpu_sched *s)
{
	xpu_readyq_free(s->priv);
}

static void pin_on_ready(struct xpu_sched *s, const struct xpu_task *t)
{
	if (t->unit < 0)
		xpu_readyq_push(s->priv, t, 0);
}

static const struct xpu_task *pin_pick(struct xpu_sched *s, const struct xpu_unit *u)
{
	return u->mem_pool == pin_pool ? xpu_readyq_take(s->priv, s->eng, u->index) : NULL;
}

static const struct xpu_sched_ops pin_ops = {
    .head = {.version = XPU_SCHED_VERSION,
             .name = "fifo",
             .description = "fifo on the units of one memory (xpuopt calibrate)"},
    .init = pin_init,
    .fini = pin_fini,
    .on_ready = pin_on_ready,
    .pick = pin_pick,
};

/* Replay ntasks independent tasks of flops and bytes each live (fifo): the makespan in
 * *span and the run's result in *res (its platform is the backend's). */
int xpu_cal_live_run_bytes(const struct calib *cb, long ntasks, int cls, double flops, double bytes,
                           double *span, struct xpu_run_result *res, struct xpu_err *err)
{
	const char *dir = getenv("TMPDIR");
	char trace[4096];
	snprintf(trace, sizeof(trace), "%s/xpuopt-calibrate-XXXXXX", dir && *dir ? dir : "/tmp");
	int fd = mkstemp(trace);
	if (fd < 0) {
		xpu_errf(err, NULL, 0, "cannot write a temporary trace: %s", strerror(errno));
		return -EIO;
	}
	FILE *t = fdopen(fd, "w");
	if (!t) {
		close(fd);
		unlink(trace);
		return -EIO;
	}
	fprintf(t, "id,class,flops,bytes\n");
	for (long i = 0; i < ntasks; i++)
		fprintf(t, "c%ld,%s,%.17g,%.17g\n", i, xpu_class_name(cls), flops, bytes);
	if (fclose(t)) {
		unlink(trace);
		return -EIO;
	}
	pin_pool = cb->pool;
	struct xpu_run_opts o = {.trace = trace,
	                         .sched = "fifo",
	                         .sched_ops = cb->pool >= 0 ? &pin_ops : NULL,
	                         .live = 1,
	                         .backend = cb->backend,
	                         .quiet = 1,
	                         .backend_params = cb->bp,
	                         .nbackend_params = cb->nbp,
	                         .keep_routes = cb->keep_routes};
	int rc = xpu_run(&o, res, err);
	unlink(trace);
	if (!rc)
		*span = xpu_summary_get(&res->summary, "makespan_s");
	return rc;
}

/* ... of flops each and no bytes. */
int xpu_cal_live_run(const struct calib *cb, long ntasks, int cls, double flops, double *span,
                     struct xpu_run_result *res, struct xpu_err *err)
{
	return xpu_cal_live_run_bytes(cb, ntasks, cls, flops, 0, span, res, err);
}

/* This machine's name and today's date (UTC), for the file's comments. */
int xpu_cal_out_open(struct xpu_cli_out *w, const char *out, char *host, size_t nh, char *date,
                     size_t nd)
{
	snprintf(host, nh, "this machine");
	gethostname(host, nh - 1);
	host[nh - 1] = 0;
	time_t now = time(NULL);
	strftime(date, nd, "%Y-%m-%d", gmtime(&now));
	int rc = xpu_cli_out_open(w, out);
	if (rc < 0)
		return rc == -EINVAL ? 2 : 1;
	fputs("<?xml version='1.0'?>\n"
	      "<!DOCTYPE platform SYSTEM \"https://simgrid.org/simgrid.dtd\">\n",
	      w->f);
	return 0;
}

/* Print a failed replay's error: its exit status, 2 for bad usage, 1 otherwise. */
int xpu_cal_failed(int rc, const struct xpu_err *err)
{
	fprintf(stderr, "xpuopt calibrate: %s\n", err->msg[0] ? err->msg : strerror(-rc));
	return rc == -EINVAL ? 2 : 1;
}

/* One replay whose result is not kept: 0 with *span, or the exit status (2 for bad
 * usage, 1 otherwise) with the error printed. */
int xpu_cal_replay(const struct calib *cb, long ntasks, int cls, double flops, double bytes,
                   double *span)
{
	struct xpu_err err = {{0}};
	struct xpu_run_result rk;
	int rc = xpu_cal_live_run_bytes(cb, ntasks, cls, flops, bytes, span, &rk, &err);
	if (rc)
		return xpu_cal_failed(rc, &err);
	xpu_run_result_free(&rk);
	return 0;
}

/* One class through the live path on cores cores: short tasks (about CLASS_SHORT_S at
 * at_open, the rate the backend measured for the class at open) and long ones (about
 * CLASS_TASK_S), replayed ROUNDS times each, alternated; a core's time per task is
 * the class's launch latency plus its flops over its rate (the line through the two
 * medians), so that both short and long tasks of the class are predicted. A latency
 * that comes out negative (the kernel faster per flop on the short tasks: a partial
 * FFT's smaller transforms stay in L1) is unit_lat, the rate then from the long
 * tasks less it. *rate, *lat and the task counts in n[2]; 0 or an exit status. */
int xpu_cal_measure_class(const struct calib *cb, int k, double at_open, int cores, double unit_lat,
                          double *rate, double *lat, long n[2], struct steadiness *st)
{
	if (cb->trace && !(cb->sizes[k][1] > 0) && k != XPU_CLASS_GENERIC) {
		/* --trace without tasks of the class: not replayed */
		*rate = at_open;
		*lat = unit_lat;
		n[0] = n[1] = 0;
		return 0;
	}
	double flops[2] = {CLASS_SHORT_S * at_open, CLASS_TASK_S * at_open};
	double span_k[2][ROUNDS], per[2];
	int rc;
	for (int z = 0; z < 2; z++)
		n[z] = (long)(CLASS_PASS_S / (z ? CLASS_TASK_S : CLASS_SHORT_S)) * cores;
	if (cb->sizes[k][1] > 0) /* the trace's sizes, about CLASS_PASS_S of each */
		for (int z = 0; z < 2; z++) {
			flops[z] = cb->sizes[k][z];
			double each = flops[z] / at_open + CLASS_SHORT_S / 4;
			n[z] = (long)fmin(fmax(CLASS_PASS_S / each, SIZED_MIN), SIZED_MAX) * cores;
		}
	for (int i = 0; i < 2 * ROUNDS; i++) {
		int z = i % 2;
		if ((rc = xpu_cal_replay(cb, n[z], k, flops[z], 0, &span_k[z][i / 2])))
			return rc;
	}
	for (int z = 0; z < 2; z++) {
		qsort(span_k[z], ROUNDS, sizeof(double), xpu_cal_cmp_double);
		per[z] = span_k[z][ROUNDS / 2] / ((double)n[z] / cores);
		xpu_cal_steadiness_add(st, span_k[z], xpu_class_name(k));
	}
	double r = per[1] > per[0] ? (flops[1] - flops[0]) / (per[1] - per[0]) : 0;
	double l = r > 0 ? per[0] - flops[0] / r : -1;
	if (!(l >= 0)) { /* no usable line */
		l = unit_lat;
		r = per[1] > l ? flops[1] / (per[1] - l) : 0;
	}
	*rate = r > 0 && isfinite(r) ? r : at_open;
	*lat = l;
	return 0;
}

/* Memory bandwidth: every one of cores cores streams llm-decode tasks over STREAM_B
 * bytes of weights at once (one matrix-vector product each, bound by the memory: the
 * cpu backend reads them from its shared buffer, hw/cpu_kernels.h); the bytes all
 * cores move per second is the shared memory's bandwidth, which the engine divides
 * among the tasks streaming at once. 0 (none written) when the backend ignores the
 * bytes (stream_mib=0, or a device kernel sized from the flops alone): a stream no
 * slower than the decode kernel's own problem. */
int xpu_cal_measure_stream(const struct calib *cb, int cores, double dec_lat, double dec_rate,
                           double *mem_bw, double *per_stream, long *nstream, struct steadiness *st)
{
	double bw_span[ROUNDS];
	int rc;
	*mem_bw = *per_stream = 0;
	*nstream = 0;
	if (cb->trace && !(cb->sizes[XPU_CLASS_LLM_DECODE][1] > 0) &&
	    !(cb->sizes[XPU_CLASS_LLM_PREFILL][1] > 0))
		return 0; /* --trace without LLM tasks, the only ones a backend streams */
	*nstream = (long)STREAM_TASKS * cores;
	for (int i = 0; i < ROUNDS; i++)
		if ((rc = xpu_cal_replay(cb, *nstream, XPU_CLASS_LLM_DECODE, 1.0, STREAM_B,
		                         &bw_span[i])))
			return rc;
	qsort(bw_span, ROUNDS, sizeof(double), xpu_cal_cmp_double);
	*per_stream = bw_span[ROUNDS / 2] / STREAM_TASKS - dec_lat;
	double unit_s = STREAM_B / 4.0 / dec_rate;
	if (*per_stream > 2 * unit_s) {
		*mem_bw = cores * STREAM_B / *per_stream;
		/* only then a measurement: replays of a few one-flop tasks are all start-up */
		xpu_cal_steadiness_add(st, bw_span, "the memory stream");
	}
	return 0;
}

/* --trace: per class, the 10th and 90th percentiles of the trace's task flops (at
 * least SIZED_SPAN apart, spread around their geometric mean when closer), so that the
 * line is fitted where the trace's tasks lie (a device's rate changes with the problem
 * size: caches, how many of its cores a small problem fills). A class the trace lacks,
 * or has only empty tasks of, keeps the sizes by time. 0, or -EINVAL with err. */
int xpu_cal_sizes_from(const char *trace, struct calib *cb, struct xpu_err *err)
{
	struct xpu_workload *w = NULL;
	int rc = xpu_workload_load(trace, NULL, NULL, &w, err);
	if (rc)
		return rc;
	if (w->ntasks == 0) {
		xpu_workload_free(w);
		return xpu_errf(err, trace, 0, "no tasks: there are no sizes to calibrate at");
	}
	double *v = malloc(sizeof(double) * ((size_t)w->ntasks + 1));
	if (!v) {
		xpu_workload_free(w);
		return -ENOMEM;
	}
	for (int k = 0; k < XPU_CLASS_COUNT; k++) {
		size_t n = 0;
		for (uint32_t i = 0; i < w->ntasks; i++)
			if (w->tasks[i].cls == k && w->tasks[i].flops > 0)
				v[n++] = w->tasks[i].flops / w->tasks[i].width;
		if (!n)
			continue;
		qsort(v, n, sizeof(double), xpu_cal_cmp_double);
		double lo = v[n / 10], hi = v[n - 1 - n / 10];
		if (hi < SIZED_SPAN * lo) {
			double mid = sqrt(lo * hi);
			lo = mid / sqrt(SIZED_SPAN);
			hi = mid * sqrt(SIZED_SPAN);
		}
		cb->sizes[k][0] = lo;
		cb->sizes[k][1] = hi;
	}
	free(v);
	xpu_workload_free(w);
	return 0;
}

/* The sizes --trace gave, as a comment in the file. */
void xpu_cal_sizes_note(FILE *f, const struct calib *cb)
{
	if (!cb->trace)
		return;
	fprintf(f,
	        "    <!-- Task sizes from the trace %s (--trace): per class, the 10th and 90th\n"
	        "         percentile flops of its tasks (at least %g times apart):",
	        cb->trace, SIZED_SPAN);
	for (int k = 0; k < XPU_CLASS_COUNT; k++)
		if (cb->sizes[k][1] > 0)
			fprintf(f, "\n         %s %.4g and %.4g", xpu_class_name(k),
			        cb->sizes[k][0], cb->sizes[k][1]);
	int all = 1;
	for (int k = 0; k < XPU_CLASS_COUNT; k++)
		all &= cb->sizes[k][1] > 0;
	fprintf(f, "%s -->\n",
	        all ? "."
	            : ";\n         the classes it lacks were not replayed: the rate the backend "
	              "measured\n         when it opened and the unit's launch latency (the "
	              "generic class, which\n         gives the unit's, by time), and no "
	              "memory stream without LLM tasks.");
}
