"""The PROXY protocol: proxy_parse (v1 and v2) and control/proxyfrom
through build/unit/proxy_test, and proxy-header for real: tcpserver runs
it in front of smtpd, behind Debian's haproxy (send-proxy and
send-proxy-v2), clients bound to 127.0.0.5 and others."""
import os
import re
import socket
import struct
import subprocess
import tempfile
import unittest

import harness
from test_smtpd import SMTPD, TRUSTED, STRANGER, RELAYED, RULES, Server, SmtpdCase, message

PROXY_TEST = os.path.join(harness.UNIT, "proxy_test")
PROXY_HEADER = os.path.join(harness.BIN, "proxy-header")
# a client that is neither the balancer nor a relay client in RULES
CLIENT = "127.0.0.5"
# a client the rules deny
DENIED = "127.0.0.6"
V2SIG = b"\r\n\r\n\x00\r\nQUIT\n"


def logged_ip(log, ip):
    """smtpd's start line names ip"""
    return re.search(r"^start pid \d+ ip %s[ \n]" % re.escape(ip), log, re.M) is not None


def closed(r):
    """the server closed without a word (a reset if our bytes were unread)"""
    try:
        return r.reply() == (None, [])
    except ConnectionResetError:
        return True


def parse(data):
    p = subprocess.run([PROXY_TEST], input=data, capture_output=True, timeout=30)
    assert p.returncode == 0, p.stderr
    out = p.stdout.decode().split()
    if out in (["bad"], ["more"]):
        return out[0]
    d = dict(zip(out[0::2], out[1::2]))
    for k in ("len", "local", "v6", "sport", "dport"):
        d[k] = int(d[k])
    return d


def v2(cmd, fam, addrs, tlv=b""):
    body = addrs + tlv
    return V2SIG + bytes([0x20 | cmd, fam]) + struct.pack("!H", len(body)) + body


def v2_tcp4(src, dst, sport, dport, tlv=b""):
    return v2(1, 0x11, socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack("!HH", sport, dport), tlv)


def v2_tcp6(src, dst, sport, dport):
    return v2(1, 0x21, socket.inet_pton(socket.AF_INET6, src) + socket.inet_pton(socket.AF_INET6, dst)
              + struct.pack("!HH", sport, dport))


