"""lspawn: job records in on fd 0, result records out on fd 1, and how
local is run for each recipient. A stand-in shell script as
home/bin/local records its arguments (argv[0] aside: the kernel
gives a script's interpreter the script's path), ids, cwd, environment, descriptors and
the message it got, and behaves as its local name asks (exitN, sleep,
big, multi, quiet, kill), so lspawn is tested on its own."""
import os
import pwd
import select
import shutil
import subprocess
import tempfile
import time
import unittest

import harness
from harness import Home

LSPAWN = os.path.join(harness.BIN, "lspawn")
COMPILE = os.path.join(harness.BIN, "table-compile")
ROOT = os.getuid() == 0
# ids a users.cdb entry maps to; no passwd entry needed
UID, GID = 4242, 4243
# created with useradd --system when root, for the getpwnam and alias tests
ACCOUNT = "postern-lspawn-t"
MSGID = "0000000100000002.4242"
BODY = b"Received: (postern 1 invoked by uid 0); x\nSubject: hi\n\nhello\n"

STANDIN = r"""#!/bin/sh
all="$*"
argc=$#
args=$(printf '%s\n' "$@")
[ "$1" = -a ] && shift 2
case "$3" in *lite*) echo "stand-in ran for $3" ; exit 0 ;; esac
out="$POSTERN_HOME/out/$3"
mkdir "$out" || exit 111
ls -l /proc/$$/fd > "$out/fds"
printf '%s\n' "$args" > "$out/args"
echo "$argc" > "$out/argc"
id -u > "$out/uid"
id -g > "$out/gid"
id -G > "$out/groups"
pwd > "$out/cwd"
env > "$out/env"
grep '^SigIgn:' /proc/$$/status > "$out/sigign"
cat > "$out/body"
case "$3" in *sleep*) sleep 1 ;; esac
case "$3" in *big*) head -c 200000 /dev/zero | tr '\0' x ;; esac
case "$3" in *stderr*) echo "to stderr" >&2 ;; esac
case "$3" in *multi*) printf 'line one\nline two\n\n' ;; esac
case "$3" in *kill*) kill -9 $$ ;; esac
case "$3" in *quiet*) ;; *) echo "stand-in ran for $3" ;; esac
code=$(echo "$3" | sed -n 's/.*exit\([0-9]*\).*/\1/p')
exit ${code:-0}
"""


def body_path(home, msgid):
    h = 2166136261
    for c in msgid.encode():
        h = ((h ^ c) * 16777619) & 0xFFFFFFFF
    return home.path("queue", "body", str(h % harness.SPLIT), msgid)


def ensure_account(home):
    """the test account, its home set to home (a directory it owns)"""
    if subprocess.run(["id", "-u", ACCOUNT], capture_output=True).returncode:
        subprocess.run(["useradd", "--system", "-M", "-d", home, "-s", "/usr/sbin/nologin",
                        ACCOUNT], check=True)
    else:
        subprocess.run(["usermod", "-d", home, ACCOUNT], check=True)
    pw = pwd.getpwnam(ACCOUNT)
    os.chown(home, pw.pw_uid, pw.pw_gid)
    return pw


