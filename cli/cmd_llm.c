/* cmd_llm.c — `xpuopt llm models`: the LLM model catalogue and what follows from each
 * model's architecture (traces/models.h). */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"
#include "models.h"
#include "serving.h"

static void llm_usage(FILE *f)
{
	fputs("usage: xpuopt llm models [--catalogue FILE] [--context N]\n"
	      "       xpuopt llm bench [options]     (see xpuopt llm bench --help)\n"
	      "       xpuopt llm capacity [options]  (see xpuopt llm capacity --help)\n"
	      "\n"
	      "List the LLM model catalogue (default: the bundled traces/models.csv; format in\n"
	      "traces/FORMAT.md, \"Model catalogue\") with what follows from each architecture:\n"
	      "parameters derived from the layers (against the published count), the\n"
	      "parameters one token uses (mixtures of experts), weight bytes, KV-cache bytes\n"
	      "per token, and one decode step's flops and bytes at a context of N tokens.\n"
	      "\n"
	      "  -c, --catalogue FILE  the catalogue to read\n"
	      "  -n, --context N       decode context in tokens (default 1024)\n"
	      "  -h, --help            show this help\n"
	      "\n"
	      "Exit status: 0, or 2 for bad usage or a bad catalogue (file, line and field\n"
	      "named).\n",
	      f);
}

