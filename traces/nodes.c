/* nodes.c — read a GPU cluster's node list and write the SimGrid platform of its
 * machines, so that the cluster's own job trace replays on the cluster it ran on.
 *
 * Alibaba clusterdata cluster-trace-gpu-v2023 (Weng et al., USENIX ATC 2023) lists its
 * nodes as sn, cpu_milli (thousandths of a logical CPU), memory_mib, gpu (count) and
 * model. Each node becomes up to two units sharing the node's memory: a CPU unit with
 * one core per logical CPU and, when it has GPUs, a GPU unit with one core per GPU.
 * The trace does not say which CPU the nodes carry, nor their network, so those are
 * estimates, and the generated file says so beside each number. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "lineio.h"
#include "nodes.h"

#define TB   1e12
#define GBPS 1e9

/* Vendor datasheets. Figures are per GPU: FP32 peak, dense FP16 peak (tensor cores
 * where the GPU has them; without sparsity), memory bandwidth, board power. */
const struct xpu_gpu_model xpu_gpu_models[] = {
    {"P100", "Tesla P100 PCIe 16 GB", 9.3 * TB, 18.7 * TB, 732 * GBPS, 250, "NV-P100", 0},
    {"T4", "Tesla T4", 8.1 * TB, 65 * TB, 320 * GBPS, 70, "NV-T4", 0},
    {"V100M16", "Tesla V100 SXM2 16 GB", 15.7 * TB, 125 * TB, 900 * GBPS, 300, "NV-V100", 0},
    {"V100M32", "Tesla V100 SXM2 32 GB", 15.7 * TB, 125 * TB, 900 * GBPS, 300, "NV-V100", 0},
    {"V100", "Tesla V100 SXM2", 15.7 * TB, 125 * TB, 900 * GBPS, 300, "NV-V100", 0},
    {"A10", "A10", 31.2 * TB, 125 * TB, 600 * GBPS, 150, "NV-A10", 0},
    {"A100", "A100 SXM4 40 GB", 19.5 * TB, 312 * TB, 1555 * GBPS, 400, "NV-A100", 0},
    {"A100M80", "A100 SXM4 80 GB", 19.5 * TB, 312 * TB, 2039 * GBPS, 400, "NV-A100", 0},
    {"A800", "A800 SXM4 80 GB (A100 80 GB compute)", 19.5 * TB, 312 * TB, 2039 * GBPS, 400,
     "NV-A100", 0},
    {"L4", "L4", 30.3 * TB, 121 * TB, 300 * GBPS, 72, "NV-L4", 0},
    {"H100", "H100 SXM5", 67 * TB, 989 * TB, 3350 * GBPS, 700, "NV-H100", 0},
    {"H800", "H800 SXM5 (H100 SXM5 compute)", 67 * TB, 989 * TB, 3350 * GBPS, 700, "NV-H100", 0},
    /* The v2023 trace hides three models behind G1..G3. Stand-ins: the V100 SXM2
     * 32 GB, the most common datacenter GPU of the period the cluster was built in. */
    {"G1", "undisclosed (V100 SXM2 32 GB stand-in)", 15.7 * TB, 125 * TB, 900 * GBPS, 300,
     "NV-V100", 1},
    {"G2", "undisclosed (V100 SXM2 32 GB stand-in)", 15.7 * TB, 125 * TB, 900 * GBPS, 300,
     "NV-V100", 1},
    {"G3", "undisclosed (V100 SXM2 32 GB stand-in)", 15.7 * TB, 125 * TB, 900 * GBPS, 300,
     "NV-V100", 1},
    {NULL, NULL, 0, 0, 0, 0, NULL, 0},
};

