/* failures.c — each unit's availability for simulated failures (see failures.h; the
 * engine's engine/failures.c draws and applies the schedule). */
#include <errno.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "failures.h"
#include "lineio.h"
#include "platform.h"

/* A profile's changes, at most: a year of changes every second is 3e7. */
#define MAX_CHANGES 50000000u

/* Read a state profile: "TIME VALUE" lines (VALUE 1 up, 0 down; TIME in seconds,
 * strictly increasing), '#' comments and blank lines, and at most one "LOOPAFTER
 * SECONDS" line (the profile starts over that long after its last change; SimGrid's
 * state profiles read the same way). */
static int read_profile(const char *path, struct profile *p, struct xpu_err *err)
{
	struct tr_lines l;
	int rc = tr_lines_open(&l, path, err);
	if (rc)
		return rc;
	size_t cap = 0;
	double loop = -1;
	while ((rc = tr_lines_next(&l, err)) == 1) {
		char *s = l.line;
		while (*s == ' ' || *s == '\t')
			s++;
		if (!*s || *s == '#')
			continue;
		char *f[3];
		int nf = tr_split(s, ' ', f, 2);
		if (nf != 2) {
			rc = xpu_errf(
			    err, path, l.lineno,
			    "expected \"TIME STATE\" (STATE 0 down or 1 up) or \"LOOPAFTER "
			    "SECONDS\", got %d field%s",
			    nf > 2 ? 3 : nf, nf == 1 ? "" : "s");
			break;
		}
		if (!strcmp(f[0], "LOOPAFTER")) {
			if (loop >= 0) {
				rc = xpu_errf(err, path, l.lineno, "LOOPAFTER given twice");
				break;
			}
			if (tr_parse_num(f[1], &loop) != TR_OK || !(loop > 0)) {
				rc = tr_bad(&l, err, "LOOPAFTER", "a positive number of seconds",
				            f[1], "");
				break;
			}
			continue;
		}
		if (loop >= 0) {
			rc = xpu_errf(err, path, l.lineno,
			              "a change after LOOPAFTER (it ends the profile)");
			break;
		}
		double t;
		if (tr_parse_num(f[0], &t) != TR_OK || t < 0) {
			rc = tr_bad(&l, err, "time", "a non-negative number of seconds", f[0], "");
			break;
		}
		if (p->n > 0 && !(t > p->at[p->n - 1])) {
			char want[96];
			snprintf(want, sizeof(want), "a time after the previous change's (%g s)",
			         p->at[p->n - 1]);
			rc = tr_bad(&l, err, "time", want, f[0], "");
			break;
		}
		if (strcmp(f[1], "0") && strcmp(f[1], "1")) {
			rc = tr_bad(&l, err, "state", "0 (down) or 1 (up)", f[1], "");
			break;
		}
		if (p->n == MAX_CHANGES) {
			rc = xpu_errf(err, path, l.lineno, "more than %u changes", MAX_CHANGES);
			break;
		}
		if (p->n == cap) {
			size_t nc = cap ? 2 * cap : 64;
			double *at = realloc(p->at, nc * sizeof(*at));
			if (at)
				p->at = at;
			uint8_t *up = realloc(p->up, nc * sizeof(*up));
			if (up)
				p->up = up;
			if (!at || !up) {
				rc = -ENOMEM;
				xpu_errf(err, path, l.lineno, "out of memory");
				break;
			}
			cap = nc;
		}
		p->at[p->n] = t;
		p->up[p->n++] = (uint8_t)(f[1][0] == '1');
	}
	if (rc == 0 && p->n == 0)
		rc = xpu_errf(err, path, l.lineno, "no change: expected lines \"TIME STATE\"");
	if (rc == 0 && loop > 0)
		p->period = p->at[p->n - 1] + loop;
	tr_lines_close(&l);
	return rc < 0 ? rc : 0;
}

