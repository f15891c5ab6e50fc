/* registry.c — the static tables of policies by name, and policy spec parsing. */
#include <dlfcn.h>
#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "registry.h"

const struct xpu_sched_ops *const xpu_sched_registry[] = {
    &xpu_sched_fifo,
    &xpu_sched_round_robin,
    &xpu_sched_least_loaded,
    &xpu_sched_heft,
    &xpu_sched_cpop,
    &xpu_sched_peft,
    &xpu_sched_mct,
    &xpu_sched_olb,
    &xpu_sched_minmin,
    &xpu_sched_maxmin,
    &xpu_sched_sufferage,
    &xpu_sched_dmda,
    &xpu_sched_dmdar,
    &xpu_sched_dmdas,
    &xpu_sched_ws,
    &xpu_sched_priority,
    &xpu_sched_random,
    &xpu_sched_edf,
    &xpu_sched_energy,
    &xpu_sched_fallback,
    &xpu_sched_fcfs,
    &xpu_sched_easy,
    &xpu_sched_conservative,
    &xpu_sched_thermal,
    NULL,
};
const struct xpu_mem_ops *const xpu_mem_registry[] = {
    &xpu_mem_lru,       &xpu_mem_lru_clean, &xpu_mem_belady,
    &xpu_mem_first_fit, &xpu_mem_best_fit,  &xpu_mem_buddy,
    &xpu_mem_tlsf,      &xpu_mem_caching,   NULL};
const struct xpu_power_ops *const xpu_power_registry[] = {
    &xpu_power_performance,
    &xpu_power_powersave,
    &xpu_power_userspace,
    &xpu_power_ondemand,
    &xpu_power_conservative,
    &xpu_power_schedutil,
    &xpu_power_powercap,
    &xpu_power_race_to_idle,
    &xpu_power_menu,
    &xpu_power_step_wise,
    &xpu_power_npu_mode,
    &xpu_power_ipa,
    NULL,
};
const struct xpu_offload_ops *const xpu_offload_registry[] = {&xpu_offload_local, NULL};
const struct xpu_serve_ops *const xpu_serve_registry[] = {&xpu_serve_vllm,      &xpu_serve_orca,
                                                          &xpu_serve_sarathi,   &xpu_serve_static,
                                                          &xpu_serve_splitwise, NULL};
const struct xpu_router_ops *const xpu_router_registry[] = {
    &xpu_router_round_robin, &xpu_router_least_outstanding, &xpu_router_jsq_tokens, &xpu_router_p2c,
    NULL};
const struct xpu_backend_ops *const xpu_backend_registry[] = {
    &xpu_backend_sim, &xpu_backend_cpu,      &xpu_backend_opencl,
    &xpu_backend_xrt, &xpu_backend_fallback, NULL};

/* What the registry needs of any ops table: its head. */
struct entry {
	const void *ops;
	const struct xpu_ops_head *head;
};

static int entry_at(int kind, int i, struct entry *e)
{
	const void *ops = NULL;
	switch (kind) {
	case XPU_POLICY_SCHED:
		ops = xpu_sched_registry[i];
		break;
	case XPU_POLICY_MEM:
		ops = xpu_mem_registry[i];
		break;
	case XPU_POLICY_POWER:
		ops = xpu_power_registry[i];
		break;
	case XPU_POLICY_OFFLOAD:
		ops = xpu_offload_registry[i];
		break;
	case XPU_POLICY_SERVE:
		ops = xpu_serve_registry[i];
		break;
	case XPU_POLICY_ROUTER:
		ops = xpu_router_registry[i];
		break;
	}
	if (!ops)
		return 0;
	/* every table opens with its head */
	*e = (struct entry){ops, ops};
	return 1;
}

/* The table versions this build knows, and the size of each version's table: a table
 * only grows at its end, so version v is the first size_of(kind, v) bytes. */
