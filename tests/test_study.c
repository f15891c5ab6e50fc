/* test_study.c — studies end to end: matrix expansion, bad experiment files, resumption
 * after kill -9, compare on planted differences, plots, Slurm (skipped where absent). */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <hdf5.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "helpers.h"
#include "stats.h"
#include "study.h"

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f, "%s", path);
	fputs(text, f);
	fclose(f);
}

/* An experiment file in dir naming the source tree's platforms and traces. */
static void write_cfg(const char *path, const char *body)
{
	char text[8192];
	snprintf(text, sizeof(text), "platforms = [ \"%s\" ];\ntraces = [ \"%s\" ];\n%s",
	         xt_src("platforms/default.xml"), xt_src("traces/default.csv"), body);
	write_file(path, text);
}

Test(study_file, expands_the_matrix)
{
	const char *dir = xt_tmpdir();
	char cfg[256];
	snprintf(cfg, sizeof(cfg), "%s/m.cfg", dir);
	char text[4096];
	snprintf(text, sizeof(text),
	         "name = \"m\";\n"
	         "platforms = [ \"%s\", \"%s\" ];\n"
	         "traces = \"%s\";\n"
	         "seeds = { first = 3; count = 2; };\n"
	         "policies = (\n"
	         "  { name = \"fifo\"; sched = \"fifo\"; },\n"
	         "  { name = \"heft\"; sched = \"heft\"; power = \"powersave\"; },\n"
	         "  { name = \"energy\"; sched = \"energy:beta=2\";\n"
	         "    sweep = { sched = { gamma = [ 1.0, 10.5 ]; mode = \"x\"; }; }; }\n"
	         ");\n",
	         xt_src("platforms/default.xml"), xt_src("tests/data/platforms/shared_soc.xml"),
	         xt_src("traces/default.csv"));
	write_file(cfg, text);
	struct xpu_study st;
	struct xpu_err err = {{0}};
	int rc = xpu_study_load(cfg, "out", XPU_STUDY_NO_POLICY_CHECK, &st, &err);
	cr_assert_eq(rc, 0, "%s", err.msg);
	cr_assert_eq(st.nplatforms, 2);
	cr_assert_eq(st.ntraces, 1);
	cr_assert_eq(st.nseeds, 2);
	cr_assert_eq(st.seeds[0], 3);
	cr_assert_eq(st.seeds[1], 4);
	cr_assert_eq(st.nsets, 4);
	cr_assert_str_eq(st.sets[1].power, "powersave");
	cr_assert_str_eq(st.sets[1].mem, "lru");
	cr_assert_str_eq(st.sets[2].name, "energy[gamma=1,mode=x]");
	cr_assert_str_eq(st.sets[2].sched, "energy:beta=2,gamma=1,mode=x");
	cr_assert_str_eq(st.sets[3].sched, "energy:beta=2,gamma=10.5,mode=x");
	cr_assert_str_eq(st.sets[3].params, "sched.gamma=10.5;sched.mode=x");
	cr_assert_eq(st.ncases, 2 * 1 * 4 * 2);
	/* Platform-major order; ids unique and file-name safe. */
	cr_assert_str_eq(st.cases[0].id, "default.default.fifo.s3");
	cr_assert_str_eq(st.cases[1].id, "default.default.fifo.s4");
	cr_assert_eq(st.cases[8].platform, 1);
	for (int i = 0; i < st.ncases; i++) {
		cr_assert_null(strchr(st.cases[i].id, '/'));
		cr_assert_not_null(strstr(st.cases[i].result, "/out/cases/"));
		for (int j = 0; j < i; j++)
			cr_assert_str_neq(st.cases[i].id, st.cases[j].id);
	}
	xpu_study_free(&st);
}

