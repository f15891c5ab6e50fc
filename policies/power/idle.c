/* idle.c — idle-state governors (power table version 2), after Linux cpuidle.
 *
 *   race-to-idle  every unit at its fastest P-state, and into its deepest idle state as
 *                 soon as it has nothing to run: finish fast, then sleep deep;
 *   menu          the deepest idle state whose target residency fits the predicted
 *                 idle span (cpuidle's menu governor; with no timer to consult, the
 *                 prediction is the mean of the unit's last idle spans, halved weight
 *                 per older span, and "long" before any), and at most `latency` seconds
 *                 of exit latency; P-states from the governor `gov`.
 *
 * A state only pays when the unit stays in it beyond its target residency; a wake-up
 * costs its exit latency (added to the next task) and its wake energy (engine/xpu.h). */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "inner.h"

extern const struct xpu_power_ops xpu_power_performance, xpu_power_powersave, xpu_power_ondemand,
    xpu_power_conservative, xpu_power_schedutil;

static int fastest(const struct xpu_unit *u)
{
	int best = 0;
	for (int i = 1; i < u->npstates; i++)
		if (u->pstates[i].speed > u->pstates[best].speed)
			best = i;
	return best;
}

static int rti_select(struct xpu_power *p, const struct xpu_unit *u, double util)
{
	(void)p;
	(void)util;
	return fastest(u);
}

static int rti_idle(struct xpu_power *p, const struct xpu_unit *u, double last_idle_s)
{
	(void)p;
	(void)last_idle_s;
	return u->nidle - 1;
}

const struct xpu_power_ops xpu_power_race_to_idle = {
    .head = {.version = XPU_POWER_VERSION,
             .name = "race-to-idle",
             .description = "the fastest P-state, and the deepest idle state whenever a unit "
                            "has nothing to run"},
    .select = rti_select,
    .idle = rti_idle,
};

struct menu {
	struct xpu_power inner;
	double *predict; /* per unit: predicted idle span, INFINITY before any */
	int n;
	double latency; /* the longest exit latency allowed, seconds */
};

static int menu_init(struct xpu_power *p)
{
	struct menu *m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	p->priv = m;
	m->n = xpu_nunits(p->eng);
	m->latency = xpu_param_num(p->param, p->nparams, "latency", INFINITY);
	m->predict = malloc(((size_t)m->n + 1) * sizeof(*m->predict));
	if (!m->predict)
		return -ENOMEM;
	for (int u = 0; u < m->n; u++)
		m->predict[u] = INFINITY;
	return pw_inner_init(p, &m->inner);
}

static void menu_fini(struct xpu_power *p)
{
	struct menu *m = p->priv;
	if (!m)
		return;
	pw_inner_fini(&m->inner);
	free(m->predict);
	free(m);
	p->priv = NULL;
}

static int menu_select(struct xpu_power *p, const struct xpu_unit *u, double util)
{
	struct menu *m = p->priv;
	return pw_inner_select(&m->inner, u, util);
}

static int menu_idle(struct xpu_power *p, const struct xpu_unit *u, double last_idle_s)
{
	struct menu *m = p->priv;
	if (u->index < 0 || u->index >= m->n)
		return -1;
	double *pr = &m->predict[u->index];
	if (isfinite(last_idle_s))
		*pr = isfinite(*pr) ? 0.5 * (*pr + last_idle_s) : last_idle_s;
	int k = -1;
	for (int i = 0; i < u->nidle; i++)
		if (u->idle[i].target_residency <= *pr && u->idle[i].exit_latency <= m->latency)
			k = i;
	return k;
}

static const struct xpu_param_spec menu_params[] = {
    INNER_GOV_PARAM("the P-state governor"),
    {"latency", XPU_PARAM_NUMBER, 0, 1e9,
     "the longest exit latency allowed, in seconds (default: any)"},
    {NULL, 0, 0, 0, NULL},
};

const struct xpu_power_ops xpu_power_menu = {
    .head = {.version = XPU_POWER_VERSION,
             .name = "menu",
             .description = "cpuidle's menu: the deepest idle state whose target residency "
                            "fits the predicted idle span",
             .params = menu_params},
    .init = menu_init,
    .fini = menu_fini,
    .select = menu_select,
    .idle = menu_idle,
    .period = -1, /* the governor underneath may be periodic */
};
