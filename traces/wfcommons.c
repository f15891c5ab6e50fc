/* wfcommons.c — reader for WfCommons WfFormat JSON workflow instances (schema 1.4 and 1.5). */
#include <errno.h>
#include <jansson.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "lineio.h"

/* Format: WfFormat, https://github.com/wfcommons/WfFormat (README of releases 1.4 and
 * 1.5); instances from WfInstances (Coleman et al., "WfCommons: A framework for
 * enabling scientific workflow research and development", FGCS 127, 2022).
 *
 * 1.5 splits an instance in two: workflow.specification.tasks[] (id, parents, children,
 * inputFiles, outputFiles) with workflow.specification.files[] (id, sizeInBytes), and
 * workflow.execution.tasks[] (id, runtimeInSeconds, coreCount, memoryInBytes, priority,
 * machines[]) with workflow.execution.machines[] (nodeName, cpu.coreCount,
 * cpu.speedInMHz). 1.4 keeps one list, workflow.tasks[] (name, parents, children,
 * runtimeInSeconds, cores, memoryInBytes, priority, machine, files[] of name,
 * sizeInBytes, link input|output), and workflow.machines[] (nodeName, cpu.count,
 * cpu.speed in MHz). Tasks reference each other by 1.5 `id` or 1.4 `name`.
 *
 * JSON does not split into records, so unlike the other readers this one parses the
 * whole file (jansson) at open, refusing files over WF_MAX_BYTES, and hands out the
 * tasks one by one from memory. Errors carry jansson's line and column for bad JSON,
 * and the JSON path of the bad value otherwise (records have no line of their own). */

/* jansson's tree takes several times the text's size; 256 MiB of JSON covers the
 * largest WfInstances by far. */
#define WF_MAX_BYTES (256L << 20)

struct wf_task {
	const char *id;
	json_t *inputs;  /* array of file names (strings) */
	json_t *outputs; /* object: file name -> size (real) */
	double runtime, mem, cores;
	int priority;
	const char *machine;
	int first_dep, ndeps; /* range in wf.dep_id / wf.dep_bytes */
};

struct wf {
	json_t *root;
	json_t *index;    /* task id -> its position (integer) */
	json_t *sizes;    /* 1.5: file id -> size (real) */
	json_t *machines; /* nodeName -> clock in Hz (real) */
	json_t *owned;    /* arrays and objects built here, freed with it */
	size_t ntasks, next;
	struct wf_task *t;
	const char **dep_id;
	double *dep_bytes;
	double speed, flop_per_cycle;
	int speed_given;
	int v14; /* schema 1.4 */
	char hdr_makespan[32];
	const char *hdr_key[3], *hdr_val[3];
	int nhdr;
};

/* A short rendering of a JSON value for messages. */
static void show(const json_t *v, char *buf, size_t n)
{
	switch (json_typeof(v)) {
	case JSON_STRING:
		snprintf(buf, n, "\"%.*s\"", TR_QUOTE_MAX, json_string_value(v));
		break;
	case JSON_INTEGER:
	case JSON_REAL:
		snprintf(buf, n, "%.17g", json_number_value(v));
		break;
	case JSON_TRUE:
		snprintf(buf, n, "true");
		break;
	case JSON_FALSE:
		snprintf(buf, n, "false");
		break;
	case JSON_NULL:
		snprintf(buf, n, "null");
		break;
	case JSON_ARRAY:
		snprintf(buf, n, "an array");
		break;
	default:
		snprintf(buf, n, "an object");
	}
}

/* "FILE: PATH: expected WHAT, got V" */
static int bad(struct xpu_trace_reader *r, struct xpu_err *err, const char *path, const char *what,
               const json_t *v)
{
	char got[128];
	if (!v)
		return xpu_errf(err, r->path, 0, "%s: missing (expected %s)", path, what);
	show(v, got, sizeof(got));
	return xpu_errf(err, r->path, 0, "%s: expected %s, got %s", path, what, got);
}