static int current_version(int kind)
{
	static const int v[] = {XPU_SCHED_VERSION,   XPU_MEM_VERSION,   XPU_POWER_VERSION,
	                        XPU_OFFLOAD_VERSION, XPU_SERVE_VERSION, XPU_ROUTER_VERSION};
	return kind >= 0 && kind < 6 ? v[kind] : 0;
}

static size_t size_of(int kind, int version)
{
	switch (kind) {
	case XPU_POLICY_SCHED:
		return version == 1   ? offsetof(struct xpu_sched_ops, on_inputs)
		       : version == 2 ? offsetof(struct xpu_sched_ops, on_unit_failed)
		                      : sizeof(struct xpu_sched_ops);
	case XPU_POLICY_MEM:
		return version == 1   ? offsetof(struct xpu_mem_ops, where)
		       : version == 2 ? offsetof(struct xpu_mem_ops, note)
		                      : sizeof(struct xpu_mem_ops);
	case XPU_POLICY_POWER:
		return version == 1 ? offsetof(struct xpu_power_ops, idle)
		                    : sizeof(struct xpu_power_ops);
	case XPU_POLICY_SERVE:
		return sizeof(struct xpu_serve_ops);
	case XPU_POLICY_ROUTER:
		return sizeof(struct xpu_router_ops);
	default:
		return sizeof(struct xpu_offload_ops);
	}
}

static const char *kind_label(int kind)
{
	static const char *const l[] = {"sched", "mem", "power", "offload", "serve", "router"};
	return kind >= 0 && kind < 6 ? l[kind] : "backend";
}

void xpu_spec_free(struct xpu_spec *spec)
{
	if (!spec)
		return;
	free(spec->text);
	free(spec->name);
	free(spec->params); /* keys and values point into name's buffer */
	free(spec->table);
	if (spec->dl)
		dlclose(spec->dl);
	memset(spec, 0, sizeof(*spec));
}

/* "name" or "name:k=v,k=v". Keys and values are cut in place from one copy. */
static int spec_parse(const char *text, const char *what, struct xpu_spec *spec,
                      struct xpu_err *err)
{
	memset(spec, 0, sizeof(*spec));
	spec->text = strdup(text);
	spec->name = strdup(text);
	if (!spec->text || !spec->name)
		return -ENOMEM;
	char *colon = strchr(spec->name, ':');
	if (colon) {
		*colon = '\0';
		char *p = colon + 1;
		if (!*p)
			return xpu_errf(err, NULL, 0,
			                "%s '%s': expected parameters as key=value after ':', got "
			                "nothing",
			                what, text);
		int cap = 1;
		for (char *q = p; *q; q++)
			cap += *q == ',';
		spec->params = calloc((size_t)cap, sizeof(*spec->params));
		if (!spec->params)
			return -ENOMEM;
		while (p && *p) {
			char *next = strchr(p, ',');
			if (next)
				*next++ = '\0';
			char *eq = strchr(p, '=');
			if (!eq || eq == p || !eq[1])
				return xpu_errf(
				    err, NULL, 0,
				    "%s '%s': expected parameters as key=value, got \"%s\"", what,
				    text, p);
			*eq = '\0';
			for (int i = 0; i < spec->nparams; i++)
				if (!strcmp(spec->params[i].key, p))
					return xpu_errf(err, NULL, 0,
					                "%s '%s': parameter '%s' is given twice",
					                what, text, p);
			spec->params[spec->nparams++] = (struct xpu_param){p, eq + 1};
			p = next;
		}
	}
	if (!spec->name[0])
		return xpu_errf(err, NULL, 0, "%s: expected a policy name, got \"%s\"", what, text);
	return 0;
}

static void names_into(int kind, char *buf, size_t n)
{
	struct entry e;
	size_t off = 0;
	buf[0] = '\0';
	for (int i = 0; entry_at(kind, i, &e) && off < n; i++)
		off += (size_t)snprintf(buf + off, n - off, "%s%s", i ? ", " : "", e.head->name);
}

