/* fallback.c — the live fallback chain: one run over the units of several live backends
 * (by default the XRT NPU or FPGA devices, then the OpenCL devices, then this machine's
 * CPU threads), in chain order. A backend that finds no hardware (-ENODEV) is skipped;
 * the engine, with fallback on (driver/run.c turns it on for this backend), moves a
 * task whose launch fails on to the next unit that can run it and takes out a unit
 * whose device went. Launches, copies, energy and P-states go to the backend that owns
 * the unit; waiting watches them all. */
#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "backend.h"
#include "platform.h"
#include "xpu.h"

#define LABEL     "live:fallback"
#define MAX_CHAIN 3
/* While several backends have work in flight, waiting watches each in turn for at most
 * this long, so an event of any of them is seen within about this much. */
#define SLICE_S 1e-4

struct member {
	const char *name;
	struct xpu_backend be;
	struct xpu_platform pf;
	struct xpu_param *param;
	int nparam;
	int unit0, pool0; /* its first unit and pool in the merged platform */
	long inflight;    /* launches and copies not yet reported */
	double offset;    /* its clock minus ours, measured when the run starts */
};

struct fb {
	int n;
	struct member m[MAX_CHAIN];
	int *owner; /* per merged unit: its member */
	char skipped[256];
	struct timespec t0;
	int running;
	double t_end;
	/* copies between members: complete at once (below), reported by the next wait */
	struct xpu_event *now_ev;
	int nnow, capnow;
	/* nested run */
	void (*body)(void *);
	void *arg;
	int rc;
};

static struct fb *fb_of(struct xpu_backend *be)
{
	return be->priv;
}

static double mono_since(const struct timespec *t0)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)(ts.tv_sec - t0->tv_sec) + 1e-9 * (double)(ts.tv_nsec - t0->tv_nsec);
}

static const struct xpu_backend_ops *member_ops(const char *name)
{
	if (!strcmp(name, "cpu"))
		return &xpu_backend_cpu;
	if (!strcmp(name, "opencl"))
		return &xpu_backend_opencl;
	if (!strcmp(name, "xrt"))
		return &xpu_backend_xrt;
	return NULL;
}

/* Routes: within a member, its own; between members, copies complete at once (they
 * are this process's memory; see fb_copy), so the route only keeps predictions
 * defined: no latency, the largest finite bandwidth. */
static int route(void *ctx, int s, int t, double *latency, double *bandwidth)
{
	struct fb *f = ctx;
	int a = f->owner[s], b = f->owner[t];
	if (a == b)
		return xpu_platform_route(&f->m[a].pf, s - f->m[a].unit0, t - f->m[a].unit0,
		                          latency, bandwidth)
		           ? 0
		           : -1;
	*latency = 0;
	*bandwidth = DBL_MAX;
	return 0;
}

/* Deep copies of every member's units and pools, in chain order; unit names that
 * repeat get "@BACKEND". */
static int merge(struct fb *f, struct xpu_platform *pf)
{
	int nu = 0, np = 0;
	for (int i = 0; i < f->n; i++) {
		f->m[i].unit0 = nu;
		f->m[i].pool0 = np;
		nu += f->m[i].pf.nunits;
		np += f->m[i].pf.npools;
	}
	memset(pf, 0, sizeof(*pf));
	pf->path = strdup(LABEL);
	pf->units = calloc((size_t)(nu ? nu : 1), sizeof(*pf->units));
	pf->pools = calloc((size_t)(np ? np : 1), sizeof(*pf->pools));
	f->owner = calloc((size_t)(nu ? nu : 1), sizeof(int));
	if (!pf->path || !pf->units || !pf->pools || !f->owner)
		goto nomem;
	for (int i = 0; i < f->n; i++) {
		const struct xpu_platform *sp = &f->m[i].pf;
		for (int p = 0; p < sp->npools; p++) {
			struct xpu_mempool *d = &pf->pools[pf->npools];
			d->capacity = sp->pools[p].capacity;
			if (!(d->name = strdup(sp->pools[p].name)))
				goto nomem;
			pf->npools++;
		}
		for (int u = 0; u < sp->nunits; u++) {
			struct xpu_unit *d = &pf->units[pf->nunits];
			const struct xpu_unit *s = &sp->units[u];
			*d = *s;
			d->name = NULL;
			d->pstates = NULL;
			d->availability = NULL;
			d->nbitstreams = 0;
			d->bitstream_names = NULL;
			d->index = pf->nunits;
			d->mem_pool = s->mem_pool + f->m[i].pool0;
			f->owner[pf->nunits] = i;
			pf->nunits++;
			int clash = 0;
			for (int k = 0; k < d->index; k++)
				clash |= !strcmp(pf->units[k].name, s->name);
			char name[256];
			snprintf(name, sizeof(name), clash ? "%s@%s" : "%s", s->name, f->m[i].name);
			d->name = strdup(name);
			d->pstates =
			    malloc(sizeof(*d->pstates) * (size_t)(s->npstates ? s->npstates : 1));
			if (!d->name || !d->pstates)
				goto nomem;
			memcpy(d->pstates, s->pstates, sizeof(*d->pstates) * (size_t)s->npstates);
			for (int c = 0; c < XPU_CLASS_COUNT; c++)
				d->bitstream[c] = -1;
			d->loaded_bitstream = -1;
		}
	}
	if (xpu_platform_finish_units(pf, route, f))
		goto nomem;
	return 0;
nomem:
	xpu_platform_free(pf);
	return -ENOMEM;
}

