/* stepwise.c — thermal throttling after Linux's step_wise thermal governor: at each
 * governor period, a unit above its trip point (its xpu.thermal.warning, else `margin`
 * degrees under its xpu.thermal.limit) and not cooling is throttled one P-state step
 * further (the next slower state, by speed); one below the trip point and not warming
 * is released one step. The throttled state caps what the governor `gov` chooses.
 * Units without a thermal node run as `gov` says. Temperatures come from the engine's
 * online node (xpu_unit_temp). Whether the limit holds depends on the period being
 * short against the node's time constant (R C) and on the slowest state's steady
 * temperature (ambient + its power x R) lying under the limit. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "inner.h"

extern const struct xpu_power_ops xpu_power_performance, xpu_power_powersave, xpu_power_ondemand,
    xpu_power_conservative, xpu_power_schedutil;

struct sw {
	struct xpu_power inner;
	int n;
	int *level;    /* per unit: steps below the fastest state it may use */
	double *last;  /* per unit: temperature at the previous call */
	double margin; /* trip = limit - margin when a unit gives no warning */
};

static int sw_init(struct xpu_power *p)
{
	struct sw *w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	p->priv = w;
	w->n = xpu_nunits(p->eng);
	w->margin = xpu_param_num(p->param, p->nparams, "margin", 5);
	w->level = calloc((size_t)w->n + 1, sizeof(*w->level));
	w->last = malloc(((size_t)w->n + 1) * sizeof(*w->last));
	if (!w->level || !w->last)
		return -ENOMEM;
	for (int u = 0; u < w->n; u++)
		w->last[u] = NAN;
	return pw_inner_init(p, &w->inner);
}

static void sw_fini(struct xpu_power *p)
{
	struct sw *w = p->priv;
	if (!w)
		return;
	pw_inner_fini(&w->inner);
	free(w->level);
	free(w->last);
	free(w);
	p->priv = NULL;
}

/* u's P-state `steps` below its fastest: the one with that many faster states (by
 * speed, ties by index); the slowest when steps reaches past it. */
static int slower_by(const struct xpu_unit *u, int steps)
{
	if (steps > u->npstates - 1)
		steps = u->npstates - 1;
	for (int i = 0; i < u->npstates; i++) {
		int rank = 0;
		for (int j = 0; j < u->npstates; j++)
			rank += u->pstates[j].speed > u->pstates[i].speed ||
			        (u->pstates[j].speed == u->pstates[i].speed && j < i);
		if (rank == steps)
			return i;
	}
	return 0;
}

static int sw_select(struct xpu_power *p, const struct xpu_unit *u, double util)
{
	struct sw *w = p->priv;
	int want = pw_inner_select(&w->inner, u, util);
	double T = xpu_unit_temp(p->eng, u->index);
	if (u->index < 0 || u->index >= w->n || isnan(T) || want < 0 || want >= u->npstates)
		return want;
	double trip = !isnan(u->th_warning) ? u->th_warning : u->th_limit - w->margin;
	if (isnan(trip))
		return want;
	double prev = w->last[u->index];
	int *lv = &w->level[u->index];
	if (T >= trip && !(T < prev) && *lv < u->npstates - 1)
		(*lv)++; /* hot and not cooling: one step slower */
	else if (T < trip && !(T > prev) && *lv > 0)
		(*lv)--; /* cool and not warming: one step back */
	w->last[u->index] = T;
	int cap = slower_by(u, *lv);
	return u->pstates[want].speed <= u->pstates[cap].speed ? want : cap;
}

static const struct xpu_param_spec sw_params[] = {
    INNER_GOV_PARAM("the governor under the throttle"),
    {"margin", XPU_PARAM_NUMBER, 0, 1000,
     "degrees under xpu.thermal.limit where throttling starts when a unit gives no "
     "xpu.thermal.warning (default 5)"},
    {NULL, 0, 0, 0, NULL},
};

const struct xpu_power_ops xpu_power_step_wise = {
    .head = {.version = XPU_POWER_VERSION,
             .name = "step-wise",
             .description = "thermal throttling as Linux's step_wise: one P-state step "
                            "slower per period while a unit is above its trip point",
             .params = sw_params},
    .init = sw_init,
    .fini = sw_fini,
    .select = sw_select,
    .period = -1, /* the run's tick, or --governor-period */
};
