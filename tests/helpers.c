/* helpers.c — shared test helpers: paths, forked runs, the contract checks. */
#include <criterion/criterion.h>
#include <hdf5.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "helpers.h"
#include "platform.h"

const char *xt_src(const char *rel)
{
	static char buf[8][4096];
	static int k;
	char *b = buf[k++ % 8];
	snprintf(b, sizeof(buf[0]), "%s/%s", XPU_SRCDIR, rel);
	return b;
}

const char *xt_xpuopt(void)
{
	const char *p = getenv("XPUOPT");
	return p && p[0] ? p : XPU_BUILDDIR "/xpuopt";
}

const char *xt_tmpdir(void)
{
	static char dir[64];
	strcpy(dir, "/tmp/xpuopt-test-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	return dir;
}

int xt_cmd(char *out, size_t n, const char *fmt, ...)
{
	char cmd[8192];
	int k = snprintf(cmd, sizeof(cmd), "%s ", xt_xpuopt());
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cmd + k, sizeof(cmd) - (size_t)k, fmt, ap);
	va_end(ap);
	FILE *p = popen(cmd, "r");
	cr_assert_not_null(p, "popen %s", cmd);
	size_t got = 0;
	char tmp[4096];
	size_t r;
	while ((r = fread(tmp, 1, sizeof(tmp), p)) > 0)
		if (out && got + r < n) {
			memcpy(out + got, tmp, r);
			got += r;
		}
	if (out)
		out[got] = '\0';
	int st = pclose(p);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

int xt_run_forked(const struct xpu_run_opts *o, const char *h5)
{
	fflush(NULL);
	pid_t pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0) {
		struct xpu_run_opts c = *o;
		struct xpu_err err = {{0}};
		c.output = h5;
		int rc = xpu_run(&c, NULL, &err);
		if (rc)
			fprintf(stderr, "child run: %s\n", err.msg);
		_exit(rc ? 100 + (-rc % 100) : 0);
	}
	int st;
	waitpid(pid, &st, 0);
	cr_assert(WIFEXITED(st), "child crashed");
	return WEXITSTATUS(st);
}

size_t xt_read_column(const char *h5, const char *name, double **out)
{
	hid_t f = H5Fopen(h5, H5F_ACC_RDONLY, H5P_DEFAULT);
	cr_assert(f >= 0, "open %s", h5);
	char path[256];
	snprintf(path, sizeof(path), "/tasks/%s", name);
	hid_t d = H5Dopen2(f, path, H5P_DEFAULT);
	cr_assert(d >= 0, "dataset %s", path);
	hid_t sp = H5Dget_space(d);
	hsize_t n = 0;
	H5Sget_simple_extent_dims(sp, &n, NULL);
	*out = calloc(n + 1, sizeof(double));
	cr_assert(H5Dread(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, *out) >= 0);
	H5Sclose(sp);
	H5Dclose(d);
	H5Fclose(f);
	return (size_t)n;
}

struct ev {
	double t;
	int delta;
	double mem;
};

static int ev_cmp(const void *a, const void *b)
{
	const struct ev *x = a, *y = b;
	if (x->t != y->t)
		return x->t < y->t ? -1 : 1;
	return x->delta - y->delta; /* ends before starts at one instant */
}

