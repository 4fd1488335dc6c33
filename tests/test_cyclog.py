"""cyclog: what lands in a log directory (every line once, in order,
stamped, never split, never past -s), what it keeps, and what it does
on SIGTERM, a held lock, long lines, a full disk and bad options."""
import fcntl
import os
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time
import unittest

import harness

CYCLOG = os.path.join(harness.BIN, "cyclog")
USAGE = "cyclog [-s bytes] [-n count] [-l linemax] dir"
RECORD = re.compile(rb"@[0-9a-f]{24} (.*)\n")
ROTATED = re.compile(r"^@[0-9a-f]{24}\.s$")
STAMP_LEN = 26  # "@", 24 hex digits, a space
F_SETPIPE_SZ = 1031


def rotated(d):
    return sorted(n for n in os.listdir(d) if ROTATED.match(n))


def stopped(pid):
    with open(f"/proc/{pid}/stat") as f:
        return f.read().rsplit(")", 1)[1].split()[0] == "T"


def numbered(first, last):
    return b"".join(b"%d\n" % i for i in range(first, last + 1))


class CyclogTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="postern-cyclog-")
        self.dir = os.path.join(self.tmp, "log")
        self.errpath = os.path.join(self.tmp, "stderr")
        self.procs = []

    def tearDown(self):
        for p in self.procs:
            if p.poll() is None:
                p.kill()
                p.wait()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def start(self, *args, d=None):
        """cyclog reading a pipe we hold; stderr to a file"""
        err = open(self.errpath, "ab")
        p = subprocess.Popen([CYCLOG, *args, d or self.dir], stdin=subprocess.PIPE,
                             stderr=err)
        err.close()
        self.procs.append(p)
        return p

    def wait_current(self):
        self.assertTrue(harness.wait_for(
            lambda: os.path.exists(os.path.join(self.dir, "current")), 10))

    def run_cyclog(self, data, *args, timeout=120):
        p = subprocess.run([CYCLOG, *args, self.dir], input=data, capture_output=True,
                           timeout=timeout)
        return p.returncode, p.stdout.decode(), p.stderr.decode()

    def stderr(self):
        with open(self.errpath, "rb") as f:
            return f.read().decode(errors="replace")

    def files(self, d=None):
        """the log's files, oldest first: rotated ones by name, then current"""
        d = d or self.dir
        names = rotated(d)
        if os.path.exists(os.path.join(d, "current")):
            names.append("current")
        return [os.path.join(d, n) for n in names]

    def records(self, d=None):
        """every line of the log, oldest first, as (file, stamp+space+line
        record); asserts each file holds whole records only"""
        out = []
        for path in self.files(d):
            with open(path, "rb") as f:
                data = f.read()
            if data:
                self.assertTrue(data.endswith(b"\n"), f"{path} ends inside a line")
            for rec in data.splitlines(keepends=True):
                self.assertRegex(rec, RECORD, f"{path}: not a stamped line")
                out.append((path, rec))
        return out

    def lines(self, d=None):
        return [RECORD.fullmatch(r).group(1) for _, r in self.records(d)]

    def assertLines(self, expect, d=None):
        got = self.lines(d)
        self.assertEqual(len(got), len(expect))
        for i, (g, e) in enumerate(zip(got, expect)):
            if g != e:
                self.fail(f"line {i}: {g[:80]!r} != {e[:80]!r}")

    def test_million_lines_once_in_order_unsplit_within_size(self):
        n, size = 1000000, 100000
        rc, _, err = self.run_cyclog(numbered(1, n), "-s", str(size), "-n", "1000")
        self.assertEqual(rc, 0, err)
        names = rotated(self.dir)
        self.assertGreater(len(names), 60)
        self.assertEqual(self.lines(), [b"%d" % i for i in range(1, n + 1)])
        # a rotated file is as full as it can be: the next record did not fit
        recs = self.records()
        first_of = {}
        for path, rec in recs:
            first_of.setdefault(path, rec)
        paths = self.files()
        for path, nxt in zip(paths, paths[1:]):
            st = os.stat(path).st_size
            self.assertLessEqual(st, size, path)
            self.assertGreater(st + len(first_of[nxt]), size, path)
        self.assertLessEqual(os.stat(paths[-1]).st_size, size)
        self.assertEqual(oct(os.stat(paths[0]).st_mode & 0o777), "0o644")

    def test_small_count_never_exceeded_and_newest_kept(self):
        n, keep = 1000000, 3
        p = self.start("-s", "100000", "-n", str(keep))
        most, done = [0], threading.Event()

        def sample():
            while not done.is_set():
                try:
                    most[0] = max(most[0], len(rotated(self.dir)))
                except FileNotFoundError:
                    pass
        t = threading.Thread(target=sample)
        t.start()
        try:
            for first in range(1, n + 1, 50000):
                p.stdin.write(numbered(first, first + 49999))
            p.stdin.close()
            self.assertEqual(p.wait(120), 0, self.stderr())
        finally:
            done.set()
            t.join()
        self.assertEqual(len(rotated(self.dir)), keep)
        self.assertLessEqual(most[0], keep)
        self.assertGreater(most[0], 0)
        got = self.lines()
        # the newest lines, contiguous up to the last one
        first = int(got[0])
        # at most 4 files of 100000 bytes, records of 28 bytes at least
        self.assertGreater(first, n - 4 * 100000 // (STAMP_LEN + 2))
        self.assertEqual(got, [b"%d" % i for i in range(first, n + 1)])

    def test_stamps_read_by_s6_tai64nlocal(self):
        if not shutil.which("s6-tai64nlocal"):
            self.skipTest("no s6-tai64nlocal")
        rc, _, err = self.run_cyclog(numbered(1, 3000), "-s", "4096")
        self.assertEqual(rc, 0, err)
        now = time.time()
        files = self.files()
        self.assertGreater(len(files), 2)
        names = "".join(os.path.basename(f) + "\n" for f in files[:-1]).encode()
        for data in (open(files[0], "rb").read(), open(files[-1], "rb").read(), names):
            out = subprocess.run(["s6-tai64nlocal"], input=data, capture_output=True,
                                 check=True).stdout.decode()
            for line in out.splitlines():
                m = re.fullmatch(r"(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d)\.\d{9}( \d+|\.s)", line)
                self.assertTrue(m, line)
                t = time.mktime(time.strptime(m.group(1), "%Y-%m-%d %H:%M:%S"))
                self.assertLess(abs(t - now), 60, line)

    def test_appends_to_existing_current_and_adds_final_newline(self):
        os.mkdir(self.dir)
        with open(os.path.join(self.dir, "current"), "wb") as f:
            f.write(b"@400000006b0466cc0716b4bd old\n@400000006b0466cc0716b4bd half")
        rc, _, err = self.run_cyclog(b"one\ntwo")
        self.assertEqual(rc, 0, err)
        self.assertEqual(self.lines(), [b"old", b"half", b"one", b"two"])
        self.assertEqual(rotated(self.dir), [])

    def test_sigterm_reads_what_is_in_the_pipe(self):
        """stopped, given K lines and SIGTERM, then continued: all K land
        though the writer still holds the pipe open"""
        k = 20000
        p = self.start()
        self.wait_current()
        fcntl.fcntl(p.stdin.fileno(), F_SETPIPE_SZ, 1 << 20)
        p.send_signal(signal.SIGSTOP)
        self.assertTrue(harness.wait_for(lambda: stopped(p.pid), 10))
        data = numbered(1, k) + b"last, no newline"
        self.assertLess(len(data), 1 << 20)
        p.stdin.write(data)
        p.stdin.flush()
        p.send_signal(signal.SIGTERM)
        p.send_signal(signal.SIGCONT)
        self.assertEqual(p.wait(30), 0, self.stderr())
        self.assertLines([b"%d" % i for i in range(1, k + 1)] + [b"last, no newline"])
        p.stdin.close()

    def test_sigterm_mid_stream(self):
        p = self.start("-s", "65536", "-n", "1000")
        sent = 0
        for first in range(1, 200001, 1000):
            p.stdin.write(numbered(first, first + 999))
            sent = first + 999
            if first == 100001:
                p.stdin.flush()
                p.send_signal(signal.SIGTERM)
                break
        self.assertEqual(p.wait(30), 0, self.stderr())
        self.assertLines([b"%d" % i for i in range(1, sent + 1)])
        p.stdin.close()

    def test_sigalrm_rotates_a_nonempty_current(self):
        p = self.start()
        p.stdin.write(b"one\ntwo\n")
        p.stdin.flush()
        self.wait_current()
        self.assertTrue(harness.wait_for(lambda: self.lines() == [b"one", b"two"], 10))
        p.send_signal(signal.SIGALRM)
        self.assertTrue(harness.wait_for(lambda: len(rotated(self.dir)) == 1, 10))
        self.assertEqual(os.stat(os.path.join(self.dir, "current")).st_size, 0)
        p.send_signal(signal.SIGALRM)
        p.stdin.write(b"three\n")
        p.stdin.flush()
        self.assertTrue(harness.wait_for(lambda: self.lines() == [b"one", b"two", b"three"], 10))
        self.assertEqual(len(rotated(self.dir)), 1)
        self.assertIsNone(p.poll())
        # SIGHUP ends it as SIGTERM does
        p.send_signal(signal.SIGHUP)
        self.assertEqual(p.wait(10), 0, self.stderr())
        p.stdin.close()

    def test_long_lines_cut_with_marker_and_counted(self):
        p = self.start("-l", "100")
        a, b = b"a" * 100, b"b" * 101
        p.stdin.write(a + b"\n" + b + b"\n")
        p.stdin.flush()
        time.sleep(0.2)
        # a long line arriving in pieces, its end after a pause
        p.stdin.write(b"c" * 60)
        p.stdin.flush()
        time.sleep(0.2)
        p.stdin.write(b"c" * 5000)
        p.stdin.flush()
        time.sleep(0.2)
        p.stdin.write(b"c" * 100 + b"\nafter\n" + b"d" * 300)
        p.stdin.close()
        self.assertEqual(p.wait(30), 0, self.stderr())
        self.assertLines([a, b"b" * 100 + b"...", b"c" * 100 + b"...", b"after",
                          b"d" * 100 + b"..."])
        err = self.stderr()
        self.assertRegex(err, r"cyclog: warning: cut \d+ lines? longer than 100 bytes")
        self.assertEqual(sum(int(x) for x in re.findall(r"cut (\d+) lines", err)), 3)
        self.assertIn("(3 since start)", err)

    def test_second_cyclog_refused_while_first_runs(self):
        p = self.start()
        p.stdin.write(b"first\n")
        p.stdin.flush()
        self.wait_current()
        self.assertTrue(harness.wait_for(lambda: self.lines() == [b"first"], 10))
        q = subprocess.run([CYCLOG, self.dir], input=b"second\n", capture_output=True,
                           timeout=10)
        self.assertEqual(q.returncode, 111)
        self.assertIn("lock is held", q.stderr.decode())
        self.assertIsNone(p.poll())
        p.stdin.write(b"third\n")
        p.stdin.close()
        self.assertEqual(p.wait(10), 0)
        self.assertEqual(self.lines(), [b"first", b"third"])
        # the lock goes with its holder
        rc, _, err = self.run_cyclog(b"fourth\n")
        self.assertEqual(rc, 0, err)

    def test_fsync_before_rename_and_at_exit(self):
        if not shutil.which("strace"):
            self.skipTest("no strace")
        log = os.path.join(self.tmp, "strace.log")
        p = subprocess.run(["strace", "-f", "-y", "-o", log, "-e",
                            "trace=openat,fsync,fdatasync,rename,renameat,renameat2,unlink,unlinkat",
                            CYCLOG, "-s", "4096", "-n", "1", self.dir],
                           input=numbered(1, 1000), capture_output=True, timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr)
        ev = []
        for line in open(log):
            m = re.search(r"fsync\(\d+<([^>]*)>\)\s+= 0", line)
            if m:
                ev.append("fsync " + ("dir" if m.group(1) == self.dir else os.path.basename(m.group(1))))
            if re.search(r"rename\w*\(.*\"current\".*\"@[0-9a-f]{24}\.s\"", line):
                ev.append("rename")
            if re.search(r"unlink\w*\(.*\"@[0-9a-f]{24}\.s\"", line):
                ev.append("unlink")
        self.assertEqual(ev[:3], ["fsync current", "rename", "fsync dir"])
        self.assertEqual(ev[3:7], ["fsync current", "unlink", "rename", "fsync dir"])
        self.assertEqual(ev[-2:], ["fsync current", "fsync dir"])
        self.assertEqual(len(rotated(self.dir)), 1)

    @unittest.skipUnless(os.getuid() == 0, "needs root to mount a small tmpfs")
    def test_full_disk_waits_and_loses_nothing(self):
        os.mkdir(self.dir)
        subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", self.dir], check=True)
        try:
            filler = os.path.join(self.dir, "filler")
            fd = os.open(filler, os.O_WRONLY | os.O_CREAT, 0o644)
            try:
                while os.write(fd, b"x" * 4096):
                    pass
            except OSError:
                pass
            finally:
                os.close(fd)
            k = 1000
            p = self.start()
            p.stdin.write(numbered(1, k))
            p.stdin.flush()
            self.assertTrue(harness.wait_for(lambda: "No space left" in self.stderr(), 10),
                            self.stderr())
            time.sleep(1.5)
            self.assertIsNone(p.poll())
            self.assertIn("unable to write to current", self.stderr())
            os.unlink(filler)
            p.stdin.write(b"after\n")
            p.stdin.close()
            self.assertEqual(p.wait(30), 0, self.stderr())
            self.assertLines([b"%d" % i for i in range(1, k + 1)] + [b"after"])
            self.assertIn("succeeded after", self.stderr())
        finally:
            for q in self.procs:
                if q.poll() is None:
                    q.kill()
                    q.wait()
            subprocess.run(["umount", self.dir], check=True)

    def test_help_prints_usage(self):
        p = subprocess.run([CYCLOG, "-h"], capture_output=True, timeout=10)
        self.assertEqual(p.returncode, 0)
        self.assertIn(USAGE, p.stdout.decode())

    def test_bad_options_exit_100_and_create_nothing(self):
        for args in (["-x", self.dir], [], [self.dir, self.dir], ["-s", "abc", self.dir],
                     ["-s", "4095", self.dir], ["-s", "", self.dir], ["-n", "-1", self.dir],
                     ["-n", "100001", self.dir], ["-l", "0", self.dir],
                     ["-s", "4096", "-l", "4067", self.dir], ["-l", "1048577", self.dir],
                     ["-s"]):
            with self.subTest(args=args):
                p = subprocess.run([CYCLOG, *args], input=b"x\n", capture_output=True,
                                   timeout=10)
                self.assertEqual(p.returncode, 100, p.stderr)
                self.assertTrue(p.stderr.startswith(b"cyclog: "), p.stderr)
                self.assertFalse(os.path.exists(self.dir))

    def test_limits_at_their_edges(self):
        rc, _, err = self.run_cyclog(b"x" * 4066 + b"\n" + b"y" * 4067 + b"\n",
                                     "-s", "4096", "-l", "4066", "-n", "5")
        self.assertEqual(rc, 0, err)
        self.assertLines([b"x" * 4066, b"y" * 4066 + b"..."])
        self.assertEqual(len(rotated(self.dir)), 1)
        # 26 + 4066 + 1, then 26 + 4066 + 3 + 1: both no more than -s
        self.assertEqual([os.stat(f).st_size for f in self.files()], [4093, 4096])


if __name__ == "__main__":
    unittest.main()
