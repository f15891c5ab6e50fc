/* test_nodes.c — cluster node lists as platforms: reading, the generated SimGrid file,
 * its time model by hand, bad lists, and the Alibaba v2023 lists of ../shared. */
#include <criterion/criterion.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "helpers.h"
#include "nodes.h"

#define ND_DIR     "tests/data/nodes/"
#define SHARED_GPU XPU_SRCDIR "/../shared/traces/gpu/"
#define ALL_NODES  SHARED_GPU "alibaba_gpu-v2023_openb_node_list_all_node.csv"
#define GPU_NODES  SHARED_GPU "alibaba_gpu-v2023_openb_node_list_gpu_node.csv"
#define PODS       SHARED_GPU "alibaba_gpu-v2023_openb_pod_list_default.csv"

static void nd_read(const char *rel, const char *const *aliases, struct xpu_nodes *ns)
{
	struct xpu_err err = {{0}};
	int rc = xpu_nodes_read(xt_src(rel), aliases, ns, &err);
	cr_assert_eq(rc, 0, "%s: %s", rel, err.msg);
}

static const char *shared(const char *path)
{
	if (access(path, R_OK))
		cr_skip_test("../shared/traces/gpu is absent beside the source tree (real Alibaba "
		             "node lists)");
	return path;
}

Test(nodes, reads_fields)
{
	struct xpu_nodes ns;
	nd_read(ND_DIR "small.csv", NULL, &ns);
	cr_assert_eq(ns.n, 4);
	cr_expect_str_eq(ns.v[0].name, "cpu-a");
	cr_expect_eq(ns.v[0].vcpus, 32);
	cr_expect_eq(ns.v[0].gpus, 0);
	cr_expect_null(ns.v[0].model);
	cr_expect_float_eq(ns.v[0].mem, 262144.0 * 1048576, 0);
	cr_expect_eq(ns.v[1].gpus, 2);
	cr_expect_str_eq(ns.v[1].model->name, "P100");
	cr_expect_eq(ns.v[2].gpus, 8);
	cr_expect_str_eq(ns.v[2].model->name, "G2");
	cr_expect(ns.v[2].model->estimate);
	/* 500 thousandths of a CPU is still one CPU to run on. */
	cr_expect_eq(ns.v[3].vcpus, 1);
	cr_expect_eq(ns.v[3].line, 5);
	xpu_nodes_free(&ns);
}

Test(nodes, sniff_and_list_paths)
{
	cr_expect(xpu_nodes_sniff(xt_src(ND_DIR "small.csv")));
	cr_expect(!xpu_nodes_sniff(xt_src("tests/data/traces/heft_paper.csv")));
	cr_expect(!xpu_nodes_sniff(xt_src("platforms/default.xml")));
	cr_expect(xpu_nodes_is_list("x.CSV"));
	cr_expect(!xpu_nodes_is_list("x.xml"));
}

/* The generated platform, unit by unit: the P100 node's GPU unit carries the
 * datasheet figures, the CPU units 40 Gf per logical CPU, memories are shared per
 * node, and a node without CPUs has only its GPU unit. */
Test(nodes, generated_platform_text)
{
	struct xpu_nodes ns;
	nd_read(ND_DIR "small.csv", NULL, &ns);
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	cr_assert_eq(xpu_nodes_write_platform(&ns, f), 0);
	fclose(f);
	cr_expect_not_null(strstr(buf, "<host id=\"cpu-a-cpu\" speed=\"40Gf\" core=\"32\">"), "%s",
	                   buf);
	cr_expect_null(strstr(buf, "\"cpu-a-gpu\""));
	cr_expect_not_null(strstr(buf, "<host id=\"p100-a-gpu\" speed=\"9.3Tf\" core=\"2\">"));
	cr_expect_not_null(strstr(buf, "value=\"18.7Tf@0.75\""));
	cr_expect_not_null(strstr(buf, "<prop id=\"wattage_per_state\" value=\"50:500\"/>"));
	cr_expect_not_null(strstr(buf, "<prop id=\"xpu.mem.shared\" value=\"g2-a\"/>"));
	cr_expect_not_null(strstr(buf, "<prop id=\"xpu.mem\" value=\"393216MiB\"/>"));
	cr_expect_not_null(strstr(buf, "[NV-P100] NVIDIA Tesla P100"));
	cr_expect_null(strstr(buf, "[NV-H100]"), "only the sources used are listed");
	/* 6 units x 25 Gb/s. */
	cr_expect_not_null(strstr(buf, "<backbone id=\"backbone\" bandwidth=\"150Gbps\""));
	free(buf);
	xpu_nodes_free(&ns);
}