static int llm_models(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"catalogue", required_argument, NULL, 'c'},
	    {"context", required_argument, NULL, 'n'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *cat = NULL;
	double ctx = 1024;
	int c;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+:c:n:h", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			cat = optarg;
			break;
		case 'n': {
			char *end;
			ctx = strtod(optarg, &end);
			if (end == optarg || *end || !(ctx >= 0) || ctx > 1e9)
				return xpu_cli_bad_usage_quoted(
				    "llm", "--context: expected a token count from 0 to 1e9",
				    optarg);
			break;
		}
		case 'h':
			llm_usage(stdout);
			return 0;
		case ':':
			return xpu_cli_bad_usage("llm", "option '%s' needs a value",
			                         argv[optind - 1]);
		default:
			return xpu_cli_bad_usage("llm", "unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind + 1 < argc)
		return xpu_cli_bad_usage_quoted("llm", "unexpected argument", argv[optind + 1]);
	char buf[4096];
	if (!cat)
		cat = xpu_cli_bundled("traces/models.csv", buf, sizeof(buf));
	struct xpu_model *m;
	size_t n;
	struct xpu_err err = {{0}};
	if (xpu_models_read(cat, &m, &n, &err)) {
		fprintf(stderr, "xpuopt: %s\n", err.msg);
		return 2;
	}
	printf("%-18s %10s %10s %7s %10s %10s %12s %14s %14s\n", "model", "params_B", "published",
	       "diff_%", "active_B", "weights_GB", "kv_KiB/token", "decode_GFLOP", "decode_GB");
	for (size_t i = 0; i < n; i++) {
		double p = xpu_model_params(&m[i]);
		printf("%-18s %10.3f %10.3f %+7.2f %10.3f %10.2f %12.1f %14.2f %14.3f\n", m[i].name,
		       p / 1e9, m[i].published / 1e9, 100 * (p - m[i].published) / m[i].published,
		       xpu_model_active_params(&m[i]) / 1e9, xpu_model_weight_bytes(&m[i]) / 1e9,
		       xpu_model_kv_bytes_per_token(&m[i]) / 1024,
		       xpu_model_decode_flops(&m[i], ctx) / 1e9,
		       xpu_model_decode_bytes(&m[i], ctx) / 1e9);
	}
	printf("(decode at a context of %.0f tokens)\n", ctx);
	free(m);
	return 0;
}

/* ------------------------------------------------------------------ llm bench */

static void bench_usage(FILE *f)
{
	fputs("usage: xpuopt llm bench [--platform FILE] [--model NAME]... [--kind KIND]\n"
	      "                        [--prompt N] [--output N] [--batch N] [--catalogue FILE]\n"
	      "\n"
	      "Benchmark LLM inference on a platform's unit kinds, from the model and the\n"
	      "platform alone (simulated serving runs through SimGrid). For each unit kind\n"
	      "that runs llm-prefill and llm-decode, and each model that fits on its units\n"
	      "(the default deployment: the fewest units whose memory holds the weights),\n"
	      "one replica is measured:\n"
	      "  batch 1: one request of --prompt and --output tokens: prefill tokens/s\n"
	      "           (prompt / TTFT), decode tokens/s (1 / time per output token),\n"
	      "           TTFT, joules per generated token;\n"
	      "  saturation: --batch such requests at once, static batching (as many as the\n"
	      "           KV cache holds, at most --batch): prefill and decode tokens/s.\n"
	      "The table compares each kind's decode speed with the fastest's. With one\n"
	      "--model and one --kind (or a platform with one such kind) it prints `key\n"
	      "value` lines instead: prefill_tokens_per_s, decode_tokens_per_s, ttft_s,\n"
	      "joules_per_token, and the saturation figures.\n"
	      "\n"
	      "  -p, --platform FILE   platform (default: the bundled default.xml)\n"
	      "  -m, --model NAME      a catalogue model, NAME:bytes=B for B bytes per weight;\n"
	      "                        repeatable (default: every model of the catalogue)\n"
	      "  -k, --kind KIND       only this unit kind\n"
	      "      --prompt N        prompt tokens (default 512)\n"
	      "      --output N        output tokens (default 128)\n"
	      "      --batch N         requests at saturation (default 32)\n"
	      "  -c, --catalogue FILE  model catalogue (default: the bundled one)\n"
	      "  -h, --help            show this help\n"
	      "\n"
	      "Exit status: 0, 1 when a run failed, 2 for bad usage or input.\n",
	      f);
}

struct bench_row {
	int rc, fits;
	char err[1024];
	char deploy[64];
	double ttft, prefill_b1, decode_b1, jpt_b1;
	double prefill_sat, decode_sat, jpt_sat;
	uint32_t batch;
};

/* One serving run in a child (SimGrid allows one engine per process). */
static int run_child(struct xpu_serving_opts *o, struct xpu_summary *s, double *first, double *end,
                     uint32_t *nrep_units, char *err, size_t errn)
{
	int fd[2];
	fflush(stdout);
	fflush(stderr);
	if (pipe(fd))
		return -errno;
	pid_t pid = fork();
	if (pid < 0) {
		close(fd[0]);
		close(fd[1]);
		return -errno;
	}
	struct msg {
		int rc;
		char err[1024];
		struct xpu_summary s;
		double first, end;
		uint32_t units;
	} m;
	if (pid == 0) {
		close(fd[0]);
		memset(&m, 0, sizeof(m));
		struct xpu_err e = {{0}};
		struct xpu_serving_result res;
		m.rc = xpu_serving_run(o, &res, &e);
		snprintf(m.err, sizeof(m.err), "%s", e.msg);
		if (!m.rc) {
			m.s = res.out.summary;
			m.first = INFINITY;
			m.end = 0;
			for (uint32_t i = 0; i < res.req.n; i++) {
				if (res.req.v[i].first_token_t < m.first)
					m.first = res.req.v[i].first_token_t;
				if (res.req.v[i].end_t > m.end)
					m.end = res.req.v[i].end_t;
			}
			m.units = (uint32_t)(res.rep[0].tp * res.rep[0].pp);
			xpu_serving_result_free(&res);
		}
		ssize_t w = write(fd[1], &m, sizeof(m));
		_exit(w == (ssize_t)sizeof(m) ? 0 : 3);
	}
	close(fd[1]);
	size_t got = 0;
	while (got < sizeof(m)) {
		ssize_t n = read(fd[0], (char *)&m + got, sizeof(m) - got);
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fd[0]);
	int st;
	waitpid(pid, &st, 0);
	if (got != sizeof(m) || !WIFEXITED(st) || WEXITSTATUS(st)) {
		snprintf(err, errn, "a benchmark run died");
		return -EIO;
	}
	snprintf(err, errn, "%s", m.err);
	if (m.rc)
		return m.rc;
	*s = m.s;
	*first = m.first;
	*end = m.end;
	*nrep_units = m.units;
	return 0;
}

static void bench_one(const char *platform, const char *catalogue, const char *model, int kind,
                      uint32_t prompt, uint32_t output, uint32_t batch, struct bench_row *row)
{
	char deploy[64];
	snprintf(deploy, sizeof(deploy), "%s:replicas=1", xpu_kind_name(kind));
	memset(row, 0, sizeof(*row));
	struct xpu_request one[1] = {{.id = "b1", .prompt = prompt, .output = output}};
	struct xpu_requests rq = {.n = 1, .v = one};
	struct xpu_serving_opts o = {.platform = platform,
	                             .reqs = &rq,
	                             .catalogue = catalogue,
	                             .model = model,
	                             .deploy = deploy,
	                             .serve = "static:reserve=exact",
	                             .watermark = 0};
	struct xpu_summary s;
	double first, end;
	uint32_t units;
	row->rc = run_child(&o, &s, &first, &end, &units, row->err, sizeof(row->err));
	if (row->rc) {
		row->fits = !strstr(row->err, "does not fit") && !strstr(row->err, "KV cache");
		return;
	}
	row->fits = 1;
	snprintf(row->deploy, sizeof(row->deploy), "%u %s", units, xpu_kind_name(kind));
	row->ttft = first;
	row->prefill_b1 = prompt / first;
	row->decode_b1 = output > 1 ? (output - 1) / (end - first) : NAN;
	row->jpt_b1 = xpu_summary_get(&s, "joules_per_token");
	/* saturation: as many requests as the cache holds, at most batch */
	struct xpu_request *v = calloc(batch, sizeof(*v));
	if (!v) {
		row->rc = -ENOMEM;
		return;
	}
	uint32_t b = batch;
	for (;;) {
		for (uint32_t i = 0; i < b; i++)
			v[i] =
			    (struct xpu_request){.id = "sat", .prompt = prompt, .output = output};
		rq = (struct xpu_requests){.n = b, .v = v};
		char sb[64];
		snprintf(sb, sizeof(sb), "static:reserve=exact,batch=%u", b);
		o.serve = sb;
		int rc = run_child(&o, &s, &first, &end, &units, row->err, sizeof(row->err));
		if (rc == 0 || b == 1 || !strstr(row->err, "KV cache")) {
			row->rc = rc;
			break;
		}
		b /= 2;
	}
	free(v);
	if (row->rc)
		return;
	row->err[0] = '\0';
	row->batch = b;
	row->prefill_sat = (double)b * prompt / first;
	row->decode_sat = output > 1 ? (double)b * (output - 1) / (end - first) : NAN;
	row->jpt_sat = xpu_summary_get(&s, "joules_per_token");
}

static int parse_count(const char *opt, const char *v, uint32_t lo, uint32_t hi, uint32_t *out)
{
	char *end;
	long long x = strtoll(v, &end, 10);
	if (end == v || *end || x < lo || x > hi) {
		char msg[128];
		snprintf(msg, sizeof(msg), "%s: expected a whole number from %u to %u", opt, lo,
		         hi);
		return xpu_cli_bad_usage_quoted("llm bench", msg, v);
	}
	*out = (uint32_t)x;
	return 0;
}

static int llm_bench(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"platform", required_argument, NULL, 'p'},
	    {"model", required_argument, NULL, 'm'},
	    {"kind", required_argument, NULL, 'k'},
	    {"prompt", required_argument, NULL, 1},
	    {"output", required_argument, NULL, 2},
	    {"batch", required_argument, NULL, 3},
	    {"catalogue", required_argument, NULL, 'c'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *platform = NULL, *cat = NULL, *models[64];
	int nmodels = 0, only = -1, c;
	uint32_t prompt = 512, output = 128, batch = 32;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":p:m:k:c:h", opts, NULL)) != -1) {
		switch (c) {
		case 'p':
			platform = optarg;
			break;
		case 'm':
			if (nmodels == 64)
				return xpu_cli_bad_usage("llm bench", "%s", "at most 64 --model");
			models[nmodels++] = optarg;
			break;
		case 'k':
			if ((only = xpu_kind_parse(optarg)) < 0)
				return xpu_cli_bad_usage_quoted(
				    "llm bench", "--kind: unknown unit kind", optarg);
			break;
		case 'c':
			cat = optarg;
			break;
		case 1:
		case 2:
		case 3:
			if (parse_count(c == 1   ? "--prompt"
			                : c == 2 ? "--output"
			                         : "--batch",
			                optarg, 1, c == 3 ? 4096 : 1000000,
			                c == 1   ? &prompt
			                : c == 2 ? &output
			                         : &batch))
				return 2;
			break;
		case 'h':
			bench_usage(stdout);
			return 0;
		case ':':
			return xpu_cli_bad_usage("llm bench", "option '%s' needs a value",
			                         argv[optind - 1]);
		default:
			return xpu_cli_bad_usage("llm bench", "unknown option '%s'",
			                         argv[optind - 1]);
		}
	}
	if (optind < argc)
		return xpu_cli_bad_usage_quoted("llm bench", "unexpected argument", argv[optind]);
	char pbuf[4096], cbuf[4096];
	if (!platform)
		platform = xpu_cli_bundled("platforms/default.xml", pbuf, sizeof(pbuf));
	if (!cat)
		cat = xpu_cli_bundled("traces/models.csv", cbuf, sizeof(cbuf));
	struct xpu_err err = {{0}};
	struct xpu_model *cm = NULL;
	size_t ncm = 0;
	if (xpu_models_read(cat, &cm, &ncm, &err)) {
		fprintf(stderr, "xpuopt: %s\n", err.msg);
		return 2;
	}
	static char names[64][64];
	if (!nmodels)
		for (size_t i = 0; i < ncm && nmodels < 64; i++) {
			snprintf(names[nmodels], sizeof(names[0]), "%s", cm[i].name);
			models[nmodels] = names[nmodels];
			nmodels++;
		}
	free(cm);
	for (int i = 0; i < nmodels; i++) { /* a typo costs no run */
		struct xpu_llm m;
		if (xpu_serving_model(cat, models[i], &m, &err)) {
			fprintf(stderr, "xpuopt: %s\n", err.msg);
			return 2;
		}
	}
	/* the platform's kinds that run both phases: read in a child too, as opening a
	 * SimGrid platform starts an engine */
	int kinds[XPU_KIND_COUNT], nk = 0;
	{
		int fd[2];
		fflush(stdout);
		if (pipe(fd))
			return 1;
		pid_t pid = fork();
		if (pid == 0) {
			close(fd[0]);
			struct xpu_platform pf;
			struct xpu_err e = {{0}};
			int have[XPU_KIND_COUNT + 1] = {0};
			struct xpu_backend be = {.ops = &xpu_backend_sim};
			int rc = be.ops->open(&be, platform, &pf, &e);
			if (rc == 0) {
				for (int u = 0; u < pf.nunits; u++)
					if (xpu_unit_rate(&pf.units[u], XPU_CLASS_LLM_PREFILL, 0) >
					        0 &&
					    xpu_unit_rate(&pf.units[u], XPU_CLASS_LLM_DECODE, 0) >
					        0)
						have[pf.units[u].kind] = 1;
				be.ops->close(&be);
			} else {
				have[XPU_KIND_COUNT] = -1;
				fprintf(stderr, "xpuopt: %s\n", e.msg);
			}
			ssize_t w = write(fd[1], have, sizeof(have));
			_exit(w == (ssize_t)sizeof(have) ? 0 : 3);
		}
		close(fd[1]);
		int have[XPU_KIND_COUNT + 1] = {0};
		ssize_t got = read(fd[0], have, sizeof(have));
		close(fd[0]);
		int st;
		waitpid(pid, &st, 0);
		if (got != (ssize_t)sizeof(have) || have[XPU_KIND_COUNT] < 0)
			return 2;
		for (int k = 0; k < XPU_KIND_COUNT; k++)
			if (have[k] && (only < 0 || only == k))
				kinds[nk++] = k;
	}
	if (!nk) {
		fprintf(stderr, "xpuopt: %s: no unit %s%s runs llm-prefill and llm-decode\n",
		        platform, only >= 0 ? "of kind " : "",
		        only >= 0 ? xpu_kind_name(only) : "");
		return 2;
	}
	int status = 0;
	if (nmodels == 1 && nk == 1) {
		struct bench_row r;
		bench_one(platform, cat, models[0], kinds[0], prompt, output, batch, &r);
		if (r.rc) {
			fprintf(stderr, "xpuopt: %s\n", r.err);
			return r.rc == -EINVAL ? 2 : 1;
		}
		printf("model %s\nkind %s\nunits %s\n", models[0], xpu_kind_name(kinds[0]),
		       r.deploy);
		printf("prompt_tokens %u\noutput_tokens %u\n", prompt, output);
		printf("prefill_tokens_per_s %.6g\ndecode_tokens_per_s %.6g\nttft_s %.6g\n"
		       "joules_per_token %.6g\n",
		       r.prefill_b1, r.decode_b1, r.ttft, r.jpt_b1);
		printf("batch_saturation %u\nprefill_tokens_per_s_saturation %.6g\n"
		       "decode_tokens_per_s_saturation %.6g\njoules_per_token_saturation %.6g\n",
		       r.batch, r.prefill_sat, r.decode_sat, r.jpt_sat);
		return 0;
	}
	printf("%-18s %-5s %-10s %12s %12s %9s %10s %12s %12s %10s %8s\n", "model", "kind", "units",
	       "prefill_t/s", "decode_t/s", "ttft_ms", "J/token", "sat_prefill", "sat_decode",
	       "sat_J/tok", "vs_best");
	for (int i = 0; i < nmodels; i++) {
		struct bench_row r[XPU_KIND_COUNT];
		double best = 0;
		for (int k = 0; k < nk; k++) {
			bench_one(platform, cat, models[i], kinds[k], prompt, output, batch, &r[k]);
			if (!r[k].rc && r[k].decode_b1 > best)
				best = r[k].decode_b1;
		}
		for (int k = 0; k < nk; k++) {
			if (r[k].rc) {
				printf("%-18s %-5s %s\n", models[i], xpu_kind_name(kinds[k]),
				       r[k].fits ? r[k].err : "does not fit");
				if (r[k].fits)
					status = 1;
				continue;
			}
			printf("%-18s %-5s %-10s %12.1f %12.1f %9.2f %10.4g %12.1f %12.1f %10.4g "
			       "%8.2f\n",
			       models[i], xpu_kind_name(kinds[k]), r[k].deploy, r[k].prefill_b1,
			       r[k].decode_b1, 1e3 * r[k].ttft, r[k].jpt_b1, r[k].prefill_sat,
			       r[k].decode_sat, r[k].jpt_sat, r[k].decode_b1 / best);
		}
	}
	printf("(prompt %u, output %u tokens; saturation: up to %u requests at once, static "
	       "batching; units: one replica's)\n",
	       prompt, output, batch);
	return status;
}

