#!/usr/bin/python3
"""queue-disks.py: postern's queue over 1, 2 and 4 modelled disks
(issue 17 item 1). See bench/README.md, section queue-disks.py.

    make all diskmodel && /usr/bin/python3 bench/queue-disks.py
    bench/queue-disks.py [--disks 1,2,4] [--delay-us 2000] [-n 2000] [-c 16]
                         [--size 4096] [--backing DIR] [--keep]

As root. For each D of --disks: D loop devices (sparse images in
--backing), ext4 on each, mounted as the queue roots of a fresh instance
(control/queues) whose programs are build/diskmodel/bin: their fsync,
fdatasync and syncfs on a modelled device take --delay-us each, one at
a time per device (bench/diskmodel.c). smtp-source sends N messages, C
sessions at once, to demo@example.test; the Maildir and everything
else of the home stay on the unmodelled disk. Prints a table, then the
ceiling arithmetic. Everything it made is undone on exit, ^C included.
"""
import argparse
import os
import re
import resource
import shutil
import signal
import struct
import subprocess
import sys
import time

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BINDIR = os.path.join(TOP, "build", "diskmodel", "bin")
INSTANCE = [sys.executable, os.path.join(TOP, "src", "install", "instance.py")]
WORK = os.path.join(TOP, "build", "qdisks")   # homes (unmodelled disk)
MODEL = "/run/postern-diskmodel"              # DISKMODEL_DIR of bench/diskmodel.c
CGROUP_TOP = "/sys/fs/cgroup/unified"
COUNTERS = 4                                  # fsync fdatasync syncfs busy_us
TREES = ("body", "intake", "todo", "state")
WARMUP = 40


def say(*w):
    print("queue-disks:", *w, file=sys.stderr, flush=True)


def die(*w):
    say("fatal:", *w)
    sys.exit(111)


def run(*cmd, **kw):
    return subprocess.run(list(cmd), check=True, **kw)


def out(*cmd):
    return subprocess.run(list(cmd), check=True, capture_output=True, text=True).stdout.strip()


def multi_roots():
    """whether the programs know control/queues (the lead's code)"""
    with open(os.path.join(BINDIR, "queue-writer"), "rb") as f:
        return b"control/queues" in f.read()


