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
	         "${CC:-cc} -shared -fPIC -Wall -Wextra -Werror -I%s/engine %s -o %s", XPU_SRCDIR,
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
	               "static const struct xpu_sched_ops ops = {.head = {1, \"old\", 0, 0}};\n"
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
	               "static const struct xpu_mem_ops ops = {.head = {1, \"m\", 0, 0}};\n"
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

/* A sched table of version 1 (the first edition's members, before on_inputs), built
 * against its own copy of that layout: it loads, its missing member takes the default,
 * and it runs under the contract. A table newer than this xpuopt's is refused, naming
 * both versions. */
static const char *v1_source =
    "#include <xpu.h>\n"
    "struct sched_v1 {\n"
    "\tstruct xpu_ops_head head;\n"
    "\tint (*init)(struct xpu_sched *);\n"
    "\tvoid (*fini)(struct xpu_sched *);\n"
    "\tvoid (*on_submit)(struct xpu_sched *, const struct xpu_task *);\n"
    "\tvoid (*on_arrivals)(struct xpu_sched *, double);\n"
    "\tvoid (*on_ready)(struct xpu_sched *, const struct xpu_task *);\n"
    "\tconst struct xpu_task *(*pick)(struct xpu_sched *, const struct xpu_unit *);\n"
    "\tvoid (*on_done)(struct xpu_sched *, const struct xpu_task *);\n"
    "\tvoid (*on_tick)(struct xpu_sched *, double);\n"
    "\tint (*on_failed)(struct xpu_sched *, const struct xpu_task *, int);\n"
    "};\n"
    "static int on_failed(struct xpu_sched *s, const struct xpu_task *t, int u)\n"
    "{ (void)s; (void)t; (void)u; return 0; }\n"
    "static const struct sched_v1 ops = {.head = {1, \"old-table\", \"v1\", 0},\n"
    "                                    .on_failed = on_failed};\n"
    "__attribute__((visibility(\"default\"))) const struct xpu_policy_export\n"
    "    xpu_policy_export = {XPU_ABI_VERSION, XPU_POLICY_SCHED, &ops};\n";

Test(plugin, a_table_one_version_older_loads_and_runs)
{
	const char *dir = xt_tmpdir();
	char src[256], so[256], trace[256];
	snprintf(src, sizeof(src), "%s/v1.c", dir);
	snprintf(so, sizeof(so), "%s/v1.so", dir);
	snprintf(trace, sizeof(trace), "%s/dag.csv", dir);
	write_src(src, v1_source);
	build_so(src, so);
	xt_write_dag_trace(trace, 100, 3);
	struct xpu_run_opts o = {
	    .platform = xt_src("tests/data/contract/hetero.xml"), .trace = trace, .sched = so};
	struct xpu_run_result res;
	struct xpu_err err = {{0}};
	cr_assert_eq(xpu_run(&o, &res, &err), 0, "%s", err.msg);
	xt_check_contract(&res);
	xpu_run_result_free(&res);
}

Test(plugin, a_newer_table_is_refused_naming_both_versions)
{
	const char *dir = xt_tmpdir();
	char src[256], so[256], buf[4096];
	snprintf(src, sizeof(src), "%s/v9.c", dir);
	snprintf(so, sizeof(so), "%s/v9.so", dir);
	write_src(src, "#include <xpu.h>\n"
	               "static const struct xpu_sched_ops ops = {.head = {XPU_SCHED_VERSION + 1, "
	               "\"future\", 0, 0}};\n"
	               "XPU_EXPORT_POLICY(XPU_POLICY_SCHED, ops);\n");
	build_so(src, so);
	int st = xt_cmd(buf, sizeof(buf), "run --sched %s --output - 2>&1", so);
	cr_assert_eq(st, 2);
	char want[160];
	snprintf(want, sizeof(want),
	         "has a sched table of version %d, newer than this xpuopt's version %d",
	         XPU_SCHED_VERSION + 1, XPU_SCHED_VERSION);
	cr_assert_not_null(strstr(buf, want), "%s", buf);
}

/* Parameters are checked when parsed: the name and the expected type, exit 2. */
Test(plugin, policy_parameters_are_checked_when_parsed)
{
	char buf[4096];
	int st = xt_cmd(buf, sizeof(buf), "run --sched 'energy:gamma=abc' --output - 2>&1");
	cr_assert_eq(st, 2);
	cr_assert_not_null(
	    strstr(buf,
	           "--sched: sched policy 'energy': parameter 'gamma': expected a number >= 0, "
	           "got \"abc\""),
	    "%s", buf);
	st = xt_cmd(buf, sizeof(buf), "run --sched 'energy:alpha=-1' --output - 2>&1");
	cr_assert_eq(st, 2);
	cr_assert_not_null(strstr(buf, "parameter 'alpha': expected a number >= 0"), "%s", buf);
	st = xt_cmd(buf, sizeof(buf), "run --sched 'energy:beta=0x10' --output - 2>&1");
	cr_assert_eq(st, 2, "%s", buf);
	st = xt_cmd(buf, sizeof(buf), "run --sched 'energy:' --output - 2>&1");
	cr_assert_eq(st, 2, "an empty parameter list: %s", buf);
}
