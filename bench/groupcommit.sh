#!/bin/sh
# groupcommit.sh: disk flushes per message and messages per commit round
# of queue-writer against one-shot queue-inject, under 1, 10 and 50
# concurrent clients (qinject-loop: each client queues its share of
# BENCH_N messages one after the other, the way smtpd does). Modes:
#   inject   no writer: qinject runs queue-inject per message
#   writer   queue-writer, fsyncs of a round in parallel (-p 64)
#   seq      queue-writer -p 1: the same rounds, fsyncs one at a time
# Flushes: the flush column (field 16) of /sys/block/<dev>/stat of the
# device holding the queue, over the run, as is; the disk's background
# rate (flushes/s over BENCH_IDLE seconds just before the run) is shown
# beside it, since other processes may share the disk. fsync/msg: the
# writer's own count (its stats line); queue-inject makes 4. CPU
# ms/msg: the clients' and queue-injects' (qinject-loop's children), plus
# the writer's own (/proc/PID/stat before it stops). Each
# configuration runs BENCH_REPS times (default 3), a row each.
# Builds nothing: run `make bench` first.
# BENCH_DIR where the homes go (default /var/tmp; a file system of its
# own, e.g. a loop device, keeps other processes out of the count),
# BENCH_N (default 1000), BENCH_C (default "1 10 50"), BENCH_MODES
# (default "inject writer seq"), BENCH_MSG bytes (default 4096), BENCH_P
# the writer's -p (default: its own, 64).
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
loop=$top/build/bench/qinject-loop
n=${BENCH_N:-1000}
concs=${BENCH_C:-1 10 50}
modes=${BENCH_MODES:-inject writer seq}
size=${BENCH_MSG:-4096}
idle=${BENCH_IDLE:-2}
reps=${BENCH_REPS:-3}

die() { echo "groupcommit.sh: fatal: $*" >&2; exit 111; }
for f in "$loop" "$top/build/bin/queue-writer" "$top/build/bin/queue-inject"; do
  [ -x "$f" ] || die "$f is missing: run make bench first"
done

dir=${BENCH_DIR:-/var/tmp}
base=$(mktemp -d "$dir/postern-gc.XXXXXX")
writer=
trap '[ -z "$writer" ] || kill "$writer" 2>/dev/null; rm -rf "$base"' EXIT
trap 'exit 130' INT TERM

# the block device under $dir (a partition's stat is its disk's line)
src=$(df -P "$dir" | awk 'NR == 2 { print $1 }')
dev=$(basename "$(readlink -f "$src")")
stat=/sys/block/$dev/stat
[ -r "$stat" ] || stat=/sys/class/block/$dev/stat
[ -r "$stat" ] || die "no block statistics for $src"
flushes() { awk '{ print $16 }' "$stat"; }

echo "device $dev, $(nproc) CPUs, $n messages of $size bytes per run, conf-split $(head -n 1 "$top/conf-split")"
echo "| mode | clients | msg/s | CPU ms/msg | flushes/msg | fsync/msg | msgs/round | rounds | background flushes/s |"
echo "|---|---|---|---|---|---|---|---|---|"
tick=$(getconf CLK_TCK)
for c in $concs; do
 for rep in $(seq "$reps"); do
  for mode in $modes; do
    home=$base/$mode.$c
    sh "$top/src/install/mkhome.sh" "$home" "$top/build/bin" >/dev/null
    chmod 755 "$home/bin/queue-inject"   # not setuid: it must write this home
    writer=
    if [ "$mode" != inject ]; then
      p=${BENCH_P:-64}; [ "$mode" = seq ] && p=1
      POSTERN_HOME=$home "$home/bin/queue-writer" -p $p > "$home/qw.out" 2> "$home/qw.err" &
      writer=$!
      i=0
      while [ ! -S "$home/queue-writer/socket" ]; do
        i=$((i + 1)); [ $i -lt 100 ] || die "queue-writer did not start: $(cat "$home/qw.err")"
        sleep 0.05
      done
    fi
    b0=$(flushes); sleep "$idle"; b1=$(flushes)
    f0=$(flushes)
    out=$(POSTERN_HOME=$home "$loop" -c "$c" -s "$size" "$n") || die "$mode c=$c: $out"
    f1=$(flushes)
    rounds=-; per=-; syncs=4; wcpu=0
    if [ -n "$writer" ]; then
      wcpu=$(awk -v t="$tick" '{ print ($14 + $15) * 1000 / t }' "/proc/$writer/stat")
      kill -TERM "$writer"; wait "$writer" || true; writer=
      set -- $(tail -n 1 "$home/qw.out")
      rounds=$3
      per=$(awk -v m="$5" -v r="$3" 'BEGIN { printf "%.1f", m / r }')
      syncs=$(awk -v m="$5" -v s="${11}" 'BEGIN { printf "%.2f", s / m }')
    fi
    ms=$(echo "$out" | awk '{ print $4 }')
    cpu=$(echo "$out" | awk -v w="$wcpu" '{ print $8 + w }')
    awk -v mode="$mode" -v c="$c" -v n="$n" -v ms="$ms" -v f="$((f1 - f0))" -v s="$syncs" -v cpu="$cpu" \
        -v bg="$((b1 - b0))" -v idle="$idle" -v per="$per" -v r="$rounds" 'BEGIN {
      printf "| %s | %d | %.0f | %.2f | %.2f | %s | %s | %s | %.1f |\n", mode, c, n * 1000 / ms, cpu / n, f / n, s, per, r, bg / idle }'
    [ "$(find "$home/queue/todo" -type f | wc -l)" -eq "$n" ] || die "$mode c=$c: not $n messages in todo"
    rm -rf "$home"
  done
 done
done
