/* xrt_smi.h — NPU power modes through XRT's command-line tool (hw/xrt_smi.c). */
#ifndef XPU_XRT_SMI_H
#define XPU_XRT_SMI_H

#include <stddef.h>

/* The power modes of a Ryzen AI NPU, fastest first, as `xrt-smi configure --pmode`
 * names them; "default" (the firmware's choice, what a reboot restores) follows. */
#define XPU_XRT_NPMODES 4
extern const char *const xpu_xrt_pmodes[XPU_XRT_NPMODES + 1];

/* Run `TOOL configure --pmode MODE` (with `--device BDF` when bdf is not NULL), TOOL
 * being `tool` when given, else xrt-smi, else xbutil (older XRT) when there is no
 * xrt-smi. mode must be one of xpu_xrt_pmodes. Returns 0 when the tool exits 0;
 * -ENOENT when no tool could be run; -EPERM or -EIO when it failed, with its last line
 * of output (or its exit status) in msg. Blocks until the tool exits; no shell. */
int xpu_xrt_set_pmode(const char *tool, const char *bdf, const char *mode, char *msg, size_t n);

#endif
