/* test_platform.c — the platform builder, its unit parsers, and loading platform files
 * through the SimGrid backend (one SimGrid engine per Test: Criterion forks each). */
#include <criterion/criterion.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "backend.h"
#include "helpers.h"
#include "platform.h"

#define TP_DIR XPU_SRCDIR "/tests/data/platforms/"

static const char *tp_path(const char *name)
{
	static char buf[4][4096];
	static int k;
	k = (k + 1) % 4;
	snprintf(buf[k], sizeof(buf[k]), "%s%s", TP_DIR, name);
	return buf[k];
}

/* ------------------------------------------------------------------ parsers */

Test(platform_parse, bytes_accepts_decimal_binary_and_bare)
{
	double v;
	cr_assert_eq(xpu_parse_bytes("16GiB", &v), 0);
	cr_assert_eq(v, 16.0 * 1024 * 1024 * 1024);
	cr_assert_eq(xpu_parse_bytes("512MB", &v), 0);
	cr_assert_eq(v, 512e6);
	cr_assert_eq(xpu_parse_bytes("1e9", &v), 0);
	cr_assert_eq(v, 1e9);
	cr_assert_eq(xpu_parse_bytes("1.5kB", &v), 0);
	cr_assert_eq(v, 1500);
	cr_assert_eq(xpu_parse_bytes("2 KiB", &v), 0);
	cr_assert_eq(v, 2048);
	cr_assert_eq(xpu_parse_bytes("3KB", &v), 0);
	cr_assert_eq(v, 3000);
	cr_assert_eq(xpu_parse_bytes("1TiB", &v), 0);
	cr_assert_eq(v, 1024.0 * 1024 * 1024 * 1024);
	cr_assert_eq(xpu_parse_bytes("0", &v), 0);
	cr_assert_eq(v, 0);
	cr_assert_eq(xpu_parse_bytes("7B", &v), 0);
	cr_assert_eq(v, 7);
}

Test(platform_parse, bytes_rejects_garbage_negative_and_non_finite)
{
	static const char *const bad[] = {
	    "abc",  "",       "-1",     "-1GiB", "inf",  "nan",  "1e999",
	    "0x10", "16GiBx", "16 Gib", "GiB",   "1..2", "16Gf", NULL,
	};
	for (const char *const *s = bad; *s; s++) {
		double v = 42;
		cr_expect_eq(xpu_parse_bytes(*s, &v), -EINVAL, "\"%s\" was accepted", *s);
		cr_expect_eq(v, 42, "\"%s\" wrote its output", *s);
	}
	cr_assert_eq(xpu_parse_bytes(NULL, &(double){0}), -EINVAL);
}

Test(platform_parse, flop_rates)
{
	double v;
	cr_assert_eq(xpu_parse_rate("50Tf", 'f', &v), 0);
	cr_assert_eq(v, 50e12);
	cr_assert_eq(xpu_parse_rate("163.2Gf", 'f', &v), 0);
	cr_assert_float_eq(v, 163.2e9, 1e-3);
	cr_assert_eq(xpu_parse_rate("1Ef", 'f', &v), 0);
	cr_assert_eq(v, 1e18);
	cr_assert_eq(xpu_parse_rate("2Gflops", 'f', &v), 0);
	cr_assert_eq(v, 2e9);
	cr_assert_eq(xpu_parse_rate("100", 'f', &v), 0);
	cr_assert_eq(v, 100);
	cr_assert_eq(xpu_parse_rate("1GBps", 'f', &v), -EINVAL);
	cr_assert_eq(xpu_parse_rate("Tf", 'f', &v), -EINVAL);
	cr_assert_eq(xpu_parse_rate("-1Tf", 'f', &v), -EINVAL);
	cr_assert_eq(xpu_parse_rate("1Tf", 'x', &v), -EINVAL);
}

Test(platform_parse, byte_rates)
{
	double v;
	cr_assert_eq(xpu_parse_rate("100GBps", 'B', &v), 0);
	cr_assert_eq(v, 100e9);
	cr_assert_eq(xpu_parse_rate("10Gbps", 'B', &v), 0);
	cr_assert_eq(v, 1.25e9);
	cr_assert_eq(xpu_parse_rate("1KiBps", 'B', &v), 0);
	cr_assert_eq(v, 1024);
	cr_assert_eq(xpu_parse_rate("15.75GBps", 'B', &v), 0);
	cr_assert_float_eq(v, 15.75e9, 1e-3);
	cr_assert_eq(xpu_parse_rate("2.5e10", 'B', &v), 0);
	cr_assert_eq(v, 2.5e10);
	cr_assert_eq(xpu_parse_rate("1Gf", 'B', &v), -EINVAL);
	cr_assert_eq(xpu_parse_rate("fast", 'B', &v), -EINVAL);
	cr_assert_eq(xpu_parse_rate("1GBs", 'B', &v), -EINVAL);
}

