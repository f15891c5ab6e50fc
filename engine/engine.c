/* engine.c — the one event loop: arrivals, readiness, placement, data movement,
 * memory, P-states and completions, the same code for every backend. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "engine_impl.h"

#define MAX_EVENTS 256
/* A task stopped by unit failures this many times fails: the livelock guard. */
#define XPU_MAX_ATTEMPTS 1000

/* ------------------------------------------------------------------ task states */

/* Bit `to` of allowed[from]: the lifecycle drawn in xpu.h. */
#define B(s) (1u << XPU_TASK_##s)
/* A task queued on a unit whose device went moves on (fallback): back to SUBMITTED when
 * it still waits for inputs, else READY, then placed on the next unit. */
#define UNPLACE (B(SUBMITTED) | B(READY))
static const unsigned allowed[XPU_TASK_NSTATES] = {
    [XPU_TASK_PENDING] = B(SUBMITTED) | B(FAILED),
    [XPU_TASK_SUBMITTED] = B(READY) | B(PLACED) | B(STAGING) | B(FAILED),
    [XPU_TASK_READY] = B(PLACED) | B(STAGING) | B(FAILED),
    [XPU_TASK_PLACED] = B(STAGING) | B(WAITING_MEM) | B(RUNNING) | B(FAILED) | UNPLACE,
    [XPU_TASK_STAGING] = B(PLACED) | B(WAITING_MEM) | B(FAILED) | UNPLACE,
    [XPU_TASK_WAITING_MEM] = B(STAGING) | B(RUNNING) | B(FAILED) | UNPLACE,
    [XPU_TASK_RUNNING] = B(DONE) | B(FAILED) | B(READY) | B(PLACED),
    [XPU_TASK_DONE] = 0,
    [XPU_TASK_FAILED] = 0,
};
#undef UNPLACE
#undef B

int xpu_task_transition_ok(int from, int to)
{
	if (from < 0 || from >= XPU_TASK_NSTATES || to < 0 || to >= XPU_TASK_NSTATES)
		return 0;
	return (allowed[from] >> to) & 1;
}

const char *xpu_task_state_name(int state)
{
	static const char *const names[XPU_TASK_NSTATES] = {"pending", "submitted", "ready",
	                                                    "placed",  "staging",   "waiting-mem",
	                                                    "running", "done",      "failed"};
	return state >= 0 && state < XPU_TASK_NSTATES ? names[state] : "?";
}

static void fatal(struct xpu_engine *e, int rc, const char *what);

/* The one place a task's state changes: checked against the lifecycle and reported to
 * the run's observer. An illegal change is an engine bug: the run stops with it. */
static int set_state(struct xpu_engine *e, struct xpu_task *t, int to)
{
	int from = t->state;
	if (from == to)
		return 0;
	if (!xpu_task_transition_ok(from, to)) {
		if (!e->rc) {
			e->rc = -EPROTO;
			xpu_errf(e->err, NULL, 0, "engine: task \"%s\" cannot go from %s to %s",
			         t->id, xpu_task_state_name(from), xpu_task_state_name(to));
		}
		return -EPROTO;
	}
	t->state = to;
	if (e->observe)
		e->observe(e->observe_ctx, t, from, to, e->now);
	return 0;
}

/* ------------------------------------------------------------------ unit bookkeeping */

static void mark_dirty(struct xpu_engine *e, int u);
static void fail_task(struct xpu_engine *e, struct xpu_task *t);
static void note_pool(struct xpu_engine *e, int pool);
static void wake_memory_waiters(struct xpu_engine *e, int pool);
static void free_task_mem(struct xpu_engine *e, struct xpu_task *t);

int eng_set_state(struct xpu_engine *e, struct xpu_task *t, int to)
{
	return set_state(e, t, to);
}

void eng_mark_dirty(struct xpu_engine *e, int u)
{
	mark_dirty(e, u);
}

void eng_fatal(struct xpu_engine *e, int rc, const char *what)
{
	fatal(e, rc, what);
}

void eng_fail_task(struct xpu_engine *e, struct xpu_task *t)
{
	fail_task(e, t);
}

void eng_inputs_arrived(struct xpu_engine *e, struct xpu_task *t)
{
	if (e->sched.ops->on_inputs)
		e->sched.ops->on_inputs(&e->sched, t, t->unit);
}

void eng_pool_changed(struct xpu_engine *e, int pool)
{
	wake_memory_waiters(e, pool);
}

void eng_note_pool(struct xpu_engine *e, int pool)
{
	if (e->started) /* before the loop, its first rows will show the use */
		note_pool(e, pool);
}

static void fatal(struct xpu_engine *e, int rc, const char *what)
{
	if (!e->rc) {
		e->rc = rc;
		xpu_errf(e->err, NULL, 0, "%s: %s", what, strerror(-rc));
	}
}

static void mark_dirty(struct xpu_engine *e, int u)
{
	if (!e->u[u].dirty) {
		e->u[u].dirty = 1;
		e->dirty[e->ndirty++] = u;
	}
}

/* Keep e->idle_bits = the units with a free core and an empty queue, so that new ready
 * work is offered to those units alone, in index order, without a scan of every unit. */
static void update_idle(struct xpu_engine *e, int u)
{
	struct unit_rt *r = &e->u[u];
	int want = !r->down && r->running < e->pf->units[u].cores && r->queue.n == 0;
	uint64_t bit = (uint64_t)1 << (u & 63);
	if (want && r->idle_pos < 0) {
		r->idle_pos = 1;
		e->idle_bits[u >> 6] |= bit;
		e->nidle++;
	} else if (!want && r->idle_pos >= 0) {
		r->idle_pos = -1;
		e->idle_bits[u >> 6] &= ~bit;
		e->nidle--;
	}
}

/* Unit u's queue head waits for memory of its pool: remember it on the pool's list,
 * which a release in that pool wakes (no scan of every unit). */
static void block_on_memory(struct xpu_engine *e, int u)
{
	struct unit_rt *r = &e->u[u];
	if (r->mem_blocked)
		return;
	int pool = e->pf->units[u].mem_pool;
	r->mem_blocked = 1;
	r->blocked_next = e->pool_blocked[pool];
	e->pool_blocked[pool] = u;
}

static void wake_memory_waiters(struct xpu_engine *e, int pool)
{
	int u = e->pool_blocked[pool];
	e->pool_blocked[pool] = -1;
	while (u >= 0) {
		int next = e->u[u].blocked_next;
		e->u[u].mem_blocked = 0;
		e->u[u].blocked_next = -1;
		mark_dirty(e, u);
		u = next;
	}
}

/* Cores of unit u busy now: its running tasks', at most all of them (launches queued
 * ahead on a live unit wait behind the running one). */
static int busy_cores(const struct xpu_engine *e, int u)
{
	int run = e->u[u].running, cores = e->pf->units[u].cores;
	return run < cores ? run : cores;
}

/* Cores' worth of launches unit u takes at once (launch-ahead: more than its cores). */
static int unit_slots(const struct xpu_unit *un)
{
	return un->slots > un->cores ? un->slots : un->cores;
}

