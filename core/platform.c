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

/* ------------------------------------------------------------------ number parsing */

struct unit_suffix {
	const char *name;
	double scale;
};

/* Reads the number at the start of s into *v and points *rest past it. Only plain
 * decimal notation is taken ("1.5e9"): strtod would also accept "inf", "nan" and hex,
 * none of which is a sensible size, rate or duration in a platform file. */
static int parse_number(const char *s, double *v, const char **rest)
{
	while (isspace((unsigned char)*s))
		s++;
	if (!isdigit((unsigned char)*s) && *s != '.' && *s != '+' && *s != '-')
		return -EINVAL;
	char *end;
	errno = 0;
	double d = strtod(s, &end);
	if (end == s || errno == ERANGE || !isfinite(d))
		return -EINVAL;
	for (const char *q = s; q < end; q++)
		if (!strchr("0123456789.eE+-", *q))
			return -EINVAL;
	*v = d;
	*rest = end;
	return 0;
}

/* Parses "NUMBER[ ]SUFFIX" where SUFFIX is one of tab or empty (a bare number), the
 * whole string and nothing else. The value is multiplied by the suffix's scale, or
 * divided by it when divide is set: sub-units are exact that way ("5us" is 5 / 1e6,
 * the double nearest 5e-6, where 5 * 1e-6 is one bit off). Negative values are refused:
 * every quantity a platform gives (bytes, rates, durations) is non-negative. */
static int parse_with_suffix(const char *s, const struct unit_suffix *tab, int divide, double *out)
{
	double v;
	const char *p;
	if (!s || parse_number(s, &v, &p) < 0 || v < 0)
		return -EINVAL;
	while (*p == ' ' || *p == '\t')
		p++;
	size_t len = strlen(p);
	while (len > 0 && isspace((unsigned char)p[len - 1]))
		len--;
	double scale = 0;
	if (len == 0) {
		scale = 1;
	} else {
		for (const struct unit_suffix *u = tab; u->name; u++)
			if (strlen(u->name) == len && !memcmp(u->name, p, len)) {
				scale = u->scale;
				break;
			}
		if (scale == 0)
			return -EINVAL;
	}
	double r = divide ? v / scale : v * scale;
	if (!isfinite(r))
		return -EINVAL;
	*out = r;
	return 0;
}

/* Decimal prefixes are powers of 1000 and binary ones powers of 1024 (IEC 80000-13),
 * as in SimGrid's own unit parser. */
static const struct unit_suffix byte_units[] = {
    {"B", 1},
    {"kB", 1e3},
    {"KB", 1e3},
    {"MB", 1e6},
    {"GB", 1e9},
    {"TB", 1e12},
    {"PB", 1e15},
    {"KiB", 1024.0},
    {"MiB", 1048576.0},
    {"GiB", 1073741824.0},
    {"TiB", 1099511627776.0},
    {"PiB", 1125899906842624.0},
    {NULL, 0},
};

/* SimGrid writes flop rates as f, kf, Mf ... Ef; "flops" spellings are accepted too. */
static const struct unit_suffix flop_units[] = {
    {"f", 1},        {"kf", 1e3},      {"Mf", 1e6},      {"Gf", 1e9},      {"Tf", 1e12},
    {"Pf", 1e15},    {"Ef", 1e18},     {"flops", 1},     {"kflops", 1e3},  {"Mflops", 1e6},
    {"Gflops", 1e9}, {"Tflops", 1e12}, {"Pflops", 1e15}, {"Eflops", 1e18}, {NULL, 0},
};

/* Bytes per second, plus SimGrid's bit rates (bps = 1/8 byte per second) since link
 * and bus datasheets usually quote those. */
static const struct unit_suffix bw_units[] = {
    {"Bps", 1},
    {"kBps", 1e3},
    {"KBps", 1e3},
    {"MBps", 1e6},
    {"GBps", 1e9},
    {"TBps", 1e12},
    {"KiBps", 1024.0},
    {"MiBps", 1048576.0},
    {"GiBps", 1073741824.0},
    {"TiBps", 1099511627776.0},
    {"bps", 1 / 8.0},
    {"kbps", 1e3 / 8},
    {"Kbps", 1e3 / 8},
    {"Mbps", 1e6 / 8},
    {"Gbps", 1e9 / 8},
    {"Tbps", 1e12 / 8},
    {"Kibps", 1024.0 / 8},
    {"Mibps", 1048576.0 / 8},
    {"Gibps", 1073741824.0 / 8},
    {"Tibps", 1099511627776.0 / 8},
    {NULL, 0},
};

