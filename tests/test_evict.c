/* test_evict.c — data in memory: eviction under oversubscription (lru, lru-clean,
 * belady), the livelock guard, prefetch, coherence of a read after a write. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "helpers.h"
#include "results.h"

/* A host CPU (the home memory) and a GPU of gpu_mem bytes behind a PCIe 4.0 x16 link
 * (about 25 GB/s of the 32 GB/s raw; 1 us). */
static const char *platform(const char *gpu_mem)
{
	static char text[2048];
	snprintf(text, sizeof(text),
	         "<?xml version=\"1.0\"?>\n"
	         "<!DOCTYPE platform SYSTEM \"https://simgrid.org/simgrid.dtd\">\n"
	         "<platform version=\"4.1\">\n"
	         "  <zone id=\"z\" routing=\"Full\">\n"
	         "    <host id=\"cpu\" speed=\"50Gf\" core=\"4\">\n"
	         "      <prop id=\"xpu.kind\" value=\"cpu\"/>\n"
	         "      <prop id=\"xpu.mem\" value=\"64GiB\"/>\n"
	         "    </host>\n"
	         "    <host id=\"gpu\" speed=\"10Tf\" core=\"%s\">\n"
	         "      <prop id=\"xpu.kind\" value=\"gpu\"/>\n"
	         "      <prop id=\"xpu.mem\" value=\"%s\"/>\n"
	         "    </host>\n"
	         "    <link id=\"pcie\" bandwidth=\"25GBps\" latency=\"1us\"/>\n"
	         "    <route src=\"cpu\" dst=\"gpu\"><link_ctn id=\"pcie\"/></route>\n"
	         "  </zone>\n"
	         "</platform>\n",
	         "1", gpu_mem);
	return xt_write_file("gpu.xml", text);
}

/* n tasks that run on the GPU only (explicit cost), each reading two of k shared 8 MiB
 * data and, every fourth, updating a third in place: 64 MiB of GPU memory against
 * k x 8 MiB of data. */
static const char *oversubscribed_trace(int n, int k, unsigned seed)
{
	static char path[512];
	const char *dir = xt_tmpdir();
	snprintf(path, sizeof(path), "%s/over.csv", dir);
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f);
	fprintf(f, "id,class,flops,cost,reads,writes\n");
	uint64_t x = seed * 2654435761u + 1;
	for (int i = 0; i < n; i++) {
		x = x * 6364136223846793005ULL + 1442695040888963407ULL;
		int a = (int)((x >> 33) % (uint64_t)k), b = (int)((x >> 45) % (uint64_t)k);
		if (b == a)
			b = (a + 1) % k;
		fprintf(f, "t%d,gemm,1e9,gpu=0.002,d%d:8MiB;d%d:8MiB,", i, a, b);
		if (i % 4 == 3) {
			int c = (a + 2) % k;
			if (c == b)
				c = (c + 1) % k;
			fprintf(f, "d%d:8MiB", c);
		}
		fprintf(f, "\n");
	}
	fclose(f);
	return path;
}

struct outcome {
	double done, bytes, evictions, writebacks, makespan;
	int rc;
};

/* Runs o in a child process (SimGrid allows one engine per process); take copies what
 * the caller wants from the result into out (n bytes), which comes back through a pipe.
 * Returns xpu_run's status; a child that crashed fails the test, naming what. */
