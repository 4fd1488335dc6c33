"""remote run directly, as rspawn runs it: a temporary home (POSTERN_HOME)
whose control/dnsservers points at a real dnsmasq (tests/dnsserver.py)
with the test's records, the body as fd 0, the NUL-framed record read
from fd 1. The servers (tests/receiver.py) listen on 127.x.y.z port 25
(an MX has no port, so this needs root) or on ::1: aiosmtpd receivers
answering as scripted, and plain servers for what aiosmtpd cannot do
(bad greetings, silence, a probe for pipelining). What is checked is
what reaches the servers and each recipient's K/Z/D and text."""
import os
import re
import socket
import subprocess
import time
import unittest

import dnsserver
import harness
import receiver
from dnsserver import DNSServer
from harness import Home
from receiver import GreetingServer, ProbeServer, Receiver, SilentServer, refusing_address

REMOTE = os.path.join(harness.BIN, "remote")
TABLE_COMPILE = os.path.join(harness.BIN, "table-compile")
SENDER = "alice@src.test"
BODY = (b"Received: (postern 1 invoked by uid 0); 1 Jan 2026 00:00:00 -0000\n"
        b"From: alice@src.test\nTo: bob@d.test\nSubject: remote test\n"
        b"Message-ID: <1@src.test>\n\nhello over SMTP\n")
EIGHTBIT = BODY.replace(b"hello over SMTP", "h\u00e9llo \u00fcber SMTP".encode())


def wire(body):
    """the body as the server must get it once dot-stuffing is undone:
    every CR LF, LF and bare CR a CR LF, the last line ended"""
    b = body.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
    if b and not b.endswith(b"\n"):
        b += b"\n"
    return b.replace(b"\n", b"\r\n")


class Run:
    def __init__(self, rc, out, err, took):
        self.rc, self.out, self.err, self.took = rc, out, err, took
        self.results = []

    def __repr__(self):
        return f"exit {self.rc} after {self.took:.1f}s out {self.out!r} err {self.err!r}"


def parse(run, n):
    """remote's record: n fields, each K, Z or D and a text, ended by a
    NUL, then an empty field; a text at most 1000 bytes, no line break"""
    out = run.out
    assert out.endswith(b"\0\0"), run
    fields = out[:-2].split(b"\0")
    assert len(fields) == n, run
    res = []
    for f in fields:
        assert f[:1] in (b"K", b"Z", b"D"), run
        text = f[1:]
        assert len(text) <= 1000, (len(text), run)
        assert b"\n" not in text and b"\r" not in text, run
        res.append((f[:1].decode(), text.decode("utf-8", "replace")))
    return res


@unittest.skipUnless(dnsserver.available(), "no /usr/sbin/dnsmasq (package dnsmasq-base)")
class DNSFixtureTest(unittest.TestCase):
    """the fixture answers what the remote tests rely on, over UDP and
    TCP: so a failure below is remote's, not dnsmasq's"""

    def test_records(self):
        dns = DNSServer()
        self.addCleanup(dns.cleanup)
        dns.mx("d.test", "mx2.d.test", 20).mx("d.test", "mx1.d.test", 10)
        dns.host("mx1.d.test", "127.9.9.1").host("mx2.d.test", "127.9.9.2", "::1")
        dns.host("plain.test", "127.9.9.3").null_mx("null.test")
        dns.start()
        for tcp in (False, True):
            with self.subTest(tcp=tcp):
                q = lambda name, t: dns.query(name, t, tcp=tcp)  # noqa: E731
                rcode, ans = q("d.test", dnsserver.MX)
                self.assertEqual((rcode, sorted(ans)), (0, [(dnsserver.MX, (10, "mx1.d.test")),
                                                            (dnsserver.MX, (20, "mx2.d.test"))]))
                self.assertEqual(q("mx1.d.test", dnsserver.A), (0, [(dnsserver.A, "127.9.9.1")]))
                self.assertEqual(q("mx1.d.test", dnsserver.AAAA), (0, []))
                self.assertEqual(q("mx2.d.test", dnsserver.AAAA), (0, [(dnsserver.AAAA, "::1")]))
                self.assertEqual(q("plain.test", dnsserver.MX), (0, []))
                self.assertEqual(q("null.test", dnsserver.MX), (0, [(dnsserver.MX, (0, ""))]))
                self.assertEqual(q("nosuch.test", dnsserver.A)[0], dnsserver.NXDOMAIN)
                self.assertEqual(q("nosuch.test", dnsserver.MX)[0], dnsserver.NXDOMAIN)