/* An optional non-negative number member: 0 when absent (or null). */
static int num(struct xpu_trace_reader *r, struct xpu_err *err, const char *path, const json_t *obj,
               const char *key, double *out)
{
	const json_t *v = json_object_get(obj, key);
	char p[512];
	*out = 0;
	if (!v || json_is_null(v))
		return 0;
	snprintf(p, sizeof(p), "%s.%s", path, key);
	if (!json_is_number(v) || !(json_number_value(v) >= 0) || !isfinite(json_number_value(v)))
		return bad(r, err, p, "a non-negative number", v);
	*out = json_number_value(v);
	return 0;
}

/* An optional array member of strings; *out NULL when absent. */
static int str_array(struct xpu_trace_reader *r, struct xpu_err *err, const char *path,
                     const json_t *obj, const char *key, json_t **out)
{
	json_t *v = json_object_get(obj, key);
	char p[512];
	*out = NULL;
	if (!v || json_is_null(v))
		return 0;
	snprintf(p, sizeof(p), "%s.%s", path, key);
	if (!json_is_array(v))
		return bad(r, err, p, "an array of names", v);
	for (size_t i = 0; i < json_array_size(v); i++) {
		json_t *s = json_array_get(v, i);
		if (!json_is_string(s) || !json_string_length(s)) {
			snprintf(p, sizeof(p), "%s.%s[%zu]", path, key, i);
			return bad(r, err, p, "a non-empty string", s);
		}
	}
	*out = v;
	return 0;
}

/* The member key of obj as an array (required, or optional: NULL when absent). */
static int array_of(struct xpu_trace_reader *r, struct xpu_err *err, const char *path, json_t *obj,
                    const char *key, int required, json_t **out)
{
	char p[256];
	snprintf(p, sizeof(p), "%s%s%s", path, *path ? "." : "", key);
	*out = json_object_get(obj, key);
	if (!*out && !required)
		return 0;
	if (!json_is_array(*out))
		return bad(r, err, p, "an array", *out);
	return 0;
}

/* Keep a new container alive until close; returns it (NULL: out of memory). */
static json_t *own(struct wf *w, json_t *v)
{
	if (v && json_array_append_new(w->owned, v) < 0)
		return NULL;
	return v;
}

/* Machines: node name -> clock in Hz (0 when the instance records none). */
static int read_machines(struct xpu_trace_reader *r, struct xpu_err *err, json_t *list,
                         const char *path)
{
	struct wf *w = r->priv;
	for (size_t i = 0; list && i < json_array_size(list); i++) {
		json_t *m = json_array_get(list, i);
		char p[256];
		snprintf(p, sizeof(p), "%s[%zu]", path, i);
		if (!json_is_object(m))
			return bad(r, err, p, "an object", m);
		json_t *name = json_object_get(m, "nodeName");
		json_t *cpu = json_object_get(m, "cpu");
		double mhz = 0;
		if (!json_is_string(name)) {
			snprintf(p, sizeof(p), "%s[%zu].nodeName", path, i);
			return bad(r, err, p, "a string", name);
		}
		if (cpu && !json_is_object(cpu)) {
			snprintf(p, sizeof(p), "%s[%zu].cpu", path, i);
			return bad(r, err, p, "an object", cpu);
		}
		snprintf(p, sizeof(p), "%s[%zu].cpu", path, i);
		const char *key =
		    cpu && json_object_get(cpu, "speedInMHz") ? "speedInMHz" : "speed";
		if (cpu && num(r, err, p, cpu, key, &mhz) < 0)
			return -EINVAL;
		if (!isfinite(mhz * 1e6)) { /* a clock in Hz beyond a double */
			char q[512];
			snprintf(q, sizeof(q), "%s.%s", p, key);
			return bad(r, err, q, "a clock in MHz below 1e300",
			           json_object_get(cpu, key));
		}
		if (json_object_set_new(w->machines, json_string_value(name),
		                        json_real(mhz * 1e6)) < 0)
			return -ENOMEM;
	}
	return 0;
}

