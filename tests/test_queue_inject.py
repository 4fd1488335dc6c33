"""queue-inject: what lands in the queue, what is refused, and in which
order the durable steps happen (read from strace, not assumed)."""
import os
import re
import shutil
import signal
import stat
import subprocess
import tempfile
import time
import unittest

import harness
from harness import Home, envelope, parse_todo

QI = os.path.join(harness.BIN, "queue-inject")
MSG = b"From: a@example.test\nTo: c@example.test\nSubject: hi\n\nhello\n"


def fnv_subdir(msgid):
    """queue_hash: FNV-1a 32 of the id, modulo conf-split"""
    h = 2166136261
    for c in msgid.encode():
        h = ((h ^ c) * 16777619) & 0xFFFFFFFF
    return h % harness.SPLIT


class QueueInjectTest(unittest.TestCase):
    def setUp(self):
        self.home = Home()

    def tearDown(self):
        self.home.cleanup()

    def assertQueueEmpty(self):
        self.assertEqual(self.home.all_files(), [])

    def test_message_lands_whole_in_hashed_trees(self):
        rc, err = self.home.inject(MSG, envelope("a@example.test", ["c@example.test", "e@example.org"]))
        self.assertEqual(rc, 0, err)
        bodies, todos = self.home.files("body"), self.home.files("todo")
        self.assertEqual(len(bodies), 1)
        self.assertEqual(list(bodies), list(todos))
        msgid = next(iter(bodies))
        self.assertRegex(msgid, r"^[0-9a-f]{16}\.[0-9]+$")
        for tree in ("body", "todo"):
            self.assertEqual(self.home.files(tree)[msgid],
                             self.home.path("queue", tree, str(fnv_subdir(msgid)), msgid))
        self.assertEqual(self.home.files("intake"), {})
        body = open(bodies[msgid], "rb").read()
        first, rest = body.split(b"\n", 1)
        self.assertEqual(rest, MSG)
        self.assertRegex(first.decode(),
                         r"^Received: \(postern \d+ invoked by uid %d\); "
                         r"(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{1,2} "
                         r"(Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} "
                         r"\d\d:\d\d:\d\d \+0000$" % os.getuid())
        info, sender, rcpts = parse_todo(open(todos[msgid], "rb").read())
        self.assertEqual(sender, b"a@example.test")
        self.assertEqual(rcpts, [b"c@example.test", b"e@example.org"])
        self.assertEqual(info["u"], str(os.getuid()))
        self.assertEqual(oct(os.stat(bodies[msgid]).st_mode & 0o777), "0o640")

    def test_received_date_is_now(self):
        rc, err = self.home.inject(MSG, envelope("", ["c@example.test"]))
        self.assertEqual(rc, 0, err)
        body = open(next(iter(self.home.files("body").values())), "rb").read()
        stamp = body.split(b"; ", 1)[1].split(b"\n")[0].decode()
        expect = time.strftime("%a, %-d %b %Y %H:%M", time.gmtime())
        self.assertEqual(stamp[:len(expect)], expect)

    def test_null_sender_and_empty_message(self):
        rc, err = self.home.inject(b"", envelope("", ["c@example.test"]))
        self.assertEqual(rc, 0, err)
        todo = next(iter(self.home.files("todo").values()))
        _, sender, rcpts = parse_todo(open(todo, "rb").read())
        self.assertEqual(sender, b"")
        self.assertEqual(rcpts, [b"c@example.test"])

    def check_refused(self, env, code, message=MSG, why="", quiet=False):
        rc, err = self.home.inject(message, env)
        self.assertEqual(rc, code, f"{why}: {err}")
        if quiet:
            self.assertEqual(err, "")
        else:
            self.assertIn("queue-inject:", err)
        self.assertQueueEmpty()

    def test_bad_envelopes_refused_and_leave_nothing(self):
        long_addr = "a" * 250 + "@example.test"
        cases = [
            (b"Fa@b\0Tc@d\0", 31, "no final NUL"),
            (b"Fa@b\0", 31, "sender only, no final NUL"),
            (b"Fa@b\0\0", 15, "no recipients"),
            (b"Tc@d\0\0", 31, "recipient before sender"),
            (b"Fa@b\0Xc@d\0\0", 31, "unknown field letter"),
            (b"\0", 31, "final NUL alone"),
            (envelope("a@b", [long_addr]), 11, "recipient too long"),
            (envelope(long_addr, ["c@d"]), 11, "sender too long"),
            (envelope("a@b", ["c@d\nBcc: x@y"]), 16, "LF in address"),
            (envelope("a@b", ["c@d\rx"]), 16, "CR in address"),
        ]
        for env, code, why in cases:
            with self.subTest(why=why):
                self.check_refused(env, code, why=why)

    def test_empty_envelope_abandons_quietly(self):
        """how smtpd and inject abandon a message they refused: nothing
        queued, exit 31, and no warning (the caller tells why)"""
        self.check_refused(b"", 31, why="empty envelope", quiet=True)

    def test_address_of_256_octets_accepted(self):
        addr = "a" * 243 + "@example.test"
        self.assertEqual(len(addr), 256)
        rc, err = self.home.inject(MSG, envelope("a@b", [addr]))
        self.assertEqual(rc, 0, err)

    def test_too_many_recipients(self):
        rcpts = ["r%d@example.test" % i for i in range(10001)]
        self.check_refused(envelope("a@b", rcpts), 13)
        rc, err = self.home.inject(MSG, envelope("a@b", rcpts[:10000]))
        self.assertEqual(rc, 0, err)
        _, _, got = parse_todo(open(next(iter(self.home.files("todo").values())), "rb").read())
        self.assertEqual(len(got), 10000)

    def test_oversize_message(self):
        self.home.control("databytes", "1000\n")
        self.check_refused(envelope("a@b", ["c@d"]), 12, message=b"x" * 1001)
        rc, err = self.home.inject(b"x" * 1000, envelope("a@b", ["c@d"]))
        self.assertEqual(rc, 0, err)

    def test_bad_databytes_is_temporary(self):
        self.home.control("databytes", "lots\n")
        self.check_refused(envelope("a@b", ["c@d"]), 55)

    def test_missing_queue_is_temporary(self):
        shutil.rmtree(self.home.path("queue", "body"))
        rc, err = self.home.inject(MSG, envelope("a@b", ["c@d"]))
        self.assertEqual(rc, 64, err)
        self.assertEqual(self.home.files("todo"), {})

    def test_missing_home_is_temporary(self):
        self.home.env["POSTERN_HOME"] = self.home.path("nonexistent")
        rc, err = self.home.inject(MSG, envelope("a@b", ["c@d"]))
        self.assertEqual(rc, 61, err)

    def test_trigger_is_poked(self):
        fd = os.open(self.home.path("queue", "trigger"), os.O_RDONLY | os.O_NONBLOCK)
        try:
            rc, err = self.home.inject(MSG, envelope("a@b", ["c@d"]))
            self.assertEqual(rc, 0, err)
            self.assertEqual(len(os.read(fd, 16)), 1)
        finally:
            os.close(fd)

    def test_no_trigger_reader_is_fine(self):
        rc, err = self.home.inject(MSG, envelope("a@b", ["c@d"]))
        self.assertEqual((rc, err), (0, ""))
        os.unlink(self.home.path("queue", "trigger"))
        rc, err = self.home.inject(MSG, envelope("a@b", ["c@d"]))
        self.assertEqual((rc, err), (0, ""))
        self.assertEqual(len(self.home.files("todo")), 2)

    def test_killed_mid_message_leaves_nothing_visible(self):
        r, w = os.pipe()
        os.write(w, envelope("a@b", ["c@d"]))
        os.close(w)
        p = subprocess.Popen([QI], stdin=subprocess.PIPE, stdout=r, env=self.home.env)
        os.close(r)
        p.stdin.write(b"Subject: half\n\n" + b"x" * 100000)
        p.stdin.flush()
        time.sleep(0.2)
        p.send_signal(signal.SIGKILL)
        p.wait()
        p.stdin.close()
        self.assertEqual(self.home.files("todo"), {})

    def test_fsync_and_rename_order(self):
        """strace -f shows: body fsync, envelope fsync, body dir fsync,
        rename intake -> todo, todo dir fsync, then the trigger"""
        if not shutil.which("strace"):
            self.skipTest("no strace")
        log = self.home.path("strace.log")
        rc, err = self.home.inject(MSG, envelope("a@b", ["c@d"]),
                                   wrap=["strace", "-f", "-y", "-o", log, "-e",
                                         "trace=openat,fsync,fdatasync,rename,renameat,renameat2,link,linkat,unlink,unlinkat"])
        self.assertEqual(rc, 0, err)
        msgid = next(iter(self.home.files("todo")))
        sub = str(fnv_subdir(msgid))
        events = []
        for line in open(log):
            m = re.search(r"(fsync|fdatasync)\(\d+<([^>]*)>\)\s+= 0", line)
            if m:
                events.append(("fsync", m.group(2).split("/queue/", 1)[1]))
            m = re.search(r"rename\w*\(.*\"([^\"]+)\".*\"([^\"]+)\"", line)
            if m:
                events.append(("rename", m.group(1), m.group(2)))
            if re.search(r"(link|unlink)\w*\(", line):
                events.append(("link/unlink", line.strip()))
            m = re.search(r"openat\(.*\"(queue/trigger)\"", line)
            if m:
                events.append(("trigger",))
        expect = [
            ("fsync", f"body/{sub}/{msgid}"),
            ("fsync", f"intake/{sub}/{msgid}"),
            ("fsync", f"body/{sub}"),
            ("rename", f"queue/intake/{sub}/{msgid}", f"queue/todo/{sub}/{msgid}"),
            ("fsync", f"todo/{sub}"),
            ("trigger",),
        ]
        self.assertEqual(events, expect)

    @unittest.skipUnless(os.getuid() == 0, "needs root to mount a small tmpfs")
    def test_full_disk_refused_and_leaves_nothing(self):
        q = self.home.path("queue")
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k", "tmpfs", q], check=True)
        try:
            subprocess.run(["sh", os.path.join(harness.TOP, "src/install/mkhome.sh"),
                            self.home.dir], check=True)
            rc, err = self.home.inject(b"x" * (1024 * 1024), envelope("a@b", ["c@d"]))
            self.assertEqual(rc, 53, err)
            self.assertIn("No space left", err)
            self.assertQueueEmpty()
            rc, err = self.home.inject(MSG, envelope("a@b", ["c@d"]))
            self.assertEqual(rc, 0, err)
        finally:
            subprocess.run(["umount", q], check=True)

    @unittest.skipUnless(os.getuid() == 0, "needs root to make a setuid copy")
    def test_setuid_ignores_postern_home(self):
        d = tempfile.mkdtemp()
        try:
            os.chmod(d, 0o755)
            os.chmod(self.home.dir, 0o777)
            prog = os.path.join(d, "queue-inject")
            shutil.copy(QI, prog)
            os.chown(prog, 65534, 65534)
            os.chmod(prog, 0o4755)
            drop = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"]
            # not setuid-differing (nobody runs nobody's program): honours POSTERN_HOME
            for root, dirs, _ in os.walk(self.home.path("queue")):
                os.chmod(root, 0o777)
            rc, err = self.home.inject(MSG, envelope("a@b", ["c@d"]), prog=prog, wrap=drop)
            self.assertEqual(rc, 0, err)
            # setuid to another user: POSTERN_HOME is ignored, conf-home is used
            os.chown(prog, 0, 0)
            os.chmod(prog, 0o4755)
            conf_home = open(os.path.join(harness.TOP, "conf-home")).readline().strip()
            if os.path.exists(conf_home):
                self.skipTest(f"{conf_home} exists here")
            rc, err = self.home.inject(MSG, envelope("a@b", ["c@d"]), prog=prog, wrap=drop)
            self.assertEqual(rc, 61, err)
            self.assertIn("chdir", err)
            self.assertEqual(len(self.home.files("todo")), 1)
        finally:
            shutil.rmtree(d)


