#!/bin/sh
# smtp.sh: SMTP intake throughput. Postfix's smtp-source sends BENCH_N
# messages of 4 KiB at concurrency 1, 10 and 50 (BENCH_CONC) to
#   - each server of BENCH_SERVERS (default "tcpserver listen"):
#     tcpserver + smtpd (a process per connection), or smtpd-listen +
#     smtpd -w workers; each with queue-inject, into a fresh home under
#     /var/tmp,
#   - Postfix's smtp-sink on the same machine: it accepts and drops, the
#     ceiling of SMTP over loopback,
# and prints accepted messages/s for each, their ratio to the ceiling and
# the CPU per message of the server's whole process tree (the server,
# its children and what they waited for: smtpd, queue-inject), read from
# /proc before the server stops. Builds nothing: run `make` first. Needs
# ucspi-tcp and postfix (its tools only: Postfix itself is never
# started). Root or not; as root both servers run smtpd as the queue
# account (smtpd-listen refuses root; queue-inject here is not setuid).
# BENCH_WRITER=1: queue-writer runs on the home, so smtpd queues through
# its socket instead of a queue-inject per message (its CPU is printed
# at the end).
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
n=${BENCH_N:-2000}
concs=${BENCH_CONC:-1 10 50}
servers=${BENCH_SERVERS:-tcpserver listen}
size=${BENCH_SIZE:-4096}
# BENCH_REUSE=1: -d, several messages per connection
reuse=${BENCH_REUSE:-}
source=/usr/sbin/smtp-source
sink=/usr/sbin/smtp-sink

die() { echo "smtp.sh: fatal: $*" >&2; exit "${code:-111}"; }
num() { case $1 in '' | *[!0-9]*) code=100 die "$2 must be a number: $1" ;; esac; }
num "$n" BENCH_N
num "$size" BENCH_SIZE
for c in $concs; do num "$c" BENCH_CONC; done
for s in $servers; do
  case $s in tcpserver | listen) ;; *) code=100 die "BENCH_SERVERS: tcpserver or listen, not $s" ;; esac
done
for f in "$top/build/bin/smtpd" "$top/build/bin/smtpd-listen" "$top/build/bin/queue-inject" "$top/build/bin/table-compile"; do
  [ -x "$f" ] || code=100 die "$f is missing: run make first"
done
for f in "$source" "$sink"; do
  [ -x "$f" ] || code=100 die "$f is missing: make deps installs postfix"
done
command -v tcpserver >/dev/null 2>&1 || code=100 die "tcpserver is missing: make deps installs ucspi-tcp"

