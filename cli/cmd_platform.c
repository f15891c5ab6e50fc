/* cmd_platform.c — `xpuopt platform FILE`: validate a platform file through the sim
 * backend and list its units, memories, classes and routes. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backend.h"
#include "cli.h"
#include "nodes.h"
#include "platform.h"

static void platform_usage(FILE *out)
{
	fputs("Usage: xpuopt platform [--routes] FILE\n"
	      "       xpuopt platform [--gpu-alias NAME=KNOWN]... [-o OUT.xml] NODES.csv\n\n"
	      "Load a SimGrid platform file (DTD 4.1) with xpuopt's properties, check it,\n"
	      "and list its units: kind, cores, speed per core and power at each P-state,\n"
	      "memory, memory bandwidth, launch and wake latency, kernel classes, then\n"
	      "the route between every pair of units.\n\n"
	      "A cluster node list (CSV with sn, cpu_milli, memory_mib, gpu, model, as in\n"
	      "Alibaba cluster-trace-gpu-v2023) stands for the platform of its nodes: its\n"
	      "totals are printed, then the generated platform is listed, or written to\n"
	      "OUT.xml with -o. Any command taking --platform accepts a node list too.\n\n"
	      "Options:\n"
	      "  --routes                list every pair of units even on a large platform (by\n"
	      "                          default platforms with more than 16 units get a route\n"
	      "                          summary)\n"
	      "  -o, --output OUT.xml    node lists: write the generated platform ('-' for\n"
	      "                          standard output) instead of listing it\n"
	      "  --gpu-alias NAME=KNOWN  node lists: model GPU model NAME, which the built-in\n"
	      "                          table lacks, as the known model KNOWN (repeatable)\n"
	      "  -h, --help              show this help\n\n"
	      "Properties are documented in platforms/README.md; the node-list mapping and\n"
	      "its GPU table in traces/FORMAT.md.\n"
	      "Exit status: 0 valid, 2 bad usage or invalid file.\n",
	      out);
}

/* Number with an SI prefix: 163.2e9 -> "163.2 G". */
static const char *si(char *buf, size_t n, double v, const char *unit)
{
	static const char *const pre[] = {"", "k", "M", "G", "T", "P", "E"};
	int i = 0;
	while (fabs(v) >= 1000 && i < 6) {
		v /= 1000;
		i++;
	}
	snprintf(buf, n, "%.4g %s%s", v, pre[i], unit);
	return buf;
}

/* Byte size with a binary prefix when it is an exact multiple, else decimal. */
static const char *bytes_str(char *buf, size_t n, double v)
{
	static const char *const bin[] = {"B", "KiB", "MiB", "GiB", "TiB", "PiB"};
	if (v <= 0)
		return snprintf(buf, n, "unlimited"), buf;
	int i = 0;
	double x = v;
	while (x >= 1024 && fmod(x, 1024) == 0 && i < 5) {
		x /= 1024;
		i++;
	}
	if (i > 0 && x < 1024)
		snprintf(buf, n, "%.6g %s", x, bin[i]);
	else
		si(buf, n, v, "B");
	return buf;
}

static const char *secs_str(char *buf, size_t n, double s)
{
	if (s == 0)
		snprintf(buf, n, "0");
	else if (s < 1e-6)
		snprintf(buf, n, "%.4g ns", s * 1e9);
	else if (s < 1e-3)
		snprintf(buf, n, "%.4g us", s * 1e6);
	else if (s < 1)
		snprintf(buf, n, "%.4g ms", s * 1e3);
	else
		snprintf(buf, n, "%.4g s", s);
	return buf;
}

