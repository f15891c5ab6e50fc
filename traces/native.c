/* native.c — streaming reader for xpuopt's native CSV trace format (traces/FORMAT.md). */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "reader_impl.h"

/* One line is read at a time, so a record costs at most this much memory however long
 * the file is; a longer line is surely not a trace record (or is a binary file). */
#define MAX_LINE (1 << 20)

enum col {
	COL_ID,
	COL_SUBMIT,
	COL_CLASS,
	COL_FLOPS,
	COL_BYTES,
	COL_MEM,
	COL_DEPS,
	COL_PRIORITY,
	COL_DEADLINE,
	COL_USER,
	COL_COST,
	COL_WIDTH,
	COL_ESTIMATE,
	COL_READS,
	COL_WRITES,
	COL_COUNT
};

static const char *const col_names[COL_COUNT] = {
    [COL_ID] = "id",
    [COL_SUBMIT] = "submit",
    [COL_CLASS] = "class",
    [COL_FLOPS] = "flops",
    [COL_BYTES] = "bytes",
    [COL_MEM] = "mem",
    [COL_DEPS] = "deps",
    [COL_PRIORITY] = "priority",
    [COL_DEADLINE] = "deadline",
    [COL_USER] = "user",
    [COL_COST] = "cost",
    [COL_WIDTH] = "width",
    [COL_ESTIMATE] = "estimate",
    [COL_READS] = "reads",
    [COL_WRITES] = "writes",
};

#define COLUMN_LIST                                                                                \
	"id, submit, class, flops, bytes, mem, deps, priority, deadline, user, cost, width, "      \
	"estimate, reads, writes"

struct native {
	FILE *f;
	char rbuf[65536]; /* read ahead: lines are cut out of it (bounded_line) */
	size_t rpos, rend;
	char *line;
	size_t line_cap;
	int lineno;
	int ncols;
	enum col *col; /* what each header column holds */
	int cost_col;  /* 1-based column of 'cost', 0 when absent */
	char **field;  /* starts of the current line's fields */
	int field_cap;
	const char **dep_ids;
	double *dep_bytes;
	int dep_cap;
	const char **cost_target;
	double *cost_seconds;
	int cost_cap;
	const char **rd_names, **wr_names; /* reads and writes */
	double *rd_bytes, *wr_bytes;
	int rd_cap, wr_cap;
};

/* ------------------------------------------------------------------ numbers */

/* Decimal byte multipliers first, then binary ones; "" is plain bytes. */
static const struct {
	const char *suffix;
	double mult;
} byte_suffixes[] = {
    {"", 1},
    {"B", 1},
    {"KB", 1e3},
    {"MB", 1e6},
    {"GB", 1e9},
    {"TB", 1e12},
    {"KiB", 1024.0},
    {"MiB", 1048576.0},
    {"GiB", 1073741824.0},
    {"TiB", 1099511627776.0},
};

enum num_status { NUM_OK, NUM_BAD, NUM_RANGE };

/* Parse a non-negative decimal or scientific number, optionally followed by a byte
 * suffix when allow_suffix. strtod alone would also take "nan", "inf" and hex floats,
 * which have no place in a trace, so the digits are checked first. */
static enum num_status parse_number(const char *s, int allow_suffix, double *out)
{
	const char *p = s;
	while ((*p >= '0' && *p <= '9') || *p == '.' || *p == 'e' || *p == 'E' || *p == '+' ||
	       *p == '-')
		p++;
	if (p == s)
		return NUM_BAD;
	errno = 0;
	char *end;
	double d = strtod(s, &end);
	if (end != p)
		return NUM_BAD;
	double mult = 1;
	if (*end) {
		if (!allow_suffix)
			return NUM_BAD;
		size_t i, n = sizeof(byte_suffixes) / sizeof(byte_suffixes[0]);
		for (i = 0; i < n; i++)
			if (!strcmp(end, byte_suffixes[i].suffix))
				break;
		if (i == n)
			return NUM_BAD;
		mult = byte_suffixes[i].mult;
	}
	if (d < 0)
		return NUM_BAD;
	d *= mult;
	if (!isfinite(d))
		return NUM_RANGE;
	/* errno ERANGE with a finite result is an underflow to (almost) zero: harmless. */
	*out = d == 0 ? 0 : d; /* folds -0 into 0 */
	return NUM_OK;
}

/* ------------------------------------------------------------------ errors */

/* Quote at most this much of a bad value so that a 1 MiB field does not fill the
 * message; the tail is replaced by "...". */
