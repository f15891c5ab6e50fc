#!/usr/bin/env bash
# quickstart.sh — install what is missing, build, and run the main job: the bundled
# trace replayed on the bundled platform with fifo, the summary on the terminal and the
# result in xpuopt-result.h5.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/setup.sh
./xpuopt run --sched fifo --output xpuopt-result.h5 "$@"
