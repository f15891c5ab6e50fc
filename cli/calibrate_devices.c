/* calibrate_devices.c — `xpuopt calibrate --backend NAME` for live backends other than
 * cpu (opencl, xrt, a fallback chain): each memory's units measured alone, and the file
 * of them with the copy paths between their memories (hw/README.md). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "calibrate.h"
#include "cli.h"
#include "outfile.h"
#include "run.h"

/* What was measured of the units of one memory. */
struct pool_cal {
	int cores, unit0, nunits;
	int supported[XPU_CLASS_COUNT];
	double rate[XPU_CLASS_COUNT], lat[XPU_CLASS_COUNT];
	long n[2]; /* the generic class's short and long task counts */
	double mem_bw, per_stream;
	long nstream;
	double speed; /* the host's: the generic class's rate where it has one */
};

/* Any other live backend (opencl, xrt, fallback): the units of each memory, a device
 * or the CPU threads, measured alone, every class through xpu_cal_measure_class (the generic
 * class's line gives the unit's speed and latency), the memory's bandwidth where the
 * backend streams bytes, and the copy paths between memories as the backend measured
 * them when it opened. */
int xpu_cal_calibrate_devices(struct calib *cb, const char *out)
{
	struct xpu_run_result res;
	struct xpu_err err = {{0}};
	double span;
	/* the probe: one small task; the platform the backend found, with its routes */
	cb->keep_routes = 1;
	int rc = xpu_cal_live_run(cb, 1, XPU_CLASS_GENERIC, 1.0, &span, &res, &err);
	cb->keep_routes = 0;
	if (rc)
		return xpu_cal_failed(rc, &err);
	const struct xpu_platform *pf = &res.pf;
	struct pool_cal *pc = calloc((size_t)pf->npools, sizeof(*pc));
	if (!pc) {
		xpu_run_result_free(&res);
		return 1;
	}
	for (int p = 0; p < pf->npools; p++)
		pc[p].unit0 = -1;
	for (int u = 0; u < pf->nunits; u++) {
		struct pool_cal *c = &pc[pf->units[u].mem_pool];
		if (c->unit0 < 0)
			c->unit0 = u;
		c->cores += pf->units[u].cores;
		c->nunits++;
	}
	struct steadiness st = {0, NULL};
	for (int p = 0; p < pf->npools && !rc; p++) {
		struct pool_cal *c = &pc[p];
		if (c->unit0 < 0)
			continue;
		const struct xpu_unit *un = &pf->units[c->unit0];
		cb->pool = p;
		fprintf(stderr, "xpuopt calibrate: measuring %s (%s)\n", pf->pools[p].name,
		        xpu_kind_name(un->kind));
		/* generic first: its latency stands in for a class without a usable line */
		for (int i = 0; i < XPU_CLASS_COUNT && !rc; i++) {
			int k = i == 0 ? XPU_CLASS_GENERIC : i == XPU_CLASS_GENERIC ? 0 : i;
			double at_open = un->pstates[0].speed;
			long n[2];
			if (un->has_class_props) {
				if (!un->cls[k].supported)
					continue;
				if (un->cls[k].peak > 0)
					at_open = un->cls[k].peak;
			}
			if (!(at_open > 0) || !isfinite(at_open))
				at_open = 1e9;
			c->supported[k] = 1;
			rc = xpu_cal_measure_class(
			    cb, k, at_open, c->cores,
			    k == XPU_CLASS_GENERIC ? 0 : c->lat[XPU_CLASS_GENERIC], &c->rate[k],
			    &c->lat[k], n, &st);
			if (k == XPU_CLASS_GENERIC)
				memcpy(c->n, n, sizeof(n));
		}
		/* a unit without the generic class (an NPU of a few kernels): its host's
		 * speed is its fastest class's, with no latency of its own */
		c->speed = c->rate[XPU_CLASS_GENERIC];
		for (int k = 0; k < XPU_CLASS_COUNT && !c->supported[XPU_CLASS_GENERIC]; k++)
			if (c->supported[k] && c->rate[k] > c->speed)
				c->speed = c->rate[k];
		if (!(c->speed > 0))
			c->speed = un->pstates[0].speed > 0 ? un->pstates[0].speed : 1e9;
		if (!rc && c->supported[XPU_CLASS_LLM_DECODE])
			rc = xpu_cal_measure_stream(cb, c->cores, c->lat[XPU_CLASS_LLM_DECODE],
			                            c->rate[XPU_CLASS_LLM_DECODE], &c->mem_bw,
			                            &c->per_stream, &c->nstream, &st);
	}
	cb->pool = -1;
	if (rc) {
		free(pc);
		xpu_run_result_free(&res);
		return rc;
	}

	char host[256], date[32];
	struct xpu_cli_out w;
	if ((rc = xpu_cal_out_open(&w, out, host, sizeof(host), date, sizeof(date)))) {
		free(pc);
		xpu_run_result_free(&res);
		return rc;
	}
	FILE *f = w.f;
	fprintf(f,
	        "<!-- Written by xpuopt calibrate on %s, %s: %d unit(s) of the live backend\n"
	        "     %s (xpuopt run --backend %s), measured through the live path.\n"
	        "     The units of each memory (a device, or the CPU threads) were measured\n"
	        "     alone, the others idle. Each class: %ld tasks of about %g us each per\n"
	        "     core and %ld of about %g ms, sized at the rate the backend measured at\n"
	        "     open, the medians of %d replays of each; a task's time is the class's\n"
	        "     launch latency (xpu.launch.CLASS) + its flops over its rate\n"
	        "     (xpu.class.CLASS), the line through both. The generic class gives the\n"
	        "     host's speed and xpu.launch.\n"
	        "     xpu.mem.bw: llm-decode tasks over %.0f MB of weights on every core at\n"
	        "       once, where the backend streams a task's bytes (none written where\n"
	        "       its kernels are sized from the flops alone).\n"
	        "     Links: the copy paths between memories as the backend measured them\n"
	        "       when it opened (hw/README.md).\n"
	        "     Steadiness: the replays of one measurement came out at most %.1f%%\n"
	        "       apart (%s)%s.\n"
	        "     Power: the backend's figures (measured where it reads counters, else\n"
	        "       its model). -->\n"
	        "<platform version=\"4.1\">\n  <zone id=\"calibrated\" routing=\"Full\">\n",
	        host, date, pf->nunits, cb->backend, cb->backend,
	        (long)(CLASS_PASS_S / CLASS_SHORT_S), CLASS_SHORT_S * 1e6,
	        (long)(CLASS_PASS_S / CLASS_TASK_S), CLASS_TASK_S * 1e3, ROUNDS, STREAM_B / 1e6,
	        100 * st.spread, st.what ? st.what : "none",
	        st.spread > UNSTEADY
	            ? "; the machine was not steady: calibrate again on an idle machine"
	            : "");
	xpu_cal_sizes_note(f, cb);
	for (int u = 0; u < pf->nunits; u++) {
		const struct xpu_unit *un = &pf->units[u];
		const struct xpu_pstate *ps = &un->pstates[0];
		const struct pool_cal *c = &pc[un->mem_pool];
		const char *mem = pf->pools[un->mem_pool].name;
		int shared = c->nunits > 1 || strcmp(mem, un->name);
		fprintf(f,
		        "    <!-- %s: %.4g Gflop/s, launch %.4g us; measured %s -->\n"
		        "    <host id=\"%s\" speed=\"%.9gf\" core=\"%d\">\n"
		        "      <prop id=\"xpu.kind\" value=\"%s\"/>\n"
		        "      <prop id=\"xpu.mem\" value=\"%.0f\"/>\n",
		        un->name, c->speed / 1e9, c->lat[XPU_CLASS_GENERIC] * 1e6, date, un->name,
		        c->speed, un->cores, xpu_kind_name(un->kind),
		        pf->pools[un->mem_pool].capacity);
		if (shared)
			fprintf(f, "      <prop id=\"xpu.mem.shared\" value=\"%s\"/>\n", mem);
		fprintf(f,
		        "      <prop id=\"xpu.launch\" value=\"%.9gs\"/>\n"
		        "      <prop id=\"wattage_per_state\" value=\"%.6g:%.6g:%.6g\"/>\n",
		        c->lat[XPU_CLASS_GENERIC], ps->idle_w, ps->epsilon_w, ps->full_w);
		if (c->mem_bw > 0)
			fprintf(f, "      <prop id=\"xpu.mem.bw\" value=\"%.9gBps\"/>\n",
			        c->mem_bw);
		for (int k = 0; k < XPU_CLASS_COUNT; k++)
			if (c->supported[k])
				fprintf(f, "      <prop id=\"xpu.class.%s\" value=\"%.9gf@1\"/>\n",
				        xpu_class_name(k), c->rate[k]);
			else
				fprintf(f,
				        "      <prop id=\"xpu.class.%s\" value=\"unsupported\"/>\n",
				        xpu_class_name(k));
		for (int k = 0; k < XPU_CLASS_COUNT; k++)
			if (k != XPU_CLASS_GENERIC && c->supported[k])
				fprintf(f, "      <prop id=\"xpu.launch.%s\" value=\"%.9gs\"/>\n",
				        xpu_class_name(k), c->lat[k]);
		fprintf(f, "    </host>\n");
	}
	/* one link per ordered pair of memories with a copy path, then (SimGrid wants
	 * every link before the first route) the route of every pair of their units
	 * through it */
	for (int pass = 0; pass < 2; pass++)
		for (int p = 0; p < pf->npools; p++)
			for (int q = 0; q < pf->npools; q++) {
				double lat, bw;
				if (p == q || pc[p].unit0 < 0 || pc[q].unit0 < 0 ||
				    !xpu_platform_route(pf, pc[p].unit0, pc[q].unit0, &lat, &bw))
					continue;
				const char *pn = pf->pools[p].name, *qn = pf->pools[q].name;
				if (pass == 0) {
					/* a path the backend reports as free (between members of a
					 * chain: the data are this process's memory) gets a
					 * bandwidth SimGrid can hold */
					if (bw > MAX_LINK_BW) {
						bw = MAX_LINK_BW;
						fprintf(
						    f,
						    "    <!-- copies %s to %s complete at once "
						    "live "
						    "(between backends\n         of a chain: one "
						    "process's memory); written as 1 PB/s -->\n",
						    pn, qn);
					} else
						fprintf(f,
						        "    <!-- copies %s to %s: latency %.4g "
						        "us, %.4g "
						        "GB/s; measured %s -->\n",
						        pn, qn, lat * 1e6, bw / 1e9, date);
					fprintf(
					    f,
					    "    <link id=\"copy-%s-to-%s\" bandwidth=\"%.9gBps\" "
					    "latency=\"%.9gs\"/>\n",
					    pn, qn, bw, lat);
					continue;
				}
				for (int u = 0; u < pf->nunits; u++)
					for (int v = 0; v < pf->nunits; v++)
						if (pf->units[u].mem_pool == p &&
						    pf->units[v].mem_pool == q)
							fprintf(f,
							        "    <route src=\"%s\" dst=\"%s\" "
							        "symmetrical=\"NO\"><link_ctn "
							        "id=\"copy-%s-to-%s\"/></route>\n",
							        pf->units[u].name,
							        pf->units[v].name, pn, qn);
			}
	fprintf(f, "  </zone>\n</platform>\n");
	rc = xpu_cli_out_close(&w, ferror(f) ? 1 : 0);
	if (!rc && strcmp(out, "-"))
		fprintf(stderr, "xpuopt calibrate: wrote %s: %d unit(s)\n", out, pf->nunits);
	if (!rc && st.spread > UNSTEADY)
		fprintf(stderr,
		        "xpuopt calibrate: warning: the machine was not steady: the replays of %s "
		        "came out %.1f%% apart (over %.0f%%); predictions from this file will be "
		        "off by as much. Calibrate again on an idle machine.\n",
		        st.what, 100 * st.spread, 100 * UNSTEADY);
	free(pc);
	xpu_run_result_free(&res);
	return rc;
}
