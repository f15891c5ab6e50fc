/* test_trace_native.c — the native CSV trace reader and the workload loader. */
#include <criterion/criterion.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "helpers.h"
#include "trace.h"

#define TN_DIR XPU_SRCDIR "/tests/data/traces/"

static const char *tn_path(const char *name)
{
	static char buf[4096];
	snprintf(buf, sizeof(buf), "%s%s", TN_DIR, name);
	return buf;
}

static struct xpu_workload *tn_load_ok(const char *name, const struct xpu_platform *pf)
{
	struct xpu_workload *w = NULL;
	struct xpu_err err = {{0}};
	int rc = xpu_workload_load(tn_path(name), NULL, pf, &w, &err);
	cr_assert_eq(rc, 0, "%s: %s", name, err.msg);
	cr_assert_not_null(w);
	return w;
}

/* Loading name fails with -EINVAL and exactly "PATH<rest>" (rest starts at ':'). */
static void tn_expect_error(const char *name, const char *format, const struct xpu_platform *pf,
                            const char *rest)
{
	struct xpu_workload *w = NULL;
	struct xpu_err err = {{0}};
	char want[8192];
	const char *path = tn_path(name);
	snprintf(want, sizeof(want), "%s%s", path, rest);
	int rc = xpu_workload_load(path, format, pf, &w, &err);
	cr_assert_eq(rc, -EINVAL, "%s: expected -EINVAL, got %d", name, rc);
	cr_assert_null(w);
	cr_assert_str_eq(err.msg, want);
}

static const struct xpu_task *tn_task(const struct xpu_workload *w, const char *id)
{
	for (uint32_t i = 0; i < w->ntasks; i++)
		if (!strcmp(w->tasks[i].id, id))
			return &w->tasks[i];
	cr_assert_fail("no task %s", id);
	return NULL;
}

/* A platform built by hand: P1 and P3 are CPUs, P2 a GPU. */
static char tn_p1[] = "P1", tn_p2[] = "P2", tn_p3[] = "P3", tn_pfname[] = "test-platform";
static struct xpu_unit tn_units[3] = {
    {.index = 0, .name = tn_p1, .kind = XPU_KIND_CPU},
    {.index = 1, .name = tn_p2, .kind = XPU_KIND_GPU},
    {.index = 2, .name = tn_p3, .kind = XPU_KIND_CPU},
};
static const struct xpu_platform tn_platform = {.path = tn_pfname, .nunits = 3, .units = tn_units};

/* ------------------------------------------------------------------ rejected input */

Test(trace_native, rejects_non_number)
{
	tn_expect_error("bad_number.csv", NULL, NULL,
	                ":3: field 'flops': expected a non-negative number, got \"abc\"");
}

Test(trace_native, rejects_negative_number)
{
	tn_expect_error("negative.csv", NULL, NULL,
	                ":3: field 'flops': expected a non-negative number, got \"-3\"");
}

Test(trace_native, rejects_nan)
{
	tn_expect_error("nan.csv", NULL, NULL,
	                ":2: field 'flops': expected a non-negative number, got \"nan\"");
}

Test(trace_native, rejects_inf)
{
	tn_expect_error("inf.csv", NULL, NULL,
	                ":2: field 'submit': expected a non-negative number, got \"inf\"");
}

Test(trace_native, rejects_number_too_large)
{
	tn_expect_error("too_large.csv", NULL, NULL,
	                ":2: field 'flops': expected a non-negative number, got \"1e999\" "
	                "(too large)");
}

Test(trace_native, rejects_non_integer_priority)
{
	tn_expect_error("bad_priority.csv", NULL, NULL,
	                ":2: field 'priority': expected an integer, got \"1.5\"");
}

Test(trace_native, rejects_duplicate_id)
{
	tn_expect_error("duplicate_id.csv", NULL, NULL,
	                ":5: field 'id': duplicate task id \"7\" (first on line 3)");
}

Test(trace_native, rejects_empty_id)
{
	tn_expect_error("empty_id.csv", NULL, NULL, ":2: field 'id': empty task id");
}

Test(trace_native, rejects_unknown_dependency)
{
	tn_expect_error("unknown_dep.csv", NULL, NULL, ":4: field 'deps': unknown task id \"99\"");
}

Test(trace_native, rejects_cycle)
{
	tn_expect_error("cycle.csv", NULL, NULL, ":3: field 'deps': dependency cycle 3 -> 7 -> 3");
}

