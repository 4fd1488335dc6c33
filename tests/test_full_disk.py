"""A full disk, on a small tmpfs (root only, to mount it): under the queue,
SMTP (smtpd through queue-inject and through queue-writer) answers 452
and the session goes on, inject exits 75 (try again later), nothing
half-written stays in the queue and queue-list shows no message; once
space is back the same mail is taken. Under a Maildir, delivery defers
(4.2.2), leaves nothing in tmp/, is retried and lands once space is
freed. (test_queue_inject.py has queue-inject alone on a full queue.)"""
import os
import re
import shutil
import signal
import subprocess
import tempfile
import time
import unittest

import harness
from harness import Home, Instance, envelope, maildir_count, wait_for

ROOT = os.getuid() == 0
SMTPD = os.path.join(harness.BIN, "smtpd")
INJECT = os.path.join(harness.BIN, "inject")
QLIST = os.path.join(harness.BIN, "queue-list")
WRITER = os.path.join(harness.BIN, "queue-writer")
TABLE_COMPILE = os.path.join(harness.BIN, "table-compile")
PAGE = 4096


def mount_small(path, size):
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", path], check=True)


def fill(directory, room):
    """fills the filesystem of directory but for about room bytes: a
    file of room bytes first, then filler to ENOSPC, then the first
    removed. Returns the filler's path."""
    spare = os.path.join(directory, "spare")
    filler = os.path.join(directory, "filler")
    with open(spare, "wb") as f:
        f.write(b"s" * room)
    with open(filler, "wb", buffering=0) as f:
        try:
            while True:
                f.write(b"f" * PAGE)
        except OSError:
            pass
    os.unlink(spare)
    return filler


