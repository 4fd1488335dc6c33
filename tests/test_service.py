"""The s6 service tree on a whole instance: build/testhome laid out by
src/install/instance.py exactly as `make run` lays out ./run (services,
control, demo recipient), run by build/test/bin programs under an
s6-svscan of its own, smtpd on 127.0.0.1 at a free port. What SMTP
accepts lands in the demo Maildir; kill -9 of send, of smtpd-listen and
of a cyclog are repaired by s6 without losing mail; s6-svc -d, -u and -t
lose and repeat nothing; as root every daemon runs under its account and
the queue has the owners and modes of postern-queue(5)."""
import grp
import itertools
import mailbox
import os
import pwd
import re
import select
import shutil
import signal
import smtplib
import socket
import stat
import subprocess
import sys
import tempfile
import threading
import time
import unittest

import harness
from harness import wait_for

INSTANCE = os.path.join(harness.TOP, "src", "install", "instance.py")
HOME = harness.TESTHOME
SCAN = os.path.join(HOME, "service")
ROOT = os.getuid() == 0
TAG = re.compile(r"\[(\w+) (\d+)\]")
SERIAL = itertools.count()


instance = harness.instance_py


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def svstat(svc):
    p = subprocess.run(["s6-svstat", "-o", "up,pid,ready,exitcode", os.path.join(SCAN, svc)],
                       capture_output=True, text=True)
    if p.returncode:
        return None
    up, pid, ready, code = p.stdout.split()
    return {"up": up == "true", "pid": int(pid), "ready": ready == "true", "exitcode": int(code)}


def svc(*args):
    subprocess.run(["s6-svc", *args], check=True)


def home_processes():
    """every process whose program, directory or arguments are in the
    test home: what a stop must leave none of"""
    found = []
    for d in os.listdir("/proc"):
        if not d.isdigit() or int(d) == os.getpid():
            continue
        try:
            with open(f"/proc/{d}/cmdline", "rb") as f:
                cmd = f.read().replace(b"\0", b" ").decode(errors="replace")
            where = [os.readlink(f"/proc/{d}/exe"), os.readlink(f"/proc/{d}/cwd"), cmd]
        except OSError:
            continue
        if any(HOME + "/" in w or w == HOME for w in where):
            found.append(f"{d}: {cmd}")
    return found


def proc_ids(pid):
    """(real, effective uid), (real, effective gid), supplementary gids"""
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            k, _, v = line.partition(":")
            out[k] = v.split()
    return ((int(out["Uid"][0]), int(out["Uid"][1])), (int(out["Gid"][0]), int(out["Gid"][1])),
            {int(g) for g in out.get("Groups", [])})


def parents():
    """{pid: parent pid} of every process"""
    out = {}
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                with open(f"/proc/{d}/stat") as f:
                    out[int(d)] = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                pass
    return out


def children(pid):
    return [p for p, pp in parents().items() if pp == pid]


def svscan_tree():
    """the s6-svscan of the test home and every process under it"""
    pp = parents()
    tree = set()
    for p in pp:
        try:
            if open(f"/proc/{p}/comm").read().strip() == "s6-svscan" \
                    and os.readlink(f"/proc/{p}/cwd") == SCAN:
                tree.add(p)
        except OSError:
            pass
    grown = True
    while grown:
        more = {p for p, q in pp.items() if q in tree} - tree
        tree |= more
        grown = bool(more)
    return tree


def queue_files():
    """every message file under the test home's queue"""
    found = []
    for root, _, names in os.walk(os.path.join(HOME, "queue")):
        for n in names:
            p = os.path.join(root, n)
            if os.path.isfile(p) and n != "lock":
                found.append(p)
    return found


