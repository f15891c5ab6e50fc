/* xrt.c — the `xrt` live backend: AMD/Xilinx devices through XRT (Alveo FPGA cards,
 * Ryzen AI NPUs), XRT 2.13's C API as Debian 12 packages it (libxrt-dev).
 *
 * Devices are found with xclProbe. With none — or when xpuopt was built without XRT —
 * open fails with -ENODEV and says so ("no XRT device found"), so `xpuopt run --backend
 * xrt` exits 2 and a caller trying backends in turn moves on.
 *
 * With devices, each is one unit (kind `fpga`, or `npu` with kind=npu). The backend
 * configuration names the xclbin to load on every device and its kernel: xclbin=FILE,
 * kernel=NAME (default xpu_work). The kernel follows one convention: arguments (global
 * buffer in, global buffer out, element count n), out[i] = f(in[i]) for i < n, one
 * multiply-add chain per element (FLOPS_PER_ELEMENT flop). A launch of F flop runs it
 * on ceil(F / FLOPS_PER_ELEMENT) elements (at least one) in buffer objects kept per
 * device and grown as needed; a launch carrying only a duration runs that long's worth
 * at the rate measured at open. Each device has one worker thread that runs its
 * launches in order (xrtKernelRun, then xrtRunWait) and reports their completions.
 * Energy is modeled (idle_w, full_w parameters) and labelled so.
 *
 * NPU power modes (kind=npu, one device): open sets each of XRT's modes in turn through
 * xrt-smi (xbutil on older XRT; hw/xrt_smi.c) and times the kernel in it, so the unit's
 * P-states are turbo, performance, balanced and powersaver at their measured rates,
 * named as modes for the npu-mode power policy; set_pstate switches the mode, and close
 * puts the device back to `default`. Where the tool is missing or refuses (it needs
 * administrator rights), the unit keeps one P-state and the controls say why.
 *
 * This machine and CI have XRT but no device: the device path compiles against XRT
 * 2.13 but has not run on hardware (hw/README.md, "xrt"). */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "backend.h"
#include "config.h"
#include "xrt_smi.h"
#include "platform.h"
#include "xpu.h"

#ifdef HAVE_XRT
#include <xclhal2.h>
#include <xrt/xrt_bo.h>
#include <xrt/xrt_device.h>
#include <xrt/xrt_kernel.h>
#endif

#define FLOPS_PER_ELEMENT 64.0 /* the kernel convention's work per element */
#define MAX_DEVICES       64

static const struct xpu_param_spec xrt_param_specs[] = {
    {"xclbin", XPU_PARAM_TEXT, 0, 0, "xclbin file loaded on every device (needed with devices)"},
    {"kernel", XPU_PARAM_TEXT, 0, 0, "kernel name in the xclbin (default xpu_work)"},
    {"kind", XPU_PARAM_KIND, 0, 0, "unit kind of the devices (default fpga)"},
    {"idle_w", XPU_PARAM_NUMBER, 0, 1e4, "modeled idle power per device, W (default 20)"},
    {"full_w", XPU_PARAM_NUMBER, 0, 1e4, "modeled full-load power per device, W (default 75)"},
    {"pmodes", XPU_PARAM_INT, 0, 1,
     "with kind=npu: measure and offer the NPU power modes as P-states (default 1)"},
    {"smi", XPU_PARAM_TEXT, 0, 0,
     "the tool that sets NPU power modes (default xrt-smi, else xbutil)"},
    {NULL, 0, 0, 0, NULL},
};

static const char *param(const struct xpu_backend *be, const char *key, const char *def)
{
	return xpu_param_str(be->param, be->nparams, key, def);
}

#ifndef HAVE_XRT

static int xrt_open(struct xpu_backend *be, const char *path, struct xpu_platform *pf,
                    struct xpu_err *err)
{
	(void)pf;
	be->priv = NULL;
	if (path)
		return xpu_errf(
		    err, path, 0,
		    "live mode describes this machine itself; --platform applies to simulation");
	xpu_errf(err, NULL, 0,
	         "backend xrt: no XRT device found (this xpuopt was built without XRT: "
	         "install libxrt-dev and run configure again)");
	return -ENODEV;
}

const struct xpu_backend_ops xpu_backend_xrt = {
    .head = {.version = XPU_BACKEND_VERSION,
             .name = "xrt",
             .description = "AMD XRT devices (Alveo, Ryzen AI NPU): not built (no XRT)",
             .params = xrt_param_specs},
    .open = xrt_open,
};

#else /* HAVE_XRT */

