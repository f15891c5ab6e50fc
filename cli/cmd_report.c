/* cmd_report.c — `xpuopt report`: one Markdown or HTML page per study, with its
 * comparison table and embedded plots. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "study.h"
#include "cli.h"
#include "study_cli.h"

static const char *const bar_metrics[] = {"makespan_s", "energy_j", "mean_wait_s"};
static const char *const cmp_metrics[] = {"makespan_s",    "energy_j",         "edp_js",
                                          "mean_wait_s",   "p99_wait_s",       "mean_flow_s",
                                          "mean_slowdown", "mean_utilisation", "tasks_failed"};
#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static void usage(FILE *out)
{
	fprintf(out,
	        "Usage: xpuopt report [options] STUDY_DIR\n\n"
	        "Write one page for a study: the comparison of its policy sets against the\n"
	        "baseline (as `xpuopt compare`), metric bars with confidence whiskers, and for\n"
	        "one platform, trace and seed each set's Gantt chart, utilisation and power\n"
	        "timelines and the CDF of waiting times. Images go to a folder beside the\n"
	        "page (PNG for Markdown, SVG for HTML).\n\n"
	        "  -o, --output FILE   the page (default: STUDY_DIR/report.md, or report.html\n"
	        "                      with --html); .html implies --html\n"
	        "      --html          write HTML instead of Markdown\n"
	        "  -b, --baseline SET  the set compared against (default: the first)\n"
	        "  -h, --help          this help\n\n"
	        "Needs gnuplot. Exit status: 0 success, 1 a plot failed, 2 bad usage or input.\n");
}

static int bad_usage(const char *fmt, const char *arg)
{
	return xpu_cli_bad_usage("report", fmt, arg);
}

static void esc(FILE *f, const char *s, int html)
{
	for (; *s; s++) {
		if (html && *s == '<')
			fputs("&lt;", f);
		else if (html && *s == '>')
			fputs("&gt;", f);
		else if (html && *s == '&')
			fputs("&amp;", f);
		else if (!html && (*s == '|' || *s == '*' || *s == '_'))
			fprintf(f, "\\%c", *s);
		else
			fputc(*s, f);
	}
}

/* A file-name-safe version of a set name. */
static void safe(const char *s, char *b, size_t n)
{
	size_t i = 0;
	for (; *s && i + 1 < n; s++)
		b[i++] = (('a' <= *s && *s <= 'z') || ('A' <= *s && *s <= 'Z') ||
		          ('0' <= *s && *s <= '9') || *s == '-' || *s == '.')
		             ? *s
		             : '_';
	b[i] = 0;
}

static void figure(FILE *f, int html, const char *rel, const char *caption)
{
	if (html) {
		fputs("<figure><img src=\"", f);
		esc(f, rel, 1);
		fputs("\" alt=\"", f);
		esc(f, caption, 1);
		fputs("\" style=\"max-width:100%\"><figcaption>", f);
		esc(f, caption, 1);
		fputs("</figcaption></figure>\n", f);
	} else {
		fprintf(f, "![%s](%s)\n\n", caption, rel);
	}
}

static void html_table(FILE *f, const struct xpu_cmp_row *rows, int n)
{
	fputs("<table>\n<tr><th>policy set</th><th>metric</th><th>n</th><th>baseline</th>"
	      "<th>set</th><th>diff</th><th>95% CI</th><th>p (Wilcoxon)</th>"
	      "<th>W/L/T</th></tr>\n",
	      f);
	for (int i = 0; i < n; i++) {
		const struct xpu_cmp_row *r = &rows[i];
		fputs("<tr><td>", f);
		esc(f, r->b, 1);
		fprintf(f,
		        "</td><td>%s</td><td>%d</td><td>%.6g</td><td>%.6g</td><td>%+.4g</td>"
		        "<td>[%.4g, %.4g]</td><td>%.3g</td><td>%d/%d/%d</td></tr>\n",
		        r->metric, r->n, r->mean_a, r->mean_b, r->diff, r->lo, r->hi, r->p, r->wins,
		        r->losses, r->ties);
	}
	fputs("</table>\n", f);
}