class Running(unittest.TestCase):
    """an instance under s6-svscan for the whole class"""

    @classmethod
    def setUpClass(cls):
        cls.port, = harness.fresh_instance()
        instance("start", HOME)
        cls.maildir = os.path.join(HOME, "mail", "demo", "Maildir")

    @classmethod
    def tearDownClass(cls):
        instance("stop", HOME, check=False)

    def setUp(self):
        # a test that failed half-way may have left send down
        if svstat("send") and not svstat("send")["up"]:
            svc("-u", os.path.join(SCAN, "send"))
        self.assertTrue(wait_for(lambda: (svstat("send") or {}).get("ready"), 30), svstat("send"))
        self.tag = f"t{os.getpid()}x{next(SERIAL)}"

    def log(self, svc_name="send"):
        p = os.path.join(HOME, "log", svc_name, "current")
        with open(p, "rb") as f:
            return f.read().decode(errors="replace")

    def smtp(self, source="127.0.0.1"):
        s = smtplib.SMTP("127.0.0.1", self.port, timeout=30, source_address=(source, 0))
        s.ehlo("client.example.test")
        return s

    def message(self, n):
        return (f"From: sender@example.test\r\nTo: demo@example.test\r\n"
                f"Subject: [{self.tag} {n}]\r\nMessage-ID: <{self.tag}.{n}@example.test>\r\n\r\n"
                f"body of {self.tag} {n}\r\n").encode()

    def send_mail(self, numbers, conn=None):
        """each message through SMTP (one session unless conn is given);
        every one must be accepted"""
        s = conn or self.smtp()
        try:
            for n in numbers:
                refused = s.sendmail("sender@example.test", ["demo@example.test"], self.message(n))
                self.assertEqual(refused, {})
        finally:
            if conn is None:
                s.quit()

    def delivered(self):
        """{n: copies} of this test's messages in the demo Maildir"""
        out = {}
        try:
            md = mailbox.Maildir(self.maildir, factory=None, create=False)
            msgs = list(md)
        except (FileNotFoundError, mailbox.Error):
            return out
        for m in msgs:
            t = TAG.search(m["Subject"] or "")
            if t and t.group(1) == self.tag:
                out[int(t.group(2))] = out.get(int(t.group(2)), 0) + 1
        return out

    def assertAllDelivered(self, numbers, timeout=120, once=False):
        want = set(numbers)
        ok = wait_for(lambda: want <= set(self.delivered()), timeout, 0.2)
        got = self.delivered()
        self.assertTrue(ok, f"missing {sorted(want - set(got))}\n" + self.log()[-3000:])
        if once:
            self.assertEqual({n: c for n, c in got.items() if c != 1}, {}, "delivered more than once")

    def recipients_compile(self):
        """control/recipients.cdb again, after a .postern- file changed"""
        p = subprocess.run([os.path.join(HOME, "bin", "recipients-compile")], capture_output=True,
                           text=True, env=dict(os.environ, POSTERN_HOME=HOME))
        self.assertEqual(p.returncode, 0, p.stderr)

    def new_pid(self, name, old):
        st = wait_for(lambda: (svstat(name) or {}).get("up") and svstat(name)["pid"] != old
                      and svstat(name), 30)
        self.assertTrue(st, f"{name} was not restarted: {svstat(name)}")
        return st["pid"]