void xt_check_contract(const struct xpu_run_result *r)
{
	const struct xpu_platform *pf = &r->pf;
	const struct xpu_workload *w = r->w;
	const double eps = 1e-9;
	uint64_t ran = 0;
	for (int u = 0; u < pf->nunits; u++)
		ran += r->us[u].tasks;
	cr_assert_eq(ran, w->ntasks, "tasks launched %lu != %u", (unsigned long)ran, w->ntasks);
	for (uint32_t i = 0; i < w->ntasks; i++) {
		const struct xpu_task *t = &w->tasks[i];
		cr_assert_eq(t->state, XPU_TASK_DONE, "task %s not done", t->id);
		cr_assert(t->unit >= 0 && t->unit < pf->nunits);
		const struct xpu_unit *un = &pf->units[t->unit];
		cr_assert(!un->has_class_props || un->cls[t->cls].supported,
		          "task %s of class %s on unit %s that cannot run it", t->id,
		          xpu_class_name(t->cls), un->name);
		cr_assert(t->start_t >= t->submit - eps, "task %s starts before submit", t->id);
		cr_assert(t->end_t >= t->start_t);
		for (uint32_t d = 0; d < t->ndeps; d++) {
			const struct xpu_task *p = &w->tasks[t->deps[d].task];
			double need = p->end_t;
			if (t->deps[d].bytes > 0 && pf->units[p->unit].mem_pool != un->mem_pool) {
				/* straight from the producer's memory, or, when there is no
				 * route, through another (home, after an eviction's
				 * write-back): later still */
				double lat, bw;
				if (xpu_platform_route(pf, p->unit, t->unit, &lat, &bw))
					need += lat + t->deps[d].bytes / bw;
			}
			cr_assert(t->start_t >= need - 1e-6 * (1 + fabs(need)),
			          "task %s starts at %.9g before its input from %s (%.9g)", t->id,
			          t->start_t, p->id, need);
		}
	}
	/* Sweep per unit (cores) and per pool (memory). */
	struct ev *evs = malloc(2 * (w->ntasks + 1) * sizeof(*evs));
	for (int u = 0; u < pf->nunits; u++) {
		size_t n = 0;
		for (uint32_t i = 0; i < w->ntasks; i++)
			if (w->tasks[i].unit == u) {
				int wd = (int)w->tasks[i].width;
				evs[n++] = (struct ev){w->tasks[i].start_t, +wd, 0};
				evs[n++] = (struct ev){w->tasks[i].end_t, -wd, 0};
			}
		qsort(evs, n, sizeof(*evs), ev_cmp);
		int run = 0;
		for (size_t k = 0; k < n; k++) {
			run += evs[k].delta;
			cr_assert(run <= pf->units[u].cores, "unit %s runs %d tasks on %d cores",
			          pf->units[u].name, run, pf->units[u].cores);
		}
	}
	for (int p = 0; p < pf->npools; p++) {
		if (pf->pools[p].capacity <= 0)
			continue;
		size_t n = 0;
		for (uint32_t i = 0; i < w->ntasks; i++) {
			const struct xpu_task *t = &w->tasks[i];
			if (pf->units[t->unit].mem_pool == p && t->mem > 0) {
				evs[n++] = (struct ev){t->start_t, +1, t->mem};
				evs[n++] = (struct ev){t->end_t, -1, t->mem};
			}
		}
		qsort(evs, n, sizeof(*evs), ev_cmp);
		double used = 0;
		for (size_t k = 0; k < n; k++) {
			used += evs[k].delta * evs[k].mem;
			cr_assert(used <= pf->pools[p].capacity + 1,
			          "pool %s overcommitted: %.0f > %.0f", pf->pools[p].name, used,
			          pf->pools[p].capacity);
		}
	}
	free(evs);
}

void xt_write_dag_trace(const char *path, int ntasks, unsigned seed)
{
	static const char *const cls[] = {"gemm", "conv", "attention", "fft", "video", "generic"};
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f);
	fprintf(f, "id,submit,class,flops,bytes,mem,deps,priority,deadline\n");
	srand(seed);
	for (int i = 0; i < ntasks; i++) {
		double submit = (i / 20) * 0.5;
		fprintf(f, "t%d,%.3f,%s,%.6g,%.6g,%.6g,", i, submit, cls[rand() % 6],
		        1e9 * (1 + rand() % 50), 1e6 * (rand() % 64), 1e6 * (1 + rand() % 900));
		int nd = (i % 20) ? rand() % 3 : 0; /* the first of each wave is a root */
		int prev = -1;
		for (int d = 0; d < nd; d++) {
			int p = i - 1 - rand() % (i % 20);
			if (p == prev)
				continue;
			fprintf(f, "%st%d:%d", prev >= 0 ? ";" : "", p, 1000000 * (rand() % 8));
			prev = p;
		}
		fprintf(f, ",%d,%s\n", rand() % 3, (rand() % 4) ? "" : "30");
	}
	fclose(f);
}

/* The documented lifecycle (engine/xpu.h), written out here independently of the engine's
 * table: from -> allowed next states. */
static int legal_step(int from, int to)
{
	static const int edges[][2] = {
	    {XPU_TASK_PENDING, XPU_TASK_SUBMITTED},   {XPU_TASK_SUBMITTED, XPU_TASK_READY},
	    {XPU_TASK_SUBMITTED, XPU_TASK_PLACED},    {XPU_TASK_READY, XPU_TASK_PLACED},
	    {XPU_TASK_PLACED, XPU_TASK_STAGING},      {XPU_TASK_STAGING, XPU_TASK_PLACED},
	    {XPU_TASK_PLACED, XPU_TASK_WAITING_MEM},  {XPU_TASK_PLACED, XPU_TASK_RUNNING},
	    {XPU_TASK_WAITING_MEM, XPU_TASK_RUNNING}, {XPU_TASK_RUNNING, XPU_TASK_DONE},
	    {XPU_TASK_STAGING, XPU_TASK_WAITING_MEM}, /* its turn came, memory full */
	    {XPU_TASK_WAITING_MEM, XPU_TASK_STAGING}, /* memory granted, inputs move */
	    {XPU_TASK_RUNNING, XPU_TASK_READY},       /* retried elsewhere */
	    {XPU_TASK_RUNNING, XPU_TASK_PLACED},      /* a unit failure: waits for the repair */
	};
	if (to == XPU_TASK_FAILED)
		return from != XPU_TASK_DONE && from != XPU_TASK_FAILED;
	for (size_t i = 0; i < sizeof(edges) / sizeof(edges[0]); i++)
		if (edges[i][0] == from && edges[i][1] == to)
			return 1;
	return 0;
}

