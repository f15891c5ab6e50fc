/* backfill.c — space-sharing of wide jobs on units of many cores: FCFS, EASY
 * backfilling (Lifka, "The ANL/IBM SP scheduling system", JSSPP 1995; Mu'alem and
 * Feitelson, IEEE TPDS 12(6), 2001) and conservative backfilling (Mu'alem and
 * Feitelson 2001).
 *
 * Our unit queues run strictly in order, so the policy holds the waiting jobs itself
 * and places a job (xpu_place, order = now) only when it can start now: its unit has
 * width free cores by the policy's own count of the cores its placed jobs hold.
 * Decisions are taken when a job becomes ready, when one ends, when a unit asks for
 * work (pick) and at ticks. A job's run time is its user estimate (task->estimate),
 * or the engine's prediction on the unit when the trace gives none; a running job is
 * expected to end at its start plus that time.
 *   fcfs: start jobs in queue (readiness) order while the head fits; never skip.
 *   easy: as fcfs, then reserve for the waiting head the earliest time enough cores
 *     free up on some unit (its shadow time), and start any later job that fits now
 *     and either runs on another unit, ends by the shadow time, or uses only the cores
 *     the head will leave spare.
 *   conservative: every waiting job holds a reservation in a per-unit profile; at each
 *     decision, jobs in queue order are taken out and put back at their earliest fit
 *     (never later than before, since their old slot is still free), and those whose
 *     reservation is now start. No job's reservation is ever delayed.
 * Among units that fit, the one of least predicted run time wins, lowest index on
 * ties. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "backfill.h"

struct bf_end {
	double at;
	int width;
};

struct bf {
	enum bf_mode mode;
	uint32_t *q; /* waiting jobs in readiness order */
	size_t nq, qcap;
	uint32_t *run; /* jobs placed and not ended */
	size_t nrun, rcap;
	int *free_cores;
	double *end; /* per task: expected end once placed */
	double *rs;  /* per task (conservative): reserved start; NAN = none */
	int *ru;     /* per task (conservative): reserved unit */
	char *queued;
	int stale;           /* a queued job ended (failed) since the last compaction */
	long free_total;     /* free cores over every unit, by the policy's count */
	int busy;            /* re-entrancy guard: xpu_place may not call back, but be safe */
	struct bf_end *ends; /* scratch for EASY's shadow time, one per running job */
	size_t ecap;
};

double xpu_backfill_first_reservation(const struct xpu_task *t)
{
	double d;
	uintptr_t bits = (uintptr_t)t->sched_data;
	if (!bits)
		return NAN;
	memcpy(&d, &bits, sizeof(d));
	return d;
}

static void note_reservation(struct xpu_engine *e, const struct xpu_task *t, double at)
{
	uintptr_t bits;
	if (t->sched_data)
		return;
	memcpy(&bits, &at, sizeof(bits));
	xpu_task_set_sched_data(e, t, (void *)bits);
}

int bf_init(struct xpu_sched *s, enum bf_mode mode)
{
	struct bf *b = calloc(1, sizeof(*b));
	if (!b)
		return -ENOMEM;
	s->priv = b;
	b->mode = mode;
	size_t n = (size_t)xpu_ntasks(s->eng) + 1;
	int p = xpu_nunits(s->eng);
	b->free_cores = malloc((size_t)p * sizeof(int));
	b->end = calloc(n, sizeof(double));
	b->rs = malloc(n * sizeof(double));
	b->ru = calloc(n, sizeof(int));
	b->queued = calloc(n, 1);
	if (!b->free_cores || !b->end || !b->rs || !b->ru || !b->queued)
		return -ENOMEM;
	for (int u = 0; u < p; u++) {
		b->free_cores[u] = xpu_unit_at(s->eng, u)->cores;
		b->free_total += b->free_cores[u];
	}
	for (size_t i = 0; i < n; i++)
		b->rs[i] = NAN;
	return 0;
}

