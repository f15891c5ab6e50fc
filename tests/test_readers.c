/* test_readers.c — the public-format trace readers (SWF, STG, GPU-cluster CSVs, Azure LLM) and
 * `xpuopt convert`. */
#include <criterion/criterion.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "helpers.h"
#include "trace.h"

#define RD_DIR XPU_SRCDIR "/tests/data/traces/"
#define SHARED XPU_SRCDIR "/../shared/traces"

static const char *rd_path(const char *name)
{
	static char buf[4][4096];
	static int k;
	k = (k + 1) % 4;
	snprintf(buf[k], sizeof(buf[k]), "%s%s", RD_DIR, name);
	return buf[k];
}

static struct xpu_workload *rd_load(const char *path, const char *format)
{
	struct xpu_workload *w = NULL;
	struct xpu_err err = {{0}};
	int rc = xpu_workload_load(path, format, NULL, &w, &err);
	cr_assert_eq(rc, 0, "%s: %s", path, err.msg);
	return w;
}

static const struct xpu_task *rd_task(const struct xpu_workload *w, const char *id)
{
	for (uint32_t i = 0; i < w->ntasks; i++)
		if (!strcmp(w->tasks[i].id, id))
			return &w->tasks[i];
	cr_assert_fail("no task %s", id);
	return NULL;
}

/* ------------------------------------------------------------------ broken files */

struct bad {
	const char *file, *format, *want; /* want: the message after "PATH" */
};

