"""queue-writer: messages over its unix socket land in the queue as
queue-inject puts them; framing, size and envelope errors queue nothing
and get queue-inject's codes; concurrent clients are committed in groups;
smtpd uses it and falls back to queue-inject without it; a kill -9 never
loses a message that got its 0."""
import grp
import os
import pwd
import re
import shutil
import signal
import smtplib
import socket
import stat
import subprocess
import threading
import time
import unittest

import harness
from harness import Home, envelope, parse_todo, wait_for
from test_smtpd import Server

QW = os.path.join(harness.BIN, "queue-writer")
CLEAN = os.path.join(harness.BIN, "clean")
ROOT = os.getuid() == 0
MSG = b"From: a@example.test\nTo: c@example.test\nSubject: hi\n\nhello\n"
ENV = envelope("a@example.test", ["c@example.test", "e@example.org"])
DAY = 86400


def ns(b):
    return str(len(b)).encode() + b":" + b + b","


def framed(message, env, chunk=65536):
    out = b"".join(ns(message[i:i + chunk]) for i in range(0, len(message), chunk))
    return out + ns(b"") + (ns(env) if env is not None else b"")


def read_answer(s):
    data = b""
    while not data.endswith(b","):
        try:
            chunk = s.recv(100)
        except (ConnectionResetError, BrokenPipeError):
            break
        if not chunk:
            break
        data += chunk
    return data


def parse_answer(data):
    """(code, id or None), or None for no well-formed answer"""
    m = re.fullmatch(rb"(\d+):(\d+)(?: (\S+))?,", data)
    if not m or int(m.group(1)) != len(data) - len(m.group(1)) - 2:
        return None
    return int(m.group(2)), m.group(3).decode() if m.group(3) else None


class Writer:
    """queue-writer on a home, as the queue account when root"""

    def __init__(self, home, args=(), wrap=()):
        self.home = home
        self.sock = home.path("queue-writer", "socket")
        self.out = open(home.path("qw.out"), "ab")
        self.err = open(home.path("qw.err"), "ab")
        setuid = ["s6-setuidgid", harness.users()["queue"]] if ROOT else []
        self.proc = subprocess.Popen(setuid + list(wrap) + [QW, *args], env=home.env, stdin=subprocess.DEVNULL,
                                     stdout=self.out, stderr=self.err)
        if not wait_for(lambda: self.connectable() or self.proc.poll() is not None, 10):
            raise RuntimeError("queue-writer did not listen")

    def connectable(self):
        try:
            with socket.socket(socket.AF_UNIX) as s:
                s.connect(self.sock)
            return True
        except OSError:
            return False

    def stats(self):
        """the stats line it writes on SIGUSR1"""
        before = self.stdout().count("\n")
        self.proc.send_signal(signal.SIGUSR1)
        wait_for(lambda: self.stdout().count("\n") > before, 10)
        line = self.stdout().splitlines()[-1]
        return {k: int(v) for k, v in re.findall(r"(\w+) (\d+)", line)}

    def stdout(self):
        with open(self.home.path("qw.out")) as f:
            return f.read()

    def stderr(self):
        with open(self.home.path("qw.err")) as f:
            return f.read()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(30)
        self.out.close()
        self.err.close()

    def kill9(self):
        self.proc.kill()
        self.proc.wait()


def send(path, data, close_early=False):
    """one client: writes data, returns the writer's answer bytes"""
    with socket.socket(socket.AF_UNIX) as s:
        s.settimeout(30)
        s.connect(path)
        try:
            s.sendall(data)
        except (BrokenPipeError, ConnectionResetError):
            pass
        if close_early:
            return b""
        s.shutdown(socket.SHUT_WR)
        return read_answer(s)