/* A policy from a shared object: the table its xpu_policy_export names, once its ABI,
 * kind and table version are checked. A table of an older version is copied into a
 * table of this build's version whose newer members stay NULL (the engine's defaults).
 * The object stays loaded until the spec is freed. */
static int load_shared(int kind, const char *what, struct xpu_spec *spec, struct entry *e,
                       struct xpu_err *err)
{
	spec->dl = dlopen(spec->name, RTLD_NOW | RTLD_LOCAL);
	if (!spec->dl)
		return xpu_errf(err, NULL, 0, "%s: cannot load policy %s: %s", what, spec->name,
		                dlerror());
	const struct xpu_policy_export *x = dlsym(spec->dl, "xpu_policy_export");
	if (!x)
		return xpu_errf(err, NULL, 0,
		                "%s: %s exports no xpu_policy_export; declare the table with "
		                "XPU_EXPORT_POLICY (engine/xpu.h)",
		                what, spec->name);
	if (x->abi_version != XPU_ABI_VERSION)
		return xpu_errf(err, NULL, 0,
		                "%s: %s was built against policy ABI %d, this xpuopt has ABI %d; "
		                "rebuild it against this version's xpu.h",
		                what, spec->name, x->abi_version, XPU_ABI_VERSION);
	if (x->kind != kind || !x->ops)
		return xpu_errf(err, NULL, 0, "%s: %s is a %s policy, not a %s policy", what,
		                spec->name, kind_label(x->kind), kind_label(kind));
	const struct xpu_ops_head *h = x->ops;
	int have = current_version(kind);
	if (h->version < 1)
		return xpu_errf(err, NULL, 0,
		                "%s: %s: its %s table has no version (head.version %d); set "
		                ".head.version to the kind's table version (engine/xpu.h)",
		                what, spec->name, kind_label(kind), h->version);
	if (h->version > have)
		return xpu_errf(err, NULL, 0,
		                "%s: %s has a %s table of version %d, newer than this xpuopt's "
		                "version %d; use a newer xpuopt or rebuild it against this "
		                "version's xpu.h",
		                what, spec->name, kind_label(kind), h->version, have);
	const void *ops = x->ops;
	if (h->version < have) {
		size_t old = size_of(kind, h->version), full = size_of(kind, have);
		spec->table = calloc(1, full);
		if (!spec->table)
			return -ENOMEM;
		memcpy(spec->table, x->ops, old);
		ops = spec->table;
	}
	*e = (struct entry){ops, ops};
	if (!e->head->name || !e->head->name[0])
		return xpu_errf(err, NULL, 0, "%s: %s: the policy table has no name", what,
		                spec->name);
	return 0;
}

