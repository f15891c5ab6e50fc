/* cmd_run.c — `xpuopt run`: one replay, the summary on stdout, an HDF5 result. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "registry.h"
#include "run.h"
#include "serving.h"

static void usage(FILE *out)
{
	fprintf(out,
	        "Usage: xpuopt run [options]\n\n"
	        "Replay a trace on a platform and write an HDF5 result; prints the summary.\n\n"
	        "  -p, --platform FILE     SimGrid platform file (default: the bundled\n"
	        "                          platforms/default.xml)\n"
	        "  -t, --trace FILE        trace (default: the bundled traces/default.csv)\n"
	        "      --trace-format F    reader to use (default: by file extension)\n"
	        "  -s, --sched SPEC        scheduling policy (default: fifo)\n"
	        "  -m, --mem SPEC          memory policy (default: lru, over first-fit)\n"
	        "  -w, --power SPEC        power governor (default: performance)\n"
	        "      --offload SPEC      offload policy (default: local)\n"
	        "      --seed N            seed for policies that draw (default: 0)\n"
	        "      --tick SECONDS      interval of the scheduling policy's periodic call\n"
	        "                          (policies with on_tick; default: about 1/%g of\n"
	        "                          the run's predicted span)\n"
	        "      --governor-period SECONDS\n"
	        "                          interval of the power governor's periodic call\n"
	        "                          (default: the governor's own; performance and\n"
	        "                          powersave are called at task starts only)\n"
	        "      --sample SECONDS    also record every unit in /timeline at this\n"
	        "                          interval (default: change points only)\n"
	        "  -o, --output FILE       result file (default: xpuopt-result.h5; '-' for none)\n"
	        "      --backend SPEC      where the work runs: 'sim' (SimGrid, the default) or\n"
	        "                          'cpu' (this machine's CPU threads), with parameters\n"
	        "                          as 'cpu:threads=2' (see --list)\n"
	        "      --live              the cpu backend (--platform is then not used)\n"
	        "      --threads N         live: number of CPU worker threads (default: all)\n"
	        "      --faults SPEC       make launches fail, to test policies: kind=KIND,\n"
	        "                          unit=INDEX, every=N (comma-separated); after=N\n"
	        "                          launches first run; status=enodev: as if the\n"
	        "                          device went (default eio)\n"
	        "      --fallback          a task whose launch fails moves on to the next unit\n"
	        "                          that can run it; a unit whose device went is taken\n"
	        "                          out (on with --backend fallback)\n"
	        "      --failures SPEC     simulated unit failures (see below); 'none' turns\n"
	        "                          off those the platform gives (xpu.mtbf, xpu.mttr,\n"
	        "                          xpu.availability)\n"
	        "      --list              list the registered policies and exit\n"
	        "\nServing a language model (--serve; policies/README.md, \"Serving\"):\n"
	        "      --serve SPEC        serve the requests of --trace (a request stream:\n"
	        "                          traces/FORMAT.md) with this serve policy: vllm,\n"
	        "                          orca, sarathi, static or splitwise (see --list)\n"
	        "      --model NAME        model from the catalogue (default llama-2-7b);\n"
	        "                          NAME:bytes=B sets bytes per weight (1 for int8)\n"
	        "      --deploy SPEC       replicas: [prefill=|decode=]KIND, auto or UNIT/UNIT\n"
	        "                          [:tp=N,pp=N,replicas=N], groups joined by ';'\n"
	        "                          (default: the first accelerator kind, the\n"
	        "                          smallest tp its memory holds)\n"
	        "      --router SPEC       replica of each request: round-robin (default),\n"
	        "                          least-outstanding, jsq-tokens or p2c\n"
	        "      --catalogue FILE    model catalogue (default: the bundled one)\n"
	        "      --block N           KV-cache block in tokens (default 16)\n"
	        "      --watermark X       share of KV blocks kept for running requests'\n"
	        "                          growth (default 0.01)\n"
	        "      --slo-ttft S, --slo-tbt S\n"
	        "                          targets for slo_attained and goodput_rps\n"
	        "  -q, --quiet             print no summary\n"
	        "  -h, --help              this help\n\n"
	        "A SPEC is a name, optionally with parameters: 'name:key=value,key=value'.\n"
	        "--failures: mtbf=DURATION,mttr=DURATION (failures and repairs at\n"
	        "exponential times of those means, drawn from --seed) or profile=FILE\n"
	        "(lines 'TIME 0|1', down or up from TIME seconds on; 'LOOPAFTER S' repeats\n"
	        "it), for every unit or those of kind=KIND or unit=INDEX|NAME; durations\n"
	        "as 3600, 30min, 12h or 2d. Work running on a failed unit is lost: the\n"
	        "task waits for the repair or, when the sched policy says so, runs\n"
	        "elsewhere (platforms/README.md, \"Unit failures\").\n"
	        "Exit status: 0 success, 1 run failure (a task failed: the result is still\n"
	        "written), 2 bad usage or input.\n",
	        XPU_TICKS_PER_RUN);
}

static int bad_usage(const char *fmt, const char *arg)
{
	return xpu_cli_bad_usage("run", fmt, arg);
}

static void list_policies(void)
{
	printf("sched:\n");
	xpu_policy_list(XPU_POLICY_SCHED, stdout);
	printf("mem:\n");
	xpu_policy_list(XPU_POLICY_MEM, stdout);
	printf("power:\n");
	xpu_policy_list(XPU_POLICY_POWER, stdout);
	printf("offload:\n");
	xpu_policy_list(XPU_POLICY_OFFLOAD, stdout);
	printf("serve:\n");
	xpu_policy_list(XPU_POLICY_SERVE, stdout);
	printf("router:\n");
	xpu_policy_list(XPU_POLICY_ROUTER, stdout);
	printf("backends:\n");
	xpu_backend_list(stdout);
}

/* Progress of a long run on stderr: one line rewritten in place on a terminal, a
 * line every ten seconds otherwise (logs, batch jobs). */
