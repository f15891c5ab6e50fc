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

/* Replay ntasks independent tasks of flops and bytes each live (fifo): the makespan in
 * *span and the run's result in *res (its platform is the backend's). */
static int live_run_bytes(const struct xpu_param *bp, int nbp, long ntasks, int cls, double flops,
                          double bytes, double *span, struct xpu_run_result *res,
                          struct xpu_err *err)
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
	struct xpu_run_opts o = {.trace = trace,
	                         .sched = "fifo",
	                         .live = 1,
	                         .quiet = 1,
	                         .backend_params = bp,
	                         .nbackend_params = nbp};
	int rc = xpu_run(&o, res, err);
	unlink(trace);
	if (!rc)
		*span = xpu_summary_get(&res->summary, "makespan_s");
	return rc;
}

/* ... of flops each and no bytes. */
static int live_run(const struct xpu_param *bp, int nbp, long ntasks, int cls, double flops,
                    double *span, struct xpu_run_result *res, struct xpu_err *err)
{
	return live_run_bytes(bp, nbp, ntasks, cls, flops, 0, span, res, err);
}

/* One replay whose result is not kept: 0 with *span, or the exit status (2 for bad
 * usage, 1 otherwise) with the error printed. */
static int replay(const struct xpu_param *bp, int nbp, long ntasks, int cls, double flops,
                  double bytes, double *span)
{
	struct xpu_err err = {{0}};
	struct xpu_run_result rk;
	int rc = live_run_bytes(bp, nbp, ntasks, cls, flops, bytes, span, &rk, &err);
	if (rc) {
		fprintf(stderr, "xpuopt calibrate: %s\n", err.msg[0] ? err.msg : strerror(-rc));
		return rc == -EINVAL ? 2 : 1;
	}
	xpu_run_result_free(&rk);
	return 0;
}

static void usage(FILE *f)
{
	fputs("usage: xpuopt calibrate [--threads N] [--cores C] [--tasks K] [-o FILE]\n"
	      "\n"
	      "Measure this machine with the live cpu backend and write a SimGrid platform\n"
	      "file that simulates it: one host per unit of the backend (--threads workers,\n"
	      "--cores of them per unit, as `xpuopt run --live`), each at the speed the\n"
	      "backend's kernel reaches on this machine, with the launch latency of a task\n"
	      "through the engine and the backend: K tasks of one kernel repetition each,\n"
	      "then K of 20 each, are replayed live (three times each, alternated; the\n"
	      "medians count), and a core's time per task, launch + repetitions x one\n"
	      "repetition's time, gives both. Each other task class (gemm, conv, fft...:\n"
	      "each runs its own kernel) is then replayed live with short tasks (about\n"
	      "30 us) and long ones (about 0.5 ms), three times each, and the line through\n"
	      "the two gives its rate and launch latency, written as xpu.class.NAME and\n"
	      "xpu.launch.NAME. Last, every worker streams llm-decode weights from memory\n"
	      "at once, and the bytes moved per second become the memory's xpu.mem.bw.\n"
	      "Run it on an otherwise idle machine: the file records how far apart the\n"
	      "replays of one measurement came out, and over 10% a warning says the\n"
	      "machine was not steady.\n"
	      "The units share one memory (no copies), and the power is the backend's\n"
	      "(RAPL-apportioned or its model's). Replaying a trace on the file then\n"
	      "predicts `xpuopt run --live` with the same threads on this machine\n"
	      "(hw/README.md, \"Calibration\").\n"
	      "\n"
	      "  -j, --threads N   worker threads (default: the CPUs this process may use)\n"
	      "      --cores C     workers per unit (default 1)\n"
	      "  -k, --tasks K     tasks of the latency measurement (default 2000)\n"
	      "  -o, --output FILE the platform file (default calibrated.xml; '-' stdout)\n"
	      "  -h, --help        this help\n"
	      "\n"
	      "Exit status: 0, 1 when a measurement failed, 2 for bad usage.\n",
	      f);
}

static int bad(const char *what, const char *arg)
{
	return xpu_cli_bad_usage_quoted("calibrate", what, arg);
}