class ManyInjectionsTest(unittest.TestCase):
    N = 20000

    def test_20000_injections_spread_and_distinct(self):
        loop = os.path.join(harness.TOP, "build", "bench", "inject-loop")
        self.assertTrue(os.path.exists(loop), "make builds build/bench/inject-loop")
        home = Home()
        try:
            p = subprocess.run([loop, "-c", "8", str(self.N), QI], env=home.env,
                               capture_output=True, timeout=900)
            self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
            ids = []
            sizes = []
            for tree in ("body", "todo"):
                for sub in range(harness.SPLIT):
                    names = os.listdir(home.path("queue", tree, str(sub)))
                    if tree == "todo":
                        sizes.append(len(names))
                        ids.extend(names)
                    for n in names:
                        self.assertEqual(fnv_subdir(n), sub)
            self.assertEqual(len(ids), self.N)
            self.assertEqual(len(set(ids)), self.N, "message ids are distinct")
            self.assertEqual(sorted(ids), sorted(home.files("body")))
            mean = self.N / harness.SPLIT
            # an even hash keeps every directory near the mean
            self.assertLessEqual(max(sizes), 1.5 * mean, sizes)
            self.assertGreaterEqual(min(sizes), 0.5 * mean, sizes)
            self.assertEqual(home.files("intake"), {})
        finally:
            home.cleanup()


if __name__ == "__main__":
    unittest.main()
