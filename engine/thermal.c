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
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* qsort_r */
#endif
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "engine_impl.h"

#define XPU_MAX_SINK_UNITS 256 /* units on one heat sink: its network costs n^3 once */

struct th_net {
	int k, n;   /* units, nodes (the units, then the sink) */
	int *unit;  /* the k units */
	double *sq; /* n: sqrt(C) */
	double *Q;  /* n x n, row-major: eigenvectors in columns */
	double *lam;
	double amb;
	/* online state: node temperatures over ambient at time t, and the units' powers */
	double *x, *P, t;
	double *tmp, *tmp2; /* scratch, n each */
};

struct xpu_th_nets {
	int n;
	struct th_net *net;
	int *of;   /* per unit: its network, -1 when none */
	int *slot; /* per unit: its node in the network */
};

static void net_span(struct xpu_engine *e, struct th_net *w, double t1);
static struct th_net *net_of(struct xpu_engine *e, int u, int *slot);
static void net_reset(struct xpu_engine *e);
static double net_temp_of(const struct th_net *w, int slot);
static void net_set_power(struct th_net *w, int slot, double P);

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
	net_reset(e);
	for (size_t k = 0; k < tl->n; k++) {
		int u = tl->unit[k];
		if (u < 0 || u >= n || !(e->pf->units[u].th_r > 0)) {
			tl->temp[k] = NAN;
			continue;
		}
		int slot;
		struct th_net *w = net_of(e, u, &slot);
		if (w) { /* on a heat sink: its whole network moves to this row's time */
			net_span(e, w, tl->t[k]);
			tl->temp[k] = net_temp_of(w, slot);
			net_set_power(w, slot, tl->power[k]);
			continue;
		}
		if (last[u] != SIZE_MAX)
			T[u] = advance(e, u, T[u], tl->power[last[u]], tl->t[k] - tl->t[last[u]]);
		tl->temp[k] = T[u];
		last[u] = k;
	}
	/* from each unit's last row to the end of the run */
	for (int u = 0; any && u < n; u++)
		if (last[u] != SIZE_MAX && e->pf->units[u].th_r > 0 && !net_of(e, u, NULL))
			advance(e, u, T[u], tl->power[last[u]], e->now - tl->t[last[u]]);
	for (int i = 0; e->thn && i < e->thn->n; i++)
		net_span(e, &e->thn->net[i], e->now);
	free(T);
	free(last);
	return 0;
}

/* ------------------------------------------------------------------ heat sinks */

/* Units on one heat sink (xpu.thermal.sink) form a network: each unit's node i
 * (capacitance C_i) joins the sink's node (C_s) through R_i, and the sink joins ambient
 * through R_s:
 *
 *   C_i dT_i/dt = P_i - (T_i - T_s) / R_i
 *   C_s dT_s/dt = sum_i (T_i - T_s) / R_i - (T_s - T_amb) / R_s
 *
 * With x = T - T_amb, C x' = -G x + P, G the network's symmetric conductance matrix. For
 * constant powers the solution is exact: x(t) = x_eq + exp(-C^-1 G t) (x0 - x_eq), with
 * x_eq = G^-1 P; S = C^-1/2 G C^-1/2 is symmetric, so one eigendecomposition (Jacobi) at
 * the start, S = Q diag(lam) Q^T, gives every step in O(n^2): the units heat each other
 * through the sink as its resistances say (steady state: T_s = T_amb + R_s sum P,
 * T_i = T_s + R_i P_i). */
/* Eigenvalues and vectors of the symmetric n x n matrix a (destroyed), by cyclic Jacobi
 * rotations: lam[i], Q's column i. */
static void jacobi(double *a, int n, double *lam, double *Q)
{
	for (int i = 0; i < n; i++)
		for (int j = 0; j < n; j++)
			Q[i * n + j] = i == j;
	for (int sweep = 0; sweep < 100; sweep++) {
		double off = 0;
		for (int p = 0; p < n; p++)
			for (int q = p + 1; q < n; q++)
				off += a[p * n + q] * a[p * n + q];
		if (off < 1e-30)
			break;
		for (int p = 0; p < n; p++)
			for (int q = p + 1; q < n; q++) {
				double apq = a[p * n + q];
				if (fabs(apq) < 1e-300)
					continue;
				double theta = (a[q * n + q] - a[p * n + p]) / (2 * apq);
				double t =
				    (theta >= 0 ? 1 : -1) / (fabs(theta) + sqrt(theta * theta + 1));
				double c = 1 / sqrt(t * t + 1), s = t * c;
				for (int k = 0; k < n; k++) { /* A <- J^T A J */
					double akp = a[k * n + p], akq = a[k * n + q];
					a[k * n + p] = c * akp - s * akq;
					a[k * n + q] = s * akp + c * akq;
				}
				for (int k = 0; k < n; k++) {
					double apk = a[p * n + k], aqk = a[q * n + k];
					a[p * n + k] = c * apk - s * aqk;
					a[q * n + k] = s * apk + c * aqk;
				}
				for (int k = 0; k < n; k++) {
					double qkp = Q[k * n + p], qkq = Q[k * n + q];
					Q[k * n + p] = c * qkp - s * qkq;
					Q[k * n + q] = s * qkp + c * qkq;
				}
			}
	}
	for (int i = 0; i < n; i++)
		lam[i] = a[i * n + i];
}