@unittest.skipUnless(dnsserver.available(), "no /usr/sbin/dnsmasq (package dnsmasq-base)")
@unittest.skipUnless(receiver.can_listen_25(), "an MX is reached on port 25: needs root")
class RemoteCase(unittest.TestCase):
    # one home a class (mkhome.sh takes seconds on a loaded machine):
    # remote reads only control/, emptied for each test
    @classmethod
    def setUpClass(cls):
        cls.home = Home()

    @classmethod
    def tearDownClass(cls):
        cls.home.cleanup()

    def setUp(self):
        control = self.home.path("control")
        for name in os.listdir(control):
            os.unlink(os.path.join(control, name))
        self.home.control("me", "postern.test\n")
        self.home.control("timeoutconnect", "2\n")
        self.home.control("timeoutremote", "5\n")
        self.home.control("timeoutdns", "5\n")
        self.dns = DNSServer()
        self.addCleanup(self.dns.cleanup)

    def server(self, cls=Receiver, *a, **kw):
        s = cls(*a, **kw).start()
        self.addCleanup(s.stop)
        return s

    def mx(self, domain, *hosts):
        """hosts: (preference, name, address...)"""
        for pref, name, *addrs in hosts:
            self.dns.mx(domain, name, pref)
            if addrs:
                self.dns.host(name, *addrs)

    def start_dns(self):
        self.dns.start()
        self.dns.write_dnsservers(self.home)

    def routes(self, text):
        self.home.control("routes", text)
        subprocess.run([TABLE_COMPILE, self.home.path("control", "routes")], check=True)

    def run_remote(self, args, body=BODY, timeout=60):
        path = self.home.path("body")
        with open(path, "wb") as f:
            f.write(body)
        start = time.monotonic()
        with open(path, "rb") as f:
            p = subprocess.run([REMOTE, *args], stdin=f, capture_output=True, env=self.home.env,
                               timeout=timeout)
        return Run(p.returncode, p.stdout, p.stderr.decode(errors="replace"), time.monotonic() - start)

    def remote(self, domain, rcpts, body=BODY, sender=SENDER, timeout=60):
        """runs remote, checks its exit and record; returns the Run with
        .results [(letter, text)] in recipient order"""
        run = self.run_remote([domain, sender, *rcpts], body, timeout)
        self.assertEqual(run.rc, 0, run)
        run.results = parse(run, len(rcpts))
        return run

    def assertResults(self, run, letters):
        self.assertEqual("".join(x for x, _ in run.results), letters, run)

    def assertServer(self, text, host, srv, rest):
        """text is "host[ip] (no TLS) rest..." (a port after the ] allowed
        when it is not 25; these servers offer no STARTTLS)"""
        port = "" if srv.port == 25 else f"(:{srv.port})?"
        self.assertRegex(text, "^" + re.escape(f"{host}[{srv.ip}]") + port + r" \(no TLS\) " + re.escape(rest))


class SlowServer(receiver._Stream):
    """a small SMTP server that answers every command, and greets, after
    delay seconds: each reply in time, the session slow"""

    def __init__(self, delay, host=None, port=25):
        super().__init__(host, port)
        self.delay = delay

    async def serve(self, reader, writer, conn):
        import asyncio

        async def say(text):
            await asyncio.sleep(self.delay)
            writer.write(text.encode() + b"\r\n")
            await writer.drain()
        await say("220 slow.test")
        while True:
            line = await reader.readline()
            if not line:
                return
            verb = line[:4].upper()
            if verb == b"DATA":
                await say("354 go on")
                while (await reader.readline()) not in (b".\r\n", b""):
                    pass
            if verb == b"QUIT":
                await say("221 bye")
                return
            await say("250 ok")


