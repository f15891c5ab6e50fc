/* test_e2e.c — the xpuopt program end to end: a 10,000-task replay, exit statuses,
 * errors that leave no result file behind. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "helpers.h"

static void write_independent(const char *path, int n)
{
	static const char *const cls[] = {"gemm", "conv", "attention", "fft", "generic"};
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f);
	fprintf(f, "id,submit,class,flops,mem\n");
	unsigned x = 12345;
	for (int i = 0; i < n; i++) {
		x = x * 1103515245u + 12345u;
		fprintf(f, "j%d,%.4f,%s,%u000000,%u000000\n", i, i * 0.001, cls[(x >> 16) % 5],
		        1 + (x >> 8) % 5000, 1 + (x >> 12) % 200);
	}
	fclose(f);
}

Test(e2e, ten_thousand_tasks)
{
	const char *dir = xt_tmpdir();
	char trace[256], out[256], buf[8192];
	snprintf(trace, sizeof(trace), "%s/t.csv", dir);
	snprintf(out, sizeof(out), "%s/r.h5", dir);
	write_independent(trace, 10000);
	int st = xt_cmd(buf, sizeof(buf), "run --platform %s --trace %s --sched fifo --output %s",
	                xt_src("tests/data/contract/hetero.xml"), trace, out);
	cr_assert_eq(st, 0, "exit %d: %s", st, buf);
	cr_assert_not_null(strstr(buf, "tasks_done 10000\n"), "%s", buf);
	cr_assert_not_null(strstr(buf, "tasks_failed 0\n"), "%s", buf);
	cr_assert_eq(access(out, R_OK), 0);
	st = xt_cmd(buf, sizeof(buf), "summary %s", out);
	cr_assert_eq(st, 0);
	cr_assert_not_null(strstr(buf, "makespan_s "));
	cr_assert_not_null(strstr(buf, "tasks_done 10000\n"));
}

Test(e2e, default_run_uses_bundled_platform_and_trace)
{
	const char *dir = xt_tmpdir();
	char out[256], buf[8192];
	snprintf(out, sizeof(out), "%s/d.h5", dir);
	int st = xt_cmd(buf, sizeof(buf), "run --output %s", out);
	cr_assert_eq(st, 0, "%s", buf);
	cr_assert_not_null(strstr(buf, "energy_j "));
	cr_assert_eq(access(out, R_OK), 0);
}

Test(e2e, bad_trace_exits_2_and_writes_nothing)
{
	const char *dir = xt_tmpdir();
	char trace[256], out[256], buf[4096];
	snprintf(trace, sizeof(trace), "%s/bad.csv", dir);
	snprintf(out, sizeof(out), "%s/r.h5", dir);
	FILE *f = fopen(trace, "w");
	fprintf(f, "id,flops\na,1e9\nb,abc\n");
	fclose(f);
	int st = xt_cmd(buf, sizeof(buf), "run --trace %s --output %s 2>&1", trace, out);
	cr_assert_eq(st, 2);
	cr_assert_not_null(strstr(buf, "bad.csv:3: field 'flops'"), "%s", buf);
	cr_assert_neq(access(out, F_OK), 0, "a result file was left behind");
}

Test(e2e, unknown_policy_lists_valid_ones)
{
	char buf[4096];
	int st = xt_cmd(buf, sizeof(buf), "run --sched nosuch --output - 2>&1");
	cr_assert_eq(st, 2);
	cr_assert_not_null(strstr(buf, "unknown sched policy \"nosuch\""), "%s", buf);
	cr_assert_not_null(strstr(buf, "heft"), "%s", buf);
	st = xt_cmd(buf, sizeof(buf), "run --sched 'fifo:x=1' --output - 2>&1");
	cr_assert_eq(st, 2);
	cr_assert_not_null(strstr(buf, "no parameter \"x\""), "%s", buf);
}

Test(e2e, help_version_and_bad_usage)
{
	char buf[8192];
	cr_assert_eq(xt_cmd(buf, sizeof(buf), "--help"), 0);
	cr_assert_not_null(strstr(buf, "run"));
	cr_assert_eq(xt_cmd(buf, sizeof(buf), "--version"), 0);
	cr_assert_not_null(strstr(buf, "xpuopt "));
	static const char *const cmds[] = {"run", "summary", "platform", "trace"};
	for (int i = 0; i < 4; i++) {
		cr_assert_eq(xt_cmd(buf, sizeof(buf), "%s --help", cmds[i]), 0, "%s", cmds[i]);
		cr_assert_not_null(strcasestr(buf, "usage"), "%s --help: %s", cmds[i], buf);
		cr_assert_eq(xt_cmd(buf, sizeof(buf), "%s --no-such-option 2>&1", cmds[i]), 2, "%s",
		             cmds[i]);
	}
	cr_assert_eq(xt_cmd(buf, sizeof(buf), "frobnicate 2>&1"), 2);
	cr_assert_eq(xt_cmd(buf, sizeof(buf), "run --seed -3 2>&1"), 2);
}

Test(e2e, unwritable_output_is_a_run_failure)
{
	char buf[4096];
	int st = xt_cmd(buf, sizeof(buf), "run --output /nonexistent-dir/r.h5 2>&1");
	cr_assert_eq(st, 1, "%s", buf);
	cr_assert_not_null(strstr(buf, "/nonexistent-dir/r.h5"), "%s", buf);
}
