/* run.c — one replay from options to results: open the backend, load the trace,
 * resolve the policies, run the engine inside the backend, summarise, write HDF5. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "engine_impl.h"
#include "run.h"
#include "failures.h"
#include "faults.h"
#include "nodes.h"
#include "outfile.h"
#include "platform.h"
#include "registry.h"

/* Policies with only a name still run: the engine fills the gaps (xpu.h). Memory is
 * the one kind whose default needs state: a byte counter per pool. */
struct counter_mem {
	double *used;
	const struct xpu_platform *pf;
};

static int counter_alloc(struct xpu_mem *m, int pool, double bytes, uint64_t *handle)
{
	struct counter_mem *c = m->priv;
	double cap = c->pf->pools[pool].capacity;
	if (cap > 0 && bytes > cap)
		return -E2BIG;
	if (cap > 0 && c->used[pool] + bytes > cap)
		return -ENOSPC;
	*handle = (uint64_t)ceil(bytes); /* the handle carries the size */
	c->used[pool] += (double)*handle;
	return 0;
}

static void counter_free(struct xpu_mem *m, int pool, uint64_t handle)
{
	((struct counter_mem *)m->priv)->used[pool] -= (double)handle;
}

static double counter_used(struct xpu_mem *m, int pool)
{
	return ((struct counter_mem *)m->priv)->used[pool];
}

static const struct xpu_mem_ops counter_ops = {
    .head = {.version = XPU_MEM_VERSION, .name = "counter"},
    .alloc = counter_alloc,
    .free = counter_free,
    .used = counter_used,
};

struct run_ctx {
	struct xpu_engine *e;
	int rc;
};

static void body(void *arg)
{
	struct run_ctx *c = arg;
	struct xpu_engine *e = c->e;
	int rc = 0;
	if (e->sched.ops->init && (rc = e->sched.ops->init(&e->sched)))
		goto out;
	if (e->mem.ops->init && (rc = e->mem.ops->init(&e->mem)))
		goto out_sched;
	if (e->power.ops->init && (rc = e->power.ops->init(&e->power)))
		goto out_mem;
	if (e->off.ops->init && (rc = e->off.ops->init(&e->off)))
		goto out_power;
	xpu_engine_loop(e);
	rc = e->rc;
	if (e->off.ops->fini)
		e->off.ops->fini(&e->off);
out_power:
	if (e->power.ops->fini)
		e->power.ops->fini(&e->power);
out_mem:
	if (e->mem.ops->fini)
		e->mem.ops->fini(&e->mem);
out_sched:
	if (e->sched.ops->fini)
		e->sched.ops->fini(&e->sched);
out:
	if (rc && !e->rc)
		xpu_errf(e->err, NULL, 0, "policy initialisation failed: %s", strerror(-rc));
	c->rc = rc;
}

/* Every task must have a unit that can run it, or the run is refused before it
 * starts (bad input, exit status 2). */
static int check_runnable(const struct xpu_engine *e, struct xpu_err *err)
{
	const struct xpu_platform *pf = e->pf;
	for (uint32_t i = 0; i < e->w->ntasks; i++) {
		const struct xpu_task *t = &e->w->tasks[i];
		int ok = 0;
		for (int u = 0; u < pf->nunits && !ok; u++)
			ok = xpu_can_run(e, t, u);
		if (ok)
			continue;
		/* Name the field that rules every unit out: the class, the width, the
		 * footprint, or the explicit costs. */
		int cls_ok = 0, widest = 0;
		double biggest = 0;
		for (int u = 0; u < pf->nunits; u++) {
			const struct xpu_unit *un = &pf->units[u];
			if (un->has_class_props && !un->cls[t->cls].supported)
				continue;
			cls_ok = 1;
			if (un->cores > widest)
				widest = un->cores;
			double cap = pf->pools[un->mem_pool].capacity;
			if (cap <= 0 || cap > biggest)
				biggest = cap <= 0 ? INFINITY : cap;
		}
		if (!cls_ok)
			return xpu_errf(err, e->w->path, t->line,
			                "field 'class': no unit of platform %s runs class %s (task "
			                "\"%s\")",
			                pf->path, xpu_class_name(t->cls), t->id);
		if ((int)t->width > widest)
			return xpu_errf(
			    err, e->w->path, t->line,
			    "field 'width': task \"%s\" needs %u cores of one unit at once; "
			    "the widest unit of platform %s that runs class %s has %d",
			    t->id, t->width, pf->path, xpu_class_name(t->cls), widest);
		if (t->mem > biggest)
			return xpu_errf(
			    err, e->w->path, t->line,
			    "field 'mem': task \"%s\" needs %.17g bytes; the largest memory "
			    "of a unit of platform %s that runs it holds %.17g",
			    t->id, t->mem, pf->path, biggest);
		return xpu_errf(err, e->w->path, t->line,
		                "field '%s': no unit of platform %s can run task \"%s\" (class %s, "
		                "width %u)",
		                t->ncosts ? "cost" : "class", pf->path, t->id,
		                xpu_class_name(t->cls), t->width);
	}
	return 0;
}