Test(platform_parse, durations)
{
	double v;
	/* Sub-second units are exact: the double nearest the decimal value. */
	cr_assert_eq(xpu_parse_seconds("5us", &v), 0);
	cr_assert_eq(v, 5e-6);
	cr_assert_eq(xpu_parse_seconds("2ms", &v), 0);
	cr_assert_eq(v, 2e-3);
	cr_assert_eq(xpu_parse_seconds("0.1s", &v), 0);
	cr_assert_eq(v, 0.1);
	cr_assert_eq(xpu_parse_seconds("3", &v), 0);
	cr_assert_eq(v, 3);
	cr_assert_eq(xpu_parse_seconds("10ns", &v), 0);
	cr_assert_eq(v, 1e-8);
	cr_assert_eq(xpu_parse_seconds("0", &v), 0);
	cr_assert_eq(v, 0);
	/* minutes to weeks, as SimGrid reads them (times between failures) */
	cr_assert_eq(xpu_parse_seconds("1h", &v), 0);
	cr_assert_eq(v, 3600);
	cr_assert_eq(xpu_parse_seconds("30min", &v), 0);
	cr_assert_eq(v, 1800);
	cr_assert_eq(xpu_parse_seconds("2d", &v), 0);
	cr_assert_eq(v, 172800);
	static const char *const bad[] = {"5 parsecs", "-1s",    "1hr", "us",
	                                  "",          "1e400s", "1y",  NULL};
	for (const char *const *s = bad; *s; s++)
		cr_expect_eq(xpu_parse_seconds(*s, &v), -EINVAL, "\"%s\" was accepted", *s);
}

/* ------------------------------------------------------------------ builder, from descs */

/* A host given as a NULL-terminated key/value list. */
struct tp_host {
	const char *const *kv;
};

static const char *tp_prop(void *ctx, const char *key)
{
	const struct tp_host *h = ctx;
	for (const char *const *p = h->kv; p && *p; p += 2)
		if (!strcmp(p[0], key))
			return p[1];
	return NULL;
}

static const char *tp_prop_name(void *ctx, int i)
{
	const struct tp_host *h = ctx;
	for (int k = 0; h->kv && h->kv[2 * k]; k++)
		if (k == i)
			return h->kv[2 * k];
	return NULL;
}

static int tp_add(struct xpu_platform *pf, const char *name, int cores, int np,
                  const double *speeds, const char *const *kv, struct xpu_err *err)
{
	struct tp_host h = {kv};
	struct xpu_host_desc d = {
	    .name = name,
	    .cores = cores,
	    .npstates = np,
	    .speeds = speeds,
	    .prop = tp_prop,
	    .ctx = &h,
	    .prop_name = tp_prop_name,
	};
	return xpu_platform_add_host(pf, &d, err);
}

Test(platform_builder, host_without_kind_is_skipped)
{
	struct xpu_platform pf;
	struct xpu_err err = {{0}};
	xpu_platform_init(&pf, "label");
	static const char *const kv[] = {"xpu.mem", "1GB", NULL};
	cr_assert_eq(tp_add(&pf, "router", 1, 1, (double[]){1e9}, kv, &err), 1);
	cr_assert_eq(pf.nunits, 0);
	xpu_platform_free(&pf);
}

Test(platform_builder, zero_speed_is_an_error)
{
	struct xpu_platform pf;
	struct xpu_err err = {{0}};
	xpu_platform_init(&pf, "live:test");
	static const char *const kv[] = {"xpu.kind", "cpu", NULL};
	cr_assert_eq(tp_add(&pf, "c0", 2, 2, (double[]){2e9, 0}, kv, &err), -EINVAL);
	cr_assert(strstr(err.msg, "host 'c0': speed of P-state 1"), "%s", err.msg);
	cr_assert_eq(tp_add(&pf, "c1", 0, 1, (double[]){1e9}, kv, &err), -EINVAL);
	cr_assert(strstr(err.msg, "host 'c1': core count"), "%s", err.msg);
	cr_assert_eq(pf.nunits, 0);
	xpu_platform_free(&pf);
}

