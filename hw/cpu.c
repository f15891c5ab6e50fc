/* cpu.c — the live host-CPU backend: worker threads run each task's class kernel
 * (hw/cpu_kernels.c) for its flops; a unit is one worker, or a group of `cores` workers
 * that runs a task of width w on w of them. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* sched_getaffinity, pthread_setaffinity_np */
#endif
#include <errno.h>
#include <linux/futex.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <hwloc.h>

#include "backend.h"
#include "cpu_kernels.h"
#include "linux_power.h"
#include "platform.h"
#include "xpu.h"

#define LABEL "live:cpu"

/* Modeled per-unit power when RAPL cannot be read. Estimates, not measurements: a
 * mainstream desktop part spends about its TDP over its hardware threads at full load
 * (e.g. 65 W / 16 threads ~ 4 W) and around a quarter of that when idle. */
#define DEFAULT_IDLE_W 1.0
#define DEFAULT_FULL_W 4.0

/* Calibration of each class's kernel: an untimed warm-up lets the core reach its boost
 * clock and faults the buffers in; the rate is then the median of several short timed
 * batches, so one preemption or interrupt during a batch does not skew it. The generic
 * kernel (the units' speed) gets longer batches; about 200 ms in all. */
#define CAL_WARMUP_S       0.010
#define CAL_BATCH_S        0.015
#define CAL_BATCHES        5
#define CAL_CLASS_WARMUP_S 0.002
#define CAL_CLASS_BATCH_S  0.004
#define CAL_CLASS_BATCHES  3

/* Reading RAPL costs a sysfs read per package; the energy is re-apportioned at most
 * once per this many seconds of run time, and read_energy of the other units in the
 * same instant reuse it. */
#define RAPL_MIN_PERIOD 0.001
#define RAPL_MAX_ZONES  16

#define MAX_THREADS 4096

/* Launch-ahead (engine/xpu.h, struct xpu_unit.slots): a one-core unit takes up to AHEAD
 * launches beyond the running one while the work it holds is predicted to last at most
 * AHEAD_S; its worker then goes from one task to the next without waiting for the
 * engine, and the engine collects completions in batches. */
#define DEFAULT_AHEAD      64
#define DEFAULT_AHEAD_S    5e-4
#define DEFAULT_STREAM_MIB 256 /* streamed LLM weights: past this VM's 32 MiB L3, and most */

/* Spinning before sleeping on a futex. The engine waiting for completions looks again
 * for ENGINE_SPIN_NS only: it waits while workers compute, and on a virtual machine two
 * vCPUs may be one physical core's hardware threads (a spinning engine slowed the
 * worker's kernel by 40% on the development VM). A worker whose queue ran dry looks for
 * WORKER_SPIN_NS: it has nothing else to do, and its next task is usually the engine's
 * answer to the completion it just reported; sleeping would add a second kernel
 * wake-up, tens of microseconds on a virtual machine, to that round trip. */
#define ENGINE_SPIN_NS 5000
#define WORKER_SPIN_NS 100000

struct cpu_datum {
	unsigned char *p;
	size_t n;
};

/* One launch (or one part of a wide launch) in a worker's ring. The engine fills it;
 * the worker runs it and writes back its times and status; the engine reads those
 * when it collects the completion, then reuses the slot. */
struct cpu_slot {
	uint64_t cookie;
	double work;  /* flop this worker does */
	double bytes; /* bytes it streams (llm classes; 0: the class's own problem) */
	int cls;
	struct cpu_join *join; /* a part of a wide launch, or NULL */
	double start, end;     /* written by the worker */
	int32_t status;        /* 0, or -ECANCELED when the run stopped it */
	uint32_t emit;         /* the launch's completion event goes out from this slot */
};

/* A wide launch runs as one part per worker of its unit; the last part to end reports
 * it, with the earliest start and the latest end of its parts. */
struct cpu_join {
	uint32_t left;  /* parts still running */
	uint32_t refs;  /* parts that still touch this record */
	int32_t status; /* -ECANCELED when any part was stopped */
	uint64_t start_ns, end_ns;
};

struct cpu;

/* A worker's ring is a single-producer (engine) single-consumer (worker) queue of
 * slots: the engine appends at tail; the worker runs slot head and publishes done; the
 * engine collects completions from seen to done. No lock and no system call on the way
 * unless one side sleeps. Counters only grow; a slot is ring[index & mask]. */
struct cpu_worker {
	struct cpu *c;
	int index;
	pthread_t thread;
	int started;
	struct cpu_slot *ring;
	uint32_t mask;
	/* Written by the engine, read by the worker: */
	uint64_t tail __attribute__((aligned(64)));
	uint32_t wake_seq; /* futex word the worker sleeps on */
	/* Written by the worker, read by the engine: */
	uint64_t done __attribute__((aligned(64)));
	uint32_t sleeping;
	uint64_t busy_ns;   /* nanoseconds of work finished since run started */
	int64_t busy_since; /* ns of the running job's start, or -1 */
	/* Engine thread only: */
	uint64_t seen __attribute__((aligned(64)));
	int wake_pending; /* on the engine's list of workers to wake */
	/* Worker thread only (and the opening thread for calibration): */
	struct cpu_kernels *kern;
};

struct rapl_zone {
	char path[256];
	uint64_t max_uj; /* the counter wraps to 0 past this */
	uint64_t last_uj;
};

struct cpu {
	int n;                        /* worker threads */
	int cores;                    /* workers per unit */
	int nunits;                   /* n / cores */
	double *ubusy_mark, *ujoules; /* per unit: RAPL apportioning */
	double speed;                 /* calibrated flop/s of the generic kernel on one thread */
	double rate[XPU_CLASS_COUNT]; /* ... and of each class's kernel */
	double idle_w, full_w;
	int pin;
	int ncpus;  /* CPUs in the process's affinity mask at open */
	int *cpuid; /* their ids, for pinning unit i to the i-th of them */
	struct timespec t0;
	int ahead;      /* launches a one-core unit takes beyond the running one */
	double ahead_s; /* ... while the work it holds is predicted to last at most this */
	int stream;     /* it holds the streamed weights (xpu_cpu_stream_open) */
	/* Data: each datum the engine places in host memory is a real allocation, every
	 * page touched (indexed by datum; the backend's units share one memory). */
	struct cpu_datum *data;
	uint32_t ndata;
	double data_bytes;  /* bytes allocated now */
	double data_budget; /* refuse beyond this (of MemAvailable at open), 0: none */
	/* Workers with completions the engine has not collected: one bit each. */
	uint64_t *pending;
	int npending_words;
	/* The engine's futex: it sleeps on eng_seq with eng_sleeping set; a worker clears
	 * the flag and bumps the word to wake it. */
	uint32_t eng_seq __attribute__((aligned(64)));
	uint32_t eng_sleeping;
	uint32_t idle_workers; /* workers whose ring is empty */
	/* Engine thread only: */
	int inflight;   /* launches whose completion has not been collected */
	int *wake_list; /* workers given work while asleep, woken at the next wait */
	int nwake;
	struct xpu_event *copies; /* copy completions (immediate: one memory) */
	int ncopies, copies_cap;
	/* Engine thread only: */
	int running;
	double t_end; /* now() outside run: where the last run ended, 0 before any */
	int nrapl;
	struct rapl_zone rapl[RAPL_MAX_ZONES];
	double rapl_at; /* run time of the last apportioning, -1 for none yet */
	double *snap;   /* per-unit busy snapshot */
	/* Read by workers without the lock while they compute. */
	int stop;
	struct cpu_worker *w;
	char controls[384]; /* cpu_controls, probed on first use */
	/* Linux's controls (hw/linux_power.c): each unit's cpufreq frequencies as its
	 * P-states, fastest first (P0 is the calibrated speed; one P-state without
	 * cpufreq or pinning), and the modeled energy folded at each P-state change. */
	struct xpu_lpw *lpw;
	uint32_t *khz; /* nunits x XPU_LPW_MAX_FREQS */
	int *nfreq, *ps;
	double *mj, *mmark;   /* per unit: modeled busy joules so far, busy seconds then */
	const char *freq_why; /* why P-states cannot be applied, NULL when they can */
};

