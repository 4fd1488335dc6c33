"""Several queue roots (control/queues): writers spread messages over
them round robin and skip a full, failing or drained one; send delivers
from every root; clean, queue-list and queue-stats see every root; a
root appended while running is used and delivered from; kill -9 loses
nothing in any root. As root each extra root is its own filesystem (a
tmpfs), as on a host with a disk per root."""
import mailbox
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import unittest
from concurrent.futures import ThreadPoolExecutor

import harness
from harness import Instance, envelope, maildir_count, wait_for
from test_queue_writer import Writer, framed, parse_answer, read_answer

ROOT = os.getuid() == 0
ID = re.compile(r"^[0-9a-f]{16}\.\d+(?:\.(\d+))?$")
DAY = 86400


def message(n, size=0):
    return (f"From: sender@example.test\nTo: demo@example.test\nSubject: roots {n}\n"
            f"Message-ID: <roots.{n}@example.test>\n\nbody of {n}\n" + "x" * size + "\n").encode()


def root_of(msgid):
    m = ID.match(msgid)
    assert m, msgid
    return int(m.group(1) or 0)


class RootsTest(unittest.TestCase):
    def setUp(self):
        self.inst = Instance()
        self.inst.table("locals", "example.test\n")
        self.demo = self.inst.mailbox_user("demo")
        self.inst.users({"demo": self.demo})
        self.maildir = os.path.join(self.demo[2], "Maildir")
        self.mounts = []
        self.writer = None
        self.tmp = tempfile.mkdtemp(prefix="postern-roots-")
        os.chmod(self.tmp, 0o755)

    def tearDown(self):
        if self.writer:
            self.writer.stop()
        self.inst.cleanup()
        for m in reversed(self.mounts):
            subprocess.run(["umount", "-l", m], check=False)
        shutil.rmtree(self.tmp, ignore_errors=True)

    # --- set-up -------------------------------------------------------

    def disk(self, name, size="64m"):
        """a directory that is its own filesystem when root (a tmpfs)"""
        d = os.path.join(self.tmp, name)
        os.makedirs(d)
        if ROOT:
            subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size},mode=755", "tmpfs", d], check=True)
            self.mounts.append(d)
        return d

    def roots(self, *lines):
        """control/queues, then mkhome.sh makes the trees, as an
        operator does"""
        self.inst.control("queues", "".join(line + "\n" for line in lines))
        subprocess.run(["sh", os.path.join(harness.TOP, "src/install/mkhome.sh"), self.inst.dir],
                       check=True)

    def files(self, root, tree):
        """ids in a root's tree"""
        out = []
        base = os.path.join(root if root.startswith("/") else self.inst.path(root), tree)
        for sub in os.listdir(base):
            if sub.isdigit():
                out += os.listdir(os.path.join(base, sub))
        return out

    def all_ids(self, root):
        return set(self.files(root, "todo")) | set(self.files(root, "state")) | set(self.files(root, "body"))

    def inject_many(self, n, start=0, size=0):
        def one(i):
            rc, err = self.inst.inject(message(i, size), envelope("sender@example.test", ["demo@example.test"]))
            self.assertEqual(rc, 0, err)
        with ThreadPoolExecutor(6) as ex:
            list(ex.map(one, range(start, start + n)))

    def via_writer(self, n, start=0):
        """n messages one after the other through queue-writer: their ids"""
        ids = []
        for i in range(start, start + n):
            with socket.socket(socket.AF_UNIX) as s:
                s.settimeout(30)
                s.connect(self.writer.sock)
                s.sendall(framed(message(i), envelope("sender@example.test", ["demo@example.test"])))
                code, msgid = parse_answer(read_answer(s))
                self.assertEqual(code, 0, self.writer_err())
                ids.append(msgid)
        return ids

    def writer_err(self):
        with open(self.inst.path("qw.err"), "rb") as f:
            return f.read().decode(errors="replace")

    def delivered(self):
        md = mailbox.Maildir(self.maildir, create=False)
        return sorted(int(m["Subject"].split()[1]) for m in md)

    def assertDelivered(self, numbers, timeout=120):
        want = set(numbers)
        ok = wait_for(lambda: os.path.isdir(self.maildir) and want <= set(self.delivered()), timeout, 0.2)
        got = self.delivered() if os.path.isdir(self.maildir) else []
        self.assertTrue(ok, f"missing {sorted(want - set(got))}\n" + self.inst.log()[-3000:])

    def assertEmpty(self, *roots):
        for r in roots:
            self.assertTrue(wait_for(lambda: not self.all_ids(r), 30), f"{r}: {self.all_ids(r)}")

    def tool(self, name, *args):
        p = subprocess.run([os.path.join(self.inst.bin, name), *args], capture_output=True, text=True,
                           env=self.inst.env, timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr)
        return p.stdout

    # --- tests --------------------------------------------------------

    def test_queue_inject_spreads_over_every_root_and_all_is_delivered(self):
        a, b = self.disk("a"), self.disk("b")
        self.roots("queue", a, b)
        self.inject_many(30)
        counts = [len(self.files(r, "todo")) for r in ("queue", a, b)]
        self.assertEqual(sum(counts), 30)
        self.assertTrue(all(counts), f"a root got nothing: {counts}")
        for k, r in enumerate(("queue", a, b)):
            for i in self.files(r, "todo"):
                self.assertEqual(root_of(i), k, f"{i} in root {k}")
                self.assertIn(i, self.files(r, "body"))
        self.inst.start()
        self.assertDelivered(range(30))
        self.assertEqual(len(self.delivered()), 30)
        self.assertEmpty("queue", a, b)

    def test_writer_goes_round_robin(self):
        a, b = self.disk("a"), self.disk("b")
        self.roots("queue", a, b)
        self.writer = Writer(self.inst)
        ids = self.via_writer(9)
        order = [root_of(i) for i in ids]
        # one root after the other, each in turn
        self.assertEqual(sorted(order[:3]), [0, 1, 2], order)
        self.assertEqual(order[3:], order[:3] * 2, order)
        for i in ids:
            r = ("queue", a, b)[root_of(i)]
            self.assertIn(i, self.files(r, "todo"))
        self.inst.start()
        self.assertDelivered(range(9))
        self.assertEmpty("queue", a, b)

    @unittest.skipUnless(ROOT, "a small filesystem needs a tmpfs mount (root)")
    def test_full_root_is_skipped(self):
        a, small = self.disk("a"), self.disk("small", size="1m")
        # a root needs twice databytes free: 1 MB cannot take a 1 MB message
        self.inst.control("databytes", "1000000\n")
        self.roots("queue", a, small)
        self.inject_many(12)
        self.writer = Writer(self.inst)
        self.via_writer(6, start=12)
        self.assertEqual(self.files(small, "todo"), [])
        self.assertEqual(len(self.files("queue", "todo")) + len(self.files(a, "todo")), 18)
        out = self.tool("queue-stats")
        self.assertRegex(out, rf"(?m)^root 2 {re.escape(small)}: 0 messages, [01] MB free$")
        self.inst.start()
        self.assertDelivered(range(18))

    @unittest.skipUnless(ROOT, "a read-only filesystem needs a mount (root)")
    def test_failing_root_is_skipped_and_nothing_is_refused(self):
        a, bad = self.disk("a"), self.disk("bad")
        self.roots("queue", a, bad)
        subprocess.run(["mount", "-o", "remount,ro", bad], check=True)
        self.writer = Writer(self.inst)
        ids = self.via_writer(8)
        self.assertNotIn(2, [root_of(i) for i in ids])
        self.assertEqual({root_of(i) for i in ids}, {0, 1})
        # the writer said why, once: the root is set aside, not retried per message
        err = self.writer_err()
        self.assertIn(bad, err)
        self.assertEqual(err.count("Read-only file system"), 1, err)
        self.inject_many(6, start=8)
        self.inst.start()
        self.assertDelivered(range(14))

    def test_drained_root_gets_no_new_mail_but_is_delivered(self):
        a = self.disk("a")
        self.roots("queue", a)
        self.inject_many(10)
        before = self.files(a, "todo")
        self.assertTrue(before)
        self.roots("-queue", a)
        self.inject_many(10, start=10)
        # the first root, drained: nothing new there
        self.assertEqual(len(self.files("queue", "todo")), 10 - len(before))
        self.assertEqual(len(self.files(a, "todo")), len(before) + 10)
        self.inst.start()
        self.assertDelivered(range(20))
        self.assertEmpty("queue", a)

    def test_queue_list_and_stats_show_every_root(self):
        a, b = self.disk("a"), self.disk("b")
        self.roots("queue", a, "-" + b)
        self.inject_many(8)
        ids = set(self.files("queue", "todo")) | set(self.files(a, "todo"))
        listed = set(re.findall(r"(?m)^([0-9a-f]{16}\.\d+(?:\.\d+)?)\b", self.tool("queue-list")))
        self.assertEqual(listed, ids)
        out = self.tool("queue-stats")
        self.assertRegex(out, r"(?m)^messages: 8 \(unsorted: 8\)$")
        n0, n1 = len(self.files("queue", "todo")), len(self.files(a, "todo"))
        self.assertRegex(out, rf"(?m)^root 0 queue: {n0} messages, \d+ MB free$")
        self.assertRegex(out, rf"(?m)^root 1 {re.escape(a)}: {n1} messages, \d+ MB free$")
        self.assertRegex(out, rf"(?m)^root 2 {re.escape(b)}: 0 messages, \d+ MB free, draining$")

    def test_clean_removes_leftovers_in_every_root(self):
        a, b = self.disk("a"), self.disk("b")
        self.roots("queue", a, b)
        old = time.time() - 2 * DAY
        made = []
        for k, r in ((1, a), (2, b)):
            i = f"0000000100000000.{4000 + k}.{k}"
            sub = str(self.hash(i))
            for tree in ("intake", "body"):
                p = os.path.join(r, tree, sub, i)
                with open(p, "w") as f:
                    f.write("left over\n")
                os.utime(p, (old, old))
                made.append(p)
        self.inst.start()
        self.assertTrue(wait_for(lambda: not any(os.path.exists(p) for p in made), 30),
                        [p for p in made if os.path.exists(p)])
        self.assertEqual(self.inst.log().count("removed leftover"), 4, self.inst.log())

    @staticmethod
    def hash(msgid):
        """queue_hash: FNV-1a modulo conf-split"""
        h = 2166136261
        for c in msgid.encode():
            h = ((h ^ c) * 16777619) & 0xffffffff
        return h % int(open(os.path.join(harness.TOP, "conf-split")).readline())

    @unittest.skipUnless(ROOT, "a tree on its own filesystem needs a mount (root)")
    def test_bodies_on_their_own_filesystem(self):
        a = self.disk("a")
        bodies = self.disk("bodies")
        # the operator's symbolic link, made before mkhome.sh fills the tree
        os.symlink(bodies, os.path.join(a, "body"))
        self.roots(a)
        self.assertNotEqual(os.stat(os.path.join(a, "body", "0")).st_dev, os.stat(os.path.join(a, "todo", "0")).st_dev)
        self.inject_many(10)
        self.assertEqual(sum(len(os.listdir(os.path.join(bodies, s))) for s in os.listdir(bodies)), 10)
        self.inst.start()
        self.assertDelivered(range(10))
        self.assertEmpty(a)

    def test_root_appended_while_running_is_used(self):
        self.roots("queue")
        self.writer = Writer(self.inst)
        self.inst.start()
        first = self.via_writer(2)
        self.assertEqual({root_of(i) for i in first}, {0})
        self.assertDelivered(range(2))
        a = self.disk("a")
        self.roots("queue", a)
        self.writer.proc.send_signal(signal.SIGHUP)
        time.sleep(0.5)
        ids = self.via_writer(6, start=2)
        self.assertEqual({root_of(i) for i in ids}, {0, 1}, ids)
        # send, record and lspawn started before the root existed
        self.assertDelivered(range(8))
        self.assertEmpty("queue", a)

    def test_kill9_of_send_loses_nothing_in_any_root(self):
        a, b = self.disk("a"), self.disk("b")
        self.roots("queue", a, b)
        self.inject_many(300)
        self.inst.start()
        wait_for(lambda: maildir_count(self.maildir) >= 60, 60, 0.05)
        self.inst.kill9("send")
        # send-start's other children finish; start again
        wait_for(lambda: self.inst.old[-1].poll() is not None, 30)
        self.inst.start()
        self.assertDelivered(range(300), timeout=180)
        self.assertEmpty("queue", a, b)


if __name__ == "__main__":
    unittest.main()