def message(tag, size):
    line = b"x" * 70 + b"\r\n"
    return (b"From: a@client.test\r\nTo: demo@example.test\r\nSubject: " + tag.encode() +
            b"\r\n\r\n" + line * (size // len(line)))


@unittest.skipUnless(ROOT, "needs root to mount a small tmpfs")
class QueueFullTest(unittest.TestCase):
    def setUp(self):
        self.home = Home()
        self.addCleanup(self.home.cleanup)
        for prog in ("queue-inject",):
            shutil.copy(os.path.join(harness.BIN, prog), self.home.path("bin", prog))
        for name, text in (("locals", "example.test\n"), ("rcpthosts", "example.test\n"),
                           ("users", f"demo demo:4242:4242:{self.home.dir}\n")):
            self.home.control(name, text)
            subprocess.run([TABLE_COMPILE, self.home.path("control", name)], check=True)
        self.home.control("me", "test.me\n")
        self.queue = self.home.path("queue")
        mount_small(self.queue, "1m")
        self.addCleanup(subprocess.run, ["umount", "-l", self.queue])
        # the trees, owners and modes again, on the small filesystem
        subprocess.run(["sh", os.path.join(harness.TOP, "src/install/mkhome.sh"), self.home.dir], check=True)
        self.writer = None

    def tearDown(self):
        if self.writer:
            self.writer.send_signal(signal.SIGTERM)
            self.writer.wait(30)

    def start_writer(self):
        self.writer = subprocess.Popen([WRITER], env=self.home.env, stdin=subprocess.DEVNULL,
                                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        sock = self.home.path("queue-writer", "socket")
        self.assertTrue(wait_for(lambda: os.path.exists(sock), 10))

    def smtp(self, msg):
        """one session of smtpd on stdin (a relay client): the replies"""
        env = dict(self.home.env, TCPREMOTEIP="127.0.0.1", TCPLOCALIP="127.0.0.1", RELAYCLIENT="")
        data = msg.replace(b"\r\n.", b"\r\n..")
        p = subprocess.run([SMTPD], env=env, capture_output=True, timeout=60,
                           input=b"EHLO client.test\r\nMAIL FROM:<a@client.test>\r\n"
                                 b"RCPT TO:<demo@example.test>\r\nDATA\r\n" + data + b".\r\nNOOP\r\nQUIT\r\n")
        self.assertEqual(p.returncode, 0, p.stderr)
        return [ln for ln in p.stdout.decode().split("\r\n") if ln[3:4] == " "]

    def inject(self, msg):
        return subprocess.run([INJECT, "-f", "a@client.test", "demo@example.test"], input=msg,
                              env=self.home.env, capture_output=True, timeout=60)

    def messages(self):
        """message files under queue/, the filler aside"""
        return [f for f in self.home.all_files() if os.path.basename(f) not in ("filler", "spare", "lock")]

    def listed(self):
        p = subprocess.run([QLIST], env=self.home.env, capture_output=True, text=True, timeout=30)
        self.assertEqual(p.returncode, 0, p.stderr)
        return re.findall(r"[0-9a-f]{16}\.\d+", p.stdout)

    def check_full(self, size):
        """SMTP and inject on the full queue; then space back"""
        filler = fill(self.queue, 64 * 1024)
        # bigger than the room left: the body is cut by ENOSPC half-way
        replies = self.smtp(message("full", size))
        self.assertEqual([r[:3] for r in replies], ["220", "250", "250", "250", "354", "452", "250", "221"], replies)
        self.assertIn("disk full", replies[5])
        p = self.inject(message("inject", size))
        self.assertEqual(p.returncode, 75, p.stderr)
        self.assertIn(b"disk full", p.stderr)
        # nothing half-written is left, and the queue says so
        self.assertEqual(self.messages(), [])
        self.assertEqual(self.listed(), [])
        # space back: the same mail goes in
        os.unlink(filler)
        replies = self.smtp(message("full", size))
        self.assertTrue(replies[5].startswith("250 "), replies)
        p = self.inject(message("inject", size))
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(len(self.listed()), 2)
        return replies[5]

    def test_full_queue_through_queue_inject(self):
        self.check_full(256 * 1024)

    def test_full_queue_through_queue_writer(self):
        self.start_writer()
        ok = self.check_full(256 * 1024)
        # the message went through the writer (its pid ends the id)
        self.assertRegex(ok, r"^250 2\.0\.0 ok qp [0-9a-f]{16}\.%d$" % self.writer.pid)
        self.assertIsNone(self.writer.poll(), "queue-writer died")

    def test_no_room_at_all(self):
        # not one page: even the smallest message is refused
        filler = fill(self.queue, 0)
        replies = self.smtp(message("tiny", 100))
        self.assertTrue(replies[5].startswith("452 "), replies)
        self.assertEqual(self.messages(), [])
        os.unlink(filler)
        self.assertTrue(self.smtp(message("tiny", 100))[5].startswith("250 "))


@unittest.skipUnless(ROOT, "needs root to mount a small tmpfs")
class MaildirFullTest(unittest.TestCase):
    def setUp(self):
        self.top = tempfile.mkdtemp(prefix="postern-full-")
        self.addCleanup(shutil.rmtree, self.top, True)
        self.inst = Instance(os.path.join(self.top, "home"), harness.BIN)
        self.addCleanup(self.inst.cleanup)
        self.inst.table("locals", "example.test\n")
        uid, gid, home = self.inst.mailbox_user("demo")
        mount_small(home, "512k")
        self.addCleanup(subprocess.run, ["umount", "-l", home])
        os.chown(home, uid, gid)
        os.chmod(home, 0o755)
        self.demo = (uid, gid, home)
        self.inst.users({"demo": self.demo})
        self.maildir = os.path.join(home, "Maildir")

    def inject(self, tag, size):
        rc, err = self.inst.inject(message(tag, size).replace(b"\r\n", b"\n"),
                                   envelope("a@client.test", ["demo@example.test"]))
        self.assertEqual(rc, 0, err)

    def test_full_maildir_defers_leaves_no_tmp_and_delivers_later(self):
        self.inst.start()
        self.inject("first", 1000)
        self.assertTrue(wait_for(lambda: maildir_count(self.maildir) == 1, 60), self.inst.log()[-2000:])
        filler = fill(self.demo[2], 32 * 1024)
        self.inject("big", 200 * 1024)
        # deferred (a temporary failure, not a bounce), and tried again
        self.assertTrue(wait_for(lambda: len(re.findall(r"deferral: .*4\.2\.2", self.inst.log())) >= 2, 60),
                        self.inst.log()[-2000:])
        self.assertNotRegex(self.inst.log(), r"failure: |bounce msg")
        self.assertEqual(os.listdir(os.path.join(self.maildir, "tmp")), [])
        self.assertEqual(maildir_count(self.maildir), 1)
        self.assertTrue(any("/todo/" in f or "/state/" in f for f in self.inst.queue_files()))
        # space freed: the next retry delivers it, once, whole
        os.unlink(filler)
        self.assertTrue(wait_for(lambda: maildir_count(self.maildir) == 2, 120), self.inst.log()[-2000:])
        time.sleep(1)
        self.assertEqual(maildir_count(self.maildir), 2)
        self.assertEqual(os.listdir(os.path.join(self.maildir, "tmp")), [])
        big = [os.path.join(self.maildir, "new", n) for n in os.listdir(os.path.join(self.maildir, "new"))
               if os.path.getsize(os.path.join(self.maildir, "new", n)) > 100 * 1024]
        self.assertEqual(len(big), 1)
        with open(big[0], "rb") as f:
            self.assertIn(b"Subject: big\n", f.read())
        self.assertTrue(wait_for(lambda: not self.inst.queue_files(), 30), self.inst.queue_files())
        self.assertEqual(self.inst.stop(), 0)


if __name__ == "__main__":
    unittest.main()
