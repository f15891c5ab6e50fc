/* opencl.c — the live OpenCL backend: one unit per OpenCL device found through the ICD
 * loader (pocl's CPU device on any machine, GPUs through their vendors' ICDs). Each
 * launch runs a real kernel sized from the task's flops; data are cl_mem buffers that
 * follow the engine's copies. Launches are enqueued without waiting, so a device never
 * idles between tasks; the engine finds them complete by polling their events in queue
 * order, and sleeps on one event callback per batch (not one per launch). */
#define CL_TARGET_OPENCL_VERSION 120
#include <CL/cl.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <sys/stat.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "backend.h"
#include "platform.h"
#include "xpu.h"

#define LABEL       "live:opencl"
#define MAX_DEVICES 64

/* The generic kernel: work-items each run a chain of fused multiply-adds (2 flop each),
 * GEN_MIN_ITEMS to GEN_ITEMS of them (a power of two: a small launch is a small kernel,
 * and the runtime sees few distinct sizes); the matrix kernel multiplies n x n
 * single-precision matrices (2 n^3 flop). A launch of F flop runs the class's kernel
 * sized to F. */
#define GEN_ITEMS     4096
#define GEN_MIN_ITEMS 64
#define GEMM_MIN      16
#define GEMM_MAX      1024

/* Modeled device power when no counter is readable: estimates, labelled modeled in the
 * result. A CPU device spends about a desktop part's TDP at full load (65 W) and a
 * quarter idle; other devices get a midrange discrete GPU's (70 W idle is too high: 15 W
 * idle, 150 W busy). Parameters idle_w and full_w override both. */
#define CPU_IDLE_W 16.0
#define CPU_FULL_W 65.0
#define DEV_IDLE_W 15.0
#define DEV_FULL_W 150.0

/* Kernels compiled once per context at open. */
static const char kernel_src[] =
    "__kernel void xpu_generic(__global float *buf, uint iters)\n"
    "{\n"
    "\tsize_t i = get_global_id(0);\n"
    "\tfloat a = buf[i];\n"
    "\tfor (uint k = 0; k < iters; k++)\n"
    "\t\ta = mad(a, 0.999999f, 0.000001f);\n"
    "\tbuf[i] = a;\n"
    "}\n"
    "__kernel void xpu_gemm(__global const float *A, __global const float *B,\n"
    "                       __global float *C, uint n)\n"
    "{\n"
    "\tsize_t i = get_global_id(0), j = get_global_id(1);\n"
    "\tfloat s = 0.0f;\n"
    "\tfor (uint k = 0; k < n; k++)\n"
    "\t\ts = mad(A[i * n + k], B[k * n + j], s);\n"
    "\tC[i * n + j] = s;\n"
    "}\n"
    "__kernel void xpu_stencil(__global const float *in, __global float *out, uint n)\n"
    "{\n"
    "\tsize_t i = get_global_id(0), j = get_global_id(1), k = i * n + j;\n"
    "\tif (i == 0 || j == 0 || i + 1 >= n || j + 1 >= n) {\n"
    "\t\tout[k] = in[k];\n"
    "\t\treturn;\n"
    "\t}\n"
    "\tout[k] = 0.2f * (in[k] + in[k - n] + in[k + n] + in[k - 1] + in[k + 1]);\n"
    "}\n"
    "__kernel void xpu_gemv(__global const float *A, __global const float *x,\n"
    "                       __global float *y, uint n)\n"
    "{\n"
    "\tsize_t i = get_global_id(0);\n"
    "\tfloat s = 0.0f;\n"
    "\tfor (uint k = 0; k < n; k++)\n"
    "\t\ts = mad(A[i * n + k], x[k], s);\n"
    "\ty[i] = s;\n"
    "}\n"
    /* one radix-2 FFT of n = 2^logn complex points per work-item, in place on its
     * slice: bit reversal, then log2 n stages of butterflies */
    "__kernel void xpu_fft(__global float2 *x, uint logn)\n"
    "{\n"
    "\tuint n = 1u << logn;\n"
    "\t__global float2 *v = x + get_global_id(0) * n;\n"
    "\tfor (uint i = 1, j = 0; i < n; i++) {\n"
    "\t\tuint bit = n >> 1;\n"
    "\t\tfor (; j & bit; bit >>= 1)\n"
    "\t\t\tj ^= bit;\n"
    "\t\tj ^= bit;\n"
    "\t\tif (i < j) {\n"
    "\t\t\tfloat2 t = v[i];\n"
    "\t\t\tv[i] = v[j];\n"
    "\t\t\tv[j] = t;\n"
    "\t\t}\n"
    "\t}\n"
    "\tfor (uint len = 2; len <= n; len <<= 1) {\n"
    "\t\tfloat ang = -2.0f * M_PI_F / (float)len;\n"
    "\t\tfor (uint i = 0; i < n; i += len)\n"
    "\t\t\tfor (uint k = 0; k < len / 2; k++) {\n"
    "\t\t\t\tfloat c, s = sincos(ang * (float)k, &c);\n"
    "\t\t\t\tfloat2 a = v[i + k], b = v[i + k + len / 2];\n"
    "\t\t\t\tfloat2 t = (float2)(b.x * c - b.y * s, b.x * s + b.y * c);\n"
    "\t\t\t\tv[i + k] = a + t;\n"
    "\t\t\t\tv[i + k + len / 2] = a - t;\n"
    "\t\t\t}\n"
    "\t}\n"
    "}\n"
    /* the 8 x 8 DCT-II of one block per work-item, in place (rows, then columns),
     * orthonormal: the block transform of image and video codecs */
    "__kernel void xpu_dct8(__global float *x)\n"
    "{\n"
    "\t__global float *b = x + get_global_id(0) * 64;\n"
    "\tfloat t[64], cs[64];\n"
    "\tfor (int u = 0; u < 8; u++)\n"
    "\t\tfor (int k = 0; k < 8; k++)\n"
    "\t\t\tcs[u * 8 + k] = (u ? 0.5f : 0.35355339f) *\n"
    "\t\t\t                 cos((float)((2 * k + 1) * u) * M_PI_F / 16.0f);\n"
    "\tfor (int r = 0; r < 8; r++)\n"
    "\t\tfor (int u = 0; u < 8; u++) {\n"
    "\t\t\tfloat s = 0.0f;\n"
    "\t\t\tfor (int k = 0; k < 8; k++)\n"
    "\t\t\t\ts = mad(cs[u * 8 + k], b[r * 8 + k], s);\n"
    "\t\t\tt[r * 8 + u] = s;\n"
    "\t\t}\n"
    "\tfor (int c = 0; c < 8; c++)\n"
    "\t\tfor (int u = 0; u < 8; u++) {\n"
    "\t\t\tfloat s = 0.0f;\n"
    "\t\t\tfor (int k = 0; k < 8; k++)\n"
    "\t\t\t\ts = mad(cs[u * 8 + k], t[k * 8 + c], s);\n"
    "\t\t\tb[u * 8 + c] = s;\n"
    "\t\t}\n"
    "}\n";

/* A launch or copy in flight, on the queue of device `unit`, until the engine takes
 * its completion. Engine-side only: no runtime thread sees it. */
struct ocl_node {
	struct xpu_event ev;
	int unit;
	int armed;       /* a completion callback is set on e (it wakes the engine) */
	cl_event e;      /* its event, released when the engine takes it */
	double launched; /* run time of its enqueue */
	struct ocl_node *next;
};

struct ocl_dev {
	cl_device_id id;
	cl_context ctx;
	cl_command_queue q;
	cl_program prog;
	cl_kernel generic, gemm, stencil, gemv, fft, dct;
	cl_mem gen_buf, a, b, c; /* the kernels' working buffers */
	double speed;            /* flop/s of the generic kernel, measured at open */
	/* The generic kernel's iteration count as last set by enqueue_work (0: unknown, as
	 * after the self-test). OpenCL keeps a kernel's arguments between enqueues, and
	 * some runtimes allocate on every clSetKernelArg: a run of same-size tasks sets it
	 * once. Its buffer argument is always gen_buf. */
	cl_uint gen_iters;
	double rate[6]; /* flop/s of each kernel family (enum family), measured */
	double busy_s;  /* device time of finished launches (engine) */
	/* Its commands in flight (launches and copies), in the order its in-order queue
	 * runs them: a command is complete only after those before it. Engine-side. */
	struct ocl_node *head, *tail;
	int pending;   /* commands in that list */
	int queued;    /* launches among them */
	int unflushed; /* launches enqueued since its queue's last clFlush */
	/* Its profiling clock against the run's: run time = (device ns - clk0) 1e-9 + off.
	 * A completion is seen after it ended, so each one seen gives an upper bound of
	 * off; the smallest is kept (the first comes from a marker waited on at start). */
	cl_ulong clk0;
	double off;
	int off_known;
	double last_end; /* recorded end of its latest launch taken (engine) */
	int kind;
	double mem;
	char name[64];
	int ctx_owner; /* it releases the context (its platform's first device) */
	int plat;      /* index of its platform: devices of one share a context */
};

/* A datum's buffer in one device's memory. */
struct ocl_buf {
	uint64_t key; /* datum << 8 | device + 1; 0 = empty */
	cl_mem m;
	size_t bytes;
};

