#!/usr/bin/python3
"""cluster.py: N postern nodes behind HAProxy, each a whole instance in
network and mount namespaces of its own, fed by clients from K source
addresses; bench/cluster.sh runs its `bench` command, tests/test_cluster.py
imports it (one copy of the set-up for both). Python 3, stdlib only; as
root, with iproute2 (`ip netns`) and Debian's haproxy.

  cluster.py bench [-n NODES] [-k SOURCES] [-m MESSAGES] [-c SESSIONS]
                   [--no-kill] [--base DIR]
        for N = 1 .. NODES (default 4): MESSAGES (default 2000) through
        the balancer, SESSIONS (default 2) at once from each source, one
        connection per message; which node served each source, msg/s
        accepted and delivered, CPU per message; then, with NODES nodes
        (at least 2), one node killed with kill -9 mid-run and started
        again: every message that got a 250 must be delivered
  cluster.py client FRONT OUT TAG COUNT SESSIONS DEADLINE SOURCE...
        (run in the clients' namespace by the bench) sends COUNT
        messages from each SOURCE; results as JSON lines in OUT

The network, all of it in namespaces named pcl-PID-*:
  pcl-PID-lb    the balancer: bridge br0 (10.77.0.1/24) joining one veth
                per node; vc (10.78.0.1/24) to the clients; haproxy on
                10.78.0.1:25, `balance source`, `hash-type consistent`,
                `send-proxy-v2`, health checks
  pcl-PID-nI    node I: eth0 10.77.0.(10+I); its home DIR/nodeI bound at
                build/cluster/home in its mount namespace (the programs
                of build/cluster/bin have that home compiled in, so the
                setuid queue-inject writes to the node's own queue);
                control/proxyfrom names 10.77.0.1
  pcl-PID-cli   the clients: eth0 with 10.78.0.101 .. 10.78.0.(100+K)
Everything is removed at the end, on an error, on SIGINT and SIGTERM;
namespaces pcl-PID-* of a run whose PID is gone are removed at start.
"""
import json
import os
import re
import resource
import shutil
import signal
import smtplib
import subprocess
import sys
import threading
import time

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
INSTANCE = os.path.join(TOP, "src", "install", "instance.py")
BIN = os.path.join(TOP, "build", "cluster", "bin")
HOME = os.path.join(TOP, "build", "cluster", "home")   # every node's home, as it sees it
BASE = os.path.join(TOP, "build", "cluster")
PY = "/usr/bin/python3"
PREFIX = "pcl-"
NODE_NET, BALANCER = "10.77.0.", "10.77.0.1"
CLIENT_NET, FRONT = "10.78.0.", "10.78.0.1"
NODES_MAX, SOURCES_MAX = 4, 99
DOMAIN = "example.test"
RCPT = "demo@" + DOMAIN
TICK = os.sysconf("SC_CLK_TCK")
CHECK = "check check-send-proxy inter 500ms fall 2 rise 2"
LISTEN_LINE = re.compile(r"smtpd-listen: pid \d+ from (\S+) proxy (\S+)")


def say(*words):
    print("cluster:", *words, flush=True)


def run(argv, check=True, **kw):
    p = subprocess.run(argv, capture_output=True, text=True, **kw)
    if check and p.returncode:
        raise RuntimeError(f"{' '.join(argv)}: exit {p.returncode}: {p.stdout}{p.stderr}")
    return p


def usable():
    """None if a cluster can be built here, else why not"""
    if os.getuid() != 0:
        return "not root: network namespaces need root"
    if not shutil.which("haproxy"):
        return "no haproxy"
    name = f"{PREFIX}{os.getpid()}-probe"
    p = subprocess.run(["ip", "netns", "add", name], capture_output=True, text=True)
    if p.returncode:
        return f"ip netns does not work here: {p.stderr.strip()}"
    subprocess.run(["ip", "netns", "del", name], capture_output=True)
    if not all(os.access(os.path.join(BIN, p), os.X_OK) for p in ("smtpd-listen", "send", "queue-inject")):
        return f"no programs in {BIN}: make clusterbins"
    return None


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    return True


