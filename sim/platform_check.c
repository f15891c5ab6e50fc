/* platform_check.c — a platform file checked before SimGrid reads it.
 *
 * SimGrid 3.32 aborts the process, or crashes, on some malformed platforms instead of
 * reporting them (a host of 0 or -1 cores, thousands of nested zones), and names no line
 * for others (a second host of one name, a route through a link never declared). This
 * pass reads the file once, with a small tag scanner rather than an XML parser (SimGrid
 * keeps reporting what is malformed XML), and refuses those cases with
 * FILE:LINE: attribute 'X' of <ELEMENT id="ID">: expected ..., got "...".
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "platform.h"

/* Zones nest this deep at most: real platforms use a handful of levels, and SimGrid's
 * recursive routing overflows its stack on thousands. */
#define MAX_DEPTH 64
#define MAX_CORES 1000000
#define MAX_ATTRS 32

struct attr {
	const char *name, *value; /* value without quotes, NUL-terminated in the copy */
};

struct tag {
	char name[32];
	int line, closing, empty;
	int nattr;
	struct attr a[MAX_ATTRS];
};

/* Ids seen, for duplicates and references: an open-addressing set of (kind, id). */
struct idset {
	struct ident {
		char *id;
		int line;
	} * v;
	size_t cap, n;
};

