/* simgrid.c — the "sim" backend: runs the engine inside a SimGrid simulation of a
 * platform file, with one SimGrid execution per task and real SimGrid transfers.
 *
 * Shape of a run. The engine's body runs in one SimGrid actor. Each unit gets worker
 * actors on its host, created on demand up to its core count; each worker runs one
 * task at a time as a one-core SimGrid execution. Transfers run in helper actors that
 * call sg_host_sendto. Hand-off and completion go through SimGrid synchronisation
 * objects, which cost no simulated time (mailboxes would: a message is a communication
 * on the network model). The engine hands a job to a worker by releasing the worker's
 * semaphore: one simcall each side, where a condition variable would add a lock and
 * an unlock around every wait, and the benchmark replays a million tasks. The engine
 * waits for completions on a condition variable, which gives the timed wait that
 * wait(until) needs; workers signal it only while the engine is waiting. Actors are
 * scheduled cooperatively on one thread (contexts/nthreads = 1, enforced at open), so
 * queues shared by actors need no lock: an actor runs alone between two simcalls.
 *
 * One SimGrid engine per process. SimGrid 3.32 keeps its engine, platform and clock in
 * process-wide state that cannot be torn down and rebuilt, so this backend can be
 * opened once per process; a second open returns -EBUSY. Running several simulations
 * means several processes (as `xpuopt study` and the Criterion tests do).
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <fcntl.h>

#include <simgrid/actor.h>
#include <simgrid/cond.h>
#include <simgrid/engine.h>
#include <simgrid/host.h>
#include <simgrid/link.h>
#include <simgrid/mutex.h>
#include <simgrid/plugins/energy.h>
#include <simgrid/semaphore.h>
#include <xbt/config.h>
#include <xbt/log.h>

#include "backend.h"
#include "platform.h"

/* From sim/sg_load.cpp: the calls that need C++ to catch SimGrid's exceptions. */
struct xpu_sg_hooks {
	int (*host)(void *ctx, sg_host_t host);
	int (*link)(void *ctx, const char *name, const char *wattage_range);
	void *ctx;
};
void xpu_sg_connect_hooks(void);
int xpu_sg_load_platform(const char *path, const struct xpu_sg_hooks *hooks, char *msg, size_t len,
                         int *line);
int xpu_sg_run(char *msg, size_t len);
int xpu_sg_host_prop_names(sg_host_t host, const char ***names);
void xpu_sg_execute_threads(double flops_per_thread, int threads);
sg_disk_t xpu_sg_memory_disk(sg_host_t host, const char *name, double bytes_per_s);
void xpu_sg_execute_streaming(double flops_per_thread, int threads, sg_disk_t disk, double bytes);
void xpu_sg_routes_record(void);
int xpu_sg_route(sg_host_t src, sg_host_t dst, double *latency, double *bandwidth);

/* Stack of a worker or transfer actor, in KiB (the unit of sg_actor_set_stacksize, as
 * of SimGrid's contexts/stack-size; checked by experiment on 3.32). Their code is a
 * short loop; SimGrid's 8 MiB default is meant for arbitrary user code and would
 * reserve gigabytes of address space on a platform with thousands of cores. */
#define WORKER_STACK_KIB 256

struct job {
	uint64_t cookie;
	double amount; /* flops per thread for a task, bytes for a transfer */
	int threads;   /* a task's width: one execution of that many threads */
	sg_host_t src, dst;
	sg_disk_t mem; /* a task's shared memory (unified memory), or NULL */
	double bytes;  /* what the task streams through mem */
};

struct sim_unit;

struct worker {
	struct sim *sim;
	struct sim_unit *unit; /* NULL for a transfer helper */
	sg_sem_t wake;         /* released once per job handed over */
	struct worker *next_idle;
	struct worker *next_all;
	struct worker *next_of_unit; /* the unit's workers, for a failure */
	sg_actor_t actor;
	int busy;   /* holds a job (not on the idle list) */
	int killed; /* by a unit failure */
	struct job job;
};

struct sim_unit {
	sg_host_t host;
	double speed;  /* flop/s of one core at the current P-state */
	int has_power; /* wattage_per_state given: SimGrid can report energy */
	int nworkers;  /* created so far, at most the unit's cores */
	struct worker *idle;
	struct worker *workers; /* all of them */
	/* Launches waiting for a core: a ring, grown by doubling. */
	struct job *q;
	size_t qhead, qlen, qcap;
};