class DestinationTest(RemoteCase):
    """where the message goes: MX, implicit MX, IPv6, literals, DNS
    errors"""

    def test_lowest_mx_preference_first(self):
        rx1, rx2 = self.server(name="mx1"), self.server(name="mx2")
        # dnsmasq answers the 20 first: remote must sort
        self.mx("d.test", (20, "mx2.d.test", rx2.ip), (10, "mx1.d.test", rx1.ip))
        self.start_dns()
        for i in range(3):
            run = self.remote("d.test", ["bob@d.test", "carol@d.test"])
            self.assertResults(run, "KK")
            for _, text in run.results:
                self.assertEqual(text, f"mx1.d.test[{rx1.ip}] (no TLS) accepted: 250 2.0.0 ok: queued as mx1-{i + 1}")
        self.assertEqual(rx2.connections, 0)
        self.assertEqual(len(rx1.messages), 3)
        m = rx1.messages[0]
        # one transaction for both recipients, the body exactly, no header added
        self.assertEqual((m.sender, m.rcpts), (SENDER, ["bob@d.test", "carol@d.test"]))
        self.assertEqual(m.data, wire(BODY))
        self.assertEqual(m.helo, "postern.test")
        self.assertEqual(rx1.command_names(1), ["EHLO", "MAIL", "RCPT", "RCPT", "DATA", "QUIT"])

    def test_next_mx_when_first_refuses(self):
        dead = refusing_address()
        rx = self.server(name="mx2")
        self.mx("d.test", (10, "mx1.d.test", dead), (20, "mx2.d.test", rx.ip))
        self.start_dns()
        run = self.remote("d.test", ["bob@d.test"])
        self.assertResults(run, "K")
        self.assertTrue(run.results[0][1].startswith(f"mx2.d.test[{rx.ip}] (no TLS) accepted: 250 "), run)
        self.assertEqual(len(rx.messages), 1)

    def test_next_mx_when_first_has_no_address(self):
        rx = self.server()
        self.mx("d.test", (10, "gone.d.test"), (20, "mx2.d.test", rx.ip))
        self.start_dns()
        run = self.remote("d.test", ["bob@d.test"])
        self.assertResults(run, "K")
        self.assertEqual(len(rx.messages), 1)

    def test_all_hosts_refuse_is_temporary_with_the_last_error(self):
        dead1, dead2 = refusing_address(), refusing_address()
        self.mx("d.test", (10, "mx1.d.test", dead1), (20, "mx2.d.test", dead2))
        self.start_dns()
        run = self.remote("d.test", ["bob@d.test", "carol@d.test"])
        self.assertResults(run, "ZZ")
        for _, text in run.results:
            # the spec: "4.4.1 connect to host[ip]:port: Connection refused",
            # marked as the destination's failure for send
            self.assertTrue(text.startswith(f"4.4.1 connect to mx2.d.test[{dead2}]"), run)
            self.assertTrue(text.endswith(": Connection refused [no usable host]"), run)

    def test_implicit_mx_without_mx_records(self):
        rx = self.server()
        self.dns.host("d.test", rx.ip)
        self.start_dns()
        self.assertEqual(self.dns.query("d.test", dnsserver.MX), (0, []))  # NODATA
        run = self.remote("d.test", ["bob@d.test"])
        self.assertResults(run, "K")
        self.assertTrue(run.results[0][1].startswith(f"d.test[{rx.ip}] (no TLS) accepted: 250 "), run)
        self.assertEqual(rx.messages[0].rcpts, ["bob@d.test"])

    @unittest.skipUnless(receiver.ipv6_loopback_free(), "::1 port 25 taken or no IPv6")
    def test_ipv6_address_before_ipv4(self):
        rx4, rx6 = self.server(name="v4"), self.server(Receiver, "::1", name="v6")
        self.mx("d.test", (10, "mx.d.test", rx4.ip, "::1"))
        self.start_dns()
        run = self.remote("d.test", ["bob@d.test"])
        self.assertResults(run, "K")
        self.assertTrue(run.results[0][1].startswith("mx.d.test[::1] (no TLS) accepted: 250 "), run)
        self.assertEqual(rx6.messages[0].peer[0], "::1")
        self.assertEqual(rx6.messages[0].data, wire(BODY))
        self.assertEqual(rx4.connections, 0)

    @unittest.skipUnless(receiver.ipv6_loopback_free(), "::1 port 25 taken or no IPv6")
    def test_ipv4_when_ipv6_refuses(self):
        rx4 = self.server()
        self.mx("d.test", (10, "mx.d.test", rx4.ip, "::1"))
        self.start_dns()
        run = self.remote("d.test", ["bob@d.test"])
        self.assertResults(run, "K")
        self.assertTrue(run.results[0][1].startswith(f"mx.d.test[{rx4.ip}] (no TLS) accepted"), run)

    @unittest.skipUnless(receiver.ipv6_loopback_free(), "::1 port 25 taken or no IPv6")
    def test_ipv6_only_host(self):
        rx6 = self.server(Receiver, "::1")
        self.mx("d.test", (10, "mx6.d.test", "::1"))
        self.start_dns()
        run = self.remote("d.test", ["bob@d.test"])
        self.assertResults(run, "K")
        self.assertEqual(len(rx6.messages), 1)

    def silent_dns(self):
        """control/dnsservers at a UDP socket that never answers: any
        lookup times out"""
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(("127.0.0.1", 0))
        self.addCleanup(s.close)
        self.home.control("dnsservers", "127.0.0.1:%d\n" % s.getsockname()[1])
        return s

    def test_bad_dnsservers_line_defers(self):
        """a line of control/dnsservers that is no server: every
        recipient deferred with 4.3.5, no lookup with the other lines"""
        self.start_dns()
        self.home.control("dnsservers", self.dns.address() + "\nresolver.test\n")
        run = self.remote("d.test", ["bob@d.test", "eve@d.test"])
        for letter, text in run.results:
            self.assertEqual(letter, "Z", run)
            self.assertTrue(text.startswith("4.3.5 a line of control/dnsservers is not ip, ip:port or [ip6]:port"), run)

    def test_address_literal_domain_needs_no_dns(self):
        rx = self.server()
        self.silent_dns()
        run = self.remote(f"[{rx.ip}]", [f"bob@[{rx.ip}]"])
        self.assertResults(run, "K")
        self.assertLess(run.took, 3, "a DNS lookup for an address literal")
        self.assertEqual(rx.messages[0].rcpts, [f"bob@[{rx.ip}]"])

    @unittest.skipUnless(receiver.ipv6_loopback_free(), "::1 port 25 taken or no IPv6")
    def test_ipv6_literal_domain_lowercased(self):
        # rspawn lowercases the domain: "[IPv6:::1]" comes as "[ipv6:::1]"
        rx6 = self.server(Receiver, "::1")
        self.silent_dns()
        run = self.remote("[ipv6:::1]", ["bob@[IPv6:::1]"])
        self.assertResults(run, "K")
        self.assertEqual(rx6.messages[0].rcpts, ["bob@[IPv6:::1]"])

    def test_null_mx_fails_for_good(self):
        rx = self.server()
        self.dns.null_mx("null.test")
        self.dns.host("null.test", rx.ip)  # never used as an implicit MX
        self.start_dns()
        self.assertEqual(self.dns.query("null.test", dnsserver.MX), (0, [(dnsserver.MX, (0, ""))]))
        run = self.remote("null.test", ["bob@null.test", "carol@null.test"])
        self.assertResults(run, "DD")
        for _, text in run.results:
            self.assertTrue(text.startswith("5.1.10 "), run)
            self.assertIn("accepts no mail (null MX", text)
        self.assertEqual(rx.connections, 0)

    def test_nxdomain_fails_for_good(self):
        self.start_dns()
        self.assertEqual(self.dns.query("nosuch.test", dnsserver.MX)[0], dnsserver.NXDOMAIN)
        run = self.remote("nosuch.test", ["bob@nosuch.test", "carol@nosuch.test"])
        self.assertResults(run, "DD")
        for _, text in run.results:
            self.assertTrue(text.startswith("5.1.2 no such domain"), run)

    def test_dns_timeout_is_temporary_within_timeoutdns(self):
        self.home.control("timeoutdns", "2\n")
        self.silent_dns()
        run = self.remote("d.test", ["bob@d.test", "carol@d.test"], timeout=30)
        self.assertResults(run, "ZZ")
        for _, text in run.results:
            self.assertTrue(text.startswith("4.4.3 DNS"), run)
        self.assertGreater(run.took, 1.5, run)
        self.assertLess(run.took, 5, run)

    def test_dns_refused_is_temporary(self):
        # dnsmasq has no upstream: a name outside .test is REFUSED
        self.start_dns()
        self.assertEqual(self.dns.query("d.example", dnsserver.MX)[0], dnsserver.REFUSED)
        run = self.remote("d.example", ["bob@d.example"])
        self.assertResults(run, "Z")
        self.assertTrue(run.results[0][1].startswith("4.4.3 DNS"), run)

    @unittest.skipUnless(socket.has_ipv6, "no IPv6")
    def test_dns_server_by_ipv6(self):
        rx = self.server()
        self.mx("d.test", (10, "mx.d.test", rx.ip))
        self.dns.ipv6 = True
        self.start_dns()
        self.assertEqual(self.dns.query("mx.d.test", dnsserver.A, ipv6=True), (0, [(dnsserver.A, rx.ip)]))
        self.home.control("dnsservers", self.dns.address(ipv6=True) + "\n")
        run = self.remote("d.test", ["bob@d.test"])
        self.assertResults(run, "K")


