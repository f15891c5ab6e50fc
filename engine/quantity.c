/* quantity.c — sizes, rates and durations with units as platform files write them
 * ("16GiB", "25GBps", "1Tf", "5us"). */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "platform.h"

/* ------------------------------------------------------------------ number parsing */

struct unit_suffix {
	const char *name;
	double scale;
};

/* Reads the number at the start of s into *v and points *rest past it. Only plain
 * decimal notation is taken ("1.5e9"): strtod would also accept "inf", "nan" and hex,
 * none of which is a sensible size, rate or duration in a platform file. */
int xpu_parse_number(const char *s, double *v, const char **rest)
{
	while (isspace((unsigned char)*s))
		s++;
	if (!isdigit((unsigned char)*s) && *s != '.' && *s != '+' && *s != '-')
		return -EINVAL;
	char *end;
	errno = 0;
	double d = strtod(s, &end);
	if (end == s || errno == ERANGE || !isfinite(d))
		return -EINVAL;
	for (const char *q = s; q < end; q++)
		if (!strchr("0123456789.eE+-", *q))
			return -EINVAL;
	*v = d;
	*rest = end;
	return 0;
}

/* Parses "NUMBER[ ]SUFFIX" where SUFFIX is one of tab or empty (a bare number), the
 * whole string and nothing else. The value is multiplied by the suffix's scale, or
 * divided by it when divide is set: sub-units are exact that way ("5us" is 5 / 1e6,
 * the double nearest 5e-6, where 5 * 1e-6 is one bit off). Negative values are refused:
 * every quantity a platform gives (bytes, rates, durations) is non-negative. */
static int parse_with_suffix(const char *s, const struct unit_suffix *tab, int divide, double *out)
{
	double v;
	const char *p;
	if (!s || xpu_parse_number(s, &v, &p) < 0 || v < 0)
		return -EINVAL;
	while (*p == ' ' || *p == '\t')
		p++;
	size_t len = strlen(p);
	while (len > 0 && isspace((unsigned char)p[len - 1]))
		len--;
	double scale = 0;
	if (len == 0) {
		scale = 1;
	} else {
		for (const struct unit_suffix *u = tab; u->name; u++)
			if (strlen(u->name) == len && !memcmp(u->name, p, len)) {
				scale = u->scale;
				break;
			}
		if (scale == 0)
			return -EINVAL;
	}
	double r = divide ? v / scale : v * scale;
	if (!isfinite(r))
		return -EINVAL;
	*out = r;
	return 0;
}

/* Decimal prefixes are powers of 1000 and binary ones powers of 1024 (IEC 80000-13),
 * as in SimGrid's own unit parser. */
static const struct unit_suffix byte_units[] = {
    {"B", 1},
    {"kB", 1e3},
    {"KB", 1e3},
    {"MB", 1e6},
    {"GB", 1e9},
    {"TB", 1e12},
    {"PB", 1e15},
    {"KiB", 1024.0},
    {"MiB", 1048576.0},
    {"GiB", 1073741824.0},
    {"TiB", 1099511627776.0},
    {"PiB", 1125899906842624.0},
    {NULL, 0},
};

/* SimGrid writes flop rates as f, kf, Mf ... Ef; "flops" spellings are accepted too. */
static const struct unit_suffix flop_units[] = {
    {"f", 1},        {"kf", 1e3},      {"Mf", 1e6},      {"Gf", 1e9},      {"Tf", 1e12},
    {"Pf", 1e15},    {"Ef", 1e18},     {"flops", 1},     {"kflops", 1e3},  {"Mflops", 1e6},
    {"Gflops", 1e9}, {"Tflops", 1e12}, {"Pflops", 1e15}, {"Eflops", 1e18}, {NULL, 0},
};

/* Bytes per second, plus SimGrid's bit rates (bps = 1/8 byte per second) since link
 * and bus datasheets usually quote those. */
static const struct unit_suffix bw_units[] = {
    {"Bps", 1},
    {"kBps", 1e3},
    {"KBps", 1e3},
    {"MBps", 1e6},
    {"GBps", 1e9},
    {"TBps", 1e12},
    {"KiBps", 1024.0},
    {"MiBps", 1048576.0},
    {"GiBps", 1073741824.0},
    {"TiBps", 1099511627776.0},
    {"bps", 1 / 8.0},
    {"kbps", 1e3 / 8},
    {"Kbps", 1e3 / 8},
    {"Mbps", 1e6 / 8},
    {"Gbps", 1e9 / 8},
    {"Tbps", 1e12 / 8},
    {"Kibps", 1024.0 / 8},
    {"Mibps", 1048576.0 / 8},
    {"Gibps", 1073741824.0 / 8},
    {"Tibps", 1099511627776.0 / 8},
    {NULL, 0},
};

/* Divisors (see parse_with_suffix); minutes to weeks as in SimGrid's time units (m,
 * h, d, w), "min" as well, for times between failures. */
static const struct unit_suffix time_units[] = {
    {"s", 1},           {"ms", 1e3},         {"us", 1e6},       {"ns", 1e9},
    {"ps", 1e12},       {"m", 1.0 / 60},     {"min", 1.0 / 60}, {"h", 1.0 / 3600},
    {"d", 1.0 / 86400}, {"w", 1.0 / 604800}, {NULL, 0},
};

int xpu_parse_bytes(const char *s, double *out)
{
	return parse_with_suffix(s, byte_units, 0, out);
}

int xpu_parse_rate(const char *s, char family, double *out)
{
	if (family == 'f')
		return parse_with_suffix(s, flop_units, 0, out);
	if (family == 'B')
		return parse_with_suffix(s, bw_units, 0, out);
	return -EINVAL;
}

int xpu_parse_seconds(const char *s, double *out)
{
	return parse_with_suffix(s, time_units, 1, out);
}