struct ocl {
	int n;
	struct ocl_dev d[MAX_DEVICES];
	char cache[512];       /* where compiled kernels are kept, "" for nowhere */
	int slots;             /* launches a device takes at once (inflight): its unit's slots */
	double ahead_s;        /* ... beyond the second while predicted to last at most this */
	int cache_hits;        /* devices whose kernels came from the cache at open */
	double idle_w, full_w; /* < 0: by kind */
	uint64_t inflight;     /* commands in flight on every device (engine) */
	int idle_devs;         /* devices with no launch in flight (engine) */
	struct ocl_node *free_nodes; /* taken completions' nodes, for reuse (engine) */
	/* The engine sleeps on done; a completion callback, on a runtime thread, wakes it. */
	pthread_mutex_t lock;
	pthread_cond_t done;
	int waiting; /* the engine sleeps in ocl_wait or at the end of the run */
	int kicked;  /* a callback ran since the engine last polled */
	int armed;   /* callbacks set and not yet run (the run ends after they have) */
	int unarmed; /* a callback could not be set: the engine polls every millisecond */
	struct timespec t0;
	double t_end;
	int running;
	struct ocl_buf *bufs; /* open addressing on key */
	size_t nbufs, bcap;
	/* copy paths, measured at open: within a platform's context, and across (through
	 * host memory); latency in seconds, bandwidth in bytes/s */
	double lat_in, bw_in, lat_x, bw_x;
};

static double since_t0(const struct ocl *o)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)(ts.tv_sec - o->t0.tv_sec) + (ts.tv_nsec - o->t0.tv_nsec) * 1e-9;
}

static struct ocl *ocl_of(struct xpu_backend *be)
{
	return be->priv;
}

static int cl_errno(cl_int e)
{
	switch (e) {
	case CL_SUCCESS:
		return 0;
	case CL_OUT_OF_HOST_MEMORY:
	case CL_OUT_OF_RESOURCES:
	case CL_MEM_OBJECT_ALLOCATION_FAILURE:
		return -ENOMEM;
	case CL_DEVICE_NOT_FOUND:
	case CL_DEVICE_NOT_AVAILABLE:
		return -ENODEV;
	case CL_INVALID_BUFFER_SIZE:
		return -E2BIG;
	default:
		return -EIO;
	}
}

/* ------------------------------------------------------------------ completions */

/* The completion callback, on a runtime thread (often the device's own worker), set on
 * one command per device and batch (arm): it only wakes the engine, which then polls
 * every device's commands in queue order (reap). The engine may take the command and
 * release its event before this runs: the runtime calls an event's callbacks before it
 * destroys the event, and nothing here reads the command. */
static void CL_CALLBACK on_kick(cl_event e, cl_int status, void *arg)
{
	(void)e;
	(void)status;
	struct ocl *o = arg;
	pthread_mutex_lock(&o->lock);
	o->kicked = 1;
	o->armed--;
	if (o->waiting)
		pthread_cond_signal(&o->done);
	pthread_mutex_unlock(&o->lock);
}

static struct ocl_node *node_new(struct ocl *o)
{
	struct ocl_node *nd = o->free_nodes;
	if (nd)
		o->free_nodes = nd->next;
	else if (!(nd = malloc(sizeof(*nd))))
		return NULL;
	memset(nd, 0, sizeof(*nd));
	return nd;
}

static void node_put(struct ocl *o, struct ocl_node *nd)
{
	nd->next = o->free_nodes;
	o->free_nodes = nd;
}

/* nd, enqueued on its device's queue with event e, joins the device's commands in
 * flight; *before, when not NULL, is the launches it had in flight before. */
static void track(struct ocl *o, struct ocl_node *nd, cl_event e, int *before)
{
	struct ocl_dev *d = &o->d[nd->unit];
	nd->e = e;
	nd->next = NULL;
	if (d->tail)
		d->tail->next = nd;
	else
		d->head = nd;
	d->tail = nd;
	d->pending++;
	o->inflight++;
	if (before)
		*before = d->queued;
	if (nd->ev.type == XPU_EV_DONE && d->queued++ == 0)
		o->idle_devs--;
}

/* Device d's profiling clock against the run's, from a marker waited on (ocl_run). */
static void clock_sync(struct ocl *o, struct ocl_dev *d)
{
	cl_event m = NULL;
	cl_ulong end = 0;
	d->off_known = 0;
	d->clk0 = 0;
	if (clEnqueueMarkerWithWaitList(d->q, 0, NULL, &m) != CL_SUCCESS)
		return;
	if (clWaitForEvents(1, &m) == CL_SUCCESS &&
	    clGetEventProfilingInfo(m, CL_PROFILING_COMMAND_END, sizeof(end), &end, NULL) ==
	        CL_SUCCESS) {
		d->clk0 = end;
		d->off = since_t0(o);
		d->off_known = 1;
	}
	clReleaseEvent(m);
}

/* The engine's side of a completed command seen at run time `now`: its times from the
 * profiling events, placed on the run's clock (no later than now), after its enqueue
 * and after the launch before it (an in-order queue runs one at a time); its event
 * released. A command whose profiling cannot be read ends at now. */
static void finish_node(struct ocl *o, struct ocl_node *nd, double now)
{
	struct ocl_dev *d = &o->d[nd->unit];
	cl_ulong t0 = 0, t1 = 0;
	double busy = 0, end = now;
	if (nd->e && !nd->ev.status &&
	    clGetEventProfilingInfo(nd->e, CL_PROFILING_COMMAND_START, sizeof(t0), &t0, NULL) ==
	        CL_SUCCESS &&
	    clGetEventProfilingInfo(nd->e, CL_PROFILING_COMMAND_END, sizeof(t1), &t1, NULL) ==
	        CL_SUCCESS &&
	    t1 >= t0) {
		busy = (double)(t1 - t0) * 1e-9;
		if (!d->off_known) {
			d->clk0 = t1;
			d->off = now;
			d->off_known = 1;
		}
		double dev_end =
		    t1 >= d->clk0 ? (double)(t1 - d->clk0) * 1e-9 : -(double)(d->clk0 - t1) * 1e-9;
		if (now - dev_end < d->off)
			d->off = now - dev_end;
		end = fmin(now, dev_end + d->off);
	}
	if (nd->e)
		clReleaseEvent(nd->e);
	nd->e = NULL;
	d->pending--;
	o->inflight--;
	if (nd->ev.type != XPU_EV_DONE) {
		nd->ev.time = end;
		return;
	}
	if (--d->queued == 0)
		o->idle_devs++;
	d->busy_s += busy;
	double start = fmax(end - busy, fmax(nd->launched, d->last_end));
	nd->ev.start = start;
	nd->ev.time = fmax(end, start);
	nd->ev.flags = XPU_EV_TIMED;
	d->last_end = nd->ev.time;
}

/* Up to max completed commands, each device's in queue order, into ev; 0 when none is. */
static int reap(struct ocl *o, struct xpu_event *ev, int max)
{
	int n = 0;
	double now = -1;
	for (int i = 0; i < o->n && n < max; i++) {
		struct ocl_dev *d = &o->d[i];
		while (d->head && n < max) {
			struct ocl_node *nd = d->head;
			cl_int st = CL_QUEUED;
			if (clGetEventInfo(nd->e, CL_EVENT_COMMAND_EXECUTION_STATUS, sizeof(st),
			                   &st, NULL) != CL_SUCCESS)
				st = -1;
			if (st > CL_COMPLETE) /* queued, submitted or running */
				break;
			if (now < 0)
				now = since_t0(o);
			d->head = nd->next;
			if (!d->head)
				d->tail = NULL;
			nd->ev.status = st == CL_COMPLETE ? 0 : -EIO;
			finish_node(o, nd, now);
			ev[n++] = nd->ev;
			node_put(o, nd);
		}
	}
	return n;
}

/* Before the engine sleeps: a callback on the command of each busy device whose
 * completion should wake it. That is the device's first command when a device is idle
 * (the engine may have work for it) or when its queue is at most half of what it
 * takes; otherwise the one that leaves half (completion batching: the engine wakes to
 * refill while the device still has half its queue to run). A device with a callback
 * set at or before that command gets none. */
static void arm(struct ocl *o)
{
	for (int i = 0; i < o->n; i++) {
		struct ocl_dev *d = &o->d[i];
		int k = 0;
		if (o->idle_devs == 0 && d->pending > o->slots / 2)
			k = d->pending - o->slots / 2 - 1;
		struct ocl_node *nd = d->head;
		for (; nd && !nd->armed && k > 0; k--)
			nd = nd->next;
		if (!nd || nd->armed)
			continue;
		pthread_mutex_lock(&o->lock);
		o->armed++;
		pthread_mutex_unlock(&o->lock);
		if (clSetEventCallback(nd->e, CL_COMPLETE, on_kick, o) == CL_SUCCESS) {
			nd->armed = 1;
			continue;
		}
		pthread_mutex_lock(&o->lock);
		o->armed--;
		o->unarmed = 1;
		pthread_mutex_unlock(&o->lock);
	}
}

/* ------------------------------------------------------------------ kernels */

/* The kernel that runs each class: the matrix product (gemm, conv as im2col, attention,
 * llm-prefill), a 5-point stencil sweep (stencil), a matrix-vector product (llm-decode,
 * bound by reading the weights), radix-2 FFTs of 1,024 points (fft), 8 x 8 block DCTs
 * (video), and the multiply-add chain (generic). */
enum family { FAM_GENERIC, FAM_GEMM, FAM_STENCIL, FAM_GEMV, FAM_FFT, FAM_VIDEO, NFAM };

/* FFTs: n = 2^FFT_LOG points, 5 n log2 n flop each (the usual count), at most
 * FFT_BATCH per launch (they fill the a buffer); DCTs: 2 x 8 x 8 x 8 multiply-adds per
 * block, at most DCT_BATCH per launch. */
