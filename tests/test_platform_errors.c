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
