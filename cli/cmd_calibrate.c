/* cmd_calibrate.c — `xpuopt calibrate`: measure this machine through the live cpu backend
 * and write a platform file that simulates it, so that a simulated replay can be checked
 * against a live one (DESIGN.md section 1, use 4). */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "outfile.h"
#include "run.h"

/* The cpu backend's generic kernel: one repetition is a 48 x 48 x 48 multiply-accumulate
 * (hw/cpu_kernels.c). */
#define TILE_FLOPS    (2.0 * 48 * 48 * 48)
#define REPS          20      /* repetitions per task of the second replay */
#define ROUNDS        3       /* replays of each kind; their medians are used */
#define CLASS_TASK_S  0.0005  /* a class's long tasks: about this long each */
#define CLASS_SHORT_S 0.00003 /* ... and its short ones */
#define CLASS_PASS_S  0.15    /* a replay: about this long, per core */
#define STREAM_B      64e6    /* memory bandwidth: llm-decode tasks over this many bytes */
#define STREAM_TASKS  16      /* ... this many per core and replay */
#define UNSTEADY      0.10    /* replays further apart than this: a warning */
#define MAX_LINK_BW   1e15    /* bytes/s: the most a written link carries */
#define SIZED_MIN     20      /* tasks per core of a replay sized from --trace: at least */
#define SIZED_MAX     20000   /* ... and at most */
#define SIZED_SPAN    3.0     /* the long tasks at least this many times the short */

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* How steady the machine was while calibrating: the largest spread, (slowest - fastest)
 * / median, of any measurement's ROUNDS replays, and which measurement that was (a
 * shared VM's neighbours change its speed for seconds). */
struct steadiness {
	double spread;
	const char *what;
};

/* Count one measurement, its replays sorted. */
static void steadiness_add(struct steadiness *st, const double *sorted, const char *what)
{
	double mid = sorted[ROUNDS / 2];
	double spread = mid > 0 ? (sorted[ROUNDS - 1] - sorted[0]) / mid : 0;
	if (spread > st->spread || !st->what) {
		st->spread = spread;
		st->what = what;
	}
}

/* Where calibration replays run: the backend (NULL: cpu), its parameters, and the
 * memory whose units run the tasks (-1: every unit). */
