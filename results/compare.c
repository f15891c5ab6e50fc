/* compare.c — result sets from study indexes or result files, and their paired
 * comparison (bootstrap CI, Wilcoxon p, wins and losses) per metric. */
#include <errno.h>
#include <hdf5.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "stats.h"
#include "study.h"

int xpu_results_read_run_attr(const char *path, const char *name, char *buf, size_t n)
{
	H5E_auto2_t f;
	void *d;
	int rc = -EINVAL;
	buf[0] = 0;
	H5Eget_auto2(H5E_DEFAULT, &f, &d);
	H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
	hid_t file = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
	hid_t g = file >= 0 ? H5Gopen2(file, "run", H5P_DEFAULT) : -1;
	hid_t a = g >= 0 && H5Aexists(g, name) > 0 ? H5Aopen(g, name, H5P_DEFAULT) : -1;
	hid_t t = a >= 0 ? H5Aget_type(a) : -1;
	if (t >= 0 && H5Tget_class(t) == H5T_STRING && H5Tis_variable_str(t) > 0) {
		char *s = NULL;
		hid_t mt = H5Tcopy(H5T_C_S1);
		H5Tset_size(mt, H5T_VARIABLE);
		H5Tset_cset(mt, H5T_CSET_UTF8);
		if (H5Aread(a, mt, &s) >= 0 && s) {
			snprintf(buf, n, "%s", s);
			H5free_memory(s);
			rc = 0;
		}
		H5Tclose(mt);
	} else if (t >= 0 && H5Tget_class(t) == H5T_INTEGER) {
		unsigned long long v;
		if (H5Aread(a, H5T_NATIVE_ULLONG, &v) >= 0) {
			snprintf(buf, n, "%llu", v);
			rc = 0;
		}
	}
	if (t >= 0)
		H5Tclose(t);
	if (a >= 0)
		H5Aclose(a);
	if (g >= 0)
		H5Gclose(g);
	if (file >= 0)
		H5Fclose(file);
	H5Eclear2(H5E_DEFAULT);
	H5Eset_auto2(H5E_DEFAULT, f, d);
	return rc;
}

static int add(struct xpu_records *rs, const char *set, const char *pair, const char *path,
               struct xpu_err *err)
{
	struct xpu_record r = {0};
	int rc = xpu_results_read_summary(path, &r.s, err);
	if (rc)
		return rc;
	for (int i = 0; i < rs->n; i++)
		if (!strcmp(rs->r[i].set, set) && !strcmp(rs->r[i].pair, pair)) {
			xpu_summary_clear(&r.s);
			return xpu_errf(err, path, 0,
			                "a second result of policy set \"%s\" for %s (also %s)",
			                set, pair, rs->r[i].path);
		}
	if (rs->n == rs->cap) {
		int cap = rs->cap ? rs->cap * 2 : 64;
		struct xpu_record *nr = realloc(rs->r, sizeof(*nr) * cap);
		if (!nr)
			goto oom;
		rs->r = nr;
		rs->cap = cap;
	}
	r.set = strdup(set);
	r.pair = strdup(pair);
	r.path = strdup(path);
	if (!r.set || !r.pair || !r.path)
		goto oom;
	int known = 0;
	for (int i = 0; i < rs->nsets; i++)
		known |= !strcmp(rs->sets[i], set);
	if (!known) {
		char **ns = realloc(rs->sets, sizeof(*ns) * (rs->nsets + 1));
		if (!ns || !(ns[rs->nsets] = strdup(set))) {
			if (ns)
				rs->sets = ns;
			goto oom;
		}
		rs->sets = ns;
		rs->nsets++;
	}
	rs->r[rs->n++] = r;
	return 0;
oom:
	free(r.set);
	free(r.pair);
	free(r.path);
	xpu_summary_clear(&r.s);
	return xpu_errf(err, path, 0, "out of memory") ? -ENOMEM : -ENOMEM;
}