class Lspawn:
    """lspawn driven over its pipes with framed records"""

    def __init__(self, env):
        # as root, supplementary groups the children must not keep
        extra = {"extra_groups": [0, 4244]} if ROOT else {}
        self.p = subprocess.Popen([LSPAWN], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, env=env, **extra)
        self.buf = b""

    def send(self, data):
        self.p.stdin.write(data)
        self.p.stdin.flush()

    def job(self, jobid, rcpts, sender="sender@example.org", msgid=MSGID):
        """rcpts: [(address, localname)]"""
        rec = b"J%s\0M%s\0F%s\0" % (jobid.encode(), msgid.encode(), sender.encode())
        for addr, local in rcpts:
            rec += b"T%s\0L%s\0" % (addr.encode(), local.encode())
        self.send(rec + b"\0")

    def result(self, timeout=10):
        """the next result record: (job id, [(letter, text)])"""
        deadline = time.monotonic() + timeout
        while b"\0\0" not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([self.p.stdout], [], [], left)[0]:
                raise AssertionError(f"no result within {timeout}s: {self.buf!r}")
            data = os.read(self.p.stdout.fileno(), 65536)
            if not data:
                raise AssertionError(f"lspawn closed fd 1: {self.buf!r}")
            self.buf += data
        rec, self.buf = self.buf.split(b"\0\0", 1)
        fields = rec.split(b"\0")
        assert fields[0][:1] == b"J", rec
        return (fields[0][1:].decode(),
                [(f[:1].decode(), f[1:].decode(errors="replace")) for f in fields[1:]])

    def close(self, timeout=10):
        """EOF on fd 0; returns (exit code, rest of fd 1, fd 2)"""
        self.p.stdin.close()
        rest = self.p.stdout.read()
        rc = self.p.wait(timeout)
        err = self.p.stderr.read().decode(errors="replace")
        self.p.stdout.close()
        self.p.stderr.close()
        return rc, self.buf + rest, err

    def kill(self):
        if self.p.poll() is None:
            self.p.kill()
            self.p.wait()
        for f in (self.p.stdin, self.p.stdout, self.p.stderr):
            if not f.closed:
                f.close()


class LspawnTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        for p in (LSPAWN, COMPILE):
            if not os.access(p, os.X_OK):
                raise AssertionError(f"{p} missing: run make")

    def setUp(self):
        self.home = Home()
        self.tmp = tempfile.mkdtemp(prefix="postern-lspawn-")
        os.chmod(self.tmp, 0o755)
        os.makedirs(self.home.path("out"))
        os.chmod(self.home.path("out"), 0o1777)
        with open(self.home.path("bin", "local"), "w") as f:
            f.write(STANDIN)
        os.chmod(self.home.path("bin", "local"), 0o755)
        # the stand-in knows no worker mode: every delivery one-shot, the
        # path these tests check (test_lspawn_workers.py has the workers)
        self.home.control("localworkers", "0\n")
        with open(body_path(self.home, MSGID), "wb") as f:
            f.write(BODY)
        # root: only lspawn, opening it as root, lets the recipient read it
        os.chmod(body_path(self.home, MSGID), 0o600)
        # the home every users.cdb entry below points to
        self.uhome = os.path.join(self.tmp, "u")
        os.mkdir(self.uhome)
        if ROOT:
            os.chown(self.uhome, UID, GID)
            self.account = ensure_account(self.mkdir("account"))
        else:
            self.account = pwd.getpwuid(os.getuid())
        self.users({"alice": "alice", "bob": "bob", "bob-x": "bobx"})
        self.env = {"POSTERN_HOME": self.home.dir, "PATH": "/usr/bin:/bin"}
        self.ls = None

    def tearDown(self):
        if self.ls:
            self.ls.kill()
        self.home.cleanup()
        shutil.rmtree(self.tmp, ignore_errors=True)

    def mkdir(self, name):
        d = os.path.join(self.tmp, name)
        os.mkdir(d)
        return d

    def table(self, name, lines):
        with open(self.home.path("control", name), "w") as f:
            f.write("".join(f"{k} {v}\n" for k, v in lines.items()))
        p = subprocess.run([COMPILE, self.home.path("control", name)], capture_output=True)
        self.assertEqual(p.returncode, 0, p.stderr)

    def users(self, names, extra=None):
        """names: {user: account}, each to UID:GID and self.uhome"""
        lines = {u: f"{a}:{UID}:{GID}:{self.uhome}" for u, a in names.items()}
        lines.update(extra or {})
        self.table("users", lines)

    def start(self):
        self.ls = Lspawn(self.env)
        return self.ls

    def ran(self, localname):
        """what the stand-in recorded for localname, or None if it did not run"""
        d = self.home.path("out", localname)
        if not os.path.isdir(d):
            return None
        out = {}
        for n in os.listdir(d):
            data = open(os.path.join(d, n), "rb").read()
            out[n] = data if n == "body" else data.decode()
        out["args"] = out["args"].split("\n")[:int(out["argc"])]
        return out

    def uid(self, uid):
        """the uid a delivery runs as: the mapped one when root"""
        return uid if ROOT else os.getuid()

    def one(self, localname, addr=None):
        ls = self.start()
        ls.job("1", [(addr or localname + "@Example.TEST", localname)])
        jobid, fields = ls.result()
        self.assertEqual(jobid, "1")
        self.assertEqual(len(fields), 1, fields)
        return fields[0]

    # --- one job, one result

    def test_user_from_users_cdb(self):
        self.assertEqual(self.one("alice"), ("K", "stand-in ran for alice"))
        r = self.ran("alice")
        self.assertEqual(r["args"], ["alice", self.uhome, "alice", "",
                                     "example.test", "sender@example.org", "alice@Example.TEST"])
        self.assertEqual(int(r["uid"]), self.uid(UID))
        self.assertEqual(r["cwd"].strip(), self.uhome)
        self.assertEqual(r["body"], BODY)
        if ROOT:
            self.assertEqual(int(r["gid"]), GID)
            self.assertEqual(r["groups"].split(), [str(GID)])

    def test_environment_and_descriptors(self):
        self.one("alice")
        r = self.ran("alice")
        env = dict(line.split("=", 1) for line in r["env"].splitlines())
        for shell_own in ("PWD", "SHLVL", "_", "OLDPWD"):
            env.pop(shell_own, None)
        self.assertEqual(env, {"POSTERN_HOME": self.home.dir, "PATH": "/usr/bin:/bin"})
        fds = dict(line.split()[-3::2] for line in r["fds"].splitlines() if "->" in line)
        self.assertEqual(fds.pop("0"), body_path(self.home, MSGID))
        pipe = fds.pop("2")
        self.assertTrue(pipe.startswith("pipe:"), r["fds"])
        # fd 1 is redirected to the listing; dash keeps fd 1 (the same
        # pipe as fd 2) and its script at fds >= 10. Nothing of lspawn's.
        self.assertEqual(fds.pop("1"), self.home.path("out", "alice", "fds"))
        self.assertIn(pipe, fds.values(), r["fds"])
        for fd, target in fds.items():
            self.assertGreaterEqual(int(fd), 10, r["fds"])
            self.assertIn(target, (pipe, self.home.path("bin", "local")), r["fds"])

    def test_sigpipe_not_ignored(self):
        # lspawn ignores SIGPIPE; an ignored signal would survive the exec
        # (whatever lspawn's own parent ignored is inherited, as it should be)
        self.one("alice")
        mask = int(self.ran("alice")["sigign"].split()[1], 16)
        self.assertFalse(mask & (1 << (13 - 1)), "SIGPIPE (13) is ignored in local")

    def test_sigchld_not_blocked(self):
        # lspawn blocks SIGCHLD for its selfpipe; a shell would unblock it
        # itself, so this stand-in is python, which keeps the mask it gets
        with open(self.home.path("bin", "local"), "w") as f:
            f.write("#!/usr/bin/python3 -S\n"
                    "for line in open('/proc/self/status'):\n"
                    "    if line.startswith('SigBlk:'): print(' '.join(line.split()))\n")
        self.assertEqual(self.one("alice"), ("K", "SigBlk: " + "0" * 16))

    def test_stdout_and_stderr_are_one_pipe(self):
        self.assertEqual(self.one("alice-stderr"),
                         ("K", "to stderr/stand-in ran for alice-stderr"))

    def test_relative_postern_home_given_absolute(self):
        self.env["POSTERN_HOME"] = os.path.relpath(self.home.dir)
        self.assertEqual(self.one("alice")[0], "K")
        env = dict(line.split("=", 1) for line in self.ran("alice")["env"].splitlines())
        self.assertEqual(env["POSTERN_HOME"], self.home.dir)

    def test_exit_codes(self):
        cases = [("alice-exit0", "K", "stand-in ran for alice-exit0"),
                 ("alice-exit99", "K", "stand-in ran for alice-exit99"),
                 ("alice-exit100", "D", "stand-in ran for alice-exit100"),
                 ("alice-exit111", "Z", "stand-in ran for alice-exit111"),
                 ("alice-exit1", "Z", "stand-in ran for alice-exit1"),
                 ("alice-quiet", "K", "delivered"),
                 ("alice-quiet-exit100", "D", "5.0.0 local failed permanently, without a reason"),
                 ("alice-quiet-exit75", "Z", "4.3.0 local failed temporarily, exit code 75"),
                 ("alice-kill", "Z", "4.3.0 local killed by signal 9")]
        ls = self.start()
        for i, (local, _, _) in enumerate(cases):
            ls.job(str(i), [(local + "@example.test", local)])
        got = dict(ls.result() for _ in cases)
        for i, (local, letter, text) in enumerate(cases):
            with self.subTest(local=local):
                self.assertEqual(got[str(i)], [(letter, text)])

    def test_lines_joined_by_slash(self):
        self.assertEqual(self.one("alice-multi"),
                         ("K", "line one/line two//stand-in ran for alice-multi"))

    def test_output_cut_at_1000_bytes_rest_drained(self):
        # 200000 bytes: more than a pipe holds, so the child finishes only
        # if lspawn keeps reading past its 1000
        letter, text = self.one("alice-big")
        self.assertEqual((letter, text), ("K", "x" * 1000))

    def test_extension(self):
        self.assertEqual(self.one("Alice-Some-EXT")[0], "K")
        r = self.ran("Alice-Some-EXT")
        self.assertEqual(r["args"][0:4], ["alice", self.uhome, "Alice-Some-EXT", "some-ext"])

    def test_longest_prefix_first(self):
        self.assertEqual(self.one("bob-x-y")[0], "K")
        self.assertEqual(self.ran("bob-x-y")["args"][0:4], ["bobx", self.uhome, "bob-x-y", "y"])
        self.assertEqual(self.one("bob-y-x")[0], "K")
        self.assertEqual(self.ran("bob-y-x")["args"][0:4], ["bob", self.uhome, "bob-y-x", "y-x"])

    def test_plus_is_a_delimiter_by_default(self):
        self.assertEqual(self.one("alice+Tag")[0], "K")
        self.assertEqual(self.ran("alice+Tag")["args"][0:4], ["alice", self.uhome, "alice+Tag", "tag"])
        self.ls.kill()
        # the first delimiter from the right that leaves a user: bob-x+y is bob-x, ext y
        self.assertEqual(self.one("bob-x+y-z")[0], "K")
        self.assertEqual(self.ran("bob-x+y-z")["args"][0:4], ["bobx", self.uhome, "bob-x+y-z", "y-z"])

    def test_control_delimiters(self):
        self.home.control("delimiters", "+\n")
        self.assertEqual(self.one("alice+tag")[0], "K")
        self.ls.kill()
        self.assertEqual(self.one("alice-tag"), ("D", "5.1.1 no such user: alice-tag"))
        self.ls.kill()
        # empty: no extensions at all
        self.home.control("delimiters", "\n")
        self.assertEqual(self.one("alice+tag"), ("D", "5.1.1 no such user: alice+tag"))
        self.ls.kill()
        self.assertEqual(self.one("alice")[0], "K")
        self.ls.kill()
        self.home.control("delimiters", "- +\n")
        self.assertEqual(self.one("alice+tag"),
                         ("Z", "4.3.0 unable to look up alice+tag: Invalid argument"))

    def test_no_at_in_address_empty_domain(self):
        self.assertEqual(self.one("alice", addr="alice")[0], "K")
        self.assertEqual(self.ran("alice")["args"][4:], ["", "sender@example.org", "alice"])

    def test_null_sender(self):
        ls = self.start()
        ls.job("1", [("alice@example.test", "alice")], sender="")
        self.assertEqual(ls.result()[1][0][0], "K")
        self.assertEqual(self.ran("alice")["args"][5], "")

    def test_unknown_user(self):
        self.assertEqual(self.one("zzunknown-abc"), ("D", "5.1.1 no such user: zzunknown-abc"))
        self.assertIsNone(self.ran("zzunknown-abc"))

    def alias_account(self):
        """aliases run as conf-users' alias account when root, else as us"""
        return pwd.getpwnam(harness.users()["alias"]) if ROOT else pwd.getpwuid(os.getuid())

    def test_alias(self):
        self.table("aliases", {"postmaster": "alice@example.test, bob@example.org,,carol"})
        self.assertEqual(self.one("postmaster")[0], "K")
        r = self.ran("postmaster")
        a = self.alias_account()
        alias_home = os.path.join(os.path.realpath(self.home.dir), "alias")
        self.assertEqual(r["args"], ["-a", "alice@example.test,bob@example.org,carol",
                                     harness.users()["alias"], alias_home, "postmaster", "",
                                     "example.test", "sender@example.org", "postmaster@Example.TEST"])
        self.assertEqual(int(r["uid"]), a.pw_uid)
        self.assertEqual(r["cwd"].strip(), alias_home)

    def test_aliases_of_aliases_expanded_each_address_once(self):
        self.table("locals", {"example.test": ""})
        self.table("aliases", {"a1": "a2@example.test, x@remote.test",
                               "a2": "bob@Example.TEST, x@REMOTE.test, A1@example.test, a3",
                               "a3": "bob@example.test, y@remote.test"})
        self.assertEqual(self.one("a1")[0], "K")
        self.assertEqual(self.ran("a1")["args"][0:2], ["-a", "x@remote.test,bob@Example.TEST,y@remote.test"])

    def test_alias_ring_is_one_permanent_failure(self):
        self.table("locals", {"example.test": ""})
        names = [f"r{i}" for i in range(5)]
        self.table("aliases", {n: ", ".join(f"{m}@example.test" for m in names if m != n) for n in names})
        self.assertEqual(self.one("r0"), ("D", "5.4.6 alias loop: r0: its aliases lead only back to each other"))
        self.assertIsNone(self.ran("r0"))

    def test_alias_expansion_limits(self):
        self.table("locals", {"example.test": ""})
        chain = {f"d{i}": f"d{i + 1}@example.test" for i in range(10)}
        chain["d10"] = "bob@example.test"
        self.table("aliases", dict(chain, wide=", ".join(f"w{i}@r.test" for i in range(257)),
                                   full=", ".join(f"w{i}@r.test" for i in range(256))))
        self.assertEqual(self.one("d0"), ("D", "5.4.6 aliases nested more than 10 deep: d0"))
        self.ls.kill()
        self.assertEqual(self.one("d1")[0], "K")
        self.assertEqual(self.ran("d1")["args"][1], "bob@example.test")
        self.ls.kill()
        self.assertEqual(self.one("wide"), ("D", "5.4.6 alias expands to more than 256 addresses: wide"))
        self.ls.kill()
        self.assertEqual(self.one("full")[0], "K")

    def test_alias_before_users(self):
        self.table("aliases", {"alice": "bob@example.org"})
        self.assertEqual(self.one("alice")[0], "K")
        self.assertEqual(self.ran("alice")["args"][0:2], ["-a", "bob@example.org"])

    def test_alias_home_missing(self):
        self.table("aliases", {"postmaster": "alice@example.test"})
        os.rmdir(self.home.path("alias"))
        self.assertEqual(self.one("postmaster"), ("Z", "4.3.0 home directory missing"))

    def test_malformed_tables_are_temporary(self):
        self.table("aliases", {"empty": ", ,"})
        self.users({}, {"carol": "carol:notanumber:1:/tmp", "dave": "dave:1:2:relative"})
        for local in ("empty", "carol", "dave-ext"):
            with self.subTest(local=local):
                self.assertEqual(self.one(local),
                                 ("Z", f"4.3.0 unable to look up {local}: Invalid argument"))
                self.ls.kill()

    def test_root_refused(self):
        self.users({}, {"rootish": "rootish:0:0:/"})
        refusal = ("Z", "4.3.0 refusing to deliver as root: alias it")
        self.assertEqual(self.one("rootish"), refusal)
        self.ls.kill()
        self.assertEqual(self.one("root"), refusal)  # getpwnam("root")
        self.assertIsNone(self.ran("rootish"))
        self.assertIsNone(self.ran("root"))

    def test_home_missing(self):
        f = os.path.join(self.tmp, "file")
        open(f, "w").close()
        self.users({}, {"ghost": f"ghost:{UID}:{GID}:{self.tmp}/none",
                        "filehome": f"filehome:{UID}:{GID}:{f}"})
        for local in ("ghost", "filehome"):
            with self.subTest(local=local):
                self.assertEqual(self.one(local), ("Z", "4.3.0 home directory missing"))
                self.ls.kill()

    def test_missing_body_is_temporary(self):
        os.unlink(body_path(self.home, MSGID))
        letter, text = self.one("alice")
        self.assertEqual((letter, text),
                         ("Z", "4.3.0 unable to open the message: No such file or directory"))

    def test_missing_local_program(self):
        os.unlink(self.home.path("bin", "local"))
        letter, text = self.one("alice")
        self.assertEqual(letter, "Z")
        self.assertRegex(text, r"^4\.3\.0 lspawn: unable to exec .*/bin/local: No such file")

    @unittest.skipUnless(ROOT, "needs root to add an account")
    def test_getpwnam_fallback(self):
        a = self.account
        self.assertEqual(self.one(ACCOUNT)[0], "K")
        r = self.ran(ACCOUNT)
        self.assertEqual(r["args"][0:4], [ACCOUNT, a.pw_dir, ACCOUNT, ""])
        self.assertEqual(int(r["uid"]), a.pw_uid)
        self.assertEqual(int(r["gid"]), a.pw_gid)
        self.assertEqual(r["cwd"].strip(), a.pw_dir)
        self.ls.kill()
        self.assertEqual(self.one(ACCOUNT + "-Foo-bar")[0], "K")
        self.assertEqual(self.ran(ACCOUNT + "-Foo-bar")["args"][0:4],
                         [ACCOUNT, a.pw_dir, ACCOUNT + "-Foo-bar", "foo-bar"])

    def test_users_cdb_before_getpwnam(self):
        self.users({ACCOUNT: "mapped"})
        self.assertEqual(self.one(ACCOUNT)[0], "K")
        r = self.ran(ACCOUNT)
        self.assertEqual(r["args"][0:2], ["mapped", self.uhome])
        self.assertEqual(int(r["uid"]), self.uid(UID))

    def test_not_root_says_so(self):
        ls = self.start()
        rc, _, err = ls.close()
        self.assertEqual(rc, 0)
        if ROOT:
            self.assertEqual(err, "")
        else:
            self.assertIn("not running as root", err)
            self.assertEqual(len(err.splitlines()), 1)

    # --- several recipients, several jobs

    def test_recipients_reported_in_job_order(self):
        ls = self.start()
        ls.job("7", [("a@example.test", "alice-sleep"), ("z@example.test", "zzunknown"),
                     ("b@example.test", "alice-exit100"), ("c@example.test", "alice-exit111")])
        self.assertEqual(ls.result(), ("7", [("K", "stand-in ran for alice-sleep"),
                                             ("D", "5.1.1 no such user: zzunknown"),
                                             ("D", "stand-in ran for alice-exit100"),
                                             ("Z", "stand-in ran for alice-exit111")]))

    def test_concurrent_jobs_finish_out_of_order(self):
        ls = self.start()
        t0 = time.monotonic()
        ls.job("slow", [("a@example.test", "alice-sleep")])
        for i in range(5):
            ls.job(f"fast{i}", [("a@example.test", f"alice-{i}")])
        got = [ls.result() for _ in range(6)]
        self.assertEqual(got[-1], ("slow", [("K", "stand-in ran for alice-sleep")]))
        self.assertEqual(sorted(j for j, _ in got[:-1]), [f"fast{i}" for i in range(5)])
        for j, fields in got[:-1]:
            self.assertEqual(fields, [("K", f"stand-in ran for alice-{j[4:]}")])

    def test_jobs_run_at_once(self):
        ls = self.start()
        t0 = time.monotonic()
        for i in range(8):
            ls.job(str(i), [("a@example.test", f"alice-sleep{i}")])
        self.assertEqual(sorted(ls.result()[0] for _ in range(8)), [str(i) for i in range(8)])
        self.assertLess(time.monotonic() - t0, 4, "8 one-second jobs ran one after another")

    def test_eof_waits_for_running_jobs(self):
        ls = self.start()
        ls.job("1", [("a@example.test", "alice-sleep")])
        time.sleep(0.2)
        rc, out, err = ls.close()
        self.assertEqual(rc, 0, err)
        self.assertEqual(out, b"J1\0Kstand-in ran for alice-sleep\0\0")

    def test_malformed_jobs(self):
        ls = self.start()
        ls.send(b"J1\0Mnot-an-id\0Fs\0Ta\0Lalice\0\0")
        self.assertEqual(ls.result(), ("1", [("Z", "4.3.0 lspawn: malformed job")]))
        ls.send(b"J2\0M" + MSGID.encode() + b"\0Fs\0Ta\0Lalice\0Tb\0\0")
        self.assertEqual(ls.result(), ("2", [("Z", "4.3.0 lspawn: malformed job")] * 2))
        ls.send(b"J3\0M" + MSGID.encode() + b"\0Fs\0Lalice\0Ta\0\0")
        self.assertEqual(ls.result(), ("3", [("Z", "4.3.0 lspawn: malformed job")]))
        ls.send(b"J4\0M" + MSGID.encode() + b"\0Fs\0\0")
        self.assertEqual(ls.result(), ("4", []))
        self.assertIsNone(self.ran("alice"))
        ls.job("5", [("a@example.test", "alice")])
        self.assertEqual(ls.result(), ("5", [("K", "stand-in ran for alice")]))

    def test_too_many_recipients(self):
        ls = self.start()
        ls.job("big", [("a@example.test", "alice")] * 101)
        self.assertEqual(ls.result(), ("big", [
            ("Z", "4.3.0 lspawn: more than 100 recipients in one job")] * 101))
        self.assertIsNone(self.ran("alice"))
        ls.job("max", [(f"a{i}@example.test", f"alice-lite-{i}") for i in range(100)])
        jobid, fields = ls.result(timeout=60)
        self.assertEqual(jobid, "max")
        self.assertEqual(fields, [("K", f"stand-in ran for alice-lite-{i}") for i in range(100)])

    def test_unattributable_record_is_fatal(self):
        ls = self.start()
        ls.send(b"Xwhat\0\0")
        rc, _, err = ls.close()
        self.assertEqual(rc, 101)
        self.assertIn("lspawn: fatal: job record without a usable J field", err)

    def test_record_too_long_is_fatal(self):
        ls = self.start()
        ls.send(b"J1\0" + b"x" * 60000 + b"\0\0")
        rc, _, err = ls.close()
        self.assertEqual(rc, 101)
        self.assertIn("record too long", err)


if __name__ == "__main__":
    unittest.main()
