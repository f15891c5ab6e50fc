#!/usr/bin/env bash
# live.sh — `make bench`: live CPU dispatch cost per empty task (issue: live hardware).
# In one run, on W (default 2) workers: xpuopt's cpu backend (`run --live`), StarPU
# 1.3's eager and lws schedulers (when pkg-config finds starpu-1.3: Debian's
# libstarpu-dev), and a plain pool of pthreads with lock-free rings (the practical
# floor). N (default 200,000) empty tasks each. xpuopt's figure is its makespan / N (the
# run loop, from the first launch to the last completion, as StarPU's is from the first
# submission to the last completion); its marginal wall time per task (the whole
# command at N against N/4: reading the trace, writing the results) is printed too.
# Targets: under 1 us per task, and StarPU's best at least 2x xpuopt's. Timing never
# fails the build.
set -euo pipefail
build=${1:-.}
src=$(cd "$(dirname "$0")/.." && pwd)
n=${BENCH_LIVE_TASKS:-200000}
nw=${BENCH_LIVE_WORKERS:-2}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
timer=/usr/bin/time
[ -x "$timer" ] || { echo "bench: /usr/bin/time missing (apt-get install time)"; exit 1; }

q=$((n / 4))
for k in "$n" "$q"; do
	{ echo "id,submit,flops"; awk -v k="$k" 'BEGIN { for (i = 0; i < k; i++) print "t" i ",0,0" }'; } \
		>"$work/empty$k.csv"
done

echo "== live dispatch: $n empty tasks on $nw workers =="
echo "machine: $(uname -m), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "date: $(date -u +%Y-%m-%d)"

xrun() { # N -> "wall_s makespan_s"
	$timer -f "%e" -o "$work/t" "$build/xpuopt" run --live --threads "$nw" --sched fifo \
		--trace "$work/empty$1.csv" --output - >"$work/out"
	echo "$(cat "$work/t") $(awk '$1=="makespan_s"{print $2}' "$work/out")"
}
read -r wall_n span_n < <(xrun "$n")
read -r wall_q span_q < <(xrun "$q")
xpu=$(awk -v s="$span_n" -v n="$n" 'BEGIN { printf "%.4f", 1e6 * s / n }')
marg=$(awk -v a="$wall_n" -v b="$wall_q" -v n="$n" -v q="$q" 'BEGIN { printf "%.4f", 1e6 * (a - b) / (n - q) }')

floor=$("$build/bench/pool_floor" "$n" "$nw")

eager=skipped lws=skipped
if pkg-config --exists starpu-1.3 2>/dev/null; then
	# shellcheck disable=SC2046
	cc -O2 -o "$work/starpu_empty" "$src/bench/starpu_empty.c" $(pkg-config --cflags --libs starpu-1.3)
	eager=$(STARPU_SILENT=1 STARPU_NCPU="$nw" STARPU_NCUDA=0 STARPU_NOPENCL=0 STARPU_SCHED=eager \
		"$work/starpu_empty" "$n")
	lws=$(STARPU_SILENT=1 STARPU_NCPU="$nw" STARPU_NCUDA=0 STARPU_NOPENCL=0 STARPU_SCHED=lws \
		"$work/starpu_empty" "$n")
fi

echo "xpuopt_live_us_per_task $xpu (target < 1)"
echo "xpuopt_live_marginal_wall_us_per_task $marg (whole command: trace, run, results)"
echo "pool_floor_us_per_task $floor"
if [ "$eager" = skipped ]; then
	echo "starpu: skipped (pkg-config finds no starpu-1.3; apt-get install libstarpu-dev)"
else
	echo "starpu_eager_us_per_task $eager"
	echo "starpu_lws_us_per_task $lws"
	awk -v e="$eager" -v l="$lws" -v x="$xpu" 'BEGIN {
		b = e < l ? e : l
		printf "starpu_best_over_xpuopt %.2f (target >= 2)\n", b / x
	}'
fi
