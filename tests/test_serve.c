/* test_serve.c — LLM serving runs (issue 14): the roofline of one request by hand, the
 * KV cache's bound and preemption, bounded thrashing, the published directions of the
 * serving policies, routers, determinism, refusals, and the result file. Each run is
 * in a child process (SimGrid allows one engine per process). */
#include <criterion/criterion.h>
#include <errno.h>
#include <hdf5.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "helpers.h"
#include "serving.h"
#include "study.h"
#include "vidur.h"

#define NREQ_SEEN 8

/* What a child reports of its run. */
struct report {
	int rc;
	char err[1024];
	struct xpu_summary s;
	int all_done;
	uint32_t kv_over;  /* steps seen with more blocks in use than the cache has */
	uint32_t kv_steps; /* steps seen */
	double first[NREQ_SEEN], end[NREQ_SEEN];
	uint32_t gen[NREQ_SEEN];
	uint64_t steps, preemptions, swaps, migrations;
};

static void watch(void *ctx, int rep, uint32_t used, uint32_t total, double now)
{
	struct report *r = ctx;
	(void)rep;
	(void)now;
	r->kv_steps++;
	if (used > total)
		r->kv_over++;
}

/* Run o in a child; its report in *r (the summary's keys are string literals, valid
 * in the parent too after fork). */
static void serve_forked(struct xpu_serving_opts *o, struct report *r)
{
	int fd[2];
	cr_assert_eq(pipe(fd), 0);
	pid_t pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		close(fd[0]);
		struct report x = {0};
		struct xpu_err err = {{0}};
		struct xpu_serving_result res;
		o->observe = watch;
		o->observe_ctx = &x;
		x.rc = xpu_serving_run(o, &res, &err);
		snprintf(x.err, sizeof(x.err), "%s", err.msg);
		if (!x.rc) {
			x.s = res.out.summary;
			x.all_done = 1;
			for (uint32_t i = 0; i < res.req.n; i++) {
				const struct xpu_request *q = &res.req.v[i];
				x.all_done &= q->state == XPU_REQ_DONE && q->generated == q->output;
				if (i < NREQ_SEEN) {
					x.first[i] = q->first_token_t;
					x.end[i] = q->end_t;
					x.gen[i] = q->generated;
				}
			}
			x.steps = res.out.steps;
			x.preemptions = res.out.preemptions;
			x.swaps = res.out.swaps;
			x.migrations = res.out.migrations;
			xpu_serving_result_free(&res);
		}
		ssize_t w = write(fd[1], &x, sizeof(x));
		_exit(w == (ssize_t)sizeof(x) ? 0 : 3);
	}
	close(fd[1]);
	size_t got = 0;
	while (got < sizeof(*r)) {
		ssize_t n = read(fd[0], (char *)r + got, sizeof(*r) - got);
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fd[0]);
	int st;
	waitpid(pid, &st, 0);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0 && got == sizeof(*r),
	          "the serving child died (status %d)", st);
}

static double metric(const struct report *r, const char *key)
{
	return xpu_summary_get(&r->s, key);
}

/* A host CPU and n GPUs of mem bytes each (80 GB of the H100 datasheet by default),
 * 3.35 TB/s, 989 Tf at 60% for prefill, 30% for decode, 5 us launch, NVLink-like links
 * of 450 GB/s and 2 us. Written to a fresh file. */
static const char *gpu_platform(int n, const char *mem)
{
	static char xml[16384];
	size_t l = 0;
	l += (size_t)snprintf(xml + l, sizeof(xml) - l,
	                      "<?xml version='1.0'?>\n"
	                      "<!DOCTYPE platform SYSTEM \"https://simgrid.org/simgrid.dtd\">\n"
	                      "<platform version=\"4.1\"><zone id=\"z\" routing=\"Full\">\n"
	                      "<host id=\"cpu\" speed=\"100Gf\" core=\"8\">"
	                      "<prop id=\"xpu.kind\" value=\"cpu\"/>"
	                      "<prop id=\"xpu.mem\" value=\"512GiB\"/>"
	                      "<prop id=\"wattage_per_state\" value=\"50:60:200\"/></host>\n");
	for (int i = 0; i < n; i++)
		l += (size_t)snprintf(
		    xml + l, sizeof(xml) - l,
		    "<host id=\"gpu%d\" speed=\"67Tf\" core=\"1\">"
		    "<prop id=\"xpu.kind\" value=\"gpu\"/><prop id=\"xpu.mem\" value=\"%s\"/>"
		    "<prop id=\"xpu.mem.bw\" value=\"3.35TBps\"/>"
		    "<prop id=\"xpu.launch\" value=\"5us\"/>"
		    "<prop id=\"xpu.class.llm-prefill\" value=\"989Tf@0.6\"/>"
		    "<prop id=\"xpu.class.llm-decode\" value=\"989Tf@0.3\"/>"
		    "<prop id=\"wattage_per_state\" value=\"70:100:700\"/></host>\n",
		    i, mem);
	for (int i = 0; i < n; i++)
		l += (size_t)snprintf(
		    xml + l, sizeof(xml) - l,
		    "<link id=\"pcie%d\" bandwidth=\"32GBps\" latency=\"5us\"/>\n", i);
	for (int i = 0; i < n; i++)
		for (int j = i + 1; j < n; j++)
			l += (size_t)snprintf(
			    xml + l, sizeof(xml) - l,
			    "<link id=\"nv%d_%d\" bandwidth=\"450GBps\" latency=\"2us\"/>\n", i, j);
	for (int i = 0; i < n; i++)
		l += (size_t)snprintf(xml + l, sizeof(xml) - l,
		                      "<route src=\"cpu\" dst=\"gpu%d\"><link_ctn id=\"pcie%d\"/>"
		                      "</route>\n",
		                      i, i);
	for (int i = 0; i < n; i++)
		for (int j = i + 1; j < n; j++)
			l += (size_t)snprintf(xml + l, sizeof(xml) - l,
			                      "<route src=\"gpu%d\" dst=\"gpu%d\"><link_ctn "
			                      "id=\"nv%d_%d\"/></route>\n",
			                      i, j, i, j);
	snprintf(xml + l, sizeof(xml) - l, "</zone></platform>\n");
	return xt_write_file("serve.xml", xml);
}