def ns_remove(name):
    """a namespace of ours removed, with whatever still runs in it
    (stopped, then killed: a supervisor restarts nothing meanwhile)"""
    for _ in range(5):
        p = subprocess.run(["ip", "netns", "pids", name], capture_output=True, text=True)
        pids = [int(x) for x in p.stdout.split() if x.isdigit() and int(x) != os.getpid()]
        if not pids:
            break
        for sig in (signal.SIGSTOP, signal.SIGKILL):
            for pid in pids:
                try:
                    os.kill(pid, sig)
                except ProcessLookupError:
                    pass
        time.sleep(0.2)
    subprocess.run(["ip", "netns", "del", name], capture_output=True)


def reap_stale():
    """namespaces pcl-PID-* left by a run that is gone (kill -9), and
    what still runs in them"""
    try:
        names = os.listdir("/run/netns")
    except FileNotFoundError:
        return
    for n in names:
        m = re.match(re.escape(PREFIX) + r"(\d+)-", n)
        if m and not alive(int(m.group(1))):
            ns_remove(n)


def procs():
    """{pid: (ppid, cpu ticks: utime+stime+cutime+cstime)} of every process"""
    out = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as f:
                rest = f.read().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        out[int(d)] = (int(rest[1]), sum(int(x) for x in rest[11:15]))
    return out


def tree(root, table):
    """root and its descendants in table (procs())"""
    kids = {}
    for p, (pp, _) in table.items():
        kids.setdefault(pp, []).append(p)
    found, todo = [], [root]
    while todo:
        p = todo.pop()
        if p in table:
            found.append(p)
            todo += kids.get(p, [])
    return found


def busy_ticks():
    """(busy, total) jiffies of the whole machine, /proc/stat"""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    idle = v[3] + v[4]
    return sum(v) - idle, sum(v)


def parallel(fn, items):
    """fn(item) for every item, each in a thread; the first error raised"""
    errors = []

    def one(x):
        try:
            fn(x)
        except BaseException as e:
            errors.append(e)
    threads = [threading.Thread(target=one, args=(x,)) for x in items]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    if errors:
        raise errors[0]


def message_id(tag, src, n):
    return f"<{tag}.{src}.{n}@client.test>"


