/* test_live.c — the live host-CPU backend, driven directly through its ops. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* sched_getaffinity */
#endif
#include <criterion/criterion.h>
#include <sched.h>
#include <hdf5.h>
#include <errno.h>
#include <math.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "backend.h"
#include "run.h"
#include "helpers.h"
#include "platform.h"
#include "xpu.h"

/* What a test body saw inside run(), checked once run has returned. */
struct lcpu_ctx {
	struct xpu_backend *be;
	double speed;
	int n;
	const char *powercap; /* fake powercap root, for the RAPL test */
	/* results */
	int rc[8];
	int nev;
	struct xpu_event ev[64];
	double t[8];
	double j[8];
	int modeled[8];
};

static int lcpu_open(struct xpu_backend *be, struct xpu_platform *pf, const struct xpu_param *p,
                     int np, struct xpu_err *err)
{
	memset(be, 0, sizeof(*be));
	be->ops = &xpu_backend_cpu;
	be->param = p;
	be->nparams = np;
	return be->ops->open(be, NULL, pf, err);
}

/* Wait for one event; fails the test rather than hanging when none comes in 10 s. */
static int lcpu_wait1(struct xpu_backend *be, struct xpu_event *ev)
{
	return be->ops->wait(be, be->ops->now(be) + 10.0, ev, 1);
}

Test(live_cpu, discovers_units_with_calibrated_speed)
{
	struct xpu_backend be;
	struct xpu_platform pf;
	struct xpu_err err = {""};

	cr_assert_eq(lcpu_open(&be, &pf, NULL, 0, &err), 0, "%s", err.msg);
	cr_expect_str_eq(pf.path, "live:cpu");
	cr_assert_geq(pf.nunits, 1);
	cr_expect_leq(pf.nunits, sysconf(_SC_NPROCESSORS_ONLN));
	for (int i = 0; i < pf.nunits; i++) {
		char name[32];
		snprintf(name, sizeof(name), "cpu%d", i);
		cr_expect_str_eq(pf.units[i].name, name);
		cr_expect_eq(pf.units[i].index, i);
		cr_expect_eq(pf.units[i].kind, XPU_KIND_CPU);
		cr_expect_eq(pf.units[i].cores, 1);
		cr_expect_eq(pf.units[i].npstates, 1);
		cr_expect_gt(pf.units[i].pstates[0].speed, 0);
		cr_expect_eq(pf.units[i].pstates[0].speed, pf.units[0].pstates[0].speed);
		cr_expect_eq(pf.units[i].mem_pool, 0);
		cr_expect(pf.units[i].has_class_props, "each class at its kernel's rate");
	}
	cr_expect_eq(pf.npools, 1);
	cr_expect_str_eq(pf.pools[0].name, "host");
	cr_expect_gt(pf.pools[0].capacity, 0);
	for (int i = 0; i < pf.nunits; i++) {
		double lat, bw;
		cr_expect(xpu_platform_route(&pf, 0, i, &lat, &bw) == 1 && lat == 0,
		          "one host memory: no copy");
	}
	be.ops->close(&be);
	xpu_platform_free(&pf);
}

static void lcpu_one_launch(void *arg)
{
	struct lcpu_ctx *x = arg;
	struct xpu_backend *be = x->be;
	/* 20 ms of work at the calibrated rate */
	struct xpu_launch l = {.unit = 0, .cookie = 42, .flops = 0.02 * x->speed};

	x->t[0] = be->ops->now(be);
	x->rc[0] = be->ops->launch(be, &l);
	x->nev = lcpu_wait1(be, &x->ev[0]);
}

Test(live_cpu, launch_takes_about_its_predicted_time)
{
	struct xpu_backend be;
	struct xpu_platform pf;
	struct xpu_err err = {""};
	struct lcpu_ctx x = {.be = &be};

	cr_assert_eq(lcpu_open(&be, &pf, NULL, 0, &err), 0, "%s", err.msg);
	x.speed = pf.units[0].pstates[0].speed;
	cr_assert_eq(be.ops->run(&be, lcpu_one_launch, &x), 0);
	cr_assert_eq(x.rc[0], 0);
	cr_assert_eq(x.nev, 1);
	cr_expect_eq(x.ev[0].type, XPU_EV_DONE);
	cr_expect_eq(x.ev[0].cookie, 42);
	cr_expect_eq(x.ev[0].status, 0);
	/* Loose on purpose: timing is for benchmarks, this only catches a wrong scale. */
	double took = x.ev[0].time - x.t[0];
	cr_expect(took > 0.2 * 0.02 && took < 20 * 0.02, "took %g s for 0.02 s of work", took);
	be.ops->close(&be);
	xpu_platform_free(&pf);
}

static void lcpu_all_units(void *arg)
{
	struct lcpu_ctx *x = arg;
	struct xpu_backend *be = x->be;

	for (int u = 0; u < x->n; u++) {
		struct xpu_launch l = {.unit = u, .cookie = 100 + u, .flops = 0.002 * x->speed};
		x->rc[0] |= be->ops->launch(be, &l);
	}
	/* a task with only a duration */
	struct xpu_launch l = {.unit = 0, .cookie = 99, .seconds = 0.002};
	x->rc[0] |= be->ops->launch(be, &l);
	while (x->nev < x->n + 1) {
		int got = be->ops->wait(be, be->ops->now(be) + 10.0, &x->ev[x->nev], 2);
		if (got <= 0)
			break;
		x->nev += got;
	}
	x->t[1] = be->ops->now(be);
	/* nothing more may arrive */
	x->rc[1] = be->ops->wait(be, be->ops->now(be) + 0.02, &x->ev[x->nev], 1);
}

Test(live_cpu, each_launch_completes_exactly_once)
{
	struct xpu_backend be;
	struct xpu_platform pf;
	struct xpu_err err = {""};
	struct xpu_param p[] = {{"threads", "4"}};
	struct lcpu_ctx x = {.be = &be, .n = 4};
	int seen[5] = {0};

	cr_assert_eq(lcpu_open(&be, &pf, p, 1, &err), 0, "%s", err.msg);
	cr_assert_eq(pf.nunits, 4);
	x.speed = pf.units[0].pstates[0].speed;
	cr_assert_eq(be.ops->run(&be, lcpu_all_units, &x), 0);
	cr_assert_eq(x.rc[0], 0);
	cr_assert_eq(x.nev, 5);
	cr_expect_eq(x.rc[1], 0);
	for (int i = 0; i < x.nev; i++) {
		cr_expect_eq(x.ev[i].type, XPU_EV_DONE);
		cr_expect_eq(x.ev[i].status, 0);
		/* measured on the worker: after the launches, before the collection */
		cr_expect(x.ev[i].time > 0 && x.ev[i].time <= x.t[1], "event time %g, end %g",
		          x.ev[i].time, x.t[1]);
		cr_expect(x.ev[i].flags & XPU_EV_TIMED);
		cr_expect(x.ev[i].start >= 0 && x.ev[i].start < x.ev[i].time);
		int k = x.ev[i].cookie == 99 ? 4 : (int)x.ev[i].cookie - 100;
		cr_assert(k >= 0 && k < 5, "unexpected cookie %llu",
		          (unsigned long long)x.ev[i].cookie);
		seen[k]++;
	}
	for (int k = 0; k < 5; k++)
		cr_expect_eq(seen[k], 1);
	be.ops->close(&be);
	xpu_platform_free(&pf);
}

static void lcpu_idle_wait(void *arg)
{
	struct lcpu_ctx *x = arg;
	struct xpu_backend *be = x->be;

	x->t[0] = be->ops->now(be);
	x->rc[0] = be->ops->wait(be, x->t[0] + 0.05, x->ev, 4);
	x->t[1] = be->ops->now(be);
	/* without a limit and nothing in flight, waiting could never end */
	x->rc[1] = be->ops->wait(be, INFINITY, x->ev, 4);
}

Test(live_cpu, wait_times_out_when_idle)
{
	struct xpu_backend be;
	struct xpu_platform pf;
	struct xpu_err err = {""};
	struct xpu_param p[] = {{"threads", "2"}};
	struct lcpu_ctx x = {.be = &be};

	cr_assert_eq(lcpu_open(&be, &pf, p, 1, &err), 0, "%s", err.msg);
	cr_assert_eq(be.ops->run(&be, lcpu_idle_wait, &x), 0);
	cr_expect_eq(x.rc[0], 0);
	cr_expect(x.t[1] - x.t[0] >= 0.05 && x.t[1] - x.t[0] < 1.0, "waited %g s", x.t[1] - x.t[0]);
	cr_expect_eq(x.rc[1], -EDEADLK);
	be.ops->close(&be);
	xpu_platform_free(&pf);
}

