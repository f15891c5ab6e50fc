/* cmd_llm.c — `xpuopt llm models`: the LLM model catalogue and what follows from each
 * model's architecture (traces/models.h). */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "models.h"

static void llm_usage(FILE *f)
{
	fputs("usage: xpuopt llm models [--catalogue FILE] [--context N]\n"
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

int xpu_cmd_llm(int argc, char **argv)
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
	while ((c = getopt_long(argc, argv, ":c:n:h", opts, NULL)) != -1) {
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
	if (optind >= argc)
		return xpu_cli_bad_usage("llm", "%s", "expected a subcommand: models");
	if (strcmp(argv[optind], "models"))
		return xpu_cli_bad_usage_quoted("llm", "unknown subcommand; expected models",
		                                argv[optind]);
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
