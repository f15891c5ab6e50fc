/* platform.h — building and checking the platform model from a backend's hosts. */
#ifndef XPU_PLATFORM_H
#define XPU_PLATFORM_H

#include "xpu.h"

#ifdef __cplusplus
extern "C" {
#endif

/* What a backend knows of one host, independent of where it came from. */
struct xpu_host_desc {
	const char *name;
	int line; /* its line in the platform file, for messages; 0 when unknown */
	int cores;
	int npstates;
	const double *speeds; /* flop/s per core, per P-state */
	/* Property lookup: the value of a host <prop>, or NULL when absent. */
	const char *(*prop)(void *ctx, const char *key);
	void *ctx;
	/* Optional (may be NULL): the name of the i-th property (i = 0, 1, ...), NULL
	 * past the last. When given, the builder rejects unknown xpu.* keys and kernel
	 * classes, so a misspelt property is an error rather than a silent default. */
	const char *(*prop_name)(void *ctx, int i);
};

/* Start an empty platform read from path (or labelled by it). */
void xpu_platform_init(struct xpu_platform *pf, const char *path);

/* Add one host. A host without xpu.kind is not a unit and is skipped (returns 1).
 * Reads xpu.kind, xpu.mem, xpu.mem.shared, xpu.mem.bw, xpu.launch, xpu.wake,
 * xpu.class.<class>, xpu.fpga.reconfig, xpu.fpga.bitstream.<name>, xpu.soc.budget
 * (all in platforms/README.md), and SimGrid's wattage_per_state. Returns 0 when added, 1 when
 * skipped, -EINVAL with err naming the file, the host's line and the property. */
int xpu_platform_add_host(struct xpu_platform *pf, const struct xpu_host_desc *h,
                          struct xpu_err *err);

/* After every host is added: set up the route cache. route_fn (may be NULL: no route
 * between units of different pools) answers one ordered pair when first asked. */
int xpu_platform_finish_units(struct xpu_platform *pf,
                              int (*route_fn)(void *ctx, int src, int dst, double *latency,
                                              double *bandwidth),
                              void *route_ctx);

/* Set the route between two units (row src) ahead of any query. */
void xpu_platform_set_route(struct xpu_platform *pf, int src, int dst, double latency,
                            double bandwidth);

/* Stop asking the backend (it is closing); cached routes stay readable. */
void xpu_platform_detach_routes(struct xpu_platform *pf);

/* Final checks: there is a unit. Units without a route between them are allowed; a
 * run refuses a data edge that no pair of capable units can carry. Returns 0 or
 * -EINVAL with err. */
int xpu_platform_check(const struct xpu_platform *pf, struct xpu_err *err);

void xpu_platform_free(struct xpu_platform *pf);

/* Line of <host id="name" in the platform file, 0 when not found (sim/platform_lines.c:
 * the SimGrid backend's reading of its XML). */
int xpu_platform_host_line(const char *path, const char *name);
/* Line of <ELEMENT id="id" (host, link, zone ...) in the platform file, 0 when not found. */
int xpu_platform_element_line(const char *path, const char *element, const char *id);

/* Check a platform file before SimGrid reads it (sim/platform_check.c): attributes
 * SimGrid would abort on, duplicate host and link names, routes through undeclared
 * links, zones nested too deep. Returns 0, or -EINVAL with err naming file, line and
 * attribute. */
int xpu_platform_precheck(const char *path, struct xpu_err *err);

/* Index of the unit named name, or -1. */
int xpu_platform_find_unit(const struct xpu_platform *pf, const char *name);

/* Read the plain decimal number at the start of s ("1.5e9"; no inf, nan or hex) into
 * *v and point *rest past it. Returns 0 or -EINVAL. */
int xpu_parse_number(const char *s, double *v, const char **rest);
/* Parse a byte size such as "16GiB", "512MB", "1e9" (bytes). Returns 0 or -EINVAL. */
int xpu_parse_bytes(const char *s, double *out);
/* Parse a rate such as "1Tf" (flop/s) or "25GBps" (bytes/s); the unit suffix must be
 * of the given family ('f' for flops, 'B' for bytes per second). */
int xpu_parse_rate(const char *s, char family, double *out);
/* Parse a duration such as "10us", "2ms", "1.5s", "0". */
int xpu_parse_seconds(const char *s, double *out);

#ifdef __cplusplus
}
#endif
#endif
