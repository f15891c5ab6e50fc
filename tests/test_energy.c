/* test_energy.c — simulated energy against hand computations from the wattages. */
#include <criterion/criterion.h>
#include <hdf5.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "helpers.h"

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f);
	fputs(text, f);
	fclose(f);
}

static const char *two_units =
    "<?xml version='1.0'?>\n"
    "<!DOCTYPE platform SYSTEM \"https://simgrid.org/simgrid.dtd\">\n"
    "<platform version=\"4.1\"><zone id=\"z\" routing=\"Full\">\n"
    "<host id=\"A\" speed=\"1Gf\"><prop id=\"xpu.kind\" value=\"cpu\"/>\n"
    "  <prop id=\"wattage_per_state\" value=\"10:10:50\"/></host>\n"
    "<host id=\"B\" speed=\"2Gf,1Gf\"><prop id=\"xpu.kind\" value=\"gpu\"/>\n"
    "  <prop id=\"wattage_per_state\" value=\"5:5:25, 4:4:12\"/></host>\n"
    "<link id=\"l\" bandwidth=\"1GBps\" latency=\"0s\"/>\n"
    "<route src=\"A\" dst=\"B\"><link_ctn id=\"l\"/></route>\n"
    "</zone></platform>\n";

static void run(const char *power, struct xpu_run_result *res)
{
	const char *dir = xt_tmpdir();
	char plat[256], trace[256];
	snprintf(plat, sizeof(plat), "%s/p.xml", dir);
	snprintf(trace, sizeof(trace), "%s/t.csv", dir);
	write_file(plat, two_units);
	write_file(trace, "id,flops\nt1,4e9\nt2,2e9\nt3,2e9\n");
	struct xpu_run_opts o = {.platform = plat, .trace = trace, .sched = "fifo", .power = power};
	struct xpu_err err = {{0}};
	cr_assert_eq(xpu_run(&o, res, &err), 0, "%s", err.msg);
}

Test(energy, matches_hand_computation_at_full_speed)
{
	/* fifo: A takes t1 (4 s at 1 Gf), B takes t2 then t3 (1 s each at 2 Gf).
	 * Makespan 4 s. A: 4 s at 50 W = 200 J. B: 2 s at 25 W + 2 s idle at 5 W = 60 J. */
	struct xpu_run_result res;
	run("performance", &res);
	cr_assert(fabs(xpu_summary_get(&res.summary, "makespan_s") - 4) < 1e-9);
	cr_assert(fabs(res.us[0].energy_j - 200) < 1e-6, "A: %.9g J", res.us[0].energy_j);
	cr_assert(fabs(res.us[1].energy_j - 60) < 1e-6, "B: %.9g J", res.us[1].energy_j);
	cr_assert(fabs(xpu_summary_get(&res.summary, "energy_j") - 260) < 1e-6);
	cr_assert(fabs(xpu_summary_get(&res.summary, "edp_js") - 1040) < 1e-5);
	/* a task's attributed energy: power above idle over its run, (50-10) x 4 */
	cr_assert(fabs(res.w->tasks[0].energy - 160) < 1e-6);
	cr_assert(fabs(res.us[1].residency_s[0] - 4) < 1e-9);
	xpu_run_result_free(&res);
}

Test(energy, powersave_runs_slower_and_cheaper_on_b)
{
	/* powersave puts B at 1 Gf, 12 W busy, 4 W idle: t2 and t3 take 2 s each, so both
	 * units end at 4 s; B is busy 4 s: 48 J; A as before 200 J. */
	struct xpu_run_result res;
	run("powersave", &res);
	cr_assert(fabs(xpu_summary_get(&res.summary, "makespan_s") - 4) < 1e-9);
	cr_assert(fabs(res.us[1].energy_j - 48) < 1e-6, "B: %.9g J", res.us[1].energy_j);
	cr_assert(fabs(res.us[1].residency_s[1] - 4) < 1e-9);
	xpu_run_result_free(&res);
}

/* The cpufreq governors on a bursty trace of the laptop SoC: powersave spends the least
 * energy and takes the longest, performance the opposite, and schedutil, ondemand and
 * conservative lie between them; userspace pins the P-state it is given. */
static void governor_run(const char *power, const char *trace, double *makespan, double *energy)
{
	char h5[512];
	snprintf(h5, sizeof(h5), "%s/g.h5", xt_tmpdir());
	struct xpu_run_opts o = {.platform = xt_src("platforms/default.xml"),
	                         .trace = trace,
	                         .sched = "fifo",
	                         .power = power};
	cr_assert_eq(xt_run_forked(&o, h5), 0, "%s", power);
	struct xpu_summary s = {0};
	struct xpu_err err = {{0}};
	cr_assert_eq(xpu_results_read_summary(h5, &s, &err), 0, "%s", err.msg);
	*makespan = xpu_summary_get(&s, "makespan_s");
	*energy = xpu_summary_get(&s, "energy_j");
	xpu_summary_clear(&s);
}