/* Appends to a table cell. */
static void cat(char *dst, size_t n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void cat(char *dst, size_t n, const char *fmt, ...)
{
	size_t len = strlen(dst);
	if (len + 1 >= n)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(dst + len, n - len, fmt, ap);
	va_end(ap);
}

enum {
	COL_UNIT,
	COL_KIND,
	COL_CORES,
	COL_SPEED,
	COL_POWER,
	COL_MEM,
	COL_BW,
	COL_LAUNCH,
	COL_WAKE,
	NCOLS
};

#define CELL 256

static void print_units(const struct xpu_platform *pf)
{
	static const char *const head[NCOLS] = {
	    "UNIT",   "KIND",   "CORES", "SPEED/CORE BY P-STATE", "POWER W IDLE..FULL", "MEMORY",
	    "MEM BW", "LAUNCH", "WAKE",
	};
	char(*cell)[NCOLS][CELL] = calloc((size_t)pf->nunits, sizeof(*cell));
	if (!cell)
		return;
	int width[NCOLS];
	for (int c = 0; c < NCOLS; c++)
		width[c] = (int)strlen(head[c]);
	for (int i = 0; i < pf->nunits; i++) {
		const struct xpu_unit *u = &pf->units[i];
		char b[64];
		snprintf(cell[i][COL_UNIT], CELL, "%s", u->name);
		snprintf(cell[i][COL_KIND], CELL, "%s", xpu_kind_name(u->kind));
		snprintf(cell[i][COL_CORES], CELL, "%d", u->cores);
		for (int p = 0; p < u->npstates; p++) {
			const struct xpu_pstate *ps = &u->pstates[p];
			cat(cell[i][COL_SPEED], CELL, "%s%s", p ? ", " : "",
			    si(b, sizeof(b), ps->speed, "f"));
			cat(cell[i][COL_POWER], CELL, "%s%g..%g", p ? ", " : "", ps->idle_w,
			    ps->full_w);
		}
		const struct xpu_mempool *m = &pf->pools[u->mem_pool];
		int sharers = 0;
		for (int j = 0; j < pf->nunits; j++)
			sharers += pf->units[j].mem_pool == u->mem_pool;
		if (sharers > 1)
			snprintf(cell[i][COL_MEM], CELL, "%s %s, shared", m->name,
			         bytes_str(b, sizeof(b), m->capacity));
		else
			snprintf(cell[i][COL_MEM], CELL, "%s",
			         bytes_str(b, sizeof(b), m->capacity));
		if (u->mem_bw > 0)
			snprintf(cell[i][COL_BW], CELL, "%s", si(b, sizeof(b), u->mem_bw, "B/s"));
		else
			snprintf(cell[i][COL_BW], CELL, "no bound");
		snprintf(cell[i][COL_LAUNCH], CELL, "%s",
		         secs_str(b, sizeof(b), u->launch_latency));
		/* the deepest idle state's exit: the longest a wake can take */
		snprintf(cell[i][COL_WAKE], CELL, "%s",
		         secs_str(b, sizeof(b),
		                  u->nidle ? u->idle[u->nidle - 1].exit_latency : u->wake_latency));
		for (int c = 0; c < NCOLS; c++)
			if ((int)strlen(cell[i][c]) > width[c])
				width[c] = (int)strlen(cell[i][c]);
	}
	for (int r = -1; r < pf->nunits; r++) {
		for (int c = 0; c < NCOLS; c++) {
			const char *s = r < 0 ? head[c] : cell[r][c];
			if (c == NCOLS - 1)
				printf("%s\n", s); /* no trailing blanks */
			else if (c == COL_CORES)
				printf("%*s  ", width[c], s); /* a count: right-aligned */
			else
				printf("%-*s  ", width[c], s);
		}
	}
	free(cell);
}

/* Prints words separated by sep, wrapping at 100 columns under an indent. */
struct wrap {
	int col, indent;
};

static void wrap_word(struct wrap *w, const char *sep, const char *word)
{
	int len = (int)(strlen(sep) + strlen(word));
	if (w->col > w->indent && w->col + len > 100) {
		/* The separator's punctuation stays on this line, its blank goes. */
		printf("%.*s\n%*s", (int)strcspn(sep, " "), sep, w->indent, "");
		w->col = w->indent;
		sep = "";
	}
	w->col += printf("%s%s", sep, word);
}

static void print_classes(const struct xpu_platform *pf)
{
	int nw = 4;
	for (int i = 0; i < pf->nunits; i++)
		if ((int)strlen(pf->units[i].name) > nw)
			nw = (int)strlen(pf->units[i].name);
	printf("\nKernel classes (peak rate x efficiency):\n");
	for (int i = 0; i < pf->nunits; i++) {
		const struct xpu_unit *u = &pf->units[i];
		struct wrap w = {.indent = nw + 4};
		w.col = printf("  %-*s  ", nw, u->name);
		if (!u->has_class_props) {
			printf("all at SimGrid speed\n");
			continue;
		}
		/* Group classes by peak so that a unit with one peak reads as one phrase. */
		int done[XPU_CLASS_COUNT] = {0}, groups = 0;
		char word[96], b[64];
		for (int c = 0; c < XPU_CLASS_COUNT; c++) {
			const struct xpu_class_cap *k = &u->cls[c];
			if (!k->supported || done[c])
				continue;
			if (k->peak > 0)
				snprintf(word, sizeof(word), "%s:", si(b, sizeof(b), k->peak, "f"));
			else
				snprintf(word, sizeof(word), "SimGrid speed:");
			wrap_word(&w, groups++ ? "; " : "", word);
			for (int d = c, n = 0; d < XPU_CLASS_COUNT; d++) {
				const struct xpu_class_cap *e = &u->cls[d];
				if (!e->supported || e->peak != k->peak)
					continue;
				done[d] = 1;
				snprintf(word, sizeof(word), "%s x%g", xpu_class_name(d),
				         e->efficiency);
				wrap_word(&w, n++ ? ", " : " ", word);
			}
		}
		for (int c = 0, n = 0; c < XPU_CLASS_COUNT; c++) {
			if (u->cls[c].supported)
				continue;
			if (!n++) {
				snprintf(word, sizeof(word), "unsupported: %s", xpu_class_name(c));
				wrap_word(&w, groups ? "; " : "", word);
			} else {
				wrap_word(&w, ", ", xpu_class_name(c));
			}
		}
		putchar('\n');
	}
}

/* Per-class launch latencies, FPGA bitstreams, idle states, thermal nodes and SoC power
 * budgets, for the units that have them. */
static void print_extras(const struct xpu_platform *pf)
{
	int fpga = 0, soc = 0, per_class = 0, idle = 0, thermal = 0;
	for (int i = 0; i < pf->nunits; i++) {
		fpga |= pf->units[i].nbitstreams > 0 || pf->units[i].reconfig_time > 0;
		soc |= pf->units[i].soc_budget_w > 0;
		idle |= pf->units[i].nidle > 0;
		thermal |= pf->units[i].th_r > 0;
		for (int c = 0; c < XPU_CLASS_COUNT; c++)
			per_class |= pf->units[i].cls[c].has_launch;
	}
	char b[64];
	if (per_class) {
		printf(
		    "\nLaunch latency per class (xpu.launch.CLASS; other classes: the unit's):\n");
		for (int i = 0; i < pf->nunits; i++) {
			const struct xpu_unit *u = &pf->units[i];
			int n = 0;
			for (int c = 0; c < XPU_CLASS_COUNT; c++) {
				if (!u->cls[c].has_launch)
					continue;
				if (!n++)
					printf("  %s ", u->name);
				printf("%s %s %s", n > 1 ? "," : "", xpu_class_name(c),
				       secs_str(b, sizeof(b), u->cls[c].launch));
			}
			if (n)
				putchar('\n');
		}
	}
	if (fpga) {
		printf("\nFPGA bitstreams (reconfiguration time when a task needs another):\n");
		for (int i = 0; i < pf->nunits; i++) {
			const struct xpu_unit *u = &pf->units[i];
			if (!u->nbitstreams && !(u->reconfig_time > 0))
				continue;
			printf("  %s  reconfig %s", u->name,
			       secs_str(b, sizeof(b), u->reconfig_time));
			for (int k = 0; k < u->nbitstreams; k++) {
				printf("%s %s:", k ? ";" : ",", u->bitstream_names[k]);
				for (int c = 0, n = 0; c < XPU_CLASS_COUNT; c++)
					if (u->bitstream[c] == k)
						printf("%s%s", n++ ? "," : " ", xpu_class_name(c));
			}
			putchar('\n');
		}
	}
	if (idle) {
		printf("\nIdle states (name: exit latency, target residency, power[, wake "
		       "energy]):\n");
		for (int i = 0; i < pf->nunits; i++) {
			const struct xpu_unit *u = &pf->units[i];
			if (!u->nidle)
				continue;
			printf("  %s ", u->name);
			for (int k = 0; k < u->nidle; k++) {
				char r[64];
				printf("%s %s: %s, %s, %g W", k ? ";" : "", u->idle[k].name,
				       secs_str(b, sizeof(b), u->idle[k].exit_latency),
				       secs_str(r, sizeof(r), u->idle[k].target_residency),
				       u->idle[k].power_w);
				if (u->idle[k].wake_j > 0)
					printf(", %g J", u->idle[k].wake_j);
			}
			putchar('\n');
		}
	}
	if (thermal) {
		printf("\nThermal nodes (R to ambient or sink, C, ambient, warning, limit):\n");
		for (int i = 0; i < pf->nunits; i++) {
			const struct xpu_unit *u = &pf->units[i];
			if (!(u->th_r > 0))
				continue;
			printf("  %s  %g K/W, %g J/K, %g C, warning %g C, limit %g C", u->name,
			       u->th_r, u->th_c, u->th_ambient, u->th_warning, u->th_limit);
			if (u->th_sink[0])
				printf(", on sink %s (%g K/W, %g J/K)", u->th_sink, u->th_sink_r,
				       u->th_sink_c);
			putchar('\n');
		}
	}
	if (soc) {
		printf("\nPower domains (xpu.soc.budget, shared by the units of one memory; the "
		       "powercap policy enforces them):\n");
		/* one line per memory: its units share the budget */
		for (int p = 0; p < pf->npools; p++) {
			int n = 0;
			double w = 0;
			for (int i = 0; i < pf->nunits; i++)
				if (pf->units[i].mem_pool == p && pf->units[i].soc_budget_w > 0) {
					printf("%s%s", n++ ? ", " : "  ", pf->units[i].name);
					w = pf->units[i].soc_budget_w;
				}
			if (n)
				printf(": %g W (memory %s)\n", w, pf->pools[p].name);
		}
	}
}

static void route_str(char *buf, size_t n, const struct xpu_platform *pf, int i, int j)
{
	char l[64], b[64];
	double lat, bw;
	if (pf->units[i].mem_pool == pf->units[j].mem_pool)
		snprintf(buf, n, "shared memory (%s), no copy",
		         pf->pools[pf->units[i].mem_pool].name);
	else if (xpu_platform_route(pf, i, j, &lat, &bw))
		snprintf(buf, n, "latency %s, bandwidth %s", secs_str(l, sizeof(l), lat),
		         si(b, sizeof(b), bw, "B/s"));
	else
		snprintf(buf, n, "no route");
}

static void print_routes(const struct xpu_platform *pf, int all)
{
	int n = pf->nunits;
	if (n < 2)
		return;
	if (!all && n > 16) {
		/* Routes are computed on demand: the summary looks at each unit's routes to
		 * up to 8 others spread over the index range (O(units) queries); --routes
		 * asks for every pair. */
		double lmin = INFINITY, lmax = 0, bmin = INFINITY, bmax = 0;
		long shared = 0, links = 0, none = 0, asked = 0;
		int others = n - 1 < 8 ? n - 1 : 8;
		for (int i = 0; i < n; i++)
			for (int k = 1; k <= others; k++) {
				int j = (int)((i + (long)k * (n - 1) / others) % n);
				if (j == i)
					continue;
				asked++;
				double lat, bw;
				if (pf->units[i].mem_pool == pf->units[j].mem_pool) {
					shared++;
				} else if (xpu_platform_route(pf, i, j, &lat, &bw)) {
					links++;
					lmin = fmin(lmin, lat);
					lmax = fmax(lmax, lat);
					bmin = fmin(bmin, bw);
					bmax = fmax(bmax, bw);
				} else {
					none++;
				}
			}
		char a[64], b[64], c[64], d[64];
		printf("\nRoutes (computed on demand; a sample of %ld ordered pairs): %ld over "
		       "links, %ld in shared memory, %ld without a route\n",
		       asked, links, shared, none);
		if (links)
			printf("  latency %s .. %s, bandwidth %s .. %s (--routes lists each)\n",
			       secs_str(a, sizeof(a), lmin), secs_str(b, sizeof(b), lmax),
			       si(c, sizeof(c), bmin, "B/s"), si(d, sizeof(d), bmax, "B/s"));
		return;
	}
	int w = 0;
	for (int i = 0; i < n; i++)
		if ((int)strlen(pf->units[i].name) > w)
			w = (int)strlen(pf->units[i].name);
	printf("\nRoutes:\n");
	for (int i = 0; i < n; i++)
		for (int j = 0; j < n; j++) {
			if (i == j)
				continue;
			char ij[256], ji[256];
			route_str(ij, sizeof(ij), pf, i, j);
			route_str(ji, sizeof(ji), pf, j, i);
			/* One line per pair when both directions agree. */
			if (!strcmp(ij, ji)) {
				if (j < i)
					continue;
				printf("  %-*s <-> %-*s  %s\n", w, pf->units[i].name, w,
				       pf->units[j].name, ij);
			} else {
				printf("  %-*s  -> %-*s  %s\n", w, pf->units[i].name, w,
				       pf->units[j].name, ij);
			}
		}
}

/* Long-only options take values beyond any character. */
enum { OPT_ROUTES = 256, OPT_ALIAS };

#define MAX_ALIASES 64

int xpu_cmd_platform(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"routes", no_argument, NULL, OPT_ROUTES},
	    {"output", required_argument, NULL, 'o'},
	    {"gpu-alias", required_argument, NULL, OPT_ALIAS},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	int all_routes = 0, c, naliases = 0;
	const char *aliases[MAX_ALIASES + 1] = {NULL}, *output = NULL;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, "ho:", opts, NULL)) != -1) {
		switch (c) {
		case OPT_ROUTES:
			all_routes = 1;
			break;
		case 'o':
			output = optarg;
			break;
		case OPT_ALIAS:
			if (naliases == MAX_ALIASES)
				return xpu_cli_bad_usage("platform",
				                         "more than %s --gpu-alias options", "64");
			aliases[naliases++] = optarg;
			break;
		case 'h':
			platform_usage(stdout);
			return 0;
		default:
			if (optopt == OPT_ROUTES)
				fputs("xpuopt platform: option '--routes' takes no value\n",
				      stderr);
			else if (optopt == 'o' || optopt == OPT_ALIAS)
				fprintf(stderr, "xpuopt platform: option '%s' needs a value\n",
				        argv[optind - 1]);
			else if (optopt)
				fprintf(stderr, "xpuopt platform: unknown option '-%c'\n", optopt);
			else
				fprintf(stderr, "xpuopt platform: unknown option '%s'\n",
				        argv[optind - 1]);
			fputs("see 'xpuopt platform --help'\n", stderr);
			return 2;
		}
	}
	if (argc - optind != 1) {
		fprintf(stderr, "xpuopt platform: %s\n",
		        optind >= argc ? "expected a platform file" : "expected one platform file");
		fputs("see 'xpuopt platform --help'\n", stderr);
		return 2;
	}
	const char *path = argv[optind];
	struct xpu_err err = {{0}};
	char tmp[4096] = "";
	const char *load = path;
	int list = xpu_nodes_is_list(path);
	if (!list && (output || naliases))
		return xpu_cli_bad_usage("platform",
		                         "%s is not a cluster node list: -o and "
		                         "--gpu-alias apply to node lists only",
		                         path);
	if (list) {
		struct xpu_nodes ns;
		int rc = xpu_nodes_read(path, aliases, &ns, &err);
		if (rc < 0) {
			fprintf(stderr, "xpuopt: %s\n", err.msg[0] ? err.msg : strerror(-rc));
			return rc == -EINVAL ? 2 : 1;
		}
		if (output) {
			struct xpu_cli_out o;
			const char *inputs[] = {path};
			int orc = xpu_cli_out_open_inputs(&o, output, inputs, 1);
			if (orc < 0) {
				xpu_nodes_free(&ns);
				return orc == -EINVAL ? 2 : 1;
			}
			rc = xpu_nodes_write_platform(&ns, o.f) < 0;
			rc = xpu_cli_out_close(&o, rc);
			if (!rc && strcmp(output, "-"))
				xpu_nodes_describe(&ns, stdout);
			xpu_nodes_free(&ns);
			return rc;
		}
		xpu_nodes_describe(&ns, stdout);
		putchar('\n');
		rc = xpu_nodes_write_tmp(&ns, tmp, sizeof(tmp), &err);
		xpu_nodes_free(&ns);
		if (rc < 0) {
			fprintf(stderr, "xpuopt: %s\n", err.msg);
			return 1;
		}
		load = tmp;
	}

	struct xpu_backend be = {.ops = &xpu_backend_sim};
	struct xpu_platform pf;
	memset(&pf, 0, sizeof(pf));
	int rc = be.ops->open(&be, load, &pf, &err);
	if (list)
		unlink(tmp);
	if (rc < 0) {
		fprintf(stderr, "xpuopt: %s\n", err.msg[0] ? err.msg : strerror(-rc));
		return rc == -EINVAL ? 2 : 1;
	}
	be.pf = &pf;

	printf("%s: %d unit%s, %d memor%s\n\n", path, pf.nunits, pf.nunits == 1 ? "" : "s",
	       pf.npools, pf.npools == 1 ? "y" : "ies");
	print_units(&pf);
	print_classes(&pf);
	print_extras(&pf);
	print_routes(&pf, all_routes);

	be.ops->close(&be);
	xpu_platform_free(&pf);
	return 0;
}
