/* fuzz_experiment.c — libFuzzer target for the experiment-file loader (driver/study.c,
 * libconfig): every input must be accepted or refused with -EINVAL and a message, never
 * crash, leak or hang. Built by tools/fuzz.sh (target "experiment") from study.c and
 * registry.c with the fuzzer's instrumentation, linked to the built libxpuopt for the
 * policies they name.
 *
 * Inputs are written to a private directory holding p.xml and t.csv, so that a file
 * naming them reaches the policy checks past the file checks. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "study.h"

static char dir[256], path[320];

static void put(const char *name, const char *text)
{
	char p[400];
	snprintf(p, sizeof(p), "%s/%s", dir, name);
	FILE *f = fopen(p, "w");
	if (!f)
		abort();
	fputs(text, f);
	fclose(f);
}

static void cleanup(void)
{
	const char *names[] = {"p.xml", "t.csv", "e.cfg"};
	char p[400];
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(p, sizeof(p), "%s/%s", dir, names[i]);
		unlink(p);
	}
	rmdir(dir);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!dir[0]) {
		const char *tmp = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
		snprintf(dir, sizeof(dir), "%s/xpuopt-fuzz-experiment-%ld", tmp, (long)getpid());
		if (mkdir(dir, 0700) && errno != EEXIST)
			abort();
		put("p.xml", "<?xml version='1.0'?>\n<platform version=\"4.1\"/>\n");
		put("t.csv", "id,submit,flops\na,0,1e9\n");
		snprintf(path, sizeof(path), "%s/e.cfg", dir);
		atexit(cleanup);
	}
	FILE *f = fopen(path, "wb");
	if (!f)
		abort();
	if (size && fwrite(data, 1, size, f) != size)
		abort();
	fclose(f);
	struct xpu_study st;
	struct xpu_err err = {{0}};
	char out[400];
	snprintf(out, sizeof(out), "%s/out", dir);
	int rc = xpu_study_load(path, out, 0, &st, &err);
	if (rc == 0)
		xpu_study_free(&st);
	else if ((rc != -EINVAL || !err.msg[0]) && rc != -ENOMEM) {
		fprintf(stderr, "rc %d, message \"%s\"\n", rc, err.msg);
		abort();
	}
	return 0;
}
