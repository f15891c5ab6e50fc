/* test_outputs.c — outputs never replace an input, a directory or a device, and an
 * interrupted command leaves no temporary file behind. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "helpers.h"

static long file_size(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 ? (long)st.st_size : -1;
}

/* Entries of dir whose name contains ".tmp". */
static int temporaries(const char *dir)
{
	DIR *d = opendir(dir);
	int n = 0;
	struct dirent *e;
	cr_assert_not_null(d);
	while ((e = readdir(d)))
		n += strstr(e->d_name, ".tmp") != NULL;
	closedir(d);
	return n;
}

Test(outputs, an_output_equal_to_an_input_is_refused_and_the_input_kept)
{
	const char *in = xt_write_file("in.csv", "id,flops\na,1e9\nb,2e9\n");
	long before = file_size(in);
	char buf[4096];
	cr_expect_eq(xt_cmd(buf, sizeof(buf), "run --trace %s -o %s -q 2>&1", in, in), 2, "%s",
	             buf);
	cr_expect_not_null(strstr(buf, "cannot write the output over an input"), "%s", buf);
	cr_expect_eq(xt_cmd(buf, sizeof(buf), "convert %s -o %s 2>&1", in, in), 2, "%s", buf);
	cr_expect_eq(file_size(in), before, "the input is untouched");
	/* the same file under another name (a hard link) is the same input */
	char link_path[600];
	snprintf(link_path, sizeof(link_path), "%s.link", in);
	cr_assert_eq(link(in, link_path), 0);
	cr_expect_eq(xt_cmd(buf, sizeof(buf), "convert %s -o %s 2>&1", in, link_path), 2, "%s",
	             buf);
	/* the platform is an input too */
	char plat[600];
	snprintf(plat, sizeof(plat), "%s/p.xml", xt_tmpdir());
	snprintf(buf, sizeof(buf), "cp %s %s", xt_src("platforms/default.xml"), plat);
	cr_assert_eq(system(buf), 0);
	long pbefore = file_size(plat);
	cr_expect_eq(
	    xt_cmd(buf, sizeof(buf), "run --platform %s --trace %s -o %s -q 2>&1", plat, in, plat),
	    2, "%s", buf);
	cr_expect_eq(file_size(plat), pbefore);
}

Test(outputs, directories_are_refused_and_devices_written_in_place)
{
	const char *dir = xt_tmpdir();
	const char *in = xt_write_file("in.csv", "id,flops\na,1e9\n");
	char buf[4096];
	cr_expect_eq(xt_cmd(buf, sizeof(buf), "run --trace %s -o %s -q 2>&1", in, dir), 2, "%s",
	             buf);
	cr_expect_not_null(strstr(buf, "it is a directory"), "%s", buf);
	cr_expect_eq(xt_cmd(buf, sizeof(buf), "convert %s -o %s 2>&1", in, dir), 2, "%s", buf);
	/* a device is written in place, never renamed over */
	cr_expect_eq(xt_cmd(buf, sizeof(buf), "convert %s -o /dev/null 2>&1", in), 0, "%s", buf);
	cr_expect_eq(xt_cmd(buf, sizeof(buf), "gen poisson -o /dev/null 2>&1"), 0, "%s", buf);
	struct stat st;
	cr_assert_eq(stat("/dev/null", &st), 0);
	cr_expect(S_ISCHR(st.st_mode), "/dev/null is still a device");
	/* an HDF5 result needs a regular file */
	cr_expect_eq(xt_cmd(buf, sizeof(buf), "run --trace %s -o /dev/null -q 2>&1", in), 2, "%s",
	             buf);
	/* a full device is an error with the path, exit 1 */
	if (access("/dev/full", W_OK) == 0) {
		cr_expect_eq(
		    xt_cmd(buf, sizeof(buf), "gen poisson --count 100000 -o /dev/full 2>&1"), 1,
		    "%s", buf);
		cr_expect_not_null(strstr(buf, "/dev/full: cannot write"), "%s", buf);
	}
	cr_expect_eq(temporaries(dir), 0);
}

