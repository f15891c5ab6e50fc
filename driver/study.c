/* study.c — experiment files (libconfig syntax), their case matrix, and the index. */
#include <errno.h>
#include <libconfig.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "registry.h"
#include "study.h"

/* Everything parsing needs to name FILE:LINE in a message. */
struct parser {
	const char *file;
	int flags;
	char dir[PATH_MAX]; /* the experiment file's directory, for relative paths */
	struct xpu_err *err;
	int oom;
};

static int field_err(struct parser *p, const config_setting_t *s, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int field_err(struct parser *p, const config_setting_t *s, const char *fmt, ...)
{
	char msg[768];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return xpu_errf(p->err, p->file, s ? (int)config_setting_source_line(s) : 0, "%s", msg);
}

static char *xstrdup(struct parser *p, const char *s)
{
	char *d = strdup(s ? s : "");
	if (!d)
		p->oom = 1;
	return d;
}

static char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static char *xasprintf(const char *fmt, ...)
{
	char *s;
	va_list ap;
	va_start(ap, fmt);
	int n = vasprintf(&s, fmt, ap);
	va_end(ap);
	return n < 0 ? NULL : s;
}

/* A path in the experiment file is relative to the file's directory, so a study runs
 * the same from any working directory; it is stored absolute for Slurm jobs. */
static char *resolve(struct parser *p, const char *path)
{
	char joined[PATH_MAX * 2], real[PATH_MAX];
	if (path[0] == '/')
		snprintf(joined, sizeof(joined), "%s", path);
	else
		snprintf(joined, sizeof(joined), "%s/%s", p->dir, path);
	if (realpath(joined, real))
		return xstrdup(p, real);
	return xstrdup(p, joined);
}

static int is_scalar(const config_setting_t *s)
{
	int t = config_setting_type(s);
	return t == CONFIG_TYPE_INT || t == CONFIG_TYPE_INT64 || t == CONFIG_TYPE_FLOAT ||
	       t == CONFIG_TYPE_STRING || t == CONFIG_TYPE_BOOL;
}

static int is_seq(const config_setting_t *s)
{
	int t = config_setting_type(s);
	return t == CONFIG_TYPE_ARRAY || t == CONFIG_TYPE_LIST;
}

static void scalar_text(const config_setting_t *s, char *buf, size_t n)
{
	switch (config_setting_type(s)) {
	case CONFIG_TYPE_INT:
	case CONFIG_TYPE_INT64:
		snprintf(buf, n, "%lld", config_setting_get_int64(s));
		break;
	case CONFIG_TYPE_FLOAT:
		snprintf(buf, n, "%.15g", config_setting_get_float(s));
		break;
	case CONFIG_TYPE_BOOL:
		snprintf(buf, n, "%d", config_setting_get_bool(s));
		break;
	default:
		snprintf(buf, n, "%s", config_setting_get_string(s));
		break;
	}
}

/* Only known fields: a typo ("seed" for "seeds") must not silently run a default. */
static int check_members(struct parser *p, const config_setting_t *g, const char *where,
                         const char *const *known)
{
	for (int i = 0; i < config_setting_length(g); i++) {
		const config_setting_t *m = config_setting_get_elem(g, i);
		const char *name = config_setting_name(m);
		int ok = 0;
		for (const char *const *k = known; *k; k++)
			ok |= !strcmp(*k, name);
		if (!ok) {
			char list[256] = "";
			for (const char *const *k = known; *k; k++)
				snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s",
				         k == known ? "" : ", ", *k);
			return field_err(p, m, "%s%s: unknown field; expected one of: %s", where,
			                 name, list);
		}
	}
	return 0;
}

