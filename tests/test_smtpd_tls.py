"""smtpd's STARTTLS, SMTPS and AUTH, with the real TLS engine (tlsd)
and real clients (smtplib, raw sockets wrapped by python's ssl): under
tcpserver with smtpd starting bin/tlsd -e itself, under tlsd as a
UCSPI-TLS launcher (SSLCTLFD), and behind smtpd-listen (the workers).
The password check is a checkpassword program of the test's own
(control/checkpassword), so that any such program is shown to plug
in; test_checkpw.py tests postern's checkpw, test_submission.py the
whole instance."""
import os
import shutil
import smtplib
import socket
import ssl
import subprocess
import time
import unittest

import harness
import test_smtpd
from test_smtpd import TRUSTED, STRANGER, Raw, message
from test_smtpd_worker import WorkerServer
from tlsfiles import make_tls_files

TLSD = os.path.join(harness.BIN, "tlsd")
LOGIN, PASSWORD = "alice@example.test", "correct horse"

# the checkpassword interface: fd 3 holds login NUL password NUL
# timestamp NUL; exit 0 and run the program named next if they match
CHECKER = f"""#!/usr/bin/python3
import os, sys
data = b""
while True:
    b = os.read(3, 512)
    if not b:
        break
    data += b
parts = data.split(b"\\0")
if len(parts) < 3:
    sys.exit(2)
if parts[0] != {LOGIN.encode()!r} or parts[1] != {PASSWORD.encode()!r}:
    sys.exit(1)
os.execv(sys.argv[1], sys.argv[1:])
"""


def client_context():
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def first_bytes(raw, timeout):
    """what the server sends next (b"" if nothing or a reset), and the
    connection closed"""
    raw.sock.settimeout(timeout)
    try:
        data = raw.sock.recv(100)
    except OSError:
        data = b""
    raw.close()
    return data


def plain(login, password):
    import base64
    return base64.b64encode(b"\0" + login.encode() + b"\0" + password.encode()).decode()


class TlsServer(test_smtpd.Server):
    """test_smtpd's server with a certificate in tls/, bin/tlsd, and
    the test's checker; env: what the session's environment adds
    (SMTPS, SUBMISSION)"""
    env_extra = {}

    def argv(self):
        # the home is made, the server not yet started: the TLS files and
        # the checker go in first (WorkerServer's argv then gives the
        # home to the smtpd account)
        if not os.path.exists(self.home.path("bin", "tlsd")):
            self.setup_tls()
        self.home.env.update(self.env_extra)
        return super().argv()

    def setup_tls(self):
        home = self.home
        # the CA apart: tlsd would load any pair in tls/
        self.ca = make_tls_files(home.path("certs"), ["default"])
        for f in ("default.crt", "default.key"):
            shutil.copy(home.path("certs", f), home.path("tls", f))
        subprocess.run(["cp", TLSD, home.path("bin", "tlsd")], check=True)
        checker = home.path("bin", "checker")
        with open(checker, "w") as f:
            f.write(CHECKER)
        os.chmod(checker, 0o755)
        home.control("checkpassword", checker + "\n")
        home.control("authdelay", "0\n")

    def tls(self, source=TRUSTED):
        s = self.smtp(source)
        s.ehlo()
        s.starttls(context=client_context())
        s.ehlo()
        return s


class LauncherServer(TlsServer):
    """tlsd as the UCSPI-TLS launcher in front of smtpd: smtpd gets
    SSLCTLFD, SSLREADFD and SSLWRITEFD and starts no engine itself"""

    def argv(self):
        a = super().argv()
        i = a.index(test_smtpd.SMTPD)
        a[i:i] = [TLSD]
        return a