/* Check one parameter's value against its spec. */
static int check_param(const char *what, int kind, const char *policy,
                       const struct xpu_param_spec *ps, const char *value, struct xpu_err *err)
{
	if (ps->type == XPU_PARAM_TEXT)
		return 0;
	if (ps->type == XPU_PARAM_WORD) {
		const char *h = ps->help ? ps->help : "";
		size_t words = strcspn(h, ":"), n = strlen(value);
		for (const char *w = h; w < h + words; w += strcspn(w, "|:") + 1)
			if (strcspn(w, "|:") == n && !strncmp(w, value, n))
				return 0;
		return xpu_errf(err, NULL, 0,
		                "%s: %s%s '%s': parameter '%s': expected one of %.*s, got \"%s\"",
		                what, kind_label(kind), kind >= 0 ? " policy" : "", policy,
		                ps->name, (int)words, h, value);
	}
	if (ps->type == XPU_PARAM_KIND || ps->type == XPU_PARAM_KINDS) {
		/* kinds are checked here, when the option is read, not by the policy
		 * once the run has started */
		char kinds[256] = "";
		for (int k = 0; k < XPU_KIND_COUNT; k++)
			snprintf(kinds + strlen(kinds), sizeof(kinds) - strlen(kinds), "%s%s",
			         k ? ", " : "", xpu_kind_name(k));
		unsigned seen = 0;
		const char *p = value;
		do {
			size_t n = ps->type == XPU_PARAM_KINDS ? strcspn(p, "/") : strlen(p);
			char one[32] = "";
			if (n < sizeof(one))
				memcpy(one, p, n), one[n] = 0;
			int k = n < sizeof(one) ? xpu_kind_parse(one) : -1;
			if (k < 0 || (seen >> k) & 1)
				return xpu_errf(
				    err, NULL, 0,
				    "%s: %s%s '%s': parameter '%s': expected %s (%s), got "
				    "\"%s\"%s",
				    what, kind_label(kind), kind >= 0 ? " policy" : "", policy,
				    ps->name,
				    ps->type == XPU_PARAM_KINDS
				        ? "unit kinds separated by '/', each once"
				        : "a unit kind",
				    kinds, value, k >= 0 ? " (a kind named twice)" : "");
			seen |= 1u << k;
			p += n;
		} while (ps->type == XPU_PARAM_KINDS && *p++ == '/');
		return 0;
	}
	char *end;
	errno = 0;
	double v = strtod(value, &end);
	int isnum = end != value && !*end && errno != ERANGE && isfinite(v) &&
	            !strpbrk(value, "xXnNiI"); /* no hex, nan or inf */
	const char *want = ps->type == XPU_PARAM_INT ? "a whole number" : "a number";
	if (!isnum || (ps->type == XPU_PARAM_INT && v != floor(v)) || v < ps->min || v > ps->max) {
		char range[96] = "";
		if (ps->max < 1e300)
			snprintf(range, sizeof(range), " from %.15g to %.15g", ps->min, ps->max);
		else if (ps->min > -1e300)
			snprintf(range, sizeof(range), " >= %.15g", ps->min);
		return xpu_errf(err, NULL, 0,
		                "%s: %s%s '%s': parameter '%s': expected %s%s, got \"%s\"", what,
		                kind_label(kind), kind >= 0 ? " policy" : "", policy, ps->name,
		                want, range, value);
	}
	return 0;
}

int xpu_policy_resolve(int kind, const char *text, const char *what, struct xpu_spec *spec,
                       const void **ops, struct xpu_err *err)
{
	int rc = spec_parse(text, what, spec, err);
	if (rc)
		goto fail;
	struct entry e;
	int found = 0;
	size_t len = strlen(spec->name);
	if (strchr(spec->name, '/') || (len > 3 && !strcmp(spec->name + len - 3, ".so"))) {
		if ((rc = load_shared(kind, what, spec, &e, err)))
			goto fail;
		found = 1;
	}
	for (int i = 0; !found && entry_at(kind, i, &e); i++)
		if (e.head->name && !strcmp(e.head->name, spec->name)) {
			found = 1;
			break;
		}
	if (!found) {
		char names[512];
		names_into(kind, names, sizeof(names));
		rc = xpu_errf(err, NULL, 0, "%s: unknown %s policy \"%s\"; valid: %s", what,
		              kind_label(kind), spec->name, names);
		goto fail;
	}
	const struct xpu_param_spec *ps = e.head->params;
	for (int p = 0; p < spec->nparams; p++) {
		const struct xpu_param_spec *hit = NULL;
		for (int k = 0; ps && ps[k].name && !hit; k++)
			if (!strcmp(ps[k].name, spec->params[p].key))
				hit = &ps[k];
		if (hit) {
			if ((rc = check_param(what, kind, e.head->name, hit, spec->params[p].value,
			                      err)))
				goto fail;
			continue;
		}
		char valid[512] = "none";
		size_t off = 0;
		for (int k = 0; ps && ps[k].name && off < sizeof(valid); k++)
			off += (size_t)snprintf(valid + off, sizeof(valid) - off, "%s%s",
			                        k ? ", " : "", ps[k].name);
		rc = xpu_errf(err, NULL, 0, "%s: %s policy '%s' has no parameter \"%s\"; valid: %s",
		              what, kind_label(kind), e.head->name, spec->params[p].key, valid);
		goto fail;
	}
	*ops = e.ops;
	return 0;
fail:
	xpu_spec_free(spec);
	return rc;
}

