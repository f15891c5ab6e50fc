/* test_platforms.c — the shipped platform files: each loads and runs a mixed trace, and
 * one task per processor kind takes the time and energy its file's numbers give. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "helpers.h"
#include "platform.h"

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f);
	fputs(text, f);
	fclose(f);
}

static const char *shipped(const char *name)
{
	static char buf[4096];
	snprintf(buf, sizeof(buf), "%s/platforms/%s", XPU_SRCDIR, name);
	return buf;
}

/* ------------------------------------------------------------------ every file runs */

/* Two tasks of each class (video left out where no unit runs it), with data edges so
 * that transfers cross the platform's links. */
static void run_mixed(const char *name, int with_video, const char *sched)
{
	static const char *const cls[] = {"gemm",        "conv",       "attention",
	                                  "llm-prefill", "llm-decode", "fft",
	                                  "stencil",     "generic",    "video"};
	int ncls = with_video ? 9 : 8;
	char trace[8192] = "id,submit,class,flops,bytes,mem,deps\n";
	for (int i = 0; i < 2 * ncls; i++) {
		char row[256];
		snprintf(row, sizeof(row), "t%d,%g,%s,%g,%g,%g,%s%s\n", i, 0.001 * (i % 3),
		         cls[i % ncls], 1e9 * (1 + i % 4), 1e7, 1e7, i >= ncls ? "t" : "",
		         i >= ncls ? (char[16]){0} : "");
		if (i >= ncls) /* depends on the same class's first task, passing 1 MB */
			snprintf(row, sizeof(row), "t%d,%g,%s,%g,%g,%g,t%d:1e6\n", i,
			         0.001 * (i % 3), cls[i % ncls], 1e9 * (1 + i % 4), 1e7, 1e7,
			         i - ncls);
		strcat(trace, row);
	}
	char tpath[256];
	snprintf(tpath, sizeof(tpath), "%s/mixed.csv", xt_tmpdir());
	write_file(tpath, trace);
	struct xpu_run_opts o = {.platform = shipped(name), .trace = tpath, .sched = sched};
	struct xpu_run_result res;
	struct xpu_err err = {{0}};
	cr_assert_eq(xpu_run(&o, &res, &err), 0, "%s: %s", name, err.msg);
	cr_assert_eq(xpu_summary_get(&res.summary, "tasks_done"), 2 * ncls, "%s", name);
	xt_check_contract(&res); /* includes: every task on a unit that runs its class */
	xpu_run_result_free(&res);
}

Test(platforms, default_runs_a_mixed_trace)
{
	run_mixed("default.xml", 1, "heft");
}
Test(platforms, workstation_runs_a_mixed_trace)
{
	run_mixed("workstation.xml", 1, "heft");
}
Test(platforms, ryzen_ai_laptop_runs_a_mixed_trace)
{
	run_mixed("ryzen-ai-laptop.xml", 1, "heft");
}
Test(platforms, snapdragon_runs_a_mixed_trace)
{
	run_mixed("snapdragon-8gen3.xml", 1, "heft");
}
Test(platforms, groq_runs_a_mixed_trace)
{
	run_mixed("groq-lpu.xml", 1, "heft");
}
Test(platforms, tpu_runs_a_mixed_trace)
{
	run_mixed("tpu-v5e-host.xml", 1, "heft");
}
Test(platforms, fpga_runs_a_mixed_trace)
{
	run_mixed("fpga-alveo.xml", 1, "heft");
}
Test(platforms, vpu_runs_a_mixed_trace)
{
	run_mixed("vpu-myriadx.xml", 1, "heft");
}
Test(platforms, datacenter_runs_a_mixed_trace)
{
	run_mixed("datacenter-h100.xml", 1, "heft");
}
Test(platforms, edge_cloud_runs_a_mixed_trace)
{
	run_mixed("edge-cloud.xml", 1, "heft");
}
/* H100 nodes: no unit models a video engine. The mixed trace submits some consumers
 * before their producers, which once deadlocked heft's plan on this platform. */
Test(platforms, cluster_runs_a_mixed_trace)
{
	run_mixed("cluster-16.xml", 0, "heft");
}

/* Machines of the real traces (the SWF logs' node pools are single generalist units;
 * the GPU pool has no video engine). */
Test(platforms, kth_sp2_runs_a_mixed_trace)
{
	run_mixed("kth-sp2.xml", 1, "heft");
}
Test(platforms, nasa_ipsc860_runs_a_mixed_trace)
{
	run_mixed("nasa-ipsc860.xml", 1, "heft");
}
Test(platforms, hpc2n_seth_runs_a_mixed_trace)
{
	run_mixed("hpc2n-seth.xml", 1, "heft");
}
Test(platforms, gpu_pool_runs_a_mixed_trace)
{
	run_mixed("gpu-pool-64.xml", 0, "heft");
}

