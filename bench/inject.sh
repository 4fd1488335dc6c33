#!/bin/sh
# inject.sh: queue-inject throughput and syscall cost. For each size N,
# times N injections into a fresh home under /var/tmp (inject-loop), then
# counts the queue's entries per subdirectory and its disk usage, then
# counts fsync/rename/link/unlink per message in a separate, smaller run
# under strace (never the timed one). Builds nothing: run `make bench`.
# BENCH_SIZES (default "1000 10000 100000"), BENCH_C concurrency
# (default 4), BENCH_MSG message bytes (default 4096). Root or not.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
prog=$top/build/bin/queue-inject
loop=$top/build/bench/inject-loop
sizes=${BENCH_SIZES:-1000 10000 100000}
conc=${BENCH_C:-4}
msg=${BENCH_MSG:-4096}
# the traced run: enough messages to average over, few enough that
# strace's slowdown stays in seconds
trace_max=2000

die() { echo "inject.sh: fatal: $*" >&2; exit "${code:-111}"; }
num() { case $1 in '' | *[!0-9]*) code=100 die "$2 must be a number: $1" ;; esac; }

for f in "$prog" "$loop"; do
  [ -x "$f" ] || code=100 die "$f is missing: run make bench first"
done
num "$conc" BENCH_C
num "$msg" BENCH_MSG
for n in $sizes; do num "$n" BENCH_SIZES; done
if command -v strace >/dev/null 2>&1; then havestrace=yes; else
  havestrace=no
  echo "inject.sh: warning: strace not found: no syscall counts" >&2
fi

base=$(mktemp -d /var/tmp/postern-bench.XXXXXX)
child=
trap 'rm -rf "$base"' EXIT
# runs go in the background (where ^C is ignored) so that these traps
# stop them; inject-loop dies with its parent (strace, in the traced run)
trap '[ -z "$child" ] || kill "$child" 2>/dev/null; exit 130' INT TERM

# bg out cmd...: runs cmd, stdout to out, where the traps can stop it
bg() {
  o=$1; shift
  "$@" > "$o" & child=$!
  st=0; wait "$child" || st=$?
  child=
  return $st
}

echo "nproc $(nproc), concurrency $conc, message $msg bytes, conf-split $(head -n 1 "$top/conf-split"), uid $(id -u)"
echo "/var/tmp: $(df -PT /var/tmp | awk 'NR == 2 { print $2 " on " $1 }')"

# calls of each traced syscall in strace -c output, *at and fdatasync
# variants folded in, divided by the number of messages
per_msg() {
  awk -v m="$2" '
    $NF ~ /^(fsync|fdatasync)$/ { f += $4 }
    $NF ~ /^rename(at2?)?$/ { r += $4 }
    $NF ~ /^link(at)?$/ { l += $4 }
    $NF ~ /^unlink(at)?$/ { u += $4 }
    END { printf "%.2f %.2f %.2f %.2f\n", f / m, r / m, l / m, u / m }' "$1"
}

table=$base/table
: > "$table"
for n in $sizes; do
  home=$base/home
  sh "$top/src/install/mkhome.sh" "$home"
  # earlier runs' dirty pages must not be flushed on this run's time
  sync
  bg "$base/out" env POSTERN_HOME="$home" "$loop" -c "$conc" -s "$msg" "$n" "$prog" \
    || die "timed run of $n failed: $(cat "$base/out")"
  out=$(cat "$base/out")
  echo "timed:  $out"
  rate=$(echo "$out" | awk '{ for (i = 2; i <= NF; i++) if ($i == "msg/s,") print $(i - 1) }')
  # files per hash subdirectory, over every tree
  maxdir=$(find "$home/queue" -mindepth 3 -maxdepth 3 \
    | awk '{ sub(/\/[^\/]*$/, ""); c[$0]++ } END { m = 0; for (d in c) if (c[d] > m) m = c[d]; print m }')
  disk=$(du -sk "$home/queue" | awk '{ printf "%.1f MiB", $1 / 1024 }')
  echo "queue:  max $maxdir entries in a subdirectory, $disk"
  rm -rf "$home"

  counts="- - - -"
  if [ $havestrace = yes ]; then
    m=$((n < trace_max ? n : trace_max))
    # -I 1: with -o, strace would block SIGTERM and outlive our traps
    sh "$top/src/install/mkhome.sh" "$home"
    bg /dev/null env POSTERN_HOME="$home" strace -f -c -I 1 -o "$base/strace" \
      -e trace=fsync,fdatasync,rename,renameat,renameat2,link,linkat,unlink,unlinkat \
      "$loop" -c "$conc" -s "$msg" "$m" "$prog" \
      || die "traced run of $m failed"
    counts=$(per_msg "$base/strace" "$m")
    echo "traced: $m messages: fsync rename link unlink per message: $counts"
    rm -rf "$home"
  fi
  set -- $counts
  echo "| $n | $rate | $1 | $2 | $3 | $4 | $maxdir | $disk |" >> "$table"
done

echo
echo "| N | msg/s | fsync/msg | rename/msg | link/msg | unlink/msg | max entries/subdir | queue disk |"
echo "|---|---|---|---|---|---|---|---|"
cat "$table"