class RouteTest(RemoteCase):
    """control/routes (compiled with table-compile) before DNS"""

    def test_literal_route_overrides_mx(self):
        by_dns, by_route = self.server(name="dns"), self.server(port=0, name="route")
        self.mx("d.test", (10, "mx.d.test", by_dns.ip))
        self.start_dns()
        self.routes(f"d.test [{by_route.ip}]:{by_route.port}\n")
        run = self.remote("d.test", ["bob@d.test"])
        self.assertResults(run, "K")
        self.assertEqual(len(by_route.messages), 1)
        self.assertEqual(by_dns.connections, 0)

    def test_host_route_uses_its_mx_bracketed_host_its_address(self):
        via_mx = self.server(port=0, name="viamx")
        port = via_mx.port
        via_a = self.server(port=port, name="viaa")  # same port, another address
        self.mx("relay.test", (10, "mx.relay.test", via_mx.ip))
        self.dns.host("relay.test", via_a.ip)
        self.start_dns()
        self.routes(f"d.test relay.test:{port}\n")
        run = self.remote("d.test", ["bob@d.test"])
        self.assertResults(run, "K")
        self.assertServer(run.results[0][1], "mx.relay.test", via_mx, "accepted: 250 ")
        self.assertEqual((len(via_mx.messages), via_a.connections), (1, 0))
        # the table is opened for each delivery
        self.routes(f"d.test [relay.test]:{port}\n")
        run = self.remote("d.test", ["bob@d.test"])
        self.assertResults(run, "K")
        self.assertServer(run.results[0][1], "relay.test", via_a, "accepted: 250 ")
        self.assertEqual((len(via_mx.messages), len(via_a.messages)), (1, 1))

    @unittest.skipUnless(socket.has_ipv6, "no IPv6")
    def test_ipv6_literal_route(self):
        rx6 = self.server(Receiver, "::1", 0)
        self.start_dns()
        self.routes(f"d.test [::1]:{rx6.port}\n")
        run = self.remote("d.test", ["bob@d.test"])
        self.assertResults(run, "K")
        self.assertEqual(rx6.messages[0].peer[0], "::1")

    def test_lookup_order_exact_parent_default_and_exemption(self):
        exact, parent, default, dns = (self.server(port=0, name="exact"), self.server(port=0, name="parent"),
                                       self.server(port=0, name="default"), self.server(name="dns"))
        self.mx("exempt.test", (10, "mx.exempt.test", dns.ip))
        self.start_dns()
        self.routes(f"Exact.Test [{exact.ip}]:{exact.port}\n"
                    f".sub.test [{parent.ip}]:{parent.port}\n"
                    f"*\t[{default.ip}]:{default.port}\n"
                    "exempt.test\n")
        cases = [("exact.test", exact), ("a.b.sub.test", parent), ("sub.test", default),
                 ("other.test", default), ("exempt.test", dns)]
        for domain, srv in cases:
            with self.subTest(domain=domain):
                before = len(srv.messages)
                run = self.remote(domain, [f"bob@{domain}"])
                self.assertResults(run, "K")
                self.assertEqual(len(srv.messages), before + 1, (domain, srv.name))
                self.assertEqual(srv.messages[-1].rcpts, [f"bob@{domain}"])
        self.assertEqual([len(s.messages) for s in (exact, parent, default, dns)], [1, 1, 2, 1])

    def test_default_route_needs_no_dns(self):
        rx = self.server(port=0)
        self.routes(f"* [{rx.ip}]:{rx.port}\n")
        self.home.control("timeoutdns", "3\n")
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(("127.0.0.1", 0))
        self.addCleanup(s.close)
        self.home.control("dnsservers", "127.0.0.1:%d\n" % s.getsockname()[1])
        run = self.remote("anywhere.test", ["bob@anywhere.test"])
        self.assertResults(run, "K")
        self.assertLess(run.took, 2.5, run)