Test(energy, governors_order_on_a_bursty_trace, .timeout = 120)
{
	char trace[512], buf[1024];
	snprintf(trace, sizeof(trace), "%s/bursty.csv", xt_tmpdir());
	cr_assert_eq(xt_cmd(buf, sizeof(buf), "gen bursty --count 400 --seed 3 -o %s 2>&1", trace),
	             0, "%s", buf);
	double pm, pe, sm, se, m, e;
	governor_run("performance", trace, &pm, &pe);
	governor_run("powersave", trace, &sm, &se);
	cr_assert_lt(se, pe, "powersave %g J, performance %g J", se, pe);
	cr_assert_gt(sm, pm, "powersave %g s, performance %g s", sm, pm);
	const char *between[] = {"schedutil", "ondemand", "conservative", "userspace:pstate=1"};
	for (int i = 0; i < 4; i++) {
		governor_run(between[i], trace, &m, &e);
		cr_assert(e < pe && e > se, "%s: %g J not between %g and %g", between[i], e, se,
		          pe);
		cr_assert(m >= pm - 1e-9 && m <= sm + 1e-9, "%s: %g s not between %g and %g",
		          between[i], m, pm, sm);
	}
}

/* The thermal node's step response: a 30 s task at 50 W on a node of R = 0.5 K/W and
 * C = 40 J/K (tau 20 s) from 25 C heads for 50 C; at 30 s it is at
 * 50 - 25 e^-1.5, and it passed the 40 C limit at -20 ln(0.4) s. */
Test(thermal, step_response_matches_the_closed_form)
{
	char pf[512], h5[512];
	snprintf(pf, sizeof(pf), "%s",
	         xt_write_file(
	             "p.xml",
	             "<?xml version='1.0'?>\n"
	             "<!DOCTYPE platform SYSTEM \"https://simgrid.org/simgrid.dtd\">\n"
	             "<platform version=\"4.1\"><zone id=\"z\" routing=\"Full\">\n"
	             "<host id=\"a\" speed=\"1Gf\"><prop id=\"xpu.kind\" value=\"cpu\"/>"
	             "<prop id=\"wattage_per_state\" value=\"10:50\"/>"
	             "<prop id=\"xpu.thermal.r\" value=\"0.5\"/><prop id=\"xpu.thermal.c\" "
	             "value=\"40\"/>"
	             "<prop id=\"xpu.thermal.ambient\" value=\"25\"/>"
	             "<prop id=\"xpu.thermal.warning\" value=\"35\"/>"
	             "<prop id=\"xpu.thermal.limit\" value=\"40\"/></host>\n"
	             "<host id=\"b\" speed=\"1Gf\"><prop id=\"xpu.kind\" value=\"gpu\"/></host>\n"
	             "</zone></platform>\n"));
	snprintf(h5, sizeof(h5), "%s/r.h5", xt_tmpdir());
	const char *tr =
	    xt_write_file("t.csv", "id,submit,class,flops,cost\nx,0,generic,3e10,cpu=30\n");
	struct xpu_run_opts o = {.platform = pf, .trace = tr, .sched = "fifo"};
	cr_assert_eq(xt_run_forked(&o, h5), 0);
	struct xpu_summary s = {0};
	struct xpu_err err = {{0}};
	cr_assert_eq(xpu_results_read_summary(h5, &s, &err), 0, "%s", err.msg);
	double want = 50 - 25 * exp(-1.5);
	double got = xpu_summary_get(&s, "max_temp_c");
	cr_assert(fabs(got - want) <= 1e-9 * want, "max %.12g, closed form %.12g", got, want);
	double over = 30 + 20 * log(0.4);
	double got_over = xpu_summary_get(&s, "time_over_limit_s");
	cr_assert(fabs(got_over - over) <= 1e-9 * over, "over %.12g, closed form %.12g", got_over,
	          over);
	xpu_summary_clear(&s);
	/* the timeline: the first row at ambient, the one at 30 s at the closed form; the
	 * unit without a node has NaN */
	hid_t file = H5Fopen(h5, H5F_ACC_RDONLY, H5P_DEFAULT);
	hid_t d = H5Dopen2(file, "/timeline/temp_c", H5P_DEFAULT),
	      dt = H5Dopen2(file, "/timeline/t", H5P_DEFAULT),
	      du = H5Dopen2(file, "/timeline/unit", H5P_DEFAULT);
	cr_assert(d >= 0 && dt >= 0 && du >= 0);
	hid_t sp = H5Dget_space(d);
	hssize_t n = H5Sget_simple_extent_npoints(sp);
	double *temp = malloc((size_t)n * sizeof(double)), *t = malloc((size_t)n * sizeof(double));
	int *u = malloc((size_t)n * sizeof(int));
	H5Dread(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, temp);
	H5Dread(dt, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, t);
	H5Dread(du, H5T_NATIVE_INT, H5S_ALL, H5S_ALL, H5P_DEFAULT, u);
	int seen30 = 0;
	for (hssize_t i = 0; i < n; i++) {
		if (u[i] == 1) {
			cr_assert(isnan(temp[i]), "unit b has no node, yet %g C", temp[i]);
			continue;
		}
		if (t[i] == 0)
			cr_assert_float_eq(temp[i], 25, 1e-12);
		if (fabs(t[i] - 30) < 1e-9) {
			cr_assert(fabs(temp[i] - want) <= 1e-9 * want, "%.12g", temp[i]);
			seen30 = 1;
		}
	}
	cr_assert(seen30, "no row at 30 s");
	free(temp), free(t), free(u);
	H5Sclose(sp);
	H5Dclose(d), H5Dclose(dt), H5Dclose(du);
	H5Fclose(file);
}