struct job {
	uint64_t cookie;
	uint64_t elems;
	struct job *next;
};

struct dev {
	struct xrt *x;
	int index;
	xrtDeviceHandle d;
	xrtKernelHandle k;
	xrtBufferHandle in, out;
	uint64_t cap; /* elements the buffers hold */
	pthread_t thread;
	int started;
	pthread_cond_t work;
	struct job *head, *tail; /* under x->lock */
	double busy, busy_since;
};

struct xrt {
	int n;
	struct dev dev[MAX_DEVICES];
	double rate; /* elements per second, measured at open on device 0 */
	double idle_w, full_w;
	struct timespec t0;
	pthread_mutex_t lock;
	pthread_cond_t done;
	struct xpu_event *ev; /* completion ring, under lock */
	size_t evhead, evlen, evcap;
	int inflight, running, stop;
	double t_end;
	/* NPU power modes: how many are offered (0 or XPU_XRT_NPMODES), the kernel's rate
	 * measured in each, the one set now, why there are none */
	int npm, cur_pm;
	double pm_rate[XPU_XRT_NPMODES];
	const char *smi;
	char pm_why[200];
	char controls[400];
};

static double mono_since(const struct timespec *t0)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)(ts.tv_sec - t0->tv_sec) + 1e-9 * (double)(ts.tv_nsec - t0->tv_nsec);
}

/* Buffers for at least n elements on device dv. */
static int ensure_buffers(struct dev *dv, uint64_t n)
{
	if (n <= dv->cap)
		return 0;
	uint64_t cap = dv->cap ? dv->cap : 1024;
	while (cap < n)
		cap *= 2;
	if (dv->in)
		xrtBOFree(dv->in);
	if (dv->out)
		xrtBOFree(dv->out);
	dv->in = xrtBOAlloc(dv->d, cap * sizeof(float), 0, xrtKernelArgGroupId(dv->k, 0));
	dv->out = xrtBOAlloc(dv->d, cap * sizeof(float), 0, xrtKernelArgGroupId(dv->k, 1));
	dv->cap = dv->in && dv->out ? cap : 0;
	return dv->cap ? 0 : -ENOMEM;
}

/* One kernel run over n elements: 0 or -EIO. */
static int run_kernel(struct dev *dv, uint64_t n)
{
	if (ensure_buffers(dv, n))
		return -ENOMEM;
	xrtRunHandle r = xrtKernelRun(dv->k, dv->in, dv->out, (int)n);
	if (!r)
		return -EIO;
	int state = xrtRunWait(r);
	xrtRunClose(r);
	return state == ERT_CMD_STATE_COMPLETED ? 0 : -EIO;
}

static void push_event(struct xrt *x, int type, uint64_t cookie, int status)
{
	if (x->evlen == x->evcap) {
		size_t cap = x->evcap ? x->evcap * 2 : 64;
		struct xpu_event *v = malloc(cap * sizeof(*v));
		if (!v)
			return; /* the launch is lost: wait would then stop on EDEADLK */
		for (size_t i = 0; i < x->evlen; i++)
			v[i] = x->ev[(x->evhead + i) % x->evcap];
		free(x->ev);
		x->ev = v;
		x->evhead = 0;
		x->evcap = cap;
	}
	x->ev[(x->evhead + x->evlen++) % x->evcap] = (struct xpu_event){
	    .type = type, .cookie = cookie, .status = status, .time = mono_since(&x->t0)};
	x->inflight--;
	pthread_cond_signal(&x->done);
}

static void *dev_main(void *arg)
{
	struct dev *dv = arg;
	struct xrt *x = dv->x;
	pthread_mutex_lock(&x->lock);
	for (;;) {
		while (!dv->head && !x->stop)
			pthread_cond_wait(&dv->work, &x->lock);
		if (x->stop)
			break;
		struct job *j = dv->head;
		dv->head = j->next;
		if (!dv->head)
			dv->tail = NULL;
		dv->busy_since = mono_since(&x->t0);
		pthread_mutex_unlock(&x->lock);
		int rc = run_kernel(dv, j->elems);
		pthread_mutex_lock(&x->lock);
		dv->busy += mono_since(&x->t0) - dv->busy_since;
		push_event(x, XPU_EV_DONE, j->cookie, rc);
		free(j);
	}
	pthread_mutex_unlock(&x->lock);
	return NULL;
}