static const struct {
	const char *tag, *text;
} cites[] = {
    {"NV-P100", "NVIDIA Tesla P100 PCIe datasheet: 9.3 TFLOPS FP32, 18.7 TFLOPS FP16,\n"
                "       16 GB CoWoS HBM2 at 732 GB/s, 250 W."},
    {"NV-T4", "NVIDIA T4 datasheet: 8.1 TFLOPS FP32, 65 TFLOPS FP16 mixed precision\n"
              "       (tensor cores), 16 GB GDDR6 at 320+ GB/s, 70 W."},
    {"NV-V100", "NVIDIA Tesla V100 datasheet, SXM2: 15.7 TFLOPS FP32, 125 TFLOPS tensor,\n"
                "       16 or 32 GB HBM2 at 900 GB/s, 300 W."},
    {"NV-A10", "NVIDIA A10 datasheet: 31.2 TFLOPS FP32, 125 TFLOPS FP16 tensor (dense),\n"
               "       24 GB GDDR6 at 600 GB/s, 150 W."},
    {"NV-A100", "NVIDIA A100 datasheet, SXM4: 19.5 TFLOPS FP32, 312 TFLOPS FP16 tensor\n"
                "       (dense), 40 GB HBM2 at 1,555 GB/s or 80 GB HBM2e at 2,039 GB/s, 400 W."},
    {"NV-L4", "NVIDIA L4 datasheet: 30.3 TFLOPS FP32, 121 TFLOPS FP16 tensor (dense),\n"
              "       24 GB GDDR6 at 300 GB/s, 72 W."},
    {"NV-H100", "NVIDIA H100 datasheet, SXM5: 67 TFLOPS FP32, 989 TFLOPS FP16/BF16 tensor\n"
                "       (dense), 80 GB HBM3 at 3.35 TB/s, up to 700 W."},
};

/* CPU stand-in: a Skylake-SP Xeon Platinum 8180 (Intel ARK: 28 cores, 56 threads,
 * 2.5 GHz base, 205 W TDP); two AVX-512 FMA units give a core 32 FP32 flop per cycle
 * (Intel 64 and IA-32 Architectures Optimization Reference Manual), so a logical CPU,
 * half a core, 16 x 2.5 GHz = 40 Gflop/s, and 205 W / 56 threads = 3.66 W at full load. */
#define VCPU_FLOPS 40e9
#define VCPU_WATTS (205.0 / 56)
#define VCPU_IDLE  (VCPU_WATTS / 3) /* estimate: a third of full load when idle */
#define GPU_IDLE   0.1              /* estimate: idle board power, fraction of TDP */
#define NIC_BPS    25e9             /* estimate: one 25 Gb/s Ethernet port per node */

/* Columns: the first name of each list is the v2023 spelling. */
enum { C_SN, C_CPU, C_MEM, C_GPU, C_MODEL, C_N };
static const char *const col_names[C_N][4] = {
    {"sn", "node", "node_name", NULL},
    {"cpu_milli", NULL},
    {"memory_mib", NULL},
    {"gpu", "num_gpu", "gpu_num", NULL},
    {"model", "gpu_model", "gpu_type", NULL},
};
/* Columns of job lists: a header with one of them is not a node list. */
static const char *const job_cols[] = {"creation_time", "submission_time", "job_id",
                                       "gpu_milli",     "duration",        NULL};

#define MAX_COLS 64

/* Map a header onto col[]: the column count, or -1 when a needed column is missing. */
static int map_header(char *line, int *col, const char **missing)
{
	char *f[MAX_COLS + 1];
	int nf = tr_split(line, ',', f, MAX_COLS);
	for (int i = 0; i < nf && i < MAX_COLS; i++)
		for (const char *const *j = job_cols; *j; j++)
			if (!strcasecmp(f[i], *j)) {
				*missing = NULL;
				return -1;
			}
	for (int c = 0; c < C_N; c++) {
		col[c] = -1;
		for (int i = 0; i < nf && i < MAX_COLS && col[c] < 0; i++)
			for (const char *const *n = col_names[c]; *n; n++)
				if (!strcasecmp(f[i], *n))
					col[c] = i;
		if (col[c] < 0) {
			*missing = col_names[c][0];
			return -1;
		}
	}
	return nf;
}

int xpu_nodes_is_list(const char *path)
{
	size_t n = strlen(path);
	return n >= 4 && !strcasecmp(path + n - 4, ".csv");
}

int xpu_nodes_sniff(const char *path)
{
	if (!xpu_nodes_is_list(path))
		return 0;
	FILE *f = fopen(path, "r");
	if (!f)
		return 0;
	char line[4096];
	int ok = 0, col[C_N];
	const char *missing;
	if (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\r\n")] = 0;
		char *s = line;
		if (!strncmp(s, "\xEF\xBB\xBF", 3))
			s += 3;
		ok = map_header(s, col, &missing) > 0;
	}
	fclose(f);
	return ok;
}

