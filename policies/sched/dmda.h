/* dmda.h — the unit choice shared by dmda.c and dmdar.c. */
#ifndef XPU_DMDA_H
#define XPU_DMDA_H

#include "xpu.h"

/* The unit of least expected completion max(avail, data ready) + predicted duration
 * for t, or -1; *data_at receives the predicted time t's inputs are there. */
int dmda_best_unit(struct xpu_engine *e, const struct xpu_task *t, double *data_at);

#endif
