/* cmd_trace.c — `xpuopt trace FILE`: validate a trace and describe it as key value lines. */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "trace.h"

static void usage(FILE *out)
{
	fprintf(out,
	        "usage: xpuopt trace [--trace-format FORMAT] FILE\n"
	        "\n"
	        "Read a whole trace, check it (fields, duplicate ids, unknown dependencies,\n"
	        "dependency cycles) and print one 'key value' line per figure:\n"
	        "format, records, tasks, dependencies, span_s, first_submit_s, last_submit_s,\n"
	        "total_flops, total_bytes, total_dep_bytes, data, shared_data, data_bytes,\n"
	        "users, class.NAME, and the\n"
	        "format's header facts as header.KEY (SWF: header.MaxProcs ...).\n"
	        "\n"
	        "options:\n"
	        "  -f, --trace-format FORMAT  how to read FILE: auto (by extension, the\n"
	        "                             default)");
	for (const char *const *f = xpu_trace_formats; *f; f++)
		fprintf(out, ", %s", *f);
	fprintf(out, "\n"
	             "  -h, --help                 show this help\n"
	             "\n"
	             "Exit status: 0 when the trace is valid, 2 on bad usage or a bad trace.\n"
	             "The native format is described in traces/FORMAT.md.\n");
}

static int bad_usage(const char *what, const char *arg)
{
	return xpu_cli_bad_usage_quoted("trace", what, arg);
}

int xpu_cmd_trace(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"trace-format", required_argument, NULL, 'f'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *format = NULL;
	int c;

	/* Another command or a test may have run getopt before: 0 makes glibc start
	 * over, and our own messages replace getopt's. */
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":f:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'f':
			format = optarg;
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
	const char *path = xpu_cli_one_operand("trace", argc, argv, "trace FILE");
	if (!path)
		return 2;

	struct xpu_err err = {{0}};
	struct xpu_workload *w;
	if (xpu_workload_load(path, format, NULL, &w, &err) < 0) {
		fprintf(stderr, "xpuopt: %s\n", err.msg[0] ? err.msg : "cannot read the trace");
		return 2;
	}

	/* Users with an empty name are tasks that named none; they are not a user. */
	uint32_t users = 0;
	for (uint32_t i = 0; i < w->nusers; i++)
		users += w->users[i][0] != '\0';

	printf("format %s\n", xpu_trace_format_of(path, format));
	printf("records %llu\n", (unsigned long long)w->nrecords);
	printf("tasks %u\n", w->ntasks);
	printf("dependencies %llu\n", (unsigned long long)w->ndeps);
	printf("span_s %.15g\n", w->last_submit - w->first_submit);
	printf("first_submit_s %.15g\n", w->first_submit);
	printf("last_submit_s %.15g\n", w->last_submit);
	printf("total_flops %.15g\n", w->total_flops);
	printf("total_bytes %.15g\n", w->total_bytes);
	printf("total_dep_bytes %.15g\n", w->total_dep_bytes);
	/* data: the producers' outputs named by data edges and the shared data named by
	 * reads and writes (traces/FORMAT.md, "Data") */
	uint32_t shared = 0;
	double data_bytes = 0;
	for (uint32_t i = 0; i < w->ndata; i++) {
		shared += w->data[i].producer == UINT32_MAX;
		data_bytes += w->data[i].size;
	}
	printf("data %u\n", w->ndata);
	printf("shared_data %u\n", shared);
	printf("data_bytes %.15g\n", data_bytes);
	printf("users %u\n", users);
	for (int k = 0; k < XPU_CLASS_COUNT; k++)
		if (w->class_count[k])
			printf("class.%s %u\n", xpu_class_name(k), w->class_count[k]);
	xpu_workload_free(w);

	/* Format-specific header facts (SWF: MaxProcs, UnixStartTime ...): reopening
	 * reads the header only. Keys are one word, values may hold blanks. */
	struct xpu_trace_reader *r;
	if (xpu_trace_open(path, format, &r, &err) == 0) {
		const char *key, *value;
		for (int i = 0; xpu_trace_header(r, i, &key, &value); i++)
			printf("header.%s %s\n", key, value);
		xpu_trace_close(r);
	}
	return 0;
}