/* SIGTERM during a long write: exit 143, no output, no temporary. */
Test(outputs, an_interrupted_command_leaves_no_temporary, .timeout = 60)
{
	const char *dir = xt_tmpdir();
	char out[512];
	snprintf(out, sizeof(out), "%s/big.csv", dir);
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		int dn = open("/dev/null", O_WRONLY);
		if (dn >= 0)
			dup2(dn, 2);
		execl(xt_xpuopt(), "xpuopt", "gen", "layered", "--layers", "4000", "--width", "200",
		      "--edge_prob", "0.02", "-o", out, (char *)NULL);
		_exit(127);
	}
	/* wait until the temporary exists, then interrupt */
	for (int i = 0; i < 500 && temporaries(dir) == 0; i++)
		usleep(10000);
	cr_assert_gt(temporaries(dir), 0, "the generator did not start writing");
	kill(pid, SIGTERM);
	int st;
	cr_assert_eq(waitpid(pid, &st, 0), pid);
	cr_expect(WIFEXITED(st) && WEXITSTATUS(st) == 143, "status %d", st);
	cr_expect_eq(temporaries(dir), 0, "the temporary was removed");
	cr_expect_eq(access(out, F_OK), -1, "no partial output");
}

/* A full disk: exit 1 with the system's message, no crash, nothing left behind. Needs a
 * small tmpfs (root and mount rights); skipped otherwise. */
Test(outputs, a_full_disk_is_an_error_not_a_crash, .timeout = 60)
{
	const char *dir = xt_tmpdir();
	char mnt[512], cmd[1024], buf[8192];
	snprintf(mnt, sizeof(mnt), "%s/full", dir);
	mkdir(mnt, 0755);
	snprintf(cmd, sizeof(cmd), "mount -t tmpfs -o size=64k tmpfs %s 2>/dev/null", mnt);
	if (geteuid() != 0 || system(cmd) != 0)
		cr_skip_test("cannot mount a small tmpfs here (needs root and mount rights)");
	char trace[512];
	snprintf(trace, sizeof(trace), "%s/big.csv", dir);
	cr_assert_eq(xt_cmd(buf, sizeof(buf), "gen layered --layers 50 --width 100 -o %s", trace),
	             0);
	int st = xt_cmd(buf, sizeof(buf), "run --trace %s -q -o %s/r.h5 2>&1", trace, mnt);
	int st2 = xt_cmd(buf + strlen(buf), sizeof(buf) - strlen(buf),
	                 "convert %s -o %s/c.csv 2>&1", trace, mnt);
	int left = temporaries(mnt);
	snprintf(cmd, sizeof(cmd), "umount %s", mnt);
	cr_assert_eq(system(cmd), 0);
	cr_expect_eq(st, 1, "%s", buf);
	cr_expect_eq(st2, 1, "%s", buf);
	cr_expect_not_null(strstr(buf, "No space left on device"), "%s", buf);
	cr_expect_eq(left, 0, "no temporary left on the full disk");
}

/* Files that start with a UTF-8 byte order mark (Windows editors write one) load: XML
 * allows it, and a JSON workflow is read past it. */
Test(outputs, byte_order_marks_are_accepted)
{
	char cmd[2048], buf[8192], xml[512], json[512];
	snprintf(xml, sizeof(xml), "%s/bom.xml", xt_tmpdir());
	snprintf(json, sizeof(json), "%s/bom.json", xt_tmpdir());
	snprintf(cmd, sizeof(cmd),
	         "{ printf '\\357\\273\\277'; cat %s; } > %s && "
	         "{ printf '\\357\\273\\277'; cat %s; } > %s",
	         xt_src("platforms/default.xml"), xml,
	         xt_src("tests/data/traces/wfcommons/small15.json"), json);
	cr_assert_eq(system(cmd), 0);
	cr_expect_eq(xt_cmd(buf, sizeof(buf), "platform %s 2>&1", xml), 0, "%s", buf);
	cr_expect_eq(xt_cmd(buf, sizeof(buf), "trace %s 2>&1", json), 0, "%s", buf);
	cr_expect_eq(
	    xt_cmd(buf, sizeof(buf), "run --platform %s --trace %s -q --output - 2>&1", xml, json),
	    0, "%s", buf);
}
