/* data.c — the engine's data: the copy of each datum in each memory and its state
 * (modified, shared, invalid: StarPU's MSI), the copies that move data to the tasks
 * that read it, where data occupy memory, and eviction.
 *
 * A copy is valid (shared), valid and modified (the only up-to-date copy, written
 * there), or invalid. A datum's version counts its completed writes; an access reads
 * the version of the writes before it in trace order, so a reader placed early never
 * takes a copy that a write it waits for will replace. A task reads a datum from a
 * valid copy in its unit's memory; when there is none, one copy operation brings it
 * from the valid copy with the shortest predicted transfer, and every task of that
 * memory waiting for the datum waits for that one operation. A write leaves one
 * modified copy, in the writer's memory, and invalidates the others. Units that share
 * a memory never copy.
 *
 * Memory. Every copy holds a block of its memory from the memory policy (alloc), as a
 * task's footprint does. Shared data start in the home memory (the platform's first
 * CPU's, else its first unit's), the backing store. A task at the head of its unit's
 * queue is staged in one step: the copies it reads and writes there are pinned, and
 * blocks for the missing inputs, its outputs and its footprint are all reserved, or
 * none is (it then waits for memory: no task holds part of what it needs while
 * waiting for the rest, so two tasks never wait for each other). When a request does
 * not fit, the policy's victim leaves: a copy that another memory also holds is
 * dropped; the only valid copy of a datum still needed is first written back home
 * (its space frees when the write-back ends). Copies in the home memory, moving,
 * being written back or pinned by a staged or running task are never victims. A
 * prefetch (inputs moving when a task is placed, before it reaches the head) evicts
 * only copies no task placed in that memory needs, and gives up rather than wait.
 * An invalidated copy is freed at once; a valid copy stays until it is evicted or no
 * task will access the datum any more.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "engine_impl.h"

#define NONE UINT32_MAX
/* Candidates a prefetch looks at before giving up (each is one a placed task needs). */
#define PREFETCH_LOOK 16
/* Prefetch copies under way into one memory at a time (a GPU's two copy engines);
 * further prefetches wait in placement order, so that the first placed task's inputs
 * arrive first instead of every input sharing the link and all arriving late. */
#define PREFETCH_COPIES 2

struct dcopy {
	int32_t pool;
	int32_t unit;      /* the unit whose host holds it, for routing */
	uint32_t id;       /* the copy's id (xpu_candidate.id) */
	uint8_t valid;     /* holds the current value */
	uint8_t modified;  /* the only valid copy, written here */
	uint8_t moving;    /* a copy operation into this memory is under way */
	uint8_t counted;   /* holds a block of its memory (handle) */
	uint8_t inset;     /* reported to the memory policy as a candidate */
	uint8_t rep_dirty; /* dirty, as last reported */
	uint8_t leaving;   /* being written back home before it is freed */
	uint8_t live;      /* the backend allocated it (data_alloc) */
	uint32_t refs;     /* placed, unfinished tasks of this memory that access it */
	uint32_t pins;     /* staged or running tasks of this memory that access it */
	uint32_t waiters;  /* first wait record, NONE when nobody waits */
	uint32_t rep_next; /* next use, as last reported */
	uint64_t handle;
};

struct datum_rt {
	struct dcopy *c;
	uint32_t n, cap;
	uint32_t left;    /* accessing tasks not yet ended */
	uint32_t version; /* writes completed: an access reads the value of its version */
	uint32_t cursor;  /* its next use: position in its list of accessing tasks */
	uint8_t exists;   /* has a value: shared data from the start, an output once written */
};

struct waitrec {
	uint32_t task, next;
};

struct xfer {
	uint32_t datum;
	int32_t pool, src_pool;
	int32_t src_unit, dst_unit;
	uint32_t task;    /* the task that asked for it (charged the bytes); NONE: write-back */
	uint32_t version; /* the datum's version it carries */
	uint32_t next_free;
	uint8_t prefetch; /* counted in its memory's prefetches under way */
};

/* Bytes moved between two units' hosts: an open-addressing hash on the ordered pair. */
struct link_ent {
	uint64_t key; /* (src + 1) << 32 | (dst + 1); 0 = empty */
	double bytes;
	uint64_t count;
};

struct copy_ref {
	uint32_t datum, slot;
};

struct xpu_data_rt {
	struct link_ent *links;
	size_t nlinks, lcap;
	struct datum_rt *d;
	struct waitrec *w;
	uint32_t nw, wcap, wfree;
	struct xfer *x;
	uint32_t nx, xcap, xfree;
	double *used;                /* per pool: bytes of data */
	double *peak;                /* per pool: peak of used */
	double *leaving;             /* per pool: bytes being written back, freed when they end */
	uint32_t *inflight;          /* per pool: copy operations arriving */
	uint32_t *pf_inflight;       /* per pool: prefetch copies arriving */
	uint32_t *pf_head, *pf_tail; /* per pool: tasks waiting to prefetch, in order */
	uint32_t *pf_next;           /* per task: the next in its pool's queue */
	uint8_t *pf_queued;          /* per task: in a queue */
	uint64_t *evictions, *writebacks; /* per pool */
	uint32_t *acc_first, *acc_task;   /* per datum: its accessing tasks, index order */
	struct copy_ref *cid;             /* copy id -> datum and slot */
	uint32_t ncid, cidcap;
	uint32_t *aside; /* candidates a prefetch passed over, reported again after */
	uint32_t naside, asidecap;
	uint64_t *scratch; /* blocks reserved while staging, one per access */
	uint8_t *got;      /* which of them were reserved */
	uint32_t scratch_cap;
	int home_pool, home_unit;
	int evicting; /* the memory policy chooses victims */
	int prefetch; /* enum xpu_prefetch */
	int quiet;    /* no wake-ups of units waiting for memory */
};