static struct xpu_serving_opts base_opts(const char *platform, const struct xpu_requests *rq)
{
	return (struct xpu_serving_opts){.platform = platform,
	                                 .reqs = rq,
	                                 .catalogue = xt_src("traces/models.csv"),
	                                 .model = "llama-2-7b",
	                                 .watermark = -1};
}

static struct xpu_requests gen(uint32_t n, double rate, double pm, double ps, double om, double os,
                               uint64_t seed)
{
	struct xpu_req_gen g = {.n = n,
	                        .rate = rate,
	                        .cv = 1,
	                        .prompt_median = pm,
	                        .prompt_sigma = ps,
	                        .output_median = om,
	                        .output_sigma = os,
	                        .max_tokens = 4096,
	                        .seed = seed};
	struct xpu_requests r;
	struct xpu_err err = {{0}};
	cr_assert_eq(xpu_requests_generate(&g, &r, &err), 0, "%s", err.msg);
	return r;
}

static double kv_value(const char *out, const char *key)
{
	char pat[128];
	snprintf(pat, sizeof(pat), "\n%s ", key);
	if (!strncmp(out, pat + 1, strlen(pat) - 1))
		return strtod(out + strlen(pat) - 1, NULL);
	const char *p = strstr(out, pat);
	return p ? strtod(p + strlen(pat), NULL) : NAN;
}

/* ------------------------------------------------------------------ by hand */

Test(serve, single_request_roofline_by_hand)
{
	/* Llama-2-7B (Touvron et al. 2023, table 1): 32 layers, hidden 4096, 32 heads,
	 * FFN 11008, vocabulary 32000, fp16. Weights: embedding and head 2 x 32000 x 4096,
	 * per layer 4 h^2 (q, k, v, o) + 3 h ffn (SwiGLU) + 2 h (norms), a final norm. */
	const double h = 4096, L = 32, ffn = 11008, V = 32000;
	double params = 2 * V * h + L * (4 * h * h + 3 * h * ffn + 2 * h) + h;
	double W = 2 * params;             /* bytes */
	double fpt = 2 * (params - V * h); /* the input embedding is a lookup */
	double apair = 4 * L * h;          /* q.k and the weighted sum of v */
	double kv = 2 * L * h * 2;         /* K and V, every layer, fp16 */
	double rp = 989e12 * 0.6, rd = 989e12 * 0.3, bw = 3.35e12, lat = 5e-6;
	const double P = 512, O = 64;

	double ttft = fmax((fpt * P + apair * P * (P + 1) / 2) / rp, (W + kv * P) / bw) + lat;
	double sum = 0;
	for (double c = P; c < P + O - 1; c++) /* each decode reads c cached tokens */
		sum += fmax((fpt + apair * (c + 1)) / rd, (W + kv * (c + 1)) / bw) + lat;
	double tpot = sum / (O - 1);

	struct xpu_request one = {.id = "one", .arrival = 0, .prompt = 512, .output = 64};
	struct xpu_requests rq = {.n = 1, .v = &one};
	struct xpu_serving_opts o = base_opts(gpu_platform(1, "80GB"), &rq);
	struct report r;
	serve_forked(&o, &r);
	cr_assert_eq(r.rc, 0, "%s", r.err);
	cr_assert(r.all_done);
	double got_ttft = metric(&r, "ttft_p50_s"), got_tpot = metric(&r, "tpot_p50_s");
	cr_expect(fabs(got_ttft - ttft) / ttft < 1e-4, "TTFT %.9g s, by hand %.9g s", got_ttft,
	          ttft);
	cr_expect(fabs(got_tpot - tpot) / tpot < 1e-4, "TPOT %.9g s, by hand %.9g s", got_tpot,
	          tpot);
	cr_expect(fabs(r.first[0] - ttft) / ttft < 1e-4);
	cr_expect(fabs(r.end[0] - (ttft + sum)) / (ttft + sum) < 1e-4);
	/* decode at this size is bound by the weights' reads, prefill by compute */
	cr_expect_gt((fpt * P) / rp, W / bw);
	cr_expect_lt((fpt + apair * P) / rd, W / bw);
}

