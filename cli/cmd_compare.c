/* cmd_compare.c — `xpuopt compare`: policy sets against a baseline, paired by platform,
 * trace and seed, with bootstrap CIs, Wilcoxon p-values and win/loss counts. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "study.h"
#include "cli.h"
#include "study_cli.h"

static const char *const default_metrics[] = {
    "makespan_s",  "energy_j",      "edp_js",          "mean_wait_s",      "p99_wait_s",
    "mean_flow_s", "mean_slowdown", "deadline_misses", "mean_utilisation", "tasks_failed",
};

/* A serving study's (xpuopt run --serve) results have their own metrics. */
static const char *const serve_metrics[] = {
    "tokens_per_s", "ttft_p90_s",       "ttft_p99_s",  "tbt_p99_s",   "e2e_p50_s",
    "e2e_p99_s",    "joules_per_token", "goodput_rps", "preemptions", "requests_failed",
};

static void usage(FILE *out)
{
	fprintf(out,
	        "Usage: xpuopt compare [options] STUDY_DIR|INDEX.csv|RESULT.h5 ...\n\n"
	        "Compare policy sets against a baseline. Results are paired by platform, trace\n"
	        "and seed; for each metric the table gives both means, the mean paired\n"
	        "difference (set - baseline) with its 95%% bootstrap confidence interval, the\n"
	        "two-sided Wilcoxon signed-rank p-value, and wins/losses/ties (a win: the set\n"
	        "did better on that pair; lower is better except for tasks_done and\n"
	        "mean_utilisation). Inputs: study directories (their index.csv) or result\n"
	        "files, whose set is named by their sched/mem/power/offload policies, with\n"
	        "\" (live)\" for live runs; live and simulated results pair by trace and seed\n"
	        "(the live run's platform is the machine, the simulated one's its model).\n\n"
	        "  -b, --baseline SET  the set compared against (default: the first)\n"
	        "  -m, --metrics LIST  comma-separated metrics (default: makespan_s,\n"
	        "                      energy_j, edp_js, mean_wait_s, p99_wait_s, mean_flow_s,\n"
	        "                      mean_slowdown, deadline_misses, mean_utilisation,\n"
	        "                      tasks_failed; for serving results: tokens_per_s,\n"
	        "                      ttft_p90_s, ttft_p99_s, tbt_p99_s, e2e_p50_s,\n"
	        "                      e2e_p99_s, joules_per_token, goodput_rps,\n"
	        "                      preemptions, requests_failed)\n"
	        "      --csv FILE      also write the table as CSV ('-': stdout, no table)\n"
	        "      --markdown FILE also write it as Markdown ('-': stdout, no table)\n"
	        "      --resamples N   bootstrap resamples (default: 10000)\n"
	        "      --seed N        bootstrap seed (default: 1)\n"
	        "  -h, --help          this help\n\n"
	        "Exit status: 0 success, 2 bad usage or input.\n");
}

static int bad_usage(const char *fmt, const char *arg)
{
	return xpu_cli_bad_usage("compare", fmt, arg);
}

static void fmt_p(char *b, size_t n, double p)
{
	if (isnan(p))
		snprintf(b, n, "-");
	else if (p < 0.001)
		snprintf(b, n, "<0.001");
	else
		snprintf(b, n, "%.3f", p);
}

static void table(FILE *out, const struct xpu_cmp_row *rows, int n)
{
	int w = 10;
	for (int i = 0; i < n; i++)
		if ((int)strlen(rows[i].b) > w)
			w = (int)strlen(rows[i].b);
	if (w > 40)
		w = 40;
	if (n > 0)
		fprintf(out, "baseline: %s\n\n", rows[0].a);
	fprintf(out, "%-*s  %-16s %4s %12s %12s %12s  %-25s %7s  %s\n", w, "policy set", "metric",
	        "n", "baseline", "set", "diff", "95% CI of diff", "p", "W/L/T");
	for (int i = 0; i < n; i++) {
		const struct xpu_cmp_row *r = &rows[i];
		char ci[64], p[16], wlt[32];
		snprintf(ci, sizeof(ci), "[%.4g, %.4g]", r->lo, r->hi);
		fmt_p(p, sizeof(p), r->p);
		snprintf(wlt, sizeof(wlt), "%d/%d/%d", r->wins, r->losses, r->ties);
		/* A star where the interval excludes zero and p < 0.05: both tests agree
		 * the difference is real. */
		int sig = r->n > 0 && (r->lo > 0 || r->hi < 0) && r->p < 0.05;
		fprintf(out, "%-*.*s  %-16s %4d %12.5g %12.5g %+12.4g  %-25s %7s%s %s\n", w, w,
		        i && !strcmp(rows[i - 1].b, r->b) ? "" : r->b, r->metric, r->n, r->mean_a,
		        r->mean_b, r->diff, ci, p, sig ? "*" : " ", wlt);
	}
	fprintf(out, "\n* the 95%% CI excludes 0 and p < 0.05\n");
}