static void lcpu_transfer(void *arg)
{
	struct lcpu_ctx *x = arg;
	struct xpu_backend *be = x->be;

	x->t[0] = be->ops->now(be);
	struct xpu_copy c = {.cookie = 7, .bytes = 1e9, .src_unit = 0, .dst_unit = x->n - 1};
	x->rc[0] = be->ops->copy(be, &c);
	x->nev = be->ops->wait(be, x->t[0] + 1.0, x->ev, 4);
	x->rc[1] = be->ops->set_pstate(be, 0, 0);
	x->rc[2] = be->ops->set_pstate(be, 0, 1);
	x->rc[3] = be->ops->read_link_energy(be, &x->j[0]);
}

Test(live_cpu, transfer_completes_at_once)
{
	struct xpu_backend be;
	struct xpu_platform pf;
	struct xpu_err err = {""};
	struct xpu_param p[] = {{"threads", "2"}};
	struct lcpu_ctx x = {.be = &be, .n = 2};

	cr_assert_eq(lcpu_open(&be, &pf, p, 1, &err), 0, "%s", err.msg);
	cr_assert_eq(be.ops->run(&be, lcpu_transfer, &x), 0);
	cr_assert_eq(x.rc[0], 0);
	cr_assert_eq(x.nev, 1);
	cr_expect_eq(x.ev[0].type, XPU_EV_COPY);
	cr_expect_eq(x.ev[0].cookie, 7);
	cr_expect_eq(x.ev[0].status, 0);
	cr_expect_lt(x.ev[0].time - x.t[0], 0.1);
	cr_expect_eq(x.rc[1], 0);
	cr_expect_eq(x.rc[2], -EINVAL);
	cr_expect_eq(x.rc[3], 0);
	cr_expect_eq(x.j[0], 0);
	be.ops->close(&be);
	xpu_platform_free(&pf);
}

static void lcpu_energy(void *arg)
{
	struct lcpu_ctx *x = arg;
	struct xpu_backend *be = x->be;
	struct xpu_launch l = {.unit = 0, .cookie = 1, .flops = 0.02 * x->speed};

	x->rc[0] = be->ops->read_energy(be, 0, &x->j[0], &x->modeled[0]);
	x->rc[1] = be->ops->launch(be, &l);
	x->nev = lcpu_wait1(be, x->ev);
	x->rc[2] = be->ops->read_energy(be, 0, &x->j[1], &x->modeled[1]);
	x->rc[3] = be->ops->read_energy(be, 0, &x->j[2], &x->modeled[2]);
	x->t[0] = be->ops->now(be);
}

Test(live_cpu, energy_grows_with_work)
{
	struct xpu_backend be;
	struct xpu_platform pf;
	struct xpu_err err = {""};
	struct xpu_param p[] = {{"threads", "1"}, {"idle_w", "2"}, {"full_w", "12"}};
	struct lcpu_ctx x = {.be = &be};

	cr_assert_eq(lcpu_open(&be, &pf, p, 3, &err), 0, "%s", err.msg);
	cr_expect_eq(pf.units[0].pstates[0].idle_w, 2);
	cr_expect_eq(pf.units[0].pstates[0].full_w, 12);
	x.speed = pf.units[0].pstates[0].speed;
	cr_assert_eq(be.ops->run(&be, lcpu_energy, &x), 0);
	for (int i = 0; i < 4; i++)
		cr_assert_eq(x.rc[i], 0);
	cr_assert_eq(x.nev, 1);
	cr_expect_geq(x.j[0], 0);
	cr_expect_gt(x.j[1], 0);
	cr_expect_geq(x.j[1], x.j[0]);
	cr_expect_geq(x.j[2], x.j[1]);
	if (x.modeled[1]) {
		/* idle all along plus the dynamic part over at least the task's run */
		cr_expect_geq(x.j[2], 2 * x.ev[0].time);
		cr_expect_leq(x.j[2], 12 * x.t[0] + 1e-9);
	}
	/* after run, the figures stay where the run ended */
	double after;
	int modeled;
	cr_expect_eq(be.ops->read_energy(&be, 0, &after, &modeled), 0);
	cr_expect_geq(after, x.j[2]);
	cr_expect_eq(be.ops->read_energy(&be, 0, &x.j[3], &modeled), 0);
	cr_expect_eq(x.j[3], after);
	be.ops->close(&be);
	xpu_platform_free(&pf);
}

/* A fake powercap tree stands in for the root-only RAPL counters. */
static void lcpu_put(const char *dir, const char *file, const char *val)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/intel-rapl:0/%s", dir, file);
	f = fopen(path, "w");
	cr_assert_not_null(f, "%s", path);
	fputs(val, f);
	fclose(f);
}

static void lcpu_rapl(void *arg)
{
	struct lcpu_ctx *x = arg;
	struct xpu_backend *be = x->be;
	struct xpu_launch l = {.unit = 0, .cookie = 1, .flops = 0.005 * x->speed};

	x->rc[0] = be->ops->launch(be, &l);
	x->nev = lcpu_wait1(be, x->ev);
	/* the counter wrapped: 1.0 J to the end of its range, then 0.5 J */
	lcpu_put(x->powercap, "energy_uj", "500000\n");
	x->rc[1] = be->ops->read_energy(be, 0, &x->j[0], &x->modeled[0]);
	x->rc[2] = be->ops->read_energy(be, 1, &x->j[1], &x->modeled[1]);
}

Test(live_cpu, rapl_energy_goes_to_the_busy_unit)
{
	char dir[] = "/tmp/xpu_rapl_XXXXXX", sub[600];
	struct xpu_backend be;
	struct xpu_platform pf;
	struct xpu_err err = {""};
	struct lcpu_ctx x = {.be = &be, .powercap = dir};

	cr_assert_not_null(mkdtemp(dir));
	snprintf(sub, sizeof(sub), "%s/intel-rapl:0", dir);
	cr_assert_eq(mkdir(sub, 0700), 0);
	lcpu_put(dir, "energy_uj", "1000000\n");
	lcpu_put(dir, "max_energy_range_uj", "2000000\n");

	struct xpu_param p[] = {{"threads", "2"}, {"powercap", dir}};
	cr_assert_eq(lcpu_open(&be, &pf, p, 2, &err), 0, "%s", err.msg);
	x.speed = pf.units[0].pstates[0].speed;
	cr_assert_eq(be.ops->run(&be, lcpu_rapl, &x), 0);
	cr_assert_eq(x.rc[0], 0);
	cr_assert_eq(x.nev, 1);
	cr_expect_eq(x.rc[1], 0);
	cr_expect_eq(x.rc[2], 0);
	cr_expect_eq(x.modeled[0], 0);
	cr_expect_eq(x.modeled[1], 0);
	/* unit 1 never ran, so the package's 1.5 J all went to unit 0 */
	cr_expect_float_eq(x.j[0], 1.5, 1e-9);
	cr_expect_eq(x.j[1], 0);
	be.ops->close(&be);
	xpu_platform_free(&pf);

	snprintf(sub, sizeof(sub), "%s/intel-rapl:0/energy_uj", dir);
	unlink(sub);
	snprintf(sub, sizeof(sub), "%s/intel-rapl:0/max_energy_range_uj", dir);
	unlink(sub);
	snprintf(sub, sizeof(sub), "%s/intel-rapl:0", dir);
	rmdir(sub);
	rmdir(dir);
}

Test(live_cpu, refuses_a_platform_file)
{
	struct xpu_backend be = {.ops = &xpu_backend_cpu};
	struct xpu_platform pf;
	struct xpu_err err = {""};

	cr_expect_eq(be.ops->open(&be, "platforms/default.xml", &pf, &err), -EINVAL);
	cr_expect(strstr(err.msg, "live mode describes this machine itself"), "%s", err.msg);
	cr_expect_null(be.priv);
}