/* ------------------------------------------------------------------ the kernel */

static double mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Flop/s of cls's kernel while running for about secs seconds (whole repetitions). */
static double class_rate(struct cpu_kernels *k, int cls, double secs)
{
	double unit = xpu_cpu_kernel_flops(cls), t0 = mono(), el, work = 0;

	do {
		if (xpu_cpu_kernel_run(k, cls, unit, 0, NULL) < 0)
			return 0;
		work += unit;
		el = mono() - t0;
	} while (el < secs);
	return work / el;
}

static int cmp_double(const void *x, const void *y)
{
	double a = *(const double *)x, b = *(const double *)y;

	return (a > b) - (a < b);
}

/* Flop/s of cls's kernel on the calling thread: the median batch after a warm-up. */
static double calibrate(struct cpu_kernels *k, int cls)
{
	int generic = cls == XPU_CLASS_GENERIC;
	int n = generic ? CAL_BATCHES : CAL_CLASS_BATCHES;
	double rate[CAL_BATCHES];

	class_rate(k, cls, generic ? CAL_WARMUP_S : CAL_CLASS_WARMUP_S);
	for (int i = 0; i < n; i++)
		rate[i] = class_rate(k, cls, generic ? CAL_BATCH_S : CAL_CLASS_BATCH_S);
	qsort(rate, (size_t)n, sizeof(rate[0]), cmp_double);
	return rate[n / 2];
}

/* ------------------------------------------------------------------ clock and events */

static struct cpu *cpu_of(struct xpu_backend *be)
{
	return be->priv;
}

/* Nanoseconds since run started. Workers call it too: t0 is written before they start. */
static int64_t ns_since_t0(const struct cpu *c)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)(ts.tv_sec - c->t0.tv_sec) * 1000000000LL +
	       (int64_t)(ts.tv_nsec - c->t0.tv_nsec);
}

static double since_t0(const struct cpu *c)
{
	return 1e-9 * (double)ns_since_t0(c);
}

static void futex_wait(uint32_t *word, uint32_t val, const struct timespec *rel)
{
	syscall(SYS_futex, word, FUTEX_WAIT_PRIVATE, val, rel, NULL, 0);
}

static void futex_wake(uint32_t *word, int n)
{
	syscall(SYS_futex, word, FUTEX_WAKE_PRIVATE, n, NULL, NULL, 0);
}

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield");
#endif
}

/* Wake the engine when it sleeps; 1 when it did. */
static int wake_engine(struct cpu *c)
{
	if (__atomic_load_n(&c->eng_sleeping, __ATOMIC_SEQ_CST) &&
	    __atomic_exchange_n(&c->eng_sleeping, 0, __ATOMIC_SEQ_CST)) {
		__atomic_add_fetch(&c->eng_seq, 1, __ATOMIC_SEQ_CST);
		futex_wake(&c->eng_seq, 1);
		return 1;
	}
	return 0;
}

/* Wake worker w when it sleeps. */
static void wake_worker(struct cpu_worker *w)
{
	if (__atomic_exchange_n(&w->sleeping, 0, __ATOMIC_SEQ_CST)) {
		__atomic_add_fetch(&w->wake_seq, 1, __ATOMIC_SEQ_CST);
		futex_wake(&w->wake_seq, 1);
	}
}

/* ------------------------------------------------------------------ workers */

/* Wait until the ring has a slot past head or the run stops: spin a little, then sleep.
 * Returns the tail seen, or head when stopping. */
static uint64_t worker_idle(struct cpu_worker *w, uint64_t head)
{
	struct cpu *c = w->c;
	uint64_t tail;
	int64_t t0 = -1;

	__atomic_add_fetch(&c->idle_workers, 1, __ATOMIC_SEQ_CST);
	wake_engine(c); /* it may have work for an idle worker */
	for (;;) {
		for (int i = 0; i < 64; i++) {
			tail = __atomic_load_n(&w->tail, __ATOMIC_ACQUIRE);
			if (tail != head || __atomic_load_n(&c->stop, __ATOMIC_RELAXED))
				goto out;
			cpu_relax();
		}
		int64_t t = ns_since_t0(c);
		if (t0 < 0)
			t0 = t;
		if (t - t0 < WORKER_SPIN_NS)
			continue;
		uint32_t seq = __atomic_load_n(&w->wake_seq, __ATOMIC_SEQ_CST);
		__atomic_store_n(&w->sleeping, 1, __ATOMIC_SEQ_CST);
		tail = __atomic_load_n(&w->tail, __ATOMIC_SEQ_CST);
		if (tail != head || __atomic_load_n(&c->stop, __ATOMIC_SEQ_CST)) {
			__atomic_store_n(&w->sleeping, 0, __ATOMIC_SEQ_CST);
			goto out;
		}
		futex_wait(&w->wake_seq, seq, NULL);
		__atomic_store_n(&w->sleeping, 0, __ATOMIC_SEQ_CST);
		t0 = -1;
	}
out:
	__atomic_sub_fetch(&c->idle_workers, 1, __ATOMIC_SEQ_CST);
	return __atomic_load_n(&c->stop, __ATOMIC_RELAXED) ? head : tail;
}

/* The last part of a wide launch to end reports it; the record goes with the last
 * part to let go of it. */
static int join_part_done(struct cpu_slot *sl, int64_t start, int64_t end)
{
	struct cpu_join *j = sl->join;
	uint64_t s = (uint64_t)start, e = (uint64_t)end, cur;

	if (sl->status)
		__atomic_store_n(&j->status, sl->status, __ATOMIC_RELAXED);
	cur = __atomic_load_n(&j->start_ns, __ATOMIC_RELAXED);
	while (s < cur && !__atomic_compare_exchange_n(&j->start_ns, &cur, s, 1, __ATOMIC_RELAXED,
	                                               __ATOMIC_RELAXED))
		;
	cur = __atomic_load_n(&j->end_ns, __ATOMIC_RELAXED);
	while (e > cur && !__atomic_compare_exchange_n(&j->end_ns, &cur, e, 1, __ATOMIC_RELAXED,
	                                               __ATOMIC_RELAXED))
		;
	int last = __atomic_sub_fetch(&j->left, 1, __ATOMIC_ACQ_REL) == 0;
	if (last) {
		sl->start = 1e-9 * (double)__atomic_load_n(&j->start_ns, __ATOMIC_RELAXED);
		sl->end = 1e-9 * (double)__atomic_load_n(&j->end_ns, __ATOMIC_RELAXED);
		sl->status = __atomic_load_n(&j->status, __ATOMIC_RELAXED);
	}
	if (__atomic_sub_fetch(&j->refs, 1, __ATOMIC_ACQ_REL) == 0)
		free(j);
	sl->join = NULL;
	return last;
}

static void *worker_main(void *arg)
{
	struct cpu_worker *w = arg;
	struct cpu *c = w->c;
	uint64_t head = __atomic_load_n(&w->done, __ATOMIC_RELAXED);
	uint64_t tail = head;
	uint64_t high = 0; /* the most launches seen queued since the engine was last woken */

	for (;;) {
		if (head == tail) {
			tail = worker_idle(w, head);
			if (head == tail)
				break; /* stopping */
		}
		struct cpu_slot *sl = &w->ring[head & w->mask];
		int64_t start = ns_since_t0(c);
		__atomic_store_n(&w->busy_since, start, __ATOMIC_RELAXED);
		int krc = xpu_cpu_kernel_run(w->kern, sl->cls, sl->work, sl->bytes, &c->stop);
		int64_t end = ns_since_t0(c);
		__atomic_store_n(&w->busy_since, -1, __ATOMIC_RELAXED);
		__atomic_store_n(&w->busy_ns, w->busy_ns + (uint64_t)(end - start),
		                 __ATOMIC_RELAXED);
		sl->status = krc;
		if (sl->join) {
			sl->emit = join_part_done(sl, start, end);
		} else {
			sl->start = 1e-9 * (double)start;
			sl->end = 1e-9 * (double)end;
			sl->emit = 1;
		}
		head++;
		__atomic_store_n(&w->done, head, __ATOMIC_SEQ_CST);
		uint64_t *word = &c->pending[w->index >> 6];
		uint64_t bit = (uint64_t)1 << (w->index & 63);
		if (!(__atomic_load_n(word, __ATOMIC_SEQ_CST) & bit))
			__atomic_fetch_or(word, bit, __ATOMIC_SEQ_CST);
		/* Wake a sleeping engine only when it is needed: this queue is down to half
		 * of what it held (the engine then refills it while the rest runs, one wake
		 * for a batch of completions), or another worker is idle and the completion
		 * may have freed work for it. */
		tail = __atomic_load_n(&w->tail, __ATOMIC_ACQUIRE);
		uint64_t left = tail - head, low = high / 2 > 1 ? high / 2 : 1;
		if (left > high)
			high = left;
		if ((left <= low || __atomic_load_n(&c->idle_workers, __ATOMIC_RELAXED)) &&
		    wake_engine(c))
			high = left;
	}
	return NULL;
}