static int write_to(const char *path, const struct xpu_cmp_row *rows, int n, int md)
{
	if (!strcmp(path, "-")) {
		(md ? xpu_compare_markdown : xpu_compare_csv)(stdout, rows, n);
		return 0;
	}
	char tmp[4200];
	snprintf(tmp, sizeof(tmp), "%.4000s.tmp-%ld", path, (long)getpid());
	FILE *f = fopen(tmp, "w");
	if (!f) {
		fprintf(stderr, "xpuopt compare: cannot write %s: %s\n", path, strerror(errno));
		return -1;
	}
	(md ? xpu_compare_markdown : xpu_compare_csv)(f, rows, n);
	if (ferror(f) | fclose(f) || rename(tmp, path)) {
		fprintf(stderr, "xpuopt compare: cannot write %s: %s\n", path, strerror(errno));
		unlink(tmp);
		return -1;
	}
	return 0;
}

int xpu_cmd_compare(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"baseline", required_argument, NULL, 'b'},
	    {"metrics", required_argument, NULL, 'm'},
	    {"csv", required_argument, NULL, 'c'},
	    {"markdown", required_argument, NULL, 'd'},
	    {"resamples", required_argument, NULL, 'r'},
	    {"seed", required_argument, NULL, 's'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *baseline = NULL, *csv = NULL, *md = NULL;
	char *mlist = NULL, *end;
	long resamples = 10000;
	unsigned long long seed = 1;
	int c;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":b:m:h", opts, NULL)) != -1) {
		switch (c) {
		case 'b':
			baseline = optarg;
			break;
		case 'm':
			mlist = optarg;
			break;
		case 'c':
			csv = optarg;
			break;
		case 'd':
			md = optarg;
			break;
		case 'r':
			resamples = strtol(optarg, &end, 10);
			if (end == optarg || *end || resamples < 100 || resamples > 10000000)
				return bad_usage(
				    "--resamples: expected 100 to 10000000, got \"%s\"", optarg);
			break;
		case 's':
			errno = 0;
			seed = strtoull(optarg, &end, 10);
			if (errno || end == optarg || *end || optarg[0] == '-')
				return bad_usage(
				    "--seed: expected a non-negative integer, got \"%s\"", optarg);
			break;
		case 'h':
			usage(stdout);
			return 0;
		case ':':
			return bad_usage("option '%s' needs a value", argv[optind - 1]);
		default:
			return bad_usage("unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind >= argc)
		return bad_usage("%s", "expected a study directory, an index or result files");

	const char *metrics[64];
	int nm = 0;
	char *mcopy = mlist ? strdup(mlist) : NULL;
	if (mcopy) {
		for (char *save, *t = strtok_r(mcopy, ",", &save); t && nm < 64;
		     t = strtok_r(NULL, ",", &save))
			metrics[nm++] = t;
	}

	struct xpu_records rs = {0};
	struct xpu_err err = {{0}};
	int status = 0;
	for (int i = optind; i < argc && !status; i++) {
		struct stat sb;
		size_t l = strlen(argv[i]);
		int index = (stat(argv[i], &sb) == 0 && S_ISDIR(sb.st_mode)) ||
		            (l > 4 && !strcmp(argv[i] + l - 4, ".csv"));
		if ((index ? xpu_records_add_index : xpu_records_add_file)(&rs, argv[i], &err))
			status = 2;
	}
	if (!status && xpu_records_pair_live(&rs, &err))
		status = 2;
	if (!mcopy) {
		int serving = rs.n > 0 && !isnan(xpu_summary_get(&rs.r[0].s, "tokens_per_s"));
		const char *const *dm = serving ? serve_metrics : default_metrics;
		size_t n = serving ? sizeof(serve_metrics) / sizeof(*serve_metrics)
		                   : sizeof(default_metrics) / sizeof(*default_metrics);
		for (size_t i = 0; i < n; i++)
			metrics[nm++] = dm[i];
	}
	for (int i = 0; i < nm && !status; i++) {
		int known = 0;
		for (int k = 0; k < rs.n && !known; k++)
			known = !isnan(xpu_summary_get(&rs.r[k].s, metrics[i]));
		if (!known && rs.n > 0) {
			xpu_errf(&err, NULL, 0, "--metrics: no result has a metric \"%s\"",
			         metrics[i]);
			status = 2;
		}
	}
	struct xpu_cmp_row *rows = NULL;
	int n = 0;
	if (!status) {
		n = xpu_compare(&rs, baseline, metrics, nm, (int)resamples, seed, &rows, &err);
		if (n < 0)
			status = n == -EINVAL ? 2 : 1;
	}
	if (status) {
		fprintf(stderr, "xpuopt: %s\n", err.msg[0] ? err.msg : "out of memory");
	} else {
		if (!(csv && !strcmp(csv, "-")) && !(md && !strcmp(md, "-")))
			table(stdout, rows, n);
		if ((csv && write_to(csv, rows, n, 0)) || (md && write_to(md, rows, n, 1)))
			status = 1;
	}
	free(rows);
	free(mcopy);
	xpu_records_free(&rs);
	return status;
}
