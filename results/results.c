/* results.c — one run's HDF5 result file, written atomically (schema: experiments/RESULTS.md). */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <hdf5.h>

#include "outfile.h"
#include "results.h"

/* Bumped when a reader of version N could misread a file of version N+1. */
#define XPU_RESULTS_SCHEMA 5

/* ------------------------------------------------------------------ HDF5 errors */

/* HDF5 prints its error stack to stderr by default; xpuopt reports one line instead.
 * The handler is restored afterwards, as a program embedding libxpuopt may want its
 * own. */
struct quiet {
	H5E_auto2_t func;
	void *data;
};

static void hdf5_quiet(struct quiet *q)
{
	H5Eget_auto2(H5E_DEFAULT, &q->func, &q->data);
	H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
}

static void hdf5_restore(const struct quiet *q)
{
	H5Eset_auto2(H5E_DEFAULT, q->func, q->data);
}

/* The innermost entry of the error stack is the most specific one ("file write failed
 * ... No space left on device"), which is the one worth showing. */
static herr_t innermost(unsigned n, const H5E_error2_t *e, void *data)
{
	if (n == 0 && e->desc) {
		/* A failed write() is described with its whole context (time, file name,
		 * buffer ...): keep only the system's message. */
		const char *m = strstr(e->desc, "error message = '");
		const char *end = m ? strchr(m + 17, '\'') : NULL;
		if (m && end)
			snprintf(data, 256, "%.*s", (int)(end - m - 17), m + 17);
		else
			snprintf(data, 256, "%s", e->desc);
	}
	return 0;
}

/* HDF5 closes every file still open when the process exits. A file whose write or
 * close failed (a full disk) stays open in its tables in a broken state, and closing
 * it again at exit crashes inside HDF5 (1.10). xpuopt closes every file it opens and
 * removes a failed one itself, so the command turns that exit hook off (before its
 * first HDF5 call). */
void xpu_results_no_atexit(void)
{
	H5dont_atexit();
}

/* ------------------------------------------------------------------ writer */

struct writer {
	const char *path; /* the final name, which every message names */
	struct xpu_err *err;
	int rc;     /* the first failure's negative errno, 0 while all goes well */
	hid_t str;  /* variable-length UTF-8 string type */
	hid_t gcpl; /* groups keep their links in creation order */
};

/* Record the first failure only: later ones are its consequences. */
static int fail(struct writer *w, const char *what)
{
	if (!w->rc) {
		char why[256] = "";
		H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, innermost, why);
		xpu_errf(w->err, w->path, 0, "cannot write the result: %s%s%s%s", what,
		         why[0] ? " (" : "", why, why[0] ? ")" : "");
		w->rc = -EIO;
	}
	return w->rc;
}

static int out_of_memory(struct writer *w)
{
	if (!w->rc) {
		xpu_errf(w->err, w->path, 0, "cannot write the result: out of memory");
		w->rc = -ENOMEM;
	}
	return w->rc;
}

static hid_t new_group(struct writer *w, hid_t loc, const char *name)
{
	hid_t g = H5Gcreate2(loc, name, H5P_DEFAULT, w->gcpl, H5P_DEFAULT);
	if (g < 0)
		fail(w, name);
	return g;
}

static int attr_write(struct writer *w, hid_t loc, const char *name, hid_t ftype, hid_t mtype,
                      hsize_t n, int scalar, const void *buf)
{
	if (w->rc)
		return w->rc;
	int rc = 0;
	hid_t sp = scalar ? H5Screate(H5S_SCALAR) : H5Screate_simple(1, &n, NULL);
	hid_t a = sp < 0 ? -1 : H5Acreate2(loc, name, ftype, sp, H5P_DEFAULT, H5P_DEFAULT);
	if (a < 0 || H5Awrite(a, mtype, buf) < 0)
		rc = fail(w, name);
	if (a >= 0)
		H5Aclose(a);
	if (sp >= 0)
		H5Sclose(sp);
	return rc;
}

static int attr_str(struct writer *w, hid_t loc, const char *name, const char *value)
{
	const char *v = value ? value : "";
	return attr_write(w, loc, name, w->str, w->str, 1, 1, &v);
}

/* Large integer and string datasets are chunked, byte-shuffled and deflated at level 1;
 * float64 columns stay contiguous. Measured on a million tasks with random times: all
 * columns deflated, 122 MB in 1.85 s; floats plain, 146 MB in 0.94 s; nothing deflated,
 * 200 MB in 0.73 s. Random doubles shrink by a fifth at best, while the 16-byte
 * references of variable-length strings and small integers shrink 3 to 200 times almost
 * for free. h5py and pandas read gzip and shuffle without plugins. */
#define CHUNK_CELLS 65536