Test(live_cpu, rejects_bad_parameters)
{
	static const struct xpu_param bad[][2] = {
	    {{"threads", "0"}},     {{"threads", "abc"}},
	    {{"threads", "1.5"}},   {{"idle_w", "5"}, {"full_w", "3"}},
	    {{"idle_w", "-1"}},     {{"treads", "2"}},
	    {{"stream_mib", "-1"}}, {{"stream_mib", "1.5"}},
	};
	static const int nbad[] = {1, 1, 1, 2, 1, 1, 1, 1};

	for (size_t i = 0; i < sizeof(nbad) / sizeof(nbad[0]); i++) {
		struct xpu_backend be;
		struct xpu_platform pf;
		struct xpu_err err = {""};

		cr_expect_eq(lcpu_open(&be, &pf, bad[i], nbad[i], &err), -EINVAL, "case %zu", i);
		cr_expect_neq(err.msg[0], '\0', "case %zu", i);
		cr_expect_null(be.priv);
	}
}

/* The same engine and policies, live: a small DAG on two CPU threads passes the same
 * contract checks as a simulated run, and the result file says mode=live. */
Test(live_cpu, engine_run_passes_the_contract)
{
	const char *dir = xt_tmpdir();
	char trace[256], out[256];
	snprintf(trace, sizeof(trace), "%s/live.csv", dir);
	snprintf(out, sizeof(out), "%s/live.h5", dir);
	FILE *f = fopen(trace, "w");
	cr_assert_not_null(f);
	fprintf(f, "id,submit,class,flops,deps,mem\n");
	for (int i = 0; i < 24; i++) {
		fprintf(f, "t%d,%.3f,%s,%d,", i, (i / 8) * 0.002, i % 2 ? "gemm" : "generic",
		        2000000 + 100000 * i);
		if (i >= 8)
			fprintf(f, "t%d:4096", i - 8);
		if (i >= 8 && i % 8 < 7)
			fprintf(f, ";t%d:1024", i - 7);
		fprintf(f, ",1000000\n");
	}
	fclose(f);
	static const char *const scheds[] = {"fifo", "round-robin", "least-loaded", "heft"};
	struct xpu_param threads = {"threads", "2"};
	for (int k = 0; k < 4; k++) {
		struct xpu_run_opts o = {
		    .trace = trace,
		    .sched = scheds[k],
		    .live = 1,
		    .backend_params = &threads,
		    .nbackend_params = 1,
		    .output = out,
		};
		struct xpu_run_result res;
		struct xpu_err err = {{0}};
		cr_assert_eq(xpu_run(&o, &res, &err), 0, "%s: %s", scheds[k], err.msg);
		cr_assert_eq(res.pf.nunits, 2);
		xt_check_contract(&res);
		cr_assert(!strcmp(res.energy_source, "modeled") ||
		          !strcmp(res.energy_source, "rapl"));
		xpu_run_result_free(&res);
	}
	char buf[4096];
	cr_assert_eq(xt_cmd(buf, sizeof(buf), "summary %s", out), 0);
	cr_assert_not_null(strstr(buf, "tasks_done 24\n"), "%s", buf);
	char cmd[512];
	snprintf(cmd, sizeof(cmd), "h5dump -a /run/mode %s", out);
	FILE *p = popen(cmd, "r");
	cr_assert_not_null(p);
	size_t n = fread(buf, 1, sizeof(buf) - 1, p);
	buf[n] = '\0';
	pclose(p);
	cr_assert_not_null(strstr(buf, "\"live\""), "/run mode: %s", buf);
}

/* A live unit of several cores (--backend cpu:cores=N): a task of width w runs as w
 * parts on w of its workers and ends once with its last part; the engine never puts
 * more than N cores' worth on the unit. As in simulation (test_wide.c), five width-4
 * tasks on a 16-core unit: four run at once and the fifth waits. (The unit's 16 workers
 * share this machine's CPUs, so durations are not checked here: only what overlaps.) */
Test(live_cpu, wide_tasks_run_on_several_workers_of_one_unit)
{
	const char *dir = xt_tmpdir();
	char trace[256];
	snprintf(trace, sizeof(trace), "%s/wide.csv", dir);
	FILE *f = fopen(trace, "w");
	cr_assert_not_null(f);
	fprintf(f, "id,flops,width\n");
	for (int i = 0; i < 5; i++)
		fprintf(f, "w%d,4e7,4\n", i);
	fprintf(f, "n0,1e7,1\nn1,1e7,1\n");
	fclose(f);
	struct xpu_run_opts o = {
	    .trace = trace, .sched = "fifo", .backend = "cpu:threads=16,cores=16", .quiet = 1};
	struct xpu_run_result res;
	struct xpu_err err = {{0}};
	cr_assert_eq(xpu_run(&o, &res, &err), 0, "%s", err.msg);
	cr_assert_eq(res.pf.nunits, 1);
	cr_assert_eq(res.pf.units[0].cores, 16);
	xt_check_contract(&res); /* never more than 16 cores' worth at once */
	const struct xpu_task *t = res.w->tasks;
	int started_first = 0;
	double first_end = INFINITY;
	for (int i = 0; i < 4; i++)
		first_end = fmin(first_end, t[i].end_t);
	for (int i = 0; i < 5; i++)
		started_first += t[i].start_t < first_end;
	/* Starts are measured (the first part's): on a machine with fewer CPUs than the
	 * unit's 16 workers, a launched task may begin after another ended. */
	cr_expect_leq(started_first, 4, "four width-4 tasks fill the 16 cores, the fifth waits");
	cr_expect_geq(t[4].start_t, first_end);
	for (int i = 0; i < 7; i++)
		cr_expect(t[i].end_t > t[i].start_t, "%s ran", t[i].id);
	xpu_run_result_free(&res);

	char buf[4096];
	cr_expect_eq(xt_cmd(buf, sizeof(buf), "run --backend cpu:threads=4,cores=3 -q 2>&1"), 2);
	cr_expect_not_null(strstr(buf, "parameter 'cores': expected a whole divisor of threads"),
	                   "%s", buf);
}

/* The workers grouped by unit count (--backend cpu:units=U): U units of threads/U
 * workers each; with cores also given, threads is units x cores. Groupings that do not
 * add up are refused, naming the parameters. */
Test(live_cpu, units_group_the_workers)
{
	static const struct {
		const char *spec;
		int nunits, cores;
	} ok[] = {
	    {"cpu:threads=4,units=2", 2, 2}, /* one unit per core group */
	    {"cpu:threads=4,units=1", 1, 4}, {"cpu:threads=3,units=3", 3, 1},
	    {"cpu:units=2,cores=3", 2, 3},   {"cpu:threads=6,units=3,cores=2", 3, 2},
	};
	const char *trace = xt_write_file("units.csv", "id,flops,width\na,1e6,1\nb,1e6,1\n");
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		struct xpu_run_opts o = {
		    .trace = trace, .sched = "fifo", .backend = ok[i].spec, .quiet = 1};
		struct xpu_run_result res;
		struct xpu_err err = {{0}};
		cr_assert_eq(xpu_run(&o, &res, &err), 0, "%s: %s", ok[i].spec, err.msg);
		cr_expect_eq(res.pf.nunits, ok[i].nunits, "%s", ok[i].spec);
		for (int u = 0; u < res.pf.nunits; u++)
			cr_expect_eq(res.pf.units[u].cores, ok[i].cores, "%s", ok[i].spec);
		xt_check_contract(&res);
		xpu_run_result_free(&res);
	}
	static const struct {
		const char *spec, *msg;
	} bad[] = {
	    {"cpu:threads=4,units=3", "parameter 'units': expected a whole divisor of threads (4)"},
	    {"cpu:threads=5,units=2,cores=3",
	     "parameters 'units' (2) x 'cores' (3): expected threads (5)"},
	    {"cpu:units=4096,cores=2", "expected at most 4096 workers"},
	    {"cpu:units=0", "parameter 'units'"},
	    {"cpu:units=1.5", "parameter 'units'"},
	};
	char cmd[256], buf[4096];
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(cmd, sizeof(cmd), "run --backend %s -o - -q 2>&1", bad[i].spec);
		cr_expect_eq(xt_cmd(buf, sizeof(buf), cmd), 2, "%s: %s", bad[i].spec, buf);
		cr_expect_not_null(strstr(buf, bad[i].msg), "%s: %s", bad[i].spec, buf);
	}
}

/* A governor on the live machine: the run completes, and /run says which controls the
 * machine lets it apply. Without writable cpufreq (this VM, CI) P-states are
 * "unsupported", with the reason. */
