"""STARTTLS and submission on a whole instance, as an operator and a
mail client see them (issue 16): build/testhome laid out by
src/install/instance.py as `make run` lays out ./run (a self-signed
certificate, the demo login, the services smtpd, submission and smtps),
run under an s6-svscan of its own on free ports. Real clients: Python's
smtplib (starttls + login on submission, SMTP_SSL on smtps), swaks,
openssl s_client. As root: the key is the tls account's alone, smtpd's
workers run as the smtpd account and cannot read it, tlsd and checkpw
are setuid as mkhome.sh says. QuickStartFilesTest checks the quick
start's pieces (certificate, ticket key, demo password) on a home of its
own, without starting anything; InstallScriptsTest what control.sh and
services.sh give a real install."""
import base64
import mailbox
import os
import pwd
import shutil
import smtplib
import socket
import ssl
import stat
import subprocess
import sys
import tempfile
import time
import unittest

import harness
from harness import wait_for

INSTANCE = os.path.join(harness.TOP, "src", "install", "instance.py")
INSTALL = os.path.join(harness.TOP, "src", "install")
HOME = harness.TESTHOME
SCAN = os.path.join(HOME, "service")
ROOT = os.getuid() == 0
LOGIN = "demo@example.test"
LISTENERS = ("smtpd", "submission", "smtps")


instance = harness.instance_py


def svstat(svc):
    p = subprocess.run(["s6-svstat", "-o", "up,pid", os.path.join(SCAN, svc)],
                       capture_output=True, text=True)
    if p.returncode:
        return None
    up, pid = p.stdout.split()
    return {"up": up == "true", "pid": int(pid)}


def status_ids(pid):
    """{'Uid': [real, effective, saved, fs], 'Gid': [...]} of a process"""
    out = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            k, _, v = line.partition(":")
            if k in ("Uid", "Gid"):
                out[k] = [int(x) for x in v.split()]
    return out


def processes_of(path):
    """the pids running the program at path"""
    found = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            try:
                if os.readlink(f"/proc/{d}/exe") == path:
                    found.append(int(d))
            except OSError:
                pass
    return found


def can_open_as(path, pw):
    """whether account pw can open path for reading (tried in a child
    switched wholly to that account)"""
    pid = os.fork()
    if pid == 0:
        try:
            os.setgroups([])
            os.setgid(pw.pw_gid)
            os.setuid(pw.pw_uid)
            try:
                os.close(os.open(path, os.O_RDONLY))
                os._exit(0)
            except PermissionError:
                os._exit(1)
        except BaseException:
            os._exit(2)
    _, st = os.waitpid(pid, 0)
    code = os.waitstatus_to_exitcode(st)
    if code == 2:
        raise AssertionError("the child could not become " + pw.pw_name)
    return code == 0


def checkpassword(prog, home, login, password):
    """runs a checkpassword program as smtpd does: `prog /bin/true`, fd 3
    carrying login NUL password NUL timestamp NUL; its exit code"""
    r, w = os.pipe()
    os.write(w, login.encode() + b"\0" + password.encode() + b"\0" + b"<1.2@example.test>\0")
    os.close(w)
    try:
        p = subprocess.run([prog, "/bin/true"], pass_fds=(r,), stdin=subprocess.DEVNULL,
                           capture_output=True, env=dict(os.environ, POSTERN_HOME=home),
                           preexec_fn=lambda: os.dup2(r, 3), timeout=60)
    finally:
        os.close(r)
    return p.returncode


def s_client(port, *opts):
    """openssl s_client -starttls smtp to 127.0.0.1:port: (exit code, output)"""
    p = subprocess.run(["openssl", "s_client", "-starttls", "smtp", "-connect", f"127.0.0.1:{port}",
                        "-servername", "localhost", *opts], input="QUIT\n",
                       capture_output=True, text=True, timeout=60)
    return p.returncode, p.stdout + p.stderr