struct sim {
	struct xpu_platform *pf;
	int nunits;
	struct sim_unit *u;
	sg_host_t *hosts; /* units' hosts while loading */
	int nhosts;
	struct xpu_err *err;
	int hook_rc;

	/* Completion events, FIFO ring grown by doubling. */
	struct xpu_event *ev;
	size_t evhead, evlen, evcap;
	long inflight; /* launches and transfers not yet reported */

	sg_sem_t wake; /* released when an event arrives while the engine waits */
	int waiting;

	/* Per memory pool: the disk that carries its bandwidth when units share it
	 * (xpu_sg_memory_disk), else NULL. */
	sg_disk_t *pool_disk;

	struct worker *xfer_idle;
	struct worker *all; /* every worker and helper, for close */
	int nxfer;

	void (*body)(void *);
	void *arg;
	int ran, body_done;
};

static int sg_opened; /* see the file comment: one engine per process */

/* ------------------------------------------------------------------ queues */

static int grow_ring(void **buf, size_t *head, size_t len, size_t *cap, size_t elem)
{
	size_t nc = *cap ? *cap * 2 : 64;
	char *nb = malloc(nc * elem);
	if (!nb)
		return -ENOMEM;
	/* Unwrap the old ring into the start of the new one. */
	for (size_t i = 0; i < len; i++)
		memcpy(nb + i * elem, (char *)*buf + ((*head + i) % *cap) * elem, elem);
	free(*buf);
	*buf = nb;
	*head = 0;
	*cap = nc;
	return 0;
}

static void push_event(struct sim *s, int type, uint64_t cookie, int status)
{
	if (s->evlen == s->evcap &&
	    grow_ring((void **)&s->ev, &s->evhead, s->evlen, &s->evcap, sizeof(*s->ev)) < 0) {
		/* Out of memory in an actor: nothing sensible to return to. */
		fprintf(stderr, "xpuopt: out of memory queueing a SimGrid event\n");
		abort();
	}
	s->ev[(s->evhead + s->evlen++) % s->evcap] = (struct xpu_event){
	    .type = type,
	    .cookie = cookie,
	    .status = status,
	    .time = simgrid_get_clock(),
	};
	if (s->waiting) {
		/* One wake-up per batch: the engine drains every event queued by then. */
		s->waiting = 0;
		sg_sem_release(s->wake);
	}
}

/* ------------------------------------------------------------------ actors */

static void worker_main(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	struct worker *w = sg_actor_self_get_data();
	struct sim *s = w->sim;
	struct sim_unit *u = w->unit;
	sg_sem_acquire(w->wake);
	for (;;) {
		if (u) {
			if (w->job.mem)
				xpu_sg_execute_streaming(w->job.amount, w->job.threads, w->job.mem,
				                         w->job.bytes);
			else if (w->job.threads > 1)
				xpu_sg_execute_threads(w->job.amount, w->job.threads);
			else
				sg_actor_execute(w->job.amount);
		} else
			sg_host_sendto(w->job.src, w->job.dst, w->job.amount);
		/* Killed by a unit failure in the instant its work ended: SimGrid may let
		 * it resume once before it dies, and the engine has taken the task back. */
		if (w->killed)
			return;
		uint64_t cookie = w->job.cookie;
		/* Take the next waiting launch at once, or go idle, before reporting: the
		 * engine may launch again as soon as it hears of this completion. */
		int more = u && u->qlen > 0;
		if (more) {
			w->job = u->q[u->qhead];
			u->qhead = (u->qhead + 1) % u->qcap;
			u->qlen--;
		} else if (u) {
			w->busy = 0;
			w->next_idle = u->idle;
			u->idle = w;
		} else {
			w->next_idle = s->xfer_idle;
			s->xfer_idle = w;
		}
		s->inflight--;
		push_event(s, u ? XPU_EV_DONE : XPU_EV_COPY, cookie, 0);
		if (!more)
			sg_sem_acquire(w->wake);
	}
}

static void engine_main(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	struct sim *s = sg_actor_self_get_data();
	s->body(s->arg);
	s->body_done = 1;
}

