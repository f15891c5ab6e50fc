/* test_platform_errors.c — malformed platform files through `xpuopt platform`: each
 * error names the file and line, exits 2, and nothing crashes. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "helpers.h"

/* One host line inside an otherwise valid platform; returns the exit status and puts
 * stdout+stderr into out. The host is on line 4. */
static int check_host(const char *host, char *out, size_t n, char *path, size_t pn)
{
	snprintf(path, pn, "%s/p.xml", xt_tmpdir());
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f);
	fprintf(f,
	        "<?xml version='1.0'?>\n"
	        "<!DOCTYPE platform SYSTEM \"https://simgrid.org/simgrid.dtd\">\n"
	        "<platform version=\"4.1\"><zone id=\"z\" routing=\"Full\">\n"
	        "%s\n"
	        "</zone></platform>\n",
	        host);
	fclose(f);
	return xt_cmd(out, n, "platform %s 2>&1", path);
}

static void expect(const char *host, const char *what)
{
	char out[8192], path[256], want[512];
	int st = check_host(host, out, sizeof(out), path, sizeof(path));
	cr_assert_eq(st, 2, "exit %d for %s: %s", st, host, out);
	snprintf(want, sizeof(want), "%s:4:", path);
	cr_assert_not_null(strstr(out, want), "no %s in: %s", want, out);
	cr_assert_not_null(strstr(out, what), "no '%s' in: %s", what, out);
}

Test(platform_errors, negative_speed)
{
	char out[8192], path[256];
	int st =
	    check_host("<host id=\"a\" speed=\"-1Gf\"><prop id=\"xpu.kind\" value=\"cpu\"/></host>",
	               out, sizeof(out), path, sizeof(path));
	cr_assert_eq(st, 2, "%s", out);
	cr_assert_not_null(strstr(out, path), "%s", out);
}

Test(platform_errors, fpga_properties_on_a_gpu)
{
	expect("<host id=\"g\" speed=\"1Tf\"><prop id=\"xpu.kind\" value=\"gpu\"/>"
	       "<prop id=\"xpu.fpga.reconfig\" value=\"10ms\"/></host>",
	       "xpu.fpga.* properties need xpu.kind fpga");
}

Test(platform_errors, class_in_two_bitstreams)
{
	expect("<host id=\"f\" speed=\"1Tf\"><prop id=\"xpu.kind\" value=\"fpga\"/>"
	       "<prop id=\"xpu.class.gemm\" value=\"1Tf@0.5\"/>"
	       "<prop id=\"xpu.fpga.bitstream.a\" value=\"gemm\"/>"
	       "<prop id=\"xpu.fpga.bitstream.b\" value=\"gemm\"/></host>",
	       "gemm");
}

Test(platform_errors, bad_reconfiguration_time)
{
	expect("<host id=\"f\" speed=\"1Tf\"><prop id=\"xpu.kind\" value=\"fpga\"/>"
	       "<prop id=\"xpu.class.gemm\" value=\"1Tf@0.5\"/>"
	       "<prop id=\"xpu.fpga.bitstream.a\" value=\"gemm\"/>"
	       "<prop id=\"xpu.fpga.reconfig\" value=\"soon\"/></host>",
	       "xpu.fpga.reconfig");
}

Test(platform_errors, pstate_lists_of_different_lengths)
{
	expect("<host id=\"c\" speed=\"2Gf,1Gf\"><prop id=\"xpu.kind\" value=\"cpu\"/>"
	       "<prop id=\"wattage_per_state\" value=\"1:2:3\"/></host>",
	       "wattage_per_state");
}

/* What SimGrid 3.32 aborts or crashes on, or reports without a line, is refused by the
 * platform check first (sim/platform_check.c): one case per line of the table, each a
 * text put on line 4 of an otherwise valid file, and the message expected. */