class ParserTest(unittest.TestCase):
    def check(self, header, **want):
        """header parses to want, followed by bytes it must not take, and
        every shorter beginning asks for more"""
        got = parse(header + b"EHLO client.test\r\n")
        self.assertIsInstance(got, dict, header)
        self.assertEqual(got["len"], len(header))
        for k, v in want.items():
            self.assertEqual(got[k], v, (k, header))
        for n in range(1, len(header)):
            self.assertEqual(parse(header[:n]), "more", header[:n])
        return got

    def test_v1_tcp4(self):
        self.check(b"PROXY TCP4 192.0.2.1 198.51.100.2 51234 25\r\n", local=0, v6=0, src="192.0.2.1",
                   dst="198.51.100.2", sport=51234, dport=25)
        self.check(b"PROXY TCP4 0.0.0.0 255.255.255.255 0 65535\r\n", sport=0, dport=65535)

    def test_v1_tcp6_canonical(self):
        self.check(b"PROXY TCP6 2001:DB8:0:0::1 ::ffff:192.0.2.1 1 25\r\n", local=0, v6=1, src="2001:db8::1",
                   dst="::ffff:192.0.2.1", sport=1, dport=25)

    def test_v1_unknown(self):
        self.check(b"PROXY UNKNOWN\r\n", local=1, src="-")
        self.check(b"PROXY UNKNOWN ffff:f...f:ffff ffff:f...f:ffff 65535 65535\r\n", local=1)

    def test_v2_proxy(self):
        self.check(v2_tcp4("192.0.2.1", "198.51.100.2", 51234, 25), local=0, v6=0, src="192.0.2.1",
                   dst="198.51.100.2", sport=51234, dport=25)
        # TLVs (here a NOOP and an ALPN) are part of the header
        self.check(v2_tcp4("10.1.2.3", "10.0.0.1", 1, 587, tlv=b"\x04\x00\x02ab\x01\x00\x04smtp"), src="10.1.2.3",
                   dport=587)
        self.check(v2_tcp6("2001:db8::7", "2001:db8::1", 40000, 25), local=0, v6=1, src="2001:db8::7",
                   dst="2001:db8::1", sport=40000, dport=25)

    def test_v2_local_and_unspec(self):
        self.check(v2(0, 0x00, b""), local=1, src="-")
        # LOCAL with addresses: still nobody named
        self.check(v2(0, 0x11, bytes(12)), local=1, src="-")
        self.check(v2(1, 0x00, b""), local=1, src="-")

    def test_garbage(self):
        for data in (b"EHLO client.test\r\n", b"proxy TCP4 1.2.3.4 1.2.3.4 1 2\r\n", b"\x00", b"GET / HTTP/1.0\r\n",
                     b"\r\n\r\n\x00\r\nQUIX\n\x21\x11\x00\x0c" + bytes(12), b"PROXY\r\n", b"PROXY TCP4\r\n"):
            with self.subTest(data=data):
                self.assertEqual(parse(data), "bad")

    def test_v1_too_long(self):
        # 107 bytes at most, CR LF included
        line = b"PROXY TCP6 " + b"0:" * 20 + b":1 ::1 1 2"
        self.assertEqual(parse(line + b"\r\n"), "bad")
        self.assertEqual(parse(b"PROXY UNKNOWN " + b"x" * 200), "bad")
        self.assertEqual(parse(b"PROXY TCP4 " + b"1" * 95), "more")
        self.assertEqual(parse(b"PROXY TCP4 " + b"1" * 96), "bad")

    def test_v1_bad_fields(self):
        for line in (b"PROXY TCP4 1.2.3.4 5.6.7.8 65536 25", b"PROXY TCP4 1.2.3.4 5.6.7.8 025 25",
                     b"PROXY TCP4 1.2.3.4 5.6.7.8 -1 25", b"PROXY TCP4 1.2.3.4 5.6.7.8 a 25",
                     b"PROXY TCP4 1.2.3.4 5.6.7.8 1 ", b"PROXY TCP4 1.2.3.4 5.6.7.8 1",
                     b"PROXY TCP4 1.2.3.4 5.6.7.8 1 2 3", b"PROXY TCP4 1.2.3.4  5.6.7.8 1 2",
                     b"PROXY TCP4 256.1.1.1 5.6.7.8 1 2", b"PROXY TCP4 1.2.3 5.6.7.8 1 2",
                     b"PROXY TCP4 ::1 5.6.7.8 1 2", b"PROXY TCP6 1.2.3.4 ::1 1 2", b"PROXY TCP6 ::g ::1 1 2",
                     b"PROXY UDP4 1.2.3.4 5.6.7.8 1 2", b"PROXY TCP4 1.2.3.4\0x 5.6.7.8 1 2",
                     b"PROXY TCP6 ::1 ::2\0 1 2"):
            with self.subTest(line=line):
                self.assertEqual(parse(line + b"\r\n"), "bad")
        # a bare LF
        self.assertEqual(parse(b"PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n"), "bad")

    def test_v2_bad(self):
        good = v2_tcp4("1.2.3.4", "5.6.7.8", 1, 2)
        for data in (good[:12] + b"\x11" + good[13:],              # version 1
                     good[:12] + b"\x22" + good[13:],              # command 2
                     good[:13] + b"\x12" + good[14:],              # UDP
                     good[:13] + b"\x31" + good[14:],              # unix socket
                     v2(1, 0x11, bytes(8)),                        # too short for TCP4
                     v2(1, 0x21, bytes(12)),                       # too short for TCP6
                     V2SIG + b"\x21\x11" + struct.pack("!H", 513)):  # longer than we take
            with self.subTest(data=data):
                self.assertEqual(parse(data + bytes(600)), "bad")


class ProxyfromTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp()
        self.path = os.path.join(self.dir, "proxyfrom")

    def tearDown(self):
        import shutil
        shutil.rmtree(self.dir)

    def match(self, text, *ips):
        if text is not None:
            with open(self.path, "w") as f:
                f.write(text)
        p = subprocess.run([PROXY_TEST, self.path] + list(ips), capture_output=True, text=True, timeout=30)
        self.assertEqual(p.returncode, 0, p.stderr)
        if p.stdout.startswith("load "):
            return p.stdout.strip()
        return {line.split()[0]: line.split()[1] == "match" for line in p.stdout.splitlines()}

    def test_cidrs(self):
        text = ("# the balancers\n\n10.0.0.0/8\n  192.0.2.7  \n198.51.100.128/25\r\n"
                "2001:db8::/32\n# 203.0.113.1\n::1\n")
        got = self.match(text, "10.255.1.2", "11.0.0.1", "192.0.2.7", "192.0.2.8", "198.51.100.200",
                         "198.51.100.127", "2001:db8:ffff::1", "2001:db9::1", "::1", "::2", "203.0.113.1",
                         "::ffff:10.0.0.1")
        self.assertEqual(got, {"10.255.1.2": True, "11.0.0.1": False, "192.0.2.7": True, "192.0.2.8": False,
                               "198.51.100.200": True, "198.51.100.127": False, "2001:db8:ffff::1": True,
                               "2001:db9::1": False, "::1": True, "::2": False, "203.0.113.1": False,
                               "::ffff:10.0.0.1": True})

    def test_everyone_and_no_one(self):
        self.assertEqual(self.match("0.0.0.0/0\n", "1.2.3.4", "::1"), {"1.2.3.4": True, "::1": False})
        self.assertEqual(self.match("", "1.2.3.4"), {"1.2.3.4": False})
        os.unlink(self.path)
        self.assertEqual(self.match(None, "1.2.3.4", "::1"), {"1.2.3.4": False, "::1": False})

    def test_bad_lines(self):
        for line in ("10.0.0.0/33", "2001:db8::/129", "10.0.0.1/", "10.0.0", "balancer.example", "10.0.0.1 10.0.0.2",
                     "::g", "1.2.3.4/8x"):
            with self.subTest(line=line):
                self.assertEqual(self.match(f"# ok\n127.0.0.1\n{line}\n", "127.0.0.1"), "load errno EINVAL line 3")


class ProxyServer(Server):
    """tcpserver, proxy-header (-t 2, the same rules), smtpd; 127.0.0.1
    is the balancer"""

    def argv(self):
        return super().argv()[:-1] + [PROXY_HEADER, "-t", "2", "-x", self.home.path("rules.cdb"), SMTPD]

    # from a non-balancer: the balancer would owe a header
    ready_source = STRANGER

    def rules(self, text):
        with open(self.home.path("rules.txt"), "w") as f:
            f.write(text)
        subprocess.run(["tcprules", self.home.path("rules.cdb"), self.home.path("rules.tmp")],
                       stdin=open(self.home.path("rules.txt")), check=True)


class ProxyHeaderCase(SmtpdCase):
    controls = {"proxyfrom": "# the balancer\n127.0.0.1/32\n"}
    server = ProxyServer

    def smtp_to(self, port, source):
        import smtplib
        s = smtplib.SMTP(TRUSTED, port, local_hostname="client.test", source_address=(source, 0), timeout=20)
        self.addCleanup(s.close)
        return s

    def through(self, option, source):
        """one message to demo and one relay attempt from source through
        haproxy: the relay attempt's reply code"""
        hap = harness.HAProxy(self.srv.port, option)
        self.addCleanup(hap.cleanup)
        s = self.smtp_to(hap.port, source)
        self.assertEqual(s.ehlo()[0], 250)
        s.sendmail("a@client.test", ["demo@example.test"], message(option))
        s.mail("a@client.test")
        code = s.rcpt("user@other.test")[0]
        s.quit()
        return code


