/* test_vidur.c — the vidur operator-profile reader and `xpuopt profile`, on hand-written
 * fixtures and on the real A100 Llama-2-7B profile. */
#include <criterion/criterion.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "helpers.h"
#include "trace.h"
#include "../traces/vidur.h"

#define VD_DIR XPU_SRCDIR "/tests/data/traces/vidur/"
#define REAL   XPU_SRCDIR "/../shared/traces/profiles/vidur_a100_Llama-2-7b_mlp.csv"

static const char *vd_path(const char *name)
{
	static char buf[4][4096];
	static int k;
	k = (k + 1) % 4;
	snprintf(buf[k], sizeof(buf[k]), "%s%s", VD_DIR, name);
	return buf[k];
}

static const char *real_profile(void)
{
	if (access(REAL, R_OK))
		cr_skip_test("no ../shared/traces/profiles beside the source tree (the vidur "
		             "profile is absent)");
	return REAL;
}

static struct xpu_workload *vd_load(const char *path, const char *format)
{
	struct xpu_workload *w = NULL;
	struct xpu_err err = {{0}};
	int rc = xpu_workload_load(path, format, NULL, &w, &err);
	cr_assert_eq(rc, 0, "%s: %s", path, err.msg);
	return w;
}

static const struct xpu_task *vd_task(const struct xpu_workload *w, const char *id)
{
	for (uint32_t i = 0; i < w->ntasks; i++)
		if (!strcmp(w->tasks[i].id, id))
			return &w->tasks[i];
	cr_assert_fail("no task %s", id);
	return NULL;
}

/* The producer of t's only dependency. */
static const char *dep_of(const struct xpu_workload *w, const struct xpu_task *t, double *bytes)
{
	cr_assert_eq(t->ndeps, 1, "%s has %u dependencies", t->id, t->ndeps);
	*bytes = t->deps[0].bytes;
	return w->tasks[t->deps[0].task].id;
}

/* ------------------------------------------------------------------ broken files */

struct bad {
	const char *file, *format, *want; /* want: the message after "PATH" */
};

static const struct bad bad_files[] = {
    {"truncated.csv", NULL, ":3: 10 fields, but the header names 22"},
    {"too_many_fields.csv", NULL, ":2: more than 22 fields, but the header names 22"},
    {"not_number.csv", NULL,
     ":2: field 'time_stats.mlp_up_proj.median': expected a non-negative number, got \"fast\""},
    {"negative.csv", NULL,
     ":2: field 'time_stats.attn_decode.median': expected a non-negative number, got "
     "\"-0.6\""},
    {"nan.csv", NULL,
     ":2: field 'time_stats.norm.median': expected a non-negative number, got \"nan\""},
    {"too_large.csv", NULL,
     ":3: field 'time_stats.mlp_up_proj.median': expected a non-negative number, got "
     "\"1e999\" (too large)"},
    {"too_large_ms.csv", NULL,
     ":2: field 'time_stats.mlp_up_proj.median': expected a non-negative number, got "
     "\"2e16\" (too large)"},
    {"bad_tokens.csv", NULL,
     ":2: field 'num_tokens': expected a non-negative number, got \"many\""},
    {"missing_stat.csv", NULL,
     ":1: header: no column 'time_stats.norm.median' for operator 'norm' (the statistic "
     "replayed is median)"},
    {"duplicate_column.csv", NULL,
     ":1: header: duplicate column 'time_stats.norm.median' (columns 4 and 14)"},
    {"bad_op_name.csv", NULL,
     ":1: header: column 1, \"time_stats.no;rm.min\": an operator name holds letters, "
     "digits, '_', '-' and '.' only"},
    {"no_time_stats.csv", "vidur",
     ":1: expected a vidur profile header with time_stats.OP.STAT columns (such as "
     "time_stats.mlp_up_proj.median), found none"},
    {"empty.csv", "vidur", ": empty file, expected a header row"},
    /* The chosen statistic decides which column must be there. */
    {"missing_stat.csv", "vidur:stat=max", NULL},
};