/* Pass 1: each task's id, into w->index; duplicates refused. */
static int read_ids(struct xpu_trace_reader *r, struct xpu_err *err, json_t *tasks,
                    const char *path)
{
	struct wf *w = r->priv;
	const char *key = w->v14 ? "name" : "id";
	for (size_t i = 0; i < w->ntasks; i++) {
		json_t *t = json_array_get(tasks, i), *id;
		char p[256];
		snprintf(p, sizeof(p), "%s[%zu]", path, i);
		if (!json_is_object(t))
			return bad(r, err, p, "a task object", t);
		id = json_object_get(t, key);
		if (!id && w->v14)
			id = json_object_get(t, "id");
		snprintf(p, sizeof(p), "%s[%zu].%s", path, i, key);
		if (!json_is_string(id) || !json_string_length(id))
			return bad(r, err, p, "a non-empty task id", id);
		const char *s = json_string_value(id);
		if (strpbrk(s, ":;"))
			return bad(r, err, p, "a task id without ':' or ';'", id);
		json_t *old = json_object_get(w->index, s);
		if (old)
			return xpu_errf(err, r->path, 0,
			                "%s: duplicate task id \"%.*s\" (first at %s[%lld])", p,
			                TR_QUOTE_MAX, s, path, (long long)json_integer_value(old));
		if (json_object_set_new(w->index, s, json_integer((json_int_t)i)) < 0)
			return -ENOMEM;
		w->t[i].id = s;
	}
	return 0;
}

/* The execution record of a task: run time, cores, memory, priority, machine. obj is
 * the 1.5 execution task or the 1.4 task itself. */
static int read_exec(struct xpu_trace_reader *r, struct xpu_err *err, struct wf_task *t,
                     json_t *obj, const char *p)
{
	struct wf *w = r->priv;
	const char *rt = json_object_get(obj, "runtimeInSeconds") ? "runtimeInSeconds" : "runtime";
	const char *cores = json_object_get(obj, "coreCount") ? "coreCount" : "cores";
	double prio = 0;
	if (num(r, err, p, obj, rt, &t->runtime) < 0 || num(r, err, p, obj, cores, &t->cores) < 0 ||
	    num(r, err, p, obj, "memoryInBytes", &t->mem) < 0)
		return -EINVAL;
	if (t->cores > 1 << 20) { /* was clamped silently */
		char q[512];
		snprintf(q, sizeof(q), "%s.%s", p, cores);
		return bad(r, err, q, "a core count of at most 1048576",
		           json_object_get(obj, cores));
	}
	json_t *pr = json_object_get(obj, "priority");
	if (pr && !json_is_null(pr)) {
		char q[512];
		snprintf(q, sizeof(q), "%s.priority", p);
		if (json_is_number(pr))
			prio = json_number_value(pr);
		if (!json_is_number(pr) || prio != floor(prio) || prio < INT_MIN || prio > INT_MAX)
			return bad(r, err, q, "an integer", pr);
		t->priority = (int)prio;
	}
	json_t *m = json_object_get(obj, w->v14 ? "machine" : "machines");
	if (json_is_array(m))
		m = json_array_get(m, 0);
	if (json_is_string(m))
		t->machine = json_string_value(m);
	return 0;
}

