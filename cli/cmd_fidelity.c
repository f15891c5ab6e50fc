/* cmd_fidelity.c — `xpuopt fidelity TRACE`: run a trace live on this machine and in
 * simulation on its calibrated platform, and report how far the simulation is from the
 * live run: makespan, each task's duration, each unit's busy time, each class. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli.h"
#include "registry.h"
#include "run.h"
#include "trace.h"

static void usage(FILE *f)
{
	fputs("usage: xpuopt fidelity TRACE [--platform FILE.xml] [--threads N] [--cores C]\n"
	      "                       [--backend NAME[:...]] [--sched POLICY] [-o DIR]\n"
	      "\n"
	      "Replay TRACE live on this machine (the cpu backend, --threads workers,\n"
	      "--cores of them per unit, as `xpuopt run --live`; or --backend's units) and\n"
	      "in simulation on the platform file that `xpuopt calibrate` wrote for the same\n"
	      "backend (calibrated first, with --trace TRACE, into DIR/calibrated.xml or a\n"
	      "temporary file, when --platform is not given), with the same scheduling\n"
	      "policy, and print how far the simulation is from the live run, as 'key\n"
	      "value' lines (errors are (sim - live) / live):\n"
	      "\n"
	      "  makespan_live_s, makespan_sim_s, makespan_error\n"
	      "  task_error_p50, task_error_p95   |error| of each task's duration\n"
	      "  busy_error_UNIT                  each unit's busy time\n"
	      "  class_error_CLASS                each class's total task time\n"
	      "\n"
	      "With -o DIR the two runs' results are written as DIR/live.h5 and DIR/sim.h5\n"
	      "(one schema: `xpuopt compare DIR/live.h5 DIR/sim.h5` compares them). Run it\n"
	      "on an otherwise idle machine.\n"
	      "\n"
	      "  -p, --platform FILE the calibrated platform (default: calibrate first)\n"
	      "  -j, --threads N     worker threads (default: the CPUs this process may use)\n"
	      "      --cores C       workers per unit (default 1)\n"
	      "  -b, --backend NAME  the live backend (default cpu: opencl, xrt, fallback...)\n"
	      "  -s, --sched POLICY  scheduling policy of both runs (default fifo)\n"
	      "  -o, --output DIR    write calibrated.xml, live.h5 and sim.h5 there\n"
	      "  -h, --help          this help\n"
	      "\n"
	      "Exit status: 0, 1 when a run failed, 2 for bad usage or input.\n",
	      f);
}

static int bad(const char *what, const char *arg)
{
	return xpu_cli_bad_usage_quoted("fidelity", what, arg);
}

/* What the comparison needs of one run. */
struct side {
	double makespan;
	uint32_t ntasks;
	int nunits;
	double *dur;  /* per task: end - start, NAN when it did not run */
	int *cls;     /* per task */
	double *busy; /* per unit */
	char **unit;  /* per unit: name */
};

static void side_free(struct side *s)
{
	free(s->dur);
	free(s->cls);
	free(s->busy);
	for (int u = 0; s->unit && u < s->nunits; u++)
		free(s->unit[u]);
	free(s->unit);
	memset(s, 0, sizeof(*s));
}

static int side_from(const struct xpu_run_result *r, struct side *s)
{
	memset(s, 0, sizeof(*s));
	s->makespan = xpu_summary_get(&r->summary, "makespan_s");
	s->ntasks = r->w->ntasks;
	s->nunits = r->pf.nunits;
	s->dur = malloc(sizeof(double) * (s->ntasks ? s->ntasks : 1));
	s->cls = malloc(sizeof(int) * (s->ntasks ? s->ntasks : 1));
	s->busy = malloc(sizeof(double) * (size_t)(s->nunits ? s->nunits : 1));
	s->unit = calloc((size_t)(s->nunits ? s->nunits : 1), sizeof(char *));
	if (!s->dur || !s->cls || !s->busy || !s->unit)
		return -ENOMEM;
	for (uint32_t i = 0; i < s->ntasks; i++) {
		const struct xpu_task *t = &r->w->tasks[i];
		s->dur[i] = t->state == XPU_TASK_DONE ? t->end_t - t->start_t : NAN;
		s->cls[i] = t->cls;
	}
	for (int u = 0; u < s->nunits; u++) {
		s->busy[u] = r->us[u].busy_s;
		if (!(s->unit[u] = strdup(r->pf.units[u].name)))
			return -ENOMEM;
	}
	return 0;
}

static int write_all(int fd, const void *p, size_t n)
{
	for (size_t done = 0; done < n;) {
		ssize_t w = write(fd, (const char *)p + done, n - done);
		if (w <= 0)
			return -1;
		done += (size_t)w;
	}
	return 0;
}

