/* opencl_cost.c — `make bench`: the cost of one trivial kernel through raw OpenCL,
 * enqueued synchronously (enqueue + clFinish each) and pipelined (all enqueued, one
 * clFinish), on the first device the ICD loader finds (pocl's CPU device in CI), and
 * as a runtime must (windowed): on a profiling queue, each kernel with its event, at
 * most WINDOW in flight, the oldest waited on, its status and profiled start and end
 * read and its event released, the queue flushed at half the window. The
 * xpuopt side (its opencl backend running the same number of one-flop tasks) is timed
 * by bench/opencl.sh around this program, which prints microseconds per kernel. */
#define CL_TARGET_OPENCL_VERSION 120
#include <CL/cl.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double mono(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

#define WINDOW 64

static const char src[] = "__kernel void k(__global float *b) { b[get_global_id(0)] += 1.0f; }\n";

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 2000;
	cl_platform_id p;
	cl_device_id d;
	cl_uint np = 0;
	if (clGetPlatformIDs(1, &p, &np) != CL_SUCCESS || !np ||
	    clGetDeviceIDs(p, CL_DEVICE_TYPE_ALL, 1, &d, NULL) != CL_SUCCESS) {
		printf("opencl_cost: no OpenCL device, skipped\n");
		return 0;
	}
	cl_int e;
	cl_context ctx = clCreateContext(NULL, 1, &d, NULL, NULL, &e);
	cl_command_queue q = clCreateCommandQueue(ctx, d, 0, &e);
	const char *s = src;
	cl_program prog = clCreateProgramWithSource(ctx, 1, &s, NULL, &e);
	clBuildProgram(prog, 1, &d, "", NULL, NULL);
	cl_kernel k = clCreateKernel(prog, "k", &e);
	cl_mem b = clCreateBuffer(ctx, CL_MEM_READ_WRITE, 64 * sizeof(float), NULL, &e);
	clSetKernelArg(k, 0, sizeof(b), &b);
	size_t g = 64;
	for (int i = 0; i < 100; i++) /* warm-up */
		clEnqueueNDRangeKernel(q, k, 1, NULL, &g, NULL, 0, NULL, NULL);
	clFinish(q);
	double t0 = mono();
	for (int i = 0; i < n; i++) {
		clEnqueueNDRangeKernel(q, k, 1, NULL, &g, NULL, 0, NULL, NULL);
		clFinish(q);
	}
	double sync = (mono() - t0) / n;
	t0 = mono();
	for (int i = 0; i < n; i++)
		clEnqueueNDRangeKernel(q, k, 1, NULL, &g, NULL, 0, NULL, NULL);
	clFinish(q);
	double piped = (mono() - t0) / n;
	double windowed = -1;
	cl_command_queue qp = clCreateCommandQueue(ctx, d, CL_QUEUE_PROFILING_ENABLE, &e);
	if (e == CL_SUCCESS) {
		cl_event win[WINDOW];
		int head = 0, count = 0;
		t0 = mono();
		for (int i = 0; i < n; i++) {
			if (count == WINDOW) {
				cl_event ev = win[head];
				cl_int st;
				cl_ulong a, z;
				clWaitForEvents(1, &ev);
				clGetEventInfo(ev, CL_EVENT_COMMAND_EXECUTION_STATUS, sizeof(st),
				               &st, NULL);
				clGetEventProfilingInfo(ev, CL_PROFILING_COMMAND_START, sizeof(a),
				                        &a, NULL);
				clGetEventProfilingInfo(ev, CL_PROFILING_COMMAND_END, sizeof(z), &z,
				                        NULL);
				clReleaseEvent(ev);
				head = (head + 1) % WINDOW;
				count--;
			}
			clEnqueueNDRangeKernel(qp, k, 1, NULL, &g, NULL, 0, NULL,
			                       &win[(head + count) % WINDOW]);
			if (++count == WINDOW / 2)
				clFlush(qp);
		}
		clFinish(qp);
		windowed = (mono() - t0) / n;
		for (; count > 0; count--, head = (head + 1) % WINDOW)
			clReleaseEvent(win[head]);
		clReleaseCommandQueue(qp);
	}
	printf("raw_sync_us %.2f\nraw_pipelined_us %.2f\n", sync * 1e6, piped * 1e6);
	if (windowed > 0)
		printf("raw_windowed_us %.2f\n", windowed * 1e6);
	clReleaseMemObject(b);
	clReleaseKernel(k);
	clReleaseProgram(prog);
	clReleaseCommandQueue(q);
	clReleaseContext(ctx);
	return 0;
}
