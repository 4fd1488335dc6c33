"""Shared by the tests: a fresh postern home in a temporary directory,
built by the same src/install/mkhome.sh an install uses, and helpers
to drive the real programs in it."""
import os
import shutil
import signal
import subprocess
import tempfile

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(TOP, "build", "bin")
UNIT = os.path.join(TOP, "build", "unit")
SPLIT = int(open(os.path.join(TOP, "conf-split")).readline())
TREES = ("body", "todo", "intake", "state")


def users():
    """conf-users as {role: account}"""
    out = {}
    for line in open(os.path.join(TOP, "conf-users")):
        w = line.split()
        if not w:
            break
        out[w[0]] = w[1]
    return out


def envelope(sender, rcpts):
    """the qmail-queue envelope: F sender NUL, T rcpt NUL each, NUL"""
    def b(x):
        return x if isinstance(x, bytes) else x.encode()
    return b"F" + b(sender) + b"\0" + b"".join(b"T" + b(r) + b"\0" for r in rcpts) + b"\0"


class Home:
    def __init__(self, prefix="postern-test-"):
        self.dir = tempfile.mkdtemp(prefix=prefix)
        subprocess.run(["sh", os.path.join(TOP, "src/install/mkhome.sh"), self.dir],
                       check=True)
        self.env = dict(os.environ, POSTERN_HOME=self.dir)

    def cleanup(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def path(self, *p):
        return os.path.join(self.dir, *p)

    def control(self, name, text):
        with open(self.path("control", name), "w") as f:
            f.write(text)

    def inject(self, message, env, prog=None, wrap=(), timeout=60):
        """runs queue-inject with message on fd 0 and env on fd 1;
        returns (exit code, stderr text)"""
        r, w = os.pipe()
        # a pipe holds 64 KiB: write big envelopes from a thread-free child
        if len(env) <= 65536:
            os.write(w, env)
            os.close(w)
            writer = None
        else:
            writer = os.fork()
            if writer == 0:
                os.close(r)
                try:
                    os.write(w, env)
                finally:
                    os._exit(0)
            os.close(w)
        try:
            p = subprocess.run(list(wrap) + [prog or os.path.join(BIN, "queue-inject")],
                               input=message, stdout=r, stderr=subprocess.PIPE,
                               env=self.env, timeout=timeout)
        finally:
            os.close(r)
            if writer:
                os.waitpid(writer, 0)
        return p.returncode, p.stderr.decode(errors="replace")

    def files(self, tree):
        """{id: path} of the files in a queue tree"""
        out = {}
        base = self.path("queue", tree)
        for sub in os.listdir(base):
            if not os.path.isdir(os.path.join(base, sub)):
                continue  # record's lock in queue/state
            for name in os.listdir(os.path.join(base, sub)):
                out[name] = os.path.join(base, sub, name)
        return out

    def all_files(self):
        """every regular file under queue/ (the trigger FIFO aside)"""
        found = []
        for root, _, names in os.walk(self.path("queue")):
            for n in names:
                p = os.path.join(root, n)
                if os.path.isfile(p):
                    found.append(p)
        return found


def parse_todo(data):
    """a todo file: info fields (u uid, p pid) then the envelope; returns
    (info dict, sender, [recipients])"""
    fields = data.split(b"\0")
    info, i = {}, 0
    while fields[i][:1] in (b"u", b"p"):
        info[fields[i][:1].decode()] = fields[i][1:].decode()
        i += 1
    assert fields[i][:1] == b"F", data
    sender = fields[i][1:]
    rcpts = []
    i += 1
    while fields[i]:
        assert fields[i][:1] == b"T", data
        rcpts.append(fields[i][1:])
        i += 1
    return info, sender, rcpts


TESTHOME = os.path.join(TOP, "build", "testhome")
TEST_BIN = os.path.join(TOP, "build", "test", "bin")
TEST_ACCOUNT = "postern-test"


def ensure_account(name, home):
    """as root: a system account for recipients, its home made here"""
    if subprocess.run(["id", "-u", name], capture_output=True).returncode:
        subprocess.run(["useradd", "--system", "--user-group", "--no-create-home",
                        "--home-dir", home, "--shell", "/usr/sbin/nologin", name], check=True)
    import pwd
    return pwd.getpwnam(name)


class Instance:
    """A whole postern home at build/testhome, run by the build/test/bin
    programs (their compiled-in home is that directory, so even the
    setuid queue-inject writes there). As root it has the accounts of
    conf-users, owners and modes of a real install."""

    def __init__(self, home=TESTHOME, bindir=TEST_BIN):
        """another home needs programs that honour POSTERN_HOME there:
        build/bin, with queue-inject run directly (not setuid)"""
        self.dir = home
        self.root = os.getuid() == 0
        self.send = None
        self.sessions = []  # send-start's sessions (pids), killed at cleanup
        self.old = []       # send-starts left to finish (kill9)
        self.logpath = home.rstrip("/") + ".log"
        if os.path.exists(self.logpath):
            os.unlink(self.logpath)
        if os.path.exists(self.dir):
            shutil.rmtree(self.dir)
        subprocess.run(["sh", os.path.join(TOP, "src/install/mkhome.sh"), self.dir, bindir],
                       check=True)
        if home != TESTHOME:
            # a setuid copy would write conf-home's queue, not this one
            os.chmod(os.path.join(self.dir, "bin", "queue-inject"), 0o755)
        self.env = dict(os.environ, POSTERN_HOME=self.dir)
        self.bin = os.path.join(self.dir, "bin")
        os.chmod(os.path.dirname(self.dir), 0o755)
        self.control("retrybase", "1\n")
        self.control("statusinterval", "1\n")
        # remote recipients never reach the real DNS: nothing answers on
        # this port, so a lookup fails at once (a test sets its own server)
        self.control("dnsservers", "127.0.0.1:1\n")
        self.control("timeoutdns", "2\n")

    def path(self, *p):
        return os.path.join(self.dir, *p)

    def control(self, name, text):
        with open(self.path("control", name), "w") as f:
            f.write(text)

    def table(self, name, text):
        self.control(name, text)
        subprocess.run([os.path.join(self.bin, "table-compile"), self.path("control", name)],
                       check=True)

    def mailbox_user(self, name):
        """a recipient: its home under mail/<name>, owned by the test
        account when root (the caller otherwise); returns (uid, gid, home)"""
        home = self.path("mail", name)
        os.makedirs(home, exist_ok=True)
        os.chmod(self.path("mail"), 0o755)
        if self.root:
            pw = ensure_account(TEST_ACCOUNT, home)
            uid, gid = pw.pw_uid, pw.pw_gid
            os.chown(home, uid, gid)
        else:
            uid, gid = os.getuid(), os.getgid()
        return uid, gid, home

    def users(self, entries):
        """users table: {name: (uid, gid, home)}"""
        acct = TEST_ACCOUNT if self.root else str(os.getuid())
        self.table("users", "".join(f"{n} {acct}:{u}:{g}:{h}\n" for n, (u, g, h) in entries.items()))

    def write_as(self, path, text, uid, mode=0o644):
        with open(path, "w") as f:
            f.write(text)
        os.chmod(path, mode)
        if self.root:
            os.chown(path, uid, -1)

    def inject(self, message, env):
        """the installed queue-inject (setuid when root)"""
        r, w = os.pipe()
        os.write(w, env)
        os.close(w)
        try:
            p = subprocess.run([os.path.join(self.bin, "queue-inject")], input=message,
                               stdout=r, stderr=subprocess.PIPE, env=self.env, timeout=60)
        finally:
            os.close(r)
        return p.returncode, p.stderr.decode(errors="replace")

    def start(self):
        """send-start, which starts send and its children (send-start(8)):
        self.send is send-start, the service's process, as s6 sees it"""
        self.logfile = open(self.logpath, "ab")
        self.send = subprocess.Popen([os.path.join(self.bin, "send-start")], stdout=self.logfile,
                                     stderr=subprocess.STDOUT, env=self.env,
                                     start_new_session=True, stdin=subprocess.DEVNULL)
        self.sessions.append(self.send.pid)
        return self.send

    def log(self):
        with open(self.logpath, "rb") as f:
            return f.read().decode(errors="replace")

    def stop(self, timeout=60):
        """SIGTERM, as s6-svc -d: returns send-start's exit code (send's)"""
        if not self.send:
            return None
        self.send.send_signal(15)
        try:
            rc = self.send.wait(timeout)
        finally:
            self._reap()
        return rc

    def send_pid(self, name="send"):
        """the pid of send-start's child running name (send, lspawn...)"""
        return wait_for(lambda: next((p for p in children(self.send.pid) if comm(p) == name), None), 10)

    def kill9(self, name="send"):
        """kill -9 of send alone (or of one of its children); the others
        see EOF and finish, and send-start exits once they have"""
        pid = self.send_pid(name)
        os.kill(pid, 9)
        if name == "send":
            self.old.append(self.send)
            self.send = None

    def _reap(self):
        if self.send:
            try:
                os.killpg(self.send.pid, 9)
            except ProcessLookupError:
                pass
            self.send.wait()
            self.send = None

    def cleanup(self):
        if self.send and self.send.poll() is None:
            self.send.send_signal(15)
            try:
                self.send.wait(20)
            except subprocess.TimeoutExpired:
                pass
        self._reap()
        # leftovers of a killed run: every process of the sessions we
        # started (a delivery is in a process group of its own)
        for sid in self.sessions:
            kill_session(sid)
        for p in self.old:
            p.wait()
        if getattr(self, "logfile", None):
            self.logfile.close()

    def queue_files(self):
        """every message file under queue/ (record's lock aside)"""
        found = []
        for root, _, names in os.walk(self.path("queue")):
            for n in names:
                p = os.path.join(root, n)
                if os.path.isfile(p) and n != "lock":
                    found.append(p)
        return found


def comm(pid):
    """a process's command name, or None if it is gone"""
    try:
        with open(f"/proc/{pid}/comm") as f:
            return f.read().strip()
    except OSError:
        return None


def proc_stat(pid):
    """(parent pid, session id) of a live process, None if it is gone
    (or a zombie: its parent reaps it)"""
    try:
        with open(f"/proc/{pid}/stat") as f:
            w = f.read().rsplit(")", 1)[1].split()
        return None if w[0] == "Z" else (int(w[1]), int(w[3]))
    except (OSError, ValueError, IndexError):
        return None


def children(pid):
    """the pids whose parent is pid"""
    out = []
    for d in os.listdir("/proc"):
        if d.isdigit():
            st = proc_stat(d)
            if st and st[0] == pid:
                out.append(int(d))
    return out


def session_pids(sid):
    """the live processes of session sid"""
    return [int(d) for d in os.listdir("/proc") if d.isdigit() and (proc_stat(d) or (0, 0))[1] == sid]


def kill_session(sid):
    """SIGKILL to every process of session sid (a session we started with
    start_new_session: its leader's pid), until none is left"""
    for _ in range(50):
        found = session_pids(sid)
        if not found:
            return
        for p in found:
            try:
                os.kill(p, 9)
            except ProcessLookupError:
                pass
        import time
        time.sleep(0.1)


def free_port(host="127.0.0.1"):
    """a TCP port nothing listens on now, on host (IPv4 or IPv6)"""
    import socket
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(fam) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


INSTANCE_PY = os.path.join(TOP, "src", "install", "instance.py")


def instance_py(*args, check=True, timeout=300):
    """runs src/install/instance.py (setup, start, stop), as make run does"""
    import sys
    p = subprocess.run([sys.executable, INSTANCE_PY, *args], capture_output=True, text=True,
                       timeout=timeout, cwd=TOP)
    if check and p.returncode:
        raise AssertionError(f"instance.py {' '.join(args)}: exit {p.returncode}\n{p.stdout}{p.stderr}")
    return p


def fresh_instance(nports=1):
    """the test home stopped, removed and set up anew, not started: its
    SMTP port, then (nports 3) the submission and smtps ports, all free
    and distinct; returns them"""
    instance_py("stop", TESTHOME, check=False)
    if os.path.exists(TESTHOME):
        shutil.rmtree(TESTHOME)
    ports = []
    while len(ports) < nports:
        p = free_port()
        if p not in ports:
            ports.append(p)
    instance_py("setup", TESTHOME, TEST_BIN, *map(str, ports))
    return ports


class HAProxy:
    """Debian's haproxy -db on 127.0.0.1:self.port in front of
    127.0.0.1:backend, its server line ending with option (send-proxy,
    send-proxy-v2, ...); a port taken meanwhile is tried again"""

    def __init__(self, backend, option):
        self.dir = tempfile.mkdtemp(prefix="postern-haproxy-")
        self.proc = None
        self.log = None
        for _ in range(5):
            self.port = free_port()
            cfg = os.path.join(self.dir, "haproxy.cfg")
            with open(cfg, "w") as f:
                f.write(f"""global
    maxconn 200
defaults
    mode tcp
    timeout connect 5s
    timeout client 60s
    timeout server 60s
frontend smtp
    bind 127.0.0.1:{self.port}
    default_backend nodes
backend nodes
    server s1 127.0.0.1:{backend} {option}
""")
            self.log = open(os.path.join(self.dir, "log"), "ab")
            self.proc = subprocess.Popen(["haproxy", "-f", cfg, "-db"], stdin=subprocess.DEVNULL,
                                         stdout=self.log, stderr=subprocess.STDOUT,
                                         start_new_session=True)
            if wait_for(self._listening, 10) and self.proc.poll() is None:
                return
            self.stop()
        with open(os.path.join(self.dir, "log"), errors="replace") as f:
            raise RuntimeError("haproxy did not start: " + f.read())

    def _listening(self):
        """its socket in LISTEN (0A) in /proc/net/tcp, found without
        connecting (a connection would be relayed); or it exited"""
        if self.proc.poll() is not None:
            return True
        with open("/proc/net/tcp") as f:
            return any(line.split()[1] == "0100007F:%04X" % self.port and line.split()[3] == "0A"
                       for line in f.readlines()[1:])

    def smtp(self, source):
        import smtplib
        return smtplib.SMTP("127.0.0.1", self.port, local_hostname="client.test",
                            source_address=(source, 0), timeout=20)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                os.kill(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        self.proc = None
        if self.log:
            self.log.close()
            self.log = None

    def cleanup(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)



def wait_for(cond, timeout, step=0.1):
    """polls cond() until true or timeout seconds; returns its last value"""
    import time
    end = time.monotonic() + timeout
    while True:
        v = cond()
        if v or time.monotonic() > end:
            return v
        time.sleep(step)


def maildir_count(path):
    n = 0
    for sub in ("new", "cur"):
        try:
            n += len(os.listdir(os.path.join(path, sub)))
        except FileNotFoundError:
            pass
    return n


def tls_client(home, check_hostname=False):
    """a client TLS context that trusts home's tls/default.crt (the
    instance's self-signed certificate) and nothing else"""
    import ssl
    ctx = ssl.create_default_context(cafile=os.path.join(home, "tls", "default.crt"))
    ctx.check_hostname = check_hostname
    return ctx
