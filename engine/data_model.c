/* data_model.c — the data of a workload: producers' outputs named by data edges, shared
 * data named by the trace, each task's accesses, and the order shared data imposes. */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "data_model.h"

#define NONE UINT32_MAX

/* A data edge: consumer c reads `bytes` of producer p's output. */
struct edge {
	uint32_t p, c;
	double bytes;
};

static int cmp_edge(const void *a, const void *b)
{
	const struct edge *x = a, *y = b;
	if (x->p != y->p)
		return x->p < y->p ? -1 : 1;
	if (x->bytes != y->bytes)
		return x->bytes < y->bytes ? -1 : 1;
	return x->c < y->c ? -1 : x->c > y->c;
}

/* Named accesses in name order, then task order (the order shared data imposes). */
static int cmp_named(const void *a, const void *b)
{
	const struct xpu_named_access *x = a, *y = b;
	int c = strcmp(x->name, y->name);
	if (c)
		return c;
	if (x->task != y->task)
		return x->task < y->task ? -1 : 1;
	return (int)x->mode - (int)y->mode;
}

static int push_pair(uint32_t **v, size_t *n, size_t *cap, uint32_t a, uint32_t b)
{
	if (*n + 2 > *cap) {
		size_t c = *cap ? 2 * *cap : 256;
		uint32_t *nv = realloc(*v, c * sizeof(*nv));
		if (!nv)
			return -ENOMEM;
		*v = nv;
		*cap = c;
	}
	(*v)[(*n)++] = a;
	(*v)[(*n)++] = b;
	return 0;
}

/* One access (datum, mode) added to task t, merging a second mention of the same datum
 * (a task that reads and writes one buffer). count[] holds each task's fill so far. */
static void add_access(struct xpu_workload *w, uint32_t *fill, uint32_t t, uint32_t d, int mode,
                       uint32_t version)
{
	struct xpu_task *k = &w->tasks[t];
	for (uint32_t i = 0; i < fill[t]; i++)
		if (k->access[i].datum == d) {
			k->access[i].mode |= (uint8_t)mode;
			return;
		}
	k->access[fill[t]++] =
	    (struct xpu_access){.datum = d, .version = version, .mode = (uint8_t)mode};
	w->data[d].naccess++;
}