/* The profile read from path, reading it once however many units name it. */
static int profile_of(struct xpu_failures *f, const char *path, struct profile **out,
                      struct xpu_err *err)
{
	for (int i = 0; i < f->nprofiles; i++)
		if (!strcmp(f->profiles[i].path, path)) {
			*out = &f->profiles[i];
			return 0;
		}
	struct profile *np = realloc(f->profiles, (size_t)(f->nprofiles + 1) * sizeof(*np));
	if (!np)
		return -ENOMEM;
	f->profiles = np;
	struct profile *p = &np[f->nprofiles];
	memset(p, 0, sizeof(*p));
	p->path = strdup(path);
	if (!p->path)
		return -ENOMEM;
	f->nprofiles++;
	*out = p;
	return read_profile(path, p, err);
}

/* 0 when path names a readable file, else -1 with errno set (EISDIR for a
 * directory). */
static int readable(const char *path)
{
	struct stat st;
	if (access(path, R_OK) || stat(path, &st))
		return -1;
	if (S_ISDIR(st.st_mode)) {
		errno = EISDIR;
		return -1;
	}
	return 0;
}

/* A platform's profile name, relative to the platform file's directory. */
static void beside(const char *platform, const char *name, char *out, size_t len)
{
	const char *slash = platform ? strrchr(platform, '/') : NULL;
	if (name[0] == '/' || !slash)
		snprintf(out, len, "%s", name);
	else
		snprintf(out, len, "%.*s/%s", (int)(slash - platform), platform, name);
}

static void set_profile(struct xpu_avail *a, const struct profile *p)
{
	*a = (struct xpu_avail){.at = p->at, .up = p->up, .n = p->n, .period = p->period};
}

