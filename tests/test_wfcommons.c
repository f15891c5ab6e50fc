/* test_wfcommons.c — the WfCommons WfFormat JSON reader (schema 1.4 and 1.5). */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "helpers.h"
#include "trace.h"

#define WF_DIR XPU_SRCDIR "/tests/data/traces/wfcommons/"
#define SHARED XPU_SRCDIR "/../shared/traces"

static struct xpu_workload *wf_load(const char *path, const char *format)
{
	struct xpu_workload *w = NULL;
	struct xpu_err err = {{0}};
	int rc = xpu_workload_load(path, format, NULL, &w, &err);
	cr_assert_eq(rc, 0, "%s: %s", path, err.msg);
	return w;
}

static const struct xpu_task *wf_task(const struct xpu_workload *w, const char *id)
{
	for (uint32_t i = 0; i < w->ntasks; i++)
		if (!strcmp(w->tasks[i].id, id))
			return &w->tasks[i];
	cr_assert_fail("no task %s", id);
	return NULL;
}

/* Bytes on the edge from producer p into task t, -1 without such an edge. */
static double edge(const struct xpu_workload *w, const char *p, const char *t)
{
	const struct xpu_task *c = wf_task(w, t);
	for (uint32_t i = 0; i < c->ndeps; i++)
		if (!strcmp(w->tasks[c->deps[i].task].id, p))
			return c->deps[i].bytes;
	return -1;
}

Test(wfcommons, v15_tasks_edges_files_and_speeds)
{
	cr_expect_str_eq(xpu_trace_format_of(WF_DIR "small15.json", NULL), "wfcommons");
	struct xpu_workload *w = wf_load(WF_DIR "small15.json", NULL);
	cr_assert_eq(w->ntasks, 4);
	cr_expect_eq(w->ndeps, 4);
	/* a ran 2 s on m1 at 2000 MHz: 4e9 flop at one flop per cycle. */
	cr_expect_float_eq(wf_task(w, "a")->flops, 2 * 2000e6, 1);
	cr_expect_float_eq(wf_task(w, "a")->mem, 4096, 0);
	cr_expect_eq(wf_task(w, "a")->priority, 20);
	/* b: m2 records no clock, so the default speed; two cores. */
	cr_expect_eq(wf_task(w, "b")->width, 2);
	cr_expect_float_eq(wf_task(w, "b")->flops, 3 * 1e9 * 2, 1);
	/* Only the files a writes and b reads: "in" is nobody's output. */
	cr_expect_float_eq(edge(w, "a", "b"), 200, 0);
	cr_expect_float_eq(edge(w, "a", "c"), 300, 0);
	cr_expect_float_eq(edge(w, "b", "d"), 40, 0);
	cr_expect_float_eq(edge(w, "c", "d"), 50, 0);
	xpu_workload_free(w);

	w = wf_load(WF_DIR "small15.json", "wfcommons:flop_per_cycle=4");
	cr_expect_float_eq(wf_task(w, "a")->flops, 2 * 2000e6 * 4, 1);
	xpu_workload_free(w);
	w = wf_load(WF_DIR "small15.json", "wfcommons:speed=10");
	cr_expect_float_eq(wf_task(w, "a")->flops, 20, 0);
	xpu_workload_free(w);
}

Test(wfcommons, v14_files_with_links)
{
	struct xpu_workload *w = wf_load(WF_DIR "small14.json", NULL);
	cr_assert_eq(w->ntasks, 2);
	cr_expect_float_eq(wf_task(w, "x")->flops, 4 * 1000e6, 1);
	cr_expect_float_eq(wf_task(w, "y")->flops, 2 * 1e9, 1); /* "runtime", no machine */
	cr_expect_float_eq(edge(w, "x", "y"), 700, 0);
	xpu_workload_free(w);
}

Test(wfcommons, header_in_xpuopt_trace)
{
	char buf[8192];
	int st = xt_cmd(buf, sizeof(buf), "trace %s", WF_DIR "small15.json");
	cr_assert_eq(st, 0, "%s", buf);
	cr_expect_not_null(strstr(buf, "header.schemaVersion 1.5\n"), "%s", buf);
	cr_expect_not_null(strstr(buf, "header.makespanInSeconds 12.5\n"), "%s", buf);
}

struct bad {
	const char *file, *want;
};

