/* inner.h — a P-state governor run inside another power policy: the `gov` parameter of
 * powercap, menu, step-wise and npu-mode (performance, powersave, ondemand, conservative
 * or schedutil; default performance). */
#ifndef XPU_POWER_INNER_H
#define XPU_POWER_INNER_H

#include "xpu.h"

/* The parameter's entry for a table's params list. */
#define INNER_GOV_PARAM(WHO)                                                                       \
	{                                                                                          \
		"gov", XPU_PARAM_WORD, 0, 0,                                                       \
		    "performance|powersave|ondemand|conservative|schedutil: " WHO                  \
		    " (default performance)"                                                       \
	}

/* Set up *inner as outer's `gov` governor, sharing outer's parameters. 0 or -errno. */
int pw_inner_init(struct xpu_power *outer, struct xpu_power *inner);
void pw_inner_fini(struct xpu_power *inner);
/* The inner governor's P-state for u (u's current one when it has no select). */
int pw_inner_select(struct xpu_power *inner, const struct xpu_unit *u, double util);

#endif
