/* lineio.c — line reading, numbers, errors and parameters shared by the public-format readers. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "lineio.h"

#define CHUNK        (256 * 1024)
#define MAX_GZ_RATIO 1000.0

int tr_lines_open(struct tr_lines *l, const char *path, struct xpu_err *err)
{
	memset(l, 0, sizeof(*l));
	l->path = path;
	/* gzopen reads a file without the gzip magic as it is, so one code path serves
	 * "x.swf" and "x.swf.gz". */
	gzFile gz = gzopen(path, "rb");
	if (!gz)
		return xpu_errf(err, path, 0, "cannot open: %s", strerror(errno ? errno : ENOENT));
	gzbuffer(gz, CHUNK);
	l->gz = gz;
	l->buf = malloc(CHUNK);
	if (!l->buf) {
		tr_lines_close(l);
		return -ENOMEM;
	}
	l->cap = CHUNK;
	return 0;
}

void tr_lines_close(struct tr_lines *l)
{
	if (l->gz)
		gzclose((gzFile)l->gz);
	free(l->buf);
	free(l->line);
	memset(l, 0, sizeof(*l));
}

/* Refill buf with fresh bytes; returns bytes read, 0 at the end, -EINVAL on error. */
static int refill(struct tr_lines *l, struct xpu_err *err)
{
	if (l->eof)
		return 0;
	int n = gzread((gzFile)l->gz, l->buf, (unsigned)l->cap);
	if (n < 0) {
		int zerr;
		const char *msg = gzerror((gzFile)l->gz, &zerr);
		return xpu_errf(err, l->path, l->lineno + 1, "cannot read: %s", msg);
	}
	if (n == 0)
		l->eof = 1;
	l->pos = 0;
	l->end = (size_t)n;
	/* A gzip file that expands a thousandfold past 16 MiB is a decompression bomb,
	 * not a log: real traces compress about tenfold. Refused at once rather than
	 * read for minutes. */
	l->out += n;
	if (!gzdirect((gzFile)l->gz) && l->out > 16.0 * (1 << 20)) {
		double in = (double)gzoffset((gzFile)l->gz);
		if (in > 0 && l->out > MAX_GZ_RATIO * in)
			return xpu_errf(err, l->path, l->lineno + 1,
			                "the gzip data expands more than %d times (%.0f MB from "
			                "%.0f kB read): not a trace",
			                (int)MAX_GZ_RATIO, l->out / 1e6, in / 1e3);
	}
	return n;
}

/* Append [p, p+n) to the current line. */
static int append(struct tr_lines *l, size_t *len, const char *p, size_t n, struct xpu_err *err)
{
	if (*len + n > TR_MAX_LINE)
		return xpu_errf(err, l->path, l->lineno, "line is longer than %d bytes",
		                TR_MAX_LINE);
	if (*len + n + 1 > l->line_cap) {
		size_t cap = l->line_cap ? l->line_cap : 256;
		while (cap < *len + n + 1)
			cap *= 2;
		char *nl = realloc(l->line, cap);
		if (!nl)
			return -ENOMEM;
		l->line = nl;
		l->line_cap = cap;
	}
	memcpy(l->line + *len, p, n);
	*len += n;
	l->line[*len] = '\0';
	return 0;
}

int tr_lines_next(struct tr_lines *l, struct xpu_err *err)
{
	size_t len = 0;
	int got = 0, rc;
	if (append(l, &len, "", 0, err) < 0)
		return -ENOMEM;
	l->lineno++;
	for (;;) {
		if (l->pos == l->end) {
			rc = refill(l, err);
			if (rc < 0)
				return rc;
			if (rc == 0) {
				if (!got) {
					l->lineno--;
					return 0;
				}
				break;
			}
		}
		got = 1;
		char *s = l->buf + l->pos;
		char *nl = memchr(s, '\n', l->end - l->pos);
		size_t n = nl ? (size_t)(nl - s) : l->end - l->pos;
		if ((rc = append(l, &len, s, n, err)) < 0)
			return rc;
		l->pos += n + (nl != NULL);
		if (nl)
			break;
	}
	if (strlen(l->line) != len)
		return xpu_errf(err, l->path, l->lineno, "NUL byte in the line (not a text file?)");
	while (len > 0 && l->line[len - 1] == '\r')
		l->line[--len] = '\0';
	if (l->lineno == 1 && !strncmp(l->line, "\xef\xbb\xbf", 3))
		memmove(l->line, l->line + 3, len - 2);
	return 1;
}

int tr_blank(const char *s)
{
	while (*s == ' ' || *s == '\t' || *s == '\v' || *s == '\f')
		s++;
	return !*s;
}

