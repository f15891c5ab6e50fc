/* cmd_study.c — `xpuopt study`: run an experiment file's cases in parallel, resumably;
 * write Slurm job arrays for the same cases and merge their results. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <dirent.h>

#include "study.h"
#include "cli.h"
#include "study_cli.h"

static void usage(FILE *out)
{
	fprintf(out, "Usage: xpuopt study [options] FILE.cfg\n"
	             "       xpuopt study --slurm [options] FILE.cfg\n"
	             "       xpuopt study --merge [options] FILE.cfg [DIR...]\n\n"
	             "Run every case of an experiment file (platforms x traces x policy sets x\n"
	             "seeds), one `xpuopt run` per case, in parallel. Writes DIR/cases/ID.h5 per\n"
	             "case, DIR/logs/ID.log, and DIR/index.csv. Resumable: a rerun runs only the\n"
	             "cases whose result is missing or unreadable. Interrupted (SIGINT, SIGTERM,\n"
	             "SIGHUP), it stops the running cases, keeps those done, writes the index\n"
	             "and exits 130, 143 or 129; a rerun resumes with the cases left.\n\n"
	             "  -j, --jobs N        cases run at once (default: the number of cores)\n"
	             "  -o, --output DIR    study directory (default: the file's 'output', else\n"
	             "                      NAME.study in the working directory)\n"
	             "  -n, --dry-run       list the cases and their state, run nothing\n"
	             "      --slurm         write DIR/study.sbatch, a Slurm job array of the\n"
	             "                      missing cases (submit it with sbatch), and exit\n"
	             "      --merge         gather results: take each missing case from the DIRs\n"
	             "                      given (their cases/ folder or the DIR itself), check\n"
	             "                      every case, write the index; exit 1 if any is missing\n"
	             "      --case K        run case K only (0-based; what the Slurm job runs)\n"
	             "  -q, --quiet         no progress output\n"
	             "  -h, --help          this help\n\n"
	             "The experiment file format: experiments/README.md.\n"
	             "Exit status: 0 every case done, 1 a case failed, 2 bad usage or input.\n");
}

static int bad_usage(const char *fmt, const char *arg)
{
	return xpu_cli_bad_usage("study", fmt, arg);
}

static int mkdir_p(const char *dir)
{
	char b[PATH_MAX];
	snprintf(b, sizeof(b), "%s", dir);
	for (char *s = b + 1; *s; s++)
		if (*s == '/') {
			*s = 0;
			if (mkdir(b, 0777) && errno != EEXIST)
				return -errno;
			*s = '/';
		}
	if (mkdir(b, 0777) && errno != EEXIST)
		return -errno;
	return 0;
}

static int make_dirs(const struct xpu_study *st)
{
	char b[PATH_MAX];
	int rc = mkdir_p(st->outdir);
	if (!rc) {
		snprintf(b, sizeof(b), "%s/cases", st->outdir);
		rc = mkdir_p(b);
	}
	if (!rc) {
		snprintf(b, sizeof(b), "%s/logs", st->outdir);
		rc = mkdir_p(b);
	}
	if (rc)
		fprintf(stderr, "xpuopt study: cannot create %s: %s\n", st->outdir, strerror(-rc));
	return rc;
}

/* The program to run for each case: this one. */
static const char *self_exe(void)
{
	static char b[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", b, sizeof(b) - 1);
	if (n <= 0)
		return "xpuopt";
	b[n] = 0;
	return b;
}

/* A study killed with kill -9 may leave the temporary files of the results being
 * written; they are never read, and the next run removes them. Only called with the
 * study's lock held, so no live writer owns them. */
static void remove_stale(const struct xpu_study *st)
{
	char d[PATH_MAX];
	snprintf(d, sizeof(d), "%s/cases", st->outdir);
	DIR *dir = opendir(d);
	if (!dir)
		return;
	struct dirent *e;
	while ((e = readdir(dir)))
		if (strstr(e->d_name, ".h5.tmp-")) {
			char p[PATH_MAX + 256];
			snprintf(p, sizeof(p), "%s/%s", d, e->d_name);
			unlink(p);
		}
	closedir(dir);
}

static pid_t start_case(const struct xpu_study *st, const struct xpu_study_case *c)
{
	const struct xpu_policy_set *s = &st->sets[c->set];
	char seed[32], tick[64];
	snprintf(seed, sizeof(seed), "%llu", (unsigned long long)c->seed);
	snprintf(tick, sizeof(tick), "%.17g", st->tick);
	const char *exe = self_exe();
	const char *args[24] = {exe,          "run",
	                        "--platform", st->platforms[c->platform],
	                        "--trace",    st->traces[c->trace],
	                        "--sched",    s->sched,
	                        "--mem",      s->mem,
	                        "--power",    s->power,
	                        "--offload",  s->offload,
	                        "--seed",     seed,
	                        "--output",   c->result,
	                        "--quiet"};
	int n = 19;
	if (s->serve) { /* a serving set: xpuopt run --serve */
		n = 1;
		args[n++] = "run";
		args[n++] = "--serve";
		args[n++] = s->serve;
		args[n++] = "--router";
		args[n++] = s->router;
		args[n++] = "--model";
		args[n++] = s->model;
		if (s->deploy) {
			args[n++] = "--deploy";
			args[n++] = s->deploy;
		}
		args[n++] = "--platform";
		args[n++] = st->platforms[c->platform];
		args[n++] = "--trace";
		args[n++] = st->traces[c->trace];
		args[n++] = "--seed";
		args[n++] = seed;
		args[n++] = "--output";
		args[n++] = c->result;
		args[n++] = "--quiet";
	} else if (st->tick > 0) {
		args[n++] = "--tick";
		args[n++] = tick;
	}
	args[n] = NULL;
	pid_t parent = getpid();
	fflush(NULL);
	pid_t pid = fork();
	if (pid != 0)
		return pid;
	/* A case must not outlive its study: killed with kill -9, the study's children
	 * die too, and the rerun finds no orphan writing to its directory. */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	if (getppid() != parent)
		_exit(127);
	int fd = open(c->log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
	if (fd >= 0) {
		dup2(fd, 1);
		dup2(fd, 2);
	}
	int nul = open("/dev/null", O_RDONLY);
	if (nul >= 0)
		dup2(nul, 0);
	execv(exe, (char *const *)args);
	fprintf(stderr, "xpuopt study: cannot run %s: %s\n", exe, strerror(errno));
	_exit(127);
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void hms(double s, char *b, size_t n)
{
	long t = (long)(s + 0.5);
	if (t >= 3600)
		snprintf(b, n, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60, t % 60);
	else
		snprintf(b, n, "%ld:%02ld", t / 60, t % 60);
}

struct progress {
	int tty, quiet, total, done, failed, before;
	double t0;
};

static void progress_show(struct progress *pg, const char *id, double dur, int ok)
{
	if (pg->quiet)
		return;
	int ran = pg->done + pg->failed - pg->before;
	double el = now_s() - pg->t0;
	int left = pg->total - pg->done - pg->failed;
	char e[32], eta[32];
	hms(el, e, sizeof(e));
	hms(ran > 0 ? el / ran * left : 0, eta, sizeof(eta));
	if (pg->tty) {
		int w = 30, fill = pg->total ? (pg->done + pg->failed) * w / pg->total : w;
		char bar[64];
		for (int i = 0; i < w; i++)
			bar[i] = i < fill ? '#' : '.';
		bar[w] = 0;
		fprintf(stderr, "\r[%s] %d/%d %3d%%  %s elapsed  ETA %s%s%s   ", bar,
		        pg->done + pg->failed, pg->total,
		        pg->total ? (pg->done + pg->failed) * 100 / pg->total : 100, e, eta,
		        pg->failed ? "  failed: " : "", "");
		if (pg->failed)
			fprintf(stderr, "%d", pg->failed);
		if (!left)
			fputc('\n', stderr);
	} else if (id) {
		fprintf(stderr, "study: %d/%d %s %s (%.1f s), ETA %s\n", pg->done + pg->failed,
		        pg->total, id, ok ? "done" : "FAILED", dur, eta);
	}
}

/* SIGINT, SIGTERM or SIGHUP while cases run: the study stops starting cases, asks the
 * running ones to stop (each removes its temporary file), writes the index of the cases
 * done and exits 128 + the signal; a rerun resumes with the cases left. */
static volatile sig_atomic_t stop_sig;
static pid_t *volatile live_pids; /* the running cases, for the handler */
static volatile sig_atomic_t live_n;

static void on_stop(int sig)
{
	if (!stop_sig)
		stop_sig = sig;
	for (int k = 0; live_pids && k < live_n; k++)
		if (live_pids[k] > 0)
			kill(live_pids[k], SIGTERM); /* async-signal-safe */
}

static void install_stop(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop; /* no SA_RESTART: waitpid returns EINTR */
	sigemptyset(&sa.sa_mask);
	int sigs[] = {SIGINT, SIGTERM, SIGHUP};
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		struct sigaction old;
		if (sigaction(sigs[i], NULL, &old) == 0 && old.sa_handler == SIG_IGN)
			continue; /* nohup: stays ignored */
		sigaction(sigs[i], &sa, NULL);
	}
}

/* Run the cases listed in todo, at most jobs at once. done[] is updated per case.
 * Returns the number of failed cases; *stopped counts the cases stopped by an
 * interruption (neither done nor failed: a rerun runs them). */
static int run_cases(const struct xpu_study *st, const int *todo, int ntodo, int jobs, int *done,
                     struct progress *pg, int *stopped)
{
	int asked = 0;
	*stopped = 0;
	pid_t *pids = calloc((size_t)jobs, sizeof(pid_t));
	int *slot_case = calloc((size_t)jobs, sizeof(int));
	double *slot_t = calloc((size_t)jobs, sizeof(double));
	int next = 0, running = 0, failed = 0;
	if (!pids || !slot_case || !slot_t) {
		free(pids);
		free(slot_case);
		free(slot_t);
		return ntodo;
	}
	live_n = jobs;
	live_pids = pids;
	while ((next < ntodo && !stop_sig) || running > 0) {
		if (stop_sig && !asked) {
			asked = 1;
			for (int k = 0; k < jobs; k++)
				if (pids[k] > 0)
					kill(pids[k], SIGTERM);
		}
		while (running < jobs && next < ntodo && !stop_sig) {
			int k = 0;
			while (pids[k])
				k++;
			const struct xpu_study_case *c = &st->cases[todo[next]];
			pid_t pid = start_case(st, c);
			if (pid < 0) {
				fprintf(stderr, "xpuopt study: cannot start a case: %s\n",
				        strerror(errno));
				done[todo[next]] = -1;
				failed++;
				next++;
				continue;
			}
			pids[k] = pid;
			slot_case[k] = todo[next++];
			slot_t[k] = now_s();
			running++;
		}
		int status;
		pid_t pid = waitpid(-1, &status, 0);
		if (pid < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		int k = 0;
		while (k < jobs && pids[k] != pid)
			k++;
		if (k == jobs)
			continue;
		pids[k] = 0;
		running--;
		const struct xpu_study_case *c = &st->cases[slot_case[k]];
		/* Trust the file, not only the exit status: a result is done only when it
		 * reads back. */
		int ok = WIFEXITED(status) && WEXITSTATUS(status) == 0 && xpu_study_case_done(c);
		int sig = WIFSIGNALED(status) ? WTERMSIG(status)
		          : WIFEXITED(status) && WEXITSTATUS(status) > 128
		              ? WEXITSTATUS(status) - 128
		              : 0;
		if (!ok && stop_sig && (sig == SIGINT || sig == SIGTERM || sig == SIGHUP)) {
			/* stopped by the interruption, not failed: left for the rerun */
			done[slot_case[k]] = 0;
			(*stopped)++;
			continue;
		}
		done[slot_case[k]] = ok ? 1 : -1;
		if (ok) {
			pg->done++;
		} else {
			pg->failed++;
			failed++;
			if (pg->tty && !pg->quiet)
				fputc('\n', stderr);
			if (WIFEXITED(status))
				fprintf(stderr, "xpuopt study: case %s failed (exit %d); see %s\n",
				        c->id, WEXITSTATUS(status), c->log);
			else
				fprintf(stderr,
				        "xpuopt study: case %s killed by signal %d; see %s\n",
				        c->id, WTERMSIG(status), c->log);
		}
		progress_show(pg, c->id, now_s() - slot_t[k], ok);
	}
	live_pids = NULL;
	live_n = 0;
	free(pids);
	free(slot_case);
	free(slot_t);
	return failed;
}

/* Slurm's --array list of the cases to run, as ranges: "0-3,7,9-10". */
static void array_spec(const int *todo, int n, FILE *f)
{
	for (int i = 0; i < n;) {
		int j = i;
		while (j + 1 < n && todo[j + 1] == todo[j] + 1)
			j++;
		fprintf(f, "%s%d", i ? "," : "", todo[i]);
		if (j > i)
			fprintf(f, "-%d", todo[j]);
		i = j + 1;
	}
}

static void sh_quote(FILE *f, const char *s)
{
	fputc('\'', f);
	for (; *s; s++)
		if (*s == '\'')
			fputs("'\\''", f);
		else
			fputc(*s, f);
	fputc('\'', f);
}

static int write_slurm(const struct xpu_study *st, const int *todo, int ntodo)
{
	char path[PATH_MAX], tmp[PATH_MAX + 32], cfg[PATH_MAX];
	snprintf(path, sizeof(path), "%s/study.sbatch", st->outdir);
	snprintf(tmp, sizeof(tmp), "%s.tmp-%ld", path, (long)getpid());
	if (!realpath(st->file, cfg))
		snprintf(cfg, sizeof(cfg), "%s", st->file);
	const char *exe = getenv("XPUOPT") ? getenv("XPUOPT") : self_exe();
	FILE *f = fopen(tmp, "w");
	if (!f) {
		fprintf(stderr, "xpuopt study: cannot write %s: %s\n", path, strerror(errno));
		return 1;
	}
	fprintf(f,
	        "#!/bin/bash\n"
	        "# study.sbatch — Slurm job array for the study '%s', written by\n"
	        "# 'xpuopt study --slurm'. One array task per missing case; each runs\n"
	        "# 'xpuopt study --case K', which writes cases/ID.h5 atomically here.\n"
	        "# Submit: sbatch %s\n"
	        "# Then, when the jobs are done: xpuopt study --merge -o DIR FILE.cfg\n",
	        st->name, path);
	fprintf(f, "#SBATCH --job-name=xpuopt-%s\n#SBATCH --array=", st->name);
	array_spec(todo, ntodo, f);
	fprintf(f,
	        "\n#SBATCH --ntasks=1\n#SBATCH --cpus-per-task=1\n"
	        "#SBATCH --output=%s/logs/slurm-%%A_%%a.out\n"
	        "set -eu\n"
	        "exec ${XPUOPT:-",
	        st->outdir);
	sh_quote(f, exe);
	fprintf(f, "} study --quiet --case \"$SLURM_ARRAY_TASK_ID\" --output ");
	sh_quote(f, st->outdir);
	fputc(' ', f);
	sh_quote(f, cfg);
	fputc('\n', f);
	int bad = ferror(f) | fclose(f);
	if (bad || chmod(tmp, 0755) || rename(tmp, path)) {
		fprintf(stderr, "xpuopt study: cannot write %s: %s\n", path, strerror(errno));
		unlink(tmp);
		return 1;
	}
	printf("%s\n", path);
	fprintf(stderr, "study: %d of %d cases in the job array; submit with: sbatch %s\n", ntodo,
	        st->ncases, path);
	return 0;
}

/* Copy src to dst through a temporary name, so that dst is whole or absent. */
static int copy_file(const char *src, const char *dst)
{
	char tmp[PATH_MAX + 32], buf[1 << 16];
	snprintf(tmp, sizeof(tmp), "%s.tmp-%ld", dst, (long)getpid());
	int in = open(src, O_RDONLY), out = -1, rc = -1;
	if (in < 0)
		return -1;
	out = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0666);
	if (out >= 0) {
		ssize_t n;
		rc = 0;
		while ((n = read(in, buf, sizeof(buf))) > 0)
			if (write(out, buf, (size_t)n) != n) {
				rc = -1;
				break;
			}
		if (n < 0 || fsync(out))
			rc = -1;
		if (close(out))
			rc = -1;
		if (!rc && rename(tmp, dst))
			rc = -1;
		if (rc)
			unlink(tmp);
	}
	close(in);
	return rc;
}

static int merge(const struct xpu_study *st, char **dirs, int ndirs, int *done, int quiet)
{
	int got = 0, missing = 0;
	for (int i = 0; i < st->ncases; i++) {
		const struct xpu_study_case *c = &st->cases[i];
		done[i] = xpu_study_case_done(c);
		const char *base = strrchr(c->result, '/') + 1;
		for (int d = 0; d < ndirs && !done[i]; d++) {
			char p[PATH_MAX * 2];
			const char *fmt[] = {"%s/cases/%s", "%s/%s"};
			for (int f = 0; f < 2 && !done[i]; f++) {
				snprintf(p, sizeof(p), fmt[f], dirs[d], base);
				struct xpu_study_case probe = *c;
				probe.result = p;
				if (xpu_study_case_done(&probe) && !copy_file(p, c->result) &&
				    xpu_study_case_done(c)) {
					done[i] = 1;
					got++;
				}
			}
		}
		if (!done[i]) {
			missing++;
			fprintf(stderr, "xpuopt study: missing case %d %s\n", i, c->id);
		}
	}
	if (!quiet)
		fprintf(stderr, "study: merged %d results; %d of %d cases done, %d missing\n", got,
		        st->ncases - missing, st->ncases, missing);
	return missing;
}

int xpu_cmd_study(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"jobs", required_argument, NULL, 'j'},
	    {"output", required_argument, NULL, 'o'},
	    {"dry-run", no_argument, NULL, 'n'},
	    {"slurm", no_argument, NULL, 'S'},
	    {"merge", no_argument, NULL, 'M'},
	    {"case", required_argument, NULL, 'C'},
	    {"quiet", no_argument, NULL, 'q'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	long jobs = sysconf(_SC_NPROCESSORS_ONLN), one = -1;
	const char *outdir = NULL;
	int dry = 0, slurm = 0, do_merge = 0, quiet = 0, c;
	char *end;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":j:o:nqh", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			jobs = strtol(optarg, &end, 10);
			if (end == optarg || *end || jobs < 1 || jobs > 1024)
				return bad_usage("--jobs: expected an integer from 1 to 1024, got "
				                 "\"%s\"",
				                 optarg);
			break;
		case 'o':
			outdir = optarg;
			break;
		case 'n':
			dry = 1;
			break;
		case 'S':
			slurm = 1;
			break;
		case 'M':
			do_merge = 1;
			break;
		case 'q':
			quiet = 1;
			break;
		case 'C':
			one = strtol(optarg, &end, 10);
			if (end == optarg || *end || one < 0)
				return bad_usage("--case: expected a case number, got \"%s\"",
				                 optarg);
			break;
		case 'h':
			usage(stdout);
			return 0;
		case ':':
			return bad_usage("option '%s' needs a value", argv[optind - 1]);
		default:
			return bad_usage("unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind >= argc)
		return bad_usage("%s", "expected an experiment file");
	if (!do_merge && optind + 1 < argc)
		return bad_usage("unexpected argument '%s'", argv[optind + 1]);
	if (slurm + do_merge + dry + (one >= 0) > 1)
		return bad_usage("%s", "--slurm, --merge, --dry-run and --case exclude each other");
	if (jobs < 1)
		jobs = 1;

	struct xpu_study st;
	struct xpu_err err = {{0}};
	int rc = xpu_study_load(argv[optind], outdir, 0, &st, &err);
	if (rc) {
		fprintf(stderr, "xpuopt: %s\n", err.msg);
		return rc == -EINVAL ? 2 : 1;
	}
	if (one >= st.ncases) {
		fprintf(stderr, "xpuopt study: --case %ld: the study has %d cases (0 to %d)\n", one,
		        st.ncases, st.ncases - 1);
		xpu_study_free(&st);
		return 2;
	}
	int *done = calloc((size_t)st.ncases + 1, sizeof(int));
	int *todo = calloc((size_t)st.ncases + 1, sizeof(int));
	int ntodo = 0, status = 0, lock = -1;
	if (!done || !todo) {
		fprintf(stderr, "xpuopt study: out of memory\n");
		status = 1;
		goto out;
	}
	for (int i = 0; i < st.ncases; i++)
		if (one < 0 || i == one) {
			done[i] = xpu_study_case_done(&st.cases[i]);
			if (!done[i])
				todo[ntodo++] = i;
		}

	if (dry) {
		for (int i = 0; i < st.ncases; i++)
			printf("%d %s %s\n", i, st.cases[i].id, done[i] ? "done" : "missing");
		fprintf(stderr, "study: %d cases, %d to run, in %s\n", st.ncases, ntodo, st.outdir);
		goto out;
	}
	if (make_dirs(&st)) {
		status = 1;
		goto out;
	}
	if (slurm) {
		status = ntodo ? write_slurm(&st, todo, ntodo) : 0;
		if (!ntodo)
			fprintf(stderr, "study: every case is done; nothing to submit\n");
		goto out;
	}

	/* One study at a time per directory (a Slurm array task running --case takes no
	 * lock: its file is its own and is written atomically). */
	if (one < 0) {
		char lp[PATH_MAX + 16];
		snprintf(lp, sizeof(lp), "%s/.lock", st.outdir);
		lock = open(lp, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
		if (lock < 0 || flock(lock, LOCK_EX | LOCK_NB)) {
			fprintf(stderr, "xpuopt study: %s is in use by another study\n", st.outdir);
			status = 1;
			goto out;
		}
		remove_stale(&st);
	}
	if (do_merge) {
		status = merge(&st, argv + optind + 1, argc - optind - 1, done, quiet) ? 1 : 0;
		if (xpu_study_write_index(&st, done, &err)) {
			fprintf(stderr, "xpuopt: %s\n", err.msg);
			status = 1;
		}
		goto out;
	}

	struct progress pg = {
	    .tty = isatty(2), .quiet = quiet, .total = one >= 0 ? 1 : st.ncases, .t0 = now_s()};
	pg.done = pg.before = pg.total - ntodo;
	if (!quiet && one < 0)
		fprintf(stderr, "study: %s: %d cases, %d done, %d to run with %ld jobs, in %s\n",
		        st.name, st.ncases, pg.done, ntodo, jobs, st.outdir);
	int stopped = 0;
	install_stop();
	int failed = ntodo ? run_cases(&st, todo, ntodo, (int)jobs, done, &pg, &stopped) : 0;
	if (one < 0 && xpu_study_write_index(&st, done, &err)) {
		fprintf(stderr, "xpuopt: %s\n", err.msg);
		status = 1;
	}
	if (stop_sig) {
		int ndone = 0;
		for (int i = 0; i < st.ncases; i++)
			ndone += done[i] == 1;
		if (pg.tty && !quiet)
			fputc('\n', stderr);
		fprintf(stderr,
		        "xpuopt study: interrupted (%s): %d of %d cases done, %d stopped, %d "
		        "failed; rerun to resume\n",
		        strsignal(stop_sig), ndone, st.ncases, stopped, failed);
		status = 128 + stop_sig;
	} else if (failed) {
		fprintf(stderr, "xpuopt study: %d of %d cases failed; rerun to retry them\n",
		        failed, ntodo);
		status = 1;
	} else if (!quiet && one < 0) {
		fprintf(stderr, "study: all %d cases done; index: %s/index.csv\n", st.ncases,
		        st.outdir);
	}
out:
	if (lock >= 0)
		close(lock);
	free(done);
	free(todo);
	xpu_study_free(&st);
	return status;
}
