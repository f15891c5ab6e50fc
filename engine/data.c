/* data.c — the engine's data: the copy of each datum in each memory and its state
 * (modified, shared, invalid: StarPU's MSI), the copies that move data to the tasks
 * that read it, and where data occupies memory.
 *
 * A copy is valid (shared), valid and modified (the only up-to-date copy, written
 * there), or invalid. A datum's version counts its completed writes; an access reads
 * the version of the writes before it in trace order, so a reader placed early never
 * takes a copy that a write it waits for will replace. A task reads a datum from a valid copy in
 * its unit's memory; when there is none, one copy operation brings it from the valid copy with the
 * shortest predicted transfer, and every task of that memory waiting for the datum waits for that
 * one operation. A write leaves one modified copy, in the writer's memory, and invalidates the
 * others. Units that share a memory never copy.
 *
 * Memory: a producer's output occupies its memory from the producer's start; a copy
 * occupies its memory from the start of the operation that makes it; shared data
 * occupies its home memory (the memory of the platform's first CPU, else of its first
 * unit) from the start. An invalidated copy is freed at once; a valid copy stays until
 * no task will access the datum any more (choosing victims earlier is a memory
 * policy's work, with eviction). Data are counted in each memory's use, not refused
 * for its capacity.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "engine_impl.h"

#define NONE UINT32_MAX

struct dcopy {
	int32_t pool;
	int32_t unit;     /* the unit whose host holds it, for routing */
	uint8_t valid;    /* holds the current value */
	uint8_t modified; /* the only valid copy, written here */
	uint8_t moving;   /* a copy operation into this memory is under way */
	uint8_t counted;  /* its bytes are counted in the memory's use */
	uint32_t refs;    /* placed, unfinished tasks of this memory that access it */
	uint32_t waiters; /* first wait record, NONE when nobody waits */
};

struct datum_rt {
	struct dcopy *c;
	uint32_t n, cap;
	uint32_t left;    /* accessing tasks not yet ended */
	uint32_t version; /* writes completed: an access reads the value of its version */
	uint8_t exists;   /* has a value: shared data from the start, an output once written */
};

struct waitrec {
	uint32_t task, next;
};

struct xfer {
	uint32_t datum;
	int32_t pool;
	int32_t src_unit, dst_unit;
	uint32_t task; /* the task that asked for it: it is charged the bytes */
	uint32_t next_free;
};

/* Bytes moved between two units' hosts: an open-addressing hash on the ordered pair. */
struct link_ent {
	uint64_t key; /* (src + 1) << 32 | (dst + 1); 0 = empty */
	double bytes;
	uint64_t count;
};

struct xpu_data_rt {
	struct link_ent *links;
	size_t nlinks, lcap;
	struct datum_rt *d;
	struct waitrec *w;
	uint32_t nw, wcap, wfree;
	struct xfer *x;
	uint32_t nx, xcap, xfree;
	double *used; /* per pool: bytes of data */
	double *peak; /* per pool: peak of used */
	int home_pool, home_unit;
};

/* ------------------------------------------------------------------ copies */

static struct dcopy *find_copy(struct datum_rt *d, int pool)
{
	for (uint32_t i = 0; i < d->n; i++)
		if (d->c[i].pool == pool)
			return &d->c[i];
	return NULL;
}

static struct dcopy *get_copy(struct datum_rt *d, int pool, int unit)
{
	struct dcopy *c = find_copy(d, pool);
	if (c)
		return c;
	if (d->n == d->cap) {
		uint32_t cap = d->cap ? 2 * d->cap : 2;
		struct dcopy *nc = realloc(d->c, cap * sizeof(*nc));
		if (!nc)
			return NULL;
		d->c = nc;
		d->cap = cap;
	}
	c = &d->c[d->n++];
	*c = (struct dcopy){.pool = pool, .unit = unit, .waiters = NONE};
	return c;
}