#define FFT_LOG   10
#define FFT_N     (1u << FFT_LOG)
#define FFT_FLOPS (5.0 * FFT_N * FFT_LOG)
#define FFT_BATCH ((GEMM_MAX * GEMM_MAX) / (2 * FFT_N))
#define DCT_FLOPS 2048.0
#define DCT_BATCH ((GEMM_MAX * GEMM_MAX) / 64)

static int family(int cls)
{
	switch (cls) {
	case XPU_CLASS_GEMM:
	case XPU_CLASS_LLM_PREFILL:
	case XPU_CLASS_ATTENTION:
	case XPU_CLASS_CONV:
		return FAM_GEMM;
	case XPU_CLASS_STENCIL:
		return FAM_STENCIL;
	case XPU_CLASS_LLM_DECODE:
		return FAM_GEMV;
	case XPU_CLASS_FFT:
		return FAM_FFT;
	case XPU_CLASS_VIDEO:
		return FAM_VIDEO;
	default:
		return FAM_GENERIC;
	}
}

/* Batched transforms (fft, video): items per launch and launches for `flops`. */
static void batches(int fam, double flops, cl_uint *items, double *reps)
{
	double each = fam == FAM_FFT ? FFT_FLOPS : DCT_FLOPS,
	       most = fam == FAM_FFT ? FFT_BATCH : DCT_BATCH;
	double n = fmin(fmax(round(flops / each), 1), most);
	*items = (cl_uint)n;
	*reps = fmax(1.0, round(flops / (each * n)));
}

/* n for an n x n problem of `per` flop per element from flops, within [GEMM_MIN,
 * GEMM_MAX], and the repetitions that make up the rest. */
static cl_uint square(double flops, double per, double *reps)
{
	double n = sqrt(flops / per);
	cl_uint nn = (cl_uint)fmin(fmax(floor(n), GEMM_MIN), GEMM_MAX);
	*reps = fmax(1.0, round(flops / (per * nn * (double)nn)));
	return nn;
}

/* The generic kernel's shape for `flops`: *items work-items (the smallest power of two
 * from GEN_MIN_ITEMS that holds flops / 2 one multiply-add each, at most GEN_ITEMS) and
 * the multiply-adds each runs (returned). */
static double gen_shape(double flops, size_t *items)
{
	size_t g = GEN_MIN_ITEMS;
	while (g < GEN_ITEMS && 2.0 * (double)g < flops)
		g *= 2;
	*items = g;
	return fmax(1.0, ceil(flops / (2.0 * (double)g)));
}

/* Enqueue work of `flops` on device d as the class's kernel; *last is the event of the
 * last enqueue. */
static int enqueue_work(struct ocl_dev *d, int cls, double flops, cl_event *last)
{
	cl_int err;
	int fam = family(cls);
	if (fam == FAM_FFT || fam == FAM_VIDEO) {
		cl_uint items, logn = FFT_LOG;
		double reps;
		batches(fam, flops, &items, &reps);
		if (reps > 1e6)
			return -E2BIG;
		cl_kernel k = fam == FAM_FFT ? d->fft : d->dct;
		err = clSetKernelArg(k, 0, sizeof(cl_mem), &d->a);
		if (fam == FAM_FFT)
			err |= clSetKernelArg(k, 1, sizeof(cl_uint), &logn);
		if (err != CL_SUCCESS)
			return -EIO;
		size_t g = items;
		for (double r = 0; r < reps; r++) {
			cl_event *ev = r + 1 >= reps ? last : NULL;
			err = clEnqueueNDRangeKernel(d->q, k, 1, NULL, &g, NULL, 0, NULL, ev);
			if (err != CL_SUCCESS)
				return cl_errno(err);
		}
		return 0;
	}
	if (fam == FAM_STENCIL || fam == FAM_GEMV) {
		/* stencil: 5 flop per point per sweep, sweeps alternating between a and c;
		 * gemv: 2 flop per weight, y (c) = A (a) x (b) */
		double reps;
		cl_uint nn = square(flops, fam == FAM_STENCIL ? 5.0 : 2.0, &reps);
		if (reps > 1e6)
			return -E2BIG;
		cl_kernel k = fam == FAM_STENCIL ? d->stencil : d->gemv;
		size_t g[2] = {nn, nn};
		for (double r = 0; r < reps; r++) {
			int odd = fam == FAM_STENCIL && ((long)r & 1);
			err = clSetKernelArg(k, 0, sizeof(cl_mem), odd ? &d->c : &d->a);
			if (fam == FAM_STENCIL) {
				err |= clSetKernelArg(k, 1, sizeof(cl_mem), odd ? &d->a : &d->c);
				err |= clSetKernelArg(k, 2, sizeof(cl_uint), &nn);
			} else {
				err |= clSetKernelArg(k, 1, sizeof(cl_mem), &d->b);
				err |= clSetKernelArg(k, 2, sizeof(cl_mem), &d->c);
				err |= clSetKernelArg(k, 3, sizeof(cl_uint), &nn);
			}
			if (err != CL_SUCCESS)
				return -EIO;
			cl_event *ev = r + 1 >= reps ? last : NULL;
			err = clEnqueueNDRangeKernel(d->q, k, fam == FAM_STENCIL ? 2 : 1, NULL, g,
			                             NULL, 0, NULL, ev);
			if (err != CL_SUCCESS)
				return cl_errno(err);
		}
		return 0;
	}
	if (fam == FAM_GEMM) {
		/* n x n x n multiplies, n from the flops, repeated for the rest */
		double n = cbrt(flops / 2.0);
		cl_uint nn = (cl_uint)fmin(fmax(floor(n), GEMM_MIN), GEMM_MAX);
		double each = 2.0 * nn * nn * (double)nn;
		double reps = fmax(1.0, round(flops / each));
		if (reps > 1e6)
			return -E2BIG;
		size_t g[2] = {nn, nn};
		err = clSetKernelArg(d->gemm, 0, sizeof(cl_mem), &d->a);
		err |= clSetKernelArg(d->gemm, 1, sizeof(cl_mem), &d->b);
		err |= clSetKernelArg(d->gemm, 2, sizeof(cl_mem), &d->c);
		err |= clSetKernelArg(d->gemm, 3, sizeof(cl_uint), &nn);
		if (err != CL_SUCCESS)
			return -EIO;
		for (double r = 0; r < reps; r++) {
			cl_event *ev = r + 1 >= reps ? last : NULL;
			err = clEnqueueNDRangeKernel(d->q, d->gemm, 2, NULL, g, NULL, 0, NULL, ev);
			if (err != CL_SUCCESS)
				return cl_errno(err);
		}
		return 0;
	}
	size_t g;
	double iters = gen_shape(flops, &g);
	if (iters > 4e9)
		return -E2BIG;
	cl_uint it = (cl_uint)iters;
	if (it != d->gen_iters) {
		d->gen_iters = 0;
		err = clSetKernelArg(d->generic, 0, sizeof(cl_mem), &d->gen_buf);
		err |= clSetKernelArg(d->generic, 1, sizeof(cl_uint), &it);
		if (err != CL_SUCCESS)
			return -EIO;
		d->gen_iters = it;
	}
	err = clEnqueueNDRangeKernel(d->q, d->generic, 1, NULL, &g, NULL, 0, NULL, last);
	return cl_errno(err);
}

/* The flops enqueue_work really runs for a request of `flops` (whole problems). */
static double work_done(int cls, double flops)
{
	double reps;
	switch (family(cls)) {
	case FAM_GEMM: {
		double n = fmin(fmax(floor(cbrt(flops / 2.0)), GEMM_MIN), GEMM_MAX);
		return 2.0 * n * n * n * fmax(1.0, round(flops / (2.0 * n * n * n)));
	}
	case FAM_STENCIL: {
		cl_uint n = square(flops, 5.0, &reps);
		return 5.0 * n * (double)n * reps;
	}
	case FAM_GEMV: {
		cl_uint n = square(flops, 2.0, &reps);
		return 2.0 * n * (double)n * reps;
	}
	case FAM_FFT:
	case FAM_VIDEO: {
		cl_uint items;
		batches(family(cls), flops, &items, &reps);
		return (family(cls) == FAM_FFT ? FFT_FLOPS : DCT_FLOPS) * items * reps;
	}
	default: {
		size_t g;
		double iters = gen_shape(flops, &g);
		return 2.0 * (double)g * iters;
	}
	}
}

static double mono(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* A kernel's rate on d (the class's kernel): a warm-up, then the median of three runs
 * sized to about 10 ms each. */
static double calibrate(struct ocl_dev *d, int cls)
{
	double flops = cls == XPU_CLASS_GENERIC ? 2.0 * GEN_ITEMS * 1000 : 2.0 * 64 * 64 * 64,
	       rate[3];
	for (int i = -1; i < 3; i++) {
		double t0 = mono();
		cl_event e;
		if (enqueue_work(d, cls, flops, &e))
			return 1e9;
		clWaitForEvents(1, &e);
		clReleaseEvent(e);
		double dt = mono() - t0;
		if (i < 0) { /* warm-up: size the timed runs to ~10 ms */
			flops = fmin(fmax(flops * 0.010 / fmax(dt, 1e-6), 2.0 * GEN_ITEMS), 1e12);
			continue;
		}
		rate[i] = work_done(cls, flops) / fmax(dt, 1e-9);
	}
	double a = rate[0], b = rate[1], c = rate[2];
	return fmax(fmin(a, b), fmin(fmax(a, b), c)); /* median */
}

