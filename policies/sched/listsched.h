/* listsched.h — shared machinery of the DAG list schedulers (heft, cpop, peft): the
 * per-arrival batch, its topological order, mean costs, and insertion-based plans. */
#ifndef XPU_LISTSCHED_H
#define XPU_LISTSCHED_H

#include "xpu.h"

struct ls_slot {
	double start, end;
};

struct ls_plan {
	struct ls_slot *s; /* sorted by start */
	size_t n, cap;
};

struct ls {
	uint32_t *pending; /* submitted, not yet planned */
	size_t npending, cap;
	double *aft;    /* planned finish per task */
	double *rank;   /* free for the policy's priority */
	uint32_t *topo; /* position in a topological order of the batch */
	char *in_batch;
	struct ls_plan *plan;
	double mean_lat, mean_inv_bw; /* over distinct unit pairs with a copy */
};

/* Allocate the state for the engine's tasks and units; 0 or -ENOMEM. */
int ls_init(struct ls *l, struct xpu_engine *e);
void ls_fini(struct ls *l, struct xpu_engine *e);
/* Remember t for the next batch (on_submit). */
void ls_add(struct ls *l, const struct xpu_task *t);
/* Mark the batch, drop plan slots that ended before now, and write a topological
 * order of the plannable part of the batch to order (*n entries); topo[] then holds
 * each task's position. Tasks waiting for a producer that has not arrived stay
 * pending for a later batch. 0 or -ENOMEM (then *n is 0). */
int ls_begin(struct ls *l, struct xpu_engine *e, uint32_t *order, size_t *n);
/* Unmark the planned part of the batch (order, n as ls_begin gave them). */
void ls_end(struct ls *l, const uint32_t *order, size_t n);
/* Mean predicted duration of t over the units that can run it. */
double ls_mean_cost(struct xpu_engine *e, const struct xpu_task *t);
/* Mean transfer time of bytes over distinct unit pairs (0 for pairs sharing memory). */
double ls_mean_comm(const struct ls *l, double bytes);
/* Bytes passed from producer p to consumer c. */
double ls_edge_bytes(const struct xpu_task *p, const struct xpu_task *c);
/* Upward ranks of the batch (order is topological): rank_u(i) = w_i + max over
 * successors j in the batch of (c_ij + rank_u(j)). */
void ls_rank_up(struct ls *l, struct xpu_engine *e, const uint32_t *order, size_t n, double *out);
/* Earliest start on u of t (insertion: the first idle gap long enough after its data
 * is ready by the plan) and the finish time; returns the finish, INFINITY if u cannot
 * run t. */
double ls_eft(const struct ls *l, struct xpu_engine *e, const struct xpu_task *t, int u, double now,
              double *est);
/* Record t on u over [est, eft] and place it with est as queue order. */
void ls_commit(struct ls *l, struct xpu_engine *e, const struct xpu_task *t, int u, double est,
               double eft);
/* A ready list of batch tasks: a max-heap on rank[], ties in topological order. h
 * holds up to npending entries. */
void ls_heap_push(const struct ls *l, uint32_t *h, size_t *n, uint32_t x);
uint32_t ls_heap_pop(const struct ls *l, uint32_t *h, size_t *n);

#endif
