/* workload.c — reads a whole trace into tasks: ids, dependencies, successors, costs. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data_model.h"
#include "trace.h"

#define NONE UINT32_MAX

/* ------------------------------------------------------------------ arena */

/* Ids, dependency and cost arrays live in a few large blocks rather than one malloc
 * each: a million tasks would otherwise pay the allocator's per-block overhead
 * several million times. Everything is freed together with the workload. */
struct chunk {
	struct chunk *next;
	size_t size, used;
	_Alignas(16) char data[];
};

struct arena {
	struct chunk *head;
	size_t next_size;
};

static void *arena_alloc(struct arena *a, size_t size)
{
	size = (size + 7) & ~(size_t)7;
	struct chunk *c = a->head;
	if (!c || c->size - c->used < size) {
		/* Chunks grow to 1 MiB so small workloads stay small and big ones do not
		 * call malloc often. */
		size_t want = a->next_size ? a->next_size : 4096;
		if (a->next_size < (1 << 20))
			a->next_size = want * 2;
		if (want < size)
			want = size;
		c = malloc(sizeof(*c) + want);
		if (!c)
			return NULL;
		c->next = a->head;
		c->size = want;
		c->used = 0;
		a->head = c;
	}
	void *p = c->data + c->used;
	c->used += size;
	return p;
}

static char *arena_strdup(struct arena *a, const char *s, size_t len)
{
	char *d = arena_alloc(a, len + 1);
	if (d)
		memcpy(d, s, len + 1);
	return d;
}

static void arena_free(struct arena *a)
{
	while (a->head) {
		struct chunk *c = a->head;
		a->head = c->next;
		free(c);
	}
}

/* ------------------------------------------------------------------ string map */

/* Interns strings and numbers them 0, 1, 2... in order of first appearance. Open
 * addressing with linear probing over a power-of-two table kept at most half full.
 * A slot holds the string's hash (high half) and its number + 1 (low half, 0 =
 * empty): most probes are decided inside the slot, without touching the string, and
 * the table grows without rehashing strings. */
struct strmap {
	uint64_t *slot;
	uint32_t mask;
	int shift; /* 32 - log2(number of slots) */
	uint32_t n, cap;
	uint32_t *hash;
	const char **key;
};

/* FNV-1a (Fowler, Noll, Vo), 32-bit. */
static uint32_t hash_str(const char *s, size_t *len)
{
	uint32_t h = 0x811c9dc5u;
	const char *p = s;
	for (; *p; p++) {
		h ^= (unsigned char)*p;
		h *= 0x01000193u;
	}
	*len = (size_t)(p - s);
	return h;
}

/* Fibonacci hashing (Knuth, TAOCP vol. 3, 6.4): the top bits of h times 2^32/phi, so
 * that ids differing only in their last characters still land far apart. */
static uint32_t slot_of(const struct strmap *m, uint32_t h)
{
	return (h * 0x9e3779b1u) >> m->shift;
}

static int strmap_rehash(struct strmap *m, int bits)
{
	uint64_t *slot = calloc((size_t)1 << bits, sizeof(*slot));
	if (!slot)
		return -ENOMEM;
	free(m->slot);
	m->slot = slot;
	m->mask = ((uint32_t)1 << bits) - 1;
	m->shift = 32 - bits;
	for (uint32_t k = 0; k < m->n; k++) {
		uint32_t i = slot_of(m, m->hash[k]);
		while (slot[i])
			i = (i + 1) & m->mask;
		slot[i] = (uint64_t)m->hash[k] << 32 | (k + 1);
	}
	return 0;
}

/* Number of s, or NONE. */
static uint32_t strmap_lookup(const struct strmap *m, const char *s, uint32_t h)
{
	if (!m->slot)
		return NONE;
	for (uint32_t i = slot_of(m, h); m->slot[i]; i = (i + 1) & m->mask) {
		uint64_t e = m->slot[i];
		uint32_t k = (uint32_t)e - 1;
		if ((uint32_t)(e >> 32) == h && !strcmp(m->key[k], s))
			return k;
	}
	return NONE;
}

