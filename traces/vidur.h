/* vidur.h — Microsoft vidur operator profiles read row by row: shared by the vidur trace
 * reader and `xpuopt profile`. */
#ifndef XPU_VIDUR_H
#define XPU_VIDUR_H

#include "lineio.h"

/* The statistics a reader may replay, as named in vidur's time_stats.OP.STAT columns
 * (std is there too, but is no duration). NULL-terminated. */
enum xpu_vidur_stat { XPU_VIDUR_MIN, XPU_VIDUR_MAX, XPU_VIDUR_MEAN, XPU_VIDUR_MEDIAN };
extern const char *const xpu_vidur_stats[];

/* Shape columns vidur writes beside the timings (absent ones are unknown). */
enum xpu_vidur_shape {
	XPU_VIDUR_TOKENS,   /* num_tokens */
	XPU_VIDUR_EMBD,     /* n_embd */
	XPU_VIDUR_HEAD,     /* n_head (MLP profiles) or n_q_head (attention profiles) */
	XPU_VIDUR_KV_HEAD,  /* n_kv_head */
	XPU_VIDUR_EXPANDED, /* n_expanded_embd */
	XPU_VIDUR_GATED,    /* use_gated_mlp: True/False */
	XPU_VIDUR_TP,       /* num_tensor_parallel_workers */
	XPU_VIDUR_NSHAPES
};

/* An open profile. Fields are read-only for callers. */
struct xpu_vidur {
	struct tr_lines l;
	const char *path;
	int stat;  /* enum xpu_vidur_stat */
	int ncols; /* fields in the header */
	int nops;
	const char **op;    /* operator names in header order */
	const char **opcol; /* the full column name of each operator's chosen statistic */
	int *col;           /* that column's position */
	double *ms;         /* this row's time per operator in ms; NAN when empty */
	int shape_col[XPU_VIDUR_NSHAPES];          /* -1 when absent */
	const char *shape_name[XPU_VIDUR_NSHAPES]; /* as the header spells it */
	long row;                                  /* data rows read so far: this row's number */
	char **field;                              /* this row's fields */
	char *names, *colnames;                    /* storage for the header's names */
};

/* Open path and read its header: 0, or -EINVAL/-ENOMEM with err (file and line). On
 * failure v is left closed. */
int xpu_vidur_open(struct xpu_vidur *v, const char *path, int stat, struct xpu_err *err);
/* Read the next data row: 1, 0 at the end, -EINVAL with err. Blank lines are skipped. */
int xpu_vidur_next(struct xpu_vidur *v, struct xpu_err *err);
/* This row's shape value s: 0 with *out (NAN when the column is absent or the field
 * empty), or -EINVAL with err for a malformed field. use_gated_mlp reads as 1 or 0. */
int xpu_vidur_shape(struct xpu_vidur *v, int s, double *out, struct xpu_err *err);
void xpu_vidur_close(struct xpu_vidur *v);

/* 1 when a header line names at least one time_stats.OP.STAT column. */
int xpu_vidur_claims(const char *line);
/* Kernel class of an operator by its name (enum xpu_class). */
int xpu_vidur_class(const char *op);
/* FLOPs of one run of op for the shapes shape[XPU_VIDUR_NSHAPES] (NAN = unknown), for
 * the dense projections whose work follows from the shapes; NAN for any other op or
 * when a shape it needs is unknown. */
double xpu_vidur_flops(const char *op, const double *shape);

#endif
