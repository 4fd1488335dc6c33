"""table-push(8): the tables of one home rebuilt and pushed 100 times to
three nodes, each an smtpd with its own home, each reached over TCP by
its own rsync daemon (the push goes over the network, as over ssh in
production), while a client per node keeps asking RCPT for addresses
valid in every version: none of them is ever refused ("user unknown"
or any other answer but 250), and each node takes each version's new
address within LAG_MAX seconds of the push's start. Pushed with rsync
--inplace instead, this counts false "user unknown" answers.
Then: over a remote shell (a TCP one standing in for ssh), with the
node's control/ fsynced after; a push killed halfway leaves every old
table (rsync without --delay-updates leaves some new ones); a malformed
table or a bad node pushes nothing; an unreachable node is named."""
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import unittest

import harness
from test_smtpd import Server, STRANGER, TRUSTED

PUSH = os.path.join(harness.BIN, "table-push")
RSH = os.path.join(harness.TOP, "tests", "loopback_rsh.py")
NODES = 3
VERSIONS = 100
# addresses valid in every version; filler domains in rcpthosts, read at
# each RCPT as recipients.cdb is: a table of some size (230 KB), so that
# one written in place would be seen half-written, as in seed 004 (not
# aliases: recipients-compile takes about 1 ms per alias)
KEEP = 20
FILLER = 5000
# what the smaller tests push (rcpthosts, aliases, users) and compare
TABLES = ("rcpthosts", "rcpthosts.cdb", "aliases", "aliases.cdb", "users", "users.cdb", "recipients.cdb")
# seconds from a push's start to every node taking its new address: a
# push is well under a second here; generous, the machine is loaded
LAG_MAX = 10
# RCPTs per SMTP transaction (smtpd takes at most 100 recipients), and
# the pause between two of a node's hammer: a few hundred RCPTs a second
# each, leaving the two cores to the pushes
PER_MAIL = 50
PAUSE = 0.003


def rcpt_codes(srv, addrs):
    """the replies of srv's smtpd to RCPT for each of addrs, from a stranger"""
    s = srv.smtp(STRANGER)
    try:
        s.ehlo()
        s.mail("someone@client.test")
        return [s.rcpt(a)[0] for a in addrs]
    finally:
        s.close()


class Node:
    """a Server (tcpserver, smtpd, its home) and an rsync daemon on a
    loopback port whose module "control" is that home's control/"""

    def __init__(self):
        self.srv = Server()
        control = self.srv.home.path("control")
        self.conf = self.srv.home.path("rsyncd.conf")
        with open(self.conf, "w") as f:
            # as root the daemon would write as nobody: keep owners and
            # modes as sent (table-push -ptgo); post-xfer exec fsyncs the
            # directory after the renames (rsync never does)
            f.write("use chroot = no\n"
                    "[control]\n"
                    f"path = {control}\n"
                    "read only = no\n"
                    "uid = root\n"
                    "gid = root\n"
                    f"post-xfer exec = /bin/sync {control}\n")
        self.log = open(self.srv.home.path("rsyncd.log"), "ab")
        self.proc = None
        for _ in range(5):
            self.port = harness.free_port()
            self.proc = subprocess.Popen(
                ["rsync", "--daemon", "--no-detach", "--address=" + TRUSTED, f"--port={self.port}",
                 f"--config={self.conf}"],
                stdin=subprocess.DEVNULL, stdout=self.log, stderr=self.log)
            if harness.wait_for(self._listening, 10, 0.05):
                break
            self.stop()
        else:
            raise RuntimeError("rsync --daemon did not start")
        self.url = f"rsync://{TRUSTED}:{self.port}/control"
        self.valid = []          # addresses this node must take
        self.ok = self.unknown = self.other = 0
        self.bad = []            # (version, address, reply) of every refusal

    def _listening(self):
        if self.proc.poll() is not None:
            return False
        try:
            with socket.create_connection((TRUSTED, self.port), timeout=1):
                return True
        except OSError:
            return False

    def stop(self):
        if self.proc:
            self.proc.terminate()
            self.proc.wait()
            self.proc = None

    def cleanup(self):
        self.stop()
        self.log.close()
        self.srv.cleanup()


