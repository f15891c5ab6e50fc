/* backend.h — the backend interface: the one seam between the engine and SimGrid or
 * real hardware. Backends live in sim/ and hw/, one per file; nothing else includes a
 * SimGrid, OpenCL or XRT header. */
#ifndef XPU_BACKEND_H
#define XPU_BACKEND_H

#include "xpu.h"

#ifdef __cplusplus
extern "C" {
#endif

enum xpu_event_type {
	XPU_EV_DONE = 1, /* a launch finished */
	XPU_EV_COPY = 2  /* a copy of a datum finished */
};

/* xpu_event.flags */
#define XPU_EV_TIMED 1u /* time and start were measured on the worker that ran it */

struct xpu_event {
	int type;        /* enum xpu_event_type */
	uint64_t cookie; /* as given to launch or copy */
	int status;      /* 0, or a negative errno when the work failed */
	double time;     /* backend time of completion */
	uint32_t flags;  /* XPU_EV_TIMED, or 0 */
	double start;    /* with XPU_EV_TIMED: backend time the work began, which is later
	                  * than the launch when the backend queued it behind others */
};

/* One task's work on one unit. A launch carries the work, not a time: the backend
 * computes the duration (SimGrid from the unit's speed at its P-state, class rate and
 * memory bandwidth) or measures it (live backends). */
struct xpu_launch {
	int unit;
	uint64_t cookie;
	int cls;        /* enum xpu_class */
	double flops;   /* the whole task's work, shared evenly over its width; 0 when
	                 * the trace gave an explicit duration instead */
	double bytes;   /* bytes the task moves to and from memory while running */
	uint32_t width; /* cores of the unit it occupies at once (0 is taken as 1) */
	double seconds; /* explicit duration from the trace, used when flops is 0 */
	double delay;   /* fixed seconds added to the work: the unit's launch latency
	                 * and an FPGA reconfiguration (modeled in simulation only) */
};

/* One copy of a datum from one memory to another: between the hosts of src_unit and
 * dst_unit (the units whose memories hold and receive it). */
struct xpu_copy {
	uint64_t cookie;
	uint32_t datum; /* index into the workload's data */
	double bytes;
	int src_unit, dst_unit;
	int src_pool, dst_pool;
};

struct xpu_backend;

struct xpu_backend_ops {
	struct xpu_ops_head head; /* version XPU_BACKEND_VERSION, name for --backend */
	/* Open the backend and describe its units in *pf (see platform.h for the
	 * builder). path is the platform file, or NULL for a backend that discovers its
	 * hardware. Returns 0, -ENODEV when the hardware is absent, -EINVAL with err set
	 * on a bad platform. */
	int (*open)(struct xpu_backend *be, const char *path, struct xpu_platform *pf,
	            struct xpu_err *err);
	/* Run body(arg) in the backend's execution context (a SimGrid actor, or the
	 * calling thread) and return when it returns. Every other operation below is
	 * called from inside body. Returns 0 or a negative errno. */
	int (*run)(struct xpu_backend *be, void (*body)(void *), void *arg);
	/* Current time in seconds since run started: simulated or monotonic. */
	double (*now)(struct xpu_backend *be);
	/* Start work on a unit; completion arrives as an XPU_EV_DONE event. Never blocks. */
	int (*launch)(struct xpu_backend *be, const struct xpu_launch *l);
	/* Start copying a datum between two memories; completion arrives as an
	 * XPU_EV_COPY event. Memories shared by both units need no copy (the engine asks
	 * for none). Never blocks. */
	int (*copy)(struct xpu_backend *be, const struct xpu_copy *c);
	/* Block until at least one event is available or the time reaches until
	 * (INFINITY: no limit). Stores up to max events and returns their count (0 on
	 * timeout), or a negative errno. Events of one instant come in a stable order. */
	int (*wait)(struct xpu_backend *be, double until, struct xpu_event *ev, int max);
	/* Switch a unit to a P-state; applies to work started afterwards at least. */
	int (*set_pstate)(struct xpu_backend *be, int unit, int pstate);
	/* Energy a unit has consumed since run started, in joules. *modeled is set to 1
	 * when the figure comes from a model rather than a measurement. */
	int (*read_energy)(struct xpu_backend *be, int unit, double *joules, int *modeled);
	/* Energy of the interconnect (links) since run started; 0 when not modeled. */
	int (*read_link_energy)(struct xpu_backend *be, double *joules);
	void (*close)(struct xpu_backend *be);
	/* A simulated unit failure: stop every launch running or waiting on unit at once.
	 * No event is ever reported for them; the engine re-executes their tasks. Copies
	 * to and from the unit go on (its memory survives the failure). NULL in a
	 * backend that cannot stop work in progress (live hardware): the engine then
	 * refuses unit failures. Returns the number of launches stopped, or -errno. */
	int (*cancel_unit)(struct xpu_backend *be, int unit);
	/* Version 2. The power and thermal controls it applies, as "pstate=HOW,idle=HOW,
	 * power_limit=HOW,temperature=HOW", each HOW a mechanism ("simulated", "cpufreq",
	 * "rapl", "thermal_zone") or "unsupported" with the reason in parentheses. A
	 * governor's requests a backend cannot apply are recorded as refused, never as
	 * applied. NULL: every control unsupported. */
	const char *(*controls)(struct xpu_backend *be);
	/* Version 3. A copy of datum (bytes) now occupies memory pool `pool` in the
	 * engine's accounting: the trace's input data in the home memory at the start, an
	 * output or a copy staged in a memory; data_free when the engine frees it (no task
	 * needs it there any more, or it was evicted). A live backend makes it a real
	 * allocation (the cpu backend: host memory, every page touched). NULL: nothing to
	 * do (simulation, where the accounting is the model). Returns 0 or a negative
	 * errno, which stops the run (-ENOMEM: the machine cannot hold it). */
	int (*data_alloc)(struct xpu_backend *be, uint32_t datum, int pool, double bytes);
	void (*data_free)(struct xpu_backend *be, uint32_t datum, int pool);
	/* Version 4. The unit's measured temperature in degrees Celsius (live: the
	 * machine's sensors). -ENODEV when it has none; NULL in a backend whose
	 * temperatures are the engine's thermal model (simulation). */
	int (*read_temp)(struct xpu_backend *be, int unit, double *celsius);
	/* Version 4. Hold the units of memory pool `pool` (-1: every unit) under `watts`
	 * together, by the hardware's own limit (RAPL). 0 when applied, -ENOTSUP or
	 * another negative errno when refused; the engine records the request either
	 * way. NULL: refused. (Simulation accepts it: there power policies enforce
	 * limits through P-states, which is the model of the limit.) */
	int (*set_power_limit)(struct xpu_backend *be, int pool, double watts);
};

struct xpu_backend {
	const struct xpu_backend_ops *ops;
	const struct xpu_platform *pf; /* set by the engine after open */
	void *priv;
	int nparams;
	const struct xpu_param *param;
};

/* Backends, registered by name in the driver (driver/registry.c): "sim" (SimGrid),
 * "cpu" (host CPU threads; --live), "opencl" (OpenCL devices), "xrt" (AMD XRT
 * devices; -ENODEV where none is found) and "fallback" (the three in a chain, those
 * found; hw/fallback.c). */
extern const struct xpu_backend_ops xpu_backend_sim;
extern const struct xpu_backend_ops xpu_backend_cpu;
extern const struct xpu_backend_ops xpu_backend_opencl;
extern const struct xpu_backend_ops xpu_backend_xrt;
extern const struct xpu_backend_ops xpu_backend_fallback;

/* hw/cpu.c: every class's kernel of the cpu backend (hw/cpu_kernels.c) against a plain
 * reference on its unit problem: 0, or -EIO with err naming the class and element. */
int xpu_cpu_selftest(struct xpu_err *err);
/* hw/cpu_kernels.c: the shape the cpu backend streams for an llm-prefill or llm-decode
 * launch of work flop and bytes (weight rows of 1,024 doubles, token vectors). */
void xpu_cpu_stream_shape(double work, double bytes, double *rows, double *tokens);

/* hw/opencl.c: every OpenCL device's kernels against host references on small inputs.
 * 0, -ENODEV without a device, or -EIO with err naming the kernel and element. */
int xpu_opencl_selftest(struct xpu_err *err);
/* hw/opencl.c: the datum buffers (cl_mem) an opened opencl backend holds now. */
size_t xpu_opencl_buffers(const struct xpu_backend *be);

#ifdef __cplusplus
}
#endif
#endif