Test(trace_native, names_a_longer_cycle_from_its_first_task)
{
	/* z waits behind the cycle but is not on it. */
	tn_expect_error("cycle3.csv", NULL, NULL,
	                ":3: field 'deps': dependency cycle a -> b -> c -> a");
}

Test(trace_native, rejects_self_dependency)
{
	tn_expect_error("self_dep.csv", NULL, NULL,
	                ":3: field 'deps': task \"5\" depends on itself");
}

Test(trace_native, rejects_duplicate_dependency)
{
	tn_expect_error("duplicate_dep.csv", NULL, NULL,
	                ":3: field 'deps': task \"1\" is listed twice");
}

Test(trace_native, rejects_bad_deps_syntax)
{
	tn_expect_error("bad_deps.csv", NULL, NULL,
	                ":3: field 'deps': expected ID or ID:BYTES with BYTES a non-negative "
	                "number of bytes, got \"1:abc\"");
}

Test(trace_native, rejects_empty_deps_entry)
{
	tn_expect_error("empty_dep_entry.csv", NULL, NULL, ":3: field 'deps': entry 2 is empty");
}

Test(trace_native, rejects_bad_cost_syntax)
{
	tn_expect_error("bad_cost.csv", NULL, NULL,
	                ":2: field 'cost': expected UNIT_OR_KIND=SECONDS, got \"P2\"");
}

Test(trace_native, rejects_bad_cost_seconds)
{
	tn_expect_error("bad_cost_seconds.csv", NULL, NULL,
	                ":2: field 'cost': expected UNIT_OR_KIND=SECONDS with SECONDS a "
	                "non-negative number, got \"P1=x\"");
}

Test(trace_native, rejects_missing_header)
{
	tn_expect_error("missing_header.csv", NULL, NULL,
	                ":2: expected a header row naming columns such as id,submit,flops, got "
	                "\"1,0,5\"");
}

Test(trace_native, rejects_unknown_column)
{
	tn_expect_error(
	    "unknown_column.csv", NULL, NULL,
	    ":1: unknown column \"flop\" (columns: id, submit, class, flops, bytes, "
	    "mem, deps, priority, deadline, user, cost, width, estimate, reads, writes)");
}

Test(trace_native, rejects_duplicate_column)
{
	tn_expect_error("duplicate_column.csv", NULL, NULL,
	                ":1: column 'flops' appears twice (columns 2 and 3)");
}

Test(trace_native, rejects_header_without_id)
{
	tn_expect_error(
	    "no_id_column.csv", NULL, NULL,
	    ":1: the header has no 'id' column (columns: id, submit, class, flops, "
	    "bytes, mem, deps, priority, deadline, user, cost, width, estimate, reads, writes)");
}

Test(trace_native, rejects_unknown_class)
{
	tn_expect_error("unknown_class.csv", NULL, NULL,
	                ":3: field 'class': unknown class \"matmul\" (classes: generic, gemm, "
	                "conv, attention, llm-prefill, llm-decode, fft, stencil, video)");
}

Test(trace_native, rejects_too_many_fields)
{
	tn_expect_error("too_many_fields.csv", NULL, NULL,
	                ":3: 3 fields, but the header names 2 columns");
}

Test(trace_native, rejects_too_few_fields)
{
	tn_expect_error("too_few_fields.csv", NULL, NULL,
	                ":2: 2 fields, but the header names 3 columns");
}

Test(trace_native, rejects_unterminated_quote)
{
	tn_expect_error("unterminated_quote.csv", NULL, NULL,
	                ":2: field 'user': unterminated quote");
}

Test(trace_native, rejects_empty_file)
{
	tn_expect_error("empty.csv", NULL, NULL, ": empty trace, expected a header row");
	tn_expect_error("only_comments.csv", NULL, NULL, ": empty trace, expected a header row");
}

Test(trace_native, rejects_missing_file)
{
	tn_expect_error("no_such_file.csv", NULL, NULL, ": cannot open: No such file or directory");
}

Test(trace_native, rejects_unknown_format)
{
	struct xpu_workload *w = NULL;
	struct xpu_err err = {{0}};
	int rc = xpu_workload_load(tn_path("heft_paper.csv"), "swf-nope", NULL, &w, &err);
	cr_assert_eq(rc, -EINVAL);
	/* The list grows with each reader: build it from the registry. */
	char want[512];
	size_t n =
	    (size_t)snprintf(want, sizeof(want), "unknown trace format \"swf-nope\" (formats: ");
	for (const char *const *f = xpu_trace_formats; *f; f++)
		n += (size_t)snprintf(want + n, sizeof(want) - n, "%s, ", *f);
	snprintf(want + n, sizeof(want) - n, "auto)");
	cr_assert_str_eq(err.msg, want);
}

