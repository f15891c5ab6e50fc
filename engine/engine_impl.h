/* engine_impl.h — the engine's private state, shared by engine.c, data.c and the driver's
 * run.c only. */
#ifndef XPU_ENGINE_IMPL_H
#define XPU_ENGINE_IMPL_H

#include "backend.h"
#include "queue.h"
#include "results.h"
#include "trace.h"
#include "xpu.h"

/* A unit's availability, for simulated failures (failures.c): failures and repairs at
 * exponentially distributed times of means mtbf and mttr, or a profile of state
 * changes (at[i] seconds from the start, the unit up or down from then on), repeated
 * every period seconds when period > 0. */
struct xpu_avail {
	double mtbf, mttr; /* seconds; 0: no rate model */
	const double *at;
	const uint8_t *up;
	uint32_t n;
	double period;
};

#define XPU_NO_TASK UINT32_MAX
/* A run with more failures and repairs than this stops (failures.c). */
#define XPU_MAX_FAIL_CHANGES 1000000000ULL

/* Per-unit run-time state. */
struct unit_rt {
	struct xpu_heap queue; /* placed tasks, by (order, placement sequence) */
	int running;
	double queued_pred;  /* sum of predictions of queued tasks */
	double running_end;  /* sum of predicted ends of running tasks */
	double held_pred;    /* launch-ahead: sum of predictions of the tasks launched there */
	double last_pred;    /* launch-ahead: prediction of the task started last */
	double busy_acc;     /* core-seconds busy since the run began */
	double busy_last;    /* time busy_acc was last brought up to date */
	double busy_at_gov;  /* busy_acc at the governor's previous call */
	double pstate_since; /* when the current P-state was entered */
	int idle_pos;        /* >= 0 when idle-and-empty (bit set in eng.idle_bits) */
	int dirty;           /* on the dirty stack */
	int mem_blocked;     /* its head waits for memory (on its pool's list) */
	int blocked_next;    /* next unit on that list, -1 at its end */
	/* simulated failures */
	int down;           /* failed, until its repair */
	double down_since;  /* when it failed */
	double next_change; /* its next failure or repair, INFINITY when none */
	uint32_t prof_i;    /* profile: its next entry */
	double prof_base;   /* profile: start of the current repetition */
	uint32_t run_head;  /* its running tasks (run_next links), XPU_NO_TASK when none */
	/* idle states (xpu_unit.idle_state >= 0 while in one) */
	double idle_enter;  /* when it entered the state */
	double saved_since; /* energy saved is counted up to here in saved_j */
	double saved_j;     /* energy the idle states saved, less the wake energy */
	double last_idle;   /* its previous idle period, INFINITY before the first */
	int sleepy;         /* on the list of units that may go idle */
	/* online temperature (thermal node): at temp_t, and the modeled power since */
	double temp, temp_t, power_now;
	/* measured temperature (a backend with read_temp): the last reading, its run time
	 * (-INFINITY: none yet), and the run's highest */
	double meas_c, meas_at, meas_max;
};

struct xpu_engine {
	const struct xpu_platform *pf;
	struct xpu_workload *w;
	struct xpu_backend *be;
	struct xpu_sched sched;
	struct xpu_mem mem;
	struct xpu_power power;
	struct xpu_offload off;
	struct xpu_unit_stats *us;
	struct xpu_timeline *tl;

