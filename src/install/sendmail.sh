#!/bin/sh
# sendmail.sh home [link]: makes link (default /usr/sbin/sendmail) a
# symbolic link to home/bin/inject when no such file exists. An existing
# one (Postfix's, exim's, a link of its own) is never replaced: the
# command that would replace it is printed instead. Idempotent.
set -eu
home=$1
link=${2:-/usr/sbin/sendmail}
inject=$home/bin/inject

if [ ! -x "$inject" ]; then
  echo "sendmail.sh: no $inject: $link left alone"
  exit 0
fi
if [ -L "$link" ] && [ "$(readlink "$link")" = "$inject" ]; then
  echo "sendmail.sh: $link is postern's inject already"
  exit 0
fi
if [ -e "$link" ] || [ -L "$link" ]; then
  echo "sendmail.sh: $link exists and is left alone; to make postern the system's sendmail:"
  echo "  ln -sf $inject $link"
  exit 0
fi
if ln -s "$inject" "$link" 2>/dev/null; then
  echo "sendmail.sh: $link -> $inject"
else
  echo "sendmail.sh: unable to create $link; as root:"
  echo "  ln -s $inject $link"
fi
exit 0
