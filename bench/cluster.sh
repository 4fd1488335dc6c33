#!/bin/sh
# cluster.sh [-n NODES] [-k SOURCES] [-m MESSAGES] [-c SESSIONS] [--no-kill]:
# N postern nodes (N = 1 .. NODES) behind HAProxy in network namespaces
# of their own; bench/README.md says what it measures. The work is done by
# bench/cluster.py, which tests/test_cluster.py imports too; it removes
# its namespaces, haproxy and nodes at the end, on an error and on
# SIGINT/SIGTERM. As root; needs `make clusterbins`.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
exec /usr/bin/python3 "$top/bench/cluster.py" bench "$@"