static const struct bad bad_files[] = {
    {"swf/truncated.swf", NULL, ":4: expected 18 whitespace-separated fields, got 5"},
    {"swf/too_many_fields.swf", NULL,
     ":3: expected 18 whitespace-separated fields, got more than 18"},
    {"swf/not_number.swf", NULL,
     ":3: field 'run_time': expected a number >= -1 (-1: unknown), got \"abc\""},
    {"swf/negative.swf", NULL,
     ":3: field 'run_time': expected a number >= -1 (-1: unknown), got \"-7\""},
    {"swf/fractional_procs.swf", NULL,
     ":3: field 'allocated_procs': expected an integer, got \"2.5\""},
    {"swf/too_large.swf", NULL,
     ":3: field 'allocated_procs': expected an integer, got \"99999999999\" (too large)"},
    {"swf/overflow.swf", NULL,
     ":3: field 'submit': expected a number >= -1 (-1: unknown), got \"1e999\" (too large)"},
    {"swf/empty.swf", NULL, ": empty file, expected SWF header comments or job lines"},
    {"swf/corrupt.swf.gz", NULL, ":1: expected 18 whitespace-separated fields, got 1"},
    {"stg/cycle.stg", NULL,
     ":4: field 'pred': node 2 names 3 as a predecessor; predecessors must be earlier "
     "nodes (a cycle or a dangling reference)"},
    {"stg/dangling.stg", NULL,
     ":5: field 'pred': node 3 names 9 as a predecessor; predecessors must be earlier "
     "nodes (a cycle or a dangling reference)"},
    {"stg/self_dep.stg", NULL,
     ":4: field 'pred': node 2 names 2 as a predecessor; predecessors must be earlier "
     "nodes (a cycle or a dangling reference)"},
    {"stg/truncated.stg", NULL, ":4: field 'pred': n_preds is 2, but the line lists 1"},
    {"stg/extra_pred.stg", NULL, ":4: n_preds is 1, but the line lists more predecessors"},
    {"stg/not_number.stg", NULL,
     ":3: field 'processing_time': expected a non-negative number, got \"x5\""},
    {"stg/wrong_id.stg", NULL,
     ":6: field 'id': expected 4 (nodes are numbered in order), got \"5\""},
    {"stg/wrong_count.stg", NULL,
     ":1: the header counts 5 tasks, but the file has 6 nodes (expected 5 with the dummy "
     "entry and exit, or 7 without)"},
    {"stg/too_large.stg", NULL,
     ":1: field 'task_count': expected a non-negative integer, got \"99999999999\" (too "
     "large)"},
    {"stg/empty.stg", NULL, ": empty file, expected a task count on line 1"},
    {"stg/bad_header.stg", NULL, ":1: expected the task count alone on the first line"},
    {"alibaba-gpu/truncated.csv", NULL, ":2: 10 fields, but the header names 11"},
    {"alibaba-gpu/not_number.csv", NULL,
     ":2: field 'num_gpu': expected a non-negative number, got \"one\""},
    {"alibaba-gpu/too_much_gpu.csv", NULL,
     ":2: field 'gpu_milli': expected thousandths of one GPU (0 to 1000), got \"1500\""},
    {"alibaba-gpu/deleted_before_scheduled.csv", NULL,
     ":2: field 'deletion_time': 100 is earlier than scheduled_time 200"},
    {"alibaba-gpu/too_large.csv", NULL,
     ":2: field 'creation_time': expected a non-negative number, got \"1e999\" (too large)"},
    {"philly/truncated.csv", NULL, ":2: 3 fields, but the header names 4"},
    {"philly/not_number.csv", NULL,
     ":2: field 'duration': expected a non-negative number, got \"1h\""},
    {"philly/fractional_gpu.csv", NULL,
     ":2: field 'num_gpu': expected a whole number of GPUs, got \"1.5\""},
    {"philly/too_large.csv", NULL,
     ":2: field 'num_gpu': expected a whole number of GPUs, got \"5000000\" (too large)"},
    {"philly/duplicate.csv", NULL, ":3: field 'id': duplicate task id \"j1\" (first on line 2)"},
    {"philly/missing_column.csv", "philly",
     ":1: header: no column 'num_gpu' (a philly header names "
     "job_id,submission_time,duration,num_gpu)"},
    {"azure-llm/truncated.csv", NULL, ":2: 2 fields, but the header names 3"},
    {"azure-llm/not_number.csv", NULL,
     ":2: field 'ContextTokens': expected a non-negative number, got \"many\""},
    {"azure-llm/bad_time.csv", NULL,
     ":2: field 'TIMESTAMP': expected a time as YYYY-MM-DD HH:MM:SS.fff, got \"2023-13-16 "
     "18:17:03.5\""},
    {"azure-llm/impossible_date.csv", NULL,
     ":2: field 'TIMESTAMP': expected a time as YYYY-MM-DD HH:MM:SS.fff, got \"2023-02-30 "
     "10:00:00.0\""},
    {"azure-llm/time_backwards.csv", NULL,
     ":3: field 'TIMESTAMP': expected a time no earlier than the first request's, got "
     "\"2023-11-16 18:17:01.5\""},
    {"azure-llm/too_large.csv", NULL,
     ":2: field 'GeneratedTokens': expected a whole number of tokens, got \"99999999999\" "
     "(too large)"},
    {"azure-llm/empty.csv", "azure-llm", ": empty file, expected a header row"},
};

Test(readers, broken_files_are_rejected_with_file_and_line)
{
	for (size_t i = 0; i < sizeof(bad_files) / sizeof(bad_files[0]); i++) {
		const struct bad *b = &bad_files[i];
		struct xpu_workload *w = NULL;
		struct xpu_err err = {{0}};
		char want[4096];
		const char *path = rd_path(b->file);
		snprintf(want, sizeof(want), "%s%s", path, b->want);
		int rc = xpu_workload_load(path, b->format, NULL, &w, &err);
		cr_expect_eq(rc, -EINVAL, "%s: expected -EINVAL, got %d", b->file, rc);
		cr_expect_null(w);
		cr_expect_str_eq(err.msg, want, "%s", b->file);
	}
}

Test(readers, cli_exit_2_on_a_broken_file)
{
	char buf[4096];
	cr_assert_eq(xt_cmd(buf, sizeof(buf), "trace %s", rd_path("stg/cycle.stg")), 2);
	cr_assert_eq(xt_cmd(buf, sizeof(buf), "trace %s", rd_path("swf/truncated.swf")), 2);
}

/* ------------------------------------------------------------------ mappings */

