/* registry.c — the static tables of policies by name, and policy spec parsing. */
#include <dlfcn.h>
#include <errno.h>
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
    &xpu_sched_ws,
    &xpu_sched_priority,
    &xpu_sched_random,
    &xpu_sched_edf,
    &xpu_sched_energy,
    &xpu_sched_fallback,
    &xpu_sched_fcfs,
    &xpu_sched_easy,
    &xpu_sched_conservative,
    NULL,
};
const struct xpu_mem_ops *const xpu_mem_registry[] = {&xpu_mem_first_fit, NULL};
const struct xpu_power_ops *const xpu_power_registry[] = {
    &xpu_power_performance,
    &xpu_power_powersave,
    NULL,
};
const struct xpu_offload_ops *const xpu_offload_registry[] = {&xpu_offload_local, NULL};

/* What the registry needs of any ops table: its name, description and params. */
struct entry {
	const void *ops;
	const char *name, *description;
	const char *const *params;
};

static int entry_at(int kind, int i, struct entry *e)
{
	switch (kind) {
	case XPU_POLICY_SCHED:
		if (!xpu_sched_registry[i])
			return 0;
		*e = (struct entry){xpu_sched_registry[i], xpu_sched_registry[i]->name,
		                    xpu_sched_registry[i]->description,
		                    xpu_sched_registry[i]->params};
		return 1;
	case XPU_POLICY_MEM:
		if (!xpu_mem_registry[i])
			return 0;
		*e = (struct entry){xpu_mem_registry[i], xpu_mem_registry[i]->name,
		                    xpu_mem_registry[i]->description, xpu_mem_registry[i]->params};
		return 1;
	case XPU_POLICY_POWER:
		if (!xpu_power_registry[i])
			return 0;
		*e = (struct entry){xpu_power_registry[i], xpu_power_registry[i]->name,
		                    xpu_power_registry[i]->description,
		                    xpu_power_registry[i]->params};
		return 1;
	case XPU_POLICY_OFFLOAD:
		if (!xpu_offload_registry[i])
			return 0;
		*e = (struct entry){xpu_offload_registry[i], xpu_offload_registry[i]->name,
		                    xpu_offload_registry[i]->description,
		                    xpu_offload_registry[i]->params};
		return 1;
	}
	return 0;
}

static const char *kind_label(int kind)
{
	static const char *const l[] = {"sched", "mem", "power", "offload"};
	return kind >= 0 && kind < 4 ? l[kind] : "?";
}

void xpu_spec_free(struct xpu_spec *spec)
{
	if (!spec)
		return;
	free(spec->text);
	free(spec->name);
	free(spec->params); /* keys and values point into name's buffer */
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
		off += (size_t)snprintf(buf + off, n - off, "%s%s", i ? ", " : "", e.name);
}

/* A policy from a shared object: the table its xpu_policy_export names, once its ABI
 * version and kind are checked. The object stays loaded until the spec is freed. */
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
		                "XPU_EXPORT_POLICY (core/xpu.h)",
		                what, spec->name);
	if (x->abi_version != XPU_ABI_VERSION)
		return xpu_errf(err, NULL, 0,
		                "%s: %s was built against policy ABI %d, this xpuopt has ABI %d; "
		                "rebuild it against this version's xpu.h",
		                what, spec->name, x->abi_version, XPU_ABI_VERSION);
	if (x->kind != kind || !x->ops)
		return xpu_errf(err, NULL, 0, "%s: %s is a %s policy, not a %s policy", what,
		                spec->name, kind_label(x->kind), kind_label(kind));
	/* Every table opens with name and description; params sit at the end of each. */
	switch (kind) {
	case XPU_POLICY_SCHED: {
		const struct xpu_sched_ops *o = x->ops;
		*e = (struct entry){o, o->name, o->description, o->params};
		break;
	}
	case XPU_POLICY_MEM: {
		const struct xpu_mem_ops *o = x->ops;
		*e = (struct entry){o, o->name, o->description, o->params};
		break;
	}
	case XPU_POLICY_POWER: {
		const struct xpu_power_ops *o = x->ops;
		*e = (struct entry){o, o->name, o->description, o->params};
		break;
	}
	default: {
		const struct xpu_offload_ops *o = x->ops;
		*e = (struct entry){o, o->name, o->description, o->params};
		break;
	}
	}
	if (!e->name || !e->name[0])
		return xpu_errf(err, NULL, 0, "%s: %s: the policy table has no name", what,
		                spec->name);
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
		if (!strcmp(e.name, spec->name)) {
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
	for (int p = 0; p < spec->nparams; p++) {
		int ok = 0;
		for (int k = 0; e.params && e.params[k]; k++)
			ok |= !strcmp(e.params[k], spec->params[p].key);
		if (ok)
			continue;
		char valid[512] = "none";
		size_t off = 0;
		for (int k = 0; e.params && e.params[k] && off < sizeof(valid); k++)
			off += (size_t)snprintf(valid + off, sizeof(valid) - off, "%s%s",
			                        k ? ", " : "", e.params[k]);
		rc = xpu_errf(err, NULL, 0, "%s: %s policy '%s' has no parameter \"%s\"; valid: %s",
		              what, kind_label(kind), e.name, spec->params[p].key, valid);
		goto fail;
	}
	*ops = e.ops;
	return 0;
fail:
	xpu_spec_free(spec);
	return rc;
}

void xpu_policy_list(int kind, FILE *out)
{
	struct entry e;
	for (int i = 0; entry_at(kind, i, &e); i++) {
		fprintf(out, "  %-14s %s", e.name, e.description ? e.description : "");
		if (e.params && e.params[0]) {
			fprintf(out, " (params:");
			for (int k = 0; e.params[k]; k++)
				fprintf(out, " %s", e.params[k]);
			fprintf(out, ")");
		}
		fputc('\n', out);
	}
}
