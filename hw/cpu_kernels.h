/* cpu_kernels.h — the live cpu backend's kernels, one per task class (hw/cpu.c). Each
 * class has a fixed unit problem of exactly known flop count, sized to the class's
 * character (cache-resident for the compute classes, streaming a matrix larger than a
 * core's caches for llm-decode); a launch runs as many repetitions as its flops ask. */
#ifndef XPU_CPU_KERNELS_H
#define XPU_CPU_KERNELS_H

#include <stdint.h>

#include "xpu.h"

/* One worker's buffers for every class, allocated on first use of the class. */
struct cpu_kernels;

struct cpu_kernels *xpu_cpu_kernels_new(void);
void xpu_cpu_kernels_free(struct cpu_kernels *k);

/* Flop of one repetition of cls's unit problem. */
double xpu_cpu_kernel_flops(int cls);

/* Bytes one repetition of cls reads and writes in memory (its buffers' sizes). */
double xpu_cpu_kernel_bytes(int cls);

/* What the class's unit problem is, in words, for listings and calibration comments. */
const char *xpu_cpu_kernel_name(int cls);

/* Do work flop of cls: whole repetitions of its unit problem, then the rest as one
 * smaller problem (fewer rows; for the FFT, smaller power-of-two transforms), so that a launch
 * does the work its task says. Checks *stop (may be NULL) between repetitions. Returns 0,
 * -ECANCELED when stopped, -ENOMEM when the class's buffers cannot be allocated. */
int xpu_cpu_kernel_run(struct cpu_kernels *k, int cls, double work, const int *stop);

/* Every class's kernel against a plain reference on its unit problem's inputs: 0, or -EIO
 * with msg naming the class and the element that differs (-ENOMEM when out of memory). */
int xpu_cpu_kernels_selftest(char *msg, size_t len);

#endif