/* Creates a worker (unit != NULL) or a transfer helper on host, already holding job.
 * Called from the engine actor; the new actor starts at the same simulated time. */
static struct worker *spawn(struct sim *s, struct sim_unit *u, sg_host_t host,
                            const struct job *job)
{
	struct worker *w = calloc(1, sizeof(*w));
	if (!w)
		return NULL;
	w->sim = s;
	w->unit = u;
	w->job = *job;
	w->wake = sg_sem_init(1); /* the job is handed over with it */
	w->next_all = s->all;
	s->all = w;
	if (u) {
		w->next_of_unit = u->workers;
		u->workers = w;
	}
	char name[96];
	if (u)
		snprintf(name, sizeof(name), "xpu-worker:%s:%d", sg_host_get_name(host),
		         u->nworkers);
	else
		snprintf(name, sizeof(name), "xpu-transfer:%d", s->nxfer);
	sg_actor_t a = sg_actor_init(name, host);
	w->actor = a;
	w->busy = 1;
	sg_actor_set_data(a, w);
	sg_actor_set_stacksize(a, WORKER_STACK_KIB);
	sg_actor_start(a, worker_main, 0, NULL);
	/* Daemons: the simulation ends when the engine's body returns, even with
	 * workers idle or busy. */
	sg_actor_daemonize(a);
	return w;
}

/* ------------------------------------------------------------------ open */

struct prop_ctx {
	sg_host_t host;
	const char **names;
	int n;
};

static const char *host_prop(void *ctx, const char *key)
{
	return sg_host_get_property_value(((struct prop_ctx *)ctx)->host, key);
}

static const char *host_prop_name(void *ctx, int i)
{
	struct prop_ctx *p = ctx;
	return i >= 0 && i < p->n ? p->names[i] : NULL;
}

/* Runs as SimGrid seals each host, in file order, before the energy plugin looks at
 * it (see sg_load.cpp): the unit table is built here, in declaration order. */
static int on_host(void *ctx, sg_host_t h)
{
	struct sim *s = ctx;
	int np = (int)sg_host_get_nb_pstates(h);
	double *speeds = calloc(np > 0 ? (size_t)np : 1, sizeof(double));
	struct prop_ctx pc = {.host = h};
	int rc = -ENOMEM;
	if (!speeds || (pc.n = xpu_sg_host_prop_names(h, &pc.names)) < 0)
		goto out;
	for (int i = 0; i < np; i++)
		speeds[i] = sg_host_get_pstate_speed(h, (unsigned long)i);
	struct xpu_host_desc d = {
	    .name = sg_host_get_name(h),
	    .line = xpu_platform_host_line(s->pf->path, sg_host_get_name(h)),
	    .cores = sg_host_core_count(h),
	    .npstates = np,
	    .speeds = speeds,
	    .prop = host_prop,
	    .ctx = &pc,
	    .prop_name = host_prop_name,
	};
	rc = xpu_platform_add_host(s->pf, &d, s->err);
	if (rc == 0) {
		if ((s->nhosts & (s->nhosts - 1)) == 0) {
			sg_host_t *nh = realloc(s->hosts, (size_t)(s->nhosts ? s->nhosts * 2 : 4) *
			                                      sizeof(*nh));
			if (!nh) {
				rc = -ENOMEM;
				goto out;
			}
			s->hosts = nh;
		}
		s->hosts[s->nhosts++] = h;
	}
out:
	if (rc == -ENOMEM)
		xpu_errf(s->err, s->pf->path, 0, "out of memory reading host '%s'",
		         sg_host_get_name(h));
	free(speeds);
	free(pc.names);
	if (rc < 0) {
		s->hook_rc = rc;
		return 1;
	}
	return 0;
}

/* SimGrid's link energy plugin reads wattage_range as IDLE:BUSY watts; check it
 * here so that a malformed value is reported with its line. */
