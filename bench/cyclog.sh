#!/bin/sh
# cyclog.sh: cyclog against s6-log, daemontools' multilog and rsyslog
# (fed by logger) on the same input, BENCH_LINES lines (default 10^6) of
# 100 bytes, through a pipe, into fresh directories under /var/tmp. Each
# logger runs BENCH_RUNS times (default 3); the run of median wall time is
# reported: lines/s, CPU seconds (user + sys) per 10^6 lines, and the lines
# found in its files afterwards. As root, installs daemontools and rsyslog
# with apt-get when missing; a logger that cannot run gets a row saying why.
# Builds nothing: run `make` first.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
cyclog=$top/build/bin/cyclog
lines=${BENCH_LINES:-1000000}
runs=${BENCH_RUNS:-3}
# current's size as in the example of s6-log's documentation; enough
# files that every line is kept and can be counted
size=1000000
keep=1000

die() { echo "cyclog.sh: fatal: $*" >&2; exit "${code:-111}"; }
warn() { echo "cyclog.sh: warning: $*" >&2; }
num() { case $1 in '' | *[!0-9]* | 0) code=100 die "$2 must be a positive number: $1" ;; esac; }

num "$lines" BENCH_LINES
num "$runs" BENCH_RUNS
[ -x "$cyclog" ] || code=100 die "$cyclog is missing: run make first"
[ -x /usr/bin/time ] || code=100 die "/usr/bin/time (GNU time, package time) is missing"
command -v s6-log >/dev/null 2>&1 || code=100 die "s6-log (package s6) is missing"

# install pkg: apt-get install as root; never fatal
install() {
  [ "$(id -u)" = 0 ] || { warn "$1 missing and not root: not installed"; return 1; }
  echo "installing $1 with apt-get" >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$1" > /dev/null 2>&1 || {
    apt-get update -q > /dev/null 2>&1 || true
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$1" > /dev/null 2>&1
  } || { warn "apt-get install $1 failed"; return 1; }
}
command -v multilog > /dev/null 2>&1 || install daemontools || true
[ -x /usr/sbin/rsyslogd ] || install rsyslog || true

base=$(mktemp -d /var/tmp/postern-bench-cyclog.XXXXXX)
rpid=
cleanup() {
  if [ -n "$rpid" ]; then
    kill "$rpid" 2> /dev/null || true
    wait "$rpid" 2> /dev/null || true
  fi
  rm -rf "$base"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

input=$base/input
awk -v n="$lines" 'BEGIN {
  for (i = 1; i <= n; i++)
    printf "%.99s\n", sprintf("send: delivery %08d: success: 127.0.0.1_accepted_message./Remote_host_said:_250_2.0.0_Ok:_queued_as_%08X", i, (i * 2654435761) % 4294967296)
}' > "$input"

echo "nproc $(nproc), uid $(id -u), $lines lines, $(wc -c < "$input") bytes, $runs runs each"
echo "/var/tmp: $(df -PT /var/tmp | awk 'NR == 2 { print $2 " on " $1 }')"

table=$base/table
: > "$table"

# median: the line of median wall time (field 1) of "wall user sys count"
median() { sort -n "$base/runs" | awk -v m=$(((runs + 1) / 2)) 'NR == m'; }

# row name wall user sys count
row() {
  awk -v name="$1" -v w="$2" -v u="$3" -v s="$4" -v c="$5" -v n="$lines" 'BEGIN {
    printf "| %s | %.0f | %.2f | %.2f | %.2f | %d |\n", name, n / w, (u + s) * 1000000 / n, w, u + s, c }' >> "$table"
}

# dirlogger name cmd...: runs cmd, which writes into ./log (created empty
# in $base), with the input on a pipe, timed by GNU time
dirlogger() {
  name=$1
  shift
  : > "$base/runs"
  i=0
  while [ $i -lt "$runs" ]; do
    i=$((i + 1))
    rm -rf "$base/log"
    mkdir "$base/log"
    # earlier runs' dirty pages must not be flushed on this run's time
    sync
    (cd "$base" && cat "$input" | /usr/bin/time -f '%e %U %S' -o "$base/time" "$@") \
      || die "$name failed: $(cat "$base/time")"
    count=$(cat "$base"/log/@* "$base/log/current" 2> /dev/null | wc -l)
    echo "$(tail -n 1 "$base/time") $count" >> "$base/runs"
    echo "$name, run $i: wall user sys lines: $(tail -n 1 "$base/runs")"
  done
  rm -rf "$base/log"
  row "$name" $(median)
}

