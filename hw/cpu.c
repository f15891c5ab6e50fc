/* cpu.c — the live host-CPU backend: worker threads run a calibrated GEMM kernel; a unit is
 * one worker, or a group of `cores` workers that runs a task of width w on w of them. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* sched_getaffinity, pthread_setaffinity_np */
#endif
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "backend.h"
#include "platform.h"
#include "xpu.h"

#define LABEL "live:cpu"

/* The kernel multiplies two TILE x TILE double matrices into a third. 48 x 48 keeps the
 * three tiles (54 KiB) inside a private L2 cache of any current x86 or Arm core, so the
 * kernel measures the core's arithmetic rather than the memory system, and its flop count
 * is exact: TILE^3 multiply-adds, counted as 2 flops each (the LINPACK convention). */
#define TILE       48
#define TILE_SZ    (TILE * TILE)
#define TILE_FLOPS (2.0 * TILE * TILE * TILE)

/* Modeled per-unit power when RAPL cannot be read. Estimates, not measurements: a
 * mainstream desktop part spends about its TDP over its hardware threads at full load
 * (e.g. 65 W / 16 threads ~ 4 W) and around a quarter of that when idle. */
#define DEFAULT_IDLE_W 1.0
#define DEFAULT_FULL_W 4.0

/* Calibration: an untimed warm-up lets the core reach its boost clock and faults the
 * tiles in; the rate is then the median of several short timed batches, so one
 * preemption or interrupt during a batch does not skew it. About 85 ms in all. */
#define CAL_WARMUP_S 0.010
#define CAL_BATCH_S  0.015
#define CAL_BATCHES  5

/* Reading RAPL costs a sysfs read per package; the energy is re-apportioned at most
 * once per this many seconds of run time, and read_energy of the other units in the
 * same instant reuse it. */
#define RAPL_MIN_PERIOD 0.001
#define RAPL_MAX_ZONES  16

#define MAX_THREADS 4096

struct cpu_tile {
	double a[TILE_SZ];
	double b[TILE_SZ];
	double c[TILE_SZ];
	volatile double sink; /* keeps the result observable, so no rep can be elided */
};

/* One launch while it is queued or running, then its completion event: the node moves
 * from a worker's queue to the completion queue, so a worker never allocates. */
struct cpu_node {
	struct cpu_node *next;
	uint64_t reps;
	struct xpu_event ev;
	/* A part of a wide launch: the node carrying the launch's event, and (in that
	 * node) the parts still running. */
	struct cpu_node *join;
	uint32_t parts;
};

struct cpu;

struct cpu_worker {
	struct cpu *c;
	pthread_t thread;
	int started;
	pthread_cond_t work; /* a job was queued or stop was set */
	/* Under cpu.lock: */
	struct cpu_node *head, *tail;
	double busy;       /* seconds of jobs finished since run started */
	double busy_since; /* start of the running job, or -1 */
	/* Worker thread only (and the opening thread for calibration): */
	struct cpu_tile *tile;
	/* Engine thread only: RAPL apportioning. */
	double busy_mark;
	double joules;
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
	double speed;                 /* calibrated flop/s of the kernel on one thread */
	double idle_w, full_w;
	int pin;
	int ncpus;  /* CPUs in the process's affinity mask at open */
	int *cpuid; /* their ids, for pinning unit i to the i-th of them */
	struct timespec t0;
	pthread_mutex_t lock;
	pthread_cond_t done; /* an event was queued; CLOCK_MONOTONIC for timedwait */
	/* Under lock: */
	struct cpu_node *ev_head, *ev_tail;
	int inflight; /* launches not yet completed */
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
};

/* ------------------------------------------------------------------ the kernel */

static void tile_init(struct cpu_tile *t)
{
	/* Small positive entries: C grows by about TILE * 1e-5 per rep, so it stays far from
	 * overflow for any run length and never becomes denormal, whose slow path would
	 * distort the timing. */
	for (int i = 0; i < TILE_SZ; i++) {
		t->a[i] = 1e-3 * (double)(1 + i % 7);
		t->b[i] = 1e-3 * (double)(1 + i % 5);
		t->c[i] = 0.0;
	}
	t->sink = 0.0;
}