class Running(unittest.TestCase):
    """the whole instance, up for the class"""

    @classmethod
    def setUpClass(cls):
        cls.port, cls.subport, cls.smtpsport = harness.fresh_instance(3)
        cls.started = instance("start", HOME, check=False)
        if cls.started.returncode:
            instance("stop", HOME, check=False)
            raise AssertionError(f"instance.py start: exit {cls.started.returncode}\n"
                                 f"{cls.started.stdout}{cls.started.stderr}{cls.logs()}")
        cls.maildir = os.path.join(HOME, "mail", "demo", "Maildir")
        with open(os.path.join(HOME, "demo-password")) as f:
            cls.password = f.readline().strip()

    @classmethod
    def tearDownClass(cls):
        instance("stop", HOME, check=False)

    @classmethod
    def logs(cls):
        out = ""
        for svc in LISTENERS:
            try:
                with open(os.path.join(HOME, "log", svc, "current"), errors="replace") as f:
                    out += f"\n--- log/{svc}:\n" + f.read()[-1500:]
            except OSError:
                pass
        return out

    def setUp(self):
        self.tag = f"sub{os.getpid()}x{time.time_ns()}"

    def message(self, n=1):
        return (f"From: {LOGIN}\r\nTo: {LOGIN}\r\nSubject: [{self.tag} {n}]\r\n"
                f"Message-ID: <{self.tag}.{n}@example.test>\r\n\r\nbody of {self.tag} {n}\r\n")

    def landed(self, subject_part, timeout=60):
        """the one message of the demo Maildir whose Subject holds
        subject_part, waited for"""
        def find():
            try:
                md = mailbox.Maildir(self.maildir, create=False)
                return [m for m in md if subject_part in (m["Subject"] or "")]
            except (FileNotFoundError, mailbox.Error):
                return []
        found = wait_for(find, timeout, 0.2)
        self.assertEqual(len(found), 1, f"{subject_part}: {len(found or [])} messages" + self.logs())
        return found[0]

    def assertAuthenticated(self, m):
        """smtpd's Received field (the one of its SMTP session, below
        queue-inject's) says ESMTPSA, the TLS protocol, and names the
        login"""
        smtp = [r for r in m.get_all("Received") if " with ESMTP" in r or " with SMTP" in r]
        self.assertEqual(len(smtp), 1, m.get_all("Received"))
        received = smtp[0]
        self.assertIn("with ESMTPSA", received, received)
        self.assertIn(LOGIN, received, received)
        self.assertRegex(received, r"TLSv1\.[23]", received)

    def smtp(self, port, tls=False):
        s = smtplib.SMTP("127.0.0.1", port, timeout=30)
        s.ehlo("client.example.test")
        if tls:
            s.starttls(context=harness.tls_client(HOME))
            s.ehlo("client.example.test")
        return s


