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

/* argv[0] of each command is the command name ("run", "summary", ...). Each command
 * understands --help (usage on stdout, exit 0); bad usage prints a one-line error and
 * "see 'xpuopt COMMAND --help'" on stderr, exit 2. */

#endif