static uint32_t strmap_find(const struct strmap *m, const char *s)
{
	size_t len;
	return strmap_lookup(m, s, hash_str(s, &len));
}

/* Number of s, adding it (copied into the arena) when new. */
static int strmap_intern(struct strmap *m, struct arena *a, const char *s, uint32_t *num,
                         int *added)
{
	size_t len;
	uint32_t h = hash_str(s, &len);
	uint32_t k = strmap_lookup(m, s, h);
	*added = k == NONE;
	if (k != NONE) {
		*num = k;
		return 0;
	}
	if (m->n >= NONE - 1)
		return -E2BIG;
	if (m->n == m->cap) {
		uint32_t cap = m->cap ? m->cap * 2 : 256;
		uint32_t *hash = realloc(m->hash, (size_t)cap * sizeof(*hash));
		if (!hash)
			return -ENOMEM;
		m->hash = hash;
		const char **key = realloc(m->key, (size_t)cap * sizeof(*key));
		if (!key)
			return -ENOMEM;
		m->key = key;
		m->cap = cap;
	}
	char *copy = arena_strdup(a, s, len);
	if (!copy)
		return -ENOMEM;
	k = m->n++;
	m->hash[k] = h;
	m->key[k] = copy;
	if (!m->slot || (uint64_t)m->n * 2 > (uint64_t)m->mask + 1) {
		if (strmap_rehash(m, m->slot ? 33 - m->shift : 10))
			return -ENOMEM;
	} else {
		uint32_t i = slot_of(m, h);
		while (m->slot[i])
			i = (i + 1) & m->mask;
		m->slot[i] = (uint64_t)h << 32 | (k + 1);
	}
	*num = k;
	return 0;
}

static void strmap_free(struct strmap *m)
{
	free(m->slot);
	free(m->hash);
	free(m->key);
	memset(m, 0, sizeof(*m));
}

/* ------------------------------------------------------------------ loading */

/* What w->priv holds: everything the tasks point into. */
struct storage {
	struct arena arena;
	uint32_t *succ;
};

struct loader {
	const char *path;
	const struct xpu_platform *pf;
	struct xpu_err *err;
	struct xpu_workload *w;
	struct storage *st;
	struct strmap ids, users;
	/* Per id number: the task defining it (NONE while only referenced), and 1 + the
	 * index of the last task that listed it as a dependency, to catch repeats. */
	uint32_t *id_task, *id_stamp;
	uint32_t id_cap;
	uint32_t task_cap;
	/* Cost targets, when a platform is given. */
	struct arena unit_arena;
	struct strmap units;
	uint32_t *unit_index;
	unsigned kinds; /* bit k: the platform has a unit of kind k */
	/* Shared data named by the records' reads and writes, until every line is read. */
	struct xpu_named_access *named;
	size_t nnamed, named_cap;
};

/* Keep the per-id arrays as long as the id map. */
static int id_reserve(struct loader *L)
{
	if (L->ids.n <= L->id_cap)
		return 0;
	uint32_t cap = L->ids.cap;
	uint32_t *t = realloc(L->id_task, (size_t)cap * sizeof(*t));
	if (!t)
		return -ENOMEM;
	L->id_task = t;
	uint32_t *s = realloc(L->id_stamp, (size_t)cap * sizeof(*s));
	if (!s)
		return -ENOMEM;
	L->id_stamp = s;
	L->id_cap = cap;
	return 0;
}

static int intern_id(struct loader *L, const char *id, uint32_t *key)
{
	int added;
	int rc = strmap_intern(&L->ids, &L->st->arena, id, key, &added);
	if (rc < 0)
		return rc;
	rc = id_reserve(L);
	if (rc < 0)
		return rc;
	if (added) {
		L->id_task[*key] = NONE;
		L->id_stamp[*key] = 0;
	}
	return 0;
}

/* Append "NAME, NAME, ..." to buf, stopping with "..." before it overflows. */
static size_t append_list(char *buf, size_t size, size_t len, const char *name, int first)
{
	if (len + strlen(name) + 8 >= size) {
		if (len + 4 < size && strcmp(buf + len - 3, "..."))
			len += (size_t)snprintf(buf + len, size - len, "%s...", first ? "" : ", ");
		return len;
	}
	return len + (size_t)snprintf(buf + len, size - len, "%s%s", first ? "" : ", ", name);
}