/* A dataset of a result file as doubles (HDF5 converts integer ones), malloc'ed;
 * returns its length. */
static size_t h5_doubles(const char *h5, const char *path, double **out)
{
	hid_t f = H5Fopen(h5, H5F_ACC_RDONLY, H5P_DEFAULT);
	cr_assert_geq(f, 0);
	hid_t d = H5Dopen2(f, path, H5P_DEFAULT);
	cr_assert_geq(d, 0, "%s", path);
	hid_t sp = H5Dget_space(d);
	hsize_t n = 0;
	H5Sget_simple_extent_dims(sp, &n, NULL);
	*out = malloc((n + 1) * sizeof(double));
	cr_assert_geq(H5Dread(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, *out), 0);
	H5Sclose(sp);
	H5Dclose(d);
	H5Fclose(f);
	return n;
}

static size_t timeline_column(const char *h5, const char *name, double **out)
{
	char path[128];
	snprintf(path, sizeof(path), "/timeline/%s", name);
	return h5_doubles(h5, path, out);
}

static size_t units_column(const char *h5, const char *name, double **out)
{
	char path[128];
	snprintf(path, sizeof(path), "/units/%s", name);
	return h5_doubles(h5, path, out);
}

/* The summed power of the units of one memory, from the result's /timeline, at every
 * change point (rows of one instant applied together): its largest value. A unit's
 * power holds from its row to its next. */
static double timeline_peak(const char *h5)
{
	double *t, *w, *u;
	size_t n = timeline_column(h5, "t", &t);
	cr_assert_eq(timeline_column(h5, "power_w", &w), n);
	cr_assert_eq(timeline_column(h5, "unit", &u), n);
	double cur[64] = {0}, sum = 0, peak = 0;
	for (size_t i = 0; i < n;) {
		size_t j = i;
		for (; j < n && t[j] == t[i]; j++) {
			int k = (int)u[j];
			cr_assert(k >= 0 && k < 64);
			double p = isfinite(w[j]) ? w[j] : 0;
			sum += p - cur[k];
			cur[k] = p;
		}
		if (sum > peak)
			peak = sum;
		i = j;
	}
	free(t);
	free(w);
	free(u);
	return peak;
}

/* The Snapdragon 8 Gen 3's 10 W SoC budget: the bundled trace draws 25.6 W at its peak
 * uncapped; under powercap no change point of the timeline exceeds 10 W, and the run
 * takes longer. A platform cap does the same on the workstation. */
Test(powercap, the_soc_budget_holds_at_every_change_point, .timeout = 120)
{
	char a[512], b[512];
	snprintf(a, sizeof(a), "%s/free.h5", xt_tmpdir());
	snprintf(b, sizeof(b), "%s/capped.h5", xt_tmpdir());
	struct xpu_run_opts o = {.platform = xt_src("platforms/snapdragon-8gen3.xml"),
	                         .trace = xt_src("traces/default.csv"),
	                         .power = "performance"};
	cr_assert_eq(xt_run_forked(&o, a), 0);
	o.power = "powercap";
	cr_assert_eq(xt_run_forked(&o, b), 0);
	double free_peak = timeline_peak(a), capped = timeline_peak(b);
	cr_assert_gt(free_peak, 10.0, "the trace must exceed the budget uncapped: %g W", free_peak);
	cr_assert_leq(capped, 10.0 + 1e-9, "capped peak %g W", capped);
	struct xpu_summary sa = {0}, sb = {0};
	struct xpu_err err = {{0}};
	cr_assert_eq(xpu_results_read_summary(a, &sa, &err), 0, "%s", err.msg);
	cr_assert_eq(xpu_results_read_summary(b, &sb, &err), 0, "%s", err.msg);
	cr_assert_float_eq(xpu_summary_get(&sa, "peak_power_w"), free_peak, 1e-9);
	cr_assert_float_eq(xpu_summary_get(&sb, "peak_domain_power_w"), capped, 1e-9);
	cr_assert_gt(xpu_summary_get(&sb, "makespan_s"), xpu_summary_get(&sa, "makespan_s"));
	cr_assert_lt(xpu_summary_get(&sb, "energy_j"), xpu_summary_get(&sa, "energy_j"));
	xpu_summary_clear(&sa);
	xpu_summary_clear(&sb);
}

/* 250 W over the workstation's CPU (230 W at full load, fastest state) and GPU (450 W):
 * shares of 84.6 W and 165.4 W, so both run at their slowest states (70 W and 150 W). */
