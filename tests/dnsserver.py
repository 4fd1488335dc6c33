"""A real DNS server for the remote tests: dnsmasq (package dnsmasq-base)
on 127.0.0.1 at a free port, UDP and TCP, with its own records only (no
config file, no resolv.conf, no /etc/hosts, nothing forwarded). Every
name under .test it has no record for is NXDOMAIN (--local=/test/).
Records: MX (mx), A/AAAA (host), null MX of RFC 7505 (null_mx) as raw
RDATA. query() is a minimal resolver of our own (no dig here) that
checks what the server answers."""
import os
import random
import shutil
import socket
import struct
import subprocess
import tempfile
import time

DNSMASQ = "/usr/sbin/dnsmasq"
A, NS, CNAME, MX, TXT, AAAA = 1, 2, 5, 15, 16, 28
NOERROR, SERVFAIL, NXDOMAIN, REFUSED = 0, 2, 3, 5


def available():
    return os.access(DNSMASQ, os.X_OK)


def _free_port(ipv6=False):
    """a port free for both UDP and TCP on 127.0.0.1 (and ::1): dnsmasq
    binds them all"""
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
            u.bind(("127.0.0.1", 0))
            port = u.getsockname()[1]
            try:
                for fam, typ, a in ((socket.AF_INET, socket.SOCK_STREAM, "127.0.0.1"),
                                    (socket.AF_INET6, socket.SOCK_DGRAM, "::1"),
                                    (socket.AF_INET6, socket.SOCK_STREAM, "::1"))[:3 if ipv6 else 1]:
                    with socket.socket(fam, typ) as t:
                        t.bind((a, port))
            except OSError:
                continue
        return port