class ServiceTest(Running):
    def test_smtp_mail_lands_in_the_demo_maildir(self):
        self.send_mail([1])
        self.assertAllDelivered([1], 30, once=True)
        md = mailbox.Maildir(self.maildir, create=False)
        key = [k for k, m in md.items() if self.tag in m["Subject"]][0]
        m = md[key]
        path = os.path.join(self.maildir, "new", key)
        self.assertTrue(os.path.isfile(path), path)
        self.assertEqual(m["Return-Path"], "<sender@example.test>")
        self.assertEqual(m["Delivered-To"], "demo@example.test")
        self.assertEqual(m.get_payload(), f"body of {self.tag} 1\n")
        if ROOT:
            self.assertEqual(pwd.getpwuid(os.stat(path).st_uid).pw_name, "postern-demo")
        # send's log shows its path, and queue-inject ran as smtpd's account
        qp = re.search(r"\(postern (\d+) invoked by uid (\d+)\)", m["Received"] or str(m)).groups()
        if ROOT:
            self.assertEqual(int(qp[1]), pwd.getpwnam(harness.users()["smtpd"]).pw_uid)
        log = self.log()
        qid = re.search(r"new msg ([0-9a-f]{16}\.%s): " % qp[0], log)
        self.assertTrue(qid, log[-2000:])
        self.assertTrue(wait_for(lambda: f"end msg {qid.group(1)}" in self.log(), 10))
        self.assertRegex(self.log(), r"starting delivery \d+: msg %s to local demo@example.test"
                         % re.escape(qid.group(1)))
        # log lines carry TAI64N stamps that s6-tai64nlocal reads
        local = subprocess.run(["s6-tai64nlocal"], input=self.log(), capture_output=True,
                               text=True).stdout
        self.assertRegex(local, r"(?m)^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+ new msg ")
        self.assertRegex(self.log("smtpd"), r"smtpd-listen: (ok|end) \d+ ")

    def test_mail_to_root_mailer_daemon_and_abuse_reaches_demo(self):
        """the quick start aliases them (and postmaster) to demo: nothing
        waits a week as 'refusing to deliver as root'"""
        s = self.smtp("127.0.0.2")
        try:
            for n, name in enumerate(("root", "MAILER-DAEMON", "abuse", "postmaster")):
                self.assertEqual(s.sendmail("sender@example.test", [f"{name}@example.test"],
                                            self.message(n)), {})
        finally:
            s.quit()
        self.assertAllDelivered(range(4), 60, once=True)
        self.assertNotIn("refusing to deliver as root", self.log())

    def test_extensions_checked_at_rcpt_and_plus_delivers(self):
        """demo-typo is refused at RCPT (no bounce to a forged sender);
        demo+tag reaches demo once demo has a file for it and the table is
        compiled again"""
        s = self.smtp("127.0.0.2")
        try:
            s.mail("stranger@client.test")
            self.assertEqual(s.rcpt("demo-typo@example.test"), (550, b"5.1.1 no such user here"))
            self.assertEqual(s.rcpt("demo+tag@example.test")[0], 550)
            self.assertEqual(s.rcpt("demo@example.test")[0], 250)
        finally:
            s.quit()
        demo = os.path.join(HOME, "mail", "demo")
        tagfile = os.path.join(demo, ".postern-tag")
        with open(tagfile, "w") as f:
            f.write("./Maildir/\n")
        st = os.stat(demo)
        os.chown(tagfile, st.st_uid, st.st_gid)
        self.addCleanup(os.unlink, tagfile)
        self.recipients_compile()
        s = self.smtp("127.0.0.2")
        try:
            self.assertEqual(s.sendmail("sender@example.test", ["demo+tag@example.test"],
                                        self.message(1)), {})
        finally:
            s.quit()
        self.assertAllDelivered([1], 60, once=True)
        md = mailbox.Maildir(self.maildir, create=False)
        m = [m for m in md if self.tag in (m["Subject"] or "")][0]
        self.assertEqual(m["Delivered-To"], "demo+tag@example.test")

    def test_five_aliases_forwarding_to_each_other_bounce_once(self):
        """one message to a ring of five aliases, each forwarding to the
        four others (issue 15: 258 queued messages, 64 double bounces):
        the alias expansion sees the loop at once, so the message and
        its one bounce are all that is ever queued"""
        names = [f"loop{i}" for i in range(5)]
        aliases = self.read_control("aliases")
        self.addCleanup(self.set_aliases, aliases)
        err = self.set_aliases(aliases + "".join(
            f"{n} " + ", ".join(f"{m}@example.test" for m in names if m != n) + "\n" for n in names))
        self.assertEqual(err.count(" loops: refused"), 5, err)
        start = len(self.log())
        # smtpd refuses it (recipients-compile expands aliases as lspawn
        # does); what comes another way bounces once
        s = self.smtp("127.0.0.2")
        try:
            s.mail("demo@example.test")
            self.assertEqual(s.rcpt("loop0@example.test"), (550, b"5.1.1 no such user here"))
        finally:
            s.quit()
        p = subprocess.run([os.path.join(HOME, "bin", "inject"), "-f", "demo@example.test",
                            "loop0@example.test"], input=self.message(1), capture_output=True,
                           env=dict(os.environ, POSTERN_HOME=HOME))
        self.assertEqual(p.returncode, 0, p.stderr)

        def bounces():
            try:
                msgs = list(mailbox.Maildir(self.maildir, factory=None, create=False))
            except (FileNotFoundError, mailbox.Error):
                return []
            return [m for m in msgs if "MAILER-DAEMON" in (m["From"] or "") and self.tag in m.as_string()]
        self.assertTrue(wait_for(lambda: bounces(), 60), self.log()[start:][-3000:])
        # the rest of any storm would come within seconds
        time.sleep(5)
        log = self.log()[start:]
        self.assertEqual(len(bounces()), 1, log[-3000:])
        self.assertEqual(len(re.findall(r"new msg ", log)), 2, log[-3000:])
        self.assertNotIn("triple", log)
        self.assertRegex(log, r"5\.4\.6 alias loop")

    def read_control(self, name):
        with open(os.path.join(HOME, "control", name)) as f:
            return f.read()

    def set_aliases(self, text):
        """control/aliases, compiled, and the recipients table again"""
        path = os.path.join(HOME, "control", "aliases")
        with open(path, "w") as f:
            f.write(text)
        env = dict(os.environ, POSTERN_HOME=HOME)
        err = ""
        for argv in ([os.path.join(HOME, "bin", "table-compile"), path],
                     [os.path.join(HOME, "bin", "recipients-compile")]):
            p = subprocess.run(argv, env=env, capture_output=True, text=True)
            self.assertEqual(p.returncode, 0, p.stderr)
            err += p.stderr
        return err

    def test_smtpd_queues_through_the_writer(self):
        s = self.smtp()
        try:
            s.mail("sender@example.test")
            s.rcpt("demo@example.test")
            code, text = s.data(self.message(1))
        finally:
            s.quit()
        self.assertEqual(code, 250, text)
        m = re.fullmatch(rb"2\.0\.0 ok qp ([0-9a-f]{16}\.(\d+))", text)
        self.assertTrue(m, text)
        self.assertEqual(int(m.group(2)), svstat("queue-writer")["pid"])
        self.assertTrue(wait_for(lambda: "new msg %s: " % m.group(1).decode() in self.log(), 30),
                        self.log()[-2000:])
        self.assertAllDelivered([1], 30, once=True)
        # its stats line, on SIGUSR1 (s6-svc -1), in its log
        svc("-1", os.path.join(SCAN, "queue-writer"))
        self.assertTrue(wait_for(lambda: re.search(r"stats rounds [1-9]\d* msgs [1-9]",
                                                   self.log("queue-writer")), 10))

    def test_kill9_queue_writer_no_acknowledged_mail_lost(self):
        n = 200
        accepted, refused = [], []

        def client():
            s = self.smtp()
            try:
                for i in range(n):
                    try:
                        s.mail("sender@example.test")
                        s.rcpt("demo@example.test")
                        code, _ = s.data(self.message(i))
                    except smtplib.SMTPServerDisconnected:
                        s = self.smtp()
                        code = 0
                    (accepted if code == 250 else refused).append(i)
            finally:
                s.quit()
        t = threading.Thread(target=client)
        t.start()
        try:
            wait_for(lambda: len(accepted) >= 20, 60, 0.01)
            old = svstat("queue-writer")["pid"]
            os.kill(old, signal.SIGKILL)
            at_kill = len(accepted)
            self.new_pid("queue-writer", old)
        finally:
            t.join(300)
        self.assertLess(at_kill, n, "the kill came too late to test anything")
        # every 250 is delivered; a message cut by the kill got a 4xx
        self.assertAllDelivered(accepted, 180)
        self.assertEqual(len(accepted) + len(refused), n)

    def test_relay_only_from_127_0_0_1(self):
        s = self.smtp("127.0.0.1")
        try:
            s.mail("sender@example.test")
            code, text = s.rcpt("someone@elsewhere.example")
            self.assertEqual(code, 250, text)
            s.rset()
        finally:
            s.quit()
        s = self.smtp("127.0.0.2")
        try:
            s.mail("sender@example.test")
            code, text = s.rcpt("someone@elsewhere.example")
            self.assertGreaterEqual(code, 500, text)
            code, text = s.rcpt("demo@example.test")
            self.assertEqual(code, 250, text)
            s.rset()
        finally:
            s.quit()

    def test_kill9_send_restarted_nothing_lost(self):
        n = 300
        errors = []

        def client():
            try:
                self.send_mail(range(n))
            except Exception as e:  # reported below, in the test's thread
                errors.append(e)
        t = threading.Thread(target=client)
        t.start()
        try:
            wait_for(lambda: len(self.delivered()) >= 30, 60, 0.05)
            old = svstat("send")["pid"]
            os.kill(old, signal.SIGKILL)
            at_kill = len(self.delivered())
            self.new_pid("send", old)
        finally:
            t.join(300)
        self.assertEqual(errors, [])
        self.assertLess(at_kill, n, "the kill came too late to test anything")
        self.assertTrue(wait_for(lambda: svstat("send")["ready"], 30))
        self.send_mail(range(n, n + 10))
        # at least once: a delivery running at the kill may be repeated
        self.assertAllDelivered(range(n + 10), 180)

    def test_kill9_listener_restarted_open_session_finishes(self):
        s = self.smtp()
        try:
            self.send_mail(range(0, 10), conn=s)
            old = svstat("smtpd")["pid"]
            self.assertEqual(open(f"/proc/{old}/comm").read().strip(), "smtpd-listen")
            os.kill(old, signal.SIGKILL)
            # the session's worker outlives its listener
            self.send_mail(range(10, 20), conn=s)
        finally:
            s.quit()
        self.new_pid("smtpd", old)
        self.assertTrue(wait_for(self._greets, 30), "no smtpd after the restart")
        self.send_mail(range(20, 30))
        self.assertAllDelivered(range(30), once=True)

    def _greets(self):
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=5) as c:
                return c.recv(100).startswith(b"220")
        except OSError:
            return False

    def test_kill9_cyclog_restarted_log_kept(self):
        old = svstat("send/log")["pid"]
        self.assertEqual(open(f"/proc/{old}/comm").read().strip(), "cyclog")
        os.kill(old, signal.SIGKILL)
        since = len(self.log("smtpd"))
        # mail now: send's lines wait in the pipe s6-svscan keeps open
        self.send_mail(range(0, 20))
        self.new_pid("send/log", old)
        self.assertAllDelivered(range(20), once=True)
        # what queued each message: queue-writer's id, or queue-inject's
        # pid (the end of the id it made)
        qps = re.findall(r"ok pid \d+ qp (\S+) from <sender@example\.test>", self.log("smtpd")[since:])
        self.assertEqual(len(qps), 20)
        ids = [re.escape(q) if "." in q else r"[0-9a-f]{16}\.%s" % q for q in qps]

        def logged():
            log = self.log()
            return all(re.search(r"new msg %s: " % i, log) for i in ids) and \
                len(re.findall(r"(?m)^@[0-9a-f]{24} end msg (%s)$" % "|".join(ids), log)) == 20
        self.assertTrue(wait_for(logged, 20), self.log()[-3000:])

    def test_down_stops_send_and_up_delivers_what_came_meanwhile(self):
        self.send_mail(range(0, 30))
        svc("-wD", "-T", "60000", "-d", os.path.join(SCAN, "send"))
        st = svstat("send")
        self.assertFalse(st["up"])
        self.assertEqual(st["exitcode"], 0, "send did not exit 0 on s6-svc -d")
        self.assertTrue(wait_for(lambda: "status: send exiting" in self.log()[self.log().rindex("send started"):], 10),
                        self.log()[-500:])
        before = set(self.delivered())
        # smtpd still takes mail: it waits in the queue
        self.send_mail(range(30, 40))
        time.sleep(2)
        self.assertEqual(set(self.delivered()), before, "delivered while send was down")
        self.assertTrue(set(range(30, 40)).isdisjoint(before))
        svc("-u", os.path.join(SCAN, "send"))
        # a stop repeats nothing: every message exactly once
        self.assertAllDelivered(range(40), once=True)

    def test_term_restarts_cleanly(self):
        old = svstat("send")["pid"]
        self.send_mail(range(0, 30))
        svc("-t", os.path.join(SCAN, "send"))
        self.new_pid("send", old)
        self.assertTrue(wait_for(lambda: svstat("send")["ready"], 30))
        self.send_mail(range(30, 40))
        self.assertAllDelivered(range(40), once=True)
        log = self.log()
        stop = log.rindex("status: send exiting")
        self.assertIn("status: send started", log[stop:])

    def test_send_is_ready_after_a_restart(self):
        old = svstat("send")["pid"]
        svc("-t", os.path.join(SCAN, "send"))
        self.new_pid("send", old)
        self.assertTrue(wait_for(lambda: svstat("send")["ready"], 30), svstat("send"))
        with open(os.path.join(SCAN, "send", "notification-fd")) as f:
            self.assertEqual(f.read().strip(), "3")

    def test_first_retry_within_60_seconds(self):
        # CONTRACTS: the instance retries a temporary failure within 60 s
        demo = os.path.join(HOME, "mail", "demo")
        flag = os.path.join(demo, f"tried-{self.tag}")
        dot = os.path.join(demo, f".postern-{self.tag}")
        with open(dot, "w") as f:
            f.write(f"|if [ -e {flag} ]; then exit 0; fi; touch {flag}; echo not yet; exit 111\n")
        st = os.stat(demo)
        if ROOT:
            os.chown(dot, st.st_uid, st.st_gid)
        self.recipients_compile()  # smtpd takes demo-<tag> once it is in the table
        start = time.monotonic()
        s = self.smtp()
        try:
            self.assertEqual(s.sendmail("sender@example.test", [f"demo-{self.tag}@example.test"],
                                        self.message(1)), {})
        finally:
            s.quit()
        rcpt = f"to local demo-{self.tag}@example.test"

        def results():
            """each attempt's result for rcpt, in order"""
            out, open_ = [], set()
            for line in self.log().splitlines():
                m = re.search(r"starting delivery (\d+): msg \S+ (.*)$", line)
                if m:
                    open_.discard(m.group(1))
                    if m.group(2) == rcpt:
                        open_.add(m.group(1))
                    continue
                m = re.search(r" delivery (\d+): (\w+): ", line)
                if m and m.group(1) in open_:
                    open_.discard(m.group(1))
                    out.append(m.group(2))
            return out
        # the program's own delivery replaces the Maildir: its success
        self.assertTrue(wait_for(lambda: len(results()) >= 2, 60), self.log()[-2000:])
        self.assertLess(time.monotonic() - start, 60)
        self.assertEqual(results(), ["deferral", "success"])
        self.assertTrue(os.path.exists(flag))

    def test_log_directories(self):
        for name in ("send", "smtpd", "submission", "smtps", "queue-writer", "tlsd"):
            d = os.path.join(HOME, "log", name)
            st = os.stat(d)
            self.assertEqual(stat.S_IMODE(st.st_mode), 0o750)
            cur = os.stat(os.path.join(d, "current"))
            if ROOT:
                log = harness.users()["log"]
                self.assertEqual(pwd.getpwuid(st.st_uid).pw_name, log)
                self.assertEqual(pwd.getpwuid(cur.st_uid).pw_name, log)


