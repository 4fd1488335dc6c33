#!/bin/sh
# CPU of tlsd(8) per TLS connection (full handshake, resumed by ticket,
# TLS 1.2, and an engine never asked for TLS): see bench/tls.py.
#   make && sh bench/tls.sh [-n count] [cases...]
exec /usr/bin/python3 "$(dirname "$0")/tls.py" "$@"
