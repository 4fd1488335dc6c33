#!/bin/sh
# chaos.sh: tests/test_chaos.py's run at a larger scale. BENCH_N
# messages (default 10000) by SMTP through a whole s6 instance
# (build/testhome on a free port, as the service tests lay it out), at
# most BENCH_RATE a second (default 50) from BENCH_THREADS clients
# (default 8), while kill -9 lands every 0.1 to BENCH_GAP s (default 2)
# on one process of
# each kind in turn: smtpd workers, smtpd-listen, queue-writer, send,
# record, clean, lspawn, rspawn, local workers, cyclog. Clients retry on
# a 4xx or a cut session. Prints messages, kills (by kind), lost (a 250
# not in the Maildir: must be 0), duplicates and duplicates per kill.
# Builds nothing: run `make all testbins` first. Root gives the real
# accounts. Exits 1 if a message was lost.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
exec /usr/bin/python3 "$top/tests/test_chaos.py" "${BENCH_N:-10000}" "${BENCH_RATE:-50}" "${BENCH_THREADS:-8}" \
  "${BENCH_GAP:-2}"
