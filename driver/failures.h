/* failures.h — simulated unit failures: each unit's availability from the platform
 * (xpu.mtbf and xpu.mttr, or xpu.availability) and the --failures option. */
#ifndef XPU_FAILURES_H
#define XPU_FAILURES_H

#include "engine_impl.h"

struct xpu_failures {
	struct xpu_avail *avail; /* per unit; NULL when no unit ever fails */
	int nprofiles;
	struct profile {
		char *path;
		double *at;
		uint8_t *up;
		uint32_t n;
		double period;
	} * profiles;
};

/* Build pf's availability. spec is --failures, NULL when not given:
 *   mtbf=DURATION,mttr=DURATION  failures and repairs at exponential times of those
 *                                means (drawn from the run's seed)
 *   profile=FILE                 a state profile: lines "TIME 0|1" (down or up from
 *                                TIME seconds on), optionally "LOOPAFTER SECONDS"
 *   kind=KIND or unit=INDEX|NAME the units it applies to (default: every unit)
 *   none                         no failures, whatever the platform says
 * It overrides the platform's properties for the units it selects. Returns 0, or
 * -EINVAL with err naming the option or FILE:LINE: field, or -ENOMEM. */
int xpu_failures_build(const char *spec, const struct xpu_platform *pf, struct xpu_failures *f,
                       struct xpu_err *err);
void xpu_failures_free(struct xpu_failures *f);

#endif