Test(platform_builder, reads_every_property)
{
	struct xpu_platform pf;
	struct xpu_err err = {{0}};
	xpu_platform_init(&pf, NULL);
	static const char *const kv[] = {
	    "xpu.kind",
	    "gpu",
	    "xpu.mem",
	    "8GiB",
	    "xpu.mem.bw",
	    "256GBps",
	    "xpu.launch",
	    "5us",
	    "xpu.launch.conv",
	    "1.5us",
	    "xpu.wake",
	    "2ms",
	    "xpu.class.gemm",
	    "50Tf@0.7",
	    "xpu.class.conv",
	    "40Tf",
	    "xpu.class.video",
	    "unsupported",
	    "wattage_per_state",
	    "8:15:115, 8:35",
	    NULL,
	};
	cr_assert_eq(tp_add(&pf, "g", 1, 2, (double[]){14e12, 9e12}, kv, &err), 0, "%s", err.msg);
	const struct xpu_unit *u = &pf.units[0];
	cr_assert_eq(u->kind, XPU_KIND_GPU);
	cr_assert_eq(u->npstates, 2);
	cr_assert_eq(u->pstates[1].speed, 9e12);
	cr_assert_eq(pf.pools[u->mem_pool].capacity, 8.0 * (1 << 30));
	cr_assert_str_eq(pf.pools[u->mem_pool].name, "g");
	cr_assert_eq(u->mem_bw, 256e9);
	cr_assert_eq(u->launch_latency, 5e-6);
	cr_assert_eq(xpu_unit_launch(u, XPU_CLASS_CONV), 1.5e-6, "its own");
	cr_assert_eq(xpu_unit_launch(u, XPU_CLASS_GEMM), 5e-6, "the unit's");
	cr_assert_eq(u->wake_latency, 2e-3);
	cr_assert_eq(u->has_class_props, 1);
	cr_assert(u->cls[XPU_CLASS_GEMM].supported);
	cr_assert_eq(u->cls[XPU_CLASS_GEMM].peak, 50e12);
	cr_assert_eq(u->cls[XPU_CLASS_GEMM].efficiency, 0.7);
	cr_assert_eq(u->cls[XPU_CLASS_CONV].efficiency, 1);
	cr_assert_not(u->cls[XPU_CLASS_VIDEO].supported);
	cr_assert_not(u->cls[XPU_CLASS_FFT].supported, "unnamed classes are unsupported");
	cr_assert_eq(u->pstates[0].idle_w, 8);
	cr_assert_eq(u->pstates[0].epsilon_w, 15);
	cr_assert_eq(u->pstates[0].full_w, 115);
	cr_assert_eq(u->pstates[1].epsilon_w, 8, "two values: epsilon = idle");
	cr_assert_eq(u->pstates[1].full_w, 35);
	xpu_platform_free(&pf);
}

Test(platform_builder, generalist_runs_every_class_at_its_speed)
{
	struct xpu_platform pf;
	struct xpu_err err = {{0}};
	xpu_platform_init(&pf, NULL);
	static const char *const kv[] = {"xpu.kind", "cpu", NULL};
	cr_assert_eq(tp_add(&pf, "c", 8, 1, (double[]){1e9}, kv, &err), 0);
	const struct xpu_unit *u = &pf.units[0];
	cr_assert_eq(u->has_class_props, 0);
	for (int c = 0; c < XPU_CLASS_COUNT; c++) {
		cr_assert(u->cls[c].supported);
		cr_assert_eq(u->cls[c].peak, 0);
		cr_assert_eq(u->cls[c].efficiency, 1);
	}
	cr_assert_eq(u->pstates[0].idle_w, 0, "no wattage: 0 W");
	cr_assert_eq(pf.pools[u->mem_pool].capacity, 0, "no xpu.mem: unlimited");
	xpu_platform_free(&pf);
}

Test(platform_builder, wattage_count_must_match_speeds)
{
	struct xpu_platform pf;
	struct xpu_err err = {{0}};
	xpu_platform_init(&pf, NULL);
	static const char *const kv[] = {"xpu.kind", "cpu", "wattage_per_state", "1:2", NULL};
	cr_assert_eq(tp_add(&pf, "c", 1, 3, (double[]){3e9, 2e9, 1e9}, kv, &err), -EINVAL);
	cr_assert(strstr(err.msg, "host 'c': property 'wattage_per_state': 1 group for 3 "
	                          "P-states"),
	          "%s", err.msg);
	static const char *const kv2[] = {"xpu.kind", "cpu", "wattage_per_state", "1:2:3:4", NULL};
	cr_assert_eq(tp_add(&pf, "c", 1, 1, (double[]){1e9}, kv2, &err), -EINVAL);
	cr_assert(strstr(err.msg, "P-state 0: expected IDLE:FULL"), "%s", err.msg);
	xpu_platform_free(&pf);
}

