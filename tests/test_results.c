/* test_results.c — summary metrics, the HDF5 result schema and its atomic write. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <hdf5.h>

#include "helpers.h"
#include "results.h"

/* ------------------------------------------------------------------ a hand-built run */

/* Two units (a 4-core CPU with two P-states, a 1-core GPU with one) and five tasks
 * whose times are chosen so that every metric is easy to work out by hand:
 *
 *   task  submit ready start end  unit state   deadline  bytes_in
 *   a     0      0     1     3    0    done    5         100
 *   b     0      1     2     6    1    done    4 (miss)  200
 *   c     1      2     2     3    0    done    inf       0
 *   d     2      3     7     8    1    done    inf       0
 *   e     3      -     -     -    -1   failed  10 (miss) 0
 */
struct res_run {
	struct xpu_pstate ps[2];
	struct xpu_unit units[2];
	struct xpu_platform pf;
	struct xpu_task tasks[5];
	struct xpu_workload w;
	double residency[2][2];
	struct xpu_unit_stats us[2];
	struct xpu_timeline tl;
	struct xpu_run_info ri;
	struct xpu_summary s;
};

static void res_task(struct xpu_task *t, const char *id, double submit, double ready, double start,
                     double end, int unit, int state, double deadline, double bytes_in)
{
	t->id = id;
	t->submit = submit;
	t->ready_t = ready;
	t->start_t = start;
	t->end_t = end;
	t->unit = unit;
	t->state = state;
	t->deadline = deadline;
	t->bytes_in = bytes_in;
	t->predicted = end - start;
	t->energy = state == XPU_TASK_DONE ? 10 : 0;
	t->cls = XPU_CLASS_GEMM;
}

static void res_build(struct res_run *r)
{
	memset(r, 0, sizeof(*r));
	r->ps[0] = (struct xpu_pstate){2e9, 10, 10, 40};
	r->ps[1] = (struct xpu_pstate){1e9, 5, 5, 20};
	r->units[0] = (struct xpu_unit){.index = 0,
	                                .name = "cpu0",
	                                .kind = XPU_KIND_CPU,
	                                .cores = 4,
	                                .npstates = 2,
	                                .pstates = r->ps};
	r->units[1] = (struct xpu_unit){.index = 1,
	                                .name = "gpu0",
	                                .kind = XPU_KIND_GPU,
	                                .cores = 1,
	                                .npstates = 1,
	                                .pstates = r->ps};
	r->pf = (struct xpu_platform){.path = "two.xml", .nunits = 2, .units = r->units};

	struct xpu_task *t = r->tasks;
	res_task(&t[0], "a", 0, 0, 1, 3, 0, XPU_TASK_DONE, 5, 100);
	res_task(&t[1], "b", 0, 1, 2, 6, 1, XPU_TASK_DONE, 4, 200);
	res_task(&t[2], "c", 1, 2, 2, 3, 0, XPU_TASK_DONE, INFINITY, 0);
	res_task(&t[3], "d", 2, 3, 7, 8, 1, XPU_TASK_DONE, INFINITY, 0);
	res_task(&t[4], "e", 3, 3, NAN, NAN, -1, XPU_TASK_FAILED, 10, 0);
	t[4].priority = 7;
	for (uint32_t i = 0; i < 5; i++)
		t[i].index = i;
	r->w = (struct xpu_workload){.path = "five.csv", .ntasks = 5, .tasks = t};

	r->residency[0][0] = 6;
	r->residency[0][1] = 2;
	r->residency[1][0] = 8;
	r->us[0] = (struct xpu_unit_stats){.busy_s = 3,
	                                   .energy_j = 100,
	                                   .residency_s = r->residency[0],
	                                   .bytes_in = 100,
	                                   .bytes_out = 1,
	                                   .peak_mem = 1e6,
	                                   .tasks = 2};
	r->us[1] = (struct xpu_unit_stats){.busy_s = 5,
	                                   .energy_j = 50,
	                                   .residency_s = r->residency[1],
	                                   .bytes_in = 200,
	                                   .bytes_out = 2,
	                                   .peak_mem = 2e6,
	                                   .tasks = 2};

	r->tl.nunits = 2;
	for (int i = 0; i < 3; i++) { /* a row for each unit at t = 0, 1, 2 */
		cr_assert_eq(xpu_timeline_add(&r->tl, i, 0, 10 + i, 0, 0.25 * i, 1e6, 0), 0);
		cr_assert_eq(xpu_timeline_add(&r->tl, i, 1, 20 + i, 1, 0.5, 2e6, 0.1), 0);
	}
	r->ri = (struct xpu_run_info){.version = "0.1.0",
	                              .platform = "two.xml",
	                              .trace = "five.csv",
	                              .sched = "fifo",
	                              .mem = "first-fit",
	                              .power = "performance",
	                              .offload = "local",
	                              .seed = 12345678901234ULL,
	                              .mode = "sim",
	                              .host = "testhost",
	                              .energy_source = "simgrid"};
	xpu_summary_compute(&r->w, &r->pf, r->us, 5, 0, &r->s);
}

