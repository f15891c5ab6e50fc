#!/usr/bin/env bash
# setup.sh — install the Debian 12 packages xpuopt needs (only those missing), then
# configure and build. Used by tools/quickstart.sh and tools/test.sh.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(
	build-essential autoconf automake libtool pkg-config
	libsimgrid-dev          # simulation backend (SimGrid 3.32)
	libconfig-dev                   # experiment files
	libhdf5-dev hdf5-tools          # results (h5dump for inspection)
	libcriterion-dev                # tests
	clang-14 libclang-rt-14-dev     # tools/fuzz.sh: libFuzzer, ASan, UBSan
	libopenblas-dev                 # the live cpu backend's gemm kernels
	ocl-icd-opencl-dev opencl-c-headers pocl-opencl-icd  # the opencl backend, a CPU device
	libxrt-dev libxrt-utils         # the xrt backend (XRT 2.13): AMD FPGA and NPU devices
	libjansson-dev                  # JSON traces
	zlib1g-dev                      # gzip-compressed traces (SWF .swf.gz)
	libhwloc-dev libpowercap-dev    # live machine description and RAPL
	time                            # /usr/bin/time for the benchmarks' peak memory
	valgrind                        # tools/valgrind-errors.sh: memcheck over the error paths
	gnuplot-nox                     # plots and study reports
	slurm-wlm munge                 # the Slurm study test (a private single-node cluster)
)

missing=()
for p in "${packages[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	echo "setup: installing ${missing[*]}"
	sudo=""
	[ "$(id -u)" -eq 0 ] || sudo="sudo"
	$sudo apt-get update -qq
	DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends \
		"${missing[@]}" >/dev/null
fi

if [ ! -x configure ] || [ configure.ac -nt configure ] || [ Makefile.am -nt Makefile.in ]; then
	autoreconf -fi >/dev/null 2>&1 || autoreconf -fi
fi
if [ ! -f Makefile ] || [ configure -nt config.status ]; then
	./configure -q
fi
make -j"$(nproc)" >/dev/null
echo "setup: built $(./xpuopt --version)"
