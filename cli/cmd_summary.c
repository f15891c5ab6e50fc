/* cmd_summary.c — `xpuopt summary FILE.h5`: print a result file's summary metrics. */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "results.h"

static void summary_usage(FILE *f)
{
	fputs("usage: xpuopt summary [--json] FILE.h5\n"
	      "\n"
	      "Print the summary metrics of a result file, one 'key value' line each, in\n"
	      "the order the run wrote them (definitions in experiments/RESULTS.md).\n"
	      "Whole numbers print without decimals, others with 9 significant digits;\n"
	      "a metric that has no value prints as nan.\n"
	      "\n"
	      "  --json    print one JSON object instead (nan and inf become null)\n"
	      "  --help    show this help\n",
	      f);
}

/* Counts such as tasks_done must read as integers, and byte totals beyond 1e9 must not
 * lose digits to %g's exponent form; below 2^53 a double holds integers exactly. */
static void print_value(double v, int json)
{
	if (!isfinite(v))
		fputs(json ? "null" : (isnan(v) ? "nan" : v > 0 ? "inf" : "-inf"), stdout);
	else if (v == floor(v) && fabs(v) < 9007199254740992.0)
		printf("%.0f", v);
	else
		printf("%.9g", v);
}

/* Keys are ours (letters, digits, '_'), but a file from elsewhere may hold anything. */
static void print_json_string(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			printf("\\%c", c);
		else if (c < 0x20)
			printf("\\u%04x", c);
		else
			putchar(c);
	}
	putchar('"');
}

/* Long-only options take values beyond any character. */
enum { OPT_JSON = 256 };

int xpu_cmd_summary(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"json", no_argument, NULL, OPT_JSON},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	int json = 0, c;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "+h", opts, NULL)) != -1) {
		switch (c) {
		case OPT_JSON:
			json = 1;
			break;
		case 'h':
			summary_usage(stdout);
			return 0;
		default:
			/* getopt_long sets optopt to the option's value for
			 * --json=VALUE, and to 0 for an unknown long option. */
			if (optopt == OPT_JSON)
				fputs("xpuopt summary: option '--json' takes no value\n", stderr);
			else if (optopt)
				fprintf(stderr, "xpuopt summary: unknown option '-%c'\n", optopt);
			else
				fprintf(stderr, "xpuopt summary: unknown option '%s'\n",
				        argv[optind - 1]);
			fputs("see 'xpuopt summary --help'\n", stderr);
			return 2;
		}
	}
	if (argc - optind != 1) {
		fprintf(stderr, "xpuopt summary: %s\n",
		        optind >= argc ? "expected a result file" : "expected one result file");
		fputs("see 'xpuopt summary --help'\n", stderr);
		return 2;
	}

	struct xpu_summary s;
	struct xpu_err err = {{0}};
	if (xpu_results_read_summary(argv[optind], &s, &err) < 0) {
		fprintf(stderr, "xpuopt: %s\n", err.msg);
		return 2;
	}
	if (json)
		putchar('{');
	for (int i = 0; i < s.n; i++) {
		if (json) {
			if (i)
				fputs(", ", stdout);
			print_json_string(s.m[i].key);
			fputs(": ", stdout);
		} else {
			printf("%s ", s.m[i].key);
		}
		print_value(s.m[i].value, json);
		if (!json)
			putchar('\n');
	}
	if (json)
		puts("}");
	xpu_summary_clear(&s);
	return 0;
}