/* Divisors (see parse_with_suffix). */
static const struct unit_suffix time_units[] = {
    {"s", 1}, {"ms", 1e3}, {"us", 1e6}, {"ns", 1e9}, {"ps", 1e12}, {NULL, 0},
};

int xpu_parse_bytes(const char *s, double *out)
{
	return parse_with_suffix(s, byte_units, 0, out);
}

int xpu_parse_rate(const char *s, char family, double *out)
{
	if (family == 'f')
		return parse_with_suffix(s, flop_units, 0, out);
	if (family == 'B')
		return parse_with_suffix(s, bw_units, 0, out);
	return -EINVAL;
}

int xpu_parse_seconds(const char *s, double *out)
{
	return parse_with_suffix(s, time_units, 1, out);
}

/* ------------------------------------------------------------------ element lines */

/* Where each element with an id attribute starts in a platform file. SimGrid does not
 * tell where a host was declared, so errors about a host find its line here. The
 * index of the last file asked about is kept: a platform builder asks once per host,
 * and rescanning a large file each time would make loading quadratic. */
struct elem_pos {
	size_t elem_off, elem_len; /* element name, in the index's text */
	size_t id_off, id_len;     /* raw id value (entities are not decoded) */
	int line;
};

static struct {
	pthread_mutex_t lock;
	char *path;
	struct stat st;
	char *text;
	struct elem_pos *pos;
	size_t npos;
} lines_cache = {.lock = PTHREAD_MUTEX_INITIALIZER};

static const char *cache_text;

static int pos_cmp(const void *a, const void *b)
{
	const struct elem_pos *x = a, *y = b;
	size_t n = x->id_len < y->id_len ? x->id_len : y->id_len;
	int c = memcmp(cache_text + x->id_off, cache_text + y->id_off, n);
	if (c)
		return c;
	if (x->id_len != y->id_len)
		return x->id_len < y->id_len ? -1 : 1;
	n = x->elem_len < y->elem_len ? x->elem_len : y->elem_len;
	c = memcmp(cache_text + x->elem_off, cache_text + y->elem_off, n);
	if (c)
		return c;
	if (x->elem_len != y->elem_len)
		return x->elem_len < y->elem_len ? -1 : 1;
	return x->line - y->line; /* the first declaration wins */
}

static int is_name_char(char c)
{
	return isalnum((unsigned char)c) || c == '_' || c == '-' || c == ':' || c == '.';
}

/* Records every element's id and line. A small scanner rather than an XML parser: it
 * needs only tags, attributes, comments and CDATA, and it must not fail on a file that
 * SimGrid itself will reject with a better message. */
static int index_text(const char *t, struct elem_pos **out, size_t *nout)
{
	struct elem_pos *pos = NULL;
	size_t n = 0, cap = 0;
	int line = 1;
	const char *p = t;
	while (*p) {
		if (*p == '\n') {
			line++;
			p++;
		} else if (!strncmp(p, "<!--", 4) || !strncmp(p, "<![CDATA[", 9) ||
		           !strncmp(p, "<?", 2) || !strncmp(p, "<!", 2)) {
			const char *close = p[1] == '?'   ? "?>"
			                    : p[2] == '-' ? "-->"
			                    : p[2] == '[' ? "]]>"
			                                  : ">";
			const char *e = strstr(p + 2, close);
			const char *stop = e ? e + strlen(close) : p + strlen(p);
			for (; p < stop; p++)
				line += *p == '\n';
		} else if (*p == '<' && is_name_char(p[1])) {
			int tag_line = line;
			const char *name = ++p;
			while (is_name_char(*p))
				p++;
			size_t name_len = (size_t)(p - name);
			for (;;) {
				while (isspace((unsigned char)*p))
					line += *p++ == '\n';
				if (!*p || *p == '>' || *p == '/' || *p == '<')
					break;
				const char *an = p;
				while (is_name_char(*p))
					p++;
				size_t an_len = (size_t)(p - an);
				while (isspace((unsigned char)*p))
					line += *p++ == '\n';
				if (an_len == 0 || *p != '=')
					break;
				p++;
				while (isspace((unsigned char)*p))
					line += *p++ == '\n';
				if (*p != '"' && *p != '\'')
					break;
				char q = *p++;
				const char *v = p;
				while (*p && *p != q)
					line += *p++ == '\n';
				if (!*p)
					break;
				size_t v_len = (size_t)(p - v);
				p++;
				if (an_len == 2 && !memcmp(an, "id", 2)) {
					if (n == cap) {
						size_t nc = cap ? cap * 2 : 64;
						struct elem_pos *np =
						    realloc(pos, nc * sizeof(*np));
						if (!np) {
							free(pos);
							return -ENOMEM;
						}
						pos = np;
						cap = nc;
					}
					pos[n++] = (struct elem_pos){
					    .elem_off = (size_t)(name - t),
					    .elem_len = name_len,
					    .id_off = (size_t)(v - t),
					    .id_len = v_len,
					    .line = tag_line,
					};
				}
			}
		} else {
			p++;
		}
	}
	cache_text = t;
	if (n)
		qsort(pos, n, sizeof(*pos), pos_cmp);
	*out = pos;
	*nout = n;
	return 0;
}

