#!/usr/bin/env bash
# sanitized-tests.sh — the test suite built with ASan and UBSan (configure
# --enable-sanitizers), in a copy of the tree under build-san/ so that the normal build
# is left alone. Run by .ci/run after the normal tests. Leak checking is off: SimGrid
# keeps its engine until the process ends, by design.
set -euo pipefail
cd "$(dirname "$0")/.."
src=$(pwd)
dir="$src/build-san"
rm -rf "$dir"
mkdir -p "$dir"
git ls-files -z | xargs -0 cp --parents -t "$dir"
cd "$dir"
autoreconf -fi >/dev/null 2>&1 || autoreconf -fi
./configure -q --enable-sanitizers
make -j"$(nproc)" >/dev/null
export ASAN_OPTIONS=detect_leaks=0 UBSAN_OPTIONS=print_stacktrace=1
if ! make check -j"$(nproc)" >/dev/null 2>&1; then
	tail -n 200 tests/xpuopt_tests.log 2>/dev/null || true
	# the failing tests' own lines come last, where a clipped CI log still shows them
	grep -E -B2 -A6 '^\[(FAIL|----)\]|Assertion|CRASH' tests/xpuopt_tests.log 2>/dev/null |
		grep -v 'ASan is ignoring\|False positive\|sanitizers/issues' | tail -n 60 || true
	echo "sanitized tests: FAILED"
	exit 1
fi
if grep -q "runtime error\|ERROR: AddressSanitizer" tests/xpuopt_tests.log; then
	grep -m 20 "runtime error\|ERROR: AddressSanitizer" tests/xpuopt_tests.log
	echo "sanitized tests: sanitizer reports"
	exit 1
fi
tail -n 2 tests/xpuopt_tests.log
echo "sanitized tests: ok"
