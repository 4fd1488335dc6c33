"""smtpd under tcpserver, with queue-inject into a temporary home: every
command and extension through smtplib, raw sockets and swaks; the relay
and recipient policy; the limits. test_smtpd_input.py has the bad input
(smuggling), test_smtpd_load.py the smtp-source run."""
import os
import pwd
import re
import shutil
import signal
import smtplib
import socket
import struct
import subprocess
import time
import unittest

import harness
from harness import Home, parse_todo

SMTPD = os.path.join(harness.BIN, "smtpd")
QI = os.path.join(harness.BIN, "queue-inject")
TABLE_COMPILE = os.path.join(harness.BIN, "table-compile")
# 127.0.0.1 is trusted (RELAYCLIENT), 127.0.0.2 is a stranger: a client
# binds its source address to pick one
TRUSTED, STRANGER = "127.0.0.1", "127.0.0.2"
# 127.0.0.3 is a RELAYCLIENT that is not this host
RELAYED = "127.0.0.3"
RULES = f'{TRUSTED}:allow,RELAYCLIENT=""\n{RELAYED}:allow,RELAYCLIENT=""\n:allow\n'


def free_port():
    s = socket.socket()
    s.bind((TRUSTED, 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Server:
    """A fresh home with tables, and tcpserver running smtpd on
    127.0.0.1; its log (smtpd's fd 2) in home/smtpd.log."""
    # where the readiness probe connects from
    ready_source = TRUSTED

    def __init__(self, controls=None):
        self.home = Home()
        shutil.copy(QI, self.home.path("bin", "queue-inject"))
        self.table("locals", "example.test\n[127.0.0.1]\n")
        self.table("virtualdomains", "virt.test vt\n")
        self.table("rcpthosts", "example.test\nvirt.test\nrelayed.test\n.sub.test\n"
                                "[127.0.0.1]\n[10.1.2.3]\n")
        self.table("aliases", "postmaster demo@example.test\n")
        # smtpd only looks names up: the ids need not exist (not root's:
        # lspawn never delivers as root, so smtpd refuses those)
        self.table("users", f"demo demo:4242:4242:{self.home.dir}\n"
                            f"vt-alice alice:4243:4243:{self.home.dir}\n")
        self.home.control("me", "test.me\n")
        # strangers get their greeting at once here, but in GreetTest
        # (None: no file, the default pause)
        for name, text in {"smtpdgreetdelay": "0\n", **(controls or {})}.items():
            if text is not None:
                self.home.control(name, text)
        with open(self.home.path("rules.txt"), "w") as f:
            f.write(RULES)
        subprocess.run(["tcprules", self.home.path("rules.cdb"), self.home.path("rules.tmp")],
                       stdin=open(self.home.path("rules.txt")), check=True)
        self.logpath = self.home.path("smtpd.log")
        self.log = open(self.logpath, "ab")
        self.proc = None
        for _ in range(5):
            self.port = free_port()
            self.proc = subprocess.Popen(
                self.argv(), env=self.home.env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                stderr=self.log, start_new_session=True)
            if self._ready():
                return
            self.stop()
        raise RuntimeError(f"{self.argv()[0]} did not start")

    def argv(self):
        """the server: tcpserver here, smtpd-listen in test_smtpd_worker.py"""
        return ["tcpserver", "-R", "-H", "-l", "0", "-c", "100", "-b", "100", "-x", self.home.path("rules.cdb"),
                TRUSTED, str(self.port), SMTPD]

    def _ready(self):
        end = time.monotonic() + 10
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                return False
            try:
                with socket.create_connection((TRUSTED, self.port), timeout=1,
                                              source_address=(self.ready_source, 0)) as s:
                    s.recv(100)
                return True
            except OSError:
                time.sleep(0.05)
        return False

    def table(self, name, text):
        self.home.control(name, text)
        subprocess.run([TABLE_COMPILE, self.home.path("control", name)], check=True)

    def stop(self):
        if self.proc:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            self.proc.wait()
            self.proc = None

    def cleanup(self):
        self.stop()
        self.log.close()
        self.home.cleanup()

    def smtp(self, source=TRUSTED):
        return smtplib.SMTP(TRUSTED, self.port, local_hostname="client.test",
                            source_address=(source, 0), timeout=20)

    def raw(self, source=TRUSTED):
        return Raw(self.port, source)

    def queued(self):
        """[(sender, [recipients], body bytes)] of the todo entries"""
        out = []
        bodies = self.home.files("body")
        for msgid, path in sorted(self.home.files("todo").items()):
            _, sender, rcpts = parse_todo(open(path, "rb").read())
            out.append((sender, rcpts, open(bodies[msgid], "rb").read()))
        return out

    def logtext(self):
        self.log.flush()
        with open(self.logpath, "rb") as f:
            return f.read().decode(errors="replace")


class Raw:
    """SMTP over a plain socket, to send exact bytes and read replies"""

    def __init__(self, port, source=TRUSTED):
        self.sock = socket.create_connection((TRUSTED, port), timeout=20, source_address=(source, 0))
        self.f = self.sock.makefile("rb")

    def send(self, data):
        self.sock.sendall(data)

    def reply(self):
        """one reply: (code, [text lines]); (None, []) at end of file"""
        lines = []
        while True:
            line = self.f.readline()
            if not line:
                return None, lines
            assert line.endswith(b"\r\n"), line
            lines.append(line[4:-2].decode())
            if line[3:4] == b" ":
                return int(line[:3]), lines

    def replies(self, n):
        return [self.reply() for _ in range(n)]

    def codes(self, n):
        return [r[0] for r in self.replies(n)]

    def close(self):
        self.f.close()
        self.sock.close()


def message(subject, body="hello\r\n"):
    return f"From: a@client.test\r\nTo: demo@example.test\r\nSubject: {subject}\r\n\r\n{body}"


def stored(body):
    """a queued body without the two Received lines (queue-inject's, ours)"""
    lines = body.split(b"\n", 2)
    assert lines[0].startswith(b"Received: (postern "), body[:200]
    assert lines[1].startswith(b"Received: from "), body[:200]
    return lines[2]


class SmtpdCase(unittest.TestCase):
    controls = None
    server = Server

    def setUp(self):
        self.srv = self.server(self.controls)
        self.addCleanup(self.srv.cleanup)

    def assertQueued(self, n):
        q = self.srv.queued()
        self.assertEqual(len(q), n, f"{len(q)} queued, expected {n}\n" + self.srv.logtext()[-2000:])
        return q


class ProtocolTest(SmtpdCase):
    def test_greeting_ehlo_and_extensions(self):
        s = self.srv.smtp()
        self.addCleanup(s.close)
        code, text = s.ehlo()
        self.assertEqual(code, 250)
        self.assertEqual(text.split(b"\n")[0], b"test.me")
        for ext in ("pipelining", "size", "8bitmime", "enhancedstatuscodes"):
            self.assertTrue(s.has_extn(ext), ext)
        self.assertEqual(s.esmtp_features["size"], "10240000")
        self.assertEqual(s.quit()[0], 221)

    def test_greeting_names_us(self):
        r = self.srv.raw()
        self.assertEqual(r.reply(), (220, ["test.me ESMTP postern"]))
        r.close()

    def test_smtpgreeting_replaces_the_greeting(self):
        self.srv.home.control("smtpgreeting", "mx.example.test hello there\n")
        r = self.srv.raw()
        self.assertEqual(r.reply(), (220, ["mx.example.test hello there"]))
        r.close()

    def test_every_command(self):
        s = self.srv.smtp()
        self.addCleanup(s.close)
        self.assertEqual(s.helo()[0], 250)
        self.assertEqual(s.noop(), (250, b"2.0.0 ok"))
        code, text = s.verify("demo@example.test")
        self.assertEqual(code, 252)
        self.assertNotIn(b"demo", text)
        self.assertEqual(s.verify("nosuchuser@example.test")[0], 252, "VRFY never tells")
        self.assertEqual(s.docmd("HELP")[0], 214)
        self.assertEqual(s.rset()[0], 250)
        self.assertEqual(s.docmd("EXPN", "postmaster"), (502, b"5.5.1 command not implemented"))
        self.assertEqual(s.docmd("XYZZY"), (500, b"5.5.1 command unrecognized"))
        self.assertEqual(s.mail("a@client.test")[0], 250)
        self.assertEqual(s.rcpt("demo@example.test")[0], 250)
        code, _ = s.data(message("every command").encode())
        self.assertEqual(code, 250)
        self.assertEqual(s.quit(), (221, b"2.0.0 test.me closing"))
        (sender, rcpts, body), = self.assertQueued(1)
        self.assertEqual((sender, rcpts), (b"a@client.test", [b"demo@example.test"]))
        self.assertEqual(stored(body), message("every command").replace("\r\n", "\n").encode())

    def test_out_of_order_is_503_and_state_stays(self):
        r = self.srv.raw()
        self.addCleanup(r.close)
        r.reply()
        r.send(b"MAIL FROM:<a@client.test>\r\n")
        self.assertEqual(r.reply(), (503, ["5.5.1 bad sequence of commands"]))
        r.send(b"EHLO client.test\r\n")
        self.assertEqual(r.reply()[0], 250)
        r.send(b"RCPT TO:<demo@example.test>\r\nDATA\r\n")
        self.assertEqual(r.codes(2), [503, 503])
        r.send(b"MAIL FROM:<a@client.test>\r\nDATA\r\nMAIL FROM:<b@client.test>\r\n")
        self.assertEqual(r.codes(3), [250, 503, 503])
        r.send(b"RCPT TO:<demo@example.test>\r\nDATA\r\n")
        self.assertEqual(r.codes(2), [250, 354])
        r.send(b"Subject: x\r\n\r\nbody\r\n.\r\n")
        self.assertEqual(r.reply()[0], 250)
        (sender, rcpts, _), = self.assertQueued(1)
        self.assertEqual(sender, b"a@client.test")

    def test_received_header(self):
        for ehlo, proto in ((True, "ESMTP"), (False, "SMTP")):
            s = self.srv.smtp()
            s.ehlo() if ehlo else s.helo()
            s.sendmail("a@client.test", ["demo@example.test"], message(proto))
            s.quit()
        q = self.assertQueued(2)
        for proto in ("ESMTP", "SMTP"):
            body = next(b for _, _, b in q if f"Subject: {proto}\n".encode() in b)
            line = body.split(b"\n")[1].decode()
            self.assertRegex(line, r"^Received: from client\.test \(127\.0\.0\.1\) by test\.me with %s; "
                             r"\w{3}, \d{1,2} \w{3} \d{4} \d\d:\d\d:\d\d \+0000$" % proto)

    def test_received_without_tcpremoteip_says_unknown(self):
        env = dict(self.srv.home.env)
        env.pop("TCPREMOTEIP", None)
        p = subprocess.run([SMTPD], input=b"HELO c\r\nMAIL FROM:<a@b.test>\r\nRCPT TO:<demo@example.test>\r\n"
                           b"DATA\r\nx\r\n.\r\nQUIT\r\n", env=env, capture_output=True, timeout=30)
        self.assertIn(b"250 2.0.0 ok", p.stdout)
        (_, _, body), = self.assertQueued(1)
        self.assertTrue(body.split(b"\n")[1].startswith(b"Received: from c (unknown) by test.me with SMTP; "))

    def test_queue_inject_exit_codes_become_replies(self):
        fake = self.srv.home.path("bin", "queue-inject")
        for code, reply in ((53, (452, b"4.3.1 unable to write the queue: disk full or write error")),
                            (12, (552, b"5.3.4 message too big")),
                            (99, (451, b"4.3.0 queue-inject failed"))):
            with self.subTest(code=code):
                with open(fake, "w") as f:
                    f.write(f"#!/bin/sh\ncat > /dev/null\nexit {code}\n")
                os.chmod(fake, 0o755)
                s = self.srv.smtp()
                s.ehlo()
                s.mail("a@client.test")
                s.rcpt("demo@example.test")
                self.assertEqual(s.data(b"x\r\n"), reply)
                self.assertEqual(s.noop()[0], 250, "the session goes on")
                s.quit()
        self.assertRegex(self.srv.logtext(), r"reject pid \d+ from <a@client\.test> rcpts 1 bytes \d+: "
                                             r"unable to write the queue")

    def test_several_messages_per_connection(self):
        s = self.srv.smtp()
        self.addCleanup(s.close)
        for i in range(5):
            s.sendmail(f"s{i}@client.test", ["demo@example.test", f"x{i}@relayed.test"], message(f"m{i}"))
        s.quit()
        q = self.assertQueued(5)
        self.assertEqual(sorted(x[0] for x in q), [f"s{i}@client.test".encode() for i in range(5)])
        for sender, rcpts, body in q:
            i = sender.decode()[1]
            self.assertEqual(rcpts, [b"demo@example.test", f"x{i}@relayed.test".encode()])
            self.assertIn(f"Subject: m{i}\n".encode(), body)
        self.assertEqual(len(re.findall(r"^ok pid \d+ qp \d+ from <", self.srv.logtext(), re.M)), 5)

    def test_rset_mid_transaction(self):
        s = self.srv.smtp()
        self.addCleanup(s.close)
        s.ehlo()
        s.mail("first@client.test")
        s.rcpt("demo@example.test")
        self.assertEqual(s.rset(), (250, b"2.0.0 reset"))
        self.assertEqual(s.rcpt("demo@example.test")[0], 503, "RSET ended the transaction")
        self.assertEqual(s.docmd("DATA")[0], 503)
        s.mail("second@client.test")
        s.rcpt("x@relayed.test")
        self.assertEqual(s.data(message("after rset").encode())[0], 250)
        s.quit()
        (sender, rcpts, _), = self.assertQueued(1)
        self.assertEqual((sender, rcpts), (b"second@client.test", [b"x@relayed.test"]))

    def test_fully_pipelined_session(self):
        r = self.srv.raw()
        self.addCleanup(r.close)
        self.assertEqual(r.reply()[0], 220)
        r.send(b"EHLO client.test\r\nMAIL FROM:<a@client.test> SIZE=100 BODY=8BITMIME\r\n"
               b"RCPT TO:<demo@example.test>\r\nRCPT TO:<nosuchuser@example.test>\r\n"
               b"RCPT TO:<x@relayed.test>\r\nDATA\r\n")
        self.assertEqual(r.codes(6), [250, 250, 250, 550, 250, 354])
        r.send(b"Subject: one\r\n\r\nfirst\r\n.\r\nMAIL FROM:<>\r\nRCPT TO:<postmaster>\r\nDATA\r\n")
        self.assertEqual(r.codes(4), [250, 250, 250, 354])
        r.send(b"Subject: two\r\n\r\nsecond\r\n.\r\nRSET\r\nNOOP\r\nQUIT\r\n")
        self.assertEqual(r.codes(4), [250, 250, 250, 221])
        self.assertEqual(r.reply(), (None, []))
        q = self.assertQueued(2)
        got = {s: rc for s, rc, _ in q}
        self.assertEqual(got, {b"a@client.test": [b"demo@example.test", b"x@relayed.test"],
                               b"": [b"postmaster"]})

    def test_pipelined_replies_come_in_one_write(self):
        """replies are held while pipelined commands are still buffered:
        a burst of 20 NOOPs is answered in one write (read from strace)"""
        trace = self.srv.home.path("strace.out")
        ours, theirs = socket.socketpair()
        p = subprocess.Popen(["strace", "-e", "trace=write", "-o", trace, SMTPD], stdin=theirs,
                             stdout=theirs, stderr=subprocess.DEVNULL, env=self.srv.home.env)
        theirs.close()
        self.addCleanup(p.wait)
        self.addCleanup(ours.close)
        f = ours.makefile("rb")
        self.assertTrue(f.readline().startswith(b"220 "))
        ours.sendall(b"NOOP\r\n" * 20)
        for _ in range(20):
            self.assertEqual(f.readline(), b"250 2.0.0 ok\r\n")
        ours.sendall(b"QUIT\r\n")
        self.assertTrue(f.readline().startswith(b"221 "))
        f.close()
        self.assertEqual(p.wait(30), 0)
        writes = [l for l in open(trace) if l.startswith("write(1,")]
        self.assertEqual(len(writes), 3, writes)
        self.assertIn('"250 2.0.0 ok\\r\\n250 2.0.0 ok', writes[1])

    def test_data_error_replies_do_not_block_the_session(self):
        s = self.srv.smtp()
        self.addCleanup(s.close)
        s.ehlo()
        s.mail("a@client.test")
        self.assertEqual(s.rcpt("nosuchuser@example.test")[0], 550)
        self.assertEqual(s.docmd("DATA"), (503, b"5.5.1 bad sequence of commands"))
        self.assertEqual(s.rcpt("demo@example.test")[0], 250)
        self.assertEqual(s.data(b"x\r\n")[0], 250)
        self.assertQueued(1)

    def test_addresses_parsed_by_rfc5321(self):
        s = self.srv.smtp()
        self.addCleanup(s.close)
        s.ehlo()
        cases = [
            ("MAIL FROM:<a@client.test>", 250),
            ("RCPT TO:<Demo@Example.TEST>", 250),
            ("RCPT TO:<demo-ext@example.test>", 250),
            ("RCPT TO:<\"demo\"@example.test>", 250),
            ("RCPT TO:<@relay.one,@relay.two:demo@example.test>", 250),
            ("RCPT TO: <demo@example.test>", 250),
            ("RCPT TO:<demo@[127.0.0.1]>", 250),
            ("RCPT TO:demo@example.test", 501),
            ("RCPT TO:<demo@example.test> NOTIFY=NEVER", 555),
            ("RCPT TO:<demo@exa mple.test>", 501),
            ("RCPT TO:<>", 501),
            ("RCPT TO:<demo>", 501),
            ("RCPT TO:<" + "a" * 250 + "@example.test>", 501),
            ("RCPT", 501),
        ]
        for cmd, code in cases:
            with self.subTest(cmd=cmd):
                self.assertEqual(s.docmd(cmd)[0], code)
        self.assertEqual(s.data(b"x\r\n")[0], 250)
        (sender, rcpts, _), = self.assertQueued(1)
        # the quoted, routed and spaced forms are demo@example.test again:
        # duplicates of the first, queued once
        self.assertEqual(rcpts, [b"Demo@Example.TEST", b"demo-ext@example.test", b"demo@[127.0.0.1]"])

    def test_mail_parameters(self):
        s = self.srv.smtp()
        self.addCleanup(s.close)
        s.ehlo()
        self.assertEqual(s.docmd("MAIL FROM:<a@client.test> BODY=8BITMIME SIZE=10")[0], 250)
        s.rset()
        self.assertEqual(s.docmd("MAIL FROM:<a@client.test> BODY=7BIT")[0], 250)
        s.rset()
        self.assertEqual(s.docmd("MAIL FROM:<a@client.test> SMTPUTF8")[0], 250)
        s.rset()
        self.assertEqual(s.docmd("MAIL FROM:<a@client.test> RET=FULL")[0], 555)
        self.assertEqual(s.docmd("MAIL FROM:<a@client.test> SIZE=x")[0], 501)
        self.assertEqual(s.docmd("MAIL FROM:<>")[0], 250)

    def test_swaks_sessions(self):
        base = ["swaks", "--server", f"{TRUSTED}:{self.srv.port}", "--helo", "client.test",
                "--from", "a@client.test", "--timeout", "20"]
        for extra, subject in ((["--to", "demo@example.test"], "plain"),
                               (["--to", "demo@example.test,x@relayed.test", "--pipeline"], "pipelined"),
                               (["--to", "demo@example.test", "--protocol", "SMTP"], "helo")):
            with self.subTest(subject=subject):
                p = subprocess.run(base + extra + ["--header", f"Subject: {subject}",
                                                   "--body", "caf\u00e9 body"],
                                   capture_output=True, text=True, timeout=60)
                self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
                self.assertIn("<-  250 2.0.0 ok qp", p.stdout)
        q = self.assertQueued(3)
        piped = next(rc for _, rc, b in q if b"Subject: pipelined" in b)
        self.assertEqual(piped, [b"demo@example.test", b"x@relayed.test"])
        helo = next(b for _, _, b in q if b"Subject: helo" in b)
        self.assertIn(b" with SMTP; ", helo.split(b"\n")[1])
        self.assertTrue(all("caf\u00e9 body".encode() in b for _, _, b in q))
        p = subprocess.run(base + ["--to", "x@other.test", "-li", STRANGER], capture_output=True,
                           text=True, timeout=60)
        self.assertNotEqual(p.returncode, 0)
        self.assertIn("554 5.7.1 relaying denied", p.stdout)
        self.assertQueued(3)


class PolicyTest(SmtpdCase):
    # (recipient, what a RELAYCLIENT gets): every one is refused to a stranger
    RELAY_BATTERY = [
        ("user@other.test", 250),
        ("user@OTHER.test", 250),
        ("user@sub.other.test", 250),
        ("user@xrelayed.test", 250),
        ("user@relayed.test.other.test", 250),
        ("user%other.test@relayed.test", 250),
        ("other.test!user@relayed.test", 250),
        ("user%other.test@example.test", 550),
        ('"user%other.test"@relayed.test', 250, "user%other.test@relayed.test"),
        ("@relayed.test:user@other.test", 250),
        ("@relayed.test,@example.test:user@other.test", 250),
        ('"user@other.test"@relayed.test', 250),
        ("user@[10.1.2.3]", 250),
        ("user@[192.0.2.1]", 250),
        ("user@other.test@relayed.test", 501),
        ("user@other.test.", 501),
        ("user@relayed.test.", 501),
        ("user@", 501),
        ("user@.relayed.test", 501),
        ("user@relayed..test", 501),
        ("user@other.test%relayed.test", 501),
    ]

    def rcpt_code(self, source, rcpt):
        r = self.srv.raw(source)
        try:
            r.reply()
            r.send(b"EHLO client.test\r\nMAIL FROM:<a@client.test>\r\nRCPT TO:<" + rcpt.encode() +
                   b">\r\nDATA\r\n")
            codes = r.replies(4)
            if codes[3][0] == 354:
                r.send(b"Subject: relay test\r\n\r\nx\r\n.\r\n")
                codes.append(r.reply())
            r.send(b"QUIT\r\n")
            r.reply()
            return codes[2], codes[3:]
        finally:
            r.close()

    def test_open_relay_battery_from_a_stranger(self):
        for rcpt, *_ in self.RELAY_BATTERY:
            with self.subTest(rcpt=rcpt):
                (code, text), after = self.rcpt_code(STRANGER, rcpt)
                self.assertIn(code, (501, 550, 554), text)
                if code == 554:
                    self.assertTrue(text[0].startswith("5.7.1 relaying denied"), text)
                self.assertEqual(after[0][0], 503, "DATA without a recipient")
        self.assertQueued(0)
        self.assertIn("554 5.7.1 relaying denied", self.srv.logtext())

    def test_same_battery_from_relayclient(self):
        accepted = []
        for rcpt, want, *stored in self.RELAY_BATTERY:
            with self.subTest(rcpt=rcpt):
                (code, text), after = self.rcpt_code(TRUSTED, rcpt)
                self.assertEqual(code, want, text)
                if want == 250:
                    self.assertEqual([c for c, _ in after], [354, 250])
                    # a source route is dropped: only the final mailbox is kept
                    accepted.append(stored[0] if stored else rcpt.split(":")[-1])
        q = self.assertQueued(len(accepted))
        got = sorted(rc[0].decode() for _, rc, _ in q)
        self.assertEqual(got, sorted(accepted))

    def test_our_domains_are_open_to_strangers(self):
        s = self.srv.smtp(STRANGER)
        self.addCleanup(s.close)
        s.ehlo()
        s.mail("a@client.test")
        for rcpt in ("demo@example.test", "postmaster@example.test", "alice@virt.test",
                     "anyone@relayed.test", "x@a.sub.test", "demo@[127.0.0.1]"):
            with self.subTest(rcpt=rcpt):
                self.assertEqual(s.rcpt(rcpt)[0], 250)
        self.assertEqual(s.docmd("RCPT TO:<postmaster>")[0], 250)
        self.assertEqual(s.data(b"x\r\n")[0], 250)
        (_, rcpts, _), = self.assertQueued(1)
        self.assertEqual(len(rcpts), 7)
        self.assertIn(f"start pid", self.srv.logtext())
        self.assertIn(f"ip {STRANGER}\n", self.srv.logtext())

    def test_unknown_local_user_is_550_at_rcpt(self):
        s = self.srv.smtp(STRANGER)
        self.addCleanup(s.close)
        s.ehlo()
        s.mail("a@client.test")
        for rcpt in ("nosuchuser@example.test", "bob@virt.test", "vt@virt.test", "nosuchuser@[127.0.0.1]"):
            with self.subTest(rcpt=rcpt):
                self.assertEqual(s.rcpt(rcpt), (550, b"5.1.1 no such user here"))
        self.assertEqual(s.rcpt("alice-ext@virt.test")[0], 250)
        s.quit()
        self.assertRegex(self.srv.logtext(), r"rcpt pid \d+ from <a@client\.test> to <nosuchuser@example\.test>: "
                                             r"550 5\.1\.1 no such user here")

    def test_relayclient_is_still_checked_for_local_users(self):
        s = self.srv.smtp(TRUSTED)
        self.addCleanup(s.close)
        s.ehlo()
        s.mail("a@client.test")
        self.assertEqual(s.rcpt("nosuchuser@example.test")[0], 550)
        self.assertEqual(s.rcpt("anyone@anywhere.test")[0], 250)

    def test_tables_are_read_at_each_rcpt(self):
        s = self.srv.smtp(STRANGER)
        self.addCleanup(s.close)
        s.ehlo()
        s.mail("a@client.test")
        self.assertEqual(s.rcpt("x@new.test")[0], 554)
        self.srv.table("rcpthosts", "new.test\n")
        self.assertEqual(s.rcpt("x@new.test")[0], 250)

    def test_root_is_not_accepted(self):
        self.srv.table("users", f"demo root:0:0:{self.srv.home.dir}\n")
        s = self.srv.smtp()
        self.addCleanup(s.close)
        s.ehlo()
        s.mail("a@client.test")
        self.assertEqual(s.rcpt("demo@example.test")[0], 451)


class DuplicateTest(SmtpdCase):
    """a duplicate RCPT gets 250 and is queued once (issue 15 item 3)"""

    def test_100_identical_rcpts_queue_one(self):
        r = self.srv.raw(STRANGER)
        self.addCleanup(r.close)
        r.reply()
        r.send(b"EHLO client.test\r\nMAIL FROM:<a@client.test>\r\n" + b"RCPT TO:<demo@example.test>\r\n" * 100)
        replies = r.replies(102)
        self.assertEqual({c for c, _ in replies}, {250})
        self.assertEqual(replies[3], (250, ["2.1.5 duplicate recipient, kept once"]))
        r.send(b"DATA\r\nSubject: x\r\n\r\nbody\r\n.\r\nQUIT\r\n")
        self.assertEqual(r.codes(3), [354, 250, 221])
        (_, rcpts, _), = self.assertQueued(1)
        self.assertEqual(rcpts, [b"demo@example.test"])
        self.assertRegex(self.srv.logtext(), r"ok pid \d+ qp \d+ from <a@client\.test> rcpts 1 ")

    def test_case_by_the_rules_of_the_destination(self):
        s = self.srv.smtp()
        self.addCleanup(s.close)
        s.ehlo()
        s.mail("a@client.test")
        for rcpt in ("demo@example.test", "DEMO@Example.TEST", "Demo@example.test", "alice@virt.test",
                     "ALICE@VIRT.test", "postmaster", "POSTMASTER", "user@relayed.test", "user@RELAYED.TEST",
                     "User@relayed.test", "User@relayed.test", "x@other.test", "x@Other.Test"):
            with self.subTest(rcpt=rcpt):
                self.assertEqual(s.docmd(f"RCPT TO:<{rcpt}>")[0], 250)
        self.assertEqual(s.data(b"x\r\n")[0], 250)
        (_, rcpts, _), = self.assertQueued(1)
        self.assertEqual(rcpts, [b"demo@example.test", b"alice@virt.test", b"postmaster", b"user@relayed.test",
                                 b"User@relayed.test", b"x@other.test"])

    def test_duplicates_do_not_count_against_maxrcpt_and_rset_forgets(self):
        self.srv.home.control("maxrcpt", "2\n")
        s = self.srv.smtp()
        self.addCleanup(s.close)
        s.ehlo()
        s.mail("a@client.test")
        for rcpt in ("demo@example.test",) * 5 + ("x@relayed.test",):
            self.assertEqual(s.rcpt(rcpt)[0], 250)
        self.assertEqual(s.rcpt("y@relayed.test")[0], 452)
        self.assertEqual(s.rcpt("x@RELAYED.test")[0], 250)
        self.assertEqual(s.rset()[0], 250)
        s.mail("a@client.test")
        self.assertEqual(s.rcpt("demo@example.test"), (250, b"2.1.5 recipient ok"))
        self.assertEqual(s.data(b"x\r\n")[0], 250)
        (_, rcpts, _), = self.assertQueued(1)
        self.assertEqual(rcpts, [b"demo@example.test"])

    def test_swaks_to_list_with_duplicates(self):
        p = subprocess.run(["swaks", "--server", f"{TRUSTED}:{self.srv.port}", "--helo", "client.test",
                            "--from", "a@client.test", "--timeout", "20",
                            "--to", "demo@example.test,demo@example.test,DEMO@example.test"],
                           capture_output=True, text=True, timeout=60)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        (_, rcpts, _), = self.assertQueued(1)
        self.assertEqual(rcpts, [b"demo@example.test"])


class LimitTest(SmtpdCase):
    controls = {"databytes": "5000\n", "maxrcpt": "3\n", "timeoutsmtpd": "2\n", "maxbadcommands": "4\n"}

    def test_size_advertised(self):
        s = self.srv.smtp()
        self.addCleanup(s.close)
        s.ehlo()
        self.assertEqual(s.esmtp_features["size"], "5000")

    def test_oversize_refused_at_mail(self):
        s = self.srv.smtp()
        self.addCleanup(s.close)
        s.ehlo()
        code, text = s.docmd("MAIL FROM:<a@client.test> SIZE=5001")
        self.assertEqual((code, text[:5]), (552, b"5.3.4"))
        self.assertEqual(s.docmd("MAIL FROM:<a@client.test> SIZE=4000")[0], 250)

    def test_oversize_refused_at_data_and_session_goes_on(self):
        s = self.srv.smtp()
        self.addCleanup(s.close)
        s.ehlo()
        s.mail("a@client.test")
        s.rcpt("demo@example.test")
        code, text = s.data(message("big", ("x" * 70 + "\r\n") * 80))
        self.assertEqual((code, text), (552, b"5.3.4 message too big"))
        self.assertQueued(0)
        s.mail("a@client.test")
        s.rcpt("demo@example.test")
        self.assertEqual(s.data(message("small"))[0], 250)
        self.assertQueued(1)
        # queue-inject was stopped before it could leave anything behind
        self.assertEqual(len(self.srv.home.files("body")), 1)
        self.assertEqual(self.srv.home.files("intake"), {})

    def test_too_many_recipients_452(self):
        s = self.srv.smtp()
        self.addCleanup(s.close)
        s.ehlo()
        s.mail("a@client.test")
        for i in range(3):
            self.assertEqual(s.rcpt(f"r{i}@relayed.test")[0], 250)
        self.assertEqual(s.rcpt("r3@relayed.test"), (452, b"4.5.3 too many recipients"))
        self.assertEqual(s.data(b"x\r\n")[0], 250)
        (_, rcpts, _), = self.assertQueued(1)
        self.assertEqual(rcpts, [b"r0@relayed.test", b"r1@relayed.test", b"r2@relayed.test"])

    def test_slow_client_gets_421(self):
        r = self.srv.raw()
        self.addCleanup(r.close)
        self.assertEqual(r.reply()[0], 220)
        r.send(b"EHLO client.test\r\n")
        r.reply()
        start = time.monotonic()
        self.assertEqual(r.reply(), (421, ["4.4.2 timeout, closing"]))
        took = time.monotonic() - start
        self.assertGreater(took, 1.5)
        self.assertLess(took, 5)
        self.assertEqual(r.reply(), (None, []))
        self.assertRegex(self.srv.logtext(), r"end pid \d+: timeout")

    def test_slow_client_in_data_gets_421_and_nothing_queued(self):
        r = self.srv.raw()
        self.addCleanup(r.close)
        r.reply()
        r.send(b"EHLO client.test\r\nMAIL FROM:<a@client.test>\r\nRCPT TO:<demo@example.test>\r\nDATA\r\n")
        self.assertEqual(r.codes(4), [250, 250, 250, 354])
        r.send(b"Subject: slow\r\n\r\nhalf a mess")
        self.assertEqual(r.reply()[0], 421)
        self.assertEqual(r.reply(), (None, []))
        self.assertTrue(harness.wait_for(lambda: not self.srv.home.all_files(), 10), self.srv.home.all_files())

    def test_bad_commands_then_421(self):
        r = self.srv.raw()
        self.addCleanup(r.close)
        r.reply()
        r.send(b"EHLO client.test\r\nFOO\r\nRCPT TO:<x@y.test>\r\nNOOP\r\nBAR\r\nMAIL FROM:bad\r\n")
        self.assertEqual(r.codes(6), [250, 500, 503, 250, 500, 501])
        self.assertEqual(r.reply(), (421, ["4.7.0 too many bad commands, closing"]))
        self.assertEqual(r.reply(), (None, []))

    def test_command_line_limit_is_512(self):
        r = self.srv.raw()
        self.addCleanup(r.close)
        r.reply()
        ok = b"NOOP " + b"x" * (512 - 7) + b"\r\n"
        self.assertEqual(len(ok), 512)
        r.send(ok)
        self.assertEqual(r.reply()[0], 250)
        r.send(b"NOOP " + b"x" * (512 - 6) + b"\r\n")
        self.assertEqual(r.reply(), (500, ["5.5.2 line too long"]))
        r.send(b"NOOP " + b"y" * 100000 + b"\r\nNOOP\r\n")
        self.assertEqual(r.codes(2), [500, 250])

    def test_timeout_is_per_line(self):
        """a line that comes whole in time keeps the session, however
        long the pauses between lines add up to"""
        r = self.srv.raw()
        self.addCleanup(r.close)
        r.reply()
        for _ in range(4):
            time.sleep(1)
            r.send(b"NOOP\r\n")
            self.assertEqual(r.reply()[0], 250)

    def drip(self, r, data):
        """one byte a second; False once the server has closed"""
        for i in range(len(data)):
            try:
                r.send(data[i:i + 1])
            except OSError:
                return False
            time.sleep(1)
        return True

    def test_command_dripped_a_byte_a_second_gets_421(self):
        """the whole line must come within timeoutsmtpd (2 s here), not
        each byte: NOOP CR LF at a byte a second takes 6 s"""
        r = self.srv.raw()
        self.addCleanup(r.close)
        r.reply()
        self.drip(r, b"NOOP\r\n")
        self.assertEqual(r.reply(), (421, ["4.4.2 timeout, closing"]))
        self.assertEqual(r.reply(), (None, []))
        self.assertRegex(self.srv.logtext(), r"end pid \d+: timeout, line incomplete\n")

    def test_text_dripped_in_data_gets_421_and_nothing_queued(self):
        r = self.srv.raw()
        self.addCleanup(r.close)
        r.reply()
        r.send(b"EHLO client.test\r\nMAIL FROM:<a@client.test>\r\nRCPT TO:<demo@example.test>\r\nDATA\r\n")
        self.assertEqual(r.codes(4), [250, 250, 250, 354])
        self.drip(r, b"Subject: slow\r\n")
        self.assertEqual(r.reply()[0], 421)
        self.assertQueued(0)
        self.assertRegex(self.srv.logtext(), r"end pid \d+: timeout, line incomplete\n")
        self.assertTrue(harness.wait_for(lambda: not self.srv.home.all_files(), 10), self.srv.home.all_files())
        self.assertNotIn("queue-inject:", self.srv.logtext(), "the message is abandoned quietly")

    def test_data_lines_in_time_keep_the_session(self):
        r = self.srv.raw()
        self.addCleanup(r.close)
        r.reply()
        r.send(b"EHLO client.test\r\nMAIL FROM:<a@client.test>\r\nRCPT TO:<demo@example.test>\r\nDATA\r\n")
        self.assertEqual(r.codes(4), [250, 250, 250, 354])
        for line in (b"Subject: paced\r\n", b"\r\n", b"one\r\n", b"two\r\n"):
            r.send(line)
            time.sleep(1)
        r.send(b".\r\n")
        self.assertEqual(r.reply()[0], 250)
        self.assertQueued(1)


class SessionTimeTest(SmtpdCase):
    controls = {"smtpdsessiontime": "3\n"}

    def test_session_deadline_whatever_the_client_does(self):
        r = self.srv.raw()
        self.addCleanup(r.close)
        r.reply()
        codes = []
        for _ in range(10):
            try:
                r.send(b"NOOP\r\n")
            except OSError:
                break
            code, text = r.reply()
            codes.append(code)
            if code != 250:
                self.assertEqual((code, text), (421, ["4.4.2 session too long, closing"]))
                break
            time.sleep(1)
        self.assertEqual(codes[-1], 421, codes)
        self.assertLess(len(codes), 7, "the session ended near 3 s, not at the 10 s the client would take")
        self.assertRegex(self.srv.logtext(), r"end pid \d+: lifetime exceeded\n")


class GreetTest(SmtpdCase):
    """the default pause before the greeting (issue 15 item 8)"""
    controls = {"smtpdgreetdelay": None}
    PIPELINED = (b"EHLO client.test\r\nMAIL FROM:<a@client.test>\r\nRCPT TO:<demo@example.test>\r\nDATA\r\n"
                 b"Subject: early\r\n\r\nbody\r\n.\r\nQUIT\r\n")

    def early(self, source):
        r = self.srv.raw(source)
        self.addCleanup(r.close)
        r.send(self.PIPELINED)
        return r

    def test_stranger_talking_first_is_dropped(self):
        r = self.early(STRANGER)
        # the greeting's first line came at once; the drop ends it
        code, lines = r.reply()
        self.assertEqual(code, 554)
        self.assertEqual(lines[1:], ["5.5.1 protocol error: you talked before the greeting, closing"])
        self.assertRegex(lines[0], r" ESMTP postern$")
        self.assertEqual(r.reply(), (None, []))
        self.assertQueued(0)
        self.assertTrue(harness.wait_for(lambda: "talked before the greeting" in self.srv.logtext(), 10))
        self.assertRegex(self.srv.logtext(), r"start pid \d+ ip 127\.0\.0\.2\nend pid \d+: talked before the greeting\n")

    def test_stranger_gets_the_first_line_at_once_and_the_rest_after_the_pause(self):
        r = self.srv.raw(STRANGER)
        self.addCleanup(r.close)
        first = r.f.readline()
        self.assertRegex(first, rb"^220-.* ESMTP postern\r\n$")
        self.assertEqual(r.f.readline(), b"220 " + first[4:])
        r.send(b"QUIT\r\n")
        self.assertEqual(r.reply()[0], 221)

    def test_stranger_that_waits_is_served(self):
        s = self.srv.smtp(STRANGER)
        self.addCleanup(s.close)
        s.ehlo()
        s.mail("a@client.test")
        s.rcpt("demo@example.test")
        self.assertEqual(s.data(b"Subject: patient\r\n\r\nx\r\n")[0], 250)
        s.quit()
        self.assertQueued(1)

    def test_local_and_relayclient_never_wait(self):
        for source in (TRUSTED, RELAYED):
            with self.subTest(source=source):
                r = self.early(source)
                self.assertEqual(r.codes(7), [220, 250, 250, 250, 354, 250, 221])
        self.assertQueued(2)
        self.assertNotIn("talked before", self.srv.logtext())

    def test_worker_is_kept_after_an_early_talker(self):
        """the drop is a normal end: a worker serves the next client"""
        for _ in range(3):
            r = self.early(STRANGER)
            self.assertEqual(r.reply()[0], 554)
            self.assertEqual(r.reply(), (None, []))
        for _ in range(3):
            # reset at once: the session, if it starts, ends without a reply
            r = self.early(STRANGER)
            r.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            r.close()
        # (a connection reset before smtpd-listen read its addresses never
        # becomes a session): every session that started has ended
        self.assertTrue(harness.wait_for(lambda: self.srv.logtext().count("start pid") ==
                                         self.srv.logtext().count("end pid"), 10), self.srv.logtext())
        s = self.srv.smtp(STRANGER)
        self.addCleanup(s.close)
        self.assertEqual(s.noop()[0], 250)
        s.quit()
        log = self.srv.logtext()
        self.assertGreaterEqual(log.count("talked before the greeting"), 3)
        self.assertNotIn("write error", log)
        self.assertNotRegex(log, r"worker \d+ gone")


@unittest.skipUnless(os.getuid() == 0, "root only: the accounts of conf-users, a setuid queue-inject")
class AccountTest(unittest.TestCase):
    """as installed: tcpserver runs smtpd as the smtpd account, which
    cannot write the queue; the setuid queue-inject does"""

    def test_smtpd_account_queues_through_setuid_queue_inject(self):
        if not os.path.exists(os.path.join(harness.TEST_BIN, "smtpd")):
            self.skipTest("no build/test/bin/smtpd (make testbins)")
        inst = harness.Instance()
        self.addCleanup(inst.cleanup)
        inst.table("locals", "example.test\n")
        inst.table("rcpthosts", "example.test\n")
        inst.users({"demo": inst.mailbox_user("demo")})
        acct = pwd.getpwnam(harness.users()["smtpd"])
        rules = inst.path("rules")
        subprocess.run(["tcprules", rules + ".cdb", rules + ".tmp"], input=RULES.encode(), check=True)
        port = free_port()
        log = open(inst.path("smtpd.log"), "wb")
        self.addCleanup(log.close)
        p = subprocess.Popen(["tcpserver", "-u", str(acct.pw_uid), "-g", str(acct.pw_gid), "-R", "-H",
                              "-l", "0", "-x", rules + ".cdb", TRUSTED, str(port),
                              os.path.join(inst.bin, "smtpd")],
                             env=inst.env, stdin=subprocess.DEVNULL, stderr=log, start_new_session=True)
        self.addCleanup(lambda: (os.killpg(p.pid, signal.SIGTERM), p.wait()))
        s = None
        for _ in range(100):
            try:
                s = smtplib.SMTP(TRUSTED, port, local_hostname="client.test", timeout=20)
                break
            except OSError:
                time.sleep(0.1)
        self.assertIsNotNone(s)
        self.addCleanup(s.close)
        s.ehlo()
        s.mail("a@client.test")
        self.assertEqual(s.rcpt("nosuchuser@example.test")[0], 550)
        self.assertEqual(s.rcpt("demo@example.test")[0], 250)
        self.assertEqual(s.data(message("as installed").encode())[0], 250)
        s.quit()
        todo = [os.path.join(d, f) for d, _, fs in os.walk(inst.path("queue", "todo")) for f in fs]
        self.assertEqual(len(todo), 1)
        self.assertEqual(os.stat(todo[0]).st_uid, pwd.getpwnam(harness.users()["queue"]).pw_uid)
        self.assertRegex(open(inst.path("smtpd.log")).read(), r"ok pid \d+ qp \d+ ")
        # and the account itself cannot write there
        probe = subprocess.run(["setpriv", f"--reuid={acct.pw_uid}", f"--regid={acct.pw_gid}", "--clear-groups",
                                "touch", os.path.join(os.path.dirname(todo[0]), "probe")],
                               capture_output=True)
        self.assertNotEqual(probe.returncode, 0)


if __name__ == "__main__":
    unittest.main()