Test(trace_native, unknown_extension_is_read_as_native_and_says_so)
{
	tn_expect_error("not_native.txt", NULL, NULL,
	                ":1: expected a header row naming columns such as id,submit,flops, got "
	                "\"job;submit;runtime\" (no format claims this file's extension, so it "
	                "was read as native CSV)");
	struct xpu_workload *w = tn_load_ok("plain.dat", NULL);
	cr_assert_eq(w->ntasks, 1);
	xpu_workload_free(w);
}

/* ------------------------------------------------------------------ good input */

Test(trace_native, loads_heft_paper_example)
{
	struct xpu_workload *w = tn_load_ok("heft_paper.csv", NULL);
	cr_assert_eq(w->ntasks, 10);
	cr_assert_eq(w->ndeps, 15);
	cr_assert_float_eq(w->total_dep_bytes, 241, 1e-9);
	cr_assert_eq(w->class_count[XPU_CLASS_GENERIC], 10);

	const struct xpu_task *t8 = tn_task(w, "8");
	cr_assert_eq(t8->ndeps, 3);
	cr_assert_str_eq(w->tasks[t8->deps[0].task].id, "2");
	cr_assert_float_eq(t8->deps[0].bytes, 19, 1e-12);
	cr_assert_str_eq(w->tasks[t8->deps[1].task].id, "4");
	cr_assert_float_eq(t8->deps[1].bytes, 27, 1e-12);
	cr_assert_str_eq(w->tasks[t8->deps[2].task].id, "6");
	cr_assert_float_eq(t8->deps[2].bytes, 15, 1e-12);
	cr_assert_eq(t8->line, 9);
	cr_assert_eq(t8->state, XPU_TASK_PENDING);
	cr_assert_eq(t8->unit, -1);
	cr_assert_eq(t8->npending, 3);
	cr_assert(isinf(t8->deadline));

	const struct xpu_task *t1 = tn_task(w, "1");
	static const char *const succ[] = {"2", "3", "4", "5", "6"};
	cr_assert_eq(t1->nsucc, 5);
	for (uint32_t i = 0; i < 5; i++)
		cr_assert_str_eq(w->tasks[t1->succ[i]].id, succ[i]);
	/* Without a platform, unit names stay unresolved (unit -2). */
	cr_assert_eq(t1->ncosts, 3);
	cr_assert_eq(t1->costs[0].unit, -2);
	cr_assert_float_eq(t1->costs[2].seconds, 9, 1e-12);
	xpu_workload_free(w);
}

Test(trace_native, resolves_costs_against_a_platform)
{
	struct xpu_workload *w = tn_load_ok("heft_paper.csv", &tn_platform);
	const struct xpu_task *t10 = tn_task(w, "10");
	cr_assert_eq(t10->ncosts, 3);
	for (int i = 0; i < 3; i++) {
		cr_assert_eq(t10->costs[i].unit, i);
		cr_assert_eq(t10->costs[i].kind, -1);
	}
	cr_assert_float_eq(t10->costs[1].seconds, 7, 1e-12);
	xpu_workload_free(w);

	w = tn_load_ok("cost_targets.csv", &tn_platform);
	const struct xpu_task *t2 = tn_task(w, "2");
	cr_assert_eq(t2->costs[0].unit, -1);
	cr_assert_eq(t2->costs[0].kind, XPU_KIND_CPU);
	cr_assert_eq(t2->costs[1].unit, -1);
	cr_assert_eq(t2->costs[1].kind, XPU_KIND_GPU);
	const struct xpu_task *t3 = tn_task(w, "3");
	cr_assert_eq(t3->costs[0].unit, 1);
	cr_assert_eq(t3->costs[1].kind, XPU_KIND_CPU);
	xpu_workload_free(w);
}

Test(trace_native, keeps_kind_costs_without_a_platform)
{
	struct xpu_workload *w = tn_load_ok("cost_targets.csv", NULL);
	const struct xpu_task *t2 = tn_task(w, "2");
	cr_assert_eq(t2->costs[1].unit, -1);
	cr_assert_eq(t2->costs[1].kind, XPU_KIND_GPU);
	xpu_workload_free(w);
}

