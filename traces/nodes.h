/* nodes.h — cluster node lists (the machines of a GPU-cluster trace) turned into a
 * SimGrid platform that the trace's jobs can replay on.
 *
 * Format: Alibaba cluster-trace-gpu-v2023 node lists (openb_node_list_*.csv): a CSV
 * header naming sn, cpu_milli, memory_mib, gpu and model, then one node per row. See
 * traces/FORMAT.md, "Cluster node lists", for the mapping and the GPU table's sources. */
#ifndef XPU_NODES_H
#define XPU_NODES_H

#include <stdint.h>
#include <stdio.h>

#include "xpu.h"

/* One GPU product as the generated platform models it (one GPU = one core of the
 * node's GPU unit). Figures from the vendor datasheet named by cite. */
struct xpu_gpu_model {
	const char *name; /* as node lists write it: "V100M32"; matched without case */
	const char *part; /* the product modelled: "Tesla V100 SXM2 32 GB" */
	double fp32;      /* FP32 peak of one GPU, flop/s */
	double tensor;    /* dense FP16 peak (tensor cores where present), flop/s */
	double mem_bw;    /* bytes/s between one GPU and its memory */
	double tdp;       /* board power, W */
	const char *cite; /* source tag, listed in the generated file's header */
	int estimate;     /* 1 when the trace hides the model and these are stand-ins */
};

struct xpu_node {
	char *name;     /* sn */
	uint32_t vcpus; /* cpu_milli / 1000, rounded down; 0 = no CPU unit */
	double mem;     /* bytes of host memory (memory_mib) */
	uint32_t gpus;  /* 0 = no GPU unit */
	const struct xpu_gpu_model *model;
	int line;
};

struct xpu_nodes {
	char *path;
	struct xpu_node *v;
	size_t n, cap;
};

/* The built-in GPU table, terminated by a NULL name. */
extern const struct xpu_gpu_model xpu_gpu_models[];

/* 1 when path names a node list rather than a SimGrid platform: a ".csv" file.
 * Platform arguments go through xpu_nodes_read then, which says what is wrong. */
int xpu_nodes_is_list(const char *path);

/* 1 when path is a readable CSV whose header is a node list's (sn, cpu_milli,
 * memory_mib, gpu; no pod or job columns), else 0. */
int xpu_nodes_sniff(const char *path);

/* Read a node list. aliases: NULL or "NAME=KNOWN" strings (a NULL-terminated array)
 * mapping GPU model names missing from the table onto one of it. 0, or -EINVAL /
 * -ENOMEM with err naming FILE:LINE and the field. */
int xpu_nodes_read(const char *path, const char *const *aliases, struct xpu_nodes *out,
                   struct xpu_err *err);
void xpu_nodes_free(struct xpu_nodes *n);

/* Write the SimGrid platform (DTD 4.1) for n, every number with its source. 0 or
 * -EIO. */
int xpu_nodes_write_platform(const struct xpu_nodes *n, FILE *out);

/* Write n's platform to a new temporary file whose name goes into tmp (the caller
 * unlinks it). 0, or -EIO with err. */
int xpu_nodes_write_tmp(const struct xpu_nodes *n, char *tmp, size_t len, struct xpu_err *err);

/* Read the node list at path and write its platform to a new temporary file whose
 * name goes into tmp (the caller unlinks it). 0, or -EINVAL / -EIO with err. */
int xpu_nodes_platform_tmp(const char *path, char *tmp, size_t len, struct xpu_err *err);

/* Print the list's totals (nodes, vCPUs, memory, GPUs by model) to out. */
void xpu_nodes_describe(const struct xpu_nodes *n, FILE *out);

#endif