static const struct bad bad_files[] = {
    {"unknown_parent.json", ": workflow.specification.tasks[3].parents[1]: unknown task id \"zz\""},
    {"unknown_child.json", ": workflow.specification.tasks[0].children[0]: unknown task id \"q\""},
    {"bad_runtime.json", ": workflow.execution.tasks[2].runtimeInSeconds: expected a "
                         "non-negative number, got \"fast\""},
    {"huge_clock.json", ": workflow.execution.machines[0].cpu.speedInMHz: expected a clock in "
                        "MHz below 1e300, got 9.9999999999999994e+304"},
    {"huge_cores.json",
     ": workflow.execution.tasks[0].coreCount: expected a core count of at most 1048576, got "
     "1e+20"},
    {"overflow.json", ": task \"a\": its work (run time 1e+300 s x 1e+306 flop/s x 4 cores) "
                      "overflows a double; check runtimeInSeconds and the machine's clock"},
    {"negative_mem.json",
     ": workflow.execution.tasks[1].memoryInBytes: expected a non-negative number, got -5"},
    {"duplicate_id.json", ": workflow.specification.tasks[2].id: duplicate task id \"a\" "
                          "(first at workflow.specification.tasks[0])"},
    {"unknown_file.json", ": workflow.specification.tasks[1].inputFiles[0]: unknown file id "
                          "\"nofile\" (not in workflow.specification.files)"},
    {"cycle.json", ": field 'deps': dependency cycle a -> b -> d -> a"},
    {"self_dep.json", ": workflow.specification.tasks[1].parents[0]: task \"b\" depends on itself"},
    {"old_version.json", ": schemaVersion: expected \"1.4\" or \"1.5\", got \"1.3\""},
    {"unknown_exec_task.json", ": workflow.execution.tasks[0].id: unknown task id \"nope\" "
                               "(not in workflow.specification.tasks)"},
    {"tasks_not_array.json", ": workflow.specification.tasks: expected an array, got an object"},
    {"syntax.json", ":4: column 35: invalid JSON: unexpected token near '}'"},
    {"empty.json", ":1: column 0: invalid JSON: '[' or '{' expected near end of file"},
};

Test(wfcommons, broken_files_name_the_json_path)
{
	for (size_t i = 0; i < sizeof(bad_files) / sizeof(bad_files[0]); i++) {
		char path[4096], want[4096];
		struct xpu_workload *w = NULL;
		struct xpu_err err = {{0}};
		snprintf(path, sizeof(path), "%s%s", WF_DIR, bad_files[i].file);
		snprintf(want, sizeof(want), "%s%s", path, bad_files[i].want);
		cr_expect_eq(xpu_workload_load(path, NULL, NULL, &w, &err), -EINVAL, "%s", path);
		cr_expect_null(w);
		cr_expect_str_eq(err.msg, want);
	}
	char buf[4096];
	cr_expect_eq(xt_cmd(buf, sizeof(buf), "trace %s", WF_DIR "unknown_parent.json"), 2);
}

/* ------------------------------------------------------------------ real instances */

static const struct {
	const char *file;
	uint32_t tasks;
	uint64_t deps;
} real[] = {
    {"1000genome-chameleon-2ch-100k-001.json", 52, 76},
    {"blast-chameleon-small-001.json", 43, 120},
    {"epigenomics-chameleon-hep-1seq-100k-001.json", 41, 48},
    {"montage-chameleon-2mass-01d-001.json", 103, 231},
    {"seismology-chameleon-100p-001.json", 101, 100},
};

static const char *shared(const char *file)
{
	static char buf[4096];
	if (access(SHARED, R_OK))
		cr_skip_test("no ../shared/traces beside the source tree (real traces absent)");
	snprintf(buf, sizeof(buf), "%s/workflow/wfcommons/%s", SHARED, file);
	return buf;
}

Test(wfcommons_real, instances_load_with_their_counts)
{
	for (size_t i = 0; i < sizeof(real) / sizeof(real[0]); i++) {
		struct xpu_workload *w = wf_load(shared(real[i].file), NULL);
		cr_expect_eq(w->ntasks, real[i].tasks, "%s: %u tasks", real[i].file, w->ntasks);
		cr_expect_eq(w->ndeps, real[i].deps, "%s: %llu deps", real[i].file,
		             (unsigned long long)w->ndeps);
		cr_expect_gt(w->total_flops, 0, "%s", real[i].file);
		xpu_workload_free(w);
	}
}

/* One replay per Test: SimGrid allows one engine per process (xt_cmd forks xpuopt). */
static void replay(size_t i)
{
	char buf[16384], want[64];
	const char *path = shared(real[i].file);
	int st = xt_cmd(buf, sizeof(buf), "run --platform %s --trace %s --sched heft --output -",
	                xt_src("platforms/workstation.xml"), path);
	cr_assert_eq(st, 0, "%s: exit %d: %s", real[i].file, st, buf);
	snprintf(want, sizeof(want), "tasks_done %u\n", real[i].tasks);
	cr_expect_not_null(strstr(buf, want), "%s: %s", real[i].file, buf);
	cr_expect_not_null(strstr(buf, "tasks_failed 0\n"), "%s: %s", real[i].file, buf);
}

Test(wfcommons_real, replay_1000genome)
{
	replay(0);
}
Test(wfcommons_real, replay_blast)
{
	replay(1);
}
Test(wfcommons_real, replay_epigenomics)
{
	replay(2);
}
Test(wfcommons_real, replay_montage)
{
	replay(3);
}
Test(wfcommons_real, replay_seismology)
{
	replay(4);
}
