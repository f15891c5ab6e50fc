/* calibrate.h — what `xpuopt calibrate` shares between its cpu path (cmd_calibrate.c),
 * its path for other live backends (calibrate_devices.c) and its live replays and
 * measurements (calibrate.c). */
#ifndef XPU_CLI_CALIBRATE_H
#define XPU_CLI_CALIBRATE_H

#include <stdio.h>

#include "run.h"

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

/* How steady the machine was while calibrating: the largest spread, (slowest - fastest)
 * / median, of any measurement's ROUNDS replays, and which measurement that was (a
 * shared VM's neighbours change its speed for seconds). */
struct steadiness {
	double spread;
	const char *what;
};

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

int xpu_cal_cmp_double(const void *a, const void *b);

/* Count one measurement, its replays sorted. */
void xpu_cal_steadiness_add(struct steadiness *st, const double *sorted, const char *what);

/* Replay ntasks independent tasks of flops and bytes each live (fifo): the makespan in
 * *span and the run's result in *res (its platform is the backend's). */
int xpu_cal_live_run_bytes(const struct calib *cb, long ntasks, int cls, double flops, double bytes,
                           double *span, struct xpu_run_result *res, struct xpu_err *err);

/* ... of flops each and no bytes. */
int xpu_cal_live_run(const struct calib *cb, long ntasks, int cls, double flops, double *span,
                     struct xpu_run_result *res, struct xpu_err *err);

struct xpu_cli_out;
/* The platform file opened for writing (xpu_cli_out_open) with its XML prologue, and
 * this machine's name and today's date (UTC) for its comments: 0, or the exit status
 * (2 for an output that cannot be written here, 1 otherwise). */
int xpu_cal_out_open(struct xpu_cli_out *w, const char *out, char *host, size_t nh, char *date,
                     size_t nd);

/* Print a failed replay's error: its exit status, 2 for bad usage, 1 otherwise. */
int xpu_cal_failed(int rc, const struct xpu_err *err);

/* One replay whose result is not kept: 0 with *span, or the exit status (2 for bad
 * usage, 1 otherwise) with the error printed. */
int xpu_cal_replay(const struct calib *cb, long ntasks, int cls, double flops, double bytes,
                   double *span);

/* One class through the live path on cores cores: short tasks (about CLASS_SHORT_S at
 * at_open, the rate the backend measured for the class at open) and long ones (about
 * CLASS_TASK_S), replayed ROUNDS times each, alternated; a core's time per task is
 * the class's launch latency plus its flops over its rate (the line through the two
 * medians), so that both short and long tasks of the class are predicted. A latency
 * that comes out negative (the kernel faster per flop on the short tasks: a partial
 * FFT's smaller transforms stay in L1) is unit_lat, the rate then from the long
 * tasks less it. *rate, *lat and the task counts in n[2]; 0 or an exit status. */
int xpu_cal_measure_class(const struct calib *cb, int k, double at_open, int cores, double unit_lat,
                          double *rate, double *lat, long n[2], struct steadiness *st);

/* Memory bandwidth: every one of cores cores streams llm-decode tasks over STREAM_B
 * bytes of weights at once (one matrix-vector product each, bound by the memory: the
 * cpu backend reads them from its shared buffer, hw/cpu_kernels.h); the bytes all
 * cores move per second is the shared memory's bandwidth, which the engine divides
 * among the tasks streaming at once. 0 (none written) when the backend ignores the
 * bytes (stream_mib=0, or a device kernel sized from the flops alone): a stream no
 * slower than the decode kernel's own problem. */
int xpu_cal_measure_stream(const struct calib *cb, int cores, double dec_lat, double dec_rate,
                           double *mem_bw, double *per_stream, long *nstream,
                           struct steadiness *st);

/* --trace: per class, the 10th and 90th percentiles of the trace's task flops (at
 * least SIZED_SPAN apart, spread around their geometric mean when closer), so that the
 * line is fitted where the trace's tasks lie (a device's rate changes with the problem
 * size: caches, how many of its cores a small problem fills). A class the trace lacks,
 * or has only empty tasks of, keeps the sizes by time. 0, or -EINVAL with err. */
int xpu_cal_sizes_from(const char *trace, struct calib *cb, struct xpu_err *err);

/* The sizes --trace gave, as a comment in the file. */
void xpu_cal_sizes_note(FILE *f, const struct calib *cb);

/* Any other live backend (opencl, xrt, fallback): the units of each memory, a device
 * or the CPU threads, measured alone, every class through xpu_cal_measure_class (the generic
 * class's line gives the unit's speed and latency), the memory's bandwidth where the
 * backend streams bytes, and the copy paths between memories as the backend measured
 * them when it opened. */
int xpu_cal_calibrate_devices(struct calib *cb, const char *out);

#endif
