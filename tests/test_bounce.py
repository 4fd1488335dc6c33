"""bounce: the failure notice it queues (read back from the queue and
parsed with the email package), its envelope, and what it refuses."""
import email
import email.policy
import email.utils
import os
import shutil
import subprocess
import unittest

import harness
from harness import Home, envelope, parse_todo

BOUNCE = os.path.join(harness.BIN, "bounce")
MSG = (b"From: Alice <alice@example.org>\nTo: bob@example.test\n"
       b"Subject: lunch on friday\nMessage-ID: <m1@example.org>\n\n"
       b"the body: never quoted in a notice\n")


def fnv_subdir(msgid):
    """queue_hash: FNV-1a 32 of the id, modulo conf-split"""
    h = 2166136261
    for c in msgid.encode():
        h = ((h ^ c) * 16777619) & 0xFFFFFFFF
    return h % harness.SPLIT


def b(x):
    return x if isinstance(x, bytes) else x.encode()


def state_file(sender, rcpts, uid=0, size=0):
    """src/lib/state.h: V1, u, z, F, then per recipient (status, address,
    text, lasttry): the fixed R field, the address, the local name; a final
    empty field"""
    out = b"V1\0u%d\0z%d\0F%s\0" % (uid, size, b(sender))
    for status, addr, text, lasttry in rcpts:
        out += (b"R" + b(status) + b"R" + b"%04d" % 3 + b"%010d" % lasttry
                + b(text).ljust(200)[:200] + b"\0" + b(addr) + b"\0" + b"L\0")
    return out + b"\0"