#define QUOTE_MAX 80

static int ferr(struct xpu_trace_reader *r, struct xpu_err *err, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int ferr(struct xpu_trace_reader *r, struct xpu_err *err, const char *fmt, ...)
{
	struct native *n = r->priv;
	char buf[sizeof(err->msg)];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	return xpu_errf(err, r->path, n->lineno, "%s", buf);
}

static int bad_value(struct xpu_trace_reader *r, struct xpu_err *err, enum col c,
                     const char *expected, const char *v, const char *note)
{
	int len = (int)strlen(v);
	const char *dots = "";
	if (len > QUOTE_MAX) {
		len = QUOTE_MAX;
		dots = "...";
	}
	return ferr(r, err, "field '%s': expected %s, got \"%.*s%s\"%s", col_names[c], expected,
	            len, v, dots, note);
}

static int number_field(struct xpu_trace_reader *r, struct xpu_err *err, enum col c, const char *v,
                        int allow_suffix, double *out)
{
	enum num_status st = parse_number(v, allow_suffix, out);
	if (st == NUM_OK)
		return 0;
	const char *expected = allow_suffix ? "a non-negative number of bytes (such as 4096, "
	                                      "1.5e9 or 512MiB)"
	                                    : "a non-negative number";
	return bad_value(r, err, c, expected, v, st == NUM_RANGE ? " (too large)" : "");
}

/* ------------------------------------------------------------------ lines and fields */

static int is_blank(int c)
{
	return c == ' ' || c == '\t';
}

/* One line into n->line (with its '\n'), taken from the reader's own buffer a block
 * at a time, so that a line without end (/dev/zero, a binary file) is refused once it
 * passes max bytes, never read whole. NUL bytes are kept (the caller refuses them).
 * Returns its length, -1 at the end of the file (or on a read error: ferror tells),
 * -2 past max, -3 out of memory. */
static ssize_t bounded_line(struct native *n, size_t max)
{
	size_t len = 0;
	for (;;) {
		if (n->rpos == n->rend) {
			n->rpos = 0;
			n->rend = fread(n->rbuf, 1, sizeof(n->rbuf), n->f);
			if (n->rend == 0)
				break;
		}
		char *start = n->rbuf + n->rpos;
		char *nl = memchr(start, '\n', n->rend - n->rpos);
		size_t got = nl ? (size_t)(nl - start) + 1 : n->rend - n->rpos;
		if (len + got + 1 > n->line_cap) {
			size_t nc = n->line_cap ? n->line_cap : 256;
			while (nc < len + got + 1)
				nc *= 2;
			char *nb = realloc(n->line, nc);
			if (!nb)
				return -3;
			n->line = nb;
			n->line_cap = nc;
		}
		memcpy(n->line + len, start, got);
		len += got;
		n->rpos += got;
		if (len > max)
			return -2;
		if (nl)
			break;
	}
	if (len == 0)
		return -1;
	n->line[len] = '\0';
	return (ssize_t)len;
}

/* Read the next line that is neither blank nor a comment into n->line, without its
 * line ending. Returns 1, 0 at the end of the file, or -EINVAL. */
static int next_line(struct xpu_trace_reader *r, struct xpu_err *err)
{
	struct native *n = r->priv;
	for (;;) {
		errno = 0;
		ssize_t len = bounded_line(n, MAX_LINE);
		if (len == -3)
			return -ENOMEM;
		if (len == -2) {
			n->lineno++;
			return ferr(r, err, "line is longer than %d bytes", MAX_LINE);
		}
		if (len < 0) {
			if (ferror(n->f))
				return xpu_errf(err, r->path, 0, "cannot read: %s",
				                strerror(errno ? errno : EIO));
			return 0;
		}
		n->lineno++;
		if (strlen(n->line) != (size_t)len)
			return ferr(r, err, "NUL byte in the line (not a text file?)");
		/* Accept CRLF and a lone trailing CR as written by Windows tools. */
		while (len > 0 && (n->line[len - 1] == '\n' || n->line[len - 1] == '\r'))
			n->line[--len] = '\0';
		char *p = n->line;
		/* A UTF-8 byte order mark from spreadsheet exports is not part of a name. */
		if (n->lineno == 1 && !strncmp(p, "\xef\xbb\xbf", 3))
			memmove(p, p + 3, (size_t)len - 2);
		while (is_blank(*p))
			p++;
		if (*p && *p != '#')
			return 1;
	}
}

static const char *field_label(struct native *n, int i, int header, char *buf, size_t size)
{
	if (!header && i < n->ncols)
		snprintf(buf, size, "field '%s'", col_names[n->col[i]]);
	else
		snprintf(buf, size, "column %d", i + 1);
	return buf;
}

/* Split n->line in place into fields (RFC 4180 quoting, "" for a quote inside quotes;
 * a quoted field ends on its line). Unquoted fields are trimmed of blanks. */
static int split(struct xpu_trace_reader *r, int header, int *nfields, struct xpu_err *err)
{
	struct native *n = r->priv;
	char *p = n->line, label[64];
	int nf = 0;
	for (;;) {
		if (nf == n->field_cap) {
			int cap = n->field_cap ? 2 * n->field_cap : 16;
			char **f = realloc(n->field, (size_t)cap * sizeof(*f));
			if (!f)
				return -ENOMEM;
			n->field = f;
			n->field_cap = cap;
		}
		while (is_blank(*p))
			p++;
		char *start = p;
		int more;
		if (*p == '"') {
			char *w = start;
			p++;
			for (;;) {
				if (!*p)
					return ferr(
					    r, err, "%s: unterminated quote",
					    field_label(n, nf, header, label, sizeof(label)));
				if (*p == '"' && p[1] == '"') {
					*w++ = '"';
					p += 2;
				} else if (*p == '"') {
					p++;
					break;
				} else {
					*w++ = *p++;
				}
			}
			while (is_blank(*p))
				p++;
			if (*p && *p != ',')
				return ferr(r, err, "%s: unexpected text after the closing quote",
				            field_label(n, nf, header, label, sizeof(label)));
			more = *p == ',';
			*w = '\0'; /* w is behind the closing quote, so p is untouched */
		} else {
			while (*p && *p != ',')
				p++;
			more = *p == ',';
			char *e = p;
			while (e > start && is_blank(e[-1]))
				e--;
			*e = '\0';
		}
		n->field[nf++] = start;
		if (!more)
			break;
		p++;
	}
	*nfields = nf;
	return 0;
}

/* ------------------------------------------------------------------ lists */

/* Room for need entries in a (name, value) pair of arrays; deps and costs both are. */
static int grow(const char ***names, double **values, int *cap, int need)
{
	if (need <= *cap)
		return 0;
	int c = *cap ? 2 * *cap : 16;
	const char **nn = realloc(*names, (size_t)c * sizeof(*nn));
	if (!nn)
		return -ENOMEM;
	*names = nn;
	double *nv = realloc(*values, (size_t)c * sizeof(*nv));
	if (!nv)
		return -ENOMEM;
	*values = nv;
	*cap = c;
	return 0;
}

/* One entry of a ';'-separated list: [*a, *b) trimmed of blanks. Returns the start of
 * the next entry, or NULL after the last one. */
static char *list_entry(char *p, char **a, char **b)
{
	char *semi = strchr(p, ';');
	char *end = semi ? semi : p + strlen(p);
	while (p < end && is_blank(*p))
		p++;
	while (end > p && is_blank(end[-1]))
		end--;
	*a = p;
	*b = end;
	return semi ? semi + 1 : NULL;
}

/* A ';'-separated list of "NAME" or "NAME:BYTES" (deps: producer ids; reads, writes:
 * data names). Names stay strings here; the workload resolves them. *nout entries go
 * to names and bytes (missing: dflt). */
static int parse_named(struct xpu_trace_reader *r, char *v, const char *field, double dflt,
                       const char ***names, double **bytes_out, int *cap, int *nout,
                       struct xpu_err *err)
{
	const char *what = strcmp(field, "deps") ? "NAME" : "ID";
	int k = 0;
	for (char *p = v; p;) {
		char *a, *b;
		p = list_entry(p, &a, &b);
		if (a == b)
			return ferr(r, err, "field '%s': entry %d is empty", field, k + 1);
		int len = (int)(b - a);
		char *colon = memchr(a, ':', (size_t)len);
		char *id_end = colon ? colon : b;
		while (id_end > a && is_blank(id_end[-1]))
			id_end--;
		double bytes = dflt;
		if (id_end == a)
			return ferr(r, err, "field '%s': expected %s or %s:BYTES, got \"%.*s\"",
			            field, what, what, len > QUOTE_MAX ? QUOTE_MAX : len, a);
		if (colon) {
			char *s = colon + 1;
			while (s < b && is_blank(*s))
				s++;
			char save = *b;
			*b = '\0';
			enum num_status st = parse_number(s, 1, &bytes);
			*b = save;
			if (st != NUM_OK)
				return ferr(r, err,
				            "field '%s': expected %s or %s:BYTES with BYTES a "
				            "non-negative number of bytes, got \"%.*s\"%s",
				            field, what, what, len > QUOTE_MAX ? QUOTE_MAX : len, a,
				            st == NUM_RANGE ? " (too large)" : "");
		}
		*b = '\0';
		*id_end = '\0';
		if (grow(names, bytes_out, cap, k + 1))
			return -ENOMEM;
		(*names)[k] = a;
		(*bytes_out)[k] = bytes;
		k++;
	}
	*nout = k;
	return 0;
}

/* deps: "ID" or "ID:BYTES": a producer may appear on a later line. */
static int parse_deps(struct xpu_trace_reader *r, char *v, struct xpu_trace_rec *rec,
                      struct xpu_err *err)
{
	struct native *n = r->priv;
	int rc =
	    parse_named(r, v, "deps", 0, &n->dep_ids, &n->dep_bytes, &n->dep_cap, &rec->ndeps, err);
	rec->dep_ids = n->dep_ids;
	rec->dep_bytes = n->dep_bytes;
	return rc;
}

/* reads, writes: "NAME" or "NAME:BYTES", the size given once at least (the workload
 * checks that every size given for a name agrees). */
static int parse_data(struct xpu_trace_reader *r, char *v, int writes, struct xpu_trace_rec *rec,
                      struct xpu_err *err)
{
	struct native *n = r->priv;
	if (writes) {
		int rc = parse_named(r, v, "writes", NAN, &n->wr_names, &n->wr_bytes, &n->wr_cap,
		                     &rec->nwrites, err);
		rec->write_names = n->wr_names;
		rec->write_bytes = n->wr_bytes;
		return rc;
	}
	int rc = parse_named(r, v, "reads", NAN, &n->rd_names, &n->rd_bytes, &n->rd_cap,
	                     &rec->nreads, err);
	rec->read_names = n->rd_names;
	rec->read_bytes = n->rd_bytes;
	return rc;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* A target named twice in one cost list, or NULL. Lists are short, so pairs are
 * compared directly; only a pathological line pays for a sorted copy. */
static const char *duplicate_target(const char **t, int k)
{
	if (k <= 32) {
		for (int i = 1; i < k; i++)
			for (int j = 0; j < i; j++)
				if (!strcmp(t[i], t[j]))
					return t[i];
		return NULL;
	}
	const char **s = malloc((size_t)k * sizeof(*s));
	const char *dup = NULL;
	if (!s)
		return NULL;
	memcpy(s, t, (size_t)k * sizeof(*s));
	qsort(s, (size_t)k, sizeof(*s), cmp_str);
	for (int i = 1; i < k && !dup; i++)
		if (!strcmp(s[i], s[i - 1]))
			dup = s[i];
	free(s);
	return dup;
}

/* cost: "UNIT_OR_KIND=SECONDS", ';'-separated. Targets are resolved by the workload,
 * which knows the platform. */
static int parse_cost(struct xpu_trace_reader *r, char *v, struct xpu_trace_rec *rec,
                      struct xpu_err *err)
{
	struct native *n = r->priv;
	int k = 0;
	for (char *p = v; p;) {
		char *a, *b;
		p = list_entry(p, &a, &b);
		if (a == b)
			return ferr(r, err, "field 'cost': entry %d is empty", k + 1);
		int len = (int)(b - a);
		int qlen = len > QUOTE_MAX ? QUOTE_MAX : len;
		char *eq = memchr(a, '=', (size_t)len);
		char *t_end = eq ? eq : b;
		while (t_end > a && is_blank(t_end[-1]))
			t_end--;
		if (!eq || t_end == a)
			return ferr(r, err,
			            "field 'cost': expected UNIT_OR_KIND=SECONDS, got \"%.*s\"",
			            qlen, a);
		char *s = eq + 1;
		while (s < b && is_blank(*s))
			s++;
		char save = *b;
		*b = '\0';
		double sec = 0;
		enum num_status st = parse_number(s, 0, &sec);
		*b = save;
		if (st != NUM_OK)
			return ferr(r, err,
			            "field 'cost': expected UNIT_OR_KIND=SECONDS with SECONDS a "
			            "non-negative number, got \"%.*s\"%s",
			            qlen, a, st == NUM_RANGE ? " (too large)" : "");
		*b = '\0';
		*t_end = '\0';
		if (grow(&n->cost_target, &n->cost_seconds, &n->cost_cap, k + 1))
			return -ENOMEM;
		n->cost_target[k] = a;
		n->cost_seconds[k] = sec;
		k++;
	}
	const char *dup = duplicate_target(n->cost_target, k);
	if (dup)
		return ferr(r, err, "field 'cost': target \"%.*s\" is given twice", QUOTE_MAX, dup);
	rec->ncosts = k;
	rec->cost_target = n->cost_target;
	rec->cost_seconds = n->cost_seconds;
	return 0;
}

/* ------------------------------------------------------------------ records */

static int parse_int(struct xpu_trace_reader *r, const char *v, enum col c, int *out,
                     struct xpu_err *err)
{
	const char *p = v + (*v == '-' || *v == '+');
	if (*p < '0' || *p > '9')
		return bad_value(r, err, c, "an integer", v, "");
	errno = 0;
	char *end;
	long l = strtol(v, &end, 10);
	if (*end)
		return bad_value(r, err, c, "an integer", v, "");
	if (errno == ERANGE || l < INT_MIN || l > INT_MAX)
		return bad_value(r, err, c, "an integer", v, " (out of range)");
	*out = (int)l;
	return 0;
}

static int parse_class(struct xpu_trace_reader *r, const char *v, int *out, struct xpu_err *err)
{
	int c = xpu_class_parse(v);
	if (c >= 0) {
		*out = c;
		return 0;
	}
	char list[256];
	size_t len = 0;
	for (int i = 0; i < XPU_CLASS_COUNT && len < sizeof(list); i++)
		len += (size_t)snprintf(list + len, sizeof(list) - len, "%s%s", i ? ", " : "",
		                        xpu_class_name(i));
	return ferr(r, err, "field 'class': unknown class \"%.*s\" (classes: %s)", QUOTE_MAX, v,
	            list);
}

static int parse_field(struct xpu_trace_reader *r, enum col c, char *v, struct xpu_trace_rec *rec,
                       struct xpu_err *err)
{
	switch (c) {
	case COL_ID:
		if (!*v)
			return ferr(r, err, "field 'id': empty task id");
		/* ':' and ';' would make the id ambiguous inside a deps list. */
		if (strpbrk(v, ":;"))
			return bad_value(r, err, c, "a task id without ':' or ';'", v, "");
		rec->id = v;
		return 0;
	case COL_SUBMIT:
		return number_field(r, err, c, v, 0, &rec->submit);
	case COL_CLASS:
		return parse_class(r, v, &rec->cls, err);
	case COL_FLOPS:
		return number_field(r, err, c, v, 0, &rec->flops);
	case COL_BYTES:
		return number_field(r, err, c, v, 1, &rec->bytes);
	case COL_MEM:
		return number_field(r, err, c, v, 1, &rec->mem);
	case COL_DEPS:
		return parse_deps(r, v, rec, err);
	case COL_PRIORITY:
		return parse_int(r, v, COL_PRIORITY, &rec->priority, err);
	case COL_DEADLINE:
		return number_field(r, err, c, v, 0, &rec->deadline);
	case COL_USER:
		rec->user = v;
		return 0;
	case COL_COST:
		return parse_cost(r, v, rec, err);
	case COL_READS:
		return parse_data(r, v, 0, rec, err);
	case COL_WRITES:
		return parse_data(r, v, 1, rec, err);
	case COL_ESTIMATE:
		return number_field(r, err, c, v, 0, &rec->estimate);
	case COL_WIDTH: {
		int wd;
		int rc = parse_int(r, v, COL_WIDTH, &wd, err);
		if (rc)
			return rc;
		if (wd < 1)
			return bad_value(r, err, c, "a positive integer", v, "");
		rec->width = wd;
		return 0;
	}
	case COL_COUNT:
		break;
	}
	return -EINVAL;
}

static int native_next(struct xpu_trace_reader *r, struct xpu_trace_rec *rec, struct xpu_err *err)
{
	struct native *n = r->priv;
	int nf, rc = next_line(r, err);
	if (rc <= 0)
		return rc;
	rc = split(r, 0, &nf, err);
	if (rc < 0)
		return rc;
	/* A short row is more likely a mistake than a wish for defaults: reject both. */
	if (nf != n->ncols)
		return ferr(r, err, "%d field%s, but the header names %d column%s", nf,
		            nf == 1 ? "" : "s", n->ncols, n->ncols == 1 ? "" : "s");

	memset(rec, 0, sizeof(*rec));
	rec->line = n->lineno;
	rec->id = "";
	rec->cls = XPU_CLASS_GENERIC;
	rec->deadline = INFINITY;
	rec->user = "";
	rec->width = 1;
	rec->estimate = NAN;
	rec->cost_col = n->cost_col;
	for (int i = 0; i < nf; i++) {
		char *v = n->field[i];
		if (!*v && n->col[i] != COL_ID)
			continue; /* absent: keep the default */
		rc = parse_field(r, n->col[i], v, rec, err);
		if (rc < 0)
			return rc;
	}
	return 1;
}

/* ------------------------------------------------------------------ header */

static int column_of(const char *name)
{
	for (int c = 0; c < COL_COUNT; c++)
		if (!strcasecmp(name, col_names[c]))
			return c;
	return -1;
}

static int read_header(struct xpu_trace_reader *r, struct xpu_err *err)
{
	struct native *n = r->priv;
	int nf, rc = next_line(r, err);
	if (rc < 0)
		return rc;
	if (rc == 0)
		return xpu_errf(err, r->path, 0, "empty trace, expected a header row");

	/* Keep the raw text: a data row where the header should be is quoted as it was. */
	char raw[QUOTE_MAX + 4];
	const char *line = n->line;
	while (is_blank(*line))
		line++;
	snprintf(raw, sizeof(raw), "%.*s%s", QUOTE_MAX, line,
	         strlen(line) > QUOTE_MAX ? "..." : "");
	rc = split(r, 1, &nf, err);
	if (rc < 0)
		return rc;

	int known = 0;
	for (int i = 0; i < nf; i++)
		known += column_of(n->field[i]) >= 0;
	if (!known)
		return ferr(r, err,
		            "expected a header row naming columns such as id,submit,flops, "
		            "got \"%s\"",
		            raw);

	n->col = malloc((size_t)nf * sizeof(*n->col));
	if (!n->col)
		return -ENOMEM;
	int first[COL_COUNT] = {0}; /* 1-based column of each name seen */
	for (int i = 0; i < nf; i++) {
		const char *name = n->field[i];
		if (!*name)
			return ferr(r, err, "column %d of the header has no name", i + 1);
		int c = column_of(name);
		if (c < 0)
			return ferr(r, err, "unknown column \"%.*s\" (columns: %s)", QUOTE_MAX,
			            name, COLUMN_LIST);
		if (first[c])
			return ferr(r, err, "column '%s' appears twice (columns %d and %d)",
			            col_names[c], first[c], i + 1);
		first[c] = i + 1;
		n->col[i] = (enum col)c;
	}
	if (!first[COL_ID])
		return ferr(r, err, "the header has no 'id' column (columns: %s)", COLUMN_LIST);
	n->ncols = nf;
	n->cost_col = first[COL_COST];
	return 0;
}

static void native_close(struct xpu_trace_reader *r)
{
	struct native *n = r->priv;
	if (!n)
		return;
	if (n->f)
		fclose(n->f);
	free(n->line);
	free(n->col);
	free(n->field);
	free(n->dep_ids);
	free(n->dep_bytes);
	free(n->cost_target);
	free(n->cost_seconds);
	free(n->rd_names);
	free(n->rd_bytes);
	free(n->wr_names);
	free(n->wr_bytes);
	free(n);
	r->priv = NULL;
}

static int native_open(struct xpu_trace_reader *r, struct xpu_err *err)
{
	struct native *n = calloc(1, sizeof(*n));
	if (!n)
		return -ENOMEM;
	r->priv = n;
	n->f = fopen(r->path, "r");
	if (!n->f) {
		int e = errno;
		native_close(r);
		return xpu_errf(err, r->path, 0, "cannot open: %s", strerror(e));
	}
	int rc = read_header(r, err);
	if (rc < 0) {
		/* The file was read as native only because its name matched no format:
		 * say so, the user may have meant another one. */
		if (rc == -EINVAL && r->guessed && err) {
			size_t len = strlen(err->msg);
			snprintf(err->msg + len, sizeof(err->msg) - len,
			         " (no format claims this file's extension, so it was read as "
			         "native CSV)");
		}
		native_close(r);
		return rc;
	}
	return 0;
}

static const char *const native_extensions[] = {".csv", NULL};

const struct xpu_trace_reader_ops xpu_trace_native = {
    .name = "native",
    .description = "xpuopt's CSV trace: one task per row, columns named by a header",
    .extensions = native_extensions,
    .open = native_open,
    .next = native_next,
    .close = native_close,
};