@unittest.skipUnless(ROOT, "accounts need root")
class PrivilegeServiceTest(Running):
    def test_each_daemon_under_its_account(self):
        u = harness.users()
        uid = {r: pwd.getpwnam(a).pw_uid for r, a in u.items() if r != "group"}
        shared = grp.getgrnam(u["group"]).gr_gid
        s = self.smtp()  # an open session: its smtpd is running
        try:
            tree = svscan_tree()
            ps = subprocess.run(["ps", "-eo", "pid=,ruser:32=,user:32=,comm="], capture_output=True,
                                text=True).stdout
            procs = {}
            for line in ps.splitlines():
                pid, ruser, user, comm = line.split(None, 3)
                if int(pid) in tree:
                    procs.setdefault(comm.strip(), []).append((int(pid), ruser, user))
            want = {"s6-svscan": "root", "s6-supervise": "root", "send-start": "root",
                    "send": u["send"], "record": u["send"], "clean": u["queue"], "lspawn": "root",
                    "rspawn": u["remote"],
                    "cyclog": u["log"], "smtpd-listen": u["smtpd"], "smtpd": u["smtpd"],
                    "queue-writer": u["queue"], "tlsd": u["tls"]}
            for comm, account in want.items():
                with self.subTest(comm=comm):
                    self.assertIn(comm, procs, ps)
                    for pid, ruser, user in procs[comm]:
                        self.assertEqual((ruser, user), (account, account), f"{comm} {pid}")
            self.assertEqual(len(procs["cyclog"]), 6)
            self.assertEqual(len(procs["s6-supervise"]), 12)
            # smtpd's ids and groups, exactly: not in the shared group
            for pid, _, _ in procs["smtpd"] + procs["smtpd-listen"]:
                uids, gids, groups = proc_ids(pid)
                self.assertEqual(uids, (uid["smtpd"], uid["smtpd"]))
                self.assertNotIn(shared, groups | set(gids))
            self.assertIn(shared, proc_ids(procs["send"][0][0])[2])
            # send never holds root: the service's process is send-start,
            # which execs send already under its account (send-start(8))
            start = procs["send-start"][0][0]
            self.assertEqual(start, svstat("send")["pid"])
            self.assertEqual(parents()[procs["send"][0][0]], start)
            with open(f"/proc/{procs['send'][0][0]}/status") as f:
                suid = next(line.split()[3] for line in f if line.startswith("Uid:"))
            self.assertEqual(int(suid), uid["send"], "send's saved uid")
        finally:
            s.quit()

    def test_queue_owners_and_modes(self):
        u = harness.users()
        q = os.path.join(HOME, "queue")

        def owner(p):
            st = os.lstat(p)
            return (pwd.getpwuid(st.st_uid).pw_name, grp.getgrgid(st.st_gid).gr_name,
                    stat.S_IMODE(st.st_mode))
        sendgroup = grp.getgrgid(pwd.getpwnam(u["send"]).pw_gid).gr_name
        self.assertEqual(owner(q), (u["queue"], u["group"], 0o750))
        for n in (0, harness.SPLIT - 1):
            with self.subTest(n=n):
                self.assertEqual(owner(f"{q}/body/{n}"), (u["queue"], u["group"], 0o2750))
                self.assertEqual(owner(f"{q}/todo/{n}"), (u["queue"], sendgroup, 0o2770))
                self.assertEqual(owner(f"{q}/intake/{n}"), (u["queue"], sendgroup, 0o2700))
                self.assertEqual(owner(f"{q}/state/{n}"), (u["send"], u["group"], 0o2750))
        self.assertTrue(stat.S_ISFIFO(os.lstat(f"{q}/trigger").st_mode))
        self.assertEqual(owner(f"{q}/trigger"), (u["send"], u["group"], 0o622))
        self.assertEqual(owner(os.path.join(HOME, "bin", "queue-inject"))[0], u["queue"])
        self.assertEqual(owner(os.path.join(HOME, "bin", "queue-inject"))[2], 0o4711)
        # a message taken by smtpd while send is down: body and todo files
        svc("-wD", "-T", "60000", "-d", os.path.join(SCAN, "send"))
        try:
            self.send_mail([1])
            files = queue_files()
            body = [f for f in files if "/body/" in f]
            todo = [f for f in files if "/todo/" in f]
            self.assertEqual((len(body), len(todo)), (1, 1), files)
            self.assertEqual(owner(body[0]), (u["queue"], u["group"], 0o640))
            self.assertEqual(owner(todo[0]), (u["queue"], sendgroup, 0o640))
        finally:
            svc("-u", os.path.join(SCAN, "send"))
        self.assertAllDelivered([1], 30, once=True)

    def as_smtpd(self, *cmd, **kw):
        pw = pwd.getpwnam(harness.users()["smtpd"])
        kw.setdefault("stdout", subprocess.PIPE)
        return subprocess.run(["setpriv", f"--reuid={pw.pw_uid}", f"--regid={pw.pw_gid}",
                               "--clear-groups", *cmd], stderr=subprocess.PIPE, **kw)

    def test_user_and_alias_tables_are_private(self):
        """control/users, control/aliases, their tables and recipients.cdb
        hold every user's ids and home: 0640, root's, group smtpd's, so
        that smtpd reads them and no other account does"""
        if not ROOT:
            self.skipTest("needs root")
        u = harness.users()
        sgid = pwd.getpwnam(u["smtpd"]).pw_gid
        for name in ("users", "users.cdb", "aliases", "aliases.cdb", "recipients.cdb"):
            path = os.path.join(HOME, "control", name)
            with self.subTest(name=name):
                st = os.stat(path)
                self.assertEqual((stat.S_IMODE(st.st_mode), st.st_uid, st.st_gid), (0o640, 0, sgid))
                self.assertEqual(subprocess.run(["s6-setuidgid", u["smtpd"], "cat", path],
                                                capture_output=True).returncode, 0)
                self.assertNotEqual(subprocess.run(["s6-setuidgid", u["remote"], "cat", path],
                                                   capture_output=True).returncode, 0)

    def test_smtpd_account_cannot_write_the_queue(self):
        q = os.path.join(HOME, "queue")
        svc("-wD", "-T", "60000", "-d", os.path.join(SCAN, "send"))
        try:
            self.send_mail([1])
            body = [f for f in queue_files() if "/body/" in f][0]
            for d in ("", "body/0", "todo/0", "intake/0", "state/0", "body", "todo"):
                with self.subTest(dir=d):
                    target = os.path.join(q, d, f"x{self.tag}")
                    self.assertNotEqual(self.as_smtpd("touch", target).returncode, 0)
                    self.assertFalse(os.path.exists(target))
                    self.assertNotEqual(self.as_smtpd("mkdir", target).returncode, 0)
            self.assertNotEqual(self.as_smtpd("rm", "-f", body).returncode, 0)
            self.assertNotEqual(self.as_smtpd("cat", body).returncode, 0)
            self.assertTrue(os.path.exists(body))
            self.assertNotEqual(self.as_smtpd("sh", "-c", f": > {body}").returncode, 0)
            self.assertGreater(os.path.getsize(body), 0)
            # the one door: the setuid queue-inject
            r, w = os.pipe()
            os.write(w, harness.envelope("sender@example.test", ["demo@example.test"]))
            os.close(w)
            try:
                p = self.as_smtpd(os.path.join(HOME, "bin", "queue-inject"), input=self.message(2),
                                  stdout=r)
            finally:
                os.close(r)
            self.assertEqual(p.returncode, 0, p.stderr)
        finally:
            svc("-u", os.path.join(SCAN, "send"))
        self.assertAllDelivered([1, 2], 30, once=True)


