/* faults.c — a backend that wraps another and makes chosen launches fail, to test how
 * policies and the engine cope (in the spirit of SQLite's fault-injecting VFS). A
 * failed launch is reported at once as an XPU_EV_DONE event with status -EIO, or
 * -ENODEV (status=enodev: its device went); after=N lets the first N launches run. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "faults.h"

struct faulty {
	struct xpu_backend inner;
	int kind;   /* fail every launch on units of this kind; -1: none */
	int unit;   /* fail every launch on this unit; -1: none */
	long every; /* fail every Nth launch; 0: none */
	long after; /* launches that run before any fails */
	int status; /* what a failed launch reports: -EIO, or -ENODEV (the device went) */
	long launches;
	struct xpu_event *pend;
	size_t n, cap;
};

static struct faulty *F(struct xpu_backend *be)
{
	return be->priv;
}

static int f_open(struct xpu_backend *be, const char *path, struct xpu_platform *pf,
                  struct xpu_err *err)
{
	struct faulty *f = F(be);
	int rc = f->inner.ops->open(&f->inner, path, pf, err);
	if (!rc)
		f->inner.pf = pf;
	if (!rc && f->unit >= pf->nunits) {
		/* a fault on a unit the platform lacks would silently inject nothing */
		xpu_errf(err, NULL, 0, "--faults: unit=%d: the platform has %d unit%s (0 to %d)",
		         f->unit, pf->nunits, pf->nunits == 1 ? "" : "s", pf->nunits - 1);
		f->inner.ops->close(&f->inner);
		return -EINVAL;
	}
	if (!rc && f->kind >= 0) {
		int any = 0;
		for (int u = 0; u < pf->nunits && !any; u++)
			any = pf->units[u].kind == f->kind;
		if (!any) {
			xpu_errf(err, NULL, 0,
			         "--faults: kind=%s: the platform has no unit of that kind",
			         xpu_kind_name(f->kind));
			f->inner.ops->close(&f->inner);
			return -EINVAL;
		}
	}
	return rc;
}

static int f_run(struct xpu_backend *be, void (*body)(void *), void *arg)
{
	F(be)->inner.pf = be->pf;
	return F(be)->inner.ops->run(&F(be)->inner, body, arg);
}

static double f_now(struct xpu_backend *be)
{
	return F(be)->inner.ops->now(&F(be)->inner);
}

static int f_launch(struct xpu_backend *be, const struct xpu_launch *l)
{
	struct faulty *f = F(be);
	f->launches++;
	int fail =
	    f->launches > f->after &&
	    ((f->kind >= 0 && be->pf->units[l->unit].kind == f->kind) ||
	     (f->unit >= 0 && l->unit == f->unit) || (f->every > 0 && f->launches % f->every == 0));
	if (!fail)
		return f->inner.ops->launch(&f->inner, l);
	if (f->n == f->cap) {
		size_t cap = f->cap ? 2 * f->cap : 16;
		struct xpu_event *p = realloc(f->pend, cap * sizeof(*p));
		if (!p)
			return -ENOMEM;
		f->pend = p;
		f->cap = cap;
	}
	f->pend[f->n++] = (struct xpu_event){
	    .type = XPU_EV_DONE, .cookie = l->cookie, .status = f->status, .time = f_now(be)};
	return 0;
}

static int f_copy(struct xpu_backend *be, const struct xpu_copy *c)
{
	return F(be)->inner.ops->copy(&F(be)->inner, c);
}

static int f_wait(struct xpu_backend *be, double until, struct xpu_event *ev, int max)
{
	struct faulty *f = F(be);
	if (!f->n)
		return f->inner.ops->wait(&f->inner, until, ev, max);
	int k = (int)f->n < max ? (int)f->n : max;
	memcpy(ev, f->pend, (size_t)k * sizeof(*ev));
	memmove(f->pend, f->pend + k, (f->n - (size_t)k) * sizeof(*ev));
	f->n -= (size_t)k;
	return k;
}

static int f_set_pstate(struct xpu_backend *be, int unit, int pstate)
{
	struct xpu_backend *in = &F(be)->inner;
	return in->ops->set_pstate ? in->ops->set_pstate(in, unit, pstate) : -ENOTSUP;
}

static int f_read_energy(struct xpu_backend *be, int unit, double *j, int *modeled)
{
	struct xpu_backend *in = &F(be)->inner;
	return in->ops->read_energy ? in->ops->read_energy(in, unit, j, modeled) : -ENOTSUP;
}

static int f_read_link_energy(struct xpu_backend *be, double *j)
{
	struct xpu_backend *in = &F(be)->inner;
	return in->ops->read_link_energy ? in->ops->read_link_energy(in, j) : -ENOTSUP;
}

