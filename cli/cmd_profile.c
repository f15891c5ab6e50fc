/* cmd_profile.c — `xpuopt profile FILE`: summarise a vidur operator profile and derive a
 * platform's GEMM efficiency from it. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "platform.h"
#include "../traces/vidur.h"

static void usage(FILE *out)
{
	fprintf(
	    out,
	    "usage: xpuopt profile FILE [--stat S] [--peak RATE] [--min-tokens N] [-o OUT.csv]\n"
	    "\n"
	    "Summarise a Microsoft vidur operator profile (time_stats.OP.STAT columns in\n"
	    "ms; traces/FORMAT.md, \"vidur\"): for every operator the configurations that\n"
	    "measured it and the median and largest measured time. For the projections\n"
	    "whose work follows from the shape columns (attn_pre_proj, attn_post_proj,\n"
	    "mlp_up_proj, mlp_down_proj) also the achieved flop/s, median and best over\n"
	    "the configurations with num_tokens >= N; with --peak, the efficiency and a\n"
	    "platform line for the gemm class:\n"
	    "  <prop id=\"xpu.class.gemm\" value=\"RATE@EFF\"/>\n"
	    "  <prop id=\"xpu.class.llm-prefill\" value=\"RATE@EFF\"/>\n"
	    "where EFF is the median achieved rate of those runs over RATE (a serving run's\n"
	    "prefill steps are these projections: xpuopt run --serve).\n"
	    "\n"
	    "options:\n"
	    "  -s, --stat S        statistic of each configuration: min, max, mean or\n"
	    "                      median (the default)\n"
	    "  -p, --peak RATE     the GPU's peak for these kernels, such as 312Tf (A100\n"
	    "                      dense FP16 tensor core)\n"
	    "  -m, --min-tokens N  configurations counted for flop/s (default 1024: small\n"
	    "                      batches measure launch overhead, not the GEMM)\n"
	    "  -o, --output OUT    also write the table as CSV ('-' for standard output,\n"
	    "                      which then holds the CSV only)\n"
	    "  -h, --help          show this help\n"
	    "\n"
	    "Exit status: 0 success, 1 cannot write OUT, 2 bad usage or a bad profile.\n");
}

static int bad_usage(const char *what, const char *arg)
{
	return xpu_cli_bad_usage_quoted("profile", what, arg);
}

/* A growing array of doubles. */
struct vec {
	double *v;
	size_t n, cap;
};