class HAProxyTest(ProxyHeaderCase):
    def check_client(self, option):
        self.assertEqual(self.through(option, CLIENT), 554)
        (_, _, body), = self.assertQueued(1)
        line = body.split(b"\n")[1].decode()
        self.assertTrue(line.startswith(f"Received: from client.test ({CLIENT}) by test.me with ESMTP; "), line)
        log = self.srv.logtext()
        self.assertTrue(logged_ip(log, CLIENT), log)
        self.assertFalse(logged_ip(log, TRUSTED), log)
        self.assertIn(f"proxy-header: client {CLIENT} via {TRUSTED}\n", log)
        self.assertIn("554 5.7.1 relaying denied", log)

    def test_send_proxy_v1(self):
        self.check_client("send-proxy")

    def test_send_proxy_v2(self):
        self.check_client("send-proxy-v2")

    def test_relay_client_by_its_own_rule(self):
        # 127.0.0.3 relays by the rules: through the balancer too
        self.assertEqual(self.through("send-proxy-v2", RELAYED), 250)
        # the message to demo; the relay recipient had no DATA
        self.assertQueued(1)
        self.assertTrue(logged_ip(self.srv.logtext(), RELAYED))

    def test_denied_client_dropped(self):
        self.srv.rules(f"{DENIED}:deny\n" + RULES)
        hap = harness.HAProxy(self.srv.port, "send-proxy")
        self.addCleanup(hap.cleanup)
        with socket.create_connection((TRUSTED, hap.port), timeout=20, source_address=(DENIED, 0)) as s:
            self.assertEqual(s.recv(100), b"")
        self.assertTrue(harness.wait_for(lambda: f"proxy-header: deny {DENIED} via {TRUSTED}\n" in self.srv.logtext(), 10),
                        self.srv.logtext())
        self.assertQueued(0)


