/* requests.c — LLM request streams (requests.h; traces/FORMAT.md, "Request streams"):
 * the public request logs read into requests, and xpuopt's own request CSV written. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "lineio.h"
#include "requests.h"

enum { C_ID, C_ARRIVAL, C_PROMPT, C_OUTPUT, NCOLS };

/* Each public format's names for the columns, with the format they identify. */
static const struct {
	const char *format;
	const char *name[NCOLS]; /* id may be NULL */
	int timestamp;           /* arrival is a date-time (relative to the first row) */
} formats[] = {
    {"azure", {NULL, "TIMESTAMP", "ContextTokens", "GeneratedTokens"}, 1},
    {"vidur", {NULL, "arrived_at", "num_prefill_tokens", "num_decode_tokens"}, 0},
    {"splitwise", {"request_id", "arrival_timestamp", "prompt_size", "token_size"}, 0},
    {"native", {"id", "arrival", "prompt", "output"}, 0},
};
#define NFORMATS (int)(sizeof(formats) / sizeof(formats[0]))
#define MAX_COLS 64

/* The format whose columns the header names, with their positions; -1 if none. */
static int map_header(char *line, int *col, int *nf_out, int *dcol)
{
	char *f[MAX_COLS + 1];
	int nf = tr_split(line, ',', f, MAX_COLS);
	*nf_out = nf;
	*dcol = -1; /* an optional deadline column: seconds after arrival */
	for (int i = 0; i < nf && i < MAX_COLS; i++)
		if (!strcasecmp(f[i], "deadline"))
			*dcol = i;
	for (int k = 0; k < NFORMATS; k++) {
		int ok = 1;
		for (int c = 0; c < NCOLS; c++) {
			col[c] = -1;
			if (!formats[k].name[c])
				continue;
			for (int i = 0; i < nf && i < MAX_COLS; i++)
				if (!strcasecmp(f[i], formats[k].name[c]))
					col[c] = i;
			if (col[c] < 0 && c != C_ID)
				ok = 0;
		}
		if (ok)
			return k;
	}
	return -1;
}

int xpu_requests_claims(const char *path)
{
	struct tr_lines l;
	struct xpu_err err;
	int col[NCOLS], nf, rc, k = -1, dcol;
	if (tr_lines_open(&l, path, &err))
		return 0;
	while ((rc = tr_lines_next(&l, &err)) > 0 && tr_blank(l.line))
		;
	if (rc > 0)
		k = map_header(l.line, col, &nf, &dcol);
	tr_lines_close(&l);
	return k >= 0;
}

static int cmp_arrival(const void *a, const void *b)
{
	const struct xpu_request *x = a, *y = b;
	if (x->arrival != y->arrival)
		return x->arrival < y->arrival ? -1 : 1;
	return (x->index > y->index) - (x->index < y->index);
}

static int whole_tokens(struct tr_lines *l, struct xpu_err *err, const char *field, const char *v,
                        double min, uint32_t *out)
{
	double x;
	if (tr_num_field(l, err, field, v, 0, &x) < 0)
		return -EINVAL;
	if (x != floor(x) || x < min || x > 1e8)
		return tr_bad(l, err, field,
		              min > 0 ? "a whole number of tokens, at least 1"
		                      : "a whole number of tokens",
		              v, x > 1e8 ? " (more than 1e8)" : "");
	*out = (uint32_t)x;
	return 0;
}

