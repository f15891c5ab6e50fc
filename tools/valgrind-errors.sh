#!/usr/bin/env bash
# valgrind-errors.sh — valgrind memcheck over the error paths (issue 10): the bad-input
# corpus (tests/bad/MANIFEST) run with every case under memcheck, which must report no
# error and no definite or indirect leak (SimGrid's engine is kept until exit by design:
# "still reachable" is not counted). CI runs every VALGRIND_EVERY-th case (default 2,
# about 5 minutes on 2 cores); VALGRIND_EVERY=1 runs them all. Needs the tree built.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v valgrind >/dev/null || { echo "valgrind-errors: valgrind not installed (tools/setup.sh)" >&2; exit 1; }
[ -x ./xpuopt ] || { echo "valgrind-errors: build first (make)" >&2; exit 1; }
XPU_VALGRIND=1 XPU_CORPUS_EVERY=${VALGRIND_EVERY:-2} XPU_CORPUS_JOBS=${VALGRIND_JOBS:-$(nproc)} \
	srcdir=. XPUOPT=$(pwd)/xpuopt bash tests/bad_corpus.sh