class WriterTest(unittest.TestCase):
    def setUp(self):
        self.home = Home()
        self.addCleanup(self.home.cleanup)
        self.w = None

    def tearDown(self):
        if self.w:
            self.w.stop()

    def start(self, args=(), wrap=()):
        self.w = Writer(self.home, args, wrap)
        return self.w

    def queue(self, data):
        return parse_answer(send(self.w.sock, data))

    def assertQueueEmpty(self):
        # the writer removes what it made once it read the end
        self.assertTrue(wait_for(lambda: self.home.all_files() == [], 10), self.home.all_files())

    def test_message_lands_as_queue_inject_makes_it(self):
        self.start()
        code, msgid = self.queue(framed(MSG, ENV, chunk=7))
        self.assertEqual(code, 0)
        bodies, todos = self.home.files("body"), self.home.files("todo")
        self.assertEqual((list(bodies), list(todos)), ([msgid], [msgid]))
        self.assertEqual(self.home.files("intake"), {})
        first, rest = open(bodies[msgid], "rb").read().split(b"\n", 1)
        self.assertEqual(rest, MSG)
        # s6-setuidgid execs queue-writer: the pid is the writer's
        self.assertRegex(first.decode(), r"^Received: \(postern %d invoked by uid %d\); \w\w\w, "
                         % (self.w.proc.pid, os.getuid()))
        self.assertTrue(msgid.endswith(".%d" % self.w.proc.pid))
        info, sender, rcpts = parse_todo(open(todos[msgid], "rb").read())
        self.assertEqual((sender, rcpts), (b"a@example.test", [b"c@example.test", b"e@example.org"]))
        self.assertEqual(info["u"], str(os.getuid()))
        for p in (bodies[msgid], todos[msgid]):
            self.assertEqual(stat.S_IMODE(os.stat(p).st_mode), 0o640)
        if ROOT:
            u = harness.users()
            sendgroup = grp.getgrgid(pwd.getpwnam(u["send"]).pw_gid).gr_name
            for p, group in ((bodies[msgid], u["group"]), (todos[msgid], sendgroup)):
                st = os.stat(p)
                self.assertEqual((pwd.getpwuid(st.st_uid).pw_name, grp.getgrgid(st.st_gid).gr_name),
                                 (u["queue"], group))
            self.assertEqual(pwd.getpwuid(os.stat(f"/proc/{self.w.proc.pid}").st_uid).pw_name, u["queue"])

    @unittest.skipUnless(ROOT, "needs root to connect as another account")
    def test_client_uid_recorded(self):
        self.start()
        pw = pwd.getpwnam(harness.users()["smtpd"])
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:
            try:
                os.close(r)
                os.setgroups([])
                os.setgid(pw.pw_gid)
                os.setuid(pw.pw_uid)
                os.write(w, send(self.w.sock, framed(MSG, ENV)))
            finally:
                os._exit(0)
        os.close(w)
        answer = b""
        while True:
            chunk = os.read(r, 100)
            if not chunk:
                break
            answer += chunk
        os.close(r)
        os.waitpid(pid, 0)
        code, msgid = parse_answer(answer)
        self.assertEqual(code, 0)
        info, _, _ = parse_todo(open(self.home.files("todo")[msgid], "rb").read())
        self.assertEqual(info["u"], str(pw.pw_uid))
        body = open(self.home.files("body")[msgid], "rb").read()
        self.assertIn(b" invoked by uid %d)" % pw.pw_uid, body.split(b"\n")[0])
        # and the smtpd account can write nothing there itself
        p = subprocess.run(["setpriv", f"--reuid={pw.pw_uid}", f"--regid={pw.pw_gid}", "--clear-groups",
                            "touch", self.home.path("queue-writer", "x")], capture_output=True)
        self.assertNotEqual(p.returncode, 0)
        self.assertFalse(os.path.exists(self.home.path("queue-writer", "x")))

    def test_framing_errors_queue_nothing(self):
        self.start()
        cases = [
            (b"x:abc,", 54),                         # not a length
            (b":abc,", 54),                          # no digits
            (b"3:abcX", 54),                         # no comma
            (b"65537:" + b"a" * 65537 + b",", 54),   # a chunk over 64 KiB
            (ns(b"hello") + b"0:;", 54),             # end marker without its comma
            (ns(b"hello") + ns(b"") + b"5:Fa@b", 54),  # envelope cut
            (ns(b"hello") + ns(b"") + b"999999999:", 14),  # envelope over its bound
        ]
        for data, code in cases:
            with self.subTest(data=data[:20]):
                self.assertEqual(self.queue(data), (code, None))
                self.assertQueueEmpty()

    def test_oversize_message(self):
        self.home.control("databytes", "1000\n")
        self.start()
        self.assertEqual(self.queue(framed(b"x" * 1001, ENV)), (12, None))
        self.assertQueueEmpty()
        self.assertEqual(self.queue(framed(b"x" * 1000, ENV))[0], 0)

    def test_bad_envelopes(self):
        self.start()
        cases = [
            (b"Tc@d\0\0", 31),
            (b"Fa@b\0\0", 15),
            (b"Fa@b\0Tc\x01d\0\0", 16),
            (b"Fa@b\0T" + b"x" * 257 + b"\0\0", 11),
            (b"Fa@b\0Tc@d\0", 31),   # no final NUL
            (b"", 31),
        ]
        for env, code in cases:
            with self.subTest(env=env[:20]):
                self.assertEqual(self.queue(framed(MSG, env)), (code, None))
                self.assertQueueEmpty()
        # bytes after the final NUL are ignored, as queue-inject does
        self.assertEqual(self.queue(framed(MSG, b"Fa@b\0Tc@d\0\0junk"))[0], 0)

    def test_client_gone_before_envelope(self):
        self.start()
        for data in (ns(b"Subject: x\n\nhalf"), framed(MSG, None), ns(b"x" * 100) + b"50:abc"):
            with self.subTest(data=data[:20]):
                send(self.w.sock, data, close_early=True)
                self.assertQueueEmpty()
        self.assertEqual(self.w.stats()["msgs"], 0)

    def test_many_concurrent_clients_commit_in_groups(self):
        self.start()
        n = 50
        barrier = threading.Barrier(n)
        answers = [None] * n

        def client(i):
            with socket.socket(socket.AF_UNIX) as s:
                s.settimeout(60)
                s.connect(self.w.sock)
                s.sendall(ns(b"Subject: %d\n\n" % i + b"y" * 3000) + ns(b""))
                barrier.wait()
                s.sendall(ns(envelope("a@b.test", [f"r{i}@example.test"])))
                answers[i] = parse_answer(read_answer(s))
        threads = [threading.Thread(target=client, args=(i,)) for i in range(n)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(120)
        self.assertTrue(all(a and a[0] == 0 for a in answers), answers)
        ids = {a[1] for a in answers}
        self.assertEqual(len(ids), n)
        self.assertEqual(set(self.home.files("todo")), ids)
        self.assertEqual(set(self.home.files("body")), ids)
        for i, (_, msgid) in enumerate(answers):
            _, _, rcpts = parse_todo(open(self.home.files("todo")[msgid], "rb").read())
            self.assertEqual(rcpts, [f"r{i}@example.test".encode()])
        st = self.w.stats()
        self.assertEqual(st["msgs"], n)
        self.assertGreater(st["maxgroup"], 1, st)
        self.assertLess(st["rounds"], n, st)
        # a round's messages share their subdirectory (one directory
        # fsync per tree per round), the next round takes the next one
        subdirs = {os.path.basename(os.path.dirname(p)) for p in self.home.files("todo").values()}
        self.assertLessEqual(len(subdirs), st["rounds"], (subdirs, st))

    def test_fsyncs_before_rename_before_answer(self):
        """strace -f of the writer under 8 concurrent clients: for each
        message, its body, intake and body directory fsyncs have ended
        before its rename into todo, and the todo directory's fsync before
        its answer"""
        if not shutil.which("strace"):
            self.skipTest("no strace")
        log = self.home.path("strace.log")
        open(log, "w").close()
        if ROOT:   # strace runs as the queue account, beside the writer
            os.chown(log, pwd.getpwnam(harness.users()["queue"]).pw_uid, -1)
        self.start(wrap=["strace", "-f", "-y", "-o", log, "-e", "trace=fsync,rename,sendto"])
        answers = []

        def client(i):
            answers.append(parse_answer(send(self.w.sock, framed(b"Subject: %d\n\nx\n" % i, ENV))))
        threads = [threading.Thread(target=client, args=(i,)) for i in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        self.assertEqual(sorted(a[0] for a in answers), [0] * 8)
        # the writer is strace's child: it gets the SIGTERM, strace ends with it
        for d in os.listdir("/proc"):
            try:
                if d.isdigit() and open(f"/proc/{d}/stat").read().rsplit(")", 1)[1].split()[1] \
                        == str(self.w.proc.pid):
                    os.kill(int(d), signal.SIGTERM)
            except OSError:
                pass
        self.w.proc.wait(30)
        self.w.stop()
        done, pending = [], {}   # (event, what) in the order they ended
        for line in open(log):
            pid = line.split()[0]
            m = re.search(r"fsync\(\d+<[^>]*/queue/([^>]*)>", line)
            if m and "<unfinished" in line:
                pending[pid] = m.group(1)
            elif m and re.search(r"\)\s+= 0", line):
                done.append(("fsync", m.group(1)))
            elif "fsync resumed>" in line and re.search(r"\)\s+= 0", line):
                done.append(("fsync", pending.pop(pid)))
            m = re.search(r'rename\("queue/intake/(\d+/\S+)", "queue/todo/', line)
            if m:
                done.append(("rename", m.group(1)))
            m = re.search(r'sendto\(.*"\d+:0 (\S+),"', line)
            if m:
                done.append(("answer", m.group(1)))
        for _, msgid in answers:
            sub = next(p for p in self.home.files("todo").values() if p.endswith("/" + msgid)).split("/")[-2]
            with self.subTest(msgid=msgid):
                at = {e: done.index(e) for e in done}
                rename = at[("rename", f"{sub}/{msgid}")]
                for f in (f"body/{sub}/{msgid}", f"intake/{sub}/{msgid}", f"body/{sub}"):
                    self.assertLess(at[("fsync", f)], rename, f)
                # the todo directory fsync that ended last before the answer
                answer = at[("answer", msgid)]
                self.assertTrue(any(e == ("fsync", f"todo/{sub}") and rename < i < answer
                                    for i, e in enumerate(done)), done)

    def test_kill9_under_load_loses_no_acknowledged_message(self):
        self.start()
        acked, other = [], []
        lock = threading.Lock()
        stop = threading.Event()

        def client(i):
            k = 0
            while not stop.is_set():
                k += 1
                try:
                    with socket.socket(socket.AF_UNIX) as s:
                        s.settimeout(30)
                        s.connect(self.w.sock)
                        s.sendall(ns(b"Subject: %d.%d\n\n" % (i, k)))
                        for _ in range(5):
                            s.sendall(ns(b"z" * 2000))
                        s.sendall(ns(b"") + ns(envelope("a@b.test", ["c@d.test"])))
                        a = parse_answer(read_answer(s))
                except OSError as e:
                    a = e
                with lock:
                    (acked if isinstance(a, tuple) and a[0] == 0 else other).append(
                        (i, k, a[1] if isinstance(a, tuple) else a))
        threads = [threading.Thread(target=client, args=(i,)) for i in range(10)]
        for t in threads:
            t.start()
        self.assertTrue(wait_for(lambda: len(acked) >= 30, 60), (acked, other))
        self.w.kill9()
        stop.set()
        for t in threads:
            t.join(60)
        self.assertTrue(other, "some client was cut by the kill")
        todo, body = self.home.files("todo"), self.home.files("body")
        for _, _, msgid in acked:
            self.assertIn(msgid, todo)
            self.assertIn(msgid, body)
        # every todo is whole: its body is there
        self.assertEqual(set(todo) - set(body), set())
        # what the kill left half done (bodies, intake files) is invisible
        # to send and clean removes it once old
        leftovers = [p for p in self.home.all_files()
                     if "/intake/" in p or ("/body/" in p and os.path.basename(p) not in todo)]
        t = time.time() - 2 * DAY
        for p in leftovers:
            os.utime(p, (t, t))
        subprocess.run([CLEAN], env=self.home.env, stdin=subprocess.DEVNULL, capture_output=True,
                       check=True)
        self.assertEqual(self.home.files("intake"), {})
        self.assertEqual(set(self.home.files("body")), set(todo))
        self.w.stop()
        self.w = None


class SmtpdWriterTest(unittest.TestCase):
    """smtpd under tcpserver, queueing through queue-writer"""

    def setUp(self):
        self.srv = Server()
        self.addCleanup(self.srv.cleanup)
        shutil.copy(QW, self.srv.home.path("bin", "queue-writer"))
        self.w = Writer(self.srv.home)
        self.addCleanup(self.stop_writer)

    def stop_writer(self):
        if self.w:
            self.w.stop()

    def send_one(self, subject):
        with self.srv.smtp() as s:
            s.ehlo()
            s.mail("a@client.test")
            s.rcpt("demo@example.test")
            return s.data(f"Subject: {subject}\r\n\r\nbody\r\n".encode())

    def test_message_through_the_writer(self):
        code, text = self.send_one("one")
        self.assertEqual(code, 250)
        m = re.fullmatch(rb"2\.0\.0 ok qp ([0-9a-f]{16}\.\d+)", text)
        self.assertTrue(m, text)
        msgid = m.group(1).decode()
        self.assertEqual(list(self.srv.home.files("todo")), [msgid])
        body = open(self.srv.home.files("body")[msgid], "rb").read()
        self.assertIn(b"Subject: one\n", body)
        self.assertTrue(body.startswith(b"Received: (postern "), body[:100])
        self.assertRegex(self.srv.logtext(), r"ok pid \d+ qp %s from <a@client\.test> rcpts 1" % re.escape(msgid))
        self.assertEqual(self.w.stats()["msgs"], 1)

    def test_refused_messages_abandoned_quietly(self):
        """a bare CR, a long line, a client gone in DATA: nothing queued,
        the writer logs nothing, smtpd one line each (issue 15 item 12)"""
        with self.srv.smtp() as s:
            s.ehlo()
            for body in (b"Subject: x\r\n\r\na\rb\r\n", b"Subject: x\r\n\r\n" + b"x" * 70000 + b"\r\n"):
                s.mail("a@client.test")
                s.rcpt("demo@example.test")
                self.assertEqual(s.data(body)[0], 554)
        r = self.srv.raw()
        r.reply()
        r.send(b"EHLO c\r\nMAIL FROM:<a@client.test>\r\nRCPT TO:<demo@example.test>\r\nDATA\r\n")
        self.assertEqual(r.codes(4), [250, 250, 250, 354])
        r.send(b"Subject: cut\r\n\r\nhalf")
        r.close()
        self.assertTrue(wait_for(lambda: "client gone in DATA" in self.srv.logtext(), 10))
        self.assertTrue(wait_for(lambda: self.srv.home.files("body") == {}, 10), self.srv.home.all_files())
        self.assertEqual(self.srv.home.files("todo"), {})
        log = self.srv.logtext()
        self.assertRegex(log, r"reject pid \d+ .*: bare CR\n")
        self.assertRegex(log, r"reject pid \d+ .*: line too long\n")
        # no warning but smtpd's note that this home has no recipients table
        self.assertEqual([x for x in log.splitlines() if "warning" in x and "recipients.cdb" not in x], [])
        self.assertNotIn("envelope format", log)
        self.w.stop()
        self.assertEqual(open(self.srv.home.path("qw.err"), "rb").read(), b"")
        self.w = None

    def test_fallback_to_queue_inject_when_the_writer_is_down(self):
        self.w.kill9()   # its socket file stays: connect is refused
        self.assertTrue(os.path.exists(self.w.sock))
        code, text = self.send_one("two")
        self.assertEqual(code, 250)
        self.assertRegex(text, rb"^2\.0\.0 ok qp \d+$")
        self.w.stop()
        os.unlink(self.w.sock)   # no socket at all
        self.w = None
        code, text = self.send_one("three")
        self.assertEqual(code, 250)
        self.assertRegex(text, rb"^2\.0\.0 ok qp \d+$")
        self.assertEqual(len(self.srv.home.files("todo")), 2)


if __name__ == "__main__":
    unittest.main()