static void list_params(const struct xpu_param_spec *ps, FILE *out);

void xpu_backend_list(FILE *out)
{
	for (int i = 0; xpu_backend_registry[i]; i++) {
		const struct xpu_ops_head *h = &xpu_backend_registry[i]->head;
		fprintf(out, "  %-14s %s\n", h->name, h->description ? h->description : "");
		list_params(h->params, out);
	}
}

void xpu_policy_list(int kind, FILE *out)
{
	struct entry e;
	for (int i = 0; entry_at(kind, i, &e); i++) {
		const struct xpu_ops_head *h = e.head;
		fprintf(out, "  %-14s %s\n", h->name, h->description ? h->description : "");
		list_params(h->params, out);
	}
}

static void list_params(const struct xpu_param_spec *ps, FILE *out)
{
	static const char *const type[] = {"number", "integer", "text", "kind", "kinds"};
	for (int k = 0; ps && ps[k].name; k++) {
		const struct xpu_param_spec *p = &ps[k];
		fprintf(out, "      %-10s %s", p->name,
		        p->type >= 0 && p->type < 5 ? type[p->type] : "?");
		int num = p->type == XPU_PARAM_NUMBER || p->type == XPU_PARAM_INT;
		if (num && p->max < 1e300)
			fprintf(out, " in [%g, %g]", p->min, p->max);
		else if (num)
			fprintf(out, " >= %g", p->min);
		fprintf(out, "%s%s\n", p->help ? ": " : "", p->help ? p->help : "");
	}
}

int xpu_backend_resolve(const char *text, struct xpu_spec *spec, const struct xpu_backend_ops **ops,
                        struct xpu_err *err)
{
	int rc = spec_parse(text, "--backend", spec, err);
	if (rc)
		goto fail;
	const struct xpu_backend_ops *b = NULL;
	for (int i = 0; xpu_backend_registry[i] && !b; i++)
		if (!strcmp(xpu_backend_registry[i]->head.name, spec->name))
			b = xpu_backend_registry[i];
	if (!b) {
		char names[256];
		size_t off = 0;
		names[0] = '\0';
		for (int i = 0; xpu_backend_registry[i] && off < sizeof(names); i++)
			off += (size_t)snprintf(names + off, sizeof(names) - off, "%s%s",
			                        i ? ", " : "", xpu_backend_registry[i]->head.name);
		rc = xpu_errf(err, NULL, 0, "--backend: unknown backend \"%s\"; valid: %s",
		              spec->name, names);
		goto fail;
	}
	const struct xpu_param_spec *ps = b->head.params;
	for (int p = 0; p < spec->nparams; p++) {
		const struct xpu_param_spec *hit = NULL;
		for (int k = 0; ps && ps[k].name && !hit; k++)
			if (!strcmp(ps[k].name, spec->params[p].key))
				hit = &ps[k];
		if (!hit) {
			char valid[256] = "none";
			size_t off = 0;
			for (int k = 0; ps && ps[k].name && off < sizeof(valid); k++)
				off += (size_t)snprintf(valid + off, sizeof(valid) - off, "%s%s",
				                        k ? ", " : "", ps[k].name);
			rc = xpu_errf(err, NULL, 0,
			              "--backend: backend '%s' has no parameter \"%s\"; valid: %s",
			              b->head.name, spec->params[p].key, valid);
			goto fail;
		}
		if ((rc = check_param("--backend", -1, b->head.name, hit, spec->params[p].value,
		                      err)))
			goto fail;
	}
	*ops = b;
	return 0;
fail:
	xpu_spec_free(spec);
	return rc;
}
