/* backfill.h — space-sharing of wide jobs (task->width cores of one unit): the
 * queue, the running set and the three disciplines of fcfs.c, easy.c and
 * conservative.c. */
#ifndef XPU_BACKFILL_H
#define XPU_BACKFILL_H

#include "xpu.h"

enum bf_mode { BF_FCFS, BF_EASY, BF_CONSERVATIVE };

int bf_init(struct xpu_sched *s, enum bf_mode mode);
void bf_fini(struct xpu_sched *s);
void bf_on_ready(struct xpu_sched *s, const struct xpu_task *t);
void bf_on_done(struct xpu_sched *s, const struct xpu_task *t);
const struct xpu_task *bf_pick(struct xpu_sched *s, const struct xpu_unit *u);
void bf_on_tick(struct xpu_sched *s, double now);

/* The reservation a job was first given (conservative: at arrival; EASY: when it
 * first waited at the head of the queue), kept in t->sched_data for tests; NAN when
 * it never had one. */
double xpu_backfill_first_reservation(const struct xpu_task *t);

#endif
