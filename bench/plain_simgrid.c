/* plain_simgrid.c — the benchmark's baseline: the same bag of independent tasks as an
 * xpuopt replay, run by a minimal program on SimGrid's C API alone (no xpuopt).
 *
 *   plain_simgrid [--energy] PLATFORM N FLOPS     N tasks of FLOPS each
 *   plain_simgrid [--energy] PLATFORM TRACE.csv   tasks from a native trace (id,submit,flops)
 *
 * One dispatcher actor hands tasks, in order, to whichever worker is idle; there is one
 * worker per host (bench/platform64.xml has 64 one-core hosts), and each runs its task
 * as one SimGrid execution. Hand-off goes through semaphores, which cost no simulated
 * time (a mailbox message would be a network communication). --energy also loads the
 * host energy plugin, as xpuopt's sim backend does. Prints `key value` lines:
 * makespan_s, tasks, hosts, wall_s, tasks_per_s. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <simgrid/actor.h>
#include <simgrid/engine.h>
#include <simgrid/host.h>
#include <simgrid/plugins/energy.h>
#include <simgrid/semaphore.h>
#include <xbt/log.h>

struct task {
	double submit, flops;
};

struct worker {
	sg_sem_t go;
	double flops;
	struct worker *next_idle;
};

static struct task *tasks;
static size_t ntasks;
static struct worker *workers;
static size_t nworkers;
static struct worker *idle; /* stack of idle workers */
static sg_sem_t idle_count; /* number of idle workers */
static double makespan;

static void worker_main(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	struct worker *w = sg_actor_self_get_data();
	for (;;) {
		sg_sem_acquire(w->go);
		sg_actor_execute(w->flops);
		w->next_idle = idle;
		idle = w;
		sg_sem_release(idle_count);
	}
}

static void dispatcher_main(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	for (size_t i = 0; i < ntasks; i++) {
		if (tasks[i].submit > simgrid_get_clock())
			sg_actor_sleep_until(tasks[i].submit);
		sg_sem_acquire(idle_count);
		struct worker *w = idle;
		idle = w->next_idle;
		w->flops = tasks[i].flops;
		sg_sem_release(w->go);
	}
	/* Every worker idle again: the last task has ended. */
	for (size_t i = 0; i < nworkers; i++)
		sg_sem_acquire(idle_count);
	makespan = simgrid_get_clock();
}

/* Reads the flops (and submit, when present) columns of a native trace CSV. */
static int read_trace(const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		fprintf(stderr, "plain_simgrid: %s: %s\n", path, strerror(errno));
		return -1;
	}
	char line[4096];
	int col_flops = -1, col_submit = -1;
	if (fgets(line, sizeof(line), f)) {
		int c = 0;
		for (char *tok = strtok(line, ",\r\n"); tok; tok = strtok(NULL, ",\r\n"), c++) {
			if (!strcmp(tok, "flops"))
				col_flops = c;
			else if (!strcmp(tok, "submit"))
				col_submit = c;
		}
	}
	if (col_flops < 0) {
		fprintf(stderr, "plain_simgrid: %s:1: no 'flops' column\n", path);
		fclose(f);
		return -1;
	}
	size_t cap = 0;
	int lineno = 1;
	while (fgets(line, sizeof(line), f)) {
		lineno++;
		if (ntasks == cap) {
			cap = cap ? cap * 2 : 1024;
			struct task *nt = realloc(tasks, cap * sizeof(*nt));
			if (!nt) {
				fclose(f);
				return -1;
			}
			tasks = nt;
		}
		struct task t = {0, -1};
		char *p = line;
		for (int c = 0; p; c++) {
			char *end;
			if (c == col_flops)
				t.flops = strtod(p, &end);
			else if (c == col_submit)
				t.submit = strtod(p, &end);
			p = strchr(p, ',');
			if (p)
				p++;
		}
		if (!(t.flops >= 0)) {
			fprintf(stderr,
			        "plain_simgrid: %s:%d: field 'flops': expected a "
			        "non-negative number\n",
			        path, lineno);
			fclose(f);
			return -1;
		}
		tasks[ntasks++] = t;
	}
	fclose(f);
	return 0;
}

int main(int argc, char **argv)
{
	int energy = argc > 1 && !strcmp(argv[1], "--energy");
	char **arg = argv + 1 + energy;
	int nargs = argc - 1 - energy;
	if (nargs != 2 && nargs != 3) {
		fprintf(stderr, "usage: plain_simgrid [--energy] PLATFORM N FLOPS\n"
		                "       plain_simgrid [--energy] PLATFORM TRACE.csv\n");
		return 2;
	}
	if (nargs == 3) {
		char *e1, *e2;
		long long n = strtoll(arg[1], &e1, 10);
		double flops = strtod(arg[2], &e2);
		if (*e1 || *e2 || n < 0 || !(flops >= 0)) {
			fprintf(stderr,
			        "plain_simgrid: N and FLOPS must be non-negative numbers\n");
			return 2;
		}
		ntasks = (size_t)n;
		tasks = calloc(ntasks ? ntasks : 1, sizeof(*tasks));
		if (!tasks)
			return 1;
		for (size_t i = 0; i < ntasks; i++)
			tasks[i].flops = flops;
	} else if (read_trace(arg[1]) < 0) {
		return 2;
	}

	xbt_log_control_set("root.thresh:error");
	int sg_argc = 1;
	simgrid_init(&sg_argc, argv);
	if (energy)
		sg_host_energy_plugin_init();
	simgrid_load_platform(arg[0]);

	nworkers = sg_host_count();
	sg_host_t *hosts = sg_host_list();
	workers = calloc(nworkers, sizeof(*workers));
	idle_count = sg_sem_init((int)nworkers);
	for (size_t i = nworkers; i-- > 0;) {
		struct worker *w = &workers[i];
		w->go = sg_sem_init(0);
		w->next_idle = idle;
		idle = w;
		sg_actor_t a = sg_actor_init(sg_host_get_name(hosts[i]), hosts[i]);
		sg_actor_set_data(a, w);
		sg_actor_start(a, worker_main, 0, NULL);
		sg_actor_daemonize(a);
	}
	sg_actor_create("dispatcher", hosts[0], dispatcher_main, 0, NULL);
	free(hosts);

	struct timespec t0, t1;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	simgrid_run();
	clock_gettime(CLOCK_MONOTONIC, &t1);
	double wall = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) * 1e-9;

	printf("makespan_s %.9f\n", makespan);
	printf("tasks %zu\n", ntasks);
	printf("hosts %zu\n", nworkers);
	printf("wall_s %.3f\n", wall);
	printf("tasks_per_s %.0f\n", wall > 0 ? (double)ntasks / wall : 0);
	free(tasks);
	free(workers);
	return 0;
}