/* ------------------------------------------------------------------ temp directories */

static char res_dir[64];

static void res_mkdtemp(void)
{
	snprintf(res_dir, sizeof(res_dir), "/tmp/xpuopt-results-XXXXXX");
	cr_assert_not_null(mkdtemp(res_dir));
}

static void res_rmtree(void)
{
	DIR *d = opendir(res_dir);
	if (!d)
		return;
	struct dirent *e;
	char p[512];
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
			snprintf(p, sizeof(p), "%s/%s", res_dir, e->d_name);
			if (unlink(p) < 0)
				rmdir(p);
		}
	closedir(d);
	rmdir(res_dir);
}

/* Entries in the directory, and whether any looks like a leftover temporary. */
static int res_entries(const char *dir, int *temps)
{
	DIR *d = opendir(dir);
	int n = 0;
	*temps = 0;
	cr_assert_not_null(d);
	struct dirent *e;
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
			n++;
			if (strstr(e->d_name, ".tmp-"))
				(*temps)++;
		}
	closedir(d);
	return n;
}

static char *res_path(const char *name)
{
	static char p[256];
	snprintf(p, sizeof(p), "%s/%s", res_dir, name);
	return p;
}

/* ------------------------------------------------------------------ summary */

#define RES_EQ(s, key, want)                                                                       \
	cr_expect(fabs(xpu_summary_get(s, key) - (want)) < 1e-12, "%s = %.17g, want %.17g", key,   \
	          xpu_summary_get(s, key), (double)(want))

Test(results, summary_matches_hand_computation)
{
	struct res_run r;
	res_build(&r);
	RES_EQ(&r.s, "makespan_s", 8); /* last end 8 - first submit 0 */
	RES_EQ(&r.s, "energy_j", 155); /* 100 + 50 + 5 of links */
	RES_EQ(&r.s, "edp_js", 155 * 8);
	RES_EQ(&r.s, "tasks_total", 5);
	RES_EQ(&r.s, "tasks_done", 4);
	RES_EQ(&r.s, "tasks_failed", 1);
	RES_EQ(&r.s, "mean_wait_s", 1.5);    /* (1 + 1 + 0 + 4) / 4 */
	RES_EQ(&r.s, "p99_wait_s", 4);       /* rank ceil(3.96) = 4 of 4 */
	RES_EQ(&r.s, "mean_flow_s", 4.25);   /* (3 + 6 + 2 + 6) / 4 */
	RES_EQ(&r.s, "mean_slowdown", 2.75); /* (3/2 + 6/4 + 2/1 + 6/1) / 4 */
	RES_EQ(&r.s, "deadline_misses", 2);  /* b late, e failed with a deadline */
	RES_EQ(&r.s, "bytes_transferred", 300);
	RES_EQ(&r.s, "offloaded", 0);
	RES_EQ(&r.s, "link_energy_j", 5);
	RES_EQ(&r.s, "mean_utilisation", 0.2); /* (3 + 5) / (8 s * 5 cores) */
	cr_expect(isnan(xpu_summary_get(&r.s, "no_such_metric")));
	xpu_timeline_free(&r.tl);
}