int xpu_records_add_file(struct xpu_records *rs, const char *path, struct xpu_err *err)
{
	char sched[256], mem[256], power[256], off[256], plat[PATH_MAX], trace[PATH_MAX], seed[32];
	if (xpu_results_read_run_attr(path, "sched", sched, sizeof(sched)) ||
	    xpu_results_read_run_attr(path, "seed", seed, sizeof(seed))) {
		struct xpu_summary s;
		/* Report why: not HDF5, no summary, or no /run. */
		if (xpu_results_read_summary(path, &s, err))
			return -EINVAL;
		xpu_summary_clear(&s);
		return xpu_errf(err, path, 0, "not an xpuopt result (no /run attributes)");
	}
	xpu_results_read_run_attr(path, "mem", mem, sizeof(mem));
	xpu_results_read_run_attr(path, "power", power, sizeof(power));
	xpu_results_read_run_attr(path, "offload", off, sizeof(off));
	xpu_results_read_run_attr(path, "platform", plat, sizeof(plat));
	xpu_results_read_run_attr(path, "trace", trace, sizeof(trace));
	char mode[32] = "";
	xpu_results_read_run_attr(path, "mode", mode, sizeof(mode));
	int live = !strcmp(mode, "live");
	char set[1100], pair[PATH_MAX * 2 + 64];
	snprintf(set, sizeof(set), "%s/%s/%s/%s%s", sched, mem, power, off, live ? " (live)" : "");
	snprintf(pair, sizeof(pair), "%s|%s|%s", plat, trace, seed);
	int rc = add(rs, set, pair, path, err);
	if (!rc) {
		snprintf(pair, sizeof(pair), "%s|%s", trace, seed);
		rs->r[rs->n - 1].live = live;
		if (!(rs->r[rs->n - 1].trace_seed = strdup(pair)))
			rc = xpu_errf(err, path, 0, "out of memory") ? -ENOMEM : -ENOMEM;
	}
	return rc;
}

int xpu_records_add_index(struct xpu_records *rs, const char *path, struct xpu_err *err)
{
	char file[PATH_MAX], dir[PATH_MAX];
	struct stat st;
	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
		snprintf(dir, sizeof(dir), "%s", path);
		snprintf(file, sizeof(file), "%.4000s/index.csv", path);
	} else {
		snprintf(file, sizeof(file), "%s", path);
		snprintf(dir, sizeof(dir), "%s", path);
		char *sl = strrchr(dir, '/');
		if (sl)
			*sl = 0;
		else
			snprintf(dir, sizeof(dir), ".");
	}
	FILE *f = fopen(file, "r");
	if (!f)
		return xpu_errf(err, file, 0, "cannot read the study index: %s", strerror(errno));
	char *line = NULL;
	size_t cap = 0;
	int lineno = 0, rc = 0, ndone = 0;
	while (getline(&line, &cap, f) > 0 && !rc) {
		char *fl[16];
		lineno++;
		int n = xpu_csv_split(line, fl, 16);
		if (lineno == 1) {
			if (n != 12 || strcmp(fl[0], "id") || strcmp(fl[11], "result"))
				rc = xpu_errf(err, file, 1,
				              "not a study index (header expected: %s)",
				              "id,platform,trace,...,status,result");
			continue;
		}
		if (n != 12) {
			rc = xpu_errf(err, file, lineno, "expected 12 fields, got %d", n);
			break;
		}
		if (strcmp(fl[10], "done"))
			continue;
		char res[PATH_MAX * 2], pair[PATH_MAX * 2 + 64];
		snprintf(res, sizeof(res), "%s%s%s", fl[11][0] == '/' ? "" : dir,
		         fl[11][0] == '/' ? "" : "/", fl[11]);
		snprintf(pair, sizeof(pair), "%s|%s|%s", fl[1], fl[2], fl[9]);
		rc = add(rs, fl[3], pair, res, err);
		ndone++;
	}
	free(line);
	fclose(f);
	if (!rc && lineno == 0)
		rc = xpu_errf(err, file, 0, "empty study index");
	return rc;
}