/* ------------------------------------------------------------------ KV cache */

Test(serve, kv_cache_bound_and_vllm_preempts)
{
	/* 15 GB: 13.5 GB of weights leave about 1.5 GB, some 2,800 tokens of cache;
	 * 40 requests of 300 + 300 tokens arriving together need far more */
	struct xpu_request v[40];
	char ids[40][8];
	for (int i = 0; i < 40; i++) {
		snprintf(ids[i], sizeof(ids[i]), "q%d", i);
		v[i] =
		    (struct xpu_request){.id = ids[i], .arrival = 0, .prompt = 300, .output = 300};
	}
	struct xpu_requests rq = {.n = 40, .v = v};
	const char *pf = gpu_platform(1, "15GB");
	const char *modes[] = {"vllm", "vllm:preempt=swap", "sarathi", "sarathi:preempt=swap"};
	for (size_t m = 0; m < sizeof(modes) / sizeof(modes[0]); m++) {
		struct xpu_serving_opts o = base_opts(pf, &rq);
		o.serve = modes[m];
		struct report r;
		serve_forked(&o, &r);
		cr_assert_eq(r.rc, 0, "%s: %s", modes[m], r.err);
		cr_expect(r.all_done, "%s: every request completes", modes[m]);
		cr_expect_eq(r.kv_over, 0, "%s: the KV cache never exceeds its memory", modes[m]);
		cr_expect_gt(r.preemptions, 0, "%s: filling the cache preempts", modes[m]);
		cr_expect_leq(metric(&r, "kv_peak_frac"), 1.0);
		if (strstr(modes[m], "swap"))
			cr_expect_gt(r.swaps, 0, "%s swaps caches out", modes[m]);
		/* bounded: no storm; the work is 40 x 600 tokens, a step at least one */
		cr_expect_lt(r.steps, 40 * 600, "%s: %llu steps", modes[m],
		             (unsigned long long)r.steps);
		cr_log_info("%s: %llu preemptions, %llu swaps, %llu steps, KV peak %.3f", modes[m],
		            (unsigned long long)r.preemptions, (unsigned long long)r.swaps,
		            (unsigned long long)r.steps, metric(&r, "kv_peak_frac"));
	}
}

Test(serve, thrashing_load_finishes_in_bounded_time)
{
	/* 300 long requests into a cache of about 2,800 tokens, many needing half of
	 * it: the preemption-storm pattern; the oldest request always progresses */
	struct xpu_requests rq = gen(300, 1000, 600, 0.25, 300, 0.25, 7);
	struct xpu_serving_opts o = base_opts(gpu_platform(1, "15GB"), &rq);
	o.serve = "vllm";
	struct report r;
	serve_forked(&o, &r);
	cr_assert_eq(r.rc, 0, "%s", r.err);
	cr_expect(r.all_done);
	cr_expect_eq(r.kv_over, 0);
	double tokens = 0;
	for (uint32_t i = 0; i < rq.n; i++)
		tokens += rq.v[i].prompt + rq.v[i].output;
	cr_expect_lt((double)r.preemptions, rq.n * 20.0, "%llu preemptions",
	             (unsigned long long)r.preemptions);
	cr_expect_lt((double)r.steps, tokens, "%llu steps", (unsigned long long)r.steps);
	cr_log_info("thrash: %llu preemptions, %llu steps, makespan %g s",
	            (unsigned long long)r.preemptions, (unsigned long long)r.steps,
	            metric(&r, "makespan_s"));
	xpu_requests_free(&rq);
}

Test(serve, orca_reserves_and_never_preempts)
{
	struct xpu_requests rq = gen(60, 200, 300, 0.2, 200, 0.2, 3);
	struct xpu_serving_opts o = base_opts(gpu_platform(1, "15GB"), &rq);
	o.serve = "orca:reserve=exact";
	struct report r;
	serve_forked(&o, &r);
	cr_assert_eq(r.rc, 0, "%s", r.err);
	cr_expect(r.all_done);
	cr_expect_eq(r.preemptions, 0);
	cr_expect_eq(r.kv_over, 0);
	xpu_requests_free(&rq);
}

/* ------------------------------------------------------------------ directions */

