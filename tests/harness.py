"""Shared by the tests: a fresh postern home in a temporary directory,
built by the same src/install/mkhome.sh an install uses, and helpers
to drive the real programs in it."""
import os
import shutil
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
