/* run.h — the driver's one replay: load, run the event loop on a backend, collect results. */
#ifndef XPU_ENGINE_H
#define XPU_ENGINE_H

#include "backend.h"
#include "results.h"
#include "trace.h"
#include "xpu.h"

#ifdef __cplusplus
extern "C" {
#endif

struct xpu_run_opts {
	const char *platform; /* platform file (sim); NULL with live = discover */
	const char *trace;
	const char *trace_format; /* NULL = by extension */
	const char *sched;        /* "name" or "name:key=value,key=value" or "./x.so" */
	const char *mem;
	const char *power;
	const char *offload;
	uint64_t seed;
	double tick;         /* seconds between the sched policy's ticks (on_tick);
	                      * <= 0: span / XPU_TICKS_PER_RUN */
	double gov_period;   /* seconds between governor calls; 0: the policy's own
	                      * period (xpu_power_ops.period) */
	double sample;       /* seconds between timeline samples of every unit; 0: change
	                      * points only */
	int live;            /* 1: the "cpu" backend when backend is NULL (--live) */
	const char *backend; /* "sim", "cpu", or "NAME:key=value,..."; NULL: sim, or cpu
	                      * with live */
	const char *output;  /* HDF5 path, NULL = write none */
	int quiet;
	const struct xpu_param *backend_params; /* e.g. live "threads" */
	/* A sched table given directly (tests, embedding programs): used instead of
	 * looking sched up by name; sched then only labels the result. */
	const struct xpu_sched_ops *sched_ops;
	/* Fault injection (driver/faults.h): "kind=npu", "unit=3", "every=10"; NULL none. */
	const char *faults;
	/* 1: a task whose launch fails moves on to the next unit in platform order that can
	 * run it, and a unit whose device went is taken out (engine.c, fall_back); the
	 * fallback backend turns it on. 0: failures go to the sched policy's on_failed. */
	int fallback;
	/* Simulated unit failures (driver/failures.h): "mtbf=12h,mttr=30min[,kind=gpu]",
	 * "profile=FILE[,unit=N]" or "none"; NULL: the platform's, if any. */
	const char *failures;
	int nbackend_params;
	/* 1: check the data's coherence after every change (at most one modified copy
	 * of a datum, and none beside it valid); a breach stops the run. For tests. */
	int check_coherence;
	/* Called at every task state change (tests, tools): from and to are enum
	 * xpu_task_state values; NULL for none. */
	void (*observe)(void *ctx, const struct xpu_task *t, int from, int to, double now);
	void *observe_ctx;
	/* Progress of a long run (xpuopt run prints it on stderr): called about twice a
	 * wall-clock second once the run has lasted one, and once at its end (final 1),
	 * with the tasks ended, their total and the run's clock. NULL for none. */
	void (*progress)(void *ctx, uint32_t ended, uint32_t total, double now, int final);
	void *progress_ctx;
	/* 1: before the backend closes, every route between units of different memories
	 * is asked of it, so that res->pf answers them after the run (xpuopt calibrate
	 * writes them). Quadratic in the units: for live platforms of a few devices. */
	int keep_routes;
};

struct xpu_run_result {
	struct xpu_platform pf;
	struct xpu_workload *w;
	struct xpu_unit_stats *us;
	struct xpu_timeline tl;
	struct xpu_summary summary;
	double link_energy_j;
	const char *energy_source;
	struct xpu_data_stats data; /* per datum and per pair of units */
	/* Tasks that ended failed while waiting for memory nothing would free, and whether
	 * the memory policy could evict (to suggest one that does). */
	uint32_t stuck_on_memory;
	int mem_evicts;
};

/* Run one replay. Returns 0 on success; -EINVAL with err for bad input (exit status
 * 2); another negative errno with err for a run failure (exit status 1). res may be
 * NULL; otherwise free it with xpu_run_result_free. */
int xpu_run(const struct xpu_run_opts *o, struct xpu_run_result *res, struct xpu_err *err);
void xpu_run_result_free(struct xpu_run_result *res);

#ifdef __cplusplus
}
#endif
#endif