dirlogger "cyclog -s $size -n $keep" "$cyclog" -s $size -n $keep ./log
dirlogger "s6-log -b n$keep s$size t" s6-log -b n$keep s$size t ./log
if command -v multilog > /dev/null 2>&1; then
  dirlogger "multilog t s$size n$keep" multilog t s$size n$keep ./log
else
  echo "| multilog | - | - | - | - | not installed |" >> "$table"
fi

# CPU ticks (user + sys) of a running process
ticks() { sed 's/^.*) //' "/proc/$1/stat" | awk '{ print $12 + $13 }'; }
hz=$(getconf CLK_TCK)

# rsyslog: our own rsyslogd (its own socket, config and output file, no
# rate limit so that nothing is dropped), fed line by line by logger(1).
# Wall time runs from logger's start until the last line is in the output
# file; CPU is logger's plus rsyslogd's. Sets why and fails if it cannot.
syslog() {
  why=
  [ -x /usr/sbin/rsyslogd ] || { why="rsyslog not installed"; return 1; }
  command -v logger > /dev/null 2>&1 || { why="logger not installed"; return 1; }
  r=$base/rsyslog
  : > "$base/runs"
  i=0
  while [ $i -lt "$runs" ]; do
    i=$((i + 1))
    rm -rf "$r"
    mkdir -p "$r/work"
    {
      echo "global(workDirectory=\"$r/work\")"
      echo "module(load=\"imuxsock\" SysSock.Use=\"off\")"
      echo "input(type=\"imuxsock\" Socket=\"$r/sock\" RateLimit.Interval=\"0\")"
      echo "*.* action(type=\"omfile\" file=\"$r/out\" template=\"RSYSLOG_FileFormat\")"
    } > "$r/conf"
    sync
    /usr/sbin/rsyslogd -n -f "$r/conf" -i "$r/pid" > "$r/err" 2>&1 &
    rpid=$!
    t=0
    while [ ! -S "$r/sock" ]; do
      t=$((t + 1))
      if [ $t -gt 100 ] || ! kill -0 "$rpid" 2> /dev/null; then
        why="rsyslogd did not start: $(head -n 2 "$r/err" | tr '\n|' '  ')"
        kill "$rpid" 2> /dev/null || true
        wait "$rpid" 2> /dev/null || true
        rpid=
        return 1
      fi
      sleep 0.1
    done
    c0=$(ticks "$rpid")
    t0=$(date +%s.%N)
    /usr/bin/time -f '%U %S' -o "$r/time" logger -u "$r/sock" -t send < "$input" \
      || { why="logger failed: $(tail -n 1 "$r/time")"; return 1; }
    # until every line is there, or none came for 10 s
    last=-1
    still=0
    while :; do
      count=$(wc -l < "$r/out" 2> /dev/null || echo 0)
      [ "$count" -ge "$lines" ] && break
      if [ "$count" = "$last" ]; then
        still=$((still + 1))
        [ $still -ge 100 ] && break
      else
        still=0
        last=$count
      fi
      sleep 0.1
    done
    t1=$(date +%s.%N)
    c1=$(ticks "$rpid")
    kill "$rpid"
    wait "$rpid" 2> /dev/null || true
    rpid=
    echo "$t0 $t1 $(tail -n 1 "$r/time") $c0 $c1 $count" | awk -v hz="$hz" \
      '{ printf "%.2f %.2f %.2f %d\n", $2 - $1, $3, $4 + ($6 - $5) / hz, $7 }' >> "$base/runs"
    echo "rsyslog, run $i: wall user sys lines: $(tail -n 1 "$base/runs")"
  done
  rm -rf "$r"
  row "logger to rsyslogd (imuxsock, omfile)" $(median)
}
syslog || echo "| logger to rsyslogd | - | - | - | - | $why |" >> "$table"

echo
echo "| logger | lines/s | CPU s per 10^6 lines | wall s | CPU s | lines logged |"
echo "|---|---|---|---|---|---|"
cat "$table"