Test(live_cpu, a_governor_run_reports_its_unsupported_controls)
{
	const char *dir = xt_tmpdir();
	char trace[256], out[256];
	snprintf(trace, sizeof(trace), "%s/gov.csv", dir);
	snprintf(out, sizeof(out), "%s/gov.h5", dir);
	FILE *f = fopen(trace, "w");
	cr_assert_not_null(f);
	fprintf(f, "id,class,flops\na,generic,2e7\nb,generic,2e7\n");
	fclose(f);
	struct xpu_param threads = {"threads", "1"};
	struct xpu_run_opts o = {.trace = trace,
	                         .sched = "fifo",
	                         .power = "schedutil",
	                         .live = 1,
	                         .backend_params = &threads,
	                         .nbackend_params = 1,
	                         .output = out};
	cr_assert_eq(xt_run_forked(&o, out), 0);
	hid_t h = H5Fopen(out, H5F_ACC_RDONLY, H5P_DEFAULT);
	cr_assert_geq(h, 0);
	hid_t a = H5Aopen_by_name(h, "/run", "controls", H5P_DEFAULT, H5P_DEFAULT);
	cr_assert_geq(a, 0, "/run controls");
	hid_t t = H5Tcopy(H5T_C_S1);
	H5Tset_size(t, H5T_VARIABLE);
	H5Tset_cset(t, H5T_CSET_UTF8);
	char *v = NULL;
	cr_assert_geq(H5Aread(a, t, &v), 0);
	if (access("/sys/devices/system/cpu/cpu0/cpufreq", F_OK) != 0)
		cr_assert_not_null(strstr(v, "pstate=unsupported (no cpufreq on this machine)"),
		                   "%s", v);
	else if (access("/sys/devices/system/cpu/cpu0/cpufreq/scaling_max_freq", W_OK) != 0)
		cr_assert_not_null(strstr(v, "pstate=unsupported (cpufreq not writable"), "%s", v);
	cr_assert_not_null(strstr(v, "power_limit="), "%s", v);
	cr_assert_not_null(strstr(v, "temperature="), "%s", v);
	H5free_memory(v);
	H5Tclose(t);
	H5Aclose(a);
	H5Fclose(h);
}

/* One attempt: calibrate, run the DAG live three times, calibrate again, simulate the
 * DAG on both calibrated platforms, with a speed probe before and after each step. The
 * simulated (mean of the two) and live (median) makespans, the live runs' spread, the
 * two calibrations' disagreement, the probes' spread (the machine's own speed over the
 * attempt), and the cores' worth of other processes' work meanwhile. */
struct attempt {
	double sim_s, live_s, spread, cal_spread, probe_spread, other;
};

static double simulate_on(const char *cal, const char *trace, const char *h5)
{
	char out[4096];
	struct xpu_run_opts sim = {.platform = cal, .trace = trace, .sched = "fifo", .quiet = 1};
	cr_assert_eq(xt_run_forked(&sim, h5), 0);
	cr_assert_eq(xt_cmd(out, sizeof(out), "summary %s", h5), 0);
	const char *m = strstr(out, "makespan_s ");
	cr_assert_not_null(m, "%s", out);
	return strtod(m + 11, NULL);
}

static void calibrate_attempt(const char *trace, struct attempt *a)
{
	const char *d = xt_tmpdir();
	char cal[2][512], h5[512], out[4096];
	double probe[8];
	int np = 0;
	snprintf(cal[0], sizeof(cal[0]), "%s/cal0.xml", d);
	snprintf(cal[1], sizeof(cal[1]), "%s/cal1.xml", d);
	snprintf(h5, sizeof(h5), "%s/sim.h5", d);
	double m0, o0, w0 = xt_wall();
	xt_cpu_seconds(&m0, &o0);
	probe[np++] = xt_speed_probe();
	cr_assert_eq(xt_cmd(out, sizeof(out), "calibrate --threads 1 -o %s", cal[0]), 0, "%s", out);
	probe[np++] = xt_speed_probe();
	struct xpu_param threads = {"threads", "1"};
	struct xpu_run_opts live = {.trace = trace,
	                            .sched = "fifo",
	                            .live = 1,
	                            .quiet = 1,
	                            .backend_params = &threads,
	                            .nbackend_params = 1};
	/* one untimed run first: the first live run in a process pays for its page faults
	 * and the core's clock ramp (measured: 0.86, 0.75, 0.65 s in a row, then steady) */
	double lv[4];
	for (int k = -1; k < 3; k++) {
		struct xpu_run_result res;
		struct xpu_err err = {{0}};
		cr_assert_eq(xpu_run(&live, &res, &err), 0, "%s", err.msg);
		lv[k < 0 ? 3 : k] = xpu_summary_get(&res.summary, "makespan_s");
		xpu_run_result_free(&res);
		if (k >= 0)
			probe[np++] = xt_speed_probe();
	}
	cr_assert_eq(xt_cmd(out, sizeof(out), "calibrate --threads 1 -o %s", cal[1]), 0, "%s", out);
	probe[np++] = xt_speed_probe();
	/* what every calibration states: a launch latency per class and the memory's
	 * bandwidth (streamed llm-decode weights) */
	char *text = NULL;
	size_t tlen = 0;
	FILE *cf = fopen(cal[1], "r");
	cr_assert_not_null(cf);
	cr_assert_eq(getdelim(&text, &tlen, '\0', cf) > 0, 1);
	fclose(cf);
	cr_expect(strstr(text, "<prop id=\"xpu.launch.gemm\" value=\""), "%s", text);
	cr_expect(strstr(text, "Steadiness: the replays of one measurement came out at most"), "%s",
	          text);
	const char *bw = strstr(text, "<prop id=\"xpu.mem.bw\" value=\"");
	cr_expect(bw && strtod(bw + 29, NULL) > 1e8, "a memory bandwidth over 0.1 GB/s: %s",
	          bw ? bw : text);
	free(text);
	double lo = fmin(lv[0], fmin(lv[1], lv[2])), hi = fmax(lv[0], fmax(lv[1], lv[2]));
	a->live_s = lv[0] + lv[1] + lv[2] - lo - hi;
	a->spread = (hi - lo) / a->live_s;
	double plo = INFINITY, phi = 0;
	for (int i = 0; i < np; i++) {
		plo = fmin(plo, probe[i]);
		phi = fmax(phi, probe[i]);
	}
	a->probe_spread = (phi - plo) / plo;
	double m1, o1;
	xt_cpu_seconds(&m1, &o1);
	a->other = ((m1 - m0) - (o1 - o0)) / (xt_wall() - w0);
	double s0 = simulate_on(cal[0], trace, h5), s1 = simulate_on(cal[1], trace, h5);
	a->sim_s = 0.5 * (s0 + s1);
	a->cal_spread = fabs(s0 - s1) / a->sim_s;
	cr_log_info("live runs: %.4f, %.4f, %.4f s; simulated on the two calibrations: %.4f, "
	            "%.4f s; speed probes %.2f to %.2f ms",
	            lv[0], lv[1], lv[2], s0, s1, 1e3 * plo, 1e3 * phi);
}

/* issue 13: after `xpuopt calibrate`, a 2,000-task mixed-class DAG simulated on the
 * written platform predicts the live run's makespan on this machine within 5% (target
 * 3%), the error reported. One worker thread: the run is sequential, so the prediction
 * is the sum of the tasks' times. A fidelity check needs a quiet machine: an attempt
 * counts only when other processes used under a quarter of a core meanwhile, the three
 * live runs agree within 5% among themselves, two calibrations, before and after them,
 * predict within 3% of each other, and a fixed compute probe taken before and after
 * every step ran at one speed within 5% (a virtual machine's neighbours do not show in
 * /proc/stat, but they slow the probe). Even so a neighbour can slow both calibrations
 * and spare the live runs between them (CI saw +15.6% once, probes not yet taken), so
 * an error over the bound is confirmed by a second quiet attempt before the test fails;
 * a quiet attempt within it passes. Up to four attempts; when none decides (CI's
 * parallel tests, a noisy shared VM) the test skips, saying so, with the figures.
 * .ci/run repeats it alone after the suite. */
