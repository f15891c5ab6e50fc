/* data_model.h — building a workload's data and accesses (engine/data_model.c). */
#ifndef XPU_DATA_MODEL_H
#define XPU_DATA_MODEL_H

#include <stddef.h>

#include "trace.h"

/* One name in a record's reads or writes, kept by the loader until every line is read. */
struct xpu_named_access {
	const char *name; /* lives as long as the workload */
	double bytes;     /* NAN when this mention gives no size */
	uint32_t task;
	int mode; /* enum xpu_access_mode */
	int line;
};

/* Build w->data, w->accesses and every task's access list from its data edges (deps
 * with bytes, resolved to task indexes) and the named accesses na[0..nna) (sorted in
 * place). *extra receives *nextra / 2 (producer, consumer) pairs: the order shared data
 * imposes, for the caller to add as dependencies without bytes. Returns 0, -ENOMEM, or
 * -EINVAL with err (a datum given two sizes, or none). */
int xpu_data_build(struct xpu_workload *w, struct xpu_named_access *na, size_t nna,
                   const char *path, uint32_t **extra, size_t *nextra, struct xpu_err *err);

#endif
