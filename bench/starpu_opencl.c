/* starpu_opencl.c — the StarPU anchor of bench/opencl.sh: N trivial OpenCL kernels (the
 * same one-line kernel as bench/opencl_cost, 64 work-items) through StarPU's OpenCL
 * driver with asynchronous launches (STARPU_OPENCL_ASYNC: the codelet only enqueues,
 * StarPU watches the queue for completion). All submitted, then waited for; prints the
 * microseconds per kernel from the first submission to the last completion. The caller
 * sets STARPU_NCPU=0 and STARPU_NOPENCL=1 so that the OpenCL worker alone runs them.
 * Built by bench/opencl.sh when pkg-config finds starpu-1.3 (Debian: libstarpu-dev).
 * Usage: starpu_opencl N */
#define CL_TARGET_OPENCL_VERSION 120
#include <starpu.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static const char src[] = "__kernel void k(__global float *b) { b[get_global_id(0)] += 1.0f; }\n";

static struct starpu_opencl_program prog;
static cl_kernel kern; /* created once, on the first launch (one OpenCL worker) */
static cl_mem buf;
static int failed;

static void launch(void *buffers[], void *arg)
{
	(void)buffers;
	(void)arg;
	int dev = starpu_worker_get_devid(starpu_worker_get_id());
	cl_command_queue q;
	starpu_opencl_get_current_queue(&q);
	if (!kern) {
		cl_command_queue kq;
		cl_context ctx;
		cl_int e;
		starpu_opencl_get_context(dev, &ctx);
		buf = clCreateBuffer(ctx, CL_MEM_READ_WRITE, 64 * sizeof(float), NULL, &e);
		if (e != CL_SUCCESS || starpu_opencl_load_kernel(&kern, &kq, &prog, "k", dev) ||
		    clSetKernelArg(kern, 0, sizeof(buf), &buf) != CL_SUCCESS) {
			failed = 1;
			return;
		}
	}
	size_t g = 64;
	if (clEnqueueNDRangeKernel(q, kern, 1, NULL, &g, NULL, 0, NULL, NULL) != CL_SUCCESS)
		failed = 1;
}

static struct starpu_codelet cl = {
    .opencl_funcs = {launch},
    .opencl_flags = {STARPU_OPENCL_ASYNC},
    .nbuffers = 0,
    .name = "trivial",
};

static double mono(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

/* Submit n detached tasks of the codelet; 1 when one is refused. */
static int submit(long n)
{
	for (long i = 0; i < n; i++) {
		struct starpu_task *t = starpu_task_create();
		t->cl = &cl;
		t->detach = 1;
		if (starpu_task_submit(t) != 0) {
			fprintf(stderr, "starpu_opencl: submit failed\n");
			return 1;
		}
	}
	return 0;
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 0;
	if (n < 1) {
		fprintf(stderr, "usage: starpu_opencl N\n");
		return 2;
	}
	if (starpu_init(NULL) != 0) {
		fprintf(stderr, "starpu_opencl: starpu_init failed\n");
		return 1;
	}
	if (starpu_opencl_worker_get_count() < 1) {
		printf("skipped (StarPU finds no OpenCL device)\n");
		starpu_shutdown();
		return 0;
	}
	if (starpu_opencl_load_opencl_from_string(src, &prog, NULL) != 0) {
		fprintf(stderr, "starpu_opencl: the kernel does not build\n");
		return 1;
	}
	/* warm-up: the kernel is created and the queue runs once before timing */
	if (submit(100))
		return 1;
	starpu_task_wait_for_all();
	double t0 = mono();
	if (submit(n))
		return 1;
	starpu_task_wait_for_all();
	double el = mono() - t0;
	if (failed) {
		fprintf(stderr, "starpu_opencl: a launch failed\n");
		return 1;
	}
	printf("%.4f\n", 1e6 * el / (double)n);
	if (kern)
		clReleaseKernel(kern);
	if (buf)
		clReleaseMemObject(buf);
	starpu_opencl_unload_opencl(&prog);
	starpu_shutdown();
	return 0;
}