class StarttlsTest(test_smtpd.SmtpdCase):
    server = TlsServer

    def test_starttls_offered_and_mail_goes_through_encrypted(self):
        s = self.srv.smtp()
        self.addCleanup(s.close)
        s.ehlo()
        self.assertTrue(s.has_extn("starttls"))
        self.assertFalse(s.has_extn("auth"), "AUTH offered before TLS")
        s.starttls(context=client_context())
        self.assertIn(s.sock.version(), ("TLSv1.2", "TLSv1.3"))
        s.ehlo()
        self.assertFalse(s.has_extn("starttls"), "STARTTLS offered inside TLS")
        self.assertEqual(s.esmtp_features.get("auth", "").split(), ["PLAIN", "LOGIN"])
        s.sendmail("a@client.test", ["demo@example.test"], message("tls"))
        (sender, rcpts, body), = self.assertQueued(1)
        received = body.split(b"\n")[1:4]
        self.assertIn(b"with ESMTPS", received[0], body[:400])
        self.assertRegex(received[1].decode(), r"^\t\((TLSv1\.[23]) cipher \S+\);", body[:400])
        self.assertIn(s.sock.version(), received[1].decode())
        self.assertRegex(self.srv.logtext(), r"tls pid \d+ TLSv1\.[23] ")

    def test_no_starttls_without_a_certificate(self):
        os.unlink(self.srv.home.path("tls", "default.crt"))
        s = self.srv.smtp()
        self.addCleanup(s.close)
        s.ehlo()
        self.assertFalse(s.has_extn("starttls"))
        self.assertEqual(s.docmd("STARTTLS")[0], 502)

    def test_commands_pipelined_after_starttls_are_not_run(self):
        r = Raw(self.srv.port)
        self.addCleanup(r.close)
        self.assertEqual(r.reply()[0], 220)
        r.send(b"EHLO client.test\r\n")
        self.assertEqual(r.reply()[0], 250)
        # the injection of CVE-2011-0411: in the same packet as STARTTLS
        r.send(b"STARTTLS\r\nMAIL FROM:<evil@client.test>\r\n")
        self.assertEqual(r.reply()[0], 220)
        t = client_context().wrap_socket(r.sock)
        f = t.makefile("rb")
        t.sendall(b"EHLO client.test\r\n")
        while True:
            line = f.readline()
            if line[3:4] == b" ":
                break
        t.sendall(b"RCPT TO:<demo@example.test>\r\n")
        line = f.readline()
        self.assertTrue(line.startswith(b"503 "), line)
        t.sendall(b"QUIT\r\n")
        f.readline()
        t.close()
        self.assertIn("bytes sent in clear text after STARTTLS", self.srv.logtext())

    def test_ehlo_state_is_forgotten(self):
        r = Raw(self.srv.port)
        self.addCleanup(r.close)
        r.reply()
        r.send(b"EHLO client.test\r\n")
        r.reply()
        r.send(b"STARTTLS\r\n")
        self.assertEqual(r.reply()[0], 220)
        t = client_context().wrap_socket(r.sock)
        f = t.makefile("rb")
        # no EHLO again: the one before TLS does not count
        t.sendall(b"MAIL FROM:<a@client.test>\r\n")
        self.assertTrue(f.readline().startswith(b"503 "))
        t.close()

    def test_a_failed_handshake_ends_only_that_session(self):
        r = Raw(self.srv.port)
        r.reply()
        r.send(b"EHLO client.test\r\nSTARTTLS\r\n")
        r.replies(2)
        r.send(b"this is not a TLS client hello\r\n" * 10)
        self.assertFalse(first_bytes(r, 20).startswith(b"250"))
        # the server still serves
        s = self.srv.tls()
        self.addCleanup(s.close)
        s.sendmail("a@client.test", ["demo@example.test"], message("after"))
        self.assertQueued(1)
        self.assertIn("tls failed", self.srv.logtext())


class AuthTest(test_smtpd.SmtpdCase):
    server = TlsServer

    def test_auth_refused_before_tls(self):
        s = self.srv.smtp(STRANGER)
        self.addCleanup(s.close)
        s.ehlo()
        code, text = s.docmd("AUTH", "PLAIN " + plain(LOGIN, PASSWORD))
        self.assertEqual(code, 538, text)

    def test_auth_plain_relays_and_is_recorded(self):
        s = self.srv.tls(STRANGER)
        self.addCleanup(s.close)
        # a stranger may not relay ...
        s.mail("a@client.test")
        self.assertEqual(s.rcpt("x@elsewhere.example")[0], 554)
        s.rset()
        # ... until authenticated
        s.login(LOGIN, PASSWORD)
        s.sendmail(LOGIN, ["x@elsewhere.example"], message("auth"))
        (sender, rcpts, body), = self.assertQueued(1)
        self.assertEqual(rcpts, [b"x@elsewhere.example"])
        head = b"\n".join(body.split(b"\n")[1:4]).decode()
        self.assertIn("with ESMTPSA", head)
        self.assertIn(f"(authenticated as {LOGIN});", head)
        log = self.srv.logtext()
        self.assertIn(f"PLAIN user <{LOGIN}>: ok", log)
        self.assertRegex(log, rf"ok pid \d+ qp \d+ from <{LOGIN}> rcpts 1 bytes \d+ user <{LOGIN}>")

    def test_auth_login(self):
        s = self.srv.tls(STRANGER)
        self.addCleanup(s.close)
        s.user, s.password = LOGIN, PASSWORD
        code, text = s.auth("LOGIN", s.auth_login, initial_response_ok=False)
        self.assertEqual(code, 235, text)

    def test_wrong_password_then_the_limit(self):
        self.srv.home.control("authdelay", "300\n")
        s = self.srv.tls(STRANGER)
        t0 = time.monotonic()
        code, _ = s.docmd("AUTH", "PLAIN " + plain(LOGIN, "wrong"))
        self.assertEqual(code, 535)
        # told only after control/authdelay
        self.assertGreaterEqual(time.monotonic() - t0, 0.25)
        self.assertEqual(s.docmd("AUTH", "PLAIN " + plain("bob@example.test", PASSWORD))[0], 535)
        # the third failure (control/authmaxfail, 3) ends the session
        self.assertEqual(s.docmd("AUTH", "PLAIN " + plain(LOGIN, "wrong again"))[0], 421)
        with self.assertRaises(smtplib.SMTPServerDisconnected):
            s.docmd("NOOP")
        log = self.srv.logtext()
        self.assertEqual(log.count(": failed"), 3, log)
        self.assertIn("too many failed authentications", log)
        self.assertNotIn("wrong", log)

    def test_cancel_and_garbage(self):
        s = self.srv.tls(STRANGER)
        self.addCleanup(s.close)
        self.assertEqual(s.docmd("AUTH", "PLAIN")[0], 334)
        self.assertEqual(s.docmd("*")[0], 501)
        self.assertEqual(s.docmd("AUTH", "PLAIN !!!notbase64")[0], 501)
        self.assertEqual(s.docmd("AUTH", "CRAM-MD5")[0], 504)
        s.login(LOGIN, PASSWORD)
        self.assertEqual(s.docmd("AUTH", "PLAIN " + plain(LOGIN, PASSWORD))[0], 503)

    def test_authsender(self):
        self.srv.home.control("authsender", "1\n")
        s = self.srv.tls(STRANGER)
        self.addCleanup(s.close)
        s.login(LOGIN, PASSWORD)
        self.assertEqual(s.mail("bob@example.test")[0], 553)
        self.assertEqual(s.mail(LOGIN.upper())[0], 250)