static int on_link(void *ctx, const char *name, const char *w)
{
	struct sim *s = ctx;
	if (!w)
		return 0;
	char *end;
	double idle = strtod(w, &end);
	int ok = end != w && *end == ':' && idle >= 0 && isfinite(idle);
	if (ok) {
		const char *b = end + 1;
		double busy = strtod(b, &end);
		ok = end != b && *end == '\0' && busy >= 0 && isfinite(busy);
	}
	if (ok)
		return 0;
	s->hook_rc =
	    xpu_errf(s->err, s->pf->path, xpu_platform_element_line(s->pf->path, "link", name),
	             "link '%s': property 'wattage_range': expected IDLE:BUSY "
	             "non-negative watts such as 0.5:2, got \"%s\"",
	             name, w);
	return 1;
}

/* Routes on demand (sim/sg_routes.cpp): one SimGrid query per ordered pair of units,
 * when the engine first needs it; pairs the platform does not connect are "no route". */
static int sim_route(void *ctx, int src, int dst, double *latency, double *bandwidth)
{
	struct sim *s = ctx;
	if (src < 0 || dst < 0 || src >= s->nhosts || dst >= s->nhosts)
		return -EINVAL;
	return xpu_sg_route(s->hosts[src], s->hosts[dst], latency, bandwidth) == 0 ? 0
	                                                                           : -EHOSTUNREACH;
}

static void sim_free(struct sim *s)
{
	if (!s)
		return;
	for (struct worker *w = s->all, *next; w; w = next) {
		next = w->next_all;
		sg_sem_destroy(w->wake);
		free(w);
	}
	for (int i = 0; i < s->nunits; i++)
		free(s->u[i].q);
	if (s->wake)
		sg_sem_destroy(s->wake);
	free(s->u);
	free(s->hosts);
	free(s->ev);
	free(s->pool_disk);
	free(s);
}

/* XML allows a UTF-8 byte order mark before the prolog; SimGrid 3.32's parser does not.
 * A file that has one is loaded from a copy without it (tmp, removed by the caller);
 * messages still name the original, whose lines are the same. Returns 1 when a copy
 * was made, 0 when none is needed, -errno. */
static int copy_without_bom(const char *path, char *tmp, size_t len)
{
	FILE *in = fopen(path, "rb");
	unsigned char bom[3];
	if (!in)
		return 0;
	if (fread(bom, 1, 3, in) != 3 || memcmp(bom, "\xef\xbb\xbf", 3)) {
		fclose(in);
		return 0;
	}
	const char *dir = getenv("TMPDIR");
	snprintf(tmp, len, "%s/xpuopt-platform-XXXXXX", dir && *dir ? dir : "/tmp");
	int fd = mkstemp(tmp);
	FILE *out = fd >= 0 ? fdopen(fd, "wb") : NULL;
	if (!out) {
		int e = errno;
		if (fd >= 0)
			close(fd);
		fclose(in);
		tmp[0] = '\0';
		return -e;
	}
	char buf[65536];
	size_t n;
	int ok = 1;
	while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
		ok &= fwrite(buf, 1, n, out) == n;
	ok &= !ferror(in);
	ok &= fclose(out) == 0;
	fclose(in);
	if (!ok) {
		unlink(tmp);
		tmp[0] = '\0';
		return -EIO;
	}
	return 1;
}

/* Unified memory: each pool that two or more units with a memory bandwidth share gets
 * a disk, on its first unit's host, whose bandwidth is the fastest of theirs (the
 * memory's; a unit's own port may be slower, and launch_amount bounds its task by
 * that). The tasks streaming through the pool share the disk (xpu_sg_execute_streaming). */
static int memory_disks(struct sim *s)
{
	const struct xpu_platform *pf = s->pf;
	int *users = calloc((size_t)pf->npools + 1, sizeof(*users));
	double *bw = calloc((size_t)pf->npools + 1, sizeof(*bw));
	int *first = calloc((size_t)pf->npools + 1, sizeof(*first));
	int rc = 0;
	if (!users || !bw || !first) {
		rc = -ENOMEM;
		goto out;
	}
	for (int i = 0; i < pf->nunits; i++) {
		const struct xpu_unit *un = &pf->units[i];
		if (un->mem_pool < 0 || un->mem_pool >= pf->npools || !(un->mem_bw > 0))
			continue;
		if (users[un->mem_pool]++ == 0)
			first[un->mem_pool] = i;
		if (un->mem_bw > bw[un->mem_pool])
			bw[un->mem_pool] = un->mem_bw;
	}
	for (int p = 0; p < pf->npools; p++) {
		if (users[p] < 2)
			continue;
		if (!s->pool_disk &&
		    !(s->pool_disk = calloc((size_t)pf->npools, sizeof(*s->pool_disk)))) {
			rc = -ENOMEM;
			goto out;
		}
		char name[64];
		snprintf(name, sizeof(name), "xpu-memory-%d", p);
		s->pool_disk[p] = xpu_sg_memory_disk(s->u[first[p]].host, name, bw[p]);
		if (!s->pool_disk[p]) {
			rc = -EINVAL;
			goto out;
		}
	}
out:
	free(users);
	free(bw);
	free(first);
	return rc;
}