static void busy_update(struct xpu_engine *e, int u)
{
	struct unit_rt *r = &e->u[u];
	r->busy_acc += busy_cores(e, u) * (e->now - r->busy_last);
	r->busy_last = e->now;
}

/* ------------------------------------------------------------------ recorder */

/* Fragmentation of memory pool p now: 1 - largest free block / free bytes, from the
 * memory policy (0 when it places nothing at addresses), recomputed only after the
 * pool's use changed. */
static double pool_frag(struct xpu_engine *e, int p)
{
	if (e->pool_frag[p] >= 0)
		return e->pool_frag[p];
	double f = 0;
	if (e->mem.ops->free_space) {
		double fb = 0, largest = 0;
		e->mem.ops->free_space(&e->mem, p, &fb, &largest);
		f = fb > 0 && largest < fb ? 1 - largest / fb : 0;
	}
	e->pool_frag[p] = f;
	if (f > e->pool_frag_peak[p])
		e->pool_frag_peak[p] = f;
	return f;
}

/* Unit u's state may have changed now: append a change point to the timeline (or
 * update the one it already has at this instant). The row's power, the mean over the
 * span until the unit's next row, is filled in when that row comes, from the backend's
 * energy counter: the simulated energy in sim mode, RAPL or the model live. */
/* The energy an idle state saves per second on unit u now: its P-state's idle power
 * (what the backend charges) less the state's. */
static double idle_saving_w(const struct xpu_unit *un)
{
	return un->pstates[un->pstate].idle_w - un->idle[un->idle_state].power_w;
}

/* Unit u's energy so far: the backend's, less what idle states saved, plus wake-ups. */
static double unit_energy(struct xpu_engine *e, int u)
{
	double joules = 0;
	int modeled = 0;
	if (e->be->ops->read_energy)
		e->be->ops->read_energy(e->be, u, &joules, &modeled);
	const struct xpu_unit *un = &e->pf->units[u];
	const struct unit_rt *r = &e->u[u];
	double saved = r->saved_j;
	if (un->idle_state >= 0)
		saved += idle_saving_w(un) * (e->now - r->saved_since);
	return joules - saved;
}

/* The power the unit draws now, by the model the SimGrid energy plugin applies: its
 * idle state's power, its P-state's idle power when nothing runs, else epsilon plus
 * the dynamic part in proportion to its busy cores. For the online temperature; the
 * recorded energy and the timeline come from the backend. */
static double model_power(const struct xpu_engine *e, int u)
{
	const struct xpu_unit *un = &e->pf->units[u];
	if (un->idle_state >= 0)
		return un->idle[un->idle_state].power_w;
	const struct xpu_pstate *ps = &un->pstates[un->pstate];
	int run = e->u[u].running;
	if (run <= 0)
		return ps->idle_w;
	double load = (double)run / un->cores;
	return ps->epsilon_w + (ps->full_w - ps->epsilon_w) * (load > 1 ? 1 : load);
}

/* Bring unit u's online temperature up to now at the power it drew since, then take
 * its power from its state now. Called at every change of its state (note_unit). */
static void thermal_note(struct xpu_engine *e, int u)
{
	struct unit_rt *r = &e->u[u];
	const struct xpu_unit *un = &e->pf->units[u];
	if (!(un->th_r > 0))
		return;
	if (xpu_thermal_net(e, u) >= 0) { /* on a heat sink: its network moves */
		xpu_thermal_net_note(e, u, model_power(e, u));
		return;
	}
	r->temp = xpu_thermal_step(un, r->temp, r->power_now, e->now - r->temp_t);
	r->temp_t = e->now;
	r->power_now = model_power(e, u);
}

int xpu_unit_sink(const struct xpu_engine *e, int u)
{
	return e && u >= 0 && u < e->pf->nunits ? xpu_thermal_net(e, u) : -1;
}

/* Readings of a backend's sensors are taken at most this often per unit (run time): a
 * sysfs read costs microseconds, and a sensor itself updates every few milliseconds. */
#define MEAS_PERIOD_S 0.01

/* Unit u's measured temperature, read again when the last reading is older than
 * MEAS_PERIOD_S; NAN when the backend measures none. */
static double measured_temp(struct xpu_engine *e, int u)
{
	struct unit_rt *r = &e->u[u];
	if (!e->be->ops->read_temp)
		return NAN;
	if (e->now - r->meas_at >= MEAS_PERIOD_S) {
		double c;
		r->meas_at = e->now;
		r->meas_c = e->be->ops->read_temp(e->be, u, &c) == 0 && isfinite(c) ? c : NAN;
		if (!isnan(r->meas_c) && !(r->meas_max >= r->meas_c))
			r->meas_max = r->meas_c;
	}
	return r->meas_c;
}

double xpu_unit_temp(const struct xpu_engine *e, int u)
{
	if (!e || u < 0 || u >= e->pf->nunits)
		return NAN;
	if (!(e->pf->units[u].th_r > 0)) /* no thermal node: the machine's sensor, if any */
		return measured_temp((struct xpu_engine *)e, u);
	if (xpu_thermal_net(e, u) >= 0)
		return xpu_thermal_net_temp(e, u);
	const struct unit_rt *r = &e->u[u];
	return xpu_thermal_step(&e->pf->units[u], r->temp, r->power_now, e->now - r->temp_t);
}

static void note_unit(struct xpu_engine *e, int u)
{
	struct xpu_timeline *tl = e->tl;
	const struct xpu_unit *un = &e->pf->units[u];
	thermal_note(e, u);
	if (e->be->ops->read_temp && !(un->th_r > 0))
		measured_temp(e, u);
	double util = (double)busy_cores(e, u) / un->cores;
	double mem = e->pool_used[un->mem_pool] + xpu_data_pool_used(e, un->mem_pool);
	double frag = pool_frag(e, un->mem_pool);
	size_t k = e->tl_last[u];
	if (k != SIZE_MAX) {
		if (tl->t[k] == e->now) { /* one row per unit and instant */
			tl->util[k] = util;
			tl->pstate[k] = un->pstate;
			tl->mem[k] = mem;
			tl->frag[k] = frag;
			/* A task ending and the next starting at one instant leave the unit
			 * as it was: the row is dropped again while it is the newest. */
			size_t p = e->tl_prev[u];
			if (k == tl->n - 1 && p != SIZE_MAX && tl->util[p] == util &&
			    tl->pstate[p] == un->pstate && tl->mem[p] == mem &&
			    tl->frag[p] == frag && !e->force_row) {
				tl->n--;
				tl->power[p] = NAN;
				e->tl_last[u] = p;
				e->tl_prev[u] = SIZE_MAX;
				e->tl_energy[u] = e->tl_prev_energy[u];
			}
			return;
		}
		if (tl->util[k] == util && tl->pstate[k] == un->pstate && tl->mem[k] == mem &&
		    tl->frag[k] == frag && !e->force_row)
			return;
	}
	double joules = unit_energy(e, u);
	if (k != SIZE_MAX)
		tl->power[k] = (joules - e->tl_energy[u]) / (e->now - tl->t[k]);
	if (xpu_timeline_add(tl, e->now, u, NAN, un->pstate, util, mem, frag)) {
		fatal(e, -ENOMEM, "timeline");
		return;
	}
	e->tl_prev[u] = k;
	e->tl_prev_energy[u] = e->tl_energy[u];
	e->tl_last[u] = tl->n - 1;
	e->tl_energy[u] = joules;
}

