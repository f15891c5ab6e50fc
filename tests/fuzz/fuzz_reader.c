/* fuzz_reader.c — libFuzzer target: one trace reader (FUZZ_FORMAT) must load or refuse any input,
 * never crash or hang.
 *
 * Variants, chosen at build time (tools/fuzz.sh names them FORMAT, FORMAT-gz,
 * FORMAT-params and nodes):
 *   -DFUZZ_GZIP    the input is written gzip-compressed, so that the decompressed bytes,
 *                  not the gzip framing, are what the fuzzer explores (.swf.gz);
 *   -DFUZZ_PARAMS  the input's first line is the reader's parameter list, as in
 *                  --trace-format 'FORMAT:LINE', and the rest is the file;
 *   -DFUZZ_NODES   the input is a cluster node list read as a platform (traces/nodes.c)
 *                  and its SimGrid file is written out;
 *   -DFUZZ_PLATFORM the input is a platform file given to the check that runs before
 *                  SimGrid reads one (sim/platform_check.c): it must accept or refuse
 *                  with a message, whatever the bytes;
 *   -DFUZZ_REQUESTS the input is an LLM request stream for serving runs
 *                  (traces/requests.c). */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "nodes.h"
#include "platform.h"
#include "requests.h"
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

static void write_input(const uint8_t *data, size_t size)
{
#ifdef FUZZ_GZIP
	gzFile gz = gzopen(path, "wb");
	if (!gz)
		abort();
	if (size && gzwrite(gz, data, (unsigned)size) != (int)size)
		abort();
	if (gzclose(gz) != Z_OK)
		abort();
#else
	FILE *f = fopen(path, "wb");
	if (!f)
		abort();
	if (size && fwrite(data, 1, size, f) != size)
		abort();
	fclose(f);
#endif
}

/* The contract: 0, or -EINVAL with a message. */
static void check(int rc, const struct xpu_err *err, int got_result)
{
	if (rc == 0 ? !got_result : rc != -EINVAL || got_result || !err->msg[0]) {
		fprintf(stderr, "rc %d, message \"%s\"\n", rc, err->msg);
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!path[0]) {
		const char *dir = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
		/* Node lists are recognised by their ".csv" name; the readers are told
		 * their format. */
		snprintf(path, sizeof(path), "%s/xpuopt-fuzz-%s-%ld.csv", dir, FUZZ_FORMAT,
		         (long)getpid());
		atexit(cleanup);
	}
	struct xpu_err err = {{0}};
#if defined(FUZZ_PLATFORM)
	write_input(data, size);
	int rc = xpu_platform_precheck(path, &err);
	if (rc != 0 && (rc != -EINVAL || !err.msg[0]) && rc != -ENOMEM) {
		fprintf(stderr, "rc %d, message \"%s\"\n", rc, err.msg);
		abort();
	}
#elif defined(FUZZ_REQUESTS)
	write_input(data, size);
	struct xpu_requests rq;
	int rc = xpu_requests_read(path, &rq, &err);
	check(rc, &err, rc == 0 && rq.n > 0);
	if (rc == 0) {
		for (uint32_t i = 1; i < rq.n; i++) /* sorted, whole, finite */
			if (!(rq.v[i].arrival >= rq.v[i - 1].arrival) || rq.v[i].prompt < 1 ||
			    rq.v[i].output < 1 || !rq.v[i].id)
				abort();
		xpu_requests_free(&rq);
	}
#elif defined(FUZZ_NODES)
	write_input(data, size);
	struct xpu_nodes ns;
	int rc = xpu_nodes_read(path, NULL, &ns, &err);
	check(rc, &err, rc == 0 && ns.n > 0);
	if (rc == 0) {
		FILE *out = fopen("/dev/null", "w");
		if (!out || xpu_nodes_write_platform(&ns, out) != 0)
			abort();
		fclose(out);
		xpu_nodes_free(&ns);
	}
#else
	char format[320] = FUZZ_FORMAT;
#ifdef FUZZ_PARAMS
	/* "key=value,..." up to the first newline (at most 256 bytes) is the spec. */
	size_t n = 0;
	while (n < size && n < 256 && data[n] != '\n')
		n++;
	if (memchr(data, 0, n))
		return 0; /* a C string cannot carry it: not an input a user could give */
	snprintf(format, sizeof(format), "%s:%.*s", FUZZ_FORMAT, (int)n, (const char *)data);
	if (n < size)
		n++;
	data += n;
	size -= n;
#endif
	write_input(data, size);
	struct xpu_workload *w = NULL;
	int rc = xpu_workload_load(path, format, NULL, &w, &err);
	check(rc, &err, w != NULL);
	if (w)
		xpu_workload_free(w);
#endif
	return 0;
}
