"""remote's outbound STARTTLS (RFC 3207) against aiosmtpd receivers with
real TLS (stdlib ssl, server side): a test CA and server certificates
made here with openssl, control/tlscafile pointing at the CA, and
control/tlsroutes (compiled with table-compile) for the policies none,
may, encrypt and verify. The name checked is the host connected to: a
route [mx.test]:port, with mx.test's address from the test DNS server.
What is checked is what the receiver saw (a TLS session or not, the
commands) and each recipient's K/Z/D and text."""
import logging
import os
import shutil
import ssl
import subprocess
import tempfile
import unittest

import dnsserver
import receiver
from receiver import Receiver
from test_remote import TABLE_COMPILE, RemoteCase
from tlsfiles import make_tls_files

OPENSSL = shutil.which("openssl") or "/usr/bin/openssl"
NAME = "mx.test"
# aiosmtpd logs a refused handshake with its traceback: expected here
logging.getLogger("mail.log").setLevel(logging.CRITICAL)


def openssl(*args, cwd):
    subprocess.run([OPENSSL, *args], cwd=cwd, check=True, capture_output=True)


class InjectServer(receiver._Stream):
    """offers STARTTLS and answers it with 220 and, in the same write, a
    reply meant to be read as if it came through TLS (the CVE-2011-0411
    class, seen from the client); silent: 220 alone, then not a byte
    more (a handshake that never ends)"""

    def __init__(self, host=None, port=25, silent=False):
        super().__init__(host, port)
        self.silent = silent
        self.commands = []

    async def serve(self, reader, writer, conn):
        writer.write(b"220 inject.test ESMTP\r\n")
        await writer.drain()
        while True:
            line = await reader.readline()
            if not line:
                return
            self.commands.append(line.decode(errors="replace").rstrip("\r\n"))
            verb = line[:4].upper()
            if verb == b"EHLO":
                writer.write(b"250-inject.test\r\n250-PIPELINING\r\n250 STARTTLS\r\n")
            elif verb == b"STAR" and self.silent:
                writer.write(b"220 2.0.0 go ahead\r\n")
                await writer.drain()
                while await reader.read(65536):
                    pass
                return
            elif verb == b"STAR":
                writer.write(b"220 2.0.0 go ahead\r\n250 2.0.0 injected\r\n")
            else:
                writer.write(b"250 2.0.0 ok\r\n")
            await writer.drain()


def server_context(crt, key):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(crt, key)
    return ctx


@unittest.skipUnless(dnsserver.available(), "no /usr/sbin/dnsmasq (package dnsmasq-base)")
@unittest.skipUnless(os.access(OPENSSL, os.X_OK), "no openssl")
class TLSCase(RemoteCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.pki = tempfile.mkdtemp(prefix="postern-pki-")
        test, other = os.path.join(cls.pki, "test"), os.path.join(cls.pki, "other")
        cls.ca = make_tls_files(test, [NAME, "other.test"], ca="testca")
        make_tls_files(other, [NAME], ca="otherca")
        pair = lambda d, n: (os.path.join(d, n + ".crt"), os.path.join(d, n + ".key"))
        cls.good = pair(test, NAME)                 # the right CA, the right name
        cls.wrongname = pair(test, "other.test")
        cls.unknownca = pair(other, NAME)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.pki, ignore_errors=True)
        super().tearDownClass()

    def setUp(self):
        super().setUp()
        self.home.control("tlscafile", self.ca + "\n")

    def rx(self, cert=None, **kw):
        """a receiver on a free port at mx.test (by DNS, through a route
        [mx.test]:port for d.test); cert: (crt, key) to offer STARTTLS"""
        if cert:
            kw["tls_context"] = server_context(*cert)
        srv = self.server(Receiver, port=0, **kw)
        self.dns.host(NAME, srv.ip)
        self.start_dns()
        self.routes(f"d.test [{NAME}]:{srv.port}\n")
        return srv

    def policy(self, text):
        self.home.control("tlsroutes", text)
        subprocess.run([TABLE_COMPILE, self.home.path("control", "tlsroutes")], check=True)

    def deliver(self):
        run = self.remote("d.test", ["bob@d.test"])
        if os.environ.get("SHOW_TEXTS"):
            print(run.results[0][1], run.err)
        return run, run.results[0][1]

    def assertPeer(self, text, srv, note, rest):
        self.assertTrue(text.startswith(f"{NAME}[{srv.ip}]:{srv.port} ({note}) {rest}"), text)


