"""clean: removes bodies at send's request (B records, clean(8)) and, at
start, what crashes left in queue/intake and queue/body."""
import os
import subprocess
import time
import unittest

import harness
from harness import Home, envelope
from test_record import Child, fnv_subdir, rec

CLEAN = os.path.join(harness.BIN, "clean")
MSG = b"Subject: hi\n\nhello\n"
DAY = 86400


class CleanTest(unittest.TestCase):
    def setUp(self):
        self.home = Home()
        self.addCleanup(self.home.cleanup)

    def start(self):
        c = Child([CLEAN], self.home.env)
        self.addCleanup(c.kill)
        return c

    def qpath(self, tree, msgid):
        return self.home.path("queue", tree, str(fnv_subdir(msgid)), msgid)

    def inject(self):
        before = set(self.home.files("body"))
        rc, err = self.home.inject(MSG, envelope("a@b.test", ["c@d.test"]))
        self.assertEqual(rc, 0, err)
        (msgid,) = set(self.home.files("body")) - before
        return msgid

    def put(self, tree, msgid, age=0, data=b"x"):
        p = self.qpath(tree, msgid)
        with open(p, "wb") as f:
            f.write(data)
        if age:
            t = time.time() - age
            os.utime(p, (t, t))
        return p

    def test_remove_body(self):
        msgid = self.inject()
        c = self.start()
        c.send(rec("B" + msgid))
        self.assertEqual(c.reply(), ("b", msgid, [], None))
        self.assertFalse(os.path.exists(self.qpath("body", msgid)))
        self.assertIn(msgid, self.home.files("todo"), "only the body goes")
        c.send(rec("B" + msgid))
        self.assertEqual(c.reply(), ("b", msgid, [], None), "a missing body is removed already")
        self.assertEqual(c.close(), 0)
        self.assertEqual(c.stderr(), "")

    def test_many_requests_in_one_write(self):
        ids = [self.inject() for _ in range(5)]
        c = self.start()
        c.send(b"".join(rec("B" + i) for i in ids))
        self.assertEqual(c.replies(5), [("b", i, [], None) for i in ids])
        self.assertEqual(self.home.files("body"), {})
        self.assertEqual(c.close(), 0)

    def test_bad_requests(self):
        msgid = self.inject()
        c = self.start()
        for req, rid in ((rec("B../../x"), ""), (rec("Bnot-an-id"), ""),
                         (rec("X" + msgid), msgid), (rec("B" + msgid, "extra"), msgid)):
            with self.subTest(req=req):
                c.send(req)
                letter, got, fields, _ = c.reply()
                self.assertEqual((letter, got), ("!", rid))
                self.assertIn("malformed request", fields[0])
        self.assertTrue(os.path.exists(self.qpath("body", msgid)))
        # a body that cannot be removed: a directory in its place
        odd = "%016x.%d" % (0x6b000000 << 32, 5)
        os.mkdir(self.qpath("body", odd))
        c.send(rec("B" + odd))
        letter, got, fields, _ = c.reply()
        self.assertEqual((letter, got), ("!", odd))
        self.assertIn("unable to remove body", fields[0])
        self.assertEqual(c.close(), 0)

    def test_leftovers_removed_at_start(self):
        ids = ["%016x.%d" % ((0x6b000000 << 32) + i, 10 + i) for i in range(7)]
        intake_old = self.put("intake", ids[0], age=2 * DAY)
        intake_new = self.put("intake", ids[1])
        orphan_old = self.put("body", ids[2], age=2 * DAY)
        orphan_new = self.put("body", ids[3], age=DAY - 600)
        with_state = self.put("body", ids[4], age=2 * DAY)
        self.put("state", ids[4])
        with_todo = self.put("body", ids[5], age=2 * DAY)
        self.put("todo", ids[5])
        not_ours = self.home.path("queue", "body", "0", "README")
        with open(not_ours, "w") as f:
            f.write("x")
        t = time.time() - 2 * DAY
        os.utime(not_ours, (t, t))
        injected = self.inject()
        c = self.start()
        self.assertEqual(c.close(), 0)
        gone = [intake_old, orphan_old]
        kept = [intake_new, orphan_new, with_state, with_todo, not_ours,
                self.qpath("body", injected), self.qpath("todo", injected)]
        for p in gone:
            self.assertFalse(os.path.exists(p), p)
        for p in kept:
            self.assertTrue(os.path.exists(p), p)
        lines = sorted(c.stderr().splitlines())
        self.assertEqual(lines, sorted("clean: info: removed leftover " + os.path.relpath(p, self.home.dir)
                                       for p in gone))

    def test_exit_codes(self):
        p = subprocess.run([CLEAN, "x"], env=self.home.env, capture_output=True)
        self.assertEqual(p.returncode, 100)
        p = subprocess.run([CLEAN], env=dict(self.home.env, POSTERN_HOME=self.home.path("none")),
                           stdin=subprocess.DEVNULL, capture_output=True)
        self.assertEqual(p.returncode, 111)
        p = subprocess.run([CLEAN], env=self.home.env, input=b"B" + b"1" * 100, capture_output=True)
        self.assertEqual(p.returncode, 101)
        r, w = os.pipe()
        os.close(r)
        p = subprocess.run([CLEAN], env=self.home.env, input=rec("B0000000000000000.1"), stdout=w,
                           stderr=subprocess.PIPE)
        os.close(w)
        self.assertEqual(p.returncode, 111, p.stderr)


if __name__ == "__main__":
    unittest.main()
