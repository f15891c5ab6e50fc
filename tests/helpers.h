/* helpers.h — shared test helpers: paths, forked runs, the contract checks. */
#ifndef XPU_TEST_HELPERS_H
#define XPU_TEST_HELPERS_H

#include "run.h"

/* Absolute path of a file in the source tree (static buffer, rotating). */
const char *xt_src(const char *rel);
/* The xpuopt program under test. */
const char *xt_xpuopt(void);
/* A fresh temporary directory (removed by nobody: tests run in /tmp). */
const char *xt_tmpdir(void);

/* Write text to a file of that name in a fresh temporary directory; returns its path
 * (static, rotating over four). */
const char *xt_write_file(const char *name, const char *text);

/* Run xpuopt with arguments; returns the exit status, stdout into out (may be NULL). */
int xt_cmd(char *out, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Measuring on a shared machine (fidelity tests): CPU seconds the whole machine and
 * this process with its waited-for children have spent busy (their difference over an
 * interval is other work's), a monotonic clock, and the machine's speed now (seconds
 * for a fixed ~10 ms double multiply, the fastest of three). */
void xt_cpu_seconds(double *machine, double *ours);
double xt_wall(void);
double xt_speed_probe(void);
/* (largest - smallest) / smallest of n values: how far apart probes came out. */
double xt_spread(const double *v, int n);

/* Run one replay in a child process (SimGrid allows one engine per process) and write
 * its HDF5 result to h5; returns the child's xpu_run return code. */
int xt_run_forked(const struct xpu_run_opts *o, const char *h5);

/* Read one float64 or int32 column of /tasks into a malloc'ed array; returns length. */
size_t xt_read_column(const char *h5, const char *name, double **out);

/* Assert the contract of a finished run: every task done exactly once, on a unit that
 * can run its class, after its dependencies and their transfers, no unit running more
 * tasks than cores, no memory pool above capacity. */
void xt_check_contract(const struct xpu_run_result *r);

/* Task-state log for xpu_run_opts.observe: pass xt_observe with a zeroed struct
 * xt_states as ctx; xt_check_states then asserts that every task went through a legal
 * sequence of the lifecycle (checked against the test's own table of the documented
 * transitions, not the engine's) from pending to done or failed. */
struct xt_states {
	uint32_t n;
	signed char *last; /* per task: last state seen, -1 before any */
	uint64_t changes;
	char bad[512]; /* first illegal step seen, "" when none */
};
void xt_observe(void *ctx, const struct xpu_task *t, int from, int to, double now);
void xt_check_states(struct xt_states *s, const struct xpu_workload *w);

/* Write a seeded random heterogeneous DAG trace (classes, data edges, memory). */
void xt_write_dag_trace(const char *path, int ntasks, unsigned seed);

#endif