static int run_in_child(const struct xpu_run_opts *o,
                        void (*take)(const struct xpu_run_result *res, void *out), void *out,
                        size_t n, const char *what)
{
	int fd[2];
	cr_assert_eq(pipe(fd), 0);
	fflush(NULL);
	pid_t pid = fork();
	cr_assert(pid >= 0);
	if (pid == 0) {
		close(fd[0]);
		struct xpu_run_result res;
		struct xpu_err err = {{0}};
		int rc = xpu_run(o, &res, &err);
		if (rc)
			fprintf(stderr, "%s: %s\n", what, err.msg);
		else {
			take(&res, out);
			xpu_run_result_free(&res);
		}
		int ok = write(fd[1], &rc, sizeof(rc)) == (ssize_t)sizeof(rc) &&
		         write(fd[1], out, n) == (ssize_t)n;
		_exit(ok ? 0 : 1);
	}
	close(fd[1]);
	int rc = -1;
	ssize_t got = read(fd[0], &rc, sizeof(rc));
	if (got == (ssize_t)sizeof(rc))
		got = read(fd[0], out, n) == (ssize_t)n ? got : -1;
	close(fd[0]);
	int st;
	waitpid(pid, &st, 0);
	cr_assert(WIFEXITED(st) && got == (ssize_t)sizeof(rc), "%s: child crashed", what);
	return rc;
}

static void take_outcome(const struct xpu_run_result *res, void *out)
{
	struct outcome *o = out;
	o->done = xpu_summary_get(&res->summary, "tasks_done");
	o->bytes = xpu_summary_get(&res->summary, "bytes_transferred");
	o->evictions = xpu_summary_get(&res->summary, "evictions");
	o->writebacks = xpu_summary_get(&res->summary, "writebacks");
	o->makespan = xpu_summary_get(&res->summary, "makespan_s");
}

/* One run in a child process, with the coherence check on: its summary figures. */
static struct outcome run(const char *pf, const char *trace, const char *mem, const char *sched)
{
	struct xpu_run_opts o = {.platform = pf,
	                         .trace = trace,
	                         .sched = sched,
	                         .mem = mem,
	                         .seed = 1,
	                         .quiet = 1,
	                         .check_coherence = 1};
	struct outcome out = {.rc = -1};
	out.rc = run_in_child(&o, take_outcome, &out, sizeof(out), mem);
	cr_assert_eq(out.rc, 0, "%s: run failed", mem);
	return out;
}

/* The contract and the lifecycle, in this process, for one oversubscribed run. */
static void contract(const char *mem)
{
	struct xt_states states = {0};
	struct xpu_run_opts o = {.platform = platform("64MiB"),
	                         .trace = oversubscribed_trace(200, 24, 5),
	                         .sched = "fifo",
	                         .mem = mem,
	                         .seed = 1,
	                         .check_coherence = 1,
	                         .observe = xt_observe,
	                         .observe_ctx = &states};
	struct xpu_run_result res;
	struct xpu_err err = {{0}};
	cr_assert_eq(xpu_run(&o, &res, &err), 0, "%s: %s", mem, err.msg);
	xt_check_contract(&res);
	xt_check_states(&states, res.w);
	cr_assert_gt(xpu_summary_get(&res.summary, "evictions"), 0);
	cr_assert_gt(xpu_summary_get(&res.summary, "mem_wait_s") +
	                 xpu_summary_get(&res.summary, "input_wait_s"),
	             0);
	xpu_run_result_free(&res);
}

Test(evict, contract_with_lru)
{
	contract("lru");
}

Test(evict, contract_with_lru_clean)
{
	contract("lru-clean:alloc=buddy");
}

Test(evict, contract_with_belady)
{
	contract("belady:alloc=caching");
}

Test(evict, an_oversubscribed_gpu_finishes_with_every_policy)
{
	const char *pf = platform("64MiB");
	for (unsigned seed = 1; seed <= 4; seed++) {
		const char *tr = oversubscribed_trace(300, 24, seed); /* 192 MiB: 3x */
		struct outcome lru = run(pf, tr, "lru", "fifo");
		struct outcome clean = run(pf, tr, "lru-clean:alloc=tlsf", "fifo");
		struct outcome bel = run(pf, tr, "belady:alloc=best-fit", "fifo");
		struct outcome *all[] = {&lru, &clean, &bel};
		for (int i = 0; i < 3; i++) {
			cr_assert_eq(all[i]->done, 300, "policy %d, seed %u", i, seed);
			cr_assert_gt(all[i]->evictions, 0);
			cr_assert_gt(all[i]->writebacks, 0, "updated data leave through home");
			cr_assert_leq(all[i]->writebacks, all[i]->evictions);
			/* every datum reaches the GPU at least once */
			cr_assert_geq(all[i]->bytes, 24 * 8.0 * 1048576 - 1);
		}
		cr_assert_leq(bel.bytes, lru.bytes, "seed %u: belady %.0f > lru %.0f", seed,
		              bel.bytes, lru.bytes);
		cr_assert_leq(clean.writebacks, lru.writebacks, "clean victims first");
	}
}