Test(trace_native, rejects_cost_for_a_unit_not_in_the_platform)
{
	tn_expect_error("cost_missing_unit.csv", NULL, &tn_platform,
	                ":3: field 'cost': unit or kind \"P9\" is not in platform test-platform "
	                "(units: P1, P2, P3; kinds: cpu, gpu)");
	tn_expect_error("cost_missing_kind.csv", NULL, &tn_platform,
	                ":3: field 'cost': unit or kind \"npu\" is not in platform test-platform "
	                "(units: P1, P2, P3; kinds: cpu, gpu)");
}

Test(trace_native, accepts_forward_references)
{
	struct xpu_workload *w = tn_load_ok("forward_refs.csv", NULL);
	cr_assert_eq(w->ntasks, 3);
	const struct xpu_task *c = tn_task(w, "c");
	cr_assert_eq(c->ndeps, 2);
	cr_assert_str_eq(w->tasks[c->deps[0].task].id, "b");
	cr_assert_float_eq(c->deps[0].bytes, 100, 1e-12);
	cr_assert_str_eq(w->tasks[c->deps[1].task].id, "a");
	cr_assert_float_eq(c->deps[1].bytes, 0, 1e-12);
	cr_assert_float_eq(tn_task(w, "b")->deps[0].bytes, 2500, 1e-12);
	cr_assert_eq(tn_task(w, "a")->nsucc, 2);
	xpu_workload_free(w);
}

Test(trace_native, reads_comments_quotes_and_crlf)
{
	struct xpu_workload *w = tn_load_ok("quoting_crlf.csv", NULL);
	cr_assert_eq(w->ntasks, 2);
	cr_assert_str_eq(w->tasks[0].id, "x,1");
	cr_assert_eq(w->tasks[0].line, 4);
	cr_assert_str_eq(w->users[w->tasks[0].user], "Alice \"A\" Smith");
	const struct xpu_task *y = tn_task(w, "y");
	cr_assert_eq(y->line, 6);
	cr_assert_eq(y->cls, XPU_CLASS_CONV);
	cr_assert_float_eq(y->submit, 1.5, 1e-12);
	cr_assert_str_eq(w->users[y->user], "bob");
	cr_assert_eq(y->ndeps, 1);
	cr_assert_eq(y->deps[0].task, 0);
	cr_assert_float_eq(y->deps[0].bytes, 1024, 1e-12);
	xpu_workload_free(w);
}

Test(trace_native, reads_every_column_in_any_order_with_defaults)
{
	struct xpu_workload *w = tn_load_ok("all_columns.csv", NULL);
	const struct xpu_task *t1 = tn_task(w, "t1"), *t2 = tn_task(w, "t2"),
	                      *t3 = tn_task(w, "t3");
	cr_assert_eq(t1->cls, XPU_CLASS_GEMM);
	cr_assert_float_eq(t1->flops, 2e9, 1);
	cr_assert_float_eq(t1->bytes, 1e9, 1e-3);
	cr_assert_float_eq(t1->mem, 512.0 * 1024 * 1024, 1e-3);
	cr_assert_eq(t1->priority, 3);
	cr_assert_float_eq(t1->deadline, 10, 1e-12);
	cr_assert_str_eq(w->users[t1->user], "alice");
	cr_assert_eq(t1->costs[0].kind, XPU_KIND_CPU);
	cr_assert_float_eq(t1->costs[1].seconds, 0.5, 1e-12);
	cr_assert_eq(t2->priority, -2);
	cr_assert_eq(t2->cls, XPU_CLASS_LLM_DECODE);
	cr_assert_float_eq(t2->mem, 16e6, 1e-3);
	cr_assert_float_eq(t2->deps[0].bytes, 4096, 1e-12);
	cr_assert(isinf(t2->deadline));
	/* Every field empty: all defaults. */
	cr_assert_eq(t3->cls, XPU_CLASS_GENERIC);
	cr_assert_float_eq(t3->submit, 0, 1e-12);
	cr_assert_float_eq(t3->flops, 0, 1e-12);
	cr_assert_eq(t3->priority, 0);
	cr_assert(isinf(t3->deadline));
	cr_assert_str_eq(w->users[t3->user], "");
	cr_assert_eq(t3->ndeps, 0);
	cr_assert_eq(t3->ncosts, 0);

	cr_assert_float_eq(w->first_submit, 0, 1e-12);
	cr_assert_float_eq(w->last_submit, 0.25, 1e-12);
	cr_assert_float_eq(w->total_flops, 1.7e10, 1);
	cr_assert_eq(w->nusers, 3);
	cr_assert_eq(w->class_count[XPU_CLASS_GEMM], 1);
	xpu_workload_free(w);
}