static void tile_gemm(struct cpu_tile *t)
{
	double *restrict c = t->c;
	const double *restrict a = t->a;
	const double *restrict b = t->b;

	/* i-k-j order: the inner loop streams rows of B and C, which vectorises. */
	for (int i = 0; i < TILE; i++)
		for (int k = 0; k < TILE; k++) {
			double aik = a[i * TILE + k];
			for (int j = 0; j < TILE; j++)
				c[i * TILE + j] += aik * b[k * TILE + j];
		}
}

/* Run up to reps repetitions, stopping early when *stop becomes set; returns the number
 * done. C accumulates across reps and its sampled value goes to a volatile, so the
 * compiler must perform every multiply. */
static uint64_t tile_run(struct cpu_tile *t, uint64_t reps, const int *stop)
{
	uint64_t r;

	for (r = 0; r < reps; r++) {
		if (stop && __atomic_load_n(stop, __ATOMIC_RELAXED))
			break;
		tile_gemm(t);
	}
	t->sink += t->c[r % TILE_SZ];
	return r;
}

static double mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Reps done per second while running for about secs seconds. */
static double tile_rate(struct cpu_tile *t, double secs)
{
	double t0 = mono(), el;
	uint64_t reps = 0;

	do {
		reps += tile_run(t, 1, NULL);
		el = mono() - t0;
	} while (el < secs);
	return (double)reps / el;
}

static int cmp_double(const void *x, const void *y)
{
	double a = *(const double *)x, b = *(const double *)y;

	return (a > b) - (a < b);
}

/* Flop/s of the kernel on the calling thread. */
static double calibrate(struct cpu_tile *t)
{
	double rate[CAL_BATCHES];

	tile_rate(t, CAL_WARMUP_S);
	for (int i = 0; i < CAL_BATCHES; i++)
		rate[i] = tile_rate(t, CAL_BATCH_S);
	qsort(rate, CAL_BATCHES, sizeof(rate[0]), cmp_double);
	return rate[CAL_BATCHES / 2] * TILE_FLOPS;
}

/* ------------------------------------------------------------------ clock and events */

static struct cpu *cpu_of(struct xpu_backend *be)
{
	return be->priv;
}

/* Seconds since run started. Workers call it too: t0 is written before they start. */
static double since_t0(const struct cpu *c)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)(ts.tv_sec - c->t0.tv_sec) + 1e-9 * (double)(ts.tv_nsec - c->t0.tv_nsec);
}

/* Append an event to the completion queue; called with the lock held. The time is taken
 * here, under the lock, so the queue's times never decrease. */
static void push_event_locked(struct cpu *c, struct cpu_node *nd)
{
	nd->ev.time = since_t0(c);
	nd->next = NULL;
	if (c->ev_tail)
		c->ev_tail->next = nd;
	else
		c->ev_head = nd;
	c->ev_tail = nd;
	pthread_cond_signal(&c->done);
}

static void free_list(struct cpu_node *nd)
{
	while (nd) {
		struct cpu_node *next = nd->next;
		free(nd);
		nd = next;
	}
}

/* ------------------------------------------------------------------ workers */

static void *worker_main(void *arg)
{
	struct cpu_worker *w = arg;
	struct cpu *c = w->c;

	pthread_mutex_lock(&c->lock);
	for (;;) {
		while (!w->head && !__atomic_load_n(&c->stop, __ATOMIC_RELAXED))
			pthread_cond_wait(&w->work, &c->lock);
		if (__atomic_load_n(&c->stop, __ATOMIC_RELAXED))
			break;
		struct cpu_node *nd = w->head;
		w->head = nd->next;
		if (!w->head)
			w->tail = NULL;
		w->busy_since = since_t0(c);
		pthread_mutex_unlock(&c->lock);

		uint64_t done = tile_run(w->tile, nd->reps, &c->stop);

		pthread_mutex_lock(&c->lock);
		double now = since_t0(c);
		w->busy += now - w->busy_since;
		w->busy_since = -1;
		struct cpu_node *ev = nd->join ? nd->join : nd;
		if (done != nd->reps)
			ev->ev.status = -ECANCELED;
		if (nd->join)
			free(nd); /* a part: the launch's event goes out with its last part */
		if (!ev->parts || !--ev->parts) {
			push_event_locked(c, ev);
			c->inflight--;
		}
	}
	pthread_mutex_unlock(&c->lock);
	return NULL;
}

/* ------------------------------------------------------------------ energy */