static char *read_file(const char *path, struct stat *st)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	char *buf = NULL;
	if (fstat(fileno(f), st) == 0 && S_ISREG(st->st_mode)) {
		size_t size = (size_t)st->st_size;
		buf = malloc(size + 1);
		if (buf && fread(buf, 1, size, f) == size) {
			buf[size] = '\0';
		} else {
			free(buf);
			buf = NULL;
		}
	}
	fclose(f);
	return buf;
}

/* Makes the cache hold path's index; the caller holds the lock. */
static int cache_load(const char *path)
{
	struct stat st;
	if (stat(path, &st) < 0)
		return -errno;
	if (lines_cache.path && !strcmp(lines_cache.path, path) &&
	    lines_cache.st.st_ino == st.st_ino && lines_cache.st.st_dev == st.st_dev &&
	    lines_cache.st.st_size == st.st_size &&
	    lines_cache.st.st_mtim.tv_sec == st.st_mtim.tv_sec &&
	    lines_cache.st.st_mtim.tv_nsec == st.st_mtim.tv_nsec)
		return 0;
	char *text = read_file(path, &st);
	if (!text)
		return -EIO;
	struct elem_pos *pos;
	size_t n;
	char *p = strdup(path);
	if (!p || index_text(text, &pos, &n) < 0) {
		free(p);
		free(text);
		return -ENOMEM;
	}
	free(lines_cache.path);
	free(lines_cache.text);
	free(lines_cache.pos);
	lines_cache.path = p;
	lines_cache.st = st;
	lines_cache.text = text;
	lines_cache.pos = pos;
	lines_cache.npos = n;
	return 0;
}

int xpu_platform_element_line(const char *path, const char *element, const char *id)
{
	if (!path || !element || !id)
		return 0;
	int line = 0;
	pthread_mutex_lock(&lines_cache.lock);
	if (cache_load(path) == 0 && lines_cache.npos) {
		/* Binary search on (id, element); equal keys are ordered by line, so the
		 * leftmost match is the first declaration. */
		const char *t = lines_cache.text;
		size_t idl = strlen(id), el = strlen(element);
		size_t lo = 0, hi = lines_cache.npos;
		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;
			const struct elem_pos *e = &lines_cache.pos[mid];
			size_t n = e->id_len < idl ? e->id_len : idl;
			int c = memcmp(t + e->id_off, id, n);
			if (!c && e->id_len != idl)
				c = e->id_len < idl ? -1 : 1;
			if (!c) {
				n = e->elem_len < el ? e->elem_len : el;
				c = memcmp(t + e->elem_off, element, n);
				if (!c && e->elem_len != el)
					c = e->elem_len < el ? -1 : 1;
			}
			if (c < 0)
				lo = mid + 1;
			else
				hi = mid;
		}
		if (lo < lines_cache.npos) {
			const struct elem_pos *e = &lines_cache.pos[lo];
			if (e->id_len == idl && !memcmp(t + e->id_off, id, idl) &&
			    e->elem_len == el && !memcmp(t + e->elem_off, element, el))
				line = e->line;
		}
	}
	pthread_mutex_unlock(&lines_cache.lock);
	return line;
}