Test(powercap, a_platform_cap_holds_under_any_governor, .timeout = 120)
{
	const char *govs[] = {"performance", "schedutil", "ondemand"};
	for (int g = 0; g < 3; g++) {
		char h5[512], spec[128];
		snprintf(h5, sizeof(h5), "%s/w%d.h5", xt_tmpdir(), g);
		snprintf(spec, sizeof(spec), "powercap:cap=250,gov=%s", govs[g]);
		struct xpu_run_opts o = {.platform = xt_src("platforms/workstation.xml"),
		                         .trace = xt_src("traces/default.csv"),
		                         .power = spec};
		cr_assert_eq(xt_run_forked(&o, h5), 0, "%s", spec);
		double peak = timeline_peak(h5);
		cr_assert_leq(peak, 250 + 1e-9, "%s: %g W", spec, peak);
		cr_assert_gt(peak, 0);
	}
}

/* Idle states (xpu.idle) under race-to-idle: one 1-core unit (10 W idle, 50 W busy) with
 * C1 (1 ms exit, 5 W) and C6 (10 ms exit, 1 W, 0.5 J to wake). Tasks a (0 s, 1 s),
 * b (3 s, 1 s), c (3.2 s, 1 s, queued behind b) and d (10 s, 2 s): the unit sleeps in C6
 * over [1, 3] and [5.01, 10]; b and d, the first tasks after a wake, take exactly 10 ms
 * more; a and c do not. Energy by hand: busy (1 + 1.01 + 1 + 2.01) s x 50 W = 251 J, in
 * C6 (2 + 4.99) s x 1 W = 6.99 J, two wake-ups 1 J: 258.99 J, against 320 J awake
 * (250 J busy, 7 s x 10 W idle). */
Test(idle, states_save_energy_and_delay_the_first_task_after_a_wake)
{
	const char *pf = xt_write_file(
	    "idle.xml", "<?xml version='1.0'?>\n"
	                "<!DOCTYPE platform SYSTEM \"https://simgrid.org/simgrid.dtd\">\n"
	                "<platform version=\"4.1\"><zone id=\"z\" routing=\"Full\">\n"
	                "<host id=\"a\" speed=\"1Gf\"><prop id=\"xpu.kind\" value=\"cpu\"/>"
	                "<prop id=\"wattage_per_state\" value=\"10:10:50\"/>"
	                "<prop id=\"xpu.idle\" value=\"C1:1ms:2ms:5W;C6:10ms:40ms:1W:0.5J\"/>"
	                "</host>\n</zone></platform>\n");
	const char *tr = xt_write_file("bursts.csv", "id,submit,class,flops,cost\n"
	                                             "a,0,generic,1e9,cpu=1\n"
	                                             "b,3,generic,1e9,cpu=1\n"
	                                             "c,3.2,generic,1e9,cpu=1\n"
	                                             "d,10,generic,2e9,cpu=2\n");
	const char *govs[] = {"performance", "race-to-idle"};
	double energy[2], *start, *end;
	char h5s[2][512];
	for (int g = 0; g < 2; g++) {
		char *h5 = h5s[g];
		snprintf(h5, sizeof(h5s[g]), "%s/i%d.h5", xt_tmpdir(), g);
		struct xpu_run_opts o = {
		    .platform = pf, .trace = tr, .sched = "fifo", .power = govs[g]};
		cr_assert_eq(xt_run_forked(&o, h5), 0);
		struct xpu_summary s = {0};
		struct xpu_err err = {{0}};
		cr_assert_eq(xpu_results_read_summary(h5, &s, &err), 0, "%s", err.msg);
		energy[g] = xpu_summary_get(&s, "energy_j");
		xpu_summary_clear(&s);
		cr_assert_eq(xt_read_column(h5, "start", &start), 4);
		cr_assert_eq(xt_read_column(h5, "end", &end), 4);
		const double cost[] = {1, 1, 1, 2};
		const double woke[] = {0, 0.010, 0, 0.010};
		for (int i = 0; i < 4; i++)
			cr_assert_float_eq(end[i] - start[i], cost[i] + (g ? woke[i] : 0), 1e-9,
			                   "%s: task %d took %.12g s", govs[g], i,
			                   end[i] - start[i]);
		free(start);
		free(end);
	}
	cr_assert_float_eq(energy[0], 320.0, 1e-9 * 320, "awake: %.12g J", energy[0]);
	cr_assert_float_eq(energy[1], 258.99, 1e-9 * 259, "race-to-idle: %.12g J", energy[1]);
	/* its parts: 6.99 J in C6, 1 J waking */
	double *sj, *wj;
	cr_assert_eq(units_column(h5s[1], "idle_state_j", &sj), 1);
	cr_assert_eq(units_column(h5s[1], "wake_j", &wj), 1);
	cr_assert_float_eq(sj[0], 6.99, 1e-9);
	cr_assert_float_eq(wj[0], 1.0, 1e-12);
	free(sj);
	free(wj);
}

/* menu enters only states whose target residency fits the predicted idle span. With
 * residencies of 2 ms and 40 ms it sleeps in C6 over both gaps ([1, 3] and [4.01, 10]).
 * With residencies of 100 s and 200 s it sleeps over the first gap only (nothing is
 * known yet: an idle span is predicted long), then, predicting 2 s, stays awake. */