class TablePushTest(unittest.TestCase):
    def setUp(self):
        self.admin = harness.Home(prefix="postern-admin-")
        self.addCleanup(self.admin.cleanup)
        self.nodes = []
        for _ in range(NODES):
            n = Node()
            self.addCleanup(n.cleanup)
            self.nodes.append(n)
        a = self.admin
        a.control("locals", "example.test\n")
        a.control("rcpthosts", "example.test\n" + "".join(f"filler{i}.example.test\n" for i in range(FILLER)))
        a.control("users", f"demo demo:4242:4242:{a.dir}\n")
        self.aliases = ["postmaster demo@example.test"]
        self.aliases += [f"keep{i} demo@example.test" for i in range(KEEP)]
        self.version = 0
        self.write_aliases()

    def write_aliases(self):
        path = self.admin.path("control", "aliases")
        with open(path + ".new", "w") as f:
            f.write("\n".join(self.aliases) + "\n")
        os.rename(path + ".new", path)

    def push(self):
        p = subprocess.run([PUSH] + [n.url for n in self.nodes], env=self.admin.env,
                           capture_output=True, text=True, timeout=120)
        self.assertEqual((p.returncode, p.stderr), (0, ""))

    def hammer(self, node, stop):
        """RCPT for every address node must take, until stop"""
        while not stop.is_set():
            try:
                s = node.srv.smtp(STRANGER)
            except OSError as e:
                node.other += 1
                node.bad.append((self.version, "(connect)", str(e)))
                time.sleep(0.1)
                continue
            try:
                s.ehlo()
                for _ in range(4):
                    s.mail("someone@client.test")
                    for _ in range(PER_MAIL):
                        addr = random.choice(node.valid)
                        code, msg = s.rcpt(addr)
                        if code == 250:
                            node.ok += 1
                        else:
                            if code == 550:
                                node.unknown += 1
                            else:
                                node.other += 1
                            node.bad.append((self.version, addr, f"{code} {msg.decode(errors='replace')}"))
                        time.sleep(PAUSE)
                    s.rset()
                    if stop.is_set():
                        break
                s.quit()
            except Exception as e:  # noqa: BLE001 (a dropped session is a failure too)
                node.other += 1
                node.bad.append((self.version, "(session)", repr(e)))
            finally:
                s.close()

    def probe(self, node, addr, t0, out):
        """RCPT addr until node takes it; out[node] = seconds since t0"""
        end = t0 + LAG_MAX + 5
        s = node.srv.smtp(STRANGER)
        try:
            s.ehlo()
            s.mail("someone@client.test")
            n = 0
            while time.monotonic() < end:
                code, _ = s.rcpt(addr)
                if code == 250:
                    out[node] = time.monotonic() - t0
                    return
                n += 1
                if n % PER_MAIL == 0:
                    s.rset()
                    s.mail("someone@client.test")
                time.sleep(0.002)
        finally:
            s.close()

    def test_hundred_pushes_no_false_rejection(self):
        self.push()   # version 0: every node holds the admin's tables
        base = ["postmaster@example.test"] + [f"keep{i}@example.test" for i in range(KEEP)]
        for n in self.nodes:
            n.valid = list(base)
            self.assertEqual(rcpt_codes(n.srv, ["keep0@example.test", "new1@example.test"]), [250, 550])
        stop = threading.Event()
        hammers = [threading.Thread(target=self.hammer, args=(n, stop), daemon=True) for n in self.nodes]
        for t in hammers:
            t.start()
        pushes, lags = [], {n: [] for n in self.nodes}
        try:
            for v in range(1, VERSIONS + 1):
                self.version = v
                addr = f"new{v}@example.test"
                self.aliases.append(f"new{v} demo@example.test")
                self.write_aliases()
                took = {}
                t0 = time.monotonic()
                probes = [threading.Thread(target=self.probe, args=(n, addr, t0, took), daemon=True)
                          for n in self.nodes]
                for t in probes:
                    t.start()
                self.push()
                pushes.append(time.monotonic() - t0)
                for t in probes:
                    t.join(LAG_MAX + 10)
                for i, n in enumerate(self.nodes):
                    self.assertIn(n, took, f"node {i} never took {addr} (version {v})")
                    lags[n].append(took[n])
                    n.valid.append(addr)
        finally:
            stop.set()
            for t in hammers:
                t.join(30)
        ms = [1000 * x for x in pushes]
        print(f"\n  {VERSIONS} pushes to {NODES} nodes: push (compile + {NODES} rsyncs) "
              f"median {statistics.median(ms):.0f} ms, max {max(ms):.0f} ms")
        for i, n in enumerate(self.nodes):
            lm = [1000 * x for x in lags[n]]
            print(f"  node {i}: lag push start -> new address taken: median {statistics.median(lm):.0f} ms, "
                  f"max {max(lm):.0f} ms; RCPT {n.ok} taken, {n.unknown} false 'user unknown', "
                  f"{n.other} other refusals or errors")
        for i, n in enumerate(self.nodes):
            self.assertGreater(n.ok, 1000, f"node {i}: too few RCPTs to mean anything")
            self.assertEqual((n.unknown, n.other, n.bad[:5]), (0, 0, []), f"node {i}")
            self.assertLess(max(lags[n]), LAG_MAX, f"node {i}")
        # what landed is the admin's, whole: the text and its table
        for n in self.nodes:
            for f in ("aliases", "aliases.cdb", "recipients.cdb", "rcpthosts.cdb"):
                with open(self.admin.path("control", f), "rb") as a, open(n.srv.home.path("control", f), "rb") as b:
                    self.assertEqual(a.read(), b.read(), f)
            self.assertFalse(os.path.exists(n.srv.home.path("control", ".~tmp~")))


