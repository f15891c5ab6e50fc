/* linux_power.h — the power and thermal controls Linux offers a live backend through
 * sysfs: cpufreq P-states (scaling_setspeed under the userspace governor, otherwise
 * scaling_max_freq), RAPL package power limits (powercap), temperatures (thermal zones
 * and hwmon). Every value a control changes is saved first and written back by
 * xpu_lpw_close, so that a run leaves the machine's settings as it found them. */
#ifndef XPU_LINUX_POWER_H
#define XPU_LINUX_POWER_H

#include <stdint.h>

#define XPU_LPW_MAX_FREQS 16 /* P-states offered per group of CPUs */

struct xpu_lpw;

/* The unsigned decimal number at the start of a sysfs file: 0, or -errno (-EIO when it
 * holds none). */
int xpu_lpw_read_u64(const char *path, unsigned long long *v);

/* Controls under sysfs (the root of /sys: "/sys", or a copy for tests) and powercap
 * (its class/powercap directory). NULL when out of memory. Probes nothing yet. */
struct xpu_lpw *xpu_lpw_open(const char *sysfs, const char *powercap);
/* Writes back every value changed, then frees. */
void xpu_lpw_close(struct xpu_lpw *p);

/* The frequencies (kHz) the CPUs of a group share, fastest first: cpufreq's
 * scaling_available_frequencies, or its cpuinfo_max_freq and cpuinfo_min_freq when the
 * driver lists none (intel_pstate, amd-pstate). Returns their count, 0 when the first
 * CPU has no cpufreq. */
int xpu_lpw_freqs(const struct xpu_lpw *p, const int *cpus, int n, uint32_t *khz, int max);
/* The group's current frequency (kHz, the mean of its CPUs' scaling_cur_freq), 0 when
 * unreadable. */
double xpu_lpw_cur_khz(const struct xpu_lpw *p, const int *cpus, int n);
/* Whether xpu_lpw_set_khz can work: the first CPU's scaling_setspeed (userspace
 * governor) or scaling_max_freq is writable. 1, or 0 with the reason in why. */
int xpu_lpw_freq_writable(const struct xpu_lpw *p, int cpu, const char **why);
/* Run the group at khz: scaling_setspeed when the governor is userspace, otherwise
 * scaling_max_freq (with scaling_min_freq lowered when above it). 0 or -errno; on an
 * error no CPU of the group is left changed. */
int xpu_lpw_set_khz(struct xpu_lpw *p, const int *cpus, int n, uint32_t khz);

/* RAPL package zones with a writable long-term limit (constraint_0_power_limit_uw). */
int xpu_lpw_limit_zones(const struct xpu_lpw *p);
/* Hold the packages' sum under watts: each zone gets an equal share. 0 or -errno
 * (-ENOTSUP: no writable zone). */
int xpu_lpw_set_limit(struct xpu_lpw *p, double watts);

/* The hottest CPU or package sensor, in degrees Celsius: thermal zones whose type names
 * a CPU or package (x86_pkg_temp, cpu-thermal, soc_thermal, ...), else hwmon chips of
 * CPU drivers (coretemp, k10temp, zenpower, cpu_thermal). 0 or -ENODEV. */
int xpu_lpw_temp(struct xpu_lpw *p, double *celsius);
/* Whether a temperature sensor exists: 1, or 0. */
int xpu_lpw_has_temp(struct xpu_lpw *p);

#endif