Test(serve, continuous_batching_beats_static)
{
	/* a saturating load on one GPU: continuous batching (Orca, vLLM) keeps the GPU's
	 * batch full; static batching waits for its longest request (Yu et al. 2022) */
	struct xpu_requests rq = gen(400, 40, 600, 0.6, 100, 0.8, 11);
	const char *pf = gpu_platform(1, "80GB");
	double tput[3], e2e[3];
	const char *pol[3] = {"static:batch=16", "orca:batch=16", "vllm:batch=16"};
	for (int i = 0; i < 3; i++) {
		struct xpu_serving_opts o = base_opts(pf, &rq);
		o.serve = pol[i];
		struct report r;
		serve_forked(&o, &r);
		cr_assert_eq(r.rc, 0, "%s", r.err);
		cr_assert(r.all_done);
		tput[i] = metric(&r, "tokens_per_s");
		e2e[i] = metric(&r, "e2e_p50_s");
	}
	cr_log_info("tokens/s: static %.1f, orca %.1f, vllm %.1f; e2e p50: %.3f, %.3f, %.3f s",
	            tput[0], tput[1], tput[2], e2e[0], e2e[1], e2e[2]);
	for (int i = 1; i < 3; i++) {
		cr_expect_gt(tput[i], 1.2 * tput[0], "%s %.1f tokens/s against static %.1f", pol[i],
		             tput[i], tput[0]);
		cr_expect_lt(e2e[i], e2e[0], "%s e2e p50 %.3f s against static %.3f", pol[i],
		             e2e[i], e2e[0]);
	}
	xpu_requests_free(&rq);
}

Test(serve, sarathi_lowers_tbt_p99_against_vllm)
{
	/* mixed prompt lengths: vLLM's prompt steps stall every running decode */
	struct xpu_requests rq = gen(300, 12, 800, 1.2, 120, 0.6, 5);
	const char *pf = gpu_platform(1, "80GB");
	double tbt[2];
	const char *pol[2] = {"vllm", "sarathi"};
	for (int i = 0; i < 2; i++) {
		struct xpu_serving_opts o = base_opts(pf, &rq);
		o.serve = pol[i];
		struct report r;
		serve_forked(&o, &r);
		cr_assert_eq(r.rc, 0, "%s", r.err);
		cr_assert(r.all_done);
		tbt[i] = metric(&r, "tbt_p99_s");
	}
	cr_expect_lt(tbt[1], 0.5 * tbt[0], "sarathi TBT p99 %.4f s, vllm %.4f s", tbt[1], tbt[0]);
	cr_log_info("TBT p99: vllm %.4f s, sarathi %.4f s", tbt[0], tbt[1]);
	xpu_requests_free(&rq);
}

Test(serve, disaggregation_raises_goodput_under_tight_slos)
{
	/* two GPUs: colocated vLLM replicas against one prefill and one decode GPU, the
	 * KV cache crossing the link; a tight TBT target that prompt steps break */
	struct xpu_requests rq = gen(300, 6, 1500, 0.5, 150, 0.5, 9);
	const char *pf = gpu_platform(2, "80GB");
	double good[2];
	uint64_t moved = 0;
	for (int i = 0; i < 2; i++) {
		struct xpu_serving_opts o = base_opts(pf, &rq);
		o.serve = i ? "splitwise" : "vllm";
		o.deploy = i ? "prefill=gpu0;decode=gpu1" : "gpu";
		o.slo_ttft = 1.0;
		o.slo_tbt = 0.025;
		struct report r;
		serve_forked(&o, &r);
		cr_assert_eq(r.rc, 0, "%s", r.err);
		cr_assert(r.all_done);
		good[i] = metric(&r, "goodput_rps");
		if (i)
			moved = r.migrations;
	}
	cr_expect_eq(moved, rq.n, "every request's cache moved once");
	cr_expect_gt(good[1], good[0], "splitwise goodput %.3f/s, vllm %.3f/s", good[1], good[0]);
	cr_log_info("goodput: vllm %.3f/s, splitwise %.3f/s", good[0], good[1]);
	xpu_requests_free(&rq);
}

/* ------------------------------------------------------------------ routers */

Test(serve, routers_spread_and_repeat)
{
	struct xpu_requests rq = gen(200, 50, 300, 0.5, 60, 0.5, 2);
	const char *pf = gpu_platform(4, "80GB");
	const char *routers[] = {"round-robin", "least-outstanding", "jsq-tokens", "p2c"};
	for (size_t i = 0; i < 4; i++) {
		struct report a, b;
		struct xpu_serving_opts o = base_opts(pf, &rq);
		o.router = routers[i];
		o.seed = 5;
		serve_forked(&o, &a);
		serve_forked(&o, &b);
		cr_assert_eq(a.rc, 0, "%s: %s", routers[i], a.err);
		cr_expect(a.all_done);
		cr_expect(memcmp(&a.s, &b.s, sizeof(a.s)) == 0, "%s: same seed, same summary",
		          routers[i]);
	}
	xpu_requests_free(&rq);
}

/* ------------------------------------------------------------------ refusals */