static int sim_open(struct xpu_backend *be, const char *path, struct xpu_platform *pf,
                    struct xpu_err *err)
{
	if (!path)
		return xpu_errf(err, NULL, 0,
		                "the sim backend needs a platform file (--platform FILE)");
	if (sg_opened) {
		xpu_errf(err, path, 0,
		         "SimGrid is already running in this process: the sim backend can be "
		         "opened once per process");
		return -EBUSY;
	}
	/* SimGrid dies (rather than throws) on a missing file: check first. */
	if (access(path, R_OK) < 0) {
		int e = errno;
		return xpu_errf(err, path, 0, "cannot read the platform file: %s", strerror(e));
	}
	/* What SimGrid would abort on, or report without a line, is refused here. */
	int pre = xpu_platform_precheck(path, err);
	if (pre < 0)
		return pre == -ENOMEM ? -ENOMEM : -EINVAL;
	sg_opened = 1;

	/* Quiet unless something is wrong; XPU_SG_LOG passes SimGrid --log settings
	 * (e.g. "root.thresh:info") for debugging. */
	xbt_log_control_set("root.thresh:error");
	const char *log = getenv("XPU_SG_LOG");
	if (log && *log)
		xbt_log_control_set(log);
	static char arg0[] = "xpuopt";
	static char *argv[] = {arg0, NULL};
	int argc = 1;
	simgrid_init(&argc, argv);
	/* Exact transfers (DESIGN.md section 4): CM02 is latency + size / bandwidth
	 * with no TCP correction factors (SimGrid manual, "Network models"); the TCP
	 * window bound gamma / (2 latency) is switched off, and so is the cross-traffic
	 * of acknowledgements. A <config> in the platform file may set them back. */
	sg_cfg_set_string("network/model", "CM02");
	sg_cfg_set_boolean("network/crosstraffic", "no");
	sg_cfg_set_double("network/TCP-gamma", 0.0);
	xpu_sg_connect_hooks(); /* before the energy plugins: see sg_load.cpp */
	xpu_sg_routes_record(); /* before the platform: see sg_routes.cpp */
	sg_host_energy_plugin_init();
	sg_link_energy_plugin_init();

	struct sim *s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	xpu_platform_init(pf, path);
	s->pf = pf;
	s->err = err;
	struct xpu_sg_hooks hooks = {.host = on_host, .link = on_link, .ctx = s};
	char msg[sizeof(err->msg)], nobom[4096] = "";
	int line = 0;
	int rc = copy_without_bom(path, nobom, sizeof(nobom));
	if (rc < 0) {
		rc = xpu_errf(err, path, 0,
		              "cannot copy the platform without its byte order mark: %s",
		              strerror(-rc));
		goto fail;
	}
	rc = xpu_sg_load_platform(nobom[0] ? nobom : path, &hooks, msg, sizeof(msg), &line);
	if (nobom[0])
		unlink(nobom);
	if (rc == 1) {
		rc = s->hook_rc < 0 ? s->hook_rc : -EINVAL;
		goto fail;
	}
	if (rc < 0) {
		/* SimGrid follows an unknown <config> key with a list of every key it has:
		 * name the key and its line instead. */
		static const char bad_key[] = "Bad config key: ";
		if (!strncmp(msg, bad_key, sizeof(bad_key) - 1)) {
			char key[256];
			snprintf(key, sizeof(key), "%.*s",
			         (int)strcspn(msg + sizeof(bad_key) - 1, "\n"),
			         msg + sizeof(bad_key) - 1);
			rc = xpu_errf(
			    err, path, xpu_platform_element_line(path, "prop", key),
			    "<config> property '%s': not a SimGrid configuration key (the "
			    "keys are listed in SimGrid's manual, \"Configuring SimGrid\")",
			    key);
			goto fail;
		}
		rc = xpu_errf(err, path, line, "%s", msg);
		goto fail;
	}
	if (sg_cfg_get_int("contexts/nthreads") > 1) {
		rc = xpu_errf(err, path, 0,
		              "contexts/nthreads must be 1 for xpuopt (its queues rely on "
		              "SimGrid running one actor at a time)");
		goto fail;
	}
	if ((rc = xpu_platform_finish_units(pf, sim_route, s)) < 0) {
		xpu_errf(err, path, 0, "out of memory");
		goto fail;
	}
	if ((rc = xpu_platform_check(pf, err)) < 0)
		goto fail;

