#!/usr/bin/python3
"""loopback_rsh.py PORT HOST COMMAND...: a remote shell for tests, as
ssh is one: sends COMMAND (its words joined by blanks, as ssh does) as
one line to a TCP server on 127.0.0.1:PORT that runs it with the
connection as its stdin and stdout (test_table_push.py starts one under
tcpserver), then relays stdin to it and it to stdout; exits with 0 when
the server closes, 255 if it cannot connect (ssh's status).
LOOPBACK_RSH_DELAY: seconds to wait after each 16 KB sent, a slow link."""
import os
import socket
import sys
import threading
import time


def main():
    port, cmd = int(sys.argv[1]), " ".join(sys.argv[3:])
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=30)
    except OSError as e:
        print(f"loopback_rsh: {e}", file=sys.stderr)
        return 255
    s.settimeout(None)
    s.sendall(cmd.encode() + b"\n")
    delay = float(os.environ.get("LOOPBACK_RSH_DELAY", "0"))

    def up():
        while True:
            b = os.read(0, 16384)
            if not b:
                break
            s.sendall(b)
            if delay:
                time.sleep(delay)
        s.shutdown(socket.SHUT_WR)

    threading.Thread(target=up, daemon=True).start()
    while True:
        b = s.recv(65536)
        if not b:
            return 0
        os.write(1, b)


if __name__ == "__main__":
    sys.exit(main())