static void count(struct xpu_engine *e, struct dcopy *c, double size, int on)
{
	struct xpu_data_rt *D = e->data;
	if (c->counted == on)
		return;
	c->counted = (uint8_t)on;
	D->used[c->pool] += on ? size : -size;
	if (D->used[c->pool] < 0) /* rounding */
		D->used[c->pool] = 0;
	if (D->used[c->pool] > D->peak[c->pool])
		D->peak[c->pool] = D->used[c->pool];
	eng_note_pool(e, c->pool);
}

/* Free what no task needs: invalid copies at once, valid ones once no task will
 * access the datum again. */
static void release_copies(struct xpu_engine *e, uint32_t di)
{
	struct datum_rt *d = &e->data->d[di];
	double size = e->w->data[di].size;
	for (uint32_t i = 0; i < d->n; i++) {
		struct dcopy *c = &d->c[i];
		if (c->counted && !c->moving && (!c->valid || d->left == 0))
			count(e, c, size, 0);
	}
}

/* ------------------------------------------------------------------ setup */

int xpu_data_setup(struct xpu_engine *e)
{
	const struct xpu_workload *w = e->w;
	struct xpu_data_rt *D = calloc(1, sizeof(*D));
	if (!D)
		return -ENOMEM;
	e->data = D;
	D->d = calloc((size_t)w->ndata + 1, sizeof(*D->d));
	D->used = calloc((size_t)e->pf->npools + 1, sizeof(double));
	D->peak = calloc((size_t)e->pf->npools + 1, sizeof(double));
	e->datum_bytes = calloc((size_t)w->ndata + 1, sizeof(double));
	e->datum_copies = calloc((size_t)w->ndata + 1, sizeof(uint32_t));
	if (!D->d || !D->used || !D->peak || !e->datum_bytes || !e->datum_copies)
		return -ENOMEM;
	D->wfree = D->xfree = NONE;
	/* Shared data start in host memory: the first CPU's, else the first unit's. */
	D->home_unit = 0;
	for (int u = e->pf->nunits - 1; u >= 0; u--)
		if (e->pf->units[u].kind == XPU_KIND_CPU)
			D->home_unit = u;
	D->home_pool = e->pf->nunits ? e->pf->units[D->home_unit].mem_pool : 0;
	for (uint32_t i = 0; i < w->ndata; i++) {
		struct datum_rt *d = &D->d[i];
		d->left = w->data[i].naccess;
		if (w->data[i].producer != NONE)
			continue;
		struct dcopy *c = get_copy(d, D->home_pool, D->home_unit);
		if (!c)
			return -ENOMEM;
		c->valid = 1;
		d->exists = 1;
		count(e, c, w->data[i].size, 1);
	}
	return 0;
}

void xpu_data_teardown(struct xpu_engine *e)
{
	struct xpu_data_rt *D = e->data;
	if (!D)
		return;
	for (uint32_t i = 0; D->d && i < e->w->ndata; i++)
		free(D->d[i].c);
	free(D->d);
	free(D->w);
	free(D->x);
	free(D->used);
	free(D->peak);
	free(D->links);
	free(D);
	e->data = NULL;
}

double xpu_data_pool_used(const struct xpu_engine *e, int pool)
{
	return e->data ? e->data->used[pool] : 0;
}

double xpu_data_pool_peak(const struct xpu_engine *e, int pool)
{
	return e->data ? e->data->peak[pool] : 0;
}

static size_t link_slot(const struct link_ent *t, size_t cap, uint64_t k)
{
	uint64_t h = k * 0x9e3779b97f4a7c15ULL;
	size_t i = (size_t)(h >> 20) & (cap - 1);
	while (t[i].key && t[i].key != k)
		i = (i + 1) & (cap - 1);
	return i;
}

static void note_link(struct xpu_engine *e, int src, int dst, double bytes)
{
	struct xpu_data_rt *D = e->data;
	if ((D->nlinks + 1) * 2 > D->lcap) {
		size_t cap = D->lcap ? 2 * D->lcap : 64;
		struct link_ent *t = calloc(cap, sizeof(*t));
		if (!t) {
			eng_fatal(e, -ENOMEM, "transfer statistics");
			return;
		}
		for (size_t i = 0; i < D->lcap; i++)
			if (D->links[i].key)
				t[link_slot(t, cap, D->links[i].key)] = D->links[i];
		free(D->links);
		D->links = t;
		D->lcap = cap;
	}
	uint64_t k = ((uint64_t)(uint32_t)(src + 1) << 32) | (uint32_t)(dst + 1);
	size_t i = link_slot(D->links, D->lcap, k);
	if (!D->links[i].key) {
		D->links[i].key = k;
		D->nlinks++;
	}
	D->links[i].bytes += bytes;
	D->links[i].count++;
}