/* A list of readable files (platforms, traces). */
static int read_paths(struct parser *p, config_t *cfg, const char *key, char ***out, int *n)
{
	config_setting_t *s = config_lookup(cfg, key);
	if (!s)
		return xpu_errf(p->err, p->file, 0, "%s: missing; expected a list of files", key);
	if (config_setting_type(s) == CONFIG_TYPE_STRING) {
		/* One file may be given without brackets. */
		*out = calloc(1, sizeof(char *));
		if (!*out)
			return -ENOMEM;
		*n = 1;
		(*out)[0] = resolve(p, config_setting_get_string(s));
	} else {
		if (!is_seq(s) || config_setting_length(s) == 0)
			return field_err(p, s, "%s: expected a non-empty list of file names", key);
		*n = config_setting_length(s);
		*out = calloc((size_t)*n, sizeof(char *));
		if (!*out)
			return -ENOMEM;
		for (int i = 0; i < *n; i++) {
			config_setting_t *e = config_setting_get_elem(s, i);
			if (config_setting_type(e) != CONFIG_TYPE_STRING)
				return field_err(p, s, "%s[%d]: expected a file name in quotes",
				                 key, i);
			(*out)[i] = resolve(p, config_setting_get_string(e));
		}
	}
	for (int i = 0; i < *n; i++) {
		if (!(*out)[i])
			return -ENOMEM;
		if (access((*out)[i], R_OK))
			return field_err(p, config_lookup(cfg, key),
			                 "%s[%d]: cannot read \"%s\": %s", key, i, (*out)[i],
			                 strerror(errno));
	}
	return 0;
}

static int read_seed(struct parser *p, const config_setting_t *e, const char *where, uint64_t *v)
{
	int t = config_setting_type(e);
	if ((t != CONFIG_TYPE_INT && t != CONFIG_TYPE_INT64) || config_setting_get_int64(e) < 0)
		return field_err(p, e, "%s: expected a non-negative integer", where);
	*v = (uint64_t)config_setting_get_int64(e);
	return 0;
}

/* seeds = [1, 2, 3];  or  seeds = { first = 1; count = 10; };  default: [0]. */
static int read_seeds(struct parser *p, config_t *cfg, struct xpu_study *st)
{
	config_setting_t *s = config_lookup(cfg, "seeds");
	if (!s) {
		st->seeds = calloc(1, sizeof(uint64_t));
		st->nseeds = 1;
		return st->seeds ? 0 : -ENOMEM;
	}
	if (config_setting_is_group(s)) {
		static const char *const known[] = {"first", "count", NULL};
		int rc = check_members(p, s, "seeds.", known);
		if (rc)
			return rc;
		config_setting_t *f = config_setting_get_member(s, "first");
		config_setting_t *c = config_setting_get_member(s, "count");
		uint64_t first = 0, count = 0;
		if (!c)
			return field_err(p, s, "seeds.count: missing");
		if ((f && (rc = read_seed(p, f, "seeds.first", &first))) ||
		    (rc = read_seed(p, c, "seeds.count", &count)))
			return rc;
		if (count < 1 || count > 100000)
			return field_err(p, c, "seeds.count: expected 1 to 100000");
		st->nseeds = (int)count;
		st->seeds = calloc(count, sizeof(uint64_t));
		if (!st->seeds)
			return -ENOMEM;
		for (uint64_t i = 0; i < count; i++)
			st->seeds[i] = first + i;
		return 0;
	}
	if (!is_seq(s) || config_setting_length(s) == 0)
		return field_err(p, s, "seeds: expected a list of integers or { first; count; }");
	st->nseeds = config_setting_length(s);
	st->seeds = calloc((size_t)st->nseeds, sizeof(uint64_t));
	if (!st->seeds)
		return -ENOMEM;
	for (int i = 0; i < st->nseeds; i++) {
		char where[32];
		snprintf(where, sizeof(where), "seeds[%d]", i);
		int rc = read_seed(p, config_setting_get_elem(s, i), where, &st->seeds[i]);
		if (rc)
			return rc;
		for (int j = 0; j < i; j++)
			if (st->seeds[j] == st->seeds[i])
				return field_err(p, s, "seeds[%d]: %llu is listed twice", i,
				                 (unsigned long long)st->seeds[i]);
	}
	return 0;
}

/* ---------------------------------------------------------------- policy sets */

static const char *const kind_keys[4] = {"sched", "mem", "power", "offload"};
static const char *const kind_defaults[4] = {"fifo", "lru", "performance", "local"};

