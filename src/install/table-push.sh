#!/bin/sh
# table-push [ -e rsh ] node ...: compiles this home's tables, then
# sends them (text and cdb) to every node with rsync, each file fsynced
# there and renamed into place only after all have arrived
# (--delay-updates --fsync), then fsyncs each node's control directory.
# Installed as bin/table-push, the home put in by the Makefile; see
# table-push(8) for why rsync, and what a node sees.
set -u
PROG=table-push
USAGE="table-push [ -e rsh ] node ..."
home=${POSTERN_HOME:-@HOME@}
# table-compile and recipients-compile: beside this script
bin=$(cd "$(dirname "$0")" && pwd) || exit 111
rsh=ssh
# seconds without a byte from a node before its push is given up
# (rsync's --timeout), and for a TCP connection to an rsync daemon
IO_TIMEOUT=60
CONNECT_TIMEOUT=10
# the text tables compiled by table-compile (table-compile(8)), those
# compiled by tcprules (tcpserver's and smtpd-listen's rules)
TABLES="locals rcpthosts virtualdomains users aliases routes tlsroutes"
RULES="tcp.smtp tcp.submission"

warn() { echo "$PROG: warning: $*" >&2; }
die() { code=$1; shift; echo "$PROG: fatal: $*" >&2; exit "$code"; }
# a compiler's exit status: 100 (a malformed table) stays permanent
perm() { if [ "$1" = 100 ]; then echo 100; else echo 111; fi; }

while getopts e: o; do
  case $o in
    e) rsh=$OPTARG ;;
    *) die 100 "usage: $USAGE" ;;
  esac
done
shift $((OPTIND - 1))
[ $# -ge 1 ] || die 100 "usage: $USAGE"
for node in "$@"; do
  case $node in
    rsync://*|*::*|?*:/*) ;;
    *) die 100 "not a node (host:/home, rsync://host/module or host::module): $node" ;;
  esac
done

cd "$home/control" || die 111 "unable to chdir to $home/control"

# 1. compile here, every time: file times move in clock ticks of a few
# ms, so a text edited just after its last compile may not look newer
files=
for t in $TABLES; do
  [ -e "$t" ] || continue
  "$bin/table-compile" "$t" || die "$(perm $?)" "unable to compile control/$t: nothing pushed"
  files="$files $t $t.cdb"
done
for t in $RULES; do
  [ -e "$t" ] || continue
  tcprules "$t.cdb" "$t.tmp" < "$t" || die "$(perm $?)" "unable to compile control/$t: nothing pushed"
  chmod 644 "$t.cdb" || die 111 "unable to chmod control/$t.cdb"
  files="$files $t $t.cdb"
done
# recipients.cdb is made from aliases, users and the password database:
# nodes are identical (same accounts, same homes), so it is theirs too
if [ -x "$bin/recipients-compile" ] && { [ -e aliases.cdb ] || [ -e users.cdb ] || [ -e recipients.cdb ]; }; then
  POSTERN_HOME=$home "$bin/recipients-compile" || die 111 "unable to compile control/recipients.cdb: nothing pushed"
fi
[ -e recipients.cdb ] && files="$files recipients.cdb"
[ -n "$files" ] || die 100 "no table in $home/control"

# 2. push. -c: a table that changed is sent whatever its size and time
# (rsync's quick check compares whole seconds); -ptgo: modes, times,
# group and owner (by name; owner and group as root only);
# --delay-updates: every file lands in control/.~tmp~, fsynced
# (--fsync), and is renamed over the old one only once all are there.
# rsync never fsyncs a directory: the node's control/ is fsynced after.
# Every node at once (one rsync each, waiting mostly on the network and
# on the node's fsyncs); the exit status says which failed.
push() {
  case $1 in
    rsync://*|*::*)
      # the daemon's module is the node's control/; its post-xfer exec
      # fsyncs the directory (table-push(8))
      # shellcheck disable=SC2086
      rsync -c -ptgo --delay-updates --fsync --timeout=$IO_TIMEOUT --contimeout=$CONNECT_TIMEOUT \
        -- $files "${1%/}/"
      ;;
    *)
      host=${1%%:*}
      dir=${1#*:}/control
      # shellcheck disable=SC2086
      rsync -c -ptgo --delay-updates --fsync --timeout=$IO_TIMEOUT -e "$rsh" \
        -- $files "$host:$dir/" || return
      # the renames survive a crash of the node only once this is done
      $rsh "$host" sync "$dir" || { warn "unable to fsync $dir on $host"; return 111; }
      ;;
  esac
}
# pid=node words (a node name holds no blank and no '=')
jobs=
for node in "$@"; do
  push "$node" &
  jobs="$jobs $!=$node"
done
failed=
for j in $jobs; do
  wait "${j%%=*}" || failed="$failed ${j#*=}"
done
[ -z "$failed" ] || die 111 "unable to push to:$failed (each keeps its old tables or some whole new ones: push again)"
exit 0