	s->nunits = pf->nunits;
	s->u = calloc((size_t)pf->nunits, sizeof(*s->u));
	if (!s->u) {
		rc = -ENOMEM;
		goto fail;
	}
	for (int i = 0; i < pf->nunits; i++) {
		struct sim_unit *u = &s->u[i];
		u->host = s->hosts[i];
		u->speed = pf->units[i].pstates[0].speed;
		u->has_power = sg_host_get_property_value(u->host, "wattage_per_state") != NULL;
		sg_host_set_pstate(u->host, 0);
	}
	if ((rc = memory_disks(s)) < 0) {
		xpu_errf(err, path, 0,
		         "SimGrid refused the disk that models a shared memory's "
		         "bandwidth");
		goto fail;
	}
	be->priv = s;
	return 0;
fail:
	xpu_platform_free(pf);
	sim_free(s);
	return rc;
}

/* ------------------------------------------------------------------ run */

static int sim_run(struct xpu_backend *be, void (*body)(void *), void *arg)
{
	struct sim *s = be->priv;
	if (!s)
		return -EINVAL;
	if (s->ran)
		return -EBUSY; /* the simulated clock cannot be rewound */
	s->ran = 1;
	s->body = body;
	s->arg = arg;
	s->wake = sg_sem_init(0);
	sg_actor_t a = sg_actor_init("xpu-engine", s->u[0].host);
	sg_actor_set_data(a, s);
	sg_actor_start(a, engine_main, 0, NULL);
	char msg[512];
	int rc = xpu_sg_run(msg, sizeof(msg));
	if (rc < 0) {
		fprintf(stderr, "xpuopt: SimGrid: %s\n", msg);
		return rc;
	}
	/* The body returns only through its own end; if SimGrid stopped first, every
	 * actor was blocked (a deadlock SimGrid has already reported). */
	return s->body_done ? 0 : -EDEADLK;
}

static double sim_now(struct xpu_backend *be)
{
	(void)be;
	return simgrid_get_clock();
}

/* The simulated work of a launch, in SimGrid flops per thread on the unit's host.
 * SimGrid runs a host at the P-state's speed; a class whose rate differs from that
 * speed (peak x efficiency, xpu_unit_rate) is run as a proportionally larger or
 * smaller amount, so that a P-state change mid-run still stretches it. A memory-bound
 * launch (bytes / memory bandwidth longer than its compute) is sized to that time at
 * the current speed. An explicit duration is sized at the current speed. The launch
 * delay (launch latency, FPGA reconfiguration) is work at the current speed too: the
 * unit counts as busy, at load power, while it sets the launch up. */
static int launch_amount(const struct sim *s, const struct xpu_launch *l, double *amount)
{
	const struct xpu_unit *un = &s->pf->units[l->unit];
	const struct sim_unit *u = &s->u[l->unit];
	uint32_t width = l->width ? l->width : 1;
	if (!(l->flops >= 0) || !(l->bytes >= 0) || !(l->delay >= 0) || !isfinite(l->flops) ||
	    !isfinite(l->bytes) || !isfinite(l->delay) || (int)width > un->cores)
		return -EINVAL;
	if (l->flops <= 0 && l->bytes <= 0) {
		if (!(l->seconds >= 0) || !isfinite(l->seconds))
			return -EINVAL;
		*amount = (l->seconds + l->delay) * u->speed;
		return 0;
	}
	double a = 0;
	if (l->flops > 0) {
		double rate0 = xpu_unit_rate(un, l->cls, 0);
		if (!(rate0 > 0))
			return -EINVAL;
		a = l->flops / width * (un->pstates[0].speed / rate0);
	}
	if (l->bytes > 0 && un->mem_bw > 0) {
		double mem = l->bytes / un->mem_bw * u->speed;
		if (mem > a)
			a = mem;
	}
	*amount = a + l->delay * u->speed;
	return 0;
}