int xpu_cmd_report(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"output", required_argument, NULL, 'o'},
	    {"html", no_argument, NULL, 'H'},
	    {"baseline", required_argument, NULL, 'b'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *out = NULL, *baseline = NULL;
	int html = 0, c;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":o:b:h", opts, NULL)) != -1) {
		switch (c) {
		case 'o':
			out = optarg;
			break;
		case 'H':
			html = 1;
			break;
		case 'b':
			baseline = optarg;
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
	if (optind + 1 != argc)
		return bad_usage("%s", "expected one study directory");
	const char *study = argv[optind];
	char page[PATH_MAX], figdir[PATH_MAX + 16], figrel[PATH_MAX], tmp[PATH_MAX + 32];
	if (out) {
		size_t l = strlen(out);
		html |= l > 5 && !strcmp(out + l - 5, ".html");
		snprintf(page, sizeof(page), "%s", out);
	} else {
		snprintf(page, sizeof(page), "%.4000s/report.%s", study, html ? "html" : "md");
	}
	/* Figures go in PAGE_STEM-figures/ beside the page; the page links them
	 * relatively, so the two can be moved together. */
	snprintf(figdir, sizeof(figdir), "%s", page);
	char *dot = strrchr(figdir, '.'), *sl = strrchr(figdir, '/');
	if (dot && (!sl || dot > sl))
		*dot = 0;
	strcat(figdir, "-figures");
	snprintf(figrel, sizeof(figrel), "%s",
	         strrchr(figdir, '/') ? strrchr(figdir, '/') + 1 : figdir);
	const char *ext = html ? "svg" : "png";

	struct xpu_records rs = {0};
	struct xpu_err err = {{0}};
	struct xpu_cmp_row *rows = NULL;
	FILE *f = NULL;
	int status = 0, nrows = 0;
	if (xpu_records_add_index(&rs, study, &err)) {
		status = 2;
		goto fail;
	}
	if (rs.n == 0) {
		xpu_errf(&err, study, 0, "the study has no finished case; run it first");
		status = 2;
		goto fail;
	}
	if (rs.nsets >= 2) {
		nrows = xpu_compare(&rs, baseline, cmp_metrics, NELEM(cmp_metrics), 10000, 1, &rows,
		                    &err);
		if (nrows < 0) {
			status = nrows == -EINVAL ? 2 : 1;
			goto fail;
		}
	}
	if (mkdir(figdir, 0777) && errno != EEXIST) {
		xpu_errf(&err, figdir, 0, "cannot create: %s", strerror(errno));
		status = 1;
		goto fail;
	}
	snprintf(tmp, sizeof(tmp), "%s.tmp-%ld", page, (long)getpid());
	f = fopen(tmp, "w");
	if (!f) {
		xpu_errf(&err, page, 0, "cannot write: %s", strerror(errno));
		status = 1;
		goto fail;
	}

	if (html)
		fprintf(f, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>xpuopt "
		           "study</title>\n<style>body{font-family:sans-serif;max-width:1150px;"
		           "margin:auto}table{border-collapse:collapse}td,th{border:1px solid "
		           "#bbb;padding:2px 6px;text-align:right}</style></head><body>\n"
		           "<h1>Study ");
	else
		fprintf(f, "# Study ");
	esc(f, study, html);
	fprintf(f,
	        html ? "</h1>\n<p>%d results, %d policy sets: "
	             : "\n\n%d results, %d policy "
	               "sets: ",
	        rs.n, rs.nsets);
	for (int s = 0; s < rs.nsets; s++) {
		fputs(s ? ", " : "", f);
		esc(f, rs.sets[s], html);
	}
	fputs(html ? ".</p>\n<h2>Comparison</h2>\n" : ".\n\n## Comparison\n\n", f);
	if (nrows > 0) {
		fputs(html ? "<p>Baseline: " : "Baseline: ", f);
		esc(f, rows[0].a, html);
		fputs(html
		          ? ". Differences are set minus baseline, paired by platform, trace "
		            "and seed; 95% percentile-bootstrap CI (10,000 resamples); two-sided "
		            "Wilcoxon signed-rank p; a win is a pair where the set did better."
		            "</p>\n"
		          : ". Differences are set minus baseline, paired by platform, trace and "
		            "seed; 95% percentile-bootstrap CI (10,000 resamples); two-sided "
		            "Wilcoxon signed-rank p; a win is a pair where the set did better.\n\n",
		      f);
		if (html)
			html_table(f, rows, nrows);
		else
			xpu_compare_markdown(f, rows, nrows);
	} else {
		fputs(html ? "<p>One policy set only: nothing to compare.</p>\n"
		           : "One policy set only: nothing to compare.\n",
		      f);
	}
	fputs(html ? "<h2>Metrics by policy set</h2>\n" : "\n## Metrics by policy set\n\n", f);
	for (size_t m = 0; m < NELEM(bar_metrics) && !status; m++) {
		char img[PATH_MAX * 2 + 512], rel[PATH_MAX * 2 + 512];
		snprintf(img, sizeof(img), "%s/bars-%s.%s", figdir, bar_metrics[m], ext);
		snprintf(rel, sizeof(rel), "%s/bars-%s.%s", figrel, bar_metrics[m], ext);
		if (xpu_plot_bars(study, bar_metrics[m], img, &err))
			status = 1;
		else
			figure(f, html, rel, bar_metrics[m]);
	}

	/* The runs of one platform, trace and seed: the first pair of the baseline. */
	const char *pair = rs.r[0].pair;
	const char **files = calloc((size_t)rs.nsets, sizeof(char *));
	const char **labels = calloc((size_t)rs.nsets, sizeof(char *));
	int nf = 0;
	for (int s = 0; s < rs.nsets && files && labels; s++)
		for (int i = 0; i < rs.n; i++)
			if (!strcmp(rs.r[i].set, rs.sets[s]) && !strcmp(rs.r[i].pair, pair)) {
				files[nf] = rs.r[i].path;
				labels[nf++] = rs.r[i].set;
				break;
			}
	fputs(html ? "<h2>One case in detail</h2>\n<p>" : "\n## One case in detail\n\n", f);
	fputs("Platform, trace and seed: ", f);
	esc(f, pair, html);
	fputs(html ? "</p>\n" : "\n\n", f);
	char img[PATH_MAX * 2 + 512], rel[PATH_MAX * 2 + 512], cap[512];
	if (nf > 0 && !status) {
		snprintf(img, sizeof(img), "%s/wait-cdf.%s", figdir, ext);
		snprintf(rel, sizeof(rel), "%s/wait-cdf.%s", figrel, ext);
		if (xpu_plot_cdf(files, labels, nf, img, &err))
			status = 1;
		else
			figure(f, html, rel, "CDF of waiting times");
	}
	for (int k = 0; k < nf && !status; k++) {
		char sn[200];
		safe(labels[k], sn, sizeof(sn));
		fputs(html ? "<h3>" : "### ", f);
		esc(f, labels[k], html);
		fputs(html ? "</h3>\n" : "\n\n", f);
		static const char *const kinds[] = {"gantt", "util", "power"};
		for (int j = 0; j < 3 && !status; j++) {
			snprintf(img, sizeof(img), "%s/%s-%s.%s", figdir, kinds[j], sn, ext);
			snprintf(rel, sizeof(rel), "%s/%s-%s.%s", figrel, kinds[j], sn, ext);
			int rc = j == 0 ? xpu_plot_gantt(files[k], img, &err)
			                : xpu_plot_timeline(files[k], kinds[j], img, &err);
			snprintf(cap, sizeof(cap), "%s: %s",
			         j == 0   ? "Gantt chart"
			         : j == 1 ? "utilisation"
			                  : "power",
			         labels[k]);
			if (rc)
				status = 1;
			else
				figure(f, html, rel, cap);
		}
	}
	free(files);
	free(labels);
	if (html)
		fputs("</body></html>\n", f);
	if (status)
		goto fail;
	if (ferror(f) | fclose(f) || rename(tmp, page)) {
		f = NULL;
		xpu_errf(&err, page, 0, "cannot write: %s", strerror(errno));
		status = 1;
		goto fail;
	}
	f = NULL;
	printf("%s\n", page);
	goto done;
fail:
	fprintf(stderr, "xpuopt: %s\n", err.msg[0] ? err.msg : "out of memory");
	if (f) {
		fclose(f);
		unlink(tmp);
	}
done:
	free(rows);
	xpu_records_free(&rs);
	return status;
}