int xpu_cmd_calibrate(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"threads", required_argument, NULL, 'j'}, {"cores", required_argument, NULL, 'c'},
	    {"tasks", required_argument, NULL, 'k'},   {"output", required_argument, NULL, 'o'},
	    {"help", no_argument, NULL, 'h'},          {NULL, 0, NULL, 0},
	};
	const char *out = "calibrated.xml", *threads = NULL, *cores = NULL;
	long ntasks = 2000;
	int c;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":j:k:o:h", opts, NULL)) != -1) {
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
	/* The output path is tried before the half minute of measurements, so that one
	 * that cannot be written fails at once (a pipe or device is left unopened). */
	if (strcmp(out, "-") && !xpu_output_is_special(out)) {
		struct xpu_cli_out probe;
		int prc = xpu_cli_out_open(&probe, out);
		if (prc < 0)
			return prc == -EINVAL ? 2 : 1;
		xpu_cli_out_close(&probe, 1); /* removes the temporary, keeps any old file */
	}

	struct xpu_param bp[2];
	int nbp = 0;
	if (threads)
		bp[nbp++] = (struct xpu_param){"threads", threads};
	if (cores)
		bp[nbp++] = (struct xpu_param){"cores", cores};
	/* Two live replays of K tasks: one kernel repetition each, then REPS each. A core's
	 * time per task is L + r t1 for r repetitions: the two give t1 (so the speed is
	 * the kernel's through the whole live path, not only its rate at open) and L. */
	struct xpu_run_result res;
	double runs[2][ROUNDS], span[2];
	for (int i = 0; i < 2 * ROUNDS; i++) { /* alternated, so drifting load hits both */
		struct xpu_err err = {{0}};
		int pass = i % 2, last = i == 2 * ROUNDS - 1;
		int rc =
		    live_run(bp, nbp, ntasks, XPU_CLASS_GENERIC,
		             pass ? REPS * TILE_FLOPS : TILE_FLOPS, &runs[pass][i / 2], &res, &err);
		if (rc) {
			fprintf(stderr, "xpuopt calibrate: %s\n",
			        err.msg[0] ? err.msg : strerror(-rc));
			return rc == -EINVAL ? 2 : 1;
		}
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
	/* Every other class through the live path, as the generic kernel: short tasks
	 * (about CLASS_SHORT_S at the rate the backend measured for the class at open)
	 * and long ones (about CLASS_TASK_S), replayed ROUNDS times each, alternated; a
	 * core's time per task is the class's launch latency plus its flops over its rate
	 * (the line through the two medians), so that both short and long tasks of the
	 * class are predicted: one latency per unit cannot hold every class (the generic
	 * kernel's one-tile tasks pay for the engine's work on a shared core, where a
	 * BLAS class's back-to-back tasks hide it). A latency that comes out negative
	 * (the kernel faster per flop on the short tasks) is 0, the rate then from the
	 * long tasks alone. */
	double rate[XPU_CLASS_COUNT], lat[XPU_CLASS_COUNT];
	long nclass[2][XPU_CLASS_COUNT];
	rate[XPU_CLASS_GENERIC] = speed;
	lat[XPU_CLASS_GENERIC] = latency;
	for (int k = 0; k < XPU_CLASS_COUNT; k++) {
		if (k == XPU_CLASS_GENERIC)
			continue;
		double at_open =
		    res.pf.units[0].has_class_props ? res.pf.units[0].cls[k].peak : speed;
		double flops[2] = {CLASS_SHORT_S * at_open, CLASS_TASK_S * at_open};
		double span_k[2][ROUNDS], per[2];
		for (int z = 0; z < 2; z++)
			nclass[z][k] =
			    (long)(CLASS_PASS_S / (z ? CLASS_TASK_S : CLASS_SHORT_S)) * total_cores;
		for (int i = 0; i < 2 * ROUNDS; i++) {
			int z = i % 2;
			if ((rc = replay(bp, nbp, nclass[z][k], k, flops[z], 0,
			                 &span_k[z][i / 2]))) {
				xpu_run_result_free(&res);
				return rc;
			}
		}
		for (int z = 0; z < 2; z++) {
			qsort(span_k[z], ROUNDS, sizeof(double), cmp_double);
			per[z] = span_k[z][ROUNDS / 2] / ((double)nclass[z][k] / total_cores);
			steadiness_add(&st, span_k[z], xpu_class_name(k));
		}
		double r = per[1] > per[0] ? (flops[1] - flops[0]) / (per[1] - per[0]) : 0;
		double l = r > 0 ? per[0] - flops[0] / r : -1;
		if (!(l >= 0)) {
			/* no usable line (the short tasks ran faster per flop: a partial FFT's
			 * smaller transforms stay in L1): the unit's latency, and the long
			 * tasks' rate less it */
			l = latency;
			r = per[1] > l ? flops[1] / (per[1] - l) : 0;
		}
		rate[k] = r > 0 && isfinite(r) ? r : at_open;
		lat[k] = l;
	}
	/* Memory bandwidth: every worker streams llm-decode tasks over STREAM_B bytes of
	 * weights at once (one matrix-vector product each, bound by the memory: the cpu
	 * backend reads them from its shared buffer, hw/cpu_kernels.h); the bytes all
	 * cores move per second is the shared memory's bandwidth, which the engine divides
	 * among the tasks streaming at once. 0 (none written) when the backend has no
	 * stream buffer (stream_mib=0): its tasks' bytes are then ignored. */
	double mem_bw = 0, bw_span[ROUNDS];
	long nstream = (long)STREAM_TASKS * total_cores;
	for (int i = 0; i < ROUNDS; i++)
		if ((rc = replay(bp, nbp, nstream, XPU_CLASS_LLM_DECODE, 1.0, STREAM_B,
		                 &bw_span[i]))) {
			xpu_run_result_free(&res);
			return rc;
		}
	qsort(bw_span, ROUNDS, sizeof(double), cmp_double);
	steadiness_add(&st, bw_span, "the memory stream");
	double per_stream = bw_span[ROUNDS / 2] / STREAM_TASKS - lat[XPU_CLASS_LLM_DECODE];
	/* a stream no slower than the decode kernel's own problem: the bytes were ignored */
	double unit_s = STREAM_B / 4.0 / rate[XPU_CLASS_LLM_DECODE];
	if (per_stream > 2 * unit_s)
		mem_bw = total_cores * STREAM_B / per_stream;

	char host[256] = "this machine", date[32];
	gethostname(host, sizeof(host) - 1);
	time_t now = time(NULL);
	strftime(date, sizeof(date), "%Y-%m-%d", gmtime(&now));

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
	    "     cpu backend (xpuopt run --live%s%s%s%s).\n"
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
	    host, date, pf->nunits, pf->units[0].cores, threads ? " --threads " : "",
	    threads ? threads : "", cores ? " --backend cpu:cores=" : "", cores ? cores : "", speed,
	    latency * 1e6, ntasks, total_cores, span[0], REPS, span[1], t1 * 1e6,
	    nclass[0][XPU_CLASS_GEMM], CLASS_SHORT_S * 1e6, nclass[1][XPU_CLASS_GEMM],
	    CLASS_TASK_S * 1e3, ROUNDS, bw_note, 100 * st.spread, st.what,
	    st.spread > UNSTEADY
	        ? "; the machine was not steady: calibrate again on an idle machine"
	        : "");
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
