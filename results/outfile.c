/* outfile.c — output files written safely (results/outfile.h). */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "outfile.h"

int xpu_output_is_special(const char *path)
{
	struct stat st;
	return path && strcmp(path, "-") && stat(path, &st) == 0 && !S_ISREG(st.st_mode) &&
	       !S_ISDIR(st.st_mode);
}

int xpu_output_check(const char *path, const char *const *inputs, int n, struct xpu_err *err)
{
	struct stat out, in;
	if (!path || !strcmp(path, "-"))
		return 0;
	if (stat(path, &out) < 0)
		return 0; /* a new name (or one we will fail to create, with its own message) */
	if (S_ISDIR(out.st_mode))
		return xpu_errf(
		    err, path, 0,
		    "cannot write the output here: it is a directory; give a file name");
	for (int i = 0; i < n; i++)
		if (inputs[i] && stat(inputs[i], &in) == 0 && in.st_dev == out.st_dev &&
		    in.st_ino == out.st_ino)
			return xpu_errf(
			    err, path, 0,
			    "cannot write the output over an input of this command (%s); "
			    "give another file name",
			    inputs[i]);
	return 0;
}

/* Registered temporaries: fixed slots of fixed size, so that the signal handler reads
 * them without locks or allocation. */
#define MAX_TMP     16
#define MAX_TMP_LEN 4096

static char tmp_path[MAX_TMP][MAX_TMP_LEN];
static volatile sig_atomic_t tmp_used[MAX_TMP];

void xpu_tmp_register(const char *tmp)
{
	if (!tmp || strlen(tmp) >= MAX_TMP_LEN)
		return;
	for (int i = 0; i < MAX_TMP; i++)
		if (!tmp_used[i]) {
			strcpy(tmp_path[i], tmp);
			tmp_used[i] = 1;
			return;
		}
}

void xpu_tmp_unregister(const char *tmp)
{
	for (int i = 0; tmp && i < MAX_TMP; i++)
		if (tmp_used[i] && !strcmp(tmp_path[i], tmp))
			tmp_used[i] = 0;
}

static void on_signal(int sig)
{
	for (int i = 0; i < MAX_TMP; i++)
		if (tmp_used[i])
			unlink(tmp_path[i]); /* async-signal-safe */
	static const char msg[] = "xpuopt: interrupted; temporary files removed\n";
	ssize_t w = write(2, msg, sizeof(msg) - 1);
	(void)w;
	_exit(128 + sig);
}

void xpu_signals_install(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	int sigs[] = {SIGINT, SIGTERM, SIGHUP};
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		struct sigaction old;
		/* a signal ignored by the parent (nohup, a batch system) stays ignored */
		if (sigaction(sigs[i], NULL, &old) == 0 && old.sa_handler == SIG_IGN)
			continue;
		sigaction(sigs[i], &sa, NULL);
	}
}
