#!/bin/sh
# mkhome.sh home [bindir]: creates (or repairs) a postern home: the queue
# trees with every hash subdirectory, control/, and bin/ with the built
# programs copied from bindir. Idempotent. As root, and when the accounts
# of conf-users exist, gives every directory the owner and mode listed in
# postern-queue(5); otherwise everything stays the caller's.
set -eu
home=$1
bindir=${2:-}
top=$(cd "$(dirname "$0")/../.." && pwd)
split=$(head -n 1 "$top/conf-split")
user() { awk -v r="$1" '$1 == r { print $2; exit }' "$top/conf-users"; }

owned=no
if [ "$(id -u)" = 0 ] && id -u "$(user queue)" >/dev/null 2>&1 \
   && id -u "$(user send)" >/dev/null 2>&1 && getent group "$(user group)" >/dev/null; then
  owned=yes
fi

# dir path mode role: role's account and the shared group own it
mk() {
  mkdir -p "$1"
  chmod "$2" "$1"
  if [ $owned = yes ]; then chown "$(user "$3"):$(user group)" "$1"; fi
}

mk "$home" 755 queue
[ $owned = yes ] && chown root:root "$home"
mk "$home/control" 755 queue
[ $owned = yes ] && chown root:root "$home/control"
mk "$home/bin" 755 queue
[ $owned = yes ] && chown root:root "$home/bin"
# qmail's ~alias: where deliveries for control/aliases run
mk "$home/alias" 700 alias
[ $owned = yes ] && chown "$(user alias):$(id -gn "$(user alias)")" "$home/alias"
mk "$home/queue" 750 queue
# tls/: certificates (NAME.crt, public) and keys (NAME.key, 0400, the tls
# account's): smtpd may see which exist, only tlsd reads a key
mk "$home/tls" 755 queue
[ $owned = yes ] && chown root:root "$home/tls"
# tlsd/: the socket of the tls service's daemon: the tls account makes
# it, smtpd's group alone may connect to it
mk "$home/tlsd" 750 queue
[ $owned = yes ] && chown "$(user tls):$(id -gn "$(user smtpd)")" "$home/tlsd"
# auth/: the password hashes checkpw reads, its account's alone
mk "$home/auth" 700 queue
[ $owned = yes ] && chown "$(user auth):$(id -gn "$(user auth)")" "$home/auth"
# queue-writer(8)'s socket: its directory is the queue owner's, the
# socket any local user's to connect to (as queue-inject is theirs to run)
mk "$home/queue-writer" 755 queue
# one mkdir, chmod and chown per tree: a home has 4 x conf-split dirs.
# todo is writable by send's own group (record unlinks sorted entries)
# but not by the shared group, so remote can never drop a message.
sendgroup=
[ $owned = yes ] && sendgroup=$(id -gn "$(user send)")
# body, todo and intake are setgid: a file queue-inject makes gets the
# tree's group whoever runs it, so its readers can read it (an envelope
# is made in intake and renamed into todo, keeping intake's group).
# state is setgid too: record's files get the shared group, so the queue
# tools (queue-list, queue-stats), run as the queue owner, can read them.
# hold holds queue-ctl(8)'s markers: the queue owner's, read by send.
# mkroot root tree...: the trees of one queue root, every hash
# subdirectory included
mkroot() {
  root=$1; shift
  for tree in "$@"; do
    IFS=: read -r name mode role grp <<E
$tree
E
    set -- "$root/$name"
    i=0
    while [ $i -lt "$split" ]; do
      set -- "$@" "$root/$name/$i"
      i=$((i + 1))
    done
    mkdir -p "$@"
    chmod "$mode" "$@"
    if [ $owned = yes ]; then
      if [ "$grp" = send ]; then g=$sendgroup; else g=$(user group); fi
      chown "$(user "$role"):$g" "$@"
    fi
  done
}
trees="body:2750:queue:shared todo:2770:queue:send intake:2700:queue:send state:2750:send:shared"
# shellcheck disable=SC2086
mkroot "$home/queue" $trees hold:2750:queue:shared
# control/queues (postern-queue(5)): every other queue root gets the same
# trees; a path is absolute or under the home, '-' marks one drained
if [ -f "$home/control/queues" ]; then
  while IFS= read -r line || [ -n "$line" ]; do
    line=$(printf '%s' "$line" | sed 's/^[[:space:]]*//; s/[[:space:]]*$//; s/^-//; s:/*$::')
    case $line in ''|'#'*) continue ;; /*) root=$line ;; *) root=$home/$line ;; esac
    [ "$root" = "$home/queue" ] && continue
    mk "$root" 750 queue
    # shellcheck disable=SC2086
    mkroot "$root" $trees
  done < "$home/control/queues"
fi
if [ ! -p "$home/queue/trigger" ]; then
  rm -f "$home/queue/trigger"
  mkfifo "$home/queue/trigger"
fi
chmod 622 "$home/queue/trigger"
[ $owned = yes ] && chown "$(user send):$(user group)" "$home/queue/trigger"
# queue-ctl(8)'s requests to send: written by the queue owner (and root)
# alone, read by send through its own group
if [ ! -p "$home/queue/ops" ]; then
  rm -f "$home/queue/ops"
  mkfifo "$home/queue/ops"
fi
chmod 660 "$home/queue/ops"
[ $owned = yes ] && chown "$(user queue):$sendgroup" "$home/queue/ops"

if [ -n "$bindir" ]; then
  for p in "$bindir"/*; do
    install -m 755 "$p" "$home/bin/"
  done
  # setuid to the queue owner: the one door into the queue
  if [ $owned = yes ]; then
    chown "$(user queue):$(user group)" "$home/bin/queue-inject"
    chmod 4711 "$home/bin/queue-inject"
    # setuid to the accounts that read the keys and the password hashes,
    # runnable by the smtpd account only (its group)
    sgroup=$(id -gn "$(user smtpd)")
    for p in tlsd:tls checkpw:auth; do
      [ -e "$home/bin/${p%%:*}" ] || continue
      chown "$(user "${p#*:}"):$sgroup" "$home/bin/${p%%:*}"
      chmod 4710 "$home/bin/${p%%:*}"
    done
  fi
fi
exit 0