void bf_fini(struct xpu_sched *s)
{
	struct bf *b = s->priv;
	if (!b)
		return;
	free(b->q);
	free(b->run);
	free(b->free_cores);
	free(b->end);
	free(b->rs);
	free(b->ru);
	free(b->queued);
	free(b->ends);
	free(b);
}

static int grow(uint32_t **a, size_t *cap, size_t n)
{
	if (n < *cap)
		return 0;
	size_t c = *cap ? 2 * *cap : 64;
	uint32_t *x = realloc(*a, c * sizeof(*x));
	if (!x)
		return -ENOMEM;
	*a = x;
	*cap = c;
	return 0;
}

static double runtime(struct xpu_engine *e, const struct xpu_task *t, int u)
{
	return isfinite(t->estimate) && t->estimate > 0 ? t->estimate : xpu_predict(e, t, u);
}

/* The unit where t can start now (fewest predicted seconds), or -1. */
static int fits_now(struct bf *b, struct xpu_engine *e, const struct xpu_task *t)
{
	int best = -1;
	double bd = INFINITY;
	for (int u = 0; u < xpu_nunits(e); u++)
		if (b->free_cores[u] >= (int)t->width && xpu_can_run(e, t, u)) {
			double d = xpu_predict(e, t, u);
			if (best < 0 || d < bd) {
				best = u;
				bd = d;
			}
		}
	return best;
}

static void start(struct bf *b, struct xpu_engine *e, const struct xpu_task *t, int u)
{
	if (grow(&b->run, &b->rcap, b->nrun))
		return; /* stays queued */
	if (xpu_place(e, t, u, xpu_now(e)))
		return;
	b->free_cores[u] -= (int)t->width;
	b->free_total -= (int)t->width;
	b->end[t->index] = xpu_now(e) + runtime(e, t, u);
	b->run[b->nrun++] = t->index;
	b->queued[t->index] = 0;
}

/* Drop from the queue the jobs that were started or failed meanwhile. */
static void compact(struct bf *b, struct xpu_engine *e)
{
	size_t k = 0;
	for (size_t i = 0; i < b->nq; i++) {
		const struct xpu_task *t = xpu_task_at(e, b->q[i]);
		if (b->queued[t->index] && t->state == XPU_TASK_READY && t->unit < 0)
			b->q[k++] = b->q[i];
		else
			b->queued[t->index] = 0;
	}
	b->nq = k;
	b->stale = 0;
}

/* ---------------------------------------------------------------- profiles */

/* Cores in use on unit u at time x by running jobs and reservations (other than
 * skip); intervals are [start, end). */
static int used_at(struct bf *b, struct xpu_engine *e, int u, double x, uint32_t skip)
{
	int used = 0;
	double now = xpu_now(e);
	for (size_t i = 0; i < b->nrun; i++) {
		const struct xpu_task *t = xpu_task_at(e, b->run[i]);
		/* a job past its estimate holds its cores until it ends: assume an instant */
		double end = b->end[t->index] > now ? b->end[t->index] : now + 1e-9;
		if (t->unit == u && x < end)
			used += (int)t->width;
	}
	if (b->mode != BF_CONSERVATIVE)
		return used;
	for (size_t i = 0; i < b->nq; i++) {
		uint32_t j = b->q[i];
		const struct xpu_task *t = xpu_task_at(e, j);
		if (j == skip || isnan(b->rs[j]) || b->ru[j] != u)
			continue;
		if (x >= b->rs[j] && x < b->rs[j] + runtime(e, t, u))
			used += (int)t->width;
	}
	return used;
}

/* 1 when width cores are free on u throughout [x, x + d). Usage only rises at
 * interval starts, so x and every reservation start inside the window are checked. */
static int window_free(struct bf *b, struct xpu_engine *e, int u, double x, double d, int width,
                       uint32_t skip)
{
	int cap = xpu_unit_at(e, u)->cores - width;
	if (used_at(b, e, u, x, skip) > cap)
		return 0;
	if (b->mode != BF_CONSERVATIVE)
		return 1;
	for (size_t i = 0; i < b->nq; i++) {
		uint32_t j = b->q[i];
		if (j == skip || isnan(b->rs[j]) || b->ru[j] != u)
			continue;
		if (b->rs[j] > x && b->rs[j] < x + d && used_at(b, e, u, b->rs[j], skip) > cap)
			return 0;
	}
	return 1;
}