struct calib {
	const char *backend;
	const struct xpu_param *bp;
	int nbp;
	int pool;
	int keep_routes; /* the probe run: keep every route for the file */
	/* --trace: each class's short and long task sizes (flop), from the trace's own
	 * tasks of the class; 0: by time, at the rate the backend measured at open */
	double sizes[XPU_CLASS_COUNT][2];
	const char *trace; /* where they came from */
};

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
static int live_run_bytes(const struct calib *cb, long ntasks, int cls, double flops, double bytes,
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
static int live_run(const struct calib *cb, long ntasks, int cls, double flops, double *span,
                    struct xpu_run_result *res, struct xpu_err *err)
{
	return live_run_bytes(cb, ntasks, cls, flops, 0, span, res, err);
}

/* This machine's name and today's date (UTC), for the file's comments. */
static void stamp(char *host, size_t nh, char *date, size_t nd)
{
	snprintf(host, nh, "this machine");
	gethostname(host, nh - 1);
	host[nh - 1] = 0;
	time_t now = time(NULL);
	strftime(date, nd, "%Y-%m-%d", gmtime(&now));
}

/* Print a failed replay's error: its exit status, 2 for bad usage, 1 otherwise. */
static int failed(int rc, const struct xpu_err *err)
{
	fprintf(stderr, "xpuopt calibrate: %s\n", err->msg[0] ? err->msg : strerror(-rc));
	return rc == -EINVAL ? 2 : 1;
}

/* One replay whose result is not kept: 0 with *span, or the exit status (2 for bad
 * usage, 1 otherwise) with the error printed. */
static int replay(const struct calib *cb, long ntasks, int cls, double flops, double bytes,
                  double *span)
{
	struct xpu_err err = {{0}};
	struct xpu_run_result rk;
	int rc = live_run_bytes(cb, ntasks, cls, flops, bytes, span, &rk, &err);
	if (rc)
		return failed(rc, &err);
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
static int measure_class(const struct calib *cb, int k, double at_open, int cores, double unit_lat,
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
		if ((rc = replay(cb, n[z], k, flops[z], 0, &span_k[z][i / 2])))
			return rc;
	}
	for (int z = 0; z < 2; z++) {
		qsort(span_k[z], ROUNDS, sizeof(double), cmp_double);
		per[z] = span_k[z][ROUNDS / 2] / ((double)n[z] / cores);
		steadiness_add(st, span_k[z], xpu_class_name(k));
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
static int measure_stream(const struct calib *cb, int cores, double dec_lat, double dec_rate,
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
		if ((rc = replay(cb, *nstream, XPU_CLASS_LLM_DECODE, 1.0, STREAM_B, &bw_span[i])))
			return rc;
	qsort(bw_span, ROUNDS, sizeof(double), cmp_double);
	*per_stream = bw_span[ROUNDS / 2] / STREAM_TASKS - dec_lat;
	double unit_s = STREAM_B / 4.0 / dec_rate;
	if (*per_stream > 2 * unit_s) {
		*mem_bw = cores * STREAM_B / *per_stream;
		/* only then a measurement: replays of a few one-flop tasks are all start-up */
		steadiness_add(st, bw_span, "the memory stream");
	}
	return 0;
}

/* --trace: per class, the 10th and 90th percentiles of the trace's task flops (at
 * least SIZED_SPAN apart, spread around their geometric mean when closer), so that the
 * line is fitted where the trace's tasks lie (a device's rate changes with the problem
 * size: caches, how many of its cores a small problem fills). A class the trace lacks,
 * or has only empty tasks of, keeps the sizes by time. 0, or -EINVAL with err. */
static int sizes_from(const char *trace, struct calib *cb, struct xpu_err *err)
{
	struct xpu_workload *w = NULL;
	int rc = xpu_workload_load(trace, NULL, NULL, &w, err);
	if (rc)
		return rc;
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
		qsort(v, n, sizeof(double), cmp_double);
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
static void sizes_note(FILE *f, const struct calib *cb)
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

static void usage(FILE *f)
{
	fputs("usage: xpuopt calibrate [--threads N] [--cores C] [--tasks K] [-o FILE]\n"
	      "       xpuopt calibrate --backend NAME[:KEY=VALUE,...] [-o FILE]\n"
	      "       (either form also takes --trace TRACE)\n"
	      "\n"
	      "Measure this machine through a live backend and write a SimGrid platform file\n"
	      "that simulates it, every number marked measured with the date and machine.\n"
	      "\n"
	      "The cpu backend (the default): one host per unit (--threads workers, --cores\n"
	      "of them per unit, as `xpuopt run --live`), each at the speed the backend's\n"
	      "kernel reaches on this machine, with the launch latency of a task through\n"
	      "the engine and the backend: K tasks of one kernel repetition each, then K of\n"
	      "20 each, are replayed live (three times each, alternated; the medians\n"
	      "count), and a core's time per task, launch + repetitions x one repetition's\n"
	      "time, gives both. Each other task class (gemm, conv, fft...: each runs its\n"
	      "own kernel) is then replayed live with short tasks (about 30 us) and long\n"
	      "ones (about 0.5 ms), three times each, and the line through the two gives\n"
	      "its rate and launch latency, written as xpu.class.NAME and xpu.launch.NAME.\n"
	      "Last, every worker streams llm-decode weights from memory at once, and the\n"
	      "bytes moved per second become the memory's xpu.mem.bw. The units share one\n"
	      "memory (no copies).\n"
	      "\n"
	      "--backend opencl (or xrt, or a fallback chain): one host per unit the backend\n"
	      "finds, of its kind and memory. The units of each memory (a device, or a\n"
	      "chain's CPU threads) are measured alone, the others idle: every class,\n"
	      "generic included, through the line of short and long tasks (the generic\n"
	      "class gives the host's speed and xpu.launch), and the memory stream where\n"
	      "the backend streams a task's bytes. Every pair of memories with a copy path\n"
	      "gets a link of the latency and bandwidth the backend measured when it\n"
	      "opened, and every pair of their units a route through it.\n"
	      "\n"
	      "--trace TRACE sizes each class's short and long tasks as TRACE's tasks of the\n"
	      "class (their 10th and 90th percentile flops, at least 3x apart), so that the\n"
	      "line is fitted where the trace's tasks lie: a device's rate changes with the\n"
	      "problem size (caches, how many of its cores a small problem fills). Classes\n"
	      "TRACE lacks are then not replayed (the rate the backend measured at open and\n"
	      "the unit's latency), nor the memory stream without LLM tasks. `xpuopt\n"
	      "fidelity` calibrates with its trace so.\n"
	      "\n"
	      "Run it on an otherwise idle machine: the file records how far apart the\n"
	      "replays of one measurement came out, and over 10% a warning says the machine\n"
	      "was not steady. Power is the backend's (RAPL-apportioned or its model's).\n"
	      "Replaying a trace on the file then predicts `xpuopt run` with the same\n"
	      "backend on this machine (hw/README.md, \"Calibration\").\n"
	      "\n"
	      "  -b, --backend NAME  the live backend and its parameters (default cpu; see\n"
	      "                      `xpuopt run --help`)\n"
	      "  -t, --trace TRACE   size each class as TRACE's tasks of it\n"
	      "  -j, --threads N     cpu: worker threads (default: the CPUs this process may\n"
	      "                      use)\n"
	      "      --cores C       cpu: workers per unit (default 1)\n"
	      "  -k, --tasks K       cpu: tasks of the latency measurement (default 2000)\n"
	      "  -o, --output FILE   the platform file (default calibrated.xml; '-' stdout)\n"
	      "  -h, --help          this help\n"
	      "\n"
	      "Exit status: 0, 1 when a measurement failed, 2 for bad usage or input.\n",
	      f);
}

static int bad(const char *what, const char *arg)
{
	return xpu_cli_bad_usage_quoted("calibrate", what, arg);
}

/* The cpu backend: the generic kernel's tile sets the speed and the unit's latency
 * (two replays of K tasks), then every class and the memory; every unit at once. */
static int calibrate_cpu(const struct calib *cb, long ntasks, const char *threads,
                         const char *cores, const char *out)
{
	/* Two live replays of K tasks: one kernel repetition each, then REPS each. A core's
	 * time per task is L + r t1 for r repetitions: the two give t1 (so the speed is
	 * the kernel's through the whole live path, not only its rate at open) and L. */
	struct xpu_run_result res;
	double runs[2][ROUNDS], span[2];
	for (int i = 0; i < 2 * ROUNDS; i++) { /* alternated, so drifting load hits both */
		struct xpu_err err = {{0}};
		int pass = i % 2, last = i == 2 * ROUNDS - 1;
		int rc =
		    live_run(cb, ntasks, XPU_CLASS_GENERIC, pass ? REPS * TILE_FLOPS : TILE_FLOPS,
		             &runs[pass][i / 2], &res, &err);
		if (rc)
			return failed(rc, &err);
		if (!last)
			xpu_run_result_free(&res);
	}
	struct steadiness st = {0, NULL};
	for (int pass = 0; pass < 2; pass++) { /* the median of each: a disturbed run is out */
		qsort(runs[pass], ROUNDS, sizeof(double), cmp_double);
		span[pass] = runs[pass][ROUNDS / 2];
		steadiness_add(&st, runs[pass], "the generic kernel");
	}
	const struct xpu_platform *pf = &res.pf;
	int total_cores = 0, rc;
	for (int u = 0; u < pf->nunits; u++)
		total_cores += pf->units[u].cores;
	double per_core = (double)ntasks / total_cores; /* tasks each core ran back to back */
	double t1 = (span[1] - span[0]) / (per_core * (REPS - 1));
	if (!(t1 > 0)) {
		fprintf(stderr,
		        "xpuopt calibrate: the %d-repetition tasks did not take longer than the "
		        "one-repetition ones (%.6g s against %.6g s): is the machine busy?\n",
		        REPS, span[1], span[0]);
		xpu_run_result_free(&res);
		return 1;
	}
	double speed = TILE_FLOPS / t1, per_task = span[0] / per_core;
	double latency = per_task - t1;
	if (latency < 0)
		latency = 0;
	/* Every other class through the live path (measure_class): one latency per unit
	 * cannot hold every class (the generic kernel's one-tile tasks pay for the
	 * engine's work on a shared core, where a BLAS class's back-to-back tasks hide
	 * it). */
	double rate[XPU_CLASS_COUNT], lat[XPU_CLASS_COUNT];
	long nclass[XPU_CLASS_COUNT][2];
	rate[XPU_CLASS_GENERIC] = speed;
	lat[XPU_CLASS_GENERIC] = latency;
	for (int k = 0; k < XPU_CLASS_COUNT; k++) {
		if (k == XPU_CLASS_GENERIC)
			continue;
		double at_open =
		    res.pf.units[0].has_class_props ? res.pf.units[0].cls[k].peak : speed;
		if ((rc = measure_class(cb, k, at_open, total_cores, latency, &rate[k], &lat[k],
		                        nclass[k], &st))) {
			xpu_run_result_free(&res);
			return rc;
		}
	}
	double mem_bw, per_stream;
	long nstream;
	if ((rc =
	         measure_stream(cb, total_cores, lat[XPU_CLASS_LLM_DECODE],
	                        rate[XPU_CLASS_LLM_DECODE], &mem_bw, &per_stream, &nstream, &st))) {
		xpu_run_result_free(&res);
		return rc;
	}

	char host[256], date[32];
	stamp(host, sizeof(host), date, sizeof(date));

	struct xpu_cli_out w;
	if ((rc = xpu_cli_out_open(&w, out)) < 0) {
		xpu_run_result_free(&res);
		return rc == -EINVAL ? 2 : 1;
	}
	FILE *f = w.f;
	char bw_note[512];
	if (mem_bw > 0)
		snprintf(
		    bw_note, sizeof(bw_note),
		    "%.4g GB/s: every worker streaming llm-decode tasks over\n"
		    "       %.0f MB of weights at once (%ld tasks, median of %d replays, %.4g ms\n"
		    "       per task); the engine shares it among the tasks streaming at once.",
		    mem_bw / 1e9, STREAM_B / 1e6, nstream, ROUNDS, per_stream * 1e3);
	else
		snprintf(bw_note, sizeof(bw_note),
		         "not written: the backend streamed no weights (stream_mib=0).");
	fprintf(
	    f,
	    "<?xml version='1.0'?>\n"
	    "<!DOCTYPE platform SYSTEM \"https://simgrid.org/simgrid.dtd\">\n"
	    "<!-- Written by xpuopt calibrate on %s, %s: %d unit(s) of %d worker(s) of the live\n"
	    "     cpu backend (xpuopt run --live%s%s%s%s%s%s).\n"
	    "     speed: the backend's generic kernel (48 x 48 double multiply-accumulate\n"
	    "       tiles): %.6g flop/s per worker. xpu.launch: %.4g us. Both from two live\n"
	    "       replays of %ld tasks on %d core(s): one kernel repetition each, %.6g s,\n"
	    "       and %d each, %.6g s; a core's time per task is launch + repetitions x\n"
	    "       one repetition's time (%.4g us).\n"
	    "     xpu.class.* and xpu.launch.*: each class's kernel (hw/README.md), measured\n"
	    "       through the live path: %ld tasks of about %g us each and %ld of about\n"
	    "       %g ms, the medians of %d replays of each; a core's time per task is the\n"
	    "       class's launch latency + its flops over its rate (the line through both).\n"
	    "     xpu.mem.bw: %s\n"
	    "     Steadiness: the replays of one measurement came out at most %.1f%% apart\n"
	    "       (%s)%s.\n"
	    "     Power: the backend's figures (RAPL-apportioned where readable, else its\n"
	    "       model). All units share the host memory: no copies. -->\n"
	    "<platform version=\"4.1\">\n  <zone id=\"calibrated\" routing=\"Full\">\n",
	    host, date, pf->nunits, pf->units[0].cores, cb->backend ? " --backend " : "",
	    cb->backend ? cb->backend : "", threads ? " --threads " : "", threads ? threads : "",
	    cores ? " --backend cpu:cores=" : "", cores ? cores : "", speed, latency * 1e6, ntasks,
	    total_cores, span[0], REPS, span[1], t1 * 1e6, nclass[XPU_CLASS_GEMM][0],
	    CLASS_SHORT_S * 1e6, nclass[XPU_CLASS_GEMM][1], CLASS_TASK_S * 1e3, ROUNDS, bw_note,
	    100 * st.spread, st.what,
	    st.spread > UNSTEADY
	        ? "; the machine was not steady: calibrate again on an idle machine"
	        : "");
	sizes_note(f, cb);
	for (int u = 0; u < pf->nunits; u++) {
		const struct xpu_unit *un = &pf->units[u];
		const struct xpu_pstate *ps = &un->pstates[0];
		fprintf(f,
		        "    <host id=\"%s\" speed=\"%.9gf\" core=\"%d\">\n"
		        "      <prop id=\"xpu.kind\" value=\"cpu\"/>\n"
		        "      <prop id=\"xpu.mem\" value=\"%.0f\"/>\n"
		        "      <prop id=\"xpu.mem.shared\" value=\"host\"/>\n"
		        "      <prop id=\"xpu.launch\" value=\"%.9gs\"/>\n"
		        "      <prop id=\"wattage_per_state\" value=\"%.6g:%.6g:%.6g\"/>\n",
		        un->name, speed, un->cores, pf->pools[un->mem_pool].capacity, latency,
		        ps->idle_w, ps->epsilon_w, ps->full_w);
		if (mem_bw > 0)
			fprintf(f, "      <prop id=\"xpu.mem.bw\" value=\"%.9gBps\"/>\n", mem_bw);
		for (int k = 0; k < XPU_CLASS_COUNT; k++)
			fprintf(f, "      <prop id=\"xpu.class.%s\" value=\"%.9gf@1\"/>\n",
			        xpu_class_name(k), rate[k]);
		for (int k = 0; k < XPU_CLASS_COUNT; k++)
			if (k != XPU_CLASS_GENERIC)
				fprintf(f, "      <prop id=\"xpu.launch.%s\" value=\"%.9gs\"/>\n",
				        xpu_class_name(k), lat[k]);
		fprintf(f, "    </host>\n");
	}
	fprintf(f, "  </zone>\n</platform>\n");
	rc = xpu_cli_out_close(&w, ferror(f) ? 1 : 0);
	if (!rc && strcmp(out, "-"))
		fprintf(stderr,
		        "xpuopt calibrate: wrote %s: %d unit(s), %.4g Gflop/s per worker, launch "
		        "%.4g us\n",
		        out, pf->nunits, speed / 1e9, latency * 1e6);
	if (!rc && st.spread > UNSTEADY)
		fprintf(stderr,
		        "xpuopt calibrate: warning: the machine was not steady: the replays of %s "
		        "came out %.1f%% apart (over %.0f%%); other work or a virtual machine's "
		        "neighbours changed its speed, and predictions from this file will be off "
		        "by as much. Calibrate again on an idle machine.\n",
		        st.what, 100 * st.spread, 100 * UNSTEADY);
	xpu_run_result_free(&res);
	return rc;
}

/* What was measured of the units of one memory. */
struct pool_cal {
	int cores, unit0, nunits;
	int supported[XPU_CLASS_COUNT];
	double rate[XPU_CLASS_COUNT], lat[XPU_CLASS_COUNT];
	long n[2]; /* the generic class's short and long task counts */
	double mem_bw, per_stream;
	long nstream;
	double speed; /* the host's: the generic class's rate where it has one */
};

/* Any other live backend (opencl, xrt, fallback): the units of each memory, a device
 * or the CPU threads, measured alone, every class through measure_class (the generic
 * class's line gives the unit's speed and latency), the memory's bandwidth where the
 * backend streams bytes, and the copy paths between memories as the backend measured
 * them when it opened. */
static int calibrate_devices(struct calib *cb, const char *out)
{
	struct xpu_run_result res;
	struct xpu_err err = {{0}};
	double span;
	/* the probe: one small task; the platform the backend found, with its routes */
	cb->keep_routes = 1;
	int rc = live_run(cb, 1, XPU_CLASS_GENERIC, 1.0, &span, &res, &err);
	cb->keep_routes = 0;
	if (rc)
		return failed(rc, &err);
	const struct xpu_platform *pf = &res.pf;
	struct pool_cal *pc = calloc((size_t)pf->npools, sizeof(*pc));
	if (!pc) {
		xpu_run_result_free(&res);
		return 1;
	}
	for (int p = 0; p < pf->npools; p++)
		pc[p].unit0 = -1;
	for (int u = 0; u < pf->nunits; u++) {
		struct pool_cal *c = &pc[pf->units[u].mem_pool];
		if (c->unit0 < 0)
			c->unit0 = u;
		c->cores += pf->units[u].cores;
		c->nunits++;
	}
	struct steadiness st = {0, NULL};
	for (int p = 0; p < pf->npools && !rc; p++) {
		struct pool_cal *c = &pc[p];
		if (c->unit0 < 0)
			continue;
		const struct xpu_unit *un = &pf->units[c->unit0];
		cb->pool = p;
		fprintf(stderr, "xpuopt calibrate: measuring %s (%s)\n", pf->pools[p].name,
		        xpu_kind_name(un->kind));
		/* generic first: its latency stands in for a class without a usable line */
		for (int i = 0; i < XPU_CLASS_COUNT && !rc; i++) {
			int k = i == 0 ? XPU_CLASS_GENERIC : i == XPU_CLASS_GENERIC ? 0 : i;
			double at_open = un->pstates[0].speed;
			long n[2];
			if (un->has_class_props) {
				if (!un->cls[k].supported)
					continue;
				if (un->cls[k].peak > 0)
					at_open = un->cls[k].peak;
			}
			if (!(at_open > 0) || !isfinite(at_open))
				at_open = 1e9;
			c->supported[k] = 1;
			rc = measure_class(cb, k, at_open, c->cores,
			                   k == XPU_CLASS_GENERIC ? 0 : c->lat[XPU_CLASS_GENERIC],
			                   &c->rate[k], &c->lat[k], n, &st);
			if (k == XPU_CLASS_GENERIC)
				memcpy(c->n, n, sizeof(n));
		}
		/* a unit without the generic class (an NPU of a few kernels): its host's
		 * speed is its fastest class's, with no latency of its own */
		c->speed = c->rate[XPU_CLASS_GENERIC];
		for (int k = 0; k < XPU_CLASS_COUNT && !c->supported[XPU_CLASS_GENERIC]; k++)
			if (c->supported[k] && c->rate[k] > c->speed)
				c->speed = c->rate[k];
		if (!(c->speed > 0))
			c->speed = un->pstates[0].speed > 0 ? un->pstates[0].speed : 1e9;
		if (!rc && c->supported[XPU_CLASS_LLM_DECODE])
			rc = measure_stream(cb, c->cores, c->lat[XPU_CLASS_LLM_DECODE],
			                    c->rate[XPU_CLASS_LLM_DECODE], &c->mem_bw,
			                    &c->per_stream, &c->nstream, &st);
	}
	cb->pool = -1;
	if (rc) {
		free(pc);
		xpu_run_result_free(&res);
		return rc;
	}

	char host[256], date[32];
	stamp(host, sizeof(host), date, sizeof(date));
	struct xpu_cli_out w;
	if ((rc = xpu_cli_out_open(&w, out)) < 0) {
		free(pc);
		xpu_run_result_free(&res);
		return rc == -EINVAL ? 2 : 1;
	}
	FILE *f = w.f;
	fprintf(f,
	        "<?xml version='1.0'?>\n"
	        "<!DOCTYPE platform SYSTEM \"https://simgrid.org/simgrid.dtd\">\n"
	        "<!-- Written by xpuopt calibrate on %s, %s: %d unit(s) of the live backend\n"
	        "     %s (xpuopt run --backend %s), measured through the live path.\n"
	        "     The units of each memory (a device, or the CPU threads) were measured\n"
	        "     alone, the others idle. Each class: %ld tasks of about %g us each per\n"
	        "     core and %ld of about %g ms, sized at the rate the backend measured at\n"
	        "     open, the medians of %d replays of each; a task's time is the class's\n"
	        "     launch latency (xpu.launch.CLASS) + its flops over its rate\n"
	        "     (xpu.class.CLASS), the line through both. The generic class gives the\n"
	        "     host's speed and xpu.launch.\n"
	        "     xpu.mem.bw: llm-decode tasks over %.0f MB of weights on every core at\n"
	        "       once, where the backend streams a task's bytes (none written where\n"
	        "       its kernels are sized from the flops alone).\n"
	        "     Links: the copy paths between memories as the backend measured them\n"
	        "       when it opened (hw/README.md).\n"
	        "     Steadiness: the replays of one measurement came out at most %.1f%%\n"
	        "       apart (%s)%s.\n"
	        "     Power: the backend's figures (measured where it reads counters, else\n"
	        "       its model). -->\n"
	        "<platform version=\"4.1\">\n  <zone id=\"calibrated\" routing=\"Full\">\n",
	        host, date, pf->nunits, cb->backend, cb->backend,
	        (long)(CLASS_PASS_S / CLASS_SHORT_S), CLASS_SHORT_S * 1e6,
	        (long)(CLASS_PASS_S / CLASS_TASK_S), CLASS_TASK_S * 1e3, ROUNDS, STREAM_B / 1e6,
	        100 * st.spread, st.what ? st.what : "none",
	        st.spread > UNSTEADY
	            ? "; the machine was not steady: calibrate again on an idle machine"
	            : "");
	sizes_note(f, cb);
	for (int u = 0; u < pf->nunits; u++) {
		const struct xpu_unit *un = &pf->units[u];
		const struct xpu_pstate *ps = &un->pstates[0];
		const struct pool_cal *c = &pc[un->mem_pool];
		const char *mem = pf->pools[un->mem_pool].name;
		int shared = c->nunits > 1 || strcmp(mem, un->name);
		fprintf(f,
		        "    <!-- %s: %.4g Gflop/s, launch %.4g us; measured %s -->\n"
		        "    <host id=\"%s\" speed=\"%.9gf\" core=\"%d\">\n"
		        "      <prop id=\"xpu.kind\" value=\"%s\"/>\n"
		        "      <prop id=\"xpu.mem\" value=\"%.0f\"/>\n",
		        un->name, c->speed / 1e9, c->lat[XPU_CLASS_GENERIC] * 1e6, date, un->name,
		        c->speed, un->cores, xpu_kind_name(un->kind),
		        pf->pools[un->mem_pool].capacity);
		if (shared)
			fprintf(f, "      <prop id=\"xpu.mem.shared\" value=\"%s\"/>\n", mem);
		fprintf(f,
		        "      <prop id=\"xpu.launch\" value=\"%.9gs\"/>\n"
		        "      <prop id=\"wattage_per_state\" value=\"%.6g:%.6g:%.6g\"/>\n",
		        c->lat[XPU_CLASS_GENERIC], ps->idle_w, ps->epsilon_w, ps->full_w);
		if (c->mem_bw > 0)
			fprintf(f, "      <prop id=\"xpu.mem.bw\" value=\"%.9gBps\"/>\n",
			        c->mem_bw);
		for (int k = 0; k < XPU_CLASS_COUNT; k++)
			if (c->supported[k])
				fprintf(f, "      <prop id=\"xpu.class.%s\" value=\"%.9gf@1\"/>\n",
				        xpu_class_name(k), c->rate[k]);
			else
				fprintf(f,
				        "      <prop id=\"xpu.class.%s\" value=\"unsupported\"/>\n",
				        xpu_class_name(k));
		for (int k = 0; k < XPU_CLASS_COUNT; k++)
			if (k != XPU_CLASS_GENERIC && c->supported[k])
				fprintf(f, "      <prop id=\"xpu.launch.%s\" value=\"%.9gs\"/>\n",
				        xpu_class_name(k), c->lat[k]);
		fprintf(f, "    </host>\n");
	}
	/* one link per ordered pair of memories with a copy path, then (SimGrid wants
	 * every link before the first route) the route of every pair of their units
	 * through it */
	for (int pass = 0; pass < 2; pass++)
		for (int p = 0; p < pf->npools; p++)
			for (int q = 0; q < pf->npools; q++) {
				double lat, bw;
				if (p == q || pc[p].unit0 < 0 || pc[q].unit0 < 0 ||
				    !xpu_platform_route(pf, pc[p].unit0, pc[q].unit0, &lat, &bw))
					continue;
				const char *pn = pf->pools[p].name, *qn = pf->pools[q].name;
				if (pass == 0) {
					/* a path the backend reports as free (between members of a
					 * chain: the data are this process's memory) gets a
					 * bandwidth SimGrid can hold */
					if (bw > MAX_LINK_BW) {
						bw = MAX_LINK_BW;
						fprintf(
						    f,
						    "    <!-- copies %s to %s complete at once "
						    "live "
						    "(between backends\n         of a chain: one "
						    "process's memory); written as 1 PB/s -->\n",
						    pn, qn);
					} else
						fprintf(f,
						        "    <!-- copies %s to %s: latency %.4g "
						        "us, %.4g "
						        "GB/s; measured %s -->\n",
						        pn, qn, lat * 1e6, bw / 1e9, date);
					fprintf(
					    f,
					    "    <link id=\"copy-%s-to-%s\" bandwidth=\"%.9gBps\" "
					    "latency=\"%.9gs\"/>\n",
					    pn, qn, bw, lat);
					continue;
				}
				for (int u = 0; u < pf->nunits; u++)
					for (int v = 0; v < pf->nunits; v++)
						if (pf->units[u].mem_pool == p &&
						    pf->units[v].mem_pool == q)
							fprintf(f,
							        "    <route src=\"%s\" dst=\"%s\" "
							        "symmetrical=\"NO\"><link_ctn "
							        "id=\"copy-%s-to-%s\"/></route>\n",
							        pf->units[u].name,
							        pf->units[v].name, pn, qn);
			}
	fprintf(f, "  </zone>\n</platform>\n");
	rc = xpu_cli_out_close(&w, ferror(f) ? 1 : 0);
	if (!rc && strcmp(out, "-"))
		fprintf(stderr, "xpuopt calibrate: wrote %s: %d unit(s)\n", out, pf->nunits);
	if (!rc && st.spread > UNSTEADY)
		fprintf(stderr,
		        "xpuopt calibrate: warning: the machine was not steady: the replays of %s "
		        "came out %.1f%% apart (over %.0f%%); predictions from this file will be "
		        "off by as much. Calibrate again on an idle machine.\n",
		        st.what, 100 * st.spread, 100 * UNSTEADY);
	free(pc);
	xpu_run_result_free(&res);
	return rc;
}

int xpu_cmd_calibrate(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"threads", required_argument, NULL, 'j'}, {"cores", required_argument, NULL, 'c'},
	    {"tasks", required_argument, NULL, 'k'},   {"output", required_argument, NULL, 'o'},
	    {"backend", required_argument, NULL, 'b'}, {"trace", required_argument, NULL, 't'},
	    {"help", no_argument, NULL, 'h'},          {NULL, 0, NULL, 0},
	};
	const char *out = "calibrated.xml", *threads = NULL, *cores = NULL, *backend = NULL,
	           *sized = NULL;
	long ntasks = 2000;
	int tasks_given = 0;
	int c;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":j:k:o:t:b:h", opts, NULL)) != -1) {
		char *end;
		long v;
		switch (c) {
		case 'j':
		case 'c':
			v = strtol(optarg, &end, 10);
			if (end == optarg || *end || v < 1 || v > 4096)
				return bad(c == 'j'
				               ? "--threads: expected a whole number from 1 to 4096"
				               : "--cores: expected a whole number from 1 to 4096",
				           optarg);
			*(c == 'j' ? &threads : &cores) = optarg;
			break;
		case 'k':
			ntasks = strtol(optarg, &end, 10);
			if (end == optarg || *end || ntasks < 100 || ntasks > 10000000)
				return bad("--tasks: expected a whole number from 100 to 10000000",
				           optarg);
			tasks_given = 1;
			break;
		case 'b':
			backend = optarg;
			break;
		case 't':
			sized = optarg;
			break;
		case 'o':
			out = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case ':':
			return xpu_cli_bad_usage("calibrate", "option '%s' needs a value",
			                         argv[optind - 1]);
		default:
			return xpu_cli_bad_usage("calibrate", "unknown option '%s'",
			                         argv[optind - 1]);
		}
	}
	if (optind < argc)
		return bad("unexpected argument", argv[optind]);
	/* cpu (the default) keeps its own method; any other live backend is measured
	 * memory by memory (calibrate_devices) */
	int cpu;
	struct xpu_err berr = {{0}};
	if (xpu_cli_live_backend(
	        backend, threads || cores || tasks_given ? "--threads, --cores and --tasks" : NULL,
	        &cpu, &berr)) {
		fprintf(stderr, "xpuopt calibrate: %s\n", berr.msg);
		return 2;
	}
	struct xpu_param bp[2];
	int nbp = 0;
	if (threads)
		bp[nbp++] = (struct xpu_param){"threads", threads};
	if (cores)
		bp[nbp++] = (struct xpu_param){"cores", cores};
	struct calib cb = {backend, bp, nbp, -1, 0, {{0}}, sized};
	if (sized) {
		struct xpu_err terr = {{0}};
		int trc = sizes_from(sized, &cb, &terr);
		if (trc) {
			fprintf(stderr, "xpuopt calibrate: %s\n",
			        terr.msg[0] ? terr.msg : strerror(-trc));
			return trc == -EINVAL ? 2 : 1;
		}
	}
	/* The output path is tried before the half minute of measurements, so that one
	 * that cannot be written fails at once (a pipe or device is left unopened). */
	if (strcmp(out, "-") && !xpu_output_is_special(out)) {
		struct xpu_cli_out probe;
		const char *inputs[] = {sized};
		int prc = xpu_cli_out_open_inputs(&probe, out, inputs, sized ? 1 : 0);
		if (prc < 0)
			return prc == -EINVAL ? 2 : 1;
		xpu_cli_out_close(&probe, 1); /* removes the temporary, keeps any old file */
	}

	return cpu ? calibrate_cpu(&cb, ntasks, threads, cores, out) : calibrate_devices(&cb, out);
}