static const struct xpu_gpu_model *find_model(const char *name)
{
	for (const struct xpu_gpu_model *m = xpu_gpu_models; m->name; m++)
		if (!strcasecmp(m->name, name))
			return m;
	return NULL;
}

/* A model name, through the aliases when the table lacks it. */
static const struct xpu_gpu_model *lookup(const char *name, const char *const *aliases)
{
	const struct xpu_gpu_model *m = find_model(name);
	if (m || !aliases)
		return m;
	size_t n = strlen(name);
	for (const char *const *a = aliases; *a; a++)
		if (!strncasecmp(*a, name, n) && (*a)[n] == '=')
			return find_model(*a + n + 1);
	return NULL;
}

static int add_node(struct xpu_nodes *ns, const struct xpu_node *nd)
{
	if (ns->n == ns->cap) {
		size_t cap = ns->cap ? 2 * ns->cap : 256;
		struct xpu_node *v = realloc(ns->v, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		ns->v = v;
		ns->cap = cap;
	}
	ns->v[ns->n++] = *nd;
	return 0;
}

static int whole(const struct tr_lines *l, struct xpu_err *err, const char *field, const char *v,
                 double max, double *out)
{
	if (!*v)
		return tr_bad(l, err, field, "a non-negative whole number", v, " (empty)");
	if (tr_num_field(l, err, field, v, 0, out) < 0)
		return -EINVAL;
	if (*out > max)
		return tr_bad(l, err, field, "a non-negative whole number", v, " (too large)");
	if (*out != floor(*out))
		return tr_bad(l, err, field, "a non-negative whole number", v, "");
	return 0;
}

static void known_models(char *buf, size_t len)
{
	size_t k = 0;
	buf[0] = 0;
	for (const struct xpu_gpu_model *m = xpu_gpu_models; m->name && k < len; m++)
		k += (size_t)snprintf(buf + k, len - k, "%s%s", k ? ", " : "", m->name);
}

static int read_row(struct tr_lines *l, char **f, const int *col, const char *const *aliases,
                    struct xpu_node *nd, struct xpu_err *err)
{
	double milli, mib, gpus;
	const char *sn = f[col[C_SN]];
	if (!*sn)
		return xpu_errf(err, l->path, l->lineno, "field 'sn': empty node name");
	for (const char *p = sn; *p; p++)
		if (!isgraph((unsigned char)*p) || strchr("\"'<>&", *p))
			return tr_bad(l, err, "sn",
			              "a node name of printable characters without quotes, "
			              "'<', '>' or '&'",
			              sn, "");
	/* A million logical CPUs, an exbibyte of memory or a thousand GPUs on one node
	 * is a corrupt field. */
	if (whole(l, err, "cpu_milli", f[col[C_CPU]], 1e9, &milli) < 0)
		return -EINVAL;
	if (!*f[col[C_MEM]])
		return tr_bad(l, err, "memory_mib", "a non-negative number", "", " (empty)");
	if (tr_num_field(l, err, "memory_mib", f[col[C_MEM]], 0, &mib) < 0 ||
	    whole(l, err, "gpu", f[col[C_GPU]], 1024, &gpus) < 0)
		return -EINVAL;
	if (mib > 1.1e12)
		return tr_bad(l, err, "memory_mib", "a non-negative number", f[col[C_MEM]],
		              " (too large)");
	memset(nd, 0, sizeof(*nd));
	nd->line = l->lineno;
	nd->vcpus = (uint32_t)(milli / 1000);
	if (milli > 0 && nd->vcpus == 0)
		nd->vcpus = 1; /* a fraction of one CPU is still a CPU to run on */
	nd->mem = mib * 1048576.0;
	nd->gpus = (uint32_t)gpus;
	if (nd->gpus == 0 && nd->vcpus == 0)
		return xpu_errf(err, l->path, l->lineno,
		                "fields 'cpu_milli' and 'gpu': node '%s' has neither CPUs nor GPUs",
		                sn);
	if (nd->gpus) {
		const char *name = f[col[C_MODEL]];
		char list[512];
		if (!*name)
			return tr_bad(l, err, "model", "the GPU model of a node with GPUs", name,
			              " (empty)");
		if (!(nd->model = lookup(name, aliases))) {
			known_models(list, sizeof(list));
			return xpu_errf(
			    err, l->path, l->lineno,
			    "field 'model': unknown GPU model \"%.*s\" (known: %s; map "
			    "another name onto one of them with --gpu-alias NAME=KNOWN)",
			    TR_QUOTE_MAX, name, list);
		}
	}
	if (!(nd->name = strdup(sn)))
		return -ENOMEM;
	return 0;
}

static int by_name(const void *a, const void *b)
{
	const struct xpu_node *const *x = a, *const *y = b;
	int c = strcmp((*x)->name, (*y)->name);
	return c ? c : (*x)->line - (*y)->line;
}

/* bsearch key: a bare name against the sorted nodes. */
static int name_cmp(const void *key, const void *b)
{
	const struct xpu_node *const *y = b;
	return strcmp(key, (*y)->name);
}

/* Unit names are NAME-cpu and NAME-gpu, memories NAME: all must differ. Checking
 * node names against each other and against the two suffixes covers every clash. */
static int check_names(const struct xpu_nodes *ns, struct xpu_err *err)
{
	const struct xpu_node **v = malloc((ns->n ? ns->n : 1) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (size_t i = 0; i < ns->n; i++)
		v[i] = &ns->v[i];
	qsort(v, ns->n, sizeof(*v), by_name);
	int rc = 0;
	for (size_t i = 1; i < ns->n && !rc; i++)
		if (!strcmp(v[i]->name, v[i - 1]->name))
			rc = xpu_errf(err, ns->path, v[i]->line,
			              "field 'sn': node '%s' is listed twice (first on line %d)",
			              v[i]->name, v[i - 1]->line);
	for (size_t i = 0; i < ns->n && !rc; i++) {
		const char *s = v[i]->name;
		size_t n = strlen(s);
		if (n <= 4 || (strcmp(s + n - 4, "-cpu") && strcmp(s + n - 4, "-gpu")))
			continue;
		char *base = strndup(s, n - 4);
		if (!base) {
			rc = -ENOMEM;
			break;
		}
		const struct xpu_node *const *hit = bsearch(base, v, ns->n, sizeof(*v), name_cmp);
		if (hit)
			rc = xpu_errf(err, ns->path, v[i]->line,
			              "field 'sn': node '%s' would clash with the %s unit of node "
			              "'%s' (line %d)",
			              s, s + n - 3, base, (*hit)->line);
		free(base);
	}
	free(v);
	return rc;
}

int xpu_nodes_read(const char *path, const char *const *aliases, struct xpu_nodes *out,
                   struct xpu_err *err)
{
	struct tr_lines l;
	char *f[MAX_COLS + 1];
	int col[C_N], ncols = -1, rc;
	memset(out, 0, sizeof(*out));
	for (const char *const *a = aliases; a && *a; a++) {
		const char *eq = strchr(*a, '=');
		if (!eq || eq == *a || !find_model(eq + 1)) {
			char list[512];
			known_models(list, sizeof(list));
			return xpu_errf(
			    err, NULL, 0,
			    "--gpu-alias '%s': expected NAME=KNOWN with KNOWN one of %s", *a, list);
		}
	}
	if (!(out->path = strdup(path)))
		return -ENOMEM;
	if ((rc = tr_lines_open(&l, path, err)) < 0) {
		xpu_nodes_free(out);
		return rc;
	}
	while ((rc = tr_lines_next(&l, err)) > 0) {
		if (tr_blank(l.line))
			continue;
		if (ncols < 0) {
			const char *missing = NULL;
			if ((ncols = map_header(l.line, col, &missing)) < 0) {
				rc = missing
				         ? xpu_errf(err, path, l.lineno,
				                    "header: no column '%s' (a node list names sn, "
				                    "cpu_milli, memory_mib, gpu and model)",
				                    missing)
				         : xpu_errf(err, path, l.lineno,
				                    "header: this is a job list (jobs, not "
				                    "machines): give "
				                    "it as --trace");
				break;
			}
			continue;
		}
		int nf = tr_split(l.line, ',', f, MAX_COLS);
		if (nf != ncols) {
			rc = xpu_errf(err, path, l.lineno, "%s%d fields, but the header names %d",
			              nf > MAX_COLS ? "more than " : "",
			              nf > MAX_COLS ? MAX_COLS : nf, ncols);
			break;
		}
		struct xpu_node nd;
		if ((rc = read_row(&l, f, col, aliases, &nd, err)) < 0)
			break;
		if ((rc = add_node(out, &nd)) < 0) {
			free(nd.name);
			break;
		}
	}
	if (rc == 0 && ncols < 0)
		rc = xpu_errf(err, path, 0, "empty file: no header and no nodes");
	else if (rc == 0 && out->n == 0)
		rc = xpu_errf(err, path, l.lineno, "no nodes after the header");
	if (rc == 0)
		rc = check_names(out, err);
	tr_lines_close(&l);
	if (rc < 0) {
		if (rc == -ENOMEM)
			xpu_errf(err, path, 0, "out of memory");
		xpu_nodes_free(out);
		return rc;
	}
	return 0;
}

void xpu_nodes_free(struct xpu_nodes *n)
{
	for (size_t i = 0; i < n->n; i++)
		free(n->v[i].name);
	free(n->v);
	free(n->path);
	memset(n, 0, sizeof(*n));
}

/* ------------------------------------------------------------------ writing */

/* A flop rate as SimGrid writes it: 40Gf, 9.3Tf. */
static const char *rate(char *buf, size_t n, double v)
{
	if (v >= 1e12)
		snprintf(buf, n, "%.6gTf", v / 1e12);
	else
		snprintf(buf, n, "%.6gGf", v / 1e9);
	return buf;
}

/* The file name alone, for the header comment ("--" may not appear in a comment). */
static void comment_safe(char *dst, size_t n, const char *src)
{
	const char *base = strrchr(src, '/');
	snprintf(dst, n, "%s", base ? base + 1 : src);
	for (char *p = dst; *p; p++)
		if (p[0] == '-' && p[1] == '-')
			p[1] = '_';
}

static void write_header(const struct xpu_nodes *ns, FILE *out)
{
	char name[256];
	size_t gpu_nodes = 0, gpus = 0;
	unsigned long long vcpus = 0;
	int used[sizeof(cites) / sizeof(cites[0])] = {0};
	for (size_t i = 0; i < ns->n; i++) {
		const struct xpu_node *nd = &ns->v[i];
		vcpus += nd->vcpus;
		if (!nd->gpus)
			continue;
		gpu_nodes++;
		gpus += nd->gpus;
		for (size_t c = 0; c < sizeof(cites) / sizeof(cites[0]); c++)
			if (!strcmp(cites[c].tag, nd->model->cite))
				used[c] = 1;
	}
	comment_safe(name, sizeof(name), ns->path);
	fprintf(
	    out,
	    "<?xml version='1.0'?>\n"
	    "<!DOCTYPE platform SYSTEM \"https://simgrid.org/simgrid.dtd\">\n"
	    "<!-- Generated by xpuopt from the node list %s: %zu nodes (%zu with GPUs),\n"
	    "     %llu logical CPUs, %zu GPUs. Regenerate with `xpuopt platform LIST -o FILE`\n"
	    "     rather than edit; traces/FORMAT.md, \"Cluster node lists\", has the mapping.\n\n"
	    "     Each node is a CPU unit NAME-cpu (one core per logical CPU) and, with GPUs,\n"
	    "     a GPU unit NAME-gpu (one core per GPU); both share the node's memory NAME\n"
	    "     (memory_mib of the list), the memory its jobs request. Every unit has its\n"
	    "     own link to one backbone (a node's two units share a NIC in reality).\n\n"
	    "     Sources:\n",
	    name, ns->n, gpu_nodes, vcpus, gpus);
	for (size_t c = 0; c < sizeof(cites) / sizeof(cites[0]); c++)
		if (used[c])
			fprintf(out, "     [%s] %s\n", cites[c].tag, cites[c].text);
	fputs("     [INTEL-8180] Intel ARK, Xeon Platinum 8180: 28 cores, 56 threads, 2.5 GHz\n"
	      "       base, 205 W TDP; two AVX-512 FMA units, 32 FP32 flop per cycle per core\n"
	      "       (Intel 64 and IA-32 Architectures Optimization Reference Manual).\n"
	      "     [EST-CPU] estimate: the list does not name the CPUs. Taken as [INTEL-8180];\n"
	      "       a logical CPU (cpu_milli counts them) is half a core: 16 flop/cycle x\n"
	      "       2.5 GHz = 40 Gf; 205 W / 56 threads = 3.66 W at full load, a third of it\n"
	      "       idle (estimate).\n"
	      "     [EST-GPU] estimate: idle board power 10% of the TDP; kernel launch 5 us;\n"
	      "       efficiencies of tensor-core classes as in the shipped platforms (gemm 0.75,\n"
	      "       llm-prefill 0.6, conv, attention and llm-decode 0.5); generic, fft and\n"
	      "       stencil run at the FP32 peak (the GPU-cluster readers' jobs are whole\n"
	      "       programs measured at a reference speed); video unsupported.\n"
	      "     [EST-NET] estimate: the list has no network; one 25 Gb/s Ethernet port per\n"
	      "       unit, 5 us per link, a non-blocking backbone (sum of the ports).\n"
	      "     Models G1..G3 are undisclosed in the trace: V100 SXM2 32 GB stand-ins\n"
	      "       [NV-V100], an estimate. -->\n",
	      out);
}

static void write_gpu(const struct xpu_node *nd, FILE *out)
{
	const struct xpu_gpu_model *m = nd->model;
	char fp32[32], ten[32];
	rate(fp32, sizeof(fp32), m->fp32);
	rate(ten, sizeof(ten), m->tensor);
	fprintf(
	    out,
	    "    <host id=\"%s-gpu\" speed=\"%s\" core=\"%u\"> <!-- %u x %s: %s [%s]%s -->\n"
	    "      <prop id=\"xpu.kind\" value=\"gpu\"/>\n"
	    "      <prop id=\"xpu.mem\" value=\"%.17gMiB\"/> <!-- node list -->\n"
	    "      <prop id=\"xpu.mem.shared\" value=\"%s\"/>\n"
	    "      <prop id=\"xpu.mem.bw\" value=\"%.6gGBps\"/> <!-- [%s] -->\n"
	    "      <prop id=\"xpu.launch\" value=\"5us\"/> <!-- [EST-GPU] -->\n"
	    "      <prop id=\"xpu.class.gemm\" value=\"%s@0.75\"/> <!-- [%s] [EST-GPU] -->\n"
	    "      <prop id=\"xpu.class.conv\" value=\"%s@0.5\"/>\n"
	    "      <prop id=\"xpu.class.attention\" value=\"%s@0.5\"/>\n"
	    "      <prop id=\"xpu.class.llm-prefill\" value=\"%s@0.6\"/>\n"
	    "      <prop id=\"xpu.class.llm-decode\" value=\"%s@0.5\"/>\n"
	    "      <prop id=\"xpu.class.fft\" value=\"%s\"/>\n"
	    "      <prop id=\"xpu.class.stencil\" value=\"%s\"/>\n"
	    "      <prop id=\"xpu.class.generic\" value=\"%s\"/>\n"
	    "      <prop id=\"xpu.class.video\" value=\"unsupported\"/>\n"
	    "      <prop id=\"wattage_per_state\" value=\"%.6g:%.6g\"/> <!-- [%s] [EST-GPU] -->\n"
	    "    </host>\n",
	    nd->name, fp32, nd->gpus, nd->gpus, m->name, m->part, m->cite,
	    m->estimate ? " estimate" : "", nd->mem / 1048576.0, nd->name, m->mem_bw / 1e9, m->cite,
	    ten, m->cite, ten, ten, ten, ten, fp32, fp32, fp32, GPU_IDLE * m->tdp * nd->gpus,
	    m->tdp * nd->gpus, m->cite);
}

int xpu_nodes_write_platform(const struct xpu_nodes *ns, FILE *out)
{
	write_header(ns, out);
	fputs("<platform version=\"4.1\">\n"
	      "  <zone id=\"cluster\" routing=\"Cluster\">\n",
	      out);
	size_t units = 0;
	for (size_t i = 0; i < ns->n; i++) {
		const struct xpu_node *nd = &ns->v[i];
		if (nd->vcpus) {
			fprintf(
			    out,
			    "    <host id=\"%s-cpu\" speed=\"40Gf\" core=\"%u\"> <!-- [EST-CPU] "
			    "-->\n"
			    "      <prop id=\"xpu.kind\" value=\"cpu\"/>\n"
			    "      <prop id=\"xpu.mem\" value=\"%.17gMiB\"/> <!-- node list -->\n"
			    "      <prop id=\"xpu.mem.shared\" value=\"%s\"/>\n"
			    "      <prop id=\"wattage_per_state\" value=\"%.6g:%.6g\"/> <!-- "
			    "[EST-CPU] -->\n"
			    "    </host>\n",
			    nd->name, nd->vcpus, nd->mem / 1048576.0, nd->name,
			    VCPU_IDLE * nd->vcpus, VCPU_WATTS * nd->vcpus);
			units++;
		}
		if (nd->gpus) {
			write_gpu(nd, out);
			units++;
		}
	}
	fputs("    <!-- Links: [EST-NET]. -->\n", out);
	for (size_t i = 0; i < ns->n; i++)
		for (int g = 0; g < 2; g++)
			if (g ? ns->v[i].gpus : ns->v[i].vcpus)
				fprintf(out,
				        "    <link id=\"%s-%s-nic\" bandwidth=\"25Gbps\" "
				        "latency=\"5us\"/>\n",
				        ns->v[i].name, g ? "gpu" : "cpu");
	for (size_t i = 0; i < ns->n; i++)
		for (int g = 0; g < 2; g++)
			if (g ? ns->v[i].gpus : ns->v[i].vcpus)
				fprintf(out,
				        "    <host_link id=\"%s-%s\" up=\"%s-%s-nic\" "
				        "down=\"%s-%s-nic\"/>\n",
				        ns->v[i].name, g ? "gpu" : "cpu", ns->v[i].name,
				        g ? "gpu" : "cpu", ns->v[i].name, g ? "gpu" : "cpu");
	fprintf(out,
	        "    <backbone id=\"backbone\" bandwidth=\"%.17gGbps\" latency=\"0us\"/> <!-- "
	        "[EST-NET] -->\n"
	        "  </zone>\n"
	        "</platform>\n",
	        NIC_BPS / 1e9 * (double)units);
	return ferror(out) ? -EIO : 0;
}

int xpu_nodes_write_tmp(const struct xpu_nodes *ns, char *tmp, size_t len, struct xpu_err *err)
{
	const char *dir = getenv("TMPDIR");
	snprintf(tmp, len, "%s/xpuopt-nodes-XXXXXX.xml", dir && *dir ? dir : "/tmp");
	int fd = mkstemps(tmp, 4);
	FILE *out = fd < 0 ? NULL : fdopen(fd, "w");
	if (!out) {
		int e = errno;
		if (fd >= 0) {
			close(fd);
			unlink(tmp);
		}
		return xpu_errf(err, ns->path, 0, "cannot write its platform to %s: %s", tmp,
		                strerror(e)),
		       -EIO;
	}
	int rc = xpu_nodes_write_platform(ns, out);
	if (fclose(out) != 0 || rc < 0) {
		unlink(tmp);
		return xpu_errf(err, ns->path, 0, "cannot write its platform to %s", tmp), -EIO;
	}
	return 0;
}

int xpu_nodes_platform_tmp(const char *path, char *tmp, size_t len, struct xpu_err *err)
{
	struct xpu_nodes ns;
	int rc = xpu_nodes_read(path, NULL, &ns, err);
	if (rc < 0)
		return rc;
	rc = xpu_nodes_write_tmp(&ns, tmp, len, err);
	xpu_nodes_free(&ns);
	return rc;
}

void xpu_nodes_describe(const struct xpu_nodes *ns, FILE *out)
{
	unsigned long long vcpus = 0;
	double mem = 0;
	size_t gpu_nodes = 0, gpus = 0;
	for (size_t i = 0; i < ns->n; i++) {
		vcpus += ns->v[i].vcpus;
		mem += ns->v[i].mem;
		if (ns->v[i].gpus) {
			gpu_nodes++;
			gpus += ns->v[i].gpus;
		}
	}
	fprintf(out,
	        "%s: cluster node list\n"
	        "nodes %zu\n"
	        "nodes_with_gpus %zu\n"
	        "logical_cpus %llu\n"
	        "memory_gib %.6g\n"
	        "gpus %zu\n",
	        ns->path, ns->n, gpu_nodes, vcpus, mem / 1073741824.0, gpus);
	for (const struct xpu_gpu_model *m = xpu_gpu_models; m->name; m++) {
		size_t k = 0, nn = 0;
		for (size_t i = 0; i < ns->n; i++)
			if (ns->v[i].gpus && ns->v[i].model == m) {
				k += ns->v[i].gpus;
				nn++;
			}
		if (k)
			fprintf(out, "gpus.%s %zu on %zu nodes (%s%s)\n", m->name, k, nn, m->part,
			        m->estimate ? ", estimate" : "");
	}
}