Test(platform_builder, bad_class_values)
{
	static const char *const bad[] = {"50Tf@0",   "50Tf@1.01", "0Tf", "fast",
	                                  "50TB@0.5", "50Tf@",     NULL};
	for (const char *const *b = bad; *b; b++) {
		struct xpu_platform pf;
		struct xpu_err err = {{0}};
		xpu_platform_init(&pf, NULL);
		const char *kv[] = {"xpu.kind", "npu", "xpu.class.gemm", *b, NULL};
		cr_expect_eq(tp_add(&pf, "n", 1, 1, (double[]){1e12}, kv, &err), -EINVAL,
		             "\"%s\" was accepted", *b);
		cr_expect(strstr(err.msg, "property 'xpu.class.gemm'"), "%s", err.msg);
		xpu_platform_free(&pf);
	}
}

Test(platform_builder, shared_memory_pools)
{
	struct xpu_platform pf;
	struct xpu_err err = {{0}};
	xpu_platform_init(&pf, NULL);
	static const char *const a[] = {"xpu.kind", "cpu", "xpu.mem.shared", "dram", NULL};
	static const char *const b[] = {"xpu.kind", "gpu", "xpu.mem.shared", "dram", "xpu.mem",
	                                "16GiB",    NULL};
	static const char *const c[] = {"xpu.kind", "npu", "xpu.mem.shared", "dram", "xpu.mem",
	                                "16GiB",    NULL};
	static const char *const d[] = {"xpu.kind", "gpu", "xpu.mem", "8GiB", NULL};
	double s[] = {1e9};
	cr_assert_eq(tp_add(&pf, "cpu", 4, 1, s, a, &err), 0, "%s", err.msg);
	cr_assert_eq(tp_add(&pf, "igpu", 1, 1, s, b, &err), 0, "%s", err.msg);
	cr_assert_eq(tp_add(&pf, "npu", 1, 1, s, c, &err), 0, "%s", err.msg);
	cr_assert_eq(tp_add(&pf, "dgpu", 1, 1, s, d, &err), 0, "%s", err.msg);
	cr_assert_eq(pf.npools, 2);
	cr_assert_eq(pf.units[0].mem_pool, pf.units[1].mem_pool);
	cr_assert_eq(pf.units[1].mem_pool, pf.units[2].mem_pool);
	cr_assert_neq(pf.units[3].mem_pool, pf.units[0].mem_pool);
	cr_assert_str_eq(pf.pools[pf.units[0].mem_pool].name, "dram");
	cr_assert_eq(pf.pools[pf.units[0].mem_pool].capacity, 16.0 * (1 << 30),
	             "a later unit may give the shared capacity");
	cr_assert_eq(xpu_platform_find_unit(&pf, "npu"), 2);
	cr_assert_eq(xpu_platform_find_unit(&pf, "tpu"), -1);

	/* Routes: only dgpu needs them; the SoC's units share memory. Without a backend
	 * to ask, an unset pair has no route, which the platform allows. */
	cr_assert_eq(xpu_platform_finish_units(&pf, NULL, NULL), 0);
	cr_assert_eq(xpu_platform_check(&pf, &err), 0, "%s", err.msg);
	double lat, bw;
	cr_assert_eq(xpu_platform_route(&pf, 0, 3, &lat, &bw), 0);
	cr_assert_eq(bw, 0);
	cr_assert_eq(xpu_platform_route(&pf, 0, 2, &lat, &bw), 1, "shared memory needs none");
	cr_assert_eq(lat, 0);
	for (int i = 0; i < 3; i++) {
		xpu_platform_set_route(&pf, i, 3, 5e-6, 15.75e9);
		xpu_platform_set_route(&pf, 3, i, 5e-6, 15.75e9);
	}
	cr_assert_eq(xpu_platform_route(&pf, 0, 3, &lat, &bw), 1);
	cr_assert_eq(bw, 15.75e9);
	cr_assert_eq(xpu_platform_route(&pf, 3, 1, &lat, &bw), 1);
	cr_assert_eq(lat, 5e-6);

	static const char *const e[] = {"xpu.kind", "npu", "xpu.mem.shared", "dram", "xpu.mem",
	                                "8GiB",     NULL};
	cr_assert_eq(tp_add(&pf, "npu2", 1, 1, s, e, &err), -EINVAL);
	cr_assert(strstr(err.msg, "shared memory 'dram'"), "%s", err.msg);
	static const char *const f[] = {"xpu.kind", "npu", "xpu.mem.shared", "cpu", NULL};
	cr_assert_eq(tp_add(&pf, "npu3", 1, 1, s, f, &err), -EINVAL,
	             "a shared memory may not take a unit's name");
	xpu_platform_free(&pf);
}