Test(idle, menu_skips_states_that_would_not_pay)
{
	const char *tr = xt_write_file("bursts2.csv", "id,submit,class,flops,cost\n"
	                                              "a,0,generic,1e9,cpu=1\n"
	                                              "b,3,generic,1e9,cpu=1\n"
	                                              "d,10,generic,2e9,cpu=2\n");
	const char *states[] = {"C1:1ms:2ms:5W;C6:10ms:40ms:1W", "C1:1ms:100s:5W;C6:10ms:200s:1W"};
	for (int k = 0; k < 2; k++) {
		char xml[1024], h5[512];
		snprintf(xml, sizeof(xml),
		         "<?xml version='1.0'?>\n"
		         "<!DOCTYPE platform SYSTEM \"https://simgrid.org/simgrid.dtd\">\n"
		         "<platform version=\"4.1\"><zone id=\"z\" routing=\"Full\">\n"
		         "<host id=\"a\" speed=\"1Gf\"><prop id=\"xpu.kind\" value=\"cpu\"/>"
		         "<prop id=\"wattage_per_state\" value=\"10:10:50\"/>"
		         "<prop id=\"xpu.idle\" value=\"%s\"/></host>\n</zone></platform>\n",
		         states[k]);
		const char *pf = xt_write_file(k ? "menu2.xml" : "menu1.xml", xml);
		snprintf(h5, sizeof(h5), "%s/m%d.h5", xt_tmpdir(), k);
		struct xpu_run_opts o = {
		    .platform = pf, .trace = tr, .sched = "fifo", .power = "menu"};
		cr_assert_eq(xt_run_forked(&o, h5), 0);
		struct xpu_summary s = {0};
		struct xpu_err err = {{0}};
		cr_assert_eq(xpu_results_read_summary(h5, &s, &err), 0, "%s", err.msg);
		double e = xpu_summary_get(&s, "energy_j");
		xpu_summary_clear(&s);
		double want = k ? 4.01 * 50 + 2 * 1 + 5.99 * 10 : 4.02 * 50 + 7.99 * 1;
		cr_assert_float_eq(e, want, 1e-9 * want, "case %d: %.12g J", k, e);
	}
}

/* The hot unit of the throttling tests: one core (R 0.5 K/W, C 20 J/K: tau 10 s;
 * ambient 25 C, warning 60 C, limit 70 C) whose fastest state draws 110 W (steady 80 C,
 * over the limit) and next 60 W (steady 55 C); its platform file, and in tr a trace of
 * 100 s of work at that state. */
static const char *hot_unit(char *tr, size_t n)
{
	const char *pf = xt_write_file(
	    "hot.xml",
	    "<?xml version='1.0'?>\n"
	    "<!DOCTYPE platform SYSTEM \"https://simgrid.org/simgrid.dtd\">\n"
	    "<platform version=\"4.1\"><zone id=\"z\" routing=\"Full\">\n"
	    "<host id=\"a\" speed=\"2Gf,1Gf,0.5Gf\"><prop id=\"xpu.kind\" value=\"cpu\"/>"
	    "<prop id=\"wattage_per_state\" value=\"10:10:110, 8:8:60, 5:5:30\"/>"
	    "<prop id=\"xpu.thermal.r\" value=\"0.5\"/>"
	    "<prop id=\"xpu.thermal.c\" value=\"20\"/>"
	    "<prop id=\"xpu.thermal.ambient\" value=\"25\"/>"
	    "<prop id=\"xpu.thermal.warning\" value=\"60\"/>"
	    "<prop id=\"xpu.thermal.limit\" value=\"70\"/></host>\n"
	    "</zone></platform>\n");
	snprintf(tr, n, "%s/hot.csv", xt_tmpdir());
	FILE *f = fopen(tr, "w");
	cr_assert_not_null(f);
	fprintf(f, "id,class,flops\n");
	for (int i = 0; i < 10; i++)
		fprintf(f, "t%d,generic,2e10\n", i);
	fclose(f);
	return pf;
}

/* step_wise throttling on a hot sustained trace: a 1-core unit (R 0.5 K/W, C 20 J/K:
 * tau 10 s; ambient 25 C, warning 60 C, limit 70 C) whose fastest state draws 110 W
 * (steady 80 C, over the limit) and next 60 W (steady 55 C). 100 s of work: unthrottled
 * the node passes 70 C after about 17 s; under step-wise (period 0.1 s) it never does,
 * and the work takes longer. */
Test(thermal, step_wise_keeps_a_hot_unit_under_its_limit, .timeout = 120)
{
	char tr[512];
	const char *pf = hot_unit(tr, sizeof(tr));
	const char *govs[] = {"performance", "step-wise", "step-wise:gov=schedutil"};
	double tmax[3], over[3], span[3];
	for (int g = 0; g < 3; g++) {
		char h5[512];
		snprintf(h5, sizeof(h5), "%s/hot%d.h5", xt_tmpdir(), g);
		struct xpu_run_opts o = {.platform = pf,
		                         .trace = tr,
		                         .sched = "fifo",
		                         .power = govs[g],
		                         .gov_period = 0.1};
		cr_assert_eq(xt_run_forked(&o, h5), 0, "%s", govs[g]);
		struct xpu_summary s = {0};
		struct xpu_err err = {{0}};
		cr_assert_eq(xpu_results_read_summary(h5, &s, &err), 0, "%s", err.msg);
		tmax[g] = xpu_summary_get(&s, "max_temp_c");
		over[g] = xpu_summary_get(&s, "time_over_limit_s");
		span[g] = xpu_summary_get(&s, "makespan_s");
		xpu_summary_clear(&s);
	}
	cr_assert_gt(tmax[0], 70, "unthrottled: %g C", tmax[0]);
	cr_assert_gt(over[0], 0);
	for (int g = 1; g < 3; g++) {
		cr_assert_leq(tmax[g], 70, "%s: %g C", govs[g], tmax[g]);
		cr_assert_eq(over[g], 0, "%s: %g s over the limit", govs[g], over[g]);
		cr_assert_gt(span[g], span[0], "%s throttles, so it is slower", govs[g]);
	}
}