/* Each bad file: the message names the file and line and the field. */
Test(study_file, bad_files_name_file_line_and_field)
{
	static const struct {
		const char *body, *line, *want;
	} bad[] = {
	    {"seeds = [ 1, 2 \npolicies = ();\n", ":4:", "syntax error"},
	    {"seeds = [ 1 ];\nseed = 2;\npolicies = ( { name = \"a\"; } );\n",
	     ":4:", "seed: unknown field"},
	    {"seeds = [ 1, -2 ];\npolicies = ( { name = \"a\"; } );\n", ":3:", "seeds[1]"},
	    {"policies = ( { name = \"a\"; sched = \"nosuch\"; } );\n", ":3:", "nosuch"},
	    {"policies = ( { name = \"a\";\n sched = \"fifo\"; shed = \"x\"; } );\n",
	     ":4:", "policies[0].shed"},
	    {"policies = ( { name = \"a b\"; } );\n", ":3:", "name"},
	    {"policies = ( { name = \"a\"; }, { name = \"a\"; } );\n", ":3:", "twice"},
	    {"seeds = [ 1 ];\n", "", "policies: missing"},
	};
	const char *dir = xt_tmpdir();
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char cfg[256], out[256], buf[4096];
		snprintf(cfg, sizeof(cfg), "%s/bad%zu.cfg", dir, i);
		snprintf(out, sizeof(out), "%s/out%zu", dir, i);
		write_cfg(cfg, bad[i].body);
		struct xpu_study st;
		struct xpu_err err = {{0}};
		cr_assert_eq(xpu_study_load(cfg, NULL, 0, &st, &err), -EINVAL, "case %zu", i);
		cr_assert_not_null(strstr(err.msg, cfg), "case %zu: %s", i, err.msg);
		cr_assert_not_null(strstr(err.msg, bad[i].line), "case %zu: %s", i, err.msg);
		cr_assert_not_null(strstr(err.msg, bad[i].want), "case %zu: %s", i, err.msg);
		/* The program: exit 2, nothing written. */
		int rc = xt_cmd(buf, sizeof(buf), "study -o %s %s 2>&1", out, cfg);
		cr_assert_eq(rc, 2, "case %zu: %d %s", i, rc, buf);
		cr_assert_neq(access(out, F_OK), 0, "case %zu left %s", i, out);
	}
	/* A platform that does not exist. */
	char cfg[256];
	snprintf(cfg, sizeof(cfg), "%s/nofile.cfg", dir);
	write_file(cfg, "platforms = [ \"nosuch.xml\" ];\ntraces = [ \"t.csv\" ];\n"
	                "policies = ( { name = \"a\"; } );\n");
	struct xpu_study st;
	struct xpu_err err = {{0}};
	cr_assert_eq(xpu_study_load(cfg, NULL, 0, &st, &err), -EINVAL);
	cr_assert_not_null(strstr(err.msg, ":1: platforms[0]: cannot read"), "%s", err.msg);
}

/* ------------------------------------------------------------------ running */

static int count_files(const char *dir, const char *suffix)
{
	DIR *d = opendir(dir);
	int n = 0;
	if (!d)
		return 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		size_t l = strlen(e->d_name), s = strlen(suffix);
		if (e->d_name[0] != '.' && l >= s && !strcmp(e->d_name + l - s, suffix))
			n++;
	}
	closedir(d);
	return n;
}

/* Every case done exactly once: index rows = cases, all "done", ids unique, each
 * file readable, and no stray files in cases/. */
static void check_complete(const char *cfg, const char *out)
{
	struct xpu_study st;
	struct xpu_err err = {{0}};
	cr_assert_eq(xpu_study_load(cfg, out, 0, &st, &err), 0, "%s", err.msg);
	char p[512], cases[512];
	snprintf(cases, sizeof(cases), "%s/cases", out);
	cr_assert_eq(count_files(cases, ""), st.ncases, "files in cases/");
	for (int i = 0; i < st.ncases; i++)
		cr_assert(xpu_study_case_done(&st.cases[i]), "%s", st.cases[i].id);
	snprintf(p, sizeof(p), "%s/index.csv", out);
	FILE *f = fopen(p, "r");
	cr_assert_not_null(f);
	char line[4096];
	int rows = 0;
	while (fgets(line, sizeof(line), f)) {
		if (rows++ == 0)
			continue;
		char *fl[16];
		cr_assert_eq(xpu_csv_split(line, fl, 16), 12);
		cr_assert_str_eq(fl[10], "done");
		cr_assert_str_eq(fl[0], st.cases[rows - 2].id);
	}
	fclose(f);
	cr_assert_eq(rows - 1, st.ncases);
	xpu_study_free(&st);
}