/* ------------------------------------------------------------------ files, via SimGrid */

/* Opening name through the sim backend fails with -EINVAL and a message that starts
 * with "PATH:LINE: " and contains want. */
static void tp_expect_error(const char *name, int line, const char *want)
{
	struct xpu_backend be = {.ops = &xpu_backend_sim};
	struct xpu_platform pf;
	struct xpu_err err = {{0}};
	const char *path = tp_path(name);
	int rc = be.ops->open(&be, path, &pf, &err);
	cr_assert_eq(rc, -EINVAL, "%s: expected -EINVAL, got %d (%s)", name, rc, err.msg);
	char head[4200];
	snprintf(head, sizeof(head), "%s:%d: ", path, line);
	cr_assert(!strncmp(err.msg, head, strlen(head)), "%s: expected \"%s...\", got \"%s\"", name,
	          head, err.msg);
	cr_assert(strstr(err.msg, want), "%s: expected \"%s\" in \"%s\"", name, want, err.msg);
	cr_assert_eq(pf.nunits, 0, "a failed open leaves no units");
}

Test(platform_file, unknown_kind)
{
	tp_expect_error("bad_kind.xml", 6,
	                "host 'h': property 'xpu.kind': expected one of cpu, gpu");
}

Test(platform_file, unknown_class)
{
	tp_expect_error("bad_class.xml", 6,
	                "host 'h': property 'xpu.class.gemmm': unknown kernel class 'gemmm'");
}

Test(platform_file, efficiency_out_of_range)
{
	tp_expect_error("bad_class_value.xml", 6,
	                "host 'h': property 'xpu.class.gemm': efficiency must be in (0, 1]");
}

Test(platform_file, bad_memory_size)
{
	tp_expect_error("bad_mem.xml", 6,
	                "host 'h': property 'xpu.mem': expected a byte size such as 16GiB, got "
	                "\"abc\"");
}

Test(platform_file, wattage_count_mismatch_does_not_abort)
{
	/* SimGrid's energy plugin would abort the process on this file. */
	tp_expect_error("bad_wattage_count.xml", 6,
	                "host 'h': property 'wattage_per_state': 1 group for 2 P-states");
}

Test(platform_file, unknown_xpu_property)
{
	tp_expect_error("bad_unknown_prop.xml", 6, "host 'h': unknown property 'xpu.memory'");
}

Test(platform_file, shared_capacity_conflict)
{
	tp_expect_error("bad_shared_capacity.xml", 11,
	                "host 'b': property 'xpu.mem': shared memory 'dram'");
}

Test(platform_file, bad_link_wattage)
{
	tp_expect_error("bad_link_wattage.xml", 8, "link 'pcie': property 'wattage_range'");
}

Test(platform_file, malformed_xml_names_the_line)
{
	tp_expect_error("malformed.xml", 7, "</zon>");
}

Test(platform_file, missing_file)
{
	struct xpu_backend be = {.ops = &xpu_backend_sim};
	struct xpu_platform pf;
	struct xpu_err err = {{0}};
	cr_assert_eq(be.ops->open(&be, tp_path("no_such_file.xml"), &pf, &err), -EINVAL);
	cr_assert(strstr(err.msg, "no_such_file.xml: cannot read"), "%s", err.msg);
}

Test(platform_file, host_line_handles_both_quotes_and_comments)
{
	cr_assert_eq(xpu_platform_host_line(tp_path("bad_mem.xml"), "h"), 6, "single quotes");
	cr_assert_eq(xpu_platform_host_line(tp_path("shared_soc.xml"), "npu"), 16);
	cr_assert_eq(xpu_platform_host_line(tp_path("shared_soc.xml"), "nobody"), 0);
	cr_assert_eq(xpu_platform_host_line(tp_path("no_such_file.xml"), "h"), 0);
	cr_assert_eq(xpu_platform_element_line(tp_path("bad_link_wattage.xml"), "link", "pcie"), 8);
}

Test(platform_file, shared_soc_needs_no_route)
{
	struct xpu_backend be = {.ops = &xpu_backend_sim};
	struct xpu_platform pf;
	struct xpu_err err = {{0}};
	cr_assert_eq(be.ops->open(&be, tp_path("shared_soc.xml"), &pf, &err), 0, "%s", err.msg);
	cr_assert_eq(pf.nunits, 3, "the router is not a unit");
	cr_assert_eq(pf.npools, 1);
	cr_assert_eq(pf.pools[0].capacity, 12.0 * (1 << 30));
	cr_assert_eq(pf.units[2].line, 16);
	be.ops->close(&be);
	xpu_platform_free(&pf);
}

