"""record: send's keeper of queue/state, driven over its pipes with the
records of record(8); the queue and strace tell what it did."""
import os
import re
import select
import shutil
import subprocess
import tempfile
import unittest

import harness
from harness import Home, envelope

RECORD = os.path.join(harness.BIN, "record")
STATE_FIXED = 217          # src/lib/state.h: R, status, channel, 4 + 10 digits, 200 text
ENV_BYTES_MAX = 10001 * 258 + 1
MSG = b"From: a@example.test\nSubject: hi\n\nhello\n"
RCPTS = ["Joe@Example.TEST", "Mary.Ann@virt.test", "r@remote.test", "Postmaster", "x@Virt2.test"]


def fnv_subdir(msgid):
    h = 2166136261
    for c in msgid.encode():
        h = ((h ^ c) * 16777619) & 0xFFFFFFFF
    return h % harness.SPLIT


def parse_state(b, pos=0):
    """a state file (postern-queue(5)) at b[pos:], read by its structure
    (fixed-width R fields), independently of our C parser; returns
    (dict, end). Raises IndexError or ValueError if b is incomplete."""
    def field(p):
        z = b.index(b"\0", p)
        return b[p:z], z + 1
    v, p = field(pos)
    if v != b"V1":
        raise ValueError("no V1")
    u, p = field(p)
    z, p = field(p)
    f, p = field(p)
    if u[:1] != b"u" or z[:1] != b"z" or f[:1] != b"F":
        raise ValueError("bad header")
    st = {"uid": int(u[1:]), "size": int(z[1:]), "sender": f[1:], "rcpts": []}
    while b[p:p + 1] == b"R":
        fixed = b[p:p + STATE_FIXED]
        if b[p + STATE_FIXED] != 0:
            raise ValueError("R field not fixed width")
        off = p - pos
        addr, p = field(p + STATE_FIXED + 1)
        local, p = field(p)
        if local[:1] != b"L":
            raise ValueError("local name field without its L")
        local = local[1:]
        st["rcpts"].append({"offset": off, "status": chr(fixed[1]), "channel": chr(fixed[2]),
                            "attempts": int(fixed[3:7]), "lasttry": int(fixed[7:17]),
                            "text": fixed[17:].rstrip(b" "), "addr": addr, "local": local})
    if b[p] != 0:
        raise ValueError("no final empty field")
    return st, p + 1


def parse_reply(buf):
    """one reply at the start of buf: ((letter, id, fields, state), rest),
    or None if buf holds less than a whole reply"""
    z = buf.find(b"\0")
    if z < 0:
        return None
    first = buf[:z]
    if first[:1] in (b"N", b"O"):
        try:
            st, end = parse_state(buf, z + 1)
        except (IndexError, ValueError):
            return None
        st["raw"] = buf[z + 1:end]
        return (first[:1].decode(), first[1:].decode(), [], st), buf[end:]
    fields, p = [], z + 1
    while True:
        q = buf.find(b"\0", p)
        if q < 0:
            return None
        if q == p:
            break
        fields.append(buf[p:q].decode(errors="replace"))
        p = q + 1
    return (first[:1].decode(), first[1:].decode(errors="replace"), fields, None), buf[q + 1:]


def rec(*fields):
    """a request: NUL-terminated fields and the final empty field"""
    return b"".join((f if isinstance(f, bytes) else str(f).encode()) + b"\0" for f in fields) + b"\0"


def update(msgid, index, status, attempts=1, lasttry=1700000000, text=""):
    return rec("U" + msgid, index, status, attempts, lasttry, "=" + text)