Test(vidur, broken_files_are_rejected_with_file_and_line)
{
	for (size_t i = 0; i < sizeof(bad_files) / sizeof(bad_files[0]); i++) {
		const struct bad *b = &bad_files[i];
		struct xpu_workload *w = NULL;
		struct xpu_err err = {{0}};
		char want[4096];
		const char *path = vd_path(b->file);
		int rc = xpu_workload_load(path, b->format, NULL, &w, &err);
		if (!b->want) {
			cr_expect_eq(rc, 0, "%s (%s): %s", b->file, b->format, err.msg);
			xpu_workload_free(w);
			continue;
		}
		snprintf(want, sizeof(want), "%s%s", path, b->want);
		cr_expect_eq(rc, -EINVAL, "%s: expected -EINVAL, got %d", b->file, rc);
		cr_expect_null(w);
		cr_expect_str_eq(err.msg, want, "%s", b->file);
	}
}

Test(vidur, cli_exit_2_on_a_broken_file)
{
	char buf[4096];
	cr_expect_eq(xt_cmd(buf, sizeof(buf), "trace %s 2>/dev/null", vd_path("negative.csv")), 2);
	cr_expect_eq(xt_cmd(buf, sizeof(buf), "profile %s 2>/dev/null", vd_path("truncated.csv")),
	             2);
}

Test(vidur, unknown_and_bad_parameters)
{
	struct xpu_trace_reader *r = NULL;
	struct xpu_err err = {{0}};
	cr_assert_eq(xpu_trace_open(vd_path("ok.csv"), "vidur:stats=max", &r, &err), -EINVAL);
	cr_expect_str_eq(err.msg, "trace format vidur: unknown parameter 'stats' (parameters: "
	                          "stat, speed, dtype_bytes)");
	cr_assert_eq(xpu_trace_open(vd_path("ok.csv"), "vidur:stat=std", &r, &err), -EINVAL);
	cr_expect_str_eq(err.msg, "trace format vidur: parameter 'stat': expected one of min, "
	                          "max, mean, median, got \"std\"");
	cr_assert_eq(xpu_trace_open(vd_path("ok.csv"), "vidur:speed=0", &r, &err), -EINVAL);
	cr_expect_str_eq(err.msg, "trace format vidur: parameter 'speed': expected a positive "
	                          "number, got \"0\"");
}

/* ------------------------------------------------------------------ mapping */

/* ok.csv, by hand (speed 1e12 flop/s, times in ms, dtype 2 bytes):
 *   row 1: norm 0.2 ms -> 2e8; mlp_up_proj 2 ms -> 2e9 (gemm); attn_decode 0.6 ms ->
 *          6e8 (attention); activation 1024 tokens x 4096 x 2 = 8,388,608 bytes
 *   row 2: 0.015 -> 1.5e7; 0.125 -> 1.25e8; 0.0625 -> 6.25e7; 16 x 4096 x 2 = 131,072
 *   row 3: attn_decode empty (not measured): 2 tasks; num_tokens empty: 0 bytes */
Test(vidur, maps_rows_to_chained_operator_tasks)
{
	const char *path = vd_path("ok.csv");
	cr_expect_str_eq(xpu_trace_format_of(path, NULL), "vidur");
	struct xpu_workload *w = vd_load(path, NULL);
	cr_assert_eq(w->ntasks, 8);
	static const char *const ids[] = {"p1.norm", "p1.mlp_up_proj", "p1.attn_decode",
	                                  "p2.norm", "p2.mlp_up_proj", "p2.attn_decode",
	                                  "p3.norm", "p3.mlp_up_proj"};
	static const double flops[] = {2e8, 2e9, 6e8, 1.5e7, 1.25e8, 6.25e7, 1e9, 4e9};
	static const int cls[] = {XPU_CLASS_GENERIC, XPU_CLASS_GEMM, XPU_CLASS_ATTENTION,
	                          XPU_CLASS_GENERIC, XPU_CLASS_GEMM, XPU_CLASS_ATTENTION,
	                          XPU_CLASS_GENERIC, XPU_CLASS_GEMM};
	static const int line[] = {2, 2, 2, 3, 3, 3, 4, 4};
	for (int i = 0; i < 8; i++) {
		const struct xpu_task *t = &w->tasks[i];
		cr_expect_str_eq(t->id, ids[i]);
		cr_expect_float_eq(t->flops, flops[i], flops[i] * 1e-12, "%s", ids[i]);
		cr_expect_eq(t->cls, cls[i], "%s", ids[i]);
		cr_expect_eq(t->line, line[i], "%s", ids[i]);
		cr_expect_eq(t->submit, 0);
	}
	cr_expect_eq(vd_task(w, "p1.norm")->ndeps, 0);
	cr_expect_eq(vd_task(w, "p2.norm")->ndeps, 0);
	double bytes;
	cr_expect_str_eq(dep_of(w, vd_task(w, "p1.mlp_up_proj"), &bytes), "p1.norm");
	cr_expect_eq(bytes, 8388608);
	cr_expect_str_eq(dep_of(w, vd_task(w, "p1.attn_decode"), &bytes), "p1.mlp_up_proj");
	cr_expect_eq(bytes, 8388608);
	cr_expect_str_eq(dep_of(w, vd_task(w, "p2.attn_decode"), &bytes), "p2.mlp_up_proj");
	cr_expect_eq(bytes, 131072);
	cr_expect_str_eq(dep_of(w, vd_task(w, "p3.mlp_up_proj"), &bytes), "p3.norm");
	cr_expect_eq(bytes, 0);
	cr_expect_eq(w->ndeps, 5);
	xpu_workload_free(w);
}