/* ------------------------------------------------------------------ open */

/* ------------------------------------------------------------------ kernel cache */

/* Compiled kernels are kept on disk, one file per device and driver, so that a later
 * open skips the compiler: CACHE/KEY.bin, KEY a 64-bit FNV-1a hash of the kernel source,
 * the device's name and the OpenCL platform's and driver's versions (any change makes a
 * new key). Written under a temporary name and renamed; a file that does not load is
 * ignored and rewritten. */
static uint64_t fnv1a(uint64_t h, const char *s)
{
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
	return (h ^ 0xff) * 0x100000001b3ULL; /* a separator between fields */
}

static void cache_path(const struct ocl *o, const struct ocl_dev *d, char *buf, size_t n)
{
	char dev[256] = "", drv[256] = "", plat[256] = "";
	cl_platform_id pid = NULL;
	clGetDeviceInfo(d->id, CL_DEVICE_NAME, sizeof(dev) - 1, dev, NULL);
	clGetDeviceInfo(d->id, CL_DRIVER_VERSION, sizeof(drv) - 1, drv, NULL);
	clGetDeviceInfo(d->id, CL_DEVICE_PLATFORM, sizeof(pid), &pid, NULL);
	if (pid)
		clGetPlatformInfo(pid, CL_PLATFORM_VERSION, sizeof(plat) - 1, plat, NULL);
	uint64_t h = 0xcbf29ce484222325ULL;
	h = fnv1a(fnv1a(fnv1a(fnv1a(h, kernel_src), dev), drv), plat);
	snprintf(buf, n, "%s/%016llx.bin", o->cache, (unsigned long long)h);
}

/* The program from the cache: 0, or -1 when there is none that builds. */
static int cache_load(const struct ocl *o, struct ocl_dev *d)
{
	char path[640];
	if (!o->cache[0])
		return -1;
	cache_path(o, d, path, sizeof(path));
	FILE *f = fopen(path, "rb");
	if (!f)
		return -1;
	unsigned char *bin = NULL;
	long len = -1;
	if (fseek(f, 0, SEEK_END) == 0 && (len = ftell(f)) > 0 && len < (64L << 20) &&
	    fseek(f, 0, SEEK_SET) == 0 && (bin = malloc((size_t)len)) &&
	    fread(bin, 1, (size_t)len, f) != (size_t)len)
		len = -1;
	fclose(f);
	if (!bin || len <= 0) {
		free(bin);
		return -1;
	}
	size_t sz = (size_t)len;
	const unsigned char *b = bin;
	cl_int st, e;
	d->prog = clCreateProgramWithBinary(d->ctx, 1, &d->id, &sz, &b, &st, &e);
	free(bin);
	if (e == CL_SUCCESS && st == CL_SUCCESS)
		e = clBuildProgram(d->prog, 1, &d->id, "", NULL, NULL);
	if (e != CL_SUCCESS || st != CL_SUCCESS) {
		if (d->prog)
			clReleaseProgram(d->prog);
		d->prog = NULL;
		return -1;
	}
	return 0;
}

/* Keep d's built program in the cache (best effort: a cache that cannot be written
 * only costs the next open a compilation). */
static void cache_store(const struct ocl *o, const struct ocl_dev *d)
{
	char path[640], tmp[700];
	size_t sz = 0;
	if (!o->cache[0] ||
	    clGetProgramInfo(d->prog, CL_PROGRAM_BINARY_SIZES, sizeof(sz), &sz, NULL) !=
	        CL_SUCCESS ||
	    sz == 0)
		return;
	unsigned char *bin = malloc(sz);
	if (!bin)
		return;
	if (clGetProgramInfo(d->prog, CL_PROGRAM_BINARIES, sizeof(bin), &bin, NULL) == CL_SUCCESS) {
		/* the directory and its parents, as mkdir -p */
		char dir[512];
		snprintf(dir, sizeof(dir), "%s", o->cache);
		for (char *q = dir + 1; *q; q++)
			if (*q == '/') {
				*q = '\0';
				mkdir(dir, 0755);
				*q = '/';
			}
		mkdir(dir, 0755);
		cache_path(o, d, path, sizeof(path));
		snprintf(tmp, sizeof(tmp), "%s.tmp-%ld", path, (long)getpid());
		FILE *f = fopen(tmp, "wb");
		if (f) {
			int ok = fwrite(bin, 1, sz, f) == sz;
			ok &= fclose(f) == 0;
			if (!ok || rename(tmp, path))
				unlink(tmp);
		}
	}
	free(bin);
}

static int set_up_device(struct ocl *o, struct ocl_dev *d, struct xpu_err *err)
{
	cl_int e;
	d->q = clCreateCommandQueue(d->ctx, d->id, CL_QUEUE_PROFILING_ENABLE, &e);
	if (e != CL_SUCCESS)
		return xpu_errf(err, LABEL, 0, "device %s: clCreateCommandQueue failed (%d)",
		                d->name, e);
	const char *src = kernel_src;
	int cached = cache_load(o, d) == 0;
	o->cache_hits += cached;
	if (!cached) {
		d->prog = clCreateProgramWithSource(d->ctx, 1, &src, NULL, &e);
		if (e == CL_SUCCESS)
			e = clBuildProgram(d->prog, 1, &d->id, "", NULL, NULL);
		if (e == CL_SUCCESS)
			cache_store(o, d);
	}
	if (e != CL_SUCCESS) {
		char log[512] = "";
		if (d->prog)
			clGetProgramBuildInfo(d->prog, d->id, CL_PROGRAM_BUILD_LOG, sizeof(log) - 1,
			                      log, NULL);
		return xpu_errf(err, LABEL, 0, "device %s: building the kernels failed (%d): %s",
		                d->name, e, log);
	}
	d->generic = clCreateKernel(d->prog, "xpu_generic", &e);
	if (e == CL_SUCCESS)
		d->gemm = clCreateKernel(d->prog, "xpu_gemm", &e);
	if (e == CL_SUCCESS)
		d->stencil = clCreateKernel(d->prog, "xpu_stencil", &e);
	if (e == CL_SUCCESS)
		d->gemv = clCreateKernel(d->prog, "xpu_gemv", &e);
	if (e == CL_SUCCESS)
		d->fft = clCreateKernel(d->prog, "xpu_fft", &e);
	if (e == CL_SUCCESS)
		d->dct = clCreateKernel(d->prog, "xpu_dct8", &e);
	size_t m = (size_t)GEMM_MAX * GEMM_MAX * sizeof(float);
	if (e == CL_SUCCESS)
		d->gen_buf =
		    clCreateBuffer(d->ctx, CL_MEM_READ_WRITE, GEN_ITEMS * sizeof(float), NULL, &e);
	if (e == CL_SUCCESS)
		d->a = clCreateBuffer(d->ctx, CL_MEM_READ_WRITE, m, NULL, &e);
	if (e == CL_SUCCESS)
		d->b = clCreateBuffer(d->ctx, CL_MEM_READ_WRITE, m, NULL, &e);
	if (e == CL_SUCCESS)
		d->c = clCreateBuffer(d->ctx, CL_MEM_READ_WRITE, m, NULL, &e);
	if (e != CL_SUCCESS)
		return xpu_errf(err, LABEL, 0, "device %s: kernel set-up failed (%d)", d->name, e);
	/* defined inputs: zeros keep the chains and sums finite */
	float zero = 0;
	e = clEnqueueFillBuffer(d->q, d->gen_buf, &zero, sizeof(zero), 0, GEN_ITEMS * sizeof(float),
	                        0, NULL, NULL);
	e |= clEnqueueFillBuffer(d->q, d->a, &zero, sizeof(zero), 0, m, 0, NULL, NULL);
	e |= clEnqueueFillBuffer(d->q, d->b, &zero, sizeof(zero), 0, m, 0, NULL, NULL);
	if (e != CL_SUCCESS || clFinish(d->q) != CL_SUCCESS)
		return xpu_errf(err, LABEL, 0, "device %s: clearing its buffers failed", d->name);
	static const int any[NFAM] = {XPU_CLASS_GENERIC,    XPU_CLASS_GEMM, XPU_CLASS_STENCIL,
	                              XPU_CLASS_LLM_DECODE, XPU_CLASS_FFT,  XPU_CLASS_VIDEO};
	for (int f = 0; f < NFAM; f++)
		d->rate[f] = calibrate(d, any[f]);
	d->speed = d->rate[FAM_GENERIC];
	return 0;
}

static void ocl_close(struct xpu_backend *be);

static int param_num(struct xpu_backend *be, const char *key, double def, double *out,
                     struct xpu_err *err)
{
	const char *s = xpu_param_str(be->param, be->nparams, key, NULL);
	double v = xpu_param_num(be->param, be->nparams, key, NAN);
	if (!s) {
		*out = def;
		return 0;
	}
	if (isnan(v) || v < 0 || v > 1e6)
		return xpu_errf(err, LABEL, 0,
		                "parameter '%s': expected a number in [0, 1e+06], got \"%s\"", key,
		                s);
	*out = v;
	return 0;
}