/* Memory large enough for everything: nothing leaves. */
Test(evict, nothing_leaves_a_memory_that_holds_everything)
{
	const char *pf = platform("1GiB");
	const char *tr = oversubscribed_trace(200, 24, 9);
	struct outcome lru = run(pf, tr, "lru", "fifo");
	cr_assert_eq(lru.done, 200);
	cr_assert_eq(lru.evictions, 0);
	cr_assert_eq(lru.writebacks, 0);
}

/* The livelock case: two tasks on a two-core GPU whose inputs together exceed its
 * memory, each needing what the other's inputs would push out. Staging all or nothing
 * lets one run while the other waits; both end, in bounded time (without the guard
 * they would evict each other's inputs forever and this test would never return). */
Test(evict, two_tasks_needing_each_others_victims_finish, .timeout = 60)
{
	char text[2048];
	snprintf(text, sizeof(text), "%s", platform("40MiB"));
	/* the same platform with two GPU cores */
	FILE *f = fopen(text, "r");
	cr_assert_not_null(f);
	char xml[4096];
	size_t n = fread(xml, 1, sizeof(xml) - 1, f);
	fclose(f);
	xml[n] = 0;
	char *core = strstr(xml, "core=\"1\"");
	cr_assert_not_null(core);
	core[6] = '2';
	const char *pf = xt_write_file("gpu2.xml", xml);
	const char *tr = xt_write_file("live.csv", "id,class,flops,cost,reads\n"
	                                           "a,gemm,1e9,gpu=0.01,x:12MiB;y:12MiB\n"
	                                           "b,gemm,1e9,gpu=0.01,z:12MiB;w:12MiB\n"
	                                           "c,gemm,1e9,gpu=0.01,x;z\n"
	                                           "d,gemm,1e9,gpu=0.01,y;w\n");
	const char *pols[] = {"lru", "lru-clean", "belady", "lru:prefetch=head"};
	for (int i = 0; i < 4; i++) {
		struct outcome o = run(pf, tr, pols[i], "fifo");
		cr_assert_eq(o.done, 4, "%s", pols[i]);
		cr_assert_lt(o.makespan, 1.0, "%s: %g s", pols[i], o.makespan);
	}
}

/* A read after a write on another unit moves exactly the datum's bytes. */
Test(evict, a_read_after_a_write_elsewhere_moves_the_datum_once)
{
	const char *pf = platform("1GiB");
	const char *tr = xt_write_file("rw.csv", "id,class,flops,cost,reads,writes\n"
	                                         "w,gemm,1e9,gpu=0.01,,buf:3MiB\n"
	                                         "r,gemm,1e9,cpu=0.01,buf,\n");
	const char *h5 = xt_write_file("rw.h5", "");
	struct xpu_run_opts o = {.platform = pf, .trace = tr, .sched = "fifo", .seed = 1};
	cr_assert_eq(xt_run_forked(&o, h5), 0);
	double *bytes_in;
	size_t n = xt_read_column(h5, "bytes_in", &bytes_in);
	cr_assert_eq(n, 2);
	cr_assert_eq(bytes_in[0], 3.0 * 1048576, "home to GPU for the update");
	cr_assert_eq(bytes_in[1], 3.0 * 1048576, "GPU to home for the read");
	free(bytes_in);
}

/* Prefetch (inputs move when a task is placed) overlaps each transfer with the tasks
 * before it; without it (head) each transfer waits for the unit's turn. The
 * workstation's GPU behind PCIe 4.0 (31.5 GB/s): 40 tasks of 8 ms, each reading its own
 * 256 MiB (8.5 ms), placed at once by dmda. */