/* One swept parameter: a policy kind, a key, and the values it takes. */
struct axis {
	int kind;
	const char *key;
	const config_setting_t *values; /* a scalar or a list of scalars */
};

static int axis_len(const struct axis *a)
{
	return is_seq(a->values) ? config_setting_length(a->values) : 1;
}

static const config_setting_t *axis_value(const struct axis *a, int i)
{
	return is_seq(a->values) ? config_setting_get_elem(a->values, i) : a->values;
}

static int valid_name(const char *s)
{
	if (!*s)
		return 0;
	for (; *s; s++)
		if (!(('a' <= *s && *s <= 'z') || ('A' <= *s && *s <= 'Z') ||
		      ('0' <= *s && *s <= '9') || *s == '-' || *s == '_' || *s == '.'))
			return 0;
	return 1;
}

static int add_variant(struct parser *p, struct xpu_study *st, const config_setting_t *ps,
                       const char *base, char *const spec[4], const struct axis *ax, int nax,
                       const int *pick)
{
	struct xpu_policy_set v = {0};
	char name[512], params[512], full[4][512];
	snprintf(name, sizeof(name), "%s", base);
	params[0] = 0;
	for (int k = 0; k < 4; k++)
		snprintf(full[k], sizeof(full[k]), "%s", spec[k]);
	for (int i = 0; i < nax; i++) {
		char val[128];
		scalar_text(axis_value(&ax[i], pick[i]), val, sizeof(val));
		char *f = full[ax[i].kind];
		snprintf(f + strlen(f), sizeof(full[0]) - strlen(f), "%s%s=%s",
		         strchr(spec[ax[i].kind], ':') || strchr(f, ':') ? "," : ":", ax[i].key,
		         val);
		snprintf(name + strlen(name), sizeof(name) - strlen(name), "%s%s=%s", i ? "," : "[",
		         ax[i].key, val);
		snprintf(params + strlen(params), sizeof(params) - strlen(params), "%s%s.%s=%s",
		         i ? ";" : "", kind_keys[ax[i].kind], ax[i].key, val);
	}
	if (nax)
		snprintf(name + strlen(name), sizeof(name) - strlen(name), "]");

	/* Check each spec as `xpuopt run` will, so that a bad name or parameter fails
	 * here with the file's line rather than in every case. */
	for (int k = 0; k < 4 && !(p->flags & XPU_STUDY_NO_POLICY_CHECK); k++) {
		struct xpu_spec sp;
		const void *ops;
		struct xpu_err e = {{0}};
		char what[64];
		snprintf(what, sizeof(what), "policies: %s.%s", base, kind_keys[k]);
		if (xpu_policy_resolve(k, full[k], what, &sp, &ops, &e))
			return field_err(p, ps, "%s", e.msg);
		xpu_spec_free(&sp);
	}
	for (int i = 0; i < st->nsets; i++)
		if (!strcmp(st->sets[i].name, name))
			return field_err(p, ps, "policies: set \"%s\" is defined twice", name);
	v.name = xstrdup(p, name);
	v.base = xstrdup(p, base);
	v.sched = xstrdup(p, full[0]);
	v.mem = xstrdup(p, full[1]);
	v.power = xstrdup(p, full[2]);
	v.offload = xstrdup(p, full[3]);
	v.params = xstrdup(p, params);
	st->sets[st->nsets++] = v;
	return p->oom ? -ENOMEM : 0;
}