/* Seconds to copy `bytes` from device s's buffer to device t's the way ocl_copy does. */
static double time_copy(struct ocl *o, int s, int t, size_t bytes)
{
	cl_int e;
	cl_mem a = clCreateBuffer(o->d[s].ctx, CL_MEM_READ_WRITE, bytes, NULL, &e);
	cl_mem b = e == CL_SUCCESS ? clCreateBuffer(o->d[t].ctx, CL_MEM_READ_WRITE, bytes, NULL, &e)
	                           : NULL;
	void *host = malloc(bytes);
	double best = INFINITY;
	for (int r = 0; r < 4 && e == CL_SUCCESS && host; r++) { /* first: warm-up */
		double t0 = mono();
		if (o->d[s].ctx == o->d[t].ctx) {
			e = clEnqueueCopyBuffer(o->d[t].q, a, b, 0, 0, bytes, 0, NULL, NULL);
			e |= clFinish(o->d[t].q);
		} else {
			e = clEnqueueReadBuffer(o->d[s].q, a, CL_TRUE, 0, bytes, host, 0, NULL,
			                        NULL);
			e |= clEnqueueWriteBuffer(o->d[t].q, b, CL_TRUE, 0, bytes, host, 0, NULL,
			                          NULL);
		}
		double dt = mono() - t0;
		if (r > 0 && dt < best)
			best = dt;
	}
	free(host);
	if (a)
		clReleaseMemObject(a);
	if (b)
		clReleaseMemObject(b);
	return e == CL_SUCCESS ? best : INFINITY;
}

/* The copy paths: latency from a 4-byte copy, bandwidth from a 16 MiB one. */
static void measure_paths(struct ocl *o)
{
	o->lat_in = o->lat_x = 1e-5;
	o->bw_in = o->bw_x = 1e9;
	for (int s = 0; s < o->n; s++)
		for (int t = 0; t < o->n; t++) {
			if (s == t)
				continue;
			int in = o->d[s].plat == o->d[t].plat;
			double *lat = in ? &o->lat_in : &o->lat_x, *bw = in ? &o->bw_in : &o->bw_x;
			double l = time_copy(o, s, t, 4), big = time_copy(o, s, t, 16u << 20);
			if (isfinite(l) && isfinite(big) && big > l) {
				*lat = l;
				*bw = (16u << 20) / (big - l);
			}
			if (in)
				s = t = o->n; /* one pair of each kind is enough */
		}
	for (int s = 0; s < o->n; s++) /* the cross-platform pair, when there is one */
		for (int t = 0; t < o->n; t++)
			if (o->d[s].plat != o->d[t].plat) {
				double l = time_copy(o, s, t, 4),
				       big = time_copy(o, s, t, 16u << 20);
				if (isfinite(l) && isfinite(big) && big > l) {
					o->lat_x = l;
					o->bw_x = (16u << 20) / (big - l);
				}
				return;
			}
}

static int route(void *ctx, int s, int t, double *latency, double *bandwidth)
{
	struct ocl *o = ctx;
	if (s < 0 || t < 0 || s >= o->n || t >= o->n)
		return -1;
	int in = o->d[s].plat == o->d[t].plat;
	*latency = in ? o->lat_in : o->lat_x;
	*bandwidth = in ? o->bw_in : o->bw_x;
	return 0;
}

static int build_platform(struct ocl *o, struct xpu_platform *pf)
{
	memset(pf, 0, sizeof(*pf));
	pf->path = strdup(LABEL);
	pf->units = calloc((size_t)o->n, sizeof(*pf->units));
	pf->pools = calloc((size_t)o->n, sizeof(*pf->pools));
	if (!pf->path || !pf->units || !pf->pools)
		goto nomem;
	for (int i = 0; i < o->n; i++) {
		struct ocl_dev *d = &o->d[i];
		struct xpu_unit *u = &pf->units[i];
		pf->nunits = pf->npools = i + 1;
		pf->pools[i].name = strdup(d->name);
		pf->pools[i].capacity = d->mem;
		u->name = strdup(d->name);
		u->pstates = malloc(sizeof(*u->pstates));
		if (!pf->pools[i].name || !u->name || !u->pstates)
			goto nomem;
		u->index = i;
		u->kind = d->kind;
		u->loaded_bitstream = -1;
		for (int c = 0; c < XPU_CLASS_COUNT; c++)
			u->bitstream[c] = -1;
		/* one launch at a time on the device's in-order queue, and up to inflight
		 * of them queued there (the engine's launch-ahead), beyond the first while
		 * they are predicted short */
		u->cores = 1;
		if (o->slots > 1) {
			u->slots = o->slots;
			u->ahead_s = o->ahead_s;
		}
		int cpu = d->kind == XPU_KIND_CPU;
		double idle = o->idle_w >= 0 ? o->idle_w : cpu ? CPU_IDLE_W : DEV_IDLE_W;
		double full = o->full_w >= 0 ? o->full_w : cpu ? CPU_FULL_W : DEV_FULL_W;
		u->npstates = 1;
		u->pstates[0] = (struct xpu_pstate){
		    .speed = d->speed, .idle_w = idle, .epsilon_w = idle, .full_w = full};
		u->mem_pool = i;
		/* each class at the measured rate of the kernel that runs it */
		u->has_class_props = 1;
		for (int k = 0; k < XPU_CLASS_COUNT; k++)
			u->cls[k] = (struct xpu_class_cap){
			    .supported = 1, .peak = d->rate[family(k)], .efficiency = 1.0};
	}
	if (xpu_platform_finish_units(pf, route, o))
		goto nomem;
	return 0;
nomem:
	xpu_platform_free(pf);
	return -ENOMEM;
}

static int ocl_open(struct xpu_backend *be, const char *path, struct xpu_platform *pf,
                    struct xpu_err *err)
{
	be->priv = NULL;
	if (path)
		return xpu_errf(
		    err, path, 0,
		    "live mode describes this machine itself; --platform applies to simulation");
	for (int i = 0; i < be->nparams; i++)
		if (strcmp(be->param[i].key, "idle_w") && strcmp(be->param[i].key, "full_w") &&
		    strcmp(be->param[i].key, "cache") && strcmp(be->param[i].key, "inflight") &&
		    strcmp(be->param[i].key, "ahead_s"))
			return xpu_errf(err, LABEL, 0,
			                "unknown parameter '%s': expected idle_w, full_w, cache, "
			                "inflight or ahead_s",
			                be->param[i].key);
	struct ocl *o = calloc(1, sizeof(*o));
	if (!o)
		return -ENOMEM;
	be->priv = o;
	pthread_mutex_init(&o->lock, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&o->done, &ca);
	pthread_condattr_destroy(&ca);
	int rc = param_num(be, "idle_w", -1, &o->idle_w, err);
	if (!rc)
		rc = param_num(be, "full_w", -1, &o->full_w, err);
	double inflight = 64;
	if (!rc)
		rc = param_num(be, "inflight", 64, &inflight, err);
	if (!rc)
		rc = param_num(be, "ahead_s", 5e-4, &o->ahead_s, err);
	if (!rc && !(o->ahead_s >= 0)) {
		rc = xpu_errf(err, LABEL, 0, "ahead_s: expected a non-negative number of seconds");
		goto fail;
	}
	if (rc)
		goto fail;
	if (!(inflight >= 1 && inflight <= 1024 && inflight == floor(inflight))) {
		rc = xpu_errf(err, LABEL, 0, "inflight: expected a whole number from 1 to 1024");
		goto fail;
	}
	o->slots = (int)inflight;
	{
		const char *c = xpu_param_str(be->param, be->nparams, "cache", NULL);
		const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
		if (c && !strcmp(c, "off"))
			o->cache[0] = '\0';
		else if (c && *c)
			snprintf(o->cache, sizeof(o->cache), "%s", c);
		else if (xdg && *xdg)
			snprintf(o->cache, sizeof(o->cache), "%s/xpuopt/opencl", xdg);
		else if (home && *home)
			snprintf(o->cache, sizeof(o->cache), "%s/.cache/xpuopt/opencl", home);
	}

	cl_platform_id plats[16];
	cl_uint np = 0;
	if (clGetPlatformIDs(16, plats, &np) != CL_SUCCESS || np == 0) {
		rc = -ENODEV;
		xpu_errf(err, LABEL, 0,
		         "no OpenCL platform found (is an ICD such as pocl installed?)");
		goto fail;
	}
	for (cl_uint p = 0; p < np && p < 16; p++) {
		cl_device_id ids[MAX_DEVICES];
		cl_uint nd = 0;
		if (clGetDeviceIDs(plats[p], CL_DEVICE_TYPE_ALL, MAX_DEVICES, ids, &nd) !=
		    CL_SUCCESS)
			continue;
		if (nd > (cl_uint)(MAX_DEVICES - o->n))
			nd = (cl_uint)(MAX_DEVICES - o->n);
		if (nd == 0)
			continue;
		/* the devices of one platform share a context: copies between them are one
		 * clEnqueueCopyBuffer */
		cl_int ce;
		cl_context ctx = clCreateContext(NULL, nd, ids, NULL, NULL, &ce);
		if (ce != CL_SUCCESS) {
			rc = xpu_errf(err, LABEL, 0,
			              "OpenCL platform %u: clCreateContext failed (%d)", p, ce);
			goto fail;
		}
		for (cl_uint k = 0; k < nd; k++) {
			struct ocl_dev *d = &o->d[o->n];
			d->id = ids[k];
			cl_device_type type = 0;
			cl_ulong mem = 0;
			char dname[128] = "";
			clGetDeviceInfo(ids[k], CL_DEVICE_TYPE, sizeof(type), &type, NULL);
			clGetDeviceInfo(ids[k], CL_DEVICE_GLOBAL_MEM_SIZE, sizeof(mem), &mem, NULL);
			clGetDeviceInfo(ids[k], CL_DEVICE_NAME, sizeof(dname) - 1, dname, NULL);
			d->kind = type & CL_DEVICE_TYPE_GPU           ? XPU_KIND_GPU
			          : type & CL_DEVICE_TYPE_ACCELERATOR ? XPU_KIND_NPU
			                                              : XPU_KIND_CPU;
			d->mem = (double)mem;
			snprintf(d->name, sizeof(d->name), "cl%d-%s", o->n, xpu_kind_name(d->kind));
			d->ctx = ctx;
			d->ctx_owner = k == 0;
			d->plat = (int)p;
			o->n++;
			rc = set_up_device(o, d, err);
			if (rc)
				goto fail;
		}
	}
	if (o->n == 0) {
		rc = -ENODEV;
		xpu_errf(err, LABEL, 0, "no OpenCL device found");
		goto fail;
	}
	measure_paths(o);
	if ((rc = build_platform(o, pf)))
		goto fail;
	return 0;
fail:
	ocl_close(be);
	return rc;
}

