#!/usr/bin/env bash
# serve.sh — `make bench`: serving-run speed (issue 14). Replays BENCH_REQUESTS (default
# 100,000) requests of conversation lengths (median prompt 1,020 and output 129 tokens,
# the Azure conversation trace's medians reported by Splitwise, Patel et al., ISCA 2024;
# log-normal spreads of our fit to the Azure code trace, 1.36 and 0.85) arriving at 80
# per second, served by vllm on the 8 H100s of platforms/datacenter-h100.xml (8 replicas,
# round-robin). Prints simulated requests and steps per wall-clock second, and, as the
# anchor measured in the same run, plain SimGrid (bench/plain_simgrid: SimGrid's C API
# alone) running as many executions on 64 hosts: the ratio says what a serving step
# costs beside a bare SimGrid execution. Timing never fails the build.
set -euo pipefail
build=${1:-.}
src=$(cd "$(dirname "$0")/.." && pwd)
n=${BENCH_REQUESTS:-100000}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
timer=/usr/bin/time
[ -x "$timer" ] || { echo "bench: /usr/bin/time missing (apt-get install time)"; exit 1; }

echo "== serving: $n conversation requests, vllm on 8 H100 (simulated) =="
echo "machine: $(uname -m), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "date: $(date -u +%Y-%m-%d)"
"$build/xpuopt" gen requests --count "$n" --rate 80 --prompt_tokens 1020 --prompt_sigma 1.36 \
	--output_tokens 129 --output_sigma 0.85 --seed 1 -o "$work/req.csv"
$timer -f "%e %M" -o "$work/serve.time" \
	"$build/xpuopt" run --serve vllm --model llama-2-7b --deploy gpu \
	--platform "$src/platforms/datacenter-h100.xml" --trace "$work/req.csv" -o - >"$work/serve.out"
read -r serve_s serve_kb <"$work/serve.time"
steps=$(awk '$1=="steps"{print $2}' "$work/serve.out")
$timer -f "%e %M" -o "$work/plain.time" \
	"$build/bench/plain_simgrid" --energy "$src/bench/platform64.xml" "$steps" 1e9 >"$work/plain.out"
read -r plain_s plain_kb <"$work/plain.time"
awk -v n="$n" -v s="$serve_s" -v k="$serve_kb" -v st="$steps" -v p="$plain_s" 'BEGIN {
	printf "serve_wall_s %.2f\n", s
	printf "serve_requests_per_wall_s %.0f\n", n / s
	printf "serve_steps %d\n", st
	printf "serve_steps_per_wall_s %.0f\n", st / s
	printf "serve_peak_kib %d (%.0f B per request)\n", k, k * 1024 / n
	printf "plain_simgrid_executions_per_wall_s %.0f\n", st / p
	printf "ratio_steps_vs_plain_executions %.3f\n", p / s
}'
grep -E '^(makespan_s|tokens_per_s|ttft_p90_s|tbt_p99_s|preemptions|kv_peak_frac) ' "$work/serve.out"