void xt_observe(void *ctx, const struct xpu_task *t, int from, int to, double now)
{
	struct xt_states *s = ctx;
	(void)now;
	if (t->index >= s->n) {
		uint32_t n = t->index + 1 > 2 * s->n ? t->index + 1 : 2 * s->n;
		signed char *l = realloc(s->last, n);
		if (!l)
			abort();
		memset(l + s->n, -1, n - s->n);
		s->last = l;
		s->n = n;
	}
	s->changes++;
	int expect_from = s->last[t->index] < 0 ? XPU_TASK_PENDING : s->last[t->index];
	if (!s->bad[0] && (from != expect_from || !legal_step(from, to)))
		snprintf(s->bad, sizeof(s->bad), "task %s: %s -> %s (last seen %s)", t->id,
		         xpu_task_state_name(from), xpu_task_state_name(to),
		         xpu_task_state_name(expect_from));
	s->last[t->index] = (signed char)to;
}

void xt_check_states(struct xt_states *s, const struct xpu_workload *w)
{
	cr_assert_str_empty(s->bad, "illegal state change: %s", s->bad);
	for (uint32_t i = 0; i < w->ntasks; i++) {
		int last = i < s->n ? s->last[i] : -1;
		cr_assert(last == XPU_TASK_DONE || last == XPU_TASK_FAILED,
		          "task %s ended in state %s", w->tasks[i].id, xpu_task_state_name(last));
	}
	free(s->last);
	s->last = NULL;
	s->n = 0;
}

const char *xt_write_file(const char *name, const char *text)
{
	static char path[4][512];
	static int k;
	k = (k + 1) % 4;
	snprintf(path[k], sizeof(path[k]), "%s/%s", xt_tmpdir(), name);
	FILE *f = fopen(path[k], "w");
	cr_assert_not_null(f);
	fputs(text, f);
	fclose(f);
	return path[k];
}

/* CPU seconds the whole machine has spent busy (all CPUs, /proc/stat), and this process
 * with its waited-for children (getrusage): their difference over an interval is other
 * work's. */
void xt_cpu_seconds(double *machine, double *ours)
{
	*machine = *ours = 0;
	FILE *f = fopen("/proc/stat", "r");
	if (f) {
		unsigned long long v[8] = {0};
		if (fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2],
		           &v[3], &v[4], &v[5], &v[6], &v[7]) == 8)
			*machine = (double)(v[0] + v[1] + v[2] + v[5] + v[6] + v[7]) /
			           (double)sysconf(_SC_CLK_TCK);
		fclose(f);
	}
	struct rusage a, b;
	getrusage(RUSAGE_SELF, &a);
	getrusage(RUSAGE_CHILDREN, &b);
	*ours = a.ru_utime.tv_sec + a.ru_stime.tv_sec + b.ru_utime.tv_sec + b.ru_stime.tv_sec +
	        1e-6 * (a.ru_utime.tv_usec + a.ru_stime.tv_usec + b.ru_utime.tv_usec +
	                b.ru_stime.tv_usec);
}

double xt_wall(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

/* The machine's speed now: seconds for a fixed 64 x 64 x 64 double multiply repeated
 * 40 times (about 10 ms), the fastest of three. On a shared virtual machine the cores'
 * speed changes by 30% or more for seconds at a time as neighbours come and go, which
 * /proc/stat does not show; probes taken between an attempt's steps do. */
double xt_speed_probe(void)
{
	enum { N = 64 };
	static double a[N * N], b[N * N], c[N * N];
	for (int i = 0; i < N * N; i++) {
		a[i] = 1.0 + (i % 7) * 0.125;
		b[i] = 1.0 - (i % 5) * 0.0625;
	}
	double best = INFINITY;
	for (int r = 0; r < 3; r++) {
		struct timespec t0, t1;
		clock_gettime(CLOCK_MONOTONIC, &t0);
		for (int rep = 0; rep < 40; rep++)
			for (int i = 0; i < N; i++)
				for (int k = 0; k < N; k++) {
					double x = a[i * N + k];
					for (int j = 0; j < N; j++)
						c[i * N + j] += x * b[k * N + j];
				}
		clock_gettime(CLOCK_MONOTONIC, &t1);
		double s = (t1.tv_sec - t0.tv_sec) + 1e-9 * (t1.tv_nsec - t0.tv_nsec);
		if (s < best)
			best = s;
	}
	/* keep the work: a sum the compiler cannot drop */
	volatile double sink = c[0] + c[N * N - 1];
	(void)sink;
	return best;
}

double xt_spread(const double *v, int n)
{
	double lo = INFINITY, hi = 0;
	for (int i = 0; i < n; i++) {
		lo = fmin(lo, v[i]);
		hi = fmax(hi, v[i]);
	}
	return n ? (hi - lo) / lo : 0;
}
