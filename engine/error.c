/* error.c — user-facing error messages, kind and class names, policy parameters. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xpu.h"

int xpu_errf(struct xpu_err *err, const char *file, int line, const char *fmt, ...)
{
	if (!err)
		return -EINVAL;
	size_t n = 0;
	if (file && line > 0)
		n = (size_t)snprintf(err->msg, sizeof(err->msg), "%s:%d: ", file, line);
	else if (file)
		n = (size_t)snprintf(err->msg, sizeof(err->msg), "%s: ", file);
	if (n >= sizeof(err->msg))
		n = sizeof(err->msg) - 1;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err->msg + n, sizeof(err->msg) - n, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static const char *const kind_names[XPU_KIND_COUNT] = {
    [XPU_KIND_CPU] = "cpu", [XPU_KIND_GPU] = "gpu", [XPU_KIND_TPU] = "tpu",
    [XPU_KIND_NPU] = "npu", [XPU_KIND_LPU] = "lpu", [XPU_KIND_FPGA] = "fpga",
    [XPU_KIND_VPU] = "vpu", [XPU_KIND_DSP] = "dsp",
};

static const char *const class_names[XPU_CLASS_COUNT] = {
    [XPU_CLASS_GENERIC] = "generic",
    [XPU_CLASS_GEMM] = "gemm",
    [XPU_CLASS_CONV] = "conv",
    [XPU_CLASS_ATTENTION] = "attention",
    [XPU_CLASS_LLM_PREFILL] = "llm-prefill",
    [XPU_CLASS_LLM_DECODE] = "llm-decode",
    [XPU_CLASS_FFT] = "fft",
    [XPU_CLASS_STENCIL] = "stencil",
    [XPU_CLASS_VIDEO] = "video",
};

const char *xpu_kind_name(int kind)
{
	return kind >= 0 && kind < XPU_KIND_COUNT ? kind_names[kind] : "?";
}

const char *xpu_class_name(int cls)
{
	return cls >= 0 && cls < XPU_CLASS_COUNT ? class_names[cls] : "?";
}

int xpu_kind_parse(const char *name)
{
	for (int i = 0; i < XPU_KIND_COUNT; i++)
		if (!strcmp(name, kind_names[i]))
			return i;
	return -1;
}

int xpu_class_parse(const char *name)
{
	for (int i = 0; i < XPU_CLASS_COUNT; i++)
		if (!strcmp(name, class_names[i]))
			return i;
	return -1;
}

const char *xpu_param_str(const struct xpu_param *p, int n, const char *key, const char *def)
{
	for (int i = 0; i < n; i++)
		if (!strcmp(p[i].key, key))
			return p[i].value;
	return def;
}

double xpu_param_num(const struct xpu_param *p, int n, const char *key, double def)
{
	const char *v = xpu_param_str(p, n, key, NULL);
	if (!v)
		return def;
	char *end;
	double d = strtod(v, &end);
	return (end != v && *end == '\0') ? d : def;
}
