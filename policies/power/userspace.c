/* userspace.c — a fixed P-state chosen by the user (cpufreq "userspace"): P-state
 * `pstate` (as numbered in the platform file; a unit with fewer takes its last) on the
 * units of `kind`, or on every unit when no kind is given; the others run at their
 * fastest. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "xpu.h"

struct us {
	int pstate, kind; /* kind -1: every unit */
};

static int us_init(struct xpu_power *p)
{
	struct us *s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	p->priv = s;
	s->kind = -1;
	for (int i = 0; i < p->nparams; i++) {
		if (!strcmp(p->param[i].key, "pstate"))
			s->pstate = atoi(p->param[i].value);
		else if (!strcmp(p->param[i].key, "kind") &&
		         (s->kind = xpu_kind_parse(p->param[i].value)) < 0)
			return -EINVAL; /* the run names the policy and parameter */
	}
	return 0;
}

static void us_fini(struct xpu_power *p)
{
	free(p->priv);
	p->priv = NULL;
}

static int us_select(struct xpu_power *p, const struct xpu_unit *u, double util)
{
	const struct us *s = p->priv;
	(void)util;
	if (s->kind >= 0 && u->kind != s->kind) {
		int best = 0;
		for (int i = 1; i < u->npstates; i++)
			if (u->pstates[i].speed > u->pstates[best].speed)
				best = i;
		return best;
	}
	return s->pstate < u->npstates ? s->pstate : u->npstates - 1;
}

static const struct xpu_param_spec us_params[] = {
    {"pstate", XPU_PARAM_INT, 0, 1024, "the P-state index, as in the platform file (default 0)"},
    {"kind", XPU_PARAM_KIND, 0, 0, "only units of this kind (cpu, gpu, npu, ...; default: all)"},
    {NULL, 0, 0, 0, NULL},
};

const struct xpu_power_ops xpu_power_userspace = {
    .head = {.version = XPU_POWER_VERSION,
             .name = "userspace",
             .description = "cpufreq userspace: a fixed P-state chosen by the user",
             .params = us_params},
    .init = us_init,
    .fini = us_fini,
    .select = us_select,
};