/* ------------------------------------------------------------------ parameters */

static const struct xpu_param_spec fb_specs[] = {
    {"order", XPU_PARAM_TEXT, 0, 0,
     "the chain: backends among xrt, opencl and cpu joined by '+', first tried first "
     "(default xrt+opencl+cpu)"},
    {"cpu.threads", XPU_PARAM_INT, 1, 4096, "the cpu backend's threads"},
    {"cpu.cores", XPU_PARAM_INT, 1, 4096, "the cpu backend's workers per unit"},
    {"cpu.units", XPU_PARAM_INT, 1, 4096, "the cpu backend's units (threads/units workers each)"},
    {"cpu.ahead", XPU_PARAM_INT, 0, 4096, "the cpu backend's launch-ahead"},
    {"cpu.pin", XPU_PARAM_INT, 0, 1, "the cpu backend's pinning"},
    {"opencl.inflight", XPU_PARAM_INT, 1, 1024, "the opencl backend's launches in flight"},
    {"opencl.cache", XPU_PARAM_TEXT, 0, 0, "the opencl backend's kernel cache"},
    {"xrt.xclbin", XPU_PARAM_TEXT, 0, 0, "the xrt backend's xclbin"},
    {"xrt.kernel", XPU_PARAM_TEXT, 0, 0, "the xrt backend's kernel name"},
    {"xrt.kind", XPU_PARAM_KIND, 0, 0, "the xrt backend's unit kind"},
    {NULL, 0, 0, 0, NULL},
};

/* The parameters "NAME.key" of member NAME, as its own "key". */
static int member_params(struct xpu_backend *be, struct member *m, struct xpu_err *err)
{
	size_t len = strlen(m->name);
	m->param = calloc((size_t)(be->nparams ? be->nparams : 1), sizeof(*m->param));
	if (!m->param)
		return -ENOMEM;
	for (int i = 0; i < be->nparams; i++) {
		const char *k = be->param[i].key;
		if (!strcmp(k, "order"))
			continue;
		const char *dot = strchr(k, '.');
		if (dot && (size_t)(dot - k) == len && !strncmp(k, m->name, len))
			m->param[m->nparam++] = (struct xpu_param){dot + 1, be->param[i].value};
		else if (!dot)
			return xpu_errf(
			    err, LABEL, 0,
			    "parameter '%s': expected order or BACKEND.key (cpu.threads, "
			    "opencl.inflight...)",
			    k);
	}
	return 0;
}

/* ------------------------------------------------------------------ ops */

static void fb_close(struct xpu_backend *be);