/* ------------------------------------------------------------------ copies */

static int find_slot(const struct datum_rt *d, int pool)
{
	for (uint32_t i = 0; i < d->n; i++)
		if (d->c[i].pool == pool)
			return (int)i;
	return -1;
}

static struct dcopy *find_copy(struct datum_rt *d, int pool)
{
	int s = find_slot(d, pool);
	return s >= 0 ? &d->c[s] : NULL;
}

/* The slot of datum di's copy in pool, made (invalid, empty) when there is none; -1
 * when out of memory. The array may move: take pointers into it after. */
static int get_slot(struct xpu_engine *e, uint32_t di, int pool, int unit)
{
	struct xpu_data_rt *D = e->data;
	struct datum_rt *d = &D->d[di];
	int s = find_slot(d, pool);
	if (s >= 0)
		return s;
	if (d->n == d->cap) {
		uint32_t cap = d->cap ? 2 * d->cap : 2;
		struct dcopy *nc = realloc(d->c, cap * sizeof(*nc));
		if (!nc)
			return -1;
		d->c = nc;
		d->cap = cap;
	}
	if (D->ncid == D->cidcap) {
		uint32_t cap = D->cidcap ? 2 * D->cidcap : 256;
		struct copy_ref *r = realloc(D->cid, cap * sizeof(*r));
		if (!r)
			return -1;
		D->cid = r;
		D->cidcap = cap;
	}
	D->cid[D->ncid] = (struct copy_ref){di, d->n};
	d->c[d->n] = (struct dcopy){
	    .pool = pool, .unit = unit, .id = D->ncid++, .waiters = NONE, .rep_next = NONE};
	return (int)d->n++;
}

static int valid_copies(const struct datum_rt *d)
{
	int n = 0;
	for (uint32_t i = 0; i < d->n; i++)
		n += d->c[i].valid;
	return n;
}

/* The index of the next task to access datum di (one not yet started), NONE when
 * none: the accessing tasks in index order, past those that started or ended. */
static uint32_t next_use(struct xpu_engine *e, uint32_t di)
{
	struct xpu_data_rt *D = e->data;
	struct datum_rt *d = &D->d[di];
	uint32_t end = D->acc_first[di + 1] - D->acc_first[di];
	while (d->cursor < end) {
		const struct xpu_task *t = &e->w->tasks[D->acc_task[D->acc_first[di] + d->cursor]];
		if (t->attempts == 0 && t->state != XPU_TASK_DONE && t->state != XPU_TASK_FAILED)
			return t->index;
		d->cursor++;
	}
	return NONE;
}

static void pool_changed(struct xpu_engine *e, int pool)
{
	if (!e->data->quiet)
		eng_pool_changed(e, pool);
}

static void report(struct xpu_engine *e, uint32_t di, const struct dcopy *c, int event)
{
	uint32_t nx = c->rep_next;
	struct xpu_candidate k = {.id = c->id,
	                          .datum = di,
	                          .pool = c->pool,
	                          .dirty = c->rep_dirty,
	                          .bytes = e->w->data[di].size,
	                          .next_use = nx == NONE ? INFINITY : (double)nx};
	e->mem.ops->note(&e->mem, &k, event);
}

/* Keep the policy's view of copy slot of datum di up to date: a candidate when it is
 * valid, holds a block, is neither moving, leaving nor pinned, lies outside the home
 * memory and a task will still access the datum. */
static void sync(struct xpu_engine *e, uint32_t di, int slot)
{
	struct xpu_data_rt *D = e->data;
	if (!D->evicting)
		return;
	struct datum_rt *d = &D->d[di];
	struct dcopy *c = &d->c[slot];
	int cand = c->counted && c->valid && !c->moving && !c->pins && !c->leaving &&
	           c->pool != D->home_pool && d->left > 0;
	if (!cand) {
		if (c->inset) {
			c->inset = 0;
			report(e, di, c, XPU_CAND_DEL);
		}
		return;
	}
	uint8_t dirty = valid_copies(d) == 1;
	uint32_t nx = next_use(e, di);
	if (!c->inset) {
		c->inset = 1;
		c->rep_dirty = dirty;
		c->rep_next = nx;
		report(e, di, c, XPU_CAND_ADD);
		pool_changed(e, c->pool); /* a request waiting there may evict it now */
	} else if (dirty != c->rep_dirty || nx != c->rep_next) {
		c->rep_dirty = dirty;
		c->rep_next = nx;
		report(e, di, c, XPU_CAND_UPDATE);
	}
}

/* The MSI invariant: at most one modified copy, and none valid beside it. */
static void check_datum(struct xpu_engine *e, uint32_t di)
{
	const struct datum_rt *d = &e->data->d[di];
	int modified = 0, valid = 0;
	for (uint32_t i = 0; i < d->n; i++) {
		modified += d->c[i].modified;
		valid += d->c[i].valid;
	}
	if ((modified > 1 || (modified && valid > 1)) && !e->rc) {
		e->rc = -EPROTO;
		xpu_errf(e->err, NULL, 0,
		         "coherence: datum \"%s\" has %d modified and %d valid copies",
		         e->w->data[di].name, modified, valid);
	}
}

