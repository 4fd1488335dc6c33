#!/usr/bin/python3
"""CPU of tlsd(8) per connection: the engine started as smtpd starts it
(tlsd -e, fds 0/1 one end of a socket pair, 3 the control socket, 4 and 5
pipes), this script being both the application (Y, the environment
block, a line each way, EOF) and the client (Python's ssl, TLS 1.3 unless
told, verifying the test CA). Each engine's user+system CPU comes from
wait4(2), so the client's work is not counted. Cases:
  no-tls:   the engine starts, the application closes fd 3 (a session
            that never says STARTTLS: what every connection pays if smtpd
            starts the engine up front);
  full:     a full handshake, no tls/ticketkey;
  full-tickets: a full handshake with tls/ticketkey (the server issues
            tickets the client does not use: what a first visit costs);
  resumed:  tls/ticketkey present, each connection resuming the previous
            one's session by ticket (check: every one says SSL_SESSION_REUSED);
  full-1.2: a full TLS 1.2 handshake (client capped at 1.2).

    bench/tls.py [-n count] [-b tlsd] [-k ec|rsa] [cases...]

count: connections per case (default 500); tlsd: default build/bin/tlsd;
-k: the server's key, EC P-256 (default) or RSA 2048.
Prints milliseconds of engine CPU per connection (mean, median) and the
wall time per connection (client included)."""
import getopt
import os
import resource
import shutil
import socket
import ssl
import statistics
import sys
import tempfile
import time

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(TOP, "tests"))
import tlsfiles  # noqa: E402

NAME = "mx.bench.test"


def die(code, text):
    sys.stderr.write("tls: fatal: " + text + "\n")
    sys.exit(code)


def spawn(tlsd, env, net, ctl, up, down):
    """tlsd -e with net on 0/1, ctl on 3, up on 4, down on 5"""
    high = [os.dup(fd) for fd in (net, ctl, up, down)]
    moved = []
    for fd in high:
        h = __import__("fcntl").fcntl(fd, __import__("fcntl").F_DUPFD_CLOEXEC, 100)
        os.close(fd)
        moved.append(h)
    n, c, u, d = moved
    acts = [(os.POSIX_SPAWN_DUP2, n, 0), (os.POSIX_SPAWN_DUP2, n, 1), (os.POSIX_SPAWN_DUP2, c, 3),
            (os.POSIX_SPAWN_DUP2, u, 4), (os.POSIX_SPAWN_DUP2, d, 5)]
    try:
        return os.posix_spawn(tlsd, [tlsd, "-e"], env, file_actions=acts)
    finally:
        for fd in moved:
            os.close(fd)


def one(tlsd, env, ctx, case, session):
    """one connection; returns (engine rusage seconds, session, env block)"""
    net_app, net_eng = socket.socketpair()
    ctl_app, ctl_eng = socket.socketpair()
    up_r, up_w = os.pipe()
    down_r, down_w = os.pipe()
    pid = spawn(tlsd, env, net_eng.fileno(), ctl_eng.fileno(), up_r, down_w)
    for fd in (up_r, down_w):
        os.close(fd)
    net_eng.close()
    ctl_eng.close()
    block = b""
    if case == "no-tls":
        ctl_app.close()
    else:
        ctl_app.sendall(b"Y")
        t = ctx.wrap_socket(net_app, server_hostname=NAME, session=session)
        while not block.endswith(b"\0\0"):
            more = ctl_app.recv(4096)
            if not more:
                die(111, "the engine closed the control socket without a block")
            block += more
        os.write(up_w, b"hello\r\n")
        got = b""
        while not got.endswith(b"\n"):
            got += t.recv(100)
        t.sendall(b"bye\r\n")
        got = b""
        while not got.endswith(b"\n"):
            got += os.read(down_r, 100)
        os.close(up_w)
        if t.recv(100) != b"":
            die(111, "no close_notify")
        session = t.session
        t.close()
        ctl_app.close()
    _, status, ru = os.wait4(pid, 0)
    if status:
        die(111, f"tlsd exited with status {status:#x}")
    for fd in (down_r,) + ((up_w,) if case == "no-tls" else ()):
        os.close(fd)
    net_app.close()
    return ru.ru_utime + ru.ru_stime, session, block


def main():
    opts, cases = getopt.getopt(sys.argv[1:], "n:b:k:")
    o = dict(opts)
    count = int(o.get("-n", 500))
    tlsd = os.path.abspath(o.get("-b", os.path.join(TOP, "build", "bin", "tlsd")))
    if not os.access(tlsd, os.X_OK):
        die(111, tlsd + " is not there: make first")
    keytype = o.get("-k", "ec")
    cases = cases or ["no-tls", "full", "full-tickets", "resumed", "full-1.2"]
    tmp = tempfile.mkdtemp(prefix="postern-bench-tls-")
    try:
        certs = os.path.join(tmp, "certs")
        cafile = tlsfiles.make_tls_files(certs, [NAME], key=keytype)
        home = os.path.join(tmp, "home")
        os.makedirs(os.path.join(home, "tls"))
        for ext in ("crt", "key"):
            shutil.copy(os.path.join(certs, NAME + "." + ext), os.path.join(home, "tls", "default." + ext))
        env = dict(os.environ, POSTERN_HOME=home)
        print(f"tlsd CPU per connection, {count} connections per case, {keytype} key ({tlsd})")
        print("| case | CPU ms mean | CPU ms median | wall ms/conn |")
        print("|---|---|---|---|")
        for case in cases:
            key = os.path.join(home, "tls", "ticketkey")
            if case in ("resumed", "full-tickets"):
                with open(key, "wb") as f:
                    f.write(os.urandom(48))
            elif os.path.exists(key):
                os.unlink(key)
            ctx = ssl.create_default_context(cafile=cafile)
            if case == "full-1.2":
                ctx.maximum_version = ssl.TLSVersion.TLSv1_2
            session, cpu = None, []
            reused = 0
            start = time.monotonic()
            for i in range(count):
                c, new, block = one(tlsd, env, ctx, case, session if case == "resumed" else None)
                cpu.append(c)
                reused += b"SSL_SESSION_REUSED=1\0" in block
                session = new
            wall = time.monotonic() - start
            if case == "resumed" and reused < count - 1:
                die(111, f"only {reused} of {count - 1} connections resumed")
            print(f"| {case} | {1000 * statistics.mean(cpu):.2f} | {1000 * statistics.median(cpu):.2f} "
                  f"| {1000 * wall / count:.2f} |")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
