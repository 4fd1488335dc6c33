"""local: what the recipient finds in a Maildir or an mbox, what a
program gets and what its exit code does, what a forward queues, which
.postern file is followed, and the loop checks. local runs as the test's
user, with a fresh postern home and a fresh user home each test."""
import fcntl
import mailbox
import os
import re
import shutil
import subprocess
import tempfile
import time
import unittest

import harness
from harness import Home, parse_todo

LOCAL = os.path.join(harness.BIN, "local")
QI = os.path.join(harness.BIN, "queue-inject")
FIRST = b"Received: (postern 42 invoked by uid 1000); Mon, 23 Nov 2026 15:33:53 +0000\n"
MSG = FIRST + (b"From: a@example.org\nTo: u@example.test\nSubject: hi\n\n"
               b"From the start\n>From quoted\nlast line\n")
RP = b"Return-Path: <s@x.test>\n"


def dt(rcpt="u@example.test"):
    return b"Delivered-To: " + rcpt.encode() + b"\n"


class LocalTest(unittest.TestCase):
    def setUp(self):
        self.home = Home()
        self.user = tempfile.mkdtemp(prefix="postern-user-")
        self.tmp = tempfile.mkdtemp(prefix="postern-msg-")

    def tearDown(self):
        self.home.cleanup()
        shutil.rmtree(self.user, ignore_errors=True)
        shutil.rmtree(self.tmp, ignore_errors=True)

    def msgfile(self, data, name="msg"):
        p = os.path.join(self.tmp, name)
        with open(p, "wb") as f:
            f.write(data)
        return p

    def argv(self, ext="", sender="s@x.test", alias=None):
        local = "u" + ("-" + ext if ext else "")
        a = [LOCAL] + (["-a", alias] if alias is not None else [])
        return a + ["u", self.user, local, ext, "example.test", sender, local + "@example.test"]

    def run_local(self, msg=MSG, wrap=(), **kw):
        """runs local as the spawner would; returns (exit code, stdout line)"""
        with open(self.msgfile(msg), "rb") as f:
            p = subprocess.run(list(wrap) + self.argv(**kw), stdin=f, capture_output=True,
                               cwd=self.user, env=self.home.env, timeout=60)
        out = p.stdout.decode(errors="replace")
        self.assertEqual(out.count("\n"), 1, out + p.stderr.decode(errors="replace"))
        return p.returncode, out.rstrip("\n")

    def write(self, name, text, mode=0o600):
        p = os.path.join(self.user, name)
        with open(p, "w") as f:
            f.write(text)
        os.chmod(p, mode)
        return p

    def maildir(self, name="Maildir"):
        """{file name: bytes} of new/, after checking tmp/ is empty"""
        md = os.path.join(self.user, name)
        self.assertEqual(os.listdir(os.path.join(md, "tmp")), [])
        return {n: open(os.path.join(md, "new", n), "rb").read()
                for n in os.listdir(os.path.join(md, "new"))}

    def with_queue_inject(self):
        shutil.copy(QI, self.home.path("bin", "queue-inject"))

    # --- Maildir

    def test_default_is_maildir_with_return_path_and_delivered_to(self):
        rc, out = self.run_local()
        self.assertEqual(rc, 0, out)
        files = self.maildir()
        self.assertEqual(len(files), 1)
        name, data = next(iter(files.items()))
        self.assertEqual(out, "maildir ./Maildir/: delivered " + name)
        host = os.uname().nodename.replace("/", "\\057").replace(":", "\\072")
        self.assertRegex(name, r"^\d+\.M\d+P\d+\." + re.escape(host) + "$")
        self.assertEqual(data, RP + dt() + MSG)
        box = mailbox.Maildir(os.path.join(self.user, "Maildir"), factory=None, create=False)
        msgs = list(box)
        self.assertEqual(len(msgs), 1)
        m = msgs[0]
        self.assertEqual(list(m.keys())[:3], ["Return-Path", "Delivered-To", "Received"])
        self.assertEqual(m["Return-Path"], "<s@x.test>")
        self.assertEqual(m["Delivered-To"], "u@example.test")
        self.assertEqual(m.get_payload(), "From the start\n>From quoted\nlast line\n")
        for d in ("tmp", "new", "cur"):
            self.assertTrue(os.path.isdir(os.path.join(self.user, "Maildir", d)))

    def test_stale_tmp_file_removed_fresh_one_kept(self):
        # what a local killed between create and link leaves, 37 hours
        # ago, and one another deliverer is writing now (maildir(5): 36 hours)
        tmp = os.path.join(self.user, "Maildir", "tmp")
        for d in ("tmp", "new", "cur"):
            os.makedirs(os.path.join(self.user, "Maildir", d))
        old, fresh, day = (os.path.join(tmp, n) for n in ("1.M1P1.old", "2.M2P2.fresh", "3.M3P3.day"))
        for p in (old, fresh, day):
            with open(p, "wb") as f:
                f.write(b"partial")
        t = time.time()
        os.utime(old, (t - 37 * 3600, t - 37 * 3600))
        os.utime(day, (t - 25 * 3600, t - 25 * 3600))
        rc, out = self.run_local()
        self.assertEqual(rc, 0, out)
        self.assertEqual(sorted(os.listdir(tmp)), ["2.M2P2.fresh", "3.M3P3.day"])
        self.assertEqual(len(os.listdir(os.path.join(self.user, "Maildir", "new"))), 1)

    def test_null_sender_gets_empty_return_path(self):
        rc, out = self.run_local(sender="")
        self.assertEqual(rc, 0, out)
        self.assertTrue(next(iter(self.maildir().values())).startswith(b"Return-Path: <>\n" + dt()))

    def test_two_maildir_lines_give_two_files(self):
        self.write(".postern", "./Maildir/\n./Maildir/\n./Other/\n")
        rc, out = self.run_local()
        self.assertEqual(rc, 0, out)
        self.assertTrue(out.startswith("did 3+0+0: maildir ./Maildir/: delivered "), out)
        self.assertEqual(list(self.maildir().values()), [RP + dt() + MSG] * 2)
        self.assertEqual(list(self.maildir("Other").values()), [RP + dt() + MSG])

    def test_control_defaultdelivery(self):
        self.home.control("defaultdelivery", "./Mail/box/\n")
        os.mkdir(os.path.join(self.user, "Mail"))
        rc, out = self.run_local()
        self.assertEqual(rc, 0, out)
        self.assertEqual(list(self.maildir("Mail/box").values()), [RP + dt() + MSG])
        self.assertFalse(os.path.exists(os.path.join(self.user, "Maildir")))

    def test_empty_postern_means_default_comments_only_discard(self):
        self.write(".postern", "")
        rc, out = self.run_local()
        self.assertEqual(rc, 0, out)
        self.assertEqual(len(self.maildir()), 1)
        shutil.rmtree(os.path.join(self.user, "Maildir"))
        self.write(".postern", "# nothing here\n\n")
        rc, out = self.run_local()
        self.assertEqual(rc, 0, out)
        self.assertTrue(out.startswith("did 0+0+0: "), out)
        self.assertFalse(os.path.exists(os.path.join(self.user, "Maildir")))

    def test_unwritable_maildir_is_temporary_and_leaves_no_tmp_file(self):
        md = os.path.join(self.user, "Maildir")
        os.makedirs(os.path.join(md, "cur"))
        os.mkdir(os.path.join(md, "tmp"))
        # a file where new/ should be: fails for root too, after tmp/ was written
        open(os.path.join(md, "new"), "w").close()
        rc, out = self.run_local()
        self.assertEqual(rc, 111, out)
        self.assertRegex(out, r"^4\.3\.0 unable to link into ./Maildir/new/")
        self.assertEqual(os.listdir(os.path.join(md, "tmp")), [])
        os.unlink(os.path.join(md, "new"))
        os.rmdir(os.path.join(md, "tmp"))
        open(os.path.join(md, "tmp"), "w").close()
        os.mkdir(os.path.join(md, "new"))
        rc, out = self.run_local()
        self.assertEqual(rc, 111, out)
        self.assertRegex(out, r"^4\.3\.0 unable to create ./Maildir/tmp/")
        self.assertEqual(os.listdir(os.path.join(md, "new")), [])
        if os.getuid() != 0:
            os.unlink(os.path.join(md, "tmp"))
            os.mkdir(os.path.join(md, "tmp"), 0o500)
            rc, out = self.run_local()
            self.assertEqual(rc, 111, out)

    def test_maildir_durable_order(self):
        if not shutil.which("strace"):
            self.skipTest("no strace")
        trace = os.path.join(self.tmp, "trace")
        rc, out = self.run_local(wrap=["strace", "-f", "-y", "-o", trace, "-e",
                                       "trace=fsync,link,linkat,rename,unlink,unlinkat"])
        self.assertEqual(rc, 0, out)
        name = out.rsplit(" ", 1)[1]
        calls = [m.group(1) for m in (re.match(r"\d+\s+(\w+\(.*)", l) for l in open(trace)) if m]
        md = os.path.realpath(os.path.join(self.user, "Maildir"))

        def at(pattern):
            hits = [i for i, c in enumerate(calls) if re.search(pattern, c)]
            self.assertEqual(len(hits), 1, (pattern, calls))
            return hits[0]
        fsync_file = at(r"^fsync\(\d+<" + re.escape(md + "/tmp/" + name) + r">\) = 0")
        link = at(r"^link(at)?\(.*\"\./Maildir/tmp/" + re.escape(name) + r"\", .*\"\./Maildir/new/"
                  + re.escape(name) + r"\".* = 0")
        unlink = at(r"^unlink(at)?\(.*\"\./Maildir/tmp/" + re.escape(name) + r"\".* = 0")
        fsync_new = at(r"^fsync\(\d+<" + re.escape(md + "/new") + r">\) = 0")
        self.assertLess(fsync_file, link)
        self.assertLess(link, unlink)
        self.assertLess(unlink, fsync_new)
        self.assertFalse(any(c.startswith("rename") for c in calls), calls)

    # --- mbox

    def test_mbox_from_line_and_quoting(self):
        self.write(".postern", "./mbox\n")
        rc, out = self.run_local()
        self.assertEqual(rc, 0, out)
        self.assertEqual(out, "mbox ./mbox: delivered")
        rc, out = self.run_local(msg=MSG + b"From no newline", sender="")
        self.assertEqual(rc, 0, out)
        raw = open(os.path.join(self.user, "mbox"), "rb").read()
        self.assertRegex(raw.split(b"\n", 1)[0].decode(),
                         r"^From s@x\.test (Mon|Tue|Wed|Thu|Fri|Sat|Sun) \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4}$")
        box = mailbox.mbox(os.path.join(self.user, "mbox"), create=False)
        msgs = list(box)
        self.assertEqual(len(msgs), 2)
        self.assertTrue(msgs[1].get_from().startswith("MAILER-DAEMON "))
        self.assertEqual(msgs[0]["Return-Path"], "<s@x.test>")
        self.assertEqual(msgs[1]["Return-Path"], "<>")
        self.assertEqual(list(msgs[0].keys())[:2], ["Return-Path", "Delivered-To"])
        self.assertEqual(msgs[0].get_payload(), ">From the start\n>>From quoted\nlast line\n")
        self.assertEqual(msgs[1].get_payload(),
                         ">From the start\n>>From quoted\nlast line\n>From no newline\n")
        self.assertEqual(oct(os.stat(os.path.join(self.user, "mbox")).st_mode & 0o777), "0o600")

    def test_mbox_20_concurrent_deliveries_stay_whole(self):
        self.write(".postern", "./mbox\n")
        procs, bodies = [], {}
        # bodies bigger than local's 64 KiB copy buffer: several writes each
        for i in range(20):
            body = b"".join(b"message %02d line %05d\n" % (i, j) for j in range(8000))
            bodies["%02d" % i] = body
            f = open(self.msgfile(FIRST + b"Subject: %02d\n\n" % i + body, "m%d" % i), "rb")
            procs.append((subprocess.Popen(self.argv(), stdin=f, stdout=subprocess.PIPE,
                                           cwd=self.user, env=self.home.env), f))
        for p, f in procs:
            out = p.communicate(timeout=60)[0]
            f.close()
            self.assertEqual(p.returncode, 0, out)
        box = mailbox.mbox(os.path.join(self.user, "mbox"), create=False)
        got = {m["Subject"]: m.get_payload().encode() for m in box}
        self.assertEqual(sorted(got), sorted(bodies))
        for k in bodies:
            self.assertEqual(got[k], bodies[k], k)

    def test_mbox_waits_for_the_lock(self):
        self.write(".postern", "./mbox\n")
        path = os.path.join(self.user, "mbox")
        with open(path, "ab") as held:
            fcntl.lockf(held, fcntl.LOCK_EX)
            f = open(self.msgfile(MSG), "rb")
            p = subprocess.Popen(self.argv(), stdin=f, stdout=subprocess.PIPE,
                                 cwd=self.user, env=self.home.env)
            time.sleep(1)
            self.assertIsNone(p.poll())
            self.assertEqual(os.path.getsize(path), 0)
            fcntl.lockf(held, fcntl.LOCK_UN)
            out = p.communicate(timeout=30)[0]
            f.close()
        self.assertEqual(p.returncode, 0, out)
        self.assertEqual(len(mailbox.mbox(path, create=False)), 1)

    # --- programs

    def test_program_exit_codes(self):
        for code, want in ((0, 0), (99, 0), (100, 100), (111, 111), (42, 111)):
            with self.subTest(code=code):
                self.write(".postern", "|echo said %d; exit %d\n" % (code, code))
                rc, out = self.run_local()
                self.assertEqual(rc, want, out)
                if want == 0:
                    self.assertEqual(out, "program: said %d" % code)
                else:
                    self.assertEqual(out, ("5" if want == 100 else "4") + ".0.0 program failed: said %d" % code)

    def test_program_own_status_text_and_silence(self):
        self.write(".postern", "|echo '5.7.1 go away'; echo more; exit 100\n")
        self.assertEqual(self.run_local(), (100, "5.7.1 go away"))
        self.write(".postern", "|exit 111\n")
        self.assertEqual(self.run_local(), (111, "4.0.0 program exited 111"))
        self.write(".postern", "|kill -9 $$\n")
        self.assertEqual(self.run_local(), (111, "4.3.0 program killed by signal 9"))

    def test_exit_99_stops_later_lines_and_0_does_not(self):
        self.write(".postern", "|exit 99\n./Maildir/\n")
        rc, out = self.run_local()
        self.assertEqual(rc, 0, out)
        self.assertFalse(os.path.exists(os.path.join(self.user, "Maildir")))
        self.write(".postern", "|exit 0\n./Maildir/\n")
        rc, out = self.run_local()
        self.assertEqual(rc, 0, out)
        self.assertEqual(len(self.maildir()), 1)

    def test_failure_stops_later_lines(self):
        self.write(".postern", "|exit 111\n./Maildir/\n")
        rc, out = self.run_local()
        self.assertEqual(rc, 111, out)
        self.assertFalse(os.path.exists(os.path.join(self.user, "Maildir")))

    def test_program_stdin_and_environment(self):
        self.write(".postern-x", "| env > env.out; cat > msg.out; cat /proc/$$/status > st.out; echo done\n")
        rc, out = self.run_local(ext="x")
        self.assertEqual(rc, 0, out)
        self.assertEqual(out, "program: done")
        rcpt = "u-x@example.test"
        self.assertEqual(open(os.path.join(self.user, "msg.out"), "rb").read(), RP + dt(rcpt) + MSG)
        env = dict(l.split("=", 1) for l in
                   open(os.path.join(self.user, "env.out")).read().split("\n") if "=" in l)
        want = {"SENDER": "s@x.test", "RECIPIENT": rcpt, "USER": "u", "HOME": self.user,
                "LOCAL": "u-x", "EXT": "x", "HOST": "example.test",
                "POSTERN_HOME": self.home.dir, "RPLINE": "Return-Path: <s@x.test>",
                "DTLINE": "Delivered-To: " + rcpt}
        for k, v in want.items():
            self.assertEqual(env.get(k), v, k)
        # local ignores SIGPIPE for itself; the program gets the default
        sigign = [l for l in open(os.path.join(self.user, "st.out")) if l.startswith("SigIgn:")]
        self.assertEqual(int(sigign[0].split()[1], 16) & (1 << 12), 0, sigign)

    # --- forwards

    def test_forward_one_injection_with_all_addresses(self):
        self.with_queue_inject()
        self.write(".postern", "&a@x.test\n  b@y.test \n# c@z.test\n./Maildir/\n")
        rc, out = self.run_local()
        self.assertEqual(rc, 0, out)
        self.assertTrue(out.startswith("did 1+2+0: "), out)
        self.assertIn("forwarded to 2 addresses: a@x.test b@y.test", out)
        todos, bodies = self.home.files("todo"), self.home.files("body")
        self.assertEqual(len(todos), 1)
        _, sender, rcpts = parse_todo(open(next(iter(todos.values())), "rb").read())
        self.assertEqual(sender, b"s@x.test")
        self.assertEqual(rcpts, [b"a@x.test", b"b@y.test"])
        body = open(next(iter(bodies.values())), "rb").read()
        self.assertTrue(body.startswith(b"Received: (postern "), body)
        self.assertEqual(body.split(b"\n", 1)[1], dt() + MSG)
        self.assertEqual(list(self.maildir().values()), [RP + dt() + MSG])

    def test_alias_forwards_with_null_sender(self):
        self.with_queue_inject()
        self.write(".postern", "./Maildir/\n")  # never read with -a
        rc, out = self.run_local(alias="p@q.test, r@s.test\tt@u.test", sender="")
        self.assertEqual(rc, 0, out)
        _, sender, rcpts = parse_todo(open(next(iter(self.home.files("todo").values())), "rb").read())
        self.assertEqual((sender, rcpts), (b"", [b"p@q.test", b"r@s.test", b"t@u.test"]))
        self.assertFalse(os.path.exists(os.path.join(self.user, "Maildir")))

    def test_forward_without_queue_inject_is_temporary(self):
        self.write(".postern", "&a@x.test\n")
        rc, out = self.run_local()
        self.assertEqual(rc, 111, out)
        self.assertTrue(out.startswith("4."), out)

    def test_forward_refused_permanently(self):
        self.with_queue_inject()
        self.home.control("databytes", "10\n")
        self.write(".postern", "&a@x.test\n")
        self.assertEqual(self.run_local(), (100, "5.3.4 forward failed: queue-inject: message too big"))

    # --- which instruction file

    def test_extension_files_and_defaults(self):
        self.write(".postern-foo", "./Foo/\n")
        self.write(".postern-foo-bar-default", "./FooBar/\n")
        self.write(".postern-baz:qux", "./Dots/\n")
        self.write(".postern-default", "./Default/\n")
        cases = [("foo", "Foo"), ("Foo", "Foo"), ("foo-bar-x", "FooBar"),
                 ("foo-bar-x-y", "FooBar"), ("foo-bar", "Default"), ("zz", "Default"),
                 ("baz.qux", "Dots")]
        for ext, box in cases:
            with self.subTest(ext=ext):
                rc, out = self.run_local(ext=ext)
                self.assertEqual(rc, 0, out)
                self.assertEqual(out.split()[1], "./%s/:" % box)
        self.assertFalse(os.path.exists(os.path.join(self.user, "Maildir")))

    def test_no_file_for_extension_is_permanent(self):
        self.write(".postern", "./Maildir/\n")
        self.write(".postern-foo", "./Foo/\n")
        self.assertEqual(self.run_local(ext="bar"), (100, "5.1.1 no such mailbox: u-bar"))
        self.assertEqual(self.run_local(ext="foo-x"), (100, "5.1.1 no such mailbox: u-foo-x"))
        self.assertFalse(os.path.exists(os.path.join(self.user, "Maildir")))

    def test_world_writable_instructions_are_refused(self):
        self.write(".postern", "|touch ran\n", mode=0o666)
        rc, out = self.run_local()
        self.assertEqual(rc, 111, out)
        self.assertTrue(out.startswith("4.7.0 "), out)
        self.assertFalse(os.path.exists(os.path.join(self.user, "ran")))

    def test_oversize_instruction_file_is_temporary(self):
        self.write(".postern", "# pad\n" * 11000 + "./Maildir/\n")
        rc, out = self.run_local()
        self.assertEqual(rc, 111, out)
        self.assertFalse(os.path.exists(os.path.join(self.user, "Maildir")))

    # --- loops

    def test_delivered_to_loop_is_permanent(self):
        looped = FIRST + b"Delivered-To: U@Example.TEST \n" + MSG[len(FIRST):]
        self.assertEqual(self.run_local(msg=looped),
                         (100, "5.4.6 mail loop: already delivered to u@example.test"))
        self.assertFalse(os.path.exists(os.path.join(self.user, "Maildir")))
        # another address, or the same text in the body, is no loop
        other = FIRST + b"Delivered-To: v@example.test\n" + MSG[len(FIRST):] + b"Delivered-To: u@example.test\n"
        rc, out = self.run_local(msg=other)
        self.assertEqual(rc, 0, out)

    def test_too_many_hops(self):
        def msg(n):  # n Received lines, queue-inject's first one included
            return FIRST + b"Received: from a by b; x\n" * (n - 1) + MSG[len(FIRST):]
        self.assertEqual(self.run_local(msg=msg(101)), (100, "5.4.6 too many hops"))
        self.assertEqual(self.run_local(msg=msg(100))[0], 0)
        self.home.control("maxhops", "3\n")
        self.assertEqual(self.run_local(msg=msg(4)), (100, "5.4.6 too many hops"))
        self.assertEqual(self.run_local(msg=msg(2) + b"Delivered-To: x@y\n")[0], 0)
        hops = FIRST + b"Received: x\nDelivered-To: a@b\nDelivered-To: c@d\n\nbody\n"
        self.assertEqual(self.run_local(msg=hops), (100, "5.4.6 too many hops"))

    def test_forwarding_generations_capped(self):
        """a copy already forwarded control/maxforwards times (Delivered-To
        fields, default 10) is not forwarded again: one bounce"""
        self.with_queue_inject()
        self.write(".postern", "&a@x.test\n")

        def msg(n):
            return FIRST + b"".join(b"Delivered-To: g%d@example.test\n" % i for i in range(n)) + MSG[len(FIRST):]
        self.assertEqual(self.run_local(msg=msg(10)),
                         (100, "5.4.6 not forwarded: the message was forwarded 10 times already "
                               "(control/maxforwards)"))
        self.assertEqual(self.home.files("todo"), {})
        rc, out = self.run_local(msg=msg(9))
        self.assertEqual(rc, 0, out)
        self.assertEqual(len(self.home.files("todo")), 1)
        # aliases too; a Maildir delivery is not a forward
        self.home.control("maxforwards", "2\n")
        self.assertEqual(self.run_local(msg=msg(2), alias="p@q.test")[0], 100)
        self.write(".postern", "./Maildir/\n")
        self.assertEqual(self.run_local(msg=msg(5))[0], 0)
        self.home.control("maxforwards", "two\n")
        self.assertEqual(self.run_local()[0], 111)

    def test_forward_addresses_capped_at_256(self):
        self.with_queue_inject()
        self.write(".postern", "".join(f"&a{i}@x.test\n" for i in range(257)))
        self.assertEqual(self.run_local(),
                         (100, "5.4.6 more than 256 forward addresses in .postern"))
        self.assertEqual(self.home.files("todo"), {})
        self.write(".postern", "".join(f"&a{i}@x.test\n" for i in range(256)))
        rc, out = self.run_local()
        self.assertEqual(rc, 0, out)
        _, _, rcpts = parse_todo(open(next(iter(self.home.files("todo").values())), "rb").read())
        self.assertEqual(len(rcpts), 256)

    def test_bad_maxhops_is_temporary(self):
        self.home.control("maxhops", "many\n")
        rc, out = self.run_local()
        self.assertEqual(rc, 111, out)
        self.assertTrue(out.startswith("4.3.0 unable to read control/maxhops"), out)
        self.assertFalse(os.path.exists(os.path.join(self.user, "Maildir")))

    # --- arguments

    def test_bad_arguments_are_temporary(self):
        p = subprocess.run([LOCAL, "u", self.user], capture_output=True, cwd=self.user,
                           env=self.home.env, stdin=subprocess.DEVNULL)
        self.assertEqual(p.returncode, 111)


if __name__ == "__main__":
    unittest.main()
