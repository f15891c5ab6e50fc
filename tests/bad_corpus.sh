#!/usr/bin/env bash
# bad_corpus.sh — the bad-input corpus (issue 10): every entry of tests/bad/MANIFEST is
# given to the command that reads its kind of input, which must refuse it with exit
# status 2, a message holding the entry's expected text (for a file: its name, the line
# and the field), within 60 s, and leave its output directory empty: no result, no
# temporary, no partial file. Run by `make check`; with XPU_VALGRIND=1 every case
# runs under valgrind memcheck and must show no error and no leak (CI,
# tools/valgrind-errors.sh). XPU_CORPUS_SHOW=1 prints every message.
#
# MANIFEST lines: KIND PATH EXPECTED...   (PATH relative to tests/; '#' comments)
#   trace:FORMAT     `run --trace PATH --trace-format FORMAT` (whole-trace checks too)
#   convert:FORMAT   `convert --trace-format FORMAT PATH -o OUT.csv`
#   platform         `run --platform PATH` on the bundled trace
#   nodes            `platform PATH -o OUT.xml` (a cluster node list)
#   experiment       `study -o DIR PATH`
#   args             PATH holds one command line after `xpuopt`: @OUT@ is an output
#                    path in the case's directory, @SRC@ the source tree; the message
#                    must name the option (EXPECTED)
set -u
src=$(cd "${srcdir:-$(dirname "$0")/..}" && pwd)
xpuopt=${XPUOPT:-$(pwd)/xpuopt}
[ -x "$xpuopt" ] || xpuopt=$src/xpuopt
manifest=$src/tests/bad/MANIFEST
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
n=0 bad=0
declare -A kinds=()
while IFS= read -r line || [ -n "$line" ]; do
	case $line in '' | '#'*) continue ;; esac
	read -r kind path expect <<<"$line"
	f=$src/tests/$path
	n=$((n + 1))
	kinds[$kind]=1
	d=$work/case$n
	mkdir -p "$d/out"
	out=$d/out
	case $kind in
	trace:*) cmd=(run --quiet --trace-format "${kind#trace:}" --trace "$f" -o "$out/r.h5") ;;
	convert:*) cmd=(convert --trace-format "${kind#convert:}" "$f" -o "$out/t.csv") ;;
	platform) cmd=(run --quiet --platform "$f" -o "$out/r.h5") ;;
	nodes) cmd=(platform "$f" -o "$out/p.xml") ;;
	experiment) cmd=(study -q -o "$out/study" "$f") ;;
	args)
		a=$(head -n 1 "$f")
		a=${a//@OUT@/$out/o}
		a=${a//@SRC@/$src}
		eval "cmd=($a)" ;;
	*) echo "MANIFEST: unknown kind '$kind' ($path)"; bad=$((bad + 1)); continue ;;
	esac
	if [ ! -e "$f" ]; then
		echo "FAIL $path: no such file"
		bad=$((bad + 1))
		continue
	fi
	timeout 60 "${vg[@]}" "$xpuopt" "${cmd[@]}" </dev/null >"$d/stdout" 2>"$d/stderr"
	rc=$?
	msg=$(head -c 2000 "$d/stderr")
	[ "${XPU_CORPUS_SHOW:-0}" = 1 ] && printf '%s %s [%d]\n    %s\n' "$kind" "$path" "$rc" "$msg"
	why=""
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
		bad=$((bad + 1))
		echo "FAIL $kind $path: $why"
		sed 's/^/    /' "$d/stderr" | head -20
	fi
	rm -rf "$d"
done <"$manifest"
echo "bad-input corpus: $n cases over ${#kinds[@]} kinds of input, $bad failed${vg:+ (valgrind memcheck)}"
[ $n -ge 100 ] || { echo "the corpus should hold at least 100 cases"; bad=$((bad + 1)); }
[ $bad = 0 ]