Test(vidur, stat_speed_and_dtype_parameters)
{
	/* median (default) 2 ms, max 4 ms, min 1 ms, mean 2.5 ms for p1.mlp_up_proj. */
	static const struct {
		const char *format;
		double flops, bytes;
	} cases[] = {
	    {"vidur", 2e9, 8388608},
	    {"vidur:stat=median", 2e9, 8388608},
	    {"vidur:stat=max", 4e9, 8388608},
	    {"vidur:stat=min", 1e9, 8388608},
	    {"vidur:stat=mean", 2.5e9, 8388608},
	    {"vidur:speed=1e9,dtype_bytes=4", 2e6, 16777216},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct xpu_workload *w = vd_load(vd_path("ok.csv"), cases[i].format);
		const struct xpu_task *t = vd_task(w, "p1.mlp_up_proj");
		cr_expect_float_eq(t->flops, cases[i].flops, cases[i].flops * 1e-12, "%s",
		                   cases[i].format);
		double bytes;
		dep_of(w, t, &bytes);
		cr_expect_eq(bytes, cases[i].bytes, "%s", cases[i].format);
		xpu_workload_free(w);
	}
}

Test(vidur, attention_and_collective_profiles)
{
	/* Attention: empty prefill on the decode row and the reverse; strings beside the
	 * numbers; no num_tokens, so no activation bytes. */
	struct xpu_workload *w = vd_load(vd_path("attention.csv"), NULL);
	cr_assert_eq(w->ntasks, 4);
	double bytes;
	cr_expect_str_eq(dep_of(w, vd_task(w, "p1.attn_decode"), &bytes), "p1.attn_input_reshape");
	cr_expect_eq(bytes, 0);
	cr_expect_str_eq(dep_of(w, vd_task(w, "p2.attn_prefill"), &bytes), "p2.attn_input_reshape");
	cr_expect_eq(vd_task(w, "p2.attn_prefill")->cls, XPU_CLASS_ATTENTION);
	cr_expect_float_eq(vd_task(w, "p2.attn_prefill")->flops, 5e8, 1e-3);
	cr_expect_eq(vd_task(w, "p1.attn_input_reshape")->flops, 0);
	xpu_workload_free(w);

	/* all_reduce: pandas' unnamed index column first. */
	cr_expect_str_eq(xpu_trace_format_of(vd_path("all_reduce.csv"), NULL), "vidur");
	w = vd_load(vd_path("all_reduce.csv"), NULL);
	cr_assert_eq(w->ntasks, 2);
	cr_expect_eq(vd_task(w, "p2.all_reduce")->cls, XPU_CLASS_GENERIC);
	cr_expect_float_eq(vd_task(w, "p2.all_reduce")->flops, 5.6e7, 1e-3);
	cr_expect_eq(w->ndeps, 0);
	xpu_workload_free(w);
}