static int cmp_link(const void *a, const void *b)
{
	const struct xpu_link_stat *x = a, *y = b;
	if (x->src != y->src)
		return x->src < y->src ? -1 : 1;
	return x->dst < y->dst ? -1 : x->dst > y->dst;
}

int xpu_data_links(const struct xpu_engine *e, struct xpu_link_stats *out)
{
	const struct xpu_data_rt *D = e->data;
	out->n = 0;
	out->v = malloc((D && D->nlinks ? D->nlinks : 1) * sizeof(*out->v));
	if (!out->v)
		return -ENOMEM;
	for (size_t i = 0; D && i < D->lcap; i++)
		if (D->links[i].key)
			out->v[out->n++] = (struct xpu_link_stat){
			    .src = (int32_t)(D->links[i].key >> 32) - 1,
			    .dst = (int32_t)(D->links[i].key & 0xffffffffu) - 1,
			    .bytes = D->links[i].bytes,
			    .count = D->links[i].count};
	qsort(out->v, out->n, sizeof(*out->v), cmp_link); /* a stable order in the file */
	return 0;
}

/* ------------------------------------------------------------------ moving data in */

static int add_waiter(struct xpu_data_rt *D, struct dcopy *c, uint32_t task)
{
	uint32_t k = D->wfree;
	if (k != NONE) {
		D->wfree = D->w[k].next;
	} else {
		if (D->nw == D->wcap) {
			uint32_t cap = D->wcap ? 2 * D->wcap : 256;
			struct waitrec *nw = realloc(D->w, cap * sizeof(*nw));
			if (!nw)
				return -ENOMEM;
			D->w = nw;
			D->wcap = cap;
		}
		k = D->nw++;
	}
	D->w[k] = (struct waitrec){task, c->waiters};
	c->waiters = k;
	return 0;
}

static uint32_t new_xfer(struct xpu_data_rt *D)
{
	uint32_t k = D->xfree;
	if (k != NONE) {
		D->xfree = D->x[k].next_free;
		return k;
	}
	if (D->nx == D->xcap) {
		uint32_t cap = D->xcap ? 2 * D->xcap : 64;
		struct xfer *nx = realloc(D->x, cap * sizeof(*nx));
		if (!nx)
			return NONE;
		D->x = nx;
		D->xcap = cap;
	}
	return D->nx++;
}

/* Task t (placed on a unit) reads access a: make sure a valid copy is, or will be, in
 * its memory. Returns 0, or a negative errno (the run stops, err set). */
