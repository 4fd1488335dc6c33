"""The quick-start instance at ./run that `make run` and `make check` set
up and start (CONTRACTS.md, the instance table): its layout, smtpd on
127.0.0.1:2525 delivering demo@example.test into run/mail/demo/Maildir/,
relaying for 127.0.0.1 only. The tests only open sessions and add one
message, so a running `make run` instance stays as it was. Skipped when
no s6-svscan runs on run/service, but under `make check`, which starts
one and sets POSTERN_CHECK_INSTANCE: then a missing instance fails. The
service tree itself is tested on a home of its own in test_service.py."""
import mailbox
import os
import pwd
import smtplib
import stat
import subprocess
import time
import unittest

import harness
from harness import wait_for

RUN = os.path.join(harness.TOP, "run")
SCAN = os.path.join(RUN, "service")
ADDR = ("127.0.0.1", 2525)
SUBMISSION = ("127.0.0.1", 2587)
SMTPS = ("127.0.0.1", 2465)
LOGIN = "demo@example.test"


def programs():
    src = os.path.join(harness.TOP, "src")
    return sorted(d for d in os.listdir(src)
                  if os.path.isdir(os.path.join(src, d)) and d not in ("lib", "install"))


def running():
    return os.path.isdir(SCAN) and \
        subprocess.run(["s6-svscanctl", "-a", SCAN], capture_output=True).returncode == 0


def pid_of(svc):
    p = subprocess.run(["s6-svstat", "-o", "up,pid", os.path.join(SCAN, svc)],
                       capture_output=True, text=True)
    up, pid = p.stdout.split()
    return int(pid) if up == "true" else 0


REQUIRED = bool(os.environ.get("POSTERN_CHECK_INSTANCE"))


