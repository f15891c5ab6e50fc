/* reader.c — trace format registry: picks a reader by name or file extension. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "reader_impl.h"

/* Every reader this build has. A new format adds its ops here and its name to
 * xpu_trace_formats, in the same order; the first entry is the fallback for files
 * whose extension no reader claims. */
static const struct xpu_trace_reader_ops *const readers[] = {
    &xpu_trace_native,
};

#define NREADERS (sizeof(readers) / sizeof(readers[0]))

const char *const xpu_trace_formats[] = {"native", NULL};

static const struct xpu_trace_reader_ops *find_by_name(const char *name)
{
	for (size_t i = 0; i < NREADERS; i++)
		if (!strcmp(readers[i]->name, name))
			return readers[i];
	return NULL;
}

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

static int choose(const char *path, const char *format, const struct xpu_trace_reader_ops **ops,
                  int *guessed, struct xpu_err *err)
{
	*guessed = 0;
	if (format && strcmp(format, "auto")) {
		*ops = find_by_name(format);
		if (*ops)
			return 0;
		char list[256] = "";
		size_t n = 0;
		for (const char *const *f = xpu_trace_formats; *f && n < sizeof(list); f++)
			n += (size_t)snprintf(list + n, sizeof(list) - n, "%s, ", *f);
		return xpu_errf(err, NULL, 0, "unknown trace format \"%s\" (formats: %sauto)",
		                format, list);
	}
	*ops = find_by_extension(path);
	if (!*ops) {
		*ops = readers[0];
		*guessed = 1;
	}
	return 0;
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
	rc = ops->open(r, err);
	if (rc < 0) {
		free(r->path);
		free(r);
		return rc;
	}
	*out = r;
	return 0;
}

int xpu_trace_next(struct xpu_trace_reader *r, struct xpu_trace_rec *rec, struct xpu_err *err)
{
	return r->ops->next(r, rec, err);
}

void xpu_trace_close(struct xpu_trace_reader *r)
{
	if (!r)
		return;
	if (r->ops->close)
		r->ops->close(r);
	free(r->path);
	free(r);
}
