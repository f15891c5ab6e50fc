/* cmd_plot.c — `xpuopt plot`: Gantt chart, utilisation and power timelines, waiting-time
 * CDF, per-policy bars with confidence whiskers; data exported from HDF5 by xpuopt, drawn
 * by gnuplot (pngcairo or svg terminal). */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <getopt.h>
#include <hdf5.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "stats.h"
#include "study.h"
#include "cli.h"
#include "study_cli.h"

/* ---------------------------------------------------------------- HDF5 columns */

struct h5 {
	hid_t file;
	H5E_auto2_t f;
	void *d;
};

static int h5_open(struct h5 *h, const char *path, struct xpu_err *err)
{
	H5Eget_auto2(H5E_DEFAULT, &h->f, &h->d);
	H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
	h->file = H5Fis_hdf5(path) > 0 ? H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT) : -1;
	if (h->file < 0) {
		H5Eset_auto2(H5E_DEFAULT, h->f, h->d);
		return xpu_errf(err, path, 0, "not an xpuopt result (cannot open it as HDF5)");
	}
	return 0;
}

static void h5_close(struct h5 *h)
{
	H5Fclose(h->file);
	H5Eclear2(H5E_DEFAULT);
	H5Eset_auto2(H5E_DEFAULT, h->f, h->d);
}

/* A numeric dataset as doubles (HDF5 converts integers); dims[0..1] get its shape. */
static double *h5_doubles(struct h5 *h, const char *name, hsize_t dims[2])
{
	dims[0] = 0;
	dims[1] = 1;
	hid_t d = H5Dopen2(h->file, name, H5P_DEFAULT);
	if (d < 0)
		return NULL;
	hid_t sp = H5Dget_space(d);
	int rank = H5Sget_simple_extent_ndims(sp);
	double *v = NULL;
	if (rank >= 1 && rank <= 2) {
		H5Sget_simple_extent_dims(sp, dims, NULL);
		size_t n = (size_t)dims[0] * (rank == 2 ? dims[1] : 1);
		if (rank == 1)
			dims[1] = 1;
		v = malloc(sizeof(double) * (n ? n : 1));
		if (v && n && H5Dread(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) < 0) {
			free(v);
			v = NULL;
		}
	}
	H5Sclose(sp);
	H5Dclose(d);
	return v;
}

/* A 1-D string dataset; free with strings_free. */
static char **h5_strings(struct h5 *h, const char *name, size_t *n)
{
	*n = 0;
	hid_t d = H5Dopen2(h->file, name, H5P_DEFAULT);
	if (d < 0)
		return NULL;
	hid_t sp = H5Dget_space(d);
	hsize_t dim = 0;
	char **v = NULL;
	if (H5Sget_simple_extent_ndims(sp) == 1) {
		H5Sget_simple_extent_dims(sp, &dim, NULL);
		hid_t mt = H5Tcopy(H5T_C_S1);
		H5Tset_size(mt, H5T_VARIABLE);
		H5Tset_cset(mt, H5T_CSET_UTF8);
		v = calloc(dim ? dim : 1, sizeof(char *));
		if (v && dim && H5Dread(d, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) < 0) {
			free(v);
			v = NULL;
		}
		H5Tclose(mt);
		*n = v ? dim : 0;
	}
	H5Sclose(sp);
	H5Dclose(d);
	return v;
}

static void strings_free(char **v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		H5free_memory(v[i]);
	free(v);
}

/* ---------------------------------------------------------------- gnuplot */

struct plot {
	char dir[64]; /* private temporary directory for the script and data */
	char script[128];
	FILE *gp; /* the script being written */
	const char *out;
	char tmp_out[PATH_MAX + 32];
	struct xpu_err *err;
};

static int rm_entry(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(p);
}

