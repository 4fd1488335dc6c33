#!/bin/sh
# accounts.sh: creates the system accounts and the group of conf-users
# that do not exist yet (useradd --system). Idempotent. As another user
# than root it only says what it would need.
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
user() { awk -v r="$1" '$1 == r { print $2; exit }' "$top/conf-users"; }

if [ "$(id -u)" != 0 ]; then
  echo "accounts.sh: not root: every postern process will run as $(id -un)"
  exit 0
fi
group=$(user group)
getent group "$group" >/dev/null || groupadd --system "$group"
for role in queue send remote smtpd log alias tls auth; do
  name=$(user $role)
  if ! id -u "$name" >/dev/null 2>&1; then
    useradd --system --user-group --no-create-home --home-dir /nonexistent \
      --shell /usr/sbin/nologin --comment "postern $role" "$name"
  fi
done
# the roles that read bodies and state share the group; smtpd and alias do not
for role in queue send remote; do
  usermod -a -G "$group" "$(user $role)"
done
exit 0
