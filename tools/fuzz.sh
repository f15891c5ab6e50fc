#!/usr/bin/env bash
# fuzz.sh — build one libFuzzer target per trace reader (clang, ASan + UBSan) and run
# each for FUZZ_SECONDS (default 20), seeded from tests/data/traces/<format>/. Any crash,
# leak, sanitizer report or hang (over 10 s on one input) fails with the reproducer kept
# in $FUZZ_DIR (default build-fuzz/). Built directly from the library's reader sources,
# not through automake, so the flags stay the fuzzer's own.
set -euo pipefail
src=$(cd "$(dirname "$0")/.." && pwd)
secs=${FUZZ_SECONDS:-20}
dir=${FUZZ_DIR:-$src/build-fuzz}
cc=${FUZZ_CC:-$(command -v clang || command -v clang-14 || echo clang)}
formats=${FUZZ_FORMATS:-"native swf stg alibaba-gpu philly azure-llm wfcommons vidur"}

if ! command -v "$cc" >/dev/null; then
	echo "fuzz: $cc not found (Debian: clang-14 libclang-rt-14-dev; tools/setup.sh)" >&2
	exit 1
fi
mkdir -p "$dir"
flags="-g -O1 -std=gnu11 -D_GNU_SOURCE -fsanitize=fuzzer,address,undefined
	-fno-sanitize-recover=undefined -I$src/core -I$src/traces"
# shellcheck disable=SC2086
deps="$(pkg-config --cflags --libs zlib jansson) -lm"
lib="core/error.c core/workload.c traces/reader.c traces/native.c traces/lineio.c
	traces/swf.c traces/stg.c traces/gpu_csv.c traces/llm.c traces/wfcommons.c traces/vidur.c
	traces/nodes.c"

status=0
for fmt in $formats; do
	bin="$dir/fuzz-$fmt"
	# shellcheck disable=SC2086
	(cd "$src" && $cc $flags -DFUZZ_FORMAT="\"$fmt\"" tests/fuzz/fuzz_reader.c $lib $deps \
		-o "$bin")
	corpus="$dir/corpus-$fmt"
	mkdir -p "$corpus"
	seeds="$src/tests/data/traces/$fmt"
	[ "$fmt" = native ] && seeds="$src/tests/data/traces"
	find "$seeds" -maxdepth 1 -type f -size -64k -exec cp -n {} "$corpus/" \; 2>/dev/null || true
	echo "fuzz: $fmt for ${secs}s"
	if ! (cd "$dir" && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
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