Test(platform_file, default_platform_loads)
{
	struct xpu_backend be = {.ops = &xpu_backend_sim};
	struct xpu_platform pf;
	struct xpu_err err = {{0}};
	const char *path = XPU_SRCDIR "/platforms/default.xml";
	cr_assert_eq(be.ops->open(&be, path, &pf, &err), 0, "%s", err.msg);
	cr_assert_eq(pf.nunits, 4);
	static const char *const names[] = {"cpu", "igpu", "npu", "dgpu"};
	static const int kinds[] = {XPU_KIND_CPU, XPU_KIND_GPU, XPU_KIND_NPU, XPU_KIND_GPU};
	for (int i = 0; i < 4; i++) {
		cr_assert_str_eq(pf.units[i].name, names[i], "file order");
		cr_assert_eq(pf.units[i].kind, kinds[i]);
		cr_assert_gt(pf.units[i].line, 0);
		cr_assert_gt(pf.units[i].pstates[0].full_w, 0, "every unit has wattage");
	}
	const struct xpu_unit *cpu = &pf.units[0];
	cr_assert_eq(cpu->cores, 8);
	cr_assert_eq(cpu->npstates, 3);
	cr_assert_eq(cpu->has_class_props, 0);
	cr_assert_eq(pf.npools, 2);
	cr_assert_eq(pf.units[0].mem_pool, pf.units[1].mem_pool);
	cr_assert_eq(pf.units[0].mem_pool, pf.units[2].mem_pool);
	cr_assert_neq(pf.units[0].mem_pool, pf.units[3].mem_pool);
	cr_assert_eq(pf.units[2].cls[XPU_CLASS_GEMM].peak, 16e12);
	cr_assert_not(pf.units[2].cls[XPU_CLASS_FFT].supported);
	double lat, bw;
	cr_assert_eq(xpu_platform_route(&pf, 0, 3, &lat, &bw), 1);
	cr_assert_float_eq(lat, 5e-6, 1e-18);
	cr_assert_eq(xpu_platform_route(&pf, 3, 2, &lat, &bw), 1);
	cr_assert_eq(bw, 15.75e9);
	be.ops->close(&be);
	xpu_platform_free(&pf);
}

Test(platform_file, second_open_is_busy)
{
	struct xpu_backend be = {.ops = &xpu_backend_sim}, be2 = {.ops = &xpu_backend_sim};
	struct xpu_platform pf, pf2;
	struct xpu_err err = {{0}};
	const char *path = XPU_SRCDIR "/platforms/default.xml";
	cr_assert_eq(be.ops->open(&be, path, &pf, &err), 0, "%s", err.msg);
	cr_assert_eq(be2.ops->open(&be2, path, &pf2, &err), -EBUSY);
	cr_assert(strstr(err.msg, "once per process"), "%s", err.msg);
	be.ops->close(&be);
	xpu_platform_free(&pf);
}

/* ------------------------------------------------------------------ running */

static struct {
	struct xpu_backend be;
	struct xpu_platform pf;
	struct xpu_event ev[16];
	int nev;
	double t_wait0;
	int deadlock_rc;
} tp_run;

static void tp_collect(double until)
{
	struct xpu_backend *be = &tp_run.be;
	int n;
	while (tp_run.nev < 16 &&
	       (n = be->ops->wait(be, until, tp_run.ev + tp_run.nev, 16 - tp_run.nev)) > 0)
		tp_run.nev += n;
}

static void tp_body(void *arg)
{
	(void)arg;
	struct xpu_backend *be = &tp_run.be;
	const struct xpu_backend_ops *o = be->ops;
	/* Two tasks at once on the 8-core cpu; one on the igpu at its low P-state: a
	 * launch lasts its seconds at whatever P-state it starts in. */
	struct xpu_launch l = {.unit = 0, .cookie = 1, .seconds = 0.5};
	cr_assert_eq(o->launch(be, &l), 0);
	l.cookie = 2;
	l.seconds = 0.25;
	cr_assert_eq(o->launch(be, &l), 0);
	cr_assert_eq(o->set_pstate(be, 1, 1), 0);
	cr_assert_eq(o->set_pstate(be, 1, 2), -EINVAL);
	l.unit = 1;
	l.cookie = 3;
	l.seconds = 0.125;
	cr_assert_eq(o->launch(be, &l), 0);
	/* cpu -> dgpu over PCIe: 5 us + 15.75 MB / 15.75 GB/s = 1.005 ms. */
	cr_assert_eq(o->copy(be,
	                     &(struct xpu_copy){
	                         .cookie = 10, .bytes = 15.75e6, .src_unit = 0, .dst_unit = 3}),
	             0);
	/* cpu -> npu share memory: immediate. */
	cr_assert_eq(
	    o->copy(be,
	            &(struct xpu_copy){.cookie = 11, .bytes = 1e9, .src_unit = 0, .dst_unit = 2}),
	    0);
	cr_assert_eq(o->launch(be, &(struct xpu_launch){.unit = 9, .seconds = 1}), -EINVAL);
	/* A wait that times out returns no event at its deadline. */
	struct xpu_event ev[4];
	cr_assert_eq(o->wait(be, 0, ev, 4), 1, "the immediate transfer is queued");
	cr_assert_eq(ev[0].cookie, 11);
	cr_assert_eq(o->wait(be, 1e-4, ev, 4), 0);
	tp_run.t_wait0 = o->now(be);
	tp_collect(INFINITY);
	tp_run.deadlock_rc = o->wait(be, INFINITY, ev, 4);
}