Test(serve, oversized_deployment_and_request_refused)
{
	struct xpu_request one = {
	    .id = "big", .arrival = 0, .prompt = 100, .output = 10, .line = 2};
	struct xpu_requests rq = {.n = 1, .v = &one};
	struct xpu_serving_opts o = base_opts(gpu_platform(1, "8GB"), &rq);
	struct report r;
	serve_forked(&o, &r);
	cr_expect_eq(r.rc, -EINVAL);
	cr_expect(strstr(r.err, "does not fit") && strstr(r.err, "gpu0") && strstr(r.err, "GB"),
	          "%s", r.err);

	one.prompt = 20000;
	one.output = 20000;
	o = base_opts(gpu_platform(1, "16GB"), &rq);
	serve_forked(&o, &r);
	cr_expect_eq(r.rc, -EINVAL);
	cr_expect(strstr(r.err, "request 'big'") && strstr(r.err, "KV cache"), "%s", r.err);

	o = base_opts(gpu_platform(2, "80GB"), &rq);
	one.prompt = 10;
	one.output = 10;
	o.serve = "splitwise";
	serve_forked(&o, &r);
	cr_expect_eq(r.rc, -EINVAL, "splitwise without roles is refused");
	cr_expect(strstr(r.err, "prefill="), "%s", r.err);
}

Test(serve, cli_writes_requests_and_summary)
{
	const char *d = xt_tmpdir();
	char req[512], h5[512], cmd[4096], out[8192];
	snprintf(req, sizeof(req), "%s/r.csv", d);
	snprintf(h5, sizeof(h5), "%s/s.h5", d);
	cr_assert_eq(xt_cmd(NULL, 0, "gen requests --count 50 --rate 10 -o %s", req), 0);
	snprintf(cmd, sizeof(cmd),
	         "run --serve sarathi --model llama-2-7b --deploy gpu:tp=2 "
	         "--platform %s --trace %s -o %s",
	         xt_src("platforms/datacenter-h100.xml"), req, h5);
	cr_assert_eq(xt_cmd(out, sizeof(out), "%s", cmd), 0);
	cr_expect(strstr(out, "requests_done 50\n"), "%s", out);
	cr_expect(strstr(out, "ttft_p90_s "));
	cr_expect(strstr(out, "tbt_p99_s "));
	hid_t f = H5Fopen(h5, H5F_ACC_RDONLY, H5P_DEFAULT);
	cr_assert_geq(f, 0);
	hid_t ds = H5Dopen2(f, "/requests/ttft", H5P_DEFAULT);
	cr_assert_geq(ds, 0);
	hid_t sp = H5Dget_space(ds);
	hsize_t n = 0;
	H5Sget_simple_extent_dims(sp, &n, NULL);
	cr_expect_eq(n, 50);
	double v[50];
	H5Dread(ds, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, v);
	for (int i = 0; i < 50; i++)
		cr_expect(v[i] > 0 && isfinite(v[i]));
	H5Sclose(sp);
	H5Dclose(ds);
	cr_expect(H5Lexists(f, "/kv/used", H5P_DEFAULT) > 0);
	H5Fclose(f);
	cr_expect_eq(xt_cmd(out, sizeof(out), "summary %s", h5), 0);
	cr_expect(strstr(out, "tokens_per_s "), "%s", out);
	if (system("gnuplot --version >/dev/null 2>&1") == 0) {
		char png[600];
		snprintf(png, sizeof(png), "%s/lat.png", d);
		cr_expect_eq(xt_cmd(NULL, 0, "plot latency %s %s -m e2e -o %s", h5, h5, png), 0);
		cr_expect_eq(access(png, R_OK), 0);
		snprintf(png, sizeof(png), "%s/kv.png", d);
		cr_expect_eq(xt_cmd(NULL, 0, "plot kv %s -o %s", h5, png), 0);
		cr_expect_eq(access(png, R_OK), 0);
		cr_expect_eq(xt_cmd(NULL, 0, "plot latency %s -m nope -o %s", h5, png), 2);
	}
	/* options of serving only are refused without --serve, and the reverse */
	cr_expect_eq(xt_cmd(NULL, 0, "run --model llama-2-7b -o -"), 2);
	cr_expect_eq(xt_cmd(NULL, 0, "run --serve vllm --sched heft --trace %s -o -", req), 2);
	cr_expect_eq(xt_cmd(NULL, 0, "run --serve nope --trace %s -o -", req), 2);
	cr_expect_eq(xt_cmd(NULL, 0, "run --serve vllm --model gpt-9 --trace %s -o -", req), 2);
}

Test(serve, azure_code_trace_replays)
{
	const char *t = xt_src("../shared/traces/llm/AzureLLMInferenceTrace_code.csv");
	if (access(t, R_OK))
		cr_skip_test("../shared/traces/llm is absent (a fresh clone has no shared data)");
	struct xpu_requests rq;
	struct xpu_err err = {{0}};
	cr_assert_eq(xpu_requests_read(t, &rq, &err), 0, "%s", err.msg);
	cr_expect_eq(rq.n, 8819);
	cr_expect_str_eq(rq.format, "azure");
	cr_expect_eq(rq.v[0].arrival, 0);
	struct xpu_serving_opts o = base_opts(xt_src("platforms/datacenter-h100.xml"), &rq);
	struct report r;
	serve_forked(&o, &r);
	cr_assert_eq(r.rc, 0, "%s", r.err);
	cr_expect(r.all_done);
	cr_expect_eq(metric(&r, "requests_done"), 8819);
	xpu_requests_free(&rq);
}