static int read_set(struct parser *p, const config_setting_t *ps, int idx, struct xpu_study *st,
                    int *cap)
{
	static const char *const known[] = {"name",    "sched",  "mem",   "power",
	                                    "offload", "sweep",  "serve", "router",
	                                    "model",   "deploy", NULL};
	char where[64];
	snprintf(where, sizeof(where), "policies[%d].", idx);
	if (!config_setting_is_group(ps))
		return field_err(
		    p, ps, "policies[%d]: expected a group { name = ...; sched = ...; }", idx);
	int rc = check_members(p, ps, where, known);
	if (rc)
		return rc;
	const char *name = NULL, *spec[4];
	config_setting_t *n = config_setting_get_member(ps, "name");
	if (!n || !(name = config_setting_get_string(n)) || !valid_name(name))
		return field_err(p, n ? n : ps,
		                 "%sname: expected a name of letters, digits, '-', '_' or '.'",
		                 where);
	/* serve = "vllm"; router, model, deploy: a serving set (xpuopt run --serve) */
	static const char *const skeys[4] = {"serve", "router", "model", "deploy"};
	const char *sv[4] = {NULL, NULL, NULL, NULL};
	for (int k = 0; k < 4; k++) {
		config_setting_t *s = config_setting_get_member(ps, skeys[k]);
		if (s && (config_setting_type(s) != CONFIG_TYPE_STRING ||
		          !*(sv[k] = config_setting_get_string(s))))
			return field_err(p, s, "%s%s: expected a %s in quotes", where, skeys[k],
			                 k < 2    ? "policy spec"
			                 : k == 2 ? "model name"
			                          : "deployment");
		if (s && k > 0 && !config_setting_get_member(ps, "serve"))
			return field_err(p, s, "%s%s: only for a serving set (serve = \"vllm\")",
			                 where, skeys[k]);
	}
	if (sv[0]) {
		for (int k = 0; k < 4; k++)
			if (config_setting_get_member(ps, kind_keys[k]))
				return field_err(
				    p, config_setting_get_member(ps, kind_keys[k]),
				    "%s%s: a serving set (serve = ...) forms its own steps; "
				    "give sched, mem, power and offload to task sets only",
				    where, kind_keys[k]);
		if (config_setting_get_member(ps, "sweep"))
			return field_err(p, config_setting_get_member(ps, "sweep"),
			                 "%ssweep: not for serving sets (list one set per variant)",
			                 where);
		const char *router = sv[1] ? sv[1] : "round-robin";
		for (int k = 0; k < 2 && !(p->flags & XPU_STUDY_NO_POLICY_CHECK); k++) {
			struct xpu_spec sp;
			const void *ops;
			struct xpu_err e = {{0}};
			char what[64];
			snprintf(what, sizeof(what), "policies: %s.%s", name, skeys[k]);
			if (xpu_policy_resolve(k ? XPU_POLICY_ROUTER : XPU_POLICY_SERVE,
			                       k ? router : sv[0], what, &sp, &ops, &e))
				return field_err(p, config_setting_get_member(ps, skeys[k]), "%s",
				                 e.msg);
			xpu_spec_free(&sp);
		}
		for (int i = 0; i < st->nsets; i++)
			if (!strcmp(st->sets[i].name, name))
				return field_err(p, ps, "policies: set \"%s\" is defined twice",
				                 name);
		if (st->nsets + 1 > *cap) {
			int ncap = (st->nsets + 1) * 2;
			struct xpu_policy_set *ns = realloc(st->sets, sizeof(*ns) * ncap);
			if (!ns)
				return -ENOMEM;
			st->sets = ns;
			*cap = ncap;
		}
		struct xpu_policy_set v = {0};
		v.name = xstrdup(p, name);
		v.base = xstrdup(p, name);
		v.sched = xstrdup(p, sv[0]);
		v.mem = xstrdup(p, "paged");
		v.power = xstrdup(p, "performance");
		v.offload = xstrdup(p, "local");
		v.params = xstrdup(p, "");
		v.serve = xstrdup(p, sv[0]);
		v.router = xstrdup(p, router);
		v.model = xstrdup(p, sv[2] ? sv[2] : "llama-2-7b");
		v.deploy = sv[3] ? xstrdup(p, sv[3]) : NULL;
		st->sets[st->nsets++] = v;
		return p->oom ? -ENOMEM : 0;
	}
	for (int k = 0; k < 4; k++) {
		config_setting_t *s = config_setting_get_member(ps, kind_keys[k]);
		spec[k] = kind_defaults[k];
		if (s && (config_setting_type(s) != CONFIG_TYPE_STRING ||
		          !*(spec[k] = config_setting_get_string(s))))
			return field_err(p, s, "%s%s: expected a policy spec in quotes", where,
			                 kind_keys[k]);
	}

	/* sweep = { sched = { gamma = [1.0, 10.0]; }; power = { up = 0.8; }; }: the
	 * cartesian product of every listed value. */
	struct axis ax[16];
	int nax = 0;
	config_setting_t *sw = config_setting_get_member(ps, "sweep");
	if (sw) {
		static const char *const kinds[] = {"sched", "mem", "power", "offload", NULL};
		if (!config_setting_is_group(sw))
			return field_err(p, sw,
			                 "%ssweep: expected a group such as "
			                 "{ sched = { key = [ values ]; }; }",
			                 where);
		snprintf(where, sizeof(where), "policies[%d].sweep.", idx);
		if ((rc = check_members(p, sw, where, kinds)))
			return rc;
		for (int i = 0; i < config_setting_length(sw); i++) {
			config_setting_t *kg = config_setting_get_elem(sw, i);
			int kind = 0;
			while (strcmp(kind_keys[kind], config_setting_name(kg)))
				kind++;
			if (!config_setting_is_group(kg))
				return field_err(p, kg,
				                 "%s%s: expected a group of key = [ values ]",
				                 where, kind_keys[kind]);
			for (int j = 0; j < config_setting_length(kg); j++) {
				config_setting_t *v = config_setting_get_elem(kg, j);
				int ok = is_scalar(v);
				if (is_seq(v)) {
					ok = config_setting_length(v) > 0;
					for (int e = 0; ok && e < config_setting_length(v); e++)
						ok = is_scalar(config_setting_get_elem(v, e));
				}
				if (!ok)
					return field_err(p, v,
					                 "%s%s.%s: expected a value or a "
					                 "non-empty list of values",
					                 where, kind_keys[kind],
					                 config_setting_name(v));
				if (nax == 16)
					return field_err(p, v, "%s: at most 16 swept parameters",
					                 where);
				ax[nax++] = (struct axis){kind, config_setting_name(v), v};
			}
		}
	}
	long variants = 1;
	for (int i = 0; i < nax; i++) {
		variants *= axis_len(&ax[i]);
		if (variants > 10000)
			return field_err(p, sw, "%s: more than 10000 combinations", where);
	}
	if (st->nsets + variants > *cap) {
		int ncap = (int)(st->nsets + variants) * 2;
		struct xpu_policy_set *ns = realloc(st->sets, sizeof(*ns) * ncap);
		if (!ns)
			return -ENOMEM;
		st->sets = ns;
		*cap = ncap;
	}
	int pick[16] = {0};
	for (long v = 0; v < variants; v++) {
		long r = v;
		/* The last axis varies fastest, like nested loops in file order. */
		for (int i = nax - 1; i >= 0; i--) {
			pick[i] = (int)(r % axis_len(&ax[i]));
			r /= axis_len(&ax[i]);
		}
		if ((rc = add_variant(p, st, ps, name, (char *const *)spec, ax, nax, pick)))
			return rc;
	}
	return 0;
}