class NotifyTest(unittest.TestCase):
    """send's readiness notification (POSTERN_NOTIFY_FD), on a home of
    its own: one newline once its children run, then the descriptor is
    closed everywhere"""

    def setUp(self):
        self.home = tempfile.mkdtemp(prefix="postern-notify-")
        subprocess.run(["sh", os.path.join(harness.TOP, "src/install/mkhome.sh"), self.home,
                        harness.BIN], check=True)
        self.err = os.path.join(self.home, "stderr")
        self.send = None

    def tearDown(self):
        if self.send and self.send.poll() is None:
            self.send.terminate()
            try:
                self.send.wait(30)
            except subprocess.TimeoutExpired:
                self.send.kill()
                self.send.wait()
        shutil.rmtree(self.home, ignore_errors=True)

    def start(self, value, pass_fds=()):
        env = dict(os.environ, POSTERN_HOME=self.home, POSTERN_NOTIFY_FD=value)
        with open(self.err, "wb") as err:
            self.send = subprocess.Popen([os.path.join(self.home, "bin", "send-start")], env=env,
                                         stdin=subprocess.DEVNULL, stdout=err, stderr=err,
                                         pass_fds=pass_fds)

    def output(self):
        with open(self.err, "rb") as f:
            return f.read().decode(errors="replace")

    def test_newline_then_closed_once_children_run(self):
        r, w = os.pipe()
        self.start(str(w), pass_fds=(w,))
        os.close(w)
        got = b""
        eof = False
        end = time.monotonic() + 30
        while time.monotonic() < end:
            ready, _, _ = select.select([r], [], [], 1)
            if not ready:
                continue
            chunk = os.read(r, 16)
            if not chunk:
                eof = True
                break
            got += chunk
            if got == b"\n":
                # its three children are forked (if not all exec'd yet)
                self.assertGreaterEqual(len(children(self.send.pid)), 3)
        os.close(r)
        self.assertEqual(got, b"\n", self.output())
        # end of file while send and its children still run: none holds it
        self.assertTrue(eof, "the notification descriptor was left open")
        self.assertIsNone(self.send.poll(), self.output())

        def kids():
            names = set()
            for c in children(self.send.pid):
                try:
                    names.add(open(f"/proc/{c}/comm").read().strip())
                except OSError:
                    pass
            return names
        self.assertTrue(wait_for(lambda: {"send", "record", "clean", "lspawn", "rspawn"} <= kids(), 10), kids())

    def test_a_descriptor_not_open_is_reported_and_ignored(self):
        self.start("97")
        self.assertTrue(wait_for(lambda: "status: send started" in self.output(), 30), self.output())
        self.assertIn("POSTERN_NOTIFY_FD=97 is not an open descriptor", self.output())
        self.assertIsNone(self.send.poll())


