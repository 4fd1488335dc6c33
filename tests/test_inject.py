"""inject, the sendmail command: a whole instance in a private home
(build/bin programs, which honour POSTERN_HOME) delivers what inject
queues to local Maildirs, as cron, git send-email, mutt and PHP use it;
the exit codes of refusals and queue failures; the sendmail link that
make install offers."""
import email
import email.policy
import email.utils
import hashlib
import mailbox
import os
import pwd
import re
import shutil
import subprocess
import tempfile
import unittest

import harness
from harness import Instance, maildir_count, parse_todo, wait_for

DOMAIN = "example.test"
DEFAULTHOST = "mail.example.test"


def header_lines(raw, name):
    """the lines of a raw message's header section starting with name:"""
    head = raw.split(b"\n\n", 1)[0]
    return [l for l in head.split(b"\n") if l.lower().startswith(name.lower() + b":")]


class InjectTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="postern-inject-")
        self.inst = Instance(home=self.tmp + "/h", bindir=harness.BIN)
        self.inst.control("me", DOMAIN + "\n")
        self.inst.control("defaulthost", DEFAULTHOST + "\n")
        self.inst.table("locals", DOMAIN + "\n")
        self.boxes = {}
        for name in ("demo", "a", "b", "c", "d"):
            self.boxes[name] = self.inst.mailbox_user(name)
        self.inst.users(self.boxes)
        self.inject_bin = os.path.join(self.inst.bin, "inject")
        self.env = {k: v for k, v in self.inst.env.items() if k not in ("MAILUSER", "MAILNAME", "NAME")}

    def tearDown(self):
        self.inst.cleanup()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def inject(self, args, message, env=None):
        p = subprocess.run([self.inject_bin] + list(args), input=message, capture_output=True,
                           env=env or self.env, timeout=120)
        return p.returncode, p.stderr.decode(errors="replace")

    def maildir(self, name):
        return os.path.join(self.boxes[name][2], "Maildir")

    def delivered(self, name, n=1):
        """the raw messages in name's Maildir, once n have arrived"""
        md = self.maildir(name)
        self.assertTrue(wait_for(lambda: maildir_count(md) >= n, 60),
                        f"{maildir_count(md)} of {n} delivered to {name}\n" + self.inst.log()[-2000:])
        out = []
        for sub in ("new", "cur"):
            for f in sorted(os.listdir(os.path.join(md, sub))):
                with open(os.path.join(md, sub, f), "rb") as fh:
                    out.append(fh.read())
        self.assertEqual(len(out), n)
        return out

    def assertNothingQueued(self):
        self.assertEqual(self.inst.queue_files(), [])

    def test_cron_style_gets_date_message_id_and_from(self):
        self.inst.start()
        for _ in range(2):
            rc, err = self.inject(["demo"], b"body of the cron job\n")
            self.assertEqual(rc, 0, err)
        pw = pwd.getpwuid(os.getuid())
        user, gecos = pw.pw_name, pw.pw_gecos.split(",")[0]
        self.delivered("demo", 2)
        md = mailbox.Maildir(self.maildir("demo"), create=False)
        ids = set()
        for m in md:
            self.assertEqual(m["Return-Path"], f"<{user}@{DOMAIN}>")
            self.assertEqual(m["Delivered-To"], f"demo@{DOMAIN}")
            self.assertEqual(email.utils.parseaddr(m["From"]), (gecos, f"{user}@{DEFAULTHOST}"))
            self.assertIsNotNone(email.utils.parsedate_to_datetime(m["Date"]))
            self.assertRegex(m["Message-ID"], r"^<[^<>@\s]+@" + re.escape(DEFAULTHOST) + ">$")
            ids.add(m["Message-ID"])
            self.assertEqual(m.get_payload(), "body of the cron job\n")
        self.assertEqual(len(ids), 2, ids)

    def test_full_name_and_user_from_options_and_environment(self):
        env = dict(self.env, MAILUSER="robot", NAME="Ignored Name")
        rc, err = self.inject(["-FCron Daemon", "demo"], b"x\n", env)
        self.assertEqual(rc, 0, err)
        env = dict(self.env, MAILUSER="robot", NAME="Zoë \"Z\" Müller")
        rc, err = self.inject(["demo"], b"y\n", env)
        self.assertEqual(rc, 0, err)
        self.inst.start()
        froms = sorted((m["From"].addresses[0].display_name, m["From"].addresses[0].addr_spec)
                       for m in (email.message_from_bytes(r, policy=email.policy.default)
                                 for r in self.delivered("demo", 2)))
        self.assertEqual(froms, [("Cron Daemon", f"robot@{DEFAULTHOST}"),
                                 ('Zoë "Z" Müller', f"robot@{DEFAULTHOST}")])

    def test_t_reads_to_cc_bcc_and_drops_bcc(self):
        msg = (b"To: A Person <a@example.test>, friends: \"B, the second\" <b>;\n"
               b"Cc: (a comment) undisclosed-recipients:;,\n"
               b"\tc@example.test\n"
               b"Bcc: hidden <d@example.test>\n"
               b"Subject: to everyone\n\nhello\n")
        self.inst.start()
        rc, err = self.inject(["-t", "demo"], msg)
        self.assertEqual(rc, 0, err)
        for name in ("a", "b", "c", "d", "demo"):
            raw, = self.delivered(name)
            with self.subTest(rcpt=name):
                self.assertEqual(header_lines(raw, b"bcc"), [])
                self.assertNotIn(b"hidden", raw)
                self.assertIn(b"To: A Person <a@example.test>, friends: \"B, the second\" <b>;\n"
                              b"Cc: (a comment) undisclosed-recipients:;,\n\tc@example.test\n", raw)
                self.assertTrue(raw.endswith(b"\n\nhello\n"), raw)

    def test_git_send_email_style_keeps_its_headers(self):
        own = (b"From: Ann Author <author@example.test>\n"
               b"To: demo@example.test\n"
               b"Subject: [PATCH v2 1/3] caf\xc3\xa9: fix the \xe2\x80\x9cquoted\xe2\x80\x9d path\n"
               b"Date: Tue, 17 Nov 2026 10:11:12 +0100\n"
               b"Message-ID: <20261117091112.4242-1-author@example.test>\n"
               b"In-Reply-To: <cover.1700000000.git.author@example.test>\n"
               b"References: <cover.1700000000.git.author@example.test>\n"
               b"X-Mailer: git-send-email 2.39.2\n"
               b"MIME-Version: 1.0\n"
               b"Content-Type: text/plain; charset=UTF-8\n"
               b"Content-Transfer-Encoding: 8bit\n")
        body = b"\n---\n a/file | 2 +-\n.\n.. two dots\n-- \n2.39.2\n"
        self.inst.start()
        rc, err = self.inject(["-i", "-f", "author@example.test", "demo@example.test"], own + body)
        self.assertEqual(rc, 0, err)
        raw, = self.delivered("demo")
        self.assertIn(own, raw)
        self.assertTrue(raw.endswith(own + body), raw)
        for name in (b"date", b"message-id", b"from", b"subject", b"in-reply-to"):
            self.assertEqual(len(header_lines(raw, name)), 1, name)
        self.assertEqual(header_lines(raw, b"return-path"), [b"Return-Path: <author@example.test>"])

    def test_dot_line_ends_input_without_i_only(self):
        text = b"Subject: %s\n\nfirst\n.\nafter the dot\n"
        rc, err = self.inject(["demo"], text % b"plain")
        self.assertEqual(rc, 0, err)
        rc, err = self.inject(["-i", "demo"], text % b"with -i")
        self.assertEqual(rc, 0, err)
        rc, err = self.inject(["-oi", "demo"], text % b"with -oi")
        self.assertEqual(rc, 0, err)
        self.inst.start()
        bodies = {m["Subject"]: m.get_payload()
                  for m in map(email.message_from_bytes, self.delivered("demo", 3))}
        self.assertEqual(bodies, {"plain": "first\n", "with -i": "first\n.\nafter the dot\n",
                                  "with -oi": "first\n.\nafter the dot\n"})

    def test_crlf_becomes_lf_and_a_body_without_headers_gets_a_separator(self):
        rc, err = self.inject(["demo"], b"Subject: crlf\r\n\r\nline one\r\nbare\rcr\r\nlast")
        self.assertEqual(rc, 0, err)
        rc, err = self.inject(["demo"], b"no header here\nsecond: line\n")
        self.assertEqual(rc, 0, err)
        self.inst.start()
        raws = self.delivered("demo", 2)
        crlf, = [r for r in raws if b"Subject: crlf" in r]
        self.assertTrue(crlf.endswith(b"\n\nline one\nbare\rcr\nlast\n"), crlf)
        self.assertNotIn(b"\r\n", crlf)
        plain, = [r for r in raws if b"no header" in r]
        self.assertTrue(plain.endswith(b"\n\nno header here\nsecond: line\n"), plain)
        self.assertEqual(len(header_lines(plain, b"from")), 1)

    def test_mbox_from_line_is_dropped(self):
        rc, err = self.inject(["demo"], b"From someone@example.org Mon Nov 23 10:00:00 2026\n"
                                        b"Subject: from mbox\n\nbody\n")
        self.assertEqual(rc, 0, err)
        body, = [p for p in self.inst.queue_files() if "/body/" in p]
        raw = open(body, "rb").read()
        self.assertNotIn(b"someone", raw)
        self.assertEqual(header_lines(raw, b"subject"), [b"Subject: from mbox"])
        self.assertTrue(raw.endswith(b"\n\nbody\n"), raw)

    def test_no_recipients_is_65_and_nothing_queued(self):
        for args, msg in (([], b"Subject: x\n\nbody\n"),
                          (["-t"], b"To: undisclosed-recipients:;\nSubject: x\n\nbody\n"),
                          (["-t"], b"Subject: no To at all\n\nbody\n")):
            with self.subTest(args=args, msg=msg):
                rc, err = self.inject(args, msg)
                self.assertEqual(rc, 65, err)
                self.assertIn("inject: fatal: no recipients", err)
        self.assertNothingQueued()

    def test_unknown_option_is_64(self):
        for args, say in ((["-Q", "demo"], "usage"),
                          (["-bi"], "-bi"), (["demo", "-f"], None), (["-f"], "usage")):
            with self.subTest(args=args):
                rc, err = self.inject(args, b"Subject: x\n\nbody\n")
                if say is None:
                    # after the first operand everything is a recipient
                    self.assertEqual(rc, 0, err)
                    continue
                self.assertEqual(rc, 64, err)
                self.assertIn(say, err)
        _, _, rcpts = parse_todo(open(self.todo(), "rb").read())
        self.assertEqual(sorted(rcpts), [b"-f@example.test", b"demo@example.test"])

    def todo(self):
        todos = [p for p in self.inst.queue_files() if "/todo/" in p]
        self.assertEqual(len(todos), 1)
        return todos[0]

    def test_ignored_options_are_accepted(self):
        args = ["-oi", "-odi", "-oem", "-B", "8BITMIME", "-N", "never", "-v", "-odb", "-oee",
                "-R", "hdrs", "-V", "envid", "-L", "tag", "-h", "5", "-O", "DeliveryMode=b",
                "-U", "-G", "-m", "-n", "-bm", "-FCronDaemon", "-rsender@example.test", "--", "demo"]
        rc, err = self.inject(args, b"Subject: ignored\n\nfirst\n.\nlast\n")
        self.assertEqual((rc, err), (0, ""))
        _, sender, rcpts = parse_todo(open(self.todo(), "rb").read())
        self.assertEqual((sender, rcpts), (b"sender@example.test", [b"demo@example.test"]))
        self.inst.start()
        m = email.message_from_bytes(self.delivered("demo")[0])
        self.assertEqual(m.get_payload(), "first\n.\nlast\n")  # -oi is -i
        self.assertEqual(email.utils.parseaddr(m["From"])[0], "CronDaemon")

    def test_sender_and_recipients_qualified(self):
        rc, err = self.inject(["-f", "root", "Some One <someone>", "x@elsewhere.test, y",
                               "y@example.test"], b"x\n")
        self.assertEqual(rc, 0, err)
        _, sender, rcpts = parse_todo(open(self.todo(), "rb").read())
        self.assertEqual(sender, b"root@example.test")
        self.assertEqual(sorted(rcpts), [b"someone@example.test", b"x@elsewhere.test", b"y@example.test"])
        os.unlink(self.todo())
        self.inst.control("defaultdomain", "dflt.test\n")
        rc, err = self.inject(["-f", "<>", "z"], b"x\n")
        self.assertEqual(rc, 0, err)
        _, sender, rcpts = parse_todo(open(self.todo(), "rb").read())
        self.assertEqual((sender, rcpts), (b"", [b"z@dflt.test"]))

    def test_duplicate_recipients_merged(self):
        """by the rules of the destination: case of a domain never counts,
        a local part's only at a remote domain (issue 15 item 3)"""
        self.inst.table("virtualdomains", "virt.test vt\n")
        msg = (b"To: demo@example.test, DEMO@Example.TEST\nCc: Demo@example.test, x@elsewhere.test\n"
               b"Bcc: X@elsewhere.test, x@ELSEWHERE.test, al@virt.test\n\nbody\n")
        rc, err = self.inject(["-t", "demo@example.test,demo@example.test,DEMO@example.test", "AL@VIRT.test"], msg)
        self.assertEqual(rc, 0, err)
        _, _, rcpts = parse_todo(open(self.todo(), "rb").read())
        self.assertEqual(len(rcpts), 4, rcpts)
        self.assertEqual(sorted(r.lower() for r in rcpts),
                         [b"al@virt.test", b"demo@example.test", b"x@elsewhere.test", b"x@elsewhere.test"])
        self.assertEqual(sorted(r.split(b"@")[0] for r in rcpts if b"elsewhere" in r.lower()), [b"X", b"x"])
        os.unlink(self.todo())
        rc, err = self.inject(["demo"] * 100, b"x\n")
        self.assertEqual(rc, 0, err)
        _, _, rcpts = parse_todo(open(self.todo(), "rb").read())
        self.assertEqual(rcpts, [b"demo@example.test"])

    def test_source_route_ends_outside_literals_and_quotes(self):
        """RFC 5322 obs-route: <@a,@b:u@d> is u@d; a ':' inside a domain
        literal or a quoted string does not end the route"""
        msg = (b'To: <@[IPv6:::1]:u1@example.test>, <@a.test,@"x:y":u2@example.test>,'
               b' <@r.test:u3@example.test>\n\nbody\n')
        rc, err = self.inject(["-t"], msg)
        self.assertEqual(rc, 0, err)
        _, _, rcpts = parse_todo(open(self.todo(), "rb").read())
        self.assertEqual(sorted(rcpts), [b"u1@example.test", b"u2@example.test", b"u3@example.test"])

    def test_queue_inject_failures_are_75_with_the_reason(self):
        body = self.inst.path("queue", "body")
        os.rename(body, body + ".off")
        try:
            rc, err = self.inject(["demo"], b"Subject: x\n\nbody\n")
        finally:
            os.rename(body + ".off", body)
        self.assertEqual(rc, 75, err)
        self.assertIn("inject: fatal: unable to queue the message: queue-inject exited 64: "
                      "problem with queue/body", err)
        self.assertNothingQueued()
        os.unlink(self.inst.path("bin", "queue-inject"))
        rc, err = self.inject(["demo"], b"Subject: x\n\nbody\n")
        self.assertEqual(rc, 75, err)
        self.assertIn(f"inject: fatal: unable to start {self.inst.dir}/bin/queue-inject: "
                      "No such file or directory", err)
        self.assertNothingQueued()

    @unittest.skipUnless(os.getuid() == 0, "needs root to run as another user")
    def test_queue_not_writable_by_the_caller_is_75(self):
        # queue-inject is not setuid in a private home: run as nobody,
        # it cannot create the body in the queue account's tree
        p = subprocess.run(["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups",
                            self.inject_bin, "demo"], input=b"Subject: x\n\nbody\n",
                           capture_output=True, env=self.env, timeout=60)
        err = p.stderr.decode(errors="replace")
        self.assertEqual(p.returncode, 75, err)
        self.assertIn("inject: fatal: unable to queue the message: queue-inject exited 64: "
                      "problem with queue/body", err)
        self.assertNothingQueued()

    def test_permanent_refusal_is_65(self):
        self.inst.control("databytes", "1000\n")
        rc, err = self.inject(["demo"], b"Subject: big\n\n" + (b"x" * 99 + b"\n") * 100)
        self.assertEqual(rc, 65, err)
        self.assertIn("queue-inject exited 12: message too big", err)
        self.assertNothingQueued()

    def test_5mb_body_goes_through(self):
        body = b"".join(b"%07d " % i + b"z" * 91 + b"\n" for i in range(50000))
        self.assertEqual(len(body), 5000000)
        rc, err = self.inject(["demo"], b"Subject: big\n\n" + body)
        self.assertEqual(rc, 0, err)
        self.inst.start()
        raw, = self.delivered("demo")
        self.assertEqual(hashlib.sha256(raw.split(b"\n\n", 1)[1]).hexdigest(),
                         hashlib.sha256(body).hexdigest())

    def test_header_section_over_the_limit_is_65(self):
        big = b"".join(b"X-Filler-%06d: %s\n" % (i, b"f" * 80) for i in range(3000))
        self.assertGreater(len(big), 262144)
        rc, err = self.inject(["demo"], big + b"\nbody\n")
        self.assertEqual(rc, 65, err)
        self.assertIn("header section is longer than 262144 bytes", err)
        self.assertNothingQueued()
        # a long body line with no header is body, not headers
        rc, err = self.inject(["demo"], b"y" * 300000 + b"\n")
        self.assertEqual(rc, 0, err)