static hid_t dataset_plist(hid_t ftype, int rank, const hsize_t *dims, hsize_t cells, int packed)
{
	hid_t p = H5Pcreate(H5P_DATASET_CREATE);
	if (p < 0 || rank < 1 || cells < CHUNK_CELLS / 16 ||
	    (H5Tget_class(ftype) == H5T_FLOAT && !packed) ||
	    H5Zfilter_avail(H5Z_FILTER_DEFLATE) <= 0)
		return p;
	hsize_t chunk[2] = {1, 1}, row = 1;
	for (int i = 1; i < rank && i < 2; i++) {
		chunk[i] = dims[i];
		row *= dims[i];
	}
	chunk[0] = CHUNK_CELLS / row ? CHUNK_CELLS / row : 1;
	if (chunk[0] > dims[0])
		chunk[0] = dims[0];
	if (H5Pset_chunk(p, rank, chunk) < 0 || H5Pset_shuffle(p) < 0 || H5Pset_deflate(p, 1) < 0) {
		H5Pclose(p);
		return -1;
	}
	return p;
}

/* One dataset, written in one H5Dwrite; packed: deflate floats too (timeline columns,
 * whose values repeat). */
static int dset_write_p(struct writer *w, hid_t loc, const char *name, hid_t ftype, hid_t mtype,
                        int rank, const hsize_t *dims, const void *buf, int packed)
{
	if (w->rc)
		return w->rc;
	int rc = 0;
	hsize_t n = 1;
	for (int i = 0; i < rank; i++)
		n *= dims[i];
	hid_t sp = rank ? H5Screate_simple(rank, dims, NULL) : H5Screate(H5S_SCALAR);
	hid_t dcpl = dataset_plist(ftype, rank, dims, n, packed);
	hid_t d = sp < 0 || dcpl < 0
	              ? -1
	              : H5Dcreate2(loc, name, ftype, sp, H5P_DEFAULT, dcpl, H5P_DEFAULT);
	if (d < 0 || (n && H5Dwrite(d, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) < 0))
		rc = fail(w, name);
	if (d >= 0)
		H5Dclose(d);
	if (dcpl >= 0)
		H5Pclose(dcpl);
	if (sp >= 0)
		H5Sclose(sp);
	return rc;
}

static int dset_write(struct writer *w, hid_t loc, const char *name, hid_t ftype, hid_t mtype,
                      int rank, const hsize_t *dims, const void *buf)
{
	return dset_write_p(w, loc, name, ftype, mtype, rank, dims, buf, 0);
}

static int col_f64(struct writer *w, hid_t g, const char *name, hsize_t n, const double *v)
{
	return dset_write(w, g, name, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 1, &n, v);
}

static int col_i32(struct writer *w, hid_t g, const char *name, hsize_t n, const int32_t *v)
{
	return dset_write(w, g, name, H5T_STD_I32LE, H5T_NATIVE_INT32, 1, &n, v);
}

static int col_str(struct writer *w, hid_t g, const char *name, hsize_t n, const char **v)
{
	return dset_write(w, g, name, w->str, w->str, 1, &n, v);
}

static int write_run(struct writer *w, hid_t file, const struct xpu_run_info *ri)
{
	static const struct xpu_run_info none;
	const struct xpu_run_info *r = ri ? ri : &none;
	int schema = XPU_RESULTS_SCHEMA;
	hid_t g = new_group(w, file, "run");
	if (g < 0)
		return -EIO;
	attr_write(w, g, "schema", H5T_STD_I32LE, H5T_NATIVE_INT, 1, 1, &schema);
	attr_str(w, g, "version", r->version);
	attr_str(w, g, "platform", r->platform);
	attr_str(w, g, "trace", r->trace);
	attr_str(w, g, "sched", r->sched);
	attr_str(w, g, "mem", r->mem);
	attr_str(w, g, "power", r->power);
	attr_str(w, g, "offload", r->offload);
	attr_str(w, g, "mode", r->mode);
	attr_str(w, g, "host", r->host);
	attr_str(w, g, "energy_source", r->energy_source);
	attr_str(w, g, "controls", r->controls ? r->controls : "");
	attr_write(w, g, "pstate_requests", H5T_STD_U64LE, H5T_NATIVE_UINT64, 1, 1,
	           &r->pstate_requests);
	attr_write(w, g, "pstate_refused", H5T_STD_U64LE, H5T_NATIVE_UINT64, 1, 1,
	           &r->pstate_refused);
	attr_write(w, g, "power_limit_requests", H5T_STD_U64LE, H5T_NATIVE_UINT64, 1, 1,
	           &r->limit_requests);
	attr_write(w, g, "power_limit_refused", H5T_STD_U64LE, H5T_NATIVE_UINT64, 1, 1,
	           &r->limit_refused);
	attr_write(w, g, "seed", H5T_STD_U64LE, H5T_NATIVE_UINT64, 1, 1, &r->seed);
	H5Gclose(g);
	return w->rc;
}

static const char *const task_columns[] = {
    "id",       "unit",   "class",    "submit",    "ready",      "start",
    "end",      "energy", "bytes_in", "predicted", "status",     "deadline",
    "priority", "width",  "attempts", "lost_s",    "mem_wait_s", "input_wait_s",
};
#define NTASK_COLUMNS (sizeof(task_columns) / sizeof(task_columns[0]))