static int f_data_alloc(struct xpu_backend *be, uint32_t datum, int pool, double bytes)
{
	struct xpu_backend *in = &F(be)->inner;
	return in->ops->data_alloc ? in->ops->data_alloc(in, datum, pool, bytes) : 0;
}

static void f_data_free(struct xpu_backend *be, uint32_t datum, int pool)
{
	struct xpu_backend *in = &F(be)->inner;
	if (in->ops->data_free)
		in->ops->data_free(in, datum, pool);
}

static int f_read_temp(struct xpu_backend *be, int unit, double *celsius)
{
	struct xpu_backend *in = &F(be)->inner;
	return in->ops->read_temp ? in->ops->read_temp(in, unit, celsius) : -ENODEV;
}

static int f_set_power_limit(struct xpu_backend *be, int pool, double watts)
{
	struct xpu_backend *in = &F(be)->inner;
	return in->ops->set_power_limit ? in->ops->set_power_limit(in, pool, watts) : -ENOTSUP;
}

static const char *f_controls(struct xpu_backend *be)
{
	struct xpu_backend *in = &F(be)->inner;
	return in->ops->controls ? in->ops->controls(in) : NULL;
}

static void f_close(struct xpu_backend *be)
{
	struct faulty *f = F(be);
	if (f->inner.ops->close)
		f->inner.ops->close(&f->inner);
	free(f->pend);
	free(f);
	be->priv = NULL;
}

static const struct xpu_backend_ops faulty_ops = {
    .head = {.version = XPU_BACKEND_VERSION,
             .name = "faults",
             .description = "wraps a backend and fails chosen launches"},
    .open = f_open,
    .run = f_run,
    .now = f_now,
    .launch = f_launch,
    .copy = f_copy,
    .wait = f_wait,
    .set_pstate = f_set_pstate,
    .read_energy = f_read_energy,
    .read_link_energy = f_read_link_energy,
    .close = f_close,
    .data_alloc = f_data_alloc,
    .data_free = f_data_free,
    .read_temp = f_read_temp,
    .set_power_limit = f_set_power_limit,
    .controls = f_controls,
};

int xpu_faults_wrap(struct xpu_backend *be, const char *spec, struct xpu_err *err)
{
	struct faulty *f = calloc(1, sizeof(*f));
	char *copy = strdup(spec);
	if (!f || !copy) {
		free(f);
		free(copy);
		return -ENOMEM;
	}
	f->inner = *be;
	f->kind = f->unit = -1;
	f->status = -EIO;
	int rc = 0;
	for (char *save = NULL, *kv = strtok_r(copy, ",", &save); kv && !rc;
	     kv = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(kv, '=');
		char *end = NULL;
		if (!eq) {
			rc = xpu_errf(err, NULL, 0, "--faults: expected key=value, got \"%s\"", kv);
			break;
		}
		*eq++ = '\0';
		if (!strcmp(kv, "kind")) {
			f->kind = xpu_kind_parse(eq);
			if (f->kind < 0)
				rc = xpu_errf(err, NULL, 0, "--faults: unknown kind \"%s\"", eq);
		} else if (!strcmp(kv, "unit")) {
			f->unit = (int)strtol(eq, &end, 10);
			if (end == eq || *end || f->unit < 0)
				rc = xpu_errf(err, NULL, 0,
				              "--faults: unit: expected a unit index, got \"%s\"",
				              eq);
		} else if (!strcmp(kv, "every")) {
			f->every = strtol(eq, &end, 10);
			if (end == eq || *end || f->every < 1)
				rc = xpu_errf(err, NULL, 0,
				              "--faults: every: expected a positive integer, got "
				              "\"%s\"",
				              eq);
		} else if (!strcmp(kv, "after")) {
			f->after = strtol(eq, &end, 10);
			if (end == eq || *end || f->after < 0)
				rc = xpu_errf(
				    err, NULL, 0,
				    "--faults: after: expected a whole number, got \"%s\"", eq);
		} else if (!strcmp(kv, "status")) {
			if (!strcmp(eq, "eio"))
				f->status = -EIO;
			else if (!strcmp(eq, "enodev"))
				f->status = -ENODEV;
			else
				rc = xpu_errf(
				    err, NULL, 0,
				    "--faults: status: expected eio (a failed launch) or enodev "
				    "(the device went), got \"%s\"",
				    eq);
		} else {
			rc = xpu_errf(
			    err, NULL, 0,
			    "--faults: unknown key \"%s\" (keys: kind, unit, every, after, "
			    "status)",
			    kv);
		}
	}
	free(copy);
	if (rc) {
		free(f);
		return rc;
	}
	be->ops = &faulty_ops;
	be->priv = f;
	return 0;
}

void xpu_faults_discard(struct xpu_backend *be)
{
	if (be->ops != &faulty_ops)
		return;
	struct faulty *f = F(be);
	*be = f->inner; /* the inner backend was never opened, or is closed already */
	free(f->pend);
	free(f);
}
