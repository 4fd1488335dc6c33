#!/bin/sh
# services.sh home: installs the s6 service directories of the source's
# service/ (send, smtpd, submission, smtps, queue-writer, each with log/)
# into home/service,
# with the home, the log and queue accounts and smtpd's numeric ids
# filled in, and makes the log directories home/log/<service>. Idempotent: a file
# is replaced only when its text changes, and the supervise/ and event/
# directories of a running service are left alone. As root with the
# accounts of conf-users, cyclog runs as the log account, which owns the
# log directories, smtpd-listen (smtpd, submission and smtps) runs as
# the smtpd account with its smtpd workers (the ids substituted for
# @SMTPD_IDS@, as tcpserver's
# -u/-g would take them) and queue-writer runs as the queue account;
# otherwise every service runs as whoever runs s6-svscan (but
# smtpd-listen, which refuses to keep root: as root, smtpd needs the
# accounts).
set -eu
home=$1
top=$(cd "$(dirname "$0")/../.." && pwd)
user() { awk -v r="$1" '$1 == r { print $2; exit }' "$top/conf-users"; }

# the home is written into sh scripts and sed replacements
case $home in
  /*) ;;
  *) echo "services.sh: the home must be an absolute path: $home" >&2; exit 100 ;;
esac
case $home in
  *[!A-Za-z0-9._/+@,:-]*)
    echo "services.sh: the home may hold only letters, digits and ._/+@,:- : $home" >&2
    exit 100 ;;
esac

log=$(user log)
smtpd=$(user smtpd)
queue=$(user queue)
if [ "$(id -u)" = 0 ] && id -u "$log" >/dev/null 2>&1 && id -u "$smtpd" >/dev/null 2>&1 \
   && id -u "$queue" >/dev/null 2>&1; then
  setuidgid="s6-setuidgid $log "
  qsetuidgid="s6-setuidgid $queue "
  tsetuidgid="s6-setuidgid $(user tls) "
  ids="-u $(id -u "$smtpd") -g $(id -g "$smtpd") "
  owned=yes
else
  setuidgid=
  qsetuidgid=
  tsetuidgid=
  ids=
  owned=no
fi

mkdir -p "$home/service" "$home/log"
chmod 755 "$home/service" "$home/log"
for svc in send smtpd submission smtps queue-writer tlsd; do
  # submission and smtps are of no use without a certificate: installed
  # the first time without one, they stay down (a "down" file) until the
  # operator has put tls/default.crt and .key in place (INSTALL)
  case $svc in
    submission|smtps)
      if [ ! -d "$home/service/$svc" ] && [ ! -e "$home/tls/default.crt" ]; then
        mkdir -p "$home/service/$svc"
        : > "$home/service/$svc/down"
      fi ;;
  esac
  (cd "$top/service/$svc" && find . -type f) | while read -r f; do
    src=$top/service/$svc/$f
    dst=$home/service/$svc/$f
    mkdir -p "$(dirname "$dst")"
    sed -e "s|@HOME@|$home|g" -e "s|@SETUIDGID@|$setuidgid|g" -e "s|@SMTPD_IDS@|$ids|g" \
      -e "s|@QUEUE_SETUIDGID@|$qsetuidgid|g" -e "s|@TLS_SETUIDGID@|$tsetuidgid|g" \
      "$src" > "$dst.new"
    if [ -x "$src" ]; then chmod 755 "$dst.new"; else chmod 644 "$dst.new"; fi
    if cmp -s "$dst.new" "$dst"; then rm -f "$dst.new"; else mv -f "$dst.new" "$dst"; fi
  done
  # logs hold addresses: readable by the log account (and root) only
  mkdir -p "$home/log/$svc"
  chmod 750 "$home/log/$svc"
  if [ $owned = yes ]; then
    chown "$log:$(id -gn "$log")" "$home/log/$svc"
    # a current left by an earlier run as another account
    for f in "$home/log/$svc"/*; do
      [ -e "$f" ] && chown "$log:$(id -gn "$log")" "$f"
    done
  fi
done
exit 0
