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
 * does the work its task says. llm-prefill and llm-decode launches that carry bytes > 0
 * instead stream a weight of that many bytes from memory (rows of 1,024 doubles, read
 * from the buffer xpu_cpu_stream_open made, when there is one) times as many token vectors as the
 * flops ask (xpu_cpu_stream_shape; at least one: a launch whose flops are under bytes / 4 is one
 * matrix-vector product, bound by the memory). Checks *stop (may be NULL) between repetitions.
 * Returns 0, -ECANCELED when stopped, -ENOMEM when the class's buffers cannot be allocated. */
int xpu_cpu_kernel_run(struct cpu_kernels *k, int cls, double work, double bytes, const int *stop);

/* The weight buffer streamed launches read (one per process, shared by the workers):
 * bytes of it, filled at once, when no other open holds one (the first open's size
 * holds until the last close; 0: none, and launches' bytes are then ignored). -ENOMEM
 * when it cannot be allocated. */
int xpu_cpu_stream_open(size_t bytes);
void xpu_cpu_stream_close(void);

/* The streamed shape of an LLM launch of work flop and bytes: weight rows of 1,024
 * doubles (ceil(bytes / 8 KiB), at least 1) and tokens (work / (2 x rows x 1,024),
 * rounded, at least 1). Its flops are 2 x tokens x rows x 1,024. */
void xpu_cpu_stream_shape(double work, double bytes, double *rows, double *tokens);

/* Every class's kernel against a plain reference on its unit problem's inputs: 0, or -EIO
 * with msg naming the class and the element that differs (-ENOMEM when out of memory). */
int xpu_cpu_kernels_selftest(char *msg, size_t len);

#endif