/* One task's files: inputs as a list of names, outputs as a name -> size set. */
static int read_files(struct xpu_trace_reader *r, struct xpu_err *err, struct wf_task *t,
                      json_t *obj, const char *p)
{
	struct wf *w = r->priv;
	json_t *in, *out, *files;
	char q[512];
	t->outputs = own(w, json_object());
	if (!t->outputs)
		return -ENOMEM;
	if (!w->v14) {
		if (str_array(r, err, p, obj, "inputFiles", &in) < 0 ||
		    str_array(r, err, p, obj, "outputFiles", &out) < 0)
			return -EINVAL;
		t->inputs = in;
		for (size_t k = 0; out && k < json_array_size(out); k++) {
			const char *f = json_string_value(json_array_get(out, k));
			json_t *size = json_object_get(w->sizes, f);
			if (!size) {
				snprintf(q, sizeof(q), "%s.outputFiles[%zu]", p, k);
				return xpu_errf(err, r->path, 0,
				                "%s: unknown file id \"%.*s\" (not in "
				                "workflow.specification.files)",
				                q, TR_QUOTE_MAX, f);
			}
			if (json_object_set(t->outputs, f, size) < 0)
				return -ENOMEM;
		}
		for (size_t k = 0; in && k < json_array_size(in); k++) {
			const char *f = json_string_value(json_array_get(in, k));
			if (!json_object_get(w->sizes, f)) {
				snprintf(q, sizeof(q), "%s.inputFiles[%zu]", p, k);
				return xpu_errf(err, r->path, 0,
				                "%s: unknown file id \"%.*s\" (not in "
				                "workflow.specification.files)",
				                q, TR_QUOTE_MAX, f);
			}
		}
		return 0;
	}
	/* 1.4: files[] of {name, sizeInBytes, link}; inputs keep their own sizes in a
	 * per-task object too, so that edges look both up the same way. */
	if (array_of(r, err, p, obj, "files", 0, &files) < 0)
		return -EINVAL;
	t->inputs = own(w, json_array());
	if (!t->inputs)
		return -ENOMEM;
	for (size_t k = 0; files && k < json_array_size(files); k++) {
		json_t *f = json_array_get(files, k);
		snprintf(q, sizeof(q), "%s.files[%zu]", p, k);
		if (!json_is_object(f))
			return bad(r, err, q, "a file object", f);
		json_t *name = json_object_get(f, "name");
		json_t *link = json_object_get(f, "link");
		double size;
		if (!name)
			name = json_object_get(f, "id");
		if (num(r, err, q, f, json_object_get(f, "sizeInBytes") ? "sizeInBytes" : "size",
		        &size) < 0)
			return -EINVAL;
		char qq[600];
		snprintf(qq, sizeof(qq), "%s.name", q);
		if (!json_is_string(name))
			return bad(r, err, qq, "a file name", name);
		snprintf(qq, sizeof(qq), "%s.link", q);
		const char *l = json_is_string(link) ? json_string_value(link) : "";
		if (!strcmp(l, "input")) {
			if (json_array_append(t->inputs, name) < 0)
				return -ENOMEM;
		} else if (!strcmp(l, "output")) {
			if (json_object_set_new(t->outputs, json_string_value(name),
			                        json_real(size)) < 0)
				return -ENOMEM;
		} else {
			return bad(r, err, qq, "\"input\" or \"output\"", link);
		}
	}
	return 0;
}

/* An edge, parent -> child, from either end's list. */
struct edge {
	size_t child, parent;
};

static int edge_cmp(const void *a, const void *b)
{
	const struct edge *x = a, *y = b;
	if (x->child != y->child)
		return x->child < y->child ? -1 : 1;
	return x->parent < y->parent ? -1 : x->parent > y->parent;
}

/* Collect the edges named by `parents` and `children`, whose union is the graph (an
 * instance may give either or both), and size each by the files the parent writes and
 * the child reads. */
static int read_edges(struct xpu_trace_reader *r, struct xpu_err *err, json_t *tasks,
                      const char *path)
{
	struct wf *w = r->priv;
	struct edge *e = NULL;
	size_t n = 0, cap = 0;
	int rc = 0;
	for (size_t i = 0; i < w->ntasks && !rc; i++) {
		json_t *t = json_array_get(tasks, i);
		static const char *const lists[2] = {"parents", "children"};
		for (int l = 0; l < 2 && !rc; l++) {
			char p[256], q[512];
			json_t *a;
			snprintf(p, sizeof(p), "%s[%zu]", path, i);
			if ((rc = str_array(r, err, p, t, lists[l], &a)) < 0)
				break;
			for (size_t k = 0; a && k < json_array_size(a); k++) {
				const char *s = json_string_value(json_array_get(a, k));
				json_t *j = json_object_get(w->index, s);
				snprintf(q, sizeof(q), "%s.%s[%zu]", p, lists[l], k);
				if (!j) {
					rc = xpu_errf(err, r->path, 0,
					              "%s: unknown task id \"%.*s\"", q,
					              TR_QUOTE_MAX, s);
					break;
				}
				size_t o = (size_t)json_integer_value(j);
				if (o == i) {
					rc = xpu_errf(err, r->path, 0,
					              "%s: task \"%.*s\" depends on itself", q,
					              TR_QUOTE_MAX, s);
					break;
				}
				if (n == cap) {
					cap = cap ? 2 * cap : 256;
					struct edge *ne = realloc(e, cap * sizeof(*e));
					if (!ne) {
						rc = -ENOMEM;
						break;
					}
					e = ne;
				}
				e[n++] = l == 0 ? (struct edge){i, o} : (struct edge){o, i};
			}
		}
	}
	if (rc < 0) {
		free(e);
		return rc;
	}
	if (n)
		qsort(e, n, sizeof(*e), edge_cmp);
	w->dep_id = malloc((n ? n : 1) * sizeof(*w->dep_id));
	w->dep_bytes = malloc((n ? n : 1) * sizeof(*w->dep_bytes));
	if (!w->dep_id || !w->dep_bytes) {
		free(e);
		return -ENOMEM;
	}
	size_t m = 0;
	for (size_t k = 0; k < n; k++) {
		if (k && !edge_cmp(&e[k], &e[k - 1]))
			continue; /* named by both ends, or twice */
		struct wf_task *c = &w->t[e[k].child], *par = &w->t[e[k].parent];
		if (!c->ndeps)
			c->first_dep = (int)m;
		c->ndeps++;
		double bytes = 0;
		for (size_t f = 0; c->inputs && f < json_array_size(c->inputs); f++) {
			json_t *size = json_object_get(
			    par->outputs, json_string_value(json_array_get(c->inputs, f)));
			if (size)
				bytes += json_number_value(size);
		}
		w->dep_id[m] = par->id;
		w->dep_bytes[m++] = bytes;
	}
	free(e);
	return 0;
}