int xpu_platform_host_line(const char *path, const char *name)
{
	return xpu_platform_element_line(path, "host", name);
}

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
		if (n == 3 || parse_number(tok, &v[n], &rest) < 0 || v[n] < 0 || *rest)
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
		if (parse_number(at + 1, &eff, &rest) < 0)
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
    "xpu.kind", "xpu.mem",           "xpu.mem.shared", "xpu.mem.bw", "xpu.launch",
    "xpu.wake", "xpu.fpga.reconfig", "xpu.soc.budget", NULL,
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
			                "xpu.fpga.bitstream.NAME or xpu.soc.budget)",
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
static int read_budget(const struct xpu_platform *pf, const struct xpu_host_desc *h, int line,
                       struct xpu_unit *u, struct xpu_err *err)
{
	const char *v = h->prop(h->ctx, "xpu.soc.budget");
	if (!v)
		return 0;
	const char *rest;
	double w;
	if (parse_number(v, &w, &rest) < 0 || !(w > 0))
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
	int line = xpu_platform_host_line(pf->path, h->name);
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
	    (rc = read_seconds(pf, h, line, "xpu.wake", &u.wake_latency, err)) < 0)
		return rc;

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
	if ((rc = read_budget(pf, h, line, &u, err)) < 0)
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
	if (!u.name || !u.pstates)
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
	free_bitstreams(&u);
	return rc;
}

int xpu_platform_finish_units(struct xpu_platform *pf)
{
	size_t n = (size_t)pf->nunits, cells = n * n > 0 ? n * n : 1;
	free(pf->lat);
	free(pf->bw);
	pf->lat = calloc(cells, sizeof(double));
	pf->bw = calloc(cells, sizeof(double));
	if (!pf->lat || !pf->bw) {
		free(pf->lat);
		free(pf->bw);
		pf->lat = pf->bw = NULL;
		return -ENOMEM;
	}
	return 0;
}

void xpu_platform_set_route(struct xpu_platform *pf, int src, int dst, double latency,
                            double bandwidth)
{
	if (!pf->lat || src < 0 || dst < 0 || src >= pf->nunits || dst >= pf->nunits)
		return;
	size_t k = (size_t)src * (size_t)pf->nunits + (size_t)dst;
	pf->lat[k] = latency;
	pf->bw[k] = bandwidth > 0 ? bandwidth : 0;
}

int xpu_platform_check(const struct xpu_platform *pf, struct xpu_err *err)
{
	if (pf->nunits == 0)
		return xpu_errf(err, pf->path, 0,
		                "no unit: no host has an 'xpu.kind' property (see "
		                "platforms/README.md)");
	if (!pf->bw)
		return xpu_errf(err, pf->path, 0, "routes were not computed");
	int n = pf->nunits;
	for (int i = 0; i < n; i++)
		for (int j = 0; j < n; j++) {
			const struct xpu_unit *a = &pf->units[i], *b = &pf->units[j];
			if (i == j || a->mem_pool == b->mem_pool)
				continue;
			if (!(pf->bw[(size_t)i * n + j] > 0))
				return xpu_errf(
				    err, pf->path, a->line,
				    "host '%s' has no route to '%s' (units that do not "
				    "share memory need a <route> or <zoneRoute> between "
				    "them)",
				    a->name, b->name);
		}
	return 0;
}

void xpu_platform_free(struct xpu_platform *pf)
{
	if (!pf)
		return;
	for (int i = 0; i < pf->nunits; i++) {
		free(pf->units[i].name);
		free(pf->units[i].pstates);
		free_bitstreams(&pf->units[i]);
	}
	for (int i = 0; i < pf->npools; i++)
		free(pf->pools[i].name);
	free(pf->units);
	free(pf->pools);
	free(pf->lat);
	free(pf->bw);
	free(pf->path);
	memset(pf, 0, sizeof(*pf));
}

int xpu_platform_find_unit(const struct xpu_platform *pf, const char *name)
{
	for (int i = 0; i < pf->nunits; i++)
		if (!strcmp(pf->units[i].name, name))
			return i;
	return -1;
}