/* A task's data must fit in one memory while it runs, beside its footprint: every datum
 * it reads or writes plus its `mem`. Refused before the run when no memory of a unit
 * that runs its class could ever hold them (checked against the largest such memory,
 * so the check costs one pass over the tasks' accesses whatever the platform's size). */
static int check_data_fits(const struct xpu_engine *e, struct xpu_err *err)
{
	const struct xpu_platform *pf = e->pf;
	double biggest[XPU_CLASS_COUNT];
	for (int c = 0; c < XPU_CLASS_COUNT; c++)
		biggest[c] = 0;
	for (int u = 0; u < pf->nunits; u++) {
		const struct xpu_unit *un = &pf->units[u];
		double cap = pf->pools[un->mem_pool].capacity;
		for (int c = 0; c < XPU_CLASS_COUNT; c++)
			if (!un->has_class_props || un->cls[c].supported)
				if (cap <= 0 || cap > biggest[c])
					biggest[c] = cap <= 0 ? INFINITY : cap;
	}
	for (uint32_t i = 0; i < e->w->ntasks; i++) {
		const struct xpu_task *t = &e->w->tasks[i];
		double cap = biggest[t->cls];
		if (!isfinite(cap) || t->naccess == 0)
			continue;
		double need = t->mem;
		uint32_t big = UINT32_MAX;
		for (uint32_t k = 0; k < t->naccess; k++) {
			const struct xpu_datum *d = &e->w->data[t->access[k].datum];
			need += d->size;
			if (big == UINT32_MAX || d->size > e->w->data[big].size)
				big = t->access[k].datum;
		}
		if (need <= cap)
			continue;
		const struct xpu_datum *d = &e->w->data[big];
		const char *field = "deps";
		for (uint32_t k = 0; k < t->naccess; k++)
			if (t->access[k].datum == big && d->producer == UINT32_MAX)
				field = t->access[k].mode & XPU_ACCESS_WRITE ? "writes" : "reads";
		/* an output's size is given where a consumer names it: that line */
		int line = t->line;
		for (uint32_t j = 0; d->producer == t->index && j < e->w->ntasks; j++) {
			const struct xpu_task *c = &e->w->tasks[j];
			for (uint32_t k = 0; c != t && k < c->naccess; k++)
				if (c->access[k].datum == big) {
					line = c->line;
					j = e->w->ntasks;
					break;
				}
		}
		return xpu_errf(
		    err, e->w->path, line,
		    "field '%s': task \"%s\" needs %.17g bytes in one memory while it "
		    "runs (its %u data, the largest \"%s\" of %.17g bytes, and its mem "
		    "%.17g); the largest memory of a unit of platform %s that runs class "
		    "%s holds %.17g",
		    field, t->id, need, t->naccess, d->name, d->size, t->mem, pf->path,
		    xpu_class_name(t->cls), cap);
	}
	return 0;
}

/* What decides where a task may run, for the route check's cache: tasks alike in these
 * can run on the same units. Tasks with explicit costs are not cached. */
struct runsig {
	int cls;
	uint32_t width;
	double mem;
};

struct route_memo {
	struct runsig p, c;
	int ok;
};

#define ROUTE_MEMO 64

