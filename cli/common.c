/* common.c — what several xpuopt commands share: usage errors, and output files that
 * appear under their final name only when complete. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "outfile.h"
#include "registry.h"

int xpu_cli_bad_usage(const char *cmd, const char *fmt, const char *arg)
{
	fprintf(stderr, "xpuopt %s: ", cmd);
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\nsee 'xpuopt %s --help'\n", cmd);
	return 2;
}

int xpu_cli_bad_usage_quoted(const char *cmd, const char *what, const char *arg)
{
	fprintf(stderr, "xpuopt %s: %s%s%s%s\nsee 'xpuopt %s --help'\n", cmd, what, arg ? " '" : "",
	        arg ? arg : "", arg ? "'" : "", cmd);
	return 2;
}

const char *xpu_cli_one_operand(const char *cmd, int argc, char **argv, const char *what)
{
	char msg[128];
	if (optind < argc && optind + 1 == argc)
		return argv[optind];
	snprintf(msg, sizeof(msg), optind >= argc ? "missing the %s" : "one %s only, got also",
	         what);
	xpu_cli_bad_usage_quoted(cmd, msg, optind >= argc ? NULL : argv[optind + 1]);
	return NULL;
}

int xpu_cli_out_open_inputs(struct xpu_cli_out *o, const char *path, const char *const *inputs,
                            int n)
{
	memset(o, 0, sizeof(*o));
	o->inputs = inputs;
	o->ninputs = n;
	return xpu_cli_out_open_kept(o, path);
}

int xpu_cli_out_open(struct xpu_cli_out *o, const char *path)
{
	memset(o, 0, sizeof(*o));
	return xpu_cli_out_open_kept(o, path);
}

int xpu_cli_out_open_kept(struct xpu_cli_out *o, const char *path)
{
	o->path = path;
	o->f = stdout;
	if (!strcmp(path, "-"))
		return 0;
	if (asprintf(&o->tmp, "%s.tmp.%ld", path, (long)getpid()) < 0) {
		o->tmp = NULL;
		return -ENOMEM;
	}
	struct xpu_err err = {{0}};
	if (xpu_output_check(path, o->inputs, o->ninputs, &err)) {
		fprintf(stderr, "xpuopt: %s\n", err.msg);
		free(o->tmp);
		o->tmp = NULL;
		return -EINVAL;
	}
	if (xpu_output_is_special(path)) { /* a device or pipe: written in place */
		free(o->tmp);
		o->tmp = NULL;
		o->f = fopen(path, "w");
		if (!o->f) {
			fprintf(stderr, "xpuopt: %s: cannot write: %s\n", path, strerror(errno));
			return -EIO;
		}
		o->special = 1;
		return 0;
	}
	o->f = fopen(o->tmp, "w");
	if (o->f)
		xpu_tmp_register(o->tmp);
	if (!o->f) {
		fprintf(stderr, "xpuopt: %s: cannot write: %s\n", o->tmp, strerror(errno));
		free(o->tmp);
		o->tmp = NULL;
		return -EIO;
	}
	return 0;
}

int xpu_cli_out_close(struct xpu_cli_out *o, int status)
{
	if (o->special) {
		if (fclose(o->f) != 0 && !status) {
			fprintf(stderr, "xpuopt: %s: cannot write: %s\n", o->path, strerror(errno));
			status = 1;
		}
		o->special = 0;
		return status;
	}
	if (!o->tmp) {
		if (fflush(stdout) != 0 && !status)
			status = 1;
		return status;
	}
	if (fclose(o->f) != 0 && !status) {
		fprintf(stderr, "xpuopt: %s: cannot write: %s\n", o->tmp, strerror(errno));
		status = 1;
	}
	if (!status && rename(o->tmp, o->path) < 0) {
		fprintf(stderr, "xpuopt: %s: cannot write: %s\n", o->path, strerror(errno));
		status = 1;
	}
	if (status)
		unlink(o->tmp);
	xpu_tmp_unregister(o->tmp);
	free(o->tmp);
	o->tmp = NULL;
	return status;
}

#ifndef XPU_PKGDATADIR
#define XPU_PKGDATADIR ""
#endif

/* The bundled default platform and trace: an installed copy, else the source tree. */
const char *xpu_cli_bundled(const char *rel, char *buf, size_t n)
{
	const char *env = getenv("XPUOPT_DATADIR");
	const char *dirs[] = {env, XPU_PKGDATADIR, XPU_SRCDIR "/platforms", XPU_SRCDIR "/traces"};
	const char *base = strrchr(rel, '/') ? strrchr(rel, '/') + 1 : rel;
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		if (!dirs[i] || !dirs[i][0])
			continue;
		snprintf(buf, n, "%s/%s", dirs[i], base);
		if (access(buf, R_OK) == 0)
			return buf;
	}
	snprintf(buf, n, "%s/%s", XPU_SRCDIR, rel);
	return buf;
}

int xpu_cli_live_backend(const char *backend, const char *cpu_opts, int *is_cpu,
                         struct xpu_err *err)
{
	*is_cpu = 1;
	if (!backend)
		return 0;
	struct xpu_spec spec = {0};
	const struct xpu_backend_ops *bops;
	int rc = xpu_backend_resolve(backend, &spec, &bops, err);
	xpu_spec_free(&spec);
	if (rc)
		return rc;
	if (!strcmp(bops->head.name, "sim"))
		return xpu_errf(err, NULL, 0,
		                "--backend: a live backend is needed (cpu, opencl, xrt, fallback), "
		                "not \"%s\"",
		                backend);
	*is_cpu = !strcmp(bops->head.name, "cpu");
	if (!*is_cpu && cpu_opts)
		return xpu_errf(err, NULL, 0,
		                "%s apply to the cpu backend, not \"%s\" (give a chain's cpu "
		                "workers as --backend fallback:cpu.threads=N)",
		                cpu_opts, backend);
	return 0;
}
