"""tlsd as a UCSPI-TLS launcher under tcpserver, in front of a toy
application that speaks a line protocol shaped like SMTP's STARTTLS (so
that openssl s_client -starttls smtp can drive it too): clear text until
STARTTLS, then Y on $SSLCTLFD, the environment block, and the rest over
$SSLREADFD/$SSLWRITEFD. Real clients: Python's ssl and openssl s_client,
with a test CA (tlsfiles.py)."""
import os
import pwd
import shutil
import socket
import ssl
import subprocess
import tempfile
import time
import unittest

import harness
import tlsfiles

TLSD = os.path.join(harness.BIN, "tlsd")

# The application: answers in clear text on fds 0/1; STARTTLS: 220, Y on
# SSLCTLFD, reads the block, then talks over SSLREADFD/SSLWRITEFD.
# ENV: the block's fields; PID: its pid; READ path: can it read the file;
# CLOSE: closes SSLWRITEFD (EOF to the engine) and waits for the client.
APP = r'''
import os, sys
def put(fd, s):
    os.write(fd, s.encode())
def line(fd):
    b = b""
    while not b.endswith(b"\n"):
        c = os.read(fd, 1)
        if not c:
            return None
        b += c
    return b.decode(errors="replace").strip()
env = None
def starttls():
    global env
    ctl = int(os.environ["SSLCTLFD"])
    os.write(ctl, b"Y")
    blk = b""
    while not (blk.endswith(b"\0\0") or blk == b"\0"):
        c = os.read(ctl, 4096)
        if not c:
            sys.exit(1)
        blk += c
    env = [x.decode() for x in blk.split(b"\0") if x]
    return int(os.environ["SSLREADFD"]), int(os.environ["SSLWRITEFD"])
rfd, wfd = 0, 1
if os.environ.get("TOY_IMPLICIT"):
    rfd, wfd = starttls()
put(wfd, "220 toy ready\r\n")
while True:
    l = line(rfd)
    if l is None:
        break
    v = l.split(" ", 1)
    c = v[0].upper()
    if c == "EHLO":
        put(wfd, "250-toy\r\n250 STARTTLS\r\n")
    elif c == "STARTTLS" and env is None:
        put(wfd, "220 go\r\n")
        rfd, wfd = starttls()
    elif c == "ENV":
        put(wfd, "250 " + "|".join(env or []) + "\r\n")
    elif c == "PID":
        put(wfd, "250 %d\r\n" % os.getpid())
    elif c == "READ":
        try:
            open(v[1], "rb").read()
            put(wfd, "250 read\r\n")
        except OSError as e:
            put(wfd, "550 %s\r\n" % e.strerror)
    elif c == "CLOSE":
        put(wfd, "250 closing\r\n")
        os.close(wfd)
        line(rfd)
        break
    elif c == "QUIT":
        put(wfd, "221 bye\r\n")
        break
    else:
        put(wfd, "250 echo " + l + "\r\n")
'''

NAMES = ["default.example.test", "mx.example.test", "other.example.test"]


def ids(pid):
    """a process's (real, effective, saved, fs uids), (the same gids), groups"""
    with open(f"/proc/{pid}/status") as f:
        st = dict(l.split(":", 1) for l in f if ":" in l)
    return ([int(x) for x in st["Uid"].split()], [int(x) for x in st["Gid"].split()],
            st["Groups"].split())


class Client:
    def __init__(self, port):
        self.s = socket.create_connection(("127.0.0.1", port), timeout=30)
        self.f = self.s.makefile("rb")

    def line(self):
        return self.f.readline().decode()

    def cmd(self, text):
        self.s.sendall(text.encode() + b"\r\n")
        return self.line()

    def starttls(self, ctx, name, session=None):
        self.line()  # greeting
        self.assertion = self.cmd("STARTTLS")
        assert self.assertion.startswith("220 go"), self.assertion
        self.s = ctx.wrap_socket(self.s, server_hostname=name, session=session,
                                 suppress_ragged_eofs=False)
        self.f = self.s.makefile("rb")
        return self

    def env(self):
        r = self.cmd("ENV")
        assert r.startswith("250 "), r
        return dict(f.split("=", 1) for f in r[4:].strip().split("|") if f)

    def close(self):
        self.s.close()


class TlsdTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        if not shutil.which("tcpserver") or not shutil.which("openssl"):
            raise unittest.SkipTest("needs tcpserver and openssl")
        cls.tmp = tempfile.mkdtemp(prefix="postern-tlsd-")
        os.chmod(cls.tmp, 0o755)
        cls.certs = os.path.join(cls.tmp, "certs")
        cls.ca = tlsfiles.make_tls_files(cls.certs, NAMES)
        cls.app = os.path.join(cls.tmp, "app.py")
        with open(cls.app, "w") as f:
            f.write(APP)
        os.chmod(cls.app, 0o644)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def setUp(self):
        self.home = tempfile.mkdtemp(prefix="home-", dir=self.tmp)
        os.chmod(self.home, 0o755)
        self.tls = os.path.join(self.home, "tls")
        os.mkdir(self.tls)
        self.install("default.example.test", "default")
        for n in NAMES[1:]:
            self.install(n)
        self.log = os.path.join(self.home, "log")
        self.server = None

    def tearDown(self):
        if self.server:
            harness.kill_session(self.server.pid)
            self.server.wait()

    def install(self, name, as_name=None):
        for ext in ("crt", "key"):
            dst = os.path.join(self.tls, (as_name or name) + "." + ext)
            shutil.copy(os.path.join(self.certs, name + "." + ext), dst + ".tmp")
            os.rename(dst + ".tmp", dst)

    def serve(self, opts=(), tcpopts=(), tlsd=TLSD):
        """tcpserver [tcpopts] running tlsd [opts] python3 app.py on a free port"""
        self.port = harness.free_port()
        self.server = subprocess.Popen(
            ["tcpserver", "-q"] + list(tcpopts) + ["127.0.0.1", str(self.port), tlsd] + list(opts)
            + ["/usr/bin/python3", self.app],
            env=dict(os.environ, POSTERN_HOME=self.home), stderr=open(self.log, "ab"),
            start_new_session=True)

        def up():
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return True
            except OSError:
                return False
        self.assertTrue(harness.wait_for(up, 10))

    def logtext(self):
        with open(self.log, errors="replace") as f:
            return f.read()

    def ctx(self, maxver=None, verify=True):
        c = ssl.create_default_context(cafile=self.ca)
        # a bare TCP EOF must raise SSLEOFError, never read as close_notify
        c.options &= ~ssl.OP_IGNORE_UNEXPECTED_EOF
        if not verify:
            c.check_hostname = False
            c.verify_mode = ssl.CERT_NONE
        if maxver:
            c.maximum_version = maxver
        return c

    def app_and_engine(self, c):
        """the application's pid (it says) and its one child's, the engine"""
        pid = int(c.cmd("PID")[4:])
        engines = harness.children(pid)
        self.assertEqual([harness.comm(p) for p in engines], ["tlsd"])
        return pid, engines[0]

    def der(self, name):
        with open(os.path.join(self.certs, name + ".crt")) as f:
            return ssl.PEM_cert_to_DER_cert(f.read())

    def test_clear_text_then_tls13_with_env_block(self):
        self.serve()
        c = Client(self.port)
        self.assertTrue(c.line().startswith("220 toy"))
        self.assertEqual(c.cmd("EHLO me"), "250-toy\r\n")
        self.assertEqual(c.line(), "250 STARTTLS\r\n")
        self.assertEqual(c.cmd("hello in clear"), "250 echo hello in clear\r\n")
        self.assertTrue(c.cmd("STARTTLS").startswith("220 go"))
        c.s = self.ctx().wrap_socket(c.s, server_hostname="mx.example.test", suppress_ragged_eofs=False)
        c.f = c.s.makefile("rb")
        self.assertEqual(c.s.version(), "TLSv1.3")
        env = c.env()
        self.assertEqual(env["SSL_PROTOCOL"], "TLSv1.3")
        self.assertEqual(env["SSL_CIPHER"], c.s.cipher()[0])
        self.assertEqual(env["SSL_CIPHER_BITS"], str(c.s.cipher()[2]))
        self.assertEqual(env["SSL_TLS_SNI_SERVERNAME"], "mx.example.test")
        self.assertNotIn("SSL_SESSION_REUSED", env)
        big = "x" * 60000  # several records, more than one relay buffer
        self.assertEqual(c.cmd(big), "250 echo " + big + "\r\n")
        self.assertEqual(c.cmd("QUIT"), "221 bye\r\n")
        # the application's EOF: close_notify (a bare TCP close would raise
        # SSLEOFError here: see ctx())
        self.assertEqual(c.s.recv(100), b"")
        c.close()

    def test_tls12_accepted(self):
        self.serve()
        c = Client(self.port).starttls(self.ctx(ssl.TLSVersion.TLSv1_2), "mx.example.test")
        self.assertEqual(c.s.version(), "TLSv1.2")
        env = c.env()
        self.assertEqual(env["SSL_PROTOCOL"], "TLSv1.2")
        self.assertEqual(env["SSL_CIPHER"], c.s.cipher()[0])
        c.close()

    def s_client(self, *args):
        """openssl s_client -starttls smtp against the toy; (exit code, output)"""
        p = subprocess.run(["openssl", "s_client", "-connect", f"127.0.0.1:{self.port}",
                            "-starttls", "smtp", "-CAfile", self.ca, "-servername", "mx.example.test"]
                           + list(args), input=b"QUIT\r\n", capture_output=True, timeout=60)
        return p.returncode, (p.stdout + p.stderr).decode(errors="replace")

    def test_tls10_and_11_refused_by_the_server(self):
        self.serve()
        code, out = self.s_client("-tls1_2")
        self.assertEqual(code, 0, out)
        self.assertIn("Protocol  : TLSv1.2", out)
        self.assertIn("Verify return code: 0 (ok)", out)
        code, out = self.s_client("-tls1_3")
        self.assertEqual(code, 0, out)
        self.assertIn("TLSv1.3", out)
        # SECLEVEL=0: the client would speak 1.0 and 1.1, so a refusal is the server's
        for opt in ("-tls1_1", "-tls1"):
            with self.subTest(opt=opt):
                before = self.logtext().count("tlsd: handshake failed: ")
                code, out = self.s_client(opt, "-cipher", "DEFAULT:@SECLEVEL=0")
                self.assertNotEqual(code, 0, out)
                self.assertNotIn("Cipher is ECDHE", out)
                self.assertTrue(harness.wait_for(
                    lambda: self.logtext().count("tlsd: handshake failed: ") > before, 10), self.logtext())

    def test_sni_picks_the_keypair(self):
        self.serve()
        for name in ("mx.example.test", "other.example.test"):
            with self.subTest(name=name):
                c = Client(self.port).starttls(self.ctx(), name)
                self.assertEqual(c.s.getpeercert(binary_form=True), self.der(name))
                self.assertEqual(c.env()["SSL_TLS_SNI_SERVERNAME"], name)
                c.close()
        # a name no keypair has: the default one
        c = Client(self.port).starttls(self.ctx(verify=False), "unknown.example.test")
        self.assertEqual(c.s.getpeercert(binary_form=True), self.der("default.example.test"))
        c.close()

    def test_renewed_default_certificate_served_next_connection(self):
        self.serve()
        c = Client(self.port).starttls(self.ctx(verify=False), None)
        old = c.s.getpeercert(binary_form=True)
        self.assertEqual(old, self.der("default.example.test"))
        self.assertNotIn("SSL_TLS_SNI_SERVERNAME", c.env())  # no SNI sent, none reported
        c.close()
        renewed = os.path.join(self.home, "renewed")
        shutil.copytree(self.certs, renewed)
        tlsfiles.make_tls_files(renewed, ["default.example.test"])
        for ext in ("crt", "key"):
            shutil.copy(os.path.join(renewed, "default.example.test." + ext),
                        os.path.join(self.tls, "default." + ext))
        c = Client(self.port).starttls(self.ctx(), "default.example.test")
        new = c.s.getpeercert(binary_form=True)
        self.assertNotEqual(new, old)
        with open(os.path.join(renewed, "default.example.test.crt")) as f:
            self.assertEqual(new, ssl.PEM_cert_to_DER_cert(f.read()))
        c.close()

    def resume(self, maxver):
        """two connections, the second offering the first's session"""
        ctx = self.ctx(maxver)
        c1 = Client(self.port).starttls(ctx, "mx.example.test")
        c1.env()  # a round trip: the TLS 1.3 tickets have arrived
        session = c1.s.session
        self.assertEqual(c1.cmd("QUIT"), "221 bye\r\n")
        c1.close()
        c2 = Client(self.port).starttls(ctx, "mx.example.test", session=session)
        env = c2.env()
        reused = c2.s.session_reused
        c2.close()
        return reused, env

    def test_resumption_across_engines_with_ticketkey(self):
        with open(os.path.join(self.tls, "ticketkey"), "wb") as f:
            f.write(os.urandom(48))
        self.serve()
        for v in (ssl.TLSVersion.TLSv1_3, ssl.TLSVersion.TLSv1_2):
            with self.subTest(version=v):
                reused, env = self.resume(v)
                self.assertTrue(reused)
                self.assertEqual(env.get("SSL_SESSION_REUSED"), "1")

    def test_no_resumption_without_ticketkey(self):
        self.serve()
        for v in (ssl.TLSVersion.TLSv1_3, ssl.TLSVersion.TLSv1_2):
            with self.subTest(version=v):
                reused, env = self.resume(v)
                self.assertFalse(reused)
                self.assertNotIn("SSL_SESSION_REUSED", env)

    def test_application_eof_ends_engine_with_close_notify(self):
        self.serve()
        c = Client(self.port).starttls(self.ctx(), "mx.example.test")
        _, engine = self.app_and_engine(c)
        self.assertEqual(c.cmd("CLOSE"), "250 closing\r\n")
        self.assertEqual(c.s.recv(100), b"")  # close_notify, not a bare EOF
        self.assertTrue(harness.wait_for(lambda: harness.proc_stat(engine) is None, 10))
        c.close()

    def test_session_without_starttls_ends_with_the_application(self):
        self.serve()
        c = Client(self.port)
        c.line()
        _, engine = self.app_and_engine(c)
        self.assertEqual(c.cmd("QUIT"), "221 bye\r\n")
        self.assertEqual(c.s.recv(100), b"")
        self.assertTrue(harness.wait_for(lambda: harness.proc_stat(engine) is None, 10))
        self.assertNotIn("tlsd:", self.logtext())
        c.close()

    def test_stalled_handshake_dropped_after_timeout(self):
        self.serve(["-t", "2"])
        c = Client(self.port)
        c.line()
        self.assertTrue(c.cmd("STARTTLS").startswith("220 go"))
        start = time.monotonic()
        c.s.settimeout(60)
        self.assertEqual(c.s.recv(100), b"")  # no ClientHello sent: dropped
        took = time.monotonic() - start
        self.assertGreater(took, 1.5)
        self.assertLess(took, 30)
        self.assertIn("tlsd: handshake failed: timed out", self.logtext())
        c.close()

    def test_missing_default_keypair_fails_the_session_only(self):
        os.unlink(os.path.join(self.tls, "default.key"))
        self.serve()
        c = Client(self.port)
        c.line()
        self.assertTrue(c.cmd("STARTTLS").startswith("220 go"))
        # the engine exits 111 without a block: the application gives up
        self.assertEqual(c.s.recv(100), b"")
        self.assertTrue(harness.wait_for(lambda: "no usable default keypair" in self.logtext(), 10),
                        self.logtext())
        c.close()

    @unittest.skipUnless(os.getuid() == 0, "needs root")
    def test_root_engine_under_tls_account_application_cannot_read_key(self):
        tls = pwd.getpwnam(harness.users()["tls"])
        nobody = pwd.getpwnam("nobody")
        for n in os.listdir(self.tls):
            p = os.path.join(self.tls, n)
            os.chown(p, tls.pw_uid, tls.pw_gid)
            os.chmod(p, 0o400 if n.endswith(".key") else 0o644)
        self.serve(["-U", str(tls.pw_uid), "-G", str(tls.pw_gid),
                    "-u", str(nobody.pw_uid), "-g", str(nobody.pw_gid)])
        c = Client(self.port).starttls(self.ctx(), "mx.example.test")
        self.assertEqual(c.env()["SSL_TLS_SNI_SERVERNAME"], "mx.example.test")
        pid, engine = self.app_and_engine(c)
        self.assertEqual(ids(engine), ([tls.pw_uid] * 4, [tls.pw_gid] * 4, [str(tls.pw_gid)]))
        self.assertEqual(ids(pid), ([nobody.pw_uid] * 4, [nobody.pw_gid] * 4, [str(nobody.pw_gid)]))
        key = os.path.join(self.tls, "default.key")
        self.assertEqual(c.cmd("READ " + key), "550 Permission denied\r\n")
        self.assertEqual(c.cmd("QUIT"), "221 bye\r\n")
        c.close()

    @unittest.skipUnless(os.getuid() == 0, "needs root")
    def test_setuid_engine_takes_tls_account_and_compiled_home(self):
        """installed as mkhome.sh does (setuid to the tls account, 4710),
        run by another account: the engine is the tls account wholly, the
        application the caller wholly, and POSTERN_HOME is ignored (the
        test programs' compiled home is build/testhome)"""
        suid_src = os.path.join(harness.TEST_BIN, "tlsd")
        self.assertTrue(os.path.exists(suid_src), "make testbins first")
        tls = pwd.getpwnam(harness.users()["tls"])
        nobody = pwd.getpwnam("nobody")
        suid = os.path.join(self.home, "tlsd")
        shutil.copy(suid_src, suid)
        os.chown(suid, tls.pw_uid, nobody.pw_gid)
        os.chmod(suid, 0o4710)
        compiled = os.path.join(harness.TESTHOME, "tls")
        made = not os.path.exists(harness.TESTHOME)
        os.makedirs(compiled, exist_ok=True)
        self.addCleanup(shutil.rmtree, harness.TESTHOME if made else compiled, True)
        os.chmod(harness.TESTHOME, 0o755)
        os.chmod(os.path.dirname(harness.TESTHOME), 0o755)
        # the compiled home's default: other.example.test's pair; POSTERN_HOME's: default.example.test's
        for ext, mode in (("crt", 0o644), ("key", 0o400)):
            p = os.path.join(compiled, "default." + ext)
            shutil.copy(os.path.join(self.certs, "other.example.test." + ext), p)
            os.chown(p, tls.pw_uid, tls.pw_gid)
            os.chmod(p, mode)
        self.serve(tcpopts=["-u", str(nobody.pw_uid), "-g", str(nobody.pw_gid)], tlsd=suid)
        c = Client(self.port).starttls(self.ctx(verify=False), None)
        self.assertEqual(c.s.getpeercert(binary_form=True), self.der("other.example.test"))
        pid, engine = self.app_and_engine(c)
        self.assertEqual(ids(engine)[:2], ([tls.pw_uid] * 4, [nobody.pw_gid] * 4))
        self.assertEqual(ids(pid)[:2], ([nobody.pw_uid] * 4, [nobody.pw_gid] * 4))
        self.assertEqual(c.cmd("READ " + os.path.join(compiled, "default.key")),
                         "550 Permission denied\r\n")
        self.assertEqual(c.cmd("QUIT"), "221 bye\r\n")
        c.close()


if __name__ == "__main__":
    unittest.main()