Test(swf, maps_fields_and_tolerates_blank_lines)
{
	struct xpu_workload *w = rd_load(rd_path("swf/mixed.swf"), "swf:speed=2e9");
	cr_assert_eq(w->ntasks, 4);
	const struct xpu_task *t = rd_task(w, "1");
	cr_expect_eq(t->width, 4);
	cr_expect_float_eq(t->flops, 100 * 2e9 * 4, 1);
	cr_expect_float_eq(t->estimate, 200, 0);
	cr_expect_str_eq(w->users[t->user], "3");
	t = rd_task(w, "2"); /* allocated -1: the requested 2 procs; failed, kept */
	cr_expect_eq(t->width, 2);
	cr_expect(isnan(t->estimate));
	t = rd_task(w, "3"); /* cancelled before it ran */
	cr_expect_eq(t->flops, 0);
	t = rd_task(w, "4");
	cr_expect_float_eq(t->mem, 2048.0 * 1024, 0);
	cr_expect_eq(t->ndeps, 0); /* preceding job ignored by default */
	xpu_workload_free(w);
}

Test(swf, gzip_options_and_header)
{
	struct xpu_workload *w =
	    rd_load(rd_path("swf/mixed.swf.gz"), "swf:failed=drop,cancelled=drop,deps=preceding");
	cr_assert_eq(w->ntasks, 2);
	const struct xpu_task *t = rd_task(w, "4");
	cr_assert_eq(t->ndeps, 1);
	cr_expect_str_eq(w->tasks[t->deps[0].task].id, "1");
	xpu_workload_free(w);

	struct xpu_trace_reader *r;
	struct xpu_err err = {{0}};
	cr_assert_eq(xpu_trace_open(rd_path("swf/ok.swf"), NULL, &r, &err), 0, "%s", err.msg);
	const char *k, *v;
	cr_assert_eq(xpu_trace_header(r, 0, &k, &v), 1);
	cr_expect_str_eq(k, "MaxProcs");
	cr_expect_str_eq(v, "8");
	cr_assert_eq(xpu_trace_header(r, 1, &k, &v), 1);
	cr_expect_str_eq(k, "UnixStartTime");
	cr_expect_eq(xpu_trace_header(r, 2, &k, &v), 0);
	xpu_trace_close(r);
}

Test(readers, unknown_and_bad_parameters)
{
	struct xpu_trace_reader *r = NULL;
	struct xpu_err err = {{0}};
	cr_assert_eq(xpu_trace_open(rd_path("swf/ok.swf"), "swf:sped=1", &r, &err), -EINVAL);
	cr_expect_str_eq(err.msg, "trace format swf: unknown parameter 'sped' (parameters: "
	                          "speed, failed, cancelled, deps)");
	cr_assert_eq(xpu_trace_open(rd_path("swf/ok.swf"), "swf:speed=-1", &r, &err), -EINVAL);
	cr_expect_str_eq(err.msg, "trace format swf: parameter 'speed': expected a positive "
	                          "number, got \"-1\"");
	cr_assert_eq(xpu_trace_open(rd_path("swf/ok.swf"), "swf:failed=maybe", &r, &err), -EINVAL);
	cr_expect_str_eq(err.msg, "trace format swf: parameter 'failed': expected one of keep, "
	                          "drop, got \"maybe\"");
	cr_assert_null(r);
}

Test(stg, dummies_dropped_with_either_header_count)
{
	const char *files[] = {"stg/no_dummy_count.stg", "stg/with_dummy_count.stg"};
	for (int i = 0; i < 2; i++) {
		struct xpu_workload *w = rd_load(rd_path(files[i]), "stg:speed=10");
		cr_assert_eq(w->ntasks, 4, "%s", files[i]);
		cr_expect_eq(rd_task(w, "1")->ndeps, 0); /* the entry dummy's edge is gone */
		cr_expect_eq(rd_task(w, "3")->ndeps, 2);
		cr_expect_float_eq(rd_task(w, "2")->flops, 70, 0);
		xpu_workload_free(w);
	}
}

