/* ipa.c — the power allocator (Linux's IPA thermal governor, ARM 2015): a PID
 * controller per unit with a thermal node grants it a power budget from the distance
 * between its temperature and the control temperature, and the unit runs at the fastest
 * P-state whose full-load power fits the budget (or slower, when the governor `gov` asks).
 *
 *   err = T_control - T;   P = P_sustainable + k_p err + k_i sum(err) + k_d d(err)
 *
 * with the kernel's defaults (drivers/thermal/gov_power_allocator.c,
 * estimate_pid_constants): k_p = P_sustainable / (T_control - T_switch_on) when the unit
 * is over the control temperature (k_po) and twice that under it (k_pu), k_i = 0.01 W/K
 * per period, k_d = 0; the integral accumulates only while the unit is over control
 * (integral_cutoff 0) and while its term stays under the unit's largest power; the
 * budget lies within [0, that power]. Control temperature:
 * xpu.thermal.limit (parameter `control` lowers it by that many degrees); switch-on: the
 * warning (below it IPA leaves the unit to `gov`), else 10 degrees under control.
 * P_sustainable, the power that holds the node at control in steady state, follows from
 * the node itself: (T_control - T_ambient) / R. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>

#include "inner.h"

struct ipa_unit {
	double integral, last_err;
	int started;
};

struct ipa {
	struct xpu_power inner;
	int n;
	double below; /* control = limit - below */
	struct ipa_unit *u;
};

static int ipa_init(struct xpu_power *p)
{
	struct ipa *a = calloc(1, sizeof(*a));
	if (!a)
		return -ENOMEM;
	p->priv = a;
	a->n = xpu_nunits(p->eng);
	a->below = xpu_param_num(p->param, p->nparams, "control", 0);
	a->u = calloc((size_t)a->n + 1, sizeof(*a->u));
	if (!a->u)
		return -ENOMEM;
	return pw_inner_init(p, &a->inner);
}

static void ipa_fini(struct xpu_power *p)
{
	struct ipa *a = p->priv;
	if (!a)
		return;
	pw_inner_fini(&a->inner);
	free(a->u);
	free(a);
	p->priv = NULL;
}

/* The fastest P-state of u whose full-load power is at most watts; the lowest-power one
 * when none is. */
static int within(const struct xpu_unit *u, double watts)
{
	int best = -1, low = 0;
	for (int i = 0; i < u->npstates; i++) {
		if (u->pstates[i].full_w < u->pstates[low].full_w)
			low = i;
		if (u->pstates[i].full_w <= watts &&
		    (best < 0 || u->pstates[i].speed > u->pstates[best].speed))
			best = i;
	}
	return best >= 0 ? best : low;
}

static int ipa_select(struct xpu_power *p, const struct xpu_unit *u, double util)
{
	struct ipa *a = p->priv;
	int want = pw_inner_select(&a->inner, u, util);
	double T = xpu_unit_temp(p->eng, u->index);
	if (u->index < 0 || u->index >= a->n || isnan(T) || isnan(u->th_limit) || want < 0 ||
	    want >= u->npstates)
		return want;
	double control = u->th_limit - a->below;
	double on = !isnan(u->th_warning) && u->th_warning < control ? u->th_warning : control - 10;
	struct ipa_unit *s = &a->u[u->index];
	if (T < on) { /* below switch-on: no throttling, the controller resets */
		s->integral = 0;
		s->started = 0;
		return want;
	}
	double sustainable = (control - u->th_ambient) / u->th_r;
	double max_power = 0;
	for (int i = 0; i < u->npstates; i++)
		if (u->pstates[i].full_w > max_power)
			max_power = u->pstates[i].full_w;
	double err = control - T;
	double kp = (err < 0 ? 1.0 : 2.0) * sustainable / (control - on), ki = 0.01;
	/* the kernel's integral: only while over control (integral_cutoff 0), and only
	 * while the term stays under the unit's largest power */
	if (err < 0 && fabs(ki * (s->integral + err)) < max_power)
		s->integral += err;
	s->last_err = err;
	s->started = 1;
	double budget = sustainable + kp * err + ki * s->integral; /* k_d = 0 */
	budget = budget < 0 ? 0 : budget > max_power ? max_power : budget;
	int cap = within(u, budget);
	return u->pstates[want].full_w <= u->pstates[cap].full_w ? want : cap;
}

static const struct xpu_param_spec ipa_params[] = {
    INNER_GOV_PARAM("the governor under the power budget"),
    {"control", XPU_PARAM_NUMBER, 0, 1000,
     "degrees under xpu.thermal.limit to control at (default 0: the limit)"},
    {NULL, 0, 0, 0, NULL},
};

const struct xpu_power_ops xpu_power_ipa = {
    .head = {.version = XPU_POWER_VERSION,
             .name = "power-allocator",
             .description = "Linux IPA: a PID controller on each hot unit's temperature "
                            "grants it a power budget; P-states follow the budget",
             .params = ipa_params},
    .init = ipa_init,
    .fini = ipa_fini,
    .select = ipa_select,
    .period = -1, /* the run's tick, or --governor-period (Linux polls every 100 ms) */
};