class DialogueTest(RemoteCase):
    """the SMTP conversation: replies per recipient, per transaction,
    bad servers"""

    def one_mx(self, srv, domain="d.test"):
        self.mx(domain, (10, f"mx.{domain}", srv.ip))
        self.start_dns()

    def test_rcpt_451_and_250_give_z_and_k(self):
        rx = self.server(rcpt={"busy@d.test": "451 4.2.1 try later"})
        self.one_mx(rx)
        run = self.remote("d.test", ["busy@d.test", "ok@d.test"])
        self.assertResults(run, "ZK")
        self.assertEqual(run.results[0][1],
                         f"mx.d.test[{rx.ip}] (no TLS) said: 451 4.2.1 try later (in reply to RCPT TO)")
        self.assertEqual([m.rcpts for m in rx.messages], [["ok@d.test"]])

    def test_rcpt_550_fails_that_recipient_for_good(self):
        rx = self.server(rcpt={"nobody@d.test": "550 5.1.1 no such user"})
        self.one_mx(rx)
        run = self.remote("d.test", ["ok@d.test", "nobody@d.test"])
        self.assertResults(run, "KD")
        self.assertEqual(run.results[1][1],
                         f"mx.d.test[{rx.ip}] (no TLS) said: 550 5.1.1 no such user (in reply to RCPT TO)")
        self.assertEqual([m.rcpts for m in rx.messages], [["ok@d.test"]])

    def test_every_rcpt_refused_sends_no_message(self):
        rx = self.server(rcpt={"a@d.test": "550 5.1.1 no", "b@d.test": "450 4.2.0 later"})
        self.one_mx(rx)
        run = self.remote("d.test", ["a@d.test", "b@d.test"])
        self.assertResults(run, "DZ")
        self.assertEqual(rx.messages, [])

    def test_results_in_argument_order_in_one_transaction(self):
        rcpts = [f"r{i}@d.test" for i in range(60)]
        script = {r: ("550 5.1.1 no" if i % 3 == 0 else "451 4.3.0 later")
                  for i, r in enumerate(rcpts) if i % 3 != 2}
        rx = self.server(rcpt=script)
        self.one_mx(rx)
        run = self.remote("d.test", rcpts)
        self.assertResults(run, "DZK" * 20)
        self.assertEqual(len(rx.messages), 1)
        self.assertEqual(rx.messages[0].rcpts, rcpts[2::3])
        self.assertEqual(rx.connections, 1)

    def test_mail_550_fails_all_for_good(self):
        rx = self.server(mail="550 5.7.1 sender refused")
        self.one_mx(rx)
        run = self.remote("d.test", ["a@d.test", "b@d.test"])
        self.assertResults(run, "DD")
        for _, text in run.results:
            self.assertEqual(text, f"mx.d.test[{rx.ip}] (no TLS) said: 550 5.7.1 sender refused (in reply to MAIL FROM)")
        self.assertEqual(rx.messages, [])

    def test_mail_451_defers_all(self):
        rx = self.server(mail="451 4.3.0 not now")
        self.one_mx(rx)
        run = self.remote("d.test", ["a@d.test", "b@d.test"])
        self.assertResults(run, "ZZ")
        self.assertIn("(in reply to MAIL FROM)", run.results[0][1])

    def test_end_of_data_reply_applies_to_accepted_recipients(self):
        rx = self.server(rcpt={"no@d.test": "550 5.1.1 no"}, data=["554 5.6.0 content refused",
                                                                   "452 4.3.1 full"])
        self.one_mx(rx)
        run = self.remote("d.test", ["a@d.test", "no@d.test", "b@d.test"])
        self.assertResults(run, "DDD")
        self.assertEqual(run.results[0][1],
                         f"mx.d.test[{rx.ip}] (no TLS) said: 554 5.6.0 content refused (in reply to end of data)")
        self.assertIn("(in reply to RCPT TO)", run.results[1][1])
        self.assertEqual(len(rx.refused_data), 1)
        run = self.remote("d.test", ["a@d.test", "no@d.test", "b@d.test"])
        self.assertResults(run, "ZDZ")
        self.assertIn("452 4.3.1 full (in reply to end of data)", run.results[0][1])

    def test_greeting_421_tries_the_next_mx(self):
        busy = self.server(GreetingServer, "421 4.3.2 too busy")
        rx = self.server()
        self.mx("d.test", (10, "mx1.d.test", busy.ip), (20, "mx2.d.test", rx.ip))
        self.start_dns()
        run = self.remote("d.test", ["bob@d.test"])
        self.assertResults(run, "K")
        self.assertEqual(busy.connections, 1)
        self.assertEqual(len(rx.messages), 1)

    def test_greeting_4xx_on_every_host_is_temporary(self):
        busy = self.server(GreetingServer, "421 4.3.2 too busy")
        self.one_mx(busy)
        run = self.remote("d.test", ["bob@d.test"])
        self.assertResults(run, "Z")
        self.assertIn("421 4.3.2 too busy", run.results[0][1])
        self.assertTrue(run.results[0][1].endswith("(in reply to greeting) [no usable host]"), run)

    def test_greeting_554_fails_for_good_and_tries_no_other_host(self):
        bad = self.server(GreetingServer, "554 5.7.1 no mail here")
        rx = self.server()
        self.mx("d.test", (10, "mx1.d.test", bad.ip), (20, "mx2.d.test", rx.ip))
        self.start_dns()
        run = self.remote("d.test", ["bob@d.test", "carol@d.test"])
        self.assertResults(run, "DD")
        for _, text in run.results:
            self.assertEqual(text, f"mx1.d.test[{bad.ip}] said: 554 5.7.1 no mail here (in reply to greeting)")
        self.assertEqual(rx.connections, 0)

    def test_connection_lost_before_mail_tries_the_next_mx(self):
        drop = self.server(GreetingServer, "220 drop.rx.test ESMTP", hangup=True)
        rx = self.server()
        self.mx("d.test", (10, "mx1.d.test", drop.ip), (20, "mx2.d.test", rx.ip))
        self.start_dns()
        run = self.remote("d.test", ["bob@d.test"])
        self.assertResults(run, "K")
        self.assertEqual(drop.connections, 1)
        self.assertEqual(len(rx.messages), 1)

    def test_connection_lost_mid_data_is_temporary(self):
        rx = self.server(drop_data=1, drop_after=300)
        self.one_mx(rx)
        body = BODY + b"a line of the body, long enough to be cut\n" * 100
        run = self.remote("d.test", ["a@d.test", "b@d.test"], body=body)
        self.assertResults(run, "ZZ")
        self.assertEqual(rx.messages, [])
        self.assertGreaterEqual(len(rx.dropped[0]), 300)
        # the receiver behaves now: the retry goes through, whole
        run = self.remote("d.test", ["a@d.test", "b@d.test"], body=body)
        self.assertResults(run, "KK")
        self.assertEqual(rx.messages[0].data, wire(body))

    def test_silent_server_times_out_and_the_next_mx_is_tried(self):
        self.home.control("timeoutremote", "2\n")
        mute = self.server(SilentServer)
        rx = self.server()
        self.mx("d.test", (10, "mx1.d.test", mute.ip), (20, "mx2.d.test", rx.ip))
        self.start_dns()
        run = self.remote("d.test", ["bob@d.test"])
        self.assertResults(run, "K")
        self.assertEqual(mute.connections, 1)
        self.assertGreater(run.took, 1.5, run)
        self.assertLess(run.took, 5, run)

    def test_silent_server_alone_is_temporary_within_timeoutremote(self):
        self.home.control("timeoutremote", "2\n")
        mute = self.server(SilentServer)
        self.one_mx(mute)
        run = self.remote("d.test", ["a@d.test", "b@d.test"])
        self.assertResults(run, "ZZ")
        self.assertIn(mute.ip, run.results[0][1])
        self.assertLess(run.took, 5, run)

    def test_no_end_of_data_reply_times_out(self):
        self.home.control("timeoutremote", "2\n")
        rx = self.server(data_delay=8)
        self.one_mx(rx)
        run = self.remote("d.test", ["a@d.test"])
        self.assertResults(run, "Z")
        self.assertLess(run.took, 5, run)

    def test_slow_server_ends_at_the_session_deadline(self):
        # every reply comes within timeoutremote: only the deadline of
        # the whole session (control/timeoutsession) ends it
        self.home.control("timeoutremote", "5\n")
        self.home.control("timeoutsession", "3\n")
        slow = self.server(SlowServer, 1)
        self.one_mx(slow)
        run = self.remote("d.test", ["a@d.test"], timeout=60)
        self.assertResults(run, "Z")
        self.assertIn("session deadline passed", run.results[0][1])
        self.assertLess(run.took, 20, run)

    def test_ehlo_refused_falls_back_to_helo_without_extensions(self):
        rx = self.server(ehlo="502 5.5.2 no EHLO here")
        self.one_mx(rx)
        run = self.remote("d.test", ["bob@d.test"], body=EIGHTBIT)
        self.assertResults(run, "K")
        self.assertEqual(rx.command_names(1)[:3], ["EHLO", "HELO", "MAIL"])
        self.assertIn((1, "HELO postern.test"), rx.commands)
        self.assertEqual(rx.messages[0].mail_options, [])
        self.assertEqual(rx.messages[0].data, wire(EIGHTBIT))

    def test_null_sender(self):
        rx = self.server()
        self.one_mx(rx)
        run = self.remote("d.test", ["bob@d.test"], sender="")
        self.assertResults(run, "K")
        self.assertTrue(any(c.startswith("MAIL FROM:<>") for _, c in rx.commands), rx.commands)
        self.assertEqual(rx.messages[0].sender, "")

    def test_usage_errors_exit_100(self):
        self.start_dns()
        for args in ([], ["d.test"], ["d.test", SENDER]):
            with self.subTest(args=args):
                run = self.run_remote(args)
                self.assertEqual(run.rc, 100, run)
                self.assertEqual(run.out, b"")