static void xrt_close(struct xpu_backend *be)
{
	struct xrt *x = be->priv;
	if (!x)
		return;
	if (x->npm) { /* the device as a reboot would leave it */
		char msg[200];
		xpu_xrt_set_pmode(x->smi, NULL, "default", msg, sizeof(msg));
	}
	for (int i = 0; i < x->n; i++) {
		struct dev *dv = &x->dev[i];
		if (dv->in)
			xrtBOFree(dv->in);
		if (dv->out)
			xrtBOFree(dv->out);
		if (dv->k)
			xrtKernelClose(dv->k);
		if (dv->d)
			xrtDeviceClose(dv->d);
		pthread_cond_destroy(&dv->work);
	}
	pthread_mutex_destroy(&x->lock);
	pthread_cond_destroy(&x->done);
	free(x->ev);
	free(x);
	be->priv = NULL;
}

static int xrt_open(struct xpu_backend *be, const char *path, struct xpu_platform *pf,
                    struct xpu_err *err)
{
	be->priv = NULL;
	if (path)
		return xpu_errf(
		    err, path, 0,
		    "live mode describes this machine itself; --platform applies to simulation");
	unsigned ndev = xclProbe();
	if (ndev == 0) {
		xpu_errf(err, NULL, 0, "backend xrt: no XRT device found (XRT 2.13 probed none)");
		return -ENODEV;
	}
	const char *xclbin = param(be, "xclbin", NULL);
	if (!xclbin)
		return xpu_errf(err, NULL, 0,
		                "backend xrt: %u device(s) found; name the xclbin to load: "
		                "--backend xrt:xclbin=FILE[,kernel=NAME]",
		                ndev);
	const char *kname = param(be, "kernel", "xpu_work");
	int kind = xpu_kind_parse(param(be, "kind", "fpga"));
	struct xrt *x = calloc(1, sizeof(*x));
	if (!x)
		return -ENOMEM;
	be->priv = x;
	pthread_mutex_init(&x->lock, NULL);
	pthread_cond_init(&x->done, NULL);
	x->idle_w = xpu_param_num(be->param, be->nparams, "idle_w", 20);
	x->full_w = xpu_param_num(be->param, be->nparams, "full_w", 75);
	x->n = ndev > MAX_DEVICES ? MAX_DEVICES : (int)ndev;
	for (int i = 0; i < x->n; i++) {
		struct dev *dv = &x->dev[i];
		dv->x = x;
		dv->index = i;
		pthread_cond_init(&dv->work, NULL);
		xuid_t uuid;
		if (!(dv->d = xrtDeviceOpen((unsigned)i)) ||
		    xrtDeviceLoadXclbinFile(dv->d, xclbin) || xrtDeviceGetXclbinUUID(dv->d, uuid) ||
		    !(dv->k = xrtPLKernelOpen(dv->d, uuid, kname))) {
			xrt_close(be);
			return xpu_errf(
			    err, xclbin, 0,
			    "backend xrt: device %d: cannot open it, load this xclbin or "
			    "find kernel '%s' in it",
			    i, kname);
		}
	}
	/* the rate: a 2^20-element run, timed, after two warm-up runs, on device 0 */
	if (run_kernel(&x->dev[0], 1 << 10) || run_kernel(&x->dev[0], 1 << 20)) {
		xrt_close(be);
		return xpu_errf(err, xclbin, 0, "backend xrt: kernel '%s' failed its first runs",
		                kname);
	}
	struct timespec t1;
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (run_kernel(&x->dev[0], 1 << 20)) {
		xrt_close(be);
		return -EIO;
	}
	double s = mono_since(&t1);
	x->rate = s > 0 ? (double)(1 << 20) / s : 1e9;
	x->smi = param(be, "smi", NULL);
	snprintf(x->pm_why, sizeof(x->pm_why), "the devices are not NPUs (kind=npu)");
	if (kind == XPU_KIND_NPU && x->n > 1)
		snprintf(x->pm_why, sizeof(x->pm_why),
		         "%d NPU devices: power modes are set for one device only", x->n);
	else if (kind == XPU_KIND_NPU && !xpu_param_num(be->param, be->nparams, "pmodes", 1))
		snprintf(x->pm_why, sizeof(x->pm_why), "pmodes=0");
	else if (kind == XPU_KIND_NPU) {
		/* each mode's rate, timed as above; stays in the fastest (P-state 0) */
		int m;
		for (m = XPU_XRT_NPMODES - 1; m >= 0; m--) {
			if (xpu_xrt_set_pmode(x->smi, NULL, xpu_xrt_pmodes[m], x->pm_why,
			                      sizeof(x->pm_why)))
				break;
			clock_gettime(CLOCK_MONOTONIC, &t1);
			if (run_kernel(&x->dev[0], 1 << 20))
				break;
			double sm = mono_since(&t1);
			x->pm_rate[m] = sm > 0 ? (double)(1 << 20) / sm : x->rate;
		}
		if (m < 0) {
			x->npm = XPU_XRT_NPMODES;
			x->rate = x->pm_rate[0];
		} else if (m < XPU_XRT_NPMODES - 1) { /* some modes were set: back to default */
			char msg[200];
			xpu_xrt_set_pmode(x->smi, NULL, "default", msg, sizeof(msg));
		}
	}
	/* one unit per device; one memory pool for all (a launch's data stay on its device:
	 * no copy ever moves anything, so no route is asked for) */
	memset(pf, 0, sizeof(*pf));
	pf->path = strdup("live:xrt");
	pf->units = calloc((size_t)x->n, sizeof(*pf->units));
	pf->pools = calloc(1, sizeof(*pf->pools));
	if (!pf->path || !pf->units || !pf->pools || xpu_platform_finish_units(pf, NULL, NULL))
		goto nomem;
	pf->npools = 1;
	if (!(pf->pools[0].name = strdup("device")))
		goto nomem;
	for (int i = 0; i < x->n; i++) {
		struct xpu_unit *u = &pf->units[i];
		char name[32];
		pf->nunits = i + 1;
		snprintf(name, sizeof(name), "%s%d", xpu_kind_name(kind), i);
		u->name = strdup(name);
		int np = x->npm ? x->npm : 1;
		u->pstates = malloc((size_t)np * sizeof(*u->pstates));
		if (!u->name || !u->pstates)
			goto nomem;
		u->index = i;
		u->kind = kind;
		u->cores = 1;
		u->npstates = np;
		u->pstates[0] = (struct xpu_pstate){x->rate * FLOPS_PER_ELEMENT, x->idle_w,
		                                    x->idle_w, x->full_w};
		/* the modes: measured speeds; modeled power scaled with the speed (estimate) */
		for (int k = 1; k < np; k++) {
			double r = x->pm_rate[k] / x->pm_rate[0];
			u->pstates[k] =
			    (struct xpu_pstate){x->pm_rate[k] * FLOPS_PER_ELEMENT, x->idle_w,
			                        x->idle_w, x->idle_w + (x->full_w - x->idle_w) * r};
		}
		u->nmodes = x->npm;
		for (int k = 0; k < x->npm; k++) {
			snprintf(u->mode_name[k], sizeof(u->mode_name[k]), "%s", xpu_xrt_pmodes[k]);
			u->mode_pstate[k] = k;
		}
		u->loaded_bitstream = -1;
		for (int k = 0; k < XPU_CLASS_COUNT; k++) {
			u->bitstream[k] = -1;
			u->cls[k] = (struct xpu_class_cap){.supported = 1, .efficiency = 1.0};
		}
	}
	return 0;
nomem:
	xpu_platform_free(pf);
	xrt_close(be);
	return -ENOMEM;
}