static int rapl_read(const char *path, uint64_t *uj)
{
	FILE *f = fopen(path, "r");
	unsigned long long v;
	int ok;

	if (!f)
		return -errno;
	ok = fscanf(f, "%llu", &v) == 1;
	fclose(f);
	if (!ok)
		return -EIO;
	*uj = v;
	return 0;
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
	pthread_mutex_lock(&c->lock);
	double t = c->running ? since_t0(c) : c->t_end;
	for (int u = 0; u < c->nunits; u++) {
		c->snap[u] = 0;
		for (int k = u * c->cores; k < (u + 1) * c->cores; k++) {
			struct cpu_worker *w = &c->w[k];
			c->snap[u] += w->busy + (w->busy_since >= 0 ? t - w->busy_since : 0);
		}
	}
	pthread_mutex_unlock(&c->lock);
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

static const char *const cpu_params[] = {"threads", "cores",    "idle_w", "full_w",
                                         "pin",     "powercap", NULL};

/* The same, with types and ranges, for --backend 'cpu:...' and listings; open checks
 * the values again with the machine's own limits. */
static const struct xpu_param_spec cpu_param_specs[] = {
    {"threads", XPU_PARAM_INT, 1, MAX_THREADS,
     "worker threads (default: the CPUs this process may use)"},
    {"cores", XPU_PARAM_INT, 1, MAX_THREADS,
     "workers per unit, a divisor of threads (default 1: one unit per thread)"},
    {"idle_w", XPU_PARAM_NUMBER, 0, 1e6,
     "modeled watts of an idle unit when RAPL is absent (default 1)"},
    {"full_w", XPU_PARAM_NUMBER, 0, 1e6,
     "modeled watts of a busy unit when RAPL is absent (default 4)"},
    {"pin", XPU_PARAM_INT, 0, 1, "pin unit i to the i-th allowed CPU (default 1)"},
    {"powercap", XPU_PARAM_TEXT, 0, 0, "RAPL powercap directory (default /sys/class/powercap)"},
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

static int check_param_names(struct xpu_backend *be, struct xpu_err *err)
{
	for (int i = 0; i < be->nparams; i++) {
		int known = 0;
		for (const char *const *k = cpu_params; *k; k++)
			known |= !strcmp(be->param[i].key, *k);
		if (!known)
			return xpu_errf(err, LABEL, 0,
			                "unknown parameter '%s': expected threads, cores, idle_w, "
			                "full_w, pin or powercap",
			                be->param[i].key);
	}
	return 0;
}

/* ------------------------------------------------------------------ platform */

/* MemTotal from /proc/meminfo in bytes, 0 (unlimited) when it cannot be read. */
static double mem_total(void)
{
	FILE *f = fopen("/proc/meminfo", "r");
	char line[256];
	double kib = 0;

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "MemTotal: %lf kB", &kib) == 1)
			break;
	fclose(f);
	return kib * 1024.0;
}

/* Frees what build_platform allocated; the same ownership xpu_platform_free assumes. */
static void release_platform(struct xpu_platform *pf)
{
	xpu_platform_free(pf);
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
	pf->pools[0].capacity = mem_total();

	for (int i = 0; i < c->nunits; i++) {
		struct xpu_unit *u = &pf->units[i];
		char name[32];

		pf->nunits = i + 1;
		snprintf(name, sizeof(name), "cpu%d", i);
		u->name = strdup(name);
		u->pstates = malloc(sizeof(*u->pstates));
		if (!u->name || !u->pstates)
			goto nomem;
		u->index = i;
		u->kind = XPU_KIND_CPU;
		u->loaded_bitstream = -1;
		for (int c = 0; c < XPU_CLASS_COUNT; c++)
			u->bitstream[c] = -1;
		u->cores = c->cores;
		u->npstates = 1;
		u->pstates[0] = (struct xpu_pstate){
		    .speed = c->speed,
		    .idle_w = c->idle_w * c->cores,
		    .epsilon_w = c->idle_w * c->cores,
		    .full_w = c->full_w * c->cores,
		};
		u->mem_pool = 0;
		u->has_class_props = 0;
		for (int k = 0; k < XPU_CLASS_COUNT; k++)
			u->cls[k] = (struct xpu_class_cap){.supported = 1, .efficiency = 1.0};
	}
	return 0;
nomem:
	release_platform(pf);
	return -ENOMEM;
}

/* ------------------------------------------------------------------ ops */

static void cpu_close(struct xpu_backend *be);