class SubmissionServer(TlsServer):
    env_extra = {"SUBMISSION": "1"}


class SubmissionTest(test_smtpd.SmtpdCase):
    server = SubmissionServer

    def test_mail_needs_auth(self):
        s = self.srv.tls()
        self.addCleanup(s.close)
        self.assertEqual(s.mail("a@client.test")[0], 530)
        s.login(LOGIN, PASSWORD)
        s.sendmail(LOGIN, ["demo@example.test"], message("submitted"))
        self.assertQueued(1)


class SmtpsServer(TlsServer):
    env_extra = {"SMTPS": "1", "SUBMISSION": "1"}

    def _ready(self):
        # the greeting is inside TLS: a connection is enough
        end = time.monotonic() + 10
        while time.monotonic() < end:
            try:
                with socket.create_connection((TRUSTED, self.port), timeout=1):
                    return True
            except OSError:
                time.sleep(0.05)
        return False


class SmtpsTest(test_smtpd.SmtpdCase):
    server = SmtpsServer

    def test_implicit_tls(self):
        s = smtplib.SMTP_SSL(TRUSTED, self.srv.port, local_hostname="client.test",
                             context=client_context(), timeout=20)
        self.addCleanup(s.close)
        s.ehlo()
        self.assertFalse(s.has_extn("starttls"))
        s.login(LOGIN, PASSWORD)
        s.sendmail(LOGIN, ["demo@example.test"], message("smtps"))
        (sender, rcpts, body), = self.assertQueued(1)
        self.assertIn(b"with ESMTPSA", body.split(b"\n")[1])

    def test_clear_text_client_gets_nothing(self):
        r = Raw(self.srv.port)
        r.send(b"EHLO client.test\r\n")
        self.assertFalse(first_bytes(r, 5).startswith(b"220"))


class Base64Test(unittest.TestCase):
    """base64_decode (src/lib), which AUTH's responses go through, against
    python's base64"""
    B64 = os.path.join(harness.UNIT, "base64_test")

    def decode(self, text):
        p = subprocess.run([self.B64, text], capture_output=True)
        return p.stdout if p.returncode == 0 else None

    def test_round_trips(self):
        import base64
        import random
        rnd = random.Random(16)
        for n in list(range(0, 10)) + [255, 256, 382]:
            data = bytes(rnd.randrange(256) for _ in range(n))
            with self.subTest(n=n):
                self.assertEqual(self.decode(base64.b64encode(data).decode()), data)

    def test_refuses_what_is_not_base64(self):
        for text in ("A", "AB", "ABC", "AB=C", "A===", "====", "AB==AB==", "AB\x01D", "AB CD", "AB-_"):
            with self.subTest(text=text):
                self.assertIsNone(self.decode(text))


class LauncherTest(StarttlsTest):
    """the same through tlsd's launcher mode: SSLCTLFD given"""
    server = LauncherServer
    # the launcher, not the certificate, says whether TLS is there
    test_no_starttls_without_a_certificate = None


def worker_variants():
    """each class but LauncherTest again, its server behind smtpd-listen"""
    out = {}
    for c in (StarttlsTest, AuthTest, SubmissionTest, SmtpsTest):
        server = type(c.server.__name__ + "Worker", (c.server, WorkerServer), {})
        out[c.__name__ + "Worker"] = type(c.__name__ + "Worker", (c,), {"server": server})
    return out


globals().update(worker_variants())

if __name__ == "__main__":
    unittest.main()