Test(platform_run, launches_and_transfers_take_exact_times)
{
	struct xpu_backend *be = &tp_run.be;
	struct xpu_err err = {{0}};
	be->ops = &xpu_backend_sim;
	cr_assert_eq(be->ops->open(be, XPU_SRCDIR "/platforms/default.xml", &tp_run.pf, &err), 0,
	             "%s", err.msg);
	be->pf = &tp_run.pf;
	cr_assert_eq(be->ops->run(be, tp_body, NULL), 0);
	cr_assert_float_eq(tp_run.t_wait0, 1e-4, 1e-15);
	cr_assert_eq(tp_run.nev, 4);
	static const int type[] = {XPU_EV_COPY, XPU_EV_DONE, XPU_EV_DONE, XPU_EV_DONE};
	static const uint64_t cookie[] = {10, 3, 2, 1};
	static const double t[] = {1.005e-3, 0.125, 0.25, 0.5};
	for (int i = 0; i < 4; i++) {
		cr_assert_eq(tp_run.ev[i].type, type[i], "event %d", i);
		cr_assert_eq(tp_run.ev[i].cookie, cookie[i], "event %d", i);
		cr_assert_eq(tp_run.ev[i].status, 0);
		cr_assert_float_eq(tp_run.ev[i].time, t[i], 1e-12, "event %d at %.17g", i,
		                   tp_run.ev[i].time);
	}
	cr_assert_eq(tp_run.deadlock_rc, -EDEADLK, "nothing in flight: no endless wait");
	double j;
	int modeled = 0;
	cr_assert_eq(be->ops->read_energy(be, 0, &j, &modeled), 0);
	cr_assert_gt(j, 0);
	cr_assert_eq(modeled, 1);
	cr_assert_eq(be->ops->read_link_energy(be, &j), 0);
	cr_assert_gt(j, 0, "the PCIe link has a wattage_range");
	be->ops->close(be);
	xpu_platform_free(&tp_run.pf);
}

/* The second edition's host properties (xpu.idle, xpu.modes, the heat sink) on 20,000
 * random values built from their own alphabet and from pieces of valid ones: every one
 * is accepted or refused with a message naming the property, never a crash (ASan and
 * valgrind runs of this suite check the memory side). */
Test(platform_builder, random_idle_modes_and_sink_values_are_accepted_or_refused)
{
	static const char *const keys[] = {"xpu.idle", "xpu.modes", "xpu.thermal.sink.r",
	                                   "xpu.thermal.sink"};
	static const char *const pieces[] = {
	    "C1",     ":",   ";",   "1ms", "2us", "5W", "0.5J",  "0", "-1",
	    "1e400",  "nan", "inf", "x",   "",    "  ", "turbo", "2", "99999999999999999999",
	    "1e-300W"};
	uint64_t r = 12345;
	for (int iter = 0; iter < 20000; iter++) {
		char v[256] = "";
		int parts = 1 + (int)(r % 12);
		for (int k = 0; k < parts; k++) {
			r = r * 6364136223846793005ULL + 1442695040888963407ULL;
			const char *p = pieces[(r >> 33) % (sizeof(pieces) / sizeof(pieces[0]))];
			if (strlen(v) + strlen(p) + 1 < sizeof(v))
				strcat(v, p);
		}
		const char *key = keys[iter % 4];
		const char *kv[] = {"xpu.kind",
		                    "npu",
		                    "xpu.thermal.r",
		                    "1",
		                    "xpu.thermal.c",
		                    "1",
		                    "xpu.thermal.sink",
		                    "hs",
		                    "xpu.thermal.sink.r",
		                    "1",
		                    "xpu.thermal.sink.c",
		                    "1",
		                    key,
		                    v,
		                    NULL};
		/* the sink keys appear once: the random value replaces its pair */
		if (!strcmp(key, "xpu.thermal.sink.r") || !strcmp(key, "xpu.thermal.sink")) {
			for (int k = 0; kv[k]; k += 2)
				if (!strcmp(kv[k], key))
					kv[k + 1] = v;
			kv[12] = NULL;
		}
		struct xpu_platform pf;
		struct xpu_err err = {{0}};
		xpu_platform_init(&pf, "random");
		int rc = tp_add(&pf, "h", 1, 3, (double[]){3e9, 2e9, 1e9}, kv, &err);
		cr_assert(rc == 0 || rc == -EINVAL, "%s=\"%s\": rc %d", key, v, rc);
		if (rc)
			cr_assert(strstr(err.msg, "property 'xpu."), "%s=\"%s\": %s", key, v,
			          err.msg);
		xpu_platform_free(&pf);
	}
}

