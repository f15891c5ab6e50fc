#!/usr/bin/env bash
# test.sh — install what is missing, build, and run the test suite (make check).
# With --distcheck, also build and check the distribution tarball.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/setup.sh
if ! make check -j"$(nproc)"; then
	cat tests/*.log 2>/dev/null | tail -n 200
	exit 1
fi
cat tests/xpuopt_tests.log | tail -n 5
if [ "${1:-}" = "--distcheck" ]; then
	make distcheck -j"$(nproc)" >/dev/null
	echo "distcheck: ok"
fi
