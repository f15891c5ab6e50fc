/* reader.c — trace format registry: picks a reader by name or file extension. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "nodes.h"
#include "reader_impl.h"

/* Every reader this build has. A new format adds its ops here and its name to
 * xpu_trace_formats, in the same order; the first entry is the fallback for files
 * whose extension no reader claims. */
static const struct xpu_trace_reader_ops *const readers[] = {
    &xpu_trace_native, &xpu_trace_swf,       &xpu_trace_stg,       &xpu_trace_alibaba_gpu,
    &xpu_trace_philly, &xpu_trace_azure_llm, &xpu_trace_wfcommons, &xpu_trace_vidur,
};

#define NREADERS (sizeof(readers) / sizeof(readers[0]))

const char *const xpu_trace_formats[] = {"native",    "swf",       "stg",   "alibaba-gpu", "philly",
                                         "azure-llm", "wfcommons", "vidur", NULL};

static int has_suffix(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);
	return n >= m && !strcasecmp(s + n - m, suffix);
}

/* The reader whose extension the path ends with; the longest match wins so that a
 * later ".gpu.csv" reader can take precedence over ".csv". */
static const struct xpu_trace_reader_ops *find_by_extension(const char *path)
{
	const struct xpu_trace_reader_ops *best = NULL;
	size_t best_len = 0;
	for (size_t i = 0; i < NREADERS; i++) {
		const char *const *ext = readers[i]->extensions;
		for (; ext && *ext; ext++) {
			size_t len = strlen(*ext);
			if (len > best_len && has_suffix(path, *ext)) {
				best = readers[i];
				best_len = len;
			}
		}
	}
	return best;
}

/* The first non-blank line of path (plain text only), for readers that recognise their
 * format by its header; "" when unreadable. */
static void first_line(const char *path, char *buf, size_t size)
{
	buf[0] = '\0';
	FILE *f = fopen(path, "r");
	if (!f)
		return;
	/* Blank lines before the header are skipped, within the first MiB: a file of NUL
	 * bytes (a sparse file) or of spaces is not read to its end. */
	long budget = 1 << 20;
	while (budget > 0 && fgets(buf, (int)size, f)) {
		budget -= (long)size;
		buf[strcspn(buf, "\r\n")] = '\0';
		const char *p = buf;
		if (!strncmp(p, "\xef\xbb\xbf", 3))
			memmove(buf, buf + 3, strlen(buf + 3) + 1);
		p = buf + strspn(buf, " \t");
		if (*p)
			break;
	}
	fclose(f);
}

/* format is "NAME" or "NAME:key=value,..."; only NAME is looked at here. */
static int choose(const char *path, const char *format, const struct xpu_trace_reader_ops **ops,
                  int *guessed, struct xpu_err *err)
{
	*guessed = 0;
	size_t nlen = format ? strcspn(format, ":") : 0;
	if (format && nlen && strncmp(format, "auto", nlen > 4 ? nlen : 4)) {
		*ops = NULL;
		for (size_t i = 0; i < NREADERS; i++)
			if (strlen(readers[i]->name) == nlen &&
			    !strncmp(readers[i]->name, format, nlen))
				*ops = readers[i];
		if (*ops)
			return 0;
		char list[256] = "";
		size_t n = 0;
		for (const char *const *f = xpu_trace_formats; *f && n < sizeof(list); f++)
			n += (size_t)snprintf(list + n, sizeof(list) - n, "%s, ", *f);
		return xpu_errf(err, NULL, 0, "unknown trace format \"%.*s\" (formats: %sauto)",
		                (int)nlen, format, list);
	}
	*ops = find_by_extension(path);
	if (!*ops) {
		*ops = readers[0];
		*guessed = 1;
		return 0;
	}
	/* Several formats are ".csv": a reader that recognises the header row takes the
	 * file, otherwise the extension's reader (native) does. */
	int sniffed = 0;
	char line[4096];
	for (size_t i = 0; i < NREADERS; i++) {
		const char *const *ext = readers[i]->extensions;
		if (!readers[i]->claims)
			continue;
		for (; ext && *ext; ext++)
			if (has_suffix(path, *ext))
				break;
		if (!ext || !*ext)
			continue;
		if (!sniffed++)
			first_line(path, line, sizeof(line));
		if (readers[i]->claims(line)) {
			*ops = readers[i];
			return 0;
		}
	}
	return 0;
}

