#!/bin/sh
# slurm_study.sh — start a throwaway single-node Slurm (munged, slurmctld, slurmd) on
# localhost in DIR, run a small study as a job array, merge it, and check that every
# case's metrics equal a local run's. Exit 0 pass, 1 fail, 77 skip (reason on stdout).
# Usage: XPUOPT=/path/to/xpuopt sh tests/slurm_study.sh DIR
set -u
dir=${1:?usage: slurm_study.sh DIR}
x=${XPUOPT:?set XPUOPT to the xpuopt program}
src=$(cd "$(dirname "$0")/.." && pwd)

skip() { echo "slurm test skipped: $*"; exit 77; }
fail() { echo "slurm test failed: $*"; exit 1; }

for b in munged slurmctld slurmd sbatch sinfo; do
	command -v "$b" >/dev/null 2>&1 || [ -x "/usr/sbin/$b" ] ||
		skip "$b not installed (Debian: slurm-wlm munge)"
done
PATH=$PATH:/usr/sbin
[ "$(id -u)" -eq 0 ] || skip "slurmd must run as root to launch jobs"

mkdir -p "$dir/munge" "$dir/state" "$dir/spool" "$dir/log" || fail "cannot create $dir"
chmod 0700 "$dir/munge"
pids=""
cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null; done
	sleep 0.5
	for p in $pids; do kill -9 "$p" 2>/dev/null; done
}
trap cleanup EXIT INT TERM

# munge: a private key and socket, so no system daemon is needed or disturbed.
dd if=/dev/urandom of="$dir/munge/munge.key" bs=1024 count=1 2>/dev/null
chmod 0400 "$dir/munge/munge.key"
munged --foreground --force --key-file="$dir/munge/munge.key" \
	--socket="$dir/munge/sock" --pid-file="$dir/munge/pid" \
	--log-file="$dir/log/munged.log" --seed-file="$dir/munge/seed" \
	>"$dir/log/munged.out" 2>&1 &
pids="$pids $!"

# Ports from the process id, so that two runs at once do not collide.
port=$((20000 + ($$ % 20000)))
host=$(hostname -s)
cpus=$(nproc)
cat >"$dir/slurm.conf" <<CONF
ClusterName=xpuopttest
SlurmctldHost=$host
SlurmctldPort=$port
SlurmdPort=$((port + 1))
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$dir/munge/sock
CredType=cred/munge
StateSaveLocation=$dir/state
SlurmdSpoolDir=$dir/spool
SlurmctldPidFile=$dir/slurmctld.pid
SlurmdPidFile=$dir/slurmd.pid
SlurmctldLogFile=$dir/log/slurmctld.log
SlurmdLogFile=$dir/log/slurmd.log
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
AccountingStorageType=accounting_storage/none
JobCompType=jobcomp/none
MpiDefault=none
SchedulerType=sched/builtin
SelectType=select/cons_tres
SelectTypeParameters=CR_CPU
ReturnToService=2
SlurmdTimeout=30
NodeName=$host CPUs=$cpus State=UNKNOWN
PartitionName=test Nodes=$host Default=YES MaxTime=INFINITE State=UP
CONF
export SLURM_CONF="$dir/slurm.conf"

i=0
while [ ! -S "$dir/munge/sock" ]; do
	i=$((i + 1))
	[ $i -gt 50 ] && skip "munged did not start: $(tail -3 "$dir/log/munged.log" 2>/dev/null)"
	sleep 0.1
done
slurmctld -D -c -f "$SLURM_CONF" >"$dir/log/slurmctld.out" 2>&1 &
pids="$pids $!"
slurmd -D -f "$SLURM_CONF" >"$dir/log/slurmd.out" 2>&1 &
pids="$pids $!"
# Bounded by the wall clock: one sinfo can itself block for seconds when slurmctld is
# not answering (a container without cgroups), so counting calls would not bound it.
deadline=$(($(date +%s) + 30))
until timeout 3 sinfo -h -o %T 2>/dev/null | grep -q idle; do
	if [ "$(date +%s)" -ge "$deadline" ]; then
		skip "slurmctld/slurmd did not come up in 30 s: $(tail -2 "$dir/log/slurmctld.out" \
			"$dir/log/slurmd.out" "$dir/log/slurmctld.log" "$dir/log/slurmd.log" \
			2>/dev/null | tr '\n' ' ' | cut -c1-600)"
	fi
	sleep 0.5
done

cat >"$dir/s.cfg" <<CFG
name = "slurmtest";
platforms = [ "$src/platforms/default.xml" ];
traces = [ "$src/traces/default.csv" ];
seeds = [ 1, 2 ];
policies = ( { name = "fifo"; sched = "fifo"; },
             { name = "heft"; sched = "heft"; } );
CFG
"$x" study --slurm -o "$dir/cluster" "$dir/s.cfg" >/dev/null 2>&1 || fail "study --slurm"
timeout 90 sbatch --wait --quiet "$dir/cluster/study.sbatch" >"$dir/log/sbatch.out" 2>&1 ||
	fail "sbatch --wait: $(cat "$dir/log/sbatch.out") $(cat "$dir/cluster/logs/"slurm-* 2>/dev/null | head -20)"
"$x" study --merge -q -o "$dir/cluster" "$dir/s.cfg" || fail "study --merge found missing cases"
"$x" study -q -j 2 -o "$dir/local" "$dir/s.cfg" || fail "local study"
n=0
for f in "$dir/local/cases/"*.h5; do
	b=$(basename "$f")
	"$x" summary "$f" >"$dir/a.txt" && "$x" summary "$dir/cluster/cases/$b" >"$dir/b.txt" ||
		fail "cannot read $b"
	cmp -s "$dir/a.txt" "$dir/b.txt" || fail "$b differs: $(diff "$dir/a.txt" "$dir/b.txt")"
	n=$((n + 1))
done
[ $n -eq 4 ] || fail "expected 4 cases, got $n"
cmp -s "$dir/local/index.csv" "$dir/cluster/index.csv" || fail "indexes differ"
echo "slurm test passed: $n cases through a job array equal the local run"