Test(live_cpu, calibrate_predicts_a_live_dag, .timeout = 480)
{
	char trace[512];
	snprintf(trace, sizeof(trace), "%s/dag.csv", xt_tmpdir());
	static const char *const cls[] = {"gemm", "conv", "attention", "fft", "video", "generic"};
	FILE *f = fopen(trace, "w");
	cr_assert_not_null(f);
	fprintf(f, "id,class,flops,deps\n");
	srand(13);
	for (int i = 0; i < 2000; i++) { /* 2 to 20 kernel repetitions, up to two deps */
		fprintf(f, "t%d,%s,%.17g,", i, cls[rand() % 6], (2 + rand() % 19) * 221184.0);
		int p0 = -1;
		if (i > 0)
			fprintf(f, "t%d", p0 = i - 1 - rand() % (i < 10 ? i : 10));
		if (i > 1 && rand() % 2) {
			int p = i - 1 - rand() % (i < 10 ? i : 10);
			if (p != p0)
				fprintf(f, ";t%d", p);
		}
		fprintf(f, "\n");
	}
	fclose(f);
	struct attempt a = {0};
	double over = 0; /* the error of a quiet attempt over the bound, awaiting confirmation */
	for (int k = 0; k < 4; k++) {
		calibrate_attempt(trace, &a);
		double error = (a.sim_s - a.live_s) / a.live_s;
		int quiet = a.other < 0.25 && a.spread < 0.05 && a.cal_spread < 0.03 &&
		            a.probe_spread < 0.05;
		cr_log_info("attempt %d: simulated %.4f s against %.4f s live (median of 3, spread "
		            "%.1f%%; calibrations %.1f%% apart; probes %.1f%% apart): error "
		            "%+.2f%% (other work meanwhile: %.2f cores)%s",
		            k + 1, a.sim_s, a.live_s, 100 * a.spread, 100 * a.cal_spread,
		            100 * a.probe_spread, 100 * error, a.other, quiet ? " [quiet]" : "");
		if (!quiet)
			continue;
		if (fabs(error) < 0.05)
			return;
		if (over != 0) {
			cr_expect(fabs(error) < 0.05,
			          "simulated %.4f s, live %.4f s: error %+.2f%%, and %+.2f%% in an "
			          "earlier quiet attempt (target 3%%, bound 5%%)",
			          a.sim_s, a.live_s, 100 * error, 100 * over);
			return;
		}
		over = error;
	}
	if (over != 0)
		cr_skip_test(
		    "one quiet attempt gave an error of %+.1f%%, over the 5%% bound, and no "
		    "second quiet attempt confirmed or refuted it (last: other work %.2f "
		    "cores, live runs spread %.1f%%, calibrations %.1f%% apart, probes "
		    "%.1f%% apart)",
		    100 * over, a.other, 100 * a.spread, 100 * a.cal_spread, 100 * a.probe_spread);
	cr_skip_test("no quiet moment to measure fidelity in four attempts (last: other work "
	             "%.2f cores, live runs spread %.1f%%, calibrations %.1f%% apart, probes "
	             "%.1f%% apart, error %+.1f%%)",
	             a.other, 100 * a.spread, 100 * a.cal_spread, 100 * a.probe_spread,
	             100 * (a.sim_s - a.live_s) / a.live_s);
}

/* issue 13: energy live is measured where the machine exposes it, else modeled, and
 * labelled per unit (/units/energy_source) as well as for the run. */
Test(live_cpu, energy_source_labelled_per_unit)
{
	char h5[512], out[4096];
	snprintf(h5, sizeof(h5), "%s/e.h5", xt_tmpdir());
	const char *t = xt_write_file("e.csv", "id,flops\na,1e6\nb,1e6\nc,1e6\n");
	cr_assert_eq(xt_cmd(out, sizeof(out), "run --live --threads 2 --trace %s -o %s -q", t, h5),
	             0);
	hid_t f = H5Fopen(h5, H5F_ACC_RDONLY, H5P_DEFAULT);
	cr_assert_geq(f, 0);
	hid_t d = H5Dopen2(f, "/units/energy_source", H5P_DEFAULT);
	cr_assert_geq(d, 0);
	hid_t ty = H5Tcopy(H5T_C_S1);
	H5Tset_size(ty, H5T_VARIABLE);
	H5Tset_cset(ty, H5T_CSET_UTF8);
	char *v[2] = {NULL, NULL};
	cr_assert_geq(H5Dread(d, ty, H5S_ALL, H5S_ALL, H5P_DEFAULT, v), 0);
	for (int i = 0; i < 2; i++)
		cr_expect(v[i] && (!strcmp(v[i], "modeled") || !strcmp(v[i], "rapl")), "%s",
		          v[i] ? v[i] : "(null)");
	hid_t sp = H5Dget_space(d);
	H5Dvlen_reclaim(ty, sp, H5P_DEFAULT, v);
	H5Sclose(sp);
	H5Tclose(ty);
	H5Dclose(d);
	H5Fclose(f);
}

/* issue 13, fast dispatch: 20,000 empty and short tasks on two one-core units go through
 * the workers' rings with launch-ahead. Every task runs once; on each unit the tasks'
 * measured [start, end] never overlap (a unit runs one at a time, the ones queued ahead
 * wait on its worker); a queued task's wait is counted. With ahead=0 the same run
 * queues nothing beyond the running task. */