/* ------------------------------------------------------------------ energy */

static int rapl_read(const char *path, uint64_t *uj)
{
	unsigned long long v = 0;
	int rc = xpu_lpw_read_u64(path, &v);
	*uj = v; /* 0 when unreadable */
	return rc;
}

/* Find the readable RAPL package zones under root (intel-rapl:0, :1, ...; AMD parts
 * use the same names). Since Linux 5.10 energy_uj is readable by root only (the
 * Platypus side channel, CVE-2020-8694), so unprivileged runs fall back to the model. */
static void rapl_probe(struct cpu *c, const char *root)
{
	c->nrapl = 0;
	for (int z = 0; z < RAPL_MAX_ZONES; z++) {
		struct rapl_zone *rz = &c->rapl[c->nrapl];
		char maxp[300];
		uint64_t v;

		snprintf(rz->path, sizeof(rz->path), "%s/intel-rapl:%d/energy_uj", root, z);
		snprintf(maxp, sizeof(maxp), "%s/intel-rapl:%d/max_energy_range_uj", root, z);
		if (rapl_read(rz->path, &v) < 0 || rapl_read(maxp, &rz->max_uj) < 0)
			break;
		rz->last_uj = v;
		c->nrapl++;
	}
}

/* Microjoules the packages consumed since the previous call. A counter below its last
 * value has wrapped once past max_energy_range_uj; reads must come more often than one
 * wrap period (tens of minutes at full package power), which the engine's ticks ensure. */
static int rapl_delta(struct cpu *c, double *uj)
{
	*uj = 0;
	for (int z = 0; z < c->nrapl; z++) {
		struct rapl_zone *rz = &c->rapl[z];
		uint64_t v;
		int rc = rapl_read(rz->path, &v);

		if (rc < 0)
			return rc;
		if (v >= rz->last_uj)
			*uj += (double)(v - rz->last_uj);
		else
			*uj += (double)(rz->max_uj - rz->last_uj) + (double)v;
		rz->last_uj = v;
	}
	return 0;
}

/* Busy seconds of every unit since run started, as of now. */
static void snapshot_busy(struct cpu *c)
{
	int64_t t = c->running ? ns_since_t0(c) : (int64_t)(c->t_end * 1e9);
	for (int u = 0; u < c->nunits; u++) {
		double ns = 0;
		for (int k = u * c->cores; k < (u + 1) * c->cores; k++) {
			struct cpu_worker *w = &c->w[k];
			int64_t since = __atomic_load_n(&w->busy_since, __ATOMIC_RELAXED);
			ns += (double)__atomic_load_n(&w->busy_ns, __ATOMIC_RELAXED);
			if (since >= 0 && t > since)
				ns += (double)(t - since);
		}
		c->snap[u] = 1e-9 * ns;
	}
}

/* Split the package energy consumed since the last call among the units in proportion to
 * the busy time each gained meanwhile (evenly when none was busy). Each unit's figure is
 * thus a sum of non-negative increments, and all units together account for exactly the
 * packages' energy, idle and uncore power included. */
static int rapl_apportion(struct cpu *c)
{
	double uj, total = 0;
	int rc = rapl_delta(c, &uj);

	if (rc < 0)
		return rc;
	snapshot_busy(c);
	for (int u = 0; u < c->nunits; u++)
		total += c->snap[u] - c->ubusy_mark[u];
	for (int u = 0; u < c->nunits; u++) {
		double share =
		    total > 0 ? (c->snap[u] - c->ubusy_mark[u]) / total : 1.0 / c->nunits;
		c->ujoules[u] += 1e-6 * uj * share;
		c->ubusy_mark[u] = c->snap[u];
	}
	return 0;
}

/* ------------------------------------------------------------------ parameters */

static const char *const cpu_params[] = {"threads", "cores",      "units",    "idle_w",
                                         "full_w",  "pin",        "powercap", "ahead",
                                         "ahead_s", "stream_mib", "sysfs",    NULL};

/* The same, with types and ranges, for --backend 'cpu:...' and listings; open checks
 * the values again with the machine's own limits. */
static const struct xpu_param_spec cpu_param_specs[] = {
    {"threads", XPU_PARAM_INT, 1, MAX_THREADS,
     "worker threads (default: the CPUs this process may use)"},
    {"cores", XPU_PARAM_INT, 1, MAX_THREADS,
     "workers per unit, a divisor of threads (default 1: one unit per thread)"},
    {"units", XPU_PARAM_INT, 1, MAX_THREADS,
     "units the workers are grouped into, each of threads/units workers (the other way "
     "to give cores; default: one unit per thread)"},
    {"idle_w", XPU_PARAM_NUMBER, 0, 1e6,
     "modeled watts of an idle unit when RAPL is absent (default 1)"},
    {"full_w", XPU_PARAM_NUMBER, 0, 1e6,
     "modeled watts of a busy unit when RAPL is absent (default 4)"},
    {"pin", XPU_PARAM_INT, 0, 1,
     "pin worker i to the i-th allowed CPU, one per core first (hwloc; default 1)"},
    {"powercap", XPU_PARAM_TEXT, 0, 0, "RAPL powercap directory (default SYSFS/class/powercap)"},
    {"sysfs", XPU_PARAM_TEXT, 0, 0,
     "where sysfs is mounted, for cpufreq P-states, RAPL limits and temperatures (default "
     "/sys)"},
    {"ahead", XPU_PARAM_INT, 0, 4096,
     "launches a one-core unit queues beyond the running one, so its worker never waits "
     "for the engine between short tasks (default 64; 0: none)"},
    {"ahead_s", XPU_PARAM_NUMBER, 0, 1e6,
     "... while the work queued there is predicted to last at most this many seconds "
     "(default 5e-4)"},
    {"stream_mib", XPU_PARAM_INT, 0, 65536,
     "MiB of weights llm-prefill and llm-decode launches with bytes stream from memory, "
     "allocated and filled at open (default 256, at most a sixteenth of the memory; 0: "
     "none, their bytes are then ignored)"},
    {NULL, 0, 0, 0, NULL},
};

/* A numeric parameter: def when absent, -EINVAL with err when present but not a number
 * in [lo, hi]. */
static int param_num(struct xpu_backend *be, const char *key, double def, double lo, double hi,
                     double *out, struct xpu_err *err)
{
	const char *s = xpu_param_str(be->param, be->nparams, key, NULL);
	double v = xpu_param_num(be->param, be->nparams, key, NAN);

	if (!s) {
		*out = def;
		return 0;
	}
	if (isnan(v) || v < lo || v > hi)
		return xpu_errf(err, LABEL, 0,
		                "parameter '%s': expected a number in [%g, %g], got \"%s\"", key,
		                lo, hi, s);
	*out = v;
	return 0;
}

/* Parameter `units`, the other way to group the workers: U units of threads/U workers
 * each. With cores also given, threads (when absent) is units x cores, and must be when
 * given; threads, when absent and cores is not given either, stays the machine's CPUs. */