/* ------------------------------------------------------------------ llm bench, capacity */

Test(serve, llm_bench_key_values_and_lpu_against_gpu)
{
	char out[8192], out2[8192];
	cr_assert_eq(xt_cmd(out, sizeof(out),
	                    "llm bench --platform %s --model llama-2-7b --kind gpu --batch 8",
	                    xt_src("platforms/datacenter-h100.xml")),
	             0);
	double pre = kv_value(out, "prefill_tokens_per_s"),
	       dec = kv_value(out, "decode_tokens_per_s");
	double ttft = kv_value(out, "ttft_s"), jpt = kv_value(out, "joules_per_token");
	double dsat = kv_value(out, "decode_tokens_per_s_saturation");
	cr_expect(pre > dec && dec > 0 && ttft > 0 && jpt > 0, "%s", out);
	cr_expect_gt(dsat, 4 * dec, "batching raises decode throughput: %s", out);
	/* batch-1 decode on one H100 is bound by reading 13.5 GB at 3.35 TB/s */
	cr_expect(dec > 0.8 * 3.35e12 / 13.5e9 && dec < 3.35e12 / 13.5e9, "%g tokens/s", dec);
	/* Groq's selling point, from the platform alone: a 7B model's per-user decode on
	 * LPUs (weights in SRAM) beats one H100's */
	cr_assert_eq(xt_cmd(out2, sizeof(out2), "llm bench --platform %s --model llama-2-7b",
	                    xt_src("platforms/groq-576.xml")),
	             0);
	double lpu = kv_value(out2, "decode_tokens_per_s");
	cr_expect_gt(lpu, 3 * dec, "LPU %g tokens/s against H100 %g", lpu, dec);
	cr_log_info("llm bench decode at batch 1: groq-576 %.0f tokens/s (public ~750), one H100 "
	            "%.0f",
	            lpu, dec);
}

Test(serve, llm_capacity_meets_its_targets_and_grows_with_them)
{
	char a[4096], b[4096];
	const char *pf = xt_src("platforms/datacenter-h100.xml");
	cr_assert_eq(xt_cmd(a, sizeof(a),
	                    "llm capacity --platform %s --deploy gpu0 --count 150 --slo-ttft 0.5 "
	                    "--slo-tbt 0.05",
	                    pf),
	             0);
	cr_assert_eq(xt_cmd(b, sizeof(b),
	                    "llm capacity --platform %s --deploy gpu0 --count 150 --slo-ttft 2 "
	                    "--slo-tbt 0.2",
	                    pf),
	             0);
	double ca = kv_value(a, "capacity_rps"), cb = kv_value(b, "capacity_rps");
	cr_expect(ca > 0 && cb >= ca, "tight %g/s, loose %g/s", ca, cb);
	cr_expect_leq(kv_value(a, "ttft_p90_s"), 0.5);
	cr_expect_leq(kv_value(a, "tbt_p99_s"), 0.05);
	cr_expect_eq(xt_cmd(NULL, 0, "llm capacity --platform %s --slo-ttft 1", pf), 2);
}

/* ------------------------------------------------------------------ studies */