static int read_sets(struct parser *p, config_t *cfg, struct xpu_study *st)
{
	config_setting_t *s = config_lookup(cfg, "policies");
	if (!s)
		return xpu_errf(p->err, p->file, 0,
		                "policies: missing; expected a list of policy sets");
	if (config_setting_type(s) != CONFIG_TYPE_LIST || config_setting_length(s) == 0)
		return field_err(p, s, "policies: expected a non-empty list ( { ... }, { ... } )");
	int cap = 0;
	for (int i = 0; i < config_setting_length(s); i++) {
		int rc = read_set(p, config_setting_get_elem(s, i), i, st, &cap);
		if (rc)
			return rc;
	}
	return 0;
}

/* ---------------------------------------------------------------- the matrix */

/* File-name-safe stem of a path: its base name without the extension. */
static void stem(const char *path, char *buf, size_t n)
{
	const char *b = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	snprintf(buf, n, "%s", b);
	char *dot = strrchr(buf, '.');
	if (dot && dot != buf)
		*dot = 0;
}

static void safe(char *s)
{
	for (; *s; s++)
		if (!(('a' <= *s && *s <= 'z') || ('A' <= *s && *s <= 'Z') ||
		      ('0' <= *s && *s <= '9') || *s == '-' || *s == '_' || *s == '.' || *s == '='))
			*s = *s == '[' || *s == ',' ? '.' : '_';
}