/* Which per-task double goes into a column. A task that never reached a stage has
 * NaN there, whatever the engine left in the field: a task never placed on a unit
 * never started. */
enum { C_SUBMIT, C_READY, C_START, C_END, C_ENERGY, C_BYTES_IN, C_PREDICTED, C_DEADLINE };

static double task_value(const struct xpu_task *t, int c)
{
	int started = t->state == XPU_TASK_DONE || t->unit >= 0;
	switch (c) {
	case C_SUBMIT:
		return t->submit;
	case C_READY:
		return t->ready_t;
	case C_START:
		return started ? t->start_t : NAN;
	case C_END:
		return started ? t->end_t : NAN;
	case C_ENERGY:
		return t->energy;
	case C_BYTES_IN:
		return t->bytes_in;
	case C_PREDICTED:
		return started ? t->predicted : NAN;
	default:
		return t->deadline;
	}
}

static int write_tasks(struct writer *w, hid_t file, const struct xpu_workload *wl)
{
	static const struct {
		const char *name;
		int c;
	} f64[] = {
	    {"submit", C_SUBMIT},       {"ready", C_READY},
	    {"start", C_START},         {"end", C_END},
	    {"energy", C_ENERGY},       {"bytes_in", C_BYTES_IN},
	    {"predicted", C_PREDICTED}, {"deadline", C_DEADLINE},
	};
	size_t n = wl ? wl->ntasks : 0;
	const struct xpu_task *tk = wl ? wl->tasks : NULL;

	hid_t g = new_group(w, file, "tasks");
	if (g < 0)
		return -EIO;
	attr_write(w, g, "columns", w->str, w->str, NTASK_COLUMNS, 0, task_columns);

	/* One scratch buffer per element type, reused column after column, so that
	 * each column goes out in a single write. */
	double *d = malloc((n ? n : 1) * sizeof(*d));
	int32_t *iv = malloc((n ? n : 1) * sizeof(*iv));
	const char **sv = malloc((n ? n : 1) * sizeof(*sv));
	if (!d || !iv || !sv) {
		out_of_memory(w);
		goto out;
	}

	for (size_t i = 0; i < n; i++)
		sv[i] = tk[i].id ? tk[i].id : "";
	col_str(w, g, "id", n, sv);
	for (size_t i = 0; i < n; i++)
		iv[i] = tk[i].unit >= 0 ? tk[i].unit : -1;
	col_i32(w, g, "unit", n, iv);
	for (size_t i = 0; i < n; i++)
		sv[i] = xpu_class_name(tk[i].cls);
	col_str(w, g, "class", n, sv);
	for (size_t k = 0; k < sizeof(f64) / sizeof(f64[0]); k++) {
		for (size_t i = 0; i < n; i++)
			d[i] = task_value(&tk[i], f64[k].c);
		col_f64(w, g, f64[k].name, n, d);
		/* status sits between predicted and deadline in the column order. */
		if (f64[k].c == C_PREDICTED) {
			for (size_t i = 0; i < n; i++)
				sv[i] = tk[i].state == XPU_TASK_DONE ? "done" : "failed";
			col_str(w, g, "status", n, sv);
		}
	}
	for (size_t i = 0; i < n; i++)
		iv[i] = tk[i].priority;
	col_i32(w, g, "priority", n, iv);
	for (size_t i = 0; i < n; i++)
		iv[i] = (int32_t)tk[i].width;
	col_i32(w, g, "width", n, iv);
	/* simulated unit failures: starts (more than 1 after a failure), seconds lost */
	for (size_t i = 0; i < n; i++)
		iv[i] = (int32_t)tk[i].attempts;
	col_i32(w, g, "attempts", n, iv);
	for (size_t i = 0; i < n; i++)
		d[i] = tk[i].lost_s;
	col_f64(w, g, "lost_s", n, d);
	/* memory: seconds at its queue's head waiting for memory, then for its inputs */
	for (size_t i = 0; i < n; i++)
		d[i] = tk[i].mem_wait_s;
	col_f64(w, g, "mem_wait_s", n, d);
	for (size_t i = 0; i < n; i++)
		d[i] = tk[i].in_wait_s;
	col_f64(w, g, "input_wait_s", n, d);
out:
	free(d);
	free(iv);
	free(sv);
	H5Gclose(g);
	return w->rc;
}

