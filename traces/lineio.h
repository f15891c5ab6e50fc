/* lineio.h — shared pieces of the public-format trace readers: a buffered line reader
 * over plain or gzip files, strict number parsing, and FILE:LINE field errors. */
#ifndef XPU_LINEIO_H
#define XPU_LINEIO_H

#include "reader_impl.h"

/* One line is read at a time, so a record costs at most this much memory however long
 * the file is; a longer line is surely not a trace record (or is a binary file). */
#define TR_MAX_LINE (1 << 20)
/* Quote at most this much of a bad value in a message. */
#define TR_QUOTE_MAX 80

struct tr_lines {
	void *gz; /* gzFile; zlib reads plain files through the same calls */
	const char *path;
	char *buf; /* raw bytes read, [pos, end) not yet consumed */
	size_t pos, end, cap;
	char *line; /* the current line, NUL-terminated, without its ending */
	size_t line_cap;
	int lineno;
	int eof;
	double out; /* bytes read so far, after decompression */
};

/* Open path (plain or gzip). Returns 0 or -EINVAL/-ENOMEM with err. */
int tr_lines_open(struct tr_lines *l, const char *path, struct xpu_err *err);
/* Next line into l->line (ending, CR and a leading UTF-8 BOM removed): 1, 0 at the
 * end, -EINVAL on a read error, a NUL byte or an overlong line. */
int tr_lines_next(struct tr_lines *l, struct xpu_err *err);
void tr_lines_close(struct tr_lines *l);

/* 1 when the line holds nothing but blanks. */
int tr_blank(const char *s);

enum tr_num { TR_OK, TR_BAD, TR_RANGE };
/* A finite decimal or scientific number, sign allowed; no nan, inf or hex. */
enum tr_num tr_parse_num(const char *s, double *out);

/* "FILE:LINE: field 'F': expected E, got "V"NOTE" as an error; returns -EINVAL. */
int tr_bad(const struct tr_lines *l, struct xpu_err *err, const char *field, const char *expected,
           const char *v, const char *note);
/* A number field >= min (use 0 or -1): 0, or -EINVAL with a message. */
int tr_num_field(const struct tr_lines *l, struct xpu_err *err, const char *field, const char *v,
                 double min, double *out);

/* A time as "YYYY-MM-DD HH:MM:SS[.frac]" (UTC; or 'T' between) in seconds since 1970,
 * or plain non-negative seconds: 0, or -1 when malformed (traces/llm.c). */
int tr_parse_time(const char *s, double *out);

/* Split s in place at sep (runs of blanks when sep is ' '), trimming blanks; up to max
 * fields; returns the field count (max + 1 when there are more). */
int tr_split(char *s, char sep, char **field, int max);

/* Reader parameters given as 'format:key=value,...'. */
/* A positive number parameter, or def when absent: 0 or -EINVAL. */
/* 1 when the format spec named parameter key. */
int tr_param_given(const struct xpu_trace_reader *r, const char *key);
int tr_param_num(const struct xpu_trace_reader *r, const char *key, double def, double *out,
                 struct xpu_err *err);
/* A parameter that must be one of choices (NULL-terminated): its index, def when
 * absent, or -EINVAL. */
int tr_param_choice(const struct xpu_trace_reader *r, const char *key, const char *const *choices,
                    int def, struct xpu_err *err);

#endif