/* Stems of a list; where two collide, each gets its index too. */
static void stems(char **paths, int n, char (*out)[128])
{
	for (int i = 0; i < n; i++) {
		stem(paths[i], out[i], 128);
		safe(out[i]);
	}
	for (int i = 0; i < n; i++) {
		int dup = 0;
		for (int j = 0; j < n; j++)
			dup |= j != i && !strcmp(out[i], out[j]);
		if (dup) {
			char b[128];
			stem(paths[i], b, sizeof(b));
			safe(b);
			snprintf(out[i], 128, "%.100s-%d", b, i);
		}
	}
}

static int expand(struct xpu_study *st)
{
	long total = (long)st->nplatforms * st->ntraces * st->nsets * st->nseeds;
	if (total > 1000000)
		return -E2BIG;
	st->cases = calloc((size_t)total, sizeof(*st->cases));
	char(*ps)[128] = calloc((size_t)st->nplatforms, 128);
	char(*ts)[128] = calloc((size_t)st->ntraces, 128);
	if (!st->cases || !ps || !ts) {
		free(ps);
		free(ts);
		return -ENOMEM;
	}
	stems(st->platforms, st->nplatforms, ps);
	stems(st->traces, st->ntraces, ts);
	int k = 0, rc = 0;
	for (int pi = 0; pi < st->nplatforms; pi++)
		for (int ti = 0; ti < st->ntraces; ti++)
			for (int si = 0; si < st->nsets; si++)
				for (int ei = 0; ei < st->nseeds; ei++) {
					struct xpu_study_case *c = &st->cases[k++];
					char set[512];
					snprintf(set, sizeof(set), "%s", st->sets[si].name);
					safe(set);
					size_t l = strlen(set);
					if (l && set[l - 1] == '_')
						set[l - 1] = 0;
					*c = (struct xpu_study_case){.platform = pi,
					                             .trace = ti,
					                             .set = si,
					                             .seed = st->seeds[ei]};
					c->id = xasprintf("%s.%s.%s.s%llu", ps[pi], ts[ti], set,
					                  (unsigned long long)st->seeds[ei]);
					c->result =
					    c->id ? xasprintf("%s/cases/%s.h5", st->outdir, c->id)
					          : NULL;
					c->log =
					    c->id ? xasprintf("%s/logs/%s.log", st->outdir, c->id)
					          : NULL;
					st->ncases = k;
					if (!c->id || !c->result || !c->log)
						rc = -ENOMEM;
				}
	free(ps);
	free(ts);
	return rc;
}

int xpu_study_load(const char *file, const char *outdir, int flags, struct xpu_study *st,
                   struct xpu_err *err)
{
	static const char *const known[] = {"name",  "description", "output", "platforms", "traces",
	                                    "seeds", "policies",    "tick",   NULL};
	struct parser p = {.file = file, .flags = flags, .err = err};
	config_t cfg;
	int rc;

	memset(st, 0, sizeof(*st));
	snprintf(p.dir, sizeof(p.dir), "%s", file);
	char *slash = strrchr(p.dir, '/');
	if (slash)
		*slash = 0;
	else
		snprintf(p.dir, sizeof(p.dir), ".");

	config_init(&cfg);
	if (access(file, R_OK)) {
		rc = xpu_errf(err, file, 0, "cannot read: %s", strerror(errno));
		goto out;
	}
	if (config_read_file(&cfg, file) != CONFIG_TRUE) {
		rc = xpu_errf(err, config_error_file(&cfg) ? config_error_file(&cfg) : file,
		              config_error_line(&cfg), "%s", config_error_text(&cfg));
		goto out;
	}
	config_setting_t *root = config_root_setting(&cfg);
	if ((rc = check_members(&p, root, "", known)))
		goto out;

