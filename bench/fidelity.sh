#!/usr/bin/env bash
# fidelity.sh — `make bench`: simulation against live after `xpuopt calibrate`, per
# class (issue: live hardware). Calibrates this machine on one worker, then runs
# `xpuopt fidelity` on one trace per class (BENCH_FID_TASKS, default 1,000, independent
# tasks of 2 to 20 generic-kernel repetitions' flops, 221,184 each) and on a mixed
# 2,000-task DAG of six classes (up to two dependencies on the ten tasks before), and on
# 300 LLM layer tasks that stream their weights (bytes). Prints
# each trace's makespan error and per-task error (p50, p95): (sim - live) / live. Run it
# on an otherwise idle machine; timing never fails the build. Then the same on an
# OpenCL device where one is found.
set -euo pipefail
build=${1:-.}
n=${BENCH_FID_TASKS:-1000}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

echo "== simulation against live after calibrate, per class (1 worker) =="
echo "machine: $(uname -m), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "date: $(date -u +%Y-%m-%d)"
"$build/xpuopt" calibrate --threads 1 -o "$work/cal.xml" 2>&1 | tail -1

classes="generic gemm conv attention llm-prefill llm-decode fft stencil video"
for c in $classes; do
	awk -v n="$n" -v c="$c" 'BEGIN {
		srand(13); print "id,class,flops"
		for (i = 0; i < n; i++) printf "t%d,%s,%.17g\n", i, c, (2 + int(rand() * 19)) * 221184
	}' >"$work/$c.csv"
done
awk 'BEGIN {
	split("gemm conv attention fft video generic", cls, " ")
	srand(13); print "id,class,flops,deps"
	for (i = 0; i < 2000; i++) {
		printf "t%d,%s,%.17g,", i, cls[1 + int(rand() * 6)], (2 + int(rand() * 19)) * 221184
		if (i > 0) { p0 = i - 1 - int(rand() * (i < 10 ? i : 10)); printf "t%d", p0 }
		if (i > 1 && rand() < 0.5) { p = i - 1 - int(rand() * (i < 10 ? i : 10)); if (p != p0) printf ";t%d", p }
		printf "\n"
	}
}' >"$work/mixed-dag.csv"

# LLM layers that stream their weights (the cpu backend reads a task's bytes from
# memory: hw/cpu_kernels.h): 70% decode steps (2 Mflop over 4 to 64 MB), 30% prefills
# (0.1 to 2 Gflop over 4 to 64 MB), predicted with the calibrated xpu.mem.bw
awk 'BEGIN {
	srand(7); print "id,class,flops,bytes"
	for (i = 0; i < 300; i++)
		if (rand() < 0.7) printf "d%d,llm-decode,2e6,%.17g\n", i, (4 + int(rand() * 60)) * 1e6
		else printf "p%d,llm-prefill,%.17g,%.17g\n", i, (1 + int(rand() * 20)) * 1e8, (4 + int(rand() * 60)) * 1e6
}' >"$work/llm-bytes.csv"

# one line of the table from $work/NAME.out (xpuopt fidelity's output)
row() {
	awk -v t="$1" '{ v[$1] = $2 } END {
		printf "%-12s %12.4f %12.4f %+9.2f%% %9.2f%% %9.2f%%\n", t, v["makespan_live_s"],
			v["makespan_sim_s"], 100 * v["makespan_error"], 100 * v["task_error_p50"],
			100 * v["task_error_p95"]
	}' "$work/$1.out"
}

printf "%-12s %12s %12s %10s %10s %10s\n" trace live_s sim_s makespan task_p50 task_p95
for t in $classes mixed-dag llm-bytes; do
	"$build/xpuopt" fidelity "$work/$t.csv" -p "$work/cal.xml" -j 1 >"$work/$t.out" 2>/dev/null
	row "$t"
done

# The same per-class traces and DAG on an OpenCL device (pocl's CPU device anywhere),
# calibrated with `--backend opencl --trace` on the per-class traces together, so each
# class's line is fitted at the traces' task sizes (hw/README.md, "Other live
# backends"). Skipped where no OpenCL device is found.
printf 'id,class,flops\na,generic,1\n' >"$work/probe.csv"
if ! "$build/xpuopt" run --backend opencl -t "$work/probe.csv" -q >/dev/null 2>&1; then
	echo "== OpenCL: no device found, skipped =="
	exit 0
fi
echo "== simulation against live after calibrate --backend opencl --trace, per class =="
{
	echo "id,class,flops"
	for c in $classes; do tail -n +2 "$work/$c.csv" | sed "s/^t/$c-/"; done
} >"$work/all.csv"
"$build/xpuopt" calibrate --backend opencl --trace "$work/all.csv" -o "$work/cl.xml" 2>&1 | tail -1
printf "%-12s %12s %12s %10s %10s %10s\n" trace live_s sim_s makespan task_p50 task_p95
for t in $classes mixed-dag; do
	"$build/xpuopt" fidelity "$work/$t.csv" --backend opencl -p "$work/cl.xml" >"$work/$t.out" 2>/dev/null
	row "$t"
done