Test(results, p99_is_nearest_rank)
{
	enum { N = 200 };
	struct xpu_task *t = calloc(N, sizeof(*t));
	cr_assert_not_null(t);
	/* Waits 1..200 in reverse order: nearest rank ceil(0.99 * 200) = 198 is the
	 * 198th smallest, where interpolation would give 198.01. */
	for (int i = 0; i < N; i++)
		res_task(&t[i], "x", 0, 0, N - i, N - i + 1, 0, XPU_TASK_DONE, INFINITY, 0);
	struct xpu_workload w = {.ntasks = N, .tasks = t};
	struct xpu_summary s;
	xpu_summary_compute(&w, NULL, NULL, 0, 0, &s);
	RES_EQ(&s, "p99_wait_s", 198);
	RES_EQ(&s, "mean_wait_s", 100.5);
	RES_EQ(&s, "mean_utilisation", 0); /* no units */
	free(t);
}

Test(results, summary_of_nothing_is_zeros)
{
	struct xpu_workload w = {0};
	struct xpu_summary s;
	xpu_summary_compute(&w, NULL, NULL, 0, 0, &s);
	cr_assert_eq(s.n, 30);
	for (int i = 0; i < s.n; i++)
		if (!strcmp(s.m[i].key, "max_temp_c")) /* no thermal node: no temperature */
			cr_expect(isnan(s.m[i].value), "max_temp_c = %g", s.m[i].value);
		else
			cr_expect_eq(s.m[i].value, 0, "%s = %g", s.m[i].key, s.m[i].value);
}

Test(results, timeline_grows_and_keeps_change_points)
{
	struct xpu_timeline tl = {.nunits = 3};
	for (int i = 0; i < 1000; i++)
		cr_assert_eq(
		    xpu_timeline_add(&tl, i * 0.5, i % 3, i, i % 2, 0.1 * (i % 3), i * 1e3, 0), 0);
	cr_assert_eq(tl.n, 1000);
	cr_expect_eq(tl.t[999], 499.5);
	cr_expect_eq(tl.unit[999], 0);
	cr_expect_eq(tl.power[999], 999);
	cr_expect_eq(tl.pstate[998], 0);
	cr_expect_eq(tl.util[500], 0.1 * 2);
	cr_expect_eq(tl.mem[10], 1e4);
	xpu_timeline_free(&tl);
	cr_expect_eq(tl.n, 0);
	cr_expect_null(tl.t);
}

/* ------------------------------------------------------------------ HDF5 readers */

static char *res_attr_str(hid_t loc, const char *name)
{
	hid_t a = H5Aopen(loc, name, H5P_DEFAULT);
	cr_assert_geq(a, 0, "attribute %s", name);
	hid_t t = H5Tcopy(H5T_C_S1);
	H5Tset_size(t, H5T_VARIABLE);
	H5Tset_cset(t, H5T_CSET_UTF8);
	char *v = NULL;
	cr_assert_geq(H5Aread(a, t, &v), 0);
	char *copy = strdup(v);
	H5free_memory(v);
	H5Tclose(t);
	H5Aclose(a);
	return copy;
}

/* Length of a 1-D dataset (or first dimension), and its rank. */
static hsize_t res_dims(hid_t loc, const char *name, int *rank, hsize_t *second)
{
	hid_t d = H5Dopen2(loc, name, H5P_DEFAULT);
	cr_assert_geq(d, 0, "dataset %s", name);
	hid_t sp = H5Dget_space(d);
	hsize_t dims[2] = {0, 0};
	*rank = H5Sget_simple_extent_dims(sp, dims, NULL);
	if (second)
		*second = dims[1];
	H5Sclose(sp);
	H5Dclose(d);
	return dims[0];
}