/* Every unit of memory pool `pool`: its use changed. */
static void note_pool(struct xpu_engine *e, int pool)
{
	e->pool_frag[pool] = -1;
	for (int i = e->pool_first[pool]; i < e->pool_first[pool + 1]; i++)
		note_unit(e, e->pool_unit[i]);
}

static void set_pstate(struct xpu_engine *e, int u, int ps)
{
	struct xpu_unit *un = &e->pf->units[u];
	if (ps < 0 || ps >= un->npstates || ps == un->pstate)
		return;
	e->pstate_requests++;
	int rc = e->be->ops->set_pstate ? e->be->ops->set_pstate(e->be, u, ps) : -ENOTSUP;
	if (rc) {
		e->pstate_refused++; /* recorded as asked and refused, never as applied */
		return;              /* the backend keeps its state; so do we */
	}
	e->us[u].residency_s[un->pstate] += e->now - e->u[u].pstate_since;
	e->u[u].pstate_since = e->now;
	if (un->idle_state >= 0) { /* the saving so far, at the old P-state's idle power */
		e->u[u].saved_j += idle_saving_w(un) * (e->now - e->u[u].saved_since);
		e->u[u].saved_since = e->now;
	}
	un->pstate = ps;
	note_unit(e, u);
}

int xpu_power_limit(struct xpu_engine *e, int pool, double watts)
{
	if (!e || pool < -1 || pool >= e->pf->npools || !(watts > 0) || !isfinite(watts))
		return -EINVAL;
	e->limit_requests++;
	int rc = e->be->ops->set_power_limit ? e->be->ops->set_power_limit(e->be, pool, watts)
	                                     : -ENOTSUP;
	if (rc)
		e->limit_refused++; /* recorded as asked and refused, never as applied */
	return rc;
}

/* A unit with nothing to run enters the idle state its power policy chooses. Called
 * once the instant's dispatching is over, so that a unit given work in the same instant
 * never sleeps. */
static void try_sleep(struct xpu_engine *e, int u)
{
	struct unit_rt *r = &e->u[u];
	struct xpu_unit *un = &e->pf->units[u];
	r->sleepy = 0;
	if (r->down || r->running || r->queue.n || un->idle_state >= 0 || !un->nidle ||
	    !e->power.ops->idle)
		return;
	int k = e->power.ops->idle(&e->power, un, r->last_idle);
	if (k < 0 || k >= un->nidle)
		return;
	un->idle_state = k;
	r->idle_enter = r->saved_since = e->now;
	e->force_row = 1; /* its power changes: a row, though nothing else does */
	note_unit(e, u);
	e->force_row = 0;
}

/* Leave the idle state: the saving is counted, the wake energy paid; returns the exit
 * latency the next task waits. */
static double wake(struct xpu_engine *e, int u)
{
	struct unit_rt *r = &e->u[u];
	struct xpu_unit *un = &e->pf->units[u];
	if (un->idle_state < 0)
		return 0;
	const struct xpu_idle_state *st = &un->idle[un->idle_state];
	r->saved_j += idle_saving_w(un) * (e->now - r->saved_since) - st->wake_j;
	e->us[u].idle_state_s += e->now - r->idle_enter;
	e->us[u].idle_state_j += st->power_w * (e->now - r->idle_enter);
	e->us[u].wake_j += st->wake_j;
	e->us[u].wakes++;
	r->last_idle = e->now - r->idle_enter;
	un->idle_state = -1;
	e->force_row = 1;
	note_unit(e, u);
	e->force_row = 0;
	return st->exit_latency;
}

static void mark_sleepy(struct xpu_engine *e, int u)
{
	if (!e->u[u].sleepy && e->sleepy) {
		e->u[u].sleepy = 1;
		e->sleepy[e->nsleepy++] = u;
	}
}

/* ------------------------------------------------------------------ task life */

static int place(struct xpu_engine *e, struct xpu_task *t, int u, double order)
{
	if (u < 0 || u >= e->pf->nunits || t->unit >= 0 || !xpu_can_run(e, t, u) ||
	    (t->state != XPU_TASK_SUBMITTED && t->state != XPU_TASK_READY))
		return -EINVAL;
	int rc = xpu_heap_push(&e->u[u].queue, order, e->seq++, t->index);
	if (rc)
		return rc;
	t->unit = u;
	t->order = order;
	set_state(e, t, XPU_TASK_PLACED);
	t->predicted = xpu_predict(e, t, u);
	e->u[u].queued_pred += t->predicted;
	xpu_data_placed(e, t); /* inputs that exist start moving in */
	update_idle(e, u);
	mark_dirty(e, u);
	return 0;
}

/* Policies hold const views: the engine's own task is the one at the same index. */
static struct xpu_task *own(struct xpu_engine *e, const struct xpu_task *t)
{
	return &e->w->tasks[t->index];
}

int xpu_place(struct xpu_engine *e, const struct xpu_task *t, int u, double order)
{
	if (!t || t->index >= e->w->ntasks || &e->w->tasks[t->index] != t)
		return -EINVAL;
	return place(e, own(e, t), u, order);
}

void xpu_task_set_sched_data(struct xpu_engine *e, const struct xpu_task *t, void *data)
{
	if (t && t->index < e->w->ntasks)
		own(e, t)->sched_data = data;
}

static void make_ready(struct xpu_engine *e, struct xpu_task *t);

/* Submitted and not yet started, so its dependencies still matter. */
static int waits_for_inputs(const struct xpu_task *t)
{
	return t->state == XPU_TASK_SUBMITTED || t->state == XPU_TASK_PLACED ||
	       t->state == XPU_TASK_STAGING;
}

/* A task that cannot run: it and, transitively, every task that needs its data. The
 * propagation walks an explicit stack, so a chain of a million tasks costs a million
 * steps and no call depth. */
static void fail_task(struct xpu_engine *e, struct xpu_task *t)
{
	if (t->state == XPU_TASK_DONE || t->state == XPU_TASK_FAILED)
		return;
	uint32_t n = 0;
	e->fail_stack[n++] = t->index;
	set_state(e, t, XPU_TASK_FAILED); /* marked when pushed: each task enters once */
	while (n) {
		struct xpu_task *f = &e->w->tasks[e->fail_stack[--n]];
		f->end_t = e->now;
		e->nended++;
		free_task_mem(e, f);
		xpu_data_ended(e, f, f->unit, 0);
		if (e->sched.ops->on_done)
			e->sched.ops->on_done(&e->sched, f);
		for (uint32_t i = 0; i < f->nsucc; i++) {
			struct xpu_task *s = &e->w->tasks[f->succ[i]];
			if (s->state == XPU_TASK_DONE || s->state == XPU_TASK_FAILED)
				continue;
			set_state(e, s, XPU_TASK_FAILED);
			e->fail_stack[n++] = s->index;
		}
	}
}

/* Every dependency of t is done: an unplaced task becomes READY; a placed one keeps
 * its state (PLACED or STAGING). Either way the policy hears of it. */
