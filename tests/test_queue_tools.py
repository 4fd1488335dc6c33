"""queue-list and queue-stats: on a live queue of 1,000 messages built
by a running send (deliveries that succeed, defer, fail; remote
recipients at dead routes; fast and slow lanes; messages left unsorted
in todo), on a hand-made queue (ages, malformed files, escaping), while
send works, and against callers who may not read the queue."""
import collections
import os
import pwd
import re
import shutil
import subprocess
import tempfile
import time
import unittest
from concurrent.futures import ThreadPoolExecutor

import harness
from harness import Instance, envelope, maildir_count, wait_for

MSG_RE = re.compile(r"^(\S+) (\d+[smhd]) (\d+) <(.*)>( unsorted)?$")
RCPT_RE = re.compile(r"^  <(.*?)> (local|remote|unknown) (unsorted|waiting|done|failed|bounced) "
                     r"(fast|slow|-) (\d+)(?: (.*))?$")
AGES = ["5", "10", "20", "40", "80", "160", "320", "640", "1280", "1280+"]


def message(n):
    return (f"From: someone@example.test\nSubject: queued {n}\n\nbody {n}\n" + "x" * (n % 50) + "\n").encode()


def parse_list(text):
    """queue-list's output: [(id, age, size, sender, unsorted, [rcpt tuples])]"""
    msgs = []
    for line in text.splitlines():
        m = MSG_RE.match(line)
        if m:
            msgs.append((m[1], m[2], int(m[3]), m[4], bool(m[5]), []))
            continue
        r = RCPT_RE.match(line)
        if not r or not msgs:
            raise AssertionError(f"unexpected line {line!r}")
        msgs[-1][5].append((r[1], r[2], r[3], r[4], int(r[5]), r[6] or ""))
    return msgs


def parse_stats(text):
    """queue-stats' output: (messages, unsorted, {row: (local, remote, total)},
    [(domain, [T, ages...])] with TOTAL first)"""
    first, _, shape = text.partition("\n\n")
    lines = first.splitlines()
    m = re.match(r"^messages: (\d+) \(unsorted: (\d+)\)$", lines[0])
    assert m, lines[0]
    assert lines[1].split() == ["recipients", "local", "remote", "total"], lines[1]
    rows = {}
    for line in lines[2:]:
        *name, local, remote, total = line.split()
        rows[" ".join(name)] = (int(local), int(remote), int(total))
    slines = shape.splitlines()
    assert slines[0].split() == ["T"] + AGES, slines[0]
    table = []
    for line in slines[1:]:
        name, *nums = line.split()
        table.append((name, [int(x) for x in nums]))
    return int(m[1]), int(m[2]), rows, table


def queue_hash(msgid):
    h = 2166136261
    for c in msgid.encode():
        h = ((h ^ c) * 16777619) & 0xffffffff
    return h % harness.SPLIT


def read_states(inst):
    """[(status, attempts)] of every recipient in every whole state file,
    or None if a file is caught mid-write"""
    out = []
    for path in inst_files(inst, "state"):
        try:
            f = open(path, "rb").read().split(b"\0")
        except FileNotFoundError:
            continue
        if len(f) < 6 or f[0] != b"V1" or f[-1] != b"" or f[-2] != b"":
            return None
        i = 4
        while f[i]:
            out.append((f[i][1:2].decode(), int(f[i][3:7])))
            i += 3
    return out


def inst_files(inst, tree):
    base = inst.path("queue", tree)
    return [os.path.join(base, s, n) for s in os.listdir(base) if os.path.isdir(os.path.join(base, s))
            for n in os.listdir(os.path.join(base, s))]


def as_user(name):
    pw = pwd.getpwnam(name)

    def drop():
        os.initgroups(name, pw.pw_gid)
        os.setgid(pw.pw_gid)
        os.setuid(pw.pw_uid)
    return drop


