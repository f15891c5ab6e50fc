/* test_data.c — data with coherent copies: consumers of one datum on one memory share its
 * copy, a write invalidates the other copies, chains on one unit and units sharing a
 * memory move nothing, and /data and /transfers record the bytes. */
#include <criterion/criterion.h>
#include <hdf5.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "helpers.h"

static void run(const char *platform, const char *trace, const char *sched,
                struct xpu_run_result *res, struct xt_states *st)
{
	struct xpu_run_opts o = {.platform = xt_src(platform),
	                         .trace = trace,
	                         .sched = sched,
	                         .quiet = 1,
	                         .observe = xt_observe,
	                         .observe_ctx = st};
	struct xpu_err err = {{0}};
	cr_assert_eq(xpu_run(&o, res, &err), 0, "%s", err.msg);
	xt_check_contract(res);
	xt_check_states(st, res->w);
}

static const struct xpu_task *task(const struct xpu_run_result *r, const char *id)
{
	for (uint32_t i = 0; i < r->w->ntasks; i++)
		if (!strcmp(r->w->tasks[i].id, id))
			return &r->w->tasks[i];
	cr_assert_fail("no task %s", id);
	return NULL;
}

/* The producer runs on the CPU (fft), its three consumers on the GPU (gemm): the 1 GB
 * output crosses the link once, and the three read the one copy. */
static void three_consumers(const char *sched)
{
	const char *trace = xt_write_file("three.csv", "id,class,flops,deps\n"
	                                               "p,fft,1e9,\n"
	                                               "c1,gemm,1e9,p:1e9\n"
	                                               "c2,gemm,1e9,p:1e9\n"
	                                               "c3,gemm,1e9,p:1e9\n");
	{
		struct xpu_run_result res;
		struct xt_states st = {0};
		run("tests/data/engine/cpu_gpu.xml", trace, sched, &res, &st);
		cr_expect_eq(xpu_summary_get(&res.summary, "bytes_transferred"), 1e9, "%s: %.17g",
		             sched, xpu_summary_get(&res.summary, "bytes_transferred"));
		cr_assert_eq(res.w->ndata, 1, "one output, one datum");
		cr_expect_eq(res.data.bytes[0], 1e9);
		cr_expect_eq(res.data.copies[0], 1);
		cr_assert_eq(res.data.links.n, 1);
		cr_expect(res.data.links.v[0].src == 0 && res.data.links.v[0].dst == 1 &&
		          res.data.links.v[0].bytes == 1e9);
		/* 1 s on the CPU, 1 s over the link, then three 1 s tasks on the GPU */
		cr_expect(fabs(xpu_summary_get(&res.summary, "makespan_s") - 5) < 1e-9, "%s: %.17g",
		          sched, xpu_summary_get(&res.summary, "makespan_s"));
		cr_expect_eq(res.us[1].peak_data, 1e9, "the GPU holds one copy");
		xpu_run_result_free(&res);
	}
}

Test(data, three_consumers_of_one_datum_on_one_gpu_move_it_once)
{
	three_consumers("fifo");
}

Test(data, three_consumers_under_heft_move_it_once)
{
	three_consumers("heft");
}

/* A shared datum w (100 MB, at home in the CPU's memory): r1 reads it on the GPU (one
 * copy in), x updates it in place on the CPU (the GPU's copy becomes invalid), r2 reads
 * it on the GPU again and moves exactly its 100 MB. Shared data are ordered by the
 * trace: x waits for r1, r2 for x. */