static void make_ready(struct xpu_engine *e, struct xpu_task *t)
{
	if (t->unit < 0)
		set_state(e, t, XPU_TASK_READY);
	t->ready_t = e->now;
	if (e->sched.ops->on_ready)
		e->sched.ops->on_ready(&e->sched, t);
	else if (t->unit < 0)
		xpu_readyq_push(e->central, t, -(double)t->priority);
	if (t->unit >= 0)
		mark_dirty(e, t->unit);
	e->ask_idle = 1;
}

static void start_task(struct xpu_engine *e, struct xpu_task *t, int u)
{
	struct unit_rt *r = &e->u[u];
	struct xpu_unit *un = &e->pf->units[u];
	busy_update(e, u);
	r->queued_pred -= t->predicted;
	if (r->queue.n == 0)
		r->queued_pred = 0; /* no drift from adding and removing doubles */
	if (e->power.ops->select && !(e->gov_period > 0)) {
		/* a governor without a period decides as tasks start; a periodic one
		 * (cpufreq's ondemand, schedutil...) only at its period, on the load then */
		double util = (double)(r->running + 1) / un->cores;
		if (util > 1)
			util = 1;
		set_pstate(e, u, e->power.ops->select(&e->power, un, util));
	}
	if (eng_shares_bw(e, t, u)) /* counted for predictions (xpu_predict) */
		e->pool_mem_tasks[un->mem_pool]++;
	double exit = wake(e, u); /* an idle state's exit latency delays the task */
	set_state(e, t, XPU_TASK_RUNNING);
	t->start_t = e->now;
	t->in_wait_s += e->now - t->wait_t;
	xpu_data_started(e, t);
	t->predicted = xpu_predict(e, t, u) + exit; /* with a reconfiguration, a wake-up */
	r->running += (int)t->width;
	r->running_end += t->width * (e->now + t->predicted);
	r->held_pred += t->predicted;
	r->last_pred = t->predicted;
	/* One launch carries the task's work, whatever its width: the backend runs it as
	 * one execution of width threads (SimGrid) or on width workers (live). */
	struct xpu_launch l = {.unit = u, .cookie = t->index, .cls = t->cls, .width = t->width};
	double c = eng_explicit_cost(t, un);
	double rc_s = eng_reconfig(t, un);
	if (c >= 0) {
		l.seconds = c;
		l.delay = rc_s + exit;
	} else {
		l.flops = t->flops;
		/* the whole traffic: on a unified memory the backend shares the memory's
		 * bandwidth between the tasks streaming through it (SimGrid: one disk per
		 * shared memory; live: the hardware itself) */
		l.bytes = t->bytes;
		l.delay = xpu_unit_launch(un, t->cls) + rc_s + exit;
	}
	if (un->bitstream[t->cls] >= 0)
		un->loaded_bitstream = un->bitstream[t->cls];
	int rc = e->be->ops->launch(e->be, &l);
	if (rc) {
		fatal(e, rc, "backend launch");
		return;
	}
	t->parts = 1;
	t->attempts++;
	e->in_flight++;
	if (e->run_next) { /* the unit's running list, for a failure */
		e->run_prev[t->index] = XPU_NO_TASK;
		e->run_next[t->index] = r->run_head;
		if (r->run_head != XPU_NO_TASK)
			e->run_prev[r->run_head] = t->index;
		r->run_head = t->index;
	}
	update_idle(e, u);
	note_unit(e, u);
}

static void run_unlink(struct xpu_engine *e, struct xpu_task *t)
{
	if (!e->run_next)
		return;
	uint32_t i = t->index, p = e->run_prev[i], n = e->run_next[i];
	if (p != XPU_NO_TASK)
		e->run_next[p] = n;
	else
		e->u[t->unit].run_head = n;
	if (n != XPU_NO_TASK)
		e->run_prev[n] = p;
	e->run_next[i] = e->run_prev[i] = XPU_NO_TASK;
}

/* Try to start work on unit u: its queue head when that is runnable, else ask the
 * policy for a task while the unit has room. Strict queue order keeps static plans. */
static void dispatch_unit(struct xpu_engine *e, int u)
{
	struct unit_rt *r = &e->u[u];
	const struct xpu_unit *un = &e->pf->units[u];
	int slots = unit_slots(un);
	while (!e->rc && !r->down && r->running < slots) {
		const struct xpu_hent *h = xpu_heap_top(&r->queue);
		/* Beyond its cores a unit takes one launch ahead (its next task then waits on
		 * the worker, not in the engine), and more only while the work it holds is
		 * short: a policy is asked for one when the task started last would still
		 * fit in the horizon, and the head goes when its own prediction does. */
		int deep = r->running > un->cores;
		if (!h && deep && !(r->held_pred + r->last_pred <= un->ahead_s))
			break;
		if (!h) {
			const struct xpu_task *ct = NULL;
			if (e->sched.ops->pick)
				ct = e->sched.ops->pick(&e->sched, un);
			else
				ct = xpu_readyq_take(e->central, e, u);
			if (!ct)
				break;
			if (ct->index >= e->w->ntasks || &e->w->tasks[ct->index] != ct) {
				fatal(e, -EINVAL,
				      "the sched policy's pick returned no task of the run");
				break;
			}
			struct xpu_task *t = own(e, ct);
			if (place(e, t, u, e->now) < 0) {
				/* a policy returned a task u cannot run: keep the run
				 * honest and fail it rather than loop */
				fail_task(e, t);
			}
			continue;
		}
		struct xpu_task *t = &e->w->tasks[h->task];
		if (t->state == XPU_TASK_FAILED) {
			xpu_heap_remove(&r->queue, 0);
			r->queued_pred -= t->predicted;
			update_idle(e, u);
			continue;
		}
		if (t->npending || r->running + (int)t->width > slots)
			break;
		/* t->predicted: its prediction when placed here, not computed again */
		if (r->running + (int)t->width > un->cores &&
		    (t->width > 1 ||
		     (r->running > un->cores && !(r->held_pred + t->predicted <= un->ahead_s))))
			break; /* waits for a free core */
		if (!t->staged) {
			/* its turn: inputs pinned, memory reserved, copies started */
			int rc = xpu_data_stage(e, t);
			if (rc == -ENOSPC) {
				if (t->state != XPU_TASK_WAITING_MEM) {
					t->wait_t = e->now;
					set_state(e, t, XPU_TASK_WAITING_MEM);
				}
				block_on_memory(e, u);
				break;
			}
			if (rc || e->rc) {
				if (e->rc)
					break;
				xpu_heap_remove(&r->queue, 0);
				r->queued_pred -= t->predicted;
				fail_task(e, t);
				update_idle(e, u);
				continue;
			}
			if (t->state == XPU_TASK_WAITING_MEM)
				t->mem_wait_s += e->now - t->wait_t;
			t->wait_t = e->now;
		}
		if (t->nxfers) {
			set_state(e, t, XPU_TASK_STAGING);
			break;
		}
		xpu_heap_remove(&r->queue, 0);
		start_task(e, t, u);
	}
	update_idle(e, u);
}