class QueueToolsTest(unittest.TestCase):
    """One queue of 1,000 messages for every test here: built once, with
    send stopped at the end, so the tables are taken of a still queue;
    the -s tests count what no sort or delivery changes, and the test
    that runs the tools beside send starts it again."""

    # (phase, sender, recipients of message i, count)
    PHASES = [
        # old, tried: slow lane
        ("p1", "alpha@sender.test", lambda i: ["demo-defer@example.test"], 200),
        ("p1", "beta@sender.test", lambda i: ["demo@example.test", f"r{i}@dead.test"], 200),
        ("p1", "demo@example.test",
         lambda i: ["demo-fail@example.test", "demo-defer@example.test", f"x{i}@dead.test"], 100),
        # young, tried: fast lane
        ("p2", "gamma@sender.test", lambda i: ["demo-defer@example.test", f"y{i}@gone.test"], 200),
        # send stopped: left in todo
        ("p3", "", lambda i: ["demo@example.test", f"z{i}a@dead.test", f"z{i}b@dead.test"], 300),
    ]

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="postern-qtools-")
        cls.started = time.monotonic()
        inst = cls.inst = Instance(home=os.path.join(cls.tmp, "h"), bindir=harness.BIN)
        try:
            cls.build()
        except BaseException:
            inst.cleanup()
            shutil.rmtree(cls.tmp, ignore_errors=True)
            raise

    @classmethod
    def build(cls):
        inst = cls.inst
        inst.table("locals", "example.test\n")
        # connection refused at once: a fast deferral, no DNS asked
        inst.table("routes", "dead.test [127.0.0.1]:1\ngone.test [127.0.0.1]:1\n")
        inst.control("dnsservers", "127.0.0.1:1\n")
        demo = inst.mailbox_user("demo")
        inst.users({"demo": demo})
        cls.maildir = os.path.join(demo[2], "Maildir")
        inst.write_as(os.path.join(demo[2], ".postern-defer"), "|echo not yet; exit 111\n", demo[0])
        inst.write_as(os.path.join(demo[2], ".postern-fail"), "|echo mailbox full; exit 100\n", demo[0])
        cls.expected = collections.Counter()   # (sender, recipients) per message
        inst.start()
        cls.inject_phase("p1")
        cls.p1_end = int(time.time())
        # every p1 recipient tried; a failed one waits, as in qmail, for
        # its message's other recipients before it is bounced
        ok = wait_for(lambda: cls.settled(500, 200), 180, 0.5)
        assert ok, "phase 1 did not settle\n" + inst.log()[-3000:]
        while int(time.time()) < cls.p1_end + 3:
            time.sleep(0.2)
        cls.inject_phase("p2")
        ok = wait_for(lambda: cls.settled(700, 200), 120, 0.5)
        assert ok, "phase 2 did not settle\n" + inst.log()[-3000:]
        assert inst.stop() == 0
        cls.inject_phase("p3")
        cls.setup_took = time.monotonic() - cls.started
        cls.list_out = cls.run_tool("queue-list")
        cls.stats_out = cls.run_tool("queue-stats")
        cls.stats_n1 = cls.run_tool("queue-stats", "-n", "1")

    @classmethod
    def inject_phase(cls, phase):
        jobs = []
        for p, sender, rcpts, n in cls.PHASES:
            if p == phase:
                for i in range(n):
                    jobs.append((sender, rcpts(i), len(jobs)))
                    cls.expected[(sender, frozenset(rcpts(i)))] += 1

        def one(job):
            sender, rcpts, n = job
            rc, err = cls.inst.inject(message(n), envelope(sender, rcpts))
            assert rc == 0, err
        with ThreadPoolExecutor(8) as ex:
            list(ex.map(one, jobs))

    @classmethod
    def settled(cls, nstates, delivered):
        """nstates messages sorted, nothing left in todo, every waiting
        recipient tried, the Maildir complete"""
        if inst_files(cls.inst, "todo") or maildir_count(cls.maildir) < delivered:
            return False
        if len(inst_files(cls.inst, "state")) != nstates:
            return False
        st = read_states(cls.inst)
        return st is not None and all(s in "DF" or (s == "T" and a >= 1) for s, a in st)

    @classmethod
    def run_tool(cls, *args, preexec=None, check=True):
        """runs a tool of the instance with control/slowafter set so that
        phase 1 is in the slow lane and phase 2 in the fast one: phase 1
        ended 3 s before phase 2 began, and a run takes well under that"""
        # atomically: send may be reading it as it starts
        tmp = cls.inst.path("control", "slowafter.tmp")
        with open(tmp, "w") as f:
            f.write(f"{int(time.time()) - cls.p1_end}\n")
        os.rename(tmp, cls.inst.path("control", "slowafter"))
        p = subprocess.run([os.path.join(cls.inst.bin, args[0])] + list(args[1:]),
                           capture_output=True, env=cls.inst.env, timeout=120, preexec_fn=preexec)
        if check:
            assert p.returncode == 0 and not p.stderr, (p.returncode, p.stderr)
            return p.stdout.decode()
        return p

    @classmethod
    def tearDownClass(cls):
        cls.inst.cleanup()
        shutil.rmtree(cls.tmp, ignore_errors=True)

    # --- queue-list of the still queue

    def test_list_has_every_message_once_oldest_first(self):
        msgs = parse_list(self.list_out)
        self.assertEqual(len(msgs), 1000)
        ids = [m[0] for m in msgs]
        self.assertEqual(len(set(ids)), 1000)
        self.assertEqual(ids, sorted(ids))
        births = [int(i[:8], 16) for i in ids]
        self.assertEqual(births, sorted(births))

    def test_list_matches_what_was_queued(self):
        msgs = parse_list(self.list_out)
        got = collections.Counter((m[3], frozenset(r[0] for r in m[5])) for m in msgs)
        self.assertEqual(got, self.expected)
        unsorted = [m for m in msgs if m[4]]
        self.assertEqual(len(unsorted), 300)
        self.assertEqual({m[3] for m in unsorted}, {""})   # shown as <>
        for m in msgs:
            self.assertRegex(m[1], r"^\d+[sm]$")
            body = self.inst.path("queue", "body", str(queue_hash(m[0])), m[0])
            self.assertEqual(m[2], os.path.getsize(body), m[0])

    def test_list_recipient_states_lanes_attempts_results(self):
        rcpts = [r for m in parse_list(self.list_out) for r in m[5]]
        got = collections.Counter((r[1], r[2], r[3]) for r in rcpts)
        self.assertEqual(got, {
            ("local", "unsorted", "-"): 300, ("remote", "unsorted", "-"): 600,
            ("local", "waiting", "fast"): 200, ("remote", "waiting", "fast"): 200,
            ("local", "waiting", "slow"): 300, ("remote", "waiting", "slow"): 300,
            ("local", "done", "-"): 200, ("local", "failed", "-"): 100,
        })
        for addr, chan, state, lane, attempts, result in rcpts:
            if state == "unsorted":
                self.assertEqual((attempts, result), (0, ""))
            else:
                self.assertGreaterEqual(attempts, 1, addr)
            if addr == "demo-defer@example.test":
                self.assertIn("not yet", result)
            elif state == "waiting":
                self.assertIn("Connection refused", result)
            elif state == "failed":
                self.assertEqual(addr, "demo-fail@example.test")
                self.assertIn("mailbox full", result)
            self.assertLessEqual(len(result), 200)
        # the lane is per message age: the gone.test ones are phase 2's
        lanes = {r[3] for r in rcpts if r[0].endswith("@gone.test")}
        self.assertEqual(lanes, {"fast"})

    # --- queue-stats of the still queue

    def test_stats_counts(self):
        msgs, unsorted, rows, _ = parse_stats(self.stats_out)
        self.assertEqual((msgs, unsorted), (1000, 300))
        self.assertEqual(rows, {
            "unsorted": (300, 600, 900),
            "waiting fast": (200, 200, 400),
            "waiting slow": (300, 300, 600),
            "done": (200, 0, 200),
            "failed": (100, 0, 100),
            "bounced": (0, 0, 0),
            "total": (1100, 1100, 2200),
        })

    def test_stats_shape_top_domains(self):
        _, _, _, table = parse_stats(self.stats_out)
        self.assertEqual([(d, n[0]) for d, n in table],
                         [("TOTAL", 1900), ("dead.test", 900), ("example.test", 800), ("gone.test", 200)])
        for d, n in table:
            self.assertEqual(sum(n[1:]), n[0], d)
            if self.setup_took < 280:
                self.assertEqual(n[1], n[0], d)   # all younger than 5 minutes
        _, _, _, top1 = parse_stats(self.stats_n1)
        self.assertEqual([(d, n[0]) for d, n in top1], [("TOTAL", 1900), ("dead.test", 900)])

    def test_stats_agree_with_list(self):
        rcpts = [r for m in parse_list(self.list_out) for r in m[5]]
        _, _, rows, _ = parse_stats(self.stats_out)
        for row, (state, lane) in {"unsorted": ("unsorted", "-"), "waiting fast": ("waiting", "fast"),
                                   "waiting slow": ("waiting", "slow"), "done": ("done", "-"),
                                   "failed": ("failed", "-")}.items():
            n = [len([r for r in rcpts if r[1] == ch and r[2] == state and r[3] == lane])
                 for ch in ("local", "remote")]
            self.assertEqual(rows[row][:2], tuple(n), row)

    # --- -s: which messages match changes neither by sorting nor by
    # deliveries (every message keeps a deferred recipient)

    @unittest.skipUnless(os.getuid() == 0, "needs root to become another account")
    def test_queue_owner_reads_the_whole_queue(self):
        """the queue account of conf-users sees what root sees (state
        files carry the shared group of the setgid state tree)"""
        # this home's queue-inject is not setuid (so that it writes here):
        # give its files the owner the installed one gives them
        quid = pwd.getpwnam(harness.users()["queue"]).pw_uid
        for f in inst_files(self.inst, "todo") + inst_files(self.inst, "body"):
            os.chown(f, quid, -1)
        p = self.run_tool("queue-stats", preexec=as_user(harness.users()["queue"]), check=False)
        self.assertEqual((p.returncode, p.stderr), (0, b""))
        self.assertEqual(p.stdout.decode(), self.run_tool("queue-stats"))

    def test_filter_by_sender_ignores_case(self):
        msgs = parse_list(self.run_tool("queue-list", "-s", "GAMMA@Sender"))
        self.assertEqual(len(msgs), 200)
        self.assertEqual({m[3] for m in msgs}, {"gamma@sender.test"})

    def test_filter_by_recipient(self):
        self.assertEqual(len(parse_list(self.run_tool("queue-list", "-s", "gone.TEST"))), 200)
        self.assertEqual(len(parse_list(self.run_tool("queue-list", "-s", "dead.test"))), 600)
        one = parse_list(self.run_tool("queue-list", "-s", "r17@dead"))
        self.assertEqual(len(one), 1)
        self.assertEqual(one[0][3], "beta@sender.test")
        self.assertEqual({r[0] for r in one[0][5]}, {"demo@example.test", "r17@dead.test"})
        self.assertEqual(self.run_tool("queue-list", "-s", "no-such-text"), "")

    # --- callers

    @unittest.skipUnless(os.getuid() == 0, "needs root to become another account")
    def test_non_owner_is_refused(self):
        for tool in ("queue-list", "queue-stats"):
            with self.subTest(tool=tool):
                p = self.run_tool(tool, preexec=as_user("nobody"), check=False)
                self.assertEqual(p.returncode, 100, p.stderr)
                self.assertIn(b"only root or the queue owner", p.stderr)
                self.assertEqual(p.stdout, b"")

    def test_usage(self):
        for args in (["queue-list", "-x"], ["queue-list", "extra"], ["queue-stats", "-n", "many"],
                     ["queue-stats", "-n", "1000001"]):
            with self.subTest(args=args):
                p = self.run_tool(*args, check=False)
                self.assertEqual(p.returncode, 100, p.stderr)
                self.assertEqual(p.stdout, b"")

    # --- beside a running send

    def test_tools_run_while_send_works(self):
        """send sorts the 300 unsorted messages, delivers their local
        recipients and keeps retrying the deferred ones while the tools
        read: every run sees every message once and every recipient"""
        inst = self.inst
        inst.start()
        try:
            runs = 0
            end = time.monotonic() + 120
            while time.monotonic() < end:
                out = self.run_tool("queue-list")
                msgs = parse_list(out)
                self.assertEqual(len(msgs), 1000)
                self.assertEqual(sum(len(m[5]) for m in msgs), 2200)
                n, _, rows, table = parse_stats(self.run_tool("queue-stats"))
                self.assertEqual((n, rows["total"][2]), (1000, 2200))
                self.assertEqual(table[1], ("dead.test", [900] + table[1][1][1:]))
                runs += 1
                if not inst_files(inst, "todo") and maildir_count(self.maildir) >= 500 and runs >= 3:
                    break
            self.assertIsNone(inst.send.poll(), inst.log()[-2000:])
            self.assertEqual(maildir_count(self.maildir), 500)
            # a delivery is in the Maildir before record has its result
            # on disk: wait for the state files to say so
            wait_for(lambda: parse_stats(self.run_tool("queue-stats"))[2]["done"] == (500, 0, 500), 30)
            n, unsorted, rows, table = parse_stats(self.run_tool("queue-stats"))
            self.assertEqual((n, unsorted), (1000, 0))
            self.assertEqual(rows["unsorted"], (0, 0, 0))
            self.assertEqual(rows["done"], (500, 0, 500))
            self.assertEqual([(d, v[0]) for d, v in table[:2]], [("TOTAL", 1600), ("dead.test", 900)])
            self.assertNotRegex(inst.log(), r"malformed|unable to|fatal")
        finally:
            self.assertEqual(inst.stop(), 0)


