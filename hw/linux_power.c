/* linux_power.c — Linux's power and thermal controls through sysfs (linux_power.h).
 *
 * Files used (Documentation/admin-guide/pm/cpufreq.rst, powercap/powercap.rst,
 * thermal/sysfs-api.rst, hwmon/sysfs-interface.rst):
 *   devices/system/cpu/cpuN/cpufreq/scaling_available_frequencies   kHz list
 *   .../cpuinfo_max_freq, cpuinfo_min_freq, scaling_cur_freq          kHz
 *   .../scaling_governor, scaling_setspeed, scaling_max_freq, scaling_min_freq
 *   class/powercap/intel-rapl:N/constraint_0_power_limit_uw         microwatts
 *   class/thermal/thermal_zoneN/{type,temp}                          millidegrees C
 *   class/hwmon/hwmonN/{name,temp1_input}                            millidegrees C
 * Each file is opened, read or written, and closed per call: a sysfs attribute's value
 * is produced at read time, and one write is one request. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "linux_power.h"

#define MAX_SAVED   4096
#define MAX_SENSORS 16
#define MAX_ZONES   16
#define MAX_SCAN    256 /* thermal_zoneN and hwmonN looked at */

struct saved {
	char *path;
	char *value;
};

struct xpu_lpw {
	char sysfs[256], powercap[300];
	struct saved *saved;
	int nsaved, cap;
	int sensors_probed, nsensors;
	char *sensor[MAX_SENSORS];
};

struct xpu_lpw *xpu_lpw_open(const char *sysfs, const char *powercap)
{
	struct xpu_lpw *p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	snprintf(p->sysfs, sizeof(p->sysfs), "%s", sysfs ? sysfs : "/sys");
	if (powercap)
		snprintf(p->powercap, sizeof(p->powercap), "%s", powercap);
	else
		snprintf(p->powercap, sizeof(p->powercap), "%s/class/powercap", p->sysfs);
	return p;
}

/* The first line of a file, without its newline: 0, or -errno. */
static int read_line(const char *path, char *buf, size_t n)
{
	FILE *f = fopen(path, "r");
	if (!f)
		return -errno;
	int rc = fgets(buf, (int)n, f) ? 0 : -EIO;
	fclose(f);
	if (rc == 0)
		buf[strcspn(buf, "\n")] = 0;
	return rc;
}

int xpu_lpw_read_u64(const char *path, unsigned long long *v)
{
	char buf[64], *end;
	int rc = read_line(path, buf, sizeof(buf));
	if (rc)
		return rc;
	errno = 0;
	*v = strtoull(buf, &end, 10);
	return errno || end == buf ? -EIO : 0;
}

/* Write s to path, first saving the value it replaces (once per path): 0 or -errno. */
static int write_saved(struct xpu_lpw *p, const char *path, const char *s)
{
	int known = 0;
	for (int i = 0; i < p->nsaved && !known; i++)
		known = !strcmp(p->saved[i].path, path);
	if (!known) {
		char old[256];
		int rc = read_line(path, old, sizeof(old));
		if (rc)
			return rc;
		if (p->nsaved == MAX_SAVED)
			return -ENOSPC;
		if (p->nsaved == p->cap) {
			int cap = p->cap ? 2 * p->cap : 16;
			struct saved *sv = realloc(p->saved, (size_t)cap * sizeof(*sv));
			if (!sv)
				return -ENOMEM;
			p->saved = sv;
			p->cap = cap;
		}
		char *a = strdup(path), *b = strdup(old);
		if (!a || !b) {
			free(a);
			free(b);
			return -ENOMEM;
		}
		p->saved[p->nsaved++] = (struct saved){a, b};
	}
	FILE *f = fopen(path, "w");
	if (!f)
		return -errno;
	int rc = fputs(s, f) < 0 ? -EIO : 0;
	if (fclose(f) && rc == 0)
		rc = errno ? -errno : -EIO; /* the kernel's answer comes at the flush */
	return rc;
}

/* Write back the values saved from index `first` on, newest first (a min raised after a
 * max comes back before the max does), and forget them. */
static void restore_from(struct xpu_lpw *p, int first)
{
	for (int i = p->nsaved - 1; i >= first; i--) {
		FILE *f = fopen(p->saved[i].path, "w");
		if (f) {
			fputs(p->saved[i].value, f);
			fclose(f);
		}
		free(p->saved[i].path);
		free(p->saved[i].value);
	}
	p->nsaved = first;
}