enum tr_num tr_parse_num(const char *s, double *out)
{
	const char *p = s;
	if (*p == '-' || *p == '+')
		p++;
	if (!((*p >= '0' && *p <= '9') || (*p == '.' && p[1] >= '0' && p[1] <= '9')))
		return TR_BAD;
	/* strtod would also take nan, inf and hex floats: only digits, '.', exponent. */
	for (const char *q = p; *q; q++)
		if (!((*q >= '0' && *q <= '9') || *q == '.' || *q == 'e' || *q == 'E' ||
		      *q == '+' || *q == '-'))
			return TR_BAD;
	char *end;
	errno = 0;
	double d = strtod(s, &end);
	if (*end)
		return TR_BAD;
	if (!isfinite(d))
		return TR_RANGE;
	*out = d == 0 ? 0 : d;
	return TR_OK;
}

int tr_bad(const struct tr_lines *l, struct xpu_err *err, const char *field, const char *expected,
           const char *v, const char *note)
{
	int len = (int)strlen(v);
	const char *dots = "";
	if (len > TR_QUOTE_MAX) {
		len = TR_QUOTE_MAX;
		dots = "...";
	}
	return xpu_errf(err, l->path, l->lineno, "field '%s': expected %s, got \"%.*s%s\"%s", field,
	                expected, len, v, dots, note);
}

int tr_num_field(const struct tr_lines *l, struct xpu_err *err, const char *field, const char *v,
                 double min, double *out)
{
	const char *expected = min < 0 ? "a number >= -1 (-1: unknown)" : "a non-negative number";
	enum tr_num st = tr_parse_num(v, out);
	if (st == TR_RANGE)
		return tr_bad(l, err, field, expected, v, " (too large)");
	/* Anything past 1e15 (30 million years, a petabyte count of tokens) is a corrupt
	 * field rather than a measurement. */
	if (st == TR_OK && fabs(*out) > 1e15)
		return tr_bad(l, err, field, expected, v, " (too large)");
	if (st != TR_OK || *out < min)
		return tr_bad(l, err, field, expected, v, "");
	return 0;
}

static int is_sp(char c)
{
	return c == ' ' || c == '\t' || c == '\v' || c == '\f';
}

int tr_split(char *s, char sep, char **field, int max)
{
	int n = 0;
	if (sep == ' ') {
		for (;;) {
			while (is_sp(*s))
				s++;
			if (!*s)
				return n;
			if (n == max)
				return max + 1;
			field[n++] = s;
			while (*s && !is_sp(*s))
				s++;
			if (*s)
				*s++ = '\0';
		}
	}
	for (;;) {
		while (is_sp(*s))
			s++;
		char *start = s;
		while (*s && *s != sep)
			s++;
		int more = *s == sep;
		char *e = s;
		while (e > start && is_sp(e[-1]))
			e--;
		if (n == max)
			return max + 1;
		field[n++] = start;
		*e = '\0';
		if (!more)
			return n;
		s++;
	}
}

static const char *param_of(const struct xpu_trace_reader *r, const char *key)
{
	for (int i = 0; i < r->nparams; i++)
		if (!strcmp(r->param[i].key, key))
			return r->param[i].value;
	return NULL;
}

int tr_param_given(const struct xpu_trace_reader *r, const char *key)
{
	return param_of(r, key) != NULL;
}

int tr_param_num(const struct xpu_trace_reader *r, const char *key, double def, double *out,
                 struct xpu_err *err)
{
	const char *v = param_of(r, key);
	*out = def;
	if (!v)
		return 0;
	double d;
	if (tr_parse_num(v, &d) != TR_OK || d <= 0)
		return xpu_errf(err, NULL, 0,
		                "trace format %s: parameter '%s': expected a positive number, "
		                "got \"%.*s\"",
		                r->ops->name, key, TR_QUOTE_MAX, v);
	*out = d;
	return 0;
}

int tr_param_choice(const struct xpu_trace_reader *r, const char *key, const char *const *choices,
                    int def, struct xpu_err *err)
{
	const char *v = param_of(r, key);
	if (!v)
		return def;
	char list[256];
	size_t n = 0;
	for (int i = 0; choices[i]; i++) {
		if (!strcmp(choices[i], v))
			return i;
		if (n < sizeof(list))
			n += (size_t)snprintf(list + n, sizeof(list) - n, "%s%s", i ? ", " : "",
			                      choices[i]);
	}
	return xpu_errf(err, NULL, 0,
	                "trace format %s: parameter '%s': expected one of %s, got \"%.*s\"",
	                r->ops->name, key, list, TR_QUOTE_MAX, v);
}