	/* Fallback (xpuopt run --fallback, the fallback backend): a task whose launch fails
	 * moves on to the next unit in platform order that can run it; a unit whose
	 * device went (-ENODEV, -ENXIO) is taken out. 0: the sched policy decides. */
	int fallback;
	struct unit_rt *u;
	uint32_t *arrivals; /* task indexes by (submit, index) */
	uint32_t next_arrival;
	struct xpu_readyq *central; /* default sched's queue */
	uint64_t *idle_bits;        /* units with a free core and an empty queue, one bit each */
	int nidle;
	int *pool_blocked;    /* per pool: first unit whose head waits for its memory */
	uint32_t *fail_stack; /* failure propagation's work list, one slot per task */
	int *dirty;           /* units to reconsider */
	int ndirty;
	int ask_idle; /* new work may suit idle units */
	double *pool_used, *pool_peak;
	double now;
	/* Three independent periods: the sched policy's tick (on_tick; INFINITY when it
	 * has none), the governor's period (select for every unit; 0 = at task starts
	 * only) and the timeline's sampling period (0 = change points only). */
	double tick, next_tick;
	int tick_auto;      /* tick was estimated: widen it when a run outlives the guess */
	double tick_origin; /* when the loop started */
	double gov_period, next_gov, last_gov;
	double sample, next_sample;
	uint32_t nended;
	uint64_t in_flight; /* launches and transfers under way */
	uint64_t seq;
	uint64_t rng[4];
	struct xpu_data_rt *data; /* data.c */
	double *datum_bytes;      /* per datum: bytes copied (results) */
	double *task_data;        /* per task: bytes of the data it accesses */
	int home_pool;            /* the backing store: data there hold no block */
	int check_coherence;      /* xpu_run_opts.check_coherence */
	/* Unified memory: per pool shared by several units, the running tasks that move
	 * bytes through it (they share its bandwidth). */
	uint32_t *pool_mem_tasks;
	double peak_power_w;     /* the peak of all units' summed power (timeline) */
	int *sleepy;             /* units whose last task ended: idle states to consider */
	struct xpu_th_nets *thn; /* heat sinks' networks (thermal.c), NULL when none */
	uint64_t pstate_requests, pstate_refused; /* the power policy's asks, and refusals */
	uint64_t limit_requests, limit_refused;   /* power limits asked of the backend */
	uint32_t stuck_on_memory; /* tasks failed at the end while waiting for memory */
	int nsleepy;
	uint32_t *datum_copies; /* per datum: copy operations (results) */
	int started;            /* the loop runs: state changes reach the timeline */
	int rc;                 /* first fatal error */
	/* Observer of every task state change (xpu_run_opts.observe), or NULL. */
	void (*observe)(void *ctx, const struct xpu_task *t, int from, int to, double now);
	void *observe_ctx;
	void (*progress)(void *ctx, uint32_t ended, uint32_t total, double now, int final);
	void *progress_ctx;
	double wall0, wall_next; /* progress: wall clock at the start, next report due */
	uint32_t progress_tick;  /* loop turns since the clock was last read */
	int progress_shown;
	struct xpu_err *err;
	size_t *tl_last;   /* per unit: its last timeline row, SIZE_MAX before the first */
	double *tl_energy; /* per unit: backend energy at that row */
	size_t *tl_prev;   /* per unit: the row before it, SIZE_MAX when none */
	double *tl_prev_energy;
	int force_row;               /* sampling: a row even when nothing changed */
	int *pool_first, *pool_unit; /* units of pool p: pool_unit[pool_first[p] ..
	                              * pool_first[p + 1]) */
	/* Simulated failures (failures.c): per unit, NULL when every unit stays up. */
	const struct xpu_avail *avail;
	uint64_t fail_rng[4];          /* the failure draws' own stream (seeded from seed) */
	struct xpu_heap fail_q;        /* units by their next change */
	uint32_t *run_next, *run_prev; /* per task: the running list of its unit */
	int ndown;                     /* units down now */
	uint64_t nchanges;             /* failures and repairs so far */
	/* Fragmentation per pool (the memory policy's free_space), recomputed when the
	 * pool's use changes: its value now (negative: to recompute) and its peak. */
	double *pool_frag, *pool_frag_peak;
	struct xpu_serve_rt *sv; /* a serving run's state (serve.c), NULL otherwise */
};

/* The engine's random streams: xoshiro256** (Blackman and Vigna, 2018), its four words
 * seeded from one by splitmix64. */
static inline uint64_t eng_xoshiro(uint64_t *s)
{
	uint64_t x = s[1] * 5;
	uint64_t result = ((x << 7) | (x >> 57)) * 9;
	uint64_t t = s[1] << 17;
	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = (s[3] << 45) | (s[3] >> 19);
	return result;
}

static inline void eng_seed(uint64_t *s, uint64_t seed)
{
	uint64_t z = seed;
	for (int i = 0; i < 4; i++) {
		z += 0x9e3779b97f4a7c15ULL;
		uint64_t x = z;
		x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
		x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
		s[i] = x ^ (x >> 31);
	}
}

