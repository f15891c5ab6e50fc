#!/usr/bin/env bash
# readers.sh — `make bench`: records per second of each trace reader, through `xpuopt convert`.
# Each reader streams a trace to native CSV (convert reads record by record, without the
# workload's id resolution), best of BENCH_READER_RUNS (default 3). Inputs are the real
# traces in ../shared/traces, replicated to at least BENCH_READER_RECORDS (default 200,000)
# records where a reader allows it (SWF, GPU, LLM and vidur CSVs: rows concatenated; STG
# graphs are small and are timed as they are). Timing never fails the build.
set -euo pipefail
build=${1:-.}
src=$(cd "$(dirname "$0")/.." && pwd)
traces="$src/../shared/traces"
runs=${BENCH_READER_RUNS:-3}
want=${BENCH_READER_RECORDS:-200000}
[ -d "$traces" ] || { echo "bench readers: $traces absent, skipped"; exit 0; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

echo "== trace readers: records per second (xpuopt convert to /dev/null) =="
echo "machine: $(uname -m), $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "date: $(date -u +%Y-%m-%d)"

# Repeat the data rows of a CSV (keeping one header) or an SWF log until >= want rows.
grow() { # in out header_lines
	local in=$1 out=$2 h=$3 rows
	rows=$(($(grep -cv '^[[:space:]]*$' "$in") - h))
	head -n "$h" "$in" >"$out"
	for ((i = 0; i * rows < want; i++)); do awk -v h="$h" "NR > h" "$in"; done >>"$out.body"
	# Ids must stay unique: prefix the copy number to the first field.
	# (LLM rows carry no id, and times only need to stay >= the first: kept as is.)
	awk -v n="$rows" -v fs="$4" -v keep="${5:-}" 'BEGIN{FS=OFS=fs} NF{c = int(k / n); k++;
		if (!keep) $1=(fs==","?"c" c "-" $1:c*1000000+$1); print}' "$out.body" >>"$out"
	rm -f "$out.body"
}

bench() { # label format file
	local label=$1 fmt=$2 file=$3 best=1e9 n
	n=$("$build/xpuopt" convert --trace-format "$fmt" "$file" -o - | tail -n +2 | wc -l)
	for ((r = 0; r < runs; r++)); do
		s=$( { /usr/bin/time -f "%e" "$build/xpuopt" convert --trace-format "$fmt" "$file" \
			-o /dev/null; } 2>&1 | tail -1)
		best=$(awk -v a="$s" -v b="$best" 'BEGIN{print (a < b ? a : b)}')
	done
	awk -v l="$label" -v n="$n" -v s="$best" \
		'BEGIN{t = s > 0 ? s : 0.005; rate = n / t;
		printf "%-12s records %8d  wall_s %6.2f  records_per_s %.0f\n", l, n, s, rate}'
}

swf="$work/kth.swf"
grep -v '^;' "$traces/swf/KTH-SP2-1996-2.1-cln.swf" >"$work/kth.body"
grow "$work/kth.body" "$swf" 0 " "
gzip -c "$swf" >"$work/kth.swf.gz"
grow "$traces/gpu/alibaba_gpu-v2023_openb_pod_list_default.csv" "$work/ali.csv" 1 ","
grow "$traces/gpu/microsoft_itp_2021/cluster04.csv" "$work/itp.csv" 1 ","
grow "$traces/llm/AzureLLMInferenceTrace_code.csv" "$work/llm.csv" 1 "," keep
# vidur: 10 tasks per row, so a tenth of the rows (ids come from row numbers: kept as is).
want=$((want / 10)) grow "$traces/profiles/vidur_a100_Llama-2-7b_mlp.csv" "$work/vidur.csv" 1 "," keep
"$build/xpuopt" convert "$work/itp.csv" -o "$work/native.csv"

bench swf swf "$swf"
bench swf.gz swf "$work/kth.swf.gz"
bench alibaba-gpu alibaba-gpu "$work/ali.csv"
bench philly philly "$work/itp.csv"
bench azure-llm azure-llm "$work/llm.csv"
bench vidur vidur "$work/vidur.csv"
bench stg stg "$traces/workflow/stg/sparse.stg"
bench native native "$work/native.csv"

# WfCommons: the montage instance (103 tasks) replicated into one 1.5 file of at least
# BENCH_READER_RECORDS / 10 tasks (ids prefixed per copy); needs python3, else as is.
wf="$traces/workflow/wfcommons/montage-chameleon-2mass-01d-001.json"
if command -v python3 >/dev/null; then
	python3 - "$wf" "$work/wf.json" "$((want / 10))" <<'PY'
import json, sys
d = json.load(open(sys.argv[1])); w = d["workflow"]; s, e = w["specification"], w["execution"]
tasks, files, etasks = [], [], []
k = 0
while len(tasks) < int(sys.argv[3]):
    p = "c%d-" % k; k += 1
    for t in s["tasks"]:
        tasks.append(dict(t, id=p + t["id"], name=p + t["name"],
                          parents=[p + x for x in t["parents"]], children=[p + x for x in t["children"]],
                          inputFiles=[p + x for x in t["inputFiles"]], outputFiles=[p + x for x in t["outputFiles"]]))
    files += [dict(f, id=p + f["id"]) for f in s["files"]]
    etasks += [dict(t, id=p + t["id"]) for t in e["tasks"]]
s["tasks"], s["files"], e["tasks"] = tasks, files, etasks
json.dump(d, open(sys.argv[2], "w"))
PY
	wf="$work/wf.json"
fi
bench wfcommons wfcommons "$wf"

# Cluster node lists: nodes read and written as a SimGrid platform per second
# (xpuopt platform LIST -o -), the Alibaba all-node list grown to >= want nodes.
grow "$traces/gpu/alibaba_gpu-v2023_openb_node_list_all_node.csv" "$work/nodes.csv" 1 ","
best=1e9
n=$(($(wc -l <"$work/nodes.csv") - 1))
for ((r = 0; r < runs; r++)); do
	s=$( { /usr/bin/time -f "%e" "$build/xpuopt" platform "$work/nodes.csv" -o - >/dev/null; } \
		2>&1 | tail -1)
	best=$(awk -v a="$s" -v b="$best" 'BEGIN{print (a < b ? a : b)}')
done
awk -v n="$n" -v s="$best" 'BEGIN{t = s > 0 ? s : 0.005;
	printf "%-12s records %8d  wall_s %6.2f  records_per_s %.0f\n", "node-list", n, s, n / t}'

# Generators: records written per second (xpuopt gen to /dev/null).
gen() { # kind args...
	local kind=$1 best=1e9 n s
	shift
	n=$("$build/xpuopt" gen "$kind" "$@" -o - | grep -cv '^#')
	n=$((n - 1))
	for ((r = 0; r < runs; r++)); do
		s=$( { /usr/bin/time -f "%e" "$build/xpuopt" gen "$kind" "$@" -o /dev/null; } 2>&1 | tail -1)
		best=$(awk -v a="$s" -v b="$best" 'BEGIN{print (a < b ? a : b)}')
	done
	awk -v l="gen-$kind" -v n="$n" -v s="$best" \
		'BEGIN{t = s > 0 ? s : 0.005; printf "%-12s records %8d  wall_s %6.2f  records_per_s %.0f\n", l, n, s, n / t}'
}
gen poisson --count "$want"
gen layered --layers "$((want / 100))" --width 100 --edge_prob 0.05
gen gauss --n 630
gen llm --count "$((want / 2))"
