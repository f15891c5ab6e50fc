/* inner.c — the governor under another power policy (inner.h). */
#include <errno.h>
#include <string.h>

#include "inner.h"

extern const struct xpu_power_ops xpu_power_performance, xpu_power_powersave, xpu_power_ondemand,
    xpu_power_conservative, xpu_power_schedutil;

int pw_inner_init(struct xpu_power *outer, struct xpu_power *inner)
{
	static const struct xpu_power_ops *const all[] = {
	    &xpu_power_performance, &xpu_power_powersave, &xpu_power_ondemand,
	    &xpu_power_conservative, &xpu_power_schedutil};
	const char *name = xpu_param_str(outer->param, outer->nparams, "gov", "performance");
	const struct xpu_power_ops *g = NULL;
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]) && !g; i++)
		if (!strcmp(all[i]->head.name, name))
			g = all[i];
	if (!g)
		return -EINVAL; /* checked when the spec was read */
	*inner = (struct xpu_power){
	    .ops = g, .eng = outer->eng, .nparams = outer->nparams, .param = outer->param};
	return g->init ? g->init(inner) : 0;
}

void pw_inner_fini(struct xpu_power *inner)
{
	if (inner->ops && inner->ops->fini)
		inner->ops->fini(inner);
	inner->ops = NULL;
}

int pw_inner_select(struct xpu_power *inner, const struct xpu_unit *u, double util)
{
	return inner->ops && inner->ops->select ? inner->ops->select(inner, u, util) : u->pstate;
}
