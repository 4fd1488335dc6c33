"""lspawn's delivery workers (local -w) on a whole test instance run by
send: one long-lived worker per recipient account, as that account and
never root, bounded in idle time and deliveries, replaced when killed
without losing mail; .postern programs and forwards still work in it.
Maildir names carry the delivering pid (P<pid>), which tells which
process delivered each message."""
import os
import re
import signal
import time
import unittest
from concurrent.futures import ThreadPoolExecutor

import shutil
import subprocess
import tempfile

import harness
from harness import Home, Instance, envelope, maildir_count, wait_for
from test_lspawn import BODY, LSPAWN, MSGID, Lspawn, body_path

ROOT = os.getuid() == 0
SECOND = "postern-test2"
# ldeliver.h: the most deliveries a worker makes before answering them
BATCH_MAX = 32


def message(n, subject=None):
    subject = subject or f"test {n}"
    return (f"From: sender@example.test\nTo: demo@example.test\nSubject: {subject}\n"
            f"Message-ID: <{n}@example.test>\n\nbody of {n}\n" + "line\n" * 20).encode()


def pids_of(maildir):
    """{pid: number of files} from the names in new/ and cur/"""
    out = {}
    for sub in ("new", "cur"):
        d = os.path.join(maildir, sub)
        for n in os.listdir(d) if os.path.isdir(d) else ():
            m = re.search(r"\.M\d+P(\d+)[Q.]", n)
            assert m, n
            out[int(m.group(1))] = out.get(int(m.group(1)), 0) + 1
    return out


def ids(pid):
    """(real, effective, saved, fs) uids of a running process"""
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("Uid:"):
            return tuple(int(x) for x in line.split()[1:])
    raise AssertionError("no Uid line")


def cmdline(pid):
    try:
        return open(f"/proc/{pid}/cmdline", "rb").read().split(b"\0")[:-1]
    except FileNotFoundError:
        return None


