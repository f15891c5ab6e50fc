/* test_routes.c — routes computed on demand: platforms whose units have no route between
 * them load and run independent tasks, SimGrid's crashing layouts answer "no route", and
 * a data edge no placement can carry is refused before the run, naming both units. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "helpers.h"

/* Each fixture, and the pairs it connects (a-b is the only route, when any). */
struct layout {
	const char *file;
	int a_b; /* 1: a and b are connected */
};

static const struct layout layouts[] = {
    {"missing_route.xml", 0}, /* Full zone, no route at all: SimGrid crashes */
    {"missing_route_partial.xml", 1},
    {"no_routes_floyd.xml", 1},    /* Floyd: SimGrid throws for a-c */
    {"no_routes_dijkstra.xml", 0}, /* Dijkstra with an isolated host: SimGrid aborts */
    {"no_zone_route.xml", 1},      /* z1-z2 zoneRoute only: SimGrid throws for z3 */
    {"no_zone_routes_at_all.xml", 0},
};

Test(routes, each_layout_loads_and_lists_its_routes)
{
	for (size_t i = 0; i < sizeof(layouts) / sizeof(layouts[0]); i++) {
		const struct layout *l = &layouts[i];
		char path[512], buf[8192];
		snprintf(path, sizeof(path), "tests/data/platforms/%s", l->file);
		int rc = xt_cmd(buf, sizeof(buf), "platform %s 2>&1", xt_src(path));
		cr_assert_eq(rc, 0, "%s: %s", l->file, buf);
		const char *ab = strstr(buf, "  a <-> b  ");
		cr_assert_not_null(ab, "%s: %s", l->file, buf);
		cr_expect_eq(strncmp(ab + 11, "no route", 8) != 0, l->a_b, "%s: %s", l->file, buf);
		if (strcmp(l->file, "missing_route.xml"))
			cr_expect_not_null(strstr(buf, "  a <-> c  no route"), "%s: %s", l->file,
			                   buf);
	}
}

Test(routes, a_route_less_platform_runs_independent_tasks)
{
	const char *trace = xt_write_file("ind.csv", "id,flops\nt1,1e9\nt2,1e9\nt3,1e9\nt4,1e9\n");
	char buf[8192];
	int rc = xt_cmd(buf, sizeof(buf), "run --platform %s --trace %s --output - 2>&1",
	                xt_src("tests/data/platforms/missing_route.xml"), trace);
	cr_assert_eq(rc, 0, "%s", buf);
	cr_expect_not_null(strstr(buf, "tasks_done 4\n"), "%s", buf);
	cr_expect_not_null(strstr(buf, "makespan_s 2\n"), "two units, two 1 s tasks each: %s", buf);
}

/* The producer runs only on the CPU 'a', the consumer only on the GPU 'b' (classes the
 * other units lack), and nothing connects a to b. */
Test(routes, a_data_edge_between_unrouted_units_is_refused_naming_both)
{
	const char *plat = xt_write_file(
	    "p.xml", "<?xml version='1.0'?>\n"
	             "<!DOCTYPE platform SYSTEM \"https://simgrid.org/simgrid.dtd\">\n"
	             "<platform version=\"4.1\"><zone id=\"z\" routing=\"Full\">\n"
	             "<host id=\"a\" speed=\"1Gf\"><prop id=\"xpu.kind\" value=\"cpu\"/>\n"
	             "  <prop id=\"xpu.class.fft\" value=\"1Gf\"/></host>\n"
	             "<host id=\"b\" speed=\"1Gf\"><prop id=\"xpu.kind\" value=\"gpu\"/>\n"
	             "  <prop id=\"xpu.class.gemm\" value=\"1Gf\"/></host>\n"
	             "</zone></platform>\n");
	const char *trace =
	    xt_write_file("edge.csv", "id,class,flops,deps\np,fft,1e9,\nc,gemm,1e9,p:1000000\n");
	char buf[8192], out[512];
	snprintf(out, sizeof(out), "%s/never.h5", xt_tmpdir());
	int rc = xt_cmd(buf, sizeof(buf), "run --platform %s --trace %s --output %s 2>&1", plat,
	                trace, out);
	cr_assert_eq(rc, 2, "%s", buf);
	cr_expect_not_null(strstr(buf, "edge.csv:3: field 'deps'"), "%s", buf);
	cr_expect_not_null(strstr(buf, "no route from 'a' to 'b'"), "%s", buf);
	cr_expect_eq(access(out, F_OK), -1, "no partial output");

	/* Without the data edge the same tasks run. */
	trace = xt_write_file("noedge.csv", "id,class,flops,deps\np,fft,1e9,\nc,gemm,1e9,p\n");
	rc = xt_cmd(buf, sizeof(buf), "run --platform %s --trace %s --output - 2>&1", plat, trace);
	cr_assert_eq(rc, 0, "%s", buf);
}