static void res_read(hid_t loc, const char *name, hid_t mtype, void *buf)
{
	hid_t d = H5Dopen2(loc, name, H5P_DEFAULT);
	cr_assert_geq(d, 0, "dataset %s", name);
	cr_assert_geq(H5Dread(d, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf), 0, "%s", name);
	H5Dclose(d);
}

/* Read a dataset of n variable-length strings and compare them with want. */
static void res_expect_strs(hid_t loc, const char *name, int n, const char *const *want)
{
	char *v[16] = {0};
	hid_t t = H5Tcopy(H5T_C_S1);
	H5Tset_size(t, H5T_VARIABLE);
	H5Tset_cset(t, H5T_CSET_UTF8);
	cr_assert_leq(n, 16);
	res_read(loc, name, t, v);
	for (int i = 0; i < n; i++)
		cr_expect_str_eq(v[i], want[i], "%s[%d]", name, i);
	for (int i = 0; i < n; i++)
		H5free_memory(v[i]);
	H5Tclose(t);
}

/* ------------------------------------------------------------------ write, read back */

Test(results, writes_whole_schema, .init = res_mkdtemp, .fini = res_rmtree)
{
	struct res_run r;
	struct xpu_err err = {{0}};
	res_build(&r);
	char *path = res_path("run.h5");
	cr_assert_eq(xpu_results_write(path, &r.ri, &r.pf, &r.w, r.us, &r.tl, &r.s, &err), 0, "%s",
	             err.msg);

	hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
	cr_assert_geq(f, 0);

	/* /run */
	hid_t g = H5Gopen2(f, "run", H5P_DEFAULT);
	cr_assert_geq(g, 0);
	static const char *const keys[][2] = {
	    {"version", "0.1.0"},  {"platform", "two.xml"},
	    {"trace", "five.csv"}, {"sched", "fifo"},
	    {"mem", "first-fit"},  {"power", "performance"},
	    {"offload", "local"},  {"mode", "sim"},
	    {"host", "testhost"},  {"energy_source", "simgrid"},
	};
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		char *v = res_attr_str(g, keys[i][0]);
		cr_expect_str_eq(v, keys[i][1], "/run %s", keys[i][0]);
		free(v);
	}
	uint64_t seed = 0;
	int schema = 0;
	hid_t a = H5Aopen(g, "seed", H5P_DEFAULT);
	cr_assert_geq(H5Aread(a, H5T_NATIVE_UINT64, &seed), 0);
	H5Aclose(a);
	a = H5Aopen(g, "schema", H5P_DEFAULT);
	cr_assert_geq(H5Aread(a, H5T_NATIVE_INT, &schema), 0);
	H5Aclose(a);
	cr_expect_eq(seed, 12345678901234ULL);
	cr_expect_eq(schema, 5);
	H5Gclose(g);

	/* /tasks: every column present, five long. */
	g = H5Gopen2(f, "tasks", H5P_DEFAULT);
	cr_assert_geq(g, 0);
	static const char *const cols[] = {
	    "id",       "unit",   "class",    "submit",    "ready",      "start",
	    "end",      "energy", "bytes_in", "predicted", "status",     "deadline",
	    "priority", "width",  "attempts", "lost_s",    "mem_wait_s", "input_wait_s"};
	int rank;
	for (size_t i = 0; i < sizeof(cols) / sizeof(cols[0]); i++) {
		cr_expect_eq(res_dims(g, cols[i], &rank, NULL), 5, "/tasks/%s", cols[i]);
		cr_expect_eq(rank, 1);
	}
	{
		enum { NCOLS = sizeof(cols) / sizeof(cols[0]) };
		char *v[NCOLS] = {0};
		hid_t t = H5Tcopy(H5T_C_S1);
		H5Tset_size(t, H5T_VARIABLE);
		a = H5Aopen(g, "columns", H5P_DEFAULT);
		hid_t sp = H5Aget_space(a);
		cr_assert_eq(H5Sget_simple_extent_npoints(sp), NCOLS, "columns attribute length");
		H5Sclose(sp);
		cr_assert_geq(H5Aread(a, t, v), 0);
		for (int i = 0; i < NCOLS; i++) {
			cr_expect_str_eq(v[i], cols[i]);
			H5free_memory(v[i]);
		}
		H5Aclose(a);
		H5Tclose(t);
	}
	res_expect_strs(g, "id", 5, (const char *const[]){"a", "b", "c", "d", "e"});
	res_expect_strs(g, "status", 5,
	                (const char *const[]){"done", "done", "done", "done", "failed"});
	res_expect_strs(g, "class", 5,
	                (const char *const[]){"gemm", "gemm", "gemm", "gemm", "gemm"});
	int32_t unit[5], prio[5];
	res_read(g, "unit", H5T_NATIVE_INT32, unit);
	res_read(g, "priority", H5T_NATIVE_INT32, prio);
	cr_expect(unit[0] == 0 && unit[1] == 1 && unit[4] == -1);
	cr_expect_eq(prio[4], 7);
	double d[5];
	res_read(g, "end", H5T_NATIVE_DOUBLE, d);
	cr_expect(d[0] == 3 && d[3] == 8 && isnan(d[4]));
	res_read(g, "predicted", H5T_NATIVE_DOUBLE, d);
	cr_expect(d[1] == 4 && isnan(d[4]));
	res_read(g, "deadline", H5T_NATIVE_DOUBLE, d);
	cr_expect(d[0] == 5 && isinf(d[2]));
	res_read(g, "bytes_in", H5T_NATIVE_DOUBLE, d);
	cr_expect(d[1] == 200);
	H5Gclose(g);

	/* /units, with residency padded by NaN for the GPU's missing P-state. */
	g = H5Gopen2(f, "units", H5P_DEFAULT);
	cr_assert_geq(g, 0);
	res_expect_strs(g, "name", 2, (const char *const[]){"cpu0", "gpu0"});
	res_expect_strs(g, "kind", 2, (const char *const[]){"cpu", "gpu"});
	int32_t cores[2];
	uint64_t ntasks[2];
	double busy[2], res[2][2];
	res_read(g, "cores", H5T_NATIVE_INT32, cores);
	res_read(g, "tasks", H5T_NATIVE_UINT64, ntasks);
	res_read(g, "busy_s", H5T_NATIVE_DOUBLE, busy);
	cr_expect(cores[0] == 4 && cores[1] == 1);
	cr_expect(ntasks[0] == 2 && ntasks[1] == 2);
	cr_expect(busy[0] == 3 && busy[1] == 5);
	hsize_t second;
	cr_expect_eq(res_dims(g, "residency_s", &rank, &second), 2);
	cr_expect(rank == 2 && second == 2);
	res_read(g, "residency_s", H5T_NATIVE_DOUBLE, res);
	cr_expect(res[0][0] == 6 && res[0][1] == 2 && res[1][0] == 8 && isnan(res[1][1]));
	static const char *const ucols[] = {"energy_j", "bytes_in", "bytes_out", "peak_mem"};
	for (int i = 0; i < 4; i++)
		cr_expect_eq(res_dims(g, ucols[i], &rank, NULL), 2, "/units/%s", ucols[i]);
	H5Gclose(g);

	/* /timeline */
	g = H5Gopen2(f, "timeline", H5P_DEFAULT);
	cr_assert_geq(g, 0);
	static const char *const tcols[] = {"t", "unit", "power_w", "pstate", "util", "mem_bytes"};
	for (int i = 0; i < 6; i++) {
		cr_expect_eq(res_dims(g, tcols[i], &rank, NULL), 6, "/timeline/%s", tcols[i]);
		cr_expect_eq(rank, 1);
	}
	double pw[6];
	int32_t un[6];
	res_read(g, "power_w", H5T_NATIVE_DOUBLE, pw);
	cr_expect(pw[4] == 12 && pw[5] == 22);
	res_read(g, "util", H5T_NATIVE_DOUBLE, pw);
	cr_expect(pw[2] == 0.25 && pw[3] == 0.5);
	res_read(g, "unit", H5T_NATIVE_INT32, un);
	cr_expect(un[0] == 0 && un[1] == 1 && un[5] == 1);
	H5Gclose(g);

	/* /summary: one scalar per metric. */
	g = H5Gopen2(f, "summary", H5P_DEFAULT);
	cr_assert_geq(g, 0);
	double v = 0;
	res_read(g, "makespan_s", H5T_NATIVE_DOUBLE, &v);
	cr_expect_eq(v, 8);
	H5Gclose(g);
	H5Fclose(f);
	xpu_timeline_free(&r.tl);
}

