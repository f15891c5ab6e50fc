/* reader_impl.h — the private ops table every trace reader (one per file) implements. */
#ifndef XPU_READER_IMPL_H
#define XPU_READER_IMPL_H

#include "trace.h"

struct xpu_trace_reader_ops;

/* The handle behind xpu_trace_open; reader.c owns it, a reader keeps its state in priv. */
struct xpu_trace_reader {
	const struct xpu_trace_reader_ops *ops;
	char *path; /* as given by the caller, for error messages */
	/* 1 when the format was not named and the extension matched no reader, so the
	 * default reader was tried: its "not my format" error should say so. */
	int guessed;
	/* Source records read so far, kept by readers that make several tasks of one
	 * record (a request, a profiled configuration); 0 = one task per record. */
	uint64_t records;
	/* Readers of logs that record run times (SWF, GPU-cluster job lists) set this to
	 * the reference speed their work figures assume when the user named none: the
	 * loader then rescales each task to the platform it replays on, so that the log's
	 * run times are kept (xpu_trace_logged_ref). ref_kind is the kind of processor
	 * the log's machine had (enum xpu_kind). 0 = work as read. */
	double ref_auto;
	int ref_kind;
	void *priv;
	/* Parameters from the format spec 'name:key=value,...' (reader.c checks each key
	 * against ops->params before open). */
	int nparams;
	struct xpu_param *param;
	char *spec; /* storage for param's strings */
};

/* A trace format. Readers stream: open reads at most a header, next one record. */
struct xpu_trace_reader_ops {
	/* Name for --trace-format and xpu_trace_formats; required. */
	const char *name;
	const char *description;
	/* File name endings chosen by "auto" (".csv"), compared without case;
	 * NULL-terminated; NULL = only reachable by name. */
	const char *const *extensions;
	/* Open r->path and read what precedes the first record (a header). Returns 0, or
	 * a negative errno with err naming the file and line. On failure r->priv must be
	 * left freed or NULL; close is not called. */
	int (*open)(struct xpu_trace_reader *r, struct xpu_err *err);
	/* Fill rec with the next record: 1, 0 at the end, -EINVAL with err. rec's
	 * pointers may point into the reader's buffers until the next call. */
	int (*next)(struct xpu_trace_reader *r, struct xpu_trace_rec *rec, struct xpu_err *err);
	/* Release r->priv. */
	void (*close)(struct xpu_trace_reader *r);
	/* Names of the parameters open accepts, NULL-terminated; NULL = none. */
	const char *const *params;
	/* For formats that share an extension with others (several .csv flavours): 1
	 * when line, the file's first non-blank line, is this format's header. Called by
	 * "auto" before open; NULL = decided by the extension alone. */
	int (*claims)(const char *line);
	/* Header information entry i (after open): 1 with *key and *value set, 0 past
	 * the last. NULL = none. */
	int (*header)(struct xpu_trace_reader *r, int i, const char **key, const char **value);
};

extern const struct xpu_trace_reader_ops xpu_trace_native;
extern const struct xpu_trace_reader_ops xpu_trace_swf;
extern const struct xpu_trace_reader_ops xpu_trace_stg;
extern const struct xpu_trace_reader_ops xpu_trace_alibaba_gpu;
extern const struct xpu_trace_reader_ops xpu_trace_philly;
extern const struct xpu_trace_reader_ops xpu_trace_azure_llm;
extern const struct xpu_trace_reader_ops xpu_trace_wfcommons;
extern const struct xpu_trace_reader_ops xpu_trace_vidur;

#endif