int xpu_data_build(struct xpu_workload *w, struct xpu_named_access *na, size_t nna,
                   const char *path, uint32_t **extra, size_t *nextra, struct xpu_err *err)
{
	uint32_t n = w->ntasks;
	size_t nedges = 0, ne = 0;
	struct edge *edges = NULL;
	uint32_t *count = NULL, *fill = NULL;
	size_t xcap = 0;
	int rc = 0;
	*extra = NULL;
	*nextra = 0;

	for (uint32_t i = 0; i < n; i++)
		for (uint32_t j = 0; j < w->tasks[i].ndeps; j++)
			nedges += w->tasks[i].deps[j].bytes > 0;
	edges = malloc((nedges + 1) * sizeof(*edges));
	count = calloc((size_t)n + 1, sizeof(*count));
	fill = calloc((size_t)n + 1, sizeof(*fill));
	if (!edges || !count || !fill)
		goto nomem;
	for (uint32_t i = 0; i < n; i++)
		for (uint32_t j = 0; j < w->tasks[i].ndeps; j++)
			if (w->tasks[i].deps[j].bytes > 0)
				edges[ne++] = (struct edge){w->tasks[i].deps[j].task, i,
				                            w->tasks[i].deps[j].bytes};
	if (ne > 1)
		qsort(edges, ne, sizeof(*edges), cmp_edge);
	if (nna > 1) /* na may be NULL when empty */
		qsort(na, nna, sizeof(*na), cmp_named);

	/* Count data and the accesses per task (an upper bound: merged mentions of one
	 * datum by one task take one slot). */
	uint32_t ndata = 0;
	for (size_t i = 0; i < ne; i++) {
		int first_of_datum =
		    i == 0 || edges[i].p != edges[i - 1].p || edges[i].bytes != edges[i - 1].bytes;
		ndata += first_of_datum;
		count[edges[i].p] += first_of_datum; /* the producer writes it */
		count[edges[i].c]++;
	}
	for (size_t i = 0; i < nna; i++) {
		ndata += i == 0 || strcmp(na[i].name, na[i - 1].name);
		count[na[i].task]++;
	}
	uint64_t total = 0;
	for (uint32_t i = 0; i < n; i++)
		total += count[i];
	w->data = calloc((size_t)ndata + 1, sizeof(*w->data));
	w->accesses = malloc((size_t)(total + 1) * sizeof(*w->accesses));
	if (!w->data || !w->accesses)
		goto nomem;
	uint64_t off = 0;
	for (uint32_t i = 0; i < n; i++) {
		w->tasks[i].access = count[i] ? w->accesses + off : NULL;
		off += count[i];
	}

	/* Producers' outputs: one datum per producer and size. */
	uint32_t d = 0;
	for (size_t i = 0; i < ne;) {
		const struct xpu_task *p = &w->tasks[edges[i].p];
		uint32_t part =
		    (i > 0 && edges[i - 1].p == edges[i].p) ? w->data[d - 1].part + 1 : 0;
		w->data[d] = (struct xpu_datum){
		    .name = p->id, .part = part, .size = edges[i].bytes, .producer = edges[i].p};
		add_access(w, fill, edges[i].p, d, XPU_ACCESS_WRITE, 0);
		size_t j = i;
		for (; j < ne && edges[j].p == edges[i].p && edges[j].bytes == edges[i].bytes; j++)
			add_access(w, fill, edges[j].c, d, XPU_ACCESS_READ, 1); /* once written */
		d++;
		i = j;
	}

	/* Shared data, in name order; within one name, tasks in trace order. A write
	 * waits for the previous write and every read since (StarPU's sequential
	 * consistency); a read waits for the previous write. */
	uint32_t *readers = NULL;
	size_t nreaders = 0, rcap = 0;
	for (size_t i = 0; i < nna && !rc;) {
		size_t j = i;
		double size = NAN;
		int size_line = 0;
		for (; j < nna && !strcmp(na[j].name, na[i].name); j++) {
			if (isnan(na[j].bytes))
				continue;
			if (isnan(size)) {
				size = na[j].bytes;
				size_line = na[j].line;
			} else if (na[j].bytes != size) {
				rc = xpu_errf(
				    err, path, na[j].line,
				    "field '%s': datum \"%s\" has %.17g bytes (line %d), got "
				    "%.17g",
				    na[j].mode & XPU_ACCESS_WRITE ? "writes" : "reads", na[j].name,
				    size, size_line, na[j].bytes);
				break;
			}
		}
		if (rc)
			break;
		if (isnan(size)) {
			rc = xpu_errf(
			    err, path, na[i].line,
			    "field '%s': datum \"%s\" needs a size: give NAME:BYTES at least "
			    "once",
			    na[i].mode & XPU_ACCESS_WRITE ? "writes" : "reads", na[i].name);
			break;
		}
		w->data[d] = (struct xpu_datum){
		    .name = na[i].name, .part = 0, .size = size, .producer = NONE};
		uint32_t writer = NONE, writes = 0;
		nreaders = 0;
		for (size_t k = i; k < j && !rc; k++) {
			uint32_t t = na[k].task;
			/* one task's read and write of the datum come as two mentions */
			int mode = na[k].mode;
			while (k + 1 < j && na[k + 1].task == t)
				mode |= na[++k].mode;
			add_access(w, fill, t, d, mode,
			           writes); /* the value of the writes so far */
			if (mode & XPU_ACCESS_WRITE) {
				writes++;
				if (writer != NONE)
					rc = push_pair(extra, nextra, &xcap, writer, t);
				for (size_t r = 0; r < nreaders && !rc; r++)
					if (readers[r] != t)
						rc = push_pair(extra, nextra, &xcap, readers[r], t);
				writer = t;
				nreaders = 0;
			} else {
				if (writer != NONE)
					rc = push_pair(extra, nextra, &xcap, writer, t);
				if (nreaders == rcap) {
					size_t c = rcap ? 2 * rcap : 64;
					uint32_t *nr = realloc(readers, c * sizeof(*nr));
					if (!nr) {
						rc = -ENOMEM;
						break;
					}
					readers = nr;
					rcap = c;
				}
				readers[nreaders++] = t;
			}
		}
		d++;
		i = j;
	}
	free(readers);
	if (rc)
		goto out;
	w->ndata = d;
	for (uint32_t i = 0; i < n; i++) {
		w->tasks[i].naccess = fill[i];
		w->naccesses += fill[i];
	}
	goto out;
nomem:
	rc = -ENOMEM;
out:
	if (rc) {
		free(*extra);
		*extra = NULL;
		*nextra = 0;
	}
	free(edges);
	free(count);
	free(fill);
	return rc;
}