static int by_start(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static void dispatch_run(const char *trace, const char *backend, struct xpu_run_result *res)
{
	struct xpu_run_opts o = {.trace = trace, .sched = "fifo", .backend = backend, .quiet = 1};
	struct xpu_err err = {{0}};
	cr_assert_eq(xpu_run(&o, res, &err), 0, "%s", err.msg);
	xt_check_contract(res);
	const struct xpu_workload *w = res->w;
	cr_assert_eq(res->pf.nunits, 2);
	/* per unit, in order of start: each begins after the one before ended */
	for (int u = 0; u < 2; u++) {
		double last_end = -1;
		uint32_t n = 0;
		double *s = malloc(sizeof(double) * 2 * w->ntasks);
		cr_assert_not_null(s);
		for (uint32_t i = 0; i < w->ntasks; i++) {
			cr_assert_eq(w->tasks[i].state, XPU_TASK_DONE, "%s", w->tasks[i].id);
			if (w->tasks[i].unit == u) {
				s[2 * n] = w->tasks[i].start_t;
				s[2 * n + 1] = w->tasks[i].end_t;
				n++;
			}
		}
		qsort(s, n, 2 * sizeof(double), by_start);
		for (uint32_t k = 0; k < n; k++) {
			cr_assert(s[2 * k] >= last_end,
			          "unit %d: a task starts at %.9f before %.9f", u, s[2 * k],
			          last_end);
			cr_assert(s[2 * k + 1] >= s[2 * k]);
			last_end = s[2 * k + 1];
		}
		free(s);
	}
}

Test(live_cpu, fast_dispatch_runs_every_task_once_in_order_per_unit, .timeout = 120)
{
	char trace[512];
	snprintf(trace, sizeof(trace), "%s/many.csv", xt_tmpdir());
	FILE *f = fopen(trace, "w");
	cr_assert_not_null(f);
	fprintf(f, "id,flops,deps\n");
	for (int i = 0; i < 20000; i++) { /* empty, one or three repetitions; some chains */
		double flops = i % 3 == 0 ? 0 : (i % 3) * 221184.0;
		fprintf(f, "t%d,%.17g,", i, flops);
		if (i % 7 == 0 && i > 0)
			fprintf(f, "t%d", i - 1);
		fprintf(f, "\n");
	}
	fclose(f);
	struct xpu_run_result res;
	dispatch_run(trace, "cpu:threads=2", &res);
	cr_expect_eq(res.pf.units[0].slots, 65, "one running and 64 ahead by default");
	double waited = 0;
	for (uint32_t i = 0; i < res.w->ntasks; i++)
		waited += res.w->tasks[i].in_wait_s;
	cr_expect_gt(waited, 0, "tasks queued ahead wait on their worker");
	xpu_run_result_free(&res);

	dispatch_run(trace, "cpu:threads=2,ahead=0", &res);
	cr_expect_eq(res.pf.units[0].slots, 0, "ahead=0: no launch-ahead");
	xpu_run_result_free(&res);

	char buf[4096];
	cr_expect_eq(xt_cmd(buf, sizeof(buf), "run --backend cpu:ahead=1.5 -q 2>&1"), 2);
	cr_expect_not_null(strstr(buf, "parameter 'ahead': expected a whole number"), "%s", buf);
	cr_expect_eq(xt_cmd(buf, sizeof(buf), "run --backend cpu:ahead_s=-1 -q 2>&1"), 2);
	cr_expect_not_null(strstr(buf, "ahead_s"), "%s", buf);
}

/* issue 13, real kernels: every class's kernel of the cpu backend matches a plain
 * reference on its unit problem (gemm, llm-prefill through OpenBLAS against a triple
 * loop; conv against a direct convolution; attention row by row; decode's GEMV; the FFT
 * against the DFT's definition; the stencil; the DCT-II's definition; the generic
 * tile). The backend states each class at its kernel's measured rate. */
Test(live_cpu, every_class_kernel_matches_its_reference)
{
	struct xpu_err err = {""};
	cr_assert_eq(xpu_cpu_selftest(&err), 0, "%s", err.msg);

	struct xpu_backend be;
	struct xpu_platform pf;
	struct xpu_param p[] = {{"threads", "1"}};
	cr_assert_eq(lcpu_open(&be, &pf, p, 1, &err), 0, "%s", err.msg);
	cr_assert(pf.units[0].has_class_props);
	for (int k = 0; k < XPU_CLASS_COUNT; k++) {
		cr_expect(pf.units[0].cls[k].supported);
		cr_expect_gt(pf.units[0].cls[k].peak, 1e6, "%s: %g flop/s", xpu_class_name(k),
		             pf.units[0].cls[k].peak);
	}
	cr_expect_eq(pf.units[0].cls[XPU_CLASS_GENERIC].peak, pf.units[0].pstates[0].speed);
	be.ops->close(&be);
	xpu_platform_free(&pf);
}

/* A live run of every class, whole and fractional repetitions: each task runs, for
 * about the time its flops take at its class's rate (loose: a scale check, not timing). */
Test(live_cpu, every_class_runs_its_flops, .timeout = 120)
{
	char trace[512];
	snprintf(trace, sizeof(trace), "%s/classes.csv", xt_tmpdir());
	FILE *f = fopen(trace, "w");
	cr_assert_not_null(f);
	fprintf(f, "id,class,flops\n");
	for (int k = 0; k < XPU_CLASS_COUNT; k++)
		for (int i = 0; i < 3; i++) /* 1.5, 40 and 123.4 Mflop */
			fprintf(f, "%s%d,%s,%g\n", xpu_class_name(k), i, xpu_class_name(k),
			        i == 0   ? 1.5e6
			        : i == 1 ? 4e7
			                 : 1.234e8);
	fclose(f);
	struct xpu_param threads = {"threads", "1"};
	struct xpu_run_opts o = {.trace = trace,
	                         .sched = "fifo",
	                         .live = 1,
	                         .quiet = 1,
	                         .backend_params = &threads,
	                         .nbackend_params = 1};
	struct xpu_run_result res;
	struct xpu_err err = {{0}};
	cr_assert_eq(xpu_run(&o, &res, &err), 0, "%s", err.msg);
	xt_check_contract(&res);
	for (uint32_t i = 0; i < res.w->ntasks; i++) {
		const struct xpu_task *t = &res.w->tasks[i];
		double want = t->flops / res.pf.units[0].cls[t->cls].peak;
		double took = t->end_t - t->start_t;
		cr_expect_eq(t->state, XPU_TASK_DONE, "%s", t->id);
		cr_expect(took > 0.1 * want && took < 10 * want + 0.05,
		          "%s: %g s for %g flop at %g flop/s (%g s)", t->id, took, t->flops,
		          res.pf.units[0].cls[t->cls].peak, want);
	}
	xpu_run_result_free(&res);
}

/* llm-decode and llm-prefill tasks that carry bytes stream a weight of that size from
 * memory (hw/cpu_kernels.h): with the same flops, a decode over a 128 MB weight takes
 * several times one over 8 MB (16 times the bytes: a scale check, not timing), and a
 * prefill's tokens come from its flops over its bytes. With stream_mib=0 the bytes are
 * ignored and the class's own problem runs. */
Test(live_cpu, llm_tasks_stream_their_bytes, .timeout = 120)
{
	double rows, tokens;
	xpu_cpu_stream_shape(1e6, 8e6, &rows, &tokens);
	cr_assert_eq(rows, 977, "ceil(8e6 / 8 KiB) rows");
	cr_assert_eq(tokens, 1, "a decode under bytes / 4 flop: one vector");
	xpu_cpu_stream_shape(2e9, 64e6, &rows, &tokens);
	cr_assert_eq(tokens, 125, "2e9 / (2 x 7813 x 1024) tokens, rounded");

	/* three of each size, alternating: the fastest of each is compared, so that a
	 * task another process delayed does not decide (CI runs tests side by side) */
	const char *trace = xt_write_file("stream.csv", "id,class,flops,bytes\n"
	                                                "warm,llm-decode,1e6,8e6\n"
	                                                "small,llm-decode,1e6,8e6\n"
	                                                "big,llm-decode,1e6,128e6\n"
	                                                "small2,llm-decode,1e6,8e6\n"
	                                                "big2,llm-decode,1e6,128e6\n"
	                                                "small3,llm-decode,1e6,8e6\n"
	                                                "big3,llm-decode,1e6,128e6\n"
	                                                "pre,llm-prefill,2e9,64e6\n");
	for (int on = 1; on >= 0; on--) {
		struct xpu_param p[] = {{"threads", "1"}, {"stream_mib", on ? "256" : "0"}};
		struct xpu_run_opts o = {.trace = trace,
		                         .sched = "fifo",
		                         .live = 1,
		                         .quiet = 1,
		                         .backend_params = p,
		                         .nbackend_params = 2};
		struct xpu_run_result res;
		struct xpu_err err = {{0}};
		cr_assert_eq(xpu_run(&o, &res, &err), 0, "%s", err.msg);
		xt_check_contract(&res);
		double small = INFINITY, big = INFINITY;
		for (int i = 1; i <= 6; i++) {
			double took = res.w->tasks[i].end_t - res.w->tasks[i].start_t;
			if (i % 2)
				small = fmin(small, took);
			else
				big = fmin(big, took);
		}
		if (on)
			cr_expect_gt(big, 4 * small, "128 MB: %g s, 8 MB: %g s (fastest of three)",
			             big, small);
		else
			cr_expect_lt(big, 4 * small + 1e-3, "bytes ignored: %g s against %g s", big,
			             small);
		xpu_run_result_free(&res);
	}
}

/* Resident bytes of this process (/proc/self/statm), 0 when unreadable. */
static double rss_bytes(void)
{
	FILE *f = fopen("/proc/self/statm", "r");
	long size = 0, res = 0;
	if (!f)
		return 0;
	if (fscanf(f, "%ld %ld", &size, &res) != 2)
		res = 0;
	fclose(f);
	return (double)res * (double)sysconf(_SC_PAGESIZE);
}

struct rss_watch {
	double base, during, after; /* before a is staged; while b runs; while c runs */
};

static void watch_rss(void *ctx, const struct xpu_task *t, int from, int to, double now)
{
	struct rss_watch *w = ctx;
	(void)from;
	(void)now;
	if (t->index == 0 && to == XPU_TASK_SUBMITTED)
		w->base = rss_bytes();
	else if (t->index == 1 && to == XPU_TASK_RUNNING)
		w->during = rss_bytes();
	else if (t->index == 2 && to == XPU_TASK_RUNNING)
		w->after = rss_bytes();
}

/* issue 11, live: on the cpu backend a datum is a real host allocation while the
 * engine holds it: a's 192 MiB output, consumed by b, is resident while b runs and
 * gone by the time c runs; a datum the machine cannot hold stops the run with an error
 * naming it, instead of the out-of-memory killer. */
Test(live_cpu, data_are_real_allocations, .timeout = 120)
{
	const char *trace = xt_write_file("data.csv", "id,class,flops,deps\n"
	                                              "a,generic,1e6,\n"
	                                              "b,generic,1e6,a:192MiB\n"
	                                              "c,generic,1e6,b\n");
	struct xpu_param p[] = {{"threads", "1"}, {"stream_mib", "0"}};
	struct rss_watch w = {0};
	struct xpu_run_opts o = {.trace = trace,
	                         .sched = "fifo",
	                         .live = 1,
	                         .quiet = 1,
	                         .backend_params = p,
	                         .nbackend_params = 2,
	                         .observe = watch_rss,
	                         .observe_ctx = &w};
	struct xpu_run_result res;
	struct xpu_err err = {{0}};
	cr_assert_eq(xpu_run(&o, &res, &err), 0, "%s", err.msg);
	xt_check_contract(&res);
	xpu_run_result_free(&res);
	cr_assert_gt(w.base, 0, "/proc/self/statm unreadable");
	cr_expect_gt(w.during - w.base, 180.0 * 1048576,
	             "resident: %.0f MiB before, %.0f while b runs", w.base / 1048576,
	             w.during / 1048576);
	cr_expect_lt(w.after - w.base, 64.0 * 1048576,
	             "resident: %.0f MiB before, %.0f while c runs", w.base / 1048576,
	             w.after / 1048576);

	/* more than the machine has available, though within its memory's capacity */
	FILE *mi = fopen("/proc/meminfo", "r");
	cr_assert_not_null(mi);
	char line[256];
	double total = 0, avail = 0, kib;
	while (fgets(line, sizeof(line), mi)) {
		if (sscanf(line, "MemTotal: %lf kB", &kib) == 1)
			total = kib * 1024;
		if (sscanf(line, "MemAvailable: %lf kB", &kib) == 1)
			avail = kib * 1024;
	}
	fclose(mi);
	if (!(avail > 0 && 0.95 * total > 0.8 * avail))
		cr_skip_test("MemAvailable is over 95%% of MemTotal: no size between them");
	char text[256];
	snprintf(text, sizeof(text), "id,class,flops,deps\na,generic,1e6,\nb,generic,1e6,a:%.0f\n",
	         0.95 * total);
	o.trace = xt_write_file("huge.csv", text);
	o.observe = NULL;
	err = (struct xpu_err){{0}};
	cr_assert_neq(xpu_run(&o, &res, &err), 0);
	cr_expect(strstr(err.msg, "the cpu backend cannot allocate it"), "%s", err.msg);
}

/* issue 13, fidelity: `xpuopt fidelity TRACE` runs the trace live and simulated on a
 * platform (here a hand-written one-unit model, so the test needs no calibration) and
 * prints the makespan, per-task, per-unit and per-class errors; with -o the two result
 * files go through `xpuopt compare` as they are, a live set against a simulated one
 * paired by trace and seed. Bad usage exits 2. */
Test(live_cpu, fidelity_compares_a_live_run_with_its_simulation, .timeout = 120)
{
	const char *d = xt_tmpdir();
	char trace[512], plat[512], dir[512], buf[8192];
	snprintf(trace, sizeof(trace), "%s/t.csv", d);
	snprintf(plat, sizeof(plat), "%s/p.xml", d);
	snprintf(dir, sizeof(dir), "%s/out", d);
	FILE *f = fopen(trace, "w");
	cr_assert_not_null(f);
	fprintf(f, "id,class,flops\n");
	for (int i = 0; i < 60; i++)
		fprintf(f, "t%d,%s,%d\n", i, i % 2 ? "gemm" : "fft", 2000000 + 100000 * i);
	fclose(f);
	f = fopen(plat, "w");
	cr_assert_not_null(f);
	fprintf(f, "<?xml version='1.0'?>\n"
	           "<!DOCTYPE platform SYSTEM \"https://simgrid.org/simgrid.dtd\">\n"
	           "<platform version=\"4.1\"><zone id=\"z\" routing=\"Full\">\n"
	           "<host id=\"cpu0\" speed=\"5e9f\" core=\"1\">\n"
	           "<prop id=\"xpu.kind\" value=\"cpu\"/>\n"
	           "<prop id=\"xpu.class.fft\" value=\"4e9f@1\"/>\n"
	           "<prop id=\"xpu.class.gemm\" value=\"4e10f@1\"/>\n"
	           "</host></zone></platform>\n");
	fclose(f);
	cr_assert_eq(
	    xt_cmd(buf, sizeof(buf), "fidelity %s -p %s -j 1 -o %s 2>&1", trace, plat, dir), 0,
	    "%s", buf);
	static const char *const keys[] = {
	    "makespan_live_s ",  "makespan_sim_s ",  "makespan_error ",
	    "task_error_p50 ",   "task_error_p95 ",  "busy_error_cpu0 ",
	    "class_error_gemm ", "class_error_fft ", "tasks_compared 60"};
	for (size_t k = 0; k < sizeof(keys) / sizeof(*keys); k++)
		cr_expect_not_null(strstr(buf, keys[k]), "%s missing: %s", keys[k], buf);
	const char *m = strstr(buf, "makespan_sim_s ");
	cr_assert_not_null(m);
	/* 30 fft tasks of 2.0 to 7.8 Mflop at 4 Gflop/s, 30 gemm at 40: about 47 ms */
	double sim = strtod(m + 15, NULL);
	cr_expect(sim > 0.04 && sim < 0.06, "simulated makespan %g s", sim);

	cr_assert_eq(xt_cmd(buf, sizeof(buf), "compare %s/live.h5 %s/sim.h5 2>&1", dir, dir), 0,
	             "%s", buf);
	cr_expect_not_null(strstr(buf, "(live)"), "%s", buf);
	cr_expect_not_null(strstr(buf, "makespan_s"), "%s", buf);

	cr_expect_eq(xt_cmd(buf, sizeof(buf), "fidelity 2>&1"), 2);
	cr_expect_eq(xt_cmd(buf, sizeof(buf), "fidelity %s/none.csv -p %s 2>&1", d, plat), 2);
	cr_expect_not_null(strstr(buf, "cannot read the trace"), "%s", buf);
	cr_expect_eq(xt_cmd(buf, sizeof(buf), "fidelity %s -p %s -j 0 2>&1", trace, plat), 2);

	/* Without -p it would calibrate first: a bad trace or policy is refused before
	 * that, naming the line and field, and leaves no output directory behind. */
	char bad[512], none[512];
	snprintf(bad, sizeof(bad), "%s/bad.csv", d);
	snprintf(none, sizeof(none), "%s/not-made", d);
	f = fopen(bad, "w");
	cr_assert_not_null(f);
	fprintf(f, "id,class,flops\nt1,gemm,1e6\nt2,gemm,lots\n");
	fclose(f);
	cr_expect_eq(xt_cmd(buf, sizeof(buf), "fidelity %s -o %s 2>&1", bad, none), 2);
	cr_expect_not_null(strstr(buf, "bad.csv:3: field 'flops'"), "%s", buf);
	cr_expect_null(strstr(buf, "calibrat"), "calibrated before refusing: %s", buf);
	cr_expect_eq(xt_cmd(buf, sizeof(buf), "fidelity %s --sched nosuch -o %s 2>&1", trace, none),
	             2);
	cr_expect_not_null(strstr(buf, "--sched"), "%s", buf);
	cr_expect_neq(access(none, F_OK), 0, "%s was made for a refused run", none);

	/* calibrate tries its output path before its live runs start: with a --cores the
	 * backend would refuse at its first run, the unwritable path is what it reports */
	cr_expect_eq(
	    xt_cmd(buf, sizeof(buf), "calibrate --threads 1 --cores 999 -o %s/c.xml 2>&1", none),
	    1);
	cr_expect_not_null(strstr(buf, "cannot write"), "%s", buf);
	cr_expect_null(strstr(buf, "cores"), "the live runs started first: %s", buf);
	cr_expect_eq(xt_cmd(buf, sizeof(buf), "calibrate --threads 1 --cores 999 -o %s 2>&1", d),
	             2);
	cr_expect_not_null(strstr(buf, "is a directory"), "%s", buf);
}

/* ------------------------------------------------------------------ Linux controls */

/* A copy of the sysfs files the cpu backend's controls use, in a temporary directory:
 * cpufreq for every CPU (three frequencies, the given governor), one RAPL package with
 * a 65 W limit, one package thermal zone at 47 C. Real sysfs needs root and hardware
 * this VM lacks; the files and their formats are the kernel's. */
static void sysfs_put(const char *root, const char *rel, const char *val)
{
	char path[700];
	snprintf(path, sizeof(path), "%s/%s", root, rel);
	for (char *s = path + strlen(root) + 1; (s = strchr(s, '/')); s++) {
		*s = 0;
		mkdir(path, 0700);
		*s = '/';
	}
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f, "%s", path);
	fputs(val, f);
	fclose(f);
}

