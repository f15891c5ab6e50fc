/* platform_lines.c — the line where each element of a platform file starts, so that
 * errors about a host or a link can name it. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "platform.h"

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