Test(serve, study_runs_serving_sets)
{
	char cfg[8192], req[4096];
	const char *d = xt_tmpdir();
	snprintf(req, sizeof(req), "%s/r.csv", d);
	cr_assert_eq(xt_cmd(NULL, 0, "gen requests --count 40 --rate 20 -o %s", req), 0);
	snprintf(cfg, sizeof(cfg),
	         "name = \"s\";\nplatforms = [ \"%s\" ];\ntraces = [ \"%s\" ];\nseeds = [ 1 ];\n"
	         "policies = (\n"
	         "  { name = \"v\"; serve = \"vllm\"; deploy = \"auto:replicas=1\"; },\n"
	         "  { name = \"s\"; serve = \"sarathi:chunk=256\"; router = \"p2c\"; "
	         "model = \"llama-3.2-1b\"; }\n);\n",
	         xt_src("platforms/datacenter-h100.xml"), req);
	const char *f = xt_write_file("serve.cfg", cfg);
	struct xpu_study st;
	struct xpu_err err = {{0}};
	cr_assert_eq(xpu_study_load(f, NULL, 0, &st, &err), 0, "%s", err.msg);
	cr_assert_eq(st.nsets, 2);
	cr_expect_str_eq(st.sets[0].serve, "vllm");
	cr_expect_str_eq(st.sets[0].router, "round-robin");
	cr_expect_str_eq(st.sets[0].model, "llama-2-7b");
	cr_expect_str_eq(st.sets[0].deploy, "auto:replicas=1");
	cr_expect_str_eq(st.sets[1].model, "llama-3.2-1b");
	cr_expect_null(st.sets[1].deploy);
	xpu_study_free(&st);
	char out[8192];
	cr_assert_eq(xt_cmd(NULL, 0, "study -q -o %s/st %s", d, f), 0);
	cr_assert_eq(xt_cmd(out, sizeof(out), "compare %s/st", d), 0);
	cr_expect(strstr(out, "tokens_per_s") && strstr(out, "tbt_p99_s"), "%s", out);

	/* a serving set takes no task policy, no sweep, and checks its names */
	const char *bad[] = {
	    "{ name = \"x\"; serve = \"vllm\"; sched = \"heft\"; }",
	    "{ name = \"x\"; serve = \"vllm\"; sweep = { sched = { a = 1; }; }; }",
	    "{ name = \"x\"; serve = \"nope\"; }",
	    "{ name = \"x\"; serve = \"vllm\"; router = \"nope\"; }",
	    "{ name = \"x\"; router = \"p2c\"; }",
	    "{ name = \"x\"; serve = 3; }",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(cfg, sizeof(cfg),
		         "name = \"s\";\nplatforms = [ \"%s\" ];\ntraces = [ \"%s\" ];\n"
		         "policies = ( %s );\n",
		         xt_src("platforms/datacenter-h100.xml"), req, bad[i]);
		f = xt_write_file("bad.cfg", cfg);
		memset(&err, 0, sizeof(err));
		cr_expect_eq(xpu_study_load(f, NULL, 0, &st, &err), -EINVAL, "case %zu", i);
		cr_expect(strstr(err.msg, "bad.cfg:"), "%zu: %s", i, err.msg);
	}
}

/* ------------------------------------------------------------------ deadlines */

Test(serve, speech_deadlines_on_the_phone_npu)
{
	/* 16 speakers sending 2 s chunks (each due before the next) and long background
	 * requests without deadlines, on the Snapdragon's Hexagon NPU serving a
	 * Whisper-class model four requests at a time: admitting by deadline keeps most
	 * chunks on time where arrival order lets the background requests in first */
	const char *d = xt_tmpdir();
	char sp[512], bg[512], mix[512], out[8192];
	snprintf(sp, sizeof(sp), "%s/sp.csv", d);
	snprintf(bg, sizeof(bg), "%s/bg.csv", d);
	snprintf(mix, sizeof(mix), "%s/mix.csv", d);
	cr_assert_eq(xt_cmd(NULL, 0, "gen speech --streams 16 --duration 60 -o %s", sp), 0);
	cr_assert_eq(xt_cmd(NULL, 0,
	                    "gen requests --count 30 --rate 0.5 --prompt_tokens 2000 "
	                    "--prompt_sigma 0.3 --output_tokens 200 --output_sigma 0.3 -o %s",
	                    bg),
	             0);
	FILE *m = fopen(mix, "w"), *a = fopen(sp, "r"), *b = fopen(bg, "r");
	cr_assert(m && a && b);
	char line[256];
	while (fgets(line, sizeof(line), a))
		fputs(line, m);
	int first = 1;
	while (fgets(line, sizeof(line), b)) {
		if (!first)
			fprintf(m, "bg%s", line + 1); /* ids g0.. become bg0.. */
		first = 0;
	}
	fclose(a);
	fclose(b);
	fclose(m);
	double miss[2];
	const char *pol[2] = {"vllm:batch=4", "vllm:batch=4,order=deadline"};
	for (int i = 0; i < 2; i++) {
		cr_assert_eq(
		    xt_cmd(out, sizeof(out),
		           "run --serve %s --model whisper-large-v2 --platform %s --deploy "
		           "npu --trace %s -o -",
		           pol[i], xt_src("platforms/snapdragon-8gen3.xml"), mix),
		    0);
		miss[i] = kv_value(out, "deadline_misses");
		cr_expect_eq(kv_value(out, "requests_done"), 16 * 30 + 30, "%s", out);
	}
	cr_expect(miss[1] < 0.5 * miss[0], "misses: arrival order %g, deadline order %g", miss[0],
	          miss[1]);
	cr_log_info("speech on the NPU: %g deadline misses in arrival order, %g by deadline",
	            miss[0], miss[1]);
}