Test(vidur, classes_by_operator_name)
{
	cr_expect_eq(xpu_vidur_class("mlp_up_proj"), XPU_CLASS_GEMM);
	cr_expect_eq(xpu_vidur_class("attn_pre_proj"), XPU_CLASS_GEMM);
	cr_expect_eq(xpu_vidur_class("lm_head_matmul"), XPU_CLASS_GEMM);
	cr_expect_eq(xpu_vidur_class("attn_prefill"), XPU_CLASS_ATTENTION);
	cr_expect_eq(xpu_vidur_class("attn_kv_cache_save"), XPU_CLASS_ATTENTION);
	cr_expect_eq(xpu_vidur_class("attn_rope"), XPU_CLASS_GENERIC);
	cr_expect_eq(xpu_vidur_class("add"), XPU_CLASS_GENERIC);
	cr_expect_eq(xpu_vidur_class("all_reduce"), XPU_CLASS_GENERIC);
}

Test(vidur, trace_command_header_facts)
{
	char buf[8192];
	cr_assert_eq(xt_cmd(buf, sizeof(buf), "trace %s", vd_path("ok.csv")), 0, "%s", buf);
	cr_expect_not_null(strstr(buf, "format vidur\n"), "%s", buf);
	cr_expect_not_null(strstr(buf, "records 3\n"), "%s", buf);
	cr_expect_not_null(strstr(buf, "tasks 8\n"), "%s", buf);
	cr_expect_not_null(strstr(buf, "header.ops norm,mlp_up_proj,attn_decode\n"), "%s", buf);
	cr_expect_not_null(strstr(buf, "header.ops_per_configuration 3\n"), "%s", buf);
	cr_expect_not_null(strstr(buf, "header.stat median\n"), "%s", buf);
	cr_expect_not_null(strstr(buf, "header.configurations 3\n"), "%s", buf);
}

/* ------------------------------------------------------------------ FLOPs, by hand */

/* Llama-2-7B (Touvron et al. 2023, table 1 and the released config): n_embd 4096, 32
 * heads of 128, no grouped-query attention (n_kv_head 32), n_expanded_embd 11008, gated
 * (SwiGLU) MLP. For 4096 tokens on one GPU:
 *   attn_pre_proj  2 x 4096 x 4096 x (32 + 2 x 32) x 128 = 412,316,860,416
 *   attn_post_proj 2 x 4096 x 4096 x 4096                = 137,438,953,472
 *   mlp_up_proj    2 x 4096 x 4096 x 11008 x 2            = 738,734,374,912
 *   mlp_down_proj  2 x 4096 x 11008 x 4096                = 369,367,187,456
 * and half of each with two tensor-parallel workers. */
Test(vidur, projection_flops_by_hand)
{
	double s[XPU_VIDUR_NSHAPES] = {4096, 4096, 32, 32, 11008, 1, 1};
	cr_expect_eq(xpu_vidur_flops("attn_pre_proj", s), 412316860416.0);
	cr_expect_eq(xpu_vidur_flops("attn_post_proj", s), 137438953472.0);
	cr_expect_eq(xpu_vidur_flops("mlp_up_proj", s), 738734374912.0);
	cr_expect_eq(xpu_vidur_flops("mlp_down_proj", s), 369367187456.0);
	cr_expect(isnan(xpu_vidur_flops("mlp_act", s)));
	s[XPU_VIDUR_TP] = 2;
	cr_expect_eq(xpu_vidur_flops("mlp_up_proj", s), 369367187456.0);
	s[XPU_VIDUR_TP] = NAN; /* absent: one worker */
	cr_expect_eq(xpu_vidur_flops("mlp_up_proj", s), 738734374912.0);
	s[XPU_VIDUR_GATED] = 0;
	cr_expect_eq(xpu_vidur_flops("mlp_up_proj", s), 369367187456.0);
	s[XPU_VIDUR_GATED] = NAN; /* unknown: the up projection's work is unknown */
	cr_expect(isnan(xpu_vidur_flops("mlp_up_proj", s)));
	/* Grouped-query attention (Llama-2-70B: 64 heads, 8 KV heads, n_embd 8192). */
	double g[XPU_VIDUR_NSHAPES] = {1, 8192, 64, 8, 28672, 1, 1};
	cr_expect_eq(xpu_vidur_flops("attn_pre_proj", g), 2.0 * 8192 * (64 + 16) * 128);

	/* The A100 measured mlp_up_proj at 4096 tokens (the real profile's first row, copied
	 * into llama7b_rows.csv) in 3.3655 ms median: 738,734,374,912 / 3.3655e-3 s =
	 * 219.5 Tflop/s, 0.70 of the A100's 312 Tflop/s dense FP16 tensor peak (NVIDIA A100
	 * datasheet): in the 0.5-0.9 a large GEMM reaches. */
	double eff = 738734374912.0 / 3.3655e-3 / 312e12;
	cr_expect_float_eq(eff, 0.7035, 1e-4);
	cr_expect(eff > 0.5 && eff < 0.9);
}