class RepliesTest(RemoteCase):
    """multi-line, long and endless replies: bounded texts"""

    def one(self, reply, rcpt="bob@d.test"):
        rx = self.server(rcpt={rcpt: reply})
        self.mx("d.test", (10, "mx.d.test", rx.ip))
        self.start_dns()
        return rx, self.remote("d.test", [rcpt])

    def test_multiline_reply_joined_with_slashes(self):
        rx, run = self.one("550-5.1.1 first line\r\n550-5.1.1 second line\r\n550 5.1.1 third line")
        self.assertResults(run, "D")
        self.assertRegex(run.results[0][1],
                         r"^mx\.d\.test\[[0-9.]+\] \(no TLS\) said: 550.5\.1\.1 first line / (550.)?5\.1\.1 second line"
                         r" / (550.)?5\.1\.1 third line \(in reply to RCPT TO\)$")

    def test_5000_byte_reply_line_is_cut(self):
        rx, run = self.one("550 5.1.1 " + "x" * 4990)
        self.assertResults(run, "D")
        self.assertTrue(run.results[0][1].startswith(f"mx.d.test[{rx.ip}] (no TLS) said: 550 5.1.1 xxxx"), run)
        self.assertLessEqual(len(run.results[0][1].encode()), 1000)

    def test_long_multiline_reply_text_is_bounded(self):
        rx, run = self.one("\r\n".join(["550-5.1.1 " + "y" * 900] * 20 + ["550 5.1.1 end"]))
        self.assertResults(run, "D")
        self.assertLessEqual(len(run.results[0][1].encode()), 1000)

    def test_500_line_reply_is_too_long_temporary(self):
        rx, run = self.one("\r\n".join(["550-5.1.1 again"] * 499 + ["550 5.1.1 end"]))
        self.assertResults(run, "Z")
        self.assertIn("too long", run.results[0][1])

    def test_reply_line_over_64k_is_temporary(self):
        rx, run = self.one("550 5.1.1 " + "z" * 70000)
        self.assertResults(run, "Z")

    def test_100_line_reply_is_still_read(self):
        rx, run = self.one("\r\n".join(["550-5.1.1 line"] * 99 + ["550 5.1.1 last"]))
        self.assertResults(run, "D")