/* The thermal sched policy moves load off a hot NPU. An NPU (1 s per task, 12 W busy,
 * R 4 K/W, C 2 J/K, warning 60 C) and a GPU taking twice as long, no thermal node; a
 * task every 1.1 s. mct keeps every task on the NPU (it always finishes first), which
 * heads for 69 C; thermal sends tasks to the GPU while the NPU is at or above 60 C. */
Test(thermal, thermal_placement_moves_load_off_a_hot_npu, .timeout = 120)
{
	const char *pf = xt_write_file(
	    "npu.xml",
	    "<?xml version='1.0'?>\n"
	    "<!DOCTYPE platform SYSTEM \"https://simgrid.org/simgrid.dtd\">\n"
	    "<platform version=\"4.1\"><zone id=\"z\" routing=\"Full\">\n"
	    "<host id=\"npu\" speed=\"4Tf\"><prop id=\"xpu.kind\" value=\"npu\"/>"
	    "<prop id=\"wattage_per_state\" value=\"2:2:12\"/>"
	    "<prop id=\"xpu.mem.shared\" value=\"soc\"/>"
	    "<prop id=\"xpu.thermal.r\" value=\"4\"/><prop id=\"xpu.thermal.c\" value=\"2\"/>"
	    "<prop id=\"xpu.thermal.warning\" value=\"60\"/>"
	    "<prop id=\"xpu.thermal.limit\" value=\"70\"/></host>\n"
	    "<host id=\"gpu\" speed=\"2Tf\"><prop id=\"xpu.kind\" value=\"gpu\"/>"
	    "<prop id=\"wattage_per_state\" value=\"5:5:30\"/>"
	    "<prop id=\"xpu.mem.shared\" value=\"soc\"/></host>\n"
	    "</zone></platform>\n");
	char tr[512];
	snprintf(tr, sizeof(tr), "%s/npu.csv", xt_tmpdir());
	FILE *f = fopen(tr, "w");
	cr_assert_not_null(f);
	fprintf(f, "id,submit,class,flops\n");
	for (int i = 0; i < 120; i++)
		fprintf(f, "t%d,%.1f,generic,4e12\n", i, 1.1 * i);
	fclose(f);
	const char *pols[] = {"mct", "thermal"};
	double tmax[2], gpu_tasks[2];
	for (int k = 0; k < 2; k++) {
		char h5[512];
		snprintf(h5, sizeof(h5), "%s/npu%d.h5", xt_tmpdir(), k);
		struct xpu_run_opts o = {.platform = pf, .trace = tr, .sched = pols[k]};
		cr_assert_eq(xt_run_forked(&o, h5), 0, "%s", pols[k]);
		struct xpu_summary s = {0};
		struct xpu_err err = {{0}};
		cr_assert_eq(xpu_results_read_summary(h5, &s, &err), 0, "%s", err.msg);
		tmax[k] = xpu_summary_get(&s, "max_temp_c");
		cr_assert_eq(xpu_summary_get(&s, "tasks_done"), 120);
		xpu_summary_clear(&s);
		double *unit;
		size_t n = xt_read_column(h5, "unit", &unit);
		gpu_tasks[k] = 0;
		for (size_t i = 0; i < n; i++)
			gpu_tasks[k] += unit[i] == 1;
		free(unit);
	}
	cr_assert_eq(gpu_tasks[0], 0, "mct keeps the NPU busy");
	cr_assert_gt(tmax[0], 65, "mct: the NPU reaches %g C", tmax[0]);
	cr_assert_gt(gpu_tasks[1], 0, "thermal moves work to the GPU");
	cr_assert_lt(tmax[1], 62, "thermal: the NPU stays near its 60 C trip (%g C)", tmax[1]);
}

/* NPU power modes (xpu.modes) through npu-mode: powersaver runs the NPU at its slowest
 * state (slower, less energy), turbo at its fastest; the CPU, which defines no mode,
 * keeps its governor's state. */