static void write_study(const char *cfg, int nseeds)
{
	char body[512];
	snprintf(body, sizeof(body),
	         "seeds = { first = 1; count = %d; };\n"
	         "policies = ( { name = \"fifo\"; sched = \"fifo\"; },\n"
	         "             { name = \"rr\"; sched = \"round-robin\"; } );\n",
	         nseeds);
	write_cfg(cfg, body);
}

Test(study, runs_resumes_and_does_nothing_when_done)
{
	const char *dir = xt_tmpdir();
	char cfg[256], out[256], buf[8192], p[512];
	snprintf(cfg, sizeof(cfg), "%s/s.cfg", dir);
	snprintf(out, sizeof(out), "%s/out", dir);
	write_study(cfg, 2);
	int rc = xt_cmd(buf, sizeof(buf), "study -j 2 -o %s %s 2>&1", out, cfg);
	cr_assert_eq(rc, 0, "%s", buf);
	cr_assert_not_null(strstr(buf, "4 to run"), "%s", buf);
	check_complete(cfg, out);

	/* Done: nothing runs, no file changes. */
	snprintf(p, sizeof(p), "%s/cases/default.default.fifo.s1.h5", out);
	struct stat before, after;
	cr_assert_eq(stat(p, &before), 0);
	rc = xt_cmd(buf, sizeof(buf), "study -o %s %s 2>&1", out, cfg);
	cr_assert_eq(rc, 0, "%s", buf);
	cr_assert_not_null(strstr(buf, "0 to run"), "%s", buf);
	cr_assert_eq(stat(p, &after), 0);
	cr_assert_eq(before.st_ino, after.st_ino);

	/* One result lost, one truncated, one stale temporary: two cases rerun. */
	unlink(p);
	snprintf(p, sizeof(p), "%s/cases/default.default.rr.s2.h5", out);
	cr_assert_eq(truncate(p, 100), 0);
	snprintf(p, sizeof(p), "%s/cases/default.default.rr.s1.h5.tmp-Ab12Cd", out);
	write_file(p, "partial");
	rc = xt_cmd(buf, sizeof(buf), "study -o %s %s 2>&1", out, cfg);
	cr_assert_eq(rc, 0, "%s", buf);
	cr_assert_not_null(strstr(buf, "2 to run"), "%s", buf);
	check_complete(cfg, out);

	/* --dry-run lists, --case runs one. */
	rc = xt_cmd(buf, sizeof(buf), "study --dry-run -o %s %s", out, cfg);
	cr_assert_eq(rc, 0);
	cr_assert_not_null(strstr(buf, "3 default.default.rr.s2 done\n"), "%s", buf);
}

/* Killed with kill -9 at random moments, then resumed: no case lost or run twice, no
 * unreadable file, no temporary left behind. */
Test(study, resumes_after_kill_9_at_random_moments, .timeout = 120)
{
	const char *dir = xt_tmpdir();
	char cfg[256], out[256], buf[8192];
	snprintf(cfg, sizeof(cfg), "%s/k.cfg", dir);
	snprintf(out, sizeof(out), "%s/out", dir);
	write_study(cfg, 6);
	struct xpu_rng r;
	xpu_rng_seed(&r, (uint64_t)time(NULL));
	for (int round = 0; round < 6; round++) {
		pid_t pid = fork();
		cr_assert_geq(pid, 0);
		if (pid == 0) {
			int nul = open("/dev/null", O_WRONLY);
			dup2(nul, 1);
			dup2(nul, 2);
			execl(xt_xpuopt(), xt_xpuopt(), "study", "-j", "2", "-o", out, cfg,
			      (char *)NULL);
			_exit(127);
		}
		/* 0 to 400 ms: before, during and after cases. */
		usleep((useconds_t)xpu_rng_below(&r, 400000));
		kill(pid, SIGKILL);
		int st;
		waitpid(pid, &st, 0);
		/* Whatever is at a case's final name must be whole. */
		struct xpu_study s;
		struct xpu_err err = {{0}};
		cr_assert_eq(xpu_study_load(cfg, out, 0, &s, &err), 0);
		for (int i = 0; i < s.ncases; i++)
			if (access(s.cases[i].result, F_OK) == 0)
				cr_assert(xpu_study_case_done(&s.cases[i]),
				          "round %d: %s unreadable", round, s.cases[i].id);
		xpu_study_free(&s);
	}
	/* The children die with the study (PR_SET_PDEATHSIG); give them a moment. */
	usleep(200000);
	int rc = xt_cmd(buf, sizeof(buf), "study -j 2 -o %s %s 2>&1", out, cfg);
	cr_assert_eq(rc, 0, "%s", buf);
	check_complete(cfg, out);
	char cases[512];
	snprintf(cases, sizeof(cases), "%s/cases", out);
	cr_assert_eq(count_files(cases, ".h5"), 12);
}