void xpu_records_free(struct xpu_records *rs)
{
	for (int i = 0; i < rs->n; i++) {
		free(rs->r[i].set);
		free(rs->r[i].pair);
		free(rs->r[i].path);
		free(rs->r[i].trace_seed);
		xpu_summary_clear(&rs->r[i].s);
	}
	for (int i = 0; i < rs->nsets; i++)
		free(rs->sets[i]);
	free(rs->r);
	free(rs->sets);
	memset(rs, 0, sizeof(*rs));
}

int xpu_metric_higher_better(const char *m)
{
	static const char *const higher[] = {"tasks_done",     "mean_utilisation",
	                                     "requests_done",  "tokens_per_s",
	                                     "requests_per_s", "tokens_generated",
	                                     "slo_attained",   "goodput_rps",
	                                     "prompt_tokens",  NULL};
	for (int i = 0; higher[i]; i++)
		if (!strcmp(m, higher[i]))
			return 1;
	return 0;
}

int xpu_records_pair_live(struct xpu_records *rs, struct xpu_err *err)
{
	int live = 0, sim = 0;
	for (int i = 0; i < rs->n; i++) {
		live |= rs->r[i].live;
		sim |= !rs->r[i].live;
	}
	if (!live || !sim)
		return 0;
	for (int i = 0; i < rs->n; i++) {
		if (!rs->r[i].trace_seed)
			return xpu_errf(err, rs->r[i].path, 0,
			                "live results pair with result files by trace and seed; "
			                "give this study's result files instead of its index");
		for (int j = 0; j < i; j++)
			if (!strcmp(rs->r[j].set, rs->r[i].set) &&
			    !strcmp(rs->r[j].trace_seed, rs->r[i].trace_seed))
				return xpu_errf(
				    err, rs->r[i].path, 0,
				    "a second result of policy set \"%s\" for trace and seed "
				    "%s (also %s): live and simulated results pair by trace "
				    "and seed",
				    rs->r[i].set, rs->r[i].trace_seed, rs->r[j].path);
		free(rs->r[i].pair);
		rs->r[i].pair = rs->r[i].trace_seed;
		rs->r[i].trace_seed = NULL;
	}
	return 0;
}