void xpu_lpw_close(struct xpu_lpw *p)
{
	if (!p)
		return;
	restore_from(p, 0);
	free(p->saved);
	for (int i = 0; i < p->nsensors; i++)
		free(p->sensor[i]);
	free(p);
}

static void cpufreq_path(const struct xpu_lpw *p, int cpu, const char *file, char *buf, size_t n)
{
	snprintf(buf, n, "%s/devices/system/cpu/cpu%d/cpufreq/%s", p->sysfs, cpu, file);
}

static int cmp_desc(const void *x, const void *y)
{
	uint32_t a = *(const uint32_t *)x, b = *(const uint32_t *)y;
	return (a < b) - (a > b);
}

int xpu_lpw_freqs(const struct xpu_lpw *p, const int *cpus, int n, uint32_t *khz, int max)
{
	char path[512], line[1024];
	int k = 0;
	if (!p || n < 1 || max < 1)
		return 0;
	cpufreq_path(p, cpus[0], "scaling_available_frequencies", path, sizeof(path));
	if (read_line(path, line, sizeof(line)) == 0) {
		char *s = line, *end;
		for (;;) {
			unsigned long long v = strtoull(s, &end, 10);
			if (end == s)
				break;
			s = end;
			if (v > 0 && v < UINT32_MAX && k < max)
				khz[k++] = (uint32_t)v;
		}
	}
	if (k == 0) {
		unsigned long long hi, lo;
		cpufreq_path(p, cpus[0], "cpuinfo_max_freq", path, sizeof(path));
		if (xpu_lpw_read_u64(path, &hi) || hi == 0 || hi >= UINT32_MAX)
			return 0;
		khz[k++] = (uint32_t)hi;
		cpufreq_path(p, cpus[0], "cpuinfo_min_freq", path, sizeof(path));
		if (k < max && xpu_lpw_read_u64(path, &lo) == 0 && lo > 0 && lo < hi)
			khz[k++] = (uint32_t)lo;
	}
	qsort(khz, (size_t)k, sizeof(*khz), cmp_desc);
	int m = 0; /* without repeats */
	for (int i = 0; i < k; i++)
		if (m == 0 || khz[m - 1] != khz[i])
			khz[m++] = khz[i];
	return m;
}

double xpu_lpw_cur_khz(const struct xpu_lpw *p, const int *cpus, int n)
{
	char path[512];
	double sum = 0;
	int got = 0;
	for (int i = 0; p && i < n; i++) {
		unsigned long long v;
		cpufreq_path(p, cpus[i], "scaling_cur_freq", path, sizeof(path));
		if (xpu_lpw_read_u64(path, &v) == 0 && v > 0) {
			sum += (double)v;
			got++;
		}
	}
	return got ? sum / got : 0;
}

static int is_userspace(const struct xpu_lpw *p, int cpu)
{
	char path[512], gov[64];
	cpufreq_path(p, cpu, "scaling_governor", path, sizeof(path));
	return read_line(path, gov, sizeof(gov)) == 0 && !strcmp(gov, "userspace");
}

int xpu_lpw_freq_writable(const struct xpu_lpw *p, int cpu, const char **why)
{
	char path[512];
	const char *w = NULL;
	if (!p)
		w = "no controls";
	else {
		cpufreq_path(p, cpu, "scaling_max_freq", path, sizeof(path));
		if (access(path, F_OK) != 0)
			w = "no cpufreq on this machine";
		else {
			if (is_userspace(p, cpu))
				cpufreq_path(p, cpu, "scaling_setspeed", path, sizeof(path));
			if (access(path, W_OK) != 0)
				w = "cpufreq not writable (needs root)";
		}
	}
	if (why)
		*why = w;
	return w == NULL;
}