class WorkerTest(unittest.TestCase):
    def setUp(self):
        self.inst = Instance()
        self.inst.table("locals", "example.test\n")
        self.demo = self.inst.mailbox_user("demo")
        self.users = {"demo": self.demo}
        self.inst.users(self.users)
        self.maildir = os.path.join(self.demo[2], "Maildir")

    def tearDown(self):
        self.inst.cleanup()

    def workers(self):
        """pids of the running delivery workers of this instance"""
        local = os.path.realpath(os.path.join(self.inst.bin, "local"))
        out = []
        for p in os.listdir("/proc"):
            if not p.isdigit():
                continue
            try:
                if os.readlink(f"/proc/{p}/exe") == local and cmdline(int(p)) == [b"local", b"-w"]:
                    out.append(int(p))
            except OSError:
                pass
        return out

    def inject_many(self, msgs, rcpt="demo@example.test"):
        def one(m):
            rc, err = self.inst.inject(m, envelope("sender@example.test", [rcpt]))
            self.assertEqual(rc, 0, err)
        with ThreadPoolExecutor(8) as ex:
            list(ex.map(one, msgs))

    def delivered(self, maildir=None):
        import mailbox
        md = mailbox.Maildir(maildir or self.maildir, create=False)
        return [m["Subject"] for m in md]

    def test_20_messages_one_worker(self):
        self.inst.control("localworkeridle", "60\n")
        self.inject_many([message(i) for i in range(20)])
        self.inst.start()
        self.assertTrue(wait_for(lambda: maildir_count(self.maildir) >= 20, 60), self.inst.log()[-2000:])
        pids = pids_of(self.maildir)
        self.assertEqual(sorted(self.delivered()), sorted(f"test {i}" for i in range(20)))
        # one worker took them all: no process per message
        self.assertEqual(len(pids), 1, pids)
        pid = next(iter(pids))
        self.assertEqual(cmdline(pid), [b"local", b"-w"])
        self.assertEqual(self.workers(), [pid])
        # nothing of send's: /dev/null on 1 and 2 (not the log); the
        # socket moved off 0, and no message kept open between deliveries
        fds = {int(f): os.readlink(f"/proc/{pid}/fd/{f}") for f in os.listdir(f"/proc/{pid}/fd")}
        self.assertEqual([fds[0], fds[1], fds[2]], ["/dev/null"] * 3, fds)
        self.assertEqual(sorted(v for k, v in fds.items() if k > 2 and v != "/dev/null"
                                and not v.startswith("socket:")), [], fds)

    def test_worker_sweeps_a_maildir_tmp_once(self):
        """a stale tmp/ file (a killed local's) goes at the worker's first
        delivery there; one left later waits for the next worker"""
        self.inst.control("localworkeridle", "60\n")
        tmp = os.path.join(self.maildir, "tmp")
        for d in ("tmp", "new", "cur"):
            os.makedirs(os.path.join(self.maildir, d), exist_ok=True)
        os.chown(self.maildir, self.demo[0], self.demo[1])
        for d in ("tmp", "new", "cur"):
            os.chown(os.path.join(self.maildir, d), self.demo[0], self.demo[1])

        def stale(name):
            p = os.path.join(tmp, name)
            with open(p, "w") as f:
                f.write("partial")
            t = time.time() - 37 * 3600
            os.utime(p, (t, t))
        stale("1.M1P1.killed")
        self.inject_many([message(0)])
        self.inst.start()
        self.assertTrue(wait_for(lambda: maildir_count(self.maildir) >= 1, 60), self.inst.log()[-2000:])
        self.assertEqual(os.listdir(tmp), [])
        pid = self.workers()
        stale("2.M2P2.killed")
        self.inject_many([message(1)])
        self.assertTrue(wait_for(lambda: maildir_count(self.maildir) >= 2, 60), self.inst.log()[-2000:])
        self.assertEqual(self.workers(), pid)
        self.assertEqual(os.listdir(tmp), ["2.M2P2.killed"])

    @unittest.skipUnless(ROOT, "accounts need root")
    def test_two_accounts_two_workers_as_their_uids(self):
        self.inst.control("localworkeridle", "60\n")
        home2 = self.inst.path("mail", "second")
        os.makedirs(home2)
        pw = harness.ensure_account(SECOND, home2)
        os.chown(home2, pw.pw_uid, pw.pw_gid)
        self.inst.table("users", f"demo {harness.TEST_ACCOUNT}:{self.demo[0]}:{self.demo[1]}:{self.demo[2]}\n"
                        f"second {SECOND}:{pw.pw_uid}:{pw.pw_gid}:{home2}\n")
        self.inst.start()
        self.inject_many([message(i) for i in range(5)])
        self.inject_many([message(i) for i in range(5)], rcpt="second@example.test")
        md2 = os.path.join(home2, "Maildir")
        self.assertTrue(wait_for(lambda: maildir_count(self.maildir) >= 5 and maildir_count(md2) >= 5, 60),
                        self.inst.log()[-2000:])
        p1, p2 = pids_of(self.maildir), pids_of(md2)
        self.assertEqual(len(p1), 1, p1)
        self.assertEqual(len(p2), 1, p2)
        w1, w2 = next(iter(p1)), next(iter(p2))
        self.assertNotEqual(w1, w2)
        self.assertEqual(sorted(self.workers()), sorted([w1, w2]))
        # each runs as its account, every uid of it, none root
        self.assertEqual(ids(w1), (self.demo[0],) * 4)
        self.assertEqual(ids(w2), (pw.pw_uid,) * 4)

    def test_virtual_users_of_one_account_share_a_worker_each_in_its_home(self):
        self.inst.control("localworkeridle", "60\n")
        homes = {}
        for name in ("v1", "v2", "v3"):
            homes[name] = self.inst.mailbox_user(name)
            self.users[name] = homes[name]
        self.inst.users(self.users)
        # v2 has its own instructions, read from its home
        self.inst.write_as(os.path.join(homes["v2"][2], ".postern"), "./Other/\n", homes["v2"][0])
        self.inst.start()
        for name in homes:
            self.inject_many([message(i, f"{name} {i}") for i in range(3)], rcpt=f"{name}@example.test")
        mds = {n: os.path.join(h[2], "Other" if n == "v2" else "Maildir") for n, h in homes.items()}
        self.assertTrue(wait_for(lambda: all(maildir_count(m) >= 3 for m in mds.values()), 60),
                        self.inst.log()[-2000:])
        pids = set()
        for name, md in mds.items():
            self.assertEqual(sorted(self.delivered(md)), [f"{name} {i}" for i in range(3)])
            pids |= set(pids_of(md))
        self.assertFalse(os.path.exists(os.path.join(homes["v2"][2], "Maildir")))
        # one account, so one worker for all three homes
        self.assertEqual(len(pids), 1, pids)

    @unittest.skipUnless(ROOT, "accounts need root")
    def test_worker_count_bounded(self):
        self.inst.control("localworkers", "1\n")
        self.inst.control("localworkeridle", "60\n")
        home2 = self.inst.path("mail", "second")
        os.makedirs(home2)
        pw = harness.ensure_account(SECOND, home2)
        os.chown(home2, pw.pw_uid, pw.pw_gid)
        self.inst.table("users", f"demo {harness.TEST_ACCOUNT}:{self.demo[0]}:{self.demo[1]}:{self.demo[2]}\n"
                        f"second {SECOND}:{pw.pw_uid}:{pw.pw_gid}:{home2}\n")
        self.inst.start()
        self.inject_many([message(i) for i in range(3)])
        self.assertTrue(wait_for(lambda: maildir_count(self.maildir) >= 3, 30), self.inst.log()[-2000:])
        first = self.workers()
        self.assertEqual(len(first), 1)
        md2 = os.path.join(home2, "Maildir")
        for i in range(4):
            self.inject_many([message(i, f"second {i}")], rcpt="second@example.test")
            self.assertTrue(wait_for(lambda: maildir_count(md2) >= i + 1, 30), self.inst.log()[-2000:])
        # the idle worker of demo made room; the one slot now serves second
        self.assertTrue(wait_for(lambda: len(self.workers()) == 1 and self.workers() != first, 30),
                        (first, self.workers()))
        self.assertEqual(ids(self.workers()[0]), (pw.pw_uid,) * 4)
        self.assertEqual(len(self.delivered(md2)), 4)

    def test_idle_worker_exits(self):
        self.inst.control("localworkeridle", "1\n")
        self.inst.start()
        self.inject_many([message(1)])
        self.assertTrue(wait_for(lambda: maildir_count(self.maildir) >= 1, 30), self.inst.log()[-2000:])
        pid = next(iter(pids_of(self.maildir)))
        # gone, reaped (no zombie left), well before send stops
        self.assertTrue(wait_for(lambda: cmdline(pid) is None, 20), cmdline(pid))
        self.assertIsNone(self.inst.send.poll())
        # and a new one comes for the next message
        self.inject_many([message(2)])
        self.assertTrue(wait_for(lambda: maildir_count(self.maildir) >= 2, 30), self.inst.log()[-2000:])
        self.assertEqual(len(pids_of(self.maildir)), 2)

    def test_deliveries_per_worker_bounded(self):
        self.inst.control("localworkeruses", "5\n")
        self.inject_many([message(i) for i in range(23)])
        self.inst.start()
        self.assertTrue(wait_for(lambda: maildir_count(self.maildir) >= 23, 60), self.inst.log()[-2000:])
        pids = pids_of(self.maildir)
        self.assertLessEqual(max(pids.values()), 5, pids)
        self.assertGreaterEqual(len(pids), 5, pids)
        self.assertEqual(len(self.delivered()), 23)

    def test_kill9_of_a_worker_under_load_loses_nothing(self):
        n = 600
        hit = re.compile(r"deferral: 4\.3\.0 delivery worker killed by signal 9")
        self.inject_many([message(i) for i in range(n)])
        self.inst.start()
        wait_for(lambda: maildir_count(self.maildir) >= n // 6, 120)
        # kill -9 whatever workers run until one dies holding deliveries
        # (one that was just let go holds none), a few times over
        kills = 0
        while maildir_count(self.maildir) < n * 0.8 and len(hit.findall(self.inst.log())) < 3:
            for pid in self.workers():
                try:
                    os.kill(pid, signal.SIGKILL)
                    kills += 1
                except ProcessLookupError:
                    pass  # it ended on its own meanwhile
            time.sleep(0.3)
        log = self.inst.log()
        self.assertTrue(hit.search(log), log[-2000:])
        self.assertIn("lspawn: warning: delivery worker for uid ", log)
        self.assertTrue(wait_for(lambda: len(set(self.delivered())) >= n, 300), self.inst.log()[-2000:])
        subjects = self.delivered()
        self.assertEqual(len(set(subjects)), n)
        # a duplicate only for a delivery the worker made and had not
        # answered: at most one group per killed worker
        self.assertLessEqual(len(subjects) - n, kills * BATCH_MAX)
        self.assertTrue(wait_for(lambda: not self.inst.queue_files(), 30), self.inst.queue_files()[:10])

    def test_program_and_forward_in_a_worker(self):
        self.inst.control("localworkeridle", "60\n")
        fwd = self.inst.mailbox_user("fwd")
        self.users["fwd"] = fwd
        self.inst.users(self.users)
        self.inst.write_as(os.path.join(self.demo[2], ".postern"),
                           "|cat > prog.out\n./Maildir/\n&fwd@example.test\n", self.demo[0])
        self.inst.start()
        self.inject_many([message(7)])
        fmd = os.path.join(fwd[2], "Maildir")
        self.assertTrue(wait_for(lambda: maildir_count(self.maildir) >= 1 and maildir_count(fmd) >= 1, 30),
                        self.inst.log()[-2000:])
        out = open(os.path.join(self.demo[2], "prog.out")).read()
        self.assertIn("Delivered-To: demo@example.test\n", out)
        self.assertIn("Subject: test 7\n", out)
        self.assertEqual(self.delivered(fmd), ["test 7"])
        # demo's copy was made by a worker
        pid = next(iter(pids_of(self.maildir)))
        self.assertEqual(cmdline(pid), [b"local", b"-w"])
        self.assertTrue(wait_for(lambda: re.search(r"success: did 1\+1\+1", self.inst.log()), 10),
                        self.inst.log()[-2000:])

    def test_no_workers_is_one_shot(self):
        self.inst.control("localworkers", "0\n")
        self.inject_many([message(i) for i in range(5)])
        self.inst.start()
        self.assertTrue(wait_for(lambda: maildir_count(self.maildir) >= 5, 60), self.inst.log()[-2000:])
        # a local per message
        self.assertEqual(len(pids_of(self.maildir)), 5)
        self.assertEqual(self.workers(), [])


class GroupCommitTest(unittest.TestCase):
    """lspawn run alone under strace -f, with the real local: what the
    worker does between taking deliveries and answering them"""

    def setUp(self):
        if not shutil.which("strace"):
            self.skipTest("no strace")
        self.home = Home()
        self.tmp = tempfile.mkdtemp(prefix="postern-group-")
        os.chmod(self.tmp, 0o755)
        self.user = os.path.join(self.tmp, "u")
        os.mkdir(self.user, 0o755)
        ids = (4242, 4243) if ROOT else (os.getuid(), os.getgid())
        if ROOT:
            os.chown(self.user, *ids)
        with open(self.home.path("control", "users"), "w") as f:
            f.write(f"alice alice:{ids[0]}:{ids[1]}:{self.user}\n")
        subprocess.run([os.path.join(harness.BIN, "table-compile"), self.home.path("control", "users")],
                       check=True)
        with open(body_path(self.home, MSGID), "wb") as f:
            f.write(BODY)
        shutil.copy(os.path.join(harness.BIN, "local"), self.home.path("bin", "local"))
        self.trace = os.path.join(self.tmp, "trace")
        self.env = {"POSTERN_HOME": self.home.dir, "PATH": "/usr/bin:/bin"}

    def tearDown(self):
        self.home.cleanup()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def test_new_fsynced_once_per_group_before_any_answer(self):
        n = 20
        ls = Lspawn.__new__(Lspawn)
        ls.buf = b""
        ls.p = subprocess.Popen(["strace", "-f", "-qq", "-o", self.trace,
                                 "-e", "trace=fsync,link,linkat,sendto,sendmsg,recvmsg", LSPAWN],
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, env=self.env)
        ls.job("1", [(f"alice@example.test", "alice")] * n)
        jobid, results = ls.result(60)
        self.assertEqual([r[0] for r in results], ["K"] * n, results)
        ls.p.stdin.close()
        ls.p.wait(60)
        md = os.path.join(self.user, "Maildir", "new")
        self.assertEqual(len(os.listdir(md)), n)
        # the worker: the process that answered (sendto on its socket)
        calls = {}
        for line in open(self.trace):
            pid, rest = line.split(None, 1)
            name = rest.split("(", 1)[0]
            calls.setdefault(int(pid), []).append(name)
        workers = [p for p, c in calls.items() if "sendto" in c and "link" in c + ["linkat"]]
        self.assertEqual(len(workers), 1, calls.keys())
        seq = [c.replace("linkat", "link") for c in calls[workers[0]]]
        self.assertEqual(seq.count("link"), n)
        self.assertEqual(seq.count("sendto"), n)
        # every answer comes after an fsync that follows the last link
        last_link = last_fsync = -1
        for i, c in enumerate(seq):
            if c == "link":
                last_link = i
            elif c == "fsync":
                last_fsync = i
            elif c == "sendto":
                self.assertGreater(last_fsync, last_link, seq)
        # a file fsync per message, and fewer new/ fsyncs than messages
        self.assertLess(seq.count("fsync"), 2 * n, seq)
        self.assertGreaterEqual(seq.count("fsync"), n + 1, seq)


if __name__ == "__main__":
    unittest.main()