/* CPUs this process may run on, listed into c->cpuid; 0 when unknown. */
static int affinity_cpus(struct cpu *c)
{
	cpu_set_t set;
	int n = 0;

	if (sched_getaffinity(0, sizeof(set), &set) < 0)
		return 0;
	c->cpuid = malloc(sizeof(int) * (size_t)CPU_COUNT(&set));
	if (!c->cpuid)
		return 0;
	for (int i = 0; i < CPU_SETSIZE; i++)
		if (CPU_ISSET(i, &set))
			c->cpuid[n++] = i;
	return n;
}

static int cpu_open(struct xpu_backend *be, const char *path, struct xpu_platform *pf,
                    struct xpu_err *err)
{
	struct cpu *c;
	pthread_condattr_t ca;
	double threads, pin, deflt;
	int rc;

	be->priv = NULL;
	if (path)
		return xpu_errf(
		    err, path, 0,
		    "live mode describes this machine itself; --platform applies to simulation");
	rc = check_param_names(be, err);
	if (rc < 0)
		return rc;

	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	if (pthread_mutex_init(&c->lock, NULL)) {
		free(c);
		return -ENOMEM;
	}
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	rc = pthread_cond_init(&c->done, &ca);
	pthread_condattr_destroy(&ca);
	if (rc) {
		pthread_mutex_destroy(&c->lock);
		free(c);
		return -ENOMEM;
	}
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
	if (rc == 0 && (cores != floor(cores) || fmod(threads, cores) != 0))
		rc = xpu_errf(err, LABEL, 0,
		              "parameter 'cores': expected a whole divisor of threads (%g), got %g",
		              threads, cores);
	if (rc < 0)
		goto fail;
	c->n = (int)threads;
	c->cores = (int)cores;
	c->nunits = c->n / c->cores;
	c->pin = pin != 0 && c->ncpus >= c->n;

	c->w = calloc((size_t)c->n, sizeof(*c->w));
	c->snap = calloc((size_t)c->n, sizeof(double));
	c->ubusy_mark = calloc((size_t)c->n, sizeof(double));
	c->ujoules = calloc((size_t)c->n, sizeof(double));
	if (!c->w || !c->snap || !c->ubusy_mark || !c->ujoules)
		goto nomem;
	for (int i = 0; i < c->n; i++) {
		struct cpu_worker *w = &c->w[i];
		w->c = c;
		w->busy_since = -1;
		/* cache-line aligned, so no two workers' tiles share a line */
		if (posix_memalign((void **)&w->tile, 64, sizeof(struct cpu_tile)))
			w->tile = NULL;
		if (!w->tile || pthread_cond_init(&w->work, NULL)) {
			free(w->tile);
			w->tile = NULL;
			goto nomem;
		}
		tile_init(w->tile);
	}

	c->speed = calibrate(c->w[0].tile);
	tile_init(c->w[0].tile);
	rapl_probe(c, xpu_param_str(be->param, be->nparams, "powercap", "/sys/class/powercap"));

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

	/* A fresh run: clock, busy times, energy and any events a previous run left. */
	free_list(c->ev_head);
	c->ev_head = c->ev_tail = NULL;
	for (int u = 0; u < c->n; u++)
		c->w[u].busy = 0;
	for (int u = 0; u < c->nunits; u++)
		c->ubusy_mark[u] = c->ujoules[u] = 0;
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

	if (rc == 0)
		body(arg);

	pthread_mutex_lock(&c->lock);
	__atomic_store_n(&c->stop, 1, __ATOMIC_RELAXED);
	for (int u = 0; u < c->n; u++)
		pthread_cond_signal(&c->w[u].work);
	pthread_mutex_unlock(&c->lock);
	for (int u = 0; u < c->n; u++)
		if (c->w[u].started) {
			pthread_join(c->w[u].thread, NULL);
			c->w[u].started = 0;
		}