/* Split the parameters of spec ("name:k=v,k=v") into r->param, checking each key
 * against the reader's list. */
static int parse_params(struct xpu_trace_reader *r, const char *spec, struct xpu_err *err)
{
	const char *colon = spec ? strchr(spec, ':') : NULL;
	if (!colon || !colon[1])
		return 0;
	r->spec = strdup(colon + 1);
	if (!r->spec)
		return -ENOMEM;
	int n = 1;
	for (const char *p = r->spec; *p; p++)
		n += *p == ',';
	r->param = calloc((size_t)n, sizeof(*r->param));
	if (!r->param)
		return -ENOMEM;
	char list[256] = "";
	size_t len = 0;
	for (const char *const *k = r->ops->params; k && *k && len < sizeof(list); k++)
		len +=
		    (size_t)snprintf(list + len, sizeof(list) - len, "%s%s", len ? ", " : "", *k);
	for (char *save, *p = strtok_r(r->spec, ",", &save); p; p = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(p, '=');
		if (!eq || eq == p)
			return xpu_errf(err, NULL, 0,
			                "trace format %s: expected key=value, got \"%s\"",
			                r->ops->name, p);
		*eq = '\0';
		const char *const *k = r->ops->params;
		while (k && *k && strcmp(*k, p))
			k++;
		if (!k || !*k)
			return xpu_errf(err, NULL, 0,
			                "trace format %s: unknown parameter '%s' (parameters: %s)",
			                r->ops->name, p, len ? list : "none");
		r->param[r->nparams++] = (struct xpu_param){p, eq + 1};
	}
	return 0;
}

static void reader_free(struct xpu_trace_reader *r)
{
	free(r->param);
	free(r->spec);
	free(r->path);
	free(r);
}

const char *xpu_trace_format_of(const char *path, const char *format)
{
	const struct xpu_trace_reader_ops *ops;
	int guessed;
	if (choose(path, format, &ops, &guessed, NULL) < 0)
		return NULL;
	return ops->name;
}

int xpu_trace_open(const char *path, const char *format, struct xpu_trace_reader **out,
                   struct xpu_err *err)
{
	const struct xpu_trace_reader_ops *ops;
	int guessed;
	*out = NULL;
	int rc = choose(path, format, &ops, &guessed, err);
	if (rc < 0)
		return rc;
	/* A node list reaches here as a ".csv" of no job format: say what it is. */
	if ((!format || !*format || !strncmp(format, "auto", 4)) && !strcmp(ops->name, "native") &&
	    xpu_nodes_sniff(path))
		return xpu_errf(err, path, 1,
		                "this is a cluster node list (machines, not jobs): give it as "
		                "--platform, or list it with 'xpuopt platform %s'",
		                path);

	struct xpu_trace_reader *r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->path = strdup(path);
	if (!r->path) {
		free(r);
		return -ENOMEM;
	}
	r->ops = ops;
	r->guessed = guessed;
	rc = parse_params(r, format, err);
	if (rc == 0)
		rc = ops->open(r, err);
	if (rc < 0) {
		reader_free(r);
		return rc;
	}
	*out = r;
	return 0;
}

int xpu_trace_next(struct xpu_trace_reader *r, struct xpu_trace_rec *rec, struct xpu_err *err)
{
	return r->ops->next(r, rec, err);
}

uint64_t xpu_trace_records(const struct xpu_trace_reader *r)
{
	return r->records;
}

double xpu_trace_logged_ref(const struct xpu_trace_reader *r, int *kind)
{
	*kind = r->ref_kind;
	return r->ref_auto;
}

void xpu_trace_close(struct xpu_trace_reader *r)
{
	if (!r)
		return;
	if (r->ops->close)
		r->ops->close(r);
	reader_free(r);
}

int xpu_trace_header(struct xpu_trace_reader *r, int i, const char **key, const char **value)
{
	if (!r->ops->header)
		return 0;
	return r->ops->header(r, i, key, value);
}
