#!/bin/sh
# control.sh home: gives home/control the control files an install
# needs, each only if it does not exist yet (an operator's file is never
# changed), then compiles every table whose cdb is missing or older than
# its text: locals, rcpthosts, virtualdomains, users, aliases, routes with the
# home's bin/table-compile, tcp.smtp and tcp.submission with tcprules
# (ucspi-tcp); then
# control/recipients.cdb with bin/recipients-compile.
set -eu
home=$1
top=$(cd "$(dirname "$0")/../.." && pwd)
c=$home/control
mkdir -p "$c"

# name text: writes control/name if absent
dflt() {
  [ -e "$c/$1" ] && return 0
  printf '%s\n' "$2" > "$c/$1.new"
  chmod 644 "$c/$1.new"
  mv -f "$c/$1.new" "$c/$1"
}

me=$(head -n 1 "$c/me" 2>/dev/null || true)
[ -n "$me" ] || me=$(uname -n)
dflt me "$me"
# domains delivered here, and accepted from anyone (rcpthosts)
dflt locals "$me"
dflt rcpthosts "$me"
# smtpd behind smtpd-listen (service/smtpd/run)
dflt smtpdaddress 0.0.0.0
dflt smtpdport 25
dflt concurrencyincoming 40
# tcprules: the host itself may relay, everyone else may connect
dflt tcp.smtp '127.0.0.1:allow,RELAYCLIENT=""
:allow'
# submission (587, STARTTLS) and smtps (465, implicit TLS): one rules
# file for both; nobody relays by address there, AUTH gives relaying
dflt submissionport 587
dflt smtpsport 465
dflt tcp.submission ':allow'

# root, postmaster, MAILER-DAEMON and abuse reach a person (lspawn never
# delivers as root): the account ADMIN names (make install ADMIN=name),
# by default the first one of uid 1000 to 59999 (Debian's people)
if [ ! -e "$c/aliases" ]; then
  admin=${ADMIN:-$(getent passwd | awk -F: '$3 >= 1000 && $3 < 60000 { print $3, $1 }' \
    | sort -n | head -n 1 | cut -d' ' -f2)}
  if [ -n "$admin" ] && [ "$admin" != root ]; then
    dflt aliases "root $admin
postmaster $admin
MAILER-DAEMON $admin
abuse $admin"
  else
    echo "control.sh: no person's account (ADMIN=name): write control/aliases for root, postmaster, MAILER-DAEMON and abuse, or their mail waits" >&2
  fi
fi

# control/users and aliases list every user's ids and home: mode 0640,
# group smtpd's account's (smtpd reads them without recipients.cdb);
# their tables follow (table-compile gives a table its text's mode and
# group), recipients.cdb too (recipients-compile)
sgroup=
if [ "$(id -u)" = 0 ]; then
  smtpd=$(awk '$1 == "smtpd" { print $2; exit }' "$top/conf-users")
  if id -u "$smtpd" >/dev/null 2>&1; then sgroup=$(id -gn "$smtpd"); fi
fi
for f in "$c/users" "$c/users.cdb" "$c/aliases" "$c/aliases.cdb"; do
  [ -e "$f" ] || continue
  chmod 640 "$f"
  if [ -n "$sgroup" ]; then chgrp "$sgroup" "$f"; fi
done

for t in locals rcpthosts virtualdomains users aliases routes; do
  [ -e "$c/$t" ] || continue
  if [ ! -e "$c/$t.cdb" ] || [ "$c/$t" -nt "$c/$t.cdb" ]; then
    "$home/bin/table-compile" "$c/$t"
  fi
done
# the local names smtpd accepts (recipients-compile(8)): always, since
# users' .postern-EXT files change without any table changing
[ -x "$home/bin/recipients-compile" ] && POSTERN_HOME=$home "$home/bin/recipients-compile"
for t in tcp.smtp tcp.submission; do
  [ -e "$c/$t" ] || continue
  if [ ! -e "$c/$t.cdb" ] || [ "$c/$t" -nt "$c/$t.cdb" ]; then
    tcprules "$c/$t.cdb" "$c/$t.tmp" < "$c/$t"
    chmod 644 "$c/$t.cdb"
  fi
done
exit 0