/* ------------------------------------------------------------------ llm capacity */

static void capacity_usage(FILE *f)
{
	fputs("usage: xpuopt llm capacity --slo-ttft S --slo-tbt S [options]\n"
	      "\n"
	      "The serving capacity of a deployment under service-level objectives\n"
	      "(DistServe's goodput): the highest Poisson arrival rate at which the TTFT's\n"
	      "90th percentile and the gap between tokens' 99th percentile stay within\n"
	      "their targets, found by doubling the rate until a target is missed, then by\n"
	      "bisection. Every probe is a simulated serving run of --count requests whose\n"
	      "lengths come from --trace (in order, arrivals redrawn) or from the request\n"
	      "generator's defaults (log-normal, fitted to the Azure LLM trace's code\n"
	      "requests), the same seed for every rate. Prints `key value` lines:\n"
	      "capacity_rps, ttft_p90_s, tbt_p99_s (at that rate), probes.\n"
	      "\n"
	      "      --slo-ttft S      target for TTFT's 90th percentile, seconds (required)\n"
	      "      --slo-tbt S       target for the 99th percentile gap between tokens\n"
	      "                        (required)\n"
	      "  -p, --platform FILE   platform (default: the bundled default.xml)\n"
	      "  -m, --model NAME      model (default llama-2-7b)\n"
	      "      --deploy SPEC     replicas (as xpuopt run --deploy)\n"
	      "      --serve SPEC      serve policy (default vllm)\n"
	      "      --router SPEC     router (default round-robin)\n"
	      "  -t, --trace FILE      request stream whose token counts are used\n"
	      "      --count N         requests per probe (default 300)\n"
	      "      --tolerance X     stop when the bracket is within X of its bounds\n"
	      "                        (relative, default 0.02)\n"
	      "      --seed N          seed of the arrivals and lengths (default 1)\n"
	      "  -c, --catalogue FILE  model catalogue (default: the bundled one)\n"
	      "  -h, --help            show this help\n"
	      "\n"
	      "Exit status: 0; 1 when even the lowest rate probed misses a target or a run\n"
	      "fails; 2 for bad usage or input.\n",
	      f);
}