class SendmailLinkTest(unittest.TestCase):
    """src/install/sendmail.sh, as make install runs it, on a link of
    our own instead of /usr/sbin/sendmail"""

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="postern-sendmail-")
        self.home = os.path.join(self.tmp, "home")
        os.makedirs(os.path.join(self.home, "bin"))
        self.inject = os.path.join(self.home, "bin", "inject")
        shutil.copy(os.path.join(harness.BIN, "inject"), self.inject)
        self.link = os.path.join(self.tmp, "sendmail")

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def run_script(self):
        p = subprocess.run(["sh", os.path.join(harness.TOP, "src/install/sendmail.sh"),
                            self.home, self.link], capture_output=True, text=True)
        self.assertEqual(p.returncode, 0, p.stderr)
        return p.stdout

    def test_missing_sendmail_becomes_a_link(self):
        self.run_script()
        self.assertEqual(os.readlink(self.link), self.inject)
        self.assertIn("already", self.run_script())

    def test_existing_sendmail_is_kept_and_the_command_printed(self):
        with open(self.link, "w") as f:
            f.write("#!/bin/sh\n# another MTA\n")
        out = self.run_script()
        with open(self.link) as f:
            self.assertEqual(f.read(), "#!/bin/sh\n# another MTA\n")
        self.assertIn(f"\n  ln -sf {self.inject} {self.link}\n", out)


if __name__ == "__main__":
    unittest.main()