static int same_sig(const struct runsig *a, const struct runsig *b)
{
	return a->cls == b->cls && a->width == b->width && a->mem == b->mem;
}

/* 1 when some unit that can run p and some unit that can run c share memory or have a
 * route; else 0 with *ua, *ub a pair of capable units for the message. */
static int carriable(const struct xpu_engine *e, const struct xpu_task *p, const struct xpu_task *c,
                     char *pool_mark, int *ua, int *ub)
{
	const struct xpu_platform *pf = e->pf;
	int n = pf->nunits, found = 0;
	*ua = *ub = -1;
	memset(pool_mark, 0, (size_t)pf->npools + 1);
	for (int u = 0; u < n; u++)
		if (xpu_can_run(e, p, u)) {
			pool_mark[pf->units[u].mem_pool] = 1;
			if (*ua < 0)
				*ua = u;
		}
	for (int v = 0; v < n && !found; v++)
		if (xpu_can_run(e, c, v)) {
			if (*ub < 0)
				*ub = v;
			found = pool_mark[pf->units[v].mem_pool];
		}
	for (int u = 0; u < n && !found; u++) {
		if (!xpu_can_run(e, p, u))
			continue;
		for (int v = 0; v < n && !found; v++) {
			double lat, bw;
			found = xpu_can_run(e, c, v) && xpu_platform_route(pf, u, v, &lat, &bw);
		}
	}
	return found;
}

/* Every data edge must be carriable by some placement, or the run is refused before it
 * starts, naming the two tasks and two units that lack a route (bad input, exit 2). */
static int check_data_routes(const struct xpu_engine *e, struct xpu_err *err)
{
	struct route_memo memo[ROUTE_MEMO];
	int nmemo = 0, next = 0, rc = 0;
	char *mark = malloc((size_t)e->pf->npools + 1);
	if (!mark)
		return -ENOMEM;
	for (uint32_t i = 0; i < e->w->ntasks && !rc; i++) {
		const struct xpu_task *c = &e->w->tasks[i];
		for (uint32_t d = 0; d < c->ndeps && !rc; d++) {
			const struct xpu_task *p = &e->w->tasks[c->deps[d].task];
			if (!(c->deps[d].bytes > 0))
				continue;
			struct runsig sp = {p->cls, p->width, p->mem},
			              sc = {c->cls, c->width, c->mem};
			int cacheable = !p->ncosts && !c->ncosts, hit = -1;
			for (int k = 0; cacheable && k < nmemo && hit < 0; k++)
				if (same_sig(&memo[k].p, &sp) && same_sig(&memo[k].c, &sc))
					hit = k;
			int ok, ua = -1, ub = -1;
			if (hit >= 0) {
				ok = memo[hit].ok;
			} else {
				ok = carriable(e, p, c, mark, &ua, &ub);
				if (cacheable) {
					memo[next] = (struct route_memo){sp, sc, ok};
					next = (next + 1) % ROUTE_MEMO;
					if (nmemo < ROUTE_MEMO)
						nmemo++;
				}
			}
			if (ok)
				continue;
			if (ua < 0)
				carriable(e, p, c, mark, &ua, &ub);
			rc = xpu_errf(
			    err, e->w->path, c->line,
			    "field 'deps': task \"%s\" needs %.17g bytes from task \"%s\", "
			    "but no unit that can run \"%s\" has a route to one that can "
			    "run \"%s\" (no route from '%s' to '%s' in %s: add a <route> "
			    "or <zoneRoute> between them)",
			    c->id, c->deps[d].bytes, p->id, p->id, c->id,
			    ua >= 0 ? e->pf->units[ua].name : "?",
			    ub >= 0 ? e->pf->units[ub].name : "?", e->pf->path);
		}
	}
	free(mark);
	return rc;
}

/* The most periodic calls (ticks, governor calls or samples) a run may be asked for. */
#define MAX_PERIODIC 1e8

/* The default tick: about a thousandth of the run's predicted span, so that periodic
 * calls never dominate the event count, whatever the time scale of the platform (1
 * flop/s textbook cases or 1 PF/s nodes). The span is estimated as the arrival window
 * or, if longer, the total best-case work spread over every core; the work is summed
 * over at most 4,096 tasks evenly spread through the trace and scaled up, so the
 * estimate costs the same on a million tasks as on a thousand. */