/* ------------------------------------------------------------------ run */

static int ocl_run(struct xpu_backend *be, void (*body)(void *), void *arg)
{
	struct ocl *o = ocl_of(be);
	if (!o || !body)
		return -EINVAL;
	if (o->running)
		return -EBUSY;
	clock_gettime(CLOCK_MONOTONIC, &o->t0);
	for (int i = 0; i < o->n; i++) {
		struct ocl_dev *d = &o->d[i];
		d->busy_s = d->last_end = 0;
		d->queued = d->pending = d->unflushed = 0;
		clock_sync(o, d);
	}
	o->idle_devs = o->n;
	o->inflight = 0;
	o->running = 1;
	body(arg);
	/* what is still enqueued finishes before the run's buffers go; what the engine did
	 * not take is accounted and released, and the run ends once every callback set has
	 * run (they use o) */
	for (int i = 0; i < o->n; i++)
		clFinish(o->d[i].q);
	double now = since_t0(o);
	for (int i = 0; i < o->n; i++)
		while (o->d[i].head) {
			struct ocl_node *nd = o->d[i].head;
			o->d[i].head = nd->next;
			cl_int st = CL_COMPLETE;
			clGetEventInfo(nd->e, CL_EVENT_COMMAND_EXECUTION_STATUS, sizeof(st), &st,
			               NULL);
			nd->ev.status = st == CL_COMPLETE ? 0 : -EIO;
			finish_node(o, nd, now);
			node_put(o, nd);
		}
	for (int i = 0; i < o->n; i++)
		o->d[i].tail = NULL;
	pthread_mutex_lock(&o->lock);
	while (o->armed > 0) {
		o->waiting = 1;
		pthread_cond_wait(&o->done, &o->lock);
		o->waiting = 0;
	}
	pthread_mutex_unlock(&o->lock);
	o->t_end = since_t0(o);
	o->running = 0;
	return 0;
}

static double ocl_now(struct xpu_backend *be)
{
	struct ocl *o = ocl_of(be);
	return o->running ? since_t0(o) : o->t_end;
}

static int ocl_launch(struct xpu_backend *be, const struct xpu_launch *l)
{
	struct ocl *o = ocl_of(be);
	if (!l || l->unit < 0 || l->unit >= o->n || !o->running)
		return -EINVAL;
	struct ocl_dev *d = &o->d[l->unit];
	double flops = l->flops;
	if (!(flops >= 0) || isinf(flops))
		return -EINVAL;
	if (flops <= 0) {
		if (!(l->seconds >= 0) || isinf(l->seconds))
			return -EINVAL;
		flops = l->seconds * d->speed; /* a duration's worth of the generic kernel */
	}
	struct ocl_node *nd = node_new(o);
	if (!nd)
		return -ENOMEM;
	nd->ev = (struct xpu_event){.type = XPU_EV_DONE, .cookie = l->cookie};
	nd->unit = l->unit;
	nd->launched = since_t0(o);
	cl_event last = NULL;
	int rc = enqueue_work(d, l->cls, flops, &last);
	if (!rc && !last)
		rc = -EIO;
	if (rc) {
		if (last)
			clReleaseEvent(last);
		node_put(o, nd);
		return rc;
	}
	int before = 0;
	track(o, nd, last, &before);
	/* A device with little queued gets the launch at once; behind a queue, the flush
	 * (a system call or a wake-up in most drivers) waits for the engine's next wait,
	 * which flushes every device before it sleeps, so that nothing enqueued is left
	 * unsubmitted. */
	if (before < 2) {
		clFlush(d->q);
		d->unflushed = 0;
	} else {
		d->unflushed = 1;
	}
	return 0;
}

/* ------------------------------------------------------------------ data */

static struct ocl_buf *buf_slot(struct ocl *o, uint64_t key)
{
	size_t i = (size_t)((key * 0x9e3779b97f4a7c15ULL) >> 17) & (o->bcap - 1);
	while (o->bufs[i].key && o->bufs[i].key != key)
		i = (i + 1) & (o->bcap - 1);
	return &o->bufs[i];
}

/* Datum di's buffer on device u, created (zeroed: its content is the datum's bytes, not
 * values the kernels use) when it has none. */
static cl_mem datum_buf(struct ocl *o, uint32_t di, int u, size_t bytes, int *rc)
{
	if ((o->nbufs + 1) * 2 > o->bcap) {
		size_t cap = o->bcap ? 2 * o->bcap : 64;
		struct ocl_buf *t = calloc(cap, sizeof(*t)), *old = o->bufs;
		size_t ocap = o->bcap;
		if (!t) {
			*rc = -ENOMEM;
			return NULL;
		}
		o->bufs = t;
		o->bcap = cap;
		for (size_t i = 0; i < ocap; i++)
			if (old[i].key)
				*buf_slot(o, old[i].key) = old[i];
		free(old);
	}
	uint64_t key = ((uint64_t)di << 8 | (uint64_t)(u + 1));
	struct ocl_buf *b = buf_slot(o, key);
	if (b->key)
		return b->m;
	cl_int e;
	cl_mem m = clCreateBuffer(o->d[u].ctx, CL_MEM_READ_WRITE, bytes ? bytes : 1, NULL, &e);
	if (e != CL_SUCCESS) {
		*rc = cl_errno(e);
		return NULL;
	}
	unsigned char zero = 0;
	clEnqueueFillBuffer(o->d[u].q, m, &zero, 1, 0, bytes ? bytes : 1, 0, NULL, NULL);
	*b = (struct ocl_buf){key, m, bytes};
	o->nbufs++;
	return m;
}

/* Remove datum di's buffer on device u, if any: released (OpenCL deletes it once the
 * commands already queued on it have finished), its slot emptied by shifting back the
 * entries of its probe run so that every lookup still finds its key. */
static void drop_buf(struct ocl *o, uint32_t di, int u)
{
	if (!o->bcap)
		return;
	uint64_t key = ((uint64_t)di << 8 | (uint64_t)(u + 1));
	struct ocl_buf *b = buf_slot(o, key);
	if (!b->key)
		return;
	clReleaseMemObject(b->m);
	size_t mask = o->bcap - 1, i = (size_t)(b - o->bufs), j = i;
	o->bufs[i] = (struct ocl_buf){0};
	o->nbufs--;
	for (;;) {
		j = (j + 1) & mask;
		if (!o->bufs[j].key)
			break;
		size_t home = (size_t)((o->bufs[j].key * 0x9e3779b97f4a7c15ULL) >> 17) & mask;
		/* the entry at j may move to the hole at i when its home is not in (i, j] */
		if ((j > i && (home <= i || home > j)) || (j < i && home <= i && home > j)) {
			o->bufs[i] = o->bufs[j];
			o->bufs[j] = (struct ocl_buf){0};
			i = j;
		}
	}
}

/* A datum the engine places in a device's memory (pool p is device p) becomes a cl_mem
 * buffer of its size there, the one copies to and from that memory use; data_free
 * releases it. */
static int ocl_data_alloc(struct xpu_backend *be, uint32_t datum, int pool, double bytes)
{
	struct ocl *o = ocl_of(be);
	if (!o || pool < 0 || pool >= o->n || !(bytes >= 0) || bytes > 1e15)
		return -EINVAL;
	uint64_t key = ((uint64_t)datum << 8 | (uint64_t)(pool + 1));
	if (o->bcap) {
		struct ocl_buf *b = buf_slot(o, key);
		if (b->key && b->bytes != (size_t)bytes) /* placed again at another size */
			drop_buf(o, datum, pool);
	}
	int rc = 0;
	return datum_buf(o, datum, pool, (size_t)bytes, &rc) ? 0 : rc;
}

static void ocl_data_free(struct xpu_backend *be, uint32_t datum, int pool)
{
	struct ocl *o = ocl_of(be);
	if (o && pool >= 0 && pool < o->n)
		drop_buf(o, datum, pool);
}

/* Buffers held now, for tests: datum buffers on every device. */
size_t xpu_opencl_buffers(const struct xpu_backend *be)
{
	const struct ocl *o = be ? be->priv : NULL;
	return o ? o->nbufs : 0;
}

/* A copy between two devices' memories: one clEnqueueCopyBuffer within a context;
 * across contexts, read into host memory on the source's queue, then write on the
 * destination's once the read has completed. */