static void wf_close(struct xpu_trace_reader *r)
{
	struct wf *w = r->priv;
	if (!w)
		return;
	json_decref(w->root);
	json_decref(w->index);
	json_decref(w->sizes);
	json_decref(w->machines);
	json_decref(w->owned);
	free(w->t);
	free(w->dep_id);
	free(w->dep_bytes);
	free(w);
	r->priv = NULL;
}

/* 1.5: file sizes, and each execution record attached to its task. */
static int read_v15(struct xpu_trace_reader *r, struct xpu_err *err, json_t *wfl, json_t *tasks)
{
	struct wf *w = r->priv;
	json_t *spec = json_object_get(wfl, "specification"), *files, *exec, *etasks = NULL;
	json_t *machines = NULL;
	if (array_of(r, err, "workflow.specification", spec, "files", 0, &files) < 0)
		return -EINVAL;
	for (size_t i = 0; files && i < json_array_size(files); i++) {
		json_t *f = json_array_get(files, i), *id;
		char p[256];
		double size;
		snprintf(p, sizeof(p), "workflow.specification.files[%zu]", i);
		if (!json_is_object(f))
			return bad(r, err, p, "a file object", f);
		id = json_object_get(f, "id");
		if (num(r, err, p, f, "sizeInBytes", &size) < 0)
			return -EINVAL;
		snprintf(p, sizeof(p), "workflow.specification.files[%zu].id", i);
		if (!json_is_string(id))
			return bad(r, err, p, "a file id", id);
		if (json_object_set_new(w->sizes, json_string_value(id), json_real(size)) < 0)
			return -ENOMEM;
	}
	exec = json_object_get(wfl, "execution");
	if (exec && !json_is_object(exec))
		return bad(r, err, "workflow.execution", "an object", exec);
	if (exec && (array_of(r, err, "workflow.execution", exec, "tasks", 0, &etasks) < 0 ||
	             array_of(r, err, "workflow.execution", exec, "machines", 0, &machines) < 0))
		return -EINVAL;
	if (read_machines(r, err, machines, "workflow.execution.machines") < 0)
		return -EINVAL;
	for (size_t i = 0; i < w->ntasks; i++) {
		char p[256];
		snprintf(p, sizeof(p), "workflow.specification.tasks[%zu]", i);
		int rc = read_files(r, err, &w->t[i], json_array_get(tasks, i), p);
		if (rc < 0)
			return rc;
	}
	for (size_t i = 0; etasks && i < json_array_size(etasks); i++) {
		json_t *et = json_array_get(etasks, i), *id, *j;
		char p[256];
		snprintf(p, sizeof(p), "workflow.execution.tasks[%zu]", i);
		if (!json_is_object(et))
			return bad(r, err, p, "a task object", et);
		id = json_object_get(et, "id");
		snprintf(p, sizeof(p), "workflow.execution.tasks[%zu].id", i);
		if (!json_is_string(id))
			return bad(r, err, p, "a task id", id);
		j = json_object_get(w->index, json_string_value(id));
		if (!j)
			return xpu_errf(err, r->path, 0,
			                "%s: unknown task id \"%.*s\" (not in "
			                "workflow.specification.tasks)",
			                p, TR_QUOTE_MAX, json_string_value(id));
		snprintf(p, sizeof(p), "workflow.execution.tasks[%zu]", i);
		int rc = read_exec(r, err, &w->t[json_integer_value(j)], et, p);
		if (rc < 0)
			return rc;
	}
	return 0;
}