static int group_units(struct xpu_backend *be, double *threads, double *cores, struct xpu_err *err)
{
	double units;
	int rc = param_num(be, "units", 0, 1, MAX_THREADS, &units, err);
	if (rc < 0 || units == 0)
		return rc;
	if (units != floor(units))
		return xpu_errf(err, LABEL, 0, "parameter 'units': expected an integer, got %g",
		                units);
	int has_threads = xpu_param_str(be->param, be->nparams, "threads", NULL) != NULL;
	int has_cores = xpu_param_str(be->param, be->nparams, "cores", NULL) != NULL;
	if (has_cores && !has_threads) {
		if (units * *cores > MAX_THREADS)
			return xpu_errf(
			    err, LABEL, 0,
			    "parameters 'units' x 'cores': expected at most %d workers, "
			    "got %g",
			    MAX_THREADS, units * *cores);
		*threads = units * *cores;
		return 0;
	}
	if (has_cores && units * *cores != *threads)
		return xpu_errf(err, LABEL, 0,
		                "parameters 'units' (%g) x 'cores' (%g): expected threads (%g)",
		                units, *cores, *threads);
	if (fmod(*threads, units) != 0)
		return xpu_errf(err, LABEL, 0,
		                "parameter 'units': expected a whole divisor of threads (%g%s), "
		                "got %g",
		                *threads, has_threads ? "" : ": the CPUs this process may use",
		                units);
	*cores = *threads / units;
	return 0;
}

static int check_param_names(struct xpu_backend *be, struct xpu_err *err)
{
	for (int i = 0; i < be->nparams; i++) {
		int known = 0;
		for (const char *const *k = cpu_params; *k; k++)
			known |= !strcmp(be->param[i].key, *k);
		if (!known)
			return xpu_errf(
			    err, LABEL, 0,
			    "unknown parameter '%s': expected threads, cores, units, idle_w, "
			    "full_w, pin, powercap, sysfs, ahead, ahead_s or "
			    "stream_mib",
			    be->param[i].key);
	}
	return 0;
}

/* ------------------------------------------------------------------ platform */

/* A /proc/meminfo figure ("MemTotal", "MemAvailable") in bytes, 0 when unreadable. */
static double meminfo(const char *key)
{
	FILE *f = fopen("/proc/meminfo", "r");
	char line[256];
	double kib = 0;
	size_t k = strlen(key);

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, k) && line[k] == ':' &&
		    sscanf(line + k + 1, "%lf kB", &kib) == 1)
			break;
	fclose(f);
	return kib * 1024.0;
}

/* Frees what build_platform allocated; the same ownership xpu_platform_free assumes. */
static void release_platform(struct xpu_platform *pf)
{
	xpu_platform_free(pf);
}

/* P-state k of unit u: the calibrated speed (P0) scaled by the frequency, and the
 * modeled power: idle as at P0, the dynamic part (full - idle) as f V^2 with the
 * voltage following the frequency over the DVFS range, i.e. (f / f0)^3. A model, not
 * a measurement: with RAPL the energy is measured. */
static struct xpu_pstate pstate_of(const struct cpu *c, int u, int k)
{
	double r = 1;
	if (k > 0 && c->nfreq && k < c->nfreq[u])
		r = (double)c->khz[(size_t)u * XPU_LPW_MAX_FREQS + k] /
		    c->khz[(size_t)u * XPU_LPW_MAX_FREQS];
	double idle = c->idle_w * c->cores;
	return (struct xpu_pstate){
	    .speed = c->speed * r,
	    .idle_w = idle,
	    .epsilon_w = idle,
	    .full_w = idle + (c->full_w - c->idle_w) * c->cores * r * r * r,
	};
}

/* nunits identical CPU units of `cores` cores each, sharing one host memory pool: no
 * copies between them, so no route is ever asked for. A unit's modeled watts are its
 * cores' (idle_w and full_w are per core). */
static int build_platform(const struct cpu *c, struct xpu_platform *pf)
{
	memset(pf, 0, sizeof(*pf));
	pf->path = strdup(LABEL);
	pf->units = calloc((size_t)c->nunits, sizeof(*pf->units));
	pf->pools = calloc(1, sizeof(*pf->pools));
	if (!pf->path || !pf->units || !pf->pools || xpu_platform_finish_units(pf, NULL, NULL))
		goto nomem;
	pf->npools = 1;
	pf->pools[0].name = strdup("host");
	if (!pf->pools[0].name)
		goto nomem;
	pf->pools[0].capacity = meminfo("MemTotal");

	for (int i = 0; i < c->nunits; i++) {
		struct xpu_unit *u = &pf->units[i];
		char name[32];

		pf->nunits = i + 1;
		snprintf(name, sizeof(name), "cpu%d", i);
		u->name = strdup(name);
		int np = c->nfreq && c->nfreq[i] > 1 ? c->nfreq[i] : 1;
		u->pstates = malloc((size_t)np * sizeof(*u->pstates));
		if (!u->name || !u->pstates)
			goto nomem;
		u->index = i;
		u->kind = XPU_KIND_CPU;
		u->loaded_bitstream = -1;
		for (int c = 0; c < XPU_CLASS_COUNT; c++)
			u->bitstream[c] = -1;
		u->cores = c->cores;
		if (c->cores == 1 && c->ahead > 0) {
			u->slots = 1 + c->ahead;
			u->ahead_s = c->ahead_s;
		}
		u->npstates = np;
		for (int k = 0; k < np; k++)
			u->pstates[k] = pstate_of(c, i, k);
		u->mem_pool = 0;
		u->has_class_props = 1; /* each class at its kernel's calibrated rate */
		for (int k = 0; k < XPU_CLASS_COUNT; k++)
			u->cls[k] = (struct xpu_class_cap){
			    .supported = 1, .peak = c->rate[k], .efficiency = 1.0};
	}
	return 0;
nomem:
	release_platform(pf);
	return -ENOMEM;
}

/* ------------------------------------------------------------------ ops */

#define DATA_MAP_MIN ((size_t)64 << 10) /* data from this size are mapped, not malloc'ed */

static void datum_release(struct cpu_datum *d)
{
	if (d->n >= DATA_MAP_MIN)
		munmap(d->p, d->n);
	else
		free(d->p);
	*d = (struct cpu_datum){0};
}

static void cpu_close(struct xpu_backend *be);

/* CPUs this process may run on, listed into c->cpuid; 0 when unknown. */
/* The CPUs this process may run on, listed into c->cpuid in the order workers take
 * them: through hwloc's topology, one hardware thread of every core first, then the
 * cores' second threads, and so on, so that N workers on N cores never share a core's
 * execution units while another core idles; in id order when the topology cannot be
 * read. 0 when unknown. */
static int affinity_cpus(struct cpu *c)
{
	cpu_set_t set;
	int n = 0, total;

	if (sched_getaffinity(0, sizeof(set), &set) < 0)
		return 0;
	total = CPU_COUNT(&set);
	c->cpuid = malloc(sizeof(int) * (size_t)total);
	char *taken = calloc(CPU_SETSIZE, 1);
	if (!c->cpuid || !taken) {
		free(taken);
		return 0;
	}
	hwloc_topology_t topo;
	if (hwloc_topology_init(&topo) == 0) {
		if (hwloc_topology_load(topo) == 0) {
			int ncores = hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_CORE);
			for (int pass = 0, more = 1; more && n < total; pass++) {
				more = 0;
				for (int k = 0; k < ncores && n < total; k++) {
					hwloc_obj_t core =
					    hwloc_get_obj_by_type(topo, HWLOC_OBJ_CORE, k);
					int seen = 0, pu;
					hwloc_bitmap_foreach_begin(pu, core->cpuset)
					{
						if (pu >= 0 && pu < CPU_SETSIZE &&
						    CPU_ISSET(pu, &set) && seen++ == pass) {
							if (!taken[pu]) {
								taken[pu] = 1;
								c->cpuid[n++] = pu;
							}
							more = 1;
						}
					}
					hwloc_bitmap_foreach_end();
				}
			}
		}
		hwloc_topology_destroy(topo);
	}
	for (int i = 0; i < CPU_SETSIZE && n < total; i++) /* any the topology left out */
		if (CPU_ISSET(i, &set) && !taken[i])
			c->cpuid[n++] = i;
	free(taken);
	return n;
}