static int cost_error(struct loader *L, int line, const char *target)
{
	const struct xpu_platform *pf = L->pf;
	char units[400] = "", kinds[120] = "";
	size_t n = 0;
	for (int i = 0; i < pf->nunits; i++)
		if (pf->units[i].name)
			n = append_list(units, sizeof(units), n, pf->units[i].name, !n);
	n = 0;
	for (int k = 0; k < XPU_KIND_COUNT; k++)
		if (L->kinds & (1u << k))
			n = append_list(kinds, sizeof(kinds), n, xpu_kind_name(k), !n);
	return xpu_errf(L->err, L->path, line,
	                "field 'cost': unit or kind \"%.80s\" is not in platform %s "
	                "(units: %s; kinds: %s)",
	                target, pf->path ? pf->path : "(unnamed)", units, kinds);
}

/* A unit name wins over a kind name, so a platform may call a unit "gpu". Without a
 * platform only kind names can be resolved; unit names are kept as unit -2. */
static int resolve_cost(struct loader *L, int line, const char *target, double seconds,
                        struct xpu_cost *c)
{
	c->seconds = seconds;
	c->unit = -1;
	c->kind = xpu_kind_parse(target);
	if (L->pf) {
		uint32_t u = strmap_find(&L->units, target);
		if (u != NONE) {
			c->unit = (int32_t)L->unit_index[u];
			c->kind = -1;
		} else if (c->kind < 0 || !(L->kinds & (1u << c->kind))) {
			return cost_error(L, line, target);
		}
	} else if (c->kind < 0) {
		c->unit = -2;
	}
	return 0;
}

