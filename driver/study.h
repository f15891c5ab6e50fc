/* study.h — policy A/B studies: experiment files, the case matrix, the index, and
 * result sets for comparison. */
#ifndef XPU_STUDY_H
#define XPU_STUDY_H

#include <stdint.h>
#include <stdio.h>

#include "results.h"
#include "xpu.h"

#ifdef __cplusplus
extern "C" {
#endif

/* One policy set of an experiment file after its sweep is expanded: a variant. */
struct xpu_policy_set {
	char *name;  /* "heft", or with swept values "energy[gamma=10]" */
	char *base;  /* the set's name in the file ("energy") */
	char *sched; /* full specs, parameters included */
	char *mem;
	char *power;
	char *offload;
	char *params; /* the swept values, "sched.gamma=10;power.up=0.8"; "" when none */
	/* A serving set (xpuopt run --serve): the serve policy, router, model and
	 * deployment; serve NULL for a task replay set. sched then repeats serve. */
	char *serve, *router, *model, *deploy;
};

struct xpu_study_case {
	char *id;     /* unique, file-name safe: "default.default.heft.s1" */
	int platform; /* indexes into the study's lists */
	int trace;
	int set;
	uint64_t seed;
	char *result; /* OUTDIR/cases/ID.h5 */
	char *log;    /* OUTDIR/logs/ID.log */
};

struct xpu_study {
	char *file; /* the experiment file */
	char *name;
	char *outdir;
	double tick; /* <= 0: xpuopt run's default */
	int nplatforms, ntraces, nsets, nseeds, ncases;
	char **platforms; /* resolved against the experiment file's directory */
	char **traces;
	struct xpu_policy_set *sets;
	uint64_t *seeds;
	struct xpu_study_case *cases; /* platform-major, then trace, set, seed */
};

/* Read and check an experiment file and expand its matrix. outdir overrides the
 * file's `output` (NULL: keep it; the default is NAME.study in the current
 * directory). Returns 0, or -EINVAL with err naming FILE:LINE and the field, or
 * -ENOMEM. */
int xpu_study_load(const char *file, const char *outdir, int flags, struct xpu_study *st,
                   struct xpu_err *err);
/* flags: skip looking policy names and parameters up in the registry (tests of the
 * matrix alone, and files naming policies another build registers). */
#define XPU_STUDY_NO_POLICY_CHECK 1
void xpu_study_free(struct xpu_study *st);

/* Whether a case's result file is whole and readable: it exists, opens as HDF5 and
 * its /summary reads. */
int xpu_study_case_done(const struct xpu_study_case *c);

/* Write OUTDIR/index.csv atomically: one row per case with its status ("done",
 * "failed" or "missing", from done[i]: 1 done, -1 failed, 0 missing). */
int xpu_study_write_index(const struct xpu_study *st, const int *done, struct xpu_err *err);

/* ---------------------------------------------------------------- result sets */

/* One result to compare: which policy set it belongs to, the key that pairs it with
 * the other sets' results (platform, trace, seed), and its metrics. */
struct xpu_record {
	char *set;
	char *pair;
	char *path;
	struct xpu_summary s;
	/* A result file's trace and seed alone, and whether it ran live: live results
	 * (set "POLICIES (live)") pair with simulated ones by trace and seed, the platform
	 * being this machine on one side and its calibrated model on the other. */
	char *trace_seed;
	int live;
};

struct xpu_records {
	int n, cap;
	struct xpu_record *r;
	int nsets;
	char **sets; /* in order of first appearance */
};

/* Add the done cases of a study directory (its index.csv), or an index.csv itself. */
int xpu_records_add_index(struct xpu_records *rs, const char *path, struct xpu_err *err);
/* Add one result file; its set is the policies of its /run attributes, its pair key
 * the platform, trace and seed. */
/* When the records mix live and simulated results, pair them by trace and seed alone
 * (a live run's platform is the machine, a simulated one's its calibrated model). */
int xpu_records_pair_live(struct xpu_records *rs, struct xpu_err *err);
int xpu_records_add_file(struct xpu_records *rs, const char *path, struct xpu_err *err);
void xpu_records_free(struct xpu_records *rs);

/* Read a /run string attribute of a result file into buf ("" when absent). */
int xpu_results_read_run_attr(const char *path, const char *name, char *buf, size_t n);

/* One row of a comparison: set b against set a over the pairs both have. */
struct xpu_cmp_row {
	const char *a, *b, *metric;
	int n; /* pairs */
	double mean_a, mean_b;
	double diff, lo, hi;    /* mean of b - a and its bootstrap CI */
	double p;               /* Wilcoxon signed-rank, two-sided */
	int wins, losses, ties; /* b better / worse / equal, by the metric's direction */
};

/* Whether a larger value of the metric is better (tasks_done, mean_utilisation). */
int xpu_metric_higher_better(const char *metric);

/* Compare every set against baseline (its name; NULL: the first set) on each metric.
 * Rows are malloc'ed into *rows. Returns their number, or a negative errno. */
int xpu_compare(const struct xpu_records *rs, const char *baseline, const char *const *metrics,
                int nmetrics, int resamples, uint64_t seed, struct xpu_cmp_row **rows,
                struct xpu_err *err);

/* Write rows as a Markdown table (the terminal table and CSV are the CLI's). */
void xpu_compare_markdown(FILE *out, const struct xpu_cmp_row *rows, int n);
void xpu_compare_csv(FILE *out, const struct xpu_cmp_row *rows, int n);

/* CSV helpers shared by the index writer and reader. */
void xpu_csv_field(FILE *out, const char *s);
/* Split one CSV line into at most max fields (quotes honoured), in place. */
int xpu_csv_split(char *line, char **fields, int max);

#ifdef __cplusplus
}
#endif
#endif
