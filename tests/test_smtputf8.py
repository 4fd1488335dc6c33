"""SMTPUTF8 (RFC 6531): smtpd offers it, takes well-formed UTF-8 local
parts only in a transaction whose MAIL had the SMTPUTF8 parameter (553
5.6.7 without, 501 for malformed UTF-8) and writes "with UTF8SMTP" in
its Received line; the round trip through smtpd, send and local into a
Maildir named by control/users; remote gives SMTPUTF8 to a receiver
that offers it and bounces with 5.6.7 where the next hop does not."""
import email
import email.policy
import mailbox
import os
import smtplib
import unittest

import receiver
import test_remote_system
import test_smtpd_tls
from harness import maildir_count, wait_for
from test_smtpd import SmtpdCase

JOSE = "jösé@example.test"


def utf8_message(to=JOSE, subject="Grüße aus Köln ✓", frm="demo@example.test"):
    return (f"From: {frm}\r\nTo: {to}\r\nSubject: {subject}\r\nMIME-Version: 1.0\r\n"
            f"Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n"
            f"Message-ID: <utf8.{abs(hash(subject))}@example.test>\r\n\r\n"
            f"Hallo, José!\r\n").encode()


class SmtpdUtf8Test(SmtpdCase):
    def setUp(self):
        super().setUp()
        self.srv.table("users", f"demo demo:4242:4242:{self.srv.home.dir}\n"
                                f"jösé jose:4244:4244:{self.srv.home.dir}\n")

    def smtp(self):
        s = self.srv.smtp()
        self.addCleanup(s.close)
        s.ehlo()
        # smtplib only sends UTF-8 commands inside sendmail(SMTPUTF8)
        s.command_encoding = "utf-8"
        return s

    def test_ehlo_offers_smtputf8(self):
        s = self.smtp()
        self.assertTrue(s.has_extn("smtputf8"), s.esmtp_features)
        self.assertTrue(s.has_extn("8bitmime"))

    def test_utf8_message_queued_with_utf8smtp_received(self):
        s = self.srv.smtp()
        self.addCleanup(s.close)
        refused = s.sendmail("rené@example.test", [JOSE], utf8_message(), mail_options=["SMTPUTF8"])
        self.assertEqual(refused, {})
        (sender, rcpts, body), = self.assertQueued(1)
        self.assertEqual(sender, "rené@example.test".encode())
        self.assertEqual(rcpts, [JOSE.encode()])
        received = body.split(b"\n")[1]
        self.assertRegex(received, rb"^Received: from client\.test \(127\.0\.0\.1\) by test\.me with UTF8SMTP;")
        self.assertIn("Subject: Grüße aus Köln ✓".encode(), body)

    def test_ascii_case_folded_only(self):
        """JöSé is jösé (ASCII letters folded), JÖSÉ is nobody (UTF-8 bytes kept)"""
        s = self.smtp()
        self.assertEqual(s.docmd("MAIL FROM:<a@client.test> SMTPUTF8")[0], 250)
        self.assertEqual(s.docmd("RCPT TO:<JöSé@example.test>")[0], 250)
        code, text = s.docmd("RCPT TO:<JÖSÉ@example.test>")
        self.assertEqual(code, 550, text)

    def test_recipients_compile_keeps_utf8_names(self):
        """control/recipients.cdb (recipients-compile) names the UTF-8
        user, its .postern- extension and a UTF-8 alias"""
        import subprocess
        import harness
        home = self.srv.home.path("jose")
        os.mkdir(home)
        open(os.path.join(home, ".postern-café"), "w").close()
        self.srv.table("users", f"jösé jose:4244:4244:{home}\n")
        self.srv.table("aliases", "rené jösé@example.test\n")
        p = subprocess.run([os.path.join(harness.BIN, "recipients-compile")], env=self.srv.home.env,
                           capture_output=True, text=True)
        self.assertEqual((p.returncode, p.stderr), (0, ""))
        s = self.smtp()
        self.assertEqual(s.docmd("MAIL FROM:<a@client.test> SMTPUTF8")[0], 250)
        got = {r: s.docmd(f"RCPT TO:<{r}>")[0] for r in
               (JOSE, "JöSé@example.test", "jösé-café@example.test", "rené@example.test",
                "jösé-tea@example.test", "demo@example.test")}
        self.assertEqual(got, {JOSE: 250, "JöSé@example.test": 250, "jösé-café@example.test": 250,
                               "rené@example.test": 250, "jösé-tea@example.test": 550,
                               "demo@example.test": 550})

    def test_utf8_recipient_without_smtputf8_is_553_5_6_7_and_nothing_queued(self):
        s = self.smtp()
        self.assertEqual(s.docmd("MAIL FROM:<a@client.test>")[0], 250)
        code, text = s.docmd(f"RCPT TO:<{JOSE}>")
        self.assertEqual((code, text[:5]), (553, b"5.6.7"), text)
        self.assertEqual(s.docmd("DATA")[0], 503)
        s.rset()
        self.assertEqual(s.docmd("QUIT")[0], 221)
        self.assertQueued(0)

    def test_utf8_sender_without_smtputf8_is_553_5_6_7(self):
        s = self.smtp()
        code, text = s.docmd("MAIL FROM:<rené@client.test>")
        self.assertEqual((code, text[:5]), (553, b"5.6.7"), text)
        self.assertEqual(s.docmd("RCPT TO:<demo@example.test>")[0], 503)

    def test_malformed_utf8_refused_even_with_smtputf8(self):
        bad = {
            "overlong /": b"\xc0\xaf",
            "overlong 3-byte": b"\xe0\x80\xaf",
            "overlong 4-byte": b"\xf0\x80\x80\xaf",
            "surrogate": b"\xed\xa0\x80",
            "bad continuation": b"\xc3\x28",
            "truncated": b"\xe2\x82",
            "lone continuation": b"\x80",
            "past U+10FFFF": b"\xf4\x90\x80\x80",
            "0xff": b"\xff",
            "C1 control": b"\xc2\x85",
        }
        def session():
            r = self.srv.raw()
            self.addCleanup(r.close)
            r.reply()
            r.send(b"EHLO client.test\r\n")
            r.reply()
            return r
        for name, b in bad.items():
            with self.subTest(name):
                r = session()
                r.send(b"MAIL FROM:<a@client.test> SMTPUTF8\r\nRCPT TO:<j" + b + b"@example.test>\r\n"
                       b"RSET\r\nMAIL FROM:<a" + b + b"@client.test> SMTPUTF8\r\n")
                (c1, _), (c2, t2), _, (c3, t3) = r.replies(4)
                self.assertEqual((c1, c2, c3), (250, 501, 501), (t2, t3))
                if name != "bad continuation":  # "(" ends the local part: plain bad syntax
                    self.assertIn("malformed UTF-8", t2[0])
                    self.assertIn("malformed UTF-8", t3[0])
        self.assertQueued(0)

    def test_smtputf8_is_a_mail_parameter_only(self):
        s = self.smtp()
        self.assertEqual(s.docmd("MAIL FROM:<a@client.test> SMTPUTF8")[0], 250)
        self.assertEqual(s.docmd("RCPT TO:<demo@example.test> SMTPUTF8")[0], 555)

    def test_smtputf8_ends_with_the_transaction(self):
        s = self.smtp()
        self.assertEqual(s.docmd("MAIL FROM:<a@client.test> SMTPUTF8")[0], 250)
        self.assertEqual(s.docmd(f"RCPT TO:<{JOSE}>")[0], 250)
        s.rset()
        s.command_encoding = "utf-8"
        self.assertEqual(s.docmd("MAIL FROM:<a@client.test>")[0], 250)
        self.assertEqual(s.docmd(f"RCPT TO:<{JOSE}>")[0], 553)


