#!/usr/bin/env bash
# opencl.sh — `make bench`: per-kernel overhead of the opencl backend beside raw OpenCL
# and StarPU's OpenCL driver (issue: live hardware). N (default 20,000) one-flop tasks
# run through `xpuopt run --backend opencl` (fifo, no result file) with inflight 8 and
# 64 (the default); the cost per kernel is the run's makespan / N, from the first launch
# to the last completion (the backend's start: context, kernel build, calibration, is
# outside it, and its wall-clock noise with it). Each xpuopt run is paired with a run of
# bench/opencl_cost right after it, which gives raw OpenCL's cost per trivial kernel
# (64 work-items, as the backend's smallest generic launch), synchronous, pipelined, and
# windowed (64 in flight with profiled events, each read and released: what a runtime
# must do at least);
# the ratio is taken within each pair and the median of BENCH_CL_RUNS (default 5) pairs
# is printed, so that the machine's drift between pairs cancels. StarPU 1.3's OpenCL
# driver (asynchronous launches, STARPU_OPENCL_ASYNC; built when pkg-config finds
# starpu-1.3: Debian's libstarpu-dev) runs the same kernel N times. Target: within 1.2x
# of raw pipelined. Timing never fails the build.
set -euo pipefail
build=${1:-.}
src=$(cd "$(dirname "$0")/.." && pwd)
runs=${BENCH_CL_RUNS:-5}
n=${BENCH_CL_TASKS:-20000}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "== opencl backend: cost per trivial kernel against raw OpenCL and StarPU =="
echo "machine: $(uname -m), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "date: $(date -u +%Y-%m-%d)"
raw=$("$build/bench/opencl_cost" "$n")
case $raw in *skipped*)
	echo "$raw"
	exit 0
	;;
esac
{ echo "id,class,flops"; for ((i = 0; i < n; i++)); do echo "t$i,generic,1"; done; } >"$work/t.csv"
median() { sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
for inflight in 8 64; do
	: >"$work/pairs"
	for ((r = 0; r < runs; r++)); do
		x=$("$build/xpuopt" run --backend "opencl:inflight=$inflight" --sched fifo -t "$work/t.csv" -o - |
			awk -v n="$n" '$1 == "makespan_s" { printf "%.3f", 1e6 * $2 / n }')
		"$build/bench/opencl_cost" "$n" | awk -v x="$x" '
			/raw_sync_us/ { s = $2 } /raw_pipelined_us/ { p = $2 } /raw_windowed_us/ { w = $2 }
			END { print x, p, s, (w > 0 ? w : p) }' >>"$work/pairs"
	done
	echo "xpuopt_opencl_inflight${inflight}_us $(cut -d' ' -f1 "$work/pairs" | median)"
	echo "raw_pipelined_us $(cut -d' ' -f2 "$work/pairs" | median)"
	echo "raw_sync_us $(cut -d' ' -f3 "$work/pairs" | median)"
	echo "raw_windowed_us $(cut -d' ' -f4 "$work/pairs" | median)"
	echo "inflight ${inflight}: ratio vs raw pipelined $(awk '{ printf "%.3f\n", $1 / $2 }' "$work/pairs" | median)," \
		"vs raw synchronous $(awk '{ printf "%.3f\n", $1 / $3 }' "$work/pairs" | median)," \
		"vs raw windowed $(awk '{ printf "%.3f\n", $1 / $4 }' "$work/pairs" | median) (median of $runs pairs)"
done
if pkg-config --exists starpu-1.3 2>/dev/null; then
	# shellcheck disable=SC2046
	cc -O2 -o "$work/starpu_opencl" "$src/bench/starpu_opencl.c" \
		$(pkg-config --cflags --libs starpu-1.3) -lOpenCL
	sp=$(for ((r = 0; r < 3; r++)); do
		STARPU_SILENT=1 STARPU_OPENCL_ON_CPUS=1 STARPU_NCPU=0 STARPU_NCUDA=0 STARPU_NOPENCL=1 \
			STARPU_SCHED=eager "$work/starpu_opencl" "$n"
	done | median)
	echo "starpu_opencl_async_us $sp (eager, median of 3)"
else
	echo "starpu: skipped (pkg-config finds no starpu-1.3; apt-get install libstarpu-dev)"
fi