class PolicyTest(TLSCase):
    def test_default_may_uses_starttls_when_offered(self):
        rx = self.rx(self.good)
        run, text = self.deliver()
        self.assertResults(run, "K")
        self.assertEqual(len(rx.messages), 1)
        self.assertIn(rx.messages[0].tls, ("TLSv1.2", "TLSv1.3"))
        self.assertRegex(text, r"^mx\.test\[[0-9.]+\]:\d+ \(TLSv1\.[23] \S+, not verified\) accepted: 250 ")
        # EHLO again inside TLS, and the transaction after it
        self.assertEqual(rx.command_names(), ["EHLO", "STARTTLS", "EHLO", "MAIL", "RCPT", "DATA", "QUIT"])

    def test_may_without_starttls_is_clear_text(self):
        rx = self.rx()
        run, text = self.deliver()
        self.assertResults(run, "K")
        self.assertIsNone(rx.messages[0].tls)
        self.assertNotIn("STARTTLS", rx.command_names())
        self.assertPeer(text, rx, "no TLS", "accepted: 250 ")

    def test_none_sends_no_starttls_even_if_offered(self):
        rx = self.rx(self.good)
        self.policy("d.test none\n")
        run, text = self.deliver()
        self.assertResults(run, "K")
        self.assertIsNone(rx.messages[0].tls)
        self.assertNotIn("STARTTLS", rx.command_names())
        self.assertPeer(text, rx, "no TLS", "accepted: 250 ")

    def test_encrypt_without_starttls_defers(self):
        rx = self.rx()
        self.policy("d.test encrypt\n")
        run, text = self.deliver()
        self.assertResults(run, "Z")
        self.assertEqual(rx.messages, [])
        self.assertNotIn("MAIL", rx.command_names())
        self.assertTrue(text.startswith(f"4.7.5 {NAME}[{rx.ip}]:{rx.port}: STARTTLS not offered"), text)

    def test_encrypt_takes_any_certificate(self):
        rx = self.rx(self.unknownca)
        self.policy("d.test encrypt\n")
        run, text = self.deliver()
        self.assertResults(run, "K")
        self.assertIn(rx.messages[0].tls, ("TLSv1.2", "TLSv1.3"))
        self.assertRegex(text, r"\(TLSv1\.[23] \S+, not verified\) accepted: ")

    def test_verify_with_the_right_ca_and_name(self):
        rx = self.rx(self.good)
        self.policy("d.test verify\n")
        run, text = self.deliver()
        self.assertResults(run, "K")
        self.assertIn(rx.messages[0].tls, ("TLSv1.2", "TLSv1.3"))
        self.assertRegex(text, r"^mx\.test\[[0-9.]+\]:\d+ \(TLSv1\.[23] \S+, verified\) accepted: 250 ")

    def test_verify_with_a_directory_of_hashed_cas(self):
        cadir = os.path.join(self.pki, "cadir")
        if not os.path.isdir(cadir):
            os.mkdir(cadir)
            shutil.copy(self.ca, cadir)
            openssl("rehash", cadir, cwd=self.pki)
        self.home.control("tlscafile", cadir + "\n")
        rx = self.rx(self.good)
        self.policy("d.test verify\n")
        run, text = self.deliver()
        self.assertResults(run, "K")
        self.assertRegex(text, r"\(TLSv1\.[23] \S+, verified\) accepted: 250 ")
        # the same directory without the CA: refused
        os.rename(cadir, cadir + ".off")
        os.mkdir(cadir)
        try:
            run, text = self.deliver()
            self.assertResults(run, "Z")
            self.assertIn("4.7.5 ", text)
        finally:
            os.rmdir(cadir)
            os.rename(cadir + ".off", cadir)

    def test_verify_refuses_a_wrong_name(self):
        rx = self.rx(self.wrongname)
        self.policy("d.test verify\n")
        run, text = self.deliver()
        self.assertResults(run, "Z")
        self.assertEqual(rx.messages, [])
        self.assertNotIn("MAIL", rx.command_names())
        self.assertTrue(text.startswith(f"4.7.5 {NAME}[{rx.ip}]:{rx.port}: TLS handshake failed: "), text)
        self.assertIn(NAME, text[len("4.7.5 mx.test"):])

    def test_verify_refuses_an_unknown_ca(self):
        rx = self.rx(self.unknownca)
        self.policy("d.test verify\n")
        run, text = self.deliver()
        self.assertResults(run, "Z")
        self.assertEqual(rx.messages, [])
        self.assertTrue(text.startswith(f"4.7.5 {NAME}[{rx.ip}]:{rx.port}: TLS handshake failed: "), text)
        self.assertIn("verif", text)

    def test_verify_without_starttls_defers(self):
        rx = self.rx()
        self.policy("d.test verify\n")
        run, text = self.deliver()
        self.assertResults(run, "Z")
        self.assertEqual(rx.messages, [])
        self.assertIn("4.7.5 ", text)

    def test_may_falls_back_to_clear_text_after_a_failed_handshake(self):
        rx = self.rx(self.good, broken_tls=True)
        run, text = self.deliver()
        self.assertResults(run, "K")
        self.assertEqual(rx.connections, 2)
        self.assertEqual(len(rx.messages), 1)
        self.assertIsNone(rx.messages[0].tls)
        self.assertEqual(rx.command_names(1), ["EHLO", "STARTTLS"])
        self.assertNotIn("STARTTLS", rx.command_names(2))
        self.assertPeer(text, rx, "no TLS, the handshake failed", "accepted: 250 ")
        self.assertRegex(run.err, r"remote: warning: mx\.test\[[0-9.]+\]:\d+: TLS handshake failed: .*"
                                  r"; trying again in clear text")

    def test_encrypt_does_not_fall_back_after_a_failed_handshake(self):
        rx = self.rx(self.good, broken_tls=True)
        self.policy("d.test encrypt\n")
        run, text = self.deliver()
        self.assertResults(run, "Z")
        self.assertEqual((rx.connections, rx.messages), (1, []))
        self.assertIn("TLS handshake failed", text)

    def test_bytes_after_the_220_to_starttls_fail_the_handshake(self):
        srv = self.server(InjectServer, port=0)
        self.dns.host(NAME, srv.ip)
        self.start_dns()
        self.routes(f"d.test [{NAME}]:{srv.port}\n")
        self.policy("d.test encrypt\n")
        run, text = self.deliver()
        self.assertResults(run, "Z")
        self.assertTrue(text.startswith(f"4.7.5 {NAME}[{srv.ip}]:{srv.port}: TLS handshake failed: "
                                        "data after 220 to STARTTLS"), text)
        self.assertEqual(srv.connections, 1)
        self.assertEqual([c.split()[0] for c in srv.commands], ["EHLO", "STARTTLS"])

    def test_a_handshake_that_never_ends_times_out(self):
        srv = self.server(InjectServer, port=0, silent=True)
        self.dns.host(NAME, srv.ip)
        self.start_dns()
        self.routes(f"d.test [{NAME}]:{srv.port}\n")
        self.policy("d.test encrypt\n")
        self.home.control("timeoutremote", "2\n")
        run, text = self.deliver()
        self.assertResults(run, "Z")
        self.assertTrue(text.startswith(f"4.7.5 {NAME}[{srv.ip}]:{srv.port}: TLS handshake failed: timed out"), text)
        # control/timeoutremote bounds it (generously: the machine is loaded)
        self.assertLess(run.took, 30, run)

    def test_lookup_order_domain_parents_default(self):
        rx = self.rx()   # no STARTTLS: encrypt and verify defer, may and none deliver
        self.routes(f"* [{NAME}]:{rx.port}\n")
        self.policy("a.d.test none\n.d.test encrypt\n* verify\nbad.test maybe\n")
        cases = [("a.d.test", "K"), ("b.a.d.test", "Z"), ("d.test", "Z"), ("other.test", "Z"), ("bad.test", "Z")]
        for domain, letter in cases:
            with self.subTest(domain=domain):
                run = self.remote(domain, [f"bob@{domain}"])
                self.assertResults(run, letter)
        run = self.remote("bad.test", ["bob@bad.test"])
        self.assertEqual(run.results[0][1], "4.3.5 bad entry in control/tlsroutes.cdb for bad.test")
        self.policy("a.d.test none\n")
        run = self.remote("other.test", ["bob@other.test"])
        self.assertResults(run, "K")