static int cpu_open(struct xpu_backend *be, const char *path, struct xpu_platform *pf,
                    struct xpu_err *err)
{
	struct cpu *c;
	double threads, pin, deflt, ahead = DEFAULT_AHEAD;
	int rc;

	be->priv = NULL;
	if (path)
		return xpu_errf(
		    err, path, 0,
		    "live mode describes this machine itself; --platform applies to simulation");
	rc = check_param_names(be, err);
	if (rc < 0)
		return rc;

	if (posix_memalign((void **)&c, 64, sizeof(*c)))
		return -ENOMEM;
	memset(c, 0, sizeof(*c));
	be->priv = c;
	c->rapl_at = -1;

	/* Default to the CPUs this process may use (taskset, cgroup cpusets), which is what
	 * sysconf's online count means on an unrestricted machine. */
	c->ncpus = affinity_cpus(c);
	deflt = c->ncpus > 0 ? c->ncpus : (double)sysconf(_SC_NPROCESSORS_ONLN);
	if (deflt < 1)
		deflt = 1;
	rc = param_num(be, "threads", deflt, 1, MAX_THREADS, &threads, err);
	if (rc == 0 && threads != floor(threads))
		rc = xpu_errf(err, LABEL, 0, "parameter 'threads': expected an integer, got %g",
		              threads);
	if (rc == 0)
		rc = param_num(be, "idle_w", DEFAULT_IDLE_W, 0, 1e6, &c->idle_w, err);
	if (rc == 0)
		rc = param_num(be, "full_w", fmax(DEFAULT_FULL_W, c->idle_w), 0, 1e6, &c->full_w,
		               err);
	if (rc == 0 && c->full_w < c->idle_w)
		rc = xpu_errf(err, LABEL, 0,
		              "parameter 'full_w': expected at least idle_w (%g W), got %g W",
		              c->idle_w, c->full_w);
	/* Pinning unit i to the i-th allowed CPU makes "cpu3" one real core; oversubscribed,
	 * the OS balances better than a fixed map. */
	if (rc == 0)
		rc = param_num(be, "pin", 1, 0, 1, &pin, err);
	double cores = 1;
	if (rc == 0)
		rc = param_num(be, "cores", 1, 1, MAX_THREADS, &cores, err);
	if (rc == 0)
		rc = group_units(be, &threads, &cores, err);
	if (rc == 0 && (cores != floor(cores) || fmod(threads, cores) != 0))
		rc = xpu_errf(err, LABEL, 0,
		              "parameter 'cores': expected a whole divisor of threads (%g), got %g",
		              threads, cores);
	if (rc == 0)
		rc = param_num(be, "ahead", DEFAULT_AHEAD, 0, 4096, &ahead, err);
	if (rc == 0 && ahead != floor(ahead))
		rc = xpu_errf(err, LABEL, 0, "parameter 'ahead': expected an integer, got %g",
		              ahead);
	if (rc == 0)
		rc = param_num(be, "ahead_s", DEFAULT_AHEAD_S, 0, 1e6, &c->ahead_s, err);
	double stream_mib = DEFAULT_STREAM_MIB, mem = meminfo("MemTotal");
	if (mem > 0 && mem / 16 < stream_mib * 1048576.0)
		stream_mib = floor(mem / 16 / 1048576.0);
	if (rc == 0)
		rc = param_num(be, "stream_mib", stream_mib, 0, 65536, &stream_mib, err);
	if (rc == 0 && stream_mib != floor(stream_mib))
		rc = xpu_errf(err, LABEL, 0, "parameter 'stream_mib': expected an integer, got %g",
		              stream_mib);
	if (rc < 0)
		goto fail;
	/* The streamed weights, filled here so that no task pays for it. */
	if (xpu_cpu_stream_open((size_t)stream_mib << 20) < 0) {
		rc = xpu_errf(err, LABEL, 0,
		              "cannot allocate the %g MiB of streamed weights (parameter "
		              "stream_mib)",
		              stream_mib);
		goto fail;
	}
	c->stream = 1;
	c->data_budget = 0.8 * meminfo("MemAvailable");
	c->ahead = (int)ahead;
	c->n = (int)threads;
	c->cores = (int)cores;
	c->nunits = c->n / c->cores;
	c->pin = pin != 0 && c->ncpus >= c->n;

	if (posix_memalign((void **)&c->w, 64, (size_t)c->n * sizeof(*c->w)))
		c->w = NULL;
	else
		memset(c->w, 0, (size_t)c->n * sizeof(*c->w));
	c->npending_words = (c->n + 63) / 64;
	c->pending = calloc((size_t)c->npending_words, sizeof(uint64_t));
	c->wake_list = calloc((size_t)c->n, sizeof(int));
	c->snap = calloc((size_t)c->n, sizeof(double));
	c->ubusy_mark = calloc((size_t)c->n, sizeof(double));
	c->ujoules = calloc((size_t)c->n, sizeof(double));
	if (!c->w || !c->pending || !c->wake_list || !c->snap || !c->ubusy_mark || !c->ujoules)
		goto nomem;
	/* A ring holds the launches a worker was given and the completions the engine
	 * has not collected: the running one, those queued ahead, and as many again. */
	uint32_t cap = 4;
	while (cap < 2u * (uint32_t)(c->cores == 1 ? c->ahead + 1 : 1) + 2u)
		cap *= 2;
	for (int i = 0; i < c->n; i++) {
		struct cpu_worker *w = &c->w[i];
		w->c = c;
		w->index = i;
		w->busy_since = -1;
		w->mask = cap - 1;
		w->ring = calloc(cap, sizeof(*w->ring));
		w->kern = xpu_cpu_kernels_new();
		if (!w->kern || !w->ring) {
			xpu_cpu_kernels_free(w->kern);
			free(w->ring);
			w->kern = NULL;
			w->ring = NULL;
			goto nomem;
		}
	}

	/* Worker 0's buffers serve the calibration (the others' are allocated on their first
	 * task of each class). */
	for (int k = 0; k < XPU_CLASS_COUNT; k++)
		if (!((c->rate[k] = calibrate(c->w[0].kern, k)) > 0))
			goto nomem; /* its buffers could not be allocated */
	c->speed = c->rate[XPU_CLASS_GENERIC];
	const char *sysfs = xpu_param_str(be->param, be->nparams, "sysfs", "/sys");
	char pcdef[300];
	snprintf(pcdef, sizeof(pcdef), "%s/class/powercap", sysfs);
	const char *powercap = xpu_param_str(be->param, be->nparams, "powercap", pcdef);
	rapl_probe(c, powercap);
	if (!(c->lpw = xpu_lpw_open(sysfs, powercap)))
		goto nomem;
	c->khz = calloc((size_t)c->nunits * XPU_LPW_MAX_FREQS, sizeof(*c->khz));
	c->nfreq = calloc((size_t)c->nunits, sizeof(int));
	c->ps = calloc((size_t)c->nunits, sizeof(int));
	c->mj = calloc((size_t)c->nunits, sizeof(double));
	c->mmark = calloc((size_t)c->nunits, sizeof(double));
	if (!c->khz || !c->nfreq || !c->ps || !c->mj || !c->mmark)
		goto nomem;
	/* P-states from cpufreq, for units whose workers are pinned (a floating thread has
	 * no frequency of its own to set). */
	c->freq_why = "workers not pinned (pin=0, or more threads than CPUs)";
	for (int u = 0; c->pin && u < c->nunits; u++) {
		const int *cpus = &c->cpuid[u * c->cores];
		c->nfreq[u] =
		    xpu_lpw_freqs(c->lpw, cpus, c->cores, &c->khz[(size_t)u * XPU_LPW_MAX_FREQS],
		                  XPU_LPW_MAX_FREQS);
		if (u == 0)
			xpu_lpw_freq_writable(c->lpw, cpus[0], &c->freq_why);
	}

