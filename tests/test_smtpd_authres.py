"""smtpd's Authentication-Results field (RFC 8601, smtpd(8) AUTHENTICATION
RESULTS): SPF of the client checked against records served by dnsmasq,
recorded in the queued message, never enforced; off without
control/authresults."""
import os
import socket
import subprocess
import unittest

import dnsserver
from dnsserver import DNSServer
from test_smtpd import SMTPD, STRANGER, SmtpdCase, message
from test_spf import txt_rdata


class AuthResCase(SmtpdCase):
    controls = {"authresults": "spf\n"}

    @classmethod
    def setUpClass(cls):
        if not dnsserver.available():
            raise unittest.SkipTest("dnsmasq is not installed")
        dns = DNSServer()
        dns.rr("pass.test", dnsserver.TXT, txt_rdata(f"v=spf1 ip4:{STRANGER} -all"))
        dns.rr("fail.test", dnsserver.TXT, txt_rdata("v=spf1 ip4:192.0.2.1 -all"))
        dns.rr("client.test", dnsserver.TXT, txt_rdata(f"v=spf1 ip4:{STRANGER} -all"))
        dns.start()
        cls.dns = dns

    @classmethod
    def tearDownClass(cls):
        cls.dns.stop()
        cls.dns.cleanup()

    def setUp(self):
        super().setUp()
        self.dns.write_dnsservers(self.srv.home.dir)

    def send(self, sender, source=STRANGER, subject="authres"):
        s = self.srv.smtp(source)
        self.addCleanup(s.close)
        s.ehlo()
        s.sendmail(sender, ["demo@example.test"], message(subject))
        s.quit()

    def head(self, n=1):
        """the fields above our Received line of each queued message"""
        out = []
        for _, _, body in self.assertQueued(n):
            lines = body.split(b"\n")
            assert lines[0].startswith(b"Received: (postern "), body[:200]
            i = next(k for k, l in enumerate(lines) if l.startswith(b"Received: from "))
            out.append(b"\n".join(lines[1:i]).decode())
        return out