	st->file = xstrdup(&p, file);
	const char *s = NULL;
	config_setting_t *n = config_lookup(&cfg, "name");
	if (n && (config_setting_type(n) != CONFIG_TYPE_STRING ||
	          !valid_name(s = config_setting_get_string(n)))) {
		rc = field_err(&p, n, "name: expected a name of letters, digits, '-', '_' or '.'");
		goto out;
	}
	if (!s) {
		char b[256];
		stem(file, b, sizeof(b));
		safe(b);
		st->name = xstrdup(&p, b);
	} else {
		st->name = xstrdup(&p, s);
	}

	config_setting_t *t = config_lookup(&cfg, "tick");
	if (t) {
		int ty = config_setting_type(t);
		st->tick = ty == CONFIG_TYPE_FLOAT ? config_setting_get_float(t)
		           : ty == CONFIG_TYPE_INT || ty == CONFIG_TYPE_INT64
		               ? (double)config_setting_get_int64(t)
		               : -1;
		if (!(st->tick > 0)) {
			rc = field_err(&p, t, "tick: expected a positive number of seconds");
			goto out;
		}
	}

	/* The output directory: the option, else the file's `output` (relative to the
	 * file), else NAME.study in the working directory. Stored absolute. */
	char cwd[PATH_MAX], o[PATH_MAX * 2 + 100];
	if (!getcwd(cwd, sizeof(cwd)))
		snprintf(cwd, sizeof(cwd), ".");
	config_setting_t *os = config_lookup(&cfg, "output");
	if (os &&
	    (config_setting_type(os) != CONFIG_TYPE_STRING || !*config_setting_get_string(os))) {
		rc = field_err(&p, os, "output: expected a directory name in quotes");
		goto out;
	}
	if (outdir)
		snprintf(o, sizeof(o), "%s%s%s", outdir[0] == '/' ? "" : cwd,
		         outdir[0] == '/' ? "" : "/", outdir);
	else if (os) {
		const char *v = config_setting_get_string(os);
		if (v[0] == '/')
			snprintf(o, sizeof(o), "%s", v);
		else if (p.dir[0] == '/')
			snprintf(o, sizeof(o), "%s/%s", p.dir, v);
		else
			snprintf(o, sizeof(o), "%.3000s/%.2000s/%.2000s", cwd, p.dir, v);
	} else
		snprintf(o, sizeof(o), "%.3000s/%.1000s.study", cwd, st->name);
	st->outdir = xstrdup(&p, o);

	if ((rc = read_paths(&p, &cfg, "platforms", &st->platforms, &st->nplatforms)) ||
	    (rc = read_paths(&p, &cfg, "traces", &st->traces, &st->ntraces)) ||
	    (rc = read_seeds(&p, &cfg, st)) || (rc = read_sets(&p, &cfg, st)))
		goto out;
	if (p.oom) {
		rc = -ENOMEM;
		goto out;
	}
	rc = expand(st);
	if (rc == -E2BIG)
		rc = xpu_errf(err, file, 0, "the matrix has more than a million cases");
	else if (rc == 0) {
		/* Distinct sets can still map to one file name ("a.b" and "a[b]"). */
		for (int i = 1; i < st->ncases && !rc; i++)
			for (int j = 0; j < i && !rc; j++)
				if (st->nsets > 1 && !strcmp(st->cases[i].id, st->cases[j].id))
					rc = xpu_errf(err, file, 0,
					              "cases \"%s\" of two policy sets share one "
					              "file name; rename a set",
					              st->cases[i].id);
	}
out:
	if (rc == -ENOMEM)
		xpu_errf(err, file, 0, "out of memory");
	if (rc)
		xpu_study_free(st);
	config_destroy(&cfg);
	return rc;
}

