/* ipa.c — the power allocator (Linux's IPA thermal governor, ARM 2015). A thermal zone
 * (a unit alone, or the units on one heat sink, xpu.thermal.sink) gets a power budget
 * from a PID controller on the distance between its hottest unit's temperature and that
 * unit's control temperature; the budget is split among the zone's units in proportion
 * to the power each one's governor (`gov`) asks for (the full-load power of its chosen
 * state), and each unit runs at the fastest P-state whose full-load power fits its
 * share, or slower when its governor asks.
 *
 *   err = T_control - T;   P = P_sustainable + k_p err + k_i sum(err) + k_d d(err)
 *
 * with the kernel's defaults (drivers/thermal/gov_power_allocator.c,
 * estimate_pid_constants): k_p = P_sustainable / (T_control - T_switch_on) when the zone
 * is over control (k_po) and twice that under it (k_pu), k_i = 0.01 W/K per period,
 * k_d = 0; the integral accumulates only while over control (integral_cutoff 0) and
 * while its term stays under the zone's largest power; the budget lies within [0, that
 * power]. Control temperature: xpu.thermal.limit (parameter `control` lowers it by that
 * many degrees); switch-on: the warning (below it IPA leaves the zone to `gov`), else 10
 * degrees under control. P_sustainable follows from the thermal model: the most the
 * zone's k units can draw in equal shares while the hottest holds at control in steady
 * state, k (T_control - T_ambient) / (k R_sink + R) (R_sink 0 for a unit alone). The
 * kernel's divvy_up_power also hands a share above a unit's largest power to the other
 * units; here it would change nothing: a unit asks at most its largest power, so a share
 * can pass it only when the budget covers every request, and then no unit is held
 * below what it asked. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>

#include "inner.h"

/* One thermal zone: a unit alone, or the units on one heat sink. */
struct ipa_zone {
	double integral;
	double at;     /* when its budget was last computed */
	double budget; /* watts granted to the whole zone then */
	int on;        /* over switch-on then */
};

struct ipa {
	struct xpu_power inner;
	int n;
	double below;       /* control = limit - below */
	struct ipa_zone *z; /* per zone: zone of unit u is zone[u] */
	int *zone;          /* per unit: its zone (the first unit of its sink, or itself) */
	int *next;          /* per unit: the next unit of its zone, -1 at the end */
	double *req;        /* per unit: the power it last asked for (its governor's state) */
};

static double max_power(const struct xpu_unit *u)
{
	double m = 0;
	for (int i = 0; i < u->npstates; i++)
		if (u->pstates[i].full_w > m)
			m = u->pstates[i].full_w;
	return m;
}

static int ipa_init(struct xpu_power *p)
{
	struct ipa *a = calloc(1, sizeof(*a));
	if (!a)
		return -ENOMEM;
	p->priv = a;
	a->n = xpu_nunits(p->eng);
	a->below = xpu_param_num(p->param, p->nparams, "control", 0);
	size_t n1 = (size_t)a->n + 1;
	a->z = calloc(n1, sizeof(*a->z));
	a->zone = malloc(n1 * sizeof(int));
	a->next = malloc(n1 * sizeof(int));
	a->req = malloc(n1 * sizeof(double));
	int *first = malloc(n1 * sizeof(int)); /* per sink: its first unit */
	int *last = malloc(n1 * sizeof(int));
	if (!a->z || !a->zone || !a->next || !a->req || !first || !last) {
		free(first);
		free(last);
		return -ENOMEM;
	}
	for (int u = 0; u < a->n; u++)
		first[u] = last[u] = -1;
	for (int u = 0; u < a->n; u++) {
		const struct xpu_unit *un = xpu_unit_at(p->eng, u);
		int s = xpu_unit_sink(p->eng, u);
		a->next[u] = -1;
		a->req[u] = max_power(un);
		a->z[u].at = -INFINITY;
		if (s < 0 || s >= a->n) {
			a->zone[u] = u;
			continue;
		}
		if (first[s] < 0)
			first[s] = u;
		else
			a->next[last[s]] = u;
		last[s] = u;
		a->zone[u] = first[s];
	}
	free(first);
	free(last);
	return pw_inner_init(p, &a->inner);
}

static void ipa_fini(struct xpu_power *p)
{
	struct ipa *a = p->priv;
	if (!a)
		return;
	pw_inner_fini(&a->inner);
	free(a->z);
	free(a->zone);
	free(a->next);
	free(a->req);
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

/* The zone's budget now: its PID on the hottest unit's distance to that unit's control
 * temperature. The sustainable power: the most the zone's units can draw together, in
 * equal shares, while its hottest one holds at control in steady state. */
static void zone_budget(struct xpu_power *p, struct ipa *a, int z)
{
	struct ipa_zone *s = &a->z[z];
	double now = xpu_now(p->eng);
	if (s->at == now)
		return;
	s->at = now;
	int k = 0, hot = -1;
	double hot_err = INFINITY, maxp = 0;
	for (int v = z; v >= 0; v = a->next[v]) {
		const struct xpu_unit *un = xpu_unit_at(p->eng, v);
		double T = xpu_unit_temp(p->eng, v);
		k++;
		maxp += max_power(un);
		if (isnan(T) || isnan(un->th_limit))
			continue;
		double err = un->th_limit - a->below - T;
		if (err < hot_err) {
			hot_err = err;
			hot = v;
		}
	}
	s->on = 0;
	if (hot < 0)
		return;
	const struct xpu_unit *h = xpu_unit_at(p->eng, hot);
	double control = h->th_limit - a->below;
	double on = !isnan(h->th_warning) && h->th_warning < control ? h->th_warning : control - 10;
	if (control - hot_err < on) { /* below switch-on: no throttling, the controller resets */
		s->integral = 0;
		return;
	}
	s->on = 1;
	double sustainable = INFINITY;
	for (int v = z; v >= 0; v = a->next[v]) {
		const struct xpu_unit *un = xpu_unit_at(p->eng, v);
		if (!(un->th_r > 0) || isnan(un->th_limit))
			continue;
		double rs = xpu_unit_sink(p->eng, v) >= 0 ? un->th_sink_r : 0;
		double P = (un->th_limit - a->below - un->th_ambient) / (rs * k + un->th_r) * k;
		if (P < sustainable)
			sustainable = P;
	}
	double err = hot_err;
	double kp = (err < 0 ? 1.0 : 2.0) * sustainable / (control - on), ki = 0.01;
	/* the kernel's integral: only while over control (integral_cutoff 0), and only
	 * while the term stays under the zone's largest power */
	if (err < 0 && fabs(ki * (s->integral + err)) < maxp)
		s->integral += err;
	double budget = sustainable + kp * err + ki * s->integral; /* k_d = 0 */
	s->budget = budget < 0 ? 0 : budget > maxp ? maxp : budget;
}

static int ipa_select(struct xpu_power *p, const struct xpu_unit *u, double util)
{
	struct ipa *a = p->priv;
	int want = pw_inner_select(&a->inner, u, util);
	if (u->index < 0 || u->index >= a->n || want < 0 || want >= u->npstates)
		return want;
	a->req[u->index] = u->pstates[want].full_w; /* what its governor asks for */
	int z = a->zone[u->index];
	zone_budget(p, a, z);
	if (!a->z[z].on)
		return want;
	/* the zone's budget, split in proportion to what each unit asks for */
	double total = 0;
	for (int v = z; v >= 0; v = a->next[v])
		total += a->req[v];
	double granted = total > 0 ? a->z[z].budget * a->req[u->index] / total : 0;
	int cap = within(u, granted);
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