Test(gpu_csv, alibaba_and_philly_by_header)
{
	cr_expect_str_eq(xpu_trace_format_of(rd_path("alibaba-gpu/ok.csv"), NULL), "alibaba-gpu");
	cr_expect_str_eq(xpu_trace_format_of(rd_path("philly/ok.csv"), NULL), "philly");
	cr_expect_str_eq(xpu_trace_format_of(rd_path("azure-llm/ok.csv"), NULL), "azure-llm");
	cr_expect_str_eq(xpu_trace_format_of(rd_path("heft_paper.csv"), NULL), "native");

	struct xpu_workload *w = rd_load(rd_path("alibaba-gpu/ok.csv"), "alibaba-gpu:class=gemm");
	cr_assert_eq(w->ntasks, 5);
	cr_expect_float_eq(rd_task(w, "p0")->flops, 100 * 1e12, 1);
	cr_expect_float_eq(rd_task(w, "p0")->mem, 16384.0 * 1048576, 0);
	cr_expect_float_eq(rd_task(w, "p1")->flops, 90 * 1e12 * 0.5, 1); /* half a GPU */
	cr_expect_eq(rd_task(w, "p2")->width, 4);
	cr_expect_float_eq(rd_task(w, "p2")->flops, 40 * 1e12 * 4, 1);
	cr_expect_eq(rd_task(w, "p3")->width, 1); /* CPU-only pod */
	cr_expect_eq(rd_task(w, "p4")->flops, 0); /* pending: never scheduled */
	cr_expect_eq(rd_task(w, "p0")->cls, XPU_CLASS_GEMM);
	xpu_workload_free(w);

	w = rd_load(rd_path("philly/ok.csv"), NULL);
	cr_assert_eq(w->ntasks, 3);
	cr_expect_eq(rd_task(w, "j2")->width, 8);
	cr_expect_float_eq(rd_task(w, "j2")->flops, 50 * 1e12 * 8, 1);
	cr_expect_float_eq(rd_task(w, "j2")->submit, 5, 0);
	xpu_workload_free(w);
}

Test(llm, prefill_and_decode_per_request)
{
	struct xpu_workload *w = rd_load(rd_path("azure-llm/ok.csv"), "azure-llm:params=1e9");
	cr_assert_eq(w->ntasks, 4);
	const struct xpu_task *p = rd_task(w, "r1.prefill"), *d = rd_task(w, "r1.decode");
	cr_expect_eq(p->cls, XPU_CLASS_LLM_PREFILL);
	cr_expect_eq(d->cls, XPU_CLASS_LLM_DECODE);
	cr_expect_float_eq(p->flops, 2 * 1e9 * 100, 1);
	cr_expect_float_eq(d->flops, 2 * 1e9 * 10, 1);
	cr_assert_eq(d->ndeps, 1);
	cr_expect_eq(d->deps[0].task, p->index);
	cr_expect_float_eq(d->deps[0].bytes, 100 * 524288.0, 0);
	/* 10 tokens, each reading 2 GB of weights and the KV cache so far. */
	cr_expect_float_eq(d->bytes, 10 * 2e9 + 524288.0 * (10 * 100 + 45), 1);
	cr_expect_float_eq(rd_task(w, "r2.prefill")->submit, 2, 1e-9);
	xpu_workload_free(w);
}

/* ------------------------------------------------------------------ convert */