Test(data, a_write_invalidates_the_other_copies)
{
	const char *trace = xt_write_file("rw.csv", "id,class,flops,reads,writes\n"
	                                            "r1,gemm,1e9,w:1e8,\n"
	                                            "x,fft,1e9,,w\n"
	                                            "r2,gemm,1e9,w,\n");
	struct xpu_run_result res;
	struct xt_states st = {0};
	run("tests/data/engine/cpu_gpu.xml", trace, "fifo", &res, &st);
	const struct xpu_task *r1 = task(&res, "r1"), *x = task(&res, "x"), *r2 = task(&res, "r2");
	cr_expect_eq(r1->bytes_in, 1e8);
	cr_expect_eq(x->bytes_in, 0, "the home copy is valid: nothing moves");
	cr_expect_eq(r2->bytes_in, 1e8, "the write made the GPU's copy invalid");
	cr_expect_geq(x->start_t, r1->end_t, "x waits for r1's read");
	cr_expect_geq(r2->start_t, x->end_t + 0.1 - 1e-9, "r2 waits for x and the copy");
	cr_expect_eq(xpu_summary_get(&res.summary, "bytes_transferred"), 2e8);
	cr_assert_eq(res.w->ndata, 1);
	cr_expect_eq(res.data.copies[0], 2);
	xpu_run_result_free(&res);
}

Test(data, a_chain_on_one_unit_moves_nothing)
{
	const char *trace = xt_write_file("chain.csv", "id,class,flops,deps\n"
	                                               "a,gemm,1e9,\n"
	                                               "b,gemm,1e9,a:1e9\n"
	                                               "c,gemm,1e9,b:1e9\n"
	                                               "d,gemm,1e9,c:1e9\n");
	struct xpu_run_result res;
	struct xt_states st = {0};
	run("tests/data/engine/cpu_gpu.xml", trace, "heft", &res, &st);
	cr_expect_eq(xpu_summary_get(&res.summary, "bytes_transferred"), 0);
	cr_expect(fabs(xpu_summary_get(&res.summary, "makespan_s") - 4) < 1e-9);
	cr_expect_eq(res.data.links.n, 0);
	xpu_run_result_free(&res);
}

/* Three units on one memory (a SoC): data passed between them never moves. */
Test(data, a_soc_with_one_shared_memory_moves_nothing)
{
	const char *trace = xt_write_file("soc.csv", "id,flops,deps\n"
	                                             "a,1e10,\n"
	                                             "b,1e10,a:1e9\n"
	                                             "c,1e10,a:1e9\n"
	                                             "d,1e10,b:1e9;c:1e9\n");
	struct xpu_run_result res;
	struct xt_states st = {0};
	run("tests/data/platforms/shared_soc.xml", trace, "heft", &res, &st);
	cr_expect_eq(xpu_summary_get(&res.summary, "bytes_transferred"), 0);
	for (uint32_t i = 0; i < res.w->ndata; i++)
		cr_expect_eq(res.data.copies[i], 0);
	xpu_run_result_free(&res);
}

/* Named data: sizes must agree, and a name needs a size somewhere. */
Test(data, named_data_sizes_are_checked)
{
	char buf[4096];
	const char *t1 = xt_write_file("two.csv", "id,reads\na,w:10\nb,w:20\n");
	cr_expect_eq(xt_cmd(buf, sizeof(buf), "trace %s 2>&1", t1), 2);
	cr_expect_not_null(strstr(buf,
	                          "two.csv:3: field 'reads': datum \"w\" has 10 bytes (line 2), "
	                          "got 20"),
	                   "%s", buf);
	const char *t2 = xt_write_file("none.csv", "id,writes\na,buf\n");
	cr_expect_eq(xt_cmd(buf, sizeof(buf), "trace %s 2>&1", t2), 2);
	cr_expect_not_null(strstr(buf, "none.csv:2: field 'writes': datum \"buf\" needs a size"),
	                   "%s", buf);
	const char *t3 = xt_write_file("bad.csv", "id,reads\na,w:abc\n");
	cr_expect_eq(xt_cmd(buf, sizeof(buf), "trace %s 2>&1", t3), 2);
	cr_expect_not_null(strstr(buf, "bad.csv:2: field 'reads': expected NAME or NAME:BYTES"),
	                   "%s", buf);
}