Test(power, npu_modes_set_the_npu_state_for_the_run)
{
	const char *pf = xt_write_file(
	    "modes.xml",
	    "<?xml version='1.0'?>\n"
	    "<!DOCTYPE platform SYSTEM \"https://simgrid.org/simgrid.dtd\">\n"
	    "<platform version=\"4.1\"><zone id=\"z\" routing=\"Full\">\n"
	    "<host id=\"npu\" speed=\"4Gf,2Gf,1Gf\"><prop id=\"xpu.kind\" value=\"npu\"/>"
	    "<prop id=\"wattage_per_state\" value=\"1:1:8, 1:1:3, 1:1:1.5\"/>"
	    "<prop id=\"xpu.modes\" value=\"powersaver:2;balanced:1;performance:0;turbo:0\"/>"
	    "</host>\n</zone></platform>\n");
	const char *tr = xt_write_file("m.csv", "id,class,flops\na,gemm,4e9\nb,gemm,4e9\n");
	const char *modes[] = {"npu-mode:mode=turbo", "npu-mode:mode=balanced",
	                       "npu-mode:mode=powersaver"};
	double span[3], energy[3];
	for (int k = 0; k < 3; k++) {
		char h5[512];
		snprintf(h5, sizeof(h5), "%s/mode%d.h5", xt_tmpdir(), k);
		struct xpu_run_opts o = {
		    .platform = pf, .trace = tr, .sched = "fifo", .power = modes[k]};
		cr_assert_eq(xt_run_forked(&o, h5), 0, "%s", modes[k]);
		struct xpu_summary s = {0};
		struct xpu_err err = {{0}};
		cr_assert_eq(xpu_results_read_summary(h5, &s, &err), 0, "%s", err.msg);
		span[k] = xpu_summary_get(&s, "makespan_s");
		energy[k] = xpu_summary_get(&s, "energy_j");
		xpu_summary_clear(&s);
	}
	/* 8e9 flop at 4, 2 and 1 Gflop/s; busy power 8, 3 and 1.5 W */
	cr_assert_float_eq(span[0], 2, 1e-9);
	cr_assert_float_eq(span[1], 4, 1e-9);
	cr_assert_float_eq(span[2], 8, 1e-9);
	cr_assert_float_eq(energy[0], 16, 1e-9);
	cr_assert_float_eq(energy[1], 12, 1e-9);
	cr_assert_float_eq(energy[2], 12, 1e-9);
}

/* The power allocator (IPA) on the hot unit of step_wise's test (limit 70 C, a fastest
 * state heading for 80 C): it never passes the limit, and over the second half of the
 * run the temperature stays within 2 C of its control temperature (the limit). */
Test(thermal, power_allocator_settles_near_its_control_temperature, .timeout = 120)
{
	char tr[512], h5[512];
	const char *pf = hot_unit(tr, sizeof(tr));
	snprintf(h5, sizeof(h5), "%s/ipa.h5", xt_tmpdir());
	struct xpu_run_opts o = {.platform = pf,
	                         .trace = tr,
	                         .sched = "fifo",
	                         .power = "power-allocator",
	                         .gov_period = 0.1};
	cr_assert_eq(xt_run_forked(&o, h5), 0);
	double *t, *temp;
	size_t n = timeline_column(h5, "t", &t);
	cr_assert_eq(timeline_column(h5, "temp_c", &temp), n);
	double end = t[n - 1], lo = INFINITY, hi = -INFINITY;
	for (size_t i = 0; i < n; i++) {
		cr_assert_leq(temp[i], 70, "over the limit at %g s: %g C", t[i], temp[i]);
		if (t[i] >= end / 2) {
			lo = fmin(lo, temp[i]);
			hi = fmax(hi, temp[i]);
		}
	}
	cr_assert(lo >= 68 && hi <= 72, "second half between %g and %g C", lo, hi);
	free(t);
	free(temp);
}

/* Two units on one heat sink heat each other as the resistances say. a (0.5 K/W to the
 * sink) draws 50 W, b (1 K/W) 20 W, for 800 s; the sink (0.2 K/W to 25 C ambient, 100
 * J/K) settles at 25 + 0.2 x 70 = 39 C, a at 39 + 0.5 x 50 = 64 C, b at 39 + 20 = 59 C,
 * where alone each would settle at 50 and 45 C. */
Test(thermal, units_on_one_heat_sink_heat_each_other)
{
	const char *host = "<host id=\"%s\" speed=\"1Gf\"><prop id=\"xpu.kind\" value=\"cpu\"/>"
	                   "<prop id=\"wattage_per_state\" value=\"%s\"/>"
	                   "<prop id=\"xpu.thermal.r\" value=\"%s\"/>"
	                   "<prop id=\"xpu.thermal.c\" value=\"%s\"/>%s</host>\n";
	const char *sink = "<prop id=\"xpu.thermal.sink\" value=\"hs\"/>"
	                   "<prop id=\"xpu.thermal.sink.r\" value=\"0.2\"/>"
	                   "<prop id=\"xpu.thermal.sink.c\" value=\"100\"/>";
	double want[2][2] = {{50, 45}, {64, 59}};
	for (int shared = 0; shared < 2; shared++) {
		char xml[4096], ha[1024], hb[1024], h5[512];
		snprintf(ha, sizeof(ha), host, "a", "50:50:50", "0.5", "10", shared ? sink : "");
		snprintf(hb, sizeof(hb), host, "b", "20:20:20", "1", "5", shared ? sink : "");
		snprintf(xml, sizeof(xml),
		         "<?xml version='1.0'?>\n"
		         "<!DOCTYPE platform SYSTEM \"https://simgrid.org/simgrid.dtd\">\n"
		         "<platform version=\"4.1\"><zone id=\"z\" routing=\"Full\">\n%s%s"
		         "</zone></platform>\n",
		         ha, hb);
		const char *pf = xt_write_file(shared ? "sink.xml" : "nosink.xml", xml);
		const char *tr = xt_write_file("long.csv", "id,class,flops,cost\n"
		                                           "x,generic,1e9,a=800\n"
		                                           "y,generic,1e9,b=800\n");
		snprintf(h5, sizeof(h5), "%s/sink%d.h5", xt_tmpdir(), shared);
		struct xpu_run_opts o = {.platform = pf, .trace = tr, .sched = "fifo"};
		cr_assert_eq(xt_run_forked(&o, h5), 0);
		double *tmax;
		cr_assert_eq(units_column(h5, "max_temp_c", &tmax), 2);
		for (int u = 0; u < 2; u++)
			cr_assert_float_eq(tmax[u], want[shared][u], 1e-6, "%s unit %d: %.9g C",
			                   shared ? "sink" : "alone", u, tmax[u]);
		free(tmax);
	}
}