class SubmissionTest(Running):
    def test_starttls_then_login_on_submission_delivers(self):
        with self.smtp(self.subport) as s:
            self.assertTrue(s.has_extn("starttls"), s.esmtp_features)
            self.assertFalse(s.has_extn("auth"), "AUTH offered before TLS")
            s.starttls(context=harness.tls_client(HOME))
            s.ehlo("client.example.test")
            self.assertFalse(s.has_extn("starttls"), "STARTTLS offered again inside TLS")
            methods = s.esmtp_features.get("auth", "").upper().split()
            self.assertIn("PLAIN", methods)
            self.assertIn("LOGIN", methods)
            s.login(LOGIN, self.password)
            self.assertEqual(s.sendmail(LOGIN, [LOGIN], self.message()), {})
        self.assertAuthenticated(self.landed(self.tag))
        # the login is in the submission service's log
        self.assertTrue(wait_for(lambda: LOGIN in self.logs(), 10), self.logs())

    def test_smtps_login_delivers(self):
        # the certificate the instance made names localhost: checked here
        ctx = harness.tls_client(HOME, check_hostname=True)
        with smtplib.SMTP_SSL("localhost", self.smtpsport, timeout=30, context=ctx) as s:
            s.ehlo("client.example.test")
            self.assertFalse(s.has_extn("starttls"), s.esmtp_features)
            self.assertIn("PLAIN", s.esmtp_features.get("auth", "").upper())
            s.login(LOGIN, self.password)
            self.assertEqual(s.sendmail(LOGIN, [LOGIN], self.message()), {})
            self.assertIn(s.sock.version(), ("TLSv1.2", "TLSv1.3"))
        self.assertAuthenticated(self.landed(self.tag))

    def test_swaks_auth_plain_and_login(self):
        for method in ("PLAIN", "LOGIN"):
            with self.subTest(method=method):
                subject = f"{self.tag} {method}"
                p = subprocess.run(["swaks", "--server", f"127.0.0.1:{self.subport}", "--tls",
                                    "--auth", method, "--auth-user", LOGIN,
                                    "--auth-password", self.password, "--from", LOGIN,
                                    "--to", LOGIN, "--header", f"Subject: {subject}"],
                                   capture_output=True, text=True, timeout=120)
                self.assertEqual(p.returncode, 0, p.stdout[-3000:] + p.stderr)
                self.assertIn("235 ", p.stdout)
                self.assertAuthenticated(self.landed(subject))

    def test_the_printed_swaks_line_works(self):
        """instance.py demo prints the login and a swaks line (README):
        run as printed, from the checkout, it submits"""
        p = instance("demo", HOME)
        line = [ln.strip() for ln in p.stdout.splitlines() if ln.strip().startswith("swaks ")]
        self.assertEqual(len(line), 1, p.stdout)
        self.assertEqual(line[0], f"swaks --server 127.0.0.1:{self.subport} --tls --auth PLAIN "
                                  f"--auth-user {LOGIN} --auth-password \"$(cat build/testhome/demo-password)\" "
                                  f"--to {LOGIN}")
        self.assertIn(self.password, p.stdout)
        q = subprocess.run(["sh", "-c", line[0] + f" --header 'Subject: {self.tag}'"],
                           cwd=harness.TOP, capture_output=True, text=True, timeout=120)
        self.assertEqual(q.returncode, 0, q.stdout[-3000:] + q.stderr)
        self.assertAuthenticated(self.landed(self.tag))

    def test_no_auth_before_starttls(self):
        """on submission and on smtpd's port: AUTH neither offered nor
        taken in clear text"""
        plain = base64.b64encode(f"\0{LOGIN}\0{self.password}".encode()).decode()
        for port in (self.subport, self.port):
            with self.subTest(port=port):
                with self.smtp(port) as s:
                    self.assertTrue(s.has_extn("starttls"), s.esmtp_features)
                    self.assertFalse(s.has_extn("auth"), s.esmtp_features)
                    code, text = s.docmd("AUTH", "PLAIN " + plain)
                    self.assertGreaterEqual(code, 500, text)
                    code, text = s.docmd("AUTH", "LOGIN")
                    self.assertGreaterEqual(code, 500, text)

    def test_submission_wants_auth_before_mail(self):
        with self.smtp(self.subport) as s:
            code, text = s.mail(LOGIN)
            self.assertEqual(code, 530, text)
        with self.smtp(self.subport, tls=True) as s:
            code, text = s.mail(LOGIN)
            self.assertEqual(code, 530, text)
            self.assertIn(b"5.7.0", text)
            # nothing in this session relays or delivers
            s.login(LOGIN, self.password)
            self.assertEqual(s.mail(LOGIN)[0], 250)
            # authenticated: relaying allowed, whatever the client's address
            code, text = s.rcpt("someone@elsewhere.example")
            self.assertEqual(code, 250, text)
            s.rset()

    def test_wrong_password_535(self):
        with self.smtp(self.subport, tls=True) as s:
            with self.assertRaises(smtplib.SMTPAuthenticationError) as cm:
                s.login(LOGIN, self.password + "x")
            self.assertEqual(cm.exception.smtp_code, 535)
            code, text = s.mail(LOGIN)
            self.assertEqual(code, 530, text)

    def test_openssl_s_client_tls12_tls13_not_tls11(self):
        for port in (self.port, self.subport):
            for version in ("-tls1_2", "-tls1_3"):
                with self.subTest(port=port, version=version):
                    rc, out = s_client(port, version)
                    self.assertEqual(rc, 0, out[-3000:])
                    self.assertRegex(out, rf"New, TLSv1\.{version[-1]}, Cipher is (?!\(NONE\))")
                    self.assertRegex(out, r"subject=\s*CN\s*=\s*example\.test")
            with self.subTest(port=port, version="-tls1_1"):
                # the client allows TLS 1.1 with weak ciphers: a failure is
                # the server's refusal (see the control below)
                rc, out = s_client(port, "-tls1_1", "-cipher", "DEFAULT:@SECLEVEL=0")
                self.assertNotEqual(rc, 0, out[-3000:])
                self.assertNotRegex(out, r"Cipher is (?!\(NONE\))")

    def test_control_s_client_speaks_tls11_to_a_server_that_allows_it(self):
        """the refusal above is the server's: the same client options
        succeed against openssl s_server allowing TLS 1.1"""
        port = harness.free_port()
        key = os.path.join(tempfile.mkdtemp(prefix="postern-key-"), "k.pem")
        self.addCleanup(shutil.rmtree, os.path.dirname(key), True)
        shutil.copy(os.path.join(HOME, "tls", "default.key"), key)
        srv = subprocess.Popen(["openssl", "s_server", "-accept", f"127.0.0.1:{port}", "-naccept", "1",
                                "-cert", os.path.join(HOME, "tls", "default.crt"), "-key", key,
                                "-cipher", "ALL:@SECLEVEL=0", "-quiet"],
                               stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            # a probe connection would use the one accept: wait for the bind instead
            self.assertTrue(wait_for(lambda: f":{port:04X} " in open("/proc/net/tcp").read(), 20))
            p = subprocess.run(["openssl", "s_client", "-connect", f"127.0.0.1:{port}", "-tls1_1",
                                "-cipher", "DEFAULT:@SECLEVEL=0"], input="", capture_output=True,
                               text=True, timeout=60)
            self.assertIn("Protocol  : TLSv1.1", p.stdout)
            self.assertNotIn("Cipher is (NONE)", p.stdout)
        finally:
            srv.kill()
            srv.wait()

    def test_a_renewed_certificate_counts_from_the_next_connection(self):
        """what INSTALL tells an operator: new files in tls/ (key first),
        no restart, the next connection gets them"""
        tls = os.path.join(HOME, "tls")
        before = ssl.DER_cert_to_PEM_cert(self.served_cert())
        tmp = tempfile.mkdtemp(prefix="postern-renew-")
        self.addCleanup(shutil.rmtree, tmp, True)
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                        "-nodes", "-days", "30", "-subj", "/CN=example.test",
                        "-addext", "subjectAltName=DNS:example.test,DNS:localhost",
                        "-keyout", os.path.join(tmp, "k"), "-out", os.path.join(tmp, "c")],
                       check=True, capture_output=True)
        key, crt = os.path.join(tls, "default.key"), os.path.join(tls, "default.crt")
        st = os.stat(key)
        shutil.copy(os.path.join(tmp, "k"), key + ".new")
        os.chmod(key + ".new", 0o400)
        os.chown(key + ".new", st.st_uid, st.st_gid)
        os.rename(key + ".new", key)
        shutil.copy(os.path.join(tmp, "c"), crt + ".new")
        os.chmod(crt + ".new", 0o644)
        os.rename(crt + ".new", crt)
        with open(crt) as f:
            renewed = f.read()
        self.assertNotEqual(before, renewed)
        self.assertEqual(ssl.DER_cert_to_PEM_cert(self.served_cert()), renewed)
        # and submission works with it (the test context trusts the new file)
        with self.smtp(self.subport, tls=True) as s:
            s.login(LOGIN, self.password)

    def served_cert(self):
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        with socket.create_connection(("127.0.0.1", self.smtpsport), timeout=30) as raw:
            with ctx.wrap_socket(raw) as s:
                return s.getpeercert(binary_form=True)

    def test_services_and_their_rules(self):
        for svc in ("submission", "smtps"):
            with self.subTest(svc=svc):
                st = svstat(svc)
                self.assertTrue(st and st["up"], st)
                self.assertTrue((svstat(svc + "/log") or {}).get("up"))
                self.assertTrue(os.path.isfile(os.path.join(HOME, "log", svc, "current")))
                with open(f"/proc/{st['pid']}/cmdline", "rb") as f:
                    args = f.read().split(b"\0")
                self.assertIn(b"control/tcp.submission.cdb", args)
                port = self.subport if svc == "submission" else self.smtpsport
                self.assertIn(str(port).encode(), args)
                with open(f"/proc/{st['pid']}/environ", "rb") as f:
                    env = f.read().split(b"\0")
                self.assertIn(b"SUBMISSION=1", env)
                self.assertEqual(b"SMTPS=1" in env, svc == "smtps")
        with open(os.path.join(HOME, "control", "tcp.submission")) as f:
            self.assertNotIn("RELAYCLIENT", f.read())

    @unittest.skipUnless(ROOT, "the accounts need root")
    def test_only_tlsd_reads_the_key(self):
        u = harness.users()
        tls, smtpd, auth = (pwd.getpwnam(u[r]) for r in ("tls", "smtpd", "auth"))
        key = os.path.join(HOME, "tls", "default.key")
        for f, owner, mode in (("tls/default.key", tls, 0o400), ("tls/ticketkey", tls, 0o400),
                               ("tls/default.crt", None, 0o644)):
            with self.subTest(file=f):
                st = os.stat(os.path.join(HOME, f))
                self.assertEqual(stat.S_IMODE(st.st_mode), mode)
                if owner:
                    self.assertEqual(st.st_uid, owner.pw_uid)
        for prog, owner in (("tlsd", tls), ("checkpw", auth)):
            with self.subTest(prog=prog):
                st = os.stat(os.path.join(HOME, "bin", prog))
                self.assertEqual(stat.S_IMODE(st.st_mode), 0o4710)
                self.assertEqual(st.st_uid, owner.pw_uid)
                self.assertEqual(st.st_gid, smtpd.pw_gid)
        # an open TLS session on submission: its worker and its engine
        with self.smtp(self.subport, tls=True) as s:
            s.login(LOGIN, self.password)
            workers = processes_of(os.path.join(HOME, "bin", "smtpd"))
            self.assertTrue(workers)
            for pid in workers:
                ids = status_ids(pid)
                self.assertEqual(set(ids["Uid"]), {smtpd.pw_uid}, pid)
            engines = processes_of(os.path.join(HOME, "bin", "tlsd"))
            self.assertTrue(engines, "no tlsd runs for an open TLS session")
            for pid in engines:
                self.assertEqual(status_ids(pid)["Uid"][:2], [tls.pw_uid, tls.pw_uid], pid)
            # forked by the tls service's daemon, not started by smtpd:
            # OpenSSL was set up once, in the daemon
            daemon = [p for p in engines if ppid(p) not in engines]
            self.assertEqual(len(daemon), 1, engines)
            for pid in engines:
                if pid != daemon[0]:
                    self.assertEqual(ppid(pid), daemon[0], pid)
        self.assertFalse(can_open_as(key, smtpd), "the smtpd account can read the key")
        self.assertFalse(can_open_as(os.path.join(HOME, "auth", "passwords.cdb"), smtpd))
        self.assertTrue(can_open_as(key, tls), "the tls account cannot read the key")