Test(results, empty_timeline_and_no_tasks, .init = res_mkdtemp, .fini = res_rmtree)
{
	struct res_run r;
	struct xpu_err err = {{0}};
	struct xpu_workload none = {0};
	res_build(&r);
	char *path = res_path("empty.h5");
	cr_assert_eq(xpu_results_write(path, &r.ri, &r.pf, &none, r.us, NULL, &r.s, &err), 0, "%s",
	             err.msg);
	hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
	cr_assert_geq(f, 0);
	int rank;
	hsize_t second;
	cr_expect_eq(res_dims(f, "/timeline/t", &rank, NULL), 0);
	cr_expect_eq(res_dims(f, "/timeline/power_w", &rank, &second), 0);
	cr_expect_eq(rank, 1);
	cr_expect_eq(res_dims(f, "/tasks/id", &rank, NULL), 0);
	H5Fclose(f);
	xpu_timeline_free(&r.tl);
}

Test(results, summary_reads_back_in_order, .init = res_mkdtemp, .fini = res_rmtree)
{
	struct res_run r;
	struct xpu_err err = {{0}};
	res_build(&r);
	char *path = res_path("run.h5");
	cr_assert_eq(xpu_results_write(path, &r.ri, &r.pf, &r.w, r.us, &r.tl, &r.s, &err), 0);

	struct xpu_summary back;
	cr_assert_eq(xpu_results_read_summary(path, &back, &err), 0, "%s", err.msg);
	cr_assert_eq(back.n, r.s.n);
	for (int i = 0; i < r.s.n; i++) {
		cr_expect_str_eq(back.m[i].key, r.s.m[i].key);
		cr_expect_eq(back.m[i].value, r.s.m[i].value, "%s", r.s.m[i].key);
	}
	cr_expect_str_eq(back.m[0].key, "makespan_s");
	xpu_summary_clear(&back);
	cr_expect_eq(back.n, 0);
	xpu_timeline_free(&r.tl);
}

