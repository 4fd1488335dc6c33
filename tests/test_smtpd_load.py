"""Postfix's smtp-source (package postfix, installed for its tools only;
Postfix itself never runs) through tcpserver and smtpd: 2,000 messages at
concurrency 20, each queued once."""
import os
import re
import subprocess
import unittest

from test_smtpd import TRUSTED, SmtpdCase

SMTP_SOURCE = "/usr/sbin/smtp-source"
MESSAGES = 2000
SESSIONS = 20


@unittest.skipUnless(os.path.exists(SMTP_SOURCE), "no smtp-source (make deps installs postfix)")
class SmtpSourceTest(SmtpdCase):
    def test_2000_messages_at_concurrency_20(self):
        # -N numbers each recipient: every message has its own, so a lost
        # or a doubled message shows in the queue
        p = subprocess.run([SMTP_SOURCE, "-s", str(SESSIONS), "-m", str(MESSAGES), "-l", "1024", "-N",
                            "-M", "client.test", "-f", "src@client.test", "-t", "rcpt@relayed.test",
                            "-S", "load", f"{TRUSTED}:{self.srv.port}"],
                           capture_output=True, text=True, timeout=600)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        q = self.srv.queued()
        self.assertEqual(len(q), MESSAGES, self.srv.logtext()[-2000:])
        rcpts = [r for _, rc, _ in q for r in rc]
        self.assertEqual(len(rcpts), MESSAGES)
        self.assertEqual(len(set(rcpts)), MESSAGES, "a recipient was queued twice")
        for r in rcpts:
            self.assertRegex(r.decode(), r"^\d+rcpt@relayed\.test$")
        self.assertTrue(all(s == b"src@client.test" for s, _, _ in q))
        self.assertTrue(all(b"\nSubject: load\n" in b for _, _, b in q))
        log = self.srv.logtext()
        self.assertEqual(len(re.findall(r"^ok pid \d+ qp \d+ ", log, re.M)), MESSAGES)
        self.assertNotIn("reject", log)


if __name__ == "__main__":
    unittest.main()
