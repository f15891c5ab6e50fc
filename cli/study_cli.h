/* study_cli.h — what the study, compare, plot and report commands share. */
#ifndef XPU_STUDY_CLI_H
#define XPU_STUDY_CLI_H

#include "xpu.h"

int xpu_cmd_study(int argc, char **argv);
int xpu_cmd_compare(int argc, char **argv);
int xpu_cmd_plot(int argc, char **argv);
int xpu_cmd_report(int argc, char **argv);

/* Plots, each drawn by gnuplot into out (.png or .svg, by extension), written under a
 * temporary name and renamed when complete. Return 0, -EINVAL with err for bad input,
 * or -ENOENT / -EIO with err when gnuplot is missing or fails. */
int xpu_plot_gantt(const char *h5, const char *out, struct xpu_err *err);
int xpu_plot_timeline(const char *h5, const char *what, const char *out, struct xpu_err *err);
int xpu_plot_cdf(const char *const *h5, const char *const *labels, int n, const char *out,
                 struct xpu_err *err);
/* Per-policy-set bars of a metric with 95% bootstrap whiskers, from a study directory. */
int xpu_plot_bars(const char *study, const char *metric, const char *out, struct xpu_err *err);

#endif