class Utf8TlsTest(SmtpdCase):
    """the protocol name with TLS and AUTH: UTF8SMTPS, UTF8SMTPSA"""
    server = test_smtpd_tls.TlsServer

    def test_received_says_utf8smtps_then_utf8smtpsa(self):
        s = self.srv.tls()
        self.addCleanup(s.close)
        s.sendmail("rené@client.test", ["demo@example.test"], utf8_message(to="demo@example.test"),
                   mail_options=["SMTPUTF8"])
        s.login(test_smtpd_tls.LOGIN, test_smtpd_tls.PASSWORD)
        s.sendmail(test_smtpd_tls.LOGIN, ["rené@elsewhere.example"], utf8_message(to="rené@elsewhere.example"),
                   mail_options=["SMTPUTF8"])
        q = self.assertQueued(2)
        protos = sorted(b.split(b"\n")[1].split(b" with ")[1].split(b"\n")[0] for _, _, b in q)
        self.assertEqual(protos, [b"UTF8SMTPS", b"UTF8SMTPSA"], q)


class Utf8SystemTest(test_remote_system.RemoteSystemCase):
    start_smtpd = test_remote_system.SmtpEndToEndTest.start_smtpd

    def dsn_status(self):
        md = mailbox.Maildir(self.maildir, create=False)
        dsn = email.message_from_bytes(md.get_bytes(next(iter(md.keys()))), policy=email.policy.default)
        groups = list(dsn.iter_parts())[1].get_payload()
        return {g["Final-Recipient"]: g["Status"] for g in groups[1:]}

    def test_round_trip_into_the_maildir_of_a_utf8_user(self):
        self.inst.users({"demo": self.demo, "jösé": self.demo})
        self.inst.table("aliases", "rené demo@example.test\n")
        self.inst.start()
        port = self.start_smtpd()
        s = smtplib.SMTP("127.0.0.1", port, local_hostname="client.test", timeout=30)
        try:
            self.assertTrue(s.ehlo()[0] == 250 and s.has_extn("smtputf8"))
            refused = s.sendmail("rené@example.test", [JOSE, "rené@example.test"], utf8_message(),
                                 mail_options=["SMTPUTF8"])
            self.assertEqual(refused, {})
        finally:
            s.quit()
        self.assertTrue(wait_for(lambda: maildir_count(self.maildir) >= 2, 30), self.log())
        md = mailbox.Maildir(self.maildir, create=False, factory=None)
        got = sorted((m.get_all("Delivered-To")[0], m) for m in
                     (email.message_from_bytes(md.get_bytes(k), policy=email.policy.default) for k in md.keys()))
        self.assertEqual([d for d, _ in got], ["demo@example.test", JOSE])
        for _, m in got:
            self.assertEqual(m["Subject"], "Grüße aus Köln ✓")
            self.assertEqual(m["Return-Path"], "<rené@example.test>")
            self.assertIn(" with UTF8SMTP;", " ".join(str(r) for r in m.get_all("Received")))
            self.assertEqual(m.get_content(), "Hallo, José!\n")
        self.assertQueueEmpty()

    @unittest.skipUnless(receiver.can_listen_25(), "needs port 25")
    def test_remote_to_a_receiver_offering_smtputf8(self):
        rx = self.receivers(u_test={"smtputf8": True})
        self.inst.start()
        self.inject(utf8_message(to="rené@u.test").replace(b"\r\n", b"\n"), ["rené@u.test", "plain@u.test"],
                    sender=JOSE)
        self.assertTrue(rx["u.test"].wait(1, 20), self.log())
        m, = rx["u.test"].messages
        self.assertEqual((m.sender, m.rcpts), (JOSE, ["rené@u.test", "plain@u.test"]))
        self.assertIn("SMTPUTF8", m.mail_options)
        self.assertIn("BODY=8BITMIME", m.mail_options)
        self.assertIn("Subject: Grüße aus Köln ✓".encode(), m.data)
        self.assertQueueEmpty()

    def test_remote_to_a_receiver_without_smtputf8_bounces_5_6_7(self):
        rx = self.receivers(n_test={})
        self.inst.start()
        self.inject(utf8_message(to="rené@n.test").replace(b"\r\n", b"\n"), ["rené@n.test", "plain@n.test"])
        self.assertTrue(wait_for(lambda: maildir_count(self.maildir) >= 1, 30), self.log())
        # every recipient fails (one job, one host); a UTF-8 address is
        # reported as RFC 6533's utf-8 type, in its ASCII (xtext) form
        self.assertEqual(self.dsn_status(), {"utf-8; ren\\x{E9}@n.test": "5.6.7",
                                             "rfc822; plain@n.test": "5.6.7"})
        self.assertEqual(rx["n.test"].messages, [])
        self.assertNotIn("MAIL", rx["n.test"].command_names())
        self.assertIn("does not offer SMTPUTF8", self.log())
        self.assertQueueEmpty()

    def test_utf8_header_only_gets_smtputf8_where_offered_and_passes_where_not(self):
        """an ASCII envelope with a raw UTF-8 header: SMTPUTF8 to a server
        that offers it; to one that does not it goes as before (mail that
        never asked for SMTPUTF8 is not bounced for its header)"""
        rx = self.receivers(u_test={"smtputf8": True}, n_test={})
        self.inst.start()
        msg = utf8_message(to="x@u.test, y@n.test").replace(b"\r\n", b"\n")
        self.inject(msg, ["x@u.test", "y@n.test"])
        self.assertTrue(rx["u.test"].wait(1, 20) and rx["n.test"].wait(1, 20), self.log())
        self.assertIn("SMTPUTF8", rx["u.test"].messages[0].mail_options)
        self.assertNotIn("SMTPUTF8", rx["n.test"].messages[0].mail_options)
        self.assertQueueEmpty()

    def test_ascii_mail_gets_no_smtputf8(self):
        rx = self.receivers(u_test={"smtputf8": True})
        self.inst.start()
        self.inject(b"From: demo@example.test\nSubject: plain\n\nplain\n", ["x@u.test"])
        self.assertTrue(rx["u.test"].wait(1, 20), self.log())
        self.assertNotIn("SMTPUTF8", rx["u.test"].messages[0].mail_options)


if __name__ == "__main__":
    unittest.main()