/* ------------------------------------------------------------------ atomicity */

Test(results, success_leaves_no_temporary, .init = res_mkdtemp, .fini = res_rmtree)
{
	struct res_run r;
	struct xpu_err err = {{0}};
	res_build(&r);
	/* Twice: the second replaces the first through a temporary too. */
	for (int i = 0; i < 2; i++)
		cr_assert_eq(xpu_results_write(res_path("run.h5"), &r.ri, &r.pf, &r.w, r.us, &r.tl,
		                               &r.s, &err),
		             0, "%s", err.msg);
	int temps;
	cr_expect_eq(res_entries(res_dir, &temps), 1);
	cr_expect_eq(temps, 0);
	xpu_timeline_free(&r.tl);
}

Test(results, missing_directory_fails_cleanly, .init = res_mkdtemp, .fini = res_rmtree)
{
	struct res_run r;
	struct xpu_err err = {{0}};
	res_build(&r);
	char path[300];
	snprintf(path, sizeof(path), "%s/no/such/dir/run.h5", res_dir);
	int rc = xpu_results_write(path, &r.ri, &r.pf, &r.w, r.us, &r.tl, &r.s, &err);
	cr_expect_eq(rc, -ENOENT);
	cr_expect_not_null(strstr(err.msg, path), "message: %s", err.msg);
	cr_expect_not_null(strstr(err.msg, "No such file"), "message: %s", err.msg);
	int temps;
	cr_expect_eq(res_entries(res_dir, &temps), 0);
	xpu_timeline_free(&r.tl);
}