/* SIGTERM and SIGHUP (and SIGINT, the same path) while cases run: the study stops its
 * running cases, leaves no temporary file and no unreadable result, writes the index of
 * what is done, exits 128 + the signal with a message, and a rerun runs only the rest
 * (the results already done are not rewritten). */
Test(study, interrupted_stops_cleanly_and_resumes, .timeout = 180)
{
	const char *dir = xt_tmpdir();
	char trace[256], cfg[256], out[256], buf[8192], text[1024];
	snprintf(trace, sizeof(trace), "%s/t.csv", dir);
	snprintf(cfg, sizeof(cfg), "%s/i.cfg", dir);
	snprintf(out, sizeof(out), "%s/out", dir);
	/* cases of a few tenths of a second each: 30,000 tasks */
	cr_assert_eq(xt_cmd(NULL, 0, "gen poisson --count 30000 -o %s", trace), 0);
	snprintf(text, sizeof(text),
	         "platforms = [ \"%s\" ];\ntraces = [ \"%s\" ];\n"
	         "seeds = { first = 1; count = 4; };\n"
	         "policies = ( { name = \"fifo\"; sched = \"fifo\"; },\n"
	         "             { name = \"rr\"; sched = \"round-robin\"; } );\n",
	         xt_src("platforms/default.xml"), trace);
	write_file(cfg, text);
	char cases[512], logp[512];
	snprintf(cases, sizeof(cases), "%s/cases", out);
	snprintf(logp, sizeof(logp), "%s/study.err", dir);
	int sigs[] = {SIGTERM, SIGHUP};
	for (int round = 0; round < 2; round++) {
		int before = count_files(cases, ".h5");
		pid_t pid = fork();
		cr_assert_geq(pid, 0);
		if (pid == 0) {
			/* a signal ignored here (the suite run under nohup) would stay ignored
			 * by the study, by design: give it the default disposition */
			signal(SIGHUP, SIG_DFL);
			signal(SIGTERM, SIG_DFL);
			signal(SIGINT, SIG_DFL);
			int fd = open(logp, O_WRONLY | O_CREAT | O_TRUNC, 0644);
			dup2(fd, 1);
			dup2(fd, 2);
			execl(xt_xpuopt(), xt_xpuopt(), "study", "-j", "2", "-o", out, cfg,
			      (char *)NULL);
			_exit(127);
		}
		/* wait for one more case to finish, so that some are done and some run */
		for (int i = 0; i < 3000 && count_files(cases, ".h5") <= before; i++)
			usleep(10000);
		kill(pid, sigs[round]);
		int st;
		cr_assert_eq(waitpid(pid, &st, 0), pid);
		FILE *f = fopen(logp, "r");
		size_t n = f ? fread(buf, 1, sizeof(buf) - 1, f) : 0;
		buf[n] = 0;
		if (f)
			fclose(f);
		cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 128 + sigs[round],
		          "round %d: status %d\n%s", round, st, buf);
		cr_assert_not_null(strstr(buf, "interrupted"), "%s", buf);
		cr_assert_not_null(strstr(buf, "rerun to resume"), "%s", buf);
		/* the cases stopped with it: none left behind to write into the directory */
		usleep(100000);
		cr_assert_eq(count_files(cases, ""), count_files(cases, ".h5"),
		             "round %d: a temporary file is left in cases/", round);
		struct xpu_study s;
		struct xpu_err err = {{0}};
		cr_assert_eq(xpu_study_load(cfg, out, 0, &s, &err), 0);
		int ndone = 0;
		for (int i = 0; i < s.ncases; i++)
			if (access(s.cases[i].result, F_OK) == 0) {
				cr_assert(xpu_study_case_done(&s.cases[i]), "%s unreadable",
				          s.cases[i].id);
				ndone++;
			}
		xpu_study_free(&s);
		cr_assert_gt(ndone, before, "round %d", round);
		/* the index lists what is done */
		char idx[512];
		snprintf(idx, sizeof(idx), "%s/index.csv", out);
		cr_assert_eq(access(idx, R_OK), 0);
	}
	/* Resume: only the missing cases run; a result already done keeps its inode. */
	char first[512];
	snprintf(first, sizeof(first), "%s/cases/default.t.fifo.s1.h5", out);
	struct stat a, b;
	int had = stat(first, &a) == 0;
	int left = 8 - count_files(cases, ".h5");
	int rc = xt_cmd(buf, sizeof(buf), "study -j 2 -o %s %s 2>&1", out, cfg);
	cr_assert_eq(rc, 0, "%s", buf);
	char want[64];
	snprintf(want, sizeof(want), "%d to run", left);
	cr_assert_not_null(strstr(buf, want), "want '%s':\n%s", want, buf);
	check_complete(cfg, out);
	if (had) {
		cr_assert_eq(stat(first, &b), 0);
		cr_assert_eq(a.st_ino, b.st_ino, "a done case ran again");
	}
}

