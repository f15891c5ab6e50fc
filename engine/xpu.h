/* xpu.h — xpuopt's one interface: the unit, task and platform models, the policy
 * ops tables (sched, mem, power, offload) and the engine services policies may call.
 *
 * A policy includes this header and nothing backend-specific. Every ops table opens
 * with `name` and `description`; only `name` is required, the engine supplies a
 * default for every missing operation. Every operation takes its own handle first and
 * keeps private state behind `priv`.
 */
#ifndef XPU_H
#define XPU_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Version of the policy ABI: the layout of the common head, the models policies see
 * and the export record. Bumped only when those change incompatibly; 2 is the second
 * edition's (every table opens with struct xpu_ops_head). Each ops table has its own
 * version besides (XPU_SCHED_VERSION ...), which grows as members are appended: the
 * loader accepts a table of an older version and fills the members it lacks with the
 * engine's defaults, and refuses a newer one, naming both versions. 3: struct xpu_unit
 * gained slots and ahead_s (launch-ahead on live units); 4: struct xpu_class_cap
 * gained has_launch and launch (a class's own launch latency). */
#define XPU_ABI_VERSION 4

/* Versions of the ops tables. Tables only grow at their end: version N+1 is version
 * N plus members appended. */
#define XPU_SCHED_VERSION   3 /* 2: on_inputs; 3: on_unit_failed */
#define XPU_MEM_VERSION     3 /* 2: where, free_space; 3: note, victim, prefetch */
#define XPU_POWER_VERSION   2 /* 2: idle */
#define XPU_OFFLOAD_VERSION 1
#define XPU_SERVE_VERSION   1
#define XPU_ROUTER_VERSION  1
#define XPU_BACKEND_VERSION                                                                        \
	4 /* 2: controls; 3: data_alloc, data_free; 4: read_temp,                                  \
	   * set_power_limit */

/* ------------------------------------------------------------------ errors */

/* A user-facing error message: "FILE:LINE: field 'X': expected ..., got "..."". */
struct xpu_err {
	char msg[1024];
};

/* Formats into err (when non-NULL) and returns -EINVAL. file may be NULL and line 0
 * when they are not known. */
int xpu_errf(struct xpu_err *err, const char *file, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* ------------------------------------------------------------------ kinds and classes */

enum xpu_kind {
	XPU_KIND_CPU,
	XPU_KIND_GPU,
	XPU_KIND_TPU,
	XPU_KIND_NPU,
	XPU_KIND_LPU,
	XPU_KIND_FPGA,
	XPU_KIND_VPU,
	XPU_KIND_DSP,
	XPU_KIND_COUNT
};

enum xpu_class {
	XPU_CLASS_GENERIC,
	XPU_CLASS_GEMM,
	XPU_CLASS_CONV,
	XPU_CLASS_ATTENTION,
	XPU_CLASS_LLM_PREFILL,
	XPU_CLASS_LLM_DECODE,
	XPU_CLASS_FFT,
	XPU_CLASS_STENCIL,
	XPU_CLASS_VIDEO,
	XPU_CLASS_COUNT
};

const char *xpu_kind_name(int kind);
const char *xpu_class_name(int cls);
/* Return the enum value, or -1 when the name is unknown. */
int xpu_kind_parse(const char *name);
int xpu_class_parse(const char *name);

/* ------------------------------------------------------------------ units */

/* One performance state: SimGrid's speed and wattage_per_state for that state. */
struct xpu_pstate {
	double speed;     /* flop/s of one core at this state */
	double idle_w;    /* watts when the unit is on and idle */
	double epsilon_w; /* watts at a tiny load (SimGrid's "epsilon"), = idle_w if unset */
	double full_w;    /* watts with every core busy */
};

/* What a unit can do for one kernel class. */
struct xpu_class_cap {
	int supported;     /* 0: the unit refuses tasks of this class */
	double peak;       /* flop/s one task reaches at P-state 0; 0 = the SimGrid speed */
	double efficiency; /* fraction of peak reached, in (0, 1] */
	int has_launch;    /* 1: launch replaces the unit's launch_latency for the class */
	double launch;     /* seconds added to each task of the class (xpu.launch.CLASS) */
};

/* An idle state (cpuidle's C-states, a gated-off accelerator): entered when the unit
 * has nothing to run, left at the next task's start, which waits exit_latency. */
#define XPU_MAX_IDLE 8
struct xpu_idle_state {
	char name[16];
	double exit_latency;     /* seconds to leave it, added to the next task's start */
	double target_residency; /* seconds it must last to save energy (cpuidle's) */
	double power_w;          /* the unit's power while in it */
	double wake_j;           /* energy to leave it, joules */
};

struct xpu_unit {
	int index;  /* position in the platform, 0..nunits-1 */
	char *name; /* host name in the platform file */
	int kind;   /* enum xpu_kind */
	int cores;  /* tasks it can run at once */
	/* Launch-ahead, set by live backends that queue launches on their workers so that
	 * a worker never waits for the engine between tasks: the unit takes up to `slots`
	 * cores' worth of launches at once (0, or less than cores: cores); beyond its
	 * cores, one launch at any time and more while the work it holds is predicted to
	 * last at most ahead_s seconds. Simulation leaves both 0. */
	int slots;
	double ahead_s;
	int npstates;
	struct xpu_pstate *pstates;
	int pstate;            /* current P-state, kept by the engine */
	int mem_pool;          /* index into xpu_platform.pools; units sharing memory share one */
	double mem_bw;         /* bytes/s to its memory; 0 = no memory-bandwidth bound */
	double launch_latency; /* seconds added to every task it runs */
	double wake_latency;   /* seconds to leave a gated-off state */
	int has_class_props;   /* 0: every class runs at the SimGrid speed */
	struct xpu_class_cap cls[XPU_CLASS_COUNT];
	int line; /* line of its <host> in the platform file, 0 if unknown */
	/* FPGAs: the bitstream providing each class (-1: none), and the time to load
	 * another one. The engine charges reconfig_time when a task needs a bitstream
	 * other than the loaded one. */
	int bitstream[XPU_CLASS_COUNT];
	double reconfig_time;
	int loaded_bitstream; /* run-time, kept by the engine; -1 = none yet */
	/* FPGAs: the bitstreams' names from xpu.fpga.bitstream.NAME, indexed by the ids
	 * in bitstream[] (ids follow the names' sorted order). */
	int nbitstreams;
	char **bitstream_names;
	/* Whole-SoC power budget in watts shared by every unit of the SoC, from
	 * xpu.soc.budget; 0 = none. Recorded only: power policies may enforce it. */
	double soc_budget_w;
	/* Simulated failures, from xpu.mtbf and xpu.mttr (mean seconds between failures
	 * and to repair; 0 = never fails) or xpu.availability (a profile file, as
	 * written; the driver reads it). --failures overrides them. */
	double mtbf, mttr;
	char *availability;
	/* Thermal node (xpu.thermal.*): resistance to ambient (K/W) and capacitance (J/K),
	 * 0 = none; ambient, warning and limit temperatures in degrees C (warning and
	 * limit NaN when not given). */
	double th_r, th_c, th_ambient, th_warning, th_limit;
	/* A heat sink shared with other units (xpu.thermal.sink, .sink.r, .sink.c): th_r is
	 * then the unit's resistance to the sink, and the sink's own to ambient is
	 * th_sink_r, its capacitance th_sink_c; th_sink names it ("" = none). */
	char th_sink[32];
	double th_sink_r, th_sink_c;
	/* Idle states, shallowest first (xpu.idle; or one gated-off state from xpu.wake). */
	int nidle;
	struct xpu_idle_state idle[XPU_MAX_IDLE];
	int idle_state; /* run-time, kept by the engine: the state it is in, -1 = none */
	/* Named power modes (xpu.modes: XRT's NPU modes powersaver, balanced, performance,
	 * turbo...): each names the P-state the unit runs at in that mode. */
	int nmodes;
	char mode_name[XPU_MAX_IDLE][16];
	int mode_pstate[XPU_MAX_IDLE];
};

struct xpu_mempool {
	char *name;
	double capacity; /* bytes; 0 = unlimited */
};

struct xpu_platform {
	char *path; /* file it was read from, or a label such as "live:cpu" */
	int nunits;
	struct xpu_unit *units;
	int npools;
	struct xpu_mempool *pools;
	/* Routes between the units' hosts are computed by the backend when first asked
	 * (xpu_platform_route) and cached: no units x units matrix. */
	int (*route_fn)(void *ctx, int src, int dst, double *latency, double *bandwidth);
	void *route_ctx;
	struct xpu_route_cache *routes; /* private to the platform code */
};

/* Latency (s) and bottleneck bandwidth (bytes/s) of the route from unit src's host to
 * unit dst's; bandwidth 0 = no route. Units sharing one memory pool need none (0, and
 * INFINITY bandwidth). Computed once per ordered pair, then cached. Returns 1 when
 * routed (or shared), 0 when not. */
int xpu_platform_route(const struct xpu_platform *pf, int src, int dst, double *latency,
                       double *bandwidth);

/* ------------------------------------------------------------------ tasks */

/* A task's life (DESIGN.md section 4). One engine function changes a state; it refuses
 * a transition xpu_task_transition_ok does not allow, and reports each change to the
 * run's observer. Placement and readiness are independent: a static scheduler may
 * place a task before its dependencies are done.
 *
 *   PENDING -> SUBMITTED -> READY -> PLACED -> RUNNING -> DONE
 *                 |                   ^  |  \            ^
 *                 +-------------------+  |   +-> STAGING -+  (inputs moving)
 *                                        +-> WAITING_MEM -+  (at the head, no memory)
 *   STAGING -> WAITING_MEM when its turn comes before its prefetched inputs arrived and
 *   memory is full; WAITING_MEM -> STAGING once memory is granted and inputs move.
 *   any state before DONE -> FAILED; RUNNING -> READY when a failed launch is retried
 *   or a unit failure stops it and the policy re-executes it elsewhere; RUNNING ->
 *   PLACED when a unit failure stops it and it waits for the unit's repair. */
enum xpu_task_state {
	XPU_TASK_PENDING,     /* not yet submitted (submit time in the future) */
	XPU_TASK_SUBMITTED,   /* submitted, not placed, waiting for dependencies */
	XPU_TASK_READY,       /* every dependency done, not placed */
	XPU_TASK_PLACED,      /* on a unit's queue, inputs there (or none needed yet) */
	XPU_TASK_STAGING,     /* on a unit's queue, inputs moving to its memory */
	XPU_TASK_WAITING_MEM, /* at the head of its unit's queue, waiting for memory */
	XPU_TASK_RUNNING,
	XPU_TASK_DONE,
	XPU_TASK_FAILED,
	XPU_TASK_NSTATES
};

/* 1 when a task may go from state `from` to state `to`, else 0. */
int xpu_task_transition_ok(int from, int to);
/* "pending", "submitted", ... ("?" for a number out of range). */
const char *xpu_task_state_name(int state);

struct xpu_dep {
	uint32_t task; /* index of the producing task */
	double bytes;  /* data it passes to the consumer */
};

/* A datum: a buffer tasks read or write. Every data edge names one, its producer's
 * output (one datum per producer and size: consumers of one output share it), and a
 * trace may name shared data (weights read by many tasks, a buffer updated in place).
 * The engine keeps the state of its copy in each memory (modified, shared, invalid). */
struct xpu_datum {
	const char *name;  /* the producer's id for an output, else the trace's name */
	uint32_t part;     /* outputs of one producer in several sizes: 0, 1, ... */
	double size;       /* bytes */
	uint32_t producer; /* the task whose output it is; UINT32_MAX for shared data */
	uint32_t naccess;  /* tasks that read or write it */
};

enum xpu_access_mode { XPU_ACCESS_READ = 1, XPU_ACCESS_WRITE = 2, XPU_ACCESS_RW = 3 };

/* One datum a task reads (its copy must be valid in the task's memory before it runs)
 * or writes (its copy there becomes the only valid one when the task ends). */
struct xpu_access {
	uint32_t datum;   /* index into xpu_workload.data */
	uint32_t version; /* the datum's value it reads: the writes before it (trace order;
	                   * 1 for a consumer of an output, written once by its producer) */
	uint8_t mode;     /* enum xpu_access_mode */
	uint8_t have;     /* engine-owned: 0 not asked, 1 moving in, 2 present */
};

/* An explicit duration: on one unit (unit >= 0) or on every unit of a kind. */
struct xpu_cost {
	int32_t unit; /* unit index, or -1 */
	int32_t kind; /* enum xpu_kind when unit == -1 */
	double seconds;
};

struct xpu_task {
	uint32_t index;  /* position in the workload, 0..ntasks-1 */
	const char *id;  /* id from the trace */
	int line;        /* line of the record in the trace */
	double submit;   /* seconds */
	int cls;         /* enum xpu_class */
	double flops;    /* work */
	double bytes;    /* bytes moved to/from memory while running */
	double mem;      /* memory footprint on the unit, bytes */
	int priority;    /* higher runs first where a policy honours it */
	double deadline; /* absolute seconds; INFINITY when none */
	uint32_t user;   /* index into xpu_workload.users */
	uint32_t width;  /* cores of one unit it needs at once (parallel jobs), >= 1;
	                  * flops is the whole job's work, shared evenly */
	double estimate; /* user's run-time estimate (SWF requested time), seconds;
	                  * NAN when the trace gives none */
	uint32_t ndeps;
	struct xpu_dep *deps;
	uint32_t nsucc;
	uint32_t *succ; /* indexes of the consumers */
	uint32_t ncosts;
	struct xpu_cost *costs;
	uint32_t naccess;
	struct xpu_access *access; /* data it reads and writes */

	/* Run-time state, owned by the engine: policies see every task and unit through
	 * const pointers (the ops above and the services), so that only the engine's one
	 * state-changing function writes these. */
	int state;         /* enum xpu_task_state */
	int unit;          /* unit it is placed on, -1 before placement */
	uint32_t npending; /* dependencies not yet done */
	uint32_t nxfers;   /* input transfers in flight */
	uint32_t parts;    /* 1 while its launch runs (one launch whatever its width) */
	double ready_t;    /* when its last dependency finished */
	double start_t;
	double end_t;
	double energy;    /* joules attributed to it */
	double bytes_in;  /* bytes transferred to its unit before it ran */
	double predicted; /* predicted duration on its unit when it started */
	double order;     /* order key in its unit's queue */
	uint64_t mem_handle;
	void *sched_data;  /* the sched policy's: set with xpu_task_set_sched_data */
	uint32_t attempts; /* times it started: more than 1 after unit failures */
	double lost_s;     /* seconds of its runs stopped by unit failures */
	uint8_t staged;    /* at its queue's head: inputs pinned, memory reserved */
	uint8_t mem_held;  /* its mem footprint is allocated (mem_handle) */
	double wait_t;     /* when its wait for memory, then for its inputs, began */
	double mem_wait_s; /* seconds in WAITING_MEM (memory full at its queue's head) */
	double in_wait_s;  /* seconds in STAGING (inputs moving) */
};

/* ------------------------------------------------------------------ engine services */

/* Without --tick, the scheduling tick is the predicted span of the run divided by
 * this: periodic calls never dominate a run's events. */
#define XPU_TICKS_PER_RUN 1000.0

struct xpu_engine;

double xpu_now(const struct xpu_engine *e);
const struct xpu_platform *xpu_platform_of(const struct xpu_engine *e);
int xpu_nunits(const struct xpu_engine *e);
const struct xpu_unit *xpu_unit_at(const struct xpu_engine *e, int i);
uint32_t xpu_ntasks(const struct xpu_engine *e);
const struct xpu_task *xpu_task_at(const struct xpu_engine *e, uint32_t i);

/* 1 when unit u can run task t's class (and a cost, if the task lists explicit
 * costs, covers u or its kind), else 0. */
int xpu_can_run(const struct xpu_engine *e, const struct xpu_task *t, int u);

/* Predicted duration of t on unit u at u's current P-state: the explicit cost when the
 * trace gives one for u or its kind, else the roofline plus launch latency. INFINITY
 * when u cannot run t. */
double xpu_predict(const struct xpu_engine *e, const struct xpu_task *t, int u);

/* The rate, in flop/s per core, at which unit u runs kernel class cls at P-state
 * pstate: the class peak scaled by the P-state's speed, times the class efficiency, or
 * the P-state's speed when the unit names no class properties. 0 when u does not run
 * the class. Both the engine's predictions and the sim backend's durations use it. */
double xpu_unit_rate(const struct xpu_unit *u, int cls, int pstate);
/* Seconds added to each task of class cls on u: the class's xpu.launch.CLASS where the
 * platform states one, else the unit's xpu.launch. */
double xpu_unit_launch(const struct xpu_unit *u, int cls);

/* Predicted time to move bytes from unit src to unit dst: 0 on one unit or one shared
 * memory, else route latency + bytes / bottleneck bandwidth; INFINITY without a route. */
double xpu_comm_time(const struct xpu_engine *e, int src, int dst, double bytes);

/* Paged memory (engine/pages.c): a memory's capacity cut into blocks of block_bytes,
 * for caches that grow a block at a time (an LLM request's KV cache, as vLLM's block
 * manager). Owners are any 64-bit ids but UINT64_MAX. watermark in [0, 1): the share of
 * blocks kept for the growth of owners already admitted. NULL on a bad argument
 * (block_bytes <= 0, capacity below one block, more than 4e9 blocks) or no memory. */
struct xpu_pages;
struct xpu_pages *xpu_pages_new(double capacity, double block_bytes, double watermark);
void xpu_pages_free(struct xpu_pages *p);
/* A new owner with its first nblocks: 0; -ENOSPC when the free blocks would fall below
 * the watermark (admit it later); -E2BIG when it could never get in; -EEXIST when
 * admitted already. */
int xpu_pages_admit(struct xpu_pages *p, uint64_t owner, uint32_t nblocks);
/* nblocks more for an owner admitted: 0, or -ENOSPC when fewer blocks are free (the
 * reserve may be used up); -ENOENT for an unknown owner. */
int xpu_pages_grow(struct xpu_pages *p, uint64_t owner, uint32_t nblocks);
/* Every block of owner back to the free blocks. */
void xpu_pages_release(struct xpu_pages *p, uint64_t owner);
/* The blocks an owner holds (its block table, in the order it got them; *blocks may be
 * NULL) and their count. */
uint32_t xpu_pages_held(const struct xpu_pages *p, uint64_t owner, const uint32_t **blocks);
uint32_t xpu_pages_free_blocks(const struct xpu_pages *p);
uint32_t xpu_pages_total(const struct xpu_pages *p);

/* Earliest time unit u is predicted to be free: now, plus what is left of its running
 * tasks, plus the predictions of the tasks queued on it, spread over its cores. */
double xpu_unit_avail(const struct xpu_engine *e, int u);

/* 1 when unit u is up, 0 while it is down (a simulated failure, until its repair).
 * xpu_unit_avail of a down unit counts from its expected repair. */
int xpu_unit_up(const struct xpu_engine *e, int u);

/* Datum i of the workload (its name, size, producer), NULL past the last; and 1 when a
 * valid copy of it is in unit u's memory now (reading it there moves nothing). */
const struct xpu_datum *xpu_datum_at(const struct xpu_engine *e, uint32_t i);
int xpu_datum_valid_on(const struct xpu_engine *e, uint32_t datum, int u);

/* Unit u's heat sink (xpu.thermal.sink): an index shared by the units on it, -1 when
 * it has none (a unit alone is then its own thermal zone). */
int xpu_unit_sink(const struct xpu_engine *e, int u);

/* Unit u's temperature now, degrees C, by its thermal node (xpu.thermal.*) and the
 * power its state draws (P-state, busy cores, idle state). Without a node, the
 * backend's sensor (live: the CPU package's thermal zone or hwmon chip, read at most
 * every 10 ms); NaN when there is neither. */
double xpu_unit_temp(const struct xpu_engine *e, int u);

/* Tasks waiting in u's queue, and tasks running on u. */
int xpu_unit_queued(const struct xpu_engine *e, int u);
int xpu_unit_running(const struct xpu_engine *e, int u);

/* Predicted time all of t's inputs could be on unit u: each producer's end (or
 * predicted end) plus the transfer. now when t has no inputs. */
double xpu_data_ready(const struct xpu_engine *e, const struct xpu_task *t, int u);

/* A pseudo-random 64-bit number from the run's seeded generator (xoshiro256**),
 * for policies that draw: the same seed gives the same draws. */
uint64_t xpu_random(struct xpu_engine *e);

/* A ready queue that policies may use: tasks kept per kernel class, ordered by key
 * (smaller first, ties in push order). */
struct xpu_readyq;
struct xpu_readyq *xpu_readyq_new(void);
void xpu_readyq_free(struct xpu_readyq *q);
int xpu_readyq_push(struct xpu_readyq *q, const struct xpu_task *t, double key);
/* Remove and return the first task (smallest key) that unit u can run, or NULL. */
const struct xpu_task *xpu_readyq_take(struct xpu_readyq *q, const struct xpu_engine *e, int u);
size_t xpu_readyq_len(const struct xpu_readyq *q);

/* Place a submitted task on unit u's queue. The queue runs in ascending `order`
 * (ties in placement order), strictly: a unit starts its head task only, once that
 * task's dependencies are done, its inputs have arrived and its memory is granted.
 * Input transfers start as soon as each producer is done. Returns 0, -EINVAL when u
 * cannot run t or t is already placed. May be called from any sched operation. */
int xpu_place(struct xpu_engine *e, const struct xpu_task *t, int u, double order);

/* Ask the backend to hold the units of memory pool `pool` (-1: every unit) under
 * `watts` together with the hardware's own limit (live: RAPL through powercap). Power
 * policies call it for the domains they cap; the run records every request and every
 * refusal (/run: power_limit_requests, power_limit_refused). In simulation the
 * policy's P-states are the limit and the request is accepted. Returns 0 when applied,
 * else a negative errno (-ENOTSUP: no such control here). */
int xpu_power_limit(struct xpu_engine *e, int pool, double watts);

/* Keep a value of the sched policy's with task t (read back as t->sched_data). */
void xpu_task_set_sched_data(struct xpu_engine *e, const struct xpu_task *t, void *data);

/* ------------------------------------------------------------------ policy handles */

struct xpu_sched;
struct xpu_mem;
struct xpu_candidate;
struct xpu_power;
struct xpu_offload;

/* A policy parameter as given on the command line: --sched 'energy:gamma=1000'. */
struct xpu_param {
	const char *key;
	const char *value;
};

enum xpu_param_type {
	XPU_PARAM_NUMBER, /* a finite decimal number within [min, max] */
	XPU_PARAM_INT,    /* a whole number within [min, max] */
	XPU_PARAM_TEXT,   /* free text, checked by the policy */
	XPU_PARAM_KIND,   /* a unit kind: cpu, gpu, tpu, npu, lpu, fpga, vpu or dsp */
	XPU_PARAM_KINDS,  /* unit kinds separated by '/', each at most once */
	XPU_PARAM_WORD    /* one of the words that open help, separated by '|' and ended by
	                   * ':' ("head|place: when inputs move (default place)") */
};

/* One parameter a table accepts: its name, type and range, checked when the spec is
 * parsed (a bad value is bad usage: exit status 2, naming the parameter). */
struct xpu_param_spec {
	const char *name; /* NULL ends a list */
	int type;         /* enum xpu_param_type */
	double min, max;  /* numbers: accepted range, inclusive */
	const char *help; /* one line, with the default */
};

/* The head every ops table opens with (policies and backends). Only name is required;
 * version is the table version the object was built with (XPU_SCHED_VERSION for a
 * sched table ...), so that a table built against an older xpu.h still loads. */
struct xpu_ops_head {
	int version;
	const char *name;
	const char *description;
	const struct xpu_param_spec *params; /* NULL: no parameters */
};

/* Scheduling policy. Push when ready, pick when a unit has room (StarPU's model).
 * All operations run on the engine's thread, in simulated or wall time; none may
 * block. */
struct xpu_sched_ops {
	struct xpu_ops_head head;
	/* Version 1. Called once before the first task arrives; may allocate s->priv. Returns 0 or
	 * a negative errno (the run then fails). */
	int (*init)(struct xpu_sched *s);
	/* Called once after the last task ends; frees s->priv. */
	void (*fini)(struct xpu_sched *s);
	/* A task's submit time is reached. Every task arriving at one instant is
	 * submitted before any of them is reported ready. A static scheduler may place
	 * the task now (xpu_place). Default: nothing. */
	void (*on_submit)(struct xpu_sched *s, const struct xpu_task *t);
	/* Every task of one arrival instant has been submitted; none of them has been
	 * reported ready yet. The moment for a static scheduler to plan the batch.
	 * Default: nothing. */
	void (*on_arrivals)(struct xpu_sched *s, double now);
	/* Every dependency of t is done. If t is not placed yet, the policy places it now
	 * or keeps it for pick. Default: the engine's central queue, highest priority
	 * first, then in readiness order. */
	void (*on_ready)(struct xpu_sched *s, const struct xpu_task *t);
	/* Unit u has a free core and an empty queue: return a ready, unplaced task for it,
	 * or NULL. The engine places the returned task on u. Default: the first task of
	 * the central queue that u can run. */
	const struct xpu_task *(*pick)(struct xpu_sched *s, const struct xpu_unit *u);
	/* t has ended (state DONE or FAILED). Default: nothing. */
	void (*on_done)(struct xpu_sched *s, const struct xpu_task *t);
	/* Periodic call every tick interval. Default: nothing. */
	void (*on_tick)(struct xpu_sched *s, double now);
	/* t's launch on unit u failed (the backend refused or lost it). Return 1 to
	 * have the engine take t off u and report it ready again (on_ready), to try
	 * elsewhere; 0 to let it fail. Default: 0. */
	int (*on_failed)(struct xpu_sched *s, const struct xpu_task *t, int u);
	/* Version 2. Every input of t, placed on unit u, is now in u's memory (its copies
	 * arrived); t may still wait for its turn or its memory. For prefetch-aware
	 * policies. Default: nothing. */
	void (*on_inputs)(struct xpu_sched *s, const struct xpu_task *t, int u);
	/* Version 3. Unit u failed (simulated failures: --failures, or the platform's
	 * xpu.mtbf) while t ran on it; its work so far is lost. Return 1 to re-execute t
	 * elsewhere (the engine takes t off u and reports it ready again: on_ready), 0
	 * to have it wait at the head of u's queue for u's repair. Tasks queued on u
	 * wait for the repair either way. Default: 0. */
	int (*on_unit_failed)(struct xpu_sched *s, const struct xpu_task *t, int u);
};

struct xpu_sched {
	const struct xpu_sched_ops *ops;
	struct xpu_engine *eng;
	void *priv;
	int nparams;
	const struct xpu_param *param;
};

/* Memory policy: one allocator over each memory pool of the platform. */
struct xpu_mem_ops {
	struct xpu_ops_head head;
	int (*init)(struct xpu_mem *m);
	void (*fini)(struct xpu_mem *m);
	/* Reserve bytes in pool; *handle identifies the block for free. Returns 0,
	 * -ENOSPC when it does not fit now (the task waits), -E2BIG when it can never fit
	 * (the task fails). Default: a byte counter against the pool's capacity. */
	int (*alloc)(struct xpu_mem *m, int pool, double bytes, uint64_t *handle);
	/* Release a block obtained from alloc. */
	void (*free)(struct xpu_mem *m, int pool, uint64_t handle);
	/* Bytes in use in pool. */
	double (*used)(struct xpu_mem *m, int pool);
	/* Version 2. Where block handle lies in pool: its offset from the pool's start
	 * and its length in bytes (allocators round requests up). -ENOENT when handle is
	 * not allocated. NULL: the policy places nothing at an address. */
	int (*where)(struct xpu_mem *m, int pool, uint64_t handle, uint64_t *off, uint64_t *len);
	/* Version 2. Free bytes of pool and its largest free block (the largest request
	 * that would fit now): fragmentation is 1 - largest / free. */
	void (*free_space)(struct xpu_mem *m, int pool, double *free_bytes, double *largest);
	/* Version 3. Eviction. A candidate is a copy of a datum that could leave its
	 * memory now: valid, not moving, pinned by no staged or running task, and not in
	 * the home memory (the backing store every write-back goes to). The engine
	 * reports candidates as they come (XPU_CAND_ADD), change (XPU_CAND_UPDATE: dirty
	 * or next_use) and go (XPU_CAND_DEL, also after victim chose one); victim names
	 * the candidate of pool to evict when a request does not fit. NULL: nothing is
	 * evicted, requests wait for data no task needs any more to be freed. */
	void (*note)(struct xpu_mem *m, const struct xpu_candidate *c, int event);
	/* 0 with *id, a candidate of pool (its id), or -ENOENT when there is none. */
	int (*victim)(struct xpu_mem *m, int pool, uint32_t *id);
	/* When a placed task's inputs start moving: XPU_PREFETCH_PLACE (when it is
	 * placed, StarPU dmda's prefetch; also when NULL), XPU_PREFETCH_HEAD (when it
	 * reaches the head of its unit's queue) or XPU_PREFETCH_IDLE (as PLACE, but one
	 * prefetch at a time into a memory, and only while no task's demand copy moves
	 * into it: prefetches use the link's idle capacity). A prefetch never evicts a
	 * copy that a task placed in that memory needs, and gives up when nothing else
	 * can go. */
	int (*prefetch)(struct xpu_mem *m);
};

enum xpu_cand_event { XPU_CAND_ADD, XPU_CAND_UPDATE, XPU_CAND_DEL };
enum xpu_prefetch { XPU_PREFETCH_PLACE, XPU_PREFETCH_HEAD, XPU_PREFETCH_IDLE };

/* An eviction candidate (xpu_mem_ops.note). */
struct xpu_candidate {
	uint32_t id;    /* the copy: one datum in one memory, the same for the whole run */
	uint32_t datum; /* index into xpu_workload.data */
	int32_t pool;
	uint8_t dirty;   /* the datum's only valid copy: evicting it writes it back home */
	double bytes;    /* the datum's size */
	double next_use; /* the index of the next task (trace order) that will access the
	                  * datum, INFINITY when none: known in simulation, where the
	                  * whole trace is (Belady's optimum needs it) */
};

struct xpu_mem {
	const struct xpu_mem_ops *ops;
	struct xpu_engine *eng;
	void *priv;
	int nparams;
	const struct xpu_param *param;
};

/* Power policy (a governor). */
struct xpu_power_ops {
	struct xpu_ops_head head;
	int (*init)(struct xpu_power *p);
	void (*fini)(struct xpu_power *p);
	/* Choose u's P-state from its utilisation since the previous call (0..1). Called
	 * for every unit at the start of the run and every governor period, and for one
	 * unit when it starts a task (util then counts the task). Returns a P-state
	 * index. Default: keep the current one. */
	int (*select)(struct xpu_power *p, const struct xpu_unit *u, double util);
	/* Governor period in seconds: how often select is called for every unit. 0 (the
	 * default): only at the start of the run and at task starts, for governors whose
	 * choice does not depend on past utilisation; < 0: the run's estimated tick
	 * (about a thousandth of its span). --governor-period overrides it. */
	double period;
	/* Version 2. Unit u has nothing to run (no task running or queued): return the
	 * index of the idle state it enters (u->idle[], shallowest first), or -1 to stay
	 * in its P-state's idle. last_idle_s is how long its previous idle period lasted
	 * (INFINITY before the first). It leaves the state when its next task starts,
	 * which then waits the state's exit latency. Default (NULL): no idle state. */
	int (*idle)(struct xpu_power *p, const struct xpu_unit *u, double last_idle_s);
};

struct xpu_power {
	const struct xpu_power_ops *ops;
	struct xpu_engine *eng;
	void *priv;
	int nparams;
	const struct xpu_param *param;
};

/* Offload policy: local or a remote zone. Zones arrive with the platform work; the
 * foundation runs every task locally. */
struct xpu_offload_ops {
	struct xpu_ops_head head;
	int (*init)(struct xpu_offload *o);
	void (*fini)(struct xpu_offload *o);
	/* Return -1 to run t locally, else a zone index. Default: -1. */
	int (*decide)(struct xpu_offload *o, const struct xpu_task *t);
};

struct xpu_offload {
	const struct xpu_offload_ops *ops;
	struct xpu_engine *eng;
	void *priv;
	int nparams;
	const struct xpu_param *param;
};

/* ------------------------------------------------------------------ LLM serving */

/* A serving run (xpuopt run --serve) replays requests to a language model deployed on
 * replicas of units. Each replica runs one batch step (an iteration) at a time: one
 * launch per unit whose work follows from the model and the batch (roofline: prefill
 * compute-bound, decode bound by reading weights and KV cache). The serve policy chooses
 * each step's batch; the router chooses the replica of each arriving request. */

/* What the engine knows of the model, from the catalogue (traces/models.csv). */
struct xpu_llm {
	char name[64];
	int layers, hidden;
	int experts, active_experts; /* 1 and 1 for a dense model */
	double weight_bytes;         /* every weight */
	double expert_bytes;         /* of which the experts' MLPs (0 for a dense model) */
	double flops_per_token;      /* linear layers: 2 per weight a token uses */
	double attn_flops_per_pair;  /* attention: flops per (token, earlier token) pair */
	double kv_bytes_per_token;   /* keys and values of one token, every layer */
	double act_bytes_per_token;  /* one token's activations between layers */
};

/* Where a replica's requests go: both phases, or one side of a disaggregated
 * deployment (prefill on one pool of units, decode on another). */
enum xpu_role { XPU_ROLE_BOTH, XPU_ROLE_PREFILL, XPU_ROLE_DECODE };

/* A model instance: tp x pp units, stage s on units[s * tp .. s * tp + tp - 1]. */
struct xpu_replica {
	int index;
	int role; /* enum xpu_role */
	int tp, pp;
	int *units;
	uint32_t kv_blocks; /* KV-cache blocks: the units' memory left by the weights */
	uint32_t block_tokens;
};

enum xpu_req_state {
	XPU_REQ_PENDING, /* not arrived yet */
	XPU_REQ_QUEUED,  /* routed to a replica, not in its KV cache (waiting, or preempted) */
	XPU_REQ_RUNNING, /* admitted: holds KV blocks on its replica */
	XPU_REQ_MOVING,  /* its KV cache moves (swap in or out, or to a decode replica) */
	XPU_REQ_SWAPPED, /* preempted by swapping: its KV cache waits in host memory */
	XPU_REQ_DONE
};

struct xpu_request {
	uint32_t index;  /* position in arrival order, 0..n-1 */
	const char *id;  /* from the trace, or "r<line>" */
	int line;        /* its line in the request file, 0 when generated */
	double arrival;  /* seconds */
	uint32_t prompt; /* prompt (context) tokens */
	uint32_t output; /* tokens to generate, >= 1 */
	double deadline; /* absolute seconds its last token is due by; 0 or INFINITY: none */
	/* Run-time, owned by the engine. */
	int state;          /* enum xpu_req_state */
	int replica;        /* -1 before routing */
	uint32_t computed;  /* tokens whose keys and values are in the cache */
	uint32_t generated; /* output tokens produced */
	uint32_t blocks;    /* KV blocks held on its replica */
	uint32_t preemptions;
	uint8_t in_batch;                          /* in the step being formed or running */
	double first_token_t, last_token_t, end_t; /* NAN until then */
	double tbt_max;                            /* its longest gap between two tokens */
	void *serve_data;                          /* the serve policy's */
};

/* Tokens of r still to be processed before its next output token. */
static inline uint32_t xpu_request_pending(const struct xpu_request *r)
{
	return r->prompt + r->generated - r->computed;
}

struct xpu_serve;
struct xpu_router;

/* Serving policy: forms each replica's batches. */
struct xpu_serve_ops {
	struct xpu_ops_head head;
	int (*init)(struct xpu_serve *s);
	void (*fini)(struct xpu_serve *s);
	/* r was routed to replica rep (QUEUED), or its KV cache arrived there (RUNNING:
	 * moved from a prefill replica, or swapped back in). */
	void (*on_arrival)(struct xpu_serve *s, const struct xpu_request *r, int rep);
	/* rep has no step running: add this step's work with xpu_batch_add (nothing added:
	 * rep stays idle until the next arrival, completion or move). */
	void (*form_batch)(struct xpu_serve *s, int rep);
	/* rep's step ended; the tokens it produced are counted. */
	void (*on_step)(struct xpu_serve *s, int rep);
	/* r produced its first token (its prompt is in the cache). */
	void (*on_prefilled)(struct xpu_serve *s, const struct xpu_request *r);
	/* r produced its last token; its KV blocks are free. */
	void (*on_finished)(struct xpu_serve *s, const struct xpu_request *r);
};

struct xpu_serve {
	const struct xpu_serve_ops *ops;
	struct xpu_engine *eng;
	void *priv;
	int nparams;
	const struct xpu_param *param;
};

/* Router: the replica an arriving request goes to. */
struct xpu_router_ops {
	struct xpu_ops_head head;
	int (*init)(struct xpu_router *r);
	void (*fini)(struct xpu_router *r);
	/* A replica that takes new requests (role both or prefill: xpu_replica_accepts). */
	int (*route)(struct xpu_router *rt, const struct xpu_request *r);
};

struct xpu_router {
	const struct xpu_router_ops *ops;
	struct xpu_engine *eng;
	void *priv;
	int nparams;
	const struct xpu_param *param;
};

/* Serving services. */
const struct xpu_llm *xpu_serve_model(const struct xpu_engine *e);
int xpu_nreplicas(const struct xpu_engine *e);
const struct xpu_replica *xpu_replica_at(const struct xpu_engine *e, int rep);
uint32_t xpu_nrequests(const struct xpu_engine *e);
const struct xpu_request *xpu_request_at(const struct xpu_engine *e, uint32_t i);
/* 1 when rep takes newly arrived requests (role both or prefill). */
int xpu_replica_accepts(const struct xpu_engine *e, int rep);
/* rep's requests not yet done (routed or moved to it), and their tokens still to
 * process (prompts not yet in the cache plus outputs not yet produced). */
uint32_t xpu_replica_outstanding(const struct xpu_engine *e, int rep);
double xpu_replica_tokens(const struct xpu_engine *e, int rep);
/* rep's free KV blocks, and those r would need in all to hold n more tokens. */
uint32_t xpu_replica_free_blocks(const struct xpu_engine *e, int rep);
uint32_t xpu_request_blocks_for(const struct xpu_engine *e, const struct xpu_request *r,
                                uint32_t ntokens);
/* 1 when rep runs a step now. */
int xpu_replica_busy(const struct xpu_engine *e, int rep);

/* Add n of r's pending tokens to the step rep is forming (from form_batch): a prefill
 * chunk, or 1 for a decode. r gets the KV blocks they need; a QUEUED request is
 * admitted (RUNNING). Returns 0; -ENOSPC when the blocks are not free (an admission
 * also keeps the replica's watermark free), nothing changed; -EINVAL when r is not on
 * rep, not QUEUED or RUNNING, already in the step, or n is 0 or above its pending
 * tokens. */
int xpu_batch_add(struct xpu_engine *e, int rep, const struct xpu_request *r, uint32_t n);
/* Reserve, for a RUNNING or QUEUED r not in a step, the blocks for total tokens of KV
 * (static batching and Orca reserve a request's whole length on admission): 0,
 * -ENOSPC (nothing changed), -EINVAL. A QUEUED r becomes RUNNING. */
int xpu_request_reserve(struct xpu_engine *e, const struct xpu_request *r, uint32_t total);
/* Preempt a RUNNING r not in a step: its blocks are freed. swap 0: its cache is
 * dropped and recomputed later (QUEUED, computed 0); swap 1: its cache moves to host
 * memory over the platform's link (MOVING, then SWAPPED), and xpu_request_swap_in
 * brings it back. Returns 0 or -EINVAL. */
int xpu_request_preempt(struct xpu_engine *e, const struct xpu_request *r, int swap);
/* A SWAPPED r back into its replica's cache: 0 (MOVING, then on_arrival as RUNNING),
 * -ENOSPC, -EINVAL. */
int xpu_request_swap_in(struct xpu_engine *e, const struct xpu_request *r);
/* Move a RUNNING r not in a step, whose prompt is in the cache, to replica dst: dst's
 * blocks are taken now, the KV cache crosses the platform's links, r's blocks on its
 * replica are freed when it has arrived (on_arrival on dst). 0, -ENOSPC, -EINVAL. */
int xpu_request_migrate(struct xpu_engine *e, const struct xpu_request *r, int dst);
/* Predicted seconds of one step on rep processing prefill_tokens prompt tokens whose
 * attention spans prefill_pairs (token, earlier token) pairs, and ndecode decodes over
 * decode_ctx cached tokens in all: the roofline the backend applies. */
double xpu_step_predict(const struct xpu_engine *e, int rep, double prefill_tokens,
                        double prefill_pairs, double ndecode, double decode_ctx);

/* ------------------------------------------------------------------ out-of-tree policies */

enum xpu_policy_kind {
	XPU_POLICY_SCHED,
	XPU_POLICY_MEM,
	XPU_POLICY_POWER,
	XPU_POLICY_OFFLOAD,
	XPU_POLICY_SERVE,
	XPU_POLICY_ROUTER
};

/* What a policy built as a shared object exports, under the symbol name
 * "xpu_policy_export": the ABI it was compiled against, its kind and its table.
 * xpuopt refuses an object whose abi_version differs from its own XPU_ABI_VERSION, and
 * checks the table's head.version against the kind's table version (older: loaded,
 * missing members take the defaults; newer: refused).
 * Build one with: cc -shared -fPIC mypolicy.c $(pkg-config --cflags --libs xpuopt)
 * and run it with --sched ./mypolicy.so (see examples/). */
struct xpu_policy_export {
	int abi_version;
	int kind; /* enum xpu_policy_kind */
	const void *ops;
};

#define XPU_EXPORT_POLICY(KIND, OPS)                                                               \
	__attribute__((visibility("default")))                                                     \
	const struct xpu_policy_export xpu_policy_export = {XPU_ABI_VERSION, (KIND), &(OPS)}

/* Parameter lookup for policies: value of key, or def when absent. */
const char *xpu_param_str(const struct xpu_param *p, int n, const char *key, const char *def);
double xpu_param_num(const struct xpu_param *p, int n, const char *key, double def);

#ifdef __cplusplus
}
#endif
#endif
