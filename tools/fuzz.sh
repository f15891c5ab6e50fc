#!/usr/bin/env bash
# fuzz.sh — build libFuzzer targets for the trace readers (clang, ASan + UBSan) and run
# each for FUZZ_SECONDS (default 20), seeded from tests/data/traces/<format>/. Any crash,
# leak, sanitizer report or hang (over 10 s on one input) fails with the reproducer kept
# in $FUZZ_DIR (default build-fuzz/). Built directly from the library's reader sources,
# not through automake, so the flags stay the fuzzer's own.
#
# Targets (FUZZ_FORMATS, space-separated; default all of them):
#   FORMAT          the reader with its default parameters, input as the file;
#   FORMAT-gz       the input gzip-compressed before reading (swf-gz: .swf.gz logs);
#   FORMAT-params   the input's first line is the parameter list ('FORMAT:LINE'),
#                   seeded with every parameter set away from its default;
#   nodes           cluster node lists read as platforms and written as SimGrid XML;
#   platform        platform XML given to the check that runs before SimGrid reads it;
#   experiment      experiment files given to the study loader (driver/study.c), linked
#                   to the built library for the policies (run `make` first).
#   requests        LLM request streams for serving runs (traces/requests.c).
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
secs=${FUZZ_SECONDS:-20}
dir=${FUZZ_DIR:-$src/build-fuzz}
cc=${FUZZ_CC:-$(command -v clang || command -v clang-14 || echo clang)}
formats=${FUZZ_FORMATS:-"native swf stg alibaba-gpu philly azure-llm wfcommons vidur
	swf-gz nodes swf-params stg-params alibaba-gpu-params philly-params azure-llm-params
	wfcommons-params vidur-params platform experiment requests"}

# Seed parameter lines: every parameter of the reader, off its default.
params_of() {
	case $1 in
	swf) echo "speed=2e9,failed=drop,cancelled=drop,deps=preceding" ;;
	stg) echo "speed=1e6" ;;
	alibaba-gpu | philly) echo "speed=1e9,class=gemm" ;;
	azure-llm) echo "params=7e10,dtype_bytes=1,kv_bytes=1024" ;;
	wfcommons) echo "speed=1e9,flop_per_cycle=16" ;;
	vidur) echo "stat=max,speed=1e9,dtype_bytes=4" ;;
	*) echo "" ;;
	esac
}

if ! command -v "$cc" >/dev/null; then
	echo "fuzz: $cc not found (Debian: clang-14 libclang-rt-14-dev; tools/setup.sh)" >&2
	exit 1
fi
mkdir -p "$dir"
flags="-g -O1 -std=gnu11 -D_GNU_SOURCE -fsanitize=fuzzer,address,undefined
	-fno-sanitize-recover=undefined -I$src/engine -I$src/driver -I$src/traces"
# shellcheck disable=SC2086
deps="$(pkg-config --cflags --libs zlib jansson) -lm"
lib="engine/error.c engine/platform.c engine/quantity.c engine/data_model.c driver/workload.c traces/reader.c traces/native.c traces/lineio.c
	traces/swf.c traces/stg.c traces/gpu_csv.c traces/llm.c traces/wfcommons.c traces/vidur.c
	traces/nodes.c traces/requests.c sim/platform_check.c"

status=0
for target in $formats; do
	fmt=$target
	variant=""
	case $target in
	*-gz) fmt=${target%-gz} variant=-DFUZZ_GZIP ;;
	*-params) fmt=${target%-params} variant=-DFUZZ_PARAMS ;;
	nodes) variant=-DFUZZ_NODES ;;
	platform) variant=-DFUZZ_PLATFORM ;;
	requests) variant=-DFUZZ_REQUESTS ;;
	esac
	bin="$dir/fuzz-$target"
	if [ "$target" = experiment ]; then
		if [ ! -f "$src/.libs/libxpuopt.so" ]; then
			echo "fuzz: experiment needs the library built (make)" >&2
			status=1
			continue
		fi
		# shellcheck disable=SC2086
		(cd "$src" && $cc $flags tests/fuzz/fuzz_experiment.c driver/study.c \
			driver/registry.c $(pkg-config --cflags --libs libconfig) \
			-L.libs -lxpuopt -lxpucore -Wl,-rpath,"$src/.libs" -ldl -lm -o "$bin")
	else
		# shellcheck disable=SC2086
		(cd "$src" && $cc $flags -DFUZZ_FORMAT="\"$fmt\"" $variant tests/fuzz/fuzz_reader.c \
			$lib $deps -o "$bin")
	fi
	corpus="$dir/corpus-$target"
	mkdir -p "$corpus"
	seeds="$src/tests/data/traces/$fmt"
	[ "$fmt" = native ] && seeds="$src/tests/data/traces"
	[ "$target" = nodes ] && seeds="$src/tests/data/nodes"
	[ "$target" = platform ] && seeds="$src/tests/data/platforms"
	case $target in
	experiment) # the examples and the bad corpus, naming the harness's p.xml and t.csv
		for f in "$src"/experiments/*.cfg "$src"/tests/bad/experiment/*.cfg; do
			sed -E 's/"[^"]*\.xml"/"p.xml"/g; s/"[^"]*\.(csv|swf|json|stg)"/"t.csv"/g' "$f" \
				>"$corpus/$(basename "$f")"
		done ;;
	*-gz) # the target compresses: plain seeds
		find "$seeds" -maxdepth 1 -type f -size -64k ! -name '*.gz' \
			-exec cp -n {} "$corpus/" \; 2>/dev/null || true ;;
	*-params)
		line=$(params_of "$fmt")
		for f in "$seeds"/*; do
			[ -f "$f" ] && [ "$(stat -c %s "$f")" -lt 65536 ] || continue
			case $f in *.gz) continue ;; esac
			{ echo "$line"; cat "$f"; } >"$corpus/$(basename "$f")"
		done ;;
	*)
		find "$seeds" -maxdepth 1 -type f -size -64k -exec cp -n {} "$corpus/" \; \
			2>/dev/null || true ;;
	esac
	fmt=$target
	echo "fuzz: $fmt for ${secs}s"
	if ! (cd "$dir" && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
		LSAN_OPTIONS=suppressions="$src/tests/fuzz/lsan.supp" \
		"$bin" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
		-print_final_stats=1 -artifact_prefix="$dir/crash-$fmt-" "$corpus" \
		>"$dir/$fmt.log" 2>&1); then
		echo "fuzz: $fmt FAILED, see $dir/$fmt.log and $dir/crash-$fmt-*" >&2
		tail -40 "$dir/$fmt.log" >&2
		status=1
	else
		grep -E "stat::number_of_executed_units|Done [0-9]+ runs" "$dir/$fmt.log" | tail -1
	fi
done
exit $status