static int push(struct vec *a, double x)
{
	if (a->n == a->cap) {
		size_t cap = a->cap ? 2 * a->cap : 64;
		double *v = realloc(a->v, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		a->v = v;
		a->cap = cap;
	}
	a->v[a->n++] = x;
	return 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* Median (mean of the middle two for an even count) and largest value; NAN when empty.
 * Sorts a. */
static double median(struct vec *a, double *max)
{
	*max = NAN;
	if (!a->n)
		return NAN;
	qsort(a->v, a->n, sizeof(*a->v), cmp_double);
	*max = a->v[a->n - 1];
	size_t m = a->n / 2;
	return a->n % 2 ? a->v[m] : (a->v[m - 1] + a->v[m]) / 2;
}

struct opsum {
	struct vec ms;   /* measured time per configuration, ms */
	struct vec rate; /* achieved flop/s per counted configuration */
	double med_ms, max_ms, med_rate, best_rate;
};

/* A figure for the table, "-" when unknown. */
static void put(FILE *f, const char *fmt, double v, int width)
{
	if (isnan(v))
		fprintf(f, "%*s", width, "-");
	else
		fprintf(f, fmt, width, v);
}

static void put_csv(FILE *f, double v)
{
	if (!isnan(v))
		fprintf(f, "%.6g", v);
}

/* Efficiency as the platform file takes it: two decimals, or two digits below 0.01. */
static void fmt_eff(char *buf, size_t n, double eff)
{
	snprintf(buf, n, eff >= 0.01 ? "%.2f" : "%.2g", eff);
}

int xpu_cmd_profile(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"stat", required_argument, NULL, 's'},
	    {"peak", required_argument, NULL, 'p'},
	    {"min-tokens", required_argument, NULL, 'm'},
	    {"output", required_argument, NULL, 'o'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *out = NULL, *peak_s = NULL;
	int stat = XPU_VIDUR_MEDIAN, c;
	double peak = NAN, min_tokens = 1024;
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":s:p:m:o:h", longopts, NULL)) != -1) {
		switch (c) {
		case 's':
			for (stat = 0; xpu_vidur_stats[stat]; stat++)
				if (!strcmp(xpu_vidur_stats[stat], optarg))
					break;
			if (!xpu_vidur_stats[stat])
				return xpu_cli_bad_usage(
				    "profile",
				    "--stat: expected min, max, mean or median, "
				    "got '%s'",
				    optarg);
			break;
		case 'p':
			peak_s = optarg;
			if (xpu_parse_rate(optarg, 'f', &peak) < 0 || !(peak > 0))
				return xpu_cli_bad_usage(
				    "profile",
				    "--peak: expected a flop rate such as 312Tf, got '%s'", optarg);
			break;
		case 'm': {
			char *end;
			min_tokens = strtod(optarg, &end);
			if (end == optarg || *end || !(min_tokens >= 0) || min_tokens > 1e9 ||
			    min_tokens != floor(min_tokens))
				return xpu_cli_bad_usage(
				    "profile",
				    "--min-tokens: expected a whole number >= 0, got '%s'", optarg);
			break;
		}
		case 'o':
			out = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case ':':
			return bad_usage("option needs a value:", argv[optind - 1]);
		default:
			return bad_usage("unknown option", argv[optind - 1]);
		}
	}
	const char *path = xpu_cli_one_operand("profile", argc, argv, "profile FILE");
	if (!path)
		return 2;

	struct xpu_err err = {{0}};
	struct xpu_vidur v;
	if (xpu_vidur_open(&v, path, stat, &err) < 0) {
		fprintf(stderr, "xpuopt: %s\n", err.msg[0] ? err.msg : "cannot read the profile");
		return 2;
	}
	int status = 0, rc;
	struct opsum *ops = calloc((size_t)v.nops, sizeof(*ops));
	struct vec gemm = {0};
	double gemm_flops = 0, gemm_s = 0;
	if (!ops) {
		xpu_vidur_close(&v);
		return 1;
	}
	while (status == 0 && (rc = xpu_vidur_next(&v, &err)) > 0) {
		double shape[XPU_VIDUR_NSHAPES];
		for (int s = 0; s < XPU_VIDUR_NSHAPES && status == 0; s++)
			if (xpu_vidur_shape(&v, s, &shape[s], &err) < 0)
				status = 2;
		for (int i = 0; i < v.nops && status == 0; i++) {
			double ms = v.ms[i], f = xpu_vidur_flops(v.op[i], shape);
			if (isnan(ms))
				continue;
			if (push(&ops[i].ms, ms) < 0)
				status = 1;
			/* A zero time (below the profiler's 1 us resolution) gives no rate. */
			if (isnan(f) || !(shape[XPU_VIDUR_TOKENS] >= min_tokens) || ms <= 0)
				continue;
			if (push(&ops[i].rate, f / (ms / 1e3)) < 0 ||
			    push(&gemm, f / (ms / 1e3)) < 0)
				status = 1;
			gemm_flops += f;
			gemm_s += ms / 1e3;
		}
	}
	if (status == 0 && rc < 0)
		status = 2;
	if (status == 2)
		fprintf(stderr, "xpuopt: %s\n", err.msg);
	if (status)
		goto done;

	for (int i = 0; i < v.nops; i++) {
		struct opsum *o = &ops[i];
		o->med_ms = median(&o->ms, &o->max_ms);
		o->med_rate = median(&o->rate, &o->best_rate);
	}
	double gemm_best, gemm_med = median(&gemm, &gemm_best);
	double eff = gemm_med / peak; /* NAN without --peak or runs */

	struct xpu_cli_out csv = {0};
	int to_stdout = !out || strcmp(out, "-");
	int orc = out ? xpu_cli_out_open(&csv, out) : 0;
	if (orc < 0) {
		status = orc == -EINVAL ? 2 : 1;
		goto done;
	}
	if (to_stdout) {
		printf("# vidur profile %s: %ld configurations, %d operators, statistic %s (ms);\n"
		       "# flop/s over configurations with num_tokens >= %.0f\n",
		       path, v.row, v.nops, xpu_vidur_stats[stat], min_tokens);
		printf("%-28s %-9s %7s %11s %11s %6s %13s %13s", "operator", "class", "configs",
		       "median_ms", "max_ms", "runs", "median_flops", "best_flops");
		if (!isnan(peak))
			printf(" %10s", "efficiency");
		putchar('\n');
		for (int i = 0; i < v.nops; i++) {
			struct opsum *o = &ops[i];
			printf("%-28s %-9s %7zu ", v.op[i],
			       xpu_class_name(xpu_vidur_class(v.op[i])), o->ms.n);
			put(stdout, "%*.4g", o->med_ms, 11);
			put(stdout, " %*.4g", o->max_ms, 11);
			printf(" %6zu", o->rate.n);
			put(stdout, " %*.4g", o->med_rate, 13);
			put(stdout, " %*.4g", o->best_rate, 13);
			if (!isnan(peak))
				put(stdout, " %*.3f", o->med_rate / peak, 10);
			putchar('\n');
		}
		printf("gemm_runs %zu\n", gemm.n);
		if (gemm.n) {
			printf("gemm_median_flops %.6g\n", gemm_med);
			printf("gemm_best_flops %.6g\n", gemm_best);
			/* The rate that replays the counted runs' total time exactly. */
			printf("gemm_aggregate_flops %.6g\n", gemm_flops / gemm_s);
		}
		if (!isnan(eff)) {
			char e[32];
			fmt_eff(e, sizeof(e), eff);
			printf("gemm_efficiency %.4f\n", eff);
			if (eff > 1) {
				fprintf(stderr,
				        "xpuopt profile: the median achieved rate %.4g flop/s is "
				        "above --peak %s: no platform line (is the peak right?)\n",
				        gemm_med, peak_s);
			} else {
				printf("<!-- xpu.class.gemm: median achieved rate of %zu runs of "
				       "attn_pre_proj, attn_post_proj,\n"
				       "     mlp_up_proj and mlp_down_proj with num_tokens >= %.0f "
				       "(statistic %s) in\n"
				       "     %s\n"
				       "     (Microsoft vidur profile, github.com/microsoft/vidur, "
				       "MIT; xpuopt profile), over a peak of %s -->\n",
				       gemm.n, min_tokens, xpu_vidur_stats[stat], path, peak_s);
				printf("<prop id=\"xpu.class.gemm\" value=\"%s@%s\"/>\n", peak_s,
				       e);
				/* a serving run's prefill steps are these projections */
				printf("<prop id=\"xpu.class.llm-prefill\" value=\"%s@%s\"/>\n",
				       peak_s, e);
			}
		} else if (!isnan(peak)) {
			fprintf(stderr,
			        "xpuopt profile: no projection with known work at num_tokens >= "
			        "%.0f: no efficiency (see --min-tokens and the shape columns)\n",
			        min_tokens);
		}
	}
	if (out) {
		fprintf(csv.f, "op,class,configurations,median_ms,max_ms,runs,median_flops,"
		               "best_flops,efficiency\n");
		for (int i = 0; i < v.nops; i++) {
			struct opsum *o = &ops[i];
			fprintf(csv.f, "%s,%s,%zu,", v.op[i],
			        xpu_class_name(xpu_vidur_class(v.op[i])), o->ms.n);
			put_csv(csv.f, o->med_ms);
			putc(',', csv.f);
			put_csv(csv.f, o->max_ms);
			fprintf(csv.f, ",%zu,", o->rate.n);
			put_csv(csv.f, o->med_rate);
			putc(',', csv.f);
			put_csv(csv.f, o->best_rate);
			putc(',', csv.f);
			put_csv(csv.f, o->med_rate / peak);
			putc('\n', csv.f);
		}
		status = xpu_cli_out_close(&csv, status);
	}
done:
	for (int i = 0; i < v.nops; i++) {
		free(ops[i].ms.v);
		free(ops[i].rate.v);
	}
	free(ops);
	free(gemm.v);
	xpu_vidur_close(&v);
	return status;
}
