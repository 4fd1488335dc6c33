"""smtpd-listen -p control/proxyfrom: the PROXY protocol (v1 and v2) from
the balancers listed there, behind a real HAProxy (Debian's) and with raw
headers from python. The balancer is 127.0.0.1 (which the rules let relay);
the real clients 127.0.0.5 and 127.0.0.6 (which they do not). Every other
client is served directly, as before."""
import os
import signal
import smtplib
import socket
import struct
import time
import unittest

import harness
import test_smtpd
import test_smtpd_worker
from test_smtpd import message

BALANCER = test_smtpd.TRUSTED            # 127.0.0.1, a RELAYCLIENT by the rules
STRANGER = test_smtpd.STRANGER           # 127.0.0.2, no balancer
CLIENT, CLIENT2 = "127.0.0.5", "127.0.0.6"
HEADER_SEC = 5                           # -P
ELSEWHERE = "x@elsewhere.test"           # not in rcpthosts: only a relay client may


class ProxyServer(test_smtpd_worker.WorkerServer):
    """smtpd-listen with -p (127.0.0.1 a balancer), -P 5 and -C 2"""
    # 127.0.0.1 would have to send a header: a stranger asks if it is up
    ready_source = STRANGER

    def argv(self):
        path = self.home.path("proxyfrom")
        with open(path, "w") as f:
            f.write("# the balancer\n127.0.0.1/32\n")
        a = super().argv()
        return [a[0], "-p", path, "-P", str(HEADER_SEC), "-C", "2", *a[1:]]

    def direct(self, source):
        """a plain socket to smtpd-listen from source"""
        return socket.create_connection((BALANCER, self.port), timeout=20, source_address=(source, 0))


class ProxyCase(test_smtpd.SmtpdCase):
    server = ProxyServer

    def listenlog(self):
        return [l for l in self.srv.logtext().splitlines() if l.startswith("smtpd-listen: ")]


class HaproxyV1Test(ProxyCase):
    send = "send-proxy"

    def setUp(self):
        super().setUp()
        self.lb = harness.HAProxy(self.srv.port, self.send)
        self.addCleanup(self.lb.cleanup)

    def test_received_log_and_rules_name_the_real_client(self):
        s = self.lb.smtp(CLIENT)
        self.addCleanup(s.close)
        # the rules for 127.0.0.5, not the balancer's RELAYCLIENT
        self.assertEqual(s.ehlo()[0], 250)
        s.mail("a@client.test")
        code, text = s.rcpt(ELSEWHERE)
        self.assertEqual(code, 554, text)
        s.rset()
        s.sendmail("a@client.test", ["demo@example.test"], message("proxied"))
        s.quit()
        (sender, rcpts, body), = self.assertQueued(1)
        received = body.split(b"\n")[1]
        self.assertTrue(received.startswith(b"Received: from client.test (127.0.0.5"), received)
        log = self.srv.logtext()
        self.assertRegex(log, r"(?m)^start pid \d+ ip 127\.0\.0\.5 proxy 127\.0\.0\.1$")
        self.assertRegex(log, r"(?m)^smtpd-listen: ok \d+ 0:127\.0\.0\.1:%d :127\.0\.0\.5::\d+ proxy 127\.0\.0\.1$"
                         % self.lb.port)
        self.assertRegex(log, r"(?m)^smtpd-listen: pid \d+ from 127\.0\.0\.5 proxy 127\.0\.0\.1$")

    def test_per_ip_limit_counts_real_clients(self):
        # -C 2: two sessions from 127.0.0.5 through the balancer fill its
        # share; a third from it is refused, one from 127.0.0.6 is not
        held = []
        for _ in range(2):
            s = self.lb.smtp(CLIENT)
            held.append(s)
            self.addCleanup(s.close)
            self.assertEqual(s.noop()[0], 250)
        with self.assertRaises(smtplib.SMTPConnectError) as e:
            self.lb.smtp(CLIENT)
        self.assertEqual(e.exception.smtp_code, 421)
        other = self.lb.smtp(CLIENT2)
        self.addCleanup(other.close)
        self.assertEqual(other.noop()[0], 250)
        self.assertRegex(self.srv.logtext(),
                         r"(?m)^smtpd-listen: limit - 0:127\.0\.0\.1:\d+ :127\.0\.0\.5::\d+ proxy 127\.0\.0\.1: "
                         r"2 sessions from the address$")


class HaproxyV2Test(HaproxyV1Test):
    send = "send-proxy-v2"