/* services.c, for engine.c: a task's explicit duration on u (-1 when the trace gives
 * none), and the FPGA reconfiguration it would pay there. */
double eng_explicit_cost(const struct xpu_task *t, const struct xpu_unit *u);
double eng_reconfig(const struct xpu_task *t, const struct xpu_unit *un);
/* 1 when t, on unit u, streams bytes through a memory other units share (unified
 * memory): its memory term shares that memory's bandwidth. */
int eng_shares_bw(const struct xpu_engine *e, const struct xpu_task *t, int u);

/* engine.c services for data.c. */
int eng_set_state(struct xpu_engine *e, struct xpu_task *t, int to);
void eng_mark_dirty(struct xpu_engine *e, int u);
void eng_fatal(struct xpu_engine *e, int rc, const char *what);
void eng_fail_task(struct xpu_engine *e, struct xpu_task *t);
void eng_note_pool(struct xpu_engine *e, int pool);
void eng_inputs_arrived(struct xpu_engine *e, struct xpu_task *t);
/* Memory of pool was freed or can be evicted: units whose head waits there retry. */
void eng_pool_changed(struct xpu_engine *e, int pool);

/* data.c: the copies of every datum (see the file's comment). */
int xpu_data_setup(struct xpu_engine *e);
void xpu_data_teardown(struct xpu_engine *e);
int xpu_data_start(struct xpu_engine *e);
void xpu_data_placed(struct xpu_engine *e, struct xpu_task *t);
int xpu_data_stage(struct xpu_engine *e, struct xpu_task *t);
void xpu_data_unstage(struct xpu_engine *e, struct xpu_task *t);
void xpu_data_unplaced(struct xpu_engine *e, struct xpu_task *t, int unit);
void xpu_data_started(struct xpu_engine *e, struct xpu_task *t);
void xpu_data_ended(struct xpu_engine *e, struct xpu_task *t, int unit, int done);
void xpu_data_wanted(struct xpu_engine *e, struct xpu_task *t);
void xpu_data_copy_done(struct xpu_engine *e, uint64_t cookie, int status);
double xpu_data_arrival(const struct xpu_engine *e, uint32_t datum, int u, double producer_end,
                        int producer_unit);
double xpu_data_pool_used(const struct xpu_engine *e, int pool);
double xpu_data_pool_peak(const struct xpu_engine *e, int pool);
void xpu_data_pool_counts(const struct xpu_engine *e, int pool, uint64_t *evictions,
                          uint64_t *writebacks);
int xpu_data_links(const struct xpu_engine *e, struct xpu_link_stats *out);

/* failures.c: the failure and repair schedule. Setup draws the first changes (after
 * the engine's own setup); next is the time of the earliest change; due applies every
 * change up to now through eng_unit_down and eng_unit_up. */
int xpu_fail_setup(struct xpu_engine *e);
double xpu_fail_next(const struct xpu_engine *e);
void xpu_fail_due(struct xpu_engine *e);
void xpu_fail_teardown(struct xpu_engine *e);
void eng_unit_down(struct xpu_engine *e, int u);
void eng_unit_up(struct xpu_engine *e, int u);

/* thermal.c: every unit's temperature from its thermal node and the timeline's power,
 * once the run has ended: /timeline temp, the units' peak and time over thresholds. */
int xpu_thermal_pass(struct xpu_engine *e);
/* Heat sinks (xpu.thermal.sink): their networks, set up once per run; a unit's network
 * (-1 when it has none); online, bring its network to now and set its power; its
 * temperature now. */
int xpu_thermal_setup(struct xpu_engine *e);
void xpu_thermal_teardown(struct xpu_engine *e);
int xpu_thermal_net(const struct xpu_engine *e, int u);
void xpu_thermal_net_note(struct xpu_engine *e, int u, double P);
double xpu_thermal_net_temp(const struct xpu_engine *e, int u);
/* The node's temperature after dt seconds at power P from T0 (the closed form). */
double xpu_thermal_step(const struct xpu_unit *un, double T0, double P, double dt);

/* The event loop, run inside the backend (body of xpu_backend_ops.run). */
void xpu_engine_loop(void *arg);
int xpu_engine_setup(struct xpu_engine *e);
void xpu_engine_teardown(struct xpu_engine *e);

#endif