class AuthResTest(AuthResCase):
    def test_spf_pass(self):
        self.send("a@pass.test")
        self.assertEqual(self.head(), ["Authentication-Results: test.me;\n\tspf=pass smtp.mailfrom=pass.test"])

    def test_spf_fail_is_recorded_not_enforced(self):
        self.send("a@fail.test")
        self.assertEqual(self.head(), ["Authentication-Results: test.me;\n\tspf=fail smtp.mailfrom=fail.test"])

    def test_spf_none(self):
        self.send("a@nothing.test")
        self.assertEqual(self.head(), ["Authentication-Results: test.me;\n\tspf=none smtp.mailfrom=nothing.test"])

    def test_null_sender_checks_helo(self):
        self.send("")
        self.assertEqual(self.head(), ["Authentication-Results: test.me;\n\tspf=pass smtp.helo=client.test"])

    def test_ipv4_client_written_as_ipv6_is_checked_as_ipv4(self):
        """a dual-stack listener gives TCPREMOTEIP=::ffff:a.b.c.d: the
        sender's ip4 terms name it"""
        cases = ((f"::ffff:{STRANGER}", "pass"), (f"::FFFF:{STRANGER}", "pass"), ("::ffff:192.0.2.9", "fail"))
        for ip, _ in cases:
            env = dict(self.srv.home.env, TCPREMOTEIP=ip)
            p = subprocess.run([SMTPD], input=b"EHLO client.test\r\nMAIL FROM:<a@pass.test>\r\n"
                               b"RCPT TO:<demo@example.test>\r\nDATA\r\nx\r\n.\r\nQUIT\r\n",
                               env=env, capture_output=True, timeout=60)
            self.assertIn(b"250 2.0.0 ok", p.stdout, ip)
        self.assertEqual(sorted(self.head(3)), sorted(f"Authentication-Results: test.me;\n\tspf={want} smtp.mailfrom=pass.test"
                                                      for _, want in cases))

    def test_relayclient_is_not_checked(self):
        self.send("a@fail.test", source="127.0.0.1")
        self.assertEqual(self.head(), ["Authentication-Results: test.me; none"])

    def test_temperror_when_dns_does_not_answer(self):
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as u:
            u.bind(("127.0.0.1", 0))
            self.srv.home.control("dnsservers", f"127.0.0.1:{u.getsockname()[1]}\n")
            self.srv.home.control("authtimeout", "2\n")
            self.send("a@pass.test")
        self.assertEqual(self.head(), ["Authentication-Results: test.me;\n\tspf=temperror smtp.mailfrom=pass.test"])

    def test_forged_field_with_our_id_is_deleted(self):
        """RFC 8601 5: the client's fields claiming test.me go (any case,
        folded, after a comment); another host's stay, as the body's"""
        head = ("Authentication-Results: test.me; spf=pass smtp.mailfrom=x.test\r\n"
                "Subject: forged\r\n"
                "authentication-results:\r\n (a comment) TEST.ME;\r\n\tdkim=pass header.d=x.test\r\n"
                "Authentication-Results: mx.other.test; spf=fail\r\n"
                "Authentication-Results: test.me.evil.test; none\r\n"
                "Authentication-Results-X: test.me\r\n"
                "Authentication-Results: test.me\r\n")
        body = "Authentication-Results: test.me; in the body\r\n"
        s = self.srv.smtp(STRANGER)
        self.addCleanup(s.close)
        s.ehlo()
        s.sendmail("a@pass.test", ["demo@example.test"], head + "\r\n" + body)
        s.quit()
        (_, _, data), = self.assertQueued(1)
        self.assertEqual(data.split(b"\n", 4)[4].decode(),
                         "Subject: forged\n"
                         "Authentication-Results: mx.other.test; spf=fail\n"
                         "Authentication-Results: test.me.evil.test; none\n"
                         "Authentication-Results-X: test.me\n"
                         "\n" + body.replace("\r\n", "\n"))
        self.assertEqual(self.head(), ["Authentication-Results: test.me;\n\tspf=pass smtp.mailfrom=pass.test"])

    def test_forged_field_in_every_spelling_is_deleted(self):
        """the id as a quoted-string, a comment with an escaped parenthesis
        before it, blanks before the colon (RFC 5322 4.5), a field after
        one whose comment never closed: each claims test.me, each goes
        (found by tests/fuzz/fuzz_smtpd_arfilter.c)"""
        forged = ['Authentication-Results: "test.me"; spf=pass',
                  'Authentication-Results: "TEST\\.me" (x); dkim=pass',
                  "Authentication-Results: (a\\(b) test.me; spf=pass",
                  "Authentication-Results  : test.me; spf=pass",
                  "Authentication-Results:\r\n (c (nested) \\) still)\r\n test.me",
                  "Authentication-Results: test.me"]
        kept = ["Authentication-Results: (unclosed",
                'Authentication-Results: "test.me.other.test"; none',
                "Authentication-Results: test.me.other.test; none",
                "Authentication-Results: other.test (test.me); none",
                "Authentication-ResultsX: test.me"]
        head = [kept[0], forged[0], "Subject: x", forged[1], kept[1], forged[2], kept[2],
                forged[3], kept[3], forged[4], kept[4], forged[5]]
        s = self.srv.smtp(STRANGER)
        self.addCleanup(s.close)
        s.ehlo()
        s.sendmail("a@pass.test", ["demo@example.test"], "\r\n".join(head) + "\r\n\r\nbody\r\n")
        s.quit()
        (_, _, data), = self.assertQueued(1)
        want = [kept[0], "Subject: x", kept[1], kept[2], kept[3], kept[4]]
        self.assertEqual(data.split(b"\n", 4)[4].decode(), "\n".join(want) + "\n\nbody\n")

    def test_forged_fields_across_reads(self):
        """a 300 KB header: fields fall across smtpd's 16 KiB reads; every
        one of ours goes, every other stays, in order"""
        keep, fields = [], []
        for i in range(3000):
            pad = "x" * (i % 97)
            fields.append(f"Authentication-Results: (c{pad}) test.me; spf=pass {i}")
            other = f"X-Pad-{i}: {pad}"
            fields.append(other)
            keep.append(other)
        s = self.srv.smtp(STRANGER)
        self.addCleanup(s.close)
        s.ehlo()
        s.sendmail("a@pass.test", ["demo@example.test"], "\r\n".join(fields) + "\r\n\r\nbody\r\n")
        s.quit()
        (_, _, data), = self.assertQueued(1)
        self.assertEqual(data.split(b"\n", 4)[4].decode(), "\n".join(keep) + "\n\nbody\n")


class AuthResOffTest(AuthResCase):
    controls = {}

    def test_no_field_by_default(self):
        self.send("a@fail.test")
        self.assertEqual(self.head(), [""])

    def test_client_fields_kept_when_checks_are_off(self):
        s = self.srv.smtp(STRANGER)
        self.addCleanup(s.close)
        s.ehlo()
        s.sendmail("a@pass.test", ["demo@example.test"], "Authentication-Results: test.me; none\r\n\r\nx\r\n")
        s.quit()
        (_, _, data), = self.assertQueued(1)
        self.assertIn(b"\nAuthentication-Results: test.me; none\n\nx\n", data)


if __name__ == "__main__":
    unittest.main()