class BounceTest(unittest.TestCase):
    def setUp(self):
        self.home = Home()
        shutil.copy(os.path.join(harness.BIN, "queue-inject"), self.home.path("bin"))
        self.home.control("me", "me.test\n")

    def tearDown(self):
        self.home.cleanup()

    def message(self, sender, rcpts, msg=MSG):
        """a sorted message: its body, no todo entry, the state file we
        write; returns its id"""
        rc, err = self.home.inject(msg, envelope(sender, [r[1] for r in rcpts]))
        self.assertEqual(rc, 0, err)
        (msgid, todo), = self.home.files("todo").items()
        os.unlink(todo)
        path = self.home.path("queue", "state", str(fnv_subdir(msgid)), msgid)
        with open(path, "wb") as f:
            f.write(state_file(sender, rcpts))
        return msgid

    def bounce(self, msgid):
        p = subprocess.run([BOUNCE, msgid], capture_output=True, env=self.home.env, timeout=60)
        return p.returncode, p.stdout.decode(), p.stderr.decode()

    def queued(self):
        """the one message in todo: (sender, recipients, parsed message, raw)"""
        todos = self.home.files("todo")
        self.assertEqual(len(todos), 1, todos)
        (msgid, todo), = todos.items()
        _, sender, rcpts = parse_todo(open(todo, "rb").read())
        raw = open(self.home.files("body")[msgid], "rb").read()
        return sender, rcpts, email.message_from_bytes(raw, policy=email.policy.compat32), raw

    def test_dsn_for_failed_recipients_only(self):
        rcpts = [("F", "gone@example.test", "5.1.1 no such user: gone", 1700000000),
                 ("D", "bob@example.test", "delivered", 1700000000),
                 ("F", "far@example.net", "4.4.1 connection refused by mx.example.net", 1700000100),
                 ("B", "old@example.test", "5.1.1 bounced before", 1700000000),
                 ("F", "full@example.test", "mailbox full", 0)]
        msgid = self.message("alice@example.org", rcpts)
        rc, out, err = self.bounce(msgid)
        self.assertEqual(rc, 0, err)
        self.assertEqual(out, f"queued bounce for {msgid} to alice@example.org\n")
        sender, to, m, _ = self.queued()
        self.assertEqual((sender, to), (b"", [b"alice@example.org"]))
        self.assertEqual(email.utils.parseaddr(m["To"])[1], "alice@example.org")
        self.assertEqual(m["From"], "MAILER-DAEMON@me.test")
        self.assertEqual(m["Subject"], "failure notice: lunch on friday")
        self.assertEqual(m["Message-ID"], f"<{msgid}.bounce@me.test>")
        self.assertEqual(m["Auto-Submitted"], "auto-replied")
        self.assertEqual(m["MIME-Version"], "1.0")
        self.assertIsNotNone(email.utils.parsedate_to_datetime(m["Date"]))
        self.assertEqual(m.get_content_type(), "multipart/report")
        self.assertEqual(m.get_param("report-type"), "delivery-status")
        self.assertIn(msgid, m.get_boundary())
        parts = m.get_payload()
        self.assertEqual([p.get_content_type() for p in parts],
                         ["text/plain", "message/delivery-status", "text/rfc822-headers"])
        text = parts[0].get_payload()
        for a in ("gone@example.test", "far@example.net", "full@example.test",
                  "5.1.1 no such user: gone", "mailbox full"):
            self.assertIn(a, text)
        self.assertNotIn("bob@example.test", text)
        self.assertNotIn("old@example.test", text)
        groups = parts[1].get_payload()
        self.assertEqual(groups[0]["Reporting-MTA"], "dns; me.test")
        arrival = email.utils.parsedate_to_datetime(groups[0]["Arrival-Date"]).timestamp()
        self.assertEqual(int(arrival), int(msgid[:8], 16))
        self.assertEqual([g["Final-Recipient"] for g in groups[1:]],
                         ["rfc822; gone@example.test", "rfc822; far@example.net",
                          "rfc822; full@example.test"])
        self.assertEqual([g["Action"] for g in groups[1:]], ["failed"] * 3)
        self.assertEqual([g["Status"] for g in groups[1:]], ["5.1.1", "5.4.7", "5.0.0"])
        self.assertEqual([g["Diagnostic-Code"] for g in groups[1:]],
                         ["x-postern; 5.1.1 no such user: gone",
                          "x-postern; 4.4.1 connection refused by mx.example.net",
                          "x-postern; mailbox full"])
        self.assertEqual(email.utils.parsedate_to_datetime(groups[2]["Last-Attempt-Date"]).timestamp(),
                         1700000100)
        self.assertIsNone(groups[3]["Last-Attempt-Date"])
        headers = parts[2].get_payload()
        self.assertTrue(headers.startswith("Received: (postern "), headers)
        self.assertIn("Subject: lunch on friday\nMessage-ID: <m1@example.org>\n", headers)
        self.assertNotIn("never quoted", headers)
        self.assertNotIn(b"never quoted", self.queued()[3])

    def test_status_codes_from_the_text(self):
        texts = {"5.7.1 refused by policy": "5.7.1", "5.1.10 null MX": "5.1.10",
                 "5.4.6 mail loop": "5.4.6", "4.2.2 over quota": "5.4.7",
                 "5.1 half a code": "5.0.0", "5.1.1x glued": "5.0.0", "2.0.0 odd": "5.0.0",
                 "": "5.0.0"}
        rcpts = [("F", "r%d@example.test" % i, t, 0) for i, t in enumerate(texts)]
        rc, _, err = self.bounce(self.message("alice@example.org", rcpts))
        self.assertEqual(rc, 0, err)
        groups = self.queued()[2].get_payload()[1].get_payload()[1:]
        self.assertEqual([g["Status"] for g in groups], list(texts.values()))
        self.assertEqual(groups[-1]["Diagnostic-Code"], "x-postern; no reason recorded")

    def test_no_line_over_998_bytes(self):
        msg = (b"Subject: " + b"s" * 3000 + b"\nX-Long: " + b"x" * 5000 + b"\n"
               b"X-Folded: one\n two\n\nbody\n")
        msgid = self.message("alice@example.org", [("F", "gone@example.test", "5.1.1 no", 0)], msg)
        rc, _, err = self.bounce(msgid)
        self.assertEqual(rc, 0, err)
        _, _, m, raw = self.queued()
        lines = raw.split(b"\n")
        self.assertLessEqual(max(len(x) for x in lines), 998)
        self.assertTrue(m["Subject"].startswith("failure notice: sss"))
        self.assertLess(len(m["Subject"]), 300)
        headers = m.get_payload()[2].get_payload()
        self.assertIn("X-Long: xxx", headers)
        self.assertIn("X-Folded: one\n two\n", headers)

    def test_headers_bounded_and_cut_at_a_line(self):
        msg = b"".join(b"X-Filler-%05d: %s\n" % (i, b"f" * 60) for i in range(2000))
        msgid = self.message("alice@example.org", [("F", "gone@example.test", "5.1.1 no", 0)], msg)
        rc, _, err = self.bounce(msgid)
        self.assertEqual(rc, 0, err)
        parts = self.queued()[2].get_payload()
        headers = parts[2].get_payload()
        self.assertLessEqual(len(headers), 65536)
        self.assertGreater(len(headers), 60000)
        self.assertTrue(headers.endswith("f" * 60 + "\n"), headers[-100:])
        self.assertIn("cut at 65536 bytes", parts[0].get_payload())

    def test_boundary_unique_even_if_quoted(self):
        rcpts = [("F", "gone@example.test", "5.1.1 no", 0)]
        msgid = self.message("alice@example.org", rcpts)
        body = self.home.files("body")[msgid]
        with open(body, "wb") as f:
            f.write(b"X-Trap: --postern-%s\n--postern-%s\n--postern-%s.1--\n\nbody\n"
                    % ((msgid.encode(),) * 3))
        rc, _, err = self.bounce(msgid)
        self.assertEqual(rc, 0, err)
        m = self.queued()[2]
        self.assertEqual(m.get_boundary(), f"postern-{msgid}.2")
        parts = m.get_payload()
        self.assertEqual(len(parts), 3)
        self.assertIn(f"--postern-{msgid}.1--", parts[2].get_payload())

    def test_bounce_of_a_bounce_goes_to_postmaster(self):
        rcpts = [("F", "gone@example.test", "5.1.1 no such user: gone", 0)]
        for setting, expect in ((None, "postmaster@me.test"), ("ops\n", "ops@me.test"),
                                ("ops@example.net\n", "ops@example.net")):
            with self.subTest(doublebounceto=setting):
                if setting:
                    self.home.control("doublebounceto", setting)
                msgid = self.message("", rcpts)
                rc, out, err = self.bounce(msgid)
                self.assertEqual(rc, 0, err)
                self.assertEqual(out, f"queued bounce for {msgid} to {expect}\n")
                sender, to, m, _ = self.queued()
                self.assertEqual((sender, to), (b"#@[]", [expect.encode()]))
                self.assertEqual(email.utils.parseaddr(m["To"])[1], expect)
                self.assertEqual(m.get_param("report-type"), "delivery-status")
                for tree in ("todo", "body", "state"):
                    for p in self.home.files(tree).values():
                        os.unlink(p)

    def test_failed_double_bounce_is_dropped(self):
        msgid = self.message("#@[]", [("F", "postmaster@me.test", "5.1.1 no such user", 0)])
        rc, out, err = self.bounce(msgid)
        self.assertEqual((rc, out, err), (0, f"dropped double bounce for {msgid}\n", ""))
        self.assertEqual(self.home.files("todo"), {})
        self.assertEqual(list(self.home.files("body")), [msgid])

    def test_empty_doublebounceto_drops_double_bounces(self):
        self.home.control("doublebounceto", "\n")
        msgid = self.message("", [("F", "gone@example.test", "5.1.1 no", 0)])
        rc, out, err = self.bounce(msgid)
        self.assertEqual((rc, out), (0, f"dropped double bounce for {msgid}\n"), err)
        self.assertEqual(self.home.files("todo"), {})

    def test_me_defaults_to_the_host_name(self):
        os.unlink(self.home.path("control", "me"))
        msgid = self.message("", [("F", "gone@example.test", "5.1.1 no", 0)])
        rc, out, err = self.bounce(msgid)
        self.assertEqual(rc, 0, err)
        host = os.uname().nodename
        self.assertEqual(out, f"queued bounce for {msgid} to postmaster@{host}\n")
        m = self.queued()[2]
        self.assertEqual(m["From"], f"MAILER-DAEMON@{host}")
        self.assertEqual(m.get_payload()[1].get_payload()[0]["Reporting-MTA"], f"dns; {host}")

    def test_missing_state_file_queues_nothing(self):
        msgid = self.message("alice@example.org", [("F", "gone@example.test", "5.1.1 no", 0)])
        os.unlink(self.home.files("state")[msgid])
        rc, out, err = self.bounce(msgid)
        self.assertEqual((rc, out), (111, ""))
        self.assertIn("bounce: fatal: unable to open queue/state/", err)
        self.assertEqual(self.home.files("todo"), {})

    def test_no_failed_recipient_is_permanent(self):
        msgid = self.message("alice@example.org", [("D", "bob@example.test", "ok", 0),
                                                   ("B", "gone@example.test", "5.1.1 no", 0)])
        rc, out, err = self.bounce(msgid)
        self.assertEqual((rc, out), (100, ""), err)
        self.assertIn("no failed recipient", err)
        self.assertEqual(self.home.files("todo"), {})

    def test_malformed_state_is_permanent(self):
        msgid = self.message("alice@example.org", [("F", "gone@example.test", "5.1.1 no", 0)])
        path = self.home.files("state")[msgid]
        data = open(path, "rb").read()
        with open(path, "wb") as f:
            f.write(data[:-1])
        rc, _, err = self.bounce(msgid)
        self.assertEqual(rc, 100, err)
        self.assertIn("malformed", err)
        self.assertEqual(self.home.files("todo"), {})

    def test_usage(self):
        for args in ([], ["../../etc/passwd"], ["0123456789abcdef.1", "x"], ["0123456789ABCDEF.1"]):
            with self.subTest(args=args):
                p = subprocess.run([BOUNCE] + args, capture_output=True, env=self.home.env)
                self.assertEqual(p.returncode, 100)
                self.assertIn(b"usage: bounce id", p.stderr)

    def test_queue_inject_exit_code_is_reported(self):
        msgid = self.message("alice@example.org", [("F", "gone@example.test", "5.1.1 no", 0)])
        qi = self.home.path("bin", "queue-inject")
        with open(qi, "w") as f:
            f.write("#!/bin/sh\nexit 53\n")
        rc, out, err = self.bounce(msgid)
        self.assertEqual((rc, out), (111, ""))
        self.assertIn(f"unable to queue the notice for {msgid}: queue-inject exited 53: "
                      "unable to write the queue: disk full or write error", err)
        self.assertEqual(self.home.files("todo"), {})

    def test_real_queue_inject_failure(self):
        msgid = self.message("alice@example.org", [("F", "gone@example.test", "5.1.1 no", 0)])
        os.rename(self.home.path("queue", "todo"), self.home.path("todo.away"))
        rc, out, err = self.bounce(msgid)
        self.assertEqual((rc, out), (111, ""))
        self.assertIn("queue-inject exited 66: problem with queue/todo", err)
        self.assertEqual(list(self.home.files("body")), [msgid])

    def test_missing_queue_inject(self):
        msgid = self.message("alice@example.org", [("F", "gone@example.test", "5.1.1 no", 0)])
        os.unlink(self.home.path("bin", "queue-inject"))
        rc, out, err = self.bounce(msgid)
        self.assertEqual((rc, out), (111, ""))
        # posix_spawn reports the failed exec to bounce itself
        self.assertIn("unable to start queue-inject: No such file or directory", err)


if __name__ == "__main__":
    unittest.main()