class BalancerTest(ProxyHeaderCase):
    def test_no_header_dropped_after_timeout(self):
        with socket.create_connection((TRUSTED, self.srv.port), timeout=30) as s:
            # no greeting: the header is owed first; then closed
            self.assertEqual(s.recv(100), b"")
        self.assertIn(f"proxy-header: no PROXY header from {TRUSTED} within 2 seconds\n", self.srv.logtext())
        self.assertFalse(logged_ip(self.srv.logtext(), TRUSTED))

    def test_bad_header_dropped(self):
        r = self.srv.raw(TRUSTED)
        self.addCleanup(r.close)
        r.send(b"EHLO client.test\r\n")
        self.assertTrue(closed(r))
        self.assertIn(f"proxy-header: bad PROXY header from {TRUSTED}\n", self.srv.logtext())

    def test_header_then_pipelined_commands(self):
        # what follows the header at once is smtpd's, byte for byte
        r = self.srv.raw(TRUSTED)
        self.addCleanup(r.close)
        r.send(v2_tcp4(CLIENT, TRUSTED, 40000, 25) + b"EHLO client.test\r\n")
        self.assertEqual(r.reply()[0], 220)
        self.assertEqual(r.reply()[0], 250)
        r.send(b"QUIT\r\n")
        self.assertEqual(r.reply()[0], 221)
        self.assertTrue(logged_ip(self.srv.logtext(), CLIENT))

    def test_local_header_keeps_the_balancer(self):
        r = self.srv.raw(TRUSTED)
        self.addCleanup(r.close)
        r.send(v2(0, 0, b""))
        self.assertEqual(r.reply()[0], 220)
        r.send(b"QUIT\r\n")
        self.assertEqual(r.reply()[0], 221)
        self.assertTrue(logged_ip(self.srv.logtext(), TRUSTED))

    def test_non_balancer_served_directly(self):
        s = self.srv.smtp(STRANGER)
        self.addCleanup(s.close)
        s.ehlo()
        s.sendmail("a@client.test", ["demo@example.test"], message("direct"))
        # a header from a non-balancer is no header: an unknown command
        self.assertEqual(s.docmd("PROXY TCP4 192.0.2.1 127.0.0.1 1 25")[0] // 100, 5)
        s.quit()
        (_, _, body), = self.assertQueued(1)
        self.assertIn(f"({STRANGER}) by test.me".encode(), body.split(b"\n")[1])
        self.assertTrue(logged_ip(self.srv.logtext(), STRANGER))
        self.assertNotIn("proxy-header:", self.srv.logtext())


class ExitCodeTest(unittest.TestCase):
    def run_ph(self, args, remote="127.0.0.1", data=b""):
        env = dict(os.environ, TCPREMOTEIP=remote, RELAYCLIENT="")
        return subprocess.run([PROXY_HEADER] + args, input=data, env=env, capture_output=True, timeout=30)

    def test_codes(self):
        with tempfile.TemporaryDirectory() as d:
            pf = os.path.join(d, "proxyfrom")
            with open(pf, "w") as f:
                f.write("127.0.0.1\n10.0.0/8\n")
            self.assertEqual(self.run_ph([]).returncode, 100)
            self.assertEqual(self.run_ph(["-t", "x", "true"]).returncode, 100)
            p = self.run_ph(["-f", pf, "true"])
            self.assertEqual(p.returncode, 111)
            self.assertIn(b"line 2", p.stderr)
            with open(pf, "w") as f:
                f.write("127.0.0.1\n")
            hdr = b"PROXY TCP4 192.0.2.1 127.0.0.1 1 25\r\n"
            p = self.run_ph(["-f", pf, "-x", os.path.join(d, "none.cdb"), "true"], data=hdr)
            self.assertEqual(p.returncode, 111)
            # the variables smtpd gets; RELAYCLIENT (the balancer's) gone
            subprocess.run(["tcprules", os.path.join(d, "rules.cdb"), os.path.join(d, "rules.tmp")],
                           input=b'192.0.2.:allow,GREETING="hi",RELAYCLIENT="x"\n127.0.0.1:allow,RELAYCLIENT=""\n', check=True)
            p = self.run_ph(["-f", pf, "-x", os.path.join(d, "rules.cdb"), "env"], data=hdr)
            self.assertEqual(p.returncode, 0, p.stderr)
            env = dict(line.split("=", 1) for line in p.stdout.decode().splitlines())
            self.assertEqual((env["TCPREMOTEIP"], env["TCPREMOTEPORT"], env["TCPLOCALIP"], env["TCPLOCALPORT"],
                              env["PROXYFROM"], env["GREETING"]), ("192.0.2.1", "1", "127.0.0.1", "25", "127.0.0.1", "hi"))
            self.assertEqual(env["RELAYCLIENT"], "x")
            subprocess.run(["tcprules", os.path.join(d, "rules.cdb"), os.path.join(d, "rules.tmp")],
                           input=b'192.0.2.:allow,GREETING="hi"\n127.0.0.1:allow,RELAYCLIENT=""\n', check=True)
            p = self.run_ph(["-f", pf, "-x", os.path.join(d, "rules.cdb"), "env"], data=hdr)
            self.assertNotIn(b"RELAYCLIENT", p.stdout)
            self.assertIn(b"GREETING=hi\n", p.stdout)
            # not a balancer: untouched
            p = self.run_ph(["-f", pf, "env"], remote="127.0.0.2", data=hdr)
            self.assertIn(b"RELAYCLIENT=\n", p.stdout)
            self.assertNotIn(b"PROXYFROM", p.stdout)


    def test_ipv6_balancer_and_client(self):
        with tempfile.TemporaryDirectory() as d:
            pf = os.path.join(d, "proxyfrom")
            with open(pf, "w") as f:
                f.write("2001:db8:1::/48\n")
            hdr = v2_tcp6("2001:db8::7", "2001:db8:1::25", 40000, 25) + b"EHLO"
            p = self.run_ph(["-f", pf, "sh", "-c", "env ; cat"], remote="2001:db8:1::9", data=hdr)
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertIn(b"TCPREMOTEIP=2001:db8::7\n", p.stdout)
            self.assertIn(b"TCPLOCALIP=2001:db8:1::25\n", p.stdout)
            self.assertIn(b"PROXYFROM=2001:db8:1::9\n", p.stdout)
            self.assertTrue(p.stdout.endswith(b"\nEHLO"), p.stdout[-100:])

if __name__ == "__main__":
    unittest.main()