class ContentTest(RemoteCase):
    """the bytes that arrive, and the extensions that carry them"""

    def deliver(self, body, **kw):
        rx = self.server(**kw)
        self.mx("d.test", (10, "mx.d.test", rx.ip))
        self.start_dns()
        run = self.remote("d.test", ["bob@d.test"], body=body)
        self.assertResults(run, "K")
        self.assertEqual(len(rx.messages), 1)
        return rx.messages[0], rx

    def test_dot_stuffing_and_line_ends(self):
        body = (b"Subject: dots\n\n.\n..\n.leading dot\n...three\nnormal\n"
                b"stored with crlf\r\n.after crlf\r\n"
                b"bare cr\r.after bare cr\rend of bare\n"
                b"cr before crlf\r\r\n.\r\n"
                b"..\n.\nlast line\n")
        m, _ = self.deliver(body)
        self.assertEqual(m.data, wire(body))
        self.assertIn(b"\r\n.after bare cr\r\n", m.data)

    def test_last_line_without_line_end_gets_one(self):
        body = b"Subject: x\n\nno newline at the end"
        m, _ = self.deliver(body)
        self.assertEqual(m.data, b"Subject: x\r\n\r\nno newline at the end\r\n")

    def test_body_of_a_lone_dot_line_at_the_end(self):
        body = b"Subject: x\n\n."
        m, _ = self.deliver(body)
        self.assertEqual(m.data, b"Subject: x\r\n\r\n.\r\n")

    def test_two_megabyte_body_intact(self):
        lines = [b".%06d " % i + b"abcdefghij" * (i % 9) for i in range(45000)]
        body = b"Subject: big\n\n" + b"\n".join(lines) + b"\n"
        self.assertGreater(len(body), 2_000_000)
        m, _ = self.deliver(body)
        self.assertEqual(m.data, wire(body))

    def test_long_lines_leave_within_998_octets_and_headers_unfold_to_the_original(self):
        # as Postfix's smtp_line_length_limit: a 1,500-byte To: (swaks
        # writes one for 50 recipients) folds at its spaces, a 3,000-byte
        # body line and a header without spaces break with CR LF space
        to = b"To: " + b", ".join(b"recipient%03d@example.test" % i for i in range(60))
        word = b"X-Token: " + b"t" * 2500
        exact = b"y" * 998
        self.assertGreater(len(to), 1500)
        body = (b"From: alice@src.test\n" + to + b"\n" + word + b"\nSubject: long\n\n"
                + b"x" * 3000 + b"\n" + exact + b"\n." + b"z" * 1200 + b"\nend\n")
        m, _ = self.deliver(body)
        self.assertLessEqual(max(len(line) for line in m.data.split(b"\r\n")), 998)
        head, text = m.data.split(b"\r\n\r\n", 1)
        # unfolding (RFC 5322 2.2.3) gives the To: back byte for byte
        unfolded = re.sub(rb"\r\n(?=[ \t])", b"", head).split(b"\r\n")
        self.assertIn(to, unfolded)
        self.assertIn(b"Subject: long", unfolded)
        # a header without a space breaks with CR LF space: unfolded, it
        # has spaces more, and nothing else changed
        self.assertIn(word.replace(b" ", b""), [h.replace(b" ", b"") for h in unfolded])
        self.assertIn(b"\r\n" + exact + b"\r\n", m.data)
        self.assertEqual(text.replace(b"\r\n ", b""),
                         b"x" * 3000 + b"\r\n" + exact + b"\r\n." + b"z" * 1200 + b"\r\nend\r\n")
        # the SIZE announced is what came
        size = int([o for o in m.mail_options if o.startswith("SIZE=")][0][5:])
        self.assertEqual(size, len(m.data) + 1)

    def test_size_parameter_when_offered(self):
        m, _ = self.deliver(BODY)
        sizes = [o for o in m.mail_options if o.startswith("SIZE=")]
        self.assertEqual(len(sizes), 1, m.mail_options)
        n = int(sizes[0][5:])
        self.assertGreaterEqual(n, len(BODY))
        self.assertLessEqual(n, len(wire(BODY)) + 10)

    def test_no_size_parameter_when_not_offered(self):
        m, _ = self.deliver(BODY, size=None)
        self.assertEqual([o for o in m.mail_options if o.startswith("SIZE")], [])

    def test_over_the_size_limit_fails_for_good_without_mail(self):
        rx = self.server(size=1000)
        self.mx("d.test", (10, "mx.d.test", rx.ip))
        self.start_dns()
        body = BODY + b"0123456789" * 500
        run = self.remote("d.test", ["a@d.test", "b@d.test"], body=body)
        self.assertResults(run, "DD")
        for _, text in run.results:
            # the spec: "5.3.4 message size N exceeds server limit M"
            m = re.fullmatch(r"5\.3\.4 message size (\d+) exceeds .*\b1000", text)
            self.assertTrue(m, run)
            self.assertGreaterEqual(int(m.group(1)), len(body))
        self.assertEqual(rx.connections, 1)
        self.assertNotIn("MAIL", rx.command_names())
        self.assertEqual(rx.messages, [])

    def test_8bit_body_with_8bitmime(self):
        m, _ = self.deliver(EIGHTBIT)
        self.assertIn("BODY=8BITMIME", m.mail_options)
        self.assertEqual(m.data, wire(EIGHTBIT))

    def test_7bit_body_has_no_body_parameter(self):
        m, _ = self.deliver(BODY)
        self.assertEqual([o for o in m.mail_options if o.startswith("BODY")], [])

    def test_8bit_body_without_8bitmime_sent_as_is(self):
        m, rx = self.deliver(EIGHTBIT, eightbitmime=False)
        self.assertEqual([o for o in m.mail_options if o.startswith("BODY")], [])
        self.assertEqual(m.data, wire(EIGHTBIT))

    def test_pipelining_when_offered(self):
        probe = self.server(ProbeServer, pipelining=True)
        self.mx("d.test", (10, "mx.d.test", probe.ip))
        self.start_dns()
        rcpts = ["a@d.test", "b@d.test", "c@d.test"]
        run = self.remote("d.test", rcpts)
        self.assertResults(run, "KKK")
        ahead = probe.ahead[1]
        # before it had the reply to MAIL, remote had sent every RCPT and DATA
        self.assertEqual(ahead, b"".join(b"RCPT TO:<%s>\r\n" % r.encode() for r in rcpts) + b"DATA\r\n")
        self.assertEqual(probe.messages, [(SENDER, rcpts, wire(BODY))])

    def test_no_pipelining_when_not_offered(self):
        probe = self.server(ProbeServer, pipelining=False)
        self.mx("d.test", (10, "mx.d.test", probe.ip))
        self.start_dns()
        run = self.remote("d.test", ["a@d.test", "b@d.test"])
        self.assertResults(run, "KK")
        self.assertEqual(probe.ahead[1], b"")
        self.assertEqual(probe.messages, [(SENDER, ["a@d.test", "b@d.test"], wire(BODY))])


if __name__ == "__main__":
    unittest.main()