static int wf_parse(struct xpu_trace_reader *r, struct xpu_err *err)
{
	struct wf *w = r->priv;
	struct stat st;
	json_error_t je;
	if (stat(r->path, &st) < 0)
		return xpu_errf(err, r->path, 0, "cannot read: %s", strerror(errno));
	if (st.st_size > WF_MAX_BYTES)
		return xpu_errf(err, r->path, 0,
		                "%lld bytes of JSON, more than this reader parses (%ld: the file "
		                "is read whole)",
		                (long long)st.st_size, WF_MAX_BYTES);
	FILE *f = fopen(r->path, "rb");
	if (!f)
		return xpu_errf(err, r->path, 0, "cannot read: %s", strerror(errno));
	/* A UTF-8 byte order mark (editors on Windows write one) is not JSON: skip it. */
	unsigned char bom[3];
	if (fread(bom, 1, 3, f) != 3 || memcmp(bom, "\xef\xbb\xbf", 3))
		rewind(f);
	w->root = json_loadf(f, JSON_REJECT_DUPLICATES, &je);
	fclose(f);
	if (!w->root) {
		if (je.line <= 0)
			return xpu_errf(err, r->path, 0, "%s", je.text);
		return xpu_errf(err, r->path, je.line, "column %d: invalid JSON: %s", je.column,
		                je.text);
	}
	if (!json_is_object(w->root))
		return bad(r, err, "(top level)", "a WfFormat object", w->root);
	json_t *ver = json_object_get(w->root, "schemaVersion");
	json_t *wfl = json_object_get(w->root, "workflow"), *tasks, *machines = NULL;
	if (!json_is_object(wfl))
		return bad(r, err, "workflow", "an object", wfl);
	if (ver) {
		const char *v = json_is_string(ver) ? json_string_value(ver) : "";
		if (strcmp(v, "1.4") && strcmp(v, "1.5"))
			return bad(r, err, "schemaVersion", "\"1.4\" or \"1.5\"", ver);
		w->v14 = !strcmp(v, "1.4");
	} else {
		w->v14 = !json_object_get(wfl, "specification"); /* the spec requires it */
	}
	w->hdr_key[w->nhdr] = "schemaVersion";
	w->hdr_val[w->nhdr++] = w->v14 ? "1.4" : "1.5";
	if (json_is_string(json_object_get(w->root, "name"))) {
		w->hdr_key[w->nhdr] = "name";
		w->hdr_val[w->nhdr++] = json_string_value(json_object_get(w->root, "name"));
	}
	const char *tpath = w->v14 ? "workflow.tasks" : "workflow.specification.tasks";
	if (w->v14) {
		if (array_of(r, err, "workflow", wfl, "tasks", 1, &tasks) < 0 ||
		    array_of(r, err, "workflow", wfl, "machines", 0, &machines) < 0)
			return -EINVAL;
	} else {
		json_t *spec = json_object_get(wfl, "specification");
		if (!json_is_object(spec))
			return bad(r, err, "workflow.specification", "an object", spec);
		if (array_of(r, err, "workflow.specification", spec, "tasks", 1, &tasks) < 0)
			return -EINVAL;
	}
	w->ntasks = json_array_size(tasks);
	w->t = calloc(w->ntasks ? w->ntasks : 1, sizeof(*w->t));
	if (!w->t)
		return -ENOMEM;
	int rc = read_ids(r, err, tasks, tpath);
	if (rc < 0)
		return rc;
	if (w->v14) {
		if ((rc = read_machines(r, err, machines, "workflow.machines")) < 0)
			return rc;
		for (size_t i = 0; i < w->ntasks; i++) {
			char p[256];
			snprintf(p, sizeof(p), "workflow.tasks[%zu]", i);
			json_t *t = json_array_get(tasks, i);
			if ((rc = read_exec(r, err, &w->t[i], t, p)) < 0 ||
			    (rc = read_files(r, err, &w->t[i], t, p)) < 0)
				return rc;
		}
	} else if ((rc = read_v15(r, err, wfl, tasks)) < 0) {
		return rc;
	}
	json_t *ms = json_object_get(wfl, w->v14 ? "makespanInSeconds" : "execution");
	if (!w->v14)
		ms = json_object_get(ms, "makespanInSeconds");
	if (json_is_number(ms)) {
		snprintf(w->hdr_makespan, sizeof(w->hdr_makespan), "%.17g", json_number_value(ms));
		w->hdr_key[w->nhdr] = "makespanInSeconds";
		w->hdr_val[w->nhdr++] = w->hdr_makespan;
	}
	return read_edges(r, err, tasks, tpath);
}