def ppid(pid):
    with open(f"/proc/{pid}/stat") as f:
        return int(f.read().rsplit(")", 1)[1].split()[1])


def setup_home(home, *ports):
    return subprocess.run([sys.executable, INSTANCE, "setup", home, harness.BIN, *map(str, ports)],
                          capture_output=True, text=True, timeout=300)


class QuickStartFilesTest(unittest.TestCase):
    """instance.py setup into a home of its own (build/bin programs,
    which honour POSTERN_HOME when not setuid): nothing is started"""

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="postern-qs-")
        os.chmod(self.tmp, 0o755)
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.home = os.path.join(self.tmp, "home")
        p = setup_home(self.home, 2525, 2587, 2465)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.out = p.stdout

    def path(self, *p):
        return os.path.join(self.home, *p)

    def read(self, *p, mode="r"):
        with open(self.path(*p), mode) as f:
            return f.read()

    def test_certificate(self):
        crt = self.path("tls", "default.crt")
        p = subprocess.run(["openssl", "x509", "-in", crt, "-noout", "-ext", "subjectAltName",
                            "-subject"], capture_output=True, text=True, check=True)
        self.assertRegex(p.stdout, r"DNS:example\.test, DNS:localhost")
        self.assertRegex(p.stdout, r"subject=\s*CN\s*=\s*example\.test")
        # valid now, still in 800 days, not in 830
        for secs, rc in ((0, 0), (800 * 86400, 0), (830 * 86400, 1)):
            with self.subTest(checkend=secs):
                self.assertEqual(subprocess.run(["openssl", "x509", "-in", crt, "-noout", "-checkend",
                                                 str(secs)], capture_output=True).returncode, rc)
        # the key is the certificate's
        pub = subprocess.run(["openssl", "x509", "-in", crt, "-noout", "-pubkey"],
                             capture_output=True, check=True).stdout
        keypub = subprocess.run(["openssl", "pkey", "-in", self.path("tls", "default.key"), "-pubout"],
                                capture_output=True, check=True).stdout
        self.assertEqual(pub, keypub)
        self.assertEqual(stat.S_IMODE(os.stat(crt).st_mode), 0o644)
        self.assertEqual(stat.S_IMODE(os.stat(self.path("tls", "default.key")).st_mode), 0o400)
        if ROOT:
            tls = pwd.getpwnam(harness.users()["tls"])
            self.assertEqual(os.stat(self.path("tls", "default.key")).st_uid, tls.pw_uid)
            self.assertEqual(os.stat(self.path("tls", "ticketkey")).st_uid, tls.pw_uid)

    def test_ticket_key(self):
        st = os.stat(self.path("tls", "ticketkey"))
        self.assertEqual(stat.S_IMODE(st.st_mode), 0o400)
        self.assertGreaterEqual(st.st_size, 48)
        other = os.path.join(self.tmp, "other")
        self.assertEqual(setup_home(other, 2525, 2587, 2465).returncode, 0)
        self.assertNotEqual(self.read("tls", "ticketkey", mode="rb"),
                            open(os.path.join(other, "tls", "ticketkey"), "rb").read())

    def test_ports(self):
        self.assertEqual(self.read("control", "smtpdport"), "2525\n")
        self.assertEqual(self.read("control", "submissionport"), "2587\n")
        self.assertEqual(self.read("control", "smtpsport"), "2465\n")
        # a test instance naming no ports gets free ones, never 587 and 465
        other = os.path.join(self.tmp, "other")
        self.assertEqual(setup_home(other, 2525).returncode, 0)
        for name in ("submissionport", "smtpsport"):
            with open(os.path.join(other, "control", name)) as f:
                self.assertNotIn(f.read().strip(), ("587", "465", "2587", "2465"))

    def test_demo_password_works_with_checkpw(self):
        pwfile = self.path("demo-password")
        st = os.stat(pwfile)
        self.assertEqual(stat.S_IMODE(st.st_mode), 0o600)
        self.assertEqual(st.st_uid, os.getuid())
        password = self.read("demo-password").strip()
        self.assertGreaterEqual(len(password), 16)
        self.assertIn(password, self.out)
        # never in clear text in the password table
        self.assertNotIn(password.encode(), self.read("auth", "passwords", mode="rb"))
        self.assertIn(b"demo@example.test $y$", self.read("auth", "passwords", mode="rb"))
        checkpw = os.path.join(harness.BIN, "checkpw")
        self.assertEqual(checkpassword(checkpw, self.home, LOGIN, password), 0)
        self.assertEqual(checkpassword(checkpw, self.home, LOGIN, password + "x"), 1)
        self.assertEqual(checkpassword(checkpw, self.home, "nobody@example.test", password), 1)

    def test_setup_again_keeps_certificate_ticket_key_and_password(self):
        files = ("tls/default.crt", "tls/default.key", "tls/ticketkey", "demo-password",
                 "auth/passwords.cdb")
        before = {f: self.read(f, mode="rb") for f in files}
        p = setup_home(self.home, 2525, 2587, 2465)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertEqual({f: self.read(f, mode="rb") for f in files}, before)
        self.assertNotIn("password", p.stdout)

    def test_submission_services_laid_out_and_up(self):
        for svc in ("submission", "smtps"):
            with self.subTest(svc=svc):
                run = self.read("service", svc, "run")
                self.assertIn("SUBMISSION=1", run)
                self.assertEqual("SMTPS=1" in run, svc == "smtps")
                self.assertIn(f"POSTERN_HOME={self.home}\n", run)
                self.assertIn('"$POSTERN_HOME/bin/smtpd" -w', run)
                self.assertTrue(os.access(self.path("service", svc, "log", "run"), os.X_OK))
                self.assertIn(f"{self.home}/log/{svc}", self.read("service", svc, "log", "run"))
                # the certificate was there: nothing keeps them down
                self.assertFalse(os.path.exists(self.path("service", svc, "down")))