/* ------------------------------------------------------------------ hand computations */

/* A sched policy that places task i on the unit named pin[i] (or pin[0] for all). */
static const char *const *pin;
static int npin;

static void pin_on_ready(struct xpu_sched *s, const struct xpu_task *t)
{
	const char *name = pin[(int)t->index < npin ? (int)t->index : 0];
	int u = xpu_platform_find_unit(xpu_platform_of(s->eng), name);
	cr_assert_geq(u, 0, "no unit '%s'", name);
	cr_assert_eq(xpu_place(s->eng, t, u, t->index), 0, "task %u on %s", t->index, name);
}

static const struct xpu_sched_ops pin_sched = {.head = {.name = "pin"}, .on_ready = pin_on_ready};

static void run_pinned(const char *plat, const char *trace, const char *const *units, int n,
                       struct xpu_run_result *res)
{
	char tpath[256];
	snprintf(tpath, sizeof(tpath), "%s/t.csv", xt_tmpdir());
	write_file(tpath, trace);
	pin = units;
	npin = n;
	struct xpu_run_opts o = {.platform = shipped(plat),
	                         .trace = tpath,
	                         .sched = "pin",
	                         .sched_ops = &pin_sched,
	                         .power = "performance"};
	struct xpu_err err = {{0}};
	cr_assert_eq(xpu_run(&o, res, &err), 0, "%s: %s", plat, err.msg);
	xt_check_contract(res);
}

/* One task alone on unit: its makespan is want_s and the unit, busy on its only core
 * (or one of its cores), draws want_w. */
static void one_task(const char *plat, const char *unit, const char *row, double want_s,
                     double want_w)
{
	char trace[512];
	snprintf(trace, sizeof(trace), "id,class,flops,bytes\n%s\n", row);
	const char *const u[] = {unit};
	struct xpu_run_result res;
	run_pinned(plat, trace, u, 1, &res);
	double t = xpu_summary_get(&res.summary, "makespan_s");
	cr_assert(fabs(t - want_s) <= 1e-9 * want_s, "%s/%s: %.12g s, want %.12g", plat, unit, t,
	          want_s);
	int k = xpu_platform_find_unit(&res.pf, unit);
	double e = res.us[k].energy_j;
	cr_assert(fabs(e - want_w * want_s) <= 1e-6 * want_w * want_s, "%s/%s: %.12g J, want %.12g",
	          plat, unit, e, want_w * want_s);
	xpu_run_result_free(&res);
}

Test(platforms, cpu_task_matches_the_file)
{
	/* workstation cpu, gemm 182.4 Gf x 0.85 at P0; 1.5504e11 flop = 1 s, + 2 us launch.
	 * One of 16 cores busy: epsilon + (full - epsilon) / 16 = 35 + 195 / 16 W. */
	one_task("workstation.xml", "cpu", "a,gemm,1.5504e11,0", 1 + 2e-6, 35 + 195.0 / 16);
}

Test(platforms, gpu_task_matches_the_file)
{
	/* workstation gpu, gemm 165.2 Tf x 0.7 = 115.64 Tf; 1.1564e14 flop = 1 s; the
	 * memory term 1e11 B / 1008 GB/s = 0.099 s is smaller. + 5 us; 450 W. */
	one_task("workstation.xml", "gpu", "a,gemm,1.1564e14,1e11", 1 + 5e-6, 450);
}

Test(platforms, npu_task_matches_the_file)
{
	/* laptop npu, conv 10 Tf x 0.6 = 6 Tf; 3e12 flop = 0.5 s, + 50 us; 2 W. */
	one_task("ryzen-ai-laptop.xml", "npu", "a,conv,3e12,0", 0.5 + 50e-6, 2);
}

Test(platforms, lpu_decode_is_memory_bound_as_the_file_says)
{
	/* groq lpu0, llm-decode: compute 1.504e12 / (188 Tf x 0.8) = 0.01 s; memory
	 * 1.6e12 B / 80 TB/s = 0.02 s dominates. + 1 us; 375 W. */
	one_task("groq-lpu.xml", "lpu0", "a,llm-decode,1.504e12,1.6e12", 0.02 + 1e-6, 375);
}

Test(platforms, tpu_task_matches_the_file)
{
	/* tpu3, gemm 197 Tf x 0.75 = 147.75 Tf; 1.4775e14 flop = 1 s, + 10 us; 200 W. */
	one_task("tpu-v5e-host.xml", "tpu3", "a,gemm,1.4775e14,0", 1 + 10e-6, 200);
}

