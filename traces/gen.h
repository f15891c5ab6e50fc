/* gen.h — seeded synthetic workload generators that write native CSV traces (xpuopt gen). */
#ifndef XPU_GEN_H
#define XPU_GEN_H

#include <stdint.h>
#include <stdio.h>

#include "xpu.h"

/* Generator kinds, NULL-terminated: poisson, bursty, layered, forkjoin, gauss, fft,
 * montage, llm, lublin (the last writes an SWF log rather than native CSV). */
extern const char *const xpu_gen_kinds[];

/* Write the workload of kind `kind` with parameters p[0..n) (unknown keys and bad
 * values refused) as a native CSV trace to out. The same kind, parameters and seed give
 * the same bytes. Returns 0, or -EINVAL with err. */
int xpu_gen_write(const char *kind, int n, const struct xpu_param *p, uint64_t seed, FILE *out,
                  struct xpu_err *err);

/* Print each kind with its parameters and defaults (for --help). */
void xpu_gen_describe(FILE *out);

#endif
