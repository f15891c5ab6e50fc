/* results.h — what a run produced, and its HDF5 file (schema in experiments/RESULTS.md). */
#ifndef XPU_RESULTS_H
#define XPU_RESULTS_H

#include "trace.h"
#include "xpu.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Bytes copied from one unit's host to another's (data moving to its readers). */
struct xpu_link_stat {
	int32_t src, dst;
	double bytes;
	uint64_t count; /* copy operations */
};

struct xpu_link_stats {
	size_t n;
	struct xpu_link_stat *v;
};

/* Per datum: bytes copied and copy operations (arrays of xpu_workload.ndata). */
struct xpu_data_stats {
	double *bytes;
	uint32_t *copies;
	struct xpu_link_stats links;
};

/* A serving run's own records (xpuopt run --serve): /requests and /kv, and its
 * /run attributes model, deploy and router. */
struct xpu_serve_view {
	const char *model, *deploy, *router;
	const char *replicas; /* the replicas built: FIRST-UNIT:tp=N,pp=N;... */
	uint32_t nreq;
	const struct xpu_request *req;
	size_t nkv;
	const double *kv_t;
	const int32_t *kv_rep;
	const double *kv_used;
};

/* /run attributes. */
struct xpu_run_info {
	const char *version;
	const char *platform; /* platform file, or the live backend's label */
	const char *trace;
	const char *sched; /* policy names with parameters, as given */
	const char *mem;
	const char *power;
	const char *offload;
	uint64_t seed;
	const char *mode;          /* "sim" or "live" */
	const char *host;          /* machine that produced the file */
	const char *energy_source; /* "simgrid", "rapl" or "modeled" */
	const char *controls;      /* the backend's power controls (xpu_backend_ops.controls) */
	uint64_t pstate_requests;  /* P-state changes the power policy asked for */
	uint64_t pstate_refused;   /* of those, the ones the backend could not apply */
	uint64_t limit_requests;   /* power limits a power policy asked of the backend */
	uint64_t limit_refused;    /* of those, the ones the backend could not apply */
	/* Per-datum and per-link figures, written as /data and /transfers beside the
	 * workload's data; NULL writes them with zero copies. */
	const struct xpu_data_stats *data;
	/* A serving run's requests and KV occupancy; NULL for a task replay. */
	const struct xpu_serve_view *serve;
};

/* Per-unit totals. */
struct xpu_unit_stats {
	double busy_s; /* core-seconds of task execution */
	double energy_j;
	double *residency_s; /* seconds spent in each P-state, npstates entries */
	double bytes_in;     /* bytes transferred to the unit */
	double bytes_out;
	double peak_mem;  /* bytes, peak of its memory pool's use by task footprints */
	double peak_data; /* bytes, peak of its memory pool's use by data copies */
	uint64_t tasks;
	/* Simulated failures: how many, seconds down, core-seconds of work lost. */
	uint64_t failures;
	double down_s;
	double lost_s;
	/* Live fallback (--fallback): launches that failed here, and tasks that then
	 * moved on to the next unit; 1 when the unit was taken out (its device went). */
	uint64_t launch_failures, moved_on;
	int taken_out;
	double peak_frag; /* peak fragmentation of its memory pool */
	/* Thermal node (NaN and 0 without one): peak temperature, time above the
	 * warning and above the limit. */
	double max_temp_c, over_warning_s, over_limit_s;
	/* Its memory pool's copies evicted, and those written back home first (units
	 * sharing a pool show the pool's counts). */
	uint64_t evictions, writebacks;
	/* The peak, over the run, of the summed power of the units on its memory (its
	 * SoC or card: the power domain of xpu.soc.budget), in watts. */
	double domain_peak_w;
	/* Idle states: seconds spent in them, and wake-ups (each paid an exit latency). */
	double idle_state_s;
	uint64_t wakes;
	/* Energy in idle states (their power over their time) and spent waking, joules:
	 * parts of energy_j. */
	double idle_state_j, wake_j;
	/* Where energy_j comes from: "simgrid", "rapl" (measured) or "modeled"; NULL reads
	 * as the run's /run energy_source. */
	const char *energy_source;
};

/* Change points: one row each time a unit's state changes (a task starts or ends on
 * it, its P-state or its memory pool's use changes), in time order. A row holds the
 * unit's state from t until that unit's next row. Columns of n rows. */
struct xpu_timeline {
	size_t n, cap;
	int nunits;
	double *t;
	int32_t *unit;
	double *power; /* W, mean over [t, the unit's next row); NaN on its last row */
	int32_t *pstate;
	double *util; /* busy cores / cores */
	double *mem;  /* bytes in use in the unit's memory pool */
	double *frag; /* its fragmentation: 1 - largest free block / free bytes (0 when
	               * the memory policy places nothing at addresses) */
	double *temp; /* degrees C at t (its thermal node), NaN without one; NULL until
	               * the run's end computes it */
};

/* Append a row. Returns 0 or -ENOMEM (the timeline is then unchanged). */
int xpu_timeline_add(struct xpu_timeline *tl, double t, int unit, double power, int pstate,
                     double util, double mem, double frag);
void xpu_timeline_free(struct xpu_timeline *tl);

/* One summary metric. */
struct xpu_metric {
	const char *key;
	double value;
};

#define XPU_MAX_METRICS 48

struct xpu_summary {
	int n;
	struct xpu_metric m[XPU_MAX_METRICS];
};

/* Compute the summary metrics from the finished tasks and the units' figures. */
void xpu_summary_compute(const struct xpu_workload *w, const struct xpu_platform *pf,
                         const struct xpu_unit_stats *us, double link_energy_j, double peak_power_w,
                         struct xpu_summary *s);
/* Value of a metric, NAN if absent. */
double xpu_summary_get(const struct xpu_summary *s, const char *key);

/* Call before any other HDF5 use: keeps HDF5 from closing, at exit, a file whose
 * write failed (which crashes HDF5 1.10 on a full disk). */
void xpu_results_no_atexit(void);

/* Write the whole result to path, through path.tmp-XXXXXX renamed when complete; on
 * failure nothing is left behind. Returns 0 or a negative errno with err. */
int xpu_results_write(const char *path, const struct xpu_run_info *ri,
                      const struct xpu_platform *pf, const struct xpu_workload *w,
                      const struct xpu_unit_stats *us, const struct xpu_timeline *tl,
                      const struct xpu_summary *s, struct xpu_err *err);

/* Read /summary back from a result file (keys are strdup'ed into s->m[].key; free
 * them with xpu_summary_clear). Returns 0 or -EINVAL with err. */
int xpu_results_read_summary(const char *path, struct xpu_summary *s, struct xpu_err *err);
void xpu_summary_clear(struct xpu_summary *s);

#ifdef __cplusplus
}
#endif
#endif