Test(nodes, xpuopt_platform_lists_and_writes)
{
	char buf[65536], out[512];
	int st = xt_cmd(buf, sizeof(buf), "platform %s", xt_src(ND_DIR "small.csv"));
	cr_assert_eq(st, 0, "%s", buf);
	cr_expect_not_null(strstr(buf, "nodes 4\n"), "%s", buf);
	cr_expect_not_null(strstr(buf, "gpus 10\n"), "%s", buf);
	cr_expect_not_null(strstr(buf, "gpus.G2 8 on 1 nodes"), "%s", buf);
	cr_expect_not_null(strstr(buf, ": 6 units, 4 memories"), "%s", buf);
	cr_expect_not_null(strstr(buf, "p100-a-gpu"), "%s", buf);

	snprintf(out, sizeof(out), "%s/small.xml", xt_tmpdir());
	st = xt_cmd(buf, sizeof(buf), "platform %s -o %s", xt_src(ND_DIR "small.csv"), out);
	cr_assert_eq(st, 0, "%s", buf);
	st = xt_cmd(buf, sizeof(buf), "platform %s", out);
	cr_assert_eq(st, 0, "%s", buf);
	cr_expect_not_null(strstr(buf, ": 6 units, 4 memories"), "%s", buf);
}

/* One generic task on the lone P100 of a node without CPUs: flops / FP32 peak plus the
 * 5 us launch, 9.3e12 flop -> 1 s + 5 us; energy at full board power 250 W. */
Test(nodes, replay_time_by_hand)
{
	const char *dir = xt_tmpdir();
	char trace[512], buf[16384];
	snprintf(trace, sizeof(trace), "%s/one.csv", dir);
	FILE *f = fopen(trace, "w");
	cr_assert_not_null(f);
	fputs("id,class,flops\nt,generic,9.3e12\n", f);
	fclose(f);
	int st = xt_cmd(buf, sizeof(buf), "run --platform %s --trace %s --sched fifo --output -",
	                xt_src(ND_DIR "one_gpu.csv"), trace);
	cr_assert_eq(st, 0, "%s", buf);
	cr_expect_not_null(strstr(buf, "makespan_s 1.000005\n"), "%s", buf);
	cr_expect_not_null(strstr(buf, "tasks_done 1\n"), "%s", buf);
}

Test(nodes, aliases)
{
	static const char *const alias[] = {"MISC=T4", NULL};
	struct xpu_nodes ns;
	nd_read(ND_DIR "misc_model.csv", alias, &ns);
	cr_expect_str_eq(ns.v[0].model->name, "T4");
	xpu_nodes_free(&ns);

	char buf[8192];
	int st = xt_cmd(buf, sizeof(buf), "platform --gpu-alias MISC=T4 %s",
	                xt_src(ND_DIR "misc_model.csv"));
	cr_expect_eq(st, 0, "%s", buf);
	cr_expect_not_null(strstr(buf, "gpus.T4 4 on 1 nodes"), "%s", buf);
	st = xt_cmd(buf, sizeof(buf), "platform --gpu-alias MISC=T5 %s 2>&1",
	            xt_src(ND_DIR "misc_model.csv"));
	cr_expect_eq(st, 2);
	cr_expect_not_null(strstr(buf, "--gpu-alias 'MISC=T5': expected NAME=KNOWN"), "%s", buf);
	st = xt_cmd(buf, sizeof(buf), "platform --gpu-alias MISC=T4 %s 2>&1",
	            xt_src("platforms/default.xml"));
	cr_expect_eq(st, 2, "%s", buf);
}

struct bad {
	const char *file, *msg;
};

static const struct bad bad_lists[] = {
    {"missing_column.csv",
     ":1: header: no column 'gpu' (a node list names sn, cpu_milli, memory_mib, gpu and "
     "model)"},
    {"field_count.csv", ":2: 4 fields, but the header names 5"},
    {"not_number.csv", ":2: field 'memory_mib': expected a non-negative number, got \"lots\""},
    {"empty_memory.csv",
     ":2: field 'memory_mib': expected a non-negative number, got \"\" (empty)"},
    {"huge_memory.csv",
     ":3: field 'memory_mib': expected a non-negative number, got \"1e400\" (too large)"},
    {"fractional_gpu.csv", ":2: field 'gpu': expected a non-negative whole number, got \"1.5\""},
    {"negative_gpu.csv", ":2: field 'gpu': expected a non-negative number, got \"-1\""},
    {"too_large.csv",
     ":2: field 'cpu_milli': expected a non-negative whole number, got \"99999999999999\" "
     "(too large)"},
    {"unknown_model.csv", ":2: field 'model': unknown GPU model \"X9000\" (known: P100, T4,"},
    {"misc_model.csv", ":2: field 'model': unknown GPU model \"MISC\""},
    {"empty_model.csv",
     ":2: field 'model': expected the GPU model of a node with GPUs, got \"\" (empty)"},
    {"nothing.csv", ":2: fields 'cpu_milli' and 'gpu': node 'a' has neither CPUs nor GPUs"},
    {"duplicate.csv", ":4: field 'sn': node 'a' is listed twice (first on line 2)"},
    {"clash.csv",
     ":2: field 'sn': node 'x-gpu' would clash with the gpu unit of node 'x' (line 3)"},
    {"empty.csv", ": empty file: no header and no nodes"},
    {"header_only.csv", ":1: no nodes after the header"},
    {"bad_name.csv", ":2: field 'sn': expected a node name of printable characters"},
};

