#!/bin/sh
# queuesize.sh home port|- [size ...]: does fresh mail slow down as the
# queue grows? (DESIGN lesson 1, issue 14.) On a running postern
# instance (its send running from home/bin/send), for each size (default
# 10000 100000 1000000): fills the queue up to that many messages
# deferred to a dead address (bench/queue-fill.py writes todo files; a
# static route sends their domain to 127.0.0.1 on a port where nothing
# listens), lets send sort and try them, waits until send is quiet, then
# injects BENCH_M fresh local messages (default 1000) and measures:
# - end-to-end rate: from the first injection until the last of them is
#   in the Maildir (new/ files counted);
# - send's CPU per fresh message: utime+stime+cutime+cstime of send and
#   its children (record, clean, lspawn, rspawn, and what they reaped:
#   local, remote) from /proc/<pid>/stat, over the same interval;
# - send's RSS after it (VmRSS), and RSS growth per queued recipient
#   (from the first row: what the queue held when the script started).
# port: the instance's SMTP port on 127.0.0.1 (fresh mail by SMTP, one
# message per session, BENCH_C sessions at once, default 4), or "-" to
# run home/bin/queue-inject instead (bench/queue-many.py).
# BENCH_RCPT the fresh mail's recipient (default demo@example.test),
# BENCH_MAILDIR its Maildir (default home/mail/demo/Maildir),
# BENCH_DEAD the dead domain (default dead.bench.test), BENCH_QUIET
# seconds send must stay under 2 % CPU before a measure (default 5),
# BENCH_SETTLE_MAX the longest wait for that (default 300).
# It appends a route for BENCH_DEAD to home/control/routes (and
# recompiles it), and leaves the queued mail there: empty the queue
# yourself afterwards. Needs python3. Run `make` first.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
py=/usr/bin/python3
die() { echo "queuesize.sh: fatal: $*" >&2; exit "${code:-111}"; }
[ $# -ge 2 ] || code=100 die "usage: queuesize.sh home port|- [size ...]"
home=$(cd "$1" && pwd)
port=$2
shift 2
[ $# -gt 0 ] || set -- 10000 100000 1000000
m=${BENCH_M:-1000}
conc=${BENCH_C:-4}
rcpt=${BENCH_RCPT:-demo@example.test}
maildir=${BENCH_MAILDIR:-$home/mail/demo/Maildir}
dead=${BENCH_DEAD:-dead.bench.test}
quiet=${BENCH_QUIET:-5}
settlemax=${BENCH_SETTLE_MAX:-300}
[ -d "$maildir/new" ] || die "no Maildir at $maildir (BENCH_MAILDIR)"
hz=$(getconf CLK_TCK)

# send: the process running home/bin/send (read-only look at /proc)
sendexe=$(readlink -f "$home/bin/send")
sendpid() {
  for d in /proc/[0-9]*; do
    [ "$(readlink "$d/exe" 2>/dev/null)" = "$sendexe" ] && { echo "${d#/proc/}"; return 0; }
  done
  return 1
}
pid=$(sendpid) || die "no running $sendexe"
# CPU ticks of send and its direct children, each with its reaped ones
ticks() {
  t=0
  for p in "$pid" $(cat "/proc/$pid/task/$pid/children" 2>/dev/null); do
    # fields after the command's closing parenthesis: 14-17 are 12-15 there
    v=$(sed 's/.*) //' "/proc/$p/stat" 2>/dev/null | awk '{ print $12 + $13 + $14 + $15 }') || v=0
    t=$((t + ${v:-0}))
  done
  echo "$t"
}
rss() { awk '/^VmRSS/ { print $2 }' "/proc/$pid/status"; }
# files in a queue tree's subdirectories (not queue/state/lock)
count() { find "$1" -mindepth 2 -type f | wc -l; }

# the dead route: a port on 127.0.0.1 nobody listens on
deadport=$("$py" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
routes=$home/control/routes
if ! grep -q "^$dead " "$routes" 2>/dev/null; then
  echo "$dead [127.0.0.1]:$deadport" >> "$routes"
  "$home/bin/table-compile" "$routes" || die "table-compile $routes failed"
fi

fresh() {
  if [ "$port" = - ]; then
    POSTERN_HOME=$home "$py" "$top/bench/queue-many.py" -c "$conc" "$m" "$home/bin/queue-inject" "$rcpt" >/dev/null
  else
    "$py" - "$port" "$m" "$conc" "$rcpt" <<'EOF'
import smtplib, sys
from concurrent.futures import ThreadPoolExecutor
port, n, conc, rcpt = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
msg = ("From: bench@bench.test\nTo: %s\nSubject: fresh\n\n" % rcpt) + "x" * 70 + "\n"
def one(k):
    with smtplib.SMTP("127.0.0.1", port, timeout=60) as s:
        s.sendmail("bench@bench.test", [rcpt], msg)
with ThreadPoolExecutor(conc) as ex:
    list(ex.map(one, range(n)))
EOF
  fi
}

settle() {
  waited=0
  until [ "$(count "$home/queue/todo")" = 0 ]; do
    sleep 2; waited=$((waited + 2))
    [ $waited -lt "$settlemax" ] || { echo "queuesize.sh: warning: todo not empty after $settlemax s" >&2; return 0; }
  done
  while :; do
    a=$(ticks); sleep "$quiet"; b=$(ticks); waited=$((waited + quiet))
    # under 2 % of one CPU
    [ $(( (b - a) * 100 )) -gt $(( 2 * hz * quiet )) ] || return 0
    [ $waited -lt "$settlemax" ] || { echo "queuesize.sh: warning: send still busy after $settlemax s" >&2; return 0; }
  done
}

measure() {
  n0=$(find "$maildir/new" -type f | wc -l)
  c0=$(ticks)
  t0=$(date +%s.%N)
  fresh
  while [ $(( $(find "$maildir/new" -type f | wc -l) - n0 )) -lt "$m" ]; do sleep 0.05; done
  t1=$(date +%s.%N)
  c1=$(ticks)
  r=$(rss)
  echo "$1 $(echo "$t0 $t1 $m" | awk '{ printf "%.1f", $3 / ($2 - $1) }')" \
    "$(echo "$c0 $c1 $m $hz" | awk '{ printf "%.2f", ($2 - $1) * 1000 / $4 / $3 }') $r"
}

echo "nproc $(nproc), send pid $pid, $m fresh messages to $rcpt per size, dead route $dead, load $(cut -d ' ' -f 1-3 /proc/loadavg)"
# what the queue already holds counts
filled=$(( $(count "$home/queue/state") + $(count "$home/queue/todo") ))
settle
rss0=$(rss)
echo "| queued | fresh msg/s | send CPU ms/msg | send RSS KiB | RSS B per queued rcpt |"
echo "|---|---|---|---|---|"
set -- "$filled" "$@"
for size in "$@"; do
  if [ "$size" -gt "$filled" ]; then
    "$py" "$top/bench/queue-fill.py" "$home" $((size - filled)) "x@$dead" >/dev/null || die "queue-fill failed"
    filled=$size
    settle
  fi
  set -- $(measure "$size") "${base:=$size}"
  per=-
  [ "$size" = 0 ] || [ "$size" = "$5" ] || per=$(( ($4 - rss0) * 1024 / (size - $5) ))
  echo "| $1 | $2 | $3 | $4 | $per |"
done