class Child:
    """a send child on pipes: requests in, replies out, stderr kept"""
    def __init__(self, argv, env):
        self.err = tempfile.TemporaryFile()
        self.p = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=self.err, env=env)
        self.buf = b""

    def send(self, data):
        self.p.stdin.write(data)
        self.p.stdin.flush()

    def reply(self, timeout=30):
        while True:
            got = parse_reply(self.buf)
            if got:
                r, self.buf = got
                return r
            ready, _, _ = select.select([self.p.stdout], [], [], timeout)
            if not ready:
                raise AssertionError("no reply within %ds; stderr: %s" % (timeout, self.stderr()))
            data = os.read(self.p.stdout.fileno(), 1 << 20)
            if not data:
                raise AssertionError("EOF from child; stderr: " + self.stderr())
            self.buf += data

    def replies(self, n):
        return [self.reply() for _ in range(n)]

    def until_end(self):
        """replies up to E (excluded)"""
        out = []
        while True:
            r = self.reply()
            if r[0] == "E":
                return out
            out.append(r)

    def close(self, timeout=30):
        """EOF on fd 0: returns the exit code, asserts nothing was left unsaid"""
        self.p.stdin.close()
        rest = self.p.stdout.read()
        rc = self.p.wait(timeout)
        self.p.stdout.close()
        assert rest == b"", rest
        return rc

    def stderr(self):
        self.err.seek(0)
        return self.err.read().decode(errors="replace")

    def kill(self):
        if self.p.poll() is None:
            self.p.kill()
            self.p.wait()
        for f in (self.p.stdin, self.p.stdout):
            try:
                f.close()
            except (OSError, ValueError):
                pass
        self.err.close()