static int fb_open(struct xpu_backend *be, const char *path, struct xpu_platform *pf,
                   struct xpu_err *err)
{
	be->priv = NULL;
	if (path)
		return xpu_errf(
		    err, path, 0,
		    "live mode describes this machine itself; --platform applies to simulation");
	struct fb *f = calloc(1, sizeof(*f));
	if (!f)
		return -ENOMEM;
	be->priv = f;
	const char *order = xpu_param_str(be->param, be->nparams, "order", "xrt+opencl+cpu");
	char buf[128];
	if (strlen(order) >= sizeof(buf)) {
		fb_close(be);
		return xpu_errf(err, LABEL, 0, "parameter 'order': too long: \"%s\"", order);
	}
	snprintf(buf, sizeof(buf), "%s", order);
	static const char *const names[] = {"xrt", "opencl", "cpu"};
	const char *chain[MAX_CHAIN];
	int nchain = 0;
	for (char *save, *t = strtok_r(buf, "+", &save); t; t = strtok_r(NULL, "+", &save)) {
		const char *name = NULL;
		for (int k = 0; k < 3; k++)
			if (!strcmp(t, names[k]))
				name = names[k];
		int dup = 0;
		for (int k = 0; k < nchain; k++)
			dup |= name && chain[k] == name;
		if (!name || dup || nchain == MAX_CHAIN) {
			fb_close(be);
			return xpu_errf(
			    err, LABEL, 0,
			    "parameter 'order': expected backends among xrt, opencl and "
			    "cpu, each once, joined by '+', got \"%s\"",
			    order);
		}
		chain[nchain++] = name;
	}
	if (!nchain) {
		fb_close(be);
		return xpu_errf(err, LABEL, 0, "parameter 'order': empty");
	}
	int rc = 0;
	for (int k = 0; k < nchain && !rc; k++) {
		struct member *m = &f->m[f->n];
		memset(m, 0, sizeof(*m));
		m->name = chain[k];
		if ((rc = member_params(be, m, err)))
			break;
		m->be = (struct xpu_backend){
		    .ops = member_ops(m->name), .param = m->param, .nparams = m->nparam};
		struct xpu_err e = {{0}};
		int orc = m->be.ops->open(&m->be, NULL, &m->pf, &e);
		if (orc == -ENODEV) { /* not on this machine: the chain goes on without it */
			size_t off = strlen(f->skipped);
			snprintf(f->skipped + off, sizeof(f->skipped) - off, "%s%s",
			         off ? ", " : "", m->name);
			free(m->param);
			m->param = NULL;
			continue;
		}
		if (orc) {
			xpu_errf(err, LABEL, 0, "%s: %s", m->name,
			         e.msg[0] ? e.msg : strerror(-orc));
			free(m->param);
			m->param = NULL;
			rc = orc;
			break;
		}
		m->be.pf = &m->pf;
		f->n++;
	}
	if (!rc && f->n == 0) {
		xpu_errf(err, LABEL, 0, "no backend of the chain %s found its hardware", order);
		rc = -ENODEV;
	}
	if (!rc)
		rc = merge(f, pf);
	if (rc) {
		fb_close(be);
		return rc;
	}
	if (f->skipped[0])
		fprintf(stderr, "xpuopt: fallback: skipped %s (no device found)\n", f->skipped);
	return 0;
}

/* The members' runs nest: each starts its workers or queues and runs the next, the
 * innermost the engine's body, with every member running. */
static void run_level(void *arg);

struct level {
	struct fb *f;
	int i;
};

static void run_level(void *arg)
{
	struct level *lv = arg;
	struct fb *f = lv->f;
	if (lv->i == f->n) {
		clock_gettime(CLOCK_MONOTONIC, &f->t0);
		for (int i = 0; i < f->n; i++)
			f->m[i].offset = f->m[i].be.ops->now(&f->m[i].be);
		f->running = 1;
		f->body(f->arg);
		f->t_end = mono_since(&f->t0);
		f->running = 0;
		return;
	}
	struct level next = {f, lv->i + 1};
	int rc = f->m[lv->i].be.ops->run(&f->m[lv->i].be, run_level, &next);
	if (rc && !f->rc)
		f->rc = rc;
}

static int fb_run(struct xpu_backend *be, void (*body)(void *), void *arg)
{
	struct fb *f = fb_of(be);
	if (!f || !body)
		return -EINVAL;
	f->body = body;
	f->arg = arg;
	f->rc = 0;
	f->nnow = 0;
	for (int i = 0; i < f->n; i++)
		f->m[i].inflight = 0;
	struct level top = {f, 0};
	run_level(&top);
	return f->rc;
}

static double fb_now(struct xpu_backend *be)
{
	struct fb *f = fb_of(be);
	return f->running ? mono_since(&f->t0) : f->t_end;
}

static int fb_launch(struct xpu_backend *be, const struct xpu_launch *l)
{
	struct fb *f = fb_of(be);
	if (!l || l->unit < 0 || l->unit >= be->pf->nunits)
		return -EINVAL;
	struct member *m = &f->m[f->owner[l->unit]];
	struct xpu_launch sub = *l;
	sub.unit -= m->unit0;
	int rc = m->be.ops->launch(&m->be, &sub);
	if (!rc)
		m->inflight++;
	return rc;
}