struct progress {
	int tty;
	double wall0, last_line;
};

static double wall_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void show_progress(void *ctx, uint32_t ended, uint32_t total, double now, int final)
{
	struct progress *p = ctx;
	double w = wall_now(), el = w - p->wall0;
	if (!p->tty && !final && w - p->last_line < 10)
		return;
	p->last_line = w;
	double rate = el > 0 ? ended / el : 0;
	double eta = rate > 0 ? (total - ended) / rate : INFINITY;
	char etas[32];
	if (final)
		snprintf(etas, sizeof(etas), "done in %.1f s", el);
	else if (isfinite(eta))
		snprintf(etas, sizeof(etas), "ETA %.0f s", eta);
	else
		snprintf(etas, sizeof(etas), "ETA ?");
	fprintf(stderr,
	        "%sxpuopt: %u of %u tasks ended (%.1f%%), run clock %.6g s, %.0f tasks/s, %s%s",
	        p->tty ? "\r" : "", ended, total, total ? 100.0 * ended / total : 100, now, rate,
	        etas, p->tty && !final ? "\033[K" : "\n");
	fflush(stderr);
}

static void print_value(const char *key, double v)
{
	if (isfinite(v) && v == floor(v) && fabs(v) < 1e15)
		printf("%s %.0f\n", key, v);
	else
		printf("%s %.9g\n", key, v);
}

/* `xpuopt run --serve`: a serving run (driver/serving.h). */
static int serve_cmd(const struct xpu_run_opts *o, struct xpu_serving_opts *so, const char *output)
{
	char pbuf[4096], cbuf[4096];
	if (o->live || (o->backend && strcmp(o->backend, "sim")))
		return bad_usage("%s", "--serve: serving runs are simulated; --live and --backend "
		                       "other than sim do not apply");
	if (o->sched || o->mem || o->power || o->offload || o->faults || o->failures ||
	    o->fallback || o->trace_format || o->tick > 0 || o->gov_period > 0 || o->sample > 0)
		return bad_usage(
		    "%s", "--serve: the serve policy forms every step; --sched, "
		          "--mem, --power, --offload, --faults, --fallback, "
		          "--failures, --trace-format, --tick, --governor-period and --sample "
		          "do not apply");
	if (!o->trace)
		return bad_usage("%s", "--serve: give the request stream with --trace FILE "
		                       "(`xpuopt gen requests` makes one)");
	so->platform = o->platform ? o->platform
	                           : xpu_cli_bundled("platforms/default.xml", pbuf, sizeof(pbuf));
	so->requests = o->trace;
	if (!so->catalogue)
		so->catalogue = xpu_cli_bundled("traces/models.csv", cbuf, sizeof(cbuf));
	so->seed = o->seed;
	so->output = strcmp(output, "-") ? output : NULL;
	struct xpu_err err = {{0}};
	struct xpu_serving_result res;
	int rc = xpu_serving_run(so, &res, &err);
	if (rc) {
		fprintf(stderr, "xpuopt: %s\n", err.msg[0] ? err.msg : strerror(-rc));
		return rc == -EINVAL ? 2 : 1;
	}
	if (!o->quiet) {
		for (int i = 0; i < res.out.summary.n; i++)
			print_value(res.out.summary.m[i].key, res.out.summary.m[i].value);
		if (so->output)
			fprintf(stderr, "xpuopt: wrote %s\n", so->output);
	}
	xpu_serving_result_free(&res);
	return 0;
}

