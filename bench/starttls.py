#!/usr/bin/python3
"""CPU per message through STARTTLS: smtpd workers behind smtpd-listen
(as make run serves 2525), each session one message, one client after
another. Counted: every process of the server (smtpd-listen, the smtpd
workers, the tlsd engines they start, queue-inject), by cgroup v2
cpu.stat when there is one, else by the processes' own and reaped
children's times from /proc. Not counted: the client (Python) and
delivery (nothing delivers: the messages stay queued).
Cases:
  clear:    EHLO, MAIL, RCPT, DATA, QUIT, no TLS;
  starttls: STARTTLS and a full handshake each session, the engine
            started by smtpd (bin/tlsd -e: OpenSSL set up each time);
  resumed:  the same, resuming the session before by ticket
            (tls/ticketkey present; the server must say it resumed);
  daemon, daemon-resumed: the same two with the tls service's daemon
            (tlsd -d) forking the engines, as make run and make install
            run it.

    bench/starttls.py [-n messages] [cases...]

Run as root from the checkout after make (it uses build/bin, and the
test suite's server set-up: tests/test_smtpd_tls.py)."""
import getopt
import os
import socket
import ssl
import subprocess
import sys
import time

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(TOP, "tests"))
import harness  # noqa: E402
import test_smtpd_tls  # noqa: E402

MESSAGE = (b"From: a@client.test\r\nTo: demo@example.test\r\nSubject: bench\r\n\r\n"
           + b"x" * 70 + b"\r\n") * 1


class Client:
    def __init__(self, port):
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=30,
                                             source_address=("127.0.0.1", 0))
        # as mail clients do: no Nagle wait for our own small writes
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.f = self.sock.makefile("rb")

    def reply(self):
        while True:
            line = self.f.readline()
            if not line:
                raise RuntimeError("connection closed")
            if line[3:4] != b"-":
                return int(line[:3])

    def cmd(self, line, want):
        self.sock.sendall(line + b"\r\n")
        code = self.reply()
        if code != want:
            raise RuntimeError(f"{line!r}: {code}")

    def tls(self, ctx, session):
        self.cmd(b"STARTTLS", 220)
        self.sock = ctx.wrap_socket(self.sock, session=session)
        self.f = self.sock.makefile("rb")
        self.cmd(b"EHLO client.test", 250)
        return self.sock.session, self.sock.session_reused


def one(port, ctx, session):
    c = Client(port)
    reused = False
    if c.reply() != 220:
        raise RuntimeError("no greeting")
    c.cmd(b"EHLO client.test", 250)
    if ctx:
        session, reused = c.tls(ctx, session)
    c.cmd(b"MAIL FROM:<a@client.test>", 250)
    c.cmd(b"RCPT TO:<demo@example.test>", 250)
    c.cmd(b"DATA", 354)
    c.sock.sendall(MESSAGE + b".\r\n")
    if c.reply() != 250:
        raise RuntimeError("message refused")
    c.cmd(b"QUIT", 221)
    c.sock.close()
    return session, reused


class Cpu:
    """the server's CPU in seconds: its cgroup, or its processes"""

    def __init__(self, sid, extra=None):
        self.sid = sid
        self.extra = extra
        self.cg = None
        root = "/sys/fs/cgroup/unified" if os.path.isdir("/sys/fs/cgroup/unified") else "/sys/fs/cgroup"
        try:
            cg = os.path.join(root, f"bench-starttls-{os.getpid()}")
            os.makedirs(cg, exist_ok=True)
            for pid in harness.session_pids(sid) + ([extra] if extra else []):
                with open(os.path.join(cg, "cgroup.procs"), "w") as f:
                    f.write(str(pid))
            self.cg = cg
        except OSError:
            self.cg = None

    def now(self):
        if self.cg:
            with open(os.path.join(self.cg, "cpu.stat")) as f:
                for line in f:
                    k, v = line.split()
                    if k == "usage_usec":
                        return int(v) / 1e6
        tick = os.sysconf("SC_CLK_TCK")
        total = 0
        for pid in harness.session_pids(self.sid) + ([self.extra] if self.extra else []):
            try:
                fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            total += sum(int(x) for x in fields[11:15])
        return total / tick

    def method(self):
        return "cgroup v2 cpu.stat" if self.cg else "/proc times (own + reaped children)"

    def close(self):
        if self.cg:
            try:
                for pid in open(os.path.join(self.cg, "cgroup.procs")).read().split():
                    with open(os.path.join(os.path.dirname(self.cg), "cgroup.procs"), "w") as f:
                        f.write(pid)
                os.rmdir(self.cg)
            except OSError:
                pass


def run(case, n):
    srv = test_smtpd_tls.StarttlsTestWorker.server()
    daemon = None
    try:
        if case.endswith("resumed"):
            with open(srv.home.path("tls", "ticketkey"), "wb") as f:
                f.write(os.urandom(48))
        if case.startswith("daemon"):
            # in the server's session, so counted with it
            daemon = subprocess.Popen([os.path.join(harness.BIN, "tlsd"), "-d", "tlsd/socket"],
                                      cwd=srv.home.dir, env=srv.home.env, stdin=subprocess.DEVNULL,
                                      stderr=subprocess.DEVNULL)
            harness.wait_for(lambda: os.path.exists(srv.home.path("tlsd", "socket")), 10)
        cpu = Cpu(srv.proc.pid, daemon.pid if daemon else None)
        ctx = None
        if case != "clear":
            ctx = ssl.create_default_context(cafile=srv.ca)
            ctx.check_hostname = False
            ctx.minimum_version = ssl.TLSVersion.TLSv1_3
        session, resumed = None, 0
        one(srv.port, ctx, None)           # warm: one session first
        c0, t0 = cpu.now(), time.monotonic()
        for _ in range(n):
            s, reused = one(srv.port, ctx, session if case.endswith("resumed") else None)
            resumed += reused
            session = s
        # the last engine and worker settle
        time.sleep(0.5)
        c1, t1 = cpu.now(), time.monotonic()
        queued = len(srv.home.files("todo"))
        method = cpu.method()
        cpu.close()
    finally:
        if daemon:
            daemon.terminate()
            daemon.wait()
        srv.cleanup()
    return (c1 - c0) * 1000 / n, (t1 - t0) * 1000 / n, resumed, queued, method


def main():
    n = 1000
    opts, cases = getopt.getopt(sys.argv[1:], "n:")
    for o, v in opts:
        if o == "-n":
            n = int(v)
    cases = cases or ["clear", "starttls", "resumed", "daemon", "daemon-resumed"]
    print(f"{n} messages per case, one per session, smtpd-listen workers; server CPU per message")
    print("case\tcpu_ms/msg\twall_ms/msg\tresumed\tqueued\tcpu by")
    for case in cases:
        cpu, wall, resumed, queued, method = run(case, n)
        print(f"{case}\t{cpu:.2f}\t{wall:.2f}\t{resumed}\t{queued}\t{method}")


if __name__ == "__main__":
    main()