#define AUTO_TICK_SAMPLE 4096

static double auto_tick(const struct xpu_engine *e)
{
	double work = 0, first = INFINITY, last = -INFINITY;
	int cores = 0;
	uint32_t n = e->w->ntasks;
	uint32_t step = n > AUTO_TICK_SAMPLE ? n / AUTO_TICK_SAMPLE : 1, sampled = 0;
	for (int u = 0; u < e->pf->nunits; u++)
		cores += e->pf->units[u].cores;
	for (uint32_t i = 0; i < n; i++) {
		const struct xpu_task *t = &e->w->tasks[i];
		if (t->submit < first)
			first = t->submit;
		if (t->submit > last)
			last = t->submit;
		if (i % step)
			continue;
		sampled++;
		double best = INFINITY;
		for (int u = 0; u < e->pf->nunits; u++) {
			double d = xpu_predict(e, t, u);
			if (d < best)
				best = d;
		}
		if (isfinite(best))
			work += best;
	}
	if (sampled)
		work *= (double)n / sampled;
	double span = n ? last - first : 0;
	if (cores && work / cores > span)
		span = work / cores;
	double tick = span / XPU_TICKS_PER_RUN;
	return tick > 1e-6 ? tick : 1e-6;
}

void xpu_run_result_free(struct xpu_run_result *res)
{
	if (!res)
		return;
	if (res->us)
		for (int u = 0; u < res->pf.nunits; u++)
			free(res->us[u].residency_s);
	free(res->us);
	xpu_timeline_free(&res->tl);
	free(res->data.bytes);
	free(res->data.copies);
	free(res->data.links.v);
	xpu_workload_free(res->w);
	xpu_platform_free(&res->pf);
	memset(res, 0, sizeof(*res));
}

