/* cmd_convert.c — `xpuopt convert FILE -o OUT.csv`: rewrite any readable trace in the native CSV
 * format. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "trace.h"

static void usage(FILE *out)
{
	fprintf(out, "usage: xpuopt convert [--trace-format FORMAT] FILE -o OUT.csv\n"
	             "\n"
	             "Read FILE record by record (any format xpuopt reads) and write it as a\n"
	             "native CSV trace (traces/FORMAT.md). OUT is written under a temporary\n"
	             "name and renamed when complete; '-o -' writes to standard output.\n"
	             "Records are checked one by one; whole-trace checks (duplicate ids,\n"
	             "unknown dependencies, cycles) are 'xpuopt trace'.\n"
	             "\n"
	             "options:\n"
	             "  -f, --trace-format F  how to read FILE: auto (by extension and header,\n"
	             "                        the default)");
	for (const char *const *f = xpu_trace_formats; *f; f++)
		fprintf(out, ", %s", *f);
	fprintf(out, ";\n"
	             "                        reader parameters as F:key=value,...\n"
	             "  -o, --output OUT      the native CSV to write (required)\n"
	             "  -h, --help            show this help\n"
	             "\n"
	             "Exit status: 0 success, 1 cannot write OUT, 2 bad usage or a bad trace.\n");
}

static int bad_usage(const char *what, const char *arg)
{
	return xpu_cli_bad_usage_quoted("convert", what, arg);
}

/* A CSV field, quoted when it holds a separator, a quote or surrounding blanks. */
static void put_str(FILE *f, const char *s)
{
	size_t n = strlen(s);
	if (!strpbrk(s, ",\"\r\n#") && !(n && (s[0] == ' ' || s[n - 1] == ' '))) {
		fputs(s, f);
		return;
	}
	putc('"', f);
	for (; *s; s++) {
		if (*s == '"')
			putc('"', f);
		putc(*s, f);
	}
	putc('"', f);
}

/* %.17g round-trips a double; zero and absent values stay empty to keep files small. */
static void put_num(FILE *f, double v)
{
	if (v != 0 && isfinite(v))
		fprintf(f, "%.17g", v);
}

/* reads or writes: "NAME:BYTES;NAME" as one (quoted when needed) field. */
static void put_named(FILE *f, int n, const char **names, const double *bytes)
{
	size_t len = 1;
	for (int i = 0; i < n; i++)
		len += strlen(names[i]) + 32;
	char *buf = malloc(len), *p = buf;
	if (!buf)
		return;
	*p = '\0';
	for (int i = 0; i < n; i++) {
		p += sprintf(p, "%s%s", i ? ";" : "", names[i]);
		if (!isnan(bytes[i]))
			p += sprintf(p, ":%.17g", bytes[i]);
	}
	put_str(f, buf);
	free(buf);
}

static void put_rec(FILE *f, const struct xpu_trace_rec *r)
{
	put_str(f, r->id);
	putc(',', f);
	put_num(f, r->submit);
	fprintf(f, ",%s,", xpu_class_name(r->cls));
	put_num(f, r->flops);
	putc(',', f);
	put_num(f, r->bytes);
	putc(',', f);
	put_num(f, r->mem);
	putc(',', f);
	for (int i = 0; i < r->ndeps; i++) {
		fprintf(f, "%s%s", i ? ";" : "", r->dep_ids[i]);
		if (r->dep_bytes[i] > 0)
			fprintf(f, ":%.17g", r->dep_bytes[i]);
	}
	putc(',', f);
	if (r->priority)
		fprintf(f, "%d", r->priority);
	putc(',', f);
	put_num(f, r->deadline);
	putc(',', f);
	put_str(f, r->user ? r->user : "");
	putc(',', f);
	for (int i = 0; i < r->ncosts; i++)
		fprintf(f, "%s%s=%.17g", i ? ";" : "", r->cost_target[i], r->cost_seconds[i]);
	putc(',', f);
	if (r->width > 1)
		fprintf(f, "%d", r->width);
	putc(',', f);
	if (!isnan(r->estimate))
		fprintf(f, "%.17g", r->estimate);
	putc(',', f);
	put_named(f, r->nreads, r->read_names, r->read_bytes);
	putc(',', f);
	put_named(f, r->nwrites, r->write_names, r->write_bytes);
	putc('\n', f);
}

int xpu_cmd_convert(int argc, char **argv)
{
	static const struct option longopts[] = {
	    {"trace-format", required_argument, NULL, 'f'},
	    {"output", required_argument, NULL, 'o'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *format = NULL, *out = NULL;
	int c;
	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":f:o:h", longopts, NULL)) != -1) {
		switch (c) {
		case 'f':
			format = optarg;
			break;
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
	const char *path = xpu_cli_one_operand("convert", argc, argv, "trace FILE");
	if (!path)
		return 2;
	if (!out)
		return bad_usage("missing -o OUT.csv", NULL);

	struct xpu_err err = {{0}};
	struct xpu_trace_reader *r;
	if (xpu_trace_open(path, format, &r, &err) < 0) {
		fprintf(stderr, "xpuopt: %s\n", err.msg[0] ? err.msg : "cannot read the trace");
		return 2;
	}

	struct xpu_cli_out o;
	const char *inputs[] = {path};
	int orc = xpu_cli_out_open_inputs(&o, out, inputs, 1);
	if (orc < 0) {
		xpu_trace_close(r);
		return orc == -EINVAL ? 2 : 1;
	}
	FILE *f = o.f;
	fprintf(f, "id,submit,class,flops,bytes,mem,deps,priority,deadline,user,cost,width,"
	           "estimate,reads,writes\n");
	struct xpu_trace_rec rec;
	int rc, status = 0;
	while ((rc = xpu_trace_next(r, &rec, &err)) > 0)
		put_rec(f, &rec);
	if (rc < 0) {
		fprintf(stderr, "xpuopt: %s\n", err.msg[0] ? err.msg : "cannot read the trace");
		status = 2;
	}
	xpu_trace_close(r);
	return xpu_cli_out_close(&o, status);
}