static int push_now(struct fb *f, const struct xpu_event *ev)
{
	if (f->nnow == f->capnow) {
		int cap = f->capnow ? 2 * f->capnow : 64;
		struct xpu_event *v = realloc(f->now_ev, sizeof(*v) * (size_t)cap);
		if (!v)
			return -ENOMEM;
		f->now_ev = v;
		f->capnow = cap;
	}
	f->now_ev[f->nnow++] = *ev;
	return 0;
}

/* A copy within a member is the member's; between members it completes at once: every
 * member's host-side data are this process's memory, and a member moves what its own
 * kernels read (the OpenCL backend creates a datum's buffer on a device on first use). */
static int fb_copy(struct xpu_backend *be, const struct xpu_copy *c)
{
	struct fb *f = fb_of(be);
	if (!c || c->src_unit < 0 || c->dst_unit < 0 || c->src_unit >= be->pf->nunits ||
	    c->dst_unit >= be->pf->nunits)
		return -EINVAL;
	int a = f->owner[c->src_unit], b = f->owner[c->dst_unit];
	if (a != b)
		return push_now(f, &(struct xpu_event){.type = XPU_EV_COPY,
		                                       .cookie = c->cookie,
		                                       .time = fb_now(be)});
	struct member *m = &f->m[a];
	struct xpu_copy sub = *c;
	sub.src_unit -= m->unit0;
	sub.dst_unit -= m->unit0;
	sub.src_pool -= m->pool0;
	sub.dst_pool -= m->pool0;
	int rc = m->be.ops->copy(&m->be, &sub);
	if (!rc)
		m->inflight++;
	return rc;
}

/* Events of member i up to its time until (ours), in our clock. */
static int member_wait(struct fb *f, int i, double until, struct xpu_event *ev, int max)
{
	struct member *m = &f->m[i];
	int n = m->be.ops->wait(&m->be, isinf(until) ? until : until + m->offset, ev, max);
	if (n == -EDEADLK)
		return 0;
	for (int k = 0; k < n; k++) {
		ev[k].time -= m->offset;
		if (ev[k].flags & XPU_EV_TIMED)
			ev[k].start -= m->offset;
		if (ev[k].type == XPU_EV_DONE || ev[k].type == XPU_EV_COPY)
			m->inflight--;
	}
	return n;
}

static int fb_wait(struct xpu_backend *be, double until, struct xpu_event *ev, int max)
{
	struct fb *f = fb_of(be);
	if (!ev || max <= 0 || isnan(until) || !f->running)
		return -EINVAL;
	for (;;) {
		if (f->nnow) {
			int k = f->nnow < max ? f->nnow : max;
			memcpy(ev, f->now_ev, sizeof(*ev) * (size_t)k);
			memmove(f->now_ev, f->now_ev + k, sizeof(*ev) * (size_t)(f->nnow - k));
			f->nnow -= k;
			return k;
		}
		/* whatever has ended, from every member, without waiting */
		double now = fb_now(be);
		int n = 0, busy = 0, last = -1;
		for (int i = 0; i < f->n && n < max; i++) {
			int got = f->m[i].inflight ? member_wait(f, i, now, ev + n, max - n) : 0;
			if (got < 0)
				return got;
			n += got;
			if (f->m[i].inflight) {
				busy++;
				last = i;
			}
		}
		if (n)
			return n;
		if (now >= until)
			return 0;
		if (!busy) {
			if (isinf(until))
				return -EDEADLK;
			/* nothing in flight: sleep to the limit on the first member's clock */
			n = member_wait(f, 0, until, ev, max);
			if (n)
				return n;
			continue;
		}
		/* one member busy: its own wait, to the limit; several: a slice each */
		double to = busy == 1 ? until : fmin(until, now + SLICE_S);
		n = member_wait(f, last, to, ev, max);
		if (n)
			return n;
	}
}

static int fb_set_pstate(struct xpu_backend *be, int unit, int pstate)
{
	struct fb *f = fb_of(be);
	if (unit < 0 || unit >= be->pf->nunits)
		return -EINVAL;
	struct member *m = &f->m[f->owner[unit]];
	return m->be.ops->set_pstate(&m->be, unit - m->unit0, pstate);
}

static int fb_read_energy(struct xpu_backend *be, int unit, double *joules, int *modeled)
{
	struct fb *f = fb_of(be);
	if (unit < 0 || unit >= be->pf->nunits)
		return -EINVAL;
	struct member *m = &f->m[f->owner[unit]];
	return m->be.ops->read_energy(&m->be, unit - m->unit0, joules, modeled);
}

