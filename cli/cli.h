/* cli.h — the xpuopt subcommands; each returns the process exit status
 * (0 success, 1 run failure, 2 bad usage or input). */
#ifndef XPU_CLI_H
#define XPU_CLI_H

int xpu_cmd_run(int argc, char **argv);
int xpu_cmd_summary(int argc, char **argv);
int xpu_cmd_platform(int argc, char **argv);
int xpu_cmd_trace(int argc, char **argv);
int xpu_cmd_convert(int argc, char **argv);
int xpu_cmd_gen(int argc, char **argv);
int xpu_cmd_profile(int argc, char **argv);
int xpu_cmd_llm(int argc, char **argv);
int xpu_cmd_calibrate(int argc, char **argv);
int xpu_cmd_fidelity(int argc, char **argv);

/* argv[0] of each command is the command name ("run", "summary", ...). Each command
 * understands --help (usage on stdout, exit 0); bad usage prints a one-line error and
 * "see 'xpuopt COMMAND --help'" on stderr, exit 2. */

#include <stdio.h>

/* Print "xpuopt CMD: <fmt with arg>" and the pointer to CMD's help on stderr; 2. */
int xpu_cli_bad_usage(const char *cmd, const char *fmt, const char *arg);
/* A bundled data file (platforms/default.xml, traces/models.csv ...): an installed copy
 * ($XPUOPT_DATADIR, the package data directory), else the source tree's; in buf. */
const char *xpu_cli_bundled(const char *rel, char *buf, size_t n);
/* The same as "xpuopt CMD: WHAT 'ARG'" (no quote when arg is NULL); 2. */
int xpu_cli_bad_usage_quoted(const char *cmd, const char *what, const char *arg);

struct xpu_err;
/* --backend of a command that measures live hardware (calibrate, fidelity): NULL is
 * cpu; otherwise its name and parameters are checked (xpu_backend_resolve), "sim" is
 * refused, and so are the cpu backend's options (cpu_opts names those given, as
 * "--threads and --cores"; NULL when none was) with another backend. 0 with *is_cpu,
 * or -EINVAL with err. */
int xpu_cli_live_backend(const char *backend, const char *cpu_opts, int *is_cpu,
                         struct xpu_err *err);

/* The one operand left after the options, argv[optind], or NULL after printing the
 * usage error "missing the WHAT" or "one WHAT only, got also 'X'" (exit 2). */
const char *xpu_cli_one_operand(const char *cmd, int argc, char **argv, const char *what);

/* An output file written under a temporary name and renamed when complete, or
 * standard output for "-". */
struct xpu_cli_out {
	const char *path;
	char *tmp; /* NULL for standard output */
	FILE *f;
	const char *const *inputs; /* files the output must not replace */
	int ninputs;
	int special; /* a device or pipe, written in place */
};

/* Open o for path; 0, or a negative errno after printing why: -EINVAL (exit 2) when
 * path is a directory or (_inputs) one of the command's inputs. A device or pipe
 * (/dev/null) is written in place; a regular file through a temporary sibling. */
int xpu_cli_out_open(struct xpu_cli_out *o, const char *path);
int xpu_cli_out_open_inputs(struct xpu_cli_out *o, const char *path, const char *const *inputs,
                            int n);
int xpu_cli_out_open_kept(struct xpu_cli_out *o, const char *path);
/* Finish o given the command's status so far: rename into place when status is 0,
 * else remove the temporary. Returns the status, 1 if writing failed. */
int xpu_cli_out_close(struct xpu_cli_out *o, int status);

#endif