/* llama7b_rows.csv holds four rows of the real profile: 4096 tokens on 1 and on 2
 * GPUs, 1024 tokens, 1 token on 8 GPUs. At num_tokens >= 4096 the 8 projection runs
 * achieve (Tflop/s, hand-computed as above) 215.76 224.94 219.50 230.28 (1 GPU) and
 * 223.72 218.16 230.64 246.24 (2 GPUs): median (223.72 + 224.94) / 2 = 224.33 Tflop/s,
 * 0.719 of 312 Tflop/s; best 246.24 (mlp_down_proj on 2 GPUs). */
Test(vidur, profile_command_hand_check)
{
	char buf[16384];
	int st = xt_cmd(buf, sizeof(buf), "profile %s --peak 312Tf --min-tokens 4096",
	                vd_path("llama7b_rows.csv"));
	cr_assert_eq(st, 0, "%s", buf);
	cr_expect_not_null(strstr(buf, "gemm_runs 8\n"), "%s", buf);
	cr_expect_not_null(strstr(buf, "gemm_median_flops 2.24331e+14\n"), "%s", buf);
	cr_expect_not_null(strstr(buf, "gemm_best_flops 2.46245e+14\n"), "%s", buf);
	cr_expect_not_null(strstr(buf, "gemm_efficiency 0.7190\n"), "%s", buf);
	cr_expect_not_null(strstr(buf, "<prop id=\"xpu.class.gemm\" value=\"312Tf@0.72\"/>\n"),
	                   "%s", buf);
	cr_expect_not_null(strstr(buf, "llama7b_rows.csv"), "the comment cites the file: %s", buf);

	/* The CSV table: mlp_up_proj's two runs, 219.50 and 230.64 Tflop/s. */
	const char *dir = xt_tmpdir();
	char out[512];
	snprintf(out, sizeof(out), "%s/p.csv", dir);
	st = xt_cmd(buf, sizeof(buf), "profile %s --min-tokens 4096 -o %s",
	            vd_path("llama7b_rows.csv"), out);
	cr_assert_eq(st, 0, "%s", buf);
	FILE *f = fopen(out, "r");
	cr_assert_not_null(f);
	char line[512];
	int found = 0;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "mlp_up_proj,", 12)) {
			found = 1;
			cr_expect_str_eq(line, "mlp_up_proj,gemm,4,1.23925,3.3655,2,2.2507e+14,"
			                       "2.30638e+14,\n");
		}
	fclose(f);
	cr_expect(found, "no mlp_up_proj row in %s", out);
	unlink(out);
	rmdir(dir);
}

Test(vidur, profile_command_usage_errors)
{
	char buf[4096];
	const char *ok = vd_path("ok.csv");
	cr_expect_eq(xt_cmd(buf, sizeof(buf), "profile %s --stat std 2>/dev/null", ok), 2);
	cr_expect_eq(xt_cmd(buf, sizeof(buf), "profile %s --peak fast 2>/dev/null", ok), 2);
	cr_expect_eq(xt_cmd(buf, sizeof(buf), "profile %s --min-tokens 1.5 2>/dev/null", ok), 2);
	cr_expect_eq(xt_cmd(buf, sizeof(buf), "profile 2>/dev/null"), 2);
	cr_expect_eq(
	    xt_cmd(buf, sizeof(buf), "profile %s 2>/dev/null", vd_path("no_time_stats.csv")), 2);
	cr_expect_eq(xt_cmd(buf, sizeof(buf), "profile --help"), 0);
	cr_expect_not_null(strstr(buf, "usage: xpuopt profile"));
	/* No projection in an attention profile: a table, no efficiency. */
	cr_expect_eq(xt_cmd(buf, sizeof(buf), "profile %s --peak 312Tf 2>/dev/null",
	                    vd_path("attention.csv")),
	             0);
	cr_expect_not_null(strstr(buf, "gemm_runs 0\n"), "%s", buf);
	cr_expect_null(strstr(buf, "gemm_efficiency"), "%s", buf);
}

