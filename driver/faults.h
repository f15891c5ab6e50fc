/* faults.h — fault injection: wrap a backend so that chosen launches fail. */
#ifndef XPU_FAULTS_H
#define XPU_FAULTS_H

#include "backend.h"

/* Replace be (whose ops are set, not yet opened) by a wrapper that fails launches as
 * spec says: "kind=npu" (every launch on units of that kind), "unit=3", "every=10"
 * (every tenth launch), comma-separated. Returns 0 or -EINVAL with err. */
int xpu_faults_wrap(struct xpu_backend *be, const char *spec, struct xpu_err *err);

/* Undo xpu_faults_wrap on a backend whose open failed (nothing to close). */
void xpu_faults_discard(struct xpu_backend *be);

#endif
