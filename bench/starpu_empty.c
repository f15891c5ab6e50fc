/* starpu_empty.c — the StarPU anchor of bench/live.sh: N empty tasks on StarPU's CPU
 * workers (STARPU_NCPU, STARPU_SCHED set by the caller), all submitted, then waited for.
 * Prints the microseconds per task from the first submission to the last completion.
 * Built by bench/live.sh when pkg-config finds starpu-1.3 (Debian: libstarpu-dev).
 * Usage: starpu_empty N */
#include <starpu.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static void nothing(void *buffers[], void *arg)
{
	(void)buffers;
	(void)arg;
}

static struct starpu_codelet cl = {
    .cpu_funcs = {nothing},
    .nbuffers = 0,
    .name = "empty",
};

static double mono(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

int main(int argc, char **argv)
{
	long n = argc > 1 ? atol(argv[1]) : 0;
	if (n < 1) {
		fprintf(stderr, "usage: starpu_empty N\n");
		return 2;
	}
	if (starpu_init(NULL) != 0) {
		fprintf(stderr, "starpu_empty: starpu_init failed\n");
		return 1;
	}
	double t0 = mono();
	for (long i = 0; i < n; i++) {
		struct starpu_task *t = starpu_task_create();
		t->cl = &cl;
		t->detach = 1;
		if (starpu_task_submit(t) != 0) {
			fprintf(stderr, "starpu_empty: submit failed\n");
			return 1;
		}
	}
	starpu_task_wait_for_all();
	double el = mono() - t0;
	printf("%.4f\n", 1e6 * el / (double)n);
	starpu_shutdown();
	return 0;
}