/* ------------------------------------------------------------------ calibration */

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static double median_of(double *v, size_t n)
{
	qsort(v, n, sizeof(double), cmp_d);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

Test(serve, vidur_profile_calibrates_the_a100_within_10_percent, .timeout = 120)
{
	const char *prof = xt_src("../shared/traces/profiles/vidur_a100_Llama-2-7b_mlp.csv");
	if (access(prof, R_OK))
		cr_skip_test(
		    "../shared/traces/profiles is absent (a fresh clone has no shared data)");
	/* 1. calibrate: xpuopt profile gives the A100's gemm efficiency over the runs of at
	 *    least 1024 tokens (its default) */
	char out[16384];
	cr_assert_eq(xt_cmd(out, sizeof(out), "profile %s --peak 312Tf", prof), 0);
	const char *e = strstr(out, "gemm_efficiency ");
	cr_assert_not_null(e, "%s", out);
	double eff = strtod(e + 16, NULL);
	cr_assert(eff > 0.3 && eff < 1, "%g", eff);
	/* 2. the calibrated platform: one A100 (312 Tflop/s dense FP16 tensor, NVIDIA A100
	 *    datasheet) running gemm at that efficiency */
	char xml[2048];
	snprintf(xml, sizeof(xml),
	         "<?xml version='1.0'?>\n<!DOCTYPE platform SYSTEM "
	         "\"https://simgrid.org/simgrid.dtd\">\n<platform version=\"4.1\"><zone id=\"z\" "
	         "routing=\"Full\"><host id=\"a100\" speed=\"19.5Tf\" core=\"1\">"
	         "<prop id=\"xpu.kind\" value=\"gpu\"/><prop id=\"xpu.mem\" value=\"80GB\"/>"
	         "<prop id=\"xpu.class.gemm\" value=\"312Tf@%.4f\"/></host></zone></platform>\n",
	         eff);
	const char *pf = xt_write_file("a100.xml", xml);
	/* 3. every projection run of the profile as a task of its shapes' work */
	struct xpu_vidur v;
	struct xpu_err err = {{0}};
	cr_assert_eq(xpu_vidur_open(&v, prof, XPU_VIDUR_MEDIAN, &err), 0, "%s", err.msg);
	const char *ops[4] = {"attn_pre_proj", "attn_post_proj", "mlp_up_proj", "mlp_down_proj"};
	size_t cap = 8192, n = 0;
	double *meas = malloc(cap * sizeof(double));
	int *opof = malloc(cap * sizeof(int));
	char trace[512];
	snprintf(trace, sizeof(trace), "%s/ops.csv", xt_tmpdir());
	FILE *t = fopen(trace, "w");
	cr_assert(t && meas && opof);
	fprintf(t, "id,class,flops\n");
	int rc;
	while ((rc = xpu_vidur_next(&v, &err)) == 1) {
		double shape[XPU_VIDUR_NSHAPES];
		for (int s = 0; s < XPU_VIDUR_NSHAPES; s++)
			cr_assert_eq(xpu_vidur_shape(&v, s, &shape[s], &err), 0, "%s", err.msg);
		if (!(shape[XPU_VIDUR_TOKENS] >= 1024))
			continue;
		for (int o = 0; o < v.nops; o++)
			for (int k = 0; k < 4; k++) {
				double f = xpu_vidur_flops(v.op[o], shape);
				if (strcmp(v.op[o], ops[k]) || !isfinite(f) || !(v.ms[o] > 0))
					continue;
				cr_assert_lt(n, cap);
				meas[n] = v.ms[o] / 1e3;
				opof[n] = k;
				fprintf(t, "t%zu,gemm,%.17g\n", n, f);
				n++;
			}
	}
	cr_assert_eq(rc, 0, "%s", err.msg);
	xpu_vidur_close(&v);
	fclose(t);
	cr_assert_gt(n, 1000);
	/* 4. simulated through SimGrid */
	struct xpu_run_opts o = {.platform = pf, .trace = trace, .sched = "fifo", .quiet = 1};
	char h5[600];
	snprintf(h5, sizeof(h5), "%s/ops.h5", xt_tmpdir());
	cr_assert_eq(xt_run_forked(&o, h5), 0);
	double *st, *en;
	cr_assert_eq(xt_read_column(h5, "start", &st), n);
	cr_assert_eq(xt_read_column(h5, "end", &en), n);
	/* 5. per operator: the median simulated duration against the profile's median */
	double *a = malloc(n * sizeof(double)), *b = malloc(n * sizeof(double));
	double *rel = malloc(n * sizeof(double));
	for (size_t i = 0; i < n; i++)
		rel[i] = fabs((en[i] - st[i]) - meas[i]) / meas[i];
	for (int k = 0; k < 4; k++) {
		size_t m = 0;
		for (size_t i = 0; i < n; i++)
			if (opof[i] == k) {
				a[m] = en[i] - st[i];
				b[m++] = meas[i];
			}
		double sim = median_of(a, m), real = median_of(b, m);
		cr_expect(fabs(sim - real) / real < 0.10,
		          "%s: simulated median %.4g ms, profiled %.4g ms", ops[k], sim * 1e3,
		          real * 1e3);
		cr_log_info("%s: %zu runs, simulated median %.4g ms, profiled %.4g ms (%+.1f%%)",
		            ops[k], m, sim * 1e3, real * 1e3, 100 * (sim - real) / real);
	}
	cr_log_info("per run: median error %.1f%% over %zu runs (efficiency %.4f)",
	            100 * median_of(rel, n), n, eff);
	free(a);
	free(b);
	free(rel);
	free(st);
	free(en);
	free(meas);
	free(opof);
}
