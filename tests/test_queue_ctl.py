"""queue-ctl(8) on a whole test instance run by send: a deferred message
removed (gone, never delivered, no bounce, logged), held (not delivered
while held, even across a restart of send; queue-list says held) then
released and delivered, retried now at a dead destination (an immediate
attempt, not a deferral); only root and the queue owner may use it.
Also queue-list on an empty queue, and inject -bp / -bs."""
import os
import pwd
import re
import stat
import subprocess
import unittest

import harness
from harness import Instance, envelope, maildir_count, wait_for
from receiver import Receiver
from test_queue_tools import as_user

SENDER = "demo@example.test"


def message(n, to):
    return (f"From: {SENDER}\nTo: {to}\nSubject: ctl {n}\n"
            f"Message-ID: <{n}.ctl@example.test>\n\nbody of {n}\n").encode()


class QueueCtlTest(unittest.TestCase):
    def setUp(self):
        self.inst = Instance()
        self.addCleanup(self.inst.cleanup)
        self.inst.table("locals", "example.test\n")
        self.demo = self.inst.mailbox_user("demo")
        self.inst.users({"demo": self.demo})
        self.maildir = os.path.join(self.demo[2], "Maildir")
        self.inst.control("me", "postern.test\n")
        self.inst.control("timeoutconnect", "2\n")
        self.inst.control("timeoutremote", "5\n")
        # no retry nor probe comes by itself: only SIGALRM or queue-ctl -r
        self.inst.control("retrybase", "100000\n")
        self.inst.control("backoffmin", "600\n")
        self.inst.control("backoffmax", "1200\n")
        self.port = harness.free_port()
        self.inst.table("routes", f"dead.test [127.0.0.1]:{self.port}\n")

    def inject(self, n, to="u@dead.test"):
        rc, err = self.inst.inject(message(n, to), envelope(SENDER, [to]))
        self.assertEqual(rc, 0, err)

    def tool(self, name, *args, preexec=None, inp=None):
        return subprocess.run([os.path.join(self.inst.bin, name)] + list(args), capture_output=True,
                              env=self.inst.env, timeout=60, preexec_fn=preexec, input=inp)

    def ctl(self, *args):
        p = self.tool("queue-ctl", *args)
        self.assertEqual(p.returncode, 0, p.stderr)
        return p.stdout.decode()

    def listing(self):
        p = self.tool("queue-list")
        self.assertEqual(p.returncode, 0, p.stderr)
        return p.stdout.decode()

    def ids(self):
        return re.findall(r"^(\S+) \S+ \d+ <", self.listing(), re.M)

    def logged(self, pattern, n=1, timeout=30):
        ok = wait_for(lambda: len(re.findall(pattern, self.inst.log(), re.M)) >= n, timeout)
        self.assertTrue(ok, f"no {pattern!r} in the log:\n" + self.inst.log()[-3000:])

    def deferred_one(self, n=0):
        """a message to the dead destination, deferred once; its id"""
        before = set(self.ids())
        self.inject(n)
        new = [i for i in self.ids() if i not in before]
        self.assertEqual(len(new), 1)
        if not self.inst.send:
            self.inst.start()
        self.logged(r"^delivery \d+: deferral: ")
        self.logged(r"^new msg " + re.escape(new[0]))
        return new[0]

    def receiver(self):
        rx = Receiver(host="127.0.0.1", port=self.port).start()
        self.addCleanup(rx.stop)
        return rx

    def subjects(self, rx):
        return sorted(m.header("Subject") for m in rx.messages)

    def test_remove_deferred_message(self):
        mid = self.deferred_one()
        self.assertIn(f"{mid} ", self.listing())
        self.assertEqual(self.ctl("-d", mid), f"remove {mid}\n")
        self.logged(r"^operator: remove msg " + re.escape(mid) + "$")
        self.logged(r"^end msg " + re.escape(mid) + "$")
        self.assertEqual(self.listing(), "queue is empty\n")
        self.assertEqual([f for f in self.inst.queue_files() if mid in f], [])
        # a server comes up: nothing is left to deliver there
        rx = self.receiver()
        self.inject(1)
        self.inst.send.send_signal(14)
        self.assertTrue(wait_for(lambda: self.subjects(rx) == ["ctl 1"], 60), self.inst.log()[-3000:])
        self.assertEqual(self.inst.stop(), 0)
        self.assertEqual(self.subjects(rx), ["ctl 1"])
        log = self.inst.log()
        self.assertNotIn("bounce msg", log)
        self.assertEqual(len(re.findall(r"^starting delivery \d+: msg " + re.escape(mid), log, re.M)), 1, log)
        self.assertFalse(os.path.isdir(os.path.join(self.maildir, "new")) and maildir_count(self.maildir),
                         "a bounce came back")

    def test_hold_survives_restart_then_release_delivers(self):
        mid = self.deferred_one()
        self.assertEqual(self.ctl("-h", mid), f"hold {mid}\n")
        self.logged(r"^operator: hold msg " + re.escape(mid) + "$")
        self.assertRegex(self.listing(), re.escape(mid) + r" \S+ \d+ <" + re.escape(SENDER) + "> held\n"
                         r"  <u@dead\.test> remote waiting held 1 ")
        # a server comes up and every deferral is retried: a witness
        # message is delivered, the held one is not
        rx = self.receiver()
        self.inject(1)
        self.inst.send.send_signal(14)
        self.assertTrue(wait_for(lambda: self.subjects(rx) == ["ctl 1"], 60), self.inst.log()[-3000:])
        # held across a restart of send
        self.assertEqual(self.inst.stop(), 0)
        self.inst.start()
        self.logged(r"^operator: hold msg " + re.escape(mid) + "$", 2)
        self.inject(2)
        self.inst.send.send_signal(14)
        self.assertTrue(wait_for(lambda: self.subjects(rx) == ["ctl 1", "ctl 2"], 60), self.inst.log()[-3000:])
        self.assertIn(" held\n", self.listing())
        self.assertEqual(self.ctl("-H", "-s", "dead.test"), f"release {mid}\n")
        self.logged(r"^operator: release msg " + re.escape(mid) + "$")
        self.assertNotIn(" held", self.listing())
        self.inst.send.send_signal(14)
        self.assertTrue(wait_for(lambda: self.subjects(rx) == ["ctl 0", "ctl 1", "ctl 2"], 60),
                        self.inst.log()[-3000:])
        self.assertTrue(wait_for(lambda: self.listing() == "queue is empty\n", 30), self.listing())
        self.assertEqual(os.listdir(self.inst.path("queue", "hold", str(self.hash(mid)))), [])

    def hash(self, mid):
        h = 2166136261
        for c in mid.encode():
            h = ((h ^ c) * 16777619) & 0xffffffff
        with open(os.path.join(harness.TOP, "conf-split")) as f:
            return h % int(f.readline())

    def test_retry_now_at_a_dead_destination_tries_at_once(self):
        mid = self.deferred_one()
        self.logged(r"^destination dead: ")
        rx = self.receiver()
        # the destination's next probe is 600 s away: only queue-ctl -r
        # can bring the message now
        self.assertEqual(self.ctl("-r", "-D", "DEAD.test"), f"retry {mid}\n")
        self.logged(r"^operator: retry msg " + re.escape(mid) + ": 1 recipients$")
        self.assertTrue(wait_for(lambda: self.subjects(rx) == ["ctl 0"], 60), self.inst.log()[-3000:])
        self.logged(r"^end msg " + re.escape(mid) + "$")

    def test_selection_and_usage(self):
        for args, say in (([], "usage"), (["-d"], "nothing selected"), (["-d", "-h", "-a"], "one of"),
                          (["-d", "-a", "6b045da80009c11a.3545"], "not both"), (["-d", "x"], "not a message id")):
            p = self.tool("queue-ctl", *args)
            self.assertEqual(p.returncode, 100, args)
            self.assertIn(say, p.stderr.decode(), args)
        # an id not in the queue: 100, the others done
        self.inject(0, "a@dead.test")
        self.inject(1, "demo@example.test")
        mid = self.ids()
        p = self.tool("queue-ctl", "-h", mid[0], "6b045da80009c11a.3545")
        self.assertEqual(p.returncode, 100)
        self.assertIn("not in the queue: 6b045da80009c11a.3545", p.stderr.decode())
        self.assertIn("send is not running", p.stderr.decode())
        self.assertEqual(p.stdout.decode(), f"hold {mid[0]}\n")
        # a hold made while send is down applies at its start: the local
        # message is delivered, the held one waits
        self.assertEqual(self.ctl("-h", "-t", "A@DEAD"), "")   # already held: nothing to do
        p = self.tool("queue-ctl", "-r", "-a")
        self.assertEqual(p.returncode, 111)
        self.assertIn("send is not running", p.stderr.decode())
        self.inst.start()
        self.logged(r"^operator: hold msg " + re.escape(mid[0]) + "$")
        self.assertTrue(wait_for(lambda: maildir_count(self.maildir) == 1, 60), self.inst.log()[-3000:])
        self.assertEqual(self.ids(), [mid[0]])
        self.assertEqual(self.ctl("-d", "-f", "demo@", "-D", "dead.test"), f"remove {mid[0]}\n")
        self.logged(r"^end msg " + re.escape(mid[0]) + "$")
        self.assertNotIn("starting delivery", "".join(l for l in self.inst.log().splitlines(True) if mid[0] in l))

    @unittest.skipUnless(os.getuid() == 0, "needs root to become another account")
    def test_only_root_and_the_queue_owner(self):
        self.inject(0)
        mid = self.ids()[0]
        ops = os.stat(self.inst.path("queue", "ops"))
        self.assertTrue(stat.S_ISFIFO(ops.st_mode))
        self.assertEqual(stat.S_IMODE(ops.st_mode), 0o660)
        users = harness.users()
        self.assertEqual(ops.st_uid, pwd.getpwnam(users["queue"]).pw_uid)
        self.assertEqual(ops.st_gid, pwd.getpwnam(users["send"]).pw_gid)
        for who in ("nobody", users["smtpd"], users["send"]):
            p = self.tool("queue-ctl", "-h", mid, preexec=as_user(who))
            self.assertEqual(p.returncode, 100, who)
            self.assertIn("only root or the queue owner", p.stderr.decode())
        self.assertNotIn(" held", self.listing())
        # nor can anyone else write the FIFO itself
        p = subprocess.run(["sh", "-c", "printf 'dX\\0\\0' > queue/ops"], cwd=self.inst.dir,
                           capture_output=True, preexec_fn=as_user("nobody"), timeout=30)
        self.assertNotEqual(p.returncode, 0)
        self.inst.start()
        self.logged(r"^new msg " + re.escape(mid))
        p = self.tool("queue-ctl", "-h", mid, preexec=as_user(users["queue"]))
        self.assertEqual(p.returncode, 0, p.stderr)
        self.logged(r"^operator: hold msg " + re.escape(mid) + "$")
        self.assertIn(" held\n", self.listing())