static int add_record(struct loader *L, const struct xpu_trace_rec *rec)
{
	struct xpu_workload *w = L->w;
	struct arena *a = &L->st->arena;
	uint32_t key;
	int rc;

	if (!rec->id || !*rec->id)
		return xpu_errf(L->err, L->path, rec->line, "field 'id': empty task id");
	if (rec->cls < 0 || rec->cls >= XPU_CLASS_COUNT || rec->ndeps < 0 || rec->ncosts < 0)
		return xpu_errf(L->err, L->path, rec->line, "reader returned a bad record");
	rc = intern_id(L, rec->id, &key);
	if (rc < 0)
		return rc;
	if (L->id_task[key] != NONE)
		return xpu_errf(L->err, L->path, rec->line,
		                "field 'id': duplicate task id \"%s\" (first on line %d)", rec->id,
		                w->tasks[L->id_task[key]].line);
	if (w->ntasks == L->task_cap) {
		uint32_t cap = L->task_cap ? L->task_cap * 2 : 1024;
		struct xpu_task *t = realloc(w->tasks, (size_t)cap * sizeof(*t));
		if (!t)
			return -ENOMEM;
		w->tasks = t;
		L->task_cap = cap;
	}
	uint32_t idx = w->ntasks;
	struct xpu_task *t = &w->tasks[idx];
	memset(t, 0, sizeof(*t));
	L->id_task[key] = idx;
	t->index = idx;
	t->id = L->ids.key[key];
	t->line = rec->line;
	t->submit = rec->submit;
	t->cls = rec->cls;
	t->flops = rec->flops;
	t->bytes = rec->bytes;
	t->mem = rec->mem;
	t->priority = rec->priority;
	t->width = rec->width > 0 ? (uint32_t)rec->width : 1;
	t->estimate = rec->estimate;
	t->deadline = rec->deadline;
	t->state = XPU_TASK_PENDING;
	t->unit = -1;

	/* Dependencies hold id numbers until every line is read: a producer may come
	 * later in the file. */
	if (rec->ndeps) {
		t->deps = arena_alloc(a, (size_t)rec->ndeps * sizeof(*t->deps));
		if (!t->deps)
			return -ENOMEM;
	}
	for (int i = 0; i < rec->ndeps; i++) {
		uint32_t d;
		rc = intern_id(L, rec->dep_ids[i], &d);
		if (rc < 0)
			return rc;
		if (d == key)
			return xpu_errf(L->err, L->path, rec->line,
			                "field 'deps': task \"%s\" depends on itself", rec->id);
		/* Two entries for one producer would be two edges the engine cannot tell
		 * apart; the writer should sum the bytes into one. */
		if (L->id_stamp[d] == idx + 1)
			return xpu_errf(L->err, L->path, rec->line,
			                "field 'deps': task \"%s\" is listed twice", L->ids.key[d]);
		L->id_stamp[d] = idx + 1;
		t->deps[i].task = d;
		t->deps[i].bytes = rec->dep_bytes[i];
		w->total_dep_bytes += rec->dep_bytes[i];
	}
	t->ndeps = (uint32_t)rec->ndeps;
	t->npending = t->ndeps;

	if (rec->ncosts) {
		t->costs = arena_alloc(a, (size_t)rec->ncosts * sizeof(*t->costs));
		if (!t->costs)
			return -ENOMEM;
	}
	for (int i = 0; i < rec->ncosts; i++) {
		rc = resolve_cost(L, rec->line, rec->cost_target[i], rec->cost_seconds[i],
		                  &t->costs[i]);
		if (rc < 0)
			return rc;
	}
	t->ncosts = (uint32_t)rec->ncosts;

	int added;
	rc = strmap_intern(&L->users, a, rec->user ? rec->user : "", &t->user, &added);
	if (rc < 0)
		return rc;
	for (int k = 0; k < rec->nreads + rec->nwrites; k++) {
		int wr = k >= rec->nreads;
		int i = wr ? k - rec->nreads : k;
		const char *name = wr ? rec->write_names[i] : rec->read_names[i];
		double bytes = wr ? rec->write_bytes[i] : rec->read_bytes[i];
		if (!name || !*name)
			return xpu_errf(L->err, L->path, rec->line, "field '%s': empty datum name",
			                wr ? "writes" : "reads");
		if (L->nnamed == L->named_cap) {
			size_t c = L->named_cap ? 2 * L->named_cap : 256;
			struct xpu_named_access *nv = realloc(L->named, c * sizeof(*nv));
			if (!nv)
				return -ENOMEM;
			L->named = nv;
			L->named_cap = c;
		}
		char *kept = arena_strdup(a, name, strlen(name));
		if (!kept)
			return -ENOMEM;
		/* a write updates the datum in place: it reads it too */
		L->named[L->nnamed++] = (struct xpu_named_access){
		    kept, bytes, idx, wr ? XPU_ACCESS_RW : XPU_ACCESS_READ, rec->line};
	}

	if (!idx || rec->submit < w->first_submit)
		w->first_submit = rec->submit;
	if (!idx || rec->submit > w->last_submit)
		w->last_submit = rec->submit;
	w->total_flops += rec->flops;
	w->total_bytes += rec->bytes;
	w->ndeps += t->ndeps;
	w->class_count[rec->cls]++;
	w->ntasks++;
	return 0;
}

/* Turn id numbers into task indexes, in file order so the first bad line is named. */
static int resolve_deps(struct loader *L)
{
	struct xpu_workload *w = L->w;
	for (uint32_t i = 0; i < w->ntasks; i++) {
		struct xpu_task *t = &w->tasks[i];
		for (uint32_t j = 0; j < t->ndeps; j++) {
			uint32_t p = L->id_task[t->deps[j].task];
			if (p == NONE)
				return xpu_errf(L->err, L->path, t->line,
				                "field 'deps': unknown task id \"%s\"",
				                L->ids.key[t->deps[j].task]);
			t->deps[j].task = p;
		}
	}
	return 0;
}

/* The workload's data (engine/data_model.c), and the dependencies shared data adds: a
 * task that accesses a datum after another in trace order, where one of them writes
 * it, waits for it (no bytes on the edge: the datum itself moves). */
