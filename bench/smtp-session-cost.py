#!/usr/bin/python3
"""What a new SMTP connection costs against one more transaction on an
open one, to judge whether remote should reuse connections. Against an
SMTP server (Postfix's smtp-sink by default, started here on a free
loopback port), times
  session: connect, greeting, EHLO, QUIT, close (what every run of remote
           pays before and after its transaction);
  transaction: MAIL, RCPT, DATA in one write (PIPELINING, as remote sends
           them), their three replies, the message, its reply, on a
           connection kept open;
and prints microseconds per session and per transaction, their sum (one
message per connection) and the share a reused connection would save.
Rounds alternate the two so that load on the machine hits both alike;
the median round is shown.

    bench/smtp-session-cost.py [-n count] [-s size] [-r rounds] [host:port]

count: sessions and transactions per round (default 2000); size:
message bytes (default 4096); rounds: default 5."""
import getopt
import os
import signal
import socket
import statistics
import subprocess
import sys
import time

SINK = "/usr/sbin/smtp-sink"


def die(code, text):
    sys.stderr.write("smtp-session-cost: fatal: " + text + "\n")
    sys.exit(code)


class Conn:
    def __init__(self, addr):
        self.s = socket.create_connection(addr, timeout=30)
        self.s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""

    def reply(self):
        """one reply, all its lines; returns its code"""
        while True:
            while b"\r\n" not in self.buf:
                more = self.s.recv(65536)
                if not more:
                    raise OSError("connection closed by the server")
                self.buf += more
            line, self.buf = self.buf.split(b"\r\n", 1)
            if len(line) < 4 or line[3:4] != b"-":
                return int(line[:3])

    def cmd(self, data, replies=1):
        self.s.sendall(data)
        return [self.reply() for _ in range(replies)]

    def close(self):
        self.s.close()


def expect(codes, want, what):
    if [c // 100 for c in codes] != want:
        die(111, f"{what}: unexpected replies {codes}")


def message(size):
    """a 4 KiB-style message: a few header lines, then 71-byte lines, CR LF,
    one line starting with a dot (stuffed, as remote would send it)"""
    head = (b"Received: from bench by bench.test; Mon, 23 Nov 2026 00:00:00 +0000\r\n"
            b"From: bench@bench.test\r\nTo: rcpt@bench.test\r\nSubject: session cost\r\n\r\n"
            b"..a line that started with a dot\r\n")
    line = b"x" * 71 + b"\r\n"
    body = head
    while len(body) + len(line) <= size:
        body += line
    return body + b".\r\n"


# seconds spent in each step of the sessions, for the breakdown
steps = {"connect+greeting": 0.0, "EHLO": 0.0, "QUIT+close": 0.0}


def session(addr):
    t0 = time.perf_counter()
    c = Conn(addr)
    expect([c.reply()], [2], "greeting")
    t1 = time.perf_counter()
    expect(c.cmd(b"EHLO bench-client.test\r\n"), [2], "EHLO")
    t2 = time.perf_counter()
    expect(c.cmd(b"QUIT\r\n"), [2], "QUIT")
    c.close()
    t3 = time.perf_counter()
    steps["connect+greeting"] += t1 - t0
    steps["EHLO"] += t2 - t1
    steps["QUIT+close"] += t3 - t2


def transaction(c, env, msg):
    expect(c.cmd(env, 3), [2, 2, 3], "MAIL/RCPT/DATA")
    expect(c.cmd(msg), [2], "end of data")


def timed(f, n):
    t0 = time.perf_counter()
    for _ in range(n):
        f()
    return (time.perf_counter() - t0) / n * 1e6


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def start_sink():
    if not os.access(SINK, os.X_OK):
        die(100, SINK + " is missing: make deps installs postfix (its tools only)")
    port = free_port()
    args = [SINK]
    if os.getuid() == 0:
        # smtp-sink refuses to keep root
        user = "postfix"
        try:
            import pwd
            pwd.getpwnam(user)
        except KeyError:
            user = "nobody"
        args += ["-u", user]
    args += [f"127.0.0.1:{port}", "1000"]
    p = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), 1).close()
            return p, ("127.0.0.1", port)
        except OSError:
            time.sleep(0.05)
    p.kill()
    die(111, "smtp-sink did not start")


def main():
    try:
        opts, args = getopt.getopt(sys.argv[1:], "n:s:r:")
        o = dict(opts)
        n = int(o.get("-n", 2000))
        size = int(o.get("-s", 4096))
        rounds = int(o.get("-r", 5))
        if n < 1 or size < 1 or rounds < 1 or len(args) > 1:
            raise ValueError
        addr = None
        if args:
            host, _, port = args[0].rpartition(":")
            addr = (host.strip("[]"), int(port))
    except (getopt.GetoptError, ValueError):
        die(100, "usage: smtp-session-cost.py [-n count] [-s size] [-r rounds] [host:port]")
    sink = None
    if addr is None:
        sink, addr = start_sink()
    # a SIGTERM must not leave our sink behind
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(130))
    try:
        msg = message(size)
        env = (b"MAIL FROM:<bench@bench.test>\r\nRCPT TO:<rcpt@bench.test>\r\nDATA\r\n")
        c = Conn(addr)
        expect([c.reply()], [2], "greeting")
        expect(c.cmd(b"EHLO bench-client.test\r\n"), [2], "EHLO")
        # warm up both paths (page cache, the server's first accepts)
        timed(lambda: session(addr), 50)
        timed(lambda: transaction(c, env, msg), 50)
        for k in steps:
            steps[k] = 0.0
        sess, txn = [], []
        for _ in range(rounds):
            sess.append(timed(lambda: session(addr), n))
            txn.append(timed(lambda: transaction(c, env, msg), n))
        c.cmd(b"QUIT\r\n")
        c.close()
    finally:
        if sink:
            sink.terminate()
            sink.wait()
    s, t = statistics.median(sess), statistics.median(txn)
    print(f"# {addr[0]}:{addr[1]}, {n} of each per round, {rounds} rounds (median shown),"
          f" {len(msg) - 3}-byte message, {os.cpu_count()} CPUs")
    print(f"session (connect, greeting, EHLO, QUIT, close): {s:.0f} us"
          f"  (rounds {', '.join(f'{x:.0f}' for x in sess)})")
    print("  of which, averaged over all rounds: " + ", ".join(
        f"{k} {v / (n * rounds) * 1e6:.0f} us" for k, v in steps.items()))
    print(f"transaction on an open connection (MAIL/RCPT/DATA pipelined, message, reply): {t:.0f} us"
          f"  (rounds {', '.join(f'{x:.0f}' for x in txn)})")
    print(f"one message per connection: {s + t:.0f} us; reusing the connection would save"
          f" {s:.0f} us, {100 * s / (s + t):.0f} % of it")


if __name__ == "__main__":
    main()
