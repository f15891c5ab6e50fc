/* platform.c — builds the unit model from a backend's hosts: xpu.* properties, power
 * states, memory pools and routes, with errors that name the file, line and property. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "platform.h"

/* ------------------------------------------------------------------ the builder */

void xpu_platform_init(struct xpu_platform *pf, const char *path)
{
	memset(pf, 0, sizeof(*pf));
	pf->path = path ? strdup(path) : NULL;
}

/* Error about one property of one host, in the project's FILE:LINE: form. */
#define host_err(err, pf, line, host, fmt, ...)                                                    \
	xpu_errf(err, (pf)->path, line, "host '%s': " fmt, host, ##__VA_ARGS__)

static int find_pool(const struct xpu_platform *pf, const char *name)
{
	for (int i = 0; i < pf->npools; i++)
		if (!strcmp(pf->pools[i].name, name))
			return i;
	return -1;
}

static int add_pool(struct xpu_platform *pf, const char *name, double capacity)
{
	struct xpu_mempool *np = realloc(pf->pools, (size_t)(pf->npools + 1) * sizeof(*np));
	if (!np)
		return -ENOMEM;
	pf->pools = np;
	char *n = strdup(name);
	if (!n)
		return -ENOMEM;
	pf->pools[pf->npools] = (struct xpu_mempool){.name = n, .capacity = capacity};
	return pf->npools++;
}

/* Parses one P-state's "IDLE:FULL" or "IDLE:EPSILON:FULL" from s (up to end). With
 * two values SimGrid's host energy plugin takes epsilon = idle; we do the same. */
static int parse_watts(const char *s, const char *end, struct xpu_pstate *ps)
{
	double v[3];
	int n = 0;
	char buf[128];
	size_t len = (size_t)(end - s);
	if (len >= sizeof(buf))
		return -EINVAL;
	memcpy(buf, s, len);
	buf[len] = '\0';
	/* strtok_r skips empty fields ("1::2"); count colons first to refuse them. */
	int colons = 0;
	for (const char *q = buf; *q; q++)
		colons += *q == ':';
	char *save = NULL;
	for (char *tok = strtok_r(buf, ":", &save); tok; tok = strtok_r(NULL, ":", &save)) {
		const char *rest;
		/* Spaces may lead a number but not trail it: SimGrid's parser refuses
		 * "2 ", and it should meet no value here that it would then refuse. */
		if (n == 3 || xpu_parse_number(tok, &v[n], &rest) < 0 || v[n] < 0 || *rest)
			return -EINVAL;
		n++;
	}
	if ((n != 2 && n != 3) || colons != n - 1)
		return -EINVAL;
	ps->idle_w = v[0];
	ps->epsilon_w = n == 3 ? v[1] : v[0];
	ps->full_w = v[n - 1];
	return 0;
}

/* SimGrid's wattage_per_state: one IDLE[:EPSILON]:FULL group per P-state, groups
 * separated by commas (SimGrid user manual, "Energy plugin"). SimGrid aborts the whole
 * process on a count mismatch, so the count is checked here with a proper message. */
static int read_wattage(const struct xpu_platform *pf, const struct xpu_host_desc *h, int line,
                        struct xpu_pstate *ps, struct xpu_err *err)
{
	const char *w = h->prop(h->ctx, "wattage_per_state");
	if (!w)
		return 0;
	int count = 1;
	for (const char *q = w; *q; q++)
		count += *q == ',';
	if (count != h->npstates)
		return host_err(err, pf, line, h->name,
		                "property 'wattage_per_state': %d %s for %d P-state%s (one "
		                "IDLE:FULL or IDLE:EPSILON:FULL group per speed), got \"%s\"",
		                count, count == 1 ? "group" : "groups", h->npstates,
		                h->npstates == 1 ? "" : "s", w);
	const char *s = w;
	for (int i = 0; i < h->npstates; i++) {
		const char *e = strchr(s, ',');
		if (!e)
			e = s + strlen(s);
		if (parse_watts(s, e, &ps[i]) < 0)
			return host_err(
			    err, pf, line, h->name,
			    "property 'wattage_per_state': P-state %d: expected IDLE:FULL "
			    "or IDLE:EPSILON:FULL non-negative watts such as 20:95, got "
			    "\"%.*s\"",
			    i, (int)(e - s), s);
		s = *e ? e + 1 : e;
	}
	return 0;
}

static int read_class(const struct xpu_platform *pf, const struct xpu_host_desc *h, int line,
                      const char *key, const char *v, struct xpu_class_cap *cap,
                      struct xpu_err *err)
{
	const char *s = v;
	while (isspace((unsigned char)*s))
		s++;
	if (!strncmp(s, "unsupported", 11)) {
		const char *r = s + 11;
		while (isspace((unsigned char)*r))
			r++;
		if (!*r) {
			*cap = (struct xpu_class_cap){.supported = 0, .peak = 0, .efficiency = 1};
			return 0;
		}
	}
	char buf[128];
	const char *at = strchr(s, '@');
	size_t len = at ? (size_t)(at - s) : strlen(s);
	double rate, eff = 1;
	if (len >= sizeof(buf))
		goto bad;
	memcpy(buf, s, len);
	buf[len] = '\0';
	if (xpu_parse_rate(buf, 'f', &rate) < 0 || rate <= 0)
		goto bad;
	if (at) {
		const char *rest;
		if (xpu_parse_number(at + 1, &eff, &rest) < 0)
			goto bad;
		while (isspace((unsigned char)*rest))
			rest++;
		if (*rest)
			goto bad;
		if (!(eff > 0 && eff <= 1))
			return host_err(err, pf, line, h->name,
			                "property '%s': efficiency must be in (0, 1], got \"%s\"",
			                key, at + 1);
	}
	*cap = (struct xpu_class_cap){.supported = 1, .peak = rate, .efficiency = eff};
	return 0;
bad:
	return host_err(err, pf, line, h->name,
	                "property '%s': expected \"unsupported\", RATE or RATE@EFFICIENCY such "
	                "as 50Tf@0.7, got \"%s\"",
	                key, v);
}

static const char *const known_keys[] = {
    "xpu.kind",
    "xpu.mem",
    "xpu.mem.shared",
    "xpu.mem.bw",
    "xpu.launch",
    "xpu.wake",
    "xpu.idle",
    "xpu.modes",
    "xpu.fpga.reconfig",
    "xpu.soc.budget",
    "xpu.mtbf",
    "xpu.mttr",
    "xpu.availability",
    "xpu.thermal.r",
    "xpu.thermal.c",
    "xpu.thermal.ambient",
    "xpu.thermal.warning",
    "xpu.thermal.limit",
    "xpu.thermal.sink",
    "xpu.thermal.sink.r",
    "xpu.thermal.sink.c",
    NULL,
};

#define BITSTREAM_PREFIX "xpu.fpga.bitstream."

/* Every xpu.* property a unit names must be one we read: a misspelt key would
 * otherwise be ignored silently and the unit modelled with a default. */
static int check_keys(const struct xpu_platform *pf, const struct xpu_host_desc *h, int line,
                      struct xpu_err *err)
{
	if (!h->prop_name)
		return 0;
	const char *k;
	for (int i = 0; (k = h->prop_name(h->ctx, i)); i++) {
		if (strncmp(k, "xpu.", 4))
			continue;
		if (!strncmp(k, "xpu.class.", 10)) {
			if (xpu_class_parse(k + 10) < 0) {
				char names[256] = "";
				for (int c = 0; c < XPU_CLASS_COUNT; c++) {
					strcat(names, c ? ", " : "");
					strcat(names, xpu_class_name(c));
				}
				return host_err(err, pf, line, h->name,
				                "property '%s': unknown kernel class '%s' "
				                "(expected one of %s)",
				                k, k + 10, names);
			}
			continue;
		}
		if (!strncmp(k, "xpu.launch.", 11)) {
			if (xpu_class_parse(k + 11) < 0)
				return host_err(
				    err, pf, line, h->name,
				    "property '%s': unknown kernel class '%s' (expected "
				    "xpu.launch.CLASS with a class such as gemm, or "
				    "xpu.launch)",
				    k, k + 11);
			continue;
		}
		if (!strncmp(k, BITSTREAM_PREFIX, strlen(BITSTREAM_PREFIX))) {
			if (!k[strlen(BITSTREAM_PREFIX)])
				return host_err(err, pf, line, h->name,
				                "property '%s': expected a bitstream name after "
				                "'" BITSTREAM_PREFIX "'",
				                k);
			continue;
		}
		int ok = 0;
		for (const char *const *q = known_keys; *q && !ok; q++)
			ok = !strcmp(*q, k);
		if (!ok)
			return host_err(err, pf, line, h->name,
			                "unknown property '%s' (expected xpu.kind, xpu.mem, "
			                "xpu.mem.shared, xpu.mem.bw, xpu.launch, xpu.wake, "
			                "xpu.class.CLASS, xpu.fpga.reconfig, "
			                "xpu.fpga.bitstream.NAME, xpu.soc.budget, xpu.mtbf, "
			                "xpu.mttr, xpu.availability or xpu.thermal.*)",
			                k);
	}
	return 0;
}

static int read_seconds(const struct xpu_platform *pf, const struct xpu_host_desc *h, int line,
                        const char *key, double *out, struct xpu_err *err)
{
	const char *v = h->prop(h->ctx, key);
	*out = 0;
	if (v && xpu_parse_seconds(v, out) < 0)
		return host_err(err, pf, line, h->name,
		                "property '%s': expected a non-negative duration such as 5us, 2ms "
		                "or 0.1s, got \"%s\"",
		                key, v);
	return 0;
}

static void free_bitstreams(struct xpu_unit *u)
{
	for (int i = 0; i < u->nbitstreams; i++)
		free(u->bitstream_names[i]);
	free(u->bitstream_names);
	u->bitstream_names = NULL;
	u->nbitstreams = 0;
}

/* One xpu.fpga.bitstream.NAME = "CLASS,CLASS,...": the classes that bitstream
 * implements. A class lives in one bitstream only (the engine keeps one id per class),
 * and must be one the unit states a rate for, so that a bitstream never makes a class
 * runnable without a modeled speed. */
static int read_bitstream(const struct xpu_platform *pf, const struct xpu_host_desc *h, int line,
                          const char *key, struct xpu_unit *u, struct xpu_err *err)
{
	const char *v = h->prop(h->ctx, key);
	const char *name = key + strlen(BITSTREAM_PREFIX);
	int id = u->nbitstreams;
	char **nn = realloc(u->bitstream_names, (size_t)(id + 1) * sizeof(*nn));
	if (!nn)
		return -ENOMEM;
	u->bitstream_names = nn;
	if (!(nn[id] = strdup(name)))
		return -ENOMEM;
	u->nbitstreams++;
	int nclasses = 0;
	for (const char *s = v ? v : ""; *s;) {
		while (isspace((unsigned char)*s) || *s == ',')
			s++;
		if (!*s)
			break;
		const char *e = s;
		while (*e && *e != ',' && !isspace((unsigned char)*e))
			e++;
		char cls_name[64];
		int c = -1;
		if ((size_t)(e - s) < sizeof(cls_name)) {
			memcpy(cls_name, s, (size_t)(e - s));
			cls_name[e - s] = '\0';
			c = xpu_class_parse(cls_name);
		}
		if (c < 0)
			return host_err(err, pf, line, h->name,
			                "property '%s': unknown kernel class '%.*s' (expected a "
			                "comma-separated list of classes such as gemm,conv)",
			                key, (int)(e - s), s);
		if (!u->has_class_props || !u->cls[c].supported)
			return host_err(err, pf, line, h->name,
			                "property '%s': class '%s' has no rate on this unit (add "
			                "xpu.class.%s)",
			                key, cls_name, cls_name);
		if (u->bitstream[c] >= 0 && u->bitstream[c] != id)
			return host_err(
			    err, pf, line, h->name,
			    "property '%s': class '%s' is already provided by bitstream "
			    "'%s'",
			    key, cls_name, u->bitstream_names[u->bitstream[c]]);
		u->bitstream[c] = id;
		nclasses++;
		s = e;
	}
	if (!nclasses)
		return host_err(err, pf, line, h->name,
		                "property '%s': expected a comma-separated list of kernel classes, "
		                "got \"%s\"",
		                key, v ? v : "");
	return 0;
}

/* FPGA reconfiguration and bitstreams. Bitstreams are found by enumerating the
 * host's properties; SimGrid keeps them in a map, so ids follow the names' sorted
 * order, which the backend's enumeration gives. */
static int read_fpga(const struct xpu_platform *pf, const struct xpu_host_desc *h, int line,
                     struct xpu_unit *u, struct xpu_err *err)
{
	int rc = read_seconds(pf, h, line, "xpu.fpga.reconfig", &u->reconfig_time, err);
	if (rc < 0)
		return rc;
	int any = h->prop(h->ctx, "xpu.fpga.reconfig") != NULL;
	const char *k;
	for (int i = 0; h->prop_name && (k = h->prop_name(h->ctx, i)); i++) {
		if (strncmp(k, BITSTREAM_PREFIX, strlen(BITSTREAM_PREFIX)))
			continue;
		any = 1;
		if (u->kind != XPU_KIND_FPGA)
			break;
		if ((rc = read_bitstream(pf, h, line, k, u, err)) < 0) {
			if (rc == -ENOMEM)
				xpu_errf(err, pf->path, line, "host '%s': out of memory", h->name);
			return rc;
		}
	}
	if (any && u->kind != XPU_KIND_FPGA)
		return host_err(err, pf, line, h->name,
		                "xpu.fpga.* properties need xpu.kind fpga, got \"%s\"",
		                xpu_kind_name(u->kind));
	return 0;
}

/* xpu.soc.budget: watts, a positive number with an optional "W". */
/* xpu.idle: "NAME:EXIT:RESIDENCY:WATTS[:WAKE_J]" entries separated by ';', shallowest
 * first (each deeper state saves more: less power, a longer exit). Without it, xpu.wake
 * gives one gated-off state, "off": 0 W, exit latency xpu.wake, target residency three
 * times that (the ratio of Intel's C6 in Linux intel_idle: 133 us exit, 400 us
 * residency). */
static int read_idle(const struct xpu_platform *pf, const struct xpu_host_desc *h, int line,
                     struct xpu_unit *u, struct xpu_err *err)
{
	const char *v = h->prop(h->ctx, "xpu.idle");
	u->nidle = 0;
	u->idle_state = -1;
	if (!v) {
		if (u->wake_latency > 0) {
			u->nidle = 1;
			u->idle[0] =
			    (struct xpu_idle_state){.name = "off",
			                            .exit_latency = u->wake_latency,
			                            .target_residency = 3 * u->wake_latency};
		}
		return 0;
	}
	const char *p = v;
	while (*p) {
		if (u->nidle == XPU_MAX_IDLE)
			return host_err(err, pf, line, h->name,
			                "property 'xpu.idle': at most %d idle states, got more in "
			                "\"%s\"",
			                XPU_MAX_IDLE, v);
		size_t len = strcspn(p, ";");
		char entry[128], *f[5] = {0};
		int nf = 0;
		if (len >= sizeof(entry))
			goto bad;
		memcpy(entry, p, len);
		entry[len] = 0;
		for (char *q = entry, *tok; nf < 5 && (tok = strsep(&q, ":")) != NULL;)
			f[nf++] = tok;
		struct xpu_idle_state *st = &u->idle[u->nidle];
		*st = (struct xpu_idle_state){0};
		double w = 0;
		const char *rest = NULL;
		if (nf < 4 || nf > 5 || !f[0][0] || strlen(f[0]) >= sizeof(st->name) ||
		    xpu_parse_seconds(f[1], &st->exit_latency) < 0 ||
		    xpu_parse_seconds(f[2], &st->target_residency) < 0 ||
		    xpu_parse_number(f[3], &w, &rest) < 0 || !(w >= 0) ||
		    (*rest && strcmp(rest, "W")))
			goto bad;
		st->power_w = w;
		if (nf == 5 && (xpu_parse_number(f[4], &st->wake_j, &rest) < 0 ||
		                !(st->wake_j >= 0) || (*rest && strcmp(rest, "J"))))
			goto bad;
		snprintf(st->name, sizeof(st->name), "%s", f[0]);
		if (u->nidle > 0) {
			const struct xpu_idle_state *prev = &u->idle[u->nidle - 1];
			if (!(st->power_w < prev->power_w) || st->exit_latency < prev->exit_latency)
				return host_err(
				    err, pf, line, h->name,
				    "property 'xpu.idle': state '%s' must save more than '%s' "
				    "(less power, an exit at least as long): deeper states "
				    "come later",
				    st->name, prev->name);
		}
		u->nidle++;
		p += len;
		if (*p == ';')
			p++;
		if (*p == 0 && p[-1] == ';')
			goto bad;
	}
	if (u->nidle == 0)
		goto bad;
	return 0;
bad:
	return host_err(err, pf, line, h->name,
	                "property 'xpu.idle': expected NAME:EXIT:RESIDENCY:WATTS[:WAKE_J] "
	                "entries separated by ';' such as C1:2us:10us:8W;C6:133us:400us:1W, got "
	                "\"%s\"",
	                v);
}

/* xpu.modes: "NAME:PSTATE[;NAME:PSTATE...]", each name once, each P-state one of the
 * unit's (numbered as in the platform file, from 0). */
static int read_modes(const struct xpu_platform *pf, const struct xpu_host_desc *h, int line,
                      struct xpu_unit *u, struct xpu_err *err)
{
	const char *v = h->prop(h->ctx, "xpu.modes");
	u->nmodes = 0;
	if (!v)
		return 0;
	for (const char *p = v; *p;) {
		size_t len = strcspn(p, ";"), nl = strcspn(p, ":;");
		if (u->nmodes == XPU_MAX_IDLE || nl == 0 || nl >= sizeof(u->mode_name[0]) ||
		    nl >= len)
			goto bad;
		char num[32];
		size_t dl = len - nl - 1;
		if (dl == 0 || dl >= sizeof(num))
			goto bad;
		memcpy(num, p + nl + 1, dl);
		num[dl] = 0;
		char *end;
		long ps = strtol(num, &end, 10);
		if (*end || end == num || ps < 0)
			goto bad;
		if (ps >= u->npstates)
			return host_err(
			    err, pf, line, h->name,
			    "property 'xpu.modes': mode '%.*s' names P-state %ld, but the "
			    "unit has %d (0 to %d)",
			    (int)nl, p, ps, u->npstates, u->npstates - 1);
		memcpy(u->mode_name[u->nmodes], p, nl);
		u->mode_name[u->nmodes][nl] = 0;
		for (int k = 0; k < u->nmodes; k++)
			if (!strcmp(u->mode_name[k], u->mode_name[u->nmodes]))
				return host_err(err, pf, line, h->name,
				                "property 'xpu.modes': mode '%s' is named twice",
				                u->mode_name[k]);
		u->mode_pstate[u->nmodes++] = (int)ps;
		p += len;
		if (*p == ';' && !*++p)
			goto bad;
	}
	return 0;
bad:
	return host_err(err, pf, line, h->name,
	                "property 'xpu.modes': expected NAME:PSTATE entries separated by ';' "
	                "such as powersaver:2;balanced:1;performance:0, got \"%s\"",
	                v);
}

/* The thermal node: xpu.thermal.r (K/W) and xpu.thermal.c (J/K), both or neither,
 * positive; xpu.thermal.ambient (degrees C, default 25), .warning and .limit. */
static int read_thermal(const struct xpu_platform *pf, const struct xpu_host_desc *h, int line,
                        struct xpu_unit *u, struct xpu_err *err)
{
	static const struct {
		const char *key, *want;
		double lo, hi;
	} k[] = {
	    {"xpu.thermal.r", "a positive thermal resistance in K/W such as 0.5", 1e-12, 1e12},
	    {"xpu.thermal.c", "a positive heat capacity in J/K such as 20", 1e-12, 1e15},
	    {"xpu.thermal.ambient", "an ambient temperature in degrees C such as 25", -273.15, 1e4},
	    {"xpu.thermal.warning", "a temperature in degrees C such as 80", -273.15, 1e4},
	    {"xpu.thermal.limit", "a temperature in degrees C such as 85", -273.15, 1e4}};
	double v[5] = {0, 0, 25, NAN, NAN};
	int given[5] = {0};
	for (int i = 0; i < 5; i++) {
		const char *s = h->prop(h->ctx, k[i].key), *rest;
		if (!s)
			continue;
		if (xpu_parse_number(s, &v[i], &rest) < 0 || *rest || !(v[i] >= k[i].lo) ||
		    !(v[i] <= k[i].hi))
			return host_err(err, pf, line, h->name,
			                "property '%s': expected %s, got \"%s\"", k[i].key,
			                k[i].want, s);
		given[i] = 1;
	}
	if (given[0] != given[1])
		return host_err(err, pf, line, h->name,
		                "property '%s': given without '%s' (a thermal node needs both)",
		                given[0] ? "xpu.thermal.r" : "xpu.thermal.c",
		                given[0] ? "xpu.thermal.c" : "xpu.thermal.r");
	if (!given[0] && (given[2] || given[3] || given[4]))
		return host_err(err, pf, line, h->name,
		                "property 'xpu.thermal.%s': the unit has no thermal node (give "
		                "xpu.thermal.r and xpu.thermal.c)",
		                given[2]   ? "ambient"
		                : given[3] ? "warning"
		                           : "limit");
	if (given[3] && given[4] && v[3] > v[4])
		return host_err(err, pf, line, h->name,
		                "property 'xpu.thermal.warning': %g C is above the limit, %g C",
		                v[3], v[4]);
	u->th_r = v[0];
	u->th_c = v[1];
	u->th_ambient = v[2];
	u->th_warning = v[3];
	u->th_limit = v[4];
	/* a shared heat sink: its name, resistance to ambient and capacitance, the same on
	 * every unit that names it (checked once every unit is read) */
	const char *sink = h->prop(h->ctx, "xpu.thermal.sink");
	const char *sr = h->prop(h->ctx, "xpu.thermal.sink.r");
	const char *sc = h->prop(h->ctx, "xpu.thermal.sink.c");
	u->th_sink[0] = 0;
	if (!sink && !sr && !sc)
		return 0;
	if (!given[0])
		return host_err(err, pf, line, h->name,
		                "property 'xpu.thermal.sink': the unit has no thermal node (give "
		                "xpu.thermal.r, its resistance to the sink, and xpu.thermal.c)");
	if (!sink || !sr || !sc)
		return host_err(err, pf, line, h->name,
		                "property '%s': a heat sink needs xpu.thermal.sink (its name), "
		                "xpu.thermal.sink.r and xpu.thermal.sink.c",
		                !sink ? "xpu.thermal.sink"
		                : !sr ? "xpu.thermal.sink.r"
		                      : "xpu.thermal.sink.c");
	if (!*sink || strlen(sink) >= sizeof(u->th_sink))
		return host_err(err, pf, line, h->name,
		                "property 'xpu.thermal.sink': expected a name of 1 to %zu "
		                "characters, got \"%s\"",
		                sizeof(u->th_sink) - 1, sink);
	const char *rest;
	if (xpu_parse_number(sr, &u->th_sink_r, &rest) < 0 || *rest || !(u->th_sink_r >= 1e-12) ||
	    !(u->th_sink_r <= 1e12))
		return host_err(err, pf, line, h->name,
		                "property 'xpu.thermal.sink.r': expected a positive thermal "
		                "resistance in K/W such as 0.2, got \"%s\"",
		                sr);
	if (xpu_parse_number(sc, &u->th_sink_c, &rest) < 0 || *rest || !(u->th_sink_c >= 1e-12) ||
	    !(u->th_sink_c <= 1e15))
		return host_err(err, pf, line, h->name,
		                "property 'xpu.thermal.sink.c': expected a positive heat capacity "
		                "in J/K such as 200, got \"%s\"",
		                sc);
	snprintf(u->th_sink, sizeof(u->th_sink), "%s", sink);
	return 0;
}

static int read_budget(const struct xpu_platform *pf, const struct xpu_host_desc *h, int line,
                       struct xpu_unit *u, struct xpu_err *err)
{
	const char *v = h->prop(h->ctx, "xpu.soc.budget");
	if (!v)
		return 0;
	const char *rest;
	double w;
	if (xpu_parse_number(v, &w, &rest) < 0 || !(w > 0))
		goto bad;
	while (isspace((unsigned char)*rest))
		rest++;
	if (*rest == 'W')
		rest++;
	while (isspace((unsigned char)*rest))
		rest++;
	if (*rest)
		goto bad;
	u->soc_budget_w = w;
	return 0;
bad:
	return host_err(err, pf, line, h->name,
	                "property 'xpu.soc.budget': expected positive watts such as 12W, got "
	                "\"%s\"",
	                v);
}

int xpu_platform_add_host(struct xpu_platform *pf, const struct xpu_host_desc *h,
                          struct xpu_err *err)
{
	const char *kind_s = h->prop(h->ctx, "xpu.kind");
	int line = h->line;
	if (!kind_s) {
		/* Not a unit; its wattage is still checked, because SimGrid's energy
		 * plugin aborts the process on a malformed one. */
		if (h->npstates < 1 || !h->prop(h->ctx, "wattage_per_state"))
			return 1;
		struct xpu_pstate *tmp = calloc((size_t)h->npstates, sizeof(*tmp));
		if (!tmp)
			return -ENOMEM;
		int rc = read_wattage(pf, h, line, tmp, err);
		free(tmp);
		return rc < 0 ? rc : 1;
	}
	int kind = xpu_kind_parse(kind_s);
	if (kind < 0)
		return host_err(
		    err, pf, line, h->name,
		    "property 'xpu.kind': expected one of cpu, gpu, tpu, npu, lpu, fpga, "
		    "vpu, dsp, got \"%s\"",
		    kind_s);
	int rc = check_keys(pf, h, line, err);
	if (rc < 0)
		return rc;
	if (h->cores < 1)
		return host_err(err, pf, line, h->name,
		                "core count: expected a positive integer, got %d", h->cores);
	if (h->npstates < 1 || !h->speeds)
		return host_err(err, pf, line, h->name, "no speed given");
	for (int i = 0; i < h->npstates; i++)
		if (!(h->speeds[i] > 0) || !isfinite(h->speeds[i]))
			return host_err(
			    err, pf, line, h->name,
			    "speed of P-state %d: expected a positive flop rate such as "
			    "1Gf, got %g",
			    i, h->speeds[i]);

	struct xpu_unit u = {
	    .index = pf->nunits,
	    .kind = kind,
	    .cores = h->cores,
	    .npstates = h->npstates,
	    .pstate = 0,
	    .line = line,
	    .loaded_bitstream = -1,
	};
	for (int c = 0; c < XPU_CLASS_COUNT; c++)
		u.bitstream[c] = -1; /* no bitstreams unless the platform names them */

	double cap = 0;
	const char *v = h->prop(h->ctx, "xpu.mem");
	if (v && xpu_parse_bytes(v, &cap) < 0)
		return host_err(
		    err, pf, line, h->name,
		    "property 'xpu.mem': expected a byte size such as 16GiB, got \"%s\"", v);
	v = h->prop(h->ctx, "xpu.mem.bw");
	if (v && xpu_parse_rate(v, 'B', &u.mem_bw) < 0)
		return host_err(err, pf, line, h->name,
		                "property 'xpu.mem.bw': expected a bandwidth such as 100GBps, got "
		                "\"%s\"",
		                v);
	if ((rc = read_seconds(pf, h, line, "xpu.launch", &u.launch_latency, err)) < 0 ||
	    (rc = read_seconds(pf, h, line, "xpu.wake", &u.wake_latency, err)) < 0 ||
	    (rc = read_seconds(pf, h, line, "xpu.mtbf", &u.mtbf, err)) < 0 ||
	    (rc = read_seconds(pf, h, line, "xpu.mttr", &u.mttr, err)) < 0)
		return rc;
	/* failures: both rates or neither, positive, or a profile instead */
	const char *mtbf = h->prop(h->ctx, "xpu.mtbf"), *mttr = h->prop(h->ctx, "xpu.mttr");
	const char *profile = h->prop(h->ctx, "xpu.availability");
	if ((mtbf != NULL) != (mttr != NULL))
		return host_err(err, pf, line, h->name,
		                "property '%s': given without '%s' (a unit that fails needs both "
		                "the mean time between failures and the mean time to repair)",
		                mtbf ? "xpu.mtbf" : "xpu.mttr", mtbf ? "xpu.mttr" : "xpu.mtbf");
	if (mtbf && !(u.mtbf > 0))
		return host_err(err, pf, line, h->name,
		                "property 'xpu.mtbf': expected a positive duration such as 24h "
		                "or 86400s, got \"%s\"",
		                mtbf);
	if (mttr && !(u.mttr > 0))
		return host_err(err, pf, line, h->name,
		                "property 'xpu.mttr': expected a positive duration such as 30min "
		                "or 1800s, got \"%s\"",
		                mttr);
	if (profile && (mtbf || !*profile))
		return host_err(err, pf, line, h->name, "property 'xpu.availability': %s",
		                mtbf ? "give either a profile or xpu.mtbf and xpu.mttr, not both"
		                     : "expected a profile file name, got \"\"");

	/* Classes: naming any xpu.class.* makes the host a specialist, refusing the
	 * classes it does not name; naming none keeps it a generalist at its speed. */
	for (int c = 0; c < XPU_CLASS_COUNT; c++)
		u.cls[c] = (struct xpu_class_cap){.supported = 1, .peak = 0, .efficiency = 1};
	int named = 0;
	for (int c = 0; c < XPU_CLASS_COUNT; c++) {
		char key[64];
		snprintf(key, sizeof(key), "xpu.class.%s", xpu_class_name(c));
		v = h->prop(h->ctx, key);
		if (!v)
			continue;
		if (!named) {
			for (int k = 0; k < XPU_CLASS_COUNT; k++)
				u.cls[k].supported = 0;
			named = 1;
		}
		if ((rc = read_class(pf, h, line, key, v, &u.cls[c], err)) < 0)
			return rc;
	}
	u.has_class_props = named;
	/* A class's own launch latency (xpu.launch.CLASS, as xpu.launch), measured by
	 * `xpuopt calibrate` per class: it replaces the unit's for that class. */
	for (int c = 0; c < XPU_CLASS_COUNT; c++) {
		char key[64];
		snprintf(key, sizeof(key), "xpu.launch.%s", xpu_class_name(c));
		if (!h->prop(h->ctx, key))
			continue;
		if ((rc = read_seconds(pf, h, line, key, &u.cls[c].launch, err)) < 0)
			return rc;
		u.cls[c].has_launch = 1;
	}
	if ((rc = read_budget(pf, h, line, &u, err)) < 0 ||
	    (rc = read_thermal(pf, h, line, &u, err)) < 0 ||
	    (rc = read_idle(pf, h, line, &u, err)) < 0 ||
	    (rc = read_modes(pf, h, line, &u, err)) < 0)
		return rc;

	/* Memory: a shared pool is found by name; pool names are unique, and a
	 * private pool takes its unit's name, so a shared name may not be a unit's. */
	const char *shared = h->prop(h->ctx, "xpu.mem.shared");
	int pool = -1;
	if (shared) {
		const char *q = shared;
		while (isspace((unsigned char)*q))
			q++;
		if (!*q)
			return host_err(err, pf, line, h->name,
			                "property 'xpu.mem.shared': expected the name of a shared "
			                "memory, got \"%s\"",
			                shared);
		if (xpu_platform_find_unit(pf, shared) >= 0 || !strcmp(shared, h->name))
			return host_err(err, pf, line, h->name,
			                "property 'xpu.mem.shared': \"%s\" is also a unit's name; "
			                "a unit's private memory has that name, pick another",
			                shared);
		pool = find_pool(pf, shared);
		if (pool >= 0) {
			double have = pf->pools[pool].capacity;
			if (cap > 0 && have > 0 && cap != have)
				return host_err(err, pf, line, h->name,
				                "property 'xpu.mem': shared memory '%s' has %.0f "
				                "bytes from another unit, got \"%s\" (%.0f bytes)",
				                shared, have, h->prop(h->ctx, "xpu.mem"), cap);
			if (cap > 0)
				pf->pools[pool].capacity = cap;
			/* One SoC, one budget: the units of a shared memory must agree. */
			for (int j = 0; j < pf->nunits; j++) {
				double b = pf->units[j].soc_budget_w;
				if (pf->units[j].mem_pool == pool && b > 0 && u.soc_budget_w > 0 &&
				    b != u.soc_budget_w)
					return host_err(err, pf, line, h->name,
					                "property 'xpu.soc.budget': unit '%s' of "
					                "shared memory '%s' gives %g W, got %g W",
					                pf->units[j].name, shared, b,
					                u.soc_budget_w);
			}
		}
	} else if (find_pool(pf, h->name) >= 0) {
		return host_err(err, pf, line, h->name,
		                "its private memory would be named '%s', which another unit uses "
		                "as its 'xpu.mem.shared'",
		                h->name);
	}

	if ((rc = read_fpga(pf, h, line, &u, err)) < 0)
		goto fail;
	u.name = strdup(h->name);
	u.pstates = calloc((size_t)h->npstates, sizeof(*u.pstates));
	if (profile)
		u.availability = strdup(profile);
	if (!u.name || !u.pstates || (profile && !u.availability))
		goto nomem;
	for (int i = 0; i < h->npstates; i++)
		u.pstates[i].speed = h->speeds[i];
	if ((rc = read_wattage(pf, h, line, u.pstates, err)) < 0)
		goto fail;

	if (pool < 0) {
		pool = add_pool(pf, shared ? shared : h->name, cap);
		if (pool < 0)
			goto nomem;
	}
	u.mem_pool = pool;

	if ((pf->nunits & (pf->nunits - 1)) == 0) {
		/* Grow at powers of two: amortised O(1) per host. */
		size_t nc = pf->nunits ? (size_t)pf->nunits * 2 : 4;
		struct xpu_unit *nu = realloc(pf->units, nc * sizeof(*nu));
		if (!nu)
			goto nomem;
		pf->units = nu;
	}
	pf->units[pf->nunits++] = u;
	return 0;
nomem:
	rc = -ENOMEM;
	xpu_errf(err, pf->path, line, "host '%s': out of memory", h->name);
fail:
	free(u.name);
	free(u.pstates);
	free(u.availability);
	free_bitstreams(&u);
	return rc;
}

/* The route cache: open addressing on the ordered pair, grown at half load. */
struct route_ent {
	uint64_t key; /* (src + 1) << 32 | (dst + 1); 0 = empty slot */
	double lat, bw;
};

struct xpu_route_cache {
	struct route_ent *slot;
	size_t cap, n; /* cap is a power of two */
};

static uint64_t route_key(int src, int dst)
{
	return ((uint64_t)(uint32_t)(src + 1) << 32) | (uint32_t)(dst + 1);
}

static size_t route_hash(uint64_t k, size_t cap)
{
	k ^= k >> 31;
	k *= 0x9e3779b97f4a7c15ULL;
	k ^= k >> 29;
	return (size_t)k & (cap - 1);
}

static struct route_ent *route_find(const struct xpu_route_cache *c, uint64_t k)
{
	if (!c || !c->cap)
		return NULL;
	for (size_t i = route_hash(k, c->cap);; i = (i + 1) & (c->cap - 1)) {
		if (c->slot[i].key == k)
			return &c->slot[i];
		if (!c->slot[i].key)
			return NULL;
	}
}

static int route_put(struct xpu_route_cache *c, uint64_t k, double lat, double bw)
{
	if ((c->n + 1) * 2 > c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 256;
		struct route_ent *s = calloc(cap, sizeof(*s));
		if (!s)
			return -ENOMEM;
		for (size_t i = 0; i < c->cap; i++)
			if (c->slot[i].key) {
				size_t j = route_hash(c->slot[i].key, cap);
				while (s[j].key)
					j = (j + 1) & (cap - 1);
				s[j] = c->slot[i];
			}
		free(c->slot);
		c->slot = s;
		c->cap = cap;
	}
	size_t i = route_hash(k, c->cap);
	while (c->slot[i].key && c->slot[i].key != k)
		i = (i + 1) & (c->cap - 1);
	if (!c->slot[i].key)
		c->n++;
	c->slot[i] = (struct route_ent){k, lat, bw > 0 ? bw : 0};
	return 0;
}

int xpu_platform_finish_units(struct xpu_platform *pf,
                              int (*route_fn)(void *ctx, int src, int dst, double *latency,
                                              double *bandwidth),
                              void *route_ctx)
{
	if (!pf->routes) {
		pf->routes = calloc(1, sizeof(*pf->routes));
		if (!pf->routes)
			return -ENOMEM;
	}
	pf->route_fn = route_fn;
	pf->route_ctx = route_ctx;
	return 0;
}

void xpu_platform_set_route(struct xpu_platform *pf, int src, int dst, double latency,
                            double bandwidth)
{
	if (!pf->routes || src < 0 || dst < 0 || src >= pf->nunits || dst >= pf->nunits)
		return;
	(void)route_put(pf->routes, route_key(src, dst), latency, bandwidth);
}

void xpu_platform_detach_routes(struct xpu_platform *pf)
{
	pf->route_fn = NULL;
	pf->route_ctx = NULL;
}

int xpu_platform_route(const struct xpu_platform *pf, int src, int dst, double *latency,
                       double *bandwidth)
{
	*latency = 0;
	*bandwidth = 0;
	if (src < 0 || dst < 0 || src >= pf->nunits || dst >= pf->nunits)
		return 0;
	if (src == dst || pf->units[src].mem_pool == pf->units[dst].mem_pool) {
		*bandwidth = INFINITY;
		return 1;
	}
	uint64_t k = route_key(src, dst);
	const struct route_ent *r = route_find(pf->routes, k);
	if (!r) {
		double lat = 0, bw = 0;
		if (pf->route_fn && pf->route_fn(pf->route_ctx, src, dst, &lat, &bw) != 0)
			bw = 0;
		if (!(bw > 0) || !isfinite(bw) || !(lat >= 0) || !isfinite(lat))
			lat = bw = 0;
		/* The cache is the platform's own memory, not part of its model: filling it
		 * does not change the platform a caller sees. */
		if (pf->routes)
			(void)route_put(pf->routes, k, lat, bw);
		*latency = lat;
		*bandwidth = bw;
		return bw > 0;
	}
	*latency = r->lat;
	*bandwidth = r->bw;
	return r->bw > 0;
}

int xpu_platform_check(const struct xpu_platform *pf, struct xpu_err *err)
{
	if (pf->nunits == 0)
		return xpu_errf(err, pf->path, 0,
		                "no unit: no host has an 'xpu.kind' property (see "
		                "platforms/README.md)");
	return 0;
}

void xpu_platform_free(struct xpu_platform *pf)
{
	if (!pf)
		return;
	for (int i = 0; i < pf->nunits; i++) {
		free(pf->units[i].name);
		free(pf->units[i].pstates);
		free(pf->units[i].availability);
		free_bitstreams(&pf->units[i]);
	}
	for (int i = 0; i < pf->npools; i++)
		free(pf->pools[i].name);
	free(pf->units);
	free(pf->pools);
	if (pf->routes)
		free(pf->routes->slot);
	free(pf->routes);
	free(pf->path);
	memset(pf, 0, sizeof(*pf));
}

double xpu_unit_launch(const struct xpu_unit *un, int cls)
{
	if (cls >= 0 && cls < XPU_CLASS_COUNT && un->cls[cls].has_launch)
		return un->cls[cls].launch;
	return un->launch_latency;
}

/* The unit model's rate for a class at a P-state (xpu.h). */
double xpu_unit_rate(const struct xpu_unit *un, int cls, int ps)
{
	double speed = un->pstates[ps].speed;
	if (!un->has_class_props)
		return speed;
	const struct xpu_class_cap *cap = &un->cls[cls];
	if (!cap->supported)
		return 0;
	double scale = speed / un->pstates[0].speed;
	return (cap->peak > 0 ? cap->peak * scale : speed) * cap->efficiency;
}

int xpu_platform_find_unit(const struct xpu_platform *pf, const char *name)
{
	for (int i = 0; i < pf->nunits; i++)
		if (!strcmp(pf->units[i].name, name))
			return i;
	return -1;
}