static void sync_datum(struct xpu_engine *e, uint32_t di)
{
	if (e->check_coherence)
		check_datum(e, di);
	if (!e->data->evicting)
		return;
	for (uint32_t i = 0; i < e->data->d[di].n; i++)
		sync(e, di, (int)i);
}

/* Copy slot of datum di now holds block h of its memory. */
static void take_block(struct xpu_engine *e, uint32_t di, int slot, uint64_t h)
{
	struct xpu_data_rt *D = e->data;
	struct dcopy *c = &D->d[di].c[slot];
	c->handle = h;
	c->counted = 1;
	if (e->be->ops->data_alloc) {
		int rc = e->be->ops->data_alloc(e->be, di, c->pool, e->w->data[di].size);
		if (rc && !e->rc) {
			e->rc = rc;
			xpu_errf(e->err, e->w->path, 0,
			         "datum '%s' (%.0f bytes) in memory '%s': the %s backend cannot "
			         "allocate it: %s",
			         e->w->data[di].name, e->w->data[di].size,
			         e->pf->pools[c->pool].name, e->be->ops->head.name, strerror(-rc));
		}
		c->live = !rc;
	}
	D->used[c->pool] += e->w->data[di].size;
	if (D->used[c->pool] > D->peak[c->pool])
		D->peak[c->pool] = D->used[c->pool];
	eng_note_pool(e, c->pool);
}

static void free_block(struct xpu_engine *e, uint32_t di, int slot)
{
	struct xpu_data_rt *D = e->data;
	struct dcopy *c = &D->d[di].c[slot];
	if (!c->counted)
		return;
	c->counted = 0;
	if (c->live) {
		e->be->ops->data_free(e->be, di, c->pool);
		c->live = 0;
	}
	if (c->pool != D->home_pool)
		e->mem.ops->free(&e->mem, c->pool, c->handle);
	c->handle = 0;
	D->used[c->pool] -= e->w->data[di].size;
	if (D->used[c->pool] < 0) /* rounding */
		D->used[c->pool] = 0;
	eng_note_pool(e, c->pool);
	pool_changed(e, c->pool);
}

/* Free what no task needs: invalid copies at once, valid ones once no task will
 * access the datum again; never one that moves, leaves or is pinned. */
static void release_copies(struct xpu_engine *e, uint32_t di)
{
	struct datum_rt *d = &e->data->d[di];
	for (uint32_t i = 0; i < d->n; i++) {
		struct dcopy *c = &d->c[i];
		if (c->counted && !c->moving && !c->leaving && !c->pins &&
		    (!c->valid || d->left == 0)) {
			if (d->left == 0)
				c->valid = c->modified = 0;
			free_block(e, di, (int)i);
		}
	}
	sync_datum(e, di);
}

/* ------------------------------------------------------------------ setup */

int xpu_data_setup(struct xpu_engine *e)
{
	const struct xpu_workload *w = e->w;
	struct xpu_data_rt *D = calloc(1, sizeof(*D));
	if (!D)
		return -ENOMEM;
	e->data = D;
	size_t np = (size_t)e->pf->npools + 1;
	D->d = calloc((size_t)w->ndata + 1, sizeof(*D->d));
	D->used = calloc(np, sizeof(double));
	D->peak = calloc(np, sizeof(double));
	D->leaving = calloc(np, sizeof(double));
	D->inflight = calloc(np, sizeof(uint32_t));
	D->pf_inflight = calloc(np, sizeof(uint32_t));
	D->pf_head = malloc(np * sizeof(uint32_t));
	D->pf_tail = malloc(np * sizeof(uint32_t));
	D->pf_next = malloc(((size_t)w->ntasks + 1) * sizeof(uint32_t));
	D->pf_queued = calloc((size_t)w->ntasks + 1, 1);
	D->evictions = calloc(np, sizeof(uint64_t));
	D->writebacks = calloc(np, sizeof(uint64_t));
	D->acc_first = calloc((size_t)w->ndata + 2, sizeof(uint32_t));
	D->acc_task = malloc((w->naccesses + 1) * sizeof(uint32_t));
	e->datum_bytes = calloc((size_t)w->ndata + 1, sizeof(double));
	e->datum_copies = calloc((size_t)w->ndata + 1, sizeof(uint32_t));
	if (!D->d || !D->used || !D->peak || !D->leaving || !D->inflight || !D->pf_inflight ||
	    !D->pf_head || !D->pf_tail || !D->pf_next || !D->pf_queued || !D->evictions ||
	    !D->writebacks || !D->acc_first || !D->acc_task || !e->datum_bytes || !e->datum_copies)
		return -ENOMEM;
	D->wfree = D->xfree = NONE;
	for (size_t p = 0; p < np; p++)
		D->pf_head[p] = D->pf_tail[p] = NONE;
	/* Each datum's accessing tasks, in index order (for next use). */
	for (uint32_t i = 0; i < w->ntasks; i++)
		for (uint32_t k = 0; k < w->tasks[i].naccess; k++)
			D->acc_first[w->tasks[i].access[k].datum + 2]++;
	for (uint32_t i = 0; i < w->ndata; i++)
		D->acc_first[i + 2] += D->acc_first[i + 1];
	for (uint32_t i = 0; i < w->ntasks; i++)
		for (uint32_t k = 0; k < w->tasks[i].naccess; k++)
			D->acc_task[D->acc_first[w->tasks[i].access[k].datum + 1]++] = i;
	/* Shared data start in host memory: the first CPU's, else the first unit's. */
	D->home_unit = 0;
	for (int u = e->pf->nunits - 1; u >= 0; u--)
		if (e->pf->units[u].kind == XPU_KIND_CPU)
			D->home_unit = u;
	D->home_pool = e->pf->nunits ? e->pf->units[D->home_unit].mem_pool : 0;
	e->home_pool = D->home_pool;
	for (uint32_t i = 0; i < w->ndata; i++)
		D->d[i].left = w->data[i].naccess;
	e->task_data = calloc((size_t)w->ntasks + 1, sizeof(double));
	if (!e->task_data)
		return -ENOMEM;
	for (uint32_t i = 0; i < w->ntasks; i++)
		for (uint32_t k = 0; k < w->tasks[i].naccess; k++)
			e->task_data[i] += w->data[w->tasks[i].access[k].datum].size;
	return 0;
}