/* ------------------------------------------------------------------ the real profile */

Test(vidur_real, loads_1044_configurations_of_10_operators)
{
	const char *path = real_profile();
	cr_expect_str_eq(xpu_trace_format_of(path, NULL), "vidur");
	struct xpu_workload *w = vd_load(path, NULL);
	cr_expect_eq(w->ntasks, 10440);
	uint32_t rows = 0;
	for (uint32_t i = 0; i < w->ntasks; i++)
		rows += !strcmp(strchr(w->tasks[i].id, '.'), ".emb");
	cr_expect_eq(rows, 1044);
	cr_expect_eq(w->ndeps, 1044 * 9);
	cr_expect_eq(w->class_count[XPU_CLASS_GEMM], 1044 * 4);
	cr_expect_str_eq(w->tasks[10439].id, "p1044.add");
	xpu_workload_free(w);

	char buf[16384];
	cr_assert_eq(xt_cmd(buf, sizeof(buf), "trace %s", path), 0, "%s", buf);
	cr_expect_not_null(strstr(buf, "records 1044\n"), "%s", buf);
	cr_expect_not_null(strstr(buf, "tasks 10440\n"), "%s", buf);
	cr_expect_not_null(strstr(buf, "header.configurations 1044\n"), "%s", buf);
	cr_expect_not_null(strstr(buf, "header.ops emb,input_layernorm,attn_pre_proj,attn_rope,"
	                               "attn_post_proj,post_attention_layernorm,mlp_up_proj,"
	                               "mlp_act,mlp_down_proj,add\n"),
	                   "%s", buf);
}

Test(vidur_real, stat_changes_the_work)
{
	const char *path = real_profile();
	struct xpu_workload *med = vd_load(path, "vidur:stat=median");
	struct xpu_workload *max = vd_load(path, "vidur:stat=max");
	cr_assert_eq(med->ntasks, max->ntasks);
	/* First row, mlp_up_proj: median 3.3655 ms, max 3.369 ms. */
	cr_expect_float_eq(vd_task(med, "p1.mlp_up_proj")->flops, 3.3655e9, 1);
	cr_expect_float_eq(vd_task(max, "p1.mlp_up_proj")->flops, 3.369e9, 1);
	cr_expect_gt(max->total_flops, med->total_flops);
	xpu_workload_free(med);
	xpu_workload_free(max);
}

/* One replay per Test: SimGrid allows one engine per process (xt_cmd forks xpuopt). */
Test(vidur_real, replays_on_the_h100_platform)
{
	const char *path = real_profile();
	char buf[16384];
	int st = xt_cmd(buf, sizeof(buf), "run --platform %s --trace %s --sched fifo --output -",
	                xt_src("platforms/datacenter-h100.xml"), path);
	cr_assert_eq(st, 0, "exit %d: %s", st, buf);
	cr_expect_not_null(strstr(buf, "tasks_done 10440\n"), "%s", buf);
	cr_expect_not_null(strstr(buf, "tasks_failed 0\n"), "%s", buf);
}

Test(vidur_real, profile_efficiency_on_the_a100)
{
	const char *path = real_profile();
	char buf[16384];
	int st = xt_cmd(buf, sizeof(buf), "profile %s --peak 312Tf", path);
	cr_assert_eq(st, 0, "%s", buf);
	const char *p = strstr(buf, "gemm_efficiency ");
	cr_assert_not_null(p, "%s", buf);
	double eff = strtod(p + strlen("gemm_efficiency "), NULL);
	cr_expect(eff > 0 && eff <= 1, "efficiency %g", eff);
	/* Large GEMMs on an A100 reach 0.5-0.9 of peak; this profile gives 0.70. */
	cr_expect(eff > 0.5 && eff < 0.9, "efficiency %g", eff);
	cr_expect_not_null(strstr(buf, "<prop id=\"xpu.class.gemm\" value=\"312Tf@0.70\"/>"), "%s",
	                   buf);
	cr_expect_not_null(strstr(buf, "1044 configurations"), "%s", buf);
}