/* One probe at rate: 1 when both targets are met, 0 when not, < 0 on failure. */
static int probe(struct xpu_serving_opts *o, const struct xpu_requests *shape, double rate,
                 uint64_t seed, double *ttft, double *tbt, char *err, size_t errn)
{
	struct xpu_request *v = malloc((size_t)shape->n * sizeof(*v));
	if (!v)
		return -ENOMEM;
	memcpy(v, shape->v, (size_t)shape->n * sizeof(*v));
	/* Poisson arrivals at rate: exponential gaps from a fixed stream (splitmix64) */
	uint64_t x = seed;
	double t = 0;
	for (uint32_t i = 0; i < shape->n; i++) {
		uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
		z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
		z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
		z ^= z >> 31;
		double u = (double)(z >> 11) * 0x1.0p-53;
		if (i > 0)
			t += -log1p(-u) / rate;
		v[i].arrival = t;
	}
	struct xpu_requests rq = {.n = shape->n, .v = v};
	o->reqs = &rq;
	struct xpu_summary s;
	double first, end;
	uint32_t units;
	int rc = run_child(o, &s, &first, &end, &units, err, errn);
	free(v);
	if (rc)
		return rc;
	*ttft = xpu_summary_get(&s, "ttft_p90_s");
	*tbt = xpu_summary_get(&s, "tbt_p99_s");
	return *ttft <= o->slo_ttft && (!(*tbt == *tbt) || *tbt <= o->slo_tbt);
}