class Cluster:
    """nodes 1..n, the balancer and the clients' namespace; up() builds,
    down() removes everything"""

    def __init__(self, n, sources, base=BASE, greetdelay=0):
        if not 1 <= n <= NODES_MAX or not 1 <= sources <= SOURCES_MAX:
            raise ValueError("1 to 4 nodes, 1 to 99 sources")
        self.n, self.base = n, os.path.abspath(base)
        self.sources = [f"{CLIENT_NET}{101 + i}" for i in range(sources)]
        self.ns = f"{PREFIX}{os.getpid()}"
        self.lb, self.cli = self.ns + "-lb", self.ns + "-cli"
        self.made = []
        self.haproxy = None
        self.hadir = os.path.join(self.base, "haproxy")
        self.active = []
        self.greetdelay = greetdelay

    # the namespaces
    def node_ns(self, i):
        return f"{self.ns}-n{i}"

    def node_dir(self, i):
        return os.path.join(self.base, f"node{i}")

    def node_addr(self, i):
        return f"{NODE_NET}{10 + i}"

    def ip(self, ns, *args):
        run(["ip", "-n", ns, *args])

    def netns(self, name):
        run(["ip", "netns", "add", name])
        self.made.append(name)
        self.ip(name, "link", "set", "lo", "up")

    def network(self):
        reap_stale()
        self.netns(self.lb)
        self.ip(self.lb, "link", "add", "br0", "type", "bridge")
        self.ip(self.lb, "addr", "add", BALANCER + "/24", "dev", "br0")
        self.ip(self.lb, "link", "set", "br0", "up")
        for i in range(1, self.n + 1):
            ns = self.node_ns(i)
            self.netns(ns)
            self.ip(self.lb, "link", "add", f"vn{i}", "type", "veth", "peer", "name", "eth0", "netns", ns)
            self.ip(self.lb, "link", "set", f"vn{i}", "master", "br0", "up")
            self.ip(ns, "addr", "add", self.node_addr(i) + "/24", "dev", "eth0")
            self.ip(ns, "link", "set", "eth0", "up")
        self.netns(self.cli)
        self.ip(self.lb, "link", "add", "vc", "type", "veth", "peer", "name", "eth0", "netns", self.cli)
        self.ip(self.lb, "addr", "add", FRONT + "/24", "dev", "vc")
        self.ip(self.lb, "link", "set", "vc", "up")
        for s in self.sources:
            self.ip(self.cli, "addr", "add", s + "/24", "dev", "eth0")
        self.ip(self.cli, "link", "set", "eth0", "up")

    # the nodes
    def node_exec(self, i, argv, **kw):
        """argv in node i's namespaces: its network, and a mount
        namespace (ip netns exec makes one) where its home is HOME"""
        return ["ip", "netns", "exec", self.node_ns(i), "sh", "-c",
                'mount --bind "$1" "$2" && shift 2 && exec "$@"', "sh",
                self.node_dir(i), HOME, *argv]

    def node_setup(self, i):
        d = self.node_dir(i)
        if os.path.exists(d):
            shutil.rmtree(d)
        os.makedirs(os.path.join(d, "control"))
        os.chmod(d, 0o755)
        ctl = {"me": f"node{i}.{DOMAIN}", "locals": DOMAIN, "rcpthosts": DOMAIN,
               "smtpdaddress": self.node_addr(i), "smtpdport": "25",
               "submissionport": "587", "smtpsport": "465",
               # the balancer, whose PROXY header names the client
               "proxyfrom": BALANCER,
               # nobody relays; demo@example.test is local
               "tcp.smtp": ":allow",
               # every source of the bench is in one /24
               "smtpdper24": "0",
               # no pause before the greeting's last line: with it (1 s
               # by default) a session holds its worker a second more
               # and the rate is concurrency-bound, not CPU-bound
               "smtpdgreetdelay": str(self.greetdelay)}
        for name, v in ctl.items():
            with open(os.path.join(d, "control", name), "w") as f:
                f.write(v + "\n")
        os.makedirs(HOME, exist_ok=True)
        run(self.node_exec(i, [PY, INSTANCE, "setup", HOME, BIN, "25", "587", "465"]))

    def node_start(self, i):
        run(self.node_exec(i, [PY, INSTANCE, "start", HOME]), timeout=120)

    def node_stop(self, i):
        run(self.node_exec(i, [PY, INSTANCE, "stop", HOME]), check=False, timeout=120)
        self.node_kill(i)   # whatever is left

    def svscan_pid(self, i):
        """s6-svscan of node i: the parent of the s6-supervise of a
        service that is up"""
        for svc in ("smtpd", "queue-writer", "send", "tlsd"):
            p = run(["s6-svstat", "-o", "pid", os.path.join(self.node_dir(i), "service", svc)], check=False)
            pid = p.stdout.strip()
            if p.returncode or not pid.isdigit():
                continue
            table = procs()
            sup = table.get(int(pid), (0,))[0]
            if sup in table:
                return table[sup][0]
        return None

    def node_tree(self, i, table=None):
        root = self.svscan_pid(i)
        return tree(root, table or procs()) if root else []

    def node_kill(self, i):
        """kill -9 of node i's whole process tree (stopped first, so no
        supervisor restarts what was just killed); returns how many"""
        killed = set()
        for _ in range(5):
            pids = [p for p in self.node_tree(i) if p not in killed]
            if not pids:
                break
            for sig in (signal.SIGSTOP, signal.SIGKILL):
                for p in pids:
                    try:
                        os.kill(p, sig)
                    except ProcessLookupError:
                        pass
            killed.update(pids)
            time.sleep(0.1)
        return len(killed)

    # the balancer
    def haproxy_start(self, nodes):
        os.makedirs(self.hadir, exist_ok=True)
        cfg = os.path.join(self.hadir, "haproxy.cfg")
        servers = "".join(f"    server n{i} {self.node_addr(i)}:25 send-proxy-v2 {CHECK}\n" for i in nodes)
        with open(cfg, "w") as f:
            f.write(f"""global
    maxconn 4000
defaults
    mode tcp
    timeout connect 2s
    timeout client 60s
    timeout server 60s
    retries 3
    option redispatch
frontend smtp
    bind {FRONT}:25
    default_backend nodes
backend nodes
    balance source
    hash-type consistent
{servers}""")
        self.halog = os.path.join(self.hadir, "log")
        log = open(self.halog, "wb")
        self.haproxy = subprocess.Popen(["ip", "netns", "exec", self.lb, "haproxy", "-f", cfg, "-db"],
                                        stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                        start_new_session=True)
        log.close()
        end = time.monotonic() + 15
        while time.monotonic() < end:
            if self.haproxy.poll() is not None:
                break
            ss = run(["ip", "netns", "exec", self.lb, "ss", "-Hltn", f"sport = :25"], check=False)
            if FRONT in ss.stdout:
                return
            time.sleep(0.1)
        raise RuntimeError("haproxy did not start: " + self.halog_text())

    def halog_text(self):
        try:
            with open(self.halog, errors="replace") as f:
                return f.read()
        except (OSError, AttributeError):
            return ""

    def haproxy_stop(self):
        if self.haproxy and self.haproxy.poll() is None:
            os.kill(self.haproxy.pid, signal.SIGTERM)
            try:
                self.haproxy.wait(10)
            except subprocess.TimeoutExpired:
                os.kill(self.haproxy.pid, signal.SIGKILL)
                self.haproxy.wait()
        self.haproxy = None

    # all of it
    def up(self, start=None):
        """the network and every node set up; nodes 1..start (default
        all) started, haproxy in front of them"""
        self.network()
        parallel(self.node_setup, range(1, self.n + 1))
        self.use(start or self.n)

    def use(self, k):
        """nodes 1..k running, the others stopped, haproxy in front of
        the running ones"""
        self.haproxy_stop()
        parallel(self.node_stop, [i for i in range(k + 1, self.n + 1) if i in self.active])
        parallel(self.node_start, [i for i in range(1, k + 1) if i not in self.active])
        self.active = list(range(1, k + 1))
        self.haproxy_start(self.active)

    def down(self):
        self.haproxy_stop()
        parallel(self.node_stop, [i for i in range(1, self.n + 1)
                                  if os.path.exists(os.path.join(self.node_dir(i), "service"))])
        self.active = []
        for name in reversed(self.made):
            ns_remove(name)
        self.made = []

    # what happened
    def maildir(self, i):
        return os.path.join(self.node_dir(i), "mail", "demo", "Maildir")

    def delivered(self, tag):
        """{Message-ID: [node, ...]} of the messages of run tag in every
        node's Maildir; and the newest mtime among them"""
        found, last = {}, 0.0
        pat = re.compile(rb"(?im)^Message-ID: (<" + re.escape(tag.encode()) + rb"\.[^>]*>)")
        for i in range(1, self.n + 1):
            for sub in ("new", "cur"):
                d = os.path.join(self.maildir(i), sub)
                try:
                    names = os.listdir(d)
                except FileNotFoundError:
                    continue
                for name in names:
                    p = os.path.join(d, name)
                    try:
                        with open(p, "rb") as f:
                            head = f.read(4096)
                        mt = os.stat(p).st_mtime
                    except OSError:
                        continue
                    m = pat.search(head)
                    if m:
                        found.setdefault(m.group(1).decode(), []).append(i)
                        last = max(last, mt)
        return found, last

    def received(self, tag, msgid):
        """the first Received line of a delivered message (by Message-ID)"""
        for i in range(1, self.n + 1):
            for sub in ("new", "cur"):
                d = os.path.join(self.maildir(i), sub)
                for name in os.listdir(d) if os.path.isdir(d) else []:
                    with open(os.path.join(d, name), "rb") as f:
                        head = f.read(4096).decode(errors="replace")
                    if msgid in head:
                        m = re.search(r"(?m)^Received: from [^\n]*", head)
                        return i, m.group(0) if m else ""
        return None, ""

    def log_files(self, i):
        """node i's smtpd log: the rotated files, oldest first, then current"""
        d = os.path.join(self.node_dir(i), "log", "smtpd")
        try:
            old = sorted(n for n in os.listdir(d) if n.startswith("@"))
        except FileNotFoundError:
            return []
        return [os.path.join(d, n) for n in old + ["current"]]

    def log_sizes(self):
        """where each node's smtpd log is now: (inode, size) of current
        (cyclog renames it when full: served() follows the inode)"""
        out = {}
        for i in range(1, self.n + 1):
            try:
                st = os.stat(os.path.join(self.node_dir(i), "log", "smtpd", "current"))
                out[i] = (st.st_ino, st.st_size)
            except FileNotFoundError:
                out[i] = (0, 0)
        return out

    def log_since(self, i, mark):
        ino, off = mark
        files = self.log_files(i)
        inos = []
        for p in files:
            try:
                inos.append(os.stat(p).st_ino)
            except FileNotFoundError:
                inos.append(-1)
        start = inos.index(ino) if ino in inos else 0
        text = []
        for k, p in enumerate(files[start:]):
            try:
                with open(p, "rb") as f:
                    if k == 0 and ino in inos:
                        f.seek(off)
                    text.append(f.read().decode(errors="replace"))
            except FileNotFoundError:
                pass
        return "".join(text)

    def served(self, since):
        """{source: [(node, balancer), ...]} in the order they came, from
        the lines each node's smtpd log got after since (log_sizes())"""
        out = {}
        for i in range(1, self.n + 1):
            for ln in self.log_since(i, since.get(i, (0, 0))).splitlines():
                m = LISTEN_LINE.search(ln)
                if m and m.group(1) in self.sources:
                    stamp = ln.split()[0]
                    out.setdefault(m.group(1), []).append((stamp, i, m.group(2)))
        return {s: [(i, b) for _, i, b in sorted(v)] for s, v in out.items()}

    def cpu(self):
        """CPU ticks of each node's process tree and of haproxy's"""
        table = procs()
        t = {f"node{i}": sum(table[p][1] for p in self.node_tree(i, table)) for i in self.active}
        t["haproxy"] = sum(table[p][1] for p in tree(self.haproxy.pid, table)) if self.haproxy else 0
        return t

    # the clients
    def send(self, count, sessions=1, tag=None, deadline=300, during=None, gate=None):
        """count messages from each source (sessions at once from each),
        one connection per message, retried until a 250 or the deadline;
        during(cluster) runs in a thread meanwhile. gate (k, path): each
        source's messages from the k-th on wait until path exists, so
        what during does falls between the two parts however fast the
        machine. Returns a dict: tag, results [{id, src, ok, tries, t}],
        t0, t1 (client wall clock), client CPU seconds."""
        tag = tag or f"cl{os.getpid()}x{int(time.time() * 1000)}"
        out = os.path.join(self.base, f"client-{tag}.jsonl")
        argv = ["ip", "netns", "exec", self.cli, PY, os.path.abspath(__file__), "client", FRONT, out,
                tag, str(count), str(sessions), str(deadline), *self.sources]
        t0 = time.time()
        env = dict(os.environ)
        if gate:
            env["CLUSTER_GATE"] = f"{gate[0]}:{gate[1]}"
        p = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             start_new_session=True, env=env)
        th = None
        if during:
            th = threading.Thread(target=during, args=(self,), daemon=True)
            th.start()
        stdout, stderr = p.communicate(timeout=deadline + 120)
        if th:
            th.join(deadline)
        if p.returncode:
            raise RuntimeError(f"client: exit {p.returncode}: {stderr}")
        results = []
        with open(out) as f:
            for ln in f:
                results.append(json.loads(ln))
        os.unlink(out)
        cpu = json.loads(stdout.strip().splitlines()[-1])["cpu"]
        # from the first connection, not from the client's start
        t0 = min([r["start"] for r in results] or [t0])
        t1 = max([r["t"] for r in results if r["ok"]] or [t0])
        return {"tag": tag, "results": results, "t0": t0, "t1": t1, "cpu": cpu}

    def wait_delivered(self, tag, ids, timeout):
        """waits until every id is in some Maildir; returns delivered()"""
        end = time.monotonic() + timeout
        while True:
            found, last = self.delivered(tag)
            if all(m in found for m in ids) or time.monotonic() > end:
                return found, last
            time.sleep(0.3)


