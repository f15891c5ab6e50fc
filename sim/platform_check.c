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
		if (!strcmp(t->name, "cluster")) {
			if ((v = attr(t, "bw")) && (xpu_parse_rate(v, 'B', &d) || !(d > 0)))
				return bad(err, path, t, "bw",
				           "a positive bandwidth such as 10Gbps", v);
			if ((v = attr(t, "lat")) && xpu_parse_seconds(v, &d))
				return bad(err, path, t, "lat",
				           "a non-negative duration such as 10us", v);
		}
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

	struct idset hosts = {0}, links = {0};
	struct {
		char *id;
		int line;
	} *refs = NULL;
	size_t nrefs = 0, rcap = 0;
	int depth = 0, line = 1, rc = 0, generated = 0;
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
		if (!strcmp(t.name, "link_ctn")) {
			const char *id = attr(&t, "id");
			if (id) {
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
				refs[nrefs].id = strdup(id);
				refs[nrefs++].line = t.line;
			}
			continue;
		}
		rc = check_tag(&t, path, &hosts, &links, err);
	}
	/* A route through a link declared nowhere. Links may be declared after the routes
	 * naming them, so this waits for the whole file. A file with clusters is not
	 * checked: SimGrid names their links itself. */
	for (size_t i = 0; i < nrefs && !rc && !generated; i++)
		if (refs[i].id && !idset_has(&links, refs[i].id))
			rc = xpu_errf(err, path, refs[i].line,
			              "<link_ctn id=\"%s\">: no <link> of that name in the file",
			              refs[i].id);
	if (rc == -ENOMEM)
		xpu_errf(err, path, 0, "out of memory checking the platform");
	for (size_t i = 0; i < nrefs; i++)
		free(refs[i].id);
	free(refs);
	idset_free(&hosts);
	idset_free(&links);
	free(text);
	return rc;
}