class HandMadeQueueTest(unittest.TestCase):
    """A queue written by hand: old messages (age units, qshape columns),
    a state file caught mid-write, a broken one, outside bytes."""

    def setUp(self):
        self.home = harness.Home(prefix="postern-qtools-")
        self.now = int(time.time())

    def tearDown(self):
        self.home.cleanup()

    def put(self, tree, msgid, data):
        path = self.home.path("queue", tree, str(queue_hash(msgid)), msgid)
        with open(path, "wb") as f:
            f.write(data)

    def msgid(self, age, pid):
        return "%08x%08x.%d" % (self.now - age, 12345, pid)

    @staticmethod
    def state(sender, size, rcpts):
        out = b"V1\0u0\0z%d\0F%s\0" % (size, sender)
        for status, chan, attempts, lasttry, result, addr, local in rcpts:
            fixed = b"R" + status + chan + b"%04d%010d" % (attempts, lasttry) + result.ljust(200)
            out += fixed + b"\0" + addr + b"\0L" + local + b"\0"
        return out + b"\0"

    def run_tool(self, *args):
        return subprocess.run([os.path.join(harness.BIN, args[0])] + list(args[1:]),
                              capture_output=True, env=self.home.env, timeout=60)

    def test_ages_states_escapes_and_broken_files(self):
        with open(self.home.path("control", "locals"), "w") as f:
            f.write("here.test\n")
        subprocess.run([os.path.join(harness.BIN, "table-compile"), self.home.path("control", "locals")],
                       check=True)
        day, old, partial, broken = (self.msgid(90000, 1), self.msgid(7200, 2),
                                     self.msgid(600, 3), self.msgid(300, 4))
        # a day old, unsorted, a bounce
        self.put("body", day, b"0123456789")
        self.put("todo", day, b"u0\0p1\0" + envelope("", ["z@Old.Test"]))
        # two hours old, sorted
        self.put("body", old, b"x" * 77)
        self.put("state", old, self.state(b"old@sender.test", 77, [
            (b"T", b"R", 3, self.now - 60, b"4.4.1 old result", b"a@Old.Test", b""),
            (b"F", b"L", 1, self.now - 60, b"5.1.1 nope", b"b@here.test", b"b"),
            (b"D", b"L", 1, self.now - 60, b"", b"c@here.test", b"c"),
            (b"B", b"L", 2, self.now - 60, b"5.0.0 gone\x01", b"d\\\xff@here.test", b"d"),
        ]))
        # record still writing its state: the todo entry is what counts
        self.put("body", partial, b"y" * 20)
        self.put("todo", partial, b"u0\0p3\0" + envelope("p@sender.test", ["q@here.test"]))
        self.put("state", partial, self.state(b"p@sender.test", 20, [
            (b"T", b"L", 0, 0, b"", b"q@here.test", b"q")])[:40])
        # broken for good, no todo entry: skipped with a warning
        self.put("body", broken, b"z")
        self.put("state", broken, b"V1\0garbage\0\0")
        # not ours
        self.put("todo", "junk", b"whatever")

        p = self.run_tool("queue-list")
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stderr.decode(), f"queue-list: warning: skipped {broken}: its queue files are malformed\n")
        self.assertEqual(p.stdout.decode(), (
            f"{day} 1d 10 <> unsorted\n"
            f"  <z@Old.Test> remote unsorted - 0\n"
            f"{old} 2h 77 <old@sender.test>\n"
            f"  <a@Old.Test> remote waiting slow 3 4.4.1 old result\n"
            f"  <b@here.test> local failed - 1 5.1.1 nope\n"
            f"  <c@here.test> local done - 1\n"
            f"  <d\\134\\377@here.test> local bounced - 2 5.0.0 gone\\001\n"
            f"{partial} 10m 20 <p@sender.test> unsorted\n"
            f"  <q@here.test> local unsorted - 0\n"))

        p = self.run_tool("queue-stats")
        self.assertEqual(p.returncode, 0, p.stderr)
        n, unsorted, rows, table = parse_stats(p.stdout.decode())
        self.assertEqual((n, unsorted), (3, 2))
        self.assertEqual(rows["unsorted"], (1, 1, 2))
        self.assertEqual(rows["waiting slow"], (0, 1, 1))
        self.assertEqual(rows["failed"], (1, 0, 1))
        self.assertEqual(rows["bounced"], (1, 0, 1))
        self.assertEqual(rows["done"], (1, 0, 1))
        cols = dict(zip(["T"] + AGES, dict(table)["old.test"]))
        self.assertEqual(cols, dict(zip(["T"] + AGES, [2, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1])))
        # ten minutes old: the "20" column
        self.assertEqual(dict(table)["here.test"], [1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0])
        self.assertEqual(table[0][0], "TOTAL")
        self.assertEqual(table[0][1][0], 3)

    def test_slowafter_sets_the_lane(self):
        old = self.msgid(7200, 2)
        self.put("body", old, b"x")
        self.put("state", old, self.state(b"s@sender.test", 1, [
            (b"T", b"R", 1, self.now, b"4.4.1 later", b"a@old.test", b""),
            (b"T", b"R", 0, 0, b"", b"b@old.test", b"")]))
        with open(self.home.path("control", "slowafter"), "w") as f:
            f.write("100000\n")
        self.assertIn(b"<a@old.test> remote waiting fast 1 4.4.1 later\n", self.run_tool("queue-list").stdout)
        with open(self.home.path("control", "slowafter"), "w") as f:
            f.write("7000\n")
        out = self.run_tool("queue-list").stdout
        self.assertIn(b"<a@old.test> remote waiting slow 1 4.4.1 later\n", out)
        # never tried: fast, whatever its age
        self.assertIn(b"<b@old.test> remote waiting fast 0\n", out)

    @unittest.skipUnless(os.getuid() == 0, "needs root to become another account")
    def test_queue_owner_is_allowed(self):
        # the queue account of conf-users, on an empty installed queue
        for tool in ("queue-list", "queue-stats"):
            p = subprocess.run([os.path.join(harness.BIN, tool)], capture_output=True, env=self.home.env,
                               timeout=60, preexec_fn=as_user(harness.users()["queue"]))
            self.assertEqual(p.returncode, 0, p.stderr)
        # whoever owns queue/ (a home made without root)
        subprocess.run(["chown", "-R", "nobody", self.home.path("queue")], check=True)
        p = subprocess.run([os.path.join(harness.BIN, "queue-stats")], capture_output=True,
                           env=self.home.env, timeout=60, preexec_fn=as_user("nobody"))
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertTrue(p.stdout.startswith(b"messages: 0 (unsorted: 0)\n"), p.stdout)


if __name__ == "__main__":
    unittest.main()