/* IPA on a thermal zone: two hot units on one heat sink (each 0.25 K/W to the sink,
 * the sink 0.15 K/W to 25 C; both at 110 W would settle at 85.5 C) share one budget
 * from a PID on the hotter one. Neither passes the 70 C limit, the zone settles within
 * 2 C of it, and the shared budget finishes sooner than step-wise's per-unit steps. */
Test(thermal, power_allocator_shares_a_zones_budget, .timeout = 120)
{
	const char *host =
	    "<host id=\"%s\" speed=\"2Gf,1Gf,0.5Gf\"><prop id=\"xpu.kind\" value=\"cpu\"/>"
	    "<prop id=\"wattage_per_state\" value=\"10:10:110, 8:8:60, 5:5:30\"/>"
	    "<prop id=\"xpu.thermal.r\" value=\"0.25\"/><prop id=\"xpu.thermal.c\" value=\"10\"/>"
	    "<prop id=\"xpu.thermal.warning\" value=\"60\"/>"
	    "<prop id=\"xpu.thermal.limit\" value=\"70\"/>"
	    "<prop id=\"xpu.thermal.sink\" value=\"hs\"/>"
	    "<prop id=\"xpu.thermal.sink.r\" value=\"0.15\"/>"
	    "<prop id=\"xpu.thermal.sink.c\" value=\"40\"/></host>\n";
	char ha[1024], hb[1024], xml[4096], tr[512];
	snprintf(ha, sizeof(ha), host, "a");
	snprintf(hb, sizeof(hb), host, "b");
	snprintf(xml, sizeof(xml),
	         "<?xml version='1.0'?>\n"
	         "<!DOCTYPE platform SYSTEM \"https://simgrid.org/simgrid.dtd\">\n"
	         "<platform version=\"4.1\"><zone id=\"z\" routing=\"Full\">\n%s%s"
	         "</zone></platform>\n",
	         ha, hb);
	const char *pf = xt_write_file("zone.xml", xml);
	snprintf(tr, sizeof(tr), "%s/zone.csv", xt_tmpdir());
	FILE *f = fopen(tr, "w");
	cr_assert_not_null(f);
	fprintf(f, "id,class,flops\n");
	for (int i = 0; i < 20; i++)
		fprintf(f, "t%d,generic,2e10\n", i);
	fclose(f);
	const char *govs[] = {"power-allocator", "step-wise"};
	double span[2];
	for (int g = 0; g < 2; g++) {
		char h5[512];
		snprintf(h5, sizeof(h5), "%s/zone%d.h5", xt_tmpdir(), g);
		struct xpu_run_opts o = {.platform = pf,
		                         .trace = tr,
		                         .sched = "round-robin",
		                         .power = govs[g],
		                         .gov_period = 0.1};
		cr_assert_eq(xt_run_forked(&o, h5), 0, "%s", govs[g]);
		struct xpu_summary s = {0};
		struct xpu_err err = {{0}};
		cr_assert_eq(xpu_results_read_summary(h5, &s, &err), 0, "%s", err.msg);
		span[g] = xpu_summary_get(&s, "makespan_s");
		cr_assert_eq(xpu_summary_get(&s, "time_over_limit_s"), 0, "%s", govs[g]);
		xpu_summary_clear(&s);
		if (g)
			continue;
		double *t, *temp;
		size_t n = timeline_column(h5, "t", &t);
		cr_assert_eq(timeline_column(h5, "temp_c", &temp), n);
		double hi = -INFINITY;
		for (size_t i = 0; i < n; i++)
			if (t[i] >= span[g] / 2 && t[i] <= span[g] * 0.9)
				hi = fmax(hi, temp[i]);
		cr_assert(hi >= 68 && hi <= 70, "the zone's hottest over the second half: %g C",
		          hi);
		free(t);
		free(temp);
	}
	cr_assert_lt(span[0], span[1], "IPA %g s, step-wise %g s", span[0], span[1]);
}
