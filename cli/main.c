/* main.c — `xpuopt COMMAND [options]`: dispatch to the subcommands. */
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "outfile.h"
#include "results.h"
#include "study_cli.h"
#include "config.h"

struct command {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary;
};

static const struct command commands[] = {
    {"run", xpu_cmd_run, "replay a trace on a platform with chosen policies"},
    {"summary", xpu_cmd_summary, "print the metrics of a result file"},
    {"platform", xpu_cmd_platform, "validate a platform file and list its units"},
    {"trace", xpu_cmd_trace, "validate a trace and describe it"},
    {"convert", xpu_cmd_convert, "rewrite a trace of any format as native CSV"},
    {"gen", xpu_cmd_gen, "write a synthetic workload (arrivals, DAGs, LLM requests)"},
    {"study", xpu_cmd_study, "run an experiment file's cases in parallel, resumably"},
    {"compare", xpu_cmd_compare, "compare policy sets: paired CIs, Wilcoxon, wins"},
    {"plot", xpu_cmd_plot, "draw a Gantt chart, timelines, bars or a CDF (gnuplot)"},
    {"report", xpu_cmd_report, "write a Markdown or HTML page for a study"},
    {"profile", xpu_cmd_profile, "summarise a vidur operator profile; GEMM efficiency"},
    {"llm", xpu_cmd_llm, "LLM models, serving benchmarks (llm bench) and capacity"},
    {"calibrate", xpu_cmd_calibrate, "measure this machine live and write its platform file"},
    {"fidelity", xpu_cmd_fidelity, "run a trace live and simulated; report their differences"},
    {NULL, NULL, NULL},
};

static void usage(FILE *out)
{
	fprintf(out, "Usage: xpuopt COMMAND [options]\n"
	             "       xpuopt COMMAND --help\n"
	             "       xpuopt --version\n\n"
	             "xpuopt, the XPU Optimizer: scheduling, memory and power policies for\n"
	             "heterogeneous processors, replayed in SimGrid simulation or live.\n\n"
	             "Commands:\n");
	for (const struct command *c = commands; c->name; c++)
		fprintf(out, "  %-10s %s\n", c->name, c->summary);
	fprintf(out, "\nExit status: 0 success, 1 run failure, 2 bad usage or input.\n"
	             "Documentation: README.md, traces/FORMAT.md, platforms/README.md,\n"
	             "experiments/RESULTS.md.\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V")) {
		printf("xpuopt %s\n", PACKAGE_VERSION);
		return 0;
	}
	/* an interrupted command leaves no temporary file behind */
	xpu_signals_install();
	/* a full disk is an error message, not a crash in HDF5's exit hook */
	xpu_results_no_atexit();
	for (const struct command *c = commands; c->name; c++)
		if (!strcmp(argv[1], c->name))
			return c->fn(argc - 1, argv + 1);
	fprintf(stderr, "xpuopt: unknown command '%s'; see 'xpuopt --help'\n", argv[1]);
	return 2;
}
