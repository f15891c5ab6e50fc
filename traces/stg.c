/* stg.c — reader for Kasahara's Standard Task Graph set (STG) files. */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lineio.h"

/* Format (Tobita and Kasahara, "A standard task graph set for fair evaluation of
 * multiprocessor scheduling algorithms", J. Scheduling 5(5), 2002; and the set's page
 * https://www.kasahara.cs.waseda.ac.jp/schedule/format_e.html): line 1 holds the task
 * count, then one line per node "id processing_time n_preds pred...", ids 0, 1, 2 ...
 * in order, every predecessor an earlier id. Node 0 and the last node are dummy entry
 * and exit nodes of time 0. The set's files count tasks without the dummies (sparse.stg:
 * 96, nodes 0..97), some derived files with them (robot.stg: 90, nodes 0..89): both are
 * accepted. '#' lines (the set's statistics block) and blank lines are skipped.
 *
 * Because predecessors always precede, the reader checks dangling references and
 * cycles on the fly: a predecessor id that is not smaller than the node's own id is
 * refused. The dummies are dropped (they do no work, and a scheduler would otherwise
 * pay a launch for each); dependencies on the entry dummy go with it. */

struct stg {
	struct tr_lines l;
	double speed;      /* flop/s: work = processing time x speed */
	long header;       /* the count on line 1 */
	long next_id;      /* id the next node must carry */
	int entry_dropped; /* node 0 was a dummy and was dropped */
	int have_ahead;    /* `ahead` holds the next node, parsed */
	int at_end;        /* no node after `ahead` */
	/* One node of look-ahead: the exit dummy is recognised as the last node. */
	struct node {
		long id;
		double time;
		int line;
		int npred;
		long *pred;
		int cap;
	} cur, ahead;
	char id_buf[24];
	char *dep_buf; /* npred ids, 24 bytes each */
	const char **dep_id;
	double *dep_bytes;
	int dep_cap;
};

static int integer_field(struct stg *s, struct xpu_err *err, const char *name, const char *v,
                         long max, long *out)
{
	double d;
	if (tr_num_field(&s->l, err, name, v, 0, &d) < 0)
		return -EINVAL;
	if (d != floor(d))
		return tr_bad(&s->l, err, name, "a non-negative integer", v, "");
	if (d > (double)max)
		return tr_bad(&s->l, err, name, "a non-negative integer", v, " (too large)");
	*out = (long)d;
	return 0;
}

/* Next line that is not blank or a comment: 1, 0 at the end, or -EINVAL. */
static int content_line(struct stg *s, struct xpu_err *err)
{
	for (;;) {
		int rc = tr_lines_next(&s->l, err);
		if (rc <= 0)
			return rc;
		const char *p = s->l.line + strspn(s->l.line, " \t");
		if (*p && *p != '#' && !tr_blank(p))
			return 1;
	}
}

/* Parse the next node into n; 1, 0 at the end of the graph, -EINVAL. */
static int read_node(struct xpu_trace_reader *r, struct node *n, struct xpu_err *err)
{
	struct stg *s = r->priv;
	int rc = content_line(s, err);
	if (rc <= 0)
		return rc;
	char *p = s->l.line, *tok, *first[3];
	long v[3];
	static const char *const names[3] = {"id", "processing_time", "n_preds"};
	for (int i = 0; i < 3; i++) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p)
			return xpu_errf(err, r->path, s->l.lineno,
			                "field '%s': missing (expected \"id processing_time "
			                "n_preds pred...\")",
			                names[i]);
		tok = p;
		p += strcspn(p, " \t");
		if (*p)
			*p++ = '\0';
		first[i] = tok;
		if (integer_field(s, err, names[i], tok, INT_MAX, &v[i]) < 0)
			return -EINVAL;
	}
	if (v[0] != s->next_id) {
		char want[32];
		snprintf(want, sizeof(want), "%ld (nodes are numbered in order)", s->next_id);
		return tr_bad(&s->l, err, "id", want, first[0], "");
	}
	n->id = v[0];
	n->time = (double)v[1];
	n->line = s->l.lineno;
	if (v[2] > n->id)
		return xpu_errf(err, r->path, s->l.lineno,
		                "field 'n_preds': node %ld cannot have %ld predecessors (only "
		                "earlier nodes can be)",
		                n->id, v[2]);
	if (v[2] > n->cap) {
		long *np = realloc(n->pred, (size_t)v[2] * sizeof(*np));
		if (!np)
			return -ENOMEM;
		n->pred = np;
		n->cap = (int)v[2];
	}
	n->npred = (int)v[2];
	for (int k = 0; k < n->npred; k++) {
		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p)
			return xpu_errf(err, r->path, s->l.lineno,
			                "field 'pred': n_preds is %d, but the line lists %d",
			                n->npred, k);
		tok = p;
		p += strcspn(p, " \t");
		if (*p)
			*p++ = '\0';
		if (integer_field(s, err, "pred", tok, INT_MAX, &n->pred[k]) < 0)
			return -EINVAL;
		if (n->pred[k] >= n->id)
			return xpu_errf(err, r->path, s->l.lineno,
			                "field 'pred': node %ld names %ld as a predecessor; "
			                "predecessors must be earlier nodes (a cycle or a dangling "
			                "reference)",
			                n->id, n->pred[k]);
	}
	if (!tr_blank(p))
		return xpu_errf(err, r->path, s->l.lineno,
		                "n_preds is %d, but the line lists more predecessors", n->npred);
	s->next_id++;
	return 1;
}