	rc = build_platform(c, pf);
	if (rc < 0)
		goto fail;
	return 0;
nomem:
	rc = -ENOMEM;
fail:
	cpu_close(be);
	return rc;
}

static int cpu_run(struct xpu_backend *be, void (*body)(void *), void *arg)
{
	struct cpu *c = cpu_of(be);
	int rc = 0;

	if (!c || !body)
		return -EINVAL;
	if (c->running)
		return -EBUSY;

	/* A fresh run: clock, rings, busy times, energy; whatever a previous run left goes. */
	for (int u = 0; u < c->n; u++) {
		struct cpu_worker *w = &c->w[u];
		w->tail = w->done = w->seen = 0;
		w->busy_ns = 0;
		w->busy_since = -1;
		w->sleeping = 0;
		w->wake_pending = 0;
	}
	memset(c->pending, 0, (size_t)c->npending_words * sizeof(uint64_t));
	c->nwake = c->ncopies = c->inflight = 0;
	c->eng_sleeping = c->idle_workers = 0;
	for (int u = 0; u < c->nunits; u++)
		c->ubusy_mark[u] = c->ujoules[u] = c->mj[u] = c->mmark[u] = 0;
	if (c->nrapl > 0) {
		double ignored;
		if (rapl_delta(c, &ignored) < 0)
			c->nrapl = 0; /* the counters went away: fall back to the model */
	}
	c->rapl_at = -1;
	c->stop = 0;
	clock_gettime(CLOCK_MONOTONIC, &c->t0);
	c->running = 1;

	for (int u = 0; u < c->n; u++) {
		struct cpu_worker *w = &c->w[u];
		int e = pthread_create(&w->thread, NULL, worker_main, w);
		if (e) {
			rc = -e;
			break;
		}
		w->started = 1;
		if (c->pin) {
			cpu_set_t set;
			CPU_ZERO(&set);
			CPU_SET(c->cpuid[u], &set);
			pthread_setaffinity_np(w->thread, sizeof(set), &set); /* best effort */
		}
	}

	/* With CPUs to spare, the engine (this thread) runs on those the workers leave, so
	 * that the scheduler never puts it on a worker's core. */
	cpu_set_t saved;
	int moved = 0;
	if (rc == 0 && c->pin && c->n < c->ncpus &&
	    pthread_getaffinity_np(pthread_self(), sizeof(saved), &saved) == 0) {
		cpu_set_t rest;
		CPU_ZERO(&rest);
		for (int i = c->n; i < c->ncpus; i++)
			CPU_SET(c->cpuid[i], &rest);
		moved = pthread_setaffinity_np(pthread_self(), sizeof(rest), &rest) == 0;
	}

	if (rc == 0)
		body(arg);
	if (moved)
		pthread_setaffinity_np(pthread_self(), sizeof(saved), &saved);

	__atomic_store_n(&c->stop, 1, __ATOMIC_SEQ_CST);
	for (int u = 0; u < c->n; u++)
		if (c->w[u].started) {
			wake_worker(&c->w[u]);
			pthread_join(c->w[u].thread, NULL);
			c->w[u].started = 0;
		}

	/* Launches that never started are dropped with the run; wide launches' records go
	 * with them (each part left holds a reference). */
	for (int u = 0; u < c->n; u++) {
		struct cpu_worker *w = &c->w[u];
		for (uint64_t i = w->done; i != w->tail; i++) {
			struct cpu_slot *sl = &w->ring[i & w->mask];
			if (sl->join &&
			    __atomic_sub_fetch(&sl->join->refs, 1, __ATOMIC_ACQ_REL) == 0)
				free(sl->join);
			sl->join = NULL;
		}
	}
	c->inflight = 0;
	c->t_end = since_t0(c);
	if (c->nrapl > 0 && rapl_apportion(c) < 0)
		c->nrapl = 0;
	c->running = 0;
	return rc;
}

static double cpu_now(struct xpu_backend *be)
{
	struct cpu *c = cpu_of(be);

	return c->running ? since_t0(c) : c->t_end;
}

/* The flop one worker does for a launch: its share of the task's flops, or when the
 * trace gave only a duration, that duration at its class kernel's calibrated rate; and
 * its share of the bytes the task streams (those of a launch with flops). */
static int launch_work(const struct cpu *c, const struct xpu_launch *l, double *work, double *bytes)
{
	if (!(l->flops >= 0) || isinf(l->flops) || l->cls < 0 || l->cls >= XPU_CLASS_COUNT ||
	    !(l->bytes >= 0) || isinf(l->bytes))
		return -EINVAL;
	*bytes = 0;
	if (l->flops > 0) {
		*work = l->flops / (l->width > 1 ? l->width : 1);
		*bytes = l->bytes / (l->width > 1 ? l->width : 1);
	} else {
		if (!(l->seconds >= 0) || isinf(l->seconds))
			return -EINVAL;
		*work = l->seconds * c->rate[l->cls];
	}
	if (*work > 1e24) /* ~ years of work on any core */
		return -E2BIG;
	return 0;
}

/* Occupancy of worker w's ring: launches given and completions not yet collected. */
static uint64_t ring_used(const struct cpu_worker *w)
{
	return w->tail - w->seen;
}

/* Append a slot to worker w's ring and publish it; the worker is woken at the next
 * wait when it sleeps (one wake for a batch of launches). */
static void ring_push(struct cpu *c, struct cpu_worker *w, uint64_t cookie, int cls, double work,
                      double bytes, struct cpu_join *join)
{
	struct cpu_slot *sl = &w->ring[w->tail & w->mask];
	sl->cookie = cookie;
	sl->cls = cls;
	sl->work = work;
	sl->bytes = bytes;
	sl->join = join;
	sl->emit = 0;
	__atomic_store_n(&w->tail, w->tail + 1, __ATOMIC_SEQ_CST);
	if (__atomic_load_n(&w->sleeping, __ATOMIC_SEQ_CST) && !w->wake_pending) {
		w->wake_pending = 1;
		c->wake_list[c->nwake++] = w->index;
	}
}

/* A launch of width w on a unit of `cores` workers runs as w parts on w distinct
 * workers, each doing its share of the work, the least occupied first; its completion
 * is reported when the last part ends. The engine gives a unit at most its slots'
 * worth of launches, which its rings always hold. */
static int cpu_launch(struct xpu_backend *be, const struct xpu_launch *l)
{
	struct cpu *c = cpu_of(be);
	double work, bytes;
	int rc;

	if (!l || l->unit < 0 || l->unit >= c->nunits || !c->running)
		return -EINVAL;
	uint32_t width = l->width ? l->width : 1;
	if ((int)width > c->cores)
		return -EINVAL;
	rc = launch_work(c, l, &work, &bytes);
	if (rc < 0)
		return rc;
	struct cpu_worker *unit = &c->w[l->unit * c->cores];
	uint32_t cap = unit[0].mask + 1;
	if (width == 1) {
		int best = 0;
		for (int i = 1; i < c->cores && ring_used(&unit[best]) > 0; i++)
			if (ring_used(&unit[i]) < ring_used(&unit[best]))
				best = i;
		if (ring_used(&unit[best]) >= cap)
			return -EAGAIN; /* more than the unit's slots: an engine error */
		ring_push(c, &unit[best], l->cookie, l->cls, work, bytes, NULL);
		c->inflight++;
		return 0;
	}
	/* Wide: the width least occupied workers, by one partial selection pass each
	 * (width <= cores; wide launches are few). */
	struct cpu_join *j = malloc(sizeof(*j));
	char *taken = calloc((size_t)c->cores, 1);
	if (!j || !taken) {
		free(j);
		free(taken);
		return -ENOMEM;
	}
	*j = (struct cpu_join){.left = width, .refs = width, .start_ns = UINT64_MAX};
	int *pick = malloc(sizeof(int) * width);
	if (!pick) {
		free(j);
		free(taken);
		return -ENOMEM;
	}
	for (uint32_t k = 0; k < width; k++) {
		int best = -1;
		for (int i = 0; i < c->cores; i++)
			if (!taken[i] && (best < 0 || ring_used(&unit[i]) < ring_used(&unit[best])))
				best = i;
		if (ring_used(&unit[best]) >= cap) {
			free(j);
			free(taken);
			free(pick);
			return -EAGAIN;
		}
		taken[best] = 1;
		pick[k] = best;
	}
	for (uint32_t k = 0; k < width; k++)
		ring_push(c, &unit[pick[k]], l->cookie, l->cls, work, bytes, j);
	free(taken);
	free(pick);
	c->inflight++;
	return 0;
}