static void dispatch(struct xpu_engine *e)
{
	for (;;) {
		while (e->ndirty && !e->rc) {
			int u = e->dirty[--e->ndirty];
			e->u[u].dirty = 0;
			dispatch_unit(e, u);
		}
		if (!e->ask_idle || e->rc)
			break;
		e->ask_idle = 0;
		/* New ready work: offer it to every idle unit, in index order (pushed
		 * from the highest index, so the lowest is served first from the stack). */
		for (int wi = (e->pf->nunits + 63) / 64 - 1; wi >= 0; wi--)
			for (uint64_t bits = e->idle_bits[wi]; bits;) {
				int b = 63 - __builtin_clzll(bits);
				bits &= ~((uint64_t)1 << b);
				mark_dirty(e, wi * 64 + b);
			}
	}
}

/* Give back t's footprint, when it holds one. */
static void free_task_mem(struct xpu_engine *e, struct xpu_task *t)
{
	if (!t->mem_held)
		return;
	int pool = e->pf->units[t->unit].mem_pool;
	e->mem.ops->free(&e->mem, pool, t->mem_handle);
	t->mem_held = 0;
	e->pool_used[pool] -= t->mem;
	if (e->pool_used[pool] < 0)
		e->pool_used[pool] = 0;
	wake_memory_waiters(e, pool); /* they may go on now */
	note_pool(e, pool);
}

/* Give back the cores and memory of a task that stopped running. */
static void release(struct xpu_engine *e, struct xpu_task *t)
{
	int u = t->unit;
	struct unit_rt *r = &e->u[u];
	busy_update(e, u);
	r->running -= (int)t->width;
	r->running_end -= t->width * (t->start_t + t->predicted);
	r->held_pred -= t->predicted;
	if (eng_shares_bw(e, t, u) && e->pool_mem_tasks[e->pf->units[u].mem_pool])
		e->pool_mem_tasks[e->pf->units[u].mem_pool]--;
	if (r->running == 0)
		r->running_end = r->held_pred = 0;
	free_task_mem(e, t);
	note_unit(e, u);
	mark_dirty(e, u);
	if (r->running == 0)
		mark_sleepy(e, u);
}

/* ev: the completion, whose measured times (XPU_EV_TIMED) replace the engine's: a live
 * backend reports a batch of completions at once, and runs a launch queued ahead only
 * once the one before it ended. */
static void task_done(struct xpu_engine *e, struct xpu_task *t, const struct xpu_event *ev)
{
	int u = t->unit;
	const struct xpu_unit *un = &e->pf->units[u];
	release(e, t);
	set_state(e, t, XPU_TASK_DONE);
	t->end_t = e->now;
	if (ev && (ev->flags & XPU_EV_TIMED) && ev->time <= e->now && ev->start <= ev->time) {
		t->end_t = ev->time;
		if (ev->start > t->start_t) { /* it waited in the unit's queue */
			t->in_wait_s += ev->start - t->start_t;
			t->start_t = ev->start;
		}
	}
	const struct xpu_pstate *ps = &un->pstates[un->pstate];
	/* Attributed energy: the unit's power above idle for this task's share of its
	 * cores, over the task's run (documented in experiments/RESULTS.md). */
	t->energy = (ps->full_w - ps->idle_w) * t->width / un->cores * (t->end_t - t->start_t);
	e->us[u].busy_s += t->width * (t->end_t - t->start_t);
	e->us[u].tasks++;
	e->nended++;
	if (e->sched.ops->on_done)
		e->sched.ops->on_done(&e->sched, t);
	xpu_data_ended(e, t, u, 1); /* its writes become the valid copies */
	for (uint32_t i = 0; i < t->nsucc; i++) {
		struct xpu_task *s = &e->w->tasks[t->succ[i]];
		if (s->state == XPU_TASK_FAILED)
			continue;
		if (s->unit >= 0 && waits_for_inputs(s))
			xpu_data_wanted(e, s); /* placed consumers: what t wrote moves in now */
		if (--s->npending == 0 && waits_for_inputs(s))
			make_ready(e, s);
	}
}

/* Completions and copies the backend reported. */
/* The first unit after u, in platform order (the fallback chain's: the fallback
 * backend lists its backends' units in chain order), that is up and can run t; -1 when
 * none. */
static int next_unit(struct xpu_engine *e, const struct xpu_task *t, int u)
{
	for (int v = u + 1; v < e->pf->nunits; v++)
		if (!e->u[v].down && xpu_can_run(e, t, v))
			return v;
	return -1;
}

/* Move a task placed on u (not running) on to the next unit, or fail it. */
static void move_on(struct xpu_engine *e, struct xpu_task *t, int u)
{
	xpu_data_unstage(e, t);
	xpu_data_unplaced(e, t, u);
	t->unit = -1;
	t->bytes_in = 0;
	int v = next_unit(e, t, u);
	if (v < 0 || t->attempts >= XPU_MAX_ATTEMPTS) {
		fail_task(e, t);
		return;
	}
	e->us[u].moved_on++;
	set_state(e, t, t->npending ? XPU_TASK_SUBMITTED : XPU_TASK_READY);
	if (place(e, t, v, t->order) < 0)
		fail_task(e, t);
}

/* Fallback: a launch on u failed with status. Every failure is counted on u; a unit
 * whose device went is taken out, and the tasks queued on it move on to the next unit.
 * The failed task itself goes to the sched policy's on_failed first, then moves on. */
static void launch_failed(struct xpu_engine *e, int u, int status)
{
	struct unit_rt *r = &e->u[u];
	e->us[u].launch_failures++;
	if ((status == -ENODEV || status == -ENXIO) && !r->down) {
		busy_update(e, u);
		r->down = 1;
		r->down_since = e->now;
		r->next_change = INFINITY; /* no repair: the device is gone */
		e->ndown++;
		e->us[u].taken_out = 1;
		const struct xpu_hent *h;
		while ((h = xpu_heap_top(&r->queue))) {
			struct xpu_task *q = &e->w->tasks[h->task];
			xpu_heap_remove(&r->queue, 0);
			r->queued_pred -= q->predicted;
			if (q->state != XPU_TASK_FAILED)
				move_on(e, q, u);
		}
		r->queued_pred = 0;
		update_idle(e, u);
		note_unit(e, u);
	}
	e->ask_idle = 1;
}

static void handle_events(struct xpu_engine *e, const struct xpu_event *ev, int n)
{
	for (int i = 0; i < n; i++) {
		e->in_flight--;
		if (ev[i].type == XPU_EV_DONE) {
			struct xpu_task *t = &e->w->tasks[ev[i].cookie];
			t->parts = 0;
			run_unlink(e, t);
			if (ev[i].status) {
				int u = t->unit;
				release(e, t);
				if (e->fallback)
					launch_failed(e, u, ev[i].status);
				if (e->sched.ops->on_failed &&
				    e->sched.ops->on_failed(&e->sched, t, u)) {
					if (e->fallback)
						e->us[u].moved_on++;
					xpu_data_unstage(e, t);
					/* the policy tries elsewhere: unplace, ready again */
					xpu_data_unplaced(e, t, u);
					t->unit = -1;
					t->bytes_in = 0;
					make_ready(e, t);
					continue;
				}
				if (e->fallback) { /* the policy leaves it: the next unit */
					move_on(e, t, u);
					e->ask_idle = 1;
					continue;
				}
				fail_task(e, t);
				continue;
			}
			task_done(e, t, &ev[i]);
			continue;
		}
		xpu_data_copy_done(e, ev[i].cookie, ev[i].status);
	}
}