class StartStopTest(unittest.TestCase):
    """instance.py start twice, stop, start again, as make run and make
    stop do: one s6-svscan, nothing left after a stop, the queue kept"""

    def setUp(self):
        instance("stop", HOME, check=False)
        if os.path.exists(HOME):
            shutil.rmtree(HOME)
        self.port = free_port()
        instance("setup", HOME, harness.TEST_BIN, str(self.port))

    def tearDown(self):
        instance("stop", HOME, check=False)

    def svscans(self):
        out = []
        for d in os.listdir("/proc"):
            try:
                if d.isdigit() and open(f"/proc/{d}/comm").read().strip() == "s6-svscan" \
                        and os.readlink(f"/proc/{d}/cwd") == SCAN:
                    out.append(int(d))
            except OSError:
                pass
        return out

    def test_start_twice_stop_start_again(self):
        instance("start", HOME)
        first = self.svscans()
        self.assertEqual(len(first), 1)
        send1 = svstat("send")["pid"]
        p = instance("start", HOME)
        self.assertIn("already runs", p.stdout)
        self.assertEqual(self.svscans(), first)
        self.assertNotEqual(svstat("send")["pid"], send1, "services not restarted")
        instance("stop", HOME)
        self.assertEqual(home_processes(), [])
        # mail that came while stopped, and a set-up run again, keep the queue
        r, w = os.pipe()
        os.write(w, harness.envelope("sender@example.test", ["demo@example.test"]))
        os.close(w)
        try:
            q = subprocess.run([os.path.join(HOME, "bin", "queue-inject")], stdout=r,
                               input=b"Subject: while stopped\n\nbody\n", capture_output=False)
        finally:
            os.close(r)
        self.assertEqual(q.returncode, 0)
        instance("setup", HOME, harness.TEST_BIN, str(self.port))
        self.assertEqual(len([f for f in queue_files() if "/todo/" in f]), 1)
        instance("start", HOME)
        self.assertEqual(len(self.svscans()), 1)
        maildir = os.path.join(HOME, "mail", "demo", "Maildir")
        self.assertTrue(wait_for(lambda: harness.maildir_count(maildir) == 1, 30))
        instance("stop", HOME)
        self.assertEqual(home_processes(), [])
        self.assertEqual(self.svscans(), [])


if __name__ == "__main__":
    unittest.main()