/* Every bad list: the library's message names FILE:LINE and the field; xpuopt
 * platform -o and xpuopt run exit 2 without writing anything. */
Test(nodes, bad_lists)
{
	const char *dir = xt_tmpdir();
	char out[512], h5[512], buf[8192], want[1024];
	snprintf(out, sizeof(out), "%s/out.xml", dir);
	snprintf(h5, sizeof(h5), "%s/out.h5", dir);
	for (size_t i = 0; i < sizeof(bad_lists) / sizeof(bad_lists[0]); i++) {
		const struct bad *b = &bad_lists[i];
		char rel[256];
		snprintf(rel, sizeof(rel), ND_DIR "%s", b->file);
		const char *path = xt_src(rel);
		struct xpu_nodes ns;
		struct xpu_err err = {{0}};
		cr_expect_eq(xpu_nodes_read(path, NULL, &ns, &err), -EINVAL, "%s", b->file);
		snprintf(want, sizeof(want), "%s%s", path, b->msg);
		cr_expect(!strncmp(err.msg, want, strlen(want)), "%s:\n got  %s\n want %s", b->file,
		          err.msg, want);
		int st = xt_cmd(buf, sizeof(buf), "platform %s -o %s 2>&1", path, out);
		cr_expect_eq(st, 2, "%s: exit %d: %s", b->file, st, buf);
		cr_expect_neq(access(out, F_OK), 0, "%s: output written", b->file);
		st = xt_cmd(buf, sizeof(buf), "run --platform %s --trace %s -o %s 2>&1", path,
		            xt_src("traces/default.csv"), h5);
		cr_expect_eq(st, 2, "%s: run exit %d: %s", b->file, st, buf);
		cr_expect_not_null(strstr(buf, want), "%s: %s", b->file, buf);
		cr_expect_neq(access(h5, F_OK), 0, "%s: result written", b->file);
	}
}

Test(nodes, job_lists_are_told_apart)
{
	char buf[8192];
	/* A node list given as a trace, and a job list given as a platform. */
	int st = xt_cmd(buf, sizeof(buf), "trace %s 2>&1", xt_src(ND_DIR "small.csv"));
	cr_expect_eq(st, 2);
	cr_expect_not_null(strstr(buf, ":1: this is a cluster node list (machines, not jobs)"),
	                   "%s", buf);
	st =
	    xt_cmd(buf, sizeof(buf), "platform %s 2>&1", xt_src("tests/data/traces/philly/ok.csv"));
	cr_expect_eq(st, 2, "%s", buf);
	cr_expect_not_null(strstr(buf, ":1: header: this is a job list"), "%s", buf);
}

/* ------------------------------------------------------------------ real lists */

Test(nodes_real, alibaba_counts)
{
	struct xpu_nodes ns;
	struct xpu_err err = {{0}};
	cr_assert_eq(xpu_nodes_read(shared(ALL_NODES), NULL, &ns, &err), 0, "%s", err.msg);
	cr_expect_eq(ns.n, 1523);
	size_t with = 0, gpus = 0;
	for (size_t i = 0; i < ns.n; i++)
		if (ns.v[i].gpus) {
			with++;
			gpus += ns.v[i].gpus;
		}
	cr_expect_eq(with, 1213);
	xpu_nodes_free(&ns);

	cr_assert_eq(xpu_nodes_read(GPU_NODES, NULL, &ns, &err), 0, "%s", err.msg);
	cr_expect_eq(ns.n, 1213);
	size_t gpus2 = 0;
	for (size_t i = 0; i < ns.n; i++) {
		cr_expect_gt(ns.v[i].gpus, 0);
		gpus2 += ns.v[i].gpus;
	}
	/* The GPU-node list is the all-node list's GPU part. */
	cr_expect_eq(gpus2, gpus);
	xpu_nodes_free(&ns);
}

Test(nodes_real, platform_lists_every_unit)
{
	char *buf = malloc(1 << 20);
	cr_assert_not_null(buf);
	int st = xt_cmd(buf, 1 << 20, "platform %s", shared(GPU_NODES));
	cr_assert_eq(st, 0);
	cr_expect_not_null(strstr(buf, "nodes 1213\n"));
	cr_expect_not_null(strstr(buf, ": 2426 units, 1213 memories"));
	cr_expect_not_null(strstr(buf, "gpus.T4 842 on 404 nodes"));
	free(buf);
}

/* The pods replay on the cluster they ran on. */
Test(nodes_real, alibaba_pods_replay_on_their_nodes, .timeout = 600)
{
	char buf[16384];
	shared(PODS);
	int st = xt_cmd(buf, sizeof(buf), "run --platform %s --trace %s --sched fifo --output -",
	                shared(ALL_NODES), PODS);
	cr_assert_eq(st, 0, "%s", buf);
	cr_expect_not_null(strstr(buf, "tasks_done 8152\n"), "%s", buf);
	cr_expect_not_null(strstr(buf, "tasks_failed 0\n"), "%s", buf);
}
