dnl xpu_deps.m4 — one macro per dependency, in the manner of Slurm's auxdir/x_ac_*.m4.

dnl SimGrid (Debian: libsimgrid-dev), required: the simulation backend.
AC_DEFUN([XPU_CHECK_SIMGRID], [
  PKG_CHECK_MODULES([SIMGRID], [simgrid >= 3.32], [],
    [AC_MSG_ERROR([SimGrid >= 3.32 not found: install libsimgrid-dev (tools/setup.sh does)])])
  SIMGRID_VERSION=`$PKG_CONFIG --modversion simgrid`
])

dnl libconfig (Debian: libconfig-dev), required: experiment files.
AC_DEFUN([XPU_CHECK_LIBCONFIG], [
  PKG_CHECK_MODULES([LIBCONFIG], [libconfig >= 1.5], [],
    [AC_MSG_ERROR([libconfig not found: install libconfig-dev (tools/setup.sh does)])])
])

dnl HDF5 (Debian: libhdf5-dev), required: results. Debian ships hdf5.pc under the
dnl serial flavour's name; try both.
AC_DEFUN([XPU_CHECK_HDF5], [
  PKG_CHECK_MODULES([HDF5], [hdf5-serial], [],
    [PKG_CHECK_MODULES([HDF5], [hdf5], [],
      [AC_MSG_ERROR([HDF5 not found: install libhdf5-dev (tools/setup.sh does)])])])
])

dnl zlib (Debian: zlib1g-dev), required: gzip-compressed traces (SWF logs ship as .swf.gz).
AC_DEFUN([XPU_CHECK_ZLIB], [
  PKG_CHECK_MODULES([ZLIB], [zlib >= 1.2], [],
    [AC_MSG_ERROR([zlib not found: install zlib1g-dev (tools/setup.sh does)])])
])

dnl jansson (Debian: libjansson-dev), required: WfCommons JSON workflow traces.
AC_DEFUN([XPU_CHECK_JANSSON], [
  PKG_CHECK_MODULES([JANSSON], [jansson >= 2.10], [],
    [AC_MSG_ERROR([jansson not found: install libjansson-dev (tools/setup.sh does)])])
])

dnl Criterion (Debian: libcriterion-dev), optional: `make check` needs it.
AC_DEFUN([XPU_CHECK_CRITERION], [
  PKG_CHECK_MODULES([CRITERION], [criterion], [have_criterion=yes],
    [have_criterion=no
     AC_MSG_WARN([Criterion not found: make check will fail; install libcriterion-dev])])
  AM_CONDITIONAL([HAVE_CRITERION], [test "x$have_criterion" = xyes])
])

dnl OpenBLAS (Debian: libopenblas-dev): the live cpu backend's gemm-family kernels
dnl (hw/cpu_kernels.c) go through a maintained BLAS, not a hand loop.
AC_DEFUN([XPU_CHECK_OPENBLAS], [
  PKG_CHECK_MODULES([OPENBLAS], [openblas], [],
    [AC_MSG_ERROR([OpenBLAS not found: install libopenblas-dev (tools/setup.sh)])])
])

dnl hwloc (Debian: libhwloc-dev): the live cpu backend pins its workers one per core.
AC_DEFUN([XPU_CHECK_HWLOC], [
  PKG_CHECK_MODULES([HWLOC], [hwloc >= 2.0], [],
    [AC_MSG_ERROR([hwloc not found: install libhwloc-dev (tools/setup.sh)])])
])

dnl OpenCL ICD loader (Debian: ocl-icd-opencl-dev, opencl-c-headers): the live opencl
dnl backend (hw/opencl.c). Devices come at run time through ICDs (pocl-opencl-icd gives
dnl one on any CPU); building needs only the loader and headers.
AC_DEFUN([XPU_CHECK_OPENCL], [
  PKG_CHECK_MODULES([OPENCL], [OpenCL], [have_opencl=yes],
    [AC_MSG_ERROR([OpenCL ICD loader not found: install ocl-icd-opencl-dev and opencl-c-headers (tools/setup.sh)])])
  AM_CONDITIONAL([HAVE_OPENCL], [test "x$have_opencl" = xyes])
])

dnl XRT 2.13 (Debian 12: libxrt-dev), optional: the xrt backend (hw/xrt.c) talks to its
dnl devices when found; without it the backend still exists and says XRT is absent.
dnl Debian's xrt.pc names a wrong prefix (/usr//usr), so the check is by header and
dnl library: headers under /usr/include/xrt, libraries xrt_coreutil and xrt_core.
AC_DEFUN([XPU_CHECK_XRT], [
  AC_ARG_WITH([xrt], [AS_HELP_STRING([--without-xrt], [build the xrt backend without XRT])],
    [], [with_xrt=check])
  have_xrt=no
  AS_IF([test "x$with_xrt" != xno], [
    xpu_save_CPPFLAGS=$CPPFLAGS
    xpu_save_LIBS=$LIBS
    XRT_CFLAGS="-I/usr/include/xrt"
    CPPFLAGS="$CPPFLAGS $XRT_CFLAGS"
    AC_CHECK_HEADER([xrt/xrt_device.h], [
      AC_CHECK_LIB([xrt_coreutil], [xrtDeviceOpen], [
        AC_CHECK_LIB([xrt_core], [xclProbe], [have_xrt=yes], [], [-lxrt_coreutil])])])
    CPPFLAGS=$xpu_save_CPPFLAGS
    LIBS=$xpu_save_LIBS
  ])
  AS_IF([test "x$have_xrt" = xyes], [
    XRT_LIBS="-lxrt_coreutil -lxrt_core"
    AC_DEFINE([HAVE_XRT], [1], [Define to 1 when XRT is found (the xrt backend's devices)])
  ], [
    XRT_CFLAGS=""
    XRT_LIBS=""
    AS_IF([test "x$with_xrt" = xyes], [AC_MSG_ERROR([--with-xrt: XRT not found (libxrt-dev)])])
  ])
  AC_SUBST([XRT_CFLAGS])
  AC_SUBST([XRT_LIBS])
])