int xpu_lpw_set_khz(struct xpu_lpw *p, const int *cpus, int n, uint32_t khz)
{
	char path[512], val[32];
	if (!p || n < 1 || khz == 0)
		return -EINVAL;
	snprintf(val, sizeof(val), "%u", khz);
	int first_saved = p->nsaved, rc = 0;
	for (int i = 0; i < n && rc == 0; i++) {
		if (is_userspace(p, cpus[i])) {
			cpufreq_path(p, cpus[i], "scaling_setspeed", path, sizeof(path));
			rc = write_saved(p, path, val);
			continue;
		}
		/* Lower the floor first when it is above the new ceiling. */
		unsigned long long lo;
		cpufreq_path(p, cpus[i], "scaling_min_freq", path, sizeof(path));
		if (xpu_lpw_read_u64(path, &lo) == 0 && lo > khz)
			rc = write_saved(p, path, val);
		cpufreq_path(p, cpus[i], "scaling_max_freq", path, sizeof(path));
		if (rc == 0)
			rc = write_saved(p, path, val);
	}
	if (rc && p->nsaved > first_saved) {
		/* Undo this call's first writes: the group changes together or not at all. The
		 * values saved by this call go back; earlier calls' stay recorded. */
		restore_from(p, first_saved);
	}
	return rc;
}

static void zone_limit_path(const struct xpu_lpw *p, int z, char *buf, size_t n)
{
	snprintf(buf, n, "%s/intel-rapl:%d/constraint_0_power_limit_uw", p->powercap, z);
}

int xpu_lpw_limit_zones(const struct xpu_lpw *p)
{
	char path[512];
	int n = 0;
	for (int z = 0; p && z < MAX_ZONES; z++) {
		zone_limit_path(p, z, path, sizeof(path));
		if (access(path, F_OK) != 0)
			break;
		n += access(path, W_OK) == 0;
	}
	return n;
}

int xpu_lpw_set_limit(struct xpu_lpw *p, double watts)
{
	char path[512], val[32];
	if (!p || !(watts > 0) || watts > 1e9)
		return -EINVAL;
	int n = xpu_lpw_limit_zones(p);
	if (n == 0)
		return -ENOTSUP;
	snprintf(val, sizeof(val), "%.0f", watts / n * 1e6);
	int rc = 0;
	for (int z = 0; z < MAX_ZONES && rc == 0; z++) {
		zone_limit_path(p, z, path, sizeof(path));
		if (access(path, F_OK) != 0)
			break;
		if (access(path, W_OK) == 0)
			rc = write_saved(p, path, val);
	}
	return rc;
}

/* Sensor types and chip names that measure a CPU or its package. */
static int cpu_sensor(const char *name)
{
	static const char *const keys[] = {"x86_pkg_temp", "cpu",     "soc",      "pkg",
	                                   "coretemp",     "k10temp", "zenpower", NULL};
	for (const char *const *k = keys; *k; k++)
		if (strstr(name, *k))
			return 1;
	return 0;
}

static void probe_sensors(struct xpu_lpw *p)
{
	char path[512], name[128];
	p->sensors_probed = 1;
	for (int pass = 0; pass < 2 && p->nsensors == 0; pass++)
		for (int i = 0; i < MAX_SCAN && p->nsensors < MAX_SENSORS; i++) {
			const char *fmt_name = pass == 0 ? "%s/class/thermal/thermal_zone%d/type"
			                                 : "%s/class/hwmon/hwmon%d/name";
			const char *fmt_temp = pass == 0 ? "%s/class/thermal/thermal_zone%d/temp"
			                                 : "%s/class/hwmon/hwmon%d/temp1_input";
			snprintf(path, sizeof(path), fmt_name, p->sysfs, i);
			if (read_line(path, name, sizeof(name)) || !cpu_sensor(name))
				continue;
			snprintf(path, sizeof(path), fmt_temp, p->sysfs, i);
			unsigned long long v;
			if (xpu_lpw_read_u64(path, &v))
				continue;
			if (!(p->sensor[p->nsensors] = strdup(path)))
				return;
			p->nsensors++;
		}
}

int xpu_lpw_has_temp(struct xpu_lpw *p)
{
	if (!p)
		return 0;
	if (!p->sensors_probed)
		probe_sensors(p);
	return p->nsensors > 0;
}

int xpu_lpw_temp(struct xpu_lpw *p, double *celsius)
{
	if (!xpu_lpw_has_temp(p))
		return -ENODEV;
	double best = -1e9;
	int got = 0;
	for (int i = 0; i < p->nsensors; i++) {
		char buf[64], *end;
		if (read_line(p->sensor[i], buf, sizeof(buf)))
			continue;
		long long v = strtoll(buf, &end, 10); /* millidegrees; may be negative */
		if (end == buf)
			continue;
		if (v / 1000.0 > best)
			best = v / 1000.0;
		got = 1;
	}
	if (!got)
		return -ENODEV;
	*celsius = best;
	return 0;
}