static int sim_launch(struct xpu_backend *be, const struct xpu_launch *l)
{
	struct sim *s = be->priv;
	if (l->unit < 0 || l->unit >= s->nunits)
		return -EINVAL;
	struct sim_unit *u = &s->u[l->unit];
	struct job j = {.cookie = l->cookie, .threads = l->width ? (int)l->width : 1};
	int rc = launch_amount(s, l, &j.amount);
	if (rc)
		return rc;
	const struct xpu_unit *un = &s->pf->units[l->unit];
	if (l->bytes > 0 && un->mem_bw > 0 && s->pool_disk && s->pool_disk[un->mem_pool]) {
		j.mem = s->pool_disk[un->mem_pool];
		j.bytes = l->bytes;
	}
	struct worker *w = u->idle;
	if (w) {
		u->idle = w->next_idle;
		w->busy = 1;
		w->job = j;
		s->inflight++;
		sg_sem_release(w->wake);
		return 0;
	}
	if (u->nworkers < s->pf->units[l->unit].cores) {
		if (!spawn(s, u, u->host, &j))
			return -ENOMEM;
		u->nworkers++;
		s->inflight++;
		return 0;
	}
	/* Every worker busy: the launch waits for the first worker to finish. */
	if (u->qlen == u->qcap &&
	    grow_ring((void **)&u->q, &u->qhead, u->qlen, &u->qcap, sizeof(*u->q)) < 0)
		return -ENOMEM;
	u->q[(u->qhead + u->qlen++) % u->qcap] = j;
	s->inflight++;
	return 0;
}

static int sim_copy(struct xpu_backend *be, const struct xpu_copy *c)
{
	struct sim *s = be->priv;
	int src = c->src_unit, dst = c->dst_unit;
	double bytes = c->bytes;
	if (src < 0 || dst < 0 || src >= s->nunits || dst >= s->nunits || !(bytes >= 0) ||
	    !isfinite(bytes))
		return -EINVAL;
	const struct xpu_platform *pf = s->pf;
	if (bytes == 0 || src == dst || pf->units[src].mem_pool == pf->units[dst].mem_pool) {
		/* Nothing moves (DESIGN.md: shared memory needs no copy); still an event,
		 * so the engine sees every copy complete the same way. */
		push_event(s, XPU_EV_COPY, c->cookie, 0);
		return 0;
	}
	double lat, bw;
	if (!xpu_platform_route(pf, src, dst, &lat, &bw))
		return -EHOSTUNREACH;
	struct job j = {
	    .cookie = c->cookie, .amount = bytes, .src = s->u[src].host, .dst = s->u[dst].host};
	struct worker *w = s->xfer_idle;
	if (w) {
		s->xfer_idle = w->next_idle;
		w->job = j;
		sg_sem_release(w->wake);
	} else {
		/* Helpers live on the source host; sg_host_sendto does not depend on it. */
		if (!spawn(s, NULL, j.src, &j))
			return -ENOMEM;
		s->nxfer++;
	}
	s->inflight++;
	return 0;
}

static int sim_wait(struct xpu_backend *be, double until, struct xpu_event *ev, int max)
{
	struct sim *s = be->priv;
	if (max <= 0)
		return -EINVAL;
	if (s->evlen == 0 && s->inflight == 0 && until == INFINITY)
		return -EDEADLK; /* nothing could ever arrive */
	while (s->evlen == 0) {
		double now = simgrid_get_clock();
		if (until != INFINITY && now >= until)
			break;
		/* A worker releases the semaphore at most once per wait (it clears
		 * `waiting`); a release that lands after a timeout only makes the next
		 * wait return early and loop. */
		s->waiting = 1;
		if (until == INFINITY)
			sg_sem_acquire(s->wake);
		else if (sg_sem_acquire_timeout(s->wake, until - now))
			break; /* reached until: after a timeout the clock is until up to the
			        * last bit of the subtraction; stopping here avoids spinning on
			        * a delay too small for the clock to move */
	}
	s->waiting = 0;
	int n = 0;
	while (n < max && s->evlen > 0) {
		ev[n++] = s->ev[s->evhead];
		s->evhead = (s->evhead + 1) % s->evcap;
		s->evlen--;
	}
	return n;
}

