/* fuzz_reader.c — libFuzzer target: one trace reader (FUZZ_FORMAT) must load or refuse any input,
 * never crash or hang. */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "trace.h"

#ifndef FUZZ_FORMAT
#error "build with -DFUZZ_FORMAT=\"native\" (or swf, stg, ...)"
#endif

/* The reader API takes a path (readers stream with zlib, which wants a file), so each
 * input goes to one private file, rewritten per run. */
static char path[256];

static void cleanup(void)
{
	if (path[0])
		unlink(path);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!path[0]) {
		const char *dir = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
		snprintf(path, sizeof(path), "%s/xpuopt-fuzz-%s-%ld", dir, FUZZ_FORMAT,
		         (long)getpid());
		atexit(cleanup);
	}
	FILE *f = fopen(path, "wb");
	if (!f)
		abort();
	if (size && fwrite(data, 1, size, f) != size)
		abort();
	fclose(f);

	struct xpu_workload *w = NULL;
	struct xpu_err err = {{0}};
	int rc = xpu_workload_load(path, FUZZ_FORMAT, NULL, &w, &err);
	/* The contract: a workload, or -EINVAL with a message (and no workload). */
	if (rc == 0) {
		if (!w)
			abort();
		xpu_workload_free(w);
	} else if (rc != -EINVAL || w || !err.msg[0]) {
		fprintf(stderr, "rc %d, message \"%s\"\n", rc, err.msg);
		abort();
	}
	return 0;
}