int xpu_failures_build(const char *spec, const struct xpu_platform *pf, struct xpu_failures *f,
                       struct xpu_err *err)
{
	memset(f, 0, sizeof(*f));
	int n = pf->nunits;
	int any = 0, rc = 0;
	for (int u = 0; u < n; u++)
		any |= pf->units[u].mtbf > 0 || pf->units[u].availability;
	if (!any && !spec)
		return 0;
	if (spec && !strcmp(spec, "none"))
		return 0;
	f->avail = calloc((size_t)n + 1, sizeof(*f->avail));
	if (!f->avail)
		return -ENOMEM;
	/* the platform's own */
	for (int u = 0; u < n && !rc; u++) {
		const struct xpu_unit *un = &pf->units[u];
		if (un->mtbf > 0) {
			f->avail[u].mtbf = un->mtbf;
			f->avail[u].mttr = un->mttr;
		} else if (un->availability) {
			char path[PATH_MAX];
			struct profile *p;
			beside(pf->path, un->availability, path, sizeof(path));
			if (readable(path))
				rc = xpu_errf(err, pf->path, un->line,
				              "host '%s': property 'xpu.availability': cannot read "
				              "\"%s\": %s",
				              un->name, path, strerror(errno));
			else if (!(rc = profile_of(f, path, &p, err)))
				set_profile(&f->avail[u], p);
		}
	}
	/* the option's, over them */
	double mtbf = 0, mttr = 0;
	const char *profile = NULL;
	int kind = -1, unit = -1;
	char seen[8][8] = {{0}};
	int nseen = 0;
	char *copy = spec ? strdup(spec) : NULL;
	if (spec && !copy)
		rc = -ENOMEM;
	for (char *save = NULL, *kv = copy ? strtok_r(copy, ",", &save) : NULL; kv && !rc;
	     kv = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(kv, '=');
		if (!eq) {
			rc = xpu_errf(err, NULL, 0, "--failures: expected key=value, got \"%s\"",
			              kv);
			break;
		}
		*eq++ = '\0';
		for (int k = 0; k < nseen && !rc; k++)
			if (!strcmp(seen[k], kv))
				rc = xpu_errf(err, NULL, 0, "--failures: %s given twice", kv);
		if (rc)
			break;
		if (nseen < 8 && strlen(kv) < sizeof(seen[0]))
			strcpy(seen[nseen++], kv);
		if (!strcmp(kv, "mtbf") || !strcmp(kv, "mttr")) {
			double *v = kv[2] == 'b' ? &mtbf : &mttr;
			if (xpu_parse_seconds(eq, v) || !(*v > 0))
				rc =
				    xpu_errf(err, NULL, 0,
				             "--failures: %s: expected a positive duration such as "
				             "3600, 30min, 12h or 2d, got \"%s\"",
				             kv, eq);
		} else if (!strcmp(kv, "profile")) {
			if (!*eq)
				rc =
				    xpu_errf(err, NULL, 0,
				             "--failures: profile: expected a file name, got \"\"");
			profile = eq - copy + spec; /* the original text: copy is freed */
		} else if (!strcmp(kv, "kind")) {
			kind = xpu_kind_parse(eq);
			if (kind < 0)
				rc = xpu_errf(err, NULL, 0, "--failures: kind: unknown kind \"%s\"",
				              eq);
			else {
				int has = 0;
				for (int u = 0; u < n && !has; u++)
					has = pf->units[u].kind == kind;
				if (!has)
					rc = xpu_errf(
					    err, NULL, 0,
					    "--failures: kind=%s: the platform has no unit of "
					    "that kind",
					    eq);
			}
		} else if (!strcmp(kv, "unit")) {
			char *end;
			long v = strtol(eq, &end, 10);
			if (end != eq && !*end)
				unit = v >= 0 && v < n ? (int)v : -2;
			else
				unit = xpu_platform_find_unit(pf, eq);
			if (unit < 0)
				rc = xpu_errf(
				    err, NULL, 0,
				    "--failures: unit=%s: expected a unit index from 0 to %d or "
				    "a unit's name",
				    eq, n - 1);
		} else {
			rc = xpu_errf(
			    err, NULL, 0,
			    "--failures: unknown key \"%s\" (keys: mtbf, mttr, profile, kind, "
			    "unit; or 'none')",
			    kv);
		}
	}
	if (!rc && spec) {
		/* the profile's name ends at the next comma of the original */
		char *pname = NULL;
		if (profile) {
			size_t len = strcspn(profile, ",");
			pname = strndup(profile, len);
			if (!pname)
				rc = -ENOMEM;
		}
		if (!rc && (mtbf > 0) != (mttr > 0))
			rc =
			    xpu_errf(err, NULL, 0,
			             "--failures: %s given without %s (failures need both the mean "
			             "time between failures and the mean time to repair)",
			             mtbf > 0 ? "mtbf" : "mttr", mtbf > 0 ? "mttr" : "mtbf");
		else if (!rc && mtbf > 0 && pname)
			rc = xpu_errf(
			    err, NULL, 0,
			    "--failures: give either mtbf and mttr or a profile, not both");
		else if (!rc && !(mtbf > 0) && !pname)
			rc = xpu_errf(err, NULL, 0,
			              "--failures: expected mtbf=...,mttr=... or profile=FILE (or "
			              "'none')");
		struct profile *p = NULL;
		if (!rc && pname && readable(pname))
			rc = xpu_errf(err, NULL, 0, "--failures: profile: cannot read \"%s\": %s",
			              pname, strerror(errno));
		else if (!rc && pname)
			rc = profile_of(f, pname, &p, err);
		free(pname);
		for (int u = 0; u < n && !rc; u++) {
			if ((kind >= 0 && pf->units[u].kind != kind) || (unit >= 0 && u != unit))
				continue;
			if (p)
				set_profile(&f->avail[u], p);
			else
				f->avail[u] = (struct xpu_avail){.mtbf = mtbf, .mttr = mttr};
		}
	}
	free(copy);
	if (rc) {
		if (rc == -ENOMEM && !err->msg[0])
			xpu_errf(err, NULL, 0, "out of memory");
		xpu_failures_free(f);
	}
	return rc;
}

void xpu_failures_free(struct xpu_failures *f)
{
	for (int i = 0; i < f->nprofiles; i++) {
		free(f->profiles[i].path);
		free(f->profiles[i].at);
		free(f->profiles[i].up);
	}
	free(f->profiles);
	free(f->avail);
	memset(f, 0, sizeof(*f));
}