static int ocl_copy(struct xpu_backend *be, const struct xpu_copy *cp)
{
	struct ocl *o = ocl_of(be);
	if (!cp || cp->src_unit < 0 || cp->src_unit >= o->n || cp->dst_unit < 0 ||
	    cp->dst_unit >= o->n || !(cp->bytes >= 0) || cp->bytes > 1e15 || !o->running)
		return -EINVAL;
	size_t bytes = (size_t)cp->bytes;
	int s = cp->src_unit, t = cp->dst_unit, rc = 0;
	cl_mem src = datum_buf(o, cp->datum, s, bytes, &rc);
	cl_mem dst = src ? datum_buf(o, cp->datum, t, bytes, &rc) : NULL;
	if (!dst)
		return rc ? rc : -EIO;
	struct ocl_node *nd = node_new(o);
	if (!nd)
		return -ENOMEM;
	nd->ev = (struct xpu_event){.type = XPU_EV_COPY, .cookie = cp->cookie};
	nd->unit = t; /* on the destination's queue */
	nd->launched = since_t0(o);
	cl_event done = NULL;
	cl_int e;
	if (o->d[s].ctx == o->d[t].ctx) {
		e = clEnqueueCopyBuffer(o->d[t].q, src, dst, 0, 0, bytes ? bytes : 1, 0, NULL,
		                        &done);
	} else {
		/* blocking read into host memory, then an asynchronous write: the source
		 * device's copy engine is not the destination's */
		void *host = malloc(bytes ? bytes : 1);
		if (!host) {
			node_put(o, nd);
			return -ENOMEM;
		}
		e = clEnqueueReadBuffer(o->d[s].q, src, CL_TRUE, 0, bytes ? bytes : 1, host, 0,
		                        NULL, NULL);
		if (e == CL_SUCCESS)
			e = clEnqueueWriteBuffer(o->d[t].q, dst, CL_TRUE, 0, bytes ? bytes : 1,
			                         host, 0, NULL, &done);
		free(host);
	}
	if (e != CL_SUCCESS) {
		node_put(o, nd);
		return cl_errno(e);
	}
	track(o, nd, done, NULL);
	clFlush(o->d[t].q);
	return 0;
}

/* ------------------------------------------------------------------ wait, energy */

