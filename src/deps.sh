#!/bin/sh
# deps.sh: installs the Debian 12 packages postern's build, tests and
# quick start need, with apt-get as root; does nothing when all are there.
set -eu
# postfix only for smtp-source/smtp-sink (tests, bench); never run: stopped below
# clang and libclang-rt-14-dev (libFuzzer, sanitizers): tests/fuzz
# libtls-dev (tlsd, remote), libcrypt-dev (checkpw), openssl (certificates)
# libnet-ssleay-perl: swaks --tls (the README's submission line, tests)
# python3-dkim, python3-dnspython, python3-nacl: test_remote_dkim checks
# remote's DKIM signatures with an independent verifier (dkim.verify),
# its keys looked up with dnspython, Ed25519 ones checked with nacl
# rsync: table-push sends the tables to every node (--delay-updates and
# --fsync: each file fsynced, all renamed at the end; test_table_push)
PKGS="gcc make libc6-dev skalibs-dev libcdb-dev tinycdb libc-ares-dev python3 python3-aiosmtpd dnsmasq-base strace mandoc s6 execline ucspi-tcp swaks postfix clang libclang-rt-14-dev libtls-dev libcrypt-dev openssl libnet-ssleay-perl rsync python3-dkim python3-dnspython python3-nacl"

missing=
for p in $PKGS; do
  st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  [ "$st" = "install ok installed" ] || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
if [ "$(id -u)" != 0 ]; then
  echo "deps.sh: missing packages:$missing" >&2
  echo "deps.sh: run 'make deps' as root, or: apt-get install -y$missing" >&2
  exit 1
fi
echo "deps.sh: installing:$missing"
export DEBIAN_FRONTEND=noninteractive
apt-get update -q || true
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $missing
# postfix is installed for its smtp-source and smtp-sink only: if its
# package started a master (it would listen on port 25), stop it
if postfix status >/dev/null 2>&1; then postfix stop || true; fi