	/* Launches that never started are dropped with the run. */
	for (int u = 0; u < c->n; u++) {
		free_list(c->w[u].head);
		c->w[u].head = c->w[u].tail = NULL;
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

/* Repetitions of the tile that make up a launch's work: its flops, or when the trace
 * gave only a duration, that duration at the calibrated rate. */
static int launch_reps(const struct cpu *c, const struct xpu_launch *l, uint64_t *reps)
{
	double work;

	if (!(l->flops >= 0) || isinf(l->flops))
		return -EINVAL;
	if (l->flops > 0) {
		work = l->flops / (l->width > 1 ? l->width : 1); /* one worker's share */
	} else {
		if (!(l->seconds >= 0) || isinf(l->seconds))
			return -EINVAL;
		work = l->seconds * c->speed;
	}
	work = ceil(work / TILE_FLOPS);
	if (work > 1e15) /* ~ years of work; keeps the conversion defined */
		return -E2BIG;
	*reps = (uint64_t)work;
	if (l->flops > 0 && *reps == 0)
		*reps = 1;
	return 0;
}

/* Append nd to worker w's queue; called with the lock held. */
static void enqueue_locked(struct cpu_worker *w, struct cpu_node *nd)
{
	nd->next = NULL;
	if (w->tail)
		w->tail->next = nd;
	else
		w->head = nd;
	w->tail = nd;
	pthread_cond_signal(&w->work);
}

/* A launch of width w on a unit of `cores` workers runs as w parts, one per worker,
 * each doing its share of the work; its completion is reported when the last part
 * ends. The parts go to the unit's idle workers first (the engine starts at most
 * `cores` cores' worth of tasks at once per unit), then behind the shortest queues,
 * so that a launch is never lost. */
static int cpu_launch(struct xpu_backend *be, const struct xpu_launch *l)
{
	struct cpu *c = cpu_of(be);
	struct cpu_node *nd;
	uint64_t reps;
	int rc;

	if (!l || l->unit < 0 || l->unit >= c->nunits || !c->running)
		return -EINVAL;
	uint32_t width = l->width ? l->width : 1;
	if ((int)width > c->cores)
		return -EINVAL;
	rc = launch_reps(c, l, &reps);
	if (rc < 0)
		return rc;
	nd = calloc(1, sizeof(*nd));
	if (!nd)
		return -ENOMEM;
	nd->reps = reps;
	nd->ev.type = XPU_EV_DONE;
	nd->ev.cookie = l->cookie;
	struct cpu_node *part[MAX_THREADS];
	part[0] = nd;
	if (width > 1) {
		nd->parts = width;
		for (uint32_t k = 0; k < width; k++) {
			part[k] = calloc(1, sizeof(*part[k]));
			if (!part[k]) {
				while (k--)
					free(part[k]);
				free(nd);
				return -ENOMEM;
			}
			part[k]->reps = reps;
			part[k]->join = nd;
		}
	}

	struct cpu_worker *unit = &c->w[l->unit * c->cores];
	pthread_mutex_lock(&c->lock);
	char *taken = calloc((size_t)c->cores, 1);
	for (uint32_t k = 0; k < width; k++) {
		int best = -1;
		long best_len = 0;
		for (int i = 0; i < c->cores; i++) {
			if (taken && taken[i])
				continue;
			const struct cpu_worker *w = &unit[i];
			long len = (w->busy_since >= 0) + (w->head != NULL) * 2;
			if (best < 0 || len < best_len) {
				best = i;
				best_len = len;
			}
		}
		if (best < 0)
			best = (int)(k % (uint32_t)c->cores);
		if (taken)
			taken[best] = 1;
		enqueue_locked(&unit[best], part[k]);
	}
	free(taken);
	c->inflight++;
	pthread_mutex_unlock(&c->lock);
	return 0;
}

/* Every unit reads and writes the one host memory, so data produced on one unit is
 * already visible to the others once the producer's completion has been reported (the
 * queue's mutex orders the memory): nothing needs to move, and the transfer completes
 * at once. */
static int cpu_copy(struct xpu_backend *be, const struct xpu_copy *cp)
{
	struct cpu *c = cpu_of(be);
	struct cpu_node *nd;
	int src = cp->src_unit, dst = cp->dst_unit;
	uint64_t cookie = cp->cookie;

	if (src < 0 || src >= c->nunits || dst < 0 || dst >= c->nunits || !(cp->bytes >= 0) ||
	    !c->running)
		return -EINVAL;
	nd = calloc(1, sizeof(*nd));
	if (!nd)
		return -ENOMEM;
	nd->ev.type = XPU_EV_COPY;
	nd->ev.cookie = cookie;
	pthread_mutex_lock(&c->lock);
	push_event_locked(c, nd);
	pthread_mutex_unlock(&c->lock);
	return 0;
}

static void to_abs(const struct cpu *c, double t, struct timespec *ts)
{
	double s = floor(t);
	long ns = (long)((t - s) * 1e9);

	ts->tv_sec = c->t0.tv_sec + (time_t)s;
	ts->tv_nsec = c->t0.tv_nsec + ns;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

/* Returns -EDEADLK rather than blocking forever when asked to wait without a time limit
 * while nothing is in flight: no event could ever arrive. */
static int cpu_wait(struct xpu_backend *be, double until, struct xpu_event *ev, int max)
{
	struct cpu *c = cpu_of(be);
	int n = 0;

	if (!ev || max <= 0 || isnan(until) || !c->running)
		return -EINVAL;
	pthread_mutex_lock(&c->lock);
	while (!c->ev_head) {
		double t = since_t0(c);
		struct timespec ts;

		if (t >= until)
			break;
		if (isinf(until) && c->inflight == 0) {
			n = -EDEADLK;
			break;
		}
		/* Sleep at most an hour at a time so that huge finite limits convert safely. */
		to_abs(c, fmin(until, t + 3600.0), &ts);
		pthread_cond_timedwait(&c->done, &c->lock, &ts);
	}
	while (n >= 0 && n < max && c->ev_head) {
		struct cpu_node *nd = c->ev_head;
		c->ev_head = nd->next;
		if (!c->ev_head)
			c->ev_tail = NULL;
		ev[n++] = nd->ev;
		free(nd);
	}
	pthread_mutex_unlock(&c->lock);
	return n;
}

/* Changing frequency needs the cpufreq userspace governor and root; the backend offers
 * the one state it runs at. */
static int cpu_set_pstate(struct xpu_backend *be, int unit, int pstate)
{
	struct cpu *c = cpu_of(be);

	if (unit < 0 || unit >= c->nunits || pstate != 0)
		return -EINVAL;
	return 0;
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
	 * plus the dynamic part while busy. */
	snapshot_busy(c);
	*joules = c->idle_w * c->cores * cpu_now(be) + (c->full_w - c->idle_w) * c->snap[unit];
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

/* What this machine lets the run control: cpufreq's scaling_setspeed (the userspace
 * governor) for P-states, RAPL's power limit through powercap, the thermal zones'
 * temperatures; probed once, on the first call. The backend applies none of them yet:
 * its one P-state is the clock the kernel chooses; a control the machine offers is
 * reported as "available, not applied". */
static const char *cpu_controls(struct xpu_backend *be)
{
	struct cpu *c = cpu_of(be);
	if (!c)
		return "pstate=unsupported,idle=unsupported,power_limit=unsupported,"
		       "temperature=unsupported";
	if (!c->controls[0]) {
		const char *pc =
		    xpu_param_str(be->param, be->nparams, "powercap", "/sys/class/powercap");
		char rapl[512];
		snprintf(rapl, sizeof(rapl), "%s/intel-rapl:0/constraint_0_power_limit_uw", pc);
		int freq =
		    access("/sys/devices/system/cpu/cpu0/cpufreq/scaling_setspeed", W_OK) == 0;
		int lim = access(rapl, W_OK) == 0;
		int temp = access("/sys/class/thermal/thermal_zone0/temp", R_OK) == 0;
		snprintf(c->controls, sizeof(c->controls),
		         "pstate=unsupported (%s),idle=unsupported (cpuidle is the kernel's),"
		         "power_limit=unsupported (%s),temperature=unsupported (%s)",
		         freq ? "cpufreq writable, not applied by this backend"
		              : "no writable cpufreq scaling_setspeed",
		         lim ? "RAPL limit writable, not applied by this backend"
		             : "no writable RAPL power limit",
		         temp ? "thermal zones readable, not read by this backend"
		              : "no thermal zone");
	}
	return c->controls;
}

static void cpu_close(struct xpu_backend *be)
{
	struct cpu *c = cpu_of(be);

	if (!c)
		return;
	for (int i = 0; c->w && i < c->n; i++) {
		struct cpu_worker *w = &c->w[i];
		if (!w->tile)
			continue; /* open failed before this worker was set up */
		free_list(w->head);
		free(w->tile);
		pthread_cond_destroy(&w->work);
	}
	free_list(c->ev_head);
	free(c->w);
	free(c->snap);
	free(c->ubusy_mark);
	free(c->ujoules);
	free(c->cpuid);
	pthread_cond_destroy(&c->done);
	pthread_mutex_destroy(&c->lock);
	free(c);
	be->priv = NULL;
}

const struct xpu_backend_ops xpu_backend_cpu = {
    .head = {.version = XPU_BACKEND_VERSION,
             .name = "cpu",
             .description = "host CPU worker threads running a calibrated compute kernel",
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
};
