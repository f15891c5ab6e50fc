/* trace.h — trace readers (streaming records) and the workload they build. */
#ifndef XPU_TRACE_H
#define XPU_TRACE_H

#include <stdio.h>

#include "xpu.h"

#ifdef __cplusplus
extern "C" {
#endif

/* One record as read, before ids are resolved. Strings and arrays point into the
 * reader's buffers and stay valid until the next call to xpu_trace_next. */
struct xpu_trace_rec {
	int line;
	const char *id;
	double submit; /* 0 when absent */
	int cls;       /* enum xpu_class; generic when absent */
	double flops;  /* 0 when absent */
	double bytes;
	double mem;
	int priority;
	double deadline;  /* INFINITY when absent */
	const char *user; /* "" when absent */
	int ndeps;
	const char **dep_ids;
	double *dep_bytes;
	int ncosts;
	const char **cost_target; /* unit name or kind name */
	double *cost_seconds;
	int cost_col;    /* column number of 'cost' for error messages, 0 if absent */
	int width;       /* cores of one unit the task needs at once; 1 when absent */
	double estimate; /* user's run-time estimate, seconds; NAN when absent */
	/* Shared data named by the trace (native 'reads' and 'writes' columns): names,
	 * and sizes in bytes (NAN where this record gives none). A write updates the
	 * datum in place (read, then written). */
	int nreads, nwrites;
	const char **read_names, **write_names;
	double *read_bytes, *write_bytes;
};

struct xpu_trace_reader;

/* Open a trace. format NULL or "auto" chooses by extension (.csv: native). */
int xpu_trace_open(const char *path, const char *format, struct xpu_trace_reader **out,
                   struct xpu_err *err);
/* Read the next record: 1 with *rec filled, 0 at the end, -EINVAL with err. */
int xpu_trace_next(struct xpu_trace_reader *r, struct xpu_trace_rec *rec, struct xpu_err *err);
void xpu_trace_close(struct xpu_trace_reader *r);
/* Source records read so far (requests, configurations ...) by a reader that makes
 * several tasks of one record; 0 when every record is one task. */
uint64_t xpu_trace_records(const struct xpu_trace_reader *r);
/* For logs that record run times and were opened without a reference speed: the
 * speed the reader's work figures assume, and the kind of processor of the logged
 * machine (*kind); 0 otherwise. */
double xpu_trace_logged_ref(const struct xpu_trace_reader *r, int *kind);

/* Formats this build reads, NULL-terminated. */
extern const char *const xpu_trace_formats[];

/* Name of the format xpu_trace_open would use for path and format ("native"), or NULL
 * when format names no reader. */
const char *xpu_trace_format_of(const char *path, const char *format);

/* A whole workload: tasks with resolved dependencies and successors. */
struct xpu_workload {
	char *path;
	uint32_t ntasks;
	uint64_t nrecords; /* records of the file: ntasks, or fewer when one makes several */
	struct xpu_task *tasks;
	uint32_t nusers;
	char **users;
	/* Totals for `xpuopt trace`. */
	double total_flops, total_bytes, total_dep_bytes;
	double first_submit, last_submit;
	uint64_t ndeps;
	uint32_t class_count[XPU_CLASS_COUNT];
	/* Data (DESIGN.md section 4): the producers' outputs named by data edges, and the
	 * shared data the trace names; tasks list their accesses (xpu_task.access). */
	uint32_t ndata;
	struct xpu_datum *data;
	uint64_t naccesses;
	struct xpu_access *accesses; /* every task's list, one block */
	/* How work was sized for a log of run times: a sentence for `xpuopt run` to
	 * print ("" when the trace gave work, or a reference speed was named). */
	char ref_note[320];
	void *priv; /* storage owned by the workload */
};

/* Read a whole trace. Checks duplicate ids, unknown dependency ids and cycles; when pf
 * is non-NULL also resolves explicit cost targets against its units and kinds and
 * rejects targets it lacks. Returns 0 or -EINVAL with err (file:line: field ...). */
int xpu_workload_load(const char *path, const char *format, const struct xpu_platform *pf,
                      struct xpu_workload **out, struct xpu_err *err);
void xpu_workload_free(struct xpu_workload *w);

/* Header information of an open trace (SWF: MaxProcs, UnixStartTime ...): entry i as
 * key and value, 1; 0 past the last entry or for formats without one. Valid until
 * the reader is closed. format strings of xpu_trace_open and xpu_workload_load may
 * carry reader parameters: "swf:speed=1e9,failed=drop" (traces/FORMAT.md). */
int xpu_trace_header(struct xpu_trace_reader *r, int i, const char **key, const char **value);

#ifdef __cplusplus
}
#endif
#endif
