#!/usr/bin/env bash
# evict.sh — `make bench`: bytes moved by the eviction policies (issue 11). One GPU of
# 1, 2 and 3 GiB behind PCIe 4.0 x16 (25 GB/s, 1 us) runs 2,000 tasks, each reading two
# of 64 shared 64 MiB data (4 GiB in all) and every fourth updating a third in place,
# under fifo; lru, lru-clean and belady (the offline optimum, the bound) each replay it.
# Prints bytes transferred, evictions, write-backs and makespan, and each policy's bytes
# as a ratio to belady's at the same size. Timing never fails the build.
set -euo pipefail
build=${1:-.}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

echo "== eviction: bytes transferred on an oversubscribed GPU (simulated) =="
echo "machine: $(uname -m), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "date: $(date -u +%Y-%m-%d)"
awk 'BEGIN { srand(7); print "id,class,flops,cost,reads,writes"
	for (i = 0; i < 2000; i++) {
		a = int(rand() * 64); b = int(rand() * 64); if (b == a) b = (a + 1) % 64
		w = ""
		if (i % 4 == 3) { c = (a + 2) % 64; if (c == b) c = (c + 1) % 64; w = "d" c ":64MiB" }
		printf "t%d,gemm,1e9,gpu=0.002,d%d:64MiB;d%d:64MiB,%s\n", i, a, b, w } }' \
	>"$work/heavy.csv"
printf "%-8s %-10s %16s %10s %10s %12s %10s\n" gpu_mem policy bytes evictions writebacks \
	makespan_s vs_belady
for mem in 1GiB 2GiB 3GiB; do
	cat >"$work/gpu.xml" <<XML
<?xml version="1.0"?>
<!DOCTYPE platform SYSTEM "https://simgrid.org/simgrid.dtd">
<platform version="4.1">
  <zone id="z" routing="Full">
    <host id="cpu" speed="50Gf" core="4">
      <prop id="xpu.kind" value="cpu"/>
      <prop id="xpu.mem" value="64GiB"/>
    </host>
    <host id="gpu" speed="10Tf" core="1">
      <prop id="xpu.kind" value="gpu"/>
      <prop id="xpu.mem" value="$mem"/>
    </host>
    <link id="pcie" bandwidth="25GBps" latency="1us"/>
    <route src="cpu" dst="gpu"><link_ctn id="pcie"/></route>
  </zone>
</platform>
XML
	declare -A got=()
	for pol in belady lru lru-clean; do
		"$build/xpuopt" run -p "$work/gpu.xml" -t "$work/heavy.csv" --sched fifo \
			--mem "$pol" -o "$work/r.h5" >"$work/out.txt" 2>&1
		val() { awk -v k="$1" '$1 == k { print $2 }' "$work/out.txt"; }
		got[$pol]=$(val bytes_transferred)
		printf "%-8s %-10s %16.0f %10s %10s %12s %10.3f\n" "$mem" "$pol" "${got[$pol]}" \
			"$(val evictions)" "$(val writebacks)" "$(val makespan_s)" \
			"$(awk -v a="${got[$pol]}" -v b="${got[belady]}" 'BEGIN { print a / b }')"
	done
done