static void sysfs_get(const char *root, const char *rel, char *buf, size_t n)
{
	char path[700];
	snprintf(path, sizeof(path), "%s/%s", root, rel);
	FILE *f = fopen(path, "r");
	cr_assert_not_null(f, "%s", path);
	cr_assert_not_null(fgets(buf, (int)n, f), "%s", path);
	fclose(f);
	buf[strcspn(buf, "\n")] = 0;
}

static const char *fake_sysfs(const char *governor)
{
	static char root[256];
	snprintf(root, sizeof(root), "%s/sys", xt_tmpdir());
	mkdir(root, 0700);
	long ncpu = sysconf(_SC_NPROCESSORS_CONF);
	for (long i = 0; i < (ncpu > 0 ? ncpu : 1); i++) {
		char d[128], rel[192];
		snprintf(d, sizeof(d), "devices/system/cpu/cpu%ld/cpufreq", i);
		static const char *const files[][2] = {
		    {"scaling_available_frequencies", "3000000 2000000 1000000 \n"},
		    {"scaling_setspeed", "3000000\n"},
		    {"scaling_cur_freq", "3000000\n"},
		    {"scaling_max_freq", "3000000\n"},
		    {"scaling_min_freq", "1000000\n"},
		    {"cpuinfo_max_freq", "3000000\n"},
		    {"cpuinfo_min_freq", "1000000\n"}};
		for (size_t k = 0; k < sizeof(files) / sizeof(files[0]); k++) {
			snprintf(rel, sizeof(rel), "%s/%s", d, files[k][0]);
			sysfs_put(root, rel, files[k][1]);
		}
		snprintf(rel, sizeof(rel), "%s/scaling_governor", d);
		char g[64];
		snprintf(g, sizeof(g), "%s\n", governor);
		sysfs_put(root, rel, g);
	}
	sysfs_put(root, "class/powercap/intel-rapl:0/energy_uj", "1000\n");
	sysfs_put(root, "class/powercap/intel-rapl:0/max_energy_range_uj", "262143328850\n");
	sysfs_put(root, "class/powercap/intel-rapl:0/constraint_0_power_limit_uw", "65000000\n");
	sysfs_put(root, "class/thermal/thermal_zone0/type", "x86_pkg_temp\n");
	sysfs_put(root, "class/thermal/thermal_zone0/temp", "47000\n");
	return root;
}