static int build_data(struct loader *L)
{
	struct xpu_workload *w = L->w;
	uint32_t *extra = NULL;
	size_t nextra = 0;
	int rc = xpu_data_build(w, L->named, L->nnamed, L->path, &extra, &nextra, L->err);
	if (rc || !nextra) {
		free(extra);
		return rc;
	}
	/* New deps per consumer: count, then rebuild each list in the arena without
	 * repeating a producer already listed. */
	uint32_t *add = calloc((size_t)w->ntasks + 1, sizeof(*add));
	if (!add) {
		free(extra);
		return -ENOMEM;
	}
	for (size_t i = 0; i < nextra; i += 2)
		add[extra[i + 1]]++;
	for (uint32_t t = 0; t < w->ntasks && !rc; t++) {
		if (!add[t])
			continue;
		struct xpu_task *k = &w->tasks[t];
		struct xpu_dep *d = arena_alloc(&L->st->arena, (k->ndeps + add[t]) * sizeof(*d));
		if (!d) {
			rc = -ENOMEM;
			break;
		}
		if (k->ndeps)
			memcpy(d, k->deps, k->ndeps * sizeof(*d));
		k->deps = d;
	}
	for (size_t i = 0; i < nextra && !rc; i += 2) {
		struct xpu_task *k = &w->tasks[extra[i + 1]];
		uint32_t p = extra[i];
		int dup = 0;
		for (uint32_t j = 0; j < k->ndeps && !dup; j++)
			dup = k->deps[j].task == p;
		if (dup)
			continue;
		k->deps[k->ndeps++] = (struct xpu_dep){.task = p, .bytes = 0};
		k->npending = k->ndeps;
		w->ndeps++;
	}
	free(add);
	free(extra);
	return rc;
}

/* Successor lists, all in one array: count, then hand out slices, then fill. */
static int build_succ(struct loader *L)
{
	struct xpu_workload *w = L->w;
	if (!w->ndeps)
		return 0;
	uint32_t *succ = malloc((size_t)w->ndeps * sizeof(*succ));
	if (!succ)
		return -ENOMEM;
	L->st->succ = succ;
	for (uint32_t i = 0; i < w->ntasks; i++)
		for (uint32_t j = 0; j < w->tasks[i].ndeps; j++)
			w->tasks[w->tasks[i].deps[j].task].nsucc++;
	size_t off = 0;
	for (uint32_t i = 0; i < w->ntasks; i++) {
		w->tasks[i].succ = w->tasks[i].nsucc ? succ + off : NULL;
		off += w->tasks[i].nsucc;
		w->tasks[i].nsucc = 0;
	}
	for (uint32_t i = 0; i < w->ntasks; i++)
		for (uint32_t j = 0; j < w->tasks[i].ndeps; j++) {
			struct xpu_task *p = &w->tasks[w->tasks[i].deps[j].task];
			p->succ[p->nsucc++] = i;
		}
	return 0;
}

/* Name one cycle among the tasks Kahn's algorithm could not order (npending > 0).
 * Each of them still waits on a producer that is itself unordered, so walking from
 * one to such a producer, again and again, must come back to a task already seen. */
static int cycle_error(struct loader *L, uint32_t *seen)
{
	struct xpu_workload *w = L->w;
	uint32_t n = w->ntasks, start = 0, len = 0;
	uint32_t *path = malloc((size_t)n * sizeof(*path));
	if (!path)
		return -ENOMEM;
	memset(seen, 0, (size_t)n * sizeof(*seen));
	while (!w->tasks[start].npending)
		start++;
	uint32_t v = start;
	while (!seen[v]) {
		seen[v] = ++len;
		path[len - 1] = v;
		const struct xpu_task *t = &w->tasks[v];
		uint32_t j = 0;
		while (!w->tasks[t->deps[j].task].npending)
			j++;
		v = t->deps[j].task;
	}
	/* path[k + 1] produces for path[k]; the cycle is path[seen[v] - 1 .. len - 1].
	 * Print it in data-flow order, from its earliest task in the file. */
	uint32_t *c = path + seen[v] - 1, m = len - (seen[v] - 1), first = 0;
	for (uint32_t k = 1; k < m; k++)
		if (c[k] < c[first])
			first = k;
	char buf[600];
	size_t b = 0;
	for (uint32_t k = 0; k <= m && b < sizeof(buf); k++) {
		uint32_t node = c[(first + m - k % m) % m];
		const char *id = w->tasks[node].id;
		if (b + strlen(id) + 40 > sizeof(buf) && k < m) {
			b += (size_t)snprintf(buf + b, sizeof(buf) - b, " -> ... (%u tasks) -> %s",
			                      m, w->tasks[c[first]].id);
			break;
		}
		b += (size_t)snprintf(buf + b, sizeof(buf) - b, "%s%s", k ? " -> " : "", id);
	}
	int line = w->tasks[c[first]].line;
	free(path);
	return xpu_errf(L->err, L->path, line, "field 'deps': dependency cycle %s", buf);
}