class ListAndInjectTest(unittest.TestCase):
    def setUp(self):
        self.inst = Instance()
        self.addCleanup(self.inst.cleanup)

    def test_queue_list_says_an_empty_queue_is_empty(self):
        p = subprocess.run([os.path.join(self.inst.bin, "queue-list")], capture_output=True,
                           env=self.inst.env, timeout=60)
        self.assertEqual((p.returncode, p.stdout), (0, b"queue is empty\n"))
        # a filter that matches nothing prints nothing
        p = subprocess.run([os.path.join(self.inst.bin, "queue-list"), "-s", "x"], capture_output=True,
                           env=self.inst.env, timeout=60)
        self.assertEqual((p.returncode, p.stdout), (0, b""))

    def test_inject_bp_lists_the_queue_as_mailq(self):
        inject = os.path.join(self.inst.bin, "inject")
        p = subprocess.run([inject, "-bp"], capture_output=True, env=self.inst.env, timeout=60)
        self.assertEqual((p.returncode, p.stdout), (0, b"queue is empty\n"), p.stderr)
        rc, err = self.inst.inject(message(0, "u@dead.test"), envelope(SENDER, ["u@dead.test"]))
        self.assertEqual(rc, 0, err)
        p = subprocess.run([inject, "-bp"], capture_output=True, env=self.inst.env, timeout=60)
        q = subprocess.run([os.path.join(self.inst.bin, "queue-list")], capture_output=True,
                           env=self.inst.env, timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stdout, q.stdout)
        self.assertIn(b"<u@dead.test> ", p.stdout)

    def test_inject_bs_speaks_smtp_on_stdin(self):
        session = (b"EHLO client.test\r\nMAIL FROM:<demo@example.test>\r\nRCPT TO:<u@dead.test>\r\n"
                   b"DATA\r\nSubject: via -bs\r\n\r\nbody\r\n.\r\nQUIT\r\n")
        p = subprocess.run([os.path.join(self.inst.bin, "inject"), "-bs"], input=session,
                           capture_output=True, env=self.inst.env, timeout=60)
        self.assertEqual(p.returncode, 0, p.stderr)
        codes = [line[:3] for line in p.stdout.decode().splitlines() if line[3:4] == " "]
        self.assertEqual(codes, ["220", "250", "250", "250", "354", "250", "221"], p.stdout)
        listing = subprocess.run([os.path.join(self.inst.bin, "queue-list")], capture_output=True,
                                 env=self.inst.env, timeout=60).stdout
        self.assertRegex(listing, rb"<demo@example\.test> unsorted\n  <u@dead\.test> ")

    @unittest.skipUnless(os.geteuid() == 0, "needs root to run inject as another user")
    def test_inject_bs_by_a_user_who_cannot_read_the_user_tables(self):
        """the user tables are private (0640, smtpd's group): a user's
        -bs session leaves local names to delivery instead of 451"""
        self.inst.table("locals", "example.test\n")
        demo = self.inst.mailbox_user("demo")
        self.inst.users({"demo": demo})
        for n in os.listdir(os.path.join(self.inst.dir, "control")):
            if n.startswith(("users", "aliases", "recipients")):
                os.chmod(os.path.join(self.inst.dir, "control", n), 0o600)
        nobody = pwd.getpwnam("nobody")
        session = (b"EHLO client.test\r\nMAIL FROM:<nobody@example.test>\r\nRCPT TO:<demo@example.test>\r\n"
                   b"DATA\r\nSubject: via -bs\r\n\r\nbody\r\n.\r\nQUIT\r\n")

        def become():
            os.setgid(nobody.pw_gid)
            os.setuid(nobody.pw_uid)
        p = subprocess.run([os.path.join(self.inst.bin, "inject"), "-bs"], input=session, cwd="/",
                           capture_output=True, env=self.inst.env, timeout=60, preexec_fn=become)
        codes = [line[:3] for line in p.stdout.decode().splitlines() if line[3:4] == " "]
        self.assertEqual(codes, ["220", "250", "250", "250", "354", "250", "221"], p.stdout + p.stderr)


if __name__ == "__main__":
    unittest.main()