Test(convert, round_trips_through_native)
{
	const char *dir = xt_tmpdir();
	char out[512], buf[8192];
	snprintf(out, sizeof(out), "%s/stg.csv", dir);
	int st =
	    xt_cmd(buf, sizeof(buf), "convert %s -o %s", rd_path("stg/no_dummy_count.stg"), out);
	cr_assert_eq(st, 0, "%s", buf);
	struct xpu_workload *w = rd_load(out, NULL);
	cr_assert_eq(w->ntasks, 4);
	cr_expect_eq(rd_task(w, "3")->ndeps, 2);
	xpu_workload_free(w);

	snprintf(out, sizeof(out), "%s/llm.csv", dir);
	cr_assert_eq(xt_cmd(buf, sizeof(buf), "convert %s -o %s", rd_path("azure-llm/ok.csv"), out),
	             0);
	w = rd_load(out, NULL);
	const struct xpu_task *d = rd_task(w, "r1.decode");
	cr_expect_float_eq(d->deps[0].bytes, 100 * 524288.0, 0);
	cr_expect_eq(d->cls, XPU_CLASS_LLM_DECODE);
	xpu_workload_free(w);

	snprintf(out, sizeof(out), "%s/swf.csv", dir);
	cr_assert_eq(xt_cmd(buf, sizeof(buf), "convert %s -o %s", rd_path("swf/mixed.swf"), out),
	             0);
	w = rd_load(out, NULL);
	cr_expect_eq(rd_task(w, "1")->width, 4);
	cr_expect_float_eq(rd_task(w, "1")->estimate, 200, 0);
	xpu_workload_free(w);
}

Test(convert, bad_input_exits_2_and_writes_nothing)
{
	const char *dir = xt_tmpdir();
	char out[512], buf[8192];
	snprintf(out, sizeof(out), "%s/bad.csv", dir);
	cr_assert_eq(
	    xt_cmd(buf, sizeof(buf), "convert %s -o %s", rd_path("swf/truncated.swf"), out), 2);
	cr_expect_neq(access(out, F_OK), 0);
	cr_assert_eq(xt_cmd(buf, sizeof(buf), "convert %s", rd_path("swf/ok.swf")), 2);
	cr_assert_eq(xt_cmd(buf, sizeof(buf), "convert --help"), 0);
	cr_expect_not_null(strstr(buf, "usage: xpuopt convert"));
}

/* ------------------------------------------------------------------ real traces */

static const char *shared(const char *rel)
{
	static char buf[4096];
	if (access(SHARED, R_OK))
		cr_skip_test("no ../shared/traces beside the source tree (real traces absent)");
	snprintf(buf, sizeof(buf), "%s/%s", SHARED, rel);
	return buf;
}

/* Each trace replays on a shipped platform modelling the machine it comes from (see the
 * platform file's header for the reader parameters that make a job last its logged time
 * there), except the Alibaba pod list, which waits for a platform of its own. */
struct real {
	const char *file, *format;
	uint32_t records;
	const char *platform; /* relative to the source tree */
	const char *args;     /* more options for the replay's `xpuopt run` */
};

#define REPLAY_GPUS "platforms/gpu-pool-64.xml", "--trace-format 'philly:speed=5.85e12'"
/* fifo runs these graphs on the workstation's CPU for about 16 s, while the default
 * tick is estimated from its GPU (microseconds): the engine widens the tick as the run
 * outlives the estimate, so the replay stays short without a --tick. */
#define REPLAY_STG "platforms/workstation.xml", ""

static const struct real real_traces[] = {
    {"swf/KTH-SP2-1996-2.1-cln.swf", "swf", 28476, "platforms/kth-sp2.xml",
     "--trace-format 'swf:speed=2.667e8'"},
    {"swf/NASA-iPSC-1993-3.1-cln.swf.gz", "swf", 18239, "platforms/nasa-ipsc860.xml",
     "--trace-format 'swf:speed=8e7'"},
    {"swf/HPC2N-2002-subset-alea.swf", "swf", 3170, "platforms/hpc2n-seth.xml",
     "--trace-format 'swf:speed=3.334e9'"},
    /* Also replayed on the platform of its own node list: tests/test_nodes.c. */
    {"gpu/alibaba_gpu-v2023_openb_pod_list_default.csv", "alibaba-gpu", 8152,
     "platforms/gpu-pool-64.xml", "--trace-format 'alibaba-gpu:speed=5.85e12'"},
    {"gpu/microsoft_itp_2021/cluster01.csv", "philly", 1595, REPLAY_GPUS},
    {"gpu/microsoft_itp_2021/cluster02.csv", "philly", 5778, REPLAY_GPUS},
    {"gpu/microsoft_itp_2021/cluster03.csv", "philly", 3011, REPLAY_GPUS},
    {"gpu/microsoft_itp_2021/cluster04.csv", "philly", 15802, REPLAY_GPUS},
    {"gpu/microsoft_itp_2021/cluster05.csv", "philly", 3629, REPLAY_GPUS},
    /* 8,819 requests, two tasks each. */
    {"llm/AzureLLMInferenceTrace_code.csv", "azure-llm", 2 * 8819, "platforms/datacenter-h100.xml",
     ""},
    /* robot: 90 nodes counted with the dummies; sparse: 96 tasks without them. */
    {"workflow/stg/robot.stg", "stg", 88, REPLAY_STG},
    {"workflow/stg/sparse.stg", "stg", 96, REPLAY_STG},
};

