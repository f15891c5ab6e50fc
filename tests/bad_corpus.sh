#!/usr/bin/env bash
# bad_corpus.sh — the bad-input corpus (issue 10): every entry of tests/bad/MANIFEST is
# given to the command that reads its kind of input, which must refuse it with exit
# status 2, a message holding the entry's expected text (for a file: its name, the line
# and the field), within 60 s, and leave its output directory empty: no result, no
# temporary, no partial file. Run by `make check`; with XPU_VALGRIND=1 every case
# runs under valgrind memcheck and must show no error and no leak (CI,
# tools/valgrind-errors.sh). XPU_CORPUS_SHOW=1 prints every message;
# XPU_CORPUS_MANIFEST=FILE runs the cases of another list (a few lines of this one).
#
# MANIFEST lines: KIND PATH EXPECTED...   (PATH relative to tests/; '#' comments)
#   trace:FORMAT     `run --trace PATH --trace-format FORMAT` (whole-trace checks too)
#   convert:FORMAT   `convert --trace-format FORMAT PATH -o OUT.csv`
#   platform         `run --platform PATH` on the bundled trace
#   nodes            `platform PATH -o OUT.xml` (a cluster node list)
#   experiment       `study -o DIR PATH`
#   serve            `run --serve vllm --trace PATH` (a request stream) on the H100 node
#   args             PATH holds one command line after `xpuopt`: @OUT@ is an output
#                    path in the case's directory, @SRC@ the source tree; the message
#                    must name the option (EXPECTED)
set -u
src=$(cd "${srcdir:-$(dirname "$0")/..}" && pwd)
xpuopt=${XPUOPT:-$(pwd)/xpuopt}
[ -x "$xpuopt" ] || xpuopt=$src/xpuopt
manifest=${XPU_CORPUS_MANIFEST:-$src/tests/bad/MANIFEST}
work=$(mktemp -d "${TMPDIR:-/tmp}/xpuopt-corpus.XXXXXX")
trap 'rm -rf "$work"' EXIT
vg=()
if [ "${XPU_VALGRIND:-0}" = 1 ]; then
	command -v valgrind >/dev/null || { echo "valgrind: not installed"; exit 77; }
	vg=(valgrind -q --error-exitcode=99 --leak-check=full --show-leak-kinds=definite,indirect
		--errors-for-leak-kinds=definite,indirect --track-fds=no)
fi
# libtool wrapper: run the real program under valgrind
if [ ${#vg[@]} -gt 0 ] && [ -x "$(dirname "$xpuopt")/.libs/xpuopt" ]; then
	export LD_LIBRARY_PATH="$(dirname "$xpuopt")/.libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
	xpuopt=$(dirname "$xpuopt")/.libs/xpuopt
fi
# One case: its verdict in $work/verdict.N ("" when it passed).
run_case() {
	local n=$1 kind=$2 path=$3 expect=$4
	local f=$src/tests/$path d=$work/case$n
	local out=$d/out cmd a rc why=""
	mkdir -p "$out"
	case $kind in
	trace:*) cmd=(run --quiet --trace-format "${kind#trace:}" --trace "$f" -o "$out/r.h5") ;;
	convert:*) cmd=(convert --trace-format "${kind#convert:}" "$f" -o "$out/t.csv") ;;
	platform) cmd=(run --quiet --platform "$f" -o "$out/r.h5") ;;
	nodes) cmd=(platform "$f" -o "$out/p.xml") ;;
	experiment) cmd=(study -q -o "$out/study" "$f") ;;
	serve) cmd=(run --quiet --serve vllm --platform "$src/platforms/datacenter-h100.xml" \
		--trace "$f" -o "$out/r.h5") ;;
	args)
		a=$(head -n 1 "$f")
		a=${a//@OUT@/$out/o}
		a=${a//@SRC@/$src}
		eval "cmd=($a)" ;;
	*) echo "MANIFEST: unknown kind '$kind' ($path)" >"$work/verdict.$n"; return ;;
	esac
	if [ ! -e "$f" ]; then
		echo "FAIL $path: no such file" >"$work/verdict.$n"
		return
	fi
	timeout 300 "${vg[@]}" "$xpuopt" "${cmd[@]}" </dev/null >"$d/stdout" 2>"$d/stderr"
	rc=$?
	if [ "${XPU_CORPUS_SHOW:-0}" = 1 ]; then
		printf '%s %s [%d]\n    %s\n' "$kind" "$path" "$rc" "$(head -c 2000 "$d/stderr")" \
			>"$work/show.$n"
	fi
	if [ $rc = 99 ] && [ ${#vg[@]} -gt 0 ]; then
		why="valgrind reports"
	elif [ $rc = 124 ]; then
		why="timed out"
	elif [ $rc != 2 ]; then
		why="exit status $rc, expected 2"
	elif ! grep -qF -- "$expect" "$d/stderr"; then
		why="message lacks '$expect'"
	elif [ "$kind" != args ] && ! grep -qF -- "$(basename "$f"):" "$d/stderr"; then
		why="message does not name the file"
	elif [ -n "$(ls -A "$out")" ]; then
		why="left in the output directory: $(ls -A "$out" | head -3 | tr '\n' ' ')"
	fi
	if [ -n "$why" ]; then
		{ echo "FAIL $kind $path: $why"; sed 's/^/    /' "$d/stderr" | head -20; } \
			>"$work/verdict.$n"
	else
		: >"$work/verdict.$n"
	fi
	rm -rf "$d"
}

# XPU_CORPUS_JOBS cases at once (default 2); XPU_CORPUS_EVERY=K runs every Kth case only
# (CI's valgrind pass).
jobs=${XPU_CORPUS_JOBS:-2} every=${XPU_CORPUS_EVERY:-1}
n=0 i=0 running=0
declare -A kinds=()
while IFS= read -r line || [ -n "$line" ]; do
	case $line in '' | '#'*) continue ;; esac
	i=$((i + 1))
	[ $(((i - 1) % every)) = 0 ] || continue
	read -r kind path expect <<<"$line"
	n=$((n + 1))
	kinds[$kind]=1
	run_case "$n" "$kind" "$path" "$expect" &
	running=$((running + 1))
	if [ $running -ge "$jobs" ]; then
		wait -n
		running=$((running - 1))
	fi
done <"$manifest"
wait
bad=0
for k in $(seq 1 $n); do
	[ -f "$work/show.$k" ] && cat "$work/show.$k"
	if [ ! -f "$work/verdict.$k" ]; then
		echo "FAIL case $k: no verdict"
		bad=$((bad + 1))
	elif [ -s "$work/verdict.$k" ]; then
		cat "$work/verdict.$k"
		bad=$((bad + 1))
	fi
done
echo "bad-input corpus: $n cases over ${#kinds[@]} kinds of input, $bad failed${vg:+ (valgrind memcheck)}"
if [ "$every" = 1 ] && [ $n -lt 100 ]; then
	echo "the corpus should hold at least 100 cases"
	bad=$((bad + 1))
fi
[ $bad = 0 ]