class TablePushUsageTest(unittest.TestCase):
    def test_bad_node_is_usage_nothing_compiled(self):
        home = harness.Home(prefix="postern-admin-")
        self.addCleanup(home.cleanup)
        home.control("rcpthosts", "example.test\n")
        p = subprocess.run([PUSH, "no-colon-here"], env=home.env, capture_output=True, text=True)
        self.assertEqual(p.returncode, 100)
        self.assertIn("table-push: fatal: not a node", p.stderr)
        self.assertFalse(os.path.exists(home.path("control", "rcpthosts.cdb")))

    def test_malformed_table_pushes_nothing(self):
        home = harness.Home(prefix="postern-admin-")
        self.addCleanup(home.cleanup)
        node = Node()
        self.addCleanup(node.cleanup)
        home.control("rcpthosts", "example.test\nexample.test\n")   # a duplicate key
        p = subprocess.run([PUSH, node.url], env=home.env, capture_output=True, text=True)
        self.assertEqual(p.returncode, 100)
        self.assertIn("nothing pushed", p.stderr)
        with open(node.srv.home.path("control", "rcpthosts")) as f:
            self.assertNotEqual(f.read(), "example.test\nexample.test\n")

    def test_unreachable_node_is_temporary_others_pushed(self):
        home = harness.Home(prefix="postern-admin-")
        self.addCleanup(home.cleanup)
        node = Node()
        self.addCleanup(node.cleanup)
        home.control("rcpthosts", "pushed.test\n")
        dead = f"rsync://{TRUSTED}:{harness.free_port()}/control"
        p = subprocess.run([PUSH, dead, node.url], env=home.env, capture_output=True, text=True, timeout=120)
        self.assertEqual(p.returncode, 111)
        self.assertIn(f"unable to push to: {dead}", p.stderr)
        with open(node.srv.home.path("control", "rcpthosts")) as f:
            self.assertEqual(f.read(), "pushed.test\n")

    def rsh_node(self):
        """a Server and the node's end of a remote shell: tcpserver on a
        loopback port running each command line it is sent with sh, the
        connection as stdin and stdout, as sshd would; returns the
        Server, the node and the -e argument for table-push"""
        srv = Server()
        self.addCleanup(srv.cleanup)
        ran = srv.home.path("commands")
        server = ["sh", "-c", f'read -r cmd && echo "$cmd" >> {ran} && eval "exec $cmd"']
        port, proc = None, None
        for _ in range(5):
            port = harness.free_port()
            proc = subprocess.Popen(["tcpserver", "-R", "-H", "-l", "0", TRUSTED, str(port)] + server,
                                    stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL)
            if harness.wait_for(lambda: proc.poll() is None and connects(port), 10, 0.05):
                break
            proc.terminate()
            proc.wait()
        self.addCleanup(proc.wait)
        self.addCleanup(proc.terminate)
        return srv, f"{TRUSTED}:{srv.home.dir}", f"{sys.executable} {RSH} {port}"

    def admin_home(self):
        home = harness.Home(prefix="postern-admin-")
        self.addCleanup(home.cleanup)
        home.control("rcpthosts", "example.test\n")
        home.control("aliases", "postmaster demo@example.test\nnewname demo@example.test\n")
        home.control("users", f"demo demo:4242:4242:{home.dir}\n")
        return home

    def test_over_a_remote_shell(self):
        """host:home, as over ssh: rsync --server run by the remote
        shell (here a TCP one on a loopback port), then sync there"""
        home = self.admin_home()
        srv, node, rsh = self.rsh_node()
        p = subprocess.run([PUSH, "-e", rsh, node], env=home.env, capture_output=True, text=True, timeout=120)
        self.assertEqual((p.returncode, p.stderr), (0, ""))
        for f in TABLES:
            self.assertEqual(read(home, f), read(srv.home, f), f)
        with open(srv.home.path("commands")) as f:
            cmds = f.read().splitlines()
        self.assertEqual(len(cmds), 2, cmds)
        self.assertRegex(cmds[0], r"^rsync --server .*--delay-updates.*--fsync")
        self.assertEqual(cmds[1], f"sync {srv.home.dir}/control")
        self.assertEqual(rcpt_codes(srv, ["newname@example.test", "nosuch@example.test"]), [250, 550])

    def test_push_killed_halfway_leaves_every_old_table(self):
        """a push killed once some new files have arrived, before all
        have: the node still has every old table (with rsync's default,
        one rename per file as it arrives, it would have some new ones)"""
        home = self.admin_home()
        srv, node, rsh = self.rsh_node()
        p = subprocess.run([PUSH, "-e", rsh, node], env=home.env, capture_output=True, text=True, timeout=120)
        self.assertEqual((p.returncode, p.stderr), (0, ""))
        old = {f: read(srv.home, f) for f in TABLES}
        # version 2: a new alias, and an rcpthosts of some MB that comes
        # after aliases(.cdb) over a slow link
        home.control("aliases", "postmaster demo@example.test\nnewname demo@example.test\n"
                                "newer demo@example.test\n")
        home.control("rcpthosts", "example.test\n" + "".join(f"d{i}.example.test\n" for i in range(100000)))
        tmp = srv.home.path("control", ".~tmp~")
        push = subprocess.Popen([PUSH, "-e", rsh, node], env=dict(home.env, LOOPBACK_RSH_DELAY="0.05"),
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        try:
            # the new aliases.cdb is on the node: waiting in .~tmp~ (or,
            # pushed the naive way, already in place)
            arrived = harness.wait_for(lambda: os.path.exists(os.path.join(tmp, "aliases.cdb"))
                                       or read(srv.home, "aliases.cdb") != old["aliases.cdb"], 60, 0.02)
            self.assertIsNone(push.poll(), "the push ended before it could be killed")
        finally:
            os.killpg(push.pid, signal.SIGKILL)
            push.wait()
        self.assertTrue(arrived, "the new aliases.cdb never arrived")
        # the node's rsync --server sees its connection close, and exits
        harness.wait_for(lambda: not [f for f in os.listdir(srv.home.path("control")) if f.startswith(".rcpthosts")],
                         10, 0.05)
        for f in TABLES:
            self.assertEqual(read(srv.home, f), old[f], f)
        self.assertEqual(rcpt_codes(srv, ["newname@example.test", "newer@example.test", "x@d1.example.test"]),
                         [250, 550, 554])
        # pushed again, all of version 2
        p = subprocess.run([PUSH, "-e", rsh, node], env=home.env, capture_output=True, text=True, timeout=120)
        self.assertEqual((p.returncode, p.stderr), (0, ""))
        for f in TABLES:
            self.assertEqual(read(home, f), read(srv.home, f), f)
        self.assertEqual(rcpt_codes(srv, ["newer@example.test"]), [250])


def connects(port):
    try:
        with socket.create_connection((TRUSTED, port), timeout=1):
            return True
    except OSError:
        return False


def read(home, name):
    with open(home.path("control", name), "rb") as f:
        return f.read()

if __name__ == "__main__":
    unittest.main()
