/* test_plugin.c — out-of-tree policies: the example builds as a shared object, loads
 * with --sched ./x.so, runs under the contract; ABI or kind mismatches are refused. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"

static void build_so(const char *src, const char *so)
{
	char cmd[8192];
	snprintf(cmd, sizeof(cmd),
	         "${CC:-cc} -shared -fPIC -Wall -Wextra -Werror -I%s/core %s -o %s", XPU_SRCDIR,
	         src, so);
	cr_assert_eq(system(cmd), 0, "%s", cmd);
}

Test(plugin, example_builds_loads_and_keeps_the_contract)
{
	const char *dir = xt_tmpdir();
	char so[256], spec[300], trace[256];
	snprintf(so, sizeof(so), "%s/sjf.so", dir);
	snprintf(trace, sizeof(trace), "%s/dag.csv", dir);
	build_so(xt_src("examples/mypolicy.c"), so);
	xt_write_dag_trace(trace, 200, 9);
	snprintf(spec, sizeof(spec), "%s:fifo_above=50", so);
	struct xpu_run_opts o = {
	    .platform = xt_src("tests/data/contract/hetero.xml"), .trace = trace, .sched = spec};
	struct xpu_run_result res;
	struct xpu_err err = {{0}};
	cr_assert_eq(xpu_run(&o, &res, &err), 0, "%s", err.msg);
	xt_check_contract(&res);
	xpu_run_result_free(&res);
}

Test(plugin, example_rejects_unknown_parameter)
{
	const char *dir = xt_tmpdir();
	char so[256], buf[4096];
	snprintf(so, sizeof(so), "%s/sjf.so", dir);
	build_so(xt_src("examples/mypolicy.c"), so);
	int st = xt_cmd(buf, sizeof(buf), "run --sched '%s:nope=1' --output - 2>&1", so);
	cr_assert_eq(st, 2);
	cr_assert_not_null(strstr(buf, "no parameter \"nope\"; valid: fifo_above"), "%s", buf);
}

static void write_src(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f);
	fputs(text, f);
	fclose(f);
}

Test(plugin, abi_mismatch_is_refused)
{
	const char *dir = xt_tmpdir();
	char src[256], so[256], buf[4096];
	snprintf(src, sizeof(src), "%s/old.c", dir);
	snprintf(so, sizeof(so), "%s/old.so", dir);
	write_src(src, "#include <xpu.h>\n"
	               "static const struct xpu_sched_ops ops = {.name = \"old\"};\n"
	               "__attribute__((visibility(\"default\"))) const struct xpu_policy_export\n"
	               "    xpu_policy_export = {XPU_ABI_VERSION + 41, XPU_POLICY_SCHED, &ops};\n");
	build_so(src, so);
	int st = xt_cmd(buf, sizeof(buf), "run --sched %s --output - 2>&1", so);
	cr_assert_eq(st, 2);
	cr_assert_not_null(strstr(buf, "was built against policy ABI"), "%s", buf);
}

Test(plugin, wrong_kind_and_missing_export_are_refused)
{
	const char *dir = xt_tmpdir();
	char src[256], so[256], buf[4096];
	snprintf(src, sizeof(src), "%s/mem.c", dir);
	snprintf(so, sizeof(so), "%s/mem.so", dir);
	write_src(src, "#include <xpu.h>\n"
	               "static const struct xpu_mem_ops ops = {.name = \"m\"};\n"
	               "XPU_EXPORT_POLICY(XPU_POLICY_MEM, ops);\n");
	build_so(src, so);
	int st = xt_cmd(buf, sizeof(buf), "run --sched %s --output - 2>&1", so);
	cr_assert_eq(st, 2);
	cr_assert_not_null(strstr(buf, "is a mem policy, not a sched policy"), "%s", buf);
	snprintf(src, sizeof(src), "%s/none.c", dir);
	snprintf(so, sizeof(so), "%s/none.so", dir);
	write_src(src, "int unrelated(void) { return 0; }\n");
	build_so(src, so);
	st = xt_cmd(buf, sizeof(buf), "run --sched %s --output - 2>&1", so);
	cr_assert_eq(st, 2);
	cr_assert_not_null(strstr(buf, "exports no xpu_policy_export"), "%s", buf);
	st = xt_cmd(buf, sizeof(buf), "run --sched ./no-such-policy.so --output - 2>&1");
	cr_assert_eq(st, 2);
	cr_assert_not_null(strstr(buf, "cannot load policy"), "%s", buf);
}
