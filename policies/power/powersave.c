/* powersave.c — every unit at its slowest P-state, always (cpufreq "powersave"). */
#include "xpu.h"

static int save_select(struct xpu_power *p, const struct xpu_unit *u, double util)
{
	(void)p;
	(void)util;
	int best = 0;
	for (int i = 1; i < u->npstates; i++)
		if (u->pstates[i].speed < u->pstates[best].speed)
			best = i;
	return best;
}

const struct xpu_power_ops xpu_power_powersave = {
    .head = {.version = XPU_POWER_VERSION,
             .name = "powersave",
             .description = "slowest P-state on every unit"},
    .select = save_select,
};