static uint64_t hash_id(const char *s)
{
	uint64_t h = 1469598103934665603ULL; /* FNV-1a */
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

/* Line of an existing id, or 0 after adding it. -1 on no memory. */
static int idset_add(struct idset *s, const char *id, int line)
{
	if ((s->n + 1) * 2 > s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 256;
		struct ident *v = calloc(cap, sizeof(*v));
		if (!v)
			return -1;
		for (size_t i = 0; i < s->cap; i++)
			if (s->v[i].id) {
				size_t j = hash_id(s->v[i].id) & (cap - 1);
				while (v[j].id)
					j = (j + 1) & (cap - 1);
				v[j] = s->v[i];
			}
		free(s->v);
		s->v = v;
		s->cap = cap;
	}
	size_t j = hash_id(id) & (s->cap - 1);
	while (s->v[j].id) {
		if (!strcmp(s->v[j].id, id))
			return s->v[j].line;
		j = (j + 1) & (s->cap - 1);
	}
	s->v[j].id = strdup(id);
	if (!s->v[j].id)
		return -1;
	s->v[j].line = line;
	s->n++;
	return 0;
}

static int idset_has(const struct idset *s, const char *id)
{
	if (!s->cap)
		return 0;
	size_t j = hash_id(id) & (s->cap - 1);
	while (s->v[j].id) {
		if (!strcmp(s->v[j].id, id))
			return 1;
		j = (j + 1) & (s->cap - 1);
	}
	return 0;
}

static void idset_free(struct idset *s)
{
	for (size_t i = 0; i < s->cap; i++)
		free(s->v[i].id);
	free(s->v);
}

static const char *attr(const struct tag *t, const char *name)
{
	for (int i = 0; i < t->nattr; i++)
		if (!strcmp(t->a[i].name, name))
			return t->a[i].value;
	return NULL;
}

static int bad(struct xpu_err *err, const char *path, const struct tag *t, const char *name,
               const char *want, const char *got)
{
	const char *id = attr(t, "id");
	return xpu_errf(err, path, t->line,
	                "attribute '%s' of <%s%s%s%s>: expected %s, got \"%.80s\"", name, t->name,
	                id ? " id=\"" : "", id ? id : "", id ? "\"" : "", want, got);
}

/* "1Gf" or "2Gf,1Gf,500Mf": every entry a positive rate in flop/s. */
static int check_speeds(const char *v)
{
	char buf[256];
	size_t n = strlen(v);
	if (n == 0 || n >= sizeof(buf))
		return -1;
	memcpy(buf, v, n + 1);
	if (buf[0] == ',' || buf[n - 1] == ',' || strstr(buf, ",,"))
		return -1; /* an empty entry */
	for (char *save = NULL, *p = strtok_r(buf, ",", &save); p; p = strtok_r(NULL, ",", &save)) {
		while (isspace((unsigned char)*p))
			p++;
		char *e = p + strlen(p);
		while (e > p && isspace((unsigned char)e[-1]))
			*--e = '\0';
		double r;
		if (xpu_parse_rate(p, 'f', &r) || !(r > 0))
			return -1;
	}
	return 0;
}

/* How many comma-separated entries v has. */
static int count_entries(const char *v)
{
	int n = 1;
	for (; *v; v++)
		n += *v == ',';
	return n;
}

/* A whole number in [lo, hi], the whole of s. */
static int whole(const char *s, double lo, double hi)
{
	double d;
	const char *rest;
	return !xpu_parse_number(s, &d, &rest) && !*rest && d == floor(d) && d >= lo && d <= hi;
}

/* A cluster's radical: "0-99" or "1,3,5-7": numbers and ranges, ascending in a range,
 * at most MAX_RADICAL hosts in all. */
#define MAX_RADICAL 10000000
static int check_radical(const char *v)
{
	char buf[1024];
	size_t n = strlen(v);
	if (n == 0 || n >= sizeof(buf) || v[0] == ',' || v[n - 1] == ',' || strstr(v, ",,"))
		return -1;
	memcpy(buf, v, n + 1);
	double total = 0;
	for (char *save = NULL, *p = strtok_r(buf, ",", &save); p; p = strtok_r(NULL, ",", &save)) {
		char *dash = strchr(p + (*p == '-'), '-');
		if (dash)
			*dash = '\0';
		if (!whole(p, 0, 2147483647.0) || (dash && !whole(dash + 1, 0, 2147483647.0)))
			return -1;
		double a = atof(p), b = dash ? atof(dash + 1) : a;
		if (b < a)
			return -1;
		total += b - a + 1;
	}
	return total <= MAX_RADICAL ? 0 : -1;
}

/* The routing models of SimGrid 3.32 (any other aborts the process). */
static int routing_known(const char *v)
{
	static const char *const known[] = {"Full", "Floyd",   "Dijkstra", "DijkstraCache",
	                                    "None", "Vivaldi", "Cluster",  "Wifi"};
	for (size_t i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (!strcmp(v, known[i]))
			return 1;
	return 0;
}

/* A host or link must be the first of its name (SimGrid refuses a second one without
 * naming a line). */
static int first_of_name(const struct tag *t, struct idset *seen, const char *path,
                         struct xpu_err *err)
{
	const char *id = attr(t, "id");
	if (!id)
		return 0;
	int first = idset_add(seen, id, t->line);
	if (first < 0)
		return -ENOMEM;
	if (first > 0)
		return xpu_errf(
		    err, path, t->line,
		    "<%s id=\"%s\">: a second %s of that name (the first is on line %d)", t->name,
		    id, t->name, first);
	return 0;
}

static int check_tag(const struct tag *t, const char *path, struct idset *hosts,
                     struct idset *links, struct xpu_err *err)
{
	const char *v;
	double d;
	if ((!strcmp(t->name, "host") || !strcmp(t->name, "link") || !strcmp(t->name, "cluster")) &&
	    (v = attr(t, "state_file")))
		return bad(err, path, t, "state_file",
		           "no SimGrid state profile: SimGrid would turn the resource off under "
		           "xpuopt's feet; give a unit's failures as <prop id=\"xpu.availability\" "
		           "value=\"FILE\"/> (same format) or xpu.mtbf and xpu.mttr "
		           "(platforms/README.md, \"Unit failures\")",
		           v);
	if (!strcmp(t->name, "host") || !strcmp(t->name, "cluster")) {
		int rc = strcmp(t->name, "host") ? 0 : first_of_name(t, hosts, path, err);
		if (rc)
			return rc;
		if ((v = attr(t, "core"))) {
			const char *rest;
			if (xpu_parse_number(v, &d, &rest) || *rest || d != floor(d) || d < 1 ||
			    d > MAX_CORES)
				return bad(err, path, t, "core",
				           "a whole number of cores from 1 to 1000000", v);
		}
		if ((v = attr(t, "speed")) && check_speeds(v))
			return bad(err, path, t, "speed",
			           "positive flop rates such as 1Gf or 2Gf,1Gf (decimal, with a "
			           "unit f, kf, Mf, Gf, Tf, Pf or Ef)",
			           v);
		const char *sp = attr(t, "speed");
		int nspeeds = sp ? count_entries(sp) : 1;
		if ((v = attr(t, "pstate")) && !whole(v, 0, nspeeds - 1)) {
			char want[96];
			snprintf(want, sizeof(want), "a P-state index from 0 to %d (one per speed)",
			         nspeeds - 1);
			return bad(err, path, t, "pstate", want, v);
		}
		if (!strcmp(t->name, "cluster")) {
			if ((v = attr(t, "radical")) && check_radical(v))
				return bad(
				    err, path, t, "radical",
				    "host numbers and ranges such as 0-99 or 1,3,5-7 (at most "
				    "10000000 hosts)",
				    v);
			if ((v = attr(t, "bw")) && (xpu_parse_rate(v, 'B', &d) || !(d > 0)))
				return bad(err, path, t, "bw",
				           "a positive bandwidth such as 10Gbps", v);
			if ((v = attr(t, "lat")) && xpu_parse_seconds(v, &d))
				return bad(err, path, t, "lat",
				           "a non-negative duration such as 10us", v);
		}
	} else if (!strcmp(t->name, "zone") || !strcmp(t->name, "AS")) {
		if ((v = attr(t, "routing")) && !routing_known(v))
			return bad(err, path, t, "routing",
			           "one of Full, Floyd, Dijkstra, DijkstraCache, None, Vivaldi, "
			           "Cluster or Wifi",
			           v);
	} else if (!strcmp(t->name, "platform")) {
		if (!(v = attr(t, "version")))
			return xpu_errf(err, path, t->line,
			                "<platform>: attribute 'version' missing; expected "
			                "version=\"4.1\"");
		double ver;
		const char *rest;
		if (xpu_parse_number(v, &ver, &rest) || *rest || ver < 4 || ver >= 5)
			return bad(err, path, t, "version",
			           "4.1 (this SimGrid reads platform files of version 4.x; older "
			           "ones convert with SimGrid's simgrid_update_xml)",
			           v);
	} else if (!strcmp(t->name, "link")) {
		int rc = first_of_name(t, links, path, err);
		if (rc)
			return rc;
		if ((v = attr(t, "bandwidth")) && (xpu_parse_rate(v, 'B', &d) || !(d > 0)))
			return bad(err, path, t, "bandwidth",
			           "a positive bandwidth such as 1GBps or 10Gbps (a link of no "
			           "bandwidth carries nothing)",
			           v);
		if ((v = attr(t, "latency")) && xpu_parse_seconds(v, &d))
			return bad(err, path, t, "latency", "a non-negative duration such as 10us",
			           v);
	}
	return 0;
}

/* Parse the attributes of a tag from p (just past its name) into t, in place in the
 * text (values are NUL-terminated there). Returns the position after '>' or NULL when
 * the tag does not end (SimGrid reports that better). */
static char *parse_attrs(char *p, struct tag *t, int *line)
{
	for (;;) {
		while (isspace((unsigned char)*p)) {
			if (*p == '\n')
				(*line)++;
			p++;
		}
		if (!*p)
			return NULL;
		if (*p == '>')
			return p + 1;
		if (p[0] == '/' && p[1] == '>') {
			t->empty = 1;
			return p + 2;
		}
		char *name = p;
		while (*p && *p != '=' && !isspace((unsigned char)*p) && *p != '>' && *p != '/')
			p++;
		char *name_end = p;
		while (isspace((unsigned char)*p))
			p++;
		if (*p != '=') { /* not an attribute: leave the rest to SimGrid */
			if (!*p)
				return NULL;
			p++;
			continue;
		}
		p++;
		while (isspace((unsigned char)*p))
			p++;
		char q = *p;
		if (q != '"' && q != '\'')
			return NULL;
		char *val = ++p;
		while (*p && *p != q) {
			if (*p == '\n')
				(*line)++;
			p++;
		}
		if (!*p)
			return NULL;
		*name_end = '\0';
		*p++ = '\0';
		if (t->nattr < MAX_ATTRS)
			t->a[t->nattr++] = (struct attr){name, val};
	}
}

int xpu_platform_precheck(const char *path, struct xpu_err *err)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return 0; /* the caller reports an unreadable file */
	char *text = NULL;
	size_t len = 0, cap = 0;
	for (;;) {
		if (len + 65536 + 1 > cap) {
			size_t nc = cap ? 2 * cap : 1 << 20;
			char *nt = realloc(text, nc);
			if (!nt) {
				free(text);
				fclose(f);
				return -ENOMEM;
			}
			text = nt;
			cap = nc;
		}
		size_t r = fread(text + len, 1, 65536, f);
		len += r;
		if (r == 0)
			break;
	}
	fclose(f);
	text[len] = '\0';

	struct idset hosts = {0}, links = {0}, zones = {0}, props = {0};
	/* References checked once the whole file is read (a name may be declared after
	 * its use): links of routes, the ends of routes, zones of zone routes. */
	enum { REF_LINK, REF_POINT, REF_ZONE };
	struct ref {
		char *id;
		int line, kind;
		const char *tag, *attr;
	} *refs = NULL;
	size_t nrefs = 0, rcap = 0;
	int depth = 0, line = 1, rc = 0, generated = 0, doctype = 0;
	int owner_line = 0;
	char owner[160] = "";
	char *p = text;
	while (*p && !rc) {
		if (*p == '\n') {
			line++;
			p++;
			continue;
		}
		if (*p != '<') {
			p++;
			continue;
		}
		if (!strncmp(p, "<!--", 4) || !strncmp(p, "<![CDATA[", 9) || p[1] == '?' ||
		    p[1] == '!') {
			doctype |= !strncmp(p, "<!DOCTYPE", 9);
			const char *close = p[1] == '?'   ? "?>"
			                    : p[2] == '-' ? "-->"
			                    : p[2] == '[' ? "]]>"
			                                  : ">";
			char *e = strstr(p + 2, close);
			char *stop = e ? e + strlen(close) : p + strlen(p);
			for (; p < stop; p++)
				line += *p == '\n';
			continue;
		}
		struct tag t = {.line = line};
		p++;
		if (*p == '/') {
			t.closing = 1;
			p++;
		}
		size_t k = 0;
		while (*p && (isalnum((unsigned char)*p) || *p == '_' || *p == '-' || *p == ':')) {
			if (k + 1 < sizeof(t.name))
				t.name[k++] = *p;
			p++;
		}
		t.name[k] = '\0';
		int is_zone = !strcmp(t.name, "zone") || !strcmp(t.name, "AS");
		if (t.closing) {
			depth -= is_zone && depth > 0;
			char *gt = strchr(p, '>');
			if (!gt)
				break;
			p = gt + 1;
			continue;
		}
		char *next = parse_attrs(p, &t, &line);
		if (!next)
			break; /* malformed: SimGrid names it */
		p = next;
		if (!strcmp(t.name, "platform") && !doctype) {
			rc = xpu_errf(err, path, t.line,
			              "<platform>: expected <!DOCTYPE platform SYSTEM "
			              "\"https://simgrid.org/simgrid.dtd\"> before it (SimGrid's "
			              "parser requires it)");
			break;
		}
		if (is_zone && !t.empty && ++depth > MAX_DEPTH) {
			rc =
			    xpu_errf(err, path, t.line,
			             "<%s>: zones nested deeper than %d levels (a platform needs a "
			             "handful)",
			             t.name, MAX_DEPTH);
			break;
		}
		if (!strcmp(t.name, "cluster") || !strcmp(t.name, "cabinet"))
			generated = 1;
		const char *id = attr(&t, "id");
		if (strcmp(t.name, "prop")) {
			/* the element whose properties follow */
			owner_line = t.line;
			snprintf(owner, sizeof(owner), "<%s%s%.100s%s>", t.name, id ? " id=\"" : "",
			         id ? id : "", id ? "\"" : "");
		} else if (id) {
			char key[300];
			snprintf(key, sizeof(key), "%d\x01%.280s", owner_line, id);
			int first = idset_add(&props, key, t.line);
			if (first < 0) {
				rc = -ENOMEM;
				break;
			}
			if (first > 0) {
				rc = xpu_errf(
				    err, path, t.line,
				    "<prop id=\"%s\">: a second property of that name for %s "
				    "(the first is on line %d)",
				    id, owner, first);
				break;
			}
		}
		if (is_zone && id && idset_add(&zones, id, t.line) < 0) {
			rc = -ENOMEM;
			break;
		}
		if (!strcmp(t.name, "router") && id && idset_add(&hosts, id, t.line) < 0) {
			rc = -ENOMEM;
			break;
		}
		struct {
			const char *attr;
			int kind;
		} want[4];
		int nw = 0;
		if (!strcmp(t.name, "link_ctn"))
			want[nw++] = (typeof(want[0])){"id", REF_LINK};
		else if (!strcmp(t.name, "route")) {
			want[nw++] = (typeof(want[0])){"src", REF_POINT};
			want[nw++] = (typeof(want[0])){"dst", REF_POINT};
		} else if (!strcmp(t.name, "zoneRoute") || !strcmp(t.name, "ASroute")) {
			want[nw++] = (typeof(want[0])){"src", REF_ZONE};
			want[nw++] = (typeof(want[0])){"dst", REF_ZONE};
			want[nw++] = (typeof(want[0])){"gw_src", REF_POINT};
			want[nw++] = (typeof(want[0])){"gw_dst", REF_POINT};
		}
		for (int i = 0; i < nw && !rc; i++) {
			const char *v = attr(&t, want[i].attr);
			if (!v)
				continue;
			if (nrefs == rcap) {
				size_t nc = rcap ? 2 * rcap : 64;
				void *nr = realloc(refs, nc * sizeof(*refs));
				if (!nr) {
					rc = -ENOMEM;
					break;
				}
				refs = nr;
				rcap = nc;
			}
			const char *tag = !strcmp(t.name, "link_ctn") ? "link_ctn"
			                  : !strcmp(t.name, "route")  ? "route"
			                                              : "zoneRoute";
			refs[nrefs] =
			    (struct ref){strdup(v), t.line, want[i].kind, tag, want[i].attr};
			if (!refs[nrefs++].id)
				rc = -ENOMEM;
		}
		if (!rc && nw == 0)
			rc = check_tag(&t, path, &hosts, &links, err);
	}
	/* Names used but declared nowhere. A file with clusters is not checked: SimGrid
	 * names their hosts and links itself. */
	for (size_t i = 0; i < nrefs && !rc && !generated; i++) {
		const struct ref *r = &refs[i];
		if (r->kind == REF_LINK && !idset_has(&links, r->id))
			rc = xpu_errf(err, path, r->line,
			              "<link_ctn id=\"%s\">: no <link> of that name in the file",
			              r->id);
		else if (r->kind == REF_POINT && !idset_has(&hosts, r->id))
			rc = xpu_errf(
			    err, path, r->line,
			    "attribute '%s' of <%s>: no <host> or <router> named \"%.100s\" in "
			    "the file",
			    r->attr, r->tag, r->id);
		else if (r->kind == REF_ZONE && !idset_has(&zones, r->id))
			rc = xpu_errf(
			    err, path, r->line,
			    "attribute '%s' of <%s>: no <zone> named \"%.100s\" in the file",
			    r->attr, r->tag, r->id);
	}
	if (rc == -ENOMEM)
		xpu_errf(err, path, 0, "out of memory checking the platform");
	for (size_t i = 0; i < nrefs; i++)
		free(refs[i].id);
	free(refs);
	idset_free(&hosts);
	idset_free(&links);
	idset_free(&zones);
	idset_free(&props);
	free(text);
	return rc;
}
