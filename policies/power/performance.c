/* performance.c — every unit at its fastest P-state, always (cpufreq "performance"). */
#include "xpu.h"

static int perf_select(struct xpu_power *p, const struct xpu_unit *u, double util)
{
	(void)p;
	(void)util;
	int best = 0;
	for (int i = 1; i < u->npstates; i++)
		if (u->pstates[i].speed > u->pstates[best].speed)
			best = i;
	return best;
}

const struct xpu_power_ops xpu_power_performance = {
    .head = {.version = XPU_POWER_VERSION,
             .name = "performance",
             .description = "fastest P-state on every unit"},
    .select = perf_select,
};
