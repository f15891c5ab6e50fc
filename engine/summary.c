/* summary.c — the run's summary metrics and the growable timeline of change points. */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "results.h"

/* ------------------------------------------------------------------ timeline */

/* Grow one column to cap rows. The old block stays valid when realloc fails, so a
 * failed add leaves the timeline as it was. */
static int grow(void **a, size_t cap, size_t elem)
{
	if (cap > SIZE_MAX / elem)
		return -ENOMEM;
	void *p = realloc(*a, cap * elem);
	if (!p)
		return -ENOMEM;
	*a = p;
	return 0;
}

int xpu_timeline_add(struct xpu_timeline *tl, double t, int unit, double power, int pstate,
                     double util, double mem, double frag)
{
	if (tl->n == tl->cap) {
		size_t cap = tl->cap ? tl->cap * 2 : 256;
		if (cap < tl->cap)
			return -ENOMEM;
		/* cap is committed only once every column has grown. */
		if (grow((void **)&tl->t, cap, sizeof(double)) ||
		    grow((void **)&tl->unit, cap, sizeof(int32_t)) ||
		    grow((void **)&tl->power, cap, sizeof(double)) ||
		    grow((void **)&tl->pstate, cap, sizeof(int32_t)) ||
		    grow((void **)&tl->util, cap, sizeof(double)) ||
		    grow((void **)&tl->mem, cap, sizeof(double)) ||
		    grow((void **)&tl->frag, cap, sizeof(double)))
			return -ENOMEM;
		tl->cap = cap;
	}
	size_t k = tl->n++;
	tl->t[k] = t;
	tl->unit[k] = unit;
	tl->power[k] = power;
	tl->pstate[k] = pstate;
	tl->util[k] = util;
	tl->mem[k] = mem;
	tl->frag[k] = frag;
	return 0;
}

void xpu_timeline_free(struct xpu_timeline *tl)
{
	free(tl->t);
	free(tl->unit);
	free(tl->power);
	free(tl->pstate);
	free(tl->util);
	free(tl->mem);
	free(tl->frag);
	free(tl->temp);
	tl->t = tl->power = tl->util = tl->mem = tl->frag = tl->temp = NULL;
	tl->unit = tl->pstate = NULL;
	tl->n = tl->cap = 0;
}

/* ------------------------------------------------------------------ summary */

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static void put(struct xpu_summary *s, const char *key, double v)
{
	if (s->n < XPU_MAX_METRICS)
		s->m[s->n++] = (struct xpu_metric){key, v};
}

/* Nearest-rank percentile (the smallest value with at least p percent of the sample at
 * or below it): rank ceil(p/100 * n), 1-based, on the sorted sample. */
static double nearest_rank(const double *sorted, size_t n, double p)
{
	if (!n)
		return 0;
	size_t rank = (size_t)ceil(p / 100.0 * (double)n);
	if (rank < 1)
		rank = 1;
	if (rank > n)
		rank = n;
	return sorted[rank - 1];
}

/* The definitions are the contract documented in experiments/RESULTS.md; keep the two
 * together. One pass over the tasks plus one sort of the waits: O(n log n). */
void xpu_summary_compute(const struct xpu_workload *w, const struct xpu_platform *pf,
                         const struct xpu_unit_stats *us, double link_energy_j, double peak_power_w,
                         struct xpu_summary *s)
{
	uint32_t ntasks = w ? w->ntasks : 0;
	int nunits = pf ? pf->nunits : 0;
	double first_submit = INFINITY, last_end = -INFINITY;
	double sum_wait = 0, sum_flow = 0, sum_slow = 0, bytes = 0;
	uint64_t done = 0, nslow = 0, misses = 0;
	/* One slot per done task at most; when it cannot be had, p99 reads NaN rather
	 * than the whole summary failing. */
	double *waits = ntasks ? malloc(ntasks * sizeof(double)) : NULL;

	for (uint32_t i = 0; i < ntasks; i++) {
		const struct xpu_task *t = &w->tasks[i];

		if (t->submit < first_submit)
			first_submit = t->submit;
		bytes += t->bytes_in;
		/* A failed task ends too (when it fails); one that never started may
		 * carry no end time, which the isfinite test skips. */
		if ((t->state == XPU_TASK_DONE || t->state == XPU_TASK_FAILED) &&
		    isfinite(t->end_t) && t->end_t > last_end)
			last_end = t->end_t;
		if (t->state != XPU_TASK_DONE) {
			/* It can no longer meet a deadline it had. */
			if (isfinite(t->deadline))
				misses++;
			continue;
		}
		double wait = t->start_t - t->ready_t;
		double flow = t->end_t - t->submit;
		double run = t->end_t - t->start_t;

		if (waits)
			waits[done] = wait;
		done++;
		sum_wait += wait;
		sum_flow += flow;
		if (run > 0) {
			sum_slow += flow / run;
			nslow++;
		}
		if (t->end_t > t->deadline)
			misses++;
	}