/* x (over ambient) after dt at the units' powers P (the sink's is 0). */
static void net_advance(struct th_net *w, double *x, const double *P, double dt)
{
	int n = w->n;
	if (!(dt > 0))
		return;
	double *b = w->tmp, *y = w->tmp2;
	/* b = Q^T C^1/2 x; a = Q^T C^-1/2 P; b(t) = a/lam + exp(-lam t) (b - a/lam) */
	for (int i = 0; i < n; i++)
		y[i] = w->sq[i] * x[i];
	for (int j = 0; j < n; j++) {
		double bj = 0, aj = 0;
		for (int i = 0; i < n; i++) {
			bj += w->Q[i * n + j] * y[i];
			aj += w->Q[i * n + j] * (i < w->k && isfinite(P[i]) ? P[i] : 0) / w->sq[i];
		}
		double eq = aj / w->lam[j];
		b[j] = eq + exp(-w->lam[j] * dt) * (bj - eq);
	}
	for (int i = 0; i < n; i++) {
		double s = 0;
		for (int j = 0; j < n; j++)
			s += w->Q[i * n + j] * b[j];
		x[i] = s / w->sq[i];
	}
}

static int cmp_sink(const void *a, const void *b, void *arg)
{
	const struct xpu_platform *pf = arg;
	int x = *(const int *)a, y = *(const int *)b;
	int c = strcmp(pf->units[x].th_sink, pf->units[y].th_sink);
	return c ? c : (x > y) - (x < y);
}

void xpu_thermal_teardown(struct xpu_engine *e)
{
	struct xpu_th_nets *T = e->thn;
	if (!T)
		return;
	for (int i = 0; i < T->n; i++) {
		struct th_net *w = &T->net[i];
		free(w->unit);
		free(w->sq);
		free(w->Q);
		free(w->lam);
		free(w->x);
		free(w->P);
		free(w->tmp);
		free(w->tmp2);
	}
	free(T->net);
	free(T->of);
	free(T->slot);
	free(T);
	e->thn = NULL;
}

int xpu_thermal_setup(struct xpu_engine *e)
{
	const struct xpu_platform *pf = e->pf;
	int n = pf->nunits, m = 0;
	int *order = malloc(((size_t)n + 1) * sizeof(int));
	if (!order)
		return -ENOMEM;
	for (int u = 0; u < n; u++)
		if (pf->units[u].th_sink[0] && pf->units[u].th_r > 0)
			order[m++] = u;
	if (m == 0) {
		free(order);
		return 0;
	}
	qsort_r(order, (size_t)m, sizeof(int), cmp_sink, (void *)pf);
	struct xpu_th_nets *T = calloc(1, sizeof(*T));
	e->thn = T;
	if (T) {
		T->of = malloc(((size_t)n + 1) * sizeof(int));
		T->slot = calloc((size_t)n + 1, sizeof(int));
		T->net = calloc((size_t)m, sizeof(*T->net));
	}
	if (!T || !T->of || !T->slot || !T->net) {
		free(order);
		return -ENOMEM;
	}
	for (int u = 0; u < n; u++)
		T->of[u] = -1;
	int rc = 0;
	for (int i = 0; i < m && !rc;) {
		int j = i;
		const struct xpu_unit *a = &pf->units[order[i]];
		while (j < m && !strcmp(pf->units[order[j]].th_sink, a->th_sink))
			j++;
		for (int k = i + 1; k < j; k++) { /* one sink, one description */
			const struct xpu_unit *b = &pf->units[order[k]];
			if (b->th_sink_r != a->th_sink_r || b->th_sink_c != a->th_sink_c ||
			    b->th_ambient != a->th_ambient) {
				rc = xpu_errf(
				    e->err, pf->path, b->line,
				    "host '%s': property 'xpu.thermal.sink': sink '%s' has "
				    "sink.r %g K/W, sink.c %g J/K and ambient %g C on unit "
				    "'%s', got %g, %g and %g",
				    b->name, a->th_sink, a->th_sink_r, a->th_sink_c, a->th_ambient,
				    a->name, b->th_sink_r, b->th_sink_c, b->th_ambient);
				break;
			}
		}
		if (!rc && j - i > XPU_MAX_SINK_UNITS)
			rc = xpu_errf(
			    e->err, pf->path, a->line,
			    "host '%s': property 'xpu.thermal.sink': sink '%s' has %d units, "
			    "at most %d may share one (its network is solved exactly, at a cost "
			    "that grows with the cube of its size)",
			    a->name, a->th_sink, j - i, XPU_MAX_SINK_UNITS);
		if (rc)
			break;
		struct th_net *w = &T->net[T->n++];
		w->k = j - i;
		w->n = w->k + 1;
		size_t nn = (size_t)w->n;
		w->unit = malloc(nn * sizeof(int));
		w->sq = malloc(nn * sizeof(double));
		w->Q = malloc(nn * nn * sizeof(double));
		w->lam = malloc(nn * sizeof(double));
		w->x = calloc(nn, sizeof(double));
		w->P = calloc(nn, sizeof(double));
		w->tmp = malloc(nn * sizeof(double));
		w->tmp2 = malloc(nn * sizeof(double));
		double *S = calloc(nn * nn, sizeof(double));
		if (!w->unit || !w->sq || !w->Q || !w->lam || !w->x || !w->P || !w->tmp ||
		    !w->tmp2 || !S) {
			free(S);
			rc = -ENOMEM;
			break;
		}
		w->amb = a->th_ambient;
		int s = w->k; /* the sink's node */
		for (int k = 0; k < w->k; k++) {
			int u = order[i + k];
			const struct xpu_unit *un = &pf->units[u];
			w->unit[k] = u;
			T->of[u] = T->n - 1;
			T->slot[u] = k;
			w->sq[k] = sqrt(un->th_c);
			double g = 1 / un->th_r;
			S[k * nn + k] += g;
			S[s * nn + s] += g;
			S[k * nn + s] -= g;
			S[s * nn + k] -= g;
		}
		w->sq[s] = sqrt(a->th_sink_c);
		S[s * nn + s] += 1 / a->th_sink_r;
		for (size_t r = 0; r < nn; r++) /* S = C^-1/2 G C^-1/2 */
			for (size_t c = 0; c < nn; c++)
				S[r * nn + c] /= w->sq[r] * w->sq[c];
		jacobi(S, w->n, w->lam, w->Q);
		free(S);
		i = j;
	}
	free(order);
	return rc;
}