/* Once the memory policy is up: its eviction and prefetch, and the shared data's
 * blocks in the home memory. 0, or a negative errno with the error set. */
int xpu_data_start(struct xpu_engine *e)
{
	struct xpu_data_rt *D = e->data;
	const struct xpu_workload *w = e->w;
	D->evicting = e->mem.ops->note && e->mem.ops->victim;
	D->prefetch = e->mem.ops->prefetch ? e->mem.ops->prefetch(&e->mem) : XPU_PREFETCH_PLACE;
	for (uint32_t i = 0; i < w->ndata; i++) {
		if (w->data[i].producer != NONE)
			continue;
		int s = get_slot(e, i, D->home_pool, D->home_unit);
		if (s < 0)
			return -ENOMEM;
		uint64_t h = 0;
		take_block(e, i, s, h);
		D->d[i].c[s].valid = 1;
		D->d[i].exists = 1;
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
	free(D->leaving);
	free(D->inflight);
	free(D->pf_inflight);
	free(D->pf_head);
	free(D->pf_tail);
	free(D->pf_next);
	free(D->pf_queued);
	free(D->evictions);
	free(D->writebacks);
	free(D->acc_first);
	free(D->acc_task);
	free(D->cid);
	free(D->aside);
	free(D->scratch);
	free(D->got);
	free(D->links);
	free(D);
	e->data = NULL;
	free(e->task_data);
	e->task_data = NULL;
}

double xpu_data_pool_used(const struct xpu_engine *e, int pool)
{
	return e->data ? e->data->used[pool] : 0;
}

double xpu_data_pool_peak(const struct xpu_engine *e, int pool)
{
	return e->data ? e->data->peak[pool] : 0;
}

void xpu_data_pool_counts(const struct xpu_engine *e, int pool, uint64_t *evictions,
                          uint64_t *writebacks)
{
	*evictions = e->data ? e->data->evictions[pool] : 0;
	*writebacks = e->data ? e->data->writebacks[pool] : 0;
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

/* The valid copy of datum di that reaches unit u fastest, -1 when none has a route
 * (the run stops with an error naming task t). */
static int best_source(struct xpu_engine *e, uint32_t di, int u, const struct xpu_task *t)
{
	struct datum_rt *d = &e->data->d[di];
	const struct xpu_datum *dm = &e->w->data[di];
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
	if (src >= 0 && isfinite(best))
		return src;
	if (!e->rc) {
		int from = src >= 0 ? d->c[src].unit : -1;
		e->rc = -EHOSTUNREACH;
		xpu_errf(e->err, e->w->path, t ? t->line : 0,
		         "task \"%s\" needs datum \"%s\" (%.17g bytes) on unit '%s', but no "
		         "memory holding it has a route there (from '%s')",
		         t ? t->id : "?", dm->name, dm->size, e->pf->units[u].name,
		         from >= 0 ? e->pf->units[from].name : "?");
	}
	return -1;
}

/* Start the copy operation of datum di from copy src to copy dst (which holds its
 * block already), for task (NONE: a write-back). */
static int start_copy(struct xpu_engine *e, uint32_t di, int src, int dst, uint32_t task,
                      int prefetch)
{
	struct xpu_data_rt *D = e->data;
	struct datum_rt *d = &D->d[di];
	uint32_t k = new_xfer(D);
	if (k == NONE)
		return -ENOMEM;
	struct dcopy *s = &d->c[src], *c = &d->c[dst];
	D->x[k] = (struct xfer){.datum = di,
	                        .pool = c->pool,
	                        .src_pool = s->pool,
	                        .src_unit = s->unit,
	                        .dst_unit = c->unit,
	                        .task = task,
	                        .version = d->version,
	                        .next_free = NONE,
	                        .prefetch = (uint8_t)prefetch};
	struct xpu_copy op = {.cookie = k,
	                      .datum = di,
	                      .bytes = e->w->data[di].size,
	                      .src_unit = s->unit,
	                      .dst_unit = c->unit,
	                      .src_pool = s->pool,
	                      .dst_pool = c->pool};
	int rc = e->be->ops->copy(e->be, &op);
	if (rc) {
		D->x[k].next_free = D->xfree;
		D->xfree = k;
		return rc;
	}
	c->moving = 1;
	e->in_flight++;
	D->inflight[c->pool]++;
	D->pf_inflight[c->pool] += prefetch != 0;
	sync(e, di, dst);
	return 0;
}

static int evict(struct xpu_engine *e, uint32_t di, int slot);

static int policy_error(struct xpu_engine *e, uint32_t id, int pool)
{
	if (!e->rc) {
		e->rc = -EPROTO;
		xpu_errf(e->err, NULL, 0,
		         "mem policy '%s': its victim (copy %u) is not a candidate of memory %d",
		         e->mem.ops->head.name, id, pool);
	}
	return -EPROTO;
}

/* Room for bytes in pool: the memory policy's block, evicting its victims while the
 * request does not fit. prefetch: only copies no placed task of this memory needs may
 * go, and the search gives up after PREFETCH_LOOK others. Returns 0 with *h, -ENOSPC
 * (not now: wait for a completion), -E2BIG (never), or another negative errno. */
static int reserve(struct xpu_engine *e, int pool, double bytes, uint64_t *h, int prefetch)
{
	struct xpu_data_rt *D = e->data;
	uint32_t base = D->naside, looked = 0;
	int rc;
	for (;;) {
		rc = e->mem.ops->alloc(&e->mem, pool, bytes, h);
		if (rc != -ENOSPC || !D->evicting)
			break;
		if (D->leaving[pool] > 0) {
			/* write-backs under way free enough: wait for them, evict no more */
			double fb = 0, lg = 0;
			if (e->mem.ops->free_space)
				e->mem.ops->free_space(&e->mem, pool, &fb, &lg);
			if (fb + D->leaving[pool] >= bytes)
				break;
		}
		uint32_t id;
		if (e->mem.ops->victim(&e->mem, pool, &id) || id >= D->ncid)
			break;
		struct copy_ref r = D->cid[id];
		struct dcopy *c = &D->d[r.datum].c[r.slot];
		if (!c->inset || c->pool != pool) {
			rc = policy_error(e, id, pool);
			break;
		}
		if (!(prefetch && c->refs) && evict(e, r.datum, (int)r.slot) == 0) {
			if (D->d[r.datum].c[r.slot].inset) { /* evict takes it out */
				rc = policy_error(e, id, pool);
				break;
			}
			continue;
		}
		if (prefetch && ++looked > PREFETCH_LOOK)
			break;
		/* passed over: out of the policy's view until this request ends */
		if (D->naside == D->asidecap) {
			uint32_t cap = D->asidecap ? 2 * D->asidecap : 64;
			uint32_t *a = realloc(D->aside, cap * sizeof(*a));
			if (!a) {
				rc = -ENOMEM;
				break;
			}
			D->aside = a;
			D->asidecap = cap;
		}
		D->aside[D->naside++] = id;
		c = &D->d[r.datum].c[r.slot];
		if (c->inset) {
			c->inset = 0;
			report(e, r.datum, c, XPU_CAND_DEL);
		}
	}
	/* the ones passed over are candidates again */
	while (D->naside > base) {
		struct copy_ref r = D->cid[D->aside[--D->naside]];
		sync(e, r.datum, (int)r.slot);
	}
	return rc;
}

/* Room for a copy of bytes in pool: none needed in the home memory, the backing store
 * (data there are counted in its use, and hold no block), else reserve's. */
static int reserve_data(struct xpu_engine *e, int pool, double bytes, uint64_t *h, int prefetch)
{
	if (pool == e->data->home_pool) {
		*h = 0;
		return 0;
	}
	return reserve(e, pool, bytes, h, prefetch);
}

/* Copy slot of datum di leaves its memory: dropped when another copy is valid, else
 * written back home first. 0, or -1 when it cannot leave now (the home memory is full,
 * or a copy home is already moving). */
static int evict(struct xpu_engine *e, uint32_t di, int slot)
{
	struct xpu_data_rt *D = e->data;
	struct datum_rt *d = &D->d[di];
	int pool = d->c[slot].pool;
	double size = e->w->data[di].size;
	if (valid_copies(d) == 1) {
		int hs = get_slot(e, di, D->home_pool, D->home_unit);
		if (hs < 0) {
			eng_fatal(e, -ENOMEM, "data");
			return -1;
		}
		if (d->c[hs].moving || d->c[hs].counted)
			return -1;
		uint64_t h = 0;
		if (reserve_data(e, D->home_pool, size, &h, 0))
			return -1;
		take_block(e, di, hs, h);
		int rc = start_copy(e, di, slot, hs, NONE, 0);
		if (rc) {
			free_block(e, di, hs);
			eng_fatal(e, rc, "write-back");
			return -1;
		}
		d->c[slot].leaving = 1;
		D->leaving[pool] += size;
		D->writebacks[pool]++;
	} else {
		d->c[slot].valid = d->c[slot].modified = 0;
		free_block(e, di, slot);
	}
	D->evictions[pool]++;
	sync_datum(e, di);
	return 0;
}

static int readable(const struct datum_rt *d, const struct xpu_access *a)
{
	return (a->mode & XPU_ACCESS_READ) && d->exists && d->version >= a->version;
}

/* Datum di's copy slot becomes task t's input: valid (present), or moving (t waits for
 * it). Returns 0 or a negative errno. */
static int wait_for(struct xpu_engine *e, struct xpu_task *t, struct xpu_access *a, int slot)
{
	struct dcopy *c = &e->data->d[a->datum].c[slot];
	if (c->valid && !c->moving) {
		if (a->have != 1)
			a->have = 2;
		return 0;
	}
	if (a->have == 1)
		return 0;
	if (add_waiter(e->data, c, t->index))
		return -ENOMEM;
	a->have = 1;
	t->nxfers++;
	return 0;
}

/* Prefetch t's inputs that exist now into its unit's memory, as far as memory allows
 * without taking what placed tasks need; the rest move when t is staged. Returns 1
 * when it stopped because PREFETCH_COPIES are under way into that memory. */
static int prefetch_all(struct xpu_engine *e, struct xpu_task *t)
{
	struct xpu_data_rt *D = e->data;
	int u = t->unit, pool = e->pf->units[u].mem_pool, blocked = 0;
	for (uint32_t i = 0; i < t->naccess && !e->rc && !blocked; i++) {
		struct xpu_access *a = &t->access[i];
		struct datum_rt *d = &D->d[a->datum];
		if (a->have || !readable(d, a))
			continue;
		int s = get_slot(e, a->datum, pool, u);
		if (s < 0) {
			eng_fatal(e, -ENOMEM, "data");
			return 0;
		}
		struct dcopy *c = &d->c[s];
		if (!c->valid && !c->moving && !c->counted) {
			int idle = D->prefetch == XPU_PREFETCH_IDLE;
			if (D->pf_inflight[pool] >= (idle ? 1u : PREFETCH_COPIES) ||
			    (idle && D->inflight[pool] > D->pf_inflight[pool])) {
				blocked = 1; /* later, in order, when a copy into pool ends */
				break;
			}
			uint64_t h = 0;
			int rc = reserve_data(e, pool, e->w->data[a->datum].size, &h, 1);
			if (rc == -ENOSPC || rc == -E2BIG)
				continue; /* no room now: it moves at the head */
			if (rc) {
				eng_fatal(e, rc, "data");
				return 0;
			}
			take_block(e, a->datum, s, h);
			int src = best_source(e, a->datum, u, t);
			if (src < 0 || (rc = start_copy(e, a->datum, src, s, t->index, 1))) {
				free_block(e, a->datum, s);
				if (rc)
					eng_fatal(e, rc, "data copy");
				return 0;
			}
		}
		if (d->c[s].valid || d->c[s].moving) {
			int rc = wait_for(e, t, a, s);
			if (rc) {
				eng_fatal(e, rc, "data");
				return 0;
			}
		}
	}
	if (t->nxfers && t->state == XPU_TASK_PLACED)
		eng_set_state(e, t, XPU_TASK_STAGING);
	return blocked;
}

/* Prefetch for t now, or queue it behind the tasks of its memory that wait. */
static void prefetch_or_queue(struct xpu_engine *e, struct xpu_task *t)
{
	struct xpu_data_rt *D = e->data;
	int pool = e->pf->units[t->unit].mem_pool;
	if (D->pf_queued[t->index])
		return;
	if (D->pf_head[pool] == NONE && !prefetch_all(e, t))
		return;
	D->pf_queued[t->index] = 1;
	D->pf_next[t->index] = NONE;
	if (D->pf_tail[pool] == NONE)
		D->pf_head[pool] = t->index;
	else
		D->pf_next[D->pf_tail[pool]] = t->index;
	D->pf_tail[pool] = t->index;
}

/* A prefetch into pool ended: the waiting tasks go on, in order. */
static void prefetch_more(struct xpu_engine *e, int pool)
{
	struct xpu_data_rt *D = e->data;
	int idle = D->prefetch == XPU_PREFETCH_IDLE;
	while (D->pf_head[pool] != NONE && !e->rc &&
	       D->pf_inflight[pool] < (idle ? 1u : PREFETCH_COPIES) &&
	       !(idle && D->inflight[pool] > D->pf_inflight[pool])) {
		struct xpu_task *t = &e->w->tasks[D->pf_head[pool]];
		int go = t->unit >= 0 && e->pf->units[t->unit].mem_pool == pool && !t->staged &&
		         (t->state == XPU_TASK_PLACED || t->state == XPU_TASK_STAGING ||
		          t->state == XPU_TASK_SUBMITTED);
		if (go && prefetch_all(e, t))
			break; /* stays first */
		D->pf_queued[t->index] = 0;
		D->pf_head[pool] = D->pf_next[t->index];
		if (D->pf_head[pool] == NONE)
			D->pf_tail[pool] = NONE;
	}
}

void xpu_data_placed(struct xpu_engine *e, struct xpu_task *t)
{
	int pool = e->pf->units[t->unit].mem_pool;
	for (uint32_t i = 0; i < t->naccess; i++) {
		int s = get_slot(e, t->access[i].datum, pool, t->unit);
		if (s < 0) {
			eng_fatal(e, -ENOMEM, "data");
			return;
		}
		e->data->d[t->access[i].datum].c[s].refs++;
	}
	if (e->data->prefetch != XPU_PREFETCH_HEAD)
		prefetch_or_queue(e, t);
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

void xpu_data_wanted(struct xpu_engine *e, struct xpu_task *t)
{
	if (e->data->prefetch != XPU_PREFETCH_HEAD && !t->staged)
		prefetch_or_queue(e, t);
}

/* Nothing under way in pool that would free memory there: no task running on its
 * units, no copy arriving, no write-back leaving. */
static int pool_idle(struct xpu_engine *e, int pool)
{
	if (e->data->inflight[pool] || e->data->leaving[pool] > 0)
		return 0;
	for (int k = e->pool_first[pool]; k < e->pool_first[pool + 1]; k++)
		if (e->u[e->pool_unit[k]].running)
			return 0;
	return 1;
}

/* Evict t's own copies in its memory (their place may be what keeps its footprint out:
 * the memory is fragmented around them). 1 when one left. */
static int evict_own(struct xpu_engine *e, struct xpu_task *t)
{
	struct xpu_data_rt *D = e->data;
	int pool = e->pf->units[t->unit].mem_pool, any = 0;
	for (uint32_t i = 0; i < t->naccess; i++) {
		uint32_t di = t->access[i].datum;
		int s = find_slot(&D->d[di], pool);
		const struct dcopy *c = s >= 0 ? &D->d[di].c[s] : NULL;
		if (c && c->counted && c->valid && !c->moving && !c->leaving && !c->pins &&
		    D->evicting)
			any |= evict(e, di, s) == 0;
	}
	return any;
}

/* One attempt at staging t: its copies pinned, then its footprint, its missing
 * inputs and its outputs reserved, all or none. */
static int stage_try(struct xpu_engine *e, struct xpu_task *t)
{
	struct xpu_data_rt *D = e->data;
	int u = t->unit, pool = e->pf->units[u].mem_pool;
	uint64_t *hs = D->scratch;
	uint8_t *got = D->got;
	/* pinned first, so that this task's own inputs are never its victims */
	for (uint32_t i = 0; i < t->naccess; i++) {
		uint32_t di = t->access[i].datum;
		int s = get_slot(e, di, pool, u);
		if (s < 0)
			return -ENOMEM; /* the run stops: pins do not matter */
		D->d[di].c[s].pins++;
		sync(e, di, s);
	}
	int rc = 0, mem_now = 0;
	uint32_t i;
	memset(got, 0, (size_t)t->naccess + 1);
	/* the footprint first: the largest block, placed before small ones split the
	 * memory */
	if (t->mem > 0 && !t->mem_held) {
		rc = reserve(e, pool, t->mem, &t->mem_handle, 0);
		mem_now = !rc;
	}
	for (i = 0; i < t->naccess && !rc; i++) {
		struct xpu_access *a = &t->access[i];
		struct datum_rt *d = &D->d[a->datum];
		const struct dcopy *c = find_copy(d, pool);
		int need = readable(d, a) ? !c->valid && !c->moving && !c->counted
		                          : (a->mode & XPU_ACCESS_WRITE) && !c->counted;
		if (need) {
			rc = reserve_data(e, pool, e->w->data[a->datum].size, &hs[i], 0);
			got[i] = !rc;
		}
	}
	if (rc) {
		/* all or none: give back what this attempt took. Quietly: what it
		 * unpins was there before, and waking the units waiting in this memory
		 * for it would only have them evict each other's inputs in turn */
		D->quiet = 1;
		if (mem_now)
			e->mem.ops->free(&e->mem, pool, t->mem_handle);
		for (uint32_t k = 0; k < t->naccess; k++)
			if (got[k] && pool != D->home_pool)
				e->mem.ops->free(&e->mem, pool, hs[k]);
		for (uint32_t k = 0; k < t->naccess; k++) {
			uint32_t di = t->access[k].datum;
			int s = find_slot(&D->d[di], pool);
			if (D->d[di].c[s].pins)
				D->d[di].c[s].pins--;
			release_copies(e, di);
		}
		D->quiet = 0;
		return rc;
	}
	if (mem_now) {
		t->mem_held = 1;
		e->pool_used[pool] += t->mem;
		if (e->pool_used[pool] > e->pool_peak[pool])
			e->pool_peak[pool] = e->pool_used[pool];
		eng_note_pool(e, pool);
	}
	for (i = 0; i < t->naccess && !e->rc; i++) {
		struct xpu_access *a = &t->access[i];
		struct datum_rt *d = &D->d[a->datum];
		int s = find_slot(d, pool);
		if (got[i])
			take_block(e, a->datum, s, hs[i]);
		if (!readable(d, a))
			continue;
		if (got[i]) {
			int src = best_source(e, a->datum, u, t);
			if (src < 0)
				return e->rc;
			if ((rc = start_copy(e, a->datum, src, s, t->index, 0)))
				return rc;
		}
		if ((rc = wait_for(e, t, a, s)))
			return rc;
	}
	t->staged = 1;
	return e->rc;
}

/* Stage t at the head of its unit's queue: pin its copies there, reserve blocks for
 * its missing inputs, its outputs and its footprint, all or none, and start the
 * copies. 0 (t->nxfers copies to wait for), -ENOSPC (wait for memory: nothing held),
 * -E2BIG or another negative errno (t cannot run). */
int xpu_data_stage(struct xpu_engine *e, struct xpu_task *t)
{
	struct xpu_data_rt *D = e->data;
	if (t->staged)
		return 0;
	int pool = e->pf->units[t->unit].mem_pool;
	if (t->naccess >= D->scratch_cap) {
		uint64_t *s = realloc(D->scratch, ((size_t)t->naccess + 1) * sizeof(*s));
		if (s)
			D->scratch = s;
		uint8_t *g = realloc(D->got, (size_t)t->naccess + 1);
		if (g)
			D->got = g;
		if (!s || !g)
			return -ENOMEM;
		D->scratch_cap = t->naccess + 1;
	}
	int rc = stage_try(e, t);
	if (rc == -ENOSPC && pool != D->home_pool && pool_idle(e, pool) && evict_own(e, t))
		rc = stage_try(e, t); /* its own copies split the memory: fetched again */
	return rc;
}

/* t leaves the head without running to its end (a unit failure stopped it): its pins
 * and unwritten output blocks go. */
void xpu_data_unstage(struct xpu_engine *e, struct xpu_task *t)
{
	if (!t->staged)
		return;
	t->staged = 0;
	int pool = e->pf->units[t->unit].mem_pool;
	for (uint32_t i = 0; i < t->naccess; i++) {
		uint32_t di = t->access[i].datum;
		struct dcopy *c = find_copy(&e->data->d[di], pool);
		if (c && c->pins)
			c->pins--;
		if (t->access[i].have == 2)
			t->access[i].have = 0; /* checked again when it is staged */
		release_copies(e, di);
	}
}

void xpu_data_started(struct xpu_engine *e, struct xpu_task *t)
{
	for (uint32_t i = 0; i < t->naccess; i++)
		sync_datum(e, t->access[i].datum); /* its next use moved on */
}

void xpu_data_ended(struct xpu_engine *e, struct xpu_task *t, int unit, int done)
{
	struct xpu_data_rt *D = e->data;
	int pool = unit >= 0 ? e->pf->units[unit].mem_pool : -1;
	for (uint32_t i = 0; i < t->naccess; i++) {
		const struct xpu_access *a = &t->access[i];
		uint32_t di = a->datum;
		struct datum_rt *d = &D->d[di];
		int s = pool >= 0 ? find_slot(d, pool) : -1;
		if (done && (a->mode & XPU_ACCESS_WRITE) && s >= 0) {
			/* the writer's copy becomes the only valid one */
			for (uint32_t k = 0; k < d->n; k++)
				d->c[k].valid = d->c[k].modified = 0;
			struct dcopy *c = &d->c[s];
			c->valid = c->modified = 1;
			c->unit = unit;
			d->exists = 1;
			d->version++;
			if (!c->counted) {
				/* staged before it wrote: always true but for a backend that
				 * ran a task the engine never staged */
				uint64_t h = 0;
				if (!reserve_data(e, pool, e->w->data[di].size, &h, 0))
					take_block(e, di, s, h);
			}
		}
		if (s >= 0) {
			struct dcopy *c = &d->c[s];
			if (t->staged && c->pins)
				c->pins--;
			if (c->refs)
				c->refs--;
		}
		if (d->left)
			d->left--;
		release_copies(e, di);
	}
	t->staged = 0;
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
	int slot = find_slot(d, x.pool);
	if (slot < 0)
		return;
	struct dcopy *c = &d->c[slot];
	c->moving = 0;
	if (D->inflight[x.pool])
		D->inflight[x.pool]--;
	if (x.prefetch && D->pf_inflight[x.pool])
		D->pf_inflight[x.pool]--;
	int fresh = x.version == d->version; /* no write since it started */
	if (x.task == NONE) {
		/* a write-back: the evicted copy's space frees now, unless a task took it
		 * back in the meantime */
		int ss = find_slot(d, x.src_pool);
		struct dcopy *s = &d->c[ss];
		s->leaving = 0;
		D->leaving[x.src_pool] -= dm->size;
		if (D->leaving[x.src_pool] < 0)
			D->leaving[x.src_pool] = 0;
		if (!status && fresh) {
			c->valid = 1;
			if (!s->pins)
				s->valid = 0;
		}
		for (uint32_t k = 0; k < d->n; k++)
			d->c[k].modified = 0;
		if (!s->valid)
			free_block(e, x.datum, ss);
		pool_changed(e, x.src_pool);
	} else if (!status) {
		c->valid = 1;
		for (uint32_t k = 0; k < d->n; k++)
			d->c[k].modified = 0; /* two valid copies: both shared */
		e->w->tasks[x.task].bytes_in += dm->size;
	}
	if (!status) {
		e->datum_bytes[x.datum] += dm->size;
		e->datum_copies[x.datum]++;
		e->us[x.dst_unit].bytes_in += dm->size;
		e->us[x.src_unit].bytes_out += dm->size;
		note_link(e, x.src_unit, x.dst_unit, dm->size);
	}
	/* every task waiting for it goes on (or fails with it) */
	c = &d->c[slot];
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
	if (x.prefetch || D->prefetch == XPU_PREFETCH_IDLE)
		prefetch_more(e, x.pool); /* idle: a demand copy's end frees the link too */
}

/* ------------------------------------------------------------------ services */

const struct xpu_datum *xpu_datum_at(const struct xpu_engine *e, uint32_t i)
{
	return e && i < e->w->ndata ? &e->w->data[i] : NULL;
}

int xpu_datum_valid_on(const struct xpu_engine *e, uint32_t datum, int u)
{
	if (!e || !e->data || datum >= e->w->ndata || u < 0 || u >= e->pf->nunits)
		return 0;
	const struct dcopy *c = find_copy(&e->data->d[datum], e->pf->units[u].mem_pool);
	return c && c->valid;
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