Test(results, failed_write_keeps_existing_file, .init = res_mkdtemp, .fini = res_rmtree)
{
	struct res_run r;
	struct xpu_err err = {{0}};
	res_build(&r);
	char *path = res_path("run.h5");
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f);
	fputs("precious", f);
	fclose(f);

	/* A timeline row naming a unit the platform lacks fails half-way through the
	 * file, after the temporary has been created and partly written. */
	r.tl.unit[3] = 7;
	int rc = xpu_results_write(path, &r.ri, &r.pf, &r.w, r.us, &r.tl, &r.s, &err);
	r.tl.unit[3] = 1;
	cr_expect_lt(rc, 0);
	cr_expect_not_null(strstr(err.msg, path), "message: %s", err.msg);

	char buf[32] = "";
	f = fopen(path, "r");
	cr_assert_not_null(f);
	cr_expect_not_null(fgets(buf, sizeof(buf), f));
	fclose(f);
	cr_expect_str_eq(buf, "precious");
	int temps;
	cr_expect_eq(res_entries(res_dir, &temps), 1);
	cr_expect_eq(temps, 0);
	xpu_timeline_free(&r.tl);
}

Test(results, directory_at_path_fails_cleanly, .init = res_mkdtemp, .fini = res_rmtree)
{
	struct res_run r;
	struct xpu_err err = {{0}};
	res_build(&r);
	char *path = res_path("out.h5");
	cr_assert_eq(mkdir(path, 0755), 0);
	int rc = xpu_results_write(path, &r.ri, &r.pf, &r.w, r.us, &r.tl, &r.s, &err);
	cr_expect_lt(rc, 0);
	cr_expect_not_null(strstr(err.msg, "out.h5"), "message: %s", err.msg);
	int temps;
	cr_expect_eq(res_entries(res_dir, &temps), 1);
	cr_expect_eq(temps, 0);
	xpu_timeline_free(&r.tl);
}

/* ------------------------------------------------------------------ foreign files */

Test(results, rejects_non_hdf5_file, .init = res_mkdtemp, .fini = res_rmtree)
{
	char *path = res_path("not.h5");
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f);
	fputs("id,submit\na,0\n", f);
	fclose(f);
	struct xpu_summary s;
	struct xpu_err err = {{0}};
	cr_expect_eq(xpu_results_read_summary(path, &s, &err), -EINVAL);
	cr_expect_not_null(strstr(err.msg, "not an xpuopt result"), "message: %s", err.msg);
	cr_expect_not_null(strstr(err.msg, path), "message: %s", err.msg);
	cr_expect_eq(s.n, 0);
}