static int want(struct xpu_engine *e, struct xpu_task *t, struct xpu_access *a)
{
	struct xpu_data_rt *D = e->data;
	struct datum_rt *d = &D->d[a->datum];
	const struct xpu_datum *dm = &e->w->data[a->datum];
	int u = t->unit, pool = e->pf->units[u].mem_pool;
	/* the value it reads must be written first: the writer is one of its
	 * dependencies, and asks again for it when done */
	if (a->have || !(a->mode & XPU_ACCESS_READ) || !d->exists || d->version < a->version)
		return 0;
	struct dcopy *c = get_copy(d, pool, u);
	if (!c)
		return -ENOMEM;
	if (c->valid) {
		a->have = 2;
		return 0;
	}
	if (!c->moving) {
		/* the valid copy the data comes from fastest */
		int src = -1;
		double best = INFINITY;
		for (uint32_t i = 0; i < d->n; i++)
			if (d->c[i].valid) {
				double tt = xpu_comm_time(e, d->c[i].unit, u, dm->size);
				if (src < 0 || tt < best) {
					src = (int)i;
					best = tt;
				}
			}
		if (src < 0 || !isfinite(best)) {
			int from = src >= 0 ? d->c[src].unit : -1;
			if (!e->rc) {
				e->rc = -EHOSTUNREACH;
				xpu_errf(e->err, e->w->path, t->line,
				         "task \"%s\" needs datum \"%s\" (%.17g bytes) on unit "
				         "'%s', but "
				         "no memory holding it has a route there (from '%s')",
				         t->id, dm->name, dm->size, e->pf->units[u].name,
				         from >= 0 ? e->pf->units[from].name : "?");
			}
			return -EHOSTUNREACH;
		}
		uint32_t k = new_xfer(D);
		if (k == NONE)
			return -ENOMEM;
		struct dcopy *s = &d->c[src];
		D->x[k] = (struct xfer){a->datum, pool, s->unit, u, t->index, NONE};
		struct xpu_copy op = {.cookie = k,
		                      .datum = a->datum,
		                      .bytes = dm->size,
		                      .src_unit = s->unit,
		                      .dst_unit = u,
		                      .src_pool = s->pool,
		                      .dst_pool = pool};
		int rc = e->be->ops->copy(e->be, &op);
		if (rc) {
			D->x[k].next_free = D->xfree;
			D->xfree = k;
			return rc;
		}
		c = find_copy(d, pool); /* get_copy may have moved the array */
		c->moving = 1;
		c->unit = u;
		count(e, c, dm->size, 1);
		e->in_flight++;
	}
	if (add_waiter(D, c, t->index))
		return -ENOMEM;
	a->have = 1;
	t->nxfers++;
	return 0;
}

/* Ask for every input of t that exists now; the others are asked for once written. */
static void want_all(struct xpu_engine *e, struct xpu_task *t)
{
	for (uint32_t i = 0; i < t->naccess && !e->rc; i++) {
		int rc = want(e, t, &t->access[i]);
		if (rc && !e->rc) {
			e->rc = rc;
			xpu_errf(e->err, NULL, 0, "moving data: %s", strerror(-rc));
		}
	}
	if (t->nxfers && t->state == XPU_TASK_PLACED)
		eng_set_state(e, t, XPU_TASK_STAGING);
}

void xpu_data_placed(struct xpu_engine *e, struct xpu_task *t)
{
	int pool = e->pf->units[t->unit].mem_pool;
	for (uint32_t i = 0; i < t->naccess; i++) {
		struct dcopy *c = get_copy(&e->data->d[t->access[i].datum], pool, t->unit);
		if (!c) {
			eng_fatal(e, -ENOMEM, "data");
			return;
		}
		c->refs++;
	}
	want_all(e, t);
}

void xpu_data_unplaced(struct xpu_engine *e, struct xpu_task *t, int unit)
{
	int pool = e->pf->units[unit].mem_pool;
	for (uint32_t i = 0; i < t->naccess; i++) {
		struct dcopy *c = find_copy(&e->data->d[t->access[i].datum], pool);
		if (c && c->refs)
			c->refs--;
		t->access[i].have = 0;
	}
}

void xpu_data_started(struct xpu_engine *e, struct xpu_task *t)
{
	int pool = e->pf->units[t->unit].mem_pool;
	for (uint32_t i = 0; i < t->naccess; i++) {
		const struct xpu_access *a = &t->access[i];
		if (!(a->mode & XPU_ACCESS_WRITE))
			continue;
		struct dcopy *c = get_copy(&e->data->d[a->datum], pool, t->unit);
		if (!c) {
			eng_fatal(e, -ENOMEM, "data");
			return;
		}
		count(e, c, e->w->data[a->datum].size, 1); /* its output takes room now */
	}
}