class PosternPeerTest(TLSCase):
    """remote to another postern's smtpd (under tcpserver, with tlsd):
    mail between two postern hosts is encrypted, and verified"""

    def test_verified_tls_between_two_posterns(self):
        import test_smtpd_tls
        srv = test_smtpd_tls.TlsServer()
        self.addCleanup(srv.cleanup)
        # it serves mx.test's certificate from the test CA, read at the
        # next connection
        for src, dst in zip(self.good, ("default.crt", "default.key")):
            shutil.copy(src, srv.home.path("tls", dst))
        srv.table("rcpthosts", "example.test\nd.test\n")
        self.dns.host(NAME, "127.0.0.1")
        self.start_dns()
        self.routes(f"d.test [{NAME}]:{srv.port}\n")
        self.policy("d.test verify\n")
        run, text = self.deliver()
        self.assertResults(run, "K")
        self.assertRegex(text, r"^mx\.test\[127\.0\.0\.1\]:\d+ \(TLSv1\.3 \S+, verified\) accepted: 250 ")
        (sender, rcpts, body), = srv.queued()
        self.assertEqual(rcpts, [b"bob@d.test"])
        self.assertRegex(body.split(b"\n")[1].decode(), r" with ESMTPS$")


if __name__ == "__main__":
    unittest.main()