Test(trace_native, streams_records_through_the_reader)
{
	struct xpu_trace_reader *r;
	struct xpu_trace_rec rec;
	struct xpu_err err = {{0}};
	cr_assert_eq(xpu_trace_open(tn_path("all_columns.csv"), "native", &r, &err), 0, "%s",
	             err.msg);
	cr_assert_eq(xpu_trace_next(r, &rec, &err), 1, "%s", err.msg);
	cr_assert_str_eq(rec.id, "t1");
	cr_assert_eq(rec.line, 3);
	cr_assert_eq(rec.cost_col, 2);
	cr_assert_eq(rec.ncosts, 2);
	cr_assert_str_eq(rec.cost_target[1], "gpu");
	cr_assert_eq(xpu_trace_next(r, &rec, &err), 1, "%s", err.msg);
	cr_assert_eq(rec.ndeps, 1);
	cr_assert_str_eq(rec.dep_ids[0], "t1");
	cr_assert_eq(xpu_trace_next(r, &rec, &err), 1, "%s", err.msg);
	cr_assert_eq(xpu_trace_next(r, &rec, &err), 0, "%s", err.msg);
	xpu_trace_close(r);
}

Test(trace_native, lists_its_formats)
{
	cr_assert_str_eq(xpu_trace_formats[0], "native");
	cr_assert_str_eq(xpu_trace_format_of("a.CSV", NULL), "native");
	cr_assert_str_eq(xpu_trace_format_of("a.txt", "auto"), "native");
	cr_assert_null(xpu_trace_format_of("a.csv", "nope"));
}

Test(trace_native, loads_the_bundled_default_trace)
{
	struct xpu_workload *w = NULL;
	struct xpu_err err = {{0}};
	int rc = xpu_workload_load(XPU_SRCDIR "/traces/default.csv", NULL, NULL, &w, &err);
	cr_assert_eq(rc, 0, "%s", err.msg);
	cr_assert_geq(w->ntasks, 150);
	cr_assert_gt(w->ndeps, 0);
	for (int k = 0; k < XPU_CLASS_COUNT; k++)
		cr_assert_gt(w->class_count[k], 0, "no task of class %s", xpu_class_name(k));
	xpu_workload_free(w);
}

/* Bounded reads: a line without end is refused once it passes 1 MiB, never read whole
 * (/dev/zero would grow without bound; a sparse file of 4 GiB of NUL bytes likewise). */
Test(trace_native, endless_lines_are_refused_quickly, .timeout = 20)
{
	char buf[4096];
	cr_expect_eq(xt_cmd(buf, sizeof(buf), "trace --trace-format native /dev/zero 2>&1"), 2);
	cr_expect_not_null(strstr(buf, "/dev/zero:1: line is longer than 1048576 bytes"), "%s",
	                   buf);
	char sparse[512];
	snprintf(sparse, sizeof(sparse), "%s/sparse.csv", xt_tmpdir());
	FILE *f = fopen(sparse, "w");
	cr_assert_not_null(f);
	fclose(f);
	cr_assert_eq(truncate(sparse, 4LL << 30), 0);
	cr_expect_eq(xt_cmd(buf, sizeof(buf), "trace %s 2>&1", sparse), 2);
	cr_expect_not_null(strstr(buf, "line is longer than"), "%s", buf);
	unlink(sparse);
}

/* A decompression bomb (gzip of 64 MiB of blank lines, about 64 kB) is refused within
 * the first 16 MiB, not read for seconds. */
Test(trace_native, gzip_bombs_are_refused, .timeout = 30)
{
	char bomb[512], cmd[1024], buf[4096];
	snprintf(bomb, sizeof(bomb), "%s/bomb.swf.gz", xt_tmpdir());
	snprintf(cmd, sizeof(cmd),
	         "{ echo '; header'; head -c 67108864 /dev/zero | tr '\\0' '\\n'; } | gzip -9 > %s",
	         bomb);
	cr_assert_eq(system(cmd), 0);
	cr_expect_eq(xt_cmd(buf, sizeof(buf), "trace %s 2>&1", bomb), 2);
	cr_expect_not_null(strstr(buf, "the gzip data expands more than 1000 times"), "%s", buf);
}