static void plot_cleanup(struct plot *p)
{
	if (p->gp)
		fclose(p->gp);
	p->gp = NULL;
	if (p->dir[0])
		nftw(p->dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
	p->dir[0] = 0;
}

/* A gnuplot string in single quotes, where only '' needs escaping. */
static void gq(FILE *f, const char *s)
{
	fputc('\'', f);
	for (; *s; s++) {
		if (*s == '\'')
			fputc('\'', f);
		fputc(*s, f);
	}
	fputc('\'', f);
}

static int plot_begin(struct plot *p, const char *out, const char *title, struct xpu_err *err)
{
	memset(p, 0, sizeof(*p));
	p->out = out;
	p->err = err;
	const char *ext = strrchr(out, '.');
	int png = ext && !strcmp(ext, ".png"), svg = ext && !strcmp(ext, ".svg");
	if (!png && !svg)
		return xpu_errf(err, out, 0, "expected an output file ending in .png or .svg");
	const char *t = getenv("TMPDIR");
	snprintf(p->dir, sizeof(p->dir), "%.40s/xpuplot-XXXXXX", t && *t ? t : "/tmp");
	if (!mkdtemp(p->dir)) {
		p->dir[0] = 0;
		return xpu_errf(err, NULL, 0, "cannot create a temporary directory: %s",
		                strerror(errno));
	}
	snprintf(p->script, sizeof(p->script), "%s/plot.gp", p->dir);
	snprintf(p->tmp_out, sizeof(p->tmp_out), "%s.tmp-%ld%s", out, (long)getpid(), ext);
	p->gp = fopen(p->script, "w");
	if (!p->gp) {
		plot_cleanup(p);
		return xpu_errf(err, NULL, 0, "cannot write a gnuplot script: %s", strerror(errno));
	}
	if (png)
		fprintf(p->gp, "set terminal pngcairo size 1100,620 font 'sans,10'\n");
	else
		fprintf(p->gp, "set terminal svg size 1100,620 dynamic font 'sans,10'\n");
	fprintf(p->gp, "set termoption noenhanced\nset output ");
	gq(p->gp, p->tmp_out);
	fprintf(p->gp, "\nset title ");
	gq(p->gp, title);
	fprintf(p->gp, "\nset grid\nset key outside right top\n");
	return 0;
}

static FILE *plot_data(struct plot *p, const char *name, char *path, size_t n)
{
	snprintf(path, n, "%s/%s", p->dir, name);
	return fopen(path, "w");
}

/* Run gnuplot on the script; the image appears under its final name only when gnuplot
 * succeeded and wrote something. */
static int plot_end(struct plot *p)
{
	int rc = 0;
	char log[128];
	snprintf(log, sizeof(log), "%s/gnuplot.log", p->dir);
	fprintf(p->gp, "set output\n");
	if (fclose(p->gp)) {
		p->gp = NULL;
		rc = xpu_errf(p->err, NULL, 0, "cannot write a gnuplot script");
		goto out;
	}
	p->gp = NULL;
	const char *gnuplot = getenv("XPUOPT_GNUPLOT") ? getenv("XPUOPT_GNUPLOT") : "gnuplot";
	fflush(NULL);
	pid_t pid = fork();
	if (pid == 0) {
		int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		execlp(gnuplot, gnuplot, p->script, (char *)NULL);
		_exit(127);
	}
	int st = 0;
	if (pid < 0 || waitpid(pid, &st, 0) < 0) {
		rc = xpu_errf(p->err, NULL, 0, "cannot run gnuplot: %s", strerror(errno));
		goto out;
	}
	struct stat sb;
	if (WIFEXITED(st) && WEXITSTATUS(st) == 127) {
		rc = xpu_errf(p->err, NULL, 0,
		              "gnuplot not found; install Debian's gnuplot-nox "
		              "(tools/setup.sh does)");
		rc = -ENOENT;
		goto out;
	}
	if (!WIFEXITED(st) || WEXITSTATUS(st) || stat(p->tmp_out, &sb) || sb.st_size == 0) {
		char msg[400] = "";
		FILE *f = fopen(log, "r");
		if (f) {
			size_t n = fread(msg, 1, sizeof(msg) - 1, f);
			msg[n] = 0;
			fclose(f);
		}
		xpu_errf(p->err, p->out, 0, "gnuplot failed: %s", msg[0] ? msg : "no output");
		rc = -EIO;
		goto out;
	}
	if (rename(p->tmp_out, p->out)) {
		xpu_errf(p->err, p->out, 0, "cannot write: %s", strerror(errno));
		rc = -EIO;
	}
out:
	unlink(p->tmp_out);
	plot_cleanup(p);
	return rc;
}

static const char *base_name(const char *p)
{
	const char *s = strrchr(p, '/');
	return s ? s + 1 : p;
}

/* ---------------------------------------------------------------- Gantt */

/* Tableau 10, a palette designed for telling categories apart (Stone, Tableau 2016). */
static const char *const palette[10] = {"#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f",
                                        "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"};

int xpu_plot_gantt(const char *h5path, const char *out, struct xpu_err *err)
{
	struct h5 h;
	int rc = h5_open(&h, h5path, err);
	if (rc)
		return rc;
	hsize_t du[2], ds[2], de[2];
	size_t nunits = 0, ncls = 0;
	double *unit = h5_doubles(&h, "tasks/unit", du), *start = h5_doubles(&h, "tasks/start", ds);
	double *end = h5_doubles(&h, "tasks/end", de);
	char **names = h5_strings(&h, "units/name", &nunits);
	char **cls = h5_strings(&h, "tasks/class", &ncls);
	h5_close(&h);
	struct plot p = {0};
	if (!unit || !start || !end || !names || ncls != du[0] || ds[0] != du[0] ||
	    de[0] != du[0]) {
		rc = xpu_errf(err, h5path, 0, "not an xpuopt result (no /tasks or /units columns)");
		goto out;
	}
	char title[PATH_MAX + 32];
	snprintf(title, sizeof(title), "Gantt chart: %s", base_name(h5path));
	if ((rc = plot_begin(&p, out, title, err)))
		goto out;
	/* One data block per class, so that each class gets its colour and key entry. */
	const char *seen[64];
	int nseen = 0;
	for (size_t i = 0; i < ncls; i++) {
		int k = 0;
		while (k < nseen && strcmp(seen[k], cls[i]))
			k++;
		if (k == nseen && nseen < 64)
			seen[nseen++] = cls[i];
	}
	char dpath[128];
	FILE *d = plot_data(&p, "gantt.dat", dpath, sizeof(dpath));
	if (!d) {
		rc = xpu_errf(err, NULL, 0, "cannot write plot data");
		goto out;
	}
	double tmax = 0;
	for (int k = 0; k < nseen; k++) {
		fprintf(d, "# %s\n", seen[k]);
		int any = 0;
		for (size_t i = 0; i < du[0]; i++)
			if (!strcmp(cls[i], seen[k]) && unit[i] >= 0 && isfinite(start[i]) &&
			    isfinite(end[i])) {
				fprintf(d, "%.9g %g %.9g\n", start[i], unit[i], end[i]);
				tmax = fmax(tmax, end[i]);
				any = 1;
			}
		if (!any)
			fprintf(d, "NaN NaN NaN\n");
		fprintf(d, "\n\n");
	}
	fclose(d);
	FILE *g = p.gp;
	fprintf(g, "set xlabel 'time (s)'\nset ylabel 'unit'\nset yrange [-0.6:%zu.6]\n",
	        nunits ? nunits - 1 : 0);
	fprintf(g, "set xrange [0:%.9g]\nset ytics (", tmax > 0 ? tmax * 1.02 : 1);
	for (size_t u = 0; u < nunits; u++) {
		fprintf(g, "%s", u ? ", " : "");
		gq(g, names[u]);
		fprintf(g, " %zu", u);
	}
	fprintf(g, ")\nset style fill solid 0.85 noborder\nplot ");
	for (int k = 0; k < nseen; k++) {
		fprintf(g, "%s", k ? ", \\\n  " : "");
		gq(g, dpath);
		fprintf(g,
		        " index %d using (($1+$3)/2):2:(($3-$1)/2):(0.38) with boxxyerror "
		        "lc rgb '%s' title ",
		        k, palette[k % 10]);
		gq(g, seen[k]);
	}
	if (!nseen)
		fprintf(g, "NaN title 'no tasks'");
	fprintf(g, "\n");
	rc = plot_end(&p);
out:
	plot_cleanup(&p);
	free(unit);
	free(start);
	free(end);
	strings_free(names, nunits);
	strings_free(cls, ncls);
	return rc;
}

/* ---------------------------------------------------------------- timelines */

/* Most lines a timeline plot's data file gets: beyond, it is resampled on a grid. */
#define PLOT_POINTS 4000

int xpu_plot_timeline(const char *h5path, const char *what, const char *out, struct xpu_err *err)
{
	int power = !strcmp(what, "power"), memory = !strcmp(what, "memory");
	int thermal = !strcmp(what, "thermal");
	if (!power && !memory && !thermal && strcmp(what, "util"))
		return xpu_errf(
		    err, NULL, 0,
		    "timeline: expected 'util', 'power', 'memory' or 'thermal', got \"%s\"", what);
	/* memory: bytes in use in each unit's memory, in GiB (units that share a
	 * memory draw the same line) */
	double scale = memory ? 1.0 / 1073741824.0 : 1.0;
	struct h5 h;
	int rc = h5_open(&h, h5path, err);
	if (rc)
		return rc;
	hsize_t dt[2], dv[2], du[2];
	size_t nunits = 0;
	double *t = h5_doubles(&h, "timeline/t", dt);
	double *v = h5_doubles(&h,
	                       power     ? "timeline/power_w"
	                       : memory  ? "timeline/mem_bytes"
	                       : thermal ? "timeline/temp_c"
	                                 : "timeline/util",
	                       dv);
	double *un = h5_doubles(&h, "timeline/unit", du);
	char **names = h5_strings(&h, "units/name", &nunits);
	h5_close(&h);
	struct plot p = {0};
	double *cur = NULL;
	if (!t || !v || !un || !names || dv[0] != dt[0] || du[0] != dt[0] || dv[1] != 1) {
		rc = xpu_errf(err, h5path, 0,
		              "not an xpuopt result of schema 2 (no /timeline change points)");
		goto out;
	}
	char title[PATH_MAX + 32], dpath[128];
	snprintf(title, sizeof(title), "%s: %s",
	         power     ? "Power"
	         : memory  ? "Memory in use"
	         : thermal ? "Temperature"
	                   : "Utilisation",
	         base_name(h5path));
	if ((rc = plot_begin(&p, out, title, err)))
		goto out;
	FILE *d = plot_data(&p, "timeline.dat", dpath, sizeof(dpath));
	cur = calloc(nunits + 1, sizeof(double));
	for (size_t u = 0; thermal && cur && u < nunits; u++)
		cur[u] = NAN;
	if (!d || !cur) {
		if (d)
			fclose(d);
		rc = xpu_errf(err, NULL, 0, "cannot write plot data");
		goto out;
	}
	/* Change points, in time order, set each unit's value from their time on. One
	 * line per distinct time holds every unit's value; past PLOT_POINTS distinct
	 * times, lines are emitted on an even grid of PLOT_POINTS times instead, each with
	 * the values in force then. */
	size_t distinct = 0;
	for (hsize_t i = 0; i < dt[0]; i++)
		distinct += i == 0 || t[i] != t[i - 1];
	double t0 = dt[0] ? t[0] : 0, t1 = dt[0] ? t[dt[0] - 1] : 0;
	int grid = distinct > PLOT_POINTS;
	double step = grid ? (t1 - t0) / (PLOT_POINTS - 1) : 0, next = t0;
	for (hsize_t i = 0; i < dt[0]; i++) {
		size_t u = (size_t)un[i];
		if (u < nunits && thermal) /* NaN: no thermal node, drawn as no line */
			cur[u] = v[i];
		else if (u < nunits)
			cur[u] = isnan(v[i]) ? 0 : v[i] * scale;
		int last_of_time = i + 1 == dt[0] || t[i + 1] != t[i];
		if (!last_of_time)
			continue;
		double upto = i + 1 < dt[0] ? t[i + 1] : t1 + (grid ? step / 2 : 0);
		while (grid ? next < upto : next <= t[i]) {
			double sum = 0;
			fprintf(d, "%.9g", grid ? next : t[i]);
			for (size_t k = 0; k < nunits; k++) {
				fprintf(d, " %.6g", cur[k]);
				sum += cur[k];
			}
			fprintf(d, " %.6g\n", sum);
			if (!grid)
				break;
			next += step;
		}
	}
	if (!dt[0])
		fprintf(d, "NaN\n");
	fclose(d);
	FILE *g = p.gp;
	fprintf(g, "set xlabel 'time (s)'\nset ylabel '%s'\n",
	        power     ? "power (W)"
	        : memory  ? "bytes in use (GiB)"
	        : thermal ? "temperature (C)"
	                  : "busy cores / cores");
	if (!power && !memory && !thermal)
		fprintf(g, "set yrange [0:1.05]\n");
	fprintf(g, "plot ");
	size_t drawn = 0;
	/* thermal: the units with a node (a finite temperature somewhere), in one pass */
	unsigned char *has = calloc(nunits + 1, 1);
	for (hsize_t i = 0; has && i < dt[0]; i++)
		if ((size_t)un[i] < nunits && isfinite(v[i]))
			has[(size_t)un[i]] = 1;
	for (size_t u = 0; u < nunits; u++) {
		if (thermal && (!has || !has[u]))
			continue; /* a unit without a node */
		fprintf(g, "%s", drawn++ ? ", \\\n  " : "");
		gq(g, dpath);
		fprintf(g, " using 1:%zu with %s lw 1.5 title ", u + 2,
		        thermal ? "lines" : "steps");
		gq(g, names[u]);
	}
	if (power) {
		fprintf(g, ", \\\n  ");
		gq(g, dpath);
		fprintf(g, " using 1:%zu with steps lw 2 lc rgb 'black' title 'total'", nunits + 2);
	}
	free(has);
	if (!drawn && thermal)
		fprintf(g, "0 with lines lc rgb 'grey' title 'no unit has a thermal node "
		           "(xpu.thermal.r, xpu.thermal.c)'");
	else if (!drawn)
		fprintf(g, "NaN title 'no units'");
	fprintf(g, "\n");
	rc = plot_end(&p);
out:
	plot_cleanup(&p);
	free(t);
	free(v);
	free(un);
	free(cur);
	strings_free(names, nunits);
	return rc;
}

/* ---------------------------------------------------------------- waiting-time CDF */

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* One data block of a CDF: the k values sorted, each with its cumulative share. */
static void cdf_data(FILE *d, const char *file, double *v, size_t k)
{
	qsort(v, k, sizeof(double), cmp_double);
	fprintf(d, "# %s\n", file);
	for (size_t i = 0; i < k; i++)
		fprintf(d, "%.9g %.9g\n", v[i], (double)(i + 1) / k);
	if (!k)
		fprintf(d, "NaN NaN\n");
	fprintf(d, "\n\n");
}

/* The plot command drawing one step line per file, titled by the label given, or the
 * result's policy, or the file's name. */
static void cdf_lines(struct plot *p, const char *dpath, const char *const *files,
                      const char *const *labels, int n)
{
	fprintf(p->gp, "plot ");
	for (int f = 0; f < n; f++) {
		char lab[256];
		if (labels && labels[f])
			snprintf(lab, sizeof(lab), "%s", labels[f]);
		else if (xpu_results_read_run_attr(files[f], "sched", lab, sizeof(lab)) || !lab[0])
			snprintf(lab, sizeof(lab), "%s", base_name(files[f]));
		fprintf(p->gp, "%s", f ? ", \\\n  " : "");
		gq(p->gp, dpath);
		fprintf(p->gp, " index %d using 1:2 with steps lw 2 title ", f);
		gq(p->gp, lab);
	}
	fprintf(p->gp, "\n");
}

int xpu_plot_cdf(const char *const *files, const char *const *labels, int n, const char *out,
                 struct xpu_err *err)
{
	struct plot p = {0};
	int rc = plot_begin(&p, out, "CDF of waiting times (start - ready, done tasks)", err);
	if (rc)
		return rc;
	fprintf(p.gp, "set xlabel 'waiting time (s)'\nset ylabel 'fraction of tasks'\n"
	              "set yrange [0:1.02]\nset key inside right bottom\n");
	char dpath[128];
	FILE *d = plot_data(&p, "cdf.dat", dpath, sizeof(dpath));
	if (!d) {
		rc = xpu_errf(err, NULL, 0, "cannot write plot data");
		goto out;
	}
	for (int f = 0; f < n && !rc; f++) {
		struct h5 h;
		if ((rc = h5_open(&h, files[f], err)))
			break;
		hsize_t ds[2], dr[2];
		size_t nst = 0;
		double *s = h5_doubles(&h, "tasks/start", ds),
		       *r = h5_doubles(&h, "tasks/ready", dr);
		char **status = h5_strings(&h, "tasks/status", &nst);
		h5_close(&h);
		if (!s || !r || nst != ds[0] || dr[0] != ds[0]) {
			rc = xpu_errf(err, files[f], 0, "not an xpuopt result (no /tasks columns)");
		} else {
			size_t k = 0;
			for (size_t i = 0; i < nst; i++)
				if (!strcmp(status[i], "done") && isfinite(s[i] - r[i]))
					s[k++] = s[i] - r[i];
			cdf_data(d, files[f], s, k);
		}
		free(s);
		free(r);
		strings_free(status, nst);
	}
	fclose(d);
	if (rc)
		goto out;
	cdf_lines(&p, dpath, files, labels, n);
	rc = plot_end(&p);
out:
	plot_cleanup(&p);
	return rc;
}

/* ---------------------------------------------------------------- serving */

/* The CDF of one per-request latency of serving runs (/requests/METRIC of done
 * requests): ttft, tpot, e2e or tbt_max. */
static int plot_latency(const char *const *files, int n, const char *metric, const char *out,
                        struct xpu_err *err)
{
	static const char *const known[] = {"ttft", "tpot", "e2e", "tbt_max", NULL};
	static const char *const what[] = {"time to first token", "time per output token",
	                                   "end-to-end latency", "longest gap between tokens"};
	int m = 0;
	while (known[m] && strcmp(known[m], metric))
		m++;
	if (!known[m])
		return xpu_errf(err, NULL, 0,
		                "latency: --metric '%s': expected ttft, tpot, e2e or tbt_max",
		                metric);
	char title[128];
	snprintf(title, sizeof(title), "CDF of the %s (done requests)", what[m]);
	struct plot p = {0};
	int rc = plot_begin(&p, out, title, err);
	if (rc)
		return rc;
	fprintf(p.gp,
	        "set xlabel '%s (s)'\nset ylabel 'fraction of requests'\n"
	        "set yrange [0:1.02]\nset key inside right bottom\nset logscale x\n",
	        what[m]);
	char dpath[128], col[64];
	snprintf(col, sizeof(col), "requests/%s", metric);
	FILE *d = plot_data(&p, "latency.dat", dpath, sizeof(dpath));
	if (!d) {
		rc = xpu_errf(err, NULL, 0, "cannot write plot data");
		goto out;
	}
	for (int f = 0; f < n && !rc; f++) {
		struct h5 h;
		if ((rc = h5_open(&h, files[f], err)))
			break;
		hsize_t dv[2], dd[2];
		double *v = h5_doubles(&h, col, dv), *done = h5_doubles(&h, "requests/done", dd);
		h5_close(&h);
		if (!v || !done || dv[0] != dd[0]) {
			rc = xpu_errf(
			    err, files[f], 0,
			    "not a serving result (no /requests: made by xpuopt run --serve)");
		} else {
			size_t k = 0;
			for (size_t i = 0; i < dv[0]; i++)
				if (done[i] > 0 && isfinite(v[i]) && v[i] > 0)
					v[k++] = v[i];
			cdf_data(d, files[f], v, k);
		}
		free(v);
		free(done);
	}
	fclose(d);
	if (rc)
		goto out;
	cdf_lines(&p, dpath, files, NULL, n);
	rc = plot_end(&p);
out:
	plot_cleanup(&p);
	return rc;
}

/* KV-cache occupancy of a serving run over time, one line per replica (/kv). */
static int plot_kv(const char *file, const char *out, struct xpu_err *err)
{
	struct h5 h;
	int rc = h5_open(&h, file, err);
	if (rc)
		return rc;
	hsize_t dt[2], dr[2], du[2];
	double *t = h5_doubles(&h, "kv/t", dt), *r = h5_doubles(&h, "kv/replica", dr),
	       *u = h5_doubles(&h, "kv/used", du);
	h5_close(&h);
	struct plot p = {0};
	if (!t || !r || !u || dt[0] != dr[0] || dt[0] != du[0]) {
		rc = xpu_errf(err, file, 0,
		              "not a serving result (no /kv: made by xpuopt run --serve)");
		goto out;
	}
	if ((rc = plot_begin(&p, out, "KV-cache occupancy (blocks in use per replica)", err)))
		goto out;
	fprintf(p.gp, "set xlabel 'time (s)'\nset ylabel 'share of the replica cache'\n"
	              "set yrange [0:1.02]\nset key outside right\n");
	int nrep = 0;
	for (size_t i = 0; i < dt[0]; i++)
		if ((int)r[i] + 1 > nrep)
			nrep = (int)r[i] + 1;
	if (nrep > 16)
		nrep = 16; /* the first 16 replicas: a legible picture */
	char dpath[128];
	FILE *d = plot_data(&p, "kv.dat", dpath, sizeof(dpath));
	if (!d) {
		rc = xpu_errf(err, NULL, 0, "cannot write plot data");
		goto out;
	}
	for (int k = 0; k < nrep; k++) {
		for (size_t i = 0; i < dt[0]; i++)
			if ((int)r[i] == k)
				fprintf(d, "%.9g %.9g\n", t[i], u[i]);
		fprintf(d, "NaN NaN\n\n\n");
	}
	fclose(d);
	fprintf(p.gp, "plot ");
	for (int k = 0; k < nrep; k++) {
		fprintf(p.gp, "%s", k ? ", \\\n  " : "");
		gq(p.gp, dpath);
		fprintf(p.gp, " index %d using 1:2 with steps lw 1.5 title 'replica %d'", k, k);
	}
	if (!nrep)
		fprintf(p.gp, "NaN notitle");
	fprintf(p.gp, "\n");
	rc = plot_end(&p);
out:
	plot_cleanup(&p);
	free(t);
	free(r);
	free(u);
	return rc;
}

/* ---------------------------------------------------------------- bars */

/* Each set's mean over all its results, whiskers its 95% percentile-bootstrap CI
 * (Efron and Tibshirani 1993) — unpaired, for the picture; compare gives the paired
 * differences. */
int xpu_plot_bars(const char *study, const char *metric, const char *out, struct xpu_err *err)
{
	struct xpu_records rs = {0};
	struct plot p = {0};
	int rc = xpu_records_add_index(&rs, study, err);
	double *v = rc ? NULL : malloc(sizeof(double) * (rs.n + 1));
	if (rc)
		goto out;
	if (!v) {
		rc = -ENOMEM;
		goto out;
	}
	char title[256], dpath[128];
	snprintf(title, sizeof(title), "%s by policy set (mean, 95%% bootstrap CI)", metric);
	if ((rc = plot_begin(&p, out, title, err)))
		goto out;
	FILE *d = plot_data(&p, "bars.dat", dpath, sizeof(dpath));
	if (!d) {
		rc = xpu_errf(err, NULL, 0, "cannot write plot data");
		goto out;
	}
	int plotted = 0;
	for (int s = 0; s < rs.nsets; s++) {
		int n = 0;
		for (int i = 0; i < rs.n; i++)
			if (!strcmp(rs.r[i].set, rs.sets[s]) &&
			    !isnan(v[n] = xpu_summary_get(&rs.r[i].s, metric)))
				n++;
		double lo = NAN, hi = NAN;
		if (n)
			xpu_bootstrap_mean_ci(v, n, 10000, 1, 0.95, &lo, &hi);
		fprintf(d, "%d %.9g %.9g %.9g\n", s, n ? xpu_mean(v, n) : NAN, lo, hi);
		plotted += n > 0;
	}
	fclose(d);
	if (!plotted) {
		rc = xpu_errf(err, study, 0, "no result has a metric \"%s\"", metric);
		goto out;
	}
	FILE *g = p.gp;
	fprintf(g, "set ylabel ");
	gq(g, metric);
	fprintf(g,
	        "\nset key off\nset boxwidth 0.6\nset style fill solid 0.6 border -1\n"
	        "set xrange [-0.6:%d.6]\nset yrange [0:*]\nset xtics rotate by -25 (",
	        rs.nsets - 1);
	for (int s = 0; s < rs.nsets; s++) {
		fprintf(g, "%s", s ? ", " : "");
		gq(g, rs.sets[s]);
		fprintf(g, " %d", s);
	}
	fprintf(g, ")\nplot ");
	gq(g, dpath);
	fprintf(g, " using 1:2 with boxes lc rgb '#4e79a7', ");
	gq(g, dpath);
	fprintf(g, " using 1:2:3:4 with yerrorbars lc rgb 'black' pt 0 lw 1.5\n");
	rc = plot_end(&p);
out:
	plot_cleanup(&p);
	free(v);
	xpu_records_free(&rs);
	return rc;
}

/* ---------------------------------------------------------------- the command */

static void usage(FILE *out)
{
	fprintf(out,
	        "Usage: xpuopt plot gantt RESULT.h5 [-o OUT]\n"
	        "       xpuopt plot util RESULT.h5 [-o OUT]\n"
	        "       xpuopt plot power RESULT.h5 [-o OUT]\n"
	        "       xpuopt plot memory RESULT.h5 [-o OUT]\n"
	        "       xpuopt plot thermal RESULT.h5 [-o OUT]\n"
	        "       xpuopt plot cdf RESULT.h5 ... [-o OUT]\n"
	        "       xpuopt plot bars STUDY_DIR [-m METRIC] [-o OUT]\n"
	        "       xpuopt plot latency RESULT.h5 ... [-m ttft|tpot|e2e|tbt_max] [-o OUT]\n"
	        "       xpuopt plot kv RESULT.h5 [-o OUT]\n\n"
	        "Draw one plot with gnuplot: a Gantt chart of a run (units by time, tasks\n"
	        "coloured by class), its utilisation, power, memory-in-use or temperature\n"
	        "timeline (per unit; units sharing a memory draw one line; temperature at\n"
	        "each change point of units with a thermal node), the CDF of waiting times of\n"
	        "one or more runs, or a study's per-policy-set metric bars with 95%%\n"
	        "confidence whiskers. Serving runs (xpuopt run --serve): the CDF of a\n"
	        "per-request latency of one or more runs (default ttft), or the KV-cache\n"
	        "occupancy of each replica over time. The format follows OUT's extension:\n"
	        ".png or .svg.\n\n"
	        "  -o, --output OUT    image file (default: KIND.png)\n"
	        "  -m, --metric NAME   bars: the metric (default: makespan_s); latency: ttft,\n"
	        "                      tpot, e2e or tbt_max (default ttft)\n"
	        "  -h, --help          this help\n\n"
	        "Needs gnuplot (Debian: gnuplot-nox). Exit status: 0 success, 1 gnuplot\n"
	        "failed or missing, 2 bad usage or input.\n");
}

static int bad_usage(const char *fmt, const char *arg)
{
	return xpu_cli_bad_usage("plot", fmt, arg);
}

int xpu_cmd_plot(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"output", required_argument, NULL, 'o'},
	    {"metric", required_argument, NULL, 'm'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	const char *out = NULL, *metric = NULL;
	int c;
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":o:m:h", opts, NULL)) != -1) {
		switch (c) {
		case 'o':
			out = optarg;
			break;
		case 'm':
			metric = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case ':':
			return bad_usage("option '%s' needs a value", argv[optind - 1]);
		default:
			return bad_usage("unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind >= argc)
		return bad_usage(
		    "%s", "expected a plot kind: gantt, util, power, memory, thermal, cdf, bars, "
		          "latency or kv");
	const char *kind = argv[optind++];
	int nin = argc - optind;
	char def[64];
	snprintf(def, sizeof(def), "%.40s.png", kind);
	if (!out)
		out = def;
	struct xpu_err err = {{0}};
	int rc;
	if (!strcmp(kind, "latency")) {
		if (nin < 1)
			return bad_usage("%s", "latency: expected one or more serving results");
		rc = plot_latency((const char *const *)argv + optind, nin, metric ? metric : "ttft",
		                  out, &err);
	} else if (!strcmp(kind, "kv")) {
		if (nin != 1)
			return bad_usage("%s", "kv: expected one serving result");
		rc = plot_kv(argv[optind], out, &err);
	} else if (!strcmp(kind, "cdf")) {
		if (nin < 1)
			return bad_usage("%s", "cdf: expected one or more result files");
		rc = xpu_plot_cdf((const char *const *)argv + optind, NULL, nin, out, &err);
	} else if (!strcmp(kind, "gantt") || !strcmp(kind, "util") || !strcmp(kind, "power") ||
	           !strcmp(kind, "memory") || !strcmp(kind, "thermal") || !strcmp(kind, "bars")) {
		if (nin != 1)
			return bad_usage("%s: expected one input", kind);
		if (!strcmp(kind, "gantt"))
			rc = xpu_plot_gantt(argv[optind], out, &err);
		else if (!strcmp(kind, "bars"))
			rc = xpu_plot_bars(argv[optind], metric ? metric : "makespan_s", out, &err);
		else
			rc = xpu_plot_timeline(argv[optind], kind, out, &err);
	} else {
		return bad_usage("unknown plot kind '%s'; expected gantt, util, power, memory, "
		                 "thermal, cdf, bars, latency or kv",
		                 kind);
	}
	if (rc) {
		fprintf(stderr, "xpuopt: %s\n", err.msg);
		return rc == -EINVAL ? 2 : 1;
	}
	fprintf(stderr, "xpuopt: wrote %s\n", out);
	return 0;
}