/* ------------------------------------------------------------------ unit failures */

/* Unit u fails now: the backend stops its launches; each task running there loses
 * the work done so far and either waits at the head of u's queue for the repair or,
 * when the sched policy says so, becomes ready again to run elsewhere. Tasks queued on
 * u wait for the repair. The unit's memory, and the data in it, survive. */
void eng_unit_down(struct xpu_engine *e, int u)
{
	struct unit_rt *r = &e->u[u];
	if (r->down)
		return;
	busy_update(e, u);
	r->down = 1;
	r->down_since = e->now;
	e->ndown++;
	e->us[u].failures++;
	int n = e->be->ops->cancel_unit(e->be, u);
	if (n < 0) {
		fatal(e, n, "backend cancel_unit");
		return;
	}
	/* Work that ended in this very instant ended before the failure: the backend
	 * reported it while stopping the rest; those tasks are done, not lost. */
	struct xpu_event ev[MAX_EVENTS];
	while ((n = e->be->ops->wait(e->be, e->now, ev, MAX_EVENTS)) > 0)
		handle_events(e, ev, n);
	while (r->run_head != XPU_NO_TASK) {
		struct xpu_task *t = &e->w->tasks[r->run_head];
		run_unlink(e, t);
		e->in_flight--;
		t->parts = 0;
		double lost = e->now - t->start_t;
		t->lost_s += lost;
		e->us[u].lost_s += lost * t->width;
		release(e, t);
		xpu_data_unstage(e, t); /* staged again when its turn comes */
		if (t->attempts >= XPU_MAX_ATTEMPTS) {
			/* it never fits between this unit's failures: give up rather than
			 * loop for ever (a profile that repeats a gap too short for it) */
			fail_task(e, t);
			continue;
		}
		int elsewhere =
		    e->sched.ops->on_unit_failed && e->sched.ops->on_unit_failed(&e->sched, t, u);
		if (elsewhere) {
			xpu_data_unplaced(e, t, u);
			t->unit = -1;
			t->bytes_in = 0;
			make_ready(e, t);
		} else {
			/* back at the head of its queue (its order key, placed before any
			 * other of that key), for the repair */
			int rc = xpu_heap_push(&r->queue, t->order, 0, t->index);
			if (rc) {
				fatal(e, rc, "unit failure");
				return;
			}
			set_state(e, t, XPU_TASK_PLACED);
			r->queued_pred += t->predicted;
		}
	}
	update_idle(e, u);
	note_unit(e, u);
	e->ask_idle = 1;
}

/* Unit u is repaired: it takes work again. */
void eng_unit_up(struct xpu_engine *e, int u)
{
	struct unit_rt *r = &e->u[u];
	if (!r->down)
		return;
	busy_update(e, u);
	r->down = 0;
	e->ndown--;
	e->us[u].down_s += e->now - r->down_since;
	update_idle(e, u);
	note_unit(e, u);
	mark_dirty(e, u);
	e->ask_idle = 1;
}

static void admit(struct xpu_engine *e)
{
	uint32_t first = e->next_arrival;
	while (e->next_arrival < e->w->ntasks &&
	       e->w->tasks[e->arrivals[e->next_arrival]].submit <= e->now) {
		struct xpu_task *t = &e->w->tasks[e->arrivals[e->next_arrival++]];
		set_state(e, t, XPU_TASK_SUBMITTED);
		if (e->off.ops->decide)
			(void)e->off.ops->decide(&e->off, t); /* zones arrive later: local */
		if (e->sched.ops->on_submit)
			e->sched.ops->on_submit(&e->sched, t);
	}
	if (first == e->next_arrival)
		return;
	if (e->sched.ops->on_arrivals)
		e->sched.ops->on_arrivals(&e->sched, e->now);
	for (uint32_t i = first; i < e->next_arrival && !e->rc; i++) {
		struct xpu_task *t = &e->w->tasks[e->arrivals[i]];
		if (t->npending == 0 && waits_for_inputs(t))
			make_ready(e, t);
	}
}

/* The three periodic settings are independent (engine_impl.h): the scheduling policy's
 * tick, the governor's period and the timeline's sampling period. */

static void sched_tick(struct xpu_engine *e)
{
	if (e->sched.ops->on_tick) {
		e->sched.ops->on_tick(&e->sched, e->now);
		e->ask_idle = 1;
	}
}

/* The governor chooses each unit's P-state from its utilisation since its last call. */
static void governor_period(struct xpu_engine *e)
{
	double dt = e->now - e->last_gov;
	for (int u = 0; u < e->pf->nunits; u++) {
		struct unit_rt *r = &e->u[u];
		struct xpu_unit *un = &e->pf->units[u];
		busy_update(e, u);
		double util = dt > 0 ? (r->busy_acc - r->busy_at_gov) / (dt * un->cores) : 0;
		r->busy_at_gov = r->busy_acc;
		set_pstate(e, u, e->power.ops->select(&e->power, un, util));
	}
	e->last_gov = e->now;
}

/* A row for every unit, changed or not: power resolved at the sampling period. */
static void sample_all(struct xpu_engine *e)
{
	e->force_row = 1;
	for (int u = 0; u < e->pf->nunits; u++)
		note_unit(e, u);
	e->force_row = 0;
}

static double next_after(double next, double period, double now)
{
	if (next > now)
		return next;
	/* skip the periods that passed while nothing was under way */
	double k = floor((now - next) / period) + 1;
	return next + k * period;
}

static int cmp_arrival(const void *a, const void *b, void *arg)
{
	const struct xpu_task *t = arg;
	const struct xpu_task *x = &t[*(const uint32_t *)a], *y = &t[*(const uint32_t *)b];
	if (x->submit != y->submit)
		return x->submit < y->submit ? -1 : 1;
	return x->index < y->index ? -1 : x->index > y->index;
}

