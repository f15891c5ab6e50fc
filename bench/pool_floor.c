/* pool_floor.c — the practical floor of bench/live.sh: a plain pool of W pthreads, each
 * with a single-producer single-consumer ring of task numbers; the main thread deals N
 * empty tasks round-robin and waits for all of them to be counted. No scheduler, no
 * records, no system call per task: what dispatch costs when it does nothing else.
 * Prints the microseconds per task. Usage: pool_floor N W */
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define RING 1024

struct worker {
	uint64_t tail __attribute__((aligned(64)));
	uint64_t head __attribute__((aligned(64)));
	uint64_t ran;
	uint64_t ring[RING];
};

static int stop;

/* Spinning on an oversubscribed machine (W workers and the dealer on fewer cores)
 * yields now and then, so that no thread spins out a whole time slice. */
static void relax(unsigned *k)
{
	if (++*k % 64 == 0)
		sched_yield();
#if defined(__x86_64__) || defined(__i386__)
	else
		__builtin_ia32_pause();
#endif
}

static void *work(void *arg)
{
	struct worker *w = arg;
	unsigned k = 0;
	for (;;) {
		uint64_t t = __atomic_load_n(&w->tail, __ATOMIC_ACQUIRE);
		if (w->head == t) {
			if (__atomic_load_n(&stop, __ATOMIC_ACQUIRE))
				return NULL;
			relax(&k);
			continue;
		}
		volatile uint64_t task = w->ring[w->head % RING]; /* "runs" it */
		(void)task;
		w->ran++;
		__atomic_store_n(&w->head, w->head + 1, __ATOMIC_RELEASE);
	}
}

static double mono(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + 1e-9 * ts.tv_nsec;
}

int main(int argc, char **argv)
{
	long n = argc > 2 ? atol(argv[1]) : 0, nw = argc > 2 ? atol(argv[2]) : 0;
	if (n < 1 || nw < 1 || nw > 1024) {
		fprintf(stderr, "usage: pool_floor N W\n");
		return 2;
	}
	struct worker *w;
	if (posix_memalign((void **)&w, 64, sizeof(*w) * (size_t)nw))
		return 1;
	pthread_t *th = malloc(sizeof(*th) * (size_t)nw);
	for (long k = 0; k < nw; k++) {
		w[k].head = w[k].tail = w[k].ran = 0;
		pthread_create(&th[k], NULL, work, &w[k]);
	}
	unsigned k = 0; /* spins of the dealer */
	double t0 = mono();
	for (long i = 0; i < n; i++) {
		struct worker *x = &w[i % nw];
		while (x->tail - __atomic_load_n(&x->head, __ATOMIC_ACQUIRE) >= RING)
			relax(&k);
		x->ring[x->tail % RING] = (uint64_t)i;
		__atomic_store_n(&x->tail, x->tail + 1, __ATOMIC_RELEASE);
	}
	for (long j = 0; j < nw; j++)
		while (__atomic_load_n(&w[j].head, __ATOMIC_ACQUIRE) != w[j].tail)
			relax(&k);
	double el = mono() - t0;
	__atomic_store_n(&stop, 1, __ATOMIC_RELEASE);
	uint64_t ran = 0;
	for (long k = 0; k < nw; k++) {
		pthread_join(th[k], NULL);
		ran += w[k].ran;
	}
	if (ran != (uint64_t)n)
		return 1;
	printf("%.4f\n", 1e6 * el / (double)n);
	free(th);
	free(w);
	return 0;
}
