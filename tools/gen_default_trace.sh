#!/bin/sh
# gen_default_trace.sh — writes the bundled quickstart trace, traces/default.csv.
#
# usage: tools/gen_default_trace.sh [OUT [SEED]]
#   OUT   file to write, "-" for stdout (default: traces/default.csv beside this script)
#   SEED  seed of the generator's LCG (default 20240501)
#
# The output is a pure function of SEED: a 32-bit linear congruential generator
# (Numerical Recipes' constants 1664525 and 1013904223) driven by awk, whose doubles
# hold its products exactly, so every awk (mawk, gawk, busybox) writes the same file.
#
# What it models: a laptop SoC (CPU cores, an integrated GPU, an NPU) serving a mix of
# independent kernels that arrive as a Poisson stream, plus a few small DAGs with data
# edges: two LLM requests (prefill then decode steps passing the KV cache), a CNN
# video pipeline, an FFT fork-join and a two-layer transformer block. Work ranges
# from 1 Gflop to 1 Tflop per task, memory from a few MB to a few hundred MB. There is
# no cost column: durations come from the platform's model of each unit.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here/../traces/default.csv}
seed=${2:-20240501}

gen() {
	awk -v seed="$seed" '
function rnd() {                        # uniform in [0, 1)
	state = (1664525 * state + 1013904223) % 4294967296
	return state / 4294967296
}
function logu(lo, hi) {                 # log-uniform in [lo, hi)
	return exp(log(lo) + rnd() * (log(hi) - log(lo)))
}
function pick(n) {                      # uniform integer in [0, n)
	return int(rnd() * n)
}
# One row. deadline < 0 means none; flops, bytes and dep bytes are written in
# scientific notation, mem in MiB.
function row(id, submit, cls, flops, bytes, mem_mib, deps, prio, deadline, user,   d) {
	d = deadline < 0 ? "" : sprintf("%.3f", deadline)
	printf "%s,%.3f,%s,%.3e,%.3e,%dMiB,%s,%d,%s,%s\n", id, submit, cls, flops, bytes,
		mem_mib, deps, prio, d, user
	ntasks++
}
# An independent kernel of a random class.
function kernel(t,   c, f, b, m, p, dl) {
	c = classes[pick(9)]
	if (c == "gemm")            { f = logu(1e10, 1e12); b = f / 60;  m = logu(16, 256) }
	else if (c == "conv")       { f = logu(5e9, 5e11);  b = f / 30;  m = logu(8, 128) }
	else if (c == "attention")  { f = logu(1e10, 5e11); b = f / 20;  m = logu(32, 256) }
	else if (c == "llm-prefill"){ f = logu(1e11, 1e12); b = logu(2e8, 5e8); m = logu(200, 450) }
	else if (c == "llm-decode") { f = logu(1e9, 1e10);  b = logu(2e8, 5e8); m = logu(200, 450) }
	else if (c == "fft")        { f = logu(1e9, 5e10);  b = f / 5;   m = logu(4, 64) }
	else if (c == "stencil")    { f = logu(1e9, 1e11);  b = f / 4;   m = logu(16, 192) }
	else if (c == "video")      { f = logu(1e9, 1e11);  b = f / 10;  m = logu(8, 64) }
	else                        { f = logu(1e9, 1e11);  b = f / 10;  m = logu(4, 96) }
	p = rnd() < 0.8 ? 0 : 1 + pick(3)
	dl = rnd() < 0.2 ? t + logu(2, 20) : -1
	row(sprintf("k%03d", ++nk), t, c, f, b, int(m) + 1, "", p, dl, users[pick(4)])
}
# An LLM request: prefill, then decode steps, each passing the KV cache on.
function llm(name, t, steps, user,   i, kv, prev) {
	kv = logu(8e6, 6.4e7)
	row(name ".prefill", t, "llm-prefill", logu(2e11, 8e11), 4e8, 400, "", 2, -1, user)
	prev = name ".prefill"
	for (i = 1; i <= steps; i++) {
		row(name ".decode" i, t, "llm-decode", logu(2e9, 6e9), 4e8, 400,
		    sprintf("%s:%.3e", prev, kv), 2, i == steps ? t + 8 : -1, user)
		prev = name ".decode" i
	}
}
# A CNN on video frames: decode, three convolutions, a fully connected layer.
function cnn(name, t, user,   act) {
	act = 1.2e7
	row(name ".decode", t, "video", logu(5e9, 2e10), 6e8, 32, "", 1, -1, user)
	row(name ".conv1", t, "conv", logu(5e10, 1e11), 2e9, 96, sprintf("%s.decode:%.3e", name, act), 1, -1, user)
	row(name ".conv2", t, "conv", logu(5e10, 1e11), 2e9, 96, sprintf("%s.conv1:%.3e", name, act / 2), 1, -1, user)
	row(name ".conv3", t, "conv", logu(5e10, 1e11), 2e9, 96, sprintf("%s.conv2:%.3e", name, act / 4), 1, -1, user)
	row(name ".fc", t, "gemm", logu(1e10, 3e10), 3e8, 64, sprintf("%s.conv3:%.3e", name, act / 8), 1, t + 5, user)
}
# FFT fork-join: forward transform, four stencil sweeps on slices, inverse transform.
function fftjoin(name, t, user,   i, slab, deps) {
	slab = 3.2e7
	row(name ".fwd", t, "fft", logu(2e10, 5e10), 1e10, 128, "", 0, -1, user)
	deps = ""
	for (i = 1; i <= 4; i++) {
		row(name ".sweep" i, t, "stencil", logu(1e10, 4e10), 1e10, 48,
		    sprintf("%s.fwd:%.3e", name, slab), 0, -1, user)
		deps = deps (i > 1 ? ";" : "") sprintf("%s.sweep%d:%.3e", name, i, slab)
	}
	row(name ".inv", t, "fft", logu(2e10, 5e10), 1e10, 128, deps, 0, t + 15, user)
}
# Two transformer layers: attention then MLP, the hidden state flowing between them.
function block(name, t, user,   l, h, prev) {
	h = 8e6
	prev = ""
	for (l = 1; l <= 2; l++) {
		row(name ".attn" l, t, "attention", logu(1e11, 3e11), 5e9, 160,
		    prev == "" ? "" : sprintf("%s:%.3e", prev, h), 1, -1, user)
		row(name ".mlp" l, t, "gemm", logu(2e11, 4e11), 6e9, 192,
		    sprintf("%s.attn%d:%.3e", name, l, h), 1, l == 2 ? t + 10 : -1, user)
		prev = sprintf("%s.mlp%d", name, l)
	}
	row(name ".out", t, "generic", logu(1e9, 5e9), 1e8, 16, sprintf("%s:%.3e", prev, h), 1, -1, user)
}
function dag(d,   u) {
	u = users[pick(4)]
	if (d == 1)      llm("req1", dag_t[d], 6, u)
	else if (d == 2) cnn("cam", dag_t[d], u)
	else if (d == 3) fftjoin("sim", dag_t[d], u)
	else if (d == 4) block("xfmr", dag_t[d], u)
	else if (d == 5) llm("req2", dag_t[d], 8, u)
	else             cnn("cam2", dag_t[d], u)
}
BEGIN {
	state = seed % 4294967296
	split("generic gemm conv attention llm-prefill llm-decode fft stencil video", cl, " ")
	for (i = 1; i <= 9; i++) classes[i - 1] = cl[i]
	split("alice bob carol dave", us, " ")
	for (i = 1; i <= 4; i++) users[i - 1] = us[i]

	print "# traces/default.csv — generated by tools/gen_default_trace.sh (seed " seed "); do not edit."
	print "# Quickstart workload for a laptop SoC: independent kernels with Poisson arrivals"
	print "# and small DAGs (LLM requests, CNN pipeline, FFT fork-join, transformer block)."
	print "# Format: traces/FORMAT.md."
	print "id,submit,class,flops,bytes,mem,deps,priority,deadline,user"

	# DAG arrival times (s), in order; they are emitted when the stream passes them.
	ndag = split("2.5 7.0 11.0 16.5 21.0 26.0", dag_t, " ")
	nextdag = 1
	t = 0
	while (nk < 160) {
		t += -log(1 - rnd()) * 0.2      # exponential gaps, mean 0.2 s
		while (nextdag <= ndag && dag_t[nextdag] <= t)
			dag(nextdag++)
		kernel(t)
	}
	while (nextdag <= ndag)
		dag(nextdag++)
}'
}

if [ "$out" = - ]; then
	gen
else
	gen >"$out.tmp" && mv "$out.tmp" "$out"
fi