base=$(mktemp -d /var/tmp/postern-bench-smtp.XXXXXX)
chmod 755 "$base"
server=
writer=
cleanup() {
  [ -z "$writer" ] || kill "$writer" 2>/dev/null || true
  [ -z "$server" ] || kill "$server" 2>/dev/null || true
  [ -z "$server" ] || wait "$server" 2>/dev/null || true
  rm -rf "$base"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# a free port on 127.0.0.1 (the kernel picks it)
port() {
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# waits until something accepts on 127.0.0.1:$1
ready() {
  i=0
  until python3 -c 'import socket, sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1).close()' "$1" 2>/dev/null; do
    i=$((i + 1))
    [ $i -lt 100 ] || die "nothing listens on port $1"
    sleep 0.1
  done
}

stop() {
  kill "$server" 2>/dev/null || true
  wait "$server" 2>/dev/null || true
  server=
}

now() { date +%s.%N; }

# run port conc: smtp-source, timed; prints the seconds taken
run() {
  d=
  [ -z "$reuse" ] || d=-d
  t0=$(now)
  # shellcheck disable=SC2086
  "$source" $d -s "$2" -m "$n" -l "$size" -M client.test -f bench@client.test \
    -t demo@example.test "127.0.0.1:$1" > "$base/source.out" 2>&1 \
    || die "smtp-source failed: $(tail -n 3 "$base/source.out")"
  t1=$(now)
  echo "$t0 $t1" | awk '{ printf "%.3f", $2 - $1 }'
}

todo() { find "$home/queue/todo" -type f | wc -l; }

# CPU ticks of pid and its children alive, each with what it waited for
# (utime stime cutime cstime of /proc/pid/stat)
treecpu() {
  for p in "$1" $(ps -o pid= --ppid "$1"); do
    cat "/proc/$p/stat" 2>/dev/null || true
  done | awk '{ s += $14 + $15 + $16 + $17 } END { print s + 0 }'
}
hz=$(getconf CLK_TCK)

# the home: not through mkhome.sh's bindir (as root it would make
# queue-inject setuid, and a setuid one ignores POSTERN_HOME)
home=$base/home
sh "$top/src/install/mkhome.sh" "$home"
cp "$top/build/bin/queue-inject" "$home/bin/"
echo example.test > "$home/control/rcpthosts"
echo example.test > "$home/control/locals"
echo "demo demo:4242:4242:$home" > "$home/control/users"
for t in rcpthosts locals users; do "$top/build/bin/table-compile" "$home/control/$t"; done
echo bench.test > "$home/control/me"
printf '127.0.0.1:allow,RELAYCLIENT=""\n:allow\n' > "$base/rules.txt"
tcprules "$base/rules.cdb" "$base/rules.tmp" < "$base/rules.txt"

if [ -n "${BENCH_WRITER:-}" ]; then
  cp "$top/build/bin/queue-writer" "$home/bin/"
  POSTERN_HOME=$home "$home/bin/queue-writer" > "$base/writer.out" 2> "$base/writer.err" &
  writer=$!
  i=0
  until [ -S "$home/queue-writer/socket" ]; do
    i=$((i + 1)); [ $i -lt 100 ] || die "queue-writer did not start: $(cat "$base/writer.err")"
    sleep 0.05
  done
fi

echo "nproc $(nproc), $n messages of $size bytes per run, conf-split $(head -n 1 "$top/conf-split"), uid $(id -u)${reuse:+, -d (one connection per session)}"
echo "/var/tmp: $(df -PT /var/tmp | awk 'NR == 2 { print $2 " on " $1 }')"

ids=
if [ "$(id -u)" = 0 ]; then
  q=$(awk '$1 == "queue" { print $2; exit }' "$top/conf-users")
  ids="-u $(id -u "$q") -g $(id -g "$q")"
fi
sinkuser=
[ "$(id -u)" != 0 ] || sinkuser="-u postfix"
for c in $concs; do
  for s in $servers; do
    # a fresh server per run, the queue kept (counted as it grows); -b:
    # with tcpserver's default backlog of 20 SYNs, 50 clients connecting
    # at once lose SYNs and retry a second later
    p=$(port)
    if [ "$s" = tcpserver ]; then
      # shellcheck disable=SC2086
      POSTERN_HOME=$home tcpserver -R -H -l 0 -c $((c + 10)) -b $((c + 10)) $ids -x "$base/rules.cdb" \
        127.0.0.1 "$p" "$top/build/bin/smtpd" 2>> "$base/smtpd.log" &
    else
      # shellcheck disable=SC2086
      POSTERN_HOME=$home "$top/build/bin/smtpd-listen" -l 0 -c $((c + 10)) -b $((c + 10)) $ids \
        -x "$base/rules.cdb" 127.0.0.1 "$p" "$top/build/bin/smtpd" -w 2>> "$base/smtpd.log" &
    fi
    server=$!
    ready "$p"
    before=$(todo)
    cpu0=$(treecpu "$server")
    secs=$(run "$p" "$c")
    # the last sessions' ends are logged: their processes are done
    sleep 0.5
    cpu1=$(treecpu "$server")
    stop
    got=$(( $(todo) - before ))
    cpu=$(awk -v a="$cpu0" -v b="$cpu1" -v n="$got" -v hz="$hz" \
      'BEGIN { if (n) printf "%.2f", (b - a) * 1000 / hz / n; else print "-" }')
    echo "$s $c $secs $got $cpu" >> "$base/results"
  done
  # the ceiling
  p=$(port)
  # shellcheck disable=SC2086
  "$sink" $sinkuser -m $((c + 10)) "127.0.0.1:$p" 256 &
  server=$!
  ready "$p"
  secs=$(run "$p" "$c")
  stop
  echo "sink $c $secs $n" >> "$base/results"
done

grep -c '^ok pid' "$base/smtpd.log" > "$base/oks" || true
[ "$(cat "$base/oks")" -eq $(( $(echo $concs | wc -w) * $(echo $servers | wc -w) * n )) ] \
  || echo "smtp.sh: warning: smtpd logged $(cat "$base/oks") ok lines" >&2
grep -E '^(reject|warning)' "$base/smtpd.log" | head -n 3 >&2 || true

echo
echo "| server | concurrency | msg/s | smtp-sink msg/s | ratio | accepted | CPU ms/msg |"
echo "|---|---|---|---|---|---|---|"
awk '
  $1 == "sink" { ss[$2] = $3; sg[$2] = $4; next }
  { ps[$1 " " $2] = $3; pg[$1 " " $2] = $4; cpu[$1 " " $2] = $5; order[++k] = $1 " " $2 }
  END {
    for (i = 1; i <= k; i++) {
      split(order[i], w, " "); c = w[2]; key = order[i]
      pr = pg[key] / ps[key]; sr = sg[c] / ss[c]
      printf "| %s | %d | %.0f | %.0f | %.3f | %d | %s |\n", w[1], c, pr, sr, pr / sr, pg[key], cpu[key]
    }
  }' "$base/results"
if [ -n "$writer" ]; then
  total=$(( $(echo $concs | wc -w) * n ))
  awk -v t="$(getconf CLK_TCK)" -v n="$total" '{ printf "queue-writer: %.2f ms CPU per message over the %d, ", ($14 + $15) * 1000 / t / n, n }' "/proc/$writer/stat"
  kill -USR1 "$writer"; sleep 0.5; tail -n 1 "$base/writer.out"
fi