/* Kahn's algorithm (Kahn, CACM 1962): repeatedly retire tasks with no pending
 * producer; whatever remains sits on or behind a cycle. npending serves as the
 * in-degree and is restored afterwards. */
static int check_acyclic(struct loader *L)
{
	struct xpu_workload *w = L->w;
	uint32_t n = w->ntasks, head = 0, tail = 0;
	if (!w->ndeps)
		return 0;
	uint32_t *queue = malloc((size_t)n * sizeof(*queue));
	if (!queue)
		return -ENOMEM;
	for (uint32_t i = 0; i < n; i++)
		if (!w->tasks[i].npending)
			queue[tail++] = i;
	while (head < tail) {
		const struct xpu_task *t = &w->tasks[queue[head++]];
		for (uint32_t j = 0; j < t->nsucc; j++)
			if (!--w->tasks[t->succ[j]].npending)
				queue[tail++] = t->succ[j];
	}
	int rc = tail < n ? cycle_error(L, queue) : 0;
	free(queue);
	for (uint32_t i = 0; i < n; i++)
		w->tasks[i].npending = w->tasks[i].ndeps;
	return rc;
}

static int index_units(struct loader *L)
{
	const struct xpu_platform *pf = L->pf;
	if (!pf || pf->nunits <= 0)
		return 0;
	L->unit_index = malloc((size_t)pf->nunits * sizeof(*L->unit_index));
	if (!L->unit_index)
		return -ENOMEM;
	for (int i = 0; i < pf->nunits; i++) {
		const struct xpu_unit *u = &pf->units[i];
		if (u->kind >= 0 && u->kind < XPU_KIND_COUNT)
			L->kinds |= 1u << u->kind;
		if (!u->name)
			continue;
		uint32_t k;
		int added;
		int rc = strmap_intern(&L->units, &L->unit_arena, u->name, &k, &added);
		if (rc < 0)
			return rc;
		if (added)
			L->unit_index[k] = (uint32_t)i;
	}
	return 0;
}

void xpu_workload_free(struct xpu_workload *w)
{
	if (!w)
		return;
	struct storage *st = w->priv;
	if (st) {
		arena_free(&st->arena);
		free(st->succ);
		free(st);
	}
	free(w->tasks);
	free(w->users);
	free(w->data);
	free(w->accesses);
	free(w->path);
	free(w);
}

/* A log of run times replays with those run times on the platform it is given: each
 * task's work, sized by the reader at its default reference speed, is rescaled to the
 * speed of the platform's fastest unit that runs the task's class at P-state 0,
 * preferring units of the logged machine's kind (CPUs for SWF, GPUs for GPU-cluster
 * lists). The reference used is described in w->ref_note. */