#define NREAL (sizeof(real_traces) / sizeof(real_traces[0]))

Test(real_traces, load_with_readme_counts)
{
	for (size_t i = 0; i < NREAL; i++) {
		const struct real *t = &real_traces[i];
		const char *path = shared(t->file);
		cr_expect_str_eq(xpu_trace_format_of(path, NULL), t->format, "%s", t->file);
		struct xpu_workload *w = rd_load(path, NULL);
		cr_expect_eq(w->ntasks, t->records, "%s: %u records", t->file, w->ntasks);
		xpu_workload_free(w);
	}
}

Test(real_traces, swf_header_in_xpuopt_trace)
{
	char buf[16384];
	int st = xt_cmd(buf, sizeof(buf), "trace %s", shared("swf/KTH-SP2-1996-2.1-cln.swf"));
	cr_assert_eq(st, 0, "%s", buf);
	cr_expect_not_null(strstr(buf, "records 28476\n"), "%s", buf);
	cr_expect_not_null(strstr(buf, "header.MaxProcs 100\n"), "%s", buf);
	cr_expect_not_null(strstr(buf, "header.UnixStartTime 843480031\n"), "%s", buf);
}

/* Records are the file's (requests), tasks what they make (two per request). */
Test(real_traces, azure_records_and_tasks_in_xpuopt_trace)
{
	char buf[16384];
	int st =
	    xt_cmd(buf, sizeof(buf), "trace %s", shared("llm/AzureLLMInferenceTrace_code.csv"));
	cr_assert_eq(st, 0, "%s", buf);
	cr_expect_not_null(strstr(buf, "records 8819\n"), "%s", buf);
	cr_expect_not_null(strstr(buf, "tasks 17638\n"), "%s", buf);
}

/* One replay per Test: SimGrid allows one engine per process (xt_cmd forks xpuopt). */
static void replay(size_t i)
{
	const struct real *t = &real_traces[i];
	char buf[16384], want[64];
	const char *path = shared(t->file);
	int st = xt_cmd(buf, sizeof(buf), "run --platform %s --trace %s %s --sched fifo --output -",
	                xt_src(t->platform), path, t->args);
	cr_assert_eq(st, 0, "%s: exit %d: %s", t->file, st, buf);
	snprintf(want, sizeof(want), "tasks_done %u\n", t->records);
	cr_expect_not_null(strstr(buf, want), "%s: %s", t->file, buf);
	cr_expect_not_null(strstr(buf, "tasks_failed 0\n"), "%s: %s", t->file, buf);
}

Test(real_traces, replay_kth)
{
	replay(0);
}
Test(real_traces, replay_nasa)
{
	replay(1);
}
Test(real_traces, replay_hpc2n)
{
	replay(2);
}
Test(real_traces, replay_alibaba)
{
	replay(3);
}
Test(real_traces, replay_itp_cluster01)
{
	replay(4);
}
Test(real_traces, replay_itp_cluster02)
{
	replay(5);
}
Test(real_traces, replay_itp_cluster03)
{
	replay(6);
}
Test(real_traces, replay_itp_cluster04)
{
	replay(7);
}
Test(real_traces, replay_itp_cluster05)
{
	replay(8);
}
Test(real_traces, replay_azure_llm)
{
	replay(9);
}
Test(real_traces, replay_robot)
{
	replay(10);
}
Test(real_traces, replay_sparse)
{
	replay(11);
}