/* A host with a 10 us launch latency: the head of a platform file, the host open. */
static const char launch_head[] = "<?xml version='1.0'?>\n"
                                  "<!DOCTYPE platform SYSTEM \"https://simgrid.org/simgrid.dtd\">\n"
                                  "<platform version=\"4.1\"><zone id=\"z\" routing=\"Full\">\n"
                                  "<host id=\"c\" speed=\"1Gf\" core=\"1\">\n"
                                  "<prop id=\"xpu.kind\" value=\"cpu\"/>\n"
                                  "<prop id=\"xpu.launch\" value=\"10us\"/>\n";

/* xpu.launch.CLASS: a class's own launch latency replaces the unit's in simulation (and
 * in the engine's predictions, which the sim backend's durations equal). */
Test(platform_file, per_class_launch_latency)
{
	char text[2048];
	snprintf(text, sizeof(text),
	         "%s<prop id=\"xpu.launch.gemm\" value=\"2us\"/>\n"
	         "<prop id=\"xpu.launch.fft\" value=\"0\"/>\n</host>\n</zone></platform>\n",
	         launch_head);
	const char *pf = xt_write_file("launch.xml", text);
	const char *tr = xt_write_file("launch.csv", "id,class,flops,deps\n"
	                                             "a,gemm,1e6,\n"
	                                             "b,fft,1e6,a\n"
	                                             "c,conv,1e6,b\n");
	char h5[512];
	snprintf(h5, sizeof(h5), "%s/launch.h5", xt_tmpdir());
	struct xpu_run_opts o = {.platform = pf, .trace = tr, .sched = "fifo"};
	cr_assert_eq(xt_run_forked(&o, h5), 0);
	double *start, *end;
	cr_assert_eq(xt_read_column(h5, "start", &start), 3);
	cr_assert_eq(xt_read_column(h5, "end", &end), 3);
	const double want[] = {1e-3 + 2e-6, 1e-3, 1e-3 + 10e-6};
	for (int i = 0; i < 3; i++)
		cr_assert_float_eq(end[i] - start[i], want[i], 1e-12, "task %d took %.12g s", i,
		                   end[i] - start[i]);
	free(start);
	free(end);
}

/* ... and a misspelt class or a negative duration is refused, naming file, line and
 * property. */
static void launch_refused(const char *prop, const char *want)
{
	char text[2048];
	snprintf(text, sizeof(text), "%s%s\n</host>\n</zone></platform>\n", launch_head, prop);
	const char *path = xt_write_file("bad_launch.xml", text);
	struct xpu_backend be = {.ops = &xpu_backend_sim};
	struct xpu_platform pf;
	struct xpu_err err = {{0}};
	cr_assert_eq(be.ops->open(&be, path, &pf, &err), -EINVAL);
	char head[4200];
	snprintf(head, sizeof(head), "%s:4: host 'c': ", path);
	cr_assert(!strncmp(err.msg, head, strlen(head)), "got \"%s\"", err.msg);
	cr_assert(strstr(err.msg, want), "expected \"%s\" in \"%s\"", want, err.msg);
}

Test(platform_file, per_class_launch_unknown_class)
{
	launch_refused("<prop id=\"xpu.launch.gemmm\" value=\"2us\"/>",
	               "property 'xpu.launch.gemmm': unknown kernel class 'gemmm'");
}

Test(platform_file, per_class_launch_negative)
{
	launch_refused("<prop id=\"xpu.launch.gemm\" value=\"-2us\"/>",
	               "property 'xpu.launch.gemm': expected a non-negative duration");
}