static int xrt_run(struct xpu_backend *be, void (*body)(void *), void *arg)
{
	struct xrt *x = be->priv;
	if (!x || x->running)
		return -EINVAL;
	clock_gettime(CLOCK_MONOTONIC, &x->t0);
	x->stop = 0;
	x->running = 1;
	int rc = 0;
	for (int i = 0; i < x->n && !rc; i++) {
		x->dev[i].busy = 0;
		rc = -pthread_create(&x->dev[i].thread, NULL, dev_main, &x->dev[i]);
		x->dev[i].started = !rc;
	}
	if (!rc)
		body(arg);
	pthread_mutex_lock(&x->lock);
	x->stop = 1;
	for (int i = 0; i < x->n; i++)
		pthread_cond_signal(&x->dev[i].work);
	pthread_mutex_unlock(&x->lock);
	for (int i = 0; i < x->n; i++) {
		if (x->dev[i].started)
			pthread_join(x->dev[i].thread, NULL);
		x->dev[i].started = 0;
		while (x->dev[i].head) {
			struct job *j = x->dev[i].head;
			x->dev[i].head = j->next;
			free(j);
		}
		x->dev[i].tail = NULL;
	}
	x->t_end = mono_since(&x->t0);
	x->running = 0;
	return rc;
}

static double xrt_now(struct xpu_backend *be)
{
	struct xrt *x = be->priv;
	return x->running ? mono_since(&x->t0) : x->t_end;
}