Test(evict, prefetch_shortens_a_transfer_bound_dag)
{
	const char *pf = xt_src("platforms/workstation.xml");
	char path[512];
	snprintf(path, sizeof(path), "%s/chain.csv", xt_tmpdir());
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f);
	fprintf(f, "id,class,flops,cost,reads\n");
	for (int i = 0; i < 40; i++)
		fprintf(f, "t%d,gemm,1e9,gpu=0.008,in%d:256MiB\n", i, i);
	fclose(f);
	struct outcome place = run(pf, path, "lru:prefetch=place", "dmda");
	struct outcome head = run(pf, path, "lru:prefetch=head", "dmda");
	cr_assert_eq(place.done, 40);
	cr_assert_eq(head.done, 40);
	cr_assert_eq(place.bytes, head.bytes);
	cr_assert_lt(place.makespan, 0.75 * head.makespan, "place %g s, head %g s", place.makespan,
	             head.makespan);
	/* idle-time prefetch: one at a time, never beside a demand copy; here every copy
	 * is a prefetch, so it pipelines as place does */
	struct outcome idle = run(pf, path, "lru:prefetch=idle", "dmda");
	cr_assert_eq(idle.done, 40);
	cr_assert_eq(idle.bytes, head.bytes);
	cr_assert_lt(idle.makespan, 0.75 * head.makespan, "idle %g s, head %g s", idle.makespan,
	             head.makespan);
}

/* Without an eviction policy, nothing leaves: an oversubscribed GPU waits, and the
 * run ends with the tasks that could not get memory failed rather than hanging. */
Test(evict, a_plain_allocator_never_evicts, .timeout = 60)
{
	const char *pf = platform("64MiB");
	const char *tr = oversubscribed_trace(100, 24, 3);
	struct xpu_run_opts o = {.platform = pf, .trace = tr, .sched = "fifo", .mem = "tlsf"};
	struct xpu_run_result res;
	struct xpu_err err = {{0}};
	cr_assert_eq(xpu_run(&o, &res, &err), 0, "%s", err.msg);
	cr_assert_eq(xpu_summary_get(&res.summary, "evictions"), 0);
	xpu_run_result_free(&res);
}

/* Unified memory: two units on one memory share its bandwidth. Two memory-bound tasks
 * (10 GB each through 100 GB/s) on the CPU and the NPU of one SoC end at 0.2 s, the
 * time the memory needs for both; on two units with memories of their own, at 0.1 s. */
static double two_streams(int shared)
{
	char xml[2048];
	snprintf(xml, sizeof(xml),
	         "<?xml version=\"1.0\"?>\n"
	         "<!DOCTYPE platform SYSTEM \"https://simgrid.org/simgrid.dtd\">\n"
	         "<platform version=\"4.1\">\n"
	         "  <zone id=\"z\" routing=\"Full\">\n"
	         "    <host id=\"cpu\" speed=\"100Gf\">\n"
	         "      <prop id=\"xpu.kind\" value=\"cpu\"/>\n"
	         "      <prop id=\"xpu.mem.bw\" value=\"100GBps\"/>%s\n"
	         "    </host>\n"
	         "    <host id=\"npu\" speed=\"100Gf\">\n"
	         "      <prop id=\"xpu.kind\" value=\"npu\"/>\n"
	         "      <prop id=\"xpu.mem.bw\" value=\"100GBps\"/>%s\n"
	         "    </host>\n"
	         "    <link id=\"l\" bandwidth=\"10GBps\" latency=\"1us\"/>\n"
	         "    <route src=\"cpu\" dst=\"npu\"><link_ctn id=\"l\"/></route>\n"
	         "  </zone>\n"
	         "</platform>\n",
	         shared ? "\n      <prop id=\"xpu.mem.shared\" value=\"lpddr\"/>" : "",
	         shared ? "\n      <prop id=\"xpu.mem.shared\" value=\"lpddr\"/>" : "");
	const char *pf = xt_write_file(shared ? "soc.xml" : "two.xml", xml);
	const char *tr = xt_write_file("streams.csv", "id,class,flops,bytes\n"
	                                              "a,generic,1e6,1e10\n"
	                                              "b,generic,1e6,1e10\n");
	return run(pf, tr, "lru", "round-robin").makespan;
}