static int cmp_end(const void *a, const void *b)
{
	const struct bf_end *x = a, *y = b;
	return x->at < y->at ? -1 : x->at > y->at;
}

/* Without reservations (fcfs, easy) the cores free on u only grow with time, so the
 * earliest start of a job of `width` cores is the first running job's end, in order of
 * ends, by which enough cores are free: a sort of the running jobs, not a scan of
 * them per candidate time. */
static double earliest_by_ends(struct bf *b, struct xpu_engine *e, int u, int width)
{
	double now = xpu_now(e);
	int avail = b->free_cores[u];
	if (avail >= width)
		return now;
	if (b->ecap < b->nrun) {
		struct bf_end *n = realloc(b->ends, b->nrun * sizeof(*n));
		if (!n)
			return INFINITY;
		b->ends = n;
		b->ecap = b->nrun;
	}
	size_t k = 0;
	for (size_t i = 0; i < b->nrun; i++) {
		const struct xpu_task *r = xpu_task_at(e, b->run[i]);
		if (r->unit != u)
			continue;
		double x = b->end[r->index] > now ? b->end[r->index] : now + 1e-9;
		b->ends[k++] = (struct bf_end){x, (int)r->width};
	}
	qsort(b->ends, k, sizeof(*b->ends), cmp_end);
	for (size_t i = 0; i < k; i++) {
		avail += b->ends[i].width;
		/* jobs ending at one instant free their cores together */
		if (avail >= width && (i + 1 == k || b->ends[i + 1].at > b->ends[i].at))
			return b->ends[i].at;
	}
	return INFINITY;
}

/* Earliest start of t on u at or after now: now or the end of a running job or of a
 * reservation. INFINITY if u cannot run t. */
static double earliest(struct bf *b, struct xpu_engine *e, const struct xpu_task *t, int u)
{
	if (!xpu_can_run(e, t, u))
		return INFINITY;
	if (b->mode != BF_CONSERVATIVE)
		return earliest_by_ends(b, e, u, (int)t->width);
	double now = xpu_now(e), d = runtime(e, t, u), best = INFINITY;
	if (window_free(b, e, u, now, d, (int)t->width, t->index))
		return now;
	for (size_t i = 0; i < b->nrun; i++) {
		const struct xpu_task *r = xpu_task_at(e, b->run[i]);
		double x = b->end[r->index] > now ? b->end[r->index] : now + 1e-9;
		if (r->unit == u && x < best && window_free(b, e, u, x, d, (int)t->width, t->index))
			best = x;
	}
	for (size_t i = 0; b->mode == BF_CONSERVATIVE && i < b->nq; i++) {
		uint32_t j = b->q[i];
		if (j == t->index || isnan(b->rs[j]) || b->ru[j] != u)
			continue;
		double x = b->rs[j] + runtime(e, xpu_task_at(e, j), u);
		if (x > now && x < best && window_free(b, e, u, x, d, (int)t->width, t->index))
			best = x;
	}
	return best;
}

/* ---------------------------------------------------------------- disciplines */

static void run_fcfs(struct bf *b, struct xpu_engine *e)
{
	size_t i = 0;
	while (i < b->nq) {
		const struct xpu_task *t = xpu_task_at(e, b->q[i]);
		if (!b->queued[t->index]) { /* started or failed meanwhile */
			i++;
			continue;
		}
		int u = fits_now(b, e, t);
		if (u < 0)
			break;
		start(b, e, t, u);
		if (b->queued[t->index])
			break; /* could not start (no memory): try at the next event */
		i++;
	}
	if (i) {
		memmove(b->q, b->q + i, (b->nq - i) * sizeof(*b->q));
		b->nq -= i;
	}
}