class DNSServer:
    """dnsmasq with the records given by mx(), host(), null_mx(), rr()
    before start(). Usage:
        dns = DNSServer(); dns.mx("a.test", "mx1.a.test", 10)
        dns.host("mx1.a.test", "127.0.0.21"); dns.start(); ...; dns.stop()"""

    def __init__(self, ipv6=False):
        """ipv6: listen on ::1 too"""
        self.ipv6 = ipv6
        self.args = []
        self.proc = None
        self.port = None
        self.dir = tempfile.mkdtemp(prefix="postern-dns-")
        self.logpath = os.path.join(self.dir, "dnsmasq.log")

    # records ---------------------------------------------------------
    def mx(self, domain, host, pref):
        self.args.append(f"--mx-host={domain},{host},{pref}")
        return self

    def host(self, name, *addrs):
        """A and/or AAAA records: addresses v4 or v6, any number"""
        v4 = [a for a in addrs if ":" not in a]
        v6 = [a for a in addrs if ":" in a]
        # --host-record takes one of each kind a time; more make more records
        for i in range(max(len(v4), len(v6))):
            parts = [name] + ([v4[i]] if i < len(v4) else []) + ([v6[i]] if i < len(v6) else [])
            self.args.append("--host-record=" + ",".join(parts))
        return self

    def null_mx(self, domain):
        """RFC 7505: one MX, preference 0, exchange "." (the root: one
        zero byte)"""
        return self.rr(domain, MX, "000000")

    def rr(self, name, rrtype, hexdata):
        self.args.append(f"--dns-rr={name},{rrtype},{hexdata}")
        return self

    # running ---------------------------------------------------------
    def start(self, timeout=10):
        last = ""
        for _ in range(5):
            self.port = _free_port(self.ipv6)
            cmd = [DNSMASQ, "--keep-in-foreground", "--conf-file=/dev/null", "--no-resolv",
                   "--no-hosts", "--no-poll", "--bind-interfaces", "--listen-address=127.0.0.1",
                   *(["--listen-address=::1"] if self.ipv6 else []), f"--port={self.port}", "--local=/test/", "--pid-file=",
                   "--log-facility=-", "--log-queries", "--cache-size=0", "--local-ttl=0"]
            if os.getuid() == 0:
                cmd.append("--user=nobody")
            self.log = open(self.logpath, "ab")
            self.proc = subprocess.Popen(cmd + self.args, stdin=subprocess.DEVNULL,
                                         stdout=self.log, stderr=subprocess.STDOUT,
                                         start_new_session=True)
            if self._ready(timeout):
                return self
            last = self.logtext()
            self.stop()
        raise RuntimeError("dnsmasq did not start:\n" + last)

    def _ready(self, timeout):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                return False
            try:
                # any answer will do: the server is up and reads UDP
                query("127.0.0.1", self.port, "ready-probe.test", A, timeout=0.05)
                if self.ipv6:
                    query("::1", self.port, "ready-probe.test", A, timeout=0.05)
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    pass
                return True
            except OSError:
                time.sleep(0.05)
        return False

    def address(self, ipv6=False):
        """a control/dnsservers line"""
        return f"[::1]:{self.port}" if ipv6 else f"127.0.0.1:{self.port}"

    def write_dnsservers(self, home):
        """control/dnsservers of a home (a directory path, or an object
        with .dir) pointing at this server"""
        d = getattr(home, "dir", home)
        with open(os.path.join(d, "control", "dnsservers"), "w") as f:
            f.write(self.address() + "\n")

    def query(self, name, rrtype, tcp=False, ipv6=False):
        return query("::1" if ipv6 else "127.0.0.1", self.port, name, rrtype, tcp=tcp)

    def logtext(self):
        try:
            with open(self.logpath, "rb") as f:
                return f.read().decode(errors="replace")
        except FileNotFoundError:
            return ""

    def stop(self):
        if self.proc:
            # the group: dnsmasq forks a child per TCP connection
            try:
                os.killpg(self.proc.pid, 15)
            except ProcessLookupError:
                pass
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, 9)
                self.proc.wait()
            self.proc = None
        if getattr(self, "log", None):
            self.log.close()
            self.log = None

    def cleanup(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


# a minimal DNS client ------------------------------------------------------

def _encode_name(name):
    out = b""
    for label in name.rstrip(".").split("."):
        if label:
            out += bytes([len(label)]) + label.encode()
    return out + b"\0"


def _read_name(msg, off):
    """(name, offset after it), following compression pointers"""
    labels = []
    end = None
    for _ in range(128):
        n = msg[off]
        if n & 0xC0 == 0xC0:
            if end is None:
                end = off + 2
            off = ((n & 0x3F) << 8) | msg[off + 1]
            continue
        off += 1
        if n == 0:
            break
        labels.append(msg[off:off + n].decode("ascii", "replace"))
        off += n
    else:
        raise ValueError("name loop")
    return ".".join(labels), (end if end is not None else off)


def query(server, port, name, rrtype, timeout=2.0, tcp=False):
    """one query with RD; returns (rcode, [(type, value)]) of the answer
    section: A/AAAA as address text, MX as (pref, exchange) with "" for
    the root, anything else as raw RDATA bytes"""
    qid = random.randrange(65536)
    packet = struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 0) + _encode_name(name) \
        + struct.pack(">HH", rrtype, 1)
    if tcp:
        with socket.create_connection((server, port), timeout=timeout) as s:
            s.sendall(struct.pack(">H", len(packet)) + packet)
            buf = b""
            while len(buf) < 2 or len(buf) < 2 + struct.unpack(">H", buf[:2])[0]:
                chunk = s.recv(65536)
                if not chunk:
                    raise OSError("DNS TCP connection closed")
                buf += chunk
            msg = buf[2:]
    else:
        fam = socket.AF_INET6 if ":" in server else socket.AF_INET
        with socket.socket(fam, socket.SOCK_DGRAM) as s:
            s.settimeout(timeout)
            s.sendto(packet, (server, port))
            while True:
                msg, _ = s.recvfrom(65536)
                if msg[:2] == packet[:2]:
                    break
    rid, flags, qd, an, _, _ = struct.unpack(">HHHHHH", msg[:12])
    rcode = flags & 0xF
    off = 12
    for _ in range(qd):
        _, off = _read_name(msg, off)
        off += 4
    answers = []
    for _ in range(an):
        _, off = _read_name(msg, off)
        t, _, _, rdlen = struct.unpack(">HHIH", msg[off:off + 10])
        off += 10
        rdata = msg[off:off + rdlen]
        if t == A:
            answers.append((t, socket.inet_ntop(socket.AF_INET, rdata)))
        elif t == AAAA:
            answers.append((t, socket.inet_ntop(socket.AF_INET6, rdata)))
        elif t == MX:
            pref = struct.unpack(">H", rdata[:2])[0]
            answers.append((t, (pref, _read_name(msg, off + 2)[0])))
        else:
            answers.append((t, rdata))
        off += rdlen
    return rcode, answers
