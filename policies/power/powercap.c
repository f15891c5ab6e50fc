/* powercap.c — power capping by P-state: a domain's units never draw more than its
 * limit together. Domains: each SoC with a budget (the units of one memory whose
 * platform entries give xpu.soc.budget), and, with parameter cap=W, the whole platform.
 * A unit's share of a domain's limit is proportional to its full-load power at its
 * fastest P-state (RAPL's and the proportional split of Linux's powercap framework); it
 * runs at the fastest P-state whose full-load power fits its share (at every domain it
 * belongs to), or at the P-state the governor `gov` asks for when that is slower. As a
 * unit's power never exceeds its P-state's full-load power, the domain's sum never
 * exceeds its limit at any instant. A limit below the domain's slowest full-load sum
 * cannot be met: its units then run at their lowest-power states (the run's
 * peak_domain_power_w shows by how much it is over). Each limit is also asked of the
 * backend (xpu_power_limit): live, the machine's RAPL package limit holds it as well
 * where it is writable; the run records the request as refused where it is not. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "inner.h"

extern const struct xpu_power_ops xpu_power_performance, xpu_power_powersave, xpu_power_ondemand,
    xpu_power_conservative, xpu_power_schedutil;

struct pc {
	struct xpu_power inner;
	int *limit; /* per unit: the fastest P-state allowed */
	int n;
};

/* Full-load power of u at its fastest P-state: the weight of its share. */
static double weight(const struct xpu_unit *u)
{
	int best = 0;
	for (int i = 1; i < u->npstates; i++)
		if (u->pstates[i].speed > u->pstates[best].speed)
			best = i;
	return u->pstates[best].full_w;
}

/* The fastest P-state of u whose full-load power is at most share; the lowest-power one
 * when none is. */
static int fastest_within(const struct xpu_unit *u, double share)
{
	int best = -1, low = 0;
	for (int i = 0; i < u->npstates; i++) {
		if (u->pstates[i].full_w < u->pstates[low].full_w)
			low = i;
		if (u->pstates[i].full_w <= share &&
		    (best < 0 || u->pstates[i].speed > u->pstates[best].speed))
			best = i;
	}
	return best >= 0 ? best : low;
}

/* Lower limit[] for the units in[0..n) sharing `watts`. */
static void apply(struct pc *c, const struct xpu_platform *pf, const int *in, int n, double watts)
{
	double total = 0;
	for (int k = 0; k < n; k++)
		total += weight(&pf->units[in[k]]);
	for (int k = 0; k < n; k++) {
		const struct xpu_unit *u = &pf->units[in[k]];
		double share = total > 0 ? watts * weight(u) / total : watts / n;
		int ps = fastest_within(u, share);
		/* of two limits, the slower state: less full-load power */
		if (c->limit[in[k]] < 0 ||
		    u->pstates[ps].full_w < u->pstates[c->limit[in[k]]].full_w)
			c->limit[in[k]] = ps;
	}
}

static int pc_init(struct xpu_power *p)
{
	struct pc *c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	p->priv = c;
	const struct xpu_platform *pf = xpu_platform_of(p->eng);
	c->n = pf->nunits;
	c->limit = malloc(((size_t)pf->nunits + 1) * sizeof(*c->limit));
	int *in = malloc(((size_t)pf->nunits + 1) * sizeof(*in));
	if (!c->limit || !in) {
		free(in);
		return -ENOMEM;
	}
	for (int u = 0; u < pf->nunits; u++)
		c->limit[u] = -1;
	/* each SoC budget: the units of one memory that give it */
	for (int pool = 0; pool < pf->npools; pool++) {
		int n = 0;
		double budget = 0;
		for (int u = 0; u < pf->nunits; u++)
			if (pf->units[u].mem_pool == pool && pf->units[u].soc_budget_w > 0) {
				in[n++] = u;
				budget = pf->units[u].soc_budget_w;
			}
		if (n) {
			apply(c, pf, in, n, budget);
			xpu_power_limit(p->eng, pool, budget); /* live: RAPL too, where allowed */
		}
	}
	double cap = xpu_param_num(p->param, p->nparams, "cap", 0);
	if (cap > 0) {
		for (int u = 0; u < pf->nunits; u++)
			in[u] = u;
		apply(c, pf, in, pf->nunits, cap);
		xpu_power_limit(p->eng, -1, cap);
	}
	free(in);
	return pw_inner_init(p, &c->inner);
}

static void pc_fini(struct xpu_power *p)
{
	struct pc *c = p->priv;
	if (!c)
		return;
	pw_inner_fini(&c->inner);
	free(c->limit);
	free(c);
	p->priv = NULL;
}

static int pc_select(struct xpu_power *p, const struct xpu_unit *u, double util)
{
	struct pc *c = p->priv;
	int want = pw_inner_select(&c->inner, u, util);
	if (u->index < 0 || u->index >= c->n || c->limit[u->index] < 0 || want < 0 ||
	    want >= u->npstates)
		return want;
	int lim = c->limit[u->index];
	return u->pstates[want].full_w <= u->pstates[lim].full_w ? want : lim;
}

static const struct xpu_param_spec pc_params[] = {
    {"cap", XPU_PARAM_NUMBER, 0, 1e12,
     "watts the whole platform may draw (default 0: only the SoC budgets, xpu.soc.budget)"},
    INNER_GOV_PARAM("the governor under the cap"),
    {NULL, 0, 0, 0, NULL},
};

const struct xpu_power_ops xpu_power_powercap = {
    .head = {.version = XPU_POWER_VERSION,
             .name = "powercap",
             .description = "P-states under power limits: each SoC's xpu.soc.budget and "
                            "cap=W for the platform, shared in proportion to full-load power",
             .params = pc_params},
    .init = pc_init,
    .fini = pc_fini,
    .select = pc_select,
    .period = -1, /* the governor underneath may be periodic */
};
