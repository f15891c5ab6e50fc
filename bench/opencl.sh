#!/usr/bin/env bash
# opencl.sh — `make bench`: per-kernel overhead of the opencl backend beside raw OpenCL
# (issue 13). N one-flop tasks run through `xpuopt run --backend opencl` (fifo, no
# result file); the marginal cost per task is (time(N) - time(N0)) / (N - N0), which
# removes the backend's start (context, kernel build, calibration). The same run of
# bench/opencl_cost gives raw OpenCL's cost per trivial kernel, synchronous and
# pipelined. Best of BENCH_CL_RUNS (default 3). Timing never fails the build.
set -euo pipefail
build=${1:-.}
runs=${BENCH_CL_RUNS:-3}
n0=200
n=${BENCH_CL_TASKS:-4000}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "== opencl backend: cost per trivial kernel against raw OpenCL =="
echo "machine: $(uname -m), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "date: $(date -u +%Y-%m-%d)"
raw=$("$build/bench/opencl_cost" "$n")
echo "$raw"
case $raw in *skipped*) exit 0 ;; esac
for k in $n0 $n; do
	{ echo "id,class,flops"; for ((i = 0; i < k; i++)); do echo "t$i,generic,1"; done; } \
		>"$work/t$k.csv"
done
best() { # trace -> best wall seconds
	local b=1e9 s
	for ((r = 0; r < runs; r++)); do
		s=$( { /usr/bin/time -f "%e" "$build/xpuopt" run --backend opencl --sched fifo \
			-t "$1" -o - >/dev/null; } 2>&1 | tail -1)
		b=$(awk -v a="$b" -v c="$s" 'BEGIN { print (c < a) ? c : a }')
	done
	echo "$b"
}
a=$(best "$work/t$n0.csv")
b=$(best "$work/t$n.csv")
per=$(awk -v a="$a" -v b="$b" -v n0="$n0" -v n="$n" 'BEGIN { printf "%.2f", (b - a) / (n - n0) * 1e6 }')
piped=$(echo "$raw" | awk '/raw_pipelined_us/ { print $2 }')
sync=$(echo "$raw" | awk '/raw_sync_us/ { print $2 }')
echo "xpuopt_opencl_us $per"
awk -v x="$per" -v p="$piped" -v s="$sync" 'BEGIN {
	printf "ratio vs raw pipelined %.2f, vs raw synchronous %.2f\n", x / p, x / s }'