class Bench:
    def __init__(self, a):
        self.a = a
        self.loops = []      # (device, image, mountpoint)
        self.home = None
        self.cg = None
        self.started = False

    # ------------------------------------------------------------ set-up
    def disks(self, d, home, roots):
        os.makedirs(self.a.backing, exist_ok=True)
        os.makedirs(MODEL, exist_ok=True)
        os.chmod(MODEL, 0o755)
        lines = []
        for k in range(d):
            img = os.path.join(self.a.backing, f"disk{k}.img")
            if os.path.exists(img):
                os.unlink(img)
            with open(img, "wb") as f:
                f.truncate(self.a.image_mb << 20)
            dev = out("losetup", "--find", "--show", img)
            self.loops.append([dev, img, None])
            run("mkfs.ext4", "-q", "-F", dev)
            mnt = os.path.join(home, roots[k])
            os.makedirs(mnt, exist_ok=True)
            run("mount", dev, mnt)
            self.loops[-1][2] = mnt
            st = os.stat(dev)
            mm = f"{os.major(st.st_rdev)}:{os.minor(st.st_rdev)}"
            lines.append(f"{mm} {self.a.delay_us}\n")
            lock = os.path.join(MODEL, f"lock.{mm}")
            with open(lock, "wb") as f:
                f.write(b"\0" * 8 * COUNTERS)
            os.chmod(lock, 0o666)
        with open(os.path.join(MODEL, "devices.new"), "w") as f:
            f.writelines(lines)
        os.rename(os.path.join(MODEL, "devices.new"), os.path.join(MODEL, "devices"))

    def instance(self, d):
        home = os.path.join(WORK, f"home{d}")
        self.home = home
        if os.path.exists(home):
            if any(os.path.ismount(os.path.join(home, e)) for e in os.listdir(home)):
                die(f"{home} has a mount point in it: an earlier run's? umount it first")
            shutil.rmtree(home)
        os.makedirs(os.path.join(home, "control"))
        if self.a.multi:
            roots = [f"disk{k}" for k in range(d)]
            with open(os.path.join(home, "control", "queues"), "w") as f:
                f.write("".join(r + "\n" for r in roots))
        else:
            roots = ["queue"]   # one root, before control/queues exists: queue/ itself
        self.disks(d, home, roots)
        port = free_port()
        run(*INSTANCE, "setup", home, BINDIR, str(port), stdout=subprocess.DEVNULL)
        self.cg = os.path.join(CGROUP_TOP, f"postern-qbench-{d}")
        os.makedirs(self.cg, exist_ok=True)
        cg = self.cg

        def into_cgroup():
            with open(os.path.join(cg, "cgroup.procs"), "w") as f:
                f.write(str(os.getpid()))
        self.started = True
        subprocess.run(INSTANCE + ["start", home], check=True, preexec_fn=into_cgroup,
                       stdout=subprocess.DEVNULL)
        return port, roots

    def teardown(self):
        if self.home and self.started:
            subprocess.run(INSTANCE + ["stop", self.home], stdout=subprocess.DEVNULL)
            self.started = False
        for dev, img, mnt in reversed(self.loops):
            if mnt and subprocess.run(["umount", mnt]).returncode:
                say(f"{mnt} busy: unmounted lazily")
                subprocess.run(["umount", "-l", mnt])
            subprocess.run(["losetup", "-d", dev])
            try:
                os.unlink(img)
            except FileNotFoundError:
                pass
        self.loops = []
        if self.cg:
            try:
                os.rmdir(self.cg)
            except OSError as e:
                say(f"cgroup {self.cg} left: {e}")
            self.cg = None
        shutil.rmtree(MODEL, ignore_errors=True)
        if self.home and not self.a.keep:
            shutil.rmtree(self.home, ignore_errors=True)
        self.home = None

    # ------------------------------------------------------------ counters
    def model(self):
        """per device: [fsync, fdatasync, syncfs, busy_us]"""
        r = []
        for dev, _, _ in self.loops:
            st = os.stat(dev)
            with open(os.path.join(MODEL, f"lock.{os.major(st.st_rdev)}:{os.minor(st.st_rdev)}"), "rb") as f:
                r.append(list(struct.unpack(f"={COUNTERS}Q", f.read(8 * COUNTERS))))
        return r

    def kernel(self):
        """per device: (writes completed, flushes completed)"""
        r = []
        for dev, _, _ in self.loops:
            with open(f"/sys/block/{os.path.basename(dev)}/stat") as f:
                v = f.read().split()
            r.append((int(v[4]), int(v[15]) if len(v) > 15 else 0))
        return r

    def cpu_usec(self):
        with open(os.path.join(self.cg, "cpu.stat")) as f:
            return int(dict(ln.split() for ln in f)["usage_usec"])

    def queued(self, roots):
        """messages still in the queue roots (body files)"""
        n = 0
        for r in roots:
            for dirpath, _, files in os.walk(os.path.join(self.home, r, "body")):
                n += len(files)
        return n

    def maildir(self):
        md = os.path.join(self.home, "mail", "demo", "Maildir")
        n = 0
        for sub in ("new", "cur"):
            try:
                n += sum(1 for e in os.scandir(os.path.join(md, sub)) if e.is_file())
            except FileNotFoundError:
                pass
        return n

    def per_root(self, d):
        """messages per root, from send's "new msg ID" lines (root k > 0:
        ids end in .k)"""
        counts = [0] * d
        logdir = os.path.join(self.home, "log", "send")
        # current and the files cyclog rotated (cyclog keeps 10 of 1 MB)
        for name in os.listdir(logdir):
            if name != "current" and not name.startswith("@"):
                continue
            with open(os.path.join(logdir, name), errors="replace") as f:
                for ln in f:
                    m = re.search(r"new msg ([0-9a-f]{16}\.\d+)(\.\d+)?[: ]", ln)
                    if m:
                        k = int(m.group(2)[1:]) if m.group(2) else 0
                        if k < d:
                            counts[k] += 1
        return counts

    # ------------------------------------------------------------ one D
    def smtp_source(self, port, n):
        return subprocess.run(["smtp-source", "-s", str(self.a.c), "-m", str(n), "-l", str(self.a.size),
                               "-f", "bench@example.test", "-t", "demo@example.test", f"127.0.0.1:{port}"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)

    def wait(self, cond, timeout):
        end = time.monotonic() + timeout
        while not cond():
            if time.monotonic() > end:
                return False
            time.sleep(0.02)
        return True

    def one(self, d):
        a = self.a
        port, roots = self.instance(d)
        # warm-up: every process started, caches warm
        self.smtp_source(port, WARMUP)
        if not self.wait(lambda: self.maildir() >= WARMUP and self.queued(roots) == 0, 120):
            die(f"warm-up: {self.maildir()}/{WARMUP} delivered; see {self.home}/log")
        time.sleep(1)
        base_md = self.maildir()
        base_roots = self.per_root(d)
        m0, k0, c0 = self.model(), self.kernel(), self.cpu_usec()
        ch0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        st0 = proc_stat()
        load0 = os.getloadavg()[0]
        t0 = time.monotonic()
        r = self.smtp_source(port, a.n)
        t_acc = time.monotonic() - t0
        if r.returncode:
            say(f"smtp-source exit {r.returncode}: {r.stderr.strip()[-200:]}")
        ok = self.wait(lambda: self.maildir() - base_md >= a.n, 60 + a.n / 5)
        t_e2e = time.monotonic() - t0
        m1, st1 = self.model(), proc_stat()
        ch1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        delivered = self.maildir() - base_md
        # the rest of each message's life (state, cleaning), then the counts
        self.wait(lambda: self.queued(roots) == 0, 60)
        time.sleep(2)
        m2, k2, c2 = self.model(), self.kernel(), self.cpu_usec()
        load1 = os.getloadavg()[0]
        got = [x - y for x, y in zip(self.per_root(d), base_roots)]
        if sum(got) != a.n:
            say(f"send's log names {sum(got)} new messages, not {a.n}: per-device figures are off")
        row = {
            "d": d, "n": a.n, "delivered": delivered, "ok": ok and delivered == a.n,
            "acc": a.n / t_acc, "e2e": delivered / t_e2e, "t_e2e": t_e2e,
            "cpu_ms": (c2 - c0) / 1000 / a.n,
            "client_ms": (ch1.ru_utime + ch1.ru_stime - ch0.ru_utime - ch0.ru_stime) * 1000 / a.n,
            "busy": 1 - (st1[1] - st0[1]) / max(1, st1[0] - st0[0]),   # machine, all cores
            # every CPU's busy time over the timed part, per message: the
            # instance, the client, kernel threads (jbd2, loop) and other users
            "machine_ms": ((st1[0] - st1[1]) - (st0[0] - st0[1])) * 1000 / os.sysconf("SC_CLK_TCK") / a.n,
            "load": (load0, load1), "per_root": got,
            "flushes": [sum(x[:3]) - sum(y[:3]) for x, y in zip(m2, m0)],
            "kinds": [[x[i] - y[i] for i in range(3)] for x, y in zip(m2, m0)],
            # disk busy during the timed part only: utilisation
            "util": [(x[3] - y[3]) / 1e6 / t_e2e for x, y in zip(m1, m0)],
            # mean time a flush held its disk: delay_us, or more on a busy machine
            "flush_us": [(x[3] - y[3]) / max(1, sum(x[:3]) - sum(y[:3])) for x, y in zip(m2, m0)],
            "kwrites": [x[0] - y[0] for x, y in zip(k2, k0)],
            "kflushes": [x[1] - y[1] for x, y in zip(k2, k0)],
        }
        self.teardown()
        return row


def proc_stat():
    """(total jiffies, idle+iowait jiffies) of the whole machine"""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    return sum(v[:8]), v[3] + v[4]


def free_port():
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def report(a, rows):
    ncpu = os.cpu_count()
    print(f"\nqueue-disks: N={a.n}, {a.c} sessions, {a.size}-byte messages, delay {a.delay_us} us "
          f"per flush per device; {ncpu} CPUs; kernel {os.uname().release}; {time.strftime('%Y-%m-%d %H:%M')} UTC")
    print()
    print("| disks | accepted msg/s | delivered msg/s | CPU ms/msg (instance + client) | machine busy "
          "| flushes/msg/device (model) | disk utilisation | kernel writes/msg/device | kernel flushes/msg/device "
          "| msgs per root | load (before, after) |")
    print("|---|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        per = [max(1, m) for m in r["per_root"]]
        f = [x / m for x, m in zip(r["flushes"], per)]
        kw = [x / m for x, m in zip(r["kwrites"], per)]
        kf = [x / m for x, m in zip(r["kflushes"], per)]
        print(f"| {r['d']} | {r['acc']:.0f} | {r['e2e']:.0f}{'' if r['ok'] else ' (INCOMPLETE ' + str(r['delivered']) + ')'} "
              f"| {r['cpu_ms']:.2f} + {r['client_ms']:.2f} | {r['busy'] * 100:.0f}% "
              f"| {' '.join(f'{x:.2f}' for x in f)} | {' '.join(f'{u * 100:.0f}%' for u in r['util'])} "
              f"| {' '.join(f'{x:.1f}' for x in kw)} | {' '.join(f'{x:.2f}' for x in kf)} "
              f"| {' '.join(map(str, r['per_root']))} | {r['load'][0]:.2f}, {r['load'][1]:.2f} |")
    print()
    kinds = ", ".join(f"D={r['d']}: " + " ".join("/".join(str(k) for k in ks) for ks in r["kinds"]) for r in rows)
    print(f"Modelled calls per device, fsync/fdatasync/syncfs: {kinds}")
    print()
    print("Ceilings (msg/s): disk = disks x (1e6 / delay_us flushes/s) / flushes per message on a device;"
          f" CPU = {ncpu} CPUs / (instance + client CPU per message); machine = {ncpu} CPUs / (all busy"
          " CPU time per message: kernel threads and other users too).")
    print()
    print("The effective disk ceiling uses the mean time a flush actually held its disk (the delay,"
          " plus the real call and late wake-ups when it ran over).")
    print()
    print("| disks | flushes/msg (mean per device) | flush ms (mean) | disk ceiling (nominal) | disk ceiling (effective) "
          "| CPU ceiling | machine ms/msg | machine ceiling | measured delivered | measured accepted |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        tot = sum(r["flushes"]) / max(1, sum(r["per_root"]))
        fus = sum(u * f for u, f in zip(r["flush_us"], r["flushes"])) / max(1, sum(r["flushes"]))
        disk = r["d"] * 1e6 / a.delay_us / tot if a.delay_us and tot else float("inf")
        eff = r["d"] * 1e6 / fus / tot if fus and tot else float("inf")
        cpu = ncpu * 1000 / (r["cpu_ms"] + r["client_ms"])
        mach = ncpu * 1000 / r["machine_ms"] if r["machine_ms"] else float("inf")
        print(f"| {r['d']} | {tot:.2f} | {fus / 1000:.2f} | {disk:.0f} | {eff:.0f} | {cpu:.0f} "
              f"| {r['machine_ms']:.2f} | {mach:.0f} "
              f"| {r['e2e']:.0f} | {r['acc']:.0f} |")


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--disks", default="1,2,4")
    p.add_argument("--delay-us", type=int, default=2000)
    p.add_argument("-n", type=int, default=2000)
    p.add_argument("-c", type=int, default=16)
    p.add_argument("--size", type=int, default=4096)
    p.add_argument("--backing", default="/dev/shm/postern-qbench",
                   help="where the loop devices' images live (default on tmpfs: see bench/README.md)")
    p.add_argument("--image-mb", type=int, default=1024)
    p.add_argument("--keep", action="store_true", help="keep the homes (logs) under build/qdisks")
    a = p.parse_args()
    if os.getuid() != 0:
        die("run as root (losetup, mount, the instance's accounts)")
    if not os.path.isdir(BINDIR):
        die(f"no {BINDIR}: make diskmodel first")
    if not shutil.which("smtp-source"):
        die("no smtp-source (Debian's postfix package)")
    if os.path.exists(os.path.join(MODEL, "devices")):
        die(f"{MODEL}/devices exists: another queue-disks run? (remove it if not)")
    a.multi = multi_roots()
    disks = [int(x) for x in a.disks.split(",")]
    if not a.multi and disks != [1]:
        say("these programs know no control/queues: one disk only (queue/ on it)")
        disks = [1]
    b = Bench(a)
    rows = []

    def stop(sig, _):
        raise KeyboardInterrupt
    signal.signal(signal.SIGTERM, stop)
    try:
        for d in disks:
            say(f"{d} disk(s): set-up, warm-up, {a.n} messages")
            r = b.one(d)
            say(f"{d} disk(s): accepted {r['acc']:.0f}/s, delivered {r['e2e']:.0f}/s, "
                f"CPU {r['cpu_ms']:.2f} ms/msg, flushes {r['flushes']}")
            rows.append(r)
    except KeyboardInterrupt:
        say("interrupted")
        return 130
    finally:
        b.teardown()
    report(a, rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