int xpu_compare(const struct xpu_records *rs, const char *baseline, const char *const *metrics,
                int nmetrics, int resamples, uint64_t seed, struct xpu_cmp_row **rows,
                struct xpu_err *err)
{
	int base = 0;
	if (rs->nsets < 2)
		return xpu_errf(err, NULL, 0, "compare needs at least two policy sets, got %d",
		                rs->nsets);
	if (baseline) {
		base = -1;
		for (int i = 0; i < rs->nsets; i++)
			if (!strcmp(rs->sets[i], baseline))
				base = i;
		if (base < 0)
			return xpu_errf(err, NULL, 0, "--baseline: no policy set \"%s\"", baseline);
	}
	int nrows = (rs->nsets - 1) * nmetrics;
	struct xpu_cmp_row *out = calloc((size_t)nrows, sizeof(*out));
	double *a = malloc(sizeof(double) * (rs->n + 1)), *b = malloc(sizeof(double) * (rs->n + 1));
	double *d = malloc(sizeof(double) * (rs->n + 1));
	if (!out || !a || !b || !d) {
		free(out);
		free(a);
		free(b);
		free(d);
		return -ENOMEM;
	}
	int k = 0;
	for (int si = 0; si < rs->nsets; si++) {
		if (si == base)
			continue;
		for (int mi = 0; mi < nmetrics; mi++) {
			struct xpu_cmp_row *r = &out[k++];
			*r = (struct xpu_cmp_row){
			    .a = rs->sets[base], .b = rs->sets[si], .metric = metrics[mi]};
			int n = 0;
			/* Pair each of the baseline's results with the other set's result
			 * on the same platform, trace and seed. */
			for (int i = 0; i < rs->n; i++) {
				if (strcmp(rs->r[i].set, rs->sets[base]))
					continue;
				for (int j = 0; j < rs->n; j++) {
					if (strcmp(rs->r[j].set, rs->sets[si]) ||
					    strcmp(rs->r[j].pair, rs->r[i].pair))
						continue;
					double va = xpu_summary_get(&rs->r[i].s, metrics[mi]);
					double vb = xpu_summary_get(&rs->r[j].s, metrics[mi]);
					if (isnan(va) || isnan(vb))
						break;
					a[n] = va;
					b[n] = vb;
					d[n] = vb - va;
					n++;
					break;
				}
			}
			r->n = n;
			r->mean_a = xpu_mean(a, n);
			r->mean_b = xpu_mean(b, n);
			r->diff = xpu_mean(d, n);
			r->lo = r->hi = r->p = NAN;
			if (n > 0) {
				/* One seed per (set, metric) pair keeps rows independent of
				 * the order of the others. */
				xpu_bootstrap_mean_ci(d, n, resamples, seed + (uint64_t)mi, 0.95,
				                      &r->lo, &r->hi);
				r->p = xpu_wilcoxon(d, n, NULL, NULL);
			}
			int hb = xpu_metric_higher_better(metrics[mi]);
			for (int i = 0; i < n; i++) {
				if (d[i] == 0)
					r->ties++;
				else if ((d[i] > 0) == hb)
					r->wins++;
				else
					r->losses++;
			}
		}
	}
	free(a);
	free(b);
	free(d);
	*rows = out;
	return nrows;
}

static void num(FILE *out, double v)
{
	if (isnan(v))
		fputs("", out);
	else
		fprintf(out, "%.6g", v);
}

void xpu_compare_csv(FILE *out, const struct xpu_cmp_row *rows, int n)
{
	fprintf(out, "baseline,policy_set,metric,n,mean_baseline,mean_set,mean_diff,ci95_lo,"
	             "ci95_hi,p_wilcoxon,wins,losses,ties\n");
	for (int i = 0; i < n; i++) {
		const struct xpu_cmp_row *r = &rows[i];
		xpu_csv_field(out, r->a);
		fputc(',', out);
		xpu_csv_field(out, r->b);
		fprintf(out, ",%s,%d,", r->metric, r->n);
		const double v[] = {r->mean_a, r->mean_b, r->diff, r->lo, r->hi, r->p};
		for (int k = 0; k < 6; k++) {
			num(out, v[k]);
			fputc(',', out);
		}
		fprintf(out, "%d,%d,%d\n", r->wins, r->losses, r->ties);
	}
}

static void md_text(FILE *out, const char *s)
{
	for (; *s; s++) {
		if (*s == '|')
			fputc('\\', out);
		fputc(*s, out);
	}
}

void xpu_compare_markdown(FILE *out, const struct xpu_cmp_row *rows, int n)
{
	fprintf(out, "| policy set | metric | n | baseline | set | diff (set - baseline) | "
	             "95%% CI | p (Wilcoxon) | wins/losses/ties |\n"
	             "| --- | --- | ---: | ---: | ---: | ---: | --- | ---: | --- |\n");
	for (int i = 0; i < n; i++) {
		const struct xpu_cmp_row *r = &rows[i];
		fputs("| ", out);
		md_text(out, r->b);
		fprintf(out,
		        " | %s | %d | %.6g | %.6g | %+.4g | [%.4g, %.4g] | %.3g | %d/%d/%d |\n",
		        r->metric, r->n, r->mean_a, r->mean_b, r->diff, r->lo, r->hi, r->p, r->wins,
		        r->losses, r->ties);
	}
}
