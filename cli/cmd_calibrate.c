/* cmd_calibrate.c — `xpuopt calibrate`: measure this machine through a live backend
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

#include "calibrate.h"
#include "cli.h"
#include "outfile.h"
#include "run.h"

/* The cpu backend's generic kernel: one repetition is a 48 x 48 x 48 multiply-accumulate
 * (hw/cpu_kernels.c). */
#define TILE_FLOPS (2.0 * 48 * 48 * 48)
#define REPS       20 /* repetitions per task of the second replay */

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
		int rc = xpu_cal_live_run(cb, ntasks, XPU_CLASS_GENERIC,
		                          pass ? REPS * TILE_FLOPS : TILE_FLOPS, &runs[pass][i / 2],
		                          &res, &err);
		if (rc)
			return xpu_cal_failed(rc, &err);
		if (!last)
			xpu_run_result_free(&res);
	}
	struct steadiness st = {0, NULL};
	for (int pass = 0; pass < 2; pass++) { /* the median of each: a disturbed run is out */
		qsort(runs[pass], ROUNDS, sizeof(double), xpu_cal_cmp_double);
		span[pass] = runs[pass][ROUNDS / 2];
		xpu_cal_steadiness_add(&st, runs[pass], "the generic kernel");
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
	/* Every other class through the live path (xpu_cal_measure_class): one latency per unit
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
		if ((rc = xpu_cal_measure_class(cb, k, at_open, total_cores, latency, &rate[k],
		                                &lat[k], nclass[k], &st))) {
			xpu_run_result_free(&res);
			return rc;
		}
	}
	double mem_bw, per_stream;
	long nstream;
	if ((rc = xpu_cal_measure_stream(cb, total_cores, lat[XPU_CLASS_LLM_DECODE],
	                                 rate[XPU_CLASS_LLM_DECODE], &mem_bw, &per_stream, &nstream,
	                                 &st))) {
		xpu_run_result_free(&res);
		return rc;
	}

	char host[256], date[32];
	struct xpu_cli_out w;
	if ((rc = xpu_cal_out_open(&w, out, host, sizeof(host), date, sizeof(date)))) {
		xpu_run_result_free(&res);
		return rc;
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
	xpu_cal_sizes_note(f, cb);
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
	 * memory by memory (xpu_cal_calibrate_devices) */
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
		int trc = xpu_cal_sizes_from(sized, &cb, &terr);
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

	return cpu ? calibrate_cpu(&cb, ntasks, threads, cores, out)
	           : xpu_cal_calibrate_devices(&cb, out);
}