void xpu_data_ended(struct xpu_engine *e, struct xpu_task *t, int unit, int done)
{
	struct xpu_data_rt *D = e->data;
	int pool = unit >= 0 ? e->pf->units[unit].mem_pool : -1;
	for (uint32_t i = 0; i < t->naccess; i++) {
		const struct xpu_access *a = &t->access[i];
		struct datum_rt *d = &D->d[a->datum];
		if (done && (a->mode & XPU_ACCESS_WRITE)) {
			/* the writer's copy becomes the only valid one */
			for (uint32_t k = 0; k < d->n; k++)
				d->c[k].valid = d->c[k].modified = 0;
			struct dcopy *c = get_copy(d, pool, unit);
			if (!c) {
				eng_fatal(e, -ENOMEM, "data");
				return;
			}
			c->valid = c->modified = 1;
			c->unit = unit;
			count(e, c, e->w->data[a->datum].size, 1);
			d->exists = 1;
			d->version++;
		}
		if (pool >= 0) {
			struct dcopy *c = find_copy(d, pool);
			if (c && c->refs)
				c->refs--;
		}
		if (d->left)
			d->left--;
		release_copies(e, a->datum);
	}
}

void xpu_data_wanted(struct xpu_engine *e, struct xpu_task *t)
{
	want_all(e, t);
}

void xpu_data_copy_done(struct xpu_engine *e, uint64_t cookie, int status)
{
	struct xpu_data_rt *D = e->data;
	if (cookie >= D->nx)
		return;
	struct xfer x = D->x[cookie];
	D->x[cookie].next_free = D->xfree;
	D->xfree = (uint32_t)cookie;
	struct datum_rt *d = &D->d[x.datum];
	const struct xpu_datum *dm = &e->w->data[x.datum];
	struct dcopy *c = find_copy(d, x.pool);
	if (!c)
		return;
	c->moving = 0;
	if (!status) {
		c->valid = 1;
		for (uint32_t k = 0; k < d->n; k++)
			d->c[k].modified = 0; /* two valid copies: both shared */
		e->datum_bytes[x.datum] += dm->size;
		e->datum_copies[x.datum]++;
		e->w->tasks[x.task].bytes_in += dm->size;
		e->us[x.dst_unit].bytes_in += dm->size;
		e->us[x.src_unit].bytes_out += dm->size;
		note_link(e, x.src_unit, x.dst_unit, dm->size);
	}
	/* every task waiting for it goes on (or fails with it) */
	uint32_t k = c->waiters;
	c->waiters = NONE;
	while (k != NONE) {
		uint32_t next = D->w[k].next;
		struct xpu_task *t = &e->w->tasks[D->w[k].task];
		D->w[k].next = D->wfree;
		D->wfree = k;
		k = next;
		if (t->state == XPU_TASK_FAILED || t->state == XPU_TASK_DONE)
			continue;
		for (uint32_t i = 0; i < t->naccess; i++)
			if (t->access[i].datum == x.datum && t->access[i].have == 1)
				t->access[i].have = status ? 0 : 2;
		if (t->nxfers)
			t->nxfers--;
		if (status) {
			eng_fail_task(e, t);
			continue;
		}
		if (!t->nxfers && t->state == XPU_TASK_STAGING)
			eng_set_state(e, t, XPU_TASK_PLACED);
		if (!t->nxfers && t->unit >= 0) {
			eng_mark_dirty(e, t->unit);
			eng_inputs_arrived(e, t);
		}
	}
	release_copies(e, x.datum);
}

/* ------------------------------------------------------------------ predictions */

/* When datum di could be valid in unit u's memory: now when it is, else the earliest
 * predicted arrival from a valid copy, or from its producer once it ends. */
double xpu_data_arrival(const struct xpu_engine *e, uint32_t di, int u, double producer_end,
                        int producer_unit)
{
	const struct datum_rt *d = &e->data->d[di];
	double size = e->w->data[di].size;
	int pool = e->pf->units[u].mem_pool;
	if (!d->exists) {
		int src = producer_unit >= 0 ? producer_unit : u;
		return producer_end + xpu_comm_time(e, src, u, size);
	}
	double best = INFINITY;
	for (uint32_t i = 0; i < d->n; i++) {
		const struct dcopy *c = &d->c[i];
		if (c->pool == pool && (c->valid || c->moving))
			return e->now; /* there, or on its way */
		if (c->valid) {
			double at = e->now + xpu_comm_time(e, c->unit, u, size);
			if (at < best)
				best = at;
		}
	}
	return best;
}