static int wf_open(struct xpu_trace_reader *r, struct xpu_err *err)
{
	struct wf *w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	r->priv = w;
	w->index = json_object();
	w->sizes = json_object();
	w->machines = json_object();
	w->owned = json_array();
	int rc = 0;
	if (!w->index || !w->sizes || !w->machines || !w->owned)
		rc = -ENOMEM;
	if (!rc)
		rc = tr_param_num(r, "speed", 1e9, &w->speed, err);
	if (!rc)
		rc = tr_param_num(r, "flop_per_cycle", 1, &w->flop_per_cycle, err);
	for (int i = 0; i < r->nparams; i++)
		w->speed_given |= !strcmp(r->param[i].key, "speed");
	if (!rc)
		rc = wf_parse(r, err);
	if (rc < 0) {
		wf_close(r);
		return rc;
	}
	return 0;
}

static int wf_next(struct xpu_trace_reader *r, struct xpu_trace_rec *rec, struct xpu_err *err)
{
	struct wf *w = r->priv;
	if (w->next >= w->ntasks)
		return 0;
	struct wf_task *t = &w->t[w->next++];
	/* Work replays the recorded run time at the recorded machine's clock (one flop per
	 * cycle unless told otherwise), or at `speed` when given or when the instance
	 * names no clock; a task of several cores did that work on each of them. */
	double speed = w->speed;
	if (!w->speed_given && t->machine) {
		double hz = json_number_value(json_object_get(w->machines, t->machine));
		if (hz > 0)
			speed = hz * w->flop_per_cycle;
	}
	int width = t->cores > 1 ? (int)fmin(ceil(t->cores), 1 << 20) : 1;
	memset(rec, 0, sizeof(*rec));
	rec->id = t->id;
	rec->cls = XPU_CLASS_GENERIC;
	rec->flops = t->runtime * speed * width;
	if (!isfinite(rec->flops))
		return xpu_errf(
		    err, r->path, 0,
		    "task \"%s\": its work (run time %g s x %g flop/s x %d cores) "
		    "overflows a double; check runtimeInSeconds and the machine's clock",
		    t->id, t->runtime, speed, width);
	rec->mem = t->mem;
	rec->priority = t->priority;
	rec->deadline = INFINITY;
	rec->user = "";
	rec->width = width;
	rec->estimate = NAN;
	rec->ndeps = t->ndeps;
	rec->dep_ids = w->dep_id + t->first_dep;
	rec->dep_bytes = w->dep_bytes + t->first_dep;
	return 1;
}

static int wf_header(struct xpu_trace_reader *r, int i, const char **key, const char **value)
{
	struct wf *w = r->priv;
	if (i < 0 || i >= w->nhdr)
		return 0;
	*key = w->hdr_key[i];
	*value = w->hdr_val[i];
	return 1;
}

static const char *const wf_extensions[] = {".json", NULL};
static const char *const wf_params[] = {"speed", "flop_per_cycle", NULL};

const struct xpu_trace_reader_ops xpu_trace_wfcommons = {
    .name = "wfcommons",
    .description = "WfCommons WfFormat workflow instance, schema 1.4 or 1.5 (.json)",
    .extensions = wf_extensions,
    .open = wf_open,
    .next = wf_next,
    .close = wf_close,
    .params = wf_params,
    .header = wf_header,
};