static int read_all(int fd, void *p, size_t n)
{
	for (size_t done = 0; done < n;) {
		ssize_t r = read(fd, (char *)p + done, n - done);
		if (r <= 0)
			return -1;
		done += (size_t)r;
	}
	return 0;
}

/* The simulated run, in a child (SimGrid allows one engine per process): its side comes
 * back through a pipe. */
static int sim_side(const struct xpu_run_opts *o, struct side *s, struct xpu_err *err)
{
	int fd[2];
	fflush(stdout);
	fflush(stderr);
	if (pipe(fd))
		return -errno;
	pid_t pid = fork();
	if (pid < 0) {
		close(fd[0]);
		close(fd[1]);
		return -errno;
	}
	if (pid == 0) {
		close(fd[0]);
		struct xpu_err e = {{0}};
		struct xpu_run_result r;
		int rc = xpu_run(o, &r, &e);
		struct side c;
		if (!rc && side_from(&r, &c))
			rc = -ENOMEM;
		int bad_io =
		    write_all(fd[1], &rc, sizeof(rc)) || write_all(fd[1], e.msg, sizeof(e.msg));
		if (!rc && !bad_io) {
			bad_io = write_all(fd[1], &c.makespan, sizeof(double)) ||
			         write_all(fd[1], &c.ntasks, sizeof(c.ntasks)) ||
			         write_all(fd[1], &c.nunits, sizeof(c.nunits)) ||
			         write_all(fd[1], c.dur, sizeof(double) * c.ntasks) ||
			         write_all(fd[1], c.cls, sizeof(int) * c.ntasks) ||
			         write_all(fd[1], c.busy, sizeof(double) * (size_t)c.nunits);
			for (int u = 0; u < c.nunits && !bad_io; u++) {
				char name[64] = "";
				snprintf(name, sizeof(name), "%s", c.unit[u]);
				bad_io = write_all(fd[1], name, sizeof(name));
			}
		}
		_exit(bad_io ? 3 : 0);
	}
	close(fd[1]);
	int rc = 0, st;
	memset(s, 0, sizeof(*s));
	if (read_all(fd[0], &rc, sizeof(rc)) || read_all(fd[0], err->msg, sizeof(err->msg))) {
		rc = -EIO;
	} else if (!rc) {
		if (read_all(fd[0], &s->makespan, sizeof(double)) ||
		    read_all(fd[0], &s->ntasks, sizeof(s->ntasks)) ||
		    read_all(fd[0], &s->nunits, sizeof(s->nunits)) || s->nunits < 0 ||
		    s->nunits > 1 << 20) {
			rc = -EIO;
		} else {
			s->dur = malloc(sizeof(double) * (s->ntasks ? s->ntasks : 1));
			s->cls = malloc(sizeof(int) * (s->ntasks ? s->ntasks : 1));
			s->busy = malloc(sizeof(double) * (size_t)(s->nunits ? s->nunits : 1));
			s->unit = calloc((size_t)(s->nunits ? s->nunits : 1), sizeof(char *));
			if (!s->dur || !s->cls || !s->busy || !s->unit ||
			    read_all(fd[0], s->dur, sizeof(double) * s->ntasks) ||
			    read_all(fd[0], s->cls, sizeof(int) * s->ntasks) ||
			    read_all(fd[0], s->busy, sizeof(double) * (size_t)s->nunits))
				rc = -EIO;
			for (int u = 0; u < s->nunits && !rc; u++) {
				char name[64];
				if (read_all(fd[0], name, sizeof(name)))
					rc = -EIO;
				else if (!(s->unit[u] = strndup(name, sizeof(name) - 1)))
					rc = -ENOMEM;
			}
		}
	}
	close(fd[0]);
	waitpid(pid, &st, 0);
	if (rc == -EIO || !WIFEXITED(st) || WEXITSTATUS(st)) {
		if (!err->msg[0])
			xpu_errf(err, NULL, 0, "the simulated run died");
		rc = rc ? rc : -EIO;
	}
	if (rc)
		side_free(s);
	return rc;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static double rel(double sim, double live)
{
	return live > 0 ? (sim - live) / live : NAN;
}

/* The comparison, as 'key value' lines. */
static void report(const struct side *lv, const struct side *sm)
{
	printf("makespan_live_s %.9g\nmakespan_sim_s %.9g\nmakespan_error %+.4f\n", lv->makespan,
	       sm->makespan, rel(sm->makespan, lv->makespan));
	double *e = malloc(sizeof(double) * (lv->ntasks ? lv->ntasks : 1));
	uint32_t n = 0;
	for (uint32_t i = 0; e && i < lv->ntasks && i < sm->ntasks; i++) {
		double x = fabs(rel(sm->dur[i], lv->dur[i]));
		if (isfinite(x))
			e[n++] = x;
	}
	if (e && n) {
		qsort(e, n, sizeof(double), cmp_double);
		printf("task_error_p50 %.4f\ntask_error_p95 %.4f\n", e[(n - 1) / 2],
		       e[(size_t)ceil(0.95 * n) - 1]);
	} else {
		printf("task_error_p50 nan\ntask_error_p95 nan\n");
	}
	free(e);
	printf("tasks_compared %u\n", n);
	for (int u = 0; u < lv->nunits; u++) {
		int k = -1; /* the simulated unit of the same name */
		for (int v = 0; v < sm->nunits && k < 0; v++)
			if (!strcmp(sm->unit[v], lv->unit[u]))
				k = v;
		printf("busy_error_%s %+.4f\n", lv->unit[u],
		       k < 0 ? NAN : rel(sm->busy[k], lv->busy[u]));
	}
	for (int c = 0; c < XPU_CLASS_COUNT; c++) {
		double a = 0, b = 0;
		uint32_t m = 0;
		for (uint32_t i = 0; i < lv->ntasks && i < sm->ntasks; i++)
			if (lv->cls[i] == c && isfinite(lv->dur[i]) && isfinite(sm->dur[i])) {
				a += lv->dur[i];
				b += sm->dur[i];
				m++;
			}
		if (m)
			printf("class_error_%s %+.4f\n", xpu_class_name(c), rel(b, a));
	}
}

int xpu_cmd_fidelity(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"platform", required_argument, NULL, 'p'}, {"threads", required_argument, NULL, 'j'},
	    {"cores", required_argument, NULL, 'c'},    {"sched", required_argument, NULL, 's'},
	    {"output", required_argument, NULL, 'o'},   {"backend", required_argument, NULL, 'b'},
	    {"help", no_argument, NULL, 'h'},           {NULL, 0, NULL, 0},
	};
	const char *platform = NULL, *threads = NULL, *cores = NULL, *sched = "fifo", *dir = NULL,
	           *backend = NULL;
	int c;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":p:j:s:o:b:h", opts, NULL)) != -1) {
		char *end;
		long v;
		switch (c) {
		case 'p':
			platform = optarg;
			break;
		case 'j':
		case 'c':
			v = strtol(optarg, &end, 10);
			if (end == optarg || *end || v < 1 || v > 4096)
				return bad(c == 'j'
				               ? "--threads: expected a whole number from 1 to 4096"
				               : "--cores: expected a whole number from 1 to 4096",
				           optarg);
			*(c == 'j' ? &threads : &cores) = optarg;
			break;
		case 's':
			sched = optarg;
			break;
		case 'o':
			dir = optarg;
			break;
		case 'b':
			backend = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case ':':
			return xpu_cli_bad_usage("fidelity", "option '%s' needs a value",
			                         argv[optind - 1]);
		default:
			return xpu_cli_bad_usage("fidelity", "unknown option '%s'",
			                         argv[optind - 1]);
		}
	}
	if (optind != argc - 1)
		return optind >= argc ? xpu_cli_bad_usage("fidelity", "%s", "a TRACE is needed")
		                      : bad("unexpected argument", argv[optind + 1]);
	const char *trace = argv[optind];
	if (access(trace, R_OK))
		return bad("cannot read the trace", trace);
	if (platform && access(platform, R_OK))
		return bad("--platform: cannot read", platform);
	/* The trace and the policy are checked before anything is calibrated or written:
	 * bad input costs no calibration and leaves no output behind. */
	{
		struct xpu_err perr = {{0}};
		struct xpu_workload *w = NULL;
		struct xpu_spec spec = {0};
		const void *ops;
		int prc = xpu_workload_load(trace, NULL, NULL, &w, &perr);
		if (prc == 0 && w->ntasks == 0)
			prc = xpu_errf(&perr, trace, 0, "no tasks: there is nothing to compare");
		/* A cpu unit is --cores workers wide (1 unless given): a wider task could
		 * never run live, so it is refused before calibrating. Other backends'
		 * widths are known once they are open. */
		long width = cores ? strtol(cores, NULL, 10) : 1;
		int plain_cpu = !backend || !strcmp(backend, "cpu"); /* no parameters */
		for (uint32_t i = 0; prc == 0 && plain_cpu && i < w->ntasks; i++)
			if (w->tasks[i].width > (uint32_t)width)
				prc = xpu_errf(
				    &perr, trace, w->tasks[i].line,
				    "field 'width': task \"%s\" needs %u cores of one unit at "
				    "once; the live units here are %ld wide (give --cores)",
				    w->tasks[i].id, w->tasks[i].width, width);
		xpu_workload_free(w);
		if (prc == 0) {
			prc = xpu_policy_resolve(XPU_POLICY_SCHED, sched, "--sched", &spec, &ops,
			                         &perr);
			xpu_spec_free(&spec);
		}
		int cpu;
		if (prc == 0)
			prc = xpu_cli_live_backend(
			    backend, threads || cores ? "--threads and --cores" : NULL, &cpu,
			    &perr);
		if (prc) {
			fprintf(stderr, "xpuopt fidelity: %s\n",
			        perr.msg[0] ? perr.msg : "cannot read the trace");
			return prc == -ENOMEM ? 1 : 2;
		}
	}
	int made_dir = 0;
	if (dir) {
		if (mkdir(dir, 0777) == 0)
			made_dir = 1;
		else if (errno != EEXIST)
			return bad("--output: cannot create the directory", dir);
	}

	char cal[4096] = "", live_h5[4096] = "", sim_h5[4096] = "";
	int tmp_cal = 0;
	if (dir) {
		snprintf(live_h5, sizeof(live_h5), "%s/live.h5", dir);
		snprintf(sim_h5, sizeof(sim_h5), "%s/sim.h5", dir);
	}
	if (!platform) { /* calibrate first, with the same threads and cores */
		if (dir) {
			snprintf(cal, sizeof(cal), "%s/calibrated.xml", dir);
		} else {
			const char *t = getenv("TMPDIR");
			snprintf(cal, sizeof(cal), "%s/xpuopt-fidelity-XXXXXX.xml",
			         t && *t ? t : "/tmp");
			int fd = mkstemps(cal, 4);
			if (fd < 0) {
				fprintf(stderr, "xpuopt fidelity: cannot create %s: %s\n", cal,
				        strerror(errno));
				return 1;
			}
			close(fd);
			tmp_cal = 1;
		}
		char *cargv[12];
		int cargc = 0;
		cargv[cargc++] = "calibrate";
		if (backend) {
			cargv[cargc++] = "--backend";
			cargv[cargc++] = (char *)backend;
		}
		if (threads) {
			cargv[cargc++] = "--threads";
			cargv[cargc++] = (char *)threads;
		}
		if (cores) {
			cargv[cargc++] = "--cores";
			cargv[cargc++] = (char *)cores;
		}
		cargv[cargc++] = "--trace"; /* each class sized as the trace's tasks */
		cargv[cargc++] = (char *)trace;
		cargv[cargc++] = "-o";
		cargv[cargc++] = cal;
		cargv[cargc] = NULL;
		fprintf(stderr, "xpuopt fidelity: calibrating first (xpuopt calibrate)\n");
		int rc = xpu_cmd_calibrate(cargc, cargv);
		if (rc) {
			if (tmp_cal)
				unlink(cal);
			if (made_dir)
				rmdir(dir);
			return rc;
		}
		platform = cal;
	}

	struct xpu_param bp[2];
	int nbp = 0;
	if (threads)
		bp[nbp++] = (struct xpu_param){"threads", threads};
	if (cores)
		bp[nbp++] = (struct xpu_param){"cores", cores};
	struct xpu_run_opts so = {.platform = platform,
	                          .trace = trace,
	                          .sched = sched,
	                          .quiet = 1,
	                          .output = dir ? sim_h5 : NULL};
	struct xpu_run_opts lo = {.trace = trace,
	                          .sched = sched,
	                          .live = 1,
	                          .backend = backend,
	                          .quiet = 1,
	                          .backend_params = bp,
	                          .nbackend_params = nbp,
	                          .output = dir ? live_h5 : NULL};
	struct side sm, lv;
	struct xpu_err err = {{0}};
	int rc = sim_side(&so, &sm, &err);
	if (!rc) {
		struct xpu_run_result r;
		rc = xpu_run(&lo, &r, &err);
		if (!rc) {
			if (side_from(&r, &lv))
				rc = -ENOMEM;
			xpu_run_result_free(&r);
		}
		if (rc)
			side_free(&sm);
	}
	/* Bad input found only now (the trace against the calibrated units) leaves no
	 * output: the calibration written for it and a directory made for it go too. */
	if (tmp_cal || (rc == -EINVAL && cal[0] && dir)) {
		unlink(cal);
		if (made_dir)
			rmdir(dir);
	}
	if (rc) {
		fprintf(stderr, "xpuopt fidelity: %s\n", err.msg[0] ? err.msg : strerror(-rc));
		return rc == -EINVAL ? 2 : 1;
	}
	if (lv.ntasks != sm.ntasks) {
		fprintf(stderr, "xpuopt fidelity: the runs read %u and %u tasks\n", lv.ntasks,
		        sm.ntasks);
		side_free(&lv);
		side_free(&sm);
		return 1;
	}
	report(&lv, &sm);
	side_free(&lv);
	side_free(&sm);
	if (dir)
		fprintf(stderr, "xpuopt fidelity: wrote %s and %s\n", live_h5, sim_h5);
	return 0;
}