class InstallScriptsTest(unittest.TestCase):
    """what make install's scripts give a real home: control defaults
    for submission, and services kept down until there is a certificate"""

    def setUp(self):
        self.tmp = tempfile.mkdtemp(prefix="postern-inst-")
        os.chmod(self.tmp, 0o755)
        self.addCleanup(shutil.rmtree, self.tmp, True)
        self.home = os.path.join(self.tmp, "home")
        subprocess.run(["sh", os.path.join(INSTALL, "mkhome.sh"), self.home, harness.BIN], check=True,
                       capture_output=True)

    def test_control_defaults(self):
        subprocess.run(["sh", os.path.join(INSTALL, "control.sh"), self.home], check=True,
                       capture_output=True, env=dict(os.environ, ADMIN="nobody"))
        c = os.path.join(self.home, "control")
        for name, text in (("submissionport", "587\n"), ("smtpsport", "465\n"),
                           ("tcp.submission", ":allow\n")):
            with self.subTest(name=name), open(os.path.join(c, name)) as f:
                self.assertEqual(f.read(), text)
        # compiled: the rules any address gets carry no RELAYCLIENT
        self.assertTrue(os.path.isfile(os.path.join(c, "tcp.submission.cdb")))
        p = subprocess.run(["cdb", "-d", os.path.join(c, "tcp.submission.cdb")], capture_output=True)
        self.assertEqual(p.returncode, 0)
        self.assertNotIn(b"RELAYCLIENT", p.stdout)

    def test_services_down_without_a_certificate(self):
        sh = os.path.join(INSTALL, "services.sh")
        subprocess.run(["sh", sh, self.home], check=True, capture_output=True)
        svc = os.path.join(self.home, "service")
        self.assertEqual(sorted(d for d in os.listdir(svc)),
                         ["queue-writer", "send", "smtpd", "smtps", "submission", "tlsd"])
        for name in ("submission", "smtps"):
            self.assertTrue(os.path.exists(os.path.join(svc, name, "down")), name)
            self.assertTrue(os.path.isdir(os.path.join(self.home, "log", name)))
        self.assertFalse(os.path.exists(os.path.join(svc, "smtpd", "down")))
        # installed again, the operator's choice stays: down until removed
        subprocess.run(["sh", sh, self.home], check=True, capture_output=True)
        self.assertTrue(os.path.exists(os.path.join(svc, "submission", "down")))
        # a home that has its certificate gets them up from the start
        other = os.path.join(self.tmp, "other")
        subprocess.run(["sh", os.path.join(INSTALL, "mkhome.sh"), other], check=True, capture_output=True)
        open(os.path.join(other, "tls", "default.crt"), "w").close()
        subprocess.run(["sh", sh, other], check=True, capture_output=True)
        self.assertFalse(os.path.exists(os.path.join(other, "service", "submission", "down")))


if __name__ == "__main__":
    unittest.main()