# the client side (in the clients' namespace)
def client_source(front, out, tag, src, count, sessions, deadline):
    """one source: count messages over sessions connections at once"""
    lock = threading.Lock()
    todo = list(range(count))
    done = []
    gate = None
    if os.environ.get("CLUSTER_GATE"):
        k, path = os.environ["CLUSTER_GATE"].split(":", 1)
        gate = (int(k), path)

    def worker():
        while True:
            with lock:
                if not todo:
                    return
                n = todo.pop(0)
            if gate and n >= gate[0]:
                # the gate: opened by the lead process (kill_run), at the latest at the deadline
                while not os.path.exists(gate[1]) and time.time() < deadline:
                    time.sleep(0.05)
            mid = message_id(tag, src, n)
            body = (f"From: bench@client.test\r\nTo: {RCPT}\r\nSubject: cluster {n}\r\n"
                    f"Message-ID: {mid}\r\n\r\n" + "a cluster bench line of text\r\n" * 30)
            tries, ok, start = 0, False, time.time()
            while not ok and time.time() < deadline:
                tries += 1
                try:
                    with smtplib.SMTP(front, 25, local_hostname="client.test", source_address=(src, 0),
                                      timeout=30) as s:
                        s.sendmail("bench@client.test", [RCPT], body)
                        ok = True
                        t = time.time()
                        try:
                            s.quit()
                        except (smtplib.SMTPException, OSError):
                            pass
                except (smtplib.SMTPException, OSError):
                    time.sleep(0.3)
            with lock:
                done.append({"id": mid, "src": src, "ok": ok, "tries": tries, "t": t if ok else 0,
                             "start": start})

    threads = [threading.Thread(target=worker) for _ in range(sessions)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    with open(out + "." + src, "w") as f:
        for r in done:
            f.write(json.dumps(r) + "\n")


def client_main(argv):
    front, out, tag, count, sessions, secs = argv[:6]
    sources = argv[6:]
    deadline = time.time() + int(secs)
    kids = []
    for src in sources:
        pid = os.fork()
        if pid == 0:
            code = 0
            try:
                client_source(front, out, tag, src, int(count), int(sessions), deadline)
            except BaseException as e:
                print(f"client {src}: {e!r}", file=sys.stderr)
                code = 111
            os._exit(code)
        kids.append(pid)
    bad = 0
    for pid in kids:
        _, st = os.waitpid(pid, 0)
        bad += st != 0
    with open(out, "w") as f:
        for src in sources:
            try:
                with open(out + "." + src) as g:
                    f.write(g.read())
                os.unlink(out + "." + src)
            except FileNotFoundError:
                bad += 1
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    me = resource.getrusage(resource.RUSAGE_SELF)
    print(json.dumps({"cpu": ru.ru_utime + ru.ru_stime + me.ru_utime + me.ru_stime}))
    sys.exit(111 if bad else 0)


# the bench
def fmt_served(served):
    return {s: " ".join(f"node{i}" for i in dict.fromkeys(n for n, _ in v)) for s, v in served.items()}


def measure(c, k, messages, sessions):
    """one run with nodes 1..k: a dict of figures"""
    c.use(k)
    per = max(1, messages // len(c.sources))
    since = c.log_sizes()
    cpu0, busy0 = c.cpu(), busy_ticks()
    r = c.send(per, sessions)
    ids = [x["id"] for x in r["results"] if x["ok"]]
    found, last = c.wait_delivered(r["tag"], ids, 300)
    cpu1, busy1 = c.cpu(), busy_ticks()
    n = len(r["results"])
    wall = max(last, r["t1"]) - r["t0"]
    nodes_cpu = sum(cpu1[f"node{i}"] - cpu0.get(f"node{i}", 0) for i in c.active) / TICK
    ha_cpu = (cpu1["haproxy"] - cpu0["haproxy"]) / TICK
    busy = (busy1[0] - busy0[0]) / max(1, busy1[1] - busy0[1])
    served = c.served(since)
    return {"nodes": k, "messages": n, "accepted": len(ids),
            "missing": sum(1 for m in ids if m not in found),
            "duplicates": sum(len(v) - 1 for v in found.values()),
            "accept_rate": len(ids) / max(1e-9, r["t1"] - r["t0"]),
            "deliver_rate": len(found) / max(1e-9, wall),
            "node_ms": 1000 * nodes_cpu / max(1, n), "haproxy_ms": 1000 * ha_cpu / max(1, n),
            "client_ms": 1000 * r["cpu"] / max(1, n), "busy": busy,
            "load": os.getloadavg()[0], "served": served,
            # how much of the machine this run's processes had
            "share": (nodes_cpu + ha_cpu + r["cpu"]) / max(1e-9, wall * os.cpu_count()),
            "per_node": {i: sum(1 for v in found.values() if v[0] == i) for i in c.active}}


def kill_run(c, messages, sessions, hold=False):
    """every node up; the node serving most sources killed (kill -9 of
    its whole tree) once a third of the sessions have been logged, and
    started again after the clients are done; with hold, its send is
    down from the start, so all it accepted waits in its queue then"""
    c.use(c.n)
    per = max(1, messages // len(c.sources))
    since = c.log_sizes()
    # which node each source lands on: one message each first
    warm = c.send(1, 1)
    first = fmt_served(c.served(since))
    counts = {}
    for s, v in first.items():
        counts[v] = counts.get(v, 0) + 1
    victim = int(max(counts, key=counts.get)[4:])
    if hold:
        run(["s6-svc", "-d", os.path.join(c.node_dir(victim), "service", "send")])
    state = {}
    since = c.log_sizes()
    # a third of each source's messages, then the kill, then the rest:
    # the clients wait at the gate, so the kill falls mid-run even on a
    # machine fast enough to send everything before the logs show a third
    third = max(1, per // 3)
    tag = f"kill{os.getpid()}x{int(time.time())}"
    gate = os.path.join(c.base, f"gate-{tag}")

    def killer(cl):
        end = time.monotonic() + 60
        while time.monotonic() < end:
            if sum(len(v) for v in cl.served(since).values()) >= third * len(cl.sources):
                break
            time.sleep(0.05)
        state["killed_at"] = time.time()
        state["killed"] = cl.node_kill(victim)
        end = time.monotonic() + 30
        while time.monotonic() < end and f"n{victim} is DOWN" not in cl.halog_text():
            time.sleep(0.1)
        state["down_after"] = time.time() - state["killed_at"]
        with open(gate, "w"):
            pass

    try:
        r = c.send(per, sessions, tag=tag, during=killer, gate=(third, gate))
    finally:
        if os.path.exists(gate):
            os.unlink(gate)
    ok = [x["id"] for x in r["results"] if x["ok"]]
    retried = sum(1 for x in r["results"] if x["tries"] > 1)
    served = c.served(since)
    before_restart, _ = c.delivered(tag)
    c.node_start(victim)
    found, _ = c.wait_delivered(tag, ok, 300)
    return {"victim": victim, "killed": state.get("killed", 0), "down_after": state.get("down_after"),
            "messages": len(r["results"]), "accepted": len(ok), "retried": retried,
            "no_250": len(r["results"]) - len(ok),
            "waiting_at_restart": sum(1 for m in ok if m not in before_restart),
            "missing": sorted(m for m in ok if m not in found),
            "duplicates": sum(len(v) - 1 for v in found.values()),
            # a message sent again after no 250, or delivered again by
            # the killed node (its delivery done, not yet recorded)
            "dup_retried": sum(len(found.get(x["id"], [])) - 1 for x in r["results"]
                               if x["tries"] > 1 and len(found.get(x["id"], [])) > 1),
            "dup_redelivered": sum(len(found.get(x["id"], [])) - 1 for x in r["results"]
                                   if x["tries"] == 1 and set(found.get(x["id"], [])) == {victim}
                                   and len(found.get(x["id"], [])) > 1),
            "served": served, "first": first, "found": found, "results": r["results"],
            "halog": c.halog_text()}


def bench(argv):
    import argparse
    ap = argparse.ArgumentParser(prog="cluster.sh")
    ap.add_argument("-n", type=int, default=4, help="nodes: runs N = 1 .. n (1 to 4)")
    ap.add_argument("-k", type=int, default=16, help="source addresses")
    ap.add_argument("-m", type=int, default=2000, help="messages per run")
    ap.add_argument("-c", type=int, default=2, help="sessions at once per source")
    ap.add_argument("--no-kill", action="store_true", help="skip the node-killed run")
    ap.add_argument("--base", default=BASE, help="where the node homes go")
    a = ap.parse_args(argv)
    why = usable()
    if why:
        say("cannot run:", why)
        return 111
    c = Cluster(a.n, a.k, a.base)

    def stop(sig, frame):
        raise KeyboardInterrupt(f"signal {sig}")
    signal.signal(signal.SIGTERM, stop)
    try:
        say(f"{a.n} nodes, {a.k} sources, {a.m} messages per run, {a.c} sessions per source; "
            f"{os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}")
        c.up(start=1)
        rows = []
        for k in range(1, a.n + 1):
            f = measure(c, k, a.m, a.c)
            rows.append(f)
            say(f"N={k}: {f['accepted']}/{f['messages']} accepted, {f['accept_rate']:.0f} msg/s accepted, "
                f"{f['deliver_rate']:.0f} msg/s delivered, missing {f['missing']}, "
                f"CPU ms/msg nodes {f['node_ms']:.2f} haproxy {f['haproxy_ms']:.2f} clients {f['client_ms']:.2f}, "
                f"machine busy {100 * f['busy']:.0f} %, ours {100 * f['share']:.0f} %, load {f['load']:.1f}")
            say("  messages per node: " + ", ".join(f"node{i} {m}" for i, m in f["per_node"].items()))
            by_node = {}
            for s, v in sorted(fmt_served(f["served"]).items(), key=lambda x: int(x[0].split(".")[-1])):
                by_node.setdefault(v, []).append(s.split(".")[-1])
            for v, ss in sorted(by_node.items()):
                say(f"  {v}: sources .{' .'.join(ss)}" + ("" if " " not in v else "  (more than one node!)"))
        print()
        print("| nodes | messages | accepted msg/s | delivered msg/s | CPU ms/msg nodes | haproxy | clients | all "
              "| machine busy | ours | load |")
        print("|---|---|---|---|---|---|---|---|---|---|---|")
        for f in rows:
            tot = f["node_ms"] + f["haproxy_ms"] + f["client_ms"]
            print(f"| {f['nodes']} | {f['accepted']} | {f['accept_rate']:.0f} | {f['deliver_rate']:.0f} | "
                  f"{f['node_ms']:.2f} | {f['haproxy_ms']:.2f} | {f['client_ms']:.2f} | {tot:.2f} | "
                  f"{100 * f['busy']:.0f} % | {100 * f['share']:.0f} % | {f['load']:.1f} |")
        cores = os.cpu_count()
        node_ms = sum(f["node_ms"] for f in rows) / len(rows)
        all_ms = sum(f["node_ms"] + f["haproxy_ms"] + f["client_ms"] for f in rows) / len(rows)
        print(f"\nCPU ceiling: {cores} cores x 1000 ms / {all_ms:.2f} ms per message (all processes) = "
              f"{cores * 1000 / all_ms:.0f} msg/s for the whole machine; a node alone on {cores} cores: "
              f"{cores * 1000 / node_ms:.0f} msg/s ({node_ms:.2f} ms per message)\n", flush=True)
        if not a.no_kill and a.n >= 2:
            k = kill_run(c, a.m, a.c)
            say(f"kill -9 of node{k['victim']} ({k['killed']} processes) mid-run; haproxy saw it DOWN "
                f"after {k['down_after'] or 0:.1f} s")
            say(f"{k['accepted']}/{k['messages']} got a 250 ({k['retried']} after a retry, {k['no_250']} never); "
                f"{k['waiting_at_restart']} were waiting in node{k['victim']}'s queue at its restart")
            for s, v in sorted(fmt_served(k["served"]).items(), key=lambda x: int(x[0].split(".")[-1])):
                say(f"  source {s}: {v}")
            say(f"after the restart: {len(k['missing'])} missing, {k['duplicates']} duplicates "
                f"({k['dup_retried']} sent again after no 250, {k['dup_redelivered']} delivered again "
                f"by node{k['victim']} after its restart)")
            if k["missing"]:
                say("missing:", " ".join(k["missing"][:20]))
                return 1
        return 0 if all(f["missing"] == 0 for f in rows) else 1
    finally:
        c.down()
        say("namespaces, haproxy and nodes removed")


def main(argv):
    if len(argv) >= 2 and argv[1] == "client" and len(argv) >= 9:
        client_main(argv[2:])
    elif len(argv) >= 2 and argv[1] == "bench":
        try:
            sys.exit(bench(argv[2:]))
        except KeyboardInterrupt as e:
            say("stopped:", str(e) or "SIGINT")
            sys.exit(130)
    else:
        print(__doc__, file=sys.stderr)
        sys.exit(100)


if __name__ == "__main__":
    main(sys.argv)