int xpu_thermal_net(const struct xpu_engine *e, int u)
{
	return e->thn ? e->thn->of[u] : -1;
}

/* Online: bring unit u's network to now at the powers since its last change, then take
 * power P for u from now on. */
void xpu_thermal_net_note(struct xpu_engine *e, int u, double P)
{
	struct xpu_th_nets *T = e->thn;
	struct th_net *w = &T->net[T->of[u]];
	net_advance(w, w->x, w->P, e->now - w->t);
	w->t = e->now;
	w->P[T->slot[u]] = P;
}

/* Online: unit u's temperature now (its network advanced on a copy). */
double xpu_thermal_net_temp(const struct xpu_engine *e, int u)
{
	struct xpu_th_nets *T = e->thn;
	struct th_net *w = &T->net[T->of[u]];
	double x[64], *xs = w->n <= 64 ? x : malloc((size_t)w->n * sizeof(double));
	if (!xs)
		return NAN;
	memcpy(xs, w->x, (size_t)w->n * sizeof(double));
	net_advance(w, xs, w->P, e->now - w->t);
	double t = w->amb + xs[T->slot[u]];
	if (xs != x)
		free(xs);
	return t;
}

static struct th_net *net_of(struct xpu_engine *e, int u, int *slot)
{
	if (!e->thn || e->thn->of[u] < 0)
		return NULL;
	if (slot)
		*slot = e->thn->slot[u];
	return &e->thn->net[e->thn->of[u]];
}

/* The recorded pass starts every network at ambient, at the run's start. */
static void net_reset(struct xpu_engine *e)
{
	for (int i = 0; e->thn && i < e->thn->n; i++) {
		struct th_net *w = &e->thn->net[i];
		memset(w->x, 0, (size_t)w->n * sizeof(double));
		memset(w->P, 0, (size_t)w->n * sizeof(double));
		w->t = e->tl && e->tl->n ? e->tl->t[0] : 0;
		for (int k = 0; k < w->k; k++)
			if (e->us[w->unit[k]].max_temp_c < w->amb ||
			    isnan(e->us[w->unit[k]].max_temp_c))
				e->us[w->unit[k]].max_temp_c = w->amb;
	}
}

/* The network from its time to t1 at its powers, sampled at eight points for each
 * unit's peak and its time over the warning and the limit (a network's temperatures
 * are sums of exponentials: not monotone between change points). */
static void net_span(struct xpu_engine *e, struct th_net *w, double t1)
{
	double dt = t1 - w->t;
	if (!(dt > 0))
		return;
	double h = dt / 8;
	for (int s = 0; s < 8; s++) {
		net_advance(w, w->x, w->P, h);
		for (int k = 0; k < w->k; k++) {
			int u = w->unit[k];
			const struct xpu_unit *un = &e->pf->units[u];
			double T = w->amb + w->x[k];
			struct xpu_unit_stats *st = &e->us[u];
			if (T > st->max_temp_c)
				st->max_temp_c = T;
			st->over_warning_s += !isnan(un->th_warning) && T > un->th_warning ? h : 0;
			st->over_limit_s += !isnan(un->th_limit) && T > un->th_limit ? h : 0;
		}
	}
	w->t = t1;
}

static double net_temp_of(const struct th_net *w, int slot)
{
	return w->amb + w->x[slot];
}

static void net_set_power(struct th_net *w, int slot, double P)
{
	w->P[slot] = isfinite(P) ? P : 0;
}
