/* outfile.h — output files written safely: never over an input or a non-regular file,
 * and their temporary siblings removed when the program is interrupted. */
#ifndef XPU_OUTFILE_H
#define XPU_OUTFILE_H

#include "xpu.h"

/* Check that path may receive an output: it is "-", a new name, a device or pipe (written
 * in place: /dev/null), or an existing regular file that is none of inputs[0..n)
 * (compared by device and inode; NULL entries are skipped); never a directory. Returns
 * 0, or -EINVAL with err naming the path and why (exit 2). */
int xpu_output_check(const char *path, const char *const *inputs, int n, struct xpu_err *err);

/* 1 when path exists and is neither a regular file nor a directory (a device, a pipe):
 * such an output is written in place, never renamed over. */
int xpu_output_is_special(const char *path);

/* Temporary files in progress: registered ones are removed if SIGINT, SIGTERM or SIGHUP
 * arrives (xpu_signals_install), which then exits 130, 143 or 129 with a message. */
void xpu_tmp_register(const char *tmp);
void xpu_tmp_unregister(const char *tmp);
void xpu_signals_install(void);

#endif
