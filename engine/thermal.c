/* thermal.c — each unit's temperature over a run, from its thermal node (xpu.thermal.r,
 * .c, .ambient: a compact RC model in the manner of HotSpot, one node per unit, no
 * coupling between units yet) and the power the timeline recorded. Between two of a
 * unit's change points its power P is constant, and the node follows the exact solution
 *
 *   T(t) = T_amb + P R + (T0 - T_amb - P R) exp(-t / (R C)),
 *
 * monotone on the interval: the peak is at an end, and a threshold is crossed at most
 * once, at t = -R C ln((L - T_amb - P R) / (T0 - T_amb - P R)). Computed once the run
 * has ended (every row's power is known then), in one pass over the timeline: the
 * recorded temperatures. During the run the engine keeps an online estimate with the
 * same closed form (xpu_thermal_step) and the power its model gives each state
 * (engine.c, model_power): what policies read through xpu_unit_temp. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>

#include "engine_impl.h"

/* Time within [0, dt] that a node going from T0 towards Tinf spends above L. */
static double above(double T0, double Tinf, double tau, double dt, double L)
{
	if (isnan(L))
		return 0;
	double T1 = Tinf + (T0 - Tinf) * exp(-dt / tau);
	if (T0 >= L && T1 >= L)
		return dt;
	if (T0 < L && T1 < L)
		return 0;
	double s = -tau * log((L - Tinf) / (T0 - Tinf)); /* the crossing */
	if (!(s >= 0))
		s = 0;
	if (s > dt)
		s = dt;
	return T0 < L ? dt - s : s;
}

double xpu_thermal_step(const struct xpu_unit *un, double T0, double P, double dt)
{
	if (!(dt > 0) || !(un->th_r > 0))
		return T0;
	if (!isfinite(P))
		P = 0;
	double tau = un->th_r * un->th_c, Tinf = un->th_ambient + P * un->th_r;
	return Tinf + (T0 - Tinf) * exp(-dt / tau);
}

/* Unit u's node over [0, dt] at power P: its temperature at the end. */
static double advance(struct xpu_engine *e, int u, double T0, double P, double dt)
{
	const struct xpu_unit *un = &e->pf->units[u];
	if (!(dt > 0))
		return T0;
	if (!isfinite(P))
		P = 0;
	double tau = un->th_r * un->th_c, Tinf = un->th_ambient + P * un->th_r;
	double T1 = Tinf + (T0 - Tinf) * exp(-dt / tau);
	struct xpu_unit_stats *s = &e->us[u];
	if (T1 > s->max_temp_c)
		s->max_temp_c = T1;
	s->over_warning_s += above(T0, Tinf, tau, dt, un->th_warning);
	s->over_limit_s += above(T0, Tinf, tau, dt, un->th_limit);
	return T1;
}

int xpu_thermal_pass(struct xpu_engine *e)
{
	struct xpu_timeline *tl = e->tl;
	int n = e->pf->nunits, any = 0;
	for (int u = 0; u < n; u++) {
		e->us[u].max_temp_c = NAN;
		e->us[u].over_warning_s = e->us[u].over_limit_s = 0;
		any |= e->pf->units[u].th_r > 0;
	}
	if (!tl)
		return 0;
	free(tl->temp);
	tl->temp = malloc((tl->n ? tl->n : 1) * sizeof(double));
	double *T = malloc(((size_t)n + 1) * sizeof(double));
	size_t *last = malloc(((size_t)n + 1) * sizeof(size_t));
	if (!tl->temp || !T || !last) {
		free(T);
		free(last);
		return -ENOMEM;
	}
	for (int u = 0; u < n; u++) {
		T[u] = e->pf->units[u].th_ambient;
		last[u] = SIZE_MAX;
		if (e->pf->units[u].th_r > 0)
			e->us[u].max_temp_c = T[u];
	}
	for (size_t k = 0; k < tl->n; k++) {
		int u = tl->unit[k];
		if (u < 0 || u >= n || !(e->pf->units[u].th_r > 0)) {
			tl->temp[k] = NAN;
			continue;
		}
		if (last[u] != SIZE_MAX)
			T[u] = advance(e, u, T[u], tl->power[last[u]], tl->t[k] - tl->t[last[u]]);
		tl->temp[k] = T[u];
		last[u] = k;
	}
	/* from each unit's last row to the end of the run */
	for (int u = 0; any && u < n; u++)
		if (last[u] != SIZE_MAX && e->pf->units[u].th_r > 0)
			advance(e, u, T[u], tl->power[last[u]], e->now - tl->t[last[u]]);
	free(T);
	free(last);
	return 0;
}
