#!/bin/sh
# remote.sh: remote delivery throughput. Queues BENCH_N messages (default
# 10000) to a domain that control/routes sends to Postfix's smtp-sink on
# 127.0.0.1, starts send and times until every message has left the
# queue (send's "end msg" lines). Prints messages/s, CPU ms per message
# (send and every process under it: record, clean, lspawn, rspawn, each
# remote), SMTP sessions per message (smtp-sink's counter) and jobs per
# message (send's "starting delivery" lines); then runs
# bench/smtp-session-cost.py against the same sink. Builds nothing: run
# `make` first. Needs postfix (its tools only) and GNU time for the CPU
# column. Root or not; loopback only.
# BENCH_N messages, BENCH_C control/concurrencyremote (default 20),
# BENCH_RCPTS recipients per message, all at the one domain (default 1),
# BENCH_SIZE message bytes (default 4096), BENCH_INJECT_C injectors
# (default 4), BENCH_STALL seconds without a finished message before
# giving up (default 120), BENCH_SOLO runs of remote alone, one after
# the other, with one of the bodies (default 500; 0: none),
# BENCH_SESSION=0 skips the session cost.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
n=${BENCH_N:-10000}
conc=${BENCH_C:-20}
rcpts=${BENCH_RCPTS:-1}
size=${BENCH_SIZE:-4096}
injc=${BENCH_INJECT_C:-4}
stall=${BENCH_STALL:-120}
sessioncost=${BENCH_SESSION:-1}
solo=${BENCH_SOLO:-500}
sink=/usr/sbin/smtp-sink
py=/usr/bin/python3

die() { echo "remote.sh: fatal: $*" >&2; exit "${code:-111}"; }
num() { case $1 in '' | *[!0-9]*) code=100 die "$2 must be a number: $1" ;; esac; }
num "$n" BENCH_N
num "$conc" BENCH_C
num "$rcpts" BENCH_RCPTS
num "$size" BENCH_SIZE
num "$injc" BENCH_INJECT_C
num "$stall" BENCH_STALL
num "$solo" BENCH_SOLO
if [ "$n" -lt 1 ] || [ "$rcpts" -lt 1 ] || [ "$rcpts" -gt 100 ]; then
  code=100 die "BENCH_N must be at least 1, BENCH_RCPTS 1 to 100"
fi
for p in send record clean lspawn rspawn remote bounce queue-inject table-compile; do
  [ -x "$top/build/bin/$p" ] || code=100 die "build/bin/$p is missing: run make first"
done
[ -x "$sink" ] || code=100 die "$sink is missing: make deps installs postfix (its tools only)"
timer=
if [ -x /usr/bin/time ]; then timer=/usr/bin/time; else
  echo "remote.sh: warning: no GNU time (package time): no CPU figure" >&2
fi