static void run_easy(struct bf *b, struct xpu_engine *e)
{
	run_fcfs(b, e);
	if (!b->nq)
		return;
	const struct xpu_task *head = xpu_task_at(e, b->q[0]);
	int ru = -1;
	double shadow = INFINITY, now = xpu_now(e);
	for (int u = 0; u < xpu_nunits(e); u++) {
		double x = earliest(b, e, head, u);
		if (x < shadow) {
			shadow = x;
			ru = u;
		}
	}
	if (ru < 0)
		return;
	note_reservation(e, head, shadow);
	/* cores of ru the head leaves spare at its shadow time */
	int extra =
	    xpu_unit_at(e, ru)->cores - used_at(b, e, ru, shadow, head->index) - (int)head->width;
	for (size_t i = 1; i < b->nq && b->free_total > 0; i++) {
		const struct xpu_task *t = xpu_task_at(e, b->q[i]);
		if ((long)t->width > b->free_total)
			continue;
		int best = -1;
		double bd = INFINITY;
		for (int u = 0; u < xpu_nunits(e); u++) {
			if (b->free_cores[u] < (int)t->width || !xpu_can_run(e, t, u))
				continue;
			if (u == ru && now + runtime(e, t, u) > shadow && (int)t->width > extra)
				continue;
			double d = xpu_predict(e, t, u);
			if (best < 0 || d < bd) {
				best = u;
				bd = d;
			}
		}
		if (best < 0)
			continue;
		if (best == ru && now + runtime(e, t, best) > shadow)
			extra -= (int)t->width;
		start(b, e, t, best);
	}
	compact(b, e);
}

static void run_conservative(struct bf *b, struct xpu_engine *e)
{
	double now = xpu_now(e);
	for (size_t i = 0; i < b->nq; i++) {
		uint32_t j = b->q[i];
		const struct xpu_task *t = xpu_task_at(e, j);
		double old = b->rs[j];
		b->rs[j] = NAN; /* out of the profile while it looks for a slot */
		int bu = -1;
		double bs = INFINITY;
		for (int u = 0; u < xpu_nunits(e); u++) {
			double x = earliest(b, e, t, u);
			if (x < bs) {
				bs = x;
				bu = u;
			}
		}
		if (bu < 0) {
			b->rs[j] = old;
			continue;
		}
		b->rs[j] = bs;
		b->ru[j] = bu;
		note_reservation(e, t, bs);
		if (bs <= now && b->free_cores[bu] >= (int)t->width) {
			b->rs[j] = NAN;
			start(b, e, t, bu);
		}
	}
	compact(b, e);
}

static void decide(struct xpu_sched *s)
{
	struct bf *b = s->priv;
	if (b->busy)
		return;
	b->busy = 1;
	if (b->stale)
		compact(b, s->eng);
	switch (b->mode) {
	case BF_FCFS:
		run_fcfs(b, s->eng);
		break;
	case BF_EASY:
		run_easy(b, s->eng);
		break;
	case BF_CONSERVATIVE:
		run_conservative(b, s->eng);
		break;
	}
	b->busy = 0;
}

void bf_on_ready(struct xpu_sched *s, const struct xpu_task *t)
{
	struct bf *b = s->priv;
	if (t->unit >= 0 || grow(&b->q, &b->qcap, b->nq))
		return;
	b->q[b->nq++] = t->index;
	b->queued[t->index] = 1;
	decide(s);
}

void bf_on_done(struct xpu_sched *s, const struct xpu_task *t)
{
	struct bf *b = s->priv;
	for (size_t i = 0; i < b->nrun; i++)
		if (b->run[i] == t->index) {
			b->free_cores[t->unit] += (int)t->width;
			b->free_total += (int)t->width;
			b->run[i] = b->run[--b->nrun];
			break;
		}
	if (b->queued[t->index])
		b->stale = 1; /* it failed while waiting: drop it at the next decision */
	b->queued[t->index] = 0;
	decide(s);
}

const struct xpu_task *bf_pick(struct xpu_sched *s, const struct xpu_unit *u)
{
	(void)u;
	decide(s);
	return NULL;
}

void bf_on_tick(struct xpu_sched *s, double now)
{
	(void)now;
	decide(s);
}