struct ctl_ctx {
	struct xpu_backend *be;
	const char *root;
	char cpufreq[64]; /* the CPU file a P-state change writes */
	int rc[4];
	char seen[4][64];
	double temp;
};

static void ctl_body(void *arg)
{
	struct ctl_ctx *x = arg;
	x->rc[0] = x->be->ops->set_pstate(x->be, 0, 1);
	sysfs_get(x->root, x->cpufreq, x->seen[0], sizeof(x->seen[0]));
	x->rc[1] = x->be->ops->set_pstate(x->be, 0, 2);
	sysfs_get(x->root, x->cpufreq, x->seen[1], sizeof(x->seen[1]));
	x->rc[2] = x->be->ops->set_power_limit(x->be, -1, 30);
	sysfs_get(x->root, "class/powercap/intel-rapl:0/constraint_0_power_limit_uw", x->seen[2],
	          sizeof(x->seen[2]));
	x->rc[3] = x->be->ops->read_temp(x->be, 0, &x->temp);
}

/* The unit's P-states are cpufreq's three frequencies; switching writes the unit's CPU
 * (scaling_setspeed under the userspace governor, scaling_max_freq under another), the
 * RAPL limit goes to the package, the temperature comes from its thermal zone, and
 * closing the backend puts every file back as it was. */
static void controls_through(const char *governor, const char *file, const char *orig)
{
	const char *root = fake_sysfs(governor);
	struct xpu_backend be;
	struct xpu_platform pf;
	struct xpu_err err = {""};
	struct xpu_param p[] = {{"threads", "1"}, {"sysfs", root}, {"stream_mib", "0"}};
	cr_assert_eq(lcpu_open(&be, &pf, p, 3, &err), 0, "%s", err.msg);
	cr_assert_eq(pf.units[0].npstates, 3);
	double s0 = pf.units[0].pstates[0].speed;
	cr_expect_float_eq(pf.units[0].pstates[1].speed, s0 * 2 / 3, 1e-12 * s0);
	cr_expect_float_eq(pf.units[0].pstates[2].speed, s0 / 3, 1e-12 * s0);
	cr_expect_lt(pf.units[0].pstates[2].full_w, pf.units[0].pstates[0].full_w);
	const char *ctl = be.ops->controls(&be);
	cr_expect_not_null(strstr(ctl, "pstate=cpufreq (3 frequencies"), "%s", ctl);
	cr_expect_not_null(strstr(ctl, "power_limit=rapl"), "%s", ctl);
	cr_expect_not_null(strstr(ctl, "temperature=thermal_zone"), "%s", ctl);

	/* the unit's worker is pinned to the first CPU of the affinity mask */
	cpu_set_t set;
	cr_assert_eq(sched_getaffinity(0, sizeof(set), &set), 0);
	int cpu = 0;
	while (!CPU_ISSET(cpu, &set))
		cpu++;
	struct ctl_ctx x = {.be = &be, .root = root};
	snprintf(x.cpufreq, sizeof(x.cpufreq), "devices/system/cpu/cpu%d/cpufreq/%s", cpu, file);
	cr_assert_eq(be.ops->run(&be, ctl_body, &x), 0);
	for (int i = 0; i < 4; i++)
		cr_expect_eq(x.rc[i], 0, "call %d: %d", i, x.rc[i]);
	cr_expect_str_eq(x.seen[0], "2000000");
	cr_expect_str_eq(x.seen[1], "1000000");
	cr_expect_str_eq(x.seen[2], "30000000");
	cr_expect_float_eq(x.temp, 47.0, 1e-12);
	be.ops->close(&be);
	xpu_platform_free(&pf);

	char buf[64];
	sysfs_get(root, x.cpufreq, buf, sizeof(buf));
	cr_expect_str_eq(buf, orig, "%s restored", file);
	sysfs_get(root, "class/powercap/intel-rapl:0/constraint_0_power_limit_uw", buf,
	          sizeof(buf));
	cr_expect_str_eq(buf, "65000000", "RAPL limit restored");
}

Test(live_cpu, cpufreq_rapl_and_thermal_zone_under_userspace)
{
	controls_through("userspace", "scaling_setspeed", "3000000");
}

Test(live_cpu, cpufreq_rapl_and_thermal_zone_under_another_governor)
{
	controls_through("schedutil", "scaling_max_freq", "3000000");
}

static uint64_t run_u64(const char *h5, const char *name)
{
	hid_t h = H5Fopen(h5, H5F_ACC_RDONLY, H5P_DEFAULT);
	cr_assert_geq(h, 0);
	hid_t a = H5Aopen_by_name(h, "/run", name, H5P_DEFAULT, H5P_DEFAULT);
	cr_assert_geq(a, 0, "/run %s", name);
	uint64_t v = 0;
	cr_assert_geq(H5Aread(a, H5T_NATIVE_UINT64, &v), 0);
	H5Aclose(a);
	H5Fclose(h);
	return v;
}

/* The same controls from the power policies of a live run: userspace's P-state is
 * applied (requested, not refused), powercap's cap reaches RAPL, the package's
 * temperature becomes the run's max_temp_c. */
Test(live_cpu, governors_apply_cpufreq_and_rapl_on_the_live_machine, .timeout = 60)
{
	const char *root = fake_sysfs("userspace");
	const char *dir = xt_tmpdir();
	char trace[256], out[2][256];
	snprintf(trace, sizeof(trace), "%s/t.csv", dir);
	FILE *f = fopen(trace, "w");
	cr_assert_not_null(f);
	fprintf(f, "id,class,flops\na,generic,2e7\nb,generic,2e7\n");
	fclose(f);
	struct xpu_param bp[] = {{"threads", "1"}, {"sysfs", root}, {"stream_mib", "0"}};
	const char *power[2] = {"userspace:pstate=2", "powercap:cap=30"};
	for (int i = 0; i < 2; i++) {
		snprintf(out[i], sizeof(out[i]), "%s/r%d.h5", dir, i);
		struct xpu_run_opts o = {.trace = trace,
		                         .sched = "fifo",
		                         .power = power[i],
		                         .live = 1,
		                         .backend_params = bp,
		                         .nbackend_params = 3,
		                         .output = out[i]};
		cr_assert_eq(xt_run_forked(&o, out[i]), 0, "%s", power[i]);
	}
	cr_expect_geq(run_u64(out[0], "pstate_requests"), 1);
	cr_expect_eq(run_u64(out[0], "pstate_refused"), 0);
	cr_expect_eq(run_u64(out[1], "power_limit_requests"), 1);
	cr_expect_eq(run_u64(out[1], "power_limit_refused"), 0);
	struct xpu_summary s = {0};
	struct xpu_err err = {{0}};
	cr_assert_eq(xpu_results_read_summary(out[0], &s, &err), 0, "%s", err.msg);
	cr_expect_float_eq(xpu_summary_get(&s, "max_temp_c"), 47.0, 1e-12);
	xpu_summary_clear(&s);
}
