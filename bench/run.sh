#!/usr/bin/env bash
# run.sh — `make bench`: replay throughput of xpuopt against plain SimGrid.
# Replays BENCH_TASKS (default 1,000,000) independent tasks on the 64-unit
# bench/platform64.xml with fifo, and the same work through bench/plain_simgrid (one
# dispatcher actor, 64 worker actors, SimGrid's C API only), in the same run. Prints
# wall-clock tasks per second for both, their ratio (target >= 0.5) and xpuopt's peak
# memory per task (target < 1 KiB). Timing never fails the build.
set -euo pipefail
build=${1:-.}
src=$(cd "$(dirname "$0")/.." && pwd)
n=${BENCH_TASKS:-1000000}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

timer=/usr/bin/time
[ -x "$timer" ] || { echo "bench: /usr/bin/time missing (apt-get install time)"; exit 1; }

"$build/bench/gen_independent" "$n" 1 >"$work/trace.csv"
platform="$src/bench/platform64.xml"

echo "== replay of $n independent tasks on 64 units (fifo) =="
echo "machine: $(uname -m), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "date: $(date -u +%Y-%m-%d)"

$timer -f "%e %M" -o "$work/plain.time" \
	"$build/bench/plain_simgrid" --energy "$platform" "$work/trace.csv" >"$work/plain.out"
$timer -f "%e %M" -o "$work/xpu.time" \
	"$build/xpuopt" run --platform "$platform" --trace "$work/trace.csv" --sched fifo \
	--output - >"$work/xpu.out"

read -r plain_s plain_kb <"$work/plain.time"
read -r xpu_s xpu_kb <"$work/xpu.time"
plain_ms=$(awk '$1=="makespan_s"{print $2}' "$work/plain.out")
xpu_ms=$(awk '$1=="makespan_s"{print $2}' "$work/xpu.out")
awk -v n="$n" -v ps="$plain_s" -v xs="$xpu_s" -v xk="$xpu_kb" -v pk="$plain_kb" \
	-v pm="$plain_ms" -v xm="$xpu_ms" 'BEGIN {
	printf "plain_simgrid_wall_s %.2f\n", ps
	printf "plain_simgrid_tasks_per_s %.0f\n", n / ps
	printf "plain_simgrid_peak_kib %d\n", pk
	printf "plain_simgrid_makespan_s %s\n", pm
	printf "xpuopt_wall_s %.2f\n", xs
	printf "xpuopt_tasks_per_s %.0f\n", n / xs
	printf "xpuopt_peak_kib %d\n", xk
	printf "xpuopt_makespan_s %s\n", xm
	printf "ratio_vs_plain_simgrid %.3f (target >= 0.5)\n", ps / xs
	printf "xpuopt_peak_bytes_per_task %.0f (target < 1024)\n", xk * 1024 / n
}'

echo
"$build/bench/policy_cost" "${BENCH_POLICY_TASKS:-2000}"
