/* cmd_gen.c — `xpuopt gen KIND [--seed N] [--PARAM VALUE ...] -o OUT.csv`: write a synthetic
 * workload. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "../traces/gen.h"

static void usage(FILE *out)
{
	fprintf(out, "usage: xpuopt gen KIND [--seed N] [--PARAM VALUE ...] -o OUT.csv\n"
	             "\n"
	             "Write a synthetic workload as a native CSV trace (traces/FORMAT.md,\n"
	             "\"Generators\"); lublin writes an SWF log (name OUT .swf). The same\n"
	             "KIND, parameters and seed give the same file.\n"
	             "OUT is written under a temporary name and renamed when complete;\n"
	             "'-o -' writes to standard output. Parameters are --PARAM VALUE or\n"
	             "--PARAM=VALUE.\n"
	             "\n"
	             "options:\n"
	             "  -s, --seed N      random seed (default 1)\n"
	             "  -o, --output OUT  the file to write (required)\n"
	             "  -h, --help        show this help\n"
	             "\n"
	             "kinds and their parameters:\n");
	xpu_gen_describe(out);
	fprintf(out, "\nExit status: 0 success, 1 cannot write OUT, 2 bad usage.\n");
}

static int bad_usage(const char *what, const char *arg)
{
	return xpu_cli_bad_usage_quoted("gen", what, arg);
}

int xpu_cmd_gen(int argc, char **argv)
{
	const char *kind = NULL, *out = NULL;
	unsigned long long seed = 1;
	struct xpu_param *p = calloc((size_t)argc + 1, sizeof(*p));
	char **own = calloc((size_t)argc + 1, sizeof(*own));
	int n = 0, status = 2;
	if (!p || !own) {
		free(p);
		free(own);
		return 1;
	}
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			usage(stdout);
			status = 0;
			goto out;
		}
		if (a[0] != '-' || !a[1]) {
			if (kind) {
				bad_usage("one KIND only, got also", a);
				goto out;
			}
			kind = a;
			continue;
		}
		/* --key=value, or --key value / -o value */
		const char *key = a + (a[1] == '-' ? 2 : 1), *eq = strchr(key, '='), *val;
		char *k = eq ? strndup(key, (size_t)(eq - key)) : strdup(key);
		if (!k) {
			status = 1;
			goto out;
		}
		own[i] = k;
		if (eq) {
			val = eq + 1;
		} else if (i + 1 < argc) {
			val = argv[++i];
		} else {
			bad_usage("option needs a value:", a);
			goto out;
		}
		if (!strcmp(k, "o") || !strcmp(k, "output")) {
			out = val;
		} else if (!strcmp(k, "s") || !strcmp(k, "seed")) {
			char *end;
			errno = 0;
			seed = strtoull(val, &end, 10);
			if (end == val || *end || errno || val[0] == '-') {
				bad_usage("--seed expects a non-negative integer, got", val);
				goto out;
			}
		} else {
			p[n++] = (struct xpu_param){k, val};
		}
	}
	if (!kind) {
		bad_usage("missing the generator KIND", NULL);
		goto out;
	}
	if (!out) {
		bad_usage("missing -o OUT.csv", NULL);
		goto out;
	}

	struct xpu_cli_out o;
	int orc = xpu_cli_out_open(&o, out);
	if (orc < 0) {
		status = orc == -EINVAL ? 2 : 1;
		goto out;
	}
	struct xpu_err err = {{0}};
	errno = 0;
	int rc = xpu_gen_write(kind, n, p, seed, o.f, &err);
	int werr = errno;
	status = 0;
	if (rc == -EINVAL) {
		fprintf(stderr, "xpuopt gen: %s\nsee 'xpuopt gen --help'\n", err.msg);
		status = 2;
	} else if (rc == -EIO) { /* the stream failed: the last write's errno says why */
		fprintf(stderr, "xpuopt gen: %s: cannot write: %s\n", out,
		        strerror(werr ? werr : EIO));
		status = 1;
	} else if (rc < 0) {
		fprintf(stderr, "xpuopt gen: %s\n", strerror(-rc));
		status = 1;
	}
	status = xpu_cli_out_close(&o, status);
out:
	for (int i = 0; i < argc; i++)
		free(own[i]);
	free(own);
	free(p);
	return status;
}
