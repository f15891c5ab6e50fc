/* npumode.c — named power modes (xpu.modes): every unit that defines `mode` runs at the
 * P-state that mode names, as XRT's `xrt-smi configure --pmode` sets an NPU's
 * powersaver, balanced, performance or turbo mode for the whole run; the other units
 * follow the governor `gov`. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xpu.h"

extern const struct xpu_power_ops xpu_power_performance, xpu_power_powersave, xpu_power_ondemand,
    xpu_power_conservative, xpu_power_schedutil;

struct nm {
	struct xpu_power inner;
	char mode[16];
};

static const struct xpu_power_ops *governor(const char *name)
{
	static const struct xpu_power_ops *const all[] = {
	    &xpu_power_performance, &xpu_power_powersave, &xpu_power_ondemand,
	    &xpu_power_conservative, &xpu_power_schedutil};
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		if (!strcmp(all[i]->head.name, name))
			return all[i];
	return NULL;
}

static int nm_init(struct xpu_power *p)
{
	struct nm *m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	p->priv = m;
	const struct xpu_power_ops *g =
	    governor(xpu_param_str(p->param, p->nparams, "gov", "performance"));
	if (!g)
		return -EINVAL; /* checked when the spec was read */
	snprintf(m->mode, sizeof(m->mode), "%s",
	         xpu_param_str(p->param, p->nparams, "mode", "balanced"));
	m->inner =
	    (struct xpu_power){.ops = g, .eng = p->eng, .nparams = p->nparams, .param = p->param};
	return g->init ? g->init(&m->inner) : 0;
}

static void nm_fini(struct xpu_power *p)
{
	struct nm *m = p->priv;
	if (!m)
		return;
	if (m->inner.ops && m->inner.ops->fini)
		m->inner.ops->fini(&m->inner);
	free(m);
	p->priv = NULL;
}

static int nm_select(struct xpu_power *p, const struct xpu_unit *u, double util)
{
	struct nm *m = p->priv;
	for (int k = 0; k < u->nmodes; k++)
		if (!strcmp(u->mode_name[k], m->mode))
			return u->mode_pstate[k];
	return m->inner.ops->select ? m->inner.ops->select(&m->inner, u, util) : u->pstate;
}

static const struct xpu_param_spec nm_params[] = {
    {"mode", XPU_PARAM_WORD, 0, 0,
     "powersaver|balanced|performance|turbo: the mode of the units that define it "
     "(xpu.modes; default balanced)"},
    {"gov", XPU_PARAM_WORD, 0, 0,
     "performance|powersave|ondemand|conservative|schedutil: the governor of the other "
     "units (default performance)"},
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
