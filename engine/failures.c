/* failures.c — simulated unit failures: when each unit fails and when it is repaired.
 *
 * A unit's availability (struct xpu_avail, given by the driver from --failures or the
 * platform's xpu.mtbf, xpu.mttr and xpu.availability) is either a rate model, failures
 * and repairs at exponentially distributed times of means mtbf and mttr, or a profile
 * of state changes, possibly repeated. The schedule depends only on the availability
 * and the seed, drawn from its own random stream in time order, and every change is
 * timed from the previous change rather than from when the engine saw it: the same
 * units fail at the same instants under every policy, which a comparison of policies
 * needs. The engine applies the changes (eng_unit_down, eng_unit_up in engine.c). */
#include <errno.h>
#include <math.h>
#include <stdlib.h>

#include "engine_impl.h"

/* Exponentially distributed, of the given mean: -mean ln U with U in (0, 1). */
static double expo(struct xpu_engine *e, double mean)
{
	double u = ((double)(eng_xoshiro(e->fail_rng) >> 11) + 0.5) * 0x1.0p-53;
	return -mean * log(u);
}

/* Unit u's next change after the one at time `from`, which leaves it down or up:
 * INFINITY when it has none. */
static double next_change(struct xpu_engine *e, int u, double from, int down)
{
	const struct xpu_avail *a = &e->avail[u];
	struct unit_rt *r = &e->u[u];
	if (a->n > 0) {
		/* the profile's next entry that changes the state; one whole repetition
		 * without one means none ever will */
		for (uint32_t seen = 0; seen <= a->n; seen++) {
			if (r->prof_i >= a->n) {
				if (!(a->period > 0))
					return INFINITY;
				r->prof_base += a->period;
				r->prof_i = 0;
			}
			if ((a->up[r->prof_i] != 0) == down)
				return r->prof_base + a->at[r->prof_i];
			r->prof_i++;
		}
		return INFINITY;
	}
	if (a->mtbf > 0 && a->mttr > 0)
		return from + expo(e, down ? a->mttr : a->mtbf);
	return INFINITY;
}

static int schedule(struct xpu_engine *e, int u, double from, int down)
{
	double t = next_change(e, u, from, down);
	e->u[u].next_change = t;
	if (!isfinite(t))
		return 0;
	return xpu_heap_push(&e->fail_q, t, e->seq++, (uint32_t)u);
}

int xpu_fail_setup(struct xpu_engine *e)
{
	int n = e->pf->nunits;
	for (int u = 0; u < n; u++)
		e->u[u].next_change = INFINITY;
	if (!e->avail)
		return 0;
	/* its own stream, from the seed offset by "failures": the policies' draws do
	 * not move it */
	eng_seed(e->fail_rng, e->rng[0] ^ 0x6661696c75726573ULL);
	for (int u = 0; u < n; u++) {
		int rc = schedule(e, u, 0, 0);
		if (rc)
			return rc;
	}
	return 0;
}

double xpu_fail_next(const struct xpu_engine *e)
{
	const struct xpu_hent *h = e->avail ? xpu_heap_top(&e->fail_q) : NULL;
	return h ? h->key : INFINITY;
}

void xpu_fail_due(struct xpu_engine *e)
{
	const struct xpu_hent *h;
	while (!e->rc && (h = xpu_heap_top(&e->fail_q)) && h->key <= e->now) {
		if (++e->nchanges > XPU_MAX_FAIL_CHANGES) {
			/* the run outgrew its estimate many times over: it would not end */
			eng_fatal(e, -E2BIG, "unit failures: more than 1e9 failures and repairs");
			return;
		}
		struct xpu_hent top = xpu_heap_remove(&e->fail_q, 0);
		int u = (int)top.task;
		int down = !e->u[u].down;
		if (e->avail[u].n > 0)
			e->u[u].prof_i++; /* that entry is applied */
		/* the next change first: policies asked during this one see the repair */
		if (schedule(e, u, top.key, down)) {
			eng_fatal(e, -ENOMEM, "failure schedule");
			return;
		}
		if (down)
			eng_unit_down(e, u);
		else
			eng_unit_up(e, u);
	}
}

void xpu_fail_teardown(struct xpu_engine *e)
{
	xpu_heap_free(&e->fail_q);
	free(e->run_next);
	free(e->run_prev);
	e->run_next = e->run_prev = NULL;
}