static const struct {
	const char *text, *want;
} prechecked[] = {
    {"<host id=\"a\" speed=\"1Gf\" core=\"0\"><prop id=\"xpu.kind\" value=\"cpu\"/></host>",
     "attribute 'core' of <host id=\"a\">: expected a whole number of cores"},
    {"<host id=\"a\" speed=\"1Gf\" core=\"-1\"><prop id=\"xpu.kind\" value=\"cpu\"/></host>",
     "attribute 'core' of <host id=\"a\">"},
    {"<host id=\"a\" speed=\"1Gf\" core=\"1.5\"><prop id=\"xpu.kind\" value=\"cpu\"/></host>",
     "got \"1.5\""},
    {"<host id=\"a\" speed=\"1Gf\" core=\"1e9\"><prop id=\"xpu.kind\" value=\"cpu\"/></host>",
     "from 1 to 1000000"},
    {"<host id=\"a\" speed=\"0x10Gf\"><prop id=\"xpu.kind\" value=\"cpu\"/></host>",
     "attribute 'speed' of <host id=\"a\">"},
    {"<host id=\"a\" speed=\"1Gf,0f\"><prop id=\"xpu.kind\" value=\"cpu\"/></host>",
     "attribute 'speed'"},
    {"<host id=\"a\" speed=\"1Gf\"/><host id=\"a\" speed=\"2Gf\"/>",
     "<host id=\"a\">: a second host of that name"},
    {"<link id=\"l\" bandwidth=\"0Bps\" latency=\"0\"/>",
     "attribute 'bandwidth' of <link id=\"l\">"},
    {"<link id=\"l\" bandwidth=\"1GBps\" latency=\"-1s\"/>", "attribute 'latency'"},
    {"<link id=\"l\" bandwidth=\"1GBps\"/><link id=\"l\" bandwidth=\"1GBps\"/>",
     "a second link of that name"},
    {"<host id=\"a\" speed=\"1Gf\"/><host id=\"b\" speed=\"1Gf\"/>"
     "<route src=\"a\" dst=\"b\"><link_ctn id=\"ghost\"/></route>",
     "<link_ctn id=\"ghost\">: no <link> of that name"},
};

Test(platform_errors, simgrid_aborts_are_refused_first_with_their_line)
{
	for (size_t i = 0; i < sizeof(prechecked) / sizeof(prechecked[0]); i++)
		expect(prechecked[i].text, prechecked[i].want);
}

Test(platform_errors, zones_nested_too_deep)
{
	char path[256], out[8192];
	snprintf(path, sizeof(path), "%s/deep.xml", xt_tmpdir());
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f);
	fprintf(f, "<?xml version='1.0'?>\n"
	           "<!DOCTYPE platform SYSTEM \"https://simgrid.org/simgrid.dtd\">\n"
	           "<platform version=\"4.1\">\n");
	for (int i = 0; i < 20000; i++)
		fprintf(f, "<zone id=\"z%d\" routing=\"Full\">\n", i);
	fprintf(f, "<host id=\"a\" speed=\"1Gf\"><prop id=\"xpu.kind\" value=\"cpu\"/></host>\n");
	for (int i = 0; i < 20000; i++)
		fprintf(f, "</zone>\n");
	fprintf(f, "</platform>\n");
	fclose(f);
	cr_assert_eq(xt_cmd(out, sizeof(out), "platform %s 2>&1", path), 2, "%s", out);
	cr_assert_not_null(strstr(out, "zones nested deeper than 64"), "%s", out);
}

/* An unknown SimGrid configuration key names itself and its line, without SimGrid's
 * list of every key. */
Test(platform_errors, unknown_config_key)
{
	char path[256], out[8192];
	snprintf(path, sizeof(path), "%s/cfg.xml", xt_tmpdir());
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f);
	fprintf(f, "<?xml version='1.0'?>\n"
	           "<!DOCTYPE platform SYSTEM \"https://simgrid.org/simgrid.dtd\">\n"
	           "<platform version=\"4.1\">\n"
	           "<config><prop id=\"network/nosuchkey\" value=\"1\"/></config>\n"
	           "<zone id=\"z\" routing=\"Full\">\n"
	           "<host id=\"a\" speed=\"1Gf\"><prop id=\"xpu.kind\" value=\"cpu\"/></host>\n"
	           "</zone></platform>\n");
	fclose(f);
	cr_assert_eq(xt_cmd(out, sizeof(out), "platform %s 2>&1", path), 2, "%s", out);
	cr_expect_not_null(strstr(out, "cfg.xml:4: <config> property 'network/nosuchkey'"), "%s",
	                   out);
	cr_expect_null(strstr(out, "Existing config keys"), "%s", out);
}