static int fb_read_link_energy(struct xpu_backend *be, double *joules)
{
	struct fb *f = fb_of(be);
	double sum = 0;
	for (int i = 0; i < f->n; i++) {
		double j = 0;
		if (f->m[i].be.ops->read_link_energy &&
		    f->m[i].be.ops->read_link_energy(&f->m[i].be, &j) == 0)
			sum += j;
	}
	*joules = sum;
	return 0;
}

/* The member whose memories include merged pool `pool`, or -1. */
static int pool_owner(const struct fb *f, int pool)
{
	for (int i = 0; i < f->n; i++)
		if (pool >= f->m[i].pool0 && pool < f->m[i].pool0 + f->m[i].pf.npools)
			return i;
	return -1;
}

/* Data go to the member that owns the memory: real allocations there (host memory,
 * cl_mem buffers). */
static int fb_data_alloc(struct xpu_backend *be, uint32_t datum, int pool, double bytes)
{
	struct fb *f = fb_of(be);
	int i = pool_owner(f, pool);
	if (i < 0)
		return -EINVAL;
	struct member *m = &f->m[i];
	return m->be.ops->data_alloc ? m->be.ops->data_alloc(&m->be, datum, pool - m->pool0, bytes)
	                             : 0;
}

static void fb_data_free(struct xpu_backend *be, uint32_t datum, int pool)
{
	struct fb *f = fb_of(be);
	int i = pool_owner(f, pool);
	if (i >= 0 && f->m[i].be.ops->data_free)
		f->m[i].be.ops->data_free(&f->m[i].be, datum, pool - f->m[i].pool0);
}

static int fb_read_temp(struct xpu_backend *be, int unit, double *celsius)
{
	struct fb *f = fb_of(be);
	if (unit < 0 || unit >= be->pf->nunits)
		return -EINVAL;
	struct member *m = &f->m[f->owner[unit]];
	return m->be.ops->read_temp ? m->be.ops->read_temp(&m->be, unit - m->unit0, celsius)
	                            : -ENODEV;
}

/* A limit on one memory's units goes to its member; on every unit (-1), to each
 * member that has a limit (applied when one of them applied it). */
static int fb_set_power_limit(struct xpu_backend *be, int pool, double watts)
{
	struct fb *f = fb_of(be);
	if (pool >= 0) {
		int i = pool_owner(f, pool);
		if (i < 0)
			return -EINVAL;
		struct member *m = &f->m[i];
		return m->be.ops->set_power_limit
		           ? m->be.ops->set_power_limit(&m->be, pool - m->pool0, watts)
		           : -ENOTSUP;
	}
	int rc = -ENOTSUP;
	for (int i = 0; i < f->n; i++)
		if (f->m[i].be.ops->set_power_limit &&
		    f->m[i].be.ops->set_power_limit(&f->m[i].be, -1, watts) == 0)
			rc = 0;
	return rc;
}

/* The last member's controls: this machine's CPU where it is in the chain. */
static const char *fb_controls(struct xpu_backend *be)
{
	struct fb *f = fb_of(be);
	const struct member *m = f && f->n ? &f->m[f->n - 1] : NULL;
	if (m && m->be.ops->controls)
		return m->be.ops->controls((struct xpu_backend *)&m->be);
	return "pstate=unsupported,idle=unsupported,power_limit=unsupported,"
	       "temperature=unsupported";
}

static void fb_close(struct xpu_backend *be)
{
	struct fb *f = fb_of(be);
	if (!f)
		return;
	for (int i = 0; i < f->n; i++) {
		f->m[i].be.ops->close(&f->m[i].be);
		xpu_platform_free(&f->m[i].pf);
		free(f->m[i].param);
	}
	free(f->owner);
	free(f->now_ev);
	free(f);
	be->priv = NULL;
}

const struct xpu_backend_ops xpu_backend_fallback = {
    .head = {.version = XPU_BACKEND_VERSION,
             .name = "fallback",
             .description = "the live fallback chain: XRT devices, then OpenCL devices, then "
                            "CPU threads (those found); a failed launch moves on",
             .params = fb_specs},
    .open = fb_open,
    .run = fb_run,
    .now = fb_now,
    .launch = fb_launch,
    .copy = fb_copy,
    .wait = fb_wait,
    .set_pstate = fb_set_pstate,
    .read_energy = fb_read_energy,
    .read_link_energy = fb_read_link_energy,
    .close = fb_close,
    .controls = fb_controls,
    .data_alloc = fb_data_alloc,
    .data_free = fb_data_free,
    .read_temp = fb_read_temp,
    .set_power_limit = fb_set_power_limit,
};