void xpu_study_free(struct xpu_study *st)
{
	for (int i = 0; i < st->nplatforms && st->platforms; i++)
		free(st->platforms[i]);
	for (int i = 0; i < st->ntraces && st->traces; i++)
		free(st->traces[i]);
	for (int i = 0; i < st->nsets; i++) {
		struct xpu_policy_set *s = &st->sets[i];
		free(s->name);
		free(s->base);
		free(s->sched);
		free(s->mem);
		free(s->power);
		free(s->offload);
		free(s->params);
		free(s->serve);
		free(s->router);
		free(s->model);
		free(s->deploy);
	}
	for (int i = 0; i < st->ncases; i++) {
		free(st->cases[i].id);
		free(st->cases[i].result);
		free(st->cases[i].log);
	}
	free(st->platforms);
	free(st->traces);
	free(st->sets);
	free(st->seeds);
	free(st->cases);
	free(st->file);
	free(st->name);
	free(st->outdir);
	memset(st, 0, sizeof(*st));
}

int xpu_study_case_done(const struct xpu_study_case *c)
{
	struct xpu_summary s;
	struct xpu_err e;
	if (access(c->result, R_OK))
		return 0;
	if (xpu_results_read_summary(c->result, &s, &e))
		return 0;
	int ok = s.n > 0;
	xpu_summary_clear(&s);
	return ok;
}

/* ---------------------------------------------------------------- the index */

void xpu_csv_field(FILE *out, const char *s)
{
	if (!strpbrk(s, ",\"\n\r")) {
		fputs(s, out);
		return;
	}
	fputc('"', out);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', out);
		fputc(*s, out);
	}
	fputc('"', out);
}

int xpu_csv_split(char *line, char **fields, int max)
{
	int n = 0;
	char *r = line, *w = line;
	while (n < max) {
		fields[n++] = w;
		if (*r == '"') {
			r++;
			while (*r && !(*r == '"' && r[1] != '"')) {
				if (*r == '"')
					r++;
				*w++ = *r++;
			}
			if (*r == '"')
				r++;
		} else {
			while (*r && *r != ',' && *r != '\n' && *r != '\r')
				*w++ = *r++;
		}
		int more = *r == ',';
		*w++ = 0;
		if (!more)
			break;
		r++;
	}
	return n;
}

#define INDEX_HEADER                                                                               \
	"id,platform,trace,policy_set,sched,mem,power,offload,params,seed,status,result"

int xpu_study_write_index(const struct xpu_study *st, const int *done, struct xpu_err *err)
{
	char *path = xasprintf("%s/index.csv", st->outdir);
	char *tmp = xasprintf("%s/index.csv.tmp-%ld", st->outdir, (long)getpid());
	FILE *f = path && tmp ? fopen(tmp, "w") : NULL;
	int rc = 0;
	if (!f) {
		rc = xpu_errf(err, path ? path : st->outdir, 0, "cannot write the index: %s",
		              strerror(errno));
		goto out;
	}
	fprintf(f, "%s\n", INDEX_HEADER);
	for (int i = 0; i < st->ncases; i++) {
		const struct xpu_study_case *c = &st->cases[i];
		const struct xpu_policy_set *s = &st->sets[c->set];
		const char *cols[] = {c->id,
		                      st->platforms[c->platform],
		                      st->traces[c->trace],
		                      s->name,
		                      s->sched,
		                      s->mem,
		                      s->power,
		                      s->offload,
		                      s->params};
		for (size_t k = 0; k < sizeof(cols) / sizeof(cols[0]); k++) {
			xpu_csv_field(f, cols[k]);
			fputc(',', f);
		}
		fprintf(f, "%llu,%s,", (unsigned long long)c->seed,
		        done[i] > 0   ? "done"
		        : done[i] < 0 ? "failed"
		                      : "missing");
		/* Relative to the index, so a study directory can be moved whole. */
		xpu_csv_field(f, c->result + strlen(st->outdir) + 1);
		fputc('\n', f);
	}
	if (fflush(f) || fsync(fileno(f)) || ferror(f)) {
		rc = xpu_errf(err, path, 0, "cannot write the index: %s", strerror(errno));
		fclose(f);
		unlink(tmp);
		goto out;
	}
	fclose(f);
	if (rename(tmp, path)) {
		rc = xpu_errf(err, path, 0, "cannot write the index: %s", strerror(errno));
		unlink(tmp);
	}
out:
	free(path);
	free(tmp);
	return rc;
}