int xpu_engine_setup(struct xpu_engine *e)
{
	int n = e->pf->nunits;
	e->u = calloc((size_t)n, sizeof(*e->u));
	e->idle_bits = calloc((size_t)(n + 63) / 64 + 1, sizeof(uint64_t));
	e->pool_blocked = malloc(((size_t)e->pf->npools + 1) * sizeof(int));
	e->fail_stack = malloc(((size_t)e->w->ntasks + 1) * sizeof(uint32_t));
	e->dirty = calloc((size_t)n, sizeof(int));
	e->pool_used = calloc((size_t)e->pf->npools + 1, sizeof(double));
	e->pool_peak = calloc((size_t)e->pf->npools + 1, sizeof(double));
	e->pool_frag = malloc(((size_t)e->pf->npools + 1) * sizeof(double));
	e->pool_frag_peak = calloc((size_t)e->pf->npools + 1, sizeof(double));
	e->pool_mem_tasks = calloc((size_t)e->pf->npools + 1, sizeof(uint32_t));
	e->sleepy = malloc(((size_t)n + 1) * sizeof(int));
	e->tl_last = malloc(((size_t)n + 1) * sizeof(size_t));
	e->tl_prev = malloc(((size_t)n + 1) * sizeof(size_t));
	e->tl_prev_energy = calloc((size_t)n + 1, sizeof(double));
	e->tl_energy = calloc((size_t)n + 1, sizeof(double));
	e->pool_first = calloc((size_t)e->pf->npools + 2, sizeof(int));
	e->pool_unit = malloc(((size_t)n + 1) * sizeof(int));
	e->arrivals = malloc(((size_t)e->w->ntasks + 1) * sizeof(uint32_t));
	e->central = xpu_readyq_new();
	if (!e->u || !e->idle_bits || !e->pool_blocked || !e->fail_stack || !e->dirty ||
	    !e->pool_used || !e->pool_peak || !e->tl_last || !e->tl_prev || !e->tl_prev_energy ||
	    !e->tl_energy || !e->pool_first || !e->pool_unit || !e->arrivals || !e->central ||
	    !e->pool_frag || !e->pool_frag_peak || !e->pool_mem_tasks || !e->sleepy)
		return -ENOMEM;
	for (int p = 0; p <= e->pf->npools; p++)
		e->pool_frag[p] = -1;
	for (int i = 0; i < n; i++) {
		e->u[i].idle_pos = -1;
		e->u[i].blocked_next = -1;
		e->u[i].last_idle = INFINITY;
		e->u[i].temp = e->pf->units[i].th_ambient;
		e->u[i].meas_c = e->u[i].meas_max = NAN;
		e->u[i].meas_at = -INFINITY;
		e->pf->units[i].idle_state = -1;
	}
	for (int p = 0; p <= e->pf->npools; p++)
		e->pool_blocked[p] = -1;
	/* units by memory pool (counting sort), for the pool's change points */
	for (int i = 0; i < n; i++) {
		e->tl_last[i] = e->tl_prev[i] = SIZE_MAX;
		e->pool_first[e->pf->units[i].mem_pool + 1]++;
	}
	for (int p = 0; p < e->pf->npools; p++)
		e->pool_first[p + 1] += e->pool_first[p];
	{
		size_t np = e->pf->npools > 0 ? (size_t)e->pf->npools : 0;
		int *fill = calloc(np + 1, sizeof(int));
		if (!fill)
			return -ENOMEM;
		for (int i = 0; i < n; i++) {
			int p = e->pf->units[i].mem_pool;
			e->pool_unit[e->pool_first[p] + fill[p]++] = i;
		}
		free(fill);
	}
	for (uint32_t i = 0; i < e->w->ntasks; i++) {
		struct xpu_task *t = &e->w->tasks[i];
		e->arrivals[i] = i;
		t->ready_t = t->start_t = t->end_t = t->predicted = NAN; /* "never" in results */
	}
	/* Traces are mostly in submit order already: sort only when they are not. */
	int sorted = 1;
	for (uint32_t i = 1; i < e->w->ntasks && sorted; i++)
		sorted = e->w->tasks[i - 1].submit <= e->w->tasks[i].submit;
	if (!sorted)
		qsort_r(e->arrivals, e->w->ntasks, sizeof(uint32_t), cmp_arrival, e->w->tasks);
	eng_seed(e->rng, e->rng[0]); /* the policies' stream, from the seed */
	int rc = xpu_data_setup(e);
	if (!rc)
		rc = xpu_thermal_setup(e);
	if (rc || !e->avail)
		return rc;
	/* simulated failures need a backend that can stop work in progress */
	if (!e->be->ops->cancel_unit) {
		xpu_errf(e->err, NULL, 0,
		         "unit failures: backend '%s' cannot stop work in progress; simulate "
		         "them with --backend sim",
		         e->be->ops->head.name);
		return -EINVAL;
	}
	e->run_next = malloc(((size_t)e->w->ntasks + 1) * sizeof(uint32_t));
	e->run_prev = malloc(((size_t)e->w->ntasks + 1) * sizeof(uint32_t));
	if (!e->run_next || !e->run_prev)
		return -ENOMEM;
	for (int i = 0; i < n; i++)
		e->u[i].run_head = XPU_NO_TASK;
	return xpu_fail_setup(e);
}

void xpu_engine_teardown(struct xpu_engine *e)
{
	if (e->u)
		for (int i = 0; i < e->pf->nunits; i++)
			xpu_heap_free(&e->u[i].queue);
	free(e->u);
	free(e->idle_bits);
	free(e->pool_blocked);
	free(e->fail_stack);
	free(e->dirty);
	free(e->pool_used);
	free(e->pool_peak);
	free(e->pool_frag);
	free(e->pool_frag_peak);
	free(e->pool_mem_tasks);
	free(e->sleepy);
	free(e->tl_last);
	free(e->tl_prev);
	free(e->tl_prev_energy);
	free(e->tl_energy);
	free(e->pool_first);
	free(e->pool_unit);
	free(e->arrivals);
	xpu_readyq_free(e->central);
	xpu_data_teardown(e);
	xpu_thermal_teardown(e);
	xpu_fail_teardown(e);
	free(e->datum_bytes);
	free(e->datum_copies);
}

/* Nothing is under way and nothing will arrive: whatever has not ended never will
 * (no unit can take it, or it waits for memory that nothing will free). */
static void fail_stuck(struct xpu_engine *e)
{
	for (uint32_t i = 0; i < e->w->ntasks; i++)
		e->stuck_on_memory += e->w->tasks[i].state == XPU_TASK_WAITING_MEM;
	for (uint32_t i = 0; i < e->w->ntasks; i++)
		fail_task(e, &e->w->tasks[i]);
}