@unittest.skipUnless(REQUIRED or running(), "no instance runs on run/service: make check or make run starts it")
class QuickStartTest(unittest.TestCase):
    def setUp(self):
        self.assertTrue(running(), "make check started no quick-start instance on run/service")

    def test_layout(self):
        for p in programs():
            with self.subTest(program=p):
                self.assertTrue(os.access(os.path.join(RUN, "bin", p), os.X_OK), p)
        for f in ("me", "locals.cdb", "rcpthosts.cdb", "users.cdb", "tcp.smtp.cdb"):
            self.assertTrue(os.path.isfile(os.path.join(RUN, "control", f)), f)
        for t in harness.TREES:
            self.assertTrue(os.path.isdir(os.path.join(RUN, "queue", t, "0")), t)
        for svc in ("send", "smtpd", "submission", "smtps", "queue-writer", "tlsd"):
            self.assertTrue(os.access(os.path.join(SCAN, svc, "run"), os.X_OK))
            self.assertTrue(os.access(os.path.join(SCAN, svc, "log", "run"), os.X_OK))
            self.assertTrue(os.path.isfile(os.path.join(RUN, "log", svc, "current")), svc)
        if os.getuid() == 0:
            st = os.stat(os.path.join(RUN, "bin", "queue-inject"))
            self.assertEqual(stat.S_IMODE(st.st_mode), 0o4711)

    def test_programs_run_from_run_bin_with_run_compiled_in(self):
        send = pid_of("send")
        self.assertTrue(send)
        self.assertEqual(os.readlink(f"/proc/{send}/exe"), os.path.join(RUN, "bin", "send-start"))
        tcp = pid_of("smtpd")
        self.assertTrue(tcp)
        with open(f"/proc/{tcp}/cmdline", "rb") as f:
            args = f.read().split(b"\0")
        self.assertIn(os.path.join(RUN, "bin", "smtpd").encode(), args)
        self.assertIn(b"2525", args)
        self.assertIn(b"127.0.0.1", args)
        # a setuid queue-inject ignores POSTERN_HOME: ./run must be built in
        with open(os.path.join(RUN, "bin", "queue-inject"), "rb") as f:
            self.assertIn(RUN.encode() + b"\0", f.read())

    def test_demo_mail_lands_in_run_mail_demo(self):
        maildir = os.path.join(RUN, "mail", "demo", "Maildir")
        subject = f"quick start check {os.getpid()} {time.time_ns()}"
        with smtplib.SMTP(*ADDR, timeout=30) as s:
            refused = s.sendmail("checker@example.test", ["demo@example.test"],
                                 f"Subject: {subject}\r\n\r\nhello\r\n")
        self.assertEqual(refused, {})

        def landed():
            try:
                return [k for k, m in mailbox.Maildir(maildir, create=False).items()
                        if m["Subject"] == subject]
            except (FileNotFoundError, mailbox.Error):
                return []
        keys = wait_for(landed, 30, 0.2)
        self.assertEqual(len(keys), 1)
        md = mailbox.Maildir(maildir, create=False)
        self.assertEqual(md[keys[0]]["Delivered-To"], "demo@example.test")
        path = os.path.join(maildir, "new", keys[0])
        self.assertTrue(os.path.isfile(path), path)
        if os.getuid() == 0:
            self.assertEqual(pwd.getpwuid(os.stat(path).st_uid).pw_name, "postern-demo")

    def landed(self, subject):
        maildir = os.path.join(RUN, "mail", "demo", "Maildir")

        def find():
            try:
                return [m for m in mailbox.Maildir(maildir, create=False)
                        if m["Subject"] == subject]
            except (FileNotFoundError, mailbox.Error):
                return []
        found = wait_for(find, 30, 0.2)
        self.assertEqual(len(found), 1)
        return found[0]

    def test_submission_with_the_demo_login(self):
        """what the README shows: STARTTLS then AUTH on 2587, TLS at once
        on 2465, with the password make run left in run/demo-password"""
        pwfile = os.path.join(RUN, "demo-password")
        self.assertEqual(stat.S_IMODE(os.stat(pwfile).st_mode), 0o600)
        with open(pwfile) as f:
            password = f.readline().strip()
        ctx = harness.tls_client(RUN)
        for name, addr in (("submission", SUBMISSION), ("smtps", SMTPS)):
            with self.subTest(service=name):
                subject = f"quick start {name} {os.getpid()} {time.time_ns()}"
                if name == "smtps":
                    s = smtplib.SMTP_SSL(*addr, timeout=30, context=ctx)
                else:
                    s = smtplib.SMTP(*addr, timeout=30)
                with s:
                    s.ehlo("client.example.test")
                    if name == "submission":
                        self.assertFalse(s.has_extn("auth"))
                        s.starttls(context=ctx)
                        s.ehlo("client.example.test")
                    s.login(LOGIN, password)
                    self.assertEqual(s.sendmail(LOGIN, [LOGIN], f"Subject: {subject}\r\n\r\nhello\r\n"), {})
                received = [r for r in self.landed(subject).get_all("Received") if " with ESMTP" in r]
                self.assertEqual(len(received), 1)
                self.assertIn("with ESMTPSA", received[0])

    def test_starttls_on_2525(self):
        with smtplib.SMTP(*ADDR, timeout=30) as s:
            s.ehlo("client.example.test")
            self.assertTrue(s.has_extn("starttls"))
            s.starttls(context=harness.tls_client(RUN))
            s.ehlo("client.example.test")
            self.assertIn(s.sock.version(), ("TLSv1.2", "TLSv1.3"))

    def test_only_127_0_0_1_relays(self):
        for source, relays in (("127.0.0.1", True), ("127.0.0.2", False), ("127.0.0.3", False)):
            with self.subTest(source=source):
                with smtplib.SMTP(*ADDR, timeout=30, source_address=(source, 0)) as s:
                    s.ehlo("client.example.test")
                    s.mail("checker@example.test")
                    code, text = s.rcpt("someone@elsewhere.example")
                    if relays:
                        self.assertEqual(code, 250, text)
                    else:
                        self.assertGreaterEqual(code, 500, text)
                    self.assertEqual(s.rcpt("demo@example.test")[0], 250)
                    s.rset()


if __name__ == "__main__":
    unittest.main()