int xpu_requests_read(const char *path, struct xpu_requests *out, struct xpu_err *err)
{
	struct tr_lines l;
	int col[NCOLS], nf = 0, rc, k, dcol = -1;
	char *field[MAX_COLS + 1];
	size_t cap = 0, idlen = 0, idcap = 0;
	memset(out, 0, sizeof(*out));
	if ((rc = tr_lines_open(&l, path, err)))
		return rc;
	while ((rc = tr_lines_next(&l, err)) > 0 && tr_blank(l.line))
		;
	if (rc == 0)
		rc = xpu_errf(err, path, 0, "empty file, expected a header row");
	if (rc < 0)
		goto fail;
	if ((k = map_header(l.line, col, &nf, &dcol)) < 0) {
		rc = xpu_errf(err, path, l.lineno,
		              "expected a request stream's header: arrival,prompt,output "
		              "(xpuopt), TIMESTAMP,ContextTokens,GeneratedTokens (Azure), "
		              "arrived_at,num_prefill_tokens,num_decode_tokens (Vidur) or "
		              "arrival_timestamp,prompt_size,token_size (Splitwise)");
		goto fail;
	}
	if (nf > MAX_COLS) {
		rc = xpu_errf(err, path, l.lineno, "more than %d columns", MAX_COLS);
		goto fail;
	}
	out->format = formats[k].format;
	int ncols = nf;

	double t0 = NAN;
	/* ids are kept in one buffer as offsets until the end (it moves as it grows) */
	size_t *idoff = NULL;
	for (;;) {
		rc = tr_lines_next(&l, err);
		if (rc < 0)
			goto fail_ids;
		if (rc == 0)
			break;
		if (tr_blank(l.line))
			continue;
		int n = tr_split(l.line, ',', field, MAX_COLS);
		if (n != ncols) {
			rc = xpu_errf(err, path, l.lineno, "%d fields, but the header names %d", n,
			              ncols);
			goto fail_ids;
		}
		if (out->n == UINT32_MAX - 1) {
			rc = xpu_errf(err, path, l.lineno, "more than %u requests", UINT32_MAX - 1);
			goto fail_ids;
		}
		if (out->n == cap) {
			size_t nc = cap ? cap * 2 : 1024;
			struct xpu_request *v = realloc(out->v, nc * sizeof(*v));
			if (!v) {
				rc = -ENOMEM;
				goto fail_ids;
			}
			out->v = v;
			size_t *o = realloc(idoff, nc * sizeof(*o));
			if (!o) {
				rc = -ENOMEM;
				goto fail_ids;
			}
			idoff = o;
			cap = nc;
		}
		struct xpu_request *r = &out->v[out->n];
		memset(r, 0, sizeof(*r));
		r->index = out->n;
		r->line = l.lineno;
		const char *ts = field[col[C_ARRIVAL]];
		double t;
		if (formats[k].timestamp ? tr_parse_time(ts, &t) < 0
		                         : tr_parse_num(ts, &t) != TR_OK || !(t >= 0)) {
			rc = tr_bad(&l, err, formats[k].name[C_ARRIVAL],
			            formats[k].timestamp ? "a time as YYYY-MM-DD HH:MM:SS.fff"
			                                 : "a non-negative number of seconds",
			            ts, "");
			goto fail_ids;
		}
		if (formats[k].timestamp) {
			if (isnan(t0))
				t0 = t;
			if (t < t0) {
				rc = tr_bad(&l, err, formats[k].name[C_ARRIVAL],
				            "a time no earlier than the first request's", ts, "");
				goto fail_ids;
			}
			t -= t0;
		}
		r->arrival = t;
		uint32_t out_tokens;
		if (whole_tokens(&l, err, formats[k].name[C_PROMPT], field[col[C_PROMPT]], 1,
		                 &r->prompt) ||
		    whole_tokens(&l, err, formats[k].name[C_OUTPUT], field[col[C_OUTPUT]], 0,
		                 &out_tokens)) {
			rc = -EINVAL;
			goto fail_ids;
		}
		/* a request is served once its first token is out: 0 reads as 1 */
		r->output = out_tokens ? out_tokens : 1;
		r->deadline = INFINITY;
		if (dcol >= 0 && *field[dcol]) {
			double dl;
			if (tr_num_field(&l, err, "deadline", field[dcol], 0, &dl) < 0) {
				rc = -EINVAL;
				goto fail_ids;
			}
			r->deadline = r->arrival + dl;
		}
		char idbuf[32];
		const char *id = col[C_ID] >= 0 ? field[col[C_ID]] : NULL;
		if (!id || !*id) {
			snprintf(idbuf, sizeof(idbuf), "r%d", l.lineno);
			id = idbuf;
		}
		size_t len = strlen(id) + 1;
		if (idlen + len > idcap) {
			size_t nc = idcap ? idcap * 2 : 16384;
			while (nc < idlen + len)
				nc *= 2;
			char *b = realloc(out->ids, nc);
			if (!b) {
				rc = -ENOMEM;
				goto fail_ids;
			}
			out->ids = b;
			idcap = nc;
		}
		memcpy(out->ids + idlen, id, len);
		idoff[out->n] = idlen;
		idlen += len;
		out->n++;
	}
	if (out->n == 0) {
		rc = xpu_errf(err, path, l.lineno, "no requests after the header");
		goto fail_ids;
	}
	for (uint32_t i = 0; i < out->n; i++)
		out->v[i].id = out->ids + idoff[i];
	free(idoff);
	tr_lines_close(&l);
	qsort(out->v, out->n, sizeof(*out->v), cmp_arrival);
	for (uint32_t i = 0; i < out->n; i++)
		out->v[i].index = i;
	return 0;
fail_ids:
	free(idoff);
fail:
	tr_lines_close(&l);
	xpu_requests_free(out);
	return rc;
}

int xpu_requests_write(const char *path, const struct xpu_requests *r, struct xpu_err *err)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "w") : stdout;
	if (!f)
		return xpu_errf(err, path, 0, "cannot write: %s", strerror(errno));
	fprintf(f, "id,arrival,prompt,output,deadline\n");
	for (uint32_t i = 0; i < r->n; i++) {
		fprintf(f, "%s,%.9g,%u,%u,", r->v[i].id, r->v[i].arrival, r->v[i].prompt,
		        r->v[i].output);
		if (isfinite(r->v[i].deadline))
			fprintf(f, "%.9g", r->v[i].deadline - r->v[i].arrival);
		fprintf(f, "\n");
	}
	int bad = ferror(f);
	if (f != stdout)
		bad |= fclose(f) != 0;
	else
		bad |= fflush(f) != 0;
	if (bad)
		return xpu_errf(err, path, 0, "write failed");
	return 0;
}

void xpu_requests_free(struct xpu_requests *r)
{
	if (!r)
		return;
	free(r->v);
	free(r->ids);
	memset(r, 0, sizeof(*r));
}