Test(evict, units_on_one_memory_share_its_bandwidth)
{
	double own = two_streams(0), soc = two_streams(1);
	cr_assert_float_eq(own, 0.1, 1e-3, "own memories: %g s", own);
	cr_assert_float_eq(soc, 0.2, 1e-3, "one memory: %g s", soc);
}

/* The share follows the tasks in progress, not those at a task's start: a streams 10 GB
 * alone from 0 to 0.05 s (5 GB at 100 GB/s), then with b at 50 GB/s each until its
 * other 5 GB are through at 0.15 s; b, submitted at 0.05 s, has then moved 5 GB and
 * moves the rest alone by 0.2 s. (A share fixed at each start would end a at 0.1 s
 * and b at 0.25 s.) The cores stay busy while their tasks wait on the memory: the CPU,
 * 10 W idle and 110 W busy, draws 110 W over a's 0.15 s and 10 W over the last 0.05 s. */
struct staggered {
	int rc;
	double end_a, end_b, cpu_j, npu_busy_s;
};

/* Two units, 100 Gf each, on one 100 GB/s memory, with power (CPU 10 W idle, 110 W
 * busy; NPU 5 and 55 W). */
static const char *soc_w(void)
{
	return xt_write_file("soc-w.xml",
	                     "<?xml version=\"1.0\"?>\n"
	                     "<!DOCTYPE platform SYSTEM \"https://simgrid.org/simgrid.dtd\">\n"
	                     "<platform version=\"4.1\">\n"
	                     "  <zone id=\"z\" routing=\"Full\">\n"
	                     "    <host id=\"cpu\" speed=\"100Gf\">\n"
	                     "      <prop id=\"wattage_per_state\" value=\"10:110\"/>\n"
	                     "      <prop id=\"wattage_off\" value=\"0\"/>\n"
	                     "      <prop id=\"xpu.kind\" value=\"cpu\"/>\n"
	                     "      <prop id=\"xpu.mem.bw\" value=\"100GBps\"/>\n"
	                     "      <prop id=\"xpu.mem.shared\" value=\"lpddr\"/>\n"
	                     "    </host>\n"
	                     "    <host id=\"npu\" speed=\"100Gf\">\n"
	                     "      <prop id=\"wattage_per_state\" value=\"5:55\"/>\n"
	                     "      <prop id=\"wattage_off\" value=\"0\"/>\n"
	                     "      <prop id=\"xpu.kind\" value=\"npu\"/>\n"
	                     "      <prop id=\"xpu.mem.bw\" value=\"100GBps\"/>\n"
	                     "      <prop id=\"xpu.mem.shared\" value=\"lpddr\"/>\n"
	                     "    </host>\n"
	                     "  </zone>\n"
	                     "</platform>\n");
}

static void take_staggered(const struct xpu_run_result *res, void *out)
{
	struct staggered *o = out;
	o->end_a = res->w->tasks[0].end_t;
	o->end_b = res->w->tasks[1].end_t;
	o->cpu_j = res->us[0].energy_j;
	o->npu_busy_s = res->us[1].busy_s;
}

static struct staggered staggered_streams(void)
{
	const char *pf = soc_w();
	const char *tr = xt_write_file("staggered.csv", "id,submit,class,flops,bytes\n"
	                                                "a,0,generic,1e6,1e10\n"
	                                                "b,0.05,generic,1e6,1e10\n");
	struct xpu_run_opts o = {
	    .platform = pf, .trace = tr, .sched = "round-robin", .seed = 1, .quiet = 1};
	struct staggered out = {.rc = -1};
	out.rc = run_in_child(&o, take_staggered, &out, sizeof(out), "staggered streams");
	cr_assert_eq(out.rc, 0, "run failed");
	return out;
}