static void to_abs(const struct ocl *o, double t, struct timespec *ts)
{
	double s = floor(t);
	long ns = (long)((t - s) * 1e9);
	ts->tv_sec = o->t0.tv_sec + (time_t)s;
	ts->tv_nsec = o->t0.tv_nsec + ns;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

static int ocl_wait(struct xpu_backend *be, double until, struct xpu_event *ev, int max)
{
	struct ocl *o = ocl_of(be);
	if (!ev || max <= 0 || isnan(until) || !o->running)
		return -EINVAL;
	for (int i = 0; i < o->n; i++)
		if (o->d[i].unflushed) {
			clFlush(o->d[i].q);
			o->d[i].unflushed = 0;
		}
	for (;;) {
		/* kicked is cleared before the poll: a callback that runs from here on keeps
		 * the engine from sleeping past its completion */
		pthread_mutex_lock(&o->lock);
		o->kicked = 0;
		pthread_mutex_unlock(&o->lock);
		int n = reap(o, ev, max);
		if (n)
			return n;
		double t = since_t0(o);
		if (t >= until)
			return 0;
		double sleep_s = 3600.0;
		if (o->inflight == 0) {
			if (isinf(until))
				return -EDEADLK;
		} else {
			arm(o);
			if (o->unarmed)
				sleep_s = 1e-3;
		}
		struct timespec ts;
		to_abs(o, fmin(until, t + sleep_s), &ts);
		pthread_mutex_lock(&o->lock);
		o->waiting = 1;
		while (!o->kicked && pthread_cond_timedwait(&o->done, &o->lock, &ts) == 0)
			;
		o->waiting = 0;
		pthread_mutex_unlock(&o->lock);
	}
}

static int ocl_set_pstate(struct xpu_backend *be, int unit, int pstate)
{
	struct ocl *o = ocl_of(be);
	return unit < 0 || unit >= o->n || pstate != 0 ? -EINVAL : 0;
}

/* Modeled: idle power all along, plus the dynamic part over the device time its
 * launches took (OpenCL profiling events). */
static int ocl_read_energy(struct xpu_backend *be, int unit, double *joules, int *modeled)
{
	struct ocl *o = ocl_of(be);
	if (!o || unit < 0 || unit >= o->n || !joules || !be->pf)
		return -EINVAL;
	const struct xpu_pstate *p = &be->pf->units[unit].pstates[0];
	double busy = o->d[unit].busy_s; /* the engine's, as this call is */
	*joules = p->idle_w * ocl_now(be) + (p->full_w - p->idle_w) * busy;
	if (modeled)
		*modeled = 1;
	return 0;
}

static int ocl_read_link_energy(struct xpu_backend *be, double *joules)
{
	(void)be;
	if (!joules)
		return -EINVAL;
	*joules = 0;
	return 0;
}

static void ocl_close(struct xpu_backend *be)
{
	struct ocl *o = ocl_of(be);
	if (!o)
		return;
	for (size_t i = 0; i < o->bcap; i++)
		if (o->bufs[i].key)
			clReleaseMemObject(o->bufs[i].m);
	free(o->bufs);
	for (int i = o->n - 1; i >= 0; i--) {
		struct ocl_dev *d = &o->d[i];
		if (d->q)
			clFinish(d->q);
		cl_mem *ms[] = {&d->gen_buf, &d->a, &d->b, &d->c};
		for (size_t k = 0; k < 4; k++)
			if (*ms[k])
				clReleaseMemObject(*ms[k]);
		if (d->generic)
			clReleaseKernel(d->generic);
		cl_kernel *ks[] = {&d->gemm, &d->stencil, &d->gemv, &d->fft, &d->dct};
		for (size_t k = 0; k < 5; k++)
			if (*ks[k])
				clReleaseKernel(*ks[k]);
		if (d->prog)
			clReleaseProgram(d->prog);
		if (d->q)
			clReleaseCommandQueue(d->q);
		if (d->ctx && d->ctx_owner)
			clReleaseContext(d->ctx);
	}
	while (o->free_nodes) {
		struct ocl_node *nd = o->free_nodes;
		o->free_nodes = nd->next;
		free(nd);
	}
	pthread_cond_destroy(&o->done);
	pthread_mutex_destroy(&o->lock);
	free(o);
	be->priv = NULL;
}

/* Check the kernels against host references on small inputs: the matrix product of two
 * n x n matrices, the matrix-vector product, a stencil sweep and the generic kernel's
 * chain. 0, or -EIO with err naming the
 * kernel and the first wrong element; -ENODEV without a device. For tests. */
/* fft: two 1,024-point transforms of small integers against the direct DFT (double);
 * video: three 8 x 8 blocks against the DCT-II by its definition. */
static int check_fft_dct(struct ocl_dev *d, struct xpu_err *err)
{
	static float x[2 * 2 * FFT_N], y[2 * 2 * FFT_N];
	for (unsigned i = 0; i < 2 * 2 * FFT_N; i++)
		x[i] = (float)((i * 7 + 3) % 17) - 8.0f;
	cl_uint logn = FFT_LOG;
	size_t g = 2;
	cl_int e = clEnqueueWriteBuffer(d->q, d->a, CL_TRUE, 0, sizeof(x), x, 0, NULL, NULL);
	e |= clSetKernelArg(d->fft, 0, sizeof(cl_mem), &d->a);
	e |= clSetKernelArg(d->fft, 1, sizeof(cl_uint), &logn);
	e |= clEnqueueNDRangeKernel(d->q, d->fft, 1, NULL, &g, NULL, 0, NULL, NULL);
	e |= clEnqueueReadBuffer(d->q, d->a, CL_TRUE, 0, sizeof(y), y, 0, NULL, NULL);
	if (e != CL_SUCCESS)
		return xpu_errf(err, LABEL, 0, "%s: fft did not run", d->name);
	for (unsigned t = 0; t < 2; t++) {
		const float *in = x + 2 * FFT_N * t, *out = y + 2 * FFT_N * t;
		for (unsigned k = 0; k < FFT_N; k += 37) { /* a sample of the bins */
			double re = 0, im = 0, scale = 0;
			for (unsigned j = 0; j < FFT_N; j++) {
				double a = -2 * M_PI * (double)((k * j) % FFT_N) / FFT_N;
				re += in[2 * j] * cos(a) - in[2 * j + 1] * sin(a);
				im += in[2 * j] * sin(a) + in[2 * j + 1] * cos(a);
				scale += fabs(in[2 * j]) + fabs(in[2 * j + 1]);
			}
			/* single precision through log2 n stages: within 1e-5 of the inputs' sum */
			if (fabs(out[2 * k] - re) > 1e-5 * scale ||
			    fabs(out[2 * k + 1] - im) > 1e-5 * scale)
				return xpu_errf(
				    err, LABEL, 0,
				    "%s: fft bin %u of transform %u = (%g, %g), expected (%g, %g)",
				    d->name, k, t, out[2 * k], out[2 * k + 1], re, im);
		}
	}
	static float b[3 * 64], o[3 * 64];
	for (int i = 0; i < 3 * 64; i++)
		b[i] = (float)((i * 5 + 1) % 23) - 11.0f;
	g = 3;
	e = clEnqueueWriteBuffer(d->q, d->a, CL_TRUE, 0, sizeof(b), b, 0, NULL, NULL);
	e |= clSetKernelArg(d->dct, 0, sizeof(cl_mem), &d->a);
	e |= clEnqueueNDRangeKernel(d->q, d->dct, 1, NULL, &g, NULL, 0, NULL, NULL);
	e |= clEnqueueReadBuffer(d->q, d->a, CL_TRUE, 0, sizeof(o), o, 0, NULL, NULL);
	if (e != CL_SUCCESS)
		return xpu_errf(err, LABEL, 0, "%s: video (dct) did not run", d->name);
	for (int blk = 0; blk < 3; blk++)
		for (int u = 0; u < 8; u++)
			for (int v = 0; v < 8; v++) {
				double s = 0;
				for (int i = 0; i < 8; i++)
					for (int j = 0; j < 8; j++)
						s += b[blk * 64 + i * 8 + j] *
						     cos((2 * i + 1) * u * M_PI / 16) *
						     cos((2 * j + 1) * v * M_PI / 16);
				s *= (u ? 0.5 : M_SQRT1_2 * 0.5) * (v ? 0.5 : M_SQRT1_2 * 0.5);
				if (fabs(o[blk * 64 + u * 8 + v] - s) > 1e-3)
					return xpu_errf(err, LABEL, 0,
					                "%s: video block %d coefficient [%d][%d] = "
					                "%g, expected %g",
					                d->name, blk, u, v, o[blk * 64 + u * 8 + v],
					                s);
			}
	return 0;
}

int xpu_opencl_selftest(struct xpu_err *err)
{
	struct xpu_backend be = {.ops = &xpu_backend_opencl};
	struct xpu_platform pf;
	int rc = ocl_open(&be, NULL, &pf, err);
	if (rc)
		return rc;
	xpu_platform_free(&pf);
	struct ocl *o = ocl_of(&be);
	for (int u = 0; u < o->n && !rc; u++) {
		struct ocl_dev *d = &o->d[u];
		enum { N = 37 };
		static float A[N * N], B[N * N], C[N * N];
		for (int i = 0; i < N * N; i++) {
			A[i] = (float)((i * 7) % 13) - 6.0f;
			B[i] = (float)((i * 5) % 11) - 5.0f;
		}
		cl_uint n = N;
		cl_int e =
		    clEnqueueWriteBuffer(d->q, d->a, CL_TRUE, 0, sizeof(A), A, 0, NULL, NULL);
		e |= clEnqueueWriteBuffer(d->q, d->b, CL_TRUE, 0, sizeof(B), B, 0, NULL, NULL);
		e |= clSetKernelArg(d->gemm, 0, sizeof(cl_mem), &d->a);
		e |= clSetKernelArg(d->gemm, 1, sizeof(cl_mem), &d->b);
		e |= clSetKernelArg(d->gemm, 2, sizeof(cl_mem), &d->c);
		e |= clSetKernelArg(d->gemm, 3, sizeof(cl_uint), &n);
		size_t g[2] = {N, N};
		e |= clEnqueueNDRangeKernel(d->q, d->gemm, 2, NULL, g, NULL, 0, NULL, NULL);
		e |= clEnqueueReadBuffer(d->q, d->c, CL_TRUE, 0, sizeof(C), C, 0, NULL, NULL);
		if (e != CL_SUCCESS) {
			rc = xpu_errf(err, LABEL, 0, "%s: gemm did not run", d->name);
			break;
		}
		for (int i = 0; i < N && !rc; i++)
			for (int j = 0; j < N && !rc; j++) {
				float s = 0; /* small integers: exact in single precision */
				for (int k = 0; k < N; k++)
					s += A[i * N + k] * B[k * N + j];
				if (C[i * N + j] != s)
					rc = xpu_errf(err, LABEL, 0,
					              "%s: gemm C[%d][%d] = %g, expected %g",
					              d->name, i, j, C[i * N + j], s);
			}
		/* gemv: y = A x on the same A (A's first N entries of B as x) */
		static float y[N];
		e = clSetKernelArg(d->gemv, 0, sizeof(cl_mem), &d->a);
		e |= clSetKernelArg(d->gemv, 1, sizeof(cl_mem), &d->b);
		e |= clSetKernelArg(d->gemv, 2, sizeof(cl_mem), &d->c);
		e |= clSetKernelArg(d->gemv, 3, sizeof(cl_uint), &n);
		size_t gn = N;
		e |= clEnqueueNDRangeKernel(d->q, d->gemv, 1, NULL, &gn, NULL, 0, NULL, NULL);
		e |= clEnqueueReadBuffer(d->q, d->c, CL_TRUE, 0, sizeof(y), y, 0, NULL, NULL);
		if (!rc && e != CL_SUCCESS)
			rc = xpu_errf(err, LABEL, 0, "%s: gemv did not run", d->name);
		for (int i = 0; i < N && !rc; i++) {
			float s = 0;
			for (int k = 0; k < N; k++)
				s += A[i * N + k] * B[k];
			if (y[i] != s)
				rc = xpu_errf(err, LABEL, 0, "%s: gemv y[%d] = %g, expected %g",
				              d->name, i, y[i], s);
		}
		/* stencil: one 5-point sweep of A's first N x N as a grid, its border kept */
		e = clSetKernelArg(d->stencil, 0, sizeof(cl_mem), &d->a);
		e |= clSetKernelArg(d->stencil, 1, sizeof(cl_mem), &d->c);
		e |= clSetKernelArg(d->stencil, 2, sizeof(cl_uint), &n);
		e |= clEnqueueNDRangeKernel(d->q, d->stencil, 2, NULL, g, NULL, 0, NULL, NULL);
		e |= clEnqueueReadBuffer(d->q, d->c, CL_TRUE, 0, sizeof(C), C, 0, NULL, NULL);
		if (!rc && e != CL_SUCCESS)
			rc = xpu_errf(err, LABEL, 0, "%s: stencil did not run", d->name);
		for (int i = 0; i < N && !rc; i++)
			for (int j = 0; j < N && !rc; j++) {
				int k = i * N + j;
				float want =
				    (i == 0 || j == 0 || i + 1 == N || j + 1 == N)
				        ? A[k]
				        : 0.2f * (A[k] + A[k - N] + A[k + N] + A[k - 1] + A[k + 1]);
				if (fabsf(C[k] - want) > 1e-5f * (1 + fabsf(want)))
					rc = xpu_errf(err, LABEL, 0,
					              "%s: stencil at [%d][%d] = %g, expected %g",
					              d->name, i, j, C[k], want);
			}
		/* the generic chain from 0: a <- a * 0.999999 + 0.000001, 100 times */
		float zero = 0, out[GEN_ITEMS];
		cl_uint it = 100;
		e = clEnqueueFillBuffer(d->q, d->gen_buf, &zero, sizeof(zero), 0, sizeof(out), 0,
		                        NULL, NULL);
		e |= clSetKernelArg(d->generic, 0, sizeof(cl_mem), &d->gen_buf);
		e |= clSetKernelArg(d->generic, 1, sizeof(cl_uint), &it);
		size_t gg = GEN_ITEMS;
		e |= clEnqueueNDRangeKernel(d->q, d->generic, 1, NULL, &gg, NULL, 0, NULL, NULL);
		d->gen_iters = 0; /* its arguments are the self-test's now */
		e |= clEnqueueReadBuffer(d->q, d->gen_buf, CL_TRUE, 0, sizeof(out), out, 0, NULL,
		                         NULL);
		double want = 0;
		for (int k = 0; k < 100; k++)
			want = want * 0.999999 + 0.000001;
		if (!rc && (e != CL_SUCCESS || fabs(out[GEN_ITEMS - 1] - want) > 1e-9))
			rc = xpu_errf(err, LABEL, 0, "%s: generic gave %.9g, expected %.9g",
			              d->name, out[GEN_ITEMS - 1], want);
		if (!rc)
			rc = check_fft_dct(d, err);
	}
	ocl_close(&be);
	return rc;
}

/* OpenCL has no clock, power or idle control, nor a temperature query. */
static const char *ocl_controls(struct xpu_backend *be)
{
	(void)be;
	return "pstate=unsupported (OpenCL has no clock control),idle=unsupported (the driver's),"
	       "power_limit=unsupported (OpenCL has none),temperature=unsupported (OpenCL has "
	       "none)";
}

static const struct xpu_param_spec ocl_param_specs[] = {
    {"idle_w", XPU_PARAM_NUMBER, 0, 1e6,
     "modeled watts of an idle device (default 16 for a CPU device, 15 otherwise)"},
    {"full_w", XPU_PARAM_NUMBER, 0, 1e6,
     "modeled watts of a busy device (default 65 for a CPU device, 150 otherwise)"},
    {"inflight", XPU_PARAM_INT, 1, 1024,
     "launches a device takes at once, queued in order so that it never idles between "
     "them (default 64): the unit's slots"},
    {"ahead_s", XPU_PARAM_NUMBER, 0, 1e6,
     "launches beyond the second are queued while the work queued is predicted to last "
     "at most this many seconds (default 5e-4)"},
    {"cache", XPU_PARAM_TEXT, 0, 0,
     "directory of compiled kernels, or off (default $XDG_CACHE_HOME/xpuopt/opencl, else "
     "~/.cache/xpuopt/opencl)"},
    {NULL, 0, 0, 0, NULL},
};

const struct xpu_backend_ops xpu_backend_opencl = {
    .head = {.version = XPU_BACKEND_VERSION,
             .name = "opencl",
             .description = "every OpenCL device (ICD loader): real kernels, cl_mem data",
             .params = ocl_param_specs},
    .open = ocl_open,
    .run = ocl_run,
    .now = ocl_now,
    .launch = ocl_launch,
    .copy = ocl_copy,
    .wait = ocl_wait,
    .set_pstate = ocl_set_pstate,
    .read_energy = ocl_read_energy,
    .read_link_energy = ocl_read_link_energy,
    .close = ocl_close,
    .controls = ocl_controls,
    .data_alloc = ocl_data_alloc,
    .data_free = ocl_data_free,
};