static int xrt_launch(struct xpu_backend *be, const struct xpu_launch *l)
{
	struct xrt *x = be->priv;
	if (!l || l->unit < 0 || l->unit >= x->n || !x->running)
		return -EINVAL;
	double f = l->flops > 0 ? l->flops : l->seconds * x->rate * FLOPS_PER_ELEMENT;
	if (!(f >= 0) || f > 1e18)
		return -EINVAL;
	struct job *j = calloc(1, sizeof(*j));
	if (!j)
		return -ENOMEM;
	j->cookie = l->cookie;
	j->elems = (uint64_t)ceil(f / FLOPS_PER_ELEMENT);
	if (j->elems == 0)
		j->elems = 1;
	struct dev *dv = &x->dev[l->unit];
	pthread_mutex_lock(&x->lock);
	if (dv->tail)
		dv->tail->next = j;
	else
		dv->head = j;
	dv->tail = j;
	x->inflight++;
	pthread_cond_signal(&dv->work);
	pthread_mutex_unlock(&x->lock);
	return 0;
}

/* Device memories are separate, but the kernel convention keeps a launch's data on
 * its device: a copy moves nothing and completes at once. */
static int xrt_copy(struct xpu_backend *be, const struct xpu_copy *c)
{
	struct xrt *x = be->priv;
	pthread_mutex_lock(&x->lock);
	x->inflight++;
	push_event(x, XPU_EV_COPY, c->cookie, 0);
	pthread_mutex_unlock(&x->lock);
	return 0;
}

static int xrt_wait(struct xpu_backend *be, double until, struct xpu_event *ev, int max)
{
	struct xrt *x = be->priv;
	int n = 0;
	pthread_mutex_lock(&x->lock);
	while (!x->evlen) {
		double t = mono_since(&x->t0);
		if (t >= until)
			break;
		if (isinf(until) && x->inflight == 0) {
			n = -EDEADLK;
			break;
		}
		double w = fmin(until, t + 3600) - t;
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += (time_t)w;
		ts.tv_nsec += (long)((w - floor(w)) * 1e9);
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&x->done, &x->lock, &ts);
	}
	while (n >= 0 && n < max && x->evlen) {
		ev[n++] = x->ev[x->evhead];
		x->evhead = (x->evhead + 1) % x->evcap;
		x->evlen--;
	}
	pthread_mutex_unlock(&x->lock);
	return n;
}

static int xrt_set_pstate(struct xpu_backend *be, int unit, int pstate)
{
	struct xrt *x = be->priv;
	if (!x || unit < 0 || unit >= x->n || pstate < 0)
		return -EINVAL;
	if (pstate == x->cur_pm)
		return 0;
	if (pstate >= (x->npm ? x->npm : 1))
		return -ENOTSUP;
	char msg[200];
	int rc = xpu_xrt_set_pmode(x->smi, NULL, xpu_xrt_pmodes[pstate], msg, sizeof(msg));
	if (rc == 0)
		x->cur_pm = pstate;
	return rc;
}

static int xrt_read_energy(struct xpu_backend *be, int unit, double *joules, int *modeled)
{
	struct xrt *x = be->priv;
	if (unit < 0 || unit >= x->n)
		return -EINVAL;
	double t = xrt_now(be);
	*joules = x->idle_w * t + (x->full_w - x->idle_w) * x->dev[unit].busy;
	*modeled = 1;
	return 0;
}

static const char *xrt_controls(struct xpu_backend *be)
{
	struct xrt *x = be->priv;
	if (!x)
		return NULL;
	if (x->npm)
		snprintf(x->controls, sizeof(x->controls), "pstate=xrt-smi (NPU power modes),");
	else
		snprintf(x->controls, sizeof(x->controls), "pstate=unsupported (%s),", x->pm_why);
	size_t k = strlen(x->controls);
	snprintf(x->controls + k, sizeof(x->controls) - k,
	         "idle=unsupported (no idle control),power_limit=unsupported (no power "
	         "limit),temperature=unsupported (not read)");
	return x->controls;
}

const struct xpu_backend_ops xpu_backend_xrt = {
    .head = {.version = XPU_BACKEND_VERSION,
             .name = "xrt",
             .description = "AMD XRT devices (Alveo, Ryzen AI NPU): an xclbin kernel per launch",
             .params = xrt_param_specs},
    .open = xrt_open,
    .run = xrt_run,
    .now = xrt_now,
    .launch = xrt_launch,
    .copy = xrt_copy,
    .wait = xrt_wait,
    .set_pstate = xrt_set_pstate,
    .read_energy = xrt_read_energy,
    .close = xrt_close,
    .controls = xrt_controls,
};

#endif /* HAVE_XRT */