Test(platforms, vpu_task_matches_the_file)
{
	/* vpu, conv 1 Tf x 0.7; 7e11 flop = 1 s, + 100 us; 1.5 W. */
	one_task("vpu-myriadx.xml", "vpu", "a,conv,7e11,0", 1 + 100e-6, 1.5);
}

Test(platforms, fpga_task_matches_the_file)
{
	/* fpga, fft 33.3 Tf x 0.2 = 6.66 Tf; 6.66e12 flop = 1 s, + 20 us launch, + 200 ms
	 * to load the first bitstream (none is loaded at the start); 225 W. */
	one_task("fpga-alveo.xml", "fpga", "a,fft,6.66e12,0", 1 + 20e-6 + 0.2, 225);
}

/* The node-pool units of the SWF logs run generic work at their per-processor peak, the
 * reader speed that replays logged run times. One of N processors busy draws idle +
 * (full - idle) / N. */
Test(platforms, kth_sp2_runs_a_processor_at_its_peak)
{
	one_task("kth-sp2.xml", "sp2", "a,generic,2.667e8,0", 1, 10000 + 5000.0 / 100);
}
Test(platforms, nasa_ipsc860_runs_a_node_at_its_peak)
{
	one_task("nasa-ipsc860.xml", "ipsc", "a,generic,8e7,0", 1, 3840 + 1280.0 / 128);
}
Test(platforms, hpc2n_seth_runs_a_processor_at_its_peak)
{
	one_task("hpc2n-seth.xml", "seth", "a,generic,3.334e9,0", 1, 13200 + 10800.0 / 240);
}

Test(platforms, gpu_pool_runs_a_gpu_at_the_philly_speed)
{
	/* One of 64 A100s, generic 19.5 Tf x 0.3 = 5.85 Tf: 5.85e12 flop = 1 s, + 5 us;
	 * 3200 + (25600 - 3200) / 64 W. */
	one_task("gpu-pool-64.xml", "gpus", "a,generic,5.85e12,0", 1 + 5e-6, 3200 + 22400.0 / 64);
}

/* ------------------------------------------------------------------ memory and bitstreams */

Test(platforms, shared_memory_soc_moves_no_bytes)
{
	/* cpu -> npu -> igpu on the laptop, 1 GB passed at each step: one LPDDR5. */
	const char *trace = "id,class,flops,deps\n"
	                    "a,generic,1e9,\n"
	                    "b,gemm,1e9,a:1e9\n"
	                    "c,gemm,1e9,b:1e9\n";
	const char *const u[] = {"cpu", "npu", "igpu"};
	struct xpu_run_result res;
	run_pinned("ryzen-ai-laptop.xml", trace, u, 3, &res);
	cr_assert_eq(xpu_summary_get(&res.summary, "tasks_done"), 3);
	cr_assert_eq(xpu_summary_get(&res.summary, "bytes_transferred"), 0);
	for (int i = 0; i < 3; i++)
		cr_assert_eq(res.w->tasks[i].bytes_in, 0, "task %d", i);
	xpu_run_result_free(&res);
}

Test(platforms, fpga_reconfigures_once_per_bitstream_change)
{
	/* A chain on the FPGA: gemm, conv (same dnn bitstream), fft, stencil (dsp),
	 * gemm (dnn again). Bitstream loads: dnn, dsp, dnn = 3 x 200 ms. Each task
	 * 6.66e12 flop at 33.3 Tf x eff, + 20 us. */
	const char *trace = "id,class,flops,deps\n"
	                    "a,gemm,6.66e12,\n"
	                    "b,conv,6.66e12,a\n"
	                    "c,fft,6.66e12,b\n"
	                    "d,stencil,6.66e12,c\n"
	                    "e,gemm,6.66e12,d\n";
	const char *const u[] = {"fpga"};
	struct xpu_run_result res;
	run_pinned("fpga-alveo.xml", trace, u, 1, &res);
	double work = 6.66e12 / 33.3e12;
	double want =
	    work / 0.6 + work / 0.6 + work / 0.2 + work / 0.2 + work / 0.6 + 5 * 20e-6 + 3 * 0.2;
	double t = xpu_summary_get(&res.summary, "makespan_s");
	cr_assert(fabs(t - want) < 1e-9, "makespan %.12g, want %.12g", t, want);
	/* Task b shares a's bitstream: no reconfiguration in its duration. */
	const struct xpu_task *b = &res.w->tasks[1], *c = &res.w->tasks[2];
	cr_assert(fabs((b->end_t - b->start_t) - (work / 0.6 + 20e-6)) < 1e-9);
	cr_assert(fabs((c->end_t - c->start_t) - (work / 0.2 + 20e-6 + 0.2)) < 1e-9);
	xpu_run_result_free(&res);
}
