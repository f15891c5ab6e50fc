/* npumode.c — named power modes (xpu.modes): every unit that defines `mode` runs at the
 * P-state that mode names, as XRT's `xrt-smi configure --pmode` sets an NPU's
 * powersaver, balanced, performance or turbo mode for the whole run; the other units
 * follow the governor `gov`. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "inner.h"

extern const struct xpu_power_ops xpu_power_performance, xpu_power_powersave, xpu_power_ondemand,
    xpu_power_conservative, xpu_power_schedutil;

struct nm {
	struct xpu_power inner;
	char mode[16];
};

static int nm_init(struct xpu_power *p)
{
	struct nm *m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	p->priv = m;
	snprintf(m->mode, sizeof(m->mode), "%s",
	         xpu_param_str(p->param, p->nparams, "mode", "balanced"));
	return pw_inner_init(p, &m->inner);
}

static void nm_fini(struct xpu_power *p)
{
	struct nm *m = p->priv;
	if (!m)
		return;
	pw_inner_fini(&m->inner);
	free(m);
	p->priv = NULL;
}

static int nm_select(struct xpu_power *p, const struct xpu_unit *u, double util)
{
	struct nm *m = p->priv;
	for (int k = 0; k < u->nmodes; k++)
		if (!strcmp(u->mode_name[k], m->mode))
			return u->mode_pstate[k];
	return pw_inner_select(&m->inner, u, util);
}

static const struct xpu_param_spec nm_params[] = {
    {"mode", XPU_PARAM_WORD, 0, 0,
     "powersaver|balanced|performance|turbo: the mode of the units that define it "
     "(xpu.modes; default balanced)"},
    INNER_GOV_PARAM("the governor of the other units"),
    {NULL, 0, 0, 0, NULL},
};

const struct xpu_power_ops xpu_power_npu_mode = {
    .head = {.version = XPU_POWER_VERSION,
             .name = "npu-mode",
             .description = "a named power mode (xpu.modes: XRT's powersaver, balanced, "
                            "performance, turbo) for the units that define it",
             .params = nm_params},
    .init = nm_init,
    .fini = nm_fini,
    .select = nm_select,
    .period = -1, /* the governor of the other units may be periodic */
};
