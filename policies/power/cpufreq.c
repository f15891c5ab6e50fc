/* cpufreq.c — the Linux cpufreq governors that follow load (kernel documentation,
 * Documentation/admin-guide/pm/cpufreq.rst), as power policies. Each is called every
 * governor period (by default the run's estimated tick; --governor-period sets it) with
 * a unit's utilisation over the period, and picks the slowest P-state at least as fast
 * as its target frequency (the kernel's CPUFREQ_RELATION_L):
 *
 *   ondemand      load above up_threshold (80%): the fastest P-state, kept for
 *                 sampling_down_factor periods (1); below: a target proportional to the
 *                 load between the slowest and fastest speeds;
 *   conservative  load above up_threshold (80%): the target rises by freq_step (5% of the
 *                 fastest speed); below down_threshold (20%): it falls by as much;
 *   schedutil     target = 1.25 x fastest speed x utilisation, the utilisation made
 *                 frequency-invariant (scaled by current / fastest speed), changed at
 *                 most once per rate_limit seconds (0.001).
 *
 * A unit's speeds are its P-states' (platform wattage_per_state and speeds); units with
 * one P-state stay there. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "xpu.h"

enum gov { ONDEMAND, CONSERVATIVE, SCHEDUTIL };

struct ustate {
	double target; /* conservative: the frequency it steers (flop/s) */
	double last;   /* schedutil: time of its last change */
	int hold;      /* ondemand: periods left at the fastest speed */
};

struct cpufreq {
	enum gov g;
	double up, down, step, down_factor, rate_limit;
	struct ustate *u;
};

static double param(const struct xpu_power *p, const char *key, double def)
{
	for (int i = 0; i < p->nparams; i++)
		if (!strcmp(p->param[i].key, key))
			return strtod(p->param[i].value, NULL);
	return def;
}

static int init(struct xpu_power *p, enum gov g)
{
	struct cpufreq *c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	p->priv = c;
	c->g = g;
	c->up = param(p, "up_threshold", 80) / 100;
	c->down = param(p, "down_threshold", 20) / 100;
	c->step = param(p, "freq_step", 5) / 100;
	c->down_factor = param(p, "sampling_down_factor", 1);
	c->rate_limit = param(p, "rate_limit", 0.001);
	int n = xpu_nunits(p->eng);
	c->u = calloc((size_t)n + 1, sizeof(*c->u));
	if (!c->u)
		return -ENOMEM;
	for (int i = 0; i < n; i++)
		c->u[i].last = -INFINITY;
	return 0;
}

static int ondemand_init(struct xpu_power *p)
{
	return init(p, ONDEMAND);
}

static int conservative_init(struct xpu_power *p)
{
	return init(p, CONSERVATIVE);
}

static int schedutil_init(struct xpu_power *p)
{
	return init(p, SCHEDUTIL);
}

static void fini(struct xpu_power *p)
{
	struct cpufreq *c = p->priv;
	if (c)
		free(c->u);
	free(c);
	p->priv = NULL;
}

/* The slowest P-state at least as fast as f; the fastest when none is. */
static int at_least(const struct xpu_unit *u, double f)
{
	int best = -1, fastest = 0;
	for (int i = 0; i < u->npstates; i++) {
		double s = u->pstates[i].speed;
		if (s > u->pstates[fastest].speed)
			fastest = i;
		if (s >= f && (best < 0 || s < u->pstates[best].speed))
			best = i;
	}
	return best >= 0 ? best : fastest;
}

static void range(const struct xpu_unit *u, double *lo, double *hi)
{
	*lo = *hi = u->pstates[0].speed;
	for (int i = 1; i < u->npstates; i++) {
		double s = u->pstates[i].speed;
		if (s < *lo)
			*lo = s;
		if (s > *hi)
			*hi = s;
	}
}

static int gov_select(struct xpu_power *p, const struct xpu_unit *u, double util)
{
	struct cpufreq *c = p->priv;
	struct ustate *s = &c->u[u->index];
	double lo, hi, cur = u->pstates[u->pstate].speed;
	range(u, &lo, &hi);
	if (util < 0)
		util = 0;
	if (util > 1)
		util = 1;
	switch (c->g) {
	case ONDEMAND:
		if (util > c->up) {
			s->hold = (int)c->down_factor;
			return at_least(u, hi);
		}
		if (s->hold > 1) {
			s->hold--;
			return u->pstate;
		}
		s->hold = 0;
		return at_least(u, lo + util * (hi - lo));
	case CONSERVATIVE:
		if (!(s->target > 0))
			s->target = cur;
		if (util > c->up)
			s->target += c->step * hi;
		else if (util < c->down)
			s->target -= c->step * hi;
		if (s->target > hi)
			s->target = hi;
		if (s->target < lo)
			s->target = lo;
		return at_least(u, s->target);
	default: {
		double now = xpu_now(p->eng);
		if (now - s->last < c->rate_limit)
			return u->pstate;
		int ps = at_least(u, 1.25 * hi * util * cur / hi);
		if (ps != u->pstate)
			s->last = now;
		return ps;
	}
	}
}

static const struct xpu_param_spec ondemand_params[] = {
    {"up_threshold", XPU_PARAM_NUMBER, 1, 100,
     "load in percent above which the fastest P-state "
     "is chosen (default 80)"},
    {"sampling_down_factor", XPU_PARAM_INT, 1, 100000,
     "periods the fastest P-state is kept after a high load (default 1)"},
    {NULL, 0, 0, 0, NULL},
};

static const struct xpu_param_spec conservative_params[] = {
    {"up_threshold", XPU_PARAM_NUMBER, 1, 100,
     "load in percent above which the target rises "
     "(default 80)"},
    {"down_threshold", XPU_PARAM_NUMBER, 0, 99,
     "load in percent below which it falls (default "
     "20)"},
    {"freq_step", XPU_PARAM_NUMBER, 0.1, 100, "step in percent of the fastest speed (default 5)"},
    {NULL, 0, 0, 0, NULL},
};

static const struct xpu_param_spec schedutil_params[] = {
    {"rate_limit", XPU_PARAM_NUMBER, 0, 1e6,
     "seconds between two changes of a unit's P-state "
     "(default 0.001)"},
    {NULL, 0, 0, 0, NULL},
};

const struct xpu_power_ops xpu_power_ondemand = {
    .head = {.version = XPU_POWER_VERSION,
             .name = "ondemand",
             .description = "cpufreq ondemand: fastest above the up threshold, else a speed "
                            "proportional to load",
             .params = ondemand_params},
    .init = ondemand_init,
    .fini = fini,
    .select = gov_select,
    .period = -1,
};

const struct xpu_power_ops xpu_power_conservative = {
    .head = {.version = XPU_POWER_VERSION,
             .name = "conservative",
             .description = "cpufreq conservative: the speed moves a step at a time with load",
             .params = conservative_params},
    .init = conservative_init,
    .fini = fini,
    .select = gov_select,
    .period = -1,
};

const struct xpu_power_ops xpu_power_schedutil = {
    .head = {.version = XPU_POWER_VERSION,
             .name = "schedutil",
             .description = "cpufreq schedutil: 1.25 x fastest speed x frequency-invariant "
                            "utilisation, rate-limited",
             .params = schedutil_params},
    .init = schedutil_init,
    .fini = fini,
    .select = gov_select,
    .period = -1,
};