static void keep_logged_times(struct loader *L, double ref_auto, int kind, const char *fmt)
{
	const struct xpu_platform *pf = L->pf;
	double ref[XPU_CLASS_COUNT];
	int of_kind[XPU_CLASS_COUNT];
	for (int c = 0; c < XPU_CLASS_COUNT; c++) {
		ref[c] = 0;
		of_kind[c] = 0;
		for (int u = 0; u < pf->nunits; u++) {
			const struct xpu_unit *un = &pf->units[u];
			double rate = xpu_unit_rate(un, c, 0);
			int k = un->kind == kind;
			if (rate > 0 && (k > of_kind[c] || (k == of_kind[c] && rate > ref[c]))) {
				ref[c] = rate;
				of_kind[c] = k;
			}
		}
	}
	double first = 0;
	int mixed = 0;
	for (uint32_t i = 0; i < L->w->ntasks; i++) {
		struct xpu_task *t = &L->w->tasks[i];
		if (!(ref[t->cls] > 0))
			continue; /* no unit runs it: the run refuses it, naming the task */
		t->flops = t->flops / ref_auto * ref[t->cls];
		if (first == 0)
			first = ref[t->cls];
		else if (ref[t->cls] != first)
			mixed = 1;
	}
	snprintf(L->w->ref_note, sizeof(L->w->ref_note),
	         "%s: logged run times kept: reference speed %.4g flop/s per processor%s "
	         "(the fastest %s unit of the platform); give --trace-format %s:speed=FLOPS "
	         "to size work at another reference",
	         fmt, first, mixed ? " and others per class" : "",
	         first > 0 && of_kind[XPU_CLASS_GENERIC] ? xpu_kind_name(kind) : "capable", fmt);
}

static int load(struct loader *L, const char *format)
{
	struct xpu_workload *w = L->w;
	struct xpu_trace_reader *r;
	struct xpu_trace_rec rec;
	int rc = index_units(L);
	if (rc < 0)
		return rc;
	rc = xpu_trace_open(L->path, format, &r, L->err);
	if (rc < 0)
		return rc;
	while ((rc = xpu_trace_next(r, &rec, L->err)) > 0) {
		if (w->ntasks == NONE - 1) {
			rc = xpu_errf(L->err, L->path, rec.line, "too many tasks (at most %u)",
			              NONE - 1);
			break;
		}
		rc = add_record(L, &rec);
		if (rc < 0)
			break;
	}
	w->nrecords = xpu_trace_records(r) ? xpu_trace_records(r) : w->ntasks;
	int ref_kind = 0;
	double ref_auto = xpu_trace_logged_ref(r, &ref_kind);
	const char *fmt_name = xpu_trace_format_of(L->path, format);
	xpu_trace_close(r);
	if (rc < 0)
		return rc;
	if (ref_auto > 0 && L->pf)
		keep_logged_times(L, ref_auto, ref_kind, fmt_name ? fmt_name : "trace");
	if (w->ntasks && w->ntasks < L->task_cap) {
		struct xpu_task *t = realloc(w->tasks, (size_t)w->ntasks * sizeof(*t));
		if (t)
			w->tasks = t;
	}
	rc = resolve_deps(L);
	if (!rc)
		rc = build_data(L);
	if (!rc)
		rc = build_succ(L);
	if (!rc)
		rc = check_acyclic(L);
	if (rc < 0)
		return rc;

	w->nusers = L->users.n;
	if (w->nusers) {
		w->users = malloc((size_t)w->nusers * sizeof(*w->users));
		if (!w->users)
			return -ENOMEM;
		/* The names live in the arena, which the workload owns. */
		for (uint32_t i = 0; i < w->nusers; i++)
			w->users[i] = (char *)L->users.key[i];
	}
	return 0;
}

int xpu_workload_load(const char *path, const char *format, const struct xpu_platform *pf,
                      struct xpu_workload **out, struct xpu_err *err)
{
	*out = NULL;
	struct xpu_workload *w = calloc(1, sizeof(*w));
	struct storage *st = calloc(1, sizeof(*st));
	char *p = strdup(path);
	if (!w || !st || !p) {
		free(w);
		free(st);
		free(p);
		return -ENOMEM;
	}
	w->priv = st;
	w->path = p;

	struct loader L = {.path = path, .pf = pf, .err = err, .w = w, .st = st};
	int rc = load(&L, format);
	strmap_free(&L.ids);
	strmap_free(&L.users);
	strmap_free(&L.units);
	arena_free(&L.unit_arena);
	free(L.id_task);
	free(L.id_stamp);
	free(L.named);
	free(L.unit_index);
	if (rc < 0) {
		if (rc == -ENOMEM)
			xpu_errf(err, path, 0, "out of memory");
		else if (rc == -E2BIG)
			xpu_errf(err, path, 0, "too many distinct ids");
		xpu_workload_free(w);
		return rc == -E2BIG ? -EINVAL : rc;
	}
	*out = w;
	return 0;
}