static int llm_capacity(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"platform", required_argument, NULL, 'p'}, {"model", required_argument, NULL, 'm'},
	    {"deploy", required_argument, NULL, 1},     {"serve", required_argument, NULL, 2},
	    {"router", required_argument, NULL, 3},     {"trace", required_argument, NULL, 't'},
	    {"count", required_argument, NULL, 4},      {"tolerance", required_argument, NULL, 5},
	    {"seed", required_argument, NULL, 6},       {"slo-ttft", required_argument, NULL, 7},
	    {"slo-tbt", required_argument, NULL, 8},    {"catalogue", required_argument, NULL, 'c'},
	    {"help", no_argument, NULL, 'h'},           {NULL, 0, NULL, 0},
	};
	struct xpu_serving_opts o = {.watermark = -1, .model = "llama-2-7b"};
	const char *trace = NULL;
	uint32_t count = 300;
	double tol = 0.02;
	unsigned long long seed = 1;
	int c;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":p:m:t:c:h", opts, NULL)) != -1) {
		char *end;
		switch (c) {
		case 'p':
			o.platform = optarg;
			break;
		case 'm':
			o.model = optarg;
			break;
		case 1:
			o.deploy = optarg;
			break;
		case 2:
			o.serve = optarg;
			break;
		case 3:
			o.router = optarg;
			break;
		case 't':
			trace = optarg;
			break;
		case 'c':
			o.catalogue = optarg;
			break;
		case 4:
			if (parse_count("--count", optarg, 1, 10000000, &count))
				return 2;
			break;
		case 5:
		case 7:
		case 8: {
			double v = strtod(optarg, &end);
			if (end == optarg || *end || !isfinite(v) || !(v > 0) || (c == 5 && v >= 1))
				return xpu_cli_bad_usage_quoted(
				    "llm capacity",
				    c == 5   ? "--tolerance: expected a share between 0 and 1"
				    : c == 7 ? "--slo-ttft: expected a positive number of seconds"
				             : "--slo-tbt: expected a positive number of seconds",
				    optarg);
			*(c == 5 ? &tol : c == 7 ? &o.slo_ttft : &o.slo_tbt) = v;
			break;
		}
		case 6:
			errno = 0;
			seed = strtoull(optarg, &end, 10);
			if (errno || end == optarg || *end || optarg[0] == '-')
				return xpu_cli_bad_usage_quoted(
				    "llm capacity", "--seed: expected a non-negative integer",
				    optarg);
			break;
		case 'h':
			capacity_usage(stdout);
			return 0;
		case ':':
			return xpu_cli_bad_usage("llm capacity", "option '%s' needs a value",
			                         argv[optind - 1]);
		default:
			return xpu_cli_bad_usage("llm capacity", "unknown option '%s'",
			                         argv[optind - 1]);
		}
	}
	if (optind < argc)
		return xpu_cli_bad_usage_quoted("llm capacity", "unexpected argument",
		                                argv[optind]);
	if (!(o.slo_ttft > 0) || !(o.slo_tbt > 0))
		return xpu_cli_bad_usage("llm capacity", "%s",
		                         "give both targets: --slo-ttft S and --slo-tbt S");
	char pbuf[4096], cbuf[4096];
	if (!o.platform)
		o.platform = xpu_cli_bundled("platforms/default.xml", pbuf, sizeof(pbuf));
	if (!o.catalogue)
		o.catalogue = xpu_cli_bundled("traces/models.csv", cbuf, sizeof(cbuf));
	struct xpu_err err = {{0}};
	struct xpu_requests shape;
	int rc;
	if (trace) {
		rc = xpu_requests_read(trace, &shape, &err);
		if (!rc && shape.n > count)
			shape.n = count;
	} else {
		struct xpu_req_gen g = {.n = count,
		                        .rate = 1,
		                        .cv = 1,
		                        .prompt_median = 1094,
		                        .prompt_sigma = 1.36,
		                        .output_median = 16,
		                        .output_sigma = 0.85,
		                        .max_tokens = 4096,
		                        .seed = seed};
		rc = xpu_requests_generate(&g, &shape, &err);
	}
	if (rc) {
		fprintf(stderr, "xpuopt: %s\n", err.msg);
		return rc == -EINVAL ? 2 : 1;
	}
	char msg[1024] = "";
	double lo = 0, hi = 0, rate = 1, t1 = NAN, t2 = NAN, best_ttft = NAN, best_tbt = NAN;
	int probes = 0, ok;
	/* bracket: halve until met (at most 20 times), then double until missed */
	for (;;) {
		ok = probe(&o, &shape, rate, seed, &t1, &t2, msg, sizeof(msg));
		probes++;
		if (ok < 0)
			goto fail;
		if (ok) {
			lo = rate;
			best_ttft = t1;
			best_tbt = t2;
			break;
		}
		hi = rate;
		rate /= 4;
		if (probes > 12) {
			fprintf(
			    stderr,
			    "xpuopt: even %.3g requests/s misses a target (TTFT p90 %.4g s, TBT "
			    "p99 %.4g s)\n",
			    rate * 4, t1, t2);
			xpu_requests_free(&shape);
			return 1;
		}
	}
	while (!(hi > 0)) {
		rate = lo * 2;
		ok = probe(&o, &shape, rate, seed, &t1, &t2, msg, sizeof(msg));
		probes++;
		if (ok < 0)
			goto fail;
		if (ok) {
			lo = rate;
			best_ttft = t1;
			best_tbt = t2;
		} else {
			hi = rate;
		}
		if (probes > 60)
			break;
	}
	while (hi > 0 && hi - lo > tol * lo && probes < 60) {
		rate = (lo + hi) / 2;
		ok = probe(&o, &shape, rate, seed, &t1, &t2, msg, sizeof(msg));
		probes++;
		if (ok < 0)
			goto fail;
		if (ok) {
			lo = rate;
			best_ttft = t1;
			best_tbt = t2;
		} else {
			hi = rate;
		}
	}
	printf("capacity_rps %.6g\nttft_p90_s %.6g\ntbt_p99_s %.6g\nslo_ttft_s %g\nslo_tbt_s %g\n"
	       "requests %u\nprobes %d\n",
	       lo, best_ttft, best_tbt, o.slo_ttft, o.slo_tbt, shape.n, probes);
	xpu_requests_free(&shape);
	return 0;