def v2_header(src, dst, sport, dport, local=False):
    """a PROXY v2 header, TCP over IPv4, or LOCAL"""
    sig = b"\r\n\r\n\x00\r\nQUIT\n"
    if local:
        return sig + bytes([0x20, 0x00]) + struct.pack("!H", 0)
    addrs = socket.inet_aton(src) + socket.inet_aton(dst) + struct.pack("!HH", sport, dport)
    return sig + bytes([0x21, 0x11]) + struct.pack("!H", len(addrs)) + addrs


class RawHeaderTest(ProxyCase):
    def raw(self, source, first=b""):
        r = test_smtpd.Raw.__new__(test_smtpd.Raw)
        r.sock = self.srv.direct(source)
        r.f = r.sock.makefile("rb")
        self.addCleanup(r.close)
        if first:
            r.send(first)
        return r

    def test_v1_header_then_session_bytes_in_one_packet(self):
        # the NOOP right behind the header must reach smtpd
        r = self.raw(BALANCER, b"PROXY TCP4 192.0.2.7 192.0.2.1 40000 25\r\nNOOP\r\n")
        self.assertEqual(r.codes(2), [220, 250])
        r.send(b"EHLO client.test\r\nMAIL FROM:<a@client.test>\r\nRCPT TO:<%s>\r\n" % ELSEWHERE.encode())
        self.assertEqual(r.codes(3), [250, 250, 554])
        log = self.srv.logtext()
        self.assertRegex(log, r"(?m)^start pid \d+ ip 192\.0\.2\.7 proxy 127\.0\.0\.1$")
        self.assertRegex(log, r"(?m)^smtpd-listen: ok \d+ 0:192\.0\.2\.1:25 :192\.0\.2\.7::40000 proxy 127\.0\.0\.1$")

    def test_v1_header_in_pieces(self):
        r = self.raw(BALANCER, b"PROXY TCP4 192.0.2.9 ")
        time.sleep(0.3)
        r.send(b"192.0.2.1 40001 25")
        time.sleep(0.3)
        r.send(b"\r\nNOOP\r\n")
        self.assertEqual(r.codes(2), [220, 250])
        self.assertRegex(self.srv.logtext(), r"(?m)^start pid \d+ ip 192\.0\.2\.9 proxy 127\.0\.0\.1$")

    def test_v2_header(self):
        r = self.raw(BALANCER, v2_header("192.0.2.8", "192.0.2.1", 40002, 587) + b"NOOP\r\n")
        self.assertEqual(r.codes(2), [220, 250])
        self.assertRegex(self.srv.logtext(),
                         r"(?m)^smtpd-listen: ok \d+ 0:192\.0\.2\.1:587 :192\.0\.2\.8::40002 proxy 127\.0\.0\.1$")

    def test_v1_tcp6_header(self):
        # an IPv4-mapped client is the IPv4 client it is, as on a socket
        for src, shown in (("2001:db8::7", r"2001:db8::7"), ("::ffff:192.0.2.11", r"192\.0\.2\.11")):
            r = self.raw(BALANCER, b"PROXY TCP6 %s 2001:db8::1 40003 25\r\nNOOP\r\n" % src.encode())
            self.assertEqual(r.codes(2), [220, 250])
            self.assertRegex(self.srv.logtext(), r"(?m)^start pid \d+ ip %s proxy 127\.0\.0\.1$" % shown)

    def test_v2_local_is_the_balancer_itself(self):
        # a health check: the balancer's own addresses and rules (it relays)
        r = self.raw(BALANCER, v2_header(None, None, 0, 0, local=True) + b"NOOP\r\n")
        self.assertEqual(r.codes(2), [220, 250])
        r.send(b"EHLO lb.test\r\nMAIL FROM:<a@client.test>\r\nRCPT TO:<%s>\r\n" % ELSEWHERE.encode())
        self.assertEqual(r.codes(3), [250, 250, 250])
        self.assertRegex(self.srv.logtext(), r"(?m)^start pid \d+ ip 127\.0\.0\.1 proxy 127\.0\.0\.1 relayclient$")

    def test_v1_unknown_is_the_balancer_itself(self):
        r = self.raw(BALANCER, b"PROXY UNKNOWN\r\nNOOP\r\n")
        self.assertEqual(r.codes(2), [220, 250])
        self.assertRegex(self.srv.logtext(), r"(?m)^start pid \d+ ip 127\.0\.0\.1 proxy 127\.0\.0\.1 relayclient$")

    def test_bad_header_dropped(self):
        for bad in (b"PROXY TCP4 nonsense\r\n", b"EHLO client.test\r\n"):
            r = self.raw(BALANCER, bad)
            # closed with the bad bytes unread: a reset, or an end of file;
            # never a greeting
            try:
                got = r.reply()
            except ConnectionResetError:
                got = (None, [])
            self.assertEqual(got, (None, []), bad)
        drops = [l for l in self.listenlog() if ": PROXY header: bad header" in l]
        self.assertEqual(len(drops), 2, self.srv.logtext())
        self.assertRegex(drops[0], r"^smtpd-listen: drop - 0:127\.0\.0\.1:\d+ :127\.0\.0\.1::\d+: PROXY header: bad header$")
        self.assertNotRegex(self.srv.logtext(), r"(?m)^start pid \d+ ip 127\.0\.0\.1")

    def test_silent_balancer_dropped_while_others_served(self):
        silent = self.raw(BALANCER)
        # the loop does not wait on it: a stranger is served meanwhile
        r = self.raw(STRANGER)
        self.assertEqual(r.codes(1), [220])
        r.send(b"NOOP\r\n")
        self.assertEqual(r.codes(1), [250])
        silent.sock.setblocking(False)
        with self.assertRaises(BlockingIOError, msg="the silent balancer was dropped before -P"):
            silent.sock.recv(1)
        silent.sock.setblocking(True)
        silent.sock.settimeout(HEADER_SEC + 20)
        self.assertEqual(silent.sock.recv(100), b"")
        self.assertRegex(self.srv.logtext(),
                         r"(?m)^smtpd-listen: drop - 0:127\.0\.0\.1:\d+ :127\.0\.0\.1::\d+: PROXY header: none in 5 seconds$")

    def test_sighup_rereads_proxyfrom(self):
        def hup(text, logged):
            with open(self.srv.home.path("proxyfrom"), "w") as f:
                f.write(text)
            os.kill(self.srv.proc.pid, signal.SIGHUP)
            self.assertTrue(harness.wait_for(lambda: logged in self.srv.logtext(), 10), self.srv.logtext())
        # a bad file leaves 127.0.0.1 a balancer
        hup("127.0.0.1/99\n", "keeping the old balancers")
        r = self.raw(BALANCER, b"PROXY TCP4 192.0.2.7 192.0.2.1 40000 25\r\nNOOP\r\n")
        self.assertEqual(r.codes(2), [220, 250])
        # another balancer: 127.0.0.1 is a client again, served directly
        hup("192.0.2.99\n", "smtpd-listen: proxyfrom: 1 balancers")
        r = self.raw(BALANCER)
        self.assertEqual(r.codes(1), [220])
        r.send(b"NOOP\r\n")
        self.assertEqual(r.codes(1), [250])
        self.assertRegex(self.srv.logtext(), r"(?m)^start pid \d+ ip 127\.0\.0\.1 relayclient$")

    def test_65th_silent_balancer_drops_the_oldest(self):
        # 64 wait for their header; the 65th takes the place of the first
        socks = [self.raw(BALANCER) for _ in range(65)]
        socks[0].sock.settimeout(HEADER_SEC - 1)
        self.assertEqual(socks[0].sock.recv(100), b"")
        self.assertIn(": PROXY header: too many waiting", self.srv.logtext())
        # the others still wait, and one that speaks now is served
        socks[1].sock.setblocking(False)
        with self.assertRaises(BlockingIOError):
            socks[1].sock.recv(1)
        socks[64].send(b"PROXY UNKNOWN\r\nNOOP\r\n")
        self.assertEqual(socks[64].codes(2), [220, 250])

    def test_non_balancer_served_directly(self):
        # no header expected: one is an unknown command
        r = self.raw(STRANGER)
        self.assertEqual(r.codes(1), [220])
        r.send(b"PROXY TCP4 192.0.2.7 192.0.2.1 40000 25\r\nNOOP\r\n")
        self.assertEqual(r.codes(2), [500, 250])
        log = self.srv.logtext()
        self.assertRegex(log, r"(?m)^start pid \d+ ip 127\.0\.0\.2$")
        self.assertRegex(log, r"(?m)^smtpd-listen: ok \d+ 0:127\.0\.0\.1:\d+ :127\.0\.0\.2::\d+$")
        self.assertNotIn("proxy", log)


if __name__ == "__main__":
    unittest.main()