/* ------------------------------------------------------------------ compare */

static void attr_str(hid_t g, const char *name, const char *v)
{
	hid_t t = H5Tcopy(H5T_C_S1);
	H5Tset_size(t, H5T_VARIABLE);
	H5Tset_cset(t, H5T_CSET_UTF8);
	hid_t sp = H5Screate(H5S_SCALAR);
	hid_t a = H5Acreate2(g, name, t, sp, H5P_DEFAULT, H5P_DEFAULT);
	H5Awrite(a, t, &v);
	H5Aclose(a);
	H5Sclose(sp);
	H5Tclose(t);
}

/* A synthetic result: /run attributes and two summary metrics. */
static void fake_result(const char *path, const char *sched, uint64_t seed, double makespan,
                        double energy)
{
	hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
	cr_assert_geq(f, 0);
	hid_t g = H5Gcreate2(f, "run", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
	attr_str(g, "sched", sched);
	attr_str(g, "mem", "first-fit");
	attr_str(g, "power", "performance");
	attr_str(g, "offload", "local");
	attr_str(g, "platform", "p.xml");
	attr_str(g, "trace", "t.csv");
	hid_t sp = H5Screate(H5S_SCALAR);
	hid_t a = H5Acreate2(g, "seed", H5T_STD_U64LE, sp, H5P_DEFAULT, H5P_DEFAULT);
	H5Awrite(a, H5T_NATIVE_UINT64, &seed);
	H5Aclose(a);
	H5Gclose(g);
	g = H5Gcreate2(f, "summary", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
	const char *keys[] = {"makespan_s", "energy_j"};
	double v[] = {makespan, energy};
	for (int i = 0; i < 2; i++) {
		hid_t d = H5Dcreate2(g, keys[i], H5T_IEEE_F64LE, sp, H5P_DEFAULT, H5P_DEFAULT,
		                     H5P_DEFAULT);
		H5Dwrite(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, &v[i]);
		H5Dclose(d);
	}
	H5Sclose(sp);
	H5Gclose(g);
	H5Fclose(f);
}

/* Set B takes 1 s longer on every seed (planted), and the same energy up to noise
 * that is symmetric around zero: compare must find the first and not the second. */
Test(compare, finds_a_planted_difference_and_none_where_there_is_none)
{
	const char *dir = xt_tmpdir();
	char files[4096] = "", p[512], buf[16384];
	struct xpu_rng r;
	xpu_rng_seed(&r, 11);
	for (int s = 0; s < 16; s++) {
		double base = 10 + (double)xpu_rng_below(&r, 1000) / 100;
		double noise = (s % 2 ? 1 : -1) * (0.05 + 0.01 * (s / 2));
		snprintf(p, sizeof(p), "%s/a%d.h5", dir, s);
		fake_result(p, "fifo", (uint64_t)s, base, 100 + base);
		snprintf(files + strlen(files), sizeof(files) - strlen(files), " %s", p);
		snprintf(p, sizeof(p), "%s/b%d.h5", dir, s);
		fake_result(p, "heft", (uint64_t)s, base + 1 + noise / 10, 100 + base + noise);
		snprintf(files + strlen(files), sizeof(files) - strlen(files), " %s", p);
	}
	int rc = xt_cmd(buf, sizeof(buf), "compare -m makespan_s,energy_j --csv - %s", files);
	cr_assert_eq(rc, 0, "%s", buf);
	char *line = strstr(buf, "\nfifo/first-fit/performance/local,heft/first-fit/"
	                         "performance/local,makespan_s,16,");
	cr_assert_not_null(line, "%s", buf);
	double ma, mb, d, lo, hi, pv;
	int w, l, t;
	cr_assert_eq(sscanf(strchr(strstr(line, ",16,") + 1, ',') + 1,
	                    "%lf,%lf,%lf,%lf,%lf,%lf,%d,%d,%d", &ma, &mb, &d, &lo, &hi, &pv, &w, &l,
	                    &t),
	             9, "%s", line);
	cr_assert(d > 0.9 && d < 1.1 && lo > 0.5 && hi < 1.5, "%s", line);
	cr_assert(pv < 0.001, "%s", line);
	cr_assert_eq(l, 16, "makespan grew on every seed: 16 losses");
	line = strstr(buf, ",energy_j,16,");
	cr_assert_not_null(line, "%s", buf);
	cr_assert_eq(sscanf(line + strlen(",energy_j,16,"), "%lf,%lf,%lf,%lf,%lf,%lf,%d,%d,%d", &ma,
	                    &mb, &d, &lo, &hi, &pv, &w, &l, &t),
	             9);
	cr_assert(lo < 0 && hi > 0, "%s", line);
	cr_assert(pv > 0.5, "%s", line);
	cr_assert_eq(w, 8);
	cr_assert_eq(l, 8);

	/* The terminal table and Markdown; a single set is an error. */
	rc = xt_cmd(buf, sizeof(buf), "compare -m makespan_s %s", files);
	cr_assert_eq(rc, 0);
	cr_assert_not_null(strstr(buf, "baseline: fifo/"), "%s", buf);
	rc = xt_cmd(buf, sizeof(buf), "compare -m makespan_s --markdown - %s", files);
	cr_assert_not_null(strstr(buf, "| --- |"), "%s", buf);
	snprintf(p, sizeof(p), "%s/a0.h5", dir);
	rc = xt_cmd(buf, sizeof(buf), "compare %s 2>&1", p);
	cr_assert_eq(rc, 2, "%s", buf);
	rc = xt_cmd(buf, sizeof(buf), "compare -m nosuch %s 2>&1", files);
	cr_assert_eq(rc, 2, "%s", buf);
}

/* ------------------------------------------------------------------ plots */

static int have_gnuplot(void)
{
	return system("gnuplot --version >/dev/null 2>&1") == 0;
}

static void check_image(const char *path)
{
	FILE *f = fopen(path, "rb");
	cr_assert_not_null(f, "%s missing", path);
	static char b[1 << 20];
	size_t n = fread(b, 1, sizeof(b) - 1, f);
	fclose(f);
	b[n] = 0;
	cr_assert_gt(n, 1000, "%s: %zu bytes", path, n);
	if (strstr(path, ".png"))
		cr_assert_eq(memcmp(b, "\x89PNG\r\n\x1a\n", 8), 0, "%s: not a PNG", path);
	else
		cr_assert_not_null(strstr(b, "<svg"), "%s: not an SVG", path);
}

Test(plot, draws_every_kind_as_png_and_svg_and_a_report, .timeout = 120)
{
	if (!have_gnuplot())
		cr_skip_test("gnuplot is not installed (Debian: gnuplot-nox)");
	const char *dir = xt_tmpdir();
	char cfg[256], out[256], buf[8192], h5[512], img[512];
	snprintf(cfg, sizeof(cfg), "%s/p.cfg", dir);
	snprintf(out, sizeof(out), "%s/out", dir);
	write_study(cfg, 2);
	cr_assert_eq(xt_cmd(buf, sizeof(buf), "study -q -j 2 -o %s %s 2>&1", out, cfg), 0, "%s",
	             buf);
	snprintf(h5, sizeof(h5), "%s/cases/default.default.fifo.s1.h5", out);
	static const char *const kinds[] = {"gantt", "util", "power", "memory", "thermal", "cdf"};
	static const char *const exts[] = {"png", "svg"};
	for (int k = 0; k < 6; k++)
		for (int e = 0; e < 2; e++) {
			snprintf(img, sizeof(img), "%s/%s.%s", dir, kinds[k], exts[e]);
			int rc =
			    xt_cmd(buf, sizeof(buf), "plot %s %s -o %s 2>&1", kinds[k], h5, img);
			cr_assert_eq(rc, 0, "%s", buf);
			check_image(img);
		}
	snprintf(img, sizeof(img), "%s/bars.svg", dir);
	cr_assert_eq(xt_cmd(buf, sizeof(buf), "plot bars %s -m energy_j -o %s 2>&1", out, img), 0,
	             "%s", buf);
	check_image(img);
	/* Bad input: exit 2, no image. */
	snprintf(img, sizeof(img), "%s/bad.png", dir);
	cr_assert_eq(xt_cmd(buf, sizeof(buf), "plot gantt %s -o %s 2>&1", cfg, img), 2, "%s", buf);
	cr_assert_neq(access(img, F_OK), 0);
	cr_assert_eq(xt_cmd(buf, sizeof(buf), "plot gantt %s -o x.jpg 2>&1", h5), 2, "%s", buf);

	/* The report: a page naming its images, each of them present. */
	cr_assert_eq(xt_cmd(buf, sizeof(buf), "report %s 2>&1", out), 0, "%s", buf);
	snprintf(img, sizeof(img), "%s/report.md", out);
	FILE *f = fopen(img, "r");
	cr_assert_not_null(f);
	static char page[1 << 16];
	page[fread(page, 1, sizeof(page) - 1, f)] = 0;
	fclose(f);
	cr_assert_not_null(strstr(page, "| rr | makespan_s |"), "%s", page);
	int nimg = 0;
	for (char *s = page; (s = strstr(s, "](report-figures/")); s++, nimg++) {
		char name[256];
		cr_assert_eq(sscanf(s + 2, "%255[^)]", name), 1);
		snprintf(img, sizeof(img), "%s/%s", out, name);
		check_image(img);
	}
	cr_assert_geq(nimg, 10, "%s", page);
	cr_assert_eq(xt_cmd(buf, sizeof(buf), "report --html %s 2>&1", out), 0, "%s", buf);
	snprintf(img, sizeof(img), "%s/report-figures/gantt-rr.svg", out);
	check_image(img);
}

/* ------------------------------------------------------------------ Slurm */

/* A real single-node Slurm on localhost (tests/slurm_study.sh); skipped with the
 * script's reason where slurmctld, slurmd or munged cannot start. */
Test(slurm, job_array_results_equal_a_local_run, .timeout = 180)
{
	char cmd[1024], reason[1024] = "";
	const char *dir = xt_tmpdir();
	snprintf(cmd, sizeof(cmd), "XPUOPT=%s sh %s %s 2>&1", xt_xpuopt(),
	         xt_src("tests/slurm_study.sh"), dir);
	FILE *p = popen(cmd, "r");
	cr_assert_not_null(p);
	char line[512];
	while (fgets(line, sizeof(line), p))
		if (strlen(reason) + strlen(line) < sizeof(reason))
			strcat(reason, line);
	int st = pclose(p);
	int rc = WIFEXITED(st) ? WEXITSTATUS(st) : 1;
	if (rc == 77)
		cr_skip_test("%s", reason);
	cr_assert_eq(rc, 0, "%s", reason);
}