fail:
	fprintf(stderr, "xpuopt: %s\n", msg[0] ? msg : strerror(-ok));
	xpu_requests_free(&shape);
	return ok == -EINVAL ? 2 : 1;
}

int xpu_cmd_llm(int argc, char **argv)
{
	/* the subcommand is the first word that is not an option */
	int i = 1;
	while (i < argc && argv[i][0] == '-' && strcmp(argv[i], "--"))
		i++;
	if (i < argc && !strcmp(argv[i], "bench"))
		return llm_bench(argc - i, argv + i);
	if (i < argc && !strcmp(argv[i], "capacity"))
		return llm_capacity(argc - i, argv + i);
	if (i < argc && !strcmp(argv[i], "models")) {
		/* models' options may come before or after the word */
		char **v = malloc((size_t)argc * sizeof(*v));
		if (!v)
			return 1;
		int n = 0;
		for (int k = 0; k < argc; k++)
			if (k != i)
				v[n++] = argv[k];
		int rc = llm_models(n, v);
		free(v);
		return rc;
	}
	if (i < argc && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")))
		return llm_models(argc, argv);
	for (int k = 1; k < argc; k++)
		if (!strcmp(argv[k], "-h") || !strcmp(argv[k], "--help"))
			return llm_models(argc, argv);
	if (i >= argc)
		return xpu_cli_bad_usage("llm", "%s",
		                         "expected a subcommand: models, bench or capacity");
	return xpu_cli_bad_usage_quoted(
	    "llm", "unknown subcommand; expected models, bench or capacity", argv[i]);
}