int xpu_run(const struct xpu_run_opts *o, struct xpu_run_result *res_out, struct xpu_err *err)
{
	struct xpu_run_result res = {0};
	struct xpu_backend be = {0};
	struct xpu_spec ss = {0}, ms = {0}, ps = {0}, os = {0}, bs = {0};
	struct xpu_param *bparams = NULL;
	char tmp[4096] = "";
	const void *sops, *mops, *pops, *oops;
	struct xpu_engine e = {0};
	struct counter_mem cm = {0};
	struct xpu_failures fl = {0};
	int rc;

	/* Policies first: a typo should not cost a platform load. */
	if (o->sched_ops) {
		ss.text = strdup(o->sched ? o->sched : o->sched_ops->head.name);
		if (!ss.text)
			return -ENOMEM;
		sops = o->sched_ops;
	} else if ((rc = xpu_policy_resolve(XPU_POLICY_SCHED, o->sched ? o->sched : "fifo",
	                                    "--sched", &ss, &sops, err))) {
		return rc;
	}
	if ((rc = xpu_policy_resolve(XPU_POLICY_MEM, o->mem ? o->mem : "lru", "--mem", &ms, &mops,
	                             err)))
		goto out_specs;
	if ((rc = xpu_policy_resolve(XPU_POLICY_POWER, o->power ? o->power : "performance",
	                             "--power", &ps, &pops, err)))
		goto out_specs;
	if ((rc = xpu_policy_resolve(XPU_POLICY_OFFLOAD, o->offload ? o->offload : "local",
	                             "--offload", &os, &oops, err)))
		goto out_specs;

	/* The result must not replace an input, a directory or a device. */
	{
		const char *inputs[] = {o->platform, o->trace};
		if (o->output && (rc = xpu_output_check(o->output, inputs, 2, err)))
			goto out_specs;
		if (o->output && xpu_output_is_special(o->output)) {
			rc = xpu_errf(err, o->output, 0,
			              "an HDF5 result needs a regular file, not a device or pipe "
			              "(give --output - to write none)");
			goto out_specs;
		}
	}
	/* The backend by name (--backend; --live is "cpu"): its spec's parameters, then
	 * those the options add (--threads). */
	const struct xpu_backend_ops *bops;
	if ((rc = xpu_backend_resolve(o->backend ? o->backend
	                              : o->live  ? "cpu"
	                                         : "sim",
	                              &bs, &bops, err)))
		goto out_specs;
	int live = strcmp(bops->head.name, "sim") != 0;
	bparams = calloc((size_t)(bs.nparams + o->nbackend_params) + 1, sizeof(*bparams));
	if (!bparams) {
		rc = -ENOMEM;
		goto out_specs;
	}
	for (int i = 0; i < bs.nparams; i++)
		bparams[i] = bs.params[i];
	for (int i = 0; i < o->nbackend_params; i++) {
		for (int k = 0; k < bs.nparams; k++)
			if (!strcmp(bs.params[k].key, o->backend_params[i].key)) {
				rc = xpu_errf(err, NULL, 0,
				              "--backend '%s': parameter '%s' is also given by an "
				              "option (--%s); give it once",
				              o->backend, bs.params[k].key, bs.params[k].key);
				goto out_specs;
			}
		bparams[bs.nparams + i] = o->backend_params[i];
	}
	be = (struct xpu_backend){
	    .ops = bops, .param = bparams, .nparams = bs.nparams + o->nbackend_params};
	if (o->faults && (rc = xpu_faults_wrap(&be, o->faults, err)))
		goto out_specs;
	if (!live && !o->platform) {
		rc = xpu_errf(err, NULL, 0, "--platform: a platform file is needed in simulation");
		goto out_specs;
	}
	/* A cluster's node list stands for the platform its nodes make (traces/nodes.c):
	 * the backend loads that from a temporary file, removed once loaded. */
	const char *load = live ? NULL : o->platform;
	if (load && xpu_nodes_is_list(load)) {
		rc = xpu_nodes_platform_tmp(load, tmp, sizeof(tmp), err);
		if (rc < 0) {
			xpu_faults_discard(&be);
			rc = rc == -EIO ? -EIO : -EINVAL;
			goto out_specs;
		}
		load = tmp;
	}
	rc = be.ops->open(&be, load, &res.pf, err);
	if (tmp[0])
		unlink(tmp);
	if (rc) {
		xpu_faults_discard(&be);
		if (rc == -ENODEV && !err->msg[0])
			xpu_errf(err, NULL, 0, "backend %s: no device found", bops->head.name);
		else if (rc != -EINVAL && !err->msg[0])
			xpu_errf(err, NULL, 0, "backend %s: %s", bops->head.name, strerror(-rc));
		if (rc == -ENODEV)
			rc = -EINVAL; /* the machine lacks what was asked for: exit 2 */
		goto out_specs;
	}
	if (tmp[0]) { /* results name the list, not the temporary file */
		char *p = strdup(o->platform);
		if (p) {
			free(res.pf.path);
			res.pf.path = p;
		}
	}
	be.pf = &res.pf;
	if ((rc = xpu_workload_load(o->trace, o->trace_format, &res.pf, &res.w, err)))
		goto out_close;
	if (!o->quiet && res.w->ref_note[0])
		fprintf(stderr, "xpuopt: %s\n", res.w->ref_note);

	e.pf = &res.pf;
	e.w = res.w;
	e.be = &be;
	e.err = err;
	e.tick = o->tick;
	e.rng[0] = o->seed;
	e.tl = &res.tl;
	e.observe = o->observe;
	e.observe_ctx = o->observe_ctx;
	e.check_coherence = o->check_coherence;
	e.progress = o->progress;
	e.progress_ctx = o->progress_ctx;
	res.tl.nunits = res.pf.nunits;
	if ((rc = check_runnable(&e, err)) || (rc = check_data_fits(&e, err)) ||
	    (rc = check_data_routes(&e, err)))
		goto out_close;
	/* Simulated unit failures: the platform's and --failures. */
	if ((rc = xpu_failures_build(o->failures, &res.pf, &fl, err)))
		goto out_close;
	if (fl.avail) {
		if (o->faults) {
			rc = xpu_errf(
			    err, NULL, 0,
			    "--faults: does not combine with simulated unit failures "
			    "(--failures, or the platform's xpu.mtbf or xpu.availability); "
			    "use one at a time");
			goto out_close;
		}
		if (!be.ops->cancel_unit) {
			rc = xpu_errf(err, NULL, 0,
			              "unit failures (--failures, or the platform's xpu.mtbf or "
			              "xpu.availability): backend '%s' cannot stop work in "
			              "progress; simulate them with --backend sim",
			              bops->head.name);
			goto out_close;
		}
		e.avail = fl.avail;
	}
	e.sample = o->sample > 0 ? o->sample : 0;
	e.fallback = o->fallback || !strcmp(bops->head.name, "fallback");
	{
		double gp = o->gov_period > 0 ? o->gov_period
		            : ((const struct xpu_power_ops *)pops)->select
		                ? ((const struct xpu_power_ops *)pops)->period
		                : 0;
		double at = auto_tick(&e); /* a thousandth of the estimated span */
		/* A period so short that the run would make more than MAX_PERIODIC calls
		 * of it (over the estimated span) would never end in practice: refused. */
		const struct {
			const char *opt;
			double v;
		} per[] = {{"--tick", e.tick},
		           {"--governor-period", o->gov_period},
		           {"--sample", o->sample}};
		for (size_t i = 0; i < sizeof(per) / sizeof(per[0]); i++)
			if (per[i].v > 0 && at * XPU_TICKS_PER_RUN / per[i].v > MAX_PERIODIC) {
				rc = xpu_errf(
				    err, NULL, 0,
				    "%s %g: the run's estimated span (%.3g s) would take more "
				    "than %.0e periodic calls; give at least %.3g s",
				    per[i].opt, per[i].v, at * XPU_TICKS_PER_RUN, MAX_PERIODIC,
				    at * XPU_TICKS_PER_RUN / MAX_PERIODIC);
				goto out_close;
			}
		/* Failures and repairs so frequent that the run would never end in
		 * practice (mtbf=1ns): refused the same way. */
		double span = at * XPU_TICKS_PER_RUN, changes = 0;
		for (int u = 0; fl.avail && u < res.pf.nunits; u++) {
			const struct xpu_avail *a = &fl.avail[u];
			if (a->n > 0)
				changes += a->period > 0 ? a->n * (span / a->period + 1) : a->n;
			else if (a->mtbf > 0)
				changes += 2 * span / (a->mtbf + a->mttr);
		}
		if (changes > MAX_PERIODIC) {
			rc = xpu_errf(err, NULL, 0,
			              "%s: about %.3g unit failures and repairs over the run's "
			              "estimated span (%.3g s), more than %.0e: give longer times "
			              "between failures",
			              o->failures ? "--failures"
			                          : "the platform's xpu.mtbf, xpu.mttr "
			                            "or xpu.availability",
			              changes, span, MAX_PERIODIC);
			goto out_close;
		}
		if (!(e.tick > 0)) {
			e.tick = at;
			e.tick_auto = 1;
		}
		e.gov_period = gp < 0 ? at : gp;
	}

	res.us = calloc((size_t)res.pf.nunits, sizeof(*res.us));
	if (!res.us) {
		rc = -ENOMEM;
		goto out_close;
	}
	for (int u = 0; u < res.pf.nunits; u++) {
		res.us[u].residency_s = calloc((size_t)res.pf.units[u].npstates, sizeof(double));
		if (!res.us[u].residency_s) {
			rc = -ENOMEM;
			goto out_close;
		}
	}
	e.us = res.us;
	e.sched = (struct xpu_sched){sops, &e, NULL, ss.nparams, ss.params};
	e.mem = (struct xpu_mem){mops, &e, NULL, ms.nparams, ms.params};
	e.power = (struct xpu_power){pops, &e, NULL, ps.nparams, ps.params};
	e.off = (struct xpu_offload){oops, &e, NULL, os.nparams, os.params};
	if (!e.mem.ops->alloc || !e.mem.ops->free) {
		/* a memory policy with a name alone: count bytes against capacity */
		cm.pf = &res.pf;
		cm.used = calloc((size_t)res.pf.npools + 1, sizeof(double));
		if (!cm.used) {
			rc = -ENOMEM;
			goto out_close;
		}
		e.mem = (struct xpu_mem){&counter_ops, &e, &cm, 0, NULL};
	}
	if ((rc = xpu_engine_setup(&e))) {
		if (!err->msg[0])
			xpu_errf(err, NULL, 0, "engine: %s", strerror(-rc));
		goto out_engine;
	}

	struct run_ctx ctx = {&e, 0};
	rc = be.ops->run(&be, body, &ctx);
	if (!rc)
		rc = ctx.rc;
	if (rc) {
		if (!err->msg[0])
			xpu_errf(err, NULL, 0, "run failed: %s", strerror(-rc));
		if (rc == -EINVAL)
			rc = -EIO; /* a failure during the run is not bad input */
		goto out_engine;
	}
	if (be.ops->read_link_energy)
		be.ops->read_link_energy(&be, &res.link_energy_j);
	/* per unit: measured or modeled (a live backend may measure some units only) */
	int any_modeled = 0;
	for (int u = 0; u < res.pf.nunits; u++) {
		int modeled = 1;
		double j;
		if (!be.ops->read_energy || be.ops->read_energy(&be, u, &j, &modeled) < 0)
			modeled = 1;
		res.us[u].energy_source = !live ? "simgrid" : modeled ? "modeled" : "rapl";
		any_modeled |= modeled;
	}
	res.energy_source = live ? (any_modeled ? "modeled" : "rapl") : "simgrid";
	res.stuck_on_memory = e.stuck_on_memory;
	res.mem_evicts = e.mem.ops->victim != NULL;
	xpu_summary_compute(res.w, &res.pf, res.us, res.link_energy_j, e.peak_power_w,
	                    &res.summary);
	/* the data figures move from the engine to the result */
	res.data.bytes = e.datum_bytes;
	res.data.copies = e.datum_copies;
	e.datum_bytes = NULL;
	e.datum_copies = NULL;
	if ((rc = xpu_data_links(&e, &res.data.links))) {
		xpu_errf(err, NULL, 0, "out of memory");
		goto out_engine;
	}

	if (o->output) {
		char host[256] = "unknown";
		gethostname(host, sizeof(host) - 1);
		struct xpu_run_info ri = {
		    .version = PACKAGE_VERSION,
		    .platform = res.pf.path,
		    .trace = o->trace,
		    .sched = ss.text,
		    .mem = ms.text,
		    .power = ps.text,
		    .offload = os.text,
		    .seed = o->seed,
		    .mode = live ? "live" : "sim",
		    .host = host,
		    .energy_source = res.energy_source,
		    .controls = be.ops->controls
		                    ? be.ops->controls(&be)
		                    : "pstate=unsupported,idle=unsupported,"
		                      "power_limit=unsupported,temperature=unsupported",
		    .pstate_requests = e.pstate_requests,
		    .pstate_refused = e.pstate_refused,
		    .limit_requests = e.limit_requests,
		    .limit_refused = e.limit_refused,
		    .data = &res.data,
		};
		rc = xpu_results_write(o->output, &ri, &res.pf, res.w, res.us, &res.tl,
		                       &res.summary, err);
		if (rc && rc == -EINVAL)
			rc = -EIO;
	}
	if (o->keep_routes) /* while the backend can still answer */
		for (int u = 0; u < res.pf.nunits; u++)
			for (int v = 0; v < res.pf.nunits; v++) {
				double lat, bw;
				if (res.pf.units[u].mem_pool != res.pf.units[v].mem_pool)
					(void)xpu_platform_route(&res.pf, u, v, &lat, &bw);
			}
out_engine:
	xpu_engine_teardown(&e);
	free(cm.used);
out_close:
	/* the backend's route answers go with it; what was asked stays cached */
	xpu_platform_detach_routes(&res.pf);
	if (be.ops->close)
		be.ops->close(&be);
	xpu_failures_free(&fl);
out_specs:
	xpu_spec_free(&ss);
	xpu_spec_free(&ms);
	xpu_spec_free(&ps);
	xpu_spec_free(&os);
	xpu_spec_free(&bs);
	free(bparams);
	if (res_out && !rc)
		*res_out = res;
	else
		xpu_run_result_free(&res);
	return rc;
}