/* A unit failure: the workers running its launches are killed at once, as SimGrid
 * kills the actors of a host that fails (their executions stop, and no event is ever
 * reported for them), and the launches waiting for one of its cores are dropped. Its
 * idle workers live on; new ones replace the dead when work comes back. */
static int sim_cancel_unit(struct xpu_backend *be, int unit)
{
	struct sim *s = be->priv;
	if (unit < 0 || unit >= s->nunits)
		return -EINVAL;
	/* First let the actors whose work ended in this instant report it: that work
	 * ended before the failure. */
	sg_actor_yield();
	struct sim_unit *u = &s->u[unit];
	int n = (int)u->qlen;
	s->inflight -= (long)u->qlen;
	u->qlen = 0;
	u->qhead = 0;
	struct worker **link = &u->workers;
	while (*link) {
		struct worker *w = *link;
		if (!w->busy) {
			link = &w->next_of_unit;
			continue;
		}
		*link = w->next_of_unit; /* off the unit's list; freed at close */
		w->killed = 1;
		sg_actor_kill(w->actor);
		u->nworkers--;
		s->inflight--;
		n++;
	}
	return n;
}

static int sim_set_pstate(struct xpu_backend *be, int unit, int pstate)
{
	struct sim *s = be->priv;
	if (unit < 0 || unit >= s->nunits || pstate < 0 || pstate >= s->pf->units[unit].npstates)
		return -EINVAL;
	sg_host_set_pstate(s->u[unit].host, (unsigned long)pstate);
	s->u[unit].speed = s->pf->units[unit].pstates[pstate].speed;
	return 0;
}

static int sim_read_energy(struct xpu_backend *be, int unit, double *joules, int *modeled)
{
	struct sim *s = be->priv;
	if (unit < 0 || unit >= s->nunits)
		return -EINVAL;
	/* The energy plugin refuses hosts without wattage_per_state; they draw 0 W. */
	*joules = s->u[unit].has_power ? sg_host_get_consumed_energy(s->u[unit].host) : 0;
	*modeled = 1;
	return 0;
}

static int sim_read_link_energy(struct xpu_backend *be, double *joules)
{
	(void)be;
	*joules = 0;
	if (!sg_link_energy_is_inited())
		return 0;
	size_t n = sg_link_count();
	sg_link_t *links = sg_link_list();
	for (size_t i = 0; links && i < n; i++)
		*joules += sg_link_get_consumed_energy(links[i]);
	free(links);
	return 0;
}

static void sim_close(struct xpu_backend *be)
{
	struct sim *s = be->priv;
	if (s && s->pf)
		xpu_platform_detach_routes(s->pf);
	sim_free(be->priv);
	be->priv = NULL;
}

/* Every control is the model's. */
/* The limit of the model is the power policy's P-states (policies/power/powercap.c,
 * ipa.c): nothing further to apply. */
static int sim_set_power_limit(struct xpu_backend *be, int pool, double watts)
{
	if (!be || !be->pf || pool < -1 || pool >= be->pf->npools || !(watts > 0))
		return -EINVAL;
	return 0;
}

static const char *sim_controls(struct xpu_backend *be)
{
	(void)be;
	return "pstate=simulated,idle=simulated,power_limit=simulated,temperature=simulated";
}

const struct xpu_backend_ops xpu_backend_sim = {
    .head = {.version = XPU_BACKEND_VERSION,
             .name = "sim",
             .description = "SimGrid simulation of a platform file"},
    .open = sim_open,
    .run = sim_run,
    .now = sim_now,
    .launch = sim_launch,
    .copy = sim_copy,
    .wait = sim_wait,
    .set_pstate = sim_set_pstate,
    .read_energy = sim_read_energy,
    .read_link_energy = sim_read_link_energy,
    .close = sim_close,
    .cancel_unit = sim_cancel_unit,
    .controls = sim_controls,
    .set_power_limit = sim_set_power_limit,
};
