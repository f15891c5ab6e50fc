/* xrt_smi.c — NPU power modes through xrt-smi (XRT's tool for Ryzen AI NPUs) or, on
 * older XRT, xbutil: `xrt-smi configure --pmode turbo` (needs administrator rights; a
 * reboot resets the device to `default`; `xrt-smi examine --report platform` shows the
 * mode). Kept apart from hw/xrt.c so that it builds and is tested without XRT or a
 * device: the tool is an ordinary program run with posix_spawnp, its output read from
 * a pipe. */
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "xrt_smi.h"

extern char **environ;

const char *const xpu_xrt_pmodes[XPU_XRT_NPMODES + 1] = {"turbo", "performance", "balanced",
                                                         "powersaver", "default"};

/* Run argv[0] with its output into buf (last line kept); its exit status, or -errno
 * when it could not be started. */
static int run_tool(char *const argv[], char *buf, size_t n)
{
	int fd[2];
	if (pipe2(fd, O_CLOEXEC) < 0)
		return -errno;
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, fd[1], 1);
	posix_spawn_file_actions_adddup2(&fa, fd[1], 2);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	pid_t pid;
	int rc = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(fd[1]);
	if (rc) {
		close(fd[0]);
		return -rc;
	}
	char chunk[512], line[256] = "";
	size_t len = 0;
	ssize_t got;
	while ((got = read(fd[0], chunk, sizeof(chunk))) > 0 || (got < 0 && errno == EINTR))
		for (ssize_t i = 0; i < got; i++) {
			char ch = chunk[i];
			if (ch == '\n' || ch == '\r') {
				if (len) { /* a finished non-empty line becomes the last one */
					line[len] = 0;
					snprintf(buf, n, "%s", line);
					len = 0;
				}
			} else if (len + 1 < sizeof(line)) {
				line[len++] = ch;
			}
		}
	if (len) {
		line[len] = 0;
		snprintf(buf, n, "%s", line);
	}
	close(fd[0]);
	int st;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -errno;
	/* posix_spawnp reports a missing program as exit 127 of the child on glibc */
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + (WIFSIGNALED(st) ? WTERMSIG(st) : 0);
}

int xpu_xrt_set_pmode(const char *tool, const char *bdf, const char *mode, char *msg, size_t n)
{
	int known = 0;
	for (int i = 0; i <= XPU_XRT_NPMODES; i++)
		known |= mode && !strcmp(mode, xpu_xrt_pmodes[i]);
	if (msg && n)
		msg[0] = 0;
	if (!known)
		return -EINVAL;
	const char *tools[2] = {tool ? tool : "xrt-smi", tool ? NULL : "xbutil"};
	char out[256] = "";
	for (int t = 0; t < 2 && tools[t]; t++) {
		char *argv[8];
		int k = 0;
		argv[k++] = (char *)tools[t];
		argv[k++] = "configure";
		if (bdf) {
			argv[k++] = "--device";
			argv[k++] = (char *)bdf;
		}
		argv[k++] = "--pmode";
		argv[k++] = (char *)mode;
		argv[k] = NULL;
		out[0] = 0;
		int rc = run_tool(argv, out, sizeof(out));
		if (rc == -ENOENT || rc == 127)
			continue; /* not installed: the next tool */
		if (rc == 0)
			return 0;
		if (msg && n) {
			if (rc < 0)
				snprintf(msg, n, "%s: %s", tools[t], strerror(-rc));
			else if (out[0])
				snprintf(msg, n, "%s: %s", tools[t], out);
			else
				snprintf(msg, n, "%s exited with status %d", tools[t], rc);
		}
		return strstr(out, "ermission") || strstr(out, "root") || strstr(out, "dmin")
		           ? -EPERM
		           : -EIO;
	}
	if (msg && n)
		snprintf(msg, n, "neither xrt-smi nor xbutil could be run");
	return -ENOENT;
}