Test(results, rejects_hdf5_without_summary, .init = res_mkdtemp, .fini = res_rmtree)
{
	char *path = res_path("other.h5");
	hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
	cr_assert_geq(f, 0);
	hid_t g = H5Gcreate2(f, "data", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
	H5Gclose(g);
	H5Fclose(f);
	struct xpu_summary s;
	struct xpu_err err = {{0}};
	cr_expect_eq(xpu_results_read_summary(path, &s, &err), -EINVAL);
	cr_expect_not_null(strstr(err.msg, "no /summary group"), "message: %s", err.msg);
}

Test(results, rejects_missing_file)
{
	struct xpu_summary s;
	struct xpu_err err = {{0}};
	cr_expect_eq(xpu_results_read_summary("/nonexistent/run.h5", &s, &err), -EINVAL);
	cr_expect_not_null(strstr(err.msg, "/nonexistent/run.h5"), "message: %s", err.msg);
}

/* The estimated tick comes from the best case (every task on its fastest unit). When
 * round-robin puts half of the tasks on a CPU a thousand times slower, the run lasts
 * a thousand times the estimate; the tick coarsens so that the timeline stays a few
 * thousand samples instead of a million, and the makespan is unchanged by it. */
Test(results, auto_tick_coarsens_on_long_runs)
{
	const char *dir = xt_tmpdir();
	char plat[512], trace[512], h5[512], buf[8192];
	snprintf(plat, sizeof(plat), "%s/p.xml", dir);
	snprintf(trace, sizeof(trace), "%s/t.csv", dir);
	snprintf(h5, sizeof(h5), "%s/r.h5", dir);
	FILE *f = fopen(plat, "w");
	cr_assert_not_null(f);
	fputs("<?xml version='1.0'?>\n"
	      "<!DOCTYPE platform SYSTEM \"https://simgrid.org/simgrid.dtd\">\n"
	      "<platform version=\"4.1\"><zone id=\"z\" routing=\"Full\">\n"
	      "<host id=\"gpu\" speed=\"1Tf\"><prop id=\"xpu.kind\" value=\"gpu\"/></host>\n"
	      "<host id=\"cpu\" speed=\"1Gf\"><prop id=\"xpu.kind\" value=\"cpu\"/></host>\n"
	      "<link id=\"l\" bandwidth=\"1GBps\" latency=\"0\"/>\n"
	      "<route src=\"gpu\" dst=\"cpu\"><link_ctn id=\"l\"/></route>\n"
	      "</zone></platform>\n",
	      f);
	fclose(f);
	f = fopen(trace, "w");
	cr_assert_not_null(f);
	fputs("id,flops\n", f);
	for (int i = 0; i < 64; i++)
		fprintf(f, "t%d,1e12\n", i);
	fclose(f);
	int st = xt_cmd(buf, sizeof(buf), "run --platform %s --trace %s --sched round-robin -o %s",
	                plat, trace, h5);
	cr_assert_eq(st, 0, "%s", buf);
	/* 32 tasks of 1000 s in a row on the CPU; the GPU's 32 s overlap them. */
	cr_expect_not_null(strstr(buf, "makespan_s 32000\n"), "%s", buf);
	hid_t file = H5Fopen(h5, H5F_ACC_RDONLY, H5P_DEFAULT);
	cr_assert_geq(file, 0);
	hid_t g = H5Gopen2(file, "timeline", H5P_DEFAULT);
	int rank;
	hsize_t n = res_dims(g, "t", &rank, NULL);
	/* Change points only: a row per unit at the start, then one per change of a unit's
	 * state (its 32 tasks run back to back on each unit: start and end) — never a
	 * sample per tick, which at the estimated tick (64 s of work on 2 cores: 0.032 s)
	 * would be a million. */
	cr_expect(n >= 4 && n <= 2 + 2 * 64, "%llu rows", (unsigned long long)n);
	H5Gclose(g);
	H5Fclose(file);

	/* Sampling every 100 s adds a row per unit and period: about 2 x 320. */
	st = xt_cmd(buf, sizeof(buf),
	            "run --platform %s --trace %s --sched round-robin --sample 100 -o %s", plat,
	            trace, h5);
	cr_assert_eq(st, 0, "%s", buf);
	file = H5Fopen(h5, H5F_ACC_RDONLY, H5P_DEFAULT);
	g = H5Gopen2(file, "timeline", H5P_DEFAULT);
	n = res_dims(g, "t", &rank, NULL);
	cr_expect(n >= 640 && n <= 640 + 2 + 2 * 64 + 4, "%llu rows", (unsigned long long)n);
	H5Gclose(g);
	H5Fclose(file);
}
