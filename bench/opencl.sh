#!/usr/bin/env bash
# opencl.sh — `make bench`: per-kernel overhead of the opencl backend beside raw OpenCL
# (issue 13). N (default 4,000) one-flop tasks run through `xpuopt run --backend opencl`
# (fifo, no result file) with inflight 2 (the default) and 8; the cost per kernel is the
# run's makespan / N, from the first launch to the last completion (the backend's start:
# context, kernel build, calibration, is outside it, and its wall-clock noise with it).
# The same run of bench/opencl_cost gives raw OpenCL's cost per trivial kernel,
# synchronous and pipelined. Median of BENCH_CL_RUNS (default 3). Timing never fails
# the build.
set -euo pipefail
build=${1:-.}
runs=${BENCH_CL_RUNS:-3}
n=${BENCH_CL_TASKS:-4000}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "== opencl backend: cost per trivial kernel against raw OpenCL =="
echo "machine: $(uname -m), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "date: $(date -u +%Y-%m-%d)"
raw=$("$build/bench/opencl_cost" "$n")
echo "$raw"
case $raw in *skipped*) exit 0 ;; esac
{ echo "id,class,flops"; for ((i = 0; i < n; i++)); do echo "t$i,generic,1"; done; } >"$work/t.csv"
per_kernel() { # inflight -> median us per kernel
	for ((r = 0; r < runs; r++)); do
		"$build/xpuopt" run --backend "opencl:inflight=$1" --sched fifo -t "$work/t.csv" -o - |
			awk -v n="$n" '$1 == "makespan_s" { printf "%.3f\n", 1e6 * $2 / n }'
	done | sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'
}
piped=$(echo "$raw" | awk '/raw_pipelined_us/ { print $2 }')
sync=$(echo "$raw" | awk '/raw_sync_us/ { print $2 }')
for inflight in 2 8; do
	per=$(per_kernel "$inflight")
	echo "xpuopt_opencl_inflight${inflight}_us $per"
	awk -v x="$per" -v p="$piped" -v s="$sync" -v k="$inflight" 'BEGIN {
		printf "inflight %d: ratio vs raw pipelined %.2f, vs raw synchronous %.2f\n", k, x / p, x / s }'
done