static int write_units(struct writer *w, hid_t file, const struct xpu_platform *pf,
                       const struct xpu_unit_stats *us, const char *ri_energy_source)
{
	size_t n = pf && pf->nunits > 0 ? (size_t)pf->nunits : 0;
	int maxp = 0;

	hid_t g = new_group(w, file, "units");
	if (g < 0)
		return -EIO;
	for (size_t u = 0; u < n; u++)
		if (pf->units[u].npstates > maxp)
			maxp = pf->units[u].npstates;

	/* Units are few; a buffer of n x max(P-states, 1) doubles serves every column. */
	size_t cells = n * (size_t)(maxp > 1 ? maxp : 1);
	double *d = malloc((cells ? cells : 1) * sizeof(*d));
	int32_t *iv = malloc((n ? n : 1) * sizeof(*iv));
	uint64_t *cnt = malloc((n ? n : 1) * sizeof(*cnt));
	const char **sv = malloc((n ? n : 1) * sizeof(*sv));
	if (!d || !iv || !cnt || !sv) {
		out_of_memory(w);
		goto out;
	}

	for (size_t u = 0; u < n; u++)
		sv[u] = pf->units[u].name ? pf->units[u].name : "";
	col_str(w, g, "name", n, sv);
	for (size_t u = 0; u < n; u++)
		sv[u] = xpu_kind_name(pf->units[u].kind);
	col_str(w, g, "kind", n, sv);
	for (size_t u = 0; u < n; u++)
		iv[u] = pf->units[u].cores;
	col_i32(w, g, "cores", n, iv);
	for (size_t u = 0; u < n; u++)
		sv[u] = us && us[u].energy_source ? us[u].energy_source
		        : ri_energy_source        ? ri_energy_source
		                                  : "";
	col_str(w, g, "energy_source", n, sv);

	/* Absent statistics (a platform that never ran) read as zeros. */
	static const struct xpu_unit_stats zero;
#define UNIT_COL(field)                                                                            \
	do {                                                                                       \
		for (size_t u = 0; u < n; u++)                                                     \
			d[u] = (us ? &us[u] : &zero)->field;                                       \
		col_f64(w, g, #field, n, d);                                                       \
	} while (0)
	UNIT_COL(busy_s);
	UNIT_COL(energy_j);
	UNIT_COL(bytes_in);
	UNIT_COL(bytes_out);
	UNIT_COL(peak_mem);
	UNIT_COL(peak_data);
	UNIT_COL(down_s);
	UNIT_COL(lost_s);
	UNIT_COL(peak_frag);
	UNIT_COL(max_temp_c);
	UNIT_COL(over_warning_s);
	UNIT_COL(over_limit_s);
	UNIT_COL(domain_peak_w);
	UNIT_COL(idle_state_s);
	UNIT_COL(idle_state_j);
	UNIT_COL(wake_j);
#undef UNIT_COL
	for (size_t u = 0; u < n; u++)
		cnt[u] = us ? us[u].tasks : 0;
	dset_write(w, g, "tasks", H5T_STD_U64LE, H5T_NATIVE_UINT64, 1, (hsize_t[]){n}, cnt);
	for (size_t u = 0; u < n; u++)
		cnt[u] = us ? us[u].failures : 0;
	dset_write(w, g, "failures", H5T_STD_U64LE, H5T_NATIVE_UINT64, 1, (hsize_t[]){n}, cnt);
	for (size_t u = 0; u < n; u++)
		cnt[u] = us ? us[u].launch_failures : 0;
	dset_write(w, g, "launch_failures", H5T_STD_U64LE, H5T_NATIVE_UINT64, 1, (hsize_t[]){n},
	           cnt);
	for (size_t u = 0; u < n; u++)
		cnt[u] = us ? us[u].moved_on : 0;
	dset_write(w, g, "moved_on", H5T_STD_U64LE, H5T_NATIVE_UINT64, 1, (hsize_t[]){n}, cnt);
	for (size_t u = 0; u < n; u++)
		cnt[u] = us ? (uint64_t)us[u].taken_out : 0;
	dset_write(w, g, "taken_out", H5T_STD_U64LE, H5T_NATIVE_UINT64, 1, (hsize_t[]){n}, cnt);
	for (size_t u = 0; u < n; u++)
		cnt[u] = us ? us[u].wakes : 0;
	dset_write(w, g, "wakes", H5T_STD_U64LE, H5T_NATIVE_UINT64, 1, (hsize_t[]){n}, cnt);
	for (size_t u = 0; u < n; u++)
		cnt[u] = us ? us[u].evictions : 0;
	dset_write(w, g, "evictions", H5T_STD_U64LE, H5T_NATIVE_UINT64, 1, (hsize_t[]){n}, cnt);
	for (size_t u = 0; u < n; u++)
		cnt[u] = us ? us[u].writebacks : 0;
	dset_write(w, g, "writebacks", H5T_STD_U64LE, H5T_NATIVE_UINT64, 1, (hsize_t[]){n}, cnt);

	for (size_t u = 0; u < n; u++)
		for (int p = 0; p < maxp; p++) {
			const double *r = us ? us[u].residency_s : NULL;
			d[u * (size_t)maxp + p] = r && p < pf->units[u].npstates ? r[p] : NAN;
		}
	dset_write(w, g, "residency_s", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 2,
	           (hsize_t[]){n, (hsize_t)maxp}, d);
out:
	free(d);
	free(iv);
	free(cnt);
	free(sv);
	H5Gclose(g);
	return w->rc;
}

static int write_timeline(struct writer *w, hid_t file, const struct xpu_platform *pf,
                          const struct xpu_timeline *tl)
{
	int nunits = pf && pf->nunits > 0 ? pf->nunits : 0;
	hsize_t n = tl ? tl->n : 0;

	for (hsize_t i = 0; i < n; i++)
		if (tl->unit[i] < 0 || tl->unit[i] >= nunits) {
			xpu_errf(w->err, w->path, 0,
			         "cannot write the result: timeline row %llu names unit %d of %d",
			         (unsigned long long)i, (int)tl->unit[i], nunits);
			w->rc = -EINVAL;
			return w->rc;
		}
	hid_t g = new_group(w, file, "timeline");
	if (g < 0)
		return -EIO;
	/* Change points repeat their values: every column is chunked and deflated. */
	dset_write_p(w, g, "t", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 1, &n, n ? tl->t : NULL, 1);
	dset_write_p(w, g, "unit", H5T_STD_I32LE, H5T_NATIVE_INT32, 1, &n, n ? tl->unit : NULL, 1);
	dset_write_p(w, g, "power_w", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 1, &n,
	             n ? tl->power : NULL, 1);
	dset_write_p(w, g, "pstate", H5T_STD_I32LE, H5T_NATIVE_INT32, 1, &n, n ? tl->pstate : NULL,
	             1);
	dset_write_p(w, g, "util", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 1, &n, n ? tl->util : NULL,
	             1);
	dset_write_p(w, g, "mem_bytes", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 1, &n,
	             n ? tl->mem : NULL, 1);
	dset_write_p(w, g, "frag", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 1, &n, n ? tl->frag : NULL,
	             1);
	{
		/* temperatures: NaN where a unit has no thermal node, or for a timeline not
		 * computed (a run that stopped early) */
		double *temp = tl ? tl->temp : NULL;
		double *nans = NULL;
		if (!temp && n) {
			nans = malloc(n * sizeof(double));
			for (size_t i = 0; nans && i < n; i++)
				nans[i] = NAN;
			temp = nans;
		}
		if (n && !temp)
			out_of_memory(w);
		else
			dset_write_p(w, g, "temp_c", H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 1, &n,
			             n ? temp : NULL, 1);
		free(nans);
	}
	H5Gclose(g);
	return w->rc;
}

/* /data: one row per datum; /transfers: one row per ordered pair of units that copied. */
static int write_data(struct writer *w, hid_t file, const struct xpu_workload *wl,
                      const struct xpu_data_stats *ds)
{
	hsize_t n = wl ? wl->ndata : 0;
	const char **name = malloc((n + 1) * sizeof(*name));
	int32_t *iv = malloc((n + 1) * sizeof(*iv));
	double *dv = malloc((n + 1) * sizeof(*dv));
	hid_t g = -1;
	if (!name || !iv || !dv) {
		out_of_memory(w);
		goto out;
	}
	g = new_group(w, file, "data");
	if (g < 0)
		goto out;
	for (hsize_t i = 0; i < n; i++)
		name[i] = wl->data[i].name;
	col_str(w, g, "name", n, name);
	for (hsize_t i = 0; i < n; i++)
		iv[i] = (int32_t)wl->data[i].part;
	col_i32(w, g, "part", n, iv);
	for (hsize_t i = 0; i < n; i++)
		dv[i] = wl->data[i].size;
	col_f64(w, g, "size", n, dv);
	for (hsize_t i = 0; i < n; i++)
		iv[i] = wl->data[i].producer == UINT32_MAX ? -1 : (int32_t)wl->data[i].producer;
	col_i32(w, g, "producer", n, iv);
	for (hsize_t i = 0; i < n; i++)
		iv[i] = (int32_t)wl->data[i].naccess;
	col_i32(w, g, "accesses", n, iv);
	for (hsize_t i = 0; i < n; i++)
		dv[i] = ds && ds->bytes ? ds->bytes[i] : 0;
	col_f64(w, g, "bytes_moved", n, dv);
	for (hsize_t i = 0; i < n; i++)
		iv[i] = ds && ds->copies ? (int32_t)ds->copies[i] : 0;
	col_i32(w, g, "copies", n, iv);
	H5Gclose(g);
	g = -1;

	hsize_t m = ds ? ds->links.n : 0;
	int32_t *src = malloc((m + 1) * sizeof(*src)), *dst = malloc((m + 1) * sizeof(*dst));
	double *bytes = malloc((m + 1) * sizeof(*bytes)), *cnt = malloc((m + 1) * sizeof(*cnt));
	if (!src || !dst || !bytes || !cnt) {
		out_of_memory(w);
	} else {
		for (hsize_t i = 0; i < m; i++) {
			src[i] = ds->links.v[i].src;
			dst[i] = ds->links.v[i].dst;
			bytes[i] = ds->links.v[i].bytes;
			cnt[i] = (double)ds->links.v[i].count;
		}
		g = new_group(w, file, "transfers");
		if (g >= 0) {
			col_i32(w, g, "src_unit", m, src);
			col_i32(w, g, "dst_unit", m, dst);
			col_f64(w, g, "bytes", m, bytes);
			col_f64(w, g, "copies", m, cnt);
			H5Gclose(g);
			g = -1;
		}
	}
	free(src);
	free(dst);
	free(bytes);
	free(cnt);
out:
	if (g >= 0)
		H5Gclose(g);
	free(name);
	free(iv);
	free(dv);
	return w->rc;
}

static int write_summary(struct writer *w, hid_t file, const struct xpu_summary *s)
{
	int n = s ? s->n : 0;
	const char *keys[XPU_MAX_METRICS];

	hid_t g = new_group(w, file, "summary");
	if (g < 0)
		return -EIO;
	for (int i = 0; i < n; i++) {
		keys[i] = s->m[i].key;
		dset_write(w, g, s->m[i].key, H5T_IEEE_F64LE, H5T_NATIVE_DOUBLE, 0, NULL,
		           &s->m[i].value);
	}
	/* The order is also kept as an attribute, for readers that list a group's
	 * members by name (h5py does unless the file tracks creation order). */
	attr_write(w, g, "keys", w->str, w->str, (hsize_t)n, 0, keys);
	H5Gclose(g);
	return w->rc;
}

/* mkstemp makes 0600 files; a result should get the mode any new file gets. The umask
 * is read from /proc rather than with umask(), which would briefly change it for
 * every thread of the process. */
static mode_t new_file_mode(void)
{
	mode_t mask = 022;
	FILE *f = fopen("/proc/self/status", "r");
	char line[128];
	unsigned m;
	if (f) {
		while (fgets(line, sizeof(line), f))
			if (sscanf(line, "Umask: %o", &m) == 1) {
				mask = (mode_t)m;
				break;
			}
		fclose(f);
	}
	return 0666 & ~mask;
}

/* Write the result under tmp, an existing empty file. */
/* A serving run: /requests (one row per request) and /kv (one row per step). */
static int write_serve(struct writer *w, hid_t file, const struct xpu_serve_view *sv)
{
	hid_t run = H5Gopen2(file, "run", H5P_DEFAULT);
	if (run < 0)
		return fail(w, "opening /run");
	attr_str(w, run, "model", sv->model);
	attr_str(w, run, "deploy", sv->deploy);
	attr_str(w, run, "router", sv->router);
	attr_str(w, run, "replicas", sv->replicas ? sv->replicas : "");
	H5Gclose(run);
	hsize_t n = sv->nreq;
	const char **id = malloc((n + 1) * sizeof(*id));
	double *d = malloc((n + 1) * sizeof(*d));
	int32_t *iv = malloc((n + 1) * sizeof(*iv));
	hid_t g = -1;
	if (!id || !d || !iv) {
		out_of_memory(w);
		goto out;
	}
	if ((g = new_group(w, file, "requests")) < 0)
		goto out;
	for (hsize_t i = 0; i < n; i++)
		id[i] = sv->req[i].id ? sv->req[i].id : "";
	col_str(w, g, "id", n, id);
#define REQ_F64(NAME, EXPR)                                                                        \
	for (hsize_t i = 0; i < n; i++) {                                                          \
		const struct xpu_request *r = &sv->req[i];                                         \
		d[i] = (EXPR);                                                                     \
	}                                                                                          \
	col_f64(w, g, NAME, n, d)
#define REQ_I32(NAME, EXPR)                                                                        \
	for (hsize_t i = 0; i < n; i++) {                                                          \
		const struct xpu_request *r = &sv->req[i];                                         \
		iv[i] = (int32_t)(EXPR);                                                           \
	}                                                                                          \
	col_i32(w, g, NAME, n, iv)
	REQ_F64("arrival", r->arrival);
	REQ_I32("prompt", r->prompt);
	REQ_I32("output", r->output);
	REQ_I32("replica", r->replica);
	REQ_I32("generated", r->generated);
	REQ_F64("first_token", r->first_token_t);
	REQ_F64("end", r->end_t);
	REQ_F64("ttft", r->first_token_t - r->arrival);
	REQ_F64("e2e", r->end_t - r->arrival);
	REQ_F64("tpot",
	        r->generated > 1 ? (r->end_t - r->first_token_t) / (r->generated - 1) : NAN);
	REQ_F64("tbt_max", r->tbt_max);
	REQ_F64("deadline", isfinite(r->deadline) ? r->deadline : NAN);
	REQ_I32("preemptions", r->preemptions);
	REQ_I32("done", r->state == XPU_REQ_DONE);
#undef REQ_F64
#undef REQ_I32
	H5Gclose(g);
	if ((g = new_group(w, file, "kv")) < 0)
		goto out;
	hsize_t k = sv->nkv;
	col_f64(w, g, "t", k, sv->kv_t);
	col_i32(w, g, "replica", k, sv->kv_rep);
	col_f64(w, g, "used", k, sv->kv_used);
	H5Gclose(g);
out:
	free(id);
	free(d);
	free(iv);
	return w->rc;
}

static int write_file(struct writer *w, const char *tmp, const struct xpu_run_info *ri,
                      const struct xpu_platform *pf, const struct xpu_workload *wl,
                      const struct xpu_unit_stats *us, const struct xpu_timeline *tl,
                      const struct xpu_summary *s)
{
	int rc = -EIO;
	hid_t fcpl = -1, fapl = -1, file = -1;

	w->str = H5Tcopy(H5T_C_S1);
	if (w->str < 0 || H5Tset_size(w->str, H5T_VARIABLE) < 0 ||
	    H5Tset_cset(w->str, H5T_CSET_UTF8) < 0)
		goto out;
	w->gcpl = H5Pcreate(H5P_GROUP_CREATE);
	fcpl = H5Pcreate(H5P_FILE_CREATE);
	fapl = H5Pcreate(H5P_FILE_ACCESS);
	if (w->gcpl < 0 || fcpl < 0 || fapl < 0)
		goto out;
	unsigned order = H5P_CRT_ORDER_TRACKED | H5P_CRT_ORDER_INDEXED;
	/* A strong close flushes and closes everything even if an object were left
	 * open by mistake, so that H5Fclose's success means a complete file. */
	if (H5Pset_link_creation_order(w->gcpl, order) < 0 ||
	    H5Pset_link_creation_order(fcpl, order) < 0 ||
	    H5Pset_fclose_degree(fapl, H5F_CLOSE_STRONG) < 0)
		goto out;

	file = H5Fcreate(tmp, H5F_ACC_TRUNC, fcpl, fapl);
	if (file < 0) {
		fail(w, "creating the file");
		goto out;
	}
	rc = write_run(w, file, ri);
	if (!rc)
		rc = write_tasks(w, file, wl);
	if (!rc)
		rc = write_units(w, file, pf, us, ri ? ri->energy_source : NULL);
	if (!rc)
		rc = write_timeline(w, file, pf, tl);
	if (!rc)
		rc = write_data(w, file, wl, ri ? ri->data : NULL);
	if (!rc && ri && ri->serve)
		rc = write_serve(w, file, ri->serve);
	if (!rc)
		rc = write_summary(w, file, s);
	herr_t closed = H5Fclose(file);
	if (!rc && closed < 0)
		rc = fail(w, "closing the file");
out:
	if (rc && !w->rc)
		fail(w, "setting up HDF5");
	if (fapl >= 0)
		H5Pclose(fapl);
	if (fcpl >= 0)
		H5Pclose(fcpl);
	if (w->gcpl >= 0)
		H5Pclose(w->gcpl);
	if (w->str >= 0)
		H5Tclose(w->str);
	return w->rc;
}

/* An OS-level failure: the message names the path and says what the system said. */
static int os_fail(struct xpu_err *err, const char *path, const char *what, int e)
{
	xpu_errf(err, path, 0, "cannot write the result: %s: %s", what, strerror(e));
	return -e;
}

int xpu_results_write(const char *path, const struct xpu_run_info *ri,
                      const struct xpu_platform *pf, const struct xpu_workload *wl,
                      const struct xpu_unit_stats *us, const struct xpu_timeline *tl,
                      const struct xpu_summary *s, struct xpu_err *err)
{
	struct writer w = {.path = path, .err = err, .str = -1, .gcpl = -1};
	struct quiet q;
	int rc, fd;

	if (!path || !*path)
		return xpu_errf(err, NULL, 0, "no result file name given");
	if (xpu_output_check(path, NULL, 0, err))
		return -EINVAL; /* a directory under that name */
	if (xpu_output_is_special(path))
		return xpu_errf(err, path, 0,
		                "an HDF5 result needs a regular file, not a device or pipe (give "
		                "--output - to write none)");

	/* The sibling temporary lives in the same directory, so that rename() is atomic
	 * and a reader never sees a half-written file under the final name. */
	size_t len = strlen(path) + sizeof(".tmp-XXXXXX");
	char *tmp = malloc(len);
	if (!tmp)
		return os_fail(err, path, "temporary name", ENOMEM);
	snprintf(tmp, len, "%s.tmp-XXXXXX", path);
	fd = mkstemp(tmp);
	if (fd < 0) {
		int e = errno;
		const char *slash = strrchr(path, '/');
		char dir[512];
		if (!slash)
			snprintf(dir, sizeof(dir), ".");
		else
			snprintf(dir, sizeof(dir), "%.*s", (int)(slash == path ? 1 : slash - path),
			         path);
		char what[600];
		snprintf(what, sizeof(what), "cannot create a file in directory '%s'", dir);
		free(tmp);
		return os_fail(err, path, what, e);
	}
	xpu_tmp_register(tmp);
	if (fchmod(fd, new_file_mode()) < 0 || close(fd) < 0) {
		rc = os_fail(err, path, "preparing the temporary file", errno);
		unlink(tmp);
		xpu_tmp_unregister(tmp);
		free(tmp);
		return rc;
	}

	hdf5_quiet(&q);
	rc = write_file(&w, tmp, ri, pf, wl, us, tl, s);
	H5Eclear2(H5E_DEFAULT);
	hdf5_restore(&q);

	/* Data must be on disk before the name points at it, or a crash right after
	 * the rename could leave an empty or partial file under the final name. */
	if (!rc) {
		fd = open(tmp, O_RDONLY);
		if (fd < 0 || fsync(fd) < 0)
			rc = os_fail(err, path, "flushing the file", errno);
		if (fd >= 0)
			close(fd);
	}
	if (!rc && rename(tmp, path) < 0)
		rc = os_fail(err, path, "renaming the temporary file into place", errno);
	if (rc)
		unlink(tmp);
	xpu_tmp_unregister(tmp);
	free(tmp);
	return rc;
}

/* ------------------------------------------------------------------ reader */

void xpu_summary_clear(struct xpu_summary *s)
{
	for (int i = 0; i < s->n; i++)
		free((char *)s->m[i].key);
	s->n = 0;
}

/* Read one metric: a scalar (or one-element) integer or float dataset. */
static int read_metric(hid_t g, const char *name, double *v)
{
	int rc = -EINVAL;
	hid_t d = H5Dopen2(g, name, H5P_DEFAULT);
	if (d < 0)
		return rc;
	hid_t t = H5Dget_type(d), sp = H5Dget_space(d);
	if (t >= 0 && sp >= 0) {
		H5T_class_t c = H5Tget_class(t);
		if ((c == H5T_FLOAT || c == H5T_INTEGER) && H5Sget_simple_extent_npoints(sp) == 1 &&
		    H5Dread(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) >= 0)
			rc = 0;
	}
	if (sp >= 0)
		H5Sclose(sp);
	if (t >= 0)
		H5Tclose(t);
	H5Dclose(d);
	return rc;
}

static int read_group(const char *path, hid_t g, struct xpu_summary *s, struct xpu_err *err)
{
	H5G_info_t info;
	if (H5Gget_info(g, &info) < 0)
		return xpu_errf(err, path, 0, "cannot read the /summary group");

	/* Creation order is the order the metrics were written; a file from another
	 * writer that did not track it is read in name order. */
	H5_index_t idx = H5_INDEX_NAME;
	unsigned flags = 0;
	hid_t gcpl = H5Gget_create_plist(g);
	if (gcpl >= 0) {
		if (H5Pget_link_creation_order(gcpl, &flags) >= 0 &&
		    (flags & H5P_CRT_ORDER_TRACKED))
			idx = H5_INDEX_CRT_ORDER;
		H5Pclose(gcpl);
	}
	if (info.nlinks > XPU_MAX_METRICS)
		return xpu_errf(err, path, 0, "/summary holds %llu metrics, at most %d are read",
		                (unsigned long long)info.nlinks, XPU_MAX_METRICS);

	for (hsize_t i = 0; i < info.nlinks; i++) {
		ssize_t len = H5Lget_name_by_idx(g, ".", idx, H5_ITER_INC, i, NULL, 0, H5P_DEFAULT);
		char *key = len < 0 ? NULL : malloc((size_t)len + 1);
		if (!key || H5Lget_name_by_idx(g, ".", idx, H5_ITER_INC, i, key, (size_t)len + 1,
		                               H5P_DEFAULT) < 0) {
			free(key);
			return xpu_errf(err, path, 0, "cannot list the /summary group");
		}
		double v;
		if (read_metric(g, key, &v) < 0) {
			xpu_errf(err, path, 0, "/summary/%s: expected a number", key);
			free(key);
			return -EINVAL;
		}
		s->m[s->n++] = (struct xpu_metric){key, v};
	}
	return 0;
}

int xpu_results_read_summary(const char *path, struct xpu_summary *s, struct xpu_err *err)
{
	struct quiet q;
	hid_t file = -1, g = -1;
	int rc;

	s->n = 0;
	/* Ask the system first, so that a missing file reads as one, not as "not
	 * HDF5". */
	struct stat st;
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return xpu_errf(err, path, 0, "cannot open: %s", strerror(errno));
	int isdir = fstat(fd, &st) == 0 && S_ISDIR(st.st_mode);
	close(fd);
	if (isdir)
		return xpu_errf(err, path, 0, "expected a result file, got a directory");

	hdf5_quiet(&q);
	if (H5Fis_hdf5(path) <= 0) {
		rc = xpu_errf(err, path, 0, "not an xpuopt result (not an HDF5 file)");
		goto out;
	}
	file = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
	if (file < 0) {
		rc = xpu_errf(err, path, 0, "not an xpuopt result (cannot open it as HDF5)");
		goto out;
	}
	if (H5Lexists(file, "summary", H5P_DEFAULT) <= 0 ||
	    (g = H5Gopen2(file, "summary", H5P_DEFAULT)) < 0) {
		rc = xpu_errf(err, path, 0, "not an xpuopt result (no /summary group)");
		goto out;
	}
	rc = read_group(path, g, s, err);
out:
	if (rc)
		xpu_summary_clear(s);
	if (g >= 0)
		H5Gclose(g);
	if (file >= 0)
		H5Fclose(file);
	H5Eclear2(H5E_DEFAULT);
	hdf5_restore(&q);
	return rc;
}