class RecordTest(unittest.TestCase):
    def setUp(self):
        self.home = Home()
        self.addCleanup(self.home.cleanup)
        self.home.control("locals", "example.test\n")
        self.home.control("virtualdomains", "virt.test  pre\nvirt2.test\n")
        for t in ("locals", "virtualdomains"):
            subprocess.run([os.path.join(harness.BIN, "table-compile"), self.home.path("control", t)],
                           check=True)

    def start(self, wrap=()):
        c = Child(list(wrap) + [RECORD], self.home.env)
        self.addCleanup(c.kill)
        return c

    def inject(self, rcpts=RCPTS, sender="a@example.test", message=MSG):
        before = set(self.home.files("todo"))
        rc, err = self.home.inject(message, envelope(sender, rcpts))
        self.assertEqual(rc, 0, err)
        (msgid,) = set(self.home.files("todo")) - before
        return msgid

    def qpath(self, tree, msgid):
        return self.home.path("queue", tree, str(fnv_subdir(msgid)), msgid)

    def state(self, msgid):
        with open(self.qpath("state", msgid), "rb") as f:
            data = f.read()
        st, end = parse_state(data)
        self.assertEqual(end, len(data), "state file ends at its final empty field")
        st["raw"] = data
        return st

    def load(self, c, request="L"):
        c.send(rec(request))
        return {r[1]: r[3] for r in c.until_end()}

    def test_load_sorts_todo_into_state(self):
        msgid = self.inject()
        c = self.start()
        got = self.load(c)
        self.assertEqual(list(got), [msgid])
        self.assertEqual(self.home.files("todo"), {})
        st = self.state(msgid)
        self.assertEqual(got[msgid]["raw"], st["raw"], "N carries the state file verbatim")
        self.assertEqual(st["uid"], os.getuid())
        self.assertEqual(oct(os.stat(self.qpath("state", msgid)).st_mode & 0o777), "0o640")
        self.assertEqual(st["size"], os.path.getsize(self.qpath("body", msgid)))
        self.assertEqual(st["sender"], b"a@example.test")
        self.assertEqual([(r["addr"].decode(), r["channel"], r["local"].decode()) for r in st["rcpts"]],
                         [("Joe@Example.TEST", "L", "joe"),
                          ("Mary.Ann@virt.test", "L", "pre-mary.ann"),
                          ("r@remote.test", "R", ""),
                          ("Postmaster", "L", "postmaster"),
                          ("x@Virt2.test", "L", "x")])
        for r in st["rcpts"]:
            self.assertEqual((r["status"], r["attempts"], r["lasttry"], r["text"]), ("T", 0, 0, b""))
        self.assertEqual(c.close(), 0)
        self.assertEqual(c.stderr(), "")

    def test_load_reports_existing_states_then_scan_sorts_new(self):
        first = self.inject()
        c = self.start()
        self.load(c)
        self.assertEqual(c.close(), 0)
        second = self.inject(rcpts=["b@remote.test"])
        c = self.start()
        got = self.load(c)
        self.assertEqual(sorted(got), sorted([first, second]))
        self.assertEqual(got[first]["raw"], self.state(first)["raw"])
        third = self.inject(rcpts=["c@example.test"])
        self.assertEqual(list(self.load(c, "S")), [third])
        self.assertEqual(self.load(c, "S"), {}, "a scan with nothing new says E alone")
        self.assertEqual(self.home.files("todo"), {})
        self.assertEqual(c.close(), 0)

    def test_load_of_one_subdirectory_reports_its_states_and_sorts_nothing(self):
        first = self.inject()
        c = self.start()
        self.load(c, "S")
        second = self.inject(rcpts=["b@remote.test"])
        sub = fnv_subdir(first)
        got = self.load(c, f"L{sub}")
        self.assertEqual(list(got), [first])
        self.assertEqual(got[first]["raw"], self.state(first)["raw"])
        self.assertEqual(self.load(c, f"L{(sub + 1) % harness.SPLIT}"), {})
        self.assertEqual(list(self.home.files("todo")), [second], "a load of one subdirectory sorts nothing")
        c.send(rec(f"L{harness.SPLIT}"))
        self.assertEqual(c.reply()[0], "!")
        self.assertEqual(c.close(), 0)

    def test_update_delivered_is_on_disk(self):
        msgid = self.inject()
        c = self.start()
        self.load(c)
        before = self.state(msgid)
        c.send(update(msgid, 2, "D", 1, 1700000123, "2.0.0 ok: queued as 12345"))
        self.assertEqual(c.reply(), ("A", msgid, [], None))
        st = self.state(msgid)
        self.assertEqual(len(st["raw"]), len(before["raw"]), "rewritten in place")
        r = st["rcpts"][2]
        self.assertEqual((r["status"], r["channel"], r["attempts"], r["lasttry"], r["text"]),
                         ("D", "R", 1, 1700000123, b"2.0.0 ok: queued as 12345"))
        with open(self.qpath("state", msgid), "rb") as f:
            f.seek(r["offset"] + 1)
            self.assertEqual(f.read(1), b"D")
        others = [x for i, x in enumerate(st["rcpts"]) if i != 2]
        self.assertEqual(others, [x for i, x in enumerate(before["rcpts"]) if i != 2])
        self.assertEqual(c.close(), 0)

    def test_update_todo_counts_and_cut_text(self):
        msgid = self.inject()
        c = self.start()
        self.load(c)
        c.send(update(msgid, 0, "T", 3, 1700000999, "4.4.1 connection refused\tby " + "x" * 300))
        self.assertEqual(c.reply()[0], "A")
        r = self.state(msgid)["rcpts"][0]
        self.assertEqual((r["status"], r["attempts"], r["lasttry"]), ("T", 3, 1700000999))
        self.assertEqual(r["text"], (b"4.4.1 connection refused_by " + b"x" * 300)[:200])
        c.send(update(msgid, 0, "T", 4, 1700001999, ""))
        self.assertEqual(c.reply()[0], "A")
        r = self.state(msgid)["rcpts"][0]
        self.assertEqual((r["attempts"], r["lasttry"], r["text"]), (4, 1700001999, b""))
        self.assertEqual(c.close(), 0)

    def test_bad_requests_get_errors_and_change_nothing(self):
        msgid = self.inject()
        other = "0000000000000000.1"
        c = self.start()
        self.load(c)
        before = self.state(msgid)["raw"]
        cases = [
            (update(msgid, 5, "D"), msgid, "no such recipient"),
            (update(other, 0, "D"), other, "unable to open state file"),
            (update(msgid, 0, "Q"), msgid, "malformed U request"),
            (rec("U" + msgid, 0, "D", 1, 2), msgid, "malformed U request"),
            (rec("U" + msgid, 0, "D", 1, 2, "no equals sign"), msgid, "malformed U request"),
            (rec("U" + msgid, 0, "D", "x", 2, "="), msgid, "malformed U request"),
            (rec("U" + msgid, 0, "D", 1, 99999999999, "="), msgid, "malformed U request"),
            (rec("Xnot-an-id"), "", "malformed X request"),
            (rec("Z" + msgid), msgid, "unknown request"),
        ]
        for req, rid, text in cases:
            with self.subTest(req=req):
                c.send(req)
                letter, got_id, fields, _ = c.reply()
                self.assertEqual((letter, got_id), ("!", rid))
                self.assertEqual(len(fields), 1)
                self.assertIn(text, fields[0])
        self.assertEqual(self.state(msgid)["raw"], before)
        c.send(update(msgid, 0, "D"))
        self.assertEqual(c.reply()[:2], ("A", msgid), "still serving after errors")
        self.assertEqual(c.close(), 0)

    def test_remove_state(self):
        msgid = self.inject()
        c = self.start()
        self.load(c)
        c.send(rec("X" + msgid))
        self.assertEqual(c.reply(), ("x", msgid, [], None))
        self.assertFalse(os.path.exists(self.qpath("state", msgid)))
        self.assertTrue(os.path.exists(self.qpath("body", msgid)), "the body is clean's")
        c.send(rec("X" + msgid))
        self.assertEqual(c.reply(), ("x", msgid, [], None), "removing twice is fine")
        c.send(update(msgid, 0, "D"))
        self.assertEqual(c.reply()[:2], ("!", msgid))
        self.assertEqual(c.close(), 0)
        c = self.start()
        self.assertEqual(self.load(c), {})

    def crash_after_state(self, msgid, todo):
        """puts back the todo entry, as a crash before its unlink would"""
        with open(self.qpath("todo", msgid), "wb") as f:
            f.write(todo)

    def test_complete_state_with_todo_is_kept(self):
        msgid = self.inject()
        todo = open(self.qpath("todo", msgid), "rb").read()
        c = self.start()
        self.load(c)
        c.send(update(msgid, 1, "D", 1, 1700000000, "delivered"))
        self.assertEqual(c.reply()[0], "A")
        self.assertEqual(c.close(), 0)
        before = self.state(msgid)["raw"]
        self.crash_after_state(msgid, todo)
        c = self.start()
        got = self.load(c)
        self.assertEqual(list(got), [msgid], "reported once, not by both passes")
        self.assertEqual(got[msgid]["raw"], before)
        self.assertEqual(self.state(msgid)["raw"], before, "the D survives: state not rebuilt")
        self.assertEqual(self.home.files("todo"), {})
        self.assertEqual(c.close(), 0)

    def test_truncated_state_with_todo_is_rebuilt(self):
        msgid = self.inject()
        todo = open(self.qpath("todo", msgid), "rb").read()
        c = self.start()
        self.load(c)
        self.assertEqual(c.close(), 0)
        whole = self.state(msgid)["raw"]
        for cut in (len(whole) - 1, len(whole) // 2, 3, 0):
            with self.subTest(cut=cut):
                with open(self.qpath("state", msgid), "r+b") as f:
                    f.truncate(cut)
                self.crash_after_state(msgid, todo)
                c = self.start()
                got = self.load(c)
                self.assertEqual(self.state(msgid)["raw"], whole)
                self.assertEqual(got[msgid]["raw"], whole)
                self.assertEqual(self.home.files("todo"), {})
                self.assertEqual(c.close(), 0)

    def test_truncated_state_without_todo_is_left_alone(self):
        msgid = self.inject()
        c = self.start()
        self.load(c)
        self.assertEqual(c.close(), 0)
        with open(self.qpath("state", msgid), "r+b") as f:
            f.truncate(100)
        c = self.start()
        self.assertEqual(self.load(c), {})
        self.assertEqual(c.close(), 0)
        self.assertEqual(os.path.getsize(self.qpath("state", msgid)), 100)
        self.assertIn("incomplete state file", c.stderr())

    def test_todo_without_body_or_too_big_waits(self):
        nobody = self.inject()
        os.unlink(self.qpath("body", nobody))
        big = "%016x.%d" % (0x6b000000 << 32, 77)
        with open(self.qpath("body", big), "wb") as f:
            f.write(MSG)
        with open(self.qpath("todo", big), "wb") as f:
            f.write(b"u0\0p1\0Fa@b\0T" + b"x" * (ENV_BYTES_MAX + 64) + b"\0\0")
        with open(self.qpath("todo", big[:-2] + "78"), "wb") as f:   # no body at all
            f.write(b"u0\0p1\0Fa@b\0Tc@d\0\0")
        with open(self.home.path("queue", "todo", "0", "junk"), "wb") as f:
            f.write(b"not an id")
        good = self.inject(rcpts=["c@example.test"])
        c = self.start()
        self.assertEqual(list(self.load(c)), [good])
        self.assertEqual(sorted(self.home.files("todo")), sorted([nobody, big, big[:-2] + "78", "junk"]))
        self.assertEqual(self.home.files("state"), {good: self.qpath("state", good)})
        self.assertEqual(c.close(), 0)
        err = c.stderr()
        self.assertIn("no body, todo entry left alone: " + nobody, err)
        self.assertIn("todo file too large", err)
        self.assertNotIn("junk", err)

    def test_unreadable_table_defers(self):
        msgid = self.inject()
        with open(self.home.path("control", "locals.cdb"), "wb") as f:
            f.write(b"garbage")
        c = self.start()
        self.assertEqual(self.load(c), {})
        self.assertIn(msgid, self.home.files("todo"))
        self.assertIn("control/locals.cdb", c.stderr())
        subprocess.run([os.path.join(harness.BIN, "table-compile"), self.home.path("control", "locals")],
                       check=True)
        self.assertEqual(list(self.load(c, "S")), [msgid])
        self.assertEqual(c.close(), 0)

    def test_scan_sorts_at_most_1000(self):
        ids = []
        for i in range(1001):
            msgid = "%016x.%d" % ((0x6b000000 << 32) + i, 100 + i)
            with open(self.qpath("body", msgid), "wb") as f:
                f.write(MSG)
            with open(self.qpath("todo", msgid), "wb") as f:
                f.write(b"u0\0p1\0Fa@b\0Tc@example.test\0\0")
            ids.append(msgid)
        c = self.start()
        first = self.load(c, "S")
        self.assertEqual(len(first), 1000)
        self.assertEqual(len(self.home.files("todo")), 1)
        second = self.load(c, "S")
        self.assertEqual(sorted(list(first) + list(second)), sorted(ids))
        self.assertEqual(c.close(), 0)

    def strace(self):
        if not shutil.which("strace"):
            self.skipTest("no strace")
        log = self.home.path("strace.log")
        c = self.start(wrap=["strace", "-f", "-y", "-o", log, "-e",
                             "trace=fsync,fdatasync,syncfs,unlink,unlinkat,pwrite64"])
        return c, log

    def events(self, log):
        out = []
        for line in open(log):
            m = re.search(r"(fsync|fdatasync|syncfs)\(\d+<[^>]*/(queue/[^>]*)>(\(deleted\))?\)\s+= 0", line)
            if m:
                out.append(("syncfs" if m.group(1) == "syncfs" else "fsync",
                            m.group(2) + (" (deleted)" if m.group(3) else "")))
            m = re.search(r"unlink\w*\((?:AT_FDCWD, )?\"([^\"]+)\"", line)
            if m:
                out.append(("unlink", m.group(1)))
            if "pwrite64(" in line:
                out.append(("pwrite",))
        return out

    def test_state_and_its_directory_synced_before_todo_unlink(self):
        """one group commit (syncfs of the state tree's filesystem: the
        file and its name) before the todo entry goes"""
        msgid = self.inject()
        sub = fnv_subdir(msgid)
        c, log = self.strace()
        self.load(c)
        self.assertEqual(c.close(), 0)
        self.assertEqual(self.events(log), [
            ("syncfs", "queue/state"),
            ("unlink", f"queue/todo/{sub}/{msgid}"),
        ])

    def test_batch_of_200_updates_costs_one_fsync(self):
        msgid = self.inject(rcpts=["r%d@remote.test" % i for i in range(200)])
        sub = fnv_subdir(msgid)
        c, log = self.strace()
        self.load(c)
        c.send(b"".join(update(msgid, i, "D", 1, 1700000000 + i, "ok %d" % i) for i in range(200)))
        self.assertEqual(c.replies(200), [("A", msgid, [], None)] * 200)
        self.assertEqual(c.close(), 0)
        st = self.state(msgid)
        self.assertEqual([(r["status"], r["lasttry"]) for r in st["rcpts"]],
                         [("D", 1700000000 + i) for i in range(200)])
        ev = self.events(log)
        self.assertEqual(ev.count(("pwrite",)), 200)
        fsyncs = [e for e in ev[2:] if e[0] == "fsync"]
        # one write of 200 requests is read as one batch, maybe two
        self.assertGreaterEqual(len(fsyncs), 1)
        self.assertLessEqual(len(fsyncs), 2, fsyncs)
        self.assertEqual(set(fsyncs), {("fsync", f"queue/state/{sub}/{msgid}")})

    def test_final_statuses_of_two_files_cost_one_syncfs(self):
        a, b = self.inject(), self.inject()
        c, log = self.strace()
        self.load(c)
        c.send(update(a, 0, "D", 1, 1700000000, "ok") + update(b, 0, "D", 1, 1700000000, "ok"))
        self.assertEqual(c.replies(2), [("A", a, [], None), ("A", b, [], None)])
        self.assertEqual(c.close(), 0)
        self.assertEqual([self.state(m)["rcpts"][0]["status"] for m in (a, b)], ["D", "D"])
        syncs = [e for e in self.events(log) if e[0] in ("fsync", "syncfs")]
        # the sort's group commit, then the batch's: no fsync per file
        self.assertEqual(syncs, [("syncfs", "queue/state")] * 2)

    def test_temporary_status_needs_no_fsync_and_removal_skips_it(self):
        msgid = self.inject()
        sub = fnv_subdir(msgid)
        c, log = self.strace()
        self.load(c)
        c.send(update(msgid, 0, "T", 1, 1700000000, "4.2.2 mailbox full"))
        self.assertEqual(c.reply()[0], "A")
        # a final status and the removal in one batch: the file is not synced
        c.send(update(msgid, 1, "B", 1, 1700000000, "bounced") + rec("X" + msgid))
        got = [c.reply(), c.reply()]
        self.assertEqual([g[:2] for g in got], [("A", msgid), ("x", msgid)])
        self.assertEqual(c.close(), 0)
        ev = self.events(log)[2:]
        self.assertEqual([e for e in ev if e[0] != "pwrite"],
                         [("unlink", f"queue/state/{sub}/{msgid}"), ("fsync", f"queue/state/{sub}")])

    def test_exit_codes(self):
        p = subprocess.run([RECORD, "x"], env=self.home.env, capture_output=True)
        self.assertEqual(p.returncode, 100)
        self.assertIn(b"usage", p.stderr)
        p = subprocess.run([RECORD], env=dict(self.home.env, POSTERN_HOME=self.home.path("none")),
                           stdin=subprocess.DEVNULL, capture_output=True)
        self.assertEqual(p.returncode, 111)
        self.assertIn(b"chdir", p.stderr)
        p = subprocess.run([RECORD], env=self.home.env, input=b"", capture_output=True)
        self.assertEqual((p.returncode, p.stdout, p.stderr), (0, b"", b""))
        # a request past the limit is send's bug, not a disk's
        p = subprocess.run([RECORD], env=self.home.env, input=b"U" + b"x" * 5000, capture_output=True)
        self.assertEqual(p.returncode, 101)
        # send gone (killed): what it sent is still recorded, then exit 0
        msgid = self.inject()
        r, w = os.pipe()
        os.close(r)
        p = subprocess.run([RECORD], env=self.home.env, input=rec("L"), stdout=w, stderr=subprocess.PIPE)
        os.close(w)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn(b"send is gone", p.stderr)
        self.assertIn(msgid, self.home.files("state"), "the sort was still done")


if __name__ == "__main__":
    unittest.main()