static double wall_clock(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* Progress reports: the wall clock is read every 1024 loop turns only, and a report
 * goes out twice a second once the run has lasted one. */
static void progress(struct xpu_engine *e, int final)
{
	if (!e->progress)
		return;
	if (!final && ++e->progress_tick < 1024)
		return;
	e->progress_tick = 0;
	double w = wall_clock();
	if (final ? !e->progress_shown : w < e->wall_next)
		return;
	e->wall_next = w + 0.5;
	e->progress_shown = 1;
	e->progress(e->progress_ctx, e->nended, e->w->ntasks, e->now, final);
}

/* The peaks of summed power over the timeline: of every unit, and of each memory's
 * units (a SoC's power domain). A unit's power holds from its row to its next; rows of
 * one instant are all applied before the sums are compared, so a unit going down and
 * another going up at once never count together. */
static int power_peaks(struct xpu_engine *e)
{
	const struct xpu_timeline *tl = e->tl;
	int n = e->pf->nunits, np = e->pf->npools;
	double *cur = calloc((size_t)n + 1, sizeof(double));
	double *dom = calloc((size_t)np + 1, sizeof(double));
	double *peak = calloc((size_t)np + 1, sizeof(double));
	size_t *touched = malloc(((size_t)n + 1) * sizeof(size_t)); /* rows of one instant */
	if (!cur || !dom || !peak || !touched) {
		free(cur);
		free(dom);
		free(peak);
		free(touched);
		return -ENOMEM;
	}
	double total = 0, best = 0;
	for (size_t i = 0; i < tl->n;) {
		size_t j = i, nt = 0;
		for (; j < tl->n && tl->t[j] == tl->t[i]; j++) {
			int u = tl->unit[j];
			double w = isfinite(tl->power[j]) ? tl->power[j] : 0;
			total += w - cur[u];
			dom[e->pf->units[u].mem_pool] += w - cur[u];
			cur[u] = w;
			if (nt < (size_t)n)
				touched[nt++] = (size_t)e->pf->units[u].mem_pool;
		}
		if (total > best)
			best = total;
		for (size_t k = 0; k < nt; k++)
			if (dom[touched[k]] > peak[touched[k]])
				peak[touched[k]] = dom[touched[k]];
		i = j;
	}
	free(touched);
	e->peak_power_w = best;
	for (int u = 0; u < n; u++)
		e->us[u].domain_peak_w = peak[e->pf->units[u].mem_pool];
	free(cur);
	free(dom);
	free(peak);
	return 0;
}

void xpu_engine_loop(void *arg)
{
	struct xpu_engine *e = arg;
	struct xpu_event ev[MAX_EVENTS];
	e->now = e->be->ops->now(e->be);
	e->started = 1;
	e->wall0 = wall_clock();
	e->wall_next = e->wall0 + 1;
	e->tick_origin = e->now;
	int ticking = e->sched.ops->on_tick != NULL && e->tick > 0;
	int governing = e->power.ops->select != NULL && e->gov_period > 0;
	int sampling = e->sample > 0;
	e->next_tick = ticking ? e->now + e->tick : INFINITY;
	e->next_gov = governing ? e->now + e->gov_period : INFINITY;
	e->next_sample = sampling ? e->now + e->sample : INFINITY;
	e->last_gov = e->now;
	for (int u = 0; u < e->pf->nunits; u++) {
		e->u[u].busy_last = e->now;
		e->u[u].pstate_since = e->now;
		update_idle(e, u);
		note_unit(e, u);
		if (e->power.ops->select)
			set_pstate(e, u, e->power.ops->select(&e->power, &e->pf->units[u], 0));
	}
	int rc0 = xpu_data_start(e);
	if (rc0 && !e->rc)
		e->rc = rc0; /* the error names the datum */
	int stuck_ticks = 0;
	for (int u = 0; u < e->pf->nunits; u++)
		mark_sleepy(e, u);
	while (!e->rc) {
		admit(e);
		dispatch(e);
		while (e->nsleepy && !e->rc)
			try_sleep(e, e->sleepy[--e->nsleepy]);
		progress(e, 0);
		if (e->nended == e->w->ntasks || e->rc)
			break;
		double next_arr = e->next_arrival < e->w->ntasks
		                      ? e->w->tasks[e->arrivals[e->next_arrival]].submit
		                      : INFINITY;
		double next_fail = xpu_fail_next(e);
		if (!e->in_flight && next_arr == INFINITY &&
		    !(e->ndown > 0 && next_fail < INFINITY)) {
			/* one tick to let a policy release what it holds, then give up */
			if (stuck_ticks++ == 0 && e->sched.ops->on_tick) {
				sched_tick(e);
				continue;
			}
			fail_stuck(e);
			break;
		}
		stuck_ticks = 0;
		/* While every unit is idle, skip the periodic calls up to the next arrival;
		 * with nothing periodic, wait for events alone (no timer in the backend).
		 * Failures and repairs come in their time, busy or not. */
		double until = fmin(next_arr, next_fail);
		if (e->in_flight) {
			until = fmin(until, e->next_tick);
			until = fmin(until, e->next_gov);
			until = fmin(until, e->next_sample);
		}
		int n = e->be->ops->wait(e->be, until, ev, MAX_EVENTS);
		if (n < 0) {
			fatal(e, n, "backend wait");
			break;
		}
		e->now = e->be->ops->now(e->be);
		/* A timeout means the backend reached until; its clock may lag by a rounding
		 * error (SimGrid keeps 1e-9 precision), and waiting again for that sliver
		 * would never advance it. */
		if (n == 0 && e->now < until && isfinite(until))
			e->now = until;
		handle_events(e, ev, n);
		if (e->now >= next_fail)
			xpu_fail_due(e);
		if (e->now >= e->next_gov) {
			governor_period(e);
			e->next_gov = next_after(e->next_gov, e->gov_period, e->now);
		}
		if (e->now >= e->next_sample) {
			sample_all(e);
			e->next_sample = next_after(e->next_sample, e->sample, e->now);
		}
		if (e->now >= e->next_tick) {
			sched_tick(e);
			/* An estimated tick comes from the best case; a policy that puts work on
			 * slow units makes the run longer. Keeping the tick at least the elapsed
			 * time / XPU_TICKS_PER_RUN bounds the calls to about XPU_TICKS_PER_RUN
			 * x ln(actual / estimated span). */
			if (e->tick_auto) {
				double wide = (e->now - e->tick_origin) / XPU_TICKS_PER_RUN;
				if (wide > e->tick)
					e->tick = wide;
			}
			e->next_tick = next_after(e->next_tick, e->tick, e->now);
		}
	}
	progress(e, 1);
	/* final accounting: close every unit's last change point */
	for (int u = 0; u < e->pf->nunits; u++) {
		busy_update(e, u);
		struct xpu_unit *un = &e->pf->units[u];
		e->us[u].residency_s[un->pstate] += e->now - e->u[u].pstate_since;
		e->u[u].pstate_since = e->now;
		e->us[u].peak_mem = e->pool_peak[un->mem_pool];
		e->us[u].peak_frag = e->pool_frag_peak[un->mem_pool];
		if (e->u[u].down) /* down at the end: its downtime so far */
			e->us[u].down_s += e->now - e->u[u].down_since;
		e->us[u].peak_data = xpu_data_pool_peak(e, un->mem_pool);
		xpu_data_pool_counts(e, un->mem_pool, &e->us[u].evictions, &e->us[u].writebacks);
		e->us[u].energy_j = unit_energy(e, u);
		if (un->idle_state >= 0) { /* still asleep at the end */
			e->us[u].idle_state_s += e->now - e->u[u].idle_enter;
			e->us[u].idle_state_j +=
			    un->idle[un->idle_state].power_w * (e->now - e->u[u].idle_enter);
		}
		size_t k = e->tl_last[u];
		if (k != SIZE_MAX && e->now > e->tl->t[k])
			e->tl->power[k] =
			    (e->us[u].energy_j - e->tl_energy[u]) / (e->now - e->tl->t[k]);
	}
	if (xpu_thermal_pass(e) && !e->rc)
		fatal(e, -ENOMEM, "thermal model");
	for (int u = 0; u < e->pf->nunits; u++) /* measured where nothing was modeled */
		if (!(e->pf->units[u].th_r > 0) && !isnan(e->u[u].meas_max))
			e->us[u].max_temp_c = e->u[u].meas_max;
	if (power_peaks(e) && !e->rc)
		fatal(e, -ENOMEM, "power peaks");
}