/* Every unit reads and writes the one host memory, so data produced on one unit is
 * already visible to the others once the producer's completion has been collected (the
 * ring's release and acquire order the memory): nothing needs to move, and the transfer
 * completes at once. */
static int cpu_copy(struct xpu_backend *be, const struct xpu_copy *cp)
{
	struct cpu *c = cpu_of(be);
	int src = cp->src_unit, dst = cp->dst_unit;

	if (src < 0 || src >= c->nunits || dst < 0 || dst >= c->nunits || !(cp->bytes >= 0) ||
	    !c->running)
		return -EINVAL;
	if (c->ncopies == c->copies_cap) {
		int cap = c->copies_cap ? 2 * c->copies_cap : 64;
		struct xpu_event *v = realloc(c->copies, (size_t)cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		c->copies = v;
		c->copies_cap = cap;
	}
	c->copies[c->ncopies++] =
	    (struct xpu_event){.type = XPU_EV_COPY, .cookie = cp->cookie, .time = since_t0(c)};
	return 0;
}

/* Collect up to max completions: copies first, then every worker whose pending bit is
 * set, from its last collected slot to its done counter. */
static int collect(struct cpu *c, struct xpu_event *ev, int max)
{
	int n = 0;

	if (c->ncopies) {
		int k = c->ncopies < max ? c->ncopies : max;
		memcpy(ev, c->copies, (size_t)k * sizeof(*ev));
		memmove(c->copies, c->copies + k, (size_t)(c->ncopies - k) * sizeof(*ev));
		c->ncopies -= k;
		n = k;
	}
	for (int wi = 0; wi < c->npending_words && n < max; wi++) {
		if (!__atomic_load_n(&c->pending[wi], __ATOMIC_RELAXED))
			continue;
		uint64_t bits = __atomic_exchange_n(&c->pending[wi], 0, __ATOMIC_SEQ_CST);
		while (bits) {
			int b = __builtin_ctzll(bits);
			bits &= bits - 1;
			struct cpu_worker *w = &c->w[wi * 64 + b];
			uint64_t done = __atomic_load_n(&w->done, __ATOMIC_SEQ_CST);
			while (w->seen != done && n < max) {
				struct cpu_slot *sl = &w->ring[w->seen & w->mask];
				w->seen++;
				if (!sl->emit)
					continue;
				ev[n++] = (struct xpu_event){.type = XPU_EV_DONE,
				                             .cookie = sl->cookie,
				                             .status = sl->status,
				                             .time = sl->end,
				                             .flags = XPU_EV_TIMED,
				                             .start = sl->start};
				c->inflight--;
			}
			if (w->seen != done || (n >= max && bits)) {
				/* the buffer is full: what is left waits for the next call */
				uint64_t rest = w->seen != done ? (uint64_t)1 << b : 0;
				__atomic_fetch_or(&c->pending[wi], rest | bits, __ATOMIC_SEQ_CST);
				return n;
			}
		}
	}
	return n;
}

/* Events of one collection in order of their times (insertion sort: the workers' runs
 * are each in order already). */
static void sort_by_time(struct xpu_event *ev, int n)
{
	for (int i = 1; i < n; i++) {
		struct xpu_event x = ev[i];
		int j = i;
		for (; j > 0 && ev[j - 1].time > x.time; j--)
			ev[j] = ev[j - 1];
		ev[j] = x;
	}
}

/* Wake the workers given work while they slept. */
static void flush_wakes(struct cpu *c)
{
	for (int i = 0; i < c->nwake; i++) {
		struct cpu_worker *w = &c->w[c->wake_list[i]];
		w->wake_pending = 0;
		wake_worker(w);
	}
	c->nwake = 0;
}

/* Returns -EDEADLK rather than blocking forever when asked to wait without a time limit
 * while nothing is in flight: no event could ever arrive. */
static int cpu_wait(struct xpu_backend *be, double until, struct xpu_event *ev, int max)
{
	struct cpu *c = cpu_of(be);
	int64_t spin_from = -1;

	if (!ev || max <= 0 || isnan(until) || !c->running)
		return -EINVAL;
	flush_wakes(c);
	for (;;) {
		int n = collect(c, ev, max);
		if (n) {
			sort_by_time(ev, n);
			return n;
		}
		int64_t t = ns_since_t0(c);
		if (1e-9 * (double)t >= until)
			return 0;
		if (isinf(until) && c->inflight == 0)
			return -EDEADLK;
		if (spin_from < 0)
			spin_from = t;
		if (t - spin_from < ENGINE_SPIN_NS) {
			for (int i = 0; i < 64; i++)
				cpu_relax();
			continue;
		}
		/* Sleep until a worker needs the engine or the time limit; at most an hour
		 * at a time so that huge limits convert safely. */
		uint32_t seq = __atomic_load_n(&c->eng_seq, __ATOMIC_SEQ_CST);
		__atomic_store_n(&c->eng_sleeping, 1, __ATOMIC_SEQ_CST);
		n = collect(c, ev, max);
		if (n) {
			__atomic_store_n(&c->eng_sleeping, 0, __ATOMIC_SEQ_CST);
			sort_by_time(ev, n);
			return n;
		}
		double left = fmin(until - 1e-9 * (double)ns_since_t0(c), 3600.0);
		if (left > 0) {
			struct timespec rel = {.tv_sec = (time_t)left,
			                       .tv_nsec = (long)((left - floor(left)) * 1e9)};
			futex_wait(&c->eng_seq, seq, &rel);
		}
		__atomic_store_n(&c->eng_sleeping, 0, __ATOMIC_SEQ_CST);
		spin_from = -1;
	}
}

/* A unit's P-states are its CPUs' cpufreq frequencies (cpu_open): switching writes
 * them through hw/linux_power.c (scaling_setspeed under the userspace governor,
 * otherwise scaling_max_freq), which needs root; the original settings come back at
 * close. Refused (-ENOTSUP) where the machine offers no writable cpufreq. The modeled
 * energy folds the busy time so far at the old state's power. */
static int cpu_set_pstate(struct xpu_backend *be, int unit, int pstate)
{
	struct cpu *c = cpu_of(be);

	if (!c || unit < 0 || unit >= c->nunits || pstate < 0)
		return -EINVAL;
	int np = c->nfreq[unit] > 1 ? c->nfreq[unit] : 1;
	if (pstate >= np)
		return -EINVAL;
	if (pstate == c->ps[unit])
		return 0;
	if (c->freq_why)
		return -ENOTSUP;
	int rc = xpu_lpw_set_khz(c->lpw, &c->cpuid[unit * c->cores], c->cores,
	                         c->khz[(size_t)unit * XPU_LPW_MAX_FREQS + pstate]);
	if (rc)
		return rc;
	if (c->running) {
		snapshot_busy(c);
		struct xpu_pstate old = pstate_of(c, unit, c->ps[unit]);
		c->mj[unit] +=
		    (old.full_w / c->cores - c->idle_w) * (c->snap[unit] - c->mmark[unit]);
		c->mmark[unit] = c->snap[unit];
	}
	c->ps[unit] = pstate;
	return 0;
}

static int cpu_read_temp(struct xpu_backend *be, int unit, double *celsius)
{
	struct cpu *c = cpu_of(be);
	if (!c || unit < 0 || unit >= c->nunits || !celsius)
		return -EINVAL;
	return xpu_lpw_temp(c->lpw, celsius); /* the package's: units share it */
}

/* One host memory: every unit is in pool 0, and the limit is the packages' RAPL
 * long-term limit, split evenly among them. */
static int cpu_set_power_limit(struct xpu_backend *be, int pool, double watts)
{
	struct cpu *c = cpu_of(be);
	if (!c || pool < -1 || pool > 0)
		return -EINVAL;
	return xpu_lpw_set_limit(c->lpw, watts);
}

static int cpu_read_energy(struct xpu_backend *be, int unit, double *joules, int *modeled)
{
	struct cpu *c = cpu_of(be);

	if (unit < 0 || unit >= c->nunits || !joules)
		return -EINVAL;
	if (c->nrapl > 0) {
		double t = cpu_now(be);
		if (c->running && (c->rapl_at < 0 || t - c->rapl_at >= RAPL_MIN_PERIOD)) {
			int rc = rapl_apportion(c);
			if (rc < 0)
				return rc;
			c->rapl_at = t;
		}
		*joules = c->ujoules[unit];
		if (modeled)
			*modeled = 0;
		return 0;
	}
	/* The model SimGrid's host energy plugin applies, per core: idle power all along,
	 * plus the dynamic part while busy, at each P-state's power. */
	snapshot_busy(c);
	struct xpu_pstate p = pstate_of(c, unit, c->ps[unit]);
	*joules = c->idle_w * c->cores * cpu_now(be) + c->mj[unit] +
	          (p.full_w / c->cores - c->idle_w) * (c->snap[unit] - c->mmark[unit]);
	if (modeled)
		*modeled = 1;
	return 0;
}

static int cpu_read_link_energy(struct xpu_backend *be, double *joules)
{
	(void)be;
	if (!joules)
		return -EINVAL;
	*joules = 0; /* no links: the units share memory */
	return 0;
}

/* What this machine lets the run control, and how: cpufreq for P-states (the units'
 * frequencies, when listed and writable), RAPL's package limit through powercap, the
 * CPU package's temperature sensor; probed once, on the first call. Idle states are
 * the kernel's cpuidle governor's: a process cannot enter one. */
static const char *cpu_controls(struct xpu_backend *be)
{
	struct cpu *c = cpu_of(be);
	if (!c)
		return "pstate=unsupported,idle=unsupported,power_limit=unsupported,"
		       "temperature=unsupported";
	if (!c->controls[0]) {
		char ps[160];
		int nf = c->nunits > 0 ? c->nfreq[0] : 0;
		if (nf > 1 && !c->freq_why)
			snprintf(ps, sizeof(ps), "cpufreq (%d frequencies, %u to %u kHz)", nf,
			         c->khz[0], c->khz[nf - 1]);
		else
			snprintf(ps, sizeof(ps), "unsupported (%s)",
			         c->freq_why ? c->freq_why
			                     : "cpufreq lists one frequency: nothing to choose");
		int lim = xpu_lpw_limit_zones(c->lpw);
		snprintf(c->controls, sizeof(c->controls),
		         "pstate=%s,idle=unsupported (cpuidle is the kernel's),power_limit=%s,"
		         "temperature=%s",
		         ps, lim ? "rapl" : "unsupported (no writable RAPL power limit)",
		         xpu_lpw_has_temp(c->lpw) ? "thermal_zone"
		                                  : "unsupported (no CPU thermal zone or hwmon)");
	}
	return c->controls;
}

static void cpu_close(struct xpu_backend *be)
{
	struct cpu *c = cpu_of(be);

	if (!c)
		return;
	for (int i = 0; c->w && i < c->n; i++) {
		xpu_cpu_kernels_free(c->w[i].kern);
		free(c->w[i].ring);
	}
	free(c->w);
	free(c->pending);
	free(c->wake_list);
	free(c->copies);
	free(c->snap);
	free(c->ubusy_mark);
	free(c->ujoules);
	free(c->cpuid);
	xpu_lpw_close(c->lpw); /* the machine's settings as they were */
	free(c->khz);
	free(c->nfreq);
	free(c->ps);
	free(c->mj);
	free(c->mmark);
	for (uint32_t i = 0; i < c->ndata; i++)
		if (c->data[i].p)
			datum_release(&c->data[i]);
	free(c->data);
	if (c->stream)
		xpu_cpu_stream_close();
	free(c);
	be->priv = NULL;
}

int xpu_cpu_selftest(struct xpu_err *err)
{
	char msg[512] = "";
	int rc = xpu_cpu_kernels_selftest(msg, sizeof(msg));
	if (rc)
		xpu_errf(err, LABEL, 0, "%s", msg);
	return rc;
}

/* ------------------------------------------------------------------ data */

/* A datum the engine places in host memory becomes a real allocation with every page
 * touched, so that a live run holds the memory its trace says; it goes when the engine
 * frees it. Allocations stop at 80% of the memory available at open (MemAvailable), so
 * that a trace asking for more than the machine has fails with a clear error instead
 * of the kernel's out-of-memory killer. */
static int cpu_data_alloc(struct xpu_backend *be, uint32_t datum, int pool, double bytes)
{
	struct cpu *c = cpu_of(be);
	(void)pool; /* one host memory */
	if (!c || !(bytes >= 0) || !isfinite(bytes) || datum == UINT32_MAX)
		return -EINVAL;
	if (datum >= c->ndata) {
		uint32_t n = c->ndata ? c->ndata : 64;
		while (n <= datum)
			n = n > UINT32_MAX / 2 ? UINT32_MAX : n * 2;
		struct cpu_datum *d = realloc(c->data, (size_t)n * sizeof(*d));
		if (!d)
			return -ENOMEM;
		memset(d + c->ndata, 0, (size_t)(n - c->ndata) * sizeof(*d));
		c->data = d;
		c->ndata = n;
	}
	struct cpu_datum *d = &c->data[datum];
	if (d->p) { /* placed again without a free: the new size replaces it */
		c->data_bytes -= (double)d->n;
		datum_release(d);
	}
	size_t n = (size_t)ceil(bytes);
	if (n == 0)
		return 0;
	if (c->data_budget > 0 && c->data_bytes + (double)n > c->data_budget)
		return -ENOMEM;
	/* Large data straight from the kernel, so that freeing one gives its pages back at
	 * once (the C library may keep freed heap blocks, and raises its own threshold
	 * for mapping after such a free). */
	unsigned char *p;
	if (n >= DATA_MAP_MIN) {
		p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED)
			return -ENOMEM;
	} else if (!(p = malloc(n))) {
		return -ENOMEM;
	}
	long page = sysconf(_SC_PAGESIZE);
	for (size_t i = 0; i<n; i += page> 0 ? (size_t)page : 4096)
		p[i] = (unsigned char)i;
	p[n - 1] = 1;
	d->p = p;
	d->n = n;
	c->data_bytes += (double)n;
	return 0;
}

static void cpu_data_free(struct xpu_backend *be, uint32_t datum, int pool)
{
	struct cpu *c = cpu_of(be);
	(void)pool;
	if (!c || datum >= c->ndata || !c->data[datum].p)
		return;
	c->data_bytes -= (double)c->data[datum].n;
	datum_release(&c->data[datum]);
}

const struct xpu_backend_ops xpu_backend_cpu = {
    .head = {.version = XPU_BACKEND_VERSION,
             .name = "cpu",
             .description = "host CPU worker threads running each class's kernel (OpenBLAS "
                            "for the GEMM family)",
             .params = cpu_param_specs},
    .open = cpu_open,
    .run = cpu_run,
    .now = cpu_now,
    .launch = cpu_launch,
    .copy = cpu_copy,
    .wait = cpu_wait,
    .set_pstate = cpu_set_pstate,
    .read_energy = cpu_read_energy,
    .read_link_energy = cpu_read_link_energy,
    .close = cpu_close,
    .controls = cpu_controls,
    .data_alloc = cpu_data_alloc,
    .data_free = cpu_data_free,
    .read_temp = cpu_read_temp,
    .set_power_limit = cpu_set_power_limit,
};