base=$(mktemp -d /var/tmp/postern-bench-remote.XXXXXX)
# the accounts of conf-users (as root) must reach the home
chmod 755 "$base"
sinkpid=
timepid=
cleanup() {
  if [ -n "$timepid" ]; then
    [ ! -s "$base/send.pid" ] || kill -TERM "$(cat "$base/send.pid")" 2>/dev/null || true
    wait "$timepid" 2>/dev/null || true
  fi
  [ -z "$sinkpid" ] || kill "$sinkpid" 2>/dev/null || true
  [ -z "$sinkpid" ] || wait "$sinkpid" 2>/dev/null || true
  rm -rf "$base"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

now() { date +%s.%N; }

# a free port on 127.0.0.1 (the kernel picks it)
port=$("$py" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')

# smtp-sink: -c prints "sess=N quit=N mesg=N" counters (CR-separated)
# each time a session ends, a QUIT comes or a message ends
sinkuser=
if [ "$(id -u)" = 0 ]; then
  if id -u postfix >/dev/null 2>&1; then sinkuser="-u postfix"; else sinkuser="-u nobody"; fi
fi
# shellcheck disable=SC2086
"$sink" -c $sinkuser -m 1000 127.0.0.1:"$port" 1000 > "$base/sink.out" 2> "$base/sink.err" &
sinkpid=$!
i=0
until "$py" -c 'import socket, sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1).close()' "$port" 2>/dev/null; do
  i=$((i + 1))
  [ $i -lt 100 ] || die "smtp-sink does not listen on port $port: $(cat "$base/sink.err")"
  sleep 0.1
done
# counter = last value of a smtp-sink counter (sess, quit or mesg)
counter() {
  tr '\r' '\n' < "$base/sink.out" | awk -v k="$1" -F '[ =]' '
    { for (i = 1; i < NF; i += 2) if ($i == k) v = $(i + 1) } END { print v + 0 }'
}

# the home, with build/bin's programs; queue-inject not setuid (a setuid
# one ignores POSTERN_HOME), as the test instance does
home=$base/home
sh "$top/src/install/mkhome.sh" "$home" "$top/build/bin"
chmod 755 "$home/bin/queue-inject"
c=$home/control
echo bench-client.test > "$c/me"
echo "bench.test [127.0.0.1]:$port" > "$c/routes"
"$home/bin/table-compile" "$c/routes"
echo "$conc" > "$c/concurrencyremote"
echo 10 > "$c/statusinterval"

# the recipients, space-separated (no address here holds a blank)
r=1
rcptlist=
while [ $r -le "$rcpts" ]; do rcptlist="$rcptlist rcpt$r@bench.test"; r=$((r + 1)); done
echo "nproc $(nproc), $n messages of $size bytes, $rcpts recipient(s) each at bench.test," \
  "concurrencyremote $conc, uid $(id -u), load $(cut -d ' ' -f 1-3 /proc/loadavg)"
# shellcheck disable=SC2086
POSTERN_HOME=$home "$py" "$top/bench/queue-many.py" -c "$injc" -s "$size" -f bench@bench.test \
  "$n" "$home/bin/queue-inject" $rcptlist > "$base/inject.out" || die "queueing failed"
echo "queued: $(cat "$base/inject.out")"
# one stored body, for the runs of remote alone below
find "$home/queue/body" -type f | head -n 1 | xargs -I '{}' cp '{}' "$base/body"
sync

log=$base/send.log
sess0=$(counter sess)
mesg0=$(counter mesg)
t0=$(now)
# send-start under GNU time: its rusage covers send and every child it
# waited for, and those each waited for theirs (rspawn each remote)
# (sh writes its pid, the one send-start keeps, then execs send-start,
# which passes SIGTERM on to send)
if [ -n "$timer" ]; then set -- "$timer" -f '%U %S' -o "$base/cpu"; else set --; fi
# shellcheck disable=SC2016
POSTERN_HOME=$home "$@" sh -c 'echo $$ > "$1"; exec "$2"' sh "$base/send.pid" "$home/bin/send-start" \
  > "$log" 2>&1 < /dev/null &
timepid=$!

ended() { grep -c '^end msg ' "$log" || true; }
last=0
lastt=$(date +%s)
while :; do
  e=$(ended)
  [ "$e" -lt "$n" ] || break
  t=$(date +%s)
  if [ "$e" != "$last" ]; then last=$e; lastt=$t
  elif [ $((t - lastt)) -ge "$stall" ]; then
    echo "remote.sh: only $e of $n messages finished; send's log ends:" >&2
    tail -n 20 "$log" >&2
    die "stalled for $stall s"
  fi
  kill -0 "$timepid" 2>/dev/null || { tail -n 20 "$log" >&2; die "send exited"; }
  sleep 0.05
done
t1=$(now)

# stop send: it waits for its children, so time sees all of them
kill -TERM "$(cat "$base/send.pid")"
st=0; wait "$timepid" || st=$?
timepid=
[ "$st" = 0 ] || echo "remote.sh: warning: send exited $st" >&2
# the last sessions' counters come as each session closes
sleep 1
sess=$(( $(counter sess) - sess0 ))
mesg=$(( $(counter mesg) - mesg0 ))

jobs=$(grep -c '^starting delivery [0-9]*: msg [^ ]* to remote' "$log" || true)
ok=$(grep -c '^delivery [0-9]*: success: ' "$log" || true)
defer=$(grep -c '^delivery [0-9]*: deferral: ' "$log" || true)
fail=$(grep -c '^delivery [0-9]*: failure: ' "$log" || true)
cpu=-
if [ -n "$timer" ] && [ -s "$base/cpu" ]; then
  cpu=$(awk -v n="$n" '{ printf "%.2f", ($1 + $2) * 1000 / n }' "$base/cpu")
fi
secs=$(echo "$t0 $t1" | awk '{ printf "%.2f", $2 - $1 }')
rate=$(echo "$secs $n" | awk '{ printf "%.0f", $2 / $1 }')
conn=$(echo "$sess $n" | awk '{ printf "%.3f", $1 / $2 }')
jpm=$(echo "$jobs $n" | awk '{ printf "%.3f", $1 / $2 }')
echo "delivered: $n messages in $secs s; results: $ok success, $defer deferral, $fail failure;" \
  "smtp-sink: $sess sessions, $mesg messages"
if [ "$defer" != 0 ] || [ "$fail" != 0 ]; then
  grep -m 3 '^delivery [0-9]*: \(deferral\|failure\): ' "$log" >&2 || true
fi
echo
echo "| N | rcpts/msg | concurrencyremote | msg/s | CPU ms/msg | connections/msg | jobs/msg |"
echo "|---|---|---|---|---|---|---|"
echo "| $n | $rcpts | $conc | $rate | $cpu | $conn | $jpm |"

# remote alone: what one run costs, process start to exit (QUIT
# included), without send, rspawn or record around it
if [ "$solo" != 0 ]; then
  echo
  # shellcheck disable=SC2086
  POSTERN_HOME=$home "$py" - "$home/bin/remote" "$base/body" "$solo" $rcptlist <<'EOF'
import os, resource, sys, time
prog, body, n, rcpts = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4:]
null = os.open(os.devnull, os.O_WRONLY)


def runs(args, want):
    """n runs of remote with args, one after the other: wall, user, sys ms per run"""
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.monotonic()
    for _ in range(n):
        fd = os.open(body, os.O_RDONLY)
        pid = os.posix_spawn(prog, [prog] + args, os.environ,
                             file_actions=[(os.POSIX_SPAWN_DUP2, fd, 0), (os.POSIX_SPAWN_DUP2, null, 1),
                                           (os.POSIX_SPAWN_DUP2, null, 2)])
        os.close(fd)
        _, st = os.waitpid(pid, 0)
        if os.waitstatus_to_exitcode(st) != want:
            sys.exit(f"remote.sh: remote {' '.join(args)}: exit status {st}")
    t = time.monotonic() - t0
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    return [1000 * x / n for x in (t, r1.ru_utime - r0.ru_utime, r1.ru_stime - r0.ru_stime)]


# the same program exiting at once on a usage error: the cost of a
# process start alone
w, u, s = runs(["bench.test", "bench@bench.test"] + rcpts, 0)
bw, bu, bs = runs([], 100)
print(f"remote alone, {n} runs one after the other: {w:.2f} ms wall, {u + s:.2f} ms CPU"
      f" (user {u:.2f}, sys {s:.2f}) per run; of which a process start"
      f" (remote exiting 100 at once): {bw:.2f} ms wall, {bu + bs:.2f} ms CPU")
EOF
fi

if [ "$sessioncost" != 0 ]; then
  echo
  "$py" "$top/bench/smtp-session-cost.py" "127.0.0.1:$port"
fi