/* The result file: /data and /transfers. */
Test(data, result_file_records_data_and_transfers)
{
	const char *trace = xt_write_file("three.csv", "id,class,flops,deps\n"
	                                               "p,fft,1e9,\n"
	                                               "c1,gemm,1e9,p:1e9\n"
	                                               "c2,gemm,1e9,p:1e9\n");
	char out[512], buf[8192];
	snprintf(out, sizeof(out), "%s/d.h5", xt_tmpdir());
	cr_assert_eq(xt_cmd(buf, sizeof(buf), "run --platform %s --trace %s -o %s 2>&1",
	                    xt_src("tests/data/engine/cpu_gpu.xml"), trace, out),
	             0, "%s", buf);
	hid_t f = H5Fopen(out, H5F_ACC_RDONLY, H5P_DEFAULT);
	cr_assert_geq(f, 0);
	double moved = 0, bytes = 0;
	int32_t src = -1, dst = -1;
	hid_t d = H5Dopen2(f, "/data/bytes_moved", H5P_DEFAULT);
	cr_assert_geq(d, 0);
	H5Dread(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, &moved);
	H5Dclose(d);
	d = H5Dopen2(f, "/transfers/bytes", H5P_DEFAULT);
	H5Dread(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, &bytes);
	H5Dclose(d);
	d = H5Dopen2(f, "/transfers/src_unit", H5P_DEFAULT);
	H5Dread(d, H5T_NATIVE_INT32, H5S_ALL, H5S_ALL, H5P_DEFAULT, &src);
	H5Dclose(d);
	d = H5Dopen2(f, "/transfers/dst_unit", H5P_DEFAULT);
	H5Dread(d, H5T_NATIVE_INT32, H5S_ALL, H5S_ALL, H5P_DEFAULT, &dst);
	H5Dclose(d);
	H5Fclose(f);
	cr_expect_eq(moved, 1e9);
	cr_expect_eq(bytes, 1e9);
	cr_expect(src == 0 && dst == 1);
}

/* HEFT places every task at arrival, so c3 sits on the GPU while the GPU still holds
 * the old copy of w that c1 read; x rewrites w on the CPU first, and c3 must read the
 * new value: a second 100 MB copy, and c3 starts after it. */
Test(data, a_reader_placed_before_a_write_reads_the_new_value)
{
	const char *trace = xt_write_file("v.csv", "id,class,flops,deps,reads,writes\n"
	                                           "p,fft,1e9,,w:1e8,\n"
	                                           "c1,gemm,1e9,p:1e9,w,\n"
	                                           "c2,gemm,1e9,p:1e9,,\n"
	                                           "x,fft,1e9,,,w\n"
	                                           "c3,gemm,1e9,p:1e9,w,\n");
	struct xpu_run_result res;
	struct xt_states st = {0};
	run("tests/data/engine/cpu_gpu.xml", trace, "heft", &res, &st);
	const struct xpu_task *x = task(&res, "x"), *c3 = task(&res, "c3");
	cr_expect_eq(c3->bytes_in, 1e8, "%.17g", c3->bytes_in);
	cr_expect_geq(c3->start_t, x->end_t + 0.1 - 1e-9, "c3 at %g, x ends at %g", c3->start_t,
	              x->end_t);
	cr_expect_eq(xpu_summary_get(&res.summary, "bytes_transferred"), 1e9 + 2e8);
	xpu_run_result_free(&res);
}

/* convert keeps the shared data: a native trace with reads and writes round-trips. */
Test(data, convert_keeps_reads_and_writes)
{
	const char *in = xt_write_file("in.csv", "id,reads,writes\na,w:100,\nb,,w\nc,w,\n");
	char out[512], buf[4096];
	snprintf(out, sizeof(out), "%s/out.csv", xt_tmpdir());
	cr_assert_eq(xt_cmd(buf, sizeof(buf), "convert %s -o %s 2>&1", in, out), 0, "%s", buf);
	struct xpu_workload *w = NULL;
	struct xpu_err err = {{0}};
	cr_assert_eq(xpu_workload_load(out, NULL, NULL, &w, &err), 0, "%s", err.msg);
	cr_assert_eq(w->ndata, 1);
	cr_expect_eq(w->data[0].size, 100);
	cr_expect_eq(w->data[0].naccess, 3);
	cr_expect_eq(w->ndeps, 2, "b waits for a's read, c for b's write");
	xpu_workload_free(w);
}