int xpu_cmd_run(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"platform", required_argument, NULL, 'p'},
	    {"trace", required_argument, NULL, 't'},
	    {"trace-format", required_argument, NULL, 'F'},
	    {"sched", required_argument, NULL, 's'},
	    {"mem", required_argument, NULL, 'm'},
	    {"power", required_argument, NULL, 'w'},
	    {"offload", required_argument, NULL, 'O'},
	    {"seed", required_argument, NULL, 'S'},
	    {"tick", required_argument, NULL, 'T'},
	    {"governor-period", required_argument, NULL, 'G'},
	    {"sample", required_argument, NULL, 'P'},
	    {"output", required_argument, NULL, 'o'},
	    {"live", no_argument, NULL, 'L'},
	    {"backend", required_argument, NULL, 'B'},
	    {"threads", required_argument, NULL, 'j'},
	    {"list", no_argument, NULL, 'l'},
	    {"faults", required_argument, NULL, 'f'},
	    {"fallback", no_argument, NULL, 'K'},
	    {"failures", required_argument, NULL, 'U'},
	    {"quiet", no_argument, NULL, 'q'},
	    {"help", no_argument, NULL, 'h'},
	    {"serve", required_argument, NULL, 1000},
	    {"model", required_argument, NULL, 1001},
	    {"deploy", required_argument, NULL, 1002},
	    {"router", required_argument, NULL, 1003},
	    {"catalogue", required_argument, NULL, 1004},
	    {"block", required_argument, NULL, 1005},
	    {"watermark", required_argument, NULL, 1006},
	    {"slo-ttft", required_argument, NULL, 1007},
	    {"slo-tbt", required_argument, NULL, 1008},
	    {NULL, 0, NULL, 0},
	};
	struct xpu_run_opts o = {0};
	struct xpu_serving_opts so = {.watermark = -1};
	int serving = 0, serve_only = 0;
	const char *output = "xpuopt-result.h5";
	char pbuf[4096], tbuf[4096], threads[32];
	struct xpu_param bparam[1];
	int c;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":p:t:s:m:w:o:qh", opts, NULL)) != -1) {
		char *end;
		switch (c) {
		case 'p':
			o.platform = optarg;
			break;
		case 't':
			o.trace = optarg;
			break;
		case 'F':
			o.trace_format = optarg;
			break;
		case 's':
			o.sched = optarg;
			break;
		case 'm':
			o.mem = optarg;
			break;
		case 'w':
			o.power = optarg;
			break;
		case 'O':
			o.offload = optarg;
			break;
		case 'o':
			output = optarg;
			break;
		case 'L':
			o.live = 1;
			break;
		case 'B':
			o.backend = optarg;
			break;
		case 'f':
			o.faults = optarg;
			break;
		case 'K':
			o.fallback = 1;
			break;
		case 'U':
			o.failures = optarg;
			break;
		case 'q':
			o.quiet = 1;
			break;
		case 'S':
			errno = 0;
			o.seed = strtoull(optarg, &end, 10);
			if (errno || end == optarg || *end || optarg[0] == '-')
				return bad_usage(
				    "--seed: expected a non-negative integer, got \"%s\"", optarg);
			break;
		case 'T':
		case 'G':
		case 'P': {
			double v = strtod(optarg, &end);
			const char *name = c == 'T'   ? "--tick"
			                   : c == 'G' ? "--governor-period"
			                              : "--sample";
			char msg[128];
			snprintf(msg, sizeof(msg),
			         "%s: expected a positive number of seconds, got \"%%s\"", name);
			if (end == optarg || *end || !(v > 0) || !isfinite(v))
				return bad_usage(msg, optarg);
			*(c == 'T' ? &o.tick : c == 'G' ? &o.gov_period : &o.sample) = v;
			break;
		}
		case 'j': {
			long n = strtol(optarg, &end, 10);
			if (end == optarg || *end || n < 1 || n > 4096)
				return bad_usage(
				    "--threads: expected an integer from 1 to 4096, got "
				    "\"%s\"",
				    optarg);
			snprintf(threads, sizeof(threads), "%ld", n);
			bparam[0] = (struct xpu_param){"threads", threads};
			o.backend_params = bparam;
			o.nbackend_params = 1;
			break;
		}
		case 1000:
			so.serve = optarg;
			serving = 1;
			break;
		case 1001:
			so.model = optarg;
			serve_only = 1;
			break;
		case 1002:
			so.deploy = optarg;
			serve_only = 1;
			break;
		case 1003:
			so.router = optarg;
			serve_only = 1;
			break;
		case 1004:
			so.catalogue = optarg;
			serve_only = 1;
			break;
		case 1005: {
			long n = strtol(optarg, &end, 10);
			if (end == optarg || *end || n < 1 || n > 1 << 20)
				return bad_usage(
				    "--block: expected a whole number of tokens from 1 "
				    "to 1048576, got \"%s\"",
				    optarg);
			so.block_tokens = (uint32_t)n;
			serve_only = 1;
			break;
		}
		case 1006:
		case 1007:
		case 1008: {
			double v = strtod(optarg, &end);
			int ok = end != optarg && !*end && isfinite(v) &&
			         (c == 1006 ? v >= 0 && v < 1 : v > 0);
			if (!ok)
				return bad_usage(
				    c == 1006   ? "--watermark: expected a share from 0 to "
				                  "below 1, got \"%s\""
				    : c == 1007 ? "--slo-ttft: expected a positive number "
				                  "of seconds, got \"%s\""
				                : "--slo-tbt: expected a positive number "
				                  "of seconds, got \"%s\"",
				    optarg);
			*(c == 1006 ? &so.watermark : c == 1007 ? &so.slo_ttft : &so.slo_tbt) = v;
			serve_only = 1;
			break;
		}
		case 'l':
			list_policies();
			return 0;
		case 'h':
			usage(stdout);
			return 0;
		case ':':
			return bad_usage("option '%s' needs a value", argv[optind - 1]);
		default:
			return bad_usage("unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return bad_usage("unexpected argument '%s'", argv[optind]);
	if (serve_only && !serving)
		return bad_usage("%s", "--model, --deploy, --router, --catalogue, --block, "
		                       "--watermark and --slo-* are for serving runs: add --serve");
	if (serving)
		return serve_cmd(&o, &so, output);
	if (o.live && o.backend && strcmp(o.backend, "cpu") && strncmp(o.backend, "cpu:", 4))
		return bad_usage("%s",
		                 "--live is the cpu backend; give --live or --backend, not both");
	int sim =
	    !o.live && (!o.backend || !strcmp(o.backend, "sim") || !strncmp(o.backend, "sim:", 4));
	if (!sim && o.platform)
		return bad_usage("%s",
		                 "live backends run on this machine; --platform is for simulation");
	if (sim && !o.platform)
		o.platform = xpu_cli_bundled("platforms/default.xml", pbuf, sizeof(pbuf));
	if (!o.trace)
		o.trace = xpu_cli_bundled("traces/default.csv", tbuf, sizeof(tbuf));
	o.output = strcmp(output, "-") ? output : NULL;

	struct progress prog = {.tty = isatty(2), .wall0 = wall_now()};
	prog.last_line = prog.wall0;
	if (!o.quiet) {
		o.progress = show_progress;
		o.progress_ctx = &prog;
	}
	struct xpu_err err = {{0}};
	struct xpu_run_result res;
	int rc = xpu_run(&o, &res, &err);
	if (rc) {
		fprintf(stderr, "xpuopt: %s\n", err.msg[0] ? err.msg : strerror(-rc));
		if (rc == -EINVAL && !o.trace_format && xpu_requests_claims(o.trace))
			fprintf(stderr,
			        "xpuopt: %s is a request stream: serve it with --serve "
			        "POLICY (see xpuopt run --help)\n",
			        o.trace);
		return rc == -EINVAL ? 2 : 1;
	}
	if (!o.quiet) {
		for (int i = 0; i < res.summary.n; i++)
			print_value(res.summary.m[i].key, res.summary.m[i].value);
		if (o.output)
			fprintf(stderr, "xpuopt: wrote %s\n", o.output);
	}
	/* A run in which tasks failed is a run failure (exit 1), its result still written. */
	double failed = xpu_summary_get(&res.summary, "tasks_failed");
	double total = xpu_summary_get(&res.summary, "tasks_total");
	uint32_t stuck = res.stuck_on_memory;
	int evicts = res.mem_evicts;
	xpu_run_result_free(&res);
	if (failed > 0) {
		fprintf(stderr, "xpuopt: %.0f of %.0f tasks failed\n", failed, total);
		if (stuck)
			fprintf(stderr,
			        "xpuopt: %u waited at the head of a queue for memory that nothing "
			        "would free, and the tasks behind never ran%s\n",
			        stuck,
			        evicts ? ""
			               : " (this --mem evicts nothing: lru, lru-clean or belady "
			                 "let data leave a full memory)");
		return 1;
	}
	return 0;
}
