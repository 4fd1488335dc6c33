"""The install steps of the service section on homes of their own:
src/install/control.sh (control defaults, an operator's files kept,
tables compiled) and src/install/services.sh (service directories with
the home and accounts filled in, log directories), and the smtpd run
script it makes, run for real: smtpd-listen on the control files'
address, port and limits, as the smtpd account, RELAYCLIENT from
tcp.smtp."""
import os
import pwd
import re
import shutil
import signal
import socket
import stat
import subprocess
import tempfile
import time
import unittest

import harness
from harness import wait_for

INSTALL = os.path.join(harness.TOP, "src", "install")
# smtpd -w's side of smtpd-listen(8): a connection and its variables per
# message on fd 0, "d" back when the session is over
WORKER = """import os, socket
ctl = socket.socket(fileno=0)
while True:
    msg, fds, _, _ = socket.recv_fds(ctl, 4096, 1)
    if not msg:
        break
    v = dict(x.split("=", 1) for x in msg.decode().split("\\0") if x)
    line = (f"220 uid={os.getuid()} groups={' '.join(map(str, os.getgroups()))} "
            f"ip={v['TCPREMOTEIP']} relay={v.get('RELAYCLIENT', 'unset')} "
            f"home={os.environ['POSTERN_HOME']}\\n")
    os.write(fds[0], line.encode())
    os.close(fds[0])
    ctl.send(b"d")
"""
ROOT = os.getuid() == 0


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class InstallTest(unittest.TestCase):
    def setUp(self):
        self.home = tempfile.mkdtemp(prefix="postern-install-")
        subprocess.run(["sh", os.path.join(INSTALL, "mkhome.sh"), self.home, harness.BIN], check=True)
        self.procs = []

    def tearDown(self):
        for p in self.procs:
            if p.poll() is None:
                p.kill()
                p.wait()
        shutil.rmtree(self.home, ignore_errors=True)

    def path(self, *p):
        return os.path.join(self.home, *p)

    def read(self, *p):
        with open(self.path(*p)) as f:
            return f.read()

    def write(self, name, text):
        with open(self.path("control", name), "w") as f:
            f.write(text)

    def script(self, name, *args):
        return subprocess.run(["sh", os.path.join(INSTALL, name), *args], capture_output=True,
                              text=True)

    def mtimes(self, *dirs):
        out = {}
        for d in dirs:
            for root, _, names in os.walk(self.path(d)):
                for n in names:
                    p = os.path.join(root, n)
                    out[p] = os.stat(p).st_mtime_ns
        return out

    def test_control_defaults_keep_the_operators_files(self):
        self.write("me", "mx.example.org\n")
        self.write("smtpdport", "2600\n")
        p = self.script("control.sh", self.home)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(self.read("control", "me"), "mx.example.org\n")
        self.assertEqual(self.read("control", "smtpdport"), "2600\n")
        self.assertEqual(self.read("control", "locals"), "mx.example.org\n")
        self.assertEqual(self.read("control", "rcpthosts"), "mx.example.org\n")
        self.assertEqual(self.read("control", "smtpdaddress"), "0.0.0.0\n")
        self.assertEqual(self.read("control", "concurrencyincoming"), "40\n")
        self.assertEqual(self.read("control", "tcp.smtp"), '127.0.0.1:allow,RELAYCLIENT=""\n:allow\n')
        for t in ("locals", "rcpthosts"):
            q = subprocess.run(["cdb", "-q", self.path("control", t + ".cdb"), "mx.example.org"],
                               capture_output=True)
            self.assertEqual(q.returncode, 0, t)
        self.assertTrue(os.path.isfile(self.path("control", "tcp.smtp.cdb")))
        # again: nothing changes
        before = self.mtimes("control")
        p = self.script("control.sh", self.home)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(self.mtimes("control"), before)
        # an edited table is compiled again
        self.write("rcpthosts", "mx.example.org\nother.example.org\n")
        future = time.time() + 10
        os.utime(self.path("control", "rcpthosts"), (future, future))
        self.assertEqual(self.script("control.sh", self.home).returncode, 0)
        q = subprocess.run(["cdb", "-q", self.path("control", "rcpthosts.cdb"), "other.example.org"],
                           capture_output=True)
        self.assertEqual(q.returncode, 0)

    def test_aliases_send_root_mailer_daemon_abuse_postmaster_to_a_person(self):
        env = dict(os.environ, ADMIN="alice")
        p = subprocess.run(["sh", os.path.join(INSTALL, "control.sh"), self.home], env=env,
                           capture_output=True, text=True)
        self.assertEqual(p.returncode, 0, p.stderr)
        for name in ("root", "postmaster", "MAILER-DAEMON", "abuse"):
            q = subprocess.run(["cdb", "-q", self.path("control", "aliases.cdb"), name.lower()],
                               capture_output=True, text=True)
            self.assertEqual(q.stdout, "alice", name)
        # an operator's file is kept
        self.write("aliases", "root bob\n")
        env["ADMIN"] = "carol"
        self.assertEqual(subprocess.run(["sh", os.path.join(INSTALL, "control.sh"), self.home],
                                        env=env, capture_output=True).returncode, 0)
        self.assertEqual(self.read("control", "aliases"), "root bob\n")

    def test_aliases_default_to_the_first_persons_account(self):
        env = {k: v for k, v in os.environ.items() if k != "ADMIN"}
        p = subprocess.run(["sh", os.path.join(INSTALL, "control.sh"), self.home], env=env,
                           capture_output=True, text=True)
        self.assertEqual(p.returncode, 0, p.stderr)
        people = sorted((pw.pw_uid, pw.pw_name) for pw in pwd.getpwall() if 1000 <= pw.pw_uid < 60000)
        if people:
            self.assertIn(f"MAILER-DAEMON {people[0][1]}\n", self.read("control", "aliases"))
        else:
            self.assertFalse(os.path.exists(self.path("control", "aliases")))
            self.assertIn("ADMIN=name", p.stderr)

    def test_services_filled_in_and_idempotent(self):
        p = self.script("services.sh", self.home)
        self.assertEqual(p.returncode, 0, p.stderr)
        u = harness.users()
        for svc in ("send", "smtpd", "queue-writer"):
            for f in ("run", "log/run"):
                with self.subTest(svc=svc, f=f):
                    path = self.path("service", svc, f)
                    text = self.read("service", svc, f)
                    self.assertEqual(stat.S_IMODE(os.stat(path).st_mode), 0o755)
                    self.assertNotRegex(text, r"@[A-Z_]+@", "a placeholder is left")
                    self.assertIn(self.home, text)
                    self.assertEqual(subprocess.run(["sh", "-n", path]).returncode, 0)
            d = self.path("log", svc)
            self.assertEqual(stat.S_IMODE(os.stat(d).st_mode), 0o750)
            log = self.read("service", svc, "log", "run")
            self.assertIn(f"{self.home}/bin/cyclog {self.home}/log/{svc}", log)
            if ROOT:
                self.assertIn(f"s6-setuidgid {u['log']} ", log)
                self.assertEqual(pwd.getpwuid(os.stat(d).st_uid).pw_name, u["log"])
            else:
                self.assertNotIn("s6-setuidgid", log)
        self.assertEqual(self.read("service", "send", "notification-fd"), "3\n")
        self.assertIn("POSTERN_NOTIFY_FD=3", self.read("service", "send", "run"))
        # the service's process is send-start, as root: send itself never is
        self.assertRegex(self.read("service", "send", "run"), rf"\nexec {re.escape(self.home)}/bin/send-start\n")
        self.assertEqual(self.read("service", "queue-writer", "notification-fd"), "3\n")
        qw = self.read("service", "queue-writer", "run")
        self.assertIn("POSTERN_NOTIFY_FD=3", qw)
        self.assertIn(f"{self.home}/bin/queue-writer", qw)
        if ROOT:
            self.assertIn(f"exec s6-setuidgid {u['queue']} {self.home}/bin/queue-writer", qw)
        else:
            self.assertNotIn("s6-setuidgid", qw)
        smtpd = self.read("service", "smtpd", "run")
        if ROOT:
            pw = pwd.getpwnam(u["smtpd"])
            self.assertIn(f"-u {pw.pw_uid} -g {pw.pw_gid} ", smtpd)
        else:
            self.assertNotIn("-u ", smtpd)
        # again, over a supervised tree: nothing changes, supervise/ stays
        os.makedirs(self.path("service", "send", "supervise"))
        open(self.path("service", "send", "supervise", "status"), "w").close()
        before = self.mtimes("service")
        p = self.script("services.sh", self.home)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(self.mtimes("service"), before)

    def test_home_must_be_absolute_and_plain(self):
        for bad in ("relative/home", self.home + "/with space", self.home + "/a|b"):
            with self.subTest(home=bad):
                p = self.script("services.sh", bad)
                self.assertEqual(p.returncode, 100, p.stderr)
                self.assertFalse(os.path.exists(os.path.join(bad, "service")))

    def test_smtpd_run_script_runs_the_listener_as_configured(self):
        port = free_port()
        self.write("me", "example.test\n")
        self.write("smtpdaddress", "127.0.0.1\n")
        self.write("smtpdport", f"{port}\n")
        self.write("concurrencyincoming", "7\n")
        self.write("smtpdsessions", "3\n")
        self.write("smtpdperip", "4\n")
        self.assertEqual(self.script("control.sh", self.home).returncode, 0)
        self.assertEqual(self.script("services.sh", self.home).returncode, 0)
        shutil.copy(os.path.join(harness.BIN, "smtpd-listen"), self.path("bin", "smtpd-listen"))
        # a stand-in for smtpd -w that says who and where it is: it takes
        # each connection and its variables as smtpd-listen(8) hands them
        with open(self.path("bin", "smtpd"), "w") as f:
            f.write("#!/usr/bin/python3\n" + WORKER)  # not a pyenv under /root
        os.chmod(self.path("bin", "smtpd"), 0o755)
        out = open(self.path("smtpd.out"), "wb")
        p = subprocess.Popen([self.path("service", "smtpd", "run")], cwd=self.path("service", "smtpd"),
                             stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT,
                             start_new_session=True)
        out.close()
        self.procs.append(p)

        def greet(source):
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=5,
                                              source_address=(source, 0)) as c:
                    data = b""
                    while not data.endswith(b"\n"):
                        chunk = c.recv(512)
                        if not chunk:
                            break
                        data += chunk
                    return data.decode().split()
            except OSError:
                return None
        trusted = wait_for(lambda: greet("127.0.0.1"), 10)
        self.assertTrue(trusted, self.read("smtpd.out"))
        fields = dict(w.split("=", 1) for w in trusted[1:])
        self.assertEqual(fields["ip"], "127.0.0.1")
        self.assertEqual(fields["relay"], "")
        self.assertEqual(fields["home"], self.home)
        stranger = dict(w.split("=", 1) for w in greet("127.0.0.2")[1:])
        self.assertEqual(stranger["ip"], "127.0.0.2")
        self.assertEqual(stranger["relay"], "unset")
        if ROOT:
            pw = pwd.getpwnam(harness.users()["smtpd"])
            self.assertEqual(fields["uid"], str(pw.pw_uid))
            self.assertEqual(fields["groups"], str(pw.pw_gid))
        with open(f"/proc/{p.pid}/cmdline", "rb") as f:
            args = f.read().split(b"\0")
        self.assertEqual(os.path.basename(args[0]), b"smtpd-listen")
        self.assertEqual(args[args.index(b"-c") + 1], b"7")
        self.assertEqual(args[args.index(b"-n") + 1], b"3")
        # the per-address limits: the operator's, and the defaults
        self.assertEqual([args[args.index(o) + 1] for o in (b"-C", b"-N", b"-M")], [b"4", b"20", b"20"])
        self.assertEqual(args[-3:-1], [self.path("bin", "smtpd").encode(), b"-w"])
        self.assertIn(b"127.0.0.1", args)
        self.assertIn(str(port).encode(), args)
        os.kill(p.pid, signal.SIGTERM)
        p.wait(10)
        log = self.read("smtpd.out")
        self.assertRegex(log, r"smtpd-listen: ok \d+ ")


if __name__ == "__main__":
    unittest.main()