	double makespan = 0;
	if (last_end > -INFINITY && last_end > first_submit)
		makespan = last_end - first_submit;

	double p99 = 0;
	if (done && waits) {
		qsort(waits, done, sizeof(double), cmp_double);
		p99 = nearest_rank(waits, done, 99);
	} else if (done) {
		p99 = NAN;
	}
	free(waits);

	double energy = link_energy_j, busy = 0, cores = 0, failures = 0, down = 0, lost = 0;
	double launch_failures = 0, moved = 0;
	for (int u = 0; u < nunits; u++) {
		if (us) {
			energy += us[u].energy_j;
			busy += us[u].busy_s;
			failures += (double)us[u].failures;
			launch_failures += (double)us[u].launch_failures;
			moved += (double)us[u].moved_on;
			down += us[u].down_s;
			lost += us[u].lost_s;
		}
		cores += pf->units[u].cores;
	}
	double frag = 0, tmax = NAN, over = 0;
	for (int u = 0; us && u < nunits; u++) {
		if (us[u].peak_frag > frag)
			frag = us[u].peak_frag;
		if (us[u].max_temp_c > tmax || (isnan(tmax) && !isnan(us[u].max_temp_c)))
			tmax = us[u].max_temp_c;
		over += us[u].over_limit_s;
	}
	double reexec = 0, mem_wait = 0, in_wait = 0;
	for (uint32_t i = 0; i < ntasks; i++) {
		reexec += w->tasks[i].attempts > 1;
		mem_wait += w->tasks[i].mem_wait_s;
		in_wait += w->tasks[i].in_wait_s;
	}
	/* evictions per memory: units sharing one report its counts once */
	double evictions = 0, writebacks = 0;
	uint8_t *seen = us && pf->npools > 0 ? calloc((size_t)pf->npools, 1) : NULL;
	for (int u = 0; seen && u < nunits; u++) {
		int p = pf->units[u].mem_pool;
		if (p < 0 || p >= pf->npools || seen[p])
			continue;
		seen[p] = 1;
		evictions += (double)us[u].evictions;
		writebacks += (double)us[u].writebacks;
	}
	free(seen);
	double util = makespan > 0 && cores > 0 ? busy / (makespan * cores) : 0;

	s->n = 0;
	put(s, "makespan_s", makespan);
	put(s, "energy_j", energy);
	put(s, "edp_js", energy * makespan);
	put(s, "tasks_total", ntasks);
	put(s, "tasks_done", (double)done);
	put(s, "tasks_failed", (double)(ntasks - done));
	put(s, "mean_wait_s", done ? sum_wait / (double)done : 0);
	put(s, "p99_wait_s", p99);
	put(s, "mean_flow_s", done ? sum_flow / (double)done : 0);
	put(s, "mean_slowdown", nslow ? sum_slow / (double)nslow : 0);
	put(s, "deadline_misses", (double)misses);
	put(s, "bytes_transferred", bytes);
	/* The foundation runs every task locally; the key stays so that files from
	 * later releases with remote zones compare against these. */
	put(s, "offloaded", 0);
	put(s, "link_energy_j", link_energy_j);
	put(s, "mean_utilisation", util);
	/* Simulated unit failures (0 without them): failures, unit-seconds down, core-
	 * seconds of work lost, tasks that ran more than once. */
	put(s, "unit_failures", failures);
	put(s, "unavailability_s", down);
	put(s, "lost_work_s", lost);
	put(s, "tasks_reexecuted", reexec);
	/* Live fallback (0 without --fallback): launches that failed, tasks moved on. */
	put(s, "launch_failures", launch_failures);
	put(s, "tasks_moved", moved);
	/* the worst fragmentation of any memory (the memory policy's allocator) */
	put(s, "peak_fragmentation", frag);
	/* power: the peak of all units' summed power, and of the largest domain's (the
	 * units on one memory: a SoC's xpu.soc.budget applies to it) */
	double dom = 0;
	for (int u = 0; us && u < nunits; u++)
		if (us[u].domain_peak_w > dom)
			dom = us[u].domain_peak_w;
	put(s, "peak_power_w", peak_power_w);
	put(s, "peak_domain_power_w", dom);
	/* data leaving full memories (the only valid copy written back home first), and
	 * the task-seconds spent at a queue's head waiting for memory, then for inputs */
	put(s, "evictions", evictions);
	put(s, "writebacks", writebacks);
	put(s, "mem_wait_s", mem_wait);
	put(s, "input_wait_s", in_wait);
	/* thermal nodes (xpu.thermal.*): the hottest any unit got (NaN without any), and
	 * the unit-seconds spent above a limit */
	put(s, "max_temp_c", tmax);
	put(s, "time_over_limit_s", over);
}

double xpu_summary_get(const struct xpu_summary *s, const char *key)
{
	for (int i = 0; i < s->n; i++)
		if (s->m[i].key && !strcmp(s->m[i].key, key))
			return s->m[i].value;
	return NAN;
}