Test(evict, a_shared_memory_is_shared_between_the_tasks_in_progress)
{
	struct staggered r = staggered_streams();
	cr_assert_float_eq(r.end_a, 0.15, 1e-6, "a ended at %.9g s", r.end_a);
	cr_assert_float_eq(r.end_b, 0.2, 1e-6, "b ended at %.9g s", r.end_b);
	cr_assert_float_eq(r.cpu_j, 110 * 0.15 + 10 * 0.05, 1e-3, "cpu: %.9g J", r.cpu_j);
	cr_assert_float_eq(r.npu_busy_s, 0.15, 1e-6, "npu busy %.9g s", r.npu_busy_s);
}

/* Units of one memory that fail while their tasks stream through it: a task killed
 * mid-read leaves the memory to the others, is run again, and every task ends, the
 * same way twice (SimGrid cancels the killed worker's read with it). */
Test(evict, streaming_tasks_survive_failures_on_a_shared_memory, .timeout = 120)
{
	const char *pf = soc_w();
	char trace[64 * 200 + 64];
	size_t off = (size_t)snprintf(trace, sizeof(trace), "id,submit,class,flops,bytes\n");
	for (int i = 0; i < 200; i++)
		off +=
		    (size_t)snprintf(trace + off, sizeof(trace) - off, "s%d,%.3f,generic,%d,%d\n",
		                     i, i * 0.01, 1000000 * (1 + i % 7), 400000000 * (1 + i % 5));
	const char *tr = xt_write_file("streams-fail.csv", trace);
	char a[8192], b[8192];
	cr_assert_eq(xt_cmd(a, sizeof(a),
	                    "run -p %s -t %s --failures mtbf=1s,mttr=0.2s --seed 5 -o - 2>&1", pf,
	                    tr),
	             0, "%s", a);
	cr_assert_not_null(strstr(a, "tasks_done 200\n"), "%s", a);
	const char *f = strstr(a, "unit_failures ");
	cr_assert(f && atoi(f + 14) > 0, "no failure happened: %s", a);
	/* the same results again: stdout only, since a sanitized build's stderr carries
	 * ASan's notes on SimGrid's stack switches, which name the process */
	char c[8192];
	cr_assert_eq(
	    xt_cmd(b, sizeof(b),
	           "run -p %s -t %s --failures mtbf=1s,mttr=0.2s --seed 5 -o - 2>/dev/null", pf,
	           tr),
	    0, "%s", b);
	cr_assert_eq(
	    xt_cmd(c, sizeof(c),
	           "run -p %s -t %s --failures mtbf=1s,mttr=0.2s --seed 5 -o - 2>/dev/null", pf,
	           tr),
	    0, "%s", c);
	cr_assert_not_null(strstr(b, "tasks_done 200\n"), "%s", b);
	cr_assert_str_eq(b, c);
}

/* A plain allocator on an oversubscribed GPU: the run says why tasks failed and which
 * policies would have let data leave. */
Test(evict, a_stuck_run_says_memory_held_it)
{
	char buf[4096];
	const char *pf = platform("64MiB");
	const char *tr = oversubscribed_trace(60, 24, 3);
	cr_assert_eq(xt_cmd(buf, sizeof(buf), "run -q -p %s -t %s --mem tlsf -o - 2>&1", pf, tr), 1,
	             "%s", buf);
	cr_assert_not_null(strstr(buf, "waited at the head of a queue for memory that nothing "
	                               "would free"),
	                   "%s", buf);
	cr_assert_not_null(strstr(buf, "lru, lru-clean or belady"), "%s", buf);
	cr_assert_eq(xt_cmd(buf, sizeof(buf), "run -q -p %s -t %s --mem lru -o - 2>&1", pf, tr), 0,
	             "%s", buf);
}
