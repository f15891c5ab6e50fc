#!/usr/bin/env bash
# jobs.sh — `make bench`: replay of a rigid parallel-job log with jobs up to 9,216
# processors wide, xpuopt against plain SimGrid.
# Generates BENCH_JOBS (default 40,000) jobs of the Lublin-Feitelson model for a
# 9,216-processor machine (xpuopt gen lublin, seed 1), and replays them on
# bench/platform9216.xml (one unit of 9,216 cores) with fcfs and easy, beside
# bench/plain_jobs (SimGrid's s4u alone: one execution of width threads per job, the
# same discipline). Best of BENCH_REPEAT (default 3) wall-clock times each. Prints jobs
# per second for both, their ratio (target >= 0.5) and whether the two agree on the
# makespan. Timing never fails the build.
set -euo pipefail
build=${1:-.}
src=$(cd "$(dirname "$0")/.." && pwd)
n=${BENCH_JOBS:-40000}
reps=${BENCH_REPEAT:-3}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
platform="$src/bench/platform9216.xml"
for b in xpuopt bench/plain_jobs; do
	[ -x "$build/$b" ] || { echo "bench: $build/$b missing (make bench builds it)"; exit 1; }
done

"$build/xpuopt" gen lublin --count "$n" --procs 9216 --seed 1 -o "$work/jobs.swf"
echo "== replay of $n Lublin-Feitelson jobs on a 9,216-processor unit =="
echo "machine: $(uname -m), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "date: $(date -u +%Y-%m-%d)"
awk '!/^;/ {k++; w += $5; if ($5 > m) m = $5} END {printf "mean width %.1f, widest %d\n", w / k, m}' "$work/jobs.swf"

best() { # best wall time of a command, in seconds, over $reps runs; its stdout in $work/out
	local b=
	for _ in $(seq "$reps"); do
		local t0 t1
		t0=$(date +%s.%N)
		"$@" >"$work/out" 2>/dev/null
		t1=$(date +%s.%N)
		b=$(awk -v a="$t0" -v z="$t1" -v b="$b" 'BEGIN {d = z - a; print (b == "" || d < b) ? d : b}')
	done
	echo "$b"
}

for sched in fcfs easy; do
	ps=$(best "$build/bench/plain_jobs" "$sched" "$platform" "$work/jobs.swf")
	pm=$(awk '$1=="makespan_s"{print $2}' "$work/out")
	xs=$(best "$build/xpuopt" run --platform "$platform" --trace "$work/jobs.swf" \
		--sched "$sched" --output - -q)
	"$build/xpuopt" run --platform "$platform" --trace "$work/jobs.swf" --sched "$sched" \
		--output - >"$work/out" 2>/dev/null
	xm=$(awk '$1=="makespan_s"{print $2}' "$work/out")
	awk -v n="$n" -v s="$sched" -v ps="$ps" -v xs="$xs" -v pm="$pm" -v xm="$xm" 'BEGIN {
		printf "%s: plain_simgrid %.2f s (%.0f jobs/s), xpuopt %.2f s (%.0f jobs/s), ", s, ps, n / ps, xs, n / xs
		printf "ratio %.2f (target >= 0.5); makespan %s vs %s\n", ps / xs, pm, xm
	}'
done