/* Check the node count against the header once the graph has ended. */
static int check_count(struct xpu_trace_reader *r, struct xpu_err *err)
{
	struct stg *s = r->priv;
	long nodes = s->next_id;
	if (nodes == s->header || nodes == s->header + 2)
		return 0;
	return xpu_errf(err, r->path, 1,
	                "the header counts %ld tasks, but the file has %ld nodes (expected %ld "
	                "with the dummy entry and exit, or %ld without)",
	                s->header, nodes, s->header, s->header + 2);
}

static int stg_next(struct xpu_trace_reader *r, struct xpu_trace_rec *rec, struct xpu_err *err)
{
	struct stg *s = r->priv;
	for (;;) {
		if (!s->have_ahead)
			return 0;
		/* Move ahead into cur, then read the following node to know whether cur is
		 * the last one. */
		struct node t = s->cur;
		s->cur = s->ahead;
		s->ahead = t;
		int rc = read_node(r, &s->ahead, err);
		if (rc < 0)
			return rc;
		s->have_ahead = rc;
		if (!rc && (rc = check_count(r, err)) < 0)
			return rc;

		struct node *n = &s->cur;
		int last = !s->have_ahead;
		if (n->id == 0 && n->time == 0 && n->npred == 0 && !last) {
			s->entry_dropped = 1;
			continue;
		}
		if (last && n->time == 0 && n->id > 0)
			continue; /* the exit dummy */

		memset(rec, 0, sizeof(*rec));
		rec->line = n->line;
		snprintf(s->id_buf, sizeof(s->id_buf), "%ld", n->id);
		rec->id = s->id_buf;
		rec->cls = XPU_CLASS_GENERIC;
		rec->flops = n->time * s->speed;
		rec->deadline = INFINITY;
		rec->user = "";
		rec->width = 1;
		rec->estimate = NAN;
		if (n->npred > s->dep_cap) {
			char *b = realloc(s->dep_buf, (size_t)n->npred * 24);
			const char **ids = realloc(s->dep_id, (size_t)n->npred * sizeof(*ids));
			if (b)
				s->dep_buf = b;
			if (ids)
				s->dep_id = ids;
			double *by = realloc(s->dep_bytes, (size_t)n->npred * sizeof(*by));
			if (by)
				s->dep_bytes = by;
			if (!b || !ids || !by)
				return -ENOMEM;
			s->dep_cap = n->npred;
		}
		int k = 0;
		for (int i = 0; i < n->npred; i++) {
			if (n->pred[i] == 0 && s->entry_dropped)
				continue;
			char *d = s->dep_buf + 24 * k;
			snprintf(d, 24, "%ld", n->pred[i]);
			s->dep_id[k] = d;
			s->dep_bytes[k] = 0; /* STG graphs carry no communication costs */
			k++;
		}
		rec->ndeps = k;
		rec->dep_ids = s->dep_id;
		rec->dep_bytes = s->dep_bytes;
		return 1;
	}
}

static void stg_close(struct xpu_trace_reader *r)
{
	struct stg *s = r->priv;
	if (!s)
		return;
	tr_lines_close(&s->l);
	free(s->cur.pred);
	free(s->ahead.pred);
	free(s->dep_buf);
	free(s->dep_id);
	free(s->dep_bytes);
	free(s);
	r->priv = NULL;
}

static int stg_open(struct xpu_trace_reader *r, struct xpu_err *err)
{
	struct stg *s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	r->priv = s;
	int rc = tr_param_num(r, "speed", 1e9, &s->speed, err);
	if (rc == 0)
		rc = tr_lines_open(&s->l, r->path, err);
	if (rc == 0) {
		rc = content_line(s, err);
		if (rc == 0)
			rc = xpu_errf(err, r->path, 0,
			              "empty file, expected a task count on line 1");
	}
	if (rc > 0) {
		char *f[2];
		int nf = tr_split(s->l.line, ' ', f, 1);
		if (nf != 1)
			rc = xpu_errf(err, r->path, s->l.lineno,
			              "expected the task count alone on the first line");
		else
			rc = integer_field(s, err, "task_count", f[0], INT_MAX - 2, &s->header);
	}
	if (rc == 0 && (rc = read_node(r, &s->ahead, err)) >= 0) {
		s->have_ahead = rc;
		rc = rc ? 0 : check_count(r, err);
	}
	if (rc < 0) {
		stg_close(r);
		return rc;
	}
	return 0;
}

static const char *const stg_extensions[] = {".stg", NULL};
static const char *const stg_params[] = {"speed", NULL};

const struct xpu_trace_reader_ops xpu_trace_stg = {
    .name = "stg",
    .description = "Kasahara Standard Task Graph set (.stg)",
    .extensions = stg_extensions,
    .open = stg_open,
    .next = stg_next,
    .close = stg_close,
    .params = stg_params,
};
