"""log-summary: exact figures on a hand-written log (fixed TAI64N
stamps, rotated files, two directories), then the logs of a real run:
send and smtpd writing through cyclog with small files, 200 messages
delivered, deferred once, or bounced, summed up and drawn."""
import math
import os
import re
import shutil
import signal
import smtplib
import socket
import subprocess
import tempfile
import time
import unittest
import xml.etree.ElementTree as ET
from concurrent.futures import ThreadPoolExecutor

import harness
from harness import Instance, envelope, wait_for

LOGSUM = os.path.join(harness.BIN, "log-summary")
CYCLOG = os.path.join(harness.BIN, "cyclog")
NS = 10 ** 9
# TAI - UTC since 2017: what cyclog's stamps (skalibs' leap table) add
LEAP = 37
# 2026-11-23 18:50:00 UTC, on a minute
B = 1795459800
SVGNS = "{http://www.w3.org/2000/svg}"
STAMPED = re.compile(r"^@[0-9a-f]{24} ")


def stamp(t):
    """TAI64N label of t, ns since 1970 UTC"""
    return "@%016x%08x" % (2 ** 62 + LEAP + t // NS, t % NS)


def msgid(t, pid):
    return "%08x%08x.%d" % (t // NS, t % NS, pid)


def utc(sec):
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(sec))


def bucket_low(ms):
    """the documented histogram: exact below 128 ms, then 64 buckets a
    doubling; a percentile is its bucket's low end"""
    if ms < 128:
        return ms
    e = ms.bit_length() - 1
    return (ms >> (e - 6)) << (e - 6)


def percentile(values, p):
    v = sorted(values)
    return bucket_low(v[max(1, math.ceil(p * len(v) / 100)) - 1])


def secs(ms):
    return "%d.%03d" % (ms // 1000, ms % 1000)


def rate(count, w):
    q = (count * 100 * 2 + w) // (2 * w)
    return "%d.%02d" % (q // 100, q % 100)


def run(*args):
    p = subprocess.run([LOGSUM, *args], capture_output=True, timeout=120)
    return p.returncode, p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace")


def parse(out):
    """({name: rest of line}, [interval rows], [destination rows])"""
    figures, rows, dests = {}, [], []
    blocks = out.split("\n\n")
    for line in blocks[0].splitlines():
        name, rest = line.split(None, 1)
        figures[name] = rest
    for block in blocks[1:]:
        lines = block.splitlines()
        if lines[0].startswith("interval"):
            figures["interval"] = lines[0].split(None, 1)[1]
            assert lines[1].split() == ["start", "delivered", "per-second", "deferred", "failed", "queue"], lines[1]
            for line in lines[2:]:
                m = re.match(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)\s+(\d+)\s+(\d+\.\d\d)\s+(\d+)\s+(\d+)\s+(\d+|-)$", line)
                assert m, line
                rows.append(m.groups())
        elif lines[0].startswith("failing"):
            figures["failing"] = lines[0].split(None, 1)[1]
            for line in lines[2:]:
                m = re.match(r"^([ ~])\s*(\d+)\s+(\d+)  (\S+)\s+ (.*)$", line)
                assert m, line
                dests.append((m.group(4), int(m.group(2)), int(m.group(3)), m.group(5), m.group(1) == "~"))
    return figures, rows, dests


def first(figures, name):
    return int(figures[name].split()[0].rstrip(","))


def delays(figures):
    m = re.search(r"p50 (\S+) p90 (\S+) p99 (\S+) max (\S+) seconds", figures["delay"])
    assert m, figures["delay"]
    return [float(x) for x in m.groups()]


def polyline_points(root, ident):
    for el in root.iter(SVGNS + "polyline"):
        if el.get("id") == ident:
            return [tuple(float(c) for c in p.split(",")) for p in el.get("points").split()]
    raise AssertionError(f"no polyline {ident}")


class HandWrittenLogTest(unittest.TestCase):
    """A log whose every figure the test knows: delays, minutes, domains."""

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="postern-logsum-")
        self.send = os.path.join(self.tmp, "send")
        self.smtpd = os.path.join(self.tmp, "smtpd")
        os.mkdir(self.send)
        os.mkdir(self.smtpd)

    def tearDown(self):
        shutil.rmtree(self.tmp, ignore_errors=True)

    def write_dir(self, d, events, cuts):
        """events (t, text) sorted, written as rotated files cut at the
        indexes in cuts, then current"""
        lines = [f"{stamp(t)} {text}\n" for t, text in sorted(events, key=lambda e: e[0])]
        times = sorted(t for t, _ in events)
        start = 0
        for c in cuts:
            # named by its rotation time, after its last line
            name = stamp(times[c - 1] + 1000) + ".s"
            with open(os.path.join(d, name), "w") as f:
                f.writelines(lines[start:c])
            start = c
        if start < len(lines):
            with open(os.path.join(d, "current"), "w") as f:
                f.writelines(lines[start:])
        return len(lines)

    def make_log(self):
        ev = []            # send's (t, line)
        self.delays = []   # ms, of deliveries with a known start
        self.results = []  # (t, kind)
        S = B * NS

        def result(t, d, kind, text):
            ev.append((t, f"delivery {d}: {kind}: {text}"))
            self.results.append((t, kind))

        ev.append((S + NS // 10, f"loaded msg {msgid(S - 50 * NS, 9)}: bytes 5 from <x@y> uid 0 rcpts 1"))
        for k in range(100):
            q = S + k * 1500 * 10 ** 6 + 250 * 10 ** 6
            mid = msgid(q, 1000 + k)
            delay = (k + 1) * 37 + 3
            ev.append((q + 10 ** 7, f"new msg {mid}: bytes 300 from <a@example.test> uid 0 rcpts 1"))
            ev.append((q + 2 * 10 ** 7, f"starting delivery {k}: msg {mid} to local u{k}@Example.TEST"))
            result(q + delay * 10 ** 6, k, "success", f"maildir ./Maildir/: delivered {k}")
            ev.append((q + delay * 10 ** 6 + 10 ** 6, f"end msg {mid}"))
            self.delays.append(delay)
        # a remote job of three: the n-th result is the n-th address's
        f1 = msgid(S + 10 * NS, 77)
        ev.append((S + 10 * NS + 10 ** 6, f"new msg {f1}: bytes 300 from <a@example.test> uid 0 rcpts 3"))
        ev.append((S + 11 * NS, f"starting delivery 150: msg {f1} to remote u1@Fail.Example u2@fail.example u3@fail.example"))
        result(S + 12 * NS, 150, "failure", "mx.fail.example[192.0.2.1] said: 550 5.1.1 no such user (in reply to RCPT TO)")
        result(S + 12 * NS, 150, "success", "mx.fail.example[192.0.2.1] accepted: 250 2.0.0 ok")
        result(S + 12 * NS, 150, "failure", "mx.fail.example[192.0.2.1] said: 550 5.1.1 u3 unknown (in reply to RCPT TO)")
        self.delays.append(2000)
        ev.append((S + 13 * NS, f"bounce msg {f1} qp 78"))
        ev.append((S + 13 * NS + NS // 2, f"bounce msg {f1}: done: queued bounce for {f1} to a@example.test"))
        ev.append((S + 13 * NS + 6 * NS // 10, f"new msg {msgid(S + 13 * NS, 79)}: bytes 900 from <> uid 0 rcpts 1"))
        # that notice fails: its double bounce (from <#@[]>) is queued,
        # fails too and is dropped: 2 notices queued, 2 from <> or <#@[]>
        n0, d1 = msgid(S + 13 * NS, 79), msgid(S + 32 * NS, 84)
        ev.append((S + 30 * NS, f"starting delivery 152: msg {n0} to remote a@bounce.example"))
        result(S + 31 * NS, 152, "failure", "mx.bounce.example[192.0.2.2] said: 550 5.1.1 no a (in reply to RCPT TO)")
        ev.append((S + 32 * NS, f"bounce msg {n0} qp 83"))
        ev.append((S + 32 * NS + NS // 2, f"bounce msg {n0}: done: queued bounce for {n0} to postmaster@postern.test"))
        ev.append((S + 32 * NS + 6 * NS // 10, f"new msg {d1}: bytes 1900 from <#@[]> uid 0 rcpts 1"))
        ev.append((S + 34 * NS, f"starting delivery 153: msg {d1} to remote pm@bounce.example"))
        result(S + 35 * NS, 153, "failure", "mx.bounce.example[192.0.2.2] said: 550 5.1.1 no pm (in reply to RCPT TO)")
        ev.append((S + 36 * NS, f"bounce msg {d1} qp 85"))
        ev.append((S + 36 * NS + NS // 2, f"bounce msg {d1}: done: dropped double bounce for {d1}"))
        # a failure, then a deferral at the same domain: the table shows the failure
        l1 = msgid(S + 39 * NS, 86)
        ev.append((S + 39 * NS + 10 ** 6, f"new msg {l1}: bytes 300 from <a@example.test> uid 0 rcpts 2"))
        ev.append((S + 40 * NS + NS // 3, f"starting delivery 154: msg {l1} to local p@late.example"))
        result(S + 41 * NS + NS // 3, 154, "failure", "5.1.1 no such mailbox: p")
        ev.append((S + 42 * NS + NS // 3, f"starting delivery 155: msg {l1} to local q@late.example"))
        result(S + 43 * NS + NS // 3, 155, "deferral", "4.2.2 over quota: q")
        # deferred twice, then past the queue lifetime, in the slow lane
        s1 = msgid(S + 20 * NS, 80)
        ev.append((S + 20 * NS + 10 ** 6, f"new msg {s1}: bytes 300 from <a@example.test> uid 0 rcpts 1"))
        for t, kind, text in ((20, "deferral", "4.2.2 over quota"), (80, "deferral", "4.2.2 still over quota"),
                              (140, "failure", "4.4.7 queue lifetime exceeded: 4.2.2 over quota")):
            slow = "(slow) " if t > 20 else ""
            ev.append((S + t * NS + NS // 2, f"starting delivery 151: msg {s1} to local {slow}x@slow.example"))
            result(S + (t + 1) * NS, 151, kind, text)
        # number 3 used again, for another message at another domain
        r1 = msgid(S + 99 * NS, 81)
        ev.append((S + 99 * NS + 10 ** 6, f"new msg {r1}: bytes 300 from <a@example.test> uid 0 rcpts 1"))
        ev.append((S + 100 * NS, f"starting delivery 3: msg {r1} to local r@reuse.example"))
        result(S + 101 * NS, 3, "failure", "5.1.1 no such mailbox: r")
        ev.append((S + 102 * NS, f"bounce msg {r1} qp 82"))
        ev.append((S + 102 * NS + NS // 2, f"bounce msg {r1}: deferral: bounce: unable to run queue-inject"))
        # send restarted: number 4's earlier start no longer counts
        ev.append((S + 153 * NS, "status: send started"))
        result(S + 154 * NS, 4, "success", "orphan")
        self.status = {0: 15, 1: 3}
        for t, n in ((30, 12), (45, 15), (70, 3)):
            ev.append((S + t * NS, f"status: local 0/10 slow 0/2 remote 0/20 slow 0/2 msgs {n} waiting 0"))
        ev.append((S + 125 * NS, "status: " + "x" * 20000))
        self.queued = 100 + 4 + 2
        # rotated files cut between a delivery's start and its result: read
        # out of order, the result would find no start
        order = [text for _, text in sorted(ev, key=lambda e: e[0])]
        cuts = [1 + next(i for i, x in enumerate(order) if x.startswith(f"starting delivery {k}:")) for k in (40, 80)]
        self.assertTrue(all(order[c].startswith(("new msg", "delivery", "end msg")) for c in cuts))
        n = self.write_dir(self.send, ev, cuts)
        # and two lines that are not stamped
        with open(os.path.join(self.send, "current"), "a") as f:
            f.write("no stamp here\n@zzzz not a stamp\n")
        with open(os.path.join(self.send, "lock"), "w") as f:
            f.write("")
        sm = [(S + NS, "start pid 10 ip 127.0.0.1"),
              (S + NS + 5, "tcpserver: status: 1/40"),
              (S + NS + 6, "tcpserver: deny 11 0:127.0.0.1:25 :10.0.0.8::4000"),
              # smtpd-listen(8)'s lines, after tcpserver's
              (S + NS + 7, "smtpd-listen: status: 3/40"),
              (S + NS + 8, "smtpd-listen: pid 10 from 127.0.0.1"),
              (S + NS + 9, "smtpd-listen: ok 10 0:127.0.0.1:25 :127.0.0.1::4001"),
              (S + NS + 10, "smtpd-listen: deny - 0:127.0.0.1:25 :10.0.0.9::4002"),
              (S + NS + 10, "smtpd-listen: busy - 0:127.0.0.1:25 :10.0.0.9::4003: 40 sessions"),
              (S + NS + 10, "smtpd-listen: limit - 0:127.0.0.1:25 :10.0.0.9::4004: 10 sessions from the address"),
              (S + NS + 11, "smtpd-listen: worker 10 gone, status 0, sessions 100"),
              (S + NS + 12, "smtpd-listen: status: 2/40"),
              (S + 2 * NS, "ok pid 10 qp 11 from <x rcpts 9@example.test> rcpts 2 bytes 500"),
              (S + 3 * NS, "ok pid 10 qp 12 from <> rcpts 1 bytes 100"),
              (S + 4 * NS, "rcpt pid 10 from <a@x.test> to <b@y.test>: 550 5.1.1 no such user"),
              (S + 5 * NS, "reject pid 10 from <a@x.test> rcpts 1 bytes 50: 552 5.3.4 too big"),
              (S + 6 * NS, "end pid 10: quit")]
        n += self.write_dir(self.smtpd, sm, [len(sm)])
        self.lines = n
        self.first = min(t for t, _ in ev + sm)
        self.last = max(t for t, _ in ev + sm)

    def expected_rows(self, w):
        lo, hi = self.first // NS // w, self.last // NS // w
        rows = []
        for i in range(lo, hi + 1):
            got = [k for t, k in self.results if t // NS // w == i]
            q = [v for m, v in self.status.items() if m * 60 // w == i - B // w] if w == 60 else None
            rows.append((utc(i * w), str(got.count("success")), rate(got.count("success"), w),
                         str(got.count("deferral")), str(got.count("failure")),
                         str(max(q)) if q else "-"))
        return rows

    def test_exact_figures(self):
        self.make_log()
        rc, out, err = run(self.send, self.smtpd)
        self.assertEqual(rc, 0, err)
        f, rows, dests = parse(out)
        self.assertEqual(f["period"], f"{utc(self.first // NS)} {utc(self.last // NS)} UTC")
        self.assertEqual(f["lines"], f"{self.lines} in 4 files, 1 cut, 2 unstamped, 0 files gone")
        self.assertEqual(f["connections"], "1, 4 denied, at most 3 at once")
        self.assertEqual(f["received"], "2 messages, 3 recipients, 1 rejected, 1 recipients refused")
        # every notice bounce(8) queued is a new msg from <> or <#@[]>
        self.assertEqual(f["queued"], f"{self.queued} messages, 2 of them bounce notices, 1 loaded at a start")
        self.assertEqual(f["restarts"], "1")
        self.assertEqual(f["deliveries"], "109 started, 0 untracked, 1 results unmatched")
        self.assertEqual(f["delivered"], "102")
        self.assertEqual(f["deferred"], "3")
        self.assertEqual(f["failed"], "7, 1 of them after the queue lifetime")
        self.assertEqual(f["bounced"], "2 notices queued, 1 dropped, 1 deferred")
        self.assertEqual(f["ended"], "100 messages")
        self.assertEqual(f["delay"], f"{len(self.delays)} deliveries: p50 {secs(percentile(self.delays, 50))} "
                                     f"p90 {secs(percentile(self.delays, 90))} p99 {secs(percentile(self.delays, 99))} "
                                     f"max {secs(max(self.delays))} seconds")
        # the figures above, worked out by hand once: the rule is the one tested
        self.assertEqual(delays(f), [1.888, 3.328, 3.648, 3.703])
        self.assertEqual(f["interval"], "60 seconds, UTC")
        self.assertEqual(rows, self.expected_rows(60))
        self.assertEqual([r[0] for r in rows], ["2026-11-23 18:50:00", "2026-11-23 18:51:00", "2026-11-23 18:52:00"])
        self.assertEqual(f["failing"], "5 destinations, 0 evicted")
        self.assertEqual(dests, [
            ("slow.example", 1, 2, "4.4.7 queue lifetime exceeded: 4.2.2 over quota", False),
            ("bounce.example", 2, 0, "mx.bounce.example[192.0.2.2] said: 550 5.1.1 no pm (in reply to RCPT TO)", False),
            ("fail.example", 2, 0, "mx.fail.example[192.0.2.1] said: 550 5.1.1 u3 unknown (in reply to RCPT TO)", False),
            ("late.example", 1, 1, "5.1.1 no such mailbox: p", False),
            ("reuse.example", 1, 0, "5.1.1 no such mailbox: r", False)])

    def test_order_of_arguments_does_not_matter(self):
        self.make_log()
        rc1, out1, _ = run(self.send, self.smtpd)
        rc2, out2, _ = run(self.smtpd, self.send)
        self.assertEqual((rc1, rc2), (0, 0))
        self.assertEqual(out1, out2)
        self.assertIn(" 1 results unmatched", out1)

    def test_current_rotated_while_listing_is_read_once(self):
        # as if cyclog renamed current between log-summary's open of it
        # and its listing: the same file under both names
        self.make_log()
        rc, out1, err = run(self.send)
        self.assertEqual(rc, 0, err)
        os.link(os.path.join(self.send, "current"), os.path.join(self.send, stamp((B + 3600) * NS) + ".s"))
        rc, out2, err = run(self.send)
        self.assertEqual(rc, 0, err)
        self.assertEqual(out1, out2)

    def test_width_option(self):
        self.make_log()
        rc, out, err = run("-w", "30", self.send, self.smtpd)
        self.assertEqual(rc, 0, err)
        f, rows, _ = parse(out)
        self.assertEqual(f["interval"], "30 seconds, UTC")
        self.assertEqual([r[:5] for r in rows], [r[:5] for r in self.expected_rows(30)])
        self.assertEqual(len(rows), 6)

    def test_long_span_doubles_the_interval(self):
        S = B * NS
        ev = [(S, "status: send started"), (S + 5 * NS, "delivery 1: success: x"),
              (S + 20000 * NS, "delivery 1: failure: y")]
        self.write_dir(self.send, ev, [])
        rc, out, err = run("-w", "1", self.send)
        self.assertEqual(rc, 0, err)
        f, rows, dests = parse(out)
        self.assertEqual(f["interval"], "2 seconds, UTC (-w 1 doubled: more than 10080 intervals)")
        self.assertEqual(len(rows), 10001)
        self.assertEqual(rows[2][1:5], ("1", "0.50", "0", "0"))
        self.assertEqual(rows[-1][1:5], ("0", "0.00", "0", "1"))
        self.assertEqual(sum(int(r[1]) for r in rows), 1)
        self.assertEqual(dests, [("(unknown)", 1, 0, "y", False)])

    def test_more_domains_than_the_table_keeps_the_hot_one(self):
        S = B * NS
        ev = []
        for i in range(1030):
            ev.append((S + i * 10 ** 6, f"starting delivery 0: msg {msgid(S, 1)} to local u@d{i}.example"))
            ev.append((S + i * 10 ** 6 + 1, f"delivery 0: failure: 5.1.1 d{i}"))
        for i in range(5):
            ev.append((S + 2 * NS + i * 10 ** 6, f"starting delivery 1: msg {msgid(S, 2)} to local u@hot.example"))
            ev.append((S + 2 * NS + i * 10 ** 6 + 1, f"delivery 1: deferral: 4.4.1 hot {i}"))
        self.write_dir(self.send, ev, [])
        rc, out, err = run(self.send)
        self.assertEqual(rc, 0, err)
        f, _, dests = parse(out)
        # 1024 places: 6 domains and then hot.example took one each
        self.assertEqual(f["failing"], "1024 destinations, 7 evicted")
        self.assertEqual(dests[0], ("hot.example", 0, 5, "4.4.1 hot 4", True))
        # each newcomer took the place of one of the least failing (d0 to
        # d6), never of another newcomer: all of them are still there
        self.assertEqual(sorted(x[0] for x in dests[1:7]), [f"d{i}.example" for i in range(1024, 1030)])
        self.assertTrue(all(x[1:3] == (1, 0) and x[4] for x in dests[1:7]), dests)
        self.assertEqual(len(dests), 10)
        self.assertEqual(first(f, "failed"), 1030)

    def test_svg(self):
        self.make_log()
        svg = os.path.join(self.tmp, "out.svg")
        with open(svg, "w") as f:
            f.write("old picture")
        rc, out, err = run("--svg", svg, self.send, self.smtpd)
        self.assertEqual(rc, 0, err)
        self.assertEqual(sorted(os.listdir(self.tmp)), ["out.svg", "send", "smtpd"])
        root = ET.parse(svg).getroot()
        self.assertEqual(root.tag, SVGNS + "svg")
        _, rows, _ = parse(out)
        d = polyline_points(root, "deliveries")
        q = polyline_points(root, "queue")
        self.assertEqual(len(d), len(rows))
        self.assertEqual(len(d), 3)
        # queue: the two minutes with a status line, then the last repeated
        self.assertEqual(len(q), 3)
        self.assertEqual(q[1][1], q[2][1])
        self.assertLess(q[0][1], q[1][1])  # 15 above 3: y grows downwards
        # x in time order, in the frame; y ordered as the counts
        xs = [p[0] for p in d]
        self.assertTrue(all(a < b for a, b in zip(xs, xs[1:])), xs)
        self.assertTrue(80 < xs[0] and xs[-1] < 930, xs)
        self.assertEqual(xs, [p[0] for p in q])
        counts = [int(r[1]) for r in rows]
        for i in range(3):
            for j in range(3):
                if counts[i] > counts[j]:
                    self.assertLess(d[i][1], d[j][1])
        texts = [t.text for t in root.iter(SVGNS + "text")]
        self.assertIn("deliveries per minute", texts)
        self.assertIn("messages in the queue", texts)
        self.assertIn("18:51:00", texts)
        self.assertTrue(any(t.startswith("time (UTC)") for t in texts), texts)

    def test_svg_write_failure_is_111(self):
        self.make_log()
        rc, _, err = run("--svg", os.path.join(self.tmp, "no", "such", "dir.svg"), self.send)
        self.assertEqual(rc, 111)
        self.assertIn("log-summary: fatal: unable to create", err)

    def test_usage_and_errors(self):
        for args in ([], ["-w"], ["-w", "0", self.send], ["-w", "x", self.send], ["-w", "604801", self.send],
                     ["--svg"], ["-x", self.send]):
            with self.subTest(args=args):
                rc, _, err = run(*args)
                self.assertEqual(rc, 100, err)
        rc, _, err = run(os.path.join(self.tmp, "missing"))
        self.assertEqual(rc, 111)
        self.assertIn("unable to open directory", err)
        rc, out, err = run(*([self.send] * 33))
        self.assertEqual(rc, 100, err)

    def test_empty_directory(self):
        rc, out, err = run("--svg", os.path.join(self.tmp, "e.svg"), self.send)
        self.assertEqual(rc, 0, err)
        f, rows, dests = parse(out)
        self.assertEqual(f["period"], "none")
        self.assertEqual(f["delay"], "0 deliveries")
        self.assertEqual(rows, [])
        ET.parse(os.path.join(self.tmp, "e.svg"))


def rotated(d):
    return sorted(n for n in os.listdir(d) if re.match(r"^@[0-9a-f]{24}\.s$", n))


def read_log(d):
    """the stamped lines of a cyclog directory, in order; cyclog may
    rotate current while this reads, so a vanished file means list again"""
    while True:
        names = rotated(d)
        out = []
        try:
            for n in names + ["current"]:
                with open(os.path.join(d, n), "rb") as f:
                    out += [line for line in f.read().decode(errors="replace").splitlines() if STAMPED.match(line)]
            return out
        except FileNotFoundError:
            if n == "current" and rotated(d) == names:
                return out  # no current (yet), nothing rotated meanwhile


def stamp_time(line):
    return int(line[1:17], 16) - 2 ** 62 - LEAP


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def message(n):
    return (f"From: sender@example.test\nTo: demo@example.test\nSubject: test {n}\n"
            f"Message-ID: <{n}@example.test>\n\nbody of {n}\n").encode()


class RealRunTest(unittest.TestCase):
    """send and smtpd of a whole instance, logging through cyclog"""

    NORMAL, VIA_SMTP, RETRY, UNKNOWN = 150, 30, 20, 30

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="postern-logsum-")
        self.procs = []
        self.inst = Instance(home=os.path.join(self.tmp, "h"), bindir=harness.BIN)
        self.inst.table("locals", "example.test\nother.test\n")
        self.inst.table("rcpthosts", "example.test\nother.test\n")
        self.demo = self.inst.mailbox_user("demo")
        self.inst.users({"demo": self.demo})
        # each demo-retry-N fails once with 111, then succeeds
        self.inst.write_as(os.path.join(self.demo[2], ".postern-retry-default"),
                           '|f="$HOME/tried-$EXT"; if [ -e "$f" ]; then exit 0; fi; '
                           'touch "$f"; echo not yet; exit 111\n', self.demo[0])
        self.logdir = os.path.join(self.tmp, "log")
        os.mkdir(self.logdir)
        self.sendlog = os.path.join(self.logdir, "send")
        self.smtpdlog = os.path.join(self.logdir, "smtpd")

    def tearDown(self):
        self.inst.cleanup()
        for p in reversed(self.procs):
            if p.poll() is None:
                try:
                    os.killpg(p.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                p.wait()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def popen(self, argv, **kw):
        p = subprocess.Popen(argv, start_new_session=True, **kw)
        self.procs.append(p)
        return p

    def start(self):
        """send | cyclog, tcpserver smtpd 2>&1 | cyclog: small files, so
        that both rotate many times; none is pruned"""
        self.sendcyc = self.popen([CYCLOG, "-s", "4096", "-n", "100000", self.sendlog], stdin=subprocess.PIPE)
        self.inst.send = self.popen([os.path.join(self.inst.bin, "send-start")], stdout=self.sendcyc.stdin,
                                    stderr=subprocess.STDOUT, env=self.inst.env, stdin=subprocess.DEVNULL)
        self.procs.remove(self.inst.send)  # the instance stops it
        self.sendcyc.stdin.close()
        self.smtpdcyc = self.popen([CYCLOG, "-s", "4096", "-n", "100000", self.smtpdlog], stdin=subprocess.PIPE)
        self.probes = 0
        for _ in range(5):
            self.port = free_port()
            self.tcp = self.popen(["tcpserver", "-v", "-R", "-H", "-l", "0", "-c", "20", "-b", "20",
                                   "127.0.0.1", str(self.port), os.path.join(self.inst.bin, "smtpd")],
                                  env=self.inst.env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                  stderr=self.smtpdcyc.stdin)
            if wait_for(lambda: self.tcp.poll() is not None or self.greets(), 10) and self.tcp.poll() is None:
                break
        self.assertIsNone(self.tcp.poll(), "tcpserver did not start")
        self.smtpdcyc.stdin.close()

    def greets(self):
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as s:
                self.probes += 1  # a connection smtpd logs
                return s.recv(3) == b"220"
        except OSError:
            return False

    def inject(self, rcpts, sender="sender@example.test"):
        def one(r):
            rc, err = self.inst.inject(message(r), envelope(sender, [r]))
            self.assertEqual(rc, 0, err)
        with ThreadPoolExecutor(8) as ex:
            list(ex.map(one, rcpts))

    def via_smtp(self, n, per_connection):
        for c in range(0, n, per_connection):
            with smtplib.SMTP("127.0.0.1", self.port, local_hostname="client.test", timeout=30) as s:
                for i in range(c, min(n, c + per_connection)):
                    s.sendmail("sender@example.test", ["demo@example.test"],
                               message(f"smtp{i}").replace(b"\n", b"\r\n"))

    def successes(self):
        return sum(1 for line in read_log(self.sendlog) if re.search(r" delivery \d+: success: ", line))

    def test_summary_of_a_real_run(self):
        self.start()
        t0 = time.time()
        self.inject([f"demo@example.test" for _ in range(self.NORMAL - self.VIA_SMTP)])
        self.via_smtp(self.VIA_SMTP, 10)
        self.inject([f"demo-retry-{i}@example.test" for i in range(self.RETRY)])
        # from the double-bounce sender, whose notices bounce(8) drops: as
        # root, a home outside build/testhome has no setuid queue-inject,
        # so bounce (send's account) could not queue one
        self.inject([f"zzghost-{i}@other.test" for i in range(self.UNKNOWN)], sender="#@[]")
        want = self.NORMAL + self.RETRY
        self.assertTrue(wait_for(lambda: sum(1 for x in read_log(self.sendlog) if ": done: " in x) >= self.UNKNOWN,
                                 120), "\n".join(read_log(self.sendlog)[-50:]))
        self.assertTrue(wait_for(lambda: self.successes() >= want, 120),
                        f"{self.successes()} of {want} delivered\n"
                        + "\n".join(x for x in read_log(self.sendlog) if " success: " not in x and " status: " not in x)[-3000:])
        self.assertTrue(wait_for(lambda: not self.inst.queue_files(), 30), self.inst.queue_files())
        self.assertEqual(self.inst.stop(), 0)
        self.assertEqual(self.sendcyc.wait(30), 0)
        os.killpg(self.tcp.pid, signal.SIGTERM)
        self.tcp.wait(10)
        self.assertEqual(self.smtpdcyc.wait(30), 0)
        wall = time.time() - t0

        sendlines, smtpdlines = read_log(self.sendlog), read_log(self.smtpdlog)
        rotated = [n for n in os.listdir(self.sendlog) if n.endswith(".s")]
        self.assertGreaterEqual(len(rotated), 5, "send's log did not rotate: the test reads no order")
        svg = os.path.join(self.tmp, "summary.svg")
        rc, out, err = run("--svg", svg, self.sendlog, self.smtpdlog)
        self.assertEqual(rc, 0, err)
        f, rows, dests = parse(out)

        self.assertEqual(first(f, "lines"), len(sendlines) + len(smtpdlines))
        self.assertEqual(f["received"].split(",")[0], f"{self.VIA_SMTP} messages")
        self.assertEqual(first(f, "connections"), self.VIA_SMTP // 10 + self.probes)
        # tcpserver -v's status lines give the busy count; nobody is denied
        self.assertRegex(f["connections"], r"^\d+, 0 denied, at most [1-9]\d* at once$")
        # a message from the double-bounce sender is a bounce notice; its
        # own failure's notice is dropped, not queued
        self.assertEqual(f["queued"], f"{self.NORMAL + self.RETRY + self.UNKNOWN} messages, "
                                      f"{self.UNKNOWN} of them bounce notices, 0 loaded at a start")
        self.assertEqual(first(f, "delivered"), want)
        self.assertEqual(first(f, "deferred"), self.RETRY)
        self.assertEqual(first(f, "failed"), self.UNKNOWN)
        self.assertEqual(f["bounced"], f"0 notices queued, {self.UNKNOWN} dropped, 0 deferred")
        self.assertEqual(first(f, "ended"), self.NORMAL + self.RETRY + self.UNKNOWN)
        self.assertIn(" 0 results unmatched", f["deliveries"])
        # every success had its start in the log: one delay each
        self.assertEqual(first(f, "delay"), want)
        p50, p90, p99, mx = delays(f)
        self.assertLessEqual(0, p50)
        self.assertLessEqual(p50, p90)
        self.assertLessEqual(p90, p99)
        self.assertLessEqual(p99, mx)
        self.assertLessEqual(mx, wall + 1)
        # a retried message waited for its retry: the slowest are those
        self.assertGreater(mx, 0.5)

        self.assertEqual(sum(int(r[1]) for r in rows), want)
        self.assertEqual(sum(int(r[3]) for r in rows), self.RETRY)
        self.assertEqual(sum(int(r[4]) for r in rows), self.UNKNOWN)
        alltimes = [stamp_time(x) for x in sendlines + smtpdlines]
        minutes = max(alltimes) // 60 - min(alltimes) // 60 + 1
        self.assertEqual(len(rows), minutes)

        self.assertEqual(dests[0][:3], ("other.test", self.UNKNOWN, 0))
        self.assertRegex(dests[0][3], r"^5\.1\.1 .*zzghost-\d+")
        self.assertEqual(dests[1][:3], ("example.test", 0, self.RETRY))
        self.assertIn("not yet", dests[1][3])
        self.assertEqual(len(dests), 2)

        root = ET.parse(svg).getroot()
        self.assertEqual(len(polyline_points(root, "deliveries")), minutes)
        # the queue from the first minute with a "msgs N" status line on
        firstq = min(stamp_time(x) for x in sendlines if " msgs " in x) // 60
        self.assertEqual(len(polyline_points(root, "queue")), minutes - (firstq - min(alltimes) // 60))
        self.assertEqual(os.listdir(self.tmp).count("summary.svg"), 1)
        self.assertEqual([n for n in os.listdir(self.tmp) if ".tmp." in n], [])

        # the run lasts seconds: in 1-second intervals, many points
        rc, out, err = run("-w", "1", "--svg", svg, self.sendlog, self.smtpdlog)
        self.assertEqual(rc, 0, err)
        f, rows, _ = parse(out)
        steps = max(alltimes) - min(alltimes) + 1
        self.assertGreater(steps, 2)
        self.assertEqual(len(rows), steps)
        self.assertEqual(sum(int(r[1]) for r in rows), want)
        points = polyline_points(ET.parse(svg).getroot(), "deliveries")
        self.assertEqual(len(points), steps)
        # the busiest interval is the highest point (y grows downwards)
        busiest = max(range(steps), key=lambda i: int(rows[i][1]))
        self.assertEqual(min(p[1] for p in points), points[busiest][1])


if __name__ == "__main__":
    unittest.main()
